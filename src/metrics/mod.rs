//! Streaming measurement of a run.
//!
//! Outcomes are recorded as they happen into counters, HdrHistograms and the
//! current time-series row; nothing per request is kept after the request ends,
//! so memory is flat in simulated time (apart from one row per window).
//!
//! What counts: a logical request is *measured* when it was offered at or after
//! the end of the warmup; all of its attempts count, whenever they happen.
//! Pool-level figures (GPU busy time, instance-seconds) cover [warmup, end].

pub mod completion_all;
pub mod consistency;
pub use crate::extended;
mod histogram;
mod joint;
mod overview;
pub mod recovery;
mod spill;
pub mod stored;
pub mod summary;
mod timeseries;
pub mod wire;

pub use completion_all::CompletionAll;
pub use histogram::{
    HIGHEST_US, HistError, LatencyHist, Percentiles, StoredHist, ns_to_ms, rank_of, resolution, round3,
};
pub use overview::{MAX_POINTS, Overview};
pub use timeseries::{PoolLevels, Row, TimeSeries, WindowCounts};

use crate::model::outcome::{OUTCOME_COUNT, Outcome};
use crate::model::proxy::CacheEvent;
use crate::time::{SimDuration, SimTime};

/// Cache lookups of one class (or of all), by what they got.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct CacheCounts {
    /// Indexed by the position of the event in [`CacheEvent::ALL`].
    pub events: [u64; 5],
    /// GPU work the hits spared the backend, in nanoseconds.
    pub saved_ns: u128,
}

impl CacheCounts {
    pub fn count(&self, e: CacheEvent) -> u64 {
        self.events[e as usize]
    }
    pub fn lookups(&self) -> u64 {
        self.events.iter().sum()
    }
    /// Answered without a backend fetch of their own.
    pub fn hits(&self) -> u64 {
        CacheEvent::ALL.iter().filter(|e| e.is_hit()).map(|e| self.count(*e)).sum()
    }
    pub fn add(&mut self, o: &CacheCounts) {
        for (a, b) in self.events.iter_mut().zip(&o.events) {
            *a += b;
        }
        self.saved_ns += o.saved_ns;
    }
}

fn merge_all<'a>(mut hists: impl Iterator<Item = &'a LatencyHist>) -> LatencyHist {
    let mut total = hists.next().cloned().unwrap_or_default();
    for h in hists {
        total.merge_from(h);
    }
    total
}

/// Request and attempt counters (for the whole run or one swarm).
#[derive(Clone, Debug, Default, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Counts {
    pub offered: u64,
    /// Attempts sent (counted when sent, so those still in flight at the
    /// end are in; the outcomes count them as they end).
    pub sent: u64,
    pub succeeded: u64,
    pub failed: u64,
    pub attempts: [u64; OUTCOME_COUNT],
    pub bulk_submitted: u64,
    pub bulk_completed: u64,
    pub bulk_failed: u64,
}

impl Counts {
    /// Attempts sent that ended: every outcome but the locally rejected
    /// ones (never sent). The rest of `sent` was in flight at the end.
    pub fn attempts_ended(&self) -> u64 {
        self.attempts.iter().sum::<u64>() - self.count(Outcome::LocalReject)
    }
    pub fn count(&self, o: Outcome) -> u64 {
        self.attempts[o.index()]
    }
    pub fn status_503(&self) -> u64 {
        status_503(&self.attempts)
    }
    /// Adds another swarm's counts to these.
    pub fn add(&mut self, o: &Counts) {
        self.offered += o.offered;
        self.sent += o.sent;
        self.succeeded += o.succeeded;
        self.failed += o.failed;
        for (a, b) in self.attempts.iter_mut().zip(&o.attempts) {
            *a += b;
        }
        self.bulk_submitted += o.bulk_submitted;
        self.bulk_completed += o.bulk_completed;
        self.bulk_failed += o.bulk_failed;
    }
}

/// The 503s among attempt counts indexed by [`Outcome::index`].
pub fn status_503(attempts: &[u64; OUTCOME_COUNT]) -> u64 {
    Outcome::ALL.iter().filter(|o| o.is_503()).map(|o| attempts[o.index()]).sum()
}

/// Per-swarm measurements.
#[derive(Clone, Debug, Default)]
pub struct SwarmMetrics {
    pub counts: Counts,
    /// Ended requests by attempts taken (index k = k attempts; the last bucket is "or more").
    pub attempts_per_request: [u64; 16],
    pub completion: LatencyHist,
    pub bulk_completion: LatencyHist,
}

