//! The resolved values of the other credential kinds' tables and of the IAM-user population
//! and account controls, which `plan/engine/` enforces and
//! `live::ReadSelection` reads for.

use chrono::NaiveDate;

use super::model::*;

/// What to do about a credential of a kind other than an access key: the access-key actions
/// without `rotate` (which `validate` refuses outside `[users.access_keys]`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum CredentialAction {
    #[default]
    Report,
    Deactivate,
    Delete,
}

impl CredentialAction {
    /// `KeyAction::Rotate` cannot reach here: `validate` refuses it for these tables.
    fn of(action: Option<KeyAction>) -> Self {
        match action.unwrap_or_default() {
            KeyAction::Report | KeyAction::Rotate => CredentialAction::Report,
            KeyAction::Deactivate => CredentialAction::Deactivate,
            KeyAction::Delete => CredentialAction::Delete,
        }
    }
}

/// `[users.service_credentials]`, defaults filled in.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ServiceCredentialRules {
    pub max_age_days: Option<i64>,
    pub on_expired: CredentialAction,
    /// `None`: any service.
    pub allowed_services: Option<Vec<String>>,
    pub on_forbidden_service: CredentialAction,
    pub require_expiry_days: Option<i64>,
    pub delete_inactive: bool,
    pub delete_inactive_after_days: i64,
    pub notice_days: Option<i64>,
}

/// `[users.ssh_keys]`, defaults filled in.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SshKeyRules {
    pub max_age_days: Option<i64>,
    pub on_expired: CredentialAction,
    pub delete_inactive: bool,
    pub delete_inactive_after_days: i64,
    pub notice_days: Option<i64>,
}

/// `[users.signing_certificates]`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SigningCertificateRules {
    pub forbid: bool,
    pub on_forbidden: CredentialAction,
}

/// Issue 21's tables, resolved. A table left out resolves to `None` (nothing read).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CredentialRules {
    pub service_credentials: Option<ServiceCredentialRules>,
    pub ssh_keys: Option<SshKeyRules>,
    pub signing_certificates: Option<SigningCertificateRules>,
    /// `[users.mfa] all_users`.
    pub mfa_all_users: bool,
    /// `[server_certificates] delete_expired_after_days` (`Some(0)` when the table is written
    /// without it: expired ones are deleted at once).
    pub server_certificates_delete_expired_after_days: Option<i64>,
}

/// `[users.inventory]` and its exceptions.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct InventoryRules {
    pub allowed: Vec<String>,
    pub on_unlisted: OnUnlisted,
    pub notice_days: Option<i64>,
    pub exceptions: Vec<UserException>,
}

impl InventoryRules {
    /// Whether a name or glob of `allowed` lists `user` (case-insensitively, as IAM names
    /// are unique regardless of case; a malformed glob, which `validate` refuses, lists none).
    pub fn allows(&self, user: &str) -> bool {
        self.allowed.iter().any(|pattern| {
            globset::GlobBuilder::new(pattern)
                .case_insensitive(true)
                .build()
                .is_ok_and(|glob| glob.compile_matcher().is_match(user))
        })
    }

    /// The exception of `user`, if one is written.
    pub fn exception(&self, user: &str) -> Option<&UserException> {
        self.exceptions
            .iter()
            .find(|e| e.name.eq_ignore_ascii_case(user))
    }
}

impl UserException {
    /// When it stops holding: the start of the day after `expires` (UTC).
    pub fn ends(&self) -> chrono::DateTime<chrono::Utc> {
        (self.expires + chrono::Days::new(1))
            .and_time(chrono::NaiveTime::MIN)
            .and_utc()
    }
}

/// One `[[users.exception]]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserException {
    pub name: String,
    pub owner: String,
    pub reason: String,
    pub expires: NaiveDate,
}

/// How break-glass users are held, and which they are.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct BreakGlassRules {
    /// `[[user]] break_glass = true`, sorted.
    pub users: Vec<String>,
    pub on_access_key: CredentialAction,
    pub max_used_days: i64,
    pub allowed_policies: Vec<String>,
}

/// `[users.break_glass] max_used_days` when left out.
pub const DEFAULT_BREAK_GLASS_MAX_USED_DAYS: i64 = 1;
/// `[users.break_glass] allowed_policies` when left out.
pub const DEFAULT_BREAK_GLASS_POLICIES: [&str; 1] = ["AdministratorAccess"];

/// Issue 22's rules about the IAM-user population and the account.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PopulationRules {
    pub inventory: Option<InventoryRules>,
    pub break_glass: BreakGlassRules,
    /// `[users] require_tags`.
    pub require_tags: Vec<String>,
    /// `[users.access_keys] forbid_setup_keys`.
    pub forbid_setup_keys: bool,
}

/// Issue 22's account-level controls.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AccountControlRules {
    pub require_security_contact: bool,
    /// Sorted, without duplicates.
    pub access_analyzer_regions: Vec<String>,
    pub forbid_cloudshell_full_access: bool,
    pub forbid_service_wildcards: bool,
    /// `[organization] require_root_credentials_management`.
    pub require_root_credentials_management: bool,
}

