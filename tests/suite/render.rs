//! The three renderings of a plan, checked at the public API with plans built from plain values:
//! snapshots show the whole output, the asserts pin the properties a snapshot could hide.

use chrono::{DateTime, Duration, Utc};
use iamctl::plan::{AccountPlan, Action, Address, Change, ChangeSrc, Finding, Plan, Rule};
use iamctl::render::{self, Format, MARKDOWN_MARKER, TextOptions};
use serde_json::{Value, json};

const PLAIN: TextOptions = TextOptions {
    color: false,
    group_by_owner: false,
};

fn at(s: &str) -> DateTime<Utc> {
    s.parse().expect("a test timestamp")
}

fn as_of() -> DateTime<Utc> {
    at("2026-11-23T00:00:00Z")
}

/// A change as a saved plan holds it, read back through the plan file's boundary (so these
/// renderings also show that the file form round-trips).
fn change(address: Address, action: Action, rule: Rule, before: Value, after: Value) -> Change {
    Change::try_from(ChangeSrc {
        address,
        action,
        rule,
        controls: Vec::new(),
        owner: None,
        before,
        after,
        attribution: None,
    })
    .expect("a change iamctl plans")
}

fn finding(address: Address, rule: Rule, message: &str) -> Finding {
    Finding::new(address, rule, message.to_owned())
}

fn account(name: &str, id: &str, changes: Vec<Change>, findings: Vec<Finding>) -> AccountPlan {
    AccountPlan {
        name: name.to_owned(),
        account_id: id.to_owned(),
        changes,
        findings,
        credential_report_generated_at: None,
        error: None,
    }
}

fn login_profile(user: &str) -> Address {
    Address::LoginProfile(user.to_owned())
}

fn access_key(user: &str, key_id: &str) -> Address {
    Address::AccessKey {
        user: user.to_owned(),
        key_id: key_id.parse().unwrap(),
    }
}

fn deny_policy(user: &str) -> Address {
    Address::UserPolicy {
        user: user.to_owned(),
        policy: "iamctl-deny-without-mfa".to_owned(),
    }
}

fn user(name: &str) -> Address {
    Address::User(name.to_owned())
}

fn weak_policy() -> Value {
    json!({
        "minimum_length": 8, "require_uppercase": false, "require_lowercase": true,
        "require_numbers": true, "require_symbols": false, "allow_users_to_change": true,
        "max_age_days": null, "reuse_prevention": null, "hard_expiry": false,
    })
}

fn strong_policy() -> Value {
    json!({
        "minimum_length": 14, "require_uppercase": true, "require_lowercase": true,
        "require_numbers": true, "require_symbols": true, "allow_users_to_change": true,
        "max_age_days": 90, "reuse_prevention": 24, "hard_expiry": false,
    })
}

/// Every kind of change and finding, over four accounts: one with changes, one that only
/// deletes its policy, one in sync with a finding, one that could not be read.
fn full_plan() -> Plan {
    let mut prod = account(
        "prod",
        "111111111111",
        vec![
            change(
                Address::PasswordPolicy,
                Action::Update,
                Rule::PasswordPolicy,
                weak_policy(),
                strong_policy(),
            ),
            change(
                login_profile("alice"),
                Action::Create,
                Rule::UserConsole,
                Value::Null,
                json!({"password_reset_required": true}),
            ),
            change(
                login_profile("bob"),
                Action::Delete,
                Rule::ConsoleRequireMfa,
                json!({"created": "2025-01-15T09:30:00Z", "password_reset_required": false}),
                Value::Null,
            ),
            change(
                login_profile("carol"),
                Action::ResetPassword,
                Rule::ConsoleResetOnTightening,
                json!({"password_reset_required": false}),
                json!({"password_reset_required": true}),
            ),
            change(
                access_key("ci-deployer", "AKIAOLDKEY0000000001"),
                Action::Deactivate,
                Rule::KeysMaxAge,
                json!({"id": "AKIAOLDKEY0000000001", "status": "Active", "created": "2025-01-10T00:00:00Z", "last_used": "2026-11-20T08:00:00Z"}),
                json!({"status": "Inactive"}),
            ),
            change(
                access_key("ci-deployer", "AKIASTALEKEY00000002"),
                Action::Delete,
                Rule::KeysDeleteInactive,
                json!({"id": "AKIASTALEKEY00000002", "status": "Inactive", "created": "2024-03-01T00:00:00Z"}),
                Value::Null,
            ),
            change(
                deny_policy("dave"),
                Action::Attach,
                Rule::ConsoleRequireMfa,
                Value::Null,
                json!({"attached": true}),
            ),
            change(
                deny_policy("erin"),
                Action::Detach,
                Rule::ConsoleRequireMfa,
                json!({"attached": true}),
                Value::Null,
            ),
        ],
        vec![
            finding(
                user("ci-deployer"),
                Rule::KeysMaxActive,
                "2 active access keys (at most 1 allowed)",
            ),
            finding(
                user("frank"),
                Rule::ConsoleRequireMfa,
                "console access without MFA",
            ),
            finding(
                Address::CloudTrail,
                Rule::AuditCloudTrail,
                "no multi-region trail is logging management write events: IAM changes are not audited",
            ),
        ],
    );
    prod.credential_report_generated_at = Some(as_of() - Duration::minutes(2 * 60 + 14));

    let sandbox = account(
        "sandbox",
        "222222222222",
        vec![change(
            Address::PasswordPolicy,
            Action::Delete,
            Rule::PasswordPolicyAbsent,
            weak_policy(),
            Value::Null,
        )],
        vec![],
    );
    let mut dev = account(
        "dev",
        "333333333333",
        vec![],
        vec![finding(
            access_key("gina", "AKIADEVKEY0000000003"),
            Rule::KeysMaxUnused,
            "active access key unused for 120 days (limit 45)",
        )],
    );
    dev.credential_report_generated_at = Some(as_of() - Duration::days(3) - Duration::hours(5));
    let staging = AccountPlan::failed(
        "staging",
        "444444444444",
        "reading credential report for account staging: AccessDenied (iam:GenerateCredentialReport)".to_owned(),
    );
    Plan::new(as_of(), vec![prod, sandbox, dev, staging])
}

