//! Plan items as findings in the AWS Security Finding Format, as plain values ([`HubItem`]),
//! pure: one per change and finding of an account's plan, with an id that stays the same from
//! run to run (account, address, rule), so importing it again updates the same finding.
//! `mod.rs` turns them into the SDK's `AwsSecurityFinding` and imports them.

use crate::plan::controls::{BENCHMARK, controls_of};
use crate::plan::describe::{change_message, description as rule_description};
use crate::plan::{AccountPlan, Address, Rule};
use crate::state::AccountState;

/// Every iamctl finding's id and generator id start with this, which is how the previous
/// ones are told from other findings of the account's default product.
pub const ID_PREFIX: &str = "iamctl/";

/// Security Hub's limits on a finding's title and description, in characters.
const TITLE_LIMIT: usize = 256;
const DESCRIPTION_LIMIT: usize = 1024;

/// The `Types` of an item whose rule covers CIS controls, and of any other.
pub const TYPE_CIS: &str = "Software and Configuration Checks/Industry and Regulatory Standards/CIS AWS Foundations Benchmark";
pub const TYPE_BEST_PRACTICE: &str =
    "Software and Configuration Checks/AWS Security Best Practices";

/// How bad an item is. A change and a finding are both the account departing from the
/// desired state (`MEDIUM`; a finding is one apply cannot fix, not a lesser one); a notice
/// announces what a rule will do on a date (`LOW`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Severity {
    Low,
    Medium,
}

/// What a finding's `Compliance.Status` says while the item stands: `FAILED`, or `WARNING`
/// for a notice (not yet due).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Standing {
    Failed,
    Warning,
}

/// What kind of plan item a finding reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Change,
    Finding,
    Notice,
}

impl Kind {
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Change => "change",
            Kind::Finding => "finding",
            Kind::Notice => "notice",
        }
    }

    fn severity(self) -> Severity {
        match self {
            Kind::Change | Kind::Finding => Severity::Medium,
            Kind::Notice => Severity::Low,
        }
    }

    fn standing(self) -> Standing {
        match self {
            Kind::Change | Kind::Finding => Standing::Failed,
            Kind::Notice => Standing::Warning,
        }
    }
}

/// The resource a finding is about, in Security Hub's resource types.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HubResource {
    /// `AwsIamUser` (the user's ARN), `AwsAccount` (`AWS::::Account:ID`), or `Other` (groups
    /// and roles, whose ARNs the plan does not know: `ACCOUNT_ID/ADDRESS`).
    pub kind: &'static str,
    pub id: String,
}

/// One plan item as a Security Hub finding.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HubItem {
    /// `iamctl/ACCOUNT_ID/ADDRESS/RULE`: the same item gets the same id on every run.
    pub id: String,
    /// `iamctl/RULE` (a notice's rule is `RULE.notice`).
    pub generator_id: String,
    pub title: String,
    pub description: String,
    pub kind: Kind,
    pub severity: Severity,
    pub standing: Standing,
    pub types: Vec<&'static str>,
    /// `CIS AWS Foundations Benchmark v3.0.0/1.14`, ...: `Compliance.RelatedRequirements`.
    pub requirements: Vec<String>,
    pub resource: HubResource,
    /// The account as the plan names it, the address and the rule: `ProductFields`.
    pub account: String,
    pub address: String,
    pub rule: String,
}

/// The findings of one account's plan: one per change and finding, in plan order. `live` is
/// the state it was planned from (for users' ARNs); `partition` names the ARNs' partition.
pub fn items(plan: &AccountPlan, live: Option<&AccountState>, partition: &str) -> Vec<HubItem> {
    let changes = plan.changes.iter().map(|change| Source {
        rule: change.rule,
        rule_name: change.rule.to_string(),
        kind: Kind::Change,
        address: change.address(),
        message: change_message(change),
    });
    let findings = plan.findings.iter().map(|finding| Source {
        rule: finding.rule,
        rule_name: finding.rule_name(),
        kind: if finding.notice.is_some() {
            Kind::Notice
        } else {
            Kind::Finding
        },
        address: finding.address.clone(),
        message: finding.message.clone(),
    });
    changes
        .chain(findings)
        .map(|source| item(plan, live, partition, source))
        .collect()
}

struct Source {
    rule: Rule,
    rule_name: String,
    kind: Kind,
    address: Address,
    message: String,
}

fn item(
    plan: &AccountPlan,
    live: Option<&AccountState>,
    partition: &str,
    source: Source,
) -> HubItem {
    let Source {
        rule,
        rule_name,
        kind,
        address,
        message,
    } = source;
    let controls = controls_of(rule);
    let title = match kind {
        Kind::Notice => format!("Notice: {}: {address}", rule_description(rule)),
        Kind::Change | Kind::Finding => format!("{}: {address}", rule_description(rule)),
    };
    let description = format!(
        "{message} (account {}, rule {rule_name}, {})",
        plan.name,
        match kind {
            Kind::Change => "iamctl apply will make this change",
            Kind::Finding => "a person must fix this: iamctl apply cannot",
            Kind::Notice => "iamctl apply will act on the date given",
        }
    );
    HubItem {
        id: format!("{ID_PREFIX}{}/{address}/{rule_name}", plan.account_id),
        generator_id: format!("{ID_PREFIX}{rule_name}"),
        title: cut(&title, TITLE_LIMIT),
        description: cut(&description, DESCRIPTION_LIMIT),
        kind,
        severity: kind.severity(),
        standing: kind.standing(),
        types: vec![if controls.is_empty() {
            TYPE_BEST_PRACTICE
        } else {
            TYPE_CIS
        }],
        requirements: controls
            .iter()
            .map(|control| format!("{BENCHMARK}/{control}"))
            .collect(),
        resource: resource(&plan.account_id, live, partition, &address),
        account: plan.name.clone(),
        address: address.to_string(),
        rule: rule_name,
    }
}

