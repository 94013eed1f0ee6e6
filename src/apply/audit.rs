//! The audit log of `apply --audit-log FILE`: JSON Lines, one record per change attempted,
//! appended and flushed as each change ends, so that the log is complete up to the moment
//! a run stops, however it stops.

use std::fs::{File, OpenOptions};
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use chrono::{DateTime, SecondsFormat, Utc};
use serde::Serialize;

use super::Outcome;

/// An append-only audit log. Cheap to clone: every account of a run shares one file, and
/// the lock keeps records from interleaving.
#[derive(Debug, Clone)]
pub struct AuditLog {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    path: PathBuf,
    file: Mutex<File>,
    /// The first write that failed: later changes are not made unaudited.
    broken: Mutex<Option<String>>,
}

/// One line of the log. Built only from an [`Outcome`], which holds no secret.
#[derive(Serialize)]
struct Record<'a> {
    time: String,
    account: &'a str,
    account_id: &'a str,
    #[serde(flatten)]
    outcome: &'a Outcome,
}

impl AuditLog {
    /// Opens (creating if needed) `path` for appending.
    pub fn open(path: impl AsRef<Path>) -> io::Result<Self> {
        let path = path.as_ref();
        let file = OpenOptions::new()
            .create(true)
            .append(true)
            .open(path)
            .map_err(|e| {
                io::Error::new(
                    e.kind(),
                    format!("opening audit log {}: {e}", path.display()),
                )
            })?;
        Ok(Self {
            inner: Arc::new(Inner {
                path: path.to_owned(),
                file: Mutex::new(file),
                broken: Mutex::new(None),
            }),
        })
    }

    pub fn path(&self) -> &Path {
        &self.inner.path
    }

    /// Appends the record of one attempted change, stamped now.
    pub fn record(&self, account: &str, account_id: &str, outcome: &Outcome) -> io::Result<()> {
        self.record_at(Utc::now(), account, account_id, outcome)
    }

    fn record_at(
        &self,
        time: DateTime<Utc>,
        account: &str,
        account_id: &str,
        outcome: &Outcome,
    ) -> io::Result<()> {
        let record = Record {
            time: time.to_rfc3339_opts(SecondsFormat::Millis, true),
            account,
            account_id,
            outcome,
        };
        let mut line = serde_json::to_vec(&record).map_err(io::Error::other)?;
        line.push(b'\n');
        // One write of a whole line to an O_APPEND file: even another process appending to
        // the same log cannot split it.
        let written = {
            let mut file = self
                .inner
                .file
                .lock()
                .unwrap_or_else(|poisoned| poisoned.into_inner());
            file.write_all(&line).and_then(|()| file.flush())
        };
        written.map_err(|e| {
            let e = io::Error::new(
                e.kind(),
                format!("writing audit log {}: {e}", self.inner.path.display()),
            );
            self.inner
                .broken
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .get_or_insert_with(|| e.to_string());
            e
        })
    }

    /// Why the log can no longer be written, once a write has failed.
    pub fn broken(&self) -> Option<String> {
        self.inner
            .broken
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::apply::OutcomeStatus;
    use crate::plan::{Action, Address};

    #[test]
    fn records_are_json_lines_with_the_outcome_flattened() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("audit.jsonl");
        let log = AuditLog::open(&path).unwrap();
        let outcome = |status| Outcome {
            address: Address::AccessKey {
                user: "bob".into(),
                key_id: "AKIA1".parse().unwrap(),
            },
            action: Action::Delete,
            rule: crate::plan::Rule::KeysDeleteInactive,
            status,
        };
        let time = "2026-11-23T12:00:00Z".parse().unwrap();
        log.record_at(time, "prod", "111111111111", &outcome(OutcomeStatus::Done))
            .unwrap();
        // A second handle (as a second run would open) appends after the first.
        let again = AuditLog::open(&path).unwrap();
        again
            .record_at(
                time,
                "prod",
                "111111111111",
                &outcome(OutcomeStatus::Failed {
                    error: "boom".into(),
                }),
            )
            .unwrap();

        let text = std::fs::read_to_string(&path).unwrap();
        let lines: Vec<serde_json::Value> = text
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
        assert_eq!(
            lines[0],
            serde_json::json!({
                "time": "2026-11-23T12:00:00.000Z", "account": "prod", "account_id": "111111111111",
                "address": "user.bob.access_key.AKIA1", "action": "delete",
                "rule": "users.access_keys.delete_inactive", "status": "done"
            })
        );
        assert_eq!(lines[1]["status"], "failed");
        assert_eq!(lines[1]["error"], "boom");
        assert_eq!(lines.len(), 2);
        assert!(log.broken().is_none());
    }
}
