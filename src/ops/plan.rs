//! Planning the targets of a desired state: select them (`-a`, `--shard`, an organization's
//! accounts), read each live or from a snapshot, plan it; and `--explain`'s attribution.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use chrono::{DateTime, Utc};
use futures::StreamExt;

use super::Observer;
use crate::aws::{ApiCalls, AwsError, ClientFactory};
use crate::desired::DesiredDoc;
use crate::events::{self, AccountRef, Malformed};
use crate::explain::{self, events::Envelope};
use crate::fleet::{self, AccountRun, SelectError, Shard, TargetPlanInput};
use crate::live::{self, SnapshotError, snapshot};
use crate::plan::{Plan, TargetError, Targets};
use crate::state::AccessKeyId;

/// Accounts read (and changed) at once unless `--parallelism` says otherwise. IAM throttles
/// each account apart and each account's calls are paced apart (`aws/pacing.rs`), so a fleet
/// takes as many times one account's time as it has waves of this many accounts; 32 accounts
/// of `DEFAULT_CONCURRENCY` calls are at most 256 requests in flight.
pub const DEFAULT_PARALLELISM: u16 = 32;
/// Calls in flight at once within one account unless `--concurrency` says otherwise (the
/// account's pacer keeps fewer while IAM throttles it).
pub const DEFAULT_CONCURRENCY: u16 = 8;

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

/// Which part of the selected accounts a plan covers.
#[derive(Debug, Clone, Copy)]
pub enum Focus<'a> {
    /// Every selected account: whole, or only these addresses (`--target`).
    All(Option<&'a Targets>),
    /// The accounts a saved plan covers, each with the targets it was planned with.
    Saved(&'a Plan),
    /// The accounts and addresses these CloudTrail events name (`--event`, `watch`).
    Events(&'a [Envelope]),
}

#[derive(Debug, thiserror::Error, miette::Diagnostic)]
pub enum PlanError {
    #[error(transparent)]
    #[diagnostic(transparent)]
    Select(#[from] SelectError),
    #[error(transparent)]
    #[diagnostic(transparent)]
    Snapshot(#[from] SnapshotError),
    #[error("the saved plan's targets: {0}")]
    SavedTargets(TargetError),
    #[error("malformed event: {0}; nothing was planned")]
    MalformedEvent(#[from] Malformed),
    #[error("events are planned against live accounts, not a snapshot")]
    EventsNeedLive,
    #[error("reading the identity of target {target} (to map its events): {source}")]
    Identity {
        target: String,
        source: Box<AwsError>,
    },
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

/// Narrows the selected targets to the focus, each with the addresses it is planned for.
fn focus_on(
    targets: Vec<TargetPlanInput>,
    focus: Focus<'_>,
) -> Result<Vec<TargetPlanInput>, PlanError> {
    match focus {
        Focus::All(addresses) => Ok(targets
            .into_iter()
            .map(|mut t| {
                t.targets = addresses.cloned();
                t
            })
            .collect()),
        Focus::Saved(saved) => {
            let covered: BTreeSet<&str> = saved.accounts.iter().map(|a| a.name.as_str()).collect();
            targets
                .into_iter()
                .filter(|t| covered.contains(t.target.name.as_str()))
                .map(|mut t| {
                    let patterns = saved.targets.get(&t.target.name);
                    t.targets = patterns
                        .map(|p| Targets::parse(p))
                        .transpose()
                        .map_err(PlanError::SavedTargets)?
                        .flatten();
                    Ok(t)
                })
                .collect()
        }
        Focus::Events(_) => Err(PlanError::EventsNeedLive),
    }
}

/// The targets the events name, each with the addresses they name; what is ignored is told
/// to `observer`. Identities are read (`GetCallerIdentity`) only for targets whose account id
/// is not known beforehand (the implicit `default`, a `profile`), and only when some event
/// may be for them.
async fn focus_on_events(
    factory: &ClientFactory,
    targets: Vec<TargetPlanInput>,
    envelopes: &[Envelope],
    observer: &dyn Observer,
) -> Result<Vec<TargetPlanInput>, PlanError> {
    let wanted = events::event_accounts(envelopes);
    let refs = futures::stream::iter(&targets)
        .map(|t| async {
            if let Some(id) = &t.account_id {
                return Ok(AccountRef {
                    target: t.target.name.clone(),
                    account_id: id.clone(),
                    caller_arn: None,
                });
            }
            if wanted.is_empty() {
                return Ok(AccountRef {
                    target: t.target.name.clone(),
                    account_id: String::new(),
                    caller_arn: None,
                });
            }
            let clients = factory.for_target(&t.target).await;
            let identity =
                live::read_identity(&clients)
                    .await
                    .map_err(|source| PlanError::Identity {
                        target: t.target.name.clone(),
                        source: Box::new(source),
                    })?;
            Ok::<_, PlanError>(AccountRef {
                target: t.target.name.clone(),
                account_id: identity.account_id,
                caller_arn: Some(identity.caller.arn),
            })
        })
        .buffered(8)
        .collect::<Vec<_>>()
        .await
        .into_iter()
        .collect::<Result<Vec<_>, _>>()?;
    let mapping = events::map_events(envelopes, &refs)?;
    observer.events_mapped(&mapping);
    Ok(targets
        .into_iter()
        .filter_map(|mut t| {
            let addresses = mapping.addresses.get(&t.target.name)?;
            t.targets = Targets::of_addresses(addresses);
            Some(t)
        })
        .collect())
}

/// The plan of `runs`, recording the targets of the accounts planned with some (so that
/// `apply FILE` re-plans them alike).
pub fn plan_of(as_of: DateTime<Utc>, runs: &[AccountRun]) -> Plan {
    let mut plan = Plan::new(as_of, runs.iter().map(|run| run.plan.clone()).collect());
    plan.targets = runs
        .iter()
        .filter_map(|run| {
            Some((
                run.plan.name.clone(),
                run.input.targets.as_ref()?.patterns(),
            ))
        })
        .collect();
    plan
}

/// Reads every selected target (live, or from a snapshot) and plans it, in target order,
/// narrowed to `focus`.
pub async fn compute_plan(
    doc: &DesiredDoc,
    source: Source<'_>,
    scope: &Scope<'_>,
    as_of: DateTime<Utc>,
    focus: Focus<'_>,
    observer: &dyn Observer,
) -> Result<Vec<AccountRun>, PlanError> {
    if let Focus::Events(envelopes) = focus {
        // A malformed event fails before any account is read.
        events::map_events(envelopes, &[])?;
    }
    // `apply --rotate-now`: the keys to rotate whatever their age, in every target.
    let rotate_now = |targets: Vec<TargetPlanInput>| -> Vec<TargetPlanInput> {
        targets
            .into_iter()
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
            let targets = focus_on(shard(scope, targets, observer), focus)?;
            fleet::plan_snapshot(rotate_now(targets), accounts, as_of)
        }
        Source::Live { calls } => {
            let factory = ClientFactory::new(calls.clone()).await;
            let targets = live_targets(doc, &factory, scope, observer).await?;
            let targets = match focus {
                Focus::Events(envelopes) => {
                    focus_on_events(&factory, targets, envelopes, observer).await?
                }
                _ => focus_on(targets, focus)?,
            };
            let targets = rotate_now(targets);
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
