//! The SDK's timestamps as the state's: every read of `live/` converts through here.

use chrono::{DateTime, Utc};

/// IAM timestamps have whole-second precision; emulators add fractions. Truncating keeps
/// snapshots and plans identical whichever produced them.
pub(crate) fn to_utc(t: &aws_smithy_types::DateTime) -> DateTime<Utc> {
    DateTime::from_timestamp(t.secs(), 0).unwrap_or_default()
}
