//! The IAM credential report: one bulk read of every user's console, MFA and key facts.
//! It is cheap, but IAM serves the same one for up to four hours and it has neither access
//! key ids nor `PasswordResetRequired`, so a plan read only uses it to choose which users to
//! read directly (see `concern.rs`), never as the ground of a change.

use std::collections::{BTreeMap, BTreeSet};
use std::time::{Duration, Instant};

use aws_sdk_iam::types::ReportStateType;
use chrono::{DateTime, Utc};

use super::to_utc;
use crate::aws::{AccountClients, AwsError, ErrorCode, call};
use crate::permissions::{GENERATE_CREDENTIAL_REPORT, GET_CREDENTIAL_REPORT, Permission};
use crate::state::{AccessKey, KeyId, KeyStatus, LoginProfile, MfaDevice, RootUsage, User};

/// The serial of the MFA device standing for the report's `mfa_active = true`.
pub const PLACEHOLDER_MFA_SERIAL: &str = "report-mfa";

/// The report's row for the account root user, which is not an IAM user.
const ROOT_ROW: &str = "<root_account>";

/// Generating a report takes IAM seconds for small accounts and can take minutes for large
/// ones. Waits double from the first to the longest, within the deadline.
const FIRST_WAIT: Duration = Duration::from_millis(500);
const LONGEST_WAIT: Duration = Duration::from_secs(8);
const DEADLINE: Duration = Duration::from_secs(300);

/// One access key column group (`access_key_1_*` or `access_key_2_*`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ReportKey {
    /// 1 or 2: the report's column group.
    pub slot: u8,
    pub active: bool,
    /// `access_key_N_last_rotated`: when the key was created.
    pub created: DateTime<Utc>,
    pub last_used: Option<DateTime<Utc>>,
}

/// One signing certificate column group (`cert_1_*` or `cert_2_*`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ReportCertificate {
    /// 1 or 2: the report's column group.
    pub slot: u8,
    pub active: bool,
    /// `cert_N_last_rotated`: when the certificate was uploaded.
    pub uploaded: DateTime<Utc>,
}

/// One user's row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ReportRow {
    pub user: String,
    pub user_creation_time: Option<DateTime<Utc>>,
    pub password_enabled: bool,
    pub password_last_used: Option<DateTime<Utc>>,
    /// When the console password was last set: the login profile was created then or
    /// earlier (a profile is created with its password).
    pub password_last_changed: Option<DateTime<Utc>>,
    pub mfa_active: bool,
    pub keys: Vec<ReportKey>,
    /// Signing certificates (empty when the report has no `cert_N_*` columns).
    pub certificates: Vec<ReportCertificate>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct CredentialReport {
    pub generated_at: Option<DateTime<Utc>>,
    rows: BTreeMap<String, ReportRow>,
    /// The `<root_account>` row's last use (IAM's first row; moto's report has none).
    pub root: Option<RootUsage>,
}

impl CredentialReport {
    pub fn row(&self, user: &str) -> Option<&ReportRow> {
        self.rows.get(user)
    }

    /// Lays the report's facts over users read from `GetAccountAuthorizationDetails` and
    /// returns the names of the users it knows. A row whose creation time differs from the
    /// user's is of an earlier user of the same name, deleted and created again since the
    /// report was generated: it is not used.
    pub fn apply_to(&self, users: &mut [User]) -> BTreeSet<String> {
        let mut known = BTreeSet::new();
        for user in users.iter_mut() {
            let Some(row) = self.rows.get(&user.name) else {
                continue;
            };
            if row
                .user_creation_time
                .is_some_and(|t| t.timestamp() != user.created.timestamp())
            {
                continue;
            }
            row.apply_to(user);
            known.insert(user.name.clone());
        }
        known
    }
}

impl ReportRow {
    /// The latest the user's login profile can have been created: when its password was
    /// last set. None without a password or a date, or with a date before the user's
    /// creation (which cannot be this user's).
    pub fn password_dated_profile(&self, user: &User) -> Option<DateTime<Utc>> {
        self.password_last_changed
            .filter(|t| self.password_enabled && *t >= user.created)
    }

