//! CloudTrail events as far as attribution cares, read from the JSON CloudTrail writes:
//! - a log file as delivered to S3: `{"Records": [record, ...]}` (also gzipped, `.json.gz`);
//! - an EventBridge rule's output: one event per line, or an array, each
//!   `{"detail-type": "AWS API Call via CloudTrail", "detail": record, ...}`;
//! - bare records, one per line or in an array;
//! - the `CloudTrailEvent` string of a `LookupEvents` answer (one record).
//!
//! A record's fields are CloudTrail's (`eventName`, `eventTime`, `userIdentity`,
//! `requestParameters`, ...); only what says who changed which object is kept.

use std::io::Read;
use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};
use serde_json::Value;

/// One CloudTrail event, reduced to what attribution needs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Event {
    pub event_id: String,
    /// `UpdateAccountPasswordPolicy`, `CreateAccessKey`, ...
    pub event_name: String,
    /// `iam.amazonaws.com`, `cloudtrail.amazonaws.com`.
    pub event_source: String,
    pub event_time: DateTime<Utc>,
    /// Who: `userIdentity.arn`, or `invokedBy` / `principalId` for callers without an ARN.
    pub principal_arn: String,
    pub source_ip: Option<String>,
    /// The account the event happened in (`recipientAccountId`), when the record says.
    pub account_id: Option<String>,
    /// The call failed (`errorCode`): it changed nothing.
    pub failed: bool,
    /// The IAM user the call acted on: `requestParameters.userName`, else the calling IAM
    /// user itself (a user managing their own key or password).
    pub user_name: Option<String>,
    /// The access key the call acted on (`requestParameters.accessKeyId`, or the new key of
    /// `CreateAccessKey`).
    pub access_key_id: Option<String>,
    /// The trail the call acted on (`requestParameters.name`, an ARN reduced to the name).
    pub trail_name: Option<String>,
}

/// An event as it arrived: the CloudTrail record, and what an EventBridge envelope around it
/// said (`plan --event`, `watch`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Envelope {
    /// EventBridge's `detail-type` (`AWS API Call via CloudTrail`, ...); `None` for a bare
    /// record or a log file's.
    pub detail_type: Option<String>,
    pub event: Event,
}

/// Why events could not be read.
#[derive(Debug, thiserror::Error, miette::Diagnostic)]
pub enum EventsError {
    #[error("reading CloudTrail events {}: {source}", path.display())]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{}:{line}: not CloudTrail events: {message}", path.display())]
    #[diagnostic(help(
        "--events and --event take CloudTrail log files as delivered to S3 ({{\"Records\": [...]}}, also .json.gz), \
         or EventBridge events (one per line, or an array of {{\"detail\": {{...}}}})"
    ))]
    Format {
        path: PathBuf,
        line: usize,
        message: String,
    },
}

/// Reads every event in `paths`: files, or folders searched recursively for `*.json`,
/// `*.jsonl` and `*.json.gz` (a synced `AWSLogs/` prefix works as it is).
pub fn read_event_files(paths: &[PathBuf]) -> Result<Vec<Event>, EventsError> {
    let mut events = Vec::new();
    for path in paths {
        let mut files = Vec::new();
        collect_files(path, &mut files)?;
        for file in files {
            events.extend(read_event_file(&file)?);
        }
    }
    Ok(events)
}

fn collect_files(path: &Path, out: &mut Vec<PathBuf>) -> Result<(), EventsError> {
    let io = |source| EventsError::Io {
        path: path.to_owned(),
        source,
    };
    if !path.is_dir() {
        out.push(path.to_owned());
        return Ok(());
    }
    let mut entries: Vec<PathBuf> = std::fs::read_dir(path)
        .map_err(io)?
        .map(|entry| entry.map(|e| e.path()))
        .collect::<Result<_, _>>()
        .map_err(io)?;
    entries.sort();
    for entry in entries {
        let name = entry.file_name().map(|n| n.to_string_lossy().into_owned());
        let name = name.unwrap_or_default();
        if entry.is_dir() {
            collect_files(&entry, out)?;
        } else if [".json", ".jsonl", ".json.gz"]
            .iter()
            .any(|ext| name.ends_with(ext))
        {
            out.push(entry);
        }
    }
    Ok(())
}

