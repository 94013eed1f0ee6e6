//! The text rendering, for a terminal or a CI log: accounts in plan order, one line per change
//! or finding, the password policy as a line diff, and one summary line at the end.

use std::borrow::Cow;
use std::fmt::Write as _;

use owo_colors::{OwoColorize, Style};

use chrono::{DateTime, Utc};

use super::{
    DiffTag, Sections, Status, attribution_line, change_detail, line_status, outline_summary_line,
    owner_groups, policy_diff, report_age, status, timestamp,
};
use crate::plan::{AccountPlan, Action, Attribution, Plan, PlanOutline};

/// How to print text.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct TextOptions {
    /// Colour with ANSI escapes. When false the output holds no escape at all, so it can be
    /// grepped, diffed and pasted.
    pub color: bool,
    /// `--group-by owner`: each account's items under their owners.
    pub group_by_owner: bool,
}

/// The plan for people reading a terminal or a CI log.
pub fn text(plan: &Plan, opts: &TextOptions) -> String {
    super::whole(&TextSections(*opts), plan)
}

/// [`text`] piece by piece: the title, one section per account, the fleet table and the
/// summary line.
#[derive(Debug, Clone, Copy)]
pub struct TextSections(pub TextOptions);

impl Sections for TextSections {
    fn head(&self, outline: &PlanOutline) -> String {
        let paint = Painter {
            color: self.0.color,
        };
        let mut out = String::new();
        let _ = writeln!(
            out,
            "{}",
            paint.paint(
                &format!("iamctl plan as of {}", timestamp(outline.as_of)),
                Style::new().bold()
            )
        );
        out
    }

    fn account(&self, outline: &PlanOutline, _index: usize, account: &AccountPlan) -> String {
        let paint = Painter {
            color: self.0.color,
        };
        let mut out = String::new();
        if self.0.group_by_owner {
            for (owner, part) in owner_groups(account) {
                out.push('\n');
                render_account(&mut out, &part, owner.as_deref(), outline.as_of, paint);
            }
        } else {
            out.push('\n');
            render_account(&mut out, account, None, outline.as_of, paint);
        }
        out
    }

    fn tail(&self, outline: &PlanOutline) -> String {
        let paint = Painter {
            color: self.0.color,
        };
        let mut out = String::new();
        if outline.accounts.len() > 1 {
            out.push('\n');
            render_fleet(&mut out, outline, paint);
        }
        out.push('\n');
        let summary = outline_summary_line(outline);
        let style = if outline.has_failures() {
            Style::new().red().bold()
        } else if outline.has_changes() {
            Style::new().bold()
        } else {
            Style::new().green().bold()
        };
        let _ = writeln!(out, "{}", paint.paint(&summary, style));
        out
    }
}

/// The fleet at a glance, for runs over several accounts: how many accounts have changes,
/// are in sync or failed, and one line per account with its counts.
fn render_fleet(out: &mut String, outline: &PlanOutline, paint: Painter) {
    let mut parts = Vec::new();
    for status_kind in [Status::Changes, Status::InSync, Status::Failed] {
        let n = outline
            .accounts
            .iter()
            .filter(|a| line_status(a) == status_kind)
            .count();
        let status = status_kind;
        if n > 0 {
            let label = if status == Status::Changes {
                "with changes"
            } else {
                status.as_str()
            };
            parts.push(format!("{n} {label}"));
        }
    }
    let _ = writeln!(
        out,
        "{}",
        paint.paint(
            &format!(
                "Fleet: {} accounts: {}",
                outline.accounts.len(),
                parts.join(", ")
            ),
            Style::new().bold()
        )
    );
    let rows: Vec<[String; 5]> = outline
        .accounts
        .iter()
        .map(|account| {
            let status = line_status(account);
            // A failed account was not read: its counts are unknown, not zero.
            let (changes, findings) = if status == Status::Failed {
                ("-".to_owned(), "-".to_owned())
            } else {
                (account.changes.to_string(), account.findings.to_string())
            };
            [
                one_line(&account.name).into_owned(),
                one_line(&account.account_id).into_owned(),
                status.as_str().to_owned(),
                changes,
                findings,
            ]
        })
        .collect();
    let header = ["account", "id", "status", "changes", "findings"].map(str::to_owned);
    let mut width = [0usize; 5];
    for row in std::iter::once(&header).chain(&rows) {
        for (w, cell) in width.iter_mut().zip(row) {
            *w = (*w).max(cell.chars().count());
        }
    }
    let line = |row: &[String; 5]| {
        format!(
            "  {:<w0$}  {:<w1$}  {:<w2$}  {:>w3$}  {:>w4$}",
            row[0],
            row[1],
            row[2],
            row[3],
            row[4],
            w0 = width[0],
            w1 = width[1],
            w2 = width[2],
            w3 = width[3],
            w4 = width[4],
        )
    };
    let _ = writeln!(
        out,
        "{}",
        paint.paint(line(&header).trim_end(), Style::new().dimmed())
    );
    for (row, account) in rows.iter().zip(&outline.accounts) {
        let text = line(row);
        let style = match line_status(account) {
            Status::Changes => Style::new().yellow(),
            Status::InSync => Style::new().green(),
            Status::Failed => Style::new().red(),
        };
        let _ = writeln!(out, "{}", paint.paint(text.trim_end(), style));
    }
}

