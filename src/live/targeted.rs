//! The read behind a targeted plan (`--target`, `--event`): only what the targets' plan items
//! need, each user read directly, without the credential report or
//! `GetAccountAuthorizationDetails`. A named user costs at most eight IAM calls whatever the
//! account's size: `GetAccountPasswordPolicy` (always: a policy tightening decides the users'
//! `reset_password`, and new console passwords must meet it), `GetUser` (creation, tags, the
//! password's last use), `ListAttachedUserPolicies` (with deny-until-MFA on),
//! `GetLoginProfile`, `ListMFADevices`, `ListAccessKeys` and `GetAccessKeyLastUsed` for each of
//! at most two keys, each only when some rule reads it.
//!
//! A selected password policy that tightens, with `reset_on_policy_tightening` on, needs every
//! console user for the resets that go with it: the account's users and the credential report
//! are read in bulk then (3 calls more), and users the report does not know yet directly.
//!
//! With their tables set, the users' other credentials are read as a full read reads them
//! (`live/credentials.rs`: service-specific credentials in one bulk call per service, SSH keys
//! and signing certificates per user read here) and the server certificates in one call.
//!
//! Globs over user names (`user.bob*`) list the account's users first (`ListUsers`, a thousand
//! a call). When they select more than [`MAX_DIRECT_USERS`] users, reading each directly would
//! cost more than the bulk read, which is made instead (the plan is restricted all the same).

use std::collections::BTreeSet;

use futures::{StreamExt, TryStreamExt};

use super::concern::{self, Facts};
use super::user_reads::{LastUsedPolicy, Reader, UserRequest};
use super::{account, cloudtrail, credential_report, directory, to_utc};
use crate::aws::{AccountClients, AwsError, ErrorCode, call};
use crate::desired::Rules;
use crate::permissions::{GET_USER, LIST_ATTACHED_USER_POLICIES, LIST_USERS};
use crate::plan::{Targets, UserSelection};
use crate::state::{AccountState, User};

/// Above this many selected users, the bulk read is cheaper than direct reads.
pub const MAX_DIRECT_USERS: usize = 25;

/// Reads what `targets` need of the account behind `clients`. `None`: the targets select more
/// than [`MAX_DIRECT_USERS`] users, and the caller makes the bulk read instead.
pub(crate) async fn read(
    clients: &AccountClients,
    rules: &Rules,
    targets: &Targets,
    concurrency: usize,
) -> Result<Option<AccountState>, AwsError> {
    let needs_trails = targets.wants_cloudtrail()
        && (rules.require_cloudtrail || rules.cloudtrail_create.is_some());
    let users_wanted = rules.concerns_users();
    let (identity, password_policy, names, trails) = futures::try_join!(
        account::read_identity(clients),
        account::read_password_policy(clients),
        async {
            if !users_wanted {
                return Ok(Some(BTreeSet::new()));
            }
            match targets.users() {
                UserSelection::Named(names) => Ok(Some(names)),
                UserSelection::Matching => {
                    let names = list_user_names(clients).await?;
                    let selected: BTreeSet<String> = names
                        .into_iter()
                        .filter(|name| targets.may_select_user(name))
                        .collect();
                    Ok((selected.len() <= MAX_DIRECT_USERS).then_some(selected))
                }
            }
        },
        async {
            if needs_trails {
                cloudtrail::read_trails(clients).await.map(Some)
            } else {
                Ok(None)
            }
        },
    )?;
    let Some(names) = names else {
        tracing::debug!(account = %clients.target, "targets select many users: bulk read");
        return Ok(None);
    };

    // A selected password policy that tightens carries the resets of every console user
    // (`Targets::restrict`). Resets need no confirmation, so the bulk reads tell who they are;
    // users the credential report does not know yet are read directly, with the named ones.
    let mut names = names;
    let console_users = if targets.reads_console_users(rules, password_policy.as_ref()) {
        let (directory, report) = futures::try_join!(
            directory::read(
                clients,
                directory::Want {
                    users: true,
                    ..Default::default()
                }
            ),
            credential_report::fetch(clients),
        )?;
        let mut users = directory.users;
        let in_report = report.apply_to(&mut users);
        names.extend(
            users
                .iter()
                .filter(|u| !in_report.contains(&u.name))
                .map(|u| u.name.clone()),
        );
        Some((users, report.generated_at))
    } else {
        None
    };

    let users: Vec<User> = futures::stream::iter(names)
        .map(|name| read_user(clients, rules, name))
        .buffer_unordered(concurrency.max(1))
        .try_filter_map(|user| async move { Ok(user) })
        .try_collect()
        .await?;
    let mut state = AccountState {
        caller: Some(identity.caller),
        password_policy,
        users,
        trails,
        ..AccountState::new(identity.account_id)
    };
    // In name order, as the facts read are matched to their users.
    state.users.sort_by(|a, b| a.name.cmp(&b.name));
    read_user_facts(clients, rules, &mut state, concurrency).await?;
    // The other credential kinds of the users read, as the full read gets them (service
    // credentials and server certificates in bulk, the rest per user read here).
    let selection = super::ReadSelection::of(rules);
    if !selection.is_empty() {
        super::credentials::read(
            clients,
            &selection,
            None,
            &BTreeSet::new(),
            concurrency,
            &mut state,
        )
        .await?;
        super::account_controls::read(clients, &selection, &mut state).await?;
    }
    if let Some((reported, generated_at)) = console_users {
        // Users read directly keep their direct facts; the others are the report's.
        let direct: BTreeSet<String> = state.users.iter().map(|u| u.name.clone()).collect();
        state
            .users
            .extend(reported.into_iter().filter(|u| !direct.contains(&u.name)));
        state.users.sort_by(|a, b| a.name.cmp(&b.name));
        state.credential_report_generated_at = generated_at;
    }
    Ok(Some(state))
}

