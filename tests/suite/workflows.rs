//! The files people copy and the help they read: the GitHub workflows, the IAM trust policies,
//! the systemd and cron variants, the README walk-throughs and every `--help` example. Each
//! must parse, and every `iamctl ...` command line in them must use only subcommands and flags
//! that exist (checked with the real clap definitions). Also: completions and man pages.

use std::path::{Path, PathBuf};

use clap::{CommandFactory, Parser};
use iamctl::cli::Cli;
use yaml_rust2::{Yaml, YamlLoader};

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn read(path: &str) -> String {
    std::fs::read_to_string(repo().join(path)).unwrap_or_else(|e| panic!("reading {path}: {e}"))
}

// ---------------------------------------------------------------------------------------------
// Finding `iamctl` command lines in shell text.
// ---------------------------------------------------------------------------------------------

#[derive(Debug, Clone, PartialEq, Eq)]
enum Token {
    Word(String),
    /// `|`, `||`, `&&`, `;`, `&`, `(`, `)`, `$(`: a new command may follow.
    Separator,
    /// `>`, `>>`, `<`, `>&`: the next word is a redirection target.
    Redirect,
}

/// Splits one logical shell line into words, separators and redirections: quotes and
/// backslashes as in sh, `#` starting a comment at the start of a word, `${{ ... }}` (GitHub
/// expressions) read as one placeholder word.
fn tokenize(line: &str) -> Vec<Token> {
    let line = replace_expressions(line);
    let mut tokens = Vec::new();
    let mut word = String::new();
    let mut in_word = false;
    let mut chars = line.chars().peekable();
    let finish = |word: &mut String, in_word: &mut bool, tokens: &mut Vec<Token>| {
        if *in_word {
            tokens.push(Token::Word(std::mem::take(word)));
            *in_word = false;
        }
    };
    while let Some(c) = chars.next() {
        match c {
            '\'' => {
                in_word = true;
                for c in chars.by_ref() {
                    if c == '\'' {
                        break;
                    }
                    word.push(c);
                }
            }
            '"' => {
                in_word = true;
                while let Some(c) = chars.next() {
                    match c {
                        '"' => break,
                        '\\' => word.extend(chars.next()),
                        c => word.push(c),
                    }
                }
            }
            '\\' => {
                in_word = true;
                word.extend(chars.next());
            }
            '#' if !in_word => break,
            c if c.is_whitespace() => finish(&mut word, &mut in_word, &mut tokens),
            '>' | '<' => {
                // `2>file`: the digits were a file descriptor, not a word.
                if in_word && word.chars().all(|c| c.is_ascii_digit()) {
                    word.clear();
                    in_word = false;
                }
                finish(&mut word, &mut in_word, &mut tokens);
                while chars.peek().is_some_and(|c| *c == '>' || *c == '&') {
                    chars.next();
                }
                tokens.push(Token::Redirect);
            }
            '|' | '&' | ';' | '(' | ')' => {
                if c == '(' && word == "$" {
                    word.clear();
                    in_word = false;
                }
                finish(&mut word, &mut in_word, &mut tokens);
                if chars.peek() == Some(&c) {
                    chars.next();
                }
                tokens.push(Token::Separator);
            }
            c => {
                in_word = true;
                word.push(c);
            }
        }
    }
    finish(&mut word, &mut in_word, &mut tokens);
    tokens
}

fn replace_expressions(line: &str) -> String {
    let mut out = String::new();
    let mut rest = line;
    while let Some(start) = rest.find("${{") {
        out.push_str(&rest[..start]);
        match rest[start..].find("}}") {
            Some(end) => {
                // A matrix value stands for its first one (the examples' matrices are shard
                // numbers, which `--shard K/N` must parse); any other expression for a word.
                let expression = &rest[start..start + end];
                out.push_str(if expression.contains("matrix.") {
                    "1"
                } else {
                    "EXPR"
                });
                rest = &rest[start + end + 2..];
            }
            None => {
                rest = &rest[start..];
                break;
            }
        }
    }
    out.push_str(rest);
    out
}

