//! `apply` as one operation: plan from live state, refuse (changing nothing) a stale saved
//! plan, a plan over `--max-changes` or one not approved, then carry out every account's plan
//! concurrently and report what became of each change.

use std::path::{Path, PathBuf};

use chrono::Utc;
use futures::StreamExt;

use crate::apply::{ApplyOptions, AuditLog, apply_account_audited};
use crate::aws::ApiCalls;
use crate::desired::{DesiredDoc, PolicyRule};
use crate::explain::events::Envelope;
use crate::fleet::AccountRun;
use crate::ops::{self, Focus, Observer, PlanError, Scope};
use crate::outcome::{Outcome, OutcomeStatus};
use crate::plan::{AccountPlan, Action, Address, FORMAT_VERSION, Plan, Targets};
use crate::security_hub::{self, HubAccount, HubReport, still_open};
use crate::state::AccessKeyId;
use crate::state::PasswordPolicy;

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
}

/// The parts of `apply` that involve a person: seeing the fresh plan, and saying yes to it.
pub trait ApplyUi: Observer {
    /// The plan is made: `fresh` when no saved plan is applied (the person has not seen it
    /// yet). Called before any check, so accounts that could not be read can be told.
    fn planned(&self, plan: &Plan, fresh: bool);
    /// Whether to carry out `plan`; an error refuses it with its reason.
    fn approve(&self, plan: &Plan) -> Result<bool, ApplyError>;
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
}

