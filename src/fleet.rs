//! Targets and the fleet loop: which accounts a run covers (`[[account]]` entries, the
//! accounts an `[organization]` lists, or the implicit `default`), narrowed by `-a` and
//! `--shard`, and reading and planning them concurrently within a bound, one account's
//! failure never stopping the others.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::str::FromStr;

use chrono::{DateTime, Utc};
use futures::StreamExt;
use globset::{Glob, GlobSet, GlobSetBuilder};

use crate::aws::{AccountClients, AwsError, ClientFactory, Target, call};
use crate::desired::model::{AccountSpec, OrganizationSpec};
use crate::desired::{DesiredDoc, Rules};
use crate::live::{self, ReadScope};
use crate::permissions::LIST_ACCOUNTS;
use crate::plan::{AccountPlan, Targets, plan_account};
use crate::state::AccountState;

/// The name of the one target on ambient credentials when no `[[account]]` (and no
/// `[organization]`) is declared.
pub const DEFAULT_TARGET: &str = "default";

/// The status `organizations:ListAccounts` gives accounts that can be planned.
const ACTIVE: &str = "ACTIVE";

/// One account a run covers: how to reach it and what it should look like.
#[derive(Debug, Clone)]
pub struct TargetPlanInput {
    pub target: Target,
    pub rules: Rules,
    /// The account id, when it is known before reading the account (from a role ARN or the
    /// organization's listing): `-a` matches it, and a failed account still shows it.
    pub account_id: Option<String>,
    /// `--target` (or the addresses events name): plan only these addresses, reading only
    /// what they need. `None`: the whole account.
    pub targets: Option<Targets>,
}

#[derive(Debug, thiserror::Error, miette::Diagnostic)]
pub enum SelectError {
    #[error("invalid --account pattern {pattern:?}: {source}")]
    Pattern {
        pattern: String,
        source: globset::Error,
    },
    #[error("--account {patterns} matches no target (targets: {known})")]
    NoMatch { patterns: String, known: String },
    #[error("listing the accounts of the organization: {0}")]
    #[diagnostic(help(
        "[organization] lists accounts with the base credentials, which must be the management \
         account's or a delegated administrator's and allow organizations:ListAccounts"
    ))]
    Organization(AwsError),
}

/// The targets declared in `doc` itself: its `[[account]]` entries, or the implicit
/// `default` target when it declares neither accounts nor an organization.
pub fn declared_targets(doc: &DesiredDoc) -> Vec<TargetPlanInput> {
    if doc.account.is_empty() && doc.organization.is_none() {
        return vec![TargetPlanInput {
            target: Target {
                name: DEFAULT_TARGET.to_owned(),
                ..Default::default()
            },
            rules: doc.rules_for(None),
            account_id: None,
            targets: None,
        }];
    }
    doc.account
        .iter()
        .map(|spec| TargetPlanInput {
            target: target_of(spec),
            rules: doc.rules_for(Some(spec)),
            account_id: spec.role_arn.as_deref().and_then(role_arn_account),
            targets: None,
        })
        .collect()
}

/// The declared targets of `doc` (see [`declared_targets`]) that match any of `selectors`
/// (names, account ids or globs; empty: all), in declaration order. With an `[organization]`
/// the listed accounts are only known at run time ([`resolve_targets`]), so selectors that
/// match no declared target are no error here.
pub fn select_targets(
    doc: &DesiredDoc,
    selectors: &[String],
) -> Result<Vec<TargetPlanInput>, SelectError> {
    let declared = declared_targets(doc);
    if doc.organization.is_some() {
        let set = selector_set(selectors)?;
        return Ok(match set {
            Some(set) => declared.into_iter().filter(|t| matches(&set, t)).collect(),
            None => declared,
        });
    }
    select(declared, selectors)
}

/// Every target of a live run: the declared ones and, with an `[organization]`, the accounts
/// it lists (see [`organization_targets`]), narrowed by `selectors`.
pub async fn resolve_targets(
    doc: &DesiredDoc,
    factory: &ClientFactory,
    selectors: &[String],
) -> Result<Vec<TargetPlanInput>, SelectError> {
    let declared = declared_targets(doc);
    let all = match &doc.organization {
        Some(org) => {
            let accounts = list_organization(factory, org)
                .await
                .map_err(SelectError::Organization)?;
            merge_targets(declared, organization_targets(doc, org, &accounts))
        }
        None => declared,
    };
    select(all, selectors)
}

