//! The command line: flags and subcommands (clap). The commands in `cli/` turn these into
//! calls of the library; nothing below `cli/` sees clap.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

mod focus;
mod tooling;
mod values;
mod watch;

use crate::ops::{DEFAULT_CONCURRENCY, DEFAULT_PARALLELISM};
use crate::state::AccessKeyId;
pub use focus::FocusArgs;
pub use tooling::{
    CompletionsArgs, ControlsArgs, ControlsFormat, ImportArgs, ManArgs, PermissionsArgs,
    SnapshotArgs,
};
pub use values::{FormatArg, GroupBy, Parallelism, parse_as_of};
use values::{parse_key_address, parse_parallelism, parse_shard};
pub use watch::WatchArgs;

#[derive(Debug, Parser)]
#[command(
    name = "iamctl",
    version,
    about = "Keep the IAM hygiene of AWS accounts equal to a declarative TOML file",
    long_about = "Keep the IAM hygiene of one or many AWS accounts equal to a declarative TOML file.\n\n\
                  `plan` reads live IAM and shows what differs and what would be done; `apply` does it.",
    after_help = "Examples:\n  iamctl validate -c desired/\n  iamctl plan -c desired/ --format markdown\n  iamctl plan -o prod.plan.json && iamctl apply prod.plan.json\n  iamctl plan -c examples/desired --snapshot examples/snapshot.json   # offline\n  iamctl import -o desired/iam.toml   # adopt an account: start from what it already meets"
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
    /// Accounts read or changed at the same time; `auto`: as many as the machine's open-file
    /// limit and memory allow, for --concurrency calls each
    #[arg(long, global = true, default_value_t = Parallelism::Accounts(DEFAULT_PARALLELISM), value_name = "N|auto", value_parser = parse_parallelism)]
    pub parallelism: Parallelism,
    /// API calls in flight at the same time within one account
    #[arg(long, global = true, default_value_t = DEFAULT_CONCURRENCY, value_name = "N", value_parser = clap::value_parser!(u16).range(1..))]
    pub concurrency: u16,
    /// Only part K of N of the selected targets (sorted by name, dealt round-robin), so N
    /// runners cover a fleet together, each account exactly once. Example: --shard 2/4
    #[arg(long, global = true, value_name = "K/N", value_parser = parse_shard)]
    pub shard: Option<crate::fleet::Shard>,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Read desired and live state of every target and print the plan
    #[command(
        after_help = "Examples:\n  iamctl plan\n  iamctl plan -a 'prod-*' --format markdown > plan.md\n  iamctl plan -o plan.json --detailed-exitcode\n  iamctl plan --snapshot snapshot.json --as-of 2027-01-01   # what falls due\n  iamctl plan --explain                  # who made each drift, from CloudTrail\n  iamctl plan --events cloudtrail/       # the same from CloudTrail log files\n  iamctl plan --format sarif > iamctl.sarif   # for GitHub code scanning\n  iamctl plan --security-hub             # changes and findings into AWS Security Hub"
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
    /// Print a desired-state TOML that the live state of one account already satisfies
    #[command(
        long_about = "Print a desired-state TOML that the live state of one account already satisfies: \
                      the adoption path. It holds the account's exact password policy, the user rules \
                      the account meets today (with a week to spare), and every other rule commented \
                      out with what `plan` would report or change. `iamctl plan` right after shows no \
                      change; tighten from there, one rule at a time.\n\n\
                      When the desired state (-c, default desired/) does not exist, it reads the \
                      account of the ambient credentials; otherwise the one target that -a selects \
                      (its role_arn, profile and name go into the output). It needs the read-only \
                      permissions that `iamctl permissions` prints.",
        after_help = "Examples:\n  iamctl import -o desired/iam.toml && iamctl plan --detailed-exitcode   # exits 0\n  iamctl import -c desired/ -a staging > staging.toml\n  iamctl import --snapshot snapshot.json -a prod   # offline"
    )]
    Import(ImportArgs),
    /// Print the least-privilege IAM policy (JSON) for plan, or with --apply for apply
    #[command(
        long_about = "Print the least-privilege IAM policy document (JSON) that iamctl needs in each \
                      target account: by default the read-only one for `plan`, `snapshot` and \
                      `import`; with --apply the one for `apply` (the reads, and the writes scoped to \
                      users and to the iamctl-deny-without-mfa policy). The lists are generated from \
                      the calls the code makes and checked by the test suite. \
                      sts:GetCallerIdentity needs no permission.\n\n\
                      With --base, the policy of the identity iamctl starts from (CI's role or a \
                      profile) when it reaches the targets through roles: it reads the desired state \
                      (-c, default desired/; -a narrows the [[account]] entries) without calling AWS \
                      and grants sts:AssumeRole on every [[account]] role_arn and, for an \
                      [organization], on its role_name in any account (arn:PARTITION:iam::*:role/NAME, \
                      the accounts being listed at run time) plus organizations:ListAccounts. An \
                      external_id needs nothing more. When the desired state declares no role to \
                      assume (no role_arn, no [organization]), the base identity is the target's own \
                      and needs nothing beyond the policy above: --base then prints nothing on \
                      stdout, says so on stderr and exits 0. An invalid desired state exits 1, as \
                      with `validate`.\n\n\
                      With --security-hub (alone or with --apply), the policy also grants what \
                      `plan --security-hub` and `apply --security-hub` call in each target: \
                      securityhub:GetFindings and securityhub:BatchImportFindings.",
        after_help = "Examples:\n  iamctl permissions > iamctl-plan-policy.json\n  iamctl permissions --apply > iamctl-apply-policy.json\n  iamctl permissions --security-hub > iamctl-plan-policy.json   # plan --security-hub\n  iamctl permissions --base -c desired/ > iamctl-base-policy.json   # multi-account: the starting identity\n  aws iam put-role-policy --role-name iamctl-plan --policy-name iamctl-plan --policy-document file://iamctl-plan-policy.json"
    )]
    Permissions(PermissionsArgs),
    /// Print which CIS AWS Foundations Benchmark controls iamctl's rules cover, and why the
    /// others are not
    #[command(
        long_about = "Print the IAM controls (section 1) and CloudTrail's 3.1 of the CIS AWS \
                      Foundations Benchmark v3.0.0, with their v5.0.0 numbers: which rule of the \
                      desired state covers each, and why the others are not covered. Every change \
                      and finding of a plan carries its rule's controls (`controls` in JSON, a CIS \
                      column in markdown, tags in SARIF).",
        after_help = "Examples:\n  iamctl controls\n  iamctl controls --format markdown > CIS.md\n  iamctl controls --format json | jq '.controls[] | select(.rules == [])'"
    )]
    Controls(ControlsArgs),
    /// Reconcile the events an EventBridge rule sends to an SQS queue, batch by batch
    #[command(
        after_help = "Examples:\n  iamctl watch --queue-url https://sqs.us-east-1.amazonaws.com/111111111111/iamctl-events\n  iamctl watch --queue-url URL --dry-run --until-idle"
    )]
    Watch(WatchArgs),
    /// Print the EventBridge rule pattern for the CloudTrail events iamctl reacts to
    #[command(
        after_help = "Example:\n  iamctl events-pattern > pattern.json   # then: aws events put-rule --region us-east-1 --name iamctl --event-pattern file://pattern.json"
    )]
    EventsPattern,
    /// Put plan files of many shards and runs together into one posture report
    #[command(
        long_about = "Put plan files (as `plan -o` or `plan --format json` write them) together into \
                      one posture report. INPUTs are plan files, folders of them (a history), or \
                      s3://BUCKET/PREFIX/ (every *.json object under it, read with the ambient \
                      credentials: s3:ListBucket and s3:GetObject). Plans of one run merge into one \
                      fleet: the same `plan --run-id`, or shards of one day over disjoint accounts. \
                      Plans of different runs are the history, ordered by as_of; each item is \
                      identified across runs by account, address and rule, and is new, open or \
                      fixed.\n\n\
                      html (default): one self-contained file that loads nothing from any network; \
                      csv: one row per item and run; markdown: the executive summary. A file that \
                      is not a plan exits 1, naming it, and nothing is written.",
        after_help = "Examples:\n  iamctl report plans/ -o report.html\n  iamctl report shard-*.json --format markdown > summary.md\n  iamctl report s3://my-bucket/iamctl/plans/ --format csv -o items.csv"
    )]
    Report(ReportArgs),
    /// Print a shell completion script (bash, zsh, fish, elvish, powershell)
    #[command(
        after_help = "Examples:\n  iamctl completions bash > ~/.local/share/bash-completion/completions/iamctl\n  iamctl completions zsh > ~/.zfunc/_iamctl   # with fpath+=(~/.zfunc) in ~/.zshrc\n  iamctl completions fish > ~/.config/fish/completions/iamctl.fish"
    )]
    Completions(CompletionsArgs),
    /// Print the man page (roff), or write one page per command into a folder
    #[command(
        after_help = "Examples:\n  iamctl man > iamctl.1 && man ./iamctl.1\n  iamctl man --out-dir /usr/local/share/man/man1"
    )]
    Man(ManArgs),
}

