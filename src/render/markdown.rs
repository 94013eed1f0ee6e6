//! The markdown rendering, for a pull-request comment: a summary table of the accounts, then a
//! section per account that has something to show, with long lists folded so the comment stays
//! readable on a large estate.

use std::fmt::Write as _;

use chrono::{DateTime, Utc};

use super::{
    Sections, Status, change_detail, line_status, outline_summary_line, owner_groups, policy_diff,
    report_age, status, timestamp,
};
use crate::plan::controls::control_ids;
use crate::plan::{AccountPlan, Attribution, Plan, PlanOutline};

/// The hidden first line of every comment, by which CI finds its own earlier comment and
/// updates it instead of adding a new one.
pub const MARKDOWN_MARKER: &str = "<!-- iamctl-plan -->";

/// Lists longer than this are folded into a `<details>` block.
const FOLD_ABOVE: usize = 10;

/// The plan as a pull-request comment in GitHub-flavoured markdown.
pub fn markdown(plan: &Plan) -> String {
    markdown_grouped(plan, false)
}

/// [`markdown`], with `group_by_owner` each account's items under their owners (a team lead
/// reads only their part).
pub fn markdown_grouped(plan: &Plan, group_by_owner: bool) -> String {
    super::whole(&MarkdownSections { group_by_owner }, plan)
}

/// [`markdown_grouped`] piece by piece: the summary and the accounts' table, then a section
/// per account that has something to show.
#[derive(Debug, Clone, Copy)]
pub struct MarkdownSections {
    pub group_by_owner: bool,
}

impl Sections for MarkdownSections {
    fn head(&self, outline: &PlanOutline) -> String {
        let mut out = String::new();
        let _ = writeln!(out, "{MARKDOWN_MARKER}");
        let _ = writeln!(out, "## iamctl plan");
        let _ = writeln!(out);
        let _ = writeln!(out, "**{}**", escape(&outline_summary_line(outline)));
        let _ = writeln!(out);
        let _ = writeln!(out, "Evaluated as of `{}`.", timestamp(outline.as_of));

        if !outline.accounts.is_empty() {
            let _ = writeln!(out);
            let _ = writeln!(
                out,
                "| account | account id | changes | findings | status |"
            );
            let _ = writeln!(out, "|---|---|--:|--:|---|");
            for account in &outline.accounts {
                let status = line_status(account);
                // A failed account was not read: its counts are unknown, not zero.
                let (changes, findings) = if status == Status::Failed {
                    ("—".to_owned(), "—".to_owned())
                } else {
                    (account.changes.to_string(), account.findings.to_string())
                };
                let _ = writeln!(
                    out,
                    "| {} | {} | {changes} | {findings} | {} |",
                    escape(&account.name),
                    code_cell(&account.account_id),
                    status.as_str(),
                );
            }
        }
        out
    }

    fn account(&self, outline: &PlanOutline, _index: usize, account: &AccountPlan) -> String {
        let mut out = String::new();
        // Accounts with nothing to show are in the table; a section would only repeat it.
        if status(account) == Status::InSync && account.findings.is_empty() {
            return out;
        }
        if self.group_by_owner {
            for (owner, part) in owner_groups(account) {
                let _ = writeln!(out);
                render_account(&mut out, &part, owner.as_deref(), outline.as_of);
            }
        } else {
            let _ = writeln!(out);
            render_account(&mut out, account, None, outline.as_of);
        }
        out
    }

    fn tail(&self, _outline: &PlanOutline) -> String {
        String::new()
    }
}

