//! `plan --format sarif`, offline on the example snapshot: the log validates against the
//! SARIF 2.1.0 JSON schema (tests/sarif/sarif-schema-2.1.0.json, the schema that Microsoft's
//! SARIF Multitool 5.7.0 ships in its npm package @microsoft/sarif-multitool-linux), every
//! result points at the file and line of the key that asked for it (an `[[account]]`
//! override winning over the top-level key, a `[[user]]` entry for its user), and Microsoft's
//! SARIF Multitool `validate` finds no error in it (skipped, saying why, where the tool is not
//! installed: `scripts/ensure-sarif-multitool` installs it).

use crate::support;

use std::path::{Path, PathBuf};

use serde_json::Value;

const SCHEMA: &str = include_str!(concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/tests/sarif/sarif-schema-2.1.0.json"
));

fn snapshot() -> String {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("examples/snapshot.json")
        .display()
        .to_string()
}

/// Every way `log` breaks the SARIF 2.1.0 schema (formats included), as readable lines.
fn schema_errors(log: &Value) -> Vec<String> {
    let schema: Value = serde_json::from_str(SCHEMA).unwrap();
    let validator = jsonschema::options()
        .should_validate_formats(true)
        .build(&schema)
        .expect("the SARIF schema compiles");
    validator
        .iter_errors(log)
        .map(|e| format!("{}: {e}", e.instance_path()))
        .collect()
}

/// `iamctl plan --format sarif ARGS` run in `dir`, offline; the exit code and the log.
fn plan_sarif(dir: &Path, args: &[&str]) -> (i32, Value, String) {
    let out = support::cli::output(
        support::cli::offline_cmd()
            .current_dir(dir)
            .args(["plan", "--format", "sarif"])
            .args(args),
    );
    let log = serde_json::from_str(&out.stdout)
        .unwrap_or_else(|e| panic!("not JSON ({e}): {}\n{}", out.stdout, out.stderr));
    (out.code, log, out.stdout)
}

/// A desired state in two files: top-level rules and `prod` in a.toml, `staging` with its own
/// `max_age_days` and `[[user]]` entry in b.toml.
fn two_files(dir: &Path) {
    std::fs::create_dir(dir.join("desired")).unwrap();
    std::fs::write(
        dir.join("desired/a.toml"),
        "# top-level rules\n\
         [users.access_keys]\n\
         max_age_days = 90\n\
         \n\
         [[user]]\n\
         name = \"nobody-here\"\n\
         \n\
         [[account]]\n\
         name = \"prod\"\n",
    )
    .unwrap();
    std::fs::write(
        dir.join("desired/b.toml"),
        "[[account]]\n\
         name = \"staging\"\n\
         \n\
         [account.users.access_keys]\n\
         max_age_days = 30\n\
         \n\
         [[account.user]]\n\
         name = \"ci-deployer\"\n\
         console = true\n",
    )
    .unwrap();
}

/// `(account, rule, address)` -> `uri:line:column` of each result.
fn locations(log: &Value) -> Vec<(String, String, String, String)> {
    log["runs"][0]["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            let at = &r["locations"][0]["physicalLocation"];
            (
                r["properties"]["account"].as_str().unwrap().to_owned(),
                r["ruleId"].as_str().unwrap().to_owned(),
                r["properties"]["address"].as_str().unwrap().to_owned(),
                format!(
                    "{}:{}:{}",
                    at["artifactLocation"]["uri"].as_str().unwrap(),
                    at["region"]["startLine"],
                    at["region"]["startColumn"]
                ),
            )
        })
        .collect()
}

