//! `iamctl apply`: recompute the plan from live state, check it (saved plan still current,
//! under `--max-changes`, approved), then carry it out account by account.

use std::io::{BufRead, IsTerminal};

use chrono::Utc;
use futures::StreamExt;
use miette::{IntoDiagnostic, Result, WrapErr, miette};

use super::args::{ApplyArgs, GlobalArgs};
use super::plan::compute_plan;
use super::{ExitStatus, print_stdout, report_api_calls, stdout_color};
use crate::apply::{self, ApplyOptions, AuditLog, Outcome, OutcomeStatus};
use crate::aws::ApiCalls;
use crate::desired::PolicyRule;
use crate::fleet::AccountRun;
use crate::plan::{AccountPlan, Plan};
use crate::render;
use crate::state::PasswordPolicy;

pub(super) async fn apply(global: &GlobalArgs, args: &ApplyArgs) -> Result<ExitStatus> {
    let saved = args.plan_file.as_deref().map(read_saved_plan).transpose()?;
    let calls = ApiCalls::default();
    let now = Utc::now();
    // A saved plan: read only the accounts it covers.
    let covered: Option<std::collections::BTreeSet<String>> = saved
        .as_ref()
        .map(|saved| saved.accounts.iter().map(|a| a.name.clone()).collect());
    let mut runs = compute_plan(global, None, now, &calls, covered.as_ref()).await?;

    if let Some(saved) = &saved {
        // Only the accounts the saved plan covers, and only if each still plans the same.
        runs.retain(|run| saved.accounts.iter().any(|a| a.name == run.plan.name));
        let stale = stale_accounts(saved, &runs);
        if !stale.is_empty() {
            return Err(miette!(
                help = "run `iamctl plan -o FILE` again and review the new plan",
                "plan is stale: live state no longer gives the saved plan for {}; nothing was changed",
                stale.join(", ")
            ));
        }
    }

    let plan = Plan::new(now, runs.iter().map(|run| run.plan.clone()).collect());
    if saved.is_none() && !global.quiet {
        print_stdout(&render::text(
            &plan,
            &render::TextOptions {
                color: stdout_color(global),
            },
        ))?;
    }
    for failed in runs.iter().filter_map(|r| r.plan.error.as_ref()) {
        eprintln!("error: {failed}");
    }
    if !plan.has_changes() {
        report_api_calls(global, &calls);
        return Ok(if plan.has_failures() {
            ExitStatus::Failure
        } else {
            ExitStatus::Success
        });
    }
    if let Some(max) = args.max_changes {
        if plan.summary.changes > max {
            return Err(miette!(
                "the plan holds {} changes, over --max-changes {max}; nothing was changed",
                plan.summary.changes
            ));
        }
    }
    if saved.is_none() && !args.auto_approve && !confirmed(&plan)? {
        return Err(miette!("apply cancelled; nothing was changed"));
    }

    let audit = args
        .audit_log
        .as_deref()
        .map(AuditLog::open)
        .transpose()
        .into_diagnostic()
        .wrap_err("opening the audit log")?;
    let concurrency = usize::from(global.concurrency);
    let results: Vec<(AccountPlan, Vec<Outcome>)> =
        futures::stream::iter(runs.iter().filter(|r| !r.plan.changes.is_empty()))
            .map(|run| {
                let audit = &audit;
                async move {
                    let outcomes = match &run.clients {
                        Some(clients) => {
                            let options = ApplyOptions {
                                secrets_dir: args.secrets_dir.clone(),
                                caller: run.live.as_ref().and_then(|l| l.caller.clone()),
                                password_policy: Some(policy_in_force(run)),
                                concurrency,
                            };
                            // Each record is written the moment its change ends, so a run that
                            // dies half-way still leaves a record of what it did.
                            apply::apply_account_audited(
                                clients,
                                &run.plan,
                                &options,
                                audit.as_ref(),
                            )
                            .await
                        }
                        None => Vec::new(),
                    };
                    (run.plan.clone(), outcomes)
                }
            })
            .buffered(usize::from(global.parallelism))
            .collect()
            .await;

    let mut counts = [0usize; 3];
    let mut report = String::new();
    for (account, outcomes) in &results {
        report.push_str(&format!("{} ({}):\n", account.name, account.account_id));
        for outcome in outcomes {
            let (mark, text) = match &outcome.status {
                OutcomeStatus::Done => {
                    counts[0] += 1;
                    ("ok", String::new())
                }
                OutcomeStatus::Skipped { reason } => {
                    counts[1] += 1;
                    ("skipped", format!(": {reason}"))
                }
                OutcomeStatus::Failed { error } => {
                    counts[2] += 1;
                    ("FAILED", format!(": {error}"))
                }
            };
            report.push_str(&format!(
                "  {mark:<7} {} {}{text}\n",
                outcome.action, outcome.address
            ));
        }
    }
    let [done, skipped, failed] = counts;
    report.push_str(&format!(
        "Apply: {done} done, {skipped} skipped, {failed} failed.\n"
    ));
    print_stdout(&report)?;
    report_api_calls(global, &calls);
    let audit_broken = audit.as_ref().and_then(AuditLog::broken);
    if let Some(reason) = &audit_broken {
        eprintln!(
            "error: the audit log could not be written ({reason}); changes not yet started were skipped"
        );
    }
    Ok(
        if failed > 0 || plan.has_failures() || audit_broken.is_some() {
            ExitStatus::Failure
        } else {
            ExitStatus::Success
        },
    )
}

