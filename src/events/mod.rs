//! Reacting to CloudTrail events (`plan --event`, `apply --event`, `watch`, the Lambda
//! handler): which events iamctl handles ([`HANDLED`], also the source of `iamctl
//! events-pattern`), and what each one means for a plan: the target account it happened in and
//! the plan address it may have drifted ([`map_events`]). Pure: events and accounts in,
//! targets out, so the mapping is tested with plain values.

pub mod watch;

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

use serde_json::{Value, json};

use crate::explain::events::{API_CALL, CONSOLE_SIGN_IN, Envelope};
use crate::plan::Address;

/// The services whose events iamctl handles.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Service {
    Iam,
    CloudTrail,
}

impl Service {
    /// CloudTrail's `eventSource`.
    pub fn event_source(self) -> &'static str {
        match self {
            Service::Iam => "iam.amazonaws.com",
            Service::CloudTrail => "cloudtrail.amazonaws.com",
        }
    }

    /// EventBridge's `source`.
    pub fn eventbridge_source(self) -> &'static str {
        match self {
            Service::Iam => "aws.iam",
            Service::CloudTrail => "aws.cloudtrail",
        }
    }
}

/// What a handled event may have changed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Subject {
    /// `password_policy`.
    PasswordPolicy,
    /// `user.NAME`, the user of `requestParameters.userName` (or the calling user itself).
    User,
    /// `cloudtrail`.
    CloudTrail,
}

/// One event iamctl reacts to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Handled {
    pub service: Service,
    pub name: &'static str,
    pub subject: Subject,
}

const fn iam(name: &'static str, subject: Subject) -> Handled {
    Handled {
        service: Service::Iam,
        name,
        subject,
    }
}

const fn trail(name: &'static str) -> Handled {
    Handled {
        service: Service::CloudTrail,
        name,
        subject: Subject::CloudTrail,
    }
}

/// Every event iamctl reacts to: the moments an account can drift from a rule.
pub const HANDLED: &[Handled] = &[
    iam("UpdateAccountPasswordPolicy", Subject::PasswordPolicy),
    iam("DeleteAccountPasswordPolicy", Subject::PasswordPolicy),
    iam("CreateUser", Subject::User),
    iam("CreateLoginProfile", Subject::User),
    iam("UpdateLoginProfile", Subject::User),
    iam("DeleteLoginProfile", Subject::User),
    iam("CreateAccessKey", Subject::User),
    iam("UpdateAccessKey", Subject::User),
    iam("DeactivateMFADevice", Subject::User),
    iam("EnableMFADevice", Subject::User),
    iam("TagUser", Subject::User),
    iam("UntagUser", Subject::User),
    iam("AttachUserPolicy", Subject::User),
    iam("DetachUserPolicy", Subject::User),
    iam("CreateServiceSpecificCredential", Subject::User),
    iam("UpdateServiceSpecificCredential", Subject::User),
    iam("UploadSSHPublicKey", Subject::User),
    iam("UpdateSSHPublicKey", Subject::User),
    iam("UploadSigningCertificate", Subject::User),
    iam("UpdateSigningCertificate", Subject::User),
    trail("StopLogging"),
    trail("DeleteTrail"),
    trail("UpdateTrail"),
    trail("PutEventSelectors"),
];

/// The entry of [`HANDLED`] for an event from `source` named `name`.
pub fn handled(source: &str, name: &str) -> Option<&'static Handled> {
    HANDLED
        .iter()
        .find(|h| h.name == name && h.service.event_source() == source)
}

/// A console sign-in (`ConsoleLogin`): no change to reconcile, but a break-glass user's is an
/// incident to tell at once (`watch`, the Lambda handler). Its EventBridge source, its
/// CloudTrail event source, and its name.
pub const SIGN_IN_SOURCE: &str = "aws.signin";
pub const SIGN_IN_EVENT_SOURCE: &str = "signin.amazonaws.com";
pub const SIGN_IN_EVENT: &str = "ConsoleLogin";

