//! Carries out one change: picks the IAM call from the change's kind, checks the safety guards
//! first, and turns the result into an [`OutcomeStatus`].

use aws_sdk_iam::types::{StatusType, Tag};
use chrono::Utc;
use tokio::sync::OnceCell;

use super::password::{self, SecretFile};
use super::{ApplyOptions, OutcomeStatus, deny_policy};
use crate::aws::{AccountClients, AwsError, ErrorCode, call};
use crate::permissions::{
    ATTACH_USER_POLICY, CREATE_LOGIN_PROFILE, DELETE_ACCESS_KEY, DELETE_ACCOUNT_PASSWORD_POLICY,
    DELETE_LOGIN_PROFILE, DELETE_SERVER_CERTIFICATE, DELETE_SERVICE_SPECIFIC_CREDENTIAL,
    DELETE_SIGNING_CERTIFICATE, DELETE_SSH_PUBLIC_KEY, DETACH_USER_POLICY,
    GET_ACCESS_KEY_LAST_USED, GET_LOGIN_PROFILE, LIST_SERVICE_SPECIFIC_CREDENTIALS,
    LIST_SIGNING_CERTIFICATES, LIST_SSH_PUBLIC_KEYS, TAG_USER, UNTAG_USER, UPDATE_ACCESS_KEY,
    UPDATE_ACCOUNT_PASSWORD_POLICY, UPDATE_LOGIN_PROFILE, UPDATE_SERVICE_SPECIFIC_CREDENTIAL,
    UPDATE_SIGNING_CERTIFICATE, UPDATE_SSH_PUBLIC_KEY,
};
use crate::plan::{
    AccountPlan, Address, Change, ChangeKind, CredentialFacts, CredentialStatus, KeyFacts, Record,
    RotationRecord, UNLISTED_SINCE_TAG, credential_inactive_since_tag, inactive_since_tag,
    rotation_tag,
};
use crate::state::PasswordPolicy;
use crate::state::{AccessKeyId, CredentialType};

fn failed(error: impl Into<String>) -> OutcomeStatus {
    OutcomeStatus::Failed {
        error: error.into(),
    }
}

fn skipped(reason: impl Into<String>) -> OutcomeStatus {
    OutcomeStatus::Skipped {
        reason: reason.into(),
    }
}

/// A deactivation done, then its record written: a record that could not be written fails
/// the change, and the next run writes it (so the deletion grace only grows).
fn recorded_after_deactivation(recorded: Result<(), AwsError>) -> OutcomeStatus {
    match recorded {
        Ok(()) => OutcomeStatus::Done,
        Err(err) => failed(format!(
            "deactivated, but recording since when failed: {err}; the next run records it (the deletion grace then counts from that run)"
        )),
    }
}

fn done_or_failed<T>(result: Result<T, AwsError>) -> OutcomeStatus {
    match result {
        Ok(_) => OutcomeStatus::Done,
        Err(err) => failed(err.to_string()),
    }
}

/// For a call that removes or weakens something (delete, deactivate, detach, reset): IAM's
/// NoSuchEntity means the thing is already gone. The plan was read from live state moments
/// before, so the account changed since: another apply racing this one, a person, or this
/// very call when its answer was lost and the SDK sent it again. What the change was for holds
/// (nothing is left to remove), so it is skipped, not failed, said so that nobody goes
/// looking for a bug: a scheduled apply must not fail for a retry or an overlapping run.
fn done_or_gone<T>(result: Result<T, AwsError>) -> OutcomeStatus {
    match result {
        Ok(_) => OutcomeStatus::Done,
        Err(err) if err.is(ErrorCode::NoSuchEntity) => skipped(gone(&err)),
        Err(err) => failed(err.to_string()),
    }
}

fn gone(err: &AwsError) -> String {
    format!(
        "already gone, changed underneath since the plan (by another apply or a person, or by \
         this call when its first answer was lost and the SDK sent it again); nothing is left \
         to do ({err})"
    )
}

/// Executes the changes of one account. Shared by the concurrent tasks of that account.
pub(crate) struct Executor<'a> {
    clients: &'a AccountClients,
    opts: &'a ApplyOptions,
    account_id: &'a str,
    /// `aws`, `aws-cn`, `aws-us-gov`: the deny policy's ARN and document depend on it.
    partition: String,
    /// Length of generated console passwords.
    password_length: u32,
    /// The deny policy's ARN, or why it could not be made to exist: looked up (and created)
    /// once per account however many attaches run at the same time.
    deny_policy: OnceCell<Result<String, AwsError>>,
}