/// Reads one file (gunzipped first when it is gzip).
pub fn read_event_file(path: &Path) -> Result<Vec<Event>, EventsError> {
    Ok(read_envelope_file(path)?
        .into_iter()
        .map(|e| e.event)
        .collect())
}

/// [`read_event_file`] keeping the envelopes; `-` reads stdin.
pub fn read_envelope_file(path: &Path) -> Result<Vec<Envelope>, EventsError> {
    let io = |source| EventsError::Io {
        path: path.to_owned(),
        source,
    };
    let bytes = if path == Path::new("-") {
        let mut bytes = Vec::new();
        std::io::stdin()
            .lock()
            .read_to_end(&mut bytes)
            .map_err(io)?;
        bytes
    } else {
        std::fs::read(path).map_err(io)?
    };
    let text = if bytes.starts_with(&[0x1f, 0x8b]) {
        let mut text = String::new();
        flate2::read::MultiGzDecoder::new(bytes.as_slice())
            .read_to_string(&mut text)
            .map_err(io)?;
        text
    } else {
        String::from_utf8(bytes).map_err(|e| EventsError::Format {
            path: path.to_owned(),
            line: 1,
            message: format!("not UTF-8 text: {e}"),
        })?
    };
    parse_envelopes(&text).map_err(|(line, message)| EventsError::Format {
        path: path.to_owned(),
        line,
        message,
    })
}

/// Parses the text of one events file (see the module docs for the shapes). On error, the
/// 1-based line and what is wrong.
pub fn parse_events(text: &str) -> Result<Vec<Event>, (usize, String)> {
    Ok(parse_envelopes(text)?
        .into_iter()
        .map(|e| e.event)
        .collect())
}

/// [`parse_events`], keeping what the EventBridge envelope of each event said.
pub fn parse_envelopes(text: &str) -> Result<Vec<Envelope>, (usize, String)> {
    let trimmed = text.trim_start();
    if trimmed.is_empty() {
        return Ok(Vec::new());
    }
    // One JSON document (a log file, an array, a single event), else JSON Lines.
    match serde_json::from_str::<Value>(text) {
        Ok(value) => from_document(&value).map_err(|message| (1, message)),
        Err(whole) => {
            let lines: Vec<(usize, &str)> = text
                .lines()
                .enumerate()
                .filter(|(_, line)| !line.trim().is_empty())
                .collect();
            if lines.len() < 2 {
                return Err((whole.line(), whole.to_string()));
            }
            let mut events = Vec::new();
            for (index, line) in lines {
                let value: Value =
                    serde_json::from_str(line).map_err(|e| (index + 1, e.to_string()))?;
                events.extend(from_document(&value).map_err(|m| (index + 1, m))?);
            }
            Ok(events)
        }
    }
}

fn from_document(value: &Value) -> Result<Vec<Envelope>, String> {
    let bare = |record: &Value| {
        from_record(record).map(|event| Envelope {
            detail_type: None,
            event,
        })
    };
    match value {
        Value::Array(items) => items.iter().map(from_item).collect(),
        Value::Object(fields) => match fields.get("Records") {
            Some(Value::Array(records)) => records.iter().map(bare).collect(),
            Some(_) => Err("\"Records\" is not an array".into()),
            None => Ok(vec![from_item(value)?]),
        },
        _ => Err("expected a JSON object or array".into()),
    }
}

