//! The shape of the document: serde's pass, with every problem collected.
//!
//! Leaf values never fail the deserializer (see `value`), so what serde can
//! still refuse is shape: an unknown key, a list where a table belongs
//! (`[[scenario]]`), a value where a table belongs (`proxy = [1, 2]`). serde
//! stops at the first; so each problem is reported, the offending key is
//! taken out of a working copy of the document, and serde runs again, until
//! the document has the right shape. Problems are located by key path, so the
//! line is the original file's (or the `--set` that wrote the key).

use toml_edit::{Document, DocumentMut, InlineTable, Item, Table, Value};

use super::ctx::Ctx;
use crate::scenario::error::did_you_mean;
use crate::scenario::raw::RawScenario;
use crate::scenario::source::{Seg, SourceMap, render};

/// Shape problems reported before giving up: a file with more is not worth
/// reading on.
const MAX_SHAPE_PROBLEMS: usize = 50;

/// Deserializes `text` (valid TOML), reporting every shape problem; `None`
/// when nothing usable remains.
pub fn deserialize_all(cx: &mut Ctx<'_>, text: &str) -> Option<RawScenario> {
    let mut text = text.to_string();
    for _ in 0..MAX_SHAPE_PROBLEMS {
        let doc: Document<String> = text.parse().ok()?;
        let e = match toml_edit::de::from_document::<RawScenario>(doc.clone()) {
            Ok(raw) => return Some(raw),
            Err(e) => e,
        };
        let here = SourceMap::new(doc.clone());
        let mut path = e.span().map(|s| here.path_at(s.start)).unwrap_or_default();
        let (message, help) = rewrite(e.message());
        if message.contains("found a list") {
            // `[[scenario]]`: the problem is the whole list, not its first entry.
            while matches!(path.last(), Some(Seg::Index(_))) {
                path.pop();
            }
        }
        // A misspelt key: what its absence makes "required" is the key it meant.
        let meant = help.as_deref().and_then(|h| h.strip_prefix("did you mean `")).and_then(|h| h.split('`').next());
        if let (Some(meant), Some(Seg::Key(_))) = (meant, path.last()) {
            let mut m = path.clone();
            m.pop();
            m.push(Seg::Key(meant.to_string()));
            cx.removed.push(m);
        }
        cx.push(&render(&path), message, help);
        if path.is_empty() {
            return None;
        }
        let mut edited = doc.into_mut();
        remove(&mut edited, &path);
        cx.removed.push(path);
        let next = edited.to_string();
        if next == text {
            return None;
        }
        text = next;
    }
    None
}

/// Takes `path` out of the document; an array entry is emptied instead, so
/// that later entries keep their index.
fn remove(doc: &mut DocumentMut, path: &[Seg]) {
    remove_in(doc.as_item_mut(), path);
}

fn remove_in(item: &mut Item, path: &[Seg]) {
    match (path, item) {
        ([], _) => {}
        ([Seg::Key(k)], it) => {
            if let Some(t) = it.as_table_like_mut() {
                t.remove(k);
            }
        }
        ([Seg::Index(i)], Item::ArrayOfTables(a)) => {
            if let Some(t) = a.get_mut(*i) {
                *t = Table::new();
            }
        }
        ([Seg::Index(i)], Item::Value(Value::Array(a))) => {
            if let Some(v) = a.get_mut(*i) {
                *v = Value::InlineTable(InlineTable::new());
            }
        }
        ([Seg::Key(k), rest @ ..], it) => {
            if let Some(child) = it.as_table_like_mut().and_then(|t| t.get_mut(k)) {
                remove_in(child, rest);
            }
        }
        ([Seg::Index(i), rest @ ..], Item::ArrayOfTables(a)) => {
            if let Some(t) = a.get_mut(*i) {
                let mut holder = Item::Table(std::mem::take(t));
                remove_in(&mut holder, rest);
                if let Item::Table(back) = holder {
                    *t = back;
                }
            }
        }
        ([Seg::Index(i), rest @ ..], Item::Value(Value::Array(a))) => {
            if let Some(v) = a.get_mut(*i) {
                let mut holder = Item::Value(std::mem::replace(v, Value::from(false)));
                remove_in(&mut holder, rest);
                if let Ok(back) = holder.into_value() {
                    *v = back;
                }
            }
        }
        _ => {}
    }
}

/// serde's message in the file's terms: (message, help).
pub fn rewrite(msg: &str) -> (String, Option<String>) {
    let msg = msg.trim().to_string();
    let quoted: Vec<&str> = msg.split('`').skip(1).step_by(2).collect();
    if msg.starts_with("unknown field ") {
        let unknown = quoted.first().copied().unwrap_or_default();
        let valid = &quoted[1.min(quoted.len())..];
        let mut help = format!("valid keys here: {}", valid.join(", "));
        if let Some(s) = did_you_mean(unknown, valid.iter().copied()) {
            help = format!("did you mean `{s}`? ({help})");
        }
        return (format!("unknown key `{unknown}`"), Some(help));
    }
    // A table given as a list of tables: "invalid length 1, expected the [scenario] table".
    if let Some(rest) = msg.strip_prefix("invalid length ")
        && let Some((_, expected)) = rest.split_once(", expected ")
    {
        return (
            format!("expected {expected}, found a list of tables"),
            Some("[[name]] starts an entry of a list; write [name] for a table".into()),
        );
    }
    // "invalid type: sequence, expected the [scenario] table (...)"
    if let Some(rest) = msg.strip_prefix("invalid type: ")
        && let Some((found, expected)) = rest.split_once(", expected ")
    {
        let found = match found {
            "sequence" => "a list (written [ ... ] or as [[...]] tables)".to_string(),
            "map" => "a table".to_string(),
            other => other.replace("string ", "the string ").replace("integer `", "the integer `"),
        };
        let found = if found.starts_with("a list") { found } else { found.replace('`', "") };
        return (format!("expected {expected}, found {found}"), None);
    }
    (msg, None)
}
