//! The IAM permissions iamctl needs, as data: one list for the read-only commands (`plan`,
//! `snapshot`, `import`) and one for what `apply` needs on top, each action with the resources
//! it may touch. `iamctl permissions [--apply]` renders them as an IAM policy document. A third
//! list, [`BASE`], is what the identity iamctl starts from needs to reach the targets of a
//! multi-account desired state; `iamctl permissions --base` renders it for one desired state.
//! [`SECURITY_HUB`] is what `--security-hub` calls in each target on top of the others
//! (`iamctl permissions [--apply] --security-hub`).
//!
//! Each action is a constant ([`GET_USER`], ...), the one name of its operation in the code:
//! every AWS call is made through `aws::call` with its constant, which debug builds check
//! against the request sent and against these lists. The lists are kept true by
//! `tests/permissions.rs`: every operation a run of `plan`, `snapshot`, `import` and `apply`
//! makes against the emulator must be listed here, and the runs use them all.

use std::collections::BTreeSet;

use serde_json::{Value, json};

use crate::desired::model::OrganizationSpec;
use crate::fleet::TargetPlanInput;
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
    /// The SNS topic of `[notify]`. Only in [`NOTIFY`].
    NotifyTopic,
    /// IAM users, and only tags under `iamctl:` (an `aws:TagKeys` condition): the timing
    /// state of staged enforcement, never a tag that someone else relies on.
    UsersIamctlTags,
    /// The targets' roles: each `[[account]] role_arn`, and `role_name` in any account for an
    /// `[organization]`. Only in [`BASE`].
    TargetRoles,
    /// The target's Security Hub findings (`*`). Only in [`SECURITY_HUB`].
    SecurityHub,
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

// The reads. Bulk reads (live/account.rs, live/directory.rs, live/credential_report.rs).
pub const GET_ACCOUNT_PASSWORD_POLICY: Permission = any("iam:GetAccountPasswordPolicy");
pub const GET_ACCOUNT_AUTHORIZATION_DETAILS: Permission = any("iam:GetAccountAuthorizationDetails");
pub const GENERATE_CREDENTIAL_REPORT: Permission = any("iam:GenerateCredentialReport");
pub const GET_CREDENTIAL_REPORT: Permission = any("iam:GetCredentialReport");
// Direct confirmations per user (live/user_reads.rs; GetLoginProfile and GetAccessKeyLastUsed
// in apply/executor.rs too).
pub const GET_LOGIN_PROFILE: Permission = any("iam:GetLoginProfile");
pub const LIST_MFA_DEVICES: Permission = any("iam:ListMFADevices");
pub const GET_USER: Permission = any("iam:GetUser");
pub const LIST_ACCESS_KEYS: Permission = any("iam:ListAccessKeys");
pub const GET_ACCESS_KEY_LAST_USED: Permission = any("iam:GetAccessKeyLastUsed");
// `[audit] require_cloudtrail` (live/cloudtrail.rs).
pub const DESCRIBE_TRAILS: Permission = any("cloudtrail:DescribeTrails");
pub const GET_TRAIL_STATUS: Permission = any("cloudtrail:GetTrailStatus");
pub const GET_EVENT_SELECTORS: Permission = any("cloudtrail:GetEventSelectors");
// `[root]` (live/root.rs): the root user's keys and MFA, and whether that MFA is virtual.
pub const GET_ACCOUNT_SUMMARY: Permission = any("iam:GetAccountSummary");
pub const LIST_VIRTUAL_MFA_DEVICES: Permission = any("iam:ListVirtualMFADevices");
// `plan --explain` (explain/lookup.rs); not with `--events`.
pub const LOOKUP_EVENTS: Permission = any("cloudtrail:LookupEvents");

// The writes (apply/executor.rs, apply/deny_policy.rs).
pub const UPDATE_ACCOUNT_PASSWORD_POLICY: Permission =
    on("iam:UpdateAccountPasswordPolicy", Scope::PasswordPolicy);
pub const DELETE_ACCOUNT_PASSWORD_POLICY: Permission =
    on("iam:DeleteAccountPasswordPolicy", Scope::PasswordPolicy);
