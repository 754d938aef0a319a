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
//!
//! **What a score covers.** When only some swarms take the compared strategy
//! (`--swarms`), metrics and ranking are computed over those swarms' requests
//! by default (`--score compared`): a strategy for free users is judged on
//! the free users' requests. Metrics recorded per pool (attempt latency, queue
//! wait, first byte, GPU and instance time) cannot be split by swarm and stay
//! pool-wide; the report names them. SLO thresholds describe the service and
//! are judged over every swarm. `--score all` scores every swarm's requests.

pub mod rank;

pub use rank::{Comparison, Difference, StrategyResult};

use crate::criteria::objective::{self, Criterion};

use crate::metrics::summary::Summary;
use crate::metrics::{LatencyHist, Row};
use crate::replication::Error;
use crate::replication::{RunFailed, Runner};
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
    pub slos: Vec<crate::criteria::slo::Threshold>,
    /// Score every swarm's requests, not only the compared swarms'.
    pub score_all: bool,
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
    /// Swarms whose requests the metrics and scores cover: `swarms`, or every
    /// swarm with `--score all`.
    pub scored: Vec<usize>,
    pub objective: Vec<Criterion>,
    /// The file's `[slo]` and the command line's: each strategy is judged on
    /// its mean over seeds.
    pub slos: Vec<crate::criteria::slo::Threshold>,
}

impl Plan {
    /// Resolves the command line against the file's `[compare]` section.
    pub fn new(scenario: Scenario, req: &Request) -> Result<Plan, Error> {
        let spec = &scenario.compare;
        let strategies: Vec<usize> = match &req.strategies {
            Some(names) => names
                .iter()
                .map(|n| scenario.find_strategy(n))
                .collect::<Result<_, _>>()
                .map_err(|source| Error::Unknown { flag: "--strategies", source })?,
            None if !spec.strategies.is_empty() => spec.strategies.clone(),
            None => (0..scenario.strategies.len()).collect(),
        };
        // The file's own list is checked where it is read, with its line.
        let flag = if req.strategies.is_some() { "--strategies" } else { "the scenario's strategies" };
        if strategies.len() < 2 {
            return Err(Error::Usage(format!(
                "{flag}: a comparison needs at least two strategies{}",
                if req.strategies.is_some() { "" } else { " (define another [strategy.<name>])" }
            )));
        }
        let mut seen = std::collections::BTreeSet::new();
        if let Some(dup) = strategies.iter().find(|s| !seen.insert(**s)) {
            return Err(Error::Usage(format!("{flag}: `{}` is listed twice", scenario.strategies[*dup].name)));
        }
        let baseline_idx = match (&req.baseline, spec.baseline) {
            (Some(name), _) => {
                scenario.find_strategy(name).map_err(|source| Error::Unknown { flag: "--baseline", source })?
            }
            // The file's baseline belongs to the file's list: a --strategies
            // list without it is measured against its own first entry.
            (None, Some(b)) if req.strategies.is_none() || strategies.contains(&b) => b,
            (None, _) => strategies[0],
        };
        let baseline = strategies.iter().position(|&s| s == baseline_idx).ok_or_else(|| {
            Error::Usage(format!(
                "the baseline `{}` is not among the compared strategies",
                scenario.strategies[baseline_idx].name
            ))
        })?;
        let n = req.seeds.or(spec.seeds).unwrap_or(DEFAULT_SEEDS);
        if n < 2 {
            return Err(Error::Usage("confidence intervals need at least 2 seeds".into()));
        }
        let seeds = crate::replication::seeds(scenario.seed, n);
        let swarms = match &req.swarms {
            Some(names) => names
                .iter()
                .map(|n| scenario.find_swarm(n))
                .collect::<Result<_, _>>()
                .map_err(|source| Error::Unknown { flag: "--swarms", source })?,
            None if !spec.swarms.is_empty() => spec.swarms.clone(),
            None => (0..scenario.swarms.len()).collect(),
        };
        let objective = match &req.objective {
            Some(items) => {
                let o = objective::parse(items).map_err(|source| Error::Criteria { flag: "--objective", source })?;
                for c in &o {
                    scenario.check_metric(c.metric).map_err(|source| Error::Unknown { flag: "--objective", source })?;
                }
                o
            }
            None => spec.objective.clone().unwrap_or_else(objective::default_objective),
        };
        let mut slos = scenario.slo.clone();
        slos.extend(req.slos.iter().cloned());
        let scored = if req.score_all { (0..scenario.swarms.len()).collect() } else { swarms.clone() };
        Ok(Plan { scenario, strategies, baseline, seeds, swarms, scored, objective, slos })
    }

    pub fn strategy_name(&self, i: usize) -> &str {
        &self.scenario.strategies[self.strategies[i]].name
    }

    /// The scenario as strategy `i` runs it.
    pub fn scenario_for(&self, i: usize) -> Scenario {
        let name = Some(self.strategy_name(i));
        crate::replication::with_strategy(self.scenario.clone(), name, Some(&self.swarms), "--strategies")
            .expect("resolved strategy")
    }

    pub fn cells(&self) -> usize {
        self.strategies.len() * self.seeds.len()
    }
}

/// What one (strategy, seed) run leaves behind for statistics and charts.
#[derive(Clone, Debug)]
pub struct Cell {
    /// The run over every swarm: SLOs are judged on it.
    pub summary: Summary,
    /// The run restricted to the scored swarms ([`Summary::scoped`]):
    /// metrics and ranking come from it. Equal to `summary` when every swarm
    /// is scored.
    pub scored: Summary,
    /// Pool-wide time series, as charts draw it (bounded: see [`crate::metrics::Overview`]).
    pub rows: Vec<Row>,
    /// Completion times of the scored swarms' succeeded requests.
    pub completion: LatencyHist,
}

impl Cell {
    /// The cell of `run`, scored over the swarms `scored` of `sc`.
    pub fn new(sc: &Scenario, run: crate::engine::Run, scored: &[usize]) -> Cell {
        Cell {
            scored: run.summary.scoped(sc, &run.recorder, scored),
            rows: run.recorder.series.overview().rows().cloned().collect(),
            completion: run.recorder.completion_of(scored),
            summary: run.summary,
        }
    }
}

/// Runs every (strategy, seed) cell with `runner` on `jobs` threads; `tick`
/// is called after each cell. Returns the cells as `[strategy][seed]`, or
/// the first run that failed.
pub fn run_cells(
    plan: &Plan,
    runner: Runner,
    jobs: usize,
    tick: &(dyn Fn() + Sync),
) -> Result<Vec<Vec<Cell>>, RunFailed> {
    let scenarios: Vec<Scenario> = (0..plan.strategies.len()).map(|i| plan.scenario_for(i)).collect();
    let n_seeds = plan.seeds.len();
    let cells = crate::parallel::map(
        plan.cells(),
        runner.jobs(jobs),
        |i| {
            let sc = &scenarios[i / n_seeds];
            Ok(Cell::new(sc, runner.run(sc, plan.seeds[i % n_seeds])?, &plan.scored))
        },
        tick,
    );
    let mut cells = cells.into_iter().collect::<Result<Vec<_>, RunFailed>>()?.into_iter();
    Ok((0..plan.strategies.len()).map(|_| cells.by_ref().take(n_seeds).collect()).collect())
}
