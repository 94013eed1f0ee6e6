//! A plan item in words, the same in every view and in Security Hub: what a rule asks for
//! (`description`, an exhaustive match over `Rule`), a change as a sentence
//! (`change_message`), its compact before → after (`change_detail`), and the password
//! policy's line diff (`policy_diff`). Pure.

use chrono::{DateTime, Utc};

use super::change::{Change, ChangeKind, CredentialFacts, CredentialStatus, TrailSettings};
use super::rule::Rule;
use crate::state::{KeyStatus, PasswordPolicy};

/// A change as a sentence: what will happen at its address, and the detail that tells the
/// reviewer something the action does not (for the password policy, the settings it gets).
pub fn change_message(change: &Change) -> String {
    let mut text = format!(
        "{} will be {}",
        change.address(),
        change.action().past_participle()
    );
    let detail = change_detail(change).or_else(|| {
        let added: Vec<String> = policy_diff(change)?
            .into_iter()
            .filter(|(tag, _)| *tag == DiffTag::Added)
            .map(|(_, line)| line)
            .collect();
        (!added.is_empty()).then(|| added.join(", "))
    });
    if let Some(detail) = detail {
        text = format!("{text}: {detail}");
    }
    text
}

/// What a rule asks for, in a line.
pub fn description(rule: Rule) -> &'static str {
    match rule {
        Rule::PasswordPolicy => "The account password policy must equal the desired one",
        Rule::PasswordPolicyAbsent => "The account must have no password policy",
        Rule::ConsoleRequireMfa => "Users with a console password must have MFA",
        Rule::ConsoleMaxUnused => {
            "Console passwords must not stay unused longer than max_unused_days"
        }
        Rule::ConsoleResetOnTightening => {
            "Console passwords must be reset when the password policy is tightened"
        }
        Rule::KeysMaxAge => "Access keys must not be older than max_age_days",
        Rule::KeysMaxUnused => "Access keys must not stay unused longer than max_unused_days",
        Rule::KeysDeleteInactive => "Inactive access keys must be deleted",
        Rule::KeysMaxActive => "Users must not have more active access keys than max_active",
        Rule::User => "A user that a [[user]] entry names must exist",
        Rule::UserConsole => "A [[user]] entry's console access must be as written",
        Rule::UserPasswordReset => "A [[user]] entry's password must be reset at next sign-in",
        Rule::AuditCloudTrail => "A multi-region CloudTrail trail must be logging",
        Rule::AuditCloudTrailCreate => {
            "The trail of [audit.cloudtrail.create] must exist and log all regions"
        }
        Rule::RootForbidAccessKeys => "The root user must have no access keys",
        Rule::RootRequireMfa => "The root user must have MFA",
        Rule::RootRequireHardwareMfa => "The root user's MFA must be a hardware device",
        Rule::RootMaxUsed => "The root user must not have been used within max_used_days",
        Rule::UsersForbidDirectPolicies => {
            "Users must get permissions through groups, not attached or inline policies"
        }
        Rule::AuditForbidFullAdmin => {
            "No policy allowing \"*\" on \"*\" may be attached to a user, group or role"
        }
        Rule::AuditRequireSupportRole => "A role with the AWSSupportAccess policy must exist",
        Rule::ServiceCredentialsMaxAge => {
            "Service-specific credentials must not be older than max_age_days"
        }
        Rule::ServiceCredentialsAllowedServices => {
            "Service-specific credentials must be for an allowed service"
        }
        Rule::ServiceCredentialsRequireExpiry => {
            "Bedrock API keys must expire within require_expiry_days of their creation"
        }
        Rule::ServiceCredentialsDeleteInactive => {
            "Inactive and expired service-specific credentials must be deleted"
        }
        Rule::SshKeysMaxAge => "SSH public keys must not be older than max_age_days",
        Rule::SshKeysDeleteInactive => "Inactive SSH public keys must be deleted",
        Rule::SigningCertificatesForbid => "Users must have no active signing certificate",
        Rule::MfaAllUsers => "Every IAM user must have MFA, with a console password or not",
        Rule::ServerCertificatesDeleteExpired => {
            "Expired server certificates must be deleted after delete_expired_after_days"
        }
        Rule::UsersInventory => "IAM users must be listed in [users.inventory] or excepted",
        Rule::UsersException => "An exception to [users.inventory] must be renewed before it ends",
        Rule::BreakGlassMfa => "Break-glass users must have a hardware or FIDO MFA device",
        Rule::BreakGlassAccessKey => "Break-glass users must have no active access key",
        Rule::BreakGlassPolicies => "Break-glass users must hold only the allowed policies",
        Rule::BreakGlassUsed => "A break-glass user's sign-in must be accounted for",
        Rule::UsersRequireTags => "IAM users must carry the required tag keys",
        Rule::KeysForbidSetupKeys => {
            "No access key may be created with its console user and left unused"
        }
        Rule::AuditSecurityContact => "The account must have a security contact registered",
        Rule::AuditAccessAnalyzer => "IAM Access Analyzer must be enabled in every listed region",
        Rule::OrganizationRootAccess => {
            "The organization must manage its members' root access centrally"
        }
        Rule::AuditForbidServiceWildcards => {
            "No customer-managed policy may allow every action of a service"
        }
        Rule::AuditForbidCloudShell => {
            "No user, group or role may have AWSCloudShellFullAccess attached"
        }
        Rule::KeysRotation => {
            "A rotated key must be retired once its successor is used or the overlap has passed"
        }
    }
}

