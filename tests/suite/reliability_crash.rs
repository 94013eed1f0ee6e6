//! Reliability when `apply` dies or races:
//! - killed with SIGKILL at seeded random points of an apply over a few hundred changes, the
//!   next `apply` converges, live state ends exactly as desired, and the audit log names every
//!   change made (all but the few in flight at each kill);
//! - two `apply` runs on one account at once end in the desired state, and the only errors
//!   are clear reports that the account changed underneath.
//!
//! Kill points are requests, not times: the fault proxy holds the n-th write request (after
//! moto carried it out, or before it reaches moto), the test kills `iamctl`, then lets go.

use crate::fault_proxy;
use crate::support;

use std::process::Stdio;
use std::time::Duration;

use fault_proxy::kit::{self, Mix, Transcript, arg, iamctl};
use fault_proxy::{FaultProxy, Faults, Trap};

/// A small seeded generator (splitmix64), so kill points repeat from run to run.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }

    /// A fraction in [0, 1).
    fn fraction(&mut self) -> f64 {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64
    }
}

const CONCURRENCY: &str = "2";

#[tokio::test(flavor = "multi_thread")]
async fn apply_killed_at_random_points_converges_on_the_next_run() {
    // 1 policy update + 25 × (attach + reset) + 10 profile deletes + 100 × 2 key deletes.
    let mix = Mix {
        con: 25,
        off: 10,
        dead: 100,
        ok: 5,
        delete_inactive: true,
        ..Default::default()
    };
    let kit::Scenario {
        account,
        workload,
        workdir,
        config,
    } = kit::Scenario::new(mix, 16).await;
    let dir = workdir.path();
    let audit = arg(dir, "audit.jsonl");
    let transcript = Transcript::default();
    let moto = support::endpoint();

    let mut cmd = iamctl(&account, &moto);
    cmd.args(["plan", "--format", "json", "-c", &config]);
    let first = kit::run(cmd, &transcript);
    assert_eq!(first.code, Some(0), "{}", first.show());
    let planned = support::cli::plan_changes(&first.stdout);
    assert_eq!(planned.len(), mix.changes());

    let proxy = FaultProxy::start(&moto, Faults::none());
    let mut rng = Rng(7);
    let mut kills = Vec::new();
    let mut unaudited_total = 0;
    let mut remaining = planned.len() as u64;
    for kill in 0..4 {
        // Somewhere in the writes this run will make (its plan has `remaining` changes). A
        // seeded fraction, so that one change more or less left by the last kill (one in
        // flight finishing or not) moves the point by one write at most.
        let nth_write = 1 + (rng.fraction() * (remaining * 3 / 4) as f64) as u64;
        let after_forward = rng.below(2) == 0;
        let sprung = proxy.arm(Trap {
            nth_write,
            after_forward,
        });
        let mut cmd = iamctl(&account, &proxy.url());
        cmd.args([
            "apply",
            "--auto-approve",
            "-c",
            &config,
            "--audit-log",
            &audit,
            "--concurrency",
            CONCURRENCY,
        ]);
        // To files, not pipes: nobody reads a pipe while the child runs, and a full one
        // would stall it before its kill point.
        let log = dir.join(format!("killed-{kill}.log"));
        let file = std::fs::File::create(&log).unwrap();
        cmd.stdout(file.try_clone().unwrap()).stderr(file);
        let mut child = cmd.spawn().expect("starting iamctl");
        let caught = sprung.recv_timeout(Duration::from_secs(120));
        child.kill().expect("SIGKILL");
        let status = child.wait().unwrap();
        let output = std::fs::read_to_string(&log).unwrap_or_default();
        transcript.add(format!("killed apply {kill}"), output.clone());
        let caught = caught.unwrap_or_else(|_| {
            panic!("apply {kill} made no write #{nth_write} (exit {status:?}):\n{output}")
        });
        proxy.release();
        proxy.cut_all();
        proxy.settle();

        // Where the kill left things: some changes in effect, none half-made.
        let live = kit::read_live(&account, &workload).await;
        let in_effect: Vec<_> = planned
            .iter()
            .filter(|(address, action)| kit::in_effect(&live, address, action))
            .collect();
        // The audit log holds every change that was made, but for the few in flight when
        // the process died (their answers never came back).
        let audited: std::collections::BTreeSet<(String, String)> =
            kit::read_audit(std::path::Path::new(&audit))
                .into_iter()
                .filter(|r| r.status == "done")
                .map(|r| (r.address, r.action))
                .collect();
        let unaudited = in_effect
            .iter()
            .filter(|change| !audited.contains(*change))
            .count();
        unaudited_total = unaudited;
        remaining = (planned.len() - in_effect.len()) as u64;
        kills.push(format!(
            "kill {kill}: at write #{nth_write} ({} {}) {}; {} of {} changes in effect, {} in effect without an audit record",
            caught.action,
            caught.body.split('&').find(|p| p.starts_with("UserName=")).unwrap_or(""),
            if caught.forwarded { "carried out, answer lost" } else { "never sent" },
            in_effect.len(),
            planned.len(),
            unaudited
        ));
        assert!(remaining > 0, "apply {kill} finished before its kill point");
    }
    let total_requests = proxy.counts().requests;

    // The next apply, left alone, converges.
    let mut cmd = iamctl(&account, &proxy.url());
    cmd.args([
        "apply",
        "--auto-approve",
        "-c",
        &config,
        "--audit-log",
        &audit,
        "--concurrency",
        "8",
    ]);
    let last = kit::run(cmd, &transcript);
    let live = kit::read_live(&account, &workload).await;
    let differences = kit::differences(&live, &workload);
    let lost: Vec<_> = planned
        .iter()
        .filter(|(address, action)| !kit::in_effect(&live, address, action))
        .collect();
    let mut cmd = iamctl(&account, &moto);
    cmd.args(["plan", "--detailed-exitcode", "-c", &config]);
    let again = kit::run(cmd, &transcript);
    transcript.add_file(std::path::Path::new(&audit));
    let hits = transcript.hits(&workload.secrets);
    kit::figures(&format!(
        "crash changes={} kills={} requests={} final_apply_exit={:?} converged={} lost={} secret_hits={}\n  {}",
        planned.len(),
        kills.len(),
        total_requests,
        last.code,
        differences.is_empty() && again.code == Some(0),
        lost.len(),
        hits.len(),
        kills.join("\n  ")
    ));
    assert_eq!(
        last.code,
        Some(0),
        "the apply after the kills:\n{}",
        last.show()
    );
    assert!(lost.is_empty(), "changes lost: {lost:?}");
    assert!(differences.is_empty(), "{differences:#?}");
    assert_eq!(again.code, Some(0), "plan after:\n{}", again.show());
    assert!(hits.is_empty(), "{hits:?}");
    // At most the changes in flight at each kill (`--concurrency` of them) lack a record.
    let bound = 4 * CONCURRENCY.parse::<usize>().unwrap();
    assert!(
        unaudited_total <= bound,
        "{unaudited_total} changes were made without an audit record (at most {bound} may be \
         in flight at the kills):\n  {}",
        kills.join("\n  ")
    );
}

