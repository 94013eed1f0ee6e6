//! The desired-state file as written by people: every field optional, so that a target's own
//! tables can override the top-level ones field by field. `rules.rs` resolves these into the
//! plain values the engine reads. The JSON Schema (`iamctl schema`) is generated from these
//! types, and the ranges below are the ones `validate.rs` enforces.

use std::collections::BTreeMap;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// AWS's limits on `UpdateAccountPasswordPolicy`.
pub const MINIMUM_LENGTH_RANGE: (i64, i64) = (6, 128);
pub const MAX_AGE_DAYS_RANGE: (i64, i64) = (1, 1095);
pub const REUSE_PREVENTION_RANGE: (i64, i64) = (1, 24);
/// Day counts of the user rules: at least one day, at most ten years.
pub const DAYS_RANGE: (i64, i64) = (1, 3650);
/// A grace that may also be none at all.
pub const GRACE_DAYS_RANGE: (i64, i64) = (0, 3650);
pub const MAX_ACTIVE_KEYS_RANGE: (i64, i64) = (0, 2);

/// One desired-state document (a file, or the merge of a folder's files).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(title = "iamctl desired state")]
pub struct DesiredDoc {
    /// The account password policy, whole: fields left out take IAM's defaults.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub password_policy: Option<PasswordPolicySpec>,
    /// Rules that apply to every IAM user that is not exempt.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub users: Option<UsersSpec>,
    /// Per-user requirements, on top of the rules.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub user: Vec<UserSpec>,
    /// Audit requirements.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub audit: Option<AuditSpec>,
    /// Target accounts. Without any (and without `[organization]`), one target named
    /// `default` on ambient credentials.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub account: Vec<AccountSpec>,
    /// Targets from an AWS Organization: every active account it lists, at run time.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub organization: Option<OrganizationSpec>,
    /// Where owners are told what is due and what was done.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub notify: Option<NotifySpec>,
    /// The account root user (findings only: the IAM API cannot change root).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub root: Option<RootSpec>,
    /// Server certificates stored in IAM (CIS 1.19).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub server_certificates: Option<ServerCertificatesSpec>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct NotifySpec {
    /// SNS topic receiving one message per owner and account (`plan --notify`, `apply`),
    /// with message attributes `owner`, `account` and `account_id` for subscription filters.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sns_topic_arn: Option<String>,
}

/// `[root]`: what the account root user must look like (CIS 1.4-1.7). Findings only.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RootSpec {
    /// The root user must have no access keys (CIS 1.4).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub forbid_access_keys: Option<bool>,
    /// The root user must have MFA (CIS 1.5).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub require_mfa: Option<bool>,
    /// The root user's MFA must be a hardware device, not a virtual one (CIS 1.6).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub require_hardware_mfa: Option<bool>,
    /// The root user used within this many days is reported (CIS 1.7).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 1, max = 3650))]
    pub max_used_days: Option<i64>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Ensure {
    Present,
    Absent,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct PasswordPolicySpec {
    /// `absent` deletes the account's policy; no other field may be set then.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ensure: Option<Ensure>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 6, max = 128))]
    pub minimum_length: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub require_uppercase: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub require_lowercase: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub require_numbers: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub require_symbols: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub allow_users_to_change: Option<bool>,
    /// Days before a password expires; absent: passwords never expire.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 1, max = 1095))]
    pub max_age_days: Option<i64>,
    /// Number of previous passwords that cannot be reused; absent: no reuse prevention.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 1, max = 24))]
    pub reuse_prevention: Option<i64>,
    /// Expired passwords can only be reset by an administrator.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hard_expiry: Option<bool>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct UsersSpec {
    /// User names or globs (`break-glass-*`): never changed, never reported.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub exempt: Option<Vec<String>>,
    /// Users carrying any of these tags (key = value) are exempt too.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub exempt_tags: Option<BTreeMap<String, String>>,
    /// Rules for users with a console password (login profile).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub console: Option<ConsoleSpec>,
    /// Rules for access keys.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub access_keys: Option<AccessKeysSpec>,
    /// The user tag naming who answers for the user (an email, a team, a channel).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub owner_tag: Option<String>,
    /// The owner of users without that tag.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub default_owner: Option<String>,
    /// Users with attached or inline policies are reported: permissions come through groups
    /// or roles (CIS 1.15).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub forbid_direct_policies: Option<bool>,
    /// Tag keys every user must carry (Security Hub IAM.25).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub require_tags: Option<Vec<String>>,
    /// Service-specific credentials: CodeCommit, Keyspaces, Bedrock API keys.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub service_credentials: Option<ServiceCredentialsSpec>,
    /// SSH public keys (CodeCommit); read with one call per user.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ssh_keys: Option<SshKeysSpec>,
    /// X.509 signing certificates.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub signing_certificates: Option<SigningCertificatesSpec>,
    /// MFA for every user, console or not (Security Hub IAM.19).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mfa: Option<MfaSpec>,
    /// The IAM users that may exist (CIS 1.21): every other one is unlisted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub inventory: Option<InventorySpec>,
    /// Users no `inventory.allowed` glob allows, allowed until a date.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub exception: Option<Vec<UserExceptionSpec>>,
    /// How `[[user]] break_glass = true` users are held.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub break_glass: Option<BreakGlassSpec>,
}

/// `[users.service_credentials]`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ServiceCredentialsSpec {
    /// An active credential older than this is expired.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 1, max = 3650))]
    pub max_age_days: Option<i64>,
    /// What to do about an expired credential: report, deactivate or delete (default
    /// `report`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub on_expired: Option<KeyAction>,
    /// The services credentials may be for (`codecommit.amazonaws.com`, ...); absent: any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub allowed_services: Option<Vec<String>>,
    /// What to do about a credential for another service: report, deactivate or delete.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub on_forbidden_service: Option<KeyAction>,
    /// Bedrock API keys must expire within this many days of their creation.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 1, max = 36600))]
    pub require_expiry_days: Option<i64>,
    /// Delete Inactive and Expired credentials (after `delete_inactive_after_days`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub delete_inactive: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 0, max = 3650))]
    pub delete_inactive_after_days: Option<i64>,
    /// What a rule will act on within this many days is reported now, with its date.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 1, max = 3650))]
    pub notice_days: Option<i64>,
}

