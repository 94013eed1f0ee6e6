//! What a policy allows, as far as `[audit] forbid_full_admin_policies` cares: does it allow
//! every action on every resource (`"*"` on `"*"`, CIS 1.16)? Pure: policy documents in,
//! verdicts out. The documents come from `GetAccountAuthorizationDetails`, which returns
//! inline policies and every version of each customer-managed policy, URL-encoded.
//!
//! AWS-managed policies are judged by ARN, not read: an account sees about 1,600 of them and
//! `GetAccountAuthorizationDetails` would return every one (their documents change only with
//! AWS's releases). [`FULL_ADMIN_AWS_POLICIES`] names the ones that allow everything.

use serde_json::Value;

/// AWS-managed policies whose default version allows `"*"` on `"*"`: `AdministratorAccess`
/// (the only one: the job-function policies such as `PowerUserAccess` deny or scope what
/// they allow).
pub const FULL_ADMIN_AWS_POLICIES: &[&str] = &["AdministratorAccess"];

/// An AWS-managed policy ARN (`arn:PARTITION:iam::aws:policy/PATH/NAME`) that allows
/// everything.
pub fn is_full_admin_aws_policy(arn: &str) -> bool {
    let Some((_, name_and_path)) = arn.split_once(":iam::aws:policy/") else {
        return false;
    };
    let name = name_and_path.rsplit('/').next().unwrap_or(name_and_path);
    arn.starts_with("arn:") && FULL_ADMIN_AWS_POLICIES.contains(&name)
}

/// What a policy document allows, as the policy rules judge it, from one parse.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Grants {
    /// Some action on some resource without limit (`"*"` on `"*"`, CIS 1.16).
    pub everything: bool,
    /// Every action of some service (`"s3:*"`, Security Hub IAM.21).
    pub service_wildcard: bool,
}

/// What a policy document as IAM returns it (URL-encoded JSON, or plain JSON) allows. Only
/// statements with `"Effect": "Allow"` count:
/// - `everything`: `"Action"` `"*"` (or a list holding it) and `"Resource"` `"*"` (or a list
///   holding it). Conditions do not make it less of an administrator policy: CIS counts it all
///   the same.
/// - `service_wildcard`: `"Action"` is, or lists, `SERVICE:*`.
///
/// A document that does not parse allows nothing iamctl can tell.
pub fn grants(document: &str) -> Grants {
    let decoded = percent_encoding::percent_decode_str(document).decode_utf8_lossy();
    let parsed: Value = match serde_json::from_str(&decoded) {
        Ok(value) => value,
        Err(_) => match serde_json::from_str(document) {
            Ok(value) => value,
            Err(_) => return Grants::default(),
        },
    };
    let statements: Vec<&Value> = match &parsed["Statement"] {
        Value::Array(list) => list.iter().collect(),
        statement @ Value::Object(_) => vec![statement],
        _ => Vec::new(),
    };
    let allowing = || statements.iter().filter(|s| s["Effect"] == "Allow");
    let service_wildcard = |action: &Value| {
        action.as_str().is_some_and(|a| {
            a.strip_suffix(":*")
                .is_some_and(|service| !service.is_empty() && !service.contains('*'))
        })
    };
    Grants {
        everything: allowing().any(|s| is_star(&s["Action"]) && is_star(&s["Resource"])),
        service_wildcard: allowing().any(|s| match &s["Action"] {
            Value::Array(list) => list.iter().any(service_wildcard),
            action => service_wildcard(action),
        }),
    }
}

/// Whether a policy document allows `"*"` on `"*"` ([`grants`]).
pub fn allows_everything(document: &str) -> bool {
    grants(document).everything
}

/// `"*"`, or a list holding `"*"`.
fn is_star(value: &Value) -> bool {
    match value {
        Value::String(s) => s == "*",
        Value::Array(list) => list.iter().any(|v| v == "*"),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn service_wildcards_are_actions_of_a_whole_service() {
        for (document, expected) in [
            (
                r#"{"Statement":[{"Effect":"Allow","Action":"s3:*","Resource":"*"}]}"#,
                true,
            ),
            (
                r#"{"Statement":{"Effect":"Allow","Action":["ec2:Describe*","iam:*"],"Resource":"arn:aws:iam::1:user/x"}}"#,
                true,
            ),
            (
                r#"{"Statement":[{"Effect":"Allow","Action":"s3:GetObject","Resource":"*"}]}"#,
                false,
            ),
            (
                r#"{"Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}"#,
                false,
            ),
            (
                r#"{"Statement":[{"Effect":"Deny","Action":"s3:*","Resource":"*"}]}"#,
                false,
            ),
            (
                "%7B%22Statement%22%3A%7B%22Effect%22%3A%22Allow%22%2C%22Action%22%3A%22kms%3A%2A%22%7D%7D",
                true,
            ),
        ] {
            assert_eq!(grants(document).service_wildcard, expected, "{document}");
        }
    }

    #[test]
    fn star_on_star_is_full_admin_in_every_spelling() {
        for document in [
            r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}"#,
            r#"{"Statement":{"Effect":"Allow","Action":["s3:*","*"],"Resource":["*"]}}"#,
            r#"{"Statement":[{"Effect":"Allow","Action":"*","Resource":"*","Condition":{"Bool":{"aws:MultiFactorAuthPresent":"true"}}}]}"#,
            // As GetAccountAuthorizationDetails returns it.
            "%7B%22Version%22%3A%222012-10-17%22%2C%22Statement%22%3A%5B%7B%22Effect%22%3A%22Allow%22%2C%22Action%22%3A%22%2A%22%2C%22Resource%22%3A%22%2A%22%7D%5D%7D",
        ] {
            assert!(allows_everything(document), "{document}");
        }
    }

    #[test]
    fn anything_less_is_not() {
        for document in [
            r#"{"Statement":[{"Effect":"Allow","Action":"s3:*","Resource":"*"}]}"#,
            r#"{"Statement":[{"Effect":"Allow","Action":"*","Resource":"arn:aws:s3:::b/*"}]}"#,
            r#"{"Statement":[{"Effect":"Deny","Action":"*","Resource":"*"}]}"#,
            r#"{"Statement":[{"Effect":"Allow","NotAction":"iam:*","Resource":"*"}]}"#,
            "not json",
            "",
        ] {
            assert!(!allows_everything(document), "{document}");
        }
    }

    #[test]
    fn aws_managed_policies_are_judged_by_arn() {
        assert!(is_full_admin_aws_policy(
            "arn:aws:iam::aws:policy/AdministratorAccess"
        ));
        assert!(is_full_admin_aws_policy(
            "arn:aws-us-gov:iam::aws:policy/AdministratorAccess"
        ));
        assert!(!is_full_admin_aws_policy(
            "arn:aws:iam::aws:policy/ReadOnlyAccess"
        ));
        assert!(!is_full_admin_aws_policy(
            "arn:aws:iam::aws:policy/job-function/AdministratorAccess-Amplify"
        ));
        // A customer-managed policy of the same name is read, not assumed.
        assert!(!is_full_admin_aws_policy(
            "arn:aws:iam::123456789012:policy/AdministratorAccess"
        ));
    }
}
