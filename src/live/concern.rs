//! Which users a plan read must confirm by direct calls, and which of their facts: the users
//! a change touches (with the facts the change's rule reads), the users of findings about an
//! access key (their key ids), users named by `[[user]]`, carriers of the deny-until-MFA
//! policy, and users the credential report does not know.
//! Pure: no I/O, so that the choice of calls can be tested with plain values.

use std::collections::{BTreeMap, BTreeSet};
use std::ops::{BitOr, BitOrAssign};

use crate::desired::Rules;
use crate::desired::model::WithoutMfa;
use crate::plan::{AccountPlan, Address, DENY_WITHOUT_MFA_POLICY, rule};
use crate::state::{AccountState, User};

/// A set of kinds of per-user facts, each with its own direct read.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct Facts(u8);

impl Facts {
    pub const NONE: Facts = Facts(0);
    /// The login profile: `GetLoginProfile`.
    pub const PROFILE: Facts = Facts(1);
    /// When the console password was last used: `GetUser`.
    pub const PASSWORD_LAST_USED: Facts = Facts(2);
    /// MFA devices: `ListMFADevices`.
    pub const MFA: Facts = Facts(4);
    /// Access keys and their use: `ListAccessKeys`, and `GetAccessKeyLastUsed` where their
    /// use could decide a change. Implies [`Facts::KEY_IDS`].
    pub const KEYS: Facts = Facts(8 | 16);
    /// Access keys' ids only: `ListAccessKeys`, each key keeping the credential report's last
    /// use where the report's key is unambiguously this one (for findings addressed by key id,
    /// which may rest on the report but must name the real key).
    pub const KEY_IDS: Facts = Facts(16);
    pub const ALL: Facts = Facts(31);

    pub fn is_empty(self) -> bool {
        self.0 == 0
    }

    pub fn contains(self, other: Facts) -> bool {
        self.0 & other.0 == other.0
    }

    /// The facts of `self` not in `other`. Key use is read by listing the keys again, so
    /// what remains of [`Facts::KEYS`] is all of it.
    pub fn without(self, other: Facts) -> Facts {
        let rest = Facts(self.0 & !other.0);
        if rest.0 & Facts::KEYS.without_ids() != 0 {
            Facts::KEYS | rest
        } else {
            rest
        }
    }

    /// The bit of [`Facts::KEYS`] that [`Facts::KEY_IDS`] lacks: key use.
    const fn without_ids(self) -> u8 {
        self.0 & !Facts::KEY_IDS.0
    }

    /// The facts the account-wide rules (`[users.console]`, `[users.access_keys]`) read of
    /// every user that is not exempt.
    pub fn read_by_user_rules(rules: &Rules) -> Facts {
        let console = &rules.console;
        let mut facts = Facts::NONE;
        if console.require_mfa
            || console.max_unused_days.is_some()
            || console.reset_on_policy_tightening
        {
            facts |= Facts::PROFILE;
        }
        if console.max_unused_days.is_some() {
            facts |= Facts::PASSWORD_LAST_USED;
        }
        if console.require_mfa {
            facts |= Facts::MFA;
        }
        if rules.access_keys != Default::default() {
            facts |= Facts::KEYS;
        }
        facts
    }

    /// The facts a change with this rule was derived from. An unknown rule (one added to
    /// the engine after this table) reads everything, so it is confirmed rather than trusted.
    pub fn read_by_rule(rule_name: &str) -> Facts {
        match rule_name {
            rule::CONSOLE_REQUIRE_MFA => Facts::PROFILE | Facts::MFA,
            rule::CONSOLE_MAX_UNUSED => Facts::PROFILE | Facts::PASSWORD_LAST_USED,
            rule::CONSOLE_RESET_ON_TIGHTENING | rule::USER_CONSOLE | rule::USER_PASSWORD_RESET => {
                Facts::PROFILE
            }
            rule::KEYS_MAX_AGE
            | rule::KEYS_MAX_UNUSED
            | rule::KEYS_DELETE_INACTIVE
            | rule::KEYS_MAX_ACTIVE => Facts::KEYS,
            // "A [[user]] entry names a user that does not exist": there is nothing to read.
            rule::USER => Facts::NONE,
            _ => Facts::ALL,
        }
    }
}

impl BitOr for Facts {
    type Output = Facts;
    fn bitor(self, other: Facts) -> Facts {
        Facts(self.0 | other.0)
    }
}

impl BitOrAssign for Facts {
    fn bitor_assign(&mut self, other: Facts) {
        self.0 |= other.0;
    }
}

pub(crate) fn deny_rule_on(rules: &Rules) -> bool {
    rules.console.require_mfa && rules.console.without_mfa == WithoutMfa::DenyUntilMfa
}

