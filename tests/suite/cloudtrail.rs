//! CloudTrail: the `[audit]` requirement against moto's trails (status and selectors, basic
//! and advanced), enforcing it with `[audit.cloudtrail] create`, and `plan --explain`:
//! attribution from CloudTrail files (`--events`, the real record format) and from recorded
//! `LookupEvents` answers (moto has no `LookupEvents`), in every output format.

use crate::support;

use std::io::Write;
use std::path::Path;

use aws_config::{BehaviorVersion, Region, SdkConfig};
use aws_credential_types::Credentials;
use aws_credential_types::provider::SharedCredentialsProvider;
use aws_sdk_cloudtrail::types::{
    AdvancedEventSelector, AdvancedFieldSelector, EventSelector, ReadWriteType,
};
use aws_smithy_http_client::test_util::{ReplayEvent, StaticReplayClient};
use aws_smithy_types::body::SdkBody;
use iamctl::aws::{ApiCalls, ClientFactory};
use iamctl::explain::{self, LookupOptions};
use iamctl::plan::{AccountPlan, Change, ChangeKind, Finding, KeyFacts, Plan, Rule};
use iamctl::render;
use iamctl::state::{KeyStatus, PasswordPolicy};
use serde_json::{Value, json};
use support::cli::{desired, run};
use support::{Account, fresh_account};

// ------------------------------------------------------------------------------------------
// Helpers
// ------------------------------------------------------------------------------------------

/// The plan of the account as JSON (`plan --format json`), which must succeed.
fn plan_json(account: &Account, config: &Path) -> Value {
    let out = run(
        account,
        &["plan", "--format", "json", "-c", config.to_str().unwrap()],
    );
    assert_eq!(out.code, 0, "plan failed: {}", out.stderr);
    serde_json::from_str(&out.stdout).unwrap()
}