/// `[users.ssh_keys]`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SshKeysSpec {
    /// An active key uploaded longer ago than this is expired.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 1, max = 3650))]
    pub max_age_days: Option<i64>,
    /// report, deactivate or delete (default `report`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub on_expired: Option<KeyAction>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub delete_inactive: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 0, max = 3650))]
    pub delete_inactive_after_days: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 1, max = 3650))]
    pub notice_days: Option<i64>,
}

/// `[users.signing_certificates]`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SigningCertificatesSpec {
    /// Any active signing certificate is a finding, or acted on.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub forbid: Option<bool>,
    /// report, deactivate or delete (default `report`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub on_forbidden: Option<KeyAction>,
}

/// `[users.mfa]`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct MfaSpec {
    /// A finding for every user without MFA, console or not.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub all_users: Option<bool>,
}

/// What to do about a user `[users.inventory]` does not list.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum OnUnlisted {
    #[default]
    Report,
    /// After `notice_days`: delete its console password and deactivate its keys (never the
    /// user, its policies or groups).
    Disable,
}

/// `[users.inventory]`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct InventorySpec {
    /// User names or globs; every other IAM user is unlisted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub allowed: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub on_unlisted: Option<OnUnlisted>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 1, max = 3650))]
    pub notice_days: Option<i64>,
}

/// `[[users.exception]]`: a user no glob allows, allowed until a date, with who asked and why.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct UserExceptionSpec {
    pub name: String,
    pub owner: String,
    pub reason: String,
    /// A TOML date (`2027-03-31`): the last day the exception holds.
    #[serde(with = "toml_date")]
    #[schemars(with = "String", extend("format" = "date"))]
    pub expires: chrono::NaiveDate,
}

/// `[users.break_glass]`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct BreakGlassSpec {
    /// report or deactivate (default `report`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub on_access_key: Option<KeyAction>,
    /// A sign-in within this many days is a finding (default 1).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 1, max = 3650))]
    pub max_used_days: Option<i64>,
    /// Policies a break-glass user may hold (default `["AdministratorAccess"]`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub allowed_policies: Option<Vec<String>>,
}

/// `[server_certificates]`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ServerCertificatesSpec {
    /// Expired longer than this: delete; before: a notice with its due date.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 0, max = 3650))]
    pub delete_expired_after_days: Option<i64>,
}

