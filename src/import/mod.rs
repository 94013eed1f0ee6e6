//! `iamctl import`, the adoption path: read one account (live, or from a snapshot) and write a
//! desired-state TOML that it already satisfies, so that `plan` right after is empty: the
//! exact password policy, the user rules the account meets today (with a week of headroom),
//! and every other rule commented out with what it would flag.
//!
//! `adopt` decides what the account meets, by asking the engine; `render` writes it as TOML.
//! The target comes from the same selection as every other command's (`fleet`).

mod adopt;
mod render;

use std::path::PathBuf;

use chrono::{DateTime, Utc};

pub use adopt::{
    AccessKeys, Adoption, CloudTrail, Console, DayLimit, DayVerdict, HEADROOM_DAYS,
    OtherCredentials, adopt,
};
pub use render::{Provenance, render};

use crate::aws::{ApiCalls, AwsError, ClientFactory, Target};
use crate::desired::{DesiredDoc, Rules};
use crate::fleet::{self, SelectError, TargetPlanInput};
use crate::live::snapshot::{self, SnapshotError};
use crate::live::{self, ReadScope};
use crate::state::AccountState;

/// Where the account is read from.
#[derive(Debug, Clone)]
pub enum Source {
    /// Live IAM, every user read directly; `calls` counts the API calls.
    Live { calls: ApiCalls, concurrency: usize },
    /// A snapshot file (offline).
    Snapshot(PathBuf),
}

/// What one import is asked to do.
#[derive(Debug, Clone)]
pub struct ImportOptions {
    /// The desired state whose targets `accounts` selects among (empty: the implicit
    /// `default` target, or a snapshot's accounts).
    pub doc: DesiredDoc,
    /// `-a` selectors: names, account ids or globs.
    pub accounts: Vec<String>,
    pub source: Source,
    /// Ages are measured at this time.
    pub as_of: DateTime<Utc>,
}

/// An imported account and its TOML.
#[derive(Debug, Clone)]
pub struct Imported {
    pub target: Target,
    pub state: AccountState,
    pub toml: String,
}

