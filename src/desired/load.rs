//! Reading desired state from a file or a folder of `*.toml` files, with every problem
//! pointed at its file, line, column and key. Nothing here talks to AWS.
//!
//! Each top-level table and each `[[user]]`/`[[account]]` element is deserialized on its own,
//! so that one mistake does not hide the next; `validate.rs` then checks values and
//! cross-references, and its key paths are mapped back to positions in the source.

use std::collections::BTreeMap;
use std::ops::Range;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use miette::{Diagnostic, NamedSource, SourceSpan};
use serde::de::DeserializeOwned;
use toml::Spanned;
use toml::de::{DeTable, DeValue, ValueDeserializer};

use super::model::*;
use super::validate::validate;

/// The desired state, loaded and valid.
#[derive(Debug, Clone, Default)]
pub struct Desired {
    pub doc: DesiredDoc,
    pub files: Vec<PathBuf>,
    /// Where each key of `doc` is written, by its key path in the merged document
    /// (`users.access_keys.max_age_days`, `account[1].users`, `user[0].name`): what SARIF's
    /// results point at.
    pub locations: KeyLocations,
}

/// Where a key is written: the file (as it was named when loaded), 1-based line and column
/// (in characters) of the key itself.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyLocation {
    pub file: String,
    pub line: usize,
    pub column: usize,
}

/// Key path of the merged document -> where its key is written. Paths index `[[user]]` and
/// `[[account]]` elements by their place in the merged document, as `validate` does.
pub type KeyLocations = BTreeMap<String, KeyLocation>;

#[derive(Debug, thiserror::Error, Diagnostic)]
pub enum LoadError {
    #[error("reading desired state {}: {source}", path.display())]
    #[diagnostic(help("pass the desired-state file or folder with -c/--config"))]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("no *.toml file in {}", path.display())]
    Empty { path: PathBuf },
    #[error("the desired state has {} error{}", problems.len(), if problems.len() == 1 { "" } else { "s" })]
    Invalid {
        #[related]
        problems: Vec<ConfigProblem>,
    },
}

/// One mistake in a desired-state file, with where it is.
#[derive(Debug, thiserror::Error, Diagnostic)]
#[error("{file}:{line}:{column}: {key}: {message}")]
pub struct ConfigProblem {
    pub file: String,
    pub line: usize,
    pub column: usize,
    /// The dotted key path (`users.console.max_unused_days`), or `(document)` for syntax errors.
    pub key: String,
    pub message: String,
    /// Left out when the line is too long to show (a minified or generated file).
    #[source_code]
    source_code: Option<NamedSource<Arc<String>>>,
    #[label("{key}")]
    span: Option<SourceSpan>,
}

/// Loads `path`: a single file, or every `*.toml` in a folder, merged.
pub fn load(path: &Path) -> Result<Desired, LoadError> {
    let io_error = |source| LoadError::Io {
        path: path.to_owned(),
        source,
    };
    let files = if path.is_dir() {
        let mut files: Vec<PathBuf> = std::fs::read_dir(path)
            .map_err(io_error)?
            .filter_map(|entry| entry.ok().map(|e| e.path()))
            .filter(|p| p.extension().is_some_and(|ext| ext == "toml") && p.is_file())
            .collect();
        files.sort();
        if files.is_empty() {
            return Err(LoadError::Empty {
                path: path.to_owned(),
            });
        }
        files
    } else {
        vec![path.to_owned()]
    };
    let mut sources = Vec::with_capacity(files.len());
    for file in &files {
        let text = std::fs::read_to_string(file).map_err(|source| LoadError::Io {
            path: file.clone(),
            source,
        })?;
        sources.push((file.display().to_string(), text));
    }
    let (doc, locations) = load_sources_located(sources)?;
    Ok(Desired {
        doc,
        files,
        locations,
    })
}

/// Loads named TOML texts as one document (the names are only used in messages).
pub fn load_sources(sources: Vec<(String, String)>) -> Result<DesiredDoc, LoadError> {
    load_sources_located(sources).map(|(doc, _)| doc)
}

