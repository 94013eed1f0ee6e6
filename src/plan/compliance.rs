//! The rules that only report (SPEC "Compliance coverage", CIS IAM controls): the root user,
//! policies attached directly to users, policies that allow everything, the support role.
//! Pure, like the rest of the engine: each judges facts the live read already holds.

use chrono::{DateTime, Utc};

use super::address::Address;
use super::change::DENY_WITHOUT_MFA_POLICY;
use super::model::Finding;
use super::rule::Rule;
use crate::desired::ComplianceRules;
use crate::state::{AccountState, Grantee, OrganizationFeatures, RootUser, User};

/// The AWS-managed policy a support role carries (CIS 1.17).
pub const SUPPORT_POLICY: &str = "AWSSupportAccess";

/// The findings about one user that is not exempt, in rule order.
pub(crate) fn user_findings(rules: &ComplianceRules, user: &User) -> Vec<(Rule, String)> {
    let mut out = Vec::new();
    // iamctl's own deny policy grants nothing: it is not a permission given directly.
    let attached: Vec<&str> = user
        .attached_policies
        .iter()
        .map(String::as_str)
        .filter(|p| *p != DENY_WITHOUT_MFA_POLICY)
        .collect();
    if rules.forbid_direct_policies && !(attached.is_empty() && user.inline_policies.is_empty()) {
        let mut parts = Vec::new();
        if !attached.is_empty() {
            parts.push(format!(
                "{} attached ({})",
                count(attached.len(), "policy", "policies"),
                attached.join(", ")
            ));
        }
        if !user.inline_policies.is_empty() {
            parts.push(format!(
                "{} inline ({})",
                count(user.inline_policies.len(), "policy", "policies"),
                user.inline_policies.join(", ")
            ));
        }
        out.push((
            Rule::UsersForbidDirectPolicies,
            format!(
                "permissions granted to the user directly: {}; grant them through groups or roles",
                parts.join(" and ")
            ),
        ));
    }
    if rules.forbid_full_admin_policies && !user.full_admin_policies.is_empty() {
        out.push((
            Rule::AuditForbidFullAdmin,
            full_admin_message(&user.full_admin_policies),
        ));
    }
    out
}

/// The findings about the account as a whole, in address order: `root`, `account`, then
/// groups and roles by name.
pub(crate) fn account_findings(
    rules: &ComplianceRules,
    live: &AccountState,
    as_of: DateTime<Utc>,
) -> Vec<Finding> {
    let mut out = Vec::new();
    let mut finding = |address: Address, rule: Rule, message: String| {
        out.push(Finding::new(address, rule, message))
    };
    for (rule, message) in root_findings(rules, live.root.as_ref(), as_of) {
        finding(Address::Root, rule, message);
    }
    let not_read = |what: &str| format!("{what} were not read, so this cannot be verified");
    if rules.require_support_role {
        match &live.roles {
            None => finding(
                Address::Account,
                Rule::AuditRequireSupportRole,
                not_read("roles"),
            ),
            Some(roles) if !roles.iter().any(is_support_role) => finding(
                Address::Account,
                Rule::AuditRequireSupportRole,
                format!(
                    "no role has the AWS-managed {SUPPORT_POLICY} policy: create one to manage incidents with AWS Support"
                ),
            ),
            Some(_) => {}
        }
    }
    if rules.forbid_full_admin_policies {
        for (what, grantees, address) in [
            (
                "groups",
                &live.groups,
                Address::Group as fn(String) -> Address,
            ),
            ("roles", &live.roles, Address::Role),
        ] {
            let Some(grantees) = grantees else {
                finding(Address::Account, Rule::AuditForbidFullAdmin, not_read(what));
                continue;
            };
            let mut flagged: Vec<&Grantee> = grantees
                .iter()
                .filter(|g| !g.full_admin_policies.is_empty())
                .collect();
            flagged.sort_by(|a, b| a.name.cmp(&b.name));
            for grantee in flagged {
                finding(
                    address(grantee.name.clone()),
                    Rule::AuditForbidFullAdmin,
                    full_admin_message(&grantee.full_admin_policies),
                );
            }
        }
    }
    out
}

