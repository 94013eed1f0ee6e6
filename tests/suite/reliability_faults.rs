//! Reliability under faults: a proxy between `iamctl` and moto injects IAM `Throttling`
//! errors, HTTP 500 and 503, and dropped connections (before moto sees the request, or after
//! moto carried it out) into a fixed, seeded fraction of requests. `plan` must still give the
//! plan a fault-free run gives; `apply` must still converge, losing no change; when retries
//! run out, the failed changes are reported, the others done, and a rerun converges.
//!
//! Every run's output and every file it wrote is scanned for the secrets the test created.
//! The figures (requests, faults, outcomes) are printed with `--nocapture` and appended to
//! `target/tmp/reliability-figures.txt`.

use crate::fault_proxy;
use crate::support;

use fault_proxy::kit::{self, Mix, Transcript, arg, iamctl, run};
use fault_proxy::{FaultKind, FaultProxy, Faults};

/// A few dozen changes of every action.
const MIX: Mix = Mix {
    con: 5,
    mfa: 3,
    off: 4,
    new: 3,
    old: 5,
    idle: 5,
    dead: 2,
    ok: 3,
    delete_inactive: false,
};

/// Plans and applies `MIX` through a proxy failing `rate` of the requests; returns nothing,
/// panics on any deviation. Figures go to stdout and the figures file.
async fn converges_under(rate: f64, seed: u64) {
    let kit::Scenario {
        account,
        workload,
        workdir,
        config,
    } = kit::Scenario::new(MIX, 8).await;
    let dir = workdir.path();
    let secrets_dir = arg(dir, "secrets");
    let transcript = Transcript::default();
    let moto = support::endpoint();
    // Every plan of the test measures ages at the same instant, so that they can be compared.
    let as_of = (chrono::Utc::now() + chrono::Duration::hours(1)).to_rfc3339();
    let as_of = as_of.as_str();

    // The reference: the plan a fault-free run gives, straight to moto.
    let mut cmd = iamctl(&account, &moto);
    cmd.args(["plan", "--format", "json", "--as-of", as_of, "-c", &config]);
    let reference = run(cmd, &transcript);
    assert_eq!(reference.code, Some(0), "{}", reference.show());
    let planned = support::cli::plan_changes(&reference.stdout);
    assert_eq!(planned.len(), MIX.changes(), "{}", reference.stdout);

    let proxy = FaultProxy::start(&moto, Faults::rate(rate, seed));

    // The plan under faults is the same plan, three times over (each run draws anew).
    for i in 0..3 {
        let out = arg(dir, &format!("plan-{i}.json"));
        let mut cmd = iamctl(&account, &proxy.url());
        cmd.args([
            "plan", "--format", "json", "--as-of", as_of, "-c", &config, "-o", &out, "-v",
        ]);
        let faulty = run(cmd, &transcript);
        transcript.add_file(std::path::Path::new(&out));
        assert_eq!(
            faulty.code,
            Some(0),
            "plan under faults:\n{}",
            faulty.show()
        );
        assert_eq!(
            kit::plan_body(&faulty.stdout),
            kit::plan_body(&reference.stdout),
            "the plan under {rate} faults differs from the fault-free plan"
        );
    }
    let after_plans = proxy.counts();

    // A snapshot under faults (its file is scanned for secrets with the rest), and one
    // plan with every log on, the SDK's included, for the same scan.
    let snapshot = arg(dir, "snapshot.json");
    let mut cmd = iamctl(&account, &proxy.url());
    cmd.args(["snapshot", "-c", &config, "-o", &snapshot, "-v"]);
    let snap = run(cmd, &transcript);
    assert_eq!(
        snap.code,
        Some(0),
        "snapshot under faults:\n{}",
        snap.show()
    );
    transcript.add_file(std::path::Path::new(&snapshot));
    let mut cmd = iamctl(&account, &moto);
    cmd.args(["plan", "-c", &config, "-vv"])
        .env("IAMCTL_LOG", "trace");
    let traced = run(cmd, &transcript);
    assert_eq!(traced.code, Some(0), "{}", traced.show());
    let before_apply = proxy.counts();

    // Apply under faults, then again until converged (at most twice more).
    let audit = arg(dir, "audit.jsonl");
    let mut applies = Vec::new();
    let mut lost_done = Vec::new();
    for attempt in 0..3 {
        let mut cmd = iamctl(&account, &proxy.url());
        cmd.args([
            "apply",
            "--auto-approve",
            "-c",
            &config,
            "--secrets-dir",
            &secrets_dir,
            "--audit-log",
            &audit,
            "-vv",
        ]);
        let before = kit::read_audit(std::path::Path::new(&audit)).len();
        let applied = run(cmd, &transcript);
        let records = kit::read_audit(std::path::Path::new(&audit));
        let this_run = &records[before..];
        // A change reported done is in effect.
        let live = kit::read_live(&account, &workload).await;
        for record in this_run.iter().filter(|r| r.status == "done") {
            if !kit::in_effect(&live, &record.address, &record.action) {
                lost_done.push(format!("{} {}", record.action, record.address));
            }
        }
        // Every failure names its operation and what went wrong.
        for record in this_run.iter().filter(|r| r.status == "failed") {
            assert!(
                record.detail.contains("iam:") || record.detail.contains("password file"),
                "unclear failure: {record:?}"
            );
        }
        let count = |s: &str| this_run.iter().filter(|r| r.status == s).count();
        applies.push((
            applied.code,
            count("done"),
            count("skipped"),
            count("failed"),
        ));
        if applied.code == Some(0) {
            break;
        }
        assert_eq!(
            applied.code,
            Some(1),
            "apply {attempt} under faults:\n{}",
            applied.show()
        );
    }
    let counts = proxy.counts();
    drop(proxy);

    // Converged: live state is the desired state, and a fault-free plan is empty.
    let live = kit::read_live(&account, &workload).await;
    let differences = kit::differences(&live, &workload);
    let lost_final: Vec<_> = planned
        .iter()
        .filter(|(address, action)| !kit::in_effect(&live, address, action))
        .collect();
    let mut cmd = iamctl(&account, &moto);
    cmd.args(["plan", "--detailed-exitcode", "-c", &config]);
    let again = run(cmd, &transcript);

    // Secrets: the seeded ones, the session's, and the passwords apply generated.
    let mut secrets = workload.secrets.clone();
    let generated = kit::generated_passwords(std::path::Path::new(&secrets_dir));
    assert_eq!(
        generated.len(),
        MIX.new,
        "one password file per new console user"
    );
    secrets.extend(generated);
    transcript.add_file(std::path::Path::new(&audit));
    let hits = transcript.hits(&secrets);

    let converged = applies.last().is_some_and(|a| a.0 == Some(0))
        && differences.is_empty()
        && again.code == Some(0);
    kit::figures(&format!(
        "faults rate={rate} seed={seed} changes={} requests={} (plans {}, snapshot {}) forwarded={} faults={} {:?} \
         applies={:?} (exit, done, skipped, failed) converged={converged} lost_done={} lost_final={} \
         scanned={} texts/{} bytes secret_hits={}",
        planned.len(),
        counts.requests,
        after_plans.requests,
        before_apply.requests - after_plans.requests,
        counts.forwarded,
        counts.faults_total(),
        counts.faults,
        applies,
        lost_done.len(),
        lost_final.len(),
        transcript.texts(),
        transcript.bytes(),
        hits.len(),
    ));
    assert!(hits.is_empty(), "secrets in output: {hits:?}");
    assert!(
        lost_done.is_empty(),
        "reported done, not in effect: {lost_done:?}"
    );
    assert!(lost_final.is_empty(), "changes lost: {lost_final:?}");
    assert!(differences.is_empty(), "not converged: {differences:#?}");
    assert_eq!(again.code, Some(0), "plan after apply:\n{}", again.show());
    assert!(converged);
    // The faults were there: roughly the rate, and every kind.
    let share = counts.faults_total() as f64 / counts.requests as f64;
    assert!(
        share > rate * 0.5 && share < rate * 1.5,
        "{share} of requests faulted, asked {rate}"
    );
    for kind in FaultKind::ALL {
        assert!(counts.faults.contains_key(&kind), "no {kind:?} injected");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn plan_and_apply_converge_with_10_percent_of_requests_failing() {
    converges_under(0.10, 0x10).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn plan_and_apply_converge_with_30_percent_of_requests_failing() {
    converges_under(0.30, 0x30).await;
}

/// IAM throttles each account at a rate of its own. Through a proxy that throttles at
/// `RATE` requests a second, at most a quarter of what iamctl offers here (measured first,
/// through a pass-through proxy), apply exits 0 with every change done; the account's pacer
/// lowered the attempts in flight below `--concurrency` (its `-v` line); a plan afterwards is
/// empty. How close to the rate's floor this runs is measured by `scripts/bench-live`.
#[tokio::test(flavor = "multi_thread")]
async fn apply_at_four_times_the_rate_limit_is_absorbed_and_paced() {
    const RATE: f64 = 5.0;
    let kit::Scenario {
        account,
        workdir,
        config,
        ..
    } = kit::Scenario::new(MIX, 8).await;
    let dir = workdir.path();
    let transcript = Transcript::default();
    let moto = support::endpoint();

    let counting = FaultProxy::start(&moto, Faults::none());
    let mut cmd = iamctl(&account, &counting.url());
    cmd.args(["plan", "-c", &config]);
    let free = run(cmd, &transcript);
    assert_eq!(free.code, Some(0), "{}", free.show());
    let offered = counting.counts().requests as f64 / free.took.as_secs_f64();
    drop(counting);
    assert!(
        offered >= 4.0 * RATE,
        "iamctl offered {offered:.1} requests/s unthrottled: the test needs 4x {RATE}"
    );

    let proxy = FaultProxy::start(&moto, Faults::rate_limited(RATE));
    let audit = arg(dir, "audit.jsonl");
    let mut cmd = iamctl(&account, &proxy.url());
    cmd.args([
        "apply",
        "--auto-approve",
        "-v",
        "-c",
        &config,
        "--secrets-dir",
        &arg(dir, "secrets"),
        "--audit-log",
        &audit,
    ]);
    let applied = run(cmd, &transcript);
    let counts = proxy.counts();
    drop(proxy);
    assert_eq!(applied.code, Some(0), "{}", applied.show());
    let records = kit::read_audit(std::path::Path::new(&audit));
    let done = records.iter().filter(|r| r.status == "done").count();
    assert_eq!(done, MIX.changes(), "{}", applied.show());

    let throttled = counts
        .faults
        .get(&FaultKind::Throttling)
        .copied()
        .unwrap_or(0);
    assert!(throttled > 0, "the rate limit never bit: {counts:?}");
    // `throttled: N (ACCOUNT=N, in flight down to K)`: iamctl saw them, and paced.
    let line = applied
        .stderr
        .lines()
        .find(|l| l.starts_with("throttled: "))
        .unwrap_or_else(|| panic!("no `throttled:` line:\n{}", applied.stderr));
    let lowest: f64 = line
        .rsplit("in flight down to ")
        .next()
        .and_then(|rest| rest.trim_end_matches(')').parse().ok())
        .unwrap_or_else(|| panic!("unreadable: {line}"));
    assert!(
        lowest < 8.0,
        "the pacer never lowered the 8 in flight: {line}"
    );

    let mut cmd = iamctl(&account, &moto);
    cmd.args(["plan", "--detailed-exitcode", "-c", &config]);
    let again = run(cmd, &transcript);
    assert_eq!(again.code, Some(0), "plan after apply:\n{}", again.show());
    kit::figures(&format!(
        "rate-limit {RATE}/s: offered {offered:.1}/s unthrottled; apply {} requests, {} forwarded, \
         {throttled} throttled, {:.1} s; {line}",
        counts.requests,
        counts.forwarded,
        applied.took.as_secs_f64(),
    ));
}

/// Requests that fail every time exhaust the SDK's retries: those changes are reported as
/// failed, naming the operation; every other change is done; once the fault is gone, a
/// rerun converges.
#[tokio::test(flavor = "multi_thread")]
async fn exhausted_retries_fail_only_their_changes_and_a_rerun_converges() {
    let mix = Mix {
        con: 2,
        off: 2,
        idle: 3,
        ok: 1,
        ..Default::default()
    };
    let kit::Scenario {
        account,
        workload,
        workdir,
        config,
    } = kit::Scenario::new(mix, 8).await;
    let dir = workdir.path();
    let audit = arg(dir, "audit.jsonl");
    let transcript = Transcript::default();
    let moto = support::endpoint();
    let poison =
        |action: &str, user: &str| vec![format!("Action={action}&"), format!("UserName={user}")];
    let mut faults = Faults::rate(0.0, 0);
    faults.poison = vec![
        poison("DeleteAccessKey", "idle-000"),
        poison("DeleteLoginProfile", "off-001"),
    ];
    let proxy = FaultProxy::start(&moto, faults);

    let started = std::time::Instant::now();
    let mut cmd = iamctl(&account, &proxy.url());
    cmd.args([
        "apply",
        "--auto-approve",
        "-c",
        &config,
        "--audit-log",
        &audit,
    ]);
    let first = run(cmd, &transcript);
    let took = started.elapsed();
    assert_eq!(first.code, Some(1), "{}", first.show());
    let records = kit::read_audit(std::path::Path::new(&audit));
    let failed: Vec<_> = records.iter().filter(|r| r.status == "failed").collect();
    let key = &workload.keys["idle-000"][0];
    let mut failed_addresses: Vec<&str> = failed.iter().map(|r| r.address.as_str()).collect();
    failed_addresses.sort();
    assert_eq!(
        failed_addresses,
        [
            format!("user.idle-000.access_key.{key}").as_str(),
            "user.off-001.login_profile"
        ],
        "{}",
        first.show()
    );
    for record in &failed {
        assert!(
            record.detail.contains("iam:DeleteAccessKey")
                || record.detail.contains("iam:DeleteLoginProfile"),
            "{record:?}"
        );
        assert!(record.detail.contains("ServiceUnavailable"), "{record:?}");
        assert!(
            first
                .stdout
                .contains(&format!("FAILED  {} {}", record.action, record.address)),
            "{}",
            first.stdout
        );
    }
    let done = records.iter().filter(|r| r.status == "done").count();
    assert_eq!(done, mix.changes() - 2, "{}", first.show());
    assert!(
        first
            .stdout
            .contains(&format!("Apply: {done} done, 0 skipped, 2 failed.")),
        "{}",
        first.stdout
    );
    let attempts = proxy.counts().poisoned;

    // The fault clears; the rerun does exactly the two changes left.
    proxy.set_faults(Faults::none());
    let mut cmd = iamctl(&account, &proxy.url());
    cmd.args([
        "apply",
        "--auto-approve",
        "-c",
        &config,
        "--audit-log",
        &audit,
    ]);
    let second = run(cmd, &transcript);
    assert_eq!(second.code, Some(0), "{}", second.show());
    assert!(
        second
            .stdout
            .contains("Apply: 2 done, 0 skipped, 0 failed."),
        "{}",
        second.stdout
    );
    let live = kit::read_live(&account, &workload).await;
    let differences = kit::differences(&live, &workload);
    assert!(differences.is_empty(), "{differences:#?}");
    transcript.add_file(std::path::Path::new(&audit));
    let hits = transcript.hits(&workload.secrets);
    kit::figures(&format!(
        "exhausted-retries changes={} poisoned_requests={attempts} (2 changes) first_apply={:.1}s \
         first=(done {done}, failed 2) rerun=(done 2) converged={} secret_hits={}",
        mix.changes(),
        took.as_secs_f64(),
        differences.is_empty(),
        hits.len()
    ));
    assert!(hits.is_empty(), "{hits:?}");
}
