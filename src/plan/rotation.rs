//! Key rotation (`on_expired = "rotate"`, `apply --rotate-now`): the state machine that lets
//! every run decide, from live state alone, where each rotation stands. Pure: the engine calls
//! it with the user's keys, tags and (when read) the secret's current version.
//!
//! The state of a rotation of key OLD lives in the account, in one user tag
//! `iamctl:rotation:OLD` (written and read by `plan/records.rs`), and in the secret's current
//! version, whose id names the key it holds ([`version_id`]: `iamctl-NEWKEY-TIME`). One tag,
//! not one per step:
//! its value moves from `pending@T` to `NEWKEY@T` in a single `TagUser`, so a run killed at
//! any point leaves one state or the other.
//!
//! ```text
//!                 (OLD older than max_age_days, or --rotate-now; OLD the user's only key)
//!   no record ───────────── rotate ──────────────▶ apply: 1. tag pending@T
//!       ▲                                                 2. secret exists, policy set
//!       │                                                 3. CreateAccessKey → NEW
//!       │                                                 4. PutSecretValue (version NEW)
//!       │                                                    fails → DeleteAccessKey NEW
//!       │                                                 5. tag NEW@T
//!       │
//!   pending@T, and a key K ≠ OLD created since T (the run stopped after 3):
//!       K is the secret's current key → tag NEW@T (`RecordRotation`): delivered
//!       otherwise                     → delete K (undelivered), nothing else for the user
//!   pending@T, and no such key (stopped before 3, or K deleted): OLD is planned as any key;
//!       no change for it → the record goes (`ForgetRotation`)
//!
//!   NEW@T, NEW exists, OLD active: max_age_days no longer flags OLD; once NEW is used, or on
//!       T + overlap_days, OLD is deactivated (rule users.access_keys.rotation); until then a
//!       notice gives the date OLD stops working and the secret holding NEW
//!   NEW@T, OLD inactive: delete_inactive deletes OLD after its grace, and the record with it
//!   NEW@T, NEW gone: OLD is planned as any key (rotated again if still old); no change for
//!       it → the record goes
//!   a record of a key that is gone: the record goes
//! ```
//!
//! A plan is therefore a function of the keys, the tags and the secret's current version id;
//! no local file, and every runner sees the same state. The secret's value is never read.

use std::collections::BTreeMap;

use chrono::{DateTime, Duration, Utc};

use super::records::{RotationRecord, UserRecords};
use crate::state::{AccessKey, AccessKeyId, User};

/// A key created up to this long before its rotation's pending record counts as created
/// by that rotation: the record's time is iamctl's clock, the key's creation IAM's.
const CLOCK_SLACK: Duration = Duration::minutes(5);

/// The prefix of the version ids iamctl writes.
const VERSION_PREFIX: &str = "iamctl-";

/// The id of the secret version holding `key`: `iamctl-AKID-UNIXTIME`, at least 32
/// characters as Secrets Manager requires of a `ClientRequestToken` (IAM key ids are 16 or
/// more). `None` for a key id too long for the 64 allowed.
pub fn version_id(key: &AccessKeyId, at: DateTime<Utc>) -> Option<String> {
    let id = format!("{VERSION_PREFIX}{key}-{:010}", at.timestamp());
    (id.len() <= 64).then(|| format!("{id:0<32}"))
}

/// The key a secret version of iamctl's holds, from its id.
pub fn key_of_version(version_id: &str) -> Option<AccessKeyId> {
    let rest = version_id.strip_prefix(VERSION_PREFIX)?;
    let (key, _) = rest.split_once('-')?;
    AccessKeyId::new(key).ok()
}

/// The secret of `user` in account `account` (`account_id`): the template's placeholders
/// filled in (validated before: `{account}`, `{account_id}`, `{user}` only).
pub fn secret_name(template: &str, account: &str, account_id: &str, user: &str) -> String {
    template
        .replace("{account_id}", account_id)
        .replace("{account}", account)
        .replace("{user}", user)
}

/// Whether Secrets Manager accepts `name`: 1 to 512 of letters, digits and `/_+=.@-` (an IAM
/// user name may hold a comma, which a secret name may not).
pub fn is_valid_secret_name(name: &str) -> bool {
    (1..=512).contains(&name.len())
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "/_+=.@-".contains(c))
}

/// The rotation records on `user`, by old key; tags that do not parse are no record.
pub fn records(user: &User) -> BTreeMap<AccessKeyId, RotationRecord> {
    UserRecords::of(&user.tags).rotations
}

/// What a rotation stopped between creating its key and recording it asks for. While one is
/// there, it is the only thing planned about the user's keys: the undelivered key goes before
/// anything else happens to them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Interrupted<'a> {
    /// The key is the secret's current one: the rotation delivered it; record that.
    Delivered {
        old: AccessKeyId,
        new: &'a AccessKey,
        since: DateTime<Utc>,
    },
    /// It is not: nobody has its secret. Delete it.
    Undelivered {
        old: AccessKeyId,
        new: &'a AccessKey,
    },
    /// The secret was not read (a snapshot, or no rotation table to name it): nothing can be
    /// decided.
    Unknown {
        old: AccessKeyId,
        new: &'a AccessKey,
    },
}

/// The first interrupted rotation of `user`: a pending record, and a key other than the old
/// one created since the record was made (the newest such).
pub fn interrupted<'a>(
    user: &'a User,
    records: &BTreeMap<AccessKeyId, RotationRecord>,
) -> Option<Interrupted<'a>> {
    records.iter().find_map(|(old, record)| {
        let RotationRecord::Pending { since } = record else {
            return None;
        };
        let new = user
            .access_keys
            .iter()
            .filter(|k| k.id.iam().is_some_and(|id| id != old))
            .filter(|k| k.created >= *since - CLOCK_SLACK)
            .max_by_key(|k| k.created)?;
        let old = old.clone();
        Some(match &user.rotation_secret {
            None => Interrupted::Unknown { old, new },
            Some(secret) if secret.current_key.as_ref() == new.id.iam() => Interrupted::Delivered {
                old,
                new,
                since: *since,
            },
            Some(_) => Interrupted::Undelivered { old, new },
        })
    })
}

