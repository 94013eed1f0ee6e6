//! The credentials an IAM user can hold besides a console password and access keys
//! (service-specific credentials, SSH public keys, X.509 signing certificates), the kind of
//! each MFA device, and the account-level facts of issues 21 and 22 (server certificates,
//! the security contact, Access Analyzer, the organization's root-access features).
//!
//! Facts only, as everywhere in `state`: a service credential's password and a Bedrock API
//! key's value are never read (`ListServiceSpecificCredentials` does not return them), so
//! there is no field for either.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::KeyStatus;

/// `ServiceSpecificCredential.Status`: IAM marks a credential created with an expiry (a
/// Bedrock API key's `CredentialAgeDays`) `Expired` once that date has passed.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize, JsonSchema,
)]
pub enum ServiceCredentialStatus {
    Active,
    Inactive,
    Expired,
}

/// A user credential other than a console password or an access key, as plans address it
/// (`user.NAME.service_credential.ID`, `user.NAME.ssh_key.ID`,
/// `user.NAME.signing_certificate.ID`) and records it (`iamctl:inactive-since:ssh_key:ID`).
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, JsonSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum CredentialType {
    ServiceCredential,
    SshKey,
    SigningCertificate,
}

impl CredentialType {
    pub const ALL: [CredentialType; 3] = [
        CredentialType::ServiceCredential,
        CredentialType::SshKey,
        CredentialType::SigningCertificate,
    ];

    /// Its segment in an address and in a record's tag.
    pub fn segment(self) -> &'static str {
        match self {
            CredentialType::ServiceCredential => "service_credential",
            CredentialType::SshKey => "ssh_key",
            CredentialType::SigningCertificate => "signing_certificate",
        }
    }

    /// How a sentence names one: `service-specific credential`.
    pub fn noun(self) -> &'static str {
        match self {
            CredentialType::ServiceCredential => "service-specific credential",
            CredentialType::SshKey => "SSH public key",
            CredentialType::SigningCertificate => "signing certificate",
        }
    }

    /// Whether `id` can be one of its IAM ids: letters, digits and `_` (IAM's `[\w]+` for
    /// every one of them), so that no placeholder (`report-cert-1`) or dotted text is taken
    /// for an id.
    pub fn is_id(id: &str) -> bool {
        !id.is_empty() && id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_')
    }
}

impl std::fmt::Display for CredentialType {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.segment())
    }
}

/// One service-specific credential: CodeCommit Git credentials, Amazon Keyspaces
/// credentials, a long-term Amazon Bedrock API key. Address `user.NAME.service_credential.ID`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ServiceCredential {
    /// `ServiceSpecificCredentialId` (`ACCA…`).
    pub id: String,
    /// `ServiceName`: `codecommit.amazonaws.com`, `cassandra.amazonaws.com`,
    /// `bedrock.amazonaws.com`.
    pub service: String,
    /// `ServiceUserName`: the name the service signs in with (CodeCommit, Keyspaces).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub service_user_name: Option<String>,
    /// `ServiceCredentialAlias`: what a Bedrock API key is known by instead.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub alias: Option<String>,
    pub status: ServiceCredentialStatus,
    pub created: DateTime<Utc>,
    /// `ExpirationDate`: only credentials created with an expiry (Bedrock API keys) have one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expires: Option<DateTime<Utc>>,
}

/// One SSH public key (CodeCommit). Address `user.NAME.ssh_key.ID`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SshPublicKey {
    /// `SSHPublicKeyId` (`APKA…`).
    pub id: String,
    pub status: KeyStatus,
    pub uploaded: DateTime<Utc>,
}

/// How a signing certificate is known: by its IAM id (`ListSigningCertificates`), or only as
/// one of the credential report's two certificate slots (`cert_1_*`, `cert_2_*`), which carry
/// no id. Written `report-cert-N` in snapshots, as access keys' slots are `report-key-N`.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum CertificateId {
    Iam(String),
    ReportSlot(u8),
}

/// The text form of a [`CertificateId::ReportSlot`].
pub const REPORT_CERT_PREFIX: &str = "report-cert-";

impl CertificateId {
    /// The IAM id, when the certificate was listed.
    pub fn iam(&self) -> Option<&str> {
        match self {
            CertificateId::Iam(id) => Some(id),
            CertificateId::ReportSlot(_) => None,
        }
    }
}

impl std::fmt::Display for CertificateId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            CertificateId::Iam(id) => f.write_str(id),
            CertificateId::ReportSlot(slot) => write!(f, "{REPORT_CERT_PREFIX}{slot}"),
        }
    }
}

impl Serialize for CertificateId {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for CertificateId {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        match text.strip_prefix(REPORT_CERT_PREFIX).map(str::parse::<u8>) {
            Some(Ok(slot)) => Ok(CertificateId::ReportSlot(slot)),
            _ if text.is_empty() => Err(serde::de::Error::custom("empty certificate id")),
            _ => Ok(CertificateId::Iam(text)),
        }
    }
}

