//! The model of one account's live IAM state: what `live/` reads from AWS (or a snapshot),
//! what `plan/` compares the desired state against, and what `iamctl snapshot` writes.
//!
//! These types carry facts only, never a secret: there is no field for a password, a secret
//! access key or a session token, so none can be serialized by accident.

mod credentials;

pub use credentials::{
    Analyzer, AnalyzersByRegion, CertificateId, CredentialType, MfaKind, OrganizationFeatures,
    REPORT_CERT_PREFIX, ServerCertificate, ServiceCredential, ServiceCredentialStatus,
    SigningCertificate, SshPublicKey,
};

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// The account password policy, as IAM stores it. Field names follow the desired-state file.
///
/// `UpdateAccountPasswordPolicy` has no partial update: a field left out falls back to the
/// default below, so a policy is always compared and written whole.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct PasswordPolicy {
    pub minimum_length: u32,
    pub require_uppercase: bool,
    pub require_lowercase: bool,
    pub require_numbers: bool,
    pub require_symbols: bool,
    pub allow_users_to_change: bool,
    /// Days before a password expires; `None`: passwords never expire.
    pub max_age_days: Option<u32>,
    /// How many previous passwords cannot be reused; `None`: no reuse prevention.
    pub reuse_prevention: Option<u32>,
    pub hard_expiry: bool,
}

impl PasswordPolicy {
    /// IAM's value of `MinimumPasswordLength` when the field is left out of the request.
    pub const DEFAULT_MINIMUM_LENGTH: u32 = 6;

    /// The policy IAM applies for every field left out, and the one in force when an account
    /// has no policy at all.
    pub fn iam_default() -> Self {
        Self {
            minimum_length: Self::DEFAULT_MINIMUM_LENGTH,
            require_uppercase: false,
            require_lowercase: false,
            require_numbers: false,
            require_symbols: false,
            allow_users_to_change: false,
            max_age_days: None,
            reuse_prevention: None,
            hard_expiry: false,
        }
    }

    /// True when `self` is stricter than `other` in at least one field: a longer minimum, a
    /// character class newly required, a shorter (or new) expiry, a longer (or new) reuse
    /// history, or hard expiry newly on. Whether users may change their own password is not
    /// a matter of strength and does not count.
    pub fn is_stricter_than(&self, other: &PasswordPolicy) -> bool {
        let newly = |new: bool, old: bool| new && !old;
        self.minimum_length > other.minimum_length
            || newly(self.require_uppercase, other.require_uppercase)
            || newly(self.require_lowercase, other.require_lowercase)
            || newly(self.require_numbers, other.require_numbers)
            || newly(self.require_symbols, other.require_symbols)
            || newly(self.hard_expiry, other.hard_expiry)
            || match (self.max_age_days, other.max_age_days) {
                (Some(new), Some(old)) => new < old,
                (Some(_), None) => true,
                (None, _) => false,
            }
            || match (self.reuse_prevention, other.reuse_prevention) {
                (Some(new), Some(old)) => new > old,
                (Some(_), None) => true,
                (None, _) => false,
            }
    }
}

/// Who `iamctl` is signed in as, so that it never removes its own way in.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Caller {
    pub arn: String,
    /// Set when the caller is an IAM user of this account (not a role session).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user_name: Option<String>,
    /// The access key id the requests are signed with, when it is a long-lived user key.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub access_key_id: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct LoginProfile {
    pub created: DateTime<Utc>,
    pub password_reset_required: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct MfaDevice {
    pub serial: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub enabled_at: Option<DateTime<Utc>>,
    /// What kind of device it is, when known: from a listed device's serial, or, for the
    /// credential report's placeholder, from whether `ListVirtualMFADevices` lists one of the
    /// user's (read only when a rule asks).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kind: Option<MfaKind>,
}

#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize, JsonSchema,
)]
pub enum KeyStatus {
    Active,
    Inactive,
}

/// An access key id as IAM gives it (`AKIA…`): letters, digits and underscores (IAM's
/// `[\w]+`). Only real ids have this type, so a plan address can never name a key by a
/// placeholder.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct AccessKeyId(String);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("not an access key id: {0:?}")]
pub struct InvalidAccessKeyId(String);

impl AccessKeyId {
    pub fn new(id: impl Into<String>) -> Result<Self, InvalidAccessKeyId> {
        let id = id.into();
        if !id.is_empty() && id.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
            Ok(Self(id))
        } else {
            Err(InvalidAccessKeyId(id))
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Display for AccessKeyId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::str::FromStr for AccessKeyId {
    type Err = InvalidAccessKeyId;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::new(s)
    }
}

impl PartialEq<str> for AccessKeyId {
    fn eq(&self, other: &str) -> bool {
        self.0 == other
    }
}

impl Serialize for AccessKeyId {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.0)
    }
}