/// Every target of a run against a snapshot: the declared ones (matched to the snapshot's
/// accounts by name) and, with an `[organization]`, every other account of the snapshot
/// that its `include`/`exclude` admit, named as in the snapshot. Narrowed by `selectors`.
pub fn snapshot_targets(
    doc: &DesiredDoc,
    accounts: &BTreeMap<String, AccountState>,
    selectors: &[String],
) -> Result<Vec<TargetPlanInput>, SelectError> {
    let declared = declared_targets(doc);
    let all = match &doc.organization {
        Some(org) => {
            let claimed: BTreeSet<&str> = declared.iter().map(|t| t.target.name.as_str()).collect();
            let listed: Vec<OrgAccount> = accounts
                .iter()
                .filter(|(name, _)| !claimed.contains(name.as_str()))
                .map(|(name, state)| OrgAccount {
                    id: state.account_id.clone(),
                    name: name.clone(),
                    arn: String::new(),
                    status: ACTIVE.to_owned(),
                })
                .collect();
            merge_targets(declared, organization_targets(doc, org, &listed))
        }
        // No target declared and a snapshot of several accounts: each of its accounts is a
        // target of the top-level rules, as the ambient account would be live (a snapshot of
        // one account keeps the name `default`).
        None if doc.account.is_empty() && accounts.len() > 1 => accounts
            .keys()
            .map(|name| TargetPlanInput {
                target: Target {
                    name: name.clone(),
                    ..Default::default()
                },
                rules: doc.rules_for(None),
                account_id: None,
                targets: None,
            })
            .collect(),
        None => declared,
    };
    select(all, selectors)
}

/// Narrows `all` to the targets whose name or known account id matches any of `selectors`
/// (empty: all); an error when nothing matches.
pub fn select(
    all: Vec<TargetPlanInput>,
    selectors: &[String],
) -> Result<Vec<TargetPlanInput>, SelectError> {
    let Some(set) = selector_set(selectors)? else {
        return Ok(all);
    };
    let known = all
        .iter()
        .map(|t| t.target.name.clone())
        .collect::<Vec<_>>()
        .join(", ");
    let selected: Vec<TargetPlanInput> = all.into_iter().filter(|t| matches(&set, t)).collect();
    if selected.is_empty() {
        return Err(SelectError::NoMatch {
            patterns: selectors.join(", "),
            known: if known.is_empty() {
                "none".to_owned()
            } else {
                known
            },
        });
    }
    Ok(selected)
}

fn selector_set(selectors: &[String]) -> Result<Option<GlobSet>, SelectError> {
    if selectors.is_empty() {
        return Ok(None);
    }
    glob_set(selectors)
        .map(Some)
        .map_err(|(pattern, source)| SelectError::Pattern { pattern, source })
}

fn glob_set(patterns: &[String]) -> Result<GlobSet, (String, globset::Error)> {
    let mut builder = GlobSetBuilder::new();
    for pattern in patterns {
        builder.add(Glob::new(pattern).map_err(|e| (pattern.clone(), e))?);
    }
    builder.build().map_err(|e| (patterns.join(","), e))
}

fn matches(set: &GlobSet, target: &TargetPlanInput) -> bool {
    set.is_match(&target.target.name)
        || target
            .account_id
            .as_deref()
            .is_some_and(|id| set.is_match(id))
}

fn target_of(spec: &AccountSpec) -> Target {
    Target {
        name: spec.name.clone(),
        role_arn: spec.role_arn.clone(),
        external_id: spec.external_id.clone(),
        profile: spec.profile.clone(),
    }
}

/// The account id of `arn:PARTITION:iam::ACCOUNT_ID:role/NAME`.
pub(crate) fn role_arn_account(arn: &str) -> Option<String> {
    let account = arn.split(':').nth(4)?;
    (account.len() == 12 && account.bytes().all(|b| b.is_ascii_digit())).then(|| account.to_owned())
}

/// One account as `organizations:ListAccounts` lists it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrgAccount {
    pub id: String,
    pub name: String,
    /// `arn:PARTITION:organizations::MANAGEMENT_ID:account/o-.../ID`; its partition is the one
    /// the role ARN is built in. May be empty (then `aws`).
    pub arn: String,
    /// `ACTIVE`, `SUSPENDED`, `PENDING_CLOSURE`, ...
    pub status: String,
}

