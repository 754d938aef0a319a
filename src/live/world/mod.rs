//! The live world: the same client, proxy and backend models as the
//! simulator, on one thread, driven by the wall clock and by messages from
//! the HTTP tasks.
//!
//! The world is an actor. It owns every model and the timer queue; network
//! tasks own sockets and nothing else. A model's "wake me at t" waits for the
//! clock; its effects start network work (a client sends, the proxy fetches
//! or probes); what the network hears comes back as messages, except client
//! attempts, which the world polls itself (the hottest path of `load`: no
//! task and no message per attempt). No rule lives here: this file maps ids
//! between the models and the sockets.

mod contexts;

use std::collections::HashMap;
use std::future::Future;
use std::net::{Ipv4Addr, SocketAddr};
use std::sync::Arc;
use std::sync::atomic::AtomicU64;

use futures_util::FutureExt;
use tokio::sync::{mpsc, oneshot};
use tokio::task::AbortHandle;

use super::admin;
use super::backend_http::Instance;
use super::client_http;
use super::clock::Clock;
use super::conns::Conns;
use super::http::{self, HttpClient, Limits};
use super::in_flight::Ticket;
use super::metrics::Tally;
use super::proxy_http::{self, FetchJob, Front};
use super::recent::Recent;
use super::wire;
use crate::arena::Key;
use crate::engine::books::{Ended, Observers};
use crate::engine::{EventQueue, HighWater, NoTrace, Run};
use crate::metrics::LatencyHist;
use crate::metrics::summary::EngineStats;
use crate::metrics::wire::{WireAttempt, WireRecorder};
use crate::model::backend::{self, Backend, BackendCx, BackendTimer, JobAsk};
use crate::model::chaos;
use crate::model::client::{
    self, Attempt, AttemptRef, ClientConfig, ClientCx, ClientTimer, Clients, JobSpec, Response, Shard,
};
use crate::model::context::Env;
use crate::model::gpu::ProbeAnswer;
use crate::model::outcome::{Cause, OUTCOME_COUNT, Outcome};
use crate::model::proxy::{self, BackendEvent, CachePolicy, Proxy, ProxyCx, ProxyTimer};
use crate::rng::{SimRng, Stream, stream};
use crate::scenario::{Scenario, posted};
use crate::time::{SimDuration, SimTime};

/// What the network tasks tell the world.
pub(crate) enum Msg {
    /// A client's request reached the proxy.
    Attempt {
        class: u16,
        /// The swarm's index; past the last one for a foreign client (no per-swarm limit applies).
        swarm: u16,
        work: Option<SimDuration>,
        measured: Option<bool>,
        /// The tier's rank the request names (None: it names none we know).
        tier: Option<u8>,
        patience: Option<SimDuration>,
        /// The object asked for (the URL's query), for a cached class.
        object: Option<u64>,
        reply: oneshot::Sender<Response>,
    },
    /// A backend fetch heard something (`generation` tells a retried fetch's
    /// answers from its earlier connection's).
    Fetch {
        fetch: u64,
        generation: u32,
        event: BackendEvent,
    },
    Probe {
        pool: u16,
        inst: u64,
        seq: u32,
        good: bool,
    },
    /// A job request reached an instance's port.
    Job {
        pool: u16,
        slot: u32,
        class: u16,
        work: Option<SimDuration>,
        tier: Option<u8>,
        patience: Option<SimDuration>,
        token: u64,
        frames: mpsc::UnboundedSender<BackendEvent>,
    },
    /// The caller hung up on job `token` before it ended.
    JobGone {
        token: u64,
    },
    Health {
        pool: u16,
        slot: u32,
        reply: oneshot::Sender<bool>,
    },
    /// `/metrics`: the backend's counters and gauges in Prometheus text.
    Metrics {
        reply: oneshot::Sender<String>,
    },
    /// `/metrics` of the proxy.
    ProxyMetrics {
        reply: oneshot::Sender<String>,
    },
    /// `/chaos` of a served backend.
    Chaos {
        ask: ChaosAsk,
        reply: oneshot::Sender<Result<String, String>>,
    },
}

pub(crate) type Tx = mpsc::UnboundedSender<Msg>;

/// What the control port asks of the chaos schedule.
pub(crate) enum ChaosAsk {
    List,
    /// One `[[chaos]]` entry's text.
    Add(String),
    /// End every window open now.
    End,
}

