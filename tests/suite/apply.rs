//! `apply::apply_account` against moto: every action reaches live IAM, failures stay local,
//! the safety guards hold, passwords go only to their file, and the ordering rules hold.
//! Plans are built by hand, so these tests do not depend on the engine.

use crate::fault_proxy;
use crate::support;

use std::os::unix::fs::PermissionsExt;
use std::path::Path;

use aws_sdk_iam::types::{PolicyScopeType, StatusType};
use chrono::{DateTime, Utc};
use fault_proxy::{FaultProxy, Faults};
use iamctl::apply::{self, ApplyOptions, AuditLog, Outcome, OutcomeStatus};
use iamctl::aws::{AccountClients, ApiCalls, ClientFactory};
use iamctl::plan::{AccountPlan, Action, Change, ChangeSrc, DENY_WITHOUT_MFA_POLICY, Rule};
use iamctl::state::{Caller, PasswordPolicy};
use serde_json::{Value, json};
use support::live_state::{attached, login_profile_of};
use support::{Account, SeedUser, fresh_account, seed_user};

const TARGET: &str = "moto";

fn clients(account: &Account) -> (AccountClients, ApiCalls) {
    let calls = ApiCalls::default();
    let factory = ClientFactory::with_config(account.sdk_config(), calls.clone());
    (
        factory.clients_from_config(TARGET, account.sdk_config()),
        calls,
    )
}

/// Clients whose requests pass a proxy that answers `AccessDenied` to those matching one entry
/// of `denied` (every string of it in the request): changes that fail as for a missing
/// permission, while the rest reach moto. Keep the proxy while the clients are used.
fn clients_denied(account: &Account, denied: &[&[&str]]) -> (AccountClients, FaultProxy) {
    let proxy = FaultProxy::start(&support::endpoint(), Faults::deny(denied));
    let config = account
        .sdk_config()
        .to_builder()
        .endpoint_url(proxy.url())
        .build();
    let factory = ClientFactory::with_config(config.clone(), ApiCalls::default());
    (factory.clients_from_config(TARGET, config), proxy)
}

/// A change as a saved plan holds it, read back through the plan file's boundary.
fn change(address: &str, action: Action, rule: Rule, before: Value, after: Value) -> Change {
    Change::try_from(ChangeSrc {
        address: address.parse().unwrap(),
        action,
        rule,
        controls: Vec::new(),
        owner: None,
        before,
        after,
        attribution: None,
    })
    .expect("a change iamctl plans")
}

/// A login profile as a plan's `before` holds it.
fn profile_json() -> Value {
    json!({"created": "2025-01-15T09:30:00Z", "password_reset_required": false})
}

fn plan(account: &Account, changes: Vec<Change>) -> AccountPlan {
    AccountPlan {
        name: TARGET.to_owned(),
        account_id: account.id.clone(),
        changes,
        findings: Vec::new(),
        credential_report_generated_at: None,
        error: None,
    }
}

fn options() -> ApplyOptions {
    ApplyOptions {
        concurrency: 4,
        ..ApplyOptions::default()
    }
}

fn strict_policy(minimum_length: u32) -> PasswordPolicy {
    PasswordPolicy {
        minimum_length,
        require_uppercase: true,
        require_lowercase: true,
        require_numbers: true,
        require_symbols: true,
        allow_users_to_change: true,
        max_age_days: Some(90),
        reuse_prevention: Some(24),
        hard_expiry: false,
    }
}

fn policy_json(policy: &PasswordPolicy) -> Value {
    serde_json::to_value(policy).unwrap()
}

fn key_json(id: &str, last_used: Option<DateTime<Utc>>) -> Value {
    let mut key = json!({"id": id, "status": "Active", "created": "2020-01-01T00:00:00Z"});
    if let Some(last_used) = last_used {
        key["last_used"] = json!(last_used);
    }
    key
}

fn statuses(outcomes: &[Outcome]) -> Vec<&OutcomeStatus> {
    outcomes.iter().map(|o| &o.status).collect()
}

fn error_of(outcome: &Outcome) -> &str {
    match &outcome.status {
        OutcomeStatus::Failed { error } => error,
        other => panic!("{} should have failed, was {other:?}", outcome.address),
    }
}

