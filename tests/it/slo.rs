//! Latency SLOs that count failed requests: a storm in which most requests
//! fail must not pass a completion-time threshold because the few that
//! succeed are fast.

use crate::support::shipped;

use stampede::criteria::Metric;
use stampede::engine::simulate;

#[test]
fn latency_slo_fails_when_most_requests_fail_even_though_successes_are_fast() {
    let sc = shipped("retry-storm.toml");
    let s = simulate(&sc, sc.seed).expect("the run finishes").summary;
    let success = s.success_rate.expect("requests offered");
    assert!(success < 0.5, "the storm: {success}");
    // The successes-only p99 looks healthy: the failures are not in its sample.
    assert!(s.metric(Metric::CompletionP99).expect("successes") < 30.0);
    // Counting failures as never completing, 90% of requests did not complete in any time.
    assert_eq!(s.metric(Metric::CompletionAllP90), Some(f64::INFINITY));
    let slo = s.slo.iter().find(|r| r.metric == "completion_all_p90").expect("the shipped [slo] uses it");
    assert!(!slo.passed && slo.value.is_infinite(), "{slo:?}");
    // Goodput is what got through: successes per measured second.
    let measured = s.duration_s - s.warmup_s;
    let goodput = s.goodput.expect("measured time");
    assert!((goodput - s.requests.succeeded as f64 / measured).abs() < 1e-6, "{goodput}");
}

#[test]
fn without_retries_the_storm_ends_and_the_latency_slo_passes() {
    let sc = shipped("retry-storm.toml").with_strategy("none").expect("strategy");
    let s = simulate(&sc, sc.seed).expect("the run finishes").summary;
    let p90 = s.metric(Metric::CompletionAllP90).expect("defined");
    assert!(p90.is_finite() && p90 < 30.0, "{p90}");
    // The all-request p90 is at least the successes-only one of the same rank.
    assert!(p90 >= s.metric(Metric::CompletionP50).expect("successes"));
    assert!(s.slo_passed(), "{:?}", s.slo);
}

#[test]
fn thresholds_a_run_cannot_give_a_value_or_that_are_no_limit_are_bad_input() {
    use crate::support::{stampede, stderr};
    let file = "scenarios/live-vs-sim.toml";
    for (slo, says) in [
        ("bulk_success_rate>0.9", "no swarm submits bulk jobs"),
        ("hit_ratio>0.5", "no class is cached"),
        ("instance_seconds<nan", "`nan` is not a number"),
        ("instance_seconds<inf", "`inf` is not a number"),
    ] {
        let o = stampede(&["run", file, "--slo", slo, "--quiet"]);
        assert_eq!(o.status.code(), Some(2), "{slo}: {}", stderr(&o));
        assert!(stderr(&o).contains(says), "{slo}: {}", stderr(&o));
    }
    // Recovery needs something to recover from: M/M/10 has no chaos and no surge.
    for slo in ["recovery_time<2m", "recovered>0.5", "post_success_rate>0.9", "post_amplification<2"] {
        let o = stampede(&["run", "scenarios/mmc-erlang.toml", "--slo", slo, "--quiet"]);
        assert_eq!(o.status.code(), Some(2), "{slo}: {}", stderr(&o));
        assert!(stderr(&o).contains("no chaos event and no traffic surge"), "{slo}: {}", stderr(&o));
    }
    // In the file, the error names the key and its line.
    let text = std::fs::read_to_string(file).expect("the file") + "\n[slo]\nbulk_success_rate = \"> 0.9\"\n";
    let e = stampede::scenario::Scenario::parse(&text, "x.toml").expect_err("no bulk jobs").to_string();
    assert!(e.contains("slo.bulk_success_rate") && e.contains("no swarm submits bulk jobs"), "{e}");
    // A spike after the end never happens, as a chaos event there would not.
    let spike =
        r#"swarm.steady.arrivals={ process = "spike", base = "1/s", peak = "5/s", start = "30m", length = "1m" }"#;
    let o = stampede(&["validate", file, "--set", spike]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).contains("swarm.steady.arrivals.start: the spike starts (30m00s) at or after the end of the run")
    );
}
