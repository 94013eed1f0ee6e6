//! `iamctl permissions` is kept true here, three ways:
//! - end to end on moto: `plan`, `snapshot` and `import` use only actions of the read-only
//!   list, `apply` only actions of the read and apply lists, and the runs together use every
//!   listed action (the emulator's request log says which actions a run used, CloudTrail's
//!   included);
//! - by reading the source: every listed action is one the code calls, and every SDK call in
//!   `src/live/` (reads) and `src/apply/` (writes) is listed;
//! - the printed policies are valid policy documents holding exactly the lists.
//!
//! The base identity's list (`BASE`, `iamctl permissions --base`) the same three ways: a
//! multi-account run on moto signs with the base key only actions of `BASE` (and every one of
//! them), the source calls exactly those (`sts:AssumeRole` in `src/aws/`,
//! `organizations:ListAccounts` in `src/fleet.rs`), and the printed policy names the roles
//! the desired state declares.

mod support;

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use iamctl::permissions::{APPLY, BASE, NO_PERMISSION_NEEDED, READ};
use support::cli::{desired, offline_cmd, output};
use support::{Account, Backdate, SeedUser, fresh_account, seed_user};

fn actions(list: &[iamctl::permissions::Permission]) -> BTreeSet<String> {
    list.iter().map(|p| p.action.to_owned()).collect()
}

fn read_only() -> BTreeSet<String> {
    actions(READ)
        .into_iter()
        .chain(NO_PERMISSION_NEEDED.iter().map(|a| (*a).to_owned()))
        .collect()
}

fn read_and_apply() -> BTreeSet<String> {
    read_only().into_iter().chain(actions(APPLY)).collect()
}

/// What the base identity may call: [`BASE`] and what needs no permission.
fn base_only() -> BTreeSet<String> {
    actions(BASE)
        .into_iter()
        .chain(NO_PERMISSION_NEEDED.iter().map(|a| (*a).to_owned()))
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
/// LookupEvents (`plan --explain`; it answers 500 with a traceback on the test's stderr). The
/// source checks below still tie it to the code that calls it.
const NOT_ON_MOTO: [&str; 1] = ["cloudtrail:LookupEvents"];

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
    let snapshot = dir.path().join("snapshot.json");
    let (code, out) = run(
        &account,
        &["snapshot", "-c", first, "-o", snapshot.to_str().unwrap()],
    );
    assert_eq!(code, 0, "{out}");
    used_within(&account, "snapshot", &read_only(), &mut all_used);
    let (code, out) = run(&account, &["import", "-c", first]);
    assert_eq!(code, 0, "{out}");
    used_within(&account, "import", &read_only(), &mut all_used);

    // apply: a stricter policy, resets, the deny policy created and attached, a profile
    // deleted and one created, a key deactivated and one deleted, the trail put right.
    let secrets = dir.path().join("secrets");
    let apply = |config: &str| {
        let (code, out) = run(
            &account,
            &[
                "apply",
                "--auto-approve",
                "-c",
                config,
                "--secrets-dir",
                secrets.to_str().unwrap(),
            ],
        );
        assert_eq!(code, 0, "apply failed:\n{out}");
        out
    };
    let out = apply(first);
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
    let out = apply(second);
    let used = used_within(&account, "apply", &read_and_apply(), &mut all_used);
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

    // Every granted action was needed by some run: the lists hold nothing extra.
    let granted: BTreeSet<String> = actions(READ).into_iter().chain(actions(APPLY)).collect();
    let unused: Vec<&String> = granted
        .difference(&all_used)
        .filter(|a| !NOT_ON_MOTO.contains(&a.as_str()))
        .collect();
    assert!(
        unused.is_empty(),
        "granted but never used by the runs above: {unused:?} (used: {all_used:?})"
    );
}

// ---------------------------------------------------------------------------------------------
// By reading the source.
// ---------------------------------------------------------------------------------------------

