//! The diff: what one target's rules ask of its live state, as changes and findings.
//! Pure and deterministic: no I/O, no clock (ages are measured against `as_of`), no SDK types.

use chrono::{DateTime, Duration, Utc};

use super::address::*;
use super::change::*;
use super::model::*;
use super::rotation;
use super::rule::Rule;
use crate::desired::model::{KeyAction, OnUnusedConsole, WithoutMfa};
use crate::desired::{PolicyRule, RotationRules, Rules, UserRule};
use crate::state::{AccessKey, AccessKeyId, AccountState, KeyStatus, PasswordPolicy, Trail, User};

/// What a key rule asks for. The plan keeps the strongest of what the rules flagging one key
/// ask; the order is stated here, not borrowed from the order of the TOML model's variants.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum KeyEnforcement {
    Report,
    Rotate,
    Deactivate,
    Delete,
}

impl KeyEnforcement {
    /// Rotation keeps the key working while a successor is delivered: more than a report,
    /// less than cutting the key off. A key that another rule would deactivate or delete (one
    /// nothing uses) gets that instead of a successor.
    pub(crate) fn strength(self) -> u8 {
        match self {
            KeyEnforcement::Report => 0,
            KeyEnforcement::Rotate => 1,
            KeyEnforcement::Deactivate => 2,
            KeyEnforcement::Delete => 3,
        }
    }
}

