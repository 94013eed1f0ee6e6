//! The diff: what one target's rules ask of its live state, as changes and findings.
//! Pure and deterministic: no I/O, no clock (ages are measured against `as_of`), no SDK types.

use chrono::{DateTime, Duration, Utc};

use super::change::*;
use super::model::*;
use super::rule::Rule;
use crate::desired::model::{KeyAction, OnUnusedConsole, WithoutMfa};
use crate::desired::{PolicyRule, Rules, UserRule};
use crate::state::{AccessKey, AccountState, KeyStatus, PasswordPolicy, Trail, User};

/// What a key rule asks for. The plan keeps the strongest of what the rules flagging one key
/// ask; the order is stated here, not borrowed from the order of the TOML model's variants.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum KeyEnforcement {
    Report,
    Deactivate,
    Delete,
}

impl KeyEnforcement {
    pub(crate) fn strength(self) -> u8 {
        match self {
            KeyEnforcement::Report => 0,
            KeyEnforcement::Deactivate => 1,
            KeyEnforcement::Delete => 2,
        }
    }
}

impl From<KeyAction> for KeyEnforcement {
    fn from(action: KeyAction) -> Self {
        match action {
            KeyAction::Report => KeyEnforcement::Report,
            KeyAction::Deactivate => KeyEnforcement::Deactivate,
            KeyAction::Delete => KeyEnforcement::Delete,
        }
    }
}

/// A plan item about an access key known only from the credential report (a
/// [`KeyId::ReportSlot`]): it cannot be addressed until the user's keys are listed. `live/`
/// reads them and plans again; [`plan_account`] reports what is left as a finding about the
/// user, so nothing is dropped silently.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Unaddressed {
    pub(crate) user: String,
    pub(crate) rule: Rule,
    /// A change would be made (not only a finding): the key's use must be confirmed too.
    pub(crate) is_change: bool,
    pub(crate) message: String,
}

/// Plans one account: every change `apply` would make and every finding, in a stable order
/// (password policy, then users by name, then CloudTrail).
pub fn plan_account(
    name: &str,
    rules: &Rules,
    live: &AccountState,
    as_of: DateTime<Utc>,
) -> AccountPlan {
    let (mut plan, unaddressed) = plan_account_provisional(name, rules, live, as_of);
    for item in unaddressed {
        plan.findings.push(Finding {
            address: Address::User(item.user),
            rule: item.rule,
            message: format!(
                "{} (an access key known only from the credential report: its id was not read, so nothing is done about it)",
                item.message
            ),
            attribution: None,
        });
    }
    plan
}

/// [`plan_account`], with the items about keys known only from the credential report set
/// apart, for the reads that confirm them.
pub(crate) fn plan_account_provisional(
    name: &str,
    rules: &Rules,
    live: &AccountState,
    as_of: DateTime<Utc>,
) -> (AccountPlan, Vec<Unaddressed>) {
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
                Rule::User,
                "a [[user]] entry names a user that does not exist".into(),
            ),
        }
    }

    if rules.require_cloudtrail || rules.cloudtrail_create.is_some() {
        plan_cloudtrail(rules, live, &mut out);
    }
    out.findings.extend(super::compliance::account_findings(
        &rules.compliance,
        live,
        as_of,
    ));

    let plan = AccountPlan {
        name: name.to_owned(),
        account_id: live.account_id.clone(),
        changes: out.changes,
        findings: out.findings,
        credential_report_generated_at: live.credential_report_generated_at,
        error: None,
    };
    (plan, out.unaddressed)
}

#[derive(Default)]
struct Output {
    changes: Vec<Change>,
    findings: Vec<Finding>,
    unaddressed: Vec<Unaddressed>,
}

impl Output {
    fn change(&mut self, rule: Rule, kind: ChangeKind) {
        self.changes.push(Change::new(rule, kind));
    }