impl<'a> Executor<'a> {
    pub(crate) fn new(
        clients: &'a AccountClients,
        plan: &'a AccountPlan,
        opts: &'a ApplyOptions,
    ) -> Self {
        let partition = opts
            .caller
            .as_ref()
            .and_then(|c| c.arn.strip_prefix("arn:"))
            .and_then(|rest| rest.split(':').next())
            .filter(|p| !p.is_empty())
            .unwrap_or("aws")
            .to_owned();
        // The policy change runs last, so a new profile is created while the current policy
        // (the change's `before`) is still in force; its password must pass both.
        let in_force_after = opts
            .password_policy
            .clone()
            .unwrap_or_else(PasswordPolicy::iam_default);
        let in_force_now: Option<&PasswordPolicy> = plan
            .changes
            .iter()
            .find_map(|c| c.kind.password_policy())
            .and_then(|(before, _)| before);
        let password_length =
            password::required_length(std::iter::once(&in_force_after).chain(in_force_now));
        Self {
            clients,
            opts,
            account_id: &plan.account_id,
            partition,
            password_length,
            deny_policy: OnceCell::new(),
        }
    }

    fn account(&self) -> &str {
        &self.clients.target
    }

    fn trace(&self, address: &Address, operation: &str) {
        tracing::debug!(account = %self.clients.target, address = %address, operation, "applying");
    }

    fn is_caller_user(&self, user: &str) -> bool {
        self.opts
            .caller
            .as_ref()
            .and_then(|c| c.user_name.as_deref())
            == Some(user)
    }

    fn is_caller_key(&self, key_id: &str) -> bool {
        self.opts
            .caller
            .as_ref()
            .and_then(|c| c.access_key_id.as_deref())
            == Some(key_id)
    }

