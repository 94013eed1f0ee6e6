//! `--security-hub` on moto: after a plan the account's Security Hub holds one iamctl finding
//! per plan item, a second run updates the same ids, an item that was fixed (by a person, or
//! by `apply`) is resolved and archived, findings of other products are left alone, items go
//! in batches of 100, and a Security Hub that cannot be reached is a warning, not a failure.
//! moto's GetFindings ignores filters (SPEC's emulator notes): the findings of another tool
//! imported here show that iamctl filters them out itself.

use crate::support;

use std::collections::BTreeMap;

use aws_sdk_securityhub::types::{
    AwsSecurityFinding, ComplianceStatus, RecordState, Resource, SeverityLabel, WorkflowStatus,
};
use support::cli::{desired, run};
use support::{Account, SeedUser, enable_virtual_mfa, fresh_account, seed_user};

const RULES: &str = "[password_policy]\nminimum_length = 14\n\n\
                     [users.console]\nrequire_mfa = true\n";

fn security_hub(account: &Account) -> aws_sdk_securityhub::Client {
    aws_sdk_securityhub::Client::new(&account.sdk_config())
}

/// Every finding in the account's Security Hub, by id.
async fn findings(account: &Account) -> BTreeMap<String, AwsSecurityFinding> {
    let mut out = BTreeMap::new();
    let mut pages = security_hub(account).get_findings().into_paginator().send();
    while let Some(page) = pages.try_next().await.unwrap() {
        for finding in page.findings() {
            out.insert(finding.id().unwrap().to_owned(), finding.clone());
        }
    }
    out
}

fn record_state(finding: &AwsSecurityFinding) -> &str {
    finding.record_state().unwrap().as_str()
}

