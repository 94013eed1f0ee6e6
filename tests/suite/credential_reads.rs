//! Issue 21's credentials and issue 22's account controls, read from moto by `iamctl
//! snapshot`: every fact typed and right, each read costing the calls it should, and no call
//! at all without the tables that ask for them.

use crate::support;

use std::collections::BTreeMap;

use crate::support::{
    SeedUser, create_service_credential, enable_virtual_mfa, fresh_account, seed_user,
    upload_server_certificate, upload_signing_certificate, upload_ssh_key,
};
use aws_sdk_iam::types::StatusType;
use iamctl::live::Snapshot;
use iamctl::state::{CertificateId, KeyStatus, MfaKind, ServiceCredentialStatus, User};

const TABLES: &str = r#"
[users.service_credentials]
max_age_days = 90
[users.ssh_keys]
max_age_days = 365
[users.signing_certificates]
forbid = true
[[user]]
name = "glass"
break_glass = true
[server_certificates]
delete_expired_after_days = 30
[audit]
require_security_contact = true
access_analyzer_regions = ["us-east-1"]
"#;

fn snapshot(account: &support::Account, desired: &str) -> Snapshot {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("desired.toml");
    std::fs::write(&config, desired).unwrap();
    let out = dir.path().join("snapshot.json");
    let run = account
        .cmd()
        .args(["snapshot", "-c", config.to_str().unwrap(), "-o"])
        .arg(&out)
        .output()
        .unwrap();
    assert!(
        run.status.success(),
        "{}",
        String::from_utf8_lossy(&run.stderr)
    );
    let text = std::fs::read_to_string(&out).unwrap();
    // No secret: neither a credential's password nor a Bedrock key's value.
    for secret in [
        "ServicePassword",
        "ServiceCredentialSecret",
        "password\"",
        "secret\"",
    ] {
        assert!(!text.contains(secret), "{secret} in {text}");
    }
    serde_json::from_str(&text).unwrap()
}

fn user<'a>(snapshot: &'a Snapshot, name: &str) -> &'a User {
    snapshot.accounts[0].state.user(name).unwrap()
}

const NEW_READS: [&str; 6] = [
    "iam:ListServiceSpecificCredentials",
    "iam:ListSSHPublicKeys",
    "iam:ListSigningCertificates",
    "iam:ListServerCertificates",
    "account:GetAlternateContact",
    "access-analyzer:ListAnalyzers",
];

