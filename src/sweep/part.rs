//! Part files: the cells one shard ran, and merging parts back together.
//!
//! A part holds the whole sweep specification (the scenario text included) and
//! its cells: each cell's summary and its completion-time histogram in
//! HdrHistogram's serialized form, so merging loses nothing. Merging checks that
//! the parts describe the same sweep, come from one split, and cover every cell
//! exactly once; and, since a part file may have been edited or truncated, that
//! every cell is one this sweep could have produced: its seed and scenario, a
//! summary whose numbers hold together ([`consistency`]), and a histogram
//! that decodes within bounds and agrees with the summary. Every error names
//! the file (and the cell). Nothing is allocated from a size a file states
//! before the file's contents bear it out.

use serde::{Deserialize, Serialize};

use super::{Sweep, SweepSpec};
use crate::criteria::Metric;
use crate::metrics::summary::Summary;
use crate::metrics::{LatencyHist, StoredHist, consistency};

/// Identifies the file format.
pub const FORMAT: &str = "stampede-sweep-part/1";

/// One cell's result, portable.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct StoredCell {
    pub index: usize,
    pub summary: Summary,
    pub completion: StoredHist,
}

impl StoredCell {
    pub fn new(index: usize, summary: Summary, completion: &LatencyHist) -> Self {
        StoredCell { index, summary, completion: completion.to_stored() }
    }
}

/// The contents of one part file.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Part {
    pub format: String,
    pub version: String,
    pub spec: SweepSpec,
    /// (index, count), index from 1.
    pub shard: (usize, usize),
    pub cells: Vec<StoredCell>,
}

impl Part {
    pub fn new(spec: SweepSpec, shard: (usize, usize), cells: Vec<StoredCell>) -> Self {
        Part { format: FORMAT.into(), version: env!("CARGO_PKG_VERSION").into(), spec, shard, cells }
    }

    /// The conventional file name of a part.
    pub fn file_name(shard: (usize, usize)) -> String {
        format!("sweep-part-{}-of-{}.json", shard.0, shard.1)
    }
}

/// Why parts do not merge into one sweep.
#[derive(Debug, thiserror::Error)]
pub enum MergeError {
    #[error("nothing to merge: give the part files")]
    Nothing,
    /// A shard of the split that no part given holds.
    #[error("shard {index}/{count} is missing: the parts given are {}", given.join(", "))]
    MissingShard { index: usize, count: usize, given: Vec<String> },
    /// What is wrong with one part file (or with the sweep it describes).
    #[error("{file}: {problem}")]
    Part { file: String, problem: String },
    /// A cell that this sweep cannot have produced.
    #[error("{file}: cell {index}: {problem}")]
    Cell { file: String, index: usize, problem: String },
}

fn bad(file: &str, problem: impl Into<String>) -> MergeError {
    MergeError::Part { file: file.to_string(), problem: problem.into() }
}

/// Checks that `parts` form one complete sweep and returns the sweep
/// (validated again from its spec) and all cells in index order.
pub fn merge(parts: Vec<(String, Part)>) -> Result<(Sweep, Vec<StoredCell>), MergeError> {
    let Some((first_name, first)) = parts.first() else {
        return Err(MergeError::Nothing);
    };
    for (name, p) in &parts {
        if p.format != FORMAT {
            return Err(bad(name, format!("not a sweep part (format `{}`, expected `{FORMAT}`)", p.format)));
        }
        if p.version != first.version {
            return Err(bad(
                name,
                format!("written by stampede {}, but {first_name} by {}; results may differ", p.version, first.version),
            ));
        }
        // The file's path may be spelled differently on each machine
        // (`./scenarios/x.toml`, an absolute path): its text must match.
        if (SweepSpec { file: first.spec.file.clone(), ..p.spec.clone() }) != first.spec {
            return Err(bad(
                name,
                format!("describes a different sweep than {first_name} ({})", spec_difference(&first.spec, &p.spec)),
            ));
        }
        let (i, n) = p.shard;
        if i == 0 || n == 0 || i > n {
            return Err(bad(name, format!("shard {i}/{n} is not a shard (expected I/N with 1 ≤ I ≤ N)")));
        }
        if p.shard.1 != first.shard.1 {
            return Err(bad(
                name,
                format!("shard {}/{} does not belong to a split into {}", p.shard.0, p.shard.1, first.shard.1),
            ));
        }
    }
    let count = first.shard.1;
    // The shard count comes from a file: find duplicates and gaps among the
    // parts given without sizing anything by it.
    let mut given: Vec<(usize, &str)> = parts.iter().map(|(n, p)| (p.shard.0, n.as_str())).collect();
    given.sort_unstable();
    if let Some(w) = given.windows(2).find(|w| w[0].0 == w[1].0) {
        return Err(bad(w[1].1, format!("shard {}/{count} is given twice (also by {})", w[1].0, w[0].1)));
    }
    if let Some(missing) = (1..=count).zip(given.iter().map(|g| g.0).chain(std::iter::repeat(0))).find(|(k, g)| k != g)
    {
        let listed: Vec<String> = given.iter().map(|(i, n)| format!("{n} ({i}/{count})")).collect();
        return Err(MergeError::MissingShard { index: missing.0, count, given: listed });
    }
    check_spec(first_name, &first.spec)?;
    // The grid's size, from the spec, must be the cells the files hold
    // before the sweep's scenarios are built or anything is sized by it.
    let stated = stated_cells(&first.spec)
        .map_err(|e| bad(first_name, e))?
        .ok_or_else(|| bad(first_name, "the sweep it describes has more cells than can be counted"))?;
    for (name, p) in &parts {
        let expected = cells_in_shard(stated, p.shard);
        if p.cells.len() != expected {
            return Err(bad(
                name,
                format!(
                    "holds {} cells, but shard {}/{count} of this sweep has {expected} (the part is incomplete or edited)",
                    p.cells.len(),
                    p.shard.0
                ),
            ));
        }
    }
    let sweep = Sweep::new(first.spec.clone())
        .map_err(|e| bad(first_name, format!("the sweep it describes is invalid: {e}")))?;
    let total = sweep.cells();
    debug_assert_eq!(total, stated);
    // Now `total` is the number of cells the files hold.
    let mut cells: Vec<Option<StoredCell>> = vec![None; total];
    for (name, p) in parts {
        for c in p.cells {
            let i = c.index;
            if i >= total || i % count != p.shard.0 - 1 {
                return Err(bad(&name, format!("cell {i} does not belong to shard {}/{count}", p.shard.0)));
            }
            check_cell(&sweep, &c).map_err(|problem| MergeError::Cell { file: name.clone(), index: i, problem })?;
            if cells[i].replace(c).is_some() {
                return Err(bad(&name, format!("cell {i} appears twice")));
            }
        }
    }
    // Every part held its shard's number of cells, each once and in its
    // shard, so every cell is present.
    let cells = cells.into_iter().map(|c| c.expect("counted above")).collect();
    Ok((sweep, cells))
}

