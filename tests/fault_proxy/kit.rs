//! What the reliability tests share: a seeded workload of a few dozen to a few hundred
//! planned changes, running `iamctl` with its output kept, reading back live state to check
//! that every change is in effect, and scanning everything a run wrote for secrets.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex};

use aws_sdk_iam::error::DisplayErrorContext;
use aws_sdk_iam::types::StatusType;
use futures::StreamExt;

use crate::support::{Account, Backdate, SEED_PASSWORD, live_state};

pub const DENY_POLICY: &str = "iamctl-deny-without-mfa";

/// How many users of each kind a workload seeds. Each kind draws known changes:
/// - `con`: console, no MFA: `attach` the deny policy, `reset_password` (the policy tightens)
/// - `mfa`: console, MFA, the deny policy still attached: `detach`, `reset_password`
/// - `off`: console with MFA, `[[user]] console = false`: `delete` the login profile
/// - `new`: no console, MFA, `[[user]] console = true`: `create` a login profile
/// - `old`: an active key 120 days old: `deactivate` (recorded for deletion after its grace
///   under `delete_inactive`)
/// - `idle`: an active key unused for 60 days: `delete`
/// - `dead`: two inactive keys: two `tag`s starting their deletion grace (only under
///   `delete_inactive`)
/// - `ok`: a fresh active key, no console: nothing, ever
///
/// plus one `update` of the password policy (from minimum length 8 to the baseline).
#[derive(Debug, Clone, Copy, Default)]
pub struct Mix {
    pub con: usize,
    pub mfa: usize,
    pub off: usize,
    pub new: usize,
    pub old: usize,
    pub idle: usize,
    pub dead: usize,
    pub ok: usize,
    pub delete_inactive: bool,
}

impl Mix {
    /// The number of changes the first plan holds.
    pub fn changes(&self) -> usize {
        1 + 2 * self.con
            + 2 * self.mfa
            + self.off
            + self.new
            + self.old
            + self.idle
            + if self.delete_inactive {
                2 * self.dead
            } else {
                0
            }
    }

    fn names(&self) -> Vec<(&'static str, String)> {
        let mut out = Vec::new();
        for (kind, n) in [
            ("con", self.con),
            ("mfa", self.mfa),
            ("off", self.off),
            ("new", self.new),
            ("old", self.old),
            ("idle", self.idle),
            ("dead", self.dead),
            ("ok", self.ok),
        ] {
            for i in 0..n {
                out.push((kind, format!("{kind}-{i:03}")));
            }
        }
        out
    }

    /// The desired-state TOML of this workload.
    pub fn desired(&self) -> String {
        let mut text = format!(
            r#"[password_policy]
minimum_length = 14
require_uppercase = true
require_lowercase = true
require_numbers = true
require_symbols = true
allow_users_to_change = true
max_age_days = 90
reuse_prevention = 24

[users.console]
require_mfa = true
without_mfa = "deny-until-mfa"
reset_on_policy_tightening = true

[users.access_keys]
max_age_days = 90
on_expired = "deactivate"
max_unused_days = 45
on_unused = "delete"
delete_inactive = {}
delete_inactive_after_days = 14
"#,
            self.delete_inactive
        );
        for (kind, name) in self.names() {
            match kind {
                "off" => {
                    text.push_str(&format!("\n[[user]]\nname = \"{name}\"\nconsole = false\n"))
                }
                "new" => text.push_str(&format!("\n[[user]]\nname = \"{name}\"\nconsole = true\n")),
                _ => {}
            }
        }
        text
    }
}

/// A seeded account: the users and what was created for them.
pub struct Workload {
    /// User name -> kind (`con`, `old`, ...).
    pub kinds: BTreeMap<String, &'static str>,
    /// User name -> the ids of the access keys seeded for it.
    pub keys: BTreeMap<String, Vec<String>>,
    /// Every secret the seeding created (secret access keys, the console password).
    pub secrets: Vec<String>,
}

