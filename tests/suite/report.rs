//! `iamctl report` end to end: plans of a two-account moto fleet taken with changes in between
//! (one item fixed, one new) give an HTML report that headless Chromium renders with no console
//! error and no network request, showing both accounts, the owners with their due dates, the
//! new and the fixed item and a trend of three points; the CSV's statuses; shards of one run
//! merged into one fleet (by day, and by `--run-id`); plan files read from moto's S3; a
//! malformed or foreign input refused by name with nothing written; hostile names escaped;
//! 1,000 accounts × 30 runs timed and sized.

use crate::support;

use std::collections::BTreeMap;
use std::io::Read;
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crate::support::cli::{desired, offline_cmd, output, run};
use crate::support::{Account, SeedUser, fresh_account, seed_user};
use chrono::{DateTime, Utc};

/// Where the tests keep what a person may want to look at (the screenshot, the report).
fn artifacts() -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("report");
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// A day `days` from today, as `--as-of` takes it.
fn day(days: i64) -> String {
    (Utc::now() + chrono::Duration::days(days))
        .format("%Y-%m-%dT12:00:00Z")
        .to_string()
}

/// The CSV as `(run index, account, address, status)` rows, run index in the order of the
/// report's runs.
fn csv_rows(text: &str) -> Vec<BTreeMap<String, String>> {
    let mut reader = csv::Reader::from_reader(text.as_bytes());
    let headers = reader.headers().unwrap().clone();
    reader
        .records()
        .map(|r| {
            let r = r.unwrap();
            headers
                .iter()
                .zip(r.iter())
                .map(|(h, v)| (h.to_owned(), v.to_owned()))
                .collect()
        })
        .collect()
}

// ---------------------------------------------------------------------------------------------
// Headless Chromium
// ---------------------------------------------------------------------------------------------

/// Debian's `chromium` (scripts/ensure-chromium installs it where it can).
fn chromium() -> Option<PathBuf> {
    ["chromium", "chromium-browser", "google-chrome"]
        .iter()
        .find_map(|name| {
            std::env::var_os("PATH").and_then(|paths| {
                std::env::split_paths(&paths)
                    .map(|dir| dir.join(name))
                    .find(|p| p.is_file())
            })
        })
}

/// What Chromium did with a page: its DOM after loading, the console messages it logged, and
/// how many connections it opened to the proxy that every network request is sent to.
struct Rendered {
    dom: String,
    console: Vec<String>,
    /// The first line of each request for the network, other than Chromium's own.
    network_requests: Vec<String>,
}

/// Chromium's own background traffic (its updater's clock and update checks, account
/// services), which `--disable-background-networking` and `--disable-component-update` do not
/// silence entirely: no page of ours names these hosts.
const BROWSER_OWN_HOSTS: [&str; 3] = ["google.com", "googleapis.com", "gvt1.com"];

fn browser_own(request_line: &str) -> bool {
    let target = request_line.split(' ').nth(1).unwrap_or_default();
    let host = target
        .trim_start_matches("http://")
        .trim_start_matches("https://")
        .split(['/', ':'])
        .next()
        .unwrap_or_default();
    BROWSER_OWN_HOSTS
        .iter()
        .any(|own| host == *own || host.ends_with(&format!(".{own}")))
}

