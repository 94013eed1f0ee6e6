//! Bad input: malformed and hostile desired-state files, snapshots and saved plans (the
//! corpus in `tests/corpus/`, plus deep nesting and enormous files made here). Every one
//! must end in exit 1 with a clear message naming the file, without a panic, within a time
//! limit, and without a single AWS call: `AWS_ENDPOINT_URL` points at a counting proxy
//! that must see no request.

use crate::fault_proxy;
use crate::support;

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};

use fault_proxy::FaultProxy;

const LIMIT: Duration = Duration::from_secs(30);
/// A message people can read: not megabytes of it.
const MAX_STDERR: usize = 256 * 1024;

fn corpus(kind: &str) -> Vec<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/corpus")
        .join(kind);
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.unwrap().path())
        .collect();
    files.sort();
    assert!(!files.is_empty(), "empty corpus {}", dir.display());
    files
}

struct Outcome {
    code: Option<i32>,
    stderr: String,
    stdout: String,
    took: Duration,
}

/// Runs `iamctl args` offline: fake credentials, every endpoint at `proxy`.
fn iamctl(proxy: &FaultProxy, args: &[&str]) -> Outcome {
    let mut cmd = support::cli::iamctl_process();
    cmd.env("AWS_ENDPOINT_URL", proxy.url())
        .env("AWS_ACCESS_KEY_ID", "AKIAINPUTTESTS000000")
        .env("AWS_SECRET_ACCESS_KEY", "input-tests-secret-key")
        .env("AWS_REGION", "us-east-1")
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .env("AWS_CONFIG_FILE", "/dev/null")
        .env("AWS_SHARED_CREDENTIALS_FILE", "/dev/null")
        .env("NO_COLOR", "1")
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let started = Instant::now();
    let mut child = cmd.spawn().expect("starting iamctl");
    let mut stdout = child.stdout.take().unwrap();
    let mut stderr = child.stderr.take().unwrap();
    let out = std::thread::spawn(move || {
        let mut buf = Vec::new();
        stdout.read_to_end(&mut buf).ok();
        String::from_utf8_lossy(&buf).into_owned()
    });
    let err = std::thread::spawn(move || {
        let mut buf = Vec::new();
        stderr.read_to_end(&mut buf).ok();
        String::from_utf8_lossy(&buf).into_owned()
    });
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break Some(status);
        }
        if started.elapsed() > LIMIT {
            child.kill().ok();
            child.wait().ok();
            break None;
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    Outcome {
        code: status.and_then(|s| s.code()),
        stderr: err.join().unwrap(),
        stdout: out.join().unwrap(),
        took: started.elapsed(),
    }
}

/// Checks one refused input; returns a line describing what is wrong, if anything. The
/// message must name the file, on stderr, or on stdout when the refusal is part of the plan
/// printed there (an account a snapshot does not have), where it may say "the snapshot".
fn judge(what: &str, file: &Path, outcome: &Outcome) -> Option<String> {
    let name = file.file_name().unwrap().to_string_lossy();
    let first = outcome.stderr.lines().find(|l| !l.trim().is_empty());
    let problem = if outcome.took >= LIMIT {
        format!("still running after {LIMIT:?}")
    } else if outcome.code != Some(1) {
        format!("exit {:?}", outcome.code)
    } else if outcome.stderr.contains("panicked") || outcome.stderr.contains("RUST_BACKTRACE") {
        "panicked".to_owned()
    } else if outcome.stderr.len() > MAX_STDERR || outcome.stdout.len() > MAX_STDERR {
        format!(
            "{} bytes on stderr, {} on stdout",
            outcome.stderr.len(),
            outcome.stdout.len()
        )
    } else if !outcome.stderr.contains(name.as_ref())
        && !outcome.stdout.contains(name.as_ref())
        && !outcome.stdout.contains(&format!("the {what} "))
    {
        "the message does not name the file".to_owned()
    } else {
        return None;
    };
    Some(format!(
        "{what} {name}: {problem} ({:.1}s; stderr starts: {:?})",
        outcome.took.as_secs_f64(),
        first
            .unwrap_or_default()
            .chars()
            .take(200)
            .collect::<String>()
    ))
}