/// One line of the password-policy diff.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum DiffTag {
    Same,
    Removed,
    Added,
}

impl DiffTag {
    /// The line prefix, as in a unified diff (markdown's ```diff highlighting keys on it).
    pub(crate) fn prefix(self) -> &'static str {
        match self {
            DiffTag::Same => "  ",
            DiffTag::Removed => "- ",
            DiffTag::Added => "+ ",
        }
    }
}

/// The password policy before and after, as a line diff of its `key = value` rendering: every
/// field is shown so the reader sees the whole policy, and only the changed lines are marked.
/// `None` for a change that is not about the password policy.
pub(crate) fn policy_diff(change: &Change) -> Option<Vec<(DiffTag, String)>> {
    let (before, after) = change.kind.password_policy()?;
    let (before, after) = (policy_lines(before), policy_lines(after));
    let mut out: Vec<(DiffTag, String)> = Vec::new();
    // Start of the current run of changed lines.
    let mut run = 0;
    for line in similar::TextDiff::from_lines(&before, &after).iter_all_changes() {
        let tag = match line.tag() {
            similar::ChangeTag::Equal => DiffTag::Same,
            similar::ChangeTag::Delete => DiffTag::Removed,
            similar::ChangeTag::Insert => DiffTag::Added,
        };
        if tag == DiffTag::Same {
            run = out.len() + 1;
        }
        out.push((tag, line.value().trim_end_matches('\n').to_owned()));
        // A diff prints a run of changed lines as all removals, then all additions; for
        // `key = value` lines the old and new value of each key side by side read better.
        // Both sides list the keys in the same order, so ordering by key keeps that order.
        out[run..].sort_by(|(a_tag, a), (b_tag, b)| {
            (field_rank(a), *a_tag == DiffTag::Added)
                .cmp(&(field_rank(b), *b_tag == DiffTag::Added))
        });
    }
    Some(out)
}

/// Where a `key = value` line sorts: by `POLICY_FIELDS`.
fn field_rank(line: &str) -> usize {
    let key = line.split_once(" = ").map_or(line, |(key, _)| key);
    POLICY_FIELDS
        .iter()
        .position(|k| *k == key)
        .unwrap_or(POLICY_FIELDS.len())
}

/// The order of the desired-state file (SPEC.md), so the diff reads like the file under review.
const POLICY_FIELDS: [&str; 9] = [
    "minimum_length",
    "require_uppercase",
    "require_lowercase",
    "require_numbers",
    "require_symbols",
    "allow_users_to_change",
    "max_age_days",
    "reuse_prevention",
    "hard_expiry",
];

