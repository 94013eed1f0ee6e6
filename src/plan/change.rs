//! A change as data: what `apply` will do ([`ChangeKind`], one variant per kind of change,
//! carrying the typed facts it acts on) and why ([`Rule`]). Apply, the confirming reads and
//! the renderers match on the kind exhaustively; nothing reads a change back from JSON.
//!
//! JSON exists only at the file boundary: [`ChangeSrc`] is the SPEC's `{address, action, rule,
//! before, after}` form of a change (plan format `"1"`), made when a plan is printed or saved
//! and checked back into a [`Change`] when a saved plan is read, as Terraform's
//! `ChangeSrc`/`Change` split does.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use super::address::{Action, Address, Attribution};
use super::rule::Rule;
use crate::state::{AccessKeyId, KeyStatus, PasswordPolicy};

/// The customer-managed policy that `without_mfa = "deny-until-mfa"` attaches.
pub const DENY_WITHOUT_MFA_POLICY: &str = "iamctl-deny-without-mfa";

/// Timing state lives in the account, as user tags: `iamctl:inactive-since:AKID` holds when a
/// key became inactive (iamctl deactivated it, or a run first saw it inactive), RFC 3339.
/// Every runner sees it, and a killed run cannot lose it.
pub const INACTIVE_SINCE_TAG: &str = "iamctl:inactive-since:";

/// The tag recording when `key` became inactive.
pub fn inactive_since_tag(key: &AccessKeyId) -> String {
    format!("{INACTIVE_SINCE_TAG}{key}")
}

/// A key rotation's record, a user tag `iamctl:rotation:OLDKEY` (see `plan::rotation`):
/// `pending@TIME` from just before the new key is created until it is delivered, then
/// `NEWKEY@TIME`. One tag whose value moves in one `TagUser`, so a killed run leaves one
/// state or the other, never both.
pub const ROTATION_TAG: &str = "iamctl:rotation:";

/// The tag recording the rotation of `key`.
pub fn rotation_tag(key: &AccessKeyId) -> String {
    format!("{ROTATION_TAG}{key}")
}

/// What a rotation record says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RotationRecord {
    /// Apply is about to create a new key (or did, and was stopped before delivering it).
    Pending { since: DateTime<Utc> },
    /// The new key `to` was delivered to the secret at `at`.
    Rotated { to: AccessKeyId, at: DateTime<Utc> },
}

const PENDING: &str = "pending";

impl RotationRecord {
    /// When the rotation started (pending) or delivered its key.
    pub fn at(&self) -> DateTime<Utc> {
        match self {
            RotationRecord::Pending { since } => *since,
            RotationRecord::Rotated { at, .. } => *at,
        }
    }
}

impl std::fmt::Display for RotationRecord {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let stamp = |at: &DateTime<Utc>| at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
        match self {
            RotationRecord::Pending { since } => write!(f, "{PENDING}@{}", stamp(since)),
            RotationRecord::Rotated { to, at } => write!(f, "{to}@{}", stamp(at)),
        }
    }
}

impl std::str::FromStr for RotationRecord {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let bad = || format!("not a rotation record: {s:?}");
        let (what, at) = s.split_once('@').ok_or_else(bad)?;
        let at: DateTime<Utc> = at.parse().map_err(|_| bad())?;
        if what == PENDING {
            return Ok(RotationRecord::Pending { since: at });
        }
        let to = AccessKeyId::new(what).map_err(|_| bad())?;
        Ok(RotationRecord::Rotated { to, at })
    }
}

impl Serialize for RotationRecord {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for RotationRecord {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        String::deserialize(deserializer)?
            .parse()
            .map_err(serde::de::Error::custom)
    }
}

/// Where a rotation delivers the new key: the secret, who may read it, its KMS key.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SecretTarget {
    pub secret_name: String,
    /// The principals the secret's resource policy lets read it: the user, then `readers`.
    pub readers: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kms_key_id: Option<String>,
}

