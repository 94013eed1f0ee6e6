//! `apply` as one operation: plan from live state, refuse (changing nothing) a stale saved
//! plan, a plan over `--max-changes` or one not approved, then carry out every account's plan
//! concurrently and report what became of each change; Security Hub and the owners' notices
//! after it, as `ops::plan::run` does them for `plan`.

use std::path::{Path, PathBuf};
use std::sync::Mutex;

use chrono::Utc;
use futures::StreamExt;

use crate::apply::{ApplyOptions, AuditLog, apply_account_audited};
use crate::aws::{ApiCalls, ClientFactory};
use crate::desired::{DesiredDoc, PolicyRule};
use crate::explain::events::Envelope;
use crate::fleet::{AccountRun, TargetPlanInput};
use crate::notify::{self, NotifyReport};
use crate::ops::spill::{PlanSpill, SpilledPlan};
use crate::ops::{self, Focus, Observer, PlanError, Scope};
use crate::outcome::{Outcome, OutcomeStatus};
use crate::plan::{
    AccountLine, AccountPlan, Action, Address, FORMAT_VERSION, Plan, PlanOutline, Targets,
};
use crate::security_hub::{self, HubAccount, HubReport, still_open};
use crate::state::{AccessKeyId, AccountState, PasswordPolicy};

/// What `apply` is asked to do.
pub struct ApplyRequest<'a> {
    pub doc: &'a DesiredDoc,
    pub scope: Scope<'a>,
    pub calls: &'a ApiCalls,
    /// A saved plan: apply exactly it, or refuse when live state no longer gives it.
    pub saved: Option<Plan>,
    /// Plan and apply only these addresses (`--target`); not with a saved plan, which
    /// records its own.
    pub targets: Option<&'a Targets>,
    /// Plan and apply only the accounts and addresses these events name (`--event`,
    /// `watch`).
    pub events: Option<&'a [Envelope]>,
    /// Refuse when the plan holds more changes.
    pub max_changes: Option<usize>,
    /// Where generated console passwords go (one 0600 file per user).
    pub secrets_dir: Option<PathBuf>,
    /// JSON Lines, one record per change attempted.
    pub audit_log: Option<PathBuf>,
    /// Afterwards, import what still stands into each account's Security Hub.
    pub security_hub: bool,
    /// Afterwards, tell each account's owners their notices and what was done.
    pub notify: Notify<'a>,
}

/// When `apply` tells the owners (`[notify]`), on which SNS topic.
#[derive(Debug, Clone, Copy)]
pub enum Notify<'a> {
    Never,
    /// After every apply, changes or not: notices are due whether or not apply changed
    /// anything (`iamctl apply`).
    Always(&'a str),
    /// Only when the plan had changes (`watch`: an event that changes nothing is no news).
    AfterChanges(&'a str),
}

/// The parts of `apply` that involve a person: seeing the fresh plan, and saying yes to it.
pub trait ApplyUi: Observer {
    /// The plan is made: `fresh` when no saved plan is applied (the person has not seen it
    /// yet). Called before any check, so accounts that could not be read can be told.
    fn planned(&self, plan: &SpilledPlan, fresh: bool);
    /// Whether to carry out the plan `outline` sums up; an error refuses it with its reason.
    fn approve(&self, outline: &PlanOutline) -> Result<bool, ApplyError>;
}

#[derive(Debug, thiserror::Error, miette::Diagnostic)]
pub enum ApplyError {
    #[error(transparent)]
    #[diagnostic(transparent)]
    Plan(#[from] PlanError),
    #[error("reading plan {}: {source}", path.display())]
    ReadPlan {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{}:{line}:{column}: not a saved iamctl plan: {message}", path.display())]
    NotAPlan {
        path: PathBuf,
        line: usize,
        column: usize,
        message: String,
    },
    #[error("{}: plan format_version {found:?} is not supported (this iamctl writes {FORMAT_VERSION:?})", path.display())]
    FormatVersion { path: PathBuf, found: String },
    #[error(
        "plan is stale: live state no longer gives the saved plan for {}; nothing was changed",
        accounts.join(", ")
    )]
    #[diagnostic(help("run `iamctl plan -o FILE` again and review the new plan"))]
    Stale { accounts: Vec<String> },
    #[error("the plan holds {changes} changes, over --max-changes {max}; nothing was changed")]
    OverMaxChanges { changes: usize, max: usize },
    #[error("apply cancelled; nothing was changed")]
    Cancelled,
    #[error("--rotate-now: {}; nothing was changed", refused.join("; "))]
    RotateNow { refused: Vec<String> },
    #[error("refusing to apply without confirmation: stdin is not a terminal; nothing was changed")]
    #[diagnostic(help("review the plan and pass --auto-approve, or apply a saved plan file"))]
    NoTerminal,
    #[error("reading the answer: {0}")]
    Prompt(std::io::Error),
    #[error("opening the audit log: {0}")]
    AuditLog(std::io::Error),
    #[error("keeping the plan in a temporary file: {0}; nothing was changed")]
    #[diagnostic(help(
        "the plan of each account is spilled to TMPDIR as it is made; check its free space"
    ))]
    Spill(std::io::Error),
}