/// The EventBridge rule pattern that selects the events of [`HANDLED`] that succeeded, and
/// IAM users' console sign-ins. IAM's events (sign-ins included) reach EventBridge only on
/// us-east-1's default bus; CloudTrail's in the trail's region.
pub fn rule_pattern() -> Value {
    let services: BTreeSet<Service> = HANDLED.iter().map(|h| h.service).collect();
    let names: Vec<&str> = HANDLED.iter().map(|h| h.name).collect();
    json!({
        "source": services
            .iter()
            .map(|s| s.eventbridge_source())
            .chain([SIGN_IN_SOURCE])
            .collect::<Vec<_>>(),
        "detail-type": [API_CALL, CONSOLE_SIGN_IN],
        "detail": {
            "eventSource": services
                .iter()
                .map(|s| s.event_source())
                .chain([SIGN_IN_EVENT_SOURCE])
                .collect::<Vec<_>>(),
            "eventName": names.into_iter().chain([SIGN_IN_EVENT]).collect::<Vec<_>>(),
            "errorCode": [{"exists": false}],
        },
    })
}

/// An IAM user's console sign-in, from the events: who, where, when.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignIn {
    pub account_id: String,
    pub user: String,
    pub at: chrono::DateTime<chrono::Utc>,
    pub source_ip: Option<String>,
    pub event_id: String,
}

/// The IAM users' console sign-ins among `envelopes` (the root user's and failed ones are not
/// an IAM user's sign-in). Pure.
pub fn sign_ins(envelopes: &[Envelope]) -> Vec<SignIn> {
    envelopes
        .iter()
        .filter(|e| {
            e.event.event_name == SIGN_IN_EVENT
                && e.event.event_source == SIGN_IN_EVENT_SOURCE
                && !e.event.failed
                && e.event.principal_arn.contains(":user/")
        })
        .filter_map(|e| {
            Some(SignIn {
                account_id: e.event.account_id.clone()?,
                user: e.event.user_name.clone()?,
                at: e.event.event_time,
                source_ip: e.event.source_ip.clone(),
                event_id: e.event.event_id.clone(),
            })
        })
        .collect()
}

/// A target account as far as events are concerned.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccountRef {
    /// The target's name.
    pub target: String,
    pub account_id: String,
    /// The identity iamctl acts as in this account (`GetCallerIdentity`'s ARN), when known:
    /// its own events are not reacted to.
    pub caller_arn: Option<String>,
}

/// Why an event leads to no plan.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Ignore {
    /// An EventBridge event of another kind (`AWS Console Sign In via CloudTrail`, ...).
    NotAnApiCall(String),
    /// An API call iamctl does not react to (another service, or a read).
    NotHandled,
    /// The call failed (`errorCode`): it changed nothing.
    Failed,
    /// Made by iamctl itself: an `iamctl-*` role session, or the identity it acts as.
    OwnCall(String),
    /// In an account that is no target (or not selected by `-a`/`--shard`).
    NoTarget(String),
}

/// An event that leads to no plan, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ignored {
    /// The event's position in the input.
    pub index: usize,
    pub event_name: String,
    pub event_id: String,
    pub reason: Ignore,
}

impl fmt::Display for Ignored {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let id = if self.event_id.is_empty() {
            String::new()
        } else {
            format!(" (event {})", self.event_id)
        };
        write!(f, "ignored {}{id}: ", self.event_name)?;
        match &self.reason {
            Ignore::NotAnApiCall(kind) if kind == CONSOLE_SIGN_IN => f.write_str(
                "a console sign-in: nothing to reconcile (a break-glass user's is told)",
            ),
            Ignore::NotAnApiCall(kind) => write!(f, "a {kind:?} event, not an API call"),
            Ignore::NotHandled => f.write_str("not a change iamctl reacts to"),
            Ignore::Failed => f.write_str("the call failed (errorCode), so it changed nothing"),
            Ignore::OwnCall(arn) => write!(f, "made by iamctl itself ({arn})"),
            Ignore::NoTarget(id) => write!(f, "account {id} is not a selected target"),
        }
    }
}