    pub(crate) async fn run(&self, change: &Change) -> OutcomeStatus {
        let address = &change.address();
        match &change.kind {
            ChangeKind::CreatePasswordPolicy { after }
            | ChangeKind::UpdatePasswordPolicy { after, .. } => {
                self.put_password_policy(address, after).await
            }
            ChangeKind::DeletePasswordPolicy { .. } => {
                self.trace(address, DELETE_ACCOUNT_PASSWORD_POLICY.action);
                let request = self.clients.iam.delete_account_password_policy().send();
                done_or_failed(call(self.account(), DELETE_ACCOUNT_PASSWORD_POLICY, request).await)
            }
            ChangeKind::CreateLoginProfile { user } => {
                self.create_login_profile(address, user).await
            }
            ChangeKind::DeleteLoginProfile { user, .. } => {
                if self.is_caller_user(user) {
                    return skipped(
                        "iamctl is signed in as this user: its own login profile is left alone",
                    );
                }
                self.trace(address, DELETE_LOGIN_PROFILE.action);
                let request = self
                    .clients
                    .iam
                    .delete_login_profile()
                    .user_name(user)
                    .send();
                done_or_gone(call(self.account(), DELETE_LOGIN_PROFILE, request).await)
            }
            ChangeKind::ResetPassword { user, .. } => {
                self.trace(address, UPDATE_LOGIN_PROFILE.action);
                // No password: only the flag changes, the user keeps the current password
                // until the next sign-in.
                let request = self
                    .clients
                    .iam
                    .update_login_profile()
                    .user_name(user)
                    .password_reset_required(true)
                    .send();
                done_or_gone(call(self.account(), UPDATE_LOGIN_PROFILE, request).await)
            }
            ChangeKind::DeactivateAccessKey {
                user,
                key,
                if_still_unused,
                ..
            } => {
                let status = self
                    .access_key(
                        address,
                        user,
                        key,
                        *if_still_unused,
                        KeyOperation::Deactivate,
                    )
                    .await;
                if !status.is_done() {
                    return status;
                }
                // Deactivated first, recorded second: a run killed in between leaves a key
                // with no record, which the next run records then, so the grace only grows.
                recorded_after_deactivation(self.record_inactive(address, user, &key.id).await)
            }
            ChangeKind::DeleteAccessKey {
                user,
                key,
                if_still_unused,
            } => {
                let status = self
                    .access_key(address, user, key, *if_still_unused, KeyOperation::Delete)
                    .await;
                // The key's records go with it: its inactivity, its rotation.
                let mut records = Vec::new();
                if key.inactive_since.is_some() {
                    records.push(inactive_since_tag(&key.id));
                }
                if key.rotation.is_some() {
                    records.push(rotation_tag(&key.id));
                }
                self.forget_after_deletion(address, user, status, records)
                    .await
            }
            ChangeKind::RecordInactiveKey { user, key, .. } => {
                done_or_failed(self.record_inactive(address, user, &key.id).await)
            }
            ChangeKind::ForgetInactiveKey { user, key_id, .. } => {
                done_or_failed(self.forget_inactive(address, user, key_id).await)
            }
            ChangeKind::RotateAccessKey {
                user, key, secret, ..
            } => {
                if self.is_caller_key(key.id.as_str()) {
                    return skipped("iamctl is signed with this access key: it is left alone");
                }
                super::rotation::rotate(self.clients, address, user, key, secret).await
            }
            ChangeKind::RecordRotation {
                user,
                key,
                new_key,
                at,
            } => {
                let record = RotationRecord::Rotated {
                    to: new_key.clone(),
                    at: *at,
                };
                done_or_failed(
                    super::rotation::record(self.clients, address, user, &key.id, &record).await,
                )
            }
            ChangeKind::ForgetRotation { user, key_id, .. } => {
                done_or_failed(self.untag(address, user, vec![rotation_tag(key_id)]).await)
            }
            ChangeKind::AttachDenyPolicy { user } => self.attach_deny_policy(address, user).await,
            ChangeKind::DetachDenyPolicy { user } => self.detach_deny_policy(address, user).await,
            ChangeKind::CreateTrail { trail } => {
                super::cloudtrail::create(self.clients, self.account_id, trail).await
            }
            ChangeKind::UpdateTrail { before, after } => {
                super::cloudtrail::update(self.clients, before, after).await
            }
            ChangeKind::DeactivateCredential {
                user,
                credential,
                delete_on,
            } => {
                let status = self
                    .credential(address, user, credential, KeyOperation::Deactivate)
                    .await;
                if !status.is_done() || delete_on.is_none() {
                    return status;
                }
                // As for a key: deactivated first, recorded second.
                recorded_after_deactivation(
                    self.record_inactive_credential(address, user, credential)
                        .await,
                )
            }
            ChangeKind::DeleteCredential { user, credential } => {
                let status = self
                    .credential(address, user, credential, KeyOperation::Delete)
                    .await;
                let records = credential
                    .inactive_since
                    .map(|_| credential_inactive_since_tag(credential.kind, &credential.id));
                self.forget_after_deletion(address, user, status, records.into_iter().collect())
                    .await
            }
            ChangeKind::RecordInactiveCredential {
                user, credential, ..
            } => done_or_failed(
                self.record_inactive_credential(address, user, credential)
                    .await,
            ),
            ChangeKind::ForgetInactiveCredential { user, kind, id, .. } => done_or_failed(
                self.untag(
                    address,
                    user,
                    vec![credential_inactive_since_tag(*kind, id)],
                )
                .await,
            ),
            ChangeKind::RecordUnlisted { user, .. } => done_or_failed(
                self.record(address, user, Record::UnlistedSince { since: Utc::now() })
                    .await,
            ),
            ChangeKind::ForgetUnlisted { user, .. } => done_or_failed(
                self.untag(address, user, vec![UNLISTED_SINCE_TAG.to_owned()])
                    .await,
            ),
            ChangeKind::DeleteServerCertificate { certificate } => {
                self.trace(address, DELETE_SERVER_CERTIFICATE.action);
                let request = self
                    .clients
                    .iam
                    .delete_server_certificate()
                    .server_certificate_name(&certificate.name)
                    .send();
                done_or_gone(call(self.account(), DELETE_SERVER_CERTIFICATE, request).await)
            }
        }
    }