#[test]
fn each_result_points_at_the_key_that_asked_for_it_and_the_log_is_valid() {
    let dir = tempfile::tempdir().unwrap();
    two_files(dir.path());
    let (code, log, _) = plan_sarif(dir.path(), &["-c", "desired", "--snapshot", &snapshot()]);
    assert_eq!(code, 0);
    assert_eq!(schema_errors(&log), Vec::<String>::new());
    assert_eq!(log["version"], "2.1.0");

    let found = locations(&log);
    let at = |account: &str, rule: &str, address: &str| {
        found
            .iter()
            .find(|(a, r, ad, _)| a == account && r == rule && ad == address)
            .unwrap_or_else(|| panic!("no {rule} result for {account}/{address}: {found:?}"))
            .3
            .clone()
    };
    // The top-level key, for the account that does not override it.
    assert_eq!(
        at(
            "prod",
            "users.access_keys.max_age_days",
            "user.svc-backup.access_key.AKIAHFZVYRQBJKHN4J3M"
        ),
        "desired/a.toml:3:1"
    );
    // The account's own key wins.
    assert_eq!(
        at(
            "staging",
            "users.access_keys.max_age_days",
            "user.svc-old.access_key.AKIAG66VSGLGCF6DPKJP"
        ),
        "desired/b.toml:5:1"
    );
    // A `[[user]]` entry: its field, in the account's own entry; the entry's name otherwise.
    assert_eq!(
        at("staging", "user.console", "user.ci-deployer.login_profile"),
        "desired/b.toml:9:1"
    );
    assert_eq!(
        at("staging", "user", "user.nobody-here"),
        "desired/a.toml:6:1"
    );
    assert_eq!(at("prod", "user", "user.nobody-here"), "desired/a.toml:6:1");

    // One result per plan item, with its level, logical location and fingerprint.
    let results = log["runs"][0]["results"].as_array().unwrap();
    assert_eq!(results.len(), found.len());
    let creation = results
        .iter()
        .find(|r| r["ruleId"] == "user.console")
        .unwrap();
    assert_eq!(creation["level"], "warning");
    assert_eq!(
        creation["message"]["text"],
        "user.ci-deployer.login_profile will be created"
    );
    assert_eq!(
        creation["locations"][0]["logicalLocations"][0]["fullyQualifiedName"],
        "staging/user.ci-deployer.login_profile"
    );
    assert_eq!(
        creation["partialFingerprints"]["iamctl/v1"],
        "222222222222/user.ci-deployer.login_profile/user.console"
    );
    assert_eq!(creation["properties"]["kind"], "change");
    let missing = results.iter().find(|r| r["ruleId"] == "user").unwrap();
    assert_eq!(missing["properties"]["kind"], "finding");
    assert_eq!(missing["level"], "warning");

    // The driver lists each rule used once, with its CIS controls; results index into it.
    let rules = log["runs"][0]["tool"]["driver"]["rules"]
        .as_array()
        .unwrap();
    let ids: Vec<&str> = rules.iter().map(|r| r["id"].as_str().unwrap()).collect();
    assert_eq!(
        ids,
        ["users.access_keys.max_age_days", "user", "user.console"]
    );
    assert_eq!(
        rules[0]["properties"]["controls"],
        serde_json::json!(["1.14"])
    );
    assert_eq!(
        rules[0]["properties"]["tags"],
        serde_json::json!(["security", "iam", "CIS 1.14", "Security Hub IAM.3"])
    );
    assert_eq!(
        rules[0]["fullDescription"]["text"],
        "Access keys must not be older than max_age_days (desired-state key \
         users.access_keys.max_age_days; CIS AWS Foundations Benchmark v3.0.0 1.14)."
    );
    for result in results {
        let index = result["ruleIndex"].as_u64().unwrap() as usize;
        assert_eq!(rules[index]["id"], result["ruleId"]);
    }
    assert_eq!(
        log["runs"][0]["invocations"][0]["executionSuccessful"],
        true
    );
}

#[test]
fn the_baseline_plan_is_valid_sarif_with_notices_as_notes() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let (code, log, _) = plan_sarif(root, &["--snapshot", &snapshot()]);
    assert_eq!(code, 0);
    assert_eq!(schema_errors(&log), Vec::<String>::new());
    let results = log["runs"][0]["results"].as_array().unwrap();
    let notice = results
        .iter()
        .find(|r| r["ruleId"] == "users.console.max_unused_days.notice")
        .expect("the baseline gives the example snapshot a console notice");
    assert_eq!(notice["level"], "note");
    assert_eq!(notice["properties"]["kind"], "notice");
    assert!(notice["properties"]["due"].is_string(), "{notice}");
    // The notice's rule is its own descriptor, a note by default.
    let rules = log["runs"][0]["tool"]["driver"]["rules"]
        .as_array()
        .unwrap();
    let descriptor = &rules[notice["ruleIndex"].as_u64().unwrap() as usize];
    assert_eq!(descriptor["defaultConfiguration"]["level"], "note");
    // Root findings point at their [root] keys in desired/baseline.toml.
    let root_keys = results
        .iter()
        .find(|r| r["ruleId"] == "root.forbid_access_keys")
        .unwrap();
    let at = &root_keys["locations"][0]["physicalLocation"];
    assert_eq!(at["artifactLocation"]["uri"], "desired/baseline.toml");
    let line = at["region"]["startLine"].as_u64().unwrap() as usize;
    let text = std::fs::read_to_string(root.join("desired/baseline.toml")).unwrap();
    assert!(
        text.lines()
            .nth(line - 1)
            .unwrap()
            .starts_with("forbid_access_keys = true"),
        "line {line}"
    );
}

