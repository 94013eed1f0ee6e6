//! The commands: each turns parsed flags into calls of the library and says how the run
//! ended. Exit codes are decided once, in `main`, from [`ExitStatus`].

mod apply;
pub mod args;
mod events;
mod import;
mod plan;
mod printer;
mod progress;
mod report;
mod shared;
pub mod tooling;

use miette::Result;

pub use args::Cli;
use args::{Command, GlobalArgs};
pub use printer::Printer;
pub use shared::ExitStatus;
// What the commands share, named here so each command's `use super::…` reads as before.
use shared::{
    Focused, load_desired, load_targets, notify_topic, report_notices, report_security_hub, scope,
    write_atomically, write_atomically_with,
};

use crate::desired;

pub async fn run(cli: Cli) -> Result<ExitStatus> {
    let global = &cli.global;
    let printer = &Printer::new(global);
    match &cli.command {
        Command::Plan(args) => plan::plan(global, printer, args).await,
        Command::Apply(args) => apply::apply(global, printer, args).await,
        Command::Validate => validate(global, printer),
        Command::Snapshot(args) => plan::snapshot(global, printer, args).await,
        Command::Schema => tooling::schema(printer),
        Command::Import(args) => import::import(global, printer, args).await,
        Command::Permissions(args) => tooling::permissions(global, printer, args),
        Command::Controls(args) => tooling::controls(printer, args),
        Command::Watch(args) => events::watch(global, printer, args).await,
        Command::EventsPattern => events::events_pattern(printer),
        Command::Report(args) => report::report(printer, args).await,
        Command::Completions(args) => tooling::completions(printer, args),
        Command::Man(args) => tooling::man(printer, args),
    }
}

fn validate(global: &GlobalArgs, printer: &Printer) -> Result<ExitStatus> {
    let (desired, targets) = load_targets(global)?;
    for warning in desired::warnings(&desired.doc) {
        printer.note(&format!("warning: {}: {}", warning.path, warning.message));
    }
    // What the other credential kinds' tables cost to read, target by target.
    for target in &targets {
        for cost in crate::live::ReadSelection::of(&target.rules).costs() {
            printer.detail(&format!("{}: {cost}", target.target.name));
        }
    }
    if !printer.quiet() {
        let files = desired.files.len();
        // An organization's accounts are only known when it is listed, at run time.
        let listed = if desired.doc.organization.is_some() {
            " declared, plus the organization's accounts (listed at run time)"
        } else {
            ""
        };
        eprintln!(
            "desired state is valid: {files} file{}, {} target{}{listed}",
            if files == 1 { "" } else { "s" },
            targets.len(),
            if targets.len() == 1 { "" } else { "s" }
        );
    }
    Ok(ExitStatus::Success)
}
