//! Issue 21's and 22's account-wide reads, each made only when [`ReadSelection`] asks: server
//! certificates (one paged `ListServerCertificates`), the SECURITY alternate contact
//! (`account:GetAlternateContact`), the active Access Analyzer analyzers of the listed regions
//! (one paged `ListAnalyzers` per region) and the organization's root-access features
//! (`iam:ListOrganizationsFeatures`).

use aws_sdk_accessanalyzer::types::AnalyzerStatus;
use aws_sdk_account::types::AlternateContactType;
use aws_sdk_iam::types::FeatureType;

use super::{ReadSelection, to_utc};
use crate::aws::{AccountClients, AwsError, ErrorCode, call};
use crate::permissions::{
    GET_ALTERNATE_CONTACT, LIST_ANALYZERS, LIST_ORGANIZATIONS_FEATURES, LIST_SERVER_CERTIFICATES,
};
use crate::state::{
    AccountState, Analyzer, AnalyzersByRegion, OrganizationFeatures, ServerCertificate,
};

/// Reads what `selection` asks of the account into `state`, concurrently.
pub(crate) async fn read(
    clients: &AccountClients,
    selection: &ReadSelection,
    state: &mut AccountState,
) -> Result<(), AwsError> {
    let (servers, contact, analyzers, features) = futures::try_join!(
        async {
            match selection.server_certificates {
                true => server_certificates(clients).await.map(Some),
                false => Ok(None),
            }
        },
        async {
            match selection.security_contact {
                true => security_contact(clients).await.map(Some),
                false => Ok(None),
            }
        },
        async {
            match selection.access_analyzer_regions.is_empty() {
                false => analyzers(clients, &selection.access_analyzer_regions)
                    .await
                    .map(Some),
                true => Ok(None),
            }
        },
        async {
            match selection.organization_features {
                true => organization_features(clients).await.map(Some),
                false => Ok(None),
            }
        },
    )?;
    state.server_certificates = servers;
    state.security_contact_registered = contact;
    state.access_analyzers = analyzers;
    state.organization_features = features;
    Ok(())
}

async fn server_certificates(clients: &AccountClients) -> Result<Vec<ServerCertificate>, AwsError> {
    let mut pages = clients
        .iam
        .list_server_certificates()
        .into_paginator()
        .send();
    let mut certificates = Vec::new();
    while let Some(page) = call(&clients.target, LIST_SERVER_CERTIFICATES, pages.try_next()).await?
    {
        for metadata in page.server_certificate_metadata_list() {
            // IAM always sends both dates; a certificate without them cannot be judged.
            let (Some(uploaded), Some(expires)) = (metadata.upload_date(), metadata.expiration())
            else {
                return Err(AwsError::new(
                    &clients.target,
                    LIST_SERVER_CERTIFICATES.action,
                    format!(
                        "server certificate {} has no upload or expiration date",
                        metadata.server_certificate_name()
                    ),
                ));
            };
            certificates.push(ServerCertificate {
                name: metadata.server_certificate_name().to_owned(),
                id: metadata.server_certificate_id().to_owned(),
                path: metadata.path().to_owned(),
                uploaded: to_utc(uploaded),
                expires: to_utc(expires),
            });
        }
    }
    certificates.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(certificates)
}

/// Whether a SECURITY alternate contact is registered; only its presence is kept (the
/// contact's name, email and phone are personal data no rule needs).
async fn security_contact(clients: &AccountClients) -> Result<bool, AwsError> {
    let request = clients
        .account
        .get_alternate_contact()
        .alternate_contact_type(AlternateContactType::Security)
        .send();
    match call(&clients.target, GET_ALTERNATE_CONTACT, request).await {
        Ok(out) => Ok(out.alternate_contact().is_some()),
        Err(err) if err.is(ErrorCode::ResourceNotFoundException) => Ok(false),
        Err(err) => Err(err),
    }
}

async fn analyzers(
    clients: &AccountClients,
    regions: &[String],
) -> Result<AnalyzersByRegion, AwsError> {
    let reads = regions.iter().map(|region| async move {
        let client = clients.access_analyzer_in(region);
        let mut pages = client.list_analyzers().into_paginator().send();
        let mut active = Vec::new();
        while let Some(page) = call(&clients.target, LIST_ANALYZERS, pages.try_next()).await? {
            active.extend(
                page.analyzers()
                    .iter()
                    .filter(|a| *a.status() == AnalyzerStatus::Active)
                    .map(|a| Analyzer {
                        name: a.name().to_owned(),
                        analyzer_type: a.r#type().as_str().to_owned(),
                    }),
            );
        }
        active.sort_by(|a, b| a.name.cmp(&b.name));
        Ok::<_, AwsError>((region.clone(), active))
    });
    Ok(futures::future::try_join_all(reads)
        .await?
        .into_iter()
        .collect())
}

/// `iam:ListOrganizationsFeatures` with `clients`' identity (the base identity, once per run,
/// for `plan`; each target's, for `snapshot`).
pub async fn organization_features(
    clients: &AccountClients,
) -> Result<OrganizationFeatures, AwsError> {
    let request = clients.iam.list_organizations_features().send();
    match call(&clients.target, LIST_ORGANIZATIONS_FEATURES, request).await {
        Ok(out) => {
            let enabled = out.enabled_features();
            Ok(OrganizationFeatures::Read {
                organization_id: out.organization_id().unwrap_or_default().to_owned(),
                root_credentials_management: enabled
                    .contains(&FeatureType::RootCredentialsManagement),
                root_sessions: enabled.contains(&FeatureType::RootSessions),
            })
        }
        Err(err) if err.is(ErrorCode::OrganizationNotFoundException) => {
            Ok(OrganizationFeatures::NoOrganization)
        }
        Err(err) if err.is(ErrorCode::AccountNotManagementOrDelegatedAdministratorException) => {
            Ok(OrganizationFeatures::NotManagementAccount)
        }
        Err(err) if err.is(ErrorCode::ServiceAccessNotEnabledException) => {
            Ok(OrganizationFeatures::ServiceAccessNotEnabled)
        }
        Err(err) => Err(err),
    }
}
