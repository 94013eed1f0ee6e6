//! The plan as data: what would change in each account and what is only reported. Renderers
//! print it, `apply` executes it, saved plans serialize it. It never holds a secret.

use std::collections::BTreeMap;
use std::fmt;
use std::str::FromStr;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::change::Change;
use super::rule::Rule;
use crate::state::AccessKeyId;

/// Version of the JSON plan format (`plan --format json` and saved plans).
pub const FORMAT_VERSION: &str = "1";

/// What a plan item is about. Serialized as the address grammar of SPEC.md:
/// `password_policy`, `cloudtrail`, `user.NAME`, `user.NAME.login_profile`,
/// `user.NAME.access_key.AKID`, `user.NAME.policy.POLICYNAME`, and for the compliance
/// findings `root`, `account`, `group.NAME`, `role.NAME`.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Address {
    PasswordPolicy,
    CloudTrail,
    User(String),
    LoginProfile(String),
    AccessKey {
        user: String,
        key_id: AccessKeyId,
    },
    UserPolicy {
        user: String,
        policy: String,
    },
    /// The account root user.
    Root,
    /// The account as a whole (a role it lacks).
    Account,
    Group(String),
    Role(String),
}

impl Address {
    /// The user this address belongs to, if any.
    pub fn user(&self) -> Option<&str> {
        match self {
            Address::PasswordPolicy
            | Address::CloudTrail
            | Address::Root
            | Address::Account
            | Address::Group(_)
            | Address::Role(_) => None,
            Address::User(user)
            | Address::LoginProfile(user)
            | Address::AccessKey { user, .. }
            | Address::UserPolicy { user, .. } => Some(user),
        }
    }
}

impl fmt::Display for Address {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Address::PasswordPolicy => f.write_str("password_policy"),
            Address::CloudTrail => f.write_str("cloudtrail"),
            Address::User(user) => write!(f, "user.{user}"),
            Address::LoginProfile(user) => write!(f, "user.{user}.login_profile"),
            Address::AccessKey { user, key_id } => write!(f, "user.{user}.access_key.{key_id}"),
            Address::UserPolicy { user, policy } => write!(f, "user.{user}.policy.{policy}"),
            Address::Root => f.write_str("root"),
            Address::Account => f.write_str("account"),
            Address::Group(group) => write!(f, "group.{group}"),
            Address::Role(role) => write!(f, "role.{role}"),
        }
    }
}

#[derive(Debug, thiserror::Error)]
#[error("not a plan address: {0:?}")]
pub struct AddressParseError(String);

impl FromStr for Address {
    type Err = AddressParseError;

    /// IAM user names may contain dots, so the suffixes are matched from the right; access key
    /// ids never contain a dot (nor anything but letters, digits and `_`: a credential-report
    /// placeholder is no key id), and the only policy iamctl manages has none either.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let err = || AddressParseError(s.to_owned());
        match s {
            "password_policy" => return Ok(Address::PasswordPolicy),
            "cloudtrail" => return Ok(Address::CloudTrail),
            "root" => return Ok(Address::Root),
            "account" => return Ok(Address::Account),
            _ => {}
        }
        // Group and role names may contain dots too: the rest is the name.
        if let Some(group) = s.strip_prefix("group.") {
            return non_empty(group)
                .map(|g| Address::Group(g.to_owned()))
                .ok_or_else(err);
        }
        if let Some(role) = s.strip_prefix("role.") {
            return non_empty(role)
                .map(|r| Address::Role(r.to_owned()))
                .ok_or_else(err);
        }
        let rest = s.strip_prefix("user.").ok_or_else(err)?;
        if let Some(user) = rest.strip_suffix(".login_profile") {
            return non_empty(user)
                .map(|u| Address::LoginProfile(u.to_owned()))
                .ok_or_else(err);
        }
        if let Some((user, key_id)) = rest.rsplit_once(".access_key.") {
            if let (Some(user), Ok(key_id)) = (non_empty(user), AccessKeyId::new(key_id)) {
                return Ok(Address::AccessKey {
                    user: user.into(),
                    key_id,
                });
            }
        }
        if let Some((user, policy)) = rest.rsplit_once(".policy.") {
            if let (Some(user), Some(policy)) = (non_empty(user), non_empty(policy)) {
                return Ok(Address::UserPolicy {
                    user: user.into(),
                    policy: policy.into(),
                });
            }
        }
        non_empty(rest)
            .map(|u| Address::User(u.to_owned()))
            .ok_or_else(err)
    }
}

