//! `iamctl snapshot`: every fact of the selected targets' live state, for offline plans.

use chrono::Utc;
use futures::StreamExt;

use super::{Observer, PlanError, Scope};
use crate::aws::{ApiCalls, AwsError, ClientFactory};
use crate::desired::DesiredDoc;
use crate::live::{self, NamedAccount, ReadScope, Snapshot};

/// The snapshot of the accounts that could be read, and why the others could not.
pub struct SnapshotRun {
    pub snapshot: Snapshot,
    pub failures: Vec<AwsError>,
}

/// Reads every selected target in full, with what its tables ask of the users' other
/// credentials (service-specific, SSH, signing and server certificates) and of the account
/// controls ([`ReadScope::Snapshot`]).
pub async fn take_snapshot(
    doc: &DesiredDoc,
    calls: &ApiCalls,
    scope: &Scope<'_>,
    observer: &dyn Observer,
) -> Result<SnapshotRun, PlanError> {
    let factory = ClientFactory::new(calls.clone()).await;
    let targets = super::plan::live_targets(doc, &factory, scope, observer).await?;
    let taken_at = Utc::now();
    observer.reading(targets.len());
    let results: Vec<_> = futures::stream::iter(targets)
        .map(|input| {
            let factory = &factory;
            async move {
                let clients = factory.for_target(&input.target).await;
                let state = live::read_account(
                    &clients,
                    ReadScope::Snapshot(&input.rules),
                    taken_at,
                    scope.concurrency,
                )
                .await;
                observer.account_read(&input.target.name, state.is_err());
                (input.target.name, state)
            }
        })
        .buffered(scope.parallelism.max(1))
        .collect()
        .await;
    observer.done_reading();
    let mut accounts = Vec::new();
    let mut failures = Vec::new();
    for (name, state) in results {
        match state {
            Ok(state) => accounts.push(NamedAccount { name, state }),
            Err(error) => failures.push(error),
        }
    }
    Ok(SnapshotRun {
        snapshot: Snapshot::new(taken_at, accounts),
        failures,
    })
}
