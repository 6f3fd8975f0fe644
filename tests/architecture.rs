//! The direction check: every `crate::…` path in `src/` (and every `kyoso::…` path in
//! `src/main.rs`) is an arrow from the module ("room") it is written in to the room it
//! names, and each arrow must be in [`ALLOWED`], the table ARCHITECTURE.md draws. Some
//! rooms may also not name some outside crates at all ([`FORBIDDEN_CRATES`]: no diesel
//! above storage, no actix in the domain). Comments and string literals are not code
//! and are skipped. Runs with the other tests (`cargo test architecture`), so CI fails
//! on a wrong `use`.
#![expect(
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::string_slice,
    reason = "a test over our own source tree: a failed assumption is a failed test"
)]

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

/// Who may name whom. A room is a top-level module of `src/` (a directory or a file).
/// `main`, `app`, `commands` and `config` are the composition root: they start things.
const ALLOWED: &[(&str, &[&str])] = &[
    (
        "main",
        &[
            "app", "commands", "config", "demo", "domain", "jobs", "mail", "storage", "values",
        ],
    ),
    ("lib", &[]),
    (
        "app",
        &[
            "api",
            "console",
            "domain",
            "security_headers",
            "values",
            "web",
        ],
    ),
    (
        "commands",
        &[
            "app", "config", "domain", "jobs", "mail", "storage", "values",
        ],
    ),
    // Settings are typed with the domain's values (digest schedule, write limits) and
    // parse the database URL; nothing below the root reads `config`.
    ("config", &["domain", "storage", "values"]),
    // Whether a request came over https is the console session's rule.
    ("security_headers", &["console"]),
    ("api", &["domain", "values", "web"]),
    ("console", &["domain", "values", "web"]),
    ("web", &["domain", "values"]),
    ("demo", &["domain", "values"]),
    ("jobs", &["domain", "mail", "values"]),
    ("domain", &["mail", "storage", "values"]),
    ("mail", &["storage", "values"]),
    ("storage", &["values"]),
    // Ids, codes, locale and the vocabularies: words every room may use, naming none.
    ("values", &[]),
];

/// Arrows that break the table today, each with the path prefix it is limited to.
/// Remove an entry when its cause is gone; the check fails on an entry nothing uses.
const EXCEPTIONS: &[(&str, &str)] = &[];

/// Outside crates a room may not name.
const FORBIDDEN_CRATES: &[(&str, &[&str])] = &[
    ("domain", &["diesel", "actix_web", "maud", "lettre"]),
    ("api", &["diesel", "search_index", "lettre"]),
    ("console", &["diesel", "search_index", "lettre"]),
    ("web", &["diesel", "search_index", "lettre"]),
    ("jobs", &["diesel", "actix_web", "maud"]),
    ("demo", &["diesel", "actix_web", "maud"]),
    ("mail", &["actix_web", "maud", "search_index"]),
    ("storage", &["actix_web", "maud", "lettre", "search_index"]),
    ("values", &["actix_web", "maud", "lettre", "search_index"]),
];

/// One path from one room to another.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
struct Arrow {
    file: String,
    line: usize,
    from: String,
    /// The path as written after `crate::`, e.g. `api::state::AppState`.
    path: String,
}

impl Arrow {
    fn to(&self) -> &str {
        self.path.split("::").next().unwrap_or("")
    }
}

/// The room of a file under `src/`, and its module path (for `super::`).
fn room_of(rel: &str) -> (String, Vec<String>) {
    let parts: Vec<&str> = rel.trim_end_matches(".rs").split('/').collect();
    let mut module: Vec<String> = parts.iter().map(|s| s.to_string()).collect();
    if module.last().is_some_and(|l| l == "mod") {
        module.pop();
    }
    (parts[0].to_string(), module)
}