impl<'de> Deserialize<'de> for AccessKeyId {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        Self::new(String::deserialize(deserializer)?).map_err(serde::de::Error::custom)
    }
}

/// How a key is known: by its IAM id (listed with `ListAccessKeys`), or only as one of the
/// credential report's two key slots (`access_key_1`, `access_key_2`), which carry no id.
/// Written `report-key-N` in snapshots and logs.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum KeyId {
    Iam(AccessKeyId),
    ReportSlot(u8),
}

/// The text form of a [`KeyId::ReportSlot`]: `report-key-1`, `report-key-2`.
pub const REPORT_SLOT_PREFIX: &str = "report-key-";

impl KeyId {
    /// The IAM id, when the key was listed.
    pub fn iam(&self) -> Option<&AccessKeyId> {
        match self {
            KeyId::Iam(id) => Some(id),
            KeyId::ReportSlot(_) => None,
        }
    }
}

impl From<AccessKeyId> for KeyId {
    fn from(id: AccessKeyId) -> Self {
        KeyId::Iam(id)
    }
}

impl std::fmt::Display for KeyId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            KeyId::Iam(id) => f.write_str(id.as_str()),
            KeyId::ReportSlot(slot) => write!(f, "{REPORT_SLOT_PREFIX}{slot}"),
        }
    }
}

impl std::str::FromStr for KeyId {
    type Err = InvalidAccessKeyId;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.strip_prefix(REPORT_SLOT_PREFIX).map(str::parse::<u8>) {
            Some(Ok(slot)) => Ok(KeyId::ReportSlot(slot)),
            _ => AccessKeyId::new(s).map(KeyId::Iam),
        }
    }
}

impl Serialize for KeyId {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for KeyId {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        String::deserialize(deserializer)?
            .parse()
            .map_err(serde::de::Error::custom)
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct AccessKey {
    #[schemars(with = "String")]
    pub id: KeyId,
    pub status: KeyStatus,
    pub created: DateTime<Utc>,
    /// `None`: never used.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_used: Option<DateTime<Utc>>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct User {
    pub name: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub arn: String,
    pub created: DateTime<Utc>,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub tags: BTreeMap<String, String>,
    /// `None`: no console password.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub login_profile: Option<LoginProfile>,
    /// `None`: the console password was never used (or there is none).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub password_last_used: Option<DateTime<Utc>>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub mfa_devices: Vec<MfaDevice>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub access_keys: Vec<AccessKey>,
    /// Names of the managed policies attached to the user.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub attached_policies: Vec<String>,
    /// Names of the user's inline policies (read when a policy rule is written).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub inline_policies: Vec<String>,
    /// Names of the policies attached to or inline in the user that allow `"*"` on `"*"`
    /// (see [`Grantee::full_admin_policies`]).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub full_admin_policies: Vec<String>,
    /// The secret a key rotation delivers this user's new keys to: read only for a user
    /// whose rotation was interrupted after a key was created (see `plan::rotation`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rotation_secret: Option<RotationSecret>,
    /// Service-specific credentials (CodeCommit, Keyspaces, Bedrock API keys). `None`: not
    /// read (no `[users.service_credentials]` rule).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub service_credentials: Option<Vec<ServiceCredential>>,
    /// SSH public keys. `None`: not read (no `[users.ssh_keys]` rule; one call per user).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ssh_public_keys: Option<Vec<SshPublicKey>>,
    /// X.509 signing certificates, from the credential report (by slot) or listed (by id).
    /// `None`: not read (no `[users.signing_certificates]` rule).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub signing_certificates: Option<Vec<SigningCertificate>>,
}

/// What iamctl knows of a rotation's Secrets Manager secret: no value, only which key its
/// current version holds.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RotationSecret {
    pub name: String,
    /// The access key the secret's `AWSCURRENT` version holds, as its version id names it
    /// (iamctl writes every version with the id `iamctl-AKID-TIME`). `None`: the secret does
    /// not exist, has no current version, or one that iamctl did not write.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(with = "Option<String>")]
    pub current_key: Option<AccessKeyId>,
}

impl User {
    /// A user known only by name and creation time: no ARN, tags, credentials or policies.
    /// Readers fill in the rest; tests start from it.
    pub fn new(name: impl Into<String>, created: DateTime<Utc>) -> Self {
        User {
            name: name.into(),
            arn: String::new(),
            created,
            tags: Default::default(),
            login_profile: None,
            password_last_used: None,
            mfa_devices: Vec::new(),
            access_keys: Vec::new(),
            attached_policies: Vec::new(),
            inline_policies: Vec::new(),
            full_admin_policies: Vec::new(),
            rotation_secret: None,
            service_credentials: None,
            ssh_public_keys: None,
            signing_certificates: None,
        }
    }