/// Everything measured during one run.
#[derive(Clone, Debug)]
pub struct Recorder {
    warmup: SimTime,
    pub totals: Counts,
    pub swarms: Vec<SwarmMetrics>,
    /// Attempts that got a 200.
    pub latency_ok: LatencyHist,
    /// Attempts that did not (each attempt is recorded once; see [`Recorder::latency`]).
    pub latency_failed: LatencyHist,
    /// Time jobs spent in a backend queue before a slot (jobs starting after warmup).
    pub queue_wait: LatencyHist,
    /// From sending a request to the backend to its first response byte
    /// (what `first_byte_timeout` measures), for fetches that got one.
    pub first_byte: LatencyHist,
    /// Gaps between the chunks of streamed responses.
    pub chunk_gap: LatencyHist,
    pub wasted_ns: u128,
    pub proxy_fetches: u64,
    pub proxy_retries: u64,
    /// Per job class (grown on first use): its cache lookups.
    pub cache: Vec<CacheCounts>,
    /// Objects evicted after the warmup.
    pub evictions: u64,
    pub series: TimeSeries,
    /// Durations held to be recorded once with a completion (see [`joint`]).
    held: joint::Held,
    /// Per swarm: what its completion histogram also stands for until settled.
    owed: Vec<joint::Owed>,
}

impl Recorder {
    pub fn new(warmup: SimTime, window: SimDuration, swarms: usize, pools: usize) -> Self {
        Recorder {
            warmup,
            totals: Counts::default(),
            swarms: vec![SwarmMetrics::default(); swarms],
            latency_ok: LatencyHist::default(),
            latency_failed: LatencyHist::default(),
            queue_wait: LatencyHist::default(),
            first_byte: LatencyHist::default(),
            chunk_gap: LatencyHist::default(),
            wasted_ns: 0,
            proxy_fetches: 0,
            proxy_retries: 0,
            cache: Vec::new(),
            evictions: 0,
            series: TimeSeries::new(window, warmup, pools),
            held: joint::Held::default(),
            owed: vec![joint::Owed::default(); swarms],
        }
    }

    /// Records what was held back and adds each completion histogram to the
    /// histograms it stood for: call once recording is over, before reading.
    pub fn settle(&mut self) {
        joint::flush(&mut self.held, &mut self.latency_ok, &mut self.first_byte);
        for s in 0..self.swarms.len() {
            self.joint(s).lower(joint::Owed::Nothing);
        }
    }