#[derive(Debug, Args)]
pub struct PlanArgs {
    /// Output format
    #[arg(long, value_enum, default_value_t = FormatArg::Text)]
    pub format: FormatArg,
    /// Group each account's items by who answers for them (`[users] owner_tag`), in text and
    /// markdown
    #[arg(long, value_enum, value_name = "KEY")]
    pub group_by: Option<GroupBy>,
    /// Publish what is due soon to each owner (`[notify] sns_topic_arn`)
    #[arg(long)]
    pub notify: bool,
    /// Import the plan's changes and findings into each target's AWS Security Hub (its region),
    /// and resolve the ones no longer found
    #[arg(long)]
    pub security_hub: bool,
    /// Also save the plan (JSON) for `iamctl apply FILE`
    #[arg(short, long, value_name = "FILE")]
    pub out: Option<PathBuf>,
    /// Record this run id in the plan (JSON), so that `iamctl report` merges the plans of one
    /// run's shards into one fleet (e.g. the CI run's id)
    #[arg(long, value_name = "ID")]
    pub run_id: Option<String>,
    /// Exit 2 when the plan holds changes, 0 when it holds none
    #[arg(long)]
    pub detailed_exitcode: bool,
    /// Exit 2 when there are findings
    #[arg(long)]
    pub fail_on_findings: bool,
    /// Plan against a snapshot file instead of AWS (offline, no credentials needed)
    #[arg(long, value_name = "FILE", conflicts_with = "event")]
    pub snapshot: Option<PathBuf>,
    #[command(flatten)]
    pub focus: FocusArgs,
    #[command(flatten)]
    pub as_of: AsOfArg,
    /// Show who last changed each drifted item, and when, from CloudTrail (LookupEvents;
    /// needs cloudtrail:LookupEvents)
    #[arg(long)]
    pub explain: bool,
    /// CloudTrail events to explain with instead of LookupEvents: log files as delivered to
    /// S3 (also .json.gz, or a folder of them) or EventBridge events; repeatable; implies
    /// --explain
    #[arg(long = "events", value_name = "FILE")]
    pub events: Vec<PathBuf>,
}

