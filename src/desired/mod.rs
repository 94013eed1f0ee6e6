//! Desired state: the TOML model people write, loading it with precise errors, validating it,
//! and resolving it into the per-target rules the engine reads.

mod credential_rules;
mod load;
pub mod model;
mod rules;
mod validate;

pub use credential_rules::{
    AccountControlRules, BreakGlassRules, CredentialAction, CredentialRules, InventoryRules,
    PopulationRules, ServiceCredentialRules, SigningCertificateRules, SshKeyRules, UserException,
};
pub use load::{
    ConfigProblem, Desired, KeyLocation, KeyLocations, LoadError, load, load_sources,
    load_sources_located,
};
pub use model::DesiredDoc;
pub use rules::{
    AccessKeyRules, ComplianceRules, ConsoleRules, Exemptions, Owners, PolicyRule, RotationRules,
    Rules, UserRule,
};
pub use validate::{Problem, validate, warnings};