    /// Deactivates or deletes a service-specific credential, SSH key or signing certificate
    /// with its kind's own call. Deleting one the plan saw inactive first checks that it still
    /// is: one reactivated since is in use again, and deleting it would break its user.
    async fn credential(
        &self,
        address: &Address,
        user: &str,
        credential: &CredentialFacts,
        operation: KeyOperation,
    ) -> OutcomeStatus {
        let id = credential.id.as_str();
        if let (KeyOperation::Delete, CredentialStatus::Inactive | CredentialStatus::Expired) =
            (operation, credential.status)
        {
            match self.is_active_now(address, user, credential).await {
                Ok(Some(false)) => {}
                Ok(Some(true)) => {
                    return skipped("reactivated since the plan was made: it is left alone");
                }
                Ok(None) => return skipped("already gone since the plan was made"),
                Err(err) => return failed(err.to_string()),
            }
        }
        let iam = &self.clients.iam;
        let result = match (credential.kind, operation) {
            (CredentialType::ServiceCredential, KeyOperation::Deactivate) => {
                let permission = UPDATE_SERVICE_SPECIFIC_CREDENTIAL;
                self.trace(address, permission.action);
                let request = iam
                    .update_service_specific_credential()
                    .user_name(user)
                    .service_specific_credential_id(id)
                    .status(StatusType::Inactive)
                    .send();
                call(self.account(), permission, request).await.map(|_| ())
            }
            (CredentialType::ServiceCredential, KeyOperation::Delete) => {
                let permission = DELETE_SERVICE_SPECIFIC_CREDENTIAL;
                self.trace(address, permission.action);
                let request = iam
                    .delete_service_specific_credential()
                    .user_name(user)
                    .service_specific_credential_id(id)
                    .send();
                call(self.account(), permission, request).await.map(|_| ())
            }
            (CredentialType::SshKey, KeyOperation::Deactivate) => {
                let permission = UPDATE_SSH_PUBLIC_KEY;
                self.trace(address, permission.action);
                let request = iam
                    .update_ssh_public_key()
                    .user_name(user)
                    .ssh_public_key_id(id)
                    .status(StatusType::Inactive)
                    .send();
                call(self.account(), permission, request).await.map(|_| ())
            }
            (CredentialType::SshKey, KeyOperation::Delete) => {
                let permission = DELETE_SSH_PUBLIC_KEY;
                self.trace(address, permission.action);
                let request = iam
                    .delete_ssh_public_key()
                    .user_name(user)
                    .ssh_public_key_id(id)
                    .send();
                call(self.account(), permission, request).await.map(|_| ())
            }
            (CredentialType::SigningCertificate, KeyOperation::Deactivate) => {
                let permission = UPDATE_SIGNING_CERTIFICATE;
                self.trace(address, permission.action);
                let request = iam
                    .update_signing_certificate()
                    .user_name(user)
                    .certificate_id(id)
                    .status(StatusType::Inactive)
                    .send();
                call(self.account(), permission, request).await.map(|_| ())
            }
            (CredentialType::SigningCertificate, KeyOperation::Delete) => {
                let permission = DELETE_SIGNING_CERTIFICATE;
                self.trace(address, permission.action);
                let request = iam
                    .delete_signing_certificate()
                    .user_name(user)
                    .certificate_id(id)
                    .send();
                call(self.account(), permission, request).await.map(|_| ())
            }
        };
        done_or_gone(result)
    }

    /// Whether the credential is active now (`None`: it is gone), from its user's list of
    /// that kind.
    async fn is_active_now(
        &self,
        address: &Address,
        user: &str,
        credential: &CredentialFacts,
    ) -> Result<Option<bool>, AwsError> {
        let iam = &self.clients.iam;
        let id = credential.id.as_str();
        let active = |status: &StatusType| *status == StatusType::Active;
        match credential.kind {
            CredentialType::ServiceCredential => {
                self.trace(address, LIST_SERVICE_SPECIFIC_CREDENTIALS.action);
                let request = iam
                    .list_service_specific_credentials()
                    .user_name(user)
                    .send();
                let out = call(self.account(), LIST_SERVICE_SPECIFIC_CREDENTIALS, request).await?;
                Ok(out
                    .service_specific_credentials()
                    .iter()
                    .find(|c| c.service_specific_credential_id() == id)
                    .map(|c| active(c.status())))
            }
            CredentialType::SshKey => {
                self.trace(address, LIST_SSH_PUBLIC_KEYS.action);
                let request = iam.list_ssh_public_keys().user_name(user).send();
                let out = call(self.account(), LIST_SSH_PUBLIC_KEYS, request).await?;
                Ok(out
                    .ssh_public_keys()
                    .iter()
                    .find(|k| k.ssh_public_key_id() == id)
                    .map(|k| active(k.status())))
            }
            CredentialType::SigningCertificate => {
                self.trace(address, LIST_SIGNING_CERTIFICATES.action);
                let request = iam.list_signing_certificates().user_name(user).send();
                let out = call(self.account(), LIST_SIGNING_CERTIFICATES, request).await?;
                Ok(out
                    .certificates()
                    .iter()
                    .find(|c| c.certificate_id() == id)
                    .map(|c| active(c.status())))
            }
        }
    }

