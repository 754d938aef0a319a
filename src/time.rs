//! Simulated time as integer nanoseconds.
//!
//! The engine never uses a floating-point clock: sums of f64 seconds drift and
//! make two runs of one seed disagree in the last bit. Instants ([`SimTime`]) and
//! spans ([`SimDuration`]) are u64 nanoseconds (584 years of range); floats appear
//! only at the edges, when a distribution draws a duration or a report prints one.

use std::fmt;
use std::ops::{Add, AddAssign, Sub};

/// The smallest and largest time scale a live run accepts (simulated seconds
/// per real second). Above the top, tokio's 1 ms timer resolution would be
/// coarser than a second of simulated time, and loopback latency a visible
/// share of every service time. Here, below the engines, since a run's
/// summary judges whether its live engine kept up with its scale.
pub const MIN_TIME_SCALE: f64 = 0.01;
pub const MAX_TIME_SCALE: f64 = 1000.0;

/// An instant in simulated time, nanoseconds since the start of the run.
#[derive(Copy, Clone, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct SimTime(u64);

/// A span of simulated time in nanoseconds.
#[derive(Copy, Clone, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct SimDuration(u64);

const NS_PER_SEC: u64 = 1_000_000_000;

impl SimTime {
    /// The start of every run.
    pub const ZERO: SimTime = SimTime(0);
    /// Later than any event a run can schedule.
    pub const NEVER: SimTime = SimTime(u64::MAX);

    pub const fn from_nanos(ns: u64) -> Self {
        SimTime(ns)
    }
    pub const fn as_nanos(self) -> u64 {
        self.0
    }
    pub fn as_secs_f64(self) -> f64 {
        self.0 as f64 / NS_PER_SEC as f64
    }
    /// Nearest nanosecond to `secs` (negative and NaN become zero).
    pub fn from_secs_f64(secs: f64) -> Self {
        SimTime(secs_to_nanos(secs))
    }
    /// Time elapsed since `earlier`, zero if `earlier` is later.
    pub fn saturating_since(self, earlier: SimTime) -> SimDuration {
        SimDuration(self.0.saturating_sub(earlier.0))
    }
}

impl SimDuration {
    pub const ZERO: SimDuration = SimDuration(0);
    pub const MAX: SimDuration = SimDuration(u64::MAX);

    pub const fn from_nanos(ns: u64) -> Self {
        SimDuration(ns)
    }
    pub const fn from_millis(ms: u64) -> Self {
        SimDuration(ms * 1_000_000)
    }
    pub const fn from_secs(s: u64) -> Self {
        SimDuration(s * NS_PER_SEC)
    }
    /// Nearest nanosecond to `secs` (negative and NaN become zero, huge values saturate).
    pub fn from_secs_f64(secs: f64) -> Self {
        SimDuration(secs_to_nanos(secs))
    }
    pub const fn as_nanos(self) -> u64 {
        self.0
    }
    pub fn as_micros(self) -> u64 {
        self.0 / 1_000
    }
    pub fn as_secs_f64(self) -> f64 {
        self.0 as f64 / NS_PER_SEC as f64
    }
    pub fn as_millis_f64(self) -> f64 {
        self.0 as f64 / 1e6
    }
    pub const fn is_zero(self) -> bool {
        self.0 == 0
    }
    pub fn saturating_mul(self, k: u64) -> SimDuration {
        SimDuration(self.0.saturating_mul(k))
    }
    /// Scales by a non-negative factor, rounding to the nearest nanosecond.
    pub fn mul_f64(self, k: f64) -> SimDuration {
        SimDuration::from_secs_f64(self.as_secs_f64() * k)
    }
}

fn secs_to_nanos(secs: f64) -> u64 {
    // `+ 0.5` then truncation rounds half up; f64::round is a libm call on
    // baseline x86-64 and this runs for every drawn duration.
    let ns = secs * NS_PER_SEC as f64 + 0.5;
    if ns.is_nan() || ns < 1.0 {
        0
    } else if ns < i64::MAX as f64 {
        // The same value: f64 -> i64 is one instruction, f64 -> u64 a branchy
        // sequence, and this runs for every drawn duration.
        ns as i64 as u64
    } else if ns >= u64::MAX as f64 {
        u64::MAX
    } else {
        ns as u64
    }
}

impl Add<SimDuration> for SimTime {
    type Output = SimTime;
    /// Saturates at [`SimTime::NEVER`], so "now + effectively infinite timeout" is safe.
    fn add(self, d: SimDuration) -> SimTime {
        SimTime(self.0.saturating_add(d.0))
    }
}

