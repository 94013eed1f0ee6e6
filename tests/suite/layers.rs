//! The crate's layering, kept true: no import cycle between the files of `src/`, and no file
//! importing a layer above its own (the table `LAYERS`, bottom first).
//!
//! Granularity: one node per file of the library (`src/lib.rs` and the modules under it;
//! `src/main.rs` and `src/bin/` are other crates, and test-only code is left out: items under
//! `#[cfg(test)]`, and files declared by a `#[cfg(test)] mod`).
//!
//! How it reads the code: a small lexer (comments, strings, chars and lifetimes skipped), not a
//! Rust parser. A file depends on another when it names something defined there:
//! - in a `use` tree (not `pub use`: a re-export makes nothing depend on anything; whoever names
//!   the item through it depends on the file that defines it);
//! - in a path in code starting with `crate::`, `super::` or `self::`, or with a name a `use`
//!   of the file brought in as a module, or with a child module's name.
//!
//! A path is resolved segment by segment from the crate root: into a child module when the
//! segment names one (a file, or an inline `mod x { }`, which stays part of its file), through
//! a module's `use` (so `crate::plan::Rule` lands on `plan/rule.rs`, the file defining `Rule`,
//! not on `plan/mod.rs`, which only re-exports it), to the module's own item when it defines
//! one by that name, through its glob re-exports otherwise; the first segment that is none of
//! these (an item, a variant, a method) ends the path in the module's file. Names brought in by
//! macros, or paths a macro builds, are not seen.

use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::path::{Path, PathBuf};

/// The layers, bottom first. A file belongs to the layer of the longest module path prefix
/// listed here (`plan::rule` before `plan`); it may import its own layer and those below.
const LAYERS: &[(&str, &[&str])] = &[
    (
        "leaves: data every layer shares",
        &[
            "state",
            "permissions",
            "outcome",
            "secret",
            "plan::rule",
            "plan::address",
            "plan::controls",
        ],
    ),
    (
        "plan data, the desired state",
        &[
            "plan::change",
            "plan::change_file",
            "plan::model",
            "plan::describe",
            "plan::outline",
            "plan::records",
            "desired",
        ],
    ),
    ("the engine (pure)", &["plan", "testing"]),
    ("AWS clients", &["aws"]),
    ("one account's reads", &["live", "explain", "events"]),
    ("reports to other services", &["security_hub", "notify"]),
    ("one account's writes", &["apply"]),
    ("many accounts", &["fleet", "import"]),
    ("operations", &["ops", "events::watch", "report"]),
    ("views", &["render"]),
    (
        "entry points: the command line, the Lambda handler",
        &["cli", "lambda", ""],
    ),
];

// ---------------------------------------------------------------------------------------------
// Lexing

/// Identifiers (keywords included), `::`, and single punctuation characters; comments,
/// whitespace, string, char and number literals and lifetimes are dropped.
fn tokens(src: &str) -> Vec<String> {
    let chars: Vec<char> = src.chars().collect();
    let mut out = Vec::new();
    let mut i = 0;
    let at = |i: usize| chars.get(i).copied().unwrap_or('\0');
    while i < chars.len() {
        let c = chars[i];
        if c.is_whitespace() {
            i += 1;
        } else if c == '/' && at(i + 1) == '/' {
            while i < chars.len() && chars[i] != '\n' {
                i += 1;
            }
        } else if c == '/' && at(i + 1) == '*' {
            let mut depth = 0;
            loop {
                if at(i) == '/' && at(i + 1) == '*' {
                    depth += 1;
                    i += 2;
                } else if at(i) == '*' && at(i + 1) == '/' {
                    depth -= 1;
                    i += 2;
                    if depth == 0 {
                        break;
                    }
                } else if i >= chars.len() {
                    break;
                } else {
                    i += 1;
                }
            }
        } else if c == '"' {
            i = skip_string(&chars, i + 1);
        } else if (c == 'r' || c == 'b') && raw_string_start(&chars, i).is_some() {
            let (hashes, quote) = raw_string_start(&chars, i).unwrap();
            i = quote + 1;
            while i < chars.len() {
                if chars[i] == '"' && (1..=hashes).all(|h| at(i + h) == '#') {
                    i += 1 + hashes;
                    break;
                }
                i += 1;
            }
        } else if c == 'b' && at(i + 1) == '"' {
            i = skip_string(&chars, i + 2);
        } else if c == 'b' && at(i + 1) == '\'' {
            i = skip_char(&chars, i + 1);
        } else if c == '\'' {
            if at(i + 1) == '\\' || at(i + 2) == '\'' {
                i = skip_char(&chars, i);
            } else {
                // A lifetime or a label: drop the quote and its name.
                i += 1;
                while at(i).is_alphanumeric() || at(i) == '_' {
                    i += 1;
                }
            }
        } else if c.is_alphanumeric() || c == '_' {
            let start = i;
            while at(i).is_alphanumeric() || at(i) == '_' {
                i += 1;
            }
            if !c.is_ascii_digit() {
                out.push(chars[start..i].iter().collect());
            }
        } else if c == ':' && at(i + 1) == ':' {
            out.push("::".to_owned());
            i += 2;
        } else {
            out.push(c.to_string());
            i += 1;
        }
    }
    out
}

