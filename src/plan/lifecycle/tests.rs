//! The lifecycle on plain values: breaches, notices, grace and forecasts, table by table.

use super::*;

/// A kind for the tests: reports or deletes.
struct Widget;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Act {
    Report,
    Delete,
}

impl Enforcement for Act {
    fn acts(self) -> bool {
        match self {
            Act::Report => false,
            Act::Delete => true,
        }
    }
}

impl CredentialKind for Widget {
    type Action = Act;
    const NOUN: &'static str = "widget";
    const CREATED: &'static str = "made";
}

fn at(day: &str) -> DateTime<Utc> {
    format!("{day}T00:00:00Z").parse().unwrap()
}

const AS_OF: &str = "2026-06-01";

fn policy(age: Option<(i64, Act)>, unused: Option<(i64, Act)>) -> Policy<Act> {
    Policy {
        max_age: age.map(|(days, action)| Limit {
            rule: Rule::KeysMaxAge,
            days,
            action,
        }),
        max_unused: unused.map(|(days, action)| Limit {
            rule: Rule::KeysMaxUnused,
            days,
            action,
        }),
        notice_days: Some(7),
        delete_inactive: Some(Grace {
            rule: Rule::KeysDeleteInactive,
            days: 14,
        }),
    }
}

fn active(created: &str, last_used: Option<&str>) -> Credential {
    Credential {
        created: at(created),
        last_used: last_used.map(at),
        status: Status::Active,
        inactive_since: None,
    }
}

#[test]
fn limits_passed_are_breaches_with_their_figures() {
    let both = Lifecycle::<Widget>::new(
        policy(Some((90, Act::Delete)), Some((30, Act::Report))),
        at(AS_OF),
    );
    // (created, last used, expected messages)
    let table: [(&str, Option<&str>, &[&str]); 5] = [
        ("2026-05-01", Some("2026-05-30"), &[]),
        // Exactly the limit is not past it.
        ("2026-03-03", Some("2026-05-02"), &[]),
        (
            "2026-03-02",
            Some("2026-05-01"),
            &[
                "widget is 91 days old (limit 90)",
                "widget unused for 31 days (limit 30)",
            ],
        ),
        (
            "2026-04-01",
            None,
            &["widget never used; made 61 days ago (limit 30)"],
        ),
        ("2026-05-20", None, &[]),
    ];
    for (created, last_used, expected) in table {
        let got: Vec<String> = both
            .breaches(&active(created, last_used))
            .into_iter()
            .map(|b| b.message)
            .collect();
        assert_eq!(got, expected, "created {created}, last used {last_used:?}");
    }
    let breaches = both.breaches(&active("2025-01-01", None));
    assert_eq!(
        breaches
            .iter()
            .map(|b| (b.measure, b.rule, b.action))
            .collect::<Vec<_>>(),
        [
            (Measure::Age, Rule::KeysMaxAge, Act::Delete),
            (Measure::Disuse, Rule::KeysMaxUnused, Act::Report)
        ]
    );
    // Without the age limit, age is not judged.
    let no_age = Lifecycle::<Widget>::new(both.policy.without_max_age(), at(AS_OF));
    assert_eq!(no_age.breaches(&active("2025-01-01", Some(AS_OF))), []);
}

/// Created, last used, and the notices expected: (rule, due day).
type NoticeRow = (
    &'static str,
    Option<&'static str>,
    &'static [(Rule, &'static str)],
);

#[test]
fn notices_announce_actions_within_notice_days() {
    let lifecycle = Lifecycle::<Widget>::new(
        policy(Some((90, Act::Delete)), Some((30, Act::Delete))),
        at(AS_OF),
    );
    // (created, last used, expected (rule, due))
    let table: [NoticeRow; 5] = [
        // Age due 2026-06-05, disuse due 2026-06-30.
        (
            "2026-03-07",
            Some("2026-05-31"),
            &[(Rule::KeysMaxAge, "2026-06-05")],
        ),
        // Due today: still announced.
        (
            "2026-03-03",
            Some("2026-05-31"),
            &[(Rule::KeysMaxAge, "2026-06-01")],
        ),
        // Due in 8 days: not yet.
        ("2026-03-11", Some("2026-05-31"), &[]),
        // Never used: disuse counts from creation.
        ("2026-05-03", None, &[(Rule::KeysMaxUnused, "2026-06-02")]),
        // Already past: a breach, not a notice.
        ("2026-01-01", Some("2026-01-01"), &[]),
    ];
    for (created, last_used, expected) in table {
        let got: Vec<(Rule, DateTime<Utc>)> = lifecycle
            .upcoming(&active(created, last_used))
            .into_iter()
            .map(|d| (d.rule, d.due))
            .collect();
        let expected: Vec<(Rule, DateTime<Utc>)> =
            expected.iter().map(|(r, d)| (*r, at(d))).collect();
        assert_eq!(got, expected, "created {created}, last used {last_used:?}");
    }
    let due = &lifecycle.upcoming(&active("2026-03-07", Some("2026-05-31")))[0];
    assert_eq!(due.why, "older than 90 days by then");
    // A report is never announced; no notice_days, no notice.
    let reports = Lifecycle::<Widget>::new(policy(Some((90, Act::Report)), None), at(AS_OF));
    assert_eq!(reports.upcoming(&active("2026-03-07", None)), []);
    let silent = Lifecycle::<Widget>::new(
        Policy {
            notice_days: None,
            ..lifecycle.policy
        },
        at(AS_OF),
    );
    assert_eq!(silent.upcoming(&active("2026-03-07", None)), []);
}

