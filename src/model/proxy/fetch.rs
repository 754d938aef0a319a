//! The proxy side of an attempt: a backend fetch.
//!
//! A fetch is routed by the director, takes a connection slot (or waits for
//! one), connects, hands the job to the backend and waits for the first byte and
//! then for each further chunk. It ends with a response, or with a synthetic
//! 503 whose cause says which rule fired; VCL may retry it on another instance.
//! The client's own timeout does not end a fetch: Varnish only notices a gone
//! client when it writes the response, so the fetch holds its connection slot
//! (and the backend keeps working) until it ends by itself.
//!
//! Timers are never cancelled: each carries the fetch's epoch, bumped at every
//! phase change, and a timer whose epoch is stale does nothing.
//!
//! A request of a cached class is looked up first (`cache.rs` classifies it):
//! a hit is answered at once; a miss starts a fetch that marks the object
//! busy, and requests for a busy object wait on its waiting list; a stale
//! object within grace is answered while one fetch without a client
//! refreshes it. When a fetch ends, what it got is stored (a 200 of a
//! cacheable object; a hit-for-miss marker for an uncacheable one and for the
//! backend's own errors, whose ttl the built-in VCL finds ≤ 0; a synthetic 503
//! only while requests wait on it), then its waiters are woken in waves of
//! `rush_exponent`: each woken request, once served, wakes that many more, as
//! Varnish's `HSH_DerefObjCore` does. In simulated time the waves follow one
//! another within the instant.

use crate::arena::Key;
use crate::model::client::{AttemptRef, JobSpec, Response};
use crate::model::context::Observe;
use crate::model::outcome::{Cause, Outcome, SYNTHETIC_RETRY_AFTER};
use crate::time::{SimDuration, SimTime};

use super::cache::{Body, CacheEvent, ERROR_GRACE, ERROR_TTL, Lookup, MIN_CHARGE, ObjKey, Waiter};
use super::probe;
use super::{ProxyCx, Route};

/// Where a fetch stands.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum Phase {
    Routing,
    /// In the instance's wait queue for a connection slot.
    Waiting,
    Connecting,
    AwaitingFirstByte,
    Streaming,
}

/// One backend fetch.
#[derive(Debug)]
pub(super) struct Fetch {
    /// None for a background refresh (a grace hit was answered already).
    client: Option<AttemptRef>,
    /// The cached object it fetches, and whether it is the object's busy
    /// fetch (the one its waiters wait for).
    object: Option<(ObjKey, bool)>,
    pool: u16,
    job: JobSpec,
    /// Bumped whenever the fetch changes phase, to invalidate older timers.
    epoch: u32,
    phase: Phase,
    inst: Option<Key>,
    holds_conn: bool,
    /// The backend's handle of the job, once it took it.
    backend_job: Option<u64>,
    /// VCL retries so far.
    retries: u32,
    bb_deadline: SimTime,
    bb_armed: bool,
    /// When the request went to the backend (first-byte time starts here).
    backend_sent: SimTime,
    /// When the last chunk of a streamed response arrived.
    last_chunk: SimTime,
}

/// Timers the proxy asks for.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum ProxyTimer {
    ConnectTimeout {
        fetch: Key,
        epoch: u32,
    },
    WaitTimeout {
        fetch: Key,
        epoch: u32,
    },
    FirstByteTimeout {
        fetch: Key,
        epoch: u32,
    },
    BetweenBytes {
        fetch: Key,
        epoch: u32,
    },
    /// Time to probe an instance.
    Probe {
        pool: u16,
        inst: Key,
    },
    /// Probe `seq` got no answer within the probe timeout.
    ProbeTimeout {
        pool: u16,
        inst: Key,
        seq: u32,
    },
}

/// What a backend tells the fetch that submitted a job to it.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum BackendEvent {
    /// The backend took the job (it runs or waits for a slot); `job` names it.
    Accepted { job: u64 },
    /// The backend answered at once with its own error: a 503 (queue full,
    /// maintenance) or a 429, with its own Retry-After.
    Refused { outcome: Outcome, retry_after: Option<SimDuration> },
    /// A chunk of the response (not the last); the job began running at `started_at`.
    Chunk { started_at: SimTime },
    /// The last chunk: the response is complete. The job began running at `started_at`.
    Complete { started_at: SimTime },
    /// The connection was refused or dropped before any answer.
    ConnectFailed,
}

