//! A circuit breaker: closed → open → half-open → closed.
//!
//! Closed, it counts attempt outcomes over a sampling window; once at least
//! `min_throughput` attempts ended there and the failed share reaches
//! `failure_ratio`, it opens: every attempt is rejected locally for
//! `break_duration`. Then it lets `half_open_calls` trial attempts through;
//! one failure reopens it, all of them succeeding closes it with a fresh
//! window. Defaults are Polly v8's (failure ratio 0.1, minimum throughput 100,
//! sampling 30 s, break 5 s, one trial); resilience4j's are 50%, 100 calls,
//! 60 s open, 10 trials.

use super::adaptive::is_accept;
use super::window::Rolling;
use crate::model::outcome::Outcome;
use crate::time::{SimDuration, SimTime};

/// A breaker's settings.
#[derive(Clone, Debug, PartialEq)]
pub struct BreakerConfig {
    pub failure_ratio: f64,
    pub min_throughput: u32,
    pub sampling: SimDuration,
    pub break_duration: SimDuration,
    pub half_open_calls: u32,
}

impl Default for BreakerConfig {
    fn default() -> Self {
        BreakerConfig {
            failure_ratio: 0.1,
            min_throughput: 100,
            sampling: SimDuration::from_secs(30),
            break_duration: SimDuration::from_secs(5),
            half_open_calls: 1,
        }
    }
}

/// Where the breaker stands.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum BreakerState {
    Closed,
    Open {
        until: SimTime,
    },
    /// `sent` trials let through so far, `passed` of them succeeded.
    HalfOpen {
        sent: u32,
        passed: u32,
    },
}

const TOTAL: usize = 0;
const FAILED: usize = 1;

#[derive(Clone, Debug, PartialEq)]
pub struct CircuitBreaker {
    cfg: BreakerConfig,
    state: BreakerState,
    window: Rolling<2>,
}

impl CircuitBreaker {
    pub fn new(cfg: &BreakerConfig) -> Self {
        CircuitBreaker { cfg: cfg.clone(), state: BreakerState::Closed, window: Rolling::new(cfg.sampling) }
    }

    #[cfg(test)]
    pub fn state(&self) -> BreakerState {
        self.state
    }

    /// Whether an attempt may be sent now (a half-open trial is counted).
    pub fn admit(&mut self, now: SimTime) -> bool {
        if let BreakerState::Open { until } = self.state
            && now >= until
        {
            self.state = BreakerState::HalfOpen { sent: 0, passed: 0 };
        }
        match &mut self.state {
            BreakerState::Closed => true,
            BreakerState::Open { .. } => false,
            BreakerState::HalfOpen { sent, .. } if *sent < self.cfg.half_open_calls => {
                *sent += 1;
                true
            }
            BreakerState::HalfOpen { .. } => false,
        }
    }

    /// A sent attempt ended. Late answers to attempts sent before the breaker
    /// opened change nothing while it is open.
    pub fn on_outcome(&mut self, now: SimTime, outcome: Outcome) {
        if outcome == Outcome::LocalReject {
            return;
        }
        // A backend's 500 or 502 is not push-back (adaptive throttling counts
        // it accepted) but it is a failed call, which is what a breaker counts.
        let failed = !is_accept(outcome) || matches!(outcome, Outcome::Status500 | Outcome::Status502);
        match &mut self.state {
            BreakerState::Closed => {
                self.window.add(now, TOTAL, 1);
                self.window.add(now, FAILED, i64::from(failed));
                let total = self.window.sum(now, TOTAL);
                let bad = self.window.sum(now, FAILED);
                if total >= i64::from(self.cfg.min_throughput) && bad as f64 >= self.cfg.failure_ratio * total as f64 {
                    self.open(now);
                }
            }
            BreakerState::Open { .. } => {}
            BreakerState::HalfOpen { .. } if failed => self.open(now),
            BreakerState::HalfOpen { passed, .. } => {
                *passed += 1;
                if *passed >= self.cfg.half_open_calls {
                    self.state = BreakerState::Closed;
                    self.window.clear();
                }
            }
        }
    }

    fn open(&mut self, now: SimTime) {
        self.state = BreakerState::Open { until: now + self.cfg.break_duration };
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::outcome::Cause;

    fn t(ms: u64) -> SimTime {
        SimTime::ZERO + SimDuration::from_millis(ms)
    }

    #[test]
    fn opens_at_the_ratio_after_the_minimum_then_half_opens_and_closes() {
        let cfg = BreakerConfig { min_throughput: 10, half_open_calls: 2, ..BreakerConfig::default() };
        let mut b = CircuitBreaker::new(&cfg);
        let busy = Outcome::Status503(Cause::Busy);
        for _ in 0..8 {
            b.on_outcome(t(0), Outcome::Ok);
        }
        b.on_outcome(t(0), busy);
        assert_eq!(b.state(), BreakerState::Closed, "9 attempts: below the minimum");
        b.on_outcome(t(1), busy);
        assert_eq!(b.state(), BreakerState::Open { until: t(5001) }, "2 of 10 failed ≥ 0.1");
        assert!(!b.admit(t(5000)));
        b.on_outcome(t(5000), Outcome::Ok);
        assert!(matches!(b.state(), BreakerState::Open { .. }), "late answers change nothing");
        assert!(b.admit(t(5001)) && b.admit(t(5001)), "two trials");
        assert!(!b.admit(t(5001)), "no third");
        b.on_outcome(t(5100), Outcome::Ok);
        assert_eq!(b.state(), BreakerState::HalfOpen { sent: 2, passed: 1 });
        b.on_outcome(t(5200), Outcome::Ok);
        assert_eq!(b.state(), BreakerState::Closed);
        assert!(b.admit(t(5200)));
    }

    #[test]
    fn a_failed_trial_reopens() {
        let cfg = BreakerConfig { min_throughput: 1, ..BreakerConfig::default() };
        let mut b = CircuitBreaker::new(&cfg);
        b.on_outcome(t(0), Outcome::ClientTimeout);
        assert!(b.admit(t(5000)));
        b.on_outcome(t(6000), Outcome::ClientTimeout);
        assert_eq!(b.state(), BreakerState::Open { until: t(11_000) });
    }
}
