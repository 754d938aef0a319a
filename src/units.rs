//! Human units, in scenario files and thresholds alike: durations (`"250ms"`, `"2m30s"`, `"3.5s"`, `"1h"`)
//! rates (`"12/s"`, `"300/min"`) and sizes in bytes (`"32KB"`, `"1.5MB"`, `"100MB"`).
//!
//! Units are always explicit: a bare `90` is rejected, because nobody can tell
//! whether it meant seconds or milliseconds. Exactly the documented syntax is
//! accepted (docs/scenario-format.md, Units): a spelling that is not documented
//! (`"5sec"`, `"5 s"`, `"1h1h"`) is refused rather than guessed at.

use crate::time::SimDuration;

/// What a duration looks like, for error messages.
pub const DURATION_HINT: &str = "a duration such as \"250ms\", \"90s\", \"2m30s\" or \"1h\"";
/// What a timeout looks like, for error messages.
pub const TIMEOUT_HINT: &str = "a duration such as \"60s\", or \"off\"";
/// What a rate looks like, for error messages.
pub const RATE_HINT: &str = "a rate such as \"12/s\", \"300/min\" or \"1000/h\"";

/// What a size looks like, for error messages.
pub const BYTES_HINT: &str = "a size such as \"512B\", \"32KB\", \"1.5MB\" or \"1GB\"";

/// Size units and their bytes: powers of 1024, as varnishd reads `32k`.
const BYTE_UNITS: [(&str, f64); 5] =
    [("B", 1.0), ("KB", 1024.0), ("MB", 1_048_576.0), ("GB", 1_073_741_824.0), ("TB", 1_099_511_627_776.0)];

/// The largest size a file may write (1 PB): larger is certainly a typo.
const MAX_BYTES: f64 = 1_125_899_906_842_624.0;

/// Duration units, largest first, with their length in seconds. In a compound
/// duration each unit appears at most once and in this order (`"1h30m"`).
const DURATION_UNITS: [(&str, f64); 8] =
    [("d", 86_400.0), ("h", 3600.0), ("m", 60.0), ("s", 1.0), ("ms", 1e-3), ("us", 1e-6), ("µs", 1e-6), ("ns", 1e-9)];

/// The longest duration a file may write: longer is certainly a typo, and
/// nanoseconds in a u64 reach only 584 years.
const MAX_DURATION_SECS: f64 = 1e9;

/// Text that is not the quantity it should be, and why.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum UnitError {
    #[error("empty duration; expected {hint}", hint = DURATION_HINT)]
    EmptyDuration,
    #[error("invalid duration `{text}`: {why}; expected {hint}", hint = DURATION_HINT)]
    Duration { text: String, why: String },
    #[error("invalid duration `{text}`: longer than {max:e} seconds (31 years)", max = MAX_DURATION_SECS)]
    TooLong { text: String },
    /// Not a duration, and not `"off"` either.
    #[error("{0}, or \"off\"")]
    Timeout(Box<UnitError>),
    #[error("invalid rate `{text}`: {why}")]
    Rate { text: String, why: String },
    #[error("invalid size `{text}`: {why}; expected {hint}", hint = BYTES_HINT)]
    Bytes { text: String, why: String },
}

