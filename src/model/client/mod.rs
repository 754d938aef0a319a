//! The clients: swarms produce logical requests (alone or as bulk jobs), each
//! request sends attempts through the proxy, failed attempts go to the swarm's
//! retry policy, and closed-loop users think between requests.
//!
//! This module owns every client-side rule — when a request is offered, what
//! it asks for, when an attempt times out, when and how it is retried, when a
//! bulk job is done — and talks to the world only through [`ClientCx`]: the
//! simulator hands an attempt to its proxy model; a load generator would send
//! it over HTTP. Answers come back through [`on_response`].
//!
//! A request has at most one attempt in flight. An attempt is named by
//! (request, attempt number), so an answer that arrives after the client gave
//! up on that attempt (its timeout fired, or it already retried) is told apart
//! from the current one without a record per attempt.

mod adaptive;
mod breaker;
mod budget;
mod hedge;
mod policy;
mod requests;
mod shard;
mod throttle;
mod users;
mod window;

pub use adaptive::AdaptiveConfig;
pub use breaker::{BreakerConfig, BreakerState};
pub use budget::BudgetConfig;
pub use policy::{Defences, SwarmPolicy};
pub use requests::{on_arrival, on_response, on_timeout, send_attempt};
pub use shard::Shard;
pub use throttle::ThrottleConfig;
pub use users::{on_traffic, on_user_wake};

use crate::arena::{Arena, Key};
use crate::model::chaos::{self, ChaosEvent, Subject};
use crate::model::context::{Env, RequestId};
use crate::model::dist::DurationDist;
use crate::model::outcome::Outcome;
use crate::model::retry::{RetryPolicy, RetryState};
use crate::model::workload::{BulkProgress, BulkSpec, ClosedLoop, Objects, OpenArrivals, RateProfile, Spacing};
use crate::rng::{SimRng, Stream, StreamBase, stream};
use crate::time::{SimDuration, SimTime};

/// A kind of job (txt2img, img2img…): which pool serves it and how long it takes.
#[derive(Clone, Debug)]
pub struct ClassSpec {
    pub name: String,
    pub pool: usize,
    pub service: DurationDist,
    /// The response arrives in this many evenly spaced chunks (1 = all at completion).
    pub chunks: u32,
    /// The objects its requests ask for, when the proxy caches the class.
    pub objects: Option<Objects>,
}

/// A named retry strategy.
#[derive(Clone, Debug)]
pub struct StrategySpec {
    pub name: String,
    pub policy: RetryPolicy,
    /// Budgets, throttles, breaker and deadline around the retries.
    pub defences: Defences,
}

/// How a swarm's requests arrive.
#[derive(Clone, Debug)]
pub enum ArrivalSpec {
    Open { profile: RateProfile, spacing: Spacing },
    Closed(ClosedLoop),
}

/// A population of clients.
#[derive(Clone, Debug)]
pub struct SwarmSpec {
    pub name: String,
    /// Stable id derived from the name: the root of the swarm's random streams.
    pub id: u64,
    /// (class index, cumulative probability), last entry 1.0.
    pub mix: Vec<(usize, f64)>,
    pub arrivals: ArrivalSpec,
    pub bulk: Option<BulkSpec>,
    /// Per-attempt client timeout.
    pub timeout: Option<SimDuration>,
    pub strategy: usize,
    /// Windows in which the arrival profile surges, with their shape
    /// ("spike", "ramp"), for charts.
    pub surges: Vec<(SimTime, SimTime, &'static str)>,
    /// Its priority tier's rank (0 the highest; see `Scenario::tiers`).
    pub tier: u8,
    /// Random patience (Erlang-A): how long each attempt will wait in a
    /// backend queue before its client gives up (None: forever).
    pub patience: Option<DurationDist>,
}

/// What the clients are configured with (borrowed from the scenario).
#[derive(Copy, Clone, Debug)]
pub struct ClientConfig<'a> {
    pub swarms: &'a [SwarmSpec],
    pub classes: &'a [ClassSpec],
    pub strategies: &'a [StrategySpec],
    pub chaos: &'a [ChaosEvent],
}

