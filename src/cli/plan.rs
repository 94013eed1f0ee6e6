//! `iamctl plan` and `iamctl snapshot`: flags into options, one library operation
//! (`ops::plan::run`, `ops::snapshot::take_snapshot`), what it made printed or saved.

use chrono::Utc;
use miette::{IntoDiagnostic, Result, WrapErr};

use super::args::{GlobalArgs, GroupBy, PlanArgs, SnapshotArgs};
use super::printer::Printer;
use super::progress::Progress;
use super::{ExitStatus, Focused, load_desired, notify_topic, scope, write_atomically_with};
use crate::aws::ApiCalls;
use crate::explain;
use crate::ops::plan::ExplainSource;
use crate::ops::{self, PlanRequest, Source};
use crate::render::{Format, JsonSections, TextOptions};

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
    let request = PlanRequest {
        doc: &desired.doc,
        source,
        scope: scope(global),
        as_of,
        focus: focus.focus(),
        explain: explain.as_ref(),
        security_hub: args.security_hub,
        notify: topic,
    };
    let mut run = ops::plan::run(request, &progress).await?;
    if let Some(report) = &run.explain {
        if let Some(ExplainSource::Files(_)) = &explain {
            printer.detail(&format!(
                "explain: {} CloudTrail events read, {} plan items attributed",
                report.events_read, report.attributed
            ));
        }
        for failure in &report.failures {
            printer.note(&format!(
                "warning: no attribution: {failure} (pass CloudTrail log files with --events instead)"
            ));
        }
    }
    run.plan.set_run_id(args.run_id.clone());
    let plan = &run.plan;
    if let Some(out) = &args.out {
        write_atomically_with(out, |file| {
            crate::render::spilled(&JsonSections, plan, file)
        })?;
    }
    let options = TextOptions {
        group_by_owner: args.group_by == Some(GroupBy::Owner),
        ..printer.text_options()
    };
    let format = Format::from(args.format);
    match format.sections(&options) {
        Some(sections) => {
            printer.stdout_with(|out| crate::render::spilled(sections.as_ref(), plan, out))?
        }
        // SARIF is made of the whole plan at once.
        None => {
            let whole = plan
                .to_plan()
                .into_diagnostic()
                .wrap_err("reading the plan back from its temporary file")?;
            printer.stdout(&format.render(&whole, &options, &desired))?;
        }
    }
    if let Some(notices) = &run.notify {
        super::report_notices(printer, notices);
    }
    if let Some(report) = &run.security_hub {
        super::report_security_hub(printer, report);
    }
    printer.api_calls(&calls);

    let outline = plan.outline();
    Ok(if outline.has_failures() {
        ExitStatus::Failure
    } else if (args.detailed_exitcode && outline.has_changes())
        || (args.fail_on_findings && outline.has_findings())
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
    let desired = super::load_desired(global)?;
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