/// A handled event that cannot be mapped: the input is wrong, and nothing is done.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Malformed {
    #[error("event {index} ({name}) has no recipientAccountId: its account is unknown")]
    NoAccount { index: usize, name: String },
    #[error(
        "event {index} ({name}) names no user (requestParameters.userName, or an IAM user caller)"
    )]
    NoUser { index: usize, name: String },
}

/// What one event means.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Meaning {
    /// Plan `address` in target `target`.
    Plan {
        target: String,
        address: Address,
    },
    Ignored(Ignored),
}

/// Events mapped to the addresses to plan, per target.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Mapping {
    /// Target name → the addresses its events name.
    pub addresses: BTreeMap<String, BTreeSet<Address>>,
    /// The events that lead to a plan, by position, with their target.
    pub handled: Vec<(usize, String)>,
    pub ignored: Vec<Ignored>,
}

/// Whether `arn` is a role session iamctl opened (`iamctl-TARGET`, see `aws::AssumeRole`):
/// `arn:PARTITION:sts::ACCOUNT:assumed-role/ROLE/iamctl-...`.
pub fn is_own_session(arn: &str) -> bool {
    arn.split_once(":assumed-role/")
        .and_then(|(_, rest)| rest.rsplit_once('/'))
        .is_some_and(|(_, session)| session.starts_with("iamctl-"))
}

/// What the event at `index` means for the targets `accounts`.
pub fn classify(
    index: usize,
    envelope: &Envelope,
    accounts: &[AccountRef],
) -> Result<Meaning, Malformed> {
    let event = &envelope.event;
    let ignored = |reason| {
        Ok(Meaning::Ignored(Ignored {
            index,
            event_name: event.event_name.clone(),
            event_id: event.event_id.clone(),
            reason,
        }))
    };
    if let Some(kind) = envelope.detail_type.as_deref().filter(|k| *k != API_CALL) {
        return ignored(Ignore::NotAnApiCall(kind.to_owned()));
    }
    let Some(handled) = handled(&event.event_source, &event.event_name) else {
        return ignored(Ignore::NotHandled);
    };
    if event.failed {
        return ignored(Ignore::Failed);
    }
    let malformed_name = || event.event_name.clone();
    let Some(account_id) = event.account_id.as_deref() else {
        return Err(Malformed::NoAccount {
            index,
            name: malformed_name(),
        });
    };
    let address = match handled.subject {
        Subject::PasswordPolicy => Address::PasswordPolicy,
        Subject::CloudTrail => Address::CloudTrail,
        Subject::User => match &event.user_name {
            Some(user) => Address::User(user.clone()),
            None => {
                return Err(Malformed::NoUser {
                    index,
                    name: malformed_name(),
                });
            }
        },
    };
    let Some(account) = accounts.iter().find(|a| a.account_id == account_id) else {
        return ignored(Ignore::NoTarget(account_id.to_owned()));
    };
    let own = is_own_session(&event.principal_arn)
        || account.caller_arn.as_deref() == Some(event.principal_arn.as_str());
    if own {
        return ignored(Ignore::OwnCall(event.principal_arn.clone()));
    }
    Ok(Meaning::Plan {
        target: account.target.clone(),
        address,
    })
}

/// Maps every event; the first malformed one fails the whole input (nothing is planned).
pub fn map_events(envelopes: &[Envelope], accounts: &[AccountRef]) -> Result<Mapping, Malformed> {
    let mut mapping = Mapping::default();
    for (index, envelope) in envelopes.iter().enumerate() {
        match classify(index, envelope, accounts)? {
            Meaning::Plan { target, address } => {
                mapping
                    .addresses
                    .entry(target.clone())
                    .or_default()
                    .insert(address);
                mapping.handled.push((index, target));
            }
            Meaning::Ignored(ignored) => mapping.ignored.push(ignored),
        }
    }
    Ok(mapping)
}

/// The account ids of handled events that are not malformed, whatever their target: for
/// reading identities only where events need them.
pub fn event_accounts(envelopes: &[Envelope]) -> BTreeSet<String> {
    envelopes
        .iter()
        .filter(|e| handled(&e.event.event_source, &e.event.event_name).is_some())
        .filter_map(|e| e.event.account_id.clone())
        .collect()
}

#[cfg(test)]
mod tests;
