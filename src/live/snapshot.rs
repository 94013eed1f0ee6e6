//! Snapshot files: the live state of several accounts as one JSON document, written by
//! `iamctl snapshot` and read by `plan --snapshot` (offline, no credentials). They hold facts
//! only: [`AccountState`] has no field that could carry a secret.
//!
//! ```json
//! {"format_version": "1", "taken_at": "2026-11-23T00:00:00Z",
//!  "accounts": [{"name": "prod", "account_id": "111111111111", "password_policy": null, "users": []}]}
//! ```

use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use chrono::{DateTime, Utc};
use miette::{Diagnostic, NamedSource, SourceSpan};
use serde::{Deserialize, Serialize};

use crate::state::{
    AccountState, AnalyzersByRegion, Caller, Grantee, OrganizationFeatures, PasswordPolicy,
    RootUser, ServerCertificate, Trail, User,
};

/// The version of the snapshot format this build reads and writes.
pub const FORMAT_VERSION: &str = "1";

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Snapshot {
    pub format_version: String,
    pub taken_at: DateTime<Utc>,
    pub accounts: Vec<NamedAccount>,
}

impl Snapshot {
    pub fn new(taken_at: DateTime<Utc>, accounts: Vec<NamedAccount>) -> Self {
        Self {
            format_version: FORMAT_VERSION.to_owned(),
            taken_at,
            accounts,
        }
    }

    pub fn account(&self, name: &str) -> Option<&NamedAccount> {
        self.accounts.iter().find(|a| a.name == name)
    }
}

/// One account of a snapshot: its target name, and its state's fields alongside.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(from = "NamedAccountFields")]
pub struct NamedAccount {
    pub name: String,
    #[serde(flatten)]
    pub state: AccountState,
}

/// What a [`NamedAccount`] is read through. Serde ignores unknown fields of a flattened
/// struct, so a misspelt key (`"trail"` for `"trails"`) would vanish silently; spelling the
/// fields out keeps them refused, at their line and column. The struct literal in `from`
/// fails to compile when [`AccountState`] gains a field, so the two cannot drift apart.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct NamedAccountFields {
    name: String,
    account_id: String,
    #[serde(default)]
    caller: Option<Caller>,
    password_policy: Option<PasswordPolicy>,
    users: Vec<User>,
    #[serde(default)]
    trails: Option<Vec<Trail>>,
    #[serde(default)]
    credential_report_generated_at: Option<DateTime<Utc>>,
    #[serde(default)]
    root: Option<RootUser>,
    #[serde(default)]
    groups: Option<Vec<Grantee>>,
    #[serde(default)]
    roles: Option<Vec<Grantee>>,
    #[serde(default)]
    server_certificates: Option<Vec<ServerCertificate>>,
    #[serde(default)]
    security_contact_registered: Option<bool>,
    #[serde(default)]
    access_analyzers: Option<AnalyzersByRegion>,
    #[serde(default)]
    organization_features: Option<OrganizationFeatures>,
    #[serde(default)]
    service_wildcard_policies: Option<Vec<String>>,
}

impl From<NamedAccountFields> for NamedAccount {
    fn from(f: NamedAccountFields) -> Self {
        NamedAccount {
            name: f.name,
            state: AccountState {
                account_id: f.account_id,
                caller: f.caller,
                password_policy: f.password_policy,
                users: f.users,
                trails: f.trails,
                credential_report_generated_at: f.credential_report_generated_at,
                root: f.root,
                groups: f.groups,
                roles: f.roles,
                server_certificates: f.server_certificates,
                security_contact_registered: f.security_contact_registered,
                access_analyzers: f.access_analyzers,
                organization_features: f.organization_features,
                service_wildcard_policies: f.service_wildcard_policies,
            },
        }
    }
}