/// A delivered rotation of an active key whose new key still exists: the new key, and when it
/// was delivered.
pub fn live_rotation<'a>(
    user: &'a User,
    record: Option<&RotationRecord>,
) -> Option<(&'a AccessKey, DateTime<Utc>)> {
    let Some(RotationRecord::Rotated { to, at }) = record else {
        return None;
    };
    let new = user.access_keys.iter().find(|k| k.id.iam() == Some(to))?;
    Some((new, *at))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::state::{KeyId, KeyStatus, RotationSecret};

    fn at(s: &str) -> DateTime<Utc> {
        s.parse().unwrap()
    }

    fn id(s: &str) -> AccessKeyId {
        AccessKeyId::new(s).unwrap()
    }

    fn key(name: &str, created: &str) -> AccessKey {
        AccessKey {
            id: KeyId::Iam(id(name)),
            status: KeyStatus::Active,
            created: at(created),
            last_used: None,
        }
    }

    #[test]
    fn version_ids_name_their_key_and_fit_secrets_manager() {
        let when = at("2026-03-01T12:00:00Z");
        let version = version_id(&id("AKIAIOSFODNN7EXAMPLE"), when).unwrap();
        assert_eq!(version, "iamctl-AKIAIOSFODNN7EXAMPLE-1772366400");
        assert!((32..=64).contains(&version.len()));
        assert_eq!(key_of_version(&version), Some(id("AKIAIOSFODNN7EXAMPLE")));
        // A short id is padded to the 32 characters a token needs, and still read back.
        let short = version_id(&id("AKIA123456789012"), when).unwrap();
        assert_eq!(short.len(), 34);
        assert_eq!(key_of_version(&short), Some(id("AKIA123456789012")));
        assert_eq!(version_id(&id(&"A".repeat(60)), when), None);
        // Versions written by anyone else name no key.
        assert_eq!(key_of_version("9a8f2c1e-0000-4000-8000-000000000000"), None);
    }

    #[test]
    fn secret_names_fill_every_placeholder() {
        assert_eq!(
            secret_name(
                "iamctl/{account}/{account_id}/{user}",
                "prod",
                "111111111111",
                "ci.bot"
            ),
            "iamctl/prod/111111111111/ci.bot"
        );
        assert!(is_valid_secret_name("iamctl/111111111111/ci.bot@x"));
        assert!(!is_valid_secret_name("iamctl/a,b"));
        assert!(!is_valid_secret_name(""));
    }

    #[test]
    fn records_round_trip_through_their_tag_values() {
        let mut user = User::new("bob", at("2020-01-01T00:00:00Z"));
        user.tags.insert(
            "iamctl:rotation:AKIAOLD".into(),
            "pending@2026-03-01T00:00:00Z".into(),
        );
        user.tags.insert(
            "iamctl:rotation:AKIAOTHER".into(),
            "AKIANEW@2026-02-01T00:00:00Z".into(),
        );
        user.tags
            .insert("iamctl:rotation:AKIABAD".into(), "garbage".into());
        let records = records(&user);
        assert_eq!(records.len(), 2, "{records:?}");
        assert_eq!(
            records[&id("AKIAOLD")],
            RotationRecord::Pending {
                since: at("2026-03-01T00:00:00Z")
            }
        );
        for record in records.values() {
            assert_eq!(
                record.to_string().parse::<RotationRecord>().unwrap(),
                *record
            );
        }
        assert_eq!(
            records[&id("AKIAOTHER")].to_string(),
            "AKIANEW@2026-02-01T00:00:00Z"
        );
    }

    #[test]
    fn an_interrupted_rotation_is_told_by_the_secrets_current_version() {
        let mut user = User::new("bob", at("2020-01-01T00:00:00Z"));
        user.access_keys = vec![
            key("AKIAOLD", "2025-01-01T00:00:00Z"),
            key("AKIANEW", "2026-03-01T00:00:10Z"),
        ];
        user.tags.insert(
            "iamctl:rotation:AKIAOLD".into(),
            "pending@2026-03-01T00:00:05Z".into(),
        );
        let secret = |current: Option<&str>| {
            Some(RotationSecret {
                name: "iamctl/bob".into(),
                current_key: current.map(id),
            })
        };
        let new = &user.access_keys[1].clone();
        let verdict = |user: &User| interrupted(user, &records(user)).map(|i| format!("{i:?}"));

        assert_eq!(
            verdict(&user),
            Some(format!(
                "{:?}",
                Interrupted::Unknown {
                    old: id("AKIAOLD"),
                    new
                }
            ))
        );
        user.rotation_secret = secret(Some("AKIAEARLIER"));
        assert!(matches!(
            interrupted(&user, &records(&user)),
            Some(Interrupted::Undelivered { .. })
        ));
        user.rotation_secret = secret(None);
        assert!(matches!(
            interrupted(&user, &records(&user)),
            Some(Interrupted::Undelivered { .. })
        ));
        user.rotation_secret = secret(Some("AKIANEW"));
        assert!(matches!(
            interrupted(&user, &records(&user)),
            Some(Interrupted::Delivered { .. })
        ));
        // A key older than the record is no key of that rotation's.
        user.access_keys[1].created = at("2026-02-01T00:00:00Z");
        assert_eq!(interrupted(&user, &records(&user)), None);
    }
}
