//! The plan engine on plain values: desired state from TOML text, live state as structs, no AWS.
//! One section per row of SPEC.md's rule table, then the cross-cutting properties (exemptions,
//! the caller, one change per address, `as_of`, order, account overrides, convergence), then
//! snapshot tests of two rich plans (one of them `examples/`).

use crate::fixtures;

use std::collections::{BTreeMap, BTreeSet};

use chrono::Duration;
use fixtures::*;
use iamctl::plan::{
    AccountPlan, Action, Address, ChangeKind, DENY_WITHOUT_MFA_POLICY, ProfileFacts, Rule,
    SecretTarget, plan_account,
};
use iamctl::state::{AccountState, KeyStatus, PasswordPolicy, Trail};
use serde_json::{Value, json};

const STRONG_POLICY_TOML: &str = r#"
[password_policy]
minimum_length = 14
require_uppercase = true
require_lowercase = true
require_numbers = true
require_symbols = true
allow_users_to_change = true
max_age_days = 90
reuse_prevention = 24
"#;

fn with_policy(mut state: AccountState, policy: PasswordPolicy) -> AccountState {
    state.password_policy = Some(policy);
    state
}

fn only_change(plan: &AccountPlan) -> &iamctl::plan::Change {
    assert_eq!(
        plan.changes.len(),
        1,
        "expected one change, got {:#?}",
        changes(plan)
    );
    &plan.changes[0]
}

// ---------------------------------------------------------------------------------------------
// [password_policy]
// ---------------------------------------------------------------------------------------------

#[test]
fn policy_is_created_whole_when_the_account_has_none() {
    let plan = plan(&rules(STRONG_POLICY_TOML), &account([]));
    let change = only_change(&plan);
    assert_eq!(change.address(), Address::PasswordPolicy);
    assert_eq!(change.action(), Action::Create);
    assert_eq!(change.rule, Rule::PasswordPolicy);
    assert_eq!(
        change.kind,
        ChangeKind::CreatePasswordPolicy {
            after: strong_policy()
        }
    );
    assert!(plan.findings.is_empty());
}

#[test]
fn policy_is_updated_whole_when_one_field_differs() {
    let live = PasswordPolicy {
        require_symbols: false,
        ..strong_policy()
    };
    let plan = plan(
        &rules(STRONG_POLICY_TOML),
        &with_policy(account([]), live.clone()),
    );
    let change = only_change(&plan);
    assert_eq!(
        (change.action(), change.rule),
        (Action::Update, Rule::PasswordPolicy)
    );
    // The whole policy is planned, not only the field that differs: IAM has no partial update.
    assert_eq!(
        change.kind,
        ChangeKind::UpdatePasswordPolicy {
            before: live,
            after: strong_policy()
        }
    );
}

#[test]
fn policy_fields_left_out_take_iam_defaults_in_the_planned_policy() {
    let plan = plan(
        &rules("[password_policy]\nminimum_length = 14\n"),
        &with_policy(account([]), strong_policy()),
    );
    let change = only_change(&plan);
    assert_eq!(change.action(), Action::Update);
    let wanted = PasswordPolicy {
        minimum_length: 14,
        ..PasswordPolicy::iam_default()
    };
    let ChangeKind::UpdatePasswordPolicy { after, .. } = &change.kind else {
        panic!("not a policy update: {change:?}")
    };
    assert_eq!(*after, wanted);
    assert_eq!(after.max_age_days, None);
    assert!(!after.require_symbols);
}

#[test]
fn policy_equal_to_the_live_one_gives_no_change() {
    let plan = plan(
        &rules(STRONG_POLICY_TOML),
        &with_policy(account([]), strong_policy()),
    );
    assert_eq!(changes(&plan), Vec::<String>::new());
    assert!(plan.findings.is_empty());
}

#[test]
fn policy_ensure_absent_deletes_a_live_policy_and_nothing_else() {
    let rules = rules("[password_policy]\nensure = \"absent\"\n");
    let plan_with = plan(&rules, &with_policy(account([]), strong_policy()));
    let change = only_change(&plan_with);
    assert_eq!(change.address(), Address::PasswordPolicy);
    assert_eq!(change.action(), Action::Delete);
    assert_eq!(change.rule, Rule::PasswordPolicyAbsent);
    assert_eq!(
        change.kind,
        ChangeKind::DeletePasswordPolicy {
            before: strong_policy()
        }
    );

    let plan_without = plan(&rules, &account([]));
    assert!(
        plan_without.changes.is_empty(),
        "{:?}",
        changes(&plan_without)
    );
}

#[test]
fn policy_left_out_of_the_desired_state_is_not_managed() {
    let plan = plan(
        &rules("[audit]\nrequire_cloudtrail = false\n"),
        &with_policy(account([]), strong_policy()),
    );
    assert!(plan.changes.is_empty());
    let plan = plan_account("default", &rules(""), &account([]), as_of());
    assert!(plan.changes.is_empty());
}

// ---------------------------------------------------------------------------------------------
// users.console.reset_on_policy_tightening
// ---------------------------------------------------------------------------------------------

fn tightening_toml(policy: &str, extra: &str) -> String {
    format!(
        "[password_policy]\n{policy}\n\n[users.console]\nreset_on_policy_tightening = true\n{extra}"
    )
}

fn console_crowd() -> Vec<iamctl::state::User> {
    vec![
        user("alice").console_used(300, 2).mfa().build(),
        user("bob").console(50).build(),
        user("carol").console_used(300, 1).reset_required().build(),
        user("svc-ci")
            .key("AKIAAAAAAAAAAAAAAAA1", 10, Some(1))
            .build(),
        user("doomed").console_used(300, 3).build(),
    ]
}

#[test]
fn a_stricter_minimum_length_resets_console_users_not_yet_flagged() {
    let toml = tightening_toml(
        "minimum_length = 14",
        "[[user]]\nname = \"doomed\"\nconsole = false\n",
    );
    let live = with_policy(
        account(console_crowd()),
        PasswordPolicy {
            minimum_length: 8,
            ..PasswordPolicy::iam_default()
        },
    );
    let plan = plan(&rules(&toml), &live);
    assert_eq!(
        changes(&plan),
        [
            "update password_policy (password_policy)",
            "reset_password user.alice.login_profile (users.console.reset_on_policy_tightening)",
            "reset_password user.bob.login_profile (users.console.reset_on_policy_tightening)",
            // carol is already flagged; svc-ci has no console; doomed's profile is deleted.
            "delete user.doomed.login_profile (user.console)",
        ]
    );
    // The resets go with the tightening: apply holds the policy back if they fail.
    assert_eq!(
        plan.changes[1].kind,
        ChangeKind::ResetPassword {
            user: "alice".into(),
            with_tightening: true
        }
    );
}

#[test]
fn tightening_without_the_flag_resets_nobody() {
    let toml = "[password_policy]\nminimum_length = 14\n";
    let live = with_policy(account(console_crowd()), PasswordPolicy::iam_default());
    let plan = plan(&rules(toml), &live);
    assert_eq!(changes(&plan), ["update password_policy (password_policy)"]);
}

#[test]
fn each_stricter_field_alone_counts_as_tightening() {
    let base = PasswordPolicy {
        minimum_length: 10,
        max_age_days: Some(180),
        reuse_prevention: Some(5),
        ..PasswordPolicy::iam_default()
    };
    let cases = [
        "minimum_length = 11\nmax_age_days = 180\nreuse_prevention = 5",
        "require_uppercase = true\nminimum_length = 10\nmax_age_days = 180\nreuse_prevention = 5",
        "require_lowercase = true\nminimum_length = 10\nmax_age_days = 180\nreuse_prevention = 5",
        "require_numbers = true\nminimum_length = 10\nmax_age_days = 180\nreuse_prevention = 5",
        "require_symbols = true\nminimum_length = 10\nmax_age_days = 180\nreuse_prevention = 5",
        "hard_expiry = true\nminimum_length = 10\nmax_age_days = 180\nreuse_prevention = 5",
        "minimum_length = 10\nmax_age_days = 90\nreuse_prevention = 5",
        "minimum_length = 10\nmax_age_days = 180\nreuse_prevention = 6",
    ];
    let live = with_policy(account([user("bob").console(10).build()]), base.clone());
    for policy in cases {
        let plan = plan(&rules(&tightening_toml(policy, "")), &live);
        assert_eq!(
            changes(&plan),
            [
                "update password_policy (password_policy)",
                "reset_password user.bob.login_profile (users.console.reset_on_policy_tightening)",
            ],
            "{policy}"
        );
    }
    // A new expiry or a new reuse limit where there was none is stricter too.
    let open = PasswordPolicy {
        max_age_days: None,
        reuse_prevention: None,
        ..base
    };
    let live = with_policy(account([user("bob").console(10).build()]), open);
    for policy in [
        "minimum_length = 10\nmax_age_days = 180",
        "minimum_length = 10\nreuse_prevention = 1",
    ] {
        let plan = plan(&rules(&tightening_toml(policy, "")), &live);
        assert_eq!(plan.changes.len(), 2, "{policy}: {:?}", changes(&plan));
        assert_eq!(plan.changes[1].action(), Action::ResetPassword, "{policy}");
    }
}

#[test]
fn a_looser_or_equal_policy_resets_nobody() {
    let live = with_policy(account([user("bob").console(10).build()]), strong_policy());
    let cases = [
        // equal: no change at all
        "minimum_length = 14\nrequire_uppercase = true\nrequire_lowercase = true\nrequire_numbers = true\nrequire_symbols = true\nallow_users_to_change = true\nmax_age_days = 90\nreuse_prevention = 24",
        // shorter minimum
        "minimum_length = 12\nrequire_uppercase = true\nrequire_lowercase = true\nrequire_numbers = true\nrequire_symbols = true\nallow_users_to_change = true\nmax_age_days = 90\nreuse_prevention = 24",
        // only allow_users_to_change differs: not a matter of strength
        "minimum_length = 14\nrequire_uppercase = true\nrequire_lowercase = true\nrequire_numbers = true\nrequire_symbols = true\nmax_age_days = 90\nreuse_prevention = 24",
        // longer expiry, fewer remembered passwords
        "minimum_length = 14\nrequire_uppercase = true\nrequire_lowercase = true\nrequire_numbers = true\nrequire_symbols = true\nallow_users_to_change = true\nmax_age_days = 365\nreuse_prevention = 3",
        // no expiry, no reuse limit
        "minimum_length = 14\nrequire_uppercase = true\nrequire_lowercase = true\nrequire_numbers = true\nrequire_symbols = true\nallow_users_to_change = true",
    ];
    for (i, policy) in cases.iter().enumerate() {
        let plan = plan(&rules(&tightening_toml(policy, "")), &live);
        let expected: &[&str] = if i == 0 {
            &[]
        } else {
            &["update password_policy (password_policy)"]
        };
        assert_eq!(changes(&plan), expected, "{policy}");
    }
}

