//! How a run speaks to the person at the terminal: `-q`, `-v`, `--no-color`/`NO_COLOR` and
//! whether each stream is a terminal, resolved once from the flags into one value that every
//! command receives (as uv's `Printer`), instead of re-checked in each.

use std::io::{IsTerminal, Write};

use miette::{IntoDiagnostic, Result, WrapErr};

use super::args::GlobalArgs;
use crate::aws::ApiCalls;
use crate::render::TextOptions;

#[derive(Debug, Clone, Copy)]
pub struct Printer {
    quiet: bool,
    verbose: u8,
    stdout_color: bool,
    stderr_is_terminal: bool,
}

impl Printer {
    pub fn new(global: &GlobalArgs) -> Self {
        let no_color_env = std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty());
        Self {
            quiet: global.quiet,
            verbose: global.verbose,
            // Colour only on a terminal, and never under `--no-color` or a non-empty `NO_COLOR`.
            stdout_color: std::io::stdout().is_terminal() && !global.no_color && !no_color_env,
            stderr_is_terminal: std::io::stderr().is_terminal(),
        }
    }

    pub fn quiet(&self) -> bool {
        self.quiet
    }

    pub fn verbose(&self) -> bool {
        self.verbose > 0
    }

    /// How the plan's text rendering is coloured on stdout.
    pub fn text_options(&self) -> TextOptions {
        TextOptions {
            color: self.stdout_color,
            group_by_owner: false,
        }
    }

    /// Progress bars: on a terminal, never under `-q`.
    pub fn shows_progress(&self) -> bool {
        !self.quiet && self.stderr_is_terminal
    }

    /// Writes to stdout; a closed pipe (`iamctl plan | head`) is not an error worth a message.
    pub fn stdout(&self, text: &str) -> Result<()> {
        let mut out = std::io::stdout().lock();
        match out.write_all(text.as_bytes()).and_then(|()| out.flush()) {
            Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
            other => other.into_diagnostic().wrap_err("writing to stdout"),
        }
    }

    /// Stdout written by `write` as it goes (a plan rendered account by account); a closed
    /// pipe ends it quietly, as [`Printer::stdout`].
    pub fn stdout_with(
        &self,
        write: impl FnOnce(&mut dyn Write) -> std::io::Result<()>,
    ) -> Result<()> {
        let mut out = std::io::BufWriter::new(std::io::stdout().lock());
        match write(&mut out).and_then(|()| out.flush()) {
            Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
            other => other.into_diagnostic().wrap_err("writing to stdout"),
        }
    }

    /// A message on stderr that `-q` silences.
    pub fn note(&self, text: &str) {
        if !self.quiet {
            eprintln!("{text}");
        }
    }

    /// A message on stderr only under `-v`.
    pub fn detail(&self, text: &str) {
        if self.verbose() {
            eprintln!("{text}");
        }
    }

    /// An error on stderr, whatever the flags.
    pub fn error(&self, text: &str) {
        eprintln!("error: {text}");
    }

    /// Under `-v`, how many API calls the run made, per operation (the benchmark reads this).
    pub fn api_calls(&self, calls: &ApiCalls) {
        if !self.verbose() {
            return;
        }
        let detail: Vec<String> = calls
            .by_operation()
            .iter()
            .map(|(op, n)| format!("{op}={n}"))
            .collect();
        eprintln!("api calls: {} ({})", calls.total(), detail.join(" "));
        let pacing = calls.pacing();
        if !pacing.is_empty() {
            let detail: Vec<String> = pacing
                .iter()
                .map(|(target, p)| {
                    format!(
                        "{target}={}, in flight down to {:.2}",
                        p.throttles, p.lowest_limit
                    )
                })
                .collect();
            let total: u64 = pacing.iter().map(|(_, p)| p.throttles).sum();
            eprintln!("throttled: {total} ({})", detail.join("; "));
        }
    }
}