/// One seeded user: its name, its kind, and its keys as (id, secret).
type Seeded = (String, &'static str, Vec<(String, String)>);

/// Seeds `mix` into `account` (straight to moto, `parallel` calls at a time).
pub async fn seed(account: &Account, mix: Mix, parallel: usize) -> Workload {
    let iam = account.iam().await;
    iam.update_account_password_policy()
        .minimum_password_length(8)
        .send()
        .await
        .expect("UpdateAccountPasswordPolicy");
    let policy_arn = if mix.mfa > 0 {
        let out = iam
            .create_policy()
            .policy_name(DENY_POLICY)
            .policy_document(r#"{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Action":"*","Resource":"*"}]}"#)
            .send()
            .await
            .expect("CreatePolicy");
        out.policy.and_then(|p| p.arn)
    } else {
        None
    };
    let seeded: Vec<Seeded> = futures::stream::iter(mix.names())
        .map(|(kind, name)| {
            let (iam, policy_arn) = (iam.clone(), policy_arn.clone());
            async move {
                let keys = seed_one(account, &iam, kind, &name, policy_arn.as_deref()).await;
                (name, kind, keys)
            }
        })
        .buffer_unordered(parallel.max(1))
        .collect()
        .await;
    let mut workload = Workload {
        kinds: BTreeMap::new(),
        keys: BTreeMap::new(),
        secrets: vec![SEED_PASSWORD.to_owned()],
    };
    for env in account.env() {
        if env.0 == "AWS_SECRET_ACCESS_KEY" || env.0 == "AWS_SESSION_TOKEN" {
            workload.secrets.push(env.1);
        }
    }
    for (name, kind, keys) in seeded {
        workload.kinds.insert(name.clone(), kind);
        workload
            .keys
            .insert(name.clone(), keys.iter().map(|k| k.0.clone()).collect());
        workload.secrets.extend(keys.into_iter().map(|k| k.1));
    }
    workload
}

async fn seed_one(
    account: &Account,
    iam: &aws_sdk_iam::Client,
    kind: &str,
    name: &str,
    deny_arn: Option<&str>,
) -> Vec<(String, String)> {
    let fail = |step: &str, e: &dyn std::error::Error| -> ! {
        panic!("seeding {name}: {step}: {}", DisplayErrorContext(e))
    };
    iam.create_user()
        .user_name(name)
        .send()
        .await
        .unwrap_or_else(|e| fail("CreateUser", &e));
    if matches!(kind, "con" | "mfa" | "off") {
        iam.create_login_profile()
            .user_name(name)
            .password(SEED_PASSWORD)
            .send()
            .await
            .unwrap_or_else(|e| fail("CreateLoginProfile", &e));
    }
    if matches!(kind, "mfa" | "off" | "new") {
        crate::support::enable_virtual_mfa(iam, name).await;
    }
    if kind == "mfa" {
        iam.attach_user_policy()
            .user_name(name)
            .policy_arn(deny_arn.expect("the deny policy exists"))
            .send()
            .await
            .unwrap_or_else(|e| fail("AttachUserPolicy", &e));
    }
    let n_keys = match kind {
        "old" | "idle" | "ok" => 1,
        "dead" => 2,
        _ => 0,
    };
    let mut keys = Vec::new();
    for _ in 0..n_keys {
        let key = iam
            .create_access_key()
            .user_name(name)
            .send()
            .await
            .unwrap_or_else(|e| fail("CreateAccessKey", &e))
            .access_key
            .expect("a key");
        if kind == "dead" {
            iam.update_access_key()
                .user_name(name)
                .access_key_id(&key.access_key_id)
                .status(StatusType::Inactive)
                .send()
                .await
                .unwrap_or_else(|e| fail("UpdateAccessKey", &e));
        }
        keys.push((key.access_key_id, key.secret_access_key));
    }
    let key = keys.first().map(|k| k.0.as_str());
    let days = match kind {
        "old" => Some((120.0, 1.0)),
        "idle" => Some((70.0, 60.0)),
        _ => None,
    };
    if let Some((created, used)) = days {
        account.backdate(Backdate {
            user: name,
            access_key_id: key,
            created_days_ago: Some(created),
            last_used_days_ago: Some(used),
            ..Default::default()
        });
    }
    keys
}

/// One user as IAM has it now.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LiveUser {
    /// `Some(password_reset_required)` when a login profile exists.
    pub profile: Option<bool>,
    pub attached: Vec<String>,
    /// Key id -> `Active` / `Inactive`.
    pub keys: BTreeMap<String, String>,
}

/// The account as IAM has it now, for the workload's users (read straight from moto).
pub struct Live {
    pub minimum_length: Option<i32>,
    pub policy_is_baseline: bool,
    pub users: BTreeMap<String, LiveUser>,
    /// Per user, the keys whose inactivity is on record (`iamctl:inactive-since:KEY` tags).
    pub records: BTreeMap<String, Vec<String>>,
}

pub async fn read_live(account: &Account, workload: &Workload) -> Live {
    let iam = account.iam().await;
    let policy = iam
        .get_account_password_policy()
        .send()
        .await
        .ok()
        .and_then(|o| o.password_policy);
    let policy_is_baseline = policy.as_ref().is_some_and(|p| {
        p.minimum_password_length == Some(14)
            && p.require_symbols
            && p.require_numbers
            && p.require_uppercase_characters
            && p.require_lowercase_characters
            && p.allow_users_to_change_password
            && p.max_password_age == Some(90)
            && p.password_reuse_prevention == Some(24)
            && p.hard_expiry != Some(true)
    });
    let users = futures::stream::iter(workload.kinds.keys().cloned())
        .map(|name| {
            let iam = iam.clone();
            async move {
                let profile = live_state::login_profile(&iam, &name).await;
                let attached = live_state::attached(&iam, &name).await;
                let keys = live_state::key_statuses(&iam, &name)
                    .await
                    .into_iter()
                    .collect();
                let records: Vec<String> = iam
                    .list_user_tags()
                    .user_name(&name)
                    .send()
                    .await
                    .unwrap_or_else(|e| panic!("ListUserTags {name}: {}", DisplayErrorContext(&e)))
                    .tags()
                    .iter()
                    .filter_map(|t| t.key().strip_prefix("iamctl:inactive-since:"))
                    .map(str::to_owned)
                    .collect();
                (
                    name,
                    LiveUser {
                        profile,
                        attached,
                        keys,
                    },
                    records,
                )
            }
        })
        .buffer_unordered(16)
        .collect::<Vec<_>>()
        .await;
    let mut records = BTreeMap::new();
    let users = users
        .into_iter()
        .map(|(name, user, recorded)| {
            records.insert(name.clone(), recorded);
            (name, user)
        })
        .collect();
    Live {
        minimum_length: policy.and_then(|p| p.minimum_password_length),
        policy_is_baseline,
        users,
        records,
    }
}

/// Whether one planned change (address, action) is in effect in `live`.
pub fn in_effect(live: &Live, address: &str, action: &str) -> bool {
    if address == "password_policy" {
        return live.policy_is_baseline;
    }
    let rest = address.strip_prefix("user.").expect("a user address");
    let (user, what) = rest.split_once('.').expect("a sub-address");
    let Some(u) = live.users.get(user) else {
        return false;
    };
    match (what, action) {
        ("login_profile", "delete") => u.profile.is_none(),
        ("login_profile", "create") => u.profile.is_some(),
        ("login_profile", "reset_password") => u.profile == Some(true),
        (policy, "attach") => u
            .attached
            .iter()
            .any(|p| policy.strip_prefix("policy.") == Some(p.as_str())),
        (policy, "detach") => !u
            .attached
            .iter()
            .any(|p| policy.strip_prefix("policy.") == Some(p.as_str())),
        (key, "delete") => !u
            .keys
            .contains_key(key.strip_prefix("access_key.").unwrap_or(key)),
        (key, "deactivate") => u
            .keys
            .get(key.strip_prefix("access_key.").unwrap_or(key))
            .is_none_or(|s| s == "Inactive"),
        (key, "tag") => live.records.get(user).is_some_and(|keys| {
            keys.iter()
                .any(|k| Some(k.as_str()) == key.strip_prefix("access_key."))
        }),
        other => panic!("unknown change {address} {other:?}"),
    }
}

/// Checks that live state is exactly the desired end state of the workload; returns what
/// differs, one line each (empty: converged).
pub fn differences(live: &Live, workload: &Workload) -> Vec<String> {
    let mut out = Vec::new();
    if !live.policy_is_baseline {
        out.push(format!(
            "password policy is not the baseline (minimum length {:?})",
            live.minimum_length
        ));
    }
    let deny = vec![DENY_POLICY.to_owned()];
    for (name, kind) in &workload.kinds {
        let u = &live.users[name];
        let seeded = &workload.keys[name];
        let status = |s: &str| -> BTreeMap<String, String> {
            seeded.iter().map(|k| (k.clone(), s.to_owned())).collect()
        };
        let want = match *kind {
            "con" => LiveUser {
                profile: Some(true),
                attached: deny.clone(),
                keys: BTreeMap::new(),
            },
            "mfa" => LiveUser {
                profile: Some(true),
                attached: vec![],
                keys: BTreeMap::new(),
            },
            "off" => LiveUser {
                profile: None,
                attached: vec![],
                keys: BTreeMap::new(),
            },
            "new" => LiveUser {
                profile: Some(true),
                attached: vec![],
                keys: BTreeMap::new(),
            },
            // Deactivated (and under delete_inactive recorded, to be deleted after the grace).
            "old" => LiveUser {
                profile: None,
                attached: vec![],
                keys: status("Inactive"),
            },
            "idle" => LiveUser {
                profile: None,
                attached: vec![],
                keys: BTreeMap::new(),
            },
            // Left inactive (under delete_inactive, recorded: their grace has begun).
            "dead" => LiveUser {
                profile: None,
                attached: vec![],
                keys: status("Inactive"),
            },
            _ => LiveUser {
                profile: None,
                attached: vec![],
                keys: status("Active"),
            },
        };
        if *u != want {
            out.push(format!("{name}: live {u:?}, desired {want:?}"));
        }
    }
    out
}

/// Everything the tests' runs printed and wrote, to be scanned for secrets at the end.
#[derive(Clone, Default)]
pub struct Transcript(Arc<Mutex<Vec<(String, String)>>>);

impl Transcript {
    pub fn add(&self, label: impl Into<String>, text: impl Into<String>) {
        self.0.lock().unwrap().push((label.into(), text.into()));
    }

    /// Adds a file the run wrote (a plan, a snapshot, an audit log); a missing file is none.
    pub fn add_file(&self, path: &Path) {
        if let Ok(bytes) = std::fs::read(path) {
            self.add(
                path.display().to_string(),
                String::from_utf8_lossy(&bytes).into_owned(),
            );
        }
    }

    pub fn bytes(&self) -> usize {
        self.0.lock().unwrap().iter().map(|(_, t)| t.len()).sum()
    }

    pub fn texts(&self) -> usize {
        self.0.lock().unwrap().len()
    }

    /// Where each secret occurs: `(label, secret prefix)`; empty when none does.
    pub fn hits(&self, secrets: &[String]) -> Vec<(String, String)> {
        let texts = self.0.lock().unwrap();
        let mut hits = Vec::new();
        for secret in secrets.iter().filter(|s| s.len() >= 8) {
            for (label, text) in texts.iter() {
                if text.contains(secret.as_str()) {
                    hits.push((label.clone(), secret.chars().take(4).collect()));
                }
            }
        }
        hits
    }
}

/// The generated console passwords in `dir` (`<user>.password` files).
pub fn generated_passwords(dir: &Path) -> Vec<String> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    entries
        .filter_map(|e| e.ok())
        .filter(|e| e.path().extension().is_some_and(|x| x == "password"))
        .filter_map(|e| std::fs::read_to_string(e.path()).ok())
        .map(|t| t.trim().to_owned())
        .collect()
}

