//! The `iamctl` binary run offline: `validate`, `schema`, `plan --snapshot` in every format,
//! exit codes, and malformed input. None of these may make an AWS call, so every run here has
//! an endpoint that refuses connections and no credentials.

use crate::support;

use std::path::{Path, PathBuf};

use assert_cmd::Command;
use predicates::prelude::*;

/// The binary with no way to reach AWS: any call would fail loudly.
fn iamctl() -> Command {
    support::cli::offline_cmd()
}

const EXAMPLE_PLAN: [&str; 7] = [
    "plan",
    "-c",
    "examples/desired",
    "--snapshot",
    "examples/snapshot.json",
    "--as-of",
    "2026-11-01",
];

fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap();
    path
}

#[test]
fn validate_accepts_the_example_and_says_so() {
    iamctl()
        .args(["validate", "-c", "examples/desired"])
        .assert()
        .success()
        .stderr(predicate::str::contains("desired state is valid: 1 file"));
}

/// A fresh checkout: `desired/` is the default `-c`, and the README's first command plans the
/// bundled example with it, each account of the snapshot a target of the baseline.
#[test]
fn the_shipped_baseline_is_the_default_desired_state_and_plans_the_example() {
    iamctl()
        .arg("validate")
        .assert()
        .success()
        .stderr("desired state is valid: 1 file, 1 target\n");
    let output = iamctl()
        .args([
            "plan",
            "--snapshot",
            "examples/snapshot.json",
            "--as-of",
            "2026-11-01",
        ])
        .args(["--format", "json"])
        .output()
        .unwrap();
    assert!(output.status.success());
    let plan: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    let names: Vec<&str> = plan["accounts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["prod", "staging"]);
    assert!(plan["summary"]["changes"].as_u64().unwrap() > 0);
    assert!(plan["accounts"][0]["error"].is_null());
}

#[test]
fn a_declared_account_missing_from_the_snapshot_fails_alone() {
    let dir = tempfile::tempdir().unwrap();
    let desired = write(
        dir.path(),
        "d.toml",
        "[users.access_keys]\nmax_age_days = 90\n[[account]]\nname = \"prod\"\n[[account]]\nname = \"qa\"\n",
    );
    let output = iamctl()
        .args(["plan", "--snapshot", "examples/snapshot.json", "-c"])
        .arg(&desired)
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1));
    let stdout = String::from_utf8(output.stdout).unwrap();
    assert!(
        stdout.contains("the snapshot has no account named \"qa\" (it has: prod, staging)"),
        "{stdout}"
    );
    assert!(stdout.contains("account prod (111111111111)"), "{stdout}");
}

#[test]
fn validate_reports_every_error_with_file_line_column_and_key() {
    let dir = tempfile::tempdir().unwrap();
    let path = write(
        dir.path(),
        "bad.toml",
        "[password_policy]\nminimum_length = 200\nreuse_prevention = 0\n\n[users.console]\nrequire_mfaa = true\n",
    );
    let output = iamctl()
        .args(["validate", "-c"])
        .arg(&path)
        .env("NO_COLOR", "1")
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1));
    let stderr = String::from_utf8(output.stderr).unwrap();
    let file = path.display().to_string();
    for expected in [
        format!(
            "{file}:2:18: password_policy.minimum_length: minimum_length must be between 6 and 128, got 200"
        ),
        format!(
            "{file}:3:20: password_policy.reuse_prevention: reuse_prevention must be between 1 and 24, got 0"
        ),
        format!("{file}:6:1: users.console.require_mfaa"),
    ] {
        assert!(
            stderr.contains(&expected),
            "missing {expected:?} in:\n{stderr}"
        );
    }
    assert!(
        stderr.contains("the desired state has 3 errors"),
        "{stderr}"
    );
}

#[test]
fn a_missing_config_is_a_clear_error() {
    iamctl()
        .args(["validate", "-c", "no/such/dir"])
        .assert()
        .code(1)
        .stderr(predicate::str::contains(
            "reading desired state no/such/dir",
        ));
}

#[test]
fn plan_on_the_example_snapshot_renders_text() {
    let output = iamctl().args(EXAMPLE_PLAN).output().unwrap();
    assert_eq!(
        output.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let stdout = String::from_utf8(output.stdout).unwrap();
    assert!(stdout.contains("password_policy"), "{stdout}");
    assert!(!stdout.contains('\u{1b}'), "colour without a terminal");
    let summary = stdout.lines().rev().find(|l| !l.trim().is_empty()).unwrap();
    assert!(summary.starts_with("Plan: "), "last line {summary:?}");
}

#[test]
fn plan_json_is_the_spec_format_and_matches_the_saved_plan() {
    let dir = tempfile::tempdir().unwrap();
    let saved = dir.path().join("plan.json");
    let output = iamctl()
        .args(EXAMPLE_PLAN)
        .args(["--format", "json", "-o"])
        .arg(&saved)
        .output()
        .unwrap();
    assert!(output.status.success());
    let printed: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(printed["format_version"], "1");
    assert_eq!(printed["as_of"], "2026-11-01T00:00:00Z");
    let account = &printed["accounts"][0];
    assert_eq!(account["name"], "prod");
    let changes = account["changes"].as_array().unwrap();
    assert!(!changes.is_empty());
    for change in changes {
        for key in ["address", "action", "rule", "before", "after"] {
            assert!(change.get(key).is_some(), "change without {key}: {change}");
        }
    }
    let all_changes: usize = printed["accounts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["changes"].as_array().unwrap().len())
        .sum();
    assert_eq!(
        printed["summary"]["changes"].as_u64().unwrap() as usize,
        all_changes
    );
    let saved: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&saved).unwrap()).unwrap();
    assert_eq!(saved, printed);
}

