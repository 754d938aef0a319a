//! Service-level thresholds (`[slo]` in a scenario, `--slo` on the command line).
//!
//! A threshold is a metric name, a comparison and a value — `rate_503 < 1%`,
//! `completion_p99 < 120s` — checked against a run's summary. A failed
//! threshold makes the command exit with code 1, like k6's thresholds, so a CI
//! job can gate on a capacity plan.

use std::fmt;

use super::CriteriaError;
use super::metric::{Metric, Unit};
use crate::units::parse_duration;

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
    pub metric: Metric,
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

/// How a threshold is judged over the seeds of one configuration.
#[derive(Copy, Clone, Debug, PartialEq)]
pub enum Rule {
    /// The mean over seeds meets the limit (`run`: one seed, its value;
    /// `compare`: a strategy's mean).
    Mean,
    /// The one-sided confidence bound of the mean meets the limit: the upper
    /// bound for `<` and `<=`, the lower for `>` and `>=` (`plan`), moved
    /// out by `slack`, what the values may each be off by (a histogram
    /// bucket's width for a percentile: seeds that agree on a p99's bucket
    /// do not pin the p99 down; see `metrics::resolution`).
    Bound { confidence: f64, slack: f64 },
}

/// A threshold judged over seeds.
#[derive(Copy, Clone, Debug, PartialEq)]
pub struct Judgement {
    /// The value the rule compared with the limit (the mean, or the bound);
    /// NaN when undefined: some seed had no value, or too few seeds for a bound.
    pub value: f64,
    pub passed: bool,
}

impl Threshold {
    /// Judges the metric's value in each seed (None: undefined in that seed).
    ///
    /// **The rule for undefined values**, the same in every command: a
    /// threshold is met only when the metric is defined in every seed. A p99
    /// with no success in one seed says nothing about that seed's latency, so
    /// no mean or bound over the other seeds may pass for all of them. (Means
    /// shown beside a judgement are over the defined seeds; see
    /// `replication::aggregate`.)
    pub fn judge(&self, values: &[Option<f64>], rule: Rule) -> Judgement {
        let xs: Option<Vec<f64>> = values.iter().copied().collect();
        let value = xs.filter(|xs| !xs.is_empty()).and_then(|xs| match rule {
            Rule::Mean => crate::stats::mean_ci(&xs).map(|i| i.mean),
            Rule::Bound { confidence, slack } => {
                let upper = matches!(self.op, Op::Lt | Op::Le);
                crate::stats::one_sided_bound(&xs, confidence, upper).map(|b| if upper { b + slack } else { b - slack })
            }
        });
        // A ratio's bound past its range (a 503 rate's upper bound of 212%
        // over a few spread seeds) says no more than the range's end.
        let value = match self.metric.unit() {
            Unit::Ratio => value.map(|v| v.clamp(0.0, 1.0)),
            _ => value,
        };
        let value = value.unwrap_or(f64::NAN);
        Judgement { value, passed: self.op.holds(value, self.limit) }
    }

    /// Seeds whose own value meets the threshold (an undefined value does not).
    pub fn seeds_meeting(&self, values: &[Option<f64>]) -> usize {
        values.iter().filter(|v| v.is_some_and(|v| self.op.holds(v, self.limit))).count()
    }
}