/// An access key as the plan saw it: the key a change acts on.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KeyFacts {
    pub id: AccessKeyId,
    pub status: KeyStatus,
    pub created: DateTime<Utc>,
    /// `None`: never used.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_used: Option<DateTime<Utc>>,
    /// When the key became inactive, as recorded in the account ([`INACTIVE_SINCE_TAG`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub inactive_since: Option<DateTime<Utc>>,
    /// The key's rotation record ([`ROTATION_TAG`]), if it has one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rotation: Option<RotationRecord>,
}

/// A login profile as the plan saw it, with the password's last use.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProfileFacts {
    pub created: DateTime<Utc>,
    pub password_reset_required: bool,
    /// `None`: never used.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub password_last_used: Option<DateTime<Utc>>,
}

/// The trail `[audit.cloudtrail] create` makes: multi-region, delivering to an existing bucket.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewTrail {
    pub name: String,
    pub s3_bucket: String,
}

/// The settings of an existing trail that `[audit.cloudtrail] create` puts right.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TrailSettings {
    pub name: String,
    /// The region the trail is changed in.
    pub home_region: String,
    pub is_multi_region: bool,
    pub is_logging: bool,
}

/// What `apply` does, one variant per kind of change. The address and the action follow from
/// the variant ([`ChangeKind::address`], [`ChangeKind::action`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ChangeKind {
    /// `UpdateAccountPasswordPolicy` where the account has no policy.
    CreatePasswordPolicy {
        after: PasswordPolicy,
    },
    /// `UpdateAccountPasswordPolicy`, whole (IAM has no partial update).
    UpdatePasswordPolicy {
        before: PasswordPolicy,
        after: PasswordPolicy,
    },
    DeletePasswordPolicy {
        before: PasswordPolicy,
    },
    /// A console password, generated, with `PasswordResetRequired`.
    CreateLoginProfile {
        user: String,
    },
    DeleteLoginProfile {
        user: String,
        before: ProfileFacts,
    },
    /// Set `PasswordResetRequired` on the existing login profile.
    ResetPassword {
        user: String,
        /// The reset goes with a tightening of the password policy in the same plan: apply
        /// holds the policy back when the reset does not happen, because once the stricter
        /// policy is in force no later plan would ask for the reset again.
        with_tightening: bool,
    },
    /// Deactivate, then record when ([`INACTIVE_SINCE_TAG`]): the deletion grace counts from it.
    DeactivateAccessKey {
        user: String,
        key: KeyFacts,
        /// The key was flagged for not being used: apply first checks that it still has not
        /// been (a workload that just started using it must not break).
        if_still_unused: bool,
        /// When `delete_inactive` will delete the key, counted from this plan.
        delete_on: Option<DateTime<Utc>>,
    },
    DeleteAccessKey {
        user: String,
        key: KeyFacts,
        /// As for [`ChangeKind::DeactivateAccessKey`].
        if_still_unused: bool,
    },
    /// Attach [`DENY_WITHOUT_MFA_POLICY`] (created if missing).
    AttachDenyPolicy {
        user: String,
    },
    DetachDenyPolicy {
        user: String,
    },
    /// `CreateTrail` and `StartLogging`.
    CreateTrail {
        trail: NewTrail,
    },
    /// `UpdateTrail` (multi-region) and/or `StartLogging`, in the trail's home region.
    UpdateTrail {
        before: TrailSettings,
        after: TrailSettings,
    },
    /// Record that an inactive key was first seen inactive now: its deletion grace starts.
    RecordInactiveKey {
        user: String,
        key: KeyFacts,
        /// When `delete_inactive` will delete it, counted from this plan.
        delete_on: DateTime<Utc>,
    },
    /// Remove a record that no longer holds (the key is active again, or gone).
    ForgetInactiveKey {
        user: String,
        key_id: AccessKeyId,
        since: DateTime<Utc>,
    },
    /// Record the intent ([`RotationRecord::Pending`]), create a key, store it as the secret's
    /// new current version (the secret created with its resource policy on first use), record
    /// the rotation ([`RotationRecord::Rotated`]). The old key stays active: later runs retire
    /// it. A key whose storing fails is deleted at once.
    RotateAccessKey {
        user: String,
        key: KeyFacts,
        secret: SecretTarget,
        /// When the old key will be deactivated at the latest (sooner once the new key is
        /// used): now plus `overlap_days`.
        deactivate_on: DateTime<Utc>,
    },
    /// A rotation stopped between delivering its key and recording it: record it now.
    RecordRotation {
        user: String,
        key: KeyFacts,
        new_key: AccessKeyId,
        /// When the rotation started (its pending record).
        at: DateTime<Utc>,
    },
    /// Remove a rotation record that no longer holds (its key is gone, or the rotation it
    /// announced never delivered a key and none is due now).
    ForgetRotation {
        user: String,
        key_id: AccessKeyId,
        record: RotationRecord,
    },
}

