//! The Lambda handler (`--features lambda`, binary `iamctl-lambda`): the same reconcile as
//! `iamctl watch`, for events delivered by an EventBridge rule straight to the function, or
//! through an SQS queue (an `SqsEvent` batch, answered with the records that must come back);
//! and one shard of a fleet's plan (`{"shard": "3/20", "mode": "plan"}`, from a Step Functions
//! Distributed Map), written as JSON under `IAMCTL_RESULTS=s3://bucket/prefix/`.
//! The desired state is read once per cold start, from S3 (`IAMCTL_DESIRED=s3://bucket/prefix/`,
//! so that one deployment follows a changing `desired/`) or else from the deployment package
//! (`IAMCTL_CONFIG`, default `$LAMBDA_TASK_ROOT/desired`).

use std::fmt;
use std::path::PathBuf;

use aws_lambda_events::event::sqs::{SqsBatchResponse, SqsEvent};
use serde::Deserialize;
use serde_json::{Value, json};

use crate::aws::{ApiCalls, ClientFactory, call};
use crate::desired::DesiredDoc;
use crate::events::watch::{BatchOutcome, BatchReport, Message, ReconcileOptions, reconcile};
use crate::fleet::Shard;
use crate::ops::{DEFAULT_CONCURRENCY, DEFAULT_PARALLELISM, Focus, Scope, Silent, Source};
use crate::permissions::PUT_OBJECT;
use crate::report::s3::{Depth, S3Prefix, read_objects};

/// A place in S3 given as `s3://bucket/prefix/`: a bucket, and a key prefix that is empty or
/// ends with `/` (a folder, as `IAMCTL_CONFIG` names one in the package).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct S3Folder {
    pub bucket: String,
    pub prefix: String,
}

impl std::str::FromStr for S3Folder {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, String> {
        let rest = text
            .strip_prefix("s3://")
            .ok_or_else(|| format!("{text:?} is not an s3://bucket/prefix/ address"))?;
        let (bucket, prefix) = rest.split_once('/').unwrap_or((rest, ""));
        if bucket.is_empty() {
            return Err(format!("{text:?} names no bucket (s3://bucket/prefix/)"));
        }
        if !prefix.is_empty() && !prefix.ends_with('/') {
            return Err(format!(
                "{text:?} is not a folder: end it with / (s3://{bucket}/{prefix}/)"
            ));
        }
        Ok(Self {
            bucket: bucket.to_owned(),
            prefix: prefix.to_owned(),
        })
    }
}

impl fmt::Display for S3Folder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "s3://{}/{}", self.bucket, self.prefix)
    }
}

/// Where the function reads its desired state.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DesiredSource {
    /// A file or folder of the deployment package (`IAMCTL_CONFIG`).
    Package(PathBuf),
    /// Every `*.toml` object directly under an S3 folder (`IAMCTL_DESIRED`), merged as the
    /// files of a folder are.
    S3(S3Folder),
}

/// What the function is configured with (its environment).
#[derive(Debug, Clone)]
pub struct LambdaConfig {
    /// `IAMCTL_DESIRED` (`s3://...`), else `IAMCTL_CONFIG`.
    pub desired: DesiredSource,
    /// `IAMCTL_RESULTS`: where shard invocations write their plans.
    pub results: Option<S3Folder>,
    /// `IAMCTL_DRY_RUN=true`: plan and log only.
    pub dry_run: bool,
    /// `IAMCTL_MAX_CHANGES`: refuse a larger plan (its events come back).
    pub max_changes: Option<usize>,
}

