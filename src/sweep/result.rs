//! A sweep's results: per grid point and strategy, each metric's mean and 95%
//! interval over seeds (clipped to the metric's range), each seed's value, the
//! seeds that meet the scenario's SLOs and whether the point meets them (by the
//! rule `compare` uses, see [`crate::replication`]), the cost where pools have
//! a price, and completion-time percentiles pooled over seeds (from the merged
//! histograms).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::Sweep;
use super::part::StoredCell;
use crate::criteria::Metric;
use crate::metrics::summary::Summary;
use crate::metrics::{LatencyHist, Percentiles};
use crate::replication::{Rule, Threshold, aggregate, per_seed};
use crate::stats::{Interval, mean_ci};

/// Why cells do not aggregate into a sweep's result.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum BuildError {
    #[error("expected cells 0..{expected} in order")]
    Cells { expected: usize },
    #[error("cell {cell}: {source}")]
    Histogram { cell: usize, source: crate::metrics::HistError },
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct AxisResult {
    pub key: String,
    pub values: Vec<String>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PointResult {
    pub point: usize,
    /// The level of each axis, in axis order.
    pub values: Vec<String>,
    pub strategy: String,
    pub metrics: BTreeMap<String, Option<Interval>>,
    /// Each metric's value in each seed, in seed order (null: undefined).
    #[serde(with = "crate::extended::option_vec_map")]
    pub per_seed: BTreeMap<String, Vec<Option<f64>>>,
    /// Seeds that meet every threshold of the scenario's `[slo]`.
    pub slos_met: usize,
    /// The point meets every threshold by the mean over seeds, as a compared
    /// strategy does (a metric undefined in some seed does not meet it).
    #[serde(default)]
    pub slo_met: bool,
    /// Cost in money (`pool.<name>.price_per_hour`), mean and 95% interval; null without prices.
    pub cost: Option<Interval>,
    /// Completion time over all seeds' requests together.
    pub completion_pooled_ms: Percentiles,
}

/// `sweep.json`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SweepResult {
    pub scenario: String,
    pub version: String,
    pub axes: Vec<AxisResult>,
    pub strategies: Vec<String>,
    pub seeds: Vec<u64>,
    pub metrics: Vec<String>,
    /// Swarms whose requests the metrics cover.
    pub scored_swarms: Vec<String>,
    /// Reported metrics recorded per pool, which cover every swarm whatever
    /// `scored_swarms` says (empty when every swarm is scored).
    pub pool_wide: Vec<String>,
    /// The scenario's `[slo]` thresholds that `slos_met` counts.
    pub slos: Vec<String>,
    /// Point-major, then strategy.
    pub points: Vec<PointResult>,
}

/// The value `t` was judged by in a run: over every swarm, as an SLO
/// describes the service, even when the summary is scoped to some swarms
/// (whose own value of, say, another tier's failure rate is undefined).
fn judged_value(s: &Summary, t: &Threshold) -> Option<f64> {
    if s.scope.is_none() {
        return s.metric(t.metric);
    }
    let threshold = t.to_string();
    let judged = s.slo.iter().find(|r| r.threshold == threshold).map(|r| r.value);
    judged.map_or_else(|| s.metric(t.metric), |v| (!v.is_nan()).then_some(v))
}

impl SweepResult {
    /// Which swarms the metrics cover, when not every one of `swarms`:
    /// `metrics cover swarm(s) bulk only; … are per pool and cover every swarm`.
    pub fn scope_note(&self, swarms: usize) -> Option<String> {
        if self.scored_swarms.len() >= swarms {
            return None;
        }
        let pool = if self.pool_wide.is_empty() {
            String::new()
        } else {
            format!("; {} are per pool and cover every swarm", self.pool_wide.join(", "))
        };
        Some(format!("metrics cover swarm(s) {} only{pool}", self.scored_swarms.join(", ")))
    }

    /// Aggregates every cell of `sweep` (in index order).
    pub fn build(sweep: &Sweep, cells: &[StoredCell]) -> Result<SweepResult, BuildError> {
        if cells.len() != sweep.cells() || cells.iter().enumerate().any(|(i, c)| c.index != i) {
            return Err(BuildError::Cells { expected: sweep.cells() });
        }
        let n = sweep.spec.seeds.len();
        let mut points = Vec::new();
        for p in 0..sweep.grid.points() {
            let coords = sweep.grid.coords(p);
            for (s, label) in sweep.strategy_labels.iter().enumerate() {
                let first = (p * sweep.strategies() + s) * n;
                let group = &cells[first..first + n];
                let summaries = || group.iter().map(|c| &c.summary);
                let values: BTreeMap<Metric, Vec<Option<f64>>> =
                    sweep.metrics.iter().map(|&m| (m, per_seed(summaries(), m))).collect();
                let metrics = values.iter().map(|(m, v)| (m.to_string(), aggregate(*m, v))).collect();
                let slos = &sweep.base.slo;
                let slos_met = group
                    .iter()
                    .filter(|c| slos.iter().all(|t| t.seeds_meeting(&[judged_value(&c.summary, t)]) == 1))
                    .count();
                let slo_met = slos.iter().all(|t| {
                    let seeds: Vec<Option<f64>> = group.iter().map(|c| judged_value(&c.summary, t)).collect();
                    t.judge(&seeds, Rule::Mean).passed
                });
                let costs: Option<Vec<f64>> = group.iter().map(|c| c.summary.gpu.cost).collect();
                let mut pooled = LatencyHist::default();
                for c in group {
                    pooled.merge_from(
                        &LatencyHist::from_stored(&c.completion)
                            .map_err(|source| BuildError::Histogram { cell: c.index, source })?,
                    );
                }
                points.push(PointResult {
                    point: p,
                    values: coords.iter().zip(&sweep.grid.axes).map(|(&l, a)| a.levels[l].text.clone()).collect(),
                    strategy: label.clone(),
                    metrics,
                    per_seed: values.into_iter().map(|(m, v)| (m.to_string(), v)).collect(),
                    slos_met,
                    slo_met,
                    // Money is an amount: at least 0.
                    cost: costs.and_then(|xs| mean_ci(&xs)).map(|i| i.within((0.0, f64::INFINITY))),
                    completion_pooled_ms: pooled.percentiles(),
                });
            }
        }
        Ok(SweepResult {
            scenario: sweep.base.name.clone(),
            version: env!("CARGO_PKG_VERSION").to_string(),
            axes: sweep
                .grid
                .axes
                .iter()
                .map(|a| AxisResult { key: a.key.clone(), values: a.levels.iter().map(|l| l.text.clone()).collect() })
                .collect(),
            strategies: sweep.strategy_labels.clone(),
            seeds: sweep.spec.seeds.clone(),
            metrics: sweep.spec.metrics.clone(),
            scored_swarms: sweep.scored.iter().map(|&i| sweep.base.swarms[i].name.clone()).collect(),
            pool_wide: if sweep.scored.len() < sweep.base.swarms.len() {
                sweep.metrics.iter().filter(|m| m.pool_wide()).map(ToString::to_string).collect()
            } else {
                Vec::new()
            },
            slos: sweep.base.slo.iter().map(ToString::to_string).collect(),
            points,
        })
    }

    /// The result at a grid point (by level indices) for a strategy.
    pub fn at(&self, point: usize, strategy: &str) -> Option<&PointResult> {
        self.points.iter().find(|r| r.point == point && r.strategy == strategy)
    }
}
