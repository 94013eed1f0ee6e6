//! `iamctl watch` (flags into [`WatchOptions`], SIGTERM and Ctrl-C into a stop request, one
//! line per batch) and `iamctl events-pattern`.

use miette::Result;
use tokio::sync::watch as signal;

use super::args::{GlobalArgs, WatchArgs};
use super::printer::Printer;
use super::{ExitStatus, load_desired, scope};
use crate::aws::ApiCalls;
use crate::events::watch::{self, BatchReport, ReconcileOptions, WatchOptions, WatchUi};

pub(super) async fn watch(
    global: &GlobalArgs,
    printer: &Printer,
    args: &WatchArgs,
) -> Result<ExitStatus> {
    let desired = load_desired(global)?;
    let options = WatchOptions {
        queue_url: args.queue_url.clone(),
        until_idle: args.until_idle,
        wait_seconds: args.wait_seconds,
        batch_size: args.batch_size,
        reconcile: ReconcileOptions {
            dry_run: args.dry_run,
            max_changes: args.changing.max_changes,
            secrets_dir: args.changing.secrets_dir.clone(),
            audit_log: args.changing.audit_log.clone(),
        },
    };
    let (stop, stopped) = signal::channel(false);
    tokio::spawn(async move {
        wait_for_stop().await;
        let _ = stop.send(true);
    });
    let calls = ApiCalls::default();
    let summary = watch::run(
        &desired.doc,
        &scope(global),
        &calls,
        &options,
        stopped,
        &Lines(*printer),
    )
    .await
    .map_err(miette::Report::new)?;
    printer.note(&format!(
        "watch: {} batch{}, {} message{}, {} deleted",
        summary.batches,
        if summary.batches == 1 { "" } else { "es" },
        summary.messages,
        if summary.messages == 1 { "" } else { "s" },
        summary.deleted
    ));
    printer.api_calls(&calls);
    // A failed batch is left to the queue's redrive, not a reason to stop or fail.
    Ok(ExitStatus::Success)
}

/// SIGTERM (what ECS and Kubernetes send) or Ctrl-C.
async fn wait_for_stop() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        if let Ok(mut term) = signal(SignalKind::terminate()) {
            tokio::select! {
                _ = term.recv() => {}
                _ = tokio::signal::ctrl_c() => {}
            }
            return;
        }
    }
    let _ = tokio::signal::ctrl_c().await;
}

/// One line per batch on stderr; what it ignored under `-v`.
struct Lines(Printer);

impl WatchUi for Lines {
    fn batch(&self, report: &BatchReport) {
        for note in &report.notes {
            self.0.detail(&format!("  {note}"));
        }
        for alert in &report.alerts {
            eprintln!("  {alert}");
        }
        eprintln!("{report}");
    }
}

pub(super) fn events_pattern(printer: &Printer) -> Result<ExitStatus> {
    let pattern = crate::events::rule_pattern();
    printer.stdout(&format!(
        "{}\n",
        serde_json::to_string_pretty(&pattern).unwrap_or_default()
    ))?;
    Ok(ExitStatus::Success)
}
