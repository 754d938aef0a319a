//! The backend and its control plane: the GPU pools, their autoscalers and
//! the chaos that strikes them.
//!
//! [`crate::model::gpu`] is the bookkeeping of one pool (slots, queues, jobs,
//! cold starts). This module owns the rules around it: what a submitted job
//! gets back, when a milestone reaches the fetch waiting for it, which work
//! counts as wasted, how the autoscaler reads its metric and acts, and what
//! chaos does to a pool, injected faults included (a request drawn to fail
//! at connect or to be answered an error at once, answers held back by added
//! latency, probes drawn to fail). It reaches the world only through [`BackendCx`]: the
//! simulator delivers answers to its proxy model; a live backend would write
//! them to a socket.

use std::borrow::Cow;
use std::cmp::{Ordering, Reverse};
use std::collections::BinaryHeap;

use crate::arena::Key;
use crate::model::autoscaler::{Autoscaler, Observation, ScaleMetric};
use crate::model::chaos::{self, ChaosAction, ChaosEvent, FaultStatus, Faults, Subject};
use crate::model::context::{Env, Observe};
use crate::model::gpu::{Admit, InstanceState, Pool, PoolConfig, ProbeAnswer, Promoted, QueueFullStatus, Reject};
use crate::model::gpu::{Stopped, Wake};
use crate::model::outcome::{Cause, Outcome};
use crate::model::proxy::BackendEvent;
use crate::rng::{SimRng, Stream, stream};
use crate::time::{SimDuration, SimTime};

/// Timers the backend asks for.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum BackendTimer {
    /// A running job's next chunk or its completion.
    Milestone {
        pool: u16,
        job: Key,
        epoch: u32,
    },
    /// A new instance's cold start is over.
    InstanceReady {
        pool: u16,
        inst: Key,
    },
    /// A killed instance leaves the proxy's backend list.
    Deregister {
        pool: u16,
        inst: Key,
    },
    Autoscale {
        pool: u16,
    },
    /// A chaos window on the pool starts or ends.
    PoolCondition {
        pool: u16,
    },
    /// Chaos event number `event` (a kill) fires.
    Kill {
        event: u32,
    },
    /// A queued job's client runs out of patience.
    Patience {
        pool: u16,
        job: Key,
    },
    /// Answers held back by injected latency may be due.
    Held,
}

/// The world as the backend sees it.
pub trait BackendCx<'a>: Env {
    fn backend(&mut self) -> &mut Backend<'a>;
    fn wake(&mut self, at: SimTime, timer: BackendTimer);
    /// Tells the fetch that submitted a job (its token) what happened to it.
    fn deliver(&mut self, fetch: u64, event: BackendEvent);
    /// An instance is ready to serve: the proxy may send it work.
    fn instance_up(&mut self, pool: usize, inst: Key);
    /// An instance is gone from the proxy's point of view (retired or dead).
    fn instance_gone(&mut self, pool: usize, inst: Key);
}

/// Gauge integrals at the autoscaler's last evaluation.
#[derive(Copy, Clone, Debug, Default)]
struct ScalerMark {
    /// Busy slots on ready instances: draining ones are out of the metric, as in an HPA.
    busy: u128,
    ready_slots: u128,
    queued: u128,
    ready: u128,
}

/// The backend's live state.
#[derive(Debug)]
pub struct Backend<'a> {
    pub pools: Vec<Pool>,
    scalers: Vec<Option<(Autoscaler, ScalerMark)>>,
    rngs: Vec<SimRng>,
    /// The chaos schedule: the scenario's, plus what the control port added
    /// while a served backend runs (only then is it copied).
    chaos: Cow<'a, [ChaosEvent]>,
    /// How many chunks each job class's response comes in.
    chunks: Vec<u32>,
    scratch_wakes: Vec<Wake>,
    scratch_lost: Vec<Stopped>,
    scratch_dropped: Vec<u64>,
    /// Each pool's injected faults now.
    faults: Vec<Faults>,
    /// Whether any fault is on in each pool: one test per submission when none is.
    faulty: Vec<bool>,
    /// Each pool's stream for fault draws.
    fault_rngs: Vec<SimRng>,
    /// Answers held back by injected latency, soonest first.
    held: BinaryHeap<Reverse<Held>>,
    held_seq: u64,
}

/// An answer on its way back, late by the job's injected latency.
#[derive(Copy, Clone, Debug)]
struct Held {
    due: SimTime,
    /// Ties in `due` keep the order the answers were made in.
    seq: u64,
    pool: u16,
    job: Key,
    token: u64,
    event: BackendEvent,
    /// When the backend made the answer (the job's GPU time ends there).
    made: SimTime,
}

