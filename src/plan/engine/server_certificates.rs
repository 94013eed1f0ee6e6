//! `[server_certificates] delete_expired_after_days` (CIS 1.19): a server certificate stored in
//! IAM is a credential of the account, through the same lifecycle as a user's. An expired one
//! is an inactive credential whose inactivity started at its expiry (IAM's own date, so nothing
//! is recorded): deleted once the grace is over, announced with its due date until then.

use super::{Context, Output, day};
use crate::desired::CredentialAction;
use crate::plan::address::{Action, Address};
use crate::plan::change::{ChangeKind, ServerCertificateFacts};
use crate::plan::lifecycle::{CredentialKind, Grace, Inactive, Lifecycle, Policy};
use crate::plan::rule::Rule;

pub(crate) struct ServerCertificates;

impl CredentialKind for ServerCertificates {
    type Action = CredentialAction;
    const NOUN: &'static str = "server certificate";
    const CREATED: &'static str = "uploaded";
}

impl Context<'_> {
    pub(super) fn plan_server_certificates(&self, out: &mut Output) {
        let (rules, live, as_of) = (self.rules, self.live, self.as_of);
        let (Some(days), Some(certificates)) = (
            rules
                .credentials
                .server_certificates_delete_expired_after_days,
            &live.server_certificates,
        ) else {
            return;
        };
        let rule = Rule::ServerCertificatesDeleteExpired;
        // Every expired certificate in its grace is announced: the notice window is the grace.
        let lifecycle = Lifecycle::<ServerCertificates>::new(
            Policy {
                max_age: None,
                max_unused: None,
                notice_days: Some(days),
                delete_inactive: Some(Grace { rule, days }),
            },
            as_of,
        );
        let mut certificates: Vec<_> = certificates.iter().collect();
        certificates.sort_by(|a, b| a.name.cmp(&b.name));
        for certificate in certificates {
            if certificate.expires > as_of {
                continue;
            }
            let facts = ServerCertificateFacts {
                name: certificate.name.clone(),
                id: certificate.id.clone(),
                expires: certificate.expires,
            };
            match lifecycle.inactive(Some(certificate.expires)) {
                Some(Inactive::Delete) => out.change(
                    rule,
                    ChangeKind::DeleteServerCertificate { certificate: facts },
                ),
                Some(Inactive::Notice { since, due }) => out.notice(
                    Address::ServerCertificate(certificate.name.clone()),
                    rule,
                    due,
                    Action::Delete,
                    format!(
                        "{} will be deleted on {}: expired on {} ({days} days after expiry)",
                        certificate.name,
                        day(due),
                        day(since)
                    ),
                ),
                // With the grace as the notice window there is no quiet time, and the expiry is
                // the record.
                Some(Inactive::Waiting) | Some(Inactive::Record { .. }) | None => {}
            }
        }
    }
}
