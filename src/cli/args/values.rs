//! Values of flags that need more than clap's own parsers: `--format`, `--shard`, `--as-of`,
//! `--rotate-now`.

use crate::render::Format;

/// `plan --format`: the renderer's [`Format`], as clap parses it.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, clap::ValueEnum)]
pub enum FormatArg {
    /// For a terminal or a CI log.
    #[default]
    Text,
    /// The plan as JSON, the same document a saved plan holds.
    Json,
    /// For a pull-request comment.
    Markdown,
    /// SARIF 2.1.0 for code scanning: each result at the line of the desired state that asked
    /// for it.
    Sarif,
}

impl From<FormatArg> for Format {
    fn from(format: FormatArg) -> Self {
        match format {
            FormatArg::Text => Format::Text,
            FormatArg::Json => Format::Json,
            FormatArg::Markdown => Format::Markdown,
            FormatArg::Sarif => Format::Sarif,
        }
    }
}

/// `plan --group-by`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum GroupBy {
    /// The user's owner (`[users] owner_tag`, `default_owner`).
    Owner,
}

/// `--parallelism`: a number of accounts, or `auto` (see `ops::capacity`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Parallelism {
    Accounts(u16),
    /// As many as the machine's open-file limit and memory allow.
    Auto,
}

impl std::fmt::Display for Parallelism {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Parallelism::Accounts(n) => write!(f, "{n}"),
            Parallelism::Auto => f.write_str("auto"),
        }
    }
}

/// `--parallelism N` (N >= 1) or `--parallelism auto`.
pub(super) fn parse_parallelism(text: &str) -> Result<Parallelism, String> {
    if text == "auto" {
        return Ok(Parallelism::Auto);
    }
    match text.parse::<u16>() {
        Ok(n) if n >= 1 => Ok(Parallelism::Accounts(n)),
        _ => Err(format!(
            "{text:?} is not a number of accounts from 1 to 65535, or auto"
        )),
    }
}

/// `--shard K/N`, with 1 <= K <= N.
pub(super) fn parse_shard(text: &str) -> Result<crate::fleet::Shard, String> {
    text.parse()
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

/// `--rotate-now`: the address of an access key, `user.NAME.access_key.AKID`.
pub(super) fn parse_key_address(text: &str) -> Result<(String, crate::state::AccessKeyId), String> {
    match text.parse::<crate::plan::Address>() {
        Ok(crate::plan::Address::AccessKey { user, key_id }) => Ok((user, key_id)),
        _ => Err(format!(
            "{text:?} is not the address of an access key (user.NAME.access_key.AKID)"
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