impl AddAssign<SimDuration> for SimTime {
    fn add_assign(&mut self, d: SimDuration) {
        *self = *self + d;
    }
}

impl Sub for SimTime {
    type Output = SimDuration;
    /// Elapsed time; saturates at zero rather than panicking on reordered inputs.
    fn sub(self, earlier: SimTime) -> SimDuration {
        self.saturating_since(earlier)
    }
}

impl Add for SimDuration {
    type Output = SimDuration;
    fn add(self, o: SimDuration) -> SimDuration {
        SimDuration(self.0.saturating_add(o.0))
    }
}

impl AddAssign for SimDuration {
    fn add_assign(&mut self, o: SimDuration) {
        *self = *self + o;
    }
}

impl Sub for SimDuration {
    type Output = SimDuration;
    fn sub(self, o: SimDuration) -> SimDuration {
        SimDuration(self.0.saturating_sub(o.0))
    }
}

impl fmt::Display for SimDuration {
    /// Human form with a unit that keeps three or so significant digits: `850ms`, `12.4s`, `2m05s`, `1h02m`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&format_secs(self.as_secs_f64()))
    }
}

impl fmt::Display for SimTime {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "t={}", SimDuration(self.0))
    }
}

/// Formats seconds for people: µs/ms/s below a minute, then `XmYYs`, then `XhYYm`.
pub fn format_secs(secs: f64) -> String {
    if !secs.is_finite() {
        return "-".to_string();
    }
    let s = secs.max(0.0);
    if s == 0.0 {
        "0s".to_string()
    } else if s < 1e-3 {
        format!("{:.0}µs", s * 1e6)
    } else if s < 1.0 {
        let ms = s * 1e3;
        if ms < 10.0 {
            format!("{ms:.2}ms")
        } else if ms < 100.0 {
            format!("{ms:.1}ms")
        } else {
            format!("{ms:.0}ms")
        }
    } else if s < 60.0 {
        if s < 10.0 { format!("{s:.2}s") } else { format!("{s:.1}s") }
    } else if s < 3600.0 {
        let total = s.round() as u64;
        format!("{}m{:02}s", total / 60, total % 60)
    } else {
        let total_min = (s / 60.0).round() as u64;
        format!("{}h{:02}m", total_min / 60, total_min % 60)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn float_conversion_rounds_to_nearest_nanosecond() {
        assert_eq!(SimDuration::from_secs_f64(1.5).as_nanos(), 1_500_000_000);
        assert_eq!(SimDuration::from_secs_f64(1e-9 * 0.6).as_nanos(), 1);
        assert_eq!(SimDuration::from_secs_f64(-3.0), SimDuration::ZERO);
        assert_eq!(SimDuration::from_secs_f64(f64::NAN), SimDuration::ZERO);
        assert_eq!(SimDuration::from_secs_f64(1e300), SimDuration::MAX);
        assert_eq!(SimDuration::from_secs_f64(f64::INFINITY), SimDuration::MAX);
        assert_eq!(SimDuration::from_secs_f64(f64::NEG_INFINITY), SimDuration::ZERO);
        // Below half a nanosecond, and either side of 2^63 ns (the fast path's end).
        assert_eq!(SimDuration::from_secs_f64(0.49e-9), SimDuration::ZERO);
        assert_eq!(SimDuration::from_secs_f64(-0.4e-9), SimDuration::ZERO);
        assert_eq!(SimDuration::from_secs_f64(9.2e9).as_nanos(), 9_200_000_000_000_000_000);
        assert_eq!(SimDuration::from_secs_f64(9.3e9).as_nanos(), 9_300_000_000_000_000_000);
        assert_eq!(SimDuration::from_secs_f64(18.4e9).as_nanos(), 18_400_000_000_000_000_000);
        assert_eq!(SimDuration::from_secs_f64(18.5e9), SimDuration::MAX);
    }

    #[test]
    fn adding_to_never_saturates() {
        assert_eq!(SimTime::NEVER + SimDuration::from_secs(1), SimTime::NEVER);
        assert_eq!(SimTime::ZERO - SimTime::from_nanos(5), SimDuration::ZERO);
    }

    #[test]
    fn human_format_picks_a_readable_unit() {
        assert_eq!(format_secs(0.000_25), "250µs");
        assert_eq!(format_secs(0.0042), "4.20ms");
        assert_eq!(format_secs(0.85), "850ms");
        assert_eq!(format_secs(12.44), "12.4s");
        assert_eq!(format_secs(125.0), "2m05s");
        assert_eq!(format_secs(3720.0), "1h02m");
    }
}
