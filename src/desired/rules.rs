//! The rules of one target, resolved: the target's own tables laid over the top-level ones
//! field by field, defaults filled in. These are the plain values the engine reads.

use std::collections::{BTreeMap, BTreeSet};

use globset::{GlobBuilder, GlobSet, GlobSetBuilder};

use super::credential_rules::{AccountControlRules, CredentialRules, PopulationRules};
use super::model::*;
use crate::state::{AccessKeyId, PasswordPolicy, User};

/// What the target's password policy must be.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PolicyRule {
    Present(PasswordPolicy),
    Absent,
}

/// Users that no rule touches or reports.
#[derive(Debug, Clone, Default)]
pub struct Exemptions {
    patterns: Vec<String>,
    globs: GlobSet,
    tags: BTreeMap<String, String>,
}

impl Exemptions {
    /// Fails on a malformed glob; `validate` reports that with its location first.
    pub fn new(
        patterns: Vec<String>,
        tags: BTreeMap<String, String>,
    ) -> Result<Self, globset::Error> {
        let mut builder = GlobSetBuilder::new();
        for pattern in &patterns {
            // IAM user names are unique regardless of case, so exemptions match that way too.
            builder.add(GlobBuilder::new(pattern).case_insensitive(true).build()?);
        }
        Ok(Self {
            globs: builder.build()?,
            patterns,
            tags,
        })
    }

    pub fn is_exempt(&self, user: &User) -> bool {
        self.globs.is_match(&user.name)
            || self
                .tags
                .iter()
                .any(|(key, value)| user.tags.get(key) == Some(value))
    }

    pub fn patterns(&self) -> &[String] {
        &self.patterns
    }
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ConsoleRules {
    pub require_mfa: bool,
    pub without_mfa: WithoutMfa,
    pub max_unused_days: Option<i64>,
    pub on_unused: OnUnusedConsole,
    pub reset_on_policy_tightening: bool,
    /// Login profiles younger than this are not acted on for missing MFA.
    pub mfa_grace_days: Option<i64>,
    pub notice_days: Option<i64>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AccessKeyRules {
    pub max_age_days: Option<i64>,
    pub on_expired: KeyAction,
    pub max_unused_days: Option<i64>,
    pub on_unused: KeyAction,
    pub delete_inactive: bool,
    /// Days a key stays inactive before `delete_inactive` deletes it.
    pub delete_inactive_after_days: i64,
    pub max_active: Option<i64>,
    pub notice_days: Option<i64>,
    /// `[users.access_keys.rotation]`: where rotation delivers new keys.
    pub rotation: Option<RotationRules>,
}

/// `[users.access_keys.rotation]`, defaults filled in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RotationRules {
    /// The template, placeholders unresolved (`plan::rotation::secret_name` fills them).
    pub secret_name: String,
    pub overlap_days: i64,
    pub kms_key_id: Option<String>,
    pub readers: Vec<String>,
}

/// Who answers for a user: the value of the user's `tag`, else `default`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Owners {
    pub tag: Option<String>,
    pub default: Option<String>,
}

impl Owners {
    pub fn of(&self, user: &User) -> Option<String> {
        self.tag
            .as_ref()
            .and_then(|tag| user.tags.get(tag))
            .filter(|owner| !owner.is_empty())
            .or(self.default.as_ref())
            .cloned()
    }
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct UserRule {
    pub name: String,
    pub console: Option<bool>,
    pub password_reset_required: bool,
}

/// Everything the engine needs to know about what one target should look like.
#[derive(Debug, Clone, Default)]
pub struct Rules {
    /// `None`: the password policy is not managed.
    pub password_policy: Option<PolicyRule>,
    pub exemptions: Exemptions,
    pub owners: Owners,
    pub console: ConsoleRules,
    pub access_keys: AccessKeyRules,
    /// Sorted by name, one entry per user.
    pub users: Vec<UserRule>,
    pub require_cloudtrail: bool,
    /// `[audit.cloudtrail] create`: the trail `apply` creates when none qualifies.
    pub cloudtrail_create: Option<TrailCreateSpec>,
    /// `[root]`, `[users] forbid_direct_policies`, `[audit] forbid_full_admin_policies` and
    /// `require_support_role`: the CIS rules that only report.
    pub compliance: ComplianceRules,
    /// `apply --rotate-now user.NAME.access_key.AKID`: keys to rotate whatever their age. Not
    /// desired state: set for one run by the command.
    pub rotate_now: BTreeSet<(String, AccessKeyId)>,
    /// Issue 21's credential tables.
    pub credentials: CredentialRules,
    /// Issue 22's inventory, exceptions, break-glass users, required tags, setup keys.
    pub population: PopulationRules,
    /// Issue 22's account controls, and `[organization]`'s root-access rule.
    pub account_controls: AccountControlRules,
}

/// The rules that only report (SPEC "Compliance coverage").
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ComplianceRules {
    pub root_forbid_access_keys: bool,
    pub root_require_mfa: bool,
    pub root_require_hardware_mfa: bool,
    pub root_max_used_days: Option<i64>,
    pub forbid_direct_policies: bool,
    pub forbid_full_admin_policies: bool,
    pub require_support_role: bool,
}

impl ComplianceRules {
    /// Some `[root]` rule is written: the root user is read.
    pub fn reads_root(&self) -> bool {
        self.root_forbid_access_keys
            || self.root_require_mfa
            || self.root_require_hardware_mfa
            || self.root_max_used_days.is_some()
    }