impl PartialEq for Held {
    fn eq(&self, o: &Self) -> bool {
        (self.due, self.seq) == (o.due, o.seq)
    }
}
impl Eq for Held {}
impl PartialOrd for Held {
    fn partial_cmp(&self, o: &Self) -> Option<Ordering> {
        Some(self.cmp(o))
    }
}
impl Ord for Held {
    fn cmp(&self, o: &Self) -> Ordering {
        (self.due, self.seq).cmp(&(o.due, o.seq))
    }
}

impl<'a> Backend<'a> {
    /// The pools with their initial instances ready; `chunks[c]` is job class c's chunk count.
    pub fn new(pools: &[PoolConfig], chunks: Vec<u32>, chaos: &'a [ChaosEvent], seed: u64) -> Self {
        Backend {
            pools: pools.iter().map(|cfg| Pool::new(cfg.clone())).collect(),
            scalers: pools
                .iter()
                .map(|p| p.autoscaler.clone().map(|a| (Autoscaler::new(a), ScalerMark::default())))
                .collect(),
            rngs: (0..pools.len()).map(|i| stream(seed, Stream::Pool { pool: i as u64 })).collect(),
            chaos: Cow::Borrowed(chaos),
            chunks,
            scratch_wakes: Vec::new(),
            scratch_lost: Vec::new(),
            scratch_dropped: Vec::new(),
            faults: vec![Faults::default(); pools.len()],
            faulty: vec![false; pools.len()],
            fault_rngs: (0..pools.len()).map(|i| stream(seed, Stream::Fault { pool: i as u64 })).collect(),
            held: BinaryHeap::new(),
            held_seq: 0,
        }
    }

    /// Whether a health probe sent now to `inst` gets its 200: a flapping
    /// pool's probes fail by the fault's share.
    pub fn probe_answer(&mut self, pool: usize, inst: Key) -> ProbeAnswer {
        match self.pools[pool].probe_answer(inst) {
            ProbeAnswer::Good if self.faults[pool].probe_fails(&mut self.fault_rngs[pool]) => ProbeAnswer::Bad,
            a => a,
        }
    }

    /// The chaos schedule, with what was added at run time.
    pub fn chaos(&self) -> &[ChaosEvent] {
        &self.chaos
    }

    /// The most jobs ever alive at once, over all pools.
    pub fn job_high_water(&self) -> usize {
        self.pools.iter().map(Pool::job_high_water).sum()
    }
}

/// Announces the initial instances and starts the autoscalers.
pub fn start<'a, C: BackendCx<'a>>(cx: &mut C) {
    for pool in 0..cx.backend().pools.len() {
        let ready: Vec<Key> = cx.backend().pools[pool].ready_instances().collect();
        for inst in ready {
            cx.instance_up(pool, inst);
        }
        if let Some((a, _)) = &cx.backend().scalers[pool] {
            let at = SimTime::ZERO + a.cfg.interval;
            cx.wake(at, BackendTimer::Autoscale { pool: pool as u16 });
        }
    }
}

/// Dispatches a backend timer.
pub fn on_timer<'a, C: BackendCx<'a>>(cx: &mut C, timer: BackendTimer) {
    match timer {
        BackendTimer::Milestone { pool, job, epoch } => on_milestone(cx, pool as usize, job, epoch),
        BackendTimer::InstanceReady { pool, inst } => {
            let now = cx.now();
            if cx.backend().pools[pool as usize].mark_ready(now, inst) {
                cx.instance_up(pool as usize, inst);
            }
        }
        BackendTimer::Deregister { pool, inst } => {
            cx.instance_gone(pool as usize, inst);
            cx.backend().pools[pool as usize].forget_dead(inst);
        }
        BackendTimer::Autoscale { pool } => on_autoscale(cx, pool as usize),
        BackendTimer::PoolCondition { pool } => on_pool_condition(cx, pool as usize),
        BackendTimer::Kill { event } => on_kill(cx, event as usize),
        BackendTimer::Patience { pool, job } => on_patience(cx, pool as usize, job),
        BackendTimer::Held => on_held(cx),
    }
}

/// The timer for a chaos boundary, if its subject is the backend's.
pub fn chaos_timer(subject: Subject) -> Option<BackendTimer> {
    match subject {
        Subject::Pool(p) => Some(BackendTimer::PoolCondition { pool: p as u16 }),
        Subject::Kill(e) => Some(BackendTimer::Kill { event: e as u32 }),
        Subject::Swarm(_) => None,
    }
}

/// What a request asks the backend for.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub struct JobAsk {
    pub class: usize,
    /// Nominal GPU time.
    pub work: SimDuration,
    /// The priority tier's rank the request travels with (0 the highest).
    pub tier: u8,
    /// How long its client waits for the job to leave the queue (None: forever).
    pub patience: Option<SimDuration>,
}

