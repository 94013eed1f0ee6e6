//! The Lambda handler (`--features lambda`) called with fixture events against moto, without
//! the Lambda runtime: a direct EventBridge invocation, an SQS batch with a malformed record,
//! and a malformed event. Declared under `#[cfg(feature = "lambda")]` in tests/suite/main.rs.

use crate::support;

use iamctl::lambda::{DesiredSource, Handler, LambdaConfig};
use rusty_fork::rusty_fork_test;
use serde_json::{Value, json};
use support::{SeedUser, seed_user};

const CREATE_LOGIN_PROFILE: &str = include_str!(concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/tests/fixtures/events/create-login-profile.json"
));

fn login_profile_event(account_id: &str, user: &str) -> Value {
    let mut event: Value = serde_json::from_str(CREATE_LOGIN_PROFILE).unwrap();
    event["account"] = account_id.into();
    event["detail"]["recipientAccountId"] = account_id.into();
    event["detail"]["requestParameters"]["userName"] = user.into();
    event
}

fn sqs_record(id: &str, body: &str) -> Value {
    json!({
        "messageId": id,
        "receiptHandle": format!("receipt-{id}"),
        "body": body,
        "attributes": {},
        "messageAttributes": {},
        "md5OfBody": "",
        "eventSource": "aws:sqs",
        "eventSourceARN": "arn:aws:sqs:us-east-1:111111111111:iamctl-events",
        "awsRegion": "us-east-1"
    })
}

rusty_fork_test! {
    /// In a process of its own (rusty-fork runs the suite's binary again for this one test):
    /// it points the process environment (which the handler's client factory reads, as on
    /// Lambda) at one moto account, which no other test of the suite may see or race with.
    #[test]
    fn the_handler_reconciles_eventbridge_and_sqs_deliveries() {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        let account = runtime.block_on(support::fresh_account());
        for (key, value) in account.env() {
            // SAFETY: this process runs this one test only, on a current-thread runtime:
            // no other thread reads or writes the environment.
            unsafe { std::env::set_var(key, value) };
        }
        runtime.block_on(async {
            let iam = account.iam().await;
            let console = SeedUser {
                console: true,
                ..Default::default()
            };
            for user in ["bob", "carol"] {
                seed_user(&iam, user, console).await;
            }
            let dir = tempfile::tempdir().unwrap();
            let desired = dir.path().join("desired");
            std::fs::create_dir(&desired).unwrap();
            std::fs::write(
                desired.join("iam.toml"),
                "[users.console]\nrequire_mfa = true\nwithout_mfa = \"disable-console\"\n",
            )
            .unwrap();
            let handler = Handler::load(&LambdaConfig {
                desired: DesiredSource::Package(desired),
                results: None,
                dry_run: false,
                max_changes: None,
            })
            .await
            .unwrap();
            let profile = |user: &'static str| {
                let iam = iam.clone();
                async move { iam.get_login_profile().user_name(user).send().await.is_ok() }
            };

            // A rule's direct delivery: one event.
            let answer = handler
                .handle(login_profile_event(&account.id, "bob"))
                .await
                .unwrap();
            assert_eq!(
                answer,
                json!({"events": 1, "reconciled": 1, "accounts": 1, "changes": 1, "notes": [], "alerts": []})
            );
            assert!(!profile("bob").await);
            assert!(profile("carol").await);

            // Through SQS: the malformed record comes back, the others are done.
            let batch = json!({"Records": [
                sqs_record("m-carol", &login_profile_event(&account.id, "carol").to_string()),
                sqs_record("m-bad", "{\"detail\": "),
                sqs_record("m-other", &login_profile_event("222222222222", "carol").to_string()),
            ]});
            let answer = handler.handle(batch).await.unwrap();
            assert_eq!(
                answer,
                json!({"batchItemFailures": [{"itemIdentifier": "m-bad"}]})
            );
            assert!(!profile("carol").await);

            // A malformed direct event fails the invocation (Lambda retries, then its DLQ).
            let mut bad = login_profile_event(&account.id, "bob");
            bad["detail"]["requestParameters"] = Value::Null;
            let err = handler.handle(bad).await.unwrap_err();
            assert_eq!(
                err.to_string(),
                "malformed event: event 0 (CreateLoginProfile) names no user (requestParameters.userName, or an IAM user caller)"
            );
        });
    }
}