fn rust_files(dir: &Path, out: &mut Vec<(PathBuf, String)>) {
    if dir.is_file() {
        out.push((dir.to_owned(), std::fs::read_to_string(dir).unwrap()));
        return;
    }
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            let text = std::fs::read_to_string(&path).unwrap();
            out.push((path, text));
        }
    }
}

/// The source of `src/<module>/` (or of the file `src/<module>`), each file with its whitespace removed (so calls that
/// rustfmt split over lines read `.iam.get_user()`), test modules left out.
fn squeezed(module: &str) -> Vec<(PathBuf, String)> {
    let mut files = Vec::new();
    rust_files(
        &Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("src")
            .join(module),
        &mut files,
    );
    files
        .into_iter()
        .map(|(path, text)| {
            let code = text.split("#[cfg(test)]").next().unwrap_or_default();
            let squeezed: String = code.chars().filter(|c| !c.is_whitespace()).collect();
            (path, squeezed)
        })
        .collect()
}

fn is_ident(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '_'
}

/// Names of the methods called on an SDK client of `service` in squeezed source: on
/// `.iam.` / `.sts.` / `.cloudtrail.` directly, on a local bound to one
/// (`let client = &clients.cloudtrail;`, `let c = clients.cloudtrail_in(region);`), or on a
/// parameter of the client's type (`client: &aws_sdk_cloudtrail::Client`), or on a local
/// that the client factory made (`let client = factory.organizations(profile).await;`).
fn sdk_calls(source: &str, service: &str) -> BTreeSet<String> {
    let mut receivers = vec![format!(".{service}.")];
    let mut rest = source;
    while let Some(at) = rest.find("let") {
        let after = &rest[at + 3..];
        let name: String = after.chars().take_while(|c| is_ident(*c)).collect();
        let value = &after[name.len()..];
        let bound = [
            "=&clients.",
            "=clients.",
            "=&self.clients.",
            "=self.clients.",
        ]
        .iter()
        .any(|prefix| {
            value.strip_prefix(prefix).is_some_and(|v| {
                v.strip_prefix(service).is_some_and(|tail| {
                    tail.starts_with(';')
                        || tail.starts_with(".clone()")
                        || tail.starts_with("_in(")
                })
            })
        }) || value
            .strip_prefix("=factory.")
            .and_then(|v| v.strip_prefix(service))
            .is_some_and(|tail| tail.starts_with('('));
        if !name.is_empty() && bound {
            receivers.push(format!("{name}."));
        }
        rest = after;
    }
    let typed = format!(":&aws_sdk_{service}::Client");
    for (at, _) in source.match_indices(&typed) {
        let name: String = source[..at]
            .chars()
            .rev()
            .take_while(|c| is_ident(*c))
            .collect::<Vec<_>>()
            .into_iter()
            .rev()
            .collect();
        if !name.is_empty() {
            receivers.push(format!("{name}."));
        }
    }
    let mut calls = BTreeSet::new();
    for receiver in &receivers {
        for (at, _) in source.match_indices(receiver.as_str()) {
            // A bound name must stand alone (`client.`, not `my_client.`).
            if !receiver.starts_with('.') && source[..at].chars().next_back().is_some_and(is_ident)
            {
                continue;
            }
            let method: String = source[at + receiver.len()..]
                .chars()
                .take_while(|c| is_ident(*c))
                .collect();
            let called = source[at + receiver.len() + method.len()..].starts_with('(');
            // `config()` and `clone()` are the client's own, not API operations.
            if called && !method.is_empty() && !["clone", "config"].contains(&method.as_str()) {
                calls.insert(method);
            }
        }
    }
    calls
}

/// `get_mfa_device` and `iam:GetMFADevice` name the same operation.
fn same_operation(method: &str, action: &str) -> bool {
    let operation = action.split(':').nth(1).unwrap_or_default();
    method.replace('_', "") == operation.to_lowercase()
}

