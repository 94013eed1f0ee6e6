//! Key rotation (`on_expired = "rotate"`, SPEC "Key rotation") end to end on moto, which
//! serves IAM and Secrets Manager (with resource policies):
//! - one rotation's whole life: the new key delivered to the secret (its id and secret are
//!   the secret's current value and sign requests as the user), the old key still active,
//!   the policy naming the user; the old key deactivated once the new one is used (and, as
//!   of the overlap's end, by date), deleted after the grace; a plan after each apply empty;
//!   no secret in anything a run printed or wrote (`-vv` included);
//! - storing the key failing (Secrets Manager denies it): the new key deleted at once;
//! - a run killed at each write of a rotation: the next runs converge, and no key whose
//!   secret was not delivered survives them;
//! - 10% of requests failing: the same;
//! - `apply --rotate-now`; two keys; the permissions a rotation uses.

use crate::fault_proxy;
use crate::support;

use std::collections::BTreeMap;
use std::time::Duration;

use aws_sdk_iam::types::{StatusType, Tag};
use chrono::Utc;
use fault_proxy::kit::{self, Transcript, iamctl};
use fault_proxy::{FaultKind, FaultProxy, Faults, Trap};
use serde_json::Value;
use support::cli::api_calls;
use support::{Account, Backdate, SeedUser, fresh_account, seed_user};

fn rules(account: &Account, extra: &str) -> String {
    format!(
        r#"
[users.access_keys]
max_age_days = 90
on_expired = "rotate"
delete_inactive = true
delete_inactive_after_days = 14
{extra}
[users.access_keys.rotation]
secret_name = "iamctl/{{account_id}}/{{user}}"
overlap_days = 7
readers = ["arn:aws:iam::{}:role/app-deployer"]
"#,
        account.id
    )
}

/// A user with one active key, 120 days old; returns the key's id.
async fn old_key_user(account: &Account, name: &str) -> String {
    let iam = account.iam().await;
    let spec = SeedUser {
        active_keys: 1,
        ..Default::default()
    };
    let key = seed_user(&iam, name, spec).await.active.remove(0);
    account.backdate(Backdate {
        user: name,
        access_key_id: Some(&key),
        created_days_ago: Some(120.0),
        ..Default::default()
    });
    key
}

fn secret_name(account: &Account, user: &str) -> String {
    format!("iamctl/{}/{user}", account.id)
}

fn secrets_client(account: &Account) -> aws_sdk_secretsmanager::Client {
    aws_sdk_secretsmanager::Client::new(&account.sdk_config())
}

/// The user's keys: id → active.
async fn keys(account: &Account, user: &str) -> BTreeMap<String, bool> {
    let out = account
        .iam()
        .await
        .list_access_keys()
        .user_name(user)
        .send()
        .await
        .unwrap();
    out.access_key_metadata()
        .iter()
        .map(|k| {
            (
                k.access_key_id().unwrap().to_owned(),
                k.status() == Some(&StatusType::Active),
            )
        })
        .collect()
}

async fn user_tags(account: &Account, user: &str) -> BTreeMap<String, String> {
    let out = account
        .iam()
        .await
        .list_user_tags()
        .user_name(user)
        .send()
        .await
        .unwrap();
    out.tags()
        .iter()
        .map(|t| (t.key().to_owned(), t.value().to_owned()))
        .collect()
}

/// The secret's current value, `(AccessKeyId, SecretAccessKey)`, if it has one.
async fn current_value(account: &Account, name: &str) -> Option<(String, String)> {
    let out = secrets_client(account)
        .get_secret_value()
        .secret_id(name)
        .send()
        .await
        .ok()?;
    let value: Value = serde_json::from_str(out.secret_string()?).ok()?;
    Some((
        value["AccessKeyId"].as_str()?.to_owned(),
        value["SecretAccessKey"].as_str()?.to_owned(),
    ))
}

/// The ARN STS says a key signs as.
async fn signs_as(account: &Account, key_id: &str, secret: &str) -> String {
    let creds =
        aws_sdk_iam::config::Credentials::new(key_id, secret, None, None, "rotated-key-test");
    let config = account
        .sdk_config()
        .to_builder()
        .credentials_provider(aws_sdk_iam::config::SharedCredentialsProvider::new(creds))
        .build();
    aws_sdk_sts::Client::new(&config)
        .get_caller_identity()
        .send()
        .await
        .unwrap()
        .arn()
        .unwrap()
        .to_owned()
}

