//! A rolling count over a sliding time window, for the defences that decide
//! from recent history (retry budgets, adaptive throttling, breakers).
//!
//! The window is cut into `SLOTS` equal slots; a slot older than the window is
//! cleared before it is reused. So a count covers between span·(1 − 1/SLOTS)
//! and span of history — the same approximation tower's `TpsBudget` makes with
//! its ten generations — in constant memory.

use crate::time::{SimDuration, SimTime};

const SLOTS: usize = 10;

/// Sums of `N` counters over the last `span` of time.
#[derive(Clone, Debug, PartialEq)]
pub struct Rolling<const N: usize> {
    slot: SimDuration,
    /// Index of the current slot since time zero.
    current: u64,
    sums: [[i64; N]; SLOTS],
}

impl<const N: usize> Rolling<N> {
    pub fn new(span: SimDuration) -> Self {
        let slot = SimDuration::from_nanos((span.as_nanos() / SLOTS as u64).max(1));
        Rolling { slot, current: 0, sums: [[0; N]; SLOTS] }
    }

    /// Moves the window to `now`, clearing the slots that fell out of it.
    fn advance(&mut self, now: SimTime) {
        let idx = (now - SimTime::ZERO).as_nanos() / self.slot.as_nanos();
        if idx <= self.current {
            return;
        }
        let gone = (idx - self.current).min(SLOTS as u64);
        for k in 1..=gone {
            self.sums[((self.current + k) % SLOTS as u64) as usize] = [0; N];
        }
        self.current = idx;
    }

    /// Adds `delta` to counter `i` at `now`.
    pub fn add(&mut self, now: SimTime, i: usize, delta: i64) {
        self.advance(now);
        self.sums[(self.current % SLOTS as u64) as usize][i] += delta;
    }

    /// Counter `i` summed over the window ending at `now`.
    pub fn sum(&mut self, now: SimTime, i: usize) -> i64 {
        self.advance(now);
        self.sums.iter().map(|s| s[i]).sum()
    }

    /// Forgets everything.
    pub fn clear(&mut self) {
        self.sums = [[0; N]; SLOTS];
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(s: u64) -> SimTime {
        SimTime::ZERO + SimDuration::from_secs(s)
    }

    #[test]
    fn counts_fall_out_after_the_span() {
        let mut w = Rolling::<1>::new(SimDuration::from_secs(10));
        w.add(t(0), 0, 5);
        w.add(t(3), 0, 2);
        assert_eq!(w.sum(t(9), 0), 7);
        assert_eq!(w.sum(t(10), 0), 2, "the slot of t = 0 expired");
        assert_eq!(w.sum(t(13), 0), 0);
        w.add(t(100), 0, 1);
        assert_eq!(w.sum(t(100), 0), 1);
    }
}
