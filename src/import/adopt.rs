//! The adoption policy: which rules an account already meets, decided by the engine itself.
//! Each candidate rule is planned on its own against the account (with `as_of` moved by the
//! week of headroom where the rule must hold that long), so import and `plan` can never
//! disagree on what a rule flags: there is no second copy of the age arithmetic here.

use chrono::{DateTime, Duration, Utc};

use crate::desired::{Rules, ServiceCredentialRules, SshKeyRules};
use crate::plan::plan_account;
use crate::state::{AccountState, KeyStatus, PasswordPolicy, ServiceCredentialStatus};

/// A rule is written only when the account meets it with this much to spare, so that the
/// `plan` after an import stays empty for a while rather than a few hours.
pub const HEADROOM_DAYS: i64 = 7;

/// Thresholds that an imported day-count rule may take, the usual one first: import writes
/// the smallest one the account meets (with [`HEADROOM_DAYS`]), never a stricter one than
/// the usual limit.
const KEY_AGE_LADDER: &[i64] = &[90, 180, 365, 730, 1095, 1825, 3650];
const UNUSED_LADDER: &[i64] = &[45, 90, 180, 365, 730, 1095, 1825, 3650];

/// What import writes for one account: the facts its comments quote and, for each rule,
/// whether the account meets it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Adoption {
    /// The live policy, written exactly; `None`: the account has none.
    pub password_policy: Option<PasswordPolicy>,
    pub console: Console,
    pub access_keys: AccessKeys,
    /// Users with an active access key and no console password, in the state's order.
    pub key_only_users: Vec<String>,
    pub cloudtrail: CloudTrail,
    pub credentials: OtherCredentials,
    /// Every IAM user, with its `owner` tag if it has one: `[users.inventory]` and
    /// `[[users.exception]]` proposed from them.
    pub users: Vec<(String, Option<String>)>,
}

/// The tag key `import` reads a user's owner from (the usual `[users] owner_tag`).
pub const OWNER_TAG: &str = "owner";

/// Issue 21's tables: what the account holds of each other credential kind, and what each
/// table at its usual setting would flag (`None`: not read, as from an older snapshot).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OtherCredentials {
    /// Active service-specific credentials, and the services of all of them (sorted).
    pub service_credentials: Option<(usize, Vec<String>)>,
    /// How many `[users.service_credentials] max_age_days = 90` would report.
    pub service_credentials_over_90_days: usize,
    pub ssh_keys_active: Option<usize>,
    /// How many `[users.ssh_keys] max_age_days = 365` would report.
    pub ssh_keys_over_365_days: usize,
    /// Users with an active signing certificate.
    pub signing_certificates: Option<Vec<String>>,
    /// The users `[users.mfa] all_users = true` would report; empty: the rule is met.
    pub without_mfa: Vec<String>,
    /// Expired server certificates, and how many `delete_expired_after_days = 30` deletes.
    pub expired_server_certificates: Option<(usize, usize)>,
}

/// `[users.console]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Console {
    /// Users with a console password.
    pub users: usize,
    /// The users `require_mfa = true` would report; empty: the rule is met.
    pub without_mfa: Vec<String>,
    pub max_unused_days: DayLimit,
}

/// `[users.access_keys]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccessKeys {
    pub active: usize,
    pub inactive: usize,
    pub max_age_days: DayLimit,
    pub max_unused_days: DayLimit,
    /// How many keys `delete_inactive = true` would delete.
    pub deleted_by_delete_inactive: usize,
    /// The users `max_active = 1` would report; empty: the rule is met.
    pub over_max_active: Vec<String>,
}

/// `[audit] require_cloudtrail`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CloudTrail {
    /// Trails were not read: the rule cannot be judged.
    NotRead,
    /// No trail watches IAM: the rule would report.
    Unwatched,
    /// Met, by this trail.
    WatchedBy(String),
}

/// A day-count rule (`max_age_days`, `max_unused_days`): its usual limit and how the
/// account stands against it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DayLimit {
    /// The first rung of the rule's ladder, the limit suggested when none is met.
    pub usual: i64,
    pub verdict: DayVerdict,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DayVerdict {
    /// Nothing the rule looks at exists: the usual limit is written.
    NothingToday,
    /// The usual limit is met with the headroom; the oldest is `oldest` whole days.
    Usual { oldest: i64 },
    /// A looser rung `days` is met; `soon` things are past the usual limit or within the
    /// headroom of it.
    Looser { days: i64, soon: usize },
    /// No rung is met: the rule is suggested at the usual limit, which flags `over` things
    /// today, the oldest `oldest` whole days.
    NotMet { over: usize, oldest: i64 },
}