/// One finished `iamctl` run.
#[derive(Debug, Clone)]
pub struct Run {
    pub code: Option<i32>,
    pub took: std::time::Duration,
    pub stdout: String,
    pub stderr: String,
}

impl Run {
    pub fn show(&self) -> String {
        format!(
            "exit {:?} after {:.1}s\n--- stdout\n{}\n--- stderr\n{}",
            self.code,
            self.took.as_secs_f64(),
            self.stdout,
            self.stderr
        )
    }
}

/// `iamctl` in a clean environment acting in `account`, through `endpoint` (the proxy's
/// URL, or moto's own).
pub fn iamctl(account: &Account, endpoint: &str) -> Command {
    let mut cmd = crate::support::cli::iamctl_process();
    cmd.envs(account.env());
    cmd.env("AWS_ENDPOINT_URL", endpoint);
    cmd.env("NO_COLOR", "1");
    cmd.stdin(Stdio::null());
    cmd
}

/// Runs `cmd` to its end; its output goes into `transcript` too.
pub fn run(mut cmd: Command, transcript: &Transcript) -> Run {
    let label = format!("{cmd:?}")
        .split_whitespace()
        .filter(|w| !w.contains('='))
        .collect::<Vec<_>>()
        .join(" ");
    let started = std::time::Instant::now();
    let output = cmd.output().expect("running iamctl");
    let run = Run {
        code: output.status.code(),
        took: started.elapsed(),
        stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
    };
    if std::env::var_os("IAMCTL_RELIABILITY_TRACE").is_some() {
        eprintln!(
            "{label}: exit {:?} in {:.1}s",
            run.code,
            run.took.as_secs_f64()
        );
        static N: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
        let n = N.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        let path = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(format!("trace-{n}.txt"));
        let _ = std::fs::write(path, format!("{label}\n{}", run.show()));
    }
    transcript.add(format!("stdout of {label}"), run.stdout.clone());
    transcript.add(format!("stderr of {label}"), run.stderr.clone());
    run
}

