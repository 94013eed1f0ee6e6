//! `[audit.cloudtrail] create`: the `cloudtrail` changes. `create` makes a multi-region trail
//! (management events, global service events) that delivers to an existing bucket and starts
//! it logging; `update` puts right the named trail that exists: makes it multi-region and
//! starts it, in its home region.
//!
//! The bucket is never created or changed here: its policy is the account owner's decision.
//! When CloudTrail refuses the bucket, the outcome says what to fix.

use super::OutcomeStatus;
use crate::aws::{AccountClients, AwsError, ErrorCode, call};
use crate::permissions::{CREATE_TRAIL, START_LOGGING, UPDATE_TRAIL};
use crate::plan::{NewTrail, TrailSettings};

fn failed(error: impl Into<String>) -> OutcomeStatus {
    OutcomeStatus::Failed {
        error: error.into(),
    }
}

/// Creates the trail and starts it logging.
pub(super) async fn create(
    clients: &AccountClients,
    account_id: &str,
    trail: &NewTrail,
) -> OutcomeStatus {
    let (name, bucket) = (trail.name.as_str(), trail.s3_bucket.as_str());
    let account = clients.target.as_str();
    tracing::debug!(account, trail = name, bucket, "{}", CREATE_TRAIL.action);
    let request = clients
        .cloudtrail
        .create_trail()
        .name(name)
        .s3_bucket_name(bucket)
        .is_multi_region_trail(true)
        .include_global_service_events(true)
        .send();
    let created = call(account, CREATE_TRAIL, request).await;
    let created = match created {
        Ok(out) => out,
        Err(err) => return failed(explain_create_error(&err, name, bucket, account_id)),
    };
    let arn = created.trail_arn().unwrap_or(name);
    match start_logging(&clients.cloudtrail, account, arn).await {
        Ok(()) => OutcomeStatus::Done,
        Err(err) => failed(format!(
            "trail {name} was created but is not logging yet: {err}; the next apply starts it"
        )),
    }
}

/// What CloudTrail's refusal of a new trail means, and what to do about it.
fn explain_create_error(err: &AwsError, name: &str, bucket: &str, account_id: &str) -> String {
    let account = if account_id.is_empty() {
        "ACCOUNT_ID"
    } else {
        account_id
    };
    let policy = format!(
        "its bucket policy must allow the service principal cloudtrail.amazonaws.com \
         s3:GetBucketAcl on arn:aws:s3:::{bucket} and s3:PutObject on \
         arn:aws:s3:::{bucket}/AWSLogs/{account}/* (with s3:x-amz-acl = bucket-owner-full-control)"
    );
    let hint = match &err.code {
        Some(ErrorCode::S3BucketDoesNotExistException) => format!(
            "S3 bucket {bucket} does not exist: create it first (iamctl does not create buckets); {policy}"
        ),
        Some(ErrorCode::InsufficientS3BucketPolicyException) => format!(
            "the policy of S3 bucket {bucket} does not let CloudTrail write to it: {policy}"
        ),
        Some(ErrorCode::InvalidS3BucketNameException) => {
            format!("{bucket:?} is not a valid S3 bucket name")
        }
        Some(ErrorCode::TrailAlreadyExistsException) => format!(
            "a trail named {name} already exists (created since the plan, or in another region): plan again"
        ),
        Some(ErrorCode::MaximumNumberOfTrailsExceededException) => {
            "the region already has the most trails CloudTrail allows (5): delete one, or name an \
             existing trail in [audit.cloudtrail] create"
                .to_owned()
        }
        _ => return format!("{err}; the trail {name} was not created"),
    };
    format!("{hint}; trail {name} was not created ({err})")
}

/// Puts an existing trail right, in its home region: multi-region, then logging.
pub(super) async fn update(
    clients: &AccountClients,
    before: &TrailSettings,
    after: &TrailSettings,
) -> OutcomeStatus {
    let name = before.name.as_str();
    let account = clients.target.as_str();
    // A trail is changed in its home region.
    let client = if before.home_region.is_empty() {
        clients.cloudtrail.clone()
    } else {
        clients.cloudtrail_in(&before.home_region)
    };
    if after.is_multi_region && !before.is_multi_region {
        tracing::debug!(account, trail = name, "{}", UPDATE_TRAIL.action);
        let request = client
            .update_trail()
            .name(name)
            .is_multi_region_trail(true)
            .include_global_service_events(true)
            .send();
        let result = call(account, UPDATE_TRAIL, request).await;
        if let Err(e) = result {
            return failed(format!("{e}; trail {name} was left as it was"));
        }
    }
    if after.is_logging && !before.is_logging {
        if let Err(err) = start_logging(&client, account, name).await {
            return failed(err.to_string());
        }
    }
    OutcomeStatus::Done
}

async fn start_logging(
    client: &aws_sdk_cloudtrail::Client,
    account: &str,
    trail: &str,
) -> Result<(), AwsError> {
    tracing::debug!(account, trail, "{}", START_LOGGING.action);
    let request = client.start_logging().name(trail).send();
    call(account, START_LOGGING, request).await.map(|_| ())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn error(code: &str) -> AwsError {
        AwsError {
            account: "prod".into(),
            operation: CREATE_TRAIL.action.into(),
            code: Some(ErrorCode::parse(code)),
            message: "refused".into(),
            answered: true,
        }
    }

    #[test]
    fn bucket_refusals_say_what_to_fix() {
        let missing = explain_create_error(
            &error("S3BucketDoesNotExistException"),
            "audit",
            "acme-logs",
            "111111111111",
        );
        assert!(
            missing.starts_with("S3 bucket acme-logs does not exist"),
            "{missing}"
        );
        assert!(missing.contains("arn:aws:s3:::acme-logs/AWSLogs/111111111111/*"));
        assert!(missing.contains("trail audit was not created"));

        let policy = explain_create_error(
            &error("InsufficientS3BucketPolicyException"),
            "audit",
            "acme-logs",
            "111111111111",
        );
        assert!(
            policy.starts_with("the policy of S3 bucket acme-logs does not let CloudTrail write"),
            "{policy}"
        );
        assert!(policy.contains("cloudtrail.amazonaws.com"));

        let other = explain_create_error(&error("Throttling"), "audit", "acme-logs", "1");
        assert!(
            other.contains(&format!("{}: Throttling", CREATE_TRAIL.action)),
            "{other}"
        );
    }
}