    /// The report's facts as the user's provisional state. The report has no login profile
    /// date, but bounds it: no older than the user, no younger than its password. The
    /// profile is dated at the password ([`ReportRow::password_dated_profile`]): an
    /// unused-password finding made with that date holds for any older profile too, and
    /// users that the older bound would flag are confirmed (`concern::profile_doubts`).
    /// Without a password date it is dated at the user's creation, the date that flags
    /// more, so that no candidate is missed. `PasswordResetRequired`, which the report
    /// lacks, is taken as unset.
    fn apply_to(&self, user: &mut User) {
        user.login_profile = self.password_enabled.then_some(LoginProfile {
            created: self.password_dated_profile(user).unwrap_or(user.created),
            password_reset_required: false,
        });
        user.password_last_used = self.password_last_used;
        user.mfa_devices = if self.mfa_active {
            vec![MfaDevice {
                serial: PLACEHOLDER_MFA_SERIAL.into(),
                enabled_at: None,
                kind: None,
            }]
        } else {
            vec![]
        };
        user.access_keys = self
            .keys
            .iter()
            .map(|key| AccessKey {
                // The report has no key ids: the key is known by its column only, and no plan
                // item can be addressed by it until the user's keys are listed.
                id: KeyId::ReportSlot(key.slot),
                status: if key.active {
                    KeyStatus::Active
                } else {
                    KeyStatus::Inactive
                },
                created: key.created,
                last_used: key.last_used,
            })
            .collect();
    }
}

/// Gets a current report: asks IAM to generate one (IAM answers at once when its last one is
/// under four hours old), waits while it is in progress, and parses it.
pub(crate) async fn fetch(clients: &AccountClients) -> Result<CredentialReport, AwsError> {
    let account = clients.target.as_str();
    let mut waiter = Waiter {
        started: Instant::now(),
        next: FIRST_WAIT,
        account,
    };
    let mut generate = true;
    loop {
        if generate {
            let request = clients.iam.generate_credential_report().send();
            match call(account, GENERATE_CREDENTIAL_REPORT, request).await {
                Ok(out) => {
                    generate = false;
                    if out.state() != Some(&ReportStateType::Complete) {
                        waiter
                            .wait(GENERATE_CREDENTIAL_REPORT, "the report is being generated")
                            .await?;
                    }
                }
                // Too many generations requested at once (other tools, other iamctl runs).
                Err(err) if err.is(ErrorCode::LimitExceeded) => {
                    waiter
                        .wait(GENERATE_CREDENTIAL_REPORT, &err.to_string())
                        .await?;
                }
                Err(err) => return Err(err),
            }
            continue;
        }
        let request = clients.iam.get_credential_report().send();
        match call(account, GET_CREDENTIAL_REPORT, request).await {
            Ok(out) => {
                let content = out.content().map(|blob| blob.as_ref()).unwrap_or_default();
                let mut report = parse(content).map_err(|message| {
                    AwsError::new(
                        account,
                        GET_CREDENTIAL_REPORT.action,
                        format!("malformed credential report: {message}"),
                    )
                })?;
                report.generated_at = out.generated_time().map(to_utc);
                return Ok(report);
            }
            Err(err) if err.is(ErrorCode::ReportInProgress) => {
                waiter
                    .wait(GET_CREDENTIAL_REPORT, "the report is being generated")
                    .await?;
            }
            Err(err) if err.is(ErrorCode::ReportNotPresent) || err.is(ErrorCode::ReportExpired) => {
                // Gone between generation and reading (or expired): generate again.
                generate = true;
                waiter.wait(GET_CREDENTIAL_REPORT, &err.to_string()).await?;
            }
            Err(err) => return Err(err),
        }
    }
}

struct Waiter<'a> {
    started: Instant,
    next: Duration,
    account: &'a str,
}

impl Waiter<'_> {
    async fn wait(&mut self, operation: Permission, why: &str) -> Result<(), AwsError> {
        if self.started.elapsed() + self.next > DEADLINE {
            return Err(AwsError::new(
                self.account,
                operation.action,
                format!(
                    "the credential report was not ready within {} s ({why})",
                    DEADLINE.as_secs()
                ),
            ));
        }
        tokio::time::sleep(self.next).await;
        self.next = (self.next * 2).min(LONGEST_WAIT);
        Ok(())
    }
}

