//! Targets and the fleet loop: which accounts a run covers, and reading and planning them
//! concurrently within a bound, one account's failure never stopping the others.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use futures::StreamExt;
use globset::{Glob, GlobSetBuilder};

use crate::aws::{AccountClients, ClientFactory, Target};
use crate::desired::model::AccountSpec;
use crate::desired::{DesiredDoc, Rules};
use crate::live::{self, ReadScope};
use crate::plan::{AccountPlan, plan_account};
use crate::state::AccountState;

/// The name of the one target on ambient credentials when no `[[account]]` is declared.
pub const DEFAULT_TARGET: &str = "default";

/// One account a run covers: how to reach it and what it should look like.
#[derive(Debug, Clone)]
pub struct TargetPlanInput {
    pub target: Target,
    pub rules: Rules,
}

#[derive(Debug, thiserror::Error, miette::Diagnostic)]
pub enum SelectError {
    #[error("invalid --account pattern {pattern:?}: {source}")]
    Pattern {
        pattern: String,
        source: globset::Error,
    },
    #[error("--account {patterns} matches no target (targets: {known})")]
    NoMatch { patterns: String, known: String },
}

/// The targets of `doc`, narrowed to those matching any of `selectors` (names or globs;
/// empty: all), in declaration order.
pub fn select_targets(
    doc: &DesiredDoc,
    selectors: &[String],
) -> Result<Vec<TargetPlanInput>, SelectError> {
    let all: Vec<TargetPlanInput> = if doc.account.is_empty() {
        vec![TargetPlanInput {
            target: Target {
                name: DEFAULT_TARGET.to_owned(),
                ..Default::default()
            },
            rules: doc.rules_for(None),
        }]
    } else {
        doc.account
            .iter()
            .map(|spec| TargetPlanInput {
                target: target_of(spec),
                rules: doc.rules_for(Some(spec)),
            })
            .collect()
    };
    if selectors.is_empty() {
        return Ok(all);
    }
    let mut builder = GlobSetBuilder::new();
    for pattern in selectors {
        let glob = Glob::new(pattern).map_err(|source| SelectError::Pattern {
            pattern: pattern.clone(),
            source,
        })?;
        builder.add(glob);
    }
    let set = builder.build().map_err(|source| SelectError::Pattern {
        pattern: selectors.join(","),
        source,
    })?;
    let known = all
        .iter()
        .map(|t| t.target.name.clone())
        .collect::<Vec<_>>()
        .join(", ");
    let selected: Vec<TargetPlanInput> = all
        .into_iter()
        .filter(|t| set.is_match(&t.target.name))
        .collect();
    if selected.is_empty() {
        return Err(SelectError::NoMatch {
            patterns: selectors.join(", "),
            known,
        });
    }
    Ok(selected)
}

fn target_of(spec: &AccountSpec) -> Target {
    Target {
        name: spec.name.clone(),
        role_arn: spec.role_arn.clone(),
        external_id: spec.external_id.clone(),
        profile: spec.profile.clone(),
    }
}

/// One account's read and plan. `live` and `clients` are missing when the account could not
/// be reached or read; `plan.error` then says why.
#[derive(Debug)]
pub struct AccountRun {
    pub input: TargetPlanInput,
    pub clients: Option<AccountClients>,
    pub live: Option<AccountState>,
    pub plan: AccountPlan,
}

/// Reads and plans every target against live AWS, `parallelism` accounts at a time, each
/// account making at most `concurrency` calls at a time. Results are in target order.
pub async fn plan_live(
    factory: &ClientFactory,
    targets: Vec<TargetPlanInput>,
    as_of: DateTime<Utc>,
    parallelism: usize,
    concurrency: usize,
) -> Vec<AccountRun> {
    futures::stream::iter(targets)
        .map(|input| async move {
            let clients = factory.for_target(&input.target).await;
            match live::read_account(&clients, ReadScope::Rules(&input.rules), as_of, concurrency)
                .await
            {
                Ok(state) => {
                    let plan = plan_account(&input.target.name, &input.rules, &state, as_of);
                    AccountRun {
                        input,
                        clients: Some(clients),
                        live: Some(state),
                        plan,
                    }
                }
                Err(error) => {
                    let plan = AccountPlan::failed(&input.target.name, "", error.to_string());
                    AccountRun {
                        input,
                        clients: Some(clients),
                        live: None,
                        plan,
                    }
                }
            }
        })
        .buffered(parallelism.max(1))
        .collect()
        .await
}

/// Plans every target against the accounts of a snapshot, matched by name. A desired state
/// with only the implicit `default` target takes a snapshot's only account whatever its name.
pub fn plan_snapshot(
    targets: Vec<TargetPlanInput>,
    accounts: BTreeMap<String, AccountState>,
    as_of: DateTime<Utc>,
) -> Vec<AccountRun> {
    let only = (accounts.len() == 1)
        .then(|| accounts.values().next().cloned())
        .flatten();
    let known = accounts.keys().cloned().collect::<Vec<_>>().join(", ");
    targets
        .into_iter()
        .map(|input| {
            let name = input.target.name.clone();
            let state = accounts
                .get(&name)
                .cloned()
                .or_else(|| (name == DEFAULT_TARGET).then(|| only.clone()).flatten());
            match state {
                Some(state) => {
                    let plan = plan_account(&name, &input.rules, &state, as_of);
                    AccountRun {
                        input,
                        clients: None,
                        live: Some(state),
                        plan,
                    }
                }
                None => {
                    let plan = AccountPlan::failed(
                        &name,
                        "",
                        format!("the snapshot has no account named {name:?} (it has: {known})"),
                    );
                    AccountRun {
                        input,
                        clients: None,
                        live: None,
                        plan,
                    }
                }
            }
        })
        .collect()
}
