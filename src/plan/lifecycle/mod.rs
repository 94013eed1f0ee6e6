//! The one staged lifecycle of a long-term credential (a console password, an access key, and
//! every kind added after them): unused or too old → a notice with its due date → the action its
//! rule asks for → once inactive, a grace counted from the recorded start of inactivity →
//! deletion; and the upkeep of that record. Pure, on plain values: a credential's dates, status
//! and record, a kind's thresholds, and `as_of`.
//!
//! A kind supplies what differs ([`CredentialKind`]: what its rules may ask, how messages name
//! it; [`Policy`]: its rules' names and thresholds, resolved from the desired state; its
//! [`Credential`] facts); [`Lifecycle::decide`] decides. What each decision becomes (which
//! `ChangeKind`, which address) stays with the kind's planner in `plan/engine/`.

use chrono::{DateTime, Duration, Utc};

use super::rule::Rule;

/// What a kind's rules may ask of one of its credentials.
pub(crate) trait Enforcement: Copy {
    /// Whether it changes the credential (more than a report): only such an action is
    /// announced ahead by a notice.
    fn acts(self) -> bool;
}

/// A kind of credential, as the lifecycle needs to know it.
pub(crate) trait CredentialKind {
    /// What its rules may ask (`report`, `deactivate`, ...).
    type Action: Enforcement;
    /// The credential while active, as a finding names it: `active access key`.
    const NOUN: &'static str;
    /// Its creation, as a finding about one never used names it: `created`.
    const CREATED: &'static str;
}

/// Whether a credential works.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Status {
    Active,
    /// Deactivated (or, for kinds that have it, expired): a candidate for deletion.
    Inactive,
}

/// One credential as the lifecycle sees it: plain facts, supplied by its kind.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Credential {
    pub(crate) created: DateTime<Utc>,
    /// Its last use that counts (`None`: never used). A kind passes only uses that say
    /// something about this credential (a console password: not a use before it was set).
    pub(crate) last_used: Option<DateTime<Utc>>,
    pub(crate) status: Status,
    /// When it became inactive, as recorded in the account (`iamctl:inactive-since:`).
    pub(crate) inactive_since: Option<DateTime<Utc>>,
}

/// Which limit a credential is measured against.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Measure {
    /// Days since creation (`max_age_days`).
    Age,
    /// Days since last use, or since creation when never used (`max_unused_days`).
    Disuse,
}

/// A limit in days, the rule that sets it and what it asks once passed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Limit<A> {
    pub(crate) rule: Rule,
    pub(crate) days: i64,
    pub(crate) action: A,
}

/// `delete_inactive`: its rule and its grace (`delete_inactive_after_days`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Grace {
    pub(crate) rule: Rule,
    pub(crate) days: i64,
}

/// A kind's thresholds, as its rules resolve them for one target.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Policy<A> {
    pub(crate) max_age: Option<Limit<A>>,
    pub(crate) max_unused: Option<Limit<A>>,
    /// Announce an action this many days before it falls due.
    pub(crate) notice_days: Option<i64>,
    /// Delete inactive credentials after a grace.
    pub(crate) delete_inactive: Option<Grace>,
}

impl<A> Policy<A> {
    /// The same policy without its age limit: for a credential whose age is taken care of
    /// otherwise (an access key a rotation replaced).
    pub(crate) fn without_max_age(self) -> Policy<A> {
        Policy {
            max_age: None,
            ..self
        }
    }
}

/// A limit a credential is past today.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Breach<A> {
    pub(crate) measure: Measure,
    pub(crate) rule: Rule,
    pub(crate) action: A,
    /// Why, with the figures: `active access key unused for 120 days (limit 90)`.
    pub(crate) message: String,
}

/// An action falling due within `notice_days`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Due<A> {
    pub(crate) rule: Rule,
    pub(crate) action: A,
    pub(crate) due: DateTime<Utc>,
    /// Why then: `older than 90 days by then`.
    pub(crate) why: String,
}

/// What `delete_inactive` asks of an inactive credential.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Inactive {
    /// No record of when it became inactive: record now; the grace runs until `delete_on`.
    Record { delete_on: DateTime<Utc> },
    /// The grace is over (or there is none): delete it.
    Delete,
    /// In its grace, deletion falls due within `notice_days`: announce it.
    Notice {
        since: DateTime<Utc>,
        due: DateTime<Utc>,
    },
    /// In its grace, nothing to say yet.
    Waiting,
}

/// What the lifecycle decides about one credential today.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Verdict<A> {
    Active {
        /// The limits it is past, in rule order (age, then disuse).
        breaches: Vec<Breach<A>>,
        /// The actions falling due within `notice_days` (none of a limit already passed).
        upcoming: Vec<Due<A>>,
        /// A record of an earlier inactivity that no longer holds (the credential is active
        /// again): to remove, so an old date cannot shorten its next grace.
        stale_record: Option<DateTime<Utc>>,
    },
    /// Inactive: what `delete_inactive` asks (`None` without it).
    Inactive(Option<Inactive>),
}

/// The lifecycle of one kind's credentials in one target, as of one instant.
pub(crate) struct Lifecycle<K: CredentialKind> {
    pub(crate) policy: Policy<K::Action>,
    pub(crate) as_of: DateTime<Utc>,
}

// By hand: a derive would ask the kind (a marker type) to be `Copy` too.
impl<K: CredentialKind> Clone for Lifecycle<K> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<K: CredentialKind> Copy for Lifecycle<K> {}

