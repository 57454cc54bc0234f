//! The SQL crate's layers, checked: each top-level module may use only the modules listed
//! before it in `LAYERS`, so the crate has no import cycle and reads bottom-up. The
//! check reads every `crate::…` path in `src/` (test code excluded: tests may reach
//! anywhere) and fails on one that climbs, naming the file. It also holds every source
//! file to `MAX_FILE_LINES`.

#![allow(clippy::unwrap_used)]

use std::path::{Path, PathBuf};

/// Bottom to top; the crate's documentation (`src/lib.rs`) explains each layer.
const LAYERS: &[&str] = &[
    "error", "password", "bridge", "syntax", "copy", "context", "system", "provider", "planner",
    "writer", "dml", "fast", "ddl", "session",
];

const MAX_FILE_LINES: usize = 800;

fn source_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            source_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// The top-level module a file belongs to (`None` for the crate root).
fn module_of(src: &Path, file: &Path) -> Option<String> {
    let relative = file.strip_prefix(src).unwrap();
    let first = relative.components().next()?.as_os_str().to_str()?;
    let name = first.strip_suffix(".rs").unwrap_or(first);
    (name != "lib").then(|| name.to_owned())
}

/// The code of a file without its tests: everything before the first `#[cfg(test)]`
/// (test modules sit at the end of a file), nothing of a file that is a test module.
fn non_test_code(file: &Path) -> String {
    if file.file_name().is_some_and(|n| n == "tests.rs") {
        return String::new();
    }
    let text = std::fs::read_to_string(file).unwrap();
    match text.find("#[cfg(test)]") {
        Some(at) => text[..at].to_owned(),
        None => text,
    }
}

fn identifier(text: &str) -> &str {
    let end = text
        .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
        .unwrap_or(text.len());
    &text[..end]
}

/// The top-level modules a piece of code names through `crate::a::…` or
/// `crate::{a::…, b}`.
fn modules_used(code: &str) -> Vec<String> {
    let mut used = Vec::new();
    for (at, _) in code.match_indices("crate::") {
        let rest = &code[at + "crate::".len()..];
        if let Some(group) = rest.strip_prefix('{') {
            let group = &group[..group.find('}').unwrap_or(group.len())];
            for item in group.split(',') {
                let name = identifier(item.trim());
                if !name.is_empty() {
                    used.push(name.to_owned());
                }
            }
        } else {
            used.push(identifier(rest).to_owned());
        }
    }
    // Items of the crate root (`crate::SqlError`) are not modules.
    used.retain(|name| name.starts_with(|c: char| c.is_ascii_lowercase()));
    used
}

#[test]
fn modules_use_only_the_layers_below_them() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    source_files(&src, &mut files);
    files.sort();
    let rank = |name: &str| LAYERS.iter().position(|layer| *layer == name);
    let mut climbing = Vec::new();
    for file in &files {
        let Some(module) = module_of(&src, file) else {
            continue;
        };
        let own = rank(&module)
            .unwrap_or_else(|| panic!("module `{module}` is in no layer: add it to LAYERS"));
        for used in modules_used(&non_test_code(file)) {
            if used == module {
                continue;
            }
            match rank(&used) {
                Some(theirs) if theirs < own => {}
                _ => climbing.push(format!(
                    "{}: `{module}` uses `{used}`",
                    file.strip_prefix(&src).unwrap().display()
                )),
            }
        }
    }
    climbing.sort();
    climbing.dedup();
    assert!(
        climbing.is_empty(),
        "imports that climb the layers:\n{}",
        climbing.join("\n")
    );
}

#[test]
fn every_module_is_declared_in_layer_order() {
    // The crate root declares exactly the layered modules.
    let lib =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("src/lib.rs")).unwrap();
    let mut declared: Vec<&str> = lib
        .lines()
        .filter_map(|line| {
            let line = line.trim_start_matches("pub ").strip_prefix("mod ")?;
            line.strip_suffix(';')
        })
        .collect();
    declared.sort_unstable();
    let mut layered = LAYERS.to_vec();
    layered.sort_unstable();
    assert_eq!(declared, layered);
}

#[test]
fn no_source_file_is_too_long() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    source_files(&src, &mut files);
    let long: Vec<String> = files
        .iter()
        .filter_map(|file| {
            let lines = std::fs::read_to_string(file).unwrap().lines().count();
            (lines > MAX_FILE_LINES).then(|| format!("{} ({lines} lines)", file.display()))
        })
        .collect();
    assert!(
        long.is_empty(),
        "files over {MAX_FILE_LINES} lines: {long:?}"
    );
}

#[test]
fn the_checker_sees_what_it_should() {
    assert_eq!(
        modules_used("use crate::context::StatementContext;\nuse crate::{error::Result, syntax};"),
        ["context", "error", "syntax"]
    );
    assert_eq!(
        modules_used("crate::SqlError::new(…)"),
        Vec::<String>::new()
    );
}