/// Parses the condition of one threshold: `metric` is the name, `condition`
/// e.g. `"< 1%"` or `"<= 120s"`.
pub fn parse(metric: &str, condition: &str) -> Result<Threshold, CriteriaError> {
    let m = Metric::lookup(metric)?;
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
        return Err(CriteriaError::NoComparison(condition.to_string()));
    };
    let v = rest.trim();
    let limit = match m.unit() {
        Unit::Ratio => parse_ratio(metric, v),
        Unit::Duration => parse_duration(v).map(|d| d.as_secs_f64()).map_err(|e| e.to_string()),
        // nan would fail every run and inf pass every one: neither is a limit.
        Unit::Number => v.parse::<f64>().ok().filter(|x| x.is_finite()).ok_or_else(|| format!("`{v}` is not a number")),
    }
    .map_err(CriteriaError::Limit)?;
    Ok(Threshold { metric: m, op, limit, text: v.to_string() })
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
    } else if x == 1.0 {
        // 1 is a whole or a percent: say both, as they differ a hundredfold.
        Err(format!("{metric} is a ratio: a bare number must be a fraction below 1; write 100% or 1% (0.01)"))
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
pub fn parse_inline(text: &str) -> Result<Threshold, CriteriaError> {
    let at = text.find(['<', '>']).ok_or_else(|| CriteriaError::NotAThreshold(text.to_string()))?;
    parse(text[..at].trim(), &text[at..])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_ratio_s_bound_stays_within_its_range() {
        let t = parse("rate_503", "< 1%").expect("valid");
        // Two seeds far apart: the upper bound of the mean runs past 100%.
        let j = t.judge(&[Some(0.1), Some(0.9)], Rule::Bound { confidence: 0.95, slack: 0.0 });
        assert_eq!(j.value, 1.0);
        assert!(!j.passed);
        let d = parse("completion_p99", "< 10s").expect("valid");
        assert!(
            d.judge(&[Some(1.0), Some(90.0)], Rule::Bound { confidence: 0.95, slack: 0.0 }).value > 90.0,
            "durations are not clipped"
        );
    }

    #[test]
    fn parses_ratios_percentages_and_durations() {
        let t = parse("rate_503", "< 1%").expect("ok");
        assert_eq!((t.op, t.limit), (Op::Lt, 0.01));
        let t = parse("completion_p99", "<= 2m").expect("ok");
        assert_eq!((t.op, t.limit), (Op::Le, 120.0));
        let t = parse_inline("success_rate>=0.99").expect("ok");
        assert_eq!((t.metric, t.op, t.limit), (Metric::SuccessRate, Op::Ge, 0.99));
    }

    #[test]
    fn undefined_in_any_seed_fails_under_either_rule() {
        let t = parse("completion_p99", "< 10s").expect("ok");
        let bound = Rule::Bound { confidence: 0.95, slack: 0.0 };
        for rule in [Rule::Mean, bound] {
            let j = t.judge(&[Some(1.0), None, Some(1.0)], rule);
            assert!(!j.passed && j.value.is_nan(), "{rule:?}: {j:?}");
        }
        assert_eq!(t.judge(&[Some(2.0), Some(4.0)], Rule::Mean), Judgement { value: 3.0, passed: true });
        // Two seeds 2s and 4s: the 95% upper bound is 3 + 6.314 · 1 ≈ 9.31s.
        let j = t.judge(&[Some(2.0), Some(4.0)], bound);
        assert!((j.value - 9.3138).abs() < 1e-3 && j.passed, "{j:?}");
        assert!(!t.judge(&[Some(2.0), Some(5.0)], bound).passed, "a wider spread moves the bound past 10s");
        // Seeds agreeing on a p99's bucket bound it only to within the
        // bucket: the slack moves the bound past a limit inside it.
        let p99 = parse("completion_p99", "<5.358s").expect("threshold");
        let j = p99.judge(&[Some(5.3576), Some(5.3576)], Rule::Bound { confidence: 0.95, slack: 0.004096 });
        assert!(!j.passed && (j.value - 5.3576 - 0.004096).abs() < 1e-9, "{j:?}");
        assert!(p99.judge(&[Some(5.3576), Some(5.3576)], Rule::Mean).passed, "the mean rule compares the mean");
        // One seed bounds nothing; an infinite value is its own mean.
        assert!(t.judge(&[Some(2.0)], bound).value.is_nan());
        assert_eq!(t.judge(&[Some(2.0), Some(f64::INFINITY)], Rule::Mean).value, f64::INFINITY);
        assert_eq!(t.seeds_meeting(&[Some(2.0), None, Some(12.0), Some(9.0)]), 2);
    }

    #[test]
    fn explains_what_is_wrong() {
        assert!(parse("rate_530", "<0.1").expect_err("typo").to_string().contains("did you mean `rate_503`"));
        assert!(parse("rate_503", "0.1").expect_err("no op").to_string().contains("must start with"));
        assert!(parse("rate_503", "< 5").expect_err("range").to_string().contains("write 5%"));
        assert!(parse("rate_503", "< 1").expect_err("ambiguous").to_string().contains("write 100% or 1% (0.01)"));
        assert!(parse("rate_503", "< 250").expect_err("range").to_string().contains("outside 0..1"));
        assert!(parse("rate_503", "< 101%").expect_err("range").to_string().contains("outside 0%..100%"));
        assert_eq!(parse("success_rate", ">= 100%").expect("ok").limit, 1.0);
        assert!(parse("completion_p99", "< 120").expect_err("unit").to_string().contains("missing unit"));
        assert!(parse_inline("rate_503").expect_err("no op").to_string().contains("not a threshold"));
    }
}