/// Keys of `user` other than `old` that nobody was given: not the secret's current key.
async fn undelivered(account: &Account, user: &str, old: &str) -> Vec<String> {
    let delivered = current_value(account, &secret_name(account, user))
        .await
        .map(|(id, _)| id);
    keys(account, user)
        .await
        .into_keys()
        .filter(|k| k != old && Some(k) != delivered.as_ref())
        .collect()
}

fn changes(plan: &str) -> Vec<Value> {
    kit::plan_body(plan)["changes"]
        .as_array()
        .cloned()
        .unwrap_or_default()
}

fn findings(plan: &str) -> Vec<Value> {
    kit::plan_body(plan)["findings"]
        .as_array()
        .cloned()
        .unwrap_or_default()
}

fn run(account: &Account, args: &[&str], transcript: &Transcript) -> kit::Run {
    let mut cmd = iamctl(account, &support::endpoint());
    cmd.args(args);
    kit::run(cmd, transcript)
}

#[tokio::test(flavor = "multi_thread")]
async fn a_rotation_delivers_the_new_key_then_retires_the_old_one() {
    let account = fresh_account().await;
    let old = old_key_user(&account, "svc").await;
    let dir = kit::workdir();
    let config = support::cli::desired(dir.path(), &rules(&account, ""));
    let config = config.to_str().unwrap();
    let plan_file = kit::arg(dir.path(), "plan.json");
    let audit = kit::arg(dir.path(), "audit.jsonl");
    let snapshot = kit::arg(dir.path(), "snapshot.json");
    let transcript = Transcript::default();
    let name = secret_name(&account, "svc");
    let user_arn = format!("arn:aws:iam::{}:user/svc", account.id);
    let reader = format!("arn:aws:iam::{}:role/app-deployer", account.id);

    // The plan: rotate the old key into the secret, named, never holding a secret.
    let planned = run(
        &account,
        &["plan", "--format", "json", "-c", config, "-o", &plan_file],
        &transcript,
    );
    assert_eq!(planned.code, Some(0), "{}", planned.show());
    let planned_changes = changes(&planned.stdout);
    assert_eq!(planned_changes.len(), 1, "{}", planned.stdout);
    let rotate = &planned_changes[0];
    assert_eq!(rotate["address"], format!("user.svc.access_key.{old}"));
    assert_eq!(rotate["action"], "rotate");
    assert_eq!(rotate["rule"], "users.access_keys.max_age_days");
    assert_eq!(rotate["before"]["id"], old.as_str());
    assert_eq!(rotate["before"]["status"], "Active");
    assert_eq!(rotate["after"]["secret_name"], name.as_str());
    assert_eq!(
        rotate["after"]["readers"],
        serde_json::json!([user_arn, reader])
    );
    let text = run(&account, &["plan", "-c", config], &transcript);
    assert!(
        text.stdout.contains(&format!(
            "± user.svc.access_key.{old}  rotate (users.access_keys.max_age_days)"
        )),
        "{}",
        text.stdout
    );
    assert!(
        text.stdout.contains(&format!("new key → secret {name}")),
        "{}",
        text.stdout
    );

    // Apply the saved plan, with the SDK's own logs on.
    let applied = run(
        &account,
        &[
            "apply",
            &plan_file,
            "-c",
            config,
            "--audit-log",
            &audit,
            "-vv",
        ],
        &transcript,
    );
    assert_eq!(applied.code, Some(0), "{}", applied.show());
    assert!(
        applied
            .stdout
            .contains(&format!("rotate user.svc.access_key.{old}")),
        "{}",
        applied.stdout
    );

    // The new key is the secret's current value, signs as the user, and the old key still
    // works; the secret's policy names the user and the reader.
    let live = keys(&account, "svc").await;
    assert_eq!(live.len(), 2, "{live:?}");
    assert_eq!(live.get(&old), Some(&true), "the old key stays active");
    let (new, secret) = current_value(&account, &name)
        .await
        .expect("the secret holds the new key");
    assert_eq!(live.get(&new), Some(&true), "{live:?}");
    let sm = secrets_client(&account);
    let described = sm.describe_secret().secret_id(&name).send().await.unwrap();
    let current_version = described
        .version_ids_to_stages()
        .unwrap()
        .iter()
        .find(|(_, stages)| stages.iter().any(|s| s == "AWSCURRENT"))
        .map(|(v, _)| v.clone())
        .unwrap();
    assert!(
        current_version.starts_with(&format!("iamctl-{new}-")),
        "{current_version}"
    );
    let policy = sm
        .get_resource_policy()
        .secret_id(&name)
        .send()
        .await
        .unwrap();
    let policy: Value = serde_json::from_str(policy.resource_policy().unwrap()).unwrap();
    assert_eq!(
        policy["Statement"][0]["Principal"]["AWS"],
        serde_json::json!([user_arn, reader])
    );
    let tags = user_tags(&account, "svc").await;
    let record = &tags[&format!("iamctl:rotation:{old}")];
    assert!(record.starts_with(&format!("{new}@")), "{record}");

    // Right after: nothing to do; a notice says where the new key is and when the old stops.
    let after = run(
        &account,
        &[
            "plan",
            "--format",
            "json",
            "--detailed-exitcode",
            "-c",
            config,
        ],
        &transcript,
    );
    assert_eq!(after.code, Some(0), "{}", after.show());
    let due = (Utc::now() + chrono::Duration::days(7))
        .format("%Y-%m-%d")
        .to_string();
    let notice = findings(&after.stdout)
        .into_iter()
        .find(|f| f["rule"] == "users.access_keys.rotation.notice")
        .unwrap_or_else(|| panic!("no rotation notice: {}", after.stdout));
    assert_eq!(notice["address"], format!("user.svc.access_key.{old}"));
    assert_eq!(notice["action"], "deactivate");
    assert_eq!(
        notice["message"],
        format!(
            "{old} stops working on {due}, or sooner once {new} is used: the new key is in Secrets Manager secret {name}"
        )
    );

    // As of the overlap's end, the old key is deactivated, by the rotation's rule.
    let as_of = (Utc::now() + chrono::Duration::days(8)).to_rfc3339();
    let later = run(
        &account,
        &["plan", "--format", "json", "--as-of", &as_of, "-c", config],
        &transcript,
    );
    let later_changes = changes(&later.stdout);
    assert_eq!(later_changes.len(), 1, "{}", later.stdout);
    assert_eq!(
        later_changes[0]["address"],
        format!("user.svc.access_key.{old}")
    );
    assert_eq!(later_changes[0]["action"], "deactivate");
    assert_eq!(later_changes[0]["rule"], "users.access_keys.rotation");

    // The workload moves to the new key (which signs as the user): now the old key is
    // deactivated, today.
    assert_eq!(signs_as(&account, &new, &secret).await, user_arn);
    let used = run(
        &account,
        &["plan", "--format", "json", "-c", config],
        &transcript,
    );
    let used_changes = changes(&used.stdout);
    assert_eq!(used_changes.len(), 1, "{}", used.stdout);
    assert_eq!(used_changes[0]["action"], "deactivate");
    let applied = run(
        &account,
        &[
            "apply",
            "--auto-approve",
            "-c",
            config,
            "--audit-log",
            &audit,
        ],
        &transcript,
    );
    assert_eq!(applied.code, Some(0), "{}", applied.show());
    assert_eq!(keys(&account, "svc").await.get(&old), Some(&false));
    let empty = run(
        &account,
        &["plan", "--detailed-exitcode", "-c", config],
        &transcript,
    );
    assert_eq!(empty.code, Some(0), "{}", empty.show());

    // Fifteen days on (the inactivity record moved back), the old key is deleted, and its
    // records with it.
    let since = (Utc::now() - chrono::Duration::days(15))
        .to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    account
        .iam()
        .await
        .tag_user()
        .user_name("svc")
        .tags(
            Tag::builder()
                .key(format!("iamctl:inactive-since:{old}"))
                .value(since)
                .build()
                .unwrap(),
        )
        .send()
        .await
        .unwrap();
    let grace = run(
        &account,
        &["plan", "--format", "json", "-c", config],
        &transcript,
    );
    let grace_changes = changes(&grace.stdout);
    assert_eq!(grace_changes.len(), 1, "{}", grace.stdout);
    assert_eq!(grace_changes[0]["action"], "delete");
    assert_eq!(
        grace_changes[0]["rule"],
        "users.access_keys.delete_inactive"
    );
    let applied = run(
        &account,
        &[
            "apply",
            "--auto-approve",
            "-c",
            config,
            "--audit-log",
            &audit,
        ],
        &transcript,
    );
    assert_eq!(applied.code, Some(0), "{}", applied.show());
    let live = keys(&account, "svc").await;
    assert_eq!(live.keys().collect::<Vec<_>>(), [&new], "{live:?}");
    assert!(
        user_tags(&account, "svc")
            .await
            .keys()
            .all(|t| !t.starts_with("iamctl:")),
        "records removed with the key"
    );
    let empty = run(
        &account,
        &["plan", "--detailed-exitcode", "-c", config],
        &transcript,
    );
    assert_eq!(empty.code, Some(0), "{}", empty.show());

    // The secret appears in nothing iamctl printed or wrote.
    let snap = run(
        &account,
        &["snapshot", "-c", config, "-o", &snapshot],
        &transcript,
    );
    assert_eq!(snap.code, Some(0), "{}", snap.show());
    for file in [&plan_file, &audit, &snapshot] {
        transcript.add_file(std::path::Path::new(file));
    }
    assert!(transcript.texts() > 10);
    assert_eq!(transcript.hits(std::slice::from_ref(&secret)), Vec::new());
}

