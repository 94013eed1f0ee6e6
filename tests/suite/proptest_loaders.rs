//! Fuzzing the loaders of untrusted files with proptest: the desired-state TOML loader, the
//! snapshot reader and the saved-plan reader. Whatever the bytes, a loader returns a value
//! or an error, never panics; an error points inside the text it came from and renders
//! (through miette, as the binary prints it) without panicking; what loads round-trips.
//!
//! CI runs the default 256 cases per property (a few seconds). By hand, longer:
//!
//! ```sh
//! PROPTEST_CASES=20000 cargo test --release --test suite proptest_loaders::
//! ```
//! A failure is shrunk to a minimal input, and saved under `tests/proptest-regressions/`
//! so that it is tried first on every later run.

use std::path::Path;

use iamctl::desired::{LoadError, load_sources};
use iamctl::live::snapshot::parse_snapshot;
use iamctl::plan::{Address, Plan};
use proptest::prelude::*;

/// Renders a diagnostic the way `main` prints errors (no colour, no wrapping).
fn render(diagnostic: &dyn miette::Diagnostic) -> String {
    let mut out = String::new();
    miette::GraphicalReportHandler::new_themed(miette::GraphicalTheme::unicode_nocolor())
        .with_width(100)
        .render_report(&mut out, diagnostic)
        .expect("rendering an error");
    out
}

/// Checks a desired-state load of `text`: no panic (proptest reports one), and every
/// problem located inside the text.
fn check_desired(text: &str) {
    match load_sources(vec![("fuzz.toml".into(), text.to_owned())]) {
        Ok(doc) => {
            // A valid document resolves into rules for each of its targets.
            doc.rules_for(None);
            for account in &doc.account {
                doc.rules_for(Some(account));
            }
        }
        Err(err) => {
            if let LoadError::Invalid { problems } = &err {
                assert!(!problems.is_empty());
                let lines = text.split('\n').count();
                for problem in problems {
                    assert_eq!(problem.file, "fuzz.toml");
                    assert!(
                        problem.line >= 1 && problem.line <= lines,
                        "line {} of {lines}: {problem}",
                        problem.line
                    );
                    assert!(problem.column >= 1, "{problem}");
                    assert!(!problem.message.trim().is_empty(), "{problem}");
                }
            }
            let shown = render(&err);
            assert!(!shown.is_empty());
        }
    }
}

fn check_snapshot(text: &str) {
    match parse_snapshot(Path::new("fuzz.json"), text.to_owned()) {
        Ok(snapshot) => {
            // What loads writes back and loads again as the same.
            let again = serde_json::to_string(&snapshot).unwrap();
            let reread = parse_snapshot(Path::new("again.json"), again).unwrap();
            assert_eq!(reread, snapshot);
        }
        Err(err) => {
            let shown = render(&err);
            assert!(shown.contains("fuzz.json"), "{shown}");
        }
    }
}

/// The saved-plan reader (`apply PLANFILE`) parses with serde into [`Plan`].
fn check_plan(text: &str) {
    if let Ok(plan) = serde_json::from_str::<Plan>(text) {
        let again = serde_json::to_string(&plan).unwrap();
        let reread: Plan = serde_json::from_str(&again).unwrap();
        assert_eq!(reread, plan);
        for account in &plan.accounts {
            for change in &account.changes {
                let text = change.address().to_string();
                assert_eq!(text.parse::<Address>().unwrap(), change.address(), "{text}");
            }
        }
    }
}

/// TOML-ish text: the desired state's own vocabulary, values of every type (including
/// extremes and non-ASCII), brackets and quotes, so that many cases get past the parser.
fn tomlish() -> impl Strategy<Value = String> {
    const KEYS: &[&str] = &[
        "password_policy",
        "minimum_length",
        "max_age_days",
        "reuse_prevention",
        "require_symbols",
        "ensure",
        "users",
        "users.console",
        "users.access_keys",
        "exempt",
        "exempt_tags",
        "require_mfa",
        "without_mfa",
        "max_unused_days",
        "on_unused",
        "on_expired",
        "delete_inactive",
        "max_active",
        "name",
        "console",
        "password_reset_required",
        "role_arn",
        "external_id",
        "audit",
        "require_cloudtrail",
    ];
    let key = prop_oneof![
        4 => proptest::sample::select(KEYS).prop_map(str::to_owned),
        1 => "[a-z_]{1,12}",
        1 => "\\PC{1,6}",
    ];
    let value = prop_oneof![
        any::<i64>().prop_map(|n| n.to_string()),
        (0i64..200).prop_map(|n| n.to_string()),
        Just("99999999999999999999999".to_owned()),
        any::<bool>().prop_map(|b| b.to_string()),
        any::<f64>().prop_map(|f| format!("{f:?}")),
        Just("inf".to_owned()),
        Just("nan".to_owned()),
        "\\PC{0,12}".prop_map(|s| format!("{s:?}")),
        "[a-z*?\\[\\]-]{0,10}".prop_map(|s| format!("\"{s}\"")),
        Just("\"deny-until-mfa\"".to_owned()),
        Just("\"absent\"".to_owned()),
        Just("\"arn:aws:iam::123456789012:role/x\"".to_owned()),
        Just("[\"a\", 1, true]".to_owned()),
        Just("{ a = \"b\" }".to_owned()),
        Just("1979-05-27T07:32:00Z".to_owned()),
    ];
    let line = prop_oneof![
        (key.clone(), value).prop_map(|(k, v)| format!("{k} = {v}")),
        key.clone().prop_map(|k| format!("[{k}]")),
        prop_oneof![Just("user"), Just("account")].prop_map(|k| format!("[[{k}]]")),
        "\\PC{0,20}",
        Just(String::new()),
    ];
    proptest::collection::vec(line, 0..24).prop_map(|lines| lines.join("\n"))
}