/// Column positions, found by name so that a column added by IAM does not shift the others.
struct Columns {
    user: usize,
    user_creation_time: usize,
    password_enabled: usize,
    password_last_used: usize,
    password_last_changed: usize,
    mfa_active: usize,
    keys: [KeyColumns; 2],
    /// `cert_N_active` and `cert_N_last_rotated`, when the report has them.
    certificates: Vec<(usize, usize)>,
}

struct KeyColumns {
    active: usize,
    last_rotated: usize,
    last_used_date: usize,
}

impl Columns {
    fn find(headers: &csv::StringRecord) -> Result<Self, String> {
        let index = |name: &str| {
            headers
                .iter()
                .position(|h| h.trim() == name)
                .ok_or_else(|| format!("no column {name:?}"))
        };
        let key = |n: u8| -> Result<KeyColumns, String> {
            Ok(KeyColumns {
                active: index(&format!("access_key_{n}_active"))?,
                last_rotated: index(&format!("access_key_{n}_last_rotated"))?,
                last_used_date: index(&format!("access_key_{n}_last_used_date"))?,
            })
        };
        Ok(Self {
            user: index("user")?,
            user_creation_time: index("user_creation_time")?,
            password_enabled: index("password_enabled")?,
            password_last_used: index("password_last_used")?,
            password_last_changed: index("password_last_changed")?,
            mfa_active: index("mfa_active")?,
            keys: [key(1)?, key(2)?],
            certificates: (1..=2)
                .map_while(|n| {
                    Some((
                        index(&format!("cert_{n}_active")).ok()?,
                        index(&format!("cert_{n}_last_rotated")).ok()?,
                    ))
                })
                .collect(),
        })
    }
}

/// Parses the report's CSV. Errors say which line and column.
pub(crate) fn parse(content: &[u8]) -> Result<CredentialReport, String> {
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(true)
        .from_reader(content);
    let headers = reader.headers().map_err(|e| e.to_string())?.clone();
    let columns = Columns::find(&headers)?;
    let mut rows = BTreeMap::new();
    let mut root = None;
    for record in reader.records() {
        let record = record.map_err(|e| e.to_string())?;
        let line = record.position().map_or(0, |p| p.line());
        let field = |index: usize| -> Result<&str, String> {
            record
                .get(index)
                .map(str::trim)
                .ok_or_else(|| format!("line {line}: no column {:?}", &headers[index]))
        };
        let at = |index: usize| format!("line {line}, column {:?}", &headers[index]);
        let date = |index: usize| -> Result<Option<DateTime<Utc>>, String> {
            parse_date(field(index)?)
                .map_err(|value| format!("{}: not a date: {value:?}", at(index)))
        };
        let flag = |index: usize| -> Result<bool, String> {
            parse_flag(field(index)?)
                .map_err(|value| format!("{}: not true/false: {value:?}", at(index)))
        };

        let user = field(columns.user)?;
        if user == ROOT_ROW {
            // The root user's last use: of its password or of either access key.
            let mut uses = vec![date(columns.password_last_used)?];
            for key in &columns.keys {
                uses.push(date(key.last_used_date)?);
            }
            root = Some(RootUsage {
                last_used: uses.into_iter().flatten().max(),
            });
            continue;
        }
        let mut keys = Vec::new();
        for (slot, key) in (1u8..).zip(&columns.keys) {
            // A slot without a rotation date holds no key (`N/A`); an inactive key keeps its date.
            let Some(created) = date(key.last_rotated)? else {
                continue;
            };
            keys.push(ReportKey {
                slot,
                active: flag(key.active)?,
                created,
                last_used: date(key.last_used_date)?,
            });
        }
        let mut certificates = Vec::new();
        for (slot, &(active, last_rotated)) in (1u8..).zip(&columns.certificates) {
            // As for keys: a slot without an upload date holds no certificate.
            let Some(uploaded) = date(last_rotated)? else {
                continue;
            };
            certificates.push(ReportCertificate {
                slot,
                active: flag(active)?,
                uploaded,
            });
        }
        let row = ReportRow {
            user: user.to_owned(),
            user_creation_time: date(columns.user_creation_time)?,
            password_enabled: flag(columns.password_enabled)?,
            password_last_used: date(columns.password_last_used)?,
            password_last_changed: date(columns.password_last_changed)?,
            mfa_active: flag(columns.mfa_active)?,
            keys,
            certificates,
        };
        rows.insert(row.user.clone(), row);
    }
    Ok(CredentialReport {
        generated_at: None,
        rows,
        root,
    })
}

