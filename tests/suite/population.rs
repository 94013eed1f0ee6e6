//! Issue 22 end to end on moto: IAM users as audited exceptions. An account with two allowed
//! users, an unlisted console user, an exception ending within `notice_days`, an expired
//! exception and a break-glass user with a virtual MFA device and an access key gets each
//! finding from one plan; `on_unlisted = "disable"` past its notice removes the unlisted user's
//! console password and deactivates its keys, and nothing else.

use crate::support;

use std::collections::BTreeMap;

use aws_sdk_iam::types::StatusType;
use chrono::{Duration, Utc};
use serde_json::Value;
use support::cli::{desired, run};
use support::{Account, SeedUser, enable_virtual_mfa, fresh_account, seed_user};

fn plan_json(account: &Account, config: &std::path::Path) -> Value {
    let out = run(
        account,
        &["plan", "--format", "json", "-c", config.to_str().unwrap()],
    );
    assert_eq!(out.code, 0, "plan failed: {}", out.stderr);
    serde_json::from_str(&out.stdout).unwrap()
}

fn items(plan: &Value, kind: &str) -> Vec<String> {
    let mut out: Vec<String> = plan["accounts"][0][kind]
        .as_array()
        .unwrap()
        .iter()
        .map(|item| {
            let action = item["action"].as_str().unwrap_or("finding");
            format!(
                "{} {action} {}",
                item["address"].as_str().unwrap(),
                item["rule"].as_str().unwrap()
            )
        })
        .collect();
    out.sort();
    out
}

fn desired_text(on_unlisted: &str) -> String {
    let today = Utc::now().date_naive();
    format!(
        r#"
[users.inventory]
allowed = ["break-glass-*", "svc-*"]
on_unlisted = "{on_unlisted}"
notice_days = 14

[[users.exception]]
name = "legacy-etl"
owner = "data-platform@example.com"
reason = "ETL job moving to IRSA"
expires = {soon}

[[users.exception]]
name = "old-etl"
owner = "data-platform@example.com"
reason = "was moving to IRSA"
expires = {past}

[[user]]
name = "break-glass-1"
break_glass = true

[users.break_glass]
on_access_key = "report"
"#,
        soon = today + Duration::days(3),
        past = today - Duration::days(20),
    )
}

