//! The rules that plan items name: the desired-state key that asked for a change or a finding.
//! Serialized as that key (`users.access_keys.max_age_days`), the `rule` of SPEC.md's plan
//! format. A rule is for people (why an item is there) and for the layers that must know what
//! an item rests on (which live facts confirm it, which CloudTrail events explain it); every
//! such layer matches on it exhaustively, so a new rule does not compile until each has
//! decided what it means there.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Rule {
    /// `[password_policy]`: the policy must equal the desired one.
    PasswordPolicy,
    /// `[password_policy] ensure = "absent"`.
    PasswordPolicyAbsent,
    /// `[users.console] require_mfa` (with `without_mfa`).
    ConsoleRequireMfa,
    /// `[users.console] max_unused_days` (with `on_unused`).
    ConsoleMaxUnused,
    /// `[users.console] reset_on_policy_tightening`.
    ConsoleResetOnTightening,
    /// `[users.access_keys] max_age_days` (with `on_expired`).
    KeysMaxAge,
    /// `[users.access_keys] max_unused_days` (with `on_unused`).
    KeysMaxUnused,
    /// `[users.access_keys] delete_inactive`.
    KeysDeleteInactive,
    /// `[users.access_keys] max_active`.
    KeysMaxActive,
    /// A `[[user]]` entry as a whole (it names a user that does not exist).
    User,
    /// `[[user]] console`.
    UserConsole,
    /// `[[user]] password_reset_required`.
    UserPasswordReset,
    /// `[audit] require_cloudtrail`.
    AuditCloudTrail,
    /// `[audit.cloudtrail] create`.
    AuditCloudTrailCreate,
    /// `[root] forbid_access_keys`.
    RootForbidAccessKeys,
    /// `[root] require_mfa`.
    RootRequireMfa,
    /// `[root] require_hardware_mfa`.
    RootRequireHardwareMfa,
    /// `[root] max_used_days`.
    RootMaxUsed,
    /// `[users] forbid_direct_policies`.
    UsersForbidDirectPolicies,
    /// `[audit] forbid_full_admin_policies`.
    AuditForbidFullAdmin,
    /// `[audit] require_support_role`.
    AuditRequireSupportRole,
    /// `[users.access_keys.rotation]`: what follows a rotation (the old key retired once the
    /// new one is used or the overlap is over, an interrupted rotation's undelivered key
    /// deleted, its records kept), and `apply --rotate-now`.
    KeysRotation,
}

impl Rule {
    /// Every rule, in the order of the desired-state file.
    pub const ALL: [Rule; 22] = [
        Rule::PasswordPolicy,
        Rule::PasswordPolicyAbsent,
        Rule::ConsoleRequireMfa,
        Rule::ConsoleMaxUnused,
        Rule::ConsoleResetOnTightening,
        Rule::KeysMaxAge,
        Rule::KeysMaxUnused,
        Rule::KeysDeleteInactive,
        Rule::KeysMaxActive,
        Rule::User,
        Rule::UserConsole,
        Rule::UserPasswordReset,
        Rule::AuditCloudTrail,
        Rule::AuditCloudTrailCreate,
        Rule::RootForbidAccessKeys,
        Rule::RootRequireMfa,
        Rule::RootRequireHardwareMfa,
        Rule::RootMaxUsed,
        Rule::UsersForbidDirectPolicies,
        Rule::AuditForbidFullAdmin,
        Rule::AuditRequireSupportRole,
        Rule::KeysRotation,
    ];

    /// The desired-state key, as plans print it.
    pub fn as_str(self) -> &'static str {
        match self {
            Rule::PasswordPolicy => "password_policy",
            Rule::PasswordPolicyAbsent => "password_policy.ensure",
            Rule::ConsoleRequireMfa => "users.console.require_mfa",
            Rule::ConsoleMaxUnused => "users.console.max_unused_days",
            Rule::ConsoleResetOnTightening => "users.console.reset_on_policy_tightening",
            Rule::KeysMaxAge => "users.access_keys.max_age_days",
            Rule::KeysMaxUnused => "users.access_keys.max_unused_days",
            Rule::KeysDeleteInactive => "users.access_keys.delete_inactive",
            Rule::KeysMaxActive => "users.access_keys.max_active",
            Rule::User => "user",
            Rule::UserConsole => "user.console",
            Rule::UserPasswordReset => "user.password_reset_required",
            Rule::AuditCloudTrail => "audit.require_cloudtrail",
            Rule::AuditCloudTrailCreate => "audit.cloudtrail.create",
            Rule::RootForbidAccessKeys => "root.forbid_access_keys",
            Rule::RootRequireMfa => "root.require_mfa",
            Rule::RootRequireHardwareMfa => "root.require_hardware_mfa",
            Rule::RootMaxUsed => "root.max_used_days",
            Rule::UsersForbidDirectPolicies => "users.forbid_direct_policies",
            Rule::AuditForbidFullAdmin => "audit.forbid_full_admin_policies",
            Rule::AuditRequireSupportRole => "audit.require_support_role",
            Rule::KeysRotation => "users.access_keys.rotation",
        }
    }
}

impl fmt::Display for Rule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[derive(Debug, thiserror::Error)]
#[error("not a rule iamctl knows: {0:?}")]
pub struct UnknownRule(String);

impl FromStr for Rule {
    type Err = UnknownRule;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Rule::ALL
            .into_iter()
            .find(|rule| rule.as_str() == s)
            .ok_or_else(|| UnknownRule(s.to_owned()))
    }
}

impl Serialize for Rule {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for Rule {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let s = String::deserialize(deserializer)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rules_round_trip_through_their_names() {
        for rule in Rule::ALL {
            assert_eq!(rule.as_str().parse::<Rule>().unwrap(), rule);
        }
        let names: std::collections::BTreeSet<_> = Rule::ALL.iter().map(|r| r.as_str()).collect();
        assert_eq!(names.len(), Rule::ALL.len(), "two rules share a name");
        assert!("users.console".parse::<Rule>().is_err());
    }
}
