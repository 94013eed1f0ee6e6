//! The credentials a user can hold besides a console password and access keys, each kind
//! through the one lifecycle: service-specific credentials (`[users.service_credentials]`:
//! CodeCommit, Keyspaces, Bedrock API keys), SSH public keys (`[users.ssh_keys]`) and X.509
//! signing certificates (`[users.signing_certificates]`). A kind gives its facts, its policy
//! and what only it checks (a service not allowed, a Bedrock key without an expiry, a
//! forbidden certificate); [`Context::plan_held`] turns the lifecycle's verdicts into the same
//! changes, findings and notices for every kind. Also `[users.mfa] all_users`.

use super::{Context, Output, day};
use crate::desired::{
    CredentialAction, ServiceCredentialRules, SigningCertificateRules, SshKeyRules,
};
use crate::plan::address::{Action, Address};
use crate::plan::change::{ChangeKind, CredentialFacts, CredentialStatus};
use crate::plan::lifecycle::{
    Credential, CredentialKind, Enforcement, Grace, Inactive, Lifecycle, Limit, Policy, Status,
    Verdict,
};
use crate::plan::records::UserRecords;
use crate::plan::rule::Rule;
use crate::state::{
    CredentialType, KeyStatus, ServiceCredential, ServiceCredentialStatus, SigningCertificate,
    SshPublicKey, User,
};

/// The service whose credentials are API keys that can expire (`require_expiry_days`).
pub(crate) const BEDROCK_SERVICE: &str = "bedrock.amazonaws.com";

impl Enforcement for CredentialAction {
    fn acts(self) -> bool {
        match self {
            CredentialAction::Report => false,
            CredentialAction::Deactivate | CredentialAction::Delete => true,
        }
    }
}

/// The plan keeps the strongest of what the rules flagging one credential ask.
fn strength(action: CredentialAction) -> u8 {
    match action {
        CredentialAction::Report => 0,
        CredentialAction::Deactivate => 1,
        CredentialAction::Delete => 2,
    }
}

pub(crate) struct ServiceCredentials;

impl CredentialKind for ServiceCredentials {
    type Action = CredentialAction;
    const NOUN: &'static str = "active service-specific credential";
    const CREATED: &'static str = "created";
}

pub(crate) struct SshKeys;

impl CredentialKind for SshKeys {
    type Action = CredentialAction;
    const NOUN: &'static str = "active SSH public key";
    const CREATED: &'static str = "uploaded";
}

pub(crate) struct SigningCertificates;

impl CredentialKind for SigningCertificates {
    type Action = CredentialAction;
    const NOUN: &'static str = "active signing certificate";
    const CREATED: &'static str = "uploaded";
}

/// What a rule of the kind's own (not a lifecycle limit) says of an active credential.
#[derive(Clone)]
struct Flag {
    rule: Rule,
    action: CredentialAction,
    message: String,
}

/// One credential of a kind, ready for [`Context::plan_held`].
struct Held {
    facts: CredentialFacts,
    /// Its name in messages: its id, and the service of a service credential.
    label: String,
    flags: Vec<Flag>,
    /// Upcoming actions of the kind's own rules (with their lifecycle), besides the policy's.
    own_lifecycle: Option<Lifecycle<ServiceCredentials>>,
}

fn credential(facts: &CredentialFacts) -> Credential {
    Credential {
        created: facts.created,
        // None of these kinds has a last use that IAM returns.
        last_used: None,
        status: match facts.status {
            CredentialStatus::Active => Status::Active,
            CredentialStatus::Inactive | CredentialStatus::Expired => Status::Inactive,
        },
        inactive_since: facts.inactive_since,
    }
}

fn key_status(status: KeyStatus) -> CredentialStatus {
    match status {
        KeyStatus::Active => CredentialStatus::Active,
        KeyStatus::Inactive => CredentialStatus::Inactive,
    }
}

fn policy(
    max_age: Option<(Rule, i64, CredentialAction)>,
    delete_inactive: Option<(Rule, i64)>,
    notice_days: Option<i64>,
) -> Policy<CredentialAction> {
    Policy {
        max_age: max_age.map(|(rule, days, action)| Limit { rule, days, action }),
        max_unused: None,
        notice_days,
        delete_inactive: delete_inactive.map(|(rule, days)| Grace { rule, days }),
    }
}

