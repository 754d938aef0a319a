//! The module graph runs one way (docs/architecture.md, "Layers"): a module
//! uses only modules in lower layers (or, within a layer, without a cycle),
//! so each layer can be read, tested and replaced knowing only what is below
//! it. Read from the source: every `crate::<module>` outside comments and
//! test code is an edge.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

/// The layers, lowest first. A new top-level module goes into one of them.
const LAYERS: &[&[&str]] = &[
    &["time", "rng", "arena", "ring", "parallel", "units", "format", "suggest", "extended", "stats"],
    &["criteria"],
    &["model"],
    &["scenario"],
    &["metrics"],
    &["engine", "live", "varnish", "import"],
    &["replication"],
    &["compare", "sweep", "plan"],
    &["report"],
    &["cli"],
];

fn layer(module: &str) -> usize {
    LAYERS.iter().position(|l| l.contains(&module)).unwrap_or_else(|| {
        panic!("module `{module}` is in no layer: add it to LAYERS here and to docs/architecture.md")
    })
}

/// The code of a file without comments and without its test module.
fn code(text: &str) -> String {
    let mut out = String::new();
    let mut lines = text.lines().peekable();
    while let Some(line) = lines.next() {
        let t = line.trim_start();
        if t.starts_with("#[cfg(test)]") && lines.peek().is_some_and(|n| n.trim_start().starts_with("mod tests")) {
            break;
        }
        if !t.starts_with("//") {
            out.push_str(line);
            out.push('\n');
        }
    }
    out
}

/// Top-level modules each top-level module refers to, with a file that does.
fn edges() -> BTreeMap<String, BTreeMap<String, String>> {
    let mut edges: BTreeMap<String, BTreeMap<String, String>> = BTreeMap::new();
    let mut stack = vec![Path::new(env!("CARGO_MANIFEST_DIR")).join("src")];
    let src = stack[0].clone();
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).expect("src is readable") {
            let path = entry.expect("entry").path();
            if path.is_dir() {
                stack.push(path);
                continue;
            }
            let rel = path.strip_prefix(&src).expect("under src").to_string_lossy().replace('\\', "/");
            let name = path.file_name().and_then(|n| n.to_str()).unwrap_or_default();
            // The crate root and the binary; test-only files.
            if !rel.ends_with(".rs") || rel == "lib.rs" || rel == "main.rs" || name.contains("test") {
                continue;
            }
            let top = rel.split('/').next().expect("a first component").trim_end_matches(".rs").to_string();
            let text = code(&std::fs::read_to_string(&path).expect("readable"));
            let mut refer = |m: &str| {
                if m != top && !m.is_empty() {
                    edges.entry(top.clone()).or_default().entry(m.to_string()).or_insert_with(|| rel.clone());
                }
            };
            for (i, _) in text.match_indices("crate::") {
                let rest = &text[i + "crate::".len()..];
                if let Some(group) = rest.strip_prefix('{') {
                    let inner = &group[..group.find('}').unwrap_or(group.len())];
                    for item in inner.split(',') {
                        refer(item.trim().split("::").next().unwrap_or_default());
                    }
                } else {
                    refer(&rest[..rest.find(|c: char| !(c.is_alphanumeric() || c == '_')).unwrap_or(rest.len())]);
                }
            }
        }
    }
    edges
}

#[test]
fn every_module_uses_only_lower_layers_and_no_module_cycles() {
    let edges = edges();
    assert!(edges.contains_key("compare") && edges["compare"].contains_key("replication"), "the scan sees edges");
    let mut upward = Vec::new();
    for (from, to) in &edges {
        for (m, file) in to {
            if layer(m) > layer(from) {
                upward.push(format!("{from} -> {m} (in src/{file})"));
            }
        }
    }
    assert!(upward.is_empty(), "uses of a higher layer:\n{}", upward.join("\n"));
    // Within a layer: no cycle (depth-first search for a back edge).
    fn visit(
        m: &str,
        edges: &BTreeMap<String, BTreeMap<String, String>>,
        path: &mut Vec<String>,
        done: &mut BTreeSet<String>,
    ) {
        if done.contains(m) {
            return;
        }
        if let Some(at) = path.iter().position(|p| p == m) {
            panic!("module cycle: {} -> {m}", path[at..].join(" -> "));
        }
        path.push(m.to_string());
        for next in edges.get(m).into_iter().flat_map(|t| t.keys()) {
            visit(next, edges, path, done);
        }
        path.pop();
        done.insert(m.to_string());
    }
    let mut done = BTreeSet::new();
    for m in edges.keys() {
        visit(m, &edges, &mut Vec::new(), &mut done);
    }
}