#[test]
fn a_first_policy_tightens_only_when_stricter_than_iam_defaults() {
    let live = account([user("bob").console(10).build()]);
    let plan_strict = plan(&rules(&tightening_toml("minimum_length = 8", "")), &live);
    assert_eq!(
        changes(&plan_strict),
        [
            "create password_policy (password_policy)",
            "reset_password user.bob.login_profile (users.console.reset_on_policy_tightening)",
        ]
    );
    // A policy equal to IAM's defaults is created but tightens nothing.
    let plan_default = plan(
        &rules(&tightening_toml("allow_users_to_change = true", "")),
        &live,
    );
    assert_eq!(
        changes(&plan_default),
        ["create password_policy (password_policy)"]
    );
}

#[test]
fn deleting_the_policy_resets_nobody() {
    let toml = "[password_policy]\nensure = \"absent\"\n[users.console]\nreset_on_policy_tightening = true\n";
    let live = with_policy(account([user("bob").console(10).build()]), strong_policy());
    assert_eq!(
        changes(&plan(&rules(toml), &live)),
        ["delete password_policy (password_policy.ensure)"]
    );
}

#[test]
fn a_profile_deleted_for_missing_mfa_is_not_also_reset() {
    let toml = tightening_toml(
        "minimum_length = 14",
        "require_mfa = true\nwithout_mfa = \"disable-console\"\n",
    );
    let live = account([
        user("bob").console(10).build(),
        user("eve").console(10).mfa().build(),
    ]);
    let plan = plan(&rules(&toml), &live);
    assert_eq!(
        changes(&plan),
        [
            "create password_policy (password_policy)",
            "delete user.bob.login_profile (users.console.require_mfa)",
            "reset_password user.eve.login_profile (users.console.reset_on_policy_tightening)",
        ]
    );
}

// ---------------------------------------------------------------------------------------------
// users.console.require_mfa / without_mfa
// ---------------------------------------------------------------------------------------------

fn mfa_crowd() -> AccountState {
    account([
        user("alice").console(10).mfa().build(),
        user("bob").console(10).build(),
        user("dan")
            .console(10)
            .mfa()
            .policy(DENY_WITHOUT_MFA_POLICY)
            .build(),
        user("erin")
            .console(10)
            .policy(DENY_WITHOUT_MFA_POLICY)
            .build(),
        user("svc").key("AKIAAAAAAAAAAAAAAAA1", 1, Some(1)).build(),
    ])
}

fn mfa_toml(mode: &str) -> String {
    format!("[users.console]\nrequire_mfa = true\nwithout_mfa = \"{mode}\"\n")
}

#[test]
fn without_mfa_report_reports_console_users_without_mfa() {
    let plan = plan(&rules(&mfa_toml("report")), &mfa_crowd());
    assert!(plan.changes.is_empty(), "{:?}", changes(&plan));
    assert_eq!(
        findings(&plan),
        [
            "user.bob (users.console.require_mfa)",
            "user.erin (users.console.require_mfa)"
        ]
    );
    assert_eq!(plan.findings[0].message, "console access without MFA");
    // report is the default mode
    let default_mode = plan_account(
        "default",
        &rules("[users.console]\nrequire_mfa = true\n"),
        &mfa_crowd(),
        as_of(),
    );
    assert_eq!(default_mode.findings, plan.findings);
}

#[test]
fn without_mfa_does_nothing_unless_require_mfa_is_on() {
    for mode in ["report", "disable-console", "deny-until-mfa"] {
        let toml = format!("[users.console]\nwithout_mfa = \"{mode}\"\n");
        let plan = plan(&rules(&toml), &mfa_crowd());
        assert!(
            plan.changes.is_empty() && plan.findings.is_empty(),
            "{mode}: {plan:?}"
        );
    }
}

#[test]
fn without_mfa_disable_console_deletes_the_login_profile() {
    let plan = plan(&rules(&mfa_toml("disable-console")), &mfa_crowd());
    assert_eq!(
        changes(&plan),
        [
            "delete user.bob.login_profile (users.console.require_mfa)",
            "delete user.erin.login_profile (users.console.require_mfa)",
        ]
    );
    assert_eq!(
        plan.changes[0].kind,
        ChangeKind::DeleteLoginProfile {
            user: "bob".into(),
            before: ProfileFacts {
                created: ago(10),
                password_reset_required: false,
                password_last_used: None,
            },
        }
    );
    assert!(plan.findings.is_empty());
}

#[test]
fn without_mfa_deny_until_mfa_attaches_then_detaches_once_mfa() {
    let plan = plan(&rules(&mfa_toml("deny-until-mfa")), &mfa_crowd());
    assert_eq!(
        changes(&plan),
        [
            "attach user.bob.policy.iamctl-deny-without-mfa (users.console.require_mfa)",
            // dan has MFA now: the deny policy goes
            "detach user.dan.policy.iamctl-deny-without-mfa (users.console.require_mfa)",
            // erin already carries it: nothing to do
        ]
    );
    assert_eq!(
        plan.changes[0].kind,
        ChangeKind::AttachDenyPolicy { user: "bob".into() }
    );
    assert_eq!(
        plan.changes[1].kind,
        ChangeKind::DetachDenyPolicy { user: "dan".into() }
    );
    assert!(plan.findings.is_empty(), "{:?}", findings(&plan));
}

#[test]
fn deny_until_mfa_is_not_attached_to_a_user_whose_console_is_being_deleted() {
    // ci-deployer signs CI runs with its access key; its stray console password is deleted
    // ([[user]] console = false), and idle's for being unused. The deny policy denies every
    // call made without MFA, access-key API calls included: attaching it in the same plan cuts
    // the machine off, though neither is a console user any more once the plan is applied.
    let toml = format!(
        "{}max_unused_days = 45\non_unused = \"disable-console\"\n[[user]]\nname = \"ci-deployer\"\nconsole = false\n",
        mfa_toml("deny-until-mfa")
    );
    let live = account([
        user("ci-deployer")
            .console(100)
            .key(K_NEW, 10, Some(0))
            .build(),
        user("idle").console_used(400, 100).build(),
    ]);
    let plan = plan(&rules(&toml), &live);
    assert_eq!(
        changes(&plan),
        [
            "delete user.ci-deployer.login_profile (user.console)",
            "delete user.idle.login_profile (users.console.max_unused_days)",
        ]
    );
}

#[test]
fn a_user_who_must_keep_console_is_reported_not_disabled() {
    let toml = format!(
        "{}[[user]]\nname = \"bob\"\nconsole = true\n",
        mfa_toml("disable-console")
    );
    let plan = plan(&rules(&toml), &account([user("bob").console(10).build()]));
    assert!(plan.changes.is_empty(), "{:?}", changes(&plan));
    assert_eq!(findings(&plan), ["user.bob (users.console.require_mfa)"]);
}

// ---------------------------------------------------------------------------------------------
// users.console.max_unused_days / on_unused
// ---------------------------------------------------------------------------------------------

fn unused_console_crowd() -> AccountState {
    account([
        user("long-ago").console_used(400, 100).mfa().build(),
        user("never-old").console(60).mfa().build(),
        user("never-new").console(10).mfa().build(),
        user("recent").console_used(400, 3).mfa().build(),
        user("edge-45").console_used(400, 45).mfa().build(),
        user("edge-46").console_used(400, 46).mfa().build(),
        user("no-console")
            .key("AKIAAAAAAAAAAAAAAAA1", 400, None)
            .build(),
    ])
}

#[test]
fn console_unused_too_long_is_reported() {
    let plan = plan(
        &rules("[users.console]\nmax_unused_days = 45\n"),
        &unused_console_crowd(),
    );
    assert!(plan.changes.is_empty());
    // Exactly 45 days is not "more than 45": the limit itself is still allowed.
    assert_eq!(
        findings(&plan),
        [
            "user.edge-46 (users.console.max_unused_days)",
            "user.long-ago (users.console.max_unused_days)",
            "user.never-old (users.console.max_unused_days)",
        ]
    );
    assert_eq!(
        plan.findings[1].message,
        "console password unused for 100 days (limit 45)"
    );
    assert_eq!(
        plan.findings[2].message,
        "console password never used; login profile created 60 days ago (limit 45)"
    );
}

#[test]
fn console_unused_too_long_is_disabled_with_disable_console() {
    let toml = "[users.console]\nmax_unused_days = 45\non_unused = \"disable-console\"\n";
    let plan = plan(&rules(toml), &unused_console_crowd());
    assert_eq!(
        changes(&plan),
        [
            "delete user.edge-46.login_profile (users.console.max_unused_days)",
            "delete user.long-ago.login_profile (users.console.max_unused_days)",
            "delete user.never-old.login_profile (users.console.max_unused_days)",
        ]
    );
    let ChangeKind::DeleteLoginProfile { before, .. } = &plan.changes[1].kind else {
        panic!("not a login profile deletion: {:?}", plan.changes[1])
    };
    assert_eq!(before.password_last_used, Some(ago(100)));
    assert!(plan.findings.is_empty());
}

// ---------------------------------------------------------------------------------------------
// users.access_keys
// ---------------------------------------------------------------------------------------------

const K_OLD: &str = "AKIA0000000000000OLD";
const K_NEW: &str = "AKIA0000000000000NEW";
const K_IDLE: &str = "AKIA000000000000IDLE";
const K_NEVER: &str = "AKIA00000000000NEVER";
const K_FRESH: &str = "AKIA00000000000FRESH";

