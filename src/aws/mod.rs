//! The one place SDK clients are built: credentials (the standard chain, a named profile, an
//! assumed role), region, retries, timeouts, the endpoint override (`AWS_ENDPOINT_URL`,
//! `AWS_ENDPOINT_URL_IAM`, read by `aws-config` itself), and the API-call counter. Also the
//! translation of SDK errors into messages a person can act on (`error.rs`), and [`call`],
//! through which every AWS call names the permission it needs (`call.rs`).

mod call;
mod error;
mod pacing;

pub use call::call;
pub use error::{AwsError, ErrorCode, error_chain};
pub use pacing::PacingReport;
use pacing::{PacedHttpClient, Pacer, PacerSignal};

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use aws_config::identity::IdentityCache;
use aws_config::retry::RetryConfig;
use aws_config::timeout::TimeoutConfig;
use aws_config::{BehaviorVersion, Region, SdkConfig};
use aws_credential_types::Credentials;
use aws_credential_types::provider::SharedCredentialsProvider;
use aws_credential_types::provider::error::CredentialsError;
use aws_smithy_runtime_api::box_error::BoxError;
use aws_smithy_runtime_api::client::interceptors::Intercept;
use aws_smithy_runtime_api::client::interceptors::context::BeforeSerializationInterceptorContextRef;
use aws_smithy_runtime_api::client::orchestrator::Metadata;
use aws_smithy_runtime_api::client::runtime_components::RuntimeComponents;
use aws_smithy_types::config_bag::ConfigBag;

use crate::permissions::ASSUME_ROLE;

/// IAM is a global service; the SDK still wants a region to sign with.
const FALLBACK_REGION: &str = "us-east-1";
/// Retries back off exponentially, with jitter, under throttling (IAM throttles bulk readers
/// readily) and transient failures. Standard mode, not adaptive: adaptive mode's client-side
/// rate limiter, shared by every call of a client, drops to 0.5 requests/s after a few
/// throttles and stays near it for a low-rate caller like iamctl (measured: a 43-call plan
/// took 175 s instead of 1 s with 6% of requests throttled; tests/suite/reliability_faults.rs).
/// iamctl paces each account itself instead (`pacing.rs`): it cuts what it keeps in flight
/// when IAM throttles and grows it back as answers come, per account.
const MAX_ATTEMPTS: u32 = 8;
/// The most IAM requests of one account in flight at once, whatever the pacer learns: above
/// any `--concurrency` anyone sets, since that bounds the calls first (src/aws/pacing.rs).
const MAX_IN_FLIGHT: usize = 1024;
/// How long assuming a target's role may take, retries included. The identity cache's default
/// (5 s) would cut the retries above short under throttling, and report a timeout instead of
/// the failure.
const ASSUME_ROLE_LOAD_TIMEOUT: Duration = Duration::from_secs(300);

/// How to reach one target account.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Target {
    pub name: String,
    pub role_arn: Option<String>,
    pub external_id: Option<String>,
    pub profile: Option<String>,
}

/// Counts API calls (executions, not retries) per `Service.Operation`, for `-v` and the
/// benchmark, and keeps each account's [`Pacer`], so that every client of an account (in
/// `watch`, one per batch) paces on what the account taught before, and each assumed role's
/// credentials, so that a role is assumed once per run however often its account's clients
/// are made (apply makes them again after planning; `watch` for every batch). Cheap to
/// clone; every client of a run shares one.
#[derive(Debug, Clone, Default)]
pub struct ApiCalls {
    counts: Arc<Mutex<BTreeMap<String, u64>>>,
    pacers: Arc<Mutex<BTreeMap<String, Arc<Pacer>>>>,
    roles: Arc<Mutex<BTreeMap<RoleKey, Credentials>>>,
}

/// An assumed role: the target, the role and the external id it was assumed with.
type RoleKey = (String, String, Option<String>);

/// Credentials that expire sooner than this are assumed again rather than reused.
const REUSE_MARGIN: Duration = Duration::from_secs(300);

impl ApiCalls {
    fn record(&self, key: String) {
        *self
            .counts
            .lock()
            .expect("counter lock")
            .entry(key)
            .or_default() += 1;
    }