fn password_policy_create() -> Plan {
    Plan::new(
        as_of(),
        vec![account(
            "default",
            "123456789012",
            vec![change(
                Address::PasswordPolicy,
                Action::Create,
                Rule::PasswordPolicy,
                Value::Null,
                strong_policy(),
            )],
            vec![finding(
                user("bob"),
                Rule::ConsoleRequireMfa,
                "console access without MFA",
            )],
        )],
    )
}

fn empty_plan() -> Plan {
    Plan::new(as_of(), vec![])
}

fn in_sync_plan() -> Plan {
    Plan::new(
        as_of(),
        vec![account("default", "123456789012", vec![], vec![])],
    )
}

/// One account with `n` findings, to cross the markdown folding threshold.
fn many_findings(n: usize) -> Plan {
    let findings = (0..n)
        .map(|i| {
            finding(
                user(&format!("user{i:02}")),
                Rule::ConsoleRequireMfa,
                "console access without MFA",
            )
        })
        .collect();
    Plan::new(
        as_of(),
        vec![account("default", "123456789012", vec![], findings)],
    )
}

fn last_line(s: &str) -> &str {
    s.lines().last().expect("output is not empty")
}

// ---- text ----

#[test]
fn text_full_plan() {
    insta::assert_snapshot!(render::text(&full_plan(), &PLAIN));
}

#[test]
fn text_password_policy_create() {
    insta::assert_snapshot!(render::text(&password_policy_create(), &PLAIN));
}

#[test]
fn text_empty_and_in_sync() {
    insta::assert_snapshot!("text_empty", render::text(&empty_plan(), &PLAIN));
    insta::assert_snapshot!("text_in_sync", render::text(&in_sync_plan(), &PLAIN));
}

#[test]
fn text_without_color_has_no_escape() {
    for plan in [
        full_plan(),
        password_policy_create(),
        empty_plan(),
        in_sync_plan(),
    ] {
        let out = render::text(&plan, &PLAIN);
        assert!(!out.contains('\x1b'), "{out}");
    }
}

#[test]
fn text_with_color_has_escapes() {
    let out = render::text(
        &full_plan(),
        &TextOptions {
            color: true,
            group_by_owner: false,
        },
    );
    assert!(out.contains("\x1b["), "{out}");
    // Colour changes nothing but the escapes.
    assert_eq!(strip_ansi(&out), render::text(&full_plan(), &PLAIN));
}

#[test]
fn text_escapes_control_characters_from_outside() {
    let plan = Plan::new(
        as_of(),
        vec![AccountPlan::failed(
            "prod",
            "111111111111",
            "proxy said \x1b[31mno\x1b[0m\nsecond line".to_owned(),
        )],
    );
    let out = render::text(&plan, &PLAIN);
    assert!(!out.contains('\x1b'), "{out}");
    assert!(
        out.contains("    proxy said \\u{1b}[31mno\\u{1b}[0m\n    second line\n"),
        "{out}"
    );
}

