//! `iamctl import`, the adoption path: on a seeded account in moto (and offline on the example
//! snapshot), the imported desired state validates and `plan --detailed-exitcode` right after
//! exits 0 with nothing to change and nothing to report.

use crate::support;

use std::path::Path;

use support::cli::{Run, offline_cmd, output, run};
use support::{Backdate, SeedUser, fresh_account, seed_user};

/// The binary with no way to reach AWS.
fn offline(args: &[&str]) -> Run {
    output(offline_cmd().args(args))
}

/// The plan's changes and findings, from `plan --format json`.
fn plan_items(stdout: &str) -> (Vec<serde_json::Value>, Vec<serde_json::Value>) {
    let plan: serde_json::Value = serde_json::from_str(stdout).unwrap();
    let mut changes = Vec::new();
    let mut findings = Vec::new();
    for account in plan["accounts"].as_array().unwrap() {
        assert!(account["error"].is_null(), "{account}");
        changes.extend(account["changes"].as_array().unwrap().iter().cloned());
        findings.extend(account["findings"].as_array().unwrap().iter().cloned());
    }
    (changes, findings)
}

/// `plan --detailed-exitcode` against the imported file: exits 0, nothing to change or report.
fn assert_plan_is_empty(plan: Run, imported: &Path) {
    let text = std::fs::read_to_string(imported).unwrap();
    assert_eq!(
        plan.code, 0,
        "plan after import is not empty:\n{}\n{}\n--- imported:\n{text}",
        plan.stdout, plan.stderr
    );
    let (changes, findings) = plan_items(&plan.stdout);
    assert!(changes.is_empty(), "{changes:?}\n{text}");
    assert!(findings.is_empty(), "{findings:?}\n{text}");
}

