//! Hedged requests against their closed forms, with no queueing (far more
//! slots than jobs).
//!
//! A hedge repeats the request: same class, same work. So it can only win
//! where attempts differ, in what happens to them on the way (queues,
//! instances, the network), here an injected latency L ~ uniform(0, 2 s)
//! drawn per attempt. With a hedge after d, a request completes at
//! T = L₁ if L₁ ≤ d, else min(L₁, d + L₂); for d = 0.5 s,
//! P(T > t) = 1 − t/2 below d and (2 − t)(2.5 − t)/4 above it, so
//! E[T] = 0.859375 s, p90 = 1.5699 s (1.8 s without), and a request sends
//! 1.75 attempts, 0.75 of them cancelled. Where the work itself is long,
//! a hedge never wins: it only costs GPU time.

use crate::support::{mmc, over, replications};

/// λ = 4/s for 2 h, zero work, a uniform(0, 2 s) latency on every answer;
/// `strategy` (a TOML table body) for the swarm.
fn jittery(strategy: &str) -> String {
    let toml = mmc(1024, 4.0, None, 2.0)
        .replace(
            r#"service = { dist = "exponential", mean = "1s" }"#,
            r#"service = { dist = "constant", value = "0s" }"#,
        )
        .replace("[swarm.poisson]\n", &format!("[strategy.s]\n{strategy}\n\n[swarm.poisson]\n"));
    toml + "strategy = \"s\"\n\n[[chaos]]\nkind = \"latency\"\npool = \"gpu\"\nadded = \"1s\"\njitter = \"1s\"\nat = \"0s\"\nduration = \"2h\"\n"
}

const HEDGE: &str = "kind = \"none\"\nmax_attempts = 2\nhedge_after = \"500ms\"";

fn secs(ms: Option<f64>) -> f64 {
    ms.expect("completions") / 1000.0
}

#[test]
fn a_hedge_after_half_a_second_cuts_the_latency_tail_as_the_closed_form_says() {
    let runs = replications(&jittery(HEDGE), 6);
    over(&runs, |r| secs(r.summary.completion_ms.mean)).assert_matches(0.859375, 0.02, "mean completion (s)");
    over(&runs, |r| secs(r.summary.completion_ms.p90)).assert_matches(1.56993, 0.02, "p90 completion (s)");
    over(&runs, |r| r.summary.amplification.expect("requests")).assert_matches(1.75, 0.01, "attempts per request");
    over(&runs, |r| {
        let a = &r.summary.attempts;
        a.cancelled.expect("listed: the strategy hedges") as f64 / (a.total - a.unfinished) as f64
    })
    .assert_matches(0.75 / 1.75, 0.02, "share of attempts cancelled");
    for r in &runs {
        let a = &r.summary.attempts;
        assert_eq!(
            a.total,
            a.ok + a.cancelled.unwrap_or(0) + a.unfinished,
            "every attempt answers, is cancelled or is in flight"
        );
        assert!(r.summary.success_rate.expect("requests") > 0.999, "only the last instants' requests are unfinished");
    }
    // The same arrivals and latencies without the hedge: uniform(0, 2 s).
    let plain = replications(&jittery("kind = \"none\""), 6);
    over(&plain, |r| secs(r.summary.completion_ms.p90)).assert_matches(1.8, 0.02, "p90 without hedging (s)");
    assert!(plain.iter().all(|r| r.summary.attempts.cancelled.is_none()), "not listed without hedging");
}

/// Exponential work of mean 1 s and nothing else: the hedge of a long job
/// starts d later with the same work, so it always loses. Completion stays
/// exponential and every hedge (e^−1 of the requests) is cancelled.
#[test]
fn a_hedge_of_the_same_long_work_never_wins_and_only_costs_gpu_time() {
    let strategy = "[strategy.s]\nkind = \"none\"\nmax_attempts = 2\nhedge_after = \"1s\"\n\n";
    let toml = mmc(1024, 2.0, None, 2.0).replace("[swarm.poisson]\n", &format!("{strategy}[swarm.poisson]\n"))
        + "strategy = \"s\"\n";
    let runs = replications(&toml, 6);
    over(&runs, |r| secs(r.summary.completion_ms.mean)).assert_matches(1.0, 0.03, "mean completion (s)");
    over(&runs, |r| r.summary.amplification.expect("requests")).assert_matches(
        1.0 + (-1f64).exp(),
        0.01,
        "attempts per request",
    );
    for r in &runs {
        let a = &r.summary.attempts;
        assert_eq!(a.cancelled, Some(a.total - a.ok - a.unfinished), "the hedges lost");
        assert!(r.summary.gpu.wasted_seconds > 0.0, "the losers' GPU time is wasted");
    }
}

/// The same rule on real sockets: 3 simulated minutes at time scale 20 (9 s),
/// latency uniform(0, 4 s), a hedge after 1 s. A request hedges with
/// probability 0.75, so it sends 1.75 attempts and 0.75/1.75 of the attempts
/// are cancelled; both engines within 4 binomial standard errors of that.
/// (Attempts still in flight at the end are not counted: with answers due
/// within 4 s of 170 measured, that bias is under one standard error.)
#[test]
fn the_live_engine_hedges_as_the_simulator_does() {
    let toml = mmc(1024, 2.0, None, 0.05)
        .replace("warmup = \"5m\"", "warmup = \"10s\"")
        .replace(
            r#"service = { dist = "exponential", mean = "1s" }"#,
            r#"service = { dist = "constant", value = "0s" }"#,
        )
        .replace(
            "[swarm.poisson]\n",
            "[strategy.s]\nkind = \"none\"\nmax_attempts = 2\nhedge_after = \"1s\"\n\n[swarm.poisson]\n",
        )
        + "strategy = \"s\"\n\n[[chaos]]\nkind = \"latency\"\npool = \"gpu\"\nadded = \"2s\"\njitter = \"2s\"\nat = \"0s\"\nduration = \"3m\"\n";
    let sc = crate::support::scenario(&toml);
    let sim = stampede::engine::simulate(&sc, 1).expect("simulates");
    let live = stampede::live::run(&sc, 1, 20.0).expect("runs live");
    for (engine, run) in [("sim", &sim), ("live", &live)] {
        let (s, a) = (&run.summary, &run.summary.attempts);
        let n = s.requests.offered as f64;
        let amp = s.amplification.expect("requests");
        let amp_se = (0.75 * 0.25 / n).sqrt();
        assert!((amp - 1.75).abs() < 4.0 * amp_se, "{engine}: {amp} attempts per request (n = {n})");
        let share = a.cancelled.expect("hedging") as f64 / a.total as f64;
        let p = 0.75 / 1.75;
        let share_se = (p * (1.0 - p) / a.total as f64).sqrt();
        assert!((share - p).abs() < 4.0 * share_se, "{engine}: {share} of attempts cancelled");
    }
}
