//! Checks of the test harness itself (`tests/support`): that moto behaves as
//! the other integration tests assume.

use crate::support;

use aws_sdk_iam::types::StatusType;
use support::{Backdate, SeedUser, fresh_account, seed_user};

/// How many days before now `time` is.
fn days_ago(time: &aws_sdk_iam::primitives::DateTime) -> f64 {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("clock after 1970")
        .as_secs_f64();
    (now - time.as_secs_f64()) / 86_400.0
}

/// Asserts that `what` happened `expected` days ago, give or take a few minutes.
#[track_caller]
fn assert_days_ago(what: &str, actual: f64, expected: f64) {
    assert!(
        (actual - expected).abs() < 0.005,
        "{what}: {actual} days ago, expected {expected}"
    );
}

/// Days before now of a credential report time like `2026-11-23T12:49:19+00:00`.
#[track_caller]
fn report_days_ago(time: &str) -> f64 {
    let time = chrono::DateTime::parse_from_rfc3339(time)
        .unwrap_or_else(|e| panic!("report time {time:?}: {e}"));
    (chrono::Utc::now() - time.to_utc()).num_seconds() as f64 / 86_400.0
}

/// Generates a fresh credential report; returns its header and `user`'s row.
async fn credential_report_row(iam: &aws_sdk_iam::Client, user: &str) -> Vec<(String, String)> {
    iam.generate_credential_report()
        .send()
        .await
        .expect("GenerateCredentialReport");
    let report = iam
        .get_credential_report()
        .send()
        .await
        .expect("GetCredentialReport");
    let csv = String::from_utf8(report.content.expect("Content").into_inner()).expect("UTF-8 CSV");
    let mut lines = csv.lines();
    let header = lines.next().expect("header").split(',');
    let row = lines
        .find(|l| l.starts_with(&format!("{user},")))
        .unwrap_or_else(|| panic!("{user}'s row in {csv}"))
        .split(',');
    header.zip(row).map(|(h, v)| (h.into(), v.into())).collect()
}

async fn user_names(iam: &aws_sdk_iam::Client) -> Vec<String> {
    let users = iam.list_users().send().await.expect("ListUsers").users;
    users.into_iter().map(|u| u.user_name).collect()
}

#[tokio::test]
async fn fresh_accounts_are_isolated() {
    let a = fresh_account().await;
    let b = fresh_account().await;
    assert_ne!(a.id, b.id);
    assert_eq!(a.id.len(), 12);
    assert_ne!(a.id, "123456789012");

    let iam_a = a.iam().await;
    seed_user(&iam_a, "only-in-a", SeedUser::default()).await;

    assert_eq!(user_names(&iam_a).await, ["only-in-a"]);
    assert!(user_names(&b.iam().await).await.is_empty());
}

#[tokio::test]
async fn clients_act_in_their_account() {
    let account = fresh_account().await;
    let me = account
        .sts()
        .await
        .get_caller_identity()
        .send()
        .await
        .expect("GetCallerIdentity");
    assert_eq!(me.account(), Some(account.id.as_str()));
    assert_eq!(
        me.arn(),
        Some(
            format!(
                "arn:aws:sts::{}:assumed-role/iamctl-test/iamctl-test",
                account.id
            )
            .as_str()
        )
    );
}

#[tokio::test]
async fn user_credentials_act_as_that_user() {
    let account = fresh_account().await;
    seed_user(&account.iam().await, "ci", SeedUser::default()).await;

    let ci = account.as_user("ci").await;
    assert_eq!(ci.id, account.id);
    let me = ci
        .sts()
        .await
        .get_caller_identity()
        .send()
        .await
        .expect("GetCallerIdentity");
    assert_eq!(
        me.arn(),
        Some(format!("arn:aws:iam::{}:user/ci", account.id).as_str())
    );
    // Its IAM calls land in the same account.
    assert_eq!(user_names(&ci.iam().await).await, ["ci"]);

    let env = ci.env();
    let var = |name: &str| env.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str());
    assert_eq!(var("AWS_ACCESS_KEY_ID"), Some(ci.access_key_id()));
    assert_eq!(var("AWS_SESSION_TOKEN"), None);
    assert_eq!(var("AWS_ENDPOINT_URL"), Some(support::endpoint().as_str()));
}