impl ChangeKind {
    /// The kind with the dates it only announces set to one value (see
    /// [`Change::same_change`]): apply acts the same whatever they say.
    fn without_announced_dates(&self) -> ChangeKind {
        let mut kind = self.clone();
        match &mut kind {
            ChangeKind::DeactivateAccessKey { delete_on, .. } => {
                if let Some(date) = delete_on.as_mut() {
                    *date = DateTime::UNIX_EPOCH;
                }
            }
            ChangeKind::RecordInactiveKey { delete_on, .. } => *delete_on = DateTime::UNIX_EPOCH,
            ChangeKind::RotateAccessKey { deactivate_on, .. } => {
                *deactivate_on = DateTime::UNIX_EPOCH
            }
            ChangeKind::CreatePasswordPolicy { .. }
            | ChangeKind::UpdatePasswordPolicy { .. }
            | ChangeKind::DeletePasswordPolicy { .. }
            | ChangeKind::CreateLoginProfile { .. }
            | ChangeKind::DeleteLoginProfile { .. }
            | ChangeKind::ResetPassword { .. }
            | ChangeKind::DeleteAccessKey { .. }
            | ChangeKind::AttachDenyPolicy { .. }
            | ChangeKind::DetachDenyPolicy { .. }
            | ChangeKind::CreateTrail { .. }
            | ChangeKind::UpdateTrail { .. }
            | ChangeKind::ForgetInactiveKey { .. }
            | ChangeKind::RecordRotation { .. }
            | ChangeKind::ForgetRotation { .. } => {}
        }
        kind
    }

    pub fn action(&self) -> Action {
        match self {
            ChangeKind::RecordInactiveKey { .. } | ChangeKind::RecordRotation { .. } => Action::Tag,
            ChangeKind::ForgetInactiveKey { .. } | ChangeKind::ForgetRotation { .. } => {
                Action::Untag
            }
            ChangeKind::RotateAccessKey { .. } => Action::Rotate,
            ChangeKind::CreatePasswordPolicy { .. }
            | ChangeKind::CreateLoginProfile { .. }
            | ChangeKind::CreateTrail { .. } => Action::Create,
            ChangeKind::UpdatePasswordPolicy { .. } | ChangeKind::UpdateTrail { .. } => {
                Action::Update
            }
            ChangeKind::DeletePasswordPolicy { .. }
            | ChangeKind::DeleteLoginProfile { .. }
            | ChangeKind::DeleteAccessKey { .. } => Action::Delete,
            ChangeKind::ResetPassword { .. } => Action::ResetPassword,
            ChangeKind::DeactivateAccessKey { .. } => Action::Deactivate,
            ChangeKind::AttachDenyPolicy { .. } => Action::Attach,
            ChangeKind::DetachDenyPolicy { .. } => Action::Detach,
        }
    }

