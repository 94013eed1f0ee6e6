//! `iamctl permissions` is kept true here, three ways:
//! - by the constants: every AWS call iamctl makes goes through `aws::call` with a `Permission`
//!   constant of `src/permissions.rs`, and debug builds check each request sent against it (it
//!   is the constant's operation, and the constant is in a list). Every test that makes a call
//!   is checked so; the tests at the end show that each kind of slip is caught;
//! - end to end on moto: `plan`, `snapshot` and `import` use only actions of the read-only
//!   list, `apply` only actions of the read and apply lists, and the runs together use every
//!   listed action (the emulator's request log says which actions a run used, CloudTrail's
//!   included);
//! - the printed policies are valid policy documents holding exactly the lists.
//!
//! The base identity's list (`BASE`, `iamctl permissions --base`) the same way: a
//! multi-account run on moto signs with the base key only actions of `BASE` (and every one of
//! them), and the printed policy names the roles the desired state declares.

use crate::support;

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use iamctl::aws::{AccountClients, ApiCalls, ClientFactory, call};
use iamctl::permissions::{
    APPLY, BASE, GET_USER, LIST_ACCESS_KEYS, NO_PERMISSION_NEEDED, Permission, READ, SECURITY_HUB,
};
use support::cli::{desired, offline_cmd, output};
use support::{
    Account, Backdate, SeedUser, create_service_credential, fresh_account, seed_user,
    upload_server_certificate, upload_signing_certificate, upload_ssh_key,
};

fn actions(list: &[iamctl::permissions::Permission]) -> BTreeSet<String> {
    list.iter().map(|p| p.action.to_owned()).collect()
}

fn read_only() -> BTreeSet<String> {
    actions(READ)
        .into_iter()
        .chain(actions(NO_PERMISSION_NEEDED))
        .collect()
}

fn read_and_apply() -> BTreeSet<String> {
    read_only().into_iter().chain(actions(APPLY)).collect()
}

/// `set` and what `--security-hub` calls on top.
fn with_security_hub(set: BTreeSet<String>) -> BTreeSet<String> {
    set.into_iter().chain(actions(SECURITY_HUB)).collect()
}

/// What the base identity may call: [`BASE`] and what needs no permission.
fn base_only() -> BTreeSet<String> {
    actions(BASE)
        .into_iter()
        .chain(actions(NO_PERMISSION_NEEDED))
        .collect()
}

// ---------------------------------------------------------------------------------------------
// End to end on moto.
// ---------------------------------------------------------------------------------------------

/// The exit code, and stdout and stderr as one text.
fn run(account: &Account, args: &[&str]) -> (i32, String) {
    let out = support::cli::run(account, args);
    (out.code, format!("{}\n{}", out.stdout, out.stderr))
}

/// What the account's key signed since the last look, checked against `allowed`.
fn used_within(
    account: &Account,
    what: &str,
    allowed: &BTreeSet<String>,
    all_used: &mut BTreeSet<String>,
) -> BTreeMap<String, u64> {
    let used = account.requests();
    let unlisted: Vec<&String> = used.keys().filter(|a| !allowed.contains(*a)).collect();
    assert!(
        unlisted.is_empty(),
        "{what} used {unlisted:?}, which `iamctl permissions` does not grant (all used: {used:?})"
    );
    all_used.extend(used.keys().cloned());
    used
}

const RULES: &str = r#"
[users.console]
require_mfa = true
without_mfa = "deny-until-mfa"
max_unused_days = 45
on_unused = "disable-console"
reset_on_policy_tightening = true

[users.access_keys]
max_age_days = 90
on_expired = "deactivate"
max_unused_days = 45
on_unused = "delete"
max_active = 1

[[user]]
name = "ci-deployer"
console = false

[[user]]
name = "newhire"
console = true

[audit]
require_cloudtrail = true

[audit.cloudtrail.create]
name = "audit-trail"
"#;

fn config(dir: &Path, name: &str, policy: &str, extra: &str, bucket: &str) -> PathBuf {
    let path = dir.join(name);
    let text = format!("{policy}\n{RULES}s3_bucket = \"{bucket}\"\n{extra}");
    std::fs::write(&path, text).unwrap();
    path
}

