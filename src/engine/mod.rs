//! The discrete-event simulation engine: a thin driver of the models.
//!
//! It owns virtual time, the event queue and the wiring between the models,
//! and nothing else. Every rule — where a fetch goes, when it times out, what a
//! backend answers, how long a client backs off, when the autoscaler acts —
//! lives in [`crate::model`]. The engine implements the models' contexts
//! (`sim.rs`): a model's "wake me at t" becomes an event, and an effect one
//! model emits (a client sends, a backend answers) is handed to the other
//! model at once, in the same instant.
//!
//! Timers are never cancelled: a timer event carries the epoch of what it was
//! set for and the model ignores it when stale.

pub(crate) mod books;
mod heap;
mod packed;
mod progress;
mod queue;
mod sim;

pub use progress::{MAX_EVENTS_PER_MILLISECOND, Stalled};

pub use queue::EventQueue;

use crate::metrics::Recorder;
use crate::metrics::summary::Summary;
pub use crate::model::context::{NoTrace, RequestId, Trace};
use crate::scenario::Scenario;

/// The result of one simulated run.
#[derive(Debug)]
pub struct Run {
    pub summary: Summary,
    /// Histograms, counters and the time series behind the summary.
    pub recorder: Recorder,
    /// The most entities ever alive at once: what the run's memory is
    /// proportional to (besides one time-series row per window).
    pub high_water: HighWater,
    /// `stampede load`: the wire as the load generator saw it, mergeable.
    pub wire: Option<crate::metrics::wire::WireRecorder>,
    /// `stampede load`: why the run stopped before its end when the machine
    /// (the target) failed it; the run covers the time before.
    pub failure: Option<String>,
}

/// Peak counts of live entities in one run.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct HighWater {
    /// Requests holding a record in the client (a carried request holds none).
    pub requests: usize,
    /// Attempts in flight at the proxy (backend fetches).
    pub attempts: usize,
    pub bulk_jobs: usize,
    pub backend_jobs: usize,
    pub pending_events: usize,
}

/// Simulates `scenario` with `seed`. Fails only when simulated time stops
/// advancing (see [`Stalled`]).
// Never inlined: profiles and instruction counts name it (README, Speed).
#[inline(never)]
pub fn simulate(scenario: &Scenario, seed: u64) -> Result<Run, Stalled> {
    simulate_traced(scenario, seed, &mut NoTrace)
}

/// Simulates `scenario` with `seed`, reporting to `trace`.
pub fn simulate_traced<T: Trace>(scenario: &Scenario, seed: u64, trace: &mut T) -> Result<Run, Stalled> {
    let started = std::time::Instant::now();
    let mut sim = sim::Sim::new(scenario, seed, trace);
    sim.run();
    sim.finish(started.elapsed().as_secs_f64())
}