const SERVICES: [&str; 4] = ["iam", "sts", "cloudtrail", "organizations"];

/// Where the code that makes each list's calls lives: reads in `src/live/` (and the
/// CloudTrail lookups of `plan --explain` in `src/explain/`), writes in `src/apply/`.
const READ_MODULES: [&str; 2] = ["live", "explain"];
const APPLY_MODULES: [&str; 1] = ["apply"];
/// Where the base identity's calls live: the role assumption of the client factory, the
/// organization's listing.
const BASE_MODULES: [&str; 2] = ["aws", "fleet.rs"];

/// `(service, method)` of every SDK call in the modules.
fn calls_in(modules: &[&str]) -> BTreeSet<(String, String, PathBuf)> {
    let mut calls = BTreeSet::new();
    for module in modules {
        for (path, source) in squeezed(module) {
            for service in SERVICES {
                for method in sdk_calls(&source, service) {
                    calls.insert((service.to_owned(), method, path.clone()));
                }
            }
        }
    }
    calls
}

#[test]
fn every_sdk_call_in_the_code_is_granted() {
    for (modules, allowed) in [
        (&READ_MODULES[..], read_only()),
        (&APPLY_MODULES[..], read_and_apply()),
    ] {
        let calls = calls_in(modules);
        assert!(
            calls.len() > 5,
            "found only {} SDK calls in {modules:?}: is the scan broken?",
            calls.len()
        );
        for (service, method, path) in calls {
            let granted = allowed.iter().any(|action| {
                action.starts_with(&format!("{service}:")) && same_operation(&method, action)
            });
            assert!(
                granted,
                "{} calls {service} {method}, which no list in src/permissions.rs grants \
                 (reads belong in READ, the calls of src/apply/ in APPLY)",
                path.display()
            );
        }
    }
}

/// The client factory and the fleet loop call STS and Organizations only with the base
/// credentials (the reads and writes of a target go through `src/live/` and `src/apply/`).
#[test]
fn every_sts_and_organizations_call_of_the_base_is_granted() {
    let calls: Vec<_> = calls_in(&BASE_MODULES)
        .into_iter()
        .filter(|(service, _, _)| service == "sts" || service == "organizations")
        .collect();
    assert!(
        calls.len() >= 2,
        "found only {calls:?} in {BASE_MODULES:?}: is the scan broken?"
    );
    for (service, method, path) in calls {
        assert!(
            base_only().iter().any(|action| {
                action.starts_with(&format!("{service}:")) && same_operation(&method, action)
            }),
            "{} calls {service} {method}, which BASE in src/permissions.rs does not grant",
            path.display()
        );
    }
}

#[test]
fn every_granted_action_is_one_the_code_calls() {
    for (list, modules) in [
        (READ, &READ_MODULES[..]),
        (APPLY, &APPLY_MODULES[..]),
        (BASE, &BASE_MODULES[..]),
    ] {
        let calls = calls_in(modules);
        for permission in list {
            let service = permission.action.split(':').next().unwrap();
            assert!(
                calls
                    .iter()
                    .any(|(s, m, _)| s == service && same_operation(m, permission.action)),
                "{} is granted, but nothing in {modules:?} calls it",
                permission.action
            );
        }
    }
}

// ---------------------------------------------------------------------------------------------
// The printed policies.
// ---------------------------------------------------------------------------------------------

fn printed(args: &[&str]) -> serde_json::Value {
    let output = assert_cmd::Command::new(env!("CARGO_BIN_EXE_iamctl"))
        .args(args)
        .env_clear()
        .output()
        .unwrap();
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
    let out = base_run(TWO_ROLES_AND_AN_ORGANIZATION, &["--apply"]);
    assert_eq!(out.code, 1, "{}", out.stderr);
    assert_eq!(out.stdout, "");
    assert!(out.stderr.contains("cannot be used with"), "{}", out.stderr);
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