fn key_crowd() -> AccountState {
    account([
        user("svc-old").key(K_OLD, 120, Some(1)).build(),
        user("svc-new").key(K_NEW, 30, Some(1)).build(),
        user("svc-idle").key(K_IDLE, 60, Some(50)).build(),
        user("svc-never").key(K_NEVER, 60, None).build(),
        user("svc-fresh").key(K_FRESH, 10, None).build(),
    ])
}

fn keys_toml(body: &str) -> String {
    format!("[users.access_keys]\n{body}\n")
}

#[test]
fn expired_keys_are_reported_by_default() {
    let plan = plan(&rules(&keys_toml("max_age_days = 90")), &key_crowd());
    assert!(plan.changes.is_empty());
    assert_eq!(
        findings(&plan),
        [format!(
            "user.svc-old.access_key.{K_OLD} (users.access_keys.max_age_days)"
        )]
    );
    assert_eq!(
        plan.findings[0].message,
        "active access key is 120 days old (limit 90)"
    );
}

#[test]
fn expired_keys_are_deactivated_or_deleted_as_asked() {
    let deactivate = plan(
        &rules(&keys_toml("max_age_days = 90\non_expired = \"deactivate\"")),
        &key_crowd(),
    );
    let change = only_change(&deactivate);
    assert_eq!(
        change.address().to_string(),
        format!("user.svc-old.access_key.{K_OLD}")
    );
    assert_eq!(
        (change.action(), change.rule),
        (Action::Deactivate, Rule::KeysMaxAge)
    );
    let ChangeKind::DeactivateAccessKey { key, delete_on, .. } = &change.kind else {
        panic!("not a deactivation: {change:?}")
    };
    assert_eq!(
        (key.id.to_string(), key.status),
        (K_OLD.into(), KeyStatus::Active)
    );
    assert_eq!(*delete_on, None);

    let delete = plan(
        &rules(&keys_toml("max_age_days = 90\non_expired = \"delete\"")),
        &key_crowd(),
    );
    let change = only_change(&delete);
    assert_eq!(
        (change.action(), change.rule),
        (Action::Delete, Rule::KeysMaxAge)
    );
    assert!(
        matches!(&change.kind, ChangeKind::DeleteAccessKey { key, .. } if key.id.to_string() == K_OLD),
        "{change:?}"
    );
    assert!(delete.findings.is_empty());
}

#[test]
fn unused_keys_are_flagged_when_used_long_ago_or_never_used_and_old() {
    let report = plan(&rules(&keys_toml("max_unused_days = 45")), &key_crowd());
    assert_eq!(
        findings(&report),
        [
            format!("user.svc-idle.access_key.{K_IDLE} (users.access_keys.max_unused_days)"),
            format!("user.svc-never.access_key.{K_NEVER} (users.access_keys.max_unused_days)"),
        ]
    );
    assert_eq!(
        report.findings[0].message,
        "active access key unused for 50 days (limit 45)"
    );
    assert_eq!(
        report.findings[1].message,
        "active access key never used; created 60 days ago (limit 45)"
    );

    for (action, expected) in [
        ("deactivate", Action::Deactivate),
        ("delete", Action::Delete),
    ] {
        let toml = keys_toml(&format!("max_unused_days = 45\non_unused = \"{action}\""));
        let plan = plan(&rules(&toml), &key_crowd());
        assert_eq!(
            changes(&plan),
            [
                format!(
                    "{expected} user.svc-idle.access_key.{K_IDLE} (users.access_keys.max_unused_days)"
                ),
                format!(
                    "{expected} user.svc-never.access_key.{K_NEVER} (users.access_keys.max_unused_days)"
                ),
            ]
        );
        assert!(plan.findings.is_empty());
    }
}

#[test]
fn the_strongest_action_wins_when_both_key_rules_flag_a_key() {
    // 120 days old and unused for 100 days: both rules flag it.
    let live = account([user("svc").key(K_OLD, 120, Some(100)).build()]);
    let cases = [
        ("deactivate", "delete", "delete", Rule::KeysMaxUnused),
        ("delete", "deactivate", "delete", Rule::KeysMaxAge),
        ("report", "deactivate", "deactivate", Rule::KeysMaxUnused),
        ("deactivate", "report", "deactivate", Rule::KeysMaxAge),
        // a tie goes to the first rule, max_age_days
        ("deactivate", "deactivate", "deactivate", Rule::KeysMaxAge),
        ("delete", "delete", "delete", Rule::KeysMaxAge),
    ];
    for (on_expired, on_unused, action, rule) in cases {
        let toml = keys_toml(&format!(
            "max_age_days = 90\non_expired = \"{on_expired}\"\nmax_unused_days = 45\non_unused = \"{on_unused}\""
        ));
        let plan = plan(&rules(&toml), &live);
        assert_eq!(
            changes(&plan),
            [format!("{action} user.svc.access_key.{K_OLD} ({rule})")],
            "{on_expired}/{on_unused}"
        );
        assert!(
            plan.findings.is_empty(),
            "{on_expired}/{on_unused}: {:?}",
            findings(&plan)
        );
    }
    // Both report: both findings, no change.
    let toml = keys_toml("max_age_days = 90\nmax_unused_days = 45");
    let plan = plan(&rules(&toml), &live);
    assert!(plan.changes.is_empty());
    assert_eq!(
        findings(&plan),
        [
            format!("user.svc.access_key.{K_OLD} (users.access_keys.max_age_days)"),
            format!("user.svc.access_key.{K_OLD} (users.access_keys.max_unused_days)"),
        ]
    );
}

#[test]
fn inactive_keys_are_untouched_unless_delete_inactive() {
    let live = account([user("svc")
        .inactive_key(K_OLD, 500, Some(400))
        .inactive_key(K_NEVER, 500, None)
        .key(K_NEW, 5, Some(1))
        .build()]);
    let strict = "max_age_days = 90\non_expired = \"delete\"\nmax_unused_days = 45\non_unused = \"delete\"\nmax_active = 1";
    let plan_keep = plan(&rules(&keys_toml(strict)), &live);
    assert!(plan_keep.changes.is_empty(), "{:?}", changes(&plan_keep));
    assert!(plan_keep.findings.is_empty(), "{:?}", findings(&plan_keep));

    let plan_delete = plan(
        &rules(&keys_toml(&format!("{strict}\ndelete_inactive = true"))),
        &live,
    );
    // keys by id: ...0000000OLD < ...000000NEVER
    assert_eq!(
        changes(&plan_delete),
        [
            format!("delete user.svc.access_key.{K_OLD} (users.access_keys.delete_inactive)"),
            format!("delete user.svc.access_key.{K_NEVER} (users.access_keys.delete_inactive)"),
        ]
    );
    let ChangeKind::DeleteAccessKey { key, .. } = &plan_delete.changes[0].kind else {
        panic!("not a key deletion: {:?}", plan_delete.changes[0])
    };
    assert_eq!(key.status, KeyStatus::Inactive);
}

#[test]
fn deactivate_means_deactivate_even_with_delete_inactive() {
    // What the user chose is what happens: `delete_inactive` deletes a key only once it has
    // been inactive for its grace, on a later run; the change says when that will be.
    let live = account([user("svc").key(K_OLD, 120, Some(100)).build()]);
    for (body, rule) in [
        (
            "max_age_days = 90\non_expired = \"deactivate\"",
            Rule::KeysMaxAge,
        ),
        (
            "max_unused_days = 45\non_unused = \"deactivate\"",
            Rule::KeysMaxUnused,
        ),
    ] {
        let keep = plan(&rules(&keys_toml(body)), &live);
        assert_eq!(
            changes(&keep),
            [format!("deactivate user.svc.access_key.{K_OLD} ({rule})")]
        );
        assert!(
            matches!(
                keep.changes[0].kind,
                ChangeKind::DeactivateAccessKey {
                    delete_on: None,
                    ..
                }
            ),
            "{:?}",
            keep.changes[0]
        );
        let staged = plan(
            &rules(&keys_toml(&format!(
                "{body}\ndelete_inactive = true\ndelete_inactive_after_days = 14"
            ))),
            &live,
        );
        assert_eq!(
            changes(&staged),
            [format!("deactivate user.svc.access_key.{K_OLD} ({rule})")]
        );
        let ChangeKind::DeactivateAccessKey { delete_on, .. } = &staged.changes[0].kind else {
            panic!("not a deactivation: {:?}", staged.changes[0])
        };
        assert_eq!(*delete_on, Some(date("2026-11-15")));
    }
}

#[test]
fn more_active_keys_than_max_active_is_a_finding() {
    let live = account([
        user("two-active")
            .key(K_NEW, 5, Some(1))
            .key(K_FRESH, 3, Some(1))
            .build(),
        user("one-each")
            .key(K_OLD, 5, Some(1))
            .inactive_key(K_IDLE, 5, Some(4))
            .build(),
        user("one").key(K_NEVER, 5, Some(1)).build(),
    ]);
    let plan1 = plan(&rules(&keys_toml("max_active = 1")), &live);
    assert!(plan1.changes.is_empty());
    assert_eq!(
        findings(&plan1),
        ["user.two-active (users.access_keys.max_active)"]
    );
    assert_eq!(
        plan1.findings[0].message,
        "2 active access keys (at most 1 allowed)"
    );

    let plan0 = plan(&rules(&keys_toml("max_active = 0")), &live);
    assert_eq!(
        findings(&plan0),
        [
            "user.one (users.access_keys.max_active)",
            "user.one-each (users.access_keys.max_active)",
            "user.two-active (users.access_keys.max_active)",
        ]
    );
}

// ---------------------------------------------------------------------------------------------
// [[user]]
// ---------------------------------------------------------------------------------------------