fn non_empty(s: &str) -> Option<&str> {
    (!s.is_empty()).then_some(s)
}

impl Serialize for Address {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Address {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let s = String::deserialize(deserializer)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Action {
    Create,
    Update,
    Delete,
    Deactivate,
    Attach,
    Detach,
    ResetPassword,
    /// Record timing state in the account (a user tag under `iamctl:`).
    Tag,
    /// Remove timing state that no longer holds.
    Untag,
    /// Replace an access key: a new key delivered to a Secrets Manager secret, the old one
    /// retired by later runs.
    Rotate,
}

impl Action {
    /// The one-character marker of the text rendering, after Terraform's.
    pub fn marker(self) -> char {
        match self {
            Action::Create | Action::Attach => '+',
            Action::Update | Action::Tag | Action::Untag => '~',
            Action::Delete | Action::Detach => '-',
            Action::Deactivate | Action::ResetPassword => '!',
            // A new key now, the old one later (Terraform prints a replacement as `-/+`).
            Action::Rotate => '±',
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Action::Create => "create",
            Action::Update => "update",
            Action::Delete => "delete",
            Action::Deactivate => "deactivate",
            Action::Attach => "attach",
            Action::Detach => "detach",
            Action::ResetPassword => "reset_password",
            Action::Tag => "tag",
            Action::Untag => "untag",
            Action::Rotate => "rotate",
        }
    }

    /// How the action reads in a sentence about what will happen ("will be deactivated").
    pub fn past_participle(self) -> &'static str {
        match self {
            Action::Create => "created",
            Action::Update => "updated",
            Action::Delete => "deleted",
            Action::Deactivate => "deactivated",
            Action::Attach => "attached",
            Action::Detach => "detached",
            Action::ResetPassword => "reset",
            Action::Tag => "tagged",
            Action::Untag => "untagged",
            Action::Rotate => "rotated",
        }
    }
}

impl fmt::Display for Action {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

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

/// The latest CloudTrail event that changed the object at a plan item's address: who made
/// the drift, and when.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Attribution {
    /// `UpdateAccountPasswordPolicy`, `CreateAccessKey`, ...
    pub event_name: String,
    pub event_time: DateTime<Utc>,
    /// The caller's ARN (`userIdentity.arn`; an assumed-role session names the session), or
    /// for a caller without one (an AWS service) its `invokedBy` or principal id.
    pub principal_arn: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source_ip: Option<String>,
    pub event_id: String,
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses_round_trip_through_their_text_form() {
        let cases = [
            Address::PasswordPolicy,
            Address::CloudTrail,
            Address::User("alice".into()),
            Address::User("first.last@example.com".into()),
            Address::LoginProfile("first.last".into()),
            Address::AccessKey {
                user: "ci.bot".into(),
                key_id: AccessKeyId::new("AKIAEXAMPLE1").unwrap(),
            },
            Address::UserPolicy {
                user: "bob".into(),
                policy: "iamctl-deny-without-mfa".into(),
            },
            Address::Root,
            Address::Account,
            Address::Group("admins".into()),
            Address::Group("ops.on-call".into()),
            Address::Role("OrganizationAccountAccessRole".into()),
            Address::Role("a.b".into()),
            // A user named like the new addresses stays a user.
            Address::User("root".into()),
            Address::User("group.x".into()),
        ];
        for address in cases {
            let text = address.to_string();
            assert_eq!(text.parse::<Address>().unwrap(), address, "{text}");
        }
    }

    #[test]
    fn malformed_addresses_are_rejected() {
        for text in [
            "",
            "user.",
            "users.alice",
            "user..login_profile",
            "policy",
            "group.",
            "role.",
            "roles.x",
            "accounts",
        ] {
            assert!(text.parse::<Address>().is_err(), "{text:?} parsed");
        }
        // A credential-report placeholder is no key id: the text names no access key.
        assert!(!matches!(
            "user.bob.access_key.report-key-1".parse::<Address>(),
            Ok(Address::AccessKey { .. })
        ));
    }
}