#[test]
fn text_marks_each_action() {
    let out = render::text(&full_plan(), &PLAIN);
    for (marker, line_start) in [
        ('~', "password_policy"),
        ('+', "user.alice.login_profile"),
        ('-', "user.bob.login_profile"),
        ('!', "user.carol.login_profile"),
        ('!', "user.ci-deployer.access_key.AKIAOLDKEY0000000001"),
        ('-', "user.ci-deployer.access_key.AKIASTALEKEY00000002"),
        ('+', "user.dave.policy.iamctl-deny-without-mfa"),
        ('-', "user.erin.policy.iamctl-deny-without-mfa"),
        ('*', "user.frank"),
    ] {
        let prefix = format!("  {marker} {line_start} ");
        assert!(
            out.lines().any(|l| l.starts_with(&prefix)),
            "no line starting {prefix:?} in\n{out}"
        );
    }
}

#[test]
fn text_policy_diff_marks_only_changed_lines() {
    let out = render::text(&full_plan(), &PLAIN);
    assert!(
        out.contains("    - minimum_length = 8\n    + minimum_length = 14\n"),
        "{out}"
    );
    assert!(out.contains("      require_lowercase = true\n"), "{out}");
    assert!(out.contains("    + max_age_days = 90\n"), "{out}");
    assert!(!out.contains("max_age_days = null"), "{out}");
}

