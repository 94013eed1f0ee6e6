//! Which CIS AWS Foundations Benchmark controls iamctl's rules cover, as data: the IAM section
//! and CloudTrail's 3.1 of v3.0.0 ([`CONTROLS`], with v5.0.0's numbers), and for each rule the
//! controls its plan items bear on ([`controls_of`], an exhaustive match: a new rule does not
//! compile until it says). `iamctl controls` prints the table; every change and finding
//! carries its rule's controls in JSON, markdown and SARIF.

use serde::Serialize;

use super::rule::Rule;

/// The benchmark and version the control ids are of.
pub const BENCHMARK: &str = "CIS AWS Foundations Benchmark v3.0.0";

/// One control of the benchmark.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Control {
    /// The v3.0.0 id (`1.14`): what plans carry.
    pub id: &'static str,
    /// The same control's id in v5.0.0, which dropped v3's 1.3 (security questions) and
    /// renumbered the IAM section; `None`: not in v5.0.0.
    pub v5: Option<&'static str>,
    pub title: &'static str,
    /// Why no rule covers it; `None` for the controls that rules cover.
    pub not_covered: Option<&'static str>,
}

const fn covered(id: &'static str, v5: &'static str, title: &'static str) -> Control {
    Control {
        id,
        v5: Some(v5),
        title,
        not_covered: None,
    }
}

const fn not_covered(
    id: &'static str,
    v5: Option<&'static str>,
    title: &'static str,
    why: &'static str,
) -> Control {
    Control {
        id,
        v5,
        title,
        not_covered: Some(why),
    }
}

/// The IAM controls of v3.0.0 (1.1-1.22) and 3.1, in the benchmark's order.
pub const CONTROLS: &[Control] = &[
    not_covered(
        "1.1",
        Some("1.1"),
        "Maintain current contact details",
        "the account's contact details are not IAM: the Account Management console or API",
    ),
    covered(
        "1.2",
        "1.2",
        "Ensure security contact information is registered",
    ),
    not_covered(
        "1.3",
        None,
        "Ensure security questions are registered in the AWS account",
        "set in the console only, no API can read them (dropped in v5.0.0)",
    ),
    covered(
        "1.4",
        "1.3",
        "Ensure no 'root' user account access key exists",
    ),
    covered(
        "1.5",
        "1.4",
        "Ensure MFA is enabled for the 'root' user account",
    ),
    covered(
        "1.6",
        "1.5",
        "Ensure hardware MFA is enabled for the 'root' user account",
    ),
    covered(
        "1.7",
        "1.6",
        "Eliminate use of the 'root' user for administrative and daily tasks",
    ),
    covered(
        "1.8",
        "1.7",
        "Ensure IAM password policy requires minimum length of 14 or greater",
    ),
    covered(
        "1.9",
        "1.8",
        "Ensure IAM password policy prevents password reuse",
    ),
    covered(
        "1.10",
        "1.9",
        "Ensure multi-factor authentication (MFA) is enabled for all IAM users that have a console password",
    ),
    covered(
        "1.11",
        "1.10",
        "Do not setup access keys during initial user setup for all IAM users that have a console password",
    ),
    covered(
        "1.12",
        "1.11",
        "Ensure credentials unused for 45 days or greater are disabled",
    ),
    covered(
        "1.13",
        "1.12",
        "Ensure there is only one active access key available for any single IAM user",
    ),
    covered(
        "1.14",
        "1.13",
        "Ensure access keys are rotated every 90 days or less",
    ),
    covered(
        "1.15",
        "1.14",
        "Ensure IAM Users Receive Permissions Only Through Groups",
    ),
    covered(
        "1.16",
        "1.15",
        "Ensure IAM policies that allow full \"*:*\" administrative privileges are not attached",
    ),
    covered(
        "1.17",
        "1.16",
        "Ensure a support role has been created to manage incidents with AWS Support",
    ),
    not_covered(
        "1.18",
        Some("1.17"),
        "Ensure IAM instance roles are used for AWS resource access from instances",
        "about EC2 instances and their profiles, not IAM users: outside iamctl's reads",
    ),
    covered(
        "1.19",
        "1.18",
        "Ensure that all the expired SSL/TLS certificates stored in AWS IAM are removed",
    ),
    covered(
        "1.20",
        "1.19",
        "Ensure that IAM Access analyzer is enabled for all regions",
    ),
    covered(
        "1.21",
        "1.20",
        "Ensure IAM users are managed centrally via identity federation or AWS Organizations for multi-account environments",
    ),
    covered(
        "1.22",
        "1.21",
        "Ensure access to AWSCloudShellFullAccess is restricted",
    ),
    covered("3.1", "3.1", "Ensure CloudTrail is enabled in all regions"),
];