/// Granted actions the runs above cannot use: moto 5.2 does not implement CloudTrail's
/// LookupEvents (`plan --explain`; it answers 500 with a traceback on the test's stderr).
/// `tests/cloudtrail.rs` makes the call against recorded answers, where the debug check ties
/// the request to its constant.
const NOT_ON_MOTO: [&str; 1] = ["cloudtrail:LookupEvents"];

/// Granted actions only a run over an `[organization]` makes, in each listed account with
/// that account's role (not with the key whose requests this test reads):
/// `ListOrganizationsFeatures`, made and checked by tests/credential_reads.rs
/// (`organization_features_are_read_where_they_can_be`).
const ONLY_IN_ORGANIZATION_TARGETS: [&str; 1] = ["iam:ListOrganizationsFeatures"];

/// The tables of issues 21 and 22 whose reads the snapshot above makes.
const CREDENTIAL_TABLES: &str = r#"
[users.service_credentials]
max_age_days = 90
[users.ssh_keys]
max_age_days = 365
[users.signing_certificates]
forbid = true
[server_certificates]
delete_expired_after_days = 30
"#;

async fn one_key(iam: &aws_sdk_iam::Client, name: &str) -> String {
    let spec = SeedUser {
        active_keys: 1,
        ..Default::default()
    };
    seed_user(iam, name, spec).await.active.remove(0)
}

