//! The report as one self-contained HTML file: inline CSS and SVG, no script, no font and no
//! request to any network (a Content-Security-Policy forbids them), readable offline and
//! printable. Everything that comes from a plan file is escaped.

use std::collections::BTreeMap;
use std::fmt::Write;

use chrono::{DateTime, Duration, Utc};

use super::model::{AccountRun, Area, ItemKind, Report, ReportItem, Run, Severity, Status};
use crate::plan::controls::CONTROLS;

/// The longest list of new or fixed items shown per run; the CSV has them all.
const MAX_LISTED_PER_RUN: usize = 50;
/// What falls due within this many days of the latest run is on the timeline.
const DUE_WINDOW_DAYS: i64 = 30;

/// Only inline styles and `data:` images; nothing loads from anywhere, scripts do not run.
pub const CONTENT_SECURITY_POLICY: &str = "default-src 'none'; style-src 'unsafe-inline'; \
     img-src data:; base-uri 'none'; form-action 'none'";

const STYLE: &str = r#"
:root{--ok:#2e7d32;--chg:#c62828;--fnd:#ef6c00;--fail:#6a1b9a;--mut:#666;--line:#ddd}
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:0 auto;max-width:1200px;padding:1rem 1.5rem;color:#222}
h1{font-size:1.6rem;margin:.2rem 0}h2{font-size:1.25rem;border-bottom:2px solid #333;margin-top:2rem}
h3{font-size:1.05rem;margin:1.2rem 0 .3rem}
.meta,.note{color:var(--mut)}
.tiles{display:flex;flex-wrap:wrap;gap:.6rem}
.tile{border:1px solid var(--line);border-radius:6px;padding:.5rem .8rem;min-width:7rem}
.tile b{display:block;font-size:1.5rem}
table{border-collapse:collapse;margin:.4rem 0;font-size:13px}
th,td{border:1px solid var(--line);padding:.2rem .45rem;text-align:left;vertical-align:top}
thead th{background:#f3f3f3}
td.n{text-align:right}
.matrix td{text-align:center;min-width:3.5rem}
.s-ok{background:#e8f5e9;color:var(--ok)}.s-changes{background:#ffebee;color:var(--chg)}
.s-findings{background:#fff3e0;color:var(--fnd)}.s-failed{background:#f3e5f5;color:var(--fail)}
.st-new{color:var(--chg);font-weight:600}.st-fixed{color:var(--ok);font-weight:600}
a{color:inherit}
.legend span{display:inline-block;padding:0 .4rem;margin-right:.3rem;border-radius:3px}
svg text{font-size:11px;fill:#333}
code{font-size:12px;word-break:break-all}
@media print{body{max-width:none;padding:0}a{text-decoration:none}h2{break-after:avoid}tr{break-inside:avoid}}
"#;

/// The whole report as one HTML document.
pub fn html(report: &Report) -> String {
    let mut out = String::with_capacity(1 << 20);
    let Some(latest) = report.latest() else {
        return out;
    };
    let _ = write!(
        out,
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta http-equiv=\"Content-Security-Policy\" content=\"{CONTENT_SECURITY_POLICY}\">\
         <meta name=\"viewport\" content=\"width=device-width,initial-scale=1\">\
         <title>iamctl posture report {}</title><style>{STYLE}</style></head><body>\n",
        esc(&latest.label())
    );
    let _ = writeln!(
        out,
        "<header><h1>IAM posture report</h1><p class=\"meta\">Run <b>{}</b> (as of {}), \
         {} account(s), {} plan file(s); history of {} run(s).</p></header>",
        esc(&latest.label()),
        latest.as_of.format("%Y-%m-%d %H:%M UTC"),
        latest.accounts.len(),
        latest.sources.len(),
        report.runs.len()
    );
    glance(&mut out, latest);
    matrix(&mut out, report, latest);
    owners(&mut out, latest);
    due_soon(&mut out, latest);
    trend(&mut out, report);
    new_and_fixed(&mut out, report);
    controls(&mut out, latest);
    items(&mut out, latest);
    out.push_str(
        "<footer><p class=\"note\">Made by <code>iamctl report</code>. Items are identified \
         across runs by account, address and rule.</p></footer>\n</body></html>\n",
    );
    out
}

/// Escapes text for HTML content and attribute values.
pub fn esc(text: &str) -> String {
    // Five characters are all HTML needs escaped, in content and in quoted attributes.
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

fn date(at: DateTime<Utc>) -> String {
    at.format("%Y-%m-%d").to_string()
}

fn glance(out: &mut String, run: &Run) {
    let counts = run.counts();
    out.push_str("<section id=\"glance\"><h2>At a glance</h2><div class=\"tiles\">");
    let tiles = [
        ("accounts", counts.accounts, ""),
        ("in sync", counts.in_sync, "s-ok"),
        ("with changes", counts.with_changes, "s-changes"),
        ("with findings", counts.with_findings, "s-findings"),
        ("failed", counts.failed, "s-failed"),
        ("changes", counts.changes, ""),
        ("findings", counts.findings, ""),
        ("new", counts.new, ""),
        ("fixed", counts.fixed, ""),
    ];
    for (label, n, class) in tiles {
        let _ = write!(out, "<div class=\"tile {class}\"><b>{n}</b>{label}</div>");
    }
    out.push_str("</div><table><thead><tr>");
    for severity in Severity::ALL {
        let _ = write!(out, "<th>{}</th>", severity.as_str());
    }
    out.push_str("</tr></thead><tbody><tr>");
    for severity in Severity::ALL {
        let n = counts.by_severity.get(&severity).copied().unwrap_or(0);
        let _ = write!(out, "<td class=\"n\">{n}</td>");
    }
    out.push_str("</tr></tbody></table></section>\n");
}

/// The state of one account in one area.
fn cell_state(account: &AccountRun, area: Area) -> (&'static str, usize, usize) {
    if account.error.is_some() {
        return ("s-failed", 0, 0);
    }
    let (mut changes, mut findings) = (0, 0);
    for item in account.items.iter().filter(|i| i.item.area == area) {
        match item.item.kind {
            ItemKind::Change(_) => changes += 1,
            ItemKind::Finding => findings += 1,
        }
    }
    let class = if changes > 0 {
        "s-changes"
    } else if findings > 0 {
        "s-findings"
    } else {
        "s-ok"
    };
    (class, changes, findings)
}

fn matrix(out: &mut String, report: &Report, latest: &Run) {
    out.push_str(
        "<section id=\"matrix\"><h2>Accounts × rule areas</h2><p class=\"legend\">\
         <span class=\"s-ok\">✓ nothing to do</span><span class=\"s-findings\">findings</span>\
         <span class=\"s-changes\">changes</span><span class=\"s-failed\">not read</span> \
         Each cell links to its items; the last column is the account's items per run.</p>\
         <table class=\"matrix\"><thead><tr><th>Account</th>",
    );
    for area in Area::ALL {
        let _ = write!(out, "<th>{}</th>", area.title());
    }
    out.push_str("<th>Trend</th></tr></thead><tbody>\n");
    // Each account's item count per run, for its sparkline.
    let mut per_run: BTreeMap<&str, Vec<Option<usize>>> = BTreeMap::new();
    for (i, run) in report.runs.iter().enumerate() {
        for account in &run.accounts {
            let series = per_run
                .entry(account.key())
                .or_insert_with(|| vec![None; report.runs.len()]);
            series[i] = account.error.is_none().then_some(account.items.len());
        }
    }
    for (index, account) in latest.accounts.iter().enumerate() {
        let _ = write!(
            out,
            "<tr><th><a href=\"#a{index}\">{}</a><br><small>{}</small></th>",
            esc(&account.name),
            esc(&account.account_id)
        );
        for area in Area::ALL {
            let (class, changes, findings) = cell_state(account, area);
            let text = match (class, changes, findings) {
                ("s-failed", _, _) => "failed".to_owned(),
                (_, 0, 0) => "✓".to_owned(),
                (_, c, 0) => format!("{c}±"),
                (_, 0, f) => format!("{f}!"),
                (_, c, f) => format!("{c}± {f}!"),
            };
            if changes + findings > 0 {
                let _ = write!(
                    out,
                    "<td class=\"{class}\"><a href=\"#a{index}-{}\">{text}</a></td>",
                    area.slug()
                );
            } else {
                let _ = write!(out, "<td class=\"{class}\">{text}</td>");
            }
        }
        out.push_str("<td>");
        if let Some(series) = per_run.get(account.key()) {
            sparkline(out, series);
        }
        out.push_str("</td></tr>\n");
    }
    out.push_str("</tbody></table><p class=\"note\">± changes, ! findings.</p></section>\n");
}

/// A small line of an account's item count per run (gaps where it was not read).
fn sparkline(out: &mut String, series: &[Option<usize>]) {
    let (width, height) = (90.0, 18.0);
    let max = series.iter().flatten().copied().max().unwrap_or(0).max(1) as f64;
    let step = if series.len() > 1 {
        width / (series.len() - 1) as f64
    } else {
        0.0
    };
    let points: Vec<String> = series
        .iter()
        .enumerate()
        .filter_map(|(i, n)| {
            n.map(|n| {
                format!(
                    "{:.1},{:.1}",
                    i as f64 * step + 1.0,
                    height - 1.0 - (n as f64 / max) * (height - 2.0)
                )
            })
        })
        .collect();
    let _ = write!(
        out,
        "<svg class=\"spark\" width=\"92\" height=\"18\" role=\"img\" aria-label=\"items per run\">\
         <polyline fill=\"none\" stroke=\"#c62828\" stroke-width=\"1.5\" points=\"{}\"/></svg>",
        points.join(" ")
    );
}

fn owners(out: &mut String, run: &Run) {
    // Owner → (account, item), the items with a date first, soonest first.
    let mut by_owner: BTreeMap<&str, Vec<(&AccountRun, &ReportItem)>> = BTreeMap::new();
    for account in &run.accounts {
        for item in &account.items {
            if let Some(owner) = &item.item.owner {
                by_owner.entry(owner).or_default().push((account, item));
            }
        }
    }
    out.push_str("<section id=\"owners\"><h2>By owner</h2>");
    if by_owner.is_empty() {
        out.push_str(
            "<p class=\"note\">No item names an owner (<code>[users] owner_tag</code>, \
             <code>default_owner</code>).</p></section>\n",
        );
        return;
    }
    let mut owners: Vec<(&str, Vec<(&AccountRun, &ReportItem)>)> = by_owner.into_iter().collect();
    for (_, items) in &mut owners {
        items.sort_by_key(|(account, item)| {
            (
                item.item.due.is_none(),
                item.item.due,
                account.name.clone(),
                item.item.address.clone(),
            )
        });
    }
    // Owners whose first date is soonest come first; then those with no date, by name.
    owners.sort_by_key(|(owner, items)| {
        let soonest = items.first().and_then(|(_, i)| i.item.due);
        (soonest.is_none(), soonest, owner.to_string())
    });
    for (owner, items) in owners {
        let next = items
            .first()
            .and_then(|(_, i)| i.item.due)
            .map(|d| format!(", next due {}", date(d)))
            .unwrap_or_default();
        let _ = write!(
            out,
            "<h3 class=\"owner\">{} <small class=\"meta\">({} item(s){next})</small></h3>\
             <table><thead><tr><th>Due</th><th>Account</th><th>Address</th><th>What</th>\
             <th>Rule</th></tr></thead><tbody>",
            esc(owner),
            items.len()
        );
        for (account, item) in items {
            let _ = write!(
                out,
                "<tr><td>{}</td><td>{}</td><td><code>{}</code></td><td>{}</td><td><code>{}</code></td></tr>",
                item.item.due.map(date).unwrap_or_else(|| "—".into()),
                esc(&account.name),
                esc(&item.item.address),
                esc(&item.item.message),
                esc(&item.item.rule)
            );
        }
        out.push_str("</tbody></table>");
    }
    out.push_str("</section>\n");
}

fn due_soon(out: &mut String, run: &Run) {
    let end = run.as_of + Duration::days(DUE_WINDOW_DAYS);
    let mut due: Vec<(DateTime<Utc>, &AccountRun, &ReportItem)> = run
        .accounts
        .iter()
        .flat_map(|a| a.items.iter().map(move |i| (a, i)))
        .filter_map(|(a, i)| i.item.due.filter(|d| *d <= end).map(|d| (d, a, i)))
        .collect();
    due.sort_by(|a, b| (a.0, &a.1.name).cmp(&(b.0, &b.1.name)));
    let _ = write!(
        out,
        "<section id=\"due\"><h2>Due in the next {DUE_WINDOW_DAYS} days</h2>\
         <p class=\"meta\">From {} to {}.</p>",
        date(run.as_of),
        date(end)
    );
    // Items per day from the run's date (anything already due counts on day 0).
    let mut per_day = vec![0usize; DUE_WINDOW_DAYS as usize + 1];
    for (at, _, _) in &due {
        let day = (*at - run.as_of).num_days().clamp(0, DUE_WINDOW_DAYS) as usize;
        per_day[day] += 1;
    }
    let max = per_day.iter().copied().max().unwrap_or(0).max(1) as f64;
    let (left, width, height) = (30.0, 24.0 * (DUE_WINDOW_DAYS as f64 + 1.0), 90.0);
    let _ = write!(
        out,
        "<svg id=\"due-timeline\" width=\"{}\" height=\"{}\" role=\"img\" aria-label=\"items due per day\">\
         <line x1=\"{left}\" y1=\"{height}\" x2=\"{}\" y2=\"{height}\" stroke=\"#999\"/>",
        left + width + 10.0,
        height + 30.0,
        left + width
    );
    for (day, n) in per_day.iter().enumerate() {
        let x = left + day as f64 * 24.0;
        if *n > 0 {
            let h = (*n as f64 / max) * (height - 15.0);
            let _ = write!(
                out,
                "<rect x=\"{:.1}\" y=\"{:.1}\" width=\"18\" height=\"{h:.1}\" fill=\"#ef6c00\"><title>{}: {n}</title></rect>\
                 <text x=\"{:.1}\" y=\"{:.1}\">{n}</text>",
                x + 3.0,
                height - h,
                date(run.as_of + Duration::days(day as i64)),
                x + 7.0,
                height - h - 3.0
            );
        }
        if day % 5 == 0 {
            let _ = write!(
                out,
                "<text x=\"{x:.1}\" y=\"{:.1}\">{}</text>",
                height + 14.0,
                (run.as_of + Duration::days(day as i64)).format("%m-%d")
            );
        }
    }
    out.push_str("</svg>");
    if due.is_empty() {
        out.push_str("<p class=\"note\">Nothing falls due.</p></section>\n");
        return;
    }
    out.push_str(
        "<table><thead><tr><th>Due</th><th>Account</th><th>Owner</th><th>Address</th>\
         <th>What</th></tr></thead><tbody>",
    );
    for (at, account, item) in due {
        let _ = write!(
            out,
            "<tr><td>{}</td><td>{}</td><td>{}</td><td><code>{}</code></td><td>{}</td></tr>",
            date(at),
            esc(&account.name),
            esc(item.item.owner.as_deref().unwrap_or("—")),
            esc(&item.item.address),
            esc(&item.item.message)
        );
    }
    out.push_str("</tbody></table></section>\n");
}

fn trend(out: &mut String, report: &Report) {
    let counts: Vec<_> = report.runs.iter().map(Run::counts).collect();
    out.push_str("<section id=\"trend\"><h2>Trend</h2>");
    let (left, top, width, height) = (40.0, 10.0, 760.0, 180.0);
    let max = counts
        .iter()
        .map(|c| c.changes.max(c.findings).max(c.new).max(c.fixed))
        .max()
        .unwrap_or(0)
        .max(1) as f64;
    let n = counts.len();
    let step = if n > 1 { width / (n - 1) as f64 } else { 0.0 };
    let x = |i: usize| left + if n > 1 { i as f64 * step } else { width / 2.0 };
    let y = |v: usize| top + height - (v as f64 / max) * height;
    let _ = write!(
        out,
        "<svg id=\"trend-chart\" width=\"{}\" height=\"{}\" role=\"img\" aria-label=\"changes and findings per run\">\
         <line x1=\"{left}\" y1=\"{}\" x2=\"{}\" y2=\"{}\" stroke=\"#999\"/>\
         <line x1=\"{left}\" y1=\"{top}\" x2=\"{left}\" y2=\"{}\" stroke=\"#999\"/>\
         <text x=\"2\" y=\"{}\">{}</text><text x=\"2\" y=\"{}\">0</text>",
        left + width + 40.0,
        top + height + 50.0,
        top + height,
        left + width,
        top + height,
        top + height,
        top + 10.0,
        max as usize,
        top + height
    );
    // New (red) and fixed (green) as bars either side of each run.
    let bar = (step / 4.0).clamp(2.0, 12.0);
    for (i, c) in counts.iter().enumerate() {
        for (value, offset, colour, what) in [
            (c.new, -bar, "#e57373", "new"),
            (c.fixed, 0.0, "#81c784", "fixed"),
        ] {
            if value > 0 {
                let _ = write!(
                    out,
                    "<rect class=\"bar-{what}\" x=\"{:.1}\" y=\"{:.1}\" width=\"{bar:.1}\" height=\"{:.1}\" fill=\"{colour}\"><title>{what}: {value}</title></rect>",
                    x(i) + offset,
                    y(value),
                    top + height - y(value)
                );
            }
        }
    }
    for (series, colour, pick) in [
        (
            "changes",
            "#c62828",
            (|c: &super::model::Counts| c.changes) as fn(&super::model::Counts) -> usize,
        ),
        ("findings", "#ef6c00", |c: &super::model::Counts| c.findings),
    ] {
        let points: Vec<String> = counts
            .iter()
            .enumerate()
            .map(|(i, c)| format!("{:.1},{:.1}", x(i), y(pick(c))))
            .collect();
        let _ = write!(
            out,
            "<polyline class=\"line-{series}\" fill=\"none\" stroke=\"{colour}\" stroke-width=\"2\" points=\"{}\"/>",
            points.join(" ")
        );
        for (i, c) in counts.iter().enumerate() {
            let _ = write!(
                out,
                "<circle class=\"point-{series}\" cx=\"{:.1}\" cy=\"{:.1}\" r=\"3\" fill=\"{colour}\"><title>{}: {} {series}</title></circle>",
                x(i),
                y(pick(c)),
                esc(&report.runs[i].label()),
                pick(c)
            );
        }
    }
    let every = n.div_ceil(8).max(1);
    for (i, run) in report.runs.iter().enumerate() {
        if i % every == 0 || i + 1 == n {
            let _ = write!(
                out,
                "<text x=\"{:.1}\" y=\"{:.1}\">{}</text>",
                x(i) - 20.0,
                top + height + 16.0,
                run.as_of.format("%m-%d")
            );
        }
    }
    let _ = write!(
        out,
        "<text x=\"{left}\" y=\"{:.1}\" fill=\"#c62828\">— changes</text>\
         <text x=\"{:.1}\" y=\"{:.1}\" fill=\"#ef6c00\">— findings</text>\
         <text x=\"{:.1}\" y=\"{:.1}\" fill=\"#e57373\">▮ new</text>\
         <text x=\"{:.1}\" y=\"{:.1}\" fill=\"#43a047\">▮ fixed</text></svg>",
        top + height + 40.0,
        left + 90.0,
        top + height + 40.0,
        left + 180.0,
        top + height + 40.0,
        left + 240.0,
        top + height + 40.0
    );
    // Per run and per area, as numbers.
    out.push_str("<table id=\"trend-table\"><thead><tr><th>Run</th><th>As of</th><th>Accounts</th><th>Changes</th><th>Findings</th><th>New</th><th>Fixed</th>");
    for area in Area::ALL {
        let _ = write!(out, "<th>{}</th>", area.title());
    }
    out.push_str("</tr></thead><tbody>");
    for (run, c) in report.runs.iter().zip(&counts) {
        let _ = write!(
            out,
            "<tr><td>{}</td><td>{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td>",
            esc(&run.label()),
            date(run.as_of),
            c.accounts,
            c.changes,
            c.findings,
            c.new,
            c.fixed
        );
        for area in Area::ALL {
            let _ = write!(
                out,
                "<td class=\"n\">{}</td>",
                c.by_area.get(&area).copied().unwrap_or(0)
            );
        }
        out.push_str("</tr>");
    }
    out.push_str("</tbody></table></section>\n");
}

fn new_and_fixed(out: &mut String, report: &Report) {
    out.push_str("<section id=\"new-fixed\"><h2>New and fixed, run by run</h2>");
    for run in report.runs.iter().rev() {
        let new: Vec<(&AccountRun, &ReportItem)> = run
            .accounts
            .iter()
            .flat_map(|a| a.items.iter().map(move |i| (a, i)))
            .filter(|(_, i)| i.status == Status::New)
            .collect();
        let fixed: Vec<(&AccountRun, &ReportItem)> = run
            .accounts
            .iter()
            .flat_map(|a| a.fixed.iter().map(move |i| (a, i)))
            .collect();
        let _ = write!(
            out,
            "<h3>{} <small class=\"meta\">({} new, {} fixed)</small></h3>",
            esc(&run.label()),
            new.len(),
            fixed.len()
        );
        if new.is_empty() && fixed.is_empty() {
            continue;
        }
        out.push_str(
            "<table><thead><tr><th>Status</th><th>Account</th><th>Address</th><th>Rule</th>\
             <th>What</th></tr></thead><tbody>",
        );
        let shown = new.len().min(MAX_LISTED_PER_RUN) + fixed.len().min(MAX_LISTED_PER_RUN);
        for (account, item) in new
            .iter()
            .take(MAX_LISTED_PER_RUN)
            .chain(fixed.iter().take(MAX_LISTED_PER_RUN))
        {
            let status = item.status.as_str();
            let _ = write!(
                out,
                "<tr class=\"item-{status}\"><td class=\"st-{status}\">{status}</td><td>{}</td>\
                 <td><code>{}</code></td><td><code>{}</code></td><td>{}</td></tr>",
                esc(&account.name),
                esc(&item.item.address),
                esc(&item.item.rule),
                esc(&item.item.message)
            );
        }
        out.push_str("</tbody></table>");
        let hidden = new.len() + fixed.len() - shown;
        if hidden > 0 {
            let _ = write!(
                out,
                "<p class=\"note\">and {hidden} more: <code>iamctl report --format csv</code> lists every item.</p>"
            );
        }
    }
    out.push_str("</section>\n");
}

fn controls(out: &mut String, run: &Run) {
    let covered: Vec<&str> = CONTROLS
        .iter()
        .filter(|c| c.not_covered.is_none())
        .map(|c| c.id)
        .collect();
    out.push_str(
        "<section id=\"controls\"><h2>CIS control coverage</h2><p class=\"meta\">\
         CIS AWS Foundations Benchmark v3.0.0 controls that iamctl's rules judge: open items \
         per account (✓: none in this run; a control whose rule is not written in the desired \
         state shows ✓ too).</p><table class=\"matrix\"><thead><tr><th>Account</th>",
    );
    for id in &covered {
        let _ = write!(out, "<th>{id}</th>");
    }
    out.push_str("</tr></thead><tbody>");
    for account in &run.accounts {
        let mut open: BTreeMap<&str, usize> = BTreeMap::new();
        for item in &account.items {
            for control in &item.item.controls {
                *open.entry(control.as_str()).or_default() += 1;
            }
        }
        let _ = write!(out, "<tr><th>{}</th>", esc(&account.name));
        for id in &covered {
            match (account.error.is_some(), open.get(id)) {
                (true, _) => out.push_str("<td class=\"s-failed\">?</td>"),
                (false, Some(n)) => {
                    let _ = write!(out, "<td class=\"s-findings\">{n}</td>");
                }
                (false, None) => out.push_str("<td class=\"s-ok\">✓</td>"),
            }
        }
        out.push_str("</tr>");
    }
    out.push_str("</tbody></table></section>\n");
}

fn items(out: &mut String, run: &Run) {
    out.push_str("<section id=\"items\"><h2>Items by account</h2>");
    for (index, account) in run.accounts.iter().enumerate() {
        let _ = write!(
            out,
            "<h3 id=\"a{index}\" class=\"account\">{} <small class=\"meta\">{}</small></h3>",
            esc(&account.name),
            esc(&account.account_id)
        );
        if let Some(error) = &account.error {
            let _ = write!(out, "<p class=\"s-failed\">Not read: {}</p>", esc(error));
            continue;
        }
        if account.items.is_empty() {
            out.push_str("<p class=\"s-ok\">In sync.</p>");
            continue;
        }
        let mut sorted: Vec<&ReportItem> = account.items.iter().collect();
        sorted.sort_by(|a, b| {
            (a.item.area, &a.item.address, &a.item.rule).cmp(&(
                b.item.area,
                &b.item.address,
                &b.item.rule,
            ))
        });
        out.push_str(
            "<table><thead><tr><th>Area</th><th>Address</th><th>Action</th><th>Rule</th>\
             <th>What</th><th>Owner</th><th>Due</th><th>Status</th><th>First seen</th></tr></thead><tbody>",
        );
        let mut previous_area = None;
        for item in sorted {
            let anchor = if previous_area != Some(item.item.area) {
                previous_area = Some(item.item.area);
                format!(" id=\"a{index}-{}\"", item.item.area.slug())
            } else {
                String::new()
            };
            let status = item.status.as_str();
            let _ = write!(
                out,
                "<tr{anchor}><td>{}</td><td><code>{}</code></td><td>{}</td><td><code>{}</code></td>\
                 <td>{}</td><td>{}</td><td>{}</td><td class=\"st-{status}\">{status}</td><td>{}</td></tr>",
                item.item.area.title(),
                esc(&item.item.address),
                item.item.kind.label(),
                esc(&item.item.rule),
                esc(&item.item.message),
                esc(item.item.owner.as_deref().unwrap_or("—")),
                item.item.due.map(date).unwrap_or_default(),
                date(item.first_seen)
            );
        }
        out.push_str("</tbody></table>");
    }
    out.push_str("</section>\n");
}
