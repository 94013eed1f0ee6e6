//! Direct per-user reads that replace the credential report's facts: login profile, MFA
//! devices, access keys and their last use, the password's last use. Users are read
//! concurrently within a bound; one user's calls run in sequence, since later ones depend on
//! earlier answers (no MFA read for a user found to have no console, for instance).

use chrono::{DateTime, Duration, Utc};
use futures::{StreamExt, TryStreamExt};

use super::concern::Facts;
use super::credential_report::ReportKey;
use super::to_utc;
use crate::aws::{AccountClients, AwsError, ErrorCode, call};
use crate::permissions::{GET_ACCESS_KEY_LAST_USED, GET_LOGIN_PROFILE, GET_USER};
use crate::permissions::{LIST_ACCESS_KEYS, LIST_MFA_DEVICES};
use crate::state::{
    AccessKey, AccessKeyId, KeyId, KeyStatus, LoginProfile, MfaDevice, MfaKind, RotationSecret,
    User,
};

/// Which access keys get `GetAccessKeyLastUsed`.
#[derive(Debug, Clone, Copy)]
pub(crate) enum LastUsedPolicy {
    /// No rule reads key use.
    Never,
    /// Active keys that `max_unused_days` could flag at `as_of`: old enough, and not shown
    /// as recently used by the report (use only moves forward, so a recent use in the report
    /// is a lower bound that already clears the key), and not already past
    /// `decided_by_age` days.
    WhenPossiblyUnused {
        max_unused_days: i64,
        /// `max_age_days`, when `on_expired` is not `report` and at least as strong as
        /// `on_unused`: a key older than this gets the max-age change whatever its last use
        /// (the engine keeps the strongest action, the first rule winning a tie), so its use
        /// is not read. `apply` re-checks the use before acting on an unused-key change.
        decided_by_age: Option<i64>,
        as_of: DateTime<Utc>,
    },
    /// Every key (snapshots).
    Always,
}

/// What to read of one user.
#[derive(Debug, Clone)]
pub(crate) struct UserRequest {
    pub name: String,
    pub want: Facts,
    /// Whether the user has a console password as far as is known now; decides the MFA and
    /// password reads when the profile itself is not read.
    pub login_profile: bool,
    /// The deny-until-MFA policy is attached and the rule is on: MFA decides its detachment
    /// even without a console password.
    pub deny_policy_attached: bool,
    pub report_keys: Vec<ReportKey>,
    /// The secret of the user's rotations, read with [`Facts::SECRET`] (`None`: no rotation
    /// table names one).
    pub rotation_secret: Option<String>,
    /// Delivered rotations, `(old, new)`: while the old key is active, the new key's use
    /// decides when the old one is retired, so it is read (`GetAccessKeyLastUsed`) unless
    /// already known.
    pub successors: Vec<(AccessKeyId, AccessKeyId)>,
}

/// What was read. `settled` are the facts now known directly, or known not to matter.
#[derive(Debug, Clone, Default)]
pub(crate) struct UserFacts {
    pub name: String,
    pub settled: Facts,
    /// The user no longer exists (deleted since the user list was read).
    pub vanished: bool,
    pub login_profile: Option<Option<LoginProfile>>,
    pub password_last_used: Option<Option<DateTime<Utc>>>,
    pub mfa_devices: Option<Vec<MfaDevice>>,
    pub access_keys: Option<Vec<AccessKey>>,
    pub rotation_secret: Option<RotationSecret>,
}

impl UserFacts {
    /// Replaces the facts read in the matching user of `users` (sorted by name).
    pub fn apply_to(self, users: &mut Vec<User>) {
        let Ok(index) = users.binary_search_by(|u| u.name.as_str().cmp(&self.name)) else {
            return;
        };
        if self.vanished {
            users.remove(index);
            return;
        }
        let user = &mut users[index];
        if let Some(profile) = self.login_profile {
            user.login_profile = profile;
            if user.login_profile.is_none() {
                // "None: never used (or there is none)".
                user.password_last_used = None;
            }
        }
        if let Some(last_used) = self.password_last_used {
            user.password_last_used = last_used;
        }
        if let Some(devices) = self.mfa_devices {
            user.mfa_devices = devices;
        }
        if let Some(keys) = self.access_keys {
            user.access_keys = keys;
        }
        if let Some(secret) = self.rotation_secret {
            user.rotation_secret = Some(secret);
        }
    }
}