/// One X.509 signing certificate. Address `user.NAME.signing_certificate.ID`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SigningCertificate {
    #[schemars(with = "String")]
    pub id: CertificateId,
    pub status: KeyStatus,
    /// `UploadDate` (the report's `cert_N_last_rotated`).
    pub uploaded: DateTime<Utc>,
}

/// What kind of device an MFA serial names (IAM User Guide, "ARNs": a virtual device is
/// `arn:PARTITION:iam::ACCOUNT:mfa/NAME`, a FIDO security key `arn:PARTITION:iam::ACCOUNT:u2f/ID`;
/// a hardware TOTP token is known by the serial printed on it, not an ARN).
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize, JsonSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum MfaKind {
    Virtual,
    Hardware,
    SecurityKey,
    /// Known only not to be virtual: the credential report says the user has MFA and
    /// `ListVirtualMFADevices` lists no device of theirs, so it is a hardware token or a FIDO
    /// security key (which of the two needs `ListMFADevices`).
    HardwareOrSecurityKey,
}

impl MfaKind {
    /// The kind a device's serial says; `None` for a serial of no known shape (the report's
    /// placeholder).
    pub fn of_serial(serial: &str) -> Option<MfaKind> {
        let parts: Vec<&str> = serial.splitn(6, ':').collect();
        match parts.as_slice() {
            ["arn", _, "iam", "", _, resource] if resource.starts_with("mfa/") => {
                Some(MfaKind::Virtual)
            }
            ["arn", _, "iam", "", _, resource] if resource.starts_with("u2f/") => {
                Some(MfaKind::SecurityKey)
            }
            ["arn", ..] => None,
            // Hardware tokens' serials are letters and digits (`GAHT12345678`); the
            // report's placeholder (`report-mfa`) is not one.
            _ if !serial.is_empty() && serial.bytes().all(|b| b.is_ascii_alphanumeric()) => {
                Some(MfaKind::Hardware)
            }
            _ => None,
        }
    }

    /// A hardware token or a security key: what a break-glass user must hold.
    pub fn is_physical(self) -> bool {
        match self {
            MfaKind::Virtual => false,
            MfaKind::Hardware | MfaKind::SecurityKey | MfaKind::HardwareOrSecurityKey => true,
        }
    }
}

/// One server certificate stored in IAM (CIS 1.19: expired ones should be removed). Address
/// `server_certificate.NAME`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ServerCertificate {
    /// `ServerCertificateName`, unique in the account.
    pub name: String,
    /// `ServerCertificateId` (`ASCA…`).
    pub id: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub path: String,
    pub uploaded: DateTime<Utc>,
    pub expires: DateTime<Utc>,
}

/// One active IAM Access Analyzer analyzer (CIS 1.20).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Analyzer {
    pub name: String,
    /// `type`: `ACCOUNT`, `ORGANIZATION`, `ACCOUNT_UNUSED_ACCESS`, ...
    #[serde(rename = "type")]
    pub analyzer_type: String,
}

/// The account's organization's centralized root access (`iam:ListOrganizationsFeatures`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum OrganizationFeatures {
    /// Read from the management account (or a delegated administrator).
    Read {
        organization_id: String,
        root_credentials_management: bool,
        root_sessions: bool,
    },
    /// The account belongs to no organization (`OrganizationNotFoundException`).
    NoOrganization,
    /// Only the management account or a delegated administrator can read them
    /// (`AccountNotManagementOrDelegatedAdministratorException`).
    NotManagementAccount,
    /// The organization has not enabled trusted access for IAM
    /// (`ServiceAccessNotEnabledException`): no feature can be on.
    ServiceAccessNotEnabled,
}

/// Active analyzers by region, for the regions that were read; a region read with none maps
/// to an empty list.
pub type AnalyzersByRegion = BTreeMap<String, Vec<Analyzer>>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mfa_kinds_follow_the_serials_shape() {
        for (serial, kind) in [
            (
                "arn:aws:iam::123456789012:mfa/alice",
                Some(MfaKind::Virtual),
            ),
            (
                "arn:aws-cn:iam::123456789012:mfa/path/alice",
                Some(MfaKind::Virtual),
            ),
            (
                "arn:aws:iam::123456789012:u2f/user/alice/key-ABC",
                Some(MfaKind::SecurityKey),
            ),
            ("GAHT12345678", Some(MfaKind::Hardware)),
            ("report-mfa", None),
            ("arn:aws:iam::123456789012:user/alice", None),
            ("", None),
        ] {
            assert_eq!(MfaKind::of_serial(serial), kind, "{serial}");
        }
        assert!(!MfaKind::Virtual.is_physical());
        assert!(MfaKind::HardwareOrSecurityKey.is_physical());
    }

    #[test]
    fn certificate_ids_round_trip_through_their_text_form() {
        for id in [
            CertificateId::Iam("TA7SMP42TDN5Z26OBPJE7EXAMPLE".into()),
            CertificateId::ReportSlot(2),
        ] {
            let text = serde_json::to_string(&id).unwrap();
            assert_eq!(serde_json::from_str::<CertificateId>(&text).unwrap(), id);
        }
        assert_eq!(
            serde_json::to_string(&CertificateId::ReportSlot(1)).unwrap(),
            "\"report-cert-1\""
        );
    }
}
