//! A run's measurements in a portable, mergeable form: what a `load --shard`
//! part file holds, and how parts add up.
//!
//! Shards of one load send disjoint requests (src/model/client/shard.rs), so
//! their measurements add: counters sum, histograms merge without loss
//! (HdrHistogram), time-series rows sum window by window, and the summary of
//! the whole is built from the merged recorder by the same code as any run's
//! ([`super::summary::Summary::build`]).

use serde::{Deserialize, Serialize};

use super::timeseries::{PoolLevels, Row, TimeSeries, WindowCounts};
use super::{Counts, HistError, LatencyHist, Recorder, StoredHist, SwarmMetrics};
use crate::time::{SimDuration, SimTime};

/// One swarm's measurements.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct StoredSwarm {
    pub counts: Counts,
    pub attempts_per_request: Vec<u64>,
    pub completion: StoredHist,
    pub bulk_completion: StoredHist,
}

/// One time-series row (pool levels as the shard saw them).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct StoredRow {
    pub start_ns: u64,
    pub end_ns: u64,
    pub counts: WindowCounts,
    pub pools: Vec<PoolLevels>,
}

/// A [`Recorder`], portable.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct StoredRecorder {
    pub warmup_ns: u64,
    pub window_ns: u64,
    pub totals: Counts,
    pub swarms: Vec<StoredSwarm>,
    pub latency_ok: StoredHist,
    pub latency_failed: StoredHist,
    pub queue_wait: StoredHist,
    pub first_byte: StoredHist,
    pub chunk_gap: StoredHist,
    /// Nanoseconds, as text: JSON numbers stop at 2⁵³.
    pub wasted_ns: String,
    pub proxy_fetches: u64,
    pub proxy_retries: u64,
    pub rows: Vec<StoredRow>,
}

/// Why stored measurements do not load or add up.
#[derive(Debug, thiserror::Error)]
pub enum StoredError {
    #[error("a histogram does not decode: {0}")]
    Hist(#[from] HistError),
    #[error("{0}")]
    Shape(String),
}

impl StoredRecorder {
    pub fn new(r: &Recorder) -> Self {
        StoredRecorder {
            warmup_ns: r.warmup().as_nanos(),
            window_ns: r.series.window().as_nanos(),
            totals: r.totals.clone(),
            swarms: r
                .swarms
                .iter()
                .map(|s| StoredSwarm {
                    counts: s.counts.clone(),
                    attempts_per_request: s.attempts_per_request.to_vec(),
                    completion: s.completion.to_stored(),
                    bulk_completion: s.bulk_completion.to_stored(),
                })
                .collect(),
            latency_ok: r.latency_ok.to_stored(),
            latency_failed: r.latency_failed.to_stored(),
            queue_wait: r.queue_wait.to_stored(),
            first_byte: r.first_byte.to_stored(),
            chunk_gap: r.chunk_gap.to_stored(),
            wasted_ns: r.wasted_ns.to_string(),
            proxy_fetches: r.proxy_fetches,
            proxy_retries: r.proxy_retries,
            rows: r
                .series
                .rows()
                .map(|row| StoredRow {
                    start_ns: row.start.as_nanos(),
                    end_ns: row.end.as_nanos(),
                    counts: row.counts.clone(),
                    pools: row.pools.clone(),
                })
                .collect(),
        }
    }

    /// The recorder again; `pools` is the scenario's pool count.
    pub fn load(&self, pools: usize) -> Result<Recorder, StoredError> {
        let window = SimDuration::from_nanos(self.window_ns);
        if window == SimDuration::ZERO {
            return Err(StoredError::Shape("a window of zero".into()));
        }
        let warmup = SimTime::from_nanos(self.warmup_ns);
        let mut r = Recorder::new(warmup, window, self.swarms.len(), pools);
        r.totals = self.totals.clone();
        for (m, s) in r.swarms.iter_mut().zip(&self.swarms) {
            if s.attempts_per_request.len() != m.attempts_per_request.len() {
                return Err(StoredError::Shape("attempts_per_request has the wrong length".into()));
            }
            *m = SwarmMetrics {
                counts: s.counts.clone(),
                attempts_per_request: m.attempts_per_request,
                completion: LatencyHist::from_stored(&s.completion)?,
                bulk_completion: LatencyHist::from_stored(&s.bulk_completion)?,
            };
            m.attempts_per_request.copy_from_slice(&s.attempts_per_request);
        }
        r.latency_ok = LatencyHist::from_stored(&self.latency_ok)?;
        r.latency_failed = LatencyHist::from_stored(&self.latency_failed)?;
        r.queue_wait = LatencyHist::from_stored(&self.queue_wait)?;
        r.first_byte = LatencyHist::from_stored(&self.first_byte)?;
        r.chunk_gap = LatencyHist::from_stored(&self.chunk_gap)?;
        r.wasted_ns = self.wasted_ns.parse().map_err(|_| StoredError::Shape("wasted_ns is not a number".into()))?;
        r.proxy_fetches = self.proxy_fetches;
        r.proxy_retries = self.proxy_retries;
        let rows = self.rows.iter().map(|s| Row {
            start: SimTime::from_nanos(s.start_ns),
            end: SimTime::from_nanos(s.end_ns),
            counts: s.counts.clone(),
            pools: s.pools.clone(),
        });
        r.series = TimeSeries::from_rows(window, warmup, pools, rows.collect());
        Ok(r)
    }
}

/// Adds `other`'s measurements to `into` (disjoint requests of the same
/// scenario: same swarms, warmup and windows).
pub fn add(into: &mut Recorder, other: &Recorder) -> Result<(), StoredError> {
    if into.swarms.len() != other.swarms.len() || into.warmup() != other.warmup() {
        return Err(StoredError::Shape("the parts have different swarms or warmups".into()));
    }
    into.totals.add(&other.totals);
    for (a, b) in into.swarms.iter_mut().zip(&other.swarms) {
        a.counts.add(&b.counts);
        for (x, y) in a.attempts_per_request.iter_mut().zip(&b.attempts_per_request) {
            *x += y;
        }
        a.completion.try_merge_from(&b.completion)?;
        a.bulk_completion.try_merge_from(&b.bulk_completion)?;
    }
    into.latency_ok.try_merge_from(&other.latency_ok)?;
    into.latency_failed.try_merge_from(&other.latency_failed)?;
    into.queue_wait.try_merge_from(&other.queue_wait)?;
    into.first_byte.try_merge_from(&other.first_byte)?;
    into.chunk_gap.try_merge_from(&other.chunk_gap)?;
    into.wasted_ns += other.wasted_ns;
    into.proxy_fetches += other.proxy_fetches;
    into.proxy_retries += other.proxy_retries;
    into.series.add_rows(&other.series).map_err(StoredError::Shape)
}