/// A valid, fairly full desired state, to be cut and corrupted.
const VALID: &str = r#"[password_policy]
minimum_length = 14
require_symbols = true
max_age_days = 90
reuse_prevention = 24

[users]
exempt = ["break-glass-*"]
exempt_tags = { "iam-exempt" = "true" }

[users.console]
require_mfa = true
without_mfa = "deny-until-mfa"
max_unused_days = 45

[users.access_keys]
max_age_days = 90
on_expired = "delete"
delete_inactive = true
max_active = 1

[[user]]
name = "ci-deployer"
console = false

[[account]]
name = "prod"
role_arn = "arn:aws:iam::111111111111:role/iamctl"
[account.users.access_keys]
max_age_days = 30
"#;

const VALID_SNAPSHOT: &str = r#"{"format_version": "1", "taken_at": "2026-11-23T00:00:00Z", "accounts": [{"name": "prod", "account_id": "111111111111", "password_policy": {"minimum_length": 14, "require_uppercase": true, "require_lowercase": true, "require_numbers": true, "require_symbols": true, "allow_users_to_change": true, "max_age_days": 90, "reuse_prevention": 24, "hard_expiry": false}, "users": [{"name": "alice", "created": "2024-01-01T00:00:00Z", "tags": {"team": "x"}}]}]}"#;

const VALID_PLAN: &str = r#"{"format_version": "1", "as_of": "2026-11-23T00:00:00Z", "accounts": [{"name": "default", "account_id": "123456789012", "changes": [{"address": "user.ci.bot.access_key.AKIAEXAMPLE", "action": "delete", "rule": "users.access_keys.delete_inactive", "before": {"status": "Inactive"}, "after": null}, {"address": "password_policy", "action": "update", "rule": "password_policy", "before": {"minimum_length": 8}, "after": {"minimum_length": 14}}], "findings": [{"address": "user.bob", "rule": "users.console.require_mfa", "message": "console access without MFA"}]}], "summary": {"changes": 2, "findings": 1}}"#;

/// `text` with a slice replaced by `insert`, at char boundaries picked by the two fractions.
fn splice(text: &str, at: f64, cut: f64, insert: &str) -> String {
    let chars: Vec<char> = text.chars().collect();
    let start = ((chars.len() as f64) * at) as usize;
    let end = (start + ((chars.len() - start) as f64 * cut) as usize).min(chars.len());
    chars[..start]
        .iter()
        .chain(insert.chars().collect::<Vec<_>>().iter())
        .chain(chars[end..].iter())
        .collect()
}

proptest! {
    #[test]
    fn desired_loader_survives_arbitrary_text(text in "\\PC{0,400}") {
        check_desired(&text);
    }

    #[test]
    fn desired_loader_survives_arbitrary_bytes_as_text(bytes in proptest::collection::vec(any::<u8>(), 0..400)) {
        check_desired(&String::from_utf8_lossy(&bytes));
    }

    #[test]
    fn desired_loader_survives_tomlish_documents(text in tomlish()) {
        check_desired(&text);
    }

    #[test]
    fn desired_loader_survives_a_corrupted_valid_document(
        at in 0.0..1.0f64, cut in 0.0..0.3f64, insert in "\\PC{0,8}"
    ) {
        check_desired(&splice(VALID, at, cut, &insert));
    }

    #[test]
    fn snapshot_reader_survives_arbitrary_text(text in "\\PC{0,400}") {
        check_snapshot(&text);
    }

    #[test]
    fn snapshot_reader_survives_a_corrupted_valid_snapshot(
        at in 0.0..1.0f64, cut in 0.0..0.3f64, insert in "[\\[\\]{}\",:0-9a-z\\-. ]{0,8}"
    ) {
        check_snapshot(&splice(VALID_SNAPSHOT, at, cut, &insert));
    }

    #[test]
    fn plan_reader_survives_arbitrary_text(text in "\\PC{0,400}") {
        check_plan(&text);
    }

    #[test]
    fn plan_reader_survives_a_corrupted_valid_plan(
        at in 0.0..1.0f64, cut in 0.0..0.3f64, insert in "[\\[\\]{}\",:0-9a-z_\\-. ]{0,8}"
    ) {
        check_plan(&splice(VALID_PLAN, at, cut, &insert));
    }

    #[test]
    fn addresses_parse_or_refuse_and_round_trip(text in "(user\\.)?[a-z.@_\\-]{0,12}(\\.login_profile|\\.access_key\\.[A-Z0-9.]{0,6}|\\.policy\\.[a-z\\-.]{0,8})?") {
        if let Ok(address) = text.parse::<Address>() {
            prop_assert_eq!(address.to_string().parse::<Address>().unwrap(), address);
        }
    }
}

/// The corpus of tests/corpus/ goes through the same checks (it is small and fixed).
#[test]
fn the_corpus_goes_through_the_loaders_without_panic() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/corpus");
    for (kind, check) in [
        ("desired", check_desired as fn(&str)),
        ("snapshot", check_snapshot),
        ("plan", check_plan),
    ] {
        for entry in std::fs::read_dir(root.join(kind)).unwrap() {
            let bytes = std::fs::read(entry.unwrap().path()).unwrap();
            check(&String::from_utf8_lossy(&bytes));
        }
    }
}