#[tokio::test(flavor = "multi_thread")]
async fn every_action_a_run_uses_is_granted_and_every_granted_action_is_used() {
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
    seed_user(&iam, "alice", console).await; // no MFA: gets the deny policy
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
    // Console password unused for 60 days: deleted (`max_unused_days`), a change, so its last
    // use is confirmed by GetUser.
    seed_user(&iam, "dormant", console).await;
    account.backdate(Backdate {
        user: "dormant",
        login_profile_created_days_ago: Some(100.0),
        password_last_used_days_ago: Some(60.0),
        ..Default::default()
    });
    // A young key, rotated on demand by the last apply.
    let fresh = one_key(&iam, "svc-rotate").await;
    let old = one_key(&iam, "svc-old").await;
    let idle = one_key(&iam, "svc-idle").await;
    account.backdate(Backdate {
        user: "svc-old",
        access_key_id: Some(&old),
        created_days_ago: Some(120.0),
        last_used_days_ago: Some(1.0),
        ..Default::default()
    });
    account.backdate(Backdate {
        user: "svc-idle",
        access_key_id: Some(&idle),
        created_days_ago: Some(100.0),
        last_used_days_ago: Some(60.0),
        ..Default::default()
    });
    // A trail of the name `[audit.cloudtrail.create]` wants, single-region and stopped: apply
    // puts it right.
    let bucket = format!("trail-logs-{}", account.id);
    account.create_bucket(&bucket);
    let cloudtrail = account.cloudtrail().await;
    cloudtrail
        .create_trail()
        .name("audit-trail")
        .s3_bucket_name(&bucket)
        .send()
        .await
        .unwrap();
    account.requests(); // the seeding's own calls

    let dir = tempfile::tempdir().unwrap();
    let strong = "[password_policy]\nminimum_length = 14\nrequire_symbols = true\n";
    let first = config(dir.path(), "first.toml", strong, "", &bucket);
    let first = first.to_str().unwrap();
    let mut all_used = BTreeSet::new();

    // The read-only commands.
    let (code, out) = run(&account, &["plan", "-c", first]);
    assert_eq!(code, 0, "{out}");
    used_within(&account, "plan", &read_only(), &mut all_used);
    let (code, out) = run(&account, &["plan", "-c", first, "--security-hub"]);
    assert_eq!(code, 0, "{out}");
    let used = used_within(
        &account,
        "plan --security-hub",
        &with_security_hub(read_only()),
        &mut all_used,
    );
    assert!(
        used.contains_key("securityhub:BatchImportFindings"),
        "{out}"
    );
    let snapshot = dir.path().join("snapshot.json");
    // A root user with MFA: the snapshot tells a virtual device from a hardware one.
    account.set_root("virtual", false, None);
    let (code, out) = run(
        &account,
        &["snapshot", "-c", first, "-o", snapshot.to_str().unwrap()],
    );
    assert_eq!(code, 0, "{out}");
    used_within(&account, "snapshot", &read_only(), &mut all_used);
    // A snapshot with the credential and account-control tables: their reads, a signing
    // certificate's id among them.
    upload_signing_certificate(&iam, "newhire").await;
    account.requests();
    let tables = dir.path().join("tables.toml");
    std::fs::write(
        &tables,
        format!(
            "{}{CREDENTIAL_TABLES}",
            std::fs::read_to_string(first).unwrap().replace(
                "require_cloudtrail = true\n",
                "require_cloudtrail = true\nrequire_security_contact = true\n\
                 access_analyzer_regions = [\"us-east-1\"]\n"
            )
        ),
    )
    .unwrap();
    let (code, out) = run(
        &account,
        &[
            "snapshot",
            "-c",
            tables.to_str().unwrap(),
            "-o",
            snapshot.to_str().unwrap(),
        ],
    );
    assert_eq!(code, 0, "{out}");
    used_within(
        &account,
        "snapshot with the credential tables",
        &read_only(),
        &mut all_used,
    );
    let (code, out) = run(&account, &["import", "-c", first]);
    assert_eq!(code, 0, "{out}");
    used_within(&account, "import", &read_only(), &mut all_used);
    // A targeted plan: the users a glob selects, read one by one.
    let (code, out) = run(&account, &["plan", "-c", first, "--target", "user.*"]);
    assert_eq!(code, 0, "{out}");
    let used = used_within(&account, "plan --target", &read_only(), &mut all_used);
    for expected in ["iam:ListUsers", "iam:ListAttachedUserPolicies"] {
        assert!(used.contains_key(expected), "{expected} not used:\n{out}");
    }

    // apply: a stricter policy, resets, the deny policy created and attached, a profile
    // deleted and one created, a key deactivated and one deleted, the trail put right.
    let secrets = dir.path().join("secrets");
    let apply = |config: &str, extra: &[&str]| {
        let mut args = vec![
            "apply",
            "--auto-approve",
            "-c",
            config,
            "--secrets-dir",
            secrets.to_str().unwrap(),
        ];
        args.extend(extra);
        let (code, out) = run(&account, &args);
        assert_eq!(code, 0, "apply failed:\n{out}");
        out
    };
    let out = apply(first, &[]);
    let used = used_within(&account, "apply", &read_and_apply(), &mut all_used);
    for expected in [
        "iam:UpdateAccountPasswordPolicy",
        "iam:CreatePolicy",
        "iam:AttachUserPolicy",
        "iam:UpdateAccessKey",
        "iam:DeleteAccessKey",
    ] {
        assert!(used.contains_key(expected), "{expected} not used:\n{out}");
    }

    // Alice enrols MFA and the trail goes away; the second desired state drops the password
    // policy and deletes inactive keys: the deny policy is detached, svc-old's deactivated key
    // deleted, the trail created.
    let device = iam
        .create_virtual_mfa_device()
        .virtual_mfa_device_name("alice")
        .send()
        .await
        .unwrap()
        .virtual_mfa_device
        .unwrap();
    iam.enable_mfa_device()
        .user_name("alice")
        .serial_number(device.serial_number)
        .authentication_code1("123456")
        .authentication_code2("654321")
        .send()
        .await
        .unwrap();
    cloudtrail
        .delete_trail()
        .name("audit-trail")
        .send()
        .await
        .unwrap();
    account.requests();
    let second = config(
        dir.path(),
        "second.toml",
        "[password_policy]\nensure = \"absent\"\n",
        "",
        &bucket,
    );
    let second_text = std::fs::read_to_string(&second)
        .unwrap()
        .replace("max_active = 1", "max_active = 1\ndelete_inactive = true");
    std::fs::write(&second, second_text).unwrap();
    let second = second.to_str().unwrap();
    let out = apply(second, &["--security-hub"]);
    let used = used_within(
        &account,
        "apply --security-hub",
        &with_security_hub(read_and_apply()),
        &mut all_used,
    );
    for expected in [
        "iam:DeleteAccountPasswordPolicy",
        "iam:DetachUserPolicy",
        "iam:DeleteAccessKey",
        "cloudtrail:CreateTrail",
    ] {
        assert!(used.contains_key(expected), "{expected} not used:\n{out}");
    }
    // And plan right after a successful apply is empty.
    let (code, out) = run(&account, &["plan", "-c", second, "--detailed-exitcode"]);
    assert_eq!(code, 0, "{out}");
    used_within(&account, "plan", &read_only(), &mut all_used);

    // A key rotated on demand: the new key, the secret made, its policy, its value.
    let rotating = format!(
        "{}\n[users.access_keys.rotation]\nkms_key_id = \"alias/iamctl\"\n",
        std::fs::read_to_string(second).unwrap()
    );
    let third = dir.path().join("third.toml");
    std::fs::write(&third, rotating).unwrap();
    let third = third.to_str().unwrap();
    let address = format!("user.svc-rotate.access_key.{fresh}");
    let (code, out) = run(
        &account,
        &[
            "apply",
            "--auto-approve",
            "-c",
            third,
            "--rotate-now",
            &address,
        ],
    );
    assert_eq!(code, 0, "{out}");
    let used = used_within(&account, "apply", &read_and_apply(), &mut all_used);
    for expected in [
        "iam:CreateAccessKey",
        "secretsmanager:DescribeSecret",
        "secretsmanager:CreateSecret",
        "secretsmanager:PutResourcePolicy",
        "secretsmanager:PutSecretValue",
    ] {
        assert!(used.contains_key(expected), "{expected} not used:\n{out}");
    }

    // The other credential kinds: each deactivated, then deleted, with its own calls.
    let cred = create_service_credential(&iam, "newhire", "codecommit.amazonaws.com", None).await;
    account.credential_dates(&format!(
        "\"user\":\"newhire\",\"service_specific_credential_id\":\"{cred}\",\"created_days_ago\":200"
    ));
    let ssh = upload_ssh_key(&iam, "newhire").await;
    account.credential_dates(&format!(
        "\"user\":\"newhire\",\"ssh_public_key_id\":\"{ssh}\",\"uploaded_days_ago\":400"
    ));
    upload_signing_certificate(&iam, "newhire").await;
    upload_server_certificate(&iam, "old-web").await;
    account.credential_dates(
        "\"server_certificate\":\"old-web\",\"uploaded_days_ago\":400,\"expires_days_ago\":40",
    );
    account.requests();
    let kinds = |on_forbidden: &str| {
        format!(
            "[users.service_credentials]\nmax_age_days = 90\non_expired = \"deactivate\"\n\
             delete_inactive = true\n\
             [users.ssh_keys]\nmax_age_days = 365\non_expired = \"deactivate\"\ndelete_inactive = true\n\
             [users.signing_certificates]\nforbid = true\non_forbidden = \"{on_forbidden}\"\n\
             [server_certificates]\ndelete_expired_after_days = 30\n"
        )
    };
    let fourth = dir.path().join("fourth.toml");
    std::fs::write(&fourth, kinds("deactivate")).unwrap();
    let (code, out) = run(
        &account,
        &["apply", "--auto-approve", "-c", fourth.to_str().unwrap()],
    );
    assert_eq!(code, 0, "{out}");
    let used = used_within(&account, "apply", &read_and_apply(), &mut all_used);
    for expected in [
        "iam:UpdateServiceSpecificCredential",
        "iam:UpdateSSHPublicKey",
        "iam:UpdateSigningCertificate",
        "iam:DeleteServerCertificate",
    ] {
        assert!(used.contains_key(expected), "{expected} not used:\n{out}");
    }
    // With no grace, what is inactive now goes; a new certificate is deleted at once.
    upload_signing_certificate(&iam, "bob").await;
    account.requests();
    std::fs::write(&fourth, kinds("delete")).unwrap();
    let (code, out) = run(
        &account,
        &["apply", "--auto-approve", "-c", fourth.to_str().unwrap()],
    );
    assert_eq!(code, 0, "{out}");
    let used = used_within(&account, "apply", &read_and_apply(), &mut all_used);
    for expected in [
        "iam:DeleteServiceSpecificCredential",
        "iam:DeleteSSHPublicKey",
        "iam:DeleteSigningCertificate",
    ] {
        assert!(used.contains_key(expected), "{expected} not used:\n{out}");
    }

    // Every granted action was needed by some run: the lists hold nothing extra.
    let granted: BTreeSet<String> = with_security_hub(read_and_apply())
        .into_iter()
        .filter(|a| !actions(NO_PERMISSION_NEEDED).contains(a))
        .collect();
    let unused: Vec<&String> = granted
        .difference(&all_used)
        .filter(|a| !NOT_ON_MOTO.contains(&a.as_str()))
        .filter(|a| !ONLY_IN_ORGANIZATION_TARGETS.contains(&a.as_str()))
        .collect();
    assert!(
        unused.is_empty(),
        "granted but never used by the runs above: {unused:?} (used: {all_used:?})"
    );
}

