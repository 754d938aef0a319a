//! The last minute's answers by outcome: what an operator watching a surge
//! wants from the status page and `/metrics` ("how many 503s right now, and
//! why"), where the totals since start only grow.
//!
//! Sixty one-second buckets of the world's (simulated) clock, reused as time
//! passes, so memory is fixed however long a server runs. A bucket holds the
//! second it counts; one older than a minute counts for nothing.

use crate::model::outcome::{OUTCOME_COUNT, Outcome};
use crate::time::SimTime;

/// The span counted: one minute.
pub const SECONDS: u64 = 60;

#[derive(Clone, Debug)]
pub struct Recent {
    buckets: Vec<Bucket>,
}

#[derive(Copy, Clone, Debug)]
struct Bucket {
    second: u64,
    counts: [u64; OUTCOME_COUNT],
}

impl Default for Recent {
    fn default() -> Self {
        Recent { buckets: vec![Bucket { second: u64::MAX, counts: [0; OUTCOME_COUNT] }; SECONDS as usize] }
    }
}

impl Recent {
    pub fn record(&mut self, now: SimTime, outcome: Outcome) {
        let second = now.as_nanos() / 1_000_000_000;
        let b = &mut self.buckets[(second % SECONDS) as usize];
        if b.second != second {
            *b = Bucket { second, counts: [0; OUTCOME_COUNT] };
        }
        b.counts[outcome.index()] += 1;
    }

    /// Answers by outcome over the minute up to `now` (this second included).
    pub fn last_minute(&self, now: SimTime) -> [u64; OUTCOME_COUNT] {
        let second = now.as_nanos() / 1_000_000_000;
        let mut sum = [0; OUTCOME_COUNT];
        for b in self.buckets.iter().filter(|b| b.second <= second && second - b.second < SECONDS) {
            for (s, c) in sum.iter_mut().zip(b.counts) {
                *s += c;
            }
        }
        sum
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::outcome::Cause;

    fn at(secs: f64) -> SimTime {
        SimTime::from_secs_f64(secs)
    }

    #[test]
    fn counts_the_last_sixty_seconds_and_forgets_older_ones() {
        let mut r = Recent::default();
        let busy = Outcome::Status503(Cause::Busy);
        r.record(at(0.5), Outcome::Ok);
        r.record(at(10.0), busy);
        r.record(at(59.9), busy);
        let m = r.last_minute(at(59.9));
        assert_eq!((m[Outcome::Ok.index()], m[busy.index()]), (1, 2));
        // At 60 s the first second has left the window; at 70 s the second one too.
        assert_eq!(r.last_minute(at(60.0))[Outcome::Ok.index()], 0);
        assert_eq!(r.last_minute(at(70.0))[busy.index()], 1);
        // A bucket reused a minute later starts from zero.
        r.record(at(70.5), busy);
        assert_eq!(r.last_minute(at(70.5))[busy.index()], 2);
        assert_eq!(r.last_minute(at(200.0)), [0; OUTCOME_COUNT]);
    }
}
