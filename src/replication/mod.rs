//! Replication: one configuration run on several seeds, and what the seeds
//! say together — the same way for `compare`, `sweep` and `plan`.
//!
//! - **Seeds.** A replicated command runs `n` consecutive seeds from the
//!   scenario's own ([`seeds`]); every variant gets the same seeds, so seed k
//!   gives every variant the same traffic (common random numbers).
//! - **Variants.** A variant is the scenario's text with overrides (a sweep's
//!   grid point, a plan's candidate value) and optionally one strategy for some
//!   swarms (a comparison's or a sweep's strategy) ([`Variant`]); [`grid`]
//!   parses `--vary` and `--tune` into the overrides.
//! - **Per-seed values.** [`per_seed`] reads a metric from each seed's summary:
//!   a number, +∞ (a percentile counting failures that falls among them), or
//!   undefined (no sample, no denominator).
//! - **Aggregation, and the one rule for undefined values.** A metric's mean
//!   and 95% interval are over the seeds where it is defined, and the
//!   interval's `n` says how many ([`aggregate`]); it is undefined only when no
//!   seed defines it. Each seed's value, undefined ones included, is kept
//!   beside it. A threshold, however, is met only when the metric is defined in
//!   *every* seed ([`Threshold::judge`]): a p99 with no success in one seed
//!   says nothing about that seed, so the others cannot vouch for it.
//! - **One SLO judge.** [`Threshold::judge`] with [`Rule::Mean`] (`run`,
//!   `compare`, a sweep point's `slo_met`) or [`Rule::Bound`] (`plan`), and
//!   [`Threshold::seeds_meeting`] for the count of seeds that meet it.
//! - **One error type**, [`Error`], for everything that stops the three
//!   commands before or while they run.

pub mod grid;
mod runner;

pub use runner::{RunFailed, Runner};

pub use crate::criteria::slo::{Judgement, Rule, Threshold};
use crate::criteria::{CriteriaError, Metric, UnknownMetric};
use crate::metrics::summary::Summary;
use crate::scenario::{Override, Scenario, ScenarioErrors, UnknownName};
use crate::stats::{Interval, mean_ci};

/// The `n` seeds of a replicated command: `first`, `first + 1`, …
pub fn seeds(first: u64, n: u32) -> Vec<u64> {
    (0..u64::from(n)).map(|k| first.wrapping_add(k)).collect()
}

/// A metric's value in each seed's summary, in seed order (None: undefined).
pub fn per_seed<'a>(summaries: impl IntoIterator<Item = &'a Summary>, m: Metric) -> Vec<Option<f64>> {
    summaries.into_iter().map(|s| s.metric(m)).collect()
}

/// The mean and 95% interval over the seeds where the metric is defined,
/// clipped to the metric's range; None when no seed defines it.
pub fn aggregate(m: Metric, values: &[Option<f64>]) -> Option<Interval> {
    let xs: Vec<f64> = values.iter().flatten().copied().collect();
    mean_ci(&xs).map(|i| i.within(m.range()))
}

/// A variant of a scenario: overrides on top of the base ones, and
/// optionally a strategy for some swarms.
#[derive(Clone, Debug)]
pub struct Variant<'a> {
    /// Overrides after the base ones (a grid point, a candidate value).
    pub overrides: Vec<Override>,
    /// The strategy the swarms `swarms` take (None: each keeps its own).
    pub strategy: Option<&'a str>,
    /// The flag that named the strategy, for errors.
    pub flag: &'static str,
}

/// The scenario text every variant starts from.
#[derive(Clone, Copy, Debug)]
pub struct Base<'a> {
    pub text: &'a str,
    pub file: &'a str,
    /// `--set` overrides, applied to every variant.
    pub sets: &'a [Override],
}