// ---------------------------------------------------------------------------------------------
// The printed policies.
// ---------------------------------------------------------------------------------------------

fn printed(args: &[&str]) -> serde_json::Value {
    let output = support::cli::offline_cmd().args(args).output().unwrap();
    assert!(output.status.success());
    serde_json::from_slice(&output.stdout).unwrap()
}

fn granted_by(policy: &serde_json::Value) -> BTreeSet<String> {
    assert_eq!(policy["Version"], "2012-10-17");
    policy["Statement"]
        .as_array()
        .unwrap()
        .iter()
        .inspect(|s| {
            assert_eq!(s["Effect"], "Allow");
            assert!(s["Resource"].is_string(), "{s}");
        })
        .flat_map(|s| s["Action"].as_array().unwrap().clone())
        .map(|a| a.as_str().unwrap().to_owned())
        .collect()
}

#[test]
fn the_printed_policies_grant_exactly_the_lists() {
    assert_eq!(granted_by(&printed(&["permissions"])), actions(READ));
    let apply = printed(&["permissions", "--apply", "--partition", "aws-us-gov"]);
    assert_eq!(
        granted_by(&apply),
        actions(READ).into_iter().chain(actions(APPLY)).collect()
    );
    let text = apply.to_string();
    assert!(text.contains("arn:aws-us-gov:iam::*:user/*"), "{text}");
    assert!(!text.contains("arn:aws:"), "{text}");
    // --security-hub adds its own statement to either.
    assert_eq!(
        granted_by(&printed(&["permissions", "--security-hub"])),
        with_security_hub(actions(READ))
    );
    let hub = printed(&["permissions", "--apply", "--security-hub"]);
    assert_eq!(
        granted_by(&hub),
        with_security_hub(actions(READ).into_iter().chain(actions(APPLY)).collect())
    );
    let statement = hub["Statement"].as_array().unwrap().last().unwrap().clone();
    assert_eq!(
        statement,
        serde_json::json!({
            "Sid": "IamctlImportSecurityHubFindings",
            "Effect": "Allow",
            "Action": ["securityhub:BatchImportFindings", "securityhub:GetFindings"],
            "Resource": "*",
        })
    );
}

