//! The run's books, shared by every engine: where the models' observations
//! go (the recorder and the trace), the time series' window boundaries, and
//! closing the books into a [`Run`] at the end.
//!
//! An engine only says what time it is; what is counted, and when a window
//! closes, is the same whether time is simulated or real.

use crate::metrics::Recorder;
use crate::metrics::summary::{EndState, EngineStats, Summary};
use crate::model::backend::Backend;
use crate::model::client::Clients;
use crate::model::context::{Observe, RequestId, Trace};
use crate::model::outcome::Outcome;
use crate::model::proxy::CacheEvent;
use crate::scenario::Scenario;
use crate::time::{SimDuration, SimTime};

use super::{HighWater, Run};

/// Where the models' observations go: the run's measurements and the trace.
pub(crate) struct Observers<'t, T: Trace> {
    pub rec: Recorder,
    trace: &'t mut T,
    series_started: bool,
    /// The next instant at which the time series has work to do (warmup end,
    /// then each window boundary): one comparison per event instead of a call.
    series_mark: SimTime,
}

impl<'t, T: Trace> Observers<'t, T> {
    pub fn new(sc: &Scenario, trace: &'t mut T) -> Self {
        let warmup = SimTime::ZERO + sc.warmup;
        let mut rec = Recorder::new(warmup, sc.window, sc.swarms.len(), sc.pools.len());
        rec.series.reserve_until(sc.end());
        Observers { rec, trace, series_started: false, series_mark: warmup }
    }

    /// Closes every time-series window that ends at or before `t`; call before
    /// handling anything that happens at `t`.
    #[inline(always)]
    pub fn advance(&mut self, t: SimTime, backend: &Backend<'_>) {
        if t >= self.series_mark {
            self.advance_series(t, backend);
        }
    }

    fn advance_series(&mut self, t: SimTime, backend: &Backend<'_>) {
        let warmup = self.rec.warmup();
        let rec = &mut self.rec;
        if !self.series_started {
            if t < warmup {
                return;
            }
            let gauges: Vec<_> = backend.pools.iter().map(|p| &p.gauges).collect();
            rec.series.begin(warmup, &gauges);
            self.series_started = true;
        }
        while rec.series.next_boundary() <= t {
            let b = rec.series.next_boundary();
            let gauges: Vec<_> = backend.pools.iter().map(|p| &p.gauges).collect();
            rec.series.close(b, &gauges);
        }
        self.series_mark = rec.series.next_boundary();
    }

    /// Closes the time series at `end`: the last windows (the last may be
    /// shorter than the others) and each pool's totals.
    pub fn end_series(&mut self, end: SimTime, backend: &Backend<'_>) -> Vec<[f64; 6]> {
        self.advance_series(end, backend);
        let gauges: Vec<_> = backend.pools.iter().map(|p| &p.gauges).collect();
        if self.rec.series.current_start() < end {
            self.rec.series.close(end, &gauges);
        }
        self.rec.series.pool_totals(end, &gauges)
    }

    /// The run's result, once the series is closed and the models have
    /// finished (work still running at the end counted as wasted).
    pub fn into_run(mut self, sc: &Scenario, seed: u64, end: SimTime, ended: Ended<'_, '_>) -> Run {
        self.rec.settle();
        let warmup = self.rec.warmup();
        let state = EndState {
            unfinished: ended.clients.unfinished(),
            bulk_unfinished: ended.clients.bulk_unfinished(),
            pool_areas: ended.pool_areas,
            measured_seconds: (end - warmup).as_secs_f64(),
            engine: ended.engine,
        };
        let summary = Summary::build(sc, seed, &self.rec, &state);
        Run { summary, recorder: self.rec, high_water: ended.high_water, wire: None, failure: None }
    }
}

/// What an engine hands over when it closes the books.
pub(crate) struct Ended<'c, 'a> {
    pub clients: &'c Clients<'a>,
    pub pool_areas: Vec<[f64; 6]>,
    pub engine: EngineStats,
    pub high_water: HighWater,
}

impl EngineStats {
    /// What an engine did in `wall_seconds`.
    pub fn new(events: u64, wall_seconds: f64) -> Self {
        EngineStats {
            events,
            wall_seconds,
            events_per_second: if wall_seconds > 0.0 { (events as f64 / wall_seconds).round() } else { 0.0 },
            live_time_scale: None,
            timer_lag_ms: None,
            interrupted: false,
            wire: None,
        }
    }

