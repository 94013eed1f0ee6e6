//! Access keys as a credential kind: what their rules may ask ([`KeyEnforcement`]), how
//! messages name them, their facts for the lifecycle, and the lifecycle `[users.access_keys]`
//! sets. The planner that acts on its decisions is `credentials.rs`.

use super::Context;
use crate::desired::model::KeyAction;
use crate::plan::change::KeyFacts;
use crate::plan::lifecycle::{
    Credential, CredentialKind, Enforcement, Grace, Lifecycle, Limit, Policy, Status,
};
use crate::plan::records::UserRecords;
use crate::plan::rule::Rule;
use crate::state::{AccessKey, KeyStatus};

/// What a key rule asks for. The plan keeps the strongest of what the rules flagging one key
/// ask; the order is stated here, not borrowed from the order of the TOML model's variants.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum KeyEnforcement {
    Report,
    Rotate,
    Deactivate,
    Delete,
}

impl KeyEnforcement {
    /// Rotation keeps the key working while a successor is delivered: more than a report,
    /// less than cutting the key off. A key that another rule would deactivate or delete (one
    /// nothing uses) gets that instead of a successor.
    pub(crate) fn strength(self) -> u8 {
        match self {
            KeyEnforcement::Report => 0,
            KeyEnforcement::Rotate => 1,
            KeyEnforcement::Deactivate => 2,
            KeyEnforcement::Delete => 3,
        }
    }
}

impl From<KeyAction> for KeyEnforcement {
    fn from(action: KeyAction) -> Self {
        match action {
            KeyAction::Report => KeyEnforcement::Report,
            KeyAction::Deactivate => KeyEnforcement::Deactivate,
            KeyAction::Delete => KeyEnforcement::Delete,
            KeyAction::Rotate => KeyEnforcement::Rotate,
        }
    }
}

impl Enforcement for KeyEnforcement {
    fn acts(self) -> bool {
        match self {
            KeyEnforcement::Report => false,
            KeyEnforcement::Rotate | KeyEnforcement::Deactivate | KeyEnforcement::Delete => true,
        }
    }
}

/// Access keys, as a credential kind.
pub(crate) struct AccessKeys;

impl CredentialKind for AccessKeys {
    type Action = KeyEnforcement;
    const NOUN: &'static str = "active access key";
    const CREATED: &'static str = "created";
}

/// A key as the lifecycle sees it.
pub(super) fn credential(key: &AccessKey, records: &UserRecords) -> Credential {
    Credential {
        created: key.created,
        last_used: key.last_used,
        status: match key.status {
            KeyStatus::Active => Status::Active,
            KeyStatus::Inactive => Status::Inactive,
        },
        inactive_since: key
            .id
            .iam()
            .and_then(|id| records.inactive_since.get(id).copied()),
    }
}

/// A key's facts, for a change acting on it: only a key with an IAM id can be acted on.
pub(super) fn key_facts(key: &AccessKey, records: &UserRecords) -> Option<KeyFacts> {
    let id = key.id.iam()?.clone();
    Some(KeyFacts {
        inactive_since: records.inactive_since.get(&id).copied(),
        rotation: records.rotations.get(&id).cloned(),
        id,
        status: key.status,
        created: key.created,
        last_used: key.last_used,
    })
}

impl Context<'_> {
    /// The lifecycle of access keys under `[users.access_keys]`.
    pub(super) fn key_lifecycle(&self) -> Lifecycle<AccessKeys> {
        let key_rules = &self.rules.access_keys;
        let policy = Policy {
            max_age: key_rules.max_age_days.map(|days| Limit {
                rule: Rule::KeysMaxAge,
                days,
                action: key_rules.on_expired.into(),
            }),
            max_unused: key_rules.max_unused_days.map(|days| Limit {
                rule: Rule::KeysMaxUnused,
                days,
                action: key_rules.on_unused.into(),
            }),
            notice_days: key_rules.notice_days,
            delete_inactive: key_rules.delete_inactive.then_some(Grace {
                rule: Rule::KeysDeleteInactive,
                days: key_rules.delete_inactive_after_days,
            }),
        };
        Lifecycle::new(policy, self.as_of)
    }
}
