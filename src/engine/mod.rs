//! The discrete-event simulation engine.
//!
//! It owns virtual time, the event queue and the bookkeeping that links the
//! models together (which attempt waits on which job), and nothing else: every
//! decision — where a fetch goes, whether a backend queues or rejects, how long
//! a client backs off, when the autoscaler acts — is taken by a pure model in
//! [`crate::model`]. The handlers are split by concern:
//!
//! * `client` — swarms, logical requests, attempts, retries, bulk jobs, users;
//! * `fetch` — the proxy side of an attempt: routing, connections, timeouts;
//! * `control` — the backend and control plane: job milestones, probes,
//!   autoscaling, chaos.
//!
//! Timers are never cancelled: a timer event carries the epoch of the fetch (or
//! the generation of the entity) it was set for and is ignored when stale.

mod client;
mod control;
mod fetch;
mod queue;
mod state;

pub use queue::EventQueue;

use crate::metrics::Recorder;
use crate::metrics::summary::Summary;
use crate::scenario::Scenario;
use crate::time::{SimDuration, SimTime};

/// The stable identity of a logical request: it names the request's random
/// stream, so the same id gets the same class and service time under any strategy.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct RequestId {
    pub swarm: usize,
    /// 0 for open-loop arrivals, user + 1 for closed-loop users.
    pub source: u64,
    /// Arrival number (open loop) or cycle number (closed loop).
    pub seq: u64,
    /// Image number within a bulk job (0 otherwise).
    pub image: u64,
}

/// Hooks for observing a run (tests, debugging). Every method defaults to a
/// no-op; the engine is generic over the trace, so the default costs nothing.
pub trait Trace {
    /// A logical request was offered.
    fn offered(&mut self, _id: RequestId, _at: SimTime, _class: usize, _work: SimDuration) {}
    /// Attempt number `attempt` (1-based) of a request was sent.
    fn attempt_sent(&mut self, _id: RequestId, _attempt: u32, _at: SimTime) {}
    /// A job began running on `instance` of `pool`.
    fn job_started(&mut self, _pool: usize, _instance: u64, _at: SimTime) {}
    /// The autoscaler started an instance that will serve from `ready_at`.
    fn instance_added(&mut self, _pool: usize, _instance: u64, _at: SimTime, _ready_at: SimTime) {}
}

/// The trace that observes nothing.
#[derive(Debug, Default, Clone, Copy)]
pub struct NoTrace;
impl Trace for NoTrace {}

/// The result of one simulated run.
#[derive(Debug)]
pub struct Run {
    pub summary: Summary,
    /// Histograms, counters and the time series behind the summary.
    pub recorder: Recorder,
    /// The most entities ever alive at once: what the run's memory is
    /// proportional to (besides one time-series row per window).
    pub high_water: HighWater,
}

/// Peak counts of live entities in one run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HighWater {
    pub requests: usize,
    pub attempts: usize,
    pub bulk_jobs: usize,
    pub backend_jobs: usize,
    pub pending_events: usize,
}

/// Simulates `scenario` with `seed`.
pub fn simulate(scenario: &Scenario, seed: u64) -> Run {
    simulate_traced(scenario, seed, &mut NoTrace)
}

/// Simulates `scenario` with `seed`, reporting to `trace`.
pub fn simulate_traced<T: Trace>(scenario: &Scenario, seed: u64, trace: &mut T) -> Run {
    let started = std::time::Instant::now();
    let mut sim = state::Sim::new(scenario, seed, trace);
    sim.run();
    sim.finish(started.elapsed().as_secs_f64())
}
