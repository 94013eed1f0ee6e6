//! The report as CSV, for spreadsheets: one row per item per run (fixed items in the run that
//! no longer had them), with the `csv` crate's quoting.

use super::model::{Report, ReportItem};

pub const HEADER: [&str; 13] = [
    "run",
    "as_of",
    "account",
    "account_id",
    "address",
    "rule",
    "action",
    "owner",
    "due",
    "controls",
    "first_seen",
    "status",
    "message",
];

/// Every run's items, oldest run first.
pub fn csv(report: &Report) -> String {
    let mut writer = csv::Writer::from_writer(Vec::new());
    // Writing to memory cannot fail.
    writer.write_record(HEADER).expect("CSV to memory");
    for run in &report.runs {
        let label = run.label();
        let as_of = run.as_of.to_rfc3339();
        for account in &run.accounts {
            let rows = account.items.iter().chain(&account.fixed);
            for ReportItem {
                item,
                status,
                first_seen,
            } in rows
            {
                writer
                    .write_record([
                        label.as_str(),
                        as_of.as_str(),
                        account.name.as_str(),
                        account.account_id.as_str(),
                        item.address.as_str(),
                        item.rule.as_str(),
                        item.kind.label(),
                        item.owner.as_deref().unwrap_or(""),
                        &item.due.map(|d| d.to_rfc3339()).unwrap_or_default(),
                        &item.controls.join(" "),
                        &first_seen.to_rfc3339(),
                        status.as_str(),
                        item.message.as_str(),
                    ])
                    .expect("CSV to memory");
            }
        }
    }
    let bytes = writer.into_inner().expect("CSV to memory");
    String::from_utf8(bytes).expect("CSV of UTF-8 strings is UTF-8")
}