pub(crate) struct Reader<'a> {
    pub clients: &'a AccountClients,
    pub last_used: LastUsedPolicy,
    /// `console.max_unused_days` and the plan's `as_of`: a login profile younger than the
    /// limit cannot be flagged as unused (the engine ignores sign-ins older than the
    /// profile), so its password's last use (`GetUser`) is not read.
    pub young_profiles: Option<(i64, DateTime<Utc>)>,
    /// Read MFA devices whatever the console state (snapshots).
    pub mfa_always: bool,
}

/// The report's entry for `key`, one of the listed `keys`, when it is unambiguous: the only
/// report key created in the same second, itself matching only this listed key; or, when
/// creation times tie, the only one with the same status as well. Otherwise none (a key
/// created since the report, or two keys created in the same second and status).
fn match_report_key<'r>(
    key: &AccessKey,
    keys: &[AccessKey],
    report_keys: &'r [ReportKey],
) -> Option<&'r ReportKey> {
    let same_time = |created: DateTime<Utc>| created.timestamp() == key.created.timestamp();
    let active = key.status == KeyStatus::Active;
    let in_report: Vec<&ReportKey> = report_keys
        .iter()
        .filter(|r| same_time(r.created))
        .collect();
    let listed = keys.iter().filter(|k| same_time(k.created)).count();
    if let ([only], 1) = (in_report.as_slice(), listed) {
        return Some(only);
    }
    let in_report: Vec<&ReportKey> = in_report
        .into_iter()
        .filter(|r| r.active == active)
        .collect();
    let listed = keys
        .iter()
        .filter(|k| same_time(k.created) && (k.status == KeyStatus::Active) == active)
        .count();
    match (in_report.as_slice(), listed) {
        ([only], 1) => Some(only),
        _ => None,
    }
}

/// A per-user call failed because the user is gone.
enum ReadError {
    Vanished,
    Aws(AwsError),
}