/// The plan of one account as JSON text: changes and findings, without the report's age.
pub fn plan_body(json: &str) -> serde_json::Value {
    let plan: serde_json::Value = serde_json::from_str(json).expect("a JSON plan");
    let account = &plan["accounts"][0];
    serde_json::json!({"changes": account["changes"], "findings": account["findings"], "error": account["error"]})
}

/// One audit-log record.
#[derive(Debug, Clone)]
pub struct Audited {
    pub address: String,
    pub action: String,
    pub status: String,
    /// The error or the reason, when there is one.
    pub detail: String,
}

pub fn read_audit(path: &Path) -> Vec<Audited> {
    let Ok(text) = std::fs::read_to_string(path) else {
        return Vec::new();
    };
    text.lines()
        .map(|line| {
            let v: serde_json::Value = serde_json::from_str(line)
                .unwrap_or_else(|e| panic!("audit line {line:?} is not JSON: {e}"));
            let s = |k: &str| v[k].as_str().unwrap_or_default().to_owned();
            Audited {
                address: s("address"),
                action: s("action"),
                status: s("status"),
                detail: format!("{}{}", s("error"), s("reason")),
            }
        })
        .collect()
}

/// How every reliability scenario starts: a fresh account seeded with `mix`, and a work
/// folder holding the mix's desired state (`config`, a path argument).
pub struct Scenario {
    pub account: Account,
    pub workload: Workload,
    pub workdir: tempfile::TempDir,
    pub config: String,
}

