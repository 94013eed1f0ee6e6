//! The compliance rules end to end against moto (SPEC "Compliance coverage"): `[root]`,
//! `users.forbid_direct_policies`, `audit.forbid_full_admin_policies` and
//! `audit.require_support_role` each report on a seeded account and stay silent on a
//! compliant one, reading the account in bulk calls only. The root user's state and the
//! AWS-managed policies come from the launcher's test fixtures (tests/moto/launcher.py).

use crate::support;

use std::collections::BTreeSet;

use support::cli::{desired, run};
use support::{Account, fresh_account};

const EVERY_RULE: &str = r#"
[root]
forbid_access_keys = true
require_mfa = true
require_hardware_mfa = true
max_used_days = 30

[users]
forbid_direct_policies = true

[audit]
forbid_full_admin_policies = true
require_support_role = true
"#;

const EVERYTHING: &str =
    r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}"#;
const READ_S3: &str = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:Get*","Resource":"*"}]}"#;
const TRUST: &str = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"ec2.amazonaws.com"},"Action":"sts:AssumeRole"}]}"#;

/// The plan's findings as `(address, rule, message)`, and the run's stderr (`-v` call counts).
fn findings(account: &Account, extra: &[&str]) -> (BTreeSet<(String, String, String)>, String) {
    let dir = tempfile::tempdir().unwrap();
    let config = desired(dir.path(), EVERY_RULE);
    let mut args = vec![
        "plan",
        "--format",
        "json",
        "-v",
        "-c",
        config.to_str().unwrap(),
    ];
    args.extend_from_slice(extra);
    let out = run(account, &args);
    assert_eq!(out.code, 0, "plan failed: {}", out.stderr);
    let plan: serde_json::Value = serde_json::from_str(&out.stdout).unwrap();
    assert_eq!(plan["summary"]["changes"], 0, "these rules change nothing");
    let found = plan["accounts"][0]["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            (
                f["address"].as_str().unwrap().to_owned(),
                f["rule"].as_str().unwrap().to_owned(),
                f["message"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    (found, out.stderr)
}

fn item(address: &str, rule: &str, message: &str) -> (String, String, String) {
    (address.into(), rule.into(), message.into())
}

#[tokio::test(flavor = "multi_thread")]
async fn each_rule_reports_a_seeded_account() {
    let account = fresh_account().await;
    account.load_aws_managed_policies();
    let iam = account.iam().await;
    let admin_arn = "arn:aws:iam::aws:policy/AdministratorAccess";
    let local_all = iam
        .create_policy()
        .policy_name("everything")
        .policy_document(EVERYTHING)
        .send()
        .await
        .unwrap()
        .policy
        .unwrap()
        .arn
        .unwrap();
    for user in ["alice", "bob", "carol"] {
        iam.create_user().user_name(user).send().await.unwrap();
    }
    iam.attach_user_policy()
        .user_name("alice")
        .policy_arn(admin_arn)
        .send()
        .await
        .unwrap();
    iam.put_user_policy()
        .user_name("bob")
        .policy_name("s3-read")
        .policy_document(READ_S3)
        .send()
        .await
        .unwrap();
    iam.create_group().group_name("ops").send().await.unwrap();
    iam.attach_group_policy()
        .group_name("ops")
        .policy_arn(&local_all)
        .send()
        .await
        .unwrap();
    iam.add_user_to_group()
        .group_name("ops")
        .user_name("carol")
        .send()
        .await
        .unwrap();
    iam.create_role()
        .role_name("deployer")
        .assume_role_policy_document(TRUST)
        .send()
        .await
        .unwrap();
    iam.put_role_policy()
        .role_name("deployer")
        .policy_name("all-in")
        .policy_document(EVERYTHING)
        .send()
        .await
        .unwrap();
    account.set_root("virtual", true, Some(2));

    let (found, stderr) = findings(&account, &[]);
    let expected: BTreeSet<_> = [
        item(
            "user.alice",
            "users.forbid_direct_policies",
            "permissions granted to the user directly: 1 policy attached (AdministratorAccess); grant them through groups or roles",
        ),
        item(
            "user.alice",
            "audit.forbid_full_admin_policies",
            "policy AdministratorAccess allows \"*\" on \"*\" (full administrative access)",
        ),
        item(
            "user.bob",
            "users.forbid_direct_policies",
            "permissions granted to the user directly: 1 policy inline (s3-read); grant them through groups or roles",
        ),
        item(
            "root",
            "root.forbid_access_keys",
            "the root user has access keys: delete them",
        ),
        item(
            "root",
            "root.require_hardware_mfa",
            "the root user's MFA is a virtual device, not a hardware one",
        ),
        item(
            "account",
            "audit.require_support_role",
            "no role has the AWS-managed AWSSupportAccess policy: create one to manage incidents with AWS Support",
        ),
        item(
            "group.ops",
            "audit.forbid_full_admin_policies",
            "policy everything allows \"*\" on \"*\" (full administrative access)",
        ),
        item(
            "role.deployer",
            "audit.forbid_full_admin_policies",
            "policy all-in allows \"*\" on \"*\" (full administrative access)",
        ),
    ]
    .into_iter()
    .collect();
    // The root user's last use: two days ago, the date depends on today.
    let used: Vec<_> = found
        .iter()
        .filter(|(_, rule, _)| rule == "root.max_used_days")
        .collect();
    assert_eq!(used.len(), 1, "{found:?}");
    assert!(
        used[0]
            .2
            .starts_with("the root user was used 2 days ago, on ")
            && used[0].2.ends_with(" (not to be used within 30 days)"),
        "{}",
        used[0].2
    );
    let rest: BTreeSet<_> = found
        .iter()
        .filter(|(_, rule, _)| rule != "root.max_used_days")
        .cloned()
        .collect();
    assert_eq!(rest, expected);
    // Bulk reads only: one authorization-details page for users, groups, roles and the
    // customer-managed policies (not the ~1,600 AWS-managed ones), the account summary, the
    // virtual MFA devices, the credential report; nothing per user.
    for per_user in [
        "GetUser",
        "ListAccessKeys",
        "ListMFADevices",
        "GetLoginProfile",
        "GetPolicy",
    ] {
        assert!(!stderr.contains(per_user), "{per_user} called:\n{stderr}");
    }
    for bulk in [
        "GetAccountAuthorizationDetails",
        "GetAccountSummary",
        "ListVirtualMFADevices",
        "GetCredentialReport",
    ] {
        assert!(stderr.contains(bulk), "{bulk} not called:\n{stderr}");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_compliant_account_has_no_finding() {
    let account = fresh_account().await;
    account.load_aws_managed_policies();
    let iam = account.iam().await;
    iam.create_user().user_name("dana").send().await.unwrap();
    iam.create_group()
        .group_name("readers")
        .send()
        .await
        .unwrap();
    iam.put_group_policy()
        .group_name("readers")
        .policy_name("s3-read")
        .policy_document(READ_S3)
        .send()
        .await
        .unwrap();
    iam.add_user_to_group()
        .group_name("readers")
        .user_name("dana")
        .send()
        .await
        .unwrap();
    // A customer-managed policy whose old version allowed everything: only the default
    // version counts.
    let arn = iam
        .create_policy()
        .policy_name("narrowed")
        .policy_document(EVERYTHING)
        .send()
        .await
        .unwrap()
        .policy
        .unwrap()
        .arn
        .unwrap();
    iam.create_policy_version()
        .policy_arn(&arn)
        .policy_document(READ_S3)
        .set_as_default(true)
        .send()
        .await
        .unwrap();
    iam.create_role()
        .role_name("support")
        .assume_role_policy_document(TRUST)
        .send()
        .await
        .unwrap();
    for policy in ["arn:aws:iam::aws:policy/AWSSupportAccess", arn.as_str()] {
        iam.attach_role_policy()
            .role_name("support")
            .policy_arn(policy)
            .send()
            .await
            .unwrap();
    }
    account.set_root("hardware", false, Some(45));

    let (found, stderr) = findings(&account, &[]);
    assert_eq!(found, BTreeSet::new());
    // A hardware MFA is known by its absence from the virtual devices.
    assert!(stderr.contains("ListVirtualMFADevices"), "{stderr}");
}

#[tokio::test(flavor = "multi_thread")]
async fn root_without_mfa_is_one_finding_and_never_used_root_none() {
    let account = fresh_account().await;
    account.set_root("none", false, None);
    let (found, stderr) = findings(&account, &[]);
    assert!(found.contains(&item(
        "root",
        "root.require_mfa",
        "the root user has no MFA"
    )));
    assert!(
        !found
            .iter()
            .any(|(_, rule, _)| rule == "root.require_hardware_mfa"
                || rule == "root.max_used_days"
                || rule == "root.forbid_access_keys")
    );
    // Without root MFA there is no device to tell apart: no ListVirtualMFADevices.
    assert!(!stderr.contains("ListVirtualMFADevices"), "{stderr}");
}