impl Context<'_> {
    /// Every table of the other credential kinds, for one user. A kind not read (`None`) has
    /// nothing to say: its table is not written.
    pub(super) fn plan_user_credentials(&self, user: &User, out: &mut Output) {
        let records = UserRecords::of(&user.tags);
        let credentials = &self.rules.credentials;
        if let (Some(rules), Some(held)) =
            (&credentials.service_credentials, &user.service_credentials)
        {
            self.plan_service_credentials(user, rules, held, &records, out);
        }
        if let (Some(rules), Some(held)) = (&credentials.ssh_keys, &user.ssh_public_keys) {
            self.plan_ssh_keys(user, rules, held, &records, out);
        }
        if let (Some(rules), Some(held)) = (
            &credentials.signing_certificates,
            &user.signing_certificates,
        ) {
            self.plan_signing_certificates(user, rules, held, &records, out);
        }
        if credentials.mfa_all_users && user.mfa_devices.is_empty() {
            let has = match (&user.login_profile, user.access_keys.is_empty()) {
                (Some(_), true) => "a console password",
                (Some(_), false) => "a console password and access keys",
                (None, false) => "access keys only",
                (None, true) => "no password or access key",
            };
            out.finding(
                Address::User(user.name.clone()),
                Rule::MfaAllUsers,
                format!("no MFA device ({has}); every IAM user must have MFA"),
            );
        }
    }

    fn plan_service_credentials(
        &self,
        user: &User,
        rules: &ServiceCredentialRules,
        held: &[ServiceCredential],
        records: &UserRecords,
        out: &mut Output,
    ) {
        let lifecycle = Lifecycle::<ServiceCredentials>::new(
            policy(
                rules
                    .max_age_days
                    .map(|days| (Rule::ServiceCredentialsMaxAge, days, rules.on_expired)),
                rules.delete_inactive.then_some((
                    Rule::ServiceCredentialsDeleteInactive,
                    rules.delete_inactive_after_days,
                )),
                rules.notice_days,
            ),
            self.as_of,
        );
        let items = held
            .iter()
            .filter(|c| CredentialType::is_id(&c.id))
            .map(|c| {
                let facts = CredentialFacts {
                    kind: CredentialType::ServiceCredential,
                    id: c.id.clone(),
                    status: match c.status {
                        ServiceCredentialStatus::Active => CredentialStatus::Active,
                        ServiceCredentialStatus::Inactive => CredentialStatus::Inactive,
                        ServiceCredentialStatus::Expired => CredentialStatus::Expired,
                    },
                    created: c.created,
                    service: Some(c.service.clone()),
                    inactive_since: records
                        .credential_inactive_since(CredentialType::ServiceCredential, &c.id),
                };
                let (flags, own_lifecycle) = self.service_credential_flags(rules, c);
                Held {
                    label: format!("{} ({})", c.id, c.service),
                    facts,
                    flags,
                    own_lifecycle,
                }
            })
            .collect();
        self.plan_held(
            user,
            CredentialType::ServiceCredential,
            lifecycle,
            items,
            records,
            out,
        );
    }

    fn plan_ssh_keys(
        &self,
        user: &User,
        rules: &SshKeyRules,
        held: &[SshPublicKey],
        records: &UserRecords,
        out: &mut Output,
    ) {
        let lifecycle = Lifecycle::<SshKeys>::new(
            policy(
                rules
                    .max_age_days
                    .map(|days| (Rule::SshKeysMaxAge, days, rules.on_expired)),
                rules.delete_inactive.then_some((
                    Rule::SshKeysDeleteInactive,
                    rules.delete_inactive_after_days,
                )),
                rules.notice_days,
            ),
            self.as_of,
        );
        let items = held
            .iter()
            .filter(|k| CredentialType::is_id(&k.id))
            .map(|k| Held {
                label: k.id.clone(),
                facts: CredentialFacts {
                    kind: CredentialType::SshKey,
                    id: k.id.clone(),
                    status: key_status(k.status),
                    created: k.uploaded,
                    service: None,
                    inactive_since: records
                        .credential_inactive_since(CredentialType::SshKey, &k.id),
                },
                flags: Vec::new(),
                own_lifecycle: None,
            })
            .collect();
        self.plan_held(user, CredentialType::SshKey, lifecycle, items, records, out);
    }

    fn plan_signing_certificates(
        &self,
        user: &User,
        rules: &SigningCertificateRules,
        held: &[SigningCertificate],
        records: &UserRecords,
        out: &mut Output,
    ) {
        // Certificates have no age or inactivity rules: `forbid` is all.
        let lifecycle = Lifecycle::<SigningCertificates>::new(policy(None, None, None), self.as_of);
        let mut items = Vec::new();
        for cert in held {
            let Some(id) = cert.id.iam() else {
                // Known only by the report's slot (the user was not listed): what the rule
                // asks waits for its id, and is said so rather than dropped.
                if rules.forbid && cert.status == KeyStatus::Active {
                    out.finding(
                        Address::User(user.name.clone()),
                        Rule::SigningCertificatesForbid,
                        format!(
                            "an active signing certificate uploaded {} (known only from the credential report: its id was not read, so nothing is done about it)",
                            day(cert.uploaded)
                        ),
                    );
                }
                continue;
            };
            if !CredentialType::is_id(id) {
                continue;
            }
            let flags = if rules.forbid && cert.status == KeyStatus::Active {
                vec![Flag {
                    rule: Rule::SigningCertificatesForbid,
                    action: rules.on_forbidden,
                    message: format!(
                        "active signing certificate uploaded {}: signing certificates are forbidden",
                        day(cert.uploaded)
                    ),
                }]
            } else {
                Vec::new()
            };
            items.push(Held {
                label: id.to_owned(),
                facts: CredentialFacts {
                    kind: CredentialType::SigningCertificate,
                    id: id.to_owned(),
                    status: key_status(cert.status),
                    created: cert.uploaded,
                    service: None,
                    inactive_since: None,
                },
                flags,
                own_lifecycle: None,
            });
        }
        self.plan_held(
            user,
            CredentialType::SigningCertificate,
            lifecycle,
            items,
            records,
            out,
        );
    }

    /// What only service credentials are held to: an allowed service, and a Bedrock API key's
    /// expiry. A key without an expiry within `require_expiry_days` of its creation is a
    /// finding, and once it is that old the lifecycle of `require_expiry_days` (an age limit of
    /// that many days, acting as `on_expired` asks) applies to it.
    fn service_credential_flags(
        &self,
        rules: &ServiceCredentialRules,
        credential: &crate::state::ServiceCredential,
    ) -> (Vec<Flag>, Option<Lifecycle<ServiceCredentials>>) {
        let mut flags = Vec::new();
        if credential.status != ServiceCredentialStatus::Active {
            return (flags, None);
        }
        if let Some(allowed) = &rules.allowed_services {
            if !allowed.iter().any(|s| s == &credential.service) {
                flags.push(Flag {
                    rule: Rule::ServiceCredentialsAllowedServices,
                    action: rules.on_forbidden_service,
                    message: format!(
                        "active credential for {}, which is not an allowed service ({})",
                        credential.service,
                        allowed.join(", ")
                    ),
                });
            }
        }
        let mut own = None;
        if let (Some(days), true) = (
            rules.require_expiry_days,
            credential.service == BEDROCK_SERVICE,
        ) {
            let limit = chrono::Duration::days(days);
            let lacking = match credential.expires {
                None => Some("no expiry".to_owned()),
                Some(expires) if expires - credential.created > limit => Some(format!(
                    "an expiry {} days after its creation",
                    (expires - credential.created).num_days()
                )),
                Some(_) => None,
            };
            if let Some(lacking) = lacking {
                let lifecycle = Lifecycle::<ServiceCredentials>::new(
                    policy(
                        Some((
                            Rule::ServiceCredentialsRequireExpiry,
                            days,
                            rules.on_expired,
                        )),
                        None,
                        rules.notice_days,
                    ),
                    self.as_of,
                );
                let facts = Credential {
                    created: credential.created,
                    last_used: None,
                    status: Status::Active,
                    inactive_since: None,
                };
                let breaches = lifecycle.breaches(&facts);
                if breaches.is_empty() {
                    flags.push(Flag {
                        rule: Rule::ServiceCredentialsRequireExpiry,
                        action: CredentialAction::Report,
                        message: format!(
                            "Bedrock API key with {lacking} (keys must expire within {days} days of creation)"
                        ),
                    });
                }
                flags.extend(breaches.into_iter().map(|breach| Flag {
                    rule: breach.rule,
                    action: breach.action,
                    message: format!("Bedrock API key with {lacking}: {}", breach.message),
                }));
                own = Some(lifecycle);
            }
        }
        (flags, own)
    }

    /// One kind's credentials through the lifecycle: the strongest of what flags an active one
    /// is done (or, for `report`, each flag is a finding); what falls due within
    /// `notice_days` is announced; an inactive one is recorded, announced and deleted after
    /// its grace; records that no longer hold are removed.
    fn plan_held<K: CredentialKind<Action = CredentialAction>>(
        &self,
        user: &User,
        kind: CredentialType,
        lifecycle: Lifecycle<K>,
        items: Vec<Held>,
        records: &UserRecords,
        out: &mut Output,
    ) {
        let address = |facts: &CredentialFacts| Address::Credential {
            user: user.name.clone(),
            kind: facts.kind,
            id: facts.id.clone(),
        };
        for item in &items {
            let facts = &item.facts;
            let state = credential(facts);
            match lifecycle.decide(&state) {
                Verdict::Inactive(verdict) => {
                    if let (Some(verdict), Some(grace)) =
                        (verdict, lifecycle.policy.delete_inactive)
                    {
                        self.plan_inactive_credential(
                            user,
                            facts,
                            &item.label,
                            grace.rule,
                            verdict,
                            out,
                        )
                    }
                }
                Verdict::Active {
                    breaches,
                    upcoming,
                    stale_record,
                } => {
                    let mut flags: Vec<Flag> = breaches
                        .into_iter()
                        .map(|breach| Flag {
                            rule: breach.rule,
                            action: breach.action,
                            message: breach.message,
                        })
                        .collect();
                    flags.extend(item.flags.iter().cloned());
                    // The strongest action wins; of equals, the first rule.
                    let strongest =
                        flags
                            .iter()
                            .fold(None, |best: Option<&Flag>, flag| match best {
                                Some(best) if strength(best.action) >= strength(flag.action) => {
                                    Some(best)
                                }
                                _ => Some(flag),
                            });
                    let acted = match strongest {
                        None => false,
                        Some(flag) if flag.action == CredentialAction::Report => {
                            for flag in &flags {
                                out.finding(address(facts), flag.rule, flag.message.clone());
                            }
                            false
                        }
                        Some(flag) => {
                            // What the user chose is what happens: `deactivate` deactivates,
                            // and `delete_inactive` deletes it after its grace, on a later run.
                            let kind = match flag.action {
                                CredentialAction::Delete => ChangeKind::DeleteCredential {
                                    user: user.name.clone(),
                                    credential: facts.clone(),
                                },
                                CredentialAction::Deactivate | CredentialAction::Report => {
                                    ChangeKind::DeactivateCredential {
                                        user: user.name.clone(),
                                        credential: facts.clone(),
                                        delete_on: lifecycle.delete_on_if_deactivated(),
                                    }
                                }
                            };
                            out.change(flag.rule, kind);
                            true
                        }
                    };
                    if acted {
                        continue;
                    }
                    let own_upcoming = item
                        .own_lifecycle
                        .map(|own| own.upcoming(&state))
                        .unwrap_or_default();
                    for due in upcoming.into_iter().chain(own_upcoming) {
                        let action = match due.action {
                            CredentialAction::Delete => Action::Delete,
                            CredentialAction::Deactivate | CredentialAction::Report => {
                                Action::Deactivate
                            }
                        };
                        out.notice(
                            address(facts),
                            due.rule,
                            due.due,
                            action,
                            format!(
                                "{} will be {} on {}: {}",
                                item.label,
                                action.past_participle(),
                                day(due.due),
                                due.why
                            ),
                        );
                    }
                    if let (Some(since), Some(grace)) =
                        (stale_record, lifecycle.policy.delete_inactive)
                    {
                        out.change(
                            grace.rule,
                            ChangeKind::ForgetInactiveCredential {
                                user: user.name.clone(),
                                kind: facts.kind,
                                id: facts.id.clone(),
                                since,
                            },
                        );
                    }
                }
            }
        }
        // Records of this kind's credentials that are gone: nothing left to time.
        let Some(grace) = lifecycle.policy.delete_inactive else {
            return;
        };
        for ((record_kind, id), since) in &records.credentials_inactive_since {
            if *record_kind == kind && !items.iter().any(|item| &item.facts.id == id) {
                out.change(
                    grace.rule,
                    ChangeKind::ForgetInactiveCredential {
                        user: user.name.clone(),
                        kind: *record_kind,
                        id: id.clone(),
                        since: *since,
                    },
                );
            }
        }
    }

    /// `delete_inactive` on an inactive (or expired) credential, as the lifecycle decided.
    fn plan_inactive_credential(
        &self,
        user: &User,
        facts: &CredentialFacts,
        label: &str,
        rule: Rule,
        verdict: Inactive,
        out: &mut Output,
    ) {
        let state = match facts.status {
            CredentialStatus::Expired => "expired",
            CredentialStatus::Active | CredentialStatus::Inactive => "inactive",
        };
        match verdict {
            Inactive::Waiting => {}
            Inactive::Delete => out.change(
                rule,
                ChangeKind::DeleteCredential {
                    user: user.name.clone(),
                    credential: facts.clone(),
                },
            ),
            Inactive::Record { delete_on } => out.change(
                rule,
                ChangeKind::RecordInactiveCredential {
                    user: user.name.clone(),
                    credential: facts.clone(),
                    delete_on,
                },
            ),
            Inactive::Notice { since, due } => out.notice(
                Address::Credential {
                    user: user.name.clone(),
                    kind: facts.kind,
                    id: facts.id.clone(),
                },
                rule,
                due,
                Action::Delete,
                format!(
                    "{label} will be deleted on {}: {state} since {}",
                    day(due),
                    day(since)
                ),
            ),
        }
    }
}