    pub fn by_operation(&self) -> BTreeMap<String, u64> {
        self.counts.lock().expect("counter lock").clone()
    }

    pub fn total(&self) -> u64 {
        self.counts.lock().expect("counter lock").values().sum()
    }

    /// The pacer of `target`'s IAM requests.
    fn pacer(&self, target: &str) -> Arc<Pacer> {
        let mut pacers = self.pacers.lock().expect("pacers lock");
        Arc::clone(
            pacers
                .entry(target.to_owned())
                .or_insert_with(|| Pacer::new(MAX_IN_FLIGHT)),
        )
    }

    /// The credentials `key`'s role was assumed with earlier in the run, unless they are
    /// about to expire.
    fn assumed(&self, key: &RoleKey) -> Option<Credentials> {
        let roles = self.roles.lock().expect("roles lock");
        let credentials = roles.get(key)?;
        let fresh = credentials.expiry().is_none_or(|expiry| {
            expiry
                .duration_since(std::time::SystemTime::now())
                .is_ok_and(|left| left > REUSE_MARGIN)
        });
        fresh.then(|| credentials.clone())
    }

    fn remember_assumed(&self, key: RoleKey, credentials: &Credentials) {
        self.roles
            .lock()
            .expect("roles lock")
            .insert(key, credentials.clone());
    }

    /// What pacing came to, per account that was throttled.
    pub fn pacing(&self) -> Vec<(String, PacingReport)> {
        self.pacers
            .lock()
            .expect("pacers lock")
            .iter()
            .map(|(target, pacer)| (target.clone(), pacer.report()))
            .filter(|(_, report)| report.throttles > 0)
            .collect()
    }
}

impl Intercept for ApiCalls {
    fn name(&self) -> &'static str {
        "iamctl::ApiCalls"
    }

    // Counted once per execution, before serialization: the operation's metadata is in the
    // config bag by then (it is not yet at `read_before_execution`).
    fn read_before_serialization(
        &self,
        _context: &BeforeSerializationInterceptorContextRef<'_>,
        _runtime_components: &RuntimeComponents,
        cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        if let Some(metadata) = cfg.load::<Metadata>() {
            #[cfg(debug_assertions)]
            call::check_declared(metadata.service(), metadata.name());
            self.record(format!("{}.{}", metadata.service(), metadata.name()));
        }
        Ok(())
    }
}

/// The clients of one target account.
#[derive(Debug, Clone)]
pub struct AccountClients {
    pub target: String,
    pub iam: aws_sdk_iam::Client,
    pub sts: aws_sdk_sts::Client,
    pub cloudtrail: aws_sdk_cloudtrail::Client,
    /// Secrets Manager in the target's region: where key rotation delivers new keys.
    pub secretsmanager: aws_sdk_secretsmanager::Client,
    /// In the region of the target's configuration, where `--security-hub` imports findings.
    pub security_hub: aws_sdk_securityhub::Client,
    /// The Account Management API (`GetAlternateContact`), a global service.
    pub account: aws_sdk_account::Client,
    /// IAM Access Analyzer in the target's region; other regions through
    /// [`AccountClients::access_analyzer_in`].
    pub access_analyzer: aws_sdk_accessanalyzer::Client,
    pub config: SdkConfig,
}

impl AccountClients {
    /// The CloudTrail client for `region` (a trail is changed in its home region; IAM's
    /// events are looked up where they land): the same credentials, retries and call counter.
    pub fn cloudtrail_in(&self, region: &str) -> aws_sdk_cloudtrail::Client {
        if self.cloudtrail.config().region().map(Region::as_ref) == Some(region) {
            return self.cloudtrail.clone();
        }
        let config = self
            .cloudtrail
            .config()
            .to_builder()
            .region(Region::new(region.to_owned()))
            .build();
        aws_sdk_cloudtrail::Client::from_conf(config)
    }
}

impl AccountClients {
    /// The Access Analyzer client for `region` (analyzers are regional): the same
    /// credentials, retries and call counter.
    pub fn access_analyzer_in(&self, region: &str) -> aws_sdk_accessanalyzer::Client {
        if self.access_analyzer.config().region().map(Region::as_ref) == Some(region) {
            return self.access_analyzer.clone();
        }
        let config = self
            .access_analyzer
            .config()
            .to_builder()
            .region(Region::new(region.to_owned()))
            .build();
        aws_sdk_accessanalyzer::Client::from_conf(config)
    }
}

