//! The one codec of iamctl's records in the account: every `iamctl:*` user tag, its key and its
//! value, is formatted and parsed here, and nowhere else.
//!
//! Timing state lives in the account, as user tags, so that every runner sees it and a killed
//! run cannot lose it:
//! - `iamctl:inactive-since:AKID` = RFC 3339 time: when key AKID became inactive (iamctl
//!   deactivated it, or a run first saw it inactive); the deletion grace counts from it.
//! - `iamctl:inactive-since:KIND:ID` = RFC 3339 time: the same for a service-specific
//!   credential or an SSH public key (`KIND` is `service_credential` or `ssh_key`, as in its
//!   address), so that no record of one kind is taken for another's.
//! - `iamctl:unlisted-since` = RFC 3339 time: when a run first found the user outside
//!   `[users.inventory]` (`on_unlisted = "disable"` acts `notice_days` after it).
//! - `iamctl:rotation:OLDKEY` = `pending@TIME`, then `NEWKEY@TIME`: a key rotation's progress
//!   (see `plan::rotation`). One tag whose value moves in one `TagUser`, so a killed run leaves
//!   one state or the other, never both.
//!
//! A tag that does not parse is no record: the next run writes a good one (an inactive key's
//! grace then starts later, never earlier).

use std::collections::BTreeMap;
use std::fmt;

use chrono::{DateTime, SecondsFormat, Utc};
use serde::{Deserialize, Serialize};

use crate::state::{AccessKeyId, CredentialType};

/// The prefix of the tag recording when a key became inactive.
pub const INACTIVE_SINCE_TAG: &str = "iamctl:inactive-since:";

/// The prefix of the tag recording a key's rotation.
pub const ROTATION_TAG: &str = "iamctl:rotation:";

/// The tag recording when `key` became inactive.
pub fn inactive_since_tag(key: &AccessKeyId) -> String {
    format!("{INACTIVE_SINCE_TAG}{key}")
}

/// The tag recording when a credential of another kind became inactive.
pub fn credential_inactive_since_tag(kind: CredentialType, id: &str) -> String {
    format!("{INACTIVE_SINCE_TAG}{kind}:{id}")
}

/// The tag recording since when a user is outside `[users.inventory]`.
pub const UNLISTED_SINCE_TAG: &str = "iamctl:unlisted-since";

/// The tag recording the rotation of `key`.
pub fn rotation_tag(key: &AccessKeyId) -> String {
    format!("{ROTATION_TAG}{key}")
}

/// A time as records hold it: RFC 3339, whole seconds, `Z`.
fn stamp(at: &DateTime<Utc>) -> String {
    at.to_rfc3339_opts(SecondsFormat::Secs, true)
}

/// One of iamctl's records, as a user tag holds it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Record {
    /// Key `key` has been inactive since `since`.
    InactiveSince {
        key: AccessKeyId,
        since: DateTime<Utc>,
    },
    /// Credential `id` of `kind` has been inactive since `since`.
    CredentialInactiveSince {
        kind: CredentialType,
        id: String,
        since: DateTime<Utc>,
    },
    /// The user has been outside `[users.inventory]` since `since`.
    UnlistedSince { since: DateTime<Utc> },
    /// Where the rotation of key `key` stands.
    Rotation {
        key: AccessKeyId,
        record: RotationRecord,
    },
}

impl Record {
    /// The record a tag holds; `None` for a tag that is not iamctl's or does not parse.
    pub fn parse(tag: &str, value: &str) -> Option<Record> {
        if tag == UNLISTED_SINCE_TAG {
            return Some(Record::UnlistedSince {
                since: value.parse().ok()?,
            });
        }
        if let Some(rest) = tag.strip_prefix(INACTIVE_SINCE_TAG) {
            // An access key id holds no `:`, so a kind's segment before one is another kind's.
            if let Some((segment, id)) = rest.split_once(':') {
                let kind = CredentialType::ALL
                    .into_iter()
                    .find(|kind| kind.segment() == segment)?;
                return CredentialType::is_id(id).then_some(Record::CredentialInactiveSince {
                    kind,
                    id: id.to_owned(),
                    since: value.parse().ok()?,
                });
            }
            let key = rest;
            return Some(Record::InactiveSince {
                key: AccessKeyId::new(key).ok()?,
                since: value.parse().ok()?,
            });
        }
        if let Some(key) = tag.strip_prefix(ROTATION_TAG) {
            return Some(Record::Rotation {
                key: AccessKeyId::new(key).ok()?,
                record: value.parse().ok()?,
            });
        }
        None
    }

