//! Test harness for integration tests: moto's IAM server stands in for live IAM.
//!
//! tests/suite/main.rs declares it once. One moto server runs per test process, started
//! on first use by `tests/moto/launcher.py` (which corrects a few moto gaps and
//! exits with this process). Each test takes its own AWS account from
//! [`fresh_account`], so tests run in parallel without seeing each other.
//!
//! ```ignore
//! let account = support::fresh_account().await;
//! let iam = account.iam().await;
//! support::seed_user(&iam, "alice", SeedUser { console: true, ..Default::default() }).await;
//! account.cmd().args(["plan"]).assert().success();
//! ```

pub mod cli;
pub mod live_state;

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command as StdCommand, Stdio};
use std::sync::OnceLock;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::mpsc;
use std::time::Duration;

use aws_config::{BehaviorVersion, Region, SdkConfig};
use aws_sdk_iam::config::{Credentials, SharedCredentialsProvider};
use aws_sdk_iam::error::DisplayErrorContext;
use aws_sdk_iam::types::{StatusType, Tag};

/// The region every client and every `iamctl` run uses.
pub const REGION: &str = "us-east-1";

/// Base credentials for moto: they only serve to call `sts:AssumeRole`.
const BASE_ACCESS_KEY_ID: &str = "AKIAIOSFODNN7EXAMPLE";
const BASE_SECRET_ACCESS_KEY: &str = "test";

/// Password given to seeded console users (moto does not check it).
pub const SEED_PASSWORD: &str = "Seed-Passw0rd-For-Tests!";

/// How long moto may take to import and bind before the harness gives up.
const STARTUP_TIMEOUT: Duration = Duration::from_secs(120);

struct MotoServer {
    endpoint: String,
    // Kept for the life of the test process: the launcher exits when its stdin
    // closes, which the OS does when this process ends, however it ends.
    _stdin: ChildStdin,
    _child: Child,
}

static SERVER: OnceLock<MotoServer> = OnceLock::new();

/// The moto server's URL, `http://127.0.0.1:PORT`; starts the server on first call.
pub fn endpoint() -> String {
    SERVER.get_or_init(start_moto).endpoint.clone()
}

fn python() -> PathBuf {
    let candidate = match std::env::var_os("IAMCTL_MOTO_PYTHON") {
        Some(path) if !path.is_empty() => PathBuf::from(path),
        _ => Path::new(env!("CARGO_MANIFEST_DIR")).join(".venv/bin/python"),
    };
    if !candidate.exists() {
        panic!(
            "no Python with moto at {}: run `scripts/test`, or `scripts/ensure-moto` once \
             before `cargo test` (or point IAMCTL_MOTO_PYTHON at a Python that has moto[server])",
            candidate.display()
        );
    }
    candidate
}

fn start_moto() -> MotoServer {
    let python = python();
    let launcher = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/moto/launcher.py");
    let mut child = StdCommand::new(&python)
        .arg(&launcher)
        .env_remove("MOTO_ACCOUNT_ID")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap_or_else(|e| panic!("starting {} {}: {e}", python.display(), launcher.display()));
    let stdin = child.stdin.take().expect("piped stdin");
    let stdout = child.stdout.take().expect("piped stdout");

    // Read the READY line on a thread so that a hung launcher fails the test
    // instead of blocking it forever.
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let mut line = String::new();
        let read = BufReader::new(stdout).read_line(&mut line).map(|_| line);
        let _ = tx.send(read);
    });
    let line = match rx.recv_timeout(STARTUP_TIMEOUT) {
        Ok(Ok(line)) => line,
        Ok(Err(e)) => panic!("reading the moto launcher's stdout: {e}"),
        Err(_) => {
            let _ = child.kill();
            panic!("moto launcher printed no READY line within {STARTUP_TIMEOUT:?}");
        }
    };
    let port: u16 = line
        .strip_prefix("READY ")
        .and_then(|port| port.trim().parse().ok())
        .unwrap_or_else(|| {
            panic!(
                "moto launcher failed to start (said {line:?}; its stderr is above). \
                 Run `scripts/ensure-moto` to (re)install moto into .venv"
            )
        });
    MotoServer {
        endpoint: format!("http://127.0.0.1:{port}"),
        _stdin: stdin,
        _child: child,
    }
}