fn reason_of(outcome: &Outcome) -> &str {
    match &outcome.status {
        OutcomeStatus::Skipped { reason } => reason,
        other => panic!(
            "{} should have been skipped, was {other:?}",
            outcome.address
        ),
    }
}

async fn live_policy(iam: &aws_sdk_iam::Client) -> Option<aws_sdk_iam::types::PasswordPolicy> {
    match iam.get_account_password_policy().send().await {
        Ok(out) => out.password_policy,
        Err(err)
            if err
                .as_service_error()
                .is_some_and(|e| e.is_no_such_entity_exception()) =>
        {
            None
        }
        Err(err) => panic!("GetAccountPasswordPolicy: {err:?}"),
    }
}

async fn key_statuses(iam: &aws_sdk_iam::Client, user: &str) -> Vec<(String, StatusType)> {
    let keys = iam
        .list_access_keys()
        .user_name(user)
        .send()
        .await
        .expect("ListAccessKeys")
        .access_key_metadata;
    keys.into_iter()
        .map(|k| (k.access_key_id.unwrap(), k.status.unwrap()))
        .collect()
}

fn assert_compliant(password: &str, policy: &PasswordPolicy) {
    let has = |pred: fn(&char) -> bool| password.chars().any(|c| pred(&c));
    assert!(
        password.len() >= policy.minimum_length.max(20) as usize,
        "too short: {}",
        password.len()
    );
    assert!(
        has(char::is_ascii_uppercase) && has(char::is_ascii_lowercase) && has(char::is_ascii_digit)
    );
    assert!(
        has(|c| "!@#$%^&*()_+-=[]{}|'".contains(*c)),
        "no IAM symbol"
    );
    assert!(password.chars().all(|c| c.is_ascii_graphic()));
}

#[tokio::test]
async fn password_policy_is_written_whole_then_deleted() {
    let account = fresh_account().await;
    let iam = account.iam().await;
    let (clients, _) = clients(&account);

    let first = strict_policy(14);
    let created = apply::apply_account(
        &clients,
        &plan(
            &account,
            vec![change(
                "password_policy",
                Action::Create,
                Rule::PasswordPolicy,
                Value::Null,
                policy_json(&first),
            )],
        ),
        &options(),
    )
    .await;
    assert_eq!(statuses(&created), [&OutcomeStatus::Done]);
    let live = live_policy(&iam).await.expect("policy created");
    assert_eq!(live.minimum_password_length, Some(14));
    assert!(live.require_symbols && live.require_numbers && live.require_uppercase_characters);
    assert!(live.require_lowercase_characters && live.allow_users_to_change_password);
    assert_eq!(
        (live.max_password_age, live.password_reuse_prevention),
        (Some(90), Some(24))
    );
    assert!(live.expire_passwords);

    // No expiry and no reuse limit are said by leaving the fields out, which is also how
    // the earlier 90 days and 24 passwords go away.
    let second = PasswordPolicy {
        minimum_length: 16,
        require_symbols: false,
        max_age_days: None,
        reuse_prevention: None,
        ..strict_policy(16)
    };
    let updated = apply::apply_account(
        &clients,
        &plan(
            &account,
            vec![change(
                "password_policy",
                Action::Update,
                Rule::PasswordPolicy,
                policy_json(&first),
                policy_json(&second),
            )],
        ),
        &options(),
    )
    .await;
    assert_eq!(statuses(&updated), [&OutcomeStatus::Done]);
    let live = live_policy(&iam).await.expect("policy kept");
    assert_eq!(live.minimum_password_length, Some(16));
    assert!(!live.require_symbols && live.require_numbers);
    assert!(
        live.max_password_age.unwrap_or(0) == 0 && !live.expire_passwords,
        "{live:?}"
    );
    assert_eq!(live.password_reuse_prevention.unwrap_or(0), 0, "{live:?}");

    let deleted = apply::apply_account(
        &clients,
        &plan(
            &account,
            vec![change(
                "password_policy",
                Action::Delete,
                Rule::PasswordPolicyAbsent,
                policy_json(&second),
                Value::Null,
            )],
        ),
        &options(),
    )
    .await;
    assert_eq!(statuses(&deleted), [&OutcomeStatus::Done]);
    assert!(live_policy(&iam).await.is_none());
}