/// The controls (v3.0.0 ids) a plan item of `rule` bears on. Rules that serve no control
/// (exemption-like per-user requirements, deletion of the password policy) have none.
pub fn controls_of(rule: Rule) -> &'static [&'static str] {
    match rule {
        // Whatever the policy's fields, the rule is where the password controls are met.
        Rule::PasswordPolicy => &["1.8", "1.9"],
        Rule::ConsoleRequireMfa => &["1.10"],
        Rule::ConsoleMaxUnused | Rule::KeysMaxUnused => &["1.12"],
        Rule::KeysMaxActive => &["1.13"],
        Rule::KeysMaxAge | Rule::KeysRotation => &["1.14"],
        Rule::AuditCloudTrail | Rule::AuditCloudTrailCreate => &["3.1"],
        Rule::RootForbidAccessKeys => &["1.4"],
        Rule::RootRequireMfa => &["1.5"],
        Rule::RootRequireHardwareMfa => &["1.6"],
        Rule::RootMaxUsed => &["1.7"],
        Rule::UsersForbidDirectPolicies => &["1.15"],
        Rule::AuditForbidFullAdmin => &["1.16"],
        Rule::AuditRequireSupportRole => &["1.17"],
        Rule::ServerCertificatesDeleteExpired => &["1.19"],
        Rule::AuditSecurityContact => &["1.2"],
        Rule::KeysForbidSetupKeys => &["1.11"],
        Rule::AuditAccessAnalyzer => &["1.20"],
        // Console users outside the inventory are what 1.21 asks to move to federation.
        Rule::UsersInventory => &["1.21"],
        Rule::AuditForbidCloudShell => &["1.22"],
        Rule::AuditForbidServiceWildcards | Rule::OrganizationRootAccess => &[],
        Rule::UsersException
        | Rule::BreakGlassMfa
        | Rule::BreakGlassAccessKey
        | Rule::BreakGlassPolicies
        | Rule::BreakGlassUsed
        | Rule::UsersRequireTags => &[],
        // CIS names access keys and passwords only; the other kinds' rules serve no control
        // of it (1.14 is about access keys).
        Rule::ServiceCredentialsMaxAge
        | Rule::SshKeysMaxAge
        | Rule::ServiceCredentialsAllowedServices
        | Rule::ServiceCredentialsRequireExpiry
        | Rule::ServiceCredentialsDeleteInactive
        | Rule::SshKeysDeleteInactive
        | Rule::SigningCertificatesForbid
        | Rule::MfaAllUsers
        | Rule::PasswordPolicyAbsent
        | Rule::ConsoleResetOnTightening
        | Rule::KeysDeleteInactive
        | Rule::User
        | Rule::UserConsole
        | Rule::UserPasswordReset => &[],
    }
}

/// The Security Hub standard whose IAM controls [`SECURITY_HUB_CONTROLS`] lists.
pub const SECURITY_HUB_STANDARD: &str = "AWS Foundational Security Best Practices (Security Hub)";

/// One of Security Hub's IAM controls (`IAM.n`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct HubControl {
    pub id: &'static str,
    pub title: &'static str,
    /// Retired by AWS: listed so its number is accounted for.
    pub retired: bool,
    /// Why no rule covers it; `None` for the controls rules cover (and the retired ones).
    pub not_covered: Option<&'static str>,
}

const fn hub(id: &'static str, title: &'static str) -> HubControl {
    HubControl {
        id,
        title,
        retired: false,
        not_covered: None,
    }
}

const fn hub_not_covered(id: &'static str, title: &'static str, why: &'static str) -> HubControl {
    HubControl {
        id,
        title,
        retired: false,
        not_covered: Some(why),
    }
}