    fn joint(&mut self, swarm: usize) -> joint::Targets<'_> {
        joint::Targets {
            latency_ok: &mut self.latency_ok,
            first_byte: &mut self.first_byte,
            completion: &mut self.swarms[swarm].completion,
            owed: &mut self.owed[swarm],
        }
    }

    /// Every attempt, whatever its outcome.
    pub fn latency(&self) -> LatencyHist {
        LatencyHist::merged(&self.latency_ok, &self.latency_failed)
    }

    /// Request completion time (first send to final success, retries
    /// included) over all swarms. Kept per swarm only, so each request is
    /// recorded once; the total is their merge.
    pub fn completion(&self) -> LatencyHist {
        merge_all(self.swarms.iter().map(|s| &s.completion))
    }

    /// Request completion time over the swarms `swarms` (indices).
    pub fn completion_of(&self, swarms: &[usize]) -> LatencyHist {
        merge_all(swarms.iter().map(|&i| &self.swarms[i].completion))
    }

    /// Bulk job completion time over all swarms (merged as [`Recorder::completion`]).
    pub fn bulk_completion(&self) -> LatencyHist {
        merge_all(self.swarms.iter().map(|s| &s.bulk_completion))
    }

    pub fn warmup(&self) -> SimTime {
        self.warmup
    }

    pub fn is_measured(&self, offered_at: SimTime) -> bool {
        offered_at >= self.warmup
    }

    pub fn offered(&mut self, swarm: usize, measured: bool) {
        if measured {
            self.totals.offered += 1;
            self.swarms[swarm].counts.offered += 1;
            self.series.current().offered += 1;
        }
    }

    /// An attempt was sent.
    #[inline(always)]
    pub fn attempt_sent(&mut self, swarm: usize, measured: bool) {
        if measured {
            self.totals.sent += 1;
            self.swarms[swarm].counts.sent += 1;
            self.series.current().sent += 1;
        }
    }

    #[inline(always)]
    pub fn attempt(&mut self, swarm: usize, measured: bool, outcome: Outcome, latency: SimDuration) {
        if !measured {
            return;
        }
        let i = outcome.index();
        self.totals.attempts[i] += 1;
        self.swarms[swarm].counts.attempts[i] += 1;
        self.series.current().attempts[i] += 1;
        // Never sent, or cut short by the client: no latency of the server's.
        if matches!(outcome, Outcome::LocalReject | Outcome::Cancelled) {
            return;
        }
        if outcome == Outcome::Ok {
            // Held for the completion it may match; a first byte it does not match is not.
            if let Some(d) = self.held.ok.replace(latency) {
                self.latency_ok.record(d);
            }
            if let Some(d) = self.held.first_byte.take_if(|d| *d != latency) {
                self.first_byte.record(d);
            }
        } else {
            self.latency_failed.record(latency);
        }
    }

    /// A logical request ended. `completion` is first send to now.
    #[inline(always)]
    pub fn request_done(
        &mut self,
        swarm: usize,
        measured: bool,
        succeeded: bool,
        attempts: u32,
        completion: SimDuration,
    ) {
        if !measured {
            return;
        }
        let s = &mut self.swarms[swarm];
        let bucket = (attempts as usize).min(s.attempts_per_request.len() - 1);
        s.attempts_per_request[bucket] += 1;
        if succeeded {
            self.totals.succeeded += 1;
            s.counts.succeeded += 1;
            self.series.current().succeeded += 1;
            let held = std::mem::take(&mut self.held);
            self.joint(swarm).complete(held, completion);
        } else {
            self.totals.failed += 1;
            s.counts.failed += 1;
            self.series.current().failed += 1;
            joint::flush(&mut self.held, &mut self.latency_ok, &mut self.first_byte);
        }
    }

    pub fn bulk_submitted(&mut self, swarm: usize, measured: bool) {
        if measured {
            self.totals.bulk_submitted += 1;
            self.swarms[swarm].counts.bulk_submitted += 1;
        }
    }

    pub fn bulk_done(&mut self, swarm: usize, measured: bool, succeeded: bool, completion: SimDuration) {
        if !measured {
            return;
        }
        let s = &mut self.swarms[swarm];
        if succeeded {
            self.totals.bulk_completed += 1;
            s.counts.bulk_completed += 1;
            s.bulk_completion.record(completion);
        } else {
            self.totals.bulk_failed += 1;
            s.counts.bulk_failed += 1;
        }
    }

    /// A job left a backend queue for a slot at `now` after waiting `waited`.
    pub fn queue_wait(&mut self, now: SimTime, waited: SimDuration) {
        if now >= self.warmup {
            self.queue_wait.record(waited);
        }
    }

    pub fn first_byte(&mut self, measured: bool, d: SimDuration) {
        if measured {
            joint::flush(&mut self.held, &mut self.latency_ok, &mut self.first_byte);
            self.held.first_byte = Some(d);
        }
    }

    pub fn chunk_gap(&mut self, measured: bool, d: SimDuration) {
        if measured {
            self.chunk_gap.record(d);
        }
    }

    /// GPU slot time from `start` to `end` produced a result nobody received.
    pub fn wasted(&mut self, start: SimTime, end: SimTime) {
        let from = start.max(self.warmup);
        if end > from {
            self.wasted_ns += u128::from((end - from).as_nanos());
        }
    }

    /// A cached class's request was looked up.
    pub fn cache(&mut self, class: usize, measured: bool, event: CacheEvent, saved: SimDuration) {
        if !measured {
            return;
        }
        if self.cache.len() <= class {
            self.cache.resize(class + 1, CacheCounts::default());
        }
        let c = &mut self.cache[class];
        c.events[event as usize] += 1;
        c.saved_ns += u128::from(saved.as_nanos());
        self.series.current().cache[event as usize] += 1;
    }

    /// Objects evicted at `now`.
    pub fn evicted(&mut self, now: SimTime, n: u64) {
        if now >= self.warmup {
            self.evictions += n;
        }
    }

    /// A backend fetch started (`retry` when VCL retried a failed one).
    pub fn fetch(&mut self, measured: bool, retry: bool) {
        if measured {
            self.proxy_fetches += 1;
            if retry {
                self.proxy_retries += 1;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scenario::limits;

    /// The scenario's memory limits are sized with these numbers; it cannot
    /// measure the recorder's types itself (it sits below them), so they are
    /// checked here.
    #[test]
    fn the_limits_use_the_recorders_real_sizes() {
        let h = LatencyHist::default().histogram();
        assert_eq!(h.high(), limits::HISTOGRAM_HIGHEST_US, "histogram range");
        assert_eq!(h.distinct_values() as u64 * 8, limits::HISTOGRAM_BYTES, "histogram counts");
        // A row, and a pool's part of it.
        let sizes = (size_of::<Row>() as u64, size_of::<PoolLevels>() as u64);
        assert_eq!(sizes, (limits::ROW_BYTES, limits::POOL_ROW_BYTES), "time-series rows");
    }
}
