//! The flags that narrow a plan to some addresses: `--target` and `--event`, shared by `plan`
//! and `apply`.

use std::path::PathBuf;

use clap::Args;

#[derive(Debug, Args)]
pub struct FocusArgs {
    /// Plan only this address and what is under it, reading only what it needs (repeatable;
    /// globs: 'user.bob*', user.alice, password_policy, cloudtrail)
    #[arg(long = "target", value_name = "ADDRESS")]
    pub targets: Vec<String>,
    /// Plan what these CloudTrail events changed, in the accounts they happened in: EventBridge
    /// events (one, a JSON array, or JSON Lines) or a CloudTrail log file; - reads stdin
    #[arg(long, value_name = "FILE", conflicts_with = "targets")]
    pub event: Option<PathBuf>,
}
