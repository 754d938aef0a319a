//! What "better" means when ranking strategies.
//!
//! An objective is an ordered list of criteria, each a metric and a direction:
//! `["max success_rate", "min completion_p99", "min wasted_gpu_seconds"]` (the
//! default). Strategy A beats strategy B on the first criterion where their
//! paired difference is statistically significant; where no criterion is,
//! they tie. A bare metric name takes the direction in which it improves.

use std::fmt;

use super::CriteriaError;
use super::metric::{Better, Metric};

/// One criterion of an objective.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub struct Criterion {
    pub metric: Metric,
    pub maximize: bool,
}

impl fmt::Display for Criterion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", if self.maximize { "max" } else { "min" }, self.metric)
    }
}

impl Criterion {
    /// True when `diff` (a − b) favours a.
    pub fn favours(&self, diff: f64) -> bool {
        if self.maximize { diff > 0.0 } else { diff < 0.0 }
    }
}

/// The objective used when neither the file nor the command line gives one.
pub const DEFAULT: [&str; 3] = ["max success_rate", "min completion_p99", "min wasted_gpu_seconds"];

/// Parses `"max success_rate"`, `"min completion_p99"` or a bare metric name.
pub fn parse_criterion(text: &str) -> Result<Criterion, CriteriaError> {
    let t = text.trim();
    let (dir, name) = match t.split_once(char::is_whitespace) {
        Some((d @ ("max" | "min"), rest)) => (Some(d == "max"), rest.trim()),
        Some((other, _)) => return Err(CriteriaError::Direction { text: t.to_string(), word: other.to_string() }),
        None => (None, t),
    };
    let metric = Metric::lookup(name)?;
    Ok(Criterion { metric, maximize: dir.unwrap_or(metric.better() == Better::Higher) })
}

/// Parses a whole objective.
pub fn parse(items: &[impl AsRef<str>]) -> Result<Vec<Criterion>, CriteriaError> {
    if items.is_empty() {
        return Err(CriteriaError::EmptyObjective);
    }
    items.iter().map(|i| parse_criterion(i.as_ref())).collect()
}

pub fn default_objective() -> Vec<Criterion> {
    parse(&DEFAULT).expect("the default objective is valid")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn explicit_and_implied_directions() {
        assert!(parse_criterion("max success_rate").expect("ok").maximize);
        assert!(!parse_criterion("min completion_p99").expect("ok").maximize);
        assert!(parse_criterion("bulk_success_rate").expect("ok").maximize);
        assert!(!parse_criterion("rate_503").expect("ok").maximize);
        assert_eq!(parse_criterion("max  rate_503").expect("ok").to_string(), "max rate_503");
    }

    #[test]
    fn mistakes_are_explained() {
        assert!(
            parse_criterion("maximize success_rate").expect_err("word").to_string().contains("expected `max <metric>`")
        );
        assert!(
            parse_criterion("max sucess_rate").expect_err("typo").to_string().contains("did you mean `success_rate`")
        );
        let empty: [&str; 0] = [];
        assert!(parse(&empty).expect_err("empty").to_string().contains("at least one"));
    }
}