pub(crate) fn carries_deny_policy(user: &User) -> bool {
    user.attached_policies
        .iter()
        .any(|p| p == DENY_WITHOUT_MFA_POLICY)
}

/// Users to confirm before any plan is made, with what to confirm:
/// - users the credential report does not know (created since it was generated, or not read
///   at all): every fact the account-wide rules read, since nothing is known of them;
/// - users named by `[[user]]`: their login profile, which the entry is about even when the
///   report suggests nothing is to be done (it may be hours old);
/// - with deny-until-MFA on, carriers of the deny policy: profile and MFA, which decide
///   whether the policy is to be detached.
///
/// Exempt users are never read: no rule touches or reports them.
pub(crate) fn seeds(
    rules: &Rules,
    state: &AccountState,
    in_report: &BTreeSet<String>,
) -> BTreeMap<String, Facts> {
    let account_wide = Facts::read_by_user_rules(rules);
    let deny_rule = deny_rule_on(rules);
    let mut wanted = BTreeMap::new();
    for user in state
        .users
        .iter()
        .filter(|u| !rules.exemptions.is_exempt(u))
    {
        let mut facts = Facts::NONE;
        if !in_report.contains(&user.name) {
            facts |= account_wide;
        }
        if rules.user_rule(&user.name).is_some() {
            facts |= Facts::PROFILE;
        }
        if deny_rule && carries_deny_policy(user) {
            facts |= Facts::PROFILE | Facts::MFA;
        }
        if !facts.is_empty() {
            wanted.insert(user.name.clone(), facts);
        }
    }
    wanted
}

/// Adds, for every change of `plan` about a user, the facts its rule read: a change is
/// never proposed from the credential report alone. A finding is not a change: it may rest on
/// the report (whose age the plan states), but only on facts the report has:
/// - a finding about an access key is addressed by the key's id, which the report lacks: the
///   user's keys are listed ([`Facts::KEY_IDS`]);
/// - an unused-password finding is measured from the login profile's creation when the
///   password was never used since, and the report has no profile date (the provisional one
///   is a pessimistic guess): the profile is read, the last use stays the report's;
/// - other findings about the user (console without MFA, too many active keys) need nothing.
pub(crate) fn add_plan_items(plan: &AccountPlan, wanted: &mut BTreeMap<String, Facts>) {
    let changes = plan.changes.iter().map(|c| {
        let mut facts = Facts::read_by_rule(&c.rule);
        // The deny policy is attached for want of MFA and detached once MFA is there.
        if matches!(c.address, Address::UserPolicy { .. }) {
            facts |= Facts::PROFILE | Facts::MFA;
        }
        (&c.address, facts)
    });
    let findings = plan.findings.iter().map(|f| {
        let facts = match f.address {
            Address::AccessKey { .. } => Facts::KEY_IDS,
            _ if f.rule == rule::CONSOLE_MAX_UNUSED => Facts::PROFILE,
            _ => Facts::NONE,
        };
        (&f.address, facts)
    });
    for (address, facts) in changes.chain(findings) {
        let Some(user) = address.user() else { continue };
        if !facts.is_empty() {
            *wanted.entry(user.to_owned()).or_default() |= facts;
        }
    }
}

#[cfg(test)]
mod tests {
    use chrono::{DateTime, Utc};

    use super::*;
    use crate::desired::model::KeyAction;
    use crate::desired::{Exemptions, UserRule};
    use crate::plan::plan_account;
    use crate::state::{AccessKey, KeyStatus, LoginProfile};

    fn at(s: &str) -> DateTime<Utc> {
        s.parse().unwrap()
    }

    fn user(name: &str) -> User {
        User {
            name: name.into(),
            arn: String::new(),
            created: at("2020-01-01T00:00:00Z"),
            tags: Default::default(),
            login_profile: None,
            password_last_used: None,
            mfa_devices: vec![],
            access_keys: vec![],
            attached_policies: vec![],
        }
    }

    fn state(users: Vec<User>) -> AccountState {
        AccountState {
            account_id: "123456789012".into(),
            caller: None,
            password_policy: None,
            users,
            trails: None,
            credential_report_generated_at: None,
        }
    }

    fn names(wanted: &BTreeMap<String, Facts>) -> Vec<&str> {
        wanted.keys().map(String::as_str).collect()
    }

