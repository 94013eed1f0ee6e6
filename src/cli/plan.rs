//! `iamctl plan` and `iamctl snapshot`: read the targets, plan or save them.

use std::collections::BTreeMap;

use chrono::Utc;
use miette::{IntoDiagnostic, Result};

use super::args::{GlobalArgs, PlanArgs, SnapshotArgs};
use super::{
    ExitStatus, load_targets, print_stdout, report_api_calls, stdout_color, write_atomically,
};
use crate::aws::{ApiCalls, ClientFactory};
use crate::fleet::{self, AccountRun};
use crate::live::{self, ReadScope, snapshot};
use crate::plan::Plan;
use crate::render;

/// Reads every selected target (live, or from `--snapshot`) and plans it.
pub(super) async fn compute_plan(
    global: &GlobalArgs,
    snapshot_path: Option<&std::path::Path>,
    as_of: chrono::DateTime<Utc>,
    calls: &ApiCalls,
) -> Result<Vec<AccountRun>> {
    let (_, targets) = load_targets(global)?;
    let runs = match snapshot_path {
        Some(path) => {
            let snapshot = snapshot::read_snapshot(path).map_err(miette::Report::new)?;
            let accounts: BTreeMap<_, _> = snapshot
                .accounts
                .into_iter()
                .map(|a| (a.name, a.state))
                .collect();
            fleet::plan_snapshot(targets, accounts, as_of)
        }
        None => {
            let factory = ClientFactory::new(calls.clone()).await;
            fleet::plan_live(
                &factory,
                targets,
                as_of,
                global.parallelism.into(),
                global.concurrency.into(),
            )
            .await
        }
    };
    Ok(runs)
}

pub(super) async fn plan(global: &GlobalArgs, args: &PlanArgs) -> Result<ExitStatus> {
    let calls = ApiCalls::default();
    let as_of = args.as_of.as_of.unwrap_or_else(Utc::now);
    let runs = compute_plan(global, args.snapshot.as_deref(), as_of, &calls).await?;
    let plan = Plan::new(as_of, runs.into_iter().map(|run| run.plan).collect());
    if let Some(out) = &args.out {
        write_atomically(out, &render::json(&plan))?;
    }
    print_stdout(&args.format.render(
        &plan,
        &render::TextOptions {
            color: stdout_color(global),
        },
    ))?;
    report_api_calls(global, &calls);

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

pub(super) async fn snapshot(global: &GlobalArgs, args: &SnapshotArgs) -> Result<ExitStatus> {
    let (_, targets) = load_targets(global)?;
    let calls = ApiCalls::default();
    let factory = ClientFactory::new(calls.clone()).await;
    let taken_at = Utc::now();
    let concurrency = usize::from(global.concurrency);
    let results: Vec<_> = {
        use futures::StreamExt;
        futures::stream::iter(targets)
            .map(|input| {
                let factory = &factory;
                async move {
                    let clients = factory.for_target(&input.target).await;
                    let state =
                        live::read_account(&clients, ReadScope::Everything, taken_at, concurrency)
                            .await;
                    (input.target.name, state)
                }
            })
            .buffered(usize::from(global.parallelism))
            .collect()
            .await
    };
    let mut accounts = Vec::new();
    let mut failed = false;
    for (name, state) in results {
        match state {
            Ok(state) => accounts.push(snapshot::NamedAccount { name, state }),
            Err(error) => {
                failed = true;
                eprintln!("error: {error}");
            }
        }
    }
    let count = accounts.len();
    let snap = snapshot::Snapshot::new(taken_at, accounts);
    snapshot::write_snapshot(&args.out, &snap).into_diagnostic()?;
    if !global.quiet {
        eprintln!(
            "wrote {} ({count} account{})",
            args.out.display(),
            if count == 1 { "" } else { "s" }
        );
    }
    report_api_calls(global, &calls);
    Ok(if failed {
        ExitStatus::Failure
    } else {
        ExitStatus::Success
    })
}
