//! The examples that run a fleet beyond one machine: the Kubernetes manifests in
//! examples/kubernetes (an Indexed Job of shards in a CronJob, and the step that merges them)
//! and the Step Functions part of the SAM template in examples/events. Every YAML document
//! parses and holds the fields its kind needs; the shard arithmetic agrees with the Job's
//! `completions`; the iamctl command line parses with the real clap definitions; the merge
//! step, run for real (with jq), gives back the unsharded plan; and the SAM template passes
//! cfn-lint (installed by scripts/ensure-cfn-lint; skipped, saying so, where it cannot be).
//! No Kubernetes schema validator (kubeconform, kubeval) installs from the registries this
//! project reaches, so the manifests are checked structurally here.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use clap::Parser;
use iamctl::cli::Cli;
use yaml_rust2::{Yaml, YamlLoader};

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn read(path: &str) -> String {
    std::fs::read_to_string(repo().join(path)).unwrap_or_else(|e| panic!("reading {path}: {e}"))
}

fn text<'a>(doc: &'a Yaml, what: &str) -> &'a str {
    doc.as_str()
        .unwrap_or_else(|| panic!("{what}: a string, found {doc:?}"))
}

fn int(doc: &Yaml, what: &str) -> i64 {
    doc.as_i64()
        .unwrap_or_else(|| panic!("{what}: an integer, found {doc:?}"))
}

// ---------------------------------------------------------------------------------------------
// Kubernetes
// ---------------------------------------------------------------------------------------------

const KUBERNETES: &str = "examples/kubernetes";

/// Every document of every manifest, keyed by (kind, name).
fn manifests() -> BTreeMap<(String, String), Yaml> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(repo().join(KUBERNETES))
        .unwrap()
        .map(|entry| entry.unwrap().path())
        .filter(|path| path.extension().is_some_and(|ext| ext == "yaml"))
        .collect();
    files.sort();
    assert!(files.len() >= 4, "manifests in {KUBERNETES}: {files:?}");
    let mut all = BTreeMap::new();
    for file in files {
        let source = std::fs::read_to_string(&file).unwrap();
        let docs = YamlLoader::load_from_str(&source)
            .unwrap_or_else(|e| panic!("{}: {e}", file.display()));
        assert!(!docs.is_empty(), "{}: no document", file.display());
        for doc in docs {
            let what = file.display().to_string();
            let api = text(&doc["apiVersion"], &format!("{what}: apiVersion"));
            let kind = text(&doc["kind"], &format!("{what}: kind")).to_owned();
            let name = text(&doc["metadata"]["name"], &format!("{what}: metadata.name")).to_owned();
            let expected_api = match kind.as_str() {
                "Namespace" | "ServiceAccount" | "ConfigMap" | "PersistentVolumeClaim" => "v1",
                "CronJob" | "Job" => "batch/v1",
                other => panic!("{what}: unexpected kind {other}"),
            };
            assert_eq!(api, expected_api, "{what}: {kind} {name}");
            if kind != "Namespace" {
                assert_eq!(
                    doc["metadata"]["namespace"].as_str(),
                    Some("iamctl"),
                    "{what}: {kind} {name} in the iamctl namespace"
                );
            }
            let previous = all.insert((kind.clone(), name.clone()), doc);
            assert!(previous.is_none(), "{kind} {name} defined twice");
        }
    }
    all
}

fn get<'a>(all: &'a BTreeMap<(String, String), Yaml>, kind: &str, name: &str) -> &'a Yaml {
    all.get(&(kind.to_owned(), name.to_owned()))
        .unwrap_or_else(|| panic!("no {kind} {name} in {KUBERNETES}"))
}