/// From just after an opening `"`, the index after the closing one.
fn skip_string(chars: &[char], mut i: usize) -> usize {
    while i < chars.len() {
        match chars[i] {
            '\\' => i += 2,
            '"' => return i + 1,
            _ => i += 1,
        }
    }
    i
}

/// From an opening `'`, the index after the closing one.
fn skip_char(chars: &[char], mut i: usize) -> usize {
    i += 1;
    while i < chars.len() {
        match chars[i] {
            '\\' => i += 2,
            '\'' => return i + 1,
            _ => i += 1,
        }
    }
    i
}

/// At `r"`, `r#"`, `br"`, `br#"`...: the number of `#` and the index of the opening quote.
fn raw_string_start(chars: &[char], i: usize) -> Option<(usize, usize)> {
    if i > 0 && (chars[i - 1].is_alphanumeric() || chars[i - 1] == '_') {
        return None;
    }
    let mut j = i;
    if chars.get(j) == Some(&'b') {
        j += 1;
    }
    if chars.get(j) != Some(&'r') {
        return None;
    }
    j += 1;
    let hashes = chars[j..].iter().take_while(|c| **c == '#').count();
    (chars.get(j + hashes) == Some(&'"')).then_some((hashes, j + hashes))
}

/// The tokens without the items under `#[cfg(test)]`, and the names of the modules declared
/// there (`#[cfg(test)] mod tests;`: a test-only file).
fn without_test_code(tokens: &[String]) -> (Vec<String>, BTreeSet<String>) {
    const CFG_TEST: [&str; 7] = ["#", "[", "cfg", "(", "test", ")", "]"];
    let mut kept = Vec::new();
    let mut test_modules = BTreeSet::new();
    let mut i = 0;
    while i < tokens.len() {
        if !tokens[i..].starts_with(&CFG_TEST.map(String::from)) {
            kept.push(tokens[i].clone());
            i += 1;
            continue;
        }
        i += CFG_TEST.len();
        // Further attributes of the same item.
        while tokens.get(i).map(String::as_str) == Some("#") {
            i = after_balanced(tokens, i + 1);
        }
        let item_start = i;
        // The item ends at a `;` outside braces, or with its first brace block.
        while i < tokens.len() {
            match tokens[i].as_str() {
                ";" => {
                    i += 1;
                    break;
                }
                "{" => {
                    i = after_balanced(tokens, i);
                    break;
                }
                _ => i += 1,
            }
        }
        let item = &tokens[item_start..i];
        if let Some(at) = item.iter().position(|t| t == "mod")
            && item.last().map(String::as_str) == Some(";")
        {
            test_modules.insert(item[at + 1].clone());
        }
    }
    (kept, test_modules)
}

