//! The plan as data: what would change in each account and what is only reported. Renderers
//! print it, `apply` executes it, saved plans serialize it. It never holds a secret.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::address::{Action, Address, Attribution};
use super::change::Change;
use super::rule::Rule;

/// Version of the JSON plan format (`plan --format json` and saved plans).
pub const FORMAT_VERSION: &str = "1";

/// Something reported and not changed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "FindingSrc", into = "FindingSrc")]
pub struct Finding {
    pub address: Address,
    pub rule: Rule,
    pub message: String,
    /// Set when the finding announces what `rule` will do on a date (`notice_days`, or a
    /// grace that has not run out): its rule then reads `<rule>.notice`.
    pub notice: Option<Notice>,
    /// Who answers for the user the finding is about (`[users] owner_tag`, `default_owner`).
    pub owner: Option<String>,
    /// Who last changed the object, from CloudTrail (`plan --explain`).
    pub attribution: Option<Attribution>,
}

impl Finding {
    pub fn new(address: Address, rule: Rule, message: String) -> Self {
        Self {
            address,
            rule,
            message,
            notice: None,
            owner: None,
            attribution: None,
        }
    }

    /// The rule as plans print it: `users.access_keys.max_age_days`, or with `.notice` for a
    /// notice.
    pub fn rule_name(&self) -> String {
        match self.notice {
            Some(_) => format!("{}{NOTICE_SUFFIX}", self.rule),
            None => self.rule.to_string(),
        }
    }
}

/// What a rule will do, and when.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Notice {
    pub due: DateTime<Utc>,
    pub action: Action,
}

const NOTICE_SUFFIX: &str = ".notice";

/// A finding in the plan file's form: `rule` carries `.notice` for a notice, whose `due` and
/// `action` then follow.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FindingSrc {
    pub address: Address,
    pub rule: String,
    /// The CIS controls of the rule (`plan::controls`): written for readers, ignored when a
    /// saved plan is read (they follow from the rule); left out when there are none.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub controls: Vec<String>,
    pub message: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub due: Option<DateTime<Utc>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub action: Option<Action>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub owner: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub attribution: Option<Attribution>,
}

impl From<Finding> for FindingSrc {
    fn from(finding: Finding) -> Self {
        FindingSrc {
            rule: finding.rule_name(),
            controls: super::controls::control_ids(finding.rule),
            address: finding.address,
            message: finding.message,
            due: finding.notice.map(|n| n.due),
            action: finding.notice.map(|n| n.action),
            owner: finding.owner,
            attribution: finding.attribution,
        }
    }
}

impl TryFrom<FindingSrc> for Finding {
    type Error = String;

    fn try_from(src: FindingSrc) -> Result<Self, Self::Error> {
        let (rule, notice) = match src.rule.strip_suffix(NOTICE_SUFFIX) {
            Some(rule) => match (src.due, src.action) {
                (Some(due), Some(action)) => (rule, Some(Notice { due, action })),
                _ => {
                    return Err(format!(
                        "the notice {} at {} has no due date or action",
                        src.rule, src.address
                    ));
                }
            },
            None => (src.rule.as_str(), None),
        };
        Ok(Finding {
            rule: rule
                .parse()
                .map_err(|e: super::rule::UnknownRule| e.to_string())?,
            address: src.address,
            message: src.message,
            notice,
            owner: src.owner,
            attribution: src.attribution,
        })
    }
}

/// The plan of one account. `error` is set (and the lists are empty) when the account could
/// not be read; the other accounts are planned all the same.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AccountPlan {
    pub name: String,
    pub account_id: String,
    #[serde(default)]
    pub changes: Vec<Change>,
    #[serde(default)]
    pub findings: Vec<Finding>,
    /// Age marker of the bulk data the plan was read from (IAM serves a credential report
    /// for up to 4 hours).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub credential_report_generated_at: Option<DateTime<Utc>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

impl AccountPlan {
    pub fn failed(name: impl Into<String>, account_id: impl Into<String>, error: String) -> Self {
        Self {
            name: name.into(),
            account_id: account_id.into(),
            changes: Vec::new(),
            findings: Vec::new(),
            credential_report_generated_at: None,
            error: Some(error),
        }
    }
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Summary {
    pub changes: usize,
    pub findings: usize,
    #[serde(default, skip_serializing_if = "is_zero")]
    pub failed_accounts: usize,
}

fn is_zero(n: &usize) -> bool {
    *n == 0
}

/// A plan over every target account, in target order.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Plan {
    pub format_version: String,
    pub as_of: DateTime<Utc>,
    /// `plan --run-id`: the plans of one run's shards say so, for `iamctl report`. Left out
    /// when not given, so plan files stay as they were.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub run_id: Option<String>,
    pub accounts: Vec<AccountPlan>,
    pub summary: Summary,
    /// The accounts planned for only some addresses (`--target`, `--event`), with the
    /// patterns: `apply FILE` plans them the same way to check the plan is not stale.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub targets: BTreeMap<String, Vec<String>>,
}

impl Plan {
    pub fn new(as_of: DateTime<Utc>, accounts: Vec<AccountPlan>) -> Self {
        let summary = Summary {
            changes: accounts.iter().map(|a| a.changes.len()).sum(),
            findings: accounts.iter().map(|a| a.findings.len()).sum(),
            failed_accounts: accounts.iter().filter(|a| a.error.is_some()).count(),
        };
        Self {
            format_version: FORMAT_VERSION.to_owned(),
            as_of,
            run_id: None,
            accounts,
            summary,
            targets: BTreeMap::new(),
        }
    }

    /// The one place that decides whether `apply` has anything to do.
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