#[derive(Debug, thiserror::Error, miette::Diagnostic)]
pub enum ImportError {
    #[error(transparent)]
    #[diagnostic(transparent)]
    Select(#[from] SelectError),
    #[error(transparent)]
    #[diagnostic(transparent)]
    Snapshot(#[from] SnapshotError),
    #[error("--account {patterns} matches no account of {} (it has: {known})", path.display())]
    NoSnapshotAccount {
        patterns: String,
        path: PathBuf,
        known: String,
    },
    #[error("no target selected")]
    NoTarget,
    #[error("import describes one account, and {} targets are selected: {}", names.len(), names.join(", "))]
    #[diagnostic(help("pick one with -a NAME, e.g. `iamctl import -a {first}`"))]
    NotOne { names: Vec<String>, first: String },
    #[error("{error}")]
    Read {
        error: AwsError,
        #[help]
        help: &'static str,
    },
}

/// Reads the one account `options` selects and imports it.
pub async fn run(options: ImportOptions) -> Result<Imported, ImportError> {
    let (target, state, source) = match &options.source {
        Source::Snapshot(path) => from_snapshot(&options, path)?,
        Source::Live { calls, concurrency } => from_live(&options, calls, *concurrency).await?,
    };
    let toml = render(
        &adopt(&state, options.as_of),
        &Provenance {
            target: &target,
            account_id: &state.account_id,
            source: &source,
            as_of: options.as_of,
        },
    );
    Ok(Imported {
        target,
        state,
        toml,
    })
}

/// The one target `-a` selects among the desired state's targets (or the implicit `default`
/// one when there is no desired state), read live with every direct read.
async fn from_live(
    options: &ImportOptions,
    calls: &ApiCalls,
    concurrency: usize,
) -> Result<(Target, AccountState, String), ImportError> {
    let factory = ClientFactory::new(calls.clone()).await;
    let targets = fleet::resolve_targets(&options.doc, &factory, &options.accounts).await?;
    let target = only_one(targets)?.target;
    let clients = factory.for_target(&target).await;
    let state = live::read_account(&clients, ReadScope::Everything, options.as_of, concurrency)
        .await
        .map_err(|error| {
            let help = if error.is_access_denied() {
                "`iamctl permissions` prints the IAM policy that plan, snapshot and import need"
            } else if error.message.contains("credential") {
                "iamctl uses the standard AWS credential chain: e.g. `aws sso login --profile NAME` \
                 and AWS_PROFILE=NAME, AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or an instance role"
            } else {
                "check the account's credentials and network, then run again (-v shows more)"
            };
            ImportError::Read { error, help }
        })?;
    Ok((target, state, "live IAM".to_owned()))
}

/// The one account of a snapshot that `-a` selects (by name, account id or glob), with the
/// desired state's target of the same name, if there is one.
fn from_snapshot(
    options: &ImportOptions,
    path: &std::path::Path,
) -> Result<(Target, AccountState, String), ImportError> {
    let snap = snapshot::read_snapshot(path)?;
    let declared = fleet::declared_targets(&options.doc);
    let candidates: Vec<TargetPlanInput> = snap
        .accounts
        .iter()
        .map(|account| TargetPlanInput {
            target: declared
                .iter()
                .find(|t| t.target.name == account.name)
                .map(|t| t.target.clone())
                .unwrap_or_else(|| Target {
                    name: account.name.clone(),
                    ..Default::default()
                }),
            // Import plans with rules of its own: the target's are not needed.
            rules: Rules::default(),
            account_id: Some(account.state.account_id.clone()),
            targets: None,
        })
        .collect();
    let selected = fleet::select(candidates, &options.accounts).map_err(|e| match e {
        SelectError::NoMatch { patterns, .. } => ImportError::NoSnapshotAccount {
            patterns,
            path: path.to_owned(),
            known: snap
                .accounts
                .iter()
                .map(|a| a.name.as_str())
                .collect::<Vec<_>>()
                .join(", "),
        },
        other => other.into(),
    })?;
    let target = only_one(selected)?.target;
    let state = snap
        .account(&target.name)
        .expect("selected among the snapshot's accounts")
        .state
        .clone();
    let source = format!(
        "the snapshot {} (taken {})",
        path.display(),
        snap.taken_at.format("%Y-%m-%dT%H:%M:%SZ")
    );
    Ok((target, state, source))
}

fn only_one(mut targets: Vec<TargetPlanInput>) -> Result<TargetPlanInput, ImportError> {
    match targets.len() {
        1 => Ok(targets.remove(0)),
        0 => Err(ImportError::NoTarget),
        _ => {
            let names: Vec<String> = targets.into_iter().map(|t| t.target.name).collect();
            Err(ImportError::NotOne {
                first: names[0].clone(),
                names,
            })
        }
    }
}

#[cfg(test)]
mod tests {
    use chrono::Duration;

    use super::*;
    use crate::fleet::select_targets;
    use crate::plan::{AccountPlan, plan_account};
    use crate::state::{
        AccessKey, KeyStatus, LoginProfile, MfaDevice, PasswordPolicy, Trail, User,
    };

    fn at(days_ago: i64, now: DateTime<Utc>) -> DateTime<Utc> {
        now - Duration::days(days_ago) - Duration::hours(3)
    }

    fn user(name: &str, now: DateTime<Utc>) -> User {
        User::new(name, at(800, now))
    }

    fn console(mut u: User, profile_days: i64, used_days: Option<i64>, now: DateTime<Utc>) -> User {
        u.login_profile = Some(LoginProfile {
            created: at(profile_days, now),
            password_reset_required: false,
        });
        u.password_last_used = used_days.map(|d| at(d, now));
        u
    }

    fn mfa(mut u: User) -> User {
        u.mfa_devices.push(MfaDevice {
            serial: format!("arn:aws:iam::123456789012:mfa/{}", u.name),
            enabled_at: None,
            kind: Some(crate::state::MfaKind::Virtual),
        });
        u
    }

    fn key(
        mut u: User,
        id: &str,
        active: bool,
        created: i64,
        used: Option<i64>,
        now: DateTime<Utc>,
    ) -> User {
        u.access_keys.push(AccessKey {
            id: id.parse().expect("a key id"),
            status: if active {
                KeyStatus::Active
            } else {
                KeyStatus::Inactive
            },
            created: at(created, now),
            last_used: used.map(|d| at(d, now)),
        });
        u
    }

    fn state(users: Vec<User>, policy: Option<PasswordPolicy>, trails: Vec<Trail>) -> AccountState {
        AccountState {
            password_policy: policy,
            trails: Some(trails),
            ..crate::testing::account(users)
        }
    }

    fn default_target() -> Target {
        Target {
            name: "default".into(),
            ..Default::default()
        }
    }

    /// Imports `state`, checks that the TOML loads and validates, and plans the account
    /// against it a few days later.
    fn import_then_plan(
        state: &AccountState,
        target: &Target,
        now: DateTime<Utc>,
    ) -> (String, AccountPlan) {
        let text = render(
            &adopt(state, now),
            &Provenance {
                target,
                account_id: &state.account_id,
                source: "a test",
                as_of: now,
            },
        );
        let doc: DesiredDoc = toml::from_str(&text).unwrap_or_else(|e| panic!("{e}\n{text}"));
        let problems = crate::desired::validate(&doc);
        assert!(problems.is_empty(), "{problems:?}\n{text}");
        let targets = select_targets(&doc, &[]).unwrap();
        assert_eq!(targets.len(), 1);
        assert_eq!(targets[0].target, *target);
        let later = now + Duration::days(HEADROOM_DAYS - 1);
        let plan = plan_account(&target.name, &targets[0].rules, state, later);
        (text, plan)
    }

    fn now() -> DateTime<Utc> {
        "2026-11-23T12:00:00Z".parse().unwrap()
    }

    #[test]
    fn a_messy_account_imports_to_an_empty_plan_with_the_gaps_commented() {
        let now = now();
        let users = vec![
            mfa(console(user("alice", now), 300, Some(2), now)),
            console(user("bob", now), 200, Some(60), now),
            console(user("carol", now), 100, None, now),
            key(
                key(user("svc-a", now), "AKIAA1", true, 120, Some(1), now),
                "AKIAA2",
                true,
                10,
                None,
                now,
            ),
            key(user("svc-b", now), "AKIAB1", false, 400, None, now),
            key(user("svc-c", now), "AKIAC1", true, 4000, Some(3990), now),
        ];
        let policy = PasswordPolicy {
            minimum_length: 8,
            require_symbols: true,
            max_age_days: Some(180),
            ..PasswordPolicy::iam_default()
        };
        let state = state(users, Some(policy), vec![]);
        let (text, plan) = import_then_plan(&state, &default_target(), now);
        assert!(plan.changes.is_empty(), "{:?}\n{text}", plan.changes);
        assert!(plan.findings.is_empty(), "{:?}\n{text}", plan.findings);

        for line in [
            "minimum_length = 8              # as now; the baseline has 14 (CIS)",
            "max_age_days = 180              # as now; 1..=1095",
            "# reuse_prevention = 24         # left out, as now: no reuse prevention",
            "# require_mfa = true            # 2 console users without MFA would be reported: bob, carol",
            // Console passwords: bob unused 60 days, carol's profile never used for 100: 180 fits.
            "max_unused_days = 180           # met; the usual is 45: 2 console passwords past it or within a week",
            // svc-c's key is 4000 days old: no rung fits, so the rule is only suggested.
            "# max_age_days = 90             # not met: 2 active keys over 90 days (up to 4000)",
            "# max_unused_days = 45          # not met: 1 active key over 45 days (up to 3990)",
            "# delete_inactive = true        # would delete 1 inactive key",
            "# max_active = 1                # 1 user has two active keys: svc-a",
            "# Users with an active access key and no console password (2): svc-a, svc-c.",
            "# require_cloudtrail = true     # no multi-region trail logs management writes: would be reported",
        ] {
            assert!(text.lines().any(|l| l == line), "{line}\n{text}");
        }
        assert!(!text.contains("[[account]]"), "{text}");
    }

    #[test]
    fn a_clean_account_gets_the_usual_limits_and_a_named_target_its_account_entry() {
        let now = now();
        let users = vec![
            mfa(console(user("alice", now), 30, Some(1), now)),
            key(user("svc", now), "AKIAS1", true, 20, Some(0), now),
        ];
        let trail = Trail {
            name: "org".into(),
            home_region: "us-east-1".into(),
            is_multi_region: true,
            is_logging: true,
            records_management_writes: true,
        };
        let state = state(users, None, vec![trail]);
        let target = Target {
            name: "prod".into(),
            role_arn: Some("arn:aws:iam::123456789012:role/iamctl".into()),
            external_id: Some("x\"y".into()),
            profile: None,
        };
        let (text, plan) = import_then_plan(&state, &target, now);
        assert!(
            plan.changes.is_empty() && plan.findings.is_empty(),
            "{plan:?}\n{text}"
        );
        let tail = "\
[audit]
require_cloudtrail = true       # the trail \"org\" logs IAM changes

# ----------------------------------------------------------------------------------------------
# The account this file describes. To fold it into a desired state with other accounts,
# move the tables above under this entry ([account.password_policy], [account.users] ...).
# ----------------------------------------------------------------------------------------------
[[account]]
name = \"prod\"
external_id = 'x\"y'
role_arn = \"arn:aws:iam::123456789012:role/iamctl\"
";
        assert!(text.ends_with(tail), "{text}");
        for line in [
            "require_mfa = true              # every console user has MFA",
            "max_unused_days = 45            # met: at most 1 days today",
            "max_age_days = 90               # met: at most 20 days today",
            "max_active = 1                  # no user has two active keys",
            "# [password_policy]",
        ] {
            assert!(text.lines().any(|l| l == line), "{line}\n{text}");
        }
    }

    #[test]
    fn the_usual_limit_is_not_written_when_it_would_fire_within_the_headroom() {
        let now = now();
        // 85 days old: under 90, but within a week of it.
        let users = vec![key(user("svc", now), "AKIAS1", true, 85, Some(0), now)];
        let state = state(users, None, vec![]);
        let (text, _) = import_then_plan(&state, &default_target(), now);
        assert!(
            text.lines().any(|l| l
                == "max_age_days = 180              # met; the usual is 90: 1 active key past it or within a week"),
            "{text}"
        );
    }

    #[test]
    fn a_password_used_before_its_login_profile_was_created_counts_from_the_creation() {
        // As the engine measures it: a use of an earlier password says nothing about this one.
        // import once counted from the old use and wrote a limit looser than needed.
        let now = now();
        let users = vec![mfa(console(user("ana", now), 20, Some(400), now))];
        let state = state(users, None, vec![]);
        let (text, plan) = import_then_plan(&state, &default_target(), now);
        assert!(plan.findings.is_empty(), "{:?}\n{text}", plan.findings);
        assert!(
            text.lines()
                .any(|l| l == "max_unused_days = 45            # met: at most 20 days today"),
            "{text}"
        );
    }

    #[test]
    fn ages_of_exact_whole_days_are_judged_and_quoted_as_the_engine_measures_them() {
        let now = now();
        let account = |created_days: i64, used_days: i64| {
            let mut svc = User::new("svc", now - Duration::days(created_days));
            svc.access_keys.push(AccessKey {
                id: "AKIAS1".parse().unwrap(),
                status: KeyStatus::Active,
                created: now - Duration::days(created_days),
                last_used: Some(now - Duration::days(used_days)),
            });
            adopt(&state(vec![svc], None, vec![]), now)
        };
        // 83 days plus the week of headroom is exactly 90: not over it, so 90 is met.
        let met = account(83, 38).access_keys;
        assert_eq!(met.max_age_days.verdict, DayVerdict::Usual { oldest: 83 });
        assert_eq!(
            met.max_unused_days.verdict,
            DayVerdict::Usual { oldest: 38 }
        );
        let over = account(84, 39).access_keys;
        assert_eq!(
            over.max_age_days.verdict,
            DayVerdict::Looser { days: 180, soon: 1 }
        );
        assert_eq!(
            over.max_unused_days.verdict,
            DayVerdict::Looser { days: 90, soon: 1 }
        );
        assert_eq!(
            account(4000, 4000).access_keys.max_age_days,
            DayLimit {
                usual: 90,
                verdict: DayVerdict::NotMet {
                    over: 1,
                    oldest: 4000
                }
            }
        );
    }

    fn options(accounts: &[&str]) -> ImportOptions {
        ImportOptions {
            doc: DesiredDoc::default(),
            accounts: accounts.iter().map(|s| s.to_string()).collect(),
            source: Source::Snapshot("examples/snapshot.json".into()),
            as_of: "2026-11-01T00:00:00Z".parse().unwrap(),
        }
    }

    #[tokio::test]
    async fn a_snapshot_account_is_selected_by_name_or_account_id_and_only_one_is_imported() {
        let by_id = run(options(&["2222*"])).await.unwrap();
        assert_eq!(by_id.target.name, "staging");
        assert!(
            by_id.toml.starts_with(
                "# iamctl desired state imported by `iamctl import` from account \"staging\" (222222222222),\n\
                 # read from the snapshot examples/snapshot.json (taken 2026-10-31T23:30:00Z), as of 2026-11-01T00:00:00Z.\n"
            ),
            "{}",
            by_id.toml
        );

        let none = run(options(&["nope"])).await.unwrap_err();
        assert_eq!(
            none.to_string(),
            "--account nope matches no account of examples/snapshot.json (it has: prod, staging)"
        );
        let both = run(options(&[])).await.unwrap_err();
        assert_eq!(
            both.to_string(),
            "import describes one account, and 2 targets are selected: prod, staging"
        );
        let help = miette::Diagnostic::help(&both).map(|h| h.to_string());
        assert_eq!(
            help.as_deref(),
            Some("pick one with -a NAME, e.g. `iamctl import -a prod`")
        );
    }
}
