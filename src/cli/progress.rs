//! The progress bar on stderr while accounts are read: only on a terminal, never under `-q`,
//! and cleared before the plan is printed, so logs and pipes never see it. It is the CLI's
//! [`Observer`] of the operations.

use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

use super::printer::Printer;
use crate::fleet::Shard;
use crate::ops::Observer;

/// A bar over the accounts of a run (or a spinner while an organization is listed), or
/// nothing at all.
pub(super) struct Progress {
    printer: Printer,
    verb: &'static str,
    bar: Mutex<Option<ProgressBar>>,
    /// Accounts of the bar that could not be read.
    failed: AtomicUsize,
}

impl Progress {
    /// `verb` heads the bar ("reading").
    pub(super) fn new(printer: Printer, verb: &'static str) -> Self {
        Self {
            printer,
            verb,
            bar: Mutex::new(None),
            failed: AtomicUsize::new(0),
        }
    }

    fn spin(&self, message: &str) {
        if !self.printer.shows_progress() {
            return;
        }
        let bar = ProgressBar::with_draw_target(None, ProgressDrawTarget::stderr());
        bar.set_style(
            ProgressStyle::with_template("{spinner} {msg} {elapsed}")
                .unwrap_or_else(|_| ProgressStyle::default_spinner()),
        );
        bar.set_message(message.to_owned());
        self.show(bar);
    }

    fn show(&self, bar: ProgressBar) {
        bar.enable_steady_tick(Duration::from_millis(120));
        *self.bar.lock().unwrap_or_else(|e| e.into_inner()) = Some(bar);
    }

    fn clear(&self) {
        if let Some(bar) = self.bar.lock().unwrap_or_else(|e| e.into_inner()).take() {
            bar.finish_and_clear();
        }
    }
}

impl Observer for Progress {
    fn listing_organization(&self) {
        self.spin("listing the organization's accounts");
    }

    fn organization_listed(&self) {
        self.clear();
    }

    fn shard_selected(&self, shard: Shard, selected: usize, total: usize) {
        self.printer.detail(&format!(
            "shard {shard}: {selected} of {total} selected target{}",
            if total == 1 { "" } else { "s" }
        ));
    }

    fn reading(&self, total: usize) {
        if !self.printer.shows_progress() || total == 0 {
            return;
        }
        self.failed.store(0, Ordering::Relaxed);
        let bar = ProgressBar::with_draw_target(Some(total as u64), ProgressDrawTarget::stderr());
        // indicatif's ETA is the remaining accounts at the recent pace (a moving estimate of
        // the time per account), which is what a fleet's waves of accounts follow.
        let style = ProgressStyle::with_template(
            "{spinner} {prefix} [{bar:30}] {pos}/{len} accounts, {elapsed} (ETA {eta}) {wide_msg}",
        )
        .unwrap_or_else(|_| ProgressStyle::default_bar())
        .progress_chars("=> ");
        bar.set_style(style);
        bar.set_prefix(self.verb);
        self.show(bar);
    }

    fn account_read(&self, name: &str, failed: bool) {
        let failures = match failed {
            true => self.failed.fetch_add(1, Ordering::Relaxed) + 1,
            false => self.failed.load(Ordering::Relaxed),
        };
        if let Some(bar) = &*self.bar.lock().unwrap_or_else(|e| e.into_inner()) {
            bar.set_message(progress_message(bar.position() + 1, failures, name, failed));
            bar.inc(1);
        }
    }

    fn done_reading(&self) {
        self.clear();
    }

    fn events_mapped(&self, mapping: &crate::events::Mapping) {
        for ignored in &mapping.ignored {
            self.printer.note(&format!("note: {ignored}"));
        }
        let targets: Vec<String> = mapping
            .addresses
            .iter()
            .map(|(target, addresses)| {
                let addresses: Vec<String> = addresses.iter().map(ToString::to_string).collect();
                format!("{target}: {}", addresses.join(", "))
            })
            .collect();
        let handled = mapping.handled.len();
        let total = handled + mapping.ignored.len();
        self.printer.note(&if targets.is_empty() {
            format!("events: {total} read, none to reconcile")
        } else {
            format!(
                "events: {total} read, {handled} to reconcile ({})",
                targets.join("; ")
            )
        });
    }
}

/// What the bar says after `finished` accounts: how many were done and how many failed, and
/// the last one.
fn progress_message(finished: u64, failures: usize, name: &str, failed: bool) -> String {
    let done = finished.saturating_sub(failures as u64);
    let state = if failed { "failed" } else { "done" };
    format!("{done} done, {failures} failed (last: {name} {state})")
}

#[cfg(test)]
mod tests {
    use super::progress_message;

    #[test]
    fn the_bar_counts_accounts_done_and_failed() {
        assert_eq!(
            progress_message(3, 1, "prod", false),
            "2 done, 1 failed (last: prod done)"
        );
        assert_eq!(
            progress_message(1, 1, "dev", true),
            "0 done, 1 failed (last: dev failed)"
        );
    }
}
