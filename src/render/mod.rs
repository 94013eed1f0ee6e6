//! Renderers: one `Plan`, printed for a terminal or CI log (`text`), for programs (`json`),
//! for a pull-request comment (`markdown`) and for code scanning (`sarif`). Each is a pure function from a plan to a `String`;
//! the CLI decides where it goes. Nothing here decides what the plan means: counts come from
//! `Plan::summary`, "anything to do" from `Plan::has_changes`.

mod apply;
mod controls;
mod json;
mod markdown;
mod sarif;
mod text;

use chrono::{DateTime, TimeDelta, Utc};

use crate::desired::Desired;
use crate::plan::{
    AccountLine, AccountPlan, Attribution, Change, ChangeKind, Plan, PlanOutline, TrailSettings,
};
use crate::state::{KeyStatus, PasswordPolicy};

pub use apply::apply_report;
pub use controls::{controls_json, controls_markdown, controls_text};
pub use json::{JsonSections, json};
pub use markdown::{MARKDOWN_MARKER, MarkdownSections, markdown, markdown_grouped};
pub use sarif::{
    SARIF_SCHEMA, change_message, description as rule_description, rule_location, sarif,
};
pub use text::{TextOptions, TextSections, text};

/// The output formats of `plan --format`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub enum Format {
    /// For a terminal or a CI log.
    #[default]
    Text,
    /// The plan as JSON, the same document a saved plan holds.
    Json,
    /// For a pull-request comment.
    Markdown,
    /// SARIF 2.1.0, for code scanning.
    Sarif,
}

impl Format {
    /// Renders `plan`, made from `desired`, in this format. The JSON and SARIF ignore `opts`;
    /// only SARIF reads `desired` (its results point into the desired-state files).
    pub fn render(self, plan: &Plan, opts: &TextOptions, desired: &Desired) -> String {
        match self.sections(opts) {
            Some(sections) => whole(sections.as_ref(), plan),
            None => sarif(plan, desired),
        }
    }

    /// This format piece by piece, for a plan rendered one account at a time; `None` for
    /// SARIF, whose runs and rules are made from the whole plan at once.
    pub fn sections(self, opts: &TextOptions) -> Option<Box<dyn Sections + Send + Sync>> {
        match self {
            Format::Text => Some(Box::new(TextSections(*opts))),
            Format::Json => Some(Box::new(JsonSections)),
            Format::Markdown => Some(Box::new(MarkdownSections {
                group_by_owner: opts.group_by_owner,
            })),
            Format::Sarif => None,
        }
    }
}

/// A rendering made piece by piece, so that a plan of any size can be printed while only its
/// [`PlanOutline`] and one account are in memory: [`Sections::head`], then
/// [`Sections::account`] for each account in plan order, then [`Sections::tail`]. Joined,
/// the pieces are the rendering of the whole plan.
pub trait Sections {
    fn head(&self, outline: &PlanOutline) -> String;
    /// The account at `index` (from 0) in plan order.
    fn account(&self, outline: &PlanOutline, index: usize, account: &AccountPlan) -> String;
    fn tail(&self, outline: &PlanOutline) -> String;
}

/// The pieces of `sections` for a plan in memory, joined.
pub(crate) fn whole(sections: &dyn Sections, plan: &Plan) -> String {
    let outline = PlanOutline::of(plan);
    let mut out = sections.head(&outline);
    for (index, account) in plan.accounts.iter().enumerate() {
        out.push_str(&sections.account(&outline, index, account));
    }
    out.push_str(&sections.tail(&outline));
    out
}

/// `--group-by owner`: an account's items split by who answers for them, owners in name
/// order and items about no one's user (the password policy, trails) last. Each part is an
/// `AccountPlan` of the same account holding only that owner's items, so the renderers draw it
/// as they draw any account. An account that failed, or has nothing, stays one part.
pub(crate) fn owner_groups(account: &AccountPlan) -> Vec<(Option<String>, AccountPlan)> {
    if account.error.is_some() || (account.changes.is_empty() && account.findings.is_empty()) {
        return vec![(None, account.clone())];
    }
    let mut owners: Vec<Option<&String>> = account
        .changes
        .iter()
        .map(|c| c.owner.as_ref())
        .chain(account.findings.iter().map(|f| f.owner.as_ref()))
        .collect();
    // `None` sorts first; the account-wide items read best after the people's.
    owners.sort_by_key(|o| (o.is_none(), o.cloned()));
    owners.dedup();
    owners
        .into_iter()
        .map(|owner| {
            let part = AccountPlan {
                changes: account
                    .changes
                    .iter()
                    .filter(|c| c.owner.as_ref() == owner)
                    .cloned()
                    .collect(),
                findings: account
                    .findings
                    .iter()
                    .filter(|f| f.owner.as_ref() == owner)
                    .cloned()
                    .collect(),
                ..account.clone()
            };
            (owner.cloned(), part)
        })
        .collect()
}

