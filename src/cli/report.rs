//! `iamctl report`: flags → inputs → `ops::report::build_report` → one rendering, written
//! only once every input has been read.

use miette::Result;

use super::args::{ReportArgs, ReportFormatArg};
use super::printer::Printer;
use super::{ExitStatus, write_atomically};
use crate::aws::ApiCalls;
use crate::ops::report::{ReportInput, build_report};
use crate::report::ReportFormat;

pub(super) async fn report(printer: &Printer, args: &ReportArgs) -> Result<ExitStatus> {
    let inputs: Vec<ReportInput> = args.inputs.iter().map(|i| ReportInput::parse(i)).collect();
    let calls = ApiCalls::default();
    let report = build_report(&inputs, &calls)
        .await
        .map_err(|e| miette::miette!("{e}; nothing was written"))?;
    let format = match args.format {
        ReportFormatArg::Html => ReportFormat::Html,
        ReportFormatArg::Csv => ReportFormat::Csv,
        ReportFormatArg::Markdown => ReportFormat::Markdown,
    };
    let text = format.render(&report);
    match &args.out {
        Some(path) => {
            write_atomically(path, &text)?;
            printer.note(&format!(
                "wrote {} ({} run(s), {} plan file(s))",
                path.display(),
                report.runs.len(),
                report.runs.iter().map(|r| r.sources.len()).sum::<usize>()
            ));
        }
        None => printer.stdout(&text)?,
    }
    printer.api_calls(&calls);
    Ok(ExitStatus::Success)
}
