//! A fleet's memory stays flat with its size: `plan` keeps what the accounts in flight need,
//! each account's plan spilled to disk as it is made and printed from there, so 200 accounts
//! on moto peak within 1.25x of 20 (issue 24). The peak is the child's own (`VmHWM`, polled),
//! both runs at the same `--parallelism`, so the accounts in flight are alike and only the
//! number of accounts differs.

use std::fs::File;
use std::path::Path;
use std::process::Stdio;

use crate::support::cli::iamctl_process;
use crate::support::{Account, SeedUser, fresh_account, seed_user};
use futures::StreamExt;
use serde_json::Value;

/// Accounts read at once in both runs: under the smaller fleet, so neither run is bounded by
/// its own size.
const PARALLELISM: &str = "8";

/// The rules every account is planned against: each seeded account breaks some.
const RULES: &str = r#"
[password_policy]
minimum_length = 14

[users.console]
require_mfa = true
without_mfa = "report"

[users.access_keys]
max_active = 1
"#;

/// An account with two users: a console user without MFA, and one with two active keys.
async fn seeded_account() -> Account {
    let account = fresh_account().await;
    let iam = account.iam().await;
    let console = SeedUser {
        console: true,
        ..SeedUser::default()
    };
    seed_user(&iam, "alice", console).await;
    let keys = SeedUser {
        active_keys: 2,
        ..SeedUser::default()
    };
    seed_user(&iam, "bob", keys).await;
    account
}

/// A desired state of `accounts`, each reached by assuming a role in it.
fn desired(dir: &Path, name: &str, accounts: &[Account]) -> std::path::PathBuf {
    let mut text = RULES.to_owned();
    for (i, account) in accounts.iter().enumerate() {
        text.push_str(&format!(
            "\n[[account]]\nname = \"acct-{i:03}\"\nrole_arn = \"{}\"\n",
            account.role_arn("iamctl")
        ));
    }
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap();
    path
}

/// Runs `iamctl plan --format json` over `config` as `base`; returns the plan and the run's
/// peak RSS in KiB.
fn plan_with_peak_rss(base: &Account, config: &Path, out: &Path) -> (Value, i64) {
    let stdout = File::create(out).unwrap();
    let mut cmd = iamctl_process();
    cmd.envs(base.env())
        .args([
            "plan",
            "--format",
            "json",
            "--parallelism",
            PARALLELISM,
            "-c",
        ])
        .arg(config)
        .stdout(Stdio::from(stdout))
        .stderr(Stdio::null());
    let mut child = cmd.spawn().expect("spawning iamctl");
    // The peak is read from /proc as the run goes: VmHWM is the high-water mark of the
    // program's own memory since its exec. (`wait4`'s ru_maxrss would not do: it counts the
    // memory of the process that spawned it, shared until the exec.)
    let status_file = format!("/proc/{}/status", child.id());
    let mut peak = 0;
    let status = loop {
        if let Some(hwm) = std::fs::read_to_string(&status_file)
            .ok()
            .and_then(|status| vm_hwm(&status))
        {
            peak = peak.max(hwm);
        }
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        std::thread::sleep(std::time::Duration::from_millis(5));
    };
    let code = status.code().unwrap_or(-1);
    let text = std::fs::read_to_string(out).unwrap();
    // The plan has changes: exit 0 without --detailed-exitcode.
    assert_eq!(code, 0, "iamctl plan exited {code}: {text}");
    let plan: Value = serde_json::from_str(&text).unwrap();
    (plan, peak)
}

/// `VmHWM` of a `/proc/PID/status`, in KiB.
fn vm_hwm(status: &str) -> Option<i64> {
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

#[tokio::test(flavor = "multi_thread")]
async fn a_fleet_of_200_accounts_peaks_within_a_quarter_of_20() {
    let base = fresh_account().await;
    let accounts: Vec<Account> = futures::stream::iter(0..200)
        .map(|_| seeded_account())
        .buffered(16)
        .collect()
        .await;
    let dir = tempfile::tempdir().unwrap();
    let small = desired(dir.path(), "20.toml", &accounts[..20]);
    let large = desired(dir.path(), "200.toml", &accounts);

    let (plan_20, rss_20) = plan_with_peak_rss(&base, &small, &dir.path().join("20.json"));
    let (plan_200, rss_200) = plan_with_peak_rss(&base, &large, &dir.path().join("200.json"));

    // Every account planned, in target order (whatever order they finished in), each with
    // what it breaks: the streamed plan is the whole plan.
    let names: Vec<&str> = plan_200["accounts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["name"].as_str().unwrap())
        .collect();
    let expected: Vec<String> = (0..200).map(|i| format!("acct-{i:03}")).collect();
    assert_eq!(names, expected);
    for account in plan_200["accounts"].as_array().unwrap() {
        assert!(account.get("error").is_none(), "{account}");
        assert!(
            !account["changes"].as_array().unwrap().is_empty(),
            "{account}"
        );
        assert!(
            !account["findings"].as_array().unwrap().is_empty(),
            "{account}"
        );
    }
    assert_eq!(plan_20["accounts"].as_array().unwrap().len(), 20);
    // The credential report's age aside (moto makes one per read).
    let items = |plan: &Value| {
        let mut account = plan["accounts"][7].clone();
        account
            .as_object_mut()
            .unwrap()
            .remove("credential_report_generated_at");
        account
    };
    assert_eq!(
        items(&plan_20),
        items(&plan_200),
        "an account plans alike in either fleet"
    );
    let summary = &plan_200["summary"];
    assert_eq!(
        summary["changes"].as_u64().unwrap(),
        10 * plan_20["summary"]["changes"].as_u64().unwrap()
    );

    let ratio = rss_200 as f64 / rss_20 as f64;
    eprintln!(
        "peak RSS: 20 accounts {} KiB, 200 accounts {} KiB ({ratio:.2}x)",
        rss_20, rss_200
    );
    assert!(
        ratio <= 1.25,
        "200 accounts peaked at {rss_200} KiB, {ratio:.2}x the {rss_20} KiB of 20: a fleet's memory grows with its size"
    );
}
