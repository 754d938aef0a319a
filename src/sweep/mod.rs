//! Parameter sweeps: a grid of scenario variants × strategies × seeds.
//!
//! Every (point, strategy, seed) cell has a fixed index; a cell's result
//! depends on nothing but its index, so cells can run in any order, on any
//! number of threads, or on different machines: `--shard I/N` runs the cells
//! whose index is I−1 modulo N and writes them to a part file, and
//! `stampede merge` puts parts together. All seeds are shared by all points
//! (common random numbers), so differences between points are sharp.
//!
//! An unsharded sweep goes through the same stored form as a merged one
//! ([`part::StoredCell`]), so the two give identical results by construction.

/// The grid of variants (it belongs to replication: `plan` tunes one axis of it).
pub use crate::replication::grid;
pub mod part;
pub mod result;

use serde::{Deserialize, Serialize};

use crate::criteria::Metric;
use crate::replication::{Base, Error, Variant, with_strategy};
use crate::replication::{RunFailed, Runner};
use crate::scenario::{Override, Scenario};
use grid::Grid;
use part::StoredCell;

/// Seeds per (point, strategy) when neither the command line nor the file says.
pub const DEFAULT_SEEDS: u32 = 5;

/// Everything that defines a sweep: enough to run it again or merge its parts.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SweepSpec {
    /// The scenario file as named on the command line.
    pub file: String,
    /// Its text, before overrides (merging does not need the file).
    pub scenario_text: String,
    /// `--set` overrides applied to every point.
    pub sets: Vec<String>,
    /// `--vary` specifications, in order.
    pub vary: Vec<String>,
    /// Strategies to run at every point; empty runs the file's own.
    pub strategies: Vec<String>,
    /// Swarms that take the strategy; empty means every swarm.
    pub swarms: Vec<String>,
    /// Score every swarm's requests even when `swarms` names some (`--score all`).
    #[serde(default)]
    pub score_all: bool,
    pub seeds: Vec<u64>,
    /// Metrics reported, in order.
    pub metrics: Vec<String>,
}

/// A sweep ready to run: every point's scenario validated.
#[derive(Debug)]
pub struct Sweep {
    pub spec: SweepSpec,
    pub grid: Grid,
    /// `[point][strategy]`.
    scenarios: Vec<Vec<Scenario>>,
    /// Labels of the strategy dimension.
    pub strategy_labels: Vec<String>,
    /// Swarms whose requests the metrics cover: the `--swarms` ones unless
    /// `--score all`, as in a comparison (pool-level metrics cover every swarm).
    pub scored: Vec<usize>,
    /// The base scenario (overrides applied, no point values).
    pub base: Scenario,
    /// `spec.metrics`, looked up.
    pub metrics: Vec<Metric>,
}

impl Sweep {
    /// Validates the base scenario, every grid point and every strategy.
    pub fn new(spec: SweepSpec) -> Result<Sweep, Error> {
        let sets: Vec<Override> = spec
            .sets
            .iter()
            .map(|s| s.parse().map_err(|e| Error::Usage(format!("--set {e}"))))
            .collect::<Result<_, _>>()?;
        let source = Base { text: &spec.scenario_text, file: &spec.file, sets: &sets };
        let base = source.scenario().map_err(Error::Scenario)?;
        let metrics = spec
            .metrics
            .iter()
            .map(|m| Metric::lookup(m).map_err(|source| Error::Metric { flag: "--metrics", source }))
            .collect::<Result<Vec<_>, _>>()?;
        for &m in &metrics {
            base.check_metric(m).map_err(|source| Error::Unknown { flag: "--metrics", source })?;
        }
        let grid = Grid::parse(&spec.vary).map_err(|e| Error::Usage(format!("--vary {e}")))?;
        if spec.seeds.is_empty() {
            return Err(Error::Usage("a sweep needs at least one seed".into()));
        }
        let listed = |i: usize| spec.strategies[..i].contains(&spec.strategies[i]);
        if let Some(dup) = (0..spec.strategies.len()).find(|&i| listed(i)) {
            return Err(Error::Usage(format!("--strategies: `{}` is listed twice", spec.strategies[dup])));
        }
        let swarms: Vec<usize> = if spec.swarms.is_empty() {
            (0..base.swarms.len()).collect()
        } else {
            spec.swarms
                .iter()
                .map(|s| base.find_swarm(s))
                .collect::<Result<_, _>>()
                .map_err(|source| Error::Unknown { flag: "--swarms", source })?
        };
        for s in &spec.strategies {
            base.find_strategy(s).map_err(|source| Error::Unknown { flag: "--strategies", source })?;
        }
        let mut scenarios = Vec::with_capacity(grid.points());
        let strategies: Vec<Option<&str>> = if spec.strategies.is_empty() {
            vec![None]
        } else {
            spec.strategies.iter().map(|s| Some(s.as_str())).collect()
        };
        for p in 0..grid.points() {
            let v = Variant { overrides: grid.overrides(p), strategy: None, flag: "--strategies" };
            let sc = source.variant(&v, None).map_err(|e| match e {
                // Name the grid point so the user knows which --vary value broke it.
                Error::Scenario(mut e) => {
                    for err in &mut e.0 {
                        err.message = format!("{} (at grid point {})", err.message, grid.label(p));
                    }
                    Error::Scenario(e)
                }
                other => other,
            })?;
            let variants = strategies
                .iter()
                .map(|&s| with_strategy(sc.clone(), s, Some(&swarms), "--strategies"))
                .collect::<Result<_, _>>()?;
            scenarios.push(variants);
        }
        let strategy_labels = if spec.strategies.is_empty() {
            vec![base.common_strategy().unwrap_or("per-swarm").to_string()]
        } else {
            spec.strategies.clone()
        };
        let scored = if spec.score_all { (0..base.swarms.len()).collect() } else { swarms };
        Ok(Sweep { spec, grid, scenarios, strategy_labels, base, scored, metrics })
    }

