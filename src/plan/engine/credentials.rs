//! Access keys: each through the credential lifecycle ([`AccessKeys`]), then what only keys
//! have: `--rotate-now` and rotation's retirement of a replaced key, the caller's own key left
//! alone, keys known only by report slot, the records' upkeep and `max_active`.

use chrono::Duration;

use super::access_keys::{AccessKeys, KeyEnforcement, credential, key_facts};
use super::{Context, Output, Unaddressed, day};
use crate::plan::address::{Action, Address};
use crate::plan::change::{ChangeKind, KeyFacts};
use crate::plan::lifecycle::{
    Credential, Enforcement, Inactive, Lifecycle, Measure, Status, Verdict,
};
use crate::plan::records::UserRecords;
use crate::plan::rotation;
use crate::plan::rule::Rule;
use crate::state::{AccessKey, KeyStatus, User};

/// Why a key is flagged.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum KeyReason {
    /// A limit of the lifecycle, set by `rule`.
    Limit { rule: Rule, measure: Measure },
    /// `apply --rotate-now` names it.
    RotateNow,
    /// A rotation replaced it, and its successor is in use or its overlap is over.
    Replaced,
}

impl KeyReason {
    fn rule(self) -> Rule {
        match self {
            KeyReason::Limit { rule, .. } => rule,
            KeyReason::RotateNow | KeyReason::Replaced => Rule::KeysRotation,
        }
    }
}

/// A key rule's verdict on one key: what it asks for, why, and the message saying so.
struct KeyFlag {
    action: KeyEnforcement,
    reason: KeyReason,
    message: String,
}