#[tokio::test(flavor = "multi_thread")]
async fn a_key_that_cannot_be_stored_is_deleted_at_once() {
    let account = fresh_account().await;
    let old = old_key_user(&account, "svc").await;
    let dir = kit::workdir();
    let config = support::cli::desired(dir.path(), &rules(&account, ""));
    let config = config.to_str().unwrap();
    let transcript = Transcript::default();
    let name = secret_name(&account, "svc");

    // Secrets Manager refuses to create the secret, then to store a value in it.
    for deny in ["delivered by iamctl key rotation", "SecretString"] {
        let proxy = FaultProxy::start(&support::endpoint(), Faults::deny(&[&[deny]]));
        let mut cmd = iamctl(&account, &proxy.url());
        cmd.args(["apply", "--auto-approve", "-c", config]);
        let applied = kit::run(cmd, &transcript);
        assert_eq!(applied.code, Some(1), "{}", applied.show());
        assert_eq!(proxy.counts().poisoned, 1, "{}", applied.show());
        let expected = if deny == "SecretString" {
            format!("storing the new key in secret {name}: ")
        } else {
            "no key was created".to_owned()
        };
        assert!(
            applied.stdout.contains(&expected),
            "{expected:?} not in:\n{}",
            applied.show()
        );
        assert_eq!(
            keys(&account, "svc").await.into_keys().collect::<Vec<_>>(),
            std::slice::from_ref(&old),
            "no new key survives"
        );
    }
    assert!(
        run(
            &account,
            &["apply", "--auto-approve", "-c", config],
            &transcript
        )
        .stdout
        .contains("rotate")
    );
    let stored = run(
        &account,
        &["plan", "--detailed-exitcode", "-c", config],
        &transcript,
    );
    assert_eq!(stored.code, Some(0), "{}", stored.show());
    assert_eq!(
        undelivered(&account, "svc", &old).await,
        Vec::<String>::new()
    );
    assert_eq!(keys(&account, "svc").await.len(), 2);
}