/// A policy as TOML-like `key = value` lines. An unset limit is left out, as in the TOML file
/// where an absent `max_age_days` means "never expires"; no policy is no lines.
fn policy_lines(policy: Option<&PasswordPolicy>) -> String {
    let Some(policy) = policy else {
        return String::new();
    };
    let PasswordPolicy {
        minimum_length,
        require_uppercase,
        require_lowercase,
        require_numbers,
        require_symbols,
        allow_users_to_change,
        max_age_days,
        reuse_prevention,
        hard_expiry,
    } = policy;
    let values: [Option<String>; 9] = [
        Some(minimum_length.to_string()),
        Some(require_uppercase.to_string()),
        Some(require_lowercase.to_string()),
        Some(require_numbers.to_string()),
        Some(require_symbols.to_string()),
        Some(allow_users_to_change.to_string()),
        max_age_days.map(|d| d.to_string()),
        reuse_prevention.map(|n| n.to_string()),
        Some(hard_expiry.to_string()),
    ];
    POLICY_FIELDS
        .iter()
        .zip(values)
        .filter_map(|(key, value)| Some(format!("{key} = {}\n", value?)))
        .collect()
}

/// A compact before→after for changes other than the password policy, where it tells the
/// reviewer something the action does not: which fields flip, and how old and how recently used
/// a key or console password is that is being switched off. `None` when there is nothing to add.
/// A credential of another kind, as a change's detail names it: its service (a service
/// credential), its status and its creation.
fn credential_parts(credential: &CredentialFacts) -> Vec<String> {
    let status = match credential.status {
        CredentialStatus::Active => "Active",
        CredentialStatus::Inactive => "Inactive",
        CredentialStatus::Expired => "Expired",
    };
    let mut parts = Vec::new();
    if let Some(service) = &credential.service {
        parts.push(format!("service: {service}"));
    }
    parts.push(format!("status: {status}"));
    parts.push(format!("created {}", date(credential.created)));
    parts
}