#[cfg(test)]
mod tests {
    use chrono::Duration;

    use crate::desired::{CredentialAction, Rules, ServiceCredentialRules, SshKeyRules};
    use crate::plan::{Action, ChangeKind, plan_account};
    use crate::state::{KeyStatus, ServiceCredentialStatus as S};
    use crate::testing::{account, as_of, user};

    const BEDROCK: &str = "bedrock.amazonaws.com";
    const CODECOMMIT: &str = "codecommit.amazonaws.com";

    fn service_rules(rules: ServiceCredentialRules) -> Rules {
        let mut out = Rules::default();
        out.credentials.service_credentials = Some(rules);
        out
    }

    /// `(address, action, rule)` of each change, and `(address, rule)` of each finding.
    fn items(rules: &Rules, state: &crate::state::AccountState) -> (Vec<String>, Vec<String>) {
        let plan = plan_account("t", rules, state, as_of());
        (
            plan.changes
                .iter()
                .map(|c| format!("{} {} {}", c.address(), c.action(), c.rule))
                .collect(),
            plan.findings
                .iter()
                .map(|f| format!("{} {}", f.address, f.rule_name()))
                .collect(),
        )
    }

    #[test]
    fn an_old_credential_is_acted_on_and_one_nearing_its_limit_announced() {
        let rules = service_rules(ServiceCredentialRules {
            max_age_days: Some(90),
            on_expired: CredentialAction::Deactivate,
            delete_inactive: true,
            delete_inactive_after_days: 14,
            notice_days: Some(7),
            ..Default::default()
        });
        let state = account([user("dev")
            .service_credential("ACCAOLD", CODECOMMIT, S::Active, 200, None)
            .service_credential("ACCASOON", CODECOMMIT, S::Active, 85, None)
            .service_credential("ACCANEW", CODECOMMIT, S::Active, 10, None)
            .build()]);
        let (changes, findings) = items(&rules, &state);
        assert_eq!(
            changes,
            [
                "user.dev.service_credential.ACCAOLD deactivate users.service_credentials.max_age_days"
            ]
        );
        assert_eq!(
            findings,
            ["user.dev.service_credential.ACCASOON users.service_credentials.max_age_days.notice"]
        );
        let plan = plan_account("t", &rules, &state, as_of());
        let ChangeKind::DeactivateCredential { delete_on, .. } = &plan.changes[0].kind else {
            panic!("{:?}", plan.changes[0]);
        };
        assert_eq!(*delete_on, Some(as_of() + Duration::days(14)));
        assert_eq!(
            plan.findings[0].notice.map(|n| (n.action, n.due)),
            Some((
                Action::Deactivate,
                as_of() - Duration::days(85) + Duration::days(90)
            ))
        );
    }

