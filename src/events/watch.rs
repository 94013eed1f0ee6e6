//! `iamctl watch --queue-url URL`: a consumer of the SQS queue an EventBridge rule feeds with
//! the events of [`super::HANDLED`]. Each batch of messages (long polling) is parsed, its events
//! coalesced into one targeted reconcile per account (`apply::run` with the events as focus),
//! and a message is deleted only once what it asked for is done: its events were ignored, or
//! every account they concern was read and changed without failure. A malformed message, or
//! one whose account failed, is left to come back after its visibility timeout (and, after
//! the queue's `maxReceiveCount`, to go to its dead-letter queue). A stop request (SIGTERM)
//! lets the batch in hand finish.

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;
use std::sync::Mutex;

use tokio::sync::watch as signal;

use super::{Mapping, classify};
use crate::aws::{AccountClients, ApiCalls, AwsError, ClientFactory, call};
use crate::desired::{DesiredDoc, Owners};
use crate::explain::events::{Envelope, parse_envelopes};
use crate::fleet::TargetPlanInput;
use crate::ops::apply::{self, ApplyError, ApplyRequest, ApplyUi};
use crate::ops::spill::SpilledPlan;
use crate::ops::{self, Focus, Observer, Scope};
use crate::outcome::OutcomeStatus;
use crate::permissions::{DELETE_MESSAGE, GET_USER, RECEIVE_MESSAGE};
use crate::plan::PlanOutline;

/// What `watch` is asked to do.
pub struct WatchOptions {
    pub queue_url: String,
    /// Stop once a receive finds the queue empty.
    pub until_idle: bool,
    /// SQS long polling: how long a receive waits for messages (0..=20 s).
    pub wait_seconds: i32,
    /// Messages per receive (1..=10).
    pub batch_size: i32,
    pub reconcile: ReconcileOptions,
}

/// How a batch of events is reconciled (`watch`, the Lambda handler).
#[derive(Debug, Clone, Default)]
pub struct ReconcileOptions {
    /// Plan only: change nothing, and keep every message.
    pub dry_run: bool,
    pub max_changes: Option<usize>,
    pub secrets_dir: Option<PathBuf>,
    pub audit_log: Option<PathBuf>,
}

/// How a batch ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BatchOutcome {
    /// Every account reconciled (or, with `--dry-run`, planned).
    Ok,
    /// Some accounts failed (read, refused or a change failed): their messages are left.
    Failed(String),
}

/// One batch, as its log line tells it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BatchReport {
    pub messages: usize,
    pub events: usize,
    /// Events that led to a reconcile.
    pub handled: usize,
    pub accounts: usize,
    /// Changes done (planned, with `--dry-run`).
    pub changes: usize,
    pub deleted: usize,
    pub malformed: usize,
    pub left: usize,
    pub outcome: BatchOutcome,
    /// What the events' mapping ignored, and why messages were malformed.
    pub notes: Vec<String>,
    /// What must be seen whatever the flags: break-glass sign-ins told, and why one could
    /// not be.
    pub alerts: Vec<String>,
}

impl std::fmt::Display for BatchReport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "batch: {} message{}, {} event{} ({} to reconcile), {} account{}, {} change{}, deleted {}, left {}",
            self.messages,
            plural(self.messages),
            self.events,
            plural(self.events),
            self.handled,
            self.accounts,
            plural(self.accounts),
            self.changes,
            plural(self.changes),
            self.deleted,
            self.left,
        )?;
        if self.malformed > 0 {
            write!(f, " ({} malformed)", self.malformed)?;
        }
        match &self.outcome {
            BatchOutcome::Ok => f.write_str(": ok"),
            BatchOutcome::Failed(why) => write!(f, ": failed: {why}"),
        }
    }
}

fn plural(n: usize) -> &'static str {
    if n == 1 { "" } else { "s" }
}

/// What a watch did in all.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct WatchSummary {
    pub batches: usize,
    pub messages: usize,
    pub deleted: usize,
}

