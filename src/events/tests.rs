//! The mapping with plain values: the seeds' two events (tests/fixtures/events/) and a mixed
//! stream of what an EventBridge rule delivers.

use super::*;
use crate::explain::events::parse_envelopes;

const CREATE_LOGIN_PROFILE: &str =
    include_str!("../../tests/fixtures/events/create-login-profile.json");
const PASSWORD_POLICY: &str =
    include_str!("../../tests/fixtures/events/update-account-password-policy.json");
const MIXED: &str = include_str!("../../tests/fixtures/events/mixed.jsonl");

fn prod() -> Vec<AccountRef> {
    vec![AccountRef {
        target: "prod".into(),
        account_id: "111111111111".into(),
        caller_arn: Some("arn:aws:iam::111111111111:user/ci".into()),
    }]
}

fn addresses(mapping: &Mapping, target: &str) -> Vec<String> {
    mapping.addresses[target]
        .iter()
        .map(ToString::to_string)
        .collect()
}

#[test]
fn the_seed_events_name_a_user_and_the_password_policy() {
    let login = parse_envelopes(CREATE_LOGIN_PROFILE).unwrap();
    let mapping = map_events(&login, &prod()).unwrap();
    assert_eq!(addresses(&mapping, "prod"), ["user.bob"]);
    assert_eq!(mapping.handled, [(0, "prod".to_owned())]);
    assert!(mapping.ignored.is_empty());

    // A CloudTrail log file's records map the same way as EventBridge events.
    let policy = parse_envelopes(PASSWORD_POLICY).unwrap();
    let mapping = map_events(&policy, &prod()).unwrap();
    assert_eq!(addresses(&mapping, "prod"), ["password_policy"]);
}

#[test]
fn a_mixed_stream_keeps_the_changes_of_target_accounts_made_by_others() {
    let events = parse_envelopes(MIXED).unwrap();
    let mapping = map_events(&events, &prod()).unwrap();
    assert_eq!(
        addresses(&mapping, "prod"),
        ["cloudtrail", "user.alice", "user.bob"]
    );
    let notes: Vec<String> = mapping.ignored.iter().map(ToString::to_string).collect();
    assert_eq!(
        notes,
        [
            "ignored CreateBucket (event s3-1): not a change iamctl reacts to",
            "ignored CreateLoginProfile (event other-account-1): account 222222222222 is not a selected target",
            "ignored CreateLoginProfile (event failed-1): the call failed (errorCode), so it changed nothing",
            "ignored DeleteLoginProfile (event own-1): made by iamctl itself (arn:aws:sts::111111111111:assumed-role/iamctl/iamctl-prod)",
            "ignored ConsoleLogin (event signin-1): a console sign-in: nothing to reconcile (a break-glass user's is told)",
        ]
    );
    assert_eq!(
        mapping.handled.iter().map(|(i, _)| *i).collect::<Vec<_>>(),
        [0, 6, 7]
    );
}

#[test]
fn the_identity_iamctl_acts_as_is_itself() {
    let mut events = parse_envelopes(CREATE_LOGIN_PROFILE).unwrap();
    events[0].event.principal_arn = "arn:aws:iam::111111111111:user/ci".into();
    let mapping = map_events(&events, &prod()).unwrap();
    assert!(mapping.addresses.is_empty());
    assert_eq!(
        mapping.ignored[0].reason,
        Ignore::OwnCall("arn:aws:iam::111111111111:user/ci".into())
    );
    // The same identity in an account where iamctl acts as another is someone else.
    let mut other = prod();
    other[0].caller_arn = None;
    assert_eq!(
        addresses(&map_events(&events, &other).unwrap(), "prod"),
        ["user.bob"]
    );
}

#[test]
fn own_sessions_are_iamctl_role_sessions_only() {
    assert!(is_own_session(
        "arn:aws:sts::111111111111:assumed-role/iamctl/iamctl-prod"
    ));
    assert!(is_own_session(
        "arn:aws-cn:sts::111111111111:assumed-role/path/role/iamctl-default"
    ));
    assert!(!is_own_session(
        "arn:aws:sts::111111111111:assumed-role/iamctl-admin/jane"
    ));
    assert!(!is_own_session("arn:aws:iam::111111111111:user/iamctl-x"));
}

#[test]
fn handled_events_without_their_subject_are_malformed() {
    let mut events = parse_envelopes(CREATE_LOGIN_PROFILE).unwrap();
    events[0].event.user_name = None;
    assert_eq!(
        map_events(&events, &prod()).unwrap_err().to_string(),
        "event 0 (CreateLoginProfile) names no user (requestParameters.userName, or an IAM user caller)"
    );
    events[0].event.account_id = None;
    assert_eq!(
        map_events(&events, &prod()).unwrap_err().to_string(),
        "event 0 (CreateLoginProfile) has no recipientAccountId: its account is unknown"
    );
    // Unhandled events need neither.
    events[0].event.event_name = "GetUser".into();
    assert!(map_events(&events, &prod()).unwrap().addresses.is_empty());
}

#[test]
fn the_rule_pattern_lists_every_handled_event() {
    let pattern = rule_pattern();
    assert_eq!(
        pattern["source"],
        serde_json::json!(["aws.iam", "aws.cloudtrail", "aws.signin"])
    );
    assert_eq!(
        pattern["detail-type"],
        serde_json::json!([
            "AWS API Call via CloudTrail",
            "AWS Console Sign In via CloudTrail"
        ])
    );
    let names = pattern["detail"]["eventName"].as_array().unwrap();
    // Every handled event, and console sign-ins (told, never reconciled).
    assert_eq!(names.len(), HANDLED.len() + 1);
    assert!(names.contains(&serde_json::json!(SIGN_IN_EVENT)));
    for handled in HANDLED {
        assert!(names.contains(&serde_json::json!(handled.name)));
    }
    assert_eq!(
        pattern["detail"]["errorCode"],
        serde_json::json!([{"exists": false}])
    );
}