/// The number of cells the spec's grid, strategies and seeds make (None if
/// it overflows), without building the grid points' scenarios.
fn stated_cells(spec: &SweepSpec) -> Result<Option<usize>, String> {
    let grid = super::grid::Grid::parse(&spec.vary).map_err(|e| format!("--vary {e}"))?;
    let points = grid.axes.iter().try_fold(1usize, |n, a| n.checked_mul(a.levels.len()));
    Ok(points.and_then(|n| n.checked_mul(spec.strategies.len().max(1))).and_then(|n| n.checked_mul(spec.seeds.len())))
}

/// How many of `total` cells shard (index, count) runs.
fn cells_in_shard(total: usize, (index, count): (usize, usize)) -> usize {
    (total + count - index) / count
}

/// What the spec says besides the scenario, checked before the sweep is built.
fn check_spec(name: &str, spec: &SweepSpec) -> Result<(), MergeError> {
    for m in &spec.metrics {
        Metric::lookup(m).map_err(|e| bad(name, format!("metrics: {e}")))?;
    }
    if spec.seeds.len() < 2 {
        return Err(bad(name, format!("{} seed(s); a sweep has at least 2", spec.seeds.len())));
    }
    if let Some(w) = spec.seeds.windows(2).find(|w| w[1] != w[0].wrapping_add(1)) {
        return Err(bad(name, format!("seeds {} then {}: a sweep's seeds are consecutive", w[0], w[1])));
    }
    Ok(())
}

/// A stored cell is one this sweep produces: its seed and scenario, a
/// consistent summary, and a histogram that agrees with the summary.
fn check_cell(sweep: &Sweep, c: &StoredCell) -> Result<(), String> {
    let (point, _, k) = sweep.coords(c.index);
    let s = &c.summary;
    let seed = sweep.spec.seeds[k];
    if s.seed != seed {
        return Err(format!("seed {} but the sweep runs this cell with seed {seed}", s.seed));
    }
    let sc = sweep.scenario_at(point);
    if s.scenario != sc.name || s.duration_s != sc.duration.as_secs_f64() || s.warmup_s != sc.warmup.as_secs_f64() {
        return Err(format!(
            "scenario `{}` over {} s (warmup {} s) is not this grid point's `{}`",
            s.scenario, s.duration_s, s.warmup_s, sc.name
        ));
    }
    consistency::check(s)?;
    let h = LatencyHist::from_stored(&c.completion).map_err(|e| format!("completion histogram: {e}"))?;
    if h.percentiles() != s.completion_ms {
        return Err("the completion histogram does not match the summary's completion_ms".into());
    }
    Ok(())
}

fn spec_difference(a: &SweepSpec, b: &SweepSpec) -> &'static str {
    if a.scenario_text != b.scenario_text {
        "the scenario file differs"
    } else if a.sets != b.sets {
        "--set differs"
    } else if a.vary != b.vary {
        "--vary differs"
    } else if a.strategies != b.strategies || a.swarms != b.swarms || a.score_all != b.score_all {
        "--strategies, --swarms or --score differs"
    } else if a.seeds != b.seeds {
        "the seeds differ"
    } else {
        "the options differ"
    }
}
