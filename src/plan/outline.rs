//! A plan without its accounts' items: the counts the summary line, the fleet table and the
//! frame of the JSON document are made of, so that a plan of any size can be rendered one
//! account at a time while only this stays in memory (a few dozen bytes per account).

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};

use super::{AccountPlan, FORMAT_VERSION, Plan, Summary};

/// One account of a plan, as the fleet table and the markdown summary table show it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccountLine {
    pub name: String,
    pub account_id: String,
    pub changes: usize,
    pub findings: usize,
    /// The account could not be read (its counts are unknown, not zero).
    pub failed: bool,
}

impl AccountLine {
    pub fn of(account: &AccountPlan) -> Self {
        Self {
            name: account.name.clone(),
            account_id: account.account_id.clone(),
            changes: account.changes.len(),
            findings: account.findings.len(),
            failed: account.error.is_some(),
        }
    }
}

/// Everything of a [`Plan`] but its accounts' items, accounts in plan order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlanOutline {
    pub format_version: String,
    pub as_of: DateTime<Utc>,
    /// As [`Plan::run_id`].
    pub run_id: Option<String>,
    pub accounts: Vec<AccountLine>,
    pub summary: Summary,
    /// As [`Plan::targets`].
    pub targets: BTreeMap<String, Vec<String>>,
}

impl PlanOutline {
    /// An outline of no account yet; [`PlanOutline::push`] adds them in plan order.
    pub fn new(as_of: DateTime<Utc>) -> Self {
        Self {
            format_version: FORMAT_VERSION.to_owned(),
            as_of,
            run_id: None,
            accounts: Vec::new(),
            summary: Summary::default(),
            targets: BTreeMap::new(),
        }
    }

    pub fn of(plan: &Plan) -> Self {
        let mut outline = Self::new(plan.as_of);
        for account in &plan.accounts {
            outline.push(account);
        }
        outline.format_version.clone_from(&plan.format_version);
        outline.run_id.clone_from(&plan.run_id);
        outline.targets.clone_from(&plan.targets);
        // A plan read back from a file keeps the summary it was saved with.
        outline.summary = plan.summary;
        outline
    }

    /// Adds `account`, the next in plan order, counting its items as [`Plan::new`] does.
    pub fn push(&mut self, account: &AccountPlan) {
        self.summary.changes += account.changes.len();
        self.summary.findings += account.findings.len();
        self.summary.failed_accounts += usize::from(account.error.is_some());
        self.accounts.push(AccountLine::of(account));
    }

    /// As [`Plan::has_changes`]: the same one decision, on the same summary.
    pub fn has_changes(&self) -> bool {
        self.summary.changes > 0
    }

    pub fn has_findings(&self) -> bool {
        self.summary.findings > 0
    }

    pub fn has_failures(&self) -> bool {
        self.summary.failed_accounts > 0
    }
}