/// `GetUser` and, when the deny-until-MFA rule is on, the user's attached policies. `None`:
/// no such user.
async fn read_user(
    clients: &AccountClients,
    rules: &Rules,
    name: String,
) -> Result<Option<User>, AwsError> {
    let request = clients.iam.get_user().user_name(&name).send();
    let out = match call(&clients.target, GET_USER, request).await {
        Ok(out) => out,
        Err(err) if err.is(ErrorCode::NoSuchEntity) => return Ok(None),
        Err(err) => return Err(err),
    };
    let Some(found) = out.user() else {
        return Ok(None);
    };
    let mut user = User::new(found.user_name(), to_utc(found.create_date()));
    user.arn = found.arn().to_owned();
    user.tags = found
        .tags()
        .iter()
        .map(|t| (t.key().to_owned(), t.value().to_owned()))
        .collect();
    user.password_last_used = found.password_last_used().map(to_utc);
    if rules.exemptions.is_exempt(&user) || !concern::deny_rule_on(rules) {
        return Ok(Some(user));
    }
    let mut pages = clients
        .iam
        .list_attached_user_policies()
        .user_name(user.name.clone())
        .into_paginator()
        .send();
    loop {
        let page = match call(
            &clients.target,
            LIST_ATTACHED_USER_POLICIES,
            pages.try_next(),
        )
        .await
        {
            Ok(Some(page)) => page,
            Ok(None) => break,
            // Deleted since `GetUser`.
            Err(err) if err.is(ErrorCode::NoSuchEntity) => return Ok(None),
            Err(err) => return Err(err),
        };
        user.attached_policies.extend(
            page.attached_policies()
                .iter()
                .filter_map(|p| p.policy_name())
                .map(str::to_owned),
        );
    }
    user.attached_policies.sort();
    Ok(Some(user))
}

/// Every fact the rules read of each user that is not exempt, directly: the plan made from
/// this state needs no confirmation round.
async fn read_user_facts(
    clients: &AccountClients,
    rules: &Rules,
    state: &mut AccountState,
    concurrency: usize,
) -> Result<(), AwsError> {
    let account_wide = Facts::read_by_user_rules(rules);
    let deny_rule = concern::deny_rule_on(rules);
    let requests: Vec<UserRequest> = state
        .users
        .iter()
        .filter(|u| !rules.exemptions.is_exempt(u))
        .filter_map(|user| {
            let mut want = account_wide;
            if rules.user_rule(&user.name).is_some() {
                want |= Facts::PROFILE;
            }
            let deny_attached = deny_rule && concern::carries_deny_policy(user);
            if deny_attached {
                want |= Facts::PROFILE | Facts::MFA;
            }
            // `GetUser` gave the password's last use already.
            let want = want.without(Facts::PASSWORD_LAST_USED);
            (!want.is_empty()).then(|| UserRequest {
                name: user.name.clone(),
                want,
                login_profile: false,
                deny_policy_attached: deny_attached,
                report_keys: Vec::new(),
                // A rotation stopped half-way is cleaned up by a full plan, which reads the
                // secret; a targeted plan reports it instead (see `plan::rotation`).
                rotation_secret: None,
                successors: crate::plan::rotation::records(user)
                    .into_iter()
                    .filter_map(|(old, record)| match record {
                        crate::plan::RotationRecord::Rotated { to, .. } => Some((old, to)),
                        crate::plan::RotationRecord::Pending { .. } => None,
                    })
                    .collect(),
            })
        })
        .collect();
    let reader = Reader {
        clients,
        // The bulk read's plan shows the report's last use of every key a rule reads; a
        // direct read shows the same fact, fresher.
        last_used: LastUsedPolicy::Always,
        young_profiles: None,
        mfa_always: false,
    };
    for facts in reader.read_users(requests, concurrency).await? {
        facts.apply_to(&mut state.users);
    }
    Ok(())
}

/// `ListUsers`: the names of every user of the account.
async fn list_user_names(clients: &AccountClients) -> Result<Vec<String>, AwsError> {
    let mut pages = clients
        .iam
        .list_users()
        .into_paginator()
        .page_size(1000)
        .send();
    let mut names = Vec::new();
    while let Some(page) = call(&clients.target, LIST_USERS, pages.try_next()).await? {
        names.extend(page.users().iter().map(|u| u.user_name().to_owned()));
    }
    Ok(names)
}