#[test]
fn user_console_false_deletes_an_existing_profile_only() {
    let toml =
        "[[user]]\nname = \"ci\"\nconsole = false\n[[user]]\nname = \"ci2\"\nconsole = false\n";
    let live = account([
        user("ci").console_used(100, 90).build(),
        user("ci2").build(),
    ]);
    let plan = plan(&rules(toml), &live);
    let change = only_change(&plan);
    assert_eq!(change.address(), Address::LoginProfile("ci".into()));
    assert_eq!(
        (change.action(), change.rule),
        (Action::Delete, Rule::UserConsole)
    );
    assert_eq!(
        change.kind,
        ChangeKind::DeleteLoginProfile {
            user: "ci".into(),
            before: ProfileFacts {
                created: ago(100),
                password_reset_required: false,
                password_last_used: Some(ago(90)),
            },
        }
    );
    assert!(plan.findings.is_empty());
}

#[test]
fn user_console_true_creates_a_missing_profile_with_reset_required() {
    let toml =
        "[[user]]\nname = \"alice\"\nconsole = true\n[[user]]\nname = \"bob\"\nconsole = true\n";
    let live = account([user("alice").build(), user("bob").console(5).build()]);
    let plan = plan(&rules(toml), &live);
    let change = only_change(&plan);
    assert_eq!(change.address(), Address::LoginProfile("alice".into()));
    assert_eq!(
        (change.action(), change.rule),
        (Action::Create, Rule::UserConsole)
    );
    // A new console password is always created with a reset required (ChangeKind's doc).
    assert_eq!(
        change.kind,
        ChangeKind::CreateLoginProfile {
            user: "alice".into()
        }
    );
    // Nothing in the plan can carry a password.
    assert!(
        !serde_json::to_string(&plan)
            .unwrap()
            .to_lowercase()
            .contains("password\"")
    );
}

#[test]
fn user_password_reset_required_sets_the_flag_when_unset() {
    let toml = "[[user]]\nname = \"alice\"\npassword_reset_required = true\n\
                [[user]]\nname = \"bob\"\npassword_reset_required = true\n\
                [[user]]\nname = \"carl\"\npassword_reset_required = true\n\
                [[user]]\nname = \"dora\"\npassword_reset_required = false\n";
    let live = account([
        user("alice").console(10).build(),
        user("bob").console(10).reset_required().build(),
        user("carl").build(),
        user("dora").console(10).build(),
    ]);
    let plan = plan(&rules(toml), &live);
    assert_eq!(
        changes(&plan),
        ["reset_password user.alice.login_profile (user.password_reset_required)"]
    );
    // carl has no console password to reset: reported.
    assert_eq!(
        findings(&plan),
        ["user.carl (user.password_reset_required)"]
    );
}

#[test]
fn a_user_entry_for_a_missing_user_is_a_finding() {
    let toml = "[[user]]\nname = \"ghost\"\nconsole = true\n";
    let plan = plan(&rules(toml), &account([user("alice").build()]));
    assert!(plan.changes.is_empty());
    assert_eq!(findings(&plan), ["user.ghost (user)"]);
    assert!(plan.findings[0].message.contains("does not exist"));
}

// ---------------------------------------------------------------------------------------------
// Exemptions
// ---------------------------------------------------------------------------------------------

const EVERY_RULE_TOML: &str = r#"
[password_policy]
minimum_length = 14
require_symbols = true

[users]
exempt = ["break-glass-*", "root-ish"]
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
name = "break-glass-1"
console = false
[[user]]
name = "tagged"
password_reset_required = true
[[user]]
name = "root-ish"
console = false

[audit]
require_cloudtrail = true
"#;

/// A user that every rule would act on; `n` makes its key ids unique.
fn messy(name: &str, n: u8) -> fixtures::UserBuilder {
    user(name)
        .console_used(500, 300)
        .key(&format!("AKIAMESSY{n:02}{:09}", 1), 500, Some(300))
        .key(&format!("AKIAMESSY{n:02}{:09}", 2), 500, None)
        .inactive_key(&format!("AKIAMESSY{n:02}{:09}", 3), 500, None)
}

#[test]
fn exempt_users_by_glob_or_tag_are_never_changed_nor_reported() {
    let live = account([
        messy("break-glass-1", 1).build(),
        messy("break-glass-2", 2)
            .policy(DENY_WITHOUT_MFA_POLICY)
            .mfa()
            .build(),
        messy("root-ish", 3).build(),
        messy("tagged", 4).tag("iam-exempt", "true").build(),
        messy("tagged-wrong-value", 5)
            .tag("iam-exempt", "false")
            .build(),
        messy("break-glass", 6).build(), // the glob needs the dash
    ]);
    let plan = plan(&rules(EVERY_RULE_TOML), &live);
    let exempt = ["break-glass-1", "break-glass-2", "root-ish", "tagged"];
    for address in addresses(&plan) {
        for name in exempt {
            assert!(
                !address.starts_with(&format!("user.{name}.")) && address != format!("user.{name}"),
                "exempt {name} appears at {address}"
            );
        }
    }
    // The others are acted on.
    let users: BTreeSet<String> = plan
        .changes
        .iter()
        .filter_map(|c| c.address().user().map(str::to_owned))
        .collect();
    assert_eq!(
        users,
        BTreeSet::from(["break-glass".to_owned(), "tagged-wrong-value".to_owned()])
    );
}

// ---------------------------------------------------------------------------------------------
// The caller
// ---------------------------------------------------------------------------------------------

#[test]
fn the_callers_own_key_and_login_profile_are_never_changed() {
    let signing = "AKIASIGNINGKEY000001";
    let other = "AKIASPAREKEY00000002";
    let mut live = account([user("iamctl")
        .console_used(500, 300)
        .key(signing, 500, Some(0))
        .key(other, 500, Some(300))
        .build()]);
    live.caller = Some(caller("iamctl", signing));

    for toml in [
        // every rule that would delete or reset the profile, and deactivate or delete the key
        format!("{STRONG_POLICY_TOML}\n[users.console]\nrequire_mfa = true\nwithout_mfa = \"disable-console\"\nreset_on_policy_tightening = true\n[users.access_keys]\nmax_age_days = 90\non_expired = \"delete\"\n"),
        format!("{STRONG_POLICY_TOML}\n[users.console]\nrequire_mfa = true\nwithout_mfa = \"deny-until-mfa\"\nreset_on_policy_tightening = true\n[users.access_keys]\nmax_age_days = 90\non_expired = \"deactivate\"\n"),
        "[users.console]\nmax_unused_days = 45\non_unused = \"disable-console\"\n[[user]]\nname = \"iamctl\"\npassword_reset_required = true\n".to_owned(),
        "[[user]]\nname = \"iamctl\"\nconsole = false\n".to_owned(),
    ] {
        let plan = plan(&rules(&toml), &live);
        for change in &plan.changes {
            let touches_own = matches!(&change.address(), Address::LoginProfile(u) if u == "iamctl")
                || matches!(&change.address(), Address::AccessKey { key_id, .. } if key_id == signing)
                || matches!(&change.address(), Address::UserPolicy { user, .. } if user == "iamctl");
            assert!(!touches_own, "{toml}\nchanges the caller: {change:?}");
        }
        assert!(
            plan.findings.iter().any(|f| f.message.contains("iamctl is signed")),
            "{toml}\nno finding about the caller: {:?}",
            findings(&plan)
        );
    }

    // The caller's other key is not the one iamctl signs with: it is handled like any other.
    let toml = "[users.access_keys]\nmax_unused_days = 45\non_unused = \"deactivate\"\nmax_age_days = 90\non_expired = \"deactivate\"\n";
    let plan = plan(&rules(toml), &live);
    assert_eq!(
        changes(&plan),
        [format!(
            "deactivate user.iamctl.access_key.{other} (users.access_keys.max_age_days)"
        )]
    );
    assert_eq!(
        findings(&plan),
        [format!(
            "user.iamctl.access_key.{signing} (users.access_keys.max_age_days)"
        )]
    );
    assert_eq!(
        plan.findings[0].message,
        "active access key is 500 days old (limit 90), but iamctl is signed with this key: left alone"
    );
}

// ---------------------------------------------------------------------------------------------
// Cross-cutting properties
// ---------------------------------------------------------------------------------------------

/// Desired states that switch every rule on, in every combination of the actions.
fn every_mode_combination() -> Vec<String> {
    let mut out = Vec::new();
    for without_mfa in ["report", "disable-console", "deny-until-mfa"] {
        for on_unused_console in ["report", "disable-console"] {
            for (on_expired, on_unused) in [
                ("report", "report"),
                ("deactivate", "delete"),
                ("delete", "deactivate"),
            ] {
                for delete_inactive in [false, true] {
                    out.push(format!(
                        r#"
[password_policy]
minimum_length = 14
require_symbols = true
max_age_days = 90

[users]
exempt = ["break-glass-*"]
exempt_tags = {{ "iam-exempt" = "true" }}

[users.console]
require_mfa = true
without_mfa = "{without_mfa}"
max_unused_days = 45
on_unused = "{on_unused_console}"
reset_on_policy_tightening = true

[users.access_keys]
max_age_days = 90
on_expired = "{on_expired}"
max_unused_days = 45
on_unused = "{on_unused}"
delete_inactive = {delete_inactive}
delete_inactive_after_days = 14
max_active = 1

[[user]]
name = "user-00003"
console = false
[[user]]
name = "user-00004"
password_reset_required = true
[[user]]
name = "user-00007"
console = true
[[user]]
name = "user-00011"
password_reset_required = true
[[user]]
name = "nobody"
console = true

[audit]
require_cloudtrail = true
"#
                    ));
                }
            }
        }
    }
    out
}

#[test]
fn one_address_gets_at_most_one_change() {
    let live = synthetic_account(1500, 7);
    let mut total = 0;
    for toml in every_mode_combination() {
        let plan = plan(&rules(&toml), &live);
        let mut seen = BTreeMap::new();
        for change in &plan.changes {
            if let Some(first) = seen.insert(change.address().to_string(), change) {
                panic!(
                    "two changes at {}:\n{first:?}\n{change:?}\nin\n{toml}",
                    change.address()
                );
            }
        }
        total += plan.changes.len();
    }
    // The case is big and mixed enough to mean something.
    assert!(total > 5_000, "only {total} changes over every combination");
}

