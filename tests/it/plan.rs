//! `stampede plan` against queueing theory, and its errors; SLO gating of compare.

use stampede::criteria::slo;
use stampede::plan::{PlanRequest, plan};

use crate::support::{erlang_b, erlang_c, mmc, scratch, stampede, stderr};

fn answer(toml: &str, slo_text: &str) -> (u32, u32) {
    let req = PlanRequest {
        tune: "pool.gpu.slots=5..40".into(),
        slos: vec![slo::parse_inline(slo_text).expect("slo")],
        seeds: 10,
        confidence: 0.95,
        strategy: None,
        no_limits: false,
    };
    let r = plan(toml, "theory.toml", &[], &req, stampede::replication::Runner::Sim, 2, &|| {})
        .unwrap_or_else(|e| panic!("{e}"));
    let sim: u32 = r.recommendation.expect("attainable").parse().expect("integer");
    let theory = r.theory.expect("slots size the pool").value;
    (sim, theory)
}

#[test]
fn the_planner_finds_the_erlang_b_capacity_within_one_step() {
    // A loss system: the smallest c with B(c, 9) < 5% is 14 (B(13, 9) = 0.0540).
    let expected = (5..).find(|&c| erlang_b(c, 9.0) < 0.05).expect("exists");
    assert_eq!(expected, 14);
    let (sim, theory) = answer(&mmc(10, 9.0, Some(0), 2.0), "rate_503<0.05");
    assert_eq!(theory, expected);
    assert!(sim == expected || sim == expected + 1, "planner chose {sim}, Erlang B says {expected}");
}

#[test]
fn the_planner_finds_the_erlang_c_capacity_within_one_step() {
    // An unlimited queue: the smallest c with Wq = C(c, 9)/(c − 9) < 0.5 s is 11.
    let expected = (10..).find(|&c| erlang_c(c, 9.0) / (f64::from(c) - 9.0) < 0.5).expect("exists");
    assert_eq!(expected, 11);
    let (sim, theory) = answer(&mmc(10, 9.0, None, 2.0), "queue_wait_mean<0.5s");
    assert_eq!(theory, expected);
    assert!(sim == expected || sim == expected + 1, "planner chose {sim}, Erlang C says {expected}");
}

#[test]
fn the_command_writes_the_plan_and_its_vcl_and_exits_1_when_out_of_reach() {
    let out = scratch("plan-cli");
    let file = out.join("theory.toml");
    std::fs::write(&file, mmc(10, 9.0, Some(0), 2.0)).expect("write");
    let f = file.to_str().expect("utf8");
    let dir = out.join("r");
    let d = dir.to_str().expect("utf8");
    let o =
        stampede(&["plan", f, "--tune", "pool.gpu.slots=8..24", "--slo", "rate_503<0.05", "--seeds", "4", "--out", d]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let stdout = String::from_utf8_lossy(&o.stdout);
    for part in ["verdict", "theory", "Erlang B", "backend gpu {", ".first_byte_timeout ="] {
        assert!(stdout.contains(part), "`{part}` missing:\n{stdout}");
    }
    let vcl = std::fs::read_to_string(dir.join("plan.vcl")).expect("plan.vcl");
    assert!(vcl.contains("backend gpu {") && vcl.trim_end().ends_with('}'));
    let json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("plan.json")).expect("json")).expect("json");
    assert!(json["evaluated"].as_array().expect("list").len() >= 3);
    for chart in ["plan-rate_503.png", "plan-cost.svg"] {
        assert!(dir.join(chart).exists(), "{chart}");
    }
    // Below 2% blocking needs more than 12 slots: not in 2..12.
    let o =
        stampede(&["plan", f, "--tune", "pool.gpu.slots=2..12", "--slo", "rate_503<0.02", "--seeds", "3", "--out", d]);
    assert_eq!(o.status.code(), Some(1));
    // No recommendation, so no timeouts to write: none is claimed.
    let stdout = String::from_utf8_lossy(&o.stdout);
    assert!(stdout.contains("(also plan.json, plan-*.png/svg)"), "{stdout}");
    assert!(!dir.join("plan.vcl").exists(), "the first plan's VCL went with its run");
    let json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("plan.json")).expect("json")).expect("json");
    assert!(json["recommendation"].is_null() && json["verdict"].as_str().expect("text").starts_with("Not attainable"));
    let _ = std::fs::remove_dir_all(out);
}

