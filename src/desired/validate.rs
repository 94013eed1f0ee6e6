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
    validate_audit("", doc.audit.as_ref(), &mut report);
    validate_root("", doc.root.as_ref(), &mut report);
    validate_server_certificates("", doc.server_certificates.as_ref(), &mut report);
    validate_rotation(doc, &mut report);
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
                    "duplicate account name {} (first at account[{first}])",
                    shown(&account.name)
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
                    format!(
                        "{} is not a role ARN (arn:aws:iam::ACCOUNT_ID:role/NAME)",
                        shown(arn)
                    ),
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
        validate_audit(&format!("{at}."), account.audit.as_ref(), &mut report);
        validate_root(&format!("{at}."), account.root.as_ref(), &mut report);
        validate_server_certificates(
            &format!("{at}."),
            account.server_certificates.as_ref(),
            &mut report,
        );
    }
    if let Some(org) = &doc.organization {
        validate_organization(org, &mut report);
    }
    if let Some(arn) = doc.notify.as_ref().and_then(|n| n.sns_topic_arn.as_ref()) {
        let parts: Vec<&str> = arn.split(':').collect();
        if parts.len() != 6 || parts[0] != "arn" || parts[2] != "sns" || parts[5].is_empty() {
            report(
                "notify.sns_topic_arn".into(),
                format!(
                    "{} is not an SNS topic ARN (arn:aws:sns:REGION:ACCOUNT_ID:NAME)",
                    shown(arn)
                ),
            );
        }
    }
    problems
}

/// Settings that are valid but probably not what was meant; `validate` prints them as
/// warnings and they never stop a run.
pub fn warnings(doc: &DesiredDoc) -> Vec<Problem> {
    let mut warnings = Vec::new();
    let tables = std::iter::once(("users.access_keys".to_owned(), doc.users.as_ref())).chain(
        doc.account.iter().enumerate().map(|(i, account)| {
            (
                format!("account[{i}].users.access_keys"),
                account.users.as_ref(),
            )
        }),
    );
    for (at, users) in tables {
        let prefix = at.trim_end_matches("access_keys");
        if let Some(creds) = users.and_then(|u| u.service_credentials.as_ref()) {
            let deactivates = [creds.on_expired, creds.on_forbidden_service]
                .contains(&Some(KeyAction::Deactivate));
            warn_no_grace(
                &mut warnings,
                format!("{prefix}service_credentials"),
                "credentials",
                deactivates && creds.delete_inactive == Some(true),
                creds.delete_inactive_after_days,
            );
        }
        if let Some(ssh) = users.and_then(|u| u.ssh_keys.as_ref()) {
            warn_no_grace(
                &mut warnings,
                format!("{prefix}ssh_keys"),
                "credentials",
                ssh.on_expired == Some(KeyAction::Deactivate) && ssh.delete_inactive == Some(true),
                ssh.delete_inactive_after_days,
            );
        }
        if let Some(keys) = users.and_then(|u| u.access_keys.as_ref()) {
            let deactivates =
                [keys.on_expired, keys.on_unused].contains(&Some(KeyAction::Deactivate));
            warn_no_grace(
                &mut warnings,
                at,
                "keys",
                deactivates && keys.delete_inactive == Some(true),
                keys.delete_inactive_after_days,
            );
        }
    }
    warnings
}

/// A table that deactivates and deletes what is inactive with no grace: the next run deletes
/// what this one deactivated (`what`: the table's credentials, as the warning names them).
fn warn_no_grace(
    warnings: &mut Vec<Problem>,
    at: String,
    what: &str,
    deactivates: bool,
    grace: Option<i64>,
) {
    if deactivates && grace.unwrap_or(0) == 0 {
        warnings.push(Problem {
            path: format!("{at}.delete_inactive_after_days"),
            message: format!(
                "{what} that apply deactivates are deleted by the next run: \
                 delete_inactive with no grace leaves no time to undo a deactivation; \
                 set delete_inactive_after_days"
            ),
        });
    }
}

