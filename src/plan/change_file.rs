//! The file form of a change (plan format `"1"`, SPEC "Plan"): [`ChangeSrc`], the `{address,
//! action, rule, before, after}` that plans print and saved plans hold, made from a [`Change`]
//! when a plan is written and checked back into one when a saved plan is read. Nothing but
//! this boundary reads a change as JSON.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use super::address::{Action, Address, Attribution};
use super::change::{
    Change, ChangeKind, CredentialFacts, DENY_WITHOUT_MFA_POLICY, KeyFacts, NewTrail, SecretTarget,
    ServerCertificateFacts,
};
use super::records::{
    RotationRecord, UNLISTED_SINCE_TAG, credential_inactive_since_tag, inactive_since_tag,
    rotation_tag,
};
use super::rule::Rule;
use crate::state::AccessKeyId;

impl Change {
    /// The file form of this change.
    pub fn to_src(&self) -> ChangeSrc {
        let (before, after) = before_after(&self.kind);
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

impl Serialize for Change {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.to_src().serialize(serializer)
    }
}

impl<'de> Deserialize<'de> for Change {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        Change::try_from(ChangeSrc::deserialize(deserializer)?).map_err(serde::de::Error::custom)
    }
}

/// The SPEC's `before` and `after` of the object at the change's address (`null` where it
/// does not exist).
fn before_after(kind: &ChangeKind) -> (Value, Value) {
    /// The fact types above have string keys and plain values: they always serialize.
    fn to_json<T: Serialize>(value: &T) -> Value {
        serde_json::to_value(value).expect("plan facts serialize to JSON")
    }
    let reset_flag = |on: bool| json!({ "password_reset_required": on });
    let attached = || json!({ "attached": true });
    match kind {
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
        ChangeKind::DeactivateCredential {
            credential,
            delete_on,
            ..
        } => {
            let mut after = json!({ "status": "Inactive" });
            if let Some(delete_on) = delete_on {
                after["delete_on"] = to_json(delete_on);
            }
            (to_json(credential), after)
        }
        ChangeKind::DeleteCredential { credential, .. } => (to_json(credential), Value::Null),
        ChangeKind::RecordInactiveCredential {
            credential,
            delete_on,
            ..
        } => (
            to_json(credential),
            json!({
                "tag": credential_inactive_since_tag(credential.kind, &credential.id),
                "delete_on": delete_on,
            }),
        ),
        ChangeKind::ForgetInactiveCredential {
            kind, id, since, ..
        } => (
            json!({"tag": credential_inactive_since_tag(*kind, id), "inactive_since": since}),
            Value::Null,
        ),
        ChangeKind::DeleteServerCertificate { certificate } => (to_json(certificate), Value::Null),
        ChangeKind::RecordUnlisted { due, .. } => {
            (Value::Null, json!({"tag": UNLISTED_SINCE_TAG, "due": due}))
        }
        ChangeKind::ForgetUnlisted { since, .. } => (
            json!({"tag": UNLISTED_SINCE_TAG, "unlisted_since": since}),
            Value::Null,
        ),
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
        let credential = |src: &ChangeSrc| -> Result<CredentialFacts, String> {
            let facts: CredentialFacts = facts(&src.before, "before", src)?;
            match &src.address {
                Address::Credential { kind, id, .. } if *kind == facts.kind && *id == facts.id => {
                    Ok(facts)
                }
                _ => Err(format!(
                    "{} {} acts on one credential, but its before names {} {}",
                    src.action, src.address, facts.kind, facts.id
                )),
            }
        };
        // When a deactivated key or credential will be deleted (`delete_inactive`), if said.
        let delete_on = |src: &ChangeSrc| -> Result<Option<DateTime<Utc>>, String> {
            src.after
                .get("delete_on")
                .map(|date| facts(date, "after", src))
                .transpose()
        };
        let not_planned = |src: &ChangeSrc| {
            format!(
                "iamctl makes no {} change at {}: this plan was not written by iamctl",
                src.action, src.address
            )
        };
        let no_record = |src: &ChangeSrc| {
            format!(
                "rule {} keeps no record in a tag at {}: this plan was not written by iamctl",
                src.rule, src.address
            )
        };
        let reading = RuleReading::of(src.rule);
        // Every address and every action is named: a new one does not compile until it is
        // decided here whether iamctl plans it.
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
            (
                Address::PasswordPolicy,
                Action::Deactivate
                | Action::Attach
                | Action::Detach
                | Action::ResetPassword
                | Action::Tag
                | Action::Untag
                | Action::Rotate,
            ) => return Err(not_planned(&src)),
            (Address::LoginProfile(user), Action::Create) => {
                ChangeKind::CreateLoginProfile { user: user.clone() }
            }
            (Address::LoginProfile(user), Action::Delete) => ChangeKind::DeleteLoginProfile {
                user: user.clone(),
                before: facts(&src.before, "before", &src)?,
            },
            (Address::LoginProfile(user), Action::ResetPassword) => ChangeKind::ResetPassword {
                user: user.clone(),
                with_tightening: reading == RuleReading::ResetWithTightening,
            },
            (
                Address::LoginProfile(_),
                Action::Update
                | Action::Deactivate
                | Action::Attach
                | Action::Detach
                | Action::Tag
                | Action::Untag
                | Action::Rotate,
            ) => return Err(not_planned(&src)),
            (Address::AccessKey { user, key_id }, Action::Deactivate) => {
                ChangeKind::DeactivateAccessKey {
                    user: user.clone(),
                    key: key(&src, key_id)?,
                    if_still_unused: reading == RuleReading::KeyStillUnused,
                    delete_on: delete_on(&src)?,
                }
            }
            (Address::AccessKey { user, key_id }, Action::Delete) => ChangeKind::DeleteAccessKey {
                user: user.clone(),
                key: key(&src, key_id)?,
                if_still_unused: reading == RuleReading::KeyStillUnused,
            },
            (Address::AccessKey { user, key_id }, Action::Tag) => match reading {
                RuleReading::RotationRecords => {
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
                RuleReading::InactiveRecords => ChangeKind::RecordInactiveKey {
                    user: user.clone(),
                    key: key(&src, key_id)?,
                    delete_on: facts(&src.after["delete_on"], "after", &src)?,
                },
                RuleReading::KeyStillUnused
                | RuleReading::ResetWithTightening
                | RuleReading::UnlistedRecords
                | RuleReading::Nothing => return Err(no_record(&src)),
            },
            (Address::AccessKey { user, key_id }, Action::Untag) => match reading {
                RuleReading::RotationRecords => ChangeKind::ForgetRotation {
                    user: user.clone(),
                    key_id: key_id.clone(),
                    record: facts(&src.before["value"], "before", &src)?,
                },
                RuleReading::InactiveRecords => ChangeKind::ForgetInactiveKey {
                    user: user.clone(),
                    key_id: key_id.clone(),
                    since: facts(&src.before["inactive_since"], "before", &src)?,
                },
                RuleReading::KeyStillUnused
                | RuleReading::ResetWithTightening
                | RuleReading::UnlistedRecords
                | RuleReading::Nothing => return Err(no_record(&src)),
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
            (
                Address::AccessKey { .. },
                Action::Create
                | Action::Update
                | Action::Attach
                | Action::Detach
                | Action::ResetPassword,
            ) => return Err(not_planned(&src)),
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
            // Another policy than iamctl's own, or an action iamctl takes on none.
            (
                Address::UserPolicy { .. },
                Action::Attach
                | Action::Detach
                | Action::Create
                | Action::Update
                | Action::Delete
                | Action::Deactivate
                | Action::ResetPassword
                | Action::Tag
                | Action::Untag
                | Action::Rotate,
            ) => return Err(not_planned(&src)),
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
            (
                Address::CloudTrail,
                Action::Delete
                | Action::Deactivate
                | Action::Attach
                | Action::Detach
                | Action::ResetPassword
                | Action::Tag
                | Action::Untag
                | Action::Rotate,
            ) => return Err(not_planned(&src)),
            (Address::Credential { user, .. }, Action::Deactivate) => {
                ChangeKind::DeactivateCredential {
                    user: user.clone(),
                    credential: credential(&src)?,
                    delete_on: delete_on(&src)?,
                }
            }
            (Address::Credential { user, .. }, Action::Delete) => ChangeKind::DeleteCredential {
                user: user.clone(),
                credential: credential(&src)?,
            },
            (Address::Credential { user, .. }, Action::Tag) => match reading {
                RuleReading::InactiveRecords => ChangeKind::RecordInactiveCredential {
                    user: user.clone(),
                    credential: credential(&src)?,
                    delete_on: facts(&src.after["delete_on"], "after", &src)?,
                },
                RuleReading::KeyStillUnused
                | RuleReading::ResetWithTightening
                | RuleReading::RotationRecords
                | RuleReading::UnlistedRecords
                | RuleReading::Nothing => return Err(no_record(&src)),
            },
            (Address::Credential { user, kind, id }, Action::Untag) => match reading {
                RuleReading::InactiveRecords => ChangeKind::ForgetInactiveCredential {
                    user: user.clone(),
                    kind: *kind,
                    id: id.clone(),
                    since: facts(&src.before["inactive_since"], "before", &src)?,
                },
                RuleReading::KeyStillUnused
                | RuleReading::ResetWithTightening
                | RuleReading::RotationRecords
                | RuleReading::UnlistedRecords
                | RuleReading::Nothing => return Err(no_record(&src)),
            },
            (
                Address::Credential { .. },
                Action::Create
                | Action::Update
                | Action::Attach
                | Action::Detach
                | Action::ResetPassword
                | Action::Rotate,
            ) => return Err(not_planned(&src)),
            (Address::ServerCertificate(name), Action::Delete) => {
                let certificate: ServerCertificateFacts = facts(&src.before, "before", &src)?;
                if &certificate.name != name {
                    return Err(format!(
                        "{} {} acts on one certificate, but its before names {}",
                        src.action, src.address, certificate.name
                    ));
                }
                ChangeKind::DeleteServerCertificate { certificate }
            }
            (
                Address::ServerCertificate(_),
                Action::Create
                | Action::Update
                | Action::Deactivate
                | Action::Attach
                | Action::Detach
                | Action::ResetPassword
                | Action::Tag
                | Action::Untag
                | Action::Rotate,
            ) => return Err(not_planned(&src)),
            (Address::User(user), Action::Tag) => match reading {
                RuleReading::UnlistedRecords => ChangeKind::RecordUnlisted {
                    user: user.clone(),
                    due: facts(&src.after["due"], "after", &src)?,
                },
                RuleReading::KeyStillUnused
                | RuleReading::ResetWithTightening
                | RuleReading::RotationRecords
                | RuleReading::InactiveRecords
                | RuleReading::Nothing => return Err(no_record(&src)),
            },
            (Address::User(user), Action::Untag) => match reading {
                RuleReading::UnlistedRecords => ChangeKind::ForgetUnlisted {
                    user: user.clone(),
                    since: facts(&src.before["unlisted_since"], "before", &src)?,
                },
                RuleReading::KeyStillUnused
                | RuleReading::ResetWithTightening
                | RuleReading::RotationRecords
                | RuleReading::InactiveRecords
                | RuleReading::Nothing => return Err(no_record(&src)),
            },
            (
                Address::User(_),
                Action::Create
                | Action::Update
                | Action::Delete
                | Action::Deactivate
                | Action::Attach
                | Action::Detach
                | Action::ResetPassword
                | Action::Rotate,
            ) => return Err(not_planned(&src)),
            // Findings' addresses: iamctl changes nothing there.
            (
                Address::Organization
                | Address::Root
                | Address::Account
                | Address::Group(_)
                | Address::Role(_),
                Action::Create
                | Action::Update
                | Action::Delete
                | Action::Deactivate
                | Action::Attach
                | Action::Detach
                | Action::ResetPassword
                | Action::Tag
                | Action::Untag
                | Action::Rotate,
            ) => return Err(not_planned(&src)),
        };
        Ok(Change {
            rule: src.rule,
            kind,
            owner: src.owner,
            attribution: src.attribution,
        })
    }
}

/// What the rule of a saved change says that its address and action do not: whether a key is
/// acted on only if still unused, whether a reset goes with a tightening policy, which record
/// a tag on a key is. Decided for every rule, so a new rule does not compile until it is
/// decided here.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum RuleReading {
    /// The key was flagged for not being used: apply checks it still has not been.
    KeyStillUnused,
    /// The reset goes with a tightening of the password policy.
    ResetWithTightening,
    /// A tag on a key is its rotation record ([`super::ROTATION_TAG`]).
    RotationRecords,
    /// A tag on a key is its inactive-since record ([`super::INACTIVE_SINCE_TAG`]).
    InactiveRecords,
    /// A tag on a user is its unlisted-since record ([`super::UNLISTED_SINCE_TAG`]).
    UnlistedRecords,
    /// Nothing beyond the address and the action.
    Nothing,
}