/// Every account of the organization (all pages), as listed with the base credentials of
/// `org` (its `profile`, or the ambient ones).
pub async fn list_organization(
    factory: &ClientFactory,
    org: &OrganizationSpec,
) -> Result<Vec<OrgAccount>, AwsError> {
    let client = factory.organizations(org.profile.as_deref()).await;
    let mut pages = client.list_accounts().into_paginator().send();
    let mut accounts = Vec::new();
    while let Some(page) = call("organization", LIST_ACCOUNTS, pages.try_next()).await? {
        for account in page.accounts() {
            accounts.push(OrgAccount {
                id: account.id().unwrap_or_default().to_owned(),
                name: account.name().unwrap_or_default().to_owned(),
                arn: account.arn().unwrap_or_default().to_owned(),
                status: account
                    .status()
                    .map(|s| s.as_str().to_owned())
                    .unwrap_or_default(),
            });
        }
    }
    Ok(accounts)
}

/// The targets an organization's listing gives: ACTIVE accounts only, kept by `include`
/// (any match of id or name; absent: all) and dropped by `exclude`, each reached by assuming
/// `role_name` in it and named by its account name (an account whose name another listed
/// account shares is named `NAME-ID`; one without a name by its id). Sorted by name. The
/// rules are the top-level ones. `org` must have passed validation.
pub fn organization_targets(
    doc: &DesiredDoc,
    org: &OrganizationSpec,
    accounts: &[OrgAccount],
) -> Vec<TargetPlanInput> {
    let set = |patterns: &Option<Vec<String>>| {
        patterns
            .as_deref()
            .map(|p| glob_set(p).expect("organization globs validated before resolution"))
    };
    let (include, exclude) = (set(&org.include), set(&org.exclude));
    let admitted = |account: &&OrgAccount| {
        let hit = |set: &GlobSet| set.is_match(&account.id) || set.is_match(&account.name);
        account.status == ACTIVE
            && !account.id.is_empty()
            && include.as_ref().is_none_or(hit)
            && !exclude.as_ref().is_some_and(hit)
    };
    let mut kept: Vec<&OrgAccount> = accounts.iter().filter(admitted).collect();
    kept.sort_by(|a, b| (&a.name, &a.id).cmp(&(&b.name, &b.id)));
    kept.dedup_by(|a, b| a.id == b.id);
    let mut name_count: BTreeMap<&str, usize> = BTreeMap::new();
    for account in &kept {
        *name_count.entry(account.name.as_str()).or_default() += 1;
    }
    let rules = doc.rules_for(None);
    kept.into_iter()
        .map(|account| {
            let name = if account.name.trim().is_empty() {
                account.id.clone()
            } else if name_count[account.name.as_str()] > 1 {
                format!("{}-{}", account.name, account.id)
            } else {
                account.name.clone()
            };
            let partition = account
                .arn
                .split(':')
                .nth(1)
                .filter(|p| p.starts_with("aws"))
                .unwrap_or("aws");
            TargetPlanInput {
                target: Target {
                    name,
                    role_arn: Some(format!(
                        "arn:{partition}:iam::{}:role/{}",
                        account.id, org.role_name
                    )),
                    external_id: org.external_id.clone(),
                    profile: org.profile.clone(),
                },
                rules: rules.clone(),
                account_id: Some(account.id.clone()),
                targets: None,
            }
        })
        .collect()
}

/// The declared targets, then the listed ones that no declared target already covers: an
/// `[[account]]` whose role ARN names the same account id replaces the listed account. A
/// listed account whose name a declared target has is named `NAME-ID`.
pub fn merge_targets(
    declared: Vec<TargetPlanInput>,
    listed: Vec<TargetPlanInput>,
) -> Vec<TargetPlanInput> {
    let ids: BTreeSet<String> = declared
        .iter()
        .filter_map(|t| t.account_id.clone())
        .collect();
    let names: BTreeSet<String> = declared.iter().map(|t| t.target.name.clone()).collect();
    let mut all = declared;
    for mut target in listed {
        let id = target.account_id.clone().unwrap_or_default();
        if ids.contains(&id) {
            continue;
        }
        if names.contains(&target.target.name) {
            target.target.name = format!("{}-{id}", target.target.name);
        }
        all.push(target);
    }
    all
}