/// What the world runs.
#[derive(Clone, Debug)]
pub enum Mode {
    /// Clients, proxy and backend in one process, until the scenario's end.
    Stack,
    /// The backend alone (`serve backend`): every pool's instance ports bound
    /// up front (`max_instances` each, so a static proxy configuration can
    /// list them), until asked to stop. Port `p` of `listen` puts the
    /// instance ports at `p + 1`, `p + 2`, ...; port 0 lets the OS choose each.
    Backend { listen: SocketAddr, limits: Limits },
    /// The proxy alone (`serve proxy`) on `listen`, in front of a static
    /// list of backends (pool, address), until asked to stop.
    Proxy { listen: SocketAddr, limits: Limits, backends: Vec<(usize, SocketAddr)> },
    /// The client swarms alone (`stampede load`), each sending to its target
    /// URL (`http://host:port[/base]`), only `shard`'s share of the arrivals,
    /// until the scenario's end.
    Load { targets: Vec<Arc<str>>, shard: Shard },
}

#[derive(Copy, Clone, Debug)]
enum Event {
    Arrival {
        swarm: u16,
    },
    Client(ClientTimer),
    Proxy(ProxyTimer),
    Backend(BackendTimer),
    /// A client attempt's give-up time: hang up if it is still waiting.
    HangUp(Ticket),
}

/// A job an instance's server is answering.
struct Exchange {
    pool: usize,
    job: Option<Key>,
    frames: mpsc::UnboundedSender<BackendEvent>,
}

/// One listening port of a pool, and the instance behind it now.
struct Slot {
    addr: SocketAddr,
    inst: Option<Key>,
}

/// Sockets and tasks: everything the world owns that is not a model.
struct Io {
    tx: Tx,
    client: HttpClient,
    clock: Clock,
    proxy_addr: SocketAddr,
    /// The connections client attempts go on.
    conns: std::rc::Rc<Conns>,
    /// Where each swarm's attempts of each class go: the proxy, or a load
    /// target (by swarm, then class).
    routes: Vec<Vec<client_http::Target>>,
    classes: Arc<[String]>,
    caches: Arc<[Option<CachePolicy>]>,
    /// Tier names by rank, highest first (to read a header, and to write one).
    tiers: Arc<[String]>,
    tier_tags: Vec<Arc<str>>,
    class_paths: Vec<Arc<str>>,
    chunks: Arc<[u32]>,
    tokens: Arc<AtomicU64>,
    limits: Limits,
    /// Client attempts on their way, polled by the run loop itself.
    attempts: Box<dyn client_http::Attempts>,
    numbers: client_http::Numbers,
}

pub(crate) struct World<'a> {
    mode: Mode,
    sc: &'a Scenario,
    seed: u64,
    now: SimTime,
    end: SimTime,
    queue: EventQueue<Event>,
    clients: Clients<'a>,
    proxy: Proxy,
    backend: Backend<'a>,
    obs: Observers<'a, NoTrace>,
    io: Io,
    /// Draws the work of a request that does not say (a foreign client's).
    foreign: SimRng,
    /// Client attempts the proxy is answering, by the id it knows them by.
    attempts: HashMap<u64, oneshot::Sender<Response>>,
    next_attempt: u64,
    /// Running backend fetches: the generation of their current connection.
    fetches: HashMap<u64, (u32, AbortHandle)>,
    generation: u32,
    jobs: HashMap<u64, Exchange>,
    slots: Vec<Vec<Slot>>,
    slot_of: HashMap<(usize, u64), u32>,
    events: u64,
    peak_events: usize,
    /// How late each timer ran, in simulated time: whether the machine kept
    /// up with the time scale.
    timer_lag: LatencyHist,
    /// Pending events past which answered attempts' timers are dropped.
    compact_at: usize,
    /// The first port that could not be bound: the run fails with it.
    failure: Option<std::io::Error>,
    /// How each pool's job requests ended.
    tallies: Vec<Tally>,
    /// The proxy's answers, by outcome: since the start, and the last minute's.
    answered: [u64; OUTCOME_COUNT],
    recent_answers: Recent,
    /// Each pool's answers over the last minute.
    recent_served: Vec<Recent>,
    /// Client attempts sent, and what the wire saw of their answers.
    sent: u64,
    wire: WireRecorder,
    /// `load`: when an attempt last got any HTTP answer (real time), and how
    /// many have got none since, and of those how many connected.
    last_answer: std::time::Instant,
    failed_in_a_row: u64,
    unanswered_in_a_row: u64,
    progress: Option<Progress<'a>>,
}

