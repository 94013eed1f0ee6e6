//! The account's own settings: the password policy, and the CloudTrail trail that audits IAM.

use super::{Output, Rule};
use crate::desired::{PolicyRule, Rules};
use crate::plan::address::Address;
use crate::plan::change::{ChangeKind, NewTrail, TrailSettings};
use crate::state::{AccountState, PasswordPolicy, Trail};

/// `[audit]`: a finding when no trail watches IAM, or with `[audit.cloudtrail] create`, the
/// change that makes one do so: create the named trail, or put right the named trail that
/// exists (start it, make it multi-region). A trail whose selectors leave out management
/// writes is not rewritten: that stays a finding.
pub(super) fn plan_cloudtrail(rules: &Rules, live: &AccountState, out: &mut Output) {
    let Some(trails) = &live.trails else {
        out.finding(
            Address::CloudTrail,
            Rule::AuditCloudTrail,
            "trails were not read, so the CloudTrail requirement cannot be verified".into(),
        );
        return;
    };
    if trails.iter().any(Trail::watches_iam) {
        return;
    }
    let Some(spec) = &rules.cloudtrail_create else {
        out.finding(
            Address::CloudTrail,
            Rule::AuditCloudTrail,
            "no multi-region trail is logging management write events: IAM changes are not audited"
                .into(),
        );
        return;
    };
    // A multi-region trail of that name is the one to fix (names are unique per region).
    let own = trails
        .iter()
        .filter(|t| t.name == spec.name)
        .max_by_key(|t| t.is_multi_region);
    match own {
        None => out.change(
            Rule::AuditCloudTrailCreate,
            ChangeKind::CreateTrail {
                trail: NewTrail {
                    name: spec.name.clone(),
                    s3_bucket: spec.s3_bucket.clone(),
                },
            },
        ),
        Some(trail) if !trail.records_management_writes => out.finding(
            Address::CloudTrail,
            Rule::AuditCloudTrailCreate,
            format!(
                "trail {} exists but its event selectors leave out management write events; \
                 iamctl does not rewrite a trail's selectors: record them, or name another trail",
                trail.name
            ),
        ),
        Some(trail) => {
            let settings = |is_multi_region: bool, is_logging: bool| TrailSettings {
                name: trail.name.clone(),
                home_region: trail.home_region.clone(),
                is_multi_region,
                is_logging,
            };
            out.change(
                Rule::AuditCloudTrailCreate,
                ChangeKind::UpdateTrail {
                    before: settings(trail.is_multi_region, trail.is_logging),
                    after: settings(true, true),
                },
            );
        }
    }
}

/// Plans the password policy; returns whether the plan makes it stricter than it is now.
pub(super) fn plan_password_policy(rules: &Rules, live: &AccountState, out: &mut Output) -> bool {
    match &rules.password_policy {
        None => false,
        Some(PolicyRule::Absent) => {
            if let Some(current) = &live.password_policy {
                out.change(
                    Rule::PasswordPolicyAbsent,
                    ChangeKind::DeletePasswordPolicy {
                        before: current.clone(),
                    },
                );
            }
            false
        }
        Some(PolicyRule::Present(wanted)) => {
            match &live.password_policy {
                None => out.change(
                    Rule::PasswordPolicy,
                    ChangeKind::CreatePasswordPolicy {
                        after: wanted.clone(),
                    },
                ),
                Some(current) if current != wanted => out.change(
                    Rule::PasswordPolicy,
                    ChangeKind::UpdatePasswordPolicy {
                        before: current.clone(),
                        after: wanted.clone(),
                    },
                ),
                Some(_) => {}
            }
            policy_tightens(rules, live.password_policy.as_ref())
        }
    }
}

/// Whether the desired password policy is stricter than `live`, the policy in force (`None`:
/// IAM's defaults, which is what a new policy tightens): what makes
/// `reset_on_policy_tightening` reset the console passwords.
pub fn policy_tightens(rules: &Rules, live: Option<&PasswordPolicy>) -> bool {
    match &rules.password_policy {
        Some(PolicyRule::Present(wanted)) => {
            let in_force = live.cloned().unwrap_or_else(PasswordPolicy::iam_default);
            wanted.is_stricter_than(&in_force)
        }
        None | Some(PolicyRule::Absent) => false,
    }
}