#[test]
fn an_inactive_credential_is_deleted_after_its_grace() {
    let lifecycle = Lifecycle::<Widget>::new(policy(None, None), at(AS_OF));
    // (recorded inactive since, expected)
    let table = [
        (
            None,
            Inactive::Record {
                delete_on: at("2026-06-15"),
            },
        ),
        (Some("2026-05-31"), Inactive::Waiting),
        // Due 2026-06-08: within the 7 days' notice.
        (
            Some("2026-05-25"),
            Inactive::Notice {
                since: at("2026-05-25"),
                due: at("2026-06-08"),
            },
        ),
        // Due today: deleted.
        (Some("2026-05-18"), Inactive::Delete),
        (Some("2025-01-01"), Inactive::Delete),
    ];
    for (since, expected) in table {
        assert_eq!(
            lifecycle.inactive(since.map(at)),
            Some(expected),
            "since {since:?}"
        );
        assert_eq!(
            lifecycle.is_quiet(since.map(at).unwrap_or(at(AS_OF))),
            expected == Inactive::Waiting || since.is_none(),
            "since {since:?}"
        );
    }
    assert_eq!(
        lifecycle.deletion_due(Some(at("2026-05-25"))),
        Some(at("2026-06-08"))
    );
    assert_eq!(lifecycle.delete_on_if_deactivated(), Some(at("2026-06-15")));

    // No grace: deleted at once, never recorded.
    let at_once = Lifecycle::<Widget>::new(
        Policy {
            delete_inactive: Some(Grace {
                rule: Rule::KeysDeleteInactive,
                days: 0,
            }),
            ..lifecycle.policy
        },
        at(AS_OF),
    );
    assert_eq!(at_once.inactive(None), Some(Inactive::Delete));
    // Without delete_inactive, an inactive credential is left alone.
    let keep = Lifecycle::<Widget>::new(
        Policy {
            delete_inactive: None,
            ..lifecycle.policy
        },
        at(AS_OF),
    );
    assert_eq!(keep.inactive(None), None);
    assert_eq!(keep.delete_on_if_deactivated(), None);
}

#[test]
fn a_forecast_is_a_decision_at_a_later_as_of() {
    let credential = Credential {
        inactive_since: Some(at("2026-05-25")),
        ..active("2026-03-07", Some("2026-05-31"))
    };
    let policy = policy(Some((90, Act::Delete)), None);
    let verdict = |day: &str| Lifecycle::<Widget>::new(policy, at(day)).decide(&credential);
    let Verdict::Active {
        breaches,
        upcoming,
        stale_record,
    } = verdict(AS_OF)
    else {
        panic!("an active credential")
    };
    assert_eq!(breaches, []);
    assert_eq!(upcoming.len(), 1);
    // Active again: its record of inactivity is stale.
    assert_eq!(stale_record, Some(at("2026-05-25")));
    let Verdict::Active { breaches, .. } = verdict("2026-06-06") else {
        panic!("an active credential")
    };
    assert_eq!(breaches.len(), 1);
    let inactive = Credential {
        status: Status::Inactive,
        ..credential
    };
    assert_eq!(
        Lifecycle::<Widget>::new(policy, at("2026-06-08")).decide(&inactive),
        Verdict::Inactive(Some(Inactive::Delete))
    );
    assert_eq!(
        Lifecycle::<Widget>::new(policy, at("2026-06-07")).decide(&inactive),
        Verdict::Inactive(Some(Inactive::Notice {
            since: at("2026-05-25"),
            due: at("2026-06-08")
        }))
    );
}
