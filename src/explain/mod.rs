//! `plan --explain`: who made the drift. After planning, each change and finding is matched
//! with the latest CloudTrail event that changed the object at its address
//! (`UpdateAccountPasswordPolicy` for `password_policy`, `CreateAccessKey` for a key, ...),
//! and that event's caller and time become the item's [`Attribution`].
//!
//! The events come from `LookupEvents` ([`lookup`], through the account's CloudTrail
//! client; IAM's events land in us-east-1) or from CloudTrail JSON files ([`events`]) for
//! accounts where lookups are not allowed. Matching ([`attribute`]) is pure. Attribution
//! never changes what a plan does: `apply` ignores it, and a saved plan is not stale for
//! want of it.

pub mod events;
mod lookup;

pub use events::{Event, EventsError, parse_events, read_event_file, read_event_files};
pub use lookup::{LookupOptions, lookup_events};

use crate::aws::{AccountClients, AwsError};
use crate::plan::{AccountPlan, Address, Attribution, ChangeKind, Rule};
use crate::state::CredentialType;

/// What a plan item is about, as CloudTrail names it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Subject {
    /// Account-wide (the password policy).
    Account,
    /// An IAM user: `requestParameters.userName`.
    User(String),
    /// An access key: `requestParameters.accessKeyId`, or `CreateAccessKey`'s new key.
    AccessKey(String),
    /// A trail, by name; `None`: any trail.
    Trail(Option<String>),
}

/// The events that may have made a plan item's drift, and the object they must act on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Query {
    pub(crate) names: &'static [&'static str],
    pub(crate) subject: Subject,
}

impl Query {
    /// CloudTrail's own events land in the region of the trail, IAM's in us-east-1.
    pub(crate) fn is_cloudtrail(&self) -> bool {
        matches!(self.subject, Subject::Trail(_))
    }

    fn matches(&self, event: &Event) -> bool {
        if event.failed || !self.names.contains(&event.event_name.as_str()) {
            return false;
        }
        match &self.subject {
            Subject::Account | Subject::Trail(None) => true,
            Subject::User(user) => event.user_name.as_deref() == Some(user),
            Subject::AccessKey(key) => event.access_key_id.as_deref() == Some(key),
            Subject::Trail(Some(name)) => event.trail_name.as_deref() == Some(name),
        }
    }
}

const PASSWORD_POLICY: &[&str] = &["UpdateAccountPasswordPolicy", "DeleteAccountPasswordPolicy"];
const LOGIN_PROFILE: &[&str] = &[
    "CreateLoginProfile",
    "UpdateLoginProfile",
    "DeleteLoginProfile",
];
const LOGIN_PROFILE_AND_MFA: &[&str] = &[
    "CreateLoginProfile",
    "UpdateLoginProfile",
    "DeleteLoginProfile",
    "DeactivateMFADevice",
    "DeleteVirtualMFADevice",
];
const CONSOLE_WITHOUT_MFA: &[&str] = &[
    "CreateLoginProfile",
    "DeactivateMFADevice",
    "DeleteVirtualMFADevice",
];
const ACCESS_KEY: &[&str] = &["CreateAccessKey", "UpdateAccessKey"];
const DENY_POLICY: &[&str] = &[
    "CreateLoginProfile",
    "DeactivateMFADevice",
    "EnableMFADevice",
    "AttachUserPolicy",
    "DetachUserPolicy",
];
const USER_GONE: &[&str] = &["DeleteUser"];
/// A policy attached to a user (an inline one's `PutUserPolicy` is not looked up: one lookup
/// more for every plan, for a finding that names the policy already).
const DIRECT_POLICY: &[&str] = &["AttachUserPolicy"];
const ANY_USER_CHANGE: &[&str] = &[
    "CreateLoginProfile",
    "UpdateLoginProfile",
    "DeleteLoginProfile",
    "CreateAccessKey",
    "UpdateAccessKey",
    "DeactivateMFADevice",
    "EnableMFADevice",
];
const SERVICE_CREDENTIAL: &[&str] = &[
    "CreateServiceSpecificCredential",
    "UpdateServiceSpecificCredential",
];
const SSH_KEY: &[&str] = &["UploadSSHPublicKey", "UpdateSSHPublicKey"];
const SIGNING_CERTIFICATE: &[&str] = &["UploadSigningCertificate", "UpdateSigningCertificate"];
const TRAIL: &[&str] = &[
    "StopLogging",
    "DeleteTrail",
    "UpdateTrail",
    "PutEventSelectors",
    "CreateTrail",
];

