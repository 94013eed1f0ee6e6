//! `plan --security-hub`, `apply --security-hub`: the plan's items as findings in each target
//! account's AWS Security Hub, in the region of the target's configuration, with the target's
//! credentials. Each item is imported (`BatchImportFindings`, 100 at a time) under an id that
//! stays the same from run to run, so a rerun updates the same findings; iamctl's active
//! findings of an earlier run that are no longer items (`GetFindings`) are imported again as
//! resolved (`Compliance.Status` PASSED, `RecordState` ARCHIVED, `Workflow.Status` RESOLVED).
//! A failure is reported and never fails the plan or apply.
//!
//! `asff.rs` makes the findings from a plan, purely.

mod asff;

pub use asff::{
    HubItem, HubResource, ID_PREFIX, Kind, Severity, Standing, TYPE_BEST_PRACTICE, TYPE_CIS, items,
    partition_of, product_arn,
};

use std::collections::{BTreeMap, BTreeSet};

use aws_sdk_securityhub::types::{
    AwsSecurityFinding, AwsSecurityFindingFilters, Compliance, ComplianceStatus,
    FindingProviderFields, FindingProviderSeverity, Partition, RecordState, Resource,
    SeverityLabel, StringFilter, StringFilterComparison, Workflow, WorkflowStatus,
};
use chrono::{DateTime, SecondsFormat, Utc};
use futures::StreamExt;

use crate::aws::{AccountClients, AwsError, call};
use crate::outcome::{Outcome, OutcomeStatus};
use crate::permissions::{BATCH_IMPORT_FINDINGS, GET_FINDINGS};
use crate::plan::AccountPlan;
use crate::state::AccountState;

/// `BatchImportFindings` takes at most 100 findings per request.
pub const BATCH_SIZE: usize = 100;

/// The ASFF version Security Hub reads.
const SCHEMA_VERSION: &str = "2018-10-08";

/// Security Hub's region when the target's configuration names none (it always does once
/// `aws::ClientFactory` made it).
const FALLBACK_REGION: &str = "us-east-1";

/// One account to report: its plan (as it stands after the run: for `apply`, without the
/// changes it made, see [`still_open`]), the state it was planned from, and its clients.
pub struct HubAccount<'a> {
    pub clients: &'a AccountClients,
    pub plan: AccountPlan,
    pub live: Option<&'a AccountState>,
}

/// What importing came to, over every account.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct HubReport {
    /// Findings imported as active: one per plan item.
    pub imported: usize,
    /// Findings of earlier runs imported again as resolved.
    pub resolved: usize,
    /// Accounts (or findings) that could not be imported, with why; warnings, not failures.
    pub failures: Vec<String>,
}

/// `plan` after `apply`: the changes that were done are fixed and leave it; the failed and
/// skipped ones stand. `outcomes` are in the order of `plan.changes` (`None`: nothing was
/// attempted in the account).
pub fn still_open(plan: &AccountPlan, outcomes: Option<&[Outcome]>) -> AccountPlan {
    let mut open = plan.clone();
    if let Some(outcomes) = outcomes {
        let mut done = outcomes
            .iter()
            .map(|o| matches!(o.status, OutcomeStatus::Done));
        open.changes.retain(|_| !done.next().unwrap_or(false));
    }
    open
}

/// Imports every account's items, `parallelism` accounts at a time. An account whose plan
/// failed is not touched (what it holds is unknown, so nothing can be called resolved).
pub async fn export(
    accounts: Vec<HubAccount<'_>>,
    now: DateTime<Utc>,
    parallelism: usize,
) -> HubReport {
    let parts: Vec<HubReport> = futures::stream::iter(accounts)
        .map(|account| async move { export_one(&account, now).await })
        .buffered(parallelism.max(1))
        .collect()
        .await;
    let mut report = HubReport::default();
    for part in parts {
        report.absorb(part);
    }
    report
}

/// Imports one account's items (see [`export`]); a fleet run calls it as each account is
/// planned, so that no account's state is kept for it until the end.
pub async fn export_one(account: &HubAccount<'_>, now: DateTime<Utc>) -> HubReport {
    if let Some(error) = &account.plan.error {
        return HubReport {
            failures: vec![format!(
                "Security Hub: {} was not planned, so nothing was imported for it ({error})",
                account.plan.name
            )],
            ..HubReport::default()
        };
    }
    export_account(account, now)
        .await
        .unwrap_or_else(|e| HubReport {
            failures: vec![format!("Security Hub: {e}")],
            ..HubReport::default()
        })
}

