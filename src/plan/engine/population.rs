//! IAM users as a population of audited exceptions: `[users.inventory]` (who may exist at all,
//! `[[users.exception]]` until when), break-glass users (`[[user]] break_glass`, held by
//! `[users.break_glass]`), `[users] require_tags`, and keys made with their console user and
//! never used (`[users.access_keys] forbid_setup_keys`, CIS 1.11).
//!
//! An unlisted user under `on_unlisted = "disable"` is staged as a credential is: found, recorded
//! in the account (`iamctl:unlisted-since`), announced `notice_days` ahead, then disabled (its
//! console password deleted, its access keys deactivated; never the user, its policies or
//! groups). An expired exception makes its user unlisted since the day after `expires`, with no
//! record needed.

use chrono::Duration;

use super::access_keys::key_facts;
use super::{Context, Output, Unaddressed, day};
use crate::desired::model::OnUnlisted;
use crate::desired::{CredentialAction, InventoryRules};
use crate::plan::address::{Action, Address};
use crate::plan::change::{ChangeKind, ProfileFacts};
use crate::plan::lifecycle::within_notice;
use crate::plan::model::{Finding, Notice};
use crate::plan::records::UserRecords;
use crate::plan::rule::Rule;
use crate::state::{KeyStatus, User};

/// A key created this soon after its user, and never used, was made at the user's setup.
const SETUP_WINDOW_MINUTES: i64 = 10;