/// What `apply` did.
#[derive(Debug)]
pub struct ApplyReport {
    /// The plan that was carried out (fresh, or the saved one re-derived from live state).
    pub plan: SpilledPlan,
    /// Each account with changes, and what became of each change, in plan order.
    pub outcomes: Vec<AccountOutcomes>,
    /// Why the audit log stopped being written, if it did: changes not yet started then were
    /// skipped.
    pub audit_broken: Option<String>,
    /// What `--security-hub` imported (`None` without it).
    pub security_hub: Option<HubReport>,
    /// What telling the owners came to (`None` when they were not told).
    pub notify: Option<NotifyReport>,
}

/// What became of the changes of one account, in the order of its plan's changes.
#[derive(Debug)]
pub struct AccountOutcomes {
    /// The account's position in plan order.
    pub position: usize,
    pub account: AccountLine,
    pub outcomes: Vec<Outcome>,
}

/// How many changes were done, skipped and failed.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Tally {
    pub done: usize,
    pub skipped: usize,
    pub failed: usize,
}

impl ApplyReport {
    pub fn tally(&self) -> Tally {
        let mut tally = Tally::default();
        for outcome in self.outcomes.iter().flat_map(|a| &a.outcomes) {
            match outcome.status {
                OutcomeStatus::Done => tally.done += 1,
                OutcomeStatus::Skipped { .. } => tally.skipped += 1,
                OutcomeStatus::Failed { .. } => tally.failed += 1,
            }
        }
        tally
    }

    /// Whether the run succeeded: every account read, no change failed, the audit log whole.
    /// Skipped changes are no failure (a safety guard, or nothing left to do).
    pub fn succeeded(&self) -> bool {
        self.tally().failed == 0
            && !self.plan.outline().has_failures()
            && self.audit_broken.is_none()
    }
}

/// Reads a saved plan (`plan -o FILE`).
pub fn read_saved_plan(path: &Path) -> Result<Plan, ApplyError> {
    let text = std::fs::read_to_string(path).map_err(|source| ApplyError::ReadPlan {
        path: path.to_owned(),
        source,
    })?;
    let plan: Plan = serde_json::from_str(&text).map_err(|e| ApplyError::NotAPlan {
        path: path.to_owned(),
        line: e.line(),
        column: e.column(),
        message: e.to_string(),
    })?;
    if plan.format_version != FORMAT_VERSION {
        return Err(ApplyError::FormatVersion {
            path: path.to_owned(),
            found: plan.format_version,
        });
    }
    Ok(plan)
}