    #[test]
    fn expired_and_inactive_credentials_are_recorded_then_deleted_after_their_grace() {
        let rules = service_rules(ServiceCredentialRules {
            delete_inactive: true,
            delete_inactive_after_days: 14,
            ..Default::default()
        });
        let recorded = (as_of() - Duration::days(20)).to_rfc3339();
        let state = account([user("dev")
            .service_credential("ACCAEXPIRED", BEDROCK, S::Expired, 60, Some(-5))
            .service_credential("ACCAOFF", CODECOMMIT, S::Inactive, 60, None)
            .tag(
                "iamctl:inactive-since:service_credential:ACCAOFF",
                &recorded,
            )
            .tag(
                "iamctl:inactive-since:service_credential:ACCAGONE",
                &recorded,
            )
            .build()]);
        let (changes, _) = items(&rules, &state);
        assert_eq!(
            changes,
            [
                "user.dev.service_credential.ACCAEXPIRED tag users.service_credentials.delete_inactive",
                "user.dev.service_credential.ACCAOFF delete users.service_credentials.delete_inactive",
                "user.dev.service_credential.ACCAGONE untag users.service_credentials.delete_inactive",
            ]
        );
    }

    #[test]
    fn a_forbidden_service_and_a_bedrock_key_without_expiry_are_flagged_by_their_own_rules() {
        let rules = service_rules(ServiceCredentialRules {
            allowed_services: Some(vec![CODECOMMIT.into()]),
            on_forbidden_service: CredentialAction::Delete,
            require_expiry_days: Some(30),
            on_expired: CredentialAction::Deactivate,
            ..Default::default()
        });
        let state = account([
            user("a")
                .service_credential("ACCACASS", "cassandra.amazonaws.com", S::Active, 1, None)
                .build(),
            user("b")
                .service_credential("ACCAYOUNG", BEDROCK, S::Active, 3, None)
                .service_credential("ACCAOK", BEDROCK, S::Active, 3, Some(20))
                .build(),
            user("c")
                .service_credential("ACCALATE", BEDROCK, S::Active, 40, Some(300))
                .build(),
        ]);
        let mut allowed = rules.clone();
        allowed
            .credentials
            .service_credentials
            .as_mut()
            .unwrap()
            .allowed_services = Some(vec![
            CODECOMMIT.into(),
            BEDROCK.into(),
            "cassandra.amazonaws.com".into(),
        ]);
        let (changes, findings) = items(&allowed, &state);
        assert_eq!(
            changes,
            [
                "user.c.service_credential.ACCALATE deactivate users.service_credentials.require_expiry_days"
            ]
        );
        assert_eq!(
            findings,
            ["user.b.service_credential.ACCAYOUNG users.service_credentials.require_expiry_days"]
        );
        // The strongest action wins: delete, for a service not allowed.
        let (changes, _) = items(&rules, &state);
        assert!(
            changes.contains(
                &"user.a.service_credential.ACCACASS delete users.service_credentials.allowed_services".to_owned()
            ),
            "{changes:?}"
        );
    }