fn resource(
    account_id: &str,
    live: Option<&AccountState>,
    partition: &str,
    address: &Address,
) -> HubResource {
    match address {
        Address::User(user)
        | Address::LoginProfile(user)
        | Address::AccessKey { user, .. }
        | Address::UserPolicy { user, .. }
        | Address::Credential { user, .. } => {
            let known = live
                .and_then(|state| state.users.iter().find(|u| &u.name == user))
                .map(|u| u.arn.clone())
                .filter(|arn| !arn.is_empty());
            HubResource {
                kind: "AwsIamUser",
                id: known
                    .unwrap_or_else(|| format!("arn:{partition}:iam::{account_id}:user/{user}")),
            }
        }
        Address::PasswordPolicy
        | Address::CloudTrail
        | Address::Root
        | Address::Account
        | Address::Organization => HubResource {
            kind: "AwsAccount",
            id: format!("AWS::::Account:{account_id}"),
        },
        Address::ServerCertificate(name) => HubResource {
            kind: "Other",
            id: format!("arn:{partition}:iam::{account_id}:server-certificate/{name}"),
        },
        Address::Group(_) | Address::Role(_) => HubResource {
            kind: "Other",
            id: format!("{account_id}/{address}"),
        },
    }
}

/// The partition of a region's ARNs.
pub fn partition_of(region: &str) -> &'static str {
    if region.starts_with("cn-") {
        "aws-cn"
    } else if region.starts_with("us-gov-") {
        "aws-us-gov"
    } else {
        "aws"
    }
}

/// The ARN of the account's own product in Security Hub, which a customer's findings use.
pub fn product_arn(partition: &str, region: &str, account_id: &str) -> String {
    format!("arn:{partition}:securityhub:{region}:{account_id}:product/{account_id}/default")
}

/// `text`, cut to `limit` characters (with an ellipsis) when longer.
fn cut(text: &str, limit: usize) -> String {
    if text.chars().count() <= limit {
        return text.to_owned();
    }
    text.chars().take(limit - 1).collect::<String>() + "…"
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plan::{Finding, Notice};

    fn plan(findings: Vec<Finding>) -> AccountPlan {
        AccountPlan {
            name: "prod".into(),
            account_id: "111111111111".into(),
            changes: Vec::new(),
            findings,
            credential_report_generated_at: None,
            error: None,
        }
    }

    #[test]
    fn a_finding_has_a_stable_id_its_controls_and_its_resource() {
        let finding = Finding::new(
            Address::Root,
            Rule::RootForbidAccessKeys,
            "the root user has access keys: delete them".into(),
        );
        let items = items(&plan(vec![finding]), None, "aws");
        assert_eq!(
            items,
            [HubItem {
                id: "iamctl/111111111111/root/root.forbid_access_keys".into(),
                generator_id: "iamctl/root.forbid_access_keys".into(),
                title: "The root user must have no access keys: root".into(),
                description: "the root user has access keys: delete them (account prod, rule \
                              root.forbid_access_keys, a person must fix this: iamctl apply \
                              cannot)"
                    .into(),
                kind: Kind::Finding,
                severity: Severity::Medium,
                standing: Standing::Failed,
                types: vec![TYPE_CIS],
                requirements: vec!["CIS AWS Foundations Benchmark v3.0.0/1.4".into()],
                resource: HubResource {
                    kind: "AwsAccount",
                    id: "AWS::::Account:111111111111".into(),
                },
                account: "prod".into(),
                address: "root".into(),
                rule: "root.forbid_access_keys".into(),
            }]
        );
    }

    #[test]
    fn a_notice_is_a_low_warning_about_the_user_and_roles_are_other_resources() {
        let mut notice = Finding::new(
            Address::User("bob".into()),
            Rule::ConsoleMaxUnused,
            "console password unused".into(),
        );
        notice.notice = Some(Notice {
            due: chrono::DateTime::UNIX_EPOCH,
            action: crate::plan::Action::Delete,
        });
        let role = Finding::new(
            Address::Role("ops".into()),
            Rule::AuditForbidFullAdmin,
            "allows * on *".into(),
        );
        let items = items(&plan(vec![notice, role]), None, "aws-cn");
        assert_eq!(
            items[0].id,
            "iamctl/111111111111/user.bob/users.console.max_unused_days.notice"
        );
        assert_eq!(
            (items[0].kind, items[0].severity, items[0].standing),
            (Kind::Notice, Severity::Low, Standing::Warning)
        );
        assert_eq!(
            items[0].resource,
            HubResource {
                kind: "AwsIamUser",
                id: "arn:aws-cn:iam::111111111111:user/bob".into()
            }
        );
        assert_eq!(
            items[1].resource,
            HubResource {
                kind: "Other",
                id: "111111111111/role.ops".into()
            }
        );
    }

    #[test]
    fn partitions_and_the_default_product() {
        assert_eq!(partition_of("eu-west-1"), "aws");
        assert_eq!(partition_of("cn-north-1"), "aws-cn");
        assert_eq!(partition_of("us-gov-west-1"), "aws-us-gov");
        assert_eq!(
            product_arn("aws", "eu-west-1", "111111111111"),
            "arn:aws:securityhub:eu-west-1:111111111111:product/111111111111/default"
        );
        assert_eq!(cut("abcdef", 4), "abc…");
        assert_eq!(cut("abc", 4), "abc");
    }
}