#[tokio::test]
async fn login_profile_honours_password_reset_required() {
    let account = fresh_account().await;
    let iam = account.iam().await;
    iam.create_user()
        .user_name("alice")
        .send()
        .await
        .expect("CreateUser");
    iam.create_login_profile()
        .user_name("alice")
        .password(support::SEED_PASSWORD)
        .password_reset_required(true)
        .send()
        .await
        .expect("CreateLoginProfile");

    let reset_required = || async {
        let profile = iam
            .get_login_profile()
            .user_name("alice")
            .send()
            .await
            .expect("GetLoginProfile");
        profile
            .login_profile
            .expect("a login profile")
            .password_reset_required
    };
    assert!(reset_required().await);

    // Without a password, UpdateLoginProfile keeps the profile and changes the flag only.
    iam.update_login_profile()
        .user_name("alice")
        .password_reset_required(false)
        .send()
        .await
        .expect("UpdateLoginProfile");
    assert!(!reset_required().await);

    iam.update_login_profile()
        .user_name("alice")
        .password_reset_required(true)
        .send()
        .await
        .expect("UpdateLoginProfile");
    assert!(reset_required().await);

    // Without the flag, a new password leaves it as it is.
    iam.update_login_profile()
        .user_name("alice")
        .password("Another-Passw0rd-For-Tests!")
        .send()
        .await
        .expect("UpdateLoginProfile");
    assert!(reset_required().await);
}

#[tokio::test]
async fn seed_user_creates_what_it_says() {
    let account = fresh_account().await;
    let iam = account.iam().await;
    let spec = SeedUser {
        console: true,
        password_reset_required: true,
        mfa: true,
        active_keys: 1,
        inactive_keys: 1,
        tags: &[("team", "platform")],
    };
    let keys = seed_user(&iam, "bob", spec).await;
    assert_eq!((keys.active.len(), keys.inactive.len()), (1, 1));

    let profile = iam
        .get_login_profile()
        .user_name("bob")
        .send()
        .await
        .expect("GetLoginProfile");
    assert!(
        profile
            .login_profile
            .expect("a login profile")
            .password_reset_required
    );

    let mfa = iam
        .list_mfa_devices()
        .user_name("bob")
        .send()
        .await
        .expect("ListMFADevices");
    assert_eq!(mfa.mfa_devices.len(), 1);

    let listed = iam
        .list_access_keys()
        .user_name("bob")
        .send()
        .await
        .expect("ListAccessKeys");
    let mut statuses: Vec<(String, StatusType)> = listed
        .access_key_metadata
        .into_iter()
        .map(|k| {
            (
                k.access_key_id.expect("key id"),
                k.status.expect("key status"),
            )
        })
        .collect();
    statuses.sort();
    let mut expected = vec![
        (keys.active[0].clone(), StatusType::Active),
        (keys.inactive[0].clone(), StatusType::Inactive),
    ];
    expected.sort();
    assert_eq!(statuses, expected);

    let tags = iam
        .list_user_tags()
        .user_name("bob")
        .send()
        .await
        .expect("ListUserTags")
        .tags;
    let tags: Vec<(&str, &str)> = tags.iter().map(|t| (t.key(), t.value())).collect();
    assert_eq!(tags, [("team", "platform")]);
}

#[tokio::test]
async fn bare_seed_user_has_nothing_else() {
    let account = fresh_account().await;
    let iam = account.iam().await;
    let keys = seed_user(&iam, "carol", SeedUser::default()).await;
    assert_eq!(keys, support::SeededKeys::default());

    let profile = iam.get_login_profile().user_name("carol").send().await;
    assert!(
        profile
            .expect_err("no login profile")
            .into_service_error()
            .is_no_such_entity_exception()
    );
    let mfa = iam
        .list_mfa_devices()
        .user_name("carol")
        .send()
        .await
        .expect("ListMFADevices");
    assert!(mfa.mfa_devices.is_empty());
    let listed = iam
        .list_access_keys()
        .user_name("carol")
        .send()
        .await
        .expect("ListAccessKeys");
    assert!(listed.access_key_metadata.is_empty());
}

