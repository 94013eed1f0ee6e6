//! The customer-managed policy that `without_mfa = "deny-until-mfa"` attaches: it denies
//! everything but setting up one's own MFA device (and changing one's password) until the
//! user signs in with MFA. After AWS's "IAM: Allows IAM users to self-manage an MFA device".

use serde_json::json;

use crate::aws::{AccountClients, AwsError, aws_error};
use crate::plan::DENY_WITHOUT_MFA_POLICY;

const DESCRIPTION: &str =
    "iamctl: denies all but MFA self-service until the user signs in with MFA";

/// The actions a user without MFA still needs: to enroll a device and, for a console user
/// whose password must be reset at first sign-in, to change the password.
const SELF_SERVICE: &[&str] = &[
    "iam:ListVirtualMFADevices",
    "iam:GetAccountPasswordPolicy",
    "iam:CreateVirtualMFADevice",
    "iam:EnableMFADevice",
    "iam:GetMFADevice",
    "iam:ListMFADevices",
    "iam:ResyncMFADevice",
    "iam:GetUser",
    "iam:ChangePassword",
    // CLI users obtain MFA-authenticated credentials through it.
    "sts:GetSessionToken",
];

/// `arn:<partition>:iam::<account>:policy/iamctl-deny-without-mfa`.
pub(crate) fn arn(partition: &str, account_id: &str) -> String {
    format!("arn:{partition}:iam::{account_id}:policy/{DENY_WITHOUT_MFA_POLICY}")
}

/// The policy document, for the account's partition (`aws`, `aws-cn`, `aws-us-gov`).
pub(crate) fn document(partition: &str) -> String {
    let own_user = format!("arn:{partition}:iam::*:user/${{aws:username}}");
    let doc = json!({
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "AllowListActions",
                "Effect": "Allow",
                "Action": ["iam:ListVirtualMFADevices", "iam:GetAccountPasswordPolicy"],
                "Resource": "*"
            },
            {
                "Sid": "AllowUserToCreateVirtualMFADevice",
                "Effect": "Allow",
                "Action": ["iam:CreateVirtualMFADevice"],
                "Resource": format!("arn:{partition}:iam::*:mfa/*")
            },
            {
                "Sid": "AllowUserToManageTheirOwnMFAAndPassword",
                "Effect": "Allow",
                "Action": [
                    "iam:EnableMFADevice",
                    "iam:GetMFADevice",
                    "iam:ListMFADevices",
                    "iam:ResyncMFADevice",
                    "iam:GetUser",
                    "iam:ChangePassword"
                ],
                "Resource": own_user
            },
            {
                "Sid": "BlockMostAccessUnlessSignedInWithMFA",
                "Effect": "Deny",
                "NotAction": SELF_SERVICE,
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
    tracing::debug!(account = %clients.target, operation = "iam:GetPolicy");
    match clients.iam.get_policy().policy_arn(arn).send().await {
        Ok(_) => return Ok(arn.to_owned()),
        Err(err) => {
            let err = aws_error(&clients.target, "iam:GetPolicy", err);
            if !err.is_code("NoSuchEntity") {
                return Err(err);
            }
        }
    }
    tracing::debug!(account = %clients.target, operation = "iam:CreatePolicy");
    let created = clients
        .iam
        .create_policy()
        .policy_name(DENY_WITHOUT_MFA_POLICY)
        .description(DESCRIPTION)
        .policy_document(document(partition))
        .send()
        .await;
    match created {
        Ok(out) => Ok(out
            .policy
            .and_then(|p| p.arn)
            .unwrap_or_else(|| arn.to_owned())),
        Err(err) => {
            let err = aws_error(&clients.target, "iam:CreatePolicy", err);
            if err.is_code("EntityAlreadyExists") {
                Ok(arn.to_owned())
            } else {
                Err(err)
            }
        }
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