#[test]
fn ages_are_measured_against_as_of_so_plans_forecast() {
    let live = account([
        user("svc").key(K_NEW, 80, Some(1)).build(),
        user("bob").console_used(400, 40).mfa().build(),
    ]);
    let rules = rules(
        "[users.console]\nmax_unused_days = 45\n[users.access_keys]\nmax_age_days = 90\non_expired = \"deactivate\"\n",
    );
    let today = plan_account("default", &rules, &live, as_of());
    assert!(
        today.changes.is_empty() && today.findings.is_empty(),
        "{today:?}"
    );

    let in_three_weeks = plan_account("default", &rules, &live, as_of() + Duration::days(21));
    assert_eq!(
        changes(&in_three_weeks),
        [format!(
            "deactivate user.svc.access_key.{K_NEW} (users.access_keys.max_age_days)"
        )]
    );
    assert_eq!(
        findings(&in_three_weeks),
        ["user.bob (users.console.max_unused_days)"]
    );
    assert_eq!(
        in_three_weeks.findings[0].message,
        "console password unused for 61 days (limit 45)"
    );

    // Time of day counts: 90 days and one hour is older than 90 days.
    let key_created = as_of() - Duration::days(80);
    let just_over = plan_account(
        "default",
        &rules,
        &live,
        key_created + Duration::days(90) + Duration::hours(1),
    );
    assert_eq!(just_over.changes.len(), 1, "{:?}", changes(&just_over));
    let just_at = plan_account("default", &rules, &live, key_created + Duration::days(90));
    assert!(just_at.changes.is_empty(), "{:?}", changes(&just_at));
}

#[test]
fn plans_are_in_a_stable_order_whatever_the_order_of_live_state() {
    let live = synthetic_account(800, 11);
    let mut shuffled = live.clone();
    let mut rng = Lcg::new(99);
    rng.shuffle(&mut shuffled.users);
    for user in &mut shuffled.users {
        rng.shuffle(&mut user.access_keys);
    }
    assert_ne!(live.users, shuffled.users);

    for toml in every_mode_combination().iter().step_by(5) {
        let rules = rules(toml);
        let a = plan(&rules, &live);
        let b = plan(&rules, &shuffled);
        assert_eq!(a, b, "{toml}");
        assert_eq!(
            serde_json::to_string(&a).unwrap(),
            serde_json::to_string(&b).unwrap()
        );

        // password policy first, then users by name, then keys by id within a user
        assert_eq!(
            a.changes.first().map(|c| c.address()),
            Some(Address::PasswordPolicy)
        );
        let order: Vec<(String, u8, String)> = a
            .changes
            .iter()
            .skip(1)
            .map(|c| match &c.address() {
                Address::LoginProfile(u) => (u.clone(), 0, String::new()),
                Address::UserPolicy { user, policy } => (user.clone(), 1, policy.clone()),
                Address::AccessKey { user, key_id } => (user.clone(), 2, key_id.to_string()),
                other => panic!("unexpected {other}"),
            })
            .collect();
        let mut sorted = order.clone();
        sorted.sort();
        assert_eq!(order, sorted, "{toml}");
        // user findings by name, then CloudTrail last
        assert_eq!(
            a.findings.last().map(|f| &f.address),
            Some(&Address::CloudTrail)
        );
    }
}

#[test]
fn findings_are_ordered_by_user_name_including_missing_users() {
    // "plan: users by name": a [[user]] entry for a user that does not exist is reported in
    // its place among the users, not after all of them.
    let toml = "[users.console]\nrequire_mfa = true\n[[user]]\nname = \"aaron\"\nconsole = true\n";
    let live = account([user("zed").console(1).build()]);
    let plan = plan(&rules(toml), &live);
    assert_eq!(
        findings(&plan),
        ["user.aaron (user)", "user.zed (users.console.require_mfa)"]
    );
}

#[test]
fn account_tables_override_the_top_level_field_by_field() {
    let doc = doc(r#"
[password_policy]
minimum_length = 14
require_symbols = true
max_age_days = 90

[users]
exempt = ["break-glass-*"]

[users.console]
require_mfa = true
without_mfa = "disable-console"

[users.access_keys]
max_age_days = 90
on_expired = "deactivate"
delete_inactive = true
max_active = 1

[[user]]
name = "alice"
console = true

[[account]]
name = "prod"
[account.password_policy]
minimum_length = 20
[account.users.access_keys]
max_age_days = 30
[[account.user]]
name = "alice"
password_reset_required = true

[[account]]
name = "sandbox"
[account.users]
exempt = ["sandbox-*"]
[account.users.console]
without_mfa = "report"
"#);
    let live = with_policy(
        account([
            user("alice").console(10).mfa().build(),
            user("bob").console(10).build(),
            user("break-glass-1").console(10).build(),
            user("sandbox-1").console(10).build(),
            user("svc")
                .key(K_NEW, 45, Some(1))
                .inactive_key(K_OLD, 400, None)
                .build(),
        ]),
        PasswordPolicy {
            minimum_length: 14,
            require_symbols: true,
            max_age_days: Some(90),
            ..PasswordPolicy::iam_default()
        },
    );

    // prod: minimum_length and max_age_days overridden; every other field kept.
    let prod = plan_account(
        "prod",
        &doc.rules_for(Some(&doc.account[0])),
        &live,
        as_of(),
    );
    assert_eq!(prod.name, "prod");
    assert_eq!(
        changes(&prod),
        [
            "update password_policy (password_policy)",
            "reset_password user.alice.login_profile (user.password_reset_required)",
            "delete user.bob.login_profile (users.console.require_mfa)",
            "delete user.sandbox-1.login_profile (users.console.require_mfa)",
            // on_expired = "deactivate" deactivates, delete_inactive or not
            format!("deactivate user.svc.access_key.{K_NEW} (users.access_keys.max_age_days)")
                .as_str(),
            format!("delete user.svc.access_key.{K_OLD} (users.access_keys.delete_inactive)")
                .as_str(),
        ]
    );
    assert_eq!(
        prod.changes[0]
            .kind
            .password_policy()
            .and_then(|(_, after)| after),
        Some(&PasswordPolicy {
            minimum_length: 20,
            require_symbols: true,
            max_age_days: Some(90),
            ..PasswordPolicy::iam_default()
        })
    );

    // sandbox: its exempt list replaces the top-level one; without_mfa overridden, require_mfa kept.
    let sandbox = plan_account(
        "sandbox",
        &doc.rules_for(Some(&doc.account[1])),
        &live,
        as_of(),
    );
    assert_eq!(
        changes(&sandbox),
        [format!(
            "delete user.svc.access_key.{K_OLD} (users.access_keys.delete_inactive)"
        )]
    );
    assert_eq!(
        findings(&sandbox),
        [
            "user.bob (users.console.require_mfa)",
            "user.break-glass-1 (users.console.require_mfa)"
        ]
    );

    // No target: the top level alone.
    let top = plan_account("default", &doc.rules_for(None), &live, as_of());
    assert_eq!(
        changes(&top),
        [
            "delete user.bob.login_profile (users.console.require_mfa)",
            "delete user.sandbox-1.login_profile (users.console.require_mfa)",
            format!("delete user.svc.access_key.{K_OLD} (users.access_keys.delete_inactive)")
                .as_str(),
        ]
    );
}

// ---------------------------------------------------------------------------------------------
// [audit] require_cloudtrail
// ---------------------------------------------------------------------------------------------

#[test]
fn cloudtrail_is_required_only_when_asked_and_only_a_qualifying_trail_satisfies_it() {
    let required = rules("[audit]\nrequire_cloudtrail = true\n");
    let trails = |trails: Option<Vec<Trail>>| {
        let mut state = account([]);
        state.trails = trails;
        state
    };
    let cases: [(Option<Vec<Trail>>, Option<&str>); 7] = [
        (None, Some("trails were not read")),
        (Some(vec![]), Some("no multi-region trail")),
        (
            Some(vec![Trail {
                is_multi_region: false,
                ..good_trail()
            }]),
            Some("no multi-region trail"),
        ),
        (
            Some(vec![Trail {
                is_logging: false,
                ..good_trail()
            }]),
            Some("no multi-region trail"),
        ),
        (
            Some(vec![Trail {
                records_management_writes: false,
                ..good_trail()
            }]),
            Some("no multi-region trail"),
        ),
        (Some(vec![good_trail()]), None),
        (
            Some(vec![
                Trail {
                    is_logging: false,
                    ..good_trail()
                },
                good_trail(),
            ]),
            None,
        ),
    ];
    for (live_trails, expected) in cases {
        let plan = plan(&required, &trails(live_trails.clone()));
        assert!(plan.changes.is_empty());
        match expected {
            Some(text) => {
                assert_eq!(
                    findings(&plan),
                    ["cloudtrail (audit.require_cloudtrail)"],
                    "{live_trails:?}"
                );
                assert!(
                    plan.findings[0].message.contains(text),
                    "{}",
                    plan.findings[0].message
                );
            }
            None => assert!(
                plan.findings.is_empty(),
                "{live_trails:?}: {:?}",
                findings(&plan)
            ),
        }
    }
    for toml in ["", "[audit]\n", "[audit]\nrequire_cloudtrail = false\n"] {
        let plan = plan(&rules(toml), &trails(Some(vec![])));
        assert!(plan.findings.is_empty(), "{toml:?}");
    }
}

#[test]
fn the_plan_carries_the_account_id_and_the_credential_report_age() {
    let mut live = account([]);
    live.credential_report_generated_at = Some(as_of() - Duration::hours(3));
    let plan = plan_account("prod", &rules(""), &live, as_of());
    assert_eq!(plan.name, "prod");
    assert_eq!(plan.account_id, ACCOUNT_ID);
    assert_eq!(
        plan.credential_report_generated_at,
        live.credential_report_generated_at
    );
    assert_eq!(plan.error, None);
}

// ---------------------------------------------------------------------------------------------
// Convergence: `plan` right after a successful `apply` is empty
// ---------------------------------------------------------------------------------------------

#[test]
fn applying_a_plan_leaves_nothing_to_change() {
    let live = synthetic_account(1200, 3);
    for toml in every_mode_combination() {
        let rules = rules(&toml);
        let first = plan(&rules, &live);
        let after = apply(&live, &first, as_of());
        let second = plan(&rules, &after);
        assert!(
            second.changes.is_empty(),
            "left after apply: {:?}\nin\n{toml}",
            changes(&second)
        );
        assert!(!first.changes.is_empty());
    }
}

#[test]
fn creating_a_console_profile_under_deny_until_mfa_converges_in_one_apply() {
    // [[user]] console = true creates a profile for a user without MFA. Under deny-until-mfa
    // the next plan attaches the deny policy to that new console user: the plan should have
    // done so in the same pass ("plan right after a successful apply is empty").
    let toml = format!(
        "{}[[user]]\nname = \"alice\"\nconsole = true\n",
        mfa_toml("deny-until-mfa")
    );
    let rules = rules(&toml);
    let live = account([user("alice").build()]);
    let first = plan(&rules, &live);
    let second = plan(&rules, &apply(&live, &first, as_of()));
    assert_eq!(
        changes(&second),
        Vec::<String>::new(),
        "first plan: {:?}",
        changes(&first)
    );
}

// ---------------------------------------------------------------------------------------------
// Snapshots of rich plans
// ---------------------------------------------------------------------------------------------

#[test]
fn a_rich_mixed_plan() {
    let mut live = with_policy(
        account([
            user("alice").console_used(700, 2).mfa().build(),
            user("bob").console_used(700, 200).build(),
            user("break-glass-1")
                .console(900)
                .key("AKIABREAKGLASS000001", 900, None)
                .build(),
            user("carol")
                .console_used(30, 1)
                .policy(DENY_WITHOUT_MFA_POLICY)
                .mfa()
                .build(),
            user("ci-deployer")
                .console(400)
                .key("AKIACIDEPLOYER000001", 200, Some(0))
                .key("AKIACIDEPLOYER000002", 20, Some(0))
                .build(),
            user("dave").console_used(100, 5).build(),
            user("iamctl")
                .key("AKIAIAMCTLSIGNING001", 300, Some(0))
                .build(),
            user("legacy-etl")
                .inactive_key("AKIALEGACYETL0000001", 800, Some(500))
                .key("AKIALEGACYETL0000002", 100, None)
                .build(),
            user("vendor")
                .tag("iam-exempt", "true")
                .console(1000)
                .build(),
        ]),
        PasswordPolicy {
            minimum_length: 8,
            require_lowercase: true,
            ..PasswordPolicy::iam_default()
        },
    );
    live.caller = Some(caller("iamctl", "AKIAIAMCTLSIGNING001"));
    live.trails = Some(vec![Trail {
        is_logging: false,
        ..good_trail()
    }]);
    live.credential_report_generated_at = Some(as_of() - Duration::hours(1));

    let toml = r#"
[password_policy]
minimum_length = 14
require_uppercase = true
require_lowercase = true
require_numbers = true
require_symbols = true
allow_users_to_change = true
max_age_days = 90
reuse_prevention = 24

[users]
exempt = ["break-glass-*"]
exempt_tags = { "iam-exempt" = "true" }

[users.console]
require_mfa = true
without_mfa = "deny-until-mfa"
max_unused_days = 90
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
name = "ci-deployer"
console = false
[[user]]
name = "erin"
console = true

[audit]
require_cloudtrail = true
"#;
    let plan = plan(&rules(toml), &live);
    insta::assert_json_snapshot!("rich_mixed_plan", plan);
}

/// `examples/snapshot.json`: `{format_version, taken_at, accounts: [AccountState + name]}`.
fn example_snapshot() -> Vec<(String, AccountState)> {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/examples/snapshot.json");
    let text = std::fs::read_to_string(path).expect("examples/snapshot.json");
    let mut snapshot: Value = serde_json::from_str(&text).expect("snapshot is JSON");
    assert_eq!(snapshot["format_version"], json!("1"));
    assert!(snapshot["taken_at"].as_str().is_some_and(|t| !t.is_empty()));
    let accounts = snapshot["accounts"]
        .as_array_mut()
        .expect("accounts")
        .drain(..);
    accounts
        .map(|mut account| {
            let name = account
                .as_object_mut()
                .and_then(|o| o.remove("name"))
                .and_then(|n| n.as_str().map(str::to_owned))
                .expect("every account has a name");
            let state: AccountState =
                serde_json::from_value(account).unwrap_or_else(|e| panic!("{name}: {e}"));
            (name, state)
        })
        .collect()
}

#[test]
fn the_example_snapshot_round_trips_and_holds_no_secret() {
    let accounts = example_snapshot();
    let names: Vec<&str> = accounts.iter().map(|(name, _)| name.as_str()).collect();
    assert_eq!(names, ["prod", "staging"]);
    assert!(
        accounts[0].1.users.len() >= 30,
        "prod: {} users",
        accounts[0].1.users.len()
    );
    for (name, state) in &accounts {
        let text = serde_json::to_string(state).unwrap();
        let again: AccountState = serde_json::from_str(&text).unwrap();
        assert_eq!(&again, state);
        let ids: BTreeSet<String> = state
            .users
            .iter()
            .flat_map(|u| &u.access_keys)
            .map(|k| k.id.to_string())
            .collect();
        let keys = state
            .users
            .iter()
            .map(|u| u.access_keys.len())
            .sum::<usize>();
        assert_eq!(ids.len(), keys, "{name}: duplicate key ids");
        let inactive = state
            .users
            .iter()
            .flat_map(|u| &u.access_keys)
            .filter(|k| k.status == KeyStatus::Inactive);
        assert!(inactive.count() > 0);
    }
    let raw = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/examples/snapshot.json"
    ))
    .unwrap();
    for secret in ["secret", "SecretAccessKey", "session_token", "\"password\""] {
        assert!(
            !raw.contains(secret),
            "examples/snapshot.json mentions {secret}"
        );
    }
}

