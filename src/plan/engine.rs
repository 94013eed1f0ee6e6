//! The diff: what one target's rules ask of its live state, as changes and findings.
//! Pure and deterministic: no I/O, no clock (ages are measured against `as_of`), no SDK types.

use chrono::{DateTime, Duration, Utc};
use serde_json::{Value, json};

use super::model::*;
use crate::desired::model::{KeyAction, OnUnusedConsole, WithoutMfa};
use crate::desired::{PolicyRule, Rules, UserRule};
use crate::state::{AccessKey, AccountState, KeyStatus, LoginProfile, PasswordPolicy, Trail, User};

/// The customer-managed policy that `without_mfa = "deny-until-mfa"` attaches.
pub const DENY_WITHOUT_MFA_POLICY: &str = "iamctl-deny-without-mfa";

pub mod rule {
    //! The `rule` names that changes and findings carry: the desired-state key that asked.
    pub const PASSWORD_POLICY: &str = "password_policy";
    pub const PASSWORD_POLICY_ABSENT: &str = "password_policy.ensure";
    pub const CONSOLE_REQUIRE_MFA: &str = "users.console.require_mfa";
    pub const CONSOLE_MAX_UNUSED: &str = "users.console.max_unused_days";
    pub const CONSOLE_RESET_ON_TIGHTENING: &str = "users.console.reset_on_policy_tightening";
    pub const KEYS_MAX_AGE: &str = "users.access_keys.max_age_days";
    pub const KEYS_MAX_UNUSED: &str = "users.access_keys.max_unused_days";
    pub const KEYS_DELETE_INACTIVE: &str = "users.access_keys.delete_inactive";
    pub const KEYS_MAX_ACTIVE: &str = "users.access_keys.max_active";
    pub const USER: &str = "user";
    pub const USER_CONSOLE: &str = "user.console";
    pub const USER_PASSWORD_RESET: &str = "user.password_reset_required";
    pub const AUDIT_CLOUDTRAIL: &str = "audit.require_cloudtrail";
    pub const AUDIT_CLOUDTRAIL_CREATE: &str = "audit.cloudtrail.create";
}

/// Plans one account: every change `apply` would make and every finding, in a stable order
/// (password policy, then users by name, then CloudTrail).
pub fn plan_account(
    name: &str,
    rules: &Rules,
    live: &AccountState,
    as_of: DateTime<Utc>,
) -> AccountPlan {
    let mut out = Output::default();
    let tightening = plan_password_policy(rules, live, &mut out);

    // Users in name order; a `[[user]]` entry naming no live user is reported in its place.
    let mut subjects: Vec<(&str, Option<&User>)> = live
        .users
        .iter()
        .filter(|u| !rules.exemptions.is_exempt(u))
        .map(|u| (u.name.as_str(), Some(u)))
        .collect();
    let live_names: std::collections::HashSet<&str> =
        live.users.iter().map(|u| u.name.as_str()).collect();
    subjects.extend(
        rules
            .users
            .iter()
            .filter(|r| !live_names.contains(r.name.as_str()))
            .map(|r| (r.name.as_str(), None)),
    );
    subjects.sort_by(|a, b| a.0.cmp(b.0));
    let ctx = Context {
        rules,
        live,
        as_of,
        tightening,
    };
    for (name, user) in subjects {
        match user {
            Some(user) => ctx.plan_user(user, &mut out),
            None => out.finding(
                Address::User(name.to_owned()),
                rule::USER,
                "a [[user]] entry names a user that does not exist".into(),
            ),
        }
    }

    if rules.require_cloudtrail || rules.cloudtrail_create.is_some() {
        plan_cloudtrail(rules, live, &mut out);
    }

    AccountPlan {
        name: name.to_owned(),
        account_id: live.account_id.clone(),
        changes: out.changes,
        findings: out.findings,
        credential_report_generated_at: live.credential_report_generated_at,
        error: None,
    }
}

#[derive(Default)]
struct Output {
    changes: Vec<Change>,
    findings: Vec<Finding>,
}

impl Output {
    fn change(
        &mut self,
        address: Address,
        action: Action,
        rule: &str,
        before: Value,
        after: Value,
    ) {
        self.changes.push(Change {
            address,
            action,
            rule: rule.to_owned(),
            before,
            after,
            attribution: None,
        });
    }

    fn finding(&mut self, address: Address, rule: &str, message: String) {
        self.findings.push(Finding {
            address,
            rule: rule.to_owned(),
            message,
            attribution: None,
        });
    }
}