/// Plans from live state, checks the plan, carries it out. Nothing is changed unless every
/// check passes.
///
/// A fleet streams through it: each account's plan (and the state it was planned from, when
/// it is needed again) goes to a spill file as it is made, its clients dropped; the checks
/// and the person read the plan back from there; then each account with changes is applied
/// with its state read back and its clients made again (its role's credentials are the run's
/// already: no second `AssumeRole`). Security Hub and the owners' notices come last, one
/// account at a time.
pub async fn run(request: ApplyRequest<'_>, ui: &dyn ApplyUi) -> Result<ApplyReport, ApplyError> {
    let now = Utc::now();
    // A saved plan: read only the accounts it covers, for the addresses it was made for.
    let focus = match (&request.saved, request.events) {
        (Some(saved), _) => Focus::Saved(saved),
        (None, Some(events)) => Focus::Events(events),
        (None, None) => Focus::All(request.targets),
    };
    let live = ops::Source::Live {
        calls: request.calls,
    };
    let selected = ops::plan::select(request.doc, live, &request.scope, focus, ui).await?;
    let factory = selected
        .factory()
        .cloned()
        .expect("apply reads live accounts");
    let spill = Mutex::new(PlanSpill::new().map_err(ApplyError::Spill)?);
    let saved = request.saved.as_ref();
    // Security Hub reads every account again after apply; otherwise only the accounts with
    // changes are.
    let revisit_all = request.security_hub;
    let step = |position: usize, run: AccountRun| {
        let spill = &spill;
        async move {
            // The account's clients are dropped here: apply makes them again if it needs them.
            let AccountRun {
                input, live, plan, ..
            } = run;
            let stale = saved.is_some_and(|saved| {
                saved
                    .accounts
                    .iter()
                    .find(|a| a.name == plan.name)
                    .is_none_or(|saved| is_stale(saved, &plan))
            });
            let revisit = revisit_all || !plan.changes.is_empty();
            let spilled = spill.lock().unwrap_or_else(|e| e.into_inner()).push(
                position,
                &plan,
                live.as_ref().filter(|_| revisit),
            );
            Planned {
                position,
                name: plan.name.clone(),
                stale,
                targets: input.targets.as_ref().map(|t| t.patterns()),
                input: revisit.then_some(input),
                spilled: spilled.err(),
            }
        }
    };
    let mut planned = ops::plan::for_each_account(selected, &request.scope, now, ui, step).await;
    planned.sort_by_key(|p| p.position);
    if let Some(error) = planned.iter_mut().find_map(|p| p.spilled.take()) {
        return Err(ApplyError::Spill(error));
    }
    if let Some(saved) = saved {
        // Only if each account the saved plan covers still plans the same.
        let stale: Vec<String> = saved
            .accounts
            .iter()
            .filter(|account| {
                planned
                    .iter()
                    .find(|p| p.name == account.name)
                    .is_none_or(|p| p.stale)
            })
            .map(|account| account.name.clone())
            .collect();
        if !stale.is_empty() {
            return Err(ApplyError::Stale { accounts: stale });
        }
    }
    let targets = planned
        .iter_mut()
        .filter_map(|p| Some((p.name.clone(), p.targets.take()?)))
        .collect();
    let plan = spill
        .into_inner()
        .unwrap_or_else(|e| e.into_inner())
        .finish(now, targets)
        .map_err(ApplyError::Spill)?;
    ui.planned(&plan, request.saved.is_none());
    let refused = rotations_refused(&plan, request.scope.rotate_now)?;
    if !refused.is_empty() {
        return Err(ApplyError::RotateNow { refused });
    }
    let revisits: Vec<(usize, TargetPlanInput)> = planned
        .into_iter()
        .filter_map(|p| Some((p.position, p.input?)))
        .collect();
    let outline = plan.outline();
    if !outline.has_changes() {
        let (security_hub, notify) = after_apply(&request, &factory, &plan, &revisits, &[]).await?;
        return Ok(ApplyReport {
            plan,
            outcomes: Vec::new(),
            audit_broken: None,
            security_hub,
            notify,
        });
    }
    if let Some(max) = request.max_changes {
        if outline.summary.changes > max {
            return Err(ApplyError::OverMaxChanges {
                changes: outline.summary.changes,
                max,
            });
        }
    }
    if request.saved.is_none() && !ui.approve(outline)? {
        return Err(ApplyError::Cancelled);
    }

    let audit = request
        .audit_log
        .as_deref()
        .map(AuditLog::open)
        .transpose()
        .map_err(ApplyError::AuditLog)?;
    let concurrency = request.scope.concurrency;
    let with_changes = revisits
        .iter()
        .filter(|(position, _)| outline.accounts[*position].changes > 0);
    let applied: Vec<Result<AccountOutcomes, ApplyError>> = futures::stream::iter(with_changes)
        .map(|(position, input)| {
            let (audit, secrets_dir, plan, factory) =
                (&audit, &request.secrets_dir, &plan, &factory);
            async move {
                let account = plan.account(*position).map_err(ApplyError::Spill)?;
                let live = plan.live(*position).map_err(ApplyError::Spill)?;
                let clients = factory.for_target(&input.target).await;
                let options = ApplyOptions {
                    secrets_dir: secrets_dir.clone(),
                    caller: live.as_ref().and_then(|l| l.caller.clone()),
                    password_policy: Some(policy_in_force(input, live.as_ref())),
                    concurrency,
                };
                // Each record is written the moment its change ends, so a run that dies
                // half-way still leaves a record of what it did.
                let outcomes =
                    apply_account_audited(&clients, &account, &options, audit.as_ref()).await;
                Ok(AccountOutcomes {
                    position: *position,
                    account: AccountLine::of(&account),
                    outcomes,
                })
            }
        })
        .buffered(request.scope.parallelism.max(1))
        .collect()
        .await;
    let outcomes = applied.into_iter().collect::<Result<Vec<_>, _>>()?;
    let (security_hub, notify) =
        after_apply(&request, &factory, &plan, &revisits, &outcomes).await?;
    Ok(ApplyReport {
        plan,
        outcomes,
        audit_broken: audit.as_ref().and_then(AuditLog::broken),
        security_hub,
        notify,
    })
}