#[derive(Debug, thiserror::Error, Diagnostic)]
pub enum SnapshotError {
    #[error("reading snapshot {}: {source}", path.display())]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("writing snapshot {}: {source}", path.display())]
    Write {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{}:{line}:{column}: {message}", path.display())]
    #[diagnostic(help("a snapshot is the JSON that `iamctl snapshot -o FILE` writes"))]
    Parse {
        path: PathBuf,
        line: usize,
        column: usize,
        message: String,
        /// Shared, to keep the error small: it is returned by value everywhere. `None` when
        /// the line is too long to show (see [`MAX_SNIPPET_LINE`]).
        #[source_code]
        source_code: Option<Arc<NamedSource<String>>>,
        #[label("{message}")]
        span: Option<SourceSpan>,
    },
    #[error("{}: snapshot format_version {found} is not supported; this iamctl reads format_version \"{FORMAT_VERSION}\"", path.display())]
    #[diagnostic(help("take the snapshot again with this version of iamctl"))]
    Version { path: PathBuf, found: String },
    #[error("{}: the snapshot has two accounts named {name:?}", path.display())]
    DuplicateAccount { path: PathBuf, name: String },
}

/// Reads and checks a snapshot file.
pub fn read_snapshot(path: &Path) -> Result<Snapshot, SnapshotError> {
    let text = std::fs::read_to_string(path).map_err(|source| SnapshotError::Read {
        path: path.to_owned(),
        source,
    })?;
    parse_snapshot(path, text)
}

/// Parses snapshot text; `path` only names it in errors.
pub fn parse_snapshot(path: &Path, text: String) -> Result<Snapshot, SnapshotError> {
    // The version first: a file of another version would otherwise fail on some field that
    // changed, which says less than "wrong version".
    #[derive(Deserialize)]
    struct Probe {
        format_version: Option<serde_json::Value>,
    }
    let probe: Probe = serde_json::from_str(&text).map_err(|e| parse_error(path, &text, &e))?;
    match probe.format_version {
        Some(serde_json::Value::String(v)) if v == FORMAT_VERSION => {}
        Some(other) => {
            return Err(SnapshotError::Version {
                path: path.to_owned(),
                found: other.to_string(),
            });
        }
        None => {} // reported by the full parse, with its position
    }
    let snapshot: Snapshot =
        serde_json::from_str(&text).map_err(|e| parse_error(path, &text, &e))?;
    let mut names: Vec<&str> = snapshot.accounts.iter().map(|a| a.name.as_str()).collect();
    names.sort_unstable();
    if let Some(pair) = names.windows(2).find(|pair| pair[0] == pair[1]) {
        return Err(SnapshotError::DuplicateAccount {
            path: path.to_owned(),
            name: pair[0].to_owned(),
        });
    }
    Ok(snapshot)
}

/// Longest line (in bytes) shown as a snippet under a parse error. A minified snapshot is one
/// line: printed whole it buries the message, and past 65,535 columns miette's renderer
/// panics ("Formatting argument out of range"); the message's line:column still locate it.
const MAX_SNIPPET_LINE: usize = 1000;

fn parse_error(path: &Path, text: &str, err: &serde_json::Error) -> SnapshotError {
    let (line, column) = (err.line(), err.column());
    let full = err.to_string();
    let message = full
        .strip_suffix(&format!(" at line {line} column {column}"))
        .unwrap_or(&full)
        .to_owned();
    // serde_json counts columns in bytes from 1; column 0 means "before the first byte".
    let line_start: usize = text
        .split_inclusive('\n')
        .take(line.saturating_sub(1))
        .map(str::len)
        .sum();
    let offset = (line_start + column.saturating_sub(1)).min(text.len());
    let line_len = text[line_start.min(text.len())..]
        .split('\n')
        .next()
        .map_or(0, str::len);
    let snippet = line_len <= MAX_SNIPPET_LINE;
    SnapshotError::Parse {
        path: path.to_owned(),
        line,
        column,
        message,
        source_code: snippet.then(|| {
            Arc::new(NamedSource::new(
                path.display().to_string(),
                text.to_owned(),
            ))
        }),
        span: snippet.then(|| SourceSpan::new(offset.into(), usize::from(offset < text.len()))),
    }
}

/// Writes `snapshot` as pretty JSON. The file appears whole or not at all: the text goes to a
/// temporary file beside it, which is then renamed over `path`.
pub fn write_snapshot(path: &Path, snapshot: &Snapshot) -> Result<(), SnapshotError> {
    let fail = |source| SnapshotError::Write {
        path: path.to_owned(),
        source,
    };
    let mut text = serde_json::to_vec_pretty(snapshot).map_err(|e| fail(e.into()))?;
    text.push(b'\n');

    let file_name = path
        .file_name()
        .ok_or_else(|| fail(std::io::Error::other("not a file path")))?;
    let temp = path.with_file_name(format!(
        ".{}.{}.tmp",
        file_name.to_string_lossy(),
        std::process::id()
    ));
    let written = (|| {
        let mut file = std::fs::File::create(&temp)?;
        file.write_all(&text)?;
        file.sync_all()?;
        std::fs::rename(&temp, path)
    })();
    if let Err(source) = written {
        let _ = std::fs::remove_file(&temp);
        return Err(fail(source));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    const SAMPLE: &str = r#"{
  "format_version": "1",
  "taken_at": "2026-11-23T00:00:00Z",
  "accounts": [
    {
      "name": "prod",
      "account_id": "111111111111",
      "password_policy": null,
      "users": [{"name": "alice", "created": "2024-01-01T00:00:00Z"}]
    }
  ]
}"#;

    fn parse(text: &str) -> Result<Snapshot, SnapshotError> {
        parse_snapshot(Path::new("snap.json"), text.to_owned())
    }

    #[test]
    fn reads_accounts_with_their_state_alongside_the_name() {
        let snapshot = parse(SAMPLE).unwrap();
        let prod = snapshot.account("prod").unwrap();
        assert_eq!(prod.state.account_id, "111111111111");
        assert_eq!(prod.state.users[0].name, "alice");
        // Serialized back, the state's fields sit beside `name`.
        let value = serde_json::to_value(prod).unwrap();
        assert_eq!(value["name"], "prod");
        assert_eq!(value["account_id"], "111111111111");
    }

    #[test]
    fn misspelt_account_keys_are_refused_with_their_position() {
        let text = SAMPLE.replace(
            "\"password_policy\": null,",
            "\"password_policy\": null, \"trail\": [],",
        );
        let err = parse(&text).unwrap_err();
        let SnapshotError::Parse { line, message, .. } = &err else {
            panic!("{err}")
        };
        assert_eq!(*line, 8);
        assert!(message.contains("unknown field `trail`"), "{message}");
        assert!(err.to_string().starts_with("snap.json:8:"), "{err}");
    }

    #[test]
    fn errors_on_very_long_lines_render_without_a_snippet() {
        // Minified, one line, the mistake past column 65,535: rendering the snippet would
        // panic inside miette.
        let users = vec![r#"{"name": "u", "created": "2024-01-01T00:00:00Z"}"#; 2000].join(",");
        let text = SAMPLE.replace('\n', "").replace(
            r#"[{"name": "alice", "created": "2024-01-01T00:00:00Z"}]"#,
            &format!("[{users}]}}]}}x"),
        );
        let err = parse(&text).unwrap_err();
        let SnapshotError::Parse { column, .. } = &err else {
            panic!("{err}")
        };
        assert!(*column > 65_535, "{column}");
        let mut out = String::new();
        miette::GraphicalReportHandler::new()
            .render_report(&mut out, &err)
            .unwrap();
        assert!(out.contains("trailing characters"), "{out}");
        assert!(out.len() < 2_000, "{} bytes", out.len());
    }

    #[test]
    fn other_versions_are_refused_plainly() {
        let err = parse(&SAMPLE.replace("\"1\"", "\"2\"")).unwrap_err();
        assert!(matches!(err, SnapshotError::Version { .. }), "{err}");
        assert!(
            err.to_string()
                .contains("format_version \"2\" is not supported"),
            "{err}"
        );
    }

    #[test]
    fn duplicate_account_names_are_refused() {
        let text = r#"{"format_version": "1", "taken_at": "2026-11-23T00:00:00Z", "accounts": [
            {"name": "a", "account_id": "1", "password_policy": null, "users": []},
            {"name": "a", "account_id": "2", "password_policy": null, "users": []}]}"#;
        assert!(matches!(
            parse(text),
            Err(SnapshotError::DuplicateAccount { .. })
        ));
    }
}
