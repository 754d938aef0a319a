//! Leaf values read leniently: every value error in a file is reported at once.
//!
//! serde stops at the first value it cannot convert, so a file with three bad
//! values took three rounds to fix. Instead every leaf of the raw shape is a
//! [`Val`]: whatever TOML value is written is captured ([`Any`]) and converted
//! to the wanted type without failing the deserializer; the conversion's
//! message is kept and reported by `resolve` with the key's path and line.
//! Only the shape of the tables (unknown keys, a list where a table belongs)
//! remains serde's to refuse.

use std::collections::BTreeMap;
use std::fmt;

use serde::Deserialize;
use serde::de::{self, Deserializer, MapAccess, SeqAccess, Visitor};

use super::units::{Bytes, Dur, Rate, Timeout, parse_bytes, parse_duration, parse_rate, parse_timeout};

/// Any TOML value, as written.
#[derive(Clone, Debug, PartialEq)]
pub enum Any {
    Str(String),
    Int(i64),
    Float(f64),
    Bool(bool),
    List(Vec<Any>),
    Table(Vec<(String, Any)>),
}

impl Any {
    /// What the value is, for messages: `the string "240"`, `the integer 240`.
    pub fn describe(&self) -> String {
        match self {
            Any::Str(s) => format!("the string \"{s}\""),
            Any::Int(i) => format!("the integer {i}"),
            Any::Float(x) => format!("the number {x}"),
            Any::Bool(b) => format!("`{b}`"),
            Any::List(_) => "a list".into(),
            Any::Table(t) if t.iter().any(|(k, _)| k.starts_with("$__toml_private")) => "a date-time".into(),
            Any::Table(_) => "a table".into(),
        }
    }
}

impl<'de> Deserialize<'de> for Any {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(AnyVisitor)
    }
}

struct AnyVisitor;

impl<'de> Visitor<'de> for AnyVisitor {
    type Value = Any;
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a TOML value")
    }
    fn visit_bool<E: de::Error>(self, v: bool) -> Result<Any, E> {
        Ok(Any::Bool(v))
    }
    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Any, E> {
        Ok(Any::Int(v))
    }
    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Any, E> {
        Ok(i64::try_from(v).map_or(Any::Float(v as f64), Any::Int))
    }
    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Any, E> {
        Ok(Any::Float(v))
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<Any, E> {
        Ok(Any::Str(v.to_string()))
    }
    fn visit_string<E: de::Error>(self, v: String) -> Result<Any, E> {
        Ok(Any::Str(v))
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Any, A::Error> {
        let mut v = Vec::new();
        while let Some(x) = seq.next_element()? {
            v.push(x);
        }
        Ok(Any::List(v))
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Any, A::Error> {
        let mut v = Vec::new();
        while let Some((k, x)) = map.next_entry::<String, Any>()? {
            v.push((k, x));
        }
        Ok(Any::Table(v))
    }
}

/// Why a value could not be converted, and where inside it (`[2]`, `.txt2img`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Problem {
    /// Path below the key, empty for the value itself.
    pub within: String,
    pub message: String,
}

impl From<String> for Problem {
    fn from(message: String) -> Self {
        Problem { within: String::new(), message }
    }
}

impl Problem {
    fn under(mut self, seg: String) -> Self {
        self.within = format!("{seg}{}", self.within);
        self
    }
}

/// Conversion from a captured TOML value, with a message in the file's terms.
pub trait FromAny: Sized {
    fn from_any(a: &Any) -> Result<Self, Problem>;
}

/// A leaf value: converted, or the reason it could not be.
#[derive(Clone, Debug, PartialEq)]
pub struct Val<T>(pub Result<T, Problem>);

impl<T> Val<T> {
    pub fn ok(v: T) -> Self {
        Val(Ok(v))
    }
}

impl<'de, T: FromAny> Deserialize<'de> for Val<T> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let a = Any::deserialize(d)?;
        Ok(Val(T::from_any(&a)))
    }
}

/// "expected X, found Y", with a hint when the value only has quotes too many.
fn expected(what: &str, a: &Any) -> Problem {
    format!("expected {what}, found {}", a.describe()).into()
}

impl FromAny for i64 {
    fn from_any(a: &Any) -> Result<Self, Problem> {
        match a {
            Any::Int(i) => Ok(*i),
            Any::Float(x) if x.is_finite() && x.fract() == 0.0 && x.abs() < 9.2e18 => Ok(*x as i64),
            Any::Str(s) if s.trim().parse::<i64>().is_ok() => {
                Err(format!("expected an integer, found the string \"{s}\" (write it without quotes)").into())
            }
            other => Err(expected("an integer", other)),
        }
    }
}

impl FromAny for f64 {
    fn from_any(a: &Any) -> Result<Self, Problem> {
        match a {
            Any::Int(i) => Ok(*i as f64),
            Any::Float(x) => Ok(*x),
            Any::Str(s) if s.trim().parse::<f64>().is_ok() => {
                Err(format!("expected a number, found the string \"{s}\" (write it without quotes)").into())
            }
            other => Err(expected("a number", other)),
        }
    }
}

impl FromAny for bool {
    fn from_any(a: &Any) -> Result<Self, Problem> {
        match a {
            Any::Bool(b) => Ok(*b),
            other => Err(expected("true or false", other)),
        }
    }
}

impl FromAny for String {
    fn from_any(a: &Any) -> Result<Self, Problem> {
        match a {
            Any::Str(s) => Ok(s.clone()),
            other => Err(expected("a string in quotes", other)),
        }
    }
}