#[test]
fn the_schema_check_catches_values_out_of_range() {
    let dir = tempfile::tempdir().unwrap();
    two_files(dir.path());
    let (_, mut log, _) = plan_sarif(dir.path(), &["-c", "desired", "--snapshot", &snapshot()]);
    log["runs"][0]["results"][0]["locations"][0]["physicalLocation"]["region"]["startLine"] =
        0.into();
    log["runs"][0]["results"][1]["level"] = "fatal".into();
    let errors = schema_errors(&log);
    assert_eq!(errors.len(), 2, "{errors:?}");
    assert!(
        errors[0].starts_with("/runs/0/results/0/locations/0/physicalLocation/region/startLine"),
        "{errors:?}"
    );
    assert!(
        errors[1].starts_with("/runs/0/results/1/level"),
        "{errors:?}"
    );
}

#[test]
fn an_account_that_could_not_be_planned_is_an_error_notification() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("desired.toml"),
        "[users.access_keys]\nmax_age_days = 90\n\n[[account]]\nname = \"nowhere\"\n",
    )
    .unwrap();
    let (code, log, _) = plan_sarif(
        dir.path(),
        &["-c", "desired.toml", "--snapshot", &snapshot()],
    );
    assert_eq!(code, 1);
    assert_eq!(schema_errors(&log), Vec::<String>::new());
    let invocation = &log["runs"][0]["invocations"][0];
    assert_eq!(invocation["executionSuccessful"], false);
    assert_eq!(
        invocation["toolExecutionNotifications"][0]["level"],
        "error"
    );
    assert_eq!(
        invocation["toolExecutionNotifications"][0]["message"]["text"],
        "account nowhere () could not be read, so it was not planned: the snapshot has no \
         account named \"nowhere\" (it has: prod, staging)"
    );
    assert_eq!(log["runs"][0]["results"], serde_json::json!([]));
}

/// Microsoft's SARIF Multitool, when installed: `IAMCTL_SARIF_MULTITOOL`, else where
/// `scripts/ensure-sarif-multitool` puts it.
fn multitool() -> Option<PathBuf> {
    let path = std::env::var_os("IAMCTL_SARIF_MULTITOOL")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            Path::new(env!("CARGO_MANIFEST_DIR"))
                .join(".tools/sarif-multitool/node_modules/@microsoft/sarif-multitool-linux/Sarif.Multitool")
        });
    path.is_file().then_some(path)
}

/// The multitool's rules iamctl's log is allowed to break, each with why.
const ACCEPTED: &[(&str, &str)] = &[(
    "SARIF2005",
    "the driver has no informationUri: iamctl has no public home page to name yet",
)];

#[test]
fn the_sarif_multitool_finds_no_error_in_a_plan() {
    let Some(tool) = multitool() else {
        eprintln!(
            "skipped: Microsoft's SARIF Multitool is not installed (scripts/ensure-sarif-multitool \
             installs it from npm; or set IAMCTL_SARIF_MULTITOOL to its Sarif.Multitool binary)"
        );
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    two_files(dir.path());
    let (_, _, text) = plan_sarif(dir.path(), &["-c", "desired", "--snapshot", &snapshot()]);
    let input = dir.path().join("plan.sarif");
    std::fs::write(&input, text).unwrap();
    let report = dir.path().join("validation.sarif");
    let out = std::process::Command::new(&tool)
        .arg("validate")
        .arg(&input)
        .arg("--output")
        .arg(&report)
        .env("DOTNET_CLI_TELEMETRY_OPTOUT", "1")
        .output()
        .unwrap_or_else(|e| panic!("running {}: {e}", tool.display()));
    let said = format!(
        "{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.status.success(), "the multitool failed:\n{said}");
    let report: Value = serde_json::from_str(&std::fs::read_to_string(&report).unwrap()).unwrap();
    let run = &report["runs"][0];
    let rules = run["tool"]["driver"]["rules"].as_array();
    let level_of = |result: &Value| -> String {
        let default = result["ruleIndex"]
            .as_u64()
            .and_then(|i| rules?.get(i as usize))
            .and_then(|rule| rule["defaultConfiguration"]["level"].as_str());
        result["level"]
            .as_str()
            .or(default)
            .unwrap_or("warning")
            .to_owned()
    };
    let mut complaints = Vec::new();
    for result in run["results"].as_array().unwrap() {
        let rule = result["ruleId"].as_str().unwrap_or_default();
        if ACCEPTED.iter().any(|(id, _)| *id == rule) {
            continue;
        }
        complaints.push(format!("{} {rule}: {result}", level_of(result)));
    }
    assert_eq!(complaints, Vec::<String>::new(), "{said}");
}