    /// The tag's key.
    pub fn tag(&self) -> String {
        match self {
            Record::InactiveSince { key, .. } => inactive_since_tag(key),
            Record::CredentialInactiveSince { kind, id, .. } => {
                credential_inactive_since_tag(*kind, id)
            }
            Record::UnlistedSince { .. } => UNLISTED_SINCE_TAG.to_owned(),
            Record::Rotation { key, .. } => rotation_tag(key),
        }
    }

    /// The tag's value.
    pub fn value(&self) -> String {
        match self {
            Record::InactiveSince { since, .. }
            | Record::CredentialInactiveSince { since, .. }
            | Record::UnlistedSince { since } => stamp(since),
            Record::Rotation { record, .. } => record.to_string(),
        }
    }
}

/// The records on one user, by key, read from its tags once.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct UserRecords {
    /// When each key became inactive (`iamctl:inactive-since:AKID`).
    pub inactive_since: BTreeMap<AccessKeyId, DateTime<Utc>>,
    /// Each key's rotation (`iamctl:rotation:OLDKEY`).
    pub rotations: BTreeMap<AccessKeyId, RotationRecord>,
    /// When each credential of another kind became inactive
    /// (`iamctl:inactive-since:KIND:ID`).
    pub credentials_inactive_since: BTreeMap<(CredentialType, String), DateTime<Utc>>,
    /// Since when the user is outside `[users.inventory]` (`iamctl:unlisted-since`).
    pub unlisted_since: Option<DateTime<Utc>>,
}

impl UserRecords {
    /// Since when the credential `kind` `id` is recorded inactive, if it is.
    pub fn credential_inactive_since(
        &self,
        kind: CredentialType,
        id: &str,
    ) -> Option<DateTime<Utc>> {
        self.credentials_inactive_since
            .get(&(kind, id.to_owned()))
            .copied()
    }

    /// Every record among `tags`; tags that are not iamctl's, or do not parse, are left out.
    pub fn of<'a>(tags: impl IntoIterator<Item = (&'a String, &'a String)>) -> UserRecords {
        let mut records = UserRecords::default();
        for (tag, value) in tags {
            match Record::parse(tag, value) {
                Some(Record::InactiveSince { key, since }) => {
                    records.inactive_since.insert(key, since);
                }
                Some(Record::Rotation { key, record }) => {
                    records.rotations.insert(key, record);
                }
                Some(Record::CredentialInactiveSince { kind, id, since }) => {
                    records.credentials_inactive_since.insert((kind, id), since);
                }
                Some(Record::UnlistedSince { since }) => records.unlisted_since = Some(since),
                None => {}
            }
        }
        records
    }
}

/// What a rotation record says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RotationRecord {
    /// Apply is about to create a new key (or did, and was stopped before delivering it).
    Pending { since: DateTime<Utc> },
    /// The new key `to` was delivered to the secret at `at`.
    Rotated { to: AccessKeyId, at: DateTime<Utc> },
}

const PENDING: &str = "pending";

impl RotationRecord {
    /// When the rotation started (pending) or delivered its key.
    pub fn at(&self) -> DateTime<Utc> {
        match self {
            RotationRecord::Pending { since } => *since,
            RotationRecord::Rotated { at, .. } => *at,
        }
    }
}

impl fmt::Display for RotationRecord {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RotationRecord::Pending { since } => write!(f, "{PENDING}@{}", stamp(since)),
            RotationRecord::Rotated { to, at } => write!(f, "{to}@{}", stamp(at)),
        }
    }
}

impl std::str::FromStr for RotationRecord {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let bad = || format!("not a rotation record: {s:?}");
        let (what, at) = s.split_once('@').ok_or_else(bad)?;
        let at: DateTime<Utc> = at.parse().map_err(|_| bad())?;
        if what == PENDING {
            return Ok(RotationRecord::Pending { since: at });
        }
        let to = AccessKeyId::new(what).map_err(|_| bad())?;
        Ok(RotationRecord::Rotated { to, at })
    }
}

impl Serialize for RotationRecord {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for RotationRecord {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        String::deserialize(deserializer)?
            .parse()
            .map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: &str) -> DateTime<Utc> {
        s.parse().unwrap()
    }

    fn id(s: &str) -> AccessKeyId {
        AccessKeyId::new(s).unwrap()
    }