/// Dispatches a proxy timer.
pub fn on_timer<C: ProxyCx>(cx: &mut C, timer: ProxyTimer) {
    if !cx.proxy().timer_pending(&timer) {
        return;
    }
    match timer {
        ProxyTimer::ConnectTimeout { fetch, .. } => fetch_failed(cx, fetch, Cause::ConnectTimeout, None),
        ProxyTimer::WaitTimeout { fetch, .. } => {
            let p = cx.proxy();
            let f = p.fetches.get(fetch).expect("current");
            let (pool, inst) = (f.pool as usize, f.inst.expect("waiting on an instance"));
            p.cancel_wait(pool, inst, fetch.to_bits());
            fetch_failed(cx, fetch, Cause::Busy, None);
        }
        ProxyTimer::FirstByteTimeout { fetch, .. } => {
            abandon_job(cx, fetch);
            fetch_failed(cx, fetch, Cause::FirstByteTimeout, None);
        }
        ProxyTimer::BetweenBytes { fetch, .. } => on_between_bytes(cx, fetch),
        ProxyTimer::Probe { pool, inst } => probe::on_probe(cx, pool as usize, inst),
        ProxyTimer::ProbeTimeout { pool, inst, seq } => probe::on_probe_timeout(cx, pool as usize, inst, seq),
    }
}

/// A client's attempt arrives: open a session and start a fetch.
// Inlined into the client's send: 3% less time per mm10 customer.
#[inline(always)]
pub fn on_request<C: ProxyCx>(cx: &mut C, from: AttemptRef, job: JobSpec) {
    let now = cx.now();
    let p = cx.proxy();
    // Over its rate limit the client is answered 429 at once, before any session.
    if let Some(retry_after) = p.over_limit(now, usize::from(job.swarm)) {
        cx.respond(from, Response::failed(Outcome::Status429, Some(retry_after)));
        return;
    }
    if !p.open_session() {
        cx.respond(from, Response::failed(Outcome::ConnectError, None));
        return;
    }
    match job.object {
        Some(object) if p.cfg.classes.get(usize::from(job.class)).is_some_and(|c| c.cache.is_some()) => {
            lookup(cx, from, job, (job.class, object), false);
        }
        _ => new_fetch(cx, Some(from), job, None),
    }
}

/// Looks `key` up for the client's attempt `from` (`woken`: it waited on the
/// waiting list) and answers it, waits, or fetches.
// Inlined into on_request, whose job then stays out of memory: it was built
// just before, and reading it back whole stalled on store forwarding.
#[inline(always)]
fn lookup<C: ProxyCx>(cx: &mut C, from: AttemptRef, job: JobSpec, key: ObjKey, woken: bool) {
    let now = cx.now();
    let (class, measured) = (usize::from(job.class), job.measured);
    let saved = |body: Body| if body == Body::Ok { job.work } else { SimDuration::ZERO };
    match cx.proxy().cache.lookup(now, key) {
        Lookup::Hit(body) => {
            let event = if woken { CacheEvent::Coalesced } else { CacheEvent::Hit };
            cx.obs().cache(class, measured, event, saved(body));
            answer(cx, from, body);
        }
        Lookup::Grace { body, refresh } => {
            // The refresh this hit starts does the very work it would have
            // asked for: that hit spares the client the wait, not the GPU.
            let spared = if refresh { SimDuration::ZERO } else { saved(body) };
            cx.obs().cache(class, measured, CacheEvent::Grace, spared);
            answer(cx, from, body);
            if refresh {
                new_fetch(cx, None, job, Some((key, true)));
            }
        }
        Lookup::HitForMiss => {
            cx.obs().cache(class, measured, CacheEvent::HitForMiss, SimDuration::ZERO);
            new_fetch(cx, Some(from), job, Some((key, false)));
        }
        Lookup::Busy => cx.proxy().cache.wait(key, Waiter { client: from, job }),
        Lookup::Miss => {
            cx.obs().cache(class, measured, CacheEvent::Miss, SimDuration::ZERO);
            new_fetch(cx, Some(from), job, Some((key, true)));
        }
    }
}