#[tokio::test(flavor = "multi_thread")]
async fn unlisted_users_exceptions_and_break_glass_users_from_plan_to_disable() {
    let account = fresh_account().await;
    let iam = account.iam().await;
    let console = SeedUser {
        console: true,
        ..Default::default()
    };
    let keyed = SeedUser {
        active_keys: 1,
        ..Default::default()
    };
    let svc = seed_user(&iam, "svc-a", keyed).await.active.remove(0);
    seed_user(&iam, "svc-b", SeedUser::default()).await;
    let glass_key = seed_user(
        &iam,
        "break-glass-1",
        SeedUser {
            console: true,
            active_keys: 1,
            ..Default::default()
        },
    )
    .await
    .active
    .remove(0);
    enable_virtual_mfa(&iam, "break-glass-1").await;
    // Found unlisted 20 days ago: its notice (14 days) has passed.
    let found = (Utc::now() - Duration::days(20)).to_rfc3339();
    let intruder_key = seed_user(
        &iam,
        "intruder",
        SeedUser {
            console: true,
            active_keys: 1,
            tags: &[("iamctl:unlisted-since", &found)],
            ..Default::default()
        },
    )
    .await
    .active
    .remove(0);
    seed_user(&iam, "legacy-etl", console).await;
    let old_key = seed_user(&iam, "old-etl", keyed).await.active.remove(0);
    account.requests();

    // Report: each finding from one plan, nothing changed.
    let dir = tempfile::tempdir().unwrap();
    let config = desired(dir.path(), &desired_text("report"));
    let plan = plan_json(&account, &config);
    assert_eq!(items(&plan, "changes"), Vec::<String>::new(), "{plan:#}");
    assert_eq!(
        items(&plan, "findings"),
        [
            "user.break-glass-1 finding users.break_glass.mfa".to_owned(),
            format!(
                "user.break-glass-1.access_key.{glass_key} finding users.break_glass.on_access_key"
            ),
            "user.intruder finding users.inventory".to_owned(),
            "user.legacy-etl finding users.exception".to_owned(),
            "user.old-etl finding users.inventory".to_owned(),
        ],
        "{plan:#}"
    );
    let findings = plan["accounts"][0]["findings"].as_array().unwrap();
    let exception = findings
        .iter()
        .find(|f| f["rule"] == "users.exception")
        .unwrap();
    assert_eq!(exception["owner"], "data-platform@example.com");
    let intruder = findings
        .iter()
        .find(|f| f["address"] == "user.intruder")
        .unwrap();
    assert_eq!(intruder["controls"], serde_json::json!(["1.21"]));

    // Disable: the intruder's notice has passed (recorded 20 days ago), old-etl's exception
    // ended 19 days ago; legacy-etl is announced; nothing else is touched.
    let config = desired(dir.path(), &desired_text("disable"));
    let plan = plan_json(&account, &config);
    assert_eq!(
        items(&plan, "changes"),
        [
            format!("user.intruder.access_key.{intruder_key} deactivate users.inventory"),
            "user.intruder.login_profile delete users.inventory".to_owned(),
            format!("user.old-etl.access_key.{old_key} deactivate users.inventory"),
        ],
        "{plan:#}"
    );
    let legacy = plan["accounts"][0]["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["address"] == "user.legacy-etl")
        .unwrap()
        .clone();
    assert_eq!(legacy["rule"], "users.exception.notice", "{legacy:#}");
    account.requests();
    let out = run(
        &account,
        &["apply", "--auto-approve", "-c", config.to_str().unwrap()],
    );
    assert_eq!(out.code, 0, "{}\n{}", out.stdout, out.stderr);
    let writes: BTreeMap<String, u64> = account
        .requests()
        .into_iter()
        .filter(|(op, _)| {
            let action = op.split(':').nth(1).unwrap_or_default();
            !["Get", "List", "Generate"]
                .iter()
                .any(|read| action.starts_with(read))
        })
        .collect();
    assert_eq!(
        writes,
        // A deactivated key's record of since when (`iamctl:inactive-since:AKID`), as every
        // deactivation writes it.
        BTreeMap::from([
            ("iam:DeleteLoginProfile".to_owned(), 1),
            ("iam:TagUser".to_owned(), 2),
            ("iam:UpdateAccessKey".to_owned(), 2),
        ])
    );
    let status = |user: &'static str| {
        let iam = iam.clone();
        async move {
            iam.list_access_keys()
                .user_name(user)
                .send()
                .await
                .unwrap()
                .access_key_metadata()[0]
                .status()
                .cloned()
                .unwrap()
        }
    };
    assert_eq!(status("intruder").await, StatusType::Inactive);
    assert_eq!(status("old-etl").await, StatusType::Inactive);
    assert_eq!(status("svc-a").await, StatusType::Active);
    assert_eq!(status("break-glass-1").await, StatusType::Active);
    assert!(
        iam.get_login_profile()
            .user_name("intruder")
            .send()
            .await
            .is_err()
    );
    assert!(
        iam.get_login_profile()
            .user_name("legacy-etl")
            .send()
            .await
            .is_ok()
    );
    // The users themselves stay.
    for user in ["intruder", "old-etl"] {
        iam.get_user().user_name(user).send().await.unwrap();
    }
    let _ = svc;
    // And the plan after it has nothing left to change.
    let after = plan_json(&account, &config);
    assert_eq!(items(&after, "changes"), Vec::<String>::new(), "{after:#}");
}

/// A console sign-in of a break-glass user, as EventBridge delivers it (`aws.signin`).
fn console_login(account_id: &str, user: &str) -> String {
    serde_json::json!({
        "version": "0",
        "id": "6f0ab5f4-0000-4000-8000-000000000001",
        "detail-type": "AWS Console Sign In via CloudTrail",
        "source": "aws.signin",
        "account": account_id,
        "time": "2026-12-07T03:12:00Z",
        "region": "us-east-1",
        "resources": [],
        "detail": {
            "eventVersion": "1.09",
            "userIdentity": {
                "type": "IAMUser",
                "principalId": "AIDAEXAMPLE",
                "arn": format!("arn:aws:iam::{account_id}:user/{user}"),
                "accountId": account_id,
                "userName": user
            },
            "eventTime": "2026-12-07T03:12:00Z",
            "eventSource": "signin.amazonaws.com",
            "eventName": "ConsoleLogin",
            "awsRegion": "us-east-1",
            "sourceIPAddress": "198.51.100.23",
            "userAgent": "Mozilla/5.0",
            "requestParameters": null,
            "responseElements": {"ConsoleLogin": "Success"},
            "additionalEventData": {"MFAUsed": "Yes"},
            "eventID": "3f0b7a59-0000-4000-8000-000000000002",
            "readOnly": false,
            "eventType": "AwsConsoleSignIn",
            "managementEvent": true,
            "recipientAccountId": account_id,
            "eventCategory": "Management"
        }
    })
    .to_string()
}