/// `iamctl permissions --base` with `args`, offline, on `text` as the desired state.
fn base_run(text: &str, args: &[&str]) -> support::cli::Run {
    let dir = tempfile::tempdir().unwrap();
    let config = desired(dir.path(), text);
    output(
        offline_cmd()
            .args(["permissions", "--base", "-c", config.to_str().unwrap()])
            .args(args),
    )
}

const TWO_ROLES_AND_AN_ORGANIZATION: &str = r#"
[organization]
role_name = "ops/iamctl"
external_id = "org-xid"

[[account]]
name = "staging"
role_arn = "arn:aws:iam::222222222222:role/iamctl"

[[account]]
name = "prod"
role_arn = "arn:aws:iam::111111111111:role/iamctl"
external_id = "prod-xid"
"#;

#[test]
fn the_printed_base_policy_assumes_the_declared_roles_and_lists_the_organization() {
    let out = base_run(
        TWO_ROLES_AND_AN_ORGANIZATION,
        &["--partition", "aws-us-gov"],
    );
    assert_eq!(out.code, 0, "{}", out.stderr);
    let policy: serde_json::Value = serde_json::from_str(&out.stdout).unwrap();
    assert_eq!(
        policy,
        serde_json::json!({
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Sid": "IamctlAssumeTargetRoles",
                    "Effect": "Allow",
                    "Action": ["sts:AssumeRole"],
                    "Resource": [
                        "arn:aws-us-gov:iam::*:role/ops/iamctl",
                        "arn:aws:iam::111111111111:role/iamctl",
                        "arn:aws:iam::222222222222:role/iamctl",
                    ],
                },
                {
                    "Sid": "IamctlListOrganizationAccounts",
                    "Effect": "Allow",
                    "Action": ["organizations:ListAccounts"],
                    "Resource": "*",
                },
            ],
        })
    );
    let granted: BTreeSet<String> = policy["Statement"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|s| s["Action"].as_array().unwrap().clone())
        .map(|a| a.as_str().unwrap().to_owned())
        .collect();
    assert_eq!(granted, actions(BASE));
    // An external id asks for no other action.
    assert!(!out.stdout.contains("xid"), "{}", out.stdout);
}