/// A string-valued unit (duration, rate, timeout): the text parsed by `parse`.
fn unit_text<T, E: ToString>(a: &Any, hint: &str, parse: impl Fn(&str) -> Result<T, E>) -> Result<T, Problem> {
    match a {
        Any::Str(s) => parse(s).map_err(|e| Problem::from(e.to_string())),
        Any::Int(_) | Any::Float(_) => {
            Err(format!("expected {hint}, found {}: write the unit in a string", a.describe()).into())
        }
        other => Err(expected(hint, other)),
    }
}

impl FromAny for Dur {
    fn from_any(a: &Any) -> Result<Self, Problem> {
        unit_text(a, super::units::DURATION_HINT, |s| parse_duration(s).map(Dur))
    }
}

impl FromAny for Timeout {
    fn from_any(a: &Any) -> Result<Self, Problem> {
        unit_text(a, super::units::TIMEOUT_HINT, parse_timeout)
    }
}

impl FromAny for Bytes {
    fn from_any(a: &Any) -> Result<Self, Problem> {
        unit_text(a, super::units::BYTES_HINT, |s| parse_bytes(s).map(Bytes))
    }
}

impl FromAny for Rate {
    fn from_any(a: &Any) -> Result<Self, Problem> {
        unit_text(a, super::units::RATE_HINT, |s| parse_rate(s).map(Rate))
    }
}

/// A list of values; each element's problem names its index.
impl<T: FromAny> FromAny for Vec<T> {
    fn from_any(a: &Any) -> Result<Self, Problem> {
        match a {
            Any::List(items) => {
                items.iter().enumerate().map(|(i, x)| T::from_any(x).map_err(|e| e.under(format!("[{i}]")))).collect()
            }
            other => Err(expected("a list [ ... ]", other)),
        }
    }
}

/// A list of names, or one name on its own (`retry_on = "503"`).
#[derive(Clone, Debug, PartialEq)]
pub struct Names(pub Vec<String>);

impl FromAny for Names {
    fn from_any(a: &Any) -> Result<Self, Problem> {
        match a {
            Any::Str(s) => Ok(Names(vec![s.clone()])),
            Any::List(_) => Vec::<String>::from_any(a).map(Names),
            other => Err(expected("a string or a list of strings", other)),
        }
    }
}

/// A `[low, high]` pair of durations.
impl FromAny for (Dur, Dur) {
    fn from_any(a: &Any) -> Result<Self, Problem> {
        match a {
            Any::List(v) if v.len() == 2 => Ok((Dur::from_any(&v[0])?, Dur::from_any(&v[1])?)),
            other => Err(expected("a pair [low, high] of durations", other)),
        }
    }
}

/// A table of numbers (a class mix).
impl FromAny for BTreeMap<String, f64> {
    fn from_any(a: &Any) -> Result<Self, Problem> {
        match a {
            Any::Table(t) => t
                .iter()
                .map(|(k, v)| f64::from_any(v).map(|x| (k.clone(), x)).map_err(|e| e.under(format!(".{k}"))))
                .collect(),
            other => Err(expected("a table such as { txt2img = 0.7, img2img = 0.3 }", other)),
        }
    }
}

/// The `[slo]` table: metric name → condition. A dotted metric name written
/// bare (`swarm.paid.success_rate = ">= 99.9%"`) is a nested table in TOML;
/// its leaves are read back under their whole dotted name, each keeping its
/// own error.
#[derive(Clone, Debug, PartialEq, Default)]
pub struct Conditions(pub Vec<(String, Result<String, Problem>)>);

impl Conditions {
    fn flatten(prefix: &str, a: &Any, out: &mut Vec<(String, Result<String, Problem>)>) {
        match a {
            Any::Table(t) if !t.iter().any(|(k, _)| k.starts_with("$__toml_private")) => {
                for (k, v) in t {
                    let name = if prefix.is_empty() { k.clone() } else { format!("{prefix}.{k}") };
                    Conditions::flatten(&name, v, out);
                }
            }
            other => out.push((prefix.to_string(), String::from_any(other))),
        }
    }
}

impl FromAny for Conditions {
    fn from_any(a: &Any) -> Result<Self, Problem> {
        let mut out = Vec::new();
        Conditions::flatten("", a, &mut out);
        // In name order, as the table always was read: thresholds keep their order.
        out.sort_by(|x, y| x.0.cmp(&y.0));
        Ok(Conditions(out))
    }
}

/// A table of whole numbers (queue lengths per tier).
impl FromAny for BTreeMap<String, i64> {
    fn from_any(a: &Any) -> Result<Self, Problem> {
        match a {
            Any::Table(t) => t
                .iter()
                .map(|(k, v)| i64::from_any(v).map(|x| (k.clone(), x)).map_err(|e| e.under(format!(".{k}"))))
                .collect(),
            other => Err(expected("a table such as { free = 2, sheddable = 1 }", other)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn conv<T: FromAny>(a: Any) -> Result<T, String> {
        T::from_any(&a).map_err(|p| format!("{}{}", p.within, p.message))
    }

    #[test]
    fn quoted_numbers_are_explained() {
        let e = conv::<i64>(Any::Str("2".into())).expect_err("quoted");
        assert!(e.contains("found the string \"2\"") && e.contains("without quotes"), "{e}");
        let e = conv::<Dur>(Any::Int(240)).expect_err("bare");
        assert!(e.contains("found the integer 240") && e.contains("unit"), "{e}");
        assert_eq!(conv::<f64>(Any::Int(2)), Ok(2.0));
        assert_eq!(conv::<i64>(Any::Float(3.0)), Ok(3));
    }

    #[test]
    fn names_take_one_string_or_a_list() {
        assert_eq!(conv::<Names>(Any::Str("503".into())), Ok(Names(vec!["503".into()])));
        let list = Any::List(vec![Any::Str("busy".into()), Any::Int(4)]);
        assert!(conv::<Names>(list).expect_err("mixed").starts_with("[1]expected a string"));
    }
}
