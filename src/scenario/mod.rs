//! Scenario files: TOML in, a validated, typed [`Scenario`] out.
//!
//! Loading runs in three steps, each with its own module:
//! 1. parse the text with toml_edit, keeping every span ([`source`]);
//! 2. deserialize into the raw shape with serde, units parsed, unknown keys
//!    denied ([`raw`], [`units`]);
//! 3. resolve names into indices and check every constraint, collecting all
//!    problems at once (`resolve`).
//!
//! Any failure is a [`ScenarioErrors`] naming the file, the key path and the
//! line; the CLI turns it into exit code 2. The full key reference is
//! docs/scenario-format.md.

mod error;
pub mod limits;
mod overrides;
pub mod posted;
pub mod raw;
mod resolve;
pub mod schema;
pub mod source;
pub use crate::units;
pub mod value;

pub use error::{ScenarioError, ScenarioErrors, UnknownName, did_you_mean};
pub use overrides::{Override, OverrideSyntax};

use std::path::Path;

use crate::criteria::Metric;
use crate::criteria::metric::Group;
use crate::criteria::objective::Criterion;
use crate::criteria::slo::Threshold;
use crate::model::chaos::ChaosEvent;
pub use crate::model::client::{ArrivalSpec, ClassSpec, StrategySpec, SwarmSpec};
use crate::model::gpu::PoolConfig;
use crate::model::outcome::{Cause, Outcome};
use crate::model::proxy::ProxyConfig;
use crate::time::{SimDuration, SimTime};

/// A fully validated experiment.
#[derive(Clone, Debug)]
pub struct Scenario {
    pub name: String,
    pub description: String,
    pub duration: SimDuration,
    /// Requests offered before this are simulated but left out of the statistics.
    pub warmup: SimDuration,
    pub seed: u64,
    /// Width of one time-series row.
    pub window: SimDuration,
    pub proxy: ProxyConfig,
    pub pools: Vec<PoolConfig>,
    pub classes: Vec<ClassSpec>,
    pub strategies: Vec<StrategySpec>,
    pub swarms: Vec<SwarmSpec>,
    pub chaos: Vec<ChaosEvent>,
    pub slo: Vec<Threshold>,
    pub compare: CompareSpec,
    /// The priority tiers' names, highest first (Google SRE's four
    /// criticalities unless `scenario.tiers` lists others). A swarm's `tier`
    /// is a rank into this list.
    pub tiers: Vec<String>,
    /// The file speaks of tiers (`scenario.tiers`, a swarm's `tier`, a
    /// pool's tier keys): only then are per-tier numbers reported, so older
    /// summaries stay as they were.
    pub tiered: bool,
    /// `pool.<name>.price_per_hour` per pool (same order as `pools`); reports
    /// use it to show cost in money, the simulation never does.
    pub prices: Vec<Option<f64>>,
    /// The file as it was run, `--set` overrides applied (reports embed it).
    pub source_text: String,
    pub source_path: String,
    /// Things that are allowed but probably not meant (an unused pool, a zero
    /// timeout); commands print them on stderr.
    pub warnings: Vec<ScenarioError>,
}

/// The `[compare]` section: defaults for `stampede compare`.
#[derive(Clone, Debug, Default)]
pub struct CompareSpec {
    /// Strategies to compare (empty: every strategy in the file).
    pub strategies: Vec<usize>,
    pub baseline: Option<usize>,
    pub seeds: Option<u32>,
    /// Swarms that take the compared strategy (empty: every swarm).
    pub swarms: Vec<usize>,
    pub objective: Option<Vec<Criterion>>,
}

impl Scenario {
    /// Loads and validates a scenario file.
    pub fn load(path: &Path) -> Result<Scenario, ScenarioErrors> {
        Scenario::load_with(path, &[])
    }

    /// Loads a scenario file with `--set` overrides applied, and validates it.
    pub fn load_with(path: &Path, overrides: &[Override]) -> Result<Scenario, ScenarioErrors> {
        let label = path.display().to_string();
        let text = read_text(path)?;
        Scenario::parse_with(&text, &label, overrides)
    }

    /// Validates scenario text; `file` is the name used in error messages.
    pub fn parse(text: &str, file: &str) -> Result<Scenario, ScenarioErrors> {
        resolve::parse(text, file, &[])
    }

    /// Validates scenario text with `--set` overrides applied.
    pub fn parse_with(text: &str, file: &str, overrides: &[Override]) -> Result<Scenario, ScenarioErrors> {
        resolve::parse(text, file, overrides)
    }

