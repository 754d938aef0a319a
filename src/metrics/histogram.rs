//! Latency histograms: HdrHistogram in microseconds, plus exact sums for means.

use hdrhistogram::Histogram;
use serde::{Deserialize, Serialize};

use crate::time::SimDuration;

/// Three significant digits from 1 µs to about 11 days.
const HIGHEST_US: u64 = 1_000_000_000_000;

/// A latency distribution recorded as it happens (constant memory).
#[derive(Clone, Debug)]
pub struct LatencyHist {
    h: Histogram<u64>,
    sum_ns: u128,
}

impl Default for LatencyHist {
    fn default() -> Self {
        LatencyHist { h: Histogram::new_with_bounds(1, HIGHEST_US, 3).expect("valid bounds"), sum_ns: 0 }
    }
}

/// Percentiles in milliseconds, as reports show them.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Percentiles {
    pub count: u64,
    pub mean: f64,
    pub p50: f64,
    pub p90: f64,
    pub p99: f64,
    pub p999: f64,
    pub max: f64,
}

impl LatencyHist {
    pub fn record(&mut self, d: SimDuration) {
        self.h.saturating_record(d.as_micros().min(HIGHEST_US));
        self.sum_ns += u128::from(d.as_nanos());
    }

    pub fn count(&self) -> u64 {
        self.h.len()
    }

    /// Exact mean in seconds (from the sum, not the buckets).
    pub fn mean_secs(&self) -> f64 {
        if self.h.is_empty() { 0.0 } else { self.sum_ns as f64 / 1e9 / self.h.len() as f64 }
    }

    /// The value at quantile q in milliseconds.
    pub fn quantile_ms(&self, q: f64) -> f64 {
        self.h.value_at_quantile(q) as f64 / 1e3
    }

    pub fn percentiles(&self) -> Percentiles {
        if self.h.is_empty() {
            return Percentiles::default();
        }
        Percentiles {
            count: self.h.len(),
            mean: round3(self.mean_secs() * 1e3),
            p50: self.quantile_ms(0.50),
            p90: self.quantile_ms(0.90),
            p99: self.quantile_ms(0.99),
            p999: self.quantile_ms(0.999),
            max: self.h.max() as f64 / 1e3,
        }
    }

    /// The underlying histogram (for CDF charts and lossless merging).
    pub fn inner(&self) -> &Histogram<u64> {
        &self.h
    }
}

/// Rounds to three decimals so JSON stays readable and stable.
pub fn round3(x: f64) -> f64 {
    (x * 1e3).round() / 1e3
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentiles_are_in_milliseconds_and_mean_is_exact() {
        let mut h = LatencyHist::default();
        for ms in 1..=100 {
            h.record(SimDuration::from_millis(ms));
        }
        let p = h.percentiles();
        assert_eq!(p.count, 100);
        assert_eq!(p.mean, 50.5);
        assert!((p.p50 - 50.0).abs() <= 0.05, "{}", p.p50);
        assert!((p.max - 100.0).abs() <= 0.1, "{}", p.max);
    }

    #[test]
    fn zero_latency_is_recorded() {
        let mut h = LatencyHist::default();
        h.record(SimDuration::ZERO);
        assert_eq!(h.count(), 1);
        assert_eq!(h.percentiles().max, 0.0);
    }
}
