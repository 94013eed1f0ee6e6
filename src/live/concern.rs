//! Which users a plan read must confirm by direct calls, and which of their facts: the users
//! a change touches (with the facts the change's rule reads), the users of findings about an
//! access key (their key ids), users whose unused password the report leaves in doubt (their
//! login profile), users named by `[[user]]`, carriers of the deny-until-MFA policy, and
//! users the credential report does not know.
//! Pure: no I/O, so that the choice of calls can be tested with plain values.

use std::collections::{BTreeMap, BTreeSet};
use std::ops::{BitOr, BitOrAssign};

use crate::desired::Rules;
use crate::desired::model::WithoutMfa;
use chrono::{DateTime, Utc};

use crate::plan::{
    AccountPlan, Address, Change, ChangeKind, DENY_WITHOUT_MFA_POLICY, RotationRecord, Rule,
    Unaddressed, plan_account, rotation,
};
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
    /// The rotation secret's current version: `DescribeSecret`, for a user whose rotation
    /// record is pending (`plan::rotation`); nothing for any other user.
    pub const SECRET: Facts = Facts(32);
    #[cfg(test)]
    pub const ALL: Facts = Facts(63);

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
        if console.require_mfa || rules.credentials.mfa_all_users {
            facts |= Facts::MFA;
        }
        if rules.access_keys != Default::default() {
            facts |= Facts::KEYS;
        }
        let population = &rules.population;
        if population.inventory.is_some() {
            facts |= Facts::PROFILE | Facts::KEYS;
        }
        if population.forbid_setup_keys {
            facts |= Facts::PROFILE | Facts::KEYS;
        }
        facts
    }

    /// The per-user facts a plan item of this rule was derived from.
    pub fn read_by_rule(rule: Rule) -> Facts {
        match rule {
            Rule::ConsoleRequireMfa => Facts::PROFILE | Facts::MFA,
            Rule::ConsoleMaxUnused => Facts::PROFILE | Facts::PASSWORD_LAST_USED,
            Rule::ConsoleResetOnTightening | Rule::UserConsole | Rule::UserPasswordReset => {
                Facts::PROFILE
            }
            Rule::KeysMaxAge
            | Rule::KeysMaxUnused
            | Rule::KeysDeleteInactive
            | Rule::KeysMaxActive => Facts::KEYS,
            // Rotation also reads whether the secret holds an interrupted rotation's key.
            Rule::KeysRotation => Facts::KEYS | Facts::SECRET,
            // "A [[user]] entry names a user that does not exist": there is nothing to read.
            Rule::User => Facts::NONE,
            // Account-wide rules read no user's facts.
            Rule::PasswordPolicy
            | Rule::PasswordPolicyAbsent
            | Rule::AuditCloudTrail
            | Rule::AuditCloudTrailCreate => Facts::NONE,
            // Findings only, from the bulk reads (the authorization details, the account
            // summary, the credential report's root row): no direct read confirms them.
            Rule::RootForbidAccessKeys
            | Rule::RootRequireMfa
            | Rule::RootRequireHardwareMfa
            | Rule::RootMaxUsed
            | Rule::UsersForbidDirectPolicies
            | Rule::AuditForbidFullAdmin
            | Rule::AuditRequireSupportRole => Facts::NONE,
            // Read as the console MFA rule reads it (the report, or ListMFADevices).
            Rule::MfaAllUsers | Rule::BreakGlassMfa => Facts::MFA,
            // Disabling deletes the password and deactivates the keys: both confirmed.
            Rule::UsersInventory => Facts::PROFILE | Facts::KEYS,
            Rule::BreakGlassAccessKey | Rule::KeysForbidSetupKeys => Facts::KEYS,
            Rule::BreakGlassUsed => Facts::PASSWORD_LAST_USED,
            // From the authorization details, the tags and the account's own reads.
            Rule::UsersException
            | Rule::BreakGlassPolicies
            | Rule::UsersRequireTags
            | Rule::AuditSecurityContact
            | Rule::AuditAccessAnalyzer
            | Rule::AuditForbidCloudShell
            | Rule::AuditForbidServiceWildcards
            | Rule::OrganizationRootAccess => Facts::NONE,
            // The other credential kinds are read by their own lists, never from the report
            // (`live/credentials.rs`): nothing is left to confirm.
            Rule::ServiceCredentialsMaxAge
            | Rule::ServiceCredentialsAllowedServices
            | Rule::ServiceCredentialsRequireExpiry
            | Rule::ServiceCredentialsDeleteInactive
            | Rule::SshKeysMaxAge
            | Rule::SshKeysDeleteInactive
            | Rule::SigningCertificatesForbid
            | Rule::ServerCertificatesDeleteExpired => Facts::NONE,
        }
    }

    /// The facts a direct read must confirm before `change` may be proposed (SPEC "Facts
    /// about live IAM"): a change that removes, disables or restricts something rests on
    /// direct reads of what its rule read; a change that stale report data cannot make harmful
    /// is planned from the bulk data.
    pub fn confirming(change: &Change) -> Facts {
        match &change.kind {
            // Attached for want of MFA, detached once MFA is there: profile and MFA, whatever
            // the rule.
            ChangeKind::AttachDenyPolicy { .. } | ChangeKind::DetachDenyPolicy { .. } => {
                Facts::read_by_rule(change.rule) | Facts::PROFILE | Facts::MFA
            }
            // A reset that goes with a tightening policy: a profile deleted since the report
            // makes apply skip it, one created since is reset by the next run, and a flag
            // already set is set again. Nothing to confirm.
            ChangeKind::ResetPassword {
                with_tightening: true,
                ..
            } => Facts::NONE,
            // Timing records need the key's id (and whether it is there), not its use.
            ChangeKind::RecordInactiveKey { .. } | ChangeKind::ForgetInactiveKey { .. } => {
                Facts::KEY_IDS
            }
            ChangeKind::CreatePasswordPolicy { .. }
            | ChangeKind::UpdatePasswordPolicy { .. }
            | ChangeKind::DeletePasswordPolicy { .. }
            | ChangeKind::CreateLoginProfile { .. }
            | ChangeKind::DeleteLoginProfile { .. }
            | ChangeKind::ResetPassword {
                with_tightening: false,
                ..
            }
            | ChangeKind::DeactivateAccessKey { .. }
            | ChangeKind::DeleteAccessKey { .. }
            | ChangeKind::CreateTrail { .. }
            | ChangeKind::UpdateTrail { .. }
            | ChangeKind::RotateAccessKey { .. }
            | ChangeKind::RecordRotation { .. }
            | ChangeKind::ForgetRotation { .. } => Facts::read_by_rule(change.rule),
            // Listed directly, ids and all: nothing rests on the report.
            ChangeKind::DeactivateCredential { .. }
            | ChangeKind::DeleteCredential { .. }
            | ChangeKind::RecordInactiveCredential { .. }
            | ChangeKind::ForgetInactiveCredential { .. }
            | ChangeKind::DeleteServerCertificate { .. } => Facts::NONE,
            // A record of the user alone: nothing to confirm.
            ChangeKind::RecordUnlisted { .. } | ChangeKind::ForgetUnlisted { .. } => Facts::NONE,
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
        // A rotation under way, or asked for: its keys by id, and for one stopped half-way
        // the secret that tells whether its key was delivered.
        let records = rotation::records(user);
        if !records.is_empty() || rules.rotate_now.iter().any(|(name, _)| *name == user.name) {
            facts |= Facts::KEYS;
        }
        if records
            .values()
            .any(|r| matches!(r, RotationRecord::Pending { .. }))
        {
            facts |= Facts::SECRET;
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
///   password was never used since. The report has no profile date but bounds it by the
///   password's (`profile_dated` says the user's profile is dated so, or read): the finding
///   holds for any older profile. Otherwise the profile is read. The last use stays the
///   report's. Users the older bound would flag are added by [`add_profile_doubts`];
/// - other findings about the user (console without MFA, too many active keys) need nothing.
pub(crate) fn add_plan_items(
    plan: &AccountPlan,
    unaddressed: &[Unaddressed],
    profile_dated: impl Fn(&str) -> bool,
    wanted: &mut BTreeMap<String, Facts>,
) {
    let changes = plan
        .changes
        .iter()
        .filter_map(|c| Some((c.kind.user()?, Facts::confirming(c))));
    let findings = plan.findings.iter().filter_map(|f| {
        let facts = match &f.address {
            Address::AccessKey { .. } => Facts::KEY_IDS,
            Address::User(user) => match f.rule {
                Rule::ConsoleMaxUnused if !profile_dated(user) => Facts::PROFILE,
                // An MFA grace is measured from the login profile's creation, which the report
                // only bounds from above: a grace that may have run out is read, not trusted.
                Rule::ConsoleRequireMfa if f.notice.is_some() => Facts::PROFILE,
                Rule::ConsoleMaxUnused
                | Rule::ConsoleRequireMfa
                | Rule::PasswordPolicy
                | Rule::PasswordPolicyAbsent
                | Rule::ConsoleResetOnTightening
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
                | Rule::OrganizationRootAccess => Facts::NONE,
            },
            // Findings elsewhere name what the report or the account reads already showed.
            Address::PasswordPolicy
            | Address::CloudTrail
            | Address::LoginProfile(_)
            | Address::UserPolicy { .. }
            | Address::Root
            | Address::Account
            | Address::Group(_)
            | Address::Role(_)
            | Address::Credential { .. }
            | Address::Organization
            | Address::ServerCertificate(_) => Facts::NONE,
        };
        Some((f.address.user()?, facts))
    });
    // Items about keys known only from the report: a change needs the key's use confirmed as
    // well, a finding only the key's id.
    let unaddressed = unaddressed.iter().map(|item| {
        let facts = if item.is_change {
            Facts::KEYS
        } else {
            Facts::KEY_IDS
        };
        (item.user.as_str(), facts)
    });
    for (user, facts) in changes.chain(findings).chain(unaddressed) {
        if !facts.is_empty() {
            *wanted.entry(user.to_owned()).or_default() |= facts;
        }
    }
}

/// Whether `rule`'s items rest on how long a console password went unused, the measure that
/// an undated login profile makes doubtful (see [`add_profile_doubts`]).
fn measures_password_unuse(rule: Rule) -> bool {
    match rule {
        Rule::ConsoleMaxUnused => true,
        Rule::PasswordPolicy
        | Rule::PasswordPolicyAbsent
        | Rule::ConsoleRequireMfa
        | Rule::ConsoleResetOnTightening
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
        | Rule::OrganizationRootAccess
        | Rule::AuditForbidFullAdmin
        | Rule::AuditRequireSupportRole
        | Rule::KeysRotation => false,
    }
}

/// Adds the users that `console.max_unused_days` would flag if their login profile were as
/// old as the user, but does not flag with the profile dated at its password (the provisional
/// date of `password_dated` users; see `credential_report::ReportRow::apply_to`). Only a
/// direct read tells: a password set again later than the profile was created (by an
/// administrator, since a sign-in would count as a use).
pub(crate) fn add_profile_doubts(
    target: &str,
    rules: &Rules,
    state: &AccountState,
    plan: &AccountPlan,
    password_dated: impl Fn(&User) -> bool,
    as_of: DateTime<Utc>,
    wanted: &mut BTreeMap<String, Facts>,
) {
    if rules.console.max_unused_days.is_none() {
        return;
    }
    let as_old_as_the_user: Vec<User> = state
        .users
        .iter()
        .filter(|u| password_dated(u))
        .filter(|u| {
            u.login_profile
                .as_ref()
                .is_some_and(|p| p.created > u.created)
        })
        .map(|u| {
            let mut oldest = u.clone();
            if let Some(profile) = oldest.login_profile.as_mut() {
                profile.created = u.created;
            }
            oldest
        })
        .collect();
    if as_old_as_the_user.is_empty() {
        return;
    }
    // Only these users: cloning the whole state would copy every user each round.
    let oldest = AccountState {
        caller: state.caller.clone(),
        password_policy: state.password_policy.clone(),
        users: as_old_as_the_user,
        credential_report_generated_at: state.credential_report_generated_at,
        ..AccountState::new(state.account_id.clone())
    };
    let unused_items = |plan: &AccountPlan| -> Vec<(Address, Facts)> {
        let changes = plan
            .changes
            .iter()
            .map(|c| (c.address(), c.rule, Facts::read_by_rule(c.rule)));
        let findings = plan
            .findings
            .iter()
            .map(|f| (f.address.clone(), f.rule, Facts::PROFILE));
        changes
            .chain(findings)
            .filter(|(_, rule, _)| measures_password_unuse(*rule))
            .map(|(address, _, facts)| (address, facts))
            .collect()
    };
    let settled: BTreeSet<Address> = unused_items(plan).into_iter().map(|(a, _)| a).collect();
    for (address, facts) in unused_items(&plan_account(target, rules, &oldest, as_of)) {
        if settled.contains(&address) {
            continue;
        }
        if let Some(user) = address.user() {
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
    use crate::plan::{plan_account, plan_account_provisional};
    use crate::state::{AccessKey, KeyId, KeyStatus, LoginProfile};

    fn at(s: &str) -> DateTime<Utc> {
        s.parse().unwrap()
    }

    fn user(name: &str) -> User {
        User::new(name, at("2020-01-01T00:00:00Z"))
    }

    fn state(users: Vec<User>) -> AccountState {
        crate::testing::account(users)
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
            id: KeyId::ReportSlot(1),
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

        let (plan, unaddressed) =
            plan_account_provisional("t", &rules, &live, at("2021-01-01T00:00:00Z"));
        let mut wanted = BTreeMap::new();
        add_plan_items(&plan, &unaddressed, |_| false, &mut wanted);
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
            id: KeyId::ReportSlot(1),
            status: KeyStatus::Active,
            created: at("2020-01-01T00:00:00Z"),
            last_used: None,
        });
        both.login_profile = Some(LoginProfile {
            created: at("2020-01-01T00:00:00Z"),
            password_reset_required: false,
        });
        let live = state(vec![both]);

        let (plan, unaddressed) =
            plan_account_provisional("t", &rules, &live, at("2021-01-01T00:00:00Z"));
        assert!(plan.changes.is_empty(), "{:?}", plan.changes);
        // Three findings about the user; the one about the key waits for the key's id.
        assert_eq!(plan.findings.len(), 3, "{:?}", plan.findings);
        assert_eq!(unaddressed.len(), 1, "{unaddressed:?}");
        assert!(!unaddressed[0].is_change);
        let mut wanted = BTreeMap::new();
        add_plan_items(&plan, &unaddressed, |_| false, &mut wanted);
        assert_eq!(wanted["both"], Facts::KEY_IDS | Facts::PROFILE);
        assert!(!Facts::KEY_IDS.contains(Facts::KEYS));
        assert!(Facts::KEYS.contains(Facts::KEY_IDS));
    }

    fn console_user(name: &str, profile_created: &str) -> User {
        let mut u = user(name);
        u.login_profile = Some(LoginProfile {
            created: at(profile_created),
            password_reset_required: false,
        });
        u
    }

    #[test]
    fn unused_passwords_dated_by_the_report_need_no_read() {
        let mut rules = Rules::default();
        rules.console.max_unused_days = Some(30);
        let live = state(vec![console_user("old", "2020-06-01T00:00:00Z")]);
        let plan = plan_account("t", &rules, &live, at("2021-01-01T00:00:00Z"));
        assert_eq!(plan.findings.len(), 1, "{:?}", plan.findings);

        let mut wanted = BTreeMap::new();
        add_plan_items(&plan, &[], |name| name == "old", &mut wanted);
        assert!(wanted.is_empty(), "{wanted:?}");
        add_plan_items(&plan, &[], |_| false, &mut wanted);
        assert_eq!(wanted["old"], Facts::PROFILE);
    }

    #[test]
    fn profiles_that_only_the_users_age_would_flag_are_read() {
        let mut rules = Rules::default();
        rules.console.max_unused_days = Some(30);
        rules.console.on_unused = crate::desired::model::OnUnusedConsole::DisableConsole;
        let as_of = at("2021-01-01T00:00:00Z");
        // Users created 2020-01-01; the report dates each password (and so the provisional
        // profile): "recent" was set ten days ago, "stale" half a year ago.
        let live = state(vec![
            console_user("recent", "2020-12-22T00:00:00Z"),
            console_user("stale", "2020-06-01T00:00:00Z"),
            console_user("undated", "2020-12-22T00:00:00Z"),
        ]);
        let plan = plan_account("t", &rules, &live, as_of);
        let deleted: Vec<String> = plan
            .changes
            .iter()
            .map(|c| c.address().to_string())
            .collect();
        assert_eq!(deleted, ["user.stale.login_profile"]);

        let mut wanted = BTreeMap::new();
        add_profile_doubts(
            "t",
            &rules,
            &live,
            &plan,
            |u| u.name != "undated",
            as_of,
            &mut wanted,
        );
        // "recent" is flagged were its profile as old as the user: read it. "stale" already
        // has its change; "undated" is not dated by its password (its date is the user's
        // creation or read).
        assert_eq!(names(&wanted), ["recent"]);
        assert_eq!(
            wanted["recent"],
            Facts::read_by_rule(Rule::ConsoleMaxUnused)
        );

        rules.console.max_unused_days = None;
        let mut none = BTreeMap::new();
        add_profile_doubts("t", &rules, &live, &plan, |_| true, as_of, &mut none);
        assert!(none.is_empty());
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
    fn fact_sets_combine_and_subtract() {
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