/// A request for a job reaches instance `inst`; the submitting fetch
/// (`token`) hears what happened.
#[inline(always)]
pub fn submit<'a, C: BackendCx<'a>>(cx: &mut C, pool: usize, inst: Key, ask: JobAsk, token: u64) {
    let now = cx.now();
    let b = cx.backend();
    let chunks = b.chunks[ask.class];
    let faulty = b.faulty[pool];
    let p = &mut b.pools[pool];
    // The backend's own errors carry its own Retry-After.
    let retry_after = p.cfg.retry_after;
    // Injected faults strike a host that answers (a dead one answers nothing).
    if faulty && matches!(p.state(inst), Some(InstanceState::Ready | InstanceState::Draining)) {
        let (faults, rng) = (&b.faults[pool], &mut b.fault_rngs[pool]);
        if faults.connect_fails(rng) {
            return cx.deliver(token, BackendEvent::ConnectFailed);
        }
        if let Some(status) = faults.error(rng) {
            // Retry-After belongs with a 503 (RFC 9110), not a 500 or 502.
            let retry_after = if status == FaultStatus::S503 { retry_after } else { None };
            return cx.deliver(token, BackendEvent::Refused { outcome: status.outcome(), retry_after });
        }
    }
    let b = cx.backend();
    let p = &mut b.pools[pool];
    let queue_full = queue_full_outcome(p.cfg.queue_full_status);
    let admit = p.submit_tier(now, inst, ask.work, chunks, token, ask.tier);
    if faulty
        && let Admit::Started { job, .. } | Admit::Queued { job } = admit
        && let faults = &b.faults[pool]
        && faults.added + faults.jitter > SimDuration::ZERO
    {
        let delay = faults.delay(&mut b.fault_rngs[pool]);
        b.pools[pool].set_delay(job, delay);
    }
    match admit {
        // The host is gone: nothing answers, the connect times out.
        Admit::Rejected(Reject::Dead) => {}
        Admit::Rejected(Reject::Maintenance) => {
            let outcome = Outcome::Status503(Cause::Maintenance);
            cx.deliver(token, BackendEvent::Refused { outcome, retry_after });
        }
        // A shed tier is refused as a full queue is: the backend's own 503 or 429.
        Admit::Rejected(Reject::QueueFull | Reject::Shed) => {
            cx.deliver(token, BackendEvent::Refused { outcome: queue_full, retry_after });
        }
        Admit::Started { job, wake } => {
            cx.obs().job_started(pool, inst.to_bits(), now, SimDuration::ZERO);
            if let Some(w) = wake {
                schedule_wake(cx, pool, w);
            }
            cx.deliver(token, BackendEvent::Accepted { job: job.to_bits() });
        }
        Admit::Queued { job } => {
            if let Some(p) = ask.patience {
                cx.wake(now + p, BackendTimer::Patience { pool: pool as u16, job });
            }
            cx.deliver(token, BackendEvent::Accepted { job: job.to_bits() })
        }
    }
    schedule_pending(cx, pool);
}

/// What the backend answers when its queue is full.
fn queue_full_outcome(status: QueueFullStatus) -> Outcome {
    match status {
        QueueFullStatus::S503 => Outcome::Status503(Cause::BackendQueueFull),
        QueueFullStatus::S429 => Outcome::Status429,
    }
}

/// The fetch waiting for `job` gave up. Without `cancel_on_abandon` the job
/// runs on (its result will be wasted); with it, it stops now.
pub fn abandon<'a, C: BackendCx<'a>>(cx: &mut C, pool: usize, job: Key) {
    let now = cx.now();
    if !cx.backend().held.is_empty() {
        drop_held(cx, pool, job);
    }
    let Some(ab) = cx.backend().pools[pool].abandon(now, job) else { return };
    schedule_pending(cx, pool);
    if let Some(started) = ab.stopped.and_then(|s| s.started_at) {
        cx.obs().wasted(started, now);
    }
    if let Some(p) = ab.promoted {
        job_promoted(cx, pool, p);
    }
}

fn schedule_wake<'a, C: BackendCx<'a>>(cx: &mut C, pool: usize, w: Wake) {
    cx.wake(w.at, BackendTimer::Milestone { pool: pool as u16, job: w.job, epoch: w.epoch });
}

/// Schedules the wake-ups a load-dependent pool's shared clocks asked for,
/// and answers the queued jobs it dropped for waiting too long (like a full
/// queue: the backend's own 503 or 429, with its Retry-After).
#[inline(always)]
fn schedule_pending<'a, C: BackendCx<'a>>(cx: &mut C, pool: usize) {
    if cx.backend().pools[pool].has_pending() {
        drain_pending(cx, pool);
    }
}