#[test]
fn the_example_plan() {
    let desired = iamctl::desired::load(std::path::Path::new(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/examples/desired/baseline.toml"
    )))
    .unwrap_or_else(|e| panic!("{e:?}"));
    let accounts = example_snapshot();
    let plans: Vec<AccountPlan> = accounts
        .iter()
        .map(|(name, state)| {
            let target = desired.doc.account.iter().find(|a| &a.name == name);
            plan_account(name, &desired.doc.rules_for(target), state, as_of())
        })
        .collect();

    // The example is there to show a rich plan: make sure it still does.
    let all: Vec<&iamctl::plan::Change> = plans.iter().flat_map(|p| &p.changes).collect();
    let has =
        |action: Action, rule: Rule| all.iter().any(|c| c.action() == action && c.rule == rule);
    assert!(has(Action::Update, Rule::PasswordPolicy));
    assert!(has(Action::ResetPassword, Rule::ConsoleResetOnTightening));
    assert!(has(Action::ResetPassword, Rule::UserPasswordReset));
    assert!(has(Action::Deactivate, Rule::KeysMaxAge));
    assert!(has(Action::Deactivate, Rule::KeysMaxUnused));
    assert!(has(Action::Tag, Rule::KeysDeleteInactive));
    // Staged enforcement shows: notices with their dates, and owners on every user's item.
    let findings: Vec<&iamctl::plan::Finding> = plans.iter().flat_map(|p| &p.findings).collect();
    for rule in [
        Rule::KeysMaxAge,
        Rule::KeysDeleteInactive,
        Rule::ConsoleMaxUnused,
    ] {
        assert!(
            findings
                .iter()
                .any(|f| f.rule == rule && f.notice.is_some()),
            "no {rule} notice"
        );
    }
    assert!(
        all.iter()
            .filter(|c| c.kind.user().is_some())
            .all(|c| c.owner.is_some())
    );
    assert!(
        all.iter()
            .any(|c| c.owner.as_deref() == Some("payments@example.com"))
    );
    assert!(has(Action::Delete, Rule::ConsoleMaxUnused));
    assert!(has(Action::Delete, Rule::UserConsole));
    assert!(has(Action::Create, Rule::UserConsole));
    let finding_rules: BTreeSet<Rule> = plans
        .iter()
        .flat_map(|p| &p.findings)
        .map(|f| f.rule)
        .collect();
    for rule in [
        Rule::ConsoleRequireMfa,
        Rule::KeysMaxActive,
        Rule::KeysMaxAge,
        Rule::User,
        Rule::AuditCloudTrail,
    ] {
        assert!(
            finding_rules.contains(&rule),
            "no {rule} finding: {finding_rules:?}"
        );
    }
    // Exempt users never appear.
    for plan in &plans {
        for address in addresses(plan) {
            assert!(!address.starts_with("user.break-glass-"), "{address}");
        }
    }
    let plan = iamctl::plan::Plan::new(as_of(), plans);
    insta::assert_json_snapshot!("example_plan", plan);
}

// ---------------------------------------------------------------------------------------------
// Staged enforcement: notices, grace, owners
// ---------------------------------------------------------------------------------------------

const STAGED: &str = r#"
[users]
owner_tag = "owner"
default_owner = "secops@example.com"

[users.console]
require_mfa = true
without_mfa = "disable-console"
mfa_grace_days = 7

[users.access_keys]
max_age_days = 90
on_expired = "deactivate"
notice_days = 14
delete_inactive = true
delete_inactive_after_days = 14
"#;

fn plan_at(rules: &iamctl::desired::Rules, live: &AccountState, at: &str) -> AccountPlan {
    plan_account("default", rules, live, date(at))
}

/// The notices of a plan as `"ADDRESS RULE due DATE action ACTION"`.
fn notices(plan: &AccountPlan) -> Vec<String> {
    plan.findings
        .iter()
        .filter_map(|f| {
            let notice = f.notice?;
            Some(format!(
                "{} {} due {} action {}",
                f.address,
                f.rule_name(),
                notice.due.format("%Y-%m-%d"),
                notice.action
            ))
        })
        .collect()
}