/// Dates are ISO 8601 (`2024-05-01T12:00:00+00:00`); `N/A` (no such thing),
/// `no_information` (never used, or not since IAM began tracking) and `not_supported`
/// (the root row) mean no date.
fn parse_date(value: &str) -> Result<Option<DateTime<Utc>>, &str> {
    match value {
        "" | "N/A" | "no_information" | "not_supported" => Ok(None),
        _ => DateTime::parse_from_rfc3339(value)
            .map(|t| Some(t.with_timezone(&Utc)))
            .map_err(|_| value),
    }
}

fn parse_flag(value: &str) -> Result<bool, &str> {
    match value.to_ascii_lowercase().as_str() {
        "true" => Ok(true),
        "false" | "n/a" | "not_supported" => Ok(false),
        _ => Err(value),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const HEADER: &str = "user,arn,user_creation_time,password_enabled,password_last_used,password_last_changed,password_next_rotation,mfa_active,access_key_1_active,access_key_1_last_rotated,access_key_1_last_used_date,access_key_1_last_used_region,access_key_1_last_used_service,access_key_2_active,access_key_2_last_rotated,access_key_2_last_used_date,access_key_2_last_used_region,access_key_2_last_used_service,cert_1_active,cert_1_last_rotated,cert_2_active,cert_2_last_rotated";

    fn at(s: &str) -> DateTime<Utc> {
        s.parse().unwrap()
    }

    /// The layout real IAM serves, root row included.
    fn sample() -> String {
        [
            HEADER,
            "<root_account>,arn:aws:iam::123456789012:root,2019-01-01T00:00:00+00:00,not_supported,2024-04-01T10:00:00+00:00,not_supported,not_supported,true,false,N/A,N/A,N/A,N/A,false,N/A,N/A,N/A,N/A,false,N/A,false,N/A",
            "alice,arn:aws:iam::123456789012:user/alice,2020-02-03T04:05:06+00:00,true,2024-05-01T12:00:00+00:00,2020-02-03T04:10:00+00:00,N/A,true,true,2023-01-01T00:00:00+00:00,2024-05-02T00:00:00+00:00,us-east-1,s3,false,2021-06-01T00:00:00+00:00,N/A,N/A,N/A,false,N/A,false,N/A",
            "bob,arn:aws:iam::123456789012:user/bob,2021-01-01T00:00:00+00:00,false,N/A,N/A,N/A,false,false,N/A,N/A,N/A,N/A,false,N/A,N/A,N/A,N/A,false,N/A,false,N/A",
            "carol,arn:aws:iam::123456789012:user/carol,2021-01-01T00:00:00+00:00,true,no_information,2021-01-01T00:00:00+00:00,N/A,false,false,N/A,N/A,N/A,N/A,true,2022-01-01T00:00:00+00:00,N/A,N/A,N/A,false,N/A,false,N/A",
        ]
        .join("\n")
    }

    #[test]
    fn parses_rows_and_skips_the_root_account() {
        let report = parse(sample().as_bytes()).unwrap();
        assert!(report.row(ROOT_ROW).is_none());
        assert_eq!(
            report.root,
            Some(RootUsage {
                last_used: Some(at("2024-04-01T10:00:00Z"))
            })
        );
        let alice = report.row("alice").unwrap();
        assert_eq!(alice.user_creation_time, Some(at("2020-02-03T04:05:06Z")));
        assert!(alice.password_enabled && alice.mfa_active);
        assert_eq!(alice.password_last_used, Some(at("2024-05-01T12:00:00Z")));
        assert_eq!(
            alice.keys,
            [
                ReportKey {
                    slot: 1,
                    active: true,
                    created: at("2023-01-01T00:00:00Z"),
                    last_used: Some(at("2024-05-02T00:00:00Z"))
                },
                ReportKey {
                    slot: 2,
                    active: false,
                    created: at("2021-06-01T00:00:00Z"),
                    last_used: None
                },
            ]
        );
        let bob = report.row("bob").unwrap();
        assert!(!bob.password_enabled && bob.keys.is_empty() && bob.password_last_used.is_none());
        // A key only in the second column group keeps its slot number.
        let carol = report.row("carol").unwrap();
        assert_eq!(carol.keys.len(), 1);
        assert_eq!(carol.keys[0].slot, 2);
        assert_eq!(carol.password_last_used, None);
    }

    #[test]
    fn signing_certificates_come_from_the_cert_columns() {
        let text = format!(
            "{HEADER}\ndan,arn:aws:iam::123456789012:user/dan,2021-01-01T00:00:00+00:00,false,N/A,N/A,N/A,false,false,N/A,N/A,N/A,N/A,false,N/A,N/A,N/A,N/A,false,2022-03-04T05:06:07+00:00,true,2023-01-01T00:00:00+00:00"
        );
        let report = parse(text.as_bytes()).unwrap();
        assert_eq!(
            report.row("dan").unwrap().certificates,
            [
                ReportCertificate {
                    slot: 1,
                    active: false,
                    uploaded: at("2022-03-04T05:06:07Z")
                },
                ReportCertificate {
                    slot: 2,
                    active: true,
                    uploaded: at("2023-01-01T00:00:00Z")
                },
            ]
        );
        assert!(report.row("alice").is_none());
        let sample = parse(sample().as_bytes()).unwrap();
        assert!(sample.row("alice").unwrap().certificates.is_empty());
    }

    #[test]
    fn report_facts_become_placeholders() {
        let report = parse(sample().as_bytes()).unwrap();
        let mut users = vec![
            User::new("alice", at("2020-02-03T04:05:06Z")),
            // Same name as a report row, other creation time: a different user.
            User::new("bob", at("2025-01-01T00:00:00Z")),
        ];
        let known = report.apply_to(&mut users);
        assert_eq!(known.into_iter().collect::<Vec<_>>(), ["alice"]);
        let alice = &users[0];
        // The profile is dated at its password, the latest it can have been created.
        assert_eq!(
            alice.login_profile.as_ref().unwrap().created,
            at("2020-02-03T04:10:00Z")
        );
        assert_eq!(alice.mfa_devices[0].serial, PLACEHOLDER_MFA_SERIAL);
        let ids: Vec<_> = alice
            .access_keys
            .iter()
            .map(|k| (k.id.clone(), k.status))
            .collect();
        assert_eq!(
            ids,
            [
                (KeyId::ReportSlot(1), KeyStatus::Active),
                (KeyId::ReportSlot(2), KeyStatus::Inactive)
            ]
        );
    }

    #[test]
    fn a_profile_without_a_believable_password_date_is_as_old_as_the_user() {
        let report = parse(sample().as_bytes()).unwrap();
        let mut carol = report.row("carol").unwrap().clone();
        let mut user = User::new("carol", at("2021-01-01T00:00:00Z"));
        for password_date in [None, Some(at("2020-12-31T00:00:00Z"))] {
            carol.password_last_changed = password_date;
            assert_eq!(carol.password_dated_profile(&user), None);
            carol.apply_to(&mut user);
            assert_eq!(user.login_profile.as_ref().unwrap().created, user.created);
        }
        carol.password_enabled = false;
        carol.password_last_changed = Some(at("2021-02-01T00:00:00Z"));
        assert_eq!(carol.password_dated_profile(&user), None);
    }

    #[test]
    fn malformed_values_name_line_and_column() {
        let text = format!(
            "{HEADER}\nx,arn,yesterday,true,N/A,N/A,N/A,false,false,N/A,N/A,N/A,N/A,false,N/A,N/A,N/A,N/A,false,N/A,false,N/A"
        );
        let err = parse(text.as_bytes()).unwrap_err();
        assert_eq!(
            err,
            "line 2, column \"user_creation_time\": not a date: \"yesterday\""
        );
        let err = parse(b"user,arn\nx,y").unwrap_err();
        assert_eq!(err, "no column \"user_creation_time\"");
    }
}