#[derive(Debug, thiserror::Error, miette::Diagnostic)]
pub enum WatchError {
    /// The queue cannot be read at all: nothing to go on with.
    #[error("receiving from {queue_url}: {source}")]
    Receive {
        queue_url: String,
        source: Box<AwsError>,
    },
}

/// What `watch` tells as it goes.
pub trait WatchUi: Sync {
    fn batch(&self, report: &BatchReport);
}

/// One received message.
pub struct Message {
    /// What deletes it (SQS's receipt handle), or names it (a Lambda SQS record's id).
    pub id: String,
    /// Its events, or why it cannot be read.
    pub events: Result<Vec<Envelope>, String>,
}

impl Message {
    pub fn new(id: impl Into<String>, body: &str) -> Self {
        Self {
            id: id.into(),
            events: read_message(body),
        }
    }
}

/// Consumes the queue until `stop` turns true (then the batch in hand is finished) or, with
/// `until_idle`, until a receive finds it empty.
pub async fn run(
    doc: &DesiredDoc,
    scope: &Scope<'_>,
    calls: &ApiCalls,
    options: &WatchOptions,
    mut stop: signal::Receiver<bool>,
    ui: &dyn WatchUi,
) -> Result<WatchSummary, WatchError> {
    let factory = ClientFactory::new(calls.clone()).await;
    let sqs = factory.sqs();
    let mut summary = WatchSummary::default();
    loop {
        if *stop.borrow() {
            break;
        }
        let receive = sqs
            .receive_message()
            .queue_url(&options.queue_url)
            .max_number_of_messages(options.batch_size)
            .wait_time_seconds(options.wait_seconds)
            .send();
        let received = tokio::select! {
            received = call("watch", RECEIVE_MESSAGE, receive) => received,
            // A stop while waiting: no batch in hand.
            _ = stop.changed() => break,
        };
        let received = received.map_err(|source| WatchError::Receive {
            queue_url: options.queue_url.clone(),
            source: Box::new(source),
        })?;
        let messages: Vec<Message> = received
            .messages()
            .iter()
            .map(|m| {
                Message::new(
                    m.receipt_handle().unwrap_or_default(),
                    m.body().unwrap_or_default(),
                )
            })
            .collect();
        if messages.is_empty() {
            if options.until_idle {
                break;
            }
            continue;
        }
        let (report, to_delete) = reconcile(doc, scope, calls, &options.reconcile, &messages).await;
        let mut deleted = 0;
        for index in to_delete {
            let request = sqs
                .delete_message()
                .queue_url(&options.queue_url)
                .receipt_handle(&messages[index].id)
                .send();
            match call("watch", DELETE_MESSAGE, request).await {
                Ok(_) => deleted += 1,
                // It comes back after its visibility timeout and is reconciled again:
                // harmless, since a reconcile of what is already right changes nothing.
                Err(err) => tracing::warn!("deleting a message: {err}"),
            }
        }
        let report = BatchReport {
            deleted,
            left: messages.len() - deleted,
            ..report
        };
        ui.batch(&report);
        summary.batches += 1;
        summary.messages += messages.len();
        summary.deleted += deleted;
    }
    Ok(summary)
}

/// A message's events: an EventBridge event (or anything `--event` reads), each handled one
/// naming its account and subject.
fn read_message(body: &str) -> Result<Vec<Envelope>, String> {
    let events =
        parse_envelopes(body).map_err(|(line, message)| format!("line {line}: {message}"))?;
    if events.is_empty() {
        return Err("no event in the message".into());
    }
    for (index, event) in events.iter().enumerate() {
        classify(index, event, &[]).map_err(|e| e.to_string())?;
    }
    Ok(events)
}

/// Captures the mapping of the batch's events and approves every plan (`watch` runs unattended;
/// `--max-changes` still refuses a large one).
#[derive(Default)]
struct Unattended {
    mapping: Mutex<Option<Mapping>>,
}

impl Observer for Unattended {
    fn events_mapped(&self, mapping: &Mapping) {
        *self.mapping.lock().unwrap_or_else(|e| e.into_inner()) = Some(mapping.clone());
    }
}

