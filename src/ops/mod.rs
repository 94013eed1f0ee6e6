//! The library operations behind the commands (`plan`, `snapshot`, `apply`, `permissions`):
//! each takes plain options (no clap, no terminal), talks to AWS only through `live/`,
//! `apply/`, `explain/` and `security_hub/`, and returns data that the CLI renders. Progress is reported through an [`Observer`], which the CLI draws as a
//! progress bar and tests leave silent.

pub mod apply;
pub mod capacity;
pub mod permissions;
pub mod plan;
pub mod report;
pub mod snapshot;
pub mod spill;

pub use plan::{
    DEFAULT_CONCURRENCY, DEFAULT_PARALLELISM, Focus, PlanError, PlanRequest, PlanRun, Scope,
    Source, compute_plan, plan_of,
};

use crate::fleet::Shard;
use crate::plan::AccountPlan;

/// What an operation tells about its progress as it goes. Every method does nothing by
/// default.
pub trait Observer: Sync {
    /// An organization's accounts are being listed.
    fn listing_organization(&self) {}
    /// The listing is over (whatever its result).
    fn organization_listed(&self) {}
    /// `--shard` kept `selected` of `total` targets.
    fn shard_selected(&self, _shard: Shard, _selected: usize, _total: usize) {}
    /// `total` accounts are about to be read.
    fn reading(&self, _total: usize) {}
    /// One account was read (`failed`: it could not be).
    fn account_read(&self, _name: &str, _failed: bool) {}
    /// Every account is read.
    fn done_reading(&self) {}
    /// Events were mapped to the targets and addresses they concern (`--event`, `watch`).
    fn events_mapped(&self, _mapping: &crate::events::Mapping) {}
}

/// An observer that says nothing.
pub struct Silent;

impl Observer for Silent {}

/// Calls [`Observer::account_read`] for a planned account.
pub(crate) fn planned(observer: &dyn Observer, plan: &AccountPlan) {
    observer.account_read(&plan.name, plan.error.is_some());
}