/// The one-line verdict that ends the text output and heads the markdown comment, e.g.
/// `Plan: 3 changes, 5 findings in 3 accounts (1 in sync, 1 failed).` or
/// `No changes. 2 findings.`
pub fn summary_line(plan: &Plan) -> String {
    outline_summary_line(&PlanOutline::of(plan))
}

/// [`summary_line`] of a plan's outline.
pub(crate) fn outline_summary_line(plan: &PlanOutline) -> String {
    let summary = &plan.summary;
    let accounts = plan.accounts.len();
    let failed = summary.failed_accounts;
    if plan.has_changes() {
        let changed = plan
            .accounts
            .iter()
            .filter(|a| line_status(a) == Status::Changes)
            .count();
        let in_sync = accounts.saturating_sub(changed + failed);
        let mut others = Vec::new();
        if in_sync > 0 {
            others.push(format!("{in_sync} in sync"));
        }
        if failed > 0 {
            others.push(format!("{failed} failed"));
        }
        let others = if others.is_empty() {
            String::new()
        } else {
            format!(" ({})", others.join(", "))
        };
        return format!(
            "Plan: {}, {} in {}{others}.",
            count(summary.changes, "change", "changes"),
            count(summary.findings, "finding", "findings"),
            count(accounts, "account", "accounts"),
        );
    }
    let findings = match summary.findings {
        0 => "No findings".to_owned(),
        n => count(n, "finding", "findings"),
    };
    if failed > 0 {
        // Without the failed accounts' state "no changes" is only known for the others.
        format!(
            "No changes. {findings}. {failed} of {} failed.",
            count(accounts, "account", "accounts")
        )
    } else {
        format!("No changes. {findings}.")
    }
}

fn count(n: usize, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

/// Where an account stands, for headers and the markdown summary table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Status {
    Changes,
    InSync,
    Failed,
}

impl Status {
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Status::Changes => "changes",
            Status::InSync => "in sync",
            Status::Failed => "failed",
        }
    }
}

pub(crate) fn status(account: &AccountPlan) -> Status {
    if account.error.is_some() {
        Status::Failed
    } else if account.changes.is_empty() {
        Status::InSync
    } else {
        Status::Changes
    }
}

/// [`status`] of an account as its outline line has it.
pub(crate) fn line_status(account: &AccountLine) -> Status {
    if account.failed {
        Status::Failed
    } else if account.changes == 0 {
        Status::InSync
    } else {
        Status::Changes
    }
}

/// "credential report generated 2h 14m before as_of": the plan is only as fresh as the report
/// it was read from (IAM hands out the same report for up to 4 hours).
pub(crate) fn report_age(account: &AccountPlan, as_of: DateTime<Utc>) -> Option<String> {
    let generated = account.credential_report_generated_at?;
    let age = as_of - generated;
    // A past `--as-of` can predate the report.
    let (age, relation) = if age < TimeDelta::zero() {
        (-age, "after")
    } else {
        (age, "before")
    };
    Some(format!(
        "credential report generated {} {relation} as_of",
        duration(age)
    ))
}

/// A coarse duration: the two largest units, enough to judge freshness at a glance.
fn duration(d: TimeDelta) -> String {
    let (days, hours, minutes) = (d.num_days(), d.num_hours() % 24, d.num_minutes() % 60);
    if days > 0 {
        format!("{days}d {hours}h")
    } else if hours > 0 {
        format!("{hours}h {minutes}m")
    } else if minutes > 0 {
        format!("{minutes}m")
    } else {
        "less than 1m".to_owned()
    }
}

/// One line of the password-policy diff.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum DiffTag {
    Same,
    Removed,
    Added,
}

