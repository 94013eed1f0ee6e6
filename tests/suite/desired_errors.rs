//! Malformed desired-state files: every problem must name the file, the line, the column and
//! the key, and every problem in a file must be reported, not only the first.

use iamctl::desired::{ConfigProblem, LoadError, load, load_sources};

const FILE: &str = "desired/main.toml";

/// One expected problem: line, column, key, and a part of the message.
type Expected<'a> = (usize, usize, &'a str, &'a str);

fn problems_of(sources: Vec<(&str, &str)>) -> Vec<ConfigProblem> {
    let sources = sources
        .into_iter()
        .map(|(name, text)| (name.to_owned(), text.to_owned()))
        .collect();
    match load_sources(sources) {
        Ok(doc) => panic!("expected errors, the document loaded: {doc:?}"),
        Err(LoadError::Invalid { problems }) => problems,
        Err(other) => panic!("expected LoadError::Invalid, got {other:?}"),
    }
}

fn describe(problems: &[ConfigProblem]) -> String {
    problems
        .iter()
        .map(|p| {
            format!(
                "  {}:{}:{} key={:?} {:?}",
                p.file, p.line, p.column, p.key, p.message
            )
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// Asserts that loading `text` as [`FILE`] reports exactly `expected` (in any order).
fn assert_problems(text: &str, expected: &[Expected<'_>]) {
    assert_problems_in(vec![(FILE, text)], FILE, expected);
}

fn assert_problems_in(sources: Vec<(&str, &str)>, file: &str, expected: &[Expected<'_>]) {
    let problems = problems_of(sources);
    let mut unmatched: Vec<&ConfigProblem> = problems.iter().collect();
    let mut missing = Vec::new();
    for &(line, column, key, message) in expected {
        let found = unmatched.iter().position(|p| {
            p.file == file
                && p.line == line
                && p.column == column
                && p.key == key
                && p.message.contains(message)
        });
        match found {
            Some(i) => {
                unmatched.remove(i);
            }
            None => missing.push(format!(
                "  {file}:{line}:{column} key={key:?} message containing {message:?}"
            )),
        }
    }
    assert!(
        missing.is_empty() && unmatched.is_empty(),
        "expected:\n{}\nreported:\n{}",
        missing.join("\n"),
        describe(&problems)
    );
}

#[test]
fn unknown_top_level_key() {
    assert_problems(
        "[password_policy]\nminimum_length = 14\n\n[passwod_policy]\nminimum_length = 14\n",
        &[(4, 2, "passwod_policy", "unknown key `passwod_policy`")],
    );
    assert_problems(
        "# a comment\nrequire_mfa = true\n",
        &[(2, 1, "require_mfa", "unknown key `require_mfa`")],
    );
}

#[test]
fn unknown_key_in_users_console() {
    // Points at the unknown key itself, and names it.
    assert_problems(
        "[users.console]\nrequire_mfa = true\nrequire_mfaa = true\n",
        &[(
            3,
            1,
            "users.console.require_mfaa",
            "unknown field `require_mfaa`",
        )],
    );
}

#[test]
fn unknown_key_in_an_inline_table() {
    assert_problems(
        "[users]\nconsole = { require_mfa = true, bogus = 1 }\n",
        &[(2, 33, "users.console.bogus", "unknown field `bogus`")],
    );
}

#[test]
fn unknown_key_in_an_account_table() {
    assert_problems(
        "[[account]]\nname = \"prod\"\n[account.users.access_keys]\nmax_agee = 3\n",
        &[(
            4,
            1,
            "account[0].users.access_keys.max_agee",
            "unknown field `max_agee`",
        )],
    );
}

#[test]
fn wrong_types() {
    assert_problems(
        "[password_policy]\nminimum_length = \"14\"\n",
        &[(
            2,
            18,
            "password_policy.minimum_length",
            "invalid type: string \"14\"",
        )],
    );
    assert_problems(
        "[password_policy]\nrequire_symbols = 1\n",
        &[(
            2,
            19,
            "password_policy.require_symbols",
            "expected a boolean",
        )],
    );
    assert_problems(
        "[users.console]\nrequire_mfa = true\nwithout_mfa = \"nag\"\n",
        &[(3, 15, "users.console.without_mfa", "unknown variant `nag`")],
    );
    assert_problems(
        "user = { name = \"bob\" }\n",
        &[(1, 8, "user", "written [[user]]")],
    );
}

#[test]
fn out_of_range_minimum_length() {
    assert_problems(
        "[password_policy]\nminimum_length = 200\n",
        &[(
            2,
            18,
            "password_policy.minimum_length",
            "between 6 and 128, got 200",
        )],
    );
    assert_problems(
        "[password_policy]\nminimum_length = 5\n",
        &[(
            2,
            18,
            "password_policy.minimum_length",
            "between 6 and 128, got 5",
        )],
    );
}

#[test]
fn reuse_prevention_zero() {
    assert_problems(
        "[password_policy]\nminimum_length = 14\nreuse_prevention = 0\n",
        &[(
            3,
            20,
            "password_policy.reuse_prevention",
            "between 1 and 24, got 0",
        )],
    );
}

#[test]
fn out_of_range_user_rules() {
    assert_problems(
        "[users.console]\nmax_unused_days = 0\n\n[users.access_keys]\nmax_age_days = 3651\nmax_active = 3\n",
        &[
            (
                2,
                19,
                "users.console.max_unused_days",
                "between 1 and 3650, got 0",
            ),
            (
                5,
                16,
                "users.access_keys.max_age_days",
                "between 1 and 3650, got 3651",
            ),
            (
                6,
                14,
                "users.access_keys.max_active",
                "between 0 and 2, got 3",
            ),
        ],
    );
}

#[test]
fn duplicate_account_names() {
    assert_problems(
        "[[account]]\nname = \"prod\"\n\n[[account]]\nname = \"staging\"\n\n[[account]]\nname = \"prod\"\n",
        &[(8, 8, "account[2].name", "duplicate account name \"prod\"")],
    );
}

#[test]
fn duplicate_users() {
    assert_problems(
        "[[user]]\nname = \"alice\"\nconsole = true\n\n[[user]]\nname = \"bob\"\n\n[[user]]\nname = \"alice\"\n",
        &[(9, 8, "user[2].name", "duplicate user \"alice\"")],
    );
    // inside an account too
    assert_problems(
        "[[account]]\nname = \"prod\"\n[[account.user]]\nname = \"x\"\n[[account.user]]\nname = \"x\"\n",
        &[(6, 8, "account[0].user[1].name", "duplicate user \"x\"")],
    );
}

#[test]
fn bad_glob() {
    assert_problems(
        "[users]\nexempt = [\"ok-*\", \"bad-[\"]\n",
        &[(2, 19, "users.exempt[1]", "invalid glob \"bad-[\"")],
    );
}

#[test]
fn toml_syntax_errors() {
    let problems = problems_of(vec![(FILE, "[password_policy]\nminimum_length = = 14\n")]);
    assert!(!problems.is_empty());
    let first = &problems[0];
    assert_eq!(
        (
            first.file.as_str(),
            first.line,
            first.column,
            first.key.as_str()
        ),
        (FILE, 2, 18, "(document)")
    );
    assert!(first.message.contains('='), "{}", describe(&problems));

    assert_problems(
        "[password_policy\nminimum_length = 14\n",
        &[(1, 17, "(document)", "unclosed table")],
    );
}

#[test]
fn ensure_absent_with_another_field() {
    for (text, line) in [
        (
            "[password_policy]\nensure = \"absent\"\nminimum_length = 14\n",
            2,
        ),
        (
            "[password_policy]\nminimum_length = 14\nensure = \"absent\"\n",
            3,
        ),
    ] {
        assert_problems(
            text,
            &[(
                line,
                10,
                "password_policy.ensure",
                "no other password_policy field",
            )],
        );
    }
}

#[test]
fn actions_without_their_limit() {
    assert_problems(
        "[users.access_keys]\non_unused = \"delete\"\non_expired = \"deactivate\"\n",
        &[
            (
                2,
                13,
                "users.access_keys.on_unused",
                "needs max_unused_days",
            ),
            (3, 14, "users.access_keys.on_expired", "needs max_age_days"),
        ],
    );
}

#[test]
fn several_errors_in_separate_tables_are_all_reported() {
    let text = r#"[password_policy]
minimum_length = 3
reuse_prevention = 30

[users.console]
require_mfa = "yes"

[[user]]
name = "a"
[[user]]
name = "a"

[audit]
require_cloudtrail = 1

[[account]]
name = "prod"
role_arn = "not-an-arn"
"#;
    assert_problems(
        text,
        &[
            (2, 18, "password_policy.minimum_length", "between 6 and 128"),
            (
                3,
                20,
                "password_policy.reuse_prevention",
                "between 1 and 24",
            ),
            (6, 15, "users.console.require_mfa", "expected a boolean"),
            (11, 8, "user[1].name", "duplicate user"),
            (14, 22, "audit.require_cloudtrail", "expected a boolean"),
            (18, 12, "account[0].role_arn", "not a role ARN"),
        ],
    );
}

#[test]
fn two_unknown_keys_in_one_table_are_both_reported() {
    assert_problems(
        "[users.console]\nfoo = 1\nbar = 2\n",
        &[
            (2, 1, "users.console.foo", "unknown field `foo`"),
            (3, 1, "users.console.bar", "unknown field `bar`"),
        ],
    );
}

#[test]
fn a_mistake_in_one_table_does_not_hide_a_mistake_in_its_sibling() {
    // [users.console] and [users.access_keys] are separate tables in the file.
    assert_problems(
        "[users.console]\nrequire_mfa = \"yes\"\n\n[users.access_keys]\nmax_active = 5\n",
        &[
            (2, 15, "users.console.require_mfa", "expected a boolean"),
            (5, 14, "users.access_keys.max_active", "between 0 and 2"),
        ],
    );
}

#[test]
fn problems_in_a_folder_name_the_file_they_are_in() {
    let a = "[users]\nexempt = [\"break-glass-*\"]\n\n[[user]]\nname = \"bob\"\n";
    let b = "# second file\n\n[[user]]\nname = \"carol\"\n[[user]]\nname = \"bob\"\n\n[users.console]\nrequire_mfa = true\n\n[password_policy]\nminimum_length = 5\n";
    assert_problems_in(
        vec![("desired/a.toml", a), ("desired/b.toml", b)],
        "desired/b.toml",
        &[
            (6, 8, "user[1].name", "duplicate user \"bob\""),
            (8, 2, "users", "already set in desired/a.toml"),
            (
                12,
                18,
                "password_policy.minimum_length",
                "between 6 and 128",
            ),
        ],
    );
}

#[test]
fn a_problem_displays_as_file_line_column_key_message() {
    let problems = problems_of(vec![(FILE, "[password_policy]\nminimum_length = 200\n")]);
    assert_eq!(
        problems[0].to_string(),
        "desired/main.toml:2:18: password_policy.minimum_length: minimum_length must be between 6 and 128, got 200"
    );
    let error = load_sources(vec![(
        FILE.into(),
        "[password_policy]\nminimum_length = 200\nmax_age_days = 0\n".into(),
    )])
    .unwrap_err();
    assert_eq!(error.to_string(), "the desired state has 2 errors");
}

#[test]
fn load_reads_a_file_and_names_it_in_problems() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("bad.toml");
    std::fs::write(&path, "[password_policy]\nreuse_prevention = 25\n").unwrap();
    let Err(LoadError::Invalid { problems }) = load(&path) else {
        panic!("expected problems")
    };
    assert_eq!(problems.len(), 1, "{}", describe(&problems));
    assert_eq!(problems[0].file, path.display().to_string());
    assert_eq!((problems[0].line, problems[0].column), (2, 20));

    // A folder: every *.toml, merged; the others ignored.
    std::fs::write(
        dir.path().join("bad.toml"),
        "[password_policy]\nminimum_length = 14\n",
    )
    .unwrap();
    std::fs::write(
        dir.path().join("users.toml"),
        "[[user]]\nname = \"bob\"\nconsole = false\n",
    )
    .unwrap();
    std::fs::write(dir.path().join("notes.txt"), "not toml at all = = =").unwrap();
    let desired = load(dir.path()).unwrap_or_else(|e| panic!("{e:?}"));
    assert_eq!(desired.files.len(), 2);
    assert_eq!(desired.doc.user.len(), 1);
    assert_eq!(
        desired.doc.password_policy.unwrap().minimum_length,
        Some(14)
    );
}

#[test]
fn the_example_baseline_is_valid() {
    let path = std::path::Path::new(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/examples/desired/baseline.toml"
    ));
    let desired = load(path).unwrap_or_else(|e| panic!("{e:?}"));
    let doc = &desired.doc;
    assert!(doc.password_policy.is_some() && doc.users.is_some() && doc.audit.is_some());
    assert!(!doc.user.is_empty());
    let names: Vec<&str> = doc.account.iter().map(|a| a.name.as_str()).collect();
    assert_eq!(names, ["prod", "staging"]);
}

#[test]
fn rotation_needs_its_table_and_a_template_it_can_fill() {
    assert_problems(
        "[users.access_keys]\nmax_age_days = 90\non_expired = \"rotate\"\non_unused = \"rotate\"\nmax_unused_days = 30\n",
        &[
            (
                3,
                14,
                "users.access_keys.on_expired",
                "on_expired = \"rotate\" needs a [users.access_keys.rotation] table: the secret that receives the new key",
            ),
            (
                4,
                13,
                "users.access_keys.on_unused",
                "rotate is for on_expired only: a key nothing uses needs no successor; deactivate or delete it",
            ),
        ],
    );
    assert_problems(
        "[users.access_keys.rotation]\nsecret_name = \"keys/{team}/{user}\"\noverlap_days = 0\nreaders = [\"arn:aws:iam::111111111111:group/ops\"]\n\n\
         [[account]]\nname = \"prod\"\n[account.users.access_keys.rotation]\nsecret_name = \"keys/{account_id}\"\n",
        &[
            (
                2,
                15,
                "users.access_keys.rotation.secret_name",
                "secret_name \"keys/{team}/{user}\": unknown placeholder {team} (known: {account}, {account_id}, {user})",
            ),
            (
                3,
                16,
                "users.access_keys.rotation.overlap_days",
                "overlap_days must be between 1 and 3650, got 0",
            ),
            (
                4,
                12,
                "users.access_keys.rotation.readers[0]",
                "\"arn:aws:iam::111111111111:group/ops\" is not an IAM role or user ARN (arn:aws:iam::ACCOUNT_ID:role/NAME)",
            ),
            (
                9,
                15,
                "account[0].users.access_keys.rotation.secret_name",
                "secret_name \"keys/{account_id}\": the name needs {user}: each user's key goes to a secret of its own",
            ),
        ],
    );
    // A rotation table at the top serves an account that asks for rotation.
    let doc = load_sources(vec![(
        FILE.to_owned(),
        "[users.access_keys.rotation]\n\n[[account]]\nname = \"prod\"\n[account.users.access_keys]\nmax_age_days = 90\non_expired = \"rotate\"\n"
            .to_owned(),
    )])
    .expect("valid");
    let rules = doc.rules_for(Some(&doc.account[0]));
    let rotation = rules.access_keys.rotation.expect("inherited");
    assert_eq!(rotation.secret_name, "iamctl/{account_id}/{user}");
    assert_eq!(rotation.overlap_days, 7);
}