    /// Users' policies are read (their inline policies and what their policies allow).
    pub fn reads_user_policies(&self) -> bool {
        self.forbid_direct_policies || self.forbid_full_admin_policies
    }

    /// Groups are read.
    pub fn reads_groups(&self) -> bool {
        self.forbid_full_admin_policies
    }

    /// Roles are read.
    pub fn reads_roles(&self) -> bool {
        self.forbid_full_admin_policies || self.require_support_role
    }
}

impl Rules {
    pub fn user_rule(&self, name: &str) -> Option<&UserRule> {
        self.users
            .binary_search_by(|rule| rule.name.as_str().cmp(name))
            .ok()
            .map(|i| &self.users[i])
    }

    /// True when some rule looks at users at all; when none does, a plan reads no user data.
    pub fn concerns_users(&self) -> bool {
        self.console != ConsoleRules::default()
            || self.access_keys != AccessKeyRules::default()
            || !self.users.is_empty()
            || !self.rotate_now.is_empty()
            || self.compliance.reads_user_policies()
            || self.credentials.concerns_users()
            || self.population.concerns_users()
            || self.account_controls.forbid_cloudshell_full_access
            || matches!(&self.password_policy, Some(PolicyRule::Present(_)) if self.console.reset_on_policy_tightening)
    }
}

/// Lays `over` on `base` field by field: a field set in `over` wins.
pub trait Overlay: Sized {
    fn overlay(self, over: Self) -> Self;
}

impl<T: Overlay> Overlay for Option<T> {
    fn overlay(self, over: Self) -> Self {
        match (self, over) {
            (Some(base), Some(over)) => Some(base.overlay(over)),
            (base, over) => over.or(base),
        }
    }
}

macro_rules! overlay_fields {
    ($ty:ty { $($field:ident),* $(,)? }) => {
        impl Overlay for $ty {
            fn overlay(self, over: Self) -> Self {
                Self { $($field: over.$field.or(self.$field)),* }
            }
        }
    };
}

overlay_fields!(PasswordPolicySpec {
    ensure,
    minimum_length,
    require_uppercase,
    require_lowercase,
    require_numbers,
    require_symbols,
    allow_users_to_change,
    max_age_days,
    reuse_prevention,
    hard_expiry,
});
overlay_fields!(ConsoleSpec {
    require_mfa,
    without_mfa,
    max_unused_days,
    on_unused,
    reset_on_policy_tightening,
    mfa_grace_days,
    notice_days,
});
overlay_fields!(RotationSpec {
    secret_name,
    overlap_days,
    kms_key_id,
    readers,
});

impl Overlay for AccessKeysSpec {
    fn overlay(self, over: Self) -> Self {
        Self {
            max_age_days: over.max_age_days.or(self.max_age_days),
            on_expired: over.on_expired.or(self.on_expired),
            max_unused_days: over.max_unused_days.or(self.max_unused_days),
            on_unused: over.on_unused.or(self.on_unused),
            delete_inactive: over.delete_inactive.or(self.delete_inactive),
            delete_inactive_after_days: over
                .delete_inactive_after_days
                .or(self.delete_inactive_after_days),
            max_active: over.max_active.or(self.max_active),
            notice_days: over.notice_days.or(self.notice_days),
            rotation: self.rotation.overlay(over.rotation),
            forbid_setup_keys: over.forbid_setup_keys.or(self.forbid_setup_keys),
        }
    }
}
overlay_fields!(AuditSpec {
    require_cloudtrail,
    cloudtrail,
    forbid_full_admin_policies,
    require_support_role,
    require_security_contact,
    access_analyzer_regions,
    forbid_cloudshell_full_access,
    forbid_service_wildcards,
});
overlay_fields!(ServiceCredentialsSpec {
    max_age_days,
    on_expired,
    allowed_services,
    on_forbidden_service,
    require_expiry_days,
    delete_inactive,
    delete_inactive_after_days,
    notice_days,
});
overlay_fields!(SshKeysSpec {
    max_age_days,
    on_expired,
    delete_inactive,
    delete_inactive_after_days,
    notice_days,
});
overlay_fields!(SigningCertificatesSpec {
    forbid,
    on_forbidden
});
overlay_fields!(MfaSpec { all_users });
overlay_fields!(InventorySpec {
    allowed,
    on_unlisted,
    notice_days
});
overlay_fields!(BreakGlassSpec {
    on_access_key,
    max_used_days,
    allowed_policies
});
overlay_fields!(ServerCertificatesSpec {
    delete_expired_after_days
});
overlay_fields!(RootSpec {
    forbid_access_keys,
    require_mfa,
    require_hardware_mfa,
    max_used_days,
});

impl Overlay for UsersSpec {
    fn overlay(self, over: Self) -> Self {
        Self {
            exempt: over.exempt.or(self.exempt),
            exempt_tags: over.exempt_tags.or(self.exempt_tags),
            console: self.console.overlay(over.console),
            access_keys: self.access_keys.overlay(over.access_keys),
            owner_tag: over.owner_tag.or(self.owner_tag),
            default_owner: over.default_owner.or(self.default_owner),
            forbid_direct_policies: over.forbid_direct_policies.or(self.forbid_direct_policies),
            require_tags: over.require_tags.or(self.require_tags),
            service_credentials: self.service_credentials.overlay(over.service_credentials),
            ssh_keys: self.ssh_keys.overlay(over.ssh_keys),
            signing_certificates: self.signing_certificates.overlay(over.signing_certificates),
            mfa: self.mfa.overlay(over.mfa),
            inventory: self.inventory.overlay(over.inventory),
            // A target's own exceptions replace the top-level list, as `exempt` does.
            exception: over.exception.or(self.exception),
            break_glass: self.break_glass.overlay(over.break_glass),
        }
    }
}

impl Overlay for UserSpec {
    fn overlay(self, over: Self) -> Self {
        Self {
            name: over.name,
            console: over.console.or(self.console),
            password_reset_required: over
                .password_reset_required
                .or(self.password_reset_required),
            break_glass: over.break_glass.or(self.break_glass),
        }
    }
}

/// Converts a validated range-checked day count or length to the IAM type.
fn as_u32(value: i64) -> u32 {
    u32::try_from(value).expect("validated before resolution")
}

impl PasswordPolicySpec {
    pub fn resolve(&self) -> PolicyRule {
        if self.ensure == Some(Ensure::Absent) {
            return PolicyRule::Absent;
        }
        let default = PasswordPolicy::iam_default();
        PolicyRule::Present(PasswordPolicy {
            minimum_length: self.minimum_length.map_or(default.minimum_length, as_u32),
            require_uppercase: self.require_uppercase.unwrap_or(false),
            require_lowercase: self.require_lowercase.unwrap_or(false),
            require_numbers: self.require_numbers.unwrap_or(false),
            require_symbols: self.require_symbols.unwrap_or(false),
            allow_users_to_change: self.allow_users_to_change.unwrap_or(false),
            max_age_days: self.max_age_days.map(as_u32),
            reuse_prevention: self.reuse_prevention.map(as_u32),
            hard_expiry: self.hard_expiry.unwrap_or(false),
        })
    }
}

impl DesiredDoc {
    /// The rules of `target` (one of `self.account`, or `None` for the implicit `default`
    /// target). The document must have passed validation.
    pub fn rules_for(&self, target: Option<&AccountSpec>) -> Rules {
        let (policy, users, audit, own_users) = match target {
            Some(account) => (
                self.password_policy
                    .clone()
                    .overlay(account.password_policy.clone()),
                self.users.clone().overlay(account.users.clone()),
                self.audit.clone().overlay(account.audit.clone()),
                account.user.as_slice(),
            ),
            None => (
                self.password_policy.clone(),
                self.users.clone(),
                self.audit.clone(),
                &[][..],
            ),
        };
        let root = self
            .root
            .clone()
            .overlay(target.and_then(|a| a.root.clone()))
            .unwrap_or_default();
        let compliance = ComplianceRules {
            root_forbid_access_keys: root.forbid_access_keys.unwrap_or(false),
            root_require_mfa: root.require_mfa.unwrap_or(false),
            root_require_hardware_mfa: root.require_hardware_mfa.unwrap_or(false),
            root_max_used_days: root.max_used_days,
            forbid_direct_policies: users
                .as_ref()
                .and_then(|u| u.forbid_direct_policies)
                .unwrap_or(false),
            forbid_full_admin_policies: audit
                .as_ref()
                .and_then(|a| a.forbid_full_admin_policies)
                .unwrap_or(false),
            require_support_role: audit
                .as_ref()
                .and_then(|a| a.require_support_role)
                .unwrap_or(false),
        };
        let users = users.unwrap_or_default();
        let server_certificates = self
            .server_certificates
            .clone()
            .overlay(target.and_then(|a| a.server_certificates.clone()));
        let credentials = CredentialRules::resolve(&users, server_certificates.as_ref());
        let account_controls =
            AccountControlRules::resolve(audit.as_ref(), self.organization.as_ref());
        let console = users.console.clone().unwrap_or_default();
        let keys = users.access_keys.clone().unwrap_or_default();

        let mut user_specs: BTreeMap<String, UserSpec> = BTreeMap::new();
        for spec in self.user.iter().chain(own_users) {
            let merged = match user_specs.remove(&spec.name) {
                Some(base) => base.overlay(spec.clone()),
                None => spec.clone(),
            };
            user_specs.insert(spec.name.clone(), merged);
        }

        let merged_user_specs: Vec<UserSpec> = user_specs.values().cloned().collect();
        let population = PopulationRules::resolve(&users, &merged_user_specs);
        Rules {
            password_policy: policy.as_ref().map(PasswordPolicySpec::resolve),
            exemptions: Exemptions::new(
                users.exempt.unwrap_or_default(),
                users.exempt_tags.unwrap_or_default(),
            )
            .expect("globs validated before resolution"),
            owners: Owners {
                tag: users.owner_tag.clone(),
                default: users.default_owner.clone(),
            },
            console: ConsoleRules {
                require_mfa: console.require_mfa.unwrap_or(false),
                without_mfa: console.without_mfa.unwrap_or_default(),
                max_unused_days: console.max_unused_days,
                on_unused: console.on_unused.unwrap_or_default(),
                reset_on_policy_tightening: console.reset_on_policy_tightening.unwrap_or(false),
                mfa_grace_days: console.mfa_grace_days,
                notice_days: console.notice_days,
            },
            access_keys: AccessKeyRules {
                max_age_days: keys.max_age_days,
                on_expired: keys.on_expired.unwrap_or_default(),
                max_unused_days: keys.max_unused_days,
                on_unused: keys.on_unused.unwrap_or_default(),
                delete_inactive: keys.delete_inactive.unwrap_or(false),
                delete_inactive_after_days: keys.delete_inactive_after_days.unwrap_or(0),
                max_active: keys.max_active,
                notice_days: keys.notice_days,
                rotation: keys.rotation.map(|r| RotationRules {
                    secret_name: r
                        .secret_name
                        .unwrap_or_else(|| DEFAULT_SECRET_NAME.to_owned()),
                    overlap_days: r.overlap_days.unwrap_or(DEFAULT_OVERLAP_DAYS),
                    kms_key_id: r.kms_key_id,
                    readers: r.readers.unwrap_or_default(),
                }),
            },
            users: user_specs
                .into_values()
                .map(|spec| UserRule {
                    name: spec.name,
                    console: spec.console,
                    password_reset_required: spec.password_reset_required.unwrap_or(false),
                })
                .collect(),
            require_cloudtrail: audit
                .as_ref()
                .and_then(|a| a.require_cloudtrail)
                .unwrap_or(false),
            cloudtrail_create: audit.and_then(|a| a.cloudtrail).and_then(|c| c.create),
            compliance,
            rotate_now: BTreeSet::new(),
            credentials,
            population,
            account_controls,
        }
    }
}