    /// `UpdateAccountPasswordPolicy` has no partial update: every field is sent, and the
    /// two optional ones are left out exactly when they mean "no limit".
    async fn put_password_policy(
        &self,
        address: &Address,
        policy: &PasswordPolicy,
    ) -> OutcomeStatus {
        let int = |field: &str, value: u32| {
            i32::try_from(value)
                .map_err(|_| failed(format!("password policy {field} {value} is out of range")))
        };
        let (minimum_length, max_age, reuse) = match (
            int("minimum_length", policy.minimum_length),
            policy
                .max_age_days
                .map(|v| int("max_age_days", v))
                .transpose(),
            policy
                .reuse_prevention
                .map(|v| int("reuse_prevention", v))
                .transpose(),
        ) {
            (Ok(a), Ok(b), Ok(c)) => (a, b, c),
            (Err(e), _, _) | (_, Err(e), _) | (_, _, Err(e)) => return e,
        };
        self.trace(address, UPDATE_ACCOUNT_PASSWORD_POLICY.action);
        let request = self
            .clients
            .iam
            .update_account_password_policy()
            .minimum_password_length(minimum_length)
            .require_uppercase_characters(policy.require_uppercase)
            .require_lowercase_characters(policy.require_lowercase)
            .require_numbers(policy.require_numbers)
            .require_symbols(policy.require_symbols)
            .allow_users_to_change_password(policy.allow_users_to_change)
            .set_max_password_age(max_age)
            .set_password_reuse_prevention(reuse)
            .hard_expiry(policy.hard_expiry)
            .send();
        done_or_failed(call(self.account(), UPDATE_ACCOUNT_PASSWORD_POLICY, request).await)
    }

