//! A change as data: what `apply` will do ([`ChangeKind`], one variant per kind of change,
//! carrying the typed facts it acts on) and why ([`Rule`]). Apply, the confirming reads and
//! the renderers match on the kind exhaustively; nothing reads a change back from JSON.
//!
//! JSON exists only at the file boundary, `plan::change_file`: [`ChangeSrc`](super::ChangeSrc)
//! is the SPEC's `{address, action, rule, before, after}` form of a change, made when a plan is
//! printed or saved and checked back into a [`Change`] when a saved plan is read, as
//! Terraform's `ChangeSrc`/`Change` split does.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::address::{Action, Address, Attribution};
use super::records::RotationRecord;
use super::rule::Rule;
use crate::state::{AccessKeyId, CredentialType, KeyStatus, LoginProfile, PasswordPolicy, User};

/// The customer-managed policy that `without_mfa = "deny-until-mfa"` attaches.
pub const DENY_WITHOUT_MFA_POLICY: &str = "iamctl-deny-without-mfa";

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
    /// When the key became inactive, as recorded in the account
    /// ([`super::records::INACTIVE_SINCE_TAG`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub inactive_since: Option<DateTime<Utc>>,
    /// The key's rotation record ([`super::records::ROTATION_TAG`]), if it has one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rotation: Option<RotationRecord>,
}

/// Whether a credential of another kind works, as the plan saw it: `Expired` is a service
/// credential past its `ExpirationDate` (a Bedrock API key).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum CredentialStatus {
    Active,
    Inactive,
    Expired,
}

/// A service-specific credential, SSH public key or signing certificate as the plan saw it:
/// the credential a change acts on. Never a secret: IAM does not return one on a list.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CredentialFacts {
    pub kind: CredentialType,
    pub id: String,
    pub status: CredentialStatus,
    /// Created (a service credential) or uploaded (an SSH key, a certificate).
    pub created: DateTime<Utc>,
    /// A service credential's `ServiceName`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub service: Option<String>,
    /// When it became inactive, as recorded in the account
    /// ([`super::records::credential_inactive_since_tag`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub inactive_since: Option<DateTime<Utc>>,
}

/// A server certificate as the plan saw it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ServerCertificateFacts {
    pub name: String,
    pub id: String,
    pub expires: DateTime<Utc>,
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