impl ApplyUi for Unattended {
    fn planned(&self, _plan: &SpilledPlan, _fresh: bool) {}
    fn approve(&self, _plan: &PlanOutline) -> Result<bool, ApplyError> {
        Ok(true)
    }
}

/// Reconciles the events of `messages`; returns the batch's report and the messages done
/// with (by index): none with `dry_run`.
pub async fn reconcile(
    doc: &DesiredDoc,
    scope: &Scope<'_>,
    calls: &ApiCalls,
    options: &ReconcileOptions,
    messages: &[Message],
) -> (BatchReport, Vec<usize>) {
    // Every event of the readable messages, remembering its message.
    let mut events = Vec::new();
    let mut message_of = Vec::new();
    let mut notes = Vec::new();
    for (index, message) in messages.iter().enumerate() {
        match &message.events {
            Ok(list) => {
                events.extend(list.iter().cloned());
                message_of.extend(std::iter::repeat_n(index, list.len()));
            }
            Err(why) => notes.push(format!("malformed message left in the queue: {why}")),
        }
    }
    let malformed = messages.iter().filter(|m| m.events.is_err()).count();
    let ui = Unattended::default();
    let (changes, failed_accounts, outcome) = if options.dry_run {
        match ops::compute_plan(
            doc,
            ops::Source::Live { calls },
            scope,
            chrono::Utc::now(),
            Focus::Events(&events),
            &ui,
        )
        .await
        {
            Ok(runs) => {
                let plan = PlanOutline::of(&ops::plan_of(chrono::Utc::now(), &runs));
                let failed = failed_accounts(&plan, &[]);
                (plan.summary.changes, failed, None)
            }
            Err(err) => (0, BTreeSet::new(), Some(err.to_string())),
        }
    } else {
        let request = ApplyRequest {
            doc,
            scope: *scope,
            calls,
            saved: None,
            targets: None,
            events: Some(&events),
            max_changes: options.max_changes,
            secrets_dir: options.secrets_dir.clone(),
            audit_log: options.audit_log.clone(),
            security_hub: false,
            // Owners hear what was done, as after `apply`; a notice that cannot be sent is a
            // note, never a failed batch.
            notify: match doc.notify.as_ref().and_then(|n| n.sns_topic_arn.as_deref()) {
                Some(topic) => apply::Notify::AfterChanges(topic),
                None => apply::Notify::Never,
            },
        };
        match apply::run(request, &ui).await {
            Ok(report) => {
                let failed = failed_accounts(report.plan.outline(), &report.outcomes);
                let broken = report.audit_broken.clone();
                if let Some(told) = &report.notify {
                    notes.extend(told.failures.iter().map(|f| format!("warning: {f}")));
                }
                (report.tally().done, failed, broken)
            }
            Err(err) => (0, BTreeSet::new(), Some(err.to_string())),
        }
    };
    let mapping = ui.mapping.into_inner().unwrap_or_else(|e| e.into_inner());
    let mapping = mapping.unwrap_or_default();
    notes.extend(mapping.ignored.iter().map(ToString::to_string));
    // Break-glass sign-ins: told at once, nothing changed (`--dry-run` tells nobody).
    let alerts = if options.dry_run {
        Vec::new()
    } else {
        tell_break_glass_sign_ins(doc, calls, &events).await
    };

    // A message is done when none of its events is for an account that failed, and the batch
    // as a whole did not fail before reaching the accounts.
    let mut pending: BTreeMap<usize, bool> = BTreeMap::new();
    for (index, message) in messages.iter().enumerate() {
        if message.events.is_ok() {
            pending.insert(index, false);
        }
    }
    for (event, target) in &mapping.handled {
        if outcome.is_some() || failed_accounts.contains(target) {
            pending.insert(message_of[*event], true);
        }
    }
    if outcome.is_some() && mapping.handled.is_empty() && !events.is_empty() {
        // Failed before the events were mapped: keep every readable message.
        pending.values_mut().for_each(|left| *left = true);
    }
    let to_delete: Vec<usize> = if options.dry_run {
        Vec::new()
    } else {
        pending
            .into_iter()
            .filter_map(|(index, left)| (!left).then_some(index))
            .collect()
    };
    let accounts: BTreeSet<&String> = mapping.handled.iter().map(|(_, t)| t).collect();
    let outcome = match (outcome, failed_accounts.is_empty()) {
        (Some(why), _) => BatchOutcome::Failed(why),
        (None, false) => BatchOutcome::Failed(format!(
            "account{} {} failed; their messages are left to come back",
            plural(failed_accounts.len()),
            failed_accounts.into_iter().collect::<Vec<_>>().join(", ")
        )),
        (None, true) => BatchOutcome::Ok,
    };
    let report = BatchReport {
        messages: messages.len(),
        events: events.len(),
        handled: mapping.handled.len(),
        accounts: accounts.len(),
        changes,
        deleted: 0,
        malformed,
        left: 0,
        outcome,
        notes,
        alerts,
    };
    (report, to_delete)
}