/// Why a replicated command (compare, sweep, plan) cannot run.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The scenario, or a variant of it (a grid point, a candidate value), is invalid.
    #[error(transparent)]
    Scenario(#[from] ScenarioErrors),
    /// A strategy or swarm named on the command line (`flag`) that the scenario lacks.
    #[error("{flag}: {source}")]
    Unknown { flag: &'static str, source: UnknownName },
    /// A metric named on the command line (`flag`) that is no metric.
    #[error("{flag}: {source}")]
    Metric { flag: &'static str, source: UnknownMetric },
    /// A threshold or an objective that cannot be read.
    #[error("{flag} {source}")]
    Criteria { flag: &'static str, source: CriteriaError },
    /// What was asked cannot be done as asked; the message says why and what to write.
    #[error("{0}")]
    Usage(String),
    /// A run gave no result: simulated time stopped advancing, or the live engine failed.
    #[error("{file}: {source}")]
    Failed { file: String, source: RunFailed },
}

impl Base<'_> {
    /// The base scenario: the text with the `--set` overrides.
    pub fn scenario(&self) -> Result<Scenario, ScenarioErrors> {
        Scenario::parse_with(self.text, self.file, self.sets)
    }

    /// Validates the variant; `swarms` are the swarms its strategy applies to
    /// (None: every swarm).
    pub fn variant(&self, v: &Variant<'_>, swarms: Option<&[usize]>) -> Result<Scenario, Error> {
        let mut all = self.sets.to_vec();
        all.extend(v.overrides.iter().cloned());
        let sc = Scenario::parse_with(self.text, self.file, &all)?;
        with_strategy(sc, v.strategy, swarms, v.flag)
    }
}

/// `sc` with the swarms `swarms` (None: every swarm) using `strategy`, if
/// given; `flag` names where the strategy came from, for the error.
pub fn with_strategy(
    sc: Scenario,
    strategy: Option<&str>,
    swarms: Option<&[usize]>,
    flag: &'static str,
) -> Result<Scenario, Error> {
    let Some(name) = strategy else { return Ok(sc) };
    let all: Vec<usize> = (0..sc.swarms.len()).collect();
    sc.with_strategy_for(name, swarms.unwrap_or(&all)).map_err(|source| Error::Unknown { flag, source })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn aggregates_over_defined_seeds_and_clips_to_the_range() {
        let i = aggregate(Metric::SuccessRate, &[Some(0.9), None, Some(1.0), Some(1.0)]).expect("defined");
        assert_eq!(i.n, 3);
        assert!((i.mean - 0.966_666_666).abs() < 1e-6);
        assert_eq!(i.hi, 1.0, "a ratio's interval stops at 100%");
        assert_eq!(aggregate(Metric::CompletionP99, &[None, None]), None);
        assert_eq!(seeds(u64::MAX, 2), [u64::MAX, 0]);
    }

    #[test]
    fn a_variant_names_what_is_wrong_by_kind() {
        let text = "[scenario]\nname = \"v\"\nduration = \"1m\"\n[pool.gpu]\n[class.c]\npool = \"gpu\"\n\
                    service = { dist = \"constant\", value = \"1s\" }\n[strategy.full_jitter]\nkind = \"immediate\"\n\
                    [swarm.s]\nclass = \"c\"\narrivals = { process = \"poisson\", rate = \"1/s\" }\n";
        let base = Base { text, file: "v.toml", sets: &[] };
        let v = Variant { overrides: Vec::new(), strategy: Some("fulljitter"), flag: "--strategy" };
        match base.variant(&v, None) {
            Err(Error::Unknown { flag: "--strategy", source }) => {
                assert_eq!(source.suggestion.as_deref(), Some("full_jitter"));
                assert_eq!(
                    Error::Unknown { flag: "--strategy", source }.to_string(),
                    "--strategy: unknown strategy `fulljitter`; the scenario defines: full_jitter, none \
                     (did you mean `full_jitter`?)"
                );
            }
            other => panic!("{other:?}"),
        }
        let bad: Override = "pool.gpu.slots=0".parse().expect("an override");
        let v = Variant { overrides: vec![bad], strategy: None, flag: "--strategy" };
        assert!(matches!(base.variant(&v, None), Err(Error::Scenario(_))));
    }
}
