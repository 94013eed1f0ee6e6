//! `apply`: carries out one account's plan against IAM, change by change, and reports what
//! became of each. One of the two modules that talk to AWS (with `live/`).
//!
//! Invariants:
//! - What to call is decided from a change's kind ([`ChangeKind`]), never from its rule: the
//!   re-check of keys flagged as unused and the hold on a tightening policy whose password
//!   resets failed are fields of the kind.
//! - A failed change does not stop the others; every change gets an [`Outcome`].
//! - The signing access key and the caller's own login profile are never touched, whatever
//!   the plan says (the engine already leaves them out; this is the second guard).
//! - A generated password exists only in memory and in its `--secrets-dir` file: not in an
//!   outcome, the audit log, or a log line.

mod audit;
mod cloudtrail;
mod deny_policy;
mod executor;
mod password;
mod rotation;
mod run;

use std::path::PathBuf;

use futures::StreamExt;
use serde::{Deserialize, Serialize};

pub use audit::AuditLog;
pub use run::{
    AccountOutcomes, ApplyError, ApplyReport, ApplyRequest, ApplyUi, Notify, Tally,
    read_saved_plan, run,
};

use crate::aws::AccountClients;
use crate::plan::{AccountPlan, Action, Address, ChangeKind, Rule};
use crate::state::{Caller, PasswordPolicy};
use executor::Executor;

/// How to apply one account's plan.
#[derive(Debug, Clone, Default)]
pub struct ApplyOptions {
    /// Where generated console passwords are written (`<dir>/<user>.password`, mode 0600).
    /// Without it, creating a login profile fails and creates nothing.
    pub secrets_dir: Option<PathBuf>,
    /// Who iamctl is signed in as in this account: its key and login profile are left alone.
    pub caller: Option<Caller>,
    /// The password policy in force after this apply (the planned one if the plan sets it,
    /// else the live one); `None`: IAM's default. Generated passwords satisfy it.
    pub password_policy: Option<PasswordPolicy>,
    /// How many changes of the account run at once (0 counts as 1).
    pub concurrency: usize,
}

/// What became of one change.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "status", rename_all = "snake_case")]
pub enum OutcomeStatus {
    Done,
    /// Deliberately not done (a safety guard, or the live state moved since the plan).
    Skipped {
        reason: String,
    },
    /// Attempted and failed; `error` names the account and the IAM operation.
    Failed {
        error: String,
    },
}

impl OutcomeStatus {
    pub fn is_done(&self) -> bool {
        matches!(self, OutcomeStatus::Done)
    }

    pub fn is_failed(&self) -> bool {
        matches!(self, OutcomeStatus::Failed { .. })
    }
}

/// One change of the plan and what became of it. Serialized flat:
/// `{"address": …, "action": …, "rule": …, "status": "failed", "error": …}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Outcome {
    pub address: Address,
    pub action: Action,
    pub rule: Rule,
    #[serde(flatten)]
    pub status: OutcomeStatus,
}

/// Applies `plan` to the account behind `clients`; returns one outcome per change, in plan
/// order. See [`apply_account_audited`].
pub async fn apply_account(
    clients: &AccountClients,
    plan: &AccountPlan,
    opts: &ApplyOptions,
) -> Vec<Outcome> {
    apply_account_audited(clients, plan, opts, None).await
}

/// Applies `plan`, appending each outcome to `audit` the moment the change ends (so the log
/// holds every change made even if the run dies half-way).
///
/// Changes run concurrently up to `opts.concurrency`, except the password policy change,
/// which runs after all the others: when it tightens the policy, the plan also resets the
/// console passwords (rule `users.console.reset_on_policy_tightening`), and if one of those
/// resets did not happen the policy change is held back, because once the policy is in
/// force no later plan would see the tightening and ask for the resets again.
///
/// Once the audit log cannot be written, the changes not yet started are skipped.
pub async fn apply_account_audited(
    clients: &AccountClients,
    plan: &AccountPlan,
    opts: &ApplyOptions,
    audit: Option<&AuditLog>,
) -> Vec<Outcome> {
    let executor = Executor::new(clients, plan, opts);
    let attempt = |index: usize| {
        let executor = &executor;
        async move {
            let change = &plan.changes[index];
            let status = match audit.and_then(AuditLog::broken) {
                Some(why) => OutcomeStatus::Skipped {
                    reason: format!("not made unaudited: {why}"),
                },
                None => executor.run(change).await,
            };
            (index, record(audit, plan, outcome(plan, index, status)))
        }
    };

    let (policy_last, others): (Vec<usize>, Vec<usize>) =
        (0..plan.changes.len()).partition(|&i| plan.changes[i].kind.password_policy().is_some());
    let mut outcomes: Vec<Option<Outcome>> = vec![None; plan.changes.len()];
    let mut finished = futures::stream::iter(others)
        .map(attempt)
        .buffer_unordered(opts.concurrency.max(1));
    while let Some((index, outcome)) = finished.next().await {
        outcomes[index] = Some(outcome);
    }
    drop(finished);

    let resets_not_done = plan
        .changes
        .iter()
        .zip(&outcomes)
        .filter(|(change, outcome)| {
            change.kind.is_tightening_reset()
                && !outcome.as_ref().is_some_and(|o| o.status.is_done())
        })
        .count();
    for index in policy_last {
        let tightens = matches!(
            plan.changes[index].kind,
            ChangeKind::CreatePasswordPolicy { .. } | ChangeKind::UpdatePasswordPolicy { .. }
        );
        outcomes[index] = Some(if tightens && resets_not_done > 0 {
            let reason = format!(
                "{resets_not_done} password {} failed; the policy change waits so the next apply retries them",
                if resets_not_done == 1 {
                    "reset"
                } else {
                    "resets"
                }
            );
            record(
                audit,
                plan,
                outcome(plan, index, OutcomeStatus::Skipped { reason }),
            )
        } else {
            attempt(index).await.1
        });
    }

    outcomes
        .into_iter()
        .map(|o| o.expect("every change has run"))
        .collect()
}

fn outcome(plan: &AccountPlan, index: usize, status: OutcomeStatus) -> Outcome {
    let change = &plan.changes[index];
    Outcome {
        address: change.address(),
        action: change.action(),
        rule: change.rule,
        status,
    }
}

/// Writes the outcome to the audit log, if any. A failed write is kept by the log (see
/// [`AuditLog::broken`]) and holds back the changes not yet started.
fn record(audit: Option<&AuditLog>, plan: &AccountPlan, outcome: Outcome) -> Outcome {
    if let Some(audit) = audit {
        if audit
            .record(&plan.name, &plan.account_id, &outcome)
            .is_err()
        {
            tracing::debug!(account = %plan.name, address = %outcome.address, "audit log write failed");
        }
    }
    outcome
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn outcomes_serialize_flat() {
        let outcome = Outcome {
            address: Address::LoginProfile("alice".into()),
            action: Action::Create,
            rule: Rule::UserConsole,
            status: OutcomeStatus::Skipped {
                reason: "why".into(),
            },
        };
        let json = serde_json::to_value(&outcome).unwrap();
        assert_eq!(
            json,
            serde_json::json!({"address": "user.alice.login_profile", "action": "create", "rule": "user.console",
                               "status": "skipped", "reason": "why"})
        );
        assert_eq!(serde_json::from_value::<Outcome>(json).unwrap(), outcome);
    }
}
