//! Recovery detection: after each chaos trigger and traffic surge, did the
//! service come back, and when?
//!
//! A metastable failure outlives its trigger: the retries it caused keep the
//! backend overloaded after the stall or the surge is gone. Whole-run averages
//! mix the healthy time before with the stuck time after, so each trigger is
//! judged on its own, from the time series:
//!
//! * a window's *success share* is the share of the requests that ended in
//!   it (succeeded or failed for good) that succeeded — not of those offered
//!   in it, which at the end of a run have not had time to finish;
//! * the *baseline* is that share over the measured windows before the
//!   trigger started;
//! * the *post period* runs from the trigger's end to the next trigger's start
//!   (or the end of the run);
//! * the service *recovered* at the first window of the post period from which
//!   every window's success share is at least `RECOVERED_SHARE` of the
//!   baseline until the post period ends (a window where requests were
//!   offered but none ended is not recovered); the recovery time is that
//!   window's start minus the trigger's end, so it is resolved to one `window`.
//!
//! Over the post period it also reports the success rate, the amplification
//! (attempts sent per offered request) and the rates of attempts and goodput.

use serde::{Deserialize, Serialize};

use std::borrow::Borrow;

use super::timeseries::Row;
use crate::time::SimTime;

/// A window counts as recovered when its success share is at least this
/// fraction of the baseline's.
pub const RECOVERED_SHARE: f64 = 0.9;

/// What happened after one trigger.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Recovery {
    /// The chaos event or surge, as charts label it.
    pub trigger: String,
    pub start_s: f64,
    pub end_s: f64,
    /// Succeeded / ended requests before the trigger (None without a measured window before it).
    pub baseline_success_rate: Option<f64>,
    /// None when it could not be judged (no baseline, or no window after the trigger).
    pub recovered: Option<bool>,
    /// Seconds from the trigger's end to the first window of lasting recovery.
    pub recovery_s: Option<f64>,
    pub post_success_rate: Option<f64>,
    pub post_amplification: Option<f64>,
    pub post_attempts_per_s: Option<f64>,
    pub post_goodput: Option<f64>,
    /// Windows in the post period (0 in summaries written before it was kept).
    #[serde(default)]
    pub post_windows: u32,
}

/// A failure that outlives its trigger is called metastable only when the
/// post period had at least this many windows: one or two windows after a
/// trigger may just be its backlog draining.
pub const METASTABLE_MIN_WINDOWS: u32 = 3;

impl Recovery {
    /// Did not recover, with more than 1.5 attempts per request still sent,
    /// over a post period long enough to tell a storm from a drain.
    pub fn metastable(&self) -> bool {
        self.recovered == Some(false)
            && self.post_windows >= METASTABLE_MIN_WINDOWS
            && self.post_amplification.is_some_and(|a| a > 1.5)
    }
}

fn secs(t: SimTime) -> f64 {
    (t - SimTime::ZERO).as_secs_f64()
}

fn r6(x: f64) -> f64 {
    (x * 1e6).round() / 1e6
}

fn share(a: u64, b: u64) -> Option<f64> {
    (b > 0).then(|| r6(a as f64 / b as f64))
}

/// Judges every trigger (start, end, label), sorted by start, against `rows`
/// (in time order), in one pass: the rows may come from disk.
pub fn detect<R: Borrow<Row>>(
    rows: impl IntoIterator<Item = R>,
    triggers: &[(SimTime, SimTime, String)],
    run_end: SimTime,
) -> Vec<Recovery> {
    let mut judges: Vec<Judge> = triggers
        .iter()
        .enumerate()
        .map(|(i, (start, end, label))| {
            let next = triggers.get(i + 1).map_or(run_end, |t| t.0.max(*end));
            Judge::new(*start, *end, next, label)
        })
        .collect();
    for row in rows {
        judges.iter_mut().for_each(|j| j.see(row.borrow()));
    }
    judges.into_iter().map(Judge::verdict).collect()
}

/// One trigger's judgement, fed the rows one by one: the windows before the
/// trigger (the baseline) all come before those of its post period.
struct Judge {
    start: SimTime,
    end: SimTime,
    next: SimTime,
    label: String,
    /// Succeeded and ended requests before the trigger.
    before: (u64, u64),
    /// Over the post period: succeeded, ended, offered, attempts sent.
    post: (u64, u64, u64, u64),
    post_windows: u32,
    /// The post period's first start and last end.
    post_span: Option<(SimTime, SimTime)>,
    /// The start of the first window after the last one that was not good
    /// (None while the last window seen was not good).
    good_since: Option<SimTime>,
}

fn ended(w: &Row) -> u64 {
    w.counts.succeeded + w.counts.failed
}

impl Judge {
    fn new(start: SimTime, end: SimTime, next: SimTime, label: &str) -> Self {
        Judge {
            start,
            end,
            next,
            label: label.to_string(),
            before: (0, 0),
            post: (0, 0, 0, 0),
            post_windows: 0,
            post_span: None,
            good_since: None,
        }
    }

