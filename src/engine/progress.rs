//! The progress guard: a run whose simulated time stops advancing is stopped.
//!
//! Some scenarios that validate loop without time passing: closed-loop users
//! with zero think time whose every answer is an instant 503, immediate
//! retries of failures that take no time, jobs of zero work. The run would
//! never end. A wall-clock budget would make results depend on the machine;
//! instead the engine counts events per millisecond of simulated time, and
//! more than [`MAX_EVENTS_PER_MILLISECOND`] (a rate of 10⁹ events per
//! simulated second, thousands of times any scenario within the documented
//! limits) stops the run with the loop named.

use std::fmt;

use crate::time::{SimDuration, SimTime};

/// More events than this within one millisecond of simulated time stop the run.
pub const MAX_EVENTS_PER_MILLISECOND: u64 = 1_000_000;

/// Events tallied after the guard trips, to name the loop.
const TALLY: u64 = 10_000;

/// A run stopped because simulated time stopped advancing.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Stalled {
    pub at: SimTime,
    pub seed: u64,
    /// What loops, in the user's terms ("closed-loop swarm `web`: …").
    pub culprit: String,
}

impl fmt::Display for Stalled {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "the simulation stopped at t = {} (seed {}): more than {} events within one millisecond of \
             simulated time, so time is not advancing; {}",
            self.at - SimTime::ZERO,
            self.seed,
            MAX_EVENTS_PER_MILLISECOND,
            self.culprit
        )
    }
}

impl std::error::Error for Stalled {}

/// Who an event is about, for naming the loop.
#[derive(Copy, Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub(super) enum Subject {
    /// Arrivals of an open-loop swarm.
    Arrivals(usize),
    /// Closed-loop users of a swarm.
    Users(usize),
    /// Retries of a swarm's requests.
    Retries(usize),
    /// A pool's jobs, instances or probes.
    Pool(usize),
    /// Anything else.
    Other,
}

/// Counts events per simulated millisecond; once over the limit, tallies who
/// the next events are about.
#[derive(Debug)]
pub(super) struct Guard {
    /// The end of the current millisecond window (kept rather than its
    /// start, so that each event costs one comparison).
    window_end: SimTime,
    in_window: u64,
    tripped_at: Option<SimTime>,
    tally: Vec<(Subject, u64)>,
    tallied: u64,
}

impl Default for Guard {
    fn default() -> Self {
        Guard {
            window_end: SimTime::ZERO + SimDuration::from_millis(1),
            in_window: 0,
            tripped_at: None,
            tally: Vec::new(),
            tallied: 0,
        }
    }
}

impl Guard {
    /// Counts one event at `t`. True when the run must stop now.
    #[inline(always)]
    pub fn count(&mut self, t: SimTime) -> bool {
        if t >= self.window_end {
            self.window_end = t + SimDuration::from_millis(1);
            self.in_window = 0;
            return false;
        }
        self.in_window += 1;
        self.in_window > MAX_EVENTS_PER_MILLISECOND
    }

    /// Starts tallying: the run is looping at `t`.
    pub fn trip(&mut self, t: SimTime) {
        self.tripped_at = Some(t);
    }

    pub fn tripped(&self) -> bool {
        self.tripped_at.is_some()
    }

    /// Tallies one event's subject; true once enough are in.
    pub fn tally(&mut self, s: Subject) -> bool {
        match self.tally.iter_mut().find(|(k, _)| *k == s) {
            Some((_, n)) => *n += 1,
            None => self.tally.push((s, 1)),
        }
        self.tallied += 1;
        self.tallied >= TALLY
    }

    /// The stall, with the most frequent subject described by `name`.
    pub fn stalled(&self, seed: u64, describe: impl Fn(Subject) -> String) -> Option<Stalled> {
        let at = self.tripped_at?;
        let top = self.tally.iter().max_by_key(|(s, n)| (*n, std::cmp::Reverse(*s))).map_or(Subject::Other, |x| x.0);
        Some(Stalled { at, seed, culprit: describe(top) })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn trips_only_beyond_the_limit_within_one_simulated_millisecond() {
        let mut g = Guard::default();
        let t = SimTime::ZERO + SimDuration::from_secs(1);
        assert!(!g.count(t), "a new window");
        for _ in 0..MAX_EVENTS_PER_MILLISECOND {
            assert!(!g.count(t));
        }
        assert!(g.count(t + SimDuration::from_nanos(999_999)), "one more within the same millisecond");
        let mut g = Guard::default();
        let mut t = SimTime::ZERO;
        // Two million events a millisecond apart never trip it.
        for _ in 0..2_000_000 {
            t += SimDuration::from_millis(1);
            assert!(!g.count(t));
        }
    }
}