impl LambdaConfig {
    /// The configuration from the environment; a malformed `s3://` address is an error (the
    /// function would otherwise plan against the wrong desired state, or write nowhere).
    pub fn from_env() -> Result<Self, String> {
        let var = |name: &str| std::env::var(name).ok().filter(|v| !v.is_empty());
        let root = var("LAMBDA_TASK_ROOT").unwrap_or_else(|| ".".into());
        let s3 = |name: &str| -> Result<Option<S3Folder>, String> {
            var(name)
                .map(|v| v.parse().map_err(|e| format!("{name}: {e}")))
                .transpose()
        };
        let desired = match s3("IAMCTL_DESIRED")? {
            Some(folder) => DesiredSource::S3(folder),
            None => DesiredSource::Package(
                var("IAMCTL_CONFIG")
                    .map(PathBuf::from)
                    .unwrap_or_else(|| PathBuf::from(root).join("desired")),
            ),
        };
        Ok(Self {
            desired,
            results: s3("IAMCTL_RESULTS")?,
            dry_run: var("IAMCTL_DRY_RUN").is_some_and(|v| v == "true" || v == "1"),
            max_changes: var("IAMCTL_MAX_CHANGES").and_then(|v| v.parse().ok()),
        })
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
    /// `IAMCTL_RESULTS`.
    pub results: Option<S3Folder>,
}

impl Handler {
    pub async fn load(config: &LambdaConfig) -> Result<Self, String> {
        let desired = match &config.desired {
            DesiredSource::Package(path) => crate::desired::load(path)
                .map_err(|e| format!("loading {}: {e}", path.display()))?,
            DesiredSource::S3(folder) => {
                let s3 = ClientFactory::new(ApiCalls::default()).await.s3();
                load_desired_from_s3(&s3, folder).await?
            }
        };
        let doc = desired.doc;
        Ok(Self {
            doc,
            results: config.results.clone(),
            options: ReconcileOptions {
                dry_run: config.dry_run,
                max_changes: config.max_changes,
                secrets_dir: None,
                audit_log: None,
            },
        })
    }

    /// Handles one invocation's payload: a shard to plan, an SQS batch, or EventBridge
    /// event(s).
    pub async fn handle(&self, payload: Value) -> Result<Value, HandlerError> {
        if payload.get("shard").is_some() {
            let request: ShardRequest = serde_json::from_value(payload)
                .map_err(|e| HandlerError::Failed(format!("not a shard request: {e}")))?;
            return self.plan_shard(&request).await;
        }
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
                "alerts": report.alerts,
            })),
            BatchOutcome::Failed(why) => Err(HandlerError::Failed(why.clone())),
        }
    }
}

/// A shard invocation: `{"shard": "3/20", "mode": "plan"}`, and optionally `"run"`, a name
/// for this run of every shard (a Step Functions execution's name), which becomes a folder
/// under `IAMCTL_RESULTS`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ShardRequest {
    pub shard: String,
    pub mode: ShardMode,
    #[serde(default)]
    pub run: Option<String>,
}

/// What a shard invocation does. Only planning: applying a fleet from a schedule, without a
/// reviewed plan, is what `watch` and `apply` with `--max-changes` are for.
#[derive(Debug, Clone, Copy, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ShardMode {
    Plan,
}

impl Handler {
    /// Plans one shard of the fleet and writes the plan, as `iamctl plan --shard K/N --format
    /// json` prints it, to `IAMCTL_RESULTS[RUN/]shard-K-of-N.json` (K zero-padded so that the
    /// keys list in shard order). Answers the plan's summary and where it is.
    async fn plan_shard(&self, request: &ShardRequest) -> Result<Value, HandlerError> {
        let failed = |why: String| HandlerError::Failed(why);
        let ShardMode::Plan = request.mode;
        let shard: Shard = request
            .shard
            .parse()
            .map_err(|e| failed(format!("shard: {e}")))?;
        let results = self.results.as_ref().ok_or_else(|| {
            failed("a shard invocation needs IAMCTL_RESULTS=s3://bucket/prefix/".into())
        })?;
        let key = result_key(results, request.run.as_deref(), shard).map_err(failed)?;
        let calls = ApiCalls::default();
        let scope = Scope {
            accounts: &[],
            shard: Some(shard),
            parallelism: DEFAULT_PARALLELISM.into(),
            concurrency: DEFAULT_CONCURRENCY.into(),
            rotate_now: &[],
        };
        let as_of = chrono::Utc::now();
        let runs = crate::ops::compute_plan(
            &self.doc,
            Source::Live { calls: &calls },
            &scope,
            as_of,
            Focus::All(None),
            &Silent,
        )
        .await
        .map_err(|e| failed(format!("shard {shard}: {e}")))?;
        let plan = crate::ops::plan_of(as_of, &runs);
        let s3 = ClientFactory::new(calls.clone()).await.s3();
        call(
            "results",
            PUT_OBJECT,
            s3.put_object()
                .bucket(&results.bucket)
                .key(&key)
                .content_type("application/json")
                .body(crate::render::json(&plan).into_bytes().into())
                .send(),
        )
        .await
        .map_err(|e| failed(format!("writing s3://{}/{key}: {e}", results.bucket)))?;
        eprintln!(
            "shard {shard}: {} accounts, {} changes, {} findings, {} failed; api calls: {}",
            plan.accounts.len(),
            plan.summary.changes,
            plan.summary.findings,
            plan.summary.failed_accounts,
            calls.total()
        );
        Ok(json!({
            "shard": shard.to_string(),
            "accounts": plan.accounts.len(),
            "changes": plan.summary.changes,
            "findings": plan.summary.findings,
            "failed_accounts": plan.summary.failed_accounts,
            "plan": format!("s3://{}/{key}", results.bucket),
        }))
    }
}