/// From an opening bracket (`{`, `[` or `(`), the index after its closing one.
fn after_balanced(tokens: &[String], open: usize) -> usize {
    let mut depth = 0usize;
    let mut i = open;
    while i < tokens.len() {
        match tokens[i].as_str() {
            "{" | "[" | "(" => depth += 1,
            "}" | "]" | ")" => {
                depth -= 1;
                if depth == 0 {
                    return i + 1;
                }
            }
            _ => {}
        }
        i += 1;
    }
    i
}

// ---------------------------------------------------------------------------------------------
// Modules and what they name

type ModPath = Vec<String>;

/// One `use` leaf: the full path it names, the name it binds (`None` for a glob), and whether
/// it is a re-export.
#[derive(Debug, Clone)]
struct Import {
    module: ModPath,
    path: Vec<String>,
    name: Option<String>,
    public: bool,
}

/// A path in code, in the module it is written in.
#[derive(Debug, Clone)]
struct CodePath {
    module: ModPath,
    path: Vec<String>,
}

/// What one file declares and names.
#[derive(Debug, Default)]
struct FileFacts {
    /// The inline modules (`mod x { }`) of the file, as full module paths.
    inline_modules: BTreeSet<ModPath>,
    /// Child modules in files (`mod x;`), not test-only.
    file_children: BTreeSet<String>,
    test_children: BTreeSet<String>,
    /// Item names defined by each module of the file (the file's and its inline modules').
    defined: BTreeMap<ModPath, BTreeSet<String>>,
    imports: Vec<Import>,
    code_paths: Vec<CodePath>,
}

const ITEM_KEYWORDS: [&str; 8] = [
    "struct", "enum", "fn", "const", "static", "type", "trait", "union",
];

fn read_file(module: &ModPath, src: &str) -> FileFacts {
    let (tokens, test_children) = without_test_code(&tokens(src));
    let mut facts = FileFacts {
        test_children,
        ..FileFacts::default()
    };
    // The module each brace depth opened, for inline modules.
    let mut stack: Vec<(usize, ModPath)> = vec![(0, module.clone())];
    let mut depth = 0usize;
    let mut i = 0;
    while i < tokens.len() {
        let current = stack.last().unwrap().1.clone();
        let t = tokens[i].as_str();
        let next = tokens.get(i + 1).map(String::as_str);
        let previous = if i == 0 { "" } else { tokens[i - 1].as_str() };
        match t {
            "{" => {
                depth += 1;
                i += 1;
            }
            "}" => {
                if stack.len() > 1 && stack.last().unwrap().0 == depth {
                    stack.pop();
                }
                depth = depth.saturating_sub(1);
                i += 1;
            }
            "mod" if tokens.get(i + 2).map(String::as_str) == Some(";") => {
                let name = tokens[i + 1].clone();
                if stack.len() == 1 && !facts.test_children.contains(&name) {
                    facts.file_children.insert(name);
                }
                i += 3;
            }
            "mod" if tokens.get(i + 2).map(String::as_str) == Some("{") => {
                let mut inner = current.clone();
                inner.push(tokens[i + 1].clone());
                facts.inline_modules.insert(inner.clone());
                depth += 1;
                stack.push((depth, inner));
                i += 3;
            }
            "use" => {
                let public = is_public_before(&tokens, i);
                let end = tokens[i..]
                    .iter()
                    .position(|t| t == ";")
                    .map_or(tokens.len(), |p| i + p);
                let mut leaves = Vec::new();
                use_tree(&tokens[i + 1..end], &mut Vec::new(), &mut leaves);
                for (path, name) in leaves {
                    facts.imports.push(Import {
                        module: current.clone(),
                        path,
                        name,
                        public,
                    });
                }
                i = end + 1;
            }
            _ if ITEM_KEYWORDS.contains(&t)
                && next.is_some_and(is_identifier)
                && depth == stack.last().unwrap().0 =>
            {
                facts
                    .defined
                    .entry(current.clone())
                    .or_default()
                    .insert(next.unwrap().to_owned());
                i += 2;
            }
            _ if is_identifier(t) && next == Some("::") && previous != "::" => {
                let mut path = vec![t.to_owned()];
                let mut j = i + 1;
                while tokens.get(j).map(String::as_str) == Some("::")
                    && tokens.get(j + 1).is_some_and(|t| is_identifier(t))
                {
                    path.push(tokens[j + 1].clone());
                    j += 2;
                }
                facts.code_paths.push(CodePath {
                    module: current.clone(),
                    path,
                });
                i = j;
            }
            _ => i += 1,
        }
    }
    facts
}

