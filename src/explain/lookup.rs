//! `LookupEvents`: the events that may explain a plan, from CloudTrail's 90-day event history.
//!
//! One lookup per event name the plan's items need (`LookupAttributes` takes one attribute),
//! a bounded number of pages each; CloudTrail allows two lookups a second per account and
//! region, so few run at once. IAM is global and its events are recorded in us-east-1 (the
//! partition's global region); CloudTrail's own events in the trail's region, which is the
//! client's. When a name's pages run out before an item is explained, that item's user or
//! key is looked up on its own (`ResourceName`), also bounded.

use std::collections::BTreeSet;

use aws_sdk_cloudtrail::types::{LookupAttribute, LookupAttributeKey};
use chrono::{DateTime, Utc};
use futures::{StreamExt, TryStreamExt};

use super::events::{Event, from_record};
use super::{Subject, attribute, queries};
use crate::aws::{AccountClients, AwsError, call};
use crate::permissions::LOOKUP_EVENTS;
use crate::plan::AccountPlan;

/// How far lookups go.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LookupOptions {
    /// Pages (of 50 events) read per lookup before older events are left unread.
    pub max_pages: usize,
    /// Lookups in flight at once for one account.
    pub concurrency: usize,
    /// Users or keys looked up one by one when a name's pages ran out before explaining
    /// them.
    pub max_resource_lookups: usize,
}

impl Default for LookupOptions {
    fn default() -> Self {
        Self {
            max_pages: 4,
            concurrency: 2,
            max_resource_lookups: 20,
        }
    }
}

/// CloudTrail's page size limit for `LookupEvents`.
const PAGE_SIZE: i32 = 50;

/// Where IAM's events are recorded: the global region of the clients' partition.
fn iam_region(clients: &AccountClients) -> &'static str {
    let region = clients
        .cloudtrail
        .config()
        .region()
        .map(|r| r.as_ref().to_owned())
        .unwrap_or_default();
    if region.starts_with("cn-") {
        "cn-north-1"
    } else if region.starts_with("us-gov-") {
        "us-gov-west-1"
    } else {
        "us-east-1"
    }
}

