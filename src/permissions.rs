//! The IAM permissions iamctl needs, as data: one list for the read-only commands (`plan`,
//! `snapshot`, `import`) and one for what `apply` needs on top, each action with the resources
//! it may touch. `iamctl permissions [--apply]` renders them as an IAM policy document.
//!
//! The lists are kept true by tests (`tests/permissions.rs`): every API operation a run of
//! `plan`, `snapshot`, `import` and `apply` makes against the emulator must be listed here,
//! every action listed here must be one the code calls, and the test run uses them all.

use serde_json::{Value, json};

use crate::plan::DENY_WITHOUT_MFA_POLICY;

/// What an action may act on. IAM's account-wide actions (the password policy,
/// `GetAccountAuthorizationDetails`, the credential report) and CloudTrail's reads take `*`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Scope {
    /// Any resource: the reads.
    Any,
    /// The account's password policy, an account-wide setting (IAM takes only `*`).
    PasswordPolicy,
    /// IAM users (`arn:PARTITION:iam::*:user/*`): their login profiles and access keys.
    Users,
    /// CloudTrail trails (`arn:PARTITION:cloudtrail:*:*:trail/*`): `[audit.cloudtrail]
    /// create` makes one and starts it logging.
    Trails,
    /// Only the customer-managed policy `iamctl-deny-without-mfa`.
    DenyPolicy,
    /// IAM users, and only to attach or detach `iamctl-deny-without-mfa` (an `iam:PolicyARN`
    /// condition), so that the apply role cannot attach any other policy to anyone.
    UsersWithDenyPolicy,
}

/// One IAM action iamctl's code calls.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Permission {
    /// `service:Action`, as in a policy (`iam:ListAccessKeys`).
    pub action: &'static str,
    pub scope: Scope,
}

const fn any(action: &'static str) -> Permission {
    Permission {
        action,
        scope: Scope::Any,
    }
}

const fn on(action: &'static str, scope: Scope) -> Permission {
    Permission { action, scope }
}

/// What `plan`, `snapshot` and `import` call: reads only. `apply` makes them too (it plans
/// first).
pub const READ: &[Permission] = &[
    // Bulk reads (live/account.rs, live/directory.rs, live/credential_report.rs).
    any("iam:GetAccountPasswordPolicy"),
    any("iam:GetAccountAuthorizationDetails"),
    any("iam:GenerateCredentialReport"),
    any("iam:GetCredentialReport"),
    // Direct confirmations per user (live/user_reads.rs).
    any("iam:GetLoginProfile"),
    any("iam:ListMFADevices"),
    any("iam:GetUser"),
    any("iam:ListAccessKeys"),
    any("iam:GetAccessKeyLastUsed"),
    // `[audit] require_cloudtrail` (live/cloudtrail.rs).
    any("cloudtrail:DescribeTrails"),
    any("cloudtrail:GetTrailStatus"),
    any("cloudtrail:GetEventSelectors"),
    // `plan --explain` (explain/lookup.rs); not with `--events`.
    any("cloudtrail:LookupEvents"),
];

/// What `apply` calls on top of [`READ`] (apply/executor.rs, apply/deny_policy.rs).
pub const APPLY: &[Permission] = &[
    on("iam:UpdateAccountPasswordPolicy", Scope::PasswordPolicy),
    on("iam:DeleteAccountPasswordPolicy", Scope::PasswordPolicy),
    on("iam:CreateLoginProfile", Scope::Users),
    on("iam:UpdateLoginProfile", Scope::Users),
    on("iam:DeleteLoginProfile", Scope::Users),
    on("iam:UpdateAccessKey", Scope::Users),
    on("iam:DeleteAccessKey", Scope::Users),
    on("iam:GetPolicy", Scope::DenyPolicy),
    on("iam:CreatePolicy", Scope::DenyPolicy),
    on("iam:AttachUserPolicy", Scope::UsersWithDenyPolicy),
    on("iam:DetachUserPolicy", Scope::UsersWithDenyPolicy),
    // `[audit.cloudtrail] create` (apply/cloudtrail.rs).
    on("cloudtrail:CreateTrail", Scope::Trails),
    on("cloudtrail:UpdateTrail", Scope::Trails),
    on("cloudtrail:StartLogging", Scope::Trails),
];

/// Operations iamctl calls that IAM allows whatever the caller's policies say.
/// `sts:GetCallerIdentity` "requires no permissions" (STS API reference).
pub const NO_PERMISSION_NEEDED: &[&str] = &["sts:GetCallerIdentity"];

/// Which command's permissions.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Need {
    /// `plan`, `snapshot`, `import`: [`READ`].
    ReadOnly,
    /// `apply`: [`READ`] and [`APPLY`].
    Apply,
}

/// Every permission `need` takes, in list order.
pub fn permissions(need: Need) -> Vec<Permission> {
    match need {
        Need::ReadOnly => READ.to_vec(),
        Need::Apply => READ.iter().chain(APPLY).copied().collect(),
    }
}

