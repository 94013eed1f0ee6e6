//! `iamctl import`: the adoption path. Reads one account (live, or from a snapshot) and prints
//! a desired-state TOML that the account already satisfies, so that `plan` right after is
//! empty: the exact password policy, the user rules the account meets today (with a week of
//! headroom), and every other rule commented out with what it would flag.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::Path;

use chrono::{DateTime, Duration, Utc};
use miette::{IntoDiagnostic, Result, WrapErr, miette};

use super::args::{GlobalArgs, ImportArgs};
use super::{ExitStatus, load_desired, print_stdout, report_api_calls, write_atomically};
use crate::aws::{ApiCalls, ClientFactory, Target};
use crate::desired::DesiredDoc;
use crate::fleet::{self, DEFAULT_TARGET};
use crate::live::{self, ReadScope, snapshot};
use crate::state::{AccessKey, AccountState, KeyStatus, PasswordPolicy, User};

/// A rule is written only when the account meets it with this much to spare, so that the
/// `plan` after an import stays empty for a while rather than a few hours.
const HEADROOM_DAYS: i64 = 7;

/// Thresholds that an imported day-count rule may take, the usual one first: import writes
/// the smallest one the account meets (with [`HEADROOM_DAYS`]), never a stricter one than
/// the usual limit.
const KEY_AGE_LADDER: &[i64] = &[90, 180, 365, 730, 1095, 1825, 3650];
const UNUSED_LADDER: &[i64] = &[45, 90, 180, 365, 730, 1095, 1825, 3650];

/// How many user names a comment lists before it says "and N more".
const NAMES_SHOWN: usize = 5;

/// Column at which trailing comments start.
const COMMENT_COLUMN: usize = 32;

pub(super) async fn import(global: &GlobalArgs, args: &ImportArgs) -> Result<ExitStatus> {
    let as_of = args.as_of.as_of.unwrap_or_else(Utc::now);
    let doc = if global.config.exists() {
        load_desired(global)?.doc
    } else {
        if !global.quiet && args.snapshot.is_none() {
            eprintln!(
                "no desired state at {}: importing the account of the ambient credentials (target \"{DEFAULT_TARGET}\")",
                global.config.display()
            );
        }
        DesiredDoc::default()
    };
    let calls = ApiCalls::default();
    let (target, state, source) = match &args.snapshot {
        Some(path) => from_snapshot(global, &doc, path)?,
        None => from_live(global, &doc, as_of, &calls).await?,
    };
    let imported = Imported {
        target: &target,
        state: &state,
        as_of,
        source: &source,
    };
    let text = render(&imported);
    match &args.out {
        Some(path) => {
            if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
                std::fs::create_dir_all(dir)
                    .into_diagnostic()
                    .wrap_err_with(|| format!("creating {}", dir.display()))?;
            }
            write_atomically(path, &text)?;
            if !global.quiet {
                eprintln!(
                    "wrote {}: account {} ({}), {} users. Next: iamctl plan -c {} --detailed-exitcode   # exits 0",
                    path.display(),
                    target.name,
                    state.account_id,
                    state.users.len(),
                    path.display()
                );
            }
        }
        None => print_stdout(&text)?,
    }
    report_api_calls(global, &calls);
    Ok(ExitStatus::Success)
}

