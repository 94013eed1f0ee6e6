//! The commands that fit iamctl into people's tools and make no AWS call: `schema` (editors),
//! `permissions` (the IAM policy to grant), `completions` (shells) and `man`.

use std::io::Write as _;

use clap::CommandFactory;
use miette::{IntoDiagnostic, Result, WrapErr};
use serde_json::Value;

use super::args::{
    Cli, CompletionsArgs, ControlsArgs, ControlsFormat, GlobalArgs, ManArgs, PermissionsArgs,
};
use super::printer::Printer;
use super::{ExitStatus, load_targets};
use crate::desired::DesiredDoc;
use crate::ops::permissions::{
    RotationScope, base_policy_document, policy_document_for, with_security_hub,
};
use crate::permissions::Need;

/// `iamctl schema`: the JSON Schema of the desired-state file, made for TOML editors (see
/// [`editor_schema`]).
pub(super) fn schema(printer: &Printer) -> Result<ExitStatus> {
    let text = serde_json::to_string_pretty(&editor_schema()).into_diagnostic()?;
    printer.stdout(&format!("{text}\n"))?;
    Ok(ExitStatus::Success)
}

/// `iamctl controls`: the CIS control table (no desired state, no AWS call).
pub(super) fn controls(printer: &Printer, args: &ControlsArgs) -> Result<ExitStatus> {
    printer.stdout(&match args.format {
        ControlsFormat::Text => crate::render::controls_text(),
        ControlsFormat::Json => crate::render::controls_json(),
        ControlsFormat::Markdown => crate::render::controls_markdown(),
    })?;
    Ok(ExitStatus::Success)
}

/// The desired state's JSON Schema as TOML editors read it: draft-07, which Taplo (and so
/// the Even Better TOML extension) supports, and without the `null` alternatives of optional
/// fields, since TOML has no null: a key is written or left out.
pub fn editor_schema() -> Value {
    let generator = schemars::generate::SchemaSettings::draft07().into_generator();
    let schema = generator.into_root_schema_for::<DesiredDoc>();
    let mut value = schema.to_value();
    strip_null(&mut value);
    value
}

fn is_null_type(value: &Value) -> bool {
    value
        .as_object()
        .is_some_and(|o| o.len() == 1 && o.get("type").and_then(Value::as_str) == Some("null"))
}

/// Removes `null` from `type` lists and `anyOf`/`oneOf` alternatives, folds a single
/// remaining alternative into its parent, and drops `"default": null`.
fn strip_null(value: &mut Value) {
    match value {
        Value::Array(items) => items.iter_mut().for_each(strip_null),
        Value::Object(map) => {
            map.values_mut().for_each(strip_null);
            if let Some(Value::Array(types)) = map.get_mut("type") {
                types.retain(|t| t != "null");
                if types.len() == 1 {
                    let only = types.remove(0);
                    map.insert("type".into(), only);
                }
            }
            if let Some(Value::Array(values)) = map.get_mut("enum") {
                values.retain(|v| !v.is_null());
            }
            if map.get("default").is_some_and(Value::is_null) {
                map.remove("default");
            }
            for key in ["anyOf", "oneOf"] {
                let Some(Value::Array(alternatives)) = map.get_mut(key) else {
                    continue;
                };
                alternatives.retain(|a| !is_null_type(a));
                if alternatives.len() == 1 {
                    let Some(Value::Object(only)) = alternatives.pop() else {
                        continue;
                    };
                    map.remove(key);
                    for (k, v) in only {
                        map.entry(k).or_insert(v);
                    }
                }
            }
        }
        _ => {}
    }
}

/// `iamctl permissions [--apply | --base]`: the least-privilege policy document. `--base`
/// loads the desired state as `validate` does (its errors exit 1, no AWS call) and prints the
/// base identity's policy, or nothing, with a note on stderr, when no role is to be assumed.
pub(super) fn permissions(
    global: &GlobalArgs,
    printer: &Printer,
    args: &PermissionsArgs,
) -> Result<ExitStatus> {
    let doc = if args.base {
        let (desired, targets) = load_targets(global)?;
        let organization = desired.doc.organization.as_ref();
        let topic = desired
            .doc
            .notify
            .as_ref()
            .and_then(|n| n.sns_topic_arn.as_deref());
        match base_policy_document(&targets, organization, topic, &args.partition) {
            Some(doc) => doc,
            None => {
                printer.note(
                    "the desired state declares no role to assume (no role_arn, no \
                     [organization]): iamctl works with the base credentials themselves, \
                     which need no extra permission beyond `iamctl permissions` (--apply \
                     for apply); nothing printed",
                );
                return Ok(ExitStatus::Success);
            }
        }
    } else {
        // The secrets and KMS keys of the desired state's rotation tables, when there is a
        // desired state to read (the default `desired/` may be absent: then `iamctl/*`).
        let rotation = if global.config.exists() {
            RotationScope::of(&load_targets(global)?.1)
        } else {
            RotationScope::default()
        };
        let need = if args.apply {
            Need::Apply
        } else {
            Need::ReadOnly
        };
        let doc = policy_document_for(need, &args.partition, &rotation);
        if args.security_hub {
            with_security_hub(doc)
        } else {
            doc
        }
    };
    let text = serde_json::to_string_pretty(&doc).into_diagnostic()?;
    printer.stdout(&format!("{text}\n"))?;
    Ok(ExitStatus::Success)
}

/// `iamctl completions SHELL`.
pub(super) fn completions(printer: &Printer, args: &CompletionsArgs) -> Result<ExitStatus> {
    let mut command = Cli::command();
    let mut script = Vec::new();
    clap_complete::generate(args.shell, &mut command, "iamctl", &mut script);
    printer.stdout(&String::from_utf8_lossy(&script))?;
    Ok(ExitStatus::Success)
}