/// A `load` run's progress line: called about once a real second.
pub struct Progress<'a> {
    pub report: Box<dyn FnMut(&LoadProgress) + 'a>,
    next: std::time::Instant,
    last_sent: u64,
    last_503: u64,
    last_answered: u64,
}

/// What the progress line shows.
#[derive(Clone, Debug)]
pub struct LoadProgress {
    pub now: SimTime,
    pub end: SimTime,
    /// Attempts sent per real second over the last interval.
    pub rate: f64,
    /// Answers heard over the last interval, and how many were 503s.
    pub answered: u64,
    pub answered_503: u64,
    pub in_flight: u64,
}

impl LoadProgress {
    /// Share of the last interval's answers that were 503s.
    pub fn rate_503(&self) -> Option<f64> {
        (self.answered > 0).then(|| self.answered_503 as f64 / self.answered as f64)
    }

    /// The progress of several worlds sending at once, as one line.
    pub fn sum<'p>(parts: impl IntoIterator<Item = &'p LoadProgress>) -> Option<LoadProgress> {
        parts.into_iter().cloned().reduce(|a, b| LoadProgress {
            now: a.now.max(b.now),
            end: a.end.max(b.end),
            rate: a.rate + b.rate,
            answered: a.answered + b.answered,
            answered_503: a.answered_503 + b.answered_503,
            in_flight: a.in_flight + b.in_flight,
        })
    }
}

/// Messages handled at one instant before timers get their turn again.
const BATCH: usize = 64;

/// Pending events below which spent timers are left to fire as no-ops
/// (about 3 MB of queue).
const COMPACT_FLOOR: usize = 1 << 16;

/// A target that has given no HTTP answer for this long, while at least
/// [`REFUSED_ATTEMPTS`] attempts in a row failed to connect, stops the run.
const REFUSED_FOR: std::time::Duration = std::time::Duration::from_secs(10);
const REFUSED_ATTEMPTS: u64 = 100;

