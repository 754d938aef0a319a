//! One rule for a metric that is undefined in some seeds, whichever command
//! replicates the runs (docs/metrics.md, "Undefined values over seeds"): each
//! seed's value is kept (null when undefined); the mean and interval are over
//! the seeds that define it, with `n` saying how many; and a threshold on it is
//! not met, because an undefined seed cannot meet it. The same fixture goes
//! through compare, sweep and plan, and each must agree with the runs
//! themselves.

use stampede::compare::{self, Comparison};
use stampede::criteria::Metric;
use stampede::engine::simulate;
use stampede::plan::{self, PlanRequest};
use stampede::stats::Interval;
use stampede::sweep::result::SweepResult;
use stampede::sweep::{Sweep, SweepSpec};

use crate::support::scenario;

/// Two requests a minute for 30 s: some seeds offer none, so no request
/// succeeds and `completion_p99` is undefined there; the others succeed fast.
const SPARSE: &str = r#"
[scenario]
name = "sparse"
duration = "30s"
seed = 1
[pool.gpu]
slots = 2
[class.c]
pool = "gpu"
service = { dist = "constant", value = "1s" }
[strategy.a]
kind = "immediate"
[strategy.b]
kind = "immediate"
[swarm.s]
class = "c"
strategy = "a"
arrivals = { process = "poisson", rate = "2/min" }
[slo]
completion_p99 = "< 10s"
"#;

const SEEDS: u32 = 8;
const METRIC: Metric = Metric::CompletionP99;

/// The metric in each seed, straight from the runs; checks that the fixture
/// has both undefined and defined seeds.
fn truth() -> Vec<Option<f64>> {
    let sc = scenario(SPARSE);
    let v: Vec<Option<f64>> =
        (0..u64::from(SEEDS)).map(|k| simulate(&sc, sc.seed + k).expect("runs").summary.metric(METRIC)).collect();
    let defined = v.iter().flatten().count();
    assert!(defined >= 2 && defined < v.len(), "the fixture needs both kinds of seeds: {v:?}");
    v
}

/// The mean over the defined seeds, computed here without the library.
fn check_aggregate(i: Option<&Interval>, truth: &[Option<f64>], what: &str) {
    let xs: Vec<f64> = truth.iter().flatten().copied().collect();
    let i = i.unwrap_or_else(|| panic!("{what}: defined in some seeds, so it has a mean"));
    assert_eq!(i.n, xs.len(), "{what}: n counts the defined seeds");
    let mean = xs.iter().sum::<f64>() / xs.len() as f64;
    assert!((i.mean - mean).abs() < 1e-12, "{what}: mean {} vs {mean}", i.mean);
    assert!(i.lo >= 0.0 && i.lo <= i.mean && i.mean <= i.hi, "{what}: {i:?}");
}

/// Seeds meeting `completion_p99 < 10s` by their own value.
fn meeting(truth: &[Option<f64>]) -> usize {
    truth.iter().filter(|v| v.is_some_and(|v| v < 10.0)).count()
}

#[test]
fn compare_averages_the_defined_seeds_and_fails_the_slo() {
    let want = truth();
    let req = compare::Request { seeds: Some(SEEDS), ..Default::default() };
    let plan = compare::Plan::new(scenario(SPARSE), &req).expect("plan");
    let cells = compare::run_cells(&plan, stampede::replication::Runner::Sim, 1, &|| {}).expect("runs");
    let c = Comparison::build(&plan, &cells);
    let a = c.strategy("a").expect("a");
    assert_eq!(a.per_seed[METRIC.name()], want);
    check_aggregate(a.metrics[METRIC.name()].as_ref(), &want, "compare");
    let slo = &a.slo[0];
    assert!(!slo.passed && slo.value.is_nan(), "undefined in some seed: not met ({slo:?})");
    assert!(c.slo_met_by.is_empty(), "{:?}", c.slo_met_by);
    let per_seed = |m: &str| a.per_seed.get(m).cloned();
    let slos = &plan.slos;
    assert_eq!(stampede::report::table::seeds_meeting_all(slos, per_seed), (meeting(&want), want.len()));
}

#[test]
fn sweep_averages_the_defined_seeds_and_fails_the_slo() {
    let want = truth();
    let spec = SweepSpec {
        file: "sparse.toml".into(),
        scenario_text: SPARSE.into(),
        sets: vec![],
        vary: vec!["pool.gpu.slots=2..3".into()],
        strategies: vec![],
        swarms: vec![],
        score_all: false,
        seeds: (1..=u64::from(SEEDS)).collect(),
        metrics: vec![METRIC.name().into()],
    };
    let sw = Sweep::new(spec).expect("valid");
    let cells =
        sw.run(&(0..sw.cells()).collect::<Vec<_>>(), stampede::replication::Runner::Sim, 1, &|| {}).expect("runs");
    let r = SweepResult::build(&sw, &cells).expect("aggregates");
    // Point 0 is the file's own slots = 2.
    let p = &r.points[0];
    assert_eq!(p.values, ["2"]);
    assert_eq!(p.per_seed[METRIC.name()], want);
    check_aggregate(p.metrics[METRIC.name()].as_ref(), &want, "sweep");
    assert!(!p.slo_met, "undefined in some seed: not met");
    assert_eq!(p.slos_met, meeting(&want));
}

#[test]
fn plan_averages_the_defined_seeds_and_fails_the_slo() {
    let want = truth();
    let req = PlanRequest {
        tune: "pool.gpu.slots=1..2".into(),
        slos: scenario(SPARSE).slo,
        seeds: SEEDS,
        confidence: 0.95,
        strategy: None,
        no_limits: false,
    };
    let r = plan::plan(SPARSE, "sparse.toml", &[], &req, stampede::replication::Runner::Sim, 1, &|| {}).expect("plans");
    // The highest value, the file's own slots = 2, fails: nothing below is tried.
    assert_eq!(r.recommendation, None);
    let top = r.evaluated.iter().find(|c| c.value == "2").expect("the highest value is evaluated");
    let check = &top.slos[0];
    assert_eq!(check.per_seed, want);
    check_aggregate(check.value.as_ref(), &want, "plan");
    assert!(!check.passed && check.bound.is_none(), "undefined in some seed: not met ({check:?})");
    assert_eq!(check.seeds_met, meeting(&want));
}
