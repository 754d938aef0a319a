//! The proxy's per-client rate limit: a swarm over its rate gets 429s with a
//! Retry-After, and a swarm without a limit is untouched.

use crate::support::run;

const TWO_SWARMS: &str = r#"
[scenario]
name = "limits"
duration = "11m"
warmup = "1m"

[pool.gpu]
slots = 64
initial_instances = 4

[class.job]
pool = "gpu"
service = { dist = "constant", value = "100ms" }

[swarm.free]
class = "job"
arrivals = { process = "constant", rate = "20/s" }
rate_limit = "5/s"

[swarm.paid]
class = "job"
arrivals = { process = "constant", rate = "20/s" }
"#;

#[test]
fn a_limited_swarm_gets_429s_beyond_its_rate_and_the_other_none() {
    let r = run(TWO_SWARMS, 1);
    let free = &r.summary.swarms["free"];
    let paid = &r.summary.swarms["paid"];
    // Evenly spaced arrivals at 20/s against 5/s with burst 1: exactly a
    // quarter pass (every fourth arrival), give or take the window's edges.
    let ok = free.requests.succeeded as f64 / free.requests.offered as f64;
    assert!((ok - 0.25).abs() < 0.002, "free: {ok}");
    assert_eq!(free.attempts, free.requests.offered, "no retries: one attempt each");
    assert_eq!(paid.requests.failed, 0, "the unlimited swarm is untouched");
    assert_eq!(r.summary.attempts.status_429, free.requests.failed);
}

/// The shipped paid-vs-free story without its priority tiers: with the free
/// swarm rate-limited, the paying users keep their success rate through the
/// free users' surge; without an effective limit they lose it. Margins come
/// from the seeds.
#[test]
fn a_rate_limit_on_free_users_protects_the_paying_users_through_a_surge() {
    let text = crate::tiers::shipped_paid_vs_free(false);
    let unlimited = text.replace("rate_limit = \"3/s\"", "rate_limit = \"1000/s\"");
    let paid = |toml: &str| {
        let sc = crate::support::scenario(toml);
        let xs: Vec<f64> = (1..=5)
            .map(|seed| {
                stampede::engine::simulate(&sc, seed).expect("runs").summary.swarms["paid"]
                    .success_rate
                    .expect("requests")
            })
            .collect();
        crate::support::estimate(&xs)
    };
    let (with, without) = (paid(&text), paid(&unlimited));
    assert!(with.mean - with.half_width() > 0.98, "paid users with the limit: {with:?}");
    assert!(without.mean + without.half_width() < with.mean - with.half_width(), "{without:?} vs {with:?}");
}