/// [`load_sources`], with where each key of the merged document is written.
pub fn load_sources_located(
    sources: Vec<(String, String)>,
) -> Result<(DesiredDoc, KeyLocations), LoadError> {
    let parsed: Vec<ParsedFile> = sources
        .into_iter()
        .map(|(name, text)| ParsedFile::parse(name, text))
        .collect();
    let mut problems: Vec<ConfigProblem> = parsed
        .iter()
        .flat_map(|f| f.problems.iter().cloned())
        .map(|p| p.into_problem())
        .collect();

    // Merge: a top-level table may be set in one file only; arrays of tables concatenate.
    let mut doc = DesiredDoc::default();
    let mut table_origin: BTreeMap<&'static str, usize> = BTreeMap::new();
    let mut user_origin: Vec<(usize, usize)> = Vec::new();
    let mut account_origin: Vec<(usize, usize)> = Vec::new();
    for (file_index, file) in parsed.iter().enumerate() {
        let part = &file.doc;
        for (key, present) in [
            ("password_policy", part.password_policy.is_some()),
            ("users", part.users.is_some()),
            ("audit", part.audit.is_some()),
            ("organization", part.organization.is_some()),
            ("notify", part.notify.is_some()),
            ("root", part.root.is_some()),
            ("server_certificates", part.server_certificates.is_some()),
        ] {
            if !present {
                continue;
            }
            if let Some(&first) = table_origin.get(key) {
                problems.push(file.problem_at(
                    key,
                    format!("[{key}] is already set in {}; a top-level table may be set in one file only", parsed[first].name),
                ));
                continue;
            }
            table_origin.insert(key, file_index);
            match key {
                "password_policy" => doc.password_policy = part.password_policy.clone(),
                "users" => doc.users = part.users.clone(),
                "organization" => doc.organization = part.organization.clone(),
                "notify" => doc.notify = part.notify.clone(),
                "root" => doc.root = part.root.clone(),
                "server_certificates" => doc.server_certificates = part.server_certificates.clone(),
                _ => doc.audit = part.audit.clone(),
            }
        }
        doc.user.extend(part.user.iter().cloned());
        user_origin.extend(file.user_origin.iter().map(|&i| (file_index, i)));
        doc.account.extend(part.account.iter().cloned());
        account_origin.extend(file.account_origin.iter().map(|&i| (file_index, i)));
    }

    // Semantic checks run on the merged document; map each path back to its file.
    for problem in validate(&doc) {
        let (file_index, local_path) =
            locate(&problem.path, &table_origin, &user_origin, &account_origin);
        problems.push(parsed[file_index].problem_at(&local_path, problem.message));
    }

    // In reading order: files by name, then line and column.
    problems.sort_by(|a, b| (&a.file, a.line, a.column).cmp(&(&b.file, b.line, b.column)));
    if problems.len() > MAX_REPORTED_PROBLEMS {
        let hidden = problems.len() - MAX_REPORTED_PROBLEMS + 1;
        problems.truncate(MAX_REPORTED_PROBLEMS - 1);
        let last = problems.last().expect("the cap is above one");
        problems.push(ConfigProblem {
            file: last.file.clone(),
            line: last.line,
            column: last.column,
            key: "(document)".to_owned(),
            message: format!("and {hidden} more problems, not shown; fix these first"),
            source_code: None,
            span: None,
        });
    }
    if !problems.is_empty() {
        return Err(LoadError::Invalid { problems });
    }
    let mut locations = KeyLocations::new();
    for (file_index, file) in parsed.iter().enumerate() {
        for (local, span) in file.key_spans.iter().chain(&file.spans) {
            let Some(path) = merged_path(local, file_index, &user_origin, &account_origin) else {
                continue;
            };
            // The key's own span first (chained first): a `[[user]]` element has none, its
            // value's span stands in.
            locations.entry(path).or_insert_with(|| {
                let (line, column) = file.source.position(span.start);
                KeyLocation {
                    file: file.name.clone(),
                    line,
                    column,
                }
            });
        }
    }
    Ok((doc, locations))
}