/// A TOML local date (`2027-03-31`) as a `NaiveDate`; written back as the same date. A date
/// with a time or an offset is refused: an exception ends on a day.
mod toml_date {
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(date: &chrono::NaiveDate, s: S) -> Result<S::Ok, S::Error> {
        let date = toml::value::Date {
            year: u16::try_from(chrono::Datelike::year(date)).map_err(serde::ser::Error::custom)?,
            month: chrono::Datelike::month(date) as u8,
            day: chrono::Datelike::day(date) as u8,
        };
        serde::Serialize::serialize(
            &toml::value::Datetime {
                date: Some(date),
                time: None,
                offset: None,
            },
            s,
        )
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<chrono::NaiveDate, D::Error> {
        let value = toml::value::Datetime::deserialize(d)?;
        match value {
            toml::value::Datetime {
                date: Some(date),
                time: None,
                offset: None,
            } => chrono::NaiveDate::from_ymd_opt(
                i32::from(date.year),
                u32::from(date.month),
                u32::from(date.day),
            )
            .ok_or_else(|| serde::de::Error::custom(format!("{value} is not a calendar date"))),
            other => Err(serde::de::Error::custom(format!(
                "expected a date such as 2027-03-31 (no time, no offset), got {other}"
            ))),
        }
    }
}

/// What to do about a console user without MFA.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum WithoutMfa {
    #[default]
    Report,
    /// Delete the login profile.
    DisableConsole,
    /// Attach the `iamctl-deny-without-mfa` policy until the user has MFA.
    DenyUntilMfa,
}

/// What to do about an unused console password.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum OnUnusedConsole {
    #[default]
    Report,
    DisableConsole,
}

/// What to do about an access key a rule flags. The engine decides which of two is stronger
/// (`plan::KeyEnforcement`), not the order of these variants.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum KeyAction {
    #[default]
    Report,
    Deactivate,
    Delete,
    /// Create a new key, deliver it to the Secrets Manager secret of
    /// `[users.access_keys.rotation]`, and retire the old key after an overlap (`on_expired`
    /// only).
    Rotate,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ConsoleSpec {
    /// Console users must have an MFA device.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub require_mfa: Option<bool>,
    /// What to do when `require_mfa` is not met (default `report`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub without_mfa: Option<WithoutMfa>,
    /// A console password unused this many days (or never used, profile older) is unused.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 1, max = 3650))]
    pub max_unused_days: Option<i64>,
    /// What to do about an unused console password (default `report`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub on_unused: Option<OnUnusedConsole>,
    /// When apply makes the password policy stricter, require every console user to set a
    /// new password at next sign-in.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reset_on_policy_tightening: Option<bool>,
    /// A login profile younger than this many days is not acted on for missing MFA: a
    /// finding gives the date by which MFA must be enrolled.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 1, max = 3650))]
    pub mfa_grace_days: Option<i64>,
    /// What a rule will act on within this many days is reported now, with its date.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 1, max = 3650))]
    pub notice_days: Option<i64>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct AccessKeysSpec {
    /// An active key older than this is expired.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 1, max = 3650))]
    pub max_age_days: Option<i64>,
    /// What to do about an expired key (default `report`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub on_expired: Option<KeyAction>,
    /// An active key unused this many days (or never used, key older) is unused.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 1, max = 3650))]
    pub max_unused_days: Option<i64>,
    /// What to do about an unused key (default `report`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub on_unused: Option<KeyAction>,
    /// Delete keys that are inactive (after `delete_inactive_after_days`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub delete_inactive: Option<bool>,
    /// A key created within 10 minutes of its console user and never used is reported (CIS
    /// 1.11).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub forbid_setup_keys: Option<bool>,
    /// Delete an inactive key once it has been inactive this many days (default 0): from its
    /// deactivation when iamctl deactivated it, else from the first run that saw it inactive.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 0, max = 3650))]
    pub delete_inactive_after_days: Option<i64>,
    /// What a rule will act on within this many days is reported now, with its date.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 1, max = 3650))]
    pub notice_days: Option<i64>,
    /// Users with more active keys than this are reported.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 0, max = 2))]
    pub max_active: Option<i64>,
    /// Where `on_expired = "rotate"` (and `apply --rotate-now`) delivers new keys, and how
    /// long the old key stays active.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rotation: Option<RotationSpec>,
}

/// The secret template's default: one secret per account and user.
pub const DEFAULT_SECRET_NAME: &str = "iamctl/{account_id}/{user}";
/// The old key's default overlap with the new one.
pub const DEFAULT_OVERLAP_DAYS: i64 = 7;
/// The placeholders a `secret_name` template may hold.
pub const SECRET_NAME_PLACEHOLDERS: [&str; 3] = ["account", "account_id", "user"];

/// `[users.access_keys.rotation]`: key rotation that delivers the new secret.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RotationSpec {
    /// The AWS Secrets Manager secret receiving each new key as `{"AccessKeyId",
    /// "SecretAccessKey"}`; placeholders `{account}` (the target's name), `{account_id}`,
    /// `{user}` (required: one secret per user). Default `iamctl/{account_id}/{user}`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub secret_name: Option<String>,
    /// The old key stays active until the new key is used, or this many days (default 7).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 1, max = 3650))]
    pub overlap_days: Option<i64>,
    /// The KMS key encrypting the secret (id, ARN, alias or alias ARN); default: Secrets
    /// Manager's own (`aws/secretsmanager`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kms_key_id: Option<String>,
    /// IAM role or user ARNs that may read the secret besides the user itself.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub readers: Option<Vec<String>>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct UserSpec {
    /// The IAM user name.
    pub name: String,
    /// `false`: no login profile may exist (it is deleted). `true`: one must exist (it is
    /// created with a generated password, written only to `--secrets-dir`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub console: Option<bool>,
    /// `true`: the user must set a new password at next sign-in.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub password_reset_required: Option<bool>,
    /// A break-glass user: hardware or FIDO MFA, no access key, only the allowed policies,
    /// and any sign-in reported (`[users.break_glass]`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub break_glass: Option<bool>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct AuditSpec {
    /// A multi-region trail that logs management write events must exist and be logging.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub require_cloudtrail: Option<bool>,
    /// Enforcing the CloudTrail requirement.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cloudtrail: Option<CloudTrailSpec>,
    /// Policies that allow `"*"` on `"*"`, attached to or inline in a user, group or role,
    /// are reported (CIS 1.16).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub forbid_full_admin_policies: Option<bool>,
    /// A role with the AWS-managed `AWSSupportAccess` policy must exist (CIS 1.17).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub require_support_role: Option<bool>,
    /// A SECURITY alternate contact must be registered (CIS 1.2).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub require_security_contact: Option<bool>,
    /// IAM Access Analyzer must have an active analyzer in each of these regions (CIS 1.20).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub access_analyzer_regions: Option<Vec<String>>,
    /// `AWSCloudShellFullAccess` attached to a user, group or role is reported (CIS 1.22).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub forbid_cloudshell_full_access: Option<bool>,
    /// Customer-managed policies allowing `service:*` are reported (Security Hub IAM.21).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub forbid_service_wildcards: Option<bool>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CloudTrailSpec {
    /// When no trail qualifies, `apply` creates this multi-region trail (management events,
    /// global service events) delivering to an existing bucket, and starts it logging; a
    /// trail of this name that exists but is stopped or single-region is put right.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub create: Option<TrailCreateSpec>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct TrailCreateSpec {
    /// The trail's name: 3-128 of A-Z a-z 0-9 . _ -, starting and ending with a letter or
    /// digit.
    pub name: String,
    /// An existing S3 bucket whose policy lets CloudTrail write to it.
    pub s3_bucket: String,
}