/// A break-glass user's console sign-in is an incident until someone says it was a drill:
/// one SNS message per sign-in, to the `[notify]` topic with the user's owner (see
/// [`break_glass_owner`]), published with the identity iamctl starts from. Whether a sign-in
/// is a break-glass user's is decided from the desired state alone: an ordinary user's
/// sign-in costs no call. Returns what was told, or why not.
async fn tell_break_glass_sign_ins(
    doc: &DesiredDoc,
    calls: &ApiCalls,
    events: &[Envelope],
) -> Vec<String> {
    let mut notes = Vec::new();
    let mut messages = Vec::new();
    // Made at the first break-glass sign-in: an ordinary user's sign-in costs nothing.
    let mut accounts: Option<SignInAccounts> = None;
    for sign_in in super::sign_ins(events) {
        // The `[[account]]` whose role is in that account, else the top-level tables (the
        // rules of an `[organization]`'s accounts and of the implicit `default` target).
        let spec = doc.account.iter().find(|a| {
            a.role_arn
                .as_deref()
                .and_then(crate::fleet::role_arn_account)
                .is_some_and(|id| id == sign_in.account_id)
        });
        let rules = doc.rules_for(spec);
        if !rules.population.break_glass.users.contains(&sign_in.user) {
            continue;
        }
        let accounts = match &mut accounts {
            Some(accounts) => accounts,
            None => accounts.insert(SignInAccounts::new(calls).await),
        };
        let owner = break_glass_owner(doc, &rules.owners, &sign_in, accounts)
            .await
            .unwrap_or_else(|why| {
                notes.push(format!(
                    "warning: the owner tag of break-glass user {} in {} was not read ({why}); \
                     told to {}",
                    sign_in.user,
                    sign_in.account_id,
                    rules
                        .owners
                        .default
                        .as_deref()
                        .unwrap_or(crate::notify::UNOWNED)
                ));
                rules.owners.default.clone()
            })
            .unwrap_or_else(|| crate::notify::UNOWNED.to_owned());
        let account = spec.map_or_else(|| sign_in.account_id.clone(), |a| a.name.clone());
        notes.push(format!(
            "break-glass sign-in: {} in {} at {}",
            sign_in.user,
            sign_in.account_id,
            sign_in.at.to_rfc3339()
        ));
        messages.push(crate::notify::Message {
            owner,
            account,
            account_id: sign_in.account_id.clone(),
            subject: format!(
                "iamctl: break-glass user {} signed in to {}",
                sign_in.user, sign_in.account_id
            ),
            body: format!(
                "The break-glass user {} signed in to the AWS console of account {} at {}{}.\n\
                 A break-glass sign-in is an incident until someone says it was a drill.\n\
                 iamctl changed nothing (CloudTrail event {}).",
                sign_in.user,
                sign_in.account_id,
                sign_in.at.to_rfc3339(),
                sign_in
                    .source_ip
                    .as_deref()
                    .map(|ip| format!(" from {ip}"))
                    .unwrap_or_default(),
                sign_in.event_id
            ),
        });
    }
    let Some(accounts) = accounts else {
        return notes;
    };
    match doc.notify.as_ref().and_then(|n| n.sns_topic_arn.as_deref()) {
        Some(topic) => {
            let failures = crate::notify::publish(&accounts.factory, topic, &messages).await;
            notes.extend(failures.into_iter().map(|f| format!("warning: {f}")));
        }
        None => notes.push(
            "warning: break-glass sign-ins are told through [notify] sns_topic_arn, which is not set"
                .into(),
        ),
    }
    notes
}