/// Answers a client from a stored object; its session ends.
fn answer<C: ProxyCx>(cx: &mut C, to: AttemptRef, body: Body) {
    let response = match body {
        Body::Error(cause) => Response::failed(Outcome::Status503(cause), Some(SYNTHETIC_RETRY_AFTER)),
        Body::Ok | Body::HitForMiss => Response { outcome: Outcome::Ok, retry_after: None, work_started: None },
    };
    cx.proxy().close_session();
    cx.respond(to, response);
}

/// Starts a backend fetch: for a client (a pass, a miss, a hit-for-miss) or
/// for nobody (a grace refresh). A busy fetch marks its object busy.
#[inline(always)]
fn new_fetch<C: ProxyCx>(cx: &mut C, client: Option<AttemptRef>, job: JobSpec, object: Option<(ObjKey, bool)>) {
    let now = cx.now();
    let p = cx.proxy();
    let pool = p.routes[job.class as usize];
    // Inserted as start_fetch would leave it: routing, in its first epoch.
    let fetch = p.fetches.insert(Fetch {
        client,
        object,
        pool,
        job,
        epoch: 1,
        phase: Phase::Routing,
        inst: None,
        holds_conn: false,
        backend_job: None,
        retries: 0,
        bb_deadline: now,
        bb_armed: false,
        backend_sent: now,
        last_chunk: now,
    });
    if let Some((key, true)) = object {
        p.cache.set_busy(key, fetch);
    }
    route(cx, fetch, usize::from(pool), job.measured, false);
}

/// Routes a fetch again after a VCL retry.
fn start_fetch<C: ProxyCx>(cx: &mut C, fetch: Key, retry: bool) {
    let f = cx.proxy().fetches.get_mut(fetch).expect("live fetch");
    f.epoch += 1;
    f.phase = Phase::Routing;
    f.inst = None;
    let (pool, measured) = (f.pool as usize, f.job.measured);
    route(cx, fetch, pool, measured, retry);
}

/// Routes a fetch that is in its routing phase (`retry`: after a VCL retry).
#[inline(always)]
fn route<C: ProxyCx>(cx: &mut C, fetch: Key, pool: usize, measured: bool, retry: bool) {
    let now = cx.now();
    cx.obs().fetch(measured, retry);
    let p = cx.proxy();
    match p.route(pool, fetch.to_bits()) {
        Route::Fail(cause) => fetch_failed(cx, fetch, cause, None),
        Route::Wait(inst) => {
            let timeout = p.cfg.wait.map_or(SimDuration::MAX, |w| w.timeout);
            let f = p.fetches.get_mut(fetch).expect("live fetch");
            f.phase = Phase::Waiting;
            f.inst = Some(inst);
            let epoch = f.epoch;
            cx.wake(now + timeout, ProxyTimer::WaitTimeout { fetch, epoch });
        }
        Route::Connect(inst) => {
            // connect's first step, on the fetch in hand.
            let f = p.fetches.get_mut(fetch).expect("live fetch");
            f.inst = Some(inst);
            f.holds_conn = true;
            f.epoch += 1;
            f.phase = Phase::Connecting;
            let (epoch, job) = (f.epoch, f.job);
            submit(cx, fetch, epoch, pool, inst, job);
        }
    }
}

/// The fetch holds a connection slot: connect and hand the job to the backend.
fn connect<C: ProxyCx>(cx: &mut C, fetch: Key) {
    let f = cx.proxy().fetches.get_mut(fetch).expect("live fetch");
    f.epoch += 1;
    f.phase = Phase::Connecting;
    let (epoch, pool, inst, job) = (f.epoch, f.pool as usize, f.inst.expect("routed"), f.job);
    submit(cx, fetch, epoch, pool, inst, job);
}

/// Hands the job of a fetch that is connecting (in epoch `epoch`) to the backend.
#[inline(always)]
fn submit<C: ProxyCx>(cx: &mut C, fetch: Key, epoch: u32, pool: usize, inst: Key, job: JobSpec) {
    let now = cx.now();
    cx.submit(fetch.to_bits(), pool, inst, job);
    // An answer may have come already; if not, the connect can time out (a
    // dead host never answers the SYN).
    if let Some(t) = cx.proxy().cfg.connect_timeout
        && cx.proxy().fetch_current(fetch, epoch, Phase::Connecting)
    {
        cx.wake(now + t, ProxyTimer::ConnectTimeout { fetch, epoch });
    }
}

