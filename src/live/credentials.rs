//! Issue 21's user credentials, each read only when [`ReadSelection`] asks:
//! service-specific credentials in bulk (`ListServiceSpecificCredentials` with `AllUsers`, one
//! paged call per service), signing certificates from the credential report (and listed by
//! id per user that has one, when ids are needed), SSH public keys per user (they have no bulk
//! read), and MFA kinds (from the serials, else one `ListVirtualMFADevices`).
//!
//! A service credential's password and a Bedrock API key's value are never read:
//! `ListServiceSpecificCredentials` returns neither, and iamctl never calls
//! `CreateServiceSpecificCredential` or `ResetServiceSpecificCredential`, which would.

use std::collections::{BTreeMap, BTreeSet};

use aws_sdk_iam::types::{AssignmentStatusType, ServiceSpecificCredentialMetadata, StatusType};
use futures::{StreamExt, TryStreamExt};

use super::credential_report::CredentialReport;
use super::{ReadSelection, to_utc};
use crate::aws::{AccountClients, AwsError, call};
use crate::permissions::{
    LIST_SERVICE_SPECIFIC_CREDENTIALS, LIST_SIGNING_CERTIFICATES, LIST_SSH_PUBLIC_KEYS,
    LIST_VIRTUAL_MFA_DEVICES,
};
use crate::state::{
    AccountState, CertificateId, KeyStatus, MfaKind, ServiceCredential, ServiceCredentialStatus,
    SigningCertificate, SshPublicKey,
};

/// The services IAM issues service-specific credentials for (IAM User Guide, "API keys for
/// AWS services" and "service-specific credentials"): one bulk call each.
pub const CREDENTIAL_SERVICES: [&str; 3] = [
    "bedrock.amazonaws.com",
    "cassandra.amazonaws.com",
    "codecommit.amazonaws.com",
];

/// Reads what `selection` asks of the users into `state`. `report` is the one the base reads
/// fetched (with its users, `in_report`), when they did.
pub(crate) async fn read(
    clients: &AccountClients,
    selection: &ReadSelection,
    report: Option<&CredentialReport>,
    in_report: &BTreeSet<String>,
    concurrency: usize,
    state: &mut AccountState,
) -> Result<(), AwsError> {
    if selection.service_credentials {
        let mut by_user = service_credentials(clients).await?;
        for user in &mut state.users {
            user.service_credentials = Some(by_user.remove(&user.name).unwrap_or_default());
        }
    }
    if selection.signing_certificates {
        for user in &mut state.users {
            let row = report
                .filter(|_| in_report.contains(&user.name))
                .and_then(|r| r.row(&user.name));
            user.signing_certificates = Some(
                row.map(|row| {
                    row.certificates
                        .iter()
                        .map(|cert| SigningCertificate {
                            id: CertificateId::ReportSlot(cert.slot),
                            status: status_of(cert.active),
                            uploaded: cert.uploaded,
                        })
                        .collect()
                })
                .unwrap_or_default(),
            );
        }
    }
    if selection.signing_certificate_ids {
        // Only users with a certificate in the report, or that the report does not know.
        let names: Vec<String> = state
            .users
            .iter()
            .filter(|u| {
                !in_report.contains(&u.name)
                    || u.signing_certificates
                        .as_ref()
                        .is_some_and(|c| !c.is_empty())
            })
            .map(|u| u.name.clone())
            .collect();
        let listed = per_user(clients, names, concurrency, signing_certificates).await?;
        apply(state, listed, |user, certs| {
            user.signing_certificates = Some(certs)
        });
    }
    if selection.ssh_keys {
        let names = state.users.iter().map(|u| u.name.clone()).collect();
        let listed = per_user(clients, names, concurrency, ssh_public_keys).await?;
        apply(state, listed, |user, keys| {
            user.ssh_public_keys = Some(keys)
        });
    }
    if selection.mfa_kinds {
        mfa_kinds(clients, state).await?;
    }
    Ok(())
}

fn status_of(active: bool) -> KeyStatus {
    if active {
        KeyStatus::Active
    } else {
        KeyStatus::Inactive
    }
}

fn apply<T>(
    state: &mut AccountState,
    listed: Vec<(String, T)>,
    mut set: impl FnMut(&mut crate::state::User, T),
) {
    for (name, value) in listed {
        if let Some(user) = state.users.iter_mut().find(|u| u.name == name) {
            set(user, value);
        }
    }
}

