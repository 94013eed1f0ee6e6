//! `iamctl plan` and `iamctl snapshot`: read the targets, plan or save them.

use chrono::Utc;
use miette::{IntoDiagnostic, Result};

use super::args::{GlobalArgs, GroupBy, PlanArgs, SnapshotArgs};
use super::printer::Printer;
use super::progress::Progress;
use super::{ExitStatus, Focused, load_desired, notify_topic, scope, write_atomically};
use crate::aws::ApiCalls;
use crate::explain;
use crate::notify;
use crate::ops::plan::{ExplainSource, explain_runs};
use crate::ops::{self, Source};
use crate::render::{self, Format, TextOptions};
use crate::security_hub::{self, HubAccount};

pub(super) async fn plan(
    global: &GlobalArgs,
    printer: &Printer,
    args: &PlanArgs,
) -> Result<ExitStatus> {
    let calls = ApiCalls::default();
    let as_of = args.as_of.as_of.unwrap_or_else(Utc::now);
    // Event files are read (and any mistake in them reported) before any account is.
    let explain = explain_source(args)?;
    let focus = Focused::read(&args.focus)?;
    let desired = load_desired(global)?;
    let topic = match (args.notify, notify_topic(&desired.doc)) {
        (false, _) => None,
        (true, Some(topic)) if args.snapshot.is_none() => Some(topic),
        (true, Some(_)) => {
            return Err(miette::miette!(
                "--notify with --snapshot: notices are about live accounts; plan them live"
            ));
        }
        (true, None) => {
            return Err(miette::miette!(
                help = "add [notify] sns_topic_arn = \"arn:aws:sns:REGION:ACCOUNT_ID:NAME\"",
                "--notify needs a topic: the desired state has no [notify] sns_topic_arn"
            ));
        }
    };
    if args.security_hub && args.snapshot.is_some() {
        return Err(miette::miette!(
            "--security-hub with --snapshot: findings go to each live account's Security Hub; plan them live"
        ));
    }
    let source = match &args.snapshot {
        Some(path) => Source::Snapshot(path),
        None => Source::Live { calls: &calls },
    };
    let progress = Progress::new(*printer, "reading");
    let mut runs = ops::compute_plan(
        &desired.doc,
        source,
        &scope(global),
        as_of,
        focus.focus(),
        &progress,
    )
    .await?;
    if let Some(source) = &explain {
        let spinner = matches!(source, ExplainSource::Lookups)
            .then(|| Progress::spinner(*printer, "looking up CloudTrail events"));
        let report = explain_runs(source, &mut runs, global.parallelism.into()).await;
        if let Some(spinner) = spinner {
            spinner.finish();
        }
        if let ExplainSource::Files(_) = source {
            printer.detail(&format!(
                "explain: {} CloudTrail events read, {} plan items attributed",
                report.events_read, report.attributed
            ));
        }
        for failure in report.failures {
            printer.note(&format!(
                "warning: no attribution: {failure} (pass CloudTrail log files with --events instead)"
            ));
        }
    }
    let mut plan = ops::plan_of(as_of, &runs);
    plan.run_id = args.run_id.clone();
    if let Some(out) = &args.out {
        write_atomically(out, &render::json(&plan))?;
    }
    let options = TextOptions {
        group_by_owner: args.group_by == Some(GroupBy::Owner),
        ..printer.text_options()
    };
    printer.stdout(&Format::from(args.format).render(&plan, &options, &desired))?;
    if let Some(topic) = topic {
        super::report_notices(
            printer,
            &notify::tell_owners(&calls, topic, &plan, &[]).await,
        );
    }
    if args.security_hub {
        let accounts = runs
            .iter()
            .filter_map(|run| {
                Some(HubAccount {
                    clients: run.clients.as_ref()?,
                    plan: run.plan.clone(),
                    live: run.live.as_ref(),
                })
            })
            .collect();
        let report = security_hub::export(accounts, Utc::now(), global.parallelism.into()).await;
        super::report_security_hub(printer, &report);
    }
    printer.api_calls(&calls);

    Ok(if plan.has_failures() {
        ExitStatus::Failure
    } else if (args.detailed_exitcode && plan.has_changes())
        || (args.fail_on_findings && plan.has_findings())
    {
        ExitStatus::Attention
    } else {
        ExitStatus::Success
    })
}

fn explain_source(args: &PlanArgs) -> Result<Option<ExplainSource>> {
    if !args.events.is_empty() {
        let events = explain::read_event_files(&args.events).map_err(miette::Report::new)?;
        return Ok(Some(ExplainSource::Files(events)));
    }
    if !args.explain {
        return Ok(None);
    }
    if args.snapshot.is_some() {
        return Err(miette::miette!(
            help = "pass CloudTrail log files with --events FILE (repeatable)",
            "--explain with --snapshot needs --events: CloudTrail's LookupEvents reads a live account"
        ));
    }
    Ok(Some(ExplainSource::Lookups))
}

pub(super) async fn snapshot(
    global: &GlobalArgs,
    printer: &Printer,
    args: &SnapshotArgs,
) -> Result<ExitStatus> {
    let desired = super::load_desired_to_read(global)?;
    let calls = ApiCalls::default();
    let progress = Progress::new(*printer, "reading");
    let run = ops::snapshot::take_snapshot(&desired.doc, &calls, &scope(global), &progress).await?;
    for error in &run.failures {
        printer.error(&error.to_string());
    }
    let count = run.snapshot.accounts.len();
    crate::live::write_snapshot(&args.out, &run.snapshot).into_diagnostic()?;
    printer.note(&format!(
        "wrote {} ({count} account{})",
        args.out.display(),
        if count == 1 { "" } else { "s" }
    ));
    printer.api_calls(&calls);
    Ok(if run.failures.is_empty() {
        ExitStatus::Success
    } else {
        ExitStatus::Failure
    })
}