/// `on_expired = "rotate"` needs a rotation table, in the target's tables as resolved: the
/// top-level ones, and each `[[account]]`'s laid over them when it sets either.
fn validate_rotation(doc: &DesiredDoc, report: &mut impl FnMut(String, String)) {
    use super::rules::Overlay;
    let top = doc.users.as_ref().and_then(|u| u.access_keys.clone());
    let mut check = |at: String, keys: Option<AccessKeysSpec>| {
        if let Some(keys) = keys {
            if keys.on_expired == Some(KeyAction::Rotate) && keys.rotation.is_none() {
                report(
                    format!("{at}.on_expired"),
                    "on_expired = \"rotate\" needs a [users.access_keys.rotation] table: the \
                     secret that receives the new key"
                        .into(),
                );
            }
        }
    };
    check("users.access_keys".into(), top.clone());
    for (i, account) in doc.account.iter().enumerate() {
        let own = account.users.as_ref().and_then(|u| u.access_keys.clone());
        if own
            .as_ref()
            .is_some_and(|k| k.on_expired.is_some() || k.rotation.is_some())
        {
            check(
                format!("account[{i}].users.access_keys"),
                top.clone().overlay(own),
            );
        }
    }
}

/// The characters of a Secrets Manager secret name.
fn is_secret_name_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || "/_+=.@-".contains(c)
}

/// What is wrong with a `secret_name` template: placeholders are `{account}`,
/// `{account_id}` and `{user}` (which must be there: each user gets a secret of its own),
/// the rest are characters Secrets Manager allows in a name.
pub fn secret_name_problems(template: &str) -> Vec<String> {
    let mut problems = Vec::new();
    let mut rest = template;
    let mut has_user = false;
    while !rest.is_empty() {
        match rest.find(['{', '}']) {
            Some(i) if rest[i..].starts_with('{') => {
                let literal = &rest[..i];
                if let Some(c) = literal.chars().find(|c| !is_secret_name_char(*c)) {
                    problems.push(format!("{c:?} cannot be part of a Secrets Manager secret name (letters, digits and /_+=.@- only)"));
                }
                let Some(end) = rest[i..].find('}') else {
                    problems.push("a { is not closed".into());
                    break;
                };
                let name = &rest[i + 1..i + end];
                if name == "user" {
                    has_user = true;
                }
                if !SECRET_NAME_PLACEHOLDERS.contains(&name) {
                    problems.push(format!(
                        "unknown placeholder {{{name}}} (known: {{account}}, {{account_id}}, {{user}})"
                    ));
                }
                rest = &rest[i + end + 1..];
            }
            Some(_) => {
                problems.push("a } closes nothing".into());
                break;
            }
            None => {
                if let Some(c) = rest.chars().find(|c| !is_secret_name_char(*c)) {
                    problems.push(format!("{c:?} cannot be part of a Secrets Manager secret name (letters, digits and /_+=.@- only)"));
                }
                break;
            }
        }
    }
    if !has_user && problems.is_empty() {
        problems.push("the name needs {user}: each user's key goes to a secret of its own".into());
    }
    problems
}

fn validate_rotation_table(
    at: &str,
    rotation: &RotationSpec,
    report: &mut impl FnMut(String, String),
) {
    if let Some(template) = &rotation.secret_name {
        for problem in secret_name_problems(template) {
            report(
                format!("{at}.secret_name"),
                format!("secret_name {}: {problem}", shown(template)),
            );
        }
    }
    check_range(
        at,
        "overlap_days",
        rotation.overlap_days,
        DAYS_RANGE,
        report,
    );
    if rotation
        .kms_key_id
        .as_deref()
        .is_some_and(|k| k.trim().is_empty())
    {
        report(
            format!("{at}.kms_key_id"),
            "kms_key_id must not be empty".into(),
        );
    }
    for (i, reader) in rotation.readers.iter().flatten().enumerate() {
        if !is_principal_arn(reader) {
            report(
                format!("{at}.readers[{i}]"),
                format!(
                    "{} is not an IAM role or user ARN (arn:aws:iam::ACCOUNT_ID:role/NAME)",
                    shown(reader)
                ),
            );
        }
    }
}