impl<'a> World<'a> {
    /// Binds the proxy's port and starts the models. Must run inside a tokio runtime.
    pub fn new(
        mode: Mode,
        sc: &'a Scenario,
        seed: u64,
        clock: Clock,
        trace: &'a mut NoTrace,
    ) -> std::io::Result<(Self, mpsc::UnboundedReceiver<Msg>)> {
        let (tx, rx) = mpsc::unbounded_channel();
        let classes: Arc<[String]> = sc.classes.iter().map(|c| c.name.clone()).collect();
        let chunks: Arc<[u32]> = sc.classes.iter().map(|c| c.chunks).collect();
        let swarm_names: Arc<[String]> = sc.swarms.iter().map(|s| s.name.clone()).collect();
        let tiers: Arc<[String]> = sc.tiers.iter().cloned().collect();
        let limits = match &mode {
            Mode::Stack => Limits::default(),
            Mode::Backend { limits, .. } | Mode::Proxy { limits, .. } => *limits,
            Mode::Load { .. } => Limits::default(),
        };
        let proxy_addr = match &mode {
            Mode::Load { .. } => SocketAddr::from((Ipv4Addr::LOCALHOST, 0)),
            Mode::Stack | Mode::Proxy { .. } => {
                let listen = match &mode {
                    Mode::Proxy { listen, .. } => *listen,
                    _ => SocketAddr::from((Ipv4Addr::LOCALHOST, 0)),
                };
                let listener = http::bind(listen)?;
                let addr = listener.local_addr()?;
                let xids = Arc::new(AtomicU64::new(1001));
                let front = Front {
                    world: tx.clone(),
                    classes: classes.clone(),
                    swarms: swarm_names.clone(),
                    tiers: tiers.clone(),
                    chunks: chunks.clone(),
                    xids,
                    clock,
                    max_work: limits.max_work,
                };
                tokio::spawn(http::serve(listener, limits, move |req| front.clone().handle(req)));
                addr
            }
            Mode::Backend { listen, .. } => *listen,
        };
        let targets = match &mode {
            Mode::Load { targets, .. } => targets.clone(),
            _ => vec![Arc::from(format!("http://{proxy_addr}")); sc.swarms.len()],
        };
        let tier_values: Vec<_> = tiers.iter().map(|t| client_http::header_value(t)).collect();
        let routes = targets
            .iter()
            .zip(swarm_names.iter())
            .map(|(t, swarm)| {
                let to = client_http::Endpoint::new(t);
                classes.iter().map(|class| to.to(class, swarm, &tier_values)).collect()
            })
            .collect();
        let io = Io {
            tx,
            client: http::client(),
            conns: Conns::new(),
            clock,
            proxy_addr,
            routes,
            class_paths: classes.iter().map(|c| Arc::from(c.as_str())).collect(),
            tier_tags: tiers.iter().map(|t| Arc::from(t.as_str())).collect(),
            tiers,
            classes,
            caches: (0..sc.classes.len()).map(|i| sc.proxy.classes.get(i).and_then(|c| c.cache)).collect(),
            chunks,
            tokens: Arc::new(AtomicU64::new(0)),
            limits,
            attempts: client_http::attempts(),
            numbers: client_http::Numbers::default(),
        };
        let cfg =
            ClientConfig { swarms: &sc.swarms, classes: &sc.classes, strategies: &sc.strategies, chaos: &sc.chaos };
        let shard = match &mode {
            Mode::Load { shard, .. } => *shard,
            _ => Shard::default(),
        };
        let routes = sc.classes.iter().map(|c| c.pool).collect();
        let mut w = World {
            mode: mode.clone(),
            sc,
            seed,
            now: SimTime::ZERO,
            end: match mode {
                Mode::Stack | Mode::Load { .. } => sc.end(),
                Mode::Backend { .. } | Mode::Proxy { .. } => SimTime::NEVER,
            },
            queue: EventQueue::new(),
            clients: Clients::new(cfg, seed).with_shard(shard),
            proxy: Proxy::new(sc.proxy.clone(), routes, sc.pools.len(), stream(seed, Stream::Proxy)),
            backend: Backend::new(&sc.pools, sc.classes.iter().map(|c| c.chunks).collect(), &sc.chaos, seed),
            obs: Observers::new(sc, trace),
            io,
            foreign: stream(seed, Stream::Foreign),
            attempts: HashMap::new(),
            next_attempt: 1,
            fetches: HashMap::new(),
            generation: 0,
            jobs: HashMap::new(),
            slots: sc.pools.iter().map(|_| Vec::new()).collect(),
            slot_of: HashMap::new(),
            events: 0,
            peak_events: 0,
            timer_lag: LatencyHist::default(),
            compact_at: COMPACT_FLOOR,
            failure: None,
            tallies: vec![Tally::default(); sc.pools.len()],
            answered: [0; OUTCOME_COUNT],
            recent_answers: Recent::default(),
            recent_served: vec![Recent::default(); sc.pools.len()],
            sent: 0,
            wire: WireRecorder::default(),
            last_answer: std::time::Instant::now(),
            failed_in_a_row: 0,
            unanswered_in_a_row: 0,
            progress: None,
        };
        if let Mode::Backend { listen, .. } = &mode {
            let mut port = listen.port();
            for (pool, cfg) in sc.pools.iter().enumerate() {
                for _ in 0..cfg.max_instances {
                    if port != 0 {
                        port = port
                            .checked_add(1)
                            .ok_or_else(|| std::io::Error::other("instance ports run past 65535"))?;
                    }
                    w.bind_slot(pool, SocketAddr::new(listen.ip(), port))?;
                }
            }
        }
        match &mode {
            // Each part runs only its own model: a served backend sends no
            // client traffic, a served proxy has backends of its own.
            Mode::Backend { .. } => backend::start(&mut w),
            Mode::Proxy { backends, .. } => {
                for (i, &(pool, addr)) in backends.iter().enumerate() {
                    let inst = Key::from_bits(i as u64);
                    w.slots[pool].push(Slot { addr, inst: Some(inst) });
                    w.slot_of.insert((pool, inst.to_bits()), w.slots[pool].len() as u32 - 1);
                    proxy::register(&mut w, pool, inst);
                }
                return Ok((w, rx));
            }
            Mode::Stack => {
                backend::start(&mut w);
                client::start(&mut w);
            }
            // The target is someone else's: only the clients run here.
            Mode::Load { .. } => client::start(&mut w),
        }
        for (t, subject) in chaos::boundaries(&sc.chaos) {
            let client_side = client::chaos_timer(subject).is_some();
            match mode {
                Mode::Backend { .. } if client_side => continue,
                Mode::Load { .. } if !client_side => continue,
                _ => {}
            }
            if let Some(timer) = client::chaos_timer(subject) {
                w.queue.push(t, Event::Client(timer));
            } else if let Some(timer) = backend::chaos_timer(subject) {
                w.queue.push(t, Event::Backend(timer));
            }
        }
        Ok((w, rx))
    }

