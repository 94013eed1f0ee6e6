//! iamctl keeps the IAM hygiene of AWS accounts equal to a declarative TOML file.
//! See ARCHITECTURE.md for the map of this crate.

pub mod apply;
pub mod aws;
pub mod cli;
pub mod desired;
pub mod events;
pub mod explain;
pub mod fleet;
pub mod import;
#[cfg(feature = "lambda")]
pub mod lambda;
pub mod live;
pub mod notify;
pub mod ops;
pub mod outcome;
pub mod permissions;
pub mod plan;
pub mod render;
pub mod report;
pub mod secret;
pub mod security_hub;
pub mod state;
#[cfg(any(test, feature = "testing"))]
pub mod testing;