/// The IAM policy document (JSON) that grants `need` and nothing else, for the partition
/// `aws`, `aws-cn` or `aws-us-gov`. One statement per service and scope, actions sorted, so
/// the document is stable and diffs well.
pub fn policy_document(need: Need, partition: &str) -> Value {
    let users = format!("arn:{partition}:iam::*:user/*");
    let trails = format!("arn:{partition}:cloudtrail:*:*:trail/*");
    let deny_policy = format!("arn:{partition}:iam::*:policy/{DENY_WITHOUT_MFA_POLICY}");
    let mut groups: Vec<((&str, Scope), Vec<&str>)> = Vec::new();
    for permission in permissions(need) {
        let service = permission.action.split(':').next().unwrap_or_default();
        let key = (service, permission.scope);
        match groups.iter_mut().find(|(k, _)| *k == key) {
            Some((_, actions)) => actions.push(permission.action),
            None => groups.push((key, vec![permission.action])),
        }
    }
    groups.sort_by_key(|(key, _)| (key.1, key.0));
    let statements: Vec<Value> = groups
        .into_iter()
        .map(|((service, scope), mut actions)| {
            actions.sort_unstable();
            let (sid, resource, condition) = match (scope, service) {
                (Scope::Any, "cloudtrail") => ("IamctlReadCloudTrail", json!("*"), None),
                (Scope::Any, _) => ("IamctlReadIam", json!("*"), None),
                (Scope::PasswordPolicy, _) => ("IamctlSetPasswordPolicy", json!("*"), None),
                (Scope::Users, _) => ("IamctlManageUserCredentials", json!(users), None),
                (Scope::Trails, _) => ("IamctlCreateTrail", json!(trails), None),
                (Scope::DenyPolicy, _) => {
                    ("IamctlEnsureDenyWithoutMfaPolicy", json!(deny_policy), None)
                }
                (Scope::UsersWithDenyPolicy, _) => (
                    "IamctlAttachOnlyDenyWithoutMfaPolicy",
                    json!(users),
                    Some(json!({ "ArnEquals": { "iam:PolicyARN": deny_policy } })),
                ),
            };
            let mut statement = json!({
                "Sid": sid,
                "Effect": "Allow",
                "Action": actions,
                "Resource": resource,
            });
            if let Some(condition) = condition {
                statement["Condition"] = condition;
            }
            statement
        })
        .collect();
    json!({ "Version": "2012-10-17", "Statement": statements })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn actions_of(doc: &Value) -> Vec<String> {
        let mut out: Vec<String> = doc["Statement"]
            .as_array()
            .unwrap()
            .iter()
            .flat_map(|s| s["Action"].as_array().unwrap().clone())
            .map(|a| a.as_str().unwrap().to_owned())
            .collect();
        out.sort();
        out
    }

    #[test]
    fn the_read_only_policy_grants_exactly_the_read_list_and_writes_nothing() {
        let doc = policy_document(Need::ReadOnly, "aws");
        let mut expected: Vec<String> = READ.iter().map(|p| p.action.to_owned()).collect();
        expected.sort();
        assert_eq!(actions_of(&doc), expected);
        for action in actions_of(&doc) {
            let name = action.split(':').nth(1).unwrap();
            assert!(
                ["Get", "List", "Describe", "Generate", "Lookup"]
                    .iter()
                    .any(|verb| name.starts_with(verb)),
                "{action} is not a read"
            );
        }
    }

    #[test]
    fn the_apply_policy_adds_the_writes_and_scopes_them() {
        let doc = policy_document(Need::Apply, "aws-cn");
        assert_eq!(actions_of(&doc).len(), READ.len() + APPLY.len());
        let statements = doc["Statement"].as_array().unwrap();
        let attach = statements
            .iter()
            .find(|s| s["Action"].to_string().contains("iam:AttachUserPolicy"))
            .unwrap();
        assert_eq!(attach["Resource"], "arn:aws-cn:iam::*:user/*");
        assert_eq!(
            attach["Condition"]["ArnEquals"]["iam:PolicyARN"],
            "arn:aws-cn:iam::*:policy/iamctl-deny-without-mfa"
        );
        let sids: Vec<&str> = statements
            .iter()
            .map(|s| s["Sid"].as_str().unwrap())
            .collect();
        let mut unique = sids.clone();
        unique.sort_unstable();
        unique.dedup();
        assert_eq!(unique.len(), sids.len(), "Sids are unique: {sids:?}");
    }

    #[test]
    fn no_action_is_listed_twice() {
        let mut all: Vec<&str> = READ.iter().chain(APPLY).map(|p| p.action).collect();
        all.extend(NO_PERMISSION_NEEDED);
        let count = all.len();
        all.sort_unstable();
        all.dedup();
        assert_eq!(all.len(), count);
    }
}