    /// Runs until the scenario's end on the clock, or until `stop` resolves.
    pub async fn run(&mut self, rx: &mut mpsc::UnboundedReceiver<Msg>, stop: impl Future<Output = ()>) {
        tokio::pin!(stop);
        // One timer, moved only when the next wake changes: a fresh sleep per
        // message would insert into and remove from tokio's wheel each time.
        let far = tokio::time::Instant::now() + std::time::Duration::from_secs(3600);
        let sleep = tokio::time::sleep_until(far);
        tokio::pin!(sleep);
        loop {
            let now = self.io.clock.now();
            // Every timer due before the end runs, even when the loop is late:
            // an arrival scheduled just before the end is still offered.
            while let Some(t) = self.queue.peek_time().filter(|&t| t <= now && t < self.end) {
                let (_, ev) = self.queue.pop().expect("peeked");
                self.timer_lag.record(now.saturating_since(t));
                self.at(t);
                self.dispatch(ev);
            }
            if now >= self.end {
                break;
            }
            if self.failure.is_some() {
                // A load's target is gone: the run ends here, keeping what it measured.
                if matches!(self.mode, Mode::Load { .. }) {
                    self.end = now.max(self.now);
                }
                break;
            }
            if self.queue.len() > self.compact_at {
                self.drop_spent_timers();
            }
            // Wake at least hourly: a server's end is never.
            let next = self.queue.peek_time().unwrap_or(self.end).min(self.end).min(now + SimDuration::from_secs(3600));
            let mut wake = tokio::time::Instant::from_std(self.io.clock.instant(next));
            if let Some(p) = &mut self.progress {
                let real_now = std::time::Instant::now();
                if real_now >= p.next {
                    self.report_progress(real_now);
                }
                wake = wake.min(tokio::time::Instant::from_std(self.progress.as_ref().map_or(real_now, |p| p.next)));
            }
            if sleep.deadline() != wake {
                sleep.as_mut().reset(wake);
            }
            tokio::select! {
                biased;
                Some(answer) = std::future::poll_fn(|cx| self.io.attempts.poll_next(cx)), if !self.io.attempts.is_empty() => {
                    let t = self.io.clock.now().min(self.end);
                    self.at(t);
                    self.answered(answer);
                    for _ in 0..BATCH {
                        let Some(Some(answer)) = std::future::poll_fn(|cx| self.io.attempts.poll_next(cx)).now_or_never() else { break };
                        self.at(t);
                        self.answered(answer);
                    }
                }
                m = rx.recv() => {
                    let Some(m) = m else { break };
                    let t = self.io.clock.now().min(self.end);
                    self.at(t);
                    self.handle(m);
                    // What else has arrived meanwhile is handled at the same
                    // instant: one clock read and one pass of the loop for a batch.
                    for _ in 0..BATCH {
                        let Ok(m) = rx.try_recv() else { break };
                        self.at(t);
                        self.handle(m);
                    }
                }
                _ = &mut sleep => {}
                _ = &mut stop => {
                    self.end = self.io.clock.now().max(self.now);
                    break;
                }
            }
        }
    }

    /// Drops client and proxy timers that can no longer do anything (the
    /// timeouts of answered attempts and fetches): a load at 100 k
    /// requests/s with a 10 s timeout would otherwise hold a million of
    /// them. What fires is unchanged; the next pass waits until the queue
    /// has doubled, so the cost per event stays constant.
    fn drop_spent_timers(&mut self) {
        let (clients, proxy, attempts) = (&self.clients, &self.proxy, &self.io.attempts);
        self.queue.retain(|ev| match ev {
            Event::Client(t) => clients.timer_pending(t),
            Event::Proxy(t) => proxy.timer_pending(t),
            Event::HangUp(t) => attempts.is_running(*t),
            _ => true,
        });
        self.compact_at = (2 * self.queue.len()).max(COMPACT_FLOOR);
    }

    /// Time moves to `t` (never backwards: a late timer runs at the time of
    /// the last message if that was later).
    fn at(&mut self, t: SimTime) {
        self.now = self.now.max(t);
        self.obs.advance(self.now, &self.backend);
        self.events += 1;
        self.peak_events = self.peak_events.max(self.queue.len());
    }