/// Builds clients for targets from one ambient configuration, loaded once per run.
#[derive(Debug, Clone)]
pub struct ClientFactory {
    ambient: SdkConfig,
    calls: ApiCalls,
}

impl ClientFactory {
    pub async fn new(calls: ApiCalls) -> Self {
        Self {
            ambient: load_config(None).await,
            calls,
        }
    }

    pub fn calls(&self) -> &ApiCalls {
        &self.calls
    }

    /// Clients for `target`. Role assumption is lazy: the target's first call assumes the role
    /// (once: the credentials are cached in the config's identity cache, which every client
    /// built from it shares, until shortly before they expire). A role that cannot be assumed
    /// shows up as the error of the target's first call, naming `sts:AssumeRole`.
    pub async fn for_target(&self, target: &Target) -> AccountClients {
        let base = match &target.profile {
            Some(profile) => load_config(Some(profile)).await,
            None => self.ambient.clone(),
        };
        let config = match &target.role_arn {
            Some(role_arn) => {
                let provider = AssumeRole::new(target, role_arn, &base, &self.calls);
                base.to_builder()
                    .credentials_provider(SharedCredentialsProvider::new(provider))
                    .identity_cache(
                        IdentityCache::lazy()
                            .load_timeout(ASSUME_ROLE_LOAD_TIMEOUT)
                            .build(),
                    )
                    .build()
            }
            None => base,
        };
        self.clients(&target.name, config)
    }

    /// An AWS Organizations client on the base credentials (the ambient ones, or `profile`'s),
    /// for listing the accounts of an `[organization]`.
    pub async fn organizations(&self, profile: Option<&str>) -> aws_sdk_organizations::Client {
        let base = match profile {
            Some(profile) => load_config(Some(profile)).await,
            None => self.ambient.clone(),
        };
        let config = aws_sdk_organizations::config::Builder::from(&base)
            .retry_config(retries())
            .interceptor(self.calls.clone())
            .build();
        aws_sdk_organizations::Client::from_conf(config)
    }

    /// An SNS client on the ambient credentials (the identity iamctl starts from, not a
    /// target's role) in `region`, for the notices of `[notify]`.
    pub fn sns(&self, region: &str) -> aws_sdk_sns::Client {
        let config = aws_sdk_sns::config::Builder::from(&self.ambient)
            .region(Region::new(region.to_owned()))
            .retry_config(retries())
            .interceptor(self.calls.clone())
            .build();
        aws_sdk_sns::Client::from_conf(config)
    }

    /// An SQS client on the ambient credentials (`iamctl watch`'s queue).
    pub fn sqs(&self) -> aws_sdk_sqs::Client {
        let config = aws_sdk_sqs::config::Builder::from(&self.ambient)
            .retry_config(retries())
            .interceptor(self.calls.clone())
            .build();
        aws_sdk_sqs::Client::from_conf(config)
    }

    /// An S3 client on the ambient credentials: `iamctl report s3://BUCKET/PREFIX/`, and the
    /// Lambda handler's desired state (`IAMCTL_DESIRED=s3://...`) and shard plans
    /// (`IAMCTL_RESULTS`). With an endpoint override (an emulator on a loopback address) it
    /// addresses buckets by path: virtual-hosted names (`BUCKET.localhost`) do not resolve there.
    pub fn s3(&self) -> aws_sdk_s3::Client {
        let config = aws_sdk_s3::config::Builder::from(&self.ambient)
            .force_path_style(self.ambient.endpoint_url().is_some())
            .retry_config(retries())
            .interceptor(self.calls.clone())
            .build();
        aws_sdk_s3::Client::from_conf(config)
    }

    /// Clients of the identity iamctl starts from (the ambient credentials), named `target`:
    /// for what is read once per run rather than per account.
    pub fn base_clients(&self, target: &str) -> AccountClients {
        self.clients(target, self.ambient.clone())
    }