/// Every event name attribution may look for, in lookup order.
pub const EVENT_NAMES: &[&str] = &[
    "UpdateAccountPasswordPolicy",
    "DeleteAccountPasswordPolicy",
    "CreateLoginProfile",
    "UpdateLoginProfile",
    "DeleteLoginProfile",
    "CreateAccessKey",
    "UpdateAccessKey",
    "DeactivateMFADevice",
    "DeleteVirtualMFADevice",
    "EnableMFADevice",
    "AttachUserPolicy",
    "DetachUserPolicy",
    "DeleteUser",
    "StopLogging",
    "DeleteTrail",
    "UpdateTrail",
    "PutEventSelectors",
    "CreateTrail",
    "CreateServiceSpecificCredential",
    "UpdateServiceSpecificCredential",
    "UploadSSHPublicKey",
    "UpdateSSHPublicKey",
    "UploadSigningCertificate",
    "UpdateSigningCertificate",
];

/// Which events explain the item at `address` that `rule` raised; `None` for items that
/// follow from another item rather than from a change of their own (the password resets a
/// tightening policy asks for: the policy's item says who made it weaker).
pub(crate) fn query(address: &Address, rule: Rule) -> Option<Query> {
    let user = |names, user: &str| Query {
        names,
        subject: Subject::User(user.to_owned()),
    };
    let login_profile_events = match rule {
        // The resets a tightening policy asks for: the policy's item says who made it weaker.
        Rule::ConsoleResetOnTightening => return None,
        // A console password without MFA: removing the MFA device is a change of its own.
        Rule::ConsoleRequireMfa => LOGIN_PROFILE_AND_MFA,
        Rule::PasswordPolicy
        | Rule::PasswordPolicyAbsent
        | Rule::ConsoleMaxUnused
        | Rule::KeysMaxAge
        | Rule::KeysMaxUnused
        | Rule::KeysDeleteInactive
        | Rule::KeysMaxActive
        | Rule::User
        | Rule::UserConsole
        | Rule::UserPasswordReset
        | Rule::AuditCloudTrail
        | Rule::AuditCloudTrailCreate
        | Rule::RootForbidAccessKeys
        | Rule::RootRequireMfa
        | Rule::RootRequireHardwareMfa
        | Rule::RootMaxUsed
        | Rule::UsersForbidDirectPolicies
        | Rule::AuditForbidFullAdmin
        | Rule::AuditRequireSupportRole
        | Rule::KeysRotation
        | Rule::ServiceCredentialsMaxAge
        | Rule::ServiceCredentialsAllowedServices
        | Rule::ServiceCredentialsRequireExpiry
        | Rule::ServiceCredentialsDeleteInactive
        | Rule::SshKeysMaxAge
        | Rule::SshKeysDeleteInactive
        | Rule::SigningCertificatesForbid
        | Rule::MfaAllUsers
        | Rule::ServerCertificatesDeleteExpired
        | Rule::UsersInventory
        | Rule::UsersException
        | Rule::BreakGlassMfa
        | Rule::BreakGlassAccessKey
        | Rule::BreakGlassPolicies
        | Rule::BreakGlassUsed
        | Rule::UsersRequireTags
        | Rule::KeysForbidSetupKeys
        | Rule::AuditSecurityContact
        | Rule::AuditAccessAnalyzer
        | Rule::AuditForbidCloudShell
        | Rule::AuditForbidServiceWildcards
        | Rule::OrganizationRootAccess => LOGIN_PROFILE,
    };
    Some(match address {
        Address::PasswordPolicy => Query {
            names: PASSWORD_POLICY,
            subject: Subject::Account,
        },
        Address::LoginProfile(name) => user(login_profile_events, name),
        Address::AccessKey { key_id, .. } => Query {
            names: ACCESS_KEY,
            subject: Subject::AccessKey(key_id.to_string()),
        },
        Address::UserPolicy { user: name, .. } => user(DENY_POLICY, name),
        Address::User(name) => match rule {
            Rule::ConsoleRequireMfa | Rule::MfaAllUsers => user(CONSOLE_WITHOUT_MFA, name),
            Rule::SigningCertificatesForbid => user(SIGNING_CERTIFICATE, name),
            Rule::ConsoleMaxUnused => user(LOGIN_PROFILE, name),
            Rule::KeysMaxActive | Rule::KeysRotation => user(ACCESS_KEY, name),
            Rule::User => user(USER_GONE, name),
            Rule::UsersForbidDirectPolicies | Rule::AuditForbidFullAdmin => {
                user(DIRECT_POLICY, name)
            }
            Rule::RootForbidAccessKeys
            | Rule::RootRequireMfa
            | Rule::RootRequireHardwareMfa
            | Rule::RootMaxUsed
            | Rule::AuditRequireSupportRole
            | Rule::PasswordPolicy
            | Rule::PasswordPolicyAbsent
            | Rule::ConsoleResetOnTightening
            | Rule::KeysMaxAge
            | Rule::KeysMaxUnused
            | Rule::KeysDeleteInactive
            | Rule::UserConsole
            | Rule::UserPasswordReset
            | Rule::AuditCloudTrail
            | Rule::AuditCloudTrailCreate
            | Rule::ServiceCredentialsMaxAge
            | Rule::ServiceCredentialsAllowedServices
            | Rule::ServiceCredentialsRequireExpiry
            | Rule::ServiceCredentialsDeleteInactive
            | Rule::SshKeysMaxAge
            | Rule::SshKeysDeleteInactive
            | Rule::ServerCertificatesDeleteExpired
            | Rule::UsersInventory
            | Rule::UsersException
            | Rule::BreakGlassMfa
            | Rule::BreakGlassAccessKey
            | Rule::BreakGlassPolicies
            | Rule::BreakGlassUsed
            | Rule::UsersRequireTags
            | Rule::KeysForbidSetupKeys
            | Rule::AuditSecurityContact
            | Rule::AuditAccessAnalyzer
            | Rule::AuditForbidCloudShell
            | Rule::AuditForbidServiceWildcards
            | Rule::OrganizationRootAccess => user(ANY_USER_CHANGE, name),
        },
        // The user's own events of that kind (CloudTrail names no credential id for all).
        Address::Credential {
            user: name, kind, ..
        } => match kind {
            CredentialType::ServiceCredential => user(SERVICE_CREDENTIAL, name),
            CredentialType::SshKey => user(SSH_KEY, name),
            CredentialType::SigningCertificate => user(SIGNING_CERTIFICATE, name),
        },
        // Any trail's change may be it; `queries` narrows a change to the trail it fixes.
        Address::CloudTrail => Query {
            names: TRAIL,
            subject: Subject::Trail(None),
        },
        // The root user's state, a missing role, a group's or role's policies: the compliance
        // findings name what to fix, and CloudTrail lookups for them are not made.
        // A server certificate's upload is not matched by name: its expiry, not a change,
        // is what the item is about.
        Address::Root
        | Address::Account
        | Address::Group(_)
        | Address::Role(_)
        | Address::Organization
        | Address::ServerCertificate(_) => return None,
    })
}