    pub fn address(&self) -> Address {
        match self {
            ChangeKind::CreatePasswordPolicy { .. }
            | ChangeKind::UpdatePasswordPolicy { .. }
            | ChangeKind::DeletePasswordPolicy { .. } => Address::PasswordPolicy,
            ChangeKind::CreateLoginProfile { user }
            | ChangeKind::DeleteLoginProfile { user, .. }
            | ChangeKind::ResetPassword { user, .. } => Address::LoginProfile(user.clone()),
            ChangeKind::DeactivateAccessKey { user, key, .. }
            | ChangeKind::DeleteAccessKey { user, key, .. }
            | ChangeKind::RecordInactiveKey { user, key, .. }
            | ChangeKind::RotateAccessKey { user, key, .. }
            | ChangeKind::RecordRotation { user, key, .. } => Address::AccessKey {
                user: user.clone(),
                key_id: key.id.clone(),
            },
            ChangeKind::ForgetInactiveKey { user, key_id, .. }
            | ChangeKind::ForgetRotation { user, key_id, .. } => Address::AccessKey {
                user: user.clone(),
                key_id: key_id.clone(),
            },
            ChangeKind::AttachDenyPolicy { user } | ChangeKind::DetachDenyPolicy { user } => {
                Address::UserPolicy {
                    user: user.clone(),
                    policy: DENY_WITHOUT_MFA_POLICY.to_owned(),
                }
            }
            ChangeKind::CreateTrail { .. } | ChangeKind::UpdateTrail { .. } => Address::CloudTrail,
        }
    }

    /// The user the change is about, if any.
    pub fn user(&self) -> Option<&str> {
        match self {
            ChangeKind::CreateLoginProfile { user }
            | ChangeKind::DeleteLoginProfile { user, .. }
            | ChangeKind::ResetPassword { user, .. }
            | ChangeKind::DeactivateAccessKey { user, .. }
            | ChangeKind::DeleteAccessKey { user, .. }
            | ChangeKind::AttachDenyPolicy { user }
            | ChangeKind::DetachDenyPolicy { user }
            | ChangeKind::RecordInactiveKey { user, .. }
            | ChangeKind::ForgetInactiveKey { user, .. }
            | ChangeKind::RotateAccessKey { user, .. }
            | ChangeKind::RecordRotation { user, .. }
            | ChangeKind::ForgetRotation { user, .. } => Some(user),
            ChangeKind::CreatePasswordPolicy { .. }
            | ChangeKind::UpdatePasswordPolicy { .. }
            | ChangeKind::DeletePasswordPolicy { .. }
            | ChangeKind::CreateTrail { .. }
            | ChangeKind::UpdateTrail { .. } => None,
        }
    }

    /// A `reset_password` asked by a tightening password policy (not by a `[[user]]` entry).
    pub fn is_tightening_reset(&self) -> bool {
        matches!(
            self,
            ChangeKind::ResetPassword {
                with_tightening: true,
                ..
            }
        )
    }

    /// The password policy before and after, for a change of the policy; `None` for every
    /// other kind of change.
    #[allow(clippy::type_complexity)]
    pub fn password_policy(&self) -> Option<(Option<&PasswordPolicy>, Option<&PasswordPolicy>)> {
        match self {
            ChangeKind::CreatePasswordPolicy { after } => Some((None, Some(after))),
            ChangeKind::UpdatePasswordPolicy { before, after } => Some((Some(before), Some(after))),
            ChangeKind::DeletePasswordPolicy { before } => Some((Some(before), None)),
            ChangeKind::CreateLoginProfile { .. }
            | ChangeKind::DeleteLoginProfile { .. }
            | ChangeKind::ResetPassword { .. }
            | ChangeKind::DeactivateAccessKey { .. }
            | ChangeKind::DeleteAccessKey { .. }
            | ChangeKind::AttachDenyPolicy { .. }
            | ChangeKind::DetachDenyPolicy { .. }
            | ChangeKind::CreateTrail { .. }
            | ChangeKind::UpdateTrail { .. }
            | ChangeKind::RecordInactiveKey { .. }
            | ChangeKind::ForgetInactiveKey { .. }
            | ChangeKind::RotateAccessKey { .. }
            | ChangeKind::RecordRotation { .. }
            | ChangeKind::ForgetRotation { .. } => None,
        }
    }

