//! `iamctl permissions`: the lists of `permissions` rendered as IAM policy documents for one
//! desired state: the read-only or apply policy in a partition, its Secrets Manager and KMS
//! statements scoped by the rotation tables (`RotationScope`), Security Hub's statement, and
//! the base identity's policy for the targets and organization the desired state declares.

use std::collections::BTreeSet;

use serde_json::{Value, json};

use crate::desired::model::OrganizationSpec;
use crate::fleet::TargetPlanInput;
use crate::permissions::{BASE, KMS_FOR_SECRETS, NOTIFY, Need, SECURITY_HUB, Scope, permissions};
use crate::plan::DENY_WITHOUT_MFA_POLICY;

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
                (Scope::Any, "account") => ("IamctlReadAlternateContacts", json!("*"), None),
                (Scope::Any, "access-analyzer") => ("IamctlReadAccessAnalyzer", json!("*"), None),
                (Scope::Any, _) => ("IamctlReadIam", json!("*"), None),
                (Scope::PasswordPolicy, _) => ("IamctlSetPasswordPolicy", json!("*"), None),
                (Scope::Users, _) => ("IamctlManageUserCredentials", json!(users), None),
                (Scope::Trails, _) => ("IamctlCreateTrail", json!(trails), None),
                (Scope::ServerCertificates, _) => (
                    "IamctlDeleteExpiredServerCertificates",
                    json!(format!("arn:{partition}:iam::*:server-certificate/*")),
                    None,
                ),
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
                    Scope::TargetRoles
                    | Scope::NotifyTopic
                    | Scope::Queue
                    | Scope::SecurityHub
                    | Scope::Buckets,
                    _,
                ) => {
                    unreachable!(
                        "only BASE, NOTIFY, WATCH, SECURITY_HUB, S3_READ and LAMBDA reach these scopes"
                    )
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
    use crate::permissions::{APPLY, READ};

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