/// One isolated AWS account inside moto, and the credentials to act in it.
///
/// From [`fresh_account`] it acts as an assumed-role session with full
/// access; from [`Account::as_user`] as one IAM user of the account.
#[derive(Clone, Debug)]
pub struct Account {
    /// The 12-digit account id.
    pub id: String,
    creds: Credentials,
}

/// A new AWS account no other test uses, with role-session credentials for it.
pub async fn fresh_account() -> Account {
    let id = unique_account_id();
    let base = credentials(BASE_ACCESS_KEY_ID, BASE_SECRET_ACCESS_KEY, None);
    // moto answers AssumeRole into any account id without the role existing,
    // and binds the session's keys to that account (tests/moto/launcher.py).
    let role_arn = format!("arn:aws:iam::{id}:role/iamctl-test");
    let assumed = aws_sdk_sts::Client::new(&sdk_config(&base))
        .assume_role()
        .role_arn(&role_arn)
        .role_session_name("iamctl-test")
        .send()
        .await
        .unwrap_or_else(|e| panic!("assuming {role_arn} in moto: {}", DisplayErrorContext(&e)));
    let creds = assumed.credentials.expect("AssumeRole returns credentials");
    Account {
        id,
        creds: credentials(
            &creds.access_key_id,
            &creds.secret_access_key,
            Some(creds.session_token),
        ),
    }
}

/// Unique in this process (which owns its moto server), never moto's default
/// account 123456789012: `9`, the process id (7 digits), a counter (4 digits).
fn unique_account_id() -> String {
    static NEXT: AtomicU32 = AtomicU32::new(0);
    let n = NEXT.fetch_add(1, Ordering::Relaxed);
    assert!(
        n < 10_000,
        "more than 10000 fresh accounts in one test process"
    );
    format!("9{:07}{n:04}", std::process::id() % 10_000_000)
}

impl Account {
    /// The access key id these credentials sign with.
    pub fn access_key_id(&self) -> &str {
        self.creds.access_key_id()
    }

    /// `arn:aws:iam::<id>:role/<name>`: a role that `iamctl` can assume into
    /// this account from any other (moto needs no such role to exist).
    pub fn role_arn(&self, name: &str) -> String {
        format!("arn:aws:iam::{}:role/{name}", self.id)
    }

    /// The environment that points the AWS SDK (and so `iamctl`) at this
    /// account in moto, and at nothing from the developer's machine.
    pub fn env(&self) -> Vec<(String, String)> {
        let empty = empty_file().display().to_string();
        let mut env = vec![
            ("AWS_ENDPOINT_URL".to_string(), endpoint()),
            (
                "AWS_ACCESS_KEY_ID".into(),
                self.creds.access_key_id().into(),
            ),
            (
                "AWS_SECRET_ACCESS_KEY".into(),
                self.creds.secret_access_key().into(),
            ),
            ("AWS_REGION".into(), REGION.into()),
            ("AWS_EC2_METADATA_DISABLED".into(), "true".into()),
            ("AWS_CONFIG_FILE".into(), empty.clone()),
            ("AWS_SHARED_CREDENTIALS_FILE".into(), empty),
        ];
        if let Some(token) = self.creds.session_token() {
            env.push(("AWS_SESSION_TOKEN".into(), token.into()));
        }
        env
    }

    /// The `iamctl` binary with a clean environment (only `PATH` and `HOME`
    /// kept) plus [`Account::env`].
    pub fn cmd(&self) -> assert_cmd::Command {
        let mut cmd = cli::iamctl();
        cmd.envs(self.env());
        cmd
    }

    /// SDK configuration acting in this account, for any service's client.
    pub fn sdk_config(&self) -> SdkConfig {
        sdk_config(&self.creds)
    }