    fn dispatch(&mut self, ev: Event) {
        match ev {
            Event::Arrival { swarm } => client::on_arrival(self, swarm as usize),
            Event::Client(t) => client::on_timer(self, t),
            Event::Proxy(t) => proxy::on_timer(self, t),
            Event::Backend(t) => backend::on_timer(self, t),
            Event::HangUp(t) => {
                if let Some(answer) = self.io.attempts.hang_up(t) {
                    self.answered(answer)
                }
            }
        }
    }

    fn handle(&mut self, m: Msg) {
        match m {
            Msg::Attempt { class, swarm, work, measured, tier, patience, object, reply } => {
                let id = self.next_attempt;
                self.next_attempt += 1;
                let work = work.unwrap_or_else(|| self.sc.classes[class as usize].service.sample(&mut self.foreign));
                let measured = measured.unwrap_or_else(|| self.obs.rec.is_measured(self.now));
                self.attempts.insert(id, reply);
                // The proxy server names each request it takes in by its own number.
                let from = AttemptRef::held(Key::from_bits(id), 1);
                let tier = tier.unwrap_or_else(|| wire::lowest_tier(&self.io.tiers));
                proxy::on_request(self, from, JobSpec { class, swarm, work, measured, tier, patience, object });
            }
            Msg::Fetch { fetch, generation, event } => {
                if self.fetches.get(&fetch).is_some_and(|&(g, _)| g == generation) {
                    proxy::on_backend(self, Key::from_bits(fetch), event);
                }
            }
            Msg::Probe { pool, inst, seq, good } => {
                proxy::on_probe_answer(self, pool as usize, Key::from_bits(inst), seq, good)
            }
            Msg::Job { pool, slot, class, work, tier, patience, token, frames } => {
                let pool = pool as usize;
                let Some(inst) = self.slots[pool][slot as usize].inst else { return };
                let work = work.unwrap_or_else(|| self.sc.classes[class as usize].service.sample(&mut self.foreign));
                self.tallies[pool].requests += 1;
                self.jobs.insert(token, Exchange { pool, job: None, frames });
                let tier = tier.unwrap_or_else(|| wire::lowest_tier(&self.io.tiers));
                backend::submit(self, pool, inst, JobAsk { class: class as usize, work, tier, patience }, token);
                // No answer and no job: a dead host; hang up.
                if self.jobs.get(&token).is_some_and(|x| x.job.is_none()) {
                    self.jobs.remove(&token);
                    self.tallies[pool].unanswered += 1;
                }
            }
            Msg::JobGone { token } => {
                if let Some(Exchange { pool, job: Some(job), .. }) = self.jobs.remove(&token) {
                    self.tallies[pool].hung_up += 1;
                    backend::abandon(self, pool, job);
                }
            }
            Msg::Health { pool, slot, reply } => {
                let pool = pool as usize;
                let Some(inst) = self.slots[pool][slot as usize].inst else { return };
                match self.backend.probe_answer(pool, inst) {
                    ProbeAnswer::Good => drop(reply.send(true)),
                    ProbeAnswer::Bad => drop(reply.send(false)),
                    ProbeAnswer::NoAnswer => {}
                }
            }
            Msg::Chaos { ask, reply } => drop(reply.send(self.chaos(ask))),
            Msg::Metrics { reply } => drop(reply.send(self.metrics())),
            Msg::ProxyMetrics { reply } => drop(reply.send(self.proxy_metrics())),
        }
    }

    /// A client attempt was answered (by the proxy, or by a load target).
    fn answered(&mut self, (to, response, wire): client_http::Answer) {
        self.wire.record(&wire);
        if matches!(self.mode, Mode::Load { .. }) {
            self.watch_refusals(&wire);
        }
        client::on_response(self, to, response)
    }

    /// The control port's `/chaos`: the answer's text, or why not.
    fn chaos(&mut self, ask: ChaosAsk) -> Result<String, String> {
        let now = self.now;
        match ask {
            ChaosAsk::List => Ok(admin::listing(self.sc, self.backend.chaos(), now)),
            ChaosAsk::End => {
                let n = backend::end_chaos(self);
                Ok(format!("ended {n} open chaos window(s) at run time {}\n", now - SimTime::ZERO))
            }
            ChaosAsk::Add(body) => {
                let i = self.backend.chaos().len();
                if i >= posted::MAX_EVENTS {
                    return Err(format!("the schedule holds {i} events, the most a served backend keeps\n"));
                }
                let event = self.sc.posted_chaos(&body, now).map_err(|e| format!("{e}\n"))?;
                if event.is_traffic() {
                    return Err(format!(
                        "{}: kind: traffic changes the clients' arrivals, and serve backend has no clients \
                         (put it in the scenario `load` or `run` reads)\n",
                        posted::LABEL
                    ));
                }
                backend::add_chaos(self, event);
                Ok(format!("added {}\n", admin::describe(self.sc, i, &self.backend.chaos()[i], now)))
            }
        }
    }