fn is_identifier(t: &str) -> bool {
    t.chars()
        .next()
        .is_some_and(|c| c.is_alphabetic() || c == '_')
}

/// Whether the `use` at `at` is preceded by `pub`, `pub(crate)`, `pub(super)`, `pub(in ...)`.
fn is_public_before(tokens: &[String], at: usize) -> bool {
    let mut i = at;
    if i > 0 && tokens[i - 1] == ")" {
        while i > 0 && tokens[i - 1] != "(" {
            i -= 1;
        }
        i = i.saturating_sub(1);
    }
    i > 0 && tokens[i - 1] == "pub"
}

/// The leaves of a `use` tree: each full path and the name it binds (`None` for `*`).
fn use_tree(
    tokens: &[String],
    prefix: &mut Vec<String>,
    out: &mut Vec<(Vec<String>, Option<String>)>,
) {
    let mut i = 0;
    let start_len = prefix.len();
    while i < tokens.len() {
        match tokens[i].as_str() {
            "::" => i += 1,
            "{" => {
                let close = after_balanced(tokens, i) - 1;
                // Split the group at its top-level commas.
                let mut depth = 0;
                let mut from = i + 1;
                for j in i + 1..=close {
                    match tokens[j].as_str() {
                        "{" => depth += 1,
                        "}" if depth > 0 => depth -= 1,
                        "," | "}" if depth == 0 => {
                            if from < j {
                                use_tree(&tokens[from..j], prefix, out);
                            }
                            from = j + 1;
                        }
                        _ => {}
                    }
                }
                i = close + 1;
            }
            "*" => {
                out.push((prefix.clone(), None));
                i += 1;
            }
            "as" => {
                let alias = tokens[i + 1].clone();
                if alias != "_" {
                    out.push((prefix.clone(), Some(alias)));
                }
                prefix.truncate(start_len);
                return;
            }
            "self" if i > 0 || start_len > 0 => {
                // `a::{self, b}`: binds `a`.
                if i + 1 < tokens.len() && tokens[i + 1] == "as" {
                    i += 1;
                    continue;
                }
                let name = prefix.last().cloned();
                out.push((prefix.clone(), name));
                i += 1;
            }
            name => {
                prefix.push(name.to_owned());
                i += 1;
                if i == tokens.len() {
                    out.push((prefix.clone(), Some(name.to_owned())));
                }
            }
        }
    }
    prefix.truncate(start_len);
}

// ---------------------------------------------------------------------------------------------
// The graph

struct Crate {
    /// Each file by its module path.
    files: BTreeMap<ModPath, PathBuf>,
    facts: BTreeMap<ModPath, FileFacts>,
}

/// Why one file depends on another: the path as written.
type Edges = BTreeMap<PathBuf, BTreeMap<PathBuf, String>>;

impl Crate {
    /// `sources`: the library's files by their path under `src/`.
    fn new(sources: &BTreeMap<PathBuf, String>) -> Crate {
        let mut files = BTreeMap::new();
        let mut facts = BTreeMap::new();
        // Reach files from `lib.rs` through their `mod` declarations, so test-only files and
        // other crates' files stay out.
        let mut queue = VecDeque::from([(ModPath::new(), PathBuf::from("lib.rs"))]);
        while let Some((module, file)) = queue.pop_front() {
            let Some(src) = sources.get(&file) else {
                continue;
            };
            let read = read_file(&module, src);
            let dir = if module.is_empty() || file.ends_with("mod.rs") {
                file.parent().unwrap().to_path_buf()
            } else {
                file.with_extension("")
            };
            for child in &read.file_children {
                let mut path = module.clone();
                path.push(child.clone());
                let flat = dir.join(format!("{child}.rs"));
                let nested = dir.join(child).join("mod.rs");
                let found = if sources.contains_key(&flat) {
                    flat
                } else {
                    nested
                };
                queue.push_back((path, found));
            }
            files.insert(module.clone(), file);
            facts.insert(module, read);
        }
        Crate { files, facts }
    }

