//! What a score covers: with `--swarms`, a comparison (and a sweep) scores the
//! requests of the swarms that took the strategy, not every swarm's; metrics
//! recorded per pool stay pool-wide and are named as such.

use crate::support::{scratch, shipped, stampede, stderr};

use stampede::compare::{Comparison, Plan, Request, run_cells};
use stampede::criteria::Metric;
use stampede::engine::simulate;
use stampede::report::spread::clamp;
use stampede::stats::mean_ci;

#[test]
fn scoping_to_every_swarm_changes_nothing_and_to_one_swarm_gives_its_numbers() {
    let sc = shipped("playground-img2img.toml");
    let run = simulate(&sc, 7).expect("the run finishes");
    let all: Vec<usize> = (0..sc.swarms.len()).collect();
    assert_eq!(run.summary.scoped(&sc, &run.recorder, &all), run.summary);
    let surge = sc.find_swarm("surge").expect("surge");
    let one = run.summary.scoped(&sc, &run.recorder, &[surge]);
    let own = &run.summary.swarms["surge"];
    assert_eq!(one.scope, Some(vec!["surge".to_string()]));
    assert_eq!(one.requests, own.requests);
    assert_eq!(
        (one.success_rate, one.rate_503, one.amplification),
        (own.success_rate, own.rate_503, own.amplification)
    );
    assert_eq!((&one.completion_ms, &one.completion_all_ms), (&own.completion_ms, &own.completion_all_ms));
    assert_eq!(one.attempts.total, own.attempts);
    assert_eq!(one.swarms.keys().collect::<Vec<_>>(), ["surge"]);
    assert_eq!(one.slo, run.summary.slo, "SLOs describe the whole service");
    // The surge swarm does much worse than the service as a whole.
    assert!(one.success_rate < run.summary.success_rate, "{:?} vs {:?}", one.success_rate, run.summary.success_rate);
    for &m in Metric::ALL {
        if m.pool_wide() {
            assert_eq!(one.metric(m), run.summary.metric(m), "{m} is per pool");
        }
    }
}

#[test]
fn compare_scores_only_the_swarms_that_took_the_strategy_unless_told_otherwise() {
    let sc = shipped("playground-img2img.toml");
    let scored = |score_all: bool| {
        let req = Request {
            strategies: Some(vec!["immediate".into(), "none".into()]),
            swarms: Some(vec!["surge".into()]),
            seeds: Some(3),
            score_all,
            ..Default::default()
        };
        let plan = Plan::new(sc.clone(), &req).expect("plan");
        let cells = run_cells(&plan, stampede::replication::Runner::Sim, 2, &|| {}).expect("the runs finish");
        (Comparison::build(&plan, &cells), cells)
    };
    let (c, cells) = scored(false);
    assert_eq!(c.scored_swarms, ["surge"]);
    assert!(
        c.pool_wide.contains(&"instance_seconds".to_string())
            && c.pool_wide.contains(&"wasted_gpu_seconds".to_string())
    );
    assert!(!c.pool_wide.contains(&"success_rate".to_string()));
    for (s, name) in ["immediate", "none"].iter().enumerate() {
        let of_surge: Vec<f64> =
            cells[s].iter().map(|cell| cell.summary.swarms["surge"].success_rate.expect("offered")).collect();
        let want = mean_ci(&of_surge).map(|i| clamp("success_rate", &i));
        assert_eq!(c.strategy(name).expect(name).metrics["success_rate"], want, "{name}");
    }
    let (all, cells) = scored(true);
    assert_eq!(all.scored_swarms, ["bulk", "surge", "web"]);
    assert!(all.pool_wide.is_empty());
    let whole: Vec<f64> = cells[0].iter().map(|cell| cell.summary.success_rate.expect("offered")).collect();
    let want = mean_ci(&whole).map(|i| clamp("success_rate", &i));
    assert_eq!(all.strategy("immediate").expect("immediate").metrics["success_rate"], want);
}

