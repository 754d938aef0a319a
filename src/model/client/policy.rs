//! A swarm's client-side policy: its retry strategy plus whatever state the
//! swarm's requests share.
//!
//! A retry strategy alone is per request (attempts so far, the previous
//! sleep). Defences such as retry budgets, circuit breakers and adaptive
//! throttling are per client: they count outcomes across all of a swarm's
//! requests. So each swarm owns one `SwarmPolicy`: it is asked before every
//! attempt whether to send it at all (`admit`), told of every attempt's
//! outcome (`on_outcome`), and asked whether to retry (`on_failure`). Each
//! stateful defence is one field here and one file beside this.

use rand::RngExt;

use super::adaptive::{AdaptiveConfig, AdaptiveThrottle, is_accept};
use super::breaker::{BreakerConfig, CircuitBreaker};
use super::budget::{BudgetConfig, RetryBudget};
use super::throttle::{RetryThrottle, ThrottleConfig};
use crate::model::outcome::Outcome;
use crate::model::retry::{Decision, RetryPolicy, RetryState};
use crate::rng::SimRng;
use crate::time::{SimDuration, SimTime};

/// The defences a strategy adds to its retries (each off when `None`).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Defences {
    pub budget: Option<BudgetConfig>,
    pub throttle: Option<ThrottleConfig>,
    pub adaptive: Option<AdaptiveConfig>,
    pub breaker: Option<BreakerConfig>,
    /// Overall deadline per logical request, across its attempts.
    pub deadline: Option<SimDuration>,
    /// Send another attempt when one has gone this long unanswered (hedging).
    pub hedge_after: Option<SimDuration>,
}

/// One swarm's policy and its shared state.
#[derive(Clone, Debug)]
pub struct SwarmPolicy {
    retry: RetryPolicy,
    deadline: Option<SimDuration>,
    hedge_after: Option<SimDuration>,
    budget: Option<RetryBudget>,
    throttle: Option<RetryThrottle>,
    adaptive: Option<AdaptiveThrottle>,
    breaker: Option<CircuitBreaker>,
    /// Some defence keeps state across attempts; without one, `admit` and
    /// `on_outcome` have nothing to do.
    stateful: bool,
}

impl SwarmPolicy {
    pub fn new(retry: RetryPolicy, d: &Defences) -> Self {
        SwarmPolicy {
            retry,
            deadline: d.deadline,
            hedge_after: d.hedge_after,
            budget: d.budget.as_ref().map(RetryBudget::new),
            throttle: d.throttle.as_ref().map(RetryThrottle::new),
            adaptive: d.adaptive.as_ref().map(AdaptiveThrottle::new),
            breaker: d.breaker.as_ref().map(CircuitBreaker::new),
            stateful: d.budget.is_some() || d.throttle.is_some() || d.adaptive.is_some() || d.breaker.is_some(),
        }
    }

    pub fn retry(&self) -> &RetryPolicy {
        &self.retry
    }

    pub fn deadline(&self) -> Option<SimDuration> {
        self.deadline
    }

    pub fn hedge_after(&self) -> Option<SimDuration> {
        self.hedge_after
    }

    /// Whether to send an attempt now (`first`: a request's first attempt).
    /// Adaptive throttling draws from the request's own stream, and only
    /// when its probability is above zero.
    #[inline]
    pub fn admit(&mut self, now: SimTime, first: bool, rng: &mut SimRng) -> bool {
        !self.stateful || self.admit_defended(now, first, rng)
    }

    fn admit_defended(&mut self, now: SimTime, first: bool, rng: &mut SimRng) -> bool {
        if let Some(a) = self.adaptive.as_mut() {
            a.on_request(now);
            let p = a.reject_probability(now);
            if p > 0.0 && rng.random::<f64>() < p {
                return false;
            }
        }
        if let Some(b) = self.breaker.as_mut()
            && !b.admit(now)
        {
            return false;
        }
        if first && let Some(b) = self.budget.as_mut() {
            b.deposit(now);
        }
        true
    }

    /// Any attempt of the swarm that was sent ended with `outcome`
    /// (successes included).
    #[inline]
    pub fn on_outcome(&mut self, now: SimTime, outcome: Outcome) {
        // A local reject or a cancel was never answered by the server: no signal of its health.
        if self.stateful && !matches!(outcome, Outcome::LocalReject | Outcome::Cancelled) {
            self.count_outcome(now, outcome);
        }
    }

    fn count_outcome(&mut self, now: SimTime, outcome: Outcome) {
        if let Some(t) = self.throttle.as_mut() {
            if is_accept(outcome) { t.on_success() } else { t.on_failure() }
        }
        if let Some(a) = self.adaptive.as_mut() {
            a.on_outcome(now, outcome);
        }
        if let Some(b) = self.breaker.as_mut() {
            b.on_outcome(now, outcome);
        }
    }

