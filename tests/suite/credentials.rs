//! Issue 21 end to end on moto: every credential an IAM user can hold, and the account's
//! server certificates, under the one staged lifecycle. One account seeded with an old
//! CodeCommit credential, a Bedrock API key without expiry, an inactive Keyspaces credential,
//! an old SSH key, an active signing certificate, a key-only user without MFA and two expired
//! server certificates gets from one `plan` the change or finding each rule asks for (with
//! notices and due dates); `apply` makes exactly those, the plan after it has no change, and
//! `--as-of` forecasts when the rest falls due.

use crate::support;

use std::collections::BTreeMap;

use aws_sdk_iam::types::StatusType;
use chrono::{Duration, Utc};
use serde_json::Value;
use support::cli::{desired, run};
use support::{
    Account, SeedUser, create_service_credential, fresh_account, seed_user,
    upload_server_certificate, upload_signing_certificate, upload_ssh_key,
};

const DESIRED: &str = r#"
[users.service_credentials]
max_age_days = 90
on_expired = "deactivate"
allowed_services = ["codecommit.amazonaws.com", "cassandra.amazonaws.com", "bedrock.amazonaws.com"]
require_expiry_days = 30
delete_inactive = true
delete_inactive_after_days = 14
notice_days = 7

[users.ssh_keys]
max_age_days = 365
on_expired = "deactivate"

[users.signing_certificates]
forbid = true
on_forbidden = "deactivate"

[users.mfa]
all_users = true

[server_certificates]
delete_expired_after_days = 30
"#;

/// The ids the seeding made.
struct Seeded {
    codecommit: String,
    bedrock: String,
    keyspaces: String,
    ssh: String,
    cert: String,
}

async fn seed(account: &Account) -> Seeded {
    let iam = account.iam().await;
    seed_user(&iam, "dev", SeedUser::default()).await;
    seed_user(
        &iam,
        "svc",
        SeedUser {
            active_keys: 1,
            ..Default::default()
        },
    )
    .await;
    let codecommit = create_service_credential(&iam, "dev", "codecommit.amazonaws.com", None).await;
    let bedrock = create_service_credential(&iam, "dev", "bedrock.amazonaws.com", None).await;
    let keyspaces = create_service_credential(&iam, "dev", "cassandra.amazonaws.com", None).await;
    iam.update_service_specific_credential()
        .user_name("dev")
        .service_specific_credential_id(&keyspaces)
        .status(StatusType::Inactive)
        .send()
        .await
        .unwrap();
    account.credential_dates(&format!(
        "\"user\":\"dev\",\"service_specific_credential_id\":\"{codecommit}\",\"created_days_ago\":200"
    ));
    // 25 days old, no expiry: reported now, and deactivated in 5 days (within notice_days).
    account.credential_dates(&format!(
        "\"user\":\"dev\",\"service_specific_credential_id\":\"{bedrock}\",\"created_days_ago\":25"
    ));
    let ssh = upload_ssh_key(&iam, "dev").await;
    account.credential_dates(&format!(
        "\"user\":\"dev\",\"ssh_public_key_id\":\"{ssh}\",\"uploaded_days_ago\":400"
    ));
    let cert = upload_signing_certificate(&iam, "dev").await;
    for (name, expired_days_ago) in [("old-web", 40), ("new-web", 10)] {
        upload_server_certificate(&iam, name).await;
        account.credential_dates(&format!(
            "\"server_certificate\":\"{name}\",\"uploaded_days_ago\":400,\"expires_days_ago\":{expired_days_ago}"
        ));
    }
    account.requests(); // the seeding's own
    Seeded {
        codecommit,
        bedrock,
        keyspaces,
        ssh,
        cert,
    }
}

fn plan_json(account: &Account, config: &std::path::Path, extra: &[&str]) -> Value {
    let mut args = vec!["plan", "--format", "json", "-c", config.to_str().unwrap()];
    args.extend_from_slice(extra);
    let out = run(account, &args);
    assert_eq!(out.code, 0, "plan failed: {}", out.stderr);
    serde_json::from_str(&out.stdout).unwrap()
}

/// `(address, action, rule)` of every change.
fn changes(plan: &Value) -> Vec<(String, String, String)> {
    let mut out: Vec<_> = plan["accounts"][0]["changes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            (
                c["address"].as_str().unwrap().to_owned(),
                c["action"].as_str().unwrap().to_owned(),
                c["rule"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    out.sort();
    out
}

/// Every finding by `(address, rule)`.
fn findings(plan: &Value) -> BTreeMap<(String, String), Value> {
    plan["accounts"][0]["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            (
                (
                    f["address"].as_str().unwrap().to_owned(),
                    f["rule"].as_str().unwrap().to_owned(),
                ),
                f.clone(),
            )
        })
        .collect()
}