/// An IAM role or user ARN: who may read a rotation's secret.
fn is_principal_arn(arn: &str) -> bool {
    let parts: Vec<&str> = arn.splitn(6, ':').collect();
    matches!(parts.as_slice(), ["arn", partition, "iam", "", account, resource]
        if partition.starts_with("aws")
            && account.len() == 12
            && account.bytes().all(|b| b.is_ascii_digit())
            && ["role/", "user/"].iter().any(|kind| resource.len() > kind.len() && resource.starts_with(kind)))
}

fn validate_root(prefix: &str, root: Option<&RootSpec>, report: &mut impl FnMut(String, String)) {
    if let Some(root) = root {
        let at = format!("{prefix}root");
        check_range(&at, "max_used_days", root.max_used_days, DAYS_RANGE, report);
    }
}

fn validate_organization(org: &OrganizationSpec, report: &mut impl FnMut(String, String)) {
    if !is_role_name(&org.role_name) {
        report(
            "organization.role_name".into(),
            format!(
                "{} is not a role name (1-64 of A-Z a-z 0-9 +=,.@_-, after an optional path such as ops/)",
                shown(&org.role_name)
            ),
        );
    }
    if let Some(external_id) = &org.external_id {
        if !(2..=1224).contains(&external_id.len()) {
            report(
                "organization.external_id".into(),
                "external_id must be 2 to 1224 characters".into(),
            );
        }
    }
    for (key, patterns) in [("include", &org.include), ("exclude", &org.exclude)] {
        for (i, pattern) in patterns.iter().flatten().enumerate() {
            if pattern.trim().is_empty() {
                report(
                    format!("organization.{key}[{i}]"),
                    "an empty pattern matches no account".into(),
                );
            } else if let Err(err) = Glob::new(pattern) {
                report(
                    format!("organization.{key}[{i}]"),
                    format!("invalid glob {}: {}", shown(pattern), err.kind()),
                );
            }
        }
    }
}

