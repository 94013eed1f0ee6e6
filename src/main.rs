//! The `iamctl` binary: parse the command line, set up logging, run the command, and decide
//! the exit code in one place.

use std::process::ExitCode;

use clap::Parser;
use iamctl::cli::{Cli, ExitStatus, run};

fn main() -> ExitCode {
    // Bad flags are bad input: exit 1 like every other input error (clap would exit 2,
    // which `--detailed-exitcode` reserves for "the plan holds changes").
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(error) => {
            let _ = error.print();
            return if error.use_stderr() {
                ExitCode::from(1)
            } else {
                ExitCode::SUCCESS
            };
        }
    };
    init_logging(cli.global.verbose, cli.global.quiet);
    init_error_reports(&cli);
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(error) => {
            eprintln!("error: starting the async runtime: {error}");
            return ExitCode::from(1);
        }
    };
    match runtime.block_on(run(cli)) {
        Ok(ExitStatus::Success) => ExitCode::SUCCESS,
        Ok(ExitStatus::Attention) => ExitCode::from(2),
        Ok(ExitStatus::Failure) => ExitCode::from(1),
        Err(report) => {
            eprintln!("{report:?}");
            ExitCode::from(1)
        }
    }
}

/// Error reports point into the desired-state files. Lines are not wrapped (CI logs and
/// tests grep them); colour only on a terminal, never under `--no-color`/`NO_COLOR`.
fn init_error_reports(cli: &Cli) {
    use std::io::IsTerminal;
    let color = std::io::stderr().is_terminal()
        && !cli.global.no_color
        && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty());
    let _ = miette::set_hook(Box::new(move |_| {
        Box::new(
            miette::MietteHandlerOpts::new()
                .wrap_lines(false)
                .color(color)
                .build(),
        )
    }));
}

/// Logs go to stderr. Default: warnings; `-v`: iamctl's progress; `-vv`: the SDK's too.
fn init_logging(verbose: u8, quiet: bool) {
    let filter = match (quiet, verbose) {
        (true, _) => "error",
        (false, 0) => "warn",
        (false, 1) => "warn,iamctl=info",
        (false, _) => "info,iamctl=debug,aws_config=debug,aws_smithy_runtime=debug",
    };
    use tracing_subscriber::prelude::*;
    let filter =
        tracing_subscriber::EnvFilter::try_from_env("IAMCTL_LOG").unwrap_or_else(|_| filter.into());
    // At trace level the SigV4 signer logs every canonical request and the SDK's orchestrator
    // every request's headers, session token included. No secret may reach a log, whatever
    // IAMCTL_LOG asks for (SPEC): those two crates never log at trace.
    let no_secrets = tracing_subscriber::filter::filter_fn(|meta| {
        *meta.level() != tracing::Level::TRACE
            || !["aws_sigv4", "aws_smithy_runtime"]
                .iter()
                .any(|krate| meta.target().starts_with(krate))
    });
    tracing_subscriber::registry()
        .with(filter)
        .with(
            tracing_subscriber::fmt::layer()
                .with_writer(std::io::stderr)
                .without_time()
                .with_filter(no_secrets),
        )
        .init();
}