impl Context<'_> {
    pub(super) fn plan_population(&self, user: &User, out: &mut Output) {
        let population = &self.rules.population;
        if let Some(inventory) = &population.inventory {
            self.plan_inventory(user, inventory, out);
        }
        if population.break_glass.users.contains(&user.name) {
            self.plan_break_glass(user, out);
        }
        let missing: Vec<&str> = population
            .require_tags
            .iter()
            .filter(|key| !user.tags.contains_key(*key))
            .map(String::as_str)
            .collect();
        if !missing.is_empty() {
            out.finding(
                Address::User(user.name.clone()),
                Rule::UsersRequireTags,
                format!("missing the tag keys {}", missing.join(", ")),
            );
        }
        if population.forbid_setup_keys && user.login_profile.is_some() {
            for key in &user.access_keys {
                let after_user = key.created - user.created;
                if key.last_used.is_some()
                    || after_user < Duration::zero()
                    || after_user > Duration::minutes(SETUP_WINDOW_MINUTES)
                {
                    continue;
                }
                let message = format!(
                    "created with its console user ({} minutes after it) and never used",
                    after_user.num_minutes()
                );
                out.key_finding(&user.name, key, Rule::KeysForbidSetupKeys, message);
            }
        }
    }

    fn plan_inventory(&self, user: &User, inventory: &InventoryRules, out: &mut Output) {
        let records = UserRecords::of(&user.tags);
        let address = || Address::User(user.name.clone());
        let forget = |out: &mut Output| {
            if let Some(since) = records.unlisted_since {
                out.change(
                    Rule::UsersInventory,
                    ChangeKind::ForgetUnlisted {
                        user: user.name.clone(),
                        since,
                    },
                );
            }
        };
        if inventory.allows(&user.name) {
            forget(out);
            return;
        }
        let notice_days = inventory.notice_days.unwrap_or(0);
        let disables = inventory.on_unlisted == OnUnlisted::Disable;
        // Until when an exception holds, and since when an expired one left its user unlisted.
        let mut since = None;
        let exception = inventory.exception(&user.name);
        if let Some(exception) = exception {
            let ends = exception.ends();
            if self.as_of < ends {
                forget(out);
                if within_notice(self.as_of, ends, Some(notice_days)) {
                    let then = if disables {
                        format!("then it is unlisted and disabled {notice_days} days later")
                    } else {
                        "then it is reported as unlisted".to_owned()
                    };
                    out.findings.push(Finding {
                        owner: Some(exception.owner.clone()),
                        notice: disables.then_some(Notice {
                            due: ends + Duration::days(notice_days),
                            action: Action::Deactivate,
                        }),
                        ..Finding::new(
                            address(),
                            Rule::UsersException,
                            format!(
                                "the exception for {} ends after {} (owner {}: {}); {then}",
                                user.name, exception.expires, exception.owner, exception.reason
                            ),
                        )
                    });
                }
                return;
            }
            since = Some(ends);
        }
        let holds = holdings(user);
        let what = format!(
            "an IAM user outside [users.inventory] ({holds}){}",
            match exception {
                Some(e) => format!("; its exception ended after {}", e.expires),
                None => String::new(),
            }
        );
        if !disables {
            out.finding(address(), Rule::UsersInventory, what);
            return;
        }
        // Disabled `notice_days` after it was found unlisted (recorded now if it was not).
        let since = match since.or(records.unlisted_since) {
            Some(since) => since,
            None => {
                out.change(
                    Rule::UsersInventory,
                    ChangeKind::RecordUnlisted {
                        user: user.name.clone(),
                        due: self.as_of + Duration::days(notice_days),
                    },
                );
                self.as_of
            }
        };
        let due = since + Duration::days(notice_days);
        if self.as_of < due {
            out.notice(
                address(),
                Rule::UsersInventory,
                due,
                Action::Deactivate,
                format!(
                    "{what}: will be disabled on {} (console password deleted, access keys deactivated)",
                    day(due)
                ),
            );
            return;
        }
        if !self.disable(user, out) {
            out.finding(address(), Rule::UsersInventory, what);
        }
    }

    /// Deletes the user's console password and deactivates its active keys, each unless
    /// another rule already changes it, or it is the caller's. Returns whether anything is
    /// done.
    fn disable(&self, user: &User, out: &mut Output) -> bool {
        let rule = Rule::UsersInventory;
        let mut acted = false;
        if let Some(profile) = &user.login_profile {
            let address = Address::LoginProfile(user.name.clone());
            if self.is_caller(user) {
                out.finding(
                    address,
                    rule,
                    "outside [users.inventory], but iamctl is signed in as this user: its console password is left alone".into(),
                );
            } else if !changes_at(out, &address) {
                out.change(
                    rule,
                    ChangeKind::DeleteLoginProfile {
                        user: user.name.clone(),
                        before: ProfileFacts::of(user, profile),
                    },
                );
                acted = true;
            }
        }
        acted |= self.deactivate_keys(user, rule, "outside [users.inventory]", out);
        acted
    }

    /// Deactivates the user's active keys known by id, unless another rule changes one or it
    /// is the caller's. Returns whether any is.
    fn deactivate_keys(&self, user: &User, rule: Rule, why: &str, out: &mut Output) -> bool {
        let records = UserRecords::of(&user.tags);
        let mut acted = false;
        for key in &user.access_keys {
            if key.status != KeyStatus::Active {
                continue;
            }
            // The key's facts as every key rule sees them (`access_keys::key_facts`).
            let Some(facts) = key_facts(key, &records) else {
                // Known by report slot: its id and use are read, and the user planned again.
                out.unaddressed.push(Unaddressed {
                    user: user.name.clone(),
                    rule,
                    is_change: true,
                    message: format!("{why}: an active access key"),
                });
                continue;
            };
            let address = Address::AccessKey {
                user: user.name.clone(),
                key_id: facts.id.clone(),
            };
            if self.is_caller_key(key) {
                out.finding(
                    address,
                    rule,
                    format!("{why}, but iamctl is signed with this key: left alone"),
                );
                continue;
            }
            if changes_at(out, &address) {
                continue;
            }
            out.change(
                rule,
                ChangeKind::DeactivateAccessKey {
                    user: user.name.clone(),
                    key: facts,
                    if_still_unused: false,
                    delete_on: None,
                },
            );
            acted = true;
        }
        acted
    }

    /// A break-glass user: physical MFA, no access key, only the allowed policies, and a
    /// recent sign-in is an incident.
    fn plan_break_glass(&self, user: &User, out: &mut Output) {
        let glass = &self.rules.population.break_glass;
        let address = || Address::User(user.name.clone());
        match user.mfa_devices.as_slice() {
            [] => out.finding(
                address(),
                Rule::BreakGlassMfa,
                "break-glass user without MFA: it needs a hardware token or a FIDO security key"
                    .into(),
            ),
            devices => {
                let kinds: Vec<_> = devices.iter().filter_map(|d| d.kind).collect();
                if kinds.len() == devices.len() && !kinds.iter().any(|k| k.is_physical()) {
                    out.finding(
                        address(),
                        Rule::BreakGlassMfa,
                        "break-glass user with a virtual MFA device only: it needs a hardware token or a FIDO security key".into(),
                    );
                }
            }
        }
        match glass.on_access_key {
            CredentialAction::Report => {
                for key in user
                    .access_keys
                    .iter()
                    .filter(|k| k.status == KeyStatus::Active)
                {
                    out.key_finding(
                        &user.name,
                        key,
                        Rule::BreakGlassAccessKey,
                        "an active access key on a break-glass user".to_owned(),
                    );
                }
            }
            CredentialAction::Deactivate | CredentialAction::Delete => {
                self.deactivate_keys(
                    user,
                    Rule::BreakGlassAccessKey,
                    "an active access key on a break-glass user",
                    out,
                );
            }
        }
        let other: Vec<&str> = user
            .attached_policies
            .iter()
            .filter(|p| !glass.allowed_policies.contains(p))
            .chain(&user.inline_policies)
            .map(String::as_str)
            .collect();
        if !other.is_empty() {
            out.finding(
                address(),
                Rule::BreakGlassPolicies,
                format!(
                    "break-glass user holds policies beyond {}: {}",
                    glass.allowed_policies.join(", "),
                    other.join(", ")
                ),
            );
        }
        if let Some(used) = user.password_last_used {
            if self.as_of - used <= Duration::days(glass.max_used_days) {
                out.finding(
                    address(),
                    Rule::BreakGlassUsed,
                    format!(
                        "break-glass user used on {}: an incident until someone says it was a drill",
                        day(used)
                    ),
                );
            }
        }
    }
}

/// What an unlisted user holds, in words.
fn holdings(user: &User) -> String {
    let keys = user
        .access_keys
        .iter()
        .filter(|k| k.status == KeyStatus::Active)
        .count();
    match (user.login_profile.is_some(), keys) {
        (true, 0) => "a console password".to_owned(),
        (true, n) => format!("a console password and {n} active access key(s)"),
        (false, 0) => "no console password or active key".to_owned(),
        (false, n) => format!("{n} active access key(s)"),
    }
}

/// Whether a change at `address` is already planned (one address gets at most one change).
fn changes_at(out: &Output, address: &Address) -> bool {
    out.changes.iter().any(|c| &c.address() == address)
}