    fn finding(&mut self, address: Address, rule: Rule, message: String) {
        self.findings.push(Finding {
            address,
            rule,
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
            Rule::AuditCloudTrail,
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
            Rule::AuditCloudTrail,
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
            Rule::AuditCloudTrailCreate,
            ChangeKind::CreateTrail {
                trail: NewTrail {
                    name: spec.name.clone(),
                    s3_bucket: spec.s3_bucket.clone(),
                },
            },
        ),
        Some(trail) if !trail.records_management_writes => out.finding(
            Address::CloudTrail,
            Rule::AuditCloudTrailCreate,
            format!(
                "trail {} exists but its event selectors leave out management write events; \
                 iamctl does not rewrite a trail's selectors: record them, or name another trail",
                trail.name
            ),
        ),
        Some(trail) => {
            let settings = |is_multi_region: bool, is_logging: bool| TrailSettings {
                name: trail.name.clone(),
                home_region: trail.home_region.clone(),
                is_multi_region,
                is_logging,
            };
            out.change(
                Rule::AuditCloudTrailCreate,
                ChangeKind::UpdateTrail {
                    before: settings(trail.is_multi_region, trail.is_logging),
                    after: settings(true, true),
                },
            );
        }
    }
}

/// Plans the password policy; returns whether the plan makes it stricter than it is now.
fn plan_password_policy(rules: &Rules, live: &AccountState, out: &mut Output) -> bool {
    match &rules.password_policy {
        None => false,
        Some(PolicyRule::Absent) => {
            if let Some(current) = &live.password_policy {
                out.change(
                    Rule::PasswordPolicyAbsent,
                    ChangeKind::DeletePasswordPolicy {
                        before: current.clone(),
                    },
                );
            }
            false
        }
        Some(PolicyRule::Present(wanted)) => {
            match &live.password_policy {
                None => out.change(
                    Rule::PasswordPolicy,
                    ChangeKind::CreatePasswordPolicy {
                        after: wanted.clone(),
                    },
                ),
                Some(current) if current != wanted => out.change(
                    Rule::PasswordPolicy,
                    ChangeKind::UpdatePasswordPolicy {
                        before: current.clone(),
                        after: wanted.clone(),
                    },
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

/// A key's facts, for a change acting on it: only a key with an IAM id can be acted on.
fn key_facts(key: &AccessKey) -> Option<KeyFacts> {
    Some(KeyFacts {
        id: key.id.iam()?.clone(),
        status: key.status,
        created: key.created,
        last_used: key.last_used,
    })
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
        let caller_key = self
            .live
            .caller
            .as_ref()
            .and_then(|c| c.access_key_id.as_deref());
        matches!((caller_key, key.id.iam()), (Some(caller), Some(id)) if id == caller)
    }

    fn plan_user(&self, user: &User, out: &mut Output) {
        let user_rule = self.rules.user_rule(&user.name);
        let keeps_console = self.plan_login_profile(user, user_rule, out);
        self.plan_deny_policy(user, keeps_console, out);
        self.plan_access_keys(user, out);
        for (rule, message) in super::compliance::user_findings(&self.rules.compliance, user) {
            out.finding(Address::User(user.name.clone()), rule, message);
        }
    }

    /// At most one change to the login profile: delete, create or reset, first reason wins.
    /// Returns whether the user has a console password once the plan is applied.
    fn plan_login_profile(
        &self,
        user: &User,
        user_rule: Option<&UserRule>,
        out: &mut Output,
    ) -> bool {
        let console_wanted = user_rule.and_then(|r| r.console);
        let Some(profile) = &user.login_profile else {
            if console_wanted == Some(true) {
                out.change(
                    Rule::UserConsole,
                    ChangeKind::CreateLoginProfile {
                        user: user.name.clone(),
                    },
                );
            } else if user_rule.is_some_and(|r| r.password_reset_required) {
                out.finding(
                    Address::User(user.name.clone()),
                    Rule::UserPasswordReset,
                    "password_reset_required = true, but the user has no console password".into(),
                );
            }
            return console_wanted == Some(true);
        };

        // Reasons to delete, in order of precedence, each with the message used when the
        // deletion is not allowed or not asked for.
        let mut delete: Option<(Rule, String)> = None;
        if console_wanted == Some(false) {
            // The profile goes whatever else is true of it: no console finding is worth making.
            delete = Some((Rule::UserConsole, "console = false".into()));
        }
        let console = &self.rules.console;
        // Findings about the profile, made only if the profile stays: a profile the plan
        // deletes is no longer a console without MFA, nor an unused password.
        let mut reports: Vec<(Rule, String)> = Vec::new();
        if delete.is_none() && console.require_mfa && !user.has_mfa() {
            let message = "console access without MFA".to_owned();
            match console.without_mfa {
                WithoutMfa::DisableConsole if console_wanted != Some(true) => {
                    delete.get_or_insert((Rule::ConsoleRequireMfa, message));
                }
                WithoutMfa::DenyUntilMfa => {} // handled by plan_deny_policy
                WithoutMfa::Report | WithoutMfa::DisableConsole => {
                    reports.push((Rule::ConsoleRequireMfa, message))
                }
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
                    delete.get_or_insert((Rule::ConsoleMaxUnused, message));
                } else {
                    reports.push((Rule::ConsoleMaxUnused, message));
                }
            }
        }

        if let Some((rule, reason)) = delete {
            if !self.is_caller(user) {
                out.change(
                    rule,
                    ChangeKind::DeleteLoginProfile {
                        user: user.name.clone(),
                        before: ProfileFacts {
                            created: profile.created,
                            password_reset_required: profile.password_reset_required,
                            password_last_used: user.password_last_used,
                        },
                    },
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
            Some(Rule::UserPasswordReset)
        } else if self.tightening && console.reset_on_policy_tightening {
            Some(Rule::ConsoleResetOnTightening)
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
                    rule,
                    ChangeKind::ResetPassword {
                        user: user.name.clone(),
                        with_tightening: rule == Rule::ConsoleResetOnTightening,
                    },
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
        if keeps_console && !user.has_mfa() && !attached {
            // Keep the caller able to work: the deny policy would cut its own access.
            if self.is_caller(user) {
                out.finding(
                    Address::User(user.name.clone()),
                    Rule::ConsoleRequireMfa,
                    "console access without MFA, but iamctl is signed in as this user: no deny policy attached".into(),
                );
            } else {
                out.change(
                    Rule::ConsoleRequireMfa,
                    ChangeKind::AttachDenyPolicy {
                        user: user.name.clone(),
                    },
                );
            }
        } else if user.has_mfa() && attached {
            out.change(
                Rule::ConsoleRequireMfa,
                ChangeKind::DetachDenyPolicy {
                    user: user.name.clone(),
                },
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
            // A key known only from the credential report has no id to address it by: what a
            // rule would do about it waits until its id is read.
            let Some(facts) = key_facts(key) else {
                let mut unaddressed = |rule: Rule, is_change: bool, message: String| {
                    out.unaddressed.push(Unaddressed {
                        user: user.name.clone(),
                        rule,
                        is_change,
                        message,
                    })
                };
                if key.status == KeyStatus::Inactive {
                    if key_rules.delete_inactive {
                        unaddressed(Rule::KeysDeleteInactive, true, "inactive access key".into());
                    }
                    continue;
                }
                let flags = self.key_flags(key);
                let acts = flags
                    .iter()
                    .any(|(action, _, _)| *action != KeyEnforcement::Report);
                for (_, rule, message) in flags {
                    unaddressed(rule, acts, message);
                }
                continue;
            };
            let address = || Address::AccessKey {
                user: user.name.clone(),
                key_id: facts.id.clone(),
            };
            if key.status == KeyStatus::Inactive {
                if key_rules.delete_inactive && !self.is_caller_key(key) {
                    out.change(
                        Rule::KeysDeleteInactive,
                        ChangeKind::DeleteAccessKey {
                            user: user.name.clone(),
                            key: facts,
                            if_still_unused: false,
                        },
                    );
                }
                continue;
            }
            let flags = self.key_flags(key);
            // The strongest action wins; of equals, the first rule.
            let strongest = flags
                .iter()
                .fold(None, |best: Option<&KeyFlag>, flag| match best {
                    Some(best) if best.0.strength() >= flag.0.strength() => Some(best),
                    _ => Some(flag),
                });
            match strongest {
                None => {}
                Some((KeyEnforcement::Report, _, _)) => {
                    for (_, rule, message) in &flags {
                        out.finding(address(), *rule, message.clone());
                    }
                }
                Some((action, rule, message)) => {
                    if self.is_caller_key(key) {
                        out.finding(
                            address(),
                            *rule,
                            format!("{message}, but iamctl is signed with this key: left alone"),
                        );
                        continue;
                    }
                    retired += 1;
                    let user = user.name.clone();
                    let if_still_unused = *rule == Rule::KeysMaxUnused;
                    let kind = if *action == KeyEnforcement::Delete || key_rules.delete_inactive {
                        // A key deactivated now would be deleted by `delete_inactive` on the
                        // next run; deleting it at once keeps "plan after apply is empty".
                        ChangeKind::DeleteAccessKey {
                            user,
                            key: facts,
                            if_still_unused,
                        }
                    } else {
                        ChangeKind::DeactivateAccessKey {
                            user,
                            key: facts,
                            if_still_unused,
                        }
                    };
                    out.change(*rule, kind);
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
                    Rule::KeysMaxActive,
                    format!("{active} active access keys (at most {max} allowed)"),
                );
            }
        }
    }

    /// Each rule that flags an active key, with what it asks for, in rule order.
    fn key_flags(&self, key: &AccessKey) -> Vec<KeyFlag> {
        let key_rules = &self.rules.access_keys;
        let mut flags: Vec<KeyFlag> = Vec::new();
        if let Some(days) = key_rules.max_age_days {
            if older_than(key.created, self.as_of, days) {
                flags.push((
                    key_rules.on_expired.into(),
                    Rule::KeysMaxAge,
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
                flags.push((key_rules.on_unused.into(), Rule::KeysMaxUnused, message));
            }
        }
        flags
    }
}

/// A key rule's verdict on one key: what it asks for, the rule, and why.
type KeyFlag = (KeyEnforcement, Rule, String);
