//! Tests of the file form: saved changes read back, changes iamctl cannot have planned refused.

use super::*;

/// A change as iamctl writes it to a plan file (with its rule's controls).
fn src(address: &str, action: Action, rule: Rule, before: Value, after: Value) -> ChangeSrc {
    ChangeSrc {
        address: address.parse().unwrap(),
        action,
        rule,
        controls: crate::plan::controls::control_ids(rule),
        owner: None,
        before,
        after,
        attribution: None,
    }
}

#[test]
fn saved_changes_read_back_into_the_same_change() {
    let key = json!({"id": "AKIA1", "status": "Active", "created": "2025-01-10T00:00:00Z"});
    let saved = src(
        "user.bob.access_key.AKIA1",
        Action::Deactivate,
        Rule::KeysMaxUnused,
        key,
        json!({"status": "Inactive"}),
    );
    let change = Change::try_from(saved.clone()).unwrap();
    assert!(matches!(
        change.kind,
        ChangeKind::DeactivateAccessKey {
            if_still_unused: true,
            ..
        }
    ));
    assert_eq!(change.to_src(), saved);
}

#[test]
fn a_rotation_reads_back_and_its_announced_date_does_not_make_a_plan_stale() {
    let key = json!({"id": "AKIA1", "status": "Active", "created": "2025-01-10T00:00:00Z"});
    let after = |date: &str| json!({"secret_name": "iamctl/111111111111/bob", "readers": ["arn:aws:iam::111111111111:user/bob"], "deactivate_on": date});
    let saved = src(
        "user.bob.access_key.AKIA1",
        Action::Rotate,
        Rule::KeysMaxAge,
        key.clone(),
        after("2026-03-08T00:00:00Z"),
    );
    let change = Change::try_from(saved.clone()).unwrap();
    assert_eq!(change.to_src(), saved);
    let fresh = Change::try_from(src(
        "user.bob.access_key.AKIA1",
        Action::Rotate,
        Rule::KeysMaxAge,
        key,
        after("2026-03-08T00:00:41Z"),
    ))
    .unwrap();
    assert!(change.same_change(&fresh));
    assert_ne!(change, fresh);
}

#[test]
fn changes_iamctl_cannot_have_planned_are_refused_with_the_reason() {
    let refused = |saved: ChangeSrc| Change::try_from(saved).unwrap_err();
    assert_eq!(
        refused(src(
            "user.bob.policy.AdministratorAccess",
            Action::Attach,
            Rule::ConsoleRequireMfa,
            Value::Null,
            json!({"attached": true}),
        )),
        "iamctl makes no attach change at user.bob.policy.AdministratorAccess: this plan was not written by iamctl"
    );
    assert_eq!(
        refused(src(
            "user.bob.access_key.AKIA1",
            Action::Delete,
            Rule::KeysMaxAge,
            json!({"id": "AKIA2", "status": "Active", "created": "2025-01-10T00:00:00Z"}),
            Value::Null,
        )),
        "delete user.bob.access_key.AKIA1 acts on key AKIA1, but its before names key AKIA2"
    );
    let incomplete = refused(src(
        "password_policy",
        Action::Update,
        Rule::PasswordPolicy,
        json!({"minimum_length": 8}),
        json!({"minimum_length": 14}),
    ));
    assert!(
        incomplete.starts_with(
            "the before of update password_policy is not what that change holds: missing field"
        ),
        "{incomplete}"
    );
}

/// An index per kind of change: a new kind does not compile here until
/// [`one_change_of_every_kind`] has one (and so until it reads back).
fn kind_index(kind: &ChangeKind) -> usize {
    match kind {
        ChangeKind::CreatePasswordPolicy { .. } => 0,
        ChangeKind::UpdatePasswordPolicy { .. } => 1,
        ChangeKind::DeletePasswordPolicy { .. } => 2,
        ChangeKind::CreateLoginProfile { .. } => 3,
        ChangeKind::DeleteLoginProfile { .. } => 4,
        ChangeKind::ResetPassword { .. } => 5,
        ChangeKind::DeactivateAccessKey { .. } => 6,
        ChangeKind::DeleteAccessKey { .. } => 7,
        ChangeKind::AttachDenyPolicy { .. } => 8,
        ChangeKind::DetachDenyPolicy { .. } => 9,
        ChangeKind::CreateTrail { .. } => 10,
        ChangeKind::UpdateTrail { .. } => 11,
        ChangeKind::RecordInactiveKey { .. } => 12,
        ChangeKind::ForgetInactiveKey { .. } => 13,
        ChangeKind::RotateAccessKey { .. } => 14,
        ChangeKind::RecordRotation { .. } => 15,
        ChangeKind::ForgetRotation { .. } => 16,
        ChangeKind::DeactivateCredential { .. } => 17,
        ChangeKind::DeleteCredential { .. } => 18,
        ChangeKind::RecordInactiveCredential { .. } => 19,
        ChangeKind::ForgetInactiveCredential { .. } => 20,
        ChangeKind::DeleteServerCertificate { .. } => 21,
        ChangeKind::RecordUnlisted { .. } => 22,
        ChangeKind::ForgetUnlisted { .. } => 23,
    }
}
const KINDS: usize = 24;