    /// The password goes to its file first (synced), then to IAM; the file goes away again
    /// when IAM certainly did not take the password.
    async fn create_login_profile(&self, address: &Address, user: &str) -> OutcomeStatus {
        let Some(dir) = &self.opts.secrets_dir else {
            return failed("creating a console password needs --secrets-dir (nothing was created)");
        };
        let password = password::generate(self.password_length);
        let file = match SecretFile::write_new(dir, user, &password) {
            Ok(file) => file,
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
                let path = dir.join(format!("{user}.password"));
                // Another apply sharing this folder may have just made the profile (and
                // the file): then the account changed underneath, and there is nothing to do.
                // It writes the file a moment before it creates the profile: look twice.
                let mut exists = self.login_profile_exists(user).await;
                if matches!(exists, Ok(false)) {
                    tokio::time::sleep(std::time::Duration::from_secs(1)).await;
                    exists = self.login_profile_exists(user).await;
                }
                return match exists {
                    Ok(true) => skipped(format!(
                        "changed underneath since the plan: {user} has a login profile now \
                         (made by another apply?); {} was left as it is, nothing was created",
                        path.display()
                    )),
                    Ok(false) => failed(format!(
                        "{} already exists, but {user} has no login profile: another apply may be \
                         creating it right now (the account changing underneath this one), or an \
                         earlier run stopped before creating it, and the file may hold the password \
                         of an earlier login profile; nothing was created. When no other apply is \
                         running, move the file away and apply again",
                        path.display()
                    )),
                    Err(err) => failed(format!(
                        "{} already exists, and whether {user} has a login profile now is \
                         unknown ({err}); nothing was created",
                        path.display()
                    )),
                };
            }
            Err(e) => {
                return failed(format!(
                    "writing the password file in {}: {e} (nothing was created)",
                    dir.display()
                ));
            }
        };
        self.trace(address, CREATE_LOGIN_PROFILE.action);
        let request = self
            .clients
            .iam
            .create_login_profile()
            .user_name(user)
            .password(password.expose())
            .password_reset_required(true)
            .send();
        let result = call(self.account(), CREATE_LOGIN_PROFILE, request).await;
        drop(password);
        let err = match result {
            Ok(_) => return OutcomeStatus::Done,
            Err(err) => err,
        };
        // A timeout or dropped connection, or "already exists" after the SDK retried one,
        // may hide a profile that was created with this password: keep its only copy.
        let ambiguous = !err.answered;
        if err.is(ErrorCode::EntityAlreadyExists) {
            return failed(format!(
                "{err}: changed underneath since the plan (another apply or a person made the \
                 profile), or this call's first answer was lost and the SDK sent it again; the \
                 password file {} was kept, since the login profile may have that password",
                file.path().display()
            ));
        }
        if ambiguous {
            return failed(format!(
                "{err}; the password file {} was kept, since the login profile may exist with that password",
                file.path().display()
            ));
        }
        let path = file.path().to_owned();
        match file.remove() {
            Ok(()) => failed(err.to_string()),
            Err(e) => failed(format!(
                "{err}; removing the unused password file {}: {e}",
                path.display()
            )),
        }
    }

    async fn login_profile_exists(&self, user: &str) -> Result<bool, AwsError> {
        self.trace(
            &Address::LoginProfile(user.to_owned()),
            GET_LOGIN_PROFILE.action,
        );
        let request = self.clients.iam.get_login_profile().user_name(user).send();
        match call(self.account(), GET_LOGIN_PROFILE, request).await {
            Ok(_) => Ok(true),
            Err(err) => {
                if err.is(ErrorCode::NoSuchEntity) {
                    Ok(false)
                } else {
                    Err(err)
                }
            }
        }
    }

    async fn access_key(
        &self,
        address: &Address,
        user: &str,
        key: &KeyFacts,
        if_still_unused: bool,
        operation: KeyOperation,
    ) -> OutcomeStatus {
        let key_id = key.id.as_str();
        if self.is_caller_key(key_id) {
            return skipped("iamctl is signed with this access key: it is left alone");
        }
        // A key found unused may have been used between plan and apply; acting on it then
        // could break whoever just started using it.
        if if_still_unused {
            match self.used_since_plan(address, key).await {
                Ok(false) => {}
                Ok(true) => return skipped("used since the plan was made"),
                Err(status) => return status,
            }
        }
        match operation {
            KeyOperation::Deactivate => {
                self.trace(address, UPDATE_ACCESS_KEY.action);
                let request = self
                    .clients
                    .iam
                    .update_access_key()
                    .user_name(user)
                    .access_key_id(key_id)
                    .status(StatusType::Inactive)
                    .send();
                done_or_gone(call(self.account(), UPDATE_ACCESS_KEY, request).await)
            }
            KeyOperation::Delete => {
                self.trace(address, DELETE_ACCESS_KEY.action);
                let request = self
                    .clients
                    .iam
                    .delete_access_key()
                    .user_name(user)
                    .access_key_id(key_id)
                    .send();
                done_or_gone(call(self.account(), DELETE_ACCESS_KEY, request).await)
            }
        }
    }

    /// Records now as the start of the key's inactivity (`iamctl:inactive-since:AKID`).
    async fn record_inactive(
        &self,
        address: &Address,
        user: &str,
        key_id: &AccessKeyId,
    ) -> Result<(), AwsError> {
        let record = Record::InactiveSince {
            key: key_id.clone(),
            since: Utc::now(),
        };
        self.record(address, user, record).await
    }

    async fn record_inactive_credential(
        &self,
        address: &Address,
        user: &str,
        credential: &CredentialFacts,
    ) -> Result<(), AwsError> {
        let record = Record::CredentialInactiveSince {
            kind: credential.kind,
            id: credential.id.clone(),
            since: Utc::now(),
        };
        self.record(address, user, record).await
    }

    /// A deletion's outcome, once the records that went with what it deleted (its user tags)
    /// are removed: a deletion done whose records stay is failed, and the next run removes
    /// them.
    async fn forget_after_deletion(
        &self,
        address: &Address,
        user: &str,
        status: OutcomeStatus,
        records: Vec<String>,
    ) -> OutcomeStatus {
        if status.is_done() && !records.is_empty() {
            if let Err(err) = self.untag(address, user, records).await {
                return failed(format!(
                    "deleted, but removing its record failed: {err}; the next run removes it"
                ));
            }
        }
        status
    }

    /// Writes one record in a user tag.
    async fn record(&self, address: &Address, user: &str, record: Record) -> Result<(), AwsError> {
        self.trace(address, TAG_USER.action);
        let tag = Tag::builder()
            .key(record.tag())
            .value(record.value())
            .build()
            .expect("key and value are set");
        let request = self.clients.iam.tag_user().user_name(user).tags(tag).send();
        call(self.account(), TAG_USER, request).await.map(|_| ())
    }

    /// Removes the record of the key's inactivity.
    async fn forget_inactive(
        &self,
        address: &Address,
        user: &str,
        key_id: &AccessKeyId,
    ) -> Result<(), AwsError> {
        self.untag(address, user, vec![inactive_since_tag(key_id)])
            .await
    }

    /// Removes the user's tags `keys` (iamctl's records).
    async fn untag(
        &self,
        address: &Address,
        user: &str,
        keys: Vec<String>,
    ) -> Result<(), AwsError> {
        self.trace(address, UNTAG_USER.action);
        let request = self
            .clients
            .iam
            .untag_user()
            .user_name(user)
            .set_tag_keys(Some(keys))
            .send();
        match call(self.account(), UNTAG_USER, request).await {
            // The user is gone, and the record with it.
            Err(err) if err.is(ErrorCode::NoSuchEntity) => Ok(()),
            other => other.map(|_| ()),
        }
    }

    /// Whether IAM now reports a later use of the key than the plan saw. Compared in whole
    /// seconds: the plan's date may come from the credential report, which has no fraction,
    /// and a false "used since" would make every later apply skip the key again.
    async fn used_since_plan(
        &self,
        address: &Address,
        key: &KeyFacts,
    ) -> Result<bool, OutcomeStatus> {
        self.trace(address, GET_ACCESS_KEY_LAST_USED.action);
        let request = self
            .clients
            .iam
            .get_access_key_last_used()
            .access_key_id(key.id.as_str())
            .send();
        let out = call(self.account(), GET_ACCESS_KEY_LAST_USED, request)
            .await
            .map_err(|err| {
                if err.is(ErrorCode::NoSuchEntity) {
                    skipped(gone(&err))
                } else {
                    failed(err.to_string())
                }
            })?;
        let now = out
            .access_key_last_used()
            .and_then(|u| u.last_used_date())
            .map(|d| d.secs());
        Ok(match (key.last_used, now) {
            (_, None) => false,
            (None, Some(_)) => true,
            (Some(seen), Some(now)) => now > seen.timestamp(),
        })
    }

    async fn attach_deny_policy(&self, address: &Address, user: &str) -> OutcomeStatus {
        // Signed with access keys and no MFA, iamctl would deny itself everything.
        if self.is_caller_user(user) {
            return skipped("iamctl is signed in as this user: the deny policy would lock it out");
        }
        let arn = match self.deny_policy_arn().await {
            Ok(arn) => arn,
            Err(err) => return failed(err.to_string()),
        };
        self.trace(address, ATTACH_USER_POLICY.action);
        let request = self
            .clients
            .iam
            .attach_user_policy()
            .user_name(user)
            .policy_arn(arn)
            .send();
        match call(self.account(), ATTACH_USER_POLICY, request).await {
            Ok(_) => OutcomeStatus::Done,
            Err(err) if err.is(ErrorCode::NoSuchEntity) => {
                failed(format!("changed underneath since the plan: {err}"))
            }
            Err(err) => failed(err.to_string()),
        }
    }

    async fn detach_deny_policy(&self, address: &Address, user: &str) -> OutcomeStatus {
        let arn = deny_policy::arn(&self.partition, self.account_id);
        self.trace(address, DETACH_USER_POLICY.action);
        let request = self
            .clients
            .iam
            .detach_user_policy()
            .user_name(user)
            .policy_arn(arn)
            .send();
        done_or_gone(call(self.account(), DETACH_USER_POLICY, request).await)
    }

    async fn deny_policy_arn(&self) -> Result<String, AwsError> {
        let arn = deny_policy::arn(&self.partition, self.account_id);
        self.deny_policy
            .get_or_init(|| deny_policy::ensure(self.clients, &self.partition, &arn))
            .await
            .clone()
    }
}

/// What is done to an access key (or a credential of another kind).
#[derive(Debug, Clone, Copy)]
enum KeyOperation {
    Deactivate,
    Delete,
}
