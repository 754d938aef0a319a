//! The scenario text with its TOML spans: key paths to lines and back.
//!
//! serde errors come with a byte span but no key path; validation errors come
//! with a key path but no span. Both are answered from the parsed toml_edit
//! document, which keeps the span of every key and value.

use toml_edit::{Document, Item, Key, Value};

/// One segment of a key path.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Seg {
    Key(String),
    Index(usize),
}

/// Renders `a.b[2].c`.
pub fn render(path: &[Seg]) -> String {
    let mut s = String::new();
    for seg in path {
        match seg {
            Seg::Key(k) => {
                if !s.is_empty() {
                    s.push('.');
                }
                s.push_str(k);
            }
            Seg::Index(i) => s.push_str(&format!("[{i}]")),
        }
    }
    s
}

/// Parses `a.b[2].c` back into segments.
pub fn parse_path(path: &str) -> Vec<Seg> {
    let mut out = Vec::new();
    for part in path.split('.') {
        let mut rest = part;
        if let Some(open) = rest.find('[') {
            if open > 0 {
                out.push(Seg::Key(rest[..open].to_string()));
            }
            rest = &rest[open..];
            while let Some(close) = rest.find(']') {
                if let Ok(i) = rest[1..close].parse() {
                    out.push(Seg::Index(i));
                }
                rest = &rest[close + 1..];
                if !rest.starts_with('[') {
                    break;
                }
            }
        } else if !rest.is_empty() {
            out.push(Seg::Key(rest.to_string()));
        }
    }
    out
}

/// A parsed scenario document, kept for span lookups.
#[derive(Debug)]
pub struct SourceMap {
    doc: Document<String>,
}

impl SourceMap {
    pub fn new(doc: Document<String>) -> Self {
        SourceMap { doc }
    }

    pub fn text(&self) -> &str {
        self.doc.raw()
    }

    /// 1-based (line, column) of a byte offset.
    pub fn line_col(&self, offset: usize) -> (usize, usize) {
        line_col(self.text(), offset)
    }

    /// The byte span that best locates `path`: the key itself if present, else
    /// the nearest enclosing table or key that is.
    pub fn span_of(&self, path: &[Seg]) -> Option<std::ops::Range<usize>> {
        let mut best = None;
        let mut node = Node::Item(self.doc.as_item());
        for seg in path {
            if let Some(span) = node.span() {
                best = Some(span);
            }
            let next = match (seg, node) {
                (Seg::Key(k), Node::Item(Item::Table(t)) | Node::Table(t)) => {
                    t.get_key_value(k).map(|(key, it)| (key.span(), Node::Item(it)))
                }
                (Seg::Key(k), Node::Item(Item::Value(Value::InlineTable(t))) | Node::Value(Value::InlineTable(t))) => {
                    t.key(k).zip(t.get(k)).map(|(key, v)| (key.span(), Node::Value(v)))
                }
                (Seg::Index(i), Node::Item(Item::ArrayOfTables(a))) => a.get(*i).map(|t| (t.span(), Node::Table(t))),
                (Seg::Index(i), Node::Item(Item::Value(Value::Array(a))) | Node::Value(Value::Array(a))) => {
                    a.get(*i).map(|v| (v.span(), Node::Value(v)))
                }
                _ => None,
            };
            let Some((span, n)) = next else { break };
            if span.is_some() {
                best = span;
            }
            node = n;
        }
        best
    }

    /// 1-based line of `path` (see [`SourceMap::span_of`]).
    pub fn line_of(&self, path: &[Seg]) -> Option<(usize, usize)> {
        self.span_of(path).map(|s| self.line_col(s.start))
    }

    /// The deepest key path whose key or value span contains `offset`.
    pub fn path_at(&self, offset: usize) -> Vec<Seg> {
        let mut path = Vec::new();
        walk(self.doc.as_item(), offset, &mut path);
        path
    }
}