fn owned(items: &[(&str, &str, &str)]) -> Vec<(String, String, String)> {
    let mut out: Vec<_> = items
        .iter()
        .map(|(a, b, c)| ((*a).to_owned(), (*b).to_owned(), (*c).to_owned()))
        .collect();
    out.sort();
    out
}

fn day(days_from_now: i64) -> String {
    (Utc::now() + Duration::days(days_from_now))
        .format("%Y-%m-%d")
        .to_string()
}

#[tokio::test(flavor = "multi_thread")]
async fn every_credential_kind_goes_through_the_lifecycle_plan_apply_and_forecast() {
    let account = fresh_account().await;
    let ids = seed(&account).await;
    let dir = tempfile::tempdir().unwrap();
    let config = desired(dir.path(), DESIRED);

    // One plan: each rule's change or finding.
    let plan = plan_json(&account, &config, &[]);
    // Its extra reads: one bulk call per service, one for server certificates, the signing
    // certificates of the one user the report shows holding one, and SSH keys per user.
    let used = account.requests();
    for (read, calls) in [
        ("iam:ListServiceSpecificCredentials", 3),
        ("iam:ListServerCertificates", 1),
        ("iam:ListSigningCertificates", 1),
        ("iam:ListSSHPublicKeys", 2),
    ] {
        assert_eq!(used.get(read), Some(&calls), "{read}: {used:?}");
    }
    let service = |id: &str| format!("user.dev.service_credential.{id}");
    let ssh = format!("user.dev.ssh_key.{}", ids.ssh);
    let cert = format!("user.dev.signing_certificate.{}", ids.cert);
    assert_eq!(
        changes(&plan),
        owned(&[
            (
                &service(&ids.codecommit),
                "deactivate",
                "users.service_credentials.max_age_days"
            ),
            (
                &service(&ids.keyspaces),
                "tag",
                "users.service_credentials.delete_inactive"
            ),
            (&ssh, "deactivate", "users.ssh_keys.max_age_days"),
            (&cert, "deactivate", "users.signing_certificates.forbid"),
            (
                "server_certificate.old-web",
                "delete",
                "server_certificates.delete_expired_after_days"
            ),
        ]),
        "{plan:#}"
    );
    let found = findings(&plan);
    let keys: Vec<(&str, &str)> = found
        .keys()
        .map(|(a, r)| (a.as_str(), r.as_str()))
        .collect();
    let bedrock = service(&ids.bedrock);
    assert_eq!(
        keys,
        [
            (
                "server_certificate.new-web",
                "server_certificates.delete_expired_after_days.notice"
            ),
            ("user.dev", "users.mfa.all_users"),
            (
                bedrock.as_str(),
                "users.service_credentials.require_expiry_days"
            ),
            (
                bedrock.as_str(),
                "users.service_credentials.require_expiry_days.notice"
            ),
            ("user.svc", "users.mfa.all_users"),
        ],
        "{plan:#}"
    );
    // Notices carry their due dates: the Bedrock key is deactivated 30 days after its
    // creation (5 days from now), new-web deleted 30 days after its expiry (20 from now).
    let due = |address: &str, rule: &str| -> (String, String) {
        let notice = &found[&(address.to_owned(), format!("{rule}.notice"))];
        (
            notice["due"].as_str().unwrap()[..10].to_owned(),
            notice["action"].as_str().unwrap().to_owned(),
        )
    };
    assert_eq!(
        due(&bedrock, "users.service_credentials.require_expiry_days"),
        (day(5), "deactivate".to_owned())
    );
    assert_eq!(
        due(
            "server_certificate.new-web",
            "server_certificates.delete_expired_after_days"
        ),
        (day(20), "delete".to_owned())
    );
    // Controls: CIS 1.19 and Security Hub IAM.26 for server certificates, IAM.19 for MFA.
    let controls = |f: &Value| -> Vec<String> {
        f["controls"]
            .as_array()
            .map(|c| c.iter().map(|v| v.as_str().unwrap().to_owned()).collect())
            .unwrap_or_default()
    };
    let server_change = plan["accounts"][0]["changes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["address"] == "server_certificate.old-web")
        .unwrap();
    assert_eq!(controls(server_change), ["1.19", "IAM.26"]);
    assert_eq!(
        controls(&found[&("user.svc".to_owned(), "users.mfa.all_users".to_owned())]),
        ["IAM.19"]
    );
    // No secret of any kind in the plan.
    let text = plan.to_string();
    for secret in ["ServicePassword", "ServiceCredentialSecret", "password\""] {
        assert!(!text.contains(secret), "{secret} in the plan");
    }

    // An event of one kind (`UploadSSHPublicKey` for dev) plans that user alone, read
    // directly: its other credentials too, nothing of svc or of the server certificates.
    let mut event: Value = serde_json::from_str(include_str!(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/events/create-login-profile.json"
    )))
    .unwrap();
    event["account"] = account.id.clone().into();
    event["detail"]["recipientAccountId"] = account.id.clone().into();
    event["detail"]["eventName"] = "UploadSSHPublicKey".into();
    event["detail"]["requestParameters"] = serde_json::json!({"userName": "dev"});
    let event_file = dir.path().join("event.json");
    std::fs::write(&event_file, event.to_string()).unwrap();
    let targeted = plan_json(
        &account,
        &config,
        &["--event", event_file.to_str().unwrap()],
    );
    let full_of_dev: Vec<_> = changes(&plan)
        .into_iter()
        .filter(|(address, _, _)| address.starts_with("user.dev."))
        .collect();
    assert_eq!(changes(&targeted), full_of_dev, "{targeted:#}");
    let used = account.requests();
    assert_eq!(used.get("iam:ListSSHPublicKeys"), Some(&1), "{used:?}");
    assert_eq!(used.get("iam:GetCredentialReport"), None, "{used:?}");

    // Apply: exactly those changes, each with its kind's own call.
    let out = run(
        &account,
        &["apply", "--auto-approve", "-c", config.to_str().unwrap()],
    );
    assert_eq!(out.code, 0, "{}\n{}", out.stdout, out.stderr);
    let used = account.requests();
    let writes: BTreeMap<&str, u64> = used
        .iter()
        .filter(|(op, _)| {
            let action = op.split(':').nth(1).unwrap_or_default();
            !["Get", "List", "Generate"]
                .iter()
                .any(|read| action.starts_with(read))
        })
        .map(|(op, n)| (op.as_str(), *n))
        .collect();
    assert_eq!(
        writes,
        BTreeMap::from([
            ("iam:DeleteServerCertificate", 1),
            ("iam:TagUser", 2),
            ("iam:UpdateSSHPublicKey", 1),
            ("iam:UpdateServiceSpecificCredential", 1),
            ("iam:UpdateSigningCertificate", 1),
        ]),
        "{used:?}"
    );
    let iam = account.iam().await;
    let listed = iam
        .list_service_specific_credentials()
        .user_name("dev")
        .send()
        .await
        .unwrap();
    let status: BTreeMap<String, String> = listed
        .service_specific_credentials()
        .iter()
        .map(|c| {
            (
                c.service_specific_credential_id().to_owned(),
                c.status().as_str().to_owned(),
            )
        })
        .collect();
    assert_eq!(status[&ids.codecommit], "Inactive");
    assert_eq!(status[&ids.bedrock], "Active");
    assert_eq!(status[&ids.keyspaces], "Inactive");
    let keys = iam
        .list_ssh_public_keys()
        .user_name("dev")
        .send()
        .await
        .unwrap();
    assert_eq!(keys.ssh_public_keys()[0].status(), &StatusType::Inactive);
    let certs = iam
        .list_signing_certificates()
        .user_name("dev")
        .send()
        .await
        .unwrap();
    assert_eq!(certs.certificates()[0].status(), &StatusType::Inactive);
    let servers = iam.list_server_certificates().send().await.unwrap();
    let names: Vec<&str> = servers
        .server_certificate_metadata_list()
        .iter()
        .map(|c| c.server_certificate_name())
        .collect();
    assert_eq!(names, ["new-web"]);
    let svc_keys = iam
        .list_access_keys()
        .user_name("svc")
        .send()
        .await
        .unwrap();
    assert_eq!(
        svc_keys.access_key_metadata()[0].status(),
        Some(&StatusType::Active)
    );
    // The deletion grace is recorded in the account, per kind.
    let tags = iam.list_user_tags().user_name("dev").send().await.unwrap();
    let tag_keys: Vec<&str> = tags.tags().iter().map(|t| t.key()).collect();
    for id in [&ids.codecommit, &ids.keyspaces] {
        let tag = format!("iamctl:inactive-since:service_credential:{id}");
        assert!(tag_keys.contains(&tag.as_str()), "{tag_keys:?}");
    }

    // The plan after apply changes nothing more; the findings stay until a person acts.
    let after = plan_json(&account, &config, &[]);
    assert_eq!(changes(&after), Vec::new(), "{after:#}");
    assert_eq!(findings(&after).len(), 5, "{after:#}");

    // Forecasts: in 20 days the recorded credentials' grace (14 days) is over, the Bedrock
    // key is past its 30 days, and new-web's grace ends.
    let as_of = (Utc::now() + Duration::days(21)).to_rfc3339();
    let later = plan_json(&account, &config, &["--as-of", &as_of]);
    assert_eq!(
        changes(&later),
        owned(&[
            (
                &service(&ids.codecommit),
                "delete",
                "users.service_credentials.delete_inactive"
            ),
            (
                &service(&ids.keyspaces),
                "delete",
                "users.service_credentials.delete_inactive"
            ),
            (
                &bedrock,
                "deactivate",
                "users.service_credentials.require_expiry_days"
            ),
            (
                "server_certificate.new-web",
                "delete",
                "server_certificates.delete_expired_after_days"
            ),
        ]),
        "{later:#}"
    );
}