impl DiffTag {
    /// The line prefix, as in a unified diff (markdown's ```diff highlighting keys on it).
    pub(crate) fn prefix(self) -> &'static str {
        match self {
            DiffTag::Same => "  ",
            DiffTag::Removed => "- ",
            DiffTag::Added => "+ ",
        }
    }
}

/// The password policy before and after, as a line diff of its `key = value` rendering: every
/// field is shown so the reader sees the whole policy, and only the changed lines are marked.
/// `None` for a change that is not about the password policy.
pub(crate) fn policy_diff(change: &Change) -> Option<Vec<(DiffTag, String)>> {
    let (before, after) = change.kind.password_policy()?;
    let (before, after) = (policy_lines(before), policy_lines(after));
    let mut out: Vec<(DiffTag, String)> = Vec::new();
    // Start of the current run of changed lines.
    let mut run = 0;
    for line in similar::TextDiff::from_lines(&before, &after).iter_all_changes() {
        let tag = match line.tag() {
            similar::ChangeTag::Equal => DiffTag::Same,
            similar::ChangeTag::Delete => DiffTag::Removed,
            similar::ChangeTag::Insert => DiffTag::Added,
        };
        if tag == DiffTag::Same {
            run = out.len() + 1;
        }
        out.push((tag, line.value().trim_end_matches('\n').to_owned()));
        // A diff prints a run of changed lines as all removals, then all additions; for
        // `key = value` lines the old and new value of each key side by side read better.
        // Both sides list the keys in the same order, so ordering by key keeps that order.
        out[run..].sort_by(|(a_tag, a), (b_tag, b)| {
            (field_rank(a), *a_tag == DiffTag::Added)
                .cmp(&(field_rank(b), *b_tag == DiffTag::Added))
        });
    }
    Some(out)
}

/// Where a `key = value` line sorts: by `POLICY_FIELDS`.
fn field_rank(line: &str) -> usize {
    let key = line.split_once(" = ").map_or(line, |(key, _)| key);
    POLICY_FIELDS
        .iter()
        .position(|k| *k == key)
        .unwrap_or(POLICY_FIELDS.len())
}

/// The order of the desired-state file (SPEC.md), so the diff reads like the file under review.
const POLICY_FIELDS: [&str; 9] = [
    "minimum_length",
    "require_uppercase",
    "require_lowercase",
    "require_numbers",
    "require_symbols",
    "allow_users_to_change",
    "max_age_days",
    "reuse_prevention",
    "hard_expiry",
];

/// A policy as TOML-like `key = value` lines. An unset limit is left out, as in the TOML file
/// where an absent `max_age_days` means "never expires"; no policy is no lines.
fn policy_lines(policy: Option<&PasswordPolicy>) -> String {
    let Some(policy) = policy else {
        return String::new();
    };
    let PasswordPolicy {
        minimum_length,
        require_uppercase,
        require_lowercase,
        require_numbers,
        require_symbols,
        allow_users_to_change,
        max_age_days,
        reuse_prevention,
        hard_expiry,
    } = policy;
    let values: [Option<String>; 9] = [
        Some(minimum_length.to_string()),
        Some(require_uppercase.to_string()),
        Some(require_lowercase.to_string()),
        Some(require_numbers.to_string()),
        Some(require_symbols.to_string()),
        Some(allow_users_to_change.to_string()),
        max_age_days.map(|d| d.to_string()),
        reuse_prevention.map(|n| n.to_string()),
        Some(hard_expiry.to_string()),
    ];
    POLICY_FIELDS
        .iter()
        .zip(values)
        .filter_map(|(key, value)| Some(format!("{key} = {}\n", value?)))
        .collect()
}

