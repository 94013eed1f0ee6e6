//! What `apply` did, for a terminal or a CI log: per account, one line per change with its
//! outcome (`ok`, `skipped: why`, `FAILED: error`), then one summary line.

use std::fmt::Write as _;

use crate::ops::apply::ApplyReport;
use crate::outcome::OutcomeStatus;

pub fn apply_report(report: &ApplyReport) -> String {
    let mut out = String::new();
    for applied in &report.outcomes {
        let account = &applied.account;
        let _ = writeln!(out, "{} ({}):", account.name, account.account_id);
        for outcome in &applied.outcomes {
            let (mark, text) = match &outcome.status {
                OutcomeStatus::Done => ("ok", String::new()),
                OutcomeStatus::Skipped { reason } => ("skipped", format!(": {reason}")),
                OutcomeStatus::Failed { error } => ("FAILED", format!(": {error}")),
            };
            let _ = writeln!(
                out,
                "  {mark:<7} {} {}{text}",
                outcome.action, outcome.address
            );
        }
    }
    let tally = report.tally();
    let _ = writeln!(
        out,
        "Apply: {} done, {} skipped, {} failed.",
        tally.done, tally.skipped, tally.failed
    );
    out
}