fn report(proxy: &FaultProxy, what: &str, problems: Vec<String>, cases: usize) {
    let requests = proxy.counts().requests;
    fault_proxy::kit::figures(&format!(
        "bad-input {what}: cases={cases} refused_cleanly={} aws_requests={requests}",
        cases - problems.len()
    ));
    assert!(
        problems.is_empty(),
        "{} of {cases} {what} inputs not refused cleanly:\n{}",
        problems.len(),
        problems.join("\n")
    );
    assert_eq!(requests, 0, "{what}: AWS was called");
}

fn valid_desired(dir: &Path) -> String {
    let path = dir.join("desired.toml");
    std::fs::write(&path, "[password_policy]\nminimum_length = 14\n").unwrap();
    path.display().to_string()
}

#[test]
fn every_malformed_desired_file_is_refused_before_any_aws_call() {
    let proxy = FaultProxy::black_hole();
    let files = corpus("desired");
    let mut problems = Vec::new();
    for file in &files {
        let path = file.display().to_string();
        for command in [&["plan", "-c", &path][..], &["validate", "-c", &path][..]] {
            let outcome = iamctl(&proxy, command);
            problems.extend(judge(command[0], file, &outcome));
        }
    }
    report(&proxy, "desired", problems, files.len() * 2);
}

#[test]
fn every_malformed_snapshot_is_refused_offline() {
    let proxy = FaultProxy::black_hole();
    let dir = tempfile::tempdir().unwrap();
    let config = valid_desired(dir.path());
    let files = corpus("snapshot");
    let mut problems = Vec::new();
    for file in &files {
        let path = file.display().to_string();
        let outcome = iamctl(&proxy, &["plan", "-c", &config, "--snapshot", &path]);
        problems.extend(judge("snapshot", file, &outcome));
    }
    report(&proxy, "snapshot", problems, files.len());
}

#[test]
fn every_malformed_plan_file_is_refused_before_any_aws_call() {
    let proxy = FaultProxy::black_hole();
    let dir = tempfile::tempdir().unwrap();
    let config = valid_desired(dir.path());
    let files = corpus("plan");
    let mut problems = Vec::new();
    for file in &files {
        let path = file.display().to_string();
        let outcome = iamctl(&proxy, &["apply", "-c", &config, &path]);
        problems.extend(judge("plan", file, &outcome));
    }
    report(&proxy, "plan", problems, files.len());
}

const DEEP: usize = 100_000;

