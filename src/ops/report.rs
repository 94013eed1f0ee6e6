//! `report`: read every input (plan files, folders of them, `s3://` prefixes), parse them all
//! before anything is rendered, and build the report model. A file that is not a plan fails
//! the whole operation, naming it.

use std::path::{Path, PathBuf};

use crate::aws::{ApiCalls, ClientFactory};
use crate::report::s3::{self, S3Prefix};
use crate::report::{self, MergeError, Report, model::PlanInput};

/// Where plan files come from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ReportInput {
    /// A plan file, or a folder whose `*.json` files (not recursively) are plans.
    Path(PathBuf),
    S3(S3Prefix),
}

impl ReportInput {
    /// `s3://BUCKET/PREFIX` or a path.
    pub fn parse(text: &str) -> Self {
        match S3Prefix::parse(text) {
            Some(prefix) => ReportInput::S3(prefix),
            None => ReportInput::Path(PathBuf::from(text)),
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ReportError {
    #[error("{path}: {message}")]
    Read { path: String, message: String },
    #[error("{path}: no plan file (*.json) in this folder")]
    EmptyFolder { path: String },
    #[error(transparent)]
    Input(#[from] report::InputError),
    #[error(transparent)]
    S3(#[from] s3::S3Error),
    #[error("{prefix}: no plan file (*.json) under this prefix")]
    EmptyPrefix { prefix: String },
    #[error(transparent)]
    Merge(#[from] MergeError),
}

/// Reads and parses every input, then builds the report.
pub async fn build_report(inputs: &[ReportInput], calls: &ApiCalls) -> Result<Report, ReportError> {
    let mut plans = Vec::new();
    let mut s3_client = None;
    for input in inputs {
        match input {
            ReportInput::Path(path) => plans.extend(read_path(path)?),
            ReportInput::S3(prefix) => {
                if s3_client.is_none() {
                    s3_client = Some(ClientFactory::new(calls.clone()).await.s3());
                }
                let client = s3_client.as_ref().expect("made above");
                let files = s3::read_plans(client, prefix).await?;
                if files.is_empty() {
                    return Err(ReportError::EmptyPrefix {
                        prefix: format!("s3://{}/{}", prefix.bucket, prefix.prefix),
                    });
                }
                for (url, bytes) in files {
                    plans.push(report::parse_plan(&url, &bytes)?);
                }
            }
        }
    }
    Ok(report::build(plans)?)
}

fn read_path(path: &Path) -> Result<Vec<PlanInput>, ReportError> {
    let failed = |e: std::io::Error| ReportError::Read {
        path: path.display().to_string(),
        message: e.to_string(),
    };
    if !path.is_dir() {
        let bytes = std::fs::read(path).map_err(failed)?;
        return Ok(vec![report::parse_plan(
            &path.display().to_string(),
            &bytes,
        )?]);
    }
    let mut files: Vec<PathBuf> = std::fs::read_dir(path)
        .map_err(failed)?
        .map(|entry| entry.map(|e| e.path()))
        .collect::<Result<_, _>>()
        .map_err(failed)?;
    files.retain(|f| f.is_file() && f.extension().is_some_and(|e| e == "json"));
    files.sort();
    if files.is_empty() {
        return Err(ReportError::EmptyFolder {
            path: path.display().to_string(),
        });
    }
    files
        .iter()
        .map(|f| read_path(f).map(|mut v| v.remove(0)))
        .collect()
}
