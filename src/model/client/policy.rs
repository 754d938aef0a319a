//! A swarm's client-side policy: its retry strategy plus whatever state the
//! swarm's requests share.
//!
//! A retry strategy alone is per request (attempts so far, the previous
//! sleep). Defences such as retry budgets, circuit breakers and adaptive
//! throttling are per client: they count outcomes across all of a swarm's
//! requests. So each swarm owns one `SwarmPolicy`, told of every attempt's
//! outcome (`on_outcome`) before it is asked whether to retry (`on_failure`);
//! a stateful defence is one more field here and one more file beside this.

use crate::model::outcome::Outcome;
use crate::model::retry::{Decision, RetryPolicy, RetryState};
use crate::rng::SimRng;
use crate::time::{SimDuration, SimTime};

/// One swarm's policy and its shared state.
#[derive(Clone, Debug)]
pub struct SwarmPolicy {
    retry: RetryPolicy,
}

impl SwarmPolicy {
    pub fn new(retry: RetryPolicy) -> Self {
        SwarmPolicy { retry }
    }

    pub fn retry(&self) -> &RetryPolicy {
        &self.retry
    }

    /// Any attempt of the swarm ended with `outcome` (successes included).
    /// A plain retry strategy keeps no per-swarm state; budgets and breakers
    /// count here.
    pub fn on_outcome(&mut self, _now: SimTime, _outcome: Outcome) {}

    /// Whether and when to retry after a failed attempt of one request.
    pub fn on_failure(
        &mut self,
        request: &mut RetryState,
        outcome: Outcome,
        retry_after: Option<SimDuration>,
        rng: &mut SimRng,
    ) -> Decision {
        self.retry.on_failure(request, outcome, retry_after, rng)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::outcome::{Cause, OutcomeSet};
    use crate::model::retry::Backoff;
    use crate::rng::{Stream, stream};

    #[test]
    fn delegates_the_retry_decision_to_the_strategy() {
        let retry = RetryPolicy {
            backoff: Backoff::Fixed(SimDuration::from_secs(2)),
            max_attempts: 2,
            retry_on: OutcomeSet::parse_entry("503").expect("503"),
            honor_retry_after: false,
        };
        let mut p = SwarmPolicy::new(retry);
        let busy = Outcome::Status503(Cause::Busy);
        p.on_outcome(SimTime::ZERO, Outcome::Ok);
        let mut st = RetryState::default();
        st.attempts = 1;
        let mut rng = stream(1, Stream::Proxy);
        assert_eq!(p.on_failure(&mut st, busy, None, &mut rng), Decision::RetryAfter(SimDuration::from_secs(2)));
        st.attempts = 2;
        assert_eq!(p.on_failure(&mut st, busy, None, &mut rng), Decision::Exhausted);
    }
}
