//! What planning an account collects: its changes, its findings, and the items about keys
//! known only by report slot ([`Unaddressed`]), set apart for `live/`. Its own file so the
//! concerns of the engine write into it without importing the engine's entry points.

use chrono::{DateTime, Utc};

use crate::plan::address::{Action, Address};
use crate::plan::change::Change;
use crate::plan::change::ChangeKind;
use crate::plan::model::{Finding, Notice};
use crate::plan::rule::Rule;
use crate::state::AccessKey;

/// A plan item about an access key known only from the credential report (a
/// [`crate::state::KeyId::ReportSlot`]): it cannot be addressed until the user's keys are listed. `live/`
/// reads them and plans again; [`super::plan_account`] reports what is left as a finding about the
/// user, so nothing is dropped silently.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Unaddressed {
    pub(crate) user: String,
    pub(crate) rule: Rule,
    /// A change would be made (not only a finding): the key's use must be confirmed too.
    pub(crate) is_change: bool,
    pub(crate) message: String,
}

#[derive(Default)]
pub(super) struct Output {
    pub(super) changes: Vec<Change>,
    pub(super) findings: Vec<Finding>,
    pub(super) unaddressed: Vec<Unaddressed>,
}

impl Output {
    pub(super) fn change(&mut self, rule: Rule, kind: ChangeKind) {
        self.changes.push(Change::new(rule, kind));
    }

    pub(super) fn finding(&mut self, address: Address, rule: Rule, message: String) {
        self.findings.push(Finding::new(address, rule, message));
    }

    /// A finding about `key` of `user`: at the key's address, or, for a key known only by
    /// report slot, set apart until its id is read (`live/` plans the user again).
    pub(super) fn key_finding(&mut self, user: &str, key: &AccessKey, rule: Rule, message: String) {
        match key.id.iam() {
            Some(id) => self.finding(
                Address::AccessKey {
                    user: user.to_owned(),
                    key_id: id.clone(),
                },
                rule,
                message,
            ),
            None => self.unaddressed.push(Unaddressed {
                user: user.to_owned(),
                rule,
                is_change: false,
                message,
            }),
        }
    }

    /// A finding announcing what `rule` will do on `due`.
    pub(super) fn notice(
        &mut self,
        address: Address,
        rule: Rule,
        due: DateTime<Utc>,
        action: Action,
        message: String,
    ) {
        self.findings.push(Finding {
            notice: Some(Notice { due, action }),
            ..Finding::new(address, rule, message)
        });
    }
}
