//! The Varnish-like reverse proxy in front of the GPU pools.
//!
//! It owns what Varnish owns: the backend list per pool (a *director*), each
//! backend's open connections against `.max_connections`, the optional wait
//! queue of Varnish 7.6 (`wait_limit` + `wait_timeout`), probe-driven health,
//! client sessions, and the rules for which failures VCL retries itself.
//! It does not own time: the engine starts the timers (connect, first byte,
//! between bytes, wait) this module's answers call for.
//!
//! Semantics kept from Varnish (see docs/models.md):
//! * `max_connections` reached: the fetch fails at once as busy — no queue unless
//!   both wait settings are set; then a FIFO of at most `wait_limit` fetches
//!   waits up to `wait_timeout`; when the backend goes sick every waiter fails.
//! * a connection slot is held for the whole fetch, body included;
//! * a sick backend is skipped by the director; no healthy backend: 503;
//! * the proxy retries on its own only where VCL says so, at most `max_retries`.
//!
//! The rules of one fetch (phases, timeouts, VCL retries, which Retry-After a
//! client gets, the hand-over of a connection to a waiting fetch, the cache
//! lookup before it and what it stores after) are in `fetch`, the object
//! store in `cache`, probing in `probe`; all reach the world only through
//! [`ProxyCx`]: the simulator answers a submission from its backend model at
//! once, a live proxy over a socket later, and the rules work either way.

mod cache;
mod director;
mod fetch;
mod health;
mod probe;
mod ratelimit;

pub use cache::{Body, CacheConfig, CacheEvent, CachePolicy, ERROR_GRACE, ERROR_TTL, Lookup, MIN_CHARGE};
pub use director::DirectorKind;
pub use fetch::{BackendEvent, Phase, ProxyTimer, on_backend, on_request, on_timer};
pub use health::{Health, ProbeConfig};
pub use probe::{deregister, on_probe_answer, register};
pub use ratelimit::RateLimit;

use std::collections::VecDeque;

use crate::arena::{Arena, Key};
use crate::model::client::{AttemptRef, JobSpec, Response};
use crate::model::context::Env;
use crate::model::outcome::{Cause, OutcomeSet};
use crate::rng::SimRng;
use crate::time::{SimDuration, SimTime};
use director::{Candidate, Director};
use fetch::Fetch;

/// Varnish 7.6's backend wait queue.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub struct WaitQueue {
    pub limit: u32,
    pub timeout: SimDuration,
}

/// The proxy's settings, with varnishd's defaults.
#[derive(Clone, Debug, PartialEq)]
pub struct ProxyConfig {
    pub connect_timeout: Option<SimDuration>,
    pub first_byte_timeout: Option<SimDuration>,
    pub between_bytes_timeout: Option<SimDuration>,
    /// Per backend instance; None = unlimited.
    pub max_connections: Option<u32>,
    pub wait: Option<WaitQueue>,
    pub director: DirectorKind,
    pub probe: Option<ProbeConfig>,
    /// 503 causes that VCL answers with `return(retry)`.
    pub retry_on: OutcomeSet,
    pub max_retries: u32,
    /// Concurrent client sessions the proxy accepts (None = unlimited).
    pub max_sessions: Option<u32>,
    /// Per client swarm (by index): its rate limit, answered with 429.
    pub rate_limits: Vec<Option<RateLimit>>,
    /// Storage and waiting-list settings, for the classes that are cached.
    pub cache: CacheConfig,
    /// Per job class (by index): its caching and its response headers.
    pub classes: Vec<ClassRules>,
    /// Longest response header line the workspace takes (varnishd `http_resp_hdr_len`).
    pub http_resp_hdr_len: u64,
    /// Most response header bytes the workspace takes (varnishd `http_resp_size`).
    pub http_resp_size: u64,
}

/// What the proxy knows of one job class's responses.
#[derive(Copy, Clone, Debug, PartialEq)]
pub struct ClassRules {
    /// None: every request is passed to the backend.
    pub cache: Option<CachePolicy>,
    /// Response header bytes in all, and of the longest header line.
    pub headers: u64,
    pub largest_header: u64,
}

