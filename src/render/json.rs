//! The JSON rendering: the serde form of `Plan`, the document SPEC.md describes and `apply`
//! reads back from a saved plan, so both stay one format. Written piece by piece
//! ([`JsonSections`]) so that a fleet's plan never has to be one value in memory; the pieces
//! are serde's own pretty form of each part, indented to their depth, so the document is
//! byte for byte what `serde_json::to_string_pretty` makes of the whole plan.

use serde::Serialize;

use super::Sections;
use crate::plan::{AccountPlan, Plan, PlanOutline};

/// The plan as pretty-printed JSON with a trailing newline.
pub fn json(plan: &Plan) -> String {
    super::whole(&JsonSections, plan)
}

/// [`json`] piece by piece: the document's opening fields, each account as an element of
/// `accounts`, then `summary` and `targets`.
#[derive(Debug, Clone, Copy)]
pub struct JsonSections;

impl Sections for JsonSections {
    fn head(&self, outline: &PlanOutline) -> String {
        // `run_id` only when given, where `Plan`'s serialization puts it.
        let run_id = outline
            .run_id
            .as_ref()
            .map(|id| format!("\n  \"run_id\": {},", pretty(id, 1)))
            .unwrap_or_default();
        format!(
            "{{\n  \"format_version\": {},\n  \"as_of\": {},{run_id}\n  \"accounts\": [",
            pretty(&outline.format_version, 1),
            pretty(&outline.as_of, 1)
        )
    }

    fn account(&self, _outline: &PlanOutline, index: usize, account: &AccountPlan) -> String {
        let separator = if index == 0 { "\n" } else { ",\n" };
        format!("{separator}    {}", pretty(account, 2))
    }

    fn tail(&self, outline: &PlanOutline) -> String {
        let close = if outline.accounts.is_empty() {
            "],\n"
        } else {
            "\n  ],\n"
        };
        let mut out = format!("{close}  \"summary\": {}", pretty(&outline.summary, 1));
        if !outline.targets.is_empty() {
            out.push_str(&format!(
                ",\n  \"targets\": {}",
                pretty(&outline.targets, 1)
            ));
        }
        out.push_str("\n}\n");
        out
    }
}

/// `value` in serde's pretty form, as it reads nested `depth` levels deep (two spaces a
/// level) after its first line. A string's line breaks are escaped in JSON, so every line
/// break here is one of the layout's.
fn pretty<T: Serialize + ?Sized>(value: &T, depth: usize) -> String {
    // A plan holds strings, numbers and JSON values only, with string keys: nothing in it can
    // fail to serialize.
    let text = serde_json::to_string_pretty(value).expect("a plan always serializes to JSON");
    let indent = "  ".repeat(depth);
    text.replace('\n', &format!("\n{indent}"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::{account, as_of, user};

    #[test]
    fn the_pieces_make_the_document_serde_makes_of_the_whole_plan() {
        let as_of = as_of();
        let rules = crate::desired::load_sources(vec![(
            "t.toml".into(),
            "[users.access_keys]\nmax_age_days = 90\n[users.console]\nrequire_mfa = true\n".into(),
        )])
        .unwrap()
        .rules_for(None);
        let state = account([
            user("bob").console(90).build(),
            user("ann").key("AKIAANN", 200, None).build(),
        ]);
        let planned = crate::plan::plan_account("prod", &rules, &state, as_of);
        let failed = AccountPlan::failed("dev", "222222222222", "AccessDenied".into());
        for accounts in [vec![], vec![planned.clone()], vec![planned, failed]] {
            let mut plan = Plan::new(as_of, accounts);
            for targets in [false, true] {
                if targets {
                    plan.targets
                        .insert("prod".into(), vec!["user.bob.*".into()]);
                }
                let mut expected = serde_json::to_string_pretty(&plan).unwrap();
                expected.push('\n');
                assert_eq!(json(&plan), expected);
            }
        }
    }
}
