//! Reading one account's live IAM state into an [`AccountState`]: a few bulk reads, then
//! direct confirmations for only the users some rule concerns, bounded in concurrency.
//! Snapshots of that state live in [`snapshot`]. Only this module and `apply/` talk to AWS.
//!
//! How a plan read goes (SPEC "Facts about live IAM" and "Performance budget"):
//! 1. Bulk, concurrently: caller identity, password policy, and, when a rule looks at users,
//!    `GetAccountAuthorizationDetails` (users, tags, attached policies) and the credential
//!    report; trails when `require_cloudtrail` is on.
//! 2. A provisional state is built from GAAD plus the report, and planned with the real
//!    rules. Every user a change of the plan touches is a candidate.
//! 3. For each candidate, the facts its changes were derived from are replaced by direct
//!    reads (`ListAccessKeys`, `GetLoginProfile`, `ListMFADevices`, ...). The state is planned
//!    again, and any change still resting on report data is confirmed in another round, until
//!    none is: a plan never proposes a change from report data alone.
//!
//! Findings are not changes: they may rest on the report, whose age the plan states
//! (`credential_report_generated_at`), but only on facts the report has. A finding about the
//! user (`user.NAME`: console without MFA, too many active keys) costs no direct call. An
//! unused password costs no call either when it is unused even counted from when the
//! password was last set (the report's `password_last_changed`, the latest the login profile
//! can date from), and `GetLoginProfile` (not `GetUser`) when only an older profile would
//! make it unused.
//! A finding about an access key is addressed by the key's id, which the report lacks: the
//! user's keys are listed (`ListAccessKeys`), each keeping the report's last use where the
//! report's key is unambiguously the listed one, so no address in a plan holds a placeholder.
//!
//! Direct reads whose answer cannot change the plan are skipped: `GetUser` (the password's
//! last use) for a login profile younger than `console.max_unused_days`, and
//! `GetAccessKeyLastUsed` for a key past `max_age_days` when `on_expired` already asks for
//! at least what `on_unused` would (see [`user_reads::LastUsedPolicy`]).

mod account;
mod account_controls;
mod cloudtrail;
mod concern;
mod credential_report;
mod credentials;
mod directory;
mod grants;
mod root;
mod sdk_time;
pub(crate) mod secret;
mod selection;
pub mod snapshot;
mod targeted;
mod user_reads;

use std::collections::{BTreeMap, BTreeSet};

use chrono::{DateTime, Utc};

use crate::aws::{AccountClients, AwsError};
use crate::desired::Rules;
use crate::plan::{KeyEnforcement, RotationRecord, Targets, plan_account_provisional, rotation};
use crate::state::{AccountState, User};

use concern::Facts;
use credential_report::{CredentialReport, ReportKey};
use user_reads::{LastUsedPolicy, Reader, UserRequest};
// Named here for the reads of every file of `live/` (`use super::to_utc`).
use sdk_time::to_utc;

pub use account::{Identity, read_identity};
pub use account_controls::organization_features;
pub use credential_report::PLACEHOLDER_MFA_SERIAL;
pub use credentials::CREDENTIAL_SERVICES;
pub use selection::ReadSelection;
pub use snapshot::{NamedAccount, Snapshot, SnapshotError, read_snapshot, write_snapshot};