/// The backend answered fetch `fetch`.
// Inlined: callers pass a known variant, so the match folds away.
#[inline(always)]
pub fn on_backend<C: ProxyCx>(cx: &mut C, fetch: Key, event: BackendEvent) {
    match event {
        BackendEvent::Accepted { job } => await_first_byte(cx, fetch, job),
        BackendEvent::ConnectFailed => {
            // Refused, or dropped before any answer (a pooled connection the
            // backend closed): the same 503 either way.
            let Some(f) = cx
                .proxy()
                .fetches
                .get_mut(fetch)
                .filter(|f| matches!(f.phase, Phase::Connecting | Phase::AwaitingFirstByte))
            else {
                return;
            };
            f.backend_job = None;
            fetch_failed(cx, fetch, Cause::ConnectFailed, None);
        }
        BackendEvent::Refused { outcome, retry_after } => {
            // The backend's own error is its first byte: it can come while
            // connecting (the simulator answers at once) or after the request
            // was sent (a real connection). In any later phase it is stale.
            let Some(f) = cx
                .proxy()
                .fetches
                .get_mut(fetch)
                .filter(|f| matches!(f.phase, Phase::Connecting | Phase::AwaitingFirstByte))
            else {
                return;
            };
            f.backend_job = None;
            match outcome {
                Outcome::Status503(cause) => fetch_failed(cx, fetch, cause, retry_after),
                other => {
                    release_conn(cx, fetch);
                    end_fetch(cx, fetch, Response::failed(other, retry_after));
                }
            }
        }
        BackendEvent::Chunk { .. } => on_chunk(cx, fetch),
        BackendEvent::Complete { started_at } => on_complete(cx, fetch, started_at),
    }
}

/// The backend took the job: wait for its first byte.
fn await_first_byte<C: ProxyCx>(cx: &mut C, fetch: Key, job: u64) {
    let now = cx.now();
    let p = cx.proxy();
    let timeout = p.cfg.first_byte_timeout;
    let Some(f) = p.fetches.get_mut(fetch).filter(|f| f.phase == Phase::Connecting) else { return };
    f.backend_job = Some(job);
    f.backend_sent = now;
    f.epoch += 1;
    f.phase = Phase::AwaitingFirstByte;
    let epoch = f.epoch;
    if let Some(t) = timeout {
        cx.wake(now + t, ProxyTimer::FirstByteTimeout { fetch, epoch });
    }
}

/// A chunk of the response arrived (not the last one).
fn on_chunk<C: ProxyCx>(cx: &mut C, fetch: Key) {
    let now = cx.now();
    let p = cx.proxy();
    let bbt = p.cfg.between_bytes_timeout;
    let Some(f) = p.fetches.get_mut(fetch) else { return };
    if !matches!(f.phase, Phase::AwaitingFirstByte | Phase::Streaming) {
        return;
    }
    if f.phase == Phase::AwaitingFirstByte && p.may_overflow && p.cfg.overflows(usize::from(f.job.class)) {
        // The headers came with the first byte and do not fit the workspace.
        abandon_job(cx, fetch);
        fetch_failed(cx, fetch, Cause::Overflow, None);
        return;
    }
    let (measured, gap) = if f.phase == Phase::AwaitingFirstByte {
        f.phase = Phase::Streaming;
        f.epoch += 1;
        f.bb_armed = false;
        (f.job.measured, Err(now - f.backend_sent))
    } else {
        (f.job.measured, Ok(now - f.last_chunk))
    };
    f.last_chunk = now;
    let rearm = bbt.map(|bbt| {
        f.bb_deadline = now + bbt;
        let arm = !f.bb_armed;
        f.bb_armed = true;
        (arm, f.bb_deadline, f.epoch)
    });
    match gap {
        Err(first_byte) => cx.obs().first_byte(measured, first_byte),
        Ok(gap) => cx.obs().chunk_gap(measured, gap),
    }
    if let Some((true, deadline, epoch)) = rearm {
        cx.wake(deadline, ProxyTimer::BetweenBytes { fetch, epoch });
    }
}