    /// Clients on an explicit configuration (tests build one per emulated account, since
    /// the process environment is shared by tests running in parallel).
    pub fn clients_from_config(&self, target: &str, config: SdkConfig) -> AccountClients {
        self.clients(target, config)
    }

    /// A factory over an explicit ambient configuration instead of the environment's.
    pub fn with_config(ambient: SdkConfig, calls: ApiCalls) -> Self {
        Self { ambient, calls }
    }

    fn clients(&self, target: &str, config: SdkConfig) -> AccountClients {
        // IAM throttles each account apart: its requests pass the account's pacer, and its
        // retries draw on the account's own quota.
        let pacer = self.calls.pacer(target);
        let iam = aws_sdk_iam::config::Builder::from(&config)
            .retry_config(retries())
            .retry_partition(pacing::retry_partition(target))
            .http_client(PacedHttpClient::new(
                config.http_client(),
                Arc::clone(&pacer),
            ))
            .interceptor(PacerSignal(pacer))
            .interceptor(self.calls.clone())
            .build();
        let cloudtrail = aws_sdk_cloudtrail::config::Builder::from(&config)
            .retry_config(retries())
            .interceptor(self.calls.clone())
            .build();
        let secretsmanager = aws_sdk_secretsmanager::config::Builder::from(&config)
            .retry_config(retries())
            .interceptor(self.calls.clone())
            .build();
        let security_hub = aws_sdk_securityhub::config::Builder::from(&config)
            .retry_config(retries())
            .interceptor(self.calls.clone())
            .build();
        let account = aws_sdk_account::config::Builder::from(&config)
            .retry_config(retries())
            .interceptor(self.calls.clone())
            .build();
        let access_analyzer = aws_sdk_accessanalyzer::config::Builder::from(&config)
            .retry_config(retries())
            .interceptor(self.calls.clone())
            .build();
        AccountClients {
            target: target.to_owned(),
            iam: aws_sdk_iam::Client::from_conf(iam),
            sts: sts_client(&config, &self.calls),
            cloudtrail: aws_sdk_cloudtrail::Client::from_conf(cloudtrail),
            secretsmanager: aws_sdk_secretsmanager::Client::from_conf(secretsmanager),
            security_hub: aws_sdk_securityhub::Client::from_conf(security_hub),
            account: aws_sdk_account::Client::from_conf(account),
            access_analyzer: aws_sdk_accessanalyzer::Client::from_conf(access_analyzer),
            config,
        }
    }
}

/// The retries every client of a run makes (see [`MAX_ATTEMPTS`]).
fn retries() -> RetryConfig {
    RetryConfig::standard().with_max_attempts(MAX_ATTEMPTS)
}

/// An STS client on `config` with the run's retries and call counter: a target's own (for
/// `GetCallerIdentity`) and the one that assumes its role, on the base credentials.
fn sts_client(config: &SdkConfig, calls: &ApiCalls) -> aws_sdk_sts::Client {
    let config = aws_sdk_sts::config::Builder::from(config)
        .retry_config(retries())
        .interceptor(calls.clone())
        .build();
    aws_sdk_sts::Client::from_conf(config)
}

async fn load_config(profile: Option<&str>) -> SdkConfig {
    let mut loader = aws_config::defaults(BehaviorVersion::latest()).timeout_config(
        TimeoutConfig::builder()
            .connect_timeout(Duration::from_secs(10))
            .operation_attempt_timeout(Duration::from_secs(60))
            .build(),
    );
    if let Some(profile) = profile {
        // The default chain tries environment credentials before any profile: a target's
        // `profile` would silently give way to AWS_ACCESS_KEY_ID. Its credentials come from
        // the profile alone (a missing profile is that target's error, not a fallback).
        loader = loader
            .profile_name(profile)
            .credentials_provider(NamedProfile::new(profile));
    }
    let config = loader.load().await;
    if config.region().is_some() {
        config
    } else {
        config
            .to_builder()
            .region(Region::new(FALLBACK_REGION))
            .build()
    }
}

/// The credentials of one named profile, and an error that names it when it has none (the
/// SDK's own says only "the credential provider was not enabled").
#[derive(Debug)]
struct NamedProfile {
    name: String,
    inner: aws_config::profile::ProfileFileCredentialsProvider,
}

