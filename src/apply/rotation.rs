//! Carrying out a key rotation ([`ChangeKind::RotateAccessKey`](crate::plan::ChangeKind)):
//! the new key goes from IAM into Secrets Manager and nowhere else. The order keeps "never an
//! undelivered key" true at every point a run may stop (`plan::rotation` has the state machine
//! the next run reads):
//! 1. record the intent (`iamctl:rotation:OLD` = `pending@T`), before any key exists;
//! 2. make sure the secret exists (created with its KMS key on first use) and carries the
//!    resource policy letting only the user and `readers` read it, before it holds a key;
//! 3. `CreateAccessKey`;
//! 4. `PutSecretValue` of `{"AccessKeyId", "SecretAccessKey"}` as the new current version,
//!    its version id naming the key (the previous version stays as `AWSPREVIOUS`). If that
//!    fails (and the secret does not hold the key after all: an answer lost after the write),
//!    the new key is deleted at once;
//! 5. record the rotation (`NEWKEY@T`), in the same tag.
//!
//! The secret access key exists in this process only between 3 and 4, in a [`Secret`]: not
//! printed, not serializable, overwritten when dropped.

use aws_sdk_iam::types::Tag;
use chrono::Utc;
use serde_json::json;

use super::OutcomeStatus;
use crate::aws::{AccountClients, AwsError, ErrorCode, call};
use crate::live::secret;
use crate::permissions::{
    CREATE_ACCESS_KEY, CREATE_SECRET, DELETE_ACCESS_KEY, PUT_RESOURCE_POLICY, PUT_SECRET_VALUE,
    TAG_USER,
};
use crate::plan::rotation::version_id;
use crate::plan::{Address, KeyFacts, Record, RotationRecord, SecretTarget};
use crate::secret::Secret;
use crate::state::AccessKeyId;

/// The secret's value, `{"AccessKeyId", "SecretAccessKey"}`, written straight into the buffer
/// the [`Secret`] takes over: no intermediate JSON value keeps a copy of the key.
fn secret_value(key_id: &str, secret_access_key: &str) -> Secret {
    #[derive(serde::Serialize)]
    #[serde(rename_all = "PascalCase")]
    struct KeyPair<'a> {
        access_key_id: &'a str,
        secret_access_key: &'a str,
    }
    // Room for the worst escaping (`\uXXXX`, 6 bytes a byte), so the buffer never grows and
    // leaves an unzeroed copy behind.
    let mut buffer = Vec::with_capacity(64 + 6 * (key_id.len() + secret_access_key.len()));
    serde_json::to_writer(
        &mut buffer,
        &KeyPair {
            access_key_id: key_id,
            secret_access_key,
        },
    )
    .expect("two strings serialize to JSON");
    Secret::new(String::from_utf8(buffer).expect("serde_json writes UTF-8"))
}

fn failed(error: impl Into<String>) -> OutcomeStatus {
    OutcomeStatus::Failed {
        error: error.into(),
    }
}

fn trace(clients: &AccountClients, address: &Address, operation: &str) {
    tracing::debug!(account = %clients.target, address = %address, operation, "applying");
}

/// The resource policy of a rotation's secret: `readers` may read it, and nobody else may,
/// whatever their own policies allow (an explicit deny for every other principal).
pub(crate) fn resource_policy(readers: &[String]) -> String {
    json!({
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "IamctlRotationReaders",
                "Effect": "Allow",
                "Principal": {"AWS": readers},
                "Action": "secretsmanager:GetSecretValue",
                "Resource": "*",
            },
            {
                "Sid": "IamctlOnlyRotationReaders",
                "Effect": "Deny",
                "Principal": "*",
                "Action": "secretsmanager:GetSecretValue",
                "Resource": "*",
                "Condition": {"ArnNotEquals": {"aws:PrincipalArn": readers}},
            },
        ],
    })
    .to_string()
}

