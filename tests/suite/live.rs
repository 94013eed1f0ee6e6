//! Reading live IAM (`iamctl::live`) against moto: what is read, and how many calls it costs.

use crate::support;

use chrono::{DateTime, Duration, Utc};
use iamctl::aws::{AccountClients, ApiCalls, ClientFactory};
use iamctl::desired::model::{KeyAction, OnUnusedConsole, WithoutMfa};
use iamctl::desired::{Rules, UserRule};
use iamctl::live::{self, NamedAccount, ReadScope, Snapshot, SnapshotError};
use iamctl::plan::{Action, Address, Rule, plan_account};
use iamctl::state::{AccountState, KeyId, KeyStatus, PasswordPolicy};
use support::{Account, Backdate, SeedUser, fresh_account, seed_user};

/// Per-user reads at once, as `plan` would use by default.
const CONCURRENCY: usize = 8;

/// Clients for `account` that count their calls, as the CLI's factory builds them.
fn clients(account: &Account) -> (AccountClients, ApiCalls) {
    let calls = ApiCalls::default();
    let factory = ClientFactory::with_config(account.sdk_config(), calls.clone());
    (
        factory.clients_from_config("test", account.sdk_config()),
        calls,
    )
}

async fn read(
    account: &Account,
    scope: ReadScope<'_>,
    as_of: DateTime<Utc>,
) -> (AccountState, ApiCalls) {
    let (clients, calls) = clients(account);
    let state = live::read_account(&clients, scope, as_of, CONCURRENCY)
        .await
        .expect("read_account");
    (state, calls)
}

fn count(calls: &ApiCalls, operation: &str) -> u64 {
    calls.by_operation().get(operation).copied().unwrap_or(0)
}

/// Asserts the per-user calls a read made: exactly `expected`, and none of the other
/// per-user operations.
fn assert_per_user_calls(calls: &ApiCalls, expected: &[(&str, u64)]) {
    for op in PER_USER {
        let want = expected
            .iter()
            .find(|(o, _)| *o == op)
            .map_or(0, |(_, n)| *n);
        assert_eq!(count(calls, op), want, "{op} in {:?}", calls.by_operation());
    }
}

/// The per-user operations, to assert that none happened.
const PER_USER: [&str; 5] = [
    "IAM.ListAccessKeys",
    "IAM.GetAccessKeyLastUsed",
    "IAM.GetLoginProfile",
    "IAM.ListMFADevices",
    "IAM.GetUser",
];

#[tokio::test]
async fn without_user_rules_a_plan_reads_identity_and_policy_only() {
    let account = fresh_account().await;
    seed_user(
        &account.iam().await,
        "someone",
        SeedUser {
            console: true,
            active_keys: 1,
            ..Default::default()
        },
    )
    .await;

    let rules = Rules {
        password_policy: Some(iamctl::desired::PolicyRule::Present(
            PasswordPolicy::iam_default(),
        )),
        ..Default::default()
    };
    let (state, calls) = read(&account, ReadScope::Rules(&rules), Utc::now()).await;

    assert_eq!(state.account_id, account.id);
    assert_eq!(state.password_policy, None);
    assert!(
        state.users.is_empty(),
        "no rule concerns users: none are read"
    );
    assert_eq!(state.credential_report_generated_at, None);
    assert_eq!(state.trails, None);
    assert_eq!(
        calls.by_operation().into_iter().collect::<Vec<_>>(),
        [
            ("IAM.GetAccountPasswordPolicy".to_owned(), 1),
            ("STS.GetCallerIdentity".to_owned(), 1)
        ]
    );
}

#[tokio::test]
async fn every_password_policy_field_is_read() {
    let account = fresh_account().await;
    account
        .iam()
        .await
        .update_account_password_policy()
        .minimum_password_length(14)
        .require_uppercase_characters(true)
        .require_lowercase_characters(true)
        .require_numbers(true)
        .require_symbols(false)
        .allow_users_to_change_password(true)
        .max_password_age(90)
        .password_reuse_prevention(24)
        .hard_expiry(true)
        .send()
        .await
        .expect("UpdateAccountPasswordPolicy");

    let (state, _) = read(&account, ReadScope::Rules(&Rules::default()), Utc::now()).await;
    assert_eq!(
        state.password_policy,
        Some(PasswordPolicy {
            minimum_length: 14,
            require_uppercase: true,
            require_lowercase: true,
            require_numbers: true,
            require_symbols: false,
            allow_users_to_change: true,
            max_age_days: Some(90),
            reuse_prevention: Some(24),
            hard_expiry: true,
        })
    );
}

