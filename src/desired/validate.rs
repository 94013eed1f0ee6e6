//! Checks a desired-state document beyond what its types say: AWS's ranges, duplicates,
//! contradictions, malformed globs. Every problem is reported, located by its key path
//! (`account[1].users.console.max_unused_days`); `load.rs` turns paths into file positions.

use std::collections::BTreeMap;

use globset::Glob;

use super::model::*;

/// One problem with a desired-state document.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    /// Dotted key path, with `[i]` for array elements.
    pub path: String,
    pub message: String,
}

pub fn validate(doc: &DesiredDoc) -> Vec<Problem> {
    let mut problems = Vec::new();
    let mut report = |path: String, message: String| problems.push(Problem { path, message });
    validate_tables(
        "",
        doc.password_policy.as_ref(),
        doc.users.as_ref(),
        &doc.user,
        &mut report,
    );
    let mut account_names: BTreeMap<&str, usize> = BTreeMap::new();
    for (i, account) in doc.account.iter().enumerate() {
        let at = format!("account[{i}]");
        if account.name.trim().is_empty() {
            report(
                format!("{at}.name"),
                "account name must not be empty".into(),
            );
        }
        if let Some(first) = account_names.insert(&account.name, i) {
            report(
                format!("{at}.name"),
                format!(
                    "duplicate account name {:?} (first at account[{first}])",
                    account.name
                ),
            );
        }
        if account.external_id.is_some() && account.role_arn.is_none() {
            report(
                format!("{at}.external_id"),
                "external_id needs role_arn".into(),
            );
        }
        if let Some(arn) = &account.role_arn {
            if !is_role_arn(arn) {
                report(
                    format!("{at}.role_arn"),
                    format!("{arn:?} is not a role ARN (arn:aws:iam::ACCOUNT_ID:role/NAME)"),
                );
            }
        }
        validate_tables(
            &format!("{at}."),
            account.password_policy.as_ref(),
            account.users.as_ref(),
            &account.user,
            &mut report,
        );
    }
    problems
}

fn is_role_arn(arn: &str) -> bool {
    let parts: Vec<&str> = arn.splitn(6, ':').collect();
    matches!(parts.as_slice(), ["arn", partition, "iam", "", account, resource]
        if partition.starts_with("aws")
            && account.len() == 12
            && account.bytes().all(|b| b.is_ascii_digit())
            && resource.starts_with("role/")
            && resource.len() > "role/".len())
}

fn validate_tables(
    prefix: &str,
    policy: Option<&PasswordPolicySpec>,
    users: Option<&UsersSpec>,
    user: &[UserSpec],
    report: &mut impl FnMut(String, String),
) {
    if let Some(policy) = policy {
        let at = format!("{prefix}password_policy");
        check_range(
            &at,
            "minimum_length",
            policy.minimum_length,
            MINIMUM_LENGTH_RANGE,
            report,
        );
        check_range(
            &at,
            "max_age_days",
            policy.max_age_days,
            MAX_AGE_DAYS_RANGE,
            report,
        );
        check_range(
            &at,
            "reuse_prevention",
            policy.reuse_prevention,
            REUSE_PREVENTION_RANGE,
            report,
        );
        if policy.ensure == Some(Ensure::Absent) {
            let absent_only = PasswordPolicySpec {
                ensure: Some(Ensure::Absent),
                ..Default::default()
            };
            if *policy != absent_only {
                report(
                    format!("{at}.ensure"),
                    "ensure = \"absent\" deletes the policy: no other password_policy field may be set".into(),
                );
            }
        }
    }
    if let Some(users) = users {
        let at = format!("{prefix}users");
        for (i, pattern) in users.exempt.iter().flatten().enumerate() {
            if let Err(err) = Glob::new(pattern) {
                report(
                    format!("{at}.exempt[{i}]"),
                    format!("invalid glob {pattern:?}: {}", err.kind()),
                );
            }
        }
        if let Some(console) = &users.console {
            let at = format!("{at}.console");
            check_range(
                &at,
                "max_unused_days",
                console.max_unused_days,
                DAYS_RANGE,
                report,
            );
            if console
                .on_unused
                .is_some_and(|a| a != OnUnusedConsole::Report)
                && console.max_unused_days.is_none()
            {
                report(
                    format!("{at}.on_unused"),
                    "on_unused needs max_unused_days".into(),
                );
            }
        }
        if let Some(keys) = &users.access_keys {
            let at = format!("{at}.access_keys");
            check_range(&at, "max_age_days", keys.max_age_days, DAYS_RANGE, report);
            check_range(
                &at,
                "max_unused_days",
                keys.max_unused_days,
                DAYS_RANGE,
                report,
            );
            check_range(
                &at,
                "max_active",
                keys.max_active,
                MAX_ACTIVE_KEYS_RANGE,
                report,
            );
            if keys.on_expired.is_some_and(|a| a != KeyAction::Report)
                && keys.max_age_days.is_none()
            {
                report(
                    format!("{at}.on_expired"),
                    "on_expired needs max_age_days".into(),
                );
            }
            if keys.on_unused.is_some_and(|a| a != KeyAction::Report)
                && keys.max_unused_days.is_none()
            {
                report(
                    format!("{at}.on_unused"),
                    "on_unused needs max_unused_days".into(),
                );
            }
        }
    }
    let mut names: BTreeMap<&str, usize> = BTreeMap::new();
    for (i, spec) in user.iter().enumerate() {
        let at = format!("{prefix}user[{i}]");
        if !is_iam_user_name(&spec.name) {
            report(
                format!("{at}.name"),
                format!(
                    "{:?} is not a valid IAM user name (1-64 of A-Z a-z 0-9 +=,.@_-)",
                    spec.name
                ),
            );
        }
        if let Some(first) = names.insert(&spec.name, i) {
            report(
                format!("{at}.name"),
                format!(
                    "duplicate user {:?} (first at {prefix}user[{first}])",
                    spec.name
                ),
            );
        }
        if spec.console == Some(false) && spec.password_reset_required == Some(true) {
            report(
                format!("{at}.password_reset_required"),
                "password_reset_required = true needs a login profile, but console = false deletes it".into(),
            );
        }
    }
}

