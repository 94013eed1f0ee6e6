//! The account-level controls of `[audit]` that an API can judge: a security contact
//! registered (CIS 1.2), IAM Access Analyzer in the regions listed (CIS 1.20),
//! `AWSCloudShellFullAccess` attached to no user, group or role (CIS 1.22), and no
//! customer-managed policy allowing `SERVICE:*` (Security Hub IAM.21). Findings only: each
//! is fixed by a decision iamctl does not take for the account.

use super::{Context, Output};
use crate::plan::address::Address;
use crate::plan::rule::Rule;

/// The AWS-managed policy CIS 1.22 restricts.
pub(crate) const CLOUDSHELL_FULL_ACCESS: &str = "AWSCloudShellFullAccess";

impl Context<'_> {
    pub(super) fn plan_account_controls(&self, out: &mut Output) {
        let controls = &self.rules.account_controls;
        if controls.require_security_contact && self.live.security_contact_registered == Some(false)
        {
            out.finding(
                Address::Account,
                Rule::AuditSecurityContact,
                "no security contact is registered (Account Management: alternate contact SECURITY)"
                    .into(),
            );
        }
        if let Some(analyzers) = &self.live.access_analyzers {
            for region in &controls.access_analyzer_regions {
                if analyzers.get(region).is_none_or(Vec::is_empty) {
                    out.finding(
                        Address::Account,
                        Rule::AuditAccessAnalyzer,
                        format!("no active IAM Access Analyzer analyzer in {region}"),
                    );
                }
            }
        }
        if controls.forbid_service_wildcards {
            for policy in self.live.service_wildcard_policies.iter().flatten() {
                out.finding(
                    Address::Account,
                    Rule::AuditForbidServiceWildcards,
                    format!(
                        "the customer-managed policy {policy} allows every action of a service (SERVICE:*)"
                    ),
                );
            }
        }
        if controls.forbid_cloudshell_full_access {
            let message = || format!("{CLOUDSHELL_FULL_ACCESS} is attached");
            for user in &self.live.users {
                if !self.rules.exemptions.is_exempt(user)
                    && user
                        .attached_policies
                        .iter()
                        .any(|p| p == CLOUDSHELL_FULL_ACCESS)
                {
                    out.finding(
                        Address::User(user.name.clone()),
                        Rule::AuditForbidCloudShell,
                        message(),
                    );
                }
            }
            let attached = |arns: &[String]| {
                arns.iter()
                    .any(|arn| arn.ends_with(&format!(":policy/{CLOUDSHELL_FULL_ACCESS}")))
            };
            for group in self.live.groups.iter().flatten() {
                if attached(&group.attached_policy_arns) {
                    out.finding(
                        Address::Group(group.name.clone()),
                        Rule::AuditForbidCloudShell,
                        message(),
                    );
                }
            }
            for role in self.live.roles.iter().flatten() {
                if attached(&role.attached_policy_arns) {
                    out.finding(
                        Address::Role(role.name.clone()),
                        Rule::AuditForbidCloudShell,
                        message(),
                    );
                }
            }
        }
    }
}
