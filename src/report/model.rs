//! The report's model, pure: plans of many runs and shards (plain values) in, one history of
//! fleets out. Plans of one run merge into one fleet; runs are ordered by `as_of`; each item is
//! identified across runs by account + address + rule (as Security Hub's ids are) and is
//! `new`, `open` or `fixed` relative to the last run that read its account.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};

use chrono::{DateTime, NaiveDate, Utc};

use crate::plan::Action;

/// The rule areas of the report's matrix: where in an account an item is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Area {
    PasswordPolicy,
    Console,
    Mfa,
    AccessKeys,
    OtherCredentials,
    Root,
    Policies,
    CloudTrail,
    /// The IAM users as a population: who may exist, exceptions, tags, break-glass use.
    Users,
    /// Settings of the account or organization itself: security contact, Access Analyzer,
    /// centralized root access.
    Account,
}

impl Area {
    /// Every area, in the matrix's column order.
    pub const ALL: [Area; 10] = [
        Area::PasswordPolicy,
        Area::Console,
        Area::Mfa,
        Area::AccessKeys,
        Area::OtherCredentials,
        Area::Root,
        Area::Policies,
        Area::CloudTrail,
        Area::Users,
        Area::Account,
    ];

    pub fn title(self) -> &'static str {
        match self {
            Area::PasswordPolicy => "Password policy",
            Area::Console => "Console",
            Area::Mfa => "MFA",
            Area::AccessKeys => "Access keys",
            Area::OtherCredentials => "Other credentials",
            Area::Root => "Root",
            Area::Policies => "Policies",
            Area::CloudTrail => "CloudTrail",
            Area::Users => "Users",
            Area::Account => "Account",
        }
    }

    /// A short name for anchors and CSS classes.
    pub fn slug(self) -> &'static str {
        match self {
            Area::PasswordPolicy => "password",
            Area::Console => "console",
            Area::Mfa => "mfa",
            Area::AccessKeys => "keys",
            Area::OtherCredentials => "credentials",
            Area::Root => "root",
            Area::Policies => "policies",
            Area::CloudTrail => "cloudtrail",
            Area::Users => "users",
            Area::Account => "account",
        }
    }
}

/// What an item is: a change `apply` would make, or a finding that is only reported.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum ItemKind {
    Change(Action),
    Finding,
}

impl ItemKind {
    /// The action, or `finding`: the CSV's and tables' "action or finding".
    pub fn label(self) -> &'static str {
        match self {
            ItemKind::Change(action) => action.as_str(),
            ItemKind::Finding => "finding",
        }
    }

    pub fn severity(self) -> Severity {
        match self {
            ItemKind::Finding => Severity::Report,
            ItemKind::Change(action) => match action {
                Action::Delete => Severity::Delete,
                Action::Deactivate => Severity::Deactivate,
                Action::Create | Action::Attach | Action::Rotate => Severity::Create,
                // A reset, timing tags, and detaching the deny policy (which lifts a
                // restriction) change something that stays.
                Action::Update
                | Action::ResetPassword
                | Action::Tag
                | Action::Untag
                | Action::Detach => Severity::Update,
            },
        }
    }
}

/// How much an item takes away, most first: the "at a glance" counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Severity {
    Delete,
    Deactivate,
    Create,
    Update,
    Report,
}

impl Severity {
    pub const ALL: [Severity; 5] = [
        Severity::Delete,
        Severity::Deactivate,
        Severity::Create,
        Severity::Update,
        Severity::Report,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Delete => "delete",
            Severity::Deactivate => "deactivate",
            Severity::Create => "create",
            Severity::Update => "update",
            Severity::Report => "report",
        }
    }
}

/// One change or finding of a plan file, as the report needs it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Item {
    pub address: String,
    /// As plans print it (a notice's ends in `.notice`).
    pub rule: String,
    pub area: Area,
    pub kind: ItemKind,
    /// A finding's message, or what a change does.
    pub message: String,
    pub owner: Option<String>,
    /// When a notice's action falls due.
    pub due: Option<DateTime<Utc>>,
    /// CIS controls (v3.0.0 ids).
    pub controls: Vec<String>,
}

/// One account of one plan file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccountInput {
    pub name: String,
    pub account_id: String,
    /// Set when the account could not be read: its items are then unknown, not fixed.
    pub error: Option<String>,
    pub items: Vec<Item>,
}