    /// An IAM client acting in this account.
    pub async fn iam(&self) -> aws_sdk_iam::Client {
        aws_sdk_iam::Client::new(&self.sdk_config())
    }

    /// An STS client acting in this account.
    pub async fn sts(&self) -> aws_sdk_sts::Client {
        aws_sdk_sts::Client::new(&self.sdk_config())
    }

    /// A CloudTrail client acting in this account (region [`REGION`]).
    pub async fn cloudtrail(&self) -> aws_sdk_cloudtrail::Client {
        aws_sdk_cloudtrail::Client::new(&self.sdk_config())
    }

    /// Creates the S3 bucket `name` in this account, e.g. for a trail
    /// (CreateTrail needs an existing bucket). The crate has no S3 SDK, so this
    /// is one plain HTTP request; moto reads the account from the key id in
    /// the credential scope and does not check the signature.
    pub fn create_bucket(&self, name: &str) {
        let endpoint = endpoint();
        let host = endpoint.trim_start_matches("http://");
        let request = format!(
            "PUT /{name} HTTP/1.1\r\nHost: {host}\r\nContent-Length: 0\r\nConnection: close\r\n\
             Authorization: AWS4-HMAC-SHA256 Credential={}/20260101/{REGION}/s3/aws4_request, \
             SignedHeaders=host, Signature=0\r\n\r\n",
            self.access_key_id()
        );
        let mut stream = TcpStream::connect(host).expect("connecting to moto");
        stream
            .write_all(request.as_bytes())
            .expect("sending CreateBucket");
        let mut response = String::new();
        stream
            .read_to_string(&mut response)
            .expect("reading CreateBucket's answer");
        let status = response.lines().next().unwrap_or_default();
        assert!(
            status.starts_with("HTTP/1.1 200"),
            "CreateBucket {name}: {response}"
        );
    }

    /// Moves creation and last-use times in this account into the past, as
    /// `spec` says, through the launcher's test-only `POST /_iamctl/backdate`
    /// (tests/moto/launcher.py; neither AWS nor moto lets a client do this).
    /// Later answers of ListAccessKeys, GetAccessKeyLastUsed, GetLoginProfile,
    /// GetUser, ListUsers and GetAccountAuthorizationDetails show the new
    /// times, and so does a credential report generated afterwards (not one
    /// generated before). A request later signed with a back-dated key
    /// records a fresh last use, as in AWS. Panics if moto refuses (unknown
    /// user, key or login profile; nothing to back-date).
    pub fn backdate(&self, spec: Backdate<'_>) {
        let mut fields = vec![
            ("account", json_string(&self.id)),
            ("user", json_string(spec.user)),
        ];
        if let Some(key) = spec.access_key_id {
            fields.push(("access_key_id", json_string(key)));
        }
        for (name, days) in [
            ("created_days_ago", spec.created_days_ago),
            ("last_used_days_ago", spec.last_used_days_ago),
            (
                "login_profile_created_days_ago",
                spec.login_profile_created_days_ago,
            ),
            (
                "password_last_used_days_ago",
                spec.password_last_used_days_ago,
            ),
            ("user_created_days_ago", spec.user_created_days_ago),
        ] {
            if let Some(days) = days {
                fields.push((name, days.to_string()));
            }
        }
        let body = fields
            .iter()
            .map(|(name, value)| format!("\"{name}\":{value}"))
            .collect::<Vec<_>>()
            .join(",");
        let body = format!("{{{body}}}");

        let endpoint = endpoint();
        let host = endpoint.trim_start_matches("http://");
        let request = format!(
            "POST /_iamctl/backdate HTTP/1.1\r\nHost: {host}\r\n\
             Content-Type: application/json\r\nContent-Length: {}\r\n\
             Connection: close\r\n\r\n{body}",
            body.len()
        );
        let fail = |what: &str| -> ! { panic!("backdate {body} in moto: {what}") };
        let mut stream = TcpStream::connect(host).unwrap_or_else(|e| fail(&e.to_string()));
        stream
            .write_all(request.as_bytes())
            .unwrap_or_else(|e| fail(&format!("sending: {e}")));
        let mut response = String::new();
        stream
            .read_to_string(&mut response)
            .unwrap_or_else(|e| fail(&format!("reading the answer: {e}")));
        // "HTTP/1.x 200 OK"; the body says what was wrong otherwise.
        let status = response.split_whitespace().nth(1).unwrap_or_default();
        if status != "200" {
            fail(&response);
        }
    }