/// `[audit]`: a finding when no trail watches IAM, or with `[audit.cloudtrail] create`, the
/// change that makes one do so: create the named trail, or put right the named trail that
/// exists (start it, make it multi-region). A trail whose selectors leave out management
/// writes is not rewritten: that stays a finding.
fn plan_cloudtrail(rules: &Rules, live: &AccountState, out: &mut Output) {
    let Some(trails) = &live.trails else {
        out.finding(
            Address::CloudTrail,
            rule::AUDIT_CLOUDTRAIL,
            "trails were not read, so the CloudTrail requirement cannot be verified".into(),
        );
        return;
    };
    if trails.iter().any(Trail::watches_iam) {
        return;
    }
    let Some(spec) = &rules.cloudtrail_create else {
        out.finding(
            Address::CloudTrail,
            rule::AUDIT_CLOUDTRAIL,
            "no multi-region trail is logging management write events: IAM changes are not audited"
                .into(),
        );
        return;
    };
    // A multi-region trail of that name is the one to fix (names are unique per region).
    let own = trails
        .iter()
        .filter(|t| t.name == spec.name)
        .max_by_key(|t| t.is_multi_region);
    match own {
        None => out.change(
            Address::CloudTrail,
            Action::Create,
            rule::AUDIT_CLOUDTRAIL_CREATE,
            Value::Null,
            json!({"name": spec.name, "s3_bucket": spec.s3_bucket, "is_multi_region": true}),
        ),
        Some(trail) if !trail.records_management_writes => out.finding(
            Address::CloudTrail,
            rule::AUDIT_CLOUDTRAIL_CREATE,
            format!(
                "trail {} exists but its event selectors leave out management write events; \
                 iamctl does not rewrite a trail's selectors: record them, or name another trail",
                trail.name
            ),
        ),
        Some(trail) => {
            let state = |is_multi_region: bool, is_logging: bool| {
                json!({"name": trail.name, "home_region": trail.home_region,
                       "is_multi_region": is_multi_region, "is_logging": is_logging})
            };
            out.change(
                Address::CloudTrail,
                Action::Update,
                rule::AUDIT_CLOUDTRAIL_CREATE,
                state(trail.is_multi_region, trail.is_logging),
                state(true, true),
            );
        }
    }
}

/// Plans the password policy; returns whether the plan makes it stricter than it is now.
fn plan_password_policy(rules: &Rules, live: &AccountState, out: &mut Output) -> bool {
    let to_json = |p: &PasswordPolicy| serde_json::to_value(p).expect("a policy serializes");
    match &rules.password_policy {
        None => false,
        Some(PolicyRule::Absent) => {
            if let Some(current) = &live.password_policy {
                out.change(
                    Address::PasswordPolicy,
                    Action::Delete,
                    rule::PASSWORD_POLICY_ABSENT,
                    to_json(current),
                    Value::Null,
                );
            }
            false
        }
        Some(PolicyRule::Present(wanted)) => {
            match &live.password_policy {
                None => out.change(
                    Address::PasswordPolicy,
                    Action::Create,
                    rule::PASSWORD_POLICY,
                    Value::Null,
                    to_json(wanted),
                ),
                Some(current) if current != wanted => out.change(
                    Address::PasswordPolicy,
                    Action::Update,
                    rule::PASSWORD_POLICY,
                    to_json(current),
                    to_json(wanted),
                ),
                Some(_) => {}
            }
            // With no policy, IAM applies its defaults: that is what a new policy tightens.
            let in_force = live
                .password_policy
                .clone()
                .unwrap_or_else(PasswordPolicy::iam_default);
            wanted.is_stricter_than(&in_force)
        }
    }
}

struct Context<'a> {
    rules: &'a Rules,
    live: &'a AccountState,
    as_of: DateTime<Utc>,
    tightening: bool,
}

/// Whole days from `then` to `now` (negative when `then` is in the future).
fn days_between(then: DateTime<Utc>, now: DateTime<Utc>) -> i64 {
    (now - then).num_days()
}

fn older_than(then: DateTime<Utc>, now: DateTime<Utc>, days: i64) -> bool {
    now - then > Duration::days(days)
}

fn profile_json(profile: &LoginProfile, user: &User) -> Value {
    let mut value = json!({
        "created": profile.created,
        "password_reset_required": profile.password_reset_required,
    });
    if let Some(last_used) = user.password_last_used {
        value["password_last_used"] = json!(last_used);
    }
    value
}

fn key_json(key: &AccessKey) -> Value {
    serde_json::to_value(key).expect("a key serializes")
}