/// One account as planned, kept until apply: what the checks and apply need of it besides
/// what went to the spill file.
struct Planned {
    position: usize,
    name: String,
    /// A saved plan is applied and this account no longer plans the same.
    stale: bool,
    /// Its `--target` patterns, for the plan.
    targets: Option<Vec<String>>,
    /// How to reach it again, when apply or Security Hub will.
    input: Option<TargetPlanInput>,
    spilled: Option<std::io::Error>,
}

/// After apply (or when there was nothing to apply): `--security-hub` imports each account's
/// findings and the changes apply did not make, and resolves what it fixed (when an earlier
/// run had imported it); `[notify]` tells each account's owners their notices and what was
/// done. One account at a time is read back from the spill file.
async fn after_apply(
    request: &ApplyRequest<'_>,
    factory: &ClientFactory,
    plan: &SpilledPlan,
    revisits: &[(usize, TargetPlanInput)],
    outcomes: &[AccountOutcomes],
) -> Result<(Option<HubReport>, Option<NotifyReport>), ApplyError> {
    let notify = match (request.notify, outcomes.is_empty()) {
        (Notify::Always(topic), _) | (Notify::AfterChanges(topic), false) => Some(topic),
        (Notify::AfterChanges(_), true) | (Notify::Never, _) => None,
    };
    if !request.security_hub && notify.is_none() {
        return Ok((None, None));
    }
    let now = Utc::now();
    let parts: Vec<Result<(HubReport, NotifyReport), ApplyError>> =
        futures::stream::iter(0..plan.len())
            .map(|position| async move {
                let account = plan.account(position).map_err(ApplyError::Spill)?;
                let done = outcomes
                    .iter()
                    .find(|o| o.position == position)
                    .map(|o| o.outcomes.as_slice());
                let mut hub = HubReport::default();
                let input = revisits.iter().find(|(p, _)| *p == position);
                if let (true, Some((_, input))) = (request.security_hub, input) {
                    let live = plan.live(position).map_err(ApplyError::Spill)?;
                    let clients = factory.for_target(&input.target).await;
                    let open = HubAccount {
                        clients: &clients,
                        plan: still_open(&account, done),
                        live: live.as_ref(),
                    };
                    hub = security_hub::export_one(&open, now).await;
                }
                let told = match notify {
                    Some(topic) => notify::tell_account(factory, topic, &account, done).await,
                    None => NotifyReport::default(),
                };
                Ok((hub, told))
            })
            .buffered(request.scope.parallelism.max(1))
            .collect()
            .await;
    let mut hub = HubReport::default();
    let mut told = NotifyReport::default();
    for part in parts {
        let (hub_part, told_part) = part?;
        hub.absorb(hub_part);
        told.absorb(told_part);
    }
    Ok((request.security_hub.then_some(hub), notify.map(|_| told)))
}