/// The path in the merged document of `local`, a path of file `file_index`: the inverse of
/// [`locate`]. `None` for an element that did not make it into the document.
fn merged_path(
    local: &str,
    file_index: usize,
    user_origin: &[(usize, usize)],
    account_origin: &[(usize, usize)],
) -> Option<String> {
    for (array, origin) in [("user[", user_origin), ("account[", account_origin)] {
        if let Some(rest) = local.strip_prefix(array) {
            let (index, tail) = rest.split_once(']')?;
            let index: usize = index.parse().ok()?;
            let merged = origin.iter().position(|&o| o == (file_index, index))?;
            return Some(format!("{array}{merged}]{tail}"));
        }
    }
    Some(local.to_owned())
}

/// Maps a path of the merged document to the file it came from and the path within that file.
fn locate(
    path: &str,
    table_origin: &BTreeMap<&'static str, usize>,
    user_origin: &[(usize, usize)],
    account_origin: &[(usize, usize)],
) -> (usize, String) {
    for (array, origin) in [("user[", user_origin), ("account[", account_origin)] {
        if let Some(rest) = path.strip_prefix(array) {
            if let Some((index, tail)) = rest.split_once(']') {
                if let Some(&(file, local)) =
                    index.parse::<usize>().ok().and_then(|i| origin.get(i))
                {
                    return (file, format!("{array}{local}]{tail}"));
                }
            }
        }
    }
    let table = path.split(['.', '[']).next().unwrap_or(path);
    (
        table_origin.get(table).copied().unwrap_or(0),
        path.to_owned(),
    )
}

/// A problem found while parsing one file, before it is turned into a diagnostic.
#[derive(Debug, Clone)]
struct RawProblem {
    file: Arc<SourceFile>,
    span: Range<usize>,
    key: String,
    message: String,
}

#[derive(Debug)]
struct SourceFile {
    name: String,
    text: Arc<String>,
    /// Byte offset where each line starts, so locating a problem is a binary search.
    line_starts: Vec<usize>,
}

impl SourceFile {
    fn new(name: String, text: Arc<String>) -> Self {
        let line_starts = std::iter::once(0)
            .chain(text.match_indices('\n').map(|(i, _)| i + 1))
            .collect();
        Self {
            name,
            text,
            line_starts,
        }
    }
}

/// Lines longer than this get no source excerpt: it would flood the terminal, and the
/// renderer cannot point past column 65,535.
const MAX_EXCERPT_LINE: usize = 1_000;
/// At most this many problems are reported; the rest are counted.
const MAX_REPORTED_PROBLEMS: usize = 50;

impl SourceFile {
    /// The 1-based line and column of byte `offset`, and whether its line is too long to show.
    fn locate(&self, offset: usize) -> (usize, usize, bool) {
        let text = &self.text;
        let start = floor_char_boundary(text, offset.min(text.len()));
        let line_index = self.line_starts.partition_point(|&s| s <= start) - 1;
        let line_start = self.line_starts[line_index];
        let line_end = self
            .line_starts
            .get(line_index + 1)
            .map_or(text.len(), |next| next - 1);
        let long_line = line_end - line_start > MAX_EXCERPT_LINE;
        // Columns count characters, except on lines too long to count cheaply (bytes then).
        let column = if long_line {
            start - line_start + 1
        } else {
            text[line_start..start].chars().count() + 1
        };
        (line_index + 1, column, long_line)
    }

    /// The 1-based line and column of byte `offset`.
    fn position(&self, offset: usize) -> (usize, usize) {
        let (line, column, _) = self.locate(offset);
        (line, column)
    }
}

impl RawProblem {
    fn into_problem(self) -> ConfigProblem {
        let file = &self.file;
        let text = &file.text;
        let start = floor_char_boundary(text, self.span.start.min(text.len()));
        let (line, column, long_line) = file.locate(start);
        let len = self.span.end.saturating_sub(start).min(text.len() - start);
        ConfigProblem {
            file: file.name.clone(),
            line,
            column,
            key: self.key,
            message: self.message,
            source_code: (!long_line)
                .then(|| NamedSource::new(file.name.clone(), Arc::clone(text))),
            span: (!long_line).then(|| SourceSpan::new(start.into(), len)),
        }
    }
}