pub const CREATE_LOGIN_PROFILE: Permission = on("iam:CreateLoginProfile", Scope::Users);
pub const UPDATE_LOGIN_PROFILE: Permission = on("iam:UpdateLoginProfile", Scope::Users);
pub const DELETE_LOGIN_PROFILE: Permission = on("iam:DeleteLoginProfile", Scope::Users);
pub const UPDATE_ACCESS_KEY: Permission = on("iam:UpdateAccessKey", Scope::Users);
pub const DELETE_ACCESS_KEY: Permission = on("iam:DeleteAccessKey", Scope::Users);
pub const GET_POLICY: Permission = on("iam:GetPolicy", Scope::DenyPolicy);
pub const CREATE_POLICY: Permission = on("iam:CreatePolicy", Scope::DenyPolicy);
pub const ATTACH_USER_POLICY: Permission = on("iam:AttachUserPolicy", Scope::UsersWithDenyPolicy);
pub const DETACH_USER_POLICY: Permission = on("iam:DetachUserPolicy", Scope::UsersWithDenyPolicy);
pub const SNS_PUBLISH: Permission = on("sns:Publish", Scope::NotifyTopic);
pub const TAG_USER: Permission = on("iam:TagUser", Scope::UsersIamctlTags);
pub const UNTAG_USER: Permission = on("iam:UntagUser", Scope::UsersIamctlTags);
// `[audit.cloudtrail] create` (apply/cloudtrail.rs).
pub const CREATE_TRAIL: Permission = on("cloudtrail:CreateTrail", Scope::Trails);
pub const UPDATE_TRAIL: Permission = on("cloudtrail:UpdateTrail", Scope::Trails);
pub const START_LOGGING: Permission = on("cloudtrail:StartLogging", Scope::Trails);

// `plan --security-hub`, `apply --security-hub` (security_hub/): the plan's items as findings
// in each target's Security Hub, and the previous ones found to resolve them.
pub const GET_FINDINGS: Permission = on("securityhub:GetFindings", Scope::SecurityHub);
pub const BATCH_IMPORT_FINDINGS: Permission =
    on("securityhub:BatchImportFindings", Scope::SecurityHub);

// The base identity's (aws/mod.rs, fleet.rs).
pub const ASSUME_ROLE: Permission = on("sts:AssumeRole", Scope::TargetRoles);
pub const LIST_ACCOUNTS: Permission = any("organizations:ListAccounts");

/// `sts:GetCallerIdentity` "requires no permissions" (STS API reference).
pub const GET_CALLER_IDENTITY: Permission = any("sts:GetCallerIdentity");

/// What `plan`, `snapshot` and `import` call: reads only. `apply` makes them too (it plans
/// first).
pub const READ: &[Permission] = &[
    GET_ACCOUNT_PASSWORD_POLICY,
    GET_ACCOUNT_AUTHORIZATION_DETAILS,
    GENERATE_CREDENTIAL_REPORT,
    GET_CREDENTIAL_REPORT,
    GET_LOGIN_PROFILE,
    LIST_MFA_DEVICES,
    GET_USER,
    LIST_ACCESS_KEYS,
    GET_ACCESS_KEY_LAST_USED,
    DESCRIBE_TRAILS,
    GET_TRAIL_STATUS,
    GET_EVENT_SELECTORS,
    LOOKUP_EVENTS,
    GET_ACCOUNT_SUMMARY,
    LIST_VIRTUAL_MFA_DEVICES,
];

/// What `apply` calls on top of [`READ`].
pub const APPLY: &[Permission] = &[
    UPDATE_ACCOUNT_PASSWORD_POLICY,
    DELETE_ACCOUNT_PASSWORD_POLICY,
    CREATE_LOGIN_PROFILE,
    UPDATE_LOGIN_PROFILE,
    DELETE_LOGIN_PROFILE,
    UPDATE_ACCESS_KEY,
    DELETE_ACCESS_KEY,
    GET_POLICY,
    CREATE_POLICY,
    ATTACH_USER_POLICY,
    DETACH_USER_POLICY,
    TAG_USER,
    UNTAG_USER,
    CREATE_TRAIL,
    UPDATE_TRAIL,
    START_LOGGING,
];

/// What the base identity (the ambient credentials, or a target's `profile`) calls before
/// any target is read: assuming each target's role (the `AssumeRole` credentials provider in
/// aws/mod.rs; an `external_id` needs no other action) and, with an `[organization]`, listing
/// its accounts (fleet.rs). Rendered per desired state by [`base_policy_document`].
pub const BASE: &[Permission] = &[ASSUME_ROLE, LIST_ACCOUNTS];

