//! Completion percentiles over every offered request, failures included.
//!
//! `completion_ms` only sees requests that succeeded: a run in which 79% of
//! requests fail can still show a fine p99, because the failures are not in
//! the sample. An SLO such as "99% of requests complete within 30 s" needs
//! the failures in the denominator. Here every measured request that did not
//! succeed within the run — failed, or still unfinished at the end — counts as
//! never completing (+∞). So the q-percentile is finite exactly when at least
//! a share q of the offered requests succeeded, and it is then the time within
//! which that share had completed.
//!
//! Unfinished requests count as never completing because the run cannot say
//! when (or whether) they would have: a gate must not pass on evidence the
//! run does not have. With long requests and a short run this is pessimistic;
//! docs/metrics.md says how to keep the end of the run from mattering.

use serde::{Deserialize, Serialize};

use super::histogram::{LatencyHist, ns_to_ms, rank_of};

/// Percentiles in milliseconds over `count` requests of which
/// `not_completed` count as +∞ (JSON `"inf"`). A percentile is None (null)
/// when there is no request, or when it falls among completion times beyond
/// the histogram's range.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct CompletionAll {
    /// Requests counted: succeeded + failed + unfinished.
    pub count: u64,
    /// Failed or unfinished: counted as never completing.
    pub not_completed: u64,
    #[serde(with = "super::extended::option")]
    pub p50: Option<f64>,
    #[serde(with = "super::extended::option")]
    pub p90: Option<f64>,
    #[serde(with = "super::extended::option")]
    pub p99: Option<f64>,
    #[serde(with = "super::extended::option")]
    pub p999: Option<f64>,
}

impl CompletionAll {
    /// From the completion times of the requests that succeeded and the
    /// number that did not.
    pub fn new(succeeded: &LatencyHist, not_completed: u64) -> CompletionAll {
        let ok = succeeded.count();
        let count = ok + not_completed;
        let at = |q: f64| -> Option<f64> {
            if count == 0 {
                return None;
            }
            let rank = rank_of(q, count);
            if rank > ok { Some(f64::INFINITY) } else { succeeded.value_at_rank_ns(rank).map(ns_to_ms) }
        };
        CompletionAll { count, not_completed, p50: at(0.5), p90: at(0.9), p99: at(0.99), p999: at(0.999) }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::time::SimDuration;

    fn succeeded(n: u64) -> LatencyHist {
        let mut h = LatencyHist::default();
        for i in 1..=n {
            h.record(SimDuration::from_millis(i));
        }
        h
    }

    /// Within the histogram's three significant digits.
    fn near(v: Option<f64>, ms: f64) -> bool {
        v.is_some_and(|v| (v - ms).abs() <= ms * 1e-3)
    }

    #[test]
    fn failures_count_as_never_completing() {
        // 98 successes of 1..98 ms and 2 failures: p90 is the 90th request, p99 never.
        let c = CompletionAll::new(&succeeded(98), 2);
        assert_eq!((c.count, c.not_completed), (100, 2));
        assert!(near(c.p50, 50.0) && near(c.p90, 90.0), "{c:?}");
        assert_eq!(c.p99, Some(f64::INFINITY));
        assert_eq!(c.p999, Some(f64::INFINITY));
    }

    #[test]
    fn exactly_one_percent_failed_keeps_p99_finite() {
        let c = CompletionAll::new(&succeeded(99), 1);
        assert!(near(c.p99, 99.0), "the 99th of 100 requests succeeded: {c:?}");
        assert_eq!(c.p999, Some(f64::INFINITY));
    }

    #[test]
    fn without_failures_it_equals_the_success_percentiles() {
        let h = succeeded(1000);
        let (c, p) = (CompletionAll::new(&h, 0), h.percentiles());
        assert_eq!((c.p50, c.p90, c.p99, c.p999), (p.p50, p.p90, p.p99, p.p999));
    }

    #[test]
    fn no_requests_is_undefined_and_only_failures_is_infinite() {
        let none = CompletionAll::new(&LatencyHist::default(), 0);
        assert_eq!((none.p50, none.p99), (None, None));
        let all_failed = CompletionAll::new(&LatencyHist::default(), 3);
        assert_eq!(all_failed.p50, Some(f64::INFINITY));
        let json = serde_json::to_string(&all_failed).expect("json");
        assert!(json.contains(r#""p50":"inf""#), "{json}");
        assert_eq!(serde_json::from_str::<CompletionAll>(&json).expect("reads back"), all_failed);
    }
}