/// One attempt, as the proxy and the client both name it: see [`Attempt`]
/// for what it says. Two plain words, so that it stays in registers until
/// stored (the enum, built in memory field by field and then copied whole
/// into the proxy's fetch record, stalled on store forwarding).
#[derive(Copy, Clone, PartialEq, Eq)]
pub struct AttemptRef {
    /// The request's record, or a carried attempt's send time in nanoseconds.
    a: u64,
    /// The attempt number, or `CARRIED | (user + 1 or 0) << 17 | swarm << 1 | measured`.
    b: u64,
}

const CARRIED: u64 = 1 << 63;

/// What an [`AttemptRef`] names.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum Attempt {
    /// Attempt `attempt` (1-based) of the request whose record is `req`.
    Held { req: Key, attempt: u32 },
    /// The one attempt of a request that keeps no record (see
    /// `SwarmState::carried`): what its end needs travels with it, down
    /// to the closed-loop user it is for.
    Carried { swarm: u16, measured: bool, user: Option<u32>, sent: SimTime },
}

impl AttemptRef {
    pub fn held(req: Key, attempt: u32) -> AttemptRef {
        AttemptRef { a: req.to_bits(), b: u64::from(attempt) }
    }

    pub fn carried(swarm: u16, measured: bool, user: Option<u32>, sent: SimTime) -> AttemptRef {
        let user = user.map_or(0, |u| u64::from(u) + 1);
        AttemptRef { a: sent.as_nanos(), b: CARRIED | user << 17 | u64::from(swarm) << 1 | u64::from(measured) }
    }

    #[inline(always)]
    pub fn get(self) -> Attempt {
        if self.b & CARRIED == 0 {
            Attempt::Held { req: Key::from_bits(self.a), attempt: self.b as u32 }
        } else {
            let user = (self.b & !CARRIED) >> 17;
            Attempt::Carried {
                swarm: (self.b >> 1) as u16,
                measured: self.b & 1 == 1,
                user: user.checked_sub(1).map(|u| u as u32),
                sent: SimTime::from_nanos(self.a),
            }
        }
    }
}

impl std::fmt::Debug for AttemptRef {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.get().fmt(f)
    }
}

/// What an attempt asks for: the path (class) and, for the simulated backend,
/// the nominal GPU work its random stream drew.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub struct JobSpec {
    pub class: u16,
    /// The client swarm that sends it (the proxy's per-client rules key on it).
    pub swarm: u16,
    pub work: SimDuration,
    /// Offered after the warmup: its fetch counts in the statistics.
    pub measured: bool,
    /// The priority tier's rank it travels with, to the backend (0 the highest).
    pub tier: u8,
    /// How long the client will wait for the job to leave the backend's
    /// queue (its patience, drawn per attempt); None: forever.
    pub patience: Option<SimDuration>,
    /// The object it asks for, when its class is cached (the cache key with the class).
    pub object: Option<u64>,
}

/// The answer to one attempt.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub struct Response {
    pub outcome: Outcome,
    pub retry_after: Option<SimDuration>,
    /// For a 200: when its GPU work started, so that a response nobody takes
    /// any more counts as wasted work.
    pub work_started: Option<SimTime>,
}

impl Response {
    pub fn failed(outcome: Outcome, retry_after: Option<SimDuration>) -> Self {
        Response { outcome, retry_after, work_started: None }
    }
}

/// Timers the clients ask for.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum ClientTimer {
    /// A closed-loop user finished thinking.
    UserWake { swarm: u16, user: u32 },
    /// A request's next attempt (after a backoff).
    Send { req: Key },
    /// The client's per-attempt timeout.
    Timeout { req: Key, attempt: u32 },
    /// Attempt `attempt` has gone `hedge_after` unanswered.
    Hedge { req: Key, attempt: u32 },
    /// A chaos traffic multiplier on the swarm starts or ends.
    Traffic { swarm: u16 },
}

/// The world as the clients see it.
pub trait ClientCx<'a>: Env {
    fn clients(&mut self) -> &mut Clients<'a>;
    fn wake(&mut self, at: SimTime, timer: ClientTimer);
    /// An open-loop swarm's next arrival (each swarm has at most one pending);
    /// it comes back as [`on_arrival`].
    fn wake_arrival(&mut self, swarm: usize, at: SimTime);
    /// Sends an attempt; its answer comes back as [`on_response`].
    fn send(&mut self, from: AttemptRef, job: JobSpec);
}

