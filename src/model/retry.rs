//! Client retry strategies: when to retry an attempt, and how long to wait first.
//!
//! A strategy is two independent parts, as in most retry libraries:
//!
//! * a [`Backoff`]: the delay before retry n (n = 0 for the first retry), with
//!   the exact formulas from the design guide — expo(n) = min(cap, base·mult^n);
//!   full jitter uniform(0, expo(n)); equal jitter expo(n)/2 + uniform(0, expo(n)/2);
//!   decorrelated min(cap, uniform(base, 3·previous)); stepped ranges where retry n
//!   waits uniform(lowₙ, highₙ) and the last range repeats;
//! * a [`RetryPolicy`] around it: how many attempts in all, which outcomes are
//!   retried, and whether a `Retry-After` header stretches the wait.
//!
//! Both are pure: the caller passes the random stream, so the delays of one
//! logical request are the same whatever engine (simulated or live) runs it.

use rand::RngExt;

use crate::model::outcome::{Outcome, OutcomeSet};
use crate::rng::SimRng;
use crate::time::SimDuration;

/// How the exponential delay is randomised.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum Jitter {
    None,
    Full,
    Equal,
    Decorrelated,
}

/// The delay schedule between attempts.
#[derive(Clone, Debug, PartialEq)]
pub enum Backoff {
    /// Retry at once.
    Immediate,
    /// The same delay before every retry.
    Fixed(SimDuration),
    Exponential {
        base: SimDuration,
        multiplier: f64,
        cap: SimDuration,
        jitter: Jitter,
    },
    /// Retry n waits `uniform(ranges[n])`; the last range repeats.
    Stepped(Vec<(SimDuration, SimDuration)>),
}

impl Backoff {
    /// expo(n) = min(cap, base · multiplier^n), computed in floating point and
    /// clamped before it can overflow.
    pub fn expo(base: SimDuration, multiplier: f64, cap: SimDuration, n: u32) -> SimDuration {
        let exp = i32::try_from(n).unwrap_or(i32::MAX);
        let d = base.as_secs_f64() * multiplier.powi(exp);
        if d.is_finite() && d < cap.as_secs_f64() { SimDuration::from_secs_f64(d) } else { cap }
    }

    /// The delay before retry `n` (0-based). `prev` carries the previous sleep
    /// for decorrelated jitter; the first call must pass `&mut None`.
    pub fn delay(&self, n: u32, prev: &mut Option<SimDuration>, rng: &mut SimRng) -> SimDuration {
        let d = match self {
            Backoff::Immediate => SimDuration::ZERO,
            Backoff::Fixed(d) => *d,
            Backoff::Exponential { base, multiplier, cap, jitter } => {
                let e = Backoff::expo(*base, *multiplier, *cap, n);
                match jitter {
                    Jitter::None => e,
                    Jitter::Full => uniform(rng, SimDuration::ZERO, e),
                    Jitter::Equal => {
                        let half = SimDuration::from_nanos(e.as_nanos() / 2);
                        half + uniform(rng, SimDuration::ZERO, half)
                    }
                    Jitter::Decorrelated => {
                        let p = prev.unwrap_or(*base);
                        let hi = p.saturating_mul(3).max(*base);
                        uniform(rng, *base, hi).min(*cap)
                    }
                }
            }
            Backoff::Stepped(ranges) => {
                let i = (n as usize).min(ranges.len().saturating_sub(1));
                match ranges.get(i) {
                    Some(&(lo, hi)) => uniform(rng, lo, hi),
                    None => SimDuration::ZERO,
                }
            }
        };
        *prev = Some(d);
        d
    }

    /// The endless sequence of delays for one request (retry 0, 1, 2, …).
    pub fn delays<'a>(&'a self, rng: &'a mut SimRng) -> impl Iterator<Item = SimDuration> + 'a {
        let mut prev = None;
        (0u32..).map(move |n| self.delay(n, &mut prev, rng))
    }
}

fn uniform(rng: &mut SimRng, lo: SimDuration, hi: SimDuration) -> SimDuration {
    if hi <= lo { lo } else { SimDuration::from_nanos(rng.random_range(lo.as_nanos()..=hi.as_nanos())) }
}

/// A named client retry strategy.
#[derive(Clone, Debug, PartialEq)]
pub struct RetryPolicy {
    pub backoff: Backoff,
    /// Attempts in all, the first included (1 = never retry).
    pub max_attempts: u32,
    /// Outcomes that are retried; everything else fails the request at once.
    pub retry_on: OutcomeSet,
    /// Wait at least the response's `Retry-After` when it has one.
    pub honor_retry_after: bool,
}

