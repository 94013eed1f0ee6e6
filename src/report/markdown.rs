//! The report's executive summary in markdown, for a pull request, an issue or an email: the
//! fleet at a glance, what is new and fixed since the run before, and who must do what by when.

use std::collections::BTreeMap;
use std::fmt::Write;

use super::model::{Report, ReportItem, Severity, Status};

/// The most items listed per section; the CSV has them all.
const MAX_LISTED: usize = 50;

/// Markdown text: plan files' strings are put in code spans or escaped, so that an account
/// name cannot become a link or a heading.
pub fn markdown(report: &Report) -> String {
    let mut out = String::new();
    let Some(latest) = report.latest() else {
        return out;
    };
    let counts = latest.counts();
    let _ = writeln!(
        out,
        "## IAM posture: {}\n\nAs of {}, {} account(s); history of {} run(s).\n",
        text(&latest.label()),
        latest.as_of.format("%Y-%m-%d %H:%M UTC"),
        counts.accounts,
        report.runs.len()
    );
    out.push_str("| in sync | with changes | with findings | failed | changes | findings | new | fixed |\n|---:|---:|---:|---:|---:|---:|---:|---:|\n");
    let _ = writeln!(
        out,
        "| {} | {} | {} | {} | {} | {} | {} | {} |\n",
        counts.in_sync,
        counts.with_changes,
        counts.with_findings,
        counts.failed,
        counts.changes,
        counts.findings,
        counts.new,
        counts.fixed
    );
    let severities: Vec<String> = Severity::ALL
        .iter()
        .map(|s| {
            format!(
                "{} {}",
                counts.by_severity.get(s).copied().unwrap_or(0),
                s.as_str()
            )
        })
        .collect();
    let _ = writeln!(out, "By action: {}.\n", severities.join(", "));
    if report.runs.len() > 1 {
        let trend: Vec<String> = report
            .runs
            .iter()
            .map(|r| {
                let c = r.counts();
                format!("{} {}", r.as_of.format("%m-%d"), c.changes + c.findings)
            })
            .collect();
        let _ = writeln!(out, "Items per run: {}.\n", trend.join(" → "));
    }

    let new: Vec<_> = latest
        .accounts
        .iter()
        .flat_map(|a| a.items.iter().map(move |i| (a, i)))
        .filter(|(_, i)| i.status == Status::New)
        .collect();
    let fixed: Vec<_> = latest
        .accounts
        .iter()
        .flat_map(|a| a.fixed.iter().map(move |i| (a, i)))
        .collect();
    for (title, list) in [("New", &new), ("Fixed", &fixed)] {
        let _ = writeln!(out, "### {title} ({})\n", list.len());
        for (account, item) in list.iter().take(MAX_LISTED) {
            let _ = writeln!(
                out,
                "- {} `{}` `{}` ({})",
                text(&account.name),
                code(&item.item.address),
                code(&item.item.rule),
                item.item.kind.label()
            );
        }
        if list.len() > MAX_LISTED {
            let _ = writeln!(out, "- … and {} more", list.len() - MAX_LISTED);
        }
        out.push('\n');
    }

    let mut owners: BTreeMap<&str, Vec<(&str, &ReportItem)>> = BTreeMap::new();
    for account in &latest.accounts {
        for item in &account.items {
            if let Some(owner) = &item.item.owner {
                owners.entry(owner).or_default().push((&account.name, item));
            }
        }
    }
    if !owners.is_empty() {
        out.push_str(
            "### By owner\n\n| owner | items | next due | soonest |\n|---|---:|---|---|\n",
        );
        let mut rows: Vec<_> = owners.into_iter().collect();
        for (_, items) in &mut rows {
            items.sort_by_key(|(_, i)| (i.item.due.is_none(), i.item.due));
        }
        rows.sort_by_key(|(owner, items)| {
            let due = items.first().and_then(|(_, i)| i.item.due);
            (due.is_none(), due, owner.to_string())
        });
        for (owner, items) in rows {
            let (account, first) = items[0];
            let due = first
                .item
                .due
                .map(|d| d.format("%Y-%m-%d").to_string())
                .unwrap_or_else(|| "—".into());
            let _ = writeln!(
                out,
                "| {} | {} | {due} | {} `{}` |",
                text(owner),
                items.len(),
                text(account),
                code(&first.item.address)
            );
        }
    }
    out
}

/// Plan text outside code spans: markdown's and HTML's special characters escaped.
fn text(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '\\' | '`' | '*' | '_' | '[' | ']' | '#' | '|' | '!' | '(' | ')' => {
                out.push('\\');
                out.push(c);
            }
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '&' => out.push_str("&amp;"),
            '\n' | '\r' => out.push(' '),
            c => out.push(c),
        }
    }
    out
}

/// Plan text inside a code span: a backtick cannot close it, a pipe cannot end a table cell.
fn code(s: &str) -> String {
    s.replace('`', "'")
        .replace('|', "\\|")
        .replace(['\n', '\r'], " ")
}