/// The arguments of every `iamctl` (or `cargo run --`) command in `script`, a shell script
/// whose lines may continue with a trailing backslash.
fn iamctl_commands(script: &str) -> Vec<Vec<String>> {
    let mut logical = Vec::new();
    let mut current = String::new();
    for line in script.lines() {
        match line.trim_end().strip_suffix('\\') {
            Some(head) => {
                current.push_str(head);
                current.push(' ');
            }
            None => {
                current.push_str(line);
                logical.push(std::mem::take(&mut current));
            }
        }
    }
    logical.push(current);

    let mut commands = Vec::new();
    for line in logical {
        let tokens = tokenize(&line);
        let mut at = 0;
        let mut command_start = true;
        while at < tokens.len() {
            match &tokens[at] {
                Token::Separator => {
                    command_start = true;
                    at += 1;
                }
                Token::Redirect => at += 2,
                Token::Word(word) if command_start => {
                    let is_assignment = word.contains('=')
                        && word.split('=').next().is_some_and(|n| {
                            !n.is_empty()
                                && n.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
                        });
                    if is_assignment
                        || ["then", "do", "else", "!", "time", "exec", "sudo"]
                            .contains(&word.as_str())
                    {
                        at += 1;
                        continue;
                    }
                    command_start = false;
                    let words = |from: usize| -> (Vec<String>, usize) {
                        let mut args = Vec::new();
                        let mut i = from;
                        while i < tokens.len() {
                            match &tokens[i] {
                                Token::Separator => break,
                                Token::Redirect => i += 2,
                                Token::Word(w) => {
                                    args.push(w.clone());
                                    i += 1;
                                }
                            }
                        }
                        (args, i)
                    };
                    let (args, end) = words(at + 1);
                    if word == "iamctl" || word.ends_with("/iamctl") {
                        commands.push(args);
                    } else if word == "cargo" && args.first().is_some_and(|a| a == "run") {
                        if let Some(dash) = args.iter().position(|a| a == "--") {
                            commands.push(args[dash + 1..].to_vec());
                        }
                    }
                    at = end;
                }
                Token::Word(_) => at += 1,
            }
        }
    }
    commands
}

/// Every command in `script` parses with iamctl's own clap definitions; returns how many.
fn assert_commands_parse(source: &str, script: &str) -> usize {
    let commands = iamctl_commands(script);
    for args in &commands {
        let argv = std::iter::once("iamctl".to_owned()).chain(args.iter().cloned());
        let result = Cli::try_parse_from(argv);
        // `iamctl --version` and `iamctl plan --help` are fine lines too.
        if let Err(error) = result.as_ref().map(|_| ()).or_else(|e| match e.kind() {
            clap::error::ErrorKind::DisplayHelp | clap::error::ErrorKind::DisplayVersion => Ok(()),
            _ => Err(e),
        }) {
            panic!(
                "{source}: `iamctl {}` does not parse:\n{error}",
                args.join(" ")
            );
        }
    }
    commands.len()
}

#[test]
fn the_command_scanner_finds_commands_and_leaves_the_rest() {
    let script = "set +e\nNO_COLOR=1 iamctl plan -c desired/ --format markdown > plan.md 2> plan.err\n\
                  cargo run -- plan --snapshot x.json \\\n  --as-of 2026-11-01   # offline\n\
                  aws iam put-role-policy --policy-name iamctl --role-name iamctl-plan\n\
                  iamctl plan -o p.json && iamctl apply p.json | tee log\n\
                  echo \"$(iamctl schema)\" # iamctl bogus\n\
                  x=1; /usr/local/bin/iamctl apply --max-changes ${{ vars.N }}\n";
    let commands = iamctl_commands(script);
    let expected: Vec<Vec<&str>> = vec![
        vec!["plan", "-c", "desired/", "--format", "markdown"],
        vec!["plan", "--snapshot", "x.json", "--as-of", "2026-11-01"],
        vec!["plan", "-o", "p.json"],
        vec!["apply", "p.json"],
        vec!["apply", "--max-changes", "EXPR"],
    ];
    assert_eq!(commands, expected);
    // `$(iamctl schema)` inside double quotes is one word to the scanner: it is not checked,
    // which is the cautious side. And a bad flag is caught:
    assert!(
        Cli::try_parse_from(["iamctl", "plan", "--formatt", "json"]).is_err(),
        "the parser rejects unknown flags"
    );
}

// ---------------------------------------------------------------------------------------------
// The GitHub workflows.
// ---------------------------------------------------------------------------------------------