/// Parses `"250ms"`, `"90s"`, `"2m30s"`, `"1.5h"`, `"2m 30s"`, `"0"`.
///
/// A component is a decimal number (`3`, `3.5`; not `3.` or `.5`) followed at
/// once by a unit; components may be separated by one space and must use
/// units in decreasing order, each once. `"0"` alone needs no unit.
pub fn parse_duration(text: &str) -> Result<SimDuration, UnitError> {
    let s = text.trim();
    if s.is_empty() {
        return Err(UnitError::EmptyDuration);
    }
    if s == "0" {
        return Ok(SimDuration::ZERO);
    }
    let bad = |why: String| Err(UnitError::Duration { text: text.to_string(), why });
    let mut rest = s;
    let mut total = 0.0_f64;
    // Index into DURATION_UNITS of the last unit used: the next must be smaller.
    let mut last: Option<usize> = None;
    while !rest.is_empty() {
        let num_len = rest.find(|c: char| !(c.is_ascii_digit() || c == '.')).unwrap_or(rest.len());
        let num = &rest[..num_len];
        if num.is_empty() {
            return bad(format!("expected a number before `{rest}`"));
        }
        let well_formed = match num.split_once('.') {
            None => true,
            Some((int, frac)) => !int.is_empty() && !frac.is_empty() && !frac.contains('.'),
        };
        let Some(number) = num.parse::<f64>().ok().filter(|_| well_formed) else {
            return bad(format!("`{num}` is not a number"));
        };
        rest = &rest[num_len..];
        let unit_len = rest.find(|c: char| c.is_ascii_digit() || c == '.' || c.is_whitespace()).unwrap_or(rest.len());
        let unit = &rest[..unit_len];
        if unit.is_empty() {
            let after = rest.trim_start();
            let unit_after = after.split(|c: char| c.is_ascii_digit() || c == '.' || c == ' ').next().unwrap_or("");
            return if rest.starts_with(' ') && DURATION_UNITS.iter().any(|(u, _)| *u == unit_after) {
                bad(format!("no space between a number and its unit (write `{number}{after}`)"))
            } else if rest.starts_with(' ') {
                bad(format!("`{after}` is not a unit (use d, h, m, s, ms, us or ns, right after the number)"))
            } else {
                bad(format!("missing unit after `{num}`"))
            };
        }
        let Some(i) = DURATION_UNITS.iter().position(|(u, _)| *u == unit) else {
            return bad(format!("unknown unit `{unit}` (use d, h, m, s, ms, us or ns)"));
        };
        // us and µs are one unit.
        let rank = if unit == "µs" { i - 1 } else { i };
        if last.is_some_and(|l| rank <= l) {
            return bad(format!("`{unit}` comes after a unit no larger than it; write each unit once, largest first"));
        }
        last = Some(rank);
        total += number * DURATION_UNITS[i].1;
        rest = &rest[unit_len..];
        // One space may separate components ("2m 30s"), not end the text.
        if let Some(r) = rest.strip_prefix(' ') {
            if r.is_empty() || r.starts_with(' ') {
                return bad("stray spaces".into());
            }
            rest = r;
        }
    }
    if !total.is_finite() || total > MAX_DURATION_SECS {
        return Err(UnitError::TooLong { text: text.to_string() });
    }
    Ok(SimDuration::from_secs_f64(total))
}

/// Parses a timeout: a duration, or `"off"`.
pub fn parse_timeout(text: &str) -> Result<Timeout, UnitError> {
    match text.trim() {
        "off" => Ok(Timeout(None)),
        other => parse_duration(other).map(|d| Timeout(Some(d))).map_err(|e| UnitError::Timeout(Box::new(e))),
    }
}

/// Parses `"12/s"`, `"300/min"`, `"0.5/s"`, `"1000/h"` into events per second.
///
/// The number is a decimal (an exponent such as `1e3` is allowed); the unit
/// is `s`, `min` (or `m`) or `h`, right after the `/`.
pub fn parse_rate(text: &str) -> Result<f64, UnitError> {
    let s = text.trim();
    let bad = |why: String| UnitError::Rate { text: text.to_string(), why };
    let Some((num, unit)) = s.split_once('/') else {
        return Err(bad(format!("expected {RATE_HINT}")));
    };
    let decimal = !num.is_empty() && num.chars().all(|c| c.is_ascii_digit() || ".eE+-".contains(c));
    let number: f64 = num
        .parse()
        .ok()
        .filter(|_| decimal)
        .ok_or_else(|| bad(format!("`{num}` is not a number; expected {RATE_HINT}")))?;
    let per_secs = match unit {
        "s" => 1.0,
        "m" | "min" => 60.0,
        "h" => 3600.0,
        other => return Err(bad(format!("unknown unit `/{other}` (use /s, /min or /h)"))),
    };
    if !number.is_finite() || number < 0.0 {
        return Err(bad("must be a non-negative number".into()));
    }
    Ok(number / per_secs)
}

/// Parses `"512B"`, `"32KB"`, `"1.5MB"`, `"1GB"`, `"1TB"` into bytes (units
/// are powers of 1024, as varnishd's `32k`); the result is rounded to a byte.
pub fn parse_bytes(text: &str) -> Result<u64, UnitError> {
    let s = text.trim();
    let bad = |why: String| UnitError::Bytes { text: text.to_string(), why };
    let split = s.find(|c: char| !(c.is_ascii_digit() || c == '.')).unwrap_or(s.len());
    let (num, unit) = s.split_at(split);
    let well_formed = match num.split_once('.') {
        None => !num.is_empty(),
        Some((int, frac)) => !int.is_empty() && !frac.is_empty() && !frac.contains('.'),
    };
    let Some(number) = num.parse::<f64>().ok().filter(|_| well_formed) else {
        return Err(bad(format!("`{num}` is not a number")));
    };
    let Some((_, scale)) = BYTE_UNITS.iter().find(|(u, _)| *u == unit) else {
        return Err(bad(if unit.is_empty() {
            format!("missing unit after `{num}`")
        } else {
            format!("unknown unit `{unit}` (use B, KB, MB, GB or TB)")
        }));
    };
    let bytes = number * scale;
    if bytes > MAX_BYTES {
        return Err(bad("larger than 1 PB".into()));
    }
    Ok(bytes.round() as u64)
}