impl Context<'_> {
    fn is_caller(&self, user: &User) -> bool {
        self.live
            .caller
            .as_ref()
            .and_then(|c| c.user_name.as_deref())
            == Some(user.name.as_str())
    }

    fn is_caller_key(&self, key: &AccessKey) -> bool {
        self.live
            .caller
            .as_ref()
            .and_then(|c| c.access_key_id.as_deref())
            == Some(key.id.as_str())
    }

    fn plan_user(&self, user: &User, out: &mut Output) {
        let user_rule = self.rules.user_rule(&user.name);
        let keeps_console = self.plan_login_profile(user, user_rule, out);
        self.plan_deny_policy(user, keeps_console, out);
        self.plan_access_keys(user, out);
    }

    /// At most one change to the login profile: delete, create or reset, first reason wins.
    /// Returns whether the user has a console password once the plan is applied.
    fn plan_login_profile(
        &self,
        user: &User,
        user_rule: Option<&UserRule>,
        out: &mut Output,
    ) -> bool {
        let address = || Address::LoginProfile(user.name.clone());
        let console_wanted = user_rule.and_then(|r| r.console);
        let Some(profile) = &user.login_profile else {
            if console_wanted == Some(true) {
                out.change(
                    address(),
                    Action::Create,
                    rule::USER_CONSOLE,
                    Value::Null,
                    json!({ "password_reset_required": true }),
                );
            } else if user_rule.is_some_and(|r| r.password_reset_required) {
                out.finding(
                    Address::User(user.name.clone()),
                    rule::USER_PASSWORD_RESET,
                    "password_reset_required = true, but the user has no console password".into(),
                );
            }
            return console_wanted == Some(true);
        };

        // Reasons to delete, in order of precedence, each with the message used when the
        // deletion is not allowed or not asked for.
        let mut delete: Option<(&str, String)> = None;
        if console_wanted == Some(false) {
            // The profile goes whatever else is true of it: no console finding is worth making.
            delete = Some((rule::USER_CONSOLE, "console = false".into()));
        }
        let console = &self.rules.console;
        // Findings about the profile, made only if the profile stays: a profile the plan
        // deletes is no longer a console without MFA, nor an unused password.
        let mut reports: Vec<(&str, String)> = Vec::new();
        if delete.is_none() && console.require_mfa && !user.has_mfa() {
            let message = "console access without MFA".to_owned();
            match console.without_mfa {
                WithoutMfa::DisableConsole if console_wanted != Some(true) => {
                    delete.get_or_insert((rule::CONSOLE_REQUIRE_MFA, message));
                }
                WithoutMfa::DenyUntilMfa => {} // handled by plan_deny_policy
                _ => reports.push((rule::CONSOLE_REQUIRE_MFA, message)),
            }
        }
        if let Some(days) = console.max_unused_days {
            // A use before the profile was (re)created says nothing about this password.
            let last_use = user
                .password_last_used
                .filter(|used| *used >= profile.created);
            let message = match last_use {
                Some(last) if older_than(last, self.as_of, days) => Some(format!(
                    "console password unused for {} days (limit {days})",
                    days_between(last, self.as_of)
                )),
                None if older_than(profile.created, self.as_of, days) => Some(format!(
                    "console password never used; login profile created {} days ago (limit {days})",
                    days_between(profile.created, self.as_of)
                )),
                _ => None,
            };
            if let Some(message) = message {
                if console.on_unused == OnUnusedConsole::DisableConsole
                    && console_wanted != Some(true)
                {
                    delete.get_or_insert((rule::CONSOLE_MAX_UNUSED, message));
                } else {
                    reports.push((rule::CONSOLE_MAX_UNUSED, message));
                }
            }
        }

        if let Some((rule, reason)) = delete {
            if !self.is_caller(user) {
                out.change(
                    address(),
                    Action::Delete,
                    rule,
                    profile_json(profile, user),
                    Value::Null,
                );
                return false;
            }
            reports.push((
                rule,
                format!("{reason}, but iamctl is signed in as this user: its login profile is left alone"),
            ));
        }
        for (rule, message) in reports {
            out.finding(Address::User(user.name.clone()), rule, message);
        }

        if profile.password_reset_required {
            return true;
        }
        let reset_rule = if user_rule.is_some_and(|r| r.password_reset_required) {
            Some(rule::USER_PASSWORD_RESET)
        } else if self.tightening && console.reset_on_policy_tightening {
            Some(rule::CONSOLE_RESET_ON_TIGHTENING)
        } else {
            None
        };
        if let Some(rule) = reset_rule {
            if self.is_caller(user) {
                out.finding(
                    Address::User(user.name.clone()),
                    rule,
                    "password reset wanted, but iamctl is signed in as this user: its login profile is left alone".into(),
                );
            } else {
                out.change(
                    address(),
                    Action::ResetPassword,
                    rule,
                    json!({ "password_reset_required": false }),
                    json!({ "password_reset_required": true }),
                );
            }
        }
        true
    }

    /// `deny-until-mfa`: attach the deny policy to users without MFA who have (or are about
    /// to get) a console password, detach it once they have MFA.
    fn plan_deny_policy(&self, user: &User, keeps_console: bool, out: &mut Output) {
        let console = &self.rules.console;
        if !(console.require_mfa && console.without_mfa == WithoutMfa::DenyUntilMfa) {
            return;
        }
        let attached = user
            .attached_policies
            .iter()
            .any(|p| p == DENY_WITHOUT_MFA_POLICY);
        let address = || Address::UserPolicy {
            user: user.name.clone(),
            policy: DENY_WITHOUT_MFA_POLICY.to_owned(),
        };
        if keeps_console && !user.has_mfa() && !attached {
            // Keep the caller able to work: the deny policy would cut its own access.
            if self.is_caller(user) {
                out.finding(
                    Address::User(user.name.clone()),
                    rule::CONSOLE_REQUIRE_MFA,
                    "console access without MFA, but iamctl is signed in as this user: no deny policy attached".into(),
                );
            } else {
                out.change(
                    address(),
                    Action::Attach,
                    rule::CONSOLE_REQUIRE_MFA,
                    Value::Null,
                    json!({ "attached": true }),
                );
            }
        } else if user.has_mfa() && attached {
            out.change(
                address(),
                Action::Detach,
                rule::CONSOLE_REQUIRE_MFA,
                json!({ "attached": true }),
                Value::Null,
            );
        }
    }

    fn plan_access_keys(&self, user: &User, out: &mut Output) {
        let key_rules = &self.rules.access_keys;
        let mut keys: Vec<&AccessKey> = user.access_keys.iter().collect();
        keys.sort_by(|a, b| a.id.cmp(&b.id));
        // Active keys this plan deactivates or deletes, so `max_active` judges what remains.
        let mut retired = 0usize;
        for key in &keys {
            let address = || Address::AccessKey {
                user: user.name.clone(),
                key_id: key.id.clone(),
            };
            if key.status == KeyStatus::Inactive {
                if key_rules.delete_inactive && !self.is_caller_key(key) {
                    out.change(
                        address(),
                        Action::Delete,
                        rule::KEYS_DELETE_INACTIVE,
                        key_json(key),
                        Value::Null,
                    );
                }
                continue;
            }
            // Each rule that flags the key, with what it asks for; the strongest action wins.
            let mut flags: Vec<(KeyAction, &str, String)> = Vec::new();
            if let Some(days) = key_rules.max_age_days {
                if older_than(key.created, self.as_of, days) {
                    flags.push((
                        key_rules.on_expired,
                        rule::KEYS_MAX_AGE,
                        format!(
                            "active access key is {} days old (limit {days})",
                            days_between(key.created, self.as_of)
                        ),
                    ));
                }
            }
            if let Some(days) = key_rules.max_unused_days {
                let message = match key.last_used {
                    Some(last) if older_than(last, self.as_of, days) => Some(format!(
                        "active access key unused for {} days (limit {days})",
                        days_between(last, self.as_of)
                    )),
                    None if older_than(key.created, self.as_of, days) => Some(format!(
                        "active access key never used; created {} days ago (limit {days})",
                        days_between(key.created, self.as_of)
                    )),
                    _ => None,
                };
                if let Some(message) = message {
                    flags.push((key_rules.on_unused, rule::KEYS_MAX_UNUSED, message));
                }
            }
            // max_by_key keeps the last of equals; reverse so the first rule wins a tie.
            let strongest = flags.iter().rev().max_by_key(|(action, _, _)| *action);
            match strongest {
                None => {}
                Some((KeyAction::Report, _, _)) => {
                    for (_, rule, message) in &flags {
                        out.finding(address(), rule, message.clone());
                    }
                }
                Some((action, rule, message)) => {
                    if self.is_caller_key(key) {
                        out.finding(
                            address(),
                            rule,
                            format!("{message}, but iamctl is signed with this key: left alone"),
                        );
                    } else if *action == KeyAction::Delete || key_rules.delete_inactive {
                        // A key deactivated now would be deleted by `delete_inactive` on the
                        // next run; deleting it at once keeps "plan after apply is empty".
                        retired += 1;
                        out.change(address(), Action::Delete, rule, key_json(key), Value::Null);
                    } else {
                        retired += 1;
                        out.change(
                            address(),
                            Action::Deactivate,
                            rule,
                            key_json(key),
                            json!({ "status": "Inactive" }),
                        );
                    }
                }
            }
        }
        if let Some(max) = key_rules.max_active {
            let active = keys
                .iter()
                .filter(|k| k.status == KeyStatus::Active)
                .count()
                - retired;
            if i64::try_from(active).unwrap_or(i64::MAX) > max {
                out.finding(
                    Address::User(user.name.clone()),
                    rule::KEYS_MAX_ACTIVE,
                    format!("{active} active access keys (at most {max} allowed)"),
                );
            }
        }
    }
}
