//! The command line: flags and subcommands (clap). The commands in `cli/` turn these into
//! calls of the library; nothing below `cli/` sees clap.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

use crate::render::Format;

#[derive(Debug, Parser)]
#[command(
    name = "iamctl",
    version,
    about = "Keep the IAM hygiene of AWS accounts equal to a declarative TOML file",
    long_about = "Keep the IAM hygiene of one or many AWS accounts equal to a declarative TOML file.\n\n\
                  `plan` reads live IAM and shows what differs and what would be done; `apply` does it.",
    after_help = "Examples:\n  iamctl validate -c desired/\n  iamctl plan -c desired/ --format markdown\n  iamctl plan -o prod.plan.json && iamctl apply prod.plan.json\n  iamctl plan -c examples/desired --snapshot examples/snapshot.json   # offline"
)]
pub struct Cli {
    #[command(flatten)]
    pub global: GlobalArgs,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Args)]
pub struct GlobalArgs {
    /// Desired state: a TOML file, or a folder whose *.toml files are merged
    #[arg(
        short = 'c',
        long = "config",
        global = true,
        default_value = "desired",
        value_name = "PATH"
    )]
    pub config: PathBuf,
    /// Only these targets (name or glob; repeatable). Default: every target
    #[arg(short = 'a', long = "account", global = true, value_name = "NAME")]
    pub accounts: Vec<String>,
    /// No colour in the output (also: the NO_COLOR environment variable)
    #[arg(long, global = true)]
    pub no_color: bool,
    /// More detail on stderr: what is read, API call counts (-vv: SDK debug logs)
    #[arg(short, long, global = true, action = clap::ArgAction::Count, conflicts_with = "quiet")]
    pub verbose: u8,
    /// Only errors on stderr
    #[arg(short, long, global = true)]
    pub quiet: bool,
    /// Accounts read or changed at the same time
    #[arg(long, global = true, default_value_t = 8, value_name = "N", value_parser = clap::value_parser!(u16).range(1..))]
    pub parallelism: u16,
    /// API calls in flight at the same time within one account
    #[arg(long, global = true, default_value_t = 8, value_name = "N", value_parser = clap::value_parser!(u16).range(1..))]
    pub concurrency: u16,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Read desired and live state of every target and print the plan
    #[command(
        after_help = "Examples:\n  iamctl plan\n  iamctl plan -a 'prod-*' --format markdown > plan.md\n  iamctl plan -o plan.json --detailed-exitcode\n  iamctl plan --snapshot snapshot.json --as-of 2027-01-01   # what falls due"
    )]
    Plan(PlanArgs),
    /// Carry out a plan: a fresh one (after confirmation) or a saved one
    #[command(
        after_help = "Examples:\n  iamctl apply                      # shows the plan, asks for 'yes'\n  iamctl apply plan.json            # refuses if live state moved since\n  iamctl apply --auto-approve --max-changes 50 --audit-log audit.jsonl"
    )]
    Apply(ApplyArgs),
    /// Parse and check the desired state; makes no AWS call
    #[command(after_help = "Example:\n  iamctl validate -c desired/")]
    Validate,
    /// Write the live state of the targets to a JSON file (no secrets in it)
    #[command(
        after_help = "Example:\n  iamctl snapshot -o snapshot.json && iamctl plan --snapshot snapshot.json"
    )]
    Snapshot(SnapshotArgs),
    /// Print the JSON Schema of the desired-state file (for editors such as Taplo)
    #[command(
        after_help = "Example:\n  iamctl schema > iamctl.schema.json   # then: #:schema ./iamctl.schema.json"
    )]
    Schema,
}

#[derive(Debug, Args)]
pub struct PlanArgs {
    /// Output format
    #[arg(long, value_enum, default_value_t = Format::Text)]
    pub format: Format,
    /// Also save the plan (JSON) for `iamctl apply FILE`
    #[arg(short, long, value_name = "FILE")]
    pub out: Option<PathBuf>,
    /// Exit 2 when the plan holds changes, 0 when it holds none
    #[arg(long)]
    pub detailed_exitcode: bool,
    /// Exit 2 when there are findings
    #[arg(long)]
    pub fail_on_findings: bool,
    /// Plan against a snapshot file instead of AWS (offline, no credentials needed)
    #[arg(long, value_name = "FILE")]
    pub snapshot: Option<PathBuf>,
    #[command(flatten)]
    pub as_of: AsOfArg,
}

#[derive(Debug, Args)]
pub struct AsOfArg {
    /// Evaluate every age as of this date (RFC 3339 or YYYY-MM-DD) instead of now
    #[arg(long, value_name = "DATE", value_parser = parse_as_of)]
    pub as_of: Option<chrono::DateTime<chrono::Utc>>,
}

#[derive(Debug, Args)]
pub struct ApplyArgs {
    /// A plan saved with `plan -o`; refused when live state no longer gives the same plan
    #[arg(value_name = "PLANFILE")]
    pub plan_file: Option<PathBuf>,
    /// Do not ask for confirmation (required when stdin is not a terminal)
    #[arg(long)]
    pub auto_approve: bool,
    /// Refuse, changing nothing, when the plan holds more than N changes
    #[arg(long, value_name = "N")]
    pub max_changes: Option<usize>,
    /// Where generated console passwords are written, one file per user, mode 0600
    #[arg(long, value_name = "DIR")]
    pub secrets_dir: Option<PathBuf>,
    /// Append one JSON line per change attempted, with its outcome
    #[arg(long, value_name = "FILE")]
    pub audit_log: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct SnapshotArgs {
    /// The JSON file to write
    #[arg(short, long, value_name = "FILE")]
    pub out: PathBuf,
}

/// `--as-of`: RFC 3339, or a bare date meaning its midnight UTC.
pub fn parse_as_of(text: &str) -> Result<chrono::DateTime<chrono::Utc>, String> {
    if let Ok(at) = chrono::DateTime::parse_from_rfc3339(text) {
        return Ok(at.with_timezone(&chrono::Utc));
    }
    chrono::NaiveDate::parse_from_str(text, "%Y-%m-%d")
        .map(|date| {
            date.and_hms_opt(0, 0, 0)
                .expect("midnight exists")
                .and_utc()
        })
        .map_err(|_| format!("{text:?} is neither an RFC 3339 time nor a YYYY-MM-DD date"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn the_command_line_definition_is_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn as_of_accepts_dates_and_times() {
        assert_eq!(
            parse_as_of("2027-01-02").unwrap().to_rfc3339(),
            "2027-01-02T00:00:00+00:00"
        );
        assert_eq!(
            parse_as_of("2027-01-02T03:04:05+01:00")
                .unwrap()
                .to_rfc3339(),
            "2027-01-02T02:04:05+00:00"
        );
        assert!(parse_as_of("next tuesday").is_err());
    }
}
