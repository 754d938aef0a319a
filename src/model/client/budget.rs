//! A retry budget: retries may be at most a fraction of recent requests.
//!
//! Why a budget and not only `max_attempts`? A per-request cap still lets
//! every request retry when the backend is down, multiplying the load exactly
//! when it can least take it. A budget caps retries *across* requests: each
//! first attempt deposits `percent` of a retry, each retry withdraws one, and
//! deposits expire after `ttl`; a reserve of `min_per_sec` × ttl retries lets
//! a quiet client retry at all. Defaults are Finagle's `RetryBudget` and
//! tower's `TpsBudget`: ttl 10 s, 10 retries/s minimum, 20% of requests.
//!
//! Arithmetic is in thousandths of a retry, so it is exact: a deposit is
//! round(1000 · percent), a withdrawal 1000.

use super::window::Rolling;
use crate::time::{SimDuration, SimTime};

/// A budget's settings.
#[derive(Clone, Debug, PartialEq)]
pub struct BudgetConfig {
    pub ttl: SimDuration,
    pub min_per_sec: u32,
    pub percent: f64,
}

impl Default for BudgetConfig {
    fn default() -> Self {
        BudgetConfig { ttl: SimDuration::from_secs(10), min_per_sec: 10, percent: 0.2 }
    }
}

const UNIT: i64 = 1000;

/// The budget's state: deposits minus withdrawals over the last ttl.
#[derive(Clone, Debug, PartialEq)]
pub struct RetryBudget {
    reserve: i64,
    deposit: i64,
    window: Rolling<1>,
}

impl RetryBudget {
    pub fn new(cfg: &BudgetConfig) -> Self {
        let reserve = i64::from(cfg.min_per_sec) * (cfg.ttl.as_nanos() / 1_000_000_000) as i64 * UNIT;
        RetryBudget { reserve, deposit: (cfg.percent * UNIT as f64).round() as i64, window: Rolling::new(cfg.ttl) }
    }

    /// A request's first attempt was sent.
    pub fn deposit(&mut self, now: SimTime) {
        self.window.add(now, 0, self.deposit);
    }

    /// Thousandths of a retry available now.
    pub fn balance(&mut self, now: SimTime) -> i64 {
        self.reserve + self.window.sum(now, 0)
    }

    /// Takes one retry from the budget if it holds one.
    pub fn withdraw(&mut self, now: SimTime) -> bool {
        if self.balance(now) < UNIT {
            return false;
        }
        self.window.add(now, 0, -UNIT);
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(s: u64) -> SimTime {
        SimTime::ZERO + SimDuration::from_secs(s)
    }

    #[test]
    fn a_quiet_client_has_its_reserve_then_earns_a_fifth_of_a_retry_per_request() {
        let mut b = RetryBudget::new(&BudgetConfig { min_per_sec: 1, ..BudgetConfig::default() });
        assert_eq!(b.balance(t(0)), 10_000, "1 retry/s × 10 s");
        for _ in 0..10 {
            assert!(b.withdraw(t(0)));
        }
        assert!(!b.withdraw(t(0)), "reserve spent");
        for _ in 0..4 {
            b.deposit(t(1));
        }
        assert_eq!(b.balance(t(1)), 800);
        assert!(!b.withdraw(t(1)), "four requests earn 0.8 of a retry");
        b.deposit(t(1));
        assert!(b.withdraw(t(1)), "the fifth earns a whole one");
        assert_eq!(b.balance(t(1)), 0);
        // After the ttl the withdrawals expire with the deposits.
        assert_eq!(b.balance(t(12)), 10_000);
    }
}