/// What `apply` did.
#[derive(Debug)]
pub struct ApplyReport {
    /// The plan that was carried out (fresh, or the saved one re-derived from live state).
    pub plan: Plan,
    /// Each account with changes, and what became of each change, in plan order.
    pub outcomes: Vec<(AccountPlan, Vec<Outcome>)>,
    /// Why the audit log stopped being written, if it did: changes not yet started then were
    /// skipped.
    pub audit_broken: Option<String>,
    /// What `--security-hub` imported (`None` without it).
    pub security_hub: Option<HubReport>,
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
        for outcome in self.outcomes.iter().flat_map(|(_, o)| o) {
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
        self.tally().failed == 0 && !self.plan.has_failures() && self.audit_broken.is_none()
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
pub async fn run(request: ApplyRequest<'_>, ui: &dyn ApplyUi) -> Result<ApplyReport, ApplyError> {
    let now = Utc::now();
    // A saved plan: read only the accounts it covers, for the addresses it was made for.
    let focus = match (&request.saved, request.events) {
        (Some(saved), _) => Focus::Saved(saved),
        (None, Some(events)) => Focus::Events(events),
        (None, None) => Focus::All(request.targets),
    };
    let mut runs = ops::compute_plan(
        request.doc,
        ops::Source::Live {
            calls: request.calls,
        },
        &request.scope,
        now,
        focus,
        ui,
    )
    .await?;

    if let Some(saved) = &request.saved {
        // Only the accounts the saved plan covers, and only if each still plans the same.
        runs.retain(|run| saved.accounts.iter().any(|a| a.name == run.plan.name));
        let stale = stale_accounts(saved, &runs);
        if !stale.is_empty() {
            return Err(ApplyError::Stale { accounts: stale });
        }
    }

    let plan = ops::plan_of(now, &runs);
    ui.planned(&plan, request.saved.is_none());
    let refused = rotations_refused(&plan, request.scope.rotate_now);
    if !refused.is_empty() {
        return Err(ApplyError::RotateNow { refused });
    }
    if !plan.has_changes() {
        let security_hub = match request.security_hub {
            true => Some(import_into_security_hub(&runs, &[], request.scope.parallelism).await),
            false => None,
        };
        return Ok(ApplyReport {
            plan,
            outcomes: Vec::new(),
            audit_broken: None,
            security_hub,
        });
    }
    if let Some(max) = request.max_changes {
        if plan.summary.changes > max {
            return Err(ApplyError::OverMaxChanges {
                changes: plan.summary.changes,
                max,
            });
        }
    }
    if request.saved.is_none() && !ui.approve(&plan)? {
        return Err(ApplyError::Cancelled);
    }

    let audit = request
        .audit_log
        .as_deref()
        .map(AuditLog::open)
        .transpose()
        .map_err(ApplyError::AuditLog)?;
    let concurrency = request.scope.concurrency;
    let outcomes: Vec<(AccountPlan, Vec<Outcome>)> =
        futures::stream::iter(runs.iter().filter(|r| !r.plan.changes.is_empty()))
            .map(|run| {
                let (audit, secrets_dir) = (&audit, &request.secrets_dir);
                async move {
                    let outcomes = match &run.clients {
                        Some(clients) => {
                            let options = ApplyOptions {
                                secrets_dir: secrets_dir.clone(),
                                caller: run.live.as_ref().and_then(|l| l.caller.clone()),
                                password_policy: Some(policy_in_force(run)),
                                concurrency,
                            };
                            // Each record is written the moment its change ends, so a run that
                            // dies half-way still leaves a record of what it did.
                            apply_account_audited(clients, &run.plan, &options, audit.as_ref())
                                .await
                        }
                        None => Vec::new(),
                    };
                    (run.plan.clone(), outcomes)
                }
            })
            .buffered(request.scope.parallelism.max(1))
            .collect()
            .await;
    let security_hub = match request.security_hub {
        true => Some(import_into_security_hub(&runs, &outcomes, request.scope.parallelism).await),
        false => None,
    };
    Ok(ApplyReport {
        plan,
        outcomes,
        audit_broken: audit.as_ref().and_then(AuditLog::broken),
        security_hub,
    })
}

/// Each `--rotate-now` key the plan does not rotate, with why: what a finding at its address
/// says, or that no selected account has such a key for a user iamctl may change.
fn rotations_refused(plan: &Plan, asked: &[(String, AccessKeyId)]) -> Vec<String> {
    asked
        .iter()
        .filter_map(|(user, key_id)| {
            let address = Address::AccessKey {
                user: user.clone(),
                key_id: key_id.clone(),
            };
            let accounts = plan.accounts.iter();
            let rotated = accounts.clone().flat_map(|a| &a.changes).any(|c| {
                c.address() == address && c.action() == Action::Rotate
            });
            if rotated {
                return None;
            }
            let instead = accounts
                .clone()
                .flat_map(|a| &a.changes)
                .find(|c| c.address() == address);
            if let Some(change) = instead {
                return Some(format!(
                    "{address}: the plan makes a {} change instead ({})",
                    change.action(),
                    change.rule
                ));
            }
            let why = accounts
                .flat_map(|a| &a.findings)
                .find(|f| f.address == address && f.notice.is_none())
                .map(|f| f.message.clone())
                .unwrap_or_else(|| {
                    "no active key of that id for a user iamctl may change in the selected accounts (exempt users are never changed)".to_owned()
                });
            Some(format!("{address}: {why}"))
        })
        .collect()
}

/// `--security-hub`: each account's findings, and the changes apply did not make, imported;
/// what apply fixed resolved (when an earlier run had imported it).
async fn import_into_security_hub(
    runs: &[AccountRun],
    outcomes: &[(AccountPlan, Vec<Outcome>)],
    parallelism: usize,
) -> HubReport {
    let accounts = runs
        .iter()
        .filter_map(|run| {
            let done = outcomes
                .iter()
                .find(|(plan, _)| plan.name == run.plan.name)
                .map(|(_, outcomes)| outcomes.as_slice());
            Some(HubAccount {
                clients: run.clients.as_ref()?,
                plan: still_open(&run.plan, done),
                live: run.live.as_ref(),
            })
        })
        .collect();
    security_hub::export(accounts, Utc::now(), parallelism).await
}

/// The password policy new console passwords must satisfy: the planned one, else the live one.
fn policy_in_force(run: &AccountRun) -> PasswordPolicy {
    match &run.input.rules.password_policy {
        Some(PolicyRule::Present(policy)) => policy.clone(),
        Some(PolicyRule::Absent) | None => run
            .live
            .as_ref()
            .and_then(|l| l.password_policy.clone())
            .unwrap_or_else(PasswordPolicy::iam_default),
    }
}

/// Names of the accounts whose changes differ between the saved plan and a fresh one.
/// Findings are not compared: their messages carry ages, which move with the clock; nor is
/// `plan --explain`'s attribution, which says who made a change, not what apply would do.
fn stale_accounts(saved: &Plan, runs: &[AccountRun]) -> Vec<String> {
    saved
        .accounts
        .iter()
        .filter(
            |account| match runs.iter().find(|run| run.plan.name == account.name) {
                Some(run) => {
                    run.plan.error.is_some()
                        || run.plan.changes.len() != account.changes.len()
                        || !run
                            .plan
                            .changes
                            .iter()
                            .zip(&account.changes)
                            .all(|(fresh, saved)| fresh.same_change(saved))
                        || run.plan.account_id != account.account_id
                }
                None => true,
            },
        )
        .map(|account| account.name.clone())
        .collect()
}
