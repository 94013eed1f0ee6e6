//! SARIF 2.1.0 (`plan --format sarif`), for code scanning (GitHub's upload-sarif, any SARIF
//! viewer): one result per change and finding, each pointing at the line of the desired-state
//! file whose key asked for it, and at the account and address it is about. Only the part of
//! SARIF iamctl fills is modelled here; `tests/suite/sarif.rs` validates the output against the
//! SARIF 2.1.0 JSON schema.

use std::collections::BTreeMap;

use percent_encoding::{AsciiSet, CONTROLS, utf8_percent_encode};
use serde::Serialize;

use crate::desired::{Desired, KeyLocation};
use crate::plan::controls::{BENCHMARK, control_ids, controls_of, security_hub_of};
use crate::plan::describe::{change_message, description};
use crate::plan::{AccountPlan, Address, Change, Finding, Plan, Rule};

/// The schema the document names (`$schema`): OASIS's, as the standard publishes it.
pub const SARIF_SCHEMA: &str =
    "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json";

/// The plan as a SARIF 2.1.0 log with one run, pretty-printed, with a trailing newline.
/// `desired` is the desired state the plan was made from: results point into its files.
pub fn sarif(plan: &Plan, desired: &Desired) -> String {
    let log = log(plan, desired);
    let mut out = serde_json::to_string_pretty(&log).expect("a SARIF log always serializes");
    out.push('\n');
    out
}

/// What kind of plan item a result is; it decides the result's level.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    /// A change `apply` would make: the account departs from the desired state.
    Change,
    /// A departure `apply` cannot put right (a person must).
    Finding,
    /// A finding that announces what a rule will do on a date.
    Notice,
}

impl Kind {
    fn of_finding(finding: &Finding) -> Kind {
        match finding.notice {
            Some(_) => Kind::Notice,
            None => Kind::Finding,
        }
    }

    /// A change and a finding are both the account departing from the desired state (a
    /// finding is one `apply` cannot fix, not a lesser one): `warning`. A notice announces
    /// something not yet due: `note`.
    fn level(self) -> Level {
        match self {
            Kind::Change | Kind::Finding => Level::Warning,
            Kind::Notice => Level::Note,
        }
    }

