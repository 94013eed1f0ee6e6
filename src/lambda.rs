//! The Lambda handler (`--features lambda`, binary `iamctl-lambda`): the same reconcile as
//! `iamctl watch`, for events delivered by an EventBridge rule straight to the function, or
//! through an SQS queue (an `SqsEvent` batch, answered with the records that must come back).
//! The desired state is read once per cold start from the deployment package (`IAMCTL_CONFIG`,
//! default `$LAMBDA_TASK_ROOT/desired`). Reading it from S3 is not built.

use std::path::PathBuf;

use aws_lambda_events::event::sqs::{SqsBatchResponse, SqsEvent};
use serde_json::{Value, json};

use crate::aws::ApiCalls;
use crate::desired::DesiredDoc;
use crate::events::watch::{BatchOutcome, BatchReport, Message, ReconcileOptions, reconcile};
use crate::ops::{DEFAULT_CONCURRENCY, DEFAULT_PARALLELISM, Scope};

/// What the function is configured with (its environment).
#[derive(Debug, Clone)]
pub struct LambdaConfig {
    /// `IAMCTL_CONFIG`: a file or folder of the deployment package.
    pub desired: PathBuf,
    /// `IAMCTL_DRY_RUN=true`: plan and log only.
    pub dry_run: bool,
    /// `IAMCTL_MAX_CHANGES`: refuse a larger plan (its events come back).
    pub max_changes: Option<usize>,
}

impl LambdaConfig {
    pub fn from_env() -> Self {
        let var = |name: &str| std::env::var(name).ok().filter(|v| !v.is_empty());
        let root = var("LAMBDA_TASK_ROOT").unwrap_or_else(|| ".".into());
        Self {
            desired: var("IAMCTL_CONFIG")
                .map(PathBuf::from)
                .unwrap_or_else(|| PathBuf::from(root).join("desired")),
            dry_run: var("IAMCTL_DRY_RUN").is_some_and(|v| v == "true" || v == "1"),
            max_changes: var("IAMCTL_MAX_CHANGES").and_then(|v| v.parse().ok()),
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum HandlerError {
    /// The invocation must be retried (Lambda retries asynchronous invocations, then sends
    /// them to the function's dead-letter queue or failure destination).
    #[error("{0}")]
    Failed(String),
}

/// The handler: the desired state, loaded once.
pub struct Handler {
    pub doc: DesiredDoc,
    pub options: ReconcileOptions,
}

impl Handler {
    pub fn load(config: &LambdaConfig) -> Result<Self, String> {
        let desired = crate::desired::load(&config.desired)
            .and_then(|desired| crate::desired::not_yet_enforced(&desired).map(|()| desired))
            .map_err(|e| format!("loading {}: {e}", config.desired.display()))?;
        Ok(Self {
            doc: desired.doc,
            options: ReconcileOptions {
                dry_run: config.dry_run,
                max_changes: config.max_changes,
                secrets_dir: None,
                audit_log: None,
            },
        })
    }

    /// Handles one invocation's payload: an SQS batch, or EventBridge event(s).
    pub async fn handle(&self, payload: Value) -> Result<Value, HandlerError> {
        let calls = ApiCalls::default();
        let scope = Scope {
            accounts: &[],
            shard: None,
            parallelism: DEFAULT_PARALLELISM.into(),
            concurrency: DEFAULT_CONCURRENCY.into(),
            rotate_now: &[],
        };
        if is_sqs_batch(&payload) {
            let batch: SqsEvent = serde_json::from_value(payload)
                .map_err(|e| HandlerError::Failed(format!("not an SQS event: {e}")))?;
            let messages: Vec<Message> = batch
                .records
                .iter()
                .map(|r| {
                    Message::new(
                        r.message_id.clone().unwrap_or_default(),
                        r.body.as_deref().unwrap_or_default(),
                    )
                })
                .collect();
            let (report, done) =
                reconcile(&self.doc, &scope, &calls, &self.options, &messages).await;
            log(&report, &calls);
            let mut response = SqsBatchResponse::default();
            // With a dry run nothing is done, yet nothing should come back either.
            if !self.options.dry_run {
                response.set_failures(
                    (0..messages.len())
                        .filter(|i| !done.contains(i))
                        .map(|i| messages[i].id.clone()),
                );
            }
            return serde_json::to_value(response).map_err(|e| HandlerError::Failed(e.to_string()));
        }
        let message = Message::new("event", &payload.to_string());
        if let Err(why) = &message.events {
            return Err(HandlerError::Failed(format!("malformed event: {why}")));
        }
        let messages = [message];
        let (report, _) = reconcile(&self.doc, &scope, &calls, &self.options, &messages).await;
        log(&report, &calls);
        match &report.outcome {
            BatchOutcome::Ok => Ok(json!({
                "events": report.events,
                "reconciled": report.handled,
                "accounts": report.accounts,
                "changes": report.changes,
                "notes": report.notes,
            })),
            BatchOutcome::Failed(why) => Err(HandlerError::Failed(why.clone())),
        }
    }
}

/// An SQS event's records carry `eventSource: aws:sqs` (a CloudTrail log file has `Records`
/// too, of API calls).
fn is_sqs_batch(payload: &Value) -> bool {
    payload["Records"]
        .as_array()
        .and_then(|records| records.first())
        .is_some_and(|r| r["eventSource"] == "aws:sqs")
}

/// One line per invocation to CloudWatch Logs, as `watch` prints per batch.
fn log(report: &BatchReport, calls: &ApiCalls) {
    for note in &report.notes {
        eprintln!("  {note}");
    }
    eprintln!("{report}; api calls: {}", calls.total());
}