impl AccountInput {
    /// What identifies the account across runs: its id, or its name where a plan has no id.
    fn key(&self) -> &str {
        if self.account_id.is_empty() {
            &self.name
        } else {
            &self.account_id
        }
    }
}

/// One plan file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlanInput {
    /// Where it was read from (a path or an `s3://` URL), for messages.
    pub source: String,
    /// `plan --run-id`: plans with the same one are shards of one run.
    pub run_id: Option<String>,
    pub as_of: DateTime<Utc>,
    pub accounts: Vec<AccountInput>,
}

/// Where an item stands in a run, relative to the last run that read its account.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Status {
    /// Not there the last time the account was read (or the account is read for the first
    /// time).
    New,
    /// There the last time too.
    Open,
    /// There the last time, gone now.
    Fixed,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Status::New => "new",
            Status::Open => "open",
            Status::Fixed => "fixed",
        }
    }
}

/// An item in one run of the history.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReportItem {
    pub item: Item,
    pub status: Status,
    /// The `as_of` of the first run that had it.
    pub first_seen: DateTime<Utc>,
}

/// One account in one run: its items (new and open) and what was fixed since the last run
/// that read it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccountRun {
    pub name: String,
    pub account_id: String,
    pub error: Option<String>,
    pub items: Vec<ReportItem>,
    pub fixed: Vec<ReportItem>,
}

impl AccountRun {
    pub fn changes(&self) -> usize {
        self.items
            .iter()
            .filter(|i| matches!(i.item.kind, ItemKind::Change(_)))
            .count()
    }

    pub fn findings(&self) -> usize {
        self.items.len() - self.changes()
    }

    /// The key that identifies the account across runs.
    pub fn key(&self) -> &str {
        if self.account_id.is_empty() {
            &self.name
        } else {
            &self.account_id
        }
    }
}

/// One run: the plans of one `--run-id`, or the shards taken on one day over disjoint
/// accounts, merged into one fleet.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Run {
    pub run_id: Option<String>,
    /// The earliest `as_of` of its plans.
    pub as_of: DateTime<Utc>,
    pub sources: Vec<String>,
    /// By name, then id.
    pub accounts: Vec<AccountRun>,
}

/// The fleet's counts in one run.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Counts {
    pub accounts: usize,
    pub in_sync: usize,
    pub with_changes: usize,
    pub with_findings: usize,
    pub failed: usize,
    pub changes: usize,
    pub findings: usize,
    pub new: usize,
    pub fixed: usize,
    pub by_severity: BTreeMap<Severity, usize>,
    pub by_area: BTreeMap<Area, usize>,
}

impl Run {
    /// The run's name in tables: its run id, or when it was taken.
    pub fn label(&self) -> String {
        match &self.run_id {
            Some(id) => id.clone(),
            None => self.as_of.format("%Y-%m-%d %H:%MZ").to_string(),
        }
    }

    pub fn counts(&self) -> Counts {
        let mut counts = Counts {
            accounts: self.accounts.len(),
            ..Counts::default()
        };
        for account in &self.accounts {
            let (changes, findings) = (account.changes(), account.findings());
            if account.error.is_some() {
                counts.failed += 1;
            } else if changes == 0 && findings == 0 {
                counts.in_sync += 1;
            }
            counts.with_changes += usize::from(changes > 0);
            counts.with_findings += usize::from(findings > 0);
            counts.changes += changes;
            counts.findings += findings;
            counts.fixed += account.fixed.len();
            for item in &account.items {
                counts.new += usize::from(item.status == Status::New);
                *counts
                    .by_severity
                    .entry(item.item.kind.severity())
                    .or_default() += 1;
                *counts.by_area.entry(item.item.area).or_default() += 1;
            }
        }
        counts
    }
}

/// Every run, oldest first.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Report {
    pub runs: Vec<Run>,
}

impl Report {
    /// The run the report is about; the others are its history.
    pub fn latest(&self) -> Option<&Run> {
        self.runs.last()
    }
}

/// Plans that cannot be put together.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MergeError {
    #[error("no plan to report on")]
    Empty,
    #[error(
        "account {account} is in both {first} and {second}, plans of the same run {run}: \
         shards of one run cover each account once"
    )]
    DuplicateAccount {
        account: String,
        run: String,
        first: String,
        second: String,
    },
}