fn render_account(
    out: &mut String,
    account: &AccountPlan,
    owner: Option<&str>,
    as_of: DateTime<Utc>,
) {
    let owner = owner
        .map(|owner| format!(", owner {}", escape(owner)))
        .unwrap_or_default();
    let _ = writeln!(
        out,
        "### {} ({}){owner}",
        escape(&account.name),
        escape(&account.account_id)
    );
    if let Some(age) = report_age(account, as_of) {
        let _ = writeln!(out);
        let _ = writeln!(out, "_{}_", escape(&age));
    }

    if let Some(error) = &account.error {
        let _ = writeln!(out);
        let _ = writeln!(
            out,
            "**Failed:** the account could not be read, so it was not planned."
        );
        let _ = writeln!(out);
        out.push_str(&fenced("text", error));
        return;
    }

    // `plan --explain`: a "changed by" column, only when some item of the table has one.
    let explained_changes = account.changes.iter().any(|c| c.attribution.is_some());
    let explained_findings = account.findings.iter().any(|f| f.attribution.is_some());

    if !account.changes.is_empty() {
        let mut table = String::new();
        if explained_changes {
            let _ = writeln!(
                table,
                "| address | action | rule | controls | detail | changed by |"
            );
            let _ = writeln!(table, "|---|---|---|---|---|---|");
        } else {
            let _ = writeln!(table, "| address | action | rule | controls | detail |");
            let _ = writeln!(table, "|---|---|---|---|---|");
        }
        for change in &account.changes {
            let detail = if change.kind.password_policy().is_some() {
                "diff below".to_owned()
            } else {
                change_detail(change)
                    .map(|d| escape(&d))
                    .unwrap_or_default()
            };
            let _ = write!(
                table,
                "| {} | {} {} | {} | {} | {detail} |",
                code_cell(&change.address().to_string()),
                change.action().marker(),
                change.action(),
                code_cell(change.rule.as_str()),
                control_ids(change.rule).join(", "),
            );
            if explained_changes {
                let _ = write!(
                    table,
                    " {} |",
                    attribution_cell(change.attribution.as_ref())
                );
            }
            table.push('\n');
        }
        let _ = writeln!(out);
        list(out, account.changes.len(), "change", "changes", &table);

        for (change, diff) in account
            .changes
            .iter()
            .filter_map(|c| Some((c, policy_diff(c)?)))
        {
            let diff: String = diff
                .into_iter()
                .map(|(tag, line)| format!("{}{line}\n", tag.prefix()))
                .collect();
            let _ = writeln!(out);
            let _ = writeln!(out, "`password_policy` ({}):", change.action());
            let _ = writeln!(out);
            out.push_str(&fenced("diff", &diff));
        }
    }

    if !account.findings.is_empty() {
        let mut table = String::new();
        if explained_findings {
            let _ = writeln!(
                table,
                "| address | finding | rule | controls | changed by |"
            );
            let _ = writeln!(table, "|---|---|---|---|---|");
        } else {
            let _ = writeln!(table, "| address | finding | rule | controls |");
            let _ = writeln!(table, "|---|---|---|---|");
        }
        for finding in &account.findings {
            let _ = write!(
                table,
                "| {} | {} | {} | {} |",
                code_cell(&finding.address.to_string()),
                escape(&finding.message),
                code_cell(&finding.rule_name()),
                control_ids(finding.rule).join(", "),
            );
            if explained_findings {
                let _ = write!(
                    table,
                    " {} |",
                    attribution_cell(finding.attribution.as_ref())
                );
            }
            table.push('\n');
        }
        let _ = writeln!(out);
        list(out, account.findings.len(), "finding", "findings", &table);
    }
}

/// `` `ARN` at TIME (`EventName`) ``, or nothing when no event explains the item.
fn attribution_cell(attribution: Option<&Attribution>) -> String {
    match attribution {
        Some(a) => format!(
            "{} at {} ({})",
            code_cell(&a.principal_arn),
            timestamp(a.event_time),
            code_cell(&a.event_name)
        ),
        None => String::new(),
    }
}

/// A titled list; folded when it holds more than `FOLD_ABOVE` items.
fn list(out: &mut String, len: usize, one: &str, many: &str, body: &str) {
    let title = format!("{len} {}", if len == 1 { one } else { many });
    if len > FOLD_ABOVE {
        // GitHub renders markdown inside <details> only with blank lines around it.
        let _ = writeln!(out, "<details><summary>{title}</summary>");
        let _ = writeln!(out);
        out.push_str(body);
        let _ = writeln!(out);
        let _ = writeln!(out, "</details>");
    } else {
        let _ = writeln!(out, "**{title}**");
        let _ = writeln!(out);
        out.push_str(body);
    }
}

/// Text made inert for inline markdown and table cells: the characters that start markup or
/// end a cell are backslash-escaped, and line breaks (which would end the table row) become
/// spaces.
fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '\\' | '`' | '*' | '_' | '[' | ']' | '<' | '>' | '|' | '~' | '&' => {
                out.push('\\');
                out.push(c);
            }
            '\r' | '\n' => out.push(' '),
            c if c.is_control() => out.extend(c.escape_default()),
            c => out.push(c),
        }
    }
    out
}

/// Text as inline code in a table cell. GitHub splits cells on `|` even inside code, where
/// `\|` is the one escape that works; a backtick cannot be escaped there, so such text falls
/// back to escaped plain text.
fn code_cell(s: &str) -> String {
    if s.contains('`') || s.chars().any(char::is_control) {
        escape(s)
    } else {
        format!("`{}`", s.replace('|', "\\|"))
    }
}

/// A fenced code block whose fence is longer than any backtick run in `body`, so the body
/// cannot close it early.
fn fenced(lang: &str, body: &str) -> String {
    let longest = body.split(|c| c != '`').map(str::len).max().unwrap_or(0);
    let fence = "`".repeat((longest + 1).max(3));
    let newline = if body.ends_with('\n') { "" } else { "\n" };
    format!("{fence}{lang}\n{body}{newline}{fence}\n")
}