/// The one window where a crash needs a person: killed after the generated password went to
/// its file and before IAM took it, the next apply finds the file, no login profile, and
/// cannot know whether the file holds a live password; it refuses clearly, creating nothing,
/// and converges once the file is moved away. Killed after IAM took it, the next apply has
/// nothing to do and the file holds the profile's password.
#[tokio::test(flavor = "multi_thread")]
async fn apply_killed_around_a_new_login_profile_converges() {
    let mix = Mix {
        new: 2,
        ..Default::default()
    };
    let kit::Scenario {
        account,
        workload,
        workdir,
        config,
    } = kit::Scenario::new(mix, 4).await;
    let dir = workdir.path();
    let secrets_dir = arg(dir, "secrets");
    let transcript = Transcript::default();
    let proxy = FaultProxy::start(&support::endpoint(), Faults::none());
    let apply = || {
        let mut cmd = iamctl(&account, &proxy.url());
        cmd.args([
            "apply",
            "--auto-approve",
            "-c",
            &config,
            "--secrets-dir",
            &secrets_dir,
            "--concurrency",
            "1",
        ]);
        cmd
    };

    // The first run's first write is new-000's CreateLoginProfile (the policy change runs
    // last): held unsent. The second run refuses new-000 (the file exists, see below)
    // without a write, so its first write is new-001's: carried out, its answer lost.
    for after_forward in [false, true] {
        let sprung = proxy.arm(Trap {
            nth_write: 1,
            after_forward,
        });
        let mut cmd = apply();
        cmd.stdout(Stdio::null()).stderr(Stdio::null());
        let mut child = cmd.spawn().expect("starting iamctl");
        let caught = sprung
            .recv_timeout(Duration::from_secs(60))
            .expect("the trap sprang");
        assert_eq!(caught.action, "CreateLoginProfile", "{caught:?}");
        child.kill().unwrap();
        child.wait().unwrap();
        proxy.release();
        proxy.cut_all();
        proxy.settle();
    }
    let live = kit::read_live(&account, &workload).await;
    assert_eq!(live.users["new-000"].profile, None);
    assert_eq!(live.users["new-001"].profile, Some(true));

    let refused = kit::run(apply(), &transcript);
    assert_eq!(refused.code, Some(1), "{}", refused.show());
    assert!(
        refused
            .stdout
            .contains("new-000.password already exists, but new-000 has no login profile")
            && refused
                .stdout
                .contains("move the file away and apply again"),
        "{}",
        refused.show()
    );
    let secrets = std::path::Path::new(&secrets_dir);
    std::fs::rename(
        secrets.join("new-000.password"),
        dir.join("new-000.password.old"),
    )
    .unwrap();
    let last = kit::run(apply(), &transcript);
    assert_eq!(last.code, Some(0), "{}", last.show());
    let live = kit::read_live(&account, &workload).await;
    assert!(kit::differences(&live, &workload).is_empty());
    assert!(secrets.join("new-000.password").exists());
    assert!(secrets.join("new-001.password").exists());
    let mut all = workload.secrets.clone();
    all.extend(kit::generated_passwords(secrets));
    assert!(transcript.hits(&all).is_empty());
}

