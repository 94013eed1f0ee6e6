//! `iamctl watch`'s flags.

use clap::Args;

#[derive(Debug, Args)]
pub struct WatchArgs {
    /// The SQS queue an EventBridge rule feeds (see `iamctl events-pattern`)
    #[arg(long, value_name = "URL")]
    pub queue_url: String,
    /// Plan each batch and report it; change nothing and delete no message
    #[arg(long)]
    pub dry_run: bool,
    /// Exit once the queue is empty (for a scheduled job, or tests)
    #[arg(long)]
    pub until_idle: bool,
    /// Seconds each receive waits for messages (SQS long polling)
    #[arg(long, default_value_t = 20, value_name = "SECONDS", value_parser = clap::value_parser!(i32).range(0..=20))]
    pub wait_seconds: i32,
    /// Messages received at once, reconciled together
    #[arg(long, default_value_t = 10, value_name = "N", value_parser = clap::value_parser!(i32).range(1..=10))]
    pub batch_size: i32,
    #[command(flatten)]
    pub changing: super::ChangingArgs,
}