/// A role name with an optional path (`ops/iamctl`): the name is IAM's `[\w+=,.@-]{1,64}`,
/// each path segment the same characters.
fn is_role_name(role: &str) -> bool {
    let segments: Vec<&str> = role.split('/').collect();
    let name = segments.last().copied().unwrap_or_default();
    name.len() <= 64
        && role.len() <= 512
        && segments.iter().all(|segment| {
            !segment.is_empty()
                && segment
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b"+=,.@_-".contains(&b))
        })
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
                    format!("invalid glob {}: {}", shown(pattern), err.kind()),
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
            check_range(
                &at,
                "mfa_grace_days",
                console.mfa_grace_days,
                DAYS_RANGE,
                report,
            );
            check_range(&at, "notice_days", console.notice_days, DAYS_RANGE, report);
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
            check_range(&at, "notice_days", keys.notice_days, DAYS_RANGE, report);
            check_range(
                &at,
                "delete_inactive_after_days",
                keys.delete_inactive_after_days,
                GRACE_DAYS_RANGE,
                report,
            );
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
            if keys.on_unused == Some(KeyAction::Rotate) {
                report(
                    format!("{at}.on_unused"),
                    "rotate is for on_expired only: a key nothing uses needs no successor; \
                     deactivate or delete it"
                        .into(),
                );
            }
            if let Some(rotation) = &keys.rotation {
                validate_rotation_table(&format!("{at}.rotation"), rotation, report);
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
        validate_credential_tables(&at, users, report);
    }
    let mut names: BTreeMap<&str, usize> = BTreeMap::new();
    for (i, spec) in user.iter().enumerate() {
        let at = format!("{prefix}user[{i}]");
        if !is_iam_user_name(&spec.name) {
            report(
                format!("{at}.name"),
                format!(
                    "{} is not a valid IAM user name (1-64 of A-Z a-z 0-9 +=,.@_-)",
                    shown(&spec.name)
                ),
            );
        }
        if let Some(first) = names.insert(&spec.name, i) {
            report(
                format!("{at}.name"),
                format!(
                    "duplicate user {} (first at {prefix}user[{first}])",
                    shown(&spec.name)
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

/// `[audit.cloudtrail] create`: names CloudTrail and S3 accept, checked before any call;
/// `access_analyzer_regions`: region names.
fn validate_audit(
    prefix: &str,
    audit: Option<&AuditSpec>,
    report: &mut impl FnMut(String, String),
) {
    for (i, region) in audit
        .and_then(|a| a.access_analyzer_regions.as_ref())
        .into_iter()
        .flatten()
        .enumerate()
    {
        if !is_region(region) {
            report(
                format!("{prefix}audit.access_analyzer_regions[{i}]"),
                format!(
                    "{} is not an AWS region name (us-east-1, eu-west-3, ...)",
                    shown(region)
                ),
            );
        }
    }
    let Some(create) = audit
        .and_then(|a| a.cloudtrail.as_ref())
        .and_then(|c| c.create.as_ref())
    else {
        return;
    };
    let at = format!("{prefix}audit.cloudtrail.create");
    if let Err(why) = check_trail_name(&create.name) {
        report(
            format!("{at}.name"),
            format!("{} is not a valid trail name: {why}", shown(&create.name)),
        );
    }
    if let Err(why) = check_bucket_name(&create.s3_bucket) {
        report(
            format!("{at}.s3_bucket"),
            format!(
                "{} is not a valid S3 bucket name: {why}",
                shown(&create.s3_bucket)
            ),
        );
    }
}

/// CloudTrail's trail-name rules (CreateTrail `Name`).
fn check_trail_name(name: &str) -> Result<(), &'static str> {
    let bytes = name.as_bytes();
    if !(3..=128).contains(&bytes.len()) {
        return Err("it must be 3 to 128 characters");
    }
    if !bytes
        .iter()
        .all(|b| b.is_ascii_alphanumeric() || b"._-".contains(b))
    {
        return Err("only letters, digits, periods, underscores and dashes are allowed");
    }
    if !bytes[0].is_ascii_alphanumeric() || !bytes[bytes.len() - 1].is_ascii_alphanumeric() {
        return Err("it must start and end with a letter or digit");
    }
    if bytes
        .windows(2)
        .any(|w| b"._-".contains(&w[0]) && b"._-".contains(&w[1]))
    {
        return Err("periods, underscores and dashes may not be adjacent");
    }
    if looks_like_ip(name) {
        return Err("it may not look like an IP address");
    }
    Ok(())
}

/// S3's general-purpose bucket-name rules.
fn check_bucket_name(name: &str) -> Result<(), &'static str> {
    let bytes = name.as_bytes();
    if !(3..=63).contains(&bytes.len()) {
        return Err("it must be 3 to 63 characters");
    }
    if !bytes
        .iter()
        .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b".-".contains(b))
    {
        return Err("only lower-case letters, digits, periods and dashes are allowed");
    }
    let edge = |b: u8| b.is_ascii_lowercase() || b.is_ascii_digit();
    if !edge(bytes[0]) || !edge(bytes[bytes.len() - 1]) {
        return Err("it must start and end with a letter or digit");
    }
    if name.contains("..") {
        return Err("it may not hold two adjacent periods");
    }
    if looks_like_ip(name) {
        return Err("it may not look like an IP address");
    }
    Ok(())
}

fn looks_like_ip(name: &str) -> bool {
    let parts: Vec<&str> = name.split('.').collect();
    parts.len() == 4
        && parts
            .iter()
            .all(|p| !p.is_empty() && p.len() <= 3 && p.bytes().all(|b| b.is_ascii_digit()))
}

/// A value from the file, quoted for a message and cut short: a hostile file may hold a
/// name of megabytes, and the message must stay one line.
fn shown(value: &str) -> String {
    const MAX_CHARS: usize = 80;
    match value.char_indices().nth(MAX_CHARS) {
        Some((cut, _)) => format!("{:?}… ({} bytes)", &value[..cut], value.len()),
        None => format!("{value:?}"),
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

/// A region name: lower-case words and a number, dash-separated (`us-east-1`,
/// `us-gov-west-1`, `ap-southeast-5`).
fn is_region(region: &str) -> bool {
    let parts: Vec<&str> = region.split('-').collect();
    parts.len() >= 3
        && parts[..parts.len() - 1]
            .iter()
            .all(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_lowercase()))
        && parts[parts.len() - 1].bytes().all(|b| b.is_ascii_digit())
        && !parts[parts.len() - 1].is_empty()
}

fn validate_server_certificates(
    prefix: &str,
    spec: Option<&ServerCertificatesSpec>,
    report: &mut impl FnMut(String, String),
) {
    if let Some(spec) = spec {
        check_range(
            &format!("{prefix}server_certificates"),
            "delete_expired_after_days",
            spec.delete_expired_after_days,
            GRACE_DAYS_RANGE,
            report,
        );
    }
}

/// `rotate` creates a successor access key: it means nothing for other credential kinds.
fn refuse_rotate(
    at: &str,
    key: &str,
    action: Option<KeyAction>,
    report: &mut impl FnMut(String, String),
) {
    if action == Some(KeyAction::Rotate) {
        report(
            format!("{at}.{key}"),
            format!(
                "{key} = \"rotate\" is an access-key action (iamctl never creates other \
                 credentials): use report, deactivate or delete"
            ),
        );
    }
}

/// The tables of issues 21 and 22 under `[users]` (`at` is the `users` path).
fn validate_credential_tables(
    at: &str,
    users: &UsersSpec,
    report: &mut impl FnMut(String, String),
) {
    let acting = |a: Option<KeyAction>| a.is_some_and(|a| a != KeyAction::Report);
    if let Some(creds) = &users.service_credentials {
        let at = format!("{at}.service_credentials");
        check_range(&at, "max_age_days", creds.max_age_days, DAYS_RANGE, report);
        check_range(&at, "notice_days", creds.notice_days, DAYS_RANGE, report);
        check_range(
            &at,
            "delete_inactive_after_days",
            creds.delete_inactive_after_days,
            GRACE_DAYS_RANGE,
            report,
        );
        check_range(
            &at,
            "require_expiry_days",
            creds.require_expiry_days,
            CREDENTIAL_AGE_DAYS_RANGE,
            report,
        );
        refuse_rotate(&at, "on_expired", creds.on_expired, report);
        refuse_rotate(
            &at,
            "on_forbidden_service",
            creds.on_forbidden_service,
            report,
        );
        if acting(creds.on_expired) && creds.max_age_days.is_none() {
            report(
                format!("{at}.on_expired"),
                "on_expired needs max_age_days".into(),
            );
        }
        if acting(creds.on_forbidden_service) && creds.allowed_services.is_none() {
            report(
                format!("{at}.on_forbidden_service"),
                "on_forbidden_service needs allowed_services".into(),
            );
        }
        for (i, service) in creds.allowed_services.iter().flatten().enumerate() {
            if !is_service_principal(service) {
                report(
                    format!("{at}.allowed_services[{i}]"),
                    format!(
                        "{} is not a service name such as codecommit.amazonaws.com",
                        shown(service)
                    ),
                );
            }
        }
    }
    if let Some(ssh) = &users.ssh_keys {
        let at = format!("{at}.ssh_keys");
        check_range(&at, "max_age_days", ssh.max_age_days, DAYS_RANGE, report);
        check_range(&at, "notice_days", ssh.notice_days, DAYS_RANGE, report);
        check_range(
            &at,
            "delete_inactive_after_days",
            ssh.delete_inactive_after_days,
            GRACE_DAYS_RANGE,
            report,
        );
        refuse_rotate(&at, "on_expired", ssh.on_expired, report);
        if acting(ssh.on_expired) && ssh.max_age_days.is_none() {
            report(
                format!("{at}.on_expired"),
                "on_expired needs max_age_days".into(),
            );
        }
    }
    if let Some(certs) = &users.signing_certificates {
        let at = format!("{at}.signing_certificates");
        refuse_rotate(&at, "on_forbidden", certs.on_forbidden, report);
        if acting(certs.on_forbidden) && certs.forbid != Some(true) {
            report(
                format!("{at}.on_forbidden"),
                "on_forbidden needs forbid = true".into(),
            );
        }
    }
    if let Some(inventory) = &users.inventory {
        let at = format!("{at}.inventory");
        check_range(
            &at,
            "notice_days",
            inventory.notice_days,
            DAYS_RANGE,
            report,
        );
        for (i, pattern) in inventory.allowed.iter().flatten().enumerate() {
            if let Err(err) = Glob::new(pattern) {
                report(
                    format!("{at}.allowed[{i}]"),
                    format!("invalid glob {}: {}", shown(pattern), err.kind()),
                );
            }
        }
    }
    let mut exceptions: BTreeMap<&str, usize> = BTreeMap::new();
    for (i, exception) in users.exception.iter().flatten().enumerate() {
        let at = format!("{at}.exception[{i}]");
        if !is_iam_user_name(&exception.name) {
            report(
                format!("{at}.name"),
                format!(
                    "{} is not a valid IAM user name (1-64 of A-Z a-z 0-9 +=,.@_-)",
                    shown(&exception.name)
                ),
            );
        } else if let Some(first) = exceptions.insert(&exception.name, i) {
            report(
                format!("{at}.name"),
                format!(
                    "duplicate exception for {} (first at exception[{first}])",
                    shown(&exception.name)
                ),
            );
        }
        for (key, value) in [("owner", &exception.owner), ("reason", &exception.reason)] {
            if value.trim().is_empty() {
                report(format!("{at}.{key}"), format!("{key} must not be empty"));
            }
        }
    }
    if let Some(glass) = &users.break_glass {
        let at = format!("{at}.break_glass");
        check_range(
            &at,
            "max_used_days",
            glass.max_used_days,
            DAYS_RANGE,
            report,
        );
        if matches!(
            glass.on_access_key,
            Some(KeyAction::Delete | KeyAction::Rotate)
        ) {
            report(
                format!("{at}.on_access_key"),
                "on_access_key is report or deactivate: a break-glass user's key is kept for \
                 whoever must look at it"
                    .into(),
            );
        }
        for (i, policy) in glass.allowed_policies.iter().flatten().enumerate() {
            if policy.trim().is_empty() {
                report(
                    format!("{at}.allowed_policies[{i}]"),
                    "a policy name must not be empty".into(),
                );
            }
        }
    }
    for (i, tag) in users.require_tags.iter().flatten().enumerate() {
        if tag.is_empty() || tag.chars().count() > 128 || tag.starts_with("aws:") {
            report(
                format!("{at}.require_tags[{i}]"),
                format!(
                    "{} is not a user tag key (1-128 characters, not starting with aws:)",
                    shown(tag)
                ),
            );
        }
    }
}

/// `CreateServiceSpecificCredential`'s `CredentialAgeDays` (Bedrock API keys).
const CREDENTIAL_AGE_DAYS_RANGE: (i64, i64) = (1, 36600);

/// A service principal as `ServiceName` takes it: `NAME.amazonaws.com`.
fn is_service_principal(service: &str) -> bool {
    service.strip_suffix(".amazonaws.com").is_some_and(|name| {
        !name.is_empty()
            && name
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b"-.".contains(&b))
    })
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
                    break_glass: None,
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
    fn organization_role_name_and_patterns_are_checked() {
        let org = |role_name: &str, include: Vec<&str>, exclude: Vec<&str>| DesiredDoc {
            organization: Some(OrganizationSpec {
                role_name: role_name.into(),
                include: Some(include.into_iter().map(Into::into).collect()),
                exclude: Some(exclude.into_iter().map(Into::into).collect()),
                ..Default::default()
            }),
            ..Default::default()
        };
        assert_eq!(
            paths(&org(
                "OrganizationAccountAccessRole",
                vec!["prod-*", "111111111111"],
                vec![]
            )),
            Vec::<String>::new()
        );
        assert_eq!(
            paths(&org("ops/iamctl", vec![], vec![])),
            Vec::<String>::new()
        );
        assert_eq!(
            paths(&org("", vec!["ok", "bad-["], vec![" "])),
            [
                "organization.role_name",
                "organization.include[1]",
                "organization.exclude[0]"
            ]
        );
        assert_eq!(
            paths(&org("arn:aws:iam::1:role/x", vec![], vec![])),
            ["organization.role_name"]
        );
    }

    #[test]
    fn trail_and_bucket_names_to_create_are_checked() {
        let doc = |name: &str, bucket: &str| DesiredDoc {
            audit: Some(AuditSpec {
                cloudtrail: Some(CloudTrailSpec {
                    create: Some(TrailCreateSpec {
                        name: name.into(),
                        s3_bucket: bucket.into(),
                    }),
                }),
                ..Default::default()
            }),
            ..Default::default()
        };
        assert_eq!(
            paths(&doc("iamctl-audit", "acme-cloudtrail-logs")),
            Vec::<String>::new()
        );
        for bad in [
            "ab",
            "-trail",
            "trail-",
            "my-_trail",
            "my trail",
            "10.0.0.1",
        ] {
            assert_eq!(
                paths(&doc(bad, "acme-logs")),
                ["audit.cloudtrail.create.name"],
                "{bad}"
            );
        }
        for bad in [
            "Acme-Logs",
            "ab",
            "acme..logs",
            "acme_logs",
            "-acme",
            "192.168.1.1",
        ] {
            assert_eq!(
                paths(&doc("iamctl-audit", bad)),
                ["audit.cloudtrail.create.s3_bucket"],
                "{bad}"
            );
        }
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

    fn problems_of(text: &str) -> Vec<String> {
        match crate::desired::load_sources(vec![("d.toml".into(), text.into())]) {
            Ok(_) => vec![],
            Err(crate::desired::LoadError::Invalid { problems }) => {
                problems.iter().map(ToString::to_string).collect()
            }
            Err(other) => panic!("{other}"),
        }
    }

    #[test]
    fn the_credential_tables_are_checked_at_their_keys() {
        let problems = problems_of(
            "[users.service_credentials]
max_age_days = 0
on_expired = \"rotate\"
allowed_services = [\"codecommit\"]
require_expiry_days = 40000
[users.ssh_keys]
on_expired = \"delete\"
[users.signing_certificates]
on_forbidden = \"deactivate\"
[users.break_glass]
on_access_key = \"delete\"
[[users.exception]]
name = \"legacy etl\"
owner = \"\"
reason = \"moving\"
expires = 2027-03-31
[server_certificates]
delete_expired_after_days = -1
[audit]
access_analyzer_regions = [\"us-east-1\", \"mars\"]
",
        );
        let keys: Vec<&str> = problems
            .iter()
            .map(|p| p.split(": ").nth(1).unwrap_or_default())
            .collect();
        assert_eq!(
            keys,
            [
                "users.service_credentials.max_age_days",
                "users.service_credentials.on_expired",
                "users.service_credentials.allowed_services[0]",
                "users.service_credentials.require_expiry_days",
                "users.ssh_keys.on_expired",
                "users.signing_certificates.on_forbidden",
                "users.break_glass.on_access_key",
                "users.exception[0].name",
                "users.exception[0].owner",
                "server_certificates.delete_expired_after_days",
                "audit.access_analyzer_regions[1]",
            ],
            "{problems:#?}"
        );
        assert!(
            problems[1].starts_with("d.toml:3:14: users.service_credentials.on_expired: on_expired = \"rotate\" is an access-key action"),
            "{problems:#?}"
        );
    }

    #[test]
    fn an_exception_ends_on_a_date_without_a_time() {
        let text = |expires: &str| {
            format!(
                "[[users.exception]]\nname = \"etl\"\nowner = \"o\"\nreason = \"r\"\nexpires = {expires}\n"
            )
        };
        let doc =
            crate::desired::load_sources(vec![("d.toml".into(), text("2027-03-31"))]).unwrap();
        let rules = doc.rules_for(None);
        assert_eq!(
            rules.population.inventory, None,
            "no inventory table, no inventory"
        );
        assert_eq!(
            doc.users.unwrap().exception.unwrap()[0].expires,
            chrono::NaiveDate::from_ymd_opt(2027, 3, 31).unwrap()
        );
        // Located at the value; the exception, left without it, is also reported incomplete.
        let problems = problems_of(&text("2027-03-31T10:00:00Z"));
        assert!(
            problems.contains(
                &"d.toml:5:11: users.exception[0].expires: expected a date such as 2027-03-31 \
                  (no time, no offset), got 2027-03-31T10:00:00Z"
                    .to_owned()
            ),
            "{problems:#?}"
        );
    }

    #[test]
    fn the_new_tables_resolve_into_plain_values() {
        let doc = crate::desired::load_sources(vec![(
            "d.toml".into(),
            "[users]\nrequire_tags = [\"owner\"]\n\
             [users.service_credentials]\nmax_age_days = 90\non_expired = \"deactivate\"\n\
             [users.inventory]\nallowed = [\"svc-*\"]\non_unlisted = \"disable\"\nnotice_days = 14\n\
             [[users.exception]]\nname = \"etl\"\nowner = \"o\"\nreason = \"r\"\nexpires = 2027-03-31\n\
             [[user]]\nname = \"glass\"\nbreak_glass = true\n\
             [server_certificates]\n\
             [organization]\nrole_name = \"r\"\nrequire_root_credentials_management = true\n"
                .into(),
        )])
        .unwrap();
        let rules = doc.rules_for(None);
        let creds = rules.credentials.service_credentials.as_ref().unwrap();
        assert_eq!(creds.max_age_days, Some(90));
        assert_eq!(
            creds.on_expired,
            crate::desired::CredentialAction::Deactivate
        );
        assert_eq!(
            rules
                .credentials
                .server_certificates_delete_expired_after_days,
            Some(0)
        );
        let inventory = rules.population.inventory.as_ref().unwrap();
        assert_eq!(inventory.allowed, ["svc-*"]);
        assert_eq!(inventory.on_unlisted, OnUnlisted::Disable);
        assert_eq!(inventory.exceptions[0].name, "etl");
        assert_eq!(rules.population.break_glass.users, ["glass"]);
        assert_eq!(rules.population.break_glass.max_used_days, 1);
        assert_eq!(
            rules.population.break_glass.allowed_policies,
            ["AdministratorAccess"]
        );
        assert_eq!(rules.population.require_tags, ["owner"]);
        assert!(rules.account_controls.require_root_credentials_management);
    }

    #[test]
    fn secret_name_templates_are_checked_piece_by_piece() {
        assert!(secret_name_problems("iamctl/{account}/{account_id}/{user}").is_empty());
        assert_eq!(secret_name_problems("keys/{user"), ["a { is not closed"]);
        assert_eq!(secret_name_problems("keys/user}"), ["a } closes nothing"]);
        assert_eq!(
            secret_name_problems("keys:{user}"),
            [
                "':' cannot be part of a Secrets Manager secret name (letters, digits and /_+=.@- only)"
            ]
        );
        assert_eq!(
            secret_name_problems("keys/{account}"),
            ["the name needs {user}: each user's key goes to a secret of its own"]
        );
    }
}