pub(crate) fn change_detail(change: &Change) -> Option<String> {
    let flip = |field: &str, old: &dyn std::fmt::Display, new: &dyn std::fmt::Display| {
        format!("{field}: {old} → {new}")
    };
    let age = |created: DateTime<Utc>, label: &str, last_used: Option<DateTime<Utc>>| {
        [
            format!("created {}", date(created)),
            format!(
                "{label} {}",
                last_used.map_or_else(|| "never".to_owned(), date)
            ),
        ]
    };
    let parts: Vec<String> = match &change.kind {
        ChangeKind::CreatePasswordPolicy { .. }
        | ChangeKind::UpdatePasswordPolicy { .. }
        | ChangeKind::DeletePasswordPolicy { .. }
        | ChangeKind::CreateLoginProfile { .. }
        | ChangeKind::AttachDenyPolicy { .. }
        | ChangeKind::DetachDenyPolicy { .. } => Vec::new(),
        ChangeKind::DeleteLoginProfile { before, .. } => age(
            before.created,
            "password last used",
            before.password_last_used,
        )
        .to_vec(),
        ChangeKind::ResetPassword { .. } => vec![flip("password_reset_required", &false, &true)],
        ChangeKind::DeactivateAccessKey { key, delete_on, .. } => {
            let mut parts = Vec::new();
            if key.status != KeyStatus::Inactive {
                parts.push(flip("status", &key_status(key.status), &"Inactive"));
            }
            parts.extend(age(key.created, "last used", key.last_used));
            if let Some(delete_on) = delete_on {
                parts.push(format!("deleted on {} if still inactive", date(*delete_on)));
            }
            parts
        }
        ChangeKind::DeleteAccessKey { key, .. } => {
            let mut parts = vec![format!("status: {}", key_status(key.status))];
            parts.extend(age(key.created, "last used", key.last_used));
            if let Some(since) = key.inactive_since {
                parts.push(format!("inactive since {}", date(since)));
            }
            parts
        }
        ChangeKind::RecordInactiveKey { key, delete_on, .. } => {
            let mut parts = vec!["first seen inactive: recorded now".to_owned()];
            parts.extend(age(key.created, "last used", key.last_used));
            parts.push(format!("deleted on {} if still inactive", date(*delete_on)));
            parts
        }
        ChangeKind::ForgetInactiveKey { since, .. } => vec![format!(
            "active again: its record of inactivity since {} goes",
            date(*since)
        )],
        // Where the new key goes, never the key.
        ChangeKind::RotateAccessKey {
            key,
            secret,
            deactivate_on,
            ..
        } => {
            let mut parts = vec![format!("new key → secret {}", secret.secret_name)];
            parts.extend(age(key.created, "last used", key.last_used));
            parts.push(format!(
                "deactivated on {} at the latest (sooner once the new key is used)",
                date(*deactivate_on)
            ));
            parts
        }
        ChangeKind::RecordRotation { new_key, at, .. } => vec![format!(
            "a rotation started {} delivered {new_key}: recorded now",
            date(*at)
        )],
        ChangeKind::ForgetRotation { record, .. } => {
            vec![format!("rotation record {record} no longer holds: it goes")]
        }
        ChangeKind::DeactivateCredential {
            credential,
            delete_on,
            ..
        } => {
            let mut parts = credential_parts(credential);
            if let Some(delete_on) = delete_on {
                parts.push(format!("deleted on {} if still inactive", date(*delete_on)));
            }
            parts
        }
        ChangeKind::DeleteCredential { credential, .. } => {
            let mut parts = credential_parts(credential);
            if let Some(since) = credential.inactive_since {
                parts.push(format!("inactive since {}", date(since)));
            }
            parts
        }
        ChangeKind::RecordInactiveCredential {
            credential,
            delete_on,
            ..
        } => {
            let mut parts = vec!["first seen inactive: recorded now".to_owned()];
            parts.extend(credential_parts(credential));
            parts.push(format!("deleted on {} if still inactive", date(*delete_on)));
            parts
        }
        ChangeKind::ForgetInactiveCredential { since, .. } => vec![format!(
            "active again or gone: its record of inactivity since {} goes",
            date(*since)
        )],
        ChangeKind::RecordUnlisted { due, .. } => vec![
            "first found outside [users.inventory]: recorded now".to_owned(),
            format!("disabled on {} if still unlisted", date(*due)),
        ],
        ChangeKind::ForgetUnlisted { since, .. } => vec![format!(
            "listed again: its record of being unlisted since {} goes",
            date(*since)
        )],
        ChangeKind::DeleteServerCertificate { certificate } => vec![
            format!("id: {}", certificate.id),
            format!("expired {}", date(certificate.expires)),
        ],
        // A new trail: what it will be.
        ChangeKind::CreateTrail { trail } => vec![
            format!("name: {}", trail.name),
            format!("s3_bucket: {}", trail.s3_bucket),
            "is_multi_region: true".to_owned(),
        ],
        ChangeKind::UpdateTrail { before, after } => {
            let TrailSettings {
                name,
                home_region,
                is_multi_region,
                is_logging,
            } = after;
            let mut parts = Vec::new();
            if *name != before.name {
                parts.push(flip("name", &before.name, name));
            }
            if *home_region != before.home_region {
                parts.push(flip("home_region", &before.home_region, home_region));
            }
            if *is_multi_region != before.is_multi_region {
                parts.push(flip(
                    "is_multi_region",
                    &before.is_multi_region,
                    is_multi_region,
                ));
            }
            if *is_logging != before.is_logging {
                parts.push(flip("is_logging", &before.is_logging, is_logging));
            }
            parts
        }
    };
    (!parts.is_empty()).then(|| parts.join(", "))
}

fn key_status(status: KeyStatus) -> &'static str {
    match status {
        KeyStatus::Active => "Active",
        KeyStatus::Inactive => "Inactive",
    }
}

/// The day of a timestamp; the finding messages and the rule give the exact age.
fn date(at: DateTime<Utc>) -> String {
    at.format("%Y-%m-%d").to_string()
}