/// Rotates `old` of `user` into `target`; see the module comment for the steps.
pub(super) async fn rotate(
    clients: &AccountClients,
    address: &Address,
    user: &str,
    old: &KeyFacts,
    target: &SecretTarget,
) -> OutcomeStatus {
    let started = Utc::now();
    let name = &target.secret_name;
    let pending = RotationRecord::Pending { since: started };
    if let Err(err) = record(clients, address, user, &old.id, &pending).await {
        return failed(format!(
            "recording the rotation's start: {err}; no key was created"
        ));
    }
    if let Err(err) = prepare_secret(clients, address, user, target).await {
        return failed(format!("{err}; no key was created"));
    }

    trace(clients, address, CREATE_ACCESS_KEY.action);
    let request = clients.iam.create_access_key().user_name(user).send();
    let created = match call(&clients.target, CREATE_ACCESS_KEY, request).await {
        Ok(out) => out.access_key,
        // An answer lost on the way may hide a key IAM made all the same: the pending record
        // makes the next run find it and delete it.
        Err(err) => {
            return failed(format!(
                "{err}; the old key {} is unchanged (a key IAM made all the same, its answer lost, is deleted by the next run)",
                old.id
            ));
        }
    };
    let Some(created) = created else {
        return failed("CreateAccessKey answered without a key; the old key is unchanged");
    };
    let new_id = AccessKeyId::new(created.access_key_id());
    let value = secret_value(created.access_key_id(), created.secret_access_key());
    let created_id = created.access_key_id().to_owned();
    drop(created);
    let stored = match &new_id {
        Ok(new_id) => store(clients, address, name, new_id, value, started).await,
        Err(_) => Err(format!(
            "IAM made a key id of unexpected form: {created_id:?}"
        )),
    };
    if let Err(err) = stored {
        return match delete_new_key(clients, address, user, &created_id).await {
            Ok(()) => failed(format!(
                "storing the new key in secret {name}: {err}; the new key {created_id} was deleted at once, {} is unchanged",
                old.id
            )),
            Err(delete) => failed(format!(
                "storing the new key in secret {name}: {err}; deleting the new key {created_id} failed too ({delete}): the next run deletes it (its rotation is recorded as pending)"
            )),
        };
    }
    let Ok(new_id) = new_id else {
        unreachable!("a key id of unexpected form is never stored");
    };
    let rotated = RotationRecord::Rotated {
        to: new_id.clone(),
        at: started,
    };
    match record(clients, address, user, &old.id, &rotated).await {
        Ok(()) => OutcomeStatus::Done,
        Err(err) => failed(format!(
            "the new key {new_id} is in secret {name}, but recording the rotation failed: {err}; the next run records it"
        )),
    }
}

/// Records `record` as the rotation state of `old` (`iamctl:rotation:OLD`).
pub(super) async fn record(
    clients: &AccountClients,
    address: &Address,
    user: &str,
    old: &AccessKeyId,
    record: &RotationRecord,
) -> Result<(), AwsError> {
    trace(clients, address, TAG_USER.action);
    let record = Record::Rotation {
        key: old.clone(),
        record: record.clone(),
    };
    let tag = Tag::builder()
        .key(record.tag())
        .value(record.value())
        .build()
        .expect("key and value are set");
    let request = clients.iam.tag_user().user_name(user).tags(tag).send();
    call(&clients.target, TAG_USER, request).await.map(|_| ())
}