/// `[root]`: each rule written, in rule order.
fn root_findings(
    rules: &ComplianceRules,
    root: Option<&RootUser>,
    as_of: DateTime<Utc>,
) -> Vec<(Rule, String)> {
    let mut out = Vec::new();
    let Some(root) = root else {
        let written = [
            (rules.root_forbid_access_keys, Rule::RootForbidAccessKeys),
            (rules.root_require_mfa, Rule::RootRequireMfa),
            (
                rules.root_require_hardware_mfa,
                Rule::RootRequireHardwareMfa,
            ),
            (rules.root_max_used_days.is_some(), Rule::RootMaxUsed),
        ];
        for (_, rule) in written.into_iter().filter(|(on, _)| *on) {
            out.push((
                rule,
                "the root user was not read, so this cannot be verified".to_owned(),
            ));
        }
        return out;
    };
    if rules.root_forbid_access_keys && root.access_keys_present {
        out.push((
            Rule::RootForbidAccessKeys,
            "the root user has access keys: delete them".to_owned(),
        ));
    }
    if rules.root_require_mfa && !root.mfa_enabled {
        out.push((Rule::RootRequireMfa, "the root user has no MFA".to_owned()));
    }
    if rules.root_require_hardware_mfa {
        let message = match (root.mfa_enabled, root.virtual_mfa) {
            // `require_mfa` says it already, when written.
            (false, _) if rules.root_require_mfa => None,
            (false, _) => Some("the root user has no MFA (a hardware device is required)"),
            (true, Some(true)) => {
                Some("the root user's MFA is a virtual device, not a hardware one")
            }
            (true, None) => Some(
                "whether the root user's MFA is a hardware device was not read, so this cannot be verified",
            ),
            (true, Some(false)) => None,
        };
        if let Some(message) = message {
            out.push((Rule::RootRequireHardwareMfa, message.to_owned()));
        }
    }
    if let Some(days) = rules.root_max_used_days {
        match &root.usage {
            None => out.push((
                Rule::RootMaxUsed,
                "the credential report has no root row, so when the root user was last used is not known".to_owned(),
            )),
            Some(usage) => {
                if let Some(last) = usage.last_used.filter(|last| as_of - *last <= chrono::Duration::days(days)) {
                    out.push((
                        Rule::RootMaxUsed,
                        format!(
                            "the root user was used {} days ago, on {} (not to be used within {days} days)",
                            (as_of - last).num_days().max(0),
                            last.format("%Y-%m-%d")
                        ),
                    ));
                }
            }
        }
    }
    out
}

/// A role carrying the AWS-managed support policy, in any partition.
fn is_support_role(role: &Grantee) -> bool {
    role.attached_policy_arns.iter().any(|arn| {
        arn.starts_with("arn:") && arn.ends_with(&format!(":iam::aws:policy/{SUPPORT_POLICY}"))
    })
}

fn full_admin_message(policies: &[String]) -> String {
    match policies {
        [one] => format!("policy {one} allows \"*\" on \"*\" (full administrative access)"),
        many => format!(
            "policies {} allow \"*\" on \"*\" (full administrative access)",
            many.join(", ")
        ),
    }
}