impl ProfileFacts {
    /// `user`'s login profile `profile` as a plan records it.
    pub fn of(user: &User, profile: &LoginProfile) -> Self {
        Self {
            created: profile.created,
            password_reset_required: profile.password_reset_required,
            password_last_used: user.password_last_used,
        }
    }
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
    /// Deactivate, then record when ([`super::records::INACTIVE_SINCE_TAG`]): the deletion
    /// grace counts from it.
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
    /// Deactivate a service-specific credential, SSH key or signing certificate with its
    /// kind's own call (`UpdateServiceSpecificCredential`, `UpdateSSHPublicKey`,
    /// `UpdateSigningCertificate`), then, under `delete_inactive`, record when.
    DeactivateCredential {
        user: String,
        credential: CredentialFacts,
        /// When `delete_inactive` will delete it, counted from this plan.
        delete_on: Option<DateTime<Utc>>,
    },
    /// Delete one with its kind's own call (`DeleteServiceSpecificCredential`,
    /// `DeleteSSHPublicKey`, `DeleteSigningCertificate`), and its record.
    DeleteCredential {
        user: String,
        credential: CredentialFacts,
    },
    /// Record that an inactive (or expired) credential was first seen so now.
    RecordInactiveCredential {
        user: String,
        credential: CredentialFacts,
        delete_on: DateTime<Utc>,
    },
    /// Remove a record that no longer holds (the credential is active again, or gone).
    ForgetInactiveCredential {
        user: String,
        kind: CredentialType,
        id: String,
        since: DateTime<Utc>,
    },
    /// Record that the user was first found outside `[users.inventory]` now
    /// ([`super::records::UNLISTED_SINCE_TAG`]): `on_unlisted = "disable"` acts on `due`.
    RecordUnlisted {
        user: String,
        due: DateTime<Utc>,
    },
    /// Remove that record: the user is listed (or excepted) again.
    ForgetUnlisted {
        user: String,
        since: DateTime<Utc>,
    },
    /// `DeleteServerCertificate` of one expired longer than `delete_expired_after_days`.
    DeleteServerCertificate {
        certificate: ServerCertificateFacts,
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
            ChangeKind::DeactivateCredential { delete_on, .. } => {
                if let Some(date) = delete_on.as_mut() {
                    *date = DateTime::UNIX_EPOCH;
                }
            }
            ChangeKind::RecordInactiveCredential { delete_on, .. } => {
                *delete_on = DateTime::UNIX_EPOCH
            }
            ChangeKind::RecordUnlisted { due, .. } => *due = DateTime::UNIX_EPOCH,
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
            | ChangeKind::ForgetRotation { .. }
            | ChangeKind::DeleteCredential { .. }
            | ChangeKind::ForgetInactiveCredential { .. }
            | ChangeKind::ForgetUnlisted { .. }
            | ChangeKind::DeleteServerCertificate { .. } => {}
        }
        kind
    }

    pub fn action(&self) -> Action {
        match self {
            ChangeKind::RecordInactiveKey { .. }
            | ChangeKind::RecordRotation { .. }
            | ChangeKind::RecordInactiveCredential { .. }
            | ChangeKind::RecordUnlisted { .. } => Action::Tag,
            ChangeKind::ForgetInactiveKey { .. }
            | ChangeKind::ForgetRotation { .. }
            | ChangeKind::ForgetInactiveCredential { .. }
            | ChangeKind::ForgetUnlisted { .. } => Action::Untag,
            ChangeKind::RotateAccessKey { .. } => Action::Rotate,
            ChangeKind::CreatePasswordPolicy { .. }
            | ChangeKind::CreateLoginProfile { .. }
            | ChangeKind::CreateTrail { .. } => Action::Create,
            ChangeKind::UpdatePasswordPolicy { .. } | ChangeKind::UpdateTrail { .. } => {
                Action::Update
            }
            ChangeKind::DeletePasswordPolicy { .. }
            | ChangeKind::DeleteLoginProfile { .. }
            | ChangeKind::DeleteAccessKey { .. }
            | ChangeKind::DeleteCredential { .. }
            | ChangeKind::DeleteServerCertificate { .. } => Action::Delete,
            ChangeKind::ResetPassword { .. } => Action::ResetPassword,
            ChangeKind::DeactivateAccessKey { .. } | ChangeKind::DeactivateCredential { .. } => {
                Action::Deactivate
            }
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
            ChangeKind::DeactivateCredential {
                user, credential, ..
            }
            | ChangeKind::DeleteCredential { user, credential }
            | ChangeKind::RecordInactiveCredential {
                user, credential, ..
            } => Address::Credential {
                user: user.clone(),
                kind: credential.kind,
                id: credential.id.clone(),
            },
            ChangeKind::ForgetInactiveCredential { user, kind, id, .. } => Address::Credential {
                user: user.clone(),
                kind: *kind,
                id: id.clone(),
            },
            ChangeKind::DeleteServerCertificate { certificate } => {
                Address::ServerCertificate(certificate.name.clone())
            }
            ChangeKind::RecordUnlisted { user, .. } | ChangeKind::ForgetUnlisted { user, .. } => {
                Address::User(user.clone())
            }
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
            | ChangeKind::ForgetRotation { user, .. }
            | ChangeKind::DeactivateCredential { user, .. }
            | ChangeKind::DeleteCredential { user, .. }
            | ChangeKind::RecordInactiveCredential { user, .. }
            | ChangeKind::ForgetInactiveCredential { user, .. }
            | ChangeKind::RecordUnlisted { user, .. }
            | ChangeKind::ForgetUnlisted { user, .. } => Some(user),
            ChangeKind::CreatePasswordPolicy { .. }
            | ChangeKind::UpdatePasswordPolicy { .. }
            | ChangeKind::DeletePasswordPolicy { .. }
            | ChangeKind::CreateTrail { .. }
            | ChangeKind::UpdateTrail { .. }
            | ChangeKind::DeleteServerCertificate { .. } => None,
        }
    }

    /// A `reset_password` asked by a tightening password policy (not by a `[[user]]` entry).
    pub fn is_tightening_reset(&self) -> bool {
        match self {
            ChangeKind::ResetPassword {
                with_tightening, ..
            } => *with_tightening,
            ChangeKind::CreatePasswordPolicy { .. }
            | ChangeKind::UpdatePasswordPolicy { .. }
            | ChangeKind::DeletePasswordPolicy { .. }
            | ChangeKind::CreateLoginProfile { .. }
            | ChangeKind::DeleteLoginProfile { .. }
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
            | ChangeKind::ForgetRotation { .. }
            | ChangeKind::DeactivateCredential { .. }
            | ChangeKind::DeleteCredential { .. }
            | ChangeKind::RecordInactiveCredential { .. }
            | ChangeKind::ForgetInactiveCredential { .. }
            | ChangeKind::RecordUnlisted { .. }
            | ChangeKind::ForgetUnlisted { .. }
            | ChangeKind::DeleteServerCertificate { .. } => false,
        }
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
            | ChangeKind::ForgetRotation { .. }
            | ChangeKind::DeactivateCredential { .. }
            | ChangeKind::DeleteCredential { .. }
            | ChangeKind::RecordInactiveCredential { .. }
            | ChangeKind::ForgetInactiveCredential { .. }
            | ChangeKind::RecordUnlisted { .. }
            | ChangeKind::ForgetUnlisted { .. }
            | ChangeKind::DeleteServerCertificate { .. } => None,
        }
    }
}

/// One change `apply` would make, and the rule that asked for it.
/// Serialized in its file form ([`ChangeSrc`](super::ChangeSrc), `plan::change_file`).
#[derive(Debug, Clone, PartialEq)]
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
}