    /// The SPEC's `before` and `after` of the object at the change's address (`null` where it
    /// does not exist).
    fn before_after(&self) -> (Value, Value) {
        /// The fact types above have string keys and plain values: they always serialize.
        fn to_json<T: Serialize>(value: &T) -> Value {
            serde_json::to_value(value).expect("plan facts serialize to JSON")
        }
        let reset_flag = |on: bool| json!({ "password_reset_required": on });
        let attached = || json!({ "attached": true });
        match self {
            ChangeKind::CreatePasswordPolicy { after } => (Value::Null, to_json(after)),
            ChangeKind::UpdatePasswordPolicy { before, after } => (to_json(before), to_json(after)),
            ChangeKind::DeletePasswordPolicy { before } => (to_json(before), Value::Null),
            ChangeKind::CreateLoginProfile { .. } => (Value::Null, reset_flag(true)),
            ChangeKind::DeleteLoginProfile { before, .. } => (to_json(before), Value::Null),
            ChangeKind::ResetPassword { .. } => (reset_flag(false), reset_flag(true)),
            ChangeKind::DeactivateAccessKey { key, delete_on, .. } => {
                let mut after = json!({ "status": "Inactive" });
                if let Some(delete_on) = delete_on {
                    after["delete_on"] = to_json(delete_on);
                }
                (to_json(key), after)
            }
            ChangeKind::DeleteAccessKey { key, .. } => (to_json(key), Value::Null),
            ChangeKind::AttachDenyPolicy { .. } => (Value::Null, attached()),
            ChangeKind::DetachDenyPolicy { .. } => (attached(), Value::Null),
            ChangeKind::CreateTrail { trail } => (
                Value::Null,
                json!({"name": trail.name, "s3_bucket": trail.s3_bucket, "is_multi_region": true}),
            ),
            ChangeKind::UpdateTrail { before, after } => (to_json(before), to_json(after)),
            ChangeKind::RecordInactiveKey { key, delete_on, .. } => (
                to_json(key),
                json!({"tag": inactive_since_tag(&key.id), "delete_on": delete_on}),
            ),
            ChangeKind::ForgetInactiveKey { key_id, since, .. } => (
                json!({"tag": inactive_since_tag(key_id), "inactive_since": since}),
                Value::Null,
            ),
            // The secret's name, never its value.
            ChangeKind::RotateAccessKey {
                key,
                secret,
                deactivate_on,
                ..
            } => {
                let mut after = to_json(secret);
                after["deactivate_on"] = to_json(deactivate_on);
                (to_json(key), after)
            }
            ChangeKind::RecordRotation {
                key, new_key, at, ..
            } => {
                let record = RotationRecord::Rotated {
                    to: new_key.clone(),
                    at: *at,
                };
                (
                    to_json(key),
                    json!({"tag": rotation_tag(&key.id), "value": record.to_string()}),
                )
            }
            ChangeKind::ForgetRotation { key_id, record, .. } => (
                json!({"tag": rotation_tag(key_id), "value": record.to_string()}),
                Value::Null,
            ),
        }
    }
}

/// One change `apply` would make, and the rule that asked for it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(try_from = "ChangeSrc", into = "ChangeSrc")]
pub struct Change {
    pub rule: Rule,
    pub kind: ChangeKind,
    /// Who answers for the user the change is about (`[users] owner_tag`, `default_owner`);
    /// not compared when a saved plan is checked for staleness.
    pub owner: Option<String>,
    /// Who last changed the object, from CloudTrail (`plan --explain`); never compared
    /// when a saved plan is checked for staleness.
    pub attribution: Option<Attribution>,
}