    /// Gives this account's root user what no API can: MFA (`"none"`, `"virtual"` or
    /// `"hardware"`), access keys, and a last use `last_used_days_ago` days ago (`None`:
    /// never), through the launcher's test-only `POST /_iamctl/root` (tests/moto/launcher.py).
    /// GetAccountSummary, ListVirtualMFADevices and credential reports generated afterwards
    /// say so. Panics if moto refuses.
    pub fn set_root(&self, mfa: &str, access_keys_present: bool, last_used_days_ago: Option<u32>) {
        let used = last_used_days_ago.map_or_else(|| "null".to_owned(), |d| d.to_string());
        self.post_fixture(
            "/_iamctl/root",
            &format!(
                "{{\"account\":{},\"mfa\":{},\"access_keys_present\":{access_keys_present},\"last_used_days_ago\":{used}}}",
                json_string(&self.id),
                json_string(mfa)
            ),
        );
    }

    /// Loads the AWS-managed policies (`AdministratorAccess`, `AWSSupportAccess` ...) into this
    /// account, as moto does into every account when started with
    /// `MOTO_IAM_LOAD_MANAGED_POLICIES=true` (tests/moto/launcher.py).
    pub fn load_aws_managed_policies(&self) {
        self.post_fixture(
            "/_iamctl/aws-managed-policies",
            &format!("{{\"account\":{}}}", json_string(&self.id)),
        );
    }

    /// Back-dates a service-specific credential or sets a server certificate's dates, through
    /// the launcher's test-only `POST /_iamctl/credential-dates` (tests/moto/launcher.py):
    /// `fields` is the JSON object's members besides `account`.
    pub fn credential_dates(&self, fields: &str) {
        self.post_fixture(
            "/_iamctl/credential-dates",
            &format!("{{\"account\":{},{fields}}}", json_string(&self.id)),
        );
    }

    /// POSTs `body` to one of the launcher's test fixtures; panics unless it answers 200.
    fn post_fixture(&self, path: &str, body: &str) {
        let endpoint = endpoint();
        let host = endpoint.trim_start_matches("http://");
        let request = format!(
            "POST {path} HTTP/1.1\r\nHost: {host}\r\n\
             Content-Type: application/json\r\nContent-Length: {}\r\n\
             Connection: close\r\n\r\n{body}",
            body.len()
        );
        let fail = |what: &str| -> ! { panic!("{path} {body} in moto: {what}") };
        let mut stream = TcpStream::connect(host).unwrap_or_else(|e| fail(&e.to_string()));
        stream
            .write_all(request.as_bytes())
            .unwrap_or_else(|e| fail(&format!("sending: {e}")));
        let mut response = String::new();
        stream
            .read_to_string(&mut response)
            .unwrap_or_else(|e| fail(&format!("reading the answer: {e}")));
        if response.split_whitespace().nth(1) != Some("200") {
            fail(&response);
        }
    }

    /// The API actions (`iam:ListAccessKeys`, `cloudtrail:DescribeTrails`, ...) that
    /// moto received signed with this account's key since the last call, with counts:
    /// the launcher's test-only request log (`GET /_iamctl/requests`, see
    /// tests/moto/launcher.py). Reading forgets them, so each call sees what came after
    /// the previous one. Requests made through [`Account::iam`] and friends are signed
    /// with the same key, so read once after seeding to start from nothing.
    pub fn requests(&self) -> std::collections::BTreeMap<String, u64> {
        let endpoint = endpoint();
        let host = endpoint.trim_start_matches("http://");
        let request = format!(
            "GET /_iamctl/requests?access_key_id={} HTTP/1.1\r\nHost: {host}\r\n\
             Connection: close\r\n\r\n",
            self.access_key_id()
        );
        let mut stream = TcpStream::connect(host).expect("connecting to moto");
        stream
            .write_all(request.as_bytes())
            .expect("asking moto for its request log");
        let mut response = String::new();
        stream
            .read_to_string(&mut response)
            .expect("reading moto's request log");
        let (head, body) = response
            .split_once("\r\n\r\n")
            .unwrap_or_else(|| panic!("no HTTP answer from the request log: {response}"));
        assert!(head.contains(" 200 "), "request log: {response}");
        serde_json::from_str(body).unwrap_or_else(|e| panic!("request log {body:?}: {e}"))
    }

