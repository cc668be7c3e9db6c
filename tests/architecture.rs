//! The shape of the code, checked: the top-level modules of `src/` import each other one
//! way only (no cycle), each layer imports only from the layers ARCHITECTURE.md puts
//! beneath it, and no file grows past 800 lines of code (unit tests excluded).
//!
//! Imports are read from the source text (`crate::NAME` paths and `use crate::{…}`
//! groups), outside comments and `#[cfg(test)]` code, as the project's own
//! `modgraph.py` reads them.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

const SRC: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/src");

/// Most lines of code in one file (unit tests excluded).
const MAX_FILE_LINES: usize = 800;

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let p = entry.unwrap().path();
        if p.is_dir() {
            rust_files(&p, out);
        } else if p.extension().is_some_and(|e| e == "rs") {
            out.push(p);
        }
    }
}

/// The text before the first `#[cfg(test)]`, without `//` comments.
fn code(text: &str) -> String {
    let text = text.split("#[cfg(test)]").next().unwrap_or("");
    text.lines()
        .map(|l| match l.find("//") {
            Some(i) => &l[..i],
            None => l,
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// The top-level modules `code` names through `crate::`.
fn imports(code: &str, tops: &BTreeSet<String>) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    let mut rest = code;
    while let Some(i) = rest.find("crate::") {
        rest = &rest[i + "crate::".len()..];
        if let Some(group) = rest.strip_prefix('{') {
            // `use crate::{a::b, c}`: every first segment of the group.
            let end = group.find("};").unwrap_or(group.len());
            for part in group[..end].split(',') {
                let name: String = part
                    .trim()
                    .chars()
                    .take_while(|c| c.is_alphanumeric() || *c == '_')
                    .collect();
                if tops.contains(&name) {
                    out.insert(name);
                }
            }
            continue;
        }
        let name: String = rest
            .chars()
            .take_while(|c| c.is_alphanumeric() || *c == '_')
            .collect();
        if tops.contains(&name) {
            out.insert(name);
        }
    }
    out
}

/// Top-level module → the top-level modules it imports.
fn graph() -> BTreeMap<String, BTreeSet<String>> {
    let mut tops = BTreeSet::new();
    for entry in std::fs::read_dir(SRC).unwrap() {
        let p = entry.unwrap().path();
        let name = p.file_stem().unwrap().to_string_lossy().into_owned();
        if p.is_dir()
            || (name != "main" && name != "lib" && p.extension().is_some_and(|e| e == "rs"))
        {
            tops.insert(name);
        }
    }
    let mut graph = BTreeMap::new();
    for top in &tops {
        let root = Path::new(SRC).join(top);
        let mut files = Vec::new();
        if root.is_dir() {
            rust_files(&root, &mut files);
        } else {
            files.push(root.with_extension("rs"));
        }
        let mut deps = BTreeSet::new();
        for f in files {
            let text = std::fs::read_to_string(&f).unwrap();
            deps.extend(imports(&code(&text), &tops));
        }
        deps.remove(top);
        graph.insert(top.clone(), deps);
    }
    graph
}

/// A cycle through `start`, if any (depth-first search).
fn cycle_from(graph: &BTreeMap<String, BTreeSet<String>>, start: &str) -> Option<Vec<String>> {
    fn visit(
        g: &BTreeMap<String, BTreeSet<String>>,
        node: &str,
        start: &str,
        path: &mut Vec<String>,
        seen: &mut BTreeSet<String>,
    ) -> bool {
        for next in g.get(node).into_iter().flatten() {
            if next == start {
                path.push(next.clone());
                return true;
            }
            if seen.insert(next.clone()) {
                path.push(next.clone());
                if visit(g, next, start, path, seen) {
                    return true;
                }
                path.pop();
            }
        }
        false
    }
    let mut path = vec![start.to_string()];
    let mut seen = BTreeSet::new();
    visit(graph, start, start, &mut path, &mut seen).then_some(path)
}

#[test]
fn the_top_level_modules_import_each_other_one_way_only() {
    let g = graph();
    for top in g.keys() {
        if let Some(cycle) = cycle_from(&g, top) {
            panic!("an import cycle: {}", cycle.join(" → "));
        }
    }
}

#[test]
fn each_layer_imports_only_from_beneath_it() {
    let g = graph();
    let allowed = |module: &str| -> Option<&[&str]> {
        Some(match module {
            "base" => &[],
            "model" => &["base"],
            _ => return None,
        })
    };
    for (module, deps) in &g {
        if let Some(ok) = allowed(module) {
            for d in deps {
                assert!(
                    ok.contains(&d.as_str()),
                    "{module} must not import {d} (it may import only {ok:?})"
                );
            }
        }
    }
    // The web reads the bus; nothing beneath it (and not the bus) imports it.
    for (module, deps) in &g {
        if deps.contains("web") {
            assert!(
                ["pipeline", "cli"].contains(&module.as_str()),
                "{module} imports the web layer: only the pipeline and the CLI may"
            );
        }
        if deps.contains("pipeline") {
            assert_eq!(
                module, "cli",
                "{module} imports the pipeline: only the CLI may"
            );
        }
        if deps.contains("cli") {
            panic!("{module} imports the CLI");
        }
    }
}

#[test]
fn no_file_is_over_the_size_limit() {
    let mut files = Vec::new();
    rust_files(Path::new(SRC), &mut files);
    let mut over = Vec::new();
    for f in files {
        if f.file_name().is_some_and(|n| n == "tests.rs") {
            continue;
        }
        let text = std::fs::read_to_string(&f).unwrap();
        let lines = text
            .lines()
            .take_while(|l| !l.trim_start().starts_with("#[cfg(test)]"))
            .count();
        if lines > MAX_FILE_LINES {
            over.push(format!("{} ({lines} lines)", f.display()));
        }
    }
    assert!(
        over.is_empty(),
        "files over {MAX_FILE_LINES} lines: {over:?}"
    );
}
