//! `iamctl permissions` is kept true here, three ways:
//! - end to end on moto: `plan`, `snapshot` and `import` use only actions of the read-only
//!   list, `apply` only actions of the read and apply lists, and the runs together use every
//!   listed action (the emulator's request log says which actions a run used, CloudTrail's
//!   included);
//! - by reading the source: every listed action is one the code calls, and every SDK call in
//!   `src/live/` (reads) and `src/apply/` (writes) is listed;
//! - the printed policies are valid policy documents holding exactly the lists.

mod support;

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use iamctl::permissions::{APPLY, NO_PERMISSION_NEEDED, READ};
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

/// The source of `src/<module>/`, each file with its whitespace removed (so calls that
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
/// parameter of the client's type (`client: &aws_sdk_cloudtrail::Client`).
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
        });
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

const SERVICES: [&str; 3] = ["iam", "sts", "cloudtrail"];

/// Where the code that makes each list's calls lives: reads in `src/live/` (and the
/// CloudTrail lookups of `plan --explain` in `src/explain/`), writes in `src/apply/`.
const READ_MODULES: [&str; 2] = ["live", "explain"];
const APPLY_MODULES: [&str; 1] = ["apply"];

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

#[test]
fn every_granted_action_is_one_the_code_calls() {
    for (list, modules) in [(READ, &READ_MODULES[..]), (APPLY, &APPLY_MODULES[..])] {
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