#[tokio::test]
async fn login_profiles_are_created_with_a_private_compliant_password_reset_and_deleted() {
    let account = fresh_account().await;
    let iam = account.iam().await;
    let (clients, _) = clients(&account);
    seed_user(&iam, "new", SeedUser::default()).await;
    seed_user(
        &iam,
        "reset",
        SeedUser {
            console: true,
            ..Default::default()
        },
    )
    .await;
    seed_user(
        &iam,
        "gone",
        SeedUser {
            console: true,
            ..Default::default()
        },
    )
    .await;
    let secrets = tempfile::tempdir().unwrap();
    let policy = strict_policy(32);

    let outcomes = apply::apply_account(
        &clients,
        &plan(
            &account,
            vec![
                change(
                    "user.gone.login_profile",
                    Action::Delete,
                    Rule::UserConsole,
                    profile_json(),
                    Value::Null,
                ),
                change(
                    "user.new.login_profile",
                    Action::Create,
                    Rule::UserConsole,
                    Value::Null,
                    json!({"password_reset_required": true}),
                ),
                change(
                    "user.reset.login_profile",
                    Action::ResetPassword,
                    Rule::UserPasswordReset,
                    json!({"password_reset_required": false}),
                    json!({"password_reset_required": true}),
                ),
            ],
        ),
        &ApplyOptions {
            secrets_dir: Some(secrets.path().to_owned()),
            password_policy: Some(policy.clone()),
            ..options()
        },
    )
    .await;
    assert_eq!(
        statuses(&outcomes),
        [&OutcomeStatus::Done; 3],
        "{outcomes:#?}"
    );

    assert!(login_profile_of(&iam, "gone").await.is_none());

    let created = login_profile_of(&iam, "new")
        .await
        .expect("profile created");
    assert!(created.password_reset_required);
    let file = secrets.path().join("new.password");
    assert_eq!(
        std::fs::metadata(&file).unwrap().permissions().mode() & 0o777,
        0o600
    );
    let content = std::fs::read_to_string(&file).unwrap();
    let password = content.strip_suffix('\n').expect("one line");
    assert_eq!(password.len(), 32);
    assert_compliant(password, &policy);
    // Nothing else was written next to it.
    assert_eq!(std::fs::read_dir(secrets.path()).unwrap().count(), 1);

    // The profile stays, only the flag is set.
    let reset = login_profile_of(&iam, "reset").await.expect("profile kept");
    assert!(reset.password_reset_required);
}

#[tokio::test]
async fn creating_a_console_password_without_secrets_dir_fails_and_creates_nothing() {
    let account = fresh_account().await;
    let iam = account.iam().await;
    let (clients, calls) = clients(&account);
    seed_user(&iam, "alice", SeedUser::default()).await;

    let outcomes = apply::apply_account(
        &clients,
        &plan(
            &account,
            vec![change(
                "user.alice.login_profile",
                Action::Create,
                Rule::UserConsole,
                Value::Null,
                json!({}),
            )],
        ),
        &options(),
    )
    .await;
    assert!(error_of(&outcomes[0]).contains("creating a console password needs --secrets-dir"));
    assert!(login_profile_of(&iam, "alice").await.is_none());
    assert_eq!(calls.by_operation().get("IAM.CreateLoginProfile"), None);
}

#[tokio::test]
async fn a_failed_create_leaves_no_password_file() {
    let account = fresh_account().await;
    let (clients, _) = clients(&account);
    let secrets = tempfile::tempdir().unwrap();

    let outcomes = apply::apply_account(
        &clients,
        &plan(
            &account,
            vec![change(
                "user.nobody.login_profile",
                Action::Create,
                Rule::UserConsole,
                Value::Null,
                json!({}),
            )],
        ),
        &ApplyOptions {
            secrets_dir: Some(secrets.path().to_owned()),
            ..options()
        },
    )
    .await;
    let error = error_of(&outcomes[0]);
    assert!(
        error.contains("iam:CreateLoginProfile") && error.contains(TARGET),
        "{error}"
    );
    assert_eq!(std::fs::read_dir(secrets.path()).unwrap().count(), 0);
}