/// What the base identity calls to tell owners (`[notify] sns_topic_arn`, `plan --notify`
/// and `apply`), on the topic alone; rendered into `iamctl permissions --base` when the
/// desired state names a topic.
pub const NOTIFY: &[Permission] = &[SNS_PUBLISH];

/// What `--security-hub` (on `plan` and `apply`) calls in each target account, on top of
/// [`READ`] (and [`APPLY`]): rendered into the policy by `iamctl permissions --security-hub`.
/// A list of its own: a role that only plans or applies needs none of it.
pub const SECURITY_HUB: &[Permission] = &[GET_FINDINGS, BATCH_IMPORT_FINDINGS];

/// Operations iamctl calls that IAM allows whatever the caller's policies say.
pub const NO_PERMISSION_NEEDED: &[Permission] = &[GET_CALLER_IDENTITY];

/// Every permission of every list: what an AWS call of iamctl's may declare (`aws::call`).
pub fn all() -> impl Iterator<Item = &'static Permission> {
    READ.iter()
        .chain(APPLY)
        .chain(BASE)
        .chain(NOTIFY)
        .chain(SECURITY_HUB)
        .chain(NO_PERMISSION_NEEDED)
}

/// Not iamctl's own calls: the actions the `iamctl-deny-without-mfa` policy
/// (apply/deny_policy.rs) leaves a user without MFA, to enroll a device and, for a console user
/// whose password must be reset at first sign-in, to change the password. Grouped as the
/// policy's statements allow them.
pub mod self_service {
    /// Allowed on `*`.
    pub const LIST: &[&str] = &["iam:ListVirtualMFADevices", "iam:GetAccountPasswordPolicy"];
    /// Allowed on `arn:PARTITION:iam::*:mfa/*`.
    pub const CREATE_MFA_DEVICE: &[&str] = &["iam:CreateVirtualMFADevice"];
    /// Allowed on the user's own ARN.
    pub const OWN_MFA_AND_PASSWORD: &[&str] = &[
        "iam:EnableMFADevice",
        "iam:GetMFADevice",
        "iam:ListMFADevices",
        "iam:ResyncMFADevice",
        "iam:GetUser",
        "iam:ChangePassword",
    ];
    /// Not denied, and not allowed by the policy: CLI users obtain MFA-authenticated
    /// credentials through it.
    pub const GET_SESSION_TOKEN: &str = "sts:GetSessionToken";
}

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
                (Scope::UsersIamctlTags, _) => (
                    "IamctlRecordTimingStateInUserTags",
                    json!(users),
                    Some(json!({ "ForAllValues:StringLike": { "aws:TagKeys": ["iamctl:*"] } })),
                ),
                (Scope::TargetRoles | Scope::NotifyTopic | Scope::SecurityHub, _) => {
                    unreachable!("only BASE, NOTIFY and SECURITY_HUB reach these scopes")
                }
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

/// `doc` (a [`policy_document`]) with the statement of [`SECURITY_HUB`] added: findings are
/// read and imported in the account's own Security Hub, on `*` (Security Hub's findings are
/// not resources a policy can name one by one).
pub fn with_security_hub(mut doc: Value) -> Value {
    let mut actions: Vec<&str> = SECURITY_HUB.iter().map(|p| p.action).collect();
    actions.sort_unstable();
    if let Some(statements) = doc["Statement"].as_array_mut() {
        statements.push(json!({
            "Sid": "IamctlImportSecurityHubFindings",
            "Effect": "Allow",
            "Action": actions,
            "Resource": "*",
        }));
    }
    doc
}

