//! Staged enforcement's notices reach the owners: `plan --notify` and `apply` publish one SNS
//! message per owner and account, read back here through an SQS subscription on moto, with
//! the message attributes subscription filters key on.

use crate::support;

use std::collections::BTreeMap;

use serde_json::Value;
use support::cli::{desired, run};
use support::{Account, Backdate, SeedUser, fresh_account, seed_user};

/// A topic and a queue subscribed to it; returns the topic's ARN and the queue's URL.
pub(crate) async fn topic_with_queue(account: &Account) -> (String, String) {
    let config = account.sdk_config();
    let sns = aws_sdk_sns::Client::new(&config);
    let sqs = aws_sdk_sqs::Client::new(&config);
    let topic = sns
        .create_topic()
        .name("iamctl-notices")
        .send()
        .await
        .unwrap()
        .topic_arn
        .unwrap();
    let queue = sqs
        .create_queue()
        .queue_name("owners")
        .send()
        .await
        .unwrap()
        .queue_url
        .unwrap();
    let queue_arn = format!("arn:aws:sqs:us-east-1:{}:owners", account.id);
    sns.subscribe()
        .topic_arn(&topic)
        .protocol("sqs")
        .endpoint(queue_arn)
        .send()
        .await
        .unwrap();
    (topic, queue)
}

/// One SNS message as the queue received it.
#[derive(Debug)]
pub(crate) struct Received {
    pub(crate) subject: String,
    pub(crate) body: String,
    pub(crate) attributes: BTreeMap<String, String>,
}

/// Every message waiting on the queue, removed from it.
pub(crate) async fn drain(account: &Account, queue: &str) -> Vec<Received> {
    let sqs = aws_sdk_sqs::Client::new(&account.sdk_config());
    let mut out = Vec::new();
    loop {
        let got = sqs
            .receive_message()
            .queue_url(queue)
            .max_number_of_messages(10)
            .send()
            .await
            .unwrap();
        let messages = got.messages.unwrap_or_default();
        if messages.is_empty() {
            return out;
        }
        for message in messages {
            let envelope: Value = serde_json::from_str(message.body().unwrap()).unwrap();
            let attributes = envelope["MessageAttributes"]
                .as_object()
                .map(|a| {
                    a.iter()
                        .map(|(k, v)| (k.clone(), v["Value"].as_str().unwrap().to_owned()))
                        .collect()
                })
                .unwrap_or_default();
            out.push(Received {
                subject: envelope["Subject"].as_str().unwrap_or_default().to_owned(),
                body: envelope["Message"].as_str().unwrap().to_owned(),
                attributes,
            });
            sqs.delete_message()
                .queue_url(queue)
                .receipt_handle(message.receipt_handle().unwrap())
                .send()
                .await
                .unwrap();
        }
    }
}

const STAGED: &str = r#"
[users]
owner_tag = "owner"
default_owner = "secops@example.com"

[users.access_keys]
max_age_days = 90
on_expired = "deactivate"
notice_days = 14
delete_inactive = true
delete_inactive_after_days = 14

[notify]
sns_topic_arn = "TOPIC"
"#;