/// A target account and its own overrides of the top-level tables.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct AccountSpec {
    /// Unique name of the target, used by `-a/--account` and in every output.
    pub name: String,
    /// Assume this role for the target.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub role_arn: Option<String>,
    /// External id for the role assumption.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub external_id: Option<String>,
    /// Named profile for the base credentials.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub profile: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub password_policy: Option<PasswordPolicySpec>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub users: Option<UsersSpec>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub user: Vec<UserSpec>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub audit: Option<AuditSpec>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub root: Option<RootSpec>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub server_certificates: Option<ServerCertificatesSpec>,
}

/// An AWS Organization as a source of targets: at run time, every ACTIVE account that
/// `organizations:ListAccounts` returns (called with the base credentials, which must be the
/// management account's or a delegated administrator's) becomes a target named by its
/// account name, reached by assuming `role_name` in it. An `[[account]]` whose `role_arn`
/// names the same account id replaces the listed one (with its own overrides).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct OrganizationSpec {
    /// The role to assume in each account, by name (a path is allowed: `ops/iamctl`), e.g.
    /// `OrganizationAccountAccessRole`.
    pub role_name: String,
    /// External id for the role assumptions.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub external_id: Option<String>,
    /// Only accounts whose id or name matches one of these (ids, names or globs). Absent:
    /// every active account.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub include: Option<Vec<String>>,
    /// Leave out accounts whose id or name matches one of these (ids, names or globs).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub exclude: Option<Vec<String>>,
    /// Named profile for the base credentials (listing the organization, assuming roles).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub profile: Option<String>,
    /// Centralized root access (`RootCredentialsManagement`, `RootSessions`) must be enabled.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub require_root_credentials_management: Option<bool>,
}