#[tokio::test(flavor = "multi_thread")]
async fn a_snapshot_reads_every_credential_kind_and_account_control_its_tables_ask_for() {
    let account = fresh_account().await;
    let iam = account.iam().await;
    for name in ["dev", "glass", "keyonly"] {
        seed_user(&iam, name, SeedUser::default()).await;
    }
    seed_user(
        &iam,
        "keyonly2",
        SeedUser {
            active_keys: 1,
            ..Default::default()
        },
    )
    .await;
    enable_virtual_mfa(&iam, "glass").await;

    // dev: an old CodeCommit credential, a Bedrock key expiring in 30 days, an inactive
    // Keyspaces credential, an SSH key and a signing certificate.
    let codecommit = create_service_credential(&iam, "dev", "codecommit.amazonaws.com", None).await;
    let bedrock = create_service_credential(&iam, "dev", "bedrock.amazonaws.com", Some(30)).await;
    let keyspaces = create_service_credential(&iam, "dev", "cassandra.amazonaws.com", None).await;
    iam.update_service_specific_credential()
        .user_name("dev")
        .service_specific_credential_id(&keyspaces)
        .status(StatusType::Inactive)
        .send()
        .await
        .unwrap();
    account.credential_dates(&format!(
        "\"user\":\"dev\",\"service_specific_credential_id\":\"{codecommit}\",\"created_days_ago\":200"
    ));
    let ssh = upload_ssh_key(&iam, "dev").await;
    let cert = upload_signing_certificate(&iam, "dev").await;
    // An expired server certificate.
    upload_server_certificate(&iam, "old-web").await;
    account.credential_dates(
        "\"server_certificate\":\"old-web\",\"uploaded_days_ago\":400,\"expires_days_ago\":10",
    );
    // An analyzer in us-east-1, and a security contact.
    let config = account.sdk_config();
    aws_sdk_accessanalyzer::Client::new(&config)
        .create_analyzer()
        .analyzer_name("account-analyzer")
        .r#type(aws_sdk_accessanalyzer::types::Type::Account)
        .send()
        .await
        .unwrap();
    aws_sdk_account::Client::new(&config)
        .put_alternate_contact()
        .alternate_contact_type(aws_sdk_account::types::AlternateContactType::Security)
        .name("Sec Team")
        .email_address("security@example.com")
        .phone_number("+10000000000")
        .title("CISO")
        .send()
        .await
        .unwrap();
    account.requests(); // the seeding's own

    // Without the tables: none of the new reads.
    let plain = snapshot(&account, "[users.access_keys]\nmax_age_days = 90\n");
    let used = account.requests();
    for read in NEW_READS.iter().chain(&["iam:ListOrganizationsFeatures"]) {
        assert!(
            !used.contains_key(*read),
            "{read} made without its table: {used:?}"
        );
    }
    assert_eq!(user(&plain, "dev").service_credentials, None);
    assert_eq!(plain.accounts[0].state.server_certificates, None);

    // With them: every fact, typed.
    let taken = snapshot(&account, TABLES);
    let used = account.requests();
    let state = &taken.accounts[0].state;
    let dev = user(&taken, "dev");
    let credentials: BTreeMap<&str, _> = dev
        .service_credentials
        .as_ref()
        .unwrap()
        .iter()
        .map(|c| (c.service.as_str(), c))
        .collect();
    let old = credentials["codecommit.amazonaws.com"];
    assert_eq!(
        (old.id.as_str(), old.status),
        (codecommit.as_str(), ServiceCredentialStatus::Active)
    );
    let age = taken.taken_at - old.created;
    assert!((199..=200).contains(&age.num_days()), "{age}");
    assert!(
        old.service_user_name
            .as_deref()
            .is_some_and(|n| n.starts_with("dev-at-"))
    );
    assert_eq!(old.expires, None);
    let key = credentials["bedrock.amazonaws.com"];
    assert_eq!(key.id, bedrock);
    assert!(key.alias.is_some() && key.service_user_name.is_none());
    assert_eq!((key.expires.unwrap() - key.created).num_days(), 30);
    assert_eq!(
        credentials["cassandra.amazonaws.com"].status,
        ServiceCredentialStatus::Inactive
    );
    let keys = dev.ssh_public_keys.as_ref().unwrap();
    assert_eq!(
        (keys[0].id.as_str(), keys[0].status),
        (ssh.as_str(), KeyStatus::Active)
    );
    let certs = dev.signing_certificates.as_ref().unwrap();
    assert_eq!(certs.len(), 1);
    assert_eq!(
        (&certs[0].id, certs[0].status),
        (&CertificateId::Iam(cert), KeyStatus::Active)
    );
    for name in ["glass", "keyonly", "keyonly2"] {
        let other = user(&taken, name);
        assert_eq!(
            other.service_credentials.as_deref(),
            Some(&[][..]),
            "{name}"
        );
        assert_eq!(other.ssh_public_keys.as_deref(), Some(&[][..]), "{name}");
        assert_eq!(
            other.signing_certificates.as_deref(),
            Some(&[][..]),
            "{name}"
        );
    }
    assert!(user(&taken, "keyonly2").mfa_devices.is_empty());
    let glass = user(&taken, "glass");
    assert_eq!(glass.mfa_devices[0].kind, Some(MfaKind::Virtual));
    let servers = state.server_certificates.as_ref().unwrap();
    assert_eq!(servers[0].name, "old-web");
    assert!(servers[0].id.starts_with("ASCA"));
    assert_eq!((taken.taken_at - servers[0].expires).num_days(), 10);
    assert_eq!((taken.taken_at - servers[0].uploaded).num_days(), 400);
    assert_eq!(state.security_contact_registered, Some(true));
    let analyzers = state.access_analyzers.as_ref().unwrap();
    assert_eq!(analyzers["us-east-1"][0].name, "account-analyzer");
    assert_eq!(analyzers["us-east-1"][0].analyzer_type, "ACCOUNT");

    // What each read cost: one call per service, per user for SSH keys, per user holding
    // a certificate for their ids, one each for the rest; MFA kinds come from the serials
    // `snapshot` lists anyway.
    let count = |action: &str| used.get(action).copied().unwrap_or(0);
    assert_eq!(count("iam:ListServiceSpecificCredentials"), 3, "{used:?}");
    assert_eq!(count("iam:ListSSHPublicKeys"), 4, "{used:?}");
    assert_eq!(count("iam:ListSigningCertificates"), 1, "{used:?}");
    assert_eq!(count("iam:ListServerCertificates"), 1, "{used:?}");
    assert_eq!(count("account:GetAlternateContact"), 1, "{used:?}");
    assert_eq!(count("access-analyzer:ListAnalyzers"), 1, "{used:?}");
    assert_eq!(count("iam:ListVirtualMFADevices"), 0, "{used:?}");
}

/// `[organization] require_root_credentials_management`: `ListOrganizationsFeatures` once per
/// target; the management account reads the features, a member account is told it cannot.
#[tokio::test(flavor = "multi_thread")]
async fn organization_features_are_read_where_they_can_be() {
    use iamctl::state::OrganizationFeatures;

    let base = fresh_account().await;
    let (_, ids) = support::create_organization(&base, &["member"]).await;
    base.iam()
        .await
        .enable_organizations_root_credentials_management()
        .send()
        .await
        .unwrap();
    base.requests();
    let desired = "[organization]\nrole_name = \"OrganizationAccountAccessRole\"\n\
                   require_root_credentials_management = true\n";
    let taken = snapshot(&base, desired);
    let by_id: BTreeMap<&str, _> = taken
        .accounts
        .iter()
        .map(|a| (a.state.account_id.as_str(), &a.state.organization_features))
        .collect();
    let Some(Some(OrganizationFeatures::Read {
        organization_id,
        root_credentials_management,
        root_sessions,
    })) = by_id.get(base.id.as_str())
    else {
        panic!("{by_id:?}");
    };
    assert!(organization_id.starts_with("o-"), "{organization_id}");
    assert!(*root_credentials_management && !*root_sessions);
    assert_eq!(
        by_id[ids["member"].as_str()],
        &Some(OrganizationFeatures::NotManagementAccount)
    );
    // The base's own requests; each target's are signed with its assumed role's keys.
    assert!(
        !base
            .requests()
            .contains_key("iam:ListOrganizationsFeatures")
    );
}