impl PopulationRules {
    /// Whether a rule of the population reads the users.
    pub fn concerns_users(&self) -> bool {
        self.inventory.is_some()
            || !self.break_glass.users.is_empty()
            || !self.require_tags.is_empty()
            || self.forbid_setup_keys
    }
}

impl CredentialRules {
    /// Whether a table is about users' credentials (server certificates are the account's).
    pub fn concerns_users(&self) -> bool {
        self.service_credentials.is_some()
            || self.ssh_keys.is_some()
            || self.signing_certificates.is_some()
            || self.mfa_all_users
    }

    pub(super) fn resolve(users: &UsersSpec, servers: Option<&ServerCertificatesSpec>) -> Self {
        Self {
            service_credentials: users.service_credentials.as_ref().map(|s| {
                ServiceCredentialRules {
                    max_age_days: s.max_age_days,
                    on_expired: CredentialAction::of(s.on_expired),
                    allowed_services: s.allowed_services.clone(),
                    on_forbidden_service: CredentialAction::of(s.on_forbidden_service),
                    require_expiry_days: s.require_expiry_days,
                    delete_inactive: s.delete_inactive.unwrap_or(false),
                    delete_inactive_after_days: s.delete_inactive_after_days.unwrap_or(0),
                    notice_days: s.notice_days,
                }
            }),
            ssh_keys: users.ssh_keys.as_ref().map(|s| SshKeyRules {
                max_age_days: s.max_age_days,
                on_expired: CredentialAction::of(s.on_expired),
                delete_inactive: s.delete_inactive.unwrap_or(false),
                delete_inactive_after_days: s.delete_inactive_after_days.unwrap_or(0),
                notice_days: s.notice_days,
            }),
            signing_certificates: users.signing_certificates.as_ref().map(|s| {
                SigningCertificateRules {
                    forbid: s.forbid.unwrap_or(false),
                    on_forbidden: CredentialAction::of(s.on_forbidden),
                }
            }),
            mfa_all_users: users
                .mfa
                .as_ref()
                .and_then(|m| m.all_users)
                .unwrap_or(false),
            server_certificates_delete_expired_after_days: servers
                .map(|s| s.delete_expired_after_days.unwrap_or(0)),
        }
    }
}

impl PopulationRules {
    pub(super) fn resolve(users: &UsersSpec, user_specs: &[UserSpec]) -> Self {
        let mut break_glass_users: Vec<String> = user_specs
            .iter()
            .filter(|u| u.break_glass == Some(true))
            .map(|u| u.name.clone())
            .collect();
        break_glass_users.sort();
        break_glass_users.dedup();
        let glass = users.break_glass.clone().unwrap_or_default();
        Self {
            inventory: users.inventory.as_ref().map(|i| InventoryRules {
                allowed: i.allowed.clone().unwrap_or_default(),
                on_unlisted: i.on_unlisted.unwrap_or_default(),
                notice_days: i.notice_days,
                exceptions: users
                    .exception
                    .iter()
                    .flatten()
                    .map(|e| UserException {
                        name: e.name.clone(),
                        owner: e.owner.clone(),
                        reason: e.reason.clone(),
                        expires: e.expires,
                    })
                    .collect(),
            }),
            break_glass: BreakGlassRules {
                users: break_glass_users,
                on_access_key: CredentialAction::of(glass.on_access_key),
                max_used_days: glass
                    .max_used_days
                    .unwrap_or(DEFAULT_BREAK_GLASS_MAX_USED_DAYS),
                allowed_policies: glass
                    .allowed_policies
                    .unwrap_or_else(|| DEFAULT_BREAK_GLASS_POLICIES.map(str::to_owned).to_vec()),
            },
            require_tags: users.require_tags.clone().unwrap_or_default(),
            forbid_setup_keys: users
                .access_keys
                .as_ref()
                .and_then(|k| k.forbid_setup_keys)
                .unwrap_or(false),
        }
    }
}

impl AccountControlRules {
    pub(super) fn resolve(audit: Option<&AuditSpec>, org: Option<&OrganizationSpec>) -> Self {
        let flag = |get: fn(&AuditSpec) -> Option<bool>| audit.and_then(get).unwrap_or(false);
        let mut regions = audit
            .and_then(|a| a.access_analyzer_regions.clone())
            .unwrap_or_default();
        regions.sort();
        regions.dedup();
        Self {
            require_security_contact: flag(|a| a.require_security_contact),
            access_analyzer_regions: regions,
            forbid_cloudshell_full_access: flag(|a| a.forbid_cloudshell_full_access),
            forbid_service_wildcards: flag(|a| a.forbid_service_wildcards),
            require_root_credentials_management: org
                .and_then(|o| o.require_root_credentials_management)
                .unwrap_or(false),
        }
    }
}