    fn as_str(self) -> &'static str {
        match self {
            Kind::Change => "change",
            Kind::Finding => "finding",
            Kind::Notice => "notice",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
enum Level {
    Warning,
    Note,
    Error,
}

#[derive(Debug, Serialize)]
struct Log {
    #[serde(rename = "$schema")]
    schema: &'static str,
    version: &'static str,
    runs: Vec<Run>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct Run {
    tool: Tool,
    invocations: Vec<Invocation>,
    results: Vec<SarifResult>,
}

#[derive(Debug, Serialize)]
struct Tool {
    driver: Driver,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct Driver {
    name: &'static str,
    version: &'static str,
    semantic_version: &'static str,
    rules: Vec<Descriptor>,
}

/// A `reportingDescriptor`: one rule of the desired state (a notice's rule is its own).
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct Descriptor {
    id: String,
    short_description: Text,
    full_description: Text,
    help: Text,
    default_configuration: Configuration,
    properties: DescriptorProperties,
}

#[derive(Debug, Serialize)]
struct Configuration {
    level: Level,
}

#[derive(Debug, Serialize)]
struct DescriptorProperties {
    /// Shown by GitHub code scanning as the rule's tags.
    tags: Vec<String>,
    /// The CIS AWS Foundations Benchmark v3.0.0 controls of the rule (`iamctl controls`).
    controls: Vec<&'static str>,
}

#[derive(Debug, Serialize)]
struct Text {
    text: String,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct Invocation {
    execution_successful: bool,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    tool_execution_notifications: Vec<Notification>,
}

#[derive(Debug, Serialize)]
struct Notification {
    level: Level,
    message: Text,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct SarifResult {
    rule_id: String,
    rule_index: usize,
    level: Level,
    message: Text,
    locations: Vec<Location>,
    /// Stable across runs (account, address, rule), so code scanning tracks one alert per
    /// item whatever line the key moves to.
    partial_fingerprints: BTreeMap<&'static str, String>,
    properties: ResultProperties,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct Location {
    #[serde(skip_serializing_if = "Option::is_none")]
    physical_location: Option<PhysicalLocation>,
    logical_locations: Vec<LogicalLocation>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct PhysicalLocation {
    artifact_location: ArtifactLocation,
    region: Region,
}

#[derive(Debug, Serialize)]
struct ArtifactLocation {
    uri: String,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct Region {
    start_line: usize,
    start_column: usize,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct LogicalLocation {
    /// The plan address (`user.bob.access_key.AKIA...`).
    name: String,
    /// `ACCOUNT/ADDRESS`, the account as the plan names it.
    fully_qualified_name: String,
    kind: &'static str,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct ResultProperties {
    kind: &'static str,
    account: String,
    account_id: String,
    address: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    action: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    due: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    owner: Option<String>,
    /// CIS ids, then Security Hub's (`plan::controls::control_ids`).
    controls: Vec<String>,
}

/// The fingerprint's name: versioned, so a change of what it hashes does not merge alerts.
const FINGERPRINT: &str = "iamctl/v1";

fn log(plan: &Plan, desired: &Desired) -> Log {
    let mut rules: Vec<(Rule, Kind)> = Vec::new();
    let mut results = Vec::new();
    for account in &plan.accounts {
        for change in &account.changes {
            results.push(change_result(account, change, desired, &mut rules));
        }
        for finding in &account.findings {
            results.push(finding_result(account, finding, desired, &mut rules));
        }
    }
    let notifications: Vec<Notification> = plan
        .accounts
        .iter()
        .filter_map(|account| {
            let error = account.error.as_ref()?;
            Some(Notification {
                level: Level::Error,
                message: Text {
                    text: format!(
                        "account {} ({}) could not be read, so it was not planned: {error}",
                        account.name, account.account_id
                    ),
                },
            })
        })
        .collect();
    Log {
        schema: SARIF_SCHEMA,
        version: "2.1.0",
        runs: vec![Run {
            tool: Tool {
                driver: Driver {
                    name: "iamctl",
                    version: env!("CARGO_PKG_VERSION"),
                    semantic_version: env!("CARGO_PKG_VERSION"),
                    rules: rules
                        .iter()
                        .map(|&(rule, kind)| descriptor(rule, kind))
                        .collect(),
                },
            },
            invocations: vec![Invocation {
                execution_successful: notifications.is_empty(),
                tool_execution_notifications: notifications,
            }],
            results,
        }],
    }
}

/// The index of `(rule, kind)`'s descriptor (notices have their own), added when new.
fn rule_index(rules: &mut Vec<(Rule, Kind)>, rule: Rule, kind: Kind) -> usize {
    // Changes and findings of one rule share its descriptor.
    let key = (
        rule,
        if kind == Kind::Notice {
            kind
        } else {
            Kind::Change
        },
    );
    match rules.iter().position(|r| *r == key) {
        Some(index) => index,
        None => {
            rules.push(key);
            rules.len() - 1
        }
    }
}

fn rule_id(rule: Rule, kind: Kind) -> String {
    match kind {
        Kind::Notice => format!("{rule}.notice"),
        Kind::Change | Kind::Finding => rule.to_string(),
    }
}

fn change_result(
    account: &AccountPlan,
    change: &Change,
    desired: &Desired,
    rules: &mut Vec<(Rule, Kind)>,
) -> SarifResult {
    let address = change.address();
    let text = change_message(change);
    result(
        account,
        Item {
            rule: change.rule,
            kind: Kind::Change,
            address: &address,
            text,
            action: Some(change.action().as_str()),
            due: None,
            owner: change.owner.clone(),
        },
        desired,
        rules,
    )
}

fn finding_result(
    account: &AccountPlan,
    finding: &Finding,
    desired: &Desired,
    rules: &mut Vec<(Rule, Kind)>,
) -> SarifResult {
    result(
        account,
        Item {
            rule: finding.rule,
            kind: Kind::of_finding(finding),
            address: &finding.address,
            text: finding.message.clone(),
            action: finding.notice.map(|n| n.action.as_str()),
            due: finding.notice.map(|n| n.due.format("%Y-%m-%d").to_string()),
            owner: finding.owner.clone(),
        },
        desired,
        rules,
    )
}

/// What a result says, whether from a change or a finding.
struct Item<'a> {
    rule: Rule,
    kind: Kind,
    address: &'a Address,
    text: String,
    action: Option<&'static str>,
    due: Option<String>,
    owner: Option<String>,
}

fn result(
    account: &AccountPlan,
    item: Item<'_>,
    desired: &Desired,
    rules: &mut Vec<(Rule, Kind)>,
) -> SarifResult {
    let Item {
        rule,
        kind,
        address,
        text,
        action,
        due,
        owner,
    } = item;
    let id = rule_id(rule, kind);
    let physical = rule_location(desired, &account.name, rule, address)
        .or_else(|| first_line(desired))
        .map(|at| PhysicalLocation {
            artifact_location: ArtifactLocation {
                uri: file_uri(&at.file),
            },
            region: Region {
                start_line: at.line,
                start_column: at.column,
            },
        });
    SarifResult {
        rule_index: rule_index(rules, rule, kind),
        level: kind.level(),
        message: Text { text },
        locations: vec![Location {
            physical_location: physical,
            logical_locations: vec![LogicalLocation {
                name: address.to_string(),
                fully_qualified_name: format!("{}/{address}", account.name),
                kind: "resource",
            }],
        }],
        partial_fingerprints: BTreeMap::from([(
            FINGERPRINT,
            format!("{}/{address}/{id}", account.account_id),
        )]),
        properties: ResultProperties {
            kind: kind.as_str(),
            account: account.name.clone(),
            account_id: account.account_id.clone(),
            address: address.to_string(),
            action,
            due,
            owner,
            controls: control_ids(rule),
        },
        rule_id: id,
    }
}

/// The top of the first file, for an item whose key cannot be found (none is expected: every
/// rule fires only from a key that is written).
fn first_line(desired: &Desired) -> Option<KeyLocation> {
    let file = desired.files.first()?;
    Some(KeyLocation {
        file: file.display().to_string(),
        line: 1,
        column: 1,
    })
}

/// Where the desired state asks for `rule` for the target named `account`: the key of the
/// rule in that target's `[[account]]` entry when it sets it (an override wins), else the
/// top-level key; for the rules of a `[[user]]` entry, the entry naming the address's user.
/// When the key itself is not written (a rule whose table is), the nearest enclosing key.
pub fn rule_location(
    desired: &Desired,
    account: &str,
    rule: Rule,
    address: &Address,
) -> Option<KeyLocation> {
    let account_index = desired.doc.account.iter().position(|a| a.name == account);
    let account_prefix = account_index.map(|i| format!("account[{i}]."));
    let candidates: Vec<String> = match key_of(rule) {
        Key::Path(path) => account_prefix
            .iter()
            .map(|prefix| format!("{prefix}{path}"))
            .chain(std::iter::once(path.to_owned()))
            .collect(),
        Key::UserEntry(field) => {
            let user = address.user().unwrap_or_default();
            let own = account_index.and_then(|i| {
                let k = desired.doc.account[i]
                    .user
                    .iter()
                    .position(|u| u.name == user)?;
                Some(format!("account[{i}].user[{k}]"))
            });
            let top = desired
                .doc
                .user
                .iter()
                .position(|u| u.name == user)
                .map(|i| format!("user[{i}]"));
            let entries: Vec<String> = own.into_iter().chain(top).collect();
            // The field where an entry sets it (the target's own entry first), else the entry.
            entries
                .iter()
                .filter_map(|entry| field.map(|f| format!("{entry}.{f}")))
                .chain(entries.iter().map(|entry| format!("{entry}.name")))
                .collect()
        }
    };
    for candidate in &candidates {
        if let Some(at) = desired.locations.get(candidate) {
            return Some(at.clone());
        }
    }
    // The nearest enclosing key that is written, in the same order.
    for candidate in &candidates {
        let mut probe = candidate.as_str();
        while let Some(cut) = probe.rfind(['.', '[']) {
            probe = &probe[..cut];
            // A whole `[[account]]` or `[[user]]` entry is no rule's key.
            if probe.ends_with(']') {
                break;
            }
            if let Some(at) = desired.locations.get(probe) {
                return Some(at.clone());
            }
        }
    }
    None
}

/// The key a rule is written as.
enum Key {
    /// A key path under the top level or a target's `[[account]]` entry.
    Path(&'static str),
    /// A field of the `[[user]]` entry of the item's user (`None`: the entry itself).
    UserEntry(Option<&'static str>),
}

fn key_of(rule: Rule) -> Key {
    match rule {
        Rule::User => Key::UserEntry(None),
        Rule::UserConsole => Key::UserEntry(Some("console")),
        Rule::UserPasswordReset => Key::UserEntry(Some("password_reset_required")),
        // The others are named after their key.
        Rule::PasswordPolicy
        | Rule::PasswordPolicyAbsent
        | Rule::ConsoleRequireMfa
        | Rule::ConsoleMaxUnused
        | Rule::ConsoleResetOnTightening
        | Rule::KeysMaxAge
        | Rule::KeysMaxUnused
        | Rule::KeysDeleteInactive
        | Rule::KeysMaxActive
        | Rule::KeysRotation
        | Rule::AuditCloudTrail
        | Rule::AuditCloudTrailCreate
        | Rule::RootForbidAccessKeys
        | Rule::RootRequireMfa
        | Rule::RootRequireHardwareMfa
        | Rule::RootMaxUsed
        | Rule::UsersForbidDirectPolicies
        | Rule::AuditForbidFullAdmin
        | Rule::AuditRequireSupportRole
        | Rule::ServiceCredentialsMaxAge
        | Rule::ServiceCredentialsAllowedServices
        | Rule::ServiceCredentialsRequireExpiry
        | Rule::ServiceCredentialsDeleteInactive
        | Rule::SshKeysMaxAge
        | Rule::SshKeysDeleteInactive
        | Rule::SigningCertificatesForbid
        | Rule::MfaAllUsers
        | Rule::ServerCertificatesDeleteExpired
        | Rule::UsersInventory
        | Rule::UsersRequireTags
        | Rule::KeysForbidSetupKeys
        | Rule::AuditSecurityContact
        | Rule::AuditAccessAnalyzer
        | Rule::AuditForbidCloudShell
        | Rule::AuditForbidServiceWildcards
        | Rule::OrganizationRootAccess => Key::Path(rule.as_str()),
        Rule::UsersException => Key::Path("users.exception"),
        // The `[[user]]` entry that says so, or `[users.break_glass]`'s key.
        Rule::BreakGlassMfa => Key::UserEntry(Some("break_glass")),
        Rule::BreakGlassAccessKey | Rule::BreakGlassPolicies | Rule::BreakGlassUsed => {
            Key::Path(rule.as_str())
        }
    }
}

fn descriptor(rule: Rule, kind: Kind) -> Descriptor {
    let controls = controls_of(rule);
    let mut tags = vec!["security".to_owned(), "iam".to_owned()];
    tags.extend(controls.iter().map(|c| format!("CIS {c}")));
    tags.extend(
        security_hub_of(rule)
            .iter()
            .map(|c| format!("Security Hub {c}")),
    );
    let (short, help) = match kind {
        Kind::Notice => (
            format!("Notice: {}", description(rule)),
            format!(
                "A notice: on the date it gives, `iamctl apply` will act on `{rule}`. Act \
                 before then (the message says what is due), or change `{rule}` or its \
                 notice_days in the desired state."
            ),
        ),
        Kind::Change | Kind::Finding => (
            description(rule).to_owned(),
            format!(
                "A change is what `iamctl apply` will do to meet `{rule}`: apply the plan, or \
                 change the desired state at this key. A finding is a departure apply cannot \
                 put right: a person must, in the account."
            ),
        ),
    };
    let cis = if controls.is_empty() {
        String::new()
    } else {
        format!("; {BENCHMARK} {}", controls.join(", "))
    };
    Descriptor {
        id: rule_id(rule, kind),
        full_description: Text {
            text: format!("{short} (desired-state key {rule}{cis})."),
        },
        short_description: Text { text: short },
        help: Text { text: help },
        default_configuration: Configuration {
            level: kind.level(),
        },
        properties: DescriptorProperties {
            tags,
            controls: controls.to_vec(),
        },
    }
}

/// Characters a URI reference cannot hold as they are.
const URI_ESCAPE: &AsciiSet = &CONTROLS
    .add(b' ')
    .add(b'"')
    .add(b'#')
    .add(b'%')
    .add(b'<')
    .add(b'>')
    .add(b'?')
    .add(b'[')
    .add(b'\\')
    .add(b']')
    .add(b'^')
    .add(b'`')
    .add(b'{')
    .add(b'|')
    .add(b'}');

/// A desired-state file's name as a URI reference: relative names stay relative (to where
/// iamctl ran: code scanning wants them relative to the repository's root), absolute ones
/// become `file://` URIs.
fn file_uri(name: &str) -> String {
    let slashed = name.replace('\\', "/");
    let trimmed = slashed.trim_start_matches("./");
    let encoded: String = utf8_percent_encode(trimmed, URI_ESCAPE).to_string();
    if trimmed.starts_with('/') {
        format!("file://{encoded}")
    } else if trimmed.as_bytes().get(1) == Some(&b':') {
        // A Windows drive letter.
        format!("file:///{encoded}")
    } else {
        encoded
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_names_become_uri_references() {
        assert_eq!(file_uri("desired/baseline.toml"), "desired/baseline.toml");
        assert_eq!(file_uri("./desired/a b.toml"), "desired/a%20b.toml");
        assert_eq!(file_uri("/tmp/x#1/d.toml"), "file:///tmp/x%231/d.toml");
        assert_eq!(file_uri(r"C:\iam\d.toml"), "file:///C:/iam/d.toml");
    }
}
