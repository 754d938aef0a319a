//! Part files: the cells one shard ran, and merging parts back together.
//!
//! A part holds the whole sweep specification (the scenario text included) and
//! its cells: each cell's summary and its completion-time histogram in
//! HdrHistogram's serialized form, so merging loses nothing. Merging checks that
//! the parts describe the same sweep, come from one split, and cover every cell
//! exactly once.

use serde::{Deserialize, Serialize};

use super::{Sweep, SweepSpec};
use crate::metrics::summary::Summary;
use crate::metrics::{LatencyHist, StoredHist};

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

/// Checks that `parts` form one complete sweep and returns the sweep
/// (validated again from its spec) and all cells in index order.
pub fn merge(parts: Vec<(String, Part)>) -> Result<(Sweep, Vec<StoredCell>), String> {
    let Some((first_name, first)) = parts.first() else {
        return Err("nothing to merge: give the part files".into());
    };
    for (name, p) in &parts {
        if p.format != FORMAT {
            return Err(format!("{name}: not a sweep part (format `{}`, expected `{FORMAT}`)", p.format));
        }
        if p.version != first.version {
            return Err(format!(
                "{name}: written by stampede {}, but {first_name} by {}; results may differ",
                p.version, first.version
            ));
        }
        if p.spec != first.spec {
            return Err(format!(
                "{name}: describes a different sweep than {first_name} ({})",
                spec_difference(&first.spec, &p.spec)
            ));
        }
        let (i, n) = p.shard;
        if i == 0 || n == 0 || i > n {
            return Err(format!("{name}: shard {i}/{n} is not a shard (expected I/N with 1 ≤ I ≤ N)"));
        }
        if p.shard.1 != first.shard.1 {
            return Err(format!(
                "{name}: shard {}/{} does not belong to a split into {}",
                p.shard.0, p.shard.1, first.shard.1
            ));
        }
    }
    let count = first.shard.1;
    let mut seen = vec![false; count];
    for (name, p) in &parts {
        if std::mem::replace(&mut seen[p.shard.0 - 1], true) {
            return Err(format!("{name}: shard {}/{count} is given twice", p.shard.0));
        }
    }
    if let Some(missing) = seen.iter().position(|s| !s) {
        return Err(format!("shard {}/{count} is missing", missing + 1));
    }
    let sweep = Sweep::new(first.spec.clone()).map_err(|e| e.to_string())?;
    let total = sweep.cells();
    let mut cells: Vec<Option<StoredCell>> = vec![None; total];
    for (name, p) in parts {
        for c in p.cells {
            let i = c.index;
            if i >= total || i % count != p.shard.0 - 1 {
                return Err(format!("{name}: cell {i} does not belong to shard {}/{count}", p.shard.0));
            }
            if cells[i].replace(c).is_some() {
                return Err(format!("{name}: cell {i} appears twice"));
            }
        }
    }
    let cells = cells
        .into_iter()
        .enumerate()
        .map(|(i, c)| c.ok_or_else(|| format!("cell {i} is missing: a part file is incomplete")))
        .collect::<Result<Vec<_>, _>>()?;
    Ok((sweep, cells))
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