/// The policy document (JSON) the base identity needs to reach `targets` (the selected
/// declared targets) and, when declared, the accounts `organization` lists: the actions of
/// [`BASE`] that this desired state uses. `sts:AssumeRole` on the exact role ARNs of the
/// targets (sorted, each once) plus `arn:PARTITION:iam::*:role/ROLE_NAME` for the
/// organization, whose accounts are only known at run time; `organizations:ListAccounts` on
/// `*` with an organization. `None` when no target is reached through a role: the base
/// identity is then the target's own and needs only [`policy_document`]'s permissions (a
/// policy without statements would not be a valid IAM policy).
pub fn base_policy_document(
    targets: &[TargetPlanInput],
    organization: Option<&OrganizationSpec>,
    topic: Option<&str>,
    partition: &str,
) -> Option<Value> {
    let mut roles: BTreeSet<String> = targets
        .iter()
        .filter_map(|t| t.target.role_arn.clone())
        .collect();
    if let Some(org) = organization {
        roles.insert(format!("arn:{partition}:iam::*:role/{}", org.role_name));
    }
    let mut statements = Vec::new();
    for permission in BASE {
        let statement = match permission.scope {
            Scope::TargetRoles if !roles.is_empty() => {
                json!({
                    "Sid": "IamctlAssumeTargetRoles",
                    "Effect": "Allow",
                    "Action": [permission.action],
                    "Resource": roles.iter().collect::<Vec<_>>(),
                })
            }
            Scope::Any if organization.is_some() => json!({
                "Sid": "IamctlListOrganizationAccounts",
                "Effect": "Allow",
                "Action": [permission.action],
                "Resource": "*",
            }),
            _ => continue,
        };
        statements.push(statement);
    }
    if let Some(topic) = topic {
        statements.push(json!({
            "Sid": "IamctlPublishNotices",
            "Effect": "Allow",
            "Action": NOTIFY.iter().map(|p| p.action).collect::<Vec<_>>(),
            "Resource": topic,
        }));
    }
    (!statements.is_empty()).then(|| json!({ "Version": "2012-10-17", "Statement": statements }))
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
        let mut actions: Vec<&str> = all().map(|p| p.action).collect();
        let count = actions.len();
        actions.sort_unstable();
        actions.dedup();
        assert_eq!(actions.len(), count);
    }

    fn base(text: &str, partition: &str) -> Option<Value> {
        let doc = crate::desired::load_sources(vec![("desired.toml".into(), text.into())])
            .expect("valid desired state");
        let targets = crate::fleet::declared_targets(&doc);
        base_policy_document(&targets, doc.organization.as_ref(), None, partition)
    }

    #[test]
    fn the_base_policy_assumes_exactly_the_declared_roles_and_lists_the_organization() {
        let doc = base(
            "[organization]\nrole_name = \"ops/iamctl\"\nexternal_id = \"xid\"\n\n\
             [[account]]\nname = \"staging\"\nrole_arn = \"arn:aws-cn:iam::222222222222:role/iamctl\"\n\
             external_id = \"other\"\n\n\
             [[account]]\nname = \"prod\"\nrole_arn = \"arn:aws-cn:iam::111111111111:role/iamctl\"\n\n\
             [[account]]\nname = \"prod-again\"\nrole_arn = \"arn:aws-cn:iam::111111111111:role/iamctl\"\n\n\
             [[account]]\nname = \"local\"\nprofile = \"local\"\n",
            "aws-cn",
        )
        .expect("roles to assume");
        assert_eq!(
            doc,
            json!({
                "Version": "2012-10-17",
                "Statement": [
                    {
                        "Sid": "IamctlAssumeTargetRoles",
                        "Effect": "Allow",
                        "Action": ["sts:AssumeRole"],
                        "Resource": [
                            "arn:aws-cn:iam::*:role/ops/iamctl",
                            "arn:aws-cn:iam::111111111111:role/iamctl",
                            "arn:aws-cn:iam::222222222222:role/iamctl",
                        ],
                    },
                    {
                        "Sid": "IamctlListOrganizationAccounts",
                        "Effect": "Allow",
                        "Action": ["organizations:ListAccounts"],
                        "Resource": "*",
                    },
                ],
            })
        );
    }

    #[test]
    fn without_an_organization_the_base_policy_only_assumes_roles() {
        let doc = base(
            "[[account]]\nname = \"prod\"\nrole_arn = \"arn:aws:iam::111111111111:role/iamctl\"\n",
            "aws",
        )
        .unwrap();
        let statements = doc["Statement"].as_array().unwrap();
        assert_eq!(statements.len(), 1, "{doc}");
        assert_eq!(statements[0]["Action"], json!(["sts:AssumeRole"]));
        assert_eq!(
            statements[0]["Resource"],
            json!(["arn:aws:iam::111111111111:role/iamctl"])
        );
    }

    #[test]
    fn without_a_role_to_assume_there_is_no_base_policy() {
        assert_eq!(base("[users.console]\nrequire_mfa = true\n", "aws"), None);
        assert_eq!(
            base("[[account]]\nname = \"prod\"\nprofile = \"prod\"\n", "aws"),
            None
        );
    }
}
