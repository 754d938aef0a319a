//! The validation context: where errors and warnings go, and the helpers that
//! read a leaf value, check it and report it at its key path.
//!
//! Every problem is pushed with a key path; the path finds the line in the
//! file, or the `--set` that wrote the key. Problems are collected, never
//! returned at the first one.

use std::collections::BTreeMap;

use crate::scenario::error::{ScenarioError, did_you_mean};
use crate::scenario::overrides::Override;
use crate::scenario::raw::V;
use crate::scenario::source::{Seg, SourceMap, parse_path};
use crate::scenario::value::Val;
use crate::time::SimDuration;

#[derive(Debug)]
pub struct Ctx<'a> {
    pub file: &'a str,
    pub src: &'a SourceMap,
    pub overrides: &'a [Override],
    pub errors: Vec<ScenarioError>,
    pub warnings: Vec<ScenarioError>,
    /// Keys taken out of the document because their shape was wrong: what
    /// follows from their absence is not reported again.
    pub removed: Vec<Vec<Seg>>,
}

impl<'a> Ctx<'a> {
    pub fn new(file: &'a str, src: &'a SourceMap, overrides: &'a [Override]) -> Self {
        Ctx { file, src, overrides, errors: Vec::new(), warnings: Vec::new(), removed: Vec::new() }
    }

    pub fn error(&mut self, path: &str, message: impl Into<String>) {
        self.push(path, message.into(), None);
    }

    pub fn error_help(&mut self, path: &str, message: impl Into<String>, help: impl Into<String>) {
        self.push(path, message.into(), Some(help.into()));
    }

    pub fn warn(&mut self, path: &str, message: impl Into<String>, help: Option<String>) {
        let w = self.locate(path, message.into(), help);
        self.warnings.push(w);
    }

    pub fn push(&mut self, path: &str, message: String, help: Option<String>) {
        let segs = parse_path(path);
        if self.removed.iter().any(|r| segs.starts_with(r)) {
            return;
        }
        let e = self.locate(path, message, help);
        if !self.errors.contains(&e) {
            self.errors.push(e);
        }
    }

    /// Where a problem at `path` is reported: the `--set` that wrote the key
    /// (the last one covering it), else the key's line in the file.
    pub fn locate(&self, path: &str, message: String, help: Option<String>) -> ScenarioError {
        let segs = parse_path(path);
        if let Some(o) = self.overrides.iter().rev().find(|o| o.covers(&segs)) {
            return ScenarioError { file: o.to_string(), line: None, column: None, key: path.into(), message, help };
        }
        let pos = self.src.line_of(&segs);
        ScenarioError {
            file: self.file.to_string(),
            line: pos.map(|p| p.0),
            column: pos.map(|p| p.1),
            key: path.to_string(),
            message,
            help,
        }
    }

    /// A leaf's value: `None` when it is absent or could not be read (then
    /// the reason is reported at its path).
    pub fn get<T: Clone>(&mut self, path: &str, v: &V<T>) -> Option<T> {
        match v {
            None => None,
            Some(Val(Ok(x))) => Some(x.clone()),
            Some(Val(Err(p))) => {
                self.error(&format!("{path}{}", p.within), p.message.clone());
                None
            }
        }
    }

    /// A required leaf: reports its absence with `why`.
    pub fn required<T: Clone>(&mut self, path: &str, v: &V<T>, why: &str) -> Option<T> {
        if v.is_none() {
            self.error(path, format!("is required {why}"));
        }
        self.get(path, v)
    }

    /// A required sub-table.
    pub fn table<'t, T>(&mut self, path: &str, v: &'t Option<T>, why: &str) -> Option<&'t T> {
        if v.is_none() {
            self.error(path, format!("is required {why}"));
        }
        v.as_ref()
    }

    /// An integer key that must lie in `min..=max` (`max` is a documented limit).
    pub fn int_in(&mut self, path: &str, v: &V<i64>, default: u32, min: u32, max: u32, why_max: &str) -> u32 {
        match self.get(path, v) {
            None => default,
            Some(x) if x < i64::from(min) => {
                self.error(path, format!("must be at least {min}, got {x}"));
                default
            }
            Some(x) if x > i64::from(max) => {
                self.error_help(path, format!("{x} is above the limit of {max}"), why_max.to_string());
                default
            }
            Some(x) => x as u32,
        }
    }

    /// An integer key that must be at least `min` and fit in 32 bits.
    pub fn int(&mut self, path: &str, v: &V<i64>, default: u32, min: u32) -> u32 {
        self.int_in(path, v, default, min, u32::MAX, "counts are 32-bit")
    }

    pub fn positive(&mut self, path: &str, d: SimDuration) -> SimDuration {
        if d.is_zero() {
            self.error(path, "must be greater than zero");
        }
        d
    }

    /// A reference to a named thing, with a did-you-mean hint.
    pub fn reference<T>(&mut self, path: &str, what: &str, name: &str, names: &BTreeMap<String, T>) -> Option<usize> {
        if let Some(i) = names.keys().position(|k| k == name) {
            return Some(i);
        }
        let defined: Vec<&str> = names.keys().map(String::as_str).collect();
        let mut help = if defined.is_empty() {
            format!("no {what} is defined; add a [{what}.{name}] section")
        } else {
            format!("defined: {}", defined.join(", "))
        };
        if let Some(s) = did_you_mean(name, defined.iter().copied()) {
            help = format!("did you mean `{s}`? ({help})");
        }
        self.error_help(path, format!("refers to {what} `{name}`, which is not defined"), help);
        None
    }

    /// A value that must be one of a fixed set of names: `allowed` pairs each
    /// name with what it means, so reordering a table never changes what a
    /// file means.
    pub fn choice<T: Copy>(&mut self, path: &str, value: &str, allowed: &[(&str, T)]) -> Option<T> {
        if let Some((_, t)) = allowed.iter().find(|(name, _)| *name == value) {
            return Some(*t);
        }
        let names: Vec<&str> = allowed.iter().map(|(name, _)| *name).collect();
        let mut help = format!("expected one of: {}", names.join(", "));
        if let Some(s) = did_you_mean(value, names.iter().copied()) {
            help = format!("did you mean `{s}`? ({help})");
        }
        self.error_help(path, format!("unknown value `{value}`"), help);
        None
    }

    /// A choice read from an optional leaf: `None` when absent or bad.
    pub fn choose<T: Copy>(&mut self, path: &str, v: &V<String>, allowed: &[(&str, T)]) -> Option<T> {
        let s = self.get(path, v)?;
        self.choice(path, &s, allowed)
    }

    /// Keys that were set but mean nothing for this kind.
    pub fn not_for(&mut self, base: &str, kind_key: &str, kind: &str, set: &[(&str, bool)]) {
        for (key, present) in set {
            if *present {
                self.error(&format!("{base}.{key}"), format!("does not apply when {kind_key} = \"{kind}\""));
            }
        }
    }
}
