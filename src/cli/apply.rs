//! `iamctl apply`: flags into an [`ApplyRequest`], [`apply::run`], the report printed.

use std::io::{BufRead, IsTerminal};

use miette::Result;

use super::args::{ApplyArgs, GlobalArgs};
use super::printer::Printer;
use super::progress::Progress;
use super::{ExitStatus, Focused, load_desired, notify_topic, report_notices, scope};
use crate::aws::ApiCalls;
use crate::fleet::Shard;
use crate::ops::apply::{self, ApplyError, ApplyRequest, ApplyUi};
use crate::ops::spill::SpilledPlan;
use crate::ops::{Observer, Scope};
use crate::plan::PlanOutline;
use crate::render::{self, TextSections};

pub(super) async fn apply(
    global: &GlobalArgs,
    printer: &Printer,
    args: &ApplyArgs,
) -> Result<ExitStatus> {
    let saved = args
        .plan_file
        .as_deref()
        .map(apply::read_saved_plan)
        .transpose()?;
    let focus = Focused::read(&args.focus)?;
    let desired = load_desired(global)?;
    let calls = ApiCalls::default();
    let request = ApplyRequest {
        doc: &desired.doc,
        scope: Scope {
            rotate_now: &args.rotate_now,
            ..scope(global)
        },
        calls: &calls,
        saved,
        targets: focus.targets(),
        events: focus.events(),
        max_changes: args.changing.max_changes,
        secrets_dir: args.changing.secrets_dir.clone(),
        audit_log: args.changing.audit_log.clone(),
        security_hub: args.security_hub,
        notify: match notify_topic(&desired.doc) {
            Some(topic) => apply::Notify::Always(topic),
            None => apply::Notify::Never,
        },
    };
    let ui = Terminal {
        printer: *printer,
        progress: Progress::new(*printer, "reading"),
        auto_approve: args.auto_approve,
    };
    let report = apply::run(request, &ui).await;
    let report = match report {
        Ok(report) => report,
        Err(error) => {
            printer.api_calls(&calls);
            return Err(error.into());
        }
    };
    if report.plan.outline().has_changes() {
        printer.stdout(&render::apply_report(&report))?;
    }
    if let Some(notices) = &report.notify {
        report_notices(printer, notices);
    }
    if let Some(hub) = &report.security_hub {
        super::report_security_hub(printer, hub);
    }
    printer.api_calls(&calls);
    if let Some(reason) = &report.audit_broken {
        printer.error(&format!(
            "the audit log could not be written ({reason}); changes not yet started were skipped"
        ));
    }
    Ok(if report.succeeded() {
        ExitStatus::Success
    } else {
        ExitStatus::Failure
    })
}

/// The person at the terminal: sees the fresh plan, and answers `yes` or not.
struct Terminal {
    printer: Printer,
    progress: Progress,
    /// `--auto-approve`: the plan was reviewed before (or is trusted): no question.
    auto_approve: bool,
}

impl Observer for Terminal {
    fn listing_organization(&self) {
        self.progress.listing_organization()
    }
    fn organization_listed(&self) {
        self.progress.organization_listed()
    }
    fn shard_selected(&self, shard: Shard, selected: usize, total: usize) {
        self.progress.shard_selected(shard, selected, total)
    }
    fn reading(&self, total: usize) {
        self.progress.reading(total)
    }
    fn account_read(&self, name: &str, failed: bool) {
        self.progress.account_read(name, failed)
    }
    fn done_reading(&self) {
        self.progress.done_reading()
    }
    fn events_mapped(&self, mapping: &crate::events::Mapping) {
        self.progress.events_mapped(mapping)
    }
}

impl ApplyUi for Terminal {
    fn planned(&self, plan: &SpilledPlan, fresh: bool) {
        if fresh && !self.printer.quiet() {
            // Unlike `plan`, apply's plan is a preview: a closed stdout must not stop it here.
            let sections = TextSections(self.printer.text_options());
            let _ = self
                .printer
                .stdout_with(|out| render::spilled(&sections, plan, out));
        }
        for index in 0..plan.len() {
            if !plan.outline().accounts[index].failed {
                continue;
            }
            match plan.account(index) {
                Ok(account) => self
                    .printer
                    .error(account.error.as_deref().unwrap_or_default()),
                Err(e) => self.printer.error(&format!("reading the plan back: {e}")),
            }
        }
    }

    /// Only `yes` proceeds. Without a terminal there is nobody to ask.
    fn approve(&self, plan: &PlanOutline) -> Result<bool, ApplyError> {
        if self.auto_approve {
            return Ok(true);
        }
        let stdin = std::io::stdin();
        if !stdin.is_terminal() {
            return Err(ApplyError::NoTerminal);
        }
        let accounts = plan.accounts.iter().filter(|a| a.changes > 0).count();
        eprint!(
            "Apply {} change{} to {accounts} account{}? Only 'yes' will be accepted: ",
            plan.summary.changes,
            if plan.summary.changes == 1 { "" } else { "s" },
            if accounts == 1 { "" } else { "s" }
        );
        let mut answer = String::new();
        stdin
            .lock()
            .read_line(&mut answer)
            .map_err(ApplyError::Prompt)?;
        Ok(answer.trim() == "yes")
    }
}