impl RetryPolicy {
    /// The strategy that never retries.
    pub fn none() -> Self {
        RetryPolicy {
            backoff: Backoff::Immediate,
            max_attempts: 1,
            retry_on: OutcomeSet::EMPTY,
            honor_retry_after: false,
        }
    }
}

/// Per-request retry bookkeeping.
#[derive(Copy, Clone, Debug, Default)]
pub struct RetryState {
    /// Attempts sent so far.
    pub attempts: u32,
    prev_sleep: Option<SimDuration>,
}

/// What to do after a failed attempt.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum Decision {
    /// Send the next attempt after this delay.
    RetryAfter(SimDuration),
    /// The outcome is not one the strategy retries.
    NotRetryable,
    /// `max_attempts` reached.
    Exhausted,
    /// The strategy would retry, but the swarm's retry budget or retry
    /// throttling refused: the retry counts as rejected locally.
    Denied,
    /// The retry would start after the request's overall deadline.
    DeadlineExceeded,
}

impl RetryPolicy {
    /// Decides after a failed attempt (anything but [`Outcome::Ok`]).
    /// `retry_after` is the response's `Retry-After`, if it had one.
    pub fn on_failure(
        &self,
        state: &mut RetryState,
        outcome: Outcome,
        retry_after: Option<SimDuration>,
        rng: &mut SimRng,
    ) -> Decision {
        if !self.retry_on.contains(outcome) {
            return Decision::NotRetryable;
        }
        if state.attempts >= self.max_attempts {
            return Decision::Exhausted;
        }
        let n = state.attempts.saturating_sub(1);
        let mut d = self.backoff.delay(n, &mut state.prev_sleep, rng);
        if self.honor_retry_after
            && let Some(ra) = retry_after
        {
            d = d.max(ra);
        }
        Decision::RetryAfter(d)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::outcome::Cause;
    use crate::rng::{Stream, stream};

    fn s(x: u64) -> SimDuration {
        SimDuration::from_secs(x)
    }
    fn rng() -> SimRng {
        stream(1, Stream::Proxy)
    }

    #[test]
    fn plain_exponential_doubles_until_the_cap() {
        let b = Backoff::Exponential { base: s(1), multiplier: 2.0, cap: s(10), jitter: Jitter::None };
        let mut r = rng();
        let got: Vec<u64> = b.delays(&mut r).take(6).map(|d| d.as_nanos() / 1_000_000_000).collect();
        assert_eq!(got, [1, 2, 4, 8, 10, 10]);
    }

    #[test]
    fn huge_exponents_clamp_to_the_cap_without_overflow() {
        assert_eq!(Backoff::expo(s(1), 2.0, s(30), 5000), s(30));
        assert_eq!(Backoff::expo(s(1), 2.0, s(30), u32::MAX), s(30));
    }

    #[test]
    fn full_and_equal_jitter_stay_within_their_bounds() {
        let mut r = rng();
        for (jitter, low_frac) in [(Jitter::Full, 0.0), (Jitter::Equal, 0.5)] {
            let b = Backoff::Exponential { base: s(1), multiplier: 2.0, cap: s(20), jitter };
            let mut prev = None;
            for n in 0..10 {
                let e = Backoff::expo(s(1), 2.0, s(20), n).as_secs_f64();
                let d = b.delay(n, &mut prev, &mut r).as_secs_f64();
                assert!(
                    d >= e * low_frac - 1e-9 && d <= e + 1e-9,
                    "{jitter:?} n={n}: {d} not in [{}, {e}]",
                    e * low_frac
                );
            }
        }
    }

    #[test]
    fn decorrelated_jitter_draws_between_base_and_three_times_the_previous_sleep() {
        let b = Backoff::Exponential { base: s(1), multiplier: 2.0, cap: s(30), jitter: Jitter::Decorrelated };
        let mut r = rng();
        let mut prev = None;
        let mut last = 1.0_f64;
        for n in 0..50 {
            let d = b.delay(n, &mut prev, &mut r).as_secs_f64();
            assert!(d >= 1.0 - 1e-9, "below base: {d}");
            assert!(d <= (3.0 * last).min(30.0) + 1e-9, "above min(cap, 3·prev): {d} after {last}");
            last = d;
        }
    }

    fn millis(jitter: Jitter) -> Vec<u64> {
        let b = Backoff::Exponential { base: s(1), multiplier: 2.0, cap: s(20), jitter };
        let mut r = rng();
        b.delays(&mut r).take(6).map(|d| d.as_nanos() / 1_000_000).collect()
    }

    #[test]
    fn jittered_sequences_are_pinned_for_a_seed() {
        // Full: uniform(0, expo(n)), expo = 1, 2, 4, 8, 16, 20 s.
        assert_eq!(millis(Jitter::Full), [888, 1455, 3423, 5362, 6780, 10317]);
        // Equal: expo(n)/2 + uniform(0, expo(n)/2) — the same draws as above, halved and shifted.
        assert_eq!(millis(Jitter::Equal), [944, 1727, 3711, 6681, 11390, 15158]);
        // Decorrelated: min(20 s, uniform(1 s, 3 · previous)), from previous = 1 s.
        assert_eq!(millis(Jitter::Decorrelated), [2777, 6335, 16412, 20000, 20000, 20000]);
    }

    #[test]
    fn equal_jitter_is_half_of_expo_plus_half_of_full_jitter_on_the_same_draws() {
        let (full, equal) = (millis(Jitter::Full), millis(Jitter::Equal));
        for n in 0..6 {
            let e = Backoff::expo(s(1), 2.0, s(20), n as u32).as_nanos() / 1_000_000;
            let want = e / 2 + full[n] / 2;
            assert!(equal[n].abs_diff(want) <= 1, "retry {n}: equal {} vs {want}", equal[n]);
        }
    }

    #[test]
    fn stepped_draws_each_wait_from_its_range_and_repeats_the_last() {
        let ranges = vec![(s(2), s(5)), (s(8), s(15)), (s(20), s(40))];
        let b = Backoff::Stepped(ranges.clone());
        let mut r = rng();
        for (n, d) in b.delays(&mut r).take(6).enumerate() {
            let (lo, hi) = ranges[n.min(2)];
            assert!(lo <= d && d <= hi, "retry {n}: {d} outside {lo}..{hi}");
        }
    }

    #[test]
    fn the_same_seed_gives_the_same_jittered_sequence() {
        let b = Backoff::Exponential { base: s(1), multiplier: 2.0, cap: s(60), jitter: Jitter::Full };
        let (mut r1, mut r2) = (rng(), rng());
        let a: Vec<_> = b.delays(&mut r1).take(8).collect();
        let c: Vec<_> = b.delays(&mut r2).take(8).collect();
        assert_eq!(a, c);
        assert!(a.windows(2).any(|w| w[0] != w[1]), "jitter produced a constant sequence");
    }

    #[test]
    fn policy_stops_after_max_attempts_and_on_unretried_outcomes() {
        let p = RetryPolicy {
            backoff: Backoff::Fixed(s(3)),
            max_attempts: 3,
            retry_on: OutcomeSet::parse_entry("503").expect("503"),
            honor_retry_after: false,
        };
        let busy = Outcome::Status503(Cause::Busy);
        let mut st = RetryState { attempts: 1, ..Default::default() };
        let mut r = rng();
        assert_eq!(p.on_failure(&mut st, busy, None, &mut r), Decision::RetryAfter(s(3)));
        st.attempts = 2;
        assert_eq!(p.on_failure(&mut st, busy, None, &mut r), Decision::RetryAfter(s(3)));
        st.attempts = 3;
        assert_eq!(p.on_failure(&mut st, busy, None, &mut r), Decision::Exhausted);
        assert_eq!(p.on_failure(&mut st, Outcome::ClientTimeout, None, &mut r), Decision::NotRetryable);
    }

    #[test]
    fn retry_after_stretches_the_wait_only_when_honoured() {
        let mut p = RetryPolicy {
            backoff: Backoff::Fixed(s(1)),
            max_attempts: 5,
            retry_on: OutcomeSet::parse_entry("503").expect("503"),
            honor_retry_after: false,
        };
        let o = Outcome::Status503(Cause::FirstByteTimeout);
        let mut st = RetryState { attempts: 1, ..Default::default() };
        let mut r = rng();
        assert_eq!(p.on_failure(&mut st, o, Some(s(5)), &mut r), Decision::RetryAfter(s(1)));
        p.honor_retry_after = true;
        assert_eq!(p.on_failure(&mut st, o, Some(s(5)), &mut r), Decision::RetryAfter(s(5)));
        assert_eq!(p.on_failure(&mut st, o, None, &mut r), Decision::RetryAfter(s(1)));
    }
}
