//! The account's CloudTrail trails, as far as `[audit] require_cloudtrail` cares: is there a
//! multi-region trail that is logging and records management write events (IAM changes).
//!
//! IAM is global and its events land in us-east-1, which every multi-region trail covers; a
//! multi-region trail shows in every region as a "shadow trail", so one region's
//! `DescribeTrails` (shadow trails included) sees every trail that can qualify. Status and
//! selectors are asked by ARN, which is what works for shadow trails.

use std::collections::BTreeMap;

use aws_sdk_cloudtrail::types::{AdvancedEventSelector, EventSelector, ReadWriteType};

use crate::aws::{AccountClients, AwsError, ErrorCode, call};
use crate::permissions::{DESCRIBE_TRAILS, GET_EVENT_SELECTORS, GET_TRAIL_STATUS};
use crate::state::Trail;

/// Every trail visible in the clients' region, sorted by name.
pub(crate) async fn read_trails(clients: &AccountClients) -> Result<Vec<Trail>, AwsError> {
    let client = &clients.cloudtrail;
    let account = clients.target.as_str();
    let request = client.describe_trails().include_shadow_trails(true).send();
    let out = call(account, DESCRIBE_TRAILS, request).await?;

    let mut by_arn = BTreeMap::new();
    for trail in out.trail_list() {
        let Some(name) = trail.name() else { continue };
        let arn = trail.trail_arn().unwrap_or(name).to_owned();
        by_arn.entry(arn).or_insert_with(|| TrailInfo {
            name: name.to_owned(),
            home_region: trail.home_region().unwrap_or_default().to_owned(),
            is_multi_region: trail.is_multi_region_trail().unwrap_or(false),
            is_organization: trail.is_organization_trail().unwrap_or(false),
        });
    }

    let reads = by_arn.into_iter().map(|(arn, info)| {
        let client = &client;
        async move {
            let (status, selectors) = futures::join!(
                call(
                    account,
                    GET_TRAIL_STATUS,
                    client.get_trail_status().name(&arn).send()
                ),
                call(
                    account,
                    GET_EVENT_SELECTORS,
                    client.get_event_selectors().trail_name(&arn).send()
                ),
            );
            let is_logging = match status {
                Ok(out) => out.is_logging().unwrap_or(false),
                Err(err) => tolerate(&info, &arn, err)?,
            };
            let records_management_writes = match selectors {
                Ok(out) => {
                    out.event_selectors()
                        .iter()
                        .any(basic_selector_records_writes)
                        || out
                            .advanced_event_selectors()
                            .iter()
                            .any(advanced_selector_records_writes)
                }
                Err(err) => tolerate(&info, &arn, err)?,
            };
            Ok::<_, AwsError>(Trail {
                name: info.name,
                home_region: info.home_region,
                is_multi_region: info.is_multi_region,
                is_logging,
                records_management_writes,
            })
        }
    });
    let mut trails = futures::future::try_join_all(reads).await?;
    trails.sort_by(|a, b| (&a.name, &a.home_region).cmp(&(&b.name, &b.home_region)));
    Ok(trails)
}

struct TrailInfo {
    name: String,
    home_region: String,
    is_multi_region: bool,
    is_organization: bool,
}

/// An organization trail seen from a member account may refuse inspection; it then counts
/// as not qualifying (the finding says the requirement is not shown to hold), rather than
/// failing the whole read. Any other failure is an error.
fn tolerate(info: &TrailInfo, arn: &str, err: AwsError) -> Result<bool, AwsError> {
    // What a member account gets for an organization trail it can see but not inspect.
    let not_inspectable = matches!(
        err.code,
        Some(
            ErrorCode::TrailNotFoundException
                | ErrorCode::CloudTrailARNInvalidException
                | ErrorCode::AccessDeniedException
                | ErrorCode::AccessDenied
        )
    );
    if info.is_organization && not_inspectable {
        tracing::warn!(account = %err.account, trail = %arn, "organization trail not inspectable from this account: {err}");
        Ok(false)
    } else {
        Err(err)
    }
}