/// A record, or an EventBridge event wrapping one in `detail`. An envelope whose `detail` is
/// no API call (a console sign-in, a scheduled event) has no `eventName` to read: it keeps
/// its `detail-type`, and its `source` as the event's.
fn from_item(value: &Value) -> Result<Envelope, String> {
    let detail_type = text(value, &["detail-type"]);
    let Some(detail) = value.get("detail").filter(|d| d.is_object()) else {
        return from_record(value).map(|event| Envelope {
            detail_type: None,
            event,
        });
    };
    let mut event = match from_record(detail) {
        Ok(event) => event,
        Err(_) if detail_type.as_deref() != Some(API_CALL) && value.get("time").is_some() => {
            from_envelope_only(value)?
        }
        Err(e) => return Err(e),
    };
    if event.account_id.is_none() {
        event.account_id = text(value, &["account"]);
    }
    Ok(Envelope { detail_type, event })
}

/// EventBridge's `detail-type` for CloudTrail's records of API calls.
pub const API_CALL: &str = "AWS API Call via CloudTrail";

/// EventBridge's `detail-type` of a console sign-in (`ConsoleLogin`, source `aws.signin`).
pub const CONSOLE_SIGN_IN: &str = "AWS Console Sign In via CloudTrail";

/// An EventBridge event that carries no CloudTrail API record: what its envelope says.
fn from_envelope_only(value: &Value) -> Result<Event, String> {
    let time = text(value, &["time"]).unwrap_or_default();
    let event_time = DateTime::parse_from_rfc3339(&time)
        .map_err(|e| format!("time {time:?}: {e}"))?
        .with_timezone(&Utc);
    Ok(Event {
        event_id: text(value, &["id"]).unwrap_or_default(),
        event_name: text(value, &["detail", "eventName"])
            .or_else(|| text(value, &["detail-type"]))
            .unwrap_or_default(),
        event_source: text(value, &["source"]).unwrap_or_default(),
        event_time,
        principal_arn: "unknown".to_owned(),
        source_ip: None,
        account_id: text(value, &["account"]),
        failed: false,
        user_name: None,
        access_key_id: None,
        trail_name: None,
    })
}

fn text(value: &Value, path: &[&str]) -> Option<String> {
    let mut at = value;
    for key in path {
        at = at.get(key)?;
    }
    at.as_str().filter(|s| !s.is_empty()).map(str::to_owned)
}