#[test]
fn without_a_role_to_assume_the_base_policy_is_nothing_and_says_why() {
    for text in [
        "[users.console]\nrequire_mfa = true\n",
        "[[account]]\nname = \"prod\"\nprofile = \"prod\"\n",
    ] {
        let out = base_run(text, &[]);
        assert_eq!(out.code, 0, "{}", out.stderr);
        assert_eq!(out.stdout, "", "{text}");
        assert!(
            out.stderr.contains("declares no role to assume"),
            "{}",
            out.stderr
        );
        assert_eq!(base_run(text, &["-q"]).stderr, "", "-q: only errors");
    }
}

#[test]
fn base_and_apply_together_are_refused() {
    for other in ["--apply", "--security-hub"] {
        let out = base_run(TWO_ROLES_AND_AN_ORGANIZATION, &[other]);
        assert_eq!(out.code, 1, "{}", out.stderr);
        assert_eq!(out.stdout, "");
        assert!(out.stderr.contains("cannot be used with"), "{}", out.stderr);
    }
}

#[test]
fn a_bad_desired_state_fails_the_base_policy_as_it_fails_validate() {
    let dir = tempfile::tempdir().unwrap();
    let config = desired(dir.path(), "[organization]\nrole_name = 7\n");
    let config = config.to_str().unwrap();
    let base = output(offline_cmd().args(["permissions", "--base", "-c", config]));
    let validate = output(offline_cmd().args(["validate", "-c", config]));
    assert_eq!(base.code, 1, "{}", base.stderr);
    assert_eq!(base.stdout, "");
    assert!(
        base.stderr.contains("desired.toml:2:13"),
        "file:line:column: {}",
        base.stderr
    );
    assert_eq!(base.stderr, validate.stderr);
    assert_eq!(validate.code, 1);
}

/// A run over an `[organization]` and an `[[account]]` on moto: the base key signs only
/// actions of `BASE` (every one of them), and the printed base policy covers every role the
/// run assumed.
#[tokio::test(flavor = "multi_thread")]
async fn a_multi_account_run_signs_with_the_base_key_only_what_the_base_policy_grants() {
    let base = fresh_account().await;
    let other = fresh_account().await;
    let (_, ids) = support::create_organization(&base, &["listed"]).await;
    let listed = &ids["listed"];
    let dir = tempfile::tempdir().unwrap();
    let config = desired(
        dir.path(),
        &format!(
            "[organization]\nrole_name = \"OrganizationAccountAccessRole\"\n\
             exclude = [\"{management}\"]\n\n\
             [[account]]\nname = \"other\"\nrole_arn = \"{role}\"\nexternal_id = \"xid\"\n",
            management = base.id,
            role = other.role_arn("iamctl"),
        ),
    );
    let config = config.to_str().unwrap();
    base.requests(); // the seeding's own calls

    let (code, out) = run(&base, &["plan", "--format", "json", "-c", config]);
    assert_eq!(code, 0, "{out}");
    let used = base.requests();
    let unlisted: Vec<&String> = used.keys().filter(|a| !base_only().contains(*a)).collect();
    assert!(
        unlisted.is_empty(),
        "the base key signed {unlisted:?}, which `iamctl permissions --base` does not grant \
         (all: {used:?})"
    );
    for action in actions(BASE) {
        assert!(used.contains_key(&action), "{action} not used: {used:?}");
    }
    assert_eq!(used.get("sts:AssumeRole"), Some(&2), "{used:?}");

    let printed = support::cli::run(&base, &["permissions", "--base", "-c", config]);
    assert_eq!(printed.code, 0, "{}", printed.stderr);
    assert_eq!(base.requests(), BTreeMap::new(), "--base calls no AWS API");
    let policy: serde_json::Value = serde_json::from_str(&printed.stdout).unwrap();
    let resources = policy["Statement"][0]["Resource"].to_string();
    for role in [
        other.role_arn("iamctl"),
        "arn:aws:iam::*:role/OrganizationAccountAccessRole".to_owned(),
    ] {
        assert!(resources.contains(&role), "{role} not in {resources}");
    }
    assert!(
        !resources.contains(listed.as_str()),
        "listed accounts are known only at run time"
    );
}