/// Security Hub's IAM controls IAM.1–IAM.28, in their order.
pub const SECURITY_HUB_CONTROLS: &[HubControl] = &[
    hub(
        "IAM.1",
        "IAM policies should not allow full \"*\" administrative privileges",
    ),
    hub("IAM.2", "IAM users should not have IAM policies attached"),
    hub(
        "IAM.3",
        "IAM users' access keys should be rotated every 90 days or less",
    ),
    hub("IAM.4", "IAM root user access key should not exist"),
    hub(
        "IAM.5",
        "MFA should be enabled for all IAM users that have a console password",
    ),
    hub("IAM.6", "Hardware MFA should be enabled for the root user"),
    hub(
        "IAM.7",
        "Password policies for IAM users should have strong configurations",
    ),
    hub("IAM.8", "Unused IAM user credentials should be removed"),
    hub("IAM.9", "MFA should be enabled for the root user"),
    hub(
        "IAM.10",
        "Password policies for IAM users should have strong AWS Config configurations",
    ),
    hub(
        "IAM.11",
        "Ensure IAM password policy requires at least one uppercase letter",
    ),
    hub(
        "IAM.12",
        "Ensure IAM password policy requires at least one lowercase letter",
    ),
    hub(
        "IAM.13",
        "Ensure IAM password policy requires at least one symbol",
    ),
    hub(
        "IAM.14",
        "Ensure IAM password policy requires at least one number",
    ),
    hub(
        "IAM.15",
        "Ensure IAM password policy requires minimum password length of 14 or greater",
    ),
    hub(
        "IAM.16",
        "Ensure IAM password policy prevents password reuse",
    ),
    hub(
        "IAM.17",
        "Ensure IAM password policy expires passwords within 90 days or less",
    ),
    hub(
        "IAM.18",
        "Ensure a support role has been created to manage incidents with AWS Support",
    ),
    hub("IAM.19", "MFA should be enabled for all IAM users"),
    HubControl {
        id: "IAM.20",
        title: "Avoid the use of the root user",
        retired: true,
        not_covered: None,
    },
    hub(
        "IAM.21",
        "IAM customer managed policies that you create should not allow wildcard actions for services",
    ),
    hub(
        "IAM.22",
        "IAM user credentials unused for 45 days should be removed",
    ),
    hub_not_covered(
        "IAM.23",
        "IAM Access Analyzer analyzers should be tagged",
        "tags of analyzers are a tagging policy's concern, not IAM hygiene",
    ),
    hub_not_covered(
        "IAM.24",
        "IAM roles should be tagged",
        "roles are not a population iamctl governs",
    ),
    hub("IAM.25", "IAM users should be tagged"),
    hub(
        "IAM.26",
        "Expired SSL/TLS certificates managed in IAM should be removed",
    ),
    hub(
        "IAM.27",
        "IAM identities should not have the AWSCloudShellFullAccess policy attached",
    ),
    hub(
        "IAM.28",
        "IAM Access Analyzer external access analyzer should be enabled",
    ),
];

/// The Security Hub IAM controls a plan item of `rule` bears on (an exhaustive match, as
/// [`controls_of`]).
pub fn security_hub_of(rule: Rule) -> &'static [&'static str] {
    match rule {
        Rule::AuditForbidFullAdmin => &["IAM.1"],
        Rule::UsersForbidDirectPolicies => &["IAM.2"],
        Rule::KeysMaxAge | Rule::KeysRotation => &["IAM.3"],
        Rule::RootForbidAccessKeys => &["IAM.4"],
        Rule::ConsoleRequireMfa => &["IAM.5"],
        Rule::RootRequireHardwareMfa => &["IAM.6"],
        Rule::PasswordPolicy => &[
            "IAM.7", "IAM.10", "IAM.11", "IAM.12", "IAM.13", "IAM.14", "IAM.15", "IAM.16", "IAM.17",
        ],
        Rule::ConsoleMaxUnused | Rule::KeysMaxUnused => &["IAM.8", "IAM.22"],
        Rule::RootRequireMfa => &["IAM.9"],
        Rule::AuditRequireSupportRole => &["IAM.18"],
        Rule::MfaAllUsers => &["IAM.19"],
        Rule::ServerCertificatesDeleteExpired => &["IAM.26"],
        Rule::UsersRequireTags => &["IAM.25"],
        Rule::AuditForbidCloudShell => &["IAM.27"],
        Rule::AuditForbidServiceWildcards => &["IAM.21"],
        Rule::OrganizationRootAccess => &[],
        Rule::AuditAccessAnalyzer => &["IAM.28"],
        Rule::UsersInventory
        | Rule::UsersException
        | Rule::BreakGlassMfa
        | Rule::BreakGlassAccessKey
        | Rule::BreakGlassPolicies
        | Rule::BreakGlassUsed
        | Rule::KeysForbidSetupKeys
        | Rule::AuditSecurityContact => &[],
        Rule::PasswordPolicyAbsent
        | Rule::ConsoleResetOnTightening
        | Rule::KeysDeleteInactive
        | Rule::KeysMaxActive
        | Rule::User
        | Rule::UserConsole
        | Rule::UserPasswordReset
        | Rule::AuditCloudTrail
        | Rule::AuditCloudTrailCreate
        | Rule::RootMaxUsed
        | Rule::ServiceCredentialsMaxAge
        | Rule::ServiceCredentialsAllowedServices
        | Rule::ServiceCredentialsRequireExpiry
        | Rule::ServiceCredentialsDeleteInactive
        | Rule::SshKeysMaxAge
        | Rule::SshKeysDeleteInactive
        | Rule::SigningCertificatesForbid => &[],
    }
}