    /// The port of a newly ready instance: a free one of its pool, or a new one.
    fn assign_slot(&mut self, pool: usize, inst: Key) -> std::io::Result<()> {
        let slot = match self.slots[pool].iter().position(|s| s.inst.is_none()) {
            Some(i) => i,
            None => self.bind_slot(pool, SocketAddr::from((Ipv4Addr::LOCALHOST, 0)))?,
        };
        self.slots[pool][slot].inst = Some(inst);
        self.slot_of.insert((pool, inst.to_bits()), slot as u32);
        Ok(())
    }

    /// Listens for one more instance of `pool` on `addr`.
    fn bind_slot(&mut self, pool: usize, addr: SocketAddr) -> std::io::Result<usize> {
        // Named, since it is not the address the user gave (--listen's port + n).
        let listener =
            http::bind(addr).map_err(|e| std::io::Error::new(e.kind(), format!("instance port {addr}: {e}")))?;
        let addr = listener.local_addr()?;
        let slots = &mut self.slots[pool];
        let me = Instance {
            pool: pool as u16,
            slot: slots.len() as u32,
            world: self.io.tx.clone(),
            tokens: self.io.tokens.clone(),
            classes: self.io.classes.clone(),
            caches: self.io.caches.clone(),
            tiers: self.io.tiers.clone(),
            clock: self.io.clock,
            max_work: self.io.limits.max_work,
        };
        tokio::spawn(http::serve(listener, self.io.limits, move |req| me.clone().handle(req)));
        slots.push(Slot { addr, inst: None });
        Ok(slots.len() - 1)
    }

    /// Calls `report` about once a real second while the run lasts.
    pub fn set_progress(&mut self, report: Box<dyn FnMut(&LoadProgress) + 'a>) {
        let next = std::time::Instant::now() + std::time::Duration::from_secs(1);
        self.progress = Some(Progress { report, next, last_sent: 0, last_503: 0, last_answered: 0 });
    }

    fn report_progress(&mut self, real_now: std::time::Instant) {
        let w = &self.wire;
        let (sent, answered) = (self.sent, w.answered() + w.connect_failed() + w.no_answer() + w.timed_out());
        let s503 = self.wire.with_status(503);
        let (now, end) = (self.now, self.end);
        let Some(p) = &mut self.progress else { return };
        let secs = (real_now - p.next + std::time::Duration::from_secs(1)).as_secs_f64();
        let fresh = answered - p.last_answered;
        let line = LoadProgress {
            now,
            end,
            rate: (sent - p.last_sent) as f64 / secs.max(1e-3),
            answered: fresh,
            answered_503: s503 - p.last_503,
            in_flight: sent.saturating_sub(answered),
        };
        (p.report)(&line);
        (p.last_sent, p.last_503, p.last_answered) = (sent, s503, answered);
        p.next = real_now + std::time::Duration::from_secs(1);
    }

    /// A load target that stopped answering at all ends the run with an
    /// error, instead of being retried until the scenario's end.
    fn watch_refusals(&mut self, wire: &WireAttempt) {
        if wire.status.is_some() || wire.timed_out {
            self.last_answer = std::time::Instant::now();
            (self.failed_in_a_row, self.unanswered_in_a_row) = (0, 0);
            return;
        }
        self.failed_in_a_row += 1;
        self.unanswered_in_a_row += u64::from(wire.no_answer);
        if self.failed_in_a_row >= REFUSED_ATTEMPTS && self.last_answer.elapsed() >= REFUSED_FOR {
            let (n, connected) = (self.failed_in_a_row, self.unanswered_in_a_row);
            let what = match connected {
                0 => format!("the target stopped accepting connections: {n} attempts in a row failed to connect"),
                c if c == n => format!(
                    "the target gives no HTTP answer: {n} attempts in a row connected, then the connection closed \
                     or what came back was not HTTP"
                ),
                c => format!(
                    "the target stopped {}: {n} attempts in a row got no HTTP answer ({} failed to connect, {c} \
                     connected and got none)",
                    if c < n - c { "accepting connections" } else { "answering" },
                    n - c
                ),
            };
            self.failure.get_or_insert(std::io::Error::new(
                std::io::ErrorKind::ConnectionRefused,
                format!("{what}, no answer for {}s", REFUSED_FOR.as_secs()),
            ));
        }
    }