impl Default for ClassRules {
    fn default() -> Self {
        ClassRules { cache: None, headers: DEFAULT_HEADERS, largest_header: DEFAULT_HEADERS }
    }
}

/// Response header bytes of a class that does not say (a typical image response).
pub const DEFAULT_HEADERS: u64 = 512;

impl ProxyConfig {
    /// Whether class `class`'s response headers overflow the workspace: every
    /// fetch of it then fails as `overflow`.
    pub fn overflows(&self, class: usize) -> bool {
        let c = self.classes.get(class).copied().unwrap_or_default();
        c.headers > self.http_resp_size || c.largest_header > self.http_resp_hdr_len
    }

    /// Whether any class overflows (its cause is then listed in reports).
    pub fn any_overflow(&self) -> bool {
        (0..self.classes.len()).any(|c| self.overflows(c))
    }

    /// Whether any class is cached.
    pub fn caches(&self) -> bool {
        self.classes.iter().any(|c| c.cache.is_some())
    }
}

impl Default for ProxyConfig {
    fn default() -> Self {
        ProxyConfig {
            connect_timeout: Some(SimDuration::from_millis(3500)),
            first_byte_timeout: Some(SimDuration::from_secs(60)),
            between_bytes_timeout: Some(SimDuration::from_secs(60)),
            max_connections: None,
            wait: None,
            director: DirectorKind::RoundRobin,
            probe: None,
            retry_on: OutcomeSet::EMPTY,
            max_retries: 4,
            max_sessions: None,
            rate_limits: Vec::new(),
            cache: CacheConfig::default(),
            classes: Vec::new(),
            http_resp_hdr_len: 8 << 10,
            http_resp_size: 32 << 10,
        }
    }
}

/// Where a fetch goes.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum Route {
    /// The proxy answers 503 at once.
    Fail(Cause),
    /// A connection slot on this instance is taken; connect now.
    Connect(Key),
    /// All slots taken; the fetch waits in this instance's queue.
    Wait(Key),
}

#[derive(Debug)]
struct Member {
    instance: Key,
    conns: u32,
    health: Health,
    waiters: VecDeque<u64>,
    /// Probes sent so far, and the last one answered or timed out: an answer
    /// to an older probe than that is stale.
    probes_sent: u32,
    probes_done: u32,
}

impl Candidate for Member {
    fn healthy(&self) -> bool {
        self.health.is_healthy()
    }
    fn connections(&self) -> u32 {
        self.conns
    }
}

#[derive(Debug, Default)]
struct Backend {
    /// In registration order: the order the director walks.
    members: Vec<Member>,
    /// Position + 1 of each instance in `members` by its key's slot (0: not a
    /// member), so that a fetch finds its backend without a search.
    position: Vec<u32>,
    director: Director,
}

impl Backend {
    fn find(&self, instance: Key) -> Option<usize> {
        let i = (*self.position.get(instance.slot())? as usize).checked_sub(1)?;
        (self.members[i].instance == instance).then_some(i)
    }

    fn reindex(&mut self) {
        self.position.iter_mut().for_each(|p| *p = 0);
        for (i, m) in self.members.iter().enumerate() {
            let slot = m.instance.slot();
            if self.position.len() <= slot {
                self.position.resize(slot + 1, 0);
            }
            self.position[slot] = i as u32 + 1;
        }
    }
}

/// The world as the proxy sees it.
pub trait ProxyCx: Env {
    fn proxy(&mut self) -> &mut Proxy;
    fn wake(&mut self, at: SimTime, timer: ProxyTimer);
    /// Connects to backend instance `inst` of `pool` and sends it the request
    /// of fetch `fetch`. The backend's answers come back as [`on_backend`]
    /// (possibly before this returns); if none comes, the connect times out.
    fn submit(&mut self, fetch: u64, pool: usize, inst: Key, job: JobSpec);
    /// Stops waiting for backend job `job` of `pool` (closes its connection).
    fn abandon(&mut self, pool: usize, job: u64);
    /// The fetch gave its backend connection back (it ended, or failed and
    /// may be retried on a new one): whatever still runs for it can stop.
    fn close(&mut self, fetch: u64);
    /// Sends health probe number `seq` to an instance; the answer comes back
    /// as [`on_probe_answer`] (possibly before this returns), or never.
    fn probe(&mut self, pool: usize, inst: Key, seq: u32);
    /// Answers the client's attempt.
    fn respond(&mut self, to: AttemptRef, response: Response);
}

