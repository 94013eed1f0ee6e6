//! Telling owners (`[notify] sns_topic_arn`): one SNS message per owner and account, saying
//! what is due soon (the plan's notices) and, after `apply`, what was done. The messages are
//! made by a pure function ([`messages`]); [`publish`] sends them with the identity iamctl
//! starts from. A message that cannot be sent is reported and never stops or fails
//! enforcement.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use aws_sdk_sns::types::MessageAttributeValue;
use futures::StreamExt;

use crate::aws::{ClientFactory, call};
use crate::outcome::{Outcome, OutcomeStatus};
use crate::permissions::SNS_PUBLISH;
use crate::plan::{AccountPlan, Action, ChangeKind, Rule};

/// The owner attribute of items about users that nobody is named for.
pub const UNOWNED: &str = "unowned";

/// SNS caps a subject at 100 characters.
const SUBJECT_LIMIT: usize = 100;

/// One message: to `owner`, about one account.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Message {
    pub owner: String,
    pub account: String,
    pub account_id: String,
    pub subject: String,
    pub body: String,
}

/// The messages of one account: per owner, the notices of `plan` and, when given, what apply
/// did (`outcomes`, in the order of `plan.changes`). Owners with nothing to hear get none.
pub fn messages(plan: &AccountPlan, outcomes: Option<&[Outcome]>) -> Vec<Message> {
    #[derive(Default)]
    struct Lines {
        due: Vec<String>,
        done: Vec<String>,
        failed: Vec<String>,
    }
    let mut by_owner: BTreeMap<String, Lines> = BTreeMap::new();
    let owner_of = |owner: &Option<String>| owner.clone().unwrap_or_else(|| UNOWNED.to_owned());
    for finding in &plan.findings {
        let Some(notice) = finding.notice else {
            continue;
        };
        let Some(_) = finding.address.user() else {
            continue;
        };
        by_owner
            .entry(owner_of(&finding.owner))
            .or_default()
            .due
            .push(format!(
                "- {} on {}: {} ({}). {}",
                finding.address,
                notice.due.format("%Y-%m-%d"),
                finding.message,
                finding.rule_name(),
                how_to_fix(finding.rule, notice.action)
            ));
    }
    for (change, outcome) in plan.changes.iter().zip(outcomes.into_iter().flatten()) {
        if change.kind.user().is_none() {
            continue;
        }
        let lines = by_owner.entry(owner_of(&change.owner)).or_default();
        let mut line = format!("- {} {} ({})", outcome.action, outcome.address, change.rule);
        // A rotation's owner must learn where the new key is, and until when the old works.
        if let ChangeKind::RotateAccessKey {
            key,
            secret,
            deactivate_on,
            ..
        } = &change.kind
        {
            let _ = write!(
                line,
                ": the new key is in Secrets Manager secret {}; {} stops working on {}, or sooner once the new key is used",
                secret.secret_name,
                key.id,
                deactivate_on.format("%Y-%m-%d")
            );
        }
        match &outcome.status {
            OutcomeStatus::Done => lines.done.push(line),
            OutcomeStatus::Failed { error } => lines.failed.push(format!("{line}: {error}")),
            OutcomeStatus::Skipped { .. } => {}
        }
    }
    by_owner
        .into_iter()
        .filter(|(_, lines)| {
            !(lines.due.is_empty() && lines.done.is_empty() && lines.failed.is_empty())
        })
        .map(|(owner, lines)| {
            let mut body = format!(
                "iamctl for {owner}, account {} ({})\n",
                plan.name, plan.account_id
            );
            for (title, items) in [
                ("Due soon: act before the date, or iamctl will", &lines.due),
                ("Done by iamctl apply", &lines.done),
                ("Attempted and failed", &lines.failed),
            ] {
                if !items.is_empty() {
                    let _ = write!(body, "\n{title}:\n{}\n", items.join("\n"));
                }
            }
            let _ = write!(
                body,
                "\nSee the whole plan: iamctl plan -a {} --group-by owner\n",
                plan.name
            );
            let mut subject = format!(
                "iamctl: {} due, {} done in {} for {owner}",
                lines.due.len(),
                lines.done.len(),
                plan.name
            );
            if subject.chars().count() > SUBJECT_LIMIT {
                subject = subject.chars().take(SUBJECT_LIMIT - 1).collect::<String>() + "…";
            }
            Message {
                owner,
                account: plan.name.clone(),
                account_id: plan.account_id.clone(),
                subject,
                body,
            }
        })
        .collect()
}