/// The actions the examples may use, pinned to a major version.
const KNOWN_ACTIONS: [&str; 7] = [
    "actions/checkout@v4",
    "actions/cache@v4",
    "actions/download-artifact@v4",
    "actions/github-script@v7",
    "actions/upload-artifact@v4",
    "aws-actions/configure-aws-credentials@v4",
    "github/codeql-action/upload-sarif@v3",
];

fn workflow(path: &str) -> Yaml {
    let text = read(path);
    let mut docs = YamlLoader::load_from_str(&text).unwrap_or_else(|e| panic!("{path}: {e}"));
    assert_eq!(docs.len(), 1, "{path}: one YAML document");
    docs.remove(0)
}

fn steps(doc: &Yaml) -> Vec<&Yaml> {
    doc["jobs"]
        .as_hash()
        .expect("jobs")
        .values()
        .flat_map(|job| job["steps"].as_vec().expect("steps").iter())
        .collect()
}

/// Checks the shape every workflow needs; returns the number of iamctl commands in its `run`s.
fn check_workflow(path: &str) -> (Yaml, usize) {
    let doc = workflow(path);
    assert!(doc["name"].as_str().is_some(), "{path}: name");
    assert!(doc["on"].as_hash().is_some(), "{path}: on");
    assert_eq!(
        doc["permissions"]["id-token"].as_str(),
        Some("write"),
        "{path}: OIDC needs id-token: write"
    );
    let jobs = doc["jobs"].as_hash().expect("jobs");
    assert!(!jobs.is_empty(), "{path}: jobs");
    for (name, job) in jobs {
        assert!(
            job["runs-on"].as_str().is_some(),
            "{path}: job {name:?} runs-on"
        );
        assert!(job["steps"].as_vec().is_some_and(|s| !s.is_empty()));
    }
    let mut commands = 0;
    for step in steps(&doc) {
        let uses = step["uses"].as_str();
        let run = step["run"].as_str();
        assert!(
            uses.is_some() != run.is_some(),
            "{path}: a step has `uses` or `run`: {step:?}"
        );
        if let Some(action) = uses {
            assert!(
                KNOWN_ACTIONS.contains(&action),
                "{path}: unexpected action {action}"
            );
        }
        if let Some(script) = run {
            commands += assert_commands_parse(path, script);
        }
    }
    assert!(commands > 0, "{path}: no iamctl command found");
    (doc, commands)
}

fn run_scripts(doc: &Yaml) -> String {
    steps(doc)
        .iter()
        .filter_map(|s| s["run"].as_str())
        .collect::<Vec<_>>()
        .join("\n")
}

fn with_action<'a>(doc: &'a Yaml, prefix: &str) -> Vec<&'a Yaml> {
    steps(doc)
        .into_iter()
        .filter(|s| s["uses"].as_str().is_some_and(|u| u.starts_with(prefix)))
        .collect()
}

#[test]
fn the_plan_workflow_plans_pull_requests_with_oidc_and_keeps_one_comment_up_to_date() {
    let path = "examples/github/plan.yml";
    let (doc, _) = check_workflow(path);
    let paths: Vec<&str> = doc["on"]["pull_request"]["paths"]
        .as_vec()
        .expect("on.pull_request.paths")
        .iter()
        .filter_map(Yaml::as_str)
        .collect();
    assert!(paths.contains(&"desired/**"), "{paths:?}");
    assert_eq!(doc["permissions"]["pull-requests"].as_str(), Some("write"));

    let credentials = with_action(&doc, "aws-actions/configure-aws-credentials@");
    assert_eq!(credentials.len(), 1);
    assert!(credentials[0]["with"]["role-to-assume"].as_str().is_some());

    let scripts = run_scripts(&doc);
    let plan = iamctl_commands(&scripts)
        .into_iter()
        .find(|args| args.first().is_some_and(|a| a == "plan"))
        .expect("an `iamctl plan` step");
    let cli = Cli::try_parse_from(std::iter::once("iamctl".to_owned()).chain(plan)).unwrap();
    match cli.command {
        iamctl::cli::args::Command::Plan(args) => {
            assert_eq!(args.format, iamctl::cli::args::FormatArg::Markdown);
            assert!(args.detailed_exitcode);
        }
        other => panic!("{other:?}"),
    }

    // The comment is found by the marker the markdown renderer writes first.
    let comment = with_action(&doc, "actions/github-script@");
    assert_eq!(comment.len(), 1);
    let script = comment[0]["with"]["script"].as_str().unwrap();
    assert!(script.contains(iamctl::render::MARKDOWN_MARKER), "{script}");
    assert!(script.contains("updateComment") && script.contains("createComment"));
    assert!(
        scripts.contains(iamctl::render::MARKDOWN_MARKER),
        "the failure comment too"
    );
}