#[tokio::test]
async fn access_keys_are_deactivated_and_deleted() {
    let account = fresh_account().await;
    let iam = account.iam().await;
    let (clients, _) = clients(&account);
    let keys = seed_user(
        &iam,
        "bob",
        SeedUser {
            active_keys: 1,
            inactive_keys: 1,
            ..Default::default()
        },
    )
    .await;
    let (active, inactive) = (&keys.active[0], &keys.inactive[0]);

    let outcomes = apply::apply_account(
        &clients,
        &plan(
            &account,
            vec![
                change(
                    &format!("user.bob.access_key.{active}"),
                    Action::Deactivate,
                    Rule::KeysMaxAge,
                    key_json(active, None),
                    json!({"status": "Inactive"}),
                ),
                change(
                    &format!("user.bob.access_key.{inactive}"),
                    Action::Delete,
                    Rule::KeysDeleteInactive,
                    key_json(inactive, None),
                    Value::Null,
                ),
            ],
        ),
        &options(),
    )
    .await;
    assert_eq!(
        statuses(&outcomes),
        [&OutcomeStatus::Done; 2],
        "{outcomes:#?}"
    );
    assert_eq!(
        key_statuses(&iam, "bob").await,
        [(active.clone(), StatusType::Inactive)]
    );
}

#[tokio::test]
async fn a_failed_change_does_not_stop_the_others() {
    let account = fresh_account().await;
    let iam = account.iam().await;
    let keys = seed_user(
        &iam,
        "carol",
        SeedUser {
            console: true,
            active_keys: 1,
            ..Default::default()
        },
    )
    .await;
    let key = &keys.active[0];
    seed_user(
        &iam,
        "dave",
        SeedUser {
            console: true,
            ..Default::default()
        },
    )
    .await;
    // Resetting dave's password is refused, as for a missing permission.
    let (clients, _proxy) =
        clients_denied(&account, &[&["Action=UpdateLoginProfile", "UserName=dave"]]);

    // One at a time, the failure and what is already gone first: nothing after them may be
    // held up.
    let outcomes = apply::apply_account(
        &clients,
        &plan(
            &account,
            vec![
                change(
                    "user.dave.login_profile",
                    Action::ResetPassword,
                    Rule::UserPasswordReset,
                    json!({}),
                    json!({}),
                ),
                change(
                    "user.carol.access_key.AKIADOESNOTEXIST0001",
                    Action::Delete,
                    Rule::KeysDeleteInactive,
                    key_json("AKIADOESNOTEXIST0001", None),
                    Value::Null,
                ),
                change(
                    "user.ghost.login_profile",
                    Action::ResetPassword,
                    Rule::UserPasswordReset,
                    json!({}),
                    json!({}),
                ),
                change(
                    "user.carol.login_profile",
                    Action::Delete,
                    Rule::UserConsole,
                    profile_json(),
                    Value::Null,
                ),
                change(
                    &format!("user.carol.access_key.{key}"),
                    Action::Delete,
                    Rule::KeysMaxAge,
                    key_json(key, None),
                    Value::Null,
                ),
            ],
        ),
        &ApplyOptions {
            concurrency: 1,
            ..options()
        },
    )
    .await;

    let denied = error_of(&outcomes[0]);
    for part in [
        "iam:UpdateLoginProfile",
        &format!("account {TARGET}"),
        "AccessDenied",
        "missing permission iam:UpdateLoginProfile",
    ] {
        assert!(denied.contains(part), "{part:?} not in {denied}");
    }
    // A key or profile that is no longer there needs nothing done: skipped, saying why.
    for (outcome, operation) in [
        (&outcomes[1], "iam:DeleteAccessKey"),
        (&outcomes[2], "iam:UpdateLoginProfile"),
    ] {
        let reason = reason_of(outcome);
        // The whole sentence, once: no stray spaces from a broken line continuation.
        let expected = format!(
            "already gone, changed underneath since the plan (by another apply or a person, or \
             by this call when its first answer was lost and the SDK sent it again); nothing is \
             left to do (account {TARGET}: {operation}: NoSuchEntity: "
        );
        assert!(
            reason.starts_with(&expected) && reason.ends_with(')'),
            "{reason}"
        );
    }
    assert_eq!(statuses(&outcomes[3..]), [&OutcomeStatus::Done; 2]);
    // Outcomes come back in plan order.
    let addresses: Vec<String> = outcomes.iter().map(|o| o.address.to_string()).collect();
    assert_eq!(addresses[2], "user.ghost.login_profile");
    assert!(login_profile_of(&iam, "carol").await.is_none());
    assert!(key_statuses(&iam, "carol").await.is_empty());
    assert!(
        !login_profile_of(&iam, "dave")
            .await
            .expect("dave keeps his profile")
            .password_reset_required
    );
}

