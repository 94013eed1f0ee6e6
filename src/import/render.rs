//! The desired-state TOML of an [`Adoption`], built as a `toml_edit` document: the rules the
//! account meets are real tables and keys, and everything else (the header, the section
//! banners, the rules it does not meet, commented out) is the comments around them, which
//! `toml_edit` keeps in each item's decor.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use chrono::{DateTime, Utc};
use toml_edit::{Array, ArrayOfTables, DocumentMut, Item, Key, Table, Value};

use super::adopt::{Adoption, CloudTrail, DayLimit, DayVerdict, OtherCredentials};
use crate::aws::Target;
use crate::fleet::DEFAULT_TARGET;
use crate::state::PasswordPolicy;

/// How many user names a comment lists before it says "and N more".
const NAMES_SHOWN: usize = 5;

/// Column at which trailing comments start.
const COMMENT_COLUMN: usize = 32;

/// What the header says about where the file comes from.
#[derive(Debug, Clone, Copy)]
pub struct Provenance<'a> {
    /// Written as an `[[account]]` entry unless it is the implicit `default` target.
    pub target: &'a Target,
    pub account_id: &'a str,
    /// Where the state came from: `live IAM`, or a snapshot.
    pub source: &'a str,
    /// Ages are measured at this time (now, or `--as-of`).
    pub as_of: DateTime<Utc>,
}

/// The desired-state TOML that the adopted account satisfies, with comments.
pub fn render(adoption: &Adoption, provenance: &Provenance<'_>) -> String {
    let mut out = Writer::default();
    header(&mut out, provenance);
    password_policy(&mut out, adoption.password_policy.as_ref());
    users(&mut out, adoption);
    other_credentials(&mut out, &adoption.credentials);
    inventory(&mut out, &adoption.users);
    per_user(&mut out, &adoption.key_only_users);
    audit(&mut out, &adoption.cloudtrail);
    account(&mut out, provenance.target);
    out.finish()
}

