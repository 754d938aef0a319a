//! Per-client rate limiting at the proxy: beyond its rate a client gets
//! 429 Too Many Requests with a `Retry-After`, as Varnish's vsthrottle or an
//! API gateway answers.
//!
//! The limiter is GCRA (the generic cell rate algorithm, a token bucket
//! written as one timestamp): with emission interval T = 1/rate and burst b,
//! a request at `now` is allowed when the theoretical arrival time TAT is at
//! most now + (b − 1)·T, and then TAT = max(TAT, now) + T. It is exact in
//! integer nanoseconds and costs one number per client. A refused request
//! learns when the next one would pass: `Retry-After` is that wait rounded up
//! to whole seconds (RFC 9110's delay-seconds), at least 1.

use crate::time::{SimDuration, SimTime};

/// A client's limit.
#[derive(Copy, Clone, Debug, PartialEq)]
pub struct RateLimit {
    /// Requests per second sustained.
    pub rate: f64,
    /// Requests allowed at once after a quiet spell (≥ 1).
    pub burst: u32,
}

/// One client's limiter state.
#[derive(Copy, Clone, Debug, PartialEq)]
pub struct Gcra {
    interval: u64,
    tolerance: u64,
    /// Theoretical arrival time, nanoseconds since time zero.
    tat: u64,
}

impl Gcra {
    pub fn new(limit: RateLimit) -> Self {
        let interval = (1e9 / limit.rate).round().max(1.0) as u64;
        let tolerance = interval.saturating_mul(u64::from(limit.burst.max(1) - 1));
        Gcra { interval, tolerance, tat: 0 }
    }

    /// Admits a request now, or returns the `Retry-After` to answer with.
    pub fn check(&mut self, now: SimTime) -> Result<(), SimDuration> {
        let now = (now - SimTime::ZERO).as_nanos();
        let tat = self.tat.max(now);
        let allowed_at = tat.saturating_sub(self.tolerance);
        if allowed_at > now {
            let wait = allowed_at - now;
            return Err(SimDuration::from_secs(wait.div_ceil(1_000_000_000).max(1)));
        }
        self.tat = tat.saturating_add(self.interval);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ms(x: u64) -> SimTime {
        SimTime::ZERO + SimDuration::from_millis(x)
    }

    #[test]
    fn a_burst_passes_then_one_per_interval_and_the_rest_get_retry_after() {
        let mut g = Gcra::new(RateLimit { rate: 10.0, burst: 3 });
        let t = ms(1000);
        assert!(g.check(t).is_ok() && g.check(t).is_ok() && g.check(t).is_ok(), "a burst of 3");
        assert_eq!(g.check(t), Err(SimDuration::from_secs(1)), "the 4th waits 100 ms, said as 1 s");
        assert!(g.check(ms(1099)).is_err());
        assert!(g.check(ms(1100)).is_ok(), "one more every 100 ms");
        assert!(g.check(ms(1150)).is_err());
        assert!(g.check(ms(1200)).is_ok());
        // A quiet spell refills the burst, not more.
        for _ in 0..3 {
            assert!(g.check(ms(5000)).is_ok());
        }
        assert!(g.check(ms(5000)).is_err());
    }

    #[test]
    fn retry_after_rounds_a_long_wait_up_to_whole_seconds() {
        let mut g = Gcra::new(RateLimit { rate: 0.2, burst: 1 });
        assert!(g.check(ms(0)).is_ok());
        assert_eq!(g.check(ms(500)), Err(SimDuration::from_secs(5)), "4.5 s rounds up to 5");
    }
}
