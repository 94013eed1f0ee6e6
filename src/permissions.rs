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
    /// The SQS queue `iamctl watch --queue-url` consumes. Only in [`WATCH`].
    Queue,
    /// The Secrets Manager secrets key rotation delivers new keys to:
    /// `arn:PARTITION:secretsmanager:*:*:secret:PREFIX*`, the prefix being the fixed start of
    /// each `secret_name` template (`iamctl/` unless the desired state says otherwise).
    RotationSecrets,
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
/// A targeted plan's users (`--target user.*`), and their attached policies.
pub const LIST_USERS: Permission = any("iam:ListUsers");
pub const LIST_ATTACHED_USER_POLICIES: Permission = any("iam:ListAttachedUserPolicies");
pub const LIST_ACCESS_KEYS: Permission = any("iam:ListAccessKeys");
pub const GET_ACCESS_KEY_LAST_USED: Permission = any("iam:GetAccessKeyLastUsed");
// `[audit] require_cloudtrail` (live/cloudtrail.rs).
pub const DESCRIBE_TRAILS: Permission = any("cloudtrail:DescribeTrails");
pub const GET_TRAIL_STATUS: Permission = any("cloudtrail:GetTrailStatus");
pub const GET_EVENT_SELECTORS: Permission = any("cloudtrail:GetEventSelectors");
// Key rotation (live/user_reads.rs, for a user whose rotation was interrupted; apply/rotation.rs):
// which key the secret's current version holds. Never `GetSecretValue`.
pub const DESCRIBE_SECRET: Permission = on("secretsmanager:DescribeSecret", Scope::RotationSecrets);
// `[root]` (live/root.rs): the root user's keys and MFA, and whether that MFA is virtual.
pub const GET_ACCOUNT_SUMMARY: Permission = any("iam:GetAccountSummary");
pub const LIST_VIRTUAL_MFA_DEVICES: Permission = any("iam:ListVirtualMFADevices");
// `plan --explain` (explain/lookup.rs); not with `--events`.
pub const LOOKUP_EVENTS: Permission = any("cloudtrail:LookupEvents");

// `iamctl report s3://...` (report/s3.rs): a history of plan files kept in S3.
pub const S3_LIST_BUCKET: Permission = any("s3:ListBucket");
pub const S3_GET_OBJECT: Permission = any("s3:GetObject");

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
// Key rotation (apply/rotation.rs): the new key, the secret that receives it, its policy.
pub const CREATE_ACCESS_KEY: Permission = on("iam:CreateAccessKey", Scope::Users);
pub const CREATE_SECRET: Permission = on("secretsmanager:CreateSecret", Scope::RotationSecrets);
pub const PUT_SECRET_VALUE: Permission =
    on("secretsmanager:PutSecretValue", Scope::RotationSecrets);
pub const PUT_RESOURCE_POLICY: Permission =
    on("secretsmanager:PutResourcePolicy", Scope::RotationSecrets);
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

/// `iamctl watch`: the SQS queue an EventBridge rule feeds.
pub const RECEIVE_MESSAGE: Permission = on("sqs:ReceiveMessage", Scope::Queue);
pub const DELETE_MESSAGE: Permission = on("sqs:DeleteMessage", Scope::Queue);

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
    LIST_USERS,
    LIST_ATTACHED_USER_POLICIES,
    DESCRIBE_TRAILS,
    GET_TRAIL_STATUS,
    GET_EVENT_SELECTORS,
    LOOKUP_EVENTS,
    GET_ACCOUNT_SUMMARY,
    LIST_VIRTUAL_MFA_DEVICES,
    DESCRIBE_SECRET,
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
    CREATE_ACCESS_KEY,
    CREATE_SECRET,
    PUT_SECRET_VALUE,
    PUT_RESOURCE_POLICY,
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

/// What `iamctl watch` calls with the base identity on top of [`BASE`]: receiving the
/// queue's messages and deleting those it reconciled.
pub const WATCH: &[Permission] = &[RECEIVE_MESSAGE, DELETE_MESSAGE];

/// What `--security-hub` (on `plan` and `apply`) calls in each target account, on top of
/// [`READ`] (and [`APPLY`]): rendered into the policy by `iamctl permissions --security-hub`.
/// A list of its own: a role that only plans or applies needs none of it.
pub const SECURITY_HUB: &[Permission] = &[GET_FINDINGS, BATCH_IMPORT_FINDINGS];

/// What `iamctl report s3://BUCKET/PREFIX/` calls with the identity iamctl starts from: listing
/// the prefix (`ListObjectsV2` is authorized as `s3:ListBucket`) and reading each plan file.
pub const REPORT: &[Permission] = &[S3_LIST_BUCKET, S3_GET_OBJECT];

/// Operations iamctl calls that IAM allows whatever the caller's policies say.
pub const NO_PERMISSION_NEEDED: &[Permission] = &[GET_CALLER_IDENTITY];

/// Every permission of every list: what an AWS call of iamctl's may declare (`aws::call`).
pub fn all() -> impl Iterator<Item = &'static Permission> {
    READ.iter()
        .chain(APPLY)
        .chain(BASE)
        .chain(NOTIFY)
        .chain(WATCH)
        .chain(SECURITY_HUB)
        .chain(REPORT)
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