#[tokio::test]
async fn the_callers_key_login_profile_and_access_are_never_touched() {
    let account = fresh_account().await;
    let iam = account.iam().await;
    let (clients, calls) = clients(&account);
    let keys = seed_user(
        &iam,
        "ci",
        SeedUser {
            console: true,
            active_keys: 1,
            ..Default::default()
        },
    )
    .await;
    let key = &keys.active[0];
    let caller = Caller {
        arn: format!("arn:aws:iam::{}:user/ci", account.id),
        user_name: Some("ci".into()),
        access_key_id: Some(key.clone()),
    };

    let outcomes = apply::apply_account(
        &clients,
        &plan(
            &account,
            vec![
                change(
                    "user.ci.login_profile",
                    Action::Delete,
                    Rule::ConsoleRequireMfa,
                    profile_json(),
                    Value::Null,
                ),
                change(
                    &format!("user.ci.access_key.{key}"),
                    Action::Delete,
                    Rule::KeysMaxAge,
                    key_json(key, None),
                    Value::Null,
                ),
                change(
                    &format!("user.ci.policy.{DENY_WITHOUT_MFA_POLICY}"),
                    Action::Attach,
                    Rule::ConsoleRequireMfa,
                    Value::Null,
                    json!({"attached": true}),
                ),
            ],
        ),
        &ApplyOptions {
            caller: Some(caller.clone()),
            ..options()
        },
    )
    .await;
    assert!(reason_of(&outcomes[0]).contains("signed in as this user"));
    assert!(reason_of(&outcomes[1]).contains("signed with this access key"));
    assert!(reason_of(&outcomes[2]).contains("lock it out"));

    // Deactivation is guarded the same way.
    let deactivate = apply::apply_account(
        &clients,
        &plan(
            &account,
            vec![change(
                &format!("user.ci.access_key.{key}"),
                Action::Deactivate,
                Rule::KeysMaxUnused,
                key_json(key, None),
                json!({"status": "Inactive"}),
            )],
        ),
        &ApplyOptions {
            caller: Some(caller),
            ..options()
        },
    )
    .await;
    assert!(reason_of(&deactivate[0]).contains("signed with this access key"));

    assert!(login_profile_of(&iam, "ci").await.is_some());
    assert_eq!(
        key_statuses(&iam, "ci").await,
        [(key.clone(), StatusType::Active)]
    );
    assert!(attached(&iam, "ci").await.is_empty());
    let made: Vec<String> = calls.by_operation().into_keys().collect();
    assert!(made.is_empty(), "no call at all was needed: {made:?}");
}

