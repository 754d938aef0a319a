//! Varnish's backend health: a sliding window of probe results.
//!
//! A backend is healthy while at least `threshold` of the last `window` probes
//! were good. It starts with `initial` good probes in the window (Varnish's
//! default is threshold − 1: sick until the first good probe). With the defaults
//! (window 8, threshold 3) six failures in a row make a healthy backend sick and
//! three successes bring it back.

use crate::time::SimDuration;

#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub struct ProbeConfig {
    pub interval: SimDuration,
    pub timeout: SimDuration,
    pub window: u32,
    pub threshold: u32,
    pub initial: u32,
}

impl Default for ProbeConfig {
    /// varnishd's defaults.
    fn default() -> Self {
        ProbeConfig {
            interval: SimDuration::from_secs(5),
            timeout: SimDuration::from_secs(2),
            window: 8,
            threshold: 3,
            initial: 2,
        }
    }
}

/// The last `window` probe results, newest in bit 0.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub struct Health {
    bits: u64,
    mask: u64,
    threshold: u32,
    /// Kept as probes come: the director asks at every fetch, and a popcount
    /// is a dozen instructions without a CPU-specific build.
    healthy: bool,
}

impl Health {
    /// A backend that has not been probed yet.
    pub fn new(cfg: &ProbeConfig) -> Self {
        let mask = if cfg.window >= 64 { u64::MAX } else { (1u64 << cfg.window) - 1 };
        let bits = if cfg.initial >= 64 { u64::MAX } else { (1u64 << cfg.initial) - 1 } & mask;
        Health { bits, mask, threshold: cfg.threshold, healthy: bits.count_ones() >= cfg.threshold }
    }

    /// A backend without a probe: always healthy.
    pub fn always() -> Self {
        Health { bits: 1, mask: 1, threshold: 0, healthy: true }
    }

    pub fn is_healthy(&self) -> bool {
        self.healthy
    }

    /// Good probes in the window, the window's length, and how many good
    /// ones make a backend healthy (0 for a backend without a probe).
    pub fn window(&self) -> (u32, u32, u32) {
        (self.bits.count_ones(), self.mask.count_ones(), self.threshold)
    }

    /// Records a probe; returns the new health if it changed.
    pub fn record(&mut self, good: bool) -> Option<bool> {
        let before = self.healthy;
        self.bits = ((self.bits << 1) | u64::from(good)) & self.mask;
        let after = self.bits.count_ones() >= self.threshold;
        self.healthy = after;
        (before != after).then_some(after)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_start_sick_and_one_good_probe_makes_healthy() {
        let mut h = Health::new(&ProbeConfig::default());
        assert!(!h.is_healthy());
        assert_eq!(h.record(true), Some(true));
    }

    #[test]
    fn six_failures_make_sick_and_three_successes_recover() {
        let mut h = Health::new(&ProbeConfig::default());
        for _ in 0..8 {
            h.record(true);
        }
        let fails_to_sick = (1..=8).find(|_| h.record(false) == Some(false)).expect("goes sick");
        assert_eq!(fails_to_sick, 6);
        let goods_to_healthy = (1..=8).find(|_| h.record(true) == Some(true)).expect("recovers");
        assert_eq!(goods_to_healthy, 3);
    }
}