impl NamedProfile {
    fn new(name: &str) -> Self {
        Self {
            name: name.to_owned(),
            inner: aws_config::profile::ProfileFileCredentialsProvider::builder()
                .profile_name(name)
                .build(),
        }
    }
}

impl aws_credential_types::provider::ProvideCredentials for NamedProfile {
    fn provide_credentials<'a>(
        &'a self,
    ) -> aws_credential_types::provider::future::ProvideCredentials<'a>
    where
        Self: 'a,
    {
        aws_credential_types::provider::future::ProvideCredentials::new(async move {
            self.inner.provide_credentials().await.map_err(|error| match error {
                CredentialsError::CredentialsNotLoaded(_) => CredentialsError::provider_error(
                    format!(
                        "profile `{}` is not defined in the AWS config or credentials file, or holds no credentials",
                        self.name
                    ),
                ),
                other => other,
            })
        })
    }
}

/// A target's role, assumed with `sts:AssumeRole` through an STS client on the target's base
/// credentials, with the run's retries and call counter (`aws_config`'s `AssumeRoleProvider`
/// builds its own client, uncounted and with default retries). It assumes the role on every
/// call: the identity cache of the config it is set on keeps the credentials.
#[derive(Debug)]
struct AssumeRole {
    target: String,
    role_arn: String,
    session_name: String,
    external_id: Option<String>,
    sts: aws_sdk_sts::Client,
    /// The run's assumed roles, this one's credentials reused from there when it has them.
    calls: ApiCalls,
}

impl AssumeRole {
    const PROVIDER_NAME: &'static str = "iamctl-assume-role";

    fn new(target: &Target, role_arn: &str, base: &SdkConfig, calls: &ApiCalls) -> Self {
        Self {
            target: target.name.clone(),
            role_arn: role_arn.to_owned(),
            session_name: format!("iamctl-{}", sanitize_session_name(&target.name)),
            external_id: target.external_id.clone(),
            sts: sts_client(base, calls),
            calls: calls.clone(),
        }
    }

    fn key(&self) -> RoleKey {
        (
            self.target.clone(),
            self.role_arn.clone(),
            self.external_id.clone(),
        )
    }

    /// The role's credentials: the run's, when it assumed the role already; else assumed now.
    async fn credentials(&self) -> Result<Credentials, CredentialsError> {
        if let Some(credentials) = self.calls.assumed(&self.key()) {
            return Ok(credentials);
        }
        let credentials = self.assume().await?;
        self.calls.remember_assumed(self.key(), &credentials);
        Ok(credentials)
    }

    /// The failure is an [`AwsError`] for `sts:AssumeRole`, carried as the source of the
    /// credentials error so that [`call`] reports it rather than the call that needed the
    /// credentials.
    async fn assume(&self) -> Result<Credentials, CredentialsError> {
        let request = self
            .sts
            .assume_role()
            .role_arn(&self.role_arn)
            .role_session_name(&self.session_name)
            .set_external_id(self.external_id.clone())
            .send();
        let out = call(&self.target, ASSUME_ROLE, request)
            .await
            .map_err(CredentialsError::provider_error)?;
        let failed = |message: String| {
            CredentialsError::provider_error(AwsError::new(
                &self.target,
                ASSUME_ROLE.action,
                message,
            ))
        };
        let credentials = out
            .credentials
            .ok_or_else(|| failed(format!("no credentials returned for {}", self.role_arn)))?;
        let expiry = std::time::SystemTime::try_from(credentials.expiration)
            .map_err(|e| failed(format!("credentials expiry out of range: {e}")))?;
        tracing::debug!(
            account = %self.target,
            role_arn = %self.role_arn,
            session = %self.session_name,
            expires = %credentials.expiration,
            "assumed role"
        );
        Ok(Credentials::new(
            credentials.access_key_id,
            credentials.secret_access_key,
            Some(credentials.session_token),
            Some(expiry),
            Self::PROVIDER_NAME,
        ))
    }
}

