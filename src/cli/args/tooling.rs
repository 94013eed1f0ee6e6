//! The flags of the commands other than `plan`, `apply` and `watch`: `snapshot`, `import`,
//! `permissions`, `controls`, `completions`, `man`.

use std::path::PathBuf;

use clap::Args;

use super::AsOfArg;

#[derive(Debug, Args)]
pub struct SnapshotArgs {
    /// The JSON file to write
    #[arg(short, long, value_name = "FILE")]
    pub out: PathBuf,
}

#[derive(Debug, Args)]
pub struct ImportArgs {
    /// Write the TOML to this file (folders created as needed) instead of stdout
    #[arg(short, long, value_name = "FILE")]
    pub out: Option<PathBuf>,
    /// Describe an account of a snapshot file instead of reading AWS (offline)
    #[arg(long, value_name = "FILE")]
    pub snapshot: Option<PathBuf>,
    #[command(flatten)]
    pub as_of: AsOfArg,
}

#[derive(Debug, Args)]
pub struct PermissionsArgs {
    /// The policy `apply` needs (reads and writes) instead of the read-only one
    #[arg(long)]
    pub apply: bool,
    /// The policy of the identity iamctl starts from, to reach the targets of the desired
    /// state (-c): sts:AssumeRole on their roles, organizations:ListAccounts for an
    /// [organization]. Prints nothing when no role is declared
    #[arg(long, conflicts_with = "apply")]
    pub base: bool,
    /// Also what --security-hub needs (on plan and apply): securityhub:GetFindings and
    /// securityhub:BatchImportFindings in each target account
    #[arg(long, conflicts_with = "base")]
    pub security_hub: bool,
    /// The AWS partition the policy's ARNs name
    #[arg(long, value_name = "PARTITION", default_value = "aws", value_parser = ["aws", "aws-cn", "aws-us-gov"])]
    pub partition: String,
}

#[derive(Debug, Args)]
pub struct ControlsArgs {
    /// Output format
    #[arg(long, value_enum, default_value_t = ControlsFormat::Text)]
    pub format: ControlsFormat,
}

/// `controls --format`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, clap::ValueEnum)]
pub enum ControlsFormat {
    /// An aligned table.
    #[default]
    Text,
    /// For programs.
    Json,
    /// A markdown table.
    Markdown,
}

#[derive(Debug, Args)]
pub struct CompletionsArgs {
    /// The shell to complete in
    #[arg(value_enum)]
    pub shell: clap_complete::Shell,
}

#[derive(Debug, Args)]
pub struct ManArgs {
    /// Write iamctl.1, iamctl-plan.1, ... into this folder instead of printing iamctl.1
    #[arg(long, value_name = "DIR")]
    pub out_dir: Option<PathBuf>,
}