/// The last chunk arrived: the response is complete.
fn on_complete<C: ProxyCx>(cx: &mut C, fetch: Key, started_at: SimTime) {
    let now = cx.now();
    let p = cx.proxy();
    let Some(f) = p.fetches.get_mut(fetch) else { return };
    f.backend_job = None;
    let measured = f.job.measured;
    if f.phase == Phase::AwaitingFirstByte && p.may_overflow && p.cfg.overflows(usize::from(f.job.class)) {
        // The whole job ran for a response the proxy cannot take.
        cx.obs().wasted(started_at, now);
        fetch_failed(cx, fetch, Cause::Overflow, None);
        return;
    }
    // release_conn's first step, on the fetch in hand.
    let conn = f.holds_conn.then(|| (f.pool as usize, f.inst.expect("held a connection")));
    f.holds_conn = false;
    match f.phase {
        // A response in one piece: its first byte is its completion.
        Phase::AwaitingFirstByte => {
            let d = now - f.backend_sent;
            cx.obs().first_byte(measured, d);
        }
        _ => {
            let d = now - f.last_chunk;
            cx.obs().chunk_gap(measured, d);
        }
    }
    if let Some((pool, inst)) = conn {
        hand_back(cx, fetch, pool, inst);
    }
    let ok = Response { outcome: Outcome::Ok, retry_after: None, work_started: Some(started_at) };
    end_fetch(cx, fetch, ok);
}

impl super::Proxy {
    /// Whether fetch `fetch` is still in `phase` of epoch `epoch`.
    fn fetch_current(&self, fetch: Key, epoch: u32, phase: Phase) -> bool {
        self.fetches.get(fetch).is_some_and(|f| f.epoch == epoch && f.phase == phase)
    }

    /// Whether `timer` can still do anything when it fires: a fetch's timer
    /// does only while the fetch is in the phase and epoch that set it. Once
    /// false it stays false (epochs only grow, and an ended fetch's key goes
    /// stale), so an engine may drop such a timer early; nothing changes.
    pub fn timer_pending(&self, timer: &ProxyTimer) -> bool {
        match *timer {
            ProxyTimer::ConnectTimeout { fetch, epoch } => self.fetch_current(fetch, epoch, Phase::Connecting),
            ProxyTimer::WaitTimeout { fetch, epoch } => self.fetch_current(fetch, epoch, Phase::Waiting),
            ProxyTimer::FirstByteTimeout { fetch, epoch } => self.fetch_current(fetch, epoch, Phase::AwaitingFirstByte),
            ProxyTimer::BetweenBytes { fetch, epoch } => self.fetch_current(fetch, epoch, Phase::Streaming),
            ProxyTimer::Probe { .. } | ProxyTimer::ProbeTimeout { .. } => true,
        }
    }
}

/// The between-bytes timer of a fetch that is still streaming in its epoch.
fn on_between_bytes<C: ProxyCx>(cx: &mut C, fetch: Key) {
    let now = cx.now();
    let f = cx.proxy().fetches.get(fetch).expect("current");
    if now < f.bb_deadline {
        // A chunk came meanwhile: re-arm for the new deadline.
        let (deadline, epoch) = (f.bb_deadline, f.epoch);
        cx.wake(deadline, ProxyTimer::BetweenBytes { fetch, epoch });
        return;
    }
    abandon_job(cx, fetch);
    fetch_failed(cx, fetch, Cause::BetweenBytesTimeout, None);
}

/// The proxy stops waiting for the backend job of `fetch`.
fn abandon_job<C: ProxyCx>(cx: &mut C, fetch: Key) {
    let f = cx.proxy().fetches.get_mut(fetch).expect("live fetch");
    let Some(job) = f.backend_job.take() else { return };
    let pool = f.pool as usize;
    cx.abandon(pool, job);
}

/// Fails the fetch with a 503 of `cause`: VCL retries it if told to, otherwise
/// the client gets the 503 — with Varnish's `Retry-After: 5` when the proxy
/// made it up, with the backend's own Retry-After when the backend sent it.
fn fetch_failed<C: ProxyCx>(cx: &mut C, fetch: Key, cause: Cause, backend_retry_after: Option<SimDuration>) {
    release_conn(cx, fetch);
    let p = cx.proxy();
    let f = p.fetches.get_mut(fetch).expect("live fetch");
    if p.cfg.retry_on.contains(Outcome::Status503(cause)) && f.retries < p.cfg.max_retries {
        f.retries += 1;
        start_fetch(cx, fetch, true);
        return;
    }
    let retry_after = if cause.is_synthetic() { Some(SYNTHETIC_RETRY_AFTER) } else { backend_retry_after };
    end_fetch(cx, fetch, Response::failed(Outcome::Status503(cause), retry_after));
}