#[test]
fn policy_diff_keeps_the_field_order_when_fields_appear_and_change() {
    let mut before = weak_policy();
    before["reuse_prevention"] = json!(24);
    let mut after = weak_policy();
    after["max_age_days"] = json!(90);
    after["reuse_prevention"] = json!(12);
    let plan = Plan::new(
        as_of(),
        vec![account(
            "default",
            "123456789012",
            vec![change(
                Address::PasswordPolicy,
                Action::Update,
                Rule::PasswordPolicy,
                before,
                after,
            )],
            vec![],
        )],
    );
    let out = render::text(&plan, &PLAIN);
    let expected = "      allow_users_to_change = true
    + max_age_days = 90
    - reuse_prevention = 24
    + reuse_prevention = 12
      hard_expiry = false
";
    assert!(out.contains(expected), "{out}");

    let md = render::markdown(&plan);
    let expected = "```diff
  minimum_length = 8
  require_uppercase = false
  require_lowercase = true
  require_numbers = true
  require_symbols = false
  allow_users_to_change = true
+ max_age_days = 90
- reuse_prevention = 24
+ reuse_prevention = 12
  hard_expiry = false
```
";
    assert!(md.contains(expected), "{md}");
}

#[test]
fn text_ends_with_the_summary_line() {
    for plan in [
        full_plan(),
        password_policy_create(),
        empty_plan(),
        in_sync_plan(),
        many_findings(3),
    ] {
        let out = render::text(&plan, &PLAIN);
        assert!(out.ends_with('\n'));
        assert_eq!(last_line(&out), render::summary_line(&plan));
        let summaries = out
            .lines()
            .filter(|l| l.starts_with("Plan: ") || l.starts_with("No changes."))
            .count();
        assert_eq!(summaries, 1, "{out}");
    }
}

#[test]
fn summary_line_wording() {
    assert_eq!(
        render::summary_line(&empty_plan()),
        "No changes. No findings."
    );
    assert_eq!(
        render::summary_line(&in_sync_plan()),
        "No changes. No findings."
    );
    assert_eq!(
        render::summary_line(&many_findings(1)),
        "No changes. 1 finding."
    );
    assert_eq!(
        render::summary_line(&many_findings(2)),
        "No changes. 2 findings."
    );
    assert_eq!(
        render::summary_line(&password_policy_create()),
        "Plan: 1 change, 1 finding in 1 account."
    );
    assert_eq!(
        render::summary_line(&full_plan()),
        "Plan: 9 changes, 4 findings in 4 accounts (1 in sync, 1 failed)."
    );

    let only_changes = Plan::new(
        as_of(),
        vec![
            account(
                "a",
                "111111111111",
                vec![change(
                    login_profile("x"),
                    Action::Delete,
                    Rule::UserConsole,
                    json!({"created": "2025-01-15T09:30:00Z", "password_reset_required": false}),
                    Value::Null,
                )],
                vec![],
            ),
            account(
                "b",
                "222222222222",
                vec![change(
                    login_profile("y"),
                    Action::Delete,
                    Rule::UserConsole,
                    json!({"created": "2025-01-15T09:30:00Z", "password_reset_required": false}),
                    Value::Null,
                )],
                vec![],
            ),
        ],
    );
    assert_eq!(
        render::summary_line(&only_changes),
        "Plan: 2 changes, 0 findings in 2 accounts."
    );

    let failed = Plan::new(
        as_of(),
        vec![
            in_sync_plan().accounts.remove(0),
            AccountPlan::failed("b", "222222222222", "boom".to_owned()),
        ],
    );
    assert_eq!(
        render::summary_line(&failed),
        "No changes. No findings. 1 of 2 accounts failed."
    );
}

#[test]
fn report_age_is_measured_against_as_of() {
    let out = render::text(&full_plan(), &PLAIN);
    assert!(
        out.contains("  credential report generated 2h 14m before as_of\n"),
        "{out}"
    );
    assert!(
        out.contains("  credential report generated 3d 5h before as_of\n"),
        "{out}"
    );

    // A past --as-of can predate the report.
    let mut plan = in_sync_plan();
    plan.accounts[0].credential_report_generated_at = Some(as_of() + Duration::minutes(5));
    assert!(render::text(&plan, &PLAIN).contains("credential report generated 5m after as_of"));
}

// ---- json ----

#[test]
fn json_full_plan() {
    insta::assert_snapshot!(render::json(&full_plan()));
}

#[test]
fn json_round_trips_to_an_equal_plan() {
    for plan in [
        full_plan(),
        password_policy_create(),
        empty_plan(),
        in_sync_plan(),
    ] {
        let out = render::json(&plan);
        assert!(out.ends_with("}\n"), "{out}");
        let back: Plan = serde_json::from_str(&out).expect("the JSON rendering parses as a plan");
        assert_eq!(back, plan);
    }
}

#[test]
fn json_has_the_spec_shape() {
    let value: Value = serde_json::from_str(&render::json(&password_policy_create())).unwrap();
    assert_eq!(
        value,
        json!({
            "format_version": "1",
            "as_of": "2026-11-23T00:00:00Z",
            "accounts": [{
                "name": "default",
                "account_id": "123456789012",
                "changes": [{
                    "address": "password_policy", "action": "create", "rule": "password_policy",
                    "controls": ["1.8", "1.9", "IAM.7", "IAM.10", "IAM.11", "IAM.12", "IAM.13",
                                 "IAM.14", "IAM.15", "IAM.16", "IAM.17"],
                    "before": null, "after": strong_policy(),
                }],
                "findings": [{"address": "user.bob", "rule": "users.console.require_mfa",
                              "controls": ["1.10", "IAM.5"], "message": "console access without MFA"}],
            }],
            "summary": {"changes": 1, "findings": 1},
        })
    );
}

// ---- markdown ----

#[test]
fn markdown_full_plan() {
    insta::assert_snapshot!(render::markdown(&full_plan()));
}

#[test]
fn markdown_empty_plan() {
    insta::assert_snapshot!(render::markdown(&empty_plan()));
}

#[test]
fn markdown_starts_with_its_marker() {
    for plan in [full_plan(), empty_plan(), in_sync_plan()] {
        let out = render::markdown(&plan);
        assert_eq!(out.lines().next(), Some(MARKDOWN_MARKER));
        assert_eq!(MARKDOWN_MARKER, "<!-- iamctl-plan -->");
    }
}

#[test]
fn markdown_folds_lists_longer_than_ten() {
    let ten = render::markdown(&many_findings(10));
    assert!(!ten.contains("<details>"), "{ten}");
    assert!(ten.contains("**10 findings**"), "{ten}");

    let eleven = render::markdown(&many_findings(11));
    assert!(
        eleven.contains(
            "<details><summary>11 findings</summary>\n\n| address | finding | rule | controls |"
        ),
        "{eleven}"
    );
    assert!(
        eleven.contains("| `user.user10` |"),
        "every item is still there:\n{eleven}"
    );
    assert!(eleven.trim_end().ends_with("</details>"), "{eleven}");
    insta::assert_snapshot!("markdown_folded", eleven);
}

#[test]
fn markdown_escapes_table_cells() {
    let plan = Plan::new(
        as_of(),
        vec![account(
            "a|b `c`",
            "123456789012",
            vec![],
            vec![finding(
                user("bob"),
                Rule::ConsoleRequireMfa,
                "message with | pipe and `code`",
            )],
        )],
    );
    let out = render::markdown(&plan);
    assert!(
        out.contains("| a\\|b \\`c\\` | `123456789012` | 0 | 1 | in sync |"),
        "{out}"
    );
    assert!(
        out.contains(
            "| `user.bob` | message with \\| pipe and \\`code\\` | `users.console.require_mfa` |"
        ),
        "{out}"
    );
}

#[test]
fn markdown_fences_cannot_be_closed_by_the_content() {
    let plan = Plan::new(
        as_of(),
        vec![AccountPlan::failed(
            "a",
            "123456789012",
            "odd ``` error".to_owned(),
        )],
    );
    let out = render::markdown(&plan);
    assert!(out.contains("````text\nodd ``` error\n````\n"), "{out}");
}