/// Two scheduled jobs overlapping on one account: both plan the same changes and race to
/// make them. The account ends as desired; whatever the loser could not do is reported as
/// the account having changed underneath it, not as an unexplained IAM error.
#[tokio::test(flavor = "multi_thread")]
async fn two_applies_at_once_end_in_the_desired_state() {
    let mix = Mix {
        con: 6,
        mfa: 4,
        off: 6,
        new: 2,
        old: 6,
        idle: 6,
        dead: 10,
        ok: 3,
        delete_inactive: true,
    };
    let kit::Scenario {
        account,
        workload,
        workdir,
        config,
    } = kit::Scenario::new(mix, 16).await;
    let dir = workdir.path();
    let transcript = Transcript::default();
    let moto = support::endpoint();
    // One secrets folder, as two runs of the same scheduled job would share.
    let secrets_dir = arg(dir, "secrets");
    // Both runs plan before either writes: the writes wait until both runs have their
    // `--concurrency` writes waiting, then race.
    let proxy = FaultProxy::start(&moto, Faults::none());
    proxy.gate_writes(8);

    let spawn = |name: &str| {
        let mut cmd = iamctl(&account, &proxy.url());
        cmd.args([
            "apply",
            "--auto-approve",
            "-c",
            &config,
            "--audit-log",
            &arg(dir, &format!("audit-{name}.jsonl")),
            "--secrets-dir",
            &secrets_dir,
            "--concurrency",
            "4",
        ]);
        cmd.stdout(Stdio::piped()).stderr(Stdio::piped());
        cmd.spawn().expect("starting iamctl")
    };
    let (a, b) = (spawn("a"), spawn("b"));
    let (a, b) = (a.wait_with_output().unwrap(), b.wait_with_output().unwrap());
    let mut unclear = Vec::new();
    let mut reports = Vec::new();
    for (name, out) in [("a", &a), ("b", &b)] {
        let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
        let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
        transcript.add(format!("stdout {name}"), stdout.clone());
        transcript.add(format!("stderr {name}"), stderr.clone());
        let audit = arg(dir, &format!("audit-{name}.jsonl"));
        transcript.add_file(std::path::Path::new(&audit));
        let records = kit::read_audit(std::path::Path::new(&audit));
        let count = |s: &str| records.iter().filter(|r| r.status == s).count();
        reports.push(format!(
            "{name}: exit {:?}, {} done, {} skipped, {} failed",
            out.status.code(),
            count("done"),
            count("skipped"),
            count("failed")
        ));
        for record in records.iter().filter(|r| r.status != "done") {
            if !record.detail.contains("underneath") {
                unclear.push(format!(
                    "{name}: {} {} {}: {}",
                    record.status, record.action, record.address, record.detail
                ));
            }
        }
        // Anything else on stderr is an error of its own.
        assert!(
            stderr.trim().is_empty(),
            "{name} printed on stderr:\n{stderr}"
        );
    }

    let live = kit::read_live(&account, &workload).await;
    let differences = kit::differences(&live, &workload);
    let mut cmd = iamctl(&account, &moto);
    cmd.args(["plan", "--detailed-exitcode", "-c", &config]);
    let again = kit::run(cmd, &transcript);
    let mut secrets = workload.secrets.clone();
    secrets.extend(kit::generated_passwords(std::path::Path::new(&secrets_dir)));
    let hits = transcript.hits(&secrets);
    kit::figures(&format!(
        "concurrent-applies changes={} {} converged={} unclear_reports={} secret_hits={}",
        mix.changes(),
        reports.join("; "),
        differences.is_empty() && again.code == Some(0),
        unclear.len(),
        hits.len()
    ));
    assert!(differences.is_empty(), "{differences:#?}");
    assert_eq!(again.code, Some(0), "plan after:\n{}", again.show());
    assert!(hits.is_empty(), "{hits:?}");
    assert!(
        unclear.is_empty(),
        "the race was reported without saying the account changed underneath:\n{}",
        unclear.join("\n")
    );
}
