//! The users of an account from `GetAccountAuthorizationDetails` (Filter=User): names,
//! creation dates, tags and attached managed policies, a thousand users per call.

use std::collections::BTreeMap;

use aws_sdk_iam::types::EntityType;

use super::to_utc;
use crate::aws::{AccountClients, AwsError, call};
use crate::permissions::GET_ACCOUNT_AUTHORIZATION_DETAILS;
use crate::state::User;

/// IAM's largest page.
const PAGE_SIZE: i32 = 1000;

/// Every IAM user, sorted by name, with none of the per-user facts read yet.
pub(crate) async fn read_users(clients: &AccountClients) -> Result<Vec<User>, AwsError> {
    let mut pages = clients
        .iam
        .get_account_authorization_details()
        .filter(EntityType::User)
        .into_paginator()
        .page_size(PAGE_SIZE)
        .send();
    let mut users = BTreeMap::new();
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
            let user = User {
                name: name.to_owned(),
                arn: detail.arn().unwrap_or_default().to_owned(),
                created: to_utc(created),
                tags: detail
                    .tags()
                    .iter()
                    .map(|t| (t.key().to_owned(), t.value().to_owned()))
                    .collect(),
                login_profile: None,
                password_last_used: None,
                mfa_devices: vec![],
                access_keys: vec![],
                attached_policies: {
                    let mut names: Vec<String> = detail
                        .attached_managed_policies()
                        .iter()
                        .filter_map(|p| p.policy_name())
                        .map(str::to_owned)
                        .collect();
                    names.sort();
                    names
                },
            };
            users.insert(user.name.clone(), user);
        }
    }
    Ok(users.into_values().collect())
}
