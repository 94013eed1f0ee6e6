//! `iamctl controls`: the CIS control table (`plan::controls`) for people (text, markdown) and
//! programs (JSON). Pure: the table in, a `String` out.

use std::fmt::Write as _;

use serde_json::json;

use crate::plan::Rule;
use crate::plan::controls::{
    BENCHMARK, CONTROLS, Control, HubControl, SECURITY_HUB_CONTROLS, SECURITY_HUB_STANDARD,
    rules_covering, rules_covering_hub,
};

fn rule_names(control: &Control) -> Vec<&'static str> {
    rules_covering(control.id)
        .into_iter()
        .map(Rule::as_str)
        .collect()
}

fn hub_rule_names(control: &HubControl) -> Vec<&'static str> {
    rules_covering_hub(control.id)
        .into_iter()
        .map(Rule::as_str)
        .collect()
}

/// What covers a Security Hub control, in words: its rules, or why none does.
fn hub_covered_by(control: &HubControl, code: bool) -> String {
    match (control.retired, control.not_covered) {
        (true, _) => "retired by AWS".to_owned(),
        (false, Some(why)) => format!("not covered: {why}"),
        (false, None) => hub_rule_names(control)
            .iter()
            .map(|r| {
                if code {
                    format!("`{r}`")
                } else {
                    (*r).to_owned()
                }
            })
            .collect::<Vec<_>>()
            .join(", "),
    }
}

fn hub_covered_count() -> usize {
    SECURITY_HUB_CONTROLS
        .iter()
        .filter(|c| !c.retired && c.not_covered.is_none())
        .count()
}

fn covered_count() -> usize {
    CONTROLS.iter().filter(|c| c.not_covered.is_none()).count()
}

/// The table as aligned text: the covered controls with their rules, then the others with why.
pub fn controls_text() -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "{BENCHMARK}: IAM (section 1) and CloudTrail 3.1; v5.0.0 numbers in the second column"
    );
    let _ = writeln!(out);
    let rows: Vec<(&Control, String)> = CONTROLS
        .iter()
        .filter(|c| c.not_covered.is_none())
        .map(|c| (c, rule_names(c).join(", ")))
        .collect();
    let rules_width = rows
        .iter()
        .map(|(_, r)| r.len())
        .chain(["covered by".len()])
        .max()
        .unwrap_or(0);
    let _ = writeln!(
        out,
        "{:<8} {:<5} {:<rules_width$}  title",
        "control", "v5.0", "covered by"
    );
    for (control, rules) in rows {
        let _ = writeln!(
            out,
            "{:<8} {:<5} {rules:<rules_width$}  {}",
            control.id,
            control.v5.unwrap_or("-"),
            control.title
        );
    }
    let _ = writeln!(out);
    let _ = writeln!(out, "Not covered:");
    for control in CONTROLS.iter() {
        if let Some(why) = control.not_covered {
            let _ = writeln!(
                out,
                "{:<8} {:<5} {}: {why}",
                control.id,
                control.v5.unwrap_or("-"),
                control.title
            );
        }
    }
    let _ = writeln!(out);
    let _ = writeln!(
        out,
        "{} of {} controls covered.",
        covered_count(),
        CONTROLS.len()
    );
    let _ = writeln!(out);
    let _ = writeln!(out, "{SECURITY_HUB_STANDARD}: IAM controls");
    let _ = writeln!(out);
    for control in SECURITY_HUB_CONTROLS {
        let _ = writeln!(
            out,
            "{:<7} {}  ({})",
            control.id,
            control.title,
            hub_covered_by(control, false)
        );
    }
    let _ = writeln!(out);
    let _ = writeln!(
        out,
        "{} of {} Security Hub IAM controls covered ({} retired).",
        hub_covered_count(),
        SECURITY_HUB_CONTROLS.len(),
        SECURITY_HUB_CONTROLS.iter().filter(|c| c.retired).count()
    );
    out
}

/// The table as JSON: `{"benchmark", "controls": [{"id", "v5", "title", "rules",
/// "not_covered"}]}`.
pub fn controls_json() -> String {
    let controls: Vec<_> = CONTROLS
        .iter()
        .map(|c| {
            json!({
                "id": c.id,
                "v5": c.v5,
                "title": c.title,
                "rules": rule_names(c),
                "not_covered": c.not_covered,
            })
        })
        .collect();
    let hub: Vec<_> = SECURITY_HUB_CONTROLS
        .iter()
        .map(|c| {
            json!({
                "id": c.id,
                "title": c.title,
                "retired": c.retired,
                "rules": hub_rule_names(c),
                "not_covered": c.not_covered,
            })
        })
        .collect();
    let mut out = serde_json::to_string_pretty(&json!({
        "benchmark": BENCHMARK,
        "controls": controls,
        "security_hub": {"standard": SECURITY_HUB_STANDARD, "controls": hub},
    }))
    .expect("the control table serializes");
    out.push('\n');
    out
}

/// The table as a markdown table, for documentation and pull requests.
pub fn controls_markdown() -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "**{BENCHMARK}**: {} of {} controls covered.",
        covered_count(),
        CONTROLS.len()
    );
    let _ = writeln!(out);
    let _ = writeln!(out, "| control | v5.0 | title | covered by |");
    let _ = writeln!(out, "|---|---|---|---|");
    for control in CONTROLS {
        let covered_by = match control.not_covered {
            None => rule_names(control)
                .iter()
                .map(|r| format!("`{r}`"))
                .collect::<Vec<_>>()
                .join(", "),
            Some(why) => format!("not covered: {why}"),
        };
        let _ = writeln!(
            out,
            "| {} | {} | {} | {covered_by} |",
            control.id,
            control.v5.unwrap_or("—"),
            control.title.replace('*', "\\*"),
        );
    }
    let _ = writeln!(out);
    let _ = writeln!(
        out,
        "**{SECURITY_HUB_STANDARD}**: {} of {} IAM controls covered.",
        hub_covered_count(),
        SECURITY_HUB_CONTROLS.len()
    );
    let _ = writeln!(out);
    let _ = writeln!(out, "| control | title | covered by |");
    let _ = writeln!(out, "|---|---|---|");
    for control in SECURITY_HUB_CONTROLS {
        let _ = writeln!(
            out,
            "| {} | {} | {} |",
            control.id,
            control.title.replace('*', "\\*"),
            hub_covered_by(control, true)
        );
    }
    out
}