#[test]
fn the_apply_workflow_runs_on_a_schedule_with_a_change_limit_and_fails_loudly() {
    let path = "examples/github/apply.yml";
    let (doc, _) = check_workflow(path);
    let cron = doc["on"]["schedule"][0]["cron"]
        .as_str()
        .expect("on.schedule[0].cron");
    assert_eq!(cron.split_whitespace().count(), 5, "{cron}");
    assert!(
        with_action(&doc, "aws-actions/configure-aws-credentials@")[0]["with"]["role-to-assume"]
            .as_str()
            .is_some()
    );

    let scripts = run_scripts(&doc);
    let apply = iamctl_commands(&scripts)
        .into_iter()
        .find(|args| args.first().is_some_and(|a| a == "apply"))
        .expect("an `iamctl apply` step");
    let cli = Cli::try_parse_from(std::iter::once("iamctl".to_owned()).chain(apply)).unwrap();
    match cli.command {
        iamctl::cli::args::Command::Apply(args) => {
            assert!(args.auto_approve);
            assert!(args.changing.max_changes.is_some());
            assert!(args.plan_file.is_none());
        }
        other => panic!("{other:?}"),
    }
    let on_failure: Vec<&Yaml> = steps(&doc)
        .into_iter()
        .filter(|s| s["if"].as_str() == Some("failure()"))
        .collect();
    assert!(!on_failure.is_empty(), "a step that reports the failure");
    assert_eq!(doc["permissions"]["issues"].as_str(), Some("write"));
}

#[test]
fn the_code_scanning_workflow_uploads_the_plan_as_sarif() {
    let path = "examples/github/code-scanning.yml";
    let (doc, _) = check_workflow(path);
    assert_eq!(
        doc["permissions"]["security-events"].as_str(),
        Some("write"),
        "upload-sarif needs security-events: write"
    );
    assert!(doc["on"]["schedule"][0]["cron"].as_str().is_some());
    let scripts = run_scripts(&doc);
    let plan = iamctl_commands(&scripts)
        .into_iter()
        .find(|args| args.first().is_some_and(|a| a == "plan"))
        .expect("an `iamctl plan` step");
    let cli = Cli::try_parse_from(std::iter::once("iamctl".to_owned()).chain(plan)).unwrap();
    match cli.command {
        iamctl::cli::args::Command::Plan(args) => {
            assert_eq!(args.format, iamctl::cli::args::FormatArg::Sarif);
            assert!(!args.detailed_exitcode, "exit 2 would skip the upload");
        }
        other => panic!("{other:?}"),
    }
    assert!(scripts.contains("> iamctl.sarif"), "{scripts}");
    let upload = with_action(&doc, "github/codeql-action/upload-sarif@");
    assert_eq!(upload.len(), 1);
    assert_eq!(
        upload[0]["with"]["sarif_file"].as_str(),
        Some("iamctl.sarif")
    );
    // Uploaded only when the plan succeeded: a failed account's alerts must not close.
    assert!(upload[0]["if"].is_badvalue(), "{:?}", upload[0]["if"]);
}

/// The `report` command of a workflow's scripts, parsed.
fn report_commands(doc: &Yaml) -> Vec<iamctl::cli::args::ReportArgs> {
    iamctl_commands(&run_scripts(doc))
        .into_iter()
        .filter(|args| args.first().is_some_and(|a| a == "report"))
        .map(|args| {
            match Cli::try_parse_from(std::iter::once("iamctl".to_owned()).chain(args))
                .unwrap()
                .command
            {
                iamctl::cli::args::Command::Report(args) => args,
                other => panic!("{other:?}"),
            }
        })
        .collect()
}