/// A CronJob's pod spec, after checking the shape every CronJob here needs.
fn cron_pod<'a>(cron: &'a Yaml, name: &str) -> &'a Yaml {
    let schedule = text(&cron["spec"]["schedule"], name);
    assert_eq!(
        schedule.split_whitespace().count(),
        5,
        "{name}: a five-field schedule"
    );
    assert_eq!(cron["spec"]["concurrencyPolicy"].as_str(), Some("Forbid"));
    let pod = &cron["spec"]["jobTemplate"]["spec"]["template"]["spec"];
    assert_eq!(
        pod["restartPolicy"].as_str(),
        Some("Never"),
        "{name}: a failed pod is a failed index, not restarted in place"
    );
    let containers = pod["containers"].as_vec().expect("containers");
    assert_eq!(containers.len(), 1, "{name}: one container");
    assert!(containers[0]["image"].as_str().is_some(), "{name}: image");
    pod
}

/// The volume names a pod declares, each with what it refers to (ConfigMap or claim).
fn volumes(pod: &Yaml) -> BTreeMap<String, (String, String)> {
    pod["volumes"]
        .as_vec()
        .expect("volumes")
        .iter()
        .map(|v| {
            let name = text(&v["name"], "volume name").to_owned();
            let source = if let Some(map) = v["configMap"]["name"].as_str() {
                ("ConfigMap".to_owned(), map.to_owned())
            } else if let Some(claim) = v["persistentVolumeClaim"]["claimName"].as_str() {
                ("PersistentVolumeClaim".to_owned(), claim.to_owned())
            } else {
                panic!("volume {name}: a configMap or a persistentVolumeClaim")
            };
            (name, source)
        })
        .collect()
}

/// Every volume a pod mounts is declared, and refers to an object of the manifests.
fn check_volumes(all: &BTreeMap<(String, String), Yaml>, pod: &Yaml, name: &str) {
    let declared = volumes(pod);
    for (volume, (kind, target)) in &declared {
        get(all, kind, target);
        assert!(!volume.is_empty());
    }
    for mount in pod["containers"][0]["volumeMounts"]
        .as_vec()
        .expect("volumeMounts")
    {
        let volume = text(&mount["name"], "mount name");
        assert!(
            declared.contains_key(volume),
            "{name}: mounts undeclared volume {volume}"
        );
    }
}

/// The value of a container's environment variable set by `value`.
fn env_value<'a>(container: &'a Yaml, name: &str) -> Option<&'a str> {
    container["env"]
        .as_vec()?
        .iter()
        .find(|e| e["name"].as_str() == Some(name))?["value"]
        .as_str()
}

/// The one `iamctl ...` command of a `sh -c` script, as words: the script's shell arithmetic
/// and variables replaced by what they are at index 0, double quotes removed (the script quotes
/// whole words only).
fn iamctl_words(script: &str) -> Vec<String> {
    let start = script.find("iamctl ").expect("an iamctl command");
    script[start..]
        .replace("$((JOB_COMPLETION_INDEX+1))", "1")
        .replace("$JOB_NAME", "iamctl-plan-29000000")
        .split_whitespace()
        .map(|word| word.replace('"', ""))
        .collect()
}

