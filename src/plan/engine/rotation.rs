//! Key rotation's part of the plan: the rotation a rule asks for (or why it cannot be made),
//! a rotation stopped half-way, and the upkeep of the `iamctl:rotation:` records. The state
//! machine these follow is `plan/rotation.rs`.

use std::collections::BTreeMap;

use chrono::Duration;

use super::access_keys::key_facts;
use super::{Context, Output, day};
use crate::desired::RotationRules;
use crate::plan::address::Address;
use crate::plan::change::{ChangeKind, KeyFacts, SecretTarget};
use crate::plan::records::{RotationRecord, UserRecords};
use crate::plan::rotation;
use crate::plan::rule::Rule;
use crate::state::{AccessKey, AccessKeyId, KeyStatus, User};

impl Context<'_> {
    /// The secret receiving `user`'s new keys.
    pub(super) fn secret_name(&self, spec: &RotationRules, user: &User) -> String {
        rotation::secret_name(
            &spec.secret_name,
            self.account,
            &self.live.account_id,
            &user.name,
        )
    }

    /// A rotation stopped between creating a key and recording it: record it when the secret
    /// holds the key, delete the key when it does not, say so when the secret was not read.
    pub(super) fn plan_interrupted_rotation(
        &self,
        user: &User,
        records: &UserRecords,
        interrupted: rotation::Interrupted<'_>,
        out: &mut Output,
    ) {
        use rotation::Interrupted;
        let old_key = |old: &AccessKeyId| {
            user.access_keys
                .iter()
                .find(|k| k.id.iam() == Some(old))
                .and_then(|k| key_facts(k, records))
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
                let Some(key) = key_facts(new, records) else {
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
    pub(super) fn plan_rotation(
        &self,
        user: &User,
        keys: &[&AccessKey],
        key: KeyFacts,
        rule: Rule,
        why: &str,
        out: &mut Output,
    ) {
        let key_rules = &self.rules.access_keys;
        let records = UserRecords::of(&user.tags);
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
            } else {
                let since = other
                    .id
                    .iam()
                    .and_then(|id| records.inactive_since.get(id).copied());
                // The caller's own key is never deleted: it does not make way.
                let deletion = self
                    .key_lifecycle()
                    .deletion_due(since)
                    .filter(|_| !self.is_caller_key(other));
                match deletion {
                    None => format!(
                        "the user's second key {other_id} is inactive and IAM allows two keys; delete it (or set delete_inactive = true)"
                    ),
                    Some(due) if due <= self.as_of => format!(
                        "the inactive key {other_id} is deleted first (delete_inactive), and the rotation follows on the next run"
                    ),
                    Some(due) => format!(
                        "the inactive key {other_id} is deleted first, on {} (delete_inactive_after_days), and the rotation follows",
                        day(due)
                    ),
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

    /// Rotation records that no longer hold: of a key that is gone, a pending rotation that
    /// created no key (a run stopped before it did) and is not started again now, a rotation
    /// whose new key is gone. A key with a change this run keeps its record (deleting the key
    /// removes it).
    pub(super) fn forget_stale_rotations(
        &self,
        user: &User,
        keys: &[&AccessKey],
        records: &BTreeMap<AccessKeyId, RotationRecord>,
        out: &mut Output,
    ) {
        for (key_id, record) in records {
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
    }
}