fn drain_pending<'a, C: BackendCx<'a>>(cx: &mut C, pool: usize) {
    let b = cx.backend();
    let mut dropped = std::mem::take(&mut b.scratch_dropped);
    b.pools[pool].drain_dropped(&mut dropped);
    if !dropped.is_empty() {
        let p = &b.pools[pool];
        let outcome = queue_full_outcome(p.cfg.queue_full_status);
        let retry_after = p.cfg.retry_after;
        for token in dropped.drain(..) {
            cx.deliver(token, BackendEvent::Refused { outcome, retry_after });
        }
    }
    let b = cx.backend();
    b.scratch_dropped = dropped;
    let mut wakes = std::mem::take(&mut b.scratch_wakes);
    b.pools[pool].drain_wakes(&mut wakes);
    for w in wakes.drain(..) {
        schedule_wake(cx, pool, w);
    }
    cx.backend().scratch_wakes = wakes;
}

/// A queued job got a slot.
#[inline(always)]
fn job_promoted<'a, C: BackendCx<'a>>(cx: &mut C, pool: usize, p: Promoted) {
    let now = cx.now();
    cx.obs().job_started(pool, p.instance.to_bits(), now, p.queued_for);
    if let Some(w) = p.wake {
        schedule_wake(cx, pool, w);
    }
}

fn on_milestone<'a, C: BackendCx<'a>>(cx: &mut C, pool: usize, job: Key, epoch: u32) {
    let now = cx.now();
    let Some(m) = cx.backend().pools[pool].on_milestone(now, job, epoch) else { return };
    schedule_pending(cx, pool);
    if let Some(next) = m.next {
        schedule_wake(cx, pool, next);
    }
    if let Some(p) = m.promoted {
        job_promoted(cx, pool, p);
    }
    let answer = |fetch| match m.complete {
        true => (fetch, BackendEvent::Complete { started_at: m.started_at }),
        false => (fetch, BackendEvent::Chunk { started_at: m.started_at }),
    };
    match m.token.map(answer) {
        Some((fetch, event)) if m.delay.is_zero() => cx.deliver(fetch, event),
        Some((token, event)) => hold(cx, pool, job, token, event, m.delay),
        // Nobody waits for this job any more: its GPU time was wasted.
        None if m.complete => cx.obs().wasted(m.started_at, now),
        None => {}
    }
}

/// Holds an answer back by the job's injected latency. Every answer of one
/// job is late by the same amount, so its chunks keep their order.
fn hold<'a, C: BackendCx<'a>>(cx: &mut C, pool: usize, job: Key, token: u64, event: BackendEvent, delay: SimDuration) {
    let now = cx.now();
    let b = cx.backend();
    let seq = b.held_seq;
    b.held_seq += 1;
    let due = now + delay;
    b.held.push(Reverse(Held { due, seq, pool: pool as u16, job, token, event, made: now }));
    cx.wake(due, BackendTimer::Held);
}

/// Delivers the held answers that are due.
fn on_held<'a, C: BackendCx<'a>>(cx: &mut C) {
    let now = cx.now();
    while let Some(Reverse(h)) = cx.backend().held.peek().copied().filter(|Reverse(h)| h.due <= now) {
        cx.backend().held.pop();
        cx.deliver(h.token, h.event);
    }
}

/// The fetch gave up on `job`: its held answers go nowhere. A completed
/// job's result was on its way, so its GPU time was wasted.
fn drop_held<'a, C: BackendCx<'a>>(cx: &mut C, pool: usize, job: Key) {
    let b = cx.backend();
    let mut wasted = None;
    b.held.retain(|Reverse(h)| {
        let mine = usize::from(h.pool) == pool && h.job == job;
        if let (true, BackendEvent::Complete { started_at }) = (mine, h.event) {
            wasted = Some((started_at, h.made));
        }
        !mine
    });
    if let Some((start, end)) = wasted {
        cx.obs().wasted(start, end);
    }
}

fn on_autoscale<'a, C: BackendCx<'a>>(cx: &mut C, pool: usize) {
    let now = cx.now();
    let b = cx.backend();
    let Some((scaler, mark)) = b.scalers[pool].as_mut() else { return };
    let p = &b.pools[pool];
    let g = &p.gauges;
    let now_mark = ScalerMark {
        busy: g.busy_ready.area_until(now),
        ready_slots: g.ready_slots.area_until(now),
        queued: g.queued.area_until(now),
        ready: g.ready.area_until(now),
    };
    let ratio = |a: u128, b: u128| if b == 0 { None } else { Some(a as f64 / b as f64) };
    let metric = match scaler.cfg.metric {
        ScaleMetric::Utilization => ratio(now_mark.busy - mark.busy, now_mark.ready_slots - mark.ready_slots),
        ScaleMetric::QueueDepth => ratio(now_mark.queued - mark.queued, now_mark.ready - mark.ready),
    };
    *mark = now_mark;
    let obs = Observation { ready: p.ready_count(), provisioning: p.provisioning_count(), metric };
    let delta = scaler.evaluate(now, obs, p.cfg.min_instances, p.cfg.max_instances);
    let interval = scaler.cfg.interval;
    if delta > 0 {
        for _ in 0..delta {
            let (inst, ready_at) = cx.backend().pools[pool].add_instance(now);
            cx.obs().instance_added(pool, inst.to_bits(), now, ready_at);
            cx.wake(ready_at, BackendTimer::InstanceReady { pool: pool as u16, inst });
        }
    } else if delta < 0 {
        let retired = cx.backend().pools[pool].pick_for_removal(delta.unsigned_abs() as u32);
        for inst in retired {
            if cx.backend().pools[pool].state(inst) == Some(InstanceState::Ready) {
                cx.instance_gone(pool, inst);
            }
            cx.backend().pools[pool].retire(now, inst);
        }
    }
    cx.wake(now + interval, BackendTimer::Autoscale { pool: pool as u16 });
}