/// The day-count rules import judges.
#[derive(Debug, Clone, Copy)]
enum DayRule {
    ConsoleUnused,
    KeyAge,
    KeyUnused,
}

impl DayRule {
    fn ladder(self) -> &'static [i64] {
        match self {
            DayRule::ConsoleUnused | DayRule::KeyUnused => UNUSED_LADDER,
            DayRule::KeyAge => KEY_AGE_LADDER,
        }
    }

    /// Rules holding this one rule alone, at `days`, reporting only.
    fn rules(self, days: i64) -> Rules {
        let mut rules = Rules::default();
        match self {
            DayRule::ConsoleUnused => rules.console.max_unused_days = Some(days),
            DayRule::KeyAge => rules.access_keys.max_age_days = Some(days),
            DayRule::KeyUnused => rules.access_keys.max_unused_days = Some(days),
        }
        rules
    }
}

/// What the account meets at `as_of`, and what every other rule would flag.
pub fn adopt(state: &AccountState, as_of: DateTime<Utc>) -> Adoption {
    let judge = Judge { state, as_of };
    let console_users = state.users.iter().filter(|u| u.has_console()).count();
    let keys = || state.users.iter().flat_map(|u| &u.access_keys);
    let active = keys().filter(|k| k.status == KeyStatus::Active).count();
    let inactive = keys().filter(|k| k.status == KeyStatus::Inactive).count();
    let mut require_mfa = Rules::default();
    require_mfa.console.require_mfa = true;
    let mut delete_inactive = Rules::default();
    delete_inactive.access_keys.delete_inactive = true;
    let mut max_active = Rules::default();
    max_active.access_keys.max_active = Some(1);
    let mut service_age = Rules::default();
    service_age.credentials.service_credentials = Some(ServiceCredentialRules {
        max_age_days: Some(90),
        ..Default::default()
    });
    let mut ssh_age = Rules::default();
    ssh_age.credentials.ssh_keys = Some(SshKeyRules {
        max_age_days: Some(365),
        ..Default::default()
    });
    let mut mfa_all = Rules::default();
    mfa_all.credentials.mfa_all_users = true;
    let mut servers = Rules::default();
    servers
        .credentials
        .server_certificates_delete_expired_after_days = Some(30);
    let service_credentials = state.users.iter().try_fold(
        (0usize, std::collections::BTreeSet::new()),
        |(active, mut services), user| {
            let held = user.service_credentials.as_ref()?;
            services.extend(held.iter().map(|c| c.service.clone()));
            let now = held
                .iter()
                .filter(|c| c.status == ServiceCredentialStatus::Active)
                .count();
            Some((active + now, services))
        },
    );
    let ssh_keys_active = state.users.iter().try_fold(0usize, |active, user| {
        let keys = user.ssh_public_keys.as_ref()?;
        Some(
            active
                + keys
                    .iter()
                    .filter(|k| k.status == KeyStatus::Active)
                    .count(),
        )
    });
    let signing_certificates = state.users.iter().try_fold(Vec::new(), |mut users, user| {
        let certs = user.signing_certificates.as_ref()?;
        if certs.iter().any(|c| c.status == KeyStatus::Active) {
            users.push(user.name.clone());
        }
        Some(users)
    });

    Adoption {
        password_policy: state.password_policy.clone(),
        console: Console {
            users: console_users,
            without_mfa: judge.verdict(&require_mfa, as_of).reported,
            max_unused_days: judge.day_limit(DayRule::ConsoleUnused, console_users),
        },
        access_keys: AccessKeys {
            active,
            inactive,
            max_age_days: judge.day_limit(DayRule::KeyAge, active),
            max_unused_days: judge.day_limit(DayRule::KeyUnused, active),
            deleted_by_delete_inactive: judge.verdict(&delete_inactive, as_of).changes,
            over_max_active: judge.verdict(&max_active, as_of).reported,
        },
        key_only_users: state
            .users
            .iter()
            .filter(|u| {
                !u.has_console() && u.access_keys.iter().any(|k| k.status == KeyStatus::Active)
            })
            .map(|u| u.name.clone())
            .collect(),
        cloudtrail: match &state.trails {
            None => CloudTrail::NotRead,
            // The engine's own test of a trail, so "met" here is "no finding" there.
            Some(trails) => match trails.iter().find(|t| t.watches_iam()) {
                Some(trail) => CloudTrail::WatchedBy(trail.name.clone()),
                None => CloudTrail::Unwatched,
            },
        },
        users: state
            .users
            .iter()
            .map(|u| (u.name.clone(), u.tags.get(OWNER_TAG).cloned()))
            .collect(),
        credentials: OtherCredentials {
            service_credentials: service_credentials
                .map(|(active, services)| (active, services.into_iter().collect())),
            service_credentials_over_90_days: judge.verdict(&service_age, as_of).reported.len(),
            ssh_keys_active,
            ssh_keys_over_365_days: judge.verdict(&ssh_age, as_of).reported.len(),
            signing_certificates,
            without_mfa: judge.verdict(&mfa_all, as_of).reported,
            expired_server_certificates: state.server_certificates.as_ref().map(|certs| {
                (
                    certs.iter().filter(|c| c.expires <= as_of).count(),
                    judge.verdict(&servers, as_of).changes,
                )
            }),
        },
    }
}

