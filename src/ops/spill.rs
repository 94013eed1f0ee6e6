//! A fleet's plan kept on disk while the run goes on: each account's plan (and, for `apply`,
//! the state it was planned from) is written to an unnamed temporary file the moment it is
//! made, in the order accounts finish, and read back one account at a time in plan order.
//! What stays in memory is the [`PlanOutline`] (counts per account) and where each account
//! lies in the file, so a run over a thousand accounts holds what the accounts in flight need,
//! not every account.

use std::collections::BTreeMap;
use std::fs::File;
use std::io::{self, BufWriter, Read, Seek, SeekFrom, Write};

use chrono::{DateTime, Utc};
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::plan::{AccountLine, AccountPlan, Plan, PlanOutline};
use crate::state::AccountState;

/// Where one account's records lie in the spill file.
#[derive(Debug, Clone)]
struct Entry {
    /// The account's position in plan order (its target's).
    position: usize,
    line: AccountLine,
    plan: Span,
    /// The state it was planned from, when it was kept (`apply`).
    live: Option<Span>,
}

#[derive(Debug, Clone, Copy)]
struct Span {
    offset: u64,
    len: usize,
}

/// A plan being written, account by account, in any order.
pub struct PlanSpill {
    file: BufWriter<File>,
    written: u64,
    entries: Vec<Entry>,
}

impl PlanSpill {
    /// A spill file in the system's temporary directory (`TMPDIR`), removed when the spill is
    /// dropped (unnamed: nothing is left behind by a killed run either).
    pub fn new() -> io::Result<Self> {
        Ok(Self {
            file: BufWriter::new(tempfile::tempfile()?),
            written: 0,
            entries: Vec::new(),
        })
    }

    /// Keeps `plan`, the account at `position` in plan order, and `live` when given.
    pub fn push(
        &mut self,
        position: usize,
        plan: &AccountPlan,
        live: Option<&AccountState>,
    ) -> io::Result<()> {
        let plan_span = self.write(plan)?;
        let live = live.map(|live| self.write(live)).transpose()?;
        self.entries.push(Entry {
            position,
            line: AccountLine::of(plan),
            plan: plan_span,
            live,
        });
        Ok(())
    }

    fn write<T: Serialize>(&mut self, value: &T) -> io::Result<Span> {
        let bytes = serde_json::to_vec(value)?;
        self.file.write_all(&bytes)?;
        let span = Span {
            offset: self.written,
            len: bytes.len(),
        };
        self.written += bytes.len() as u64;
        Ok(span)
    }

    /// The plan as of `as_of`, its accounts in plan order; `targets` as [`Plan::targets`].
    pub fn finish(
        mut self,
        as_of: DateTime<Utc>,
        targets: BTreeMap<String, Vec<String>>,
    ) -> io::Result<SpilledPlan> {
        self.file.flush()?;
        let file = self
            .file
            .into_inner()
            .map_err(io::IntoInnerError::into_error)?;
        self.entries.sort_by_key(|e| e.position);
        let mut outline = PlanOutline::new(as_of);
        for entry in &self.entries {
            outline.summary.changes += entry.line.changes;
            outline.summary.findings += entry.line.findings;
            outline.summary.failed_accounts += usize::from(entry.line.failed);
            outline.accounts.push(entry.line.clone());
        }
        outline.targets = targets;
        Ok(SpilledPlan {
            file,
            entries: self.entries,
            outline,
        })
    }
}

/// A plan on disk: its outline in memory, each account read back when asked for.
#[derive(Debug)]
pub struct SpilledPlan {
    file: File,
    entries: Vec<Entry>,
    outline: PlanOutline,
}

impl SpilledPlan {
    pub fn outline(&self) -> &PlanOutline {
        &self.outline
    }

    /// `plan --run-id`: recorded in the plan, for `iamctl report` to merge a run's shards.
    pub fn set_run_id(&mut self, run_id: Option<String>) {
        self.outline.run_id = run_id;
    }

    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// The plan of the account at `index` in plan order.
    pub fn account(&self, index: usize) -> io::Result<AccountPlan> {
        self.read(self.entries[index].plan)
    }

    /// The state the account at `index` was planned from, when it was kept.
    pub fn live(&self, index: usize) -> io::Result<Option<AccountState>> {
        self.entries[index]
            .live
            .map(|span| self.read(span))
            .transpose()
    }

    fn read<T: DeserializeOwned>(&self, span: Span) -> io::Result<T> {
        let mut file = &self.file;
        file.seek(SeekFrom::Start(span.offset))?;
        let mut bytes = vec![0; span.len];
        file.read_exact(&mut bytes)?;
        Ok(serde_json::from_slice(&bytes)?)
    }

    /// The whole plan in memory, for what needs it at once (SARIF, `watch`'s dry run).
    pub fn to_plan(&self) -> io::Result<Plan> {
        let accounts = (0..self.len())
            .map(|index| self.account(index))
            .collect::<io::Result<Vec<_>>>()?;
        let mut plan = Plan::new(self.outline.as_of, accounts);
        plan.run_id.clone_from(&self.outline.run_id);
        plan.targets.clone_from(&self.outline.targets);
        Ok(plan)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::render::{JsonSections, Sections, TextOptions, TextSections};
    use crate::testing::{account, as_of, user};

    #[test]
    fn accounts_spilled_in_any_order_render_as_the_plan_in_plan_order() {
        let rules = crate::desired::load_sources(vec![(
            "t.toml".into(),
            "[users.console]\nrequire_mfa = true\n".into(),
        )])
        .unwrap()
        .rules_for(None);
        let plans: Vec<AccountPlan> = ["a", "b", "c"]
            .iter()
            .map(|name| {
                let state = account([user(&format!("{name}-user")).console(10).build()]);
                crate::plan::plan_account(name, &rules, &state, as_of())
            })
            .chain([AccountPlan::failed("d", "", "AccessDenied".into())])
            .collect();
        let mut spill = PlanSpill::new().unwrap();
        let state = account([user("x").build()]);
        for position in [2, 0, 3, 1] {
            spill
                .push(position, &plans[position], Some(&state))
                .unwrap();
        }
        let spilled = spill.finish(as_of(), BTreeMap::new()).unwrap();
        let whole = Plan::new(as_of(), plans);
        assert_eq!(spilled.to_plan().unwrap(), whole);
        assert_eq!(spilled.outline(), &PlanOutline::of(&whole));
        assert_eq!(spilled.live(1).unwrap(), Some(state));
        let opts = TextOptions::default();
        for sections in [&TextSections(opts) as &dyn Sections, &JsonSections] {
            let mut out = Vec::new();
            crate::render::spilled(sections, &spilled, &mut out).unwrap();
            assert_eq!(
                String::from_utf8(out).unwrap(),
                crate::render::whole(sections, &whole)
            );
        }
    }
}
