//! Console access: the login profile (wanted or not, unused, reset), MFA (its grace, and the
//! deny policy of `deny-until-mfa`). An unused console password goes through the credential
//! lifecycle ([`ConsolePassword`]).

use chrono::{DateTime, Duration, Utc};

use super::{Context, Output, day};
use crate::desired::UserRule;
use crate::desired::model::{OnUnusedConsole, WithoutMfa};
use crate::plan::address::{Action, Address};
use crate::plan::change::{ChangeKind, DENY_WITHOUT_MFA_POLICY, ProfileFacts};
use crate::plan::lifecycle::{
    Credential, CredentialKind, Enforcement, Lifecycle, Limit, Policy, Status,
};
use crate::plan::rule::Rule;
use crate::state::User;

/// Console passwords, as a credential kind: `max_unused_days` is their one limit, and deleting
/// the login profile their one action.
pub(crate) struct ConsolePassword;

/// What `[users.console]` may ask of a console password.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ConsoleAction {
    Report,
    /// Delete the login profile.
    Delete,
}

impl Enforcement for ConsoleAction {
    fn acts(self) -> bool {
        match self {
            ConsoleAction::Report => false,
            ConsoleAction::Delete => true,
        }
    }
}

impl CredentialKind for ConsolePassword {
    type Action = ConsoleAction;
    const NOUN: &'static str = "console password";
    const CREATED: &'static str = "login profile created";
}

/// Why a password is reset.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum ResetReason {
    /// `password_reset_required = true` on the user's `[[user]]` entry.
    Asked,
    /// The plan makes the password policy stricter, and `reset_on_policy_tightening` is set.
    PolicyTightening,
}

impl Context<'_> {
    /// While a login profile is younger than `mfa_grace_days`, missing MFA is not acted on:
    /// the date by which MFA must be enrolled.
    fn mfa_deadline(&self, user: &User) -> Option<DateTime<Utc>> {
        let grace = self.rules.console.mfa_grace_days?;
        let created = user.login_profile.as_ref()?.created;
        let deadline = created + Duration::days(grace);
        (deadline > self.as_of).then_some(deadline)
    }

    /// The lifecycle of console passwords; `keep` when the user's entry asks for console
    /// access (an unused password is then reported, never deleted).
    fn password_lifecycle(&self, keep: bool) -> Lifecycle<ConsolePassword> {
        let console = &self.rules.console;
        let action = match console.on_unused {
            OnUnusedConsole::DisableConsole if !keep => ConsoleAction::Delete,
            OnUnusedConsole::DisableConsole | OnUnusedConsole::Report => ConsoleAction::Report,
        };
        let policy = Policy {
            max_age: None,
            max_unused: console.max_unused_days.map(|days| Limit {
                rule: Rule::ConsoleMaxUnused,
                days,
                action,
            }),
            notice_days: console.notice_days,
            delete_inactive: None,
        };
        Lifecycle::new(policy, self.as_of)
    }

    /// At most one change to the login profile: delete, create or reset, first reason wins.
    /// Returns whether the user has a console password once the plan is applied.
    pub(super) fn plan_login_profile(
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

        let lifecycle = self.password_lifecycle(console_wanted == Some(true));
        let password = Credential {
            created: profile.created,
            // A use before the profile was (re)created says nothing about this password.
            last_used: user
                .password_last_used
                .filter(|used| *used >= profile.created),
            status: Status::Active,
            inactive_since: None,
        };
        for breach in lifecycle.breaches(&password) {
            match breach.action {
                ConsoleAction::Delete => {
                    delete.get_or_insert((breach.rule, breach.message));
                }
                ConsoleAction::Report => reports.push((breach.rule, breach.message)),
            }
        }
        if delete.is_none() {
            for due in lifecycle.upcoming(&password) {
                out.notice(
                    Address::User(user.name.clone()),
                    due.rule,
                    due.due,
                    Action::Delete,
                    format!(
                        "the console password will be deleted on {}: {}; sign in before, or ask for it to stay",
                        day(due.due),
                        due.why
                    ),
                );
            }
        }

        if let Some((rule, reason)) = delete {
            if !self.is_caller(user) {
                out.change(
                    rule,
                    ChangeKind::DeleteLoginProfile {
                        user: user.name.clone(),
                        before: ProfileFacts::of(user, profile),
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
        let reset = if user_rule.is_some_and(|r| r.password_reset_required) {
            Some(ResetReason::Asked)
        } else if self.tightening && console.reset_on_policy_tightening {
            Some(ResetReason::PolicyTightening)
        } else {
            None
        };
        if let Some(reason) = reset {
            let (rule, with_tightening) = match reason {
                ResetReason::Asked => (Rule::UserPasswordReset, false),
                ResetReason::PolicyTightening => (Rule::ConsoleResetOnTightening, true),
            };
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
                        with_tightening,
                    },
                );
            }
        }
        true
    }

    /// `deny-until-mfa`: attach the deny policy to users without MFA who have (or are about
    /// to get) a console password, detach it once they have MFA.
    pub(super) fn plan_deny_policy(&self, user: &User, keeps_console: bool, out: &mut Output) {
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
}
