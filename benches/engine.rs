//! Times `plan_account` on synthetic accounts of 100, 1,000 and 5,000 users with every rule on.
//! Budget: under 50 ms for 5,000 users. Run with `cargo bench --bench engine`; pass
//! `--iterations N` (after `--`) to change the number of timed runs (default 20).
//!
//! The accounts come from `tests/fixtures` (a deterministic LCG, no new dependency): half the
//! users have a console password, a quarter MFA, two thirds an active key, one in seven a
//! second, inactive key; ages are spread over 0-400 days.

#[path = "../tests/fixtures/mod.rs"]
#[allow(dead_code)] // the benchmark uses three of its functions, the suite the rest
mod fixtures;

use std::hint::black_box;
use std::time::{Duration, Instant};

use iamctl::plan::plan_account;

const SIZES: [usize; 3] = [100, 1_000, 5_000];
const BUDGET_5000: Duration = Duration::from_millis(50);

/// Every rule on, with actions that change things (so the engine builds changes, not only
/// findings), plus a few [[user]] entries.
const EVERY_RULE: &str = r#"
[password_policy]
minimum_length = 14
require_uppercase = true
require_lowercase = true
require_numbers = true
require_symbols = true
allow_users_to_change = true
max_age_days = 90
reuse_prevention = 24

[users]
exempt = ["break-glass-*", "emergency-*"]
exempt_tags = { "iam-exempt" = "true" }

[users.console]
require_mfa = true
without_mfa = "deny-until-mfa"
max_unused_days = 45
on_unused = "disable-console"
reset_on_policy_tightening = true

[users.access_keys]
max_age_days = 90
on_expired = "deactivate"
max_unused_days = 45
on_unused = "delete"
delete_inactive = true
max_active = 1

[[user]]
name = "user-00003"
console = false
[[user]]
name = "user-00004"
password_reset_required = true
[[user]]
name = "user-00007"
console = true
[[user]]
name = "user-00042"
password_reset_required = true
[[user]]
name = "former-employee"
console = false

[audit]
require_cloudtrail = true
"#;

fn main() {
    let args: Vec<String> = std::env::args().collect();
    // `cargo bench` passes --bench; `cargo test --all-targets` runs this as a smoke test.
    let benching = args.iter().any(|a| a == "--bench");
    let iterations = args
        .iter()
        .skip_while(|a| *a != "--iterations")
        .nth(1)
        .and_then(|n| n.parse::<usize>().ok())
        .unwrap_or(if benching { 20 } else { 1 })
        .max(1);
    let rules = fixtures::rules(EVERY_RULE);
    let as_of = fixtures::as_of();

    println!("plan_account, every rule on, {iterations} iterations");
    println!(
        "{:>6}  {:>9}  {:>9}  {:>9}  {:>8}  {:>8}",
        "users", "min ms", "median ms", "max ms", "changes", "findings"
    );
    let mut over_budget = false;
    for size in SIZES {
        let live = fixtures::synthetic_account(size, 42);
        // One untimed run to warm caches, and the counts to print.
        let plan = plan_account("bench", &rules, &live, as_of);
        assert!(
            !plan.changes.is_empty() && !plan.findings.is_empty(),
            "a plan with nothing to do measures nothing"
        );
        let mut times: Vec<Duration> = (0..iterations)
            .map(|_| {
                let start = Instant::now();
                let plan = plan_account("bench", black_box(&rules), black_box(&live), as_of);
                let elapsed = start.elapsed();
                black_box(plan);
                elapsed
            })
            .collect();
        times.sort();
        let ms = |d: Duration| d.as_secs_f64() * 1_000.0;
        let median = times[times.len() / 2];
        println!(
            "{size:>6}  {:>9.3}  {:>9.3}  {:>9.3}  {:>8}  {:>8}",
            ms(times[0]),
            ms(median),
            ms(times[times.len() - 1]),
            plan.changes.len(),
            plan.findings.len()
        );
        if size == 5_000 && median > BUDGET_5000 {
            over_budget = true;
        }
    }
    if !benching {
        println!("(smoke run: timings of an unoptimized build mean nothing; use cargo bench)");
    } else if over_budget {
        println!(
            "OVER BUDGET: the median for 5,000 users exceeds {} ms",
            BUDGET_5000.as_millis()
        );
    } else {
        println!(
            "within budget: 5,000 users under {} ms",
            BUDGET_5000.as_millis()
        );
    }
}