fn count(n: usize, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

/// `[organization] require_root_credentials_management`: the organization's centralized root
/// access (`RootCredentialsManagement` and `RootSessions`), as `ListOrganizationsFeatures`
/// answered the identity iamctl starts from, once per run. A finding at `organization` when
/// either is off, or when it could not be judged (and why).
pub fn organization_findings(features: &OrganizationFeatures) -> Vec<Finding> {
    let message = match features {
        OrganizationFeatures::Read {
            root_credentials_management: true,
            root_sessions: true,
            ..
        } => return Vec::new(),
        OrganizationFeatures::Read {
            organization_id,
            root_credentials_management,
            root_sessions,
        } => {
            let off: Vec<&str> = [
                (!root_credentials_management).then_some("RootCredentialsManagement"),
                (!root_sessions).then_some("RootSessions"),
            ]
            .into_iter()
            .flatten()
            .collect();
            format!(
                "centralized root access is not enabled in {organization_id}: {} off (IAM console: Root access management)",
                off.join(" and ")
            )
        }
        OrganizationFeatures::ServiceAccessNotEnabled => {
            "trusted access for IAM is not enabled in the organization: no root-access feature can be on".to_owned()
        }
        OrganizationFeatures::NotManagementAccount => {
            "not judged: the identity iamctl starts from is not in the management account or a delegated administrator for IAM".to_owned()
        }
        OrganizationFeatures::NoOrganization => {
            "not judged: the identity iamctl starts from belongs to no organization".to_owned()
        }
    };
    vec![Finding::new(
        Address::Organization,
        Rule::OrganizationRootAccess,
        message,
    )]
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;

    use super::*;
    use crate::desired::Rules;
    use crate::plan::plan_account;
    use crate::state::RootUsage;

    fn as_of() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 11, 1, 0, 0, 0).unwrap()
    }

    fn every_rule() -> Rules {
        Rules {
            exemptions: crate::desired::Exemptions::new(
                vec!["break-glass-*".into()],
                Default::default(),
            )
            .unwrap(),
            compliance: ComplianceRules {
                root_forbid_access_keys: true,
                root_require_mfa: true,
                root_require_hardware_mfa: true,
                root_max_used_days: Some(30),
                forbid_direct_policies: true,
                forbid_full_admin_policies: true,
                require_support_role: true,
            },
            ..Default::default()
        }
    }

    fn grantee(name: &str, arns: &[&str], full_admin: &[&str]) -> Grantee {
        Grantee {
            name: name.into(),
            attached_policy_arns: arns.iter().map(|s| s.to_string()).collect(),
            full_admin_policies: full_admin.iter().map(|s| s.to_string()).collect(),
        }
    }

    fn compliant() -> AccountState {
        let mut in_group = User::new("alice", as_of() - chrono::Duration::days(400));
        in_group.attached_policies = vec![DENY_WITHOUT_MFA_POLICY.into()];
        AccountState {
            account_id: "111111111111".into(),
            users: vec![in_group],
            root: Some(RootUser {
                access_keys_present: false,
                mfa_enabled: true,
                virtual_mfa: Some(false),
                usage: Some(RootUsage {
                    last_used: Some(as_of() - chrono::Duration::days(31)),
                }),
            }),
            groups: Some(vec![grantee(
                "readers",
                &["arn:aws:iam::aws:policy/ReadOnlyAccess"],
                &[],
            )]),
            roles: Some(vec![grantee(
                "support",
                &["arn:aws:iam::aws:policy/AWSSupportAccess"],
                &[],
            )]),
            ..Default::default()
        }
    }

    fn findings(rules: &Rules, state: &AccountState) -> Vec<(String, String, String)> {
        let plan = plan_account("t", rules, state, as_of());
        assert!(
            plan.changes.is_empty(),
            "compliance rules never change anything"
        );
        plan.findings
            .into_iter()
            .map(|f| (f.address.to_string(), f.rule.to_string(), f.message))
            .collect()
    }

    fn triple(address: &str, rule: &str, message: &str) -> (String, String, String) {
        (address.into(), rule.into(), message.into())
    }

    #[test]
    fn a_compliant_account_has_no_finding() {
        assert_eq!(findings(&every_rule(), &compliant()), []);
    }

    #[test]
    fn each_rule_reports_what_it_finds_in_address_order() {
        let mut state = compliant();
        let mut direct = User::new("bob", as_of());
        direct.attached_policies = vec!["AdministratorAccess".into(), "ReadOnlyAccess".into()];
        direct.inline_policies = vec!["tmp".into()];
        direct.full_admin_policies = vec!["AdministratorAccess".into(), "tmp".into()];
        let mut exempt = direct.clone();
        exempt.name = "break-glass-1".into();
        state.users.extend([direct, exempt]);
        state.users.sort_by(|a, b| a.name.cmp(&b.name));
        state.root = Some(RootUser {
            access_keys_present: true,
            mfa_enabled: true,
            virtual_mfa: Some(true),
            usage: Some(RootUsage {
                last_used: Some(as_of() - chrono::Duration::days(3)),
            }),
        });
        state.groups = Some(vec![grantee(
            "admins",
            &["arn:aws:iam::aws:policy/AdministratorAccess"],
            &["AdministratorAccess"],
        )]);
        state.roles = Some(vec![grantee("deployer", &[], &["deploy-all"])]);
        assert_eq!(
            findings(&every_rule(), &state),
            [
                triple(
                    "user.bob",
                    "users.forbid_direct_policies",
                    "permissions granted to the user directly: 2 policies attached (AdministratorAccess, ReadOnlyAccess) and 1 policy inline (tmp); grant them through groups or roles"
                ),
                triple(
                    "user.bob",
                    "audit.forbid_full_admin_policies",
                    "policies AdministratorAccess, tmp allow \"*\" on \"*\" (full administrative access)"
                ),
                triple(
                    "root",
                    "root.forbid_access_keys",
                    "the root user has access keys: delete them"
                ),
                triple(
                    "root",
                    "root.require_hardware_mfa",
                    "the root user's MFA is a virtual device, not a hardware one"
                ),
                triple(
                    "root",
                    "root.max_used_days",
                    "the root user was used 3 days ago, on 2026-10-29 (not to be used within 30 days)"
                ),
                triple(
                    "account",
                    "audit.require_support_role",
                    "no role has the AWS-managed AWSSupportAccess policy: create one to manage incidents with AWS Support"
                ),
                triple(
                    "group.admins",
                    "audit.forbid_full_admin_policies",
                    "policy AdministratorAccess allows \"*\" on \"*\" (full administrative access)"
                ),
                triple(
                    "role.deployer",
                    "audit.forbid_full_admin_policies",
                    "policy deploy-all allows \"*\" on \"*\" (full administrative access)"
                ),
            ]
        );
    }

    #[test]
    fn root_without_mfa_is_reported_once_and_unread_facts_are_said() {
        let mut state = compliant();
        state.root = Some(RootUser {
            mfa_enabled: false,
            usage: None,
            ..Default::default()
        });
        assert_eq!(
            findings(&every_rule(), &state),
            [
                triple("root", "root.require_mfa", "the root user has no MFA"),
                triple(
                    "root",
                    "root.max_used_days",
                    "the credential report has no root row, so when the root user was last used is not known"
                ),
            ]
        );
        let mut hardware_only = every_rule();
        hardware_only.compliance.root_require_mfa = false;
        assert_eq!(
            findings(&hardware_only, &state)[0],
            triple(
                "root",
                "root.require_hardware_mfa",
                "the root user has no MFA (a hardware device is required)"
            )
        );
        let unread = AccountState {
            root: None,
            groups: None,
            roles: None,
            ..compliant()
        };
        let found = findings(&every_rule(), &unread);
        assert_eq!(found.len(), 7, "{found:?}");
        assert_eq!(
            found[0],
            triple(
                "root",
                "root.forbid_access_keys",
                "the root user was not read, so this cannot be verified"
            )
        );
        assert_eq!(
            found[5],
            triple(
                "account",
                "audit.forbid_full_admin_policies",
                "groups were not read, so this cannot be verified"
            )
        );
    }

    #[test]
    fn rules_not_written_judge_nothing() {
        let mut state = compliant();
        state.root = None;
        state.roles = None;
        state.users[0].inline_policies = vec!["x".into()];
        assert_eq!(findings(&Rules::default(), &state), []);
    }
}