    /// The file a module path (a file's module or an inline one) belongs to.
    fn file_of(&self, module: &[String]) -> &PathBuf {
        (0..=module.len())
            .rev()
            .find_map(|n| self.files.get(&module[..n]))
            .unwrap()
    }

    fn facts_of(&self, module: &[String]) -> &FileFacts {
        let n = (0..=module.len())
            .rev()
            .find(|n| self.files.contains_key(&module[..*n]))
            .unwrap();
        &self.facts[&module[..n]]
    }

    fn is_module(&self, module: &[String]) -> bool {
        self.files.contains_key(module) || self.facts_of(module).inline_modules.contains(module)
    }

    /// A path as written, made absolute (from the crate root), or `None` for a path that
    /// does not start in this crate. `imported`: the module names the file's `use`s bound.
    fn absolute(
        &self,
        module: &ModPath,
        path: &[String],
        imported: &BTreeMap<String, ModPath>,
    ) -> Option<ModPath> {
        let (first, mut rest) = path.split_first()?;
        let mut base = match first.as_str() {
            "crate" => ModPath::new(),
            "self" => module.clone(),
            "super" => {
                let mut base = module.clone();
                base.pop()?;
                while rest.first().map(String::as_str) == Some("super") {
                    base.pop()?;
                    rest = &rest[1..];
                }
                base
            }
            name => {
                let mut child = module.clone();
                child.push(name.to_owned());
                if self.is_module(&child) {
                    child
                } else {
                    imported.get(name)?.clone()
                }
            }
        };
        base.extend(rest.iter().cloned());
        Some(base)
    }

    /// The file defining what an absolute path names.
    fn resolve(&self, path: &[String], hops: usize) -> PathBuf {
        let mut module = ModPath::new();
        for (at, segment) in path.iter().enumerate() {
            if hops > 16 {
                break;
            }
            let mut child = module.clone();
            child.push(segment.clone());
            if self.is_module(&child) {
                module = child;
                continue;
            }
            let facts = self.facts_of(&module);
            let defined = facts
                .defined
                .get(&module)
                .is_some_and(|d| d.contains(segment));
            if !defined {
                let named = facts.imports.iter().find(|import| {
                    import.module == module && import.name.as_deref() == Some(segment.as_str())
                });
                if let Some(target) =
                    named.and_then(|import| self.absolute(&module, &import.path, &BTreeMap::new()))
                {
                    let mut target = target;
                    target.extend(path[at + 1..].iter().cloned());
                    return self.resolve(&target, hops + 1);
                }
                for glob in facts
                    .imports
                    .iter()
                    .filter(|i| i.module == module && i.name.is_none())
                {
                    let Some(mut source) = self.absolute(&module, &glob.path, &BTreeMap::new())
                    else {
                        continue;
                    };
                    if self.names(&source, segment) {
                        source.extend(path[at..].iter().cloned());
                        return self.resolve(&source, hops + 1);
                    }
                }
            }
            break;
        }
        self.file_of(&module).clone()
    }

    /// Whether module `module` (a crate path) has something called `name`.
    fn names(&self, module: &[String], name: &str) -> bool {
        if !self.is_module(module) {
            return false;
        }
        let facts = self.facts_of(module);
        let mut child = module.to_vec();
        child.push(name.to_owned());
        self.is_module(&child)
            || facts.defined.get(module).is_some_and(|d| d.contains(name))
            || facts
                .imports
                .iter()
                .any(|i| i.module == module && i.name.as_deref() == Some(name))
    }