/// A compact before→after for changes other than the password policy, where it tells the
/// reviewer something the action does not: which fields flip, and how old and how recently used
/// a key or console password is that is being switched off. `None` when there is nothing to add.
pub(crate) fn change_detail(change: &Change) -> Option<String> {
    let flip = |field: &str, old: &dyn std::fmt::Display, new: &dyn std::fmt::Display| {
        format!("{field}: {old} → {new}")
    };
    let age = |created: DateTime<Utc>, label: &str, last_used: Option<DateTime<Utc>>| {
        [
            format!("created {}", date(created)),
            format!(
                "{label} {}",
                last_used.map_or_else(|| "never".to_owned(), date)
            ),
        ]
    };
    let parts: Vec<String> = match &change.kind {
        ChangeKind::CreatePasswordPolicy { .. }
        | ChangeKind::UpdatePasswordPolicy { .. }
        | ChangeKind::DeletePasswordPolicy { .. }
        | ChangeKind::CreateLoginProfile { .. }
        | ChangeKind::AttachDenyPolicy { .. }
        | ChangeKind::DetachDenyPolicy { .. } => Vec::new(),
        ChangeKind::DeleteLoginProfile { before, .. } => age(
            before.created,
            "password last used",
            before.password_last_used,
        )
        .to_vec(),
        ChangeKind::ResetPassword { .. } => vec![flip("password_reset_required", &false, &true)],
        ChangeKind::DeactivateAccessKey { key, delete_on, .. } => {
            let mut parts = Vec::new();
            if key.status != KeyStatus::Inactive {
                parts.push(flip("status", &key_status(key.status), &"Inactive"));
            }
            parts.extend(age(key.created, "last used", key.last_used));
            if let Some(delete_on) = delete_on {
                parts.push(format!("deleted on {} if still inactive", date(*delete_on)));
            }
            parts
        }
        ChangeKind::DeleteAccessKey { key, .. } => {
            let mut parts = vec![format!("status: {}", key_status(key.status))];
            parts.extend(age(key.created, "last used", key.last_used));
            if let Some(since) = key.inactive_since {
                parts.push(format!("inactive since {}", date(since)));
            }
            parts
        }
        ChangeKind::RecordInactiveKey { key, delete_on, .. } => {
            let mut parts = vec!["first seen inactive: recorded now".to_owned()];
            parts.extend(age(key.created, "last used", key.last_used));
            parts.push(format!("deleted on {} if still inactive", date(*delete_on)));
            parts
        }
        ChangeKind::ForgetInactiveKey { since, .. } => vec![format!(
            "active again: its record of inactivity since {} goes",
            date(*since)
        )],
        // Where the new key goes, never the key.
        ChangeKind::RotateAccessKey {
            key,
            secret,
            deactivate_on,
            ..
        } => {
            let mut parts = vec![format!("new key → secret {}", secret.secret_name)];
            parts.extend(age(key.created, "last used", key.last_used));
            parts.push(format!(
                "deactivated on {} at the latest (sooner once the new key is used)",
                date(*deactivate_on)
            ));
            parts
        }
        ChangeKind::RecordRotation { new_key, at, .. } => vec![format!(
            "a rotation started {} delivered {new_key}: recorded now",
            date(*at)
        )],
        ChangeKind::ForgetRotation { record, .. } => {
            vec![format!("rotation record {record} no longer holds: it goes")]
        }
        // A new trail: what it will be.
        ChangeKind::CreateTrail { trail } => vec![
            format!("name: {}", trail.name),
            format!("s3_bucket: {}", trail.s3_bucket),
            "is_multi_region: true".to_owned(),
        ],
        ChangeKind::UpdateTrail { before, after } => {
            let TrailSettings {
                name,
                home_region,
                is_multi_region,
                is_logging,
            } = after;
            let mut parts = Vec::new();
            if *name != before.name {
                parts.push(flip("name", &before.name, name));
            }
            if *home_region != before.home_region {
                parts.push(flip("home_region", &before.home_region, home_region));
            }
            if *is_multi_region != before.is_multi_region {
                parts.push(flip(
                    "is_multi_region",
                    &before.is_multi_region,
                    is_multi_region,
                ));
            }
            if *is_logging != before.is_logging {
                parts.push(flip("is_logging", &before.is_logging, is_logging));
            }
            parts
        }
    };
    (!parts.is_empty()).then(|| parts.join(", "))
}

fn key_status(status: KeyStatus) -> &'static str {
    match status {
        KeyStatus::Active => "Active",
        KeyStatus::Inactive => "Inactive",
    }
}

/// The day of a timestamp; the finding messages and the rule give the exact age.
fn date(at: DateTime<Utc>) -> String {
    at.format("%Y-%m-%d").to_string()
}

/// `by ARN at TIME (EventName)`: who last changed the item, from `plan --explain`.
pub(crate) fn attribution_line(attribution: &Attribution) -> String {
    format!(
        "by {} at {} ({})",
        attribution.principal_arn,
        timestamp(attribution.event_time),
        attribution.event_name
    )
}

/// `as_of` as the JSON shows it, to the second.
pub(crate) fn timestamp(at: DateTime<Utc>) -> String {
    at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}