impl aws_credential_types::provider::ProvideCredentials for AssumeRole {
    fn provide_credentials<'a>(
        &'a self,
    ) -> aws_credential_types::provider::future::ProvideCredentials<'a>
    where
        Self: 'a,
    {
        aws_credential_types::provider::future::ProvideCredentials::new(self.credentials())
    }
}

/// Role session names allow `[\w+=,.@-]{2,64}`.
fn sanitize_session_name(name: &str) -> String {
    let cleaned: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || "+=,.@_-".contains(c) {
                c
            } else {
                '-'
            }
        })
        .take(64 - "iamctl-".len())
        .collect();
    if cleaned.is_empty() {
        "target".into()
    } else {
        cleaned
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::permissions::{DESCRIBE_TRAILS, GET_CALLER_IDENTITY, LIST_ACCESS_KEYS};

    /// `watch` builds an account's clients anew for every batch: they pace on one pacer, so
    /// what throttling taught carries over, and the run keeps one pacer per account.
    #[test]
    fn every_client_of_a_target_paces_on_one_pacer() {
        let calls = ApiCalls::default();
        let first = calls.pacer("prod");
        assert!(Arc::ptr_eq(&first, &calls.pacer("prod")));
        assert!(!Arc::ptr_eq(&first, &calls.pacer("staging")));
        assert_eq!(calls.pacers.lock().unwrap().len(), 2);
    }

    /// What the target's clients are asked below: one call of each.
    async fn identity(clients: &AccountClients) -> Result<(), AwsError> {
        call(
            &clients.target,
            GET_CALLER_IDENTITY,
            clients.sts.get_caller_identity().send(),
        )
        .await
        .map(drop)
    }

    async fn keys(clients: &AccountClients) {
        call(
            &clients.target,
            LIST_ACCESS_KEYS,
            clients.iam.list_access_keys().send(),
        )
        .await
        .unwrap();
    }

    async fn trails(clients: &AccountClients, client: aws_sdk_cloudtrail::Client) {
        call(
            &clients.target,
            DESCRIBE_TRAILS,
            client.describe_trails().send(),
        )
        .await
        .unwrap();
    }

    #[test]
    fn session_names_are_made_valid() {
        assert_eq!(sanitize_session_name("prod eu/1"), "prod-eu-1");
        assert_eq!(sanitize_session_name(""), "target");
        assert!(sanitize_session_name(&"x".repeat(100)).len() <= 57);
    }

    /// A fake AWS answering by operation, and what it was asked: `(operation, access key id
    /// the request was signed with, body)`.
    type Requests = Arc<Mutex<Vec<(String, String, String)>>>;

    fn fake_aws(
        deny_assume_role: bool,
    ) -> (
        aws_smithy_runtime_api::client::http::SharedHttpClient,
        Requests,
    ) {
        let requests = Requests::default();
        let seen = requests.clone();
        let client = aws_smithy_http_client::test_util::infallible_client_fn(move |req| {
            let body = String::from_utf8_lossy(req.body().bytes().unwrap_or_default()).into_owned();
            let operation = match req.headers().get("x-amz-target") {
                Some(target) => target
                    .to_str()
                    .unwrap()
                    .rsplit('.')
                    .next()
                    .unwrap()
                    .to_owned(),
                None => body
                    .split('&')
                    .find_map(|pair| pair.strip_prefix("Action="))
                    .unwrap_or_default()
                    .to_owned(),
            };
            let authorization = req
                .headers()
                .get("authorization")
                .unwrap()
                .to_str()
                .unwrap();
            let key = authorization
                .split("Credential=")
                .nth(1)
                .and_then(|rest| rest.split('/').next())
                .unwrap_or_default()
                .to_owned();
            seen.lock().unwrap().push((operation.clone(), key, body));
            let (status, text) = match operation.as_str() {
                "AssumeRole" if deny_assume_role => (
                    403,
                    "<ErrorResponse><Error><Type>Sender</Type><Code>AccessDenied</Code>\
                     <Message>not authorized to perform: sts:AssumeRole</Message></Error>\
                     <RequestId>r</RequestId></ErrorResponse>"
                        .to_owned(),
                ),
                "AssumeRole" => (
                    200,
                    "<AssumeRoleResponse><AssumeRoleResult><Credentials>\
                     <AccessKeyId>ASIAASSUMED</AccessKeyId><SecretAccessKey>assumed-secret</SecretAccessKey>\
                     <SessionToken>assumed-token</SessionToken><Expiration>2099-01-01T00:00:00Z</Expiration>\
                     </Credentials></AssumeRoleResult></AssumeRoleResponse>"
                        .to_owned(),
                ),
                "GetCallerIdentity" => (
                    200,
                    "<GetCallerIdentityResponse><GetCallerIdentityResult><Account>111111111111</Account>\
                     </GetCallerIdentityResult></GetCallerIdentityResponse>"
                        .to_owned(),
                ),
                "ListAccessKeys" => (
                    200,
                    "<ListAccessKeysResponse><ListAccessKeysResult><AccessKeyMetadata/>\
                     <IsTruncated>false</IsTruncated></ListAccessKeysResult></ListAccessKeysResponse>"
                        .to_owned(),
                ),
                "DescribeTrails" => (200, r#"{"trailList":[]}"#.to_owned()),
                other => panic!("unexpected operation {other}"),
            };
            http::Response::builder().status(status).body(text).unwrap()
        });
        (client, requests)
    }

    async fn fake_factory(deny_assume_role: bool) -> (ClientFactory, Requests) {
        let (http_client, requests) = fake_aws(deny_assume_role);
        let config = aws_config::defaults(BehaviorVersion::latest())
            .http_client(http_client)
            .region(Region::new("us-east-1"))
            .credentials_provider(Credentials::new(
                "AKIABASE",
                "base-secret",
                None,
                None,
                "test",
            ))
            .load()
            .await;
        (
            ClientFactory::with_config(config, ApiCalls::default()),
            requests,
        )
    }

    fn role_target(name: &str) -> Target {
        Target {
            name: name.into(),
            role_arn: Some("arn:aws:iam::111111111111:role/iamctl".into()),
            external_id: Some("xid".into()),
            profile: None,
        }
    }

    #[tokio::test]
    async fn a_role_is_assumed_once_per_target_lazily_and_counted() {
        let (factory, requests) = fake_factory(false).await;
        let prod = factory.for_target(&role_target("prod eu")).await;
        assert!(
            requests.lock().unwrap().is_empty(),
            "nothing before the first call"
        );

        // Every client of the target, concurrently and one after another, another region too.
        let reads = (0..4).map(|_| async {
            identity(&prod).await.unwrap();
            keys(&prod).await;
        });
        futures::future::join_all(reads).await;
        trails(&prod, prod.cloudtrail.clone()).await;
        trails(&prod, prod.cloudtrail_in("eu-west-1")).await;
        let calls = factory.calls().by_operation();
        assert_eq!(calls["STS.AssumeRole"], 1, "{calls:?}");
        assert_eq!(calls["STS.GetCallerIdentity"], 4, "{calls:?}");

        let requests = requests.lock().unwrap().clone();
        let (_, key, body) = &requests[0];
        assert_eq!(
            key, "AKIABASE",
            "the role is assumed with the base credentials"
        );
        assert!(body.contains("RoleSessionName=iamctl-prod-eu"), "{body}");
        assert!(body.contains("ExternalId=xid"), "{body}");
        for (operation, key, _) in &requests[1..] {
            assert_eq!(
                key, "ASIAASSUMED",
                "{operation} signs with the role's credentials"
            );
        }

        // Another target assumes its own role.
        let staging = factory.for_target(&role_target("staging")).await;
        identity(&staging).await.unwrap();
        keys(&staging).await;
        assert_eq!(factory.calls().by_operation()["STS.AssumeRole"], 2);
    }

    #[tokio::test]
    async fn a_role_that_cannot_be_assumed_is_the_error_of_the_first_call() {
        let (factory, _) = fake_factory(true).await;
        let clients = factory.for_target(&role_target("prod")).await;
        let err = identity(&clients).await.unwrap_err();
        assert_eq!(
            err.to_string(),
            "account prod: sts:AssumeRole: AccessDenied: not authorized to perform: sts:AssumeRole \
             (missing permission sts:AssumeRole)"
        );
        assert_eq!(factory.calls().by_operation()["STS.AssumeRole"], 1);
    }
}
