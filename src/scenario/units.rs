//! Human units in scenario files: durations (`"250ms"`, `"2m30s"`, `"3.5s"`, `"1h"`)
//! and rates (`"12/s"`, `"300/min"`).
//!
//! Units are always explicit: a bare `90` is rejected, because nobody can tell
//! whether it meant seconds or milliseconds. The serde wrappers here fail inside
//! the deserializer, so the error carries the span (and so the line) of the value.

use std::fmt;

use serde::Deserialize;
use serde::de::{self, Deserializer, Visitor};

use crate::time::SimDuration;

/// What a duration looks like, for error messages.
pub const DURATION_HINT: &str = "a duration such as \"250ms\", \"90s\", \"2m30s\" or \"1h\"";
/// What a rate looks like, for error messages.
pub const RATE_HINT: &str = "a rate such as \"12/s\", \"300/min\" or \"1000/h\"";

/// Parses `"250ms"`, `"90s"`, `"2m30s"`, `"1.5h"`, `"2m 30s"`, `"0"`.
pub fn parse_duration(text: &str) -> Result<SimDuration, String> {
    let s = text.trim();
    if s.is_empty() {
        return Err(format!("empty duration; expected {DURATION_HINT}"));
    }
    if s == "0" {
        return Ok(SimDuration::ZERO);
    }
    let mut rest = s;
    let mut total = 0.0_f64;
    while !rest.is_empty() {
        let num_len = rest.find(|c: char| !(c.is_ascii_digit() || c == '.')).unwrap_or(rest.len());
        if num_len == 0 {
            return Err(format!("invalid duration `{text}`: expected a number before `{rest}`; {DURATION_HINT}"));
        }
        let number: f64 = rest[..num_len]
            .parse()
            .map_err(|_| format!("invalid duration `{text}`: `{}` is not a number", &rest[..num_len]))?;
        rest = rest[num_len..].trim_start();
        let unit_len = rest.find(|c: char| c.is_ascii_digit() || c == '.' || c.is_whitespace()).unwrap_or(rest.len());
        let unit = &rest[..unit_len];
        let scale = match unit {
            "ns" => 1e-9,
            "us" | "µs" => 1e-6,
            "ms" => 1e-3,
            "s" | "sec" => 1.0,
            "m" | "min" => 60.0,
            "h" => 3600.0,
            "d" => 86_400.0,
            "" => return Err(format!("invalid duration `{text}`: missing unit after `{}`; {DURATION_HINT}", number)),
            other => {
                return Err(format!(
                    "invalid duration `{text}`: unknown unit `{other}` (use ns, us, ms, s, m, h or d)"
                ));
            }
        };
        total += number * scale;
        rest = rest[unit_len..].trim_start();
    }
    if !total.is_finite() || total > 1e9 {
        return Err(format!("invalid duration `{text}`: too large"));
    }
    Ok(SimDuration::from_secs_f64(total))
}

/// Parses `"12/s"`, `"300/min"`, `"0.5/s"`, `"1000/h"` into events per second.
pub fn parse_rate(text: &str) -> Result<f64, String> {
    let s = text.trim();
    let Some((num, unit)) = s.split_once('/') else {
        return Err(format!("invalid rate `{text}`: expected {RATE_HINT}"));
    };
    let number: f64 =
        num.trim().parse().map_err(|_| format!("invalid rate `{text}`: `{}` is not a number", num.trim()))?;
    let per_secs = match unit.trim() {
        "s" | "sec" | "second" => 1.0,
        "m" | "min" | "minute" => 60.0,
        "h" | "hour" => 3600.0,
        other => return Err(format!("invalid rate `{text}`: unknown unit `/{other}` (use /s, /min or /h)")),
    };
    if !number.is_finite() || number < 0.0 {
        return Err(format!("invalid rate `{text}`: must be a non-negative number"));
    }
    Ok(number / per_secs)
}

/// A duration value in a scenario file.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub struct Dur(pub SimDuration);

/// A timeout that may be switched off with `"off"`.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub struct Timeout(pub Option<SimDuration>);

/// A rate in events per second.
#[derive(Copy, Clone, Debug, PartialEq)]
pub struct Rate(pub f64);

struct StrVisitor<F>(&'static str, F);

impl<'de, T, F: Fn(&str) -> Result<T, String>> Visitor<'de> for StrVisitor<F> {
    type Value = T;
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.0)
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<T, E> {
        (self.1)(v).map_err(E::custom)
    }
}

impl<'de> Deserialize<'de> for Dur {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_str(StrVisitor(DURATION_HINT, |s: &str| parse_duration(s).map(Dur)))
    }
}

impl<'de> Deserialize<'de> for Timeout {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_str(StrVisitor("a duration such as \"60s\", or \"off\"", |s: &str| match s.trim() {
            "off" | "none" => Ok(Timeout(None)),
            other => parse_duration(other).map(|d| Timeout(Some(d))),
        }))
    }
}

impl<'de> Deserialize<'de> for Rate {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_str(StrVisitor(RATE_HINT, |s: &str| parse_rate(s).map(Rate)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn secs(s: &str) -> f64 {
        parse_duration(s).expect(s).as_secs_f64()
    }

    #[test]
    fn durations_in_every_unit_and_compound() {
        assert_eq!(secs("250ms"), 0.25);
        assert_eq!(secs("90s"), 90.0);
        assert_eq!(secs("2m30s"), 150.0);
        assert_eq!(secs("2m 30s"), 150.0);
        assert_eq!(secs("10 s"), 10.0);
        assert_eq!(secs("1h"), 3600.0);
        assert_eq!(secs("3.5s"), 3.5);
        assert_eq!(secs("0"), 0.0);
        assert_eq!(parse_duration("1500us").expect("us").as_nanos(), 1_500_000);
    }

    #[test]
    fn durations_without_unit_or_with_unknown_unit_are_rejected() {
        assert!(parse_duration("90").expect_err("bare").contains("missing unit"));
        assert!(parse_duration("5x").expect_err("x").contains("unknown unit `x`"));
        assert!(parse_duration("10 mins").expect_err("mins").contains("unknown unit `mins`"));
        assert!(parse_duration("").expect_err("empty").contains("empty"));
        assert!(parse_duration("s").expect_err("no number").contains("expected a number"));
        assert!(parse_duration("1..2s").expect_err("dots").contains("not a number"));
    }

    #[test]
    fn rates_in_each_unit() {
        assert_eq!(parse_rate("12/s"), Ok(12.0));
        assert_eq!(parse_rate("300/min"), Ok(5.0));
        assert_eq!(parse_rate("3600/h"), Ok(1.0));
        assert!(parse_rate("12").expect_err("no unit").contains("expected a rate"));
        assert!(parse_rate("-1/s").expect_err("negative").contains("non-negative"));
        assert!(parse_rate("2/day").expect_err("unit").contains("unknown unit"));
    }
}