/// The proxy's live state.
#[derive(Debug)]
pub struct Proxy {
    pub cfg: ProxyConfig,
    /// The pool each job class is routed to (the URL-to-backend rule of the VCL).
    routes: Vec<u16>,
    backends: Vec<Backend>,
    sessions: u32,
    rng: SimRng,
    fetches: Arena<Fetch>,
    /// Per client swarm: its rate limiter, if it has a limit.
    limiters: Vec<Option<ratelimit::Gcra>>,
    pub cache: cache::Cache,
    /// Whether any response can overflow the workspace: decided once, as
    /// every response's first byte asks.
    may_overflow: bool,
}

impl Proxy {
    /// A proxy in front of `pools` pools; class `c` is routed to pool `routes[c]`.
    pub fn new(cfg: ProxyConfig, routes: Vec<usize>, pools: usize, rng: SimRng) -> Self {
        Proxy {
            limiters: cfg.rate_limits.iter().map(|l| l.map(ratelimit::Gcra::new)).collect(),
            cache: cache::Cache::new(cfg.cache),
            // An unlisted class has the default headers (usize::MAX is never listed).
            may_overflow: cfg.any_overflow() || cfg.overflows(usize::MAX),
            cfg,
            routes: routes.into_iter().map(|p| p as u16).collect(),
            backends: (0..pools).map(|_| Backend::default()).collect(),
            sessions: 0,
            rng,
            fetches: Arena::new(),
        }
    }

    /// The most fetches ever in flight at once.
    pub fn fetch_high_water(&self) -> usize {
        self.fetches.high_water()
    }

    /// Checks client swarm `swarm`'s rate limit: the `Retry-After` of a 429 when over it.
    pub fn over_limit(&mut self, now: SimTime, swarm: usize) -> Option<SimDuration> {
        self.limiters.get_mut(swarm)?.as_mut()?.check(now).err()
    }

    /// A client connects. False when `max_sessions` are open (connection refused).
    pub fn open_session(&mut self) -> bool {
        if self.cfg.max_sessions.is_some_and(|m| self.sessions >= m) {
            return false;
        }
        self.sessions += 1;
        true
    }

    pub fn close_session(&mut self) {
        self.sessions -= 1;
    }

    pub fn sessions(&self) -> u32 {
        self.sessions
    }

    /// Adds an instance to the pool's director.
    pub fn add_backend(&mut self, pool: usize, instance: Key) {
        let health = self.cfg.probe.as_ref().map_or_else(Health::always, Health::new);
        let m = Member { instance, conns: 0, health, waiters: VecDeque::new(), probes_sent: 0, probes_done: 0 };
        let b = &mut self.backends[pool];
        let slot = instance.slot();
        if b.position.len() <= slot {
            b.position.resize(slot + 1, 0);
        }
        b.members.push(m);
        b.position[slot] = b.members.len() as u32;
    }

    /// Removes an instance; returns the fetches that were waiting on it.
    pub fn remove_backend(&mut self, pool: usize, instance: Key) -> Vec<u64> {
        let b = &mut self.backends[pool];
        let Some(i) = b.find(instance) else { return Vec::new() };
        let m = b.members.remove(i);
        b.reindex();
        m.waiters.into()
    }

    pub fn is_member(&self, pool: usize, instance: Key) -> bool {
        self.member(pool, instance).is_some()
    }

    fn member(&self, pool: usize, instance: Key) -> Option<&Member> {
        let b = &self.backends[pool];
        b.find(instance).map(|i| &b.members[i])
    }

    fn member_mut(&mut self, pool: usize, instance: Key) -> Option<&mut Member> {
        let b = &mut self.backends[pool];
        b.find(instance).map(|i| &mut b.members[i])
    }