/// A position in the document while following a key path.
#[derive(Copy, Clone)]
enum Node<'a> {
    Item(&'a Item),
    Table(&'a toml_edit::Table),
    Value(&'a Value),
}

impl Node<'_> {
    /// The span of a table header; values are located by their key instead.
    fn span(&self) -> Option<std::ops::Range<usize>> {
        match self {
            Node::Item(Item::Table(t)) => t.span(),
            Node::Table(t) => t.span(),
            _ => None,
        }
    }
}

fn contains(span: Option<std::ops::Range<usize>>, offset: usize) -> bool {
    span.is_some_and(|s| s.start <= offset && offset < s.end.max(s.start + 1))
}

fn walk(item: &Item, offset: usize, path: &mut Vec<Seg>) -> bool {
    match item {
        Item::Table(t) => {
            walk_pairs(t.iter().map(|(k, _)| k), |k| t.get_key_value(k), offset, path) || contains(t.span(), offset)
        }
        Item::ArrayOfTables(a) => {
            for (i, t) in a.iter().enumerate() {
                path.push(Seg::Index(i));
                let hit = walk_pairs(t.iter().map(|(k, _)| k), |k| t.get_key_value(k), offset, path);
                if hit || contains(t.span(), offset) {
                    return true;
                }
                path.pop();
            }
            false
        }
        Item::Value(v) => walk_value(v, offset, path),
        Item::None => false,
    }
}

fn walk_pairs<'a, K, F>(keys: K, get: F, offset: usize, path: &mut Vec<Seg>) -> bool
where
    K: Iterator<Item = &'a str>,
    F: Fn(&str) -> Option<(&'a Key, &'a Item)>,
{
    for name in keys {
        let Some((key, item)) = get(name) else { continue };
        path.push(Seg::Key(name.to_string()));
        if walk(item, offset, path) || contains(key.span(), offset) {
            return true;
        }
        path.pop();
    }
    false
}

fn walk_value(v: &Value, offset: usize, path: &mut Vec<Seg>) -> bool {
    match v {
        Value::InlineTable(t) => {
            for (name, _) in t.iter() {
                let Some((key, val)) = t.key(name).zip(t.get(name)) else { continue };
                path.push(Seg::Key(name.to_string()));
                if walk_value(val, offset, path) || contains(key.span(), offset) {
                    return true;
                }
                path.pop();
            }
            contains(v.span(), offset)
        }
        Value::Array(a) => {
            for (i, el) in a.iter().enumerate() {
                path.push(Seg::Index(i));
                if walk_value(el, offset, path) {
                    return true;
                }
                path.pop();
            }
            contains(v.span(), offset)
        }
        _ => contains(v.span(), offset),
    }
}

/// 1-based (line, column) of a byte offset in `text`.
pub fn line_col(text: &str, offset: usize) -> (usize, usize) {
    let offset = offset.min(text.len());
    let before = &text[..offset];
    let line = before.matches('\n').count() + 1;
    let col = before.rfind('\n').map_or(offset, |nl| offset - nl - 1) + 1;
    (line, col)
}

#[cfg(test)]
mod tests {
    use super::*;

    const TEXT: &str = "[scenario]\nname = \"x\"\n\n[proxy]\nfirst_byte_timeout = \"60s\"\nprobe = { interval = \"5s\" }\n\n[[chaos]]\nkind = \"kill\"\n\n[[chaos]]\nkind = \"slow\"\nfactor = 2.0\n";

    fn map() -> SourceMap {
        SourceMap::new(TEXT.to_string().parse().expect("valid toml"))
    }

    fn line(path: &str) -> usize {
        map().line_of(&parse_path(path)).expect(path).0
    }

    #[test]
    fn key_paths_find_their_lines() {
        assert_eq!(line("proxy.first_byte_timeout"), 5);
        assert_eq!(line("chaos[1].factor"), 13);
        assert_eq!(line("chaos[0].kind"), 9);
        assert_eq!(line("proxy.probe.interval"), 6);
    }

    #[test]
    fn a_missing_key_points_at_its_table() {
        assert_eq!(line("proxy.max_connections"), 4);
        assert_eq!(line("chaos[1].pool"), 11);
    }

    #[test]
    fn offsets_map_back_to_key_paths() {
        let m = map();
        let off = TEXT.find("factor").expect("present");
        assert_eq!(render(&m.path_at(off)), "chaos[1].factor");
        let off = TEXT.find("\"5s\"").expect("present");
        assert_eq!(render(&m.path_at(off)), "proxy.probe.interval");
    }

    #[test]
    fn paths_round_trip() {
        for p in ["a", "a.b", "chaos[2].factor", "x[1][2].y"] {
            assert_eq!(render(&parse_path(p)), p);
        }
    }
}