/// The queries of every item of `plan`, changes first, then findings; a `cloudtrail` change
/// that fixes a named trail is explained by that trail's events only.
pub(crate) fn queries(plan: &AccountPlan) -> Vec<Option<Query>> {
    let changes = plan.changes.iter().map(|c| {
        let mut q = query(&c.address(), c.rule)?;
        match &c.kind {
            ChangeKind::UpdateTrail { before, .. } => {
                q.subject = Subject::Trail(Some(before.name.clone()));
            }
            // A trail to create has no events yet; the other kinds are not about a trail.
            ChangeKind::CreateTrail { .. }
            | ChangeKind::CreatePasswordPolicy { .. }
            | ChangeKind::UpdatePasswordPolicy { .. }
            | ChangeKind::DeletePasswordPolicy { .. }
            | ChangeKind::CreateLoginProfile { .. }
            | ChangeKind::DeleteLoginProfile { .. }
            | ChangeKind::ResetPassword { .. }
            | ChangeKind::DeactivateAccessKey { .. }
            | ChangeKind::DeleteAccessKey { .. }
            | ChangeKind::AttachDenyPolicy { .. }
            | ChangeKind::DetachDenyPolicy { .. }
            | ChangeKind::RecordInactiveKey { .. }
            | ChangeKind::ForgetInactiveKey { .. }
            | ChangeKind::RotateAccessKey { .. }
            | ChangeKind::RecordRotation { .. }
            | ChangeKind::ForgetRotation { .. }
            | ChangeKind::DeactivateCredential { .. }
            | ChangeKind::DeleteCredential { .. }
            | ChangeKind::RecordInactiveCredential { .. }
            | ChangeKind::ForgetInactiveCredential { .. }
            | ChangeKind::RecordUnlisted { .. }
            | ChangeKind::ForgetUnlisted { .. }
            | ChangeKind::DeleteServerCertificate { .. } => {}
        }
        Some(q)
    });
    let findings = plan.findings.iter().map(|f| query(&f.address, f.rule));
    changes.chain(findings).collect()
}