#[tokio::test]
async fn credential_report_is_a_dated_snapshot() {
    let account = fresh_account().await;
    let iam = account.iam().await;
    seed_user(
        &iam,
        "dave",
        SeedUser {
            console: true,
            mfa: true,
            active_keys: 1,
            inactive_keys: 1,
            ..Default::default()
        },
    )
    .await;

    iam.generate_credential_report()
        .send()
        .await
        .expect("GenerateCredentialReport");
    let report = iam
        .get_credential_report()
        .send()
        .await
        .expect("GetCredentialReport");
    let generated = report.generated_time.expect("GeneratedTime");
    let age = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("clock after 1970")
        .as_secs() as i64
        - generated.secs();
    assert!((0..300).contains(&age), "report generated {age}s ago");

    let csv = String::from_utf8(report.content.expect("Content").into_inner()).expect("UTF-8 CSV");
    let mut lines = csv.lines();
    let header: Vec<&str> = lines.next().expect("header").split(',').collect();
    let row: Vec<&str> = lines
        .find(|l| l.starts_with("dave,"))
        .expect("dave's row")
        .split(',')
        .collect();
    let field = |name: &str| row[header.iter().position(|h| *h == name).expect(name)];
    assert_eq!(field("password_enabled"), "true");
    assert_eq!(field("mfa_active"), "true");
    assert_eq!(field("access_key_1_active"), "true");
    assert_eq!(field("access_key_2_active"), "false");

    // The report is the snapshot taken at generation time.
    seed_user(&iam, "erin", SeedUser::default()).await;
    let again = iam
        .get_credential_report()
        .send()
        .await
        .expect("GetCredentialReport");
    assert_eq!(again.generated_time, Some(generated));
    assert!(!String::from_utf8_lossy(again.content.expect("Content").as_ref()).contains("erin,"));
}

#[tokio::test]
async fn trails_can_be_seeded_and_log_management_events_by_default() {
    let account = fresh_account().await;
    let bucket = format!("trail-logs-{}", account.id);
    account.create_bucket(&bucket);
    let cloudtrail = account.cloudtrail().await;
    cloudtrail
        .create_trail()
        .name("org-trail")
        .s3_bucket_name(&bucket)
        .is_multi_region_trail(true)
        .send()
        .await
        .expect("CreateTrail");
    cloudtrail
        .start_logging()
        .name("org-trail")
        .send()
        .await
        .expect("StartLogging");

    let trails = cloudtrail
        .describe_trails()
        .send()
        .await
        .expect("DescribeTrails")
        .trail_list
        .unwrap_or_default();
    assert_eq!(trails.len(), 1);
    assert_eq!(trails[0].is_multi_region_trail, Some(true));

    let status = cloudtrail
        .get_trail_status()
        .name("org-trail")
        .send()
        .await
        .expect("GetTrailStatus");
    assert_eq!(status.is_logging, Some(true));

    let selectors = cloudtrail
        .get_event_selectors()
        .trail_name("org-trail")
        .send()
        .await
        .expect("GetEventSelectors")
        .event_selectors
        .unwrap_or_default();
    assert_eq!(selectors.len(), 1);
    assert_eq!(
        selectors[0].read_write_type,
        Some(aws_sdk_cloudtrail::types::ReadWriteType::All)
    );
    assert_eq!(selectors[0].include_management_events, Some(true));

    // Other accounts see neither the bucket's trail nor the trail.
    let other = fresh_account().await.cloudtrail().await;
    let theirs = other
        .describe_trails()
        .send()
        .await
        .expect("DescribeTrails");
    assert!(theirs.trail_list.unwrap_or_default().is_empty());
}

#[tokio::test]
async fn backdated_access_key_dates_show_through_the_api() {
    let account = fresh_account().await;
    let iam = account.iam().await;
    let keys = seed_user(
        &iam,
        "old-keys",
        SeedUser {
            active_keys: 2,
            ..Default::default()
        },
    )
    .await;
    let (old, new) = (&keys.active[0], &keys.active[1]);
    account.backdate(Backdate {
        user: "old-keys",
        access_key_id: Some(old),
        created_days_ago: Some(120.0),
        last_used_days_ago: Some(100.0),
        ..Default::default()
    });

    let listed = iam
        .list_access_keys()
        .user_name("old-keys")
        .send()
        .await
        .expect("ListAccessKeys")
        .access_key_metadata;
    let created = |id: &str| {
        let key = listed
            .iter()
            .find(|k| k.access_key_id() == Some(id))
            .unwrap_or_else(|| panic!("{id} listed"));
        days_ago(key.create_date().expect("CreateDate"))
    };
    assert_days_ago("old key's CreateDate", created(old), 120.0);
    assert_days_ago("other key's CreateDate", created(new), 0.0);

    let last_used = iam
        .get_access_key_last_used()
        .access_key_id(old)
        .send()
        .await
        .expect("GetAccessKeyLastUsed")
        .access_key_last_used
        .expect("AccessKeyLastUsed");
    assert_days_ago(
        "old key's LastUsedDate",
        days_ago(last_used.last_used_date().expect("LastUsedDate")),
        100.0,
    );
    assert_eq!(last_used.service_name(), "iam");
    assert_eq!(last_used.region(), "us-east-1");

    // The other key stays never used.
    let untouched = iam
        .get_access_key_last_used()
        .access_key_id(new)
        .send()
        .await
        .expect("GetAccessKeyLastUsed")
        .access_key_last_used
        .expect("AccessKeyLastUsed");
    assert_eq!(untouched.last_used_date(), None);
    assert_eq!(untouched.service_name(), "N/A");
}