#[tokio::test]
async fn users_come_with_tags_and_attached_policies() {
    let account = fresh_account().await;
    let iam = account.iam().await;
    seed_user(
        &iam,
        "tagged",
        SeedUser {
            tags: &[("team", "payments"), ("iam-exempt", "true")],
            ..Default::default()
        },
    )
    .await;
    seed_user(&iam, "plain", SeedUser::default()).await;
    let policy = iam
        .create_policy()
        .policy_name("team-boundary")
        .policy_document(r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:ListAllMyBuckets","Resource":"*"}]}"#)
        .send()
        .await
        .expect("CreatePolicy")
        .policy
        .and_then(|p| p.arn)
        .expect("policy ARN");
    iam.attach_user_policy()
        .user_name("tagged")
        .policy_arn(policy)
        .send()
        .await
        .expect("AttachUserPolicy");

    let (state, _) = read(&account, ReadScope::Everything, Utc::now()).await;
    let names: Vec<_> = state.users.iter().map(|u| u.name.as_str()).collect();
    assert_eq!(names, ["plain", "tagged"], "sorted by name");
    let tagged = state.user("tagged").unwrap();
    assert_eq!(
        tagged.tags.get("team").map(String::as_str),
        Some("payments")
    );
    assert_eq!(
        tagged.tags.get("iam-exempt").map(String::as_str),
        Some("true")
    );
    assert_eq!(tagged.attached_policies, ["team-boundary"]);
    assert_eq!(
        tagged.arn,
        format!("arn:aws:iam::{}:user/tagged", account.id)
    );
    assert!(
        (Utc::now() - tagged.created).num_minutes().abs() < 10,
        "created {}",
        tagged.created
    );
    assert!(state.user("plain").unwrap().tags.is_empty());
}

#[tokio::test]
async fn credential_report_facts_stand_for_users_no_rule_concerns() {
    let account = fresh_account().await;
    let iam = account.iam().await;
    seed_user(
        &iam,
        "steady",
        SeedUser {
            console: true,
            mfa: true,
            active_keys: 1,
            inactive_keys: 1,
            ..Default::default()
        },
    )
    .await;

    let mut rules = Rules::default();
    rules.console.require_mfa = true;
    let before = Utc::now();
    let (state, calls) = read(&account, ReadScope::Rules(&rules), before).await;

    // The report was read and dated...
    let generated = state.credential_report_generated_at.expect("report read");
    assert!(
        (generated - before).num_minutes().abs() < 10,
        "generated {generated}"
    );
    // ...and its facts stand for the user, whom no rule flags: no direct read.
    let steady = state.user("steady").unwrap();
    assert!(steady.login_profile.is_some());
    assert_eq!(steady.mfa_devices.len(), 1);
    assert_eq!(steady.mfa_devices[0].serial, live::PLACEHOLDER_MFA_SERIAL);
    let keys: Vec<_> = steady
        .access_keys
        .iter()
        .map(|k| (k.id.clone(), k.status))
        .collect();
    assert_eq!(
        keys,
        [
            (KeyId::ReportSlot(1), KeyStatus::Active),
            (KeyId::ReportSlot(2), KeyStatus::Inactive)
        ]
    );
    assert_per_user_calls(&calls, &[]);
    assert_eq!(count(&calls, "IAM.GetCredentialReport"), 1);
    assert!(
        plan_account("test", &rules, &state, before)
            .findings
            .is_empty()
    );
}

#[tokio::test]
async fn only_users_a_rule_concerns_are_read_directly() {
    let account = fresh_account().await;
    let iam = account.iam().await;
    let with_keys = ["user-03", "user-11", "user-17"];
    let mut seeded = Vec::new();
    for i in 0..20 {
        let name = format!("user-{i:02}");
        let active_keys = u8::from(with_keys.contains(&name.as_str()));
        let keys = seed_user(
            &iam,
            &name,
            SeedUser {
                active_keys,
                ..Default::default()
            },
        )
        .await;
        seeded.extend(keys.active.into_iter().map(|key| (name.clone(), key)));
    }

    let mut rules = Rules::default();
    rules.access_keys.max_age_days = Some(30);
    rules.access_keys.on_expired = KeyAction::Deactivate;
    let as_of = Utc::now() + Duration::days(60);
    let (state, calls) = read(&account, ReadScope::Rules(&rules), as_of).await;
    eprintln!(
        "20 users, 3 concerned (key age): {:?}",
        calls.by_operation()
    );

    assert_per_user_calls(&calls, &[("IAM.ListAccessKeys", 3)]);
    assert_eq!(count(&calls, "IAM.GetAccountAuthorizationDetails"), 1);
    assert!(calls.total() <= 10, "{:?}", calls.by_operation());

    // The plan names the real keys, read directly.
    let plan = plan_account("test", &rules, &state, as_of);
    let mut planned: Vec<_> = plan
        .changes
        .iter()
        .map(|c| match (&c.address(), c.action()) {
            (Address::AccessKey { user, key_id }, Action::Deactivate) => {
                (user.clone(), key_id.to_string())
            }
            other => panic!("unexpected change {other:?}"),
        })
        .collect();
    planned.sort();
    seeded.sort();
    assert_eq!(planned, seeded);
}

#[tokio::test]
async fn unused_keys_get_their_last_use_read() {
    let account = fresh_account().await;
    let iam = account.iam().await;
    for name in ["a", "b"] {
        seed_user(
            &iam,
            name,
            SeedUser {
                active_keys: 1,
                inactive_keys: 1,
                ..Default::default()
            },
        )
        .await;
    }
    seed_user(&iam, "c", SeedUser::default()).await;

    let mut rules = Rules::default();
    rules.access_keys.max_unused_days = Some(30);
    rules.access_keys.on_unused = KeyAction::Deactivate;
    // Keys younger than the limit cannot be unused for longer: nothing to confirm.
    let (_, calls) = read(
        &account,
        ReadScope::Rules(&rules),
        Utc::now() + Duration::days(10),
    )
    .await;
    assert_per_user_calls(&calls, &[]);

    let as_of = Utc::now() + Duration::days(60);
    let (state, calls) = read(&account, ReadScope::Rules(&rules), as_of).await;
    eprintln!(
        "3 users, 2 with an unused active key: {:?}",
        calls.by_operation()
    );
    assert_eq!(count(&calls, "IAM.ListAccessKeys"), 2);
    // Only the active keys: the rule ignores inactive ones.
    assert_eq!(count(&calls, "IAM.GetAccessKeyLastUsed"), 2);
    let changes = plan_account("test", &rules, &state, as_of).changes;
    assert_eq!(changes.len(), 2, "{changes:?}");
    assert!(
        changes
            .iter()
            .all(|c| c.action() == Action::Deactivate
                && !c.address().to_string().contains("report-key")),
        "{changes:?}"
    );
}

#[tokio::test]
async fn key_findings_list_the_keys_but_keep_the_reports_last_use() {
    let account = fresh_account().await;
    let iam = account.iam().await;
    for name in ["a", "b", "c"] {
        seed_user(
            &iam,
            name,
            SeedUser {
                active_keys: 1,
                // Created in the same second as the active key: told apart by status.
                inactive_keys: u8::from(name == "a"),
                ..Default::default()
            },
        )
        .await;
    }
    seed_user(&iam, "none", SeedUser::default()).await;

    // Both key rules only report: findings, addressed by key id.
    let mut rules = Rules::default();
    rules.access_keys.max_age_days = Some(30);
    rules.access_keys.max_unused_days = Some(30);
    let as_of = Utc::now() + Duration::days(60);
    let (state, calls) = read(&account, ReadScope::Rules(&rules), as_of).await;
    eprintln!(
        "4 users, 3 with old unused keys (report): {:?}",
        calls.by_operation()
    );
    assert_per_user_calls(&calls, &[("IAM.ListAccessKeys", 3)]);
    let plan = plan_account("test", &rules, &state, as_of);
    assert!(plan.changes.is_empty(), "{:?}", plan.changes);
    // Two findings (age, never used) for each active key, with the real key ids.
    assert_eq!(plan.findings.len(), 6, "{:?}", plan.findings);
    for finding in &plan.findings {
        let Address::AccessKey { key_id, .. } = &finding.address else {
            panic!("{finding:?}")
        };
        assert!(key_id.as_str().starts_with("AKIA"), "{finding:?}");
    }
}

#[tokio::test]
async fn report_only_user_findings_cost_no_direct_call() {
    let account = fresh_account().await;
    let iam = account.iam().await;
    for name in ["nomfa-1", "nomfa-2"] {
        seed_user(
            &iam,
            name,
            SeedUser {
                console: true,
                ..Default::default()
            },
        )
        .await;
    }
    seed_user(
        &iam,
        "two-keys",
        SeedUser {
            active_keys: 2,
            ..Default::default()
        },
    )
    .await;

    let mut rules = Rules::default();
    rules.console.require_mfa = true;
    rules.access_keys.max_active = Some(1);
    let as_of = Utc::now() + Duration::days(60);
    let (_, calls) = read(&account, ReadScope::Rules(&rules), as_of).await;
    eprintln!("report-only findings: {:?}", calls.by_operation());
    assert_per_user_calls(&calls, &[]);

    // An unused password is judged from the profile's creation, which the report lacks. It
    // dates the password, though, the latest the profile can date from, and 60 days after
    // that is past the limit whenever the profile was made: nothing is read (no
    // GetLoginProfile, no GetUser).
    rules.console.max_unused_days = Some(30);
    let (state, calls) = read(&account, ReadScope::Rules(&rules), as_of).await;
    eprintln!(
        "report-only findings, unused passwords: {:?}",
        calls.by_operation()
    );
    assert_per_user_calls(&calls, &[]);
    let plan = plan_account("test", &rules, &state, as_of);
    assert!(plan.changes.is_empty(), "{:?}", plan.changes);
    let mut findings: Vec<_> = plan
        .findings
        .iter()
        .map(|f| (f.address.to_string(), f.rule.as_str()))
        .collect();
    findings.sort();
    assert_eq!(
        findings,
        [
            ("user.nomfa-1".to_owned(), "users.console.max_unused_days"),
            ("user.nomfa-1".to_owned(), "users.console.require_mfa"),
            ("user.nomfa-2".to_owned(), "users.console.max_unused_days"),
            ("user.nomfa-2".to_owned(), "users.console.require_mfa"),
            ("user.two-keys".to_owned(), "users.access_keys.max_active"),
        ]
    );
}

#[tokio::test]
async fn a_profile_younger_than_max_unused_days_gets_no_password_read() {
    let account = fresh_account().await;
    let iam = account.iam().await;
    for name in ["recent", "reset", "stale"] {
        seed_user(
            &iam,
            name,
            SeedUser {
                console: true,
                mfa: true,
                ..Default::default()
            },
        )
        .await;
    }
    // All three users are old, so the report (which has no profile date) makes each a
    // candidate were its profile as old as the user. `stale`'s profile is old and its password
    // too; `reset`'s profile is old but an administrator set its password today (a use would
    // have been a sign-in); `recent`'s profile is new.
    account.backdate(Backdate {
        user: "recent",
        user_created_days_ago: Some(200.0),
        ..Default::default()
    });
    for user in ["reset", "stale"] {
        account.backdate(Backdate {
            user,
            user_created_days_ago: Some(200.0),
            login_profile_created_days_ago: Some(90.0),
            ..Default::default()
        });
    }
    iam.update_login_profile()
        .user_name("reset")
        .password("Another-Passw0rd!")
        .send()
        .await
        .unwrap();

    let mut rules = Rules::default();
    rules.console.max_unused_days = Some(45);
    rules.console.on_unused = OnUnusedConsole::DisableConsole;
    let as_of = Utc::now();
    let (state, calls) = read(&account, ReadScope::Rules(&rules), as_of).await;
    eprintln!("young and old profiles: {:?}", calls.by_operation());
    // Changes are confirmed: every profile read, the password's use only for the old ones.
    assert_eq!(count(&calls, "IAM.GetLoginProfile"), 3);
    assert_eq!(count(&calls, "IAM.GetUser"), 2);
    let changes: Vec<_> = plan_account("test", &rules, &state, as_of)
        .changes
        .iter()
        .map(|c| (c.address().to_string(), c.action()))
        .collect();
    assert_eq!(
        changes,
        [
            ("user.reset.login_profile".to_owned(), Action::Delete),
            ("user.stale.login_profile".to_owned(), Action::Delete)
        ]
    );

    // Reported only: the last use is the report's, and `stale`'s finding rests on the report
    // (its password is 90 days old, so its profile is at least as old). Only the profiles the
    // password date leaves in doubt are read: `recent` (no finding) and `reset` (a finding).
    rules.console.on_unused = OnUnusedConsole::Report;
    let (state, calls) = read(&account, ReadScope::Rules(&rules), as_of).await;
    assert_eq!(count(&calls, "IAM.GetLoginProfile"), 2);
    assert_eq!(count(&calls, "IAM.GetUser"), 0);
    let findings: Vec<_> = plan_account("test", &rules, &state, as_of)
        .findings
        .iter()
        .map(|f| (f.address.to_string(), f.message.clone()))
        .collect();
    assert_eq!(
        findings,
        [
            (
                "user.reset".to_owned(),
                "console password never used; login profile created 90 days ago (limit 45)"
                    .to_owned()
            ),
            (
                "user.stale".to_owned(),
                "console password never used; login profile created 90 days ago (limit 45)"
                    .to_owned()
            ),
        ]
    );
}

#[tokio::test]
async fn an_expired_key_deleted_anyway_gets_no_last_use_read() {
    let account = fresh_account().await;
    let iam = account.iam().await;
    let keys = seed_user(
        &iam,
        "old",
        SeedUser {
            active_keys: 1,
            ..Default::default()
        },
    )
    .await;

    let mut rules = Rules::default();
    rules.access_keys.max_age_days = Some(90);
    rules.access_keys.on_expired = KeyAction::Delete;
    rules.access_keys.max_unused_days = Some(45);
    rules.access_keys.on_unused = KeyAction::Deactivate;
    let as_of = Utc::now() + Duration::days(120);
    let (state, calls) = read(&account, ReadScope::Rules(&rules), as_of).await;
    eprintln!(
        "expired key, on_expired = delete: {:?}",
        calls.by_operation()
    );
    assert_eq!(count(&calls, "IAM.ListAccessKeys"), 1);
    assert_eq!(count(&calls, "IAM.GetAccessKeyLastUsed"), 0);
    let changes: Vec<_> = plan_account("test", &rules, &state, as_of)
        .changes
        .iter()
        .map(|c| (c.address().to_string(), c.action(), c.rule))
        .collect();
    assert_eq!(
        changes,
        [(
            format!("user.old.access_key.{}", keys.active[0]),
            Action::Delete,
            Rule::KeysMaxAge
        )]
    );

    // With the age only reported, the unused-key change rests on the key's use: read.
    rules.access_keys.on_expired = KeyAction::Report;
    let (_, calls) = read(&account, ReadScope::Rules(&rules), as_of).await;
    assert_eq!(count(&calls, "IAM.ListAccessKeys"), 1);
    assert_eq!(count(&calls, "IAM.GetAccessKeyLastUsed"), 1);
}

#[tokio::test]
async fn console_changes_read_profiles_and_mfa_of_their_candidates_only() {
    let account = fresh_account().await;
    let iam = account.iam().await;
    for name in ["nomfa-1", "nomfa-2", "nomfa-3"] {
        seed_user(
            &iam,
            name,
            SeedUser {
                console: true,
                ..Default::default()
            },
        )
        .await;
    }
    for name in ["mfa-1", "mfa-2"] {
        seed_user(
            &iam,
            name,
            SeedUser {
                console: true,
                mfa: true,
                ..Default::default()
            },
        )
        .await;
    }
    for i in 0..6 {
        seed_user(
            &iam,
            &format!("api-{i}"),
            SeedUser {
                active_keys: 1,
                ..Default::default()
            },
        )
        .await;
    }
    seed_user(&iam, "named", SeedUser::default()).await;

    let mut rules = Rules::default();
    rules.console.require_mfa = true;
    rules.users = vec![UserRule {
        name: "named".into(),
        console: Some(true),
        password_reset_required: false,
    }];
    let as_of = Utc::now();
    let (state, calls) = read(&account, ReadScope::Rules(&rules), as_of).await;
    eprintln!(
        "12 users, 3 console without MFA + 1 [[user]]: {:?}",
        calls.by_operation()
    );

    // The MFA findings rest on the report; only the named user's profile is read.
    assert_eq!(count(&calls, "IAM.GetLoginProfile"), 1);
    assert_eq!(count(&calls, "IAM.ListMFADevices"), 0);
    assert_eq!(count(&calls, "IAM.ListAccessKeys"), 0);
    assert_eq!(count(&calls, "IAM.GetUser"), 0);

    let plan = plan_account("test", &rules, &state, as_of);
    let findings: Vec<_> = plan
        .findings
        .iter()
        .map(|f| f.address.to_string())
        .collect();
    assert_eq!(findings, ["user.nomfa-1", "user.nomfa-2", "user.nomfa-3"]);
    let changes: Vec<_> = plan
        .changes
        .iter()
        .map(|c| (c.address().to_string(), c.action()))
        .collect();
    assert_eq!(
        changes,
        [("user.named.login_profile".to_owned(), Action::Create)]
    );

    // Disabling the console is a change: each candidate is confirmed directly. Three
    // candidates without MFA, plus the named user's profile; MFA only where a console is.
    rules.console.without_mfa = WithoutMfa::DisableConsole;
    let (state, calls) = read(&account, ReadScope::Rules(&rules), as_of).await;
    eprintln!(
        "12 users, disable-console for 3 without MFA + 1 [[user]]: {:?}",
        calls.by_operation()
    );
    assert_eq!(count(&calls, "IAM.GetLoginProfile"), 4);
    assert_eq!(count(&calls, "IAM.ListMFADevices"), 3);
    assert_eq!(count(&calls, "IAM.ListAccessKeys"), 0);
    assert_eq!(count(&calls, "IAM.GetUser"), 0);
    let deleted: Vec<_> = plan_account("test", &rules, &state, as_of)
        .changes
        .iter()
        .filter(|c| c.action() == Action::Delete)
        .map(|c| c.address().to_string())
        .collect();
    assert_eq!(
        deleted,
        [
            "user.nomfa-1.login_profile",
            "user.nomfa-2.login_profile",
            "user.nomfa-3.login_profile"
        ]
    );

    // Unused passwords, disabled: the last use is read directly, for the flagged users only
    // (at 60 days, every profile is older than the limit, so its use is read).
    let mut rules = Rules::default();
    rules.console.max_unused_days = Some(30);
    rules.console.on_unused = OnUnusedConsole::DisableConsole;
    rules.console.require_mfa = true;
    rules.console.without_mfa = WithoutMfa::Report;
    let (_, calls) = read(
        &account,
        ReadScope::Rules(&rules),
        Utc::now() + Duration::days(60),
    )
    .await;
    eprintln!(
        "12 users, 5 console users never used: {:?}",
        calls.by_operation()
    );
    assert_eq!(count(&calls, "IAM.GetLoginProfile"), 5);
    assert_eq!(count(&calls, "IAM.GetUser"), 5);
    // The MFA findings rest on the report.
    assert_eq!(count(&calls, "IAM.ListMFADevices"), 0);
}

#[tokio::test]
async fn exempt_users_are_never_read_directly() {
    let account = fresh_account().await;
    let iam = account.iam().await;
    seed_user(
        &iam,
        "break-glass-1",
        SeedUser {
            active_keys: 1,
            console: true,
            ..Default::default()
        },
    )
    .await;
    seed_user(
        &iam,
        "robot",
        SeedUser {
            active_keys: 1,
            tags: &[("iam-exempt", "true")],
            ..Default::default()
        },
    )
    .await;
    seed_user(
        &iam,
        "person",
        SeedUser {
            active_keys: 1,
            ..Default::default()
        },
    )
    .await;

    let mut rules = Rules {
        exemptions: iamctl::desired::Exemptions::new(
            vec!["break-glass-*".into()],
            [("iam-exempt".to_owned(), "true".to_owned())].into(),
        )
        .unwrap(),
        users: vec![UserRule {
            name: "break-glass-1".into(),
            console: Some(false),
            password_reset_required: false,
        }],
        ..Default::default()
    };
    rules.access_keys.max_age_days = Some(30);
    rules.console.require_mfa = true;
    let (_, calls) = read(
        &account,
        ReadScope::Rules(&rules),
        Utc::now() + Duration::days(60),
    )
    .await;
    assert_eq!(
        count(&calls, "IAM.ListAccessKeys"),
        1,
        "only `person`: {:?}",
        calls.by_operation()
    );
    assert_eq!(count(&calls, "IAM.GetLoginProfile"), 0);
}

#[tokio::test]
async fn deny_until_mfa_confirms_carriers_and_candidates() {
    let account = fresh_account().await;
    let iam = account.iam().await;
    seed_user(
        &iam,
        "enrolled",
        SeedUser {
            console: true,
            mfa: true,
            ..Default::default()
        },
    )
    .await;
    seed_user(
        &iam,
        "pending",
        SeedUser {
            console: true,
            ..Default::default()
        },
    )
    .await;
    seed_user(
        &iam,
        "fine",
        SeedUser {
            console: true,
            mfa: true,
            ..Default::default()
        },
    )
    .await;
    let policy = iam
        .create_policy()
        .policy_name(iamctl::plan::DENY_WITHOUT_MFA_POLICY)
        .policy_document(r#"{"Version":"2012-10-17","Statement":[{"Effect":"Deny","NotAction":"iam:ListMFADevices","Resource":"*"}]}"#)
        .send()
        .await
        .expect("CreatePolicy")
        .policy
        .and_then(|p| p.arn)
        .expect("policy ARN");
    iam.attach_user_policy()
        .user_name("enrolled")
        .policy_arn(policy)
        .send()
        .await
        .expect("AttachUserPolicy");

    let mut rules = Rules::default();
    rules.console.require_mfa = true;
    rules.console.without_mfa = WithoutMfa::DenyUntilMfa;
    let as_of = Utc::now();
    let (state, calls) = read(&account, ReadScope::Rules(&rules), as_of).await;
    eprintln!(
        "deny-until-mfa, 3 console users, 1 carrier, 1 candidate: {:?}",
        calls.by_operation()
    );
    assert_eq!(count(&calls, "IAM.GetLoginProfile"), 2);
    assert_eq!(count(&calls, "IAM.ListMFADevices"), 2);
    let plan = plan_account("test", &rules, &state, as_of);
    let changes: Vec<_> = plan
        .changes
        .iter()
        .map(|c| (c.address().to_string(), c.action()))
        .collect();
    assert_eq!(
        changes,
        [
            (
                "user.enrolled.policy.iamctl-deny-without-mfa".to_owned(),
                Action::Detach
            ),
            (
                "user.pending.policy.iamctl-deny-without-mfa".to_owned(),
                Action::Attach
            ),
        ]
    );
    // The confirmed user's MFA device is the real one, not the report's placeholder.
    assert!(
        state.user("enrolled").unwrap().mfa_devices[0]
            .serial
            .starts_with("arn:aws:iam::")
    );
}

#[tokio::test]
async fn the_caller_and_its_key_are_known() {
    let account = fresh_account().await;
    seed_user(&account.iam().await, "ci", SeedUser::default()).await;

    // As a role session: no user, no long-lived key.
    let (state, _) = read(&account, ReadScope::Rules(&Rules::default()), Utc::now()).await;
    let caller = state.caller.expect("caller");
    assert!(caller.arn.contains(":assumed-role/"), "{}", caller.arn);
    assert_eq!((caller.user_name, caller.access_key_id), (None, None));

    // As the user `ci`, signing with its own key.
    let ci = account.as_user("ci").await;
    let mut rules = Rules::default();
    rules.access_keys.max_age_days = Some(30);
    rules.access_keys.on_expired = KeyAction::Delete;
    let as_of = Utc::now() + Duration::days(60);
    let (state, _) = read(&ci, ReadScope::Rules(&rules), as_of).await;
    let caller = state.caller.clone().expect("caller");
    assert_eq!(caller.arn, format!("arn:aws:iam::{}:user/ci", account.id));
    assert_eq!(caller.user_name.as_deref(), Some("ci"));
    assert_eq!(caller.access_key_id.as_deref(), Some(ci.access_key_id()));
    assert!(ci.access_key_id().starts_with("AKIA"));

    // So the plan leaves that key alone.
    let plan = plan_account("test", &rules, &state, as_of);
    assert!(plan.changes.is_empty(), "{:?}", plan.changes);
    assert_eq!(plan.findings.len(), 1);
    assert!(
        plan.findings[0].message.contains("signed with this key"),
        "{}",
        plan.findings[0].message
    );
}

#[tokio::test]
async fn everything_reads_every_user_in_full() {
    let account = fresh_account().await;
    let iam = account.iam().await;
    let keys = seed_user(
        &iam,
        "full",
        SeedUser {
            console: true,
            password_reset_required: true,
            mfa: true,
            active_keys: 1,
            inactive_keys: 1,
            ..Default::default()
        },
    )
    .await;
    seed_user(&iam, "bare", SeedUser::default()).await;

    let (state, calls) = read(&account, ReadScope::Everything, Utc::now()).await;
    eprintln!("Everything, 2 users: {:?}", calls.by_operation());
    let full = state.user("full").unwrap();
    let profile = full.login_profile.as_ref().expect("login profile");
    assert!(profile.password_reset_required);
    assert_eq!(full.mfa_devices.len(), 1);
    assert!(
        full.mfa_devices[0]
            .serial
            .starts_with(&format!("arn:aws:iam::{}:mfa/", account.id)),
        "{:?}",
        full.mfa_devices
    );
    assert!(full.mfa_devices[0].enabled_at.is_some());
    let mut expected = vec![
        (keys.active[0].clone(), KeyStatus::Active),
        (keys.inactive[0].clone(), KeyStatus::Inactive),
    ];
    expected.sort();
    let read_keys: Vec<_> = full
        .access_keys
        .iter()
        .map(|k| (k.id.to_string(), k.status))
        .collect();
    assert_eq!(read_keys, expected);

    let bare = state.user("bare").unwrap();
    assert!(
        bare.login_profile.is_none() && bare.mfa_devices.is_empty() && bare.access_keys.is_empty()
    );
    assert_eq!(state.trails, Some(vec![]));

    for (op, n) in [
        ("IAM.ListAccessKeys", 2),
        ("IAM.GetLoginProfile", 2),
        ("IAM.ListMFADevices", 2),
        ("IAM.GetAccessKeyLastUsed", 2),
    ] {
        assert_eq!(count(&calls, op), n, "{op}");
    }
}

#[tokio::test]
async fn trails_are_read_with_status_and_selectors() {
    let account = fresh_account().await;
    let bucket = format!("trail-logs-{}", account.id);
    account.create_bucket(&bucket);
    let cloudtrail = account.cloudtrail().await;
    cloudtrail
        .create_trail()
        .name("org-audit")
        .s3_bucket_name(&bucket)
        .is_multi_region_trail(true)
        .send()
        .await
        .expect("CreateTrail");
    cloudtrail
        .start_logging()
        .name("org-audit")
        .send()
        .await
        .expect("StartLogging");
    cloudtrail
        .create_trail()
        .name("reads-only")
        .s3_bucket_name(&bucket)
        .send()
        .await
        .expect("CreateTrail");
    cloudtrail
        .put_event_selectors()
        .trail_name("reads-only")
        .event_selectors(
            aws_sdk_cloudtrail::types::EventSelector::builder()
                .read_write_type(aws_sdk_cloudtrail::types::ReadWriteType::ReadOnly)
                .include_management_events(true)
                .build(),
        )
        .send()
        .await
        .expect("PutEventSelectors");

    let rules = Rules {
        require_cloudtrail: true,
        ..Default::default()
    };
    let (state, calls) = read(&account, ReadScope::Rules(&rules), Utc::now()).await;
    let trails = state.trails.clone().expect("trails read");
    let summary: Vec<_> = trails
        .iter()
        .map(|t| {
            (
                t.name.as_str(),
                t.home_region.as_str(),
                t.is_multi_region,
                t.is_logging,
                t.records_management_writes,
            )
        })
        .collect();
    assert_eq!(
        summary,
        [
            ("org-audit", "us-east-1", true, true, true),
            ("reads-only", "us-east-1", false, false, false)
        ]
    );
    assert!(
        plan_account("test", &rules, &state, Utc::now())
            .findings
            .is_empty()
    );
    // No user rule: no user read, and no report.
    assert_eq!(count(&calls, "IAM.GetCredentialReport"), 0);
    assert!(state.users.is_empty());

    cloudtrail
        .stop_logging()
        .name("org-audit")
        .send()
        .await
        .expect("StopLogging");
    let (state, _) = read(&account, ReadScope::Rules(&rules), Utc::now()).await;
    let findings = plan_account("test", &rules, &state, Utc::now()).findings;
    assert_eq!(findings.len(), 1);
    assert_eq!(findings[0].address, Address::CloudTrail);
}

#[tokio::test]
async fn snapshots_round_trip_and_hold_no_secret() {
    let account = fresh_account().await;
    let iam = account.iam().await;
    seed_user(
        &iam,
        "alice",
        SeedUser {
            console: true,
            mfa: true,
            active_keys: 1,
            tags: &[("team", "a")],
            ..Default::default()
        },
    )
    .await;
    let alice = account.as_user("alice").await;

    let (state, _) = read(&alice, ReadScope::Everything, Utc::now()).await;
    let snapshot = Snapshot::new(
        Utc::now(),
        vec![NamedAccount {
            name: "prod".into(),
            state,
        }],
    );
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("snapshot.json");
    live::write_snapshot(&path, &snapshot).expect("write");
    assert_eq!(live::read_snapshot(&path).expect("read"), snapshot);

    let text = std::fs::read_to_string(&path).unwrap();
    assert!(text.contains("\"format_version\": \"1\""));
    assert!(!text.contains(support::SEED_PASSWORD));
    let secret = alice
        .env()
        .into_iter()
        .find(|(k, _)| k == "AWS_SECRET_ACCESS_KEY")
        .unwrap()
        .1;
    assert!(
        !text.contains(&secret),
        "the signing secret leaked into the snapshot"
    );
    // Nothing is left beside the file.
    let entries: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(entries, ["snapshot.json"]);
}

#[tokio::test]
async fn malformed_snapshots_are_refused_at_their_line_and_column() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("broken.json");
    std::fs::write(
        &path,
        "{\n  \"format_version\": \"1\",\n  \"taken_at\": \"2026-11-23T00:00:00Z\",\n  \"accounts\": [\n    {\"name\": \"prod\", \"account_id\": 42}\n  ]\n}\n",
    )
    .unwrap();
    let err = live::read_snapshot(&path).unwrap_err();
    let SnapshotError::Parse {
        line,
        column,
        message,
        ..
    } = &err
    else {
        panic!("{err}")
    };
    assert_eq!((*line, *column), (5, 37), "{err}");
    assert!(message.contains("invalid type: integer `42`"), "{message}");
    assert!(
        err.to_string()
            .starts_with(&format!("{}:5:37: ", path.display())),
        "{err}"
    );

    std::fs::write(&path, "{\"format_version\": \"7\", \"accounts\": []}").unwrap();
    let err = live::read_snapshot(&path).unwrap_err();
    assert!(matches!(err, SnapshotError::Version { .. }), "{err}");
    assert!(
        err.to_string()
            .contains("format_version \"7\" is not supported"),
        "{err}"
    );
}

/// A larger account, for measuring (`cargo test --test suite live:: -- --ignored --nocapture`):
/// 300 users, of which 15 have a key and 10 a console password without MFA.
#[tokio::test]
#[ignore = "slow: seeds 300 users"]
async fn a_larger_account_costs_bulk_calls_plus_its_candidates() {
    let account = fresh_account().await;
    let iam = account.iam().await;
    let seeds = (0..300).map(|i| {
        let iam = iam.clone();
        async move {
            let spec = SeedUser {
                active_keys: u8::from(i % 20 == 0),
                console: i % 30 == 1,
                ..Default::default()
            };
            seed_user(&iam, &format!("user-{i:03}"), spec).await;
        }
    });
    futures::future::join_all(seeds).await;

    let mut rules = Rules::default();
    rules.access_keys.max_age_days = Some(30);
    rules.console.require_mfa = true;
    let started = std::time::Instant::now();
    let (state, calls) = read(
        &account,
        ReadScope::Rules(&rules),
        Utc::now() + Duration::days(60),
    )
    .await;
    eprintln!(
        "300 users, 15 keys + 10 console: {:?} in {:?}",
        calls.by_operation(),
        started.elapsed()
    );
    assert_eq!(state.users.len(), 300);
    assert_eq!(count(&calls, "IAM.ListAccessKeys"), 15);
    // The MFA findings rest on the report.
    assert_eq!(count(&calls, "IAM.GetLoginProfile"), 0);
    assert_eq!(count(&calls, "IAM.ListMFADevices"), 0);

    let started = std::time::Instant::now();
    let (_, calls) = read(&account, ReadScope::Everything, Utc::now()).await;
    eprintln!(
        "300 users, Everything: {:?} in {:?}",
        calls.by_operation(),
        started.elapsed()
    );
}

/// A policy that tightens asks every console user to reset: those resets rest on the
/// credential report alone (a stale report cannot make one harmful), so reading them costs no
/// call per user, while a console deletion is still confirmed directly.
#[tokio::test]
async fn password_resets_of_a_tightening_policy_cost_no_call_per_user() {
    let account = fresh_account().await;
    let iam = account.iam().await;
    for name in ["ana", "bo", "cy", "di"] {
        seed_user(
            &iam,
            name,
            SeedUser {
                console: true,
                ..Default::default()
            },
        )
        .await;
    }
    let mut rules = Rules {
        password_policy: Some(iamctl::desired::PolicyRule::Present(PasswordPolicy {
            minimum_length: 14,
            ..PasswordPolicy::iam_default()
        })),
        ..Default::default()
    };
    rules.console.reset_on_policy_tightening = true;
    let as_of = Utc::now();
    let (state, calls) = read(&account, ReadScope::Rules(&rules), as_of).await;
    assert_per_user_calls(&calls, &[]);
    let plan = plan_account("test", &rules, &state, as_of);
    let resets: Vec<String> = plan
        .changes
        .iter()
        .filter(|c| c.action() == Action::ResetPassword)
        .map(|c| c.address().to_string())
        .collect();
    assert_eq!(
        resets,
        [
            "user.ana.login_profile",
            "user.bo.login_profile",
            "user.cy.login_profile",
            "user.di.login_profile"
        ]
    );

    // Deleting a console password still rests on a direct read of the profile.
    rules.users.push(UserRule {
        name: "bo".into(),
        console: Some(false),
        password_reset_required: false,
    });
    let (_, calls) = read(&account, ReadScope::Rules(&rules), as_of).await;
    assert_per_user_calls(&calls, &[("IAM.GetLoginProfile", 1)]);
}
