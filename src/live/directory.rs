//! The account's principals from `GetAccountAuthorizationDetails`: users (names, creation
//! dates, tags, attached and inline policies), and for the policy rules groups, roles and the
//! customer-managed policies, a thousand entries per call. One paginated read: the policy
//! rules add entity types to its `Filter`, not calls per user.

use std::collections::{BTreeMap, BTreeSet};

use aws_sdk_iam::types::{AttachedPolicy, EntityType, PolicyDetail};

use super::grants::{allows_everything, grants, is_full_admin_aws_policy};
use super::to_utc;
use crate::aws::{AccountClients, AwsError, call};
use crate::permissions::GET_ACCOUNT_AUTHORIZATION_DETAILS;
use crate::state::{Grantee, User};

/// IAM's largest page.
const PAGE_SIZE: i32 = 1000;

/// What to read besides the users.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct Want {
    pub users: bool,
    /// Users' inline policies, groups, roles and the customer-managed policies, with what
    /// each policy allows.
    pub policies: bool,
    /// Roles only (the support role), when `policies` is not wanted.
    pub roles: bool,
}

impl Want {
    pub fn any(self) -> bool {
        self.users || self.policies || self.roles
    }
}

/// What the read found. `groups` and `roles` are `None` when they were not asked for.
#[derive(Debug, Default)]
pub(crate) struct Directory {
    pub users: Vec<User>,
    pub groups: Option<Vec<Grantee>>,
    pub roles: Option<Vec<Grantee>>,
    /// Customer-managed policies whose default version allows every action of a service
    /// (`"s3:*"`), by name; `None` when policies were not read.
    pub service_wildcard_policies: Option<Vec<String>>,
}

/// A principal's policies before the customer-managed ones are judged.
struct Raw {
    name: String,
    attached: Vec<(String, String)>,
    /// Inline policies: name, and whether its document allows everything.
    inline: Vec<(String, bool)>,
}

/// Reads what `want` asks for; users sorted by name, with none of the per-user facts read.
pub(crate) async fn read(clients: &AccountClients, want: Want) -> Result<Directory, AwsError> {
    let mut filters = Vec::new();
    if want.users {
        filters.push(EntityType::User);
    }
    if want.policies {
        filters.extend([
            EntityType::Group,
            EntityType::Role,
            EntityType::LocalManagedPolicy,
        ]);
    } else if want.roles {
        filters.push(EntityType::Role);
    }
    let mut pages = clients
        .iam
        .get_account_authorization_details()
        .set_filter(Some(filters))
        .into_paginator()
        .page_size(PAGE_SIZE)
        .send();
    let mut users: BTreeMap<String, (User, Raw)> = BTreeMap::new();
    let mut groups = Vec::new();
    let mut roles = Vec::new();
    // Customer-managed policies (by ARN) whose default version allows everything.
    let mut full_admin_local: BTreeSet<String> = BTreeSet::new();
    let mut service_wildcards: BTreeSet<String> = BTreeSet::new();
    while let Some(page) = call(
        &clients.target,
        GET_ACCOUNT_AUTHORIZATION_DETAILS,
        pages.try_next(),
    )
    .await?
    {
        for detail in page.user_detail_list() {
            let (Some(name), Some(created)) = (detail.user_name(), detail.create_date()) else {
                continue;
            };
            let mut user = User::new(name, to_utc(created));
            user.arn = detail.arn().unwrap_or_default().to_owned();
            user.tags = detail
                .tags()
                .iter()
                .map(|t| (t.key().to_owned(), t.value().to_owned()))
                .collect();
            let raw = raw(
                name,
                detail.attached_managed_policies(),
                detail.user_policy_list(),
            );
            user.attached_policies = raw.attached.iter().map(|(n, _)| n.clone()).collect();
            user.attached_policies.sort();
            users.insert(user.name.clone(), (user, raw));
        }
        for detail in page.group_detail_list() {
            if let Some(name) = detail.group_name() {
                groups.push(raw(
                    name,
                    detail.attached_managed_policies(),
                    detail.group_policy_list(),
                ));
            }
        }
        for detail in page.role_detail_list() {
            if let Some(name) = detail.role_name() {
                roles.push(raw(
                    name,
                    detail.attached_managed_policies(),
                    detail.role_policy_list(),
                ));
            }
        }
        for policy in page.policies() {
            // Only the default version is in force.
            let default = policy
                .policy_version_list()
                .iter()
                .find(|v| v.is_default_version());
            if let (Some(arn), Some(document)) = (policy.arn(), default.and_then(|v| v.document()))
            {
                let grants = grants(document);
                if grants.everything {
                    full_admin_local.insert(arn.to_owned());
                }
                if grants.service_wildcard {
                    // The name, or the ARN's last part (moto's details leave `PolicyName` out).
                    let name = policy
                        .policy_name()
                        .or_else(|| arn.rsplit('/').next())
                        .unwrap_or(arn);
                    service_wildcards.insert(name.to_owned());
                }
            }
        }
    }
    let judge = |raw: &Raw| -> Vec<String> {
        let mut names: Vec<String> = raw
            .attached
            .iter()
            .filter(|(_, arn)| is_full_admin_aws_policy(arn) || full_admin_local.contains(arn))
            .map(|(name, _)| name.clone())
            .chain(
                raw.inline
                    .iter()
                    .filter(|(_, all)| *all)
                    .map(|(name, _)| name.clone()),
            )
            .collect();
        names.sort();
        names.dedup();
        names
    };
    let grantees = |list: Vec<Raw>| -> Vec<Grantee> {
        let mut out: Vec<Grantee> = list
            .iter()
            .map(|raw| Grantee {
                name: raw.name.clone(),
                attached_policy_arns: raw.attached.iter().map(|(_, arn)| arn.clone()).collect(),
                full_admin_policies: judge(raw),
            })
            .collect();
        out.sort_by(|a, b| a.name.cmp(&b.name));
        out
    };
    let users = users
        .into_values()
        .map(|(mut user, raw)| {
            if want.policies {
                user.inline_policies = raw.inline.iter().map(|(n, _)| n.clone()).collect();
                user.inline_policies.sort();
                user.full_admin_policies = judge(&raw);
            }
            user
        })
        .collect();
    Ok(Directory {
        users,
        groups: want.policies.then(|| grantees(groups)),
        roles: (want.policies || want.roles).then(|| grantees(roles)),
        service_wildcard_policies: want
            .policies
            .then(|| service_wildcards.into_iter().collect()),
    })
}

fn raw(name: &str, attached: &[AttachedPolicy], inline: &[PolicyDetail]) -> Raw {
    Raw {
        name: name.to_owned(),
        attached: attached
            .iter()
            .filter_map(|p| Some((p.policy_name()?.to_owned(), p.policy_arn()?.to_owned())))
            .collect(),
        inline: inline
            .iter()
            .filter_map(|p| {
                Some((
                    p.policy_name()?.to_owned(),
                    p.policy_document().is_some_and(allows_everything),
                ))
            })
            .collect(),
    }
}