#[tokio::test(flavor = "multi_thread")]
async fn import_then_plan_is_empty_on_a_seeded_account_with_every_kind_of_gap() {
    let account = fresh_account().await;
    let iam = account.iam().await;
    iam.update_account_password_policy()
        .minimum_password_length(10)
        .require_uppercase_characters(true)
        .max_password_age(90)
        .send()
        .await
        .unwrap();
    let console = SeedUser {
        console: true,
        ..Default::default()
    };
    seed_user(
        &iam,
        "alice",
        SeedUser {
            mfa: true,
            ..console
        },
    )
    .await;
    seed_user(&iam, "bob", console).await; // no MFA
    let old = seed_user(
        &iam,
        "svc-old",
        SeedUser {
            active_keys: 1,
            ..Default::default()
        },
    )
    .await
    .active
    .remove(0);
    seed_user(
        &iam,
        "svc-retired",
        SeedUser {
            inactive_keys: 1,
            ..Default::default()
        },
    )
    .await;
    seed_user(
        &iam,
        "svc-rotating",
        SeedUser {
            active_keys: 2,
            ..Default::default()
        },
    )
    .await;
    account.backdate(Backdate {
        user: "svc-old",
        access_key_id: Some(&old),
        created_days_ago: Some(100.0),
        last_used_days_ago: Some(50.0),
        ..Default::default()
    });
    account.backdate(Backdate {
        user: "bob",
        login_profile_created_days_ago: Some(70.0),
        password_last_used_days_ago: Some(40.0),
        ..Default::default()
    });

    let dir = tempfile::tempdir().unwrap();
    let imported = dir.path().join("desired/iam.toml");
    // No desired state at -c: the ambient credentials' account, target "default".
    let missing = dir.path().join("none");
    let out = run(
        &account,
        &[
            "import",
            "-c",
            missing.to_str().unwrap(),
            "-o",
            imported.to_str().unwrap(),
        ],
    );
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert!(out.stderr.contains("no desired state at"), "{}", out.stderr);
    let text = std::fs::read_to_string(&imported).unwrap();

    // The live policy, exactly; the rules the account meets; the rest commented with counts.
    for line in [
        "minimum_length = 10",
        "require_uppercase = true",
        "require_lowercase = false",
        "max_age_days = 90",
        "# reuse_prevention = 24",
        "# require_mfa = true",
        "max_age_days = 180",
        "max_unused_days = 90",
        "# max_active = 1",
        "# require_cloudtrail = true",
    ] {
        assert!(
            text.lines().any(|l| l.starts_with(line)),
            "no line starting {line:?}:\n{text}"
        );
    }
    assert!(
        text.contains("1 console user without MFA would be reported: bob"),
        "{text}"
    );
    assert!(text.contains("svc-rotating"), "{text}");
    assert!(text.contains(&account.id), "{text}");

    let validated = run(&account, &["validate", "-c", imported.to_str().unwrap()]);
    assert_eq!(validated.code, 0, "{}", validated.stderr);
    let plan = run(
        &account,
        &[
            "plan",
            "-c",
            imported.to_str().unwrap(),
            "--detailed-exitcode",
            "--format",
            "json",
        ],
    );
    assert_plan_is_empty(plan, &imported);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_tidy_account_imports_its_rules_and_a_named_target_keeps_its_account_entry() {
    let account = fresh_account().await;
    let iam = account.iam().await;
    seed_user(
        &iam,
        "alice",
        SeedUser {
            console: true,
            mfa: true,
            ..Default::default()
        },
    )
    .await;
    seed_user(
        &iam,
        "svc",
        SeedUser {
            active_keys: 1,
            ..Default::default()
        },
    )
    .await;
    let bucket = format!("trail-logs-{}", account.id);
    account.create_bucket(&bucket);
    let cloudtrail = account.cloudtrail().await;
    cloudtrail
        .create_trail()
        .name("org-trail")
        .s3_bucket_name(&bucket)
        .is_multi_region_trail(true)
        .send()
        .await
        .unwrap();
    cloudtrail
        .start_logging()
        .name("org-trail")
        .send()
        .await
        .unwrap();

    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("desired.toml");
    std::fs::write(
        &config,
        "[[account]]\nname = \"sandbox\"\n\n[[account]]\nname = \"other\"\n",
    )
    .unwrap();

    // Two targets: import needs -a, and says so.
    let ambiguous = run(&account, &["import", "-c", config.to_str().unwrap()]);
    assert_eq!(ambiguous.code, 1);
    assert!(
        ambiguous.stderr.contains("import describes one account")
            && ambiguous.stderr.contains("-a NAME"),
        "{}",
        ambiguous.stderr
    );

    let out = run(
        &account,
        &["import", "-c", config.to_str().unwrap(), "-a", "sandbox"],
    );
    assert_eq!(out.code, 0, "{}", out.stderr);
    let text = out.stdout;
    for line in [
        "# [password_policy]",
        "require_mfa = true",
        "max_age_days = 90",
        "max_unused_days = 45",
        "max_active = 1",
        "require_cloudtrail = true",
        "[[account]]",
        "name = \"sandbox\"",
    ] {
        assert!(
            text.lines().any(|l| l.starts_with(line)),
            "no line starting {line:?}:\n{text}"
        );
    }
    let imported = dir.path().join("imported.toml");
    std::fs::write(&imported, &text).unwrap();
    let plan = run(
        &account,
        &[
            "plan",
            "-c",
            imported.to_str().unwrap(),
            "--detailed-exitcode",
            "--format",
            "json",
        ],
    );
    assert_plan_is_empty(plan, &imported);
}

#[test]
fn import_from_the_example_snapshot_then_plan_is_empty_for_each_account() {
    let dir = tempfile::tempdir().unwrap();
    for name in ["prod", "staging"] {
        let imported = dir.path().join(format!("{name}.toml"));
        let out = offline(&[
            "import",
            "--snapshot",
            "examples/snapshot.json",
            "--as-of",
            "2026-11-01",
            "-a",
            name,
            "-o",
            imported.to_str().unwrap(),
        ]);
        assert_eq!(out.code, 0, "{}", out.stderr);
        let plan = offline(&[
            "plan",
            "-c",
            imported.to_str().unwrap(),
            "--snapshot",
            "examples/snapshot.json",
            "--as-of",
            "2026-11-01",
            "--detailed-exitcode",
            "--format",
            "json",
        ]);
        assert_plan_is_empty(plan, &imported);
    }
    // The snapshot has two accounts: without -a, import asks which.
    let out = offline(&["import", "--snapshot", "examples/snapshot.json"]);
    assert_eq!(out.code, 1);
    assert!(out.stderr.contains("prod, staging"), "{}", out.stderr);
}