    /// Whether an attempt of this scenario can end in `o`. Reports list the
    /// outcomes only some scenarios produce (a proxy overflow, an injected
    /// error's status) only for those scenarios.
    pub fn can_produce(&self, o: Outcome) -> bool {
        match o {
            Outcome::Status503(Cause::Overflow) => self.proxy.any_overflow(),
            Outcome::Status503(Cause::Injected) | Outcome::Status500 | Outcome::Status502 => {
                crate::model::chaos::injects(&self.chaos, o)
            }
            // A strategy no swarm uses sends nothing: a file may keep a hedged one to compare.
            Outcome::Cancelled => {
                self.swarms.iter().any(|s| self.strategies[s.strategy].defences.hedge_after.is_some())
            }
            _ => true,
        }
    }

    /// The events one run is estimated to produce; refused beyond the
    /// documented limit unless the caller lifts it (`--no-limits`).
    pub fn check_events(&self) -> Result<(), ScenarioErrors> {
        limits::check_events(self).map_err(|e| {
            let key = match &e {
                limits::LimitError::Events { key, .. } => key.clone(),
                _ => String::new(),
            };
            // The text was parsed once already; a scenario built in code has none.
            let at = self
                .source_text
                .parse::<toml_edit::Document<String>>()
                .ok()
                .and_then(|doc| source::SourceMap::new(doc).line_of(&source::parse_path(&key)));
            ScenarioErrors(vec![ScenarioError {
                file: self.source_path.clone(),
                line: at.map(|(l, _)| l),
                column: at.map(|(_, c)| c),
                key,
                message: e.to_string(),
                help: None,
            }])
        })
    }

    /// Takes out the SLO thresholds on metrics only the proxy or the GPUs
    /// measure (`load` sends to someone else's) and returns them, so that
    /// none is reported as met or missed on numbers nobody measured.
    pub fn drop_server_side_slos(&mut self) -> Vec<Threshold> {
        let (kept, dropped) = std::mem::take(&mut self.slo).into_iter().partition(|t| t.metric.seen_by_clients());
        self.slo = kept;
        dropped
    }

    /// The scenario as far as a live run stopped early got: `ran` long.
    pub fn cut(&self, ran: SimDuration) -> Scenario {
        Scenario { duration: ran.min(self.duration), ..self.clone() }
    }

    pub fn strategy_index(&self, name: &str) -> Option<usize> {
        self.strategies.iter().position(|s| s.name == name)
    }

    /// The index of a strategy, or a message listing the defined ones.
    pub fn find_strategy(&self, name: &str) -> Result<usize, UnknownName> {
        find_named("strategy", name, self.strategies.iter().map(|s| s.name.as_str()))
    }

    /// The index of a swarm, or a message listing the defined ones.
    pub fn find_swarm(&self, name: &str) -> Result<usize, UnknownName> {
        find_named("swarm", name, self.swarms.iter().map(|s| s.name.as_str()))
    }

    /// Checks that a per-swarm or per-tier metric names a swarm or tier of
    /// this scenario (every other metric exists in every scenario).
    pub fn check_metric(&self, m: Metric) -> Result<(), UnknownName> {
        let Metric::Part(p) = m else { return Ok(()) };
        let tiers: &[String] = if self.tiered { &self.tiers } else { &[] };
        match p.group {
            Group::Swarm => find_named("swarm", p.of, self.swarms.iter().map(|s| s.name.as_str())),
            Group::Tier => find_named("tier", p.of, tiers.iter().map(String::as_str)),
        }
        .map(|_| ())
    }

    /// Whether a run of this scenario can give `m` a value: a bulk job's
    /// metric needs a swarm that submits them, the cache's a cached class.
    /// A threshold or objective on one it cannot is a mistake, not a
    /// metric that is "undefined" in every run.
    pub fn produces(&self, m: Metric) -> Result<(), String> {
        let bulk = matches!(
            m,
            Metric::BulkSuccessRate
                | Metric::BulkCompletionP50
                | Metric::BulkCompletionP99
                | Metric::BulkCompletionMax
                | Metric::BulkCompletionAllP50
                | Metric::BulkCompletionAllP99
        );
        if bulk && !self.swarms.iter().any(|s| s.bulk.is_some()) {
            return Err(format!("{m}: no swarm submits bulk jobs (a swarm's `bulk` table), so it has no value"));
        }
        if matches!(m, Metric::HitRatio | Metric::GpuSecondsSaved) && !self.proxy.caches() {
            return Err(format!("{m}: no class is cached (a class's `cache` table), so it has no value"));
        }
        let recovery =
            matches!(m, Metric::Recovered | Metric::RecoveryTime | Metric::PostSuccessRate | Metric::PostAmplification);
        if recovery && self.highlights().is_empty() {
            return Err(format!(
                "{m}: the scenario has no chaos event and no traffic surge (a spike, or a rising ramp) to recover from, \
                 so it has no value"
            ));
        }
        Ok(())
    }