/// The rules that cover Security Hub control `control`, in rule order.
pub fn rules_covering_hub(control: &str) -> Vec<Rule> {
    Rule::ALL
        .into_iter()
        .filter(|rule| security_hub_of(*rule).contains(&control))
        .collect()
}

/// The rules that cover `control`, in rule order.
pub fn rules_covering(control: &str) -> Vec<Rule> {
    Rule::ALL
        .into_iter()
        .filter(|rule| controls_of(*rule).contains(&control))
        .collect()
}

/// Every control a plan item of `rule` bears on, as plan files carry them: the CIS ids
/// (`1.10`), then Security Hub's (`IAM.5`); the two never share a shape.
pub fn control_ids(rule: Rule) -> Vec<String> {
    controls_of(rule)
        .iter()
        .chain(security_hub_of(rule))
        .map(|c| (*c).to_owned())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_control_is_covered_by_a_rule_or_says_why_not() {
        for control in CONTROLS {
            let rules = rules_covering(control.id);
            match control.not_covered {
                None => assert!(!rules.is_empty(), "{} claims coverage", control.id),
                Some(_) => assert!(rules.is_empty(), "{} is covered by {rules:?}", control.id),
            }
        }
    }

    #[test]
    fn every_rule_names_controls_of_the_table_and_1_4_to_1_17_are_listed() {
        for rule in Rule::ALL {
            for id in controls_of(rule) {
                assert!(CONTROLS.iter().any(|c| c.id == *id), "{rule}: {id}");
            }
        }
        let ids: Vec<&str> = CONTROLS.iter().map(|c| c.id).collect();
        for n in 4..=17 {
            assert!(ids.contains(&format!("1.{n}").as_str()), "1.{n} missing");
        }
        assert!(ids.contains(&"3.1"));
        let unique: std::collections::BTreeSet<_> = ids.iter().collect();
        assert_eq!(unique.len(), ids.len());
    }

    #[test]
    fn security_hub_controls_are_iam_1_to_28_each_covered_retired_or_explained() {
        let ids: Vec<&str> = SECURITY_HUB_CONTROLS.iter().map(|c| c.id).collect();
        let expected: Vec<String> = (1..=28).map(|n| format!("IAM.{n}")).collect();
        assert_eq!(ids, expected);
        for control in SECURITY_HUB_CONTROLS {
            let rules = rules_covering_hub(control.id);
            match (control.retired, control.not_covered) {
                (true, _) | (false, Some(_)) => {
                    assert!(rules.is_empty(), "{} is covered by {rules:?}", control.id)
                }
                (false, None) => assert!(!rules.is_empty(), "{} claims coverage", control.id),
            }
        }
        for rule in Rule::ALL {
            for id in security_hub_of(rule) {
                assert!(ids.contains(id), "{rule}: {id}");
            }
        }
        assert_eq!(security_hub_of(Rule::MfaAllUsers), ["IAM.19"]);
        assert_eq!(
            control_ids(Rule::ServerCertificatesDeleteExpired),
            ["1.19", "IAM.26"]
        );
    }

    #[test]
    fn v5_numbers_follow_the_dropped_1_3() {
        let v5 = |id: &str| CONTROLS.iter().find(|c| c.id == id).unwrap().v5;
        assert_eq!(v5("1.4"), Some("1.3"));
        assert_eq!(v5("1.17"), Some("1.16"));
        assert_eq!(v5("1.3"), None);
        assert_eq!(v5("3.1"), Some("3.1"));
    }
}