fn floor_char_boundary(text: &str, mut index: usize) -> usize {
    while !text.is_char_boundary(index) {
        index -= 1;
    }
    index
}

/// One parsed file: what deserialized, where every key is, and what went wrong.
struct ParsedFile {
    name: String,
    source: Arc<SourceFile>,
    doc: DesiredDoc,
    /// For each element of `doc.user`/`doc.account`, its index in the file.
    user_origin: Vec<usize>,
    account_origin: Vec<usize>,
    /// Key path -> span of the value (and of the key, for keys whose value is a table).
    spans: BTreeMap<String, Range<usize>>,
    /// Key path -> span of the key itself, which is where serde points at an unknown field.
    key_spans: BTreeMap<String, Range<usize>>,
    problems: Vec<RawProblem>,
}

/// After this many problems in one file, further tables are only checked for being valid.
const MAX_PROBLEMS_PER_FILE: usize = 500;
/// At most this many errors are reported for one table or array element.
const MAX_ERRORS_PER_PART: usize = 64;

const TOP_LEVEL_KEYS: &str =
    "password_policy, users, user, audit, account, organization, root, notify, server_certificates";

impl ParsedFile {
    fn parse(name: String, text: String) -> Self {
        let text = Arc::new(text);
        let source = Arc::new(SourceFile::new(name.clone(), Arc::clone(&text)));
        let mut file = ParsedFile {
            name,
            source,
            doc: DesiredDoc::default(),
            user_origin: Vec::new(),
            account_origin: Vec::new(),
            spans: BTreeMap::new(),
            key_spans: BTreeMap::new(),
            problems: Vec::new(),
        };
        let (root, syntax_errors) = DeTable::parse_recoverable(&text);
        if !syntax_errors.is_empty() {
            for error in syntax_errors {
                let span = error.span().unwrap_or(0..0);
                file.push(span, "(document)".into(), error.message().trim().to_owned());
            }
            return file;
        }
        index_spans("", root.get_ref(), &mut file.spans, &mut file.key_spans);
        for (key, value) in root.into_inner() {
            let key_name = key.get_ref().to_string();
            match key_name.as_str() {
                "password_policy" => file.doc.password_policy = file.part(value),
                "users" => file.doc.users = file.part(value),
                "audit" => file.doc.audit = file.part(value),
                "organization" => file.doc.organization = file.part(value),
                "notify" => file.doc.notify = file.part(value),
                "root" => file.doc.root = file.part(value),
                "server_certificates" => file.doc.server_certificates = file.part(value),
                "user" | "account" => {
                    let span = value.span();
                    let DeValue::Array(items) = value.into_inner() else {
                        file.push(
                            span,
                            key_name.clone(),
                            format!(
                                "{key_name} must be an array of tables, written [[{key_name}]]"
                            ),
                        );
                        continue;
                    };
                    for (i, item) in items.into_iter().enumerate() {
                        if key_name == "user" {
                            if let Some(spec) = file.part::<UserSpec>(item) {
                                file.doc.user.push(spec);
                                file.user_origin.push(i);
                            }
                        } else if let Some(spec) = file.part::<AccountSpec>(item) {
                            file.doc.account.push(spec);
                            file.account_origin.push(i);
                        }
                    }
                }
                _ => file.push(
                    key.span(),
                    key_name.clone(),
                    format!("unknown key `{key_name}`, expected one of {TOP_LEVEL_KEYS}"),
                ),
            }
        }
        file
    }

    /// Deserializes one part of the document, recording every error in it: after each error
    /// the offending key is taken out and the rest deserialized again, so one mistake does
    /// not hide the next, and what remains still reaches validation.
    fn part<T: DeserializeOwned>(&mut self, mut value: Spanned<DeValue<'_>>) -> Option<T> {
        let whole = value.span();
        // Far more problems than are ever shown: the rest of the file is not worth the work.
        if self.problems.len() >= MAX_PROBLEMS_PER_FILE {
            return T::deserialize(ValueDeserializer::from(value)).ok();
        }
        // Each round removes one key, so this bound is never reached on real files; it only
        // caps the work on hostile ones.
        for _ in 0..MAX_ERRORS_PER_PART {
            let error = match T::deserialize(ValueDeserializer::from(value.clone())) {
                Ok(spec) => return Some(spec),
                Err(error) => error,
            };
            let span = error.span().unwrap_or_else(|| whole.clone());
            let key = self.key_at(&span);
            self.push(span.clone(), key, error.message().trim().to_owned());
            if !remove_entry_at(value.get_mut(), &span) {
                return None;
            }
        }
        None
    }