/// The one target `-a` selects among the desired state's targets (or the implicit `default`
/// one when there is no desired state), read live with every direct read.
async fn from_live(
    global: &GlobalArgs,
    doc: &DesiredDoc,
    as_of: DateTime<Utc>,
    calls: &ApiCalls,
) -> Result<(Target, AccountState, String)> {
    let factory = ClientFactory::new(calls.clone()).await;
    let targets = fleet::resolve_targets(doc, &factory, &global.accounts)
        .await
        .map_err(miette::Report::new)?;
    let names: Vec<String> = targets.iter().map(|t| t.target.name.clone()).collect();
    let index = only_one(&names)?;
    let target = targets
        .into_iter()
        .nth(index)
        .expect("index is in range")
        .target;
    let clients = factory.for_target(&target).await;
    let state = live::read_account(
        &clients,
        ReadScope::Everything,
        as_of,
        global.concurrency.into(),
    )
    .await
    .map_err(|error| {
        let help = if error.is_access_denied() {
            "`iamctl permissions` prints the IAM policy that plan, snapshot and import need"
        } else if error.message.contains("credential") {
            "iamctl uses the standard AWS credential chain: e.g. `aws sso login --profile NAME` \
             and AWS_PROFILE=NAME, AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or an instance role"
        } else {
            "check the account's credentials and network, then run again (-v shows more)"
        };
        miette!(help = help, "{error}")
    })?;
    Ok((target, state, "live IAM".to_owned()))
}

/// The one account of a snapshot that `-a` selects (by name or glob), with the `[[account]]`
/// entry of the same name from the desired state, if there is one.
fn from_snapshot(
    global: &GlobalArgs,
    doc: &DesiredDoc,
    path: &Path,
) -> Result<(Target, AccountState, String)> {
    let snap = snapshot::read_snapshot(path).map_err(miette::Report::new)?;
    let mut builder = globset::GlobSetBuilder::new();
    for pattern in &global.accounts {
        builder.add(
            globset::Glob::new(pattern)
                .into_diagnostic()
                .wrap_err_with(|| format!("invalid --account pattern {pattern:?}"))?,
        );
    }
    let set = builder.build().into_diagnostic()?;
    let all: Vec<String> = snap.accounts.iter().map(|a| a.name.clone()).collect();
    let selected: Vec<&snapshot::NamedAccount> = snap
        .accounts
        .iter()
        .filter(|a| {
            global.accounts.is_empty() || set.is_match(&a.name) || set.is_match(&a.state.account_id)
        })
        .collect();
    if selected.is_empty() {
        return Err(miette!(
            "--account {} matches no account of {} (it has: {})",
            global.accounts.join(", "),
            path.display(),
            all.join(", ")
        ));
    }
    let names: Vec<String> = selected.iter().map(|a| a.name.clone()).collect();
    let account = selected[only_one(&names)?];
    let target = doc
        .account
        .iter()
        .find(|spec| spec.name == account.name)
        .map(|spec| Target {
            name: spec.name.clone(),
            role_arn: spec.role_arn.clone(),
            external_id: spec.external_id.clone(),
            profile: spec.profile.clone(),
        })
        .unwrap_or_else(|| Target {
            name: account.name.clone(),
            ..Default::default()
        });
    let source = format!(
        "the snapshot {} (taken {})",
        path.display(),
        snap.taken_at.format("%Y-%m-%dT%H:%M:%SZ")
    );
    Ok((target, account.state.clone(), source))
}

fn only_one(names: &[String]) -> Result<usize> {
    match names.len() {
        1 => Ok(0),
        0 => Err(miette!("no target selected")),
        n => {
            let help = format!(
                "pick one with -a NAME, e.g. `iamctl import -a {}`",
                names[0]
            );
            Err(miette!(
                help = help,
                "import describes one account, and {n} targets are selected: {}",
                names.join(", ")
            ))
        }
    }
}

/// What an import describes.
pub(crate) struct Imported<'a> {
    /// Written as an `[[account]]` entry unless it is the implicit `default` target.
    pub target: &'a Target,
    pub state: &'a AccountState,
    /// Ages are measured at this time (now, or `--as-of`).
    pub as_of: DateTime<Utc>,
    /// Where the state came from, for the header.
    pub source: &'a str,
}

/// The desired-state TOML that `imported.state` satisfies, with comments.
pub(crate) fn render(imported: &Imported<'_>) -> String {
    let mut out = Toml::default();
    let state = imported.state;
    header(&mut out, imported);
    password_policy(&mut out, state.password_policy.as_ref());
    users(&mut out, state, imported.as_of);
    per_user(&mut out, state);
    audit(&mut out, state);
    account(&mut out, imported.target);
    out.0
}

