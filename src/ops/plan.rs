//! Planning the targets of a desired state: select them (`-a`, `--shard`, an organization's
//! accounts), read each live or from a snapshot, plan it; and `--explain`'s attribution.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use chrono::{DateTime, Utc};
use futures::StreamExt;

use std::sync::Mutex;

use super::Observer;
use super::spill::{PlanSpill, SpilledPlan};
use crate::aws::{ApiCalls, AwsError, ClientFactory};
use crate::desired::DesiredDoc;
use crate::events::{self, AccountRef, Malformed};
use crate::explain::{self, events::Envelope};
use crate::fleet::{self, AccountRun, SelectError, Shard, TargetPlanInput};
use crate::live::{self, SnapshotError, snapshot};
use crate::notify::{self, NotifyReport};
use crate::plan::{Plan, TargetError, Targets};
use crate::security_hub::{self, HubAccount, HubReport};
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
    #[error("keeping the plan in a temporary file: {0}")]
    #[diagnostic(help(
        "the plan of each account is spilled to TMPDIR as it is made; check its free space"
    ))]
    Spill(std::io::Error),
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
/// narrowed to `focus`. Every account is held until the end: for runs over a few accounts
/// (`watch`'s dry run); a fleet streams through [`for_each_account`].
pub async fn compute_plan(
    doc: &DesiredDoc,
    source: Source<'_>,
    scope: &Scope<'_>,
    as_of: DateTime<Utc>,
    focus: Focus<'_>,
    observer: &dyn Observer,
) -> Result<Vec<AccountRun>, PlanError> {
    let selected = select(doc, source, scope, focus, observer).await?;
    let mut runs = for_each_account(
        selected,
        scope,
        as_of,
        observer,
        |position, run| async move { (position, run) },
    )
    .await;
    runs.sort_by_key(|(position, _)| *position);
    Ok(runs.into_iter().map(|(_, run)| run).collect())
}

/// The selected targets, narrowed to the focus, and where their state is read from.
pub struct Selected {
    targets: Vec<TargetPlanInput>,
    reader: Reader,
}

enum Reader {
    Snapshot(fleet::SnapshotAccounts),
    Live(Box<ClientFactory>),
}

impl Selected {
    /// The client factory of a live run (`None` for a snapshot).
    pub fn factory(&self) -> Option<&ClientFactory> {
        match &self.reader {
            Reader::Live(factory) => Some(factory),
            Reader::Snapshot(_) => None,
        }
    }

    pub fn len(&self) -> usize {
        self.targets.len()
    }

    pub fn is_empty(&self) -> bool {
        self.targets.is_empty()
    }
}

/// Selects the targets of a run (`-a`, `--shard`, an organization's accounts, the focus) and
/// opens where they are read from.
pub async fn select(
    doc: &DesiredDoc,
    source: Source<'_>,
    scope: &Scope<'_>,
    focus: Focus<'_>,
    observer: &dyn Observer,
) -> Result<Selected, PlanError> {
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
            Selected {
                targets: rotate_now(targets),
                reader: Reader::Snapshot(fleet::SnapshotAccounts::new(accounts)),
            }
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
            Selected {
                targets: rotate_now(targets),
                reader: Reader::Live(Box::new(factory)),
            }
        }
    })
}

/// Reads and plans each selected target, `scope.parallelism` accounts at a time, and hands
/// each account's run to `then` (with its position in target order) the moment it is
/// planned, in the order accounts finish. What `then` returns is collected: a fleet run
/// returns little per account and drops the run (its clients and live state) there, so that
/// what it holds is what the accounts in flight need.
pub async fn for_each_account<T, F, Fut>(
    selected: Selected,
    scope: &Scope<'_>,
    as_of: DateTime<Utc>,
    observer: &dyn Observer,
    then: F,
) -> Vec<T>
where
    F: Fn(usize, AccountRun) -> Fut,
    Fut: Future<Output = T>,
{
    let Selected { targets, reader } = selected;
    let live = matches!(reader, Reader::Live(_));
    if live {
        observer.reading(targets.len());
    }
    let (reader, then) = (&reader, &then);
    let results = futures::stream::iter(targets.into_iter().enumerate())
        .map(|(position, input)| async move {
            let run = match reader {
                Reader::Live(factory) => {
                    fleet::plan_live_account(factory, input, as_of, scope.concurrency).await
                }
                Reader::Snapshot(accounts) => accounts.plan(input, as_of),
            };
            if live {
                super::planned(observer, &run.plan);
            }
            then(position, run).await
        })
        .buffer_unordered(scope.parallelism.max(1))
        .collect()
        .await;
    if live {
        observer.done_reading();
    }
    results
}

/// What `plan` is asked to do.
pub struct PlanRequest<'a> {
    pub doc: &'a DesiredDoc,
    pub source: Source<'a>,
    pub scope: Scope<'a>,
    pub as_of: DateTime<Utc>,
    pub focus: Focus<'a>,
    /// `--explain` or `--events`: attribute each plan item.
    pub explain: Option<&'a ExplainSource>,
    /// `--security-hub`: import each account's items into its Security Hub.
    pub security_hub: bool,
    /// `--notify`: tell each account's owners their notices on this SNS topic.
    pub notify: Option<&'a str>,
}

/// What `plan` made: the plan, on disk account by account, and what the steps after
/// planning each account came to.
pub struct PlanRun {
    pub plan: SpilledPlan,
    /// With `explain`.
    pub explain: Option<ExplainReport>,
    /// With `security_hub`.
    pub security_hub: Option<HubReport>,
    /// With `notify`.
    pub notify: Option<NotifyReport>,
}