/// A size in bytes.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub struct Bytes(pub u64);

/// A duration value in a scenario file.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub struct Dur(pub SimDuration);

/// A timeout that may be switched off with `"off"`.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub struct Timeout(pub Option<SimDuration>);

/// A rate in events per second.
#[derive(Copy, Clone, Debug, PartialEq)]
pub struct Rate(pub f64);

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
        assert_eq!(secs("1h"), 3600.0);
        assert_eq!(secs("1.5h"), 5400.0);
        assert_eq!(secs("3.5s"), 3.5);
        assert_eq!(secs("1d2h"), 93_600.0);
        assert_eq!(secs("0"), 0.0);
        assert_eq!(parse_duration("1500us").expect("us").as_nanos(), 1_500_000);
        assert_eq!(parse_duration("1500µs").expect("µs").as_nanos(), 1_500_000);
    }

    #[test]
    fn durations_without_unit_or_with_unknown_unit_are_rejected() {
        assert!(parse_duration("90").expect_err("bare").to_string().contains("missing unit"));
        assert!(parse_duration("5x").expect_err("x").to_string().contains("unknown unit `x`"));
        assert!(parse_duration("10 mins").expect_err("mins").to_string().contains("`mins` is not a unit"));
        assert!(parse_duration("10 min").expect_err("min").to_string().contains("`min` is not a unit"));
        assert!(parse_duration("").expect_err("empty").to_string().contains("empty"));
        assert!(parse_duration("s").expect_err("no number").to_string().contains("expected a number"));
        assert!(parse_duration("1..2s").expect_err("dots").to_string().contains("not a number"));
        let e = parse_timeout("5x").expect_err("neither");
        assert!(matches!(&e, UnitError::Timeout(d) if matches!(**d, UnitError::Duration { .. })), "{e:?}");
        assert_eq!(
            e.to_string(),
            format!(
                "invalid duration `5x`: unknown unit `x` (use d, h, m, s, ms, us or ns); expected {DURATION_HINT}, or \"off\""
            )
        );
        assert_eq!(parse_duration("400000d").expect_err("long"), UnitError::TooLong { text: "400000d".into() });
    }

    #[test]
    fn undocumented_duration_spellings_are_refused() {
        for (text, why) in [
            ("1h1h", "write each unit once"),
            ("30s2m", "write each unit once"),
            ("5 s", "no space between a number and its unit"),
            ("2 parsecs", "`parsecs` is not a unit"),
            ("3.s", "not a number"),
            (".5s", "`.5` is not a number"),
            ("5sec", "unknown unit `sec`"),
            ("5min", "unknown unit `min`"),
            ("2m  30s", "stray spaces"),
            ("1e3s", "unknown unit `e`"),
        ] {
            let e = parse_duration(text).expect_err(text);
            assert!(e.to_string().contains(why), "{text}: {e}");
        }
    }

    #[test]
    fn sizes_are_powers_of_1024_with_an_explicit_unit() {
        assert_eq!(parse_bytes("512B"), Ok(512));
        assert_eq!(parse_bytes("32KB"), Ok(32_768));
        assert_eq!(parse_bytes("1.5MB"), Ok(1_572_864));
        assert_eq!(parse_bytes("1GB"), Ok(1 << 30));
        for (text, why) in [
            ("32", "missing unit"),
            ("32kb", "unknown unit `kb`"),
            ("32 KB", "unknown unit ` KB`"),
            ("KB", "not a number"),
            ("-1KB", "not a number"),
            ("2000TB", "larger than 1 PB"),
        ] {
            let e = parse_bytes(text).expect_err(text);
            assert!(e.to_string().contains(why), "{text}: {e}");
        }
    }

    #[test]
    fn rates_in_each_unit() {
        assert_eq!(parse_rate("12/s"), Ok(12.0));
        assert_eq!(parse_rate("300/min"), Ok(5.0));
        assert_eq!(parse_rate("300/m"), Ok(5.0));
        assert_eq!(parse_rate("3600/h"), Ok(1.0));
        assert_eq!(parse_rate("1e3/s"), Ok(1000.0));
        assert!(parse_rate("12").expect_err("no unit").to_string().contains("expected a rate"));
        assert!(parse_rate("-1/s").expect_err("negative").to_string().contains("non-negative"));
        assert!(parse_rate("2/day").expect_err("unit").to_string().contains("unknown unit"));
        assert!(parse_rate("2/sec").expect_err("unit").to_string().contains("unknown unit `/sec`"));
        assert!(parse_rate("inf/s").expect_err("inf").to_string().contains("not a number"));
        assert!(parse_rate("1e400/s").expect_err("overflow").to_string().contains("non-negative number"));
    }
}
