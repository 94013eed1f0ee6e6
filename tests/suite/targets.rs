//! `--target` as a pure property, with plain values: planning only the users a target can
//! select (what the targeted read reads) and keeping the targeted items gives exactly the full
//! plan restricted to those items, for synthetic accounts, every rule on, and address globs.

use crate::fixtures;

use fixtures::{as_of, rules, synthetic_account};
use iamctl::desired::Rules;
use iamctl::plan::{AccountPlan, Targets, plan_account};
use iamctl::state::AccountState;
use proptest::prelude::*;

const RULES: &str = r#"
[password_policy]
minimum_length = 14
require_symbols = true

[users]
exempt = ["break-glass-*"]
exempt_tags = { "iam-exempt" = "true" }

[users.console]
require_mfa = true
without_mfa = "deny-until-mfa"
max_unused_days = 45
on_unused = "disable-console"
reset_on_policy_tightening = true

[users.access_keys]
max_age_days = 90
on_expired = "deactivate"
max_unused_days = 45
on_unused = "delete"
delete_inactive = true
max_active = 1

[[user]]
name = "user-00007"
console = false

[[user]]
name = "ghost"
console = true

[audit]
require_cloudtrail = true
"#;

/// The account as a targeted read sees it: only the users the targets may select, or every
/// user when a selected policy tightens and brings its resets; the password policy, trails
/// and caller as they are.
fn as_read(state: &AccountState, rules: &Rules, targets: &Targets) -> AccountState {
    let mut read = state.clone();
    if !targets.reads_console_users(rules, state.password_policy.as_ref()) {
        read.users.retain(|u| targets.may_select_user(&u.name));
        read.credential_report_generated_at = None;
    }
    read
}

fn restricted(mut plan: AccountPlan, targets: &Targets) -> AccountPlan {
    targets.restrict(&mut plan);
    plan
}

fn targets(patterns: &[String]) -> Targets {
    Targets::parse(patterns)
        .unwrap()
        .expect("at least one pattern")
}

fn check(state: &AccountState, patterns: &[String]) {
    let rules = rules(RULES);
    let targets = targets(patterns);
    let full = restricted(plan_account("default", &rules, state, as_of()), &targets);
    let targeted = restricted(
        plan_account(
            "default",
            &rules,
            &as_read(state, &rules, &targets),
            as_of(),
        ),
        &targets,
    );
    assert_eq!(targeted.changes, full.changes, "changes for {patterns:?}");
    assert_eq!(
        targeted.findings, full.findings,
        "findings for {patterns:?}"
    );
}

#[test]
fn named_users_globs_and_account_wide_targets_give_the_restricted_full_plan() {
    let state = synthetic_account(300, 5);
    let full = plan_account("default", &rules(RULES), &state, as_of());
    assert!(full.changes.len() > 50, "a plan worth restricting");
    for patterns in [
        vec!["user.user-00007"],
        vec!["user.user-0001*"],
        vec!["user.*.login_profile"],
        vec!["user.user-002*.policy.*", "password_policy"],
        vec!["password_policy"],
        vec!["cloudtrail"],
        vec!["user.ghost"],
        vec!["user.break-glass-00250"],
        vec!["*"],
    ] {
        let patterns: Vec<String> = patterns.into_iter().map(str::to_owned).collect();
        check(&state, &patterns);
    }
    // The targets select what they name, no more.
    let bob = restricted(full.clone(), &targets(&["user.user-00007".to_owned()]));
    assert!(
        bob.changes
            .iter()
            .all(|c| c.address().user() == Some("user-00007"))
    );
    assert!(!bob.changes.is_empty() || !bob.findings.is_empty());
}

fn pattern() -> impl Strategy<Value = String> {
    prop_oneof![
        (0usize..120).prop_map(|i| format!("user.user-{i:05}")),
        (0usize..12).prop_map(|i| format!("user.user-000{i:1}*")),
        (0usize..120).prop_map(|i| format!("user.user-{i:05}.login_profile")),
        (0usize..120).prop_map(|i| format!("user.user-{i:05}.access_key.*")),
        Just("user.*.policy.iamctl-deny-without-mfa".to_owned()),
        Just("password_policy".to_owned()),
        Just("cloudtrail".to_owned()),
        Just("user.ghost".to_owned()),
        Just("user.user-0010?".to_owned()),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn any_targets_give_the_restricted_full_plan(
        seed in 0u64..1000,
        patterns in prop::collection::vec(pattern(), 1..4),
    ) {
        check(&synthetic_account(120, seed), &patterns);
    }
}