/// A budget (`instance_seconds <`): the plan is the smallest count meeting
/// the other SLOs and the budget, tried from the smallest meeting the others
/// upward (an autoscaler can make a larger value cheaper). An SLO that gets worse as the key
/// rises (met at the bottom of the range, missed at the top) is refused
/// instead of being called unattainable by a bisection that assumes otherwise.
#[test]
fn a_budget_is_checked_at_the_smallest_count_meeting_the_rest() {
    // M/M/20 per two instances of 10 slots at 9 Erlangs: Erlang B(10, 9) =
    // 16.8% at one instance, 0.02% at two.
    let toml = mmc(10, 9.0, Some(0), 0.5);
    let run = |slos: &[&str]| {
        let req = PlanRequest {
            tune: "pool.gpu.initial_instances=1..4".into(),
            slos: slos.iter().map(|s| slo::parse_inline(s).expect("slo")).collect(),
            seeds: 2,
            confidence: 0.95,
            strategy: None,
            no_limits: false,
        };
        plan(&toml, "budget.toml", &[], &req, stampede::replication::Runner::Sim, 2, &|| {})
    };
    // Two instances for the 25 measured minutes: 3,000 instance-seconds.
    let r = run(&["rate_503<1%", "instance_seconds<4000"]).expect("plans");
    assert_eq!(r.recommendation.as_deref(), Some("2"), "{}", r.verdict);
    let r = run(&["rate_503<1%", "instance_seconds<2500"]).expect("plans");
    assert_eq!(r.recommendation, None);
    assert!(
        r.verdict.contains("= 2 is the smallest value that meets rate_503 < 1%, and it and every larger value miss"),
        "{}",
        r.verdict
    );
    assert_eq!(r.evaluated.len(), 4, "every value from 2 up was tried against the budget");
    let r = run(&["instance_seconds<2000"]).expect("plans");
    assert_eq!(r.recommendation.as_deref(), Some("1"), "a budget alone: the lowest value, {}", r.verdict);
    let e = run(&["rate_503>5%"]).expect_err("worse as the key rises").to_string();
    assert!(e.contains("= 1 meets the SLOs but pool.gpu.initial_instances = 4 misses rate_503 > 5%"), "{e}");
    assert!(e.contains("stampede sweep"), "{e}");
}

#[test]
fn bad_plan_input_exits_2_with_a_reason() {
    for (args, expected) in [
        (vec!["--tune", "pool.gpu.slots=2..12", "--slo", "rate_530<0.1"], "did you mean `rate_503`"),
        (vec!["--tune", "pool.gpu.slots=2..12", "--slo", "rate_503=0.1"], "not a threshold"),
        (vec!["--tune", "pool.gpu.slots=2..12", "--slo", "completion_p99<2"], "missing unit"),
        (vec!["--tune", "pool.gpu.slots=2..12"], "nothing to plan for"),
        (
            vec!["--tune", "proxy.director=random,round_robin", "--slo", "rate_503<0.1"],
            "give increasing numbers or durations",
        ),
        (vec!["--tune", "pool.gpu.slots=14,10,12", "--slo", "rate_503<0.1"], "give increasing numbers or durations"),
        (vec!["--tune", "pool.gpu.slots=2..13:2", "--slo", "rate_503<0.1"], "not a whole number of steps"),
        (vec!["--tune", "pool.gpu.slotz=2..12", "--slo", "rate_503<0.1"], "unknown key `slotz`"),
        (vec!["--tune", "pool.gpu.slots=2..12", "--slo", "rate_503<0.1", "--seeds", "1"], "at least 2"),
        (vec!["--tune", "pool.gpu.slots=2..12", "--slo", "rate_503<0.1", "--confidence", "1.5"], "--confidence"),
    ] {
        let mut full = vec!["plan", "scenarios/mmc-erlang.toml", "--quiet"];
        full.extend(args.iter());
        let o = stampede(&full);
        assert_eq!(o.status.code(), Some(2), "{args:?}");
        let err = stderr(&o);
        assert!(err.contains(expected), "{args:?}:\n{err}");
    }
}

#[test]
fn compare_exits_1_only_when_no_strategy_meets_the_slos() {
    let out = scratch("plan-cmp");
    let d = out.to_str().expect("utf8");
    // retry-storm's [slo]: only `none` meets it.
    let o = stampede(&["compare", "scenarios/retry-storm.toml", "--seeds", "3", "--quiet", "--out", d]);
    assert_eq!(o.status.code(), Some(0));
    let json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("compare.json")).expect("json")).expect("json");
    assert_eq!(json["slo_met_by"], serde_json::json!(["none"]));
    let o = stampede(&[
        "compare",
        "scenarios/retry-storm.toml",
        "--seeds",
        "3",
        "--strategies",
        "hammer,backoff",
        "--quiet",
        "--out",
        d,
    ]);
    assert_eq!(o.status.code(), Some(1));
    let _ = std::fs::remove_dir_all(out);
}