/// Inputs too large to keep in the repository: made here, each a hostile extreme.
#[test]
fn deep_and_enormous_inputs_are_refused_quickly() {
    let proxy = FaultProxy::black_hole();
    let dir = tempfile::tempdir().unwrap();
    let config = valid_desired(dir.path());
    let write = |name: &str, text: String| {
        let path = dir.path().join(name);
        std::fs::write(&path, text).unwrap();
        path
    };
    let desired = [
        write(
            "deep_arrays.toml",
            format!("x = {}{}\n", "[".repeat(DEEP), "]".repeat(DEEP)),
        ),
        write(
            "deep_dotted_key.toml",
            format!("{} = 1\n", vec!["a"; DEEP].join(".")),
        ),
        // 200,000 valid entries and one mistake at the end.
        write(
            "enormous_valid_prefix.toml",
            (0..200_000)
                .map(|i| format!("[[user]]\nname = \"user-{i}\"\nconsole = false\n"))
                .chain(std::iter::once("[[user]]\nname = \"\u{e5}\"\n".to_owned()))
                .collect(),
        ),
    ];
    let snapshots = [
        write(
            "deep_snapshot.json",
            format!("{}{}", "[".repeat(DEEP), "]".repeat(DEEP)),
        ),
        write(
            "enormous_snapshot.json",
            format!(
                "{{\"format_version\": \"1\", \"taken_at\": \"2026-11-23T00:00:00Z\", \"accounts\": [{{\"name\": \"default\", \"account_id\": \"1\", \"password_policy\": null, \"users\": [{}]}}]}}x",
                vec!["{\"name\": \"u\", \"created\": \"2024-01-01T00:00:00Z\"}"; 300_000].join(",")
            ),
        ),
    ];
    let plans = [
        write(
            "deep_plan.json",
            format!(
                "{{\"format_version\": \"1\", \"as_of\": \"2026-11-23T00:00:00Z\", \"accounts\": {}{}}}",
                "[".repeat(DEEP),
                "]".repeat(DEEP)
            ),
        ),
        write(
            "enormous_plan.json",
            format!(
                "{{\"format_version\": \"1\", \"as_of\": \"2026-11-23T00:00:00Z\", \"accounts\": [{{\"name\": \"default\", \"account_id\": \"1\", \"changes\": [{}], \"findings\": []}}], \"summary\": {{\"changes\": 1, \"findings\": 0}}}}",
                vec!["{\"address\": \"user.a.login_profile\", \"action\": \"explode\", \"rule\": \"r\", \"before\": null, \"after\": null}"; 200_000].join(",")
            ),
        ),
    ];
    let mut problems = Vec::new();
    let mut slowest = Duration::ZERO;
    let mut cases = 0;
    for file in &desired {
        let path = file.display().to_string();
        let outcome = iamctl(&proxy, &["plan", "-c", &path]);
        slowest = slowest.max(outcome.took);
        cases += 1;
        problems.extend(judge("desired", file, &outcome));
    }
    for file in &snapshots {
        let path = file.display().to_string();
        let outcome = iamctl(&proxy, &["plan", "-c", &config, "--snapshot", &path]);
        slowest = slowest.max(outcome.took);
        cases += 1;
        problems.extend(judge("snapshot", file, &outcome));
    }
    for file in &plans {
        let path = file.display().to_string();
        let outcome = iamctl(&proxy, &["apply", "-c", &config, &path]);
        slowest = slowest.max(outcome.took);
        cases += 1;
        problems.extend(judge("plan", file, &outcome));
    }
    fault_proxy::kit::figures(&format!(
        "bad-input generated: slowest refusal {:.1}s",
        slowest.as_secs_f64()
    ));
    report(&proxy, "generated", problems, cases);
}

/// The desired-state loader's error reports stay short and quick on hostile files: no source
/// excerpt for very long lines (the renderer cannot point past column 65,535, and a 600 KB
/// line would flood stderr), values cut short in messages (a 40 MB name), at most 50
/// problems shown, and no more than 500 located per file (20,000 broken `[[user]]` entries).
#[test]
fn desired_errors_stay_short_and_quick_on_hostile_files() {
    let proxy = FaultProxy::black_hole();
    let dir = tempfile::tempdir().unwrap();
    let write = |name: &str, text: String| {
        let path = dir.path().join(name);
        std::fs::write(&path, text).unwrap();
        path
    };
    let files = [
        write(
            "deep_inline_tables.toml",
            format!("x = {}1{}\n", "{a = ".repeat(DEEP), "}".repeat(DEEP)),
        ),
        write(
            "deep_table_header.toml",
            format!("[{}]\n", vec!["users"; DEEP].join(".")),
        ),
        write(
            "enormous_string.toml",
            format!(
                "[[user]]\nname = \"{}\"\nconsole = false\n",
                "x".repeat(40 << 20)
            ),
        ),
        write(
            "enormous_error_count.toml",
            (0..20_000)
                .map(|i| format!("[[user]]\nname = {i}\n"))
                .collect(),
        ),
        write(
            "long_line_validation_error.toml",
            format!(
                "[users]\nexempt = [{}, \"[\"]\n",
                vec!["\"a\""; 20_000].join(",")
            ),
        ),
    ];
    let mut problems = Vec::new();
    for file in &files {
        let path = file.display().to_string();
        let outcome = iamctl(&proxy, &["plan", "-c", &path]);
        problems.extend(judge("desired", file, &outcome));
    }
    report(&proxy, "hostile desired", problems, files.len());
}