    /// This account as the existing IAM user `user_name`: creates an access
    /// key for the user (it counts towards the user's two keys).
    pub async fn as_user(&self, user_name: &str) -> Account {
        let key = self
            .iam()
            .await
            .create_access_key()
            .user_name(user_name)
            .send()
            .await
            .unwrap_or_else(|e| {
                panic!(
                    "creating a key for {user_name}: {}",
                    DisplayErrorContext(&e)
                )
            })
            .access_key
            .expect("CreateAccessKey returns the key");
        Account {
            id: self.id.clone(),
            creds: credentials(&key.access_key_id, &key.secret_access_key, None),
        }
    }
}

/// What [`Account::backdate`] moves into the past: each `Some(n)` sets that
/// time to `n` days before now (fractions allowed). Give at least one.
///
/// ```ignore
/// account.backdate(Backdate {
///     user: "alice",
///     access_key_id: Some(&keys.active[0]),
///     created_days_ago: Some(120.0),
///     ..Default::default()
/// });
/// ```
#[derive(Clone, Copy, Debug, Default)]
pub struct Backdate<'a> {
    /// The IAM user whose times change.
    pub user: &'a str,
    /// One of the user's access keys: needed by, and only by, the two key fields.
    pub access_key_id: Option<&'a str>,
    /// The key's creation: ListAccessKeys CreateDate, the credential report's
    /// access_key_N_last_rotated.
    pub created_days_ago: Option<f64>,
    /// The key's last use, by service `iam` in region `us-east-1`:
    /// GetAccessKeyLastUsed, the report's access_key_N_last_used_date.
    pub last_used_days_ago: Option<f64>,
    /// The login profile's creation (the user needs one): GetLoginProfile CreateDate.
    pub login_profile_created_days_ago: Option<f64>,
    /// The user's last console sign-in: GetUser/ListUsers PasswordLastUsed,
    /// the report's password_last_used (shown only while a profile exists).
    pub password_last_used_days_ago: Option<f64>,
    /// The user's creation: GetUser/ListUsers/GetAccountAuthorizationDetails
    /// CreateDate, the report's user_creation_time and password_last_changed.
    pub user_created_days_ago: Option<f64>,
}

/// `value` as a JSON string literal.
fn json_string(value: &str) -> String {
    let mut out = String::with_capacity(value.len() + 2);
    out.push('"');
    for c in value.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c if (c as u32) < 0x20 => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// An empty file for AWS_CONFIG_FILE and AWS_SHARED_CREDENTIALS_FILE.
fn empty_file() -> &'static Path {
    static EMPTY: OnceLock<PathBuf> = OnceLock::new();
    EMPTY.get_or_init(|| {
        let path = Path::new(env!("CARGO_TARGET_TMPDIR")).join("empty-aws-config");
        std::fs::write(&path, "").unwrap_or_else(|e| panic!("writing {}: {e}", path.display()));
        path
    })
}

fn credentials(access_key_id: &str, secret: &str, session_token: Option<String>) -> Credentials {
    Credentials::new(
        access_key_id,
        secret,
        session_token,
        None,
        "iamctl-test-harness",
    )
}