/// Whole days from `then` to `now` (negative when `then` is in the future).
fn days_between(then: DateTime<Utc>, now: DateTime<Utc>) -> i64 {
    (now - then).num_days()
}

impl<K: CredentialKind> Lifecycle<K> {
    pub(crate) fn new(policy: Policy<K::Action>, as_of: DateTime<Utc>) -> Self {
        Lifecycle { policy, as_of }
    }

    /// Everything decided about `credential` today.
    pub(crate) fn decide(&self, credential: &Credential) -> Verdict<K::Action> {
        match credential.status {
            Status::Active => Verdict::Active {
                breaches: self.breaches(credential),
                upcoming: self.upcoming(credential),
                stale_record: credential
                    .inactive_since
                    .filter(|_| self.policy.delete_inactive.is_some()),
            },
            Status::Inactive => Verdict::Inactive(self.inactive(credential.inactive_since)),
        }
    }

    /// The limits an active credential is past.
    pub(crate) fn breaches(&self, credential: &Credential) -> Vec<Breach<K::Action>> {
        let mut breaches = Vec::new();
        let noun = K::NOUN;
        if let Some(limit) = self.policy.max_age {
            if self.past(credential.created, limit.days) {
                breaches.push(Breach {
                    measure: Measure::Age,
                    rule: limit.rule,
                    action: limit.action,
                    message: format!(
                        "{noun} is {} days old (limit {})",
                        days_between(credential.created, self.as_of),
                        limit.days
                    ),
                });
            }
        }
        if let Some(limit) = self.policy.max_unused {
            let days = limit.days;
            let message = match credential.last_used {
                Some(last) if self.past(last, days) => Some(format!(
                    "{noun} unused for {} days (limit {days})",
                    days_between(last, self.as_of)
                )),
                None if self.past(credential.created, days) => Some(format!(
                    "{noun} never used; {} {} days ago (limit {days})",
                    K::CREATED,
                    days_between(credential.created, self.as_of)
                )),
                Some(_) | None => None,
            };
            if let Some(message) = message {
                breaches.push(Breach {
                    measure: Measure::Disuse,
                    rule: limit.rule,
                    action: limit.action,
                    message,
                });
            }
        }
        breaches
    }

    /// The actions (not reports) that fall due within `notice_days`. A limit already passed
    /// fell due before `as_of`, so it is never among them.
    pub(crate) fn upcoming(&self, credential: &Credential) -> Vec<Due<K::Action>> {
        let age = self.policy.max_age.map(|limit| Due {
            rule: limit.rule,
            action: limit.action,
            due: credential.created + Duration::days(limit.days),
            why: format!("older than {} days by then", limit.days),
        });
        let disuse = self.policy.max_unused.map(|limit| Due {
            rule: limit.rule,
            action: limit.action,
            due: credential.last_used.unwrap_or(credential.created) + Duration::days(limit.days),
            why: format!("unused for {} days by then", limit.days),
        });
        [age, disuse]
            .into_iter()
            .flatten()
            .filter(|due| due.action.acts() && self.within_notice(due.due))
            .collect()
    }

    /// What `delete_inactive` asks of a credential inactive since `since` (as recorded).
    pub(crate) fn inactive(&self, since: Option<DateTime<Utc>>) -> Option<Inactive> {
        let grace = Duration::days(self.policy.delete_inactive?.days);
        Some(match since {
            // No grace: nothing to wait for, nothing to record.
            None if grace.is_zero() => Inactive::Delete,
            // Deactivated by hand, or a run killed before recording: the grace starts now,
            // so no credential is ever deleted before its grace.
            None => Inactive::Record {
                delete_on: self.as_of + grace,
            },
            Some(since) if since + grace <= self.as_of => Inactive::Delete,
            Some(since) if self.within_notice(since + grace) => Inactive::Notice {
                since,
                due: since + grace,
            },
            Some(_) => Inactive::Waiting,
        })
    }

    /// Whether a credential inactive since `since` is neither due for deletion nor within its
    /// notice (so that nothing about it needs saying today).
    pub(crate) fn is_quiet(&self, since: DateTime<Utc>) -> bool {
        matches!(self.inactive(Some(since)), Some(Inactive::Waiting))
    }

    /// When a credential deactivated today is to be deleted (`None` without `delete_inactive`).
    pub(crate) fn delete_on_if_deactivated(&self) -> Option<DateTime<Utc>> {
        let grace = self.policy.delete_inactive?;
        Some(self.as_of + Duration::days(grace.days))
    }

    /// When the deletion of a credential inactive since `since` (or from today, without a
    /// record) falls due.
    pub(crate) fn deletion_due(&self, since: Option<DateTime<Utc>>) -> Option<DateTime<Utc>> {
        let grace = self.policy.delete_inactive?;
        Some(since.unwrap_or(self.as_of) + Duration::days(grace.days))
    }

    /// A notice when `due` falls within `notice_days` of `as_of` (and has not passed).
    pub(crate) fn within_notice(&self, due: DateTime<Utc>) -> bool {
        within_notice(self.as_of, due, self.policy.notice_days)
    }

    /// Whether more than `days` days have passed since `then`.
    fn past(&self, then: DateTime<Utc>, days: i64) -> bool {
        self.as_of - then > Duration::days(days)
    }
}

/// Whether `due` falls within `notice_days` of `as_of` and has not passed.
pub(crate) fn within_notice(
    as_of: DateTime<Utc>,
    due: DateTime<Utc>,
    notice_days: Option<i64>,
) -> bool {
    notice_days.is_some_and(|days| due >= as_of && due - as_of <= Duration::days(days))
}

#[cfg(test)]
mod tests;