/// An item's identity across runs within its account: address + rule.
type ItemKey = (String, String);

fn item_key(item: &Item) -> ItemKey {
    (item.address.clone(), item.rule.clone())
}

/// Puts plans together: runs (by `--run-id`, or shards of one day over disjoint accounts),
/// ordered by `as_of`, each item with its status and first sighting.
pub fn build(mut plans: Vec<PlanInput>) -> Result<Report, MergeError> {
    if plans.is_empty() {
        return Err(MergeError::Empty);
    }
    plans.sort_by(|a, b| (a.as_of, &a.source).cmp(&(b.as_of, &b.source)));
    let groups = group_runs(plans)?;

    // Per account: the items the last run that read it had, and when each was first seen.
    let mut last_seen: HashMap<String, Vec<Item>> = HashMap::new();
    let mut first_seen: HashMap<(String, ItemKey), DateTime<Utc>> = HashMap::new();
    let mut runs = Vec::with_capacity(groups.len());
    for group in groups {
        let run_as_of = group.as_of;
        let mut accounts: Vec<AccountRun> = group
            .accounts
            .into_iter()
            .map(|account| {
                let key = account.key().to_owned();
                if account.error.is_some() {
                    // Not read: what it had stays as it was known, neither open nor fixed.
                    return AccountRun {
                        name: account.name,
                        account_id: account.account_id,
                        error: account.error,
                        items: Vec::new(),
                        fixed: Vec::new(),
                    };
                }
                let previous = last_seen.remove(&key);
                let before: HashSet<ItemKey> = previous.iter().flatten().map(item_key).collect();
                let now: HashSet<ItemKey> = account.items.iter().map(item_key).collect();
                let items = account
                    .items
                    .iter()
                    .map(|item| {
                        let seen = *first_seen
                            .entry((key.clone(), item_key(item)))
                            .or_insert(run_as_of);
                        ReportItem {
                            item: item.clone(),
                            status: if before.contains(&item_key(item)) {
                                Status::Open
                            } else {
                                Status::New
                            },
                            first_seen: seen,
                        }
                    })
                    .collect();
                let mut fixed_keys = BTreeSet::new();
                let fixed = previous
                    .into_iter()
                    .flatten()
                    .filter(|item| !now.contains(&item_key(item)))
                    .filter(|item| fixed_keys.insert(item_key(item)))
                    .map(|item| ReportItem {
                        first_seen: first_seen
                            .get(&(key.clone(), item_key(&item)))
                            .copied()
                            .unwrap_or(run_as_of),
                        item,
                        status: Status::Fixed,
                    })
                    .collect();
                last_seen.insert(key, account.items);
                AccountRun {
                    name: account.name,
                    account_id: account.account_id,
                    error: None,
                    items,
                    fixed,
                }
            })
            .collect();
        accounts.sort_by(|a, b| (&a.name, &a.account_id).cmp(&(&b.name, &b.account_id)));
        runs.push(Run {
            run_id: group.run_id,
            as_of: run_as_of,
            sources: group.sources,
            accounts,
        });
    }
    Ok(Report { runs })
}

/// The plans of one run, before statuses.
struct RunGroup {
    run_id: Option<String>,
    as_of: DateTime<Utc>,
    day: NaiveDate,
    sources: Vec<String>,
    /// Account key → the plan it came from.
    seen: HashMap<String, String>,
    accounts: Vec<AccountInput>,
}

impl RunGroup {
    fn new(plan: &PlanInput) -> Self {
        Self {
            run_id: plan.run_id.clone(),
            as_of: plan.as_of,
            day: plan.as_of.date_naive(),
            sources: Vec::new(),
            seen: HashMap::new(),
            accounts: Vec::new(),
        }
    }

    fn disjoint_from(&self, plan: &PlanInput) -> bool {
        plan.accounts
            .iter()
            .all(|a| !self.seen.contains_key(a.key()))
    }

    fn add(&mut self, plan: PlanInput) -> Result<(), MergeError> {
        for account in plan.accounts {
            if let Some(first) = self.seen.get(account.key()) {
                return Err(MergeError::DuplicateAccount {
                    account: account.name,
                    run: self.run_id.clone().unwrap_or_else(|| self.day.to_string()),
                    first: first.clone(),
                    second: plan.source,
                });
            }
            self.seen
                .insert(account.key().to_owned(), plan.source.clone());
            self.accounts.push(account);
        }
        self.sources.push(plan.source);
        Ok(())
    }
}