/// One account (or, grouped by owner, one owner's part of it).
fn render_account(
    out: &mut String,
    account: &AccountPlan,
    owner: Option<&str>,
    as_of: DateTime<Utc>,
    paint: Painter,
) {
    let mut header = format!(
        "account {} ({})",
        one_line(&account.name),
        one_line(&account.account_id)
    );
    if let Some(owner) = owner {
        header.push_str(&format!(", owner {}", one_line(owner)));
    }
    let _ = writeln!(out, "{}", paint.paint(&header, Style::new().bold()));
    if let Some(age) = report_age(account, as_of) {
        let _ = writeln!(out, "  {}", paint.paint(&age, Style::new().dimmed()));
    }

    if let Some(error) = &account.error {
        let _ = writeln!(
            out,
            "  {} the account could not be read, so it was not planned:",
            paint.paint("error:", Style::new().red().bold())
        );
        for line in clean(error).lines() {
            let _ = writeln!(out, "    {}", paint.paint(line, Style::new().red()));
        }
        return;
    }
    if status(account) == Status::InSync && account.findings.is_empty() {
        let _ = writeln!(
            out,
            "  {}",
            paint.paint("no changes, no findings", Style::new().green())
        );
        return;
    }

    // Addresses are padded to one column so the actions and messages line up for scanning.
    let width = account
        .changes
        .iter()
        .map(|c| c.address())
        .chain(account.findings.iter().map(|f| f.address.clone()))
        .map(|a| one_line(&a.to_string()).chars().count())
        .max()
        .unwrap_or(0);

    if !account.changes.is_empty() {
        out.push('\n');
    }
    for change in &account.changes {
        let action = change.action();
        let style = action_style(action);
        let address = one_line(&change.address().to_string()).into_owned();
        let _ = writeln!(
            out,
            "  {} {address:<width$}  {} {}",
            paint.paint(&action.marker().to_string(), style),
            paint.paint(action.as_str(), style),
            paint.paint(&format!("({})", change.rule), Style::new().dimmed()),
        );
        if let Some(diff) = policy_diff(change) {
            for (tag, line) in diff {
                let style = match tag {
                    DiffTag::Same => Style::new().dimmed(),
                    DiffTag::Removed => Style::new().red(),
                    DiffTag::Added => Style::new().green(),
                };
                let _ = writeln!(
                    out,
                    "    {}",
                    paint.paint(&format!("{}{}", tag.prefix(), clean(&line)), style)
                );
            }
        } else if let Some(detail) = change_detail(change) {
            let _ = writeln!(
                out,
                "      {}",
                paint.paint(&one_line(&detail), Style::new().dimmed())
            );
        }
        if let Some(attribution) = &change.attribution {
            render_attribution(out, attribution, paint);
        }
    }

    if !account.findings.is_empty() {
        out.push('\n');
    }
    for finding in &account.findings {
        let address = one_line(&finding.address.to_string()).into_owned();
        let _ = writeln!(
            out,
            "  {} {address:<width$}  {} {}",
            paint.paint("*", Style::new().cyan().bold()),
            one_line(&finding.message),
            paint.paint(&format!("({})", finding.rule_name()), Style::new().dimmed()),
        );
        if let Some(attribution) = &finding.attribution {
            render_attribution(out, attribution, paint);
        }
    }
}

/// `      by ARN at TIME (EventName)` under the item it explains.
fn render_attribution(out: &mut String, attribution: &Attribution, paint: Painter) {
    let _ = writeln!(
        out,
        "      {}",
        paint.paint(
            &one_line(&attribution_line(attribution)),
            Style::new().blue()
        )
    );
}

/// Coloured like the marker: green adds, yellow updates, red removes, magenta switches off.
fn action_style(action: Action) -> Style {
    match action {
        Action::Create | Action::Attach | Action::Rotate => Style::new().green().bold(),
        Action::Update | Action::Tag | Action::Untag => Style::new().yellow().bold(),
        Action::Delete | Action::Detach => Style::new().red().bold(),
        Action::Deactivate | Action::ResetPassword => Style::new().magenta().bold(),
    }
}

/// Colours text only when asked, so that `color: false` never emits an escape.
#[derive(Clone, Copy)]
struct Painter {
    color: bool,
}

impl Painter {
    fn paint(self, text: &str, style: Style) -> String {
        if self.color {
            text.style(style).to_string()
        } else {
            text.to_owned()
        }
    }
}

/// Text from outside iamctl (AWS error messages, names from the config) with its control
/// characters escaped, so it can neither drive the terminal nor break the layout. Newlines are
/// kept for multi-line error blocks.
fn clean(s: &str) -> Cow<'_, str> {
    escape_controls(s, true)
}

/// Like `clean`, for text that must stay on one line.
fn one_line(s: &str) -> Cow<'_, str> {
    escape_controls(s, false)
}

fn escape_controls(s: &str, keep_newlines: bool) -> Cow<'_, str> {
    let escaped = |c: char| c.is_control() && !(keep_newlines && c == '\n');
    if !s.chars().any(escaped) {
        return Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        if escaped(c) {
            out.extend(c.escape_default());
        } else {
            out.push(c);
        }
    }
    Cow::Owned(out)
}
