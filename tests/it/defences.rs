//! Overload and its defences: load-dependent service against queueing
//! theory, and the metastable retry storm of Bronson et al. (HotOS'21) stuck
//! with plain retries and cured by client-side defences.

use stampede::criteria::Metric;
use stampede::engine::simulate;

use crate::support::{estimate, mmc, replications, shipped};

/// M/M/1 processor sharing: a pool whose one instance shares its speed among
/// every job in service (linear curve, knee 1, slope 1). Its mean response
/// time is E[S] / (1 − ρ) whatever the service distribution: 2 s at ρ = 0.5.
#[test]
fn processor_sharing_through_the_load_curve_has_the_textbook_mean_response() {
    let toml = mmc(1024, 0.5, None, 20.0)
        .replace("slots = 1024\n", "slots = 1024\nload = { curve = \"linear\", knee = 1, slope = 1.0 }\n");
    let runs = replications(&toml, 6);
    let e = crate::support::over(&runs, |r| r.summary.completion_ms.mean.expect("requests completed") / 1000.0);
    e.assert_matches(2.0, 0.05, "M/M/1-PS mean response (s)");
}

/// Bronson's example: at 280 req/s a 10 s stall leaves plain retries stuck
/// (amplification ~2, near-zero goodput after the trigger), while the same
/// retries under a retry budget recover. The gap between them is checked
/// against the spread over seeds, not a hand-picked margin.
#[test]
fn the_metastable_scenario_stays_stuck_with_plain_retries_and_recovers_with_a_budget() {
    let sc = shipped("metastable-retry.toml");
    let rate = |name: &str, f: &dyn Fn(&stampede::metrics::summary::Summary) -> f64| {
        let sc = sc.clone().with_strategy(name).expect("strategy");
        estimate(&(1..=4).map(|seed| f(&simulate(&sc, seed).expect("runs").summary)).collect::<Vec<_>>())
    };
    let success = |s: &stampede::metrics::summary::Summary| s.success_rate.expect("requests");
    let plain = rate("plain", &success);
    let budget = rate("budget", &success);
    assert!(
        plain.mean + plain.half_width() < budget.mean - budget.half_width(),
        "plain {plain:?} vs budget {budget:?}"
    );
    // Stuck: after the first minute nothing succeeds; about 2 attempts per request.
    assert!(plain.mean + plain.half_width() < 0.25, "plain retries recovered: {plain:?}");
    assert!(budget.mean - budget.half_width() > 0.9, "the budget did not recover: {budget:?}");
    let amp = rate("plain", &|s| s.amplification.expect("requests"));
    assert!(amp.mean - amp.half_width() > 1.7, "a stuck run retries every request: {amp:?}");
}

/// Defences that refuse attempts count them as local rejects, never as sent.
#[test]
fn a_circuit_breaker_rejects_locally_and_those_attempts_are_not_sent() {
    let sc = shipped("metastable-retry.toml").with_strategy("breaker").expect("strategy");
    let runs: Vec<_> = (1..=2).map(|seed| simulate(&sc, seed).expect("runs")).collect();
    for r in &runs {
        let a = &r.summary.attempts;
        assert!(a.local_reject > 0, "the breaker opened during the stall");
        assert_eq!(a.total, a.ok + a.status_503 + a.status_429 + a.client_timeout + a.connect_error + a.unfinished);
    }
}

/// Recovery detection tells the stuck run from the recovered one, per seed.
#[test]
fn recovery_detection_calls_plain_retries_metastable_and_the_budget_recovered() {
    let sc = shipped("metastable-retry.toml");
    for seed in 1..=3 {
        let plain = simulate(&sc.clone().with_strategy("plain").expect("plain"), seed).expect("runs").summary;
        let budget = simulate(&sc.clone().with_strategy("budget").expect("budget"), seed).expect("runs").summary;
        assert_eq!(plain.metric(Metric::Recovered), Some(0.0), "seed {seed}");
        assert_eq!(plain.metric(Metric::RecoveryTime), Some(f64::INFINITY));
        assert!(plain.metric(Metric::PostAmplification).expect("defined") > 1.9, "about two attempts per request");
        assert!(plain.metric(Metric::PostSuccessRate).expect("defined") < 0.01);
        assert_eq!(budget.metric(Metric::Recovered), Some(1.0), "seed {seed}");
        assert!(budget.metric(Metric::RecoveryTime).expect("defined") <= 60.0);
    }
}