/// Gives back the connection slot; a fetch waiting for one takes it over.
fn release_conn<C: ProxyCx>(cx: &mut C, fetch: Key) {
    let p = cx.proxy();
    let f = p.fetches.get_mut(fetch).expect("live fetch");
    if !f.holds_conn {
        return;
    }
    f.holds_conn = false;
    let (pool, inst) = (f.pool as usize, f.inst.expect("held a connection"));
    hand_back(cx, fetch, pool, inst);
}

/// The connection slot `fetch` held on `inst` of `pool` is free: a fetch
/// waiting for one takes it over.
#[inline(always)]
fn hand_back<C: ProxyCx>(cx: &mut C, fetch: Key, pool: usize, inst: Key) {
    let waiter = cx.proxy().release(pool, inst);
    cx.close(fetch.to_bits());
    if let Some(bits) = waiter {
        let p = cx.proxy();
        let waiter = Key::from_bits(bits);
        let w = p.fetches.get_mut(waiter).expect("waiters are live fetches");
        w.holds_conn = true;
        w.epoch += 1; // cancels its wait timeout
        connect(cx, waiter);
    }
}

/// The fetch is over: what it got is stored, the client gets its answer (it
/// may have stopped listening), the session closes, and the requests waiting
/// on its object are woken.
#[inline(always)]
fn end_fetch<C: ProxyCx>(cx: &mut C, fetch: Key, response: Response) {
    let (object, client) = cx.proxy().fetches.remove_with(fetch, |f| (f.object, f.client)).expect("live fetch");
    if let Some((key, busy)) = object {
        store(cx, key, busy, response.outcome);
    }
    if let Some(client) = client {
        cx.proxy().close_session();
        cx.respond(client, response);
    }
    if let Some((key, true)) = object {
        cx.proxy().cache.unbusy(key, fetch);
        rush(cx, key);
    }
}

/// Stores what a fetch of `key` got, as Varnish's built-in VCL would.
fn store<C: ProxyCx>(cx: &mut C, key: ObjKey, busy: bool, outcome: Outcome) {
    let now = cx.now();
    let p = cx.proxy();
    let Some(policy) = p.cfg.classes.get(usize::from(key.0)).and_then(|c| c.cache) else { return };
    let hit_for_miss = (Body::HitForMiss, policy.hit_for_miss, SimDuration::ZERO, MIN_CHARGE);
    let (body, ttl, grace, bytes) = match outcome {
        Outcome::Ok if policy.is_cacheable(key.0, key.1) => (Body::Ok, policy.ttl, policy.grace, policy.size),
        Outcome::Ok => hit_for_miss,
        // vbf_stp_error: kept briefly only when requests wait for it.
        Outcome::Status503(cause) if cause.is_synthetic() => {
            if !(busy && p.cache.waiting(key) > 0) {
                return;
            }
            (Body::Error(cause), ERROR_TTL, ERROR_GRACE, MIN_CHARGE)
        }
        // The backend's own 503 or 429: no ttl, so hit-for-miss.
        _ => hit_for_miss,
    };
    let evicted = p.cache.store(now, key, body, ttl, grace, bytes);
    if evicted > 0 {
        cx.obs().evicted(now, evicted);
    }
}

/// Wakes the requests waiting on `key` in waves of `rush_exponent`: each
/// woken request looks the object up again (a hit, a fetch of its own for a
/// hit-for-miss, or a new busy fetch the rest then wait for) and, once done
/// with it, wakes `rush_exponent` more.
fn rush<C: ProxyCx>(cx: &mut C, key: ObjKey) {
    let exponent = cx.proxy().cache.config().rush_exponent.max(1);
    let mut budget = exponent;
    while budget > 0 {
        let Some(w) = cx.proxy().cache.next_waiter(key) else { return };
        budget = budget - 1 + exponent;
        lookup(cx, w.client, w.job, key, true);
    }
}

/// Fails every fetch in `waiters` (their instance went sick or away).
pub(super) fn fail_waiters<C: ProxyCx>(cx: &mut C, waiters: Vec<u64>) {
    for bits in waiters {
        let fetch = Key::from_bits(bits);
        if cx.proxy().fetches.get(fetch).is_some_and(|f| f.phase == Phase::Waiting) {
            fetch_failed(cx, fetch, Cause::Unhealthy, None);
        }
    }
}
