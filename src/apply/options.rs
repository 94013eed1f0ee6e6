//! How to apply one account's plan: the options `apply` and its executor read.

use std::path::PathBuf;

use crate::state::{Caller, PasswordPolicy};

/// How to apply one account's plan.
#[derive(Debug, Clone, Default)]
pub struct ApplyOptions {
    /// Where generated console passwords are written (`<dir>/<user>.password`, mode 0600).
    /// Without it, creating a login profile fails and creates nothing.
    pub secrets_dir: Option<PathBuf>,
    /// Who iamctl is signed in as in this account: its key and login profile are left alone.
    pub caller: Option<Caller>,
    /// The password policy in force after this apply (the planned one if the plan sets it,
    /// else the live one); `None`: IAM's default. Generated passwords satisfy it.
    pub password_policy: Option<PasswordPolicy>,
    /// How many changes of the account run at once (0 counts as 1).
    pub concurrency: usize,
}