/// A basic selector records management writes unless it excludes management events or
/// keeps only reads; both fields default to "all".
fn basic_selector_records_writes(selector: &EventSelector) -> bool {
    selector.include_management_events().unwrap_or(true)
        && matches!(
            selector.read_write_type(),
            None | Some(ReadWriteType::All | ReadWriteType::WriteOnly)
        )
        && !selector
            .exclude_management_event_sources()
            .iter()
            .any(|s| s == "iam.amazonaws.com")
}

/// An advanced selector records management writes when it selects `eventCategory =
/// Management` and does not narrow that to read-only events (nor exclude IAM's source).
fn advanced_selector_records_writes(selector: &AdvancedEventSelector) -> bool {
    let fields = selector.field_selectors();
    let field = |name: &'static str| fields.iter().filter(move |f| f.field() == name);
    let management = field("eventCategory").any(|f| f.equals().iter().any(|v| v == "Management"));
    let reads_only = field("readOnly").any(|f| {
        (!f.equals().is_empty() && f.equals().iter().all(|v| v == "true"))
            || f.not_equals().iter().any(|v| v == "false")
    });
    let excludes_iam = field("eventSource").any(|f| {
        f.not_equals().iter().any(|v| v == "iam.amazonaws.com")
            || (!f.equals().is_empty() && !f.equals().iter().any(|v| v == "iam.amazonaws.com"))
    });
    management && !reads_only && !excludes_iam
}

#[cfg(test)]
mod tests {
    use aws_sdk_cloudtrail::types::AdvancedFieldSelector;

    use super::*;

    fn basic(rw: Option<ReadWriteType>, management: Option<bool>) -> EventSelector {
        EventSelector::builder()
            .set_read_write_type(rw)
            .set_include_management_events(management)
            .build()
    }

    fn advanced(fields: &[(&str, &[&str], &[&str])]) -> AdvancedEventSelector {
        let mut builder = AdvancedEventSelector::builder();
        for (field, equals, not_equals) in fields {
            let mut f = AdvancedFieldSelector::builder().field(*field);
            for v in *equals {
                f = f.equals(*v);
            }
            for v in *not_equals {
                f = f.not_equals(*v);
            }
            builder = builder.field_selectors(f.build().unwrap());
        }
        builder.build().unwrap()
    }

    #[test]
    fn basic_selectors() {
        assert!(basic_selector_records_writes(&basic(None, None)));
        assert!(basic_selector_records_writes(&basic(
            Some(ReadWriteType::All),
            Some(true)
        )));
        assert!(basic_selector_records_writes(&basic(
            Some(ReadWriteType::WriteOnly),
            Some(true)
        )));
        assert!(!basic_selector_records_writes(&basic(
            Some(ReadWriteType::ReadOnly),
            Some(true)
        )));
        assert!(!basic_selector_records_writes(&basic(
            Some(ReadWriteType::All),
            Some(false)
        )));
    }

    #[test]
    fn advanced_selectors() {
        assert!(advanced_selector_records_writes(&advanced(&[(
            "eventCategory",
            &["Management"],
            &[]
        )])));
        assert!(advanced_selector_records_writes(&advanced(&[
            ("eventCategory", &["Management"], &[]),
            ("readOnly", &["false"], &[]),
        ])));
        assert!(!advanced_selector_records_writes(&advanced(&[
            ("eventCategory", &["Management"], &[]),
            ("readOnly", &["true"], &[]),
        ])));
        assert!(!advanced_selector_records_writes(&advanced(&[(
            "eventCategory",
            &["Data"],
            &[]
        )])));
        assert!(!advanced_selector_records_writes(&advanced(&[
            ("eventCategory", &["Management"], &[]),
            ("eventSource", &[], &["iam.amazonaws.com"]),
        ])));
        // Excluding KMS events keeps IAM's.
        assert!(advanced_selector_records_writes(&advanced(&[
            ("eventCategory", &["Management"], &[]),
            ("eventSource", &[], &["kms.amazonaws.com"]),
        ])));
    }
}
