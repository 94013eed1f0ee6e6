//! `iamctl plan` and `iamctl snapshot`: read the targets, plan or save them.

use std::collections::{BTreeMap, BTreeSet};

use chrono::Utc;
use miette::{IntoDiagnostic, Result};

use super::args::{GlobalArgs, PlanArgs, SnapshotArgs};
use super::progress::Progress;
use super::{
    ExitStatus, load_desired, print_stdout, report_api_calls, stdout_color, write_atomically,
};
use crate::aws::{ApiCalls, ClientFactory};
use crate::desired::DesiredDoc;
use crate::explain;
use crate::fleet::{self, AccountRun, TargetPlanInput};
use crate::live::{self, ReadScope, snapshot};
use crate::plan::Plan;
use crate::render;

/// The targets of a live run: the declared ones and those an `[organization]` lists,
/// narrowed by `-a` and `--shard`.
pub(super) async fn live_targets(
    global: &GlobalArgs,
    doc: &DesiredDoc,
    factory: &ClientFactory,
) -> Result<Vec<TargetPlanInput>> {
    let listing = doc
        .organization
        .is_some()
        .then(|| Progress::spinner(global, "listing the organization's accounts"));
    let targets = fleet::resolve_targets(doc, factory, &global.accounts).await;
    if let Some(listing) = listing {
        listing.finish();
    }
    Ok(shard(global, targets.map_err(miette::Report::new)?))
}

fn shard(global: &GlobalArgs, targets: Vec<TargetPlanInput>) -> Vec<TargetPlanInput> {
    match global.shard {
        Some(shard) => {
            let total = targets.len();
            let mine = fleet::shard_targets(targets, shard);
            if global.verbose > 0 {
                eprintln!(
                    "shard {shard}: {} of {total} selected target{}",
                    mine.len(),
                    if total == 1 { "" } else { "s" }
                );
            }
            mine
        }
        None => targets,
    }
}

/// Reads every selected target (live, or from `--snapshot`) and plans it. `only`: just the
/// targets of these names (those a saved plan covers).
pub(super) async fn compute_plan(
    global: &GlobalArgs,
    snapshot_path: Option<&std::path::Path>,
    as_of: chrono::DateTime<Utc>,
    calls: &ApiCalls,
    only: Option<&BTreeSet<String>>,
) -> Result<Vec<AccountRun>> {
    let desired = load_desired(global)?;
    let keep = |targets: Vec<TargetPlanInput>| -> Vec<TargetPlanInput> {
        match only {
            Some(names) => targets
                .into_iter()
                .filter(|t| names.contains(&t.target.name))
                .collect(),
            None => targets,
        }
    };
    let runs = match snapshot_path {
        Some(path) => {
            let snapshot = snapshot::read_snapshot(path).map_err(miette::Report::new)?;
            let accounts: BTreeMap<_, _> = snapshot
                .accounts
                .into_iter()
                .map(|a| (a.name, a.state))
                .collect();
            let targets = fleet::snapshot_targets(&desired.doc, &accounts, &global.accounts)
                .map_err(miette::Report::new)?;
            fleet::plan_snapshot(keep(shard(global, targets)), accounts, as_of)
        }
        None => {
            let factory = ClientFactory::new(calls.clone()).await;
            let targets = keep(live_targets(global, &desired.doc, &factory).await?);
            let progress = Progress::accounts(global, targets.len(), "reading");
            let runs = fleet::plan_live_with_progress(
                &factory,
                targets,
                as_of,
                global.parallelism.into(),
                global.concurrency.into(),
                &|plan| progress.account_done(plan),
            )
            .await;
            progress.finish();
            runs
        }
    };
    Ok(runs)
}

pub(super) async fn plan(global: &GlobalArgs, args: &PlanArgs) -> Result<ExitStatus> {
    let calls = ApiCalls::default();
    let as_of = args.as_of.as_of.unwrap_or_else(Utc::now);
    // Event files are read (and any mistake in them reported) before any account is.
    let explain = explain_source(args)?;
    let mut runs = compute_plan(global, args.snapshot.as_deref(), as_of, &calls, None).await?;
    if let Some(source) = &explain {
        explain_runs(global, source, &mut runs).await;
    }
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

/// Where `plan --explain` finds its CloudTrail events.
enum ExplainSource {
    /// `--events FILE`: read already.
    Files(Vec<explain::Event>),
    /// `LookupEvents` in each account.
    Lookups,
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

/// Attaches to every planned account's items who made them, from `source`. A lookup that
/// fails leaves that account's plan unexplained, with a warning: attribution is a reading
/// aid, never a reason to fail a plan.
async fn explain_runs(global: &GlobalArgs, source: &ExplainSource, runs: &mut [AccountRun]) {
    match source {
        ExplainSource::Files(events) => {
            let mut attributed = 0;
            for run in runs.iter_mut().filter(|r| r.plan.error.is_none()) {
                attributed += explain::attribute(&mut run.plan, events);
            }
            if global.verbose > 0 {
                eprintln!(
                    "explain: {} CloudTrail events read, {attributed} plan items attributed",
                    events.len()
                );
            }
        }
        ExplainSource::Lookups => {
            use futures::StreamExt;
            let progress = Progress::spinner(global, "looking up CloudTrail events");
            let opts = explain::LookupOptions::default();
            let failures: Vec<String> = futures::stream::iter(runs.iter_mut())
                .map(|run| {
                    let AccountRun { clients, plan, .. } = run;
                    async move {
                        let clients = clients.as_ref()?;
                        explain::explain_with_lookups(clients, plan, &opts)
                            .await
                            .err()
                            .map(|e| e.to_string())
                    }
                })
                .buffer_unordered(usize::from(global.parallelism))
                .filter_map(|failure| async move { failure })
                .collect()
                .await;
            progress.finish();
            if !global.quiet {
                for failure in failures {
                    eprintln!(
                        "warning: no attribution: {failure} (pass CloudTrail log files with --events instead)"
                    );
                }
            }
        }
    }
}

pub(super) async fn snapshot(global: &GlobalArgs, args: &SnapshotArgs) -> Result<ExitStatus> {
    let desired = load_desired(global)?;
    let calls = ApiCalls::default();
    let factory = ClientFactory::new(calls.clone()).await;
    let targets = live_targets(global, &desired.doc, &factory).await?;
    let taken_at = Utc::now();
    let concurrency = usize::from(global.concurrency);
    let progress = Progress::accounts(global, targets.len(), "reading");
    let results: Vec<_> = {
        use futures::StreamExt;
        futures::stream::iter(targets)
            .map(|input| {
                let (factory, progress) = (&factory, &progress);
                async move {
                    let clients = factory.for_target(&input.target).await;
                    let state =
                        live::read_account(&clients, ReadScope::Everything, taken_at, concurrency)
                            .await;
                    progress.account_read(&input.target.name, state.is_err());
                    (input.target.name, state)
                }
            })
            .buffered(usize::from(global.parallelism))
            .collect()
            .await
    };
    progress.finish();
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