    /// Each file's dependencies, with the first path that makes each.
    fn edges(&self) -> Edges {
        let mut edges = Edges::new();
        for (module, file) in &self.files {
            let facts = &self.facts[module];
            let into = edges.entry(file.clone()).or_default();
            // Names each module of the file imported, resolved to crate paths.
            let mut imported: BTreeMap<ModPath, BTreeMap<String, ModPath>> = BTreeMap::new();
            for import in &facts.imports {
                let Some(path) = self.absolute(&import.module, &import.path, &BTreeMap::new())
                else {
                    continue;
                };
                if let Some(name) = &import.name {
                    imported
                        .entry(import.module.clone())
                        .or_default()
                        .insert(name.clone(), path.clone());
                }
                if import.public {
                    continue;
                }
                let target = self.resolve(&path, 0);
                if &target != file {
                    into.entry(target)
                        .or_insert_with(|| format!("use {}", import.path.join("::")));
                }
            }
            let none = BTreeMap::new();
            for code in &facts.code_paths {
                let scope = imported.get(&code.module).unwrap_or(&none);
                let Some(path) = self.absolute(&code.module, &code.path, scope) else {
                    continue;
                };
                let target = self.resolve(&path, 0);
                if &target != file {
                    into.entry(target).or_insert_with(|| code.path.join("::"));
                }
            }
        }
        edges
    }

    /// The layer of a file: the longest listed prefix of its module path.
    fn layer_of(&self, file: &Path) -> Option<usize> {
        let module = self.files.iter().find(|(_, f)| f.as_path() == file)?.0;
        let joined = module.join("::");
        LAYERS
            .iter()
            .enumerate()
            .flat_map(|(layer, (_, prefixes))| prefixes.iter().map(move |p| (layer, *p)))
            .filter(|(_, prefix)| {
                prefix.is_empty() || joined == *prefix || joined.starts_with(&format!("{prefix}::"))
            })
            .max_by_key(|(_, prefix)| prefix.len())
            .map(|(layer, _)| layer)
    }
}

/// The cycles: for each strongly connected group of files, its files and one shortest cycle
/// through its first file, each step with the path that makes it.
fn cycles(edges: &Edges) -> Vec<String> {
    let files: Vec<&PathBuf> = edges.keys().collect();
    let reaches = |from: &PathBuf| -> BTreeSet<PathBuf> {
        let mut seen = BTreeSet::new();
        let mut queue = VecDeque::from([from.clone()]);
        while let Some(f) = queue.pop_front() {
            for next in edges.get(&f).into_iter().flat_map(|e| e.keys()) {
                if seen.insert(next.clone()) {
                    queue.push_back(next.clone());
                }
            }
        }
        seen
    };
    let reach: BTreeMap<&PathBuf, BTreeSet<PathBuf>> =
        files.iter().map(|f| (*f, reaches(f))).collect();
    let mut grouped = BTreeSet::new();
    let mut out = Vec::new();
    for file in &files {
        if grouped.contains(*file) || !reach[file].contains(*file) {
            continue;
        }
        let group: BTreeSet<&PathBuf> = files
            .iter()
            .copied()
            .filter(|other| reach[file].contains(*other) && reach[other].contains(*file))
            .collect();
        grouped.extend(group.iter().map(|f| (*f).clone()));
        // Shortest way back to `file`, by breadth-first search.
        let mut parent: BTreeMap<PathBuf, PathBuf> = BTreeMap::new();
        let mut queue = VecDeque::from([(*file).clone()]);
        'search: while let Some(f) = queue.pop_front() {
            for next in edges[&f].keys() {
                if !parent.contains_key(next) {
                    parent.insert(next.clone(), f.clone());
                    if next == *file {
                        break 'search;
                    }
                    queue.push_back(next.clone());
                }
            }
        }
        let mut steps = Vec::new();
        let mut at = (*file).clone();
        loop {
            let from = parent[&at].clone();
            steps.push(format!(
                "{} → {} ({})",
                from.display(),
                at.display(),
                edges[&from][&at]
            ));
            at = from;
            if at == **file {
                break;
            }
        }
        steps.reverse();
        let names: Vec<String> = group.iter().map(|f| f.display().to_string()).collect();
        out.push(format!(
            "{} files in a cycle: {}\n  e.g. {}",
            group.len(),
            names.join(", "),
            steps.join("\n       ")
        ));
    }
    out
}