/// Each `--rotate-now` key the plan does not rotate, with why: what a finding at its address
/// says, or that no selected account has such a key for a user iamctl may change.
fn rotations_refused(
    plan: &SpilledPlan,
    asked: &[(String, AccessKeyId)],
) -> Result<Vec<String>, ApplyError> {
    if asked.is_empty() {
        return Ok(Vec::new());
    }
    // `--rotate-now` names a few keys: the accounts are read back once, and only what is at
    // those keys' addresses is kept.
    let addresses: Vec<Address> = asked
        .iter()
        .map(|(user, key_id)| Address::AccessKey {
            user: user.clone(),
            key_id: key_id.clone(),
        })
        .collect();
    let mut changes = Vec::new();
    let mut findings = Vec::new();
    for index in 0..plan.len() {
        let account = plan.account(index).map_err(ApplyError::Spill)?;
        changes.extend(
            account
                .changes
                .into_iter()
                .filter(|c| addresses.contains(&c.address())),
        );
        findings.extend(
            account
                .findings
                .into_iter()
                .filter(|f| addresses.contains(&f.address)),
        );
    }
    Ok(addresses
        .into_iter()
        .filter_map(|address| {
            let rotated = changes.iter().any(|c| {
                c.address() == address && c.action() == Action::Rotate
            });
            if rotated {
                return None;
            }
            if let Some(change) = changes.iter().find(|c| c.address() == address) {
                return Some(format!(
                    "{address}: the plan makes a {} change instead ({})",
                    change.action(),
                    change.rule
                ));
            }
            let why = findings
                .iter()
                .find(|f| f.address == address && f.notice.is_none())
                .map(|f| f.message.clone())
                .unwrap_or_else(|| {
                    "no active key of that id for a user iamctl may change in the selected accounts (exempt users are never changed)".to_owned()
                });
            Some(format!("{address}: {why}"))
        })
        .collect())
}

/// The password policy new console passwords must satisfy: the planned one, else the live one.
fn policy_in_force(input: &TargetPlanInput, live: Option<&AccountState>) -> PasswordPolicy {
    match &input.rules.password_policy {
        Some(PolicyRule::Present(policy)) => policy.clone(),
        Some(PolicyRule::Absent) | None => live
            .and_then(|l| l.password_policy.clone())
            .unwrap_or_else(PasswordPolicy::iam_default),
    }
}

/// Whether a fresh plan of an account no longer gives its saved plan: its changes differ.
/// Findings are not compared: their messages carry ages, which move with the clock; nor is
/// `plan --explain`'s attribution, which says who made a change, not what apply would do.
fn is_stale(saved: &AccountPlan, fresh: &AccountPlan) -> bool {
    fresh.error.is_some()
        || fresh.changes.len() != saved.changes.len()
        || !fresh
            .changes
            .iter()
            .zip(&saved.changes)
            .all(|(fresh, saved)| fresh.same_change(saved))
        || fresh.account_id != saved.account_id
}