impl HubReport {
    /// Adds `part`, one account's report, to this one.
    pub fn absorb(&mut self, part: HubReport) {
        self.imported += part.imported;
        self.resolved += part.resolved;
        self.failures.extend(part.failures);
    }
}

async fn export_account(
    account: &HubAccount<'_>,
    now: DateTime<Utc>,
) -> Result<HubReport, AwsError> {
    let client = &account.clients.security_hub;
    let target = &account.clients.target;
    let account_id = &account.plan.account_id;
    let region = client
        .config()
        .region()
        .map_or(FALLBACK_REGION, |r| r.as_ref())
        .to_owned();
    let partition = partition_of(&region);
    let product = product_arn(partition, &region, account_id);
    let previous = previous_findings(account.clients, &product, account_id).await?;

    let now_text = now.to_rfc3339_opts(SecondsFormat::Millis, true);
    let items = items(&account.plan, account.live, partition);
    let current: BTreeSet<&str> = items.iter().map(|i| i.id.as_str()).collect();
    let mut findings: Vec<AwsSecurityFinding> = items
        .iter()
        .map(|item| {
            // A finding keeps the time it was first reported.
            let created = previous
                .get(&item.id)
                .and_then(|f| f.created_at())
                .unwrap_or(&now_text);
            active_finding(item, &product, account_id, &region, created, &now_text)
        })
        .collect();
    let resolved: Vec<AwsSecurityFinding> = previous
        .values()
        .filter(|f| !current.contains(f.id().unwrap_or_default()))
        .map(|f| resolved_finding(f, &now_text))
        .collect();
    let mut report = HubReport {
        imported: findings.len(),
        resolved: resolved.len(),
        failures: Vec::new(),
    };
    findings.extend(resolved);
    for batch in findings.chunks(BATCH_SIZE) {
        let out = call(
            target,
            BATCH_IMPORT_FINDINGS,
            client
                .batch_import_findings()
                .set_findings(Some(batch.to_vec()))
                .send(),
        )
        .await?;
        for failed in out.failed_findings() {
            let id = failed.id().unwrap_or_default();
            if current.contains(id) {
                report.imported -= 1;
            } else {
                report.resolved -= 1;
            }
            report.failures.push(format!(
                "Security Hub: {target}: finding {id} not imported: {}: {}",
                failed.error_code().unwrap_or_default(),
                failed.error_message().unwrap_or_default()
            ));
        }
    }
    Ok(report)
}

/// iamctl's active findings in the account's default product, by id. Filtered by the service
/// and again here: an emulator may ignore filters (moto does), and the default product holds
/// every custom finding of the account, not only iamctl's.
async fn previous_findings(
    clients: &AccountClients,
    product: &str,
    account_id: &str,
) -> Result<BTreeMap<String, AwsSecurityFinding>, AwsError> {
    let equals = |value: &str| {
        StringFilter::builder()
            .value(value)
            .comparison(StringFilterComparison::Equals)
            .build()
    };
    let filters = AwsSecurityFindingFilters::builder()
        .product_arn(equals(product))
        .aws_account_id(equals(account_id))
        .generator_id(
            StringFilter::builder()
                .value(ID_PREFIX)
                .comparison(StringFilterComparison::Prefix)
                .build(),
        )
        .record_state(equals(RecordState::Active.as_str()))
        .build();
    let mut pages = clients
        .security_hub
        .get_findings()
        .filters(filters)
        .max_results(100)
        .into_paginator()
        .send();
    let ours = format!("{ID_PREFIX}{account_id}/");
    let mut found = BTreeMap::new();
    while let Some(page) = call(&clients.target, GET_FINDINGS, pages.try_next()).await? {
        for finding in page.findings() {
            let id = finding.id().unwrap_or_default();
            if id.starts_with(&ours)
                && finding.product_arn() == Some(product)
                && finding.record_state() == Some(&RecordState::Active)
            {
                found.insert(id.to_owned(), finding.clone());
            }
        }
    }
    Ok(found)
}

fn severity_label(severity: Severity) -> SeverityLabel {
    match severity {
        Severity::Low => SeverityLabel::Low,
        Severity::Medium => SeverityLabel::Medium,
    }
}

fn compliance_status(standing: Standing) -> ComplianceStatus {
    match standing {
        Standing::Failed => ComplianceStatus::Failed,
        Standing::Warning => ComplianceStatus::Warning,
    }
}