#[tokio::test]
async fn keys_used_since_the_plan_are_left_alone() {
    let account = fresh_account().await;
    let iam = account.iam().await;
    let (clients, _) = clients(&account);
    let unused = seed_user(
        &iam,
        "svc",
        SeedUser {
            active_keys: 1,
            ..Default::default()
        },
    )
    .await
    .active[0]
        .clone();
    // A second key for svc, used after the plan was made (any signed request records use).
    let svc = account.as_user("svc").await;
    let used = svc.access_key_id().to_owned();
    svc.sts()
        .await
        .get_caller_identity()
        .send()
        .await
        .expect("GetCallerIdentity as svc");
    let last_used = iam
        .get_access_key_last_used()
        .access_key_id(&used)
        .send()
        .await
        .unwrap()
        .access_key_last_used
        .and_then(|u| u.last_used_date)
        .expect("moto records the use");
    let last_used = DateTime::<Utc>::from_timestamp(last_used.secs(), 0).unwrap();

    let deactivate = |key: &str, seen: Option<DateTime<Utc>>, rule: Rule| {
        change(
            &format!("user.svc.access_key.{key}"),
            Action::Deactivate,
            rule,
            key_json(key, seen),
            json!({"status": "Inactive"}),
        )
    };
    // The plan saw no use of the key: it has been used since.
    let never_seen = apply::apply_account(
        &clients,
        &plan(
            &account,
            vec![
                deactivate(&used, None, Rule::KeysMaxUnused),
                deactivate(&unused, None, Rule::KeysMaxUnused),
            ],
        ),
        &options(),
    )
    .await;
    assert_eq!(reason_of(&never_seen[0]), "used since the plan was made");
    assert_eq!(never_seen[1].status, OutcomeStatus::Done);

    // The plan saw an older use: used since.
    let older = last_used - chrono::Duration::days(100);
    let seen_older = apply::apply_account(
        &clients,
        &plan(
            &account,
            vec![deactivate(&used, Some(older), Rule::KeysMaxUnused)],
        ),
        &options(),
    )
    .await;
    assert_eq!(reason_of(&seen_older[0]), "used since the plan was made");
    assert_eq!(
        key_statuses(&iam, "svc")
            .await
            .iter()
            .find(|(id, _)| *id == used)
            .unwrap()
            .1,
        StatusType::Active
    );

    // The plan saw the very last use: nothing new, the key goes.
    let seen_last = apply::apply_account(
        &clients,
        &plan(
            &account,
            vec![deactivate(&used, Some(last_used), Rule::KeysMaxUnused)],
        ),
        &options(),
    )
    .await;
    assert_eq!(seen_last[0].status, OutcomeStatus::Done, "{seen_last:#?}");
    assert!(
        key_statuses(&iam, "svc")
            .await
            .iter()
            .all(|(_, status)| *status == StatusType::Inactive)
    );
}

#[tokio::test]
async fn the_policy_change_runs_last_and_waits_for_failed_resets() {
    let account = fresh_account().await;
    let iam = account.iam().await;
    let (clients, _) = clients(&account);
    for user in ["alice", "bob", "dave"] {
        seed_user(
            &iam,
            user,
            SeedUser {
                console: true,
                ..Default::default()
            },
        )
        .await;
    }
    let weak = PasswordPolicy {
        minimum_length: 8,
        ..PasswordPolicy::iam_default()
    };
    let strong = strict_policy(14);
    let apply_weak = apply::apply_account(
        &clients,
        &plan(
            &account,
            vec![change(
                "password_policy",
                Action::Create,
                Rule::PasswordPolicy,
                Value::Null,
                policy_json(&weak),
            )],
        ),
        &options(),
    )
    .await;
    assert_eq!(statuses(&apply_weak), [&OutcomeStatus::Done]);

    let reset = |user: &str| {
        change(
            &format!("user.{user}.login_profile"),
            Action::ResetPassword,
            Rule::ConsoleResetOnTightening,
            json!({"password_reset_required": false}),
            json!({"password_reset_required": true}),
        )
    };
    let tighten = || {
        change(
            "password_policy",
            Action::Update,
            Rule::PasswordPolicy,
            policy_json(&weak),
            policy_json(&strong),
        )
    };

    // The policy change comes first in the plan but runs last; `dave` cannot be reset (as for
    // a missing permission).
    let (denying, _proxy) =
        clients_denied(&account, &[&["Action=UpdateLoginProfile", "UserName=dave"]]);
    let outcomes = apply::apply_account(
        &denying,
        &plan(
            &account,
            vec![tighten(), reset("alice"), reset("dave"), reset("bob")],
        ),
        &options(),
    )
    .await;
    assert_eq!(
        reason_of(&outcomes[0]),
        "1 password reset failed; the policy change waits so the next apply retries them"
    );
    assert!(error_of(&outcomes[2]).contains("iam:UpdateLoginProfile"));
    assert_eq!(
        statuses(&[outcomes[1].clone(), outcomes[3].clone()]),
        [&OutcomeStatus::Done; 2]
    );
    assert_eq!(
        live_policy(&iam).await.unwrap().minimum_password_length,
        Some(8),
        "policy left as it was"
    );

    // The next apply, allowed to reset dave, converges.
    let outcomes = apply::apply_account(
        &clients,
        &plan(&account, vec![tighten(), reset("dave")]),
        &options(),
    )
    .await;
    assert_eq!(
        statuses(&outcomes),
        [&OutcomeStatus::Done; 2],
        "{outcomes:#?}"
    );
    assert_eq!(
        live_policy(&iam).await.unwrap().minimum_password_length,
        Some(14)
    );
}

