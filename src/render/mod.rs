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
use crate::ops::spill::SpilledPlan;
use crate::plan::{AccountLine, AccountPlan, Attribution, Plan, PlanOutline};

pub(crate) use crate::plan::describe::{DiffTag, change_detail, policy_diff};
pub use crate::plan::describe::{change_message, description as rule_description};
pub use apply::apply_report;
pub use controls::{controls_json, controls_markdown, controls_text};
pub use json::{JsonSections, json};
pub use markdown::{MARKDOWN_MARKER, MarkdownSections, markdown, markdown_grouped};
pub use sarif::{SARIF_SCHEMA, rule_location, sarif};
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

/// Writes a spilled plan in `sections`' format to `out`, one account read back at a time.
pub fn spilled(
    sections: &dyn Sections,
    plan: &SpilledPlan,
    out: &mut dyn std::io::Write,
) -> std::io::Result<()> {
    let outline = plan.outline();
    out.write_all(sections.head(outline).as_bytes())?;
    for index in 0..plan.len() {
        let account = plan.account(index)?;
        out.write_all(sections.account(outline, index, &account).as_bytes())?;
    }
    out.write_all(sections.tail(outline).as_bytes())
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