/// What the owner can do before the date.
fn how_to_fix(rule: Rule, action: Action) -> &'static str {
    match rule {
        Rule::KeysMaxAge if action == Action::Rotate => {
            "Nothing to do before: iamctl then puts a new key in the secret named above; move whatever uses the key to it."
        }
        Rule::KeysMaxAge => {
            "To fix: create a new key, move its users to it, then deactivate the old one."
        }
        Rule::KeysRotation => {
            "To fix: make whatever uses the old key read the new one from the secret named above (aws secretsmanager get-secret-value --secret-id NAME)."
        }
        Rule::KeysMaxUnused => {
            "To fix: delete the key if nothing uses it; if something does, it will count as used."
        }
        Rule::KeysDeleteInactive => {
            "To fix: reactivate the key if it is still needed; otherwise nothing to do."
        }
        Rule::ConsoleRequireMfa | Rule::MfaAllUsers => "To fix: enroll an MFA device for the user.",
        Rule::ServiceCredentialsMaxAge => {
            "To fix: create a new credential for the service, move its users to it, then delete the old one."
        }
        Rule::ServiceCredentialsRequireExpiry => {
            "To fix: create a Bedrock API key with an expiry within the limit, move its users to it, then delete the old one."
        }
        Rule::ServiceCredentialsAllowedServices => {
            "To fix: delete the credential, or ask for its service to be allowed."
        }
        Rule::ServiceCredentialsDeleteInactive | Rule::SshKeysDeleteInactive => {
            "To fix: reactivate it if it is still needed; otherwise nothing to do."
        }
        Rule::SshKeysMaxAge => {
            "To fix: upload a new SSH public key, move its users to it, then delete the old one."
        }
        Rule::SigningCertificatesForbid => {
            "To fix: delete the signing certificate; sign requests with Signature Version 4 instead."
        }
        Rule::UsersInventory | Rule::UsersException => {
            "To fix: add the user to [users.inventory] (or renew its exception) if it must stay; otherwise move its workload off it before the date above."
        }
        Rule::BreakGlassMfa => {
            "To fix: enroll a hardware token or a FIDO security key for the user."
        }
        Rule::BreakGlassAccessKey => "To fix: delete the break-glass user's access key.",
        Rule::BreakGlassUsed => {
            "To fix: confirm the sign-in was a drill, or treat it as an incident."
        }
        Rule::BreakGlassPolicies
        | Rule::UsersRequireTags
        | Rule::KeysForbidSetupKeys
        | Rule::AuditSecurityContact
        | Rule::AuditAccessAnalyzer
        | Rule::AuditForbidCloudShell
        | Rule::AuditForbidServiceWildcards
        | Rule::OrganizationRootAccess => "See the plan for what to change.",
        Rule::ServerCertificatesDeleteExpired => {
            "To fix: make sure nothing serves the certificate, and delete it (or it is deleted on the date above)."
        }
        Rule::ConsoleMaxUnused => {
            "To fix: sign in to the console, or ask for the password to be removed."
        }
        Rule::PasswordPolicy
        | Rule::PasswordPolicyAbsent
        | Rule::ConsoleResetOnTightening
        | Rule::KeysMaxActive
        | Rule::User
        | Rule::UserConsole
        | Rule::UserPasswordReset
        | Rule::AuditCloudTrail
        | Rule::AuditCloudTrailCreate
        | Rule::RootForbidAccessKeys
        | Rule::RootRequireMfa
        | Rule::RootRequireHardwareMfa
        | Rule::RootMaxUsed
        | Rule::UsersForbidDirectPolicies
        | Rule::AuditForbidFullAdmin
        | Rule::AuditRequireSupportRole => "See the plan for what to change.",
    }
}

/// Sends `messages` to `topic_arn`, a few at a time. Returns why each one that failed did.
pub async fn publish(
    factory: &ClientFactory,
    topic_arn: &str,
    messages: &[Message],
) -> Vec<String> {
    let region = topic_arn.split(':').nth(3).unwrap_or_default();
    let client = factory.sns(region);
    let attribute = |value: &str| {
        MessageAttributeValue::builder()
            .data_type("String")
            .string_value(value)
            .build()
            .expect("data type is set")
    };
    futures::stream::iter(messages)
        .map(|message| {
            let client = &client;
            async move {
                let request = client
                    .publish()
                    .topic_arn(topic_arn)
                    .subject(&message.subject)
                    .message(&message.body)
                    .message_attributes("owner", attribute(&message.owner))
                    .message_attributes("account", attribute(&message.account))
                    .message_attributes("account_id", attribute(&message.account_id))
                    .send();
                call(&message.account, SNS_PUBLISH, request)
                    .await
                    .err()
                    .map(|err| format!("notice to {} not sent: {err}", message.owner))
            }
        })
        .buffer_unordered(4)
        .filter_map(|failure| async move { failure })
        .collect()
        .await
}

/// What telling the owners came to.
#[derive(Debug, Default)]
pub struct NotifyReport {
    pub sent: usize,
    pub failures: Vec<String>,
}

