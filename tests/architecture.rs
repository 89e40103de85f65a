//! The module structure stays acyclic: no source file imports a file that (directly or
//! through others) imports it, and the layers below the engine (config, data, experiment,
//! store, report, and machine.rs, which they use) never import nn/, nor nn/ what comes
//! after it (schedule, store, report, cli). Imports are read from
//! the source text: `use` trees and `a::b` paths in code, test modules left out. And
//! docs/architecture.md names every source file.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// Every library source file under src/ (the binary's main.rs is a crate of its own).
fn sources(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap().flatten() {
        let path = entry.path();
        if path.is_dir() {
            sources(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") && !path.ends_with("main.rs") {
            out.push(path);
        }
    }
}

/// The module path of a file: src/a/b.rs and src/a/b/mod.rs are ["a", "b"]; lib.rs is [].
fn module_of(src: &Path, file: &Path) -> Vec<String> {
    let relative = file.strip_prefix(src).unwrap().with_extension("");
    let mut parts: Vec<String> = relative.iter().map(|p| p.to_string_lossy().into_owned()).collect();
    if parts.last().is_some_and(|p| p == "mod" || p == "lib") {
        parts.pop();
    }
    parts
}

/// The code of a file without comments, string contents and its `#[cfg(test)]` modules.
fn code(text: &str) -> String {
    let text = text.split("#[cfg(test)]\nmod tests").next().unwrap();
    let mut out = String::new();
    for line in text.lines() {
        let line = line.split("//").next().unwrap();
        let mut in_string = false;
        for c in line.chars() {
            if c == '"' {
                in_string = !in_string;
            }
            if !in_string || c == '"' {
                out.push(c);
            }
        }
        out.push('\n');
    }
    out
}

/// Expands a `use` tree ("crate::a::{b, c::{d, e as f}}") into its paths.
fn expand(tree: &str) -> Vec<String> {
    let tree = tree.trim();
    let Some(open) = tree.find('{') else {
        return vec![tree.split(" as ").next().unwrap().trim().to_string()];
    };
    let prefix = &tree[..open];
    let inner = &tree[open + 1..tree.rfind('}').unwrap()];
    let (mut depth, mut start, mut parts) = (0, 0, Vec::new());
    for (i, c) in inner.char_indices() {
        match c {
            '{' => depth += 1,
            '}' => depth -= 1,
            ',' if depth == 0 => {
                parts.push(&inner[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    parts.push(&inner[start..]);
    parts
        .into_iter()
        .filter(|p| !p.trim().is_empty())
        .flat_map(|p| expand(p).into_iter().map(move |e| format!("{prefix}{e}")))
        .collect()
}

/// Every path a file's code names (`use` trees expanded, and `a::b` paths in code).
fn paths(code: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut rest = code;
    while let Some(at) = rest.find("use ") {
        let before = rest[..at].chars().last();
        let after = &rest[at + 4..];
        if before.is_none_or(|c| !c.is_alphanumeric() && c != '_') {
            let end = after.find(';').unwrap_or(after.len());
            out.extend(expand(&after[..end].split_whitespace().collect::<Vec<_>>().join(" ")));
        }
        rest = after;
    }
    // Paths in code: every `name::…` that does not continue another path.
    for (at, _) in code.match_indices("::") {
        let start = code[..at]
            .rfind(|c: char| !(c.is_alphanumeric() || c == '_' || c == ':'))
            .map_or(0, |i| i + 1);
        if start == at || code[start..at].contains("::") {
            continue;
        }
        let path: String = code[start..]
            .chars()
            .take_while(|c| c.is_alphanumeric() || *c == '_' || *c == ':')
            .collect();
        out.push(path);
    }
    out
}

/// The file a path names: the longest prefix of it that is a module.
fn resolve(path: &str, current: &[String], modules: &BTreeMap<Vec<String>, PathBuf>) -> Option<PathBuf> {
    let mut segments: Vec<String> = Vec::new();
    let mut names = path.split("::").filter(|s| !s.is_empty()).peekable();
    match names.peek().copied() {
        Some("crate") => {
            names.next();
        }
        Some("super") | Some("self") => {
            segments = current.to_vec();
            while let Some(name) = names.peek().copied() {
                match name {
                    "super" => drop(segments.pop()),
                    "self" => {}
                    _ => break,
                }
                names.next();
            }
        }
        // A child module named without `self::` (`use child::Item`, `child::f()`).
        Some(first) => {
            let mut child = current.to_vec();
            child.push(first.to_string());
            if !modules.contains_key(&child) {
                return None;
            }
            segments = current.to_vec();
        }
        None => return None,
    }
    let mut best = modules.get(&segments).cloned();
    for name in names {
        segments.push(name.to_string());
        match modules.get(&segments) {
            Some(file) => best = Some(file.clone()),
            None => break,
        }
    }
    best
}

/// File → the files it imports (other than itself and the crate root).
fn imports() -> BTreeMap<String, BTreeSet<String>> {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    sources(&src, &mut files);
    let modules: BTreeMap<Vec<String>, PathBuf> = files.iter().map(|f| (module_of(&src, f), f.clone())).collect();
    let name = |f: &Path| f.strip_prefix(&src).unwrap().display().to_string();
    let mut graph = BTreeMap::new();
    for file in &files {
        let current = module_of(&src, file);
        let targets: BTreeSet<String> = paths(&code(&std::fs::read_to_string(file).unwrap()))
            .iter()
            .filter_map(|p| resolve(p, &current, &modules))
            .filter(|t| t != file && !t.ends_with("lib.rs"))
            .map(|t| name(&t))
            .collect();
        graph.insert(name(file), targets);
    }
    graph
}

/// The files from which `from` is reached again through imports (a cycle), if any.
fn cycle_through(graph: &BTreeMap<String, BTreeSet<String>>, from: &str) -> Option<Vec<String>> {
    let mut stack = vec![(from.to_string(), vec![from.to_string()])];
    let mut seen = BTreeSet::new();
    while let Some((node, trail)) = stack.pop() {
        for next in graph.get(&node).into_iter().flatten() {
            if next == from {
                return Some(trail.clone());
            }
            if seen.insert(next.clone()) {
                let mut longer = trail.clone();
                longer.push(next.clone());
                stack.push((next.clone(), longer));
            }
        }
    }
    None
}

#[test]
fn the_parser_reads_use_trees_and_paths() {
    assert_eq!(
        expand("crate::a::{b, c::{d, e as f}}"),
        ["crate::a::b", "crate::a::c::d", "crate::a::c::e"]
    );
    let found: BTreeSet<String> = paths(&code(
        "use super::x::Y;\nfn f() { crate::store::write(); let s = \"crate::nope\"; }\n// crate::no\n",
    ))
    .into_iter()
    .collect();
    assert_eq!(
        found,
        BTreeSet::from(["super::x::Y".into(), "crate::store::write".into()])
    );
}

#[test]
fn no_file_imports_a_file_that_imports_it() {
    let graph = imports();
    assert!(graph.len() > 50 && graph.values().map(BTreeSet::len).sum::<usize>() > 100);
    let cycles: Vec<String> = graph
        .keys()
        .filter_map(|f| cycle_through(&graph, f).map(|c| format!("{} → {f}", c.join(" → "))))
        .collect();
    assert!(cycles.is_empty(), "import cycles:\n{}", cycles.join("\n"));
}

/// The imports "file → target" from files that `from` accepts to targets that `to` accepts.
fn imports_between(
    graph: &BTreeMap<String, BTreeSet<String>>,
    from: impl Fn(&str) -> bool,
    to: impl Fn(&str) -> bool,
) -> Vec<String> {
    graph
        .iter()
        .filter(|(f, _)| from(f))
        .flat_map(|(f, targets)| targets.iter().filter(|t| to(t)).map(move |t| format!("{f} → {t}")))
        .collect()
}

#[test]
fn nothing_below_the_engine_imports_nn() {
    let graph = imports();
    let below = ["config", "data/", "experiment/", "store/", "report/", "machine.rs"];
    let offending = imports_between(
        &graph,
        |f| below.iter().any(|b| f.starts_with(b)),
        |t| t.starts_with("nn/"),
    );
    assert!(offending.is_empty(), "{}", offending.join("\n"));
}

#[test]
fn the_engine_imports_only_what_comes_before_it_and_the_neutral_modules() {
    let graph = imports();
    // nn/ trains from a run spec and data; what it produces (results.rs) and how files are
    // written (atomic_write.rs) are neutral ground the store shares; schedule, store,
    // report, cli and slurm come after it.
    let allowed = ["nn/", "config", "data/", "results.rs", "atomic_write.rs", "machine.rs"];
    let offending = imports_between(
        &graph,
        |f| f.starts_with("nn/"),
        |t| !allowed.iter().any(|a| t.starts_with(a)),
    );
    assert!(graph.keys().any(|f| f.starts_with("nn/")), "no nn/ files found");
    assert!(offending.is_empty(), "{}", offending.join("\n"));
}

#[test]
fn docs_architecture_names_every_source_file() {
    // A file is named by its file name; a mod.rs by its folder ("src/data/", "plots/").
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let doc = std::fs::read_to_string(src.join("../docs/architecture.md")).unwrap();
    let mut files = Vec::new();
    sources(&src, &mut files);
    files.push(src.join("main.rs"));
    let missing: Vec<String> = files
        .iter()
        .filter(|f| {
            let name = f.file_name().unwrap().to_string_lossy();
            match name.as_ref() {
                "mod.rs" => {
                    let folder = f.parent().unwrap().file_name().unwrap().to_string_lossy();
                    !doc.contains(&format!("{folder}/"))
                }
                name => !doc.contains(name),
            }
        })
        .map(|f| f.strip_prefix(&src).unwrap().display().to_string())
        .collect();
    assert!(missing.is_empty(), "docs/architecture.md does not name: {missing:?}");
}