/// What key rotation touches besides IAM, as a desired state configures it: the secrets
/// (by the fixed prefix of each `secret_name` template) and the KMS keys named to encrypt
/// them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RotationScope {
    /// Secret name prefixes, each granted as `secret:PREFIX*`.
    pub secret_prefixes: BTreeSet<String>,
    /// `kms_key_id` values (key ids, key ARNs, aliases, alias ARNs).
    pub kms_keys: BTreeSet<String>,
}

impl Default for RotationScope {
    /// The default template's: `iamctl/`, no KMS key of one's own.
    fn default() -> Self {
        Self {
            secret_prefixes: BTreeSet::from(["iamctl/".to_owned()]),
            kms_keys: BTreeSet::new(),
        }
    }
}

impl RotationScope {
    /// The scope of the rotation tables of `targets` (default when none has one).
    pub fn of(targets: &[TargetPlanInput]) -> Self {
        let specs: Vec<&crate::desired::RotationRules> = targets
            .iter()
            .filter_map(|t| t.rules.access_keys.rotation.as_ref())
            .collect();
        if specs.is_empty() {
            return Self::default();
        }
        Self {
            secret_prefixes: specs
                .iter()
                .map(|s| {
                    s.secret_name
                        .split('{')
                        .next()
                        .unwrap_or_default()
                        .to_owned()
                })
                .collect(),
            kms_keys: specs.iter().filter_map(|s| s.kms_key_id.clone()).collect(),
        }
    }
}

/// The KMS actions Secrets Manager takes on the caller's behalf when the caller writes a
/// secret encrypted with a key of one's own (not calls of iamctl's, so in no list).
pub const KMS_FOR_SECRETS: [&str; 2] = ["kms:Decrypt", "kms:GenerateDataKey"];

/// The IAM policy document (JSON) that grants `need` and nothing else, for the partition
/// `aws`, `aws-cn` or `aws-us-gov`. One statement per service and scope, actions sorted, so
/// the document is stable and diffs well.
pub fn policy_document(need: Need, partition: &str) -> Value {
    policy_document_for(need, partition, &RotationScope::default())
}

/// [`policy_document`] for a desired state's rotation tables: the secrets their templates
/// name, and, for `apply` when a `kms_key_id` is named, `kms:GenerateDataKey` and
/// `kms:Decrypt` on those keys through Secrets Manager only (`kms:ViaService`).
pub fn policy_document_for(need: Need, partition: &str, rotation: &RotationScope) -> Value {
    let users = format!("arn:{partition}:iam::*:user/*");
    let secrets: Vec<String> = rotation
        .secret_prefixes
        .iter()
        .map(|prefix| format!("arn:{partition}:secretsmanager:*:*:secret:{prefix}*"))
        .collect();
    // One resource as a string, as every other statement has it.
    let secrets = match secrets.as_slice() {
        [one] => json!(one),
        _ => json!(secrets),
    };
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
                (Scope::RotationSecrets, _) if need == Need::ReadOnly => {
                    ("IamctlReadRotationSecrets", secrets.clone(), None)
                }
                (Scope::RotationSecrets, _) => ("IamctlDeliverRotatedKeys", secrets.clone(), None),
                (
                    Scope::TargetRoles | Scope::NotifyTopic | Scope::Queue | Scope::SecurityHub,
                    _,
                ) => {
                    unreachable!("only BASE, NOTIFY, WATCH and SECURITY_HUB reach these scopes")
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
    let mut statements = statements;
    if need == Need::Apply {
        statements.extend(kms_statements(partition, &rotation.kms_keys));
    }
    json!({ "Version": "2012-10-17", "Statement": statements })
}

/// `kms:GenerateDataKey` and `kms:Decrypt` for writing secrets encrypted with the named keys:
/// keys named by id or ARN as resources, keys named by alias through `kms:ResourceAliases`;
/// only when Secrets Manager asks (`kms:ViaService`).
fn kms_statements(partition: &str, keys: &BTreeSet<String>) -> Vec<Value> {
    let mut arns = Vec::new();
    let mut aliases = Vec::new();
    for key in keys {
        if let Some(alias) = key
            .split(':')
            .next_back()
            .filter(|k| k.starts_with("alias/"))
        {
            aliases.push(alias.to_owned());
        } else if key.starts_with("arn:") {
            arns.push(key.clone());
        } else {
            arns.push(format!("arn:{partition}:kms:*:*:key/{key}"));
        }
    }
    let via = json!({ "StringLike": { "kms:ViaService": "secretsmanager.*.amazonaws.com" } });
    let mut statements = Vec::new();
    if !arns.is_empty() {
        statements.push(json!({
            "Sid": "IamctlEncryptRotationSecrets",
            "Effect": "Allow",
            "Action": KMS_FOR_SECRETS,
            "Resource": arns,
            "Condition": via,
        }));
    }
    if !aliases.is_empty() {
        let mut condition = via.clone();
        condition["ForAnyValue:StringEquals"] = json!({ "kms:ResourceAliases": aliases });
        statements.push(json!({
            "Sid": "IamctlEncryptRotationSecretsByAlias",
            "Effect": "Allow",
            "Action": KMS_FOR_SECRETS,
            "Resource": format!("arn:{partition}:kms:*:*:key/*"),
            "Condition": condition,
        }));
    }
    statements
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