/// The secret exists (created on first use, with the KMS key if one is named) and carries the
/// resource policy for its readers.
async fn prepare_secret(
    clients: &AccountClients,
    address: &Address,
    user: &str,
    target: &SecretTarget,
) -> Result<(), String> {
    let name = &target.secret_name;
    trace(clients, address, "secretsmanager:DescribeSecret");
    let described = secret::describe(clients, name)
        .await
        .map_err(|e| e.to_string())?;
    if described.scheduled_for_deletion {
        return Err(format!(
            "secret {name} is scheduled for deletion: restore it (aws secretsmanager restore-secret --secret-id {name}) or let it go first"
        ));
    }
    if !described.exists {
        trace(clients, address, CREATE_SECRET.action);
        let request = clients
            .secretsmanager
            .create_secret()
            .name(name)
            .description(format!(
                "Access key of IAM user {user}, delivered by iamctl key rotation"
            ))
            .set_kms_key_id(target.kms_key_id.clone())
            .send();
        match call(&clients.target, CREATE_SECRET, request).await {
            Ok(_) => {}
            // Made meanwhile (another apply, or this call's lost answer): it exists.
            Err(err) if err.is(ErrorCode::ResourceExistsException) => {}
            Err(err) => return Err(err.to_string()),
        }
    }
    trace(clients, address, PUT_RESOURCE_POLICY.action);
    let request = clients
        .secretsmanager
        .put_resource_policy()
        .secret_id(name)
        .resource_policy(resource_policy(&target.readers))
        .block_public_policy(true)
        .send();
    call(&clients.target, PUT_RESOURCE_POLICY, request)
        .await
        .map(|_| ())
        .map_err(|e| e.to_string())
}

/// `PutSecretValue` of the new key as the current version, its id naming the key. A failure
/// whose write may have happened all the same (an answer lost on the way) is checked against
/// the secret's current version before it counts as one.
async fn store(
    clients: &AccountClients,
    address: &Address,
    name: &str,
    new_id: &AccessKeyId,
    value: Secret,
    at: chrono::DateTime<Utc>,
) -> Result<(), String> {
    let Some(version) = version_id(new_id, at) else {
        return Err(format!(
            "the key id {new_id} is too long to name a secret version"
        ));
    };
    trace(clients, address, PUT_SECRET_VALUE.action);
    let request = clients
        .secretsmanager
        .put_secret_value()
        .secret_id(name)
        .client_request_token(&version)
        .secret_string(value.expose())
        .send();
    let result = call(&clients.target, PUT_SECRET_VALUE, request).await;
    drop(value);
    let err = match result {
        Ok(_) => return Ok(()),
        Err(err) => err,
    };
    match secret::describe(clients, name).await {
        Ok(described) if described.current_key.as_ref() == Some(new_id) => Ok(()),
        _ => Err(err.to_string()),
    }
}

async fn delete_new_key(
    clients: &AccountClients,
    address: &Address,
    user: &str,
    key_id: &str,
) -> Result<(), AwsError> {
    trace(clients, address, DELETE_ACCESS_KEY.action);
    let request = clients
        .iam
        .delete_access_key()
        .user_name(user)
        .access_key_id(key_id)
        .send();
    match call(&clients.target, DELETE_ACCESS_KEY, request).await {
        Err(err) if err.is(ErrorCode::NoSuchEntity) => Ok(()),
        other => other.map(|_| ()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_secret_value_is_not_shown_and_holds_both_fields() {
        let value = secret_value("AKIANEW", "s3cr3t/value");
        assert_eq!(format!("{value:?}"), "Secret(<redacted>)");
        let parsed: serde_json::Value = serde_json::from_str(value.expose()).unwrap();
        assert_eq!(
            parsed,
            json!({"AccessKeyId": "AKIANEW", "SecretAccessKey": "s3cr3t/value"})
        );
    }

    #[test]
    fn only_the_readers_may_read_the_secret() {
        let readers = vec![
            "arn:aws:iam::111111111111:user/bob".to_owned(),
            "arn:aws:iam::111111111111:role/deployer".to_owned(),
        ];
        let policy: serde_json::Value = serde_json::from_str(&resource_policy(&readers)).unwrap();
        assert_eq!(policy["Statement"][0]["Principal"]["AWS"], json!(readers));
        assert_eq!(policy["Statement"][1]["Effect"], "Deny");
        assert_eq!(
            policy["Statement"][1]["Condition"]["ArnNotEquals"]["aws:PrincipalArn"],
            json!(readers)
        );
    }
}
