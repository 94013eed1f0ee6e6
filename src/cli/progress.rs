//! The progress bar on stderr while accounts are read: only on a terminal, never under `-q`,
//! and cleared before the plan is printed, so logs and pipes never see it.

use std::io::IsTerminal;
use std::time::Duration;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

use super::args::GlobalArgs;
use crate::plan::AccountPlan;

/// A bar over the accounts of a run, or nothing at all.
pub(super) struct Progress(Option<ProgressBar>);

impl Progress {
    /// A bar counting `total` accounts, shown when stderr is a terminal and not `-q`.
    pub(super) fn accounts(global: &GlobalArgs, total: usize, verb: &str) -> Self {
        if !shown(global) || total == 0 {
            return Self(None);
        }
        let bar = ProgressBar::with_draw_target(Some(total as u64), ProgressDrawTarget::stderr());
        let style = ProgressStyle::with_template(
            "{spinner} {prefix} [{bar:30}] {pos}/{len} accounts, {elapsed} {wide_msg}",
        )
        .unwrap_or_else(|_| ProgressStyle::default_bar())
        .progress_chars("=> ");
        bar.set_style(style);
        bar.set_prefix(verb.to_owned());
        bar.enable_steady_tick(Duration::from_millis(120));
        Self(Some(bar))
    }

    /// A spinner for a step of unknown length (listing an organization's accounts).
    pub(super) fn spinner(global: &GlobalArgs, message: &str) -> Self {
        if !shown(global) {
            return Self(None);
        }
        let bar = ProgressBar::with_draw_target(None, ProgressDrawTarget::stderr());
        bar.set_style(
            ProgressStyle::with_template("{spinner} {msg} {elapsed}")
                .unwrap_or_else(|_| ProgressStyle::default_spinner()),
        );
        bar.set_message(message.to_owned());
        bar.enable_steady_tick(Duration::from_millis(120));
        Self(Some(bar))
    }

    /// One account is planned (or failed).
    pub(super) fn account_done(&self, plan: &AccountPlan) {
        self.account_read(&plan.name, plan.error.is_some());
    }

    /// One account is read (or failed).
    pub(super) fn account_read(&self, name: &str, failed: bool) {
        if let Some(bar) = &self.0 {
            let state = if failed { "failed" } else { "done" };
            bar.set_message(format!("(last: {name} {state})"));
            bar.inc(1);
        }
    }

    /// Removes the bar from the terminal.
    pub(super) fn finish(self) {
        if let Some(bar) = self.0 {
            bar.finish_and_clear();
        }
    }
}

fn shown(global: &GlobalArgs) -> bool {
    !global.quiet && std::io::stderr().is_terminal()
}