/// Opens `page` in headless Chromium with every request for the network sent to a proxy of
/// ours that only counts connections (so a request for anything outside the file is seen,
/// whatever the page's own policy), and console messages logged on stderr. Also takes a
/// screenshot into `screenshot` when given.
fn render_in_chromium(browser: &Path, page: &Path, screenshot: Option<&Path>) -> Rendered {
    let proxy = TcpListener::bind("127.0.0.1:0").unwrap();
    let proxy_port = proxy.local_addr().unwrap().port();
    let requests = Arc::new(Mutex::new(Vec::new()));
    {
        let requests = Arc::clone(&requests);
        std::thread::spawn(move || {
            for stream in proxy.incoming() {
                let Ok(mut stream) = stream else { continue };
                let _ = stream.set_read_timeout(Some(Duration::from_millis(500)));
                let mut buf = [0u8; 2048];
                let n = stream.read(&mut buf).unwrap_or(0);
                let text = String::from_utf8_lossy(&buf[..n]);
                let line = text
                    .lines()
                    .next()
                    .unwrap_or("(no request line)")
                    .to_owned();
                requests.lock().unwrap().push(line);
            }
        });
    }
    let profile = tempfile::tempdir().unwrap();
    let url = format!("file://{}", page.canonicalize().unwrap().display());
    let run = |extra: &[String]| {
        let out = Command::new(browser)
            .args([
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-quic",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--disable-dev-shm-usage",
                "--enable-logging=stderr",
                "--v=0",
                // Loopback too: nothing may leave the page, not even for localhost.
                "--proxy-bypass-list=<-loopback>",
            ])
            .arg(format!("--proxy-server=http://127.0.0.1:{proxy_port}"))
            .arg(format!("--user-data-dir={}", profile.path().display()))
            .args(extra)
            .arg(&url)
            .output()
            .expect("running chromium");
        assert!(
            out.status.success(),
            "chromium failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        out
    };
    let dumped = run(&["--dump-dom".to_owned()]);
    if let Some(path) = screenshot {
        run(&[
            format!("--screenshot={}", path.display()),
            "--window-size=1280,3000".to_owned(),
            "--hide-scrollbars".to_owned(),
        ]);
        assert!(path.is_file(), "no screenshot at {}", path.display());
    }
    // Give a late connection time to be counted.
    std::thread::sleep(Duration::from_millis(300));
    let stderr = String::from_utf8_lossy(&dumped.stderr);
    Rendered {
        dom: String::from_utf8(dumped.stdout).unwrap(),
        // Chromium logs each console message as `...:CONSOLE(line)] "message", source: ...`,
        // CSP violations included.
        console: stderr
            .lines()
            .filter(|l| l.contains(":CONSOLE") || l.contains("Content Security Policy"))
            .map(str::to_owned)
            .collect(),
        network_requests: requests
            .lock()
            .unwrap()
            .iter()
            .filter(|line| !browser_own(line))
            .cloned()
            .collect(),
    }
}

/// The harness itself sees what it must: a page that logs an error and loads an image from
/// the network is caught on both counts.
#[test]
fn the_browser_harness_sees_console_errors_and_network_requests() {
    let Some(browser) = chromium() else {
        eprintln!("SKIPPED: no chromium on PATH (scripts/ensure-chromium installs it)");
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let page = dir.path().join("bad.html");
    std::fs::write(
        &page,
        "<!DOCTYPE html><html><body><p id=x>hello</p>\
         <img src=\"http://example.invalid/pixel.png\">\
         <script>console.error('boom from the page')</script></body></html>",
    )
    .unwrap();
    let rendered = render_in_chromium(&browser, &page, None);
    assert!(
        rendered.dom.contains("<p id=\"x\">hello</p>"),
        "{}",
        rendered.dom
    );
    assert!(
        rendered
            .console
            .iter()
            .any(|l| l.contains("boom from the page")),
        "console not captured: {:?}",
        rendered.console
    );
    assert!(
        rendered
            .network_requests
            .iter()
            .any(|l| l.contains("example.invalid")),
        "the image request was not seen: {:?}",
        rendered.network_requests
    );
}

// ---------------------------------------------------------------------------------------------
// The fleet on moto
// ---------------------------------------------------------------------------------------------

/// Two accounts reached from a base identity by assuming roles.
struct Fleet {
    base: Account,
    alpha: Account,
    beta: Account,
    dir: tempfile::TempDir,
    config: PathBuf,
    alice_key: String,
}

impl Fleet {
    async fn new() -> Self {
        let (base, alpha, beta) = (
            fresh_account().await,
            fresh_account().await,
            fresh_account().await,
        );
        // alpha: bob signs in without MFA (a finding); alice's key nears its age limit (a
        // notice with a due date, owned through her tag).
        seed_user(
            &alpha.iam().await,
            "bob",
            SeedUser {
                console: true,
                tags: &[("owner", "bob-team@example.com")],
                ..Default::default()
            },
        )
        .await;
        let keys = seed_user(
            &alpha.iam().await,
            "alice",
            SeedUser {
                active_keys: 1,
                tags: &[("owner", "keys@example.com")],
                ..Default::default()
            },
        )
        .await;
        // beta: carol signs in without MFA, owned by the default owner.
        seed_user(
            &beta.iam().await,
            "carol",
            SeedUser {
                console: true,
                ..Default::default()
            },
        )
        .await;
        let dir = tempfile::tempdir().unwrap();
        let config = desired(
            dir.path(),
            &format!(
                r#"
[users]
owner_tag = "owner"
default_owner = "secops@example.com"

[users.console]
require_mfa = true

[users.access_keys]
max_age_days = 90
on_expired = "deactivate"
notice_days = 30

[[account]]
name = "alpha"
role_arn = "{alpha}"

[[account]]
name = "beta"
role_arn = "{beta}"
"#,
                alpha = alpha.role_arn("iamctl"),
                beta = beta.role_arn("iamctl"),
            ),
        );
        Self {
            base,
            alpha,
            beta,
            dir,
            config,
            alice_key: keys.active[0].clone(),
        }
    }

    /// `plan -o FILE --as-of DATE` with `extra` flags; returns the file.
    fn plan(&self, name: &str, as_of: &str, extra: &[&str]) -> PathBuf {
        let path = self.dir.path().join(name);
        let mut args = vec![
            "plan",
            "-q",
            "-c",
            self.config.to_str().unwrap(),
            "--as-of",
            as_of,
            "-o",
            path.to_str().unwrap(),
        ];
        args.extend_from_slice(extra);
        let out = run(&self.base, &args);
        assert_eq!(out.code, 0, "plan {name}: {}", out.stderr);
        path
    }

    /// `report ARGS...` as the base identity.
    fn report(&self, args: &[&str]) -> support::cli::Run {
        let mut all = vec!["report"];
        all.extend_from_slice(args);
        run(&self.base, &all)
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn three_plans_with_a_fix_and_a_new_item_make_the_report() {
    let fleet = Fleet::new().await;
    let history = fleet.dir.path().join("history");
    std::fs::create_dir(&history).unwrap();
    // Keys are created today; 70 days on, alice's falls due within the 30-day notice.
    let first = fleet.plan("history/1.json", &day(70), &[]);
    // Between the runs: bob loses his console password (fixed), dave gets one without MFA in
    // beta (new).
    fleet
        .alpha
        .iam()
        .await
        .delete_login_profile()
        .user_name("bob")
        .send()
        .await
        .unwrap();
    seed_user(
        &fleet.beta.iam().await,
        "dave",
        SeedUser {
            console: true,
            ..Default::default()
        },
    )
    .await;
    fleet.plan("history/2.json", &day(71), &[]);
    fleet.plan("history/3.json", &day(72), &[]);
    assert!(read(&first).contains("\"users.access_keys.max_age_days.notice\""));

    // CSV: one row per item and run, with its status.
    let out = fleet.report(&[history.to_str().unwrap(), "--format", "csv"]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    let rows = csv_rows(&out.stdout);
    let key_address = format!("user.alice.access_key.{}", fleet.alice_key);
    let mut by_run: BTreeMap<String, Vec<(String, String, String)>> = BTreeMap::new();
    for row in &rows {
        by_run.entry(row["as_of"].clone()).or_default().push((
            row["account"].clone(),
            row["address"].clone(),
            row["status"].clone(),
        ));
    }
    let runs: Vec<Vec<(String, String, String)>> = by_run
        .into_values()
        .map(|mut v| {
            v.sort();
            v
        })
        .collect();
    let row = |a: &str, addr: &str, s: &str| (a.to_owned(), addr.to_owned(), s.to_owned());
    assert_eq!(
        runs,
        [
            vec![
                row("alpha", &key_address, "new"),
                row("alpha", "user.bob", "new"),
                row("beta", "user.carol", "new"),
            ],
            vec![
                row("alpha", &key_address, "open"),
                row("alpha", "user.bob", "fixed"),
                row("beta", "user.carol", "open"),
                row("beta", "user.dave", "new"),
            ],
            vec![
                row("alpha", &key_address, "open"),
                row("beta", "user.carol", "open"),
                row("beta", "user.dave", "open"),
            ],
        ]
    );
    let notice = rows.iter().find(|r| r["address"] == key_address).unwrap();
    assert_eq!(notice["owner"], "keys@example.com");
    assert_eq!(notice["rule"], "users.access_keys.max_age_days.notice");
    assert_eq!(notice["controls"], "1.14 IAM.3");
    assert!(!notice["due"].is_empty());
    let first_run_as_of = &rows[0]["as_of"];
    assert!(
        rows.iter()
            .filter(|r| r["address"] == "user.carol")
            .all(|r| &r["first_seen"] == first_run_as_of),
        "first seen is the first run's"
    );

    // HTML, opened in Chromium.
    let page = artifacts().join("history.html");
    let out = fleet.report(&[history.to_str().unwrap(), "-o", page.to_str().unwrap()]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    let html = read(&page);
    let due = notice["due"][..10].to_owned();
    let Some(browser) = chromium() else {
        eprintln!("SKIPPED the browser part: no chromium on PATH (scripts/ensure-chromium)");
        // The file itself still says it all.
        for text in ["alpha", "beta", "keys@example.com", &due, "user.dave"] {
            assert!(html.contains(text), "{text} missing");
        }
        return;
    };
    let shot = artifacts().join("history.png");
    let rendered = render_in_chromium(&browser, &page, Some(&shot));
    assert_eq!(rendered.console, Vec::<String>::new(), "console messages");
    assert_eq!(
        rendered.network_requests,
        Vec::<String>::new(),
        "network requests"
    );
    let dom = &rendered.dom;
    for (account, id) in [("alpha", &fleet.alpha.id), ("beta", &fleet.beta.id)] {
        assert!(
            dom.contains(&format!(">{account}</a><br><small>{id}</small>")),
            "{account} in the matrix"
        );
        assert!(
            dom.contains(&format!("class=\"account\">{account} ")),
            "{account}'s items"
        );
    }
    // Owners, with the key's due date under its owner, soonest first.
    let owners: Vec<&str> = dom
        .split("<h3 class=\"owner\">")
        .skip(1)
        .map(|s| s.split(' ').next().unwrap())
        .collect();
    assert_eq!(
        owners,
        ["keys@example.com", "secops@example.com"],
        "bob no longer owns anything"
    );
    let keys_section = dom
        .split("<h3 class=\"owner\">keys@example.com")
        .nth(1)
        .unwrap();
    assert!(
        keys_section.contains(&format!("next due {due}")),
        "due date under its owner"
    );
    // The due item is on the 30-day timeline.
    let due_section = dom
        .split("id=\"due\"")
        .nth(1)
        .unwrap()
        .split("</section>")
        .next()
        .unwrap();
    assert!(due_section.contains("<rect") && due_section.contains(&key_address));
    // The latest run's matrix: both accounts' MFA cells link to their items.
    let matrix = dom
        .split("id=\"matrix\"")
        .nth(1)
        .unwrap()
        .split("</section>")
        .next()
        .unwrap();
    assert_eq!(
        matrix.matches("<tr><th><a href=").count(),
        2,
        "one matrix row per account"
    );
    assert!(
        matrix.contains("class=\"s-findings\"><a href=\"#a1-mfa\">2!</a>"),
        "{matrix}"
    );
    assert!(dom.contains("id=\"a1-mfa\""), "the cell's target exists");
    // The trend: three points per series; the new and the fixed item listed for run 2.
    let trend = dom
        .split("id=\"trend-chart\"")
        .nth(1)
        .unwrap()
        .split("</svg>")
        .next()
        .unwrap();
    assert_eq!(trend.matches("class=\"point-findings\"").count(), 3);
    assert_eq!(trend.matches("class=\"point-changes\"").count(), 3);
    assert!(trend.contains("class=\"bar-fixed\""));
    let new_fixed = dom.split("id=\"new-fixed\"").nth(1).unwrap();
    assert!(new_fixed.contains("<tr class=\"item-new\"><td class=\"st-new\">new</td><td>beta</td><td><code>user.dave</code>"));
    assert!(new_fixed.contains("<tr class=\"item-fixed\"><td class=\"st-fixed\">fixed</td><td>alpha</td><td><code>user.bob</code>"));
    eprintln!("screenshot: {}", shot.display());

    // Markdown: the summary of the latest run.
    let out = fleet.report(&[history.to_str().unwrap(), "--format", "markdown"]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert!(
        out.stdout.contains("| keys@example.com | 1 | "),
        "{}",
        out.stdout
    );
    assert!(out.stdout.contains("Items per run: "), "{}", out.stdout);
}

#[tokio::test(flavor = "multi_thread")]
async fn shard_plans_of_one_run_merge_into_one_fleet() {
    let fleet = Fleet::new().await;
    let as_of = day(70);
    // Shards of one day over disjoint accounts.
    let one = fleet.plan("shard-1.json", &as_of, &["--shard", "1/2"]);
    let two = fleet.plan("shard-2.json", &as_of, &["--shard", "2/2"]);
    // The same with --run-id, on different days (a run that crossed midnight).
    let three = fleet.plan(
        "run-1.json",
        &day(70),
        &["--shard", "1/2", "--run-id", "ci-7"],
    );
    let four = fleet.plan(
        "run-2.json",
        &day(71),
        &["--shard", "2/2", "--run-id", "ci-7"],
    );
    assert!(read(&three).contains("\"run_id\": \"ci-7\""));
    assert!(!read(&one).contains("run_id"), "no run id, no key");
    for (files, label) in [([&one, &two], None), ([&three, &four], Some("ci-7"))] {
        let out = fleet.report(&[
            files[0].to_str().unwrap(),
            files[1].to_str().unwrap(),
            "--format",
            "csv",
        ]);
        assert_eq!(out.code, 0, "{}", out.stderr);
        let rows = csv_rows(&out.stdout);
        let runs: std::collections::BTreeSet<&str> =
            rows.iter().map(|r| r["run"].as_str()).collect();
        assert_eq!(runs.len(), 1, "one run: {runs:?}");
        if let Some(label) = label {
            assert_eq!(runs.into_iter().next(), Some(label));
        }
        let accounts: std::collections::BTreeSet<&str> =
            rows.iter().map(|r| r["account"].as_str()).collect();
        assert_eq!(accounts, ["alpha", "beta"].into());
        assert!(rows.iter().all(|r| r["status"] == "new"));
    }
    // Two shards that both hold alpha under one run id are refused, naming both files.
    let again = fleet.plan(
        "run-3.json",
        &day(70),
        &["--shard", "1/2", "--run-id", "ci-7"],
    );
    let out = fleet.report(&[three.to_str().unwrap(), again.to_str().unwrap()]);
    assert_eq!(out.code, 1);
    assert!(
        out.stderr.contains("run-1.json") && out.stderr.contains("run-3.json"),
        "{}",
        out.stderr
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn plans_kept_in_s3_are_read_like_a_folder() {
    let fleet = Fleet::new().await;
    let folder = fleet.dir.path().join("history");
    std::fs::create_dir(&folder).unwrap();
    let plans = [
        fleet.plan("history/a.json", &day(70), &[]),
        fleet.plan("history/b.json", &day(71), &[]),
    ];
    let bucket = format!("iamctl-plans-{}", fleet.base.id);
    fleet.base.create_bucket(&bucket);
    let s3 = aws_sdk_s3::Client::from_conf(
        aws_sdk_s3::config::Builder::from(&fleet.base.sdk_config())
            .force_path_style(true)
            .build(),
    );
    for plan in &plans {
        let name = plan.file_name().unwrap().to_str().unwrap();
        s3.put_object()
            .bucket(&bucket)
            .key(format!("history/{name}"))
            .body(std::fs::read(plan).unwrap().into())
            .send()
            .await
            .unwrap();
    }
    // Not a plan and not under the prefix: left alone.
    s3.put_object()
        .bucket(&bucket)
        .key("other/notes.json")
        .body(b"{}".to_vec().into())
        .send()
        .await
        .unwrap();
    fleet.base.requests();
    let from_s3 = fleet.report(&[&format!("s3://{bucket}/history/"), "--format", "csv"]);
    assert_eq!(from_s3.code, 0, "{}", from_s3.stderr);
    let requests = fleet.base.requests();
    let local = fleet.report(&[folder.to_str().unwrap(), "--format", "csv"]);
    assert_eq!(from_s3.stdout, local.stdout);
    assert_eq!(
        csv_rows(&from_s3.stdout).len(),
        6,
        "two runs of three items"
    );
    // One listing and one read per plan file, nothing else.
    assert_eq!(
        requests,
        BTreeMap::from([
            (format!("s3:GET /{bucket}/"), 1),
            (format!("s3:GET /{bucket}/history/a.json"), 1),
            (format!("s3:GET /{bucket}/history/b.json"), 1),
        ])
    );
}

// ---------------------------------------------------------------------------------------------
// Offline
// ---------------------------------------------------------------------------------------------

/// A plan of the bundled example, offline.
fn example_plan(dir: &Path, name: &str, as_of: &str) -> PathBuf {
    let path = dir.join(name);
    let out = output(offline_cmd().args([
        "plan",
        "-q",
        "-c",
        "examples/desired",
        "--snapshot",
        "examples/snapshot.json",
        "--as-of",
        as_of,
        "-o",
        path.to_str().unwrap(),
    ]));
    assert!(out.code == 0 || out.code == 2, "{}", out.stderr);
    path
}

#[test]
fn a_malformed_or_foreign_input_exits_1_naming_it_and_writes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let good = example_plan(dir.path(), "good.json", "2026-12-01");
    let malformed = dir.path().join("malformed.json");
    std::fs::write(&malformed, "{\"format_version\": \"1\", \"as_of\": ").unwrap();
    let foreign = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/snapshot.json");
    let other_version = dir.path().join("v9.json");
    std::fs::write(
        &other_version,
        read(&good).replace("\"format_version\": \"1\"", "\"format_version\": \"9\""),
    )
    .unwrap();
    for bad in [&malformed, &foreign, &other_version] {
        let out_file = dir.path().join("report.html");
        let out = output(offline_cmd().args([
            "report",
            good.to_str().unwrap(),
            bad.to_str().unwrap(),
            "-o",
            out_file.to_str().unwrap(),
        ]));
        assert_eq!(out.code, 1, "{}", out.stderr);
        assert!(
            out.stderr.contains(&bad.display().to_string()),
            "names {}: {}",
            bad.display(),
            out.stderr
        );
        assert!(out.stderr.contains("nothing was written"), "{}", out.stderr);
        assert!(!out_file.exists(), "nothing written");
        assert!(out.stdout.is_empty());
        assert_eq!(
            std::fs::read_dir(dir.path()).unwrap().count(),
            3,
            "no temporary file left"
        );
    }
    // A folder with a foreign file in it fails the same way.
    let folder = dir.path().join("history");
    std::fs::create_dir(&folder).unwrap();
    std::fs::copy(&good, folder.join("a.json")).unwrap();
    std::fs::copy(&foreign, folder.join("b.json")).unwrap();
    let out = output(offline_cmd().args(["report", folder.to_str().unwrap()]));
    assert_eq!(out.code, 1);
    assert!(out.stderr.contains("b.json"), "{}", out.stderr);
    assert!(out.stdout.is_empty());
}

#[test]
fn the_example_plan_reports_in_every_format() {
    let dir = tempfile::tempdir().unwrap();
    let plan = example_plan(dir.path(), "example.json", "2026-12-01");
    for (format, marker) in [
        ("html", "<!DOCTYPE html>"),
        ("csv", "run,as_of,account,account_id,address,rule,action"),
        ("markdown", "## IAM posture: "),
    ] {
        let out =
            output(offline_cmd().args(["report", plan.to_str().unwrap(), "--format", format]));
        assert_eq!(out.code, 0, "{}", out.stderr);
        assert!(
            out.stdout.starts_with(marker),
            "{format}: {}",
            &out.stdout[..200.min(out.stdout.len())]
        );
    }
}

/// Accounts, addresses, owners and messages come from plan files: none of them can inject
/// markup into the HTML (which would also defeat the CSP's point), nor links into markdown.
#[test]
fn hostile_names_and_messages_are_escaped() {
    let dir = tempfile::tempdir().unwrap();
    let plan = example_plan(dir.path(), "example.json", "2026-12-01");
    let mut json: serde_json::Value = serde_json::from_str(&read(&plan)).unwrap();
    let hostile = "<script>alert(1)</script><img src=x onerror=alert(2)>\"'&";
    let account = &mut json["accounts"][0];
    account["name"] = hostile.into();
    let findings = account["findings"].as_array_mut().unwrap();
    findings[0]["message"] = hostile.into();
    findings[0]["owner"] = format!("[owner]({hostile})").into();
    std::fs::write(&plan, serde_json::to_string(&json).unwrap()).unwrap();

    let page = artifacts().join("hostile.html");
    let out = output(offline_cmd().args([
        "report",
        plan.to_str().unwrap(),
        "-o",
        page.to_str().unwrap(),
    ]));
    assert_eq!(out.code, 0, "{}", out.stderr);
    let html = read(&page);
    assert!(!html.contains("<script"), "a script tag got through");
    assert!(!html.contains("<img"), "an img tag got through");
    assert!(html.contains(
        "&lt;script&gt;alert(1)&lt;/script&gt;&lt;img src=x onerror=alert(2)&gt;&quot;&#39;&amp;"
    ));
    if let Some(browser) = chromium() {
        let rendered = render_in_chromium(&browser, &page, None);
        assert_eq!(rendered.console, Vec::<String>::new());
        assert_eq!(rendered.network_requests, Vec::<String>::new());
        assert!(
            !rendered.dom.contains("<img"),
            "no element made from the name"
        );
    }
    let out =
        output(offline_cmd().args(["report", plan.to_str().unwrap(), "--format", "markdown"]));
    assert!(!out.stdout.contains("<script"), "{}", out.stdout);
    assert!(
        !out.stdout.contains("[owner]("),
        "a link got through: {}",
        out.stdout
    );
}

// ---------------------------------------------------------------------------------------------
// Scale
// ---------------------------------------------------------------------------------------------

/// 1,000 accounts × 30 daily runs of five items each (a tenth of them changing from one run to
/// the next), written as plan files and reported by the binary: under 5 MB of HTML, and timed
/// (the issue's bound, 2 s, is for a release build; a debug build gets ten times that).
#[test]
fn a_thousand_accounts_and_thirty_runs_stay_small_and_quick() {
    use iamctl::plan::{AccountPlan, Action, Address, Finding, Notice, Plan, Rule};
    let dir = tempfile::tempdir().unwrap();
    let start: DateTime<Utc> = "2026-10-01T06:00:00Z".parse().unwrap();
    for run in 0..30i64 {
        let as_of = start + chrono::Duration::days(run);
        let accounts = (0..1000)
            .map(|a| {
                let findings = (0..5)
                    .map(|i| {
                        // Item 4 of a tenth of the accounts changes identity every run.
                        let user = if i == 4 && a % 10 == (run % 10) as usize {
                            format!("churn-{run}")
                        } else {
                            format!("user-{i}")
                        };
                        let mut finding = Finding::new(
                            Address::User(user),
                            if i % 2 == 0 {
                                Rule::ConsoleRequireMfa
                            } else {
                                Rule::KeysMaxAge
                            },
                            "console access without MFA".into(),
                        );
                        finding.owner = Some(format!("team-{}@example.com", a % 40));
                        if i == 1 {
                            finding.notice = Some(Notice {
                                due: as_of + chrono::Duration::days((a % 45) as i64),
                                action: Action::Deactivate,
                            });
                        }
                        finding
                    })
                    .collect();
                AccountPlan {
                    name: format!("account-{a:04}"),
                    account_id: format!("{:012}", 100_000_000_000u64 + a as u64),
                    changes: Vec::new(),
                    findings,
                    credential_report_generated_at: None,
                    error: None,
                }
            })
            .collect();
        let plan = Plan::new(as_of, accounts);
        std::fs::write(
            dir.path().join(format!("plan-{run:02}.json")),
            iamctl::render::json(&plan),
        )
        .unwrap();
    }
    let page = artifacts().join("scale.html");
    let started = Instant::now();
    let out = output(offline_cmd().args([
        "report",
        dir.path().to_str().unwrap(),
        "-o",
        page.to_str().unwrap(),
    ]));
    let took = started.elapsed();
    assert_eq!(out.code, 0, "{}", out.stderr);
    let size = std::fs::metadata(&page).unwrap().len();
    eprintln!(
        "1000 accounts × 30 runs: {:.2} s, {:.2} MB ({} build)",
        took.as_secs_f64(),
        size as f64 / 1e6,
        if cfg!(debug_assertions) {
            "debug"
        } else {
            "release"
        }
    );
    assert!(size < 5_000_000, "{size} bytes");
    let bound = if cfg!(debug_assertions) { 20.0 } else { 2.0 };
    assert!(took.as_secs_f64() < bound, "{took:?}");
}