#[tokio::test]
async fn backdated_login_profile_and_user_show_through_the_api() {
    let account = fresh_account().await;
    let iam = account.iam().await;
    seed_user(
        &iam,
        "old-console",
        SeedUser {
            console: true,
            ..Default::default()
        },
    )
    .await;
    account.backdate(Backdate {
        user: "old-console",
        login_profile_created_days_ago: Some(90.0),
        password_last_used_days_ago: Some(60.0),
        user_created_days_ago: Some(200.0),
        ..Default::default()
    });

    let profile = iam
        .get_login_profile()
        .user_name("old-console")
        .send()
        .await
        .expect("GetLoginProfile")
        .login_profile
        .expect("a login profile");
    assert_days_ago(
        "login profile's CreateDate",
        days_ago(&profile.create_date),
        90.0,
    );

    let user = iam
        .get_user()
        .user_name("old-console")
        .send()
        .await
        .expect("GetUser")
        .user
        .expect("User");
    assert_days_ago("user's CreateDate", days_ago(&user.create_date), 200.0);
    assert_days_ago(
        "user's PasswordLastUsed",
        days_ago(user.password_last_used().expect("PasswordLastUsed")),
        60.0,
    );

    let details = iam
        .get_account_authorization_details()
        .send()
        .await
        .expect("GetAccountAuthorizationDetails");
    let detail = details
        .user_detail_list()
        .iter()
        .find(|u| u.user_name() == Some("old-console"))
        .expect("old-console in UserDetailList");
    assert_days_ago(
        "UserDetailList CreateDate",
        days_ago(detail.create_date().expect("CreateDate")),
        200.0,
    );
}

#[tokio::test]
async fn credential_report_generated_after_backdating_shows_it() {
    let account = fresh_account().await;
    let iam = account.iam().await;
    let keys = seed_user(
        &iam,
        "frank",
        SeedUser {
            console: true,
            active_keys: 1,
            ..Default::default()
        },
    )
    .await;
    let before = credential_report_row(&iam, "frank").await;
    let field = |row: &[(String, String)], name: &str| -> String {
        row.iter()
            .find(|(h, _)| h == name)
            .unwrap_or_else(|| panic!("column {name}"))
            .1
            .clone()
    };
    assert_eq!(field(&before, "password_last_used"), "no_information");
    assert_days_ago(
        "access_key_1_last_rotated before",
        report_days_ago(&field(&before, "access_key_1_last_rotated")),
        0.0,
    );

    account.backdate(Backdate {
        user: "frank",
        access_key_id: Some(&keys.active[0]),
        created_days_ago: Some(120.0),
        last_used_days_ago: Some(95.0),
        password_last_used_days_ago: Some(60.0),
        user_created_days_ago: Some(150.0),
        ..Default::default()
    });

    // The report generated before still says what it said (it is a snapshot).
    let old = iam
        .get_credential_report()
        .send()
        .await
        .expect("GetCredentialReport");
    let old = String::from_utf8(old.content.expect("Content").into_inner()).expect("UTF-8 CSV");
    assert!(old.contains(&field(&before, "access_key_1_last_rotated")));

    let after = credential_report_row(&iam, "frank").await;
    for (column, days) in [
        ("password_last_used", 60.0),
        ("access_key_1_last_rotated", 120.0),
        ("access_key_1_last_used_date", 95.0),
        ("user_creation_time", 150.0),
    ] {
        // The report has whole seconds: allow for the truncation.
        assert_days_ago(column, report_days_ago(&field(&after, column)), days);
    }
}

#[tokio::test]
#[should_panic(expected = "has no access key AKIANOTAKEYOFFRANK00")]
async fn backdate_refuses_a_key_the_user_does_not_have() {
    let account = fresh_account().await;
    seed_user(&account.iam().await, "frank", SeedUser::default()).await;
    account.backdate(Backdate {
        user: "frank",
        access_key_id: Some("AKIANOTAKEYOFFRANK00"),
        created_days_ago: Some(1.0),
        ..Default::default()
    });
}

#[tokio::test]
#[should_panic(expected = "has no login profile")]
async fn backdate_refuses_a_login_profile_the_user_does_not_have() {
    let account = fresh_account().await;
    seed_user(&account.iam().await, "frank", SeedUser::default()).await;
    account.backdate(Backdate {
        user: "frank",
        login_profile_created_days_ago: Some(1.0),
        ..Default::default()
    });
}