/// `read_one` for each user, at most `concurrency` at once.
async fn per_user<'a, T, F, Fut>(
    clients: &'a AccountClients,
    names: Vec<String>,
    concurrency: usize,
    read_one: F,
) -> Result<Vec<(String, T)>, AwsError>
where
    F: Fn(&'a AccountClients, String) -> Fut,
    Fut: std::future::Future<Output = Result<(String, T), AwsError>> + 'a,
{
    futures::stream::iter(names)
        .map(|name| read_one(clients, name))
        .buffer_unordered(concurrency.max(1))
        .try_collect()
        .await
}

/// Every user's service-specific credentials, by user name.
pub(crate) async fn service_credentials(
    clients: &AccountClients,
) -> Result<BTreeMap<String, Vec<ServiceCredential>>, AwsError> {
    let mut by_user: BTreeMap<String, Vec<ServiceCredential>> = BTreeMap::new();
    for service in CREDENTIAL_SERVICES {
        let mut marker: Option<String> = None;
        loop {
            let request = clients
                .iam
                .list_service_specific_credentials()
                .all_users(true)
                .service_name(service)
                .set_marker(marker.take())
                .send();
            let page = call(&clients.target, LIST_SERVICE_SPECIFIC_CREDENTIALS, request).await?;
            for metadata in page.service_specific_credentials() {
                by_user
                    .entry(metadata.user_name().to_owned())
                    .or_default()
                    .push(service_credential(metadata));
            }
            match page.marker() {
                Some(next) if page.is_truncated() => marker = Some(next.to_owned()),
                _ => break,
            }
        }
    }
    for credentials in by_user.values_mut() {
        credentials.sort_by(|a, b| a.id.cmp(&b.id));
    }
    Ok(by_user)
}

/// One listed credential. The SDK's `StatusType` predates `Expired`: it arrives as an
/// unknown variant, matched by its text.
pub(crate) fn service_credential(
    metadata: &ServiceSpecificCredentialMetadata,
) -> ServiceCredential {
    let status = match metadata.status() {
        StatusType::Active => ServiceCredentialStatus::Active,
        StatusType::Inactive => ServiceCredentialStatus::Inactive,
        other if other.as_str() == "Expired" => ServiceCredentialStatus::Expired,
        // A status this build does not know: treated as not usable, never as active.
        _ => ServiceCredentialStatus::Inactive,
    };
    let non_empty = |s: &str| (!s.is_empty()).then(|| s.to_owned());
    ServiceCredential {
        id: metadata.service_specific_credential_id().to_owned(),
        service: metadata.service_name().to_owned(),
        service_user_name: non_empty(metadata.service_user_name()),
        alias: metadata.service_credential_alias().and_then(non_empty),
        status,
        created: to_utc(metadata.create_date()),
        expires: metadata.expiration_date().map(to_utc),
    }
}

async fn ssh_public_keys(
    clients: &AccountClients,
    name: String,
) -> Result<(String, Vec<SshPublicKey>), AwsError> {
    let mut pages = clients
        .iam
        .list_ssh_public_keys()
        .user_name(&name)
        .into_paginator()
        .send();
    let mut keys = Vec::new();
    while let Some(page) = call(&clients.target, LIST_SSH_PUBLIC_KEYS, pages.try_next()).await? {
        keys.extend(page.ssh_public_keys().iter().map(|key| SshPublicKey {
            id: key.ssh_public_key_id().to_owned(),
            status: status_of(*key.status() == StatusType::Active),
            uploaded: to_utc(key.upload_date()),
        }));
    }
    keys.sort_by(|a, b| a.id.cmp(&b.id));
    Ok((name, keys))
}

async fn signing_certificates(
    clients: &AccountClients,
    name: String,
) -> Result<(String, Vec<SigningCertificate>), AwsError> {
    let mut pages = clients
        .iam
        .list_signing_certificates()
        .user_name(&name)
        .into_paginator()
        .send();
    let mut certificates = Vec::new();
    while let Some(page) =
        call(&clients.target, LIST_SIGNING_CERTIFICATES, pages.try_next()).await?
    {
        for cert in page.certificates() {
            certificates.push(SigningCertificate {
                id: CertificateId::Iam(cert.certificate_id().to_owned()),
                status: status_of(*cert.status() == StatusType::Active),
                uploaded: cert.upload_date().map(to_utc).unwrap_or_default(),
            });
        }
    }
    certificates.sort_by(|a, b| a.id.cmp(&b.id));
    Ok((name, certificates))
}

/// Kinds for devices whose serial does not say it (the report's placeholder): one paged
/// `ListVirtualMFADevices` of the assigned devices, made only when some user has such a
/// device. A user with MFA and no virtual device holds a hardware token or a security key.
async fn mfa_kinds(clients: &AccountClients, state: &mut AccountState) -> Result<(), AwsError> {
    for device in state.users.iter_mut().flat_map(|u| &mut u.mfa_devices) {
        if device.kind.is_none() {
            device.kind = MfaKind::of_serial(&device.serial);
        }
    }
    let unknown = state
        .users
        .iter()
        .any(|u| u.mfa_devices.iter().any(|d| d.kind.is_none()));
    if !unknown {
        return Ok(());
    }
    let mut pages = clients
        .iam
        .list_virtual_mfa_devices()
        .assignment_status(AssignmentStatusType::Assigned)
        .into_paginator()
        .send();
    let mut with_virtual = BTreeSet::new();
    while let Some(page) = call(&clients.target, LIST_VIRTUAL_MFA_DEVICES, pages.try_next()).await?
    {
        with_virtual.extend(
            page.virtual_mfa_devices()
                .iter()
                .filter_map(|d| d.user().map(|u| u.user_name().to_owned())),
        );
    }
    for user in &mut state.users {
        let kind = if with_virtual.contains(&user.name) {
            MfaKind::Virtual
        } else {
            MfaKind::HardwareOrSecurityKey
        };
        for device in user.mfa_devices.iter_mut().filter(|d| d.kind.is_none()) {
            device.kind = Some(kind);
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use aws_config::{BehaviorVersion, Region, SdkConfig};
    use aws_credential_types::Credentials;
    use aws_credential_types::provider::SharedCredentialsProvider;
    use aws_smithy_http_client::test_util::{ReplayEvent, StaticReplayClient};
    use aws_smithy_types::body::SdkBody;

    use super::*;
    use crate::aws::{ApiCalls, ClientFactory};

    /// IAM's answer to `ListServiceSpecificCredentials`, in the shape of the API reference's
    /// response elements (`ServiceSpecificCredentials.member.N` of
    /// `ServiceSpecificCredentialMetadata`, `IsTruncated`, `Marker`): a Bedrock API key with
    /// its alias and expiry, past it (`Expired`), and a page more to come.
    const BEDROCK_PAGE: &str = r#"<ListServiceSpecificCredentialsResponse xmlns="https://iam.amazonaws.com/doc/2010-05-08/">
  <ListServiceSpecificCredentialsResult>
    <ServiceSpecificCredentials>
      <member>
        <UserName>dev</UserName>
        <Status>Expired</Status>
        <ServiceCredentialAlias>BedrockAPIKey-a1b2</ServiceCredentialAlias>
        <CreateDate>2025-07-01T10:00:00Z</CreateDate>
        <ExpirationDate>2025-07-31T10:00:00Z</ExpirationDate>
        <ServiceSpecificCredentialId>ACCAEXAMPLE123EXAMPLE</ServiceSpecificCredentialId>
        <ServiceName>bedrock.amazonaws.com</ServiceName>
      </member>
    </ServiceSpecificCredentials>
    <Marker>page-2</Marker>
    <IsTruncated>true</IsTruncated>
  </ListServiceSpecificCredentialsResult>
  <ResponseMetadata><RequestId>4bd4dcbc-EXAMPLE</RequestId></ResponseMetadata>
</ListServiceSpecificCredentialsResponse>"#;

    /// A CodeCommit credential: a service user name, no alias, no expiry.
    const CODECOMMIT_PAGE: &str = r#"<ListServiceSpecificCredentialsResponse xmlns="https://iam.amazonaws.com/doc/2010-05-08/">
  <ListServiceSpecificCredentialsResult>
    <ServiceSpecificCredentials>
      <member>
        <UserName>ops</UserName>
        <Status>Active</Status>
        <ServiceUserName>ops-at-123456789012</ServiceUserName>
        <CreateDate>2024-01-15T08:30:00Z</CreateDate>
        <ServiceSpecificCredentialId>ACCAEXAMPLE456EXAMPLE</ServiceSpecificCredentialId>
        <ServiceName>codecommit.amazonaws.com</ServiceName>
      </member>
    </ServiceSpecificCredentials>
    <IsTruncated>false</IsTruncated>
  </ListServiceSpecificCredentialsResult>
  <ResponseMetadata><RequestId>5cd4dcbc-EXAMPLE</RequestId></ResponseMetadata>
</ListServiceSpecificCredentialsResponse>"#;

    const EMPTY_PAGE: &str = r#"<ListServiceSpecificCredentialsResponse xmlns="https://iam.amazonaws.com/doc/2010-05-08/">
  <ListServiceSpecificCredentialsResult>
    <ServiceSpecificCredentials/>
    <IsTruncated>false</IsTruncated>
  </ListServiceSpecificCredentialsResult>
</ListServiceSpecificCredentialsResponse>"#;

    fn exchange(answer: &str) -> ReplayEvent {
        ReplayEvent::new(
            http::Request::builder()
                .uri("https://iam.amazonaws.com/")
                .body(SdkBody::empty())
                .unwrap(),
            http::Response::builder()
                .status(200)
                .body(SdkBody::from(answer))
                .unwrap(),
        )
    }

    #[tokio::test]
    async fn every_users_credentials_are_listed_per_service_and_page_and_typed() {
        // Services in CREDENTIAL_SERVICES order: bedrock (two pages), cassandra, codecommit.
        let replay = StaticReplayClient::new(vec![
            exchange(BEDROCK_PAGE),
            exchange(EMPTY_PAGE),
            exchange(EMPTY_PAGE),
            exchange(CODECOMMIT_PAGE),
        ]);
        let config = SdkConfig::builder()
            .behavior_version(BehaviorVersion::latest())
            .region(Region::new("us-east-1"))
            .credentials_provider(SharedCredentialsProvider::new(Credentials::new(
                "AKIDEXAMPLE",
                "secret",
                None,
                None,
                "test",
            )))
            .http_client(replay.clone())
            .build();
        let clients = ClientFactory::with_config(config.clone(), ApiCalls::default())
            .clients_from_config("prod", config);

        let by_user = service_credentials(&clients).await.unwrap();

        let at = |s: &str| s.parse::<chrono::DateTime<chrono::Utc>>().unwrap();
        assert_eq!(
            by_user["dev"],
            [ServiceCredential {
                id: "ACCAEXAMPLE123EXAMPLE".into(),
                service: "bedrock.amazonaws.com".into(),
                service_user_name: None,
                alias: Some("BedrockAPIKey-a1b2".into()),
                status: ServiceCredentialStatus::Expired,
                created: at("2025-07-01T10:00:00Z"),
                expires: Some(at("2025-07-31T10:00:00Z")),
            }]
        );
        assert_eq!(
            by_user["ops"],
            [ServiceCredential {
                id: "ACCAEXAMPLE456EXAMPLE".into(),
                service: "codecommit.amazonaws.com".into(),
                service_user_name: Some("ops-at-123456789012".into()),
                alias: None,
                status: ServiceCredentialStatus::Active,
                created: at("2024-01-15T08:30:00Z"),
                expires: None,
            }]
        );
        // What was asked: AllUsers for each service, the second bedrock page by its marker.
        let bodies: Vec<String> = replay
            .actual_requests()
            .map(|r| String::from_utf8(r.body().bytes().unwrap().to_vec()).unwrap())
            .collect();
        assert_eq!(bodies.len(), 4, "{bodies:#?}");
        for (body, service, marker) in [
            (&bodies[0], "bedrock.amazonaws.com", None),
            (&bodies[1], "bedrock.amazonaws.com", Some("page-2")),
            (&bodies[2], "cassandra.amazonaws.com", None),
            (&bodies[3], "codecommit.amazonaws.com", None),
        ] {
            assert!(
                body.contains("Action=ListServiceSpecificCredentials"),
                "{body}"
            );
            assert!(body.contains("AllUsers=true"), "{body}");
            assert!(body.contains(&format!("ServiceName={service}")), "{body}");
            assert_eq!(
                marker.is_some_and(|m| body.contains(&format!("Marker={m}"))),
                marker.is_some(),
                "{body}"
            );
        }
    }
}
