//! The plan: `(rules, live state, as_of) -> Plan`, pure and deterministic, and the plan data
//! model that renderers print and `apply` executes.

mod address;
mod change;
mod change_file;
mod compliance;
pub mod controls;
pub mod describe;
mod engine;
mod lifecycle;
mod model;
mod outline;
mod records;
pub mod rotation;
mod rule;
mod target;

pub use address::{Action, Address, AddressParseError, Attribution};
pub use change::{
    Change, ChangeKind, CredentialFacts, CredentialStatus, DENY_WITHOUT_MFA_POLICY, KeyFacts,
    NewTrail, ProfileFacts, SecretTarget, ServerCertificateFacts, TrailSettings,
};
pub use change_file::ChangeSrc;
pub use compliance::{SUPPORT_POLICY, organization_findings};
pub(crate) use engine::{KeyEnforcement, Unaddressed, plan_account_provisional};
pub use engine::{plan_account, policy_tightens};
pub use model::*;
pub use outline::{AccountLine, PlanOutline};
pub use records::{
    INACTIVE_SINCE_TAG, ROTATION_TAG, Record, RotationRecord, UNLISTED_SINCE_TAG, UserRecords,
    credential_inactive_since_tag, inactive_since_tag, rotation_tag,
};
pub use rule::{Rule, UnknownRule};
pub use target::{AddressPattern, TargetError, Targets, UserSelection};