/// Where a logical request came from, i.e. whom to tell when it ends.
#[derive(Copy, Clone, Debug)]
enum Origin {
    Single { user: Option<u32> },
    Bulk(Key),
}

/// A logical request: one image the client wants, across all its attempts.
#[derive(Debug)]
struct Request {
    id: RequestId,
    swarm: u16,
    class: u16,
    work: SimDuration,
    object: Option<u64>,
    rng: SimRng,
    retry: RetryState,
    first_sent: SimTime,
    /// When the current attempt was sent.
    sent_at: SimTime,
    /// The current attempt is in flight and the client still listens for it.
    waiting: bool,
    measured: bool,
    origin: Origin,
}

impl Request {
    /// Whether `attempt` is the current one and the client still listens for it.
    #[inline]
    fn listens_for(&self, attempt: u32) -> bool {
        self.waiting && self.retry.attempts == attempt
    }
}

/// A bulk job in flight.
#[derive(Clone, Debug)]
struct Bulk {
    swarm: u16,
    class: u16,
    progress: BulkProgress,
    submitted: SimTime,
    measured: bool,
    user: Option<u32>,
    source: u64,
    seq: u64,
}

/// A closed-loop user.
#[derive(Debug)]
struct User {
    cycling: bool,
    cycles: u64,
    rng: SimRng,
}

/// Per-swarm arrival state.
#[derive(Debug)]
struct SwarmState {
    /// The root of this swarm's request streams.
    requests: StreamBase,
    /// The root of its patience streams, when it has patience.
    patience: Option<StreamBase>,
    open: Option<OpenArrivals>,
    rng: SimRng,
    arrivals: u64,
    users: Vec<User>,
    /// Closed loop: how many users are active now (traffic chaos scales it).
    active_users: u32,
    /// Its requests keep no record: each is offered, sent once and ended by
    /// its answer, with nothing to time out, hedge, retry or report back to a
    /// bulk job (a swarm without bulk jobs whose strategy allows one attempt,
    /// with no client timeout, deadline or hedging). Results are the same
    /// either way; a record per request is most of a plain queue's bookkeeping.
    carried: bool,
    /// Carried requests offered after the warmup and not yet ended.
    carried_unfinished: u64,
}

/// The clients' live state.
#[derive(Debug)]
pub struct Clients<'a> {
    cfg: ClientConfig<'a>,
    seed: u64,
    swarms: Vec<SwarmState>,
    policies: Vec<SwarmPolicy>,
    requests: Arena<Request>,
    /// Hedged requests' attempts in flight beside the current one.
    earlier: hedge::Earlier,
    bulks: Arena<Bulk>,
    shard: Shard,
}

impl<'a> Clients<'a> {
    pub fn new(cfg: ClientConfig<'a>, seed: u64) -> Self {
        let swarms = cfg
            .swarms
            .iter()
            .enumerate()
            .map(|(i, spec)| {
                let (open, active_users) = match &spec.arrivals {
                    ArrivalSpec::Open { profile, spacing } => {
                        (Some(OpenArrivals::new(chaos::traffic_profile(profile, cfg.chaos, i), *spacing)), 0)
                    }
                    ArrivalSpec::Closed(c) => (None, c.users),
                };
                let st = &cfg.strategies[spec.strategy];
                let carried = spec.bulk.is_none()
                    && spec.timeout.is_none()
                    && st.policy.max_attempts <= 1
                    && st.defences.deadline.is_none()
                    && st.defences.hedge_after.is_none();
                SwarmState {
                    requests: StreamBase::requests(seed, spec.id),
                    patience: spec.patience.as_ref().map(|_| StreamBase::patience(seed, spec.id)),
                    open,
                    rng: stream(seed, Stream::Arrivals { swarm: spec.id }),
                    arrivals: 0,
                    users: Vec::new(),
                    active_users,
                    carried,
                    carried_unfinished: 0,
                }
            })
            .collect();
        let policies = cfg
            .swarms
            .iter()
            .map(|s| {
                let st = &cfg.strategies[s.strategy];
                SwarmPolicy::new(st.policy.clone(), &st.defences)
            })
            .collect();
        Clients {
            cfg,
            seed,
            swarms,
            policies,
            requests: Arena::new(),
            earlier: hedge::Earlier::default(),
            bulks: Arena::new(),
            shard: Shard::default(),
        }
    }

