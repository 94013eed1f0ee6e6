//! What the commands share: how a run ended (`ExitStatus`), loading the desired state and
//! the targets `-a` selects, `--target`/`--event` read once (`Focused`), the warnings of
//! notify and Security Hub, and writing a file atomically.

use std::io::Write as _;

use miette::{IntoDiagnostic, Result, WrapErr};

use super::Printer;
use super::args::{self, GlobalArgs};
use crate::desired::{self, Desired};
use crate::explain::events::{Envelope, read_envelope_file};
use crate::fleet::{self, TargetPlanInput};
use crate::ops::{Focus, Scope};
use crate::plan::Targets;

/// How a run ended, as far as the exit code is concerned.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExitStatus {
    /// Exit 0.
    Success,
    /// Exit 2: `--detailed-exitcode` and the plan holds changes, or `--fail-on-findings`
    /// and there are findings.
    Attention,
    /// Exit 1: something failed or was refused; the reason is already printed.
    Failure,
}

/// The targets `-a` and `--shard` select, and the concurrency bounds.
pub(super) fn scope(global: &GlobalArgs) -> Scope<'_> {
    let concurrency = global.concurrency.into();
    let parallelism = match global.parallelism {
        args::Parallelism::Accounts(n) => n.into(),
        args::Parallelism::Auto => {
            let auto = crate::ops::capacity::auto_parallelism(concurrency);
            tracing::info!(
                accounts = auto.accounts,
                open_files = auto.open_files,
                available_memory = ?auto.available_memory,
                "--parallelism auto"
            );
            auto.accounts
        }
    };
    Scope {
        accounts: &global.accounts,
        shard: global.shard,
        parallelism,
        concurrency,
        rotate_now: &[],
    }
}

/// `[notify] sns_topic_arn`, when the desired state names one.
pub(super) fn notify_topic(doc: &crate::desired::DesiredDoc) -> Option<&str> {
    doc.notify.as_ref().and_then(|n| n.sns_topic_arn.as_deref())
}

/// What telling the owners came to: failures as warnings (they never fail the run).
pub(super) fn report_notices(printer: &Printer, report: &crate::notify::NotifyReport) {
    for failure in &report.failures {
        printer.note(&format!("warning: {failure}"));
    }
    printer.detail(&format!("notify: {} message(s) published", report.sent));
}

/// `--target` and `--event`, read and checked before anything else (a malformed event file
/// fails before any AWS call).
pub(super) enum Focused {
    All(Option<Targets>),
    Events(Vec<Envelope>),
}

impl Focused {
    pub(super) fn read(args: &args::FocusArgs) -> Result<Self> {
        if let Some(path) = &args.event {
            let events = read_envelope_file(path).map_err(miette::Report::new)?;
            crate::events::map_events(&events, &[]).map_err(|e| {
                miette::miette!(
                    "{}: malformed event: {e}; nothing was planned",
                    path.display()
                )
            })?;
            return Ok(Focused::Events(events));
        }
        let targets = Targets::parse(&args.targets).map_err(|e| miette::miette!("{e}"))?;
        Ok(Focused::All(targets))
    }

    pub(super) fn focus(&self) -> Focus<'_> {
        match self {
            Focused::All(targets) => Focus::All(targets.as_ref()),
            Focused::Events(events) => Focus::Events(events),
        }
    }

    pub(super) fn targets(&self) -> Option<&Targets> {
        match self {
            Focused::All(targets) => targets.as_ref(),
            Focused::Events(_) => None,
        }
    }

    pub(super) fn events(&self) -> Option<&[Envelope]> {
        match self {
            Focused::All(_) => None,
            Focused::Events(events) => Some(events),
        }
    }
}

/// What importing into Security Hub came to: failures as warnings (they never fail the run).
pub(super) fn report_security_hub(printer: &Printer, report: &crate::security_hub::HubReport) {
    for failure in &report.failures {
        printer.note(&format!("warning: {failure}"));
    }
    printer.note(&format!(
        "Security Hub: {} finding{} imported, {} resolved",
        report.imported,
        if report.imported == 1 { "" } else { "s" },
        report.resolved
    ));
}

/// The desired state (`-c`), loaded and validated.
pub(super) fn load_desired(global: &GlobalArgs) -> Result<Desired> {
    desired::load(&global.config).map_err(miette::Report::new)
}

/// The desired state's targets that `-a/--account` selects, with their resolved rules.
pub(super) fn load_targets(global: &GlobalArgs) -> Result<(Desired, Vec<TargetPlanInput>)> {
    let desired = load_desired(global)?;
    let targets =
        fleet::select_targets(&desired.doc, &global.accounts).map_err(miette::Report::new)?;
    Ok((desired, targets))
}

/// Writes `contents` to `path` through a temporary file in the same folder and a rename, so
/// a reader never sees half a file.
pub(super) fn write_atomically(path: &std::path::Path, contents: &str) -> Result<()> {
    write_atomically_with(path, |out| out.write_all(contents.as_bytes()))
}

/// [`write_atomically`], the contents written by `write` as it goes.
pub(super) fn write_atomically_with(
    path: &std::path::Path,
    write: impl FnOnce(&mut dyn std::io::Write) -> std::io::Result<()>,
) -> Result<()> {
    let dir = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(std::path::Path::new("."));
    let file_name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let tmp = dir.join(format!(".{file_name}.{}.tmp", std::process::id()));
    let written = std::fs::File::create(&tmp).and_then(|file| {
        let mut out = std::io::BufWriter::new(file);
        write(&mut out)?;
        out.flush()
    });
    written
        .and_then(|()| std::fs::rename(&tmp, path))
        .into_diagnostic()
        .wrap_err_with(|| format!("writing {}", path.display()))
}