#[test]
fn a_key_is_noticed_before_deactivation_deactivated_on_the_day_then_deleted_after_its_grace() {
    let rules = rules(STAGED);
    // 80 days old at as_of (2026-11-01): 90 days old on 2026-11-11.
    let live = account([user("svc")
        .tag("owner", "team-a@example.com")
        .key(K_OLD, 80, None)
        .build()]);
    let notice = format!(
        "user.svc.access_key.{K_OLD} users.access_keys.max_age_days.notice due 2026-11-11 action deactivate"
    );
    // Outside the notice window: nothing; inside: the notice, up to the day itself.
    assert!(plan_at(&rules, &live, "2026-10-27").findings.is_empty());
    for day in ["2026-10-28", "2026-11-10", "2026-11-11"] {
        let plan = plan_at(&rules, &live, day);
        assert!(plan.changes.is_empty(), "{day}: {:?}", changes(&plan));
        assert_eq!(notices(&plan), std::slice::from_ref(&notice), "{day}");
    }
    let noticed = plan_at(&rules, &live, "2026-11-10");
    assert_eq!(
        noticed.findings[0].message,
        format!(
            "{K_OLD} will be deactivated on 2026-11-11: older than 90 days by then; rotate the key and move its users to the new one before"
        )
    );
    assert_eq!(
        noticed.findings[0].owner.as_deref(),
        Some("team-a@example.com")
    );
    let src = serde_json::to_value(&noticed.findings[0]).unwrap();
    assert_eq!(src["rule"], "users.access_keys.max_age_days.notice");
    assert_eq!(src["due"], "2026-11-11T00:00:00Z");
    assert_eq!(src["action"], "deactivate");
    assert_eq!(src["owner"], "team-a@example.com");

    // The day after: deactivated (not deleted), the deletion date stated.
    let acting = plan_at(&rules, &live, "2026-11-12");
    assert_eq!(
        changes(&acting),
        [format!(
            "deactivate user.svc.access_key.{K_OLD} (users.access_keys.max_age_days)"
        )]
    );
    assert_eq!(
        acting.changes[0].owner.as_deref(),
        Some("team-a@example.com")
    );
    let deactivated = apply(&live, &acting, date("2026-11-12"));
    // Its grace: noticed while it runs, deleted once it has run out, never before.
    let during = plan_at(&rules, &deactivated, "2026-11-20");
    assert!(during.changes.is_empty(), "{:?}", changes(&during));
    assert_eq!(
        notices(&during),
        [format!(
            "user.svc.access_key.{K_OLD} users.access_keys.delete_inactive.notice due 2026-11-26 action delete"
        )]
    );
    assert!(
        plan_at(&rules, &deactivated, "2026-11-25T23:59:59Z")
            .changes
            .is_empty()
    );
    let deleting = plan_at(&rules, &deactivated, "2026-11-26");
    assert_eq!(
        changes(&deleting),
        [format!(
            "delete user.svc.access_key.{K_OLD} (users.access_keys.delete_inactive)"
        )]
    );
    let ChangeKind::DeleteAccessKey { key, .. } = &deleting.changes[0].kind else {
        panic!("not a key deletion: {:?}", deleting.changes[0])
    };
    assert_eq!(key.inactive_since, Some(date("2026-11-12")));
    let gone = apply(&deactivated, &deleting, date("2026-11-26"));
    assert!(gone.users[0].tags.keys().all(|t| !t.starts_with("iamctl:")));
    assert!(plan_at(&rules, &gone, "2026-11-26").changes.is_empty());
}

#[test]
fn a_key_deactivated_by_hand_is_recorded_first_and_deleted_after_the_grace() {
    let rules = rules(STAGED);
    let live = account([user("svc").inactive_key(K_OLD, 30, None).build()]);
    let first = plan_at(&rules, &live, "2026-11-01");
    assert_eq!(
        changes(&first),
        [format!(
            "tag user.svc.access_key.{K_OLD} (users.access_keys.delete_inactive)"
        )]
    );
    assert_eq!(
        first.changes[0].owner.as_deref(),
        Some("secops@example.com")
    );
    let recorded = apply(&live, &first, date("2026-11-01"));
    assert!(plan_at(&rules, &recorded, "2026-11-14").changes.is_empty());
    assert_eq!(
        changes(&plan_at(&rules, &recorded, "2026-11-15")),
        [format!(
            "delete user.svc.access_key.{K_OLD} (users.access_keys.delete_inactive)"
        )]
    );
    // A run killed between the deactivation and its record: the key is recorded by the next
    // run, so its grace counts from then, later, never earlier.
    let mut unrecorded = recorded.clone();
    unrecorded.users[0].tags.clear();
    assert_eq!(
        changes(&plan_at(&rules, &unrecorded, "2026-11-20")),
        [format!(
            "tag user.svc.access_key.{K_OLD} (users.access_keys.delete_inactive)"
        )]
    );
}

#[test]
fn a_record_that_no_longer_holds_is_removed() {
    let rules = rules(STAGED);
    let tag = format!("iamctl:inactive-since:{K_OLD}");
    // Reactivated by a person: the old date must not shorten the next grace.
    let reactivated = account([user("svc")
        .tag(&tag, "2026-10-01T00:00:00Z")
        .key(K_OLD, 10, Some(1))
        .build()]);
    assert_eq!(
        changes(&plan(&rules, &reactivated)),
        [format!(
            "untag user.svc.access_key.{K_OLD} (users.access_keys.delete_inactive)"
        )]
    );
    // The key is gone.
    let gone = account([user("svc").tag(&tag, "2026-10-01T00:00:00Z").build()]);
    assert_eq!(
        changes(&plan(&rules, &gone)),
        [format!(
            "untag user.svc.access_key.{K_OLD} (users.access_keys.delete_inactive)"
        )]
    );
}

#[test]
fn with_no_grace_a_key_apply_deactivated_is_deleted_by_the_next_run() {
    // The one stated exception to "plan right after apply is empty".
    let rules = rules(
        "[users.access_keys]\nmax_age_days = 90\non_expired = \"deactivate\"\ndelete_inactive = true\n",
    );
    let live = account([user("svc").key(K_OLD, 120, None).build()]);
    let first = plan(&rules, &live);
    assert_eq!(
        changes(&first),
        [format!(
            "deactivate user.svc.access_key.{K_OLD} (users.access_keys.max_age_days)"
        )]
    );
    let second = plan(&rules, &apply(&live, &first, as_of()));
    assert_eq!(
        changes(&second),
        [format!(
            "delete user.svc.access_key.{K_OLD} (users.access_keys.delete_inactive)"
        )]
    );
}

#[test]
fn missing_mfa_is_not_acted_on_within_the_grace_and_the_deadline_is_given() {
    let rules = rules(STAGED);
    // Console password created 3 days before as_of: MFA due 2026-11-05.
    let live = account([user("newhire").console(3).build()]);
    let within = plan(&rules, &live);
    assert!(within.changes.is_empty(), "{:?}", changes(&within));
    assert_eq!(
        notices(&within),
        ["user.newhire users.console.require_mfa.notice due 2026-11-05 action delete"]
    );
    assert_eq!(
        within.findings[0].message,
        "console access without MFA: enroll MFA by 2026-11-05, or the console password will be deleted"
    );
    let after = plan_at(&rules, &live, "2026-11-06");
    assert_eq!(
        changes(&after),
        ["delete user.newhire.login_profile (users.console.require_mfa)"]
    );
}

#[test]
fn validate_warns_about_deactivation_without_a_grace() {
    let doc = doc(
        "[users.access_keys]\nmax_age_days = 90\non_expired = \"deactivate\"\ndelete_inactive = true\n",
    );
    let warnings = iamctl::desired::warnings(&doc);
    assert_eq!(warnings.len(), 1);
    assert_eq!(
        warnings[0].path,
        "users.access_keys.delete_inactive_after_days"
    );
    assert_eq!(
        warnings[0].message,
        "keys that apply deactivates are deleted by the next run: delete_inactive with no grace leaves no time to undo a deactivation; set delete_inactive_after_days"
    );
    assert!(iamctl::desired::warnings(&self::doc(STAGED)).is_empty());
    // The same for the other credential kinds that deactivate and delete.
    let others = self::doc(
        "[users.service_credentials]\nmax_age_days = 90\non_expired = \"deactivate\"\ndelete_inactive = true\n\
         [users.ssh_keys]\nmax_age_days = 365\non_expired = \"deactivate\"\ndelete_inactive = true\ndelete_inactive_after_days = 14\n\
         [[account]]\nname = \"prod\"\n[account.users.ssh_keys]\nmax_age_days = 180\non_expired = \"deactivate\"\ndelete_inactive = true\n",
    );
    let paths: Vec<String> = iamctl::desired::warnings(&others)
        .into_iter()
        .map(|w| w.path)
        .collect();
    assert_eq!(
        paths,
        [
            "users.service_credentials.delete_inactive_after_days",
            "account[0].users.ssh_keys.delete_inactive_after_days",
        ]
    );
}

// ---------------------------------------------------------------------------------------------
// Key rotation (SPEC "Key rotation"; the state machine is plan/rotation.rs).
// ---------------------------------------------------------------------------------------------

const ROTATING: &str = r#"
[users.access_keys]
max_age_days = 90
on_expired = "rotate"
notice_days = 14
delete_inactive = true
delete_inactive_after_days = 14
max_active = 1

[users.access_keys.rotation]
overlap_days = 7
"#;

/// The key a rotation made in the fixtures' simulated apply.
fn successor(key: &str) -> String {
    format!("{key}N")
}