#[test]
fn the_fleet_report_workflow_plans_shards_and_reports_on_all_of_them() {
    let path = "examples/github/fleet-report.yml";
    let (doc, _) = check_workflow(path);
    let shards = doc["jobs"]["plan"]["strategy"]["matrix"]["shard"]
        .as_vec()
        .expect("a shard matrix");
    let plan = iamctl_commands(&run_scripts(&doc))
        .into_iter()
        .find(|args| args.first().is_some_and(|a| a == "plan"))
        .expect("an `iamctl plan` step");
    let cli = Cli::try_parse_from(std::iter::once("iamctl".to_owned()).chain(plan)).unwrap();
    let shard = cli.global.shard.expect("--shard");
    assert_eq!(
        format!("{shard}").rsplit('/').next(),
        Some(&*shards.len().to_string())
    );
    match cli.command {
        iamctl::cli::args::Command::Plan(args) => {
            assert!(args.out.is_some(), "each shard saves its plan");
            assert!(args.run_id.is_some(), "one run id for the shards");
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(doc["jobs"]["report"]["needs"].as_str(), Some("plan"));
    let reports = report_commands(&doc);
    assert_eq!(reports.len(), 3, "html, csv and markdown");
    assert!(reports.iter().all(|r| r.inputs == ["plans/"]));
    assert_eq!(with_action(&doc, "actions/download-artifact@").len(), 1);
}

#[test]
fn the_history_workflow_keeps_plans_in_s3_and_reports_over_them() {
    let path = "examples/github/report-history.yml";
    let (doc, _) = check_workflow(path);
    assert!(doc["on"]["schedule"][0]["cron"].as_str().is_some());
    let reports = report_commands(&doc);
    assert!(!reports.is_empty());
    assert!(
        reports
            .iter()
            .all(|r| r.inputs.iter().all(|i| i.starts_with("s3://"))),
        "the report reads the history in S3"
    );
}

// ---------------------------------------------------------------------------------------------
// The IAM trust policies.
// ---------------------------------------------------------------------------------------------

fn trust(path: &str) -> serde_json::Value {
    let doc: serde_json::Value =
        serde_json::from_str(&read(path)).unwrap_or_else(|e| panic!("{path}: {e}"));
    assert_eq!(doc["Version"], "2012-10-17");
    let statements = doc["Statement"].as_array().unwrap();
    assert_eq!(statements.len(), 1, "{path}");
    let statement = statements[0].clone();
    assert_eq!(statement["Effect"], "Allow");
    assert_eq!(statement["Action"], "sts:AssumeRoleWithWebIdentity");
    assert!(
        statement["Principal"]["Federated"]
            .as_str()
            .unwrap()
            .ends_with(":oidc-provider/token.actions.githubusercontent.com")
    );
    let equals = &statement["Condition"]["StringEquals"];
    assert_eq!(
        equals["token.actions.githubusercontent.com:aud"],
        "sts.amazonaws.com"
    );
    statement
}

#[test]
fn the_trust_policies_let_pull_requests_plan_and_only_the_default_branch_apply() {
    let plan = trust("examples/iam/trust-policy.json");
    let sub = plan["Condition"]["StringEquals"]["token.actions.githubusercontent.com:sub"]
        .as_str()
        .unwrap();
    assert!(
        sub.starts_with("repo:") && sub.ends_with(":pull_request"),
        "{sub}"
    );
    let apply = trust("examples/iam/trust-policy-apply.json");
    let sub = apply["Condition"]["StringEquals"]["token.actions.githubusercontent.com:sub"]
        .as_str()
        .unwrap();
    assert!(
        sub.starts_with("repo:") && sub.ends_with(":ref:refs/heads/main"),
        "{sub}"
    );
}

// ---------------------------------------------------------------------------------------------
// Without GitHub: systemd and cron.
// ---------------------------------------------------------------------------------------------

/// `[Section]` -> `Key=value` lines of a systemd unit file.
fn unit(path: &str) -> Vec<(String, String, String)> {
    let mut section = String::new();
    let mut entries = Vec::new();
    for line in read(path).lines() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') || line.starts_with(';') {
            continue;
        }
        if let Some(name) = line.strip_prefix('[').and_then(|l| l.strip_suffix(']')) {
            section = name.to_owned();
            continue;
        }
        let (key, value) = line
            .split_once('=')
            .unwrap_or_else(|| panic!("{path}: not `Key=value`: {line}"));
        assert!(!section.is_empty(), "{path}: {line} outside a section");
        entries.push((section.clone(), key.to_owned(), value.to_owned()));
    }
    entries
}