    /// Picks an instance for a fetch and takes a connection slot (or a place in
    /// its wait queue). `token` identifies the fetch if it has to wait.
    #[inline(always)]
    pub fn route(&mut self, pool: usize, token: u64) -> Route {
        let kind = self.cfg.director;
        let backend = &mut self.backends[pool];
        let Some(i) = backend.director.pick(kind, &backend.members, &mut self.rng) else {
            return Route::Fail(Cause::Unhealthy);
        };
        let m = &mut backend.members[i];
        if self.cfg.max_connections.is_none_or(|max| m.conns < max) {
            m.conns += 1;
            return Route::Connect(m.instance);
        }
        match self.cfg.wait {
            Some(w) if (m.waiters.len() as u32) < w.limit => {
                m.waiters.push_back(token);
                Route::Wait(m.instance)
            }
            _ => Route::Fail(Cause::Busy),
        }
    }

    /// A fetch released its connection. If a fetch was waiting for one, the slot
    /// passes to it and its token is returned.
    #[inline]
    pub fn release(&mut self, pool: usize, instance: Key) -> Option<u64> {
        let m = self.member_mut(pool, instance)?;
        if let Some(next) = m.waiters.pop_front() {
            return Some(next);
        }
        m.conns = m.conns.saturating_sub(1);
        None
    }

    /// A waiting fetch gave up (wait_timeout).
    pub fn cancel_wait(&mut self, pool: usize, instance: Key, token: u64) {
        if let Some(m) = self.member_mut(pool, instance) {
            m.waiters.retain(|&t| t != token);
        }
    }

    /// Numbers a new probe of `instance` (None if it is not a backend).
    pub fn next_probe(&mut self, pool: usize, instance: Key) -> Option<u32> {
        let m = self.member_mut(pool, instance)?;
        m.probes_sent += 1;
        Some(m.probes_sent)
    }

    /// Whether probe `seq` has been answered or timed out.
    pub fn probe_settled(&self, pool: usize, instance: Key, seq: u32) -> bool {
        self.member(pool, instance).is_none_or(|m| m.probes_done >= seq)
    }

    /// Settles probe `seq` with its result, unless it is older than one
    /// already settled (a stale answer). Returns the fetches waiting on the
    /// instance when it turned sick: they fail at once.
    pub fn settle_probe(&mut self, pool: usize, instance: Key, seq: u32, good: bool) -> Vec<u64> {
        match self.member_mut(pool, instance) {
            Some(m) if seq > m.probes_done => {
                m.probes_done = seq;
                match m.health.record(good) {
                    Some(false) => m.waiters.drain(..).collect(),
                    _ => Vec::new(),
                }
            }
            _ => Vec::new(),
        }
    }

    /// Healthy instances of a pool, as the director sees them.
    pub fn healthy_count(&self, pool: usize) -> u32 {
        self.backends[pool].members.iter().filter(|m| m.healthy()).count() as u32
    }

    /// Open connections to one instance.
    pub fn connections(&self, pool: usize, instance: Key) -> u32 {
        self.member(pool, instance).map_or(0, |m| m.conns)
    }