    #[test]
    fn plan_items_ask_for_the_facts_their_rule_read() {
        let mut rules = Rules::default();
        rules.access_keys.max_age_days = Some(90);
        rules.access_keys.on_expired = KeyAction::Deactivate;
        rules.console.require_mfa = true;
        let mut old_key = user("old-key");
        old_key.access_keys.push(AccessKey {
            id: "report-key-1".into(),
            status: KeyStatus::Active,
            created: at("2020-01-01T00:00:00Z"),
            last_used: None,
        });
        let mut console = user("console");
        console.login_profile = Some(LoginProfile {
            created: at("2020-01-01T00:00:00Z"),
            password_reset_required: false,
        });
        let live = state(vec![old_key, console, user("quiet")]);

        let plan = plan_account("t", &rules, &live, at("2021-01-01T00:00:00Z"));
        let mut wanted = BTreeMap::new();
        add_plan_items(&plan, &mut wanted);
        // The console finding rests on the report; the key change is confirmed in full.
        assert_eq!(names(&wanted), ["old-key"]);
        assert_eq!(wanted["old-key"], Facts::KEYS);
    }

    #[test]
    fn findings_ask_only_for_the_ids_their_address_names() {
        let mut rules = Rules::default();
        rules.access_keys.max_age_days = Some(90);
        rules.access_keys.max_active = Some(0);
        rules.console.require_mfa = true;
        rules.console.max_unused_days = Some(30);
        let mut both = user("both");
        both.access_keys.push(AccessKey {
            id: "report-key-1".into(),
            status: KeyStatus::Active,
            created: at("2020-01-01T00:00:00Z"),
            last_used: None,
        });
        both.login_profile = Some(LoginProfile {
            created: at("2020-01-01T00:00:00Z"),
            password_reset_required: false,
        });
        let live = state(vec![both]);

        let plan = plan_account("t", &rules, &live, at("2021-01-01T00:00:00Z"));
        assert!(plan.changes.is_empty(), "{:?}", plan.changes);
        assert_eq!(plan.findings.len(), 4, "{:?}", plan.findings);
        let mut wanted = BTreeMap::new();
        add_plan_items(&plan, &mut wanted);
        assert_eq!(wanted["both"], Facts::KEY_IDS | Facts::PROFILE);
        assert!(!Facts::KEY_IDS.contains(Facts::KEYS));
        assert!(Facts::KEYS.contains(Facts::KEY_IDS));
    }

    #[test]
    fn seeds_cover_user_entries_deny_carriers_and_users_missing_from_the_report() {
        let mut rules = Rules::default();
        rules.console.require_mfa = true;
        rules.console.without_mfa = WithoutMfa::DenyUntilMfa;
        rules.users = vec![UserRule {
            name: "named".into(),
            console: Some(true),
            password_reset_required: false,
        }];
        rules.exemptions =
            Exemptions::new(vec!["break-glass-*".into()], Default::default()).unwrap();
        let mut carrier = user("carrier");
        carrier
            .attached_policies
            .push(DENY_WITHOUT_MFA_POLICY.into());
        let live = state(vec![
            user("break-glass-1"),
            carrier,
            user("named"),
            user("new-since-report"),
            user("known"),
        ]);
        let in_report: BTreeSet<String> = ["break-glass-1", "carrier", "named", "known"]
            .into_iter()
            .map(String::from)
            .collect();

        let wanted = seeds(&rules, &live, &in_report);
        assert_eq!(names(&wanted), ["carrier", "named", "new-since-report"]);
        assert_eq!(wanted["carrier"], Facts::PROFILE | Facts::MFA);
        assert_eq!(wanted["named"], Facts::PROFILE);
        assert_eq!(wanted["new-since-report"], Facts::PROFILE | Facts::MFA);
    }

    #[test]
    fn without_account_wide_rules_only_named_users_are_seeded() {
        let rules = Rules {
            users: vec![UserRule {
                name: "b".into(),
                console: Some(false),
                password_reset_required: false,
            }],
            ..Default::default()
        };
        let live = state(vec![user("a"), user("b")]);
        assert_eq!(Facts::read_by_user_rules(&rules), Facts::NONE);
        let wanted = seeds(&rules, &live, &BTreeSet::new());
        assert_eq!(names(&wanted), ["b"]);
    }

    #[test]
    fn unknown_rules_are_confirmed_in_full() {
        assert_eq!(Facts::read_by_rule("users.something_new"), Facts::ALL);
        assert!(Facts::ALL.contains(Facts::KEYS | Facts::MFA));
        assert_eq!(
            (Facts::PROFILE | Facts::MFA).without(Facts::PROFILE),
            Facts::MFA
        );
        // Key ids known, key use wanted: the keys are listed again, with their use.
        assert_eq!(Facts::KEYS.without(Facts::KEY_IDS), Facts::KEYS);
        assert_eq!(Facts::KEY_IDS.without(Facts::KEYS), Facts::NONE);
    }
}