/// A TOML document being written, line by line.
#[derive(Default)]
struct Toml(String);

impl Toml {
    fn line(&mut self, text: impl AsRef<str>) {
        self.0.push_str(text.as_ref());
        self.0.push('\n');
    }

    fn blank(&mut self) {
        self.0.push('\n');
    }

    /// `key = value`, with a trailing comment aligned at [`COMMENT_COLUMN`].
    fn set(&mut self, key: &str, value: impl std::fmt::Display, comment: &str) {
        self.entry("", key, value, comment);
    }

    /// `# key = value`: a suggestion, commented out.
    fn suggest(&mut self, key: &str, value: impl std::fmt::Display, comment: &str) {
        self.entry("# ", key, value, comment);
    }

    fn entry(&mut self, prefix: &str, key: &str, value: impl std::fmt::Display, comment: &str) {
        let assignment = format!("{prefix}{key} = {value}");
        if comment.is_empty() {
            self.line(assignment);
        } else {
            self.line(format!(
                "{assignment:<width$} # {comment}",
                width = COMMENT_COLUMN - 1
            ));
        }
    }

    /// `[header]`, with a trailing comment aligned like the entries'.
    fn table(&mut self, header: &str, comment: &str) {
        self.line(format!(
            "{header:<width$} # {comment}",
            width = COMMENT_COLUMN - 1
        ));
    }

    fn section(&mut self, title: &str) {
        self.blank();
        self.line(format!("# {}", "-".repeat(94)));
        for line in title.lines() {
            self.line(format!("# {line}"));
        }
        self.line(format!("# {}", "-".repeat(94)));
    }
}

/// A TOML string literal.
fn quoted(text: &str) -> String {
    toml::Value::String(text.to_owned()).to_string()
}

/// A name for a comment: no line breaks, whatever IAM allowed.
fn safe(name: &str) -> String {
    name.chars()
        .map(|c| if c.is_control() { '?' } else { c })
        .collect()
}