    /// Makes every swarm use the named strategy (`--strategy`).
    pub fn with_strategy(self, name: &str) -> Result<Scenario, UnknownName> {
        let all: Vec<usize> = (0..self.swarms.len()).collect();
        self.with_strategy_for(name, &all)
    }

    /// Makes the given swarms use the named strategy.
    pub fn with_strategy_for(mut self, name: &str, swarms: &[usize]) -> Result<Scenario, UnknownName> {
        let idx = self.find_strategy(name)?;
        for &s in swarms {
            self.swarms[s].strategy = idx;
        }
        Ok(self)
    }

    /// Windows worth shading on charts: chaos events and traffic surges, labelled.
    pub fn highlights(&self) -> Vec<(SimTime, SimTime, String)> {
        let mut v: Vec<(SimTime, SimTime, String)> = self
            .swarms
            .iter()
            .flat_map(|s| s.surges.iter().map(move |&(a, b, kind)| (a, b, format!("{} {kind}", s.name))))
            .collect();
        for c in &self.chaos {
            let (a, b) = c.window();
            v.push((a, b, c.label()));
        }
        v.sort_by(|x, y| x.0.cmp(&y.0).then(x.1.cmp(&y.1)));
        v
    }

    /// The strategy every swarm uses, if they all use the same one.
    pub fn common_strategy(&self) -> Option<&str> {
        let first = self.swarms.first()?.strategy;
        self.swarms.iter().all(|s| s.strategy == first).then(|| self.strategies[first].name.as_str())
    }

    /// The instant the run ends.
    pub fn end(&self) -> SimTime {
        SimTime::ZERO + self.duration
    }
}

/// Reads a scenario file as UTF-8 text; invalid UTF-8 is reported with the
/// line, column and byte offset of the first bad byte.
/// `file` is refused for its size.
pub fn too_large(file: &str) -> ScenarioErrors {
    ScenarioErrors(vec![ScenarioError {
        file: file.to_string(),
        line: None,
        column: None,
        key: String::new(),
        message: format!(
            "larger than {} MiB, the most a scenario file may hold (parsed, it takes about a hundred times its size)",
            limits::MAX_FILE_BYTES >> 20
        ),
        help: None,
    }])
}

pub fn read_text(path: &Path) -> Result<String, ScenarioErrors> {
    let label = path.display().to_string();
    let error = |line: Option<usize>, column: Option<usize>, message: String| {
        ScenarioErrors(vec![ScenarioError {
            file: label.clone(),
            line,
            column,
            key: String::new(),
            message,
            help: None,
        }])
    };
    // Read no more than the limit allows, whatever the file holds.
    let mut bytes = Vec::new();
    let read = std::fs::File::open(path).and_then(|f| {
        std::io::Read::read_to_end(&mut std::io::Read::take(f, limits::MAX_FILE_BYTES as u64 + 1), &mut bytes)
    });
    read.map_err(|e| error(None, None, format!("cannot read the file: {e}")))?;
    if bytes.len() > limits::MAX_FILE_BYTES {
        return Err(too_large(&label));
    }
    String::from_utf8(bytes).map_err(|e| {
        let at = e.utf8_error().valid_up_to();
        let bytes = e.as_bytes();
        let valid = std::str::from_utf8(&bytes[..at]).unwrap_or_default();
        let (line, column) = source::line_col(valid, at);
        error(
            Some(line),
            Some(column),
            format!("the file is not UTF-8 text: invalid byte 0x{:02x} at byte offset {at}", bytes[at]),
        )
    })
}

/// The position of `name` among `names`, or a message listing them with a suggestion.
fn find_named<'a>(
    what: &'static str,
    name: &str,
    names: impl Iterator<Item = &'a str> + Clone,
) -> Result<usize, UnknownName> {
    names.clone().position(|n| n == name).ok_or_else(|| UnknownName {
        what,
        name: name.to_string(),
        defined: names.clone().map(String::from).collect(),
        suggestion: did_you_mean(name, names).map(String::from),
    })
}
