//! Real time seen as simulated time: the live engine's clock.
//!
//! The models think in [`SimTime`]. In live mode an instant is the wall time
//! elapsed since the start of the run, multiplied by the time scale: at scale
//! 60 one real second is one simulated minute, so an hour-long scenario runs
//! in a minute of real traffic. Durations that cross the wire (service times,
//! Retry-After) travel in simulated microseconds; only what a human or a
//! foreign client reads (Retry-After in seconds) is converted back.

use std::time::{Duration, Instant};

use crate::time::{SimDuration, SimTime};

pub use crate::time::{MAX_TIME_SCALE, MIN_TIME_SCALE};

#[derive(Copy, Clone, Debug)]
pub struct Clock {
    start: Instant,
    scale: f64,
}

impl Clock {
    pub fn start(scale: f64) -> Self {
        Clock { start: Instant::now(), scale }
    }

    pub fn scale(&self) -> f64 {
        self.scale
    }

    /// The simulated instant now.
    pub fn now(&self) -> SimTime {
        self.at(Instant::now())
    }

    /// The simulated instant of a real one (the start, if it is earlier).
    pub fn at(&self, real: Instant) -> SimTime {
        SimTime::from_secs_f64(real.saturating_duration_since(self.start).as_secs_f64() * self.scale)
    }

    /// The real instant at which simulated time reaches `t`.
    pub fn instant(&self, t: SimTime) -> Instant {
        self.start + self.real(SimDuration::from_nanos(t.as_nanos()))
    }

    /// How long a simulated span lasts in real time.
    pub fn real(&self, d: SimDuration) -> Duration {
        // Saturate far in the future rather than overflow an Instant.
        Duration::from_secs_f64((d.as_secs_f64() / self.scale).min(1e9))
    }

    /// A span of real time in simulated time.
    pub fn simulated(&self, d: Duration) -> SimDuration {
        SimDuration::from_secs_f64(d.as_secs_f64() * self.scale)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_scaled_clock_converts_both_ways() {
        let c = Clock::start(60.0);
        assert_eq!(c.real(SimDuration::from_secs(120)), Duration::from_secs(2));
        assert_eq!(c.simulated(Duration::from_millis(500)), SimDuration::from_secs(30));
        let t = SimTime::ZERO + SimDuration::from_secs(60);
        assert_eq!(c.instant(t) - c.start, Duration::from_secs(1));
    }
}