    /// The innermost key whose value (or key) span contains `span`.
    fn key_at(&self, span: &Range<usize>) -> String {
        self.spans
            .iter()
            .chain(&self.key_spans)
            .filter(|(_, s)| covers(s, span))
            .min_by_key(|(_, s)| s.end - s.start)
            .map_or_else(|| "(document)".to_owned(), |(path, _)| path.clone())
    }

    fn push(&mut self, span: Range<usize>, key: String, message: String) {
        self.problems.push(RawProblem {
            file: Arc::clone(&self.source),
            span,
            key,
            message,
        });
    }

    /// A problem at a key path of this file; falls back to the nearest enclosing key.
    fn problem_at(&self, path: &str, message: String) -> ConfigProblem {
        let mut probe = path;
        let span = loop {
            if let Some(span) = self.spans.get(probe) {
                break span.clone();
            }
            match probe.rfind(['.', '[']) {
                Some(cut) => probe = &probe[..cut],
                None => break 0..0,
            }
        };
        RawProblem {
            file: Arc::clone(&self.source),
            span,
            key: path.to_owned(),
            message,
        }
        .into_problem()
    }
}

fn covers(outer: &Range<usize>, inner: &Range<usize>) -> bool {
    outer.start <= inner.start && inner.end <= outer.end.max(outer.start + 1)
}

/// Removes from `value` the innermost table entry whose key or value holds `span`; returns
/// whether one was removed. An error inside an array of scalars removes the key holding it.
///
/// Every child table is searched, not only those whose span holds `span`: a table opened by
/// a `[header]` has a span that does not cover its body.
fn remove_entry_at(value: &mut DeValue<'_>, span: &Range<usize>) -> bool {
    match value {
        DeValue::Table(table) => {
            if table
                .iter_mut()
                .any(|(_, child)| remove_entry_at(child.get_mut(), span))
            {
                return true;
            }
            let culprit = table
                .iter()
                .find(|(key, child)| covers(&key.span(), span) || covers(&child.span(), span))
                .map(|(key, _)| key.get_ref().to_string());
            culprit.is_some_and(|name| table.remove(name.as_str()).is_some())
        }
        DeValue::Array(items) => items
            .iter_mut()
            .any(|item| remove_entry_at(item.get_mut(), span)),
        _ => false,
    }
}

/// Records the span of every key path's value in `table`.
fn index_spans(
    prefix: &str,
    table: &DeTable<'_>,
    spans: &mut BTreeMap<String, Range<usize>>,
    key_spans: &mut BTreeMap<String, Range<usize>>,
) {
    for (key, value) in table.iter() {
        let path = format!("{prefix}{}", key.get_ref());
        key_spans.insert(path.clone(), key.span());
        index_value(&path, key.span(), value, spans, key_spans);
    }
}

fn index_value(
    path: &str,
    key_span: Range<usize>,
    value: &Spanned<DeValue<'_>>,
    spans: &mut BTreeMap<String, Range<usize>>,
    key_spans: &mut BTreeMap<String, Range<usize>>,
) {
    match value.get_ref() {
        DeValue::Table(table) => {
            // A `[table]` header's value span may be empty; point at the key then.
            let span = value.span();
            spans.insert(
                path.to_owned(),
                if span.is_empty() { key_span } else { span },
            );
            index_spans(&format!("{path}."), table, spans, key_spans);
        }
        DeValue::Array(items) => {
            spans.insert(path.to_owned(), value.span());
            for (i, item) in items.iter().enumerate() {
                index_value(&format!("{path}[{i}]"), item.span(), item, spans, key_spans);
            }
        }
        _ => {
            spans.insert(path.to_owned(), value.span());
        }
    }
}