#[tokio::test]
async fn the_deny_policy_is_created_once_for_many_attaches_and_detached() {
    let account = fresh_account().await;
    let iam = account.iam().await;
    let (clients, calls) = clients(&account);
    let users = ["u1", "u2", "u3", "u4", "u5", "u6"];
    for user in users {
        seed_user(
            &iam,
            user,
            SeedUser {
                console: true,
                ..Default::default()
            },
        )
        .await;
    }
    let attach = |user: &str| {
        change(
            &format!("user.{user}.policy.{DENY_WITHOUT_MFA_POLICY}"),
            Action::Attach,
            Rule::ConsoleRequireMfa,
            Value::Null,
            json!({"attached": true}),
        )
    };

    let outcomes = apply::apply_account(
        &clients,
        &plan(&account, users.iter().map(|u| attach(u)).collect()),
        &ApplyOptions {
            concurrency: 8,
            ..options()
        },
    )
    .await;
    assert_eq!(
        statuses(&outcomes),
        [&OutcomeStatus::Done; 6],
        "{outcomes:#?}"
    );
    let counts = calls.by_operation();
    assert_eq!(counts.get("IAM.GetPolicy"), Some(&1), "{counts:?}");
    assert_eq!(counts.get("IAM.CreatePolicy"), Some(&1), "{counts:?}");
    assert_eq!(counts.get("IAM.AttachUserPolicy"), Some(&6), "{counts:?}");
    for user in users {
        assert_eq!(
            attached(&iam, user).await,
            [DENY_WITHOUT_MFA_POLICY],
            "{user}"
        );
    }

    let local = iam
        .list_policies()
        .scope(PolicyScopeType::Local)
        .send()
        .await
        .unwrap()
        .policies
        .unwrap_or_default();
    let ours: Vec<_> = local
        .iter()
        .filter(|p| p.policy_name() == Some(DENY_WITHOUT_MFA_POLICY))
        .collect();
    assert_eq!(ours.len(), 1);
    let arn = ours[0].arn().unwrap();
    assert_eq!(
        arn,
        format!(
            "arn:aws:iam::{}:policy/{DENY_WITHOUT_MFA_POLICY}",
            account.id
        )
    );
    let version = ours[0].default_version_id().unwrap();
    let document = iam
        .get_policy_version()
        .policy_arn(arn)
        .version_id(version)
        .send()
        .await
        .unwrap();
    let document = document.policy_version.and_then(|v| v.document).unwrap();
    // IAM returns the document URL-encoded; moto returns it as stored. Either way it holds:
    let decoded = document.replace("%3A", ":").replace("%22", "\"");
    assert!(
        decoded.contains("aws:MultiFactorAuthPresent") && decoded.contains("NotAction"),
        "{document}"
    );

    // The policy exists now: a later attach only looks it up. Detach two users.
    let u7 = "u7";
    seed_user(
        &iam,
        u7,
        SeedUser {
            console: true,
            ..Default::default()
        },
    )
    .await;
    let detach = |user: &str| {
        change(
            &format!("user.{user}.policy.{DENY_WITHOUT_MFA_POLICY}"),
            Action::Detach,
            Rule::ConsoleRequireMfa,
            json!({"attached": true}),
            Value::Null,
        )
    };
    let outcomes = apply::apply_account(
        &clients,
        &plan(&account, vec![attach(u7), detach("u1"), detach("u2")]),
        &options(),
    )
    .await;
    assert_eq!(
        statuses(&outcomes),
        [&OutcomeStatus::Done; 3],
        "{outcomes:#?}"
    );
    assert_eq!(calls.by_operation().get("IAM.CreatePolicy"), Some(&1));
    assert_eq!(attached(&iam, u7).await, [DENY_WITHOUT_MFA_POLICY]);
    assert!(attached(&iam, "u1").await.is_empty() && attached(&iam, "u2").await.is_empty());
}

