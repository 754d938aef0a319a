//! Fuzzing the input: mutated scenario files and random `--set` overrides
//! never panic, and every problem is an error that names where it is.
//!
//! A short run is part of the suite; `STAMPEDE_FUZZ_CASES=20000 cargo test
//! --release --test it fuzz::` runs a long one (docs/architecture.md).

use proptest::prelude::*;
use proptest::sample::select;
use stampede::scenario::schema::tables;
use stampede::scenario::{Override, Scenario, limits};

use crate::support::fuzz_runner;

const FILES: [&str; 4] = ["mmc-erlang.toml", "playground-img2img.toml", "retry-storm.toml", "varnish-defaults.toml"];

/// Values that have broken parsers before: wrong types, extremes, bad units.
const TOKENS: [&str; 28] = [
    "0",
    "-1",
    "1e308",
    "4294967295",
    "9223372036854775807",
    "0.0",
    "nan",
    "inf",
    "\"\"",
    "\"0\"",
    "\"1ns\"",
    "\"1h1h\"",
    "\"5 s\"",
    "\"1e12/s\"",
    "\"off\"",
    "[]",
    "[1, 2]",
    "{}",
    "true",
    "\"x\"",
    "[[scenario]]",
    "[pool.x]",
    "=",
    "\"\\u00e9\"",
    "#",
    "\n",
    "{ dist = \"gamma\", mean = \"1s\", cv = 1e200 }",
    "\"503\"",
];

/// One edit of a text: at a relative position, delete some characters or insert a token.
#[derive(Clone, Debug)]
enum Edit {
    Delete(f64, usize),
    Insert(f64, &'static str),
    DuplicateLine(f64),
}

fn edit() -> impl Strategy<Value = Edit> {
    prop_oneof![
        (0.0..1.0, 1usize..40).prop_map(|(at, n)| Edit::Delete(at, n)),
        (0.0..1.0, select(&TOKENS[..])).prop_map(|(at, t)| Edit::Insert(at, t)),
        (0.0..1.0).prop_map(Edit::DuplicateLine),
    ]
}

/// The char boundary nearest to a relative position.
fn boundary(text: &str, at: f64) -> usize {
    let mut i = ((text.len() as f64) * at) as usize;
    while !text.is_char_boundary(i) {
        i -= 1;
    }
    i
}

fn apply(mut text: String, edits: &[Edit]) -> String {
    for e in edits {
        match *e {
            Edit::Delete(at, n) => {
                let a = boundary(&text, at);
                let b = (a..=text.len()).filter(|&i| text.is_char_boundary(i)).nth(n).unwrap_or(text.len());
                text.replace_range(a..b, "");
            }
            Edit::Insert(at, t) => {
                let a = boundary(&text, at);
                text.insert_str(a, t);
            }
            Edit::DuplicateLine(at) => {
                let a = boundary(&text, at);
                let start = text[..a].rfind('\n').map_or(0, |i| i + 1);
                let end = text[a..].find('\n').map_or(text.len(), |i| a + i + 1);
                let line = text[start..end].to_string();
                text.insert_str(start, &line);
            }
        }
    }
    text
}

/// Whatever the input, parsing ends in a scenario (whose estimate can be
/// taken) or in errors that each name the file or an override.
fn check(text: &str, sets: &[Override]) {
    match Scenario::parse_with(text, "fuzz.toml", sets) {
        Ok(sc) => {
            let _ = limits::estimate_events(&sc);
            let _ = sc.check_events();
        }
        Err(e) => {
            assert!(!e.0.is_empty(), "an error without a problem");
            for p in &e.0 {
                let named = p.file == "fuzz.toml" || p.file.starts_with("--set ");
                assert!(named && !p.message.is_empty(), "a problem that names nothing: {p:?}");
            }
        }
    }
}

fn shipped_text(file: &str) -> String {
    std::fs::read_to_string(format!("scenarios/{file}")).expect("read")
}

#[test]
fn mutated_scenario_files_never_panic() {
    let texts: Vec<String> = FILES.iter().map(|f| shipped_text(f)).collect();
    let strategy = (0..texts.len(), prop::collection::vec(edit(), 1..6));
    fuzz_runner(200)
        .run(&strategy, |(i, edits)| {
            check(&apply(texts[i].clone(), &edits), &[]);
            Ok(())
        })
        .unwrap_or_else(|e| panic!("{e}"));
}

/// A key path of the format with a real or an invented entry name.
fn key() -> impl Strategy<Value = String> {
    let paths: Vec<String> = tables()
        .into_iter()
        .flat_map(|(path, list, keys)| {
            let path = if list { format!("{path}[0]") } else { path };
            keys.iter().map(move |k| if path.is_empty() { k.name.to_string() } else { format!("{path}.{}", k.name) })
        })
        .collect();
    let names = vec!["gpu", "a100", "web", "bulk", "txt2img", "stepped", "none", "x", "poisson", "job"];
    (select(paths), select(names), any::<bool>()).prop_map(|(p, n, typo)| {
        let p = p.replace(".x.", &format!(".{n}.")).replace("[0]", if typo { "[7]" } else { "[0]" });
        if typo { p.replacen('s', "", 1) } else { p }
    })
}

#[test]
fn random_overrides_never_panic_and_are_named_in_their_errors() {
    let texts: Vec<String> = FILES.iter().map(|f| shipped_text(f)).collect();
    let chars = vec!['a', 's', 'm', '0', '1', '9', '.', '/', ' ', '%'];
    let word = prop::collection::vec(select(chars), 1..8).prop_map(|v| v.into_iter().collect::<String>());
    let value = prop_oneof![select(&TOKENS[..]).prop_map(String::from), word];
    let strategy = (0..texts.len(), prop::collection::vec((key(), value), 1..4));
    fuzz_runner(200)
        .run(&strategy, |(i, sets)| {
            let parsed: Vec<Override> =
                sets.iter().filter_map(|(k, v)| format!("{k}={v}").parse::<Override>().ok()).collect();
            check(&texts[i], &parsed);
            Ok(())
        })
        .unwrap_or_else(|e| panic!("{e}"));
}