/// Adds an event to the schedule while the run goes on (a served backend's
/// `POST /chaos`): a boundary due now is applied at once, so the answer to
/// the POST is already true; later ones are woken as the scenario's are. A
/// traffic event changes clients, which the backend has none of: it is the
/// caller's to refuse.
pub fn add_chaos<'a, C: BackendCx<'a>>(cx: &mut C, event: ChaosEvent) {
    let now = cx.now();
    let b = cx.backend();
    let index = b.chaos.len();
    let bounds = event.boundaries(index);
    b.chaos.to_mut().push(event);
    for (t, subject) in bounds {
        match chaos_timer(subject) {
            Some(timer) if t <= now => on_timer(cx, timer),
            Some(timer) => cx.wake(t, timer),
            None => {}
        }
    }
}

/// Ends every chaos window open now (a served backend's `DELETE /chaos`),
/// at once; events still to come stay scheduled. Returns how many it ended.
pub fn end_chaos<'a, C: BackendCx<'a>>(cx: &mut C) -> usize {
    let now = cx.now();
    let b = cx.backend();
    let open: Vec<usize> = (0..b.chaos.len()).filter(|&i| b.chaos[i].active_at(now)).collect();
    let mut pools = Vec::new();
    for &i in &open {
        let e = &mut b.chaos.to_mut()[i];
        e.duration = Some(now - e.at);
        pools.extend(e.action.pool());
    }
    pools.sort_unstable();
    pools.dedup();
    for pool in pools {
        on_pool_condition(cx, pool);
    }
    open.len()
}

/// A chaos window on `pool` starts or ends: apply the pool's new condition.
fn on_pool_condition<'a, C: BackendCx<'a>>(cx: &mut C, pool: usize) {
    let now = cx.now();
    let b = cx.backend();
    let c = chaos::pool_condition(&b.chaos, pool, now);
    let p = &mut b.pools[pool];
    if c.slow != p.slow() || c.stalls != p.stalls() {
        let mut wakes = std::mem::take(&mut b.scratch_wakes);
        b.pools[pool].set_speed(now, c.slow, c.stalls, &mut wakes);
        for w in wakes.drain(..) {
            schedule_wake(cx, pool, w);
        }
        cx.backend().scratch_wakes = wakes;
    }
    let b = cx.backend();
    b.pools[pool].set_maintenance(c.maintenance);
    b.faults[pool] = c.faults;
    b.faulty[pool] = c.faults != Faults::default();
}

/// A kill: instances die with their jobs, and leave the proxy's list after
/// the pool's deregister delay.
fn on_kill<'a, C: BackendCx<'a>>(cx: &mut C, event: usize) {
    let now = cx.now();
    let b = cx.backend();
    let ChaosAction::Kill { pool, count } = b.chaos[event].action else { return };
    let mut lost = std::mem::take(&mut b.scratch_lost);
    let killed = b.pools[pool].kill(now, count, &mut b.rngs[pool], &mut lost);
    for job in lost.drain(..) {
        if let Some(started) = job.started_at {
            cx.obs().wasted(started, now);
        }
    }
    let b = cx.backend();
    b.scratch_lost = lost;
    let delay = b.pools[pool].cfg.deregister_delay;
    for inst in killed {
        cx.wake(now + delay, BackendTimer::Deregister { pool: pool as u16, inst });
    }
}

/// A queued job's client gave up waiting: the job leaves the queue and the
/// fetch hears a client timeout (in live mode a 408), which it passes on.
fn on_patience<'a, C: BackendCx<'a>>(cx: &mut C, pool: usize, job: Key) {
    let now = cx.now();
    let Some(token) = cx.backend().pools[pool].renege(now, job) else { return };
    schedule_pending(cx, pool);
    cx.deliver(token, BackendEvent::Refused { outcome: Outcome::ClientTimeout, retry_after: None });
}