impl Change {
    pub fn new(rule: Rule, kind: ChangeKind) -> Self {
        Self {
            rule,
            kind,
            owner: None,
            attribution: None,
        }
    }

    pub fn address(&self) -> Address {
        self.kind.address()
    }

    pub fn action(&self) -> Action {
        self.kind.action()
    }

    /// Equal as changes `apply` would make: attribution aside, and the dates a change only
    /// announces (when a deactivated key will be deleted, when a rotated key will be
    /// deactivated), which count from the plan's `as_of` and so move between a saved plan
    /// and the fresh one apply makes seconds or days later.
    pub fn same_change(&self, other: &Change) -> bool {
        self.rule == other.rule
            && self.kind.without_announced_dates() == other.kind.without_announced_dates()
    }

    /// The file form of this change.
    pub fn to_src(&self) -> ChangeSrc {
        let (before, after) = self.kind.before_after();
        ChangeSrc {
            address: self.address(),
            action: self.action(),
            rule: self.rule,
            controls: super::controls::control_ids(self.rule),
            owner: self.owner.clone(),
            before,
            after,
            attribution: self.attribution.clone(),
        }
    }
}

/// A change in the plan file's form (SPEC "Plan"): `before`/`after` describe the object at
/// `address`, JSON `null` where it does not exist.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ChangeSrc {
    pub address: Address,
    pub action: Action,
    pub rule: Rule,
    /// The CIS controls of the rule (`plan::controls`): written for readers, ignored when a
    /// saved plan is read (they follow from the rule); left out when there are none, so plan
    /// format `"1"` stays as it was.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub controls: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub owner: Option<String>,
    pub before: Value,
    pub after: Value,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub attribution: Option<Attribution>,
}

impl From<Change> for ChangeSrc {
    fn from(change: Change) -> Self {
        change.to_src()
    }
}

impl TryFrom<ChangeSrc> for Change {
    type Error = String;