impl Reader<'_> {
    /// Reads every request, at most `concurrency` users at a time. The results come back in
    /// the order of `requests`, whatever order the calls finished in.
    pub async fn read_users(
        &self,
        requests: Vec<UserRequest>,
        concurrency: usize,
    ) -> Result<Vec<UserFacts>, AwsError> {
        let mut results: Vec<(usize, UserFacts)> = futures::stream::iter(
            requests.into_iter().enumerate(),
        )
        .map(|(i, request)| async move { self.read_user(request).await.map(|facts| (i, facts)) })
        .buffer_unordered(concurrency.max(1))
        .try_collect()
        .await?;
        results.sort_by_key(|(i, _)| *i);
        Ok(results.into_iter().map(|(_, facts)| facts).collect())
    }

    async fn read_user(&self, request: UserRequest) -> Result<UserFacts, AwsError> {
        let name = request.name.clone();
        match self.read_user_facts(request).await {
            Ok(facts) => Ok(facts),
            Err(ReadError::Vanished) => {
                tracing::debug!(account = %self.clients.target, user = %name, "user deleted while being read");
                Ok(UserFacts {
                    name,
                    vanished: true,
                    ..Default::default()
                })
            }
            Err(ReadError::Aws(err)) => Err(err),
        }
    }

    async fn read_user_facts(&self, request: UserRequest) -> Result<UserFacts, ReadError> {
        let mut facts = UserFacts {
            name: request.name.clone(),
            ..Default::default()
        };
        let want = request.want;
        let mut has_console = request.login_profile;

        let mut young_profile = false;
        if want.contains(Facts::PROFILE) {
            let profile = self.login_profile(&request.name).await?;
            has_console = profile.is_some();
            young_profile = match (&profile, self.young_profiles) {
                (Some(p), Some((days, as_of))) => as_of - p.created <= Duration::days(days),
                _ => false,
            };
            facts.login_profile = Some(profile);
            facts.settled |= Facts::PROFILE;
        }
        if want.contains(Facts::MFA) {
            // Without a console password and without the deny policy, no rule reads MFA.
            if has_console || request.deny_policy_attached || self.mfa_always {
                facts.mfa_devices = Some(self.mfa_devices(&request.name).await?);
            }
            facts.settled |= Facts::MFA;
        }
        if want.contains(Facts::PASSWORD_LAST_USED) {
            // A profile just read and younger than the limit: its last use cannot matter.
            if has_console && !young_profile {
                facts.password_last_used = Some(self.password_last_used(&request.name).await?);
            }
            facts.settled |= Facts::PASSWORD_LAST_USED;
        }
        if want.contains(Facts::KEY_IDS) {
            // Only the ids (for findings): the report's use stands wherever the report's key
            // is known to be this one.
            let use_matters = want.contains(Facts::KEYS);
            let mut keys = self.access_keys(&request.name).await?;
            let reported: Vec<Option<ReportKey>> = keys
                .iter()
                .map(|key| match_report_key(key, &keys, &request.report_keys).cloned())
                .collect();
            for (key, reported) in keys.iter_mut().zip(reported) {
                let read = (use_matters || reported.is_none())
                    && self.needs_last_used(key, reported.as_ref());
                if let (true, Some(id)) = (read, key.id.iam()) {
                    key.last_used = self.key_last_used(id.as_str()).await?;
                } else if let Some(reported) = reported {
                    // Not read directly: the report's last use is a lower bound; keep it
                    // rather than claim the key was never used.
                    key.last_used = reported.last_used;
                }
            }
            // A rotation's new key: once it is used, the old key is retired.
            for (old, new) in &request.successors {
                let old_active = keys
                    .iter()
                    .any(|k| k.id.iam() == Some(old) && k.status == KeyStatus::Active);
                if let Some(key) = keys.iter_mut().find(|k| k.id.iam() == Some(new)) {
                    if old_active && key.last_used.is_none() {
                        key.last_used = self.key_last_used(new.as_str()).await?;
                    }
                }
            }
            facts.access_keys = Some(keys);
            facts.settled |= if use_matters {
                Facts::KEYS
            } else {
                Facts::KEY_IDS
            };
        }
        if want.contains(Facts::SECRET) {
            if let Some(name) = &request.rotation_secret {
                let described = super::secret::describe(self.clients, name)
                    .await
                    .map_err(ReadError::Aws)?;
                facts.rotation_secret = Some(described.into_state(name));
            }
            facts.settled |= Facts::SECRET;
        }
        Ok(facts)
    }

    /// `reported`: the report's entry for this key, if known (see [`match_report_key`]).
    fn needs_last_used(&self, key: &AccessKey, reported: Option<&ReportKey>) -> bool {
        match self.last_used {
            LastUsedPolicy::Never => false,
            LastUsedPolicy::Always => true,
            LastUsedPolicy::WhenPossiblyUnused {
                max_unused_days,
                decided_by_age,
                as_of,
            } => {
                let limit = Duration::days(max_unused_days);
                let old_enough = as_of - key.created > limit;
                let recently_used_per_report =
                    reported.is_some_and(|r| r.last_used.is_some_and(|used| as_of - used <= limit));
                let decided_by_age =
                    decided_by_age.is_some_and(|days| as_of - key.created > Duration::days(days));
                key.status == KeyStatus::Active
                    && old_enough
                    && !recently_used_per_report
                    && !decided_by_age
            }
        }
    }

    /// NoSuchEntity from a call about the user itself: the user was deleted meanwhile.
    fn fail(&self, err: AwsError) -> ReadError {
        if err.is(ErrorCode::NoSuchEntity) {
            tracing::debug!(account = %self.clients.target, operation = err.operation.as_str(), "NoSuchEntity: {}", err.message);
            ReadError::Vanished
        } else {
            ReadError::Aws(err)
        }
    }

    /// NoSuchEntity here means "no login profile" (it cannot tell a deleted user apart).
    async fn login_profile(&self, user: &str) -> Result<Option<LoginProfile>, ReadError> {
        let request = self.clients.iam.get_login_profile().user_name(user).send();
        match call(&self.clients.target, GET_LOGIN_PROFILE, request).await {
            Ok(out) => Ok(out.login_profile().map(|p| LoginProfile {
                created: to_utc(p.create_date()),
                password_reset_required: p.password_reset_required(),
            })),
            Err(err) if err.is(ErrorCode::NoSuchEntity) => Ok(None),
            Err(err) => Err(ReadError::Aws(err)),
        }
    }

    async fn mfa_devices(&self, user: &str) -> Result<Vec<MfaDevice>, ReadError> {
        let mut pages = self
            .clients
            .iam
            .list_mfa_devices()
            .user_name(user)
            .into_paginator()
            .send();
        let mut devices = Vec::new();
        while let Some(page) = call(&self.clients.target, LIST_MFA_DEVICES, pages.try_next())
            .await
            .map_err(|e| self.fail(e))?
        {
            devices.extend(page.mfa_devices().iter().map(|d| MfaDevice {
                serial: d.serial_number().to_owned(),
                enabled_at: Some(to_utc(d.enable_date())),
                kind: MfaKind::of_serial(d.serial_number()),
            }));
        }
        devices.sort_by(|a, b| a.serial.cmp(&b.serial));
        Ok(devices)
    }

    async fn password_last_used(&self, user: &str) -> Result<Option<DateTime<Utc>>, ReadError> {
        let request = self.clients.iam.get_user().user_name(user).send();
        let out = call(&self.clients.target, GET_USER, request)
            .await
            .map_err(|e| self.fail(e))?;
        Ok(out.user().and_then(|u| u.password_last_used()).map(to_utc))
    }

    async fn access_keys(&self, user: &str) -> Result<Vec<AccessKey>, ReadError> {
        // At most two keys per user: one page.
        let mut pages = self
            .clients
            .iam
            .list_access_keys()
            .user_name(user)
            .into_paginator()
            .send();
        let mut keys = Vec::new();
        while let Some(page) = call(&self.clients.target, LIST_ACCESS_KEYS, pages.try_next())
            .await
            .map_err(|e| self.fail(e))?
        {
            for key in page.access_key_metadata() {
                let (Some(id), Some(created)) = (key.access_key_id(), key.create_date()) else {
                    continue;
                };
                let Ok(id) = AccessKeyId::new(id) else {
                    // Not IAM's `[\w]+`: nothing iamctl could name it by is left out, not acted on.
                    tracing::warn!(account = %self.clients.target, user, id, "ignoring an access key id of unexpected form");
                    continue;
                };
                keys.push(AccessKey {
                    id: KeyId::Iam(id),
                    status: match key.status() {
                        Some(aws_sdk_iam::types::StatusType::Active) => KeyStatus::Active,
                        // Expired and unknown statuses cannot sign requests.
                        _ => KeyStatus::Inactive,
                    },
                    created: to_utc(created),
                    last_used: None,
                });
            }
        }
        keys.sort_by(|a, b| a.id.cmp(&b.id));
        Ok(keys)
    }

    async fn key_last_used(&self, key_id: &str) -> Result<Option<DateTime<Utc>>, ReadError> {
        let request = self
            .clients
            .iam
            .get_access_key_last_used()
            .access_key_id(key_id)
            .send();
        let out = call(&self.clients.target, GET_ACCESS_KEY_LAST_USED, request)
            .await
            .map_err(ReadError::Aws)?;
        Ok(out
            .access_key_last_used()
            .and_then(|u| u.last_used_date())
            .map(to_utc))
    }
}
