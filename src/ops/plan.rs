//! Planning the targets of a desired state: select them (`-a`, `--shard`, an organization's
//! accounts), read each live or from a snapshot, plan it; and `--explain`'s attribution.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use chrono::{DateTime, Utc};
use futures::StreamExt;

use super::Observer;
use crate::aws::{ApiCalls, ClientFactory};
use crate::desired::DesiredDoc;
use crate::explain;
use crate::fleet::{self, AccountRun, SelectError, Shard, TargetPlanInput};
use crate::live::{SnapshotError, snapshot};
use crate::state::AccessKeyId;

/// Which targets, and how hard to work at them.
#[derive(Debug, Clone, Copy)]
pub struct Scope<'a> {
    /// `-a/--account` selectors (names or globs); empty: every target.
    pub accounts: &'a [String],
    /// `--shard K/N`.
    pub shard: Option<Shard>,
    /// Accounts read at once.
    pub parallelism: usize,
    /// Calls in flight at once within one account.
    pub concurrency: usize,
    /// `apply --rotate-now`: keys to rotate whatever their age, in every target.
    pub rotate_now: &'a [(String, AccessKeyId)],
}

/// Where the accounts' state comes from.
#[derive(Debug, Clone, Copy)]
pub enum Source<'a> {
    /// Live AWS, every call counted in `calls`.
    Live { calls: &'a ApiCalls },
    /// A snapshot file (`--snapshot`): offline, no credentials needed.
    Snapshot(&'a Path),
}

#[derive(Debug, thiserror::Error, miette::Diagnostic)]
pub enum PlanError {
    #[error(transparent)]
    #[diagnostic(transparent)]
    Select(#[from] SelectError),
    #[error(transparent)]
    #[diagnostic(transparent)]
    Snapshot(#[from] SnapshotError),
}

/// The targets of a live run: the declared ones and those an `[organization]` lists,
/// narrowed by `-a` and `--shard`.
pub async fn live_targets(
    doc: &DesiredDoc,
    factory: &ClientFactory,
    scope: &Scope<'_>,
    observer: &dyn Observer,
) -> Result<Vec<TargetPlanInput>, PlanError> {
    let listing = doc.organization.is_some();
    if listing {
        observer.listing_organization();
    }
    let targets = fleet::resolve_targets(doc, factory, scope.accounts).await;
    if listing {
        observer.organization_listed();
    }
    Ok(shard(scope, targets?, observer))
}

fn shard(
    scope: &Scope<'_>,
    targets: Vec<TargetPlanInput>,
    observer: &dyn Observer,
) -> Vec<TargetPlanInput> {
    match scope.shard {
        Some(shard) => {
            let total = targets.len();
            let mine = fleet::shard_targets(targets, shard);
            observer.shard_selected(shard, mine.len(), total);
            mine
        }
        None => targets,
    }
}

/// Reads every selected target (live, or from a snapshot) and plans it, in target order.
/// `only`: just the targets of these names (those a saved plan covers).
pub async fn compute_plan(
    doc: &DesiredDoc,
    source: Source<'_>,
    scope: &Scope<'_>,
    as_of: DateTime<Utc>,
    only: Option<&BTreeSet<String>>,
    observer: &dyn Observer,
) -> Result<Vec<AccountRun>, PlanError> {
    let keep = |targets: Vec<TargetPlanInput>| -> Vec<TargetPlanInput> {
        targets
            .into_iter()
            .filter(|t| only.is_none_or(|names| names.contains(&t.target.name)))
            .map(|mut t| {
                t.rules.rotate_now = scope.rotate_now.iter().cloned().collect();
                t
            })
            .collect()
    };
    Ok(match source {
        Source::Snapshot(path) => {
            let snapshot = snapshot::read_snapshot(path)?;
            let accounts: BTreeMap<_, _> = snapshot
                .accounts
                .into_iter()
                .map(|a| (a.name, a.state))
                .collect();
            let targets = fleet::snapshot_targets(doc, &accounts, scope.accounts)?;
            fleet::plan_snapshot(keep(shard(scope, targets, observer)), accounts, as_of)
        }
        Source::Live { calls } => {
            let factory = ClientFactory::new(calls.clone()).await;
            let targets = keep(live_targets(doc, &factory, scope, observer).await?);
            observer.reading(targets.len());
            let runs = fleet::plan_live_with_progress(
                &factory,
                targets,
                as_of,
                scope.parallelism,
                scope.concurrency,
                &|plan| super::planned(observer, plan),
            )
            .await;
            observer.done_reading();
            runs
        }
    })
}

/// Where `plan --explain` finds its CloudTrail events.
pub enum ExplainSource {
    /// `--events FILE`: read already.
    Files(Vec<explain::Event>),
    /// `LookupEvents` in each account.
    Lookups,
}

/// What attribution found.
#[derive(Debug, Default)]
pub struct ExplainReport {
    /// Events read from files (none with lookups).
    pub events_read: usize,
    /// Plan items that got an attribution (from files).
    pub attributed: usize,
    /// Accounts whose lookups failed, with why: their plans stay unexplained.
    pub failures: Vec<String>,
}

/// Attaches to every planned account's items who made them, from `source`. A lookup that
/// fails leaves that account's plan unexplained and is reported: attribution is a reading
/// aid, never a reason to fail a plan.
pub async fn explain_runs(
    source: &ExplainSource,
    runs: &mut [AccountRun],
    parallelism: usize,
) -> ExplainReport {
    match source {
        ExplainSource::Files(events) => {
            let mut attributed = 0;
            for run in runs.iter_mut().filter(|r| r.plan.error.is_none()) {
                attributed += explain::attribute(&mut run.plan, events);
            }
            ExplainReport {
                events_read: events.len(),
                attributed,
                failures: Vec::new(),
            }
        }
        ExplainSource::Lookups => {
            let opts = explain::LookupOptions::default();
            let failures: Vec<String> = futures::stream::iter(runs.iter_mut())
                .map(|run| {
                    let AccountRun { clients, plan, .. } = run;
                    async move {
                        let clients = clients.as_ref()?;
                        explain::explain_with_lookups(clients, plan, &opts)
                            .await
                            .err()
                            .map(|e| e.to_string())
                    }
                })
                .buffer_unordered(parallelism.max(1))
                .filter_map(|failure| async move { failure })
                .collect()
                .await;
            ExplainReport {
                failures,
                ..Default::default()
            }
        }
    }
}