    /// What the wire saw, by swarm target.
    fn wire_stats(&self) -> Option<crate::metrics::wire::WireStats> {
        let Mode::Load { targets, .. } = &self.mode else { return None };
        let names = self.sc.swarms.iter().map(|s| s.name.clone());
        Some(self.wire.stats(names.zip(targets.iter().map(|t| t.to_string())).collect()))
    }

    /// Where the proxy listens.
    pub fn proxy_addr(&self) -> SocketAddr {
        self.io.proxy_addr
    }

    /// Where network tasks send their messages.
    pub fn sender(&self) -> Tx {
        self.io.tx.clone()
    }

    /// Every instance port, by pool.
    pub fn ports(&self) -> Vec<(String, Vec<SocketAddr>)> {
        let addrs = |s: &Vec<Slot>| s.iter().map(|s| s.addr).collect();
        self.sc.pools.iter().zip(&self.slots).map(|(p, s)| (p.name.clone(), addrs(s))).collect()
    }

    /// The proxy's answers and backends in Prometheus' text format.
    pub fn proxy_metrics(&self) -> String {
        let addr = |pool: usize, inst: Key| self.addr(pool, inst);
        let last_minute = self.recent_answers.last_minute(self.io.clock.now().max(self.now));
        super::metrics::render_proxy(self.sc, &self.proxy, &self.answered, &last_minute, addr)
    }

    /// The backend's counters and gauges in Prometheus' text format.
    pub fn metrics(&self) -> String {
        let mut in_flight = vec![0; self.sc.pools.len()];
        for x in self.jobs.values() {
            in_flight[x.pool] += 1;
        }
        let now = self.io.clock.now().max(self.now);
        let last_minute: Vec<_> = self.recent_served.iter().map(|r| r.last_minute(now)).collect();
        super::metrics::render(self.sc, &self.backend, &self.tallies, &in_flight, &last_minute, now)
    }

    fn addr(&self, pool: usize, inst: Key) -> Option<SocketAddr> {
        let slot = *self.slot_of.get(&(pool, inst.to_bits()))?;
        Some(self.slots[pool][slot as usize].addr)
    }

    fn stop_fetch(&mut self, fetch: u64) {
        if let Some((_, task)) = self.fetches.remove(&fetch) {
            task.abort();
        }
    }

    /// Closes the books at the scenario's end.
    pub fn finish(mut self, wall_seconds: f64) -> std::io::Result<Run> {
        let lost = match self.failure.take() {
            Some(e) if matches!(self.mode, Mode::Load { .. }) && e.kind() == std::io::ErrorKind::ConnectionRefused => {
                Some(e.to_string())
            }
            Some(e) => return Err(e),
            None => None,
        };
        self.now = self.end;
        let mut pool_areas = self.obs.end_series(self.end, &self.backend);
        let load = matches!(self.mode, Mode::Load { .. });
        if load {
            // The GPUs behind a load target are someone else's: nothing of them is measured here.
            pool_areas.iter_mut().for_each(|a| *a = [0.0; 6]);
        }
        backend::finish(&mut self);
        let high_water = HighWater {
            requests: self.clients.request_high_water(),
            attempts: self.proxy.fetch_high_water(),
            bulk_jobs: self.clients.bulk_high_water(),
            backend_jobs: self.backend.job_high_water(),
            pending_events: self.peak_events,
        };
        let ended = Ended {
            clients: &self.clients,
            pool_areas,
            engine: EngineStats {
                live_time_scale: Some(self.io.clock.scale()),
                timer_lag_ms: Some(self.timer_lag.percentiles()),
                interrupted: self.end < self.sc.end(),
                wire: self.wire_stats(),
                ..EngineStats::new(self.events, wall_seconds)
            },
            high_water,
        };
        // Stopped early (Ctrl-C): the summary covers the time that ran, so
        // its duration and every rate per second are the run's own.
        let cut;
        let sc = if self.end < self.sc.end() {
            cut = self.sc.cut(self.end - SimTime::ZERO);
            &cut
        } else {
            self.sc
        };
        let mut run = self.obs.into_run(sc, self.seed, self.end, ended);
        if load {
            run.recorder.series.clear_pool_levels();
        }
        run.wire = load.then(|| self.wire.clone());
        run.failure = lost;
        Ok(run)
    }
}