#[tokio::test(flavor = "multi_thread")]
async fn each_owner_hears_what_is_due_and_what_was_done() {
    let account = fresh_account().await;
    let iam = account.iam().await;
    let (topic, queue) = topic_with_queue(&account).await;
    // team-a's key falls due in 5 days; bob (owned by default) has one past its age.
    let soon = seed_user(
        &iam,
        "svc-soon",
        SeedUser {
            active_keys: 1,
            tags: &[("owner", "team-a@example.com")],
            ..Default::default()
        },
    )
    .await;
    let old = seed_user(
        &iam,
        "bob",
        SeedUser {
            active_keys: 1,
            ..Default::default()
        },
    )
    .await;
    seed_user(&iam, "quiet", SeedUser::default()).await;
    for (user, key, days) in [
        ("svc-soon", &soon.active[0], 85.0),
        ("bob", &old.active[0], 120.0),
    ] {
        account.backdate(Backdate {
            user,
            access_key_id: Some(key),
            created_days_ago: Some(days),
            ..Default::default()
        });
    }
    let dir = tempfile::tempdir().unwrap();
    let config = desired(dir.path(), &STAGED.replace("TOPIC", &topic));
    let config = config.to_str().unwrap();

    let planned = run(&account, &["plan", "--notify", "-c", config]);
    assert_eq!(planned.code, 0, "{}\n{}", planned.stdout, planned.stderr);
    let heard = drain(&account, &queue).await;
    // Only team-a has a notice; bob's key is due today, a change, not a notice.
    assert_eq!(heard.len(), 1, "{heard:#?}");
    let notice = &heard[0];
    assert_eq!(
        notice.attributes,
        BTreeMap::from([
            ("account".to_owned(), "default".to_owned()),
            ("account_id".to_owned(), account.id.clone()),
            ("owner".to_owned(), "team-a@example.com".to_owned()),
        ])
    );
    assert_eq!(
        notice.subject,
        "iamctl: 1 due, 0 done in default for team-a@example.com"
    );
    let key = &soon.active[0];
    assert!(
        notice.body.starts_with(&format!(
            "iamctl for team-a@example.com, account default ({})\n\nDue soon: act before the date, or iamctl will:\n- user.svc-soon.access_key.{key} on ",
            account.id
        )),
        "{}",
        notice.body
    );
    assert!(
        notice
            .body
            .contains(&format!(": {key} will be deactivated on "))
            && notice.body.contains(
                "To fix: create a new key, move its users to it, then deactivate the old one."
            ),
        "{}",
        notice.body
    );

    // apply: bob's owner hears what was done, team-a again what is due.
    let applied = run(&account, &["apply", "--auto-approve", "-c", config]);
    assert_eq!(applied.code, 0, "{}\n{}", applied.stdout, applied.stderr);
    let mut heard = drain(&account, &queue).await;
    heard.sort_by(|a, b| a.attributes["owner"].cmp(&b.attributes["owner"]));
    let owners: Vec<&str> = heard
        .iter()
        .map(|m| m.attributes["owner"].as_str())
        .collect();
    assert_eq!(owners, ["secops@example.com", "team-a@example.com"]);
    assert!(
        heard[0].body.contains(&format!(
            "Done by iamctl apply:\n- deactivate user.bob.access_key.{} (users.access_keys.max_age_days)\n",
            old.active[0]
        )),
        "{}",
        heard[0].body
    );
    assert_eq!(
        heard[0].subject,
        "iamctl: 0 due, 1 done in default for secops@example.com"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_notice_that_cannot_be_sent_never_fails_enforcement() {
    let account = fresh_account().await;
    let iam = account.iam().await;
    let old = seed_user(
        &iam,
        "bob",
        SeedUser {
            active_keys: 1,
            ..Default::default()
        },
    )
    .await;
    account.backdate(Backdate {
        user: "bob",
        access_key_id: Some(&old.active[0]),
        created_days_ago: Some(120.0),
        ..Default::default()
    });
    let dir = tempfile::tempdir().unwrap();
    let missing = format!("arn:aws:sns:us-east-1:{}:no-such-topic", account.id);
    let config = desired(dir.path(), &STAGED.replace("TOPIC", &missing));
    let applied = run(
        &account,
        &["apply", "--auto-approve", "-c", config.to_str().unwrap()],
    );
    assert_eq!(applied.code, 0, "{}\n{}", applied.stdout, applied.stderr);
    assert!(
        applied
            .stdout
            .contains("Apply: 1 done, 0 skipped, 0 failed."),
        "{}",
        applied.stdout
    );
    assert!(
        applied.stderr.starts_with(
            "warning: notice to secops@example.com not sent: account default: sns:Publish: "
        ),
        "{}",
        applied.stderr
    );
    assert_eq!(
        support::live_state::key_statuses(&iam, "bob").await,
        [(old.active[0].clone(), "Inactive".to_owned())]
    );
}

#[test]
fn notify_without_a_topic_is_refused_before_any_call() {
    let dir = tempfile::tempdir().unwrap();
    let config = desired(dir.path(), "[users.access_keys]\nmax_age_days = 90\n");
    let out = support::cli::output(support::cli::offline_cmd().args([
        "plan",
        "--notify",
        "-c",
        config.to_str().unwrap(),
    ]));
    assert_eq!(out.code, 1);
    assert!(
        out.stderr
            .contains("--notify needs a topic: the desired state has no [notify] sns_topic_arn"),
        "{}",
        out.stderr
    );
}