/// IAM's user-name pattern: `[\w+=,.@-]+`, 1 to 64 characters.
fn is_iam_user_name(name: &str) -> bool {
    (1..=64).contains(&name.len())
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"+=,.@_-".contains(&b))
}

fn check_range(
    table: &str,
    key: &str,
    value: Option<i64>,
    (min, max): (i64, i64),
    report: &mut impl FnMut(String, String),
) {
    if let Some(value) = value {
        if !(min..=max).contains(&value) {
            report(
                format!("{table}.{key}"),
                format!("{key} must be between {min} and {max}, got {value}"),
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn paths(doc: &DesiredDoc) -> Vec<String> {
        validate(doc).into_iter().map(|p| p.path).collect()
    }

    #[test]
    fn a_valid_document_has_no_problems() {
        let doc = DesiredDoc {
            password_policy: Some(PasswordPolicySpec {
                minimum_length: Some(14),
                ..Default::default()
            }),
            user: vec![UserSpec {
                name: "alice".into(),
                console: Some(true),
                ..Default::default()
            }],
            ..Default::default()
        };
        assert_eq!(validate(&doc), vec![]);
    }

    #[test]
    fn every_out_of_range_value_is_reported_with_its_path() {
        let doc = DesiredDoc {
            password_policy: Some(PasswordPolicySpec {
                minimum_length: Some(5),
                max_age_days: Some(1096),
                reuse_prevention: Some(0),
                ..Default::default()
            }),
            users: Some(UsersSpec {
                access_keys: Some(AccessKeysSpec {
                    max_active: Some(3),
                    ..Default::default()
                }),
                ..Default::default()
            }),
            ..Default::default()
        };
        assert_eq!(
            paths(&doc),
            [
                "password_policy.minimum_length",
                "password_policy.max_age_days",
                "password_policy.reuse_prevention",
                "users.access_keys.max_active",
            ]
        );
    }

    #[test]
    fn duplicates_and_contradictions_are_reported() {
        let account = |name: &str| AccountSpec {
            name: name.into(),
            ..Default::default()
        };
        let doc = DesiredDoc {
            password_policy: Some(PasswordPolicySpec {
                ensure: Some(Ensure::Absent),
                minimum_length: Some(8),
                ..Default::default()
            }),
            user: vec![
                UserSpec {
                    name: "bob".into(),
                    ..Default::default()
                },
                UserSpec {
                    name: "bob".into(),
                    console: Some(false),
                    password_reset_required: Some(true),
                },
            ],
            account: vec![
                account("prod"),
                AccountSpec {
                    role_arn: Some("arn:aws:iam::1:role/x".into()),
                    ..account("prod")
                },
            ],
            ..Default::default()
        };
        assert_eq!(
            paths(&doc),
            [
                "password_policy.ensure",
                "user[1].name",
                "user[1].password_reset_required",
                "account[1].name",
                "account[1].role_arn",
            ]
        );
    }

    #[test]
    fn malformed_globs_and_user_names_are_reported() {
        let doc = DesiredDoc {
            users: Some(UsersSpec {
                exempt: Some(vec!["ok-*".into(), "bad-[".into()]),
                ..Default::default()
            }),
            user: vec![UserSpec {
                name: "no spaces".into(),
                ..Default::default()
            }],
            ..Default::default()
        };
        assert_eq!(paths(&doc), ["users.exempt[1]", "user[0].name"]);
    }
}