#[test]
fn the_kubernetes_manifests_run_n_shards_as_an_indexed_job_and_merge_the_same_n() {
    let all = manifests();

    let account = get(&all, "ServiceAccount", "iamctl");
    let role = text(
        &account["metadata"]["annotations"]["eks.amazonaws.com/role-arn"],
        "IRSA annotation",
    );
    assert!(
        role.starts_with("arn:aws:iam::") && role.contains(":role/"),
        "IRSA role ARN: {role}"
    );

    // The desired state in the ConfigMap loads as iamctl loads a folder.
    let desired = get(&all, "ConfigMap", "iamctl-desired");
    let files: Vec<(String, String)> = desired["data"]
        .as_hash()
        .expect("data")
        .iter()
        .map(|(k, v)| {
            let key = text(k, "data key").to_owned();
            assert!(key.ends_with(".toml"), "{key}: a *.toml file of desired/");
            (key, text(v, "data value").to_owned())
        })
        .collect();
    let doc = iamctl::desired::load_sources(files).expect("the ConfigMap's desired state loads");
    assert!(
        doc.organization.is_some(),
        "the example plans an organization"
    );

    let plan = get(&all, "CronJob", "iamctl-plan");
    let job = &plan["spec"]["jobTemplate"]["spec"];
    assert_eq!(job["completionMode"].as_str(), Some("Indexed"));
    let completions = int(&job["completions"], "completions");
    let parallelism = int(&job["parallelism"], "parallelism");
    assert!(
        (1..=completions).contains(&parallelism),
        "parallelism {parallelism} within 1..={completions}"
    );
    let pod = cron_pod(plan, "iamctl-plan");
    assert_eq!(pod["serviceAccountName"].as_str(), Some("iamctl"));
    check_volumes(&all, pod, "iamctl-plan");
    let container = &pod["containers"][0];
    assert_eq!(
        container["command"]
            .as_vec()
            .unwrap()
            .iter()
            .map(|w| text(w, "command"))
            .collect::<Vec<_>>(),
        ["/bin/sh", "-c"]
    );
    let script = text(&container["args"][0], "args");
    let shard = format!("--shard \"$((JOB_COMPLETION_INDEX+1))/{completions}\"");
    assert!(
        script.contains(&shard),
        "the shard count is completions ({completions}): {script}"
    );
    assert!(
        script.contains(&format!("-of-{completions}.json\"")),
        "each shard's file names N = {completions}: {script}"
    );
    assert_eq!(
        container["env"][0]["valueFrom"]["fieldRef"]["fieldPath"].as_str(),
        Some("metadata.labels['batch.kubernetes.io/job-name']"),
        "JOB_NAME, the run's folder, from the Job's label"
    );
    let words = iamctl_words(script);
    let cli =
        Cli::try_parse_from(&words).unwrap_or_else(|e| panic!("{words:?} does not parse: {e}"));
    assert_eq!(
        cli.global.shard.map(|s| (s.index(), s.count())),
        Some((1, completions as usize)),
        "{words:?}"
    );
    assert!(words.windows(2).any(|w| w == ["--format", "json"]));

    let merge = get(&all, "CronJob", "iamctl-merge");
    let pod = cron_pod(merge, "iamctl-merge");
    check_volumes(&all, pod, "iamctl-merge");
    assert_eq!(
        env_value(&pod["containers"][0], "SHARDS"),
        Some(completions.to_string().as_str()),
        "the merge expects the plan's N shards"
    );
    // The merge runs after the plan is due, on the same volume.
    let hour = |cron: &Yaml| -> u32 {
        text(&cron["spec"]["schedule"], "schedule")
            .split_whitespace()
            .nth(1)
            .unwrap()
            .parse()
            .unwrap()
    };
    assert!(hour(merge) > hour(plan));
    assert_eq!(
        volumes(pod)["results"],
        volumes(cron_pod(plan, "p"))["results"]
    );
}