// ---- format ----

#[test]
fn format_selects_the_renderer() {
    let plan = full_plan();
    let desired = iamctl::desired::Desired::default();
    assert_eq!(
        Format::Text.render(&plan, &PLAIN, &desired),
        render::text(&plan, &PLAIN)
    );
    assert_eq!(
        Format::Json.render(&plan, &PLAIN, &desired),
        render::json(&plan)
    );
    assert_eq!(
        Format::Markdown.render(&plan, &PLAIN, &desired),
        render::markdown(&plan)
    );
    assert_eq!(
        Format::Sarif.render(&plan, &PLAIN, &desired),
        render::sarif(&plan, &desired)
    );
    assert_eq!(Format::default(), Format::Text);

    // `--format NAME` picks the renderer of that name.
    use clap::ValueEnum;
    use iamctl::cli::args::FormatArg;
    let names: Vec<_> = FormatArg::value_variants()
        .iter()
        .map(|f| {
            (
                f.to_possible_value().unwrap().get_name().to_owned(),
                Format::from(*f),
            )
        })
        .collect();
    assert_eq!(
        names,
        [
            ("text".to_owned(), Format::Text),
            ("json".to_owned(), Format::Json),
            ("markdown".to_owned(), Format::Markdown),
            ("sarif".to_owned(), Format::Sarif)
        ]
    );
}

/// Removes SGR escapes (`ESC [ ... m`), the only ones the renderer writes.
fn strip_ansi(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut chars = s.chars();
    while let Some(c) = chars.next() {
        if c == '\x1b' {
            for c in chars.by_ref() {
                if c == 'm' {
                    break;
                }
            }
        } else {
            out.push(c);
        }
    }
    out
}

/// A plan file written before the plan model was typed (the snapshot above is the format
/// `"1"` document, unchanged since) reads back into the same plan and writes the same bytes:
/// saved plans outlive an upgrade of iamctl.
#[test]
fn saved_plan_files_read_back_byte_for_byte() {
    let snapshot = include_str!("snapshots/suite__render__json_full_plan.snap");
    let saved = snapshot
        .splitn(3, "---\n")
        .nth(2)
        .expect("an insta snapshot: header, then the document");
    let plan: Plan = serde_json::from_str(saved).expect("a saved plan reads back");
    assert_eq!(plan, full_plan());
    assert_eq!(render::json(&plan), saved);
}

#[test]
fn a_rotation_shows_where_the_new_key_goes_and_never_a_secret() {
    let rotate = change(
        access_key("svc", "AKIAOLD"),
        Action::Rotate,
        Rule::KeysMaxAge,
        json!({"id": "AKIAOLD", "status": "Active", "created": "2026-07-01T00:00:00Z", "last_used": "2026-11-20T00:00:00Z"}),
        json!({"secret_name": "iamctl/111111111111/svc", "readers": ["arn:aws:iam::111111111111:user/svc"], "deactivate_on": "2026-11-30T00:00:00Z"}),
    );
    let plan = Plan::new(
        as_of(),
        vec![account("prod", "111111111111", vec![rotate], Vec::new())],
    );
    let text = render::text(&plan, &PLAIN);
    assert!(
        text.contains(
            "  ± user.svc.access_key.AKIAOLD  rotate (users.access_keys.max_age_days)\n      new key → secret iamctl/111111111111/svc, created 2026-07-01, last used 2026-11-20, deactivated on 2026-11-30 at the latest (sooner once the new key is used)\n"
        ),
        "{text}"
    );
    let markdown = render::markdown(&plan);
    assert!(
        markdown.contains(
            "| `user.svc.access_key.AKIAOLD` | ± rotate | `users.access_keys.max_age_days` | 1.14, IAM.3 | new key → secret iamctl/111111111111/svc, created 2026-07-01, last used 2026-11-20, deactivated on 2026-11-30 at the latest (sooner once the new key is used) |"
        ),
        "{markdown}"
    );
}