/// One change of every kind, each under a rule the engine plans it with.
fn one_change_of_every_kind() -> Vec<Change> {
    use crate::state::{KeyStatus, PasswordPolicy};
    let at = |s: &str| s.parse::<DateTime<Utc>>().unwrap();
    let id = |s: &str| AccessKeyId::new(s).unwrap();
    let key = KeyFacts {
        id: id("AKIA1"),
        status: KeyStatus::Active,
        created: at("2025-01-10T00:00:00Z"),
        last_used: Some(at("2025-02-01T00:00:00Z")),
        inactive_since: None,
        rotation: None,
    };
    let strict = PasswordPolicy {
        minimum_length: 14,
        ..PasswordPolicy::iam_default()
    };
    let trail = |multi: bool| super::super::TrailSettings {
        name: "main".into(),
        home_region: "eu-west-1".into(),
        is_multi_region: multi,
        is_logging: true,
    };
    let bob = || "bob".to_owned();
    let credential = super::super::CredentialFacts {
        kind: crate::state::CredentialType::ServiceCredential,
        id: "ACCA12345ABCDEXAMPLE".into(),
        status: super::super::CredentialStatus::Active,
        created: at("2024-01-10T00:00:00Z"),
        service: Some("codecommit.amazonaws.com".into()),
        inactive_since: None,
    };
    let kinds = [
        (
            Rule::PasswordPolicy,
            ChangeKind::CreatePasswordPolicy {
                after: strict.clone(),
            },
        ),
        (
            Rule::PasswordPolicy,
            ChangeKind::UpdatePasswordPolicy {
                before: PasswordPolicy::iam_default(),
                after: strict.clone(),
            },
        ),
        (
            Rule::PasswordPolicyAbsent,
            ChangeKind::DeletePasswordPolicy { before: strict },
        ),
        (
            Rule::UserConsole,
            ChangeKind::CreateLoginProfile { user: bob() },
        ),
        (
            Rule::ConsoleMaxUnused,
            ChangeKind::DeleteLoginProfile {
                user: bob(),
                before: super::super::ProfileFacts {
                    created: at("2024-01-01T00:00:00Z"),
                    password_reset_required: false,
                    password_last_used: None,
                },
            },
        ),
        (
            Rule::ConsoleResetOnTightening,
            ChangeKind::ResetPassword {
                user: bob(),
                with_tightening: true,
            },
        ),
        (
            Rule::KeysMaxUnused,
            ChangeKind::DeactivateAccessKey {
                user: bob(),
                key: key.clone(),
                if_still_unused: true,
                delete_on: Some(at("2026-04-01T00:00:00Z")),
            },
        ),
        (
            Rule::KeysMaxAge,
            ChangeKind::DeleteAccessKey {
                user: bob(),
                key: key.clone(),
                if_still_unused: false,
            },
        ),
        (
            Rule::ConsoleRequireMfa,
            ChangeKind::AttachDenyPolicy { user: bob() },
        ),
        (
            Rule::ConsoleRequireMfa,
            ChangeKind::DetachDenyPolicy { user: bob() },
        ),
        (
            Rule::AuditCloudTrailCreate,
            ChangeKind::CreateTrail {
                trail: NewTrail {
                    name: "iamctl".into(),
                    s3_bucket: "audit-logs".into(),
                },
            },
        ),
        (
            Rule::AuditCloudTrailCreate,
            ChangeKind::UpdateTrail {
                before: trail(false),
                after: trail(true),
            },
        ),
        (
            Rule::KeysDeleteInactive,
            ChangeKind::RecordInactiveKey {
                user: bob(),
                key: key.clone(),
                delete_on: at("2026-04-01T00:00:00Z"),
            },
        ),
        (
            Rule::KeysDeleteInactive,
            ChangeKind::ForgetInactiveKey {
                user: bob(),
                key_id: id("AKIA2"),
                since: at("2026-01-01T00:00:00Z"),
            },
        ),
        (
            Rule::KeysRotation,
            ChangeKind::RotateAccessKey {
                user: bob(),
                key: key.clone(),
                secret: SecretTarget {
                    secret_name: "iamctl/111111111111/bob".into(),
                    readers: vec!["arn:aws:iam::111111111111:user/bob".into()],
                    kms_key_id: Some("alias/keys".into()),
                },
                deactivate_on: at("2026-03-08T00:00:00Z"),
            },
        ),
        (
            Rule::KeysRotation,
            ChangeKind::RecordRotation {
                user: bob(),
                key,
                new_key: id("AKIA3"),
                at: at("2026-03-01T00:00:00Z"),
            },
        ),
        (
            Rule::KeysRotation,
            ChangeKind::ForgetRotation {
                user: bob(),
                key_id: id("AKIA2"),
                record: RotationRecord::Pending {
                    since: at("2026-03-01T00:00:00Z"),
                },
            },
        ),
        (
            Rule::ServiceCredentialsMaxAge,
            ChangeKind::DeactivateCredential {
                user: bob(),
                credential: credential.clone(),
                delete_on: Some(at("2026-04-01T00:00:00Z")),
            },
        ),
        (
            Rule::ServiceCredentialsDeleteInactive,
            ChangeKind::DeleteCredential {
                user: bob(),
                credential: super::super::CredentialFacts {
                    status: super::super::CredentialStatus::Expired,
                    inactive_since: Some(at("2026-02-01T00:00:00Z")),
                    ..credential.clone()
                },
            },
        ),
        (
            Rule::SshKeysDeleteInactive,
            ChangeKind::RecordInactiveCredential {
                user: bob(),
                credential: super::super::CredentialFacts {
                    kind: crate::state::CredentialType::SshKey,
                    id: "APKAEIBAERJR2EXAMPLE".into(),
                    status: super::super::CredentialStatus::Inactive,
                    service: None,
                    ..credential
                },
                delete_on: at("2026-04-01T00:00:00Z"),
            },
        ),
        (
            Rule::SshKeysDeleteInactive,
            ChangeKind::ForgetInactiveCredential {
                user: bob(),
                kind: crate::state::CredentialType::SshKey,
                id: "APKAEIBAERJR2EXAMPLE".into(),
                since: at("2026-01-01T00:00:00Z"),
            },
        ),
        (
            Rule::UsersInventory,
            ChangeKind::RecordUnlisted {
                user: bob(),
                due: at("2026-04-01T00:00:00Z"),
            },
        ),
        (
            Rule::UsersInventory,
            ChangeKind::ForgetUnlisted {
                user: bob(),
                since: at("2026-03-01T00:00:00Z"),
            },
        ),
        (
            Rule::ServerCertificatesDeleteExpired,
            ChangeKind::DeleteServerCertificate {
                certificate: super::super::ServerCertificateFacts {
                    name: "www.example.com".into(),
                    id: "ASCAEXAMPLE123".into(),
                    expires: at("2026-01-01T00:00:00Z"),
                },
            },
        ),
    ];
    kinds
        .into_iter()
        .map(|(rule, kind)| Change::new(rule, kind))
        .collect()
}

#[test]
fn every_kind_of_change_reads_back_as_itself() {
    let changes = one_change_of_every_kind();
    let kinds: std::collections::BTreeSet<usize> =
        changes.iter().map(|c| kind_index(&c.kind)).collect();
    assert_eq!(
        kinds,
        (0..KINDS).collect(),
        "a kind of change has no sample"
    );
    for change in changes {
        let saved = serde_json::to_string(&change).unwrap();
        let read: Change = serde_json::from_str(&saved).unwrap();
        assert_eq!(read, change, "{saved}");
    }
}

#[test]
fn a_tag_under_a_rule_that_keeps_no_record_is_refused() {
    let key = json!({"id": "AKIA1", "status": "Active", "created": "2025-01-10T00:00:00Z"});
    let refused = Change::try_from(src(
        "user.bob.access_key.AKIA1",
        Action::Tag,
        Rule::KeysMaxAge,
        key,
        json!({"tag": "iamctl:inactive-since:AKIA1", "delete_on": "2026-04-01T00:00:00Z"}),
    ))
    .unwrap_err();
    assert_eq!(
        refused,
        "rule users.access_keys.max_age_days keeps no record in a tag at user.bob.access_key.AKIA1: this plan was not written by iamctl"
    );
}
