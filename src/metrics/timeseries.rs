//! Per-window rows: what happened in each `window` of simulated time.
//!
//! Rows start at the end of the warmup, like every statistic. Counters (offered,
//! attempts by outcome…) are attributed to the window in which they happened;
//! pool levels (instances, queue depth, utilization) are time averages over the
//! window, from the pools' integrated gauges. Summed over the rows, every counter
//! equals the summary's total.
//!
//! Memory does not grow with the number of windows: at most
//! [`spill::IN_MEMORY`] closed rows stay in memory, older ones go to a
//! temporary file ([`Spill`]) and are read back in order by [`TimeSeries::rows`];
//! charts draw from a bounded [`Overview`].

use std::borrow::Cow;

use super::overview::Overview;
use super::spill::{self, Spill};
use crate::model::gpu::PoolGauges;
use crate::model::outcome::OUTCOME_COUNT;
use crate::time::{SimDuration, SimTime};

/// Counters for one window.
#[derive(Clone, Debug, Default, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct WindowCounts {
    pub offered: u64,
    pub succeeded: u64,
    pub failed: u64,
    /// Attempts sent in the window (by the time they were sent).
    pub sent: u64,
    /// Attempts by outcome, in the window they ended.
    pub attempts: [u64; OUTCOME_COUNT],
    /// Cache lookups by event (see `CacheCounts`).
    pub cache: [u64; 5],
}

impl WindowCounts {
    /// Adds another window's counts (disjoint requests, or the next window).
    pub fn add(&mut self, o: &WindowCounts) {
        // Named field by field: a new counter fails to compile here instead of being dropped.
        let WindowCounts { offered, succeeded, failed, sent, attempts, cache } = o;
        self.offered += offered;
        self.succeeded += succeeded;
        self.failed += failed;
        self.sent += sent;
        for (p, q) in self.attempts.iter_mut().zip(attempts) {
            *p += q;
        }
        for (p, q) in self.cache.iter_mut().zip(cache) {
            *p += q;
        }
    }

    /// Attempts that ended in the window, with an outcome (locally
    /// rejected ones were never sent): the denominator of its rates.
    pub fn attempts_ended(&self) -> u64 {
        self.attempts.iter().sum::<u64>() - self.attempts[crate::model::outcome::Outcome::LocalReject.index()]
    }
    pub fn status_503(&self) -> u64 {
        super::status_503(&self.attempts)
    }
}

/// Time-averaged levels of one pool over one window.
#[derive(Clone, Debug, Default, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct PoolLevels {
    pub ready: f64,
    pub provisioning: f64,
    pub billed: f64,
    pub queued: f64,
    pub busy_slots: f64,
    /// Busy slots / slots on ready instances; None when nothing was ready.
    pub utilization: Option<f64>,
}

/// One row of the time series.
#[derive(Clone, Debug, PartialEq)]
pub struct Row {
    pub start: SimTime,
    pub end: SimTime,
    pub counts: WindowCounts,
    pub pools: Vec<PoolLevels>,
}

/// Gauge integrals at a boundary, to difference against the next one.
#[derive(Copy, Clone, Debug, Default)]
struct Mark {
    ready: u128,
    provisioning: u128,
    billed: u128,
    queued: u128,
    busy: u128,
    serving_slots: u128,
}

impl Mark {
    fn of(g: &PoolGauges, t: SimTime) -> Mark {
        Mark {
            ready: g.ready.area_until(t),
            provisioning: g.provisioning.area_until(t),
            billed: g.billed.area_until(t),
            queued: g.queued.area_until(t),
            busy: g.busy_slots.area_until(t),
            serving_slots: g.serving_slots.area_until(t),
        }
    }
}

/// The time series under construction.
#[derive(Debug)]
pub struct TimeSeries {
    window: SimDuration,
    start: SimTime,
    marks: Vec<Mark>,
    origin: Vec<Mark>,
    current: WindowCounts,
    /// The closed rows after those in `spill`.
    rows: Vec<Row>,
    /// The oldest closed rows, once there were more than fit in memory.
    spill: Option<Spill>,
    /// No spill could be written: every row stays in memory.
    unspillable: bool,
    overview: Overview,
}

impl Clone for TimeSeries {
    fn clone(&self) -> Self {
        let mut s = self.shell();
        s.rebuild(self.rows().map(Cow::into_owned));
        s.overview = self.overview.clone();
        s
    }
}

impl TimeSeries {
    pub fn new(window: SimDuration, start: SimTime, pools: usize) -> Self {
        TimeSeries {
            window,
            start,
            marks: vec![Mark::default(); pools],
            origin: vec![Mark::default(); pools],
            current: WindowCounts::default(),
            rows: Vec::new(),
            spill: None,
            unspillable: false,
            overview: Overview::new(),
        }
    }

    /// Everything but the closed rows.
    fn shell(&self) -> TimeSeries {
        TimeSeries {
            window: self.window,
            start: self.start,
            marks: self.marks.clone(),
            origin: self.origin.clone(),
            current: self.current.clone(),
            rows: Vec::new(),
            spill: None,
            unspillable: false,
            overview: Overview::new(),
        }
    }

    /// Makes room for the rows of a series that runs until `end`, at most
    /// the rows kept in memory: growing by doubling copied them into fresh
    /// pages, a few percent of a sweep of short runs.
    pub fn reserve_until(&mut self, end: SimTime) {
        let windows = (end.saturating_since(self.start).as_nanos() / self.window.as_nanos().max(1)) as usize;
        self.rows.reserve_exact((windows + 1).min(spill::IN_MEMORY));
    }