/// Each import of a layer above the importing file's, and each file in no layer.
fn upward_imports(krate: &Crate, edges: &Edges) -> Vec<String> {
    let mut out = Vec::new();
    for (file, targets) in edges {
        let Some(layer) = krate.layer_of(file) else {
            out.push(format!("{} is in no layer of LAYERS", file.display()));
            continue;
        };
        for (target, why) in targets {
            let Some(target_layer) = krate.layer_of(target) else {
                continue;
            };
            if target_layer > layer {
                out.push(format!(
                    "{} ({}) imports {} ({}): {why}",
                    file.display(),
                    LAYERS[layer].0,
                    target.display(),
                    LAYERS[target_layer].0
                ));
            }
        }
    }
    out
}

fn library_sources() -> BTreeMap<PathBuf, String> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut sources = BTreeMap::new();
    let mut dirs = vec![root.clone()];
    while let Some(dir) = dirs.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                dirs.push(path);
            } else if path.extension().is_some_and(|e| e == "rs") {
                let relative = path.strip_prefix(&root).unwrap().to_path_buf();
                sources.insert(relative, std::fs::read_to_string(&path).unwrap());
            }
        }
    }
    sources
}

#[test]
fn no_import_cycle_between_files() {
    let krate = Crate::new(&library_sources());
    let found = cycles(&krate.edges());
    assert!(
        found.is_empty(),
        "import cycles in src/:\n{}",
        found.join("\n")
    );
}

#[test]
fn no_file_imports_a_layer_above_its_own() {
    let krate = Crate::new(&library_sources());
    let found = upward_imports(&krate, &krate.edges());
    assert!(
        found.is_empty(),
        "imports of a higher layer:\n{}",
        found.join("\n")
    );
}

// ---------------------------------------------------------------------------------------------
// The reader itself, on small crates written here.

fn crate_of(files: &[(&str, &str)]) -> Crate {
    Crate::new(
        &files
            .iter()
            .map(|(p, s)| (PathBuf::from(p), s.to_string()))
            .collect(),
    )
}

fn deps(krate: &Crate, file: &str) -> Vec<String> {
    krate.edges()[&PathBuf::from(file)]
        .keys()
        .map(|f| f.display().to_string())
        .collect()
}

#[test]
fn a_re_export_leads_to_the_defining_file_and_is_no_dependency() {
    let krate = crate_of(&[
        ("lib.rs", "pub mod plan; pub mod apply;"),
        (
            "plan/mod.rs",
            "mod rule; mod model;\npub use rule::Rule;\npub use model::*;",
        ),
        ("plan/rule.rs", "pub enum Rule {}"),
        ("plan/model.rs", "use crate::plan::Rule; pub struct Plan;"),
        (
            "apply/mod.rs",
            "use crate::plan;\nfn f(p: plan::Plan) { let s = \"crate::apply\"; } // crate::lib",
        ),
    ]);
    assert_eq!(deps(&krate, "plan/mod.rs"), Vec::<String>::new());
    assert_eq!(deps(&krate, "plan/model.rs"), ["plan/rule.rs"]);
    assert_eq!(
        deps(&krate, "apply/mod.rs"),
        ["plan/mod.rs", "plan/model.rs"]
    );
    assert!(cycles(&krate.edges()).is_empty());
}

#[test]
fn a_cycle_is_found_and_named_and_test_code_is_left_out() {
    let krate = crate_of(&[
        ("lib.rs", "pub mod a; pub mod b; #[cfg(test)] mod c;"),
        (
            "a.rs",
            "use super::b::{self, B};\npub struct A;\n#[cfg(test)]\nmod tests { use crate::c; }",
        ),
        ("b.rs", "pub struct B(crate::a::A);"),
        ("c.rs", "use crate::a;"),
    ]);
    assert_eq!(deps(&krate, "a.rs"), ["b.rs"]);
    let found = cycles(&krate.edges());
    assert_eq!(found.len(), 1, "{found:?}");
    assert!(
        found[0].contains("a.rs → b.rs (use super::b)"),
        "{}",
        found[0]
    );
    assert!(
        found[0].contains("b.rs → a.rs (crate::a::A)"),
        "{}",
        found[0]
    );
}
