//! `iamctl report`: plan files of many shards and runs made into one posture report. The model
//! (`model.rs`: merge, history, item identity, statuses) is pure, on plain values; `input.rs`
//! turns saved plans into those values; `html.rs`, `csv.rs` and `markdown.rs` render the
//! model; `s3.rs` reads plan files kept in S3.

pub mod csv;
pub mod html;
pub mod input;
pub mod markdown;
pub mod model;
pub mod s3;

pub use input::{InputError, parse_plan};
pub use model::{MergeError, Report, build};

/// The report's output formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReportFormat {
    Html,
    Csv,
    Markdown,
}

impl ReportFormat {
    pub fn render(self, report: &Report) -> String {
        match self {
            ReportFormat::Html => html::html(report),
            ReportFormat::Csv => csv::csv(report),
            ReportFormat::Markdown => markdown::markdown(report),
        }
    }
}
