//! The plan: `(rules, live state, as_of) -> Plan`, pure and deterministic, and the plan data
//! model that renderers print and `apply` executes.

mod engine;
mod model;

pub use engine::{DENY_WITHOUT_MFA_POLICY, plan_account, rule};
pub use model::*;
