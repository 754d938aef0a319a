//! Test contexts: the models driven by hand, without an engine.
//!
//! Each recorder keeps what a model asked for (timers, effects, observations)
//! in plain vectors, so a unit test can feed one input and assert exactly
//! what the rule did.

use crate::model::context::{Observe, RequestId};
use crate::model::outcome::Outcome;
use crate::model::proxy::CacheEvent;
use crate::time::{SimDuration, SimTime};

/// Observations, as plain lists.
#[derive(Debug, Default)]
pub struct Seen {
    pub attempts: Vec<(usize, Outcome, SimDuration)>,
    pub done: Vec<(usize, bool, u32)>,
    pub fetches: Vec<bool>,
    pub first_bytes: Vec<SimDuration>,
    pub wasted: Vec<(SimTime, SimTime)>,
    pub started: Vec<(usize, SimDuration)>,
    pub cache: Vec<(usize, CacheEvent, SimDuration)>,
    pub evicted: u64,
}

impl Observe for Seen {
    fn is_measured(&self, _offered_at: SimTime) -> bool {
        true
    }
    fn offered(&mut self, _id: RequestId, _measured: bool, _class: usize, _work: SimDuration, _now: SimTime) {}
    fn attempt_sent(&mut self, _id: RequestId, _measured: bool, _attempt: u32, _now: SimTime) {}
    fn attempt(&mut self, swarm: usize, _measured: bool, outcome: Outcome, latency: SimDuration) {
        self.attempts.push((swarm, outcome, latency));
    }
    fn request_done(&mut self, swarm: usize, _measured: bool, ok: bool, attempts: u32, _c: SimDuration) {
        self.done.push((swarm, ok, attempts));
    }
    fn bulk_submitted(&mut self, _swarm: usize, _measured: bool) {}
    fn bulk_done(&mut self, _swarm: usize, _measured: bool, _succeeded: bool, _completion: SimDuration) {}
    fn fetch(&mut self, _measured: bool, retry: bool) {
        self.fetches.push(retry);
    }
    fn first_byte(&mut self, _measured: bool, d: SimDuration) {
        self.first_bytes.push(d);
    }
    fn chunk_gap(&mut self, _measured: bool, _d: SimDuration) {}
    fn cache(&mut self, class: usize, _measured: bool, event: CacheEvent, saved: SimDuration) {
        self.cache.push((class, event, saved));
    }
    fn evicted(&mut self, _now: SimTime, n: u64) {
        self.evicted += n;
    }
    fn job_started(&mut self, pool: usize, _instance: u64, _now: SimTime, waited: SimDuration) {
        self.started.push((pool, waited));
    }
    fn wasted(&mut self, start: SimTime, end: SimTime) {
        self.wasted.push((start, end));
    }
    fn instance_added(&mut self, _pool: usize, _instance: u64, _at: SimTime, _ready_at: SimTime) {}
}

/// A clock and observations: the part every test context shares.
#[derive(Debug, Default)]
pub struct Base {
    pub now: SimTime,
    pub seen: Seen,
}

impl Base {
    pub fn at_secs(&mut self, s: u64) {
        self.now = SimTime::ZERO + SimDuration::from_secs(s);
    }
}

/// Implements [`Env`] for a test context with a `base: Base` field.
macro_rules! test_env {
    ($t:ty) => {
        impl crate::model::context::Env for $t {
            type Obs = crate::model::testkit::Seen;
            fn now(&self) -> crate::time::SimTime {
                self.base.now
            }
            fn obs(&mut self) -> &mut crate::model::testkit::Seen {
                &mut self.base.seen
            }
        }
    };
}
pub(crate) use test_env;