/// The latest event that `query` matches in the account `account_id` (events that say
/// nothing of their account count as its), ties broken by event id for a stable answer.
fn latest<'a>(query: &Query, events: &'a [Event], account_id: &str) -> Option<&'a Event> {
    events
        .iter()
        .filter(|e| match (&e.account_id, account_id) {
            (Some(id), account) if !account.is_empty() => id == account,
            _ => true,
        })
        .filter(|e| query.matches(e))
        .max_by(|a, b| (a.event_time, &a.event_id).cmp(&(b.event_time, &b.event_id)))
}

fn attribution(event: &Event) -> Attribution {
    Attribution {
        event_name: event.event_name.clone(),
        event_time: event.event_time,
        principal_arn: event.principal_arn.clone(),
        source_ip: event.source_ip.clone(),
        event_id: event.event_id.clone(),
    }
}

/// Attaches to each change and finding of `plan` the latest of `events` that explains it
/// (and removes any older attribution that none does). Returns how many items got one.
pub fn attribute(plan: &mut AccountPlan, events: &[Event]) -> usize {
    let queries = queries(plan);
    let account_id = plan.account_id.clone();
    let found: Vec<Option<Attribution>> = queries
        .iter()
        .map(|q| {
            q.as_ref()
                .and_then(|q| latest(q, events, &account_id))
                .map(attribution)
        })
        .collect();
    let mut found = found.into_iter();
    let mut count = 0;
    let slots = plan
        .changes
        .iter_mut()
        .map(|c| &mut c.attribution)
        .chain(plan.findings.iter_mut().map(|f| &mut f.attribution));
    for slot in slots {
        *slot = found.next().flatten();
        count += usize::from(slot.is_some());
    }
    count
}

/// Looks up (`LookupEvents`) the events that explain `plan` and attaches them. An account
/// whose plan failed or holds nothing is left alone, without a call.
pub async fn explain_with_lookups(
    clients: &AccountClients,
    plan: &mut AccountPlan,
    opts: &LookupOptions,
) -> Result<usize, AwsError> {
    if plan.error.is_some() || (plan.changes.is_empty() && plan.findings.is_empty()) {
        return Ok(0);
    }
    let events = lookup_events(clients, plan, opts).await?;
    Ok(attribute(plan, &events))
}

#[cfg(test)]
mod tests {
    use chrono::{DateTime, Utc};

    use super::*;
    use crate::plan::{Change, Finding, KeyFacts, TrailSettings};
    use crate::state::{AccessKeyId, KeyStatus};

    fn at(s: &str) -> DateTime<Utc> {
        s.parse().unwrap()
    }

    fn event(id: &str, name: &str, time: &str) -> Event {
        Event {
            event_id: id.into(),
            event_name: name.into(),
            event_source: "iam.amazonaws.com".into(),
            event_time: at(time),
            principal_arn: format!("arn:aws:iam::111111111111:user/{id}"),
            source_ip: None,
            account_id: Some("111111111111".into()),
            failed: false,
            user_name: None,
            access_key_id: None,
            trail_name: None,
        }
    }

    fn key(id: &str) -> KeyFacts {
        KeyFacts {
            id: AccessKeyId::new(id).unwrap(),
            status: KeyStatus::Active,
            created: at("2025-01-01T00:00:00Z"),
            last_used: None,
            inactive_since: None,
            rotation: None,
        }
    }

    fn plan(changes: Vec<Change>, findings: Vec<Finding>) -> AccountPlan {
        AccountPlan {
            name: "prod".into(),
            account_id: "111111111111".into(),
            changes,
            findings,
            credential_report_generated_at: None,
            error: None,
        }
    }