/// `iamctl man [--out-dir DIR]`: the page of `iamctl` on stdout, or one page per command
/// (`iamctl.1`, `iamctl-plan.1`, ...) written into a folder.
pub(super) fn man(printer: &Printer, args: &ManArgs) -> Result<ExitStatus> {
    let mut command = Cli::command().disable_help_subcommand(true);
    command.build();
    match &args.out_dir {
        None => {
            let mut page = Vec::new();
            render_page(&command, true, &mut page).into_diagnostic()?;
            printer.stdout(&String::from_utf8_lossy(&page))?;
        }
        Some(dir) => {
            std::fs::create_dir_all(dir)
                .into_diagnostic()
                .wrap_err_with(|| format!("creating {}", dir.display()))?;
            let mut pages = vec![(command.clone(), true)];
            pages.extend(
                command
                    .get_subcommands()
                    .filter(|c| !c.is_hide_set())
                    .map(|c| (c.clone(), false)),
            );
            for (cmd, top) in pages {
                let name = format!(
                    "{}.1",
                    cmd.get_display_name().unwrap_or_else(|| cmd.get_name())
                );
                let path = dir.join(&name);
                let mut page = Vec::new();
                render_page(&cmd, top, &mut page).into_diagnostic()?;
                std::fs::write(&path, page)
                    .into_diagnostic()
                    .wrap_err_with(|| format!("writing {}", path.display()))?;
                eprintln!("wrote {}", path.display());
            }
        }
    }
    Ok(ExitStatus::Success)
}

/// One man page: clap_mangen's sections, with the `after_help` examples as an EXAMPLES section
/// (not clap_mangen's "EXTRA"), and for the top page, EXIT STATUS and ENVIRONMENT.
fn render_page(cmd: &clap::Command, top: bool, out: &mut Vec<u8>) -> std::io::Result<()> {
    let man = clap_mangen::Man::new(cmd.clone());
    man.render_title(out)?;
    man.render_name_section(out)?;
    man.render_synopsis_section(out)?;
    man.render_description_section(out)?;
    if cmd.get_arguments().any(|a| !a.is_hide_set()) {
        man.render_options_section(out)?;
    }
    if cmd.get_subcommands().any(|c| !c.is_hide_set()) {
        man.render_subcommands_section(out)?;
    }
    if let Some(help) = cmd.get_after_help() {
        let text = help.to_string();
        let body = text
            .split_once('\n')
            .filter(|(first, _)| first.trim_end().ends_with(':'))
            .map_or(text.as_str(), |(_, rest)| rest);
        writeln!(out, ".SH EXAMPLES\n.nf")?;
        for line in body.lines() {
            writeln!(out, "{}", roff_line(line.trim_start()))?;
        }
        writeln!(out, ".fi")?;
    }
    if top {
        out.extend_from_slice(
            b".SH \"EXIT STATUS\"\n\
.TP\n\\fB0\\fR\nSuccess; with \\fB--detailed-exitcode\\fR, success and nothing to change.\n\
.TP\n\\fB1\\fR\nError: bad input, an AWS failure, a change that failed, a refused apply.\n\
.TP\n\\fB2\\fR\nWith \\fB--detailed-exitcode\\fR, the plan holds changes; with \\fB--fail-on-findings\\fR, there are findings.\n\
.SH ENVIRONMENT\n\
.TP\n\\fBAWS_PROFILE\\fR, \\fBAWS_REGION\\fR, \\fBAWS_ACCESS_KEY_ID\\fR, ...\n\
Credentials come from the standard AWS chain (environment, profiles, SSO, web identity, instance roles).\n\
.TP\n\\fBAWS_ENDPOINT_URL\\fR, \\fBAWS_ENDPOINT_URL_IAM\\fR\nPoint iamctl at an emulator.\n\
.TP\n\\fBNO_COLOR\\fR\nNo colour in the output.\n\
.TP\n\\fBIAMCTL_LOG\\fR\nA tracing filter for the logs on stderr (e.g. \\fBiamctl=debug\\fR).\n",
        );
        if cmd.get_version().is_some() {
            man.render_version_section(out)?;
        }
    }
    Ok(())
}

/// A line of no-fill text in roff: backslashes escaped, and a leading `.` or `'` (which roff
/// would read as a request) neutralised.
fn roff_line(line: &str) -> String {
    let escaped = line.replace('\\', "\\e").replace('-', "\\-");
    if escaped.starts_with('.') || escaped.starts_with('\'') {
        format!("\\&{escaped}")
    } else {
        escaped
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_editor_schema_is_draft_07_without_nulls() {
        let schema = editor_schema();
        assert_eq!(schema["$schema"], "http://json-schema.org/draft-07/schema#");
        let text = schema.to_string();
        assert!(!text.contains("\"null\""), "{text}");
        assert!(!text.contains("$defs"), "{text}");
        assert!(schema["definitions"].is_object());
        let minimum_length =
            &schema["definitions"]["PasswordPolicySpec"]["properties"]["minimum_length"];
        assert_eq!(minimum_length["type"], "integer");
        assert_eq!(minimum_length["maximum"], 128);
        // An optional table is a plain reference once its null alternative is gone.
        assert!(
            schema["properties"]["password_policy"]["$ref"]
                .as_str()
                .is_some_and(|r| r.starts_with("#/definitions/")),
            "{}",
            schema["properties"]["password_policy"]
        );
    }

    #[test]
    fn roff_lines_cannot_become_requests() {
        assert_eq!(roff_line(".x"), "\\&.x");
        assert_eq!(roff_line("a\\b -c"), "a\\eb \\-c");
    }
}