/// One of N parts of the selected targets (`--shard K/N`), so that N runners (a CI matrix,
/// a Kubernetes indexed Job) cover a fleet together, each account exactly once.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Shard {
    /// 1-based.
    index: usize,
    count: usize,
}

impl Shard {
    pub fn new(index: usize, count: usize) -> Result<Self, String> {
        if count == 0 || index == 0 || index > count {
            return Err(format!(
                "shard {index}/{count} is out of range: need 1 <= K <= N"
            ));
        }
        Ok(Self { index, count })
    }

    pub fn index(self) -> usize {
        self.index
    }

    pub fn count(self) -> usize {
        self.count
    }
}

impl FromStr for Shard {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let (k, n) = s
            .split_once('/')
            .ok_or_else(|| format!("{s:?} is not K/N (for example 1/4)"))?;
        let number = |part: &str| {
            part.trim()
                .parse::<usize>()
                .map_err(|_| format!("{s:?} is not K/N (for example 1/4)"))
        };
        Self::new(number(k)?, number(n)?)
    }
}

impl fmt::Display for Shard {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.index, self.count)
    }
}

/// The targets of `shard`: the selected targets sorted by name are dealt round-robin into
/// `N` shards, so the shards are disjoint, together hold every target, and differ in size by
/// at most one. Deterministic for a given set of target names; the order of `targets` is
/// kept.
pub fn shard_targets(targets: Vec<TargetPlanInput>, shard: Shard) -> Vec<TargetPlanInput> {
    if shard.count == 1 {
        return targets;
    }
    let mut order: Vec<usize> = (0..targets.len()).collect();
    order.sort_by(|&a, &b| targets[a].target.name.cmp(&targets[b].target.name));
    let mut mine = vec![false; targets.len()];
    for (position, &i) in order.iter().enumerate() {
        mine[i] = position % shard.count + 1 == shard.index;
    }
    targets
        .into_iter()
        .zip(mine)
        .filter_map(|(target, mine)| mine.then_some(target))
        .collect()
}

/// One account's read and plan. `live` and `clients` are missing when the account could not
/// be reached or read; `plan.error` then says why.
#[derive(Debug)]
pub struct AccountRun {
    pub input: TargetPlanInput,
    pub clients: Option<AccountClients>,
    pub live: Option<AccountState>,
    pub plan: AccountPlan,
}

/// Reads and plans every target against live AWS, `parallelism` accounts at a time, each
/// account making at most `concurrency` calls at a time. Results are in target order.
pub async fn plan_live(
    factory: &ClientFactory,
    targets: Vec<TargetPlanInput>,
    as_of: DateTime<Utc>,
    parallelism: usize,
    concurrency: usize,
) -> Vec<AccountRun> {
    futures::stream::iter(targets)
        .map(|input| plan_live_account(factory, input, as_of, concurrency))
        .buffered(parallelism.max(1))
        .collect()
        .await
}

/// Reads and plans one target against live AWS, making at most `concurrency` calls at a
/// time. A fleet run streams these, so that what it holds is what the accounts in flight
/// need.
pub async fn plan_live_account(
    factory: &ClientFactory,
    input: TargetPlanInput,
    as_of: DateTime<Utc>,
    concurrency: usize,
) -> AccountRun {
    let clients = factory.for_target(&input.target).await;
    let scope = match &input.targets {
        Some(targets) => ReadScope::Targets(&input.rules, targets),
        None => ReadScope::Rules(&input.rules),
    };
    match live::read_account(&clients, scope, as_of, concurrency).await {
        Ok(state) => {
            let plan = plan_targets(&input, &state, as_of);
            AccountRun {
                input,
                clients: Some(clients),
                live: Some(state),
                plan,
            }
        }
        Err(error) => {
            let plan = AccountPlan::failed(
                &input.target.name,
                input.account_id.clone().unwrap_or_default(),
                error.to_string(),
            );
            AccountRun {
                input,
                clients: Some(clients),
                live: None,
                plan,
            }
        }
    }
}

/// Plans one target, restricted to its `--target` addresses if it has any.
fn plan_targets(
    input: &TargetPlanInput,
    state: &AccountState,
    as_of: DateTime<Utc>,
) -> AccountPlan {
    let mut plan = plan_account(&input.target.name, &input.rules, state, as_of);
    if let Some(targets) = &input.targets {
        targets.restrict(&mut plan);
    }
    plan
}

