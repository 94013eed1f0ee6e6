//! Many accounts end to end against moto: `[[account]]` targets reached by assuming a role in
//! other account ids, per-account overrides, `-a` selection, `--shard K/N`, one unreachable
//! account failing alone, `apply` across accounts, snapshots of several accounts, and the
//! `[organization]` source (moto's server implements `organizations:ListAccounts`).
//! Each role is assumed once per run, counted with the other calls under `-v`.
//!
//! Every `iamctl` run signs with one fresh account's credentials (the "base"); moto lets them
//! assume any role in any account id, which gives each target an isolated account.

use crate::support;

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use aws_sdk_iam::config::{Credentials, SharedCredentialsProvider};
use serde_json::Value;
use support::cli::{api_calls, desired, run};
use support::{Account, SeedUser, fresh_account, seed_user};

/// `plan --format json` with `extra` flags: the exit code and the plan.
fn plan_json(base: &Account, config: &Path, extra: &[&str]) -> (i32, Value, String) {
    let mut args = vec!["plan", "--format", "json", "-c", config.to_str().unwrap()];
    args.extend_from_slice(extra);
    let out = run(base, &args);
    let plan: Value = serde_json::from_str(&out.stdout)
        .unwrap_or_else(|e| panic!("plan JSON ({e}): {}\nstderr: {}", out.stdout, out.stderr));
    (out.code, plan, out.stderr)
}

