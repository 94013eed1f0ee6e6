//! Running the `iamctl` binary from a test and reading what it said: a desired state
//! written to a folder, a run's exit code and output, a JSON plan's changes.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use super::Account;

/// Writes `text` to `dir/desired.toml` and returns that path.
pub fn desired(dir: &Path, text: &str) -> PathBuf {
    let path = dir.join("desired.toml");
    std::fs::write(&path, text).unwrap();
    path
}

/// One finished `iamctl` run.
#[derive(Debug, Clone)]
pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

/// Runs `cmd` with `NO_COLOR=1` to its end and keeps its exit code and output.
pub fn output(cmd: &mut assert_cmd::Command) -> Run {
    let output = cmd.env("NO_COLOR", "1").output().unwrap();
    Run {
        code: output.status.code().expect("exited"),
        stdout: String::from_utf8(output.stdout).unwrap(),
        stderr: String::from_utf8(output.stderr).unwrap(),
    }
}

/// `iamctl args...` acting in `account` ([`Account::cmd`]).
pub fn run(account: &Account, args: &[&str]) -> Run {
    output(account.cmd().args(args))
}

/// The `iamctl` binary in a clean environment: only `PATH` and `HOME` are kept, so nothing of
/// the developer's AWS setup or terminal leaks into a test. Every test runs the binary
/// through this one builder.
pub fn iamctl() -> assert_cmd::Command {
    assert_cmd::Command::from_std(iamctl_process())
}

/// [`iamctl`] as a `std::process::Command`, for tests that spawn it and watch it run (kill it,
/// time it, read its output as it comes).
pub fn iamctl_process() -> std::process::Command {
    let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_iamctl"));
    cmd.env_clear();
    for key in ["PATH", "HOME"] {
        if let Some(value) = std::env::var_os(key) {
            cmd.env(key, value);
        }
    }
    cmd
}

/// The binary with no way to reach AWS: a clean environment, an endpoint that refuses
/// connections, no credentials, and the crate's root as working folder.
pub fn offline_cmd() -> assert_cmd::Command {
    let mut cmd = iamctl();
    cmd.env("AWS_ENDPOINT_URL", "http://127.0.0.1:9")
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .env("AWS_CONFIG_FILE", "/nonexistent")
        .env("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent")
        .current_dir(env!("CARGO_MANIFEST_DIR"));
    cmd
}

/// The changes of a JSON plan's first account, as `(address, action)`.
pub fn plan_changes(json: &str) -> BTreeSet<(String, String)> {
    let plan: serde_json::Value =
        serde_json::from_str(json).unwrap_or_else(|e| panic!("not a JSON plan ({e}): {json}"));
    plan["accounts"][0]["changes"]
        .as_array()
        .unwrap_or_else(|| panic!("no changes in {json}"))
        .iter()
        .map(|c| {
            (
                c["address"].as_str().unwrap().to_owned(),
                c["action"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

/// `(address, action)` pairs as [`plan_changes`] gives them, to compare with.
pub fn pairs(items: &[(&str, &str)]) -> BTreeSet<(String, String)> {
    items
        .iter()
        .map(|(a, b)| ((*a).to_owned(), (*b).to_owned()))
        .collect()
}

/// The `-v` line `api calls: N (Service.Operation=n ...)` of a run's stderr, as operation →
/// count (checked against its total).
pub fn api_calls(stderr: &str) -> BTreeMap<String, u64> {
    let line = stderr
        .lines()
        .find_map(|l| l.strip_prefix("api calls: "))
        .unwrap_or_else(|| panic!("no `api calls:` line in: {stderr}"));
    let (total, detail) = line
        .split_once(" (")
        .unwrap_or_else(|| panic!("{line:?} in {stderr}"));
    // Service names may hold a space ("Secrets Manager.PutSecretValue=1").
    let mut calls = BTreeMap::new();
    let mut pending = String::new();
    for word in detail.trim_end_matches(')').split(' ') {
        match word.split_once('=') {
            Some((op, n)) => {
                calls.insert(format!("{pending}{op}"), n.parse().unwrap());
                pending.clear();
            }
            None => pending.push_str(&format!("{word} ")),
        }
    }
    assert_eq!(
        calls.values().sum::<u64>(),
        total.parse::<u64>().unwrap(),
        "{line}"
    );
    calls
}

/// The IAM calls of a `-v` run ([`api_calls`] of the `IAM` service).
pub fn iam_calls(stderr: &str) -> u64 {
    api_calls(stderr)
        .iter()
        .filter(|(op, _)| op.starts_with("IAM."))
        .map(|(_, n)| n)
        .sum()
}