impl Scenario {
    pub async fn new(mix: Mix, parallel: usize) -> Self {
        let account = crate::support::fresh_account().await;
        let workload = seed(&account, mix, parallel).await;
        let workdir = workdir();
        let config = arg(workdir.path(), "desired.toml");
        std::fs::write(&config, mix.desired()).expect("writing the desired state");
        Self {
            account,
            workload,
            workdir,
            config,
        }
    }
}

/// A temporary folder for one test's files, kept on failure for a look.
pub fn workdir() -> tempfile::TempDir {
    tempfile::Builder::new()
        .prefix("iamctl-reliability-")
        .tempdir_in(env!("CARGO_TARGET_TMPDIR"))
        .expect("a temporary folder")
}

/// Path helper: `dir/name` as a `String` argument.
pub fn arg(dir: &Path, name: &str) -> String {
    dir.join(name).display().to_string()
}

/// Appends one figures line to `target/tmp/reliability-figures.txt` and prints it (shown
/// with `--nocapture`), so a run's measurements can be read after it.
pub fn figures(line: &str) {
    println!("FIGURES {line}");
    let path = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("reliability-figures.txt");
    let mut text = std::fs::read_to_string(&path).unwrap_or_default();
    text.push_str(line);
    text.push('\n');
    let _ = std::fs::write(path, text);
}
