//! A key rotation's Secrets Manager secret, as far as iamctl reads it: whether it exists, and
//! which access key its current version holds, told by the version's id
//! (`plan::rotation::version_id`). `DescribeSecret` only: the value is never read.

use crate::aws::{AccountClients, AwsError, ErrorCode, call};
use crate::permissions::DESCRIBE_SECRET;
use crate::plan::rotation::key_of_version;
use crate::state::{AccessKeyId, RotationSecret};

/// What `DescribeSecret` said of a secret.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct SecretDescription {
    pub exists: bool,
    /// Deleted, within its recovery window: it takes no new value until restored.
    pub scheduled_for_deletion: bool,
    /// The key the `AWSCURRENT` version holds, when iamctl wrote that version.
    pub current_key: Option<AccessKeyId>,
}

impl SecretDescription {
    pub(crate) fn into_state(self, name: &str) -> RotationSecret {
        RotationSecret {
            name: name.to_owned(),
            current_key: self.current_key,
        }
    }
}

/// Describes the secret `name`; a secret that does not exist is no error.
pub(crate) async fn describe(
    clients: &AccountClients,
    name: &str,
) -> Result<SecretDescription, AwsError> {
    let request = clients
        .secretsmanager
        .describe_secret()
        .secret_id(name)
        .send();
    let out = match call(&clients.target, DESCRIBE_SECRET, request).await {
        Ok(out) => out,
        Err(err) if err.is(ErrorCode::ResourceNotFoundException) => {
            return Ok(SecretDescription::default());
        }
        Err(err) => return Err(err),
    };
    let current_key = out
        .version_ids_to_stages()
        .into_iter()
        .flatten()
        .find(|(_, stages)| stages.iter().any(|s| s == "AWSCURRENT"))
        .and_then(|(version, _)| key_of_version(version));
    Ok(SecretDescription {
        exists: true,
        scheduled_for_deletion: out.deleted_date().is_some(),
        current_key,
    })
}