fn value<'a>(entries: &'a [(String, String, String)], section: &str, key: &str) -> Vec<&'a str> {
    entries
        .iter()
        .filter(|(s, k, _)| s == section && k == key)
        .map(|(_, _, v)| v.as_str())
        .collect()
}

#[test]
fn the_systemd_units_run_a_limited_apply_on_a_timer() {
    let service = unit("examples/cron/iamctl-apply.service");
    assert_eq!(value(&service, "Service", "Type"), ["oneshot"]);
    let mut commands = 0;
    for key in ["ExecStartPre", "ExecStart"] {
        for line in value(&service, "Service", key) {
            commands += assert_commands_parse("examples/cron/iamctl-apply.service", line);
        }
    }
    assert_eq!(commands, 2, "validate, then apply");
    let exec = value(&service, "Service", "ExecStart")[0];
    assert!(
        exec.contains(" apply ")
            && exec.contains("--auto-approve")
            && exec.contains("--max-changes")
    );

    let timer = unit("examples/cron/iamctl-apply.timer");
    assert_eq!(value(&timer, "Timer", "OnCalendar").len(), 1);
    assert_eq!(value(&timer, "Install", "WantedBy"), ["timers.target"]);
}

#[test]
fn the_crontab_line_is_a_limited_quiet_apply() {
    let text = read("examples/cron/crontab");
    let mut commands = 0;
    for line in text.lines().map(str::trim) {
        if line.is_empty()
            || line.starts_with('#')
            || line.split_once('=').is_some_and(|(k, _)| !k.contains(' '))
        {
            continue;
        }
        let fields: Vec<&str> = line.split_whitespace().collect();
        assert!(fields.len() > 5, "{line}: five time fields and a command");
        let command = fields[5..].join(" ");
        commands += assert_commands_parse("examples/cron/crontab", &command);
        assert!(
            command.contains("--auto-approve")
                && command.contains("--max-changes")
                && command.contains("-q")
        );
    }
    assert_eq!(commands, 1);
}

// ---------------------------------------------------------------------------------------------
// The README walk-throughs and the help text.
// ---------------------------------------------------------------------------------------------

/// The shell code blocks of a markdown file. A block in console style (`$ command` lines
/// followed by their output) keeps only its commands.
fn shell_blocks(markdown: &str) -> Vec<String> {
    let mut blocks = Vec::new();
    let mut current: Option<Vec<&str>> = None;
    let mut skipping = false;
    for line in markdown.lines() {
        let fence = line.trim_start().strip_prefix("```");
        match (&mut current, fence) {
            (None, Some(_)) if skipping => skipping = false,
            (None, Some(lang)) => {
                if ["sh", "bash", "shell", "console"].contains(&lang.trim()) {
                    current = Some(Vec::new());
                } else {
                    skipping = true; // another language, or output: to its closing fence
                }
            }
            (Some(lines), Some(_)) => {
                blocks.push(commands_of(lines));
                current = None;
            }
            (Some(lines), None) => lines.push(line),
            (None, None) => {}
        }
    }
    blocks
}

fn commands_of(lines: &[&str]) -> String {
    let console = lines.iter().any(|l| l.starts_with("$ "));
    let mut script = String::new();
    let mut continued = false;
    for line in lines {
        let command = match line.strip_prefix("$ ") {
            Some(command) => Some(command),
            None if !console || continued => Some(*line),
            None => None,
        };
        if let Some(command) = command {
            script.push_str(command);
            script.push('\n');
            continued = command.trim_end().ends_with('\\');
        } else {
            continued = false;
        }
    }
    script
}

#[test]
fn every_iamctl_command_in_the_readmes_parses() {
    let mut total = 0;
    for path in ["README.md", "examples/README.md", "examples/iam/README.md"] {
        let text = read(path);
        for block in shell_blocks(&text) {
            total += assert_commands_parse(path, &block);
        }
    }
    assert!(total > 10, "only {total} commands found in the READMEs");
    let readme = read("README.md");
    for needle in [
        "From install to a PR plan comment",
        "#:schema ./iamctl.schema.json",
        "iamctl import",
        "iamctl permissions",
        "examples/github/plan.yml",
    ] {
        assert!(readme.contains(needle), "README.md lacks {needle:?}");
    }
}

fn all_commands(cmd: &clap::Command, path: &str, out: &mut Vec<(String, clap::Command)>) {
    out.push((path.to_owned(), cmd.clone()));
    for sub in cmd.get_subcommands() {
        if sub.get_name() == "help" {
            continue;
        }
        all_commands(sub, &format!("{path} {}", sub.get_name()), out);
    }
}