/// Where [`Writer::set`] puts its keys.
enum Place {
    /// A table, by its path from the root.
    Table(Vec<&'static str>),
    /// The last entry of an array of tables.
    ArrayEntry(&'static str),
}

/// A TOML document being written from top to bottom. Comment lines wait in `pending` until
/// the next table or key, whose prefix they become, or the end of the document.
#[derive(Default)]
struct Writer {
    doc: DocumentMut,
    pending: String,
    place: Option<Place>,
    /// The next table's position: tables print in the order they were written.
    position: isize,
}

impl Writer {
    /// A comment line (or several), written as given.
    fn line(&mut self, text: impl AsRef<str>) {
        self.pending.push_str(text.as_ref());
        self.pending.push('\n');
    }

    fn blank(&mut self) {
        self.pending.push('\n');
    }

    fn section(&mut self, title: &str) {
        self.blank();
        self.line(format!("# {}", "-".repeat(94)));
        for line in title.lines() {
            self.line(format!("# {line}"));
        }
        self.line(format!("# {}", "-".repeat(94)));
    }

    /// `[path]`, with an optional trailing comment; keys set after it go into it.
    fn table(&mut self, path: &[&'static str], comment: Option<&str>) {
        let header = format!("[{}]", path.join("."));
        let table = self.new_table(&header, comment);
        let (last, parents) = path.split_last().expect("a table path is not empty");
        let mut parent = self.doc.as_table_mut();
        for key in parents {
            parent = parent[key]
                .as_table_mut()
                .expect("parent tables are written first");
        }
        parent.insert(last, Item::Table(table));
        self.place = Some(Place::Table(path.to_vec()));
    }

    /// `[[name]]`: a new entry of an array of tables; keys set after it go into it.
    fn array_entry(&mut self, name: &'static str) {
        let table = self.new_table(&format!("[[{name}]]"), None);
        self.doc
            .as_table_mut()
            .entry(name)
            .or_insert_with(|| Item::ArrayOfTables(ArrayOfTables::new()))
            .as_array_of_tables_mut()
            .expect("an array of tables")
            .push(table);
        self.place = Some(Place::ArrayEntry(name));
    }

    fn new_table(&mut self, header: &str, comment: Option<&str>) -> Table {
        let mut table = Table::new();
        table.set_position(self.position);
        self.position += 1;
        let decor = table.decor_mut();
        decor.set_prefix(std::mem::take(&mut self.pending));
        decor.set_suffix(comment.map_or_else(String::new, |c| trailing_comment(header, c)));
        table
    }

    /// `key = value` in the current table, with a trailing comment aligned at
    /// [`COMMENT_COLUMN`] (none when `comment` is empty).
    fn set(&mut self, key: &str, value: impl Into<Value>, comment: &str) {
        let value: Value = value.into();
        let assignment = format!("{key} = {value}");
        let value = value.decorated(" ", trailing_comment(&assignment, comment));
        let mut key = Key::new(key);
        key.leaf_decor_mut()
            .set_prefix(std::mem::take(&mut self.pending));
        let table = match self.place.as_ref().expect("a table is written first") {
            Place::Table(path) => path.iter().fold(self.doc.as_table_mut(), |table, key| {
                table[key].as_table_mut().expect("a table")
            }),
            Place::ArrayEntry(name) => self.doc[name]
                .as_array_of_tables_mut()
                .and_then(|array| array.get_mut(array.len() - 1))
                .expect("an entry is written first"),
        };
        table.insert_formatted(&key, Item::Value(value));
    }

    /// `# key = value`: a suggestion, commented out.
    fn suggest(&mut self, key: &str, value: impl Into<Value>, comment: &str) {
        let assignment = format!("# {key} = {}", value.into());
        let comment = trailing_comment(&assignment, comment);
        self.line(format!("{assignment}{comment}"));
    }

    fn finish(mut self) -> String {
        self.doc.set_trailing(std::mem::take(&mut self.pending));
        self.doc.to_string()
    }
}

/// What follows `text` on its line so that ` # comment` starts at [`COMMENT_COLUMN`] (or right
/// after a longer `text`); nothing for an empty comment.
fn trailing_comment(text: &str, comment: &str) -> String {
    if comment.is_empty() {
        return String::new();
    }
    let padding = (COMMENT_COLUMN - 1).saturating_sub(text.chars().count());
    format!("{} # {comment}", " ".repeat(padding))
}

/// A TOML string literal, for a comment.
fn quoted(text: &str) -> String {
    Value::from(text).to_string()
}

/// A name for a comment: no line breaks, whatever IAM allowed.
fn safe(name: &str) -> String {
    name.chars()
        .map(|c| if c.is_control() { '?' } else { c })
        .collect()
}

/// `alice, bob, carol and 4 more`.
fn names(list: &[String]) -> String {
    let shown: Vec<String> = list.iter().take(NAMES_SHOWN).map(|n| safe(n)).collect();
    let mut text = shown.join(", ");
    if list.len() > NAMES_SHOWN {
        let _ = write!(text, " and {} more", list.len() - NAMES_SHOWN);
    }
    text
}

fn plural(n: usize, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

fn header(out: &mut Writer, provenance: &Provenance<'_>) {
    out.line(format!(
        "# iamctl desired state imported by `iamctl import` from account {} ({}),",
        quoted(&provenance.target.name),
        provenance.account_id,
    ));
    out.line(format!(
        "# read from {}, as of {}.",
        provenance.source,
        provenance.as_of.format("%Y-%m-%dT%H:%M:%SZ")
    ));
    out.line(
        "#\n\
         # Every rule written below is one the account meets today, with a week to spare, so\n\
         # `iamctl plan` right after shows no change. The commented-out lines are the rules it\n\
         # does not meet yet: each says what `plan` would report or change. Tighten one rule at a\n\
         # time, read the plan, apply. `iamctl validate` checks this file without calling AWS.\n\
         #\n\
         # Editors: `iamctl schema > iamctl.schema.json` and a first line\n\
         # `#:schema ./iamctl.schema.json` give completion and checks in Taplo / Even Better TOML.",
    );
}

fn password_policy(out: &mut Writer, policy: Option<&PasswordPolicy>) {
    out.section(
        "The account password policy. This table is the whole policy: IAM has no partial update,\n\
         so a field left out is planned as IAM's default (false, no expiry, no reuse limit).",
    );
    let Some(policy) = policy else {
        out.line(
            "# This account has no password policy: IAM's defaults are in force (6 characters, no\n\
             # character classes, no expiry). Uncomment the table below and `plan` shows a create;\n\
             # with reset_on_policy_tightening (under [users.console]) every console user then\n\
             # has to pick a new password that meets it.\n\
             # [password_policy]",
        );
        out.suggest("minimum_length", 14, "6..=128");
        for key in [
            "require_uppercase",
            "require_lowercase",
            "require_numbers",
            "require_symbols",
            "allow_users_to_change",
        ] {
            out.suggest(key, true, "");
        }
        out.suggest(
            "max_age_days",
            90,
            "1..=1095; leave out: passwords never expire",
        );
        out.suggest("reuse_prevention", 24, "1..=24");
        out.suggest("hard_expiry", false, "");
        return;
    };
    out.table(&["password_policy"], None);
    let weaker = |is_weaker: bool, baseline: &str| {
        if is_weaker {
            format!("as now; the baseline has {baseline}")
        } else {
            "as now".to_owned()
        }
    };
    out.set(
        "minimum_length",
        i64::from(policy.minimum_length),
        &weaker(policy.minimum_length < 14, "14 (CIS)"),
    );
    for (key, value) in [
        ("require_uppercase", policy.require_uppercase),
        ("require_lowercase", policy.require_lowercase),
        ("require_numbers", policy.require_numbers),
        ("require_symbols", policy.require_symbols),
        ("allow_users_to_change", policy.allow_users_to_change),
    ] {
        out.set(key, value, &weaker(!value, "true"));
    }
    match policy.max_age_days {
        Some(days) => out.set("max_age_days", i64::from(days), "as now; 1..=1095"),
        None => out.suggest(
            "max_age_days",
            90,
            "left out, as now: passwords never expire",
        ),
    }
    match policy.reuse_prevention {
        Some(n) => out.set("reuse_prevention", i64::from(n), &weaker(n < 24, "24")),
        None => out.suggest(
            "reuse_prevention",
            24,
            "left out, as now: no reuse prevention",
        ),
    }
    out.set("hard_expiry", policy.hard_expiry, "as now");
}

/// Writes a day-count rule: set to the limit the account meets, or suggested at the usual
/// limit with the number of `things` (singular, plural) it would flag.
fn day_rule(out: &mut Writer, key: &str, limit: DayLimit, things: (&str, &str)) {
    let usual = limit.usual;
    let count = |n: usize| plural(n, things.0, things.1);
    match limit.verdict {
        DayVerdict::NothingToday => out.set(key, usual, &format!("no {} today", things.1)),
        DayVerdict::Usual { oldest } => {
            out.set(key, usual, &format!("met: at most {oldest} days today"));
        }
        DayVerdict::Looser { days, soon } => out.set(
            key,
            days,
            &format!(
                "met; the usual is {usual}: {} past it or within a week",
                count(soon)
            ),
        ),
        DayVerdict::NotMet { over, oldest } => out.suggest(
            key,
            usual,
            &format!(
                "not met: {} over {usual} days (up to {oldest})",
                count(over)
            ),
        ),
    }
}

fn users(out: &mut Writer, adoption: &Adoption) {
    out.section("Rules for every IAM user, except the exempt ones.");
    out.table(&["users"], None);
    out.suggest(
        "exempt",
        Array::from_iter(["break-glass-*"]),
        "names or globs: never changed, never reported",
    );
    // Parsed rather than built so the tag key keeps its quotes: a tag key is any string.
    let tags: Value = r#"{ "iam-exempt" = "true" }"#
        .parse()
        .expect("a valid inline table");
    out.suggest("exempt_tags", tags, "users tagged so are exempt too");

    let console = &adoption.console;
    out.blank();
    out.table(
        &["users", "console"],
        Some(&format!(
            "{} with a console password today",
            plural(console.users, "user", "users")
        )),
    );
    if console.without_mfa.is_empty() {
        out.set(
            "require_mfa",
            true,
            if console.users == 0 {
                "no console user today; any new one will need MFA"
            } else {
                "every console user has MFA"
            },
        );
    } else {
        out.suggest(
            "require_mfa",
            true,
            &format!(
                "{} without MFA would be reported: {}",
                plural(console.without_mfa.len(), "console user", "console users"),
                names(&console.without_mfa)
            ),
        );
    }
    out.suggest(
        "without_mfa",
        "report",
        "report | disable-console | deny-until-mfa",
    );
    day_rule(
        out,
        "max_unused_days",
        console.max_unused_days,
        ("console password", "console passwords"),
    );
    out.suggest("on_unused", "report", "report | disable-console");
    out.suggest(
        "reset_on_policy_tightening",
        true,
        &format!(
            "a stricter [password_policy] makes {} pick a new password",
            plural(console.users, "console user", "console users")
        ),
    );

    let keys = &adoption.access_keys;
    out.blank();
    out.table(
        &["users", "access_keys"],
        Some(&format!(
            "{} and {} today",
            plural(keys.active, "active key", "active keys"),
            plural(keys.inactive, "inactive key", "inactive keys")
        )),
    );
    day_rule(
        out,
        "max_age_days",
        keys.max_age_days,
        ("active key", "active keys"),
    );
    out.suggest("on_expired", "report", "report | deactivate | delete");
    day_rule(
        out,
        "max_unused_days",
        keys.max_unused_days,
        ("active key", "active keys"),
    );
    out.suggest("on_unused", "report", "report | deactivate | delete");
    out.suggest(
        "delete_inactive",
        true,
        &if keys.inactive == 0 {
            "no inactive key today; deletes keys once deactivated".to_owned()
        } else {
            format!(
                "would delete {}",
                plural(
                    keys.deleted_by_delete_inactive,
                    "inactive key",
                    "inactive keys"
                )
            )
        },
    );
    if keys.over_max_active.is_empty() {
        out.set("max_active", 1, "no user has two active keys");
    } else {
        out.suggest(
            "max_active",
            1,
            &format!(
                "{} two active keys: {}",
                plural(keys.over_max_active.len(), "user has", "users have"),
                names(&keys.over_max_active)
            ),
        );
    }
}

/// Issue 21's tables: `[users.mfa] all_users` set when every user has MFA, the others
/// suggested with what they would flag (each costs reads: see the README).
fn other_credentials(out: &mut Writer, credentials: &OtherCredentials) {
    out.section("Other credentials users and the account hold.");
    if credentials.without_mfa.is_empty() {
        out.table(&["users", "mfa"], None);
        out.set("all_users", true, "every IAM user has MFA");
    } else {
        out.line("# [users.mfa]");
        out.suggest(
            "all_users",
            true,
            &format!(
                "{} without MFA would be reported: {}",
                plural(credentials.without_mfa.len(), "user", "users"),
                names(&credentials.without_mfa)
            ),
        );
    }
    out.blank();
    match &credentials.service_credentials {
        Some((active, services)) => out.line(format!(
            "# [users.service_credentials]    {} today{}",
            plural(
                *active,
                "active service-specific credential",
                "active service-specific credentials"
            ),
            if services.is_empty() {
                String::new()
            } else {
                format!(" (services: {})", services.join(", "))
            }
        )),
        None => out.line("# [users.service_credentials]    not read"),
    }
    out.suggest(
        "max_age_days",
        90,
        &format!(
            "would report {}",
            plural(
                credentials.service_credentials_over_90_days,
                "credential",
                "credentials"
            )
        ),
    );
    out.suggest("on_expired", "report", "report | deactivate | delete");
    out.suggest(
        "require_expiry_days",
        30,
        "Bedrock API keys must expire within 30 days of creation",
    );
    out.suggest(
        "delete_inactive",
        true,
        "inactive and expired ones, after the grace",
    );
    out.suggest("delete_inactive_after_days", 14, "");
    out.blank();
    out.line(match credentials.ssh_keys_active {
        Some(active) => format!(
            "# [users.ssh_keys]    {} today; costs one ListSSHPublicKeys per user",
            plural(active, "active SSH public key", "active SSH public keys")
        ),
        None => "# [users.ssh_keys]    not read; costs one ListSSHPublicKeys per user".to_owned(),
    });
    out.suggest(
        "max_age_days",
        365,
        &format!(
            "would report {}",
            plural(credentials.ssh_keys_over_365_days, "key", "keys")
        ),
    );
    out.suggest("on_expired", "report", "report | deactivate | delete");
    out.blank();
    out.line("# [users.signing_certificates]");
    out.suggest(
        "forbid",
        true,
        &match &credentials.signing_certificates {
            Some(users) if users.is_empty() => "no active signing certificate today".to_owned(),
            Some(users) => format!(
                "would report the certificates of {}: {}",
                plural(users.len(), "user", "users"),
                names(users)
            ),
            None => "signing certificates were not read".to_owned(),
        },
    );
    out.suggest("on_forbidden", "report", "report | deactivate | delete");
    out.blank();
    out.line("# [server_certificates]");
    out.suggest(
        "delete_expired_after_days",
        30,
        &match credentials.expired_server_certificates {
            Some((0, _)) => "no expired server certificate today".to_owned(),
            Some((expired, deleted)) => format!(
                "{} today; would delete {deleted} now, the others announced",
                plural(expired, "expired certificate", "expired certificates")
            ),
            None => "server certificates were not read".to_owned(),
        },
    );
}

/// `[users.inventory]`: every user that exists today is listed (met); the users with an
/// owner tag are proposed as time-boxed exceptions instead.
fn inventory(out: &mut Writer, users: &[(String, Option<String>)]) {
    out.section(
        "Which IAM users may exist: every one today is listed, so nothing is reported. Replace\n\
         names with globs (\"svc-*\"), and move the users that should go to [[users.exception]].",
    );
    out.table(&["users", "inventory"], None);
    let names: Array = users.iter().map(|(name, _)| name.as_str()).collect();
    out.set(
        "allowed",
        names,
        &format!("{} today", plural(users.len(), "IAM user", "IAM users")),
    );
    out.suggest(
        "on_unlisted",
        "report",
        "report | disable (after notice_days)",
    );
    out.suggest("notice_days", 14, "");
    for (name, owner) in users {
        let Some(owner) = owner else { continue };
        out.blank();
        out.line("# [[users.exception]]");
        out.suggest("name", name.as_str(), "");
        out.suggest("owner", owner.as_str(), "from its owner tag");
        out.suggest("reason", "why it is still an IAM user", "");
        out.line("# expires = 2027-03-31");
    }
}

fn per_user(out: &mut Writer, key_only_users: &[String]) {
    out.section(
        "Per-user requirements, on top of the rules. None is needed to describe this account.",
    );
    if let Some(first) = key_only_users.first() {
        out.line(format!(
            "# Users with an active access key and no console password ({}): {}.",
            key_only_users.len(),
            names(key_only_users)
        ));
        out.line("# To make sure such a user never gets a console password:\n# [[user]]");
        out.suggest("name", first.as_str(), "");
        out.suggest("console", false, "a console password would be deleted");
    } else {
        out.line("# [[user]]");
        out.suggest("name", "alice", "");
        out.suggest(
            "console",
            true,
            "create a console password (needs apply --secrets-dir)",
        );
    }
}

fn audit(out: &mut Writer, cloudtrail: &CloudTrail) {
    out.section("Audit.");
    out.table(&["audit"], None);
    match cloudtrail {
        CloudTrail::WatchedBy(trail) => out.set(
            "require_cloudtrail",
            true,
            &format!("the trail {} logs IAM changes", quoted(&safe(trail))),
        ),
        CloudTrail::Unwatched => out.suggest(
            "require_cloudtrail",
            true,
            "no multi-region trail logs management writes: would be reported",
        ),
        CloudTrail::NotRead => out.suggest("require_cloudtrail", true, "trails were not read"),
    }
}

fn account(out: &mut Writer, target: &Target) {
    if target.name == DEFAULT_TARGET {
        return;
    }
    out.section(
        "The account this file describes. To fold it into a desired state with other accounts,\n\
         move the tables above under this entry ([account.password_policy], [account.users] ...).",
    );
    out.array_entry("account");
    out.set("name", target.name.as_str(), "");
    let optional: BTreeMap<&str, &Option<String>> = [
        ("role_arn", &target.role_arn),
        ("external_id", &target.external_id),
        ("profile", &target.profile),
    ]
    .into_iter()
    .collect();
    for (key, value) in optional {
        if let Some(value) = value {
            out.set(key, value.as_str(), "");
        }
    }
}