/// Plans every target against the accounts of a snapshot (see [`SnapshotAccounts::plan`]),
/// in target order.
pub fn plan_snapshot(
    targets: Vec<TargetPlanInput>,
    accounts: BTreeMap<String, AccountState>,
    as_of: DateTime<Utc>,
) -> Vec<AccountRun> {
    let accounts = SnapshotAccounts::new(accounts);
    targets
        .into_iter()
        .map(|input| accounts.plan(input, as_of))
        .collect()
}

/// The accounts of a snapshot, by name, that targets are planned against.
pub struct SnapshotAccounts {
    accounts: BTreeMap<String, AccountState>,
}

impl SnapshotAccounts {
    pub fn new(accounts: BTreeMap<String, AccountState>) -> Self {
        Self { accounts }
    }

    /// Plans `input` against its account of the snapshot: matched by name, else by the
    /// target's account id when exactly one snapshot account has it. A desired state with
    /// only the implicit `default` target takes a snapshot's only account whatever its name.
    pub fn plan(&self, input: TargetPlanInput, as_of: DateTime<Utc>) -> AccountRun {
        let accounts = &self.accounts;
        let name = input.target.name.clone();
        let by_id = || {
            let id = input.account_id.as_deref()?;
            let mut same = accounts.values().filter(|a| a.account_id == id);
            match (same.next(), same.next()) {
                (Some(state), None) => Some(state),
                _ => None,
            }
        };
        let only = || match accounts.len() {
            1 => accounts.values().next(),
            _ => None,
        };
        let state = accounts
            .get(&name)
            .or_else(by_id)
            .or_else(|| (name == DEFAULT_TARGET).then(only).flatten())
            .cloned();
        match state {
            Some(state) => {
                let plan = plan_targets(&input, &state, as_of);
                AccountRun {
                    input,
                    clients: None,
                    live: Some(state),
                    plan,
                }
            }
            None => {
                let known = accounts.keys().cloned().collect::<Vec<_>>().join(", ");
                let plan = AccountPlan::failed(
                    &name,
                    input.account_id.clone().unwrap_or_default(),
                    format!("the snapshot has no account named {name:?} (it has: {known})"),
                );
                AccountRun {
                    input,
                    clients: None,
                    live: None,
                    plan,
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn doc(toml: &str) -> DesiredDoc {
        crate::desired::load_sources(vec![("test.toml".into(), toml.into())]).expect("valid")
    }

    fn org_account(id: &str, name: &str, status: &str) -> OrgAccount {
        OrgAccount {
            id: id.into(),
            name: name.into(),
            arn: format!("arn:aws:organizations::999999999999:account/o-abc/{id}"),
            status: status.into(),
        }
    }

    fn fleet() -> Vec<OrgAccount> {
        vec![
            org_account("111111111111", "prod-eu", "ACTIVE"),
            org_account("222222222222", "prod-us", "ACTIVE"),
            org_account("333333333333", "sandbox", "ACTIVE"),
            org_account("444444444444", "old", "SUSPENDED"),
            org_account("555555555555", "closing", "PENDING_CLOSURE"),
            org_account("999999999999", "management", "ACTIVE"),
        ]
    }

    fn names(targets: &[TargetPlanInput]) -> Vec<&str> {
        targets.iter().map(|t| t.target.name.as_str()).collect()
    }

    fn listed(org_toml: &str) -> Vec<TargetPlanInput> {
        let doc = doc(org_toml);
        organization_targets(&doc, doc.organization.as_ref().unwrap(), &fleet())
    }

    #[test]
    fn only_active_accounts_are_listed_as_targets_with_the_role_to_assume() {
        let targets = listed(
            "[organization]\nrole_name = \"OrganizationAccountAccessRole\"\nexternal_id = \"xid\"\n",
        );
        assert_eq!(
            names(&targets),
            ["management", "prod-eu", "prod-us", "sandbox"]
        );
        let prod = &targets[1];
        assert_eq!(
            prod.target.role_arn.as_deref(),
            Some("arn:aws:iam::111111111111:role/OrganizationAccountAccessRole")
        );
        assert_eq!(prod.target.external_id.as_deref(), Some("xid"));
        assert_eq!(prod.account_id.as_deref(), Some("111111111111"));
    }

    #[test]
    fn include_and_exclude_match_ids_names_and_globs() {
        let base = "[organization]\nrole_name = \"iamctl\"\n";
        assert_eq!(
            names(&listed(&format!("{base}include = [\"prod-*\"]\n"))),
            ["prod-eu", "prod-us"]
        );
        assert_eq!(
            names(&listed(&format!(
                "{base}include = [\"prod-*\", \"333333333333\"]\nexclude = [\"prod-us\"]\n"
            ))),
            ["prod-eu", "sandbox"]
        );
        assert_eq!(
            names(&listed(&format!(
                "{base}exclude = [\"999999999999\", \"s*\"]\n"
            ))),
            ["prod-eu", "prod-us"]
        );
        assert_eq!(
            names(&listed(&format!("{base}include = [\"old\", \"1111*\"]\n"))),
            ["prod-eu"],
            "a suspended account is never a target, even when included"
        );
        assert!(listed(&format!("{base}include = [\"nothing-*\"]\n")).is_empty());
    }

    #[test]
    fn the_partition_and_path_of_the_role_follow_the_organization() {
        let doc = doc("[organization]\nrole_name = \"ops/iamctl\"\n");
        let mut account = org_account("111111111111", "gov", "ACTIVE");
        account.arn =
            "arn:aws-us-gov:organizations::999999999999:account/o-abc/111111111111".into();
        let targets = organization_targets(&doc, doc.organization.as_ref().unwrap(), &[account]);
        assert_eq!(
            targets[0].target.role_arn.as_deref(),
            Some("arn:aws-us-gov:iam::111111111111:role/ops/iamctl")
        );
    }

    #[test]
    fn declared_accounts_replace_listed_ones_and_names_stay_unique() {
        let doc = doc("[organization]\nrole_name = \"iamctl\"\n\n\
             [[account]]\nname = \"prod-eu-override\"\nrole_arn = \"arn:aws:iam::111111111111:role/x\"\n\
             [account.users.access_keys]\nmax_age_days = 30\n\n\
             [[account]]\nname = \"sandbox\"\n");
        let mut accounts = fleet();
        accounts.push(org_account("666666666666", "prod-us", "ACTIVE"));
        let listed = organization_targets(&doc, doc.organization.as_ref().unwrap(), &accounts);
        let all = merge_targets(declared_targets(&doc), listed);
        assert_eq!(
            names(&all),
            [
                "prod-eu-override",
                "sandbox",
                "management",
                "prod-us-222222222222",
                "prod-us-666666666666",
                "sandbox-333333333333",
            ]
        );
        assert_eq!(all[0].rules.access_keys.max_age_days, Some(30));
        assert_eq!(all[2].rules.access_keys.max_age_days, None);
    }

    #[test]
    fn without_declared_targets_each_account_of_a_snapshot_is_one() {
        let state = |id: &str| AccountState {
            account_id: id.into(),
            caller: None,
            password_policy: None,
            users: vec![],
            trails: None,
            credential_report_generated_at: None,
            ..Default::default()
        };
        let mut accounts = BTreeMap::from([("prod".to_owned(), state("111111111111"))]);
        let none = doc("[users.access_keys]\nmax_age_days = 90\n");
        assert_eq!(
            names(&snapshot_targets(&none, &accounts, &[]).unwrap()),
            [DEFAULT_TARGET]
        );
        accounts.insert("staging".into(), state("222222222222"));
        let targets = snapshot_targets(&none, &accounts, &[]).unwrap();
        assert_eq!(names(&targets), ["prod", "staging"]);
        assert_eq!(targets[1].rules.access_keys.max_age_days, Some(90));
        let declared = doc("[[account]]\nname = \"prod\"\n");
        assert_eq!(
            names(&snapshot_targets(&declared, &accounts, &[]).unwrap()),
            ["prod"]
        );
    }

    #[test]
    fn an_organization_replaces_the_implicit_default_target() {
        assert_eq!(names(&declared_targets(&doc(""))), [DEFAULT_TARGET]);
        let org = doc("[organization]\nrole_name = \"r\"\n");
        assert!(declared_targets(&org).is_empty());
        // The listed accounts are only known at run time: no "matches no target" yet.
        assert!(
            select_targets(&org, &["prod-*".to_owned()])
                .unwrap()
                .is_empty()
        );
    }

    #[test]
    fn selection_matches_names_and_account_ids() {
        let doc = doc(
            "[[account]]\nname = \"prod\"\nrole_arn = \"arn:aws:iam::111111111111:role/x\"\n\
             [[account]]\nname = \"staging\"\nrole_arn = \"arn:aws:iam::222222222222:role/x\"\n\
             [[account]]\nname = \"dev\"\n",
        );
        let pick = |s: &[&str]| {
            let s: Vec<String> = s.iter().map(|s| s.to_string()).collect();
            select_targets(&doc, &s).map(|t| names(&t).join(","))
        };
        assert_eq!(pick(&[]).unwrap(), "prod,staging,dev");
        assert_eq!(pick(&["*g*"]).unwrap(), "staging");
        assert_eq!(pick(&["2222*", "dev"]).unwrap(), "staging,dev");
        assert!(matches!(pick(&["nope"]), Err(SelectError::NoMatch { .. })));
        assert!(matches!(pick(&["a["]), Err(SelectError::Pattern { .. })));
    }

    #[test]
    fn shards_parse_and_check_their_range() {
        assert_eq!("2/3".parse::<Shard>(), Shard::new(2, 3));
        assert_eq!("1/1".parse::<Shard>().unwrap().to_string(), "1/1");
        for bad in ["0/2", "3/2", "1/0", "1", "a/b", "-1/2", "1/2/3"] {
            assert!(bad.parse::<Shard>().is_err(), "{bad}");
        }
    }

    #[test]
    fn shards_cover_every_target_exactly_once_and_are_balanced() {
        let doc = doc("[organization]\nrole_name = \"r\"\n");
        let accounts: Vec<OrgAccount> = (0..23)
            .map(|i| {
                org_account(
                    &format!("{:012}", 100 + i),
                    &format!("acct-{i:02}"),
                    "ACTIVE",
                )
            })
            .collect();
        let all = organization_targets(&doc, doc.organization.as_ref().unwrap(), &accounts);
        for count in 1..=25 {
            let mut seen: BTreeMap<String, usize> = BTreeMap::new();
            let mut sizes = Vec::new();
            for index in 1..=count {
                let part = shard_targets(all.clone(), Shard::new(index, count).unwrap());
                sizes.push(part.len());
                for target in part {
                    *seen.entry(target.target.name).or_default() += 1;
                }
            }
            assert_eq!(seen.len(), all.len(), "{count} shards miss a target");
            assert!(seen.values().all(|&n| n == 1), "{count} shards overlap");
            let (min, max) = (sizes.iter().min().unwrap(), sizes.iter().max().unwrap());
            assert!(max - min <= 1, "{count} shards are unbalanced: {sizes:?}");
        }
    }

    #[test]
    fn a_shard_depends_on_the_names_not_on_their_order() {
        let doc = doc("[organization]\nrole_name = \"r\"\n");
        let all = organization_targets(&doc, doc.organization.as_ref().unwrap(), &fleet());
        let mut reversed = all.clone();
        reversed.reverse();
        let shard = Shard::new(2, 3).unwrap();
        let mut a = names(&shard_targets(all.clone(), shard))
            .into_iter()
            .map(str::to_owned)
            .collect::<Vec<_>>();
        let mut b = names(&shard_targets(reversed, shard))
            .into_iter()
            .map(str::to_owned)
            .collect::<Vec<_>>();
        a.sort();
        b.sort();
        assert_eq!(a, b);
    }

    #[test]
    fn a_snapshot_stands_in_for_the_organization_listing() {
        let doc = doc(
            "[organization]\nrole_name = \"r\"\nexclude = [\"sandbox\"]\n\
             [[account]]\nname = \"prod\"\n[account.users.access_keys]\nmax_age_days = 30\n",
        );
        let state = AccountState::new;
        let accounts: BTreeMap<String, AccountState> = [
            ("prod", state("111111111111")),
            ("dev", state("222222222222")),
            ("sandbox", state("333333333333")),
        ]
        .into_iter()
        .map(|(n, s)| (n.to_owned(), s))
        .collect();
        let targets = snapshot_targets(&doc, &accounts, &[]).unwrap();
        assert_eq!(names(&targets), ["prod", "dev"]);
        assert_eq!(targets[0].rules.access_keys.max_age_days, Some(30));
        let runs = plan_snapshot(targets, accounts, Utc::now());
        assert!(runs.iter().all(|r| r.plan.error.is_none()));
        assert_eq!(runs[1].plan.account_id, "222222222222");
    }
}
