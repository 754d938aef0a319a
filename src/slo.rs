//! Service-level thresholds (`[slo]` in a scenario, `--slo` on the command line).
//!
//! A threshold is a metric name, a comparison and a value — `rate_503 < 1%`,
//! `completion_p99 < 120s` — checked against a run's summary. A failed
//! threshold makes the command exit with code 1, like k6's thresholds, so a CI
//! job can gate on a capacity plan.

use std::fmt;

use crate::scenario::units::parse_duration;

pub use crate::metrics::catalog::Unit;

#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum Op {
    Lt,
    Le,
    Gt,
    Ge,
}

impl Op {
    pub fn holds(self, value: f64, limit: f64) -> bool {
        match self {
            Op::Lt => value < limit,
            Op::Le => value <= limit,
            Op::Gt => value > limit,
            Op::Ge => value >= limit,
        }
    }
    pub fn symbol(self) -> &'static str {
        match self {
            Op::Lt => "<",
            Op::Le => "<=",
            Op::Gt => ">",
            Op::Ge => ">=",
        }
    }
}

/// One threshold. Durations are kept in seconds, ratios as fractions.
#[derive(Clone, Debug, PartialEq)]
pub struct Threshold {
    pub metric: &'static str,
    pub unit: Unit,
    pub op: Op,
    pub limit: f64,
    /// The text as written, for messages.
    pub text: String,
}

impl fmt::Display for Threshold {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {} {}", self.metric, self.op.symbol(), self.text)
    }
}

/// Parses the condition of one threshold: `metric` is the name, `condition`
/// e.g. `"< 1%"` or `"<= 120s"`.
pub fn parse(metric: &str, condition: &str) -> Result<Threshold, String> {
    let info = crate::metrics::catalog::lookup(metric)?;
    let (name, unit) = (info.name, info.unit);
    let c = condition.trim();
    let (op, rest) = if let Some(r) = c.strip_prefix("<=") {
        (Op::Le, r)
    } else if let Some(r) = c.strip_prefix(">=") {
        (Op::Ge, r)
    } else if let Some(r) = c.strip_prefix('<') {
        (Op::Lt, r)
    } else if let Some(r) = c.strip_prefix('>') {
        (Op::Gt, r)
    } else {
        return Err(format!("condition `{condition}` must start with <, <=, > or >= (e.g. \"< 0.01\")"));
    };
    let v = rest.trim();
    let limit = match unit {
        Unit::Ratio => parse_ratio(metric, v)?,
        Unit::Duration => parse_duration(v)?.as_secs_f64(),
        Unit::Number => v.parse::<f64>().map_err(|_| format!("`{v}` is not a number"))?,
    };
    Ok(Threshold { metric: name, unit, op, limit, text: v.to_string() })
}

/// Parses a ratio: a percentage (`1%`, `99.5%`, up to `100%`) or a bare
/// fraction below 1 (`0.01`). A bare number of 1 or more is refused: `1`
/// could mean 100% or 1%, and `5` can only be a percentage without its sign.
pub fn parse_ratio(metric: &str, v: &str) -> Result<f64, String> {
    if let Some(p) = v.strip_suffix('%') {
        let x: f64 = p.trim().parse().map_err(|_| format!("`{v}` is not a percentage such as 1% or 99.5%"))?;
        return if (0.0..=100.0).contains(&x) {
            Ok(x / 100.0)
        } else {
            Err(format!("{metric} is a ratio; `{v}` is outside 0%..100%"))
        };
    }
    let x: f64 = v.parse().map_err(|_| format!("`{v}` is not a fraction such as 0.01 or a percentage such as 1%"))?;
    if (0.0..1.0).contains(&x) {
        Ok(x)
    } else if (1.0..=100.0).contains(&x) {
        Err(format!(
            "{metric} is a ratio: a bare number must be a fraction below 1; for `{v}` write {x}% (or {} for {}%)",
            x / 100.0,
            x
        ))
    } else {
        Err(format!(
            "{metric} is a ratio; `{v}` is outside 0..1 (write a fraction such as 0.01 or a percentage such as 1%)"
        ))
    }
}

/// Parses the command-line form `metric<value` (also `<=`, `>`, `>=`).
pub fn parse_inline(text: &str) -> Result<Threshold, String> {
    let at = text.find(['<', '>']).ok_or_else(|| {
        format!("`{text}` is not a threshold; expected e.g. \"rate_503<0.01\" or \"completion_p99<120s\"")
    })?;
    parse(text[..at].trim(), &text[at..])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_ratios_percentages_and_durations() {
        let t = parse("rate_503", "< 1%").expect("ok");
        assert_eq!((t.op, t.limit), (Op::Lt, 0.01));
        let t = parse("completion_p99", "<= 2m").expect("ok");
        assert_eq!((t.op, t.limit), (Op::Le, 120.0));
        let t = parse_inline("success_rate>=0.99").expect("ok");
        assert_eq!((t.metric, t.op, t.limit), ("success_rate", Op::Ge, 0.99));
    }

    #[test]
    fn explains_what_is_wrong() {
        assert!(parse("rate_530", "<0.1").expect_err("typo").contains("did you mean `rate_503`"));
        assert!(parse("rate_503", "0.1").expect_err("no op").contains("must start with"));
        assert!(parse("rate_503", "< 5").expect_err("range").contains("write 5%"));
        assert!(parse("rate_503", "< 1").expect_err("ambiguous").contains("a bare number must be a fraction below 1"));
        assert!(parse("rate_503", "< 250").expect_err("range").contains("outside 0..1"));
        assert!(parse("rate_503", "< 101%").expect_err("range").contains("outside 0%..100%"));
        assert_eq!(parse("success_rate", ">= 100%").expect("ok").limit, 1.0);
        assert!(parse("completion_p99", "< 120").expect_err("unit").contains("missing unit"));
        assert!(parse_inline("rate_503").expect_err("no op").contains("not a threshold"));
    }
}