/// What the engine makes of one set of rules.
struct Verdict {
    /// The user of each finding, in the plan's order (users by name).
    reported: Vec<String>,
    /// How many changes `apply` would make.
    changes: usize,
}

struct Judge<'a> {
    state: &'a AccountState,
    as_of: DateTime<Utc>,
}

impl Judge<'_> {
    /// Plans the account under `rules` at `at`. The one place import reads the plan model.
    fn verdict(&self, rules: &Rules, at: DateTime<Utc>) -> Verdict {
        let plan = plan_account("import", rules, self.state, at);
        Verdict {
            reported: plan
                .findings
                .iter()
                .filter_map(|f| f.address.user())
                .map(str::to_owned)
                .collect(),
            changes: plan.changes.len(),
        }
    }

    /// How many things `rule` at `days` flags at `at`.
    fn flagged(&self, rule: DayRule, days: i64, at: DateTime<Utc>) -> usize {
        self.verdict(&rule.rules(days), at).reported.len()
    }

    /// `rule` against the account, `things` being how many it looks at.
    fn day_limit(&self, rule: DayRule, things: usize) -> DayLimit {
        let ladder = rule.ladder();
        let usual = ladder[0];
        if things == 0 {
            return DayLimit {
                usual,
                verdict: DayVerdict::NothingToday,
            };
        }
        // A rung holds for the headroom when the engine flags nothing that much later.
        let later = self.as_of + Duration::days(HEADROOM_DAYS);
        let met = ladder
            .iter()
            .copied()
            .find(|&days| self.flagged(rule, days, later) == 0);
        let verdict = match met {
            Some(days) if days == usual => DayVerdict::Usual {
                oldest: self.oldest_days(rule),
            },
            Some(days) => DayVerdict::Looser {
                days,
                soon: self.flagged(rule, usual, later),
            },
            None => DayVerdict::NotMet {
                over: self.flagged(rule, usual, self.as_of),
                oldest: self.oldest_days(rule),
            },
        };
        DayLimit { usual, verdict }
    }

    /// The age of the oldest thing `rule` looks at, in whole days (0 when none is older than
    /// a day). The engine flags an age strictly over N days; a nanosecond after `as_of` it
    /// flags an age of N days or more, so the largest N it flags then is that age, found by
    /// bisection.
    fn oldest_days(&self, rule: DayRule) -> i64 {
        let at = self.as_of + Duration::nanoseconds(1);
        let flags = |days: i64| self.flagged(rule, days, at) > 0;
        if !flags(0) {
            return 0;
        }
        // `low` is flagged, `high` is not.
        let (mut low, mut high) = (0, 1);
        while flags(high) {
            low = high;
            high *= 2;
        }
        while high - low > 1 {
            let mid = low + (high - low) / 2;
            if flags(mid) {
                low = mid;
            } else {
                high = mid;
            }
        }
        low
    }
}