#[derive(Debug, Args)]
pub struct ReportArgs {
    /// Plan files, folders of them, or s3://BUCKET/PREFIX/
    #[arg(value_name = "INPUT", required = true)]
    pub inputs: Vec<String>,
    /// Write the report to this file instead of stdout
    #[arg(short, long, value_name = "FILE")]
    pub out: Option<PathBuf>,
    /// Output format
    #[arg(long, value_enum, default_value_t = ReportFormatArg::Html)]
    pub format: ReportFormatArg,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ReportFormatArg {
    Html,
    Csv,
    Markdown,
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
    #[arg(value_name = "PLANFILE", conflicts_with_all = ["targets", "event"])]
    pub plan_file: Option<PathBuf>,
    #[command(flatten)]
    pub focus: FocusArgs,
    /// Do not ask for confirmation (required when stdin is not a terminal)
    #[arg(long)]
    pub auto_approve: bool,
    #[command(flatten)]
    pub changing: ChangingArgs,
    /// Rotate this access key now, whatever its age (user.NAME.access_key.AKID; repeatable):
    /// needs [users.access_keys.rotation]; refused for exempt users and iamctl's own key
    #[arg(long, value_name = "ADDRESS", value_parser = parse_key_address, conflicts_with = "plan_file")]
    pub rotate_now: Vec<(String, AccessKeyId)>,
    /// Afterwards, import what is still to do and the findings into each target's AWS Security
    /// Hub, and resolve what apply fixed
    #[arg(long)]
    pub security_hub: bool,
}

/// What every command that changes IAM takes (`apply`, `watch`): a bound, and where what it
/// made is written.
#[derive(Debug, Args)]
pub struct ChangingArgs {
    /// Refuse, changing nothing, when a plan holds more than N changes (`watch`: that batch,
    /// whose messages come back)
    #[arg(long, value_name = "N")]
    pub max_changes: Option<usize>,
    /// Where generated console passwords are written, one file per user, mode 0600
    #[arg(long, value_name = "DIR")]
    pub secrets_dir: Option<PathBuf>,
    /// Append one JSON line per change attempted, with its outcome
    #[arg(long, value_name = "FILE")]
    pub audit_log: Option<PathBuf>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn the_command_line_definition_is_consistent() {
        Cli::command().debug_assert();
    }
}
