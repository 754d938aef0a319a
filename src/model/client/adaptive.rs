//! Client-side adaptive throttling (Google SRE book, "Handling Overload").
//!
//! Each client remembers, over the last `window` (2 minutes), how many
//! attempts it wanted to send (`requests`, locally rejected ones included) and
//! how many the backend accepted (`accepts`: answered with anything but an
//! overload signal — here, anything but a 503, a 429, a client timeout or a
//! refused connection). Each new attempt is rejected locally with probability
//! max(0, (requests − K · accepts) / (requests + 1)), K = 2: while the backend
//! accepts at least half of them nothing is rejected; when it accepts none,
//! almost everything is, and the backend sees only about K times what it can take.

use super::window::Rolling;
use crate::model::outcome::Outcome;
use crate::time::{SimDuration, SimTime};

/// Adaptive throttling's settings.
#[derive(Clone, Debug, PartialEq)]
pub struct AdaptiveConfig {
    pub k: f64,
    pub window: SimDuration,
}

impl Default for AdaptiveConfig {
    fn default() -> Self {
        AdaptiveConfig { k: 2.0, window: SimDuration::from_secs(120) }
    }
}

const REQUESTS: usize = 0;
const ACCEPTS: usize = 1;

/// The throttle's history.
#[derive(Clone, Debug, PartialEq)]
pub struct AdaptiveThrottle {
    k: f64,
    window: Rolling<2>,
}

impl AdaptiveThrottle {
    pub fn new(cfg: &AdaptiveConfig) -> Self {
        AdaptiveThrottle { k: cfg.k, window: Rolling::new(cfg.window) }
    }

    /// P(reject) for an attempt about to be sent now.
    pub fn reject_probability(&mut self, now: SimTime) -> f64 {
        let requests = self.window.sum(now, REQUESTS) as f64;
        let accepts = self.window.sum(now, ACCEPTS) as f64;
        ((requests - self.k * accepts) / (requests + 1.0)).max(0.0)
    }

    /// An attempt was wanted (sent or rejected locally).
    pub fn on_request(&mut self, now: SimTime) {
        self.window.add(now, REQUESTS, 1);
    }

    /// A sent attempt ended with `outcome`.
    pub fn on_outcome(&mut self, now: SimTime, outcome: Outcome) {
        if is_accept(outcome) {
            self.window.add(now, ACCEPTS, 1);
        }
    }
}

/// Whether the backend took the attempt (it did not push back or go silent).
pub fn is_accept(outcome: Outcome) -> bool {
    !matches!(
        outcome,
        Outcome::Status503(_)
            | Outcome::Status429
            | Outcome::ClientTimeout
            | Outcome::ConnectError
            | Outcome::LocalReject
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::outcome::Cause;

    fn t(s: u64) -> SimTime {
        SimTime::ZERO + SimDuration::from_secs(s)
    }

    #[test]
    fn probability_follows_the_formula_on_a_known_history() {
        let mut a = AdaptiveThrottle::new(&AdaptiveConfig::default());
        // 10 requests, 5 accepted: 10 − 2·5 = 0 → never rejects.
        for i in 0..10 {
            a.on_request(t(0));
            let o = if i < 5 { Outcome::Ok } else { Outcome::Status503(Cause::Busy) };
            a.on_outcome(t(0), o);
        }
        assert_eq!(a.reject_probability(t(1)), 0.0);
        // 10 more, 1 accepted: (20 − 2·6) / 21.
        for i in 0..10 {
            a.on_request(t(30));
            a.on_outcome(t(30), if i == 0 { Outcome::Ok } else { Outcome::ClientTimeout });
        }
        assert!((a.reject_probability(t(31)) - 8.0 / 21.0).abs() < 1e-12);
        // After 2 minutes the first ten are forgotten: (10 − 2) / 11.
        assert!((a.reject_probability(t(121)) - 8.0 / 11.0).abs() < 1e-12);
        assert_eq!(a.reject_probability(t(300)), 0.0);
    }
}