#[tokio::test(flavor = "multi_thread")]
async fn a_break_glass_sign_in_through_watch_is_told_at_once_and_changes_nothing() {
    let account = fresh_account().await;
    let iam = account.iam().await;
    let keyed = SeedUser {
        console: true,
        active_keys: 1,
        ..Default::default()
    };
    seed_user(
        &iam,
        "break-glass-1",
        SeedUser {
            tags: &[("owner", "platform-oncall@example.com")],
            ..keyed
        },
    )
    .await;
    seed_user(&iam, "alice", keyed).await;
    let (topic, owners) = crate::notify::topic_with_queue(&account).await;
    let (_sqs, url) = crate::events::queue_with(
        &account,
        "iamctl-events",
        &[
            console_login(&account.id, "break-glass-1"),
            // An ordinary user's sign-in is no incident.
            console_login(&account.id, "alice"),
            // A break-glass name signing in to an account no target reaches: told, to the
            // default owner, with a warning that its tag was not read.
            console_login("999999999999", "break-glass-1"),
        ],
    )
    .await;
    let dir = tempfile::tempdir().unwrap();
    let config = desired(
        dir.path(),
        &format!(
            "[users]\nowner_tag = \"owner\"\ndefault_owner = \"secops@example.com\"\n\
             [users.console]\nrequire_mfa = true\nwithout_mfa = \"disable-console\"\n\
             [[user]]\nname = \"break-glass-1\"\nbreak_glass = true\n\
             [notify]\nsns_topic_arn = \"{topic}\"\n"
        ),
    );
    account.requests();
    let watched = run(
        &account,
        &[
            "watch",
            "-c",
            config.to_str().unwrap(),
            "--queue-url",
            &url,
            "--until-idle",
            "--wait-seconds",
            "0",
        ],
    );
    assert_eq!(watched.code, 0, "{watched:?}");
    assert!(
        watched
            .stderr
            .contains("break-glass sign-in: break-glass-1 in "),
        "{}",
        watched.stderr
    );
    assert!(
        watched.stderr.contains(
            "the owner tag of break-glass user break-glass-1 in 999999999999 was not read \
             (account 999999999999 is no target of the desired state); told to secops@example.com"
        ),
        "{}",
        watched.stderr
    );
    // One message per break-glass sign-in, to the topic, with its owner; nothing changed in
    // the account.
    let mut told = crate::notify::drain(&account, &owners).await;
    assert_eq!(told.len(), 2, "{told:?}");
    told.sort_by_key(|m| m.body.contains("999999999999"));
    assert_eq!(told[1].attributes["owner"], "secops@example.com");
    assert!(
        told[0]
            .subject
            .contains("break-glass user break-glass-1 signed in"),
        "{told:?}"
    );
    assert!(told[0].body.contains("198.51.100.23"), "{told:?}");
    // Its owner from its owner tag: one GetUser in the account of the sign-in (the implicit
    // default target, whose identity says it is that account).
    assert_eq!(told[0].attributes["owner"], "platform-oncall@example.com");
    let used = account.requests();
    assert_eq!(used.get("iam:GetUser"), Some(&1), "{used:?}");
    let writes: Vec<&String> = used
        .keys()
        .filter(|op| {
            op.starts_with("iam:")
                && !["Get", "List", "Generate"]
                    .iter()
                    .any(|read| op["iam:".len()..].starts_with(read))
        })
        .collect();
    assert!(writes.is_empty(), "{used:?}");
    // Both users keep their console passwords (alice has no MFA: only a plan of her would
    // touch it, and a sign-in plans nothing).
    for user in ["break-glass-1", "alice"] {
        iam.get_login_profile()
            .user_name(user)
            .send()
            .await
            .unwrap();
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn the_account_controls_an_api_can_judge_are_findings_with_their_controls() {
    let account = fresh_account().await;
    let iam = account.iam().await;
    account.load_aws_managed_policies();
    // A console user whose key was made with it and never used (CIS 1.11), and no owner tag.
    let setup = seed_user(
        &iam,
        "newbie",
        SeedUser {
            console: true,
            active_keys: 1,
            ..Default::default()
        },
    )
    .await
    .active
    .remove(0);
    seed_user(
        &iam,
        "tagged",
        SeedUser {
            tags: &[("owner", "team@example.com")],
            ..Default::default()
        },
    )
    .await;
    iam.create_policy()
        .policy_name("s3-everything")
        .policy_document(
            r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:*","Resource":"*"}]}"#,
        )
        .send()
        .await
        .unwrap();
    iam.create_role()
        .role_name("ops")
        .assume_role_policy_document(
            r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"ec2.amazonaws.com"},"Action":"sts:AssumeRole"}]}"#,
        )
        .send()
        .await
        .unwrap();
    iam.attach_role_policy()
        .role_name("ops")
        .policy_arn("arn:aws:iam::aws:policy/AWSCloudShellFullAccess")
        .send()
        .await
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let config = desired(
        dir.path(),
        "[users]\nrequire_tags = [\"owner\"]\n\
         [users.access_keys]\nforbid_setup_keys = true\n\
         [audit]\nrequire_security_contact = true\naccess_analyzer_regions = [\"us-east-1\"]\n\
         forbid_cloudshell_full_access = true\nforbid_service_wildcards = true\n",
    );
    let plan = plan_json(&account, &config);
    assert_eq!(items(&plan, "changes"), Vec::<String>::new(), "{plan:#}");
    assert_eq!(
        items(&plan, "findings"),
        [
            "account finding audit.access_analyzer_regions".to_owned(),
            "account finding audit.forbid_service_wildcards".to_owned(),
            "account finding audit.require_security_contact".to_owned(),
            "role.ops finding audit.forbid_cloudshell_full_access".to_owned(),
            "user.newbie finding users.require_tags".to_owned(),
            format!("user.newbie.access_key.{setup} finding users.access_keys.forbid_setup_keys"),
        ],
        "{plan:#}"
    );
    let controls: BTreeMap<String, Value> = plan["accounts"][0]["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            (
                f["rule"].as_str().unwrap().to_owned(),
                f["controls"].clone(),
            )
        })
        .collect();
    assert_eq!(
        controls["audit.require_security_contact"],
        serde_json::json!(["1.2"])
    );
    assert_eq!(
        controls["users.access_keys.forbid_setup_keys"],
        serde_json::json!(["1.11"])
    );
    assert_eq!(
        controls["audit.access_analyzer_regions"],
        serde_json::json!(["1.20", "IAM.28"])
    );
    assert_eq!(
        controls["audit.forbid_cloudshell_full_access"],
        serde_json::json!(["1.22", "IAM.27"])
    );
    assert_eq!(
        controls["users.require_tags"],
        serde_json::json!(["IAM.25"])
    );
    assert_eq!(
        controls["audit.forbid_service_wildcards"],
        serde_json::json!(["IAM.21"])
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn the_organizations_root_access_is_judged_once_per_run_with_the_base_identity() {
    let base = fresh_account().await;
    let (_, _ids) = support::create_organization(&base, &["member-a", "member-b"]).await;
    base.iam()
        .await
        .enable_organizations_root_credentials_management()
        .send()
        .await
        .unwrap();
    base.requests();
    let dir = tempfile::tempdir().unwrap();
    let config = desired(
        dir.path(),
        "[organization]\nrole_name = \"OrganizationAccountAccessRole\"\n\
         require_root_credentials_management = true\n",
    );
    let plan = plan_json(&base, &config);
    // One read, with the base identity's key, whatever the number of accounts.
    let used = base.requests();
    assert_eq!(
        used.get("iam:ListOrganizationsFeatures"),
        Some(&1),
        "{used:?}"
    );
    let accounts = plan["accounts"].as_array().unwrap();
    let organization = accounts
        .iter()
        .find(|a| a["name"] == "organization")
        .unwrap_or_else(|| panic!("{plan:#}"));
    assert_eq!(accounts.last(), Some(organization), "after the accounts");
    let findings = organization["findings"].as_array().unwrap();
    assert_eq!(findings.len(), 1, "{plan:#}");
    assert_eq!(findings[0]["address"], "organization");
    assert_eq!(
        findings[0]["rule"],
        "organization.require_root_credentials_management"
    );
    let message = findings[0]["message"].as_str().unwrap();
    assert!(message.contains("RootSessions off"), "{message}");
    assert!(!message.contains("RootCredentialsManagement"), "{message}");
    // No account's own plan holds it.
    for account in accounts.iter().filter(|a| a["name"] != "organization") {
        assert!(
            account["findings"]
                .as_array()
                .unwrap()
                .iter()
                .all(|f| f["address"] != "organization"),
            "{account:#}"
        );
    }
    // Once both are on, nothing is said.
    base.iam()
        .await
        .enable_organizations_root_sessions()
        .send()
        .await
        .unwrap();
    let plan = plan_json(&base, &config);
    let organization = plan["accounts"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["name"] == "organization")
        .unwrap()
        .clone();
    assert_eq!(organization["findings"], serde_json::json!([]), "{plan:#}");
}