/// An item as an active finding: `Workflow.Status` NEW, `RecordState` ACTIVE.
fn active_finding(
    item: &HubItem,
    product: &str,
    account_id: &str,
    region: &str,
    created_at: &str,
    now: &str,
) -> AwsSecurityFinding {
    let label = severity_label(item.severity);
    let types: Vec<String> = item.types.iter().map(|t| (*t).to_owned()).collect();
    AwsSecurityFinding::builder()
        .schema_version(SCHEMA_VERSION)
        .id(&item.id)
        .product_arn(product)
        .generator_id(&item.generator_id)
        .aws_account_id(account_id)
        .region(region)
        .set_types(Some(types.clone()))
        .created_at(created_at)
        .updated_at(now)
        .severity(
            aws_sdk_securityhub::types::Severity::builder()
                .label(label.clone())
                .build(),
        )
        // Where finding providers are meant to set severity and types (the top-level fields
        // are the customer's to change).
        .finding_provider_fields(
            FindingProviderFields::builder()
                .severity(FindingProviderSeverity::builder().label(label).build())
                .set_types(Some(types))
                .build(),
        )
        .title(&item.title)
        .description(&item.description)
        .product_fields("iamctl/Account", &item.account)
        .product_fields("iamctl/Address", &item.address)
        .product_fields("iamctl/Rule", &item.rule)
        .product_fields("iamctl/Kind", item.kind.as_str())
        .resources(
            Resource::builder()
                .r#type(item.resource.kind)
                .id(&item.resource.id)
                .partition(Partition::from(partition_of(region)))
                .region(region)
                .build(),
        )
        .compliance(
            Compliance::builder()
                .status(compliance_status(item.standing))
                .set_related_requirements(Some(item.requirements.clone()))
                .build(),
        )
        .workflow(Workflow::builder().status(WorkflowStatus::New).build())
        .record_state(RecordState::Active)
        .build()
}

/// An earlier finding whose item is gone: the same finding, resolved and archived.
fn resolved_finding(previous: &AwsSecurityFinding, now: &str) -> AwsSecurityFinding {
    AwsSecurityFinding::builder()
        .set_schema_version(previous.schema_version().map(str::to_owned))
        .set_id(previous.id().map(str::to_owned))
        .set_product_arn(previous.product_arn().map(str::to_owned))
        .set_generator_id(previous.generator_id().map(str::to_owned))
        .set_aws_account_id(previous.aws_account_id().map(str::to_owned))
        .set_region(previous.region().map(str::to_owned))
        .set_types(Some(previous.types().to_vec()))
        .set_created_at(previous.created_at().map(str::to_owned))
        .updated_at(now)
        .set_severity(previous.severity().cloned())
        .set_finding_provider_fields(previous.finding_provider_fields().cloned())
        .set_title(previous.title().map(str::to_owned))
        .set_description(previous.description().map(str::to_owned))
        .set_product_fields(previous.product_fields().cloned())
        .set_resources(Some(previous.resources().to_vec()))
        .compliance(
            Compliance::builder()
                .status(ComplianceStatus::Passed)
                .set_related_requirements(
                    previous
                        .compliance()
                        .map(|c| c.related_requirements().to_vec()),
                )
                .build(),
        )
        .workflow(Workflow::builder().status(WorkflowStatus::Resolved).build())
        .record_state(RecordState::Archived)
        .build()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plan::{Action, Address, Change, ChangeKind, Rule};

    #[test]
    fn after_apply_only_the_changes_not_done_stand() {
        let change = |user: &str| {
            Change::new(
                Rule::UserPasswordReset,
                ChangeKind::ResetPassword {
                    user: user.into(),
                    with_tightening: false,
                },
            )
        };
        let plan = AccountPlan {
            name: "prod".into(),
            account_id: "111111111111".into(),
            changes: vec![change("a"), change("b"), change("c")],
            findings: Vec::new(),
            credential_report_generated_at: None,
            error: None,
        };
        let outcome = |user: &str, status| Outcome {
            address: Address::LoginProfile(user.into()),
            action: Action::ResetPassword,
            rule: Rule::UserPasswordReset,
            status,
        };
        let outcomes = [
            outcome("a", OutcomeStatus::Done),
            outcome(
                "b",
                OutcomeStatus::Failed {
                    error: "AccessDenied".into(),
                },
            ),
            outcome(
                "c",
                OutcomeStatus::Skipped {
                    reason: "gone".into(),
                },
            ),
        ];
        let open = still_open(&plan, Some(&outcomes));
        let users: Vec<_> = open.changes.iter().map(|c| c.kind.user()).collect();
        assert_eq!(users, [Some("b"), Some("c")]);
        assert_eq!(still_open(&plan, None), plan);
    }
}
