//! `iamctl controls` and the controls plan items carry, offline: the CIS table covers every
//! IAM control of v3.0.0 by number, and a plan's JSON and markdown name each item's controls.

use crate::support;

use serde_json::Value;

fn iamctl() -> assert_cmd::Command {
    support::cli::offline_cmd()
}

fn stdout(args: &[&str]) -> String {
    let output = iamctl().args(args).output().unwrap();
    assert!(output.status.success(), "{args:?}: {output:?}");
    String::from_utf8(output.stdout).unwrap()
}

#[test]
fn the_text_table_lists_every_control() {
    insta::assert_snapshot!(stdout(&["controls"]));
}

#[test]
fn every_iam_control_is_listed_by_number_with_its_rules_or_why_not() {
    let table: Value = serde_json::from_str(&stdout(&["controls", "--format", "json"])).unwrap();
    assert_eq!(table["benchmark"], "CIS AWS Foundations Benchmark v3.0.0");
    let controls = table["controls"].as_array().unwrap();
    let ids: Vec<&str> = controls.iter().map(|c| c["id"].as_str().unwrap()).collect();
    let expected: Vec<String> = (1..=22)
        .map(|n| format!("1.{n}"))
        .chain(["3.1".into()])
        .collect();
    assert_eq!(ids, expected);
    for control in controls {
        let rules = control["rules"].as_array().unwrap();
        assert!(
            rules.is_empty() != control["not_covered"].is_null(),
            "{control}: rules or a reason, not both"
        );
    }
    let by_id = |id: &str| controls.iter().find(|c| c["id"] == id).unwrap();
    assert_eq!(
        by_id("1.16")["rules"],
        serde_json::json!(["audit.forbid_full_admin_policies"])
    );
    assert_eq!(by_id("1.16")["v5"], "1.15");
    assert_eq!(by_id("1.3")["v5"], Value::Null);
    let markdown = stdout(&["controls", "--format", "markdown"]);
    assert!(markdown.starts_with(
        "**CIS AWS Foundations Benchmark v3.0.0**: 20 of 23 controls covered.\n\n| control | v5.0 | title | covered by |\n"
    ));
    // Security Hub's IAM controls, beside CIS: each with its rules, retired, or why not.
    let hub = table["security_hub"]["controls"].as_array().unwrap();
    let hub_ids: Vec<&str> = hub.iter().map(|c| c["id"].as_str().unwrap()).collect();
    let expected: Vec<String> = (1..=28).map(|n| format!("IAM.{n}")).collect();
    assert_eq!(hub_ids, expected);
    let hub_by_id = |id: &str| hub.iter().find(|c| c["id"] == id).unwrap();
    assert_eq!(
        hub_by_id("IAM.19")["rules"],
        serde_json::json!(["users.mfa.all_users"])
    );
    assert_eq!(
        hub_by_id("IAM.26")["rules"],
        serde_json::json!(["server_certificates.delete_expired_after_days"])
    );
    assert_eq!(hub_by_id("IAM.20")["retired"], true);
    assert!(
        markdown.contains(
            "| IAM.19 | MFA should be enabled for all IAM users | `users.mfa.all_users` |"
        )
    );
    assert!(markdown.contains(
        "| 1.14 | 1.13 | Ensure access keys are rotated every 90 days or less | `users.access_keys.max_age_days`, `users.access_keys.rotation` |"
    ));
}

#[test]
fn plan_items_carry_their_controls_and_saved_plans_without_them_still_load() {
    let plan = stdout(&[
        "plan",
        "--snapshot",
        "examples/snapshot.json",
        "--as-of",
        "2026-11-01",
        "--format",
        "json",
    ]);
    let value: Value = serde_json::from_str(&plan).unwrap();
    let prod = &value["accounts"][0];
    let finding = |address: &str, rule: &str| {
        prod["findings"]
            .as_array()
            .unwrap()
            .iter()
            .find(|f| f["address"] == address && f["rule"] == rule)
            .unwrap_or_else(|| panic!("no {rule} at {address}"))
            .clone()
    };
    assert_eq!(
        finding("root", "root.require_hardware_mfa")["controls"],
        serde_json::json!(["1.6", "IAM.6"])
    );
    assert_eq!(
        finding("group.admins", "audit.forbid_full_admin_policies")["controls"],
        serde_json::json!(["1.16", "IAM.1"])
    );
    // A rule without a control has no `controls` at all.
    let dir = tempfile::tempdir().unwrap();
    let desired =
        support::cli::desired(dir.path(), "[[user]]\nname = \"nobody\"\nconsole = false\n");
    let user_plan = stdout(&[
        "plan",
        "--snapshot",
        "examples/snapshot.json",
        "--format",
        "json",
        "-c",
        desired.to_str().unwrap(),
    ]);
    assert!(user_plan.contains("\"rule\": \"user\""), "{user_plan}");
    assert!(!user_plan.contains("\"controls\""), "{user_plan}");
    // Saved plans written before controls existed are read back, and so are new ones.
    let mut old = value.clone();
    for account in old["accounts"].as_array_mut().unwrap() {
        for list in ["changes", "findings"] {
            for item in account[list].as_array_mut().unwrap() {
                item.as_object_mut().unwrap().remove("controls");
            }
        }
    }
    for (name, text) in [
        ("old.json", serde_json::to_string(&old).unwrap()),
        ("new.json", plan.clone()),
    ] {
        let path = dir.path().join(name);
        std::fs::write(&path, text).unwrap();
        let back: iamctl::plan::Plan =
            serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
        assert_eq!(back.accounts.len(), 2);
    }
}
