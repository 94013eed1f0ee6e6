//! Plan files as the report reads them: the saved-plan JSON (`plan -o`, `plan --format json`)
//! parsed with the plan's own types, so that a file iamctl did not write is refused by name,
//! then turned into the model's plain values ([`PlanInput`]).

use crate::plan::{AccountPlan, FORMAT_VERSION, Plan, Rule, controls::control_ids};
use crate::render::change_message;

use super::model::{AccountInput, Area, Item, ItemKind, PlanInput};

/// A file that is not a plan iamctl wrote.
#[derive(Debug, thiserror::Error)]
#[error("{source_name}: not an iamctl plan file: {reason}")]
pub struct InputError {
    pub source_name: String,
    pub reason: String,
}

/// Parses one plan file's bytes; `source` names it in errors and in the report.
pub fn parse_plan(source: &str, bytes: &[u8]) -> Result<PlanInput, InputError> {
    let fail = |reason: String| InputError {
        source_name: source.to_owned(),
        reason,
    };
    let plan: Plan = serde_json::from_slice(bytes).map_err(|e| fail(e.to_string()))?;
    if plan.format_version != FORMAT_VERSION {
        return Err(fail(format!(
            "format_version {:?}, this iamctl reads {FORMAT_VERSION:?}",
            plan.format_version
        )));
    }
    Ok(plan_input(source, plan))
}

/// A parsed plan as the model's input.
pub fn plan_input(source: &str, plan: Plan) -> PlanInput {
    PlanInput {
        source: source.to_owned(),
        run_id: plan.run_id,
        as_of: plan.as_of,
        accounts: plan.accounts.into_iter().map(account_input).collect(),
    }
}

fn account_input(account: AccountPlan) -> AccountInput {
    let changes = account.changes.into_iter().map(|change| Item {
        address: change.address().to_string(),
        rule: change.rule.to_string(),
        area: area_of(change.rule),
        kind: ItemKind::Change(change.action()),
        message: change_message(&change),
        owner: change.owner.clone(),
        due: None,
        controls: control_ids(change.rule),
    });
    let findings = account.findings.into_iter().map(|finding| Item {
        address: finding.address.to_string(),
        rule: finding.rule_name(),
        area: area_of(finding.rule),
        kind: ItemKind::Finding,
        due: finding.notice.map(|n| n.due),
        controls: control_ids(finding.rule),
        message: finding.message,
        owner: finding.owner,
    });
    AccountInput {
        name: account.name,
        account_id: account.account_id,
        error: account.error,
        items: changes.chain(findings).collect(),
    }
}

/// The matrix column of an item, by its rule (an exhaustive match: a new rule picks its
/// column).
pub fn area_of(rule: Rule) -> Area {
    match rule {
        Rule::PasswordPolicy | Rule::PasswordPolicyAbsent => Area::PasswordPolicy,
        Rule::ConsoleRequireMfa | Rule::MfaAllUsers => Area::Mfa,
        Rule::ConsoleMaxUnused
        | Rule::ConsoleResetOnTightening
        | Rule::User
        | Rule::UserConsole
        | Rule::UserPasswordReset => Area::Console,
        Rule::KeysMaxAge
        | Rule::KeysMaxUnused
        | Rule::KeysDeleteInactive
        | Rule::KeysMaxActive
        | Rule::KeysRotation => Area::AccessKeys,
        Rule::AuditCloudTrail | Rule::AuditCloudTrailCreate => Area::CloudTrail,
        Rule::RootForbidAccessKeys
        | Rule::RootRequireMfa
        | Rule::RootRequireHardwareMfa
        | Rule::RootMaxUsed => Area::Root,
        Rule::UsersForbidDirectPolicies
        | Rule::AuditForbidFullAdmin
        | Rule::AuditRequireSupportRole => Area::Policies,
        Rule::ServiceCredentialsMaxAge
        | Rule::ServiceCredentialsAllowedServices
        | Rule::ServiceCredentialsRequireExpiry
        | Rule::ServiceCredentialsDeleteInactive
        | Rule::SshKeysMaxAge
        | Rule::SshKeysDeleteInactive
        | Rule::SigningCertificatesForbid
        | Rule::ServerCertificatesDeleteExpired => Area::OtherCredentials,
        Rule::UsersInventory
        | Rule::UsersException
        | Rule::UsersRequireTags
        | Rule::BreakGlassUsed
        | Rule::BreakGlassPolicies => Area::Users,
        Rule::BreakGlassMfa => Area::Mfa,
        Rule::BreakGlassAccessKey | Rule::KeysForbidSetupKeys => Area::AccessKeys,
        Rule::AuditForbidCloudShell | Rule::AuditForbidServiceWildcards => Area::Policies,
        Rule::AuditSecurityContact | Rule::AuditAccessAnalyzer | Rule::OrganizationRootAccess => {
            Area::Account
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_area_has_a_rule_and_population_and_account_rules_have_their_own_columns() {
        let rules = Rule::ALL;
        for area in Area::ALL {
            assert!(
                rules.iter().any(|rule| area_of(*rule) == area),
                "no rule fills the {} column",
                area.title()
            );
        }
        assert_eq!(area_of(Rule::UsersInventory), Area::Users);
        assert_eq!(area_of(Rule::BreakGlassUsed), Area::Users);
        assert_eq!(area_of(Rule::OrganizationRootAccess), Area::Account);
        assert_eq!(area_of(Rule::AuditSecurityContact), Area::Account);
        assert_eq!(area_of(Rule::AuditForbidServiceWildcards), Area::Policies);
    }
}
