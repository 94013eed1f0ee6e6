//! Account-wide reads: who `iamctl` is signed in as (so that it never removes its own way
//! in) and the account password policy.

use aws_credential_types::provider::ProvideCredentials;

use crate::aws::{AccountClients, AwsError, ErrorCode, call};
use crate::permissions::{GET_ACCOUNT_PASSWORD_POLICY, GET_CALLER_IDENTITY};
use crate::state::{Caller, PasswordPolicy};

/// Who iamctl acts as in an account.
pub struct Identity {
    pub account_id: String,
    pub caller: Caller,
}

/// `sts:GetCallerIdentity`, plus the access key id the clients sign with when the caller is
/// an IAM user (a long-lived `AKIA` key, which a key rule could otherwise deactivate). The
/// credentials are asked for only then: for a role session they would not name a user key,
/// and asking an assume-role provider directly would assume the role once more.
pub async fn read_identity(clients: &AccountClients) -> Result<Identity, AwsError> {
    let out = call(
        &clients.target,
        GET_CALLER_IDENTITY,
        clients.sts.get_caller_identity().send(),
    )
    .await?;
    let arn = out.arn().unwrap_or_default().to_owned();
    let user_name = user_name_of(&arn);
    let access_key_id = match (&user_name, clients.config.credentials_provider()) {
        (Some(_), Some(provider)) => {
            let credentials = provider.provide_credentials().await.map_err(|e| {
                AwsError::new(
                    &clients.target,
                    GET_CALLER_IDENTITY.action,
                    format!(
                        "reading the access key id of the credentials: {}",
                        crate::aws::error_chain(&e)
                    ),
                )
            })?;
            // Only the id is kept; the secret is dropped with `credentials`.
            let id = credentials.access_key_id();
            id.starts_with("AKIA").then(|| id.to_owned())
        }
        _ => None,
    };
    Ok(Identity {
        account_id: out.account().unwrap_or_default().to_owned(),
        caller: Caller {
            arn,
            user_name,
            access_key_id,
        },
    })
}

/// The user name of an IAM user ARN, `arn:PARTITION:iam::ACCOUNT:user/PATH/NAME`; `None`
/// for anything else (assumed roles, federated users, the root user).
fn user_name_of(arn: &str) -> Option<String> {
    let parts: Vec<&str> = arn.splitn(6, ':').collect();
    let ["arn", _partition, "iam", _region, _account, resource] = parts[..] else {
        return None;
    };
    let path_and_name = resource.strip_prefix("user/")?;
    path_and_name
        .rsplit('/')
        .next()
        .filter(|name| !name.is_empty())
        .map(str::to_owned)
}

/// `iam:GetAccountPasswordPolicy`; an account without a policy answers NoSuchEntity.
pub(crate) async fn read_password_policy(
    clients: &AccountClients,
) -> Result<Option<PasswordPolicy>, AwsError> {
    let request = clients.iam.get_account_password_policy().send();
    let out = match call(&clients.target, GET_ACCOUNT_PASSWORD_POLICY, request).await {
        Ok(out) => out,
        Err(err) if err.is(ErrorCode::NoSuchEntity) => return Ok(None),
        Err(err) => return Err(err),
    };
    Ok(out.password_policy().map(|p| {
        // IAM omits the optional fields when unset; a zero is treated the same way.
        let positive = |v: Option<i32>| v.and_then(|v| u32::try_from(v).ok()).filter(|v| *v > 0);
        PasswordPolicy {
            minimum_length: positive(p.minimum_password_length())
                .unwrap_or(PasswordPolicy::DEFAULT_MINIMUM_LENGTH),
            require_uppercase: p.require_uppercase_characters(),
            require_lowercase: p.require_lowercase_characters(),
            require_numbers: p.require_numbers(),
            require_symbols: p.require_symbols(),
            allow_users_to_change: p.allow_users_to_change_password(),
            max_age_days: positive(p.max_password_age()),
            reuse_prevention: positive(p.password_reuse_prevention()),
            hard_expiry: p.hard_expiry().unwrap_or(false),
        }
    }))
}

#[cfg(test)]
mod tests {
    use super::user_name_of;

    #[test]
    fn user_names_come_from_user_arns_only() {
        assert_eq!(
            user_name_of("arn:aws:iam::123456789012:user/ci").as_deref(),
            Some("ci")
        );
        assert_eq!(
            user_name_of("arn:aws:iam::123456789012:user/team/a/ci").as_deref(),
            Some("ci")
        );
        assert_eq!(
            user_name_of("arn:aws-cn:iam::123456789012:user/ci").as_deref(),
            Some("ci")
        );
        assert_eq!(
            user_name_of("arn:aws:sts::123456789012:assumed-role/iamctl/session"),
            None
        );
        assert_eq!(user_name_of("arn:aws:iam::123456789012:root"), None);
        assert_eq!(user_name_of(""), None);
    }
}