/// One CloudTrail record (`eventVersion` 1.x).
pub fn from_record(record: &Value) -> Result<Event, String> {
    if !record.is_object() {
        return Err("a CloudTrail record must be a JSON object".into());
    }
    let event_name =
        text(record, &["eventName"]).ok_or("a CloudTrail record needs \"eventName\"")?;
    let time = text(record, &["eventTime"]).ok_or("a CloudTrail record needs \"eventTime\"")?;
    let event_time = DateTime::parse_from_rfc3339(&time)
        .map_err(|e| format!("eventTime {time:?}: {e}"))?
        .with_timezone(&Utc);
    let identity = record.get("userIdentity").unwrap_or(&Value::Null);
    let principal_arn = text(identity, &["arn"])
        .or_else(|| text(identity, &["invokedBy"]))
        .or_else(|| text(identity, &["principalId"]))
        .or_else(|| text(identity, &["type"]))
        .unwrap_or_else(|| "unknown".to_owned());
    let request = record.get("requestParameters").unwrap_or(&Value::Null);
    let response = record.get("responseElements").unwrap_or(&Value::Null);
    let caller_user = (text(identity, &["type"]).as_deref() == Some("IAMUser"))
        .then(|| text(identity, &["userName"]))
        .flatten();
    let user_name = text(request, &["userName"])
        .or_else(|| text(response, &["accessKey", "userName"]))
        .or(caller_user);
    let access_key_id =
        text(request, &["accessKeyId"]).or_else(|| text(response, &["accessKey", "accessKeyId"]));
    let trail_name = text(request, &["name"])
        .or_else(|| text(request, &["trailName"]))
        .map(|name| match name.rsplit_once(":trail/") {
            Some((_, short)) => short.to_owned(),
            None => name,
        });
    Ok(Event {
        event_id: text(record, &["eventID"]).unwrap_or_default(),
        event_name,
        event_source: text(record, &["eventSource"]).unwrap_or_default(),
        event_time,
        principal_arn,
        source_ip: text(record, &["sourceIPAddress"]),
        account_id: text(record, &["recipientAccountId"]),
        failed: record.get("errorCode").is_some_and(|c| !c.is_null()),
        user_name,
        access_key_id,
        trail_name,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const RECORD: &str = r#"{"eventVersion":"1.09","userIdentity":{"type":"AssumedRole",
        "principalId":"AROAEXAMPLE:jane","arn":"arn:aws:sts::111111111111:assumed-role/Admin/jane",
        "accountId":"111111111111"},"eventTime":"2026-10-14T09:12:33Z",
        "eventSource":"iam.amazonaws.com","eventName":"CreateAccessKey","awsRegion":"us-east-1",
        "sourceIPAddress":"203.0.113.7","requestParameters":{"userName":"svc-backup"},
        "responseElements":{"accessKey":{"accessKeyId":"AKIAEXAMPLE","status":"Active",
        "userName":"svc-backup","createDate":"Oct 14, 2026 9:12:33 AM"}},
        "eventID":"e1","readOnly":false,"recipientAccountId":"111111111111"}"#;

    fn one_line(s: &str) -> String {
        s.split_whitespace().collect::<Vec<_>>().join(" ")
    }

    #[test]
    fn a_record_gives_who_what_and_which_object() {
        let events = parse_events(&format!("{{\"Records\": [{RECORD}]}}")).unwrap();
        let event = &events[0];
        assert_eq!(event.event_name, "CreateAccessKey");
        assert_eq!(
            event.principal_arn,
            "arn:aws:sts::111111111111:assumed-role/Admin/jane"
        );
        assert_eq!(event.user_name.as_deref(), Some("svc-backup"));
        assert_eq!(event.access_key_id.as_deref(), Some("AKIAEXAMPLE"));
        assert_eq!(event.source_ip.as_deref(), Some("203.0.113.7"));
        assert_eq!(event.account_id.as_deref(), Some("111111111111"));
        assert!(!event.failed);
    }

    #[test]
    fn eventbridge_lines_arrays_and_bare_records_parse_alike() {
        let wrapped = format!(
            "{{\"version\":\"0\",\"detail-type\":\"AWS API Call via CloudTrail\",\"detail\":{}}}",
            one_line(RECORD)
        );
        let expected = parse_events(RECORD).unwrap();
        assert_eq!(parse_events(&wrapped).unwrap(), expected);
        assert_eq!(parse_events(&format!("[{wrapped}]")).unwrap(), expected);
        let lines = format!("{wrapped}\n\n{}\n", one_line(RECORD));
        assert_eq!(parse_events(&lines).unwrap().len(), 2);
    }

    #[test]
    fn a_user_acting_on_itself_is_the_object() {
        let record = r#"{"eventTime":"2026-10-14T09:12:33Z","eventName":"CreateAccessKey",
            "userIdentity":{"type":"IAMUser","arn":"arn:aws:iam::1:user/bob","userName":"bob"},
            "requestParameters":null,"errorCode":"LimitExceeded"}"#;
        let event = &parse_events(record).unwrap()[0];
        assert_eq!(event.user_name.as_deref(), Some("bob"));
        assert!(event.failed);
    }

    #[test]
    fn trail_arns_are_reduced_to_names() {
        let record = r#"{"eventTime":"2026-10-14T09:12:33Z","eventName":"StopLogging",
            "eventSource":"cloudtrail.amazonaws.com",
            "requestParameters":{"name":"arn:aws:cloudtrail:us-east-1:1:trail/org-audit"}}"#;
        assert_eq!(
            parse_events(record).unwrap()[0].trail_name.as_deref(),
            Some("org-audit")
        );
    }

    #[test]
    fn malformed_input_names_the_line() {
        assert_eq!(parse_events("").unwrap(), vec![]);
        let (line, _) = parse_events(&format!("{}\n{{oops\n", one_line(RECORD))).unwrap_err();
        assert_eq!(line, 2);
        let (_, message) = parse_events("{\"Records\": [{\"eventName\": \"X\"}]}").unwrap_err();
        assert!(message.contains("eventTime"), "{message}");
    }
}