/// The source with comments and the contents of string and char literals blanked out
/// (newlines kept, so line numbers stay).
fn code_only(src: &str) -> String {
    let b: Vec<char> = src.chars().collect();
    let mut out = String::with_capacity(src.len());
    let mut i = 0;
    let blank = |c: char| if c == '\n' { '\n' } else { ' ' };
    while i < b.len() {
        let c = b[i];
        let next = b.get(i + 1).copied();
        if c == '/' && next == Some('/') {
            while i < b.len() && b[i] != '\n' {
                out.push(' ');
                i += 1;
            }
        } else if c == '/' && next == Some('*') {
            let mut depth = 0;
            while i < b.len() {
                if b[i] == '/' && b.get(i + 1) == Some(&'*') {
                    depth += 1;
                    out.push_str("  ");
                    i += 2;
                } else if b[i] == '*' && b.get(i + 1) == Some(&'/') {
                    depth -= 1;
                    out.push_str("  ");
                    i += 2;
                    if depth == 0 {
                        break;
                    }
                } else {
                    out.push(blank(b[i]));
                    i += 1;
                }
            }
        } else if c == 'r'
            && (next == Some('"') || next == Some('#'))
            && !b
                .get(i.wrapping_sub(1))
                .is_some_and(|p| p.is_alphanumeric() || *p == '_')
        {
            // A raw string: r"…", r#"…"#.
            let mut j = i + 1;
            let mut hashes = 0;
            while b.get(j) == Some(&'#') {
                hashes += 1;
                j += 1;
            }
            if b.get(j) != Some(&'"') {
                out.push(c);
                i += 1;
                continue;
            }
            out.push_str(&" ".repeat(j + 1 - i));
            i = j + 1;
            while i < b.len() {
                if b[i] == '"' && (0..hashes).all(|k| b.get(i + 1 + k) == Some(&'#')) {
                    out.push_str(&" ".repeat(1 + hashes));
                    i += 1 + hashes;
                    break;
                }
                out.push(blank(b[i]));
                i += 1;
            }
        } else if c == '"' {
            out.push(' ');
            i += 1;
            while i < b.len() && b[i] != '"' {
                if b[i] == '\\' {
                    out.push(' ');
                    i += 1;
                }
                if i < b.len() {
                    out.push(blank(b[i]));
                    i += 1;
                }
            }
            out.push(' ');
            i += 1;
        } else if c == '\'' {
            // A char literal ('x', '\n', '\u{..}') rather than a lifetime ('a).
            let end = if next == Some('\\') {
                (i + 2..b.len().min(i + 12)).find(|&k| b[k] == '\'')
            } else if b.get(i + 2) == Some(&'\'') {
                Some(i + 2)
            } else {
                None
            };
            match end {
                Some(e) => {
                    out.push_str(&" ".repeat(e + 1 - i));
                    i = e + 1;
                }
                None => {
                    out.push(c);
                    i += 1;
                }
            }
        } else {
            out.push(c);
            i += 1;
        }
    }
    out
}

fn is_ident(c: char) -> bool {
    c.is_alphanumeric() || c == '_'
}

/// The first segments of the items of a `{…}` group (nested groups count as one item).
fn group_items(code: &str) -> Vec<String> {
    let mut items = vec![];
    let mut depth = 0;
    let mut current = String::new();
    for c in code.chars() {
        match c {
            '{' => {
                depth += 1;
                if depth > 1 {
                    current.push(c);
                }
            }
            '}' => {
                depth -= 1;
                if depth == 0 {
                    items.push(std::mem::take(&mut current));
                    break;
                }
                current.push(c);
            }
            ',' if depth == 1 => items.push(std::mem::take(&mut current)),
            _ => current.push(c),
        }
    }
    items
        .into_iter()
        .map(|s| s.split_whitespace().collect::<String>())
        .filter(|s| !s.is_empty() && s != "self")
        .collect()
}

/// How many inline modules (`mod name { … }`) are open at `at`.
fn inline_modules_around(code: &str, at: usize) -> usize {
    let mut stack: Vec<bool> = vec![];
    let before = &code[..at];
    for (i, c) in before.char_indices() {
        match c {
            '{' => {
                let head = before[..i].trim_end();
                let is_mod = head
                    .rsplit(|c: char| !is_ident(c))
                    .nth(1)
                    .is_some_and(|w| w == "mod")
                    && head.chars().next_back().is_some_and(is_ident);
                stack.push(is_mod);
            }
            '}' => {
                stack.pop();
            }
            _ => {}
        }
    }
    stack.into_iter().filter(|m| *m).count()
}

