//! The plan: `(rules, live state, as_of) -> Plan`, pure and deterministic, and the plan data
//! model that renderers print and `apply` executes.

mod change;
mod compliance;
pub mod controls;
mod engine;
mod model;
mod outline;
pub mod rotation;
mod rule;
mod target;

pub use change::{
    Change, ChangeKind, ChangeSrc, DENY_WITHOUT_MFA_POLICY, INACTIVE_SINCE_TAG, KeyFacts, NewTrail,
    ProfileFacts, ROTATION_TAG, RotationRecord, SecretTarget, TrailSettings, inactive_since_tag,
    rotation_tag,
};
pub use compliance::SUPPORT_POLICY;
pub(crate) use engine::{KeyEnforcement, Unaddressed, plan_account_provisional};
pub use engine::{plan_account, policy_tightens};
pub use model::*;
pub use outline::{AccountLine, PlanOutline};
pub use rule::{Rule, UnknownRule};
pub use target::{AddressPattern, TargetError, Targets, UserSelection};
