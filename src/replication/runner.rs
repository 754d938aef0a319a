//! Which engine runs the runs of `compare`, `sweep` and `plan`: the
//! simulator, or the live engine (the same models over HTTP on loopback, in
//! real time compressed by a time scale) with `--engine live`.
//!
//! Both give a [`Run`] with the same summary, so everything after the run
//! (scores, intervals, rankings, bisection) is the same code. Live runs go
//! one at a time: each already uses every core, and two at once would
//! compete for them and distort each other's timing.

use crate::engine::{Run, Stalled, simulate};
use crate::scenario::Scenario;

#[derive(Copy, Clone, Debug, Default, PartialEq)]
pub enum Runner {
    #[default]
    Sim,
    Live {
        time_scale: f64,
    },
}

/// Why a run gave no result.
#[derive(Debug, thiserror::Error)]
pub enum RunFailed {
    #[error(transparent)]
    Stalled(#[from] Stalled),
    #[error("live engine: {0}")]
    Live(String),
}

impl Runner {
    pub fn run(self, sc: &Scenario, seed: u64) -> Result<Run, RunFailed> {
        match self {
            Runner::Sim => Ok(simulate(sc, seed)?),
            Runner::Live { time_scale } => {
                let run = crate::live::run(sc, seed, time_scale).map_err(|e| RunFailed::Live(e.to_string()))?;
                // Said at once, beside the progress, since it casts doubt on every figure after.
                if let Some(why) = run.summary.engine.fell_behind() {
                    say!("warning: seed {seed}: {why}");
                }
                Ok(run)
            }
        }
    }

    /// The runs to have going at once when `asked` for.
    pub fn jobs(self, asked: usize) -> usize {
        match self {
            Runner::Sim => asked,
            Runner::Live { .. } => 1,
        }
    }

    /// What the progress bar says it is doing.
    pub fn doing(self) -> &'static str {
        match self {
            Runner::Sim => "simulating",
            Runner::Live { .. } => "running live",
        }
    }
}