    #[test]
    fn the_latest_successful_event_on_the_same_object_wins() {
        let mut p = plan(
            vec![
                Change::new(
                    Rule::PasswordPolicy,
                    ChangeKind::DeletePasswordPolicy {
                        before: crate::state::PasswordPolicy::iam_default(),
                    },
                ),
                Change::new(
                    Rule::KeysMaxAge,
                    ChangeKind::DeactivateAccessKey {
                        user: "bob".into(),
                        key: key("AKIA2"),
                        if_still_unused: false,
                        delete_on: None,
                    },
                ),
            ],
            vec![Finding::new(
                "user.bob".parse().unwrap(),
                Rule::KeysMaxActive,
                "2 active access keys".into(),
            )],
        );
        let key = |id, key: &str, time| Event {
            user_name: Some("bob".into()),
            access_key_id: Some(key.into()),
            ..event(id, "CreateAccessKey", time)
        };
        let events = vec![
            event("old", "UpdateAccountPasswordPolicy", "2026-01-01T00:00:00Z"),
            event("new", "UpdateAccountPasswordPolicy", "2026-02-01T00:00:00Z"),
            Event {
                failed: true,
                ..event(
                    "refused",
                    "UpdateAccountPasswordPolicy",
                    "2026-03-01T00:00:00Z",
                )
            },
            Event {
                account_id: Some("222222222222".into()),
                ..event(
                    "elsewhere",
                    "UpdateAccountPasswordPolicy",
                    "2026-04-01T00:00:00Z",
                )
            },
            key("k1", "AKIA1", "2026-05-01T00:00:00Z"),
            key("k2", "AKIA2", "2026-04-01T00:00:00Z"),
        ];
        assert_eq!(attribute(&mut p, &events), 3);
        assert_eq!(p.changes[0].attribution.as_ref().unwrap().event_id, "new");
        assert_eq!(p.changes[1].attribution.as_ref().unwrap().event_id, "k2");
        // The user's latest key event explains "two active keys".
        assert_eq!(p.findings[0].attribution.as_ref().unwrap().event_id, "k1");

        // Attribution is recomputed, never left stale.
        assert_eq!(attribute(&mut p, &[]), 0);
        assert!(p.changes[0].attribution.is_none());
    }

    #[test]
    fn resets_asked_by_a_tightening_policy_are_not_attributed() {
        let mut p = plan(
            vec![Change::new(
                Rule::ConsoleResetOnTightening,
                ChangeKind::ResetPassword {
                    user: "bob".into(),
                    with_tightening: true,
                },
            )],
            vec![],
        );
        let created = Event {
            user_name: Some("bob".into()),
            ..event("p", "CreateLoginProfile", "2026-01-01T00:00:00Z")
        };
        assert_eq!(attribute(&mut p, std::slice::from_ref(&created)), 0);
        p.changes[0].rule = Rule::UserPasswordReset;
        assert_eq!(attribute(&mut p, &[created]), 1);
    }

    #[test]
    fn a_trail_fix_is_explained_by_events_on_that_trail() {
        let mut p = plan(
            vec![Change::new(
                Rule::AuditCloudTrailCreate,
                ChangeKind::UpdateTrail {
                    before: TrailSettings {
                        name: "audit".into(),
                        home_region: "us-east-1".into(),
                        is_multi_region: true,
                        is_logging: false,
                    },
                    after: TrailSettings {
                        name: "audit".into(),
                        home_region: "us-east-1".into(),
                        is_multi_region: true,
                        is_logging: true,
                    },
                },
            )],
            vec![],
        );
        let stop = |id, trail: &str, time| Event {
            trail_name: Some(trail.into()),
            event_source: "cloudtrail.amazonaws.com".into(),
            ..event(id, "StopLogging", time)
        };
        let events = [
            stop("a", "audit", "2026-01-01T00:00:00Z"),
            stop("b", "other", "2026-02-01T00:00:00Z"),
        ];
        attribute(&mut p, &events);
        assert_eq!(p.changes[0].attribution.as_ref().unwrap().event_id, "a");
        assert!(queries(&p)[0].as_ref().unwrap().is_cloudtrail());
    }

    #[test]
    fn every_name_a_query_uses_is_looked_up() {
        for names in [
            PASSWORD_POLICY,
            LOGIN_PROFILE,
            LOGIN_PROFILE_AND_MFA,
            CONSOLE_WITHOUT_MFA,
            ACCESS_KEY,
            DENY_POLICY,
            USER_GONE,
            ANY_USER_CHANGE,
            TRAIL,
        ] {
            for name in names {
                assert!(EVENT_NAMES.contains(name), "{name}");
            }
        }
    }
}