/// `plan` as one operation: select the targets, then for each account as it is read and
/// planned, attribute its items (`--explain`), import them into Security Hub and tell its
/// owners (`--notify`), and spill its plan to disk, dropping its clients and live state. The
/// plan comes back in target order whatever the order accounts finished in.
pub async fn run(request: PlanRequest<'_>, observer: &dyn Observer) -> Result<PlanRun, PlanError> {
    let selected = select(
        request.doc,
        request.source,
        &request.scope,
        request.focus,
        observer,
    )
    .await?;
    let factory = selected.factory().cloned();
    let spill = Mutex::new(PlanSpill::new().map_err(PlanError::Spill)?);
    let lookups = explain::LookupOptions::default();
    let step = |position: usize, run: AccountRun| {
        let (spill, factory, lookups) = (&spill, &factory, &lookups);
        async move {
            let AccountRun {
                input,
                clients,
                live,
                mut plan,
            } = run;
            let mut done = AccountSteps::default();
            match request.explain {
                Some(ExplainSource::Files(events)) if plan.error.is_none() => {
                    done.attributed = explain::attribute(&mut plan, events);
                }
                Some(ExplainSource::Lookups) => {
                    if let Some(clients) = &clients {
                        done.lookup_failure =
                            explain::explain_with_lookups(clients, &mut plan, lookups)
                                .await
                                .err()
                                .map(|e| e.to_string());
                    }
                }
                Some(ExplainSource::Files(_)) | None => {}
            }
            if let (true, Some(clients)) = (request.security_hub, &clients) {
                let account = HubAccount {
                    clients,
                    plan: plan.clone(),
                    live: live.as_ref(),
                };
                done.hub = Some(security_hub::export_one(&account, Utc::now()).await);
            }
            if let (Some(topic), Some(factory)) = (request.notify, factory) {
                done.notify = Some(notify::tell_account(factory, topic, &plan, None).await);
            }
            done.targets = input
                .targets
                .as_ref()
                .map(|t| (plan.name.clone(), t.patterns()));
            let spilled = spill
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .push(position, &plan, None);
            done.spilled = spilled.err();
            done
        }
    };
    let steps = for_each_account(selected, &request.scope, request.as_of, observer, step).await;
    // `[organization] require_root_credentials_management`: read once per run, with the
    // identity iamctl starts from, as a section of its own after the accounts (the first shard
    // only, and not for a focused plan, which is about its addresses).
    if let (Some(factory), true) = (&factory, organization_check(&request)) {
        let plan = organization_plan(factory).await;
        if let Err(error) =
            spill
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .push(steps.len(), &plan, None)
        {
            return Err(PlanError::Spill(error));
        }
    }

    let mut explained = request.explain.map(|source| ExplainReport {
        events_read: match source {
            ExplainSource::Files(events) => events.len(),
            ExplainSource::Lookups => 0,
        },
        ..ExplainReport::default()
    });
    let mut hub = request.security_hub.then(HubReport::default);
    let mut told = request.notify.map(|_| NotifyReport::default());
    let mut targets = BTreeMap::new();
    for done in steps {
        if let Some(error) = done.spilled {
            return Err(PlanError::Spill(error));
        }
        if let Some(explained) = &mut explained {
            explained.attributed += done.attributed;
            explained.failures.extend(done.lookup_failure);
        }
        if let (Some(hub), Some(part)) = (&mut hub, done.hub) {
            hub.absorb(part);
        }
        if let (Some(told), Some(part)) = (&mut told, done.notify) {
            told.absorb(part);
        }
        targets.extend(done.targets);
    }
    let spill = spill.into_inner().unwrap_or_else(|e| e.into_inner());
    Ok(PlanRun {
        plan: spill
            .finish(request.as_of, targets)
            .map_err(PlanError::Spill)?,
        explain: explained,
        security_hub: hub,
        notify: told,
    })
}

/// Whether this run judges the organization's root access.
fn organization_check(request: &PlanRequest<'_>) -> bool {
    let wanted = request
        .doc
        .organization
        .as_ref()
        .is_some_and(|o| o.require_root_credentials_management == Some(true));
    let first_shard = request.scope.shard.is_none_or(|s| s.index() == 1);
    wanted && first_shard && matches!(request.focus, Focus::All(None))
}

/// The name of the plan section that holds the organization's findings.
pub const ORGANIZATION_SECTION: &str = "organization";

/// The organization's section: its findings, or why it could not be read.
async fn organization_plan(factory: &ClientFactory) -> crate::plan::AccountPlan {
    let clients = factory.base_clients(ORGANIZATION_SECTION);
    let (account_id, findings, error) = match live::organization_features(&clients).await {
        Ok(features) => {
            let id = match &features {
                crate::state::OrganizationFeatures::Read {
                    organization_id, ..
                } => organization_id.clone(),
                _ => String::new(),
            };
            (id, crate::plan::organization_findings(&features), None)
        }
        Err(err) => (String::new(), Vec::new(), Some(err.to_string())),
    };
    crate::plan::AccountPlan {
        name: ORGANIZATION_SECTION.to_owned(),
        account_id,
        changes: Vec::new(),
        findings,
        credential_report_generated_at: None,
        error,
    }
}

/// What the steps after planning one account came to.
#[derive(Default)]
struct AccountSteps {
    attributed: usize,
    lookup_failure: Option<String>,
    hub: Option<HubReport>,
    notify: Option<NotifyReport>,
    /// The account's `--target` patterns, for the plan file.
    targets: Option<(String, Vec<String>)>,
    spilled: Option<std::io::Error>,
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
