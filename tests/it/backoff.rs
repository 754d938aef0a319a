//! Retry strategies as the engine applies them.
//!
//! The pool has no instance, so every attempt gets the proxy's synthetic 503
//! ("unhealthy") at once and the gaps between a request's attempts are exactly
//! its strategy's delays. Each strategy's delay sequence must follow its
//! formula (GUIDE.md) for every request of the run.

use stampede::engine::simulate_traced;

use crate::support::{AttemptTimes, estimate, scenario};

/// The gaps (seconds) between attempts of each request under `strategy`.
fn gaps(strategy: &str) -> Vec<Vec<f64>> {
    let toml = format!(
        r#"
[scenario]
name = "backoff"
duration = "2h"

[pool.gpu]
initial_instances = 0
min_instances = 0

[class.c]
pool = "gpu"
service = {{ dist = "constant", value = "1s" }}

[strategy.s]
{strategy}

[swarm.s]
class = "c"
arrivals = {{ process = "steps", steps = [{{ at = "0s", rate = "1/s" }}, {{ at = "10m", rate = "0/s" }}] }}
strategy = "s"
"#
    );
    let mut t = AttemptTimes::default();
    let run = simulate_traced(&scenario(&toml), 21, &mut t).expect("the run finishes");
    assert_eq!(run.summary.requests.unfinished, 0);
    assert!(run.summary.attempts.causes["unhealthy"] == run.summary.attempts.total, "every attempt fails at once");
    let all = t.gaps();
    assert!(all.len() > 400, "enough requests: {}", all.len());
    all
}

fn expo(n: usize, base: f64, mult: f64, cap: f64) -> f64 {
    (base * mult.powi(n as i32)).min(cap)
}

const EPS: f64 = 1e-9;

#[test]
fn immediate_and_fixed_retry_on_schedule_up_to_max_attempts() {
    for g in gaps("kind = \"immediate\"\nmax_attempts = 4") {
        assert_eq!(g, [0.0, 0.0, 0.0]);
    }
    for g in gaps("kind = \"fixed\"\ndelay = \"2.5s\"\nmax_attempts = 3") {
        assert_eq!(g, [2.5, 2.5]);
    }
}

#[test]
fn exponential_without_jitter_doubles_to_the_cap() {
    for g in gaps("kind = \"exponential\"\nbase = \"1s\"\ncap = \"10s\"\nmax_attempts = 7") {
        assert_eq!(g, [1.0, 2.0, 4.0, 8.0, 10.0, 10.0]);
    }
}

#[test]
fn full_jitter_draws_uniformly_below_the_exponential() {
    let all = gaps("kind = \"exponential\"\nbase = \"1s\"\ncap = \"30s\"\njitter = \"full\"\nmax_attempts = 5");
    for n in 0..4 {
        let e = expo(n, 1.0, 2.0, 30.0);
        let xs: Vec<f64> = all.iter().map(|g| g[n]).collect();
        assert!(xs.iter().all(|&x| (-EPS..=e + EPS).contains(&x)), "retry {n} outside [0, {e}]");
        // Uniform(0, e) has mean e/2: the sample mean must agree within its 99.9% interval.
        let est = estimate(&xs);
        assert!((est.mean - e / 2.0).abs() <= est.half_width(), "retry {n}: mean {} vs {}", est.mean, e / 2.0);
    }
}

#[test]
fn equal_jitter_keeps_at_least_half_the_exponential() {
    for g in gaps("kind = \"exponential\"\nbase = \"2s\"\ncap = \"20s\"\njitter = \"equal\"\nmax_attempts = 6") {
        for (n, &x) in g.iter().enumerate() {
            let e = expo(n, 2.0, 2.0, 20.0);
            assert!(x >= e / 2.0 - EPS && x <= e + EPS, "retry {n}: {x} outside [{}, {e}]", e / 2.0);
        }
    }
}

#[test]
fn decorrelated_jitter_stays_between_base_and_three_times_the_last_sleep() {
    for g in gaps("kind = \"exponential\"\nbase = \"1s\"\ncap = \"12s\"\njitter = \"decorrelated\"\nmax_attempts = 8") {
        let mut prev = 1.0_f64;
        for &x in &g {
            assert!(x >= 1.0 - EPS && x <= (3.0 * prev).min(12.0) + EPS, "{x} after {prev}");
            prev = x;
        }
    }
}

#[test]
fn stepped_draws_each_wait_from_its_range_and_repeats_the_last() {
    let all = gaps(
        "kind = \"stepped\"\nranges = [[\"2s\", \"5s\"], [\"8s\", \"15s\"], [\"20s\", \"40s\"]]\nmax_attempts = 7",
    );
    let ranges = [(2.0, 5.0), (8.0, 15.0), (20.0, 40.0)];
    for g in &all {
        assert_eq!(g.len(), 6, "7 attempts in all");
        for (n, &x) in g.iter().enumerate() {
            let (lo, hi) = ranges[n.min(2)];
            assert!(x >= lo - EPS && x <= hi + EPS, "wait {n}: {x} outside {lo}..{hi}");
        }
    }
    // The draws cover their ranges rather than sticking to one end.
    let first: Vec<f64> = all.iter().map(|g| g[0]).collect();
    let (min, max) = first.iter().fold((f64::MAX, f64::MIN), |(a, b), &x| (a.min(x), b.max(x)));
    assert!(min < 2.2 && max > 4.8, "first waits span {min}..{max}");
}

#[test]
fn honouring_retry_after_waits_for_the_proxys_five_seconds() {
    for g in gaps("kind = \"fixed\"\ndelay = \"1s\"\nmax_attempts = 3\nhonor_retry_after = true") {
        assert_eq!(g, [5.0, 5.0], "Varnish's synthetic 503 says Retry-After: 5");
    }
}

#[test]
fn outcomes_not_listed_in_retry_on_are_not_retried() {
    for g in gaps("kind = \"immediate\"\nmax_attempts = 5\nretry_on = [\"429\", \"client_timeout\"]") {
        assert!(g.is_empty(), "an unhealthy 503 is not in retry_on");
    }
}