/// The events that may explain the items of `plan`, looked up in the account behind
/// `clients`. Fails on the first lookup CloudTrail refuses.
pub async fn lookup_events(
    clients: &AccountClients,
    plan: &AccountPlan,
    opts: &LookupOptions,
) -> Result<Vec<Event>, AwsError> {
    let queries = queries(plan);
    let iam = clients.cloudtrail_in(iam_region(clients));
    let trails = clients.cloudtrail.clone();
    let account = clients.target.as_str();

    let wanted: BTreeSet<(bool, &'static str)> = queries
        .iter()
        .flatten()
        .flat_map(|q| q.names.iter().map(move |name| (q.is_cloudtrail(), *name)))
        .collect();
    let by_name = futures::stream::iter(wanted)
        .map(|(is_cloudtrail, name)| {
            let client = if is_cloudtrail { &trails } else { &iam };
            async move {
                let (events, truncated) =
                    lookup(client, account, LookupAttributeKey::EventName, name, opts).await?;
                Ok::<_, AwsError>((name, events, truncated))
            }
        })
        .buffer_unordered(opts.concurrency.max(1))
        .try_collect::<Vec<_>>()
        .await?;
    let mut events = Vec::new();
    let mut truncated = BTreeSet::new();
    for (name, found, more) in by_name {
        events.extend(found);
        if more {
            truncated.insert(name);
        }
    }

    // Items still unexplained whose events may lie beyond the pages read.
    let mut probe = plan.clone();
    attribute(&mut probe, &events);
    let explained = probe
        .changes
        .iter()
        .map(|c| c.attribution.is_some())
        .chain(probe.findings.iter().map(|f| f.attribution.is_some()));
    let resources: BTreeSet<String> = queries
        .iter()
        .zip(explained)
        .filter_map(|(q, explained)| q.as_ref().filter(|_| !explained))
        .filter(|q| q.names.iter().any(|n| truncated.contains(n)))
        .filter_map(|q| match &q.subject {
            Subject::User(name) | Subject::AccessKey(name) => Some(name.clone()),
            Subject::Account | Subject::Trail(_) => None,
        })
        .take(opts.max_resource_lookups)
        .collect();
    let by_resource = futures::stream::iter(resources)
        .map(|resource| {
            let iam = &iam;
            async move {
                lookup(
                    iam,
                    account,
                    LookupAttributeKey::ResourceName,
                    &resource,
                    opts,
                )
                .await
            }
        })
        .buffer_unordered(opts.concurrency.max(1))
        .try_collect::<Vec<_>>()
        .await?;
    for (found, _) in by_resource {
        events.extend(found);
    }

    events.sort_by(|a, b| a.event_id.cmp(&b.event_id));
    events.dedup_by(|a, b| !a.event_id.is_empty() && a.event_id == b.event_id);
    Ok(events)
}

/// One lookup, up to `opts.max_pages` pages; also says whether more pages were left.
async fn lookup(
    client: &aws_sdk_cloudtrail::Client,
    account: &str,
    key: LookupAttributeKey,
    value: &str,
    opts: &LookupOptions,
) -> Result<(Vec<Event>, bool), AwsError> {
    let attribute = LookupAttribute::builder()
        .attribute_key(key)
        .attribute_value(value)
        .build()
        .expect("key and value are set");
    let mut events = Vec::new();
    let mut token: Option<String> = None;
    for _ in 0..opts.max_pages.max(1) {
        tracing::debug!(account, lookup = value, "{}", LOOKUP_EVENTS.action);
        let request = client
            .lookup_events()
            .lookup_attributes(attribute.clone())
            .max_results(PAGE_SIZE)
            .set_next_token(token.take())
            .send();
        let out = call(account, LOOKUP_EVENTS, request).await?;
        events.extend(out.events().iter().filter_map(convert));
        match out.next_token() {
            Some(next) if !next.is_empty() => token = Some(next.to_owned()),
            _ => return Ok((events, false)),
        }
    }
    Ok((events, true))
}

/// An event of `LookupEvents`: its `CloudTrailEvent` is the full record; without one (or
/// when it does not parse) the summary fields stand in.
fn convert(event: &aws_sdk_cloudtrail::types::Event) -> Option<Event> {
    let record = event
        .cloud_trail_event()
        .and_then(|text| serde_json::from_str(text).ok())
        .and_then(|record: serde_json::Value| from_record(&record).ok());
    if let Some(mut record) = record {
        if record.event_id.is_empty() {
            record.event_id = event.event_id().unwrap_or_default().to_owned();
        }
        return Some(record);
    }
    let time = event.event_time()?;
    let event_time =
        DateTime::<Utc>::from_timestamp(time.secs(), time.subsec_nanos()).unwrap_or_default();
    let resource = |kind: &str| {
        event
            .resources()
            .iter()
            .find(|r| r.resource_type() == Some(kind))
            .and_then(|r| r.resource_name())
            .map(str::to_owned)
    };
    Some(Event {
        event_id: event.event_id().unwrap_or_default().to_owned(),
        event_name: event.event_name()?.to_owned(),
        event_source: event.event_source().unwrap_or_default().to_owned(),
        event_time,
        principal_arn: event.username().unwrap_or("unknown").to_owned(),
        source_ip: None,
        account_id: None,
        failed: false,
        user_name: resource("AWS::IAM::User"),
        access_key_id: resource("AWS::IAM::AccessKey"),
        trail_name: resource("AWS::CloudTrail::Trail").map(|name| {
            match name.rsplit_once(":trail/") {
                Some((_, short)) => short.to_owned(),
                None => name,
            }
        }),
    })
}