    /// Keeps a closed row: in memory, moving the rows in memory to the spill when they fill it.
    fn keep(&mut self, row: Row) {
        self.rows.push(row);
        if self.rows.len() < spill::IN_MEMORY || self.unspillable {
            return;
        }
        if self.spill.is_none() {
            self.spill = Spill::create(self.marks.len());
        }
        let spilled = self.spill.as_mut().is_some_and(|s| s.append(&self.rows));
        if spilled {
            self.rows.clear();
        } else {
            self.unspillable = true;
        }
    }

    /// Replaces the closed rows by `rows` (stored ones: the overview learns
    /// slot-time from their utilization).
    fn rebuild(&mut self, rows: impl IntoIterator<Item = Row>) {
        self.rows.clear();
        self.spill = None;
        self.unspillable = false;
        self.overview = Overview::new();
        for row in rows {
            self.overview.push_stored(&row);
            self.keep(row);
        }
    }

    /// Counters of the window in progress.
    pub fn current(&mut self) -> &mut WindowCounts {
        &mut self.current
    }

    /// Marks the start of the first row (the end of warmup).
    pub fn begin(&mut self, t: SimTime, pools: &[&PoolGauges]) {
        self.start = t;
        for (m, g) in self.marks.iter_mut().zip(pools) {
            *m = Mark::of(g, t);
        }
        self.origin = self.marks.clone();
        self.current = WindowCounts::default();
    }

    /// Where the window in progress started.
    pub fn current_start(&self) -> SimTime {
        self.start
    }

    /// Per pool, the integrals since [`TimeSeries::begin`] until `t`, in seconds:
    /// busy slots, billed instances, serving slots (ready or draining), ready instances, provisioning, queued.
    pub fn pool_totals(&self, t: SimTime, pools: &[&PoolGauges]) -> Vec<[f64; 6]> {
        self.origin
            .iter()
            .zip(pools)
            .map(|(o, g)| {
                let n = Mark::of(g, t);
                let s = |a: u128, b: u128| (a - b) as f64 / 1e9;
                [
                    s(n.busy, o.busy),
                    s(n.billed, o.billed),
                    s(n.serving_slots, o.serving_slots),
                    s(n.ready, o.ready),
                    s(n.provisioning, o.provisioning),
                    s(n.queued, o.queued),
                ]
            })
            .collect()
    }

    /// The instant at which the window in progress ends.
    pub fn next_boundary(&self) -> SimTime {
        self.start + self.window
    }

    /// Closes the window in progress at `t`.
    pub fn close(&mut self, t: SimTime, pools: &[&PoolGauges]) {
        let span = (t - self.start).as_nanos();
        let mut slot_seconds = Vec::with_capacity(self.marks.len());
        let levels = self
            .marks
            .iter_mut()
            .zip(pools)
            .map(|(m, g)| {
                let now = Mark::of(g, t);
                let avg = |a: u128, b: u128| if span == 0 { 0.0 } else { (a - b) as f64 / span as f64 };
                let slots = now.serving_slots - m.serving_slots;
                slot_seconds.push(slots as f64 / 1e9);
                let lv = PoolLevels {
                    ready: avg(now.ready, m.ready),
                    provisioning: avg(now.provisioning, m.provisioning),
                    billed: avg(now.billed, m.billed),
                    queued: avg(now.queued, m.queued),
                    busy_slots: avg(now.busy, m.busy),
                    utilization: (slots > 0).then(|| (now.busy - m.busy) as f64 / slots as f64),
                };
                *m = now;
                lv
            })
            .collect();
        let counts = std::mem::take(&mut self.current);
        let row = Row { start: self.start, end: t, counts, pools: levels };
        self.overview.push(&row, slot_seconds);
        self.keep(row);
        self.start = t;
    }

    /// Every closed row, oldest first (spilled ones read back from disk).
    pub fn rows(&self) -> impl Iterator<Item = Cow<'_, Row>> + '_ {
        let spilled = self.spill.iter().flat_map(|s| s.rows()).map(Cow::Owned);
        spilled.chain(self.rows.iter().map(Cow::Borrowed))
    }

    /// How many rows are closed.
    pub fn len(&self) -> usize {
        self.spill.as_ref().map_or(0, Spill::len) + self.rows.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// At most [`super::overview::MAX_POINTS`] rows covering the series, for charts.
    pub fn overview(&self) -> &Overview {
        &self.overview
    }

    /// Sets every row's pool levels to nothing measured: a load run's GPUs
    /// are its target's, and the scenario's own pool model stood idle.
    pub fn clear_pool_levels(&mut self) {
        let rows: Vec<Row> =
            self.rows().map(|r| Row { pools: vec![PoolLevels::default(); r.pools.len()], ..r.into_owned() }).collect();
        self.rebuild(rows);
    }

    /// A closed series of `rows` (a stored run's).
    pub fn from_rows(window: SimDuration, start: SimTime, pools: usize, rows: Vec<Row>) -> Self {
        let mut s = TimeSeries::new(window, start, pools);
        s.start = rows.last().map_or(start, |r| r.end);
        s.rebuild(rows);
        s
    }

    /// Adds another series' counters row by row (disjoint requests over the
    /// same windows); pool levels stay this series'.
    pub fn add_rows(&mut self, other: &TimeSeries) -> Result<(), String> {
        if self.len() != other.len() || self.window != other.window {
            return Err(format!("the parts' time series differ: {} and {} windows", self.len(), other.len()));
        }
        let rows: Vec<Row> = self
            .rows()
            .zip(other.rows())
            .map(|(a, b)| {
                let mut a = a.into_owned();
                a.counts.add(&b.counts);
                a
            })
            .collect();
        self.rebuild(rows);
        Ok(())
    }

    pub fn window(&self) -> SimDuration {
        self.window
    }
}
