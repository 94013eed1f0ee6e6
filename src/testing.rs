//! Live state from plain values, for tests and benchmarks: an account of users built with a
//! few words each (`user("bob").console(90).key("AKIA1", 120, None)`), ages in days before a
//! fixed date. One builder serves the unit tests inside the crate and the integration tests
//! and benchmarks outside it. Not for production code: nothing here reads AWS.

use chrono::{DateTime, Duration, NaiveDate, Utc};

use crate::state::{
    AccessKey, AccountState, Caller, KeyStatus, LoginProfile, MfaDevice, PasswordPolicy, Trail,
    User,
};

/// The account id every fixture account has.
pub const ACCOUNT_ID: &str = "123456789012";

/// The date the tests plan "as of", unless they say otherwise.
pub fn as_of() -> DateTime<Utc> {
    date("2026-11-01")
}

/// `YYYY-MM-DD` (midnight UTC) or RFC 3339.
pub fn date(text: &str) -> DateTime<Utc> {
    if let Ok(day) = NaiveDate::parse_from_str(text, "%Y-%m-%d") {
        return day.and_hms_opt(0, 0, 0).expect("midnight exists").and_utc();
    }
    DateTime::parse_from_rfc3339(text)
        .unwrap_or_else(|e| panic!("bad date {text:?}: {e}"))
        .with_timezone(&Utc)
}

/// `days` days before [`as_of`].
pub fn ago(days: i64) -> DateTime<Utc> {
    as_of() - Duration::days(days)
}

/// A password policy stronger than IAM's defaults in every field.
pub fn strong_policy() -> PasswordPolicy {
    PasswordPolicy {
        minimum_length: 14,
        require_uppercase: true,
        require_lowercase: true,
        require_numbers: true,
        require_symbols: true,
        allow_users_to_change: true,
        max_age_days: Some(90),
        reuse_prevention: Some(24),
        hard_expiry: false,
    }
}

/// A trail that satisfies `audit.require_cloudtrail`.
pub fn good_trail() -> Trail {
    Trail {
        name: "org-trail".into(),
        home_region: "us-east-1".into(),
        is_multi_region: true,
        is_logging: true,
        records_management_writes: true,
    }
}

/// An account with these users, no policy, no caller, trails not read.
pub fn account(users: impl IntoIterator<Item = User>) -> AccountState {
    AccountState {
        users: users.into_iter().collect(),
        ..AccountState::new(ACCOUNT_ID)
    }
}

/// Builds a [`User`]; ages are in days before [`as_of`].
#[derive(Debug, Clone)]
pub struct UserBuilder(User);

/// A user created 1,000 days before [`as_of`], with nothing else.
pub fn user(name: &str) -> UserBuilder {
    UserBuilder(User {
        arn: format!("arn:aws:iam::{ACCOUNT_ID}:user/{name}"),
        ..User::new(name, ago(1000))
    })
}

impl UserBuilder {
    /// The user was created `days` days ago (1,000 unless said).
    pub fn created(mut self, days: i64) -> Self {
        self.0.created = ago(days);
        self
    }

    /// A console password created `created` days ago, never used.
    pub fn console(mut self, created: i64) -> Self {
        self.0.login_profile = Some(LoginProfile {
            created: ago(created),
            password_reset_required: false,
        });
        self
    }

    /// A console password created `created` days ago, last used `last_used` days ago.
    pub fn console_used(self, created: i64, last_used: i64) -> Self {
        let mut this = self.console(created);
        this.0.password_last_used = Some(ago(last_used));
        this
    }

    /// The console password must be changed at next sign-in.
    pub fn reset_required(mut self) -> Self {
        let profile = self
            .0
            .login_profile
            .as_mut()
            .expect("reset_required needs console()");
        profile.password_reset_required = true;
        self
    }

    pub fn mfa(mut self) -> Self {
        let serial = format!("arn:aws:iam::{ACCOUNT_ID}:mfa/{}", self.0.name);
        self.0.mfa_devices.push(MfaDevice {
            kind: crate::state::MfaKind::of_serial(&serial),
            serial,
            enabled_at: Some(ago(500)),
        });
        self
    }

    pub fn tag(mut self, key: &str, value: &str) -> Self {
        self.0.tags.insert(key.into(), value.into());
        self
    }

    /// An active key created `created` days ago, last used `last_used` days ago (`None`: never).
    pub fn key(self, id: &str, created: i64, last_used: Option<i64>) -> Self {
        self.with_key(id, KeyStatus::Active, created, last_used)
    }

    /// An inactive key created `created` days ago, last used `last_used` days ago.
    pub fn inactive_key(self, id: &str, created: i64, last_used: Option<i64>) -> Self {
        self.with_key(id, KeyStatus::Inactive, created, last_used)
    }

    fn with_key(
        mut self,
        id: &str,
        status: KeyStatus,
        created: i64,
        last_used: Option<i64>,
    ) -> Self {
        self.0.access_keys.push(AccessKey {
            id: id.parse().expect("a key id"),
            status,
            created: ago(created),
            last_used: last_used.map(ago),
        });
        self
    }

    /// A service-specific credential for `service`, created `created` days ago, expiring
    /// `expires_in` days from now (`None`: no expiry).
    pub fn service_credential(
        mut self,
        id: &str,
        service: &str,
        status: crate::state::ServiceCredentialStatus,
        created: i64,
        expires_in: Option<i64>,
    ) -> Self {
        self.0
            .service_credentials
            .get_or_insert_with(Vec::new)
            .push(crate::state::ServiceCredential {
                id: id.into(),
                service: service.into(),
                service_user_name: None,
                alias: None,
                status,
                created: ago(created),
                expires: expires_in.map(|days| ago(-days)),
            });
        self
    }

    /// An SSH public key uploaded `uploaded` days ago.
    pub fn ssh_key(mut self, id: &str, status: KeyStatus, uploaded: i64) -> Self {
        self.0
            .ssh_public_keys
            .get_or_insert_with(Vec::new)
            .push(crate::state::SshPublicKey {
                id: id.into(),
                status,
                uploaded: ago(uploaded),
            });
        self
    }

    /// A signing certificate known by its id, uploaded `uploaded` days ago.
    pub fn signing_certificate(mut self, id: &str, status: KeyStatus, uploaded: i64) -> Self {
        self.0
            .signing_certificates
            .get_or_insert_with(Vec::new)
            .push(crate::state::SigningCertificate {
                id: crate::state::CertificateId::Iam(id.into()),
                status,
                uploaded: ago(uploaded),
            });
        self
    }

    /// Every credential kind read, none held: what a read with the new tables gives a user
    /// without any.
    pub fn credentials_read(mut self) -> Self {
        self.0.service_credentials.get_or_insert_with(Vec::new);
        self.0.ssh_public_keys.get_or_insert_with(Vec::new);
        self.0.signing_certificates.get_or_insert_with(Vec::new);
        self
    }

    /// A managed policy attached to the user.
    pub fn policy(mut self, name: &str) -> Self {
        self.0.attached_policies.push(name.into());
        self
    }

    pub fn build(self) -> User {
        self.0
    }
}

impl From<UserBuilder> for User {
    fn from(builder: UserBuilder) -> User {
        builder.0
    }
}

/// A user `iamctl` is signed in as, with the key it signs with.
pub fn caller(user_name: &str, key_id: &str) -> Caller {
    Caller {
        arn: format!("arn:aws:iam::{ACCOUNT_ID}:user/{user_name}"),
        user_name: Some(user_name.into()),
        access_key_id: Some(key_id.into()),
    }
}
