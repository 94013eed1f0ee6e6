//! The rules that plan items name: the desired-state key that asked for a change or a finding.
//! Serialized as that key (`users.access_keys.max_age_days`), the `rule` of SPEC.md's plan
//! format. A rule is for people (why an item is there) and for the layers that must know what
//! an item rests on (which live facts confirm it, which CloudTrail events explain it); every
//! such layer matches on it exhaustively, so a new rule does not compile until each has
//! decided what it means there.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// Declares [`Rule`] from one list of `Variant = "desired.state.key"`, so that the list
/// ([`Rule::ALL`]), the names ([`Rule::as_str`]) and the parsing ([`FromStr`], serde) are the
/// same list: a rule added here is in all of them, and in nothing else until it is.
macro_rules! rules {
    ($($(#[$doc:meta])* $rule:ident = $key:literal,)*) => {
        #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
        pub enum Rule {
            $($(#[$doc])* $rule,)*
        }

        impl Rule {
            /// Every rule, in the order of the desired-state file.
            pub const ALL: [Rule; [$(Rule::$rule),*].len()] = [$(Rule::$rule),*];

            /// The desired-state key, as plans print it.
            pub fn as_str(self) -> &'static str {
                match self {
                    $(Rule::$rule => $key,)*
                }
            }
        }

        impl FromStr for Rule {
            type Err = UnknownRule;

            fn from_str(s: &str) -> Result<Self, Self::Err> {
                match s {
                    $($key => Ok(Rule::$rule),)*
                    unknown => Err(UnknownRule(unknown.to_owned())),
                }
            }
        }
    };
}

rules! {
    /// `[password_policy]`: the policy must equal the desired one.
    PasswordPolicy = "password_policy",
    /// `[password_policy] ensure = "absent"`.
    PasswordPolicyAbsent = "password_policy.ensure",
    /// `[users.console] require_mfa` (with `without_mfa`).
    ConsoleRequireMfa = "users.console.require_mfa",
    /// `[users.console] max_unused_days` (with `on_unused`).
    ConsoleMaxUnused = "users.console.max_unused_days",
    /// `[users.console] reset_on_policy_tightening`.
    ConsoleResetOnTightening = "users.console.reset_on_policy_tightening",
    /// `[users.access_keys] max_age_days` (with `on_expired`).
    KeysMaxAge = "users.access_keys.max_age_days",
    /// `[users.access_keys] max_unused_days` (with `on_unused`).
    KeysMaxUnused = "users.access_keys.max_unused_days",
    /// `[users.access_keys] delete_inactive`.
    KeysDeleteInactive = "users.access_keys.delete_inactive",
    /// `[users.access_keys] max_active`.
    KeysMaxActive = "users.access_keys.max_active",
    /// A `[[user]]` entry as a whole (it names a user that does not exist).
    User = "user",
    /// `[[user]] console`.
    UserConsole = "user.console",
    /// `[[user]] password_reset_required`.
    UserPasswordReset = "user.password_reset_required",
    /// `[audit] require_cloudtrail`.
    AuditCloudTrail = "audit.require_cloudtrail",
    /// `[audit.cloudtrail] create`.
    AuditCloudTrailCreate = "audit.cloudtrail.create",
    /// `[root] forbid_access_keys`.
    RootForbidAccessKeys = "root.forbid_access_keys",
    /// `[root] require_mfa`.
    RootRequireMfa = "root.require_mfa",
    /// `[root] require_hardware_mfa`.
    RootRequireHardwareMfa = "root.require_hardware_mfa",
    /// `[root] max_used_days`.
    RootMaxUsed = "root.max_used_days",
    /// `[users] forbid_direct_policies`.
    UsersForbidDirectPolicies = "users.forbid_direct_policies",
    /// `[audit] forbid_full_admin_policies`.
    AuditForbidFullAdmin = "audit.forbid_full_admin_policies",
    /// `[audit] require_support_role`.
    AuditRequireSupportRole = "audit.require_support_role",
    /// `[users.service_credentials] max_age_days` (with `on_expired`).
    ServiceCredentialsMaxAge = "users.service_credentials.max_age_days",
    /// `[users.service_credentials] allowed_services` (with `on_forbidden_service`).
    ServiceCredentialsAllowedServices = "users.service_credentials.allowed_services",
    /// `[users.service_credentials] require_expiry_days`: Bedrock API keys expire within that
    /// many days of their creation (one that does not is acted on with `on_expired` once it is
    /// that old).
    ServiceCredentialsRequireExpiry = "users.service_credentials.require_expiry_days",
    /// `[users.service_credentials] delete_inactive` (Inactive and Expired ones).
    ServiceCredentialsDeleteInactive = "users.service_credentials.delete_inactive",
    /// `[users.ssh_keys] max_age_days` (with `on_expired`).
    SshKeysMaxAge = "users.ssh_keys.max_age_days",
    /// `[users.ssh_keys] delete_inactive`.
    SshKeysDeleteInactive = "users.ssh_keys.delete_inactive",
    /// `[users.signing_certificates] forbid` (with `on_forbidden`).
    SigningCertificatesForbid = "users.signing_certificates.forbid",
    /// `[users.mfa] all_users`: every IAM user has MFA, console or not (Security Hub IAM.19).
    MfaAllUsers = "users.mfa.all_users",
    /// `[server_certificates] delete_expired_after_days` (CIS 1.19).
    ServerCertificatesDeleteExpired = "server_certificates.delete_expired_after_days",
    /// `[users.inventory]`: an IAM user no name or glob of `allowed` lists (nor an unexpired
    /// `[[users.exception]]`), reported or, after `notice_days`, disabled (CIS 1.21).
    UsersInventory = "users.inventory",
    /// `[[users.exception]]`: an exception nearing its end.
    UsersException = "users.exception",
    /// `[[user]] break_glass`: a break-glass user's MFA is a hardware token or a FIDO key.
    BreakGlassMfa = "users.break_glass.mfa",
    /// `[users.break_glass] on_access_key`: a break-glass user holds no active access key.
    BreakGlassAccessKey = "users.break_glass.on_access_key",
    /// `[users.break_glass] allowed_policies`: no other policy on a break-glass user.
    BreakGlassPolicies = "users.break_glass.allowed_policies",
    /// `[users.break_glass] max_used_days`: a break-glass sign-in is an incident.
    BreakGlassUsed = "users.break_glass.max_used_days",
    /// `[users] require_tags`: every IAM user carries these tag keys (Security Hub IAM.25).
    UsersRequireTags = "users.require_tags",
    /// `[users.access_keys] forbid_setup_keys`: no key made with its console user and never
    /// used (CIS 1.11).
    KeysForbidSetupKeys = "users.access_keys.forbid_setup_keys",
    /// `[audit] require_security_contact` (CIS 1.2).
    AuditSecurityContact = "audit.require_security_contact",
    /// `[audit] access_analyzer_regions` (CIS 1.20).
    AuditAccessAnalyzer = "audit.access_analyzer_regions",
    /// `[audit] forbid_cloudshell_full_access` (CIS 1.22).
    AuditForbidCloudShell = "audit.forbid_cloudshell_full_access",
    /// `[audit] forbid_service_wildcards`: no customer-managed policy allows `SERVICE:*`
    /// (Security Hub IAM.21).
    AuditForbidServiceWildcards = "audit.forbid_service_wildcards",
    /// `[organization] require_root_credentials_management`: centralized root access
    /// (`RootCredentialsManagement`, `RootSessions`) is enabled.
    OrganizationRootAccess = "organization.require_root_credentials_management",
    /// `[users.access_keys.rotation]`: what follows a rotation (the old key retired once the
    /// new one is used or the overlap is over, an interrupted rotation's undelivered key
    /// deleted, its records kept), and `apply --rotate-now`.
    KeysRotation = "users.access_keys.rotation",
}

impl fmt::Display for Rule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[derive(Debug, thiserror::Error)]
#[error("not a rule iamctl knows: {0:?}")]
pub struct UnknownRule(String);

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