/// The plan's accounts by name.
fn by_name(plan: &Value) -> BTreeMap<String, Value> {
    plan["accounts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| (a["name"].as_str().unwrap().to_owned(), a.clone()))
        .collect()
}

fn names(plan: &Value) -> BTreeSet<String> {
    by_name(plan).into_keys().collect()
}

fn set(items: &[&str]) -> BTreeSet<String> {
    items.iter().map(|s| s.to_string()).collect()
}

/// An account's changes as `(address, action, rule)`.
fn changes(account: &Value) -> BTreeSet<(String, String, String)> {
    account["changes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            (
                c["address"].as_str().unwrap().to_owned(),
                c["action"].as_str().unwrap().to_owned(),
                c["rule"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

fn change(address: &str, action: &str, rule: &str) -> (String, String, String) {
    (address.into(), action.into(), rule.into())
}

/// Three accounts seeded differently, and a desired state with one `[[account]]` each.
struct Fleet {
    base: Account,
    alpha: Account,
    beta: Account,
    gamma: Account,
    /// beta's inactive key, which only beta's override deletes.
    beta_inactive: String,
    dir: tempfile::TempDir,
}

impl Fleet {
    async fn new() -> Self {
        let (base, alpha, beta, gamma) = (
            fresh_account().await,
            fresh_account().await,
            fresh_account().await,
            fresh_account().await,
        );
        // alpha and beta look alike: one inactive key each. Only beta's override deletes it.
        seed_user(
            &alpha.iam().await,
            "alice",
            SeedUser {
                active_keys: 1,
                inactive_keys: 1,
                ..Default::default()
            },
        )
        .await;
        let beta_keys = seed_user(
            &beta.iam().await,
            "bob",
            SeedUser {
                active_keys: 1,
                inactive_keys: 1,
                ..Default::default()
            },
        )
        .await;
        // gamma: a console user without MFA (a finding), and a password policy that differs.
        seed_user(
            &gamma.iam().await,
            "carol",
            SeedUser {
                console: true,
                ..Default::default()
            },
        )
        .await;
        gamma
            .iam()
            .await
            .update_account_password_policy()
            .minimum_password_length(8)
            .send()
            .await
            .unwrap();
        Self {
            beta_inactive: beta_keys.inactive[0].clone(),
            base,
            alpha,
            beta,
            gamma,
            dir: tempfile::tempdir().unwrap(),
        }
    }

    /// The shared desired state, with `extra` appended (more `[[account]]` entries).
    fn config(&self, extra: &str) -> PathBuf {
        let text = format!(
            r#"
[password_policy]
minimum_length = 14
require_symbols = true

[users.console]
require_mfa = true

[users.access_keys]
delete_inactive = false

[[account]]
name = "alpha"
role_arn = "{alpha}"

[[account]]
name = "beta"
role_arn = "{beta}"
external_id = "fleet-test"
[account.users.access_keys]
delete_inactive = true

[[account]]
name = "gamma"
role_arn = "{gamma}"
[account.password_policy]
minimum_length = 20
{extra}"#,
            alpha = self.alpha.role_arn("iamctl"),
            beta = self.beta.role_arn("iamctl"),
            gamma = self.gamma.role_arn("iamctl"),
        );
        desired(self.dir.path(), &text)
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn each_account_is_planned_with_its_own_overrides() {
    let fleet = Fleet::new().await;
    let config = fleet.config("");
    let (code, plan, stderr) = plan_json(&fleet.base, &config, &[]);
    assert_eq!(code, 0, "{stderr}");
    let accounts = by_name(&plan);
    assert_eq!(
        plan["accounts"]
            .as_array()
            .unwrap()
            .iter()
            .map(|a| a["name"].as_str().unwrap())
            .collect::<Vec<_>>(),
        ["alpha", "beta", "gamma"],
        "declaration order"
    );
    for (name, account) in [
        ("alpha", &fleet.alpha),
        ("beta", &fleet.beta),
        ("gamma", &fleet.gamma),
    ] {
        assert_eq!(
            accounts[name]["account_id"], account.id,
            "{name} was read through its own role"
        );
        assert!(
            accounts[name]["error"].is_null(),
            "{name}: {}",
            accounts[name]
        );
    }

    // Top-level rules everywhere; beta deletes its inactive key (its override), alpha not.
    assert_eq!(
        changes(&accounts["alpha"]),
        BTreeSet::from([change("password_policy", "create", "password_policy")])
    );
    assert_eq!(
        changes(&accounts["beta"]),
        BTreeSet::from([
            change("password_policy", "create", "password_policy"),
            change(
                &format!("user.bob.access_key.{}", fleet.beta_inactive),
                "delete",
                "users.access_keys.delete_inactive"
            ),
        ])
    );
    // gamma's policy override changes one field and keeps the others.
    assert_eq!(
        changes(&accounts["gamma"]),
        BTreeSet::from([change("password_policy", "update", "password_policy")])
    );
    let gamma_policy = &accounts["gamma"]["changes"][0];
    assert_eq!(gamma_policy["before"]["minimum_length"], 8);
    assert_eq!(gamma_policy["after"]["minimum_length"], 20);
    assert_eq!(gamma_policy["after"]["require_symbols"], true);
    assert_eq!(
        accounts["alpha"]["changes"][0]["after"]["minimum_length"],
        14
    );
    let findings: Vec<&str> = accounts["gamma"]["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["address"].as_str().unwrap())
        .collect();
    assert_eq!(findings, ["user.carol"]);
    assert_eq!(plan["summary"]["changes"], 4);

    // The text output has a section per account and the fleet summary.
    let text = run(&fleet.base, &["plan", "-c", config.to_str().unwrap()]);
    assert_eq!(text.code, 0, "{}", text.stderr);
    for (name, account) in [
        ("alpha", &fleet.alpha),
        ("beta", &fleet.beta),
        ("gamma", &fleet.gamma),
    ] {
        assert!(
            text.stdout
                .contains(&format!("account {name} ({})\n", account.id)),
            "{}",
            text.stdout
        );
    }
    assert!(
        text.stdout.contains("Fleet: 3 accounts: 3 with changes\n"),
        "{}",
        text.stdout
    );
    assert!(
        text.stdout
            .contains("Plan: 4 changes, 1 finding in 3 accounts."),
        "{}",
        text.stdout
    );
    // No progress bar when stderr is not a terminal.
    assert!(!text.stderr.contains("accounts,"), "{}", text.stderr);

    // Markdown: the table has a row per account.
    let md = run(
        &fleet.base,
        &[
            "plan",
            "-c",
            config.to_str().unwrap(),
            "--format",
            "markdown",
        ],
    );
    for name in ["alpha", "beta", "gamma"] {
        assert!(md.stdout.contains(&format!("| {name} | ")), "{}", md.stdout);
    }
}

/// Each target's role is assumed once per run (and counted with the other calls under `-v`),
/// however many calls and clients read the account; `apply` acts through the clients of its
/// plan, so on the same assumption.
#[tokio::test(flavor = "multi_thread")]
async fn each_role_is_assumed_once_per_run_and_counted() {
    let fleet = Fleet::new().await;
    let config = fleet.config("");
    let config = config.to_str().unwrap();
    let every: &[&str] = &[];
    for (selection, accounts) in [(every, 3), (&["-a", "alpha", "-a", "gamma"], 2)] {
        let mut args = vec!["plan", "-v", "-c", config];
        args.extend_from_slice(selection);
        let out = run(&fleet.base, &args);
        assert_eq!(out.code, 0, "{}", out.stderr);
        let calls = api_calls(&out.stderr);
        assert_eq!(
            calls.get("STS.AssumeRole"),
            Some(&accounts),
            "once per account {selection:?}: {calls:?}"
        );
        assert_eq!(
            calls.get("STS.GetCallerIdentity"),
            Some(&accounts),
            "{calls:?}"
        );
        // The assumption served more than one call, through more than one client.
        assert!(
            calls.keys().any(|operation| operation.starts_with("IAM.")),
            "{calls:?}"
        );
        assert!(calls.values().sum::<u64>() >= 3 * accounts, "{calls:?}");
    }

    let apply = run(
        &fleet.base,
        &["apply", "-v", "-c", config, "--auto-approve"],
    );
    assert_eq!(apply.code, 0, "{}\n{}", apply.stdout, apply.stderr);
    let calls = api_calls(&apply.stderr);
    assert_eq!(calls.get("STS.AssumeRole"), Some(&3), "{calls:?}");
    assert!(
        calls
            .keys()
            .any(|operation| operation.starts_with("IAM.Update")),
        "apply wrote: {calls:?}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn accounts_are_selected_by_name_glob_or_id_and_split_into_shards() {
    let fleet = Fleet::new().await;
    let config = fleet.config("");

    let (code, plan, stderr) = plan_json(&fleet.base, &config, &["-a", "?lpha", "-a", "gam*"]);
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(names(&plan), set(&["alpha", "gamma"]));

    let (code, plan, stderr) = plan_json(&fleet.base, &config, &["--account", &fleet.beta.id]);
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(names(&plan), set(&["beta"]));

    let nothing = run(
        &fleet.base,
        &["plan", "-c", config.to_str().unwrap(), "-a", "delta*"],
    );
    assert_eq!(nothing.code, 1);
    assert!(
        nothing.stderr.contains("matches no target") && nothing.stderr.contains("alpha"),
        "{}",
        nothing.stderr
    );

    // Two shards hold every account exactly once; so do three; a selection is sharded too.
    for count in [2usize, 3] {
        let mut seen: Vec<String> = Vec::new();
        for index in 1..=count {
            let shard = format!("{index}/{count}");
            let (code, plan, stderr) = plan_json(&fleet.base, &config, &["--shard", &shard]);
            assert_eq!(code, 0, "{stderr}");
            seen.extend(names(&plan));
        }
        seen.sort();
        assert_eq!(seen, ["alpha", "beta", "gamma"], "{count} shards");
    }
    let (_, first, _) = plan_json(&fleet.base, &config, &["--shard", "1/2"]);
    let (_, again, _) = plan_json(&fleet.base, &config, &["--shard", "1/2"]);
    assert_eq!(names(&first), names(&again), "shards are deterministic");
    let (code, plan, _) = plan_json(
        &fleet.base,
        &config,
        &["-a", "beta", "-a", "gamma", "--shard", "2/2"],
    );
    assert_eq!(code, 0);
    assert_eq!(names(&plan).len(), 1);

    for bad in ["3/2", "0/2", "1/0", "half"] {
        let out = run(
            &fleet.base,
            &["plan", "-c", config.to_str().unwrap(), "--shard", bad],
        );
        assert_ne!(out.code, 0, "--shard {bad}");
        assert!(out.stderr.contains("--shard"), "{}", out.stderr);
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn an_unreachable_account_fails_alone() {
    let fleet = Fleet::new().await;
    let config = fleet.config(
        r#"
[[account]]
name = "broken"
role_arn = "arn:aws:iam::111111111111:role/iamctl"
profile = "no-such-profile"
"#,
    );
    let (code, plan, stderr) = plan_json(&fleet.base, &config, &[]);
    assert_eq!(code, 1, "a failed account fails the run: {stderr}");
    let accounts = by_name(&plan);
    assert_eq!(accounts.len(), 4, "JSON carries every account");
    let broken = &accounts["broken"];
    let error = broken["error"].as_str().expect("broken has an error");
    assert!(error.contains("no-such-profile"), "{error}");
    assert_eq!(
        broken["account_id"], "111111111111",
        "known from the role ARN"
    );
    for name in ["alpha", "beta", "gamma"] {
        assert!(
            accounts[name]["error"].is_null(),
            "{name}: {}",
            accounts[name]
        );
        assert!(!changes(&accounts[name]).is_empty(), "{name} was planned");
    }

    let text = run(&fleet.base, &["plan", "-c", config.to_str().unwrap()]);
    assert_eq!(text.code, 1);
    assert!(
        text.stdout
            .contains("Fleet: 4 accounts: 3 with changes, 1 failed\n"),
        "{}",
        text.stdout
    );
    assert!(text.stdout.contains("1 failed)."), "{}", text.stdout);

    // apply changes the reachable accounts and still says that something failed.
    let apply = run(
        &fleet.base,
        &["apply", "-c", config.to_str().unwrap(), "--auto-approve"],
    );
    assert_eq!(apply.code, 1, "{}\n{}", apply.stdout, apply.stderr);
    assert!(apply.stderr.contains("no-such-profile"), "{}", apply.stderr);
    let (_, after, _) = plan_json(&fleet.base, &config, &["-a", "alpha", "-a", "beta"]);
    assert_eq!(after["summary"]["changes"], 0, "{after}");
}

#[tokio::test(flavor = "multi_thread")]
async fn apply_converges_every_account_and_saved_plans_are_checked_per_account() {
    let fleet = Fleet::new().await;
    let config = fleet.config("");
    let config = config.to_str().unwrap();

    // A saved plan of beta alone is applied to beta alone.
    let saved = fleet.dir.path().join("beta.plan.json");
    let out = run(
        &fleet.base,
        &[
            "plan",
            "-c",
            config,
            "-a",
            "beta",
            "-o",
            saved.to_str().unwrap(),
        ],
    );
    assert_eq!(out.code, 0, "{}", out.stderr);
    let apply = run(
        &fleet.base,
        &["apply", "-c", config, saved.to_str().unwrap()],
    );
    assert_eq!(apply.code, 0, "{}\n{}", apply.stdout, apply.stderr);
    assert!(apply.stdout.contains("beta ("), "{}", apply.stdout);
    assert!(!apply.stdout.contains("alpha ("), "{}", apply.stdout);
    let beta_keys = fleet
        .beta
        .iam()
        .await
        .list_access_keys()
        .user_name("bob")
        .send()
        .await
        .unwrap();
    assert_eq!(
        beta_keys.access_key_metadata().len(),
        1,
        "beta's inactive key is gone"
    );
    // Applying it again is refused as stale: beta no longer plans the same.
    let stale = run(
        &fleet.base,
        &["apply", "-c", config, saved.to_str().unwrap()],
    );
    assert_eq!(stale.code, 1);
    assert!(stale.stderr.contains("plan is stale"), "{}", stale.stderr);
    assert!(stale.stderr.contains("beta"), "{}", stale.stderr);

    // The rest of the fleet, in one run.
    let apply = run(&fleet.base, &["apply", "-c", config, "--auto-approve"]);
    assert_eq!(apply.code, 0, "{}\n{}", apply.stdout, apply.stderr);
    let (code, after, stderr) = plan_json(&fleet.base, &fleet.config(""), &["--detailed-exitcode"]);
    assert_eq!(
        code, 0,
        "nothing left to change anywhere: {stderr}\n{after}"
    );
    let accounts = by_name(&after);
    assert_eq!(accounts.len(), 3);
    for account in accounts.values() {
        assert_eq!(account["changes"], Value::Array(vec![]), "{account}");
    }
    let alpha_policy = fleet
        .alpha
        .iam()
        .await
        .get_account_password_policy()
        .send()
        .await
        .unwrap();
    assert_eq!(
        alpha_policy
            .password_policy()
            .unwrap()
            .minimum_password_length(),
        Some(14)
    );
    let gamma_policy = fleet
        .gamma
        .iam()
        .await
        .get_account_password_policy()
        .send()
        .await
        .unwrap();
    assert_eq!(
        gamma_policy
            .password_policy()
            .unwrap()
            .minimum_password_length(),
        Some(20)
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_snapshot_holds_every_account_and_plans_offline() {
    let fleet = Fleet::new().await;
    let config = fleet.config("");
    let config = config.to_str().unwrap();
    let snap = fleet.dir.path().join("fleet.snapshot.json");
    let out = run(
        &fleet.base,
        &["snapshot", "-c", config, "-o", snap.to_str().unwrap()],
    );
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert!(out.stderr.contains("(3 accounts)"), "{}", out.stderr);
    let snapshot: Value = serde_json::from_slice(&std::fs::read(&snap).unwrap()).unwrap();
    let ids: BTreeMap<&str, &str> = snapshot["accounts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| {
            (
                a["name"].as_str().unwrap(),
                a["account_id"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        ids,
        BTreeMap::from([
            ("alpha", fleet.alpha.id.as_str()),
            ("beta", fleet.beta.id.as_str()),
            ("gamma", fleet.gamma.id.as_str()),
        ])
    );

    // Offline, no credentials: the same plan as against live state.
    let (_, live, _) = plan_json(&fleet.base, Path::new(config), &["--as-of", "2030-01-01"]);
    let offline = fleet
        .base
        .cmd()
        .env_remove("AWS_ACCESS_KEY_ID")
        .env_remove("AWS_SECRET_ACCESS_KEY")
        .env_remove("AWS_SESSION_TOKEN")
        .env("AWS_ENDPOINT_URL", "http://127.0.0.1:9")
        .args([
            "plan",
            "--format",
            "json",
            "-c",
            config,
            "--snapshot",
            snap.to_str().unwrap(),
            "--as-of",
            "2030-01-01",
        ])
        .output()
        .unwrap();
    assert_eq!(offline.status.code(), Some(0));
    let offline: Value = serde_json::from_slice(&offline.stdout).unwrap();
    for (name, account) in by_name(&live) {
        assert_eq!(
            changes(&account),
            changes(&by_name(&offline)[&name]),
            "{name}"
        );
    }
    let (code, sharded, _) = plan_json(
        &fleet.base,
        Path::new(config),
        &["--snapshot", snap.to_str().unwrap(), "--shard", "2/3"],
    );
    assert_eq!(code, 0);
    assert_eq!(
        names(&sharded),
        set(&["beta"]),
        "sorted by name, dealt round-robin"
    );
}

/// An IAM client in account `id`, through a role assumed with `base`'s credentials.
async fn iam_in(base: &Account, id: &str) -> aws_sdk_iam::Client {
    let creds = base
        .sts()
        .await
        .assume_role()
        .role_arn(format!("arn:aws:iam::{id}:role/seed"))
        .role_session_name("seed")
        .send()
        .await
        .unwrap()
        .credentials
        .unwrap();
    let config = base
        .sdk_config()
        .to_builder()
        .credentials_provider(SharedCredentialsProvider::new(Credentials::new(
            creds.access_key_id,
            creds.secret_access_key,
            Some(creds.session_token),
            None,
            "fleet-test",
        )))
        .build();
    aws_sdk_iam::Client::new(&config)
}

#[tokio::test(flavor = "multi_thread")]
async fn an_organization_lists_its_active_accounts_as_targets() {
    // The base account is the organization's management account.
    let base = fresh_account().await;
    let (org, ids) =
        support::create_organization(&base, &["alpha", "beta", "gamma", "sandbox"]).await;
    org.close_account()
        .account_id(&ids["gamma"])
        .send()
        .await
        .unwrap();
    for (name, id) in &ids {
        seed_user(
            &iam_in(&base, id).await,
            &format!("{name}-user"),
            SeedUser {
                active_keys: 1,
                inactive_keys: 1,
                ..Default::default()
            },
        )
        .await;
    }

    let dir = tempfile::tempdir().unwrap();
    let config = desired(
        dir.path(),
        &format!(
            r#"
[organization]
role_name = "OrganizationAccountAccessRole"
exclude = ["{management}", "sand*"]

[users.access_keys]
max_active = 1

# beta, declared by hand, replaces its listed entry and brings its own override.
[[account]]
name = "beta-own"
role_arn = "arn:aws:iam::{beta}:role/OrganizationAccountAccessRole"
[account.users.access_keys]
delete_inactive = true
"#,
            management = base.id,
            beta = ids["beta"],
        ),
    );

    let (code, plan, stderr) = plan_json(&base, &config, &[]);
    assert_eq!(code, 0, "{stderr}\n{plan}");
    let accounts = by_name(&plan);
    // gamma is closed (SUSPENDED), sandbox and the management account are excluded.
    assert_eq!(names(&plan), set(&["alpha", "beta-own"]));
    assert_eq!(accounts["alpha"]["account_id"], ids["alpha"].as_str());
    assert_eq!(accounts["beta-own"]["account_id"], ids["beta"].as_str());
    assert!(
        changes(&accounts["alpha"]).is_empty(),
        "{}",
        accounts["alpha"]
    );
    assert_eq!(
        changes(&accounts["beta-own"])
            .into_iter()
            .map(|(_, action, rule)| (action, rule))
            .collect::<Vec<_>>(),
        [(
            "delete".to_owned(),
            "users.access_keys.delete_inactive".to_owned()
        )]
    );

    // `include` narrows, `-a` selects among listed accounts, shards split them.
    let (code, plan, stderr) = plan_json(&base, &config, &["-a", "alph*"]);
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(names(&plan), set(&["alpha"]));
    let mut seen = Vec::new();
    for shard in ["1/2", "2/2"] {
        let (code, plan, stderr) = plan_json(&base, &config, &["--shard", shard]);
        assert_eq!(code, 0, "{stderr}");
        assert_eq!(names(&plan).len(), 1, "{shard}");
        seen.extend(names(&plan));
    }
    seen.sort();
    assert_eq!(seen, ["alpha", "beta-own"]);

    let validate = run(&base, &["validate", "-c", config.to_str().unwrap()]);
    assert_eq!(validate.code, 0, "{}", validate.stderr);
    assert!(
        validate.stderr.contains("listed at run time"),
        "{}",
        validate.stderr
    );

    // A snapshot of the organization plans offline with the same targets.
    let snap = dir.path().join("org.json");
    let out = run(
        &base,
        &[
            "snapshot",
            "-c",
            config.to_str().unwrap(),
            "-o",
            snap.to_str().unwrap(),
        ],
    );
    assert_eq!(out.code, 0, "{}", out.stderr);
    let (code, offline, stderr) =
        plan_json(&base, &config, &["--snapshot", snap.to_str().unwrap()]);
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(names(&offline), set(&["alpha", "beta-own"]));
}