#[test]
fn every_command_s_help_has_an_example_of_itself_and_every_example_parses() {
    let mut root = Cli::command();
    root.build();
    let mut commands = Vec::new();
    all_commands(&root, "iamctl", &mut commands);
    assert!(commands.len() > 8, "{}", commands.len());
    for (path, cmd) in commands {
        let help = cmd
            .get_after_help()
            .or(cmd.get_after_long_help())
            .unwrap_or_else(|| panic!("`{path} --help` has no example (after_help)"))
            .to_string();
        assert!(help.starts_with("Example"), "`{path} --help`: {help}");
        let examples = iamctl_commands(&help);
        assert!(
            examples.iter().any(|args| {
                let words: Vec<&str> = args.iter().map(String::as_str).collect();
                path.split(' ')
                    .skip(1)
                    .eq(words.iter().copied().take(path.split(' ').count() - 1))
            }),
            "`{path} --help` shows no example of `{path}`: {help}"
        );
        assert_commands_parse(&format!("`{path} --help`"), &help);
        assert!(
            cmd.get_about().is_some(),
            "`{path}` has no one-line description"
        );
    }
}

// ---------------------------------------------------------------------------------------------
// Completions, man pages, the schema.
// ---------------------------------------------------------------------------------------------

fn iamctl(args: &[&str]) -> std::process::Output {
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_iamctl"))
        .args(args)
        .env_clear()
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "iamctl {}: {}",
        args.join(" "),
        String::from_utf8_lossy(&output.stderr)
    );
    output
}

#[test]
fn completions_cover_every_subcommand_in_every_shell() {
    for shell in ["bash", "zsh", "fish", "elvish", "powershell"] {
        let script = String::from_utf8(iamctl(&["completions", shell]).stdout).unwrap();
        for sub in [
            "plan",
            "apply",
            "import",
            "permissions",
            "completions",
            "man",
        ] {
            assert!(script.contains(sub), "{shell} completions lack {sub}");
        }
        assert!(script.contains("detailed-exitcode"), "{shell}");
    }
}

#[test]
fn the_man_pages_come_from_the_clap_definitions() {
    let page = String::from_utf8(iamctl(&["man"]).stdout).unwrap();
    for needle in [
        ".TH iamctl 1",
        ".SH NAME",
        ".SH SYNOPSIS",
        ".SH EXAMPLES",
        "EXIT STATUS",
        "import",
    ] {
        assert!(page.contains(needle), "iamctl.1 lacks {needle:?}");
    }
    let dir = tempfile::tempdir().unwrap();
    iamctl(&["man", "--out-dir", dir.path().to_str().unwrap()]);
    for name in [
        "iamctl.1",
        "iamctl-plan.1",
        "iamctl-import.1",
        "iamctl-permissions.1",
    ] {
        let page = std::fs::read_to_string(dir.path().join(name))
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        assert!(page.contains(".SH EXAMPLES"), "{name}");
    }
    // Where man(1) is installed, the page renders without warnings.
    if let Ok(out) = std::process::Command::new("man")
        .args(["--warnings", "-l", "-"])
        .env("MANWIDTH", "100")
        .stdin(std::fs::File::open(dir.path().join("iamctl-import.1")).unwrap())
        .output()
    {
        if out.status.success() {
            let text = String::from_utf8_lossy(&out.stdout);
            assert!(text.contains("iamctl import"), "{text}");
        }
    }
}

#[test]
fn the_schema_is_one_taplo_reads() {
    let output = iamctl(&["schema"]);
    let schema: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(schema["$schema"], "http://json-schema.org/draft-07/schema#");
    assert!(!schema.to_string().contains("\"null\""));
}

#[test]
fn paths_used_in_the_examples_exist() {
    for path in [
        "examples/github/plan.yml",
        "examples/github/apply.yml",
        "examples/github/code-scanning.yml",
        "examples/iam/trust-policy.json",
        "examples/iam/trust-policy-apply.json",
        "examples/cron/iamctl-apply.service",
        "examples/cron/iamctl-apply.timer",
        "examples/cron/crontab",
    ] {
        assert!(Path::new(&repo().join(path)).is_file(), "{path}");
    }
}
