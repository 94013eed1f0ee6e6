//! The diff: what one target's rules ask of its live state, as changes and findings.
//! Pure and deterministic: no I/O, no clock (ages are measured against `as_of`), no SDK types.
//!
//! One file per concern, each a part of [`Context`]'s work on one account: `account.rs` (the
//! password policy, CloudTrail), `console.rs` (login profile, MFA, the deny policy),
//! `access_keys.rs` (access keys as a credential kind), `credentials.rs` (access keys planned
//! through the credential lifecycle), `rotation.rs` (key rotation's changes). The rules that
//! only report are `plan/compliance.rs`; the staged lifecycle every credential goes through is
//! `plan/lifecycle/`; the `iamctl:*` records are read and written by `plan/records.rs`. This
//! file orders the account's items and gives each user's items their owner.

mod access_keys;
mod account;
mod account_controls;
mod console;
mod credentials;
mod output;
mod population;
mod rotation;
mod server_certificates;
mod user_credentials;

use chrono::{DateTime, Utc};

use super::address::*;
use super::model::*;
use super::rule::Rule;
use crate::desired::Rules;
use crate::state::{AccessKey, AccountState, User};

pub(crate) use access_keys::KeyEnforcement;
pub use account::policy_tightens;
use output::Output;
pub(crate) use output::Unaddressed;

/// Plans one account: every change `apply` would make and every finding, in a stable order
/// (password policy, then users by name, then CloudTrail).
pub fn plan_account(
    name: &str,
    rules: &Rules,
    live: &AccountState,
    as_of: DateTime<Utc>,
) -> AccountPlan {
    let (mut plan, unaddressed) = plan_account_provisional(name, rules, live, as_of);
    for item in unaddressed {
        let owner = live.user(&item.user).and_then(|user| rules.owners.of(user));
        plan.findings.push(Finding {
            owner,
            ..Finding::new(
                Address::User(item.user),
                item.rule,
                format!(
                    "{} (an access key known only from the credential report: its id was not read, so nothing is done about it)",
                    item.message
                ),
            )
        });
    }
    plan
}

/// [`plan_account`], with the items about keys known only from the credential report set
/// apart, for the reads that confirm them.
pub(crate) fn plan_account_provisional(
    name: &str,
    rules: &Rules,
    live: &AccountState,
    as_of: DateTime<Utc>,
) -> (AccountPlan, Vec<Unaddressed>) {
    let mut out = Output::default();
    let tightening = account::plan_password_policy(rules, live, &mut out);

    // Users in name order; a `[[user]]` entry naming no live user is reported in its place.
    let mut subjects: Vec<(&str, Option<&User>)> = live
        .users
        .iter()
        .filter(|u| !rules.exemptions.is_exempt(u))
        .map(|u| (u.name.as_str(), Some(u)))
        .collect();
    let live_names: std::collections::HashSet<&str> =
        live.users.iter().map(|u| u.name.as_str()).collect();
    subjects.extend(
        rules
            .users
            .iter()
            .filter(|r| !live_names.contains(r.name.as_str()))
            .map(|r| (r.name.as_str(), None)),
    );
    subjects.sort_by(|a, b| a.0.cmp(b.0));
    let ctx = Context {
        account: name,
        rules,
        live,
        as_of,
        tightening,
    };
    for (name, user) in subjects {
        match user {
            Some(user) => ctx.plan_user(user, &mut out),
            None => out.finding(
                Address::User(name.to_owned()),
                Rule::User,
                "a [[user]] entry names a user that does not exist".into(),
            ),
        }
    }

    if rules.require_cloudtrail || rules.cloudtrail_create.is_some() {
        account::plan_cloudtrail(rules, live, &mut out);
    }
    ctx.plan_server_certificates(&mut out);
    ctx.plan_account_controls(&mut out);
    out.findings.extend(super::compliance::account_findings(
        &rules.compliance,
        live,
        as_of,
    ));

    let plan = AccountPlan {
        name: name.to_owned(),
        account_id: live.account_id.clone(),
        changes: out.changes,
        findings: out.findings,
        credential_report_generated_at: live.credential_report_generated_at,
        error: None,
    };
    (plan, out.unaddressed)
}

struct Context<'a> {
    /// The target's name (`{account}` of a rotation's secret name).
    account: &'a str,
    rules: &'a Rules,
    live: &'a AccountState,
    as_of: DateTime<Utc>,
    /// Whether the plan makes the password policy stricter (console passwords may be reset).
    tightening: bool,
}

/// The day of a timestamp, for messages.
fn day(at: DateTime<Utc>) -> String {
    at.format("%Y-%m-%d").to_string()
}

impl Context<'_> {
    fn is_caller(&self, user: &User) -> bool {
        self.live
            .caller
            .as_ref()
            .and_then(|c| c.user_name.as_deref())
            == Some(user.name.as_str())
    }

    fn is_caller_key(&self, key: &AccessKey) -> bool {
        let caller_key = self
            .live
            .caller
            .as_ref()
            .and_then(|c| c.access_key_id.as_deref());
        matches!((caller_key, key.id.iam()), (Some(caller), Some(id)) if id == caller)
    }

    /// Every item about one user, each given the user's owner.
    fn plan_user(&self, user: &User, out: &mut Output) {
        let (changes, findings) = (out.changes.len(), out.findings.len());
        let user_rule = self.rules.user_rule(&user.name);
        let keeps_console = self.plan_login_profile(user, user_rule, out);
        self.plan_deny_policy(user, keeps_console, out);
        self.plan_access_keys(user, out);
        self.plan_user_credentials(user, out);
        self.plan_population(user, out);
        for (rule, message) in super::compliance::user_findings(&self.rules.compliance, user) {
            out.finding(Address::User(user.name.clone()), rule, message);
        }
        if let Some(owner) = self.rules.owners.of(user) {
            // An item that names its own owner keeps it (an exception's asker).
            for change in &mut out.changes[changes..] {
                change.owner.get_or_insert_with(|| owner.clone());
            }
            for finding in &mut out.findings[findings..] {
                finding.owner.get_or_insert_with(|| owner.clone());
            }
        }
    }
}