impl From<KeyAction> for KeyEnforcement {
    fn from(action: KeyAction) -> Self {
        match action {
            KeyAction::Report => KeyEnforcement::Report,
            KeyAction::Deactivate => KeyEnforcement::Deactivate,
            KeyAction::Delete => KeyEnforcement::Delete,
            KeyAction::Rotate => KeyEnforcement::Rotate,
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
        let owner = live.user(&item.user).and_then(|user| rules.owners.of(user));
        plan.findings.push(Finding {
            owner,
            ..Finding::new(
                Address::User(item.user),
                item.rule,
                format!(
                    "{} (an access key known only from the credential report: its id was not read, so nothing is done about it)",
                    item.message
                ),
            )
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
        account: name,
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
        self.findings.push(Finding::new(address, rule, message));
    }

    /// A finding announcing what `rule` will do on `due`.
    fn notice(
        &mut self,
        address: Address,
        rule: Rule,
        due: DateTime<Utc>,
        action: Action,
        message: String,
    ) {
        self.findings.push(Finding {
            notice: Some(Notice { due, action }),
            ..Finding::new(address, rule, message)
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
            policy_tightens(rules, live.password_policy.as_ref())
        }
    }
}

/// Whether the desired password policy is stricter than `live`, the policy in force (`None`:
/// IAM's defaults, which is what a new policy tightens): what makes
/// `reset_on_policy_tightening` reset the console passwords.
pub fn policy_tightens(rules: &Rules, live: Option<&PasswordPolicy>) -> bool {
    match &rules.password_policy {
        Some(PolicyRule::Present(wanted)) => {
            let in_force = live.cloned().unwrap_or_else(PasswordPolicy::iam_default);
            wanted.is_stricter_than(&in_force)
        }
        None | Some(PolicyRule::Absent) => false,
    }
}

struct Context<'a> {
    /// The target's name (`{account}` of a rotation's secret name).
    account: &'a str,
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
fn key_facts(key: &AccessKey, user: &User) -> Option<KeyFacts> {
    let id = key.id.iam()?.clone();
    Some(KeyFacts {
        inactive_since: inactive_since(user, &id),
        rotation: user
            .tags
            .get(&rotation_tag(&id))
            .and_then(|value| value.parse().ok()),
        id,
        status: key.status,
        created: key.created,
        last_used: key.last_used,
    })
}

/// When the user's key `id` became inactive, as recorded in the account; a record that does
/// not parse is no record (the next run writes a good one).
fn inactive_since(user: &User, id: &AccessKeyId) -> Option<DateTime<Utc>> {
    user.tags
        .get(&inactive_since_tag(id))
        .and_then(|value| value.parse().ok())
}

/// The user's records of inactive keys (`iamctl:inactive-since:AKID` tags that parse).
fn inactive_records(user: &User) -> Vec<(AccessKeyId, DateTime<Utc>)> {
    user.tags
        .iter()
        .filter_map(|(tag, value)| {
            let id = AccessKeyId::new(tag.strip_prefix(INACTIVE_SINCE_TAG)?).ok()?;
            Some((id, value.parse().ok()?))
        })
        .collect()
}

/// The day of a timestamp, for messages.
fn day(at: DateTime<Utc>) -> String {
    at.format("%Y-%m-%d").to_string()
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
        let (changes, findings) = (out.changes.len(), out.findings.len());
        let user_rule = self.rules.user_rule(&user.name);
        let keeps_console = self.plan_login_profile(user, user_rule, out);
        self.plan_deny_policy(user, keeps_console, out);
        self.plan_access_keys(user, out);
        for (rule, message) in super::compliance::user_findings(&self.rules.compliance, user) {
            out.finding(Address::User(user.name.clone()), rule, message);
        }
        if let Some(owner) = self.rules.owners.of(user) {
            for change in &mut out.changes[changes..] {
                change.owner = Some(owner.clone());
            }
            for finding in &mut out.findings[findings..] {
                finding.owner = Some(owner.clone());
            }
        }
    }

    /// While a login profile is younger than `mfa_grace_days`, missing MFA is not acted on:
    /// the date by which MFA must be enrolled.
    fn mfa_deadline(&self, user: &User) -> Option<DateTime<Utc>> {
        let grace = self.rules.console.mfa_grace_days?;
        let created = user.login_profile.as_ref()?.created;
        let deadline = created + Duration::days(grace);
        (deadline > self.as_of).then_some(deadline)
    }

    /// A notice when `due` falls within `notice_days` of `as_of` (and has not passed).
    fn within_notice(&self, due: DateTime<Utc>, notice_days: Option<i64>) -> bool {
        notice_days
            .is_some_and(|days| due >= self.as_of && due - self.as_of <= Duration::days(days))
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
                    match self.mfa_deadline(user) {
                        Some(deadline) => out.notice(
                            Address::User(user.name.clone()),
                            Rule::ConsoleRequireMfa,
                            deadline,
                            Action::Delete,
                            format!(
                                "console access without MFA: enroll MFA by {}, or the console password will be deleted",
                                day(deadline)
                            ),
                        ),
                        None => {
                            delete.get_or_insert((Rule::ConsoleRequireMfa, message));
                        }
                    }
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
            let disables = console.on_unused == OnUnusedConsole::DisableConsole
                && console_wanted != Some(true);
            if let Some(message) = message {
                if disables {
                    delete.get_or_insert((Rule::ConsoleMaxUnused, message));
                } else {
                    reports.push((Rule::ConsoleMaxUnused, message));
                }
            } else if disables && delete.is_none() {
                let due = last_use.unwrap_or(profile.created) + Duration::days(days);
                if self.within_notice(due, console.notice_days) {
                    out.notice(
                        Address::User(user.name.clone()),
                        Rule::ConsoleMaxUnused,
                        due,
                        Action::Delete,
                        format!(
                            "the console password will be deleted on {}: unused for {days} days by then; sign in before, or ask for it to stay",
                            day(due)
                        ),
                    );
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
            } else if let Some(deadline) = self.mfa_deadline(user) {
                out.notice(
                    Address::User(user.name.clone()),
                    Rule::ConsoleRequireMfa,
                    deadline,
                    Action::Attach,
                    format!(
                        "console access without MFA: enroll MFA by {}, or a policy denying everything but MFA enrollment will be attached",
                        day(deadline)
                    ),
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
        let records = rotation::records(user);
        // A rotation stopped half-way comes first, and alone: its undelivered key goes
        // before anything else happens to the user's keys.
        if let Some(interrupted) = rotation::interrupted(user, &records) {
            self.plan_interrupted_rotation(user, interrupted, out);
            return;
        }
        let mut keys: Vec<&AccessKey> = user.access_keys.iter().collect();
        keys.sort_by(|a, b| a.id.cmp(&b.id));
        // Active keys this plan deactivates or deletes, or that a rotation replaced and will
        // retire, so `max_active` judges what remains.
        let mut retired = 0usize;
        let inactive_since_records = inactive_records(user);
        // Keys known only by report slot cannot be matched with their records. While the
        // records outnumber none of them and none is due or noticed, there is nothing to do
        // about them (each has its record, its grace running): reading their ids every run
        // would cost a call per such user for nothing. An inactive key without a record
        // among them is then recorded once the keys are listed for another reason: its grace
        // only starts later, never earlier.
        let inactive_slots = keys
            .iter()
            .filter(|k| k.id.iam().is_none() && k.status == KeyStatus::Inactive)
            .count();
        let quiet_records = inactive_since_records
            .iter()
            .filter(|(_, since)| self.inactive_key_is_quiet(*since))
            .count();
        let slots_quiet =
            inactive_slots <= quiet_records && inactive_since_records.len() == quiet_records;
        for key in &keys {
            // A key known only from the credential report has no id to address it by: what a
            // rule would do about it waits until its id is read.
            let Some(facts) = key_facts(key, user) else {
                let mut unaddressed = |rule: Rule, is_change: bool, message: String| {
                    out.unaddressed.push(Unaddressed {
                        user: user.name.clone(),
                        rule,
                        is_change,
                        message,
                    })
                };
                if key.status == KeyStatus::Inactive {
                    if key_rules.delete_inactive && !slots_quiet {
                        unaddressed(Rule::KeysDeleteInactive, true, "inactive access key".into());
                    }
                    continue;
                }
                let flags = self.key_flags(user, key);
                let acts = flags
                    .iter()
                    .any(|(action, _, _)| *action != KeyEnforcement::Report);
                for (_, rule, message) in flags {
                    unaddressed(rule, acts, message);
                }
                // A notice is addressed by the key's id too.
                for (enforcement, rule, due, why) in self.key_due_dates(key) {
                    if enforcement != KeyEnforcement::Report
                        && self.within_notice(due, key_rules.notice_days)
                    {
                        unaddressed(rule, false, format!("due on {}: {why}", day(due)));
                    }
                }
                continue;
            };
            if key.status == KeyStatus::Inactive {
                if key_rules.delete_inactive && !self.is_caller_key(key) {
                    self.plan_inactive_key(user, facts, out);
                }
                continue;
            }
            let address = || Address::AccessKey {
                user: user.name.clone(),
                key_id: facts.id.clone(),
            };
            let mut flags = self.key_flags(user, key);
            // Replaced by a rotation: its age is taken care of; it is retired once the new
            // key is used or the overlap is over.
            let replaced = key_rules.rotation.as_ref().and_then(|spec| {
                Some((
                    spec,
                    rotation::live_rotation(user, facts.rotation.as_ref())?,
                ))
            });
            if let Some((spec, (new, at))) = replaced {
                flags.retain(|(_, rule, _)| *rule != Rule::KeysMaxAge);
                let new_id = &new.id;
                let overlap = spec.overlap_days;
                if new.last_used.is_some() {
                    flags.push((
                        KeyEnforcement::Deactivate,
                        Rule::KeysRotation,
                        format!("replaced by {new_id} on {}, which is in use now", day(at)),
                    ));
                } else if at + Duration::days(overlap) <= self.as_of {
                    flags.push((
                        KeyEnforcement::Deactivate,
                        Rule::KeysRotation,
                        format!(
                            "replaced by {new_id} on {}; its overlap of {overlap} days is over",
                            day(at)
                        ),
                    ));
                }
            }
            // The strongest action wins; of equals, the first rule.
            let strongest = flags
                .iter()
                .fold(None, |best: Option<&KeyFlag>, flag| match best {
                    Some(best) if best.0.strength() >= flag.0.strength() => Some(best),
                    _ => Some(flag),
                });
            let acted = match strongest {
                None => false,
                Some((KeyEnforcement::Report, _, _)) => {
                    for (_, rule, message) in &flags {
                        out.finding(address(), *rule, message.clone());
                    }
                    false
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
                    if *action == KeyEnforcement::Rotate {
                        self.plan_rotation(user, &keys, facts.clone(), *rule, message, out);
                        continue;
                    }
                    retired += 1;
                    let user = user.name.clone();
                    let if_still_unused = *rule == Rule::KeysMaxUnused;
                    // What the user chose is what happens: `deactivate` deactivates, and
                    // `delete_inactive` deletes the key only after its grace, on a later run.
                    let kind = match action {
                        KeyEnforcement::Delete => ChangeKind::DeleteAccessKey {
                            user,
                            key: facts.clone(),
                            if_still_unused,
                        },
                        KeyEnforcement::Deactivate
                        | KeyEnforcement::Report
                        | KeyEnforcement::Rotate => ChangeKind::DeactivateAccessKey {
                            user,
                            key: facts.clone(),
                            if_still_unused,
                            delete_on: key_rules.delete_inactive.then(|| {
                                self.as_of + Duration::days(key_rules.delete_inactive_after_days)
                            }),
                        },
                    };
                    out.change(*rule, kind);
                    true
                }
            };
            if acted {
                continue;
            }
            // Not acted on today: what will be, and when.
            if let Some((spec, (new, at))) = replaced {
                // Always said, not only within `notice_days`: whoever uses the old key must
                // move to the new one, and learns here where it is.
                retired += 1;
                let due = at + Duration::days(spec.overlap_days);
                out.notice(
                    address(),
                    Rule::KeysRotation,
                    due,
                    Action::Deactivate,
                    format!(
                        "{} stops working on {}, or sooner once {} is used: the new key is in Secrets Manager secret {}",
                        facts.id,
                        day(due),
                        new.id,
                        self.secret_name(spec, user)
                    ),
                );
            }
            for (enforcement, rule, due, why) in self.key_due_dates(key) {
                if replaced.is_some() && rule == Rule::KeysMaxAge {
                    continue;
                }
                let action = match enforcement {
                    KeyEnforcement::Report => continue,
                    KeyEnforcement::Deactivate => Action::Deactivate,
                    KeyEnforcement::Delete => Action::Delete,
                    KeyEnforcement::Rotate => Action::Rotate,
                };
                if self.within_notice(due, key_rules.notice_days) {
                    let what_then = match (action, &key_rules.rotation) {
                        (Action::Rotate, Some(spec)) => format!(
                            "a new key will be delivered to Secrets Manager secret {}, and {} deactivated {} days later (sooner once the new key is used)",
                            self.secret_name(spec, user),
                            facts.id,
                            spec.overlap_days
                        ),
                        _ => "rotate the key and move its users to the new one before".to_owned(),
                    };
                    out.notice(
                        address(),
                        rule,
                        due,
                        action,
                        format!(
                            "{} will be {} on {}: {why}; {what_then}",
                            facts.id,
                            action.past_participle(),
                            day(due)
                        ),
                    );
                }
            }
            // A record of an earlier inactivity no longer holds: the key is active again, and
            // an old date must not shorten the grace of its next deactivation.
            if let (Some(since), true) = (facts.inactive_since, key_rules.delete_inactive) {
                out.change(
                    Rule::KeysDeleteInactive,
                    ChangeKind::ForgetInactiveKey {
                        user: user.name.clone(),
                        key_id: facts.id.clone(),
                        since,
                    },
                );
            }
        }
        // Records of keys that are gone: nothing left to time. With keys known only by slot,
        // which record is whose is unknown until they are listed (see `slots_quiet`).
        let keys_known = keys.iter().all(|k| k.id.iam().is_some());
        if key_rules.delete_inactive && (keys_known || !slots_quiet) {
            for (key_id, since) in inactive_since_records {
                if !keys.iter().any(|k| k.id.iam() == Some(&key_id)) {
                    out.change(
                        Rule::KeysDeleteInactive,
                        ChangeKind::ForgetInactiveKey {
                            user: user.name.clone(),
                            key_id,
                            since,
                        },
                    );
                }
            }
        }
        // Rotation records that no longer hold: of a key that is gone, a pending rotation that
        // created no key (a run stopped before it did) and is not started again now, a
        // rotation whose new key is gone. A key with a change this run keeps its record
        // (deleting the key removes it).
        for (key_id, record) in &records {
            let address = Address::AccessKey {
                user: user.name.clone(),
                key_id: key_id.clone(),
            };
            if out.changes.iter().any(|c| c.address() == address) {
                continue;
            }
            let key = keys.iter().find(|k| k.id.iam() == Some(key_id));
            let stale = match (key, record) {
                (None, _) => true,
                (Some(_), RotationRecord::Pending { .. }) => true,
                (Some(_), RotationRecord::Rotated { to, .. }) => {
                    !keys.iter().any(|k| k.id.iam() == Some(to))
                }
            };
            if stale {
                out.change(
                    Rule::KeysRotation,
                    ChangeKind::ForgetRotation {
                        user: user.name.clone(),
                        key_id: key_id.clone(),
                        record: record.clone(),
                    },
                );
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

    /// Whether a key inactive since `since` is neither due for deletion nor within its notice.
    fn inactive_key_is_quiet(&self, since: DateTime<Utc>) -> bool {
        let key_rules = &self.rules.access_keys;
        let due = since + Duration::days(key_rules.delete_inactive_after_days);
        due > self.as_of && !self.within_notice(due, key_rules.notice_days)
    }

    /// `delete_inactive` on an inactive key: deleted once its grace has run out, counted from
    /// the recorded start of its inactivity; without a record (deactivated by hand, or a run
    /// killed before recording), the record is made now and the grace starts now, so that no
    /// key is ever deleted before its grace.
    fn plan_inactive_key(&self, user: &User, key: KeyFacts, out: &mut Output) {
        let key_rules = &self.rules.access_keys;
        let grace = Duration::days(key_rules.delete_inactive_after_days);
        let delete = |key: KeyFacts| ChangeKind::DeleteAccessKey {
            user: user.name.clone(),
            key,
            if_still_unused: false,
        };
        match key.inactive_since {
            // No grace: nothing to wait for, nothing to record.
            None if grace.is_zero() => out.change(Rule::KeysDeleteInactive, delete(key)),
            None => out.change(
                Rule::KeysDeleteInactive,
                ChangeKind::RecordInactiveKey {
                    user: user.name.clone(),
                    delete_on: self.as_of + grace,
                    key,
                },
            ),
            Some(since) if since + grace <= self.as_of => {
                out.change(Rule::KeysDeleteInactive, delete(key))
            }
            Some(since) => {
                let due = since + grace;
                if self.within_notice(due, key_rules.notice_days) {
                    out.notice(
                        Address::AccessKey {
                            user: user.name.clone(),
                            key_id: key.id.clone(),
                        },
                        Rule::KeysDeleteInactive,
                        due,
                        Action::Delete,
                        format!(
                            "{} will be deleted on {}: inactive since {}; reactivate it before if it is still needed",
                            key.id,
                            day(due),
                            day(since)
                        ),
                    );
                }
            }
        }
    }

    /// When each key rule with a limit will flag an active key it does not flag yet, with
    /// what it will then ask for and why.
    fn key_due_dates(&self, key: &AccessKey) -> Vec<(KeyEnforcement, Rule, DateTime<Utc>, String)> {
        let key_rules = &self.rules.access_keys;
        let mut due = Vec::new();
        if let Some(days) = key_rules.max_age_days {
            due.push((
                key_rules.on_expired.into(),
                Rule::KeysMaxAge,
                key.created + Duration::days(days),
                format!("older than {days} days by then"),
            ));
        }
        if let Some(days) = key_rules.max_unused_days {
            due.push((
                key_rules.on_unused.into(),
                Rule::KeysMaxUnused,
                key.last_used.unwrap_or(key.created) + Duration::days(days),
                format!("unused for {days} days by then"),
            ));
        }
        due
    }

    /// Each rule that flags an active key, with what it asks for, in rule order.
    fn key_flags(&self, user: &User, key: &AccessKey) -> Vec<KeyFlag> {
        let key_rules = &self.rules.access_keys;
        let mut flags: Vec<KeyFlag> = Vec::new();
        if let Some(id) = key.id.iam() {
            if self
                .rules
                .rotate_now
                .contains(&(user.name.clone(), id.clone()))
            {
                flags.push((
                    KeyEnforcement::Rotate,
                    Rule::KeysRotation,
                    "rotation asked for (--rotate-now)".to_owned(),
                ));
            }
        }
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

impl Context<'_> {
    /// The secret receiving `user`'s new keys.
    fn secret_name(&self, spec: &RotationRules, user: &User) -> String {
        rotation::secret_name(
            &spec.secret_name,
            self.account,
            &self.live.account_id,
            &user.name,
        )
    }

    /// A rotation stopped between creating a key and recording it: record it when the secret
    /// holds the key, delete the key when it does not, say so when the secret was not read.
    fn plan_interrupted_rotation(
        &self,
        user: &User,
        interrupted: rotation::Interrupted<'_>,
        out: &mut Output,
    ) {
        use rotation::Interrupted;
        let old_key = |old: &AccessKeyId| {
            user.access_keys
                .iter()
                .find(|k| k.id.iam() == Some(old))
                .and_then(|k| key_facts(k, user))
        };
        match interrupted {
            Interrupted::Delivered { old, new, since } => {
                let Some(new_id) = new.id.iam().cloned() else {
                    return;
                };
                match old_key(&old) {
                    Some(key) => out.change(
                        Rule::KeysRotation,
                        ChangeKind::RecordRotation {
                            user: user.name.clone(),
                            key,
                            new_key: new_id,
                            at: since,
                        },
                    ),
                    // Nothing left to retire: the record has done its work.
                    None => out.change(
                        Rule::KeysRotation,
                        ChangeKind::ForgetRotation {
                            user: user.name.clone(),
                            key_id: old,
                            record: RotationRecord::Pending { since },
                        },
                    ),
                }
            }
            Interrupted::Undelivered { new, .. } => {
                let Some(key) = key_facts(new, user) else {
                    return;
                };
                if self.is_caller_key(new) {
                    out.finding(
                        Address::AccessKey {
                            user: user.name.clone(),
                            key_id: key.id,
                        },
                        Rule::KeysRotation,
                        "created by an interrupted rotation and never delivered, but iamctl is signed with this key: left alone".into(),
                    );
                    return;
                }
                out.change(
                    Rule::KeysRotation,
                    ChangeKind::DeleteAccessKey {
                        user: user.name.clone(),
                        key,
                        if_still_unused: false,
                    },
                );
            }
            Interrupted::Unknown { old, new } => {
                let Some(new_id) = new.id.iam().cloned() else {
                    return;
                };
                out.finding(
                    Address::AccessKey {
                        user: user.name.clone(),
                        key_id: new_id,
                    },
                    Rule::KeysRotation,
                    format!(
                        "created by an interrupted rotation of {old}; whether it reached its secret is unknown (the secret was not read: no [users.access_keys.rotation] names it, or the plan is from a snapshot), so nothing is done about this user's keys"
                    ),
                );
            }
        }
    }

    /// A key a rule asks to rotate: the rotation, or a finding saying why it cannot be made
    /// (IAM allows two keys a user: the other key must go first).
    fn plan_rotation(
        &self,
        user: &User,
        keys: &[&AccessKey],
        key: KeyFacts,
        rule: Rule,
        why: &str,
        out: &mut Output,
    ) {
        let key_rules = &self.rules.access_keys;
        let address = Address::AccessKey {
            user: user.name.clone(),
            key_id: key.id.clone(),
        };
        let Some(spec) = &key_rules.rotation else {
            out.finding(
                address,
                rule,
                format!(
                    "cannot rotate: no [users.access_keys.rotation] table names the secret for the new key ({why})"
                ),
            );
            return;
        };
        if let Some(other) = keys.iter().find(|k| k.id.iam() != Some(&key.id)) {
            let other_id = &other.id;
            let reason = if other.status == KeyStatus::Active {
                format!(
                    "two active keys ({}, {other_id}); deactivate or delete the one no longer used",
                    key.id
                )
            } else if !key_rules.delete_inactive || self.is_caller_key(other) {
                format!(
                    "the user's second key {other_id} is inactive and IAM allows two keys; delete it (or set delete_inactive = true)"
                )
            } else {
                let grace = Duration::days(key_rules.delete_inactive_after_days);
                let since = other
                    .id
                    .iam()
                    .and_then(|id| inactive_since(user, id))
                    .unwrap_or(self.as_of);
                let due = since + grace;
                if due <= self.as_of {
                    format!(
                        "the inactive key {other_id} is deleted first (delete_inactive), and the rotation follows on the next run"
                    )
                } else {
                    format!(
                        "the inactive key {other_id} is deleted first, on {} (delete_inactive_after_days), and the rotation follows",
                        day(due)
                    )
                }
            };
            out.finding(address, rule, format!("cannot rotate: {reason} ({why})"));
            return;
        }
        let secret_name = self.secret_name(spec, user);
        if !rotation::is_valid_secret_name(&secret_name) {
            out.finding(
                address,
                rule,
                format!(
                    "cannot rotate: the secret name {secret_name:?} is not one Secrets Manager accepts (letters, digits and /_+=.@- only) ({why})"
                ),
            );
            return;
        }
        let user_arn = if user.arn.is_empty() {
            let partition = self
                .live
                .caller
                .as_ref()
                .and_then(|c| c.arn.split(':').nth(1))
                .filter(|p| !p.is_empty())
                .unwrap_or("aws");
            format!(
                "arn:{partition}:iam::{}:user/{}",
                self.live.account_id, user.name
            )
        } else {
            user.arn.clone()
        };
        let mut readers = vec![user_arn];
        readers.extend(
            spec.readers
                .iter()
                .filter(|r| !readers.contains(r))
                .cloned()
                .collect::<Vec<_>>(),
        );
        out.change(
            rule,
            ChangeKind::RotateAccessKey {
                user: user.name.clone(),
                key,
                secret: SecretTarget {
                    secret_name,
                    readers,
                    kms_key_id: spec.kms_key_id.clone(),
                },
                deactivate_on: self.as_of + Duration::days(spec.overlap_days),
            },
        );
    }
}

/// A key rule's verdict on one key: what it asks for, the rule, and why.
type KeyFlag = (KeyEnforcement, Rule, String);
