//! `iamctl import`: flags into [`ImportOptions`], [`import::run`], the TOML to stdout or `-o`.

use chrono::Utc;
use miette::{IntoDiagnostic, Result, WrapErr};

use super::args::{GlobalArgs, ImportArgs};
use super::printer::Printer;
use super::{ExitStatus, load_desired, write_atomically};
use crate::aws::ApiCalls;
use crate::desired::DesiredDoc;
use crate::fleet::DEFAULT_TARGET;
use crate::import::{self, ImportOptions, Source};

pub(super) async fn import(
    global: &GlobalArgs,
    printer: &Printer,
    args: &ImportArgs,
) -> Result<ExitStatus> {
    let doc = if global.config.exists() {
        load_desired(global)?.doc
    } else {
        if args.snapshot.is_none() {
            printer.note(&format!(
                "no desired state at {}: importing the account of the ambient credentials (target \"{DEFAULT_TARGET}\")",
                global.config.display()
            ));
        }
        DesiredDoc::default()
    };
    let calls = ApiCalls::default();
    let source = match &args.snapshot {
        Some(path) => Source::Snapshot(path.clone()),
        None => Source::Live {
            calls: calls.clone(),
            concurrency: global.concurrency.into(),
        },
    };
    let imported = import::run(ImportOptions {
        doc,
        accounts: global.accounts.clone(),
        source,
        as_of: args.as_of.as_of.unwrap_or_else(Utc::now),
    })
    .await?;
    match &args.out {
        Some(path) => {
            if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
                std::fs::create_dir_all(dir)
                    .into_diagnostic()
                    .wrap_err_with(|| format!("creating {}", dir.display()))?;
            }
            write_atomically(path, &imported.toml)?;
            printer.note(&format!(
                "wrote {}: account {} ({}), {} users. Next: iamctl plan -c {} --detailed-exitcode   # exits 0",
                path.display(),
                imported.target.name,
                imported.state.account_id,
                imported.state.users.len(),
                path.display()
            ));
        }
        None => printer.stdout(&imported.toml)?,
    }
    printer.api_calls(&calls);
    Ok(ExitStatus::Success)
}
