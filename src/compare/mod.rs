//! Comparing retry strategies on the same traffic, with statistics.
//!
//! A comparison runs every strategy on the same N seeds. Because random
//! streams belong to entities (see [`crate::rng`]), seed k gives every strategy
//! the same arrivals and the same GPU work per request, so the difference
//! between two strategies on seed k is due to the strategies alone. Metrics are
//! reported as means with 95% Student-t intervals over seeds, and each strategy
//! is compared with the baseline seed by seed (a paired comparison).
//!
//! The (strategy, seed) cells run in parallel on a pool of threads, each cell
//! stored in its own slot, so the result does not depend on the number of
//! threads or the order in which they finish.

pub mod objective;
pub mod rank;

pub use rank::{Comparison, Difference, StrategyResult};

use objective::Criterion;

use crate::engine::simulate;
use crate::metrics::summary::Summary;
use crate::metrics::{LatencyHist, Row};
use crate::scenario::Scenario;

/// Replications per strategy when neither the command line nor the file says.
pub const DEFAULT_SEEDS: u32 = 10;

/// What the user asked for on the command line (each overrides `[compare]`).
#[derive(Clone, Debug, Default)]
pub struct Request {
    pub strategies: Option<Vec<String>>,
    pub baseline: Option<String>,
    pub seeds: Option<u32>,
    pub swarms: Option<Vec<String>>,
    pub objective: Option<Vec<String>>,
    /// Thresholds besides the file's `[slo]`.
    pub slos: Vec<crate::slo::Threshold>,
}

/// A resolved comparison: which strategies, on which seeds, applied to which swarms.
#[derive(Clone, Debug)]
pub struct Plan {
    pub scenario: Scenario,
    /// Indices into `scenario.strategies`, in display order.
    pub strategies: Vec<usize>,
    /// Position of the baseline in `strategies`.
    pub baseline: usize,
    pub seeds: Vec<u64>,
    /// Swarms that take the compared strategy; the others keep their own.
    pub swarms: Vec<usize>,
    pub objective: Vec<Criterion>,
    /// The file's `[slo]` and the command line's: each strategy is judged on
    /// its mean over seeds.
    pub slos: Vec<crate::slo::Threshold>,
}

impl Plan {
    /// Resolves the command line against the file's `[compare]` section.
    pub fn new(scenario: Scenario, req: &Request) -> Result<Plan, String> {
        let spec = &scenario.compare;
        let strategies: Vec<usize> = match &req.strategies {
            Some(names) => names.iter().map(|n| scenario.find_strategy(n)).collect::<Result<_, _>>()?,
            None if !spec.strategies.is_empty() => spec.strategies.clone(),
            None => (0..scenario.strategies.len()).collect(),
        };
        if strategies.len() < 2 {
            return Err("a comparison needs at least two strategies".into());
        }
        let mut seen = std::collections::BTreeSet::new();
        if let Some(dup) = strategies.iter().find(|s| !seen.insert(**s)) {
            return Err(format!("strategy `{}` is listed twice", scenario.strategies[*dup].name));
        }
        let baseline_idx = match (&req.baseline, spec.baseline) {
            (Some(name), _) => scenario.find_strategy(name)?,
            // The file's baseline belongs to the file's list: a --strategies
            // list without it is measured against its own first entry.
            (None, Some(b)) if req.strategies.is_none() || strategies.contains(&b) => b,
            (None, _) => strategies[0],
        };
        let baseline = strategies.iter().position(|&s| s == baseline_idx).ok_or_else(|| {
            format!("the baseline `{}` is not among the compared strategies", scenario.strategies[baseline_idx].name)
        })?;
        let n = req.seeds.or(spec.seeds).unwrap_or(DEFAULT_SEEDS);
        if n < 2 {
            return Err("confidence intervals need at least 2 seeds".into());
        }
        let seeds = (0..u64::from(n)).map(|i| scenario.seed.wrapping_add(i)).collect();
        let swarms = match &req.swarms {
            Some(names) => names.iter().map(|n| scenario.find_swarm(n)).collect::<Result<_, _>>()?,
            None if !spec.swarms.is_empty() => spec.swarms.clone(),
            None => (0..scenario.swarms.len()).collect(),
        };
        let objective = match &req.objective {
            Some(items) => objective::parse(items)?,
            None => spec.objective.clone().unwrap_or_else(objective::default_objective),
        };
        let mut slos = scenario.slo.clone();
        slos.extend(req.slos.iter().cloned());
        Ok(Plan { scenario, strategies, baseline, seeds, swarms, objective, slos })
    }

    pub fn strategy_name(&self, i: usize) -> &str {
        &self.scenario.strategies[self.strategies[i]].name
    }

    /// The scenario as strategy `i` runs it.
    pub fn scenario_for(&self, i: usize) -> Scenario {
        self.scenario.clone().with_strategy_for(self.strategy_name(i), &self.swarms).expect("resolved strategy")
    }

    pub fn cells(&self) -> usize {
        self.strategies.len() * self.seeds.len()
    }
}

/// What one (strategy, seed) run leaves behind for statistics and charts.
#[derive(Clone, Debug)]
pub struct Cell {
    pub summary: Summary,
    pub rows: Vec<Row>,
    /// Completion times of the compared swarms' requests (for their CDF).
    pub completion: LatencyHist,
}

/// Runs every (strategy, seed) cell on `jobs` threads; `tick` is called after
/// each cell. Returns the cells as `[strategy][seed]`.
pub fn run_cells(plan: &Plan, jobs: usize, tick: &(dyn Fn() + Sync)) -> Vec<Vec<Cell>> {
    let scenarios: Vec<Scenario> = (0..plan.strategies.len()).map(|i| plan.scenario_for(i)).collect();
    let n_seeds = plan.seeds.len();
    let cells = crate::parallel::map(
        plan.cells(),
        jobs,
        |i| {
            let run = simulate(&scenarios[i / n_seeds], plan.seeds[i % n_seeds]);
            let mut completion = LatencyHist::default();
            for &s in &plan.swarms {
                completion.merge_from(&run.recorder.swarms[s].completion);
            }
            Cell { rows: run.recorder.series.rows().to_vec(), completion, summary: run.summary }
        },
        tick,
    );
    let mut cells = cells.into_iter();
    (0..plan.strategies.len()).map(|_| cells.by_ref().take(n_seeds).collect()).collect()
}