    #[test]
    fn ssh_keys_certificates_and_mfa_for_every_user() {
        let mut rules = Rules::default();
        rules.credentials.ssh_keys = Some(SshKeyRules {
            max_age_days: Some(365),
            on_expired: CredentialAction::Report,
            ..Default::default()
        });
        rules.credentials.signing_certificates = Some(crate::desired::SigningCertificateRules {
            forbid: true,
            on_forbidden: CredentialAction::Deactivate,
        });
        rules.credentials.mfa_all_users = true;
        let state = account([
            user("dev")
                .ssh_key("APKAOLD", KeyStatus::Active, 400)
                .ssh_key("APKAOFF", KeyStatus::Inactive, 900)
                .signing_certificate("CERTON", KeyStatus::Active, 10)
                .signing_certificate("CERTOFF", KeyStatus::Inactive, 10)
                .build(),
            user("safe").mfa().credentials_read().build(),
        ]);
        let (changes, findings) = items(&rules, &state);
        assert_eq!(
            changes,
            ["user.dev.signing_certificate.CERTON deactivate users.signing_certificates.forbid"]
        );
        assert_eq!(
            findings,
            [
                "user.dev.ssh_key.APKAOLD users.ssh_keys.max_age_days",
                "user.dev users.mfa.all_users",
            ]
        );
    }

    #[test]
    fn without_their_tables_nothing_is_said_of_the_other_kinds() {
        let state = account([user("dev")
            .service_credential("ACCAOLD", CODECOMMIT, S::Active, 900, None)
            .ssh_key("APKAOLD", KeyStatus::Active, 900)
            .build()]);
        let (changes, findings) = items(&Rules::default(), &state);
        assert!(changes.is_empty() && findings.is_empty());
    }
}