// ---------------------------------------------------------------------------------------------
// The check of every call against its permission.
// ---------------------------------------------------------------------------------------------

/// Clients of the target `prod` on a fake AWS: `ListAccessKeys` lists no keys, `GetUser` is
/// denied.
async fn fake_clients() -> AccountClients {
    let http = aws_smithy_http_client::test_util::infallible_client_fn(|req| {
        let body = String::from_utf8_lossy(req.body().bytes().unwrap_or_default()).into_owned();
        let (status, text) = if body.contains("Action=ListAccessKeys") {
            (
                200,
                "<ListAccessKeysResponse><ListAccessKeysResult><AccessKeyMetadata/>\
                 <IsTruncated>false</IsTruncated></ListAccessKeysResult></ListAccessKeysResponse>",
            )
        } else if body.contains("Action=GetUser") {
            (
                403,
                "<ErrorResponse><Error><Type>Sender</Type><Code>AccessDenied</Code>\
                 <Message>not authorized</Message></Error><RequestId>r</RequestId></ErrorResponse>",
            )
        } else {
            panic!("unexpected request {body}")
        };
        http::Response::builder().status(status).body(text).unwrap()
    });
    let config = aws_config::defaults(aws_config::BehaviorVersion::latest())
        .http_client(http)
        .region(aws_config::Region::new("us-east-1"))
        .credentials_provider(aws_credential_types::Credentials::for_tests())
        .load()
        .await;
    ClientFactory::with_config(config.clone(), ApiCalls::default())
        .clients_from_config("prod", config)
}

#[tokio::test]
async fn a_call_is_made_and_fails_as_its_permission() {
    let clients = fake_clients().await;
    let keys = call(
        &clients.target,
        LIST_ACCESS_KEYS,
        clients.iam.list_access_keys().send(),
    )
    .await
    .unwrap();
    assert!(keys.access_key_metadata().is_empty());
    let denied = call(
        &clients.target,
        GET_USER,
        clients.iam.get_user().user_name("alice").send(),
    )
    .await
    .unwrap_err();
    assert_eq!(
        denied.to_string(),
        "account prod: iam:GetUser: AccessDenied: not authorized (missing permission iam:GetUser)"
    );
}

#[cfg(debug_assertions)]
#[tokio::test]
#[should_panic(expected = "IAM.ListAccessKeys was sent as the call to iam:GetUser: \
                           name its own permission")]
async fn a_call_made_as_another_permission_fails_debug_builds() {
    let clients = fake_clients().await;
    let request = clients.iam.list_access_keys().send();
    let _ = call(&clients.target, GET_USER, request).await;
}

#[cfg(debug_assertions)]
#[tokio::test]
#[should_panic(
    expected = "IAM.ListAccessKeys was sent without a permission: make AWS calls \
                           through aws::call with a constant of src/permissions.rs"
)]
async fn a_call_made_without_a_permission_fails_debug_builds() {
    let clients = fake_clients().await;
    let _ = clients.iam.list_access_keys().send().await;
}