/// Tells the owners of every account of `plan`: its notices, and what was done where
/// `applied` has the account's outcomes.
pub async fn tell_owners(
    calls: &crate::aws::ApiCalls,
    topic_arn: &str,
    plan: &crate::plan::Plan,
    applied: &[(AccountPlan, Vec<Outcome>)],
) -> NotifyReport {
    let messages: Vec<Message> = plan
        .accounts
        .iter()
        .filter(|account| account.error.is_none())
        .flat_map(|account| {
            let outcomes = applied
                .iter()
                .find(|(a, _)| a.name == account.name)
                .map(|(_, outcomes)| outcomes.as_slice());
            messages(account, outcomes)
        })
        .collect();
    if messages.is_empty() {
        return NotifyReport::default();
    }
    let factory = ClientFactory::new(calls.clone()).await;
    send(&factory, topic_arn, &messages).await
}

/// Tells the owners of one account (see [`tell_owners`]); a fleet run calls it as each
/// account is planned (or applied), so that no account's plan is kept for it until the end.
pub async fn tell_account(
    factory: &ClientFactory,
    topic_arn: &str,
    account: &AccountPlan,
    outcomes: Option<&[Outcome]>,
) -> NotifyReport {
    if account.error.is_some() {
        return NotifyReport::default();
    }
    let messages = messages(account, outcomes);
    if messages.is_empty() {
        return NotifyReport::default();
    }
    send(factory, topic_arn, &messages).await
}

async fn send(factory: &ClientFactory, topic_arn: &str, messages: &[Message]) -> NotifyReport {
    let failures = publish(factory, topic_arn, messages).await;
    NotifyReport {
        sent: messages.len() - failures.len(),
        failures,
    }
}

impl NotifyReport {
    /// Adds `part`, one account's report, to this one.
    pub fn absorb(&mut self, part: NotifyReport) {
        self.sent += part.sent;
        self.failures.extend(part.failures);
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::plan::{Address, Change, ChangeSrc, Finding, Notice};

    #[test]
    fn the_owner_of_a_rotation_learns_where_the_new_key_is_and_when_the_old_one_stops() {
        let address: Address = "user.svc.access_key.AKIAOLD".parse().unwrap();
        let rotate = Change::try_from(ChangeSrc {
            address: address.clone(),
            action: Action::Rotate,
            rule: Rule::KeysMaxAge,
            controls: Vec::new(),
            owner: Some("team-a@example.com".into()),
            before: json!({"id": "AKIAOLD", "status": "Active", "created": "2026-07-01T00:00:00Z"}),
            after: json!({"secret_name": "iamctl/111111111111/svc", "readers": ["arn:aws:iam::111111111111:user/svc"], "deactivate_on": "2026-11-30T00:00:00Z"}),
            attribution: None,
        })
        .unwrap();
        let notice = Finding {
            notice: Some(Notice {
                due: "2026-11-30T00:00:00Z".parse().unwrap(),
                action: Action::Deactivate,
            }),
            owner: Some("team-a@example.com".into()),
            ..Finding::new(
                address.clone(),
                Rule::KeysRotation,
                "AKIAOLD stops working on 2026-11-30, or sooner once AKIANEW is used: the new key is in Secrets Manager secret iamctl/111111111111/svc".into(),
            )
        };
        let plan = AccountPlan {
            name: "prod".into(),
            account_id: "111111111111".into(),
            changes: vec![rotate],
            findings: vec![notice],
            credential_report_generated_at: None,
            error: None,
        };
        let done = [Outcome {
            address,
            action: Action::Rotate,
            rule: Rule::KeysMaxAge,
            status: OutcomeStatus::Done,
        }];
        let messages = messages(&plan, Some(&done));
        assert_eq!(messages.len(), 1);
        assert_eq!(
            messages[0].body,
            "iamctl for team-a@example.com, account prod (111111111111)\n\
             \n\
             Due soon: act before the date, or iamctl will:\n\
             - user.svc.access_key.AKIAOLD on 2026-11-30: AKIAOLD stops working on 2026-11-30, or sooner once AKIANEW is used: the new key is in Secrets Manager secret iamctl/111111111111/svc (users.access_keys.rotation.notice). To fix: make whatever uses the old key read the new one from the secret named above (aws secretsmanager get-secret-value --secret-id NAME).\n\
             \n\
             Done by iamctl apply:\n\
             - rotate user.svc.access_key.AKIAOLD (users.access_keys.max_age_days): the new key is in Secrets Manager secret iamctl/111111111111/svc; AKIAOLD stops working on 2026-11-30, or sooner once the new key is used\n\
             \n\
             See the whole plan: iamctl plan -a prod --group-by owner\n"
        );
    }
}