/// The `cloudtrail` findings' messages.
fn trail_findings(plan: &Value) -> Vec<String> {
    plan["accounts"][0]["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["address"] == "cloudtrail")
        .map(|f| f["message"].as_str().unwrap().to_owned())
        .collect()
}

const REQUIRE: &str = "[audit]\nrequire_cloudtrail = true\n";

fn bucket_of(account: &Account) -> String {
    format!("trail-logs-{}", account.id)
}

async fn create_trail(account: &Account, name: &str, multi_region: bool) {
    let bucket = bucket_of(account);
    account
        .cloudtrail()
        .await
        .create_trail()
        .name(name)
        .s3_bucket_name(&bucket)
        .is_multi_region_trail(multi_region)
        .send()
        .await
        .expect("CreateTrail");
}

async fn start_logging(account: &Account, name: &str) {
    account
        .cloudtrail()
        .await
        .start_logging()
        .name(name)
        .send()
        .await
        .expect("StartLogging");
}

/// `(name, is_multi_region, include_global_service_events, is_logging)` of every trail.
async fn trails(account: &Account) -> Vec<(String, bool, bool, bool)> {
    let client = account.cloudtrail().await;
    let described = client.describe_trails().send().await.unwrap();
    let mut out = Vec::new();
    for trail in described.trail_list() {
        let name = trail.name().unwrap().to_owned();
        let status = client.get_trail_status().name(&name).send().await.unwrap();
        out.push((
            name,
            trail.is_multi_region_trail().unwrap_or(false),
            trail.include_global_service_events().unwrap_or(false),
            status.is_logging().unwrap_or(false),
        ));
    }
    out.sort();
    out
}

// ------------------------------------------------------------------------------------------
// The requirement, against moto's trails
// ------------------------------------------------------------------------------------------

#[tokio::test]
async fn no_trail_is_a_finding() {
    let account = fresh_account().await;
    let dir = tempfile::tempdir().unwrap();
    let config = desired(dir.path(), REQUIRE);
    let plan = plan_json(&account, &config);
    assert_eq!(
        trail_findings(&plan),
        ["no multi-region trail is logging management write events: IAM changes are not audited"]
    );
    assert_eq!(
        plan["accounts"][0]["findings"][0]["rule"],
        "audit.require_cloudtrail"
    );
    assert!(
        plan["accounts"][0]["changes"]
            .as_array()
            .unwrap()
            .is_empty()
    );
}

#[tokio::test]
async fn a_logging_single_region_trail_is_a_finding() {
    let account = fresh_account().await;
    account.create_bucket(&bucket_of(&account));
    create_trail(&account, "regional", false).await;
    start_logging(&account, "regional").await;
    let dir = tempfile::tempdir().unwrap();
    let plan = plan_json(&account, &desired(dir.path(), REQUIRE));
    assert_eq!(trail_findings(&plan).len(), 1, "{plan:#}");
}

#[tokio::test]
async fn a_logging_multi_region_trail_meets_the_requirement_and_a_stopped_one_does_not() {
    let account = fresh_account().await;
    account.create_bucket(&bucket_of(&account));
    create_trail(&account, "org-audit", true).await;
    let dir = tempfile::tempdir().unwrap();
    let config = desired(dir.path(), REQUIRE);

    // Created, never started: not logging.
    assert_eq!(trail_findings(&plan_json(&account, &config)).len(), 1);

    start_logging(&account, "org-audit").await;
    let plan = plan_json(&account, &config);
    assert!(trail_findings(&plan).is_empty(), "{plan:#}");
    let out = run(
        &account,
        &[
            "plan",
            "--detailed-exitcode",
            "-c",
            config.to_str().unwrap(),
        ],
    );
    assert_eq!(out.code, 0, "{}{}", out.stdout, out.stderr);
    assert!(
        out.stdout.contains("no changes, no findings"),
        "{}",
        out.stdout
    );

    account
        .cloudtrail()
        .await
        .stop_logging()
        .name("org-audit")
        .send()
        .await
        .unwrap();
    assert_eq!(trail_findings(&plan_json(&account, &config)).len(), 1);
}

#[tokio::test]
async fn event_selectors_must_record_management_writes_basic_or_advanced() {
    let account = fresh_account().await;
    account.create_bucket(&bucket_of(&account));
    create_trail(&account, "org-audit", true).await;
    start_logging(&account, "org-audit").await;
    let client = account.cloudtrail().await;
    let dir = tempfile::tempdir().unwrap();
    let config = desired(dir.path(), REQUIRE);

    // Basic selectors: reads only.
    client
        .put_event_selectors()
        .trail_name("org-audit")
        .event_selectors(
            EventSelector::builder()
                .read_write_type(ReadWriteType::ReadOnly)
                .include_management_events(true)
                .build(),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(trail_findings(&plan_json(&account, &config)).len(), 1);

    // Basic selectors: writes only.
    client
        .put_event_selectors()
        .trail_name("org-audit")
        .event_selectors(
            EventSelector::builder()
                .read_write_type(ReadWriteType::WriteOnly)
                .include_management_events(true)
                .build(),
        )
        .send()
        .await
        .unwrap();
    assert!(trail_findings(&plan_json(&account, &config)).is_empty());

    let advanced = |fields: &[(&str, &str)]| {
        let mut selector = AdvancedEventSelector::builder().name("management");
        for (field, value) in fields {
            selector = selector.field_selectors(
                AdvancedFieldSelector::builder()
                    .field(*field)
                    .equals(*value)
                    .build()
                    .unwrap(),
            );
        }
        selector.build().unwrap()
    };
    // Advanced selectors: management events, read-only.
    let fresh = fresh_account().await;
    fresh.create_bucket(&bucket_of(&fresh));
    create_trail(&fresh, "adv", true).await;
    start_logging(&fresh, "adv").await;
    let fresh_client = fresh.cloudtrail().await;
    fresh_client
        .put_event_selectors()
        .trail_name("adv")
        .advanced_event_selectors(advanced(&[
            ("eventCategory", "Management"),
            ("readOnly", "true"),
        ]))
        .send()
        .await
        .unwrap();
    assert_eq!(trail_findings(&plan_json(&fresh, &config)).len(), 1);
    // Advanced selectors: all management events.
    fresh_client
        .put_event_selectors()
        .trail_name("adv")
        .advanced_event_selectors(advanced(&[("eventCategory", "Management")]))
        .send()
        .await
        .unwrap();
    assert!(trail_findings(&plan_json(&fresh, &config)).is_empty());
}

// ------------------------------------------------------------------------------------------
// Enforcing it: [audit.cloudtrail] create
// ------------------------------------------------------------------------------------------

fn enforce(bucket: &str) -> String {
    format!(
        "{REQUIRE}\n[audit.cloudtrail]\ncreate = {{ name = \"iamctl-audit\", s3_bucket = \"{bucket}\" }}\n"
    )
}

#[tokio::test]
async fn apply_creates_a_multi_region_trail_and_starts_it_then_plan_is_empty() {
    let account = fresh_account().await;
    let bucket = bucket_of(&account);
    account.create_bucket(&bucket);
    let dir = tempfile::tempdir().unwrap();
    let config = desired(dir.path(), &enforce(&bucket));

    let plan = plan_json(&account, &config);
    assert_eq!(
        plan["accounts"][0]["changes"],
        json!([{"address": "cloudtrail", "action": "create", "rule": "audit.cloudtrail.create", "controls": ["3.1"],
                "before": null,
                "after": {"name": "iamctl-audit", "s3_bucket": bucket, "is_multi_region": true}}])
    );
    assert!(
        trail_findings(&plan).is_empty(),
        "the change replaces the finding"
    );
    let text = run(&account, &["plan", "-c", config.to_str().unwrap()]);
    assert!(
        text.stdout
            .contains("+ cloudtrail  create (audit.cloudtrail.create)"),
        "{}",
        text.stdout
    );

    let out = run(
        &account,
        &["apply", "--auto-approve", "-c", config.to_str().unwrap()],
    );
    assert_eq!(out.code, 0, "{}{}", out.stdout, out.stderr);
    assert!(
        out.stdout.contains("ok      create cloudtrail"),
        "{}",
        out.stdout
    );
    assert_eq!(
        trails(&account).await,
        [("iamctl-audit".to_owned(), true, true, true)]
    );

    let out = run(
        &account,
        &[
            "plan",
            "--detailed-exitcode",
            "-c",
            config.to_str().unwrap(),
        ],
    );
    assert_eq!(
        out.code, 0,
        "plan after apply is empty: {}{}",
        out.stdout, out.stderr
    );
    assert!(
        out.stdout.contains("no changes, no findings"),
        "{}",
        out.stdout
    );
}

#[tokio::test]
async fn the_named_trail_stopped_or_single_region_is_put_right() {
    let account = fresh_account().await;
    let bucket = bucket_of(&account);
    account.create_bucket(&bucket);
    create_trail(&account, "iamctl-audit", false).await;
    let dir = tempfile::tempdir().unwrap();
    let config = desired(dir.path(), &enforce(&bucket));

    let plan = plan_json(&account, &config);
    assert_eq!(
        plan["accounts"][0]["changes"],
        json!([{"address": "cloudtrail", "action": "update", "rule": "audit.cloudtrail.create", "controls": ["3.1"],
                "before": {"name": "iamctl-audit", "home_region": "us-east-1",
                           "is_multi_region": false, "is_logging": false},
                "after": {"name": "iamctl-audit", "home_region": "us-east-1",
                          "is_multi_region": true, "is_logging": true}}])
    );
    let out = run(
        &account,
        &["apply", "--auto-approve", "-c", config.to_str().unwrap()],
    );
    assert_eq!(out.code, 0, "{}{}", out.stdout, out.stderr);
    assert_eq!(
        trails(&account).await,
        [("iamctl-audit".to_owned(), true, true, true)]
    );
    let out = run(
        &account,
        &[
            "plan",
            "--detailed-exitcode",
            "-c",
            config.to_str().unwrap(),
        ],
    );
    assert_eq!(out.code, 0, "{}{}", out.stdout, out.stderr);
}

#[tokio::test]
async fn a_missing_bucket_is_a_clear_error_and_creates_nothing() {
    let account = fresh_account().await;
    let bucket = format!("no-such-bucket-{}", account.id);
    let dir = tempfile::tempdir().unwrap();
    let config = desired(dir.path(), &enforce(&bucket));

    let out = run(
        &account,
        &["apply", "--auto-approve", "-c", config.to_str().unwrap()],
    );
    assert_eq!(out.code, 1, "{}{}", out.stdout, out.stderr);
    let expected = format!("FAILED  create cloudtrail: S3 bucket {bucket} does not exist");
    assert!(out.stdout.contains(&expected), "{}", out.stdout);
    assert!(
        out.stdout.contains(&format!(
            "s3:PutObject on arn:aws:s3:::{bucket}/AWSLogs/{}/*",
            account.id
        )),
        "the message says what the bucket policy needs: {}",
        out.stdout
    );
    assert!(out.stdout.contains("trail iamctl-audit was not created"));
    assert!(trails(&account).await.is_empty());
}

#[tokio::test]
async fn invalid_trail_and_bucket_names_are_refused_before_any_call() {
    let dir = tempfile::tempdir().unwrap();
    let config = desired(
        dir.path(),
        "[audit.cloudtrail]\ncreate = { name = \"-bad\", s3_bucket = \"Upper_Case\" }\n",
    );
    let out = support::cli::offline_cmd()
        .args(["validate", "-c", config.to_str().unwrap()])
        .env("NO_COLOR", "1")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert!(
        stderr.contains("audit.cloudtrail.create.name: \"-bad\" is not a valid trail name"),
        "{stderr}"
    );
    assert!(
        stderr.contains(
            "audit.cloudtrail.create.s3_bucket: \"Upper_Case\" is not a valid S3 bucket name"
        ),
        "{stderr}"
    );
}

#[tokio::test]
async fn a_saved_plan_with_attribution_is_not_stale() {
    let account = fresh_account().await;
    let bucket = bucket_of(&account);
    account.create_bucket(&bucket);
    let dir = tempfile::tempdir().unwrap();
    let config = desired(dir.path(), &enforce(&bucket));
    // Someone deleted the trail: an S3 log file says who.
    let events = dir.path().join("events.json");
    std::fs::write(
        &events,
        json!({"Records": [record(&account.id, "DeleteTrail", "2026-10-20T02:14:52Z",
            "arn:aws:sts::ID:assumed-role/OpsAutomation/cost-cutter",
            json!({"name": format!("arn:aws:cloudtrail:us-east-1:{}:trail/iamctl-audit", account.id)}),
            "cloudtrail.amazonaws.com")]})
        .to_string(),
    )
    .unwrap();
    let saved = dir.path().join("plan.json");
    let out = run(
        &account,
        &[
            "plan",
            "-c",
            config.to_str().unwrap(),
            "--events",
            events.to_str().unwrap(),
            "-o",
            saved.to_str().unwrap(),
        ],
    );
    assert_eq!(out.code, 0, "{}", out.stderr);
    let principal = format!(
        "arn:aws:sts::{}:assumed-role/OpsAutomation/cost-cutter",
        account.id
    );
    assert!(
        out.stdout.contains(&format!(
            "by {principal} at 2026-10-20T02:14:52Z (DeleteTrail)"
        )),
        "{}",
        out.stdout
    );
    let saved_plan: Value =
        serde_json::from_str(&std::fs::read_to_string(&saved).unwrap()).unwrap();
    assert_eq!(
        saved_plan["accounts"][0]["changes"][0]["attribution"]["principal_arn"],
        principal
    );

    let out = run(
        &account,
        &[
            "apply",
            "-c",
            config.to_str().unwrap(),
            saved.to_str().unwrap(),
        ],
    );
    assert_eq!(out.code, 0, "{}{}", out.stdout, out.stderr);
    assert_eq!(trails(&account).await.len(), 1);
}

// ------------------------------------------------------------------------------------------
// Attribution from event files (the bundled example, and EventBridge / gzip / folders)
// ------------------------------------------------------------------------------------------

fn example_plan(format: &str, extra: &[&str]) -> (i32, String, String) {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let output = support::cli::offline_cmd()
        .current_dir(root)
        .env("NO_COLOR", "1")
        .args([
            "plan",
            "--snapshot",
            "examples/snapshot.json",
            "-c",
            "examples/desired",
            "--as-of",
            "2026-11-01",
            "--format",
            format,
        ])
        .args(extra)
        .output()
        .unwrap();
    (
        output.status.code().unwrap(),
        String::from_utf8(output.stdout).unwrap(),
        String::from_utf8(output.stderr).unwrap(),
    )
}

const SAMPLE: [&str; 3] = [
    "--events",
    "examples/events/cloudtrail-sample.json",
    "--explain",
];
const PRIYA: &str = "arn:aws:sts::111111111111:assumed-role/AWSReservedSSO_AdministratorAccess_4f1c2a9b7e3d5a61/priya.shah@example.com";

#[test]
fn the_example_events_explain_the_example_plan_in_text() {
    let (code, text, stderr) = example_plan("text", &SAMPLE);
    assert_eq!(code, 0, "{stderr}");
    let lines: Vec<&str> = text.lines().collect();
    let after = |prefix: &str| {
        let at = lines
            .iter()
            .position(|l| l.trim_start().starts_with(prefix))
            .unwrap_or_else(|| panic!("no line {prefix:?} in\n{text}"));
        lines[at + 1..]
            .iter()
            .find(|l| l.trim_start().starts_with("by ") || !l.starts_with("      "))
            .map(|l| l.trim())
            .unwrap()
    };
    // The latest successful change wins: not ben.okafor's earlier one, not the refused one.
    let policy_by = lines
        .iter()
        .skip_while(|l| !l.contains("password_policy"))
        .find(|l| l.trim_start().starts_with("by "))
        .unwrap();
    assert_eq!(
        policy_by.trim(),
        format!("by {PRIYA} at 2026-10-12T14:03:27Z (UpdateAccountPasswordPolicy)")
    );
    assert_eq!(
        after("! user.jonas.berg.access_key.AKIAYFXQICSOV4UO2LDS"),
        "by arn:aws:iam::111111111111:user/jonas.berg at 2026-07-28T22:50:00Z (CreateAccessKey)"
    );
    assert_eq!(
        after("* cloudtrail "),
        "by arn:aws:sts::111111111111:assumed-role/OpsAutomation/cost-cutter at 2026-10-20T02:14:52Z (StopLogging)"
    );
    assert_eq!(
        after("* user.jdoe-contractor "),
        format!("by {PRIYA} at 2026-10-02T11:30:00Z (DeleteUser)")
    );
    // The same key id lives in both accounts: each account gets its own event.
    assert_eq!(
        after("* user.ci-deployer.access_key.AKIAHDO4VFELJLTBYMLG"),
        "by arn:aws:sts::222222222222:assumed-role/github-actions-deploy/GitHubActions at 2026-07-03T22:50:00Z (CreateAccessKey)"
    );
    // Resets that follow from the tightened policy are not attributed on their own.
    assert!(
        after("! user.ben.okafor.login_profile").starts_with("! user.chloe.dubois.login_profile"),
        "{text}"
    );

    // Without --explain, no attribution at all; the plan is otherwise the same.
    let (_, plain, _) = example_plan("text", &[]);
    let stripped: Vec<&str> = lines
        .iter()
        .copied()
        .filter(|l| !l.trim_start().starts_with("by "))
        .collect();
    assert_eq!(stripped.join("\n") + "\n", plain);
}

#[test]
fn the_example_events_explain_the_example_plan_in_json_and_markdown() {
    let (code, json_text, stderr) = example_plan("json", &SAMPLE);
    assert_eq!(code, 0, "{stderr}");
    let plan: Value = serde_json::from_str(&json_text).unwrap();
    let prod = &plan["accounts"][0];
    assert_eq!(prod["changes"][0]["address"], "password_policy");
    assert_eq!(
        prod["changes"][0]["attribution"],
        json!({"event_name": "UpdateAccountPasswordPolicy", "event_time": "2026-10-12T14:03:27Z",
               "principal_arn": PRIYA, "source_ip": "198.51.100.23",
               "event_id": prod["changes"][0]["attribution"]["event_id"]})
    );
    let event_id = prod["changes"][0]["attribution"]["event_id"]
        .as_str()
        .unwrap();
    let sample = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/events/cloudtrail-sample.json"),
    )
    .unwrap();
    assert!(sample.contains(&format!("\"eventID\": \"{event_id}\"")));
    // Items without an event carry no field at all.
    let reset = prod["changes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["rule"] == "users.console.reset_on_policy_tightening")
        .unwrap();
    assert!(reset.get("attribution").is_none(), "{reset}");
    // The saved form reads back.
    let read_back: Plan = serde_json::from_str(&json_text).unwrap();
    assert!(
        read_back.accounts[1]
            .findings
            .iter()
            .all(|f| f.attribution.is_some())
    );

    let (code, markdown, stderr) = example_plan("markdown", &SAMPLE);
    assert_eq!(code, 0, "{stderr}");
    assert!(
        markdown.contains("| address | action | rule | controls | detail | changed by |"),
        "{markdown}"
    );
    assert!(markdown.contains("| address | finding | rule | controls | changed by |"));
    assert!(markdown.contains(&format!(
        "| `password_policy` | ~ update | `password_policy` | 1.8, 1.9, IAM.7, IAM.10, IAM.11, IAM.12, IAM.13, IAM.14, IAM.15, IAM.16, IAM.17 | diff below | `{PRIYA}` at 2026-10-12T14:03:27Z (`UpdateAccountPasswordPolicy`) |"
    )));
    assert!(markdown.contains(
        "| `cloudtrail` | no multi-region trail is logging management write events: IAM changes are not audited | `audit.require_cloudtrail` | 3.1 | `arn:aws:sts::111111111111:assumed-role/OpsAutomation/cost-cutter` at 2026-10-20T02:14:52Z (`StopLogging`) |"
    ));
    let (_, plain, _) = example_plan("markdown", &[]);
    assert!(!plain.contains("changed by"));
}

/// A CloudTrail record as CloudTrail writes it (the fields attribution reads, and a few more).
fn record(
    account: &str,
    name: &str,
    time: &str,
    principal: &str,
    request: Value,
    source: &str,
) -> Value {
    json!({
        "eventVersion": "1.11",
        "userIdentity": {"type": "AssumedRole", "principalId": "AROAEXAMPLEID:session",
                         "arn": principal.replace("ID", account), "accountId": account},
        "eventTime": time,
        "eventSource": source,
        "eventName": name,
        "awsRegion": "us-east-1",
        "sourceIPAddress": "203.0.113.9",
        "userAgent": "aws-cli/2.31.4",
        "requestParameters": request,
        "responseElements": null,
        "requestID": format!("req-{name}-{time}"),
        "eventID": format!("evt-{name}-{time}"),
        "readOnly": false,
        "eventType": "AwsApiCall",
        "managementEvent": true,
        "recipientAccountId": account,
        "eventCategory": "Management"
    })
}

#[test]
fn eventbridge_lines_and_gzipped_log_folders_are_read_too() {
    let dir = tempfile::tempdir().unwrap();
    let logs = dir
        .path()
        .join("AWSLogs/111111111111/CloudTrail/us-east-1/2026/10/12");
    std::fs::create_dir_all(&logs).unwrap();
    let policy = record(
        "111111111111",
        "UpdateAccountPasswordPolicy",
        "2026-10-30T08:00:00Z",
        "arn:aws:iam::ID:user/ben.okafor",
        json!({"minimumPasswordLength": 8}),
        "iam.amazonaws.com",
    );
    let gz = logs.join("111111111111_CloudTrail_us-east-1_20261030T0805Z_x.json.gz");
    let mut encoder =
        flate2::write::GzEncoder::new(std::fs::File::create(&gz).unwrap(), Default::default());
    encoder
        .write_all(json!({"Records": [policy]}).to_string().as_bytes())
        .unwrap();
    encoder.finish().unwrap();
    // An EventBridge rule's target, one event per line.
    let bridge = dir.path().join("eventbridge.jsonl");
    let envelope = |detail: Value| {
        json!({"version": "0", "id": "b1", "detail-type": "AWS API Call via CloudTrail",
               "source": "aws.iam", "account": "111111111111", "time": detail["eventTime"],
               "region": "us-east-1", "resources": [], "detail": detail})
        .to_string()
    };
    let svc_backup = record(
        "111111111111",
        "CreateAccessKey",
        "2025-09-26T22:50:00Z",
        "arn:aws:sts::ID:assumed-role/terraform-deployer/run-1",
        json!({"userName": "svc-backup"}),
        "iam.amazonaws.com",
    );
    let mut svc_backup = svc_backup;
    svc_backup["responseElements"] = json!({"accessKey": {"userName": "svc-backup",
        "accessKeyId": "AKIAHFZVYRQBJKHN4J3M", "status": "Active"}});
    std::fs::write(&bridge, format!("{}\n{}\n", envelope(svc_backup), "")).unwrap();

    let (code, json_text, stderr) = example_plan(
        "json",
        &[
            "--events",
            dir.path().join("AWSLogs").to_str().unwrap(),
            "--events",
            bridge.to_str().unwrap(),
        ],
    );
    assert_eq!(code, 0, "{stderr}");
    let plan: Value = serde_json::from_str(&json_text).unwrap();
    let changes = plan["accounts"][0]["changes"].as_array().unwrap();
    let by = |address: &str| {
        changes.iter().find(|c| c["address"] == address).unwrap()["attribution"]["principal_arn"]
            .clone()
    };
    assert_eq!(
        by("password_policy"),
        "arn:aws:iam::111111111111:user/ben.okafor"
    );
    assert_eq!(
        by("user.svc-backup.access_key.AKIAHFZVYRQBJKHN4J3M"),
        "arn:aws:sts::111111111111:assumed-role/terraform-deployer/run-1"
    );
}

#[test]
fn bad_event_files_and_explain_offline_without_events_are_errors() {
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("bad.json");
    std::fs::write(&bad, "{\"Records\": [{\"eventName\": \"X\"}]}").unwrap();
    let (code, stdout, stderr) = example_plan("text", &["--events", bad.to_str().unwrap()]);
    assert_eq!(code, 1);
    assert!(stdout.is_empty());
    assert!(
        stderr
            .contains("bad.json:1: not CloudTrail events: a CloudTrail record needs \"eventTime\""),
        "{stderr}"
    );

    let (code, stdout, stderr) = example_plan("text", &["--explain"]);
    assert_eq!(code, 1);
    assert!(stdout.is_empty());
    assert!(
        stderr.contains("--explain with --snapshot needs --events"),
        "{stderr}"
    );
}

// ------------------------------------------------------------------------------------------
// Attribution from LookupEvents, recorded (moto has no LookupEvents)
// ------------------------------------------------------------------------------------------

/// Clients of account `prod` whose every HTTP request is answered by `replay`; the region is
/// eu-west-1, so IAM's lookups must go to us-east-1 and the trail's stay in eu-west-1.
fn replay_clients(replay: &StaticReplayClient) -> iamctl::aws::AccountClients {
    let config = SdkConfig::builder()
        .behavior_version(BehaviorVersion::latest())
        .region(Region::new("eu-west-1"))
        .credentials_provider(SharedCredentialsProvider::new(Credentials::new(
            "AKIDEXAMPLE",
            "secret",
            None,
            None,
            "test",
        )))
        .http_client(replay.clone())
        .build();
    ClientFactory::with_config(config.clone(), ApiCalls::default())
        .clients_from_config("prod", config)
}

/// One recorded `LookupEvents` exchange: the request iamctl must send (region, lookup
/// attribute, page token) and CloudTrail's answer.
fn exchange(region: &str, name: &str, token: Option<&str>, answer: Value) -> ReplayEvent {
    let mut request = json!({
        "LookupAttributes": [{"AttributeKey": "EventName", "AttributeValue": name}],
        "MaxResults": 50
    });
    if let Some(token) = token {
        request["NextToken"] = json!(token);
    }
    ReplayEvent::new(
        http::Request::builder()
            .method("POST")
            .uri(format!("https://cloudtrail.{region}.amazonaws.com/"))
            .header("x-amz-target", "CloudTrail_20131101.LookupEvents")
            .body(SdkBody::from(request.to_string()))
            .unwrap(),
        http::Response::builder()
            .status(200)
            .header("content-type", "application/x-amz-json-1.1")
            .body(SdkBody::from(answer.to_string()))
            .unwrap(),
    )
}

/// An event as `LookupEvents` lists it: summary fields, and the whole record as a string.
fn listed(record: Value) -> Value {
    let time: chrono::DateTime<chrono::Utc> =
        record["eventTime"].as_str().unwrap().parse().unwrap();
    json!({
        "EventId": record["eventID"],
        "EventName": record["eventName"],
        "ReadOnly": "false",
        "EventTime": time.timestamp(),
        "EventSource": record["eventSource"],
        "Username": "someone",
        "Resources": [],
        "CloudTrailEvent": record.to_string(),
    })
}

fn drifted_plan() -> AccountPlan {
    let finding = |address: &str, rule: Rule, message: &str| {
        Finding::new(address.parse().unwrap(), rule, message.into())
    };
    let weak = PasswordPolicy {
        minimum_length: 8,
        ..PasswordPolicy::iam_default()
    };
    AccountPlan {
        name: "prod".into(),
        account_id: "111111111111".into(),
        changes: vec![
            Change::new(
                Rule::PasswordPolicy,
                ChangeKind::UpdatePasswordPolicy {
                    before: weak.clone(),
                    after: PasswordPolicy {
                        minimum_length: 14,
                        ..weak
                    },
                },
            ),
            Change::new(
                Rule::KeysMaxAge,
                ChangeKind::DeactivateAccessKey {
                    user: "svc-backup".into(),
                    key: KeyFacts {
                        id: "AKIAHFZVYRQBJKHN4J3M".parse().unwrap(),
                        status: KeyStatus::Active,
                        created: "2025-01-01T00:00:00Z".parse().unwrap(),
                        last_used: None,
                        inactive_since: None,
                        rotation: None,
                    },
                    if_still_unused: false,
                    delete_on: None,
                },
            ),
        ],
        findings: vec![
            finding(
                "user.jonas.berg",
                Rule::KeysMaxActive,
                "2 active access keys (at most 1 allowed)",
            ),
            finding(
                "cloudtrail",
                Rule::AuditCloudTrail,
                "no multi-region trail is logging management write events: IAM changes are not audited",
            ),
        ],
        credential_report_generated_at: None,
        error: None,
    }
}

const KEY_MAKER: &str = "arn:aws:sts::111111111111:assumed-role/terraform-deployer/run-7";

#[tokio::test]
async fn lookup_events_answers_explain_the_plan_in_every_format() {
    let key = |user: &str, key: &str, time: &str| {
        let mut r = record(
            "111111111111",
            "CreateAccessKey",
            time,
            KEY_MAKER,
            json!({"userName": user}),
            "iam.amazonaws.com",
        );
        r["responseElements"] =
            json!({"accessKey": {"userName": user, "accessKeyId": key, "status": "Active"}});
        r
    };
    let policy = |time: &str, who: &str| {
        record(
            "111111111111",
            "UpdateAccountPasswordPolicy",
            time,
            who,
            json!({"minimumPasswordLength": 8}),
            "iam.amazonaws.com",
        )
    };
    let mut refused = policy(
        "2026-10-25T08:44:10Z",
        "arn:aws:sts::ID:assumed-role/ReadOnly/bot",
    );
    refused["errorCode"] = json!("AccessDenied");
    let stop = record(
        "111111111111",
        "StopLogging",
        "2026-10-20T02:14:52Z",
        "arn:aws:sts::ID:assumed-role/OpsAutomation/cost-cutter",
        json!({"name": "arn:aws:cloudtrail:eu-west-1:111111111111:trail/org-audit"}),
        "cloudtrail.amazonaws.com",
    );
    let none = json!({"Events": []});
    // One lookup per event name (shared names once), IAM's in us-east-1, the trail's in
    // the clients' region; CreateAccessKey takes two pages. Newest first, as CloudTrail lists.
    let replay = StaticReplayClient::new(vec![
        exchange(
            "us-east-1",
            "CreateAccessKey",
            None,
            json!({"Events": [listed(key("jonas.berg", "AKIASIXEEK2CLECCXWLR", "2026-10-21T22:50:00Z"))],
                   "NextToken": "page-2"}),
        ),
        exchange(
            "us-east-1",
            "CreateAccessKey",
            Some("page-2"),
            json!({"Events": [listed(key("svc-backup", "AKIAHFZVYRQBJKHN4J3M", "2026-08-26T22:50:00Z"))]}),
        ),
        exchange(
            "us-east-1",
            "DeleteAccountPasswordPolicy",
            None,
            none.clone(),
        ),
        exchange("us-east-1", "UpdateAccessKey", None, none.clone()),
        exchange(
            "us-east-1",
            "UpdateAccountPasswordPolicy",
            None,
            json!({"Events": [listed(refused),
                              listed(policy("2026-10-12T14:03:27Z", PRIYA)),
                              listed(policy("2026-03-02T09:15:41Z", "arn:aws:iam::ID:user/ben.okafor"))]}),
        ),
        exchange("eu-west-1", "CreateTrail", None, none.clone()),
        exchange("eu-west-1", "DeleteTrail", None, none.clone()),
        exchange("eu-west-1", "PutEventSelectors", None, none.clone()),
        exchange(
            "eu-west-1",
            "StopLogging",
            None,
            json!({"Events": [listed(stop)]}),
        ),
        exchange("eu-west-1", "UpdateTrail", None, none),
    ]);
    let clients = replay_clients(&replay);
    let mut plan = drifted_plan();
    // One lookup at a time, so the recorded answers meet their requests in order.
    let opts = LookupOptions {
        concurrency: 1,
        ..LookupOptions::default()
    };
    let explained = explain::explain_with_lookups(&clients, &mut plan, &opts)
        .await
        .expect("lookups");
    assert_eq!(explained, 4);
    replay.relaxed_requests_match();

    let who = |a: &Option<iamctl::plan::Attribution>| {
        let a = a.as_ref().expect("attributed");
        (a.principal_arn.clone(), a.event_name.clone())
    };
    assert_eq!(
        who(&plan.changes[0].attribution),
        (PRIYA.to_owned(), "UpdateAccountPasswordPolicy".to_owned())
    );
    assert_eq!(
        who(&plan.changes[1].attribution),
        (KEY_MAKER.to_owned(), "CreateAccessKey".to_owned())
    );
    assert_eq!(
        plan.findings[0]
            .attribution
            .as_ref()
            .unwrap()
            .event_time
            .to_rfc3339(),
        "2026-10-21T22:50:00+00:00"
    );
    assert_eq!(
        who(&plan.findings[1].attribution).0,
        "arn:aws:sts::111111111111:assumed-role/OpsAutomation/cost-cutter"
    );

    let as_of = "2026-11-01T00:00:00Z".parse().unwrap();
    let full = Plan::new(as_of, vec![plan]);
    let text = render::text(&full, &render::TextOptions::default());
    assert!(
        text.contains(&format!(
            "\n      by {PRIYA} at 2026-10-12T14:03:27Z (UpdateAccountPasswordPolicy)\n"
        )),
        "{text}"
    );
    assert!(text.contains(&format!(
        "\n      by {KEY_MAKER} at 2026-08-26T22:50:00Z (CreateAccessKey)\n"
    )));
    let json_out: Value = serde_json::from_str(&render::json(&full)).unwrap();
    assert_eq!(
        json_out["accounts"][0]["findings"][1]["attribution"],
        json!({"event_name": "StopLogging", "event_time": "2026-10-20T02:14:52Z",
               "principal_arn": "arn:aws:sts::111111111111:assumed-role/OpsAutomation/cost-cutter",
               "source_ip": "203.0.113.9", "event_id": "evt-StopLogging-2026-10-20T02:14:52Z"})
    );
    let markdown = render::markdown(&full);
    assert!(
        markdown.contains(&format!(
            "| `user.jonas.berg` | 2 active access keys (at most 1 allowed) | `users.access_keys.max_active` | 1.13 | `{KEY_MAKER}` at 2026-10-21T22:50:00Z (`CreateAccessKey`) |"
        )),
        "{markdown}"
    );
}

#[tokio::test]
async fn a_refused_lookup_names_the_missing_permission_and_leaves_the_plan_alone() {
    let replay = StaticReplayClient::new(vec![ReplayEvent::new(
        http::Request::builder()
            .uri("https://cloudtrail.us-east-1.amazonaws.com/")
            .body(SdkBody::empty())
            .unwrap(),
        http::Response::builder()
            .status(400)
            .header("content-type", "application/x-amz-json-1.1")
            .body(SdkBody::from(
                json!({"__type": "AccessDeniedException",
                       "Message": "User: arn:aws:sts::111111111111:assumed-role/iamctl/x is not authorized to perform: cloudtrail:LookupEvents"})
                .to_string(),
            ))
            .unwrap(),
    )]);
    let clients = replay_clients(&replay);
    let mut plan = drifted_plan();
    plan.findings.clear();
    plan.changes.truncate(1);
    let before = plan.clone();
    let opts = LookupOptions {
        concurrency: 1,
        ..LookupOptions::default()
    };
    let err = explain::explain_with_lookups(&clients, &mut plan, &opts)
        .await
        .unwrap_err();
    assert!(
        err.to_string().contains(
            "account prod: cloudtrail:LookupEvents: AccessDeniedException: User: arn:aws:sts::111111111111:assumed-role/iamctl/x is not authorized"
        ),
        "{err}"
    );
    assert!(
        err.to_string()
            .ends_with("(missing permission cloudtrail:LookupEvents)")
    );
    assert_eq!(plan, before);
}
