//! Where a plan item points and what it does there: the `Address` (the SPEC's address
//! grammar, its text form and serde), the `Action`, and the `Attribution` of the drift at an
//! address. Plain data that the changes, the findings and the outcomes of apply all carry.

use std::fmt;
use std::str::FromStr;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::state::{AccessKeyId, CredentialType};

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
    /// A service-specific credential, SSH public key or signing certificate of a user:
    /// `user.NAME.service_credential.ID`, `user.NAME.ssh_key.ID`,
    /// `user.NAME.signing_certificate.ID`. `id` is an IAM id ([`CredentialType::is_id`]).
    Credential {
        user: String,
        kind: CredentialType,
        id: String,
    },
    /// A server certificate stored in IAM: `server_certificate.NAME`.
    ServerCertificate(String),
    /// The account root user.
    Root,
    /// The account as a whole (a role it lacks).
    Account,
    /// The AWS organization (`[organization]`): its centralized root access.
    Organization,
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
            | Address::Organization
            | Address::Group(_)
            | Address::Role(_)
            | Address::ServerCertificate(_) => None,
            Address::User(user)
            | Address::LoginProfile(user)
            | Address::AccessKey { user, .. }
            | Address::UserPolicy { user, .. }
            | Address::Credential { user, .. } => Some(user),
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
            Address::Credential { user, kind, id } => write!(f, "user.{user}.{kind}.{id}"),
            Address::ServerCertificate(name) => write!(f, "server_certificate.{name}"),
            Address::Root => f.write_str("root"),
            Address::Account => f.write_str("account"),
            Address::Organization => f.write_str("organization"),
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
            "organization" => return Ok(Address::Organization),
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
        // Server certificate names are `[\w+=,.@-]+`: the rest is the name.
        if let Some(name) = s.strip_prefix("server_certificate.") {
            return non_empty(name)
                .map(|n| Address::ServerCertificate(n.to_owned()))
                .ok_or_else(err);
        }
        let rest = s.strip_prefix("user.").ok_or_else(err)?;
        for kind in CredentialType::ALL {
            let segment = format!(".{kind}.");
            if let Some((user, id)) = rest.rsplit_once(segment.as_str()) {
                if let (Some(user), true) = (non_empty(user), CredentialType::is_id(id)) {
                    return Ok(Address::Credential {
                        user: user.into(),
                        kind,
                        id: id.into(),
                    });
                }
            }
        }
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
            Address::Organization,
            Address::Group("admins".into()),
            Address::Group("ops.on-call".into()),
            Address::Role("OrganizationAccountAccessRole".into()),
            Address::Role("a.b".into()),
            Address::Credential {
                user: "ci.bot".into(),
                kind: CredentialType::ServiceCredential,
                id: "ACCA12345ABCDEXAMPLE".into(),
            },
            Address::Credential {
                user: "dev".into(),
                kind: CredentialType::SshKey,
                id: "APKAEIBAERJR2EXAMPLE".into(),
            },
            Address::Credential {
                user: "dev".into(),
                kind: CredentialType::SigningCertificate,
                id: "TA7SMP42TDN5Z26OBPJE7EXAMPLE".into(),
            },
            Address::ServerCertificate("www.example.com-2024".into()),
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
            "server_certificate.",
        ] {
            assert!(text.parse::<Address>().is_err(), "{text:?} parsed");
        }
        // A credential-report placeholder is no key id: the text names no access key.
        assert!(!matches!(
            "user.bob.access_key.report-key-1".parse::<Address>(),
            Ok(Address::AccessKey { .. })
        ));
        assert!(!matches!(
            "user.bob.signing_certificate.report-cert-1".parse::<Address>(),
            Ok(Address::Credential { .. })
        ));
    }
}