/// Built field by field, not by `aws_config::load_defaults`, so that nothing
/// in the developer's environment or ~/.aws changes what the tests talk to.
fn sdk_config(creds: &Credentials) -> SdkConfig {
    SdkConfig::builder()
        .behavior_version(BehaviorVersion::latest())
        .region(Region::new(REGION))
        .endpoint_url(endpoint())
        .credentials_provider(SharedCredentialsProvider::new(creds.clone()))
        .build()
}

/// Makes `management` the management account of a new AWS Organization (all features) and
/// creates one member account per name; returns its client and the new account ids by name.
/// Moto gives each member account its own isolated IAM, reached by assuming a role in it.
pub async fn create_organization<'n>(
    management: &Account,
    names: &[&'n str],
) -> (
    aws_sdk_organizations::Client,
    std::collections::BTreeMap<&'n str, String>,
) {
    let org = aws_sdk_organizations::Client::new(&management.sdk_config());
    org.create_organization()
        .feature_set(aws_sdk_organizations::types::OrganizationFeatureSet::All)
        .send()
        .await
        .expect("CreateOrganization");
    let mut ids = std::collections::BTreeMap::new();
    for &name in names {
        let status = org
            .create_account()
            .account_name(name)
            .email(format!("{name}@example.com"))
            .send()
            .await
            .unwrap_or_else(|e| panic!("CreateAccount {name}: {}", DisplayErrorContext(&e)))
            .create_account_status
            .expect("CreateAccount returns a status");
        ids.insert(name, status.account_id.expect("a new account id"));
    }
    (org, ids)
}

/// A signing certificate's body (a self-signed X.509 certificate, also used as a server
/// certificate's) and an SSH public key, for seeding the other credential kinds.
pub const SIGNING_CERT: &str = include_str!("../fixtures/credential_reads/signing.pem");
pub const SSH_KEY: &str = include_str!("../fixtures/credential_reads/ssh.pub");

/// Creates a service-specific credential of `user` for `service` (`age_days`: a Bedrock API
/// key's expiry); returns its id.
pub async fn create_service_credential(
    iam: &aws_sdk_iam::Client,
    user: &str,
    service: &str,
    age_days: Option<i32>,
) -> String {
    iam.create_service_specific_credential()
        .user_name(user)
        .service_name(service)
        .set_credential_age_days(age_days)
        .send()
        .await
        .unwrap_or_else(|e| {
            panic!(
                "CreateServiceSpecificCredential {user}: {}",
                DisplayErrorContext(&e)
            )
        })
        .service_specific_credential
        .expect("the new credential")
        .service_specific_credential_id
}

/// Uploads [`SSH_KEY`] for `user`; returns its id.
pub async fn upload_ssh_key(iam: &aws_sdk_iam::Client, user: &str) -> String {
    iam.upload_ssh_public_key()
        .user_name(user)
        .ssh_public_key_body(SSH_KEY.trim())
        .send()
        .await
        .unwrap_or_else(|e| panic!("UploadSSHPublicKey {user}: {}", DisplayErrorContext(&e)))
        .ssh_public_key
        .expect("the new key")
        .ssh_public_key_id
}

/// Uploads [`SIGNING_CERT`] as a signing certificate of `user`; returns its id.
pub async fn upload_signing_certificate(iam: &aws_sdk_iam::Client, user: &str) -> String {
    iam.upload_signing_certificate()
        .user_name(user)
        .certificate_body(SIGNING_CERT)
        .send()
        .await
        .unwrap_or_else(|e| {
            panic!(
                "UploadSigningCertificate {user}: {}",
                DisplayErrorContext(&e)
            )
        })
        .certificate
        .expect("the new certificate")
        .certificate_id
}

/// Uploads [`SIGNING_CERT`] as the server certificate `name` (its dates are set with
/// [`Account::credential_dates`]).
pub async fn upload_server_certificate(iam: &aws_sdk_iam::Client, name: &str) {
    iam.upload_server_certificate()
        .server_certificate_name(name)
        .certificate_body(SIGNING_CERT)
        .private_key("not read")
        .send()
        .await
        .unwrap_or_else(|e| {
            panic!(
                "UploadServerCertificate {name}: {}",
                DisplayErrorContext(&e)
            )
        });
}