    /// Whether and when to retry after a failed attempt of one request that
    /// has been going for `elapsed` since its first attempt.
    pub fn on_failure(
        &mut self,
        now: SimTime,
        elapsed: SimDuration,
        request: &mut RetryState,
        outcome: Outcome,
        retry_after: Option<SimDuration>,
        rng: &mut SimRng,
    ) -> Decision {
        let d = self.retry.on_failure(request, outcome, retry_after, rng);
        let Decision::RetryAfter(delay) = d else { return d };
        if self.deadline.is_some_and(|limit| elapsed + delay >= limit) {
            return Decision::DeadlineExceeded;
        }
        if self.throttle.as_ref().is_some_and(|t| !t.allows_retry()) {
            return Decision::Denied;
        }
        if let Some(b) = self.budget.as_mut()
            && !b.withdraw(now)
        {
            return Decision::Denied;
        }
        d
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::outcome::{Cause, OutcomeSet};
    use crate::model::retry::Backoff;
    use crate::rng::{Stream, stream};

    fn fixed(secs: u64, attempts: u32) -> RetryPolicy {
        RetryPolicy {
            backoff: Backoff::Fixed(SimDuration::from_secs(secs)),
            max_attempts: attempts,
            retry_on: OutcomeSet::parse_entry("503").expect("503"),
            honor_retry_after: false,
        }
    }

    fn t(s: u64) -> SimTime {
        SimTime::ZERO + SimDuration::from_secs(s)
    }

    const BUSY: Outcome = Outcome::Status503(Cause::Busy);

    #[test]
    fn delegates_the_retry_decision_to_the_strategy() {
        let mut p = SwarmPolicy::new(fixed(2, 2), &Defences::default());
        p.on_outcome(SimTime::ZERO, Outcome::Ok);
        let mut st = RetryState::default();
        st.attempts = 1;
        let mut rng = stream(1, Stream::Proxy);
        let z = SimDuration::ZERO;
        assert_eq!(
            p.on_failure(t(0), z, &mut st, BUSY, None, &mut rng),
            Decision::RetryAfter(SimDuration::from_secs(2))
        );
        st.attempts = 2;
        assert_eq!(p.on_failure(t(0), z, &mut st, BUSY, None, &mut rng), Decision::Exhausted);
    }

    #[test]
    fn a_retry_past_the_deadline_is_not_made() {
        let d = Defences { deadline: Some(SimDuration::from_secs(10)), ..Defences::default() };
        let mut p = SwarmPolicy::new(fixed(2, 5), &d);
        let mut st = RetryState::default();
        st.attempts = 1;
        let mut rng = stream(1, Stream::Proxy);
        let at = |s| SimDuration::from_secs(s);
        assert!(matches!(p.on_failure(t(7), at(7), &mut st, BUSY, None, &mut rng), Decision::RetryAfter(_)));
        assert_eq!(p.on_failure(t(8), at(8), &mut st, BUSY, None, &mut rng), Decision::DeadlineExceeded);
    }

    #[test]
    fn the_budget_denies_retries_once_spent() {
        let budget = BudgetConfig { min_per_sec: 1, ttl: SimDuration::from_secs(2), percent: 0.0 };
        let mut p = SwarmPolicy::new(fixed(0, 5), &Defences { budget: Some(budget), ..Defences::default() });
        let mut rng = stream(1, Stream::Proxy);
        let mut st = RetryState::default();
        st.attempts = 1;
        let z = SimDuration::ZERO;
        for _ in 0..2 {
            assert!(matches!(p.on_failure(t(0), z, &mut st, BUSY, None, &mut rng), Decision::RetryAfter(_)));
        }
        assert_eq!(p.on_failure(t(0), z, &mut st, BUSY, None, &mut rng), Decision::Denied);
    }

    #[test]
    fn an_open_breaker_rejects_first_attempts_locally() {
        let breaker = BreakerConfig { min_throughput: 2, ..BreakerConfig::default() };
        let mut p = SwarmPolicy::new(fixed(0, 1), &Defences { breaker: Some(breaker), ..Defences::default() });
        let mut rng = stream(1, Stream::Proxy);
        assert!(p.admit(t(0), true, &mut rng));
        p.on_outcome(t(0), BUSY);
        p.on_outcome(t(0), Outcome::ClientTimeout);
        assert!(!p.admit(t(1), true, &mut rng));
        assert!(p.admit(t(5), true, &mut rng), "half-open trial");
    }
}
