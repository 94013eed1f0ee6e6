//! `iamctl plan` and `iamctl apply` end to end against moto's IAM server: seed an account,
//! run the binary, check live state through the SDK afterwards.

use crate::support;

use std::collections::BTreeSet;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;

use support::cli::{api_calls, desired, pairs, plan_changes, run};
use support::live_state::{attached, key_statuses, login_profile};
use support::{Account, Backdate, SeedUser, fresh_account, seed_user};

/// The plan's changes as `(address, action)` pairs.
fn planned(account: &Account, config: &Path, extra: &[&str]) -> BTreeSet<(String, String)> {
    let mut args = vec!["plan", "--format", "json", "-c", config.to_str().unwrap()];
    args.extend_from_slice(extra);
    let out = run(account, &args);
    assert_eq!(out.code, 0, "plan failed: {}", out.stderr);
    plan_changes(&out.stdout)
}

const BASELINE: &str = r#"
[password_policy]
minimum_length = 14
require_uppercase = true
require_lowercase = true
require_numbers = true
require_symbols = true
allow_users_to_change = true
max_age_days = 90
reuse_prevention = 24

[users]
exempt = ["break-glass-*"]
exempt_tags = { "iam-exempt" = "true" }

[users.console]
require_mfa = true
without_mfa = "deny-until-mfa"
reset_on_policy_tightening = true

[users.access_keys]
max_age_days = 90
on_expired = "deactivate"
max_unused_days = 45
on_unused = "delete"
delete_inactive = true
delete_inactive_after_days = 14

[[user]]
name = "ci-deployer"
console = false

[[user]]
name = "newhire"
console = true
"#;