impl Context<'_> {
    pub(super) fn plan_access_keys(&self, user: &User, out: &mut Output) {
        let key_rules = &self.rules.access_keys;
        let lifecycle = self.key_lifecycle();
        let records = UserRecords::of(&user.tags);
        // A rotation stopped half-way comes first, and alone: its undelivered key goes
        // before anything else happens to the user's keys.
        if let Some(interrupted) = rotation::interrupted(user, &records.rotations) {
            self.plan_interrupted_rotation(user, &records, interrupted, out);
            return;
        }
        let mut keys: Vec<&AccessKey> = user.access_keys.iter().collect();
        keys.sort_by(|a, b| a.id.cmp(&b.id));
        // Active keys this plan deactivates or deletes, or that a rotation replaced and will
        // retire, so `max_active` judges what remains.
        let mut retired = 0usize;
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
        let quiet_records = records
            .inactive_since
            .values()
            .filter(|since| lifecycle.is_quiet(**since))
            .count();
        let slots_quiet =
            inactive_slots <= quiet_records && records.inactive_since.len() == quiet_records;
        for key in &keys {
            let credential = credential(key, &records);
            // A key known only from the credential report has no id to address it by: what a
            // rule would do about it waits until its id is read.
            let Some(facts) = key_facts(key, &records) else {
                let mut unaddressed = |rule: Rule, is_change: bool, message: String| {
                    out.unaddressed.push(Unaddressed {
                        user: user.name.clone(),
                        rule,
                        is_change,
                        message,
                    })
                };
                match credential.status {
                    Status::Inactive => {
                        if let (Some(grace), false) =
                            (lifecycle.policy.delete_inactive, slots_quiet)
                        {
                            unaddressed(grace.rule, true, "inactive access key".into());
                        }
                    }
                    Status::Active => {
                        let flags = self.key_flags(user, key, &lifecycle, &credential);
                        let acts = flags.iter().any(|flag| flag.action.acts());
                        for flag in flags {
                            unaddressed(flag.reason.rule(), acts, flag.message);
                        }
                        // A notice is addressed by the key's id too.
                        for due in lifecycle.upcoming(&credential) {
                            unaddressed(
                                due.rule,
                                false,
                                format!("due on {}: {}", day(due.due), due.why),
                            );
                        }
                    }
                }
                continue;
            };
            // Replaced by a rotation: its age is taken care of; it is retired once the new
            // key is used or the overlap is over.
            let replaced = key_rules.rotation.as_ref().and_then(|spec| {
                Some((
                    spec,
                    rotation::live_rotation(user, facts.rotation.as_ref())?,
                ))
            });
            let lifecycle = match replaced {
                Some(_) => Lifecycle::new(lifecycle.policy.without_max_age(), self.as_of),
                None => lifecycle,
            };
            let (upcoming, stale_record) = match lifecycle.decide(&credential) {
                Verdict::Inactive(verdict) => {
                    if let (Some(verdict), false) = (verdict, self.is_caller_key(key)) {
                        self.plan_inactive_key(user, facts, verdict, out);
                    }
                    continue;
                }
                Verdict::Active {
                    upcoming,
                    stale_record,
                    ..
                } => (upcoming, stale_record),
            };
            let address = || Address::AccessKey {
                user: user.name.clone(),
                key_id: facts.id.clone(),
            };
            let mut flags = self.key_flags(user, key, &lifecycle, &credential);
            if let Some((spec, (new, at))) = replaced {
                let new_id = &new.id;
                let overlap = spec.overlap_days;
                let message = if new.last_used.is_some() {
                    Some(format!(
                        "replaced by {new_id} on {}, which is in use now",
                        day(at)
                    ))
                } else if at + Duration::days(overlap) <= self.as_of {
                    Some(format!(
                        "replaced by {new_id} on {}; its overlap of {overlap} days is over",
                        day(at)
                    ))
                } else {
                    None
                };
                if let Some(message) = message {
                    flags.push(KeyFlag {
                        action: KeyEnforcement::Deactivate,
                        reason: KeyReason::Replaced,
                        message,
                    });
                }
            }
            // The strongest action wins; of equals, the first rule.
            let strongest = flags
                .iter()
                .fold(None, |best: Option<&KeyFlag>, flag| match best {
                    Some(best) if best.action.strength() >= flag.action.strength() => Some(best),
                    _ => Some(flag),
                });
            let acted = match strongest {
                None => false,
                Some(KeyFlag {
                    action: KeyEnforcement::Report,
                    ..
                }) => {
                    for flag in &flags {
                        out.finding(address(), flag.reason.rule(), flag.message.clone());
                    }
                    false
                }
                Some(KeyFlag {
                    action,
                    reason,
                    message,
                }) => {
                    let rule = reason.rule();
                    if self.is_caller_key(key) {
                        out.finding(
                            address(),
                            rule,
                            format!("{message}, but iamctl is signed with this key: left alone"),
                        );
                        continue;
                    }
                    // Deactivated or deleted for disuse: apply checks first that it is still
                    // unused.
                    let if_still_unused = matches!(
                        reason,
                        KeyReason::Limit {
                            measure: Measure::Disuse,
                            ..
                        }
                    );
                    // What the user chose is what happens: `deactivate` deactivates, and
                    // `delete_inactive` deletes the key only after its grace, on a later run.
                    let kind = match action {
                        KeyEnforcement::Rotate => {
                            self.plan_rotation(user, &keys, facts.clone(), rule, message, out);
                            continue;
                        }
                        KeyEnforcement::Delete => ChangeKind::DeleteAccessKey {
                            user: user.name.clone(),
                            key: facts.clone(),
                            if_still_unused,
                        },
                        KeyEnforcement::Deactivate | KeyEnforcement::Report => {
                            ChangeKind::DeactivateAccessKey {
                                user: user.name.clone(),
                                key: facts.clone(),
                                if_still_unused,
                                delete_on: lifecycle.delete_on_if_deactivated(),
                            }
                        }
                    };
                    retired += 1;
                    out.change(rule, kind);
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
            for due in upcoming {
                let action = match due.action {
                    // Never announced: the lifecycle gives no notice of a report.
                    KeyEnforcement::Report => continue,
                    KeyEnforcement::Deactivate => Action::Deactivate,
                    KeyEnforcement::Delete => Action::Delete,
                    KeyEnforcement::Rotate => Action::Rotate,
                };
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
                    due.rule,
                    due.due,
                    action,
                    format!(
                        "{} will be {} on {}: {}; {what_then}",
                        facts.id,
                        action.past_participle(),
                        day(due.due),
                        due.why
                    ),
                );
            }
            // A record of an earlier inactivity no longer holds: the key is active again, and
            // an old date must not shorten the grace of its next deactivation.
            if let (Some(since), Some(grace)) = (stale_record, lifecycle.policy.delete_inactive) {
                out.change(
                    grace.rule,
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
        if let Some(grace) = lifecycle.policy.delete_inactive {
            if keys_known || !slots_quiet {
                for (key_id, since) in &records.inactive_since {
                    if !keys.iter().any(|k| k.id.iam() == Some(key_id)) {
                        out.change(
                            grace.rule,
                            ChangeKind::ForgetInactiveKey {
                                user: user.name.clone(),
                                key_id: key_id.clone(),
                                since: *since,
                            },
                        );
                    }
                }
            }
        }
        self.forget_stale_rotations(user, &keys, &records.rotations, out);
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

    /// `delete_inactive` on an inactive key, as the lifecycle decided: deleted once its grace
    /// has run out, counted from the recorded start of its inactivity; without a record
    /// (deactivated by hand, or a run killed before recording), the record is made now and the
    /// grace starts now, so that no key is ever deleted before its grace.
    fn plan_inactive_key(&self, user: &User, key: KeyFacts, verdict: Inactive, out: &mut Output) {
        let rule = Rule::KeysDeleteInactive;
        match verdict {
            Inactive::Delete => out.change(
                rule,
                ChangeKind::DeleteAccessKey {
                    user: user.name.clone(),
                    key,
                    if_still_unused: false,
                },
            ),
            Inactive::Record { delete_on } => out.change(
                rule,
                ChangeKind::RecordInactiveKey {
                    user: user.name.clone(),
                    delete_on,
                    key,
                },
            ),
            Inactive::Notice { since, due } => out.notice(
                Address::AccessKey {
                    user: user.name.clone(),
                    key_id: key.id.clone(),
                },
                rule,
                due,
                Action::Delete,
                format!(
                    "{} will be deleted on {}: inactive since {}; reactivate it before if it is still needed",
                    key.id,
                    day(due),
                    day(since)
                ),
            ),
            Inactive::Waiting => {}
        }
    }

    /// Each rule that flags an active key, with what it asks for, in rule order.
    fn key_flags(
        &self,
        user: &User,
        key: &AccessKey,
        lifecycle: &Lifecycle<AccessKeys>,
        credential: &Credential,
    ) -> Vec<KeyFlag> {
        let mut flags: Vec<KeyFlag> = Vec::new();
        if let Some(id) = key.id.iam() {
            if self
                .rules
                .rotate_now
                .contains(&(user.name.clone(), id.clone()))
            {
                flags.push(KeyFlag {
                    action: KeyEnforcement::Rotate,
                    reason: KeyReason::RotateNow,
                    message: "rotation asked for (--rotate-now)".to_owned(),
                });
            }
        }
        flags.extend(
            lifecycle
                .breaches(credential)
                .into_iter()
                .map(|breach| KeyFlag {
                    action: breach.action,
                    reason: KeyReason::Limit {
                        rule: breach.rule,
                        measure: breach.measure,
                    },
                    message: breach.message,
                }),
        );
        flags
    }
}
