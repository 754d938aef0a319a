//! The engine against queueing theory.
//!
//! Poisson arrivals, exponential service (mean 1 s), one backend instance with
//! c slots, no timeouts, no retries: the model is exactly M/M/c/K, and its
//! blocking probability and queue wait have closed forms. Each check runs ten
//! independent replications (seeds 1..=10) and requires the theoretical value
//! to lie in the 99.9% Student-t interval of their mean, and that interval to be
//! narrow enough to catch a wrong model.

use crate::support::{erlang_b, erlang_c, mmc, mmck_blocking, over, replications};

const REPS: u64 = 10;

/// Fraction of offered requests the backend turned away (queue full).
fn blocking(run: &stampede::engine::Run) -> f64 {
    let s = &run.summary;
    s.attempts.causes["backend_queue_full"] as f64 / s.requests.offered as f64
}

#[test]
fn loss_system_matches_erlang_b() {
    // Run lengths give a 99.9% interval under 3% of the value.
    for (c, a, hours) in [(10, 9.0, 2.0), (20, 19.0, 2.0), (4, 2.0, 12.0)] {
        let est = over(&replications(&mmc(c, a, Some(0), hours), REPS), blocking);
        est.assert_matches(erlang_b(c, a), 0.03, &format!("Erlang B(c = {c}, a = {a})"));
    }
}

#[test]
fn finite_queue_matches_mmck_blocking() {
    // (c, K, a): the guide's reference point, and one at 95% load.
    for (c, k, a, hours) in [(10, 15, 9.0, 10.0), (10, 20, 9.5, 16.0)] {
        let est = over(&replications(&mmc(c, a, Some(k - c), hours), REPS), blocking);
        est.assert_matches(mmck_blocking(c, k, a), 0.03, &format!("M/M/{c}/{k} blocking at a = {a}"));
    }
}

#[test]
fn infinite_queue_matches_erlang_c() {
    // Mean queue wait Wq = C / (cμ − λ) with μ = 1, and P(wait > 0) = C.
    // Run lengths give intervals under 6% (mean wait) and 2% (P(wait > 0)).
    for (c, a, hours) in [(10, 9.0, 10.0), (20, 19.0, 12.0), (2, 1.0, 16.0)] {
        let runs = replications(&mmc(c, a, None, hours), REPS);
        let c_prob = erlang_c(c, a);
        let wq = over(&runs, |r| r.recorder.queue_wait.mean_secs());
        wq.assert_matches(c_prob / (f64::from(c) - a), 0.06, &format!("Erlang C mean wait (c = {c}, a = {a})"));
        let waited = over(&runs, |r| {
            let q = &r.recorder.queue_wait;
            1.0 - q.zero_count() as f64 / q.count() as f64
        });
        waited.assert_matches(c_prob, 0.02, &format!("Erlang C P(wait > 0) (c = {c}, a = {a})"));
    }
}