    /// The scenario of grid point `point` (first strategy variant).
    pub fn scenario_at(&self, point: usize) -> &Scenario {
        &self.scenarios[point][0]
    }

    /// Every grid point's scenario (its first strategy variant), with the point's index.
    pub fn point_scenarios(&self) -> impl Iterator<Item = (usize, &Scenario)> {
        self.scenarios.iter().enumerate().filter_map(|(p, v)| v.first().map(|sc| (p, sc)))
    }

    pub fn strategies(&self) -> usize {
        self.strategy_labels.len()
    }

    pub fn cells(&self) -> usize {
        self.grid.points() * self.strategies() * self.spec.seeds.len()
    }

    /// (point, strategy, seed index) of cell `i`.
    pub fn coords(&self, i: usize) -> (usize, usize, usize) {
        let n = self.spec.seeds.len();
        let s = self.strategies();
        (i / (s * n), (i / n) % s, i % n)
    }

    /// The cells shard `index` of `count` runs (`index` is 1-based).
    pub fn shard(&self, index: usize, count: usize) -> Vec<usize> {
        (0..self.cells()).filter(|i| i % count == index - 1).collect()
    }

    /// Runs one cell.
    pub fn run_cell(&self, i: usize, runner: Runner) -> Result<StoredCell, RunFailed> {
        let (p, s, k) = self.coords(i);
        let sc = &self.scenarios[p][s];
        let run = runner.run(sc, self.spec.seeds[k])?;
        let summary = run.summary.scoped(sc, &run.recorder, &self.scored);
        Ok(StoredCell::new(i, summary, &run.recorder.completion_of(&self.scored)))
    }

    /// Runs `cells` with `runner` on `jobs` threads; fails with the first run that failed.
    pub fn run(
        &self,
        cells: &[usize],
        runner: Runner,
        jobs: usize,
        tick: &(dyn Fn() + Sync),
    ) -> Result<Vec<StoredCell>, RunFailed> {
        crate::parallel::map(cells.len(), runner.jobs(jobs), |j| self.run_cell(cells[j], runner), tick)
            .into_iter()
            .collect()
    }
}

/// A `--shard` that is not `I/N` with 1 ≤ I ≤ N.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("`{0}`: expected I/N with 1 ≤ I ≤ N, e.g. 2/8")]
pub struct ShardSyntax(pub String);

/// Parses `I/N` (1 ≤ I ≤ N).
pub fn parse_shard(text: &str) -> Result<(usize, usize), ShardSyntax> {
    let err = || ShardSyntax(text.to_string());
    let (i, n) = text.split_once('/').ok_or_else(err)?;
    let (i, n): (usize, usize) = (i.trim().parse().map_err(|_| err())?, n.trim().parse().map_err(|_| err())?);
    if i == 0 || n == 0 || i > n {
        return Err(err());
    }
    Ok((i, n))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shards_partition_the_cells() {
        let spec = SweepSpec {
            file: "t.toml".into(),
            scenario_text: "[scenario]\nname = \"t\"\nduration = \"1m\"\n[pool.gpu]\n[class.c]\npool = \"gpu\"\nservice = { dist = \"constant\", value = \"1s\" }\n[swarm.s]\nclass = \"c\"\narrivals = { process = \"poisson\", rate = \"1/s\" }\n".into(),
            sets: vec![],
            vary: vec!["pool.gpu.slots=1..5".into()],
            strategies: vec![],
            swarms: vec![],
            score_all: false,
            seeds: vec![1, 2, 3],
            metrics: vec![],
        };
        let sw = Sweep::new(spec).expect("valid");
        assert_eq!(sw.cells(), 15);
        let mut all: Vec<usize> = (1..=4).flat_map(|i| sw.shard(i, 4)).collect();
        all.sort_unstable();
        assert_eq!(all, (0..15).collect::<Vec<_>>());
        assert_eq!(sw.coords(7), (2, 0, 1));
        assert_eq!(parse_shard("2/8"), Ok((2, 8)));
        for bad in ["0/3", "4/3", "3", "a/b"] {
            assert!(parse_shard(bad).is_err(), "{bad}");
        }
    }
}