/// The owner of a break-glass user who signed in: with `[users] owner_tag`, that tag of the
/// user as one `GetUser` in the sign-in's account reads it (the account reached as a plan
/// reaches it: its `[[account]]` role, an `[organization]` member's `role_name`, or the
/// identity iamctl starts from when that is the account), else `default_owner`. `Err`: the
/// tag could not be read, and why (the incident is told to `default_owner` all the same).
async fn break_glass_owner(
    doc: &DesiredDoc,
    owners: &Owners,
    sign_in: &super::SignIn,
    accounts: &mut SignInAccounts,
) -> Result<Option<String>, String> {
    if owners.tag.is_none() {
        return Ok(owners.default.clone());
    }
    let clients = accounts.clients_of(doc, &sign_in.account_id).await?;
    let user = call(
        &clients.target,
        GET_USER,
        clients.iam.get_user().user_name(&sign_in.user).send(),
    )
    .await
    .map_err(|e| e.to_string())?;
    let tags = user
        .user()
        .map(|u| u.tags())
        .unwrap_or_default()
        .iter()
        .map(|t| (t.key().to_owned(), t.value().to_owned()))
        .collect();
    let user = crate::state::User {
        tags,
        ..crate::state::User::new(&sign_in.user, sign_in.at)
    };
    Ok(owners.of(&user))
}

/// The clients of a batch's break-glass sign-ins: one client factory per batch, and the
/// targets, resolved once per batch and only when a sign-in needs its owner read (with an
/// `[organization]`, that lists its accounts).
struct SignInAccounts {
    factory: ClientFactory,
    targets: Option<Vec<TargetPlanInput>>,
}

impl SignInAccounts {
    async fn new(calls: &ApiCalls) -> Self {
        Self {
            factory: ClientFactory::new(calls.clone()).await,
            targets: None,
        }
    }

    async fn clients_of(
        &mut self,
        doc: &DesiredDoc,
        account_id: &str,
    ) -> Result<AccountClients, String> {
        let factory = &self.factory;
        if self.targets.is_none() {
            let mut targets = crate::fleet::resolve_targets(doc, factory, &[])
                .await
                .map_err(|e| e.to_string())?;
            // A target whose account is only known by asking (the implicit `default`, a
            // `profile`) is asked once.
            for unknown in targets.iter_mut().filter(|t| t.account_id.is_none()) {
                let clients = factory.for_target(&unknown.target).await;
                let identity = crate::live::read_identity(&clients)
                    .await
                    .map_err(|e| e.to_string())?;
                unknown.account_id = Some(identity.account_id);
            }
            self.targets = Some(targets);
        }
        let targets = self.targets.as_deref().unwrap_or_default();
        if let Some(known) = targets
            .iter()
            .find(|t| t.account_id.as_deref() == Some(account_id))
        {
            return Ok(factory.for_target(&known.target).await);
        }
        Err(format!(
            "account {account_id} is no target of the desired state"
        ))
    }
}

/// Accounts that could not be read, or where a change failed.
fn failed_accounts(plan: &PlanOutline, outcomes: &[apply::AccountOutcomes]) -> BTreeSet<String> {
    let unread = plan
        .accounts
        .iter()
        .filter(|a| a.failed)
        .map(|a| a.name.clone());
    let failed = outcomes
        .iter()
        .filter(|a| {
            a.outcomes
                .iter()
                .any(|o| matches!(o.status, OutcomeStatus::Failed { .. }))
        })
        .map(|a| a.account.name.clone());
    unread.chain(failed).collect()
}