/// Gives `name` an enabled virtual MFA device named after the user.
pub async fn enable_virtual_mfa(iam: &aws_sdk_iam::Client, name: &str) {
    let fail = |step: &str, e: &dyn std::error::Error| -> ! {
        panic!(
            "enabling MFA for {name}: {step}: {}",
            DisplayErrorContext(e)
        )
    };
    let device = iam
        .create_virtual_mfa_device()
        .virtual_mfa_device_name(name)
        .send()
        .await
        .unwrap_or_else(|e| fail("CreateVirtualMFADevice", &e))
        .virtual_mfa_device
        .expect("CreateVirtualMFADevice returns the device");
    // Any two codes do: moto checks neither.
    iam.enable_mfa_device()
        .user_name(name)
        .serial_number(device.serial_number)
        .authentication_code1("123456")
        .authentication_code2("654321")
        .send()
        .await
        .unwrap_or_else(|e| fail("EnableMFADevice", &e));
}

/// What [`seed_user`] creates. `Default` is a bare user with nothing else.
#[derive(Clone, Copy, Debug, Default)]
pub struct SeedUser<'a> {
    /// A login profile (console password [`SEED_PASSWORD`]).
    pub console: bool,
    /// The login profile's PasswordResetRequired (needs `console`).
    pub password_reset_required: bool,
    /// A virtual MFA device, enabled.
    pub mfa: bool,
    /// Active access keys to create (IAM allows two keys in all).
    pub active_keys: u8,
    /// Inactive access keys to create, after the active ones.
    pub inactive_keys: u8,
    /// Tags on the user.
    pub tags: &'a [(&'a str, &'a str)],
}

/// The access key ids [`seed_user`] created, in creation order.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SeededKeys {
    pub active: Vec<String>,
    pub inactive: Vec<String>,
}

/// Creates the IAM user `name` as `spec` says; panics on any failure.
pub async fn seed_user(iam: &aws_sdk_iam::Client, name: &str, spec: SeedUser<'_>) -> SeededKeys {
    assert!(
        spec.console || !spec.password_reset_required,
        "seed_user({name}): password_reset_required needs console"
    );
    assert!(
        spec.active_keys + spec.inactive_keys <= 2,
        "seed_user({name}): IAM allows at most two access keys per user"
    );
    let fail = |step: &str, e: &dyn std::error::Error| -> ! {
        panic!("seed_user({name}): {step}: {}", DisplayErrorContext(e))
    };

    let tags: Vec<Tag> = spec
        .tags
        .iter()
        .map(|(key, value)| {
            Tag::builder()
                .key(*key)
                .value(*value)
                .build()
                .expect("key and value set")
        })
        .collect();
    let mut create_user = iam.create_user().user_name(name);
    if !tags.is_empty() {
        create_user = create_user.set_tags(Some(tags));
    }
    create_user
        .send()
        .await
        .unwrap_or_else(|e| fail("CreateUser", &e));

    if spec.console {
        iam.create_login_profile()
            .user_name(name)
            .password(SEED_PASSWORD)
            .password_reset_required(spec.password_reset_required)
            .send()
            .await
            .unwrap_or_else(|e| fail("CreateLoginProfile", &e));
    }

    if spec.mfa {
        enable_virtual_mfa(iam, name).await;
    }

    let mut keys = SeededKeys::default();
    for i in 0..spec.active_keys + spec.inactive_keys {
        let key_id = iam
            .create_access_key()
            .user_name(name)
            .send()
            .await
            .unwrap_or_else(|e| fail("CreateAccessKey", &e))
            .access_key
            .expect("CreateAccessKey returns the key")
            .access_key_id;
        if i < spec.active_keys {
            keys.active.push(key_id);
            continue;
        }
        iam.update_access_key()
            .user_name(name)
            .access_key_id(&key_id)
            .status(StatusType::Inactive)
            .send()
            .await
            .unwrap_or_else(|e| fail("UpdateAccessKey", &e));
        keys.inactive.push(key_id);
    }
    keys
}
