//! The JSON rendering: the serde form of `Plan`, the document SPEC.md describes and `apply`
//! reads back from a saved plan, so both stay one format.

use crate::plan::Plan;

/// The plan as pretty-printed JSON with a trailing newline.
pub fn json(plan: &Plan) -> String {
    // A plan holds strings, numbers and JSON values only, with string keys: nothing in it can
    // fail to serialize.
    let mut out = serde_json::to_string_pretty(plan).expect("a plan always serializes to JSON");
    out.push('\n');
    out
}