/// `alice, bob, carol and 4 more`.
fn names(list: &[&str]) -> String {
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

fn header(out: &mut Toml, imported: &Imported<'_>) {
    let state = imported.state;
    out.line(format!(
        "# iamctl desired state imported by `iamctl import` from account {} ({}),",
        quoted(&imported.target.name),
        state.account_id,
    ));
    out.line(format!(
        "# read from {}, as of {}.",
        imported.source,
        imported.as_of.format("%Y-%m-%dT%H:%M:%SZ")
    ));
    out.line("#");
    out.line("# Every rule written below is one the account meets today, with a week to spare, so");
    out.line(
        "# `iamctl plan` right after shows no change. The commented-out lines are the rules it",
    );
    out.line(
        "# does not meet yet: each says what `plan` would report or change. Tighten one rule at a",
    );
    out.line(
        "# time, read the plan, apply. `iamctl validate` checks this file without calling AWS.",
    );
    out.line("#");
    out.line("# Editors: `iamctl schema > iamctl.schema.json` and a first line");
    out.line(
        "# `#:schema ./iamctl.schema.json` give completion and checks in Taplo / Even Better TOML.",
    );
}

fn password_policy(out: &mut Toml, policy: Option<&PasswordPolicy>) {
    out.section(
        "The account password policy. This table is the whole policy: IAM has no partial update,\n\
         so a field left out is planned as IAM's default (false, no expiry, no reuse limit).",
    );
    let Some(policy) = policy else {
        out.line(
            "# This account has no password policy: IAM's defaults are in force (6 characters, no",
        );
        out.line(
            "# character classes, no expiry). Uncomment the table below and `plan` shows a create;",
        );
        out.line(
            "# with reset_on_policy_tightening (under [users.console]) every console user then",
        );
        out.line("# has to pick a new password that meets it.");
        out.line("# [password_policy]");
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
    out.line("[password_policy]");
    let weaker = |is_weaker: bool, baseline: &str| {
        if is_weaker {
            format!("as now; the baseline has {baseline}")
        } else {
            "as now".to_owned()
        }
    };
    out.set(
        "minimum_length",
        policy.minimum_length,
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
        Some(days) => out.set("max_age_days", days, "as now; 1..=1095"),
        None => out.suggest(
            "max_age_days",
            90,
            "left out, as now: passwords never expire",
        ),
    }
    match policy.reuse_prevention {
        Some(n) => out.set("reuse_prevention", n, &weaker(n < 24, "24")),
        None => out.suggest(
            "reuse_prevention",
            24,
            "left out, as now: no reuse prevention",
        ),
    }
    out.set("hard_expiry", policy.hard_expiry, "as now");
}

/// The smallest rung of `ladder` that every age stays under with [`HEADROOM_DAYS`] to spare
/// (the first rung when there are no ages); `None` when even the last rung is too small.
fn fitting(ages: &[Duration], ladder: &[i64]) -> Option<i64> {
    let oldest = ages.iter().max().copied().unwrap_or_default();
    ladder
        .iter()
        .copied()
        .find(|days| oldest <= Duration::days(days - HEADROOM_DAYS))
}

/// How many ages go over `days` (as the engine counts: strictly more than that many days).
fn over(ages: &[Duration], days: i64) -> usize {
    ages.iter()
        .filter(|age| **age > Duration::days(days))
        .count()
}

fn oldest_days(ages: &[Duration]) -> i64 {
    ages.iter().max().map_or(0, |d| d.num_days())
}

/// Writes a day-count rule: set to the rung the account meets, or suggested at the usual
/// limit with the number of `things` (singular, plural) it would flag.
fn day_rule(out: &mut Toml, key: &str, ages: &[Duration], ladder: &[i64], things: (&str, &str)) {
    let usual = ladder[0];
    let count = |n: usize| plural(n, things.0, things.1);
    match fitting(ages, ladder) {
        Some(days) if ages.is_empty() => out.set(key, days, &format!("no {} today", things.1)),
        Some(days) if days == usual => {
            out.set(
                key,
                days,
                &format!("met: at most {} days today", oldest_days(ages)),
            );
        }
        Some(days) => out.set(
            key,
            days,
            &format!(
                "met; the usual is {usual}: {} past it or within a week",
                count(over(ages, usual - HEADROOM_DAYS))
            ),
        ),
        None => out.suggest(
            key,
            usual,
            &format!(
                "not met: {} over {usual} days (up to {})",
                count(over(ages, usual)),
                oldest_days(ages)
            ),
        ),
    }
}

fn users(out: &mut Toml, state: &AccountState, as_of: DateTime<Utc>) {
    out.section("Rules for every IAM user, except the exempt ones.");
    out.line("[users]");
    out.suggest(
        "exempt",
        "[\"break-glass-*\"]",
        "names or globs: never changed, never reported",
    );
    out.suggest(
        "exempt_tags",
        "{ \"iam-exempt\" = \"true\" }",
        "users tagged so are exempt too",
    );

    let console: Vec<&User> = state.users.iter().filter(|u| u.has_console()).collect();
    out.blank();
    out.table(
        "[users.console]",
        &format!(
            "{} with a console password today",
            plural(console.len(), "user", "users")
        ),
    );
    let without_mfa: Vec<&str> = console
        .iter()
        .filter(|u| !u.has_mfa())
        .map(|u| u.name.as_str())
        .collect();
    if without_mfa.is_empty() {
        out.set(
            "require_mfa",
            true,
            if console.is_empty() {
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
                plural(without_mfa.len(), "console user", "console users"),
                names(&without_mfa)
            ),
        );
    }
    out.suggest(
        "without_mfa",
        "\"report\"",
        "report | disable-console | deny-until-mfa",
    );
    let password_ages: Vec<Duration> = console
        .iter()
        .filter_map(|u| {
            let profile = u.login_profile.as_ref()?;
            Some(as_of - u.password_last_used.unwrap_or(profile.created))
        })
        .collect();
    day_rule(
        out,
        "max_unused_days",
        &password_ages,
        UNUSED_LADDER,
        ("console password", "console passwords"),
    );
    out.suggest("on_unused", "\"report\"", "report | disable-console");
    out.suggest(
        "reset_on_policy_tightening",
        true,
        &format!(
            "a stricter [password_policy] makes {} pick a new password",
            plural(console.len(), "console user", "console users")
        ),
    );

    let active: Vec<&AccessKey> = state
        .users
        .iter()
        .flat_map(|u| &u.access_keys)
        .filter(|k| k.status == KeyStatus::Active)
        .collect();
    let inactive = state
        .users
        .iter()
        .flat_map(|u| &u.access_keys)
        .filter(|k| k.status == KeyStatus::Inactive)
        .count();
    out.blank();
    out.table(
        "[users.access_keys]",
        &format!(
            "{} and {} today",
            plural(active.len(), "active key", "active keys"),
            plural(inactive, "inactive key", "inactive keys")
        ),
    );
    let key_ages: Vec<Duration> = active.iter().map(|k| as_of - k.created).collect();
    day_rule(
        out,
        "max_age_days",
        &key_ages,
        KEY_AGE_LADDER,
        ("active key", "active keys"),
    );
    out.suggest("on_expired", "\"report\"", "report | deactivate | delete");
    let unused_ages: Vec<Duration> = active
        .iter()
        .map(|k| as_of - k.last_used.unwrap_or(k.created))
        .collect();
    day_rule(
        out,
        "max_unused_days",
        &unused_ages,
        UNUSED_LADDER,
        ("active key", "active keys"),
    );
    out.suggest("on_unused", "\"report\"", "report | deactivate | delete");
    out.suggest(
        "delete_inactive",
        true,
        &if inactive == 0 {
            "no inactive key today; deletes keys once deactivated".to_owned()
        } else {
            format!(
                "would delete {}",
                plural(inactive, "inactive key", "inactive keys")
            )
        },
    );
    let two_keys: Vec<&str> = state
        .users
        .iter()
        .filter(|u| {
            u.access_keys
                .iter()
                .filter(|k| k.status == KeyStatus::Active)
                .count()
                > 1
        })
        .map(|u| u.name.as_str())
        .collect();
    if two_keys.is_empty() {
        out.set("max_active", 1, "no user has two active keys");
    } else {
        out.suggest(
            "max_active",
            1,
            &format!(
                "{} two active keys: {}",
                plural(two_keys.len(), "user has", "users have"),
                names(&two_keys)
            ),
        );
    }
}

fn per_user(out: &mut Toml, state: &AccountState) {
    out.section(
        "Per-user requirements, on top of the rules. None is needed to describe this account.",
    );
    let machines: Vec<&str> = state
        .users
        .iter()
        .filter(|u| !u.has_console() && u.access_keys.iter().any(|k| k.status == KeyStatus::Active))
        .map(|u| u.name.as_str())
        .collect();
    if let Some(first) = machines.first() {
        out.line(format!(
            "# Users with an active access key and no console password ({}): {}.",
            machines.len(),
            names(&machines)
        ));
        out.line("# To make sure such a user never gets a console password:");
        out.line("# [[user]]");
        out.suggest("name", quoted(first), "");
        out.suggest("console", false, "a console password would be deleted");
    } else {
        out.line("# [[user]]");
        out.suggest("name", "\"alice\"", "");
        out.suggest(
            "console",
            true,
            "create a console password (needs apply --secrets-dir)",
        );
    }
}

fn audit(out: &mut Toml, state: &AccountState) {
    out.section("Audit.");
    out.line("[audit]");
    match &state.trails {
        Some(trails) => match trails.iter().find(|t| t.watches_iam()) {
            Some(trail) => out.set(
                "require_cloudtrail",
                true,
                &format!("the trail {} logs IAM changes", quoted(&safe(&trail.name))),
            ),
            None => out.suggest(
                "require_cloudtrail",
                true,
                "no multi-region trail logs management writes: would be reported",
            ),
        },
        None => out.suggest("require_cloudtrail", true, "trails were not read"),
    }
}

fn account(out: &mut Toml, target: &Target) {
    if target.name == DEFAULT_TARGET {
        return;
    }
    out.section(
        "The account this file describes. To fold it into a desired state with other accounts,\n\
         move the tables above under this entry ([account.password_policy], [account.users] ...).",
    );
    out.line("[[account]]");
    out.set("name", quoted(&target.name), "");
    let optional: BTreeMap<&str, &Option<String>> = [
        ("role_arn", &target.role_arn),
        ("external_id", &target.external_id),
        ("profile", &target.profile),
    ]
    .into_iter()
    .collect();
    for (key, value) in optional {
        if let Some(value) = value {
            out.set(key, quoted(value), "");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fleet::select_targets;
    use crate::plan::plan_account;
    use crate::state::{LoginProfile, MfaDevice, Trail};

    fn at(days_ago: i64, now: DateTime<Utc>) -> DateTime<Utc> {
        now - Duration::days(days_ago) - Duration::hours(3)
    }

    fn user(name: &str, now: DateTime<Utc>) -> User {
        User::new(name, at(800, now))
    }

    fn console(mut u: User, profile_days: i64, used_days: Option<i64>, now: DateTime<Utc>) -> User {
        u.login_profile = Some(LoginProfile {
            created: at(profile_days, now),
            password_reset_required: false,
        });
        u.password_last_used = used_days.map(|d| at(d, now));
        u
    }

    fn mfa(mut u: User) -> User {
        u.mfa_devices.push(MfaDevice {
            serial: format!("arn:aws:iam::123456789012:mfa/{}", u.name),
            enabled_at: None,
        });
        u
    }

    fn key(
        mut u: User,
        id: &str,
        active: bool,
        created: i64,
        used: Option<i64>,
        now: DateTime<Utc>,
    ) -> User {
        u.access_keys.push(AccessKey {
            id: id.parse().unwrap(),
            status: if active {
                KeyStatus::Active
            } else {
                KeyStatus::Inactive
            },
            created: at(created, now),
            last_used: used.map(|d| at(d, now)),
        });
        u
    }

    fn state(users: Vec<User>, policy: Option<PasswordPolicy>, trails: Vec<Trail>) -> AccountState {
        AccountState {
            account_id: "123456789012".into(),
            caller: None,
            password_policy: policy,
            users,
            trails: Some(trails),
            credential_report_generated_at: None,
        }
    }

    /// Imports `state`, checks that the TOML loads and validates, and plans the account
    /// against it a few days later.
    fn import_then_plan(
        state: &AccountState,
        target: &Target,
        now: DateTime<Utc>,
    ) -> (String, crate::plan::AccountPlan) {
        let text = render(&Imported {
            target,
            state,
            as_of: now,
            source: "a test",
        });
        let doc: DesiredDoc = toml::from_str(&text).unwrap_or_else(|e| panic!("{e}\n{text}"));
        let problems = crate::desired::validate(&doc);
        assert!(problems.is_empty(), "{problems:?}\n{text}");
        let targets = select_targets(&doc, &[]).unwrap();
        assert_eq!(targets.len(), 1);
        assert_eq!(targets[0].target, *target);
        let later = now + Duration::days(HEADROOM_DAYS - 1);
        let plan = plan_account(&target.name, &targets[0].rules, state, later);
        (text, plan)
    }

    fn now() -> DateTime<Utc> {
        "2026-11-23T12:00:00Z".parse().unwrap()
    }

    #[test]
    fn a_messy_account_imports_to_an_empty_plan_with_the_gaps_commented() {
        let now = now();
        let users = vec![
            mfa(console(user("alice", now), 300, Some(2), now)),
            console(user("bob", now), 200, Some(60), now),
            console(user("carol", now), 100, None, now),
            key(
                key(user("svc-a", now), "AKIAA1", true, 120, Some(1), now),
                "AKIAA2",
                true,
                10,
                None,
                now,
            ),
            key(user("svc-b", now), "AKIAB1", false, 400, None, now),
            key(user("svc-c", now), "AKIAC1", true, 4000, Some(3990), now),
        ];
        let policy = PasswordPolicy {
            minimum_length: 8,
            require_symbols: true,
            max_age_days: Some(180),
            ..PasswordPolicy::iam_default()
        };
        let state = state(users, Some(policy), vec![]);
        let (text, plan) = import_then_plan(
            &state,
            &Target {
                name: "default".into(),
                ..Default::default()
            },
            now,
        );
        assert!(plan.changes.is_empty(), "{:?}\n{text}", plan.changes);
        assert!(plan.findings.is_empty(), "{:?}\n{text}", plan.findings);

        assert!(text.contains("minimum_length = 8"), "{text}");
        assert!(text.contains("max_age_days = 180"), "{text}");
        assert!(text.contains("# reuse_prevention = 24"), "{text}");
        assert!(text.contains("# require_mfa = true"), "{text}");
        assert!(text.contains("bob, carol"), "{text}");
        // Console passwords: bob unused 60 days, carol's profile never used for 100: 180 fits.
        assert!(text.contains("max_unused_days = 180"), "{text}");
        // svc-c's key is 4000 days old: no rung fits, so the rule is only suggested.
        assert!(text.contains("# max_age_days = 90"), "{text}");
        assert!(text.contains("# max_active = 1"), "{text}");
        assert!(text.contains("svc-a"), "{text}");
        assert!(text.contains("# require_cloudtrail = true"), "{text}");
        assert!(!text.contains("[[account]]"), "{text}");
    }

    #[test]
    fn a_clean_account_gets_the_usual_limits_and_a_named_target_its_account_entry() {
        let now = now();
        let users = vec![
            mfa(console(user("alice", now), 30, Some(1), now)),
            key(user("svc", now), "AKIAS1", true, 20, Some(0), now),
        ];
        let trail = Trail {
            name: "org".into(),
            home_region: "us-east-1".into(),
            is_multi_region: true,
            is_logging: true,
            records_management_writes: true,
        };
        let state = state(users, None, vec![trail]);
        let target = Target {
            name: "prod".into(),
            role_arn: Some("arn:aws:iam::123456789012:role/iamctl".into()),
            external_id: Some("x\"y".into()),
            profile: None,
        };
        let (text, plan) = import_then_plan(&state, &target, now);
        assert!(
            plan.changes.is_empty() && plan.findings.is_empty(),
            "{plan:?}\n{text}"
        );
        for line in [
            "require_mfa = true",
            "max_unused_days = 45",
            "max_age_days = 90",
            "max_active = 1",
            "require_cloudtrail = true",
            "# [password_policy]",
            "[[account]]",
        ] {
            assert!(text.lines().any(|l| l.starts_with(line)), "{line}\n{text}");
        }
    }

    #[test]
    fn the_usual_limit_is_not_written_when_it_would_fire_within_the_headroom() {
        let now = now();
        // 85 days old: under 90, but within a week of it.
        let users = vec![key(user("svc", now), "AKIAS1", true, 85, Some(0), now)];
        let state = state(users, None, vec![]);
        let target = Target {
            name: "default".into(),
            ..Default::default()
        };
        let (text, _) = import_then_plan(&state, &target, now);
        assert!(text.contains("max_age_days = 180"), "{text}");
        assert!(
            text.contains("the usual is 90: 1 active key past it or within a week"),
            "{text}"
        );
    }
}