#[cfg(debug_assertions)]
#[tokio::test]
#[should_panic(
    expected = "iam:ListAccessKeys is not in a list of src/permissions.rs \
                           (READ, APPLY, BASE, NO_PERMISSION_NEEDED)"
)]
async fn a_permission_outside_the_lists_fails_debug_builds() {
    let clients = fake_clients().await;
    // The listed action on another scope than the list's.
    let unlisted = Permission {
        scope: iamctl::permissions::Scope::Users,
        ..LIST_ACCESS_KEYS
    };
    let _ = call(
        &clients.target,
        unlisted,
        clients.iam.list_access_keys().send(),
    )
    .await;
}

#[test]
fn the_apply_policy_scopes_rotation_to_the_desired_states_secrets_and_kms_keys() {
    let dir = tempfile::tempdir().unwrap();
    let config = desired(
        dir.path(),
        "[users.access_keys]\nmax_age_days = 90\non_expired = \"rotate\"\n\n\
         [users.access_keys.rotation]\nsecret_name = \"teams/{account}/{user}\"\n\
         kms_key_id = \"alias/iamctl\"\n\n\
         [[account]]\nname = \"dev\"\n\n[[account]]\nname = \"prod\"\n\n\
         [account.users.access_keys.rotation]\n\
         kms_key_id = \"arn:aws:kms:us-east-1:111111111111:key/1234abcd-12ab-34cd-56ef-1234567890ab\"\n",
    );
    let printed = |args: &[&str]| -> serde_json::Value {
        let output = offline_cmd()
            .args(args)
            .args(["-c", config.to_str().unwrap()])
            .output()
            .unwrap();
        assert!(output.status.success(), "{output:?}");
        serde_json::from_slice(&output.stdout).unwrap()
    };
    let statement = |policy: &serde_json::Value, sid: &str| -> serde_json::Value {
        policy["Statement"]
            .as_array()
            .unwrap()
            .iter()
            .find(|s| s["Sid"] == sid)
            .unwrap_or_else(|| panic!("no {sid} in {policy}"))
            .clone()
    };
    let apply = printed(&["permissions", "--apply"]);
    assert_eq!(
        statement(&apply, "IamctlDeliverRotatedKeys"),
        serde_json::json!({
            "Sid": "IamctlDeliverRotatedKeys",
            "Effect": "Allow",
            "Action": [
                "secretsmanager:CreateSecret",
                "secretsmanager:DescribeSecret",
                "secretsmanager:PutResourcePolicy",
                "secretsmanager:PutSecretValue"
            ],
            "Resource": "arn:aws:secretsmanager:*:*:secret:teams/*",
        })
    );
    let via = serde_json::json!({"kms:ViaService": "secretsmanager.*.amazonaws.com"});
    assert_eq!(
        statement(&apply, "IamctlEncryptRotationSecrets"),
        serde_json::json!({
            "Sid": "IamctlEncryptRotationSecrets",
            "Effect": "Allow",
            "Action": ["kms:Decrypt", "kms:GenerateDataKey"],
            "Resource": ["arn:aws:kms:us-east-1:111111111111:key/1234abcd-12ab-34cd-56ef-1234567890ab"],
            "Condition": {"StringLike": via},
        })
    );
    assert_eq!(
        statement(&apply, "IamctlEncryptRotationSecretsByAlias"),
        serde_json::json!({
            "Sid": "IamctlEncryptRotationSecretsByAlias",
            "Effect": "Allow",
            "Action": ["kms:Decrypt", "kms:GenerateDataKey"],
            "Resource": "arn:aws:kms:*:*:key/*",
            "Condition": {
                "StringLike": via,
                "ForAnyValue:StringEquals": {"kms:ResourceAliases": ["alias/iamctl"]},
            },
        })
    );
    // The read-only policy describes the same secrets and uses no key.
    let read = printed(&["permissions"]);
    assert_eq!(
        statement(&read, "IamctlReadRotationSecrets")["Resource"],
        "arn:aws:secretsmanager:*:*:secret:teams/*"
    );
    assert!(!read.to_string().contains("kms:"), "{read}");
}