/// paid-vs-free compares the free swarm's strategies against an SLO on the
/// paid tier: the SLO's column and its seeds met are the service's, as the
/// verdict judges it, not undefined in the free swarm's scope ("0 of 5").
#[test]
fn an_slo_outside_the_scored_swarms_is_shown_as_it_is_judged() {
    let sc = shipped("paid-vs-free.toml");
    let req = Request { seeds: Some(2), strategies: Some(vec!["polite".into(), "none".into()]), ..Default::default() };
    let plan = Plan::new(sc, &req).expect("plan");
    let cells = run_cells(&plan, stampede::replication::Runner::Sim, 2, &|| {}).expect("the runs finish");
    let c = Comparison::build(&plan, &cells);
    assert_eq!(
        (c.scored_swarms.clone(), c.service_wide.clone()),
        (vec!["free".to_string()], vec!["tier.paid.failure_rate".to_string()])
    );
    for s in &c.strategies {
        let seeds = &s.per_seed["tier.paid.failure_rate"];
        assert!(seeds.iter().all(Option::is_some), "{}: {seeds:?}", s.name);
        let met = stampede::report::table::seeds_meeting_all(&plan.slos, |m| s.per_seed.get(m).cloned());
        assert_eq!(met.0 == 2, s.slo.iter().all(|r| r.passed), "{}: seeds met {met:?} vs {:?}", s.name, s.slo);
    }
}

#[test]
fn the_report_says_which_swarms_a_score_covers() {
    let out = scratch("scope-report");
    let d = out.to_str().expect("utf8");
    let args = ["compare", "scenarios/playground-img2img.toml", "--swarms", "surge", "--strategies", "immediate,none"];
    let o = stampede(&[&args[..], &["--seeds", "2", "--out", d]].concat());
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let text = String::from_utf8_lossy(&o.stdout);
    assert!(
        text.contains("Scores cover swarm(s) surge only; wasted_gpu_seconds, instance_seconds are per pool"),
        "{text}"
    );
    let md = std::fs::read_to_string(out.join("report.md")).expect("report.md");
    assert!(md.contains("Scores cover swarm(s) `surge` only"), "{md}");
    let json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("compare.json")).expect("json")).expect("json");
    assert_eq!(json["scored_swarms"], serde_json::json!(["surge"]));
    let o = stampede(&[&args[..], &["--seeds", "2", "--score", "all", "--quiet", "--json", "-", "--out", d]].concat());
    let json: serde_json::Value = serde_json::from_slice(&o.stdout).expect("json");
    assert_eq!(json["scored_swarms"], serde_json::json!(["bulk", "surge", "web"]));
    let _ = std::fs::remove_dir_all(out);
}

#[test]
fn a_sweep_with_swarms_scores_those_swarms() {
    let out = scratch("scope-sweep");
    let d = out.to_str().expect("utf8");
    let o = stampede(&[
        "sweep",
        "scenarios/playground-img2img.toml",
        "--vary",
        "pool.a100.max_instances=48",
        "--strategies",
        "none",
        "--swarms",
        "surge",
        "--seeds",
        "2",
        "--metrics",
        "success_rate,instance_seconds",
        "--quiet",
        "--out",
        d,
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("sweep.json")).expect("json")).expect("json");
    assert_eq!(json["scored_swarms"], serde_json::json!(["surge"]));
    assert_eq!(json["pool_wide"], serde_json::json!(["instance_seconds"]));
    // The sweep's point, run here: its mean is over the surge swarm's requests.
    let base = std::fs::read_to_string("scenarios/playground-img2img.toml").expect("read");
    let point = ["pool.a100.max_instances=48".parse().expect("override")];
    let sc = stampede::scenario::Scenario::parse_with(&base, "playground-img2img.toml", &point).expect("valid");
    let surge_index = sc.find_swarm("surge").expect("surge");
    let seed = sc.seed;
    let sc = sc.with_strategy_for("none", &[surge_index]).expect("none");
    let surge: Vec<f64> = [seed, seed + 1]
        .iter()
        .map(|&k| simulate(&sc, k).expect("the run finishes").summary.swarms["surge"].success_rate.expect("offered"))
        .collect();
    let mean = json["points"][0]["metrics"]["success_rate"]["mean"].as_f64().expect("mean");
    assert!((mean - mean_ci(&surge).expect("two").mean).abs() < 1e-12, "{mean} vs {surge:?}");
    // An SLO on a tier outside the scored swarms counts seeds as it is judged,
    // over every swarm: paid-vs-free's paid users keep 99.9% in both seeds.
    let args = ["sweep", "scenarios/paid-vs-free.toml", "--vary", "pool.gpu.slots=4", "--swarms", "free"];
    let o = stampede(&[&args[..], &["--seeds", "2", "--quiet", "--json", "-", "--out", d]].concat());
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let json: serde_json::Value = serde_json::from_slice(&o.stdout).expect("json");
    assert_eq!((json["points"][0]["slos_met"].as_u64(), json["points"][0]["slo_met"].as_bool()), (Some(2), Some(true)));
    let _ = std::fs::remove_dir_all(out);
}