    /// Reads a saved change back: the address and action say which kind it is, `before` and
    /// `after` must hold that kind's facts. A change iamctl could not have planned is refused
    /// here, when the plan file is read, rather than half-way through an apply.
    fn try_from(src: ChangeSrc) -> Result<Self, Self::Error> {
        fn facts<T: serde::de::DeserializeOwned>(
            value: &Value,
            side: &str,
            src: &ChangeSrc,
        ) -> Result<T, String> {
            serde_json::from_value(value.clone()).map_err(|e| {
                format!(
                    "the {side} of {} {} is not what that change holds: {e}",
                    src.action, src.address
                )
            })
        }
        let key = |src: &ChangeSrc, key_id: &AccessKeyId| -> Result<KeyFacts, String> {
            let key: KeyFacts = facts(&src.before, "before", src)?;
            if &key.id != key_id {
                return Err(format!(
                    "{} {} acts on key {}, but its before names key {}",
                    src.action, src.address, key_id, key.id
                ));
            }
            Ok(key)
        };
        let kind = match (&src.address, src.action) {
            (Address::PasswordPolicy, Action::Create) => ChangeKind::CreatePasswordPolicy {
                after: facts(&src.after, "after", &src)?,
            },
            (Address::PasswordPolicy, Action::Update) => ChangeKind::UpdatePasswordPolicy {
                before: facts(&src.before, "before", &src)?,
                after: facts(&src.after, "after", &src)?,
            },
            (Address::PasswordPolicy, Action::Delete) => ChangeKind::DeletePasswordPolicy {
                before: facts(&src.before, "before", &src)?,
            },
            (Address::LoginProfile(user), Action::Create) => {
                ChangeKind::CreateLoginProfile { user: user.clone() }
            }
            (Address::LoginProfile(user), Action::Delete) => ChangeKind::DeleteLoginProfile {
                user: user.clone(),
                before: facts(&src.before, "before", &src)?,
            },
            (Address::LoginProfile(user), Action::ResetPassword) => ChangeKind::ResetPassword {
                user: user.clone(),
                with_tightening: src.rule == Rule::ConsoleResetOnTightening,
            },
            (Address::AccessKey { user, key_id }, Action::Deactivate) => {
                ChangeKind::DeactivateAccessKey {
                    user: user.clone(),
                    key: key(&src, key_id)?,
                    if_still_unused: src.rule == Rule::KeysMaxUnused,
                    delete_on: match src.after.get("delete_on") {
                        Some(date) => Some(facts(date, "after", &src)?),
                        None => None,
                    },
                }
            }
            (Address::AccessKey { user, key_id }, Action::Tag)
                if src.rule == Rule::KeysRotation =>
            {
                let record: RotationRecord = facts(&src.after["value"], "after", &src)?;
                let RotationRecord::Rotated { to, at } = record else {
                    return Err(format!(
                        "tag {} records no delivered key: this plan was not written by iamctl",
                        src.address
                    ));
                };
                ChangeKind::RecordRotation {
                    user: user.clone(),
                    key: key(&src, key_id)?,
                    new_key: to,
                    at,
                }
            }
            (Address::AccessKey { user, key_id }, Action::Tag) => ChangeKind::RecordInactiveKey {
                user: user.clone(),
                key: key(&src, key_id)?,
                delete_on: facts(&src.after["delete_on"], "after", &src)?,
            },
            (Address::AccessKey { user, key_id }, Action::Untag)
                if src.rule == Rule::KeysRotation =>
            {
                ChangeKind::ForgetRotation {
                    user: user.clone(),
                    key_id: key_id.clone(),
                    record: facts(&src.before["value"], "before", &src)?,
                }
            }
            (Address::AccessKey { user, key_id }, Action::Untag) => ChangeKind::ForgetInactiveKey {
                user: user.clone(),
                key_id: key_id.clone(),
                since: facts(&src.before["inactive_since"], "before", &src)?,
            },
            (Address::AccessKey { user, key_id }, Action::Rotate) => {
                #[derive(Deserialize)]
                #[serde(deny_unknown_fields)]
                struct After {
                    secret_name: String,
                    readers: Vec<String>,
                    #[serde(default)]
                    kms_key_id: Option<String>,
                    deactivate_on: DateTime<Utc>,
                }
                let after: After = facts(&src.after, "after", &src)?;
                ChangeKind::RotateAccessKey {
                    user: user.clone(),
                    key: key(&src, key_id)?,
                    secret: SecretTarget {
                        secret_name: after.secret_name,
                        readers: after.readers,
                        kms_key_id: after.kms_key_id,
                    },
                    deactivate_on: after.deactivate_on,
                }
            }
            (Address::AccessKey { user, key_id }, Action::Delete) => ChangeKind::DeleteAccessKey {
                user: user.clone(),
                key: key(&src, key_id)?,
                if_still_unused: src.rule == Rule::KeysMaxUnused,
            },
            (Address::UserPolicy { user, policy }, Action::Attach)
                if policy == DENY_WITHOUT_MFA_POLICY =>
            {
                ChangeKind::AttachDenyPolicy { user: user.clone() }
            }
            (Address::UserPolicy { user, policy }, Action::Detach)
                if policy == DENY_WITHOUT_MFA_POLICY =>
            {
                ChangeKind::DetachDenyPolicy { user: user.clone() }
            }
            (Address::CloudTrail, Action::Create) => {
                #[derive(Deserialize)]
                struct Created {
                    name: String,
                    s3_bucket: String,
                    #[allow(dead_code)] // always true: iamctl only makes multi-region trails
                    is_multi_region: bool,
                }
                let created: Created = facts(&src.after, "after", &src)?;
                ChangeKind::CreateTrail {
                    trail: NewTrail {
                        name: created.name,
                        s3_bucket: created.s3_bucket,
                    },
                }
            }
            (Address::CloudTrail, Action::Update) => ChangeKind::UpdateTrail {
                before: facts(&src.before, "before", &src)?,
                after: facts(&src.after, "after", &src)?,
            },
            (address, action) => {
                return Err(format!(
                    "iamctl makes no {action} change at {address}: this plan was not written by iamctl"
                ));
            }
        };
        Ok(Change {
            rule: src.rule,
            kind,
            owner: src.owner,
            attribution: src.attribution,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A change as iamctl writes it to a plan file (with its rule's controls).
    fn src(address: &str, action: Action, rule: Rule, before: Value, after: Value) -> ChangeSrc {
        ChangeSrc {
            address: address.parse().unwrap(),
            action,
            rule,
            controls: crate::plan::controls::control_ids(rule),
            owner: None,
            before,
            after,
            attribution: None,
        }
    }

    #[test]
    fn saved_changes_read_back_into_the_same_change() {
        let key = json!({"id": "AKIA1", "status": "Active", "created": "2025-01-10T00:00:00Z"});
        let saved = src(
            "user.bob.access_key.AKIA1",
            Action::Deactivate,
            Rule::KeysMaxUnused,
            key,
            json!({"status": "Inactive"}),
        );
        let change = Change::try_from(saved.clone()).unwrap();
        assert!(matches!(
            change.kind,
            ChangeKind::DeactivateAccessKey {
                if_still_unused: true,
                ..
            }
        ));
        assert_eq!(change.to_src(), saved);
    }

    #[test]
    fn a_rotation_reads_back_and_its_announced_date_does_not_make_a_plan_stale() {
        let key = json!({"id": "AKIA1", "status": "Active", "created": "2025-01-10T00:00:00Z"});
        let after = |date: &str| json!({"secret_name": "iamctl/111111111111/bob", "readers": ["arn:aws:iam::111111111111:user/bob"], "deactivate_on": date});
        let saved = src(
            "user.bob.access_key.AKIA1",
            Action::Rotate,
            Rule::KeysMaxAge,
            key.clone(),
            after("2026-03-08T00:00:00Z"),
        );
        let change = Change::try_from(saved.clone()).unwrap();
        assert_eq!(change.to_src(), saved);
        let fresh = Change::try_from(src(
            "user.bob.access_key.AKIA1",
            Action::Rotate,
            Rule::KeysMaxAge,
            key,
            after("2026-03-08T00:00:41Z"),
        ))
        .unwrap();
        assert!(change.same_change(&fresh));
        assert_ne!(change, fresh);
    }

    #[test]
    fn changes_iamctl_cannot_have_planned_are_refused_with_the_reason() {
        let refused = |saved: ChangeSrc| Change::try_from(saved).unwrap_err();
        assert_eq!(
            refused(src(
                "user.bob.policy.AdministratorAccess",
                Action::Attach,
                Rule::ConsoleRequireMfa,
                Value::Null,
                json!({"attached": true}),
            )),
            "iamctl makes no attach change at user.bob.policy.AdministratorAccess: this plan was not written by iamctl"
        );
        assert_eq!(
            refused(src(
                "user.bob.access_key.AKIA1",
                Action::Delete,
                Rule::KeysMaxAge,
                json!({"id": "AKIA2", "status": "Active", "created": "2025-01-10T00:00:00Z"}),
                Value::Null,
            )),
            "delete user.bob.access_key.AKIA1 acts on key AKIA1, but its before names key AKIA2"
        );
        let incomplete = refused(src(
            "password_policy",
            Action::Update,
            Rule::PasswordPolicy,
            json!({"minimum_length": 8}),
            json!({"minimum_length": 14}),
        ));
        assert!(
            incomplete.starts_with(
                "the before of update password_policy is not what that change holds: missing field"
            ),
            "{incomplete}"
        );
    }
}
