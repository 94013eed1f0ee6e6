//! The IAM permissions iamctl needs, as data: one list for the read-only commands (`plan`,
//! `snapshot`, `import`) and one for what `apply` needs on top, each action with the resources
//! it may touch. `iamctl permissions [--apply]` renders them as an IAM policy document
//! (`ops::permissions`, which reads the desired state; this module reads nothing). A third
//! list, [`BASE`], is what the identity iamctl starts from needs to reach the targets of a
//! multi-account desired state; `iamctl permissions --base` renders it for one desired state.
//! [`SECURITY_HUB`] is what `--security-hub` calls in each target on top of the others
//! (`iamctl permissions [--apply] --security-hub`).
//!
//! Each action is a constant ([`GET_USER`], ...), the one name of its operation in the code:
//! every AWS call is made through `aws::call` with its constant, which debug builds check
//! against the request sent and against these lists. The lists are kept true by
//! `tests/suite/permissions.rs`: every operation a run of `plan`, `snapshot`, `import` and `apply`
//! makes against the emulator must be listed here, and the runs use them all.

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
    /// Server certificates stored in IAM (`arn:PARTITION:iam::*:server-certificate/*`):
    /// `[server_certificates]` deletes expired ones.
    ServerCertificates,
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
    /// S3 buckets named at run time: a report's plan files, the Lambda handler's desired state
    /// (`IAMCTL_DESIRED`) and shard plans (`IAMCTL_RESULTS`). Only in [`S3_READ`] and [`LAMBDA`].
    Buckets,
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
// The other credential kinds and the account controls (live/credentials.rs,
// live/account_controls.rs), each read only when a table asks (`live::ReadSelection`).
pub const LIST_SERVICE_SPECIFIC_CREDENTIALS: Permission = any("iam:ListServiceSpecificCredentials");
pub const LIST_SSH_PUBLIC_KEYS: Permission = any("iam:ListSSHPublicKeys");
pub const LIST_SIGNING_CERTIFICATES: Permission = any("iam:ListSigningCertificates");
pub const LIST_SERVER_CERTIFICATES: Permission = any("iam:ListServerCertificates");
pub const GET_ALTERNATE_CONTACT: Permission = any("account:GetAlternateContact");
pub const LIST_ANALYZERS: Permission = any("access-analyzer:ListAnalyzers");
pub const LIST_ORGANIZATIONS_FEATURES: Permission = any("iam:ListOrganizationsFeatures");
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
/// The other credential kinds' own calls: deactivated or deleted as their tables ask.
pub const UPDATE_SERVICE_SPECIFIC_CREDENTIAL: Permission =
    on("iam:UpdateServiceSpecificCredential", Scope::Users);
pub const DELETE_SERVICE_SPECIFIC_CREDENTIAL: Permission =
    on("iam:DeleteServiceSpecificCredential", Scope::Users);
pub const UPDATE_SSH_PUBLIC_KEY: Permission = on("iam:UpdateSSHPublicKey", Scope::Users);
pub const DELETE_SSH_PUBLIC_KEY: Permission = on("iam:DeleteSSHPublicKey", Scope::Users);
pub const UPDATE_SIGNING_CERTIFICATE: Permission = on("iam:UpdateSigningCertificate", Scope::Users);
pub const DELETE_SIGNING_CERTIFICATE: Permission = on("iam:DeleteSigningCertificate", Scope::Users);
pub const DELETE_SERVER_CERTIFICATE: Permission =
    on("iam:DeleteServerCertificate", Scope::ServerCertificates);
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

/// S3 objects in buckets the user names at run time: plan files read by `iamctl report
/// s3://...` (report/s3.rs); the Lambda handler's desired state under `IAMCTL_DESIRED=s3://...`
/// (listed, then read) and each shard's plan written under `IAMCTL_RESULTS` (lambda.rs).
pub const LIST_BUCKET: Permission = on("s3:ListBucket", Scope::Buckets);
pub const GET_OBJECT: Permission = on("s3:GetObject", Scope::Buckets);
pub const PUT_OBJECT: Permission = on("s3:PutObject", Scope::Buckets);

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
    LIST_SERVICE_SPECIFIC_CREDENTIALS,
    LIST_SSH_PUBLIC_KEYS,
    LIST_SIGNING_CERTIFICATES,
    LIST_SERVER_CERTIFICATES,
    GET_ALTERNATE_CONTACT,
    LIST_ANALYZERS,
    LIST_ORGANIZATIONS_FEATURES,
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
    UPDATE_SERVICE_SPECIFIC_CREDENTIAL,
    DELETE_SERVICE_SPECIFIC_CREDENTIAL,
    UPDATE_SSH_PUBLIC_KEY,
    DELETE_SSH_PUBLIC_KEY,
    UPDATE_SIGNING_CERTIFICATE,
    DELETE_SIGNING_CERTIFICATE,
    DELETE_SERVER_CERTIFICATE,
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

/// S3 objects read where the user points iamctl (a bucket named at run time): the plan files
/// under `iamctl report s3://BUCKET/PREFIX/` (report/s3.rs), and the Lambda handler's desired
/// state under `IAMCTL_DESIRED=s3://...` (lambda.rs). `ListObjectsV2` is authorized as
/// `s3:ListBucket`. With the identity iamctl starts from; not rendered by `iamctl permissions`.
pub const S3_READ: &[Permission] = &[LIST_BUCKET, GET_OBJECT];

/// What the Lambda handler (`--features lambda`) calls with its own role on top of the rest and
/// of [`S3_READ`]: writing shard plans under `IAMCTL_RESULTS`. Granted by the SAM template in
/// examples/events, not rendered by `iamctl permissions`.
pub const LAMBDA: &[Permission] = &[PUT_OBJECT];

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
        .chain(S3_READ)
        .chain(LAMBDA)
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

/// The KMS actions Secrets Manager takes on the caller's behalf when the caller writes a
/// secret encrypted with a key of one's own (not calls of iamctl's, so in no list).
pub const KMS_FOR_SECRETS: [&str; 2] = ["kms:Decrypt", "kms:GenerateDataKey"];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn no_action_is_listed_twice() {
        let mut actions: Vec<&str> = all().map(|p| p.action).collect();
        let count = actions.len();
        actions.sort_unstable();
        actions.dedup();
        assert_eq!(actions.len(), count);
    }
}
