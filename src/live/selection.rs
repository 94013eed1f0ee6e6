//! Which of the other credential kinds and account controls a read covers: a plain
//! selector made from the resolved rules, so that nothing is read (no call at all) when no
//! table asks for it.

use crate::desired::Rules;

/// What to read beyond the base reads. `ReadSelection::default()` reads nothing more.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ReadSelection {
    /// `ListServiceSpecificCredentials` with `AllUsers`, one paged call per service.
    pub service_credentials: bool,
    /// `ListSSHPublicKeys`, one paged call per user: SSH keys have no bulk read.
    pub ssh_keys: bool,
    /// The credential report's `cert_N_*` columns (no call beyond the report).
    pub signing_certificates: bool,
    /// `ListSigningCertificates` for each user the report shows with a certificate: the ids a
    /// change or an addressed finding needs.
    pub signing_certificate_ids: bool,
    /// Each MFA device's kind: from the serials `ListMFADevices` gave, else one paged
    /// `ListVirtualMFADevices` for the users known only by the report's `mfa_active`.
    pub mfa_kinds: bool,
    /// One paged `ListServerCertificates`.
    pub server_certificates: bool,
    /// `account:GetAlternateContact` SECURITY.
    pub security_contact: bool,
    /// `access-analyzer:ListAnalyzers`, one paged call per region listed.
    pub access_analyzer_regions: Vec<String>,
    /// `iam:ListOrganizationsFeatures`.
    pub organization_features: bool,
}

impl ReadSelection {
    /// What the rules' tables ask for. The credential report is read for signing
    /// certificates and MFA kinds (see [`ReadSelection::needs_report`]).
    pub fn of(rules: &Rules) -> Self {
        let credentials = &rules.credentials;
        let population = &rules.population;
        let controls = &rules.account_controls;
        Self {
            service_credentials: credentials.service_credentials.is_some(),
            ssh_keys: credentials.ssh_keys.is_some(),
            signing_certificates: credentials.signing_certificates.is_some(),
            // Ids are what a change or a finding is addressed by: listed for the users the
            // report shows with an active certificate (rare), when `forbid` asks about them.
            signing_certificate_ids: credentials
                .signing_certificates
                .as_ref()
                .is_some_and(|c| c.forbid),
            mfa_kinds: !population.break_glass.users.is_empty(),
            server_certificates: credentials
                .server_certificates_delete_expired_after_days
                .is_some(),
            security_contact: controls.require_security_contact,
            access_analyzer_regions: controls.access_analyzer_regions.clone(),
            // Read once per run with the identity iamctl starts from (`ops::plan`), not per
            // account; a snapshot records each account's answer.
            organization_features: false,
        }
    }

    /// For `import`: every credential kind a user or the account can hold (not the account
    /// controls, which import does not propose), so that it can say what each table would
    /// flag.
    pub fn every_credential() -> Self {
        Self {
            service_credentials: true,
            ssh_keys: true,
            signing_certificates: true,
            signing_certificate_ids: true,
            server_certificates: true,
            ..Self::default()
        }
    }

    /// For `snapshot`: what the rules ask for, with signing certificates by id.
    pub fn for_snapshot(rules: &Rules) -> Self {
        let mut selection = Self::of(rules);
        selection.signing_certificate_ids = selection.signing_certificates;
        selection.organization_features =
            rules.account_controls.require_root_credentials_management;
        selection
    }

    /// What these reads cost per account, in words (`validate -v`): each bulk read, and the
    /// per-user ones said so.
    pub fn costs(&self) -> Vec<String> {
        let mut costs = Vec::new();
        if self.service_credentials {
            costs.push(
                "[users.service_credentials]: ListServiceSpecificCredentials, one paged call per service (3)"
                    .to_owned(),
            );
        }
        if self.ssh_keys {
            costs.push(
                "[users.ssh_keys]: ListSSHPublicKeys, one call per user (SSH keys have no bulk read)"
                    .to_owned(),
            );
        }
        if self.signing_certificates {
            costs.push(
                "[users.signing_certificates]: the credential report, and ListSigningCertificates per user holding a certificate"
                    .to_owned(),
            );
        }
        if self.server_certificates {
            costs.push("[server_certificates]: ListServerCertificates, one paged call".to_owned());
        }
        costs
    }

    /// Nothing beyond the base reads.
    pub fn is_empty(&self) -> bool {
        *self == Self::default()
    }

    /// The credential report is needed (signing certificates, MFA of users not read
    /// directly; `[users.mfa] all_users` rests on the report's `mfa_active` as the console
    /// MFA rule does).
    pub fn needs_report(&self) -> bool {
        self.signing_certificates || self.mfa_kinds
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rules(text: &str) -> Rules {
        crate::desired::load_sources(vec![("d.toml".into(), text.into())])
            .unwrap()
            .rules_for(None)
    }

    #[test]
    fn without_the_new_tables_nothing_more_is_read() {
        let selection = ReadSelection::of(&rules(
            "[users.access_keys]\nmax_age_days = 90\n[audit]\nrequire_cloudtrail = true\n",
        ));
        assert!(selection.is_empty(), "{selection:?}");
        assert!(!selection.needs_report());
    }

    #[test]
    fn each_table_selects_its_read() {
        let selection = ReadSelection::of(&rules(
            "[users.service_credentials]\nmax_age_days = 90\n\
             [users.ssh_keys]\nmax_age_days = 365\n\
             [users.signing_certificates]\nforbid = true\n\
             [[user]]\nname = \"break-glass-1\"\nbreak_glass = true\n\
             [server_certificates]\ndelete_expired_after_days = 30\n\
             [audit]\nrequire_security_contact = true\n\
             access_analyzer_regions = [\"us-east-1\", \"eu-west-1\", \"us-east-1\"]\n",
        ));
        assert_eq!(
            selection,
            ReadSelection {
                service_credentials: true,
                ssh_keys: true,
                signing_certificates: true,
                signing_certificate_ids: true,
                mfa_kinds: true,
                server_certificates: true,
                security_contact: true,
                access_analyzer_regions: vec!["eu-west-1".into(), "us-east-1".into()],
                organization_features: false,
            }
        );
        assert!(selection.needs_report());
        let org = rules(
            "[organization]\nrole_name = \"r\"\nrequire_root_credentials_management = true\n",
        );
        // Read once per run by `plan` (with the base identity), per account by `snapshot`.
        assert!(!ReadSelection::of(&org).organization_features);
        assert!(ReadSelection::for_snapshot(&org).organization_features);
    }
}