/// Closes the books at the end of a run: work still running for nobody was wasted.
pub fn finish<'a, C: BackendCx<'a>>(cx: &mut C) {
    let now = cx.now();
    let started: Vec<SimTime> = cx.backend().pools.iter().flat_map(Pool::orphans_running).collect();
    for s in started {
        cx.obs().wasted(s, now);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::gpu::PoolConfig;
    use crate::model::testkit::{Base, test_env};

    struct Cx<'a> {
        base: Base,
        backend: Backend<'a>,
        timers: Vec<(SimTime, BackendTimer)>,
        delivered: Vec<(u64, BackendEvent)>,
        up: Vec<Key>,
    }
    test_env!(Cx<'_>);

    impl<'a> BackendCx<'a> for Cx<'a> {
        fn backend(&mut self) -> &mut Backend<'a> {
            &mut self.backend
        }
        fn wake(&mut self, at: SimTime, timer: BackendTimer) {
            self.timers.push((at, timer));
        }
        fn deliver(&mut self, fetch: u64, event: BackendEvent) {
            self.delivered.push((fetch, event));
        }
        fn instance_up(&mut self, _pool: usize, inst: Key) {
            self.up.push(inst);
        }
        fn instance_gone(&mut self, _pool: usize, _inst: Key) {}
    }

    fn pool(queue_limit: Option<u32>) -> PoolConfig {
        PoolConfig {
            name: "gpu".into(),
            slots: 1,
            queue_limit,
            queue_full_status: QueueFullStatus::S503,
            retry_after: Some(SimDuration::from_secs(30)),
            min_instances: 1,
            max_instances: 1,
            initial_instances: 1,
            cold_start: SimDuration::ZERO,
            cancel_on_abandon: false,
            deregister_delay: SimDuration::from_secs(30),
            autoscaler: None,
            load: None,
            discipline: crate::model::gpu::QueueDiscipline::Fifo,
            max_queue_wait: None,
            priority: None,
        }
    }

    fn ask(secs: u64, tier: u8) -> JobAsk {
        JobAsk { class: 0, work: SimDuration::from_secs(secs), tier, patience: None }
    }

    fn secs(s: u64) -> SimTime {
        SimTime::ZERO + SimDuration::from_secs(s)
    }

    fn cx(cfg: PoolConfig) -> Cx<'static> {
        cx_with(cfg, &[])
    }

    fn cx_with(cfg: PoolConfig, chaos: &[ChaosEvent]) -> Cx<'_> {
        let mut c = Cx {
            base: Base::default(),
            backend: Backend::new(&[cfg], vec![1], chaos, 1),
            timers: Vec::new(),
            delivered: Vec::new(),
            up: Vec::new(),
        };
        start(&mut c);
        c
    }

    fn fire_next_milestone(c: &mut Cx<'_>) {
        let (at, t) = c.timers.remove(0);
        c.base.now = at;
        on_timer(c, t);
    }

    #[test]
    fn a_job_nobody_waits_for_runs_on_and_its_gpu_time_is_wasted() {
        let mut c = cx(pool(None));
        let inst = c.up[0];
        submit(&mut c, 0, inst, ask(10, 0), 1);
        let Some(&(1, BackendEvent::Accepted { job })) = c.delivered.first() else { panic!("accepted") };
        c.base.at_secs(4);
        abandon(&mut c, 0, Key::from_bits(job));
        assert!(c.base.seen.wasted.is_empty(), "still running: not wasted yet");
        fire_next_milestone(&mut c);
        assert_eq!(c.base.seen.wasted, [(secs(0), secs(10))]);
        assert_eq!(c.delivered.len(), 1, "nothing delivered for an abandoned job");
    }

    #[test]
    fn a_full_queue_answers_503_with_the_pools_own_retry_after_and_a_promoted_job_reports_its_wait() {
        let mut c = cx(pool(Some(1)));
        let inst = c.up[0];
        for token in 1..=3 {
            submit(&mut c, 0, inst, ask(10, 0), token);
        }
        let refused = BackendEvent::Refused {
            outcome: Outcome::Status503(Cause::BackendQueueFull),
            retry_after: Some(SimDuration::from_secs(30)),
        };
        assert_eq!(c.delivered[2], (3, refused));
        fire_next_milestone(&mut c);
        assert_eq!(c.delivered[3], (1, BackendEvent::Complete { started_at: secs(0) }));
        assert_eq!(c.base.seen.started, [(0, SimDuration::ZERO), (0, SimDuration::from_secs(10))]);
    }

    #[test]
    fn a_client_out_of_patience_is_answered_a_client_timeout_only_while_its_job_waits() {
        let mut c = cx(pool(None));
        let inst = c.up[0];
        let patient = |secs| JobAsk { patience: Some(SimDuration::from_secs(secs)), ..ask(10, 0) };
        submit(&mut c, 0, inst, patient(1), 1); // starts at once: no patience timer
        submit(&mut c, 0, inst, patient(3), 2); // queued: gives up at t = 3
        let timers: Vec<_> = c.timers.iter().filter(|(_, t)| matches!(t, BackendTimer::Patience { .. })).collect();
        assert_eq!(timers.len(), 1);
        assert_eq!(timers[0].0, secs(3));
        let (at, t) = c
            .timers
            .remove(c.timers.iter().position(|(_, t)| matches!(t, BackendTimer::Patience { .. })).expect("one"));
        c.base.now = at;
        on_timer(&mut c, t);
        let gave_up = BackendEvent::Refused { outcome: Outcome::ClientTimeout, retry_after: None };
        assert_eq!(c.delivered.last(), Some(&(2, gave_up)));
    }

    /// A fault event on pool 0 from 10 s to 20 s.
    fn fault(action: ChaosAction) -> ChaosEvent {
        ChaosEvent { at: secs(10), duration: Some(SimDuration::from_secs(10)), action }
    }

    #[test]
    fn chaos_added_while_running_applies_now_wakes_its_end_and_can_be_ended_early() {
        let mut c = cx(pool(None));
        c.base.at_secs(5);
        let errors = ChaosAction::Errors { pool: 0, share: 1.0, status: FaultStatus::S500 };
        add_chaos(&mut c, ChaosEvent { at: secs(5), duration: Some(SimDuration::from_secs(60)), action: errors });
        assert!(
            submit_many(&mut c, 3)
                .iter()
                .all(|e| matches!(e, BackendEvent::Refused { outcome: Outcome::Status500, .. }))
        );
        assert!(c.timers.contains(&(secs(65), BackendTimer::PoolCondition { pool: 0 })), "its end is woken");
        let later = ChaosAction::Stall { pool: 0 };
        add_chaos(&mut c, ChaosEvent { at: secs(30), duration: Some(SimDuration::from_secs(1)), action: later });
        assert!(c.timers.contains(&(secs(30), BackendTimer::PoolCondition { pool: 0 })), "a later start waits");
        c.base.at_secs(7);
        assert_eq!(end_chaos(&mut c), 1, "only the open window ends");
        assert_eq!(c.backend.chaos()[0].window(), (secs(5), secs(7)));
        assert_eq!(c.backend.chaos()[1].window(), (secs(30), secs(31)), "what is to come stays");
        assert!(submit_many(&mut c, 3).is_empty(), "served again at once: {:?}", c.delivered);
    }

    /// Applies the pool's chaos condition at `at`, as the engine does at a boundary.
    fn condition_at(c: &mut Cx<'_>, at: u64) {
        c.base.at_secs(at);
        on_timer(c, BackendTimer::PoolCondition { pool: 0 });
    }

    /// `n` one-second jobs submitted now; how many of each answer they got at once.
    fn submit_many(c: &mut Cx<'_>, n: u64) -> Vec<BackendEvent> {
        let inst = c.up[0];
        let before = c.delivered.len();
        for token in 0..n {
            submit(c, 0, inst, ask(1, 0), token);
        }
        c.delivered[before..].iter().map(|(_, e)| *e).filter(|e| !matches!(e, BackendEvent::Accepted { .. })).collect()
    }

    /// Binomial(n, p) is within 4 σ of n·p (false with probability < 1e-4).
    fn within_4_sigma(count: usize, n: u64, p: f64) -> bool {
        let (mean, sd) = (n as f64 * p, (n as f64 * p * (1.0 - p)).sqrt());
        (count as f64 - mean).abs() <= 4.0 * sd
    }

    #[test]
    fn errors_answer_their_share_with_their_status_inside_the_window_only() {
        let chaos = [
            fault(ChaosAction::Errors { pool: 0, share: 0.05, status: FaultStatus::S503 }),
            fault(ChaosAction::Errors { pool: 0, share: 0.10, status: FaultStatus::S500 }),
        ];
        let mut c = cx_with(pool(None), &chaos);
        let n = 4000;
        condition_at(&mut c, 9);
        assert!(submit_many(&mut c, n).is_empty(), "before the window: no error");
        condition_at(&mut c, 10);
        let got = submit_many(&mut c, n);
        let count = |o: Outcome| {
            got.iter().filter(|e| matches!(e, BackendEvent::Refused { outcome, .. } if *outcome == o)).count()
        };
        let (s503, s500) = (count(Outcome::Status503(Cause::Injected)), count(Outcome::Status500));
        assert!(within_4_sigma(s503, n, 0.05), "503s: {s503} of {n}");
        assert!(within_4_sigma(s500, n, 0.10), "500s: {s500} of {n}");
        assert_eq!(s503 + s500, got.len(), "nothing else is refused");
        // A 503 carries the pool's own Retry-After; a 500 none.
        assert!(got.iter().all(|e| match e {
            BackendEvent::Refused { outcome: Outcome::Status500, retry_after } => retry_after.is_none(),
            BackendEvent::Refused { retry_after, .. } => *retry_after == Some(SimDuration::from_secs(30)),
            _ => false,
        }));
        condition_at(&mut c, 20);
        assert!(submit_many(&mut c, n).is_empty(), "the window's end is exclusive");
    }

    #[test]
    fn connect_failures_fail_their_share_of_connections_and_a_dead_host_still_answers_nothing() {
        let chaos = [fault(ChaosAction::ConnectFailures { pool: 0, share: 0.2 })];
        let mut c = cx_with(pool(None), &chaos);
        condition_at(&mut c, 10);
        let n = 4000;
        let got = submit_many(&mut c, n);
        let failed = got.iter().filter(|e| **e == BackendEvent::ConnectFailed).count();
        assert_eq!(failed, got.len());
        assert!(within_4_sigma(failed, n, 0.2), "{failed} of {n}");
    }

    /// Fires the pending timers due by `until`, in time order; what was delivered, and when.
    fn run_until(c: &mut Cx<'_>, until: SimTime) -> Vec<(u64, BackendEvent, SimTime)> {
        let mut out = Vec::new();
        loop {
            c.timers.sort_by_key(|(at, _)| *at);
            if c.timers.first().is_none_or(|(at, _)| *at > until) {
                return out;
            }
            let (at, t) = c.timers.remove(0);
            c.base.now = at;
            let before = c.delivered.len();
            on_timer(c, t);
            out.extend(c.delivered[before..].iter().map(|(tok, e)| (*tok, *e, at)));
        }
    }

    #[test]
    fn latency_holds_a_jobs_answers_back_and_an_abandon_wastes_a_held_result() {
        let chaos =
            [fault(ChaosAction::Latency { pool: 0, added: SimDuration::from_secs(2), jitter: SimDuration::ZERO })];
        let mut c = cx_with(pool(None), &chaos);
        condition_at(&mut c, 10);
        let inst = c.up[0];
        submit(&mut c, 0, inst, ask(3, 0), 1);
        assert!(matches!(c.delivered.last(), Some((1, BackendEvent::Accepted { .. }))), "accepted at once");
        assert_eq!(run_until(&mut c, secs(14)), [], "done at 13 s, held back");
        let got = run_until(&mut c, secs(15));
        assert_eq!(got, [(1, BackendEvent::Complete { started_at: secs(10) }, secs(15))], "3 s of work + 2 s");
        // Completed at 16 s, answer due at 18 s, abandoned at 17 s: its GPU time was wasted.
        submit(&mut c, 0, inst, ask(1, 0), 2);
        let job = match c.delivered.last() {
            Some((2, BackendEvent::Accepted { job })) => Key::from_bits(*job),
            other => panic!("{other:?}"),
        };
        assert_eq!(run_until(&mut c, secs(17)), []);
        c.base.at_secs(17);
        abandon(&mut c, 0, job);
        assert_eq!(c.base.seen.wasted, [(secs(15), secs(16))]);
        assert_eq!(run_until(&mut c, secs(30)), [], "nothing arrives for an abandoned job");
    }

    #[test]
    fn jitter_spreads_the_latency_uniformly_around_added() {
        let f =
            Faults { added: SimDuration::from_millis(200), jitter: SimDuration::from_millis(50), ..Faults::default() };
        let mut rng = stream(7, Stream::Fault { pool: 0 });
        let n = 10_000;
        let ms: Vec<f64> = (0..n).map(|_| f.delay(&mut rng).as_secs_f64() * 1e3).collect();
        assert!(ms.iter().all(|d| (150.0..=250.0).contains(d)));
        // Uniform on [150, 250]: mean 200, sd 100/√12; the mean of n within 4 σ/√n.
        let mean = ms.iter().sum::<f64>() / n as f64;
        assert!((mean - 200.0).abs() <= 4.0 * (100.0 / 12f64.sqrt()) / (n as f64).sqrt(), "{mean}");
    }

    #[test]
    fn a_flapping_pool_fails_its_share_of_probes_only_while_it_flaps() {
        let chaos = [fault(ChaosAction::Flap { pool: 0, share: 0.3 })];
        let mut c = cx_with(pool(None), &chaos);
        let inst = c.up[0];
        let n = 4000;
        let bad = |c: &mut Cx<'_>| (0..n).filter(|_| c.backend.probe_answer(0, inst) == ProbeAnswer::Bad).count();
        assert_eq!(bad(&mut c), 0);
        condition_at(&mut c, 10);
        let b = bad(&mut c);
        assert!(within_4_sigma(b, n, 0.3), "{b} of {n}");
        condition_at(&mut c, 20);
        assert_eq!(bad(&mut c), 0);
    }
}