/// Kills apply at the `nth` write of a rotation (TagUser pending, CreateSecret,
/// PutResourcePolicy, CreateAccessKey, PutSecretValue, TagUser delivered), before or after
/// moto carried it out; then plans and applies until the plan is empty.
async fn killed_at(nth: u64, after_forward: bool) -> String {
    let account = fresh_account().await;
    let old = old_key_user(&account, "svc").await;
    let dir = kit::workdir();
    let config = support::cli::desired(dir.path(), &rules(&account, ""));
    let config = config.to_str().unwrap();
    let transcript = Transcript::default();
    let proxy = FaultProxy::start(&support::endpoint(), Faults::none());
    let sprung = proxy.arm(Trap {
        nth_write: nth,
        after_forward,
    });
    let mut cmd = iamctl(&account, &proxy.url());
    cmd.args(["apply", "--auto-approve", "-c", config]);
    let log = dir.path().join("killed.log");
    let file = std::fs::File::create(&log).unwrap();
    cmd.stdout(file.try_clone().unwrap()).stderr(file);
    let mut child = cmd.spawn().unwrap();
    let caught = sprung.recv_timeout(Duration::from_secs(60));
    child.kill().unwrap();
    child.wait().unwrap();
    let caught = caught.unwrap_or_else(|_| {
        panic!(
            "no write #{nth}:\n{}",
            std::fs::read_to_string(&log).unwrap_or_default()
        )
    });
    proxy.release();
    proxy.cut_all();
    proxy.settle();

    // Whatever the kill left, a key nobody was given is recognisable: its rotation is
    // recorded as pending.
    let stray = undelivered(&account, "svc", &old).await;
    let tags = user_tags(&account, "svc").await;
    let record = tags.get(&format!("iamctl:rotation:{old}")).cloned();
    if !stray.is_empty() {
        assert!(
            record.as_deref().is_some_and(|r| r.starts_with("pending@")),
            "undelivered {stray:?} with record {record:?}"
        );
    }

    // The next run deletes such a key first, and only that.
    let next = run(
        &account,
        &["plan", "--format", "json", "-c", config],
        &transcript,
    );
    if let [key] = stray.as_slice() {
        let planned = changes(&next.stdout);
        assert_eq!(planned.len(), 1, "{}", next.stdout);
        assert_eq!(planned[0]["address"], format!("user.svc.access_key.{key}"));
        assert_eq!(planned[0]["action"], "delete");
        assert_eq!(planned[0]["rule"], "users.access_keys.rotation");
    }
    let mut converged = false;
    for _ in 0..3 {
        let applied = run(
            &account,
            &["apply", "--auto-approve", "-c", config],
            &transcript,
        );
        assert_eq!(applied.code, Some(0), "{}", applied.show());
        let plan = run(
            &account,
            &["plan", "--detailed-exitcode", "-c", config],
            &transcript,
        );
        if plan.code == Some(0) {
            converged = true;
            break;
        }
    }
    assert!(
        converged,
        "killed at write {nth} ({}): no convergence",
        caught.action
    );
    assert_eq!(
        undelivered(&account, "svc", &old).await,
        Vec::<String>::new()
    );
    let live = keys(&account, "svc").await;
    let (new, secret) = current_value(&account, &secret_name(&account, "svc"))
        .await
        .expect("delivered in the end");
    assert_eq!(live.len(), 2, "{live:?}");
    assert_eq!(live.get(&new), Some(&true));
    // Nothing printed, by the killed run or the others, holds the secret.
    transcript.add_file(&log);
    assert_eq!(transcript.hits(std::slice::from_ref(&secret)), Vec::new());
    format!(
        "{}{}:{}",
        caught.action,
        if after_forward { "+" } else { "-" },
        stray.len()
    )
}