/// A finding of another tool in the account's default product, which iamctl must leave be.
async fn import_foreign_finding(account: &Account) {
    let product = format!(
        "arn:aws:securityhub:us-east-1:{0}:product/{0}/default",
        account.id
    );
    security_hub(account)
        .batch_import_findings()
        .findings(
            AwsSecurityFinding::builder()
                .schema_version("2018-10-08")
                .id("other-tool/finding-1")
                .product_arn(product)
                .generator_id("other-tool/check")
                .aws_account_id(&account.id)
                .types("Software and Configuration Checks")
                .created_at("2026-01-01T00:00:00Z")
                .updated_at("2026-01-01T00:00:00Z")
                .title("not iamctl's")
                .description("not iamctl's")
                .resources(Resource::builder().r#type("Other").id("something").build())
                .record_state(RecordState::Active)
                .build(),
        )
        .send()
        .await
        .unwrap();
}

#[tokio::test(flavor = "multi_thread")]
async fn findings_follow_the_plan_from_run_to_run_and_fixed_items_are_resolved() {
    let account = fresh_account().await;
    let iam = account.iam().await;
    let console = SeedUser {
        console: true,
        ..Default::default()
    };
    seed_user(&iam, "alice", console).await;
    import_foreign_finding(&account).await;
    let dir = tempfile::tempdir().unwrap();
    let config = desired(dir.path(), RULES);
    let config = config.to_str().unwrap();
    let policy_id = format!("iamctl/{}/password_policy/password_policy", account.id);
    let alice_id = format!("iamctl/{}/user.alice/users.console.require_mfa", account.id);

    // A plan: one finding per item (the policy to create, alice without MFA).
    let out = run(&account, &["plan", "-c", config, "--security-hub"]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert!(
        out.stderr
            .contains("Security Hub: 2 findings imported, 0 resolved\n"),
        "{}",
        out.stderr
    );
    let first = findings(&account).await;
    let ids: Vec<&str> = first.keys().map(String::as_str).collect();
    assert_eq!(
        ids,
        [
            policy_id.as_str(),
            alice_id.as_str(),
            "other-tool/finding-1"
        ]
    );
    let alice = &first[&alice_id];
    assert_eq!(
        alice.product_arn(),
        Some(
            format!(
                "arn:aws:securityhub:us-east-1:{0}:product/{0}/default",
                account.id
            )
            .as_str()
        )
    );
    assert_eq!(
        alice.generator_id(),
        Some("iamctl/users.console.require_mfa")
    );
    assert_eq!(alice.aws_account_id(), Some(account.id.as_str()));
    assert_eq!(
        alice.types(),
        [
            "Software and Configuration Checks/Industry and Regulatory Standards/CIS AWS Foundations Benchmark"
        ]
    );
    assert_eq!(
        alice.severity().unwrap().label(),
        Some(&SeverityLabel::Medium)
    );
    let compliance = alice.compliance().unwrap();
    assert_eq!(compliance.status(), Some(&ComplianceStatus::Failed));
    assert_eq!(
        compliance.related_requirements(),
        ["CIS AWS Foundations Benchmark v3.0.0/1.10"]
    );
    let resource = &alice.resources()[0];
    assert_eq!(resource.r#type(), Some("AwsIamUser"));
    assert_eq!(
        resource.id(),
        Some(format!("arn:aws:iam::{}:user/alice", account.id).as_str())
    );
    assert_eq!(
        alice.workflow().unwrap().status(),
        Some(&WorkflowStatus::New)
    );
    assert_eq!(record_state(alice), "ACTIVE");
    assert_eq!(
        alice.title(),
        Some("Users with a console password must have MFA: user.alice")
    );
    let policy = &first[&policy_id];
    assert_eq!(policy.resources()[0].r#type(), Some("AwsAccount"));
    assert_eq!(
        policy.resources()[0].id(),
        Some(format!("AWS::::Account:{}", account.id).as_str())
    );

    // A second run updates the same findings: same ids, first reported at the same time.
    let out = run(&account, &["plan", "-c", config, "--security-hub"]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    let second = findings(&account).await;
    assert_eq!(
        second.keys().collect::<Vec<_>>(),
        first.keys().collect::<Vec<_>>()
    );
    assert_eq!(
        second[&alice_id].created_at(),
        first[&alice_id].created_at()
    );
    assert!(second[&alice_id].updated_at() >= first[&alice_id].updated_at());

    // Alice enrols MFA: her finding is resolved and archived; the policy's stands.
    enable_virtual_mfa(&iam, "alice").await;
    let out = run(&account, &["plan", "-c", config, "--security-hub"]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert!(
        out.stderr
            .contains("Security Hub: 1 finding imported, 1 resolved\n"),
        "{}",
        out.stderr
    );
    let third = findings(&account).await;
    assert_eq!(third.len(), 3);
    let alice = &third[&alice_id];
    assert_eq!(record_state(alice), "ARCHIVED");
    assert_eq!(
        alice.compliance().unwrap().status(),
        Some(&ComplianceStatus::Passed)
    );
    assert_eq!(
        alice.workflow().unwrap().status(),
        Some(&WorkflowStatus::Resolved)
    );
    assert_eq!(record_state(&third[&policy_id]), "ACTIVE");

    // apply creates the policy: its finding is resolved too. Archived findings are not
    // resolved twice.
    let out = run(
        &account,
        &["apply", "-c", config, "--auto-approve", "--security-hub"],
    );
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert!(
        out.stderr
            .contains("Security Hub: 0 findings imported, 1 resolved\n"),
        "{}",
        out.stderr
    );
    let fourth = findings(&account).await;
    assert_eq!(record_state(&fourth[&policy_id]), "ARCHIVED");
    assert_eq!(record_state(&fourth[&alice_id]), "ARCHIVED");
    // Another tool's finding was never touched.
    assert_eq!(record_state(&fourth["other-tool/finding-1"]), "ACTIVE");
    assert_eq!(
        fourth["other-tool/finding-1"].updated_at(),
        Some("2026-01-01T00:00:00Z")
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn more_than_a_hundred_items_are_imported_in_batches_of_a_hundred() {
    let account = fresh_account().await;
    let iam = account.iam().await;
    let console = SeedUser {
        console: true,
        ..Default::default()
    };
    for n in 0..105 {
        seed_user(&iam, &format!("user{n:03}"), console).await;
    }
    let dir = tempfile::tempdir().unwrap();
    let config = desired(dir.path(), "[users.console]\nrequire_mfa = true\n");
    account.requests(); // the seeding's own calls
    let out = run(
        &account,
        &["plan", "-c", config.to_str().unwrap(), "--security-hub"],
    );
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert!(
        out.stderr
            .contains("Security Hub: 105 findings imported, 0 resolved\n"),
        "{}",
        out.stderr
    );
    let used = account.requests();
    assert_eq!(
        used.get("securityhub:BatchImportFindings"),
        Some(&2),
        "{used:?}"
    );
    assert_eq!(used.get("securityhub:GetFindings"), Some(&1), "{used:?}");
    assert_eq!(findings(&account).await.len(), 105);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_security_hub_that_cannot_be_reached_is_a_warning() {
    let account = fresh_account().await;
    let dir = tempfile::tempdir().unwrap();
    let config = desired(dir.path(), RULES);
    // Security Hub's endpoint answers 404 to every request (a path moto does not serve).
    let out = support::cli::output(
        account
            .cmd()
            .env(
                "AWS_ENDPOINT_URL_SECURITYHUB",
                format!("{}/no-security-hub", support::endpoint()),
            )
            .args(["plan", "-c", config.to_str().unwrap(), "--security-hub"]),
    );
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert!(out.stdout.contains("password_policy"), "{}", out.stdout);
    let warning = out
        .stderr
        .lines()
        .find(|l| l.starts_with("warning: Security Hub: "))
        .unwrap_or_else(|| panic!("no warning: {}", out.stderr));
    eprintln!("WARNING TEXT: {warning}");
    assert!(warning.contains("securityhub:GetFindings"), "{warning}");
    assert!(
        out.stderr
            .contains("Security Hub: 0 findings imported, 0 resolved\n"),
        "{}",
        out.stderr
    );
}

#[test]
fn security_hub_with_a_snapshot_is_refused() {
    let out = support::cli::output(support::cli::offline_cmd().args([
        "plan",
        "--snapshot",
        "examples/snapshot.json",
        "--security-hub",
    ]));
    assert_eq!(out.code, 1);
    assert!(
        out.stderr.contains(
            "--security-hub with --snapshot: findings go to each live account's Security Hub; \
             plan them live"
        ),
        "{}",
        out.stderr
    );
}