#[test]
fn plan_markdown_is_made_for_a_pull_request() {
    let output = iamctl()
        .args(EXAMPLE_PLAN)
        .args(["--format", "markdown"])
        .output()
        .unwrap();
    assert!(output.status.success());
    let stdout = String::from_utf8(output.stdout).unwrap();
    assert!(stdout.contains("<!-- iamctl-plan -->"));
    assert!(stdout.contains("```diff"), "{stdout}");
    assert!(stdout.contains("| prod |"), "{stdout}");
}

#[test]
fn detailed_exitcode_and_fail_on_findings() {
    iamctl()
        .args(EXAMPLE_PLAN)
        .arg("--detailed-exitcode")
        .assert()
        .code(2);
    iamctl()
        .args(EXAMPLE_PLAN)
        .arg("--fail-on-findings")
        .assert()
        .code(2);

    // A desired state the snapshot already meets: nothing to change, no findings.
    let dir = tempfile::tempdir().unwrap();
    let empty = write(
        dir.path(),
        "empty.toml",
        "# nothing managed\n[[account]]\nname = \"prod\"\n",
    );
    iamctl()
        .args([
            "plan",
            "--snapshot",
            "examples/snapshot.json",
            "--detailed-exitcode",
            "--fail-on-findings",
            "-c",
        ])
        .arg(&empty)
        .assert()
        .code(0)
        .stdout(predicate::str::contains("No changes"));
}

#[test]
fn as_of_forecasts_what_falls_due() {
    let count = |as_of: &str| -> u64 {
        let output = iamctl()
            .args([
                "plan",
                "-c",
                "examples/desired",
                "--snapshot",
                "examples/snapshot.json",
                "--format",
                "json",
                "--as-of",
                as_of,
            ])
            .output()
            .unwrap();
        assert!(output.status.success());
        let plan: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
        plan["summary"]["changes"].as_u64().unwrap() + plan["summary"]["findings"].as_u64().unwrap()
    };
    assert!(
        count("2027-11-01") > count("2026-11-01"),
        "a year later, more keys fall due"
    );
}

#[test]
fn account_selection_by_glob_and_unknown_names() {
    let output = iamctl()
        .args(EXAMPLE_PLAN)
        .args(["-a", "pr*", "--format", "json"])
        .output()
        .unwrap();
    assert!(output.status.success());
    let plan: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    let names: Vec<&str> = plan["accounts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["prod"]);
    iamctl()
        .args(EXAMPLE_PLAN)
        .args(["-a", "nope"])
        .assert()
        .code(1)
        .stderr(predicate::str::contains(
            "--account nope matches no target (targets: prod, staging)",
        ));
}

#[test]
fn a_malformed_snapshot_names_file_line_and_column() {
    let dir = tempfile::tempdir().unwrap();
    let snapshot = write(
        dir.path(),
        "snap.json",
        "{\"format_version\": \"1\",\n \"accounts\": [}\n",
    );
    let output = iamctl()
        .args(["plan", "-c", "examples/desired", "--snapshot"])
        .arg(&snapshot)
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1));
    let stderr = String::from_utf8(output.stderr).unwrap();
    assert!(
        stderr.contains(&format!("{}", snapshot.display())),
        "{stderr}"
    );
    assert!(
        stderr.contains(&format!("{}:2:15", snapshot.display())),
        "{stderr}"
    );
}

#[test]
fn schema_is_json_schema_of_the_desired_state() {
    let output = iamctl().arg("schema").output().unwrap();
    assert!(output.status.success());
    let schema: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(schema["title"], "iamctl desired state");
    let properties = schema["properties"].as_object().unwrap();
    for key in ["password_policy", "users", "user", "audit", "account"] {
        assert!(properties.contains_key(key), "schema lacks {key}");
    }
    let text = serde_json::to_string(&schema).unwrap();
    assert!(text.contains("\"maximum\":128"), "ranges are in the schema");
}

#[test]
fn apply_without_a_terminal_refuses_before_any_aws_call() {
    // No credentials and an unreachable endpoint: reading fails, and apply must exit 1.
    let dir = tempfile::tempdir().unwrap();
    let desired = write(
        dir.path(),
        "d.toml",
        "[password_policy]\nminimum_length = 14\n",
    );
    iamctl()
        .args(["apply", "-c"])
        .arg(&desired)
        .assert()
        .code(1);
}

#[test]
fn a_bad_flag_is_bad_input_and_exits_1_not_2() {
    iamctl()
        .args(["plan", "--bogus"])
        .assert()
        .code(1)
        .stderr(predicate::str::contains("unexpected argument '--bogus'"));
    iamctl().arg("--help").assert().code(0);
}
