//! What the models see of whatever engine drives them.
//!
//! A model never knows whether it runs in simulated time (the discrete-event
//! engine) or in real time (tokio and real sockets). It reads the time, asks to
//! be woken, emits effects, and records what happened, all through a context
//! its engine implements. Each model has its own context trait (a client needs
//! `send`, a proxy needs `submit` and `respond`, a backend needs `deliver`);
//! this module holds what they share: the clock and the observers.
//!
//! Contexts are generic parameters, never `dyn`: the simulator's hot path is
//! monomorphised and inlined, so the boundary costs nothing.

use crate::model::outcome::Outcome;
use crate::model::proxy::CacheEvent;
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

/// The time and the observers every model context offers.
pub trait Env {
    type Obs: Observe;
    /// The current instant.
    fn now(&self) -> SimTime;
    /// Where the model reports what happened.
    fn obs(&mut self) -> &mut Self::Obs;
}

/// Everything the models report while they run: the measurements (counters
/// and histograms) and the trace hooks tests use. Each method is one fact; the
/// engine decides where it goes.
pub trait Observe {
    /// Whether a request offered at `offered_at` counts in the statistics
    /// (it does from the end of the warmup on).
    fn is_measured(&self, offered_at: SimTime) -> bool;

    // The client side.
    fn offered(&mut self, id: RequestId, measured: bool, class: usize, work: SimDuration, now: SimTime);
    fn attempt_sent(&mut self, id: RequestId, measured: bool, attempt: u32, now: SimTime);
    fn attempt(&mut self, swarm: usize, measured: bool, outcome: Outcome, latency: SimDuration);
    fn request_done(&mut self, swarm: usize, measured: bool, succeeded: bool, attempts: u32, completion: SimDuration);
    fn bulk_submitted(&mut self, swarm: usize, measured: bool);
    fn bulk_done(&mut self, swarm: usize, measured: bool, succeeded: bool, completion: SimDuration);

    // The proxy.
    /// A backend fetch started (`retry` when VCL retried a failed one).
    fn fetch(&mut self, measured: bool, retry: bool);
    fn first_byte(&mut self, measured: bool, d: SimDuration);
    fn chunk_gap(&mut self, measured: bool, d: SimDuration);
    /// A request of cached class `class` was looked up; `saved` is the GPU
    /// work a hit spared the backend (zero otherwise).
    fn cache(&mut self, class: usize, measured: bool, event: CacheEvent, saved: SimDuration);
    /// `n` objects were evicted from the cache at `now` to make room.
    fn evicted(&mut self, now: SimTime, n: u64);

    // The backend.
    /// A job got a slot at `now` after waiting `waited` in a backend queue.
    fn job_started(&mut self, pool: usize, instance: u64, now: SimTime, waited: SimDuration);
    /// GPU slot time from `start` to `end` produced a result nobody received.
    fn wasted(&mut self, start: SimTime, end: SimTime);
    /// The autoscaler started an instance that will serve from `ready_at`.
    fn instance_added(&mut self, pool: usize, instance: u64, at: SimTime, ready_at: SimTime);
}

/// Hooks for observing a run from outside (tests, debugging). Every method
/// defaults to a no-op; engines are generic over the trace, so the default
/// costs nothing.
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