#[tokio::test(flavor = "multi_thread")]
async fn apply_carries_out_every_action_and_a_second_run_has_nothing_to_do() {
    let account = fresh_account().await;
    let iam = account.iam().await;
    iam.update_account_password_policy()
        .minimum_password_length(8)
        .send()
        .await
        .unwrap();

    let console = SeedUser {
        console: true,
        ..Default::default()
    };
    seed_user(&iam, "alice", console).await;
    seed_user(
        &iam,
        "bob",
        SeedUser {
            mfa: true,
            ..console
        },
    )
    .await;
    seed_user(&iam, "ci-deployer", console).await;
    seed_user(&iam, "newhire", SeedUser::default()).await;
    let old = seed_user(
        &iam,
        "svc-old",
        SeedUser {
            active_keys: 1,
            ..Default::default()
        },
    )
    .await
    .active[0]
        .clone();
    let idle = seed_user(
        &iam,
        "svc-idle",
        SeedUser {
            active_keys: 1,
            ..Default::default()
        },
    )
    .await
    .active[0]
        .clone();
    let inactive = seed_user(
        &iam,
        "svc-inactive",
        SeedUser {
            inactive_keys: 1,
            ..Default::default()
        },
    )
    .await
    .inactive[0]
        .clone();
    let glass = seed_user(
        &iam,
        "break-glass-1",
        SeedUser {
            active_keys: 1,
            ..console
        },
    )
    .await
    .active[0]
        .clone();
    seed_user(
        &iam,
        "contractor",
        SeedUser {
            tags: &[("iam-exempt", "true")],
            inactive_keys: 1,
            ..console
        },
    )
    .await;

    // Bob has MFA now, but still carries the deny policy from before.
    let policy = iam
        .create_policy()
        .policy_name("iamctl-deny-without-mfa")
        .policy_document(r#"{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Action":"*","Resource":"*"}]}"#)
        .send()
        .await
        .unwrap();
    let policy_arn = policy.policy.unwrap().arn.unwrap();
    iam.attach_user_policy()
        .user_name("bob")
        .policy_arn(&policy_arn)
        .send()
        .await
        .unwrap();

    let day = |days| Some(days);
    account.backdate(Backdate {
        user: "svc-old",
        access_key_id: Some(&old),
        created_days_ago: day(120.0),
        last_used_days_ago: day(1.0),
        ..Default::default()
    });
    account.backdate(Backdate {
        user: "svc-idle",
        access_key_id: Some(&idle),
        created_days_ago: day(100.0),
        last_used_days_ago: day(60.0),
        ..Default::default()
    });
    account.backdate(Backdate {
        user: "break-glass-1",
        access_key_id: Some(&glass),
        created_days_ago: day(400.0),
        ..Default::default()
    });

    let dir = tempfile::tempdir().unwrap();
    let config = desired(dir.path(), BASELINE);
    let expected = pairs(&[
        ("password_policy", "update"),
        ("user.alice.login_profile", "reset_password"),
        ("user.alice.policy.iamctl-deny-without-mfa", "attach"),
        ("user.bob.login_profile", "reset_password"),
        ("user.bob.policy.iamctl-deny-without-mfa", "detach"),
        ("user.ci-deployer.login_profile", "delete"),
        ("user.newhire.login_profile", "create"),
        ("user.newhire.policy.iamctl-deny-without-mfa", "attach"),
        // What the user chose is what happens: an expired key is deactivated (and deleted
        // after its grace, on a later run); an unused one is deleted, as `on_unused` says; a
        // key found inactive starts its grace: its first sighting is recorded.
        (&format!("user.svc-old.access_key.{old}"), "deactivate"),
        (&format!("user.svc-idle.access_key.{idle}"), "delete"),
        (&format!("user.svc-inactive.access_key.{inactive}"), "tag"),
    ]);
    assert_eq!(planned(&account, &config, &[]), expected);

    let secrets = dir.path().join("secrets");
    let audit = dir.path().join("audit.jsonl");
    let applied = run(
        &account,
        &[
            "apply",
            "--auto-approve",
            "-c",
            config.to_str().unwrap(),
            "--secrets-dir",
            secrets.to_str().unwrap(),
            "--audit-log",
            audit.to_str().unwrap(),
        ],
    );
    assert_eq!(
        applied.code, 0,
        "apply failed:\n{}\n{}",
        applied.stdout, applied.stderr
    );
    assert!(
        applied
            .stdout
            .contains("Apply: 11 done, 0 skipped, 0 failed."),
        "{}",
        applied.stdout
    );

    // Live state is what was asked.
    let live_policy = iam
        .get_account_password_policy()
        .send()
        .await
        .unwrap()
        .password_policy
        .unwrap();
    assert_eq!(live_policy.minimum_password_length, Some(14));
    assert!(live_policy.require_symbols && live_policy.require_uppercase_characters);
    assert_eq!(live_policy.max_password_age, Some(90));
    assert_eq!(live_policy.password_reuse_prevention, Some(24));
    assert_eq!(login_profile(&iam, "alice").await, Some(true));
    assert_eq!(attached(&iam, "alice").await, ["iamctl-deny-without-mfa"]);
    assert_eq!(login_profile(&iam, "bob").await, Some(true));
    assert!(attached(&iam, "bob").await.is_empty());
    assert_eq!(login_profile(&iam, "ci-deployer").await, None);
    assert_eq!(login_profile(&iam, "newhire").await, Some(true));
    assert_eq!(attached(&iam, "newhire").await, ["iamctl-deny-without-mfa"]);
    assert_eq!(
        key_statuses(&iam, "svc-old").await,
        [(old.clone(), "Inactive".to_owned())]
    );
    assert!(key_statuses(&iam, "svc-idle").await.is_empty());
    assert_eq!(
        key_statuses(&iam, "svc-inactive").await,
        [(inactive.clone(), "Inactive".to_owned())]
    );
    // Since when each is inactive lives in the account, as a tag of its user.
    for (user, key) in [("svc-old", &old), ("svc-inactive", &inactive)] {
        let tags = iam.list_user_tags().user_name(user).send().await.unwrap();
        let since = tags
            .tags()
            .iter()
            .find(|t| t.key() == format!("iamctl:inactive-since:{key}"))
            .unwrap_or_else(|| panic!("{user}: no record of inactivity in {tags:?}"));
        let since: chrono::DateTime<chrono::Utc> = since.value().parse().unwrap();
        assert!(
            (chrono::Utc::now() - since).num_minutes().abs() < 5,
            "{since}"
        );
    }
    // Exempt users untouched, by glob and by tag.
    assert_eq!(
        key_statuses(&iam, "break-glass-1").await,
        [(glass.clone(), "Active".to_owned())]
    );
    assert_eq!(login_profile(&iam, "break-glass-1").await, Some(false));
    assert_eq!(login_profile(&iam, "contractor").await, Some(false));
    assert_eq!(key_statuses(&iam, "contractor").await.len(), 1);

    // The generated password: only in its 0600 file, nowhere in output or the audit log.
    let secret_file = secrets.join("newhire.password");
    let mode = std::fs::metadata(&secret_file)
        .unwrap()
        .permissions()
        .mode()
        & 0o777;
    assert_eq!(mode, 0o600);
    let password = std::fs::read_to_string(&secret_file)
        .unwrap()
        .trim()
        .to_owned();
    assert!(password.len() >= 20, "generated password too short");
    let audit_text = std::fs::read_to_string(&audit).unwrap();
    assert_eq!(audit_text.lines().count(), 11);
    for line in audit_text.lines() {
        let record: serde_json::Value = serde_json::from_str(line).unwrap();
        assert_eq!(record["status"], "done", "{record}");
    }
    for (what, text) in [
        ("stdout", &applied.stdout),
        ("stderr", &applied.stderr),
        ("audit log", &audit_text),
    ] {
        assert!(!text.contains(&password), "the password appears in {what}");
    }

    // Converged: the plan is empty and a second apply does nothing.
    let again = run(
        &account,
        &[
            "plan",
            "--detailed-exitcode",
            "-c",
            config.to_str().unwrap(),
        ],
    );
    assert_eq!(
        again.code, 0,
        "plan after apply is not empty:\n{}",
        again.stdout
    );
    let second = run(
        &account,
        &["apply", "--auto-approve", "-c", config.to_str().unwrap()],
    );
    assert_eq!(second.code, 0, "{}", second.stderr);
    assert!(second.stdout.contains("No changes"), "{}", second.stdout);

    // The grace (14 days) counts from each key's record: the key apply deactivated and the
    // one found inactive are deleted by a plan after it, not by one a day before it ends.
    let deletions = |days: i64| {
        let as_of = (chrono::Utc::now() + chrono::Duration::days(days))
            .format("%Y-%m-%dT%H:%M:%SZ")
            .to_string();
        let out = run(
            &account,
            &[
                "plan",
                "--format",
                "json",
                "--as-of",
                &as_of,
                "-c",
                config.to_str().unwrap(),
            ],
        );
        assert_eq!(out.code, 0, "{}", out.stderr);
        plan_changes(&out.stdout)
            .into_iter()
            .filter(|(address, action)| address.contains(".access_key.") && action == "delete")
            .map(|(address, _)| address)
            .collect::<Vec<String>>()
    };
    assert!(deletions(13).is_empty(), "{:?}", deletions(13));
    assert_eq!(
        deletions(15),
        [
            format!("user.svc-inactive.access_key.{inactive}"),
            format!("user.svc-old.access_key.{old}"),
        ]
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn the_callers_own_key_and_login_profile_are_never_touched() {
    let account = fresh_account().await;
    let iam = account.iam().await;
    seed_user(
        &iam,
        "runner",
        SeedUser {
            console: true,
            ..Default::default()
        },
    )
    .await;
    seed_user(
        &iam,
        "dave",
        SeedUser {
            console: true,
            ..Default::default()
        },
    )
    .await;
    let hank_key = seed_user(
        &iam,
        "hank",
        SeedUser {
            active_keys: 1,
            ..Default::default()
        },
    )
    .await
    .active[0]
        .clone();
    account.backdate(Backdate {
        user: "hank",
        access_key_id: Some(&hank_key),
        created_days_ago: Some(100.0),
        ..Default::default()
    });
    let as_runner = account.as_user("runner").await;
    let runner_key = as_runner.access_key_id().to_owned();
    account.backdate(Backdate {
        user: "runner",
        access_key_id: Some(&runner_key),
        created_days_ago: Some(200.0),
        ..Default::default()
    });

    let dir = tempfile::tempdir().unwrap();
    let config = desired(
        dir.path(),
        "[users.console]\nrequire_mfa = true\nwithout_mfa = \"disable-console\"\n\n\
         [users.access_keys]\nmax_age_days = 90\non_expired = \"deactivate\"\n",
    );
    assert_eq!(
        planned(&as_runner, &config, &[]),
        pairs(&[
            ("user.dave.login_profile", "delete"),
            (&format!("user.hank.access_key.{hank_key}"), "deactivate"),
        ])
    );
    let plan = run(&as_runner, &["plan", "-c", config.to_str().unwrap()]);
    assert!(
        plan.stdout.contains("iamctl is signed with this key"),
        "{}",
        plan.stdout
    );
    assert!(
        plan.stdout.contains("iamctl is signed in as this user"),
        "{}",
        plan.stdout
    );

    let applied = run(
        &as_runner,
        &["apply", "--auto-approve", "-c", config.to_str().unwrap()],
    );
    assert_eq!(applied.code, 0, "{}\n{}", applied.stdout, applied.stderr);
    assert_eq!(login_profile(&iam, "dave").await, None);
    assert_eq!(
        key_statuses(&iam, "hank").await,
        [(hank_key, "Inactive".to_owned())]
    );
    assert_eq!(login_profile(&iam, "runner").await, Some(false));
    assert_eq!(
        key_statuses(&iam, "runner").await,
        [(runner_key, "Active".to_owned())]
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_stale_plan_is_refused_and_changes_nothing() {
    let account = fresh_account().await;
    let iam = account.iam().await;
    iam.update_account_password_policy()
        .minimum_password_length(8)
        .send()
        .await
        .unwrap();
    seed_user(
        &iam,
        "erin",
        SeedUser {
            console: true,
            ..Default::default()
        },
    )
    .await;
    let dir = tempfile::tempdir().unwrap();
    let config = desired(
        dir.path(),
        "[password_policy]\nminimum_length = 14\n\n[[user]]\nname = \"erin\"\nconsole = false\n",
    );
    let plan_file = dir.path().join("plan.json");
    let planned = run(
        &account,
        &[
            "plan",
            "-c",
            config.to_str().unwrap(),
            "-o",
            plan_file.to_str().unwrap(),
        ],
    );
    assert_eq!(planned.code, 0, "{}", planned.stderr);

    // Someone changes the policy between plan and apply.
    iam.update_account_password_policy()
        .minimum_password_length(10)
        .send()
        .await
        .unwrap();
    let refused = run(
        &account,
        &[
            "apply",
            plan_file.to_str().unwrap(),
            "-c",
            config.to_str().unwrap(),
        ],
    );
    assert_eq!(refused.code, 1);
    assert!(
        refused.stderr.contains("plan is stale"),
        "{}",
        refused.stderr
    );
    let policy = iam
        .get_account_password_policy()
        .send()
        .await
        .unwrap()
        .password_policy
        .unwrap();
    assert_eq!(
        policy.minimum_password_length,
        Some(10),
        "a refused apply changed the policy"
    );
    assert_eq!(
        login_profile(&iam, "erin").await,
        Some(false),
        "a refused apply deleted the profile"
    );

    // A fresh saved plan is applied without a prompt, exactly.
    let replanned = run(
        &account,
        &[
            "plan",
            "-c",
            config.to_str().unwrap(),
            "-o",
            plan_file.to_str().unwrap(),
        ],
    );
    assert_eq!(replanned.code, 0);
    let applied = run(
        &account,
        &[
            "apply",
            plan_file.to_str().unwrap(),
            "-c",
            config.to_str().unwrap(),
        ],
    );
    assert_eq!(applied.code, 0, "{}", applied.stderr);
    assert_eq!(login_profile(&iam, "erin").await, None);
}

/// The reads of a run: its calls less the ones that change IAM.
fn reads(stderr: &str) -> std::collections::BTreeMap<String, u64> {
    const WRITES: [&str; 9] = [
        "Create", "Delete", "Update", "Attach", "Detach", "Put", "Tag", "Untag", "Enable",
    ];
    api_calls(stderr)
        .into_iter()
        .filter(|(op, _)| {
            let name = op.rsplit('.').next().unwrap_or_default();
            // GenerateCredentialReport starts a read; it changes nothing of IAM's state.
            !WRITES.iter().any(|w| name.starts_with(w))
        })
        .collect()
}

/// Apply reads live IAM once, as plan does: `apply FILE` reads exactly what the plan it checks
/// for staleness reads, and `apply` without a file reads what `plan` reads, not twice that.
#[tokio::test(flavor = "multi_thread")]
async fn apply_reads_what_one_plan_reads() {
    let account = fresh_account().await;
    let iam = account.iam().await;
    for (name, spec) in [
        (
            "con",
            SeedUser {
                console: true,
                ..Default::default()
            },
        ),
        (
            "key",
            SeedUser {
                active_keys: 1,
                inactive_keys: 1,
                ..Default::default()
            },
        ),
        (
            "ok",
            SeedUser {
                active_keys: 1,
                ..Default::default()
            },
        ),
    ] {
        seed_user(&iam, name, spec).await;
    }
    let dir = tempfile::tempdir().unwrap();
    let config = desired(
        dir.path(),
        "[password_policy]\nminimum_length = 14\n\n[users.console]\nreset_on_policy_tightening = true\n\n\
         [users.access_keys]\ndelete_inactive = true\n",
    );
    let config = config.to_str().unwrap();
    let plan_file = dir.path().join("plan.json");
    let plan_file = plan_file.to_str().unwrap();
    let secrets = dir.path().join("secrets");
    let secrets = secrets.to_str().unwrap();

    let planned = run(&account, &["plan", "-v", "-c", config, "-o", plan_file]);
    assert_eq!(planned.code, 0, "{}", planned.stderr);
    let plan_reads = reads(&planned.stderr);
    assert!(
        plan_reads.contains_key("IAM.ListAccessKeys"),
        "{plan_reads:?}"
    );
    let saved = run(
        &account,
        &[
            "apply",
            plan_file,
            "-v",
            "-c",
            config,
            "--secrets-dir",
            secrets,
        ],
    );
    assert_eq!(saved.code, 0, "{}", saved.stderr);
    assert_eq!(reads(&saved.stderr), plan_reads, "{}", saved.stderr);
    assert_eq!(
        api_calls(&saved.stderr).get("IAM.DeleteAccessKey"),
        Some(&1),
        "{}",
        saved.stderr
    );

    // New drift: the same kinds of change again, applied without a saved plan.
    for (name, spec) in [
        (
            "con2",
            SeedUser {
                console: true,
                ..Default::default()
            },
        ),
        (
            "key2",
            SeedUser {
                inactive_keys: 1,
                ..Default::default()
            },
        ),
    ] {
        seed_user(&iam, name, spec).await;
    }
    let fresh_plan = run(&account, &["plan", "-v", "-c", config]);
    assert_eq!(fresh_plan.code, 0, "{}", fresh_plan.stderr);
    let fresh = run(
        &account,
        &[
            "apply",
            "--auto-approve",
            "-v",
            "-c",
            config,
            "--secrets-dir",
            secrets,
        ],
    );
    assert_eq!(fresh.code, 0, "{}", fresh.stderr);
    assert_eq!(
        reads(&fresh.stderr),
        reads(&fresh_plan.stderr),
        "{}",
        fresh.stderr
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn apply_refuses_without_approval_or_over_max_changes() {
    let account = fresh_account().await;
    let iam = account.iam().await;
    seed_user(
        &iam,
        "frank",
        SeedUser {
            console: true,
            ..Default::default()
        },
    )
    .await;
    let dir = tempfile::tempdir().unwrap();
    let config = desired(
        dir.path(),
        "[password_policy]\nminimum_length = 12\n\n[[user]]\nname = \"frank\"\nconsole = false\n",
    );

    let unapproved = run(&account, &["apply", "-c", config.to_str().unwrap()]);
    assert_eq!(unapproved.code, 1);
    assert!(
        unapproved.stderr.contains("stdin is not a terminal"),
        "{}",
        unapproved.stderr
    );

    let over = run(
        &account,
        &[
            "apply",
            "--auto-approve",
            "--max-changes",
            "1",
            "-c",
            config.to_str().unwrap(),
        ],
    );
    assert_eq!(over.code, 1);
    assert!(
        over.stderr.contains("over --max-changes 1"),
        "{}",
        over.stderr
    );

    let no_policy = iam.get_account_password_policy().send().await;
    assert!(
        no_policy.is_err(),
        "a refused apply created the password policy"
    );
    assert_eq!(login_profile(&iam, "frank").await, Some(false));
}

#[tokio::test(flavor = "multi_thread")]
async fn as_of_forecasts_key_expiry() {
    let account = fresh_account().await;
    let iam = account.iam().await;
    let key = seed_user(
        &iam,
        "gina",
        SeedUser {
            active_keys: 1,
            ..Default::default()
        },
    )
    .await
    .active[0]
        .clone();
    account.backdate(Backdate {
        user: "gina",
        access_key_id: Some(&key),
        created_days_ago: Some(80.0),
        last_used_days_ago: Some(1.0),
        ..Default::default()
    });
    let dir = tempfile::tempdir().unwrap();
    let config = desired(
        dir.path(),
        "[users.access_keys]\nmax_age_days = 90\non_expired = \"deactivate\"\n",
    );
    assert!(planned(&account, &config, &[]).is_empty());
    let in_a_month = (chrono::Utc::now() + chrono::Duration::days(30))
        .format("%Y-%m-%d")
        .to_string();
    assert_eq!(
        planned(&account, &config, &["--as-of", &in_a_month]),
        pairs(&[(&format!("user.gina.access_key.{key}"), "deactivate")])
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn password_policy_is_created_and_deleted() {
    let account = fresh_account().await;
    let iam = account.iam().await;
    let dir = tempfile::tempdir().unwrap();
    let config = desired(
        dir.path(),
        "[password_policy]\nminimum_length = 16\nrequire_numbers = true\n",
    );
    assert_eq!(
        planned(&account, &config, &[]),
        pairs(&[("password_policy", "create")])
    );
    assert_eq!(
        run(
            &account,
            &["apply", "--auto-approve", "-c", config.to_str().unwrap()]
        )
        .code,
        0
    );
    let policy = iam
        .get_account_password_policy()
        .send()
        .await
        .unwrap()
        .password_policy
        .unwrap();
    assert_eq!(policy.minimum_password_length, Some(16));
    assert!(policy.require_numbers && !policy.require_symbols);

    let absent = desired(dir.path(), "[password_policy]\nensure = \"absent\"\n");
    assert_eq!(
        planned(&account, &absent, &[]),
        pairs(&[("password_policy", "delete")])
    );
    assert_eq!(
        run(
            &account,
            &["apply", "--auto-approve", "-c", absent.to_str().unwrap()]
        )
        .code,
        0
    );
    assert!(
        iam.get_account_password_policy().send().await.is_err(),
        "the policy is still there"
    );
    assert!(planned(&account, &absent, &[]).is_empty());
}