/// `iamctl plan --snapshot` over a snapshot of `accounts` copies of examples/snapshot.json's
/// first account, with `args`; its JSON plan.
fn snapshot_plan(dir: &Path, accounts: usize, args: &[&str]) -> String {
    let snapshot = dir.join("snapshot.json");
    if !snapshot.exists() {
        let mut doc: serde_json::Value =
            serde_json::from_str(&read("examples/snapshot.json")).unwrap();
        let first = doc["accounts"][0].clone();
        doc["accounts"] = (0..accounts)
            .map(|i| {
                let mut account = first.clone();
                account["name"] = format!("member-{i:02}").into();
                account
            })
            .collect();
        std::fs::write(&snapshot, doc.to_string()).unwrap();
    }
    let out = Command::new(env!("CARGO_BIN_EXE_iamctl"))
        .args(["plan", "-c"])
        .arg(repo().join("desired"))
        .arg("--snapshot")
        .arg(&snapshot)
        .args(["--as-of", "2026-12-01", "--format", "json", "--no-color"])
        .args(args)
        .env_clear()
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

#[test]
fn the_merge_step_gives_back_the_unsharded_plan() {
    if Command::new("jq").arg("--version").output().is_err() {
        eprintln!("SKIPPED: jq is not installed; the merge script was not run");
        return;
    }
    let all = manifests();
    let merge = get(&all, "CronJob", "iamctl-merge");
    let container = &cron_pod(merge, "iamctl-merge")["containers"][0];
    let shards: usize = env_value(container, "SHARDS").unwrap().parse().unwrap();
    let script = text(&container["args"][0], "args");

    // A run folder as the Indexed Job leaves it: 11 accounts in N shard plans.
    let dir = tempfile::tempdir().unwrap();
    let results = dir.path().join("results");
    let run = results.join("iamctl-plan-29000000");
    std::fs::create_dir_all(&run).unwrap();
    for k in 1..=shards {
        let shard = format!("{k}/{shards}");
        let plan = snapshot_plan(dir.path(), 11, &["--shard", &shard]);
        std::fs::write(run.join(format!("shard-{k}-of-{shards}.json")), plan).unwrap();
    }
    let script = script.replace("/results", results.to_str().unwrap());
    let out = Command::new("sh")
        .args(["-c", &script])
        .env("SHARDS", shards.to_string())
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "merge: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let whole: iamctl::plan::Plan =
        serde_json::from_str(&snapshot_plan(dir.path(), 11, &[])).unwrap();
    let merged: iamctl::plan::Plan =
        serde_json::from_str(&std::fs::read_to_string(run.join("plan.json")).unwrap())
            .expect("the merged plan is a plan document");
    assert_eq!(merged.accounts.len(), 11);
    assert_eq!(merged.accounts, whole.accounts);
    assert_eq!(merged.summary, whole.summary);
    assert!(
        whole.summary.changes > 0,
        "the example plan changes something"
    );
    assert_eq!(
        String::from_utf8_lossy(&out.stdout).trim(),
        format!(
            "11 accounts: {} changes, {} findings, 0 failed",
            whole.summary.changes, whole.summary.findings
        )
    );

    // A run missing a shard is not merged, and the Job fails.
    std::fs::remove_file(run.join("plan.json")).unwrap();
    std::fs::remove_file(run.join(format!("shard-2-of-{shards}.json"))).unwrap();
    let out = Command::new("sh")
        .args(["-c", &script])
        .env("SHARDS", shards.to_string())
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(
        String::from_utf8_lossy(&out.stderr).contains(&format!(
            "holds {} of {shards} shard plans: not merged",
            shards - 1
        )),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(!run.join("plan.json").exists());
}

// ---------------------------------------------------------------------------------------------
// AWS Step Functions (examples/events/template.yaml)
// ---------------------------------------------------------------------------------------------

const TEMPLATE: &str = "examples/events/template.yaml";

#[test]
fn the_sam_template_plans_shards_with_a_distributed_map_on_a_schedule() {
    let docs = YamlLoader::load_from_str(&read(TEMPLATE)).unwrap();
    let template = &docs[0];
    let resources = &template["Resources"];
    let of_type = |kind: &str| -> Vec<(&str, &Yaml)> {
        resources
            .as_hash()
            .unwrap()
            .iter()
            .filter(|(_, r)| r["Type"].as_str() == Some(kind))
            .map(|(name, r)| (text(name, "resource name"), r))
            .collect()
    };

    let planner = &resources["ShardPlanner"]["Properties"];
    assert_eq!(
        resources["ShardPlanner"]["Type"].as_str(),
        Some("AWS::Serverless::Function")
    );
    let timeout = int(&planner["Timeout"], "Timeout");
    assert!(timeout <= 900, "Lambda runs 15 minutes at most: {timeout}");
    assert_eq!(planner["Handler"].as_str(), Some("bootstrap"));
    let variables = &planner["Environment"]["Variables"];
    for name in ["IAMCTL_DESIRED", "IAMCTL_RESULTS"] {
        // `!Sub s3://${FleetBucket}/...`: the tag is dropped, the text stays.
        let value = text(&variables[name], name);
        assert!(
            value.starts_with("s3://${FleetBucket}/") && value.ends_with('/'),
            "{name} = {value}"
        );
    }

    let machines = of_type("AWS::StepFunctions::StateMachine");
    assert_eq!(machines.len(), 1, "one state machine");
    let (machine_name, machine) = machines[0];
    let properties = &machine["Properties"];
    let definition = &properties["Definition"];
    let states = &definition["States"];
    let start = text(&definition["StartAt"], "StartAt");
    let numbers = &states[start];
    assert_eq!(
        numbers["Parameters"]["shards.$"].as_str(),
        Some("States.ArrayRange(1, ${Shards}, 1)"),
        "the items are the shard numbers 1..N"
    );
    let map = &states[text(&numbers["Next"], "Next")];
    assert_eq!(map["Type"].as_str(), Some("Map"));
    assert_eq!(
        map["ItemProcessor"]["ProcessorConfig"]["Mode"].as_str(),
        Some("DISTRIBUTED")
    );
    assert_eq!(map["ItemsPath"].as_str(), Some("$.shards"));
    // Each item is the handler's shard request, as the fixture event is.
    let selector = map["ItemSelector"].as_hash().unwrap();
    let mut keys: Vec<&str> = selector
        .keys()
        .map(|k| text(k, "key").trim_end_matches(".$"))
        .collect();
    keys.sort();
    let fixture: serde_json::Value =
        serde_json::from_str(&read("tests/fixtures/events/shard-plan.json")).unwrap();
    let mut fixture_keys: Vec<&str> = fixture
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    fixture_keys.sort();
    assert_eq!(keys, fixture_keys);
    assert_eq!(map["ItemSelector"]["mode"].as_str(), Some("plan"));
    assert_eq!(
        map["ItemSelector"]["shard.$"].as_str(),
        Some("States.Format('{}/${Shards}', $$.Map.Item.Value)")
    );
    let processor = &map["ItemProcessor"];
    let task = &processor["States"][text(&processor["StartAt"], "StartAt")];
    assert_eq!(
        task["Resource"].as_str(),
        Some("arn:aws:states:::lambda:invoke")
    );
    assert_eq!(
        task["Parameters"]["FunctionName"].as_str(),
        Some("${ShardPlannerArn}")
    );
    // `!GetAtt ShardPlanner.Arn`: the map invokes the shard planner.
    assert_eq!(
        properties["DefinitionSubstitutions"]["ShardPlannerArn"].as_str(),
        Some("ShardPlanner.Arn")
    );
    assert_eq!(
        map["ResultWriter"]["Resource"].as_str(),
        Some("arn:aws:states:::s3:putObject")
    );

    let schedules = of_type("AWS::Scheduler::Schedule");
    assert_eq!(schedules.len(), 1, "one EventBridge Scheduler schedule");
    let target = &schedules[0].1["Properties"]["Target"];
    assert_eq!(
        target["Arn"].as_str(),
        Some(machine_name),
        "it starts the state machine"
    );
    assert!(
        text(
            &schedules[0].1["Properties"]["ScheduleExpression"],
            "ScheduleExpression"
        )
        .starts_with("cron(")
    );
}

#[test]
fn the_sam_template_passes_cfn_lint() {
    let repo = repo();
    // Idempotent and quick once installed; says why and exits 0 where it cannot install.
    let ensure = Command::new(repo.join("scripts/ensure-cfn-lint"))
        .status()
        .expect("running scripts/ensure-cfn-lint");
    assert!(ensure.success());
    let cfn_lint = repo.join(".tools/cfn-lint/bin/cfn-lint");
    if !cfn_lint.exists() {
        eprintln!(
            "SKIPPED: cfn-lint could not be installed (scripts/ensure-cfn-lint said why); \
             {TEMPLATE} was not linted"
        );
        return;
    }
    let out = Command::new(&cfn_lint)
        .arg(repo.join(TEMPLATE))
        .output()
        .unwrap();
    // cfn-lint's exit code is a bit set: 2 errors, 4 warnings, 8 informational.
    let code = out.status.code().expect("cfn-lint exited");
    assert_eq!(
        code & 0b110,
        0,
        "cfn-lint found errors or warnings in {TEMPLATE}:\n{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}