/// Every arrow a file draws: `crate::x…`, `crate::{x…, y…}`, `super::…` that leaves
/// the room, and (in `main.rs`) `kyoso::x…`.
fn arrows_of(rel: &str, src: &str) -> Vec<Arrow> {
    let (room, module) = room_of(rel);
    let code = code_only(src);
    let mut arrows = vec![];
    let line_of = |at: usize| code[..at].matches('\n').count() + 1;
    let mut push = |at: usize, path: String| {
        let path: String = path.split_whitespace().collect();
        if !path.is_empty() {
            arrows.push(Arrow {
                file: rel.to_owned(),
                line: line_of(at),
                from: room.clone(),
                path,
            });
        }
    };
    let roots: &[&str] = if rel == "main.rs" {
        &["crate::", "kyoso::"]
    } else {
        &["crate::"]
    };
    for root in roots {
        for (at, _) in code.match_indices(root) {
            if code[..at]
                .chars()
                .next_back()
                .is_some_and(|c| is_ident(c) || c == ':')
            {
                continue;
            }
            let rest = &code[at + root.len()..];
            if rest.starts_with('{') {
                for item in group_items(rest) {
                    push(at, item);
                }
            } else {
                let path: String = rest
                    .chars()
                    .take_while(|&c| is_ident(c) || c == ':')
                    .collect();
                push(at, path.trim_end_matches(':').to_owned());
            }
        }
    }
    // `super::` climbing out of the room names the crate root's modules.
    for (at, _) in code.match_indices("super::") {
        if code[..at]
            .chars()
            .next_back()
            .is_some_and(|c| is_ident(c) || c == ':')
        {
            continue;
        }
        let mut rest = &code[at..];
        let mut up = 0;
        while let Some(r) = rest.strip_prefix("super::") {
            up += 1;
            rest = r;
        }
        // The file's module is `module` plus the inline modules (`mod tests { … }`)
        // around this place; `super` from it is its parent.
        if up >= module.len() + inline_modules_around(&code, at) {
            let path: String = rest
                .chars()
                .take_while(|&c| is_ident(c) || c == ':')
                .collect();
            push(at, path.trim_end_matches(':').to_owned());
        }
    }
    arrows.retain(|a| a.to() != a.from);
    arrows
}

/// Uses of forbidden outside crates: `diesel::…` or `use diesel…` in a room that may
/// not name diesel.
fn forbidden_crates_of(rel: &str, src: &str) -> Vec<(usize, String)> {
    let (room, _) = room_of(rel);
    let Some((_, crates)) = FORBIDDEN_CRATES.iter().find(|(r, _)| *r == room) else {
        return vec![];
    };
    let code = code_only(src);
    let mut found = vec![];
    for krate in *crates {
        for (at, _) in code.match_indices(krate) {
            let before = code[..at].chars().next_back();
            let after = code[at + krate.len()..].chars().next();
            if before.is_some_and(|c| is_ident(c) || c == ':') || after.is_some_and(is_ident) {
                continue;
            }
            if after == Some(':') || code[..at].trim_end().ends_with("use") {
                found.push((code[..at].matches('\n').count() + 1, krate.to_string()));
            }
        }
    }
    found
}

/// Whether an arrow is allowed, and by which exception if only by one.
fn verdict(a: &Arrow) -> Result<Option<&'static (&'static str, &'static str)>, String> {
    let allowed = ALLOWED
        .iter()
        .find(|(r, _)| *r == a.from)
        .map(|(_, to)| *to)
        .ok_or_else(|| format!("{}: room `{}` is not in the table", a.file, a.from))?;
    if allowed.contains(&a.to()) {
        return Ok(None);
    }
    if let Some(e) = EXCEPTIONS.iter().find(|(from, prefix)| {
        *from == a.from && (a.path == *prefix || a.path.starts_with(&format!("{prefix}::")))
    }) {
        return Ok(Some(e));
    }
    Err(format!(
        "src/{}:{}: `{}` may not name `{}` (crate::{})",
        a.file,
        a.line,
        a.from,
        a.to(),
        a.path
    ))
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for e in entries.flatten() {
        let p = e.path();
        if p.is_dir() {
            rust_files(&p, out);
        } else if p.extension().is_some_and(|x| x == "rs") {
            out.push(p);
        }
    }
}

fn sources() -> Vec<(String, String)> {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = vec![];
    rust_files(&src, &mut files);
    files.sort();
    files
        .into_iter()
        .map(|p| {
            let rel = p
                .strip_prefix(&src)
                .expect("under src")
                .to_string_lossy()
                .replace('\\', "/");
            let text = std::fs::read_to_string(&p).expect("readable source");
            (rel, text)
        })
        .collect()
}

