//! A level that changes at instants, integrated exactly over time.
//!
//! Utilization, queue depth and instance counts are reported as time averages,
//! not samples: a sample at a window boundary misses everything in between.
//! The integral is kept in value·nanoseconds as a u128, so window totals add up
//! to the run total exactly.

use crate::time::SimTime;

#[derive(Copy, Clone, Debug, Default)]
pub struct Gauge {
    value: u64,
    area: u128,
    since: SimTime,
}

impl Gauge {
    pub fn value(&self) -> u64 {
        self.value
    }

    pub fn set(&mut self, now: SimTime, value: u64) {
        self.area = self.area_until(now);
        self.since = self.since.max(now);
        self.value = value;
    }

    pub fn add(&mut self, now: SimTime, delta: i64) {
        let v = self.value.checked_add_signed(delta).expect("gauge went negative");
        self.set(now, v);
    }

    /// ∫ value dt from the start until `t` (t not before the last change), in value·ns.
    pub fn area_until(&self, t: SimTime) -> u128 {
        self.area + u128::from(self.value) * u128::from((t - self.since).as_nanos())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn area_integrates_piecewise_levels() {
        let mut g = Gauge::default();
        g.set(SimTime::from_nanos(10), 2);
        g.add(SimTime::from_nanos(20), 3);
        assert_eq!(g.area_until(SimTime::from_nanos(30)), 2 * 10 + 5 * 10);
        assert_eq!(g.value(), 5);
    }
}