/// What to read.
#[derive(Debug, Clone, Copy)]
pub enum ReadScope<'a> {
    /// For `plan` and `apply`: the bulk reads, plus only the direct reads these rules need.
    /// Users no change concerns keep the credential report's facts (their keys known by
    /// report slot, [`crate::state::KeyId::ReportSlot`]); no change is ever derived from them,
    /// and no plan item can be addressed by a key without its IAM id.
    Rules(&'a Rules),
    /// For `snapshot` and `import`: every user's keys (with last use), login profile and MFA
    /// devices, and the trails.
    Everything,
    /// For `snapshot` with a desired state: [`ReadScope::Everything`], plus the credentials
    /// and account controls its tables ask for ([`ReadSelection::for_snapshot`]).
    Snapshot(&'a Rules),
    /// For a targeted plan (`--target`, `--event`): only what the targets' plan items need,
    /// each user read directly (see `targeted.rs`).
    Targets(&'a Rules, &'a Targets),
}

/// Rounds of confirmation before giving up on reaching a plan that rests only on direct
/// reads. Each round confirms at least one more kind of fact for some user, and there are
/// five kinds (key ids and key use counting apart), so five rounds always suffice; the bound
/// only guards against a bug looping.
const MAX_CONFIRMATION_ROUNDS: usize = 7;

/// Reads the live state of the account behind `clients`. Ages that decide which users need
/// direct reads are measured at `as_of`, as the plan will measure them. At most
/// `concurrency` per-user reads run at once.
pub async fn read_account(
    clients: &AccountClients,
    scope: ReadScope<'_>,
    as_of: DateTime<Utc>,
    concurrency: usize,
) -> Result<AccountState, AwsError> {
    let selection = match scope {
        ReadScope::Rules(rules) => ReadSelection::of(rules),
        ReadScope::Snapshot(rules) => ReadSelection::for_snapshot(rules),
        ReadScope::Everything => ReadSelection::every_credential(),
        ReadScope::Targets(..) => ReadSelection::default(),
    };
    let (directory_want, needs_report, needs_trails, root_want) = match scope {
        ReadScope::Targets(rules, targets) => {
            if let Some(state) = targeted::read(clients, rules, targets, concurrency).await? {
                return Ok(state);
            }
            // The targets select many users: the bulk read costs less, and the plan is
            // restricted to them all the same.
            return Box::pin(read_account(
                clients,
                ReadScope::Rules(rules),
                as_of,
                concurrency,
            ))
            .await;
        }
        // The report only serves the account-wide user rules and `[root] max_used_days`;
        // `[[user]]` entries alone are confirmed directly, which is cheaper than generating a
        // report.
        ReadScope::Rules(rules) => {
            let compliance = &rules.compliance;
            // `forbid_cloudshell_full_access` looks at every user's, group's and role's
            // attached policies; break-glass users' policies are read with the users.
            let cloudshell = rules.account_controls.forbid_cloudshell_full_access;
            let break_glass = !rules.population.break_glass.users.is_empty();
            (
                directory::Want {
                    users: rules.concerns_users(),
                    policies: compliance.reads_user_policies()
                        || compliance.reads_groups()
                        || cloudshell
                        || break_glass
                        || rules.account_controls.forbid_service_wildcards,
                    roles: compliance.reads_roles() || cloudshell,
                },
                !Facts::read_by_user_rules(rules).is_empty()
                    || compliance.root_max_used_days.is_some()
                    || selection.needs_report(),
                rules.require_cloudtrail || rules.cloudtrail_create.is_some(),
                compliance
                    .reads_root()
                    .then_some(compliance.root_require_hardware_mfa),
            )
        }
        ReadScope::Everything | ReadScope::Snapshot(_) => (
            directory::Want {
                users: true,
                policies: true,
                roles: true,
            },
            true,
            true,
            Some(true),
        ),
    };

    let (identity, password_policy, directory, report, trails, root) = futures::try_join!(
        account::read_identity(clients),
        account::read_password_policy(clients),
        async {
            if directory_want.any() {
                directory::read(clients, directory_want).await
            } else {
                Ok(directory::Directory::default())
            }
        },
        async {
            if needs_report {
                credential_report::fetch(clients).await.map(Some)
            } else {
                Ok(None)
            }
        },
        async {
            if needs_trails {
                cloudtrail::read_trails(clients).await.map(Some)
            } else {
                Ok(None)
            }
        },
        async {
            match root_want {
                Some(hardware) => root::read(clients, hardware).await.map(Some),
                None => Ok(None),
            }
        },
    )?;

    let directory::Directory {
        mut users,
        groups,
        roles,
        service_wildcard_policies,
    } = directory;
    let root = root.map(|mut root| {
        root.usage = report.as_ref().and_then(|r| r.root.clone());
        root
    });
    let in_report = report
        .as_ref()
        .map(|r| r.apply_to(&mut users))
        .unwrap_or_default();
    let mut state = AccountState {
        account_id: identity.account_id,
        caller: Some(identity.caller),
        password_policy,
        users,
        trails,
        credential_report_generated_at: report.as_ref().and_then(|r| r.generated_at),
        root,
        groups,
        roles,
        service_wildcard_policies,
        ..AccountState::default()
    };

    match scope {
        // (A targeted read returned above.)
        ReadScope::Rules(rules) | ReadScope::Targets(rules, _) => {
            confirm_for_rules(
                clients,
                rules,
                &mut state,
                report.as_ref(),
                &in_report,
                as_of,
                concurrency,
            )
            .await?
        }
        ReadScope::Everything | ReadScope::Snapshot(_) => {
            read_every_user(
                clients,
                &mut state,
                report.as_ref(),
                &in_report,
                concurrency,
            )
            .await?
        }
    }
    if !selection.is_empty() {
        credentials::read(
            clients,
            &selection,
            report.as_ref(),
            &in_report,
            concurrency,
            &mut state,
        )
        .await?;
        account_controls::read(clients, &selection, &mut state).await?;
    }
    Ok(state)
}

/// Step 2 and 3 of the module comment: plan, confirm what the plan rests on, repeat.
async fn confirm_for_rules(
    clients: &AccountClients,
    rules: &Rules,
    state: &mut AccountState,
    report: Option<&CredentialReport>,
    in_report: &BTreeSet<String>,
    as_of: DateTime<Utc>,
    concurrency: usize,
) -> Result<(), AwsError> {
    if state.users.is_empty() {
        return Ok(());
    }
    let reader = Reader {
        clients,
        last_used: match rules.access_keys.max_unused_days {
            Some(days) => LastUsedPolicy::WhenPossiblyUnused {
                max_unused_days: days,
                decided_by_age: age_decides_key_changes(rules),
                as_of,
            },
            None => LastUsedPolicy::Never,
        },
        young_profiles: rules.console.max_unused_days.map(|days| (days, as_of)),
        mfa_always: false,
    };
    // Users whose provisional login profile is dated at its password (see
    // `ReportRow::apply_to`): an unused-password finding made with that date is sure.
    let password_dated: BTreeSet<String> = state
        .users
        .iter()
        .filter(|u| in_report.contains(&u.name))
        .filter(|u| {
            report
                .and_then(|r| r.row(&u.name))
                .and_then(|row| row.password_dated_profile(u))
                .is_some()
        })
        .map(|u| u.name.clone())
        .collect();
    let mut wanted = concern::seeds(rules, state, in_report);
    let mut confirmed: BTreeMap<String, Facts> = BTreeMap::new();
    for round in 0..MAX_CONFIRMATION_ROUNDS {
        let (plan, unaddressed) = plan_account_provisional(&clients.target, rules, state, as_of);
        let profile_read = |name: &str| {
            confirmed
                .get(name)
                .is_some_and(|f| f.contains(Facts::PROFILE))
        };
        concern::add_plan_items(
            &plan,
            &unaddressed,
            |name| profile_read(name) || password_dated.contains(name),
            &mut wanted,
        );
        concern::add_profile_doubts(
            &clients.target,
            rules,
            state,
            &plan,
            |user| password_dated.contains(&user.name) && !profile_read(&user.name),
            as_of,
            &mut wanted,
        );
        let requests: Vec<UserRequest> = wanted
            .iter()
            .filter_map(|(name, want)| {
                let missing = want.without(confirmed.get(name).copied().unwrap_or_default());
                // Users are sorted by name (and some may have vanished meanwhile).
                let index = state
                    .users
                    .binary_search_by(|u| u.name.as_str().cmp(name))
                    .ok()?;
                let user = &state.users[index];
                (!missing.is_empty()).then(|| {
                    let mut request = request_for(rules, user, missing, report, in_report);
                    // Only a rotation stopped half-way needs its secret read.
                    let pending = rotation::records(user)
                        .values()
                        .any(|r| matches!(r, RotationRecord::Pending { .. }));
                    let spec = rules.access_keys.rotation.as_ref().filter(|_| pending);
                    request.rotation_secret = spec.map(|spec| {
                        rotation::secret_name(
                            &spec.secret_name,
                            &clients.target,
                            &state.account_id,
                            &user.name,
                        )
                    });
                    request
                })
            })
            .collect();
        if requests.is_empty() && !unaddressed.is_empty() {
            // Every user with such an item had its keys listed: a bug, not a state of IAM.
            return Err(AwsError::new(
                &clients.target,
                "reading users",
                format!(
                    "access keys of {} still known only from the credential report after reading them (a bug in iamctl)",
                    unaddressed[0].user
                ),
            ));
        }
        if requests.is_empty() {
            tracing::debug!(account = %clients.target, rounds = round, confirmed = confirmed.len(), "live state confirmed");
            return Ok(());
        }
        tracing::debug!(account = %clients.target, round, users = requests.len(), "confirming users by direct reads");
        let results = reader.read_users(requests, concurrency).await?;
        for result in results {
            *confirmed.entry(result.name.clone()).or_default() |= result.settled;
            result.apply_to(&mut state.users);
        }
    }
    Err(AwsError::new(
        &clients.target,
        "reading users",
        format!(
            "live state still unconfirmed after {MAX_CONFIRMATION_ROUNDS} rounds of direct reads (a bug in iamctl)"
        ),
    ))
}

/// `max_age_days`, when a key past it gets the same change whatever its last use: the engine
/// keeps the strongest of the two rules' actions (`delete` > `deactivate` > `report`), the
/// max-age rule winning a tie. With `report` both findings are listed, so use still matters.
fn age_decides_key_changes(rules: &Rules) -> Option<i64> {
    let keys = &rules.access_keys;
    let (expired, unused) = (
        KeyEnforcement::from(keys.on_expired),
        KeyEnforcement::from(keys.on_unused),
    );
    (expired != KeyEnforcement::Report && expired.strength() >= unused.strength())
        .then_some(keys.max_age_days)
        .flatten()
}

fn request_for(
    rules: &Rules,
    user: &User,
    want: Facts,
    report: Option<&CredentialReport>,
    in_report: &BTreeSet<String>,
) -> UserRequest {
    UserRequest {
        name: user.name.clone(),
        want,
        login_profile: user.login_profile.is_some(),
        deny_policy_attached: concern::deny_rule_on(rules) && concern::carries_deny_policy(user),
        report_keys: report_keys(report, in_report, &user.name),
        rotation_secret: None,
        successors: rotation::records(user)
            .into_iter()
            .filter_map(|(old, record)| match record {
                RotationRecord::Rotated { to, .. } => Some((old, to)),
                RotationRecord::Pending { .. } => None,
            })
            .collect(),
    }
}

/// The report's keys of a user it knows (not of an earlier user of the same name).
fn report_keys(
    report: Option<&CredentialReport>,
    in_report: &BTreeSet<String>,
    name: &str,
) -> Vec<ReportKey> {
    match report.and_then(|r| r.row(name)) {
        Some(row) if in_report.contains(name) => row.keys.clone(),
        _ => Vec::new(),
    }
}

/// `snapshot`: every user gets every direct read. The password's last use stays the
/// credential report's (the snapshot records the report's date): reading it directly would
/// cost a `GetUser` per console user.
async fn read_every_user(
    clients: &AccountClients,
    state: &mut AccountState,
    report: Option<&CredentialReport>,
    in_report: &BTreeSet<String>,
    concurrency: usize,
) -> Result<(), AwsError> {
    let reader = Reader {
        clients,
        last_used: LastUsedPolicy::Always,
        young_profiles: None,
        mfa_always: true,
    };
    let requests = state
        .users
        .iter()
        .map(|user| UserRequest {
            name: user.name.clone(),
            want: Facts::PROFILE | Facts::MFA | Facts::KEYS,
            login_profile: user.login_profile.is_some(),
            deny_policy_attached: concern::carries_deny_policy(user),
            report_keys: report_keys(report, in_report, &user.name),
            rotation_secret: None,
            successors: Vec::new(),
        })
        .collect();
    for result in reader.read_users(requests, concurrency).await? {
        result.apply_to(&mut state.users);
    }
    Ok(())
}