/// The password policy new console passwords must satisfy: the planned one, else the live one.
fn policy_in_force(run: &AccountRun) -> PasswordPolicy {
    match &run.input.rules.password_policy {
        Some(PolicyRule::Present(policy)) => policy.clone(),
        _ => run
            .live
            .as_ref()
            .and_then(|l| l.password_policy.clone())
            .unwrap_or_else(PasswordPolicy::iam_default),
    }
}

fn read_saved_plan(path: &std::path::Path) -> Result<Plan> {
    let text = std::fs::read_to_string(path)
        .into_diagnostic()
        .wrap_err_with(|| format!("reading plan {}", path.display()))?;
    let plan: Plan = serde_json::from_str(&text).map_err(|e| {
        miette!(
            "{}:{}:{}: not a saved iamctl plan: {e}",
            path.display(),
            e.line(),
            e.column()
        )
    })?;
    if plan.format_version != crate::plan::FORMAT_VERSION {
        return Err(miette!(
            "{}: plan format_version {:?} is not supported (this iamctl writes {:?})",
            path.display(),
            plan.format_version,
            crate::plan::FORMAT_VERSION
        ));
    }
    Ok(plan)
}

/// Names of the accounts whose changes differ between the saved plan and a fresh one.
/// Findings are not compared: their messages carry ages, which move with the clock; nor is
/// `plan --explain`'s attribution, which says who made a change, not what apply would do.
fn stale_accounts(saved: &Plan, runs: &[AccountRun]) -> Vec<String> {
    saved
        .accounts
        .iter()
        .filter(
            |account| match runs.iter().find(|run| run.plan.name == account.name) {
                Some(run) => {
                    run.plan.error.is_some()
                        || run.plan.changes.len() != account.changes.len()
                        || !run
                            .plan
                            .changes
                            .iter()
                            .zip(&account.changes)
                            .all(|(fresh, saved)| fresh.same_change(saved))
                        || run.plan.account_id != account.account_id
                }
                None => true,
            },
        )
        .map(|account| account.name.clone())
        .collect()
}

/// Asks at the terminal; only `yes` proceeds. Without a terminal there is nobody to ask.
fn confirmed(plan: &Plan) -> Result<bool> {
    let stdin = std::io::stdin();
    if !stdin.is_terminal() {
        return Err(miette!(
            help = "review the plan and pass --auto-approve, or apply a saved plan file",
            "refusing to apply without confirmation: stdin is not a terminal; nothing was changed"
        ));
    }
    let accounts = plan
        .accounts
        .iter()
        .filter(|a| !a.changes.is_empty())
        .count();
    eprint!(
        "Apply {} change{} to {accounts} account{}? Only 'yes' will be accepted: ",
        plan.summary.changes,
        if plan.summary.changes == 1 { "" } else { "s" },
        if accounts == 1 { "" } else { "s" }
    );
    let mut answer = String::new();
    stdin.lock().read_line(&mut answer).into_diagnostic()?;
    Ok(answer.trim() == "yes")
}