    /// Each backend of a pool as a status page shows it: (instance, its probe
    /// window, open connections, fetches waiting for one).
    pub fn members(&self, pool: usize) -> impl Iterator<Item = (Key, Health, u32, usize)> + '_ {
        self.backends[pool].members.iter().map(|m| (m.instance, m.health, m.conns, m.waiters.len()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::arena::Arena;
    use crate::rng::{Stream, stream};

    fn keys(n: usize) -> Vec<Key> {
        let mut a = Arena::new();
        (0..n).map(|i| a.insert(i)).collect()
    }

    fn proxy(cfg: ProxyConfig, instances: &[Key]) -> Proxy {
        let mut p = Proxy::new(cfg, vec![0], 1, stream(1, Stream::Proxy));
        for &k in instances {
            p.add_backend(0, k);
        }
        p
    }

    #[test]
    fn max_connections_fails_busy_at_once_without_a_wait_queue() {
        let k = keys(1);
        let mut p = proxy(ProxyConfig { max_connections: Some(2), ..Default::default() }, &k);
        assert_eq!(p.route(0, 1), Route::Connect(k[0]));
        assert_eq!(p.route(0, 2), Route::Connect(k[0]));
        assert_eq!(p.route(0, 3), Route::Fail(Cause::Busy));
        assert_eq!(p.release(0, k[0]), None);
        assert_eq!(p.route(0, 4), Route::Connect(k[0]));
    }

    #[test]
    fn round_robin_does_not_skip_a_busy_instance() {
        let k = keys(2);
        let mut p = proxy(ProxyConfig { max_connections: Some(1), ..Default::default() }, &k);
        assert_eq!(p.route(0, 1), Route::Connect(k[0]));
        assert_eq!(p.route(0, 2), Route::Connect(k[1]));
        p.release(0, k[1]);
        // Instance 1 is free, but round robin lands on the busy instance 0.
        assert_eq!(p.route(0, 3), Route::Fail(Cause::Busy));
    }

    #[test]
    fn wait_queue_is_fifo_bounded_and_hands_over_the_slot() {
        let k = keys(1);
        let wait = Some(WaitQueue { limit: 2, timeout: SimDuration::from_secs(1) });
        let mut p = proxy(ProxyConfig { max_connections: Some(1), wait, ..Default::default() }, &k);
        assert_eq!(p.route(0, 1), Route::Connect(k[0]));
        assert_eq!(p.route(0, 2), Route::Wait(k[0]));
        assert_eq!(p.route(0, 3), Route::Wait(k[0]));
        assert_eq!(p.route(0, 4), Route::Fail(Cause::Busy));
        assert_eq!(p.release(0, k[0]), Some(2));
        assert_eq!(p.connections(0, k[0]), 1);
        p.cancel_wait(0, k[0], 3);
        assert_eq!(p.release(0, k[0]), None);
        assert_eq!(p.connections(0, k[0]), 0);
    }

    #[test]
    fn a_sick_instance_is_skipped_and_its_waiters_fail() {
        let k = keys(2);
        let probe = Some(ProbeConfig { initial: 8, ..Default::default() });
        let wait = Some(WaitQueue { limit: 4, timeout: SimDuration::from_secs(1) });
        let mut p = proxy(ProxyConfig { probe, wait, max_connections: Some(1), ..Default::default() }, &k);
        assert_eq!(p.route(0, 1), Route::Connect(k[0]));
        assert_eq!(p.route(0, 2), Route::Connect(k[1]));
        assert_eq!(p.route(0, 3), Route::Wait(k[0]));
        let mut failed = Vec::new();
        for _ in 0..6 {
            let seq = p.next_probe(0, k[0]).expect("a backend");
            failed.extend(p.settle_probe(0, k[0], seq, false));
        }
        assert_eq!(failed, [3]);
        assert_eq!(p.healthy_count(0), 1);
        p.release(0, k[1]);
        assert_eq!(p.route(0, 4), Route::Connect(k[1]));
        assert_eq!(p.route(0, 5), Route::Wait(k[1]));
    }

    #[test]
    fn no_instances_or_all_sick_is_unhealthy() {
        let mut p = proxy(ProxyConfig::default(), &[]);
        assert_eq!(p.route(0, 1), Route::Fail(Cause::Unhealthy));
        let k = keys(1);
        let mut p = proxy(ProxyConfig { probe: Some(ProbeConfig::default()), ..Default::default() }, &k);
        assert_eq!(p.route(0, 1), Route::Fail(Cause::Unhealthy), "initial = threshold - 1 starts sick");
    }

    #[test]
    fn sessions_are_limited_when_configured() {
        let mut p = proxy(ProxyConfig { max_sessions: Some(1), ..Default::default() }, &[]);
        assert!(p.open_session());
        assert!(!p.open_session());
        p.close_session();
        assert!(p.open_session());
    }
}

#[cfg(test)]
mod cache_tests;
#[cfg(test)]
mod rules_tests;