    pub fn has_mfa(&self) -> bool {
        !self.mfa_devices.is_empty()
    }

    pub fn has_console(&self) -> bool {
        self.login_profile.is_some()
    }
}

/// One CloudTrail trail as far as the audit rule cares.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Trail {
    pub name: String,
    pub home_region: String,
    pub is_multi_region: bool,
    pub is_logging: bool,
    /// The trail's event selectors record management events of type write (or all).
    pub records_management_writes: bool,
}

impl Trail {
    /// A trail that sees IAM changes: IAM is a global service whose events land in
    /// us-east-1, which a multi-region trail always covers.
    pub fn watches_iam(&self) -> bool {
        self.is_multi_region && self.is_logging && self.records_management_writes
    }
}

/// The account root user, which the IAM API can read but not change (CIS 1.4-1.7): from
/// `GetAccountSummary`, `ListVirtualMFADevices` and the credential report's `<root_account>`
/// row.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RootUser {
    /// `AccountAccessKeysPresent`: the root user has access keys.
    pub access_keys_present: bool,
    /// `AccountMFAEnabled`.
    pub mfa_enabled: bool,
    /// The root user's MFA is a virtual device (listed by `ListVirtualMFADevices`), not a
    /// hardware one. `None`: not read (no rule asked, or no MFA).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub virtual_mfa: Option<bool>,
    /// The credential report's root row: `None` when the report had none (or was not read).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub usage: Option<RootUsage>,
}

/// When the root user was last used, from the credential report's `<root_account>` row.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RootUsage {
    /// The latest of the password's and the access keys' last use; `None`: never used (as
    /// far as IAM tracks).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_used: Option<DateTime<Utc>>,
}

/// A group or a role, as far as the policy rules care (from `GetAccountAuthorizationDetails`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Grantee {
    pub name: String,
    /// ARNs of the managed policies attached to it.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub attached_policy_arns: Vec<String>,
    /// Names of the policies attached to it or inline in it that allow `"*"` on `"*"`: a
    /// customer-managed policy whose default version has such a statement, an AWS-managed
    /// policy known to (`AdministratorAccess`), an inline policy with one.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub full_admin_policies: Vec<String>,
}

/// Everything `plan` needs to know about one account.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct AccountState {
    pub account_id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub caller: Option<Caller>,
    /// `None`: the account has no password policy.
    pub password_policy: Option<PasswordPolicy>,
    pub users: Vec<User>,
    /// `None`: trails were not read.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub trails: Option<Vec<Trail>>,
    /// When IAM generated the credential report this state was read from, if it was.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub credential_report_generated_at: Option<DateTime<Utc>>,
    /// `None`: the root user was not read (no `[root]` rule).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub root: Option<RootUser>,
    /// `None`: groups were not read (no rule about policies).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub groups: Option<Vec<Grantee>>,
    /// `None`: roles were not read (no rule about policies or the support role).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub roles: Option<Vec<Grantee>>,
    /// `None`: server certificates were not read (no `[server_certificates]` rule).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub server_certificates: Option<Vec<ServerCertificate>>,
    /// Whether a SECURITY alternate contact is registered (`account:GetAlternateContact`).
    /// `None`: not read (no `[audit] require_security_contact`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub security_contact_registered: Option<bool>,
    /// Active Access Analyzer analyzers of the regions `[audit] access_analyzer_regions`
    /// lists. `None`: not read.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub access_analyzers: Option<AnalyzersByRegion>,
    /// `None`: not read (no `[organization] require_root_credentials_management`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub organization_features: Option<OrganizationFeatures>,
    /// Customer-managed policies allowing every action of a service (`"s3:*"`, Security Hub
    /// IAM.21), by name. `None`: not read.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub service_wildcard_policies: Option<Vec<String>>,
}

impl AccountState {
    /// An account known only by its id: no caller, no password policy, no users, trails not
    /// read. Readers fill in the rest; tests start from it.
    pub fn new(account_id: impl Into<String>) -> Self {
        AccountState {
            account_id: account_id.into(),
            caller: None,
            password_policy: None,
            users: Vec::new(),
            trails: None,
            credential_report_generated_at: None,
            root: None,
            groups: None,
            roles: None,
            server_certificates: None,
            security_contact_registered: None,
            access_analyzers: None,
            organization_features: None,
            service_wildcard_policies: None,
        }
    }

    pub fn user(&self, name: &str) -> Option<&User> {
        self.users.iter().find(|u| u.name == name)
    }
}