    #[test]
    fn every_record_round_trips_through_its_tag() {
        let records = [
            Record::InactiveSince {
                key: id("AKIAOLD"),
                since: at("2026-03-01T12:30:00Z"),
            },
            Record::Rotation {
                key: id("AKIAOLD"),
                record: RotationRecord::Pending {
                    since: at("2026-03-01T00:00:00Z"),
                },
            },
            Record::Rotation {
                key: id("AKIAOTHER"),
                record: RotationRecord::Rotated {
                    to: id("AKIANEW"),
                    at: at("2026-02-01T00:00:00Z"),
                },
            },
            Record::CredentialInactiveSince {
                kind: CredentialType::SshKey,
                id: "APKAEIBAERJR2EXAMPLE".into(),
                since: at("2026-03-02T00:00:00Z"),
            },
            Record::UnlistedSince {
                since: at("2026-03-03T00:00:00Z"),
            },
        ];
        let written: Vec<(String, String)> = records.iter().map(|r| (r.tag(), r.value())).collect();
        assert_eq!(
            written,
            [
                (
                    "iamctl:inactive-since:AKIAOLD".into(),
                    "2026-03-01T12:30:00Z".into()
                ),
                (
                    "iamctl:rotation:AKIAOLD".into(),
                    "pending@2026-03-01T00:00:00Z".into()
                ),
                (
                    "iamctl:rotation:AKIAOTHER".into(),
                    "AKIANEW@2026-02-01T00:00:00Z".into()
                ),
                (
                    "iamctl:inactive-since:ssh_key:APKAEIBAERJR2EXAMPLE".into(),
                    "2026-03-02T00:00:00Z".into()
                ),
                (
                    "iamctl:unlisted-since".into(),
                    "2026-03-03T00:00:00Z".into()
                ),
            ]
        );
        // A record of another kind is not an access key's.
        let of_user = UserRecords::of(written.iter().map(|(t, v)| (t, v)));
        assert_eq!(of_user.inactive_since.len(), 1);
        assert_eq!(of_user.credentials_inactive_since.len(), 1);
        assert_eq!(
            Record::parse(
                "iamctl:inactive-since:no_such_kind:X1",
                "2026-03-02T00:00:00Z"
            ),
            None
        );
        for (record, (tag, value)) in records.iter().zip(&written) {
            assert_eq!(Record::parse(tag, value).as_ref(), Some(record));
        }
        assert_eq!(inactive_since_tag(&id("AKIAOLD")), written[0].0);
        assert_eq!(rotation_tag(&id("AKIAOLD")), written[1].0);
    }

    #[test]
    fn a_time_is_written_to_the_second() {
        let record = Record::InactiveSince {
            key: id("AKIAOLD"),
            since: at("2026-03-01T12:30:00.987654Z"),
        };
        assert_eq!(record.value(), "2026-03-01T12:30:00Z");
        // Any RFC 3339 time reads back (a record written by hand, with an offset).
        assert_eq!(
            Record::parse("iamctl:inactive-since:AKIAOLD", "2026-03-01T14:30:00+02:00"),
            Some(Record::InactiveSince {
                key: id("AKIAOLD"),
                since: at("2026-03-01T12:30:00Z")
            })
        );
    }

    #[test]
    fn tags_that_are_not_records_are_left_out() {
        let tags: BTreeMap<String, String> = [
            ("team", "payments"),
            ("iamctl:inactive-since:AKIAOLD", "2026-03-01T00:00:00Z"),
            ("iamctl:inactive-since:AKIABAD", "yesterday"),
            ("iamctl:inactive-since:not an id", "2026-03-01T00:00:00Z"),
            ("iamctl:rotation:AKIAOLD", "pending@2026-03-02T00:00:00Z"),
            ("iamctl:rotation:AKIAGARBAGE", "garbage"),
            ("iamctl:rotation:AKIANOAT", "AKIANEW"),
            ("iamctl:unknown:AKIAOLD", "2026-03-01T00:00:00Z"),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect();
        let records = UserRecords::of(&tags);
        assert_eq!(
            records.inactive_since,
            BTreeMap::from([(id("AKIAOLD"), at("2026-03-01T00:00:00Z"))])
        );
        assert_eq!(
            records.rotations,
            BTreeMap::from([(
                id("AKIAOLD"),
                RotationRecord::Pending {
                    since: at("2026-03-02T00:00:00Z")
                }
            )])
        );
    }

    #[test]
    fn rotation_records_serialize_as_their_tag_value() {
        let record = RotationRecord::Rotated {
            to: id("AKIANEW"),
            at: at("2026-02-01T00:00:00Z"),
        };
        let json = serde_json::to_string(&record).unwrap();
        assert_eq!(json, "\"AKIANEW@2026-02-01T00:00:00Z\"");
        assert_eq!(
            serde_json::from_str::<RotationRecord>(&json).unwrap(),
            record
        );
        assert!(serde_json::from_str::<RotationRecord>("\"AKIANEW\"").is_err());
    }
}