#[tokio::test(flavor = "multi_thread")]
async fn a_rotation_killed_at_any_write_leaves_no_undelivered_key() {
    let mut seen = Vec::new();
    for nth in 1..=6 {
        for after_forward in [false, true] {
            seen.push(killed_at(nth, after_forward).await);
        }
    }
    // The writes, in order, each killed before and after moto carried it out; `:1` where the
    // kill left a key that had to be deleted.
    assert_eq!(
        seen,
        [
            "TagUser-:0",
            "TagUser+:0",
            "CreateSecret-:0",
            "CreateSecret+:0",
            "PutResourcePolicy-:0",
            "PutResourcePolicy+:0",
            "CreateAccessKey-:0",
            "CreateAccessKey+:1",
            "PutSecretValue-:1",
            "PutSecretValue+:0",
            "TagUser-:0",
            "TagUser+:0",
        ]
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn rotations_under_ten_percent_faults_leave_no_undelivered_key() {
    let account = fresh_account().await;
    let mut olds = Vec::new();
    for i in 0..12 {
        let user = format!("svc-{i}");
        olds.push((user.clone(), old_key_user(&account, &user).await));
    }
    let dir = kit::workdir();
    let config = support::cli::desired(dir.path(), &rules(&account, ""));
    let config = config.to_str().unwrap();
    let transcript = Transcript::default();
    let proxy = FaultProxy::start(&support::endpoint(), Faults::rate(0.1, 13));
    let mut exits = Vec::new();
    for _ in 0..6 {
        let mut cmd = iamctl(&account, &proxy.url());
        cmd.args(["apply", "--auto-approve", "-c", config]);
        let applied = kit::run(cmd, &transcript);
        exits.push(applied.code);
        if applied.code == Some(0) {
            break;
        }
    }
    let faults = proxy.counts().faults_total();
    drop(proxy);
    let plan = run(
        &account,
        &["plan", "--detailed-exitcode", "-c", config],
        &transcript,
    );
    assert_eq!(plan.code, Some(0), "exits {exits:?}: {}", plan.show());
    let mut secrets = Vec::new();
    for (user, old) in &olds {
        assert_eq!(undelivered(&account, user, old).await, Vec::<String>::new());
        assert_eq!(keys(&account, user).await.len(), 2, "{user}");
        let (_, secret) = current_value(&account, &secret_name(&account, user))
            .await
            .unwrap();
        secrets.push(secret);
    }
    assert_eq!(transcript.hits(&secrets), Vec::new());
    println!("rotation under faults: users=12 faults={faults} applies={exits:?}");
}

#[tokio::test(flavor = "multi_thread")]
async fn rotate_now_rotates_a_young_key_and_refuses_what_it_cannot() {
    let account = fresh_account().await;
    let iam = account.iam().await;
    let one = SeedUser {
        active_keys: 1,
        ..Default::default()
    };
    let young = seed_user(&iam, "fresh", one).await.active.remove(0);
    let two = seed_user(
        &iam,
        "pair",
        SeedUser {
            active_keys: 2,
            ..Default::default()
        },
    )
    .await
    .active;
    let exempt = seed_user(&iam, "break-glass", one).await.active.remove(0);
    let dir = kit::workdir();
    let config = support::cli::desired(
        dir.path(),
        &rules(&account, "").replace(
            "[users.access_keys]",
            "[users]\nexempt = [\"break-glass\"]\n\n[users.access_keys]",
        ),
    );
    let config = config.to_str().unwrap();
    let transcript = Transcript::default();

    // Refused, changing nothing: two active keys; an exempt user.
    let pair = format!("user.pair.access_key.{}", two[0]);
    let glass = format!("user.break-glass.access_key.{exempt}");
    let refused = run(
        &account,
        &[
            "apply",
            "--auto-approve",
            "-c",
            config,
            "--rotate-now",
            &pair,
            "--rotate-now",
            &glass,
        ],
        &transcript,
    );
    assert_eq!(refused.code, Some(1), "{}", refused.show());
    assert!(
        refused.stderr.contains(&format!(
            "--rotate-now: {pair}: cannot rotate: two active keys ({}, {}); deactivate or delete the one no longer used (rotation asked for (--rotate-now)); {glass}: no active key of that id for a user iamctl may change in the selected accounts (exempt users are never changed); nothing was changed",
            two[0], two[1]
        )),
        "{}",
        refused.show()
    );
    assert_eq!(keys(&account, "pair").await.len(), 2);

    // A key a day old, rotated on demand under the rotation's own rule.
    let address = format!("user.fresh.access_key.{young}");
    let applied = run(
        &account,
        &[
            "apply",
            "--auto-approve",
            "-c",
            config,
            "--rotate-now",
            &address,
        ],
        &transcript,
    );
    assert_eq!(applied.code, Some(0), "{}", applied.show());
    assert!(
        applied
            .stdout
            .contains(&format!("± {address}  rotate (users.access_keys.rotation)")),
        "{}",
        applied.stdout
    );
    let (new, _) = current_value(&account, &secret_name(&account, "fresh"))
        .await
        .unwrap();
    assert_eq!(keys(&account, "fresh").await.get(&new), Some(&true));
    let after = run(
        &account,
        &["plan", "--detailed-exitcode", "-c", config],
        &transcript,
    );
    assert_eq!(after.code, Some(0), "{}", after.show());

    // Not an access key's address: refused by the flag's parser.
    let bad = run(
        &account,
        &["apply", "-c", config, "--rotate-now", "user.fresh"],
        &transcript,
    );
    assert_eq!(bad.code, Some(1), "{}", bad.show());
    assert!(
        bad.stderr.contains(
            "\"user.fresh\" is not the address of an access key (user.NAME.access_key.AKID)"
        ),
        "{}",
        bad.stderr
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_second_key_goes_first_or_the_rotation_says_why_not() {
    let account = fresh_account().await;
    let iam = account.iam().await;
    let seeded = seed_user(
        &iam,
        "svc",
        SeedUser {
            active_keys: 1,
            inactive_keys: 1,
            ..Default::default()
        },
    )
    .await;
    let (old, spare) = (&seeded.active[0], &seeded.inactive[0]);
    account.backdate(Backdate {
        user: "svc",
        access_key_id: Some(old),
        created_days_ago: Some(120.0),
        ..Default::default()
    });
    let dir = kit::workdir();
    let transcript = Transcript::default();

    // Without delete_inactive: a finding says why.
    let keep = rules(&account, "").replace("delete_inactive = true", "delete_inactive = false");
    let config = support::cli::desired(dir.path(), &keep);
    let config = config.to_str().unwrap();
    let plan = run(
        &account,
        &["plan", "--format", "json", "-c", config],
        &transcript,
    );
    assert!(changes(&plan.stdout).is_empty(), "{}", plan.stdout);
    let finding = findings(&plan.stdout)
        .into_iter()
        .find(|f| f["address"] == format!("user.svc.access_key.{old}"))
        .unwrap();
    assert_eq!(
        finding["message"],
        format!(
            "cannot rotate: the user's second key {spare} is inactive and IAM allows two keys; delete it (or set delete_inactive = true) (active access key is 120 days old (limit 90))"
        )
    );

    // With it and no grace: the inactive key goes in this run, the rotation in the next.
    let now = rules(&account, "").replace(
        "delete_inactive_after_days = 14",
        "delete_inactive_after_days = 0",
    );
    let config = support::cli::desired(dir.path(), &now);
    let config = config.to_str().unwrap();
    let first = run(
        &account,
        &["apply", "--auto-approve", "-c", config],
        &transcript,
    );
    assert_eq!(first.code, Some(0), "{}", first.show());
    assert!(
        first
            .stdout
            .contains(&format!("delete user.svc.access_key.{spare}")),
        "{}",
        first.stdout
    );
    assert!(!first.stdout.contains("± "), "{}", first.stdout);
    let second = run(
        &account,
        &["apply", "--auto-approve", "-c", config],
        &transcript,
    );
    assert!(
        second
            .stdout
            .contains(&format!("rotate user.svc.access_key.{old}")),
        "{}",
        second.show()
    );
    assert_eq!(
        undelivered(&account, "svc", old).await,
        Vec::<String>::new()
    );
    assert_eq!(keys(&account, "svc").await.len(), 2);
}

/// BENCHMARKS.md "Key rotation": what one rotation costs, measured with `-v`.
#[tokio::test(flavor = "multi_thread")]
async fn what_one_rotation_costs() {
    let account = fresh_account().await;
    let old = old_key_user(&account, "svc").await;
    // A second user the rotations do not concern: it costs nothing.
    seed_user(&account.iam().await, "quiet", SeedUser::default()).await;
    let dir = kit::workdir();
    let config = support::cli::desired(dir.path(), &rules(&account, ""));
    let config = config.to_str().unwrap();
    let transcript = Transcript::default();
    let measured = |args: &[&str]| {
        let mut args = args.to_vec();
        args.extend(["-v", "-c", config]);
        let out = run(&account, &args, &transcript);
        assert!(out.code.is_some_and(|c| c != 1), "{}", out.show());
        api_calls(&out.stderr)
    };
    let plan = measured(&["plan"]);
    let first = measured(&["apply", "--auto-approve"]);
    let overlap = measured(&["plan"]);
    // Rotating the new key again on demand, the old one gone: the secret exists now.
    let (new, _) = current_value(&account, &secret_name(&account, "svc"))
        .await
        .unwrap();
    account
        .iam()
        .await
        .delete_access_key()
        .user_name("svc")
        .access_key_id(&old)
        .send()
        .await
        .unwrap();
    let again = measured(&[
        "apply",
        "--auto-approve",
        "--rotate-now",
        &format!("user.svc.access_key.{new}"),
    ]);
    for (label, calls) in [
        ("plan", &plan),
        ("apply (first rotation)", &first),
        ("plan (overlap)", &overlap),
        ("apply --rotate-now (secret exists)", &again),
    ] {
        println!(
            "rotation costs: {label}: {} calls {calls:?}",
            calls.values().sum::<u64>()
        );
    }
    let writes = |calls: &BTreeMap<String, u64>| -> BTreeMap<String, u64> {
        calls
            .iter()
            .filter(|(op, _)| {
                ["Create", "Put", "Tag", "Describe"]
                    .iter()
                    .any(|p| op.split('.').nth(1).is_some_and(|o| o.starts_with(p)))
            })
            .map(|(op, n)| (op.clone(), *n))
            .collect()
    };
    let expected = |create_secret: bool| -> BTreeMap<String, u64> {
        let mut calls = BTreeMap::from([
            ("IAM.CreateAccessKey".to_owned(), 1),
            ("IAM.TagUser".to_owned(), 2),
            ("Secrets Manager.DescribeSecret".to_owned(), 1),
            ("Secrets Manager.PutResourcePolicy".to_owned(), 1),
            ("Secrets Manager.PutSecretValue".to_owned(), 1),
        ]);
        if create_secret {
            calls.insert("Secrets Manager.CreateSecret".to_owned(), 1);
        }
        calls
    };
    assert_eq!(writes(&first), expected(true));
    assert_eq!(writes(&again), expected(false));
    // During the overlap, the rotated user costs its key listing and the new key's last use.
    assert_eq!(overlap.get("IAM.ListAccessKeys"), Some(&1), "{overlap:?}");
    assert_eq!(
        overlap.get("IAM.GetAccessKeyLastUsed"),
        Some(&1),
        "{overlap:?}"
    );
    assert!(old.starts_with("AKIA"));
}

#[tokio::test(flavor = "multi_thread")]
async fn a_key_made_while_its_answer_was_lost_is_deleted_by_the_next_run() {
    let account = fresh_account().await;
    let old = old_key_user(&account, "svc").await;
    let dir = kit::workdir();
    let config = support::cli::desired(dir.path(), &rules(&account, ""));
    let config = config.to_str().unwrap();
    let transcript = Transcript::default();
    // Every CreateAccessKey is carried out and its answer dropped: the first makes a key,
    // the SDK's retries are refused (two keys), and apply never learns the key's id.
    let lost = Faults {
        poison: vec![vec!["Action=CreateAccessKey".to_owned()]],
        poison_kind: FaultKind::DropAfter,
        ..Faults::none()
    };
    let proxy = FaultProxy::start(&support::endpoint(), lost);
    let mut cmd = iamctl(&account, &proxy.url());
    cmd.args(["apply", "--auto-approve", "-c", config]);
    let applied = kit::run(cmd, &transcript);
    drop(proxy);
    assert_eq!(applied.code, Some(1), "{}", applied.show());
    assert!(
        applied.stdout.contains(&format!(
            "the old key {old} is unchanged (a key IAM made all the same, its answer lost, is deleted by the next run)"
        )),
        "{}",
        applied.show()
    );
    let stray = undelivered(&account, "svc", &old).await;
    assert_eq!(stray.len(), 1, "IAM made a key: {stray:?}");
    let next = run(
        &account,
        &["plan", "--format", "json", "-c", config],
        &transcript,
    );
    let planned = changes(&next.stdout);
    assert_eq!(planned.len(), 1, "{}", next.stdout);
    assert_eq!(
        planned[0]["address"],
        format!("user.svc.access_key.{}", stray[0])
    );
    assert_eq!(planned[0]["action"], "delete");
    for _ in 0..2 {
        let applied = run(
            &account,
            &["apply", "--auto-approve", "-c", config],
            &transcript,
        );
        assert_eq!(applied.code, Some(0), "{}", applied.show());
    }
    let done = run(
        &account,
        &["plan", "--detailed-exitcode", "-c", config],
        &transcript,
    );
    assert_eq!(done.code, Some(0), "{}", done.show());
    assert_eq!(
        undelivered(&account, "svc", &old).await,
        Vec::<String>::new()
    );
    assert_eq!(keys(&account, "svc").await.len(), 2);
}