/// Plans (sorted by `as_of`) into runs: the same `run_id`, or, without one, the latest run of
/// the same day (also without one) whose accounts are disjoint from the plan's.
fn group_runs(plans: Vec<PlanInput>) -> Result<Vec<RunGroup>, MergeError> {
    let mut groups: Vec<RunGroup> = Vec::new();
    for plan in plans {
        let joins = match &plan.run_id {
            Some(id) => groups.iter().position(|g| g.run_id.as_ref() == Some(id)),
            None => groups
                .iter()
                .rposition(|g| g.run_id.is_none())
                .filter(|&i| {
                    groups[i].day == plan.as_of.date_naive() && groups[i].disjoint_from(&plan)
                }),
        };
        match joins {
            Some(i) => groups[i].add(plan)?,
            None => {
                let mut group = RunGroup::new(&plan);
                group.add(plan)?;
                groups.push(group);
            }
        }
    }
    groups.sort_by_key(|g| g.as_of);
    Ok(groups)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(day: u32, hour: u32) -> DateTime<Utc> {
        format!("2026-11-{day:02}T{hour:02}:00:00Z")
            .parse()
            .unwrap()
    }

    fn finding(address: &str, rule: &str) -> Item {
        Item {
            address: address.into(),
            rule: rule.into(),
            area: Area::Mfa,
            kind: ItemKind::Finding,
            message: "console access without MFA".into(),
            owner: None,
            due: None,
            controls: vec!["1.10".into()],
        }
    }

    fn account(name: &str, id: &str, items: Vec<Item>) -> AccountInput {
        AccountInput {
            name: name.into(),
            account_id: id.into(),
            error: None,
            items,
        }
    }

    fn plan(source: &str, as_of: DateTime<Utc>, accounts: Vec<AccountInput>) -> PlanInput {
        PlanInput {
            source: source.into(),
            run_id: None,
            as_of,
            accounts,
        }
    }

    fn statuses(account: &AccountRun) -> Vec<(String, Status)> {
        account
            .items
            .iter()
            .chain(&account.fixed)
            .map(|i| (i.item.address.clone(), i.status))
            .collect()
    }

    #[test]
    fn shards_of_one_day_over_disjoint_accounts_are_one_fleet() {
        let report = build(vec![
            plan("b.json", at(2, 9), vec![account("beta", "222", vec![])]),
            plan("a.json", at(2, 8), vec![account("alpha", "111", vec![])]),
        ])
        .unwrap();
        assert_eq!(report.runs.len(), 1);
        let run = &report.runs[0];
        assert_eq!(run.as_of, at(2, 8));
        assert_eq!(run.sources, ["a.json", "b.json"]);
        let names: Vec<&str> = run.accounts.iter().map(|a| a.name.as_str()).collect();
        assert_eq!(names, ["alpha", "beta"]);
    }

    #[test]
    fn the_same_account_twice_a_day_is_two_runs_and_other_days_are_history() {
        let report = build(vec![
            plan("3.json", at(3, 8), vec![account("alpha", "111", vec![])]),
            plan("1.json", at(2, 8), vec![account("alpha", "111", vec![])]),
            plan("2.json", at(2, 20), vec![account("alpha", "111", vec![])]),
        ])
        .unwrap();
        let order: Vec<&str> = report.runs.iter().map(|r| r.sources[0].as_str()).collect();
        assert_eq!(order, ["1.json", "2.json", "3.json"]);
    }

    #[test]
    fn a_run_id_merges_plans_of_different_days_and_refuses_an_account_twice() {
        let mut first = plan("a.json", at(2, 23), vec![account("alpha", "111", vec![])]);
        let mut second = plan("b.json", at(3, 1), vec![account("beta", "222", vec![])]);
        first.run_id = Some("ci-42".into());
        second.run_id = Some("ci-42".into());
        let report = build(vec![first.clone(), second]).unwrap();
        assert_eq!(report.runs.len(), 1);
        assert_eq!(report.runs[0].label(), "ci-42");
        assert_eq!(report.runs[0].accounts.len(), 2);

        let mut again = plan("c.json", at(3, 2), vec![account("alpha", "111", vec![])]);
        again.run_id = Some("ci-42".into());
        assert_eq!(
            build(vec![first, again]),
            Err(MergeError::DuplicateAccount {
                account: "alpha".into(),
                run: "ci-42".into(),
                first: "a.json".into(),
                second: "c.json".into(),
            })
        );
    }

    #[test]
    fn items_are_new_then_open_then_fixed_by_account_address_and_rule() {
        let bob = finding("user.bob", "users.console.require_mfa");
        let carol = finding("user.carol", "users.console.require_mfa");
        let report = build(vec![
            plan(
                "1.json",
                at(1, 8),
                vec![account("alpha", "111", vec![bob.clone()])],
            ),
            plan(
                "2.json",
                at(2, 8),
                vec![account("alpha", "111", vec![bob.clone(), carol.clone()])],
            ),
            plan(
                "3.json",
                at(3, 8),
                vec![account("alpha", "111", vec![carol])],
            ),
        ])
        .unwrap();
        let runs: Vec<_> = report
            .runs
            .iter()
            .map(|r| statuses(&r.accounts[0]))
            .collect();
        assert_eq!(runs[0], [("user.bob".into(), Status::New)]);
        assert_eq!(
            runs[1],
            [
                ("user.bob".into(), Status::Open),
                ("user.carol".into(), Status::New)
            ]
        );
        assert_eq!(
            runs[2],
            [
                ("user.carol".into(), Status::Open),
                ("user.bob".into(), Status::Fixed)
            ]
        );
        // First seen is the first run that had the item, whatever came after.
        let last = &report.runs[2].accounts[0];
        assert_eq!(last.items[0].first_seen, at(2, 8));
        assert_eq!(last.fixed[0].first_seen, at(1, 8));
        let counts = report.runs[2].counts();
        assert_eq!((counts.findings, counts.new, counts.fixed), (1, 0, 1));
    }

    #[test]
    fn the_same_address_under_another_rule_is_another_item() {
        let notice = finding("user.bob", "users.console.require_mfa.notice");
        let now = finding("user.bob", "users.console.require_mfa");
        let report = build(vec![
            plan(
                "1.json",
                at(1, 8),
                vec![account("alpha", "111", vec![notice])],
            ),
            plan("2.json", at(2, 8), vec![account("alpha", "111", vec![now])]),
        ])
        .unwrap();
        assert_eq!(report.runs[1].counts().new, 1);
        assert_eq!(report.runs[1].counts().fixed, 1);
    }

    #[test]
    fn an_account_not_read_fixes_nothing_and_keeps_its_items_for_the_next_run() {
        let bob = finding("user.bob", "users.console.require_mfa");
        let mut failed = account("alpha", "111", vec![]);
        failed.error = Some("AccessDenied (sts:AssumeRole)".into());
        let report = build(vec![
            plan(
                "1.json",
                at(1, 8),
                vec![account("alpha", "111", vec![bob.clone()])],
            ),
            plan("2.json", at(2, 8), vec![failed]),
            plan("3.json", at(3, 8), vec![account("alpha", "111", vec![bob])]),
        ])
        .unwrap();
        let failed_run = report.runs[1].counts();
        assert_eq!(
            (failed_run.failed, failed_run.fixed, failed_run.in_sync),
            (1, 0, 0)
        );
        // Compared with the last run that read it, bob's finding is still open.
        assert_eq!(
            statuses(&report.runs[2].accounts[0]),
            [("user.bob".into(), Status::Open)]
        );
    }

    #[test]
    fn counts_by_severity_and_state() {
        let mut delete = finding("user.bob.login_profile", "user.console");
        delete.kind = ItemKind::Change(Action::Delete);
        delete.area = Area::Console;
        let report = build(vec![plan(
            "1.json",
            at(1, 8),
            vec![
                account(
                    "alpha",
                    "111",
                    vec![delete, finding("user.carol", "users.console.require_mfa")],
                ),
                account("beta", "222", vec![]),
            ],
        )])
        .unwrap();
        let counts = report.runs[0].counts();
        assert_eq!(counts.in_sync, 1);
        assert_eq!(counts.with_changes, 1);
        assert_eq!(counts.with_findings, 1);
        assert_eq!(counts.by_severity.get(&Severity::Delete), Some(&1));
        assert_eq!(counts.by_severity.get(&Severity::Report), Some(&1));
        assert_eq!(counts.by_area.get(&Area::Console), Some(&1));
        assert_eq!(build(vec![]), Err(MergeError::Empty));
    }
}
