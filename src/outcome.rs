//! What became of each change `apply` made: the `Outcome` of a change and its
//! `OutcomeStatus`. Plain data, serialized into the audit log and read by whatever reports on
//! an apply (the report, notify, Security Hub), so none of them depends on `apply` itself.

use serde::{Deserialize, Serialize};

use crate::plan::{Action, Address, Rule};

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