/// Every problem in a set of files: arrows not allowed, forbidden crates.
fn problems(files: &[(String, String)]) -> (Vec<String>, BTreeSet<(&'static str, &'static str)>) {
    let mut problems = vec![];
    let mut used = BTreeSet::new();
    for (rel, text) in files {
        for a in arrows_of(rel, text) {
            match verdict(&a) {
                Ok(Some(e)) => {
                    used.insert(*e);
                }
                Ok(None) => {}
                Err(p) => problems.push(p),
            }
        }
        for (line, krate) in forbidden_crates_of(rel, text) {
            let (room, _) = room_of(rel);
            problems.push(format!(
                "src/{rel}:{line}: `{room}` may not use the `{krate}` crate"
            ));
        }
    }
    (problems, used)
}

#[test]
fn architecture_arrows_follow_the_table() {
    let files = sources();
    assert!(
        files.len() > 50,
        "found the source tree ({} files)",
        files.len()
    );
    let (problems, used) = problems(&files);
    assert!(
        problems.is_empty(),
        "arrows against ARCHITECTURE.md:\n{}",
        problems.join("\n")
    );
    let stale: Vec<_> = EXCEPTIONS.iter().filter(|e| !used.contains(*e)).collect();
    assert!(
        stale.is_empty(),
        "exceptions nothing needs any more, remove them: {stale:?}"
    );
}

#[test]
fn architecture_every_room_is_in_the_table() {
    let rooms: BTreeSet<String> = sources().iter().map(|(rel, _)| room_of(rel).0).collect();
    for room in rooms {
        assert!(
            ALLOWED.iter().any(|(r, _)| *r == room),
            "src/{room} is not in the table of arrows"
        );
    }
}

#[test]
fn architecture_check_catches_a_wrong_use() {
    let one = |rel: &str, text: &str| problems(&[(rel.to_owned(), text.to_owned())]).0;
    // The console reaching through the API, in each way a path can be written.
    assert_eq!(
        one("console/x.rs", "use crate::api::state::AppState;\n").len(),
        1
    );
    assert_eq!(
        one(
            "console/x.rs",
            "use crate::{domain::error::AppError, api::problem};\n"
        )
        .len(),
        1
    );
    assert_eq!(
        one(
            "console/x.rs",
            "fn f() { let s = crate::api::problem::status_of(&e); }\n"
        )
        .len(),
        1
    );
    let found = one(
        "console/inbox.rs",
        "\n\nuse crate::api::problem::status_of;\n",
    );
    assert!(found[0].starts_with("src/console/inbox.rs:3:"), "{found:?}");
    // Arrows pointing back up.
    assert_eq!(
        one("storage/x.rs", "use crate::domain::error::AppError;\n").len(),
        1
    );
    assert_eq!(
        one("mail/x.rs", "use crate::domain::error::AppResult;\n").len(),
        1
    );
    assert_eq!(one("domain/x.rs", "use crate::console::layout;\n").len(), 1);
    assert_eq!(
        one("web/x.rs", "use crate::api::problem::Problem;\n").len(),
        1
    );
    // `super::` out of a room's mod.rs names the crate root.
    assert_eq!(one("console/mod.rs", "use super::api::state;\n").len(), 1);
    assert_eq!(
        one("console/x.rs", "use super::super::api::state;\n").len(),
        1
    );
    assert!(one("app.rs", "mod tests {\n    use super::request_line;\n}\n").is_empty());
    assert_eq!(
        one(
            "app.rs",
            "mod tests {\n    use super::super::storage::x;\n}\n"
        )
        .len(),
        1
    );
    // SQL in the domain.
    assert_eq!(one("domain/x.rs", "use diesel::prelude::*;\n").len(), 1);
    assert_eq!(
        one("domain/x.rs", "fn f() { diesel::delete(t); }\n").len(),
        1
    );
    // The words below everything are named from `values`, never through the domain.
    assert!(one("mail/x.rs", "use crate::values::vocab::Locale;\n").is_empty());
    assert_eq!(
        one("mail/x.rs", "use crate::domain::vocab::Locale;\n").len(),
        1
    );
    assert_eq!(one("values/x.rs", "use crate::domain::X;\n").len(), 1);
    // What is allowed, and what is not code, passes.
    assert!(
        one(
            "console/x.rs",
            "use crate::web::state::AppState;\nuse crate::domain::Db;\n"
        )
        .is_empty()
    );
    assert!(one("console/x.rs", "use super::layout;\n").is_empty());
    assert!(
        one(
            "console/x.rs",
            "// crate::api::state\n/* crate::api */\nconst S: &str = \"crate::api::x diesel::y\";\nconst R: &str = r#\"crate::api\"#;\nfn f<'a>(c: char) -> bool { c == '\"' }\n"
        )
        .is_empty()
    );
}