#[tokio::test]
async fn the_audit_log_records_every_change_and_never_the_password() {
    let account = fresh_account().await;
    let iam = account.iam().await;
    let (clients, _) = clients(&account);
    seed_user(&iam, "dave", SeedUser::default()).await;
    let keys = seed_user(
        &iam,
        "erin",
        SeedUser {
            active_keys: 1,
            ..Default::default()
        },
    )
    .await;
    let key = &keys.active[0];
    let dir = tempfile::tempdir().unwrap();
    let secrets = dir.path().join("secrets");
    let log_path = dir.path().join("audit.jsonl");
    let log = AuditLog::open(&log_path).unwrap();

    let the_plan = plan(
        &account,
        vec![
            change(
                "user.dave.login_profile",
                Action::Create,
                Rule::UserConsole,
                Value::Null,
                json!({}),
            ),
            change(
                &format!("user.erin.access_key.{key}"),
                Action::Deactivate,
                Rule::KeysMaxAge,
                key_json(key, None),
                json!({}),
            ),
            change(
                "user.erin.access_key.AKIADOESNOTEXIST0002",
                Action::Delete,
                Rule::KeysDeleteInactive,
                key_json("AKIADOESNOTEXIST0002", None),
                Value::Null,
            ),
            change(
                "user.nobody.login_profile",
                Action::Create,
                Rule::UserConsole,
                Value::Null,
                json!({}),
            ),
        ],
    );
    let outcomes = apply::apply_account_audited(
        &clients,
        &the_plan,
        &ApplyOptions {
            secrets_dir: Some(secrets.clone()),
            ..options()
        },
        Some(&log),
    )
    .await;
    assert!(
        outcomes[0].status.is_done()
            && outcomes[1].status.is_done()
            && matches!(outcomes[2].status, OutcomeStatus::Skipped { .. })
            && outcomes[3].status.is_failed(),
        "{outcomes:#?}"
    );

    let text = std::fs::read_to_string(&log_path).unwrap();
    let password = read_password(&secrets.join("dave.password"));
    assert!(
        !text.contains(&password),
        "the audit log holds the password"
    );
    let records: Vec<Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).expect("a JSON line"))
        .collect();
    assert_eq!(records.len(), 4);
    for record in &records {
        assert_eq!(record["account"], TARGET);
        assert_eq!(record["account_id"], account.id.as_str());
        assert!(
            record["time"]
                .as_str()
                .unwrap()
                .parse::<DateTime<Utc>>()
                .is_ok(),
            "{record}"
        );
    }
    let record = |address: &str| {
        records
            .iter()
            .find(|r| r["address"] == address)
            .expect(address)
    };
    let created = record("user.dave.login_profile");
    assert_eq!(
        (&created["action"], &created["rule"], &created["status"]),
        (&json!("create"), &json!("user.console"), &json!("done"))
    );
    let gone = record("user.erin.access_key.AKIADOESNOTEXIST0002");
    assert_eq!(gone["status"], "skipped");
    let reason = gone["reason"].as_str().unwrap();
    assert!(
        reason.starts_with("already gone") && reason.contains("iam:DeleteAccessKey"),
        "{reason}"
    );
    let failed = record("user.nobody.login_profile");
    assert_eq!(failed["status"], "failed");
    let error = failed["error"].as_str().unwrap();
    assert!(error.contains("iam:CreateLoginProfile"), "{error}");
    let deactivated = record(&format!("user.erin.access_key.{key}"));
    assert_eq!(
        (&deactivated["action"], &deactivated["status"]),
        (&json!("deactivate"), &json!("done"))
    );

    // Nor do the outcomes hold it.
    assert!(
        !serde_json::to_string(&outcomes)
            .unwrap()
            .contains(&password)
    );
}

fn read_password(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap().trim_end().to_owned()
}
