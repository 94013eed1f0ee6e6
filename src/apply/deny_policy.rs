//! The customer-managed policy that `without_mfa = "deny-until-mfa"` attaches: it denies
//! everything but setting up one's own MFA device (and changing one's password) until the
//! user signs in with MFA. After AWS's "IAM: Allows IAM users to self-manage an MFA device".

use serde_json::json;

use crate::aws::{AccountClients, AwsError, ErrorCode, call};
use crate::permissions::self_service;
use crate::permissions::{CREATE_POLICY, GET_POLICY};
use crate::plan::DENY_WITHOUT_MFA_POLICY;

const DESCRIPTION: &str =
    "iamctl: denies all but MFA self-service until the user signs in with MFA";

/// `arn:<partition>:iam::<account>:policy/iamctl-deny-without-mfa`.
pub(crate) fn arn(partition: &str, account_id: &str) -> String {
    format!("arn:{partition}:iam::{account_id}:policy/{DENY_WITHOUT_MFA_POLICY}")
}

/// The policy document, for the account's partition (`aws`, `aws-cn`, `aws-us-gov`).
pub(crate) fn document(partition: &str) -> String {
    let own_user = format!("arn:{partition}:iam::*:user/${{aws:username}}");
    // What a user without MFA still needs: everything the statements allow, and one more.
    let not_action: Vec<&str> = self_service::LIST
        .iter()
        .chain(self_service::CREATE_MFA_DEVICE)
        .chain(self_service::OWN_MFA_AND_PASSWORD)
        .copied()
        .chain([self_service::GET_SESSION_TOKEN])
        .collect();
    let doc = json!({
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "AllowListActions",
                "Effect": "Allow",
                "Action": self_service::LIST,
                "Resource": "*"
            },
            {
                "Sid": "AllowUserToCreateVirtualMFADevice",
                "Effect": "Allow",
                "Action": self_service::CREATE_MFA_DEVICE,
                "Resource": format!("arn:{partition}:iam::*:mfa/*")
            },
            {
                "Sid": "AllowUserToManageTheirOwnMFAAndPassword",
                "Effect": "Allow",
                "Action": self_service::OWN_MFA_AND_PASSWORD,
                "Resource": own_user
            },
            {
                "Sid": "BlockMostAccessUnlessSignedInWithMFA",
                "Effect": "Deny",
                "NotAction": not_action,
                "Resource": "*",
                // IfExists: requests signed with long-term access keys carry no MFA key at
                // all, and must be denied too.
                "Condition": { "BoolIfExists": { "aws:MultiFactorAuthPresent": "false" } }
            }
        ]
    });
    doc.to_string()
}

/// Makes sure the policy exists at `arn` and returns its ARN: `GetPolicy`, and when it is
/// missing, `CreatePolicy`. A concurrent creator (another iamctl run) is not an error.
pub(crate) async fn ensure(
    clients: &AccountClients,
    partition: &str,
    arn: &str,
) -> Result<String, AwsError> {
    let account = clients.target.as_str();
    tracing::debug!(account = %clients.target, operation = GET_POLICY.action);
    let found = call(
        account,
        GET_POLICY,
        clients.iam.get_policy().policy_arn(arn).send(),
    )
    .await;
    match found {
        Ok(_) => return Ok(arn.to_owned()),
        Err(err) if !err.is(ErrorCode::NoSuchEntity) => return Err(err),
        Err(_) => {}
    }
    tracing::debug!(account = %clients.target, operation = CREATE_POLICY.action);
    let request = clients
        .iam
        .create_policy()
        .policy_name(DENY_WITHOUT_MFA_POLICY)
        .description(DESCRIPTION)
        .policy_document(document(partition))
        .send();
    match call(account, CREATE_POLICY, request).await {
        Ok(out) => Ok(out
            .policy
            .and_then(|p| p.arn)
            .unwrap_or_else(|| arn.to_owned())),
        Err(err) if err.is(ErrorCode::EntityAlreadyExists) => Ok(arn.to_owned()),
        Err(err) => Err(err),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_document_denies_all_but_mfa_self_service_without_mfa() {
        let doc: serde_json::Value = serde_json::from_str(&document("aws")).unwrap();
        let statements = doc["Statement"].as_array().unwrap();
        let deny = statements.iter().find(|s| s["Effect"] == "Deny").unwrap();
        assert_eq!(deny["Resource"], "*");
        assert_eq!(
            deny["Condition"]["BoolIfExists"]["aws:MultiFactorAuthPresent"],
            "false"
        );
        let not_action: Vec<&str> = deny["NotAction"]
            .as_array()
            .unwrap()
            .iter()
            .map(|a| a.as_str().unwrap())
            .collect();
        // Everything the Allow statements grant stays reachable without MFA.
        for allow in statements.iter().filter(|s| s["Effect"] == "Allow") {
            for action in allow["Action"].as_array().unwrap() {
                assert!(not_action.contains(&action.as_str().unwrap()), "{action}");
            }
        }
        assert!(document("aws").contains("arn:aws:iam::*:user/${aws:username}"));
        assert!(document("aws-cn").contains("arn:aws-cn:iam::*:mfa/*"));
    }

    #[test]
    fn the_arn_names_the_account() {
        assert_eq!(
            arn("aws", "123456789012"),
            "arn:aws:iam::123456789012:policy/iamctl-deny-without-mfa"
        );
    }
}