    /// A live run whose machine did not keep up with its time scale: why,
    /// in a sentence. Behind means a p99 lateness (of timers, or of `load`'s
    /// sends) of at least `BEHIND_SIMULATED_MS` (1 s) of simulated time and
    /// `BEHIND_REAL_MS` (10 ms) of real time, five times what a machine that keeps
    /// up shows (about 2 ms real on loopback): later than that, timeouts,
    /// probes and arrivals no longer happen when the scenario says.
    pub fn fell_behind(&self) -> Option<String> {
        let scale = self.live_time_scale?;
        let (what, p99_real_ms) = match (&self.wire, &self.timer_lag_ms) {
            (Some(w), _) => ("sends went out", w.send_lag_ms.p99?),
            (None, Some(l)) => ("timers ran", l.p99? / scale),
            (None, None) => return None,
        };
        let p99_sim_ms = p99_real_ms * scale;
        (p99_sim_ms >= BEHIND_SIMULATED_MS && p99_real_ms >= BEHIND_REAL_MS).then(|| {
            // A quarter of the scale, down to a round 1, 2 or 5 × 10^k.
            let quarter = (scale / 4.0).max(crate::time::MIN_TIME_SCALE);
            let decade = 10f64.powf(quarter.log10().floor());
            let lower = [5.0, 2.0, 1.0].into_iter().map(|m| m * decade).find(|&v| v <= quarter).unwrap_or(decade);
            format!(
                "this machine did not keep up with time scale {scale}: {what} p99 {} late ({} of simulated time), \
                 so the results describe the machine more than the scenario; try --time-scale {} or lower",
                crate::time::format_secs(p99_real_ms / 1000.0),
                crate::time::format_secs(p99_sim_ms / 1000.0),
                lower,
            )
        })
    }
}

/// See [`EngineStats::fell_behind`].
pub const BEHIND_SIMULATED_MS: f64 = 1000.0;
pub const BEHIND_REAL_MS: f64 = 10.0;

impl<T: Trace> Observe for Observers<'_, T> {
    #[inline(always)]
    fn is_measured(&self, offered_at: SimTime) -> bool {
        self.rec.is_measured(offered_at)
    }
    #[inline(always)]
    fn offered(&mut self, id: RequestId, measured: bool, class: usize, work: SimDuration, now: SimTime) {
        self.rec.offered(id.swarm, measured);
        self.trace.offered(id, now, class, work);
    }
    #[inline(always)]
    fn attempt_sent(&mut self, id: RequestId, measured: bool, attempt: u32, now: SimTime) {
        self.rec.attempt_sent(id.swarm, measured);
        self.trace.attempt_sent(id, attempt, now);
    }
    #[inline(always)]
    fn attempt(&mut self, swarm: usize, measured: bool, outcome: Outcome, latency: SimDuration) {
        self.rec.attempt(swarm, measured, outcome, latency);
    }
    #[inline(always)]
    fn request_done(&mut self, swarm: usize, measured: bool, succeeded: bool, attempts: u32, completion: SimDuration) {
        self.rec.request_done(swarm, measured, succeeded, attempts, completion);
    }
    #[inline(always)]
    fn bulk_submitted(&mut self, swarm: usize, measured: bool) {
        self.rec.bulk_submitted(swarm, measured);
    }
    #[inline(always)]
    fn bulk_done(&mut self, swarm: usize, measured: bool, succeeded: bool, completion: SimDuration) {
        self.rec.bulk_done(swarm, measured, succeeded, completion);
    }
    #[inline(always)]
    fn fetch(&mut self, measured: bool, retry: bool) {
        self.rec.fetch(measured, retry);
    }
    #[inline(always)]
    fn cache(&mut self, class: usize, measured: bool, event: CacheEvent, saved: SimDuration) {
        self.rec.cache(class, measured, event, saved);
    }
    #[inline(always)]
    fn evicted(&mut self, now: SimTime, n: u64) {
        self.rec.evicted(now, n);
    }
    #[inline(always)]
    fn first_byte(&mut self, measured: bool, d: SimDuration) {
        self.rec.first_byte(measured, d);
    }
    #[inline(always)]
    fn chunk_gap(&mut self, measured: bool, d: SimDuration) {
        self.rec.chunk_gap(measured, d);
    }
    #[inline(always)]
    fn job_started(&mut self, pool: usize, instance: u64, now: SimTime, waited: SimDuration) {
        self.rec.queue_wait(now, waited);
        self.trace.job_started(pool, instance, now);
    }
    #[inline(always)]
    fn wasted(&mut self, start: SimTime, end: SimTime) {
        self.rec.wasted(start, end);
    }
    #[inline(always)]
    fn instance_added(&mut self, pool: usize, instance: u64, at: SimTime, ready_at: SimTime) {
        self.trace.instance_added(pool, instance, at, ready_at);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::metrics::Percentiles;

    fn live(scale: f64, p99_sim_ms: f64) -> EngineStats {
        let lag = Percentiles { count: 100, p99: Some(p99_sim_ms), ..Percentiles::default() };
        EngineStats { live_time_scale: Some(scale), timer_lag_ms: Some(lag), ..EngineStats::new(1, 1.0) }
    }

    #[test]
    fn a_live_run_fell_behind_when_its_timers_ran_late_in_both_clocks() {
        // Kept up: about 2 ms real, whatever the scale.
        assert_eq!(live(300.0, 600.0).fell_behind(), None);
        assert_eq!(live(1000.0, 1900.0).fell_behind(), None, "1.9 ms real is the clock's resolution");
        // 10 ms real but under a simulated second: harmless beside seconds of service.
        assert_eq!(live(1.0, 50.0).fell_behind(), None);
        let why = live(1000.0, 744_000.0).fell_behind().expect("behind");
        assert!(why.contains("timers ran p99 744ms late (12m24s of simulated time)"), "{why}");
        assert!(why.ends_with("try --time-scale 200 or lower"), "{why}");
        assert!(live(40.0, 4000.0).fell_behind().expect("behind").ends_with("--time-scale 10 or lower"));
        assert_eq!(EngineStats::new(1, 1.0).fell_behind(), None, "a simulated run");
    }
}