#[test]
fn a_rotation_is_noticed_made_overlapped_retired_and_its_old_key_deleted() {
    let rules = rules(ROTATING);
    // 80 days old at as_of (2026-11-01): past 90 days on 2026-11-11.
    let live = account([user("svc").key(K_OLD, 80, None).build()]);
    let secret = format!("iamctl/{ACCOUNT_ID}/svc");
    let noticed = plan_at(&rules, &live, "2026-11-05");
    assert_eq!(
        notices(&noticed),
        [format!(
            "user.svc.access_key.{K_OLD} users.access_keys.max_age_days.notice due 2026-11-11 action rotate"
        )]
    );
    assert_eq!(
        noticed.findings[0].message,
        format!(
            "{K_OLD} will be rotated on 2026-11-11: older than 90 days by then; a new key will be delivered to Secrets Manager secret {secret}, and {K_OLD} deactivated 7 days later (sooner once the new key is used)"
        )
    );

    let rotating = plan_at(&rules, &live, "2026-11-12");
    assert_eq!(
        changes(&rotating),
        [format!(
            "rotate user.svc.access_key.{K_OLD} (users.access_keys.max_age_days)"
        )]
    );
    let ChangeKind::RotateAccessKey {
        user,
        key,
        secret: target,
        deactivate_on,
    } = &rotating.changes[0].kind
    else {
        panic!("not a rotation: {:?}", rotating.changes[0])
    };
    assert_eq!((user.as_str(), key.id.to_string()), ("svc", K_OLD.into()));
    assert_eq!(
        *target,
        SecretTarget {
            secret_name: secret.clone(),
            readers: vec![format!("arn:aws:iam::{ACCOUNT_ID}:user/svc")],
            kms_key_id: None,
        }
    );
    assert_eq!(*deactivate_on, date("2026-11-19"));

    // The overlap: both keys active, which max_active does not count against the user; the
    // old key's end is announced whatever notice_days says.
    let rotated = apply(&live, &rotating, date("2026-11-12"));
    let new = successor(K_OLD);
    let during = plan_at(&rules, &rotated, "2026-11-13");
    assert!(during.changes.is_empty(), "{:?}", changes(&during));
    assert_eq!(
        notices(&during),
        [format!(
            "user.svc.access_key.{K_OLD} users.access_keys.rotation.notice due 2026-11-19 action deactivate"
        )]
    );
    assert_eq!(during.findings.len(), 1, "{:?}", findings(&during));

    // Retired when the overlap is over, or as soon as the new key is used.
    let retiring = plan_at(&rules, &rotated, "2026-11-19");
    let retire = [format!(
        "deactivate user.svc.access_key.{K_OLD} (users.access_keys.rotation)"
    )];
    assert_eq!(changes(&retiring), retire);
    let mut in_use = rotated.clone();
    in_use.users[0]
        .access_keys
        .iter_mut()
        .find(|k| k.id.to_string() == new)
        .unwrap()
        .last_used = Some(date("2026-11-13"));
    let early = plan_at(&rules, &in_use, "2026-11-13");
    assert_eq!(changes(&early), retire);
    let ChangeKind::DeactivateAccessKey { delete_on, .. } = &early.changes[0].kind else {
        panic!("not a deactivation: {:?}", early.changes[0])
    };
    assert_eq!(*delete_on, Some(date("2026-11-27")));

    // Then the inactive key's grace, then its deletion with its records; nothing left.
    let retired = apply(&rotated, &retiring, date("2026-11-19"));
    assert!(plan_at(&rules, &retired, "2026-11-19").changes.is_empty());
    let deleting = plan_at(&rules, &retired, "2026-12-03");
    assert_eq!(
        changes(&deleting),
        [format!(
            "delete user.svc.access_key.{K_OLD} (users.access_keys.delete_inactive)"
        )]
    );
    let gone = apply(&retired, &deleting, date("2026-12-03"));
    assert!(gone.users[0].tags.keys().all(|t| !t.starts_with("iamctl:")));
    assert!(plan_at(&rules, &gone, "2026-12-03").changes.is_empty());
}

#[test]
fn an_interrupted_rotation_is_finished_or_undone_from_live_state_alone() {
    let rules = rules(ROTATING);
    let new = "AKIA0000000000000NEW";
    let pending = |secret: Option<Option<&str>>| {
        let mut user = user("svc")
            .key(K_OLD, 120, None)
            .key(new, 0, None)
            .tag(
                &format!("iamctl:rotation:{K_OLD}"),
                "pending@2026-10-31T23:59:00Z",
            )
            .build();
        user.rotation_secret = secret.map(|current| iamctl::state::RotationSecret {
            name: format!("iamctl/{ACCOUNT_ID}/svc"),
            current_key: current.map(|k| k.parse().unwrap()),
        });
        account([user])
    };
    // The secret holds another key (or none): the new key was never delivered. It is deleted,
    // and nothing else is planned for the user's keys.
    for current in [Some(K_OLD), None] {
        let plan = plan(&rules, &pending(Some(current)));
        assert_eq!(
            changes(&plan),
            [format!(
                "delete user.svc.access_key.{new} (users.access_keys.rotation)"
            )]
        );
        assert!(plan.findings.is_empty(), "{:?}", findings(&plan));
    }
    // The secret holds it: delivered; the rotation is recorded.
    let delivered = plan(&rules, &pending(Some(Some(new))));
    assert_eq!(
        changes(&delivered),
        [format!(
            "tag user.svc.access_key.{K_OLD} (users.access_keys.rotation)"
        )]
    );
    let ChangeKind::RecordRotation {
        key, new_key, at, ..
    } = &delivered.changes[0].kind
    else {
        panic!("not a rotation record: {:?}", delivered.changes[0])
    };
    assert_eq!(
        (key.id.to_string(), new_key.to_string(), *at),
        (K_OLD.into(), new.into(), date("2026-10-31T23:59:00Z"))
    );
    // The secret not read (a snapshot): nothing is done, and the plan says why.
    let unknown = plan(&rules, &pending(None));
    assert!(unknown.changes.is_empty(), "{:?}", changes(&unknown));
    assert_eq!(
        unknown.findings[0].message,
        format!(
            "created by an interrupted rotation of {K_OLD}; whether it reached its secret is unknown (the secret was not read: no [users.access_keys.rotation] names it, or the plan is from a snapshot), so nothing is done about this user's keys"
        )
    );

    // A pending record and no new key (the run stopped before creating it): the old key is
    // rotated again; a young key's stale record goes.
    let stopped = |age: i64| {
        account([user("svc")
            .key(K_OLD, age, None)
            .tag(
                &format!("iamctl:rotation:{K_OLD}"),
                "pending@2026-10-31T23:59:00Z",
            )
            .build()])
    };
    assert_eq!(
        changes(&plan(&rules, &stopped(120))),
        [format!(
            "rotate user.svc.access_key.{K_OLD} (users.access_keys.max_age_days)"
        )]
    );
    assert_eq!(
        changes(&plan(&rules, &stopped(10))),
        [format!(
            "untag user.svc.access_key.{K_OLD} (users.access_keys.rotation)"
        )]
    );
}

#[test]
fn rotation_needs_the_users_only_key_and_leaves_the_callers_alone() {
    let rules = rules(ROTATING);
    const K_TWO: &str = "AKIA0000000000000TWO";
    let two_active = account([user("svc")
        .key(K_OLD, 120, None)
        .key(K_TWO, 5, None)
        .build()]);
    let plan_two = plan(&rules, &two_active);
    assert!(plan_two.changes.is_empty(), "{:?}", changes(&plan_two));
    assert_eq!(
        plan_two.findings[0].message,
        format!(
            "cannot rotate: two active keys ({K_OLD}, {K_TWO}); deactivate or delete the one no longer used (active access key is 120 days old (limit 90))"
        )
    );
    // An inactive second key in its grace: deleted on its day, the rotation after.
    let inactive = account([user("svc")
        .key(K_OLD, 120, None)
        .inactive_key(K_TWO, 200, None)
        .tag(
            &format!("iamctl:inactive-since:{K_TWO}"),
            "2026-10-25T00:00:00Z",
        )
        .build()]);
    let waiting = plan(&rules, &inactive);
    assert!(waiting.changes.is_empty(), "{:?}", changes(&waiting));
    assert!(
        waiting.findings.iter().any(|f| f.message
            == format!(
                "cannot rotate: the inactive key {K_TWO} is deleted first, on 2026-11-08 (delete_inactive_after_days), and the rotation follows (active access key is 120 days old (limit 90))"
            )),
        "{:?}",
        waiting.findings
    );
    // iamctl's own key is never rotated.
    let mut own = account([user("svc").key(K_OLD, 120, None).build()]);
    own.caller = Some(caller("svc", K_OLD));
    let plan_own = plan(&rules, &own);
    assert!(plan_own.changes.is_empty());
    assert_eq!(
        plan_own.findings[0].message,
        "active access key is 120 days old (limit 90), but iamctl is signed with this key: left alone"
    );
    // An unused old key is deactivated rather than given a successor.
    let unused_rules = rules_text_with(
        ROTATING,
        "max_unused_days = 30\non_unused = \"deactivate\"\n",
    );
    let idle = account([user("svc").key(K_OLD, 120, Some(60)).build()]);
    assert_eq!(
        changes(&plan(&unused_rules, &idle)),
        [format!(
            "deactivate user.svc.access_key.{K_OLD} (users.access_keys.max_unused_days)"
        )]
    );
}

/// `toml` with `lines` added to its `[users.access_keys]` table.
fn rules_text_with(toml: &str, lines: &str) -> iamctl::desired::Rules {
    rules(&toml.replacen(
        "[users.access_keys]\n",
        &format!("[users.access_keys]\n{lines}"),
        1,
    ))
}

#[test]
fn rotation_on_demand_without_a_table_or_to_a_name_secrets_manager_refuses_is_a_finding() {
    let mut no_table = rules("[users.access_keys]\nmax_age_days = 90\n");
    no_table
        .rotate_now
        .insert(("svc".into(), K_OLD.parse().unwrap()));
    let live = account([user("svc").key(K_OLD, 10, None).build()]);
    let plan = plan(&no_table, &live);
    assert!(plan.changes.is_empty());
    assert_eq!(
        plan.findings[0].message,
        "cannot rotate: no [users.access_keys.rotation] table names the secret for the new key (rotation asked for (--rotate-now))"
    );
    // IAM user names may hold a comma; secret names may not.
    let rules = rules(ROTATING);
    let comma = account([user("a,b").key(K_OLD, 120, None).build()]);
    assert_eq!(
        plan_account("default", &rules, &comma, as_of()).findings[0].message,
        format!(
            "cannot rotate: the secret name \"iamctl/{ACCOUNT_ID}/a,b\" is not one Secrets Manager accepts (letters, digits and /_+=.@- only) (active access key is 120 days old (limit 90))"
        )
    );
}