/// The key of shard `shard`'s plan under `results`, in the folder `run` when there is one.
fn result_key(results: &S3Folder, run: Option<&str>, shard: Shard) -> Result<String, String> {
    let width = shard.count().to_string().len();
    let name = format!("shard-{:0width$}-of-{}.json", shard.index(), shard.count());
    match run {
        None => Ok(format!("{}{name}", results.prefix)),
        Some(run)
            if !run.is_empty()
                && run
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || "-_.:".contains(c)) =>
        {
            Ok(format!("{}{run}/{name}", results.prefix))
        }
        Some(run) => Err(format!(
            "run {run:?}: use letters, digits and - _ . : only (it names a folder)"
        )),
    }
}

/// The desired state from every `*.toml` object directly under `folder` (not in its
/// subfolders, as a package folder's files are read), merged in key order as a folder's files
/// are. An empty folder is an error: planning against no rules would report nothing wrong.
pub async fn load_desired_from_s3(
    s3: &aws_sdk_s3::Client,
    folder: &S3Folder,
) -> Result<crate::desired::Desired, String> {
    let at = S3Prefix {
        bucket: folder.bucket.clone(),
        prefix: folder.prefix.clone(),
    };
    let objects = read_objects(s3, &at, ".toml", Depth::DirectlyIn)
        .await
        .map_err(|e| format!("reading {folder}: {e}"))?;
    if objects.is_empty() {
        return Err(format!("{folder} holds no *.toml file"));
    }
    let sources = objects
        .into_iter()
        .map(|(name, bytes)| {
            String::from_utf8(bytes)
                .map(|text| (name.clone(), text))
                .map_err(|_| format!("reading {name}: not UTF-8 text"))
        })
        .collect::<Result<Vec<_>, String>>()?;
    let (doc, locations) = crate::desired::load_sources_located(sources)
        .map_err(|e| format!("loading {folder}: {e}"))?;
    Ok(crate::desired::Desired {
        doc,
        files: Vec::new(),
        locations,
    })
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
    for line in report.notes.iter().chain(&report.alerts) {
        eprintln!("  {line}");
    }
    eprintln!("{report}; api calls: {}", calls.total());
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn s3_folders_are_a_bucket_and_a_prefix_ending_in_a_slash() {
        let folder: S3Folder = "s3://org-iamctl/desired/prod/".parse().unwrap();
        assert_eq!(
            folder,
            S3Folder {
                bucket: "org-iamctl".into(),
                prefix: "desired/prod/".into()
            }
        );
        assert_eq!(folder.to_string(), "s3://org-iamctl/desired/prod/");
        let bucket: S3Folder = "s3://org-iamctl".parse().unwrap();
        assert_eq!(bucket.prefix, "");
        assert_eq!(bucket.to_string(), "s3://org-iamctl/");
        assert_eq!(
            "s3://org-iamctl/desired".parse::<S3Folder>().unwrap_err(),
            "\"s3://org-iamctl/desired\" is not a folder: end it with / (s3://org-iamctl/desired/)"
        );
        assert_eq!(
            "org-iamctl/desired/".parse::<S3Folder>().unwrap_err(),
            "\"org-iamctl/desired/\" is not an s3://bucket/prefix/ address"
        );
        assert_eq!(
            "s3:///desired/".parse::<S3Folder>().unwrap_err(),
            "\"s3:///desired/\" names no bucket (s3://bucket/prefix/)"
        );
    }

    #[test]
    fn shard_plans_are_keyed_in_shard_order_under_the_run() {
        let results: S3Folder = "s3://b/plans/".parse().unwrap();
        let shard = Shard::new(3, 20).unwrap();
        assert_eq!(
            result_key(&results, None, shard).unwrap(),
            "plans/shard-03-of-20.json"
        );
        assert_eq!(
            result_key(&results, Some("nightly-2026-12-04"), shard).unwrap(),
            "plans/nightly-2026-12-04/shard-03-of-20.json"
        );
        assert_eq!(
            result_key(&results, None, Shard::new(7, 9).unwrap()).unwrap(),
            "plans/shard-7-of-9.json"
        );
        assert_eq!(
            result_key(&results, Some("../x"), shard).unwrap_err(),
            "run \"../x\": use letters, digits and - _ . : only (it names a folder)"
        );
    }
}
