//! The engine against queueing theory.
//!
//! Poisson arrivals, exponential service (mean 1 s), one backend instance with
//! c slots, no timeouts, no retries: the model is exactly M/M/c/K, and its
//! blocking probability and queue wait have closed forms. Each check runs ten
//! independent replications (seeds 1..=10) and requires the theoretical value
//! to lie in the 99.9% Student-t interval of their mean, and that interval to be
//! narrow enough to catch a wrong model.
//!
//! Run lengths are set so that the interval expected from the spread of 40
//! seeds is at most about three quarters of the width allowed: the check of
//! narrowness then holds for these ten seeds by design, not because they
//! happened to be calm, and keeps holding when the random streams change.

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
    for (c, a, hours) in [(10, 9.0, 3.0), (20, 19.0, 4.0), (4, 2.0, 14.0)] {
        let est = over(&replications(&mmc(c, a, Some(0), hours), REPS), blocking);
        est.assert_matches(erlang_b(c, a), 0.03, &format!("Erlang B(c = {c}, a = {a})"));
    }
}

#[test]
fn finite_queue_matches_mmck_blocking() {
    // (c, K, a): the guide's reference point, and one at 95% load.
    for (c, k, a, hours) in [(10, 15, 9.0, 18.0), (10, 20, 9.5, 30.0)] {
        let est = over(&replications(&mmc(c, a, Some(k - c), hours), REPS), blocking);
        est.assert_matches(mmck_blocking(c, k, a), 0.03, &format!("M/M/{c}/{k} blocking at a = {a}"));
    }
}

#[test]
fn infinite_queue_matches_erlang_c() {
    // Mean queue wait Wq = C / (cμ − λ) with μ = 1, and P(wait > 0) = C.
    // Run lengths give intervals under 6% (mean wait) and 2% (P(wait > 0)).
    for (c, a, hours) in [(10, 9.0, 34.0), (20, 19.0, 54.0), (2, 1.0, 30.0)] {
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

#[test]
fn impatient_clients_match_erlang_a() {
    // M/M/c+M (Erlang-A): each client waits an exponential patience of mean
    // 1/θ for its job to leave the queue, then abandons (a client timeout);
    // a job in service is never abandoned. P(abandon) and P(wait > 0) from
    // the birth-death chain (Garnett, Mandelbaum & Reiman 2002): the guide's
    // reference point (λ = 9, c = 10, θ = 0.5), and an overloaded pool
    // (λ = 12) that only abandonment keeps stable. Run lengths give intervals
    // under 5% (P(abandon)) and 2% (P(wait > 0)).
    use crate::support::erlang_a;
    for (c, a, theta, hours) in [(10, 9.0, 0.5, 8.0), (10, 12.0, 1.0, 2.0)] {
        let patience = format!("patience = \"{}ms\"\n", (1000.0 / theta) as u64);
        let toml = mmc(c, a, None, hours) + &patience;
        let runs = replications(&toml, REPS);
        let (wait, abandon, _) = erlang_a(c, a, theta);
        let abandoned = over(&runs, |r| {
            let s = &r.summary;
            assert_eq!(s.attempts.client_timeout, s.requests.failed, "abandoning is the only failure");
            s.attempts.client_timeout as f64 / s.requests.offered as f64
        });
        abandoned.assert_matches(abandon, 0.05, &format!("Erlang-A P(abandon) (c = {c}, a = {a}, θ = {theta})"));
        // Every arrival either starts at once, waits and starts, or waits and abandons.
        let waited = over(&runs, |r| {
            let q = &r.recorder.queue_wait;
            let s = &r.summary;
            let started = q.count() as f64;
            let abandoned = s.attempts.client_timeout as f64;
            (started - q.zero_count() as f64 + abandoned) / (started + abandoned)
        });
        waited.assert_matches(wait, 0.02, &format!("Erlang-A P(wait > 0) (c = {c}, a = {a}, θ = {theta})"));
    }
}