    fn see(&mut self, w: &Row) {
        if w.end <= self.start {
            self.before = (self.before.0 + w.counts.succeeded, self.before.1 + ended(w));
        }
        if w.start < self.end || w.start >= self.next {
            return;
        }
        let (a, b, c, d) = self.post;
        self.post = (a + w.counts.succeeded, b + ended(w), c + w.counts.offered, d + w.counts.sent);
        self.post_windows += 1;
        let first = self.post_span.map_or(w.start, |s| s.0);
        self.post_span = Some((first, w.end));
        // The baseline is complete: its windows ended before the trigger started.
        let good = match (share(self.before.0, self.before.1), ended(w)) {
            (None, _) => true,
            (Some(_), 0) => w.counts.offered == 0,
            (Some(base), n) => w.counts.succeeded as f64 >= RECOVERED_SHARE * base * n as f64,
        };
        self.good_since = if good { Some(self.good_since.unwrap_or(w.start)) } else { None };
    }

    fn verdict(self) -> Recovery {
        let mut r =
            Recovery { trigger: self.label, start_s: secs(self.start), end_s: secs(self.end), ..Recovery::default() };
        r.baseline_success_rate = share(self.before.0, self.before.1);
        r.post_windows = self.post_windows;
        let Some((first, last)) = self.post_span else { return r };
        let (ok, done, offered, sent) = self.post;
        let span = (last - first).as_secs_f64();
        r.post_success_rate = share(ok, done);
        r.post_amplification = share(sent, offered);
        r.post_attempts_per_s = (span > 0.0).then(|| r6(sent as f64 / span));
        r.post_goodput = (span > 0.0).then(|| r6(ok as f64 / span));
        if r.baseline_success_rate.is_none() {
            return r;
        }
        r.recovered = Some(self.good_since.is_some());
        r.recovery_s = self.good_since.map(|t| r6((t - self.end).as_secs_f64()));
        r
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::metrics::timeseries::WindowCounts;
    use crate::model::outcome::Outcome;
    use crate::time::SimDuration;

    fn rows(per_window: &[(u64, u64, u64)]) -> Vec<Row> {
        per_window
            .iter()
            .enumerate()
            .map(|(i, &(offered, succeeded, sent))| {
                let failed = offered - succeeded;
                let mut counts = WindowCounts { offered, succeeded, failed, sent, ..WindowCounts::default() };
                counts.attempts[Outcome::Ok.index()] = sent;
                let t = |k: u64| SimTime::ZERO + SimDuration::from_secs(10 * k);
                Row { start: t(i as u64), end: t(i as u64 + 1), counts, pools: Vec::new() }
            })
            .collect()
    }

    fn at(s: u64) -> SimTime {
        SimTime::ZERO + SimDuration::from_secs(s)
    }

    #[test]
    fn a_service_that_comes_back_recovers_at_the_first_lasting_good_window() {
        // Healthy, the trigger in [20, 30), one bad window, a good one, a bad one, then good.
        let r = rows(&[
            (100, 100, 100),
            (100, 100, 100),
            (100, 0, 200),
            (100, 10, 200),
            (100, 95, 105),
            (100, 50, 150),
            (100, 99, 100),
            (100, 100, 100),
        ]);
        let v = detect(&r, &[(at(20), at(30), "stall".into())], at(80));
        let x = &v[0];
        assert_eq!(x.baseline_success_rate, Some(1.0));
        assert_eq!((x.recovered, x.recovery_s), (Some(true), Some(30.0)), "the good window at 40 s did not last");
        assert_eq!(x.post_success_rate, Some(r6(354.0 / 500.0)));
        assert_eq!(x.post_amplification, Some(1.31));
    }

    #[test]
    fn a_stuck_service_did_not_recover_and_shows_its_amplification() {
        let r = rows(&[(100, 100, 100), (100, 0, 200), (100, 1, 200), (100, 0, 200)]);
        let x = &detect(&r, &[(at(10), at(20), "stall".into())], at(40))[0];
        assert_eq!((x.recovered, x.recovery_s), (Some(false), None));
        assert_eq!((x.post_amplification, x.post_attempts_per_s, x.post_goodput), (Some(2.0), Some(20.0), Some(0.05)));
        assert!(!x.metastable(), "two windows after the trigger cannot tell a storm from a drain");
        let r = rows(&[(100, 100, 100), (100, 0, 200), (100, 1, 200), (100, 0, 200), (100, 2, 200)]);
        let x = &detect(&r, &[(at(10), at(20), "stall".into())], at(50))[0];
        assert_eq!((x.recovered, x.post_windows), (Some(false), 3));
        assert!(x.metastable());
    }

    #[test]
    fn without_a_window_before_the_trigger_recovery_is_undefined() {
        let r = rows(&[(100, 0, 200), (100, 100, 100)]);
        let x = &detect(&r, &[(at(0), at(10), "stall".into())], at(20))[0];
        assert_eq!((x.recovered, x.recovery_s, x.post_success_rate), (None, None, Some(1.0)));
    }

    #[test]
    fn requests_still_in_flight_at_the_end_do_not_count_against_recovery() {
        // The last window offers 100 but only 40 ended (all of them well).
        let mut r = rows(&[(100, 100, 100), (100, 0, 200), (100, 100, 100), (100, 40, 100)]);
        r[3].counts.failed = 0;
        let x = &detect(&r, &[(at(10), at(20), "stall".into())], at(40))[0];
        assert_eq!((x.recovered, x.recovery_s, x.post_success_rate), (Some(true), Some(0.0), Some(1.0)));
    }
}