impl RuleReading {
    fn of(rule: Rule) -> Self {
        match rule {
            Rule::KeysMaxUnused => RuleReading::KeyStillUnused,
            Rule::UsersInventory => RuleReading::UnlistedRecords,
            Rule::ConsoleResetOnTightening => RuleReading::ResetWithTightening,
            Rule::KeysRotation => RuleReading::RotationRecords,
            Rule::KeysDeleteInactive
            | Rule::ServiceCredentialsDeleteInactive
            | Rule::SshKeysDeleteInactive => RuleReading::InactiveRecords,
            Rule::PasswordPolicy
            | Rule::PasswordPolicyAbsent
            | Rule::ConsoleRequireMfa
            | Rule::ConsoleMaxUnused
            | Rule::KeysMaxAge
            | Rule::KeysMaxActive
            | Rule::User
            | Rule::UserConsole
            | Rule::UserPasswordReset
            | Rule::AuditCloudTrail
            | Rule::AuditCloudTrailCreate
            | Rule::RootForbidAccessKeys
            | Rule::RootRequireMfa
            | Rule::RootRequireHardwareMfa
            | Rule::RootMaxUsed
            | Rule::UsersForbidDirectPolicies
            | Rule::AuditForbidFullAdmin
            | Rule::AuditRequireSupportRole
            | Rule::ServiceCredentialsMaxAge
            | Rule::ServiceCredentialsAllowedServices
            | Rule::ServiceCredentialsRequireExpiry
            | Rule::SshKeysMaxAge
            | Rule::SigningCertificatesForbid
            | Rule::MfaAllUsers
            | Rule::ServerCertificatesDeleteExpired
            | Rule::UsersException
            | Rule::BreakGlassMfa
            | Rule::BreakGlassAccessKey
            | Rule::BreakGlassPolicies
            | Rule::BreakGlassUsed
            | Rule::UsersRequireTags
            | Rule::KeysForbidSetupKeys
            | Rule::AuditSecurityContact
            | Rule::AuditAccessAnalyzer
            | Rule::AuditForbidCloudShell
            | Rule::AuditForbidServiceWildcards
            | Rule::OrganizationRootAccess => RuleReading::Nothing,
        }
    }
}

#[cfg(test)]
mod tests;