    /// Sends only `shard`'s share of every swarm's arrivals and users.
    pub fn with_shard(mut self, shard: Shard) -> Self {
        self.shard = shard;
        self
    }

    /// Requests not yet ended, per swarm, counting only measured ones.
    pub fn unfinished(&self) -> Vec<u64> {
        let mut v: Vec<u64> = self.swarms.iter().map(|s| s.carried_unfinished).collect();
        for (_, r) in self.requests.iter().filter(|(_, r)| r.measured) {
            v[r.swarm as usize] += 1;
        }
        v
    }

    /// Bulk jobs not yet ended, per swarm, counting only measured ones.
    pub fn bulk_unfinished(&self) -> Vec<u64> {
        let mut v = vec![0; self.swarms.len()];
        for (_, b) in self.bulks.iter().filter(|(_, b)| b.measured) {
            v[b.swarm as usize] += 1;
        }
        v
    }

    /// The swarm a live request belongs to.
    pub fn swarm_of(&self, req: Key) -> Option<usize> {
        self.requests.get(req).map(|r| r.swarm as usize)
    }

    /// Whether `timer` can still do anything when it fires. A timeout or a
    /// hedge whose attempt was answered is a no-op; engines that keep many
    /// such timers (a live load at a high rate with a long timeout) may drop
    /// them early, and nothing changes but memory.
    pub fn timer_pending(&self, timer: &ClientTimer) -> bool {
        match *timer {
            ClientTimer::Timeout { req, attempt } => {
                self.requests.get(req).is_some_and(|r| r.listens_for(attempt) || hedge::has_earlier(self, req, attempt))
            }
            ClientTimer::Hedge { req, attempt } => self.requests.get(req).is_some_and(|r| r.listens_for(attempt)),
            ClientTimer::UserWake { .. } | ClientTimer::Send { .. } | ClientTimer::Traffic { .. } => true,
        }
    }

    /// The most requests ever holding a record at once (carried ones hold none).
    pub fn request_high_water(&self) -> usize {
        self.requests.high_water()
    }

    /// The most bulk jobs ever in flight at once.
    pub fn bulk_high_water(&self) -> usize {
        self.bulks.high_water()
    }
}

/// Starts every swarm: the first arrival of each open loop, the users of each
/// closed loop.
pub fn start<'a, C: ClientCx<'a>>(cx: &mut C) {
    for swarm in 0..cx.clients().swarms.len() {
        let s = &mut cx.clients().swarms[swarm];
        if let Some(t) = s.open.as_mut().and_then(|o| o.next(&mut s.rng)) {
            cx.wake_arrival(swarm, t);
        }
        users::start_users(cx, swarm);
    }
}

/// Dispatches a client timer.
pub fn on_timer<'a, C: ClientCx<'a>>(cx: &mut C, timer: ClientTimer) {
    match timer {
        ClientTimer::UserWake { swarm, user } => on_user_wake(cx, swarm as usize, user),
        ClientTimer::Send { req } => send_attempt(cx, req),
        ClientTimer::Timeout { req, attempt } => on_timeout(cx, req, attempt),
        ClientTimer::Hedge { req, attempt } => hedge::on_hedge(cx, req, attempt),
        ClientTimer::Traffic { swarm } => on_traffic(cx, swarm as usize),
    }
}

/// The timer for a chaos boundary, if its subject is a client's.
pub fn chaos_timer(subject: Subject) -> Option<ClientTimer> {
    match subject {
        Subject::Swarm(s) => Some(ClientTimer::Traffic { swarm: s as u16 }),
        Subject::Pool(_) | Subject::Kill(_) => None,
    }
}

#[cfg(test)]
mod rules_tests;
