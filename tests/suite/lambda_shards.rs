//! The Lambda handler (`--features lambda`) as a Step Functions Distributed Map calls it, against
//! moto and its S3: the desired state read from `IAMCTL_DESIRED=s3://...`, each shard of a
//! three-account fleet planned by its own invocation (the fixture event) and written under
//! `IAMCTL_RESULTS`, the shards together covering the fleet once; and the shard requests it
//! refuses.

use std::collections::BTreeSet;

use iamctl::lambda::{DesiredSource, Handler, LambdaConfig, S3Folder};
use rusty_fork::rusty_fork_test;
use serde_json::{Value, json};

use crate::support;
use crate::support::{SeedUser, seed_user};

const SHARD_PLAN: &str = include_str!("../fixtures/events/shard-plan.json");

const DESIRED: &str = r#"
[users.console]
require_mfa = true
without_mfa = "report"
"#;

fn s3_client(account: &support::Account) -> aws_sdk_s3::Client {
    let config = aws_sdk_s3::config::Builder::from(&account.sdk_config())
        .force_path_style(true)
        .build();
    aws_sdk_s3::Client::from_conf(config)
}

async fn put(s3: &aws_sdk_s3::Client, bucket: &str, key: &str, body: &str) {
    s3.put_object()
        .bucket(bucket)
        .key(key)
        .body(body.as_bytes().to_vec().into())
        .send()
        .await
        .unwrap_or_else(|e| panic!("putting {key}: {e:?}"));
}

async fn get_json(s3: &aws_sdk_s3::Client, bucket: &str, key: &str) -> Value {
    let object = s3
        .get_object()
        .bucket(bucket)
        .key(key)
        .send()
        .await
        .unwrap_or_else(|e| panic!("getting {key}: {e:?}"));
    let bytes = object.body.collect().await.unwrap().into_bytes();
    serde_json::from_slice(&bytes).unwrap()
}

/// (account name, rule) of every change and finding of a plan document.
fn items(plan: &Value) -> BTreeSet<(String, String)> {
    let mut items = BTreeSet::new();
    for account in plan["accounts"].as_array().unwrap() {
        let name = account["name"].as_str().unwrap().to_owned();
        for item in account["changes"]
            .as_array()
            .into_iter()
            .chain(account["findings"].as_array())
            .flatten()
        {
            items.insert((name.clone(), item["rule"].as_str().unwrap().to_owned()));
        }
    }
    items
}

rusty_fork_test! {
    /// In a process of its own (rusty-fork): it points the process environment (which the handler's client
    /// factory reads, as on Lambda) at the operator's moto account, before any other thread runs.
    #[test]
    fn shards_plan_a_fleet_from_a_desired_state_in_s3_into_s3() {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        // The account the function runs in, and the fleet it plans through roles.
        let operator = runtime.block_on(support::fresh_account());
        let fleet: Vec<_> = (0..3)
            .map(|_| runtime.block_on(support::fresh_account()))
            .collect();
        for (key, value) in operator.env() {
            // SAFETY: single-threaded here: the runtime is current-thread and nothing else runs.
            unsafe { std::env::set_var(key, value) };
        }
        runtime.block_on(async {
            let console = SeedUser {
                console: true,
                ..Default::default()
            };
            for account in &fleet {
                seed_user(&account.iam().await, "dana", console).await;
            }
            let bucket = "iamctl-org";
            operator.create_bucket(bucket);
            let s3 = s3_client(&operator);
            let accounts: String = fleet
                .iter()
                .enumerate()
                .map(|(i, account)| {
                    format!(
                        "\n[[account]]\nname = \"member-{i}\"\nrole_arn = \"{}\"\n",
                        account.role_arn("iamctl")
                    )
                })
                .collect();
            put(&s3, bucket, "desired/iam.toml", DESIRED).await;
            put(&s3, bucket, "desired/accounts.toml", &accounts).await;
            // Neither a subfolder's file nor another file type is part of the desired state: both
            // would fail to load if read.
            put(&s3, bucket, "desired/old/iam.toml", "not = [toml").await;
            put(&s3, bucket, "desired/README.md", "# the org's IAM rules").await;

            // As the function is configured in the SAM template.
            for (key, value) in [
                ("IAMCTL_DESIRED", "s3://iamctl-org/desired/"),
                ("IAMCTL_RESULTS", "s3://iamctl-org/plans/"),
            ] {
                // SAFETY: as above, no other thread runs.
                unsafe { std::env::set_var(key, value) };
            }
            let config = LambdaConfig::from_env().unwrap();
            assert_eq!(
                config.desired,
                DesiredSource::S3(S3Folder {
                    bucket: bucket.into(),
                    prefix: "desired/".into()
                })
            );
            let handler = Handler::load(&config).await.unwrap();

            // The Distributed Map's items: the fixture (shard 1/2), then shard 2/2.
            let first: Value = serde_json::from_str(SHARD_PLAN).unwrap();
            let mut second = first.clone();
            second["shard"] = "2/2".into();
            let mut plans = Vec::new();
            let mut planned = 0;
            for (event, key) in [
                (first, "plans/nightly-2026-12-04/shard-1-of-2.json"),
                (second, "plans/nightly-2026-12-04/shard-2-of-2.json"),
            ] {
                let shard = event["shard"].clone();
                let answer = handler.handle(event).await.unwrap();
                let accounts = answer["accounts"].as_u64().unwrap();
                assert_eq!(
                    answer,
                    json!({
                        "shard": shard,
                        "accounts": accounts,
                        "changes": 0,
                        "findings": accounts,
                        "failed_accounts": 0,
                        "plan": format!("s3://{bucket}/{key}"),
                    })
                );
                planned += accounts;
                plans.push(get_json(&s3, bucket, key).await);
            }
            assert_eq!(planned, 3);
            // Disjoint shards, together the whole fleet, each member's console user without MFA
            // reported once.
            let mut all = BTreeSet::new();
            for plan in &plans {
                let found = items(plan);
                assert!(found.is_disjoint(&all), "shards overlap: {found:?}");
                all.extend(found);
            }
            let want: BTreeSet<_> = (0..3)
                .map(|i| {
                    (
                        format!("member-{i}"),
                        "users.console.require_mfa".to_owned(),
                    )
                })
                .collect();
            assert_eq!(all, want);

            // Refused before anything is read or written.
            let refusals = [
                (
                    json!({"shard": "3/2", "mode": "plan"}),
                    "shard: shard 3/2 is out of range: need 1 <= K <= N",
                ),
                (
                    json!({"shard": "1/2", "mode": "apply"}),
                    "not a shard request: unknown variant `apply`, expected `plan`",
                ),
                (
                    json!({"shard": "1/2", "mode": "plan", "run": "../elsewhere"}),
                    "run \"../elsewhere\": use letters, digits and - _ . : only (it names a folder)",
                ),
            ];
            for (event, message) in refusals {
                let err = handler.handle(event).await.unwrap_err();
                assert_eq!(err.to_string(), message);
            }
        });
    }
}
