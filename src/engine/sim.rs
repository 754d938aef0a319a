//! The simulator: the event list, the main loop, and the models' contexts
//! implemented over them.

use crate::arena::Key;
use crate::metrics::summary::EngineStats;
use crate::model::backend::{self, Backend, BackendCx, BackendTimer, JobAsk};
use crate::model::chaos;
use crate::model::client::{self, AttemptRef, ClientConfig, ClientCx, ClientTimer, Clients, JobSpec, Response};
use crate::model::context::{Env, Trace};
use crate::model::gpu::ProbeAnswer;
use crate::model::proxy::{self, BackendEvent, Proxy, ProxyCx, ProxyTimer};
use crate::rng::{Stream, stream};
use crate::scenario::Scenario;
use crate::time::SimTime;

use super::books::{Ended, Observers};
use super::packed::Packed;
use super::progress::{Guard, Subject};
use super::queue::EventQueue;
use super::{HighWater, Run, Stalled};

/// Everything that can happen: a model's timer, or an open-loop arrival
/// (which lives in its swarm's lane of the queue).
#[derive(Copy, Clone, Debug)]
pub(super) enum Event {
    Arrival { swarm: u16 },
    Client(ClientTimer),
    Proxy(ProxyTimer),
    Backend(BackendTimer),
}

impl Event {
    /// Timers usually set a constant delay ahead (timeouts, intervals, cold
    /// starts): the queue keeps them in FIFOs. Drawn delays (milestones,
    /// backoffs, think times) go to its heap. Only speed depends on this.
    #[inline(always)]
    fn steady(&self) -> bool {
        matches!(
            self,
            Event::Client(ClientTimer::Timeout { .. } | ClientTimer::Hedge { .. })
                | Event::Proxy(
                    ProxyTimer::ConnectTimeout { .. }
                        | ProxyTimer::WaitTimeout { .. }
                        | ProxyTimer::FirstByteTimeout { .. }
                        | ProxyTimer::Probe { .. }
                        | ProxyTimer::ProbeTimeout { .. }
                )
                | Event::Backend(
                    BackendTimer::InstanceReady { .. }
                        | BackendTimer::Deregister { .. }
                        | BackendTimer::Autoscale { .. }
                )
        )
    }
}

pub(super) struct Sim<'a, T: Trace> {
    sc: &'a Scenario,
    seed: u64,
    now: SimTime,
    end: SimTime,
    queue: EventQueue<Packed>,
    clients: Clients<'a>,
    proxy: Proxy,
    backend: Backend<'a>,
    obs: Observers<'a, T>,
    events: u64,
    peak_events: usize,
    guard: Guard,
}

impl<'a, T: Trace> Sim<'a, T> {
    pub fn new(sc: &'a Scenario, seed: u64, trace: &'a mut T) -> Self {
        let clients =
            ClientConfig { swarms: &sc.swarms, classes: &sc.classes, strategies: &sc.strategies, chaos: &sc.chaos };
        let routes = sc.classes.iter().map(|c| c.pool).collect();
        let chunks = sc.classes.iter().map(|c| c.chunks).collect();
        let mut sim = Sim {
            sc,
            seed,
            now: SimTime::ZERO,
            end: sc.end(),
            queue: EventQueue::new(),
            clients: Clients::new(clients, seed),
            proxy: Proxy::new(sc.proxy.clone(), routes, sc.pools.len(), stream(seed, Stream::Proxy)),
            backend: Backend::new(&sc.pools, chunks, &sc.chaos, seed),
            obs: Observers::new(sc, trace),
            events: 0,
            peak_events: 0,
            guard: Guard::default(),
        };
        backend::start(&mut sim);
        client::start(&mut sim);
        for (t, subject) in chaos::boundaries(&sc.chaos) {
            if let Some(timer) = client::chaos_timer(subject) {
                sim.queue.push(t, Event::Client(timer).pack());
            } else if let Some(timer) = backend::chaos_timer(subject) {
                sim.queue.push(t, Event::Backend(timer).pack());
            }
        }
        sim
    }

    #[inline(always)]
    fn schedule(&mut self, at: SimTime, ev: Event) {
        if at < self.end {
            // Due now (an immediate retry) is a constant delay too.
            if ev.steady() || at <= self.now {
                self.queue.push_steady(self.now, at.max(self.now), ev.pack());
            } else {
                self.queue.push(at.max(self.now), ev.pack());
            }
        }
    }

    pub fn run(&mut self) {
        while let Some((t, packed)) = self.pop() {
            if t >= self.end {
                break;
            }
            let ev = Event::unpack(packed);
            self.obs.advance(t, &self.backend);
            self.now = t;
            self.events += 1;
            self.peak_events = self.peak_events.max(self.queue.len());
            if self.guard.count(t) && self.looping(t, &ev) {
                break;
            }
            match ev {
                Event::Arrival { swarm } => client::on_arrival(self, swarm as usize),
                Event::Client(timer) => client::on_timer(self, timer),
                Event::Proxy(timer) => proxy::on_timer(self, timer),
                Event::Backend(timer) => backend::on_timer(self, timer),
            }
        }
        self.now = self.end;
    }

    /// The next event. Timers that can no longer do anything are dropped as
    /// they reach their FIFO's head (see [`EventQueue::pop_dropping`]); those
    /// due before the end still count as events, as when they were handled.
    #[inline(always)]
    fn pop(&mut self) -> Option<(SimTime, Packed)> {
        let Sim { queue, clients, proxy, end, events, .. } = self;
        let end = end.as_nanos();
        queue.pop_dropping(|time, &p| {
            let spent = !match Event::unpack(p) {
                Event::Client(timer) => clients.timer_pending(&timer),
                Event::Proxy(timer) => proxy.timer_pending(&timer),
                Event::Arrival { .. } | Event::Backend(_) => true,
            };
            *events += u64::from(spent && time < end);
            spent
        })
    }

    /// Simulated time is not advancing: tally who the events are about, and
    /// say when enough are in to name the loop.
    #[cold]
    fn looping(&mut self, t: SimTime, ev: &Event) -> bool {
        if !self.guard.tripped() {
            self.guard.trip(t);
        }
        let subject = match *ev {
            Event::Arrival { swarm } => Subject::Arrivals(swarm as usize),
            Event::Client(ClientTimer::UserWake { swarm, .. }) => Subject::Users(swarm as usize),
            Event::Client(ClientTimer::Send { req } | ClientTimer::Timeout { req, .. }) => {
                self.clients.swarm_of(req).map_or(Subject::Other, Subject::Retries)
            }
            Event::Proxy(ProxyTimer::Probe { pool, .. } | ProxyTimer::ProbeTimeout { pool, .. }) => {
                Subject::Pool(pool as usize)
            }
            Event::Backend(
                BackendTimer::Milestone { pool, .. }
                | BackendTimer::InstanceReady { pool, .. }
                | BackendTimer::Deregister { pool, .. }
                | BackendTimer::Autoscale { pool }
                | BackendTimer::PoolCondition { pool },
            ) => Subject::Pool(pool as usize),
            _ => Subject::Other,
        };
        self.guard.tally(subject)
    }

    /// What a loop is, in the scenario's terms.
    fn describe(sc: &Scenario, s: Subject) -> String {
        match s {
            Subject::Arrivals(i) => format!(
                "open-loop swarm `{}` arrives faster than the clock's nanosecond resolution (check its rate and \
                 traffic factors)",
                sc.swarms[i].name
            ),
            Subject::Users(i) => format!(
                "closed-loop swarm `{}`: its users loop without simulated time passing (zero think time while \
                 every answer takes no time, e.g. an instant 503 or a zero service time)",
                sc.swarms[i].name
            ),
            Subject::Retries(i) => format!(
                "swarm `{}` retries without simulated time passing (no backoff while every attempt fails at once)",
                sc.swarms[i].name
            ),
            Subject::Pool(p) => format!(
                "pool `{}`: its jobs, probes or autoscaler run without simulated time passing (a zero service \
                 time or a timer interval of nanoseconds)",
                sc.pools[p].name
            ),
            Subject::Other => "events repeat without simulated time passing".to_string(),
        }
    }

    /// Closes the books at the end of the run.
    pub fn finish(mut self, wall_seconds: f64) -> Result<Run, Stalled> {
        if let Some(stalled) = self.guard.stalled(self.seed, |s| Self::describe(self.sc, s)) {
            return Err(stalled);
        }
        let pool_areas = self.obs.end_series(self.end, &self.backend);
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
            engine: EngineStats::new(self.events, wall_seconds),
            high_water,
        };
        Ok(self.obs.into_run(self.sc, self.seed, self.end, ended))
    }
}

impl<'a, T: Trace> Env for Sim<'a, T> {
    type Obs = Observers<'a, T>;
    #[inline(always)]
    fn now(&self) -> SimTime {
        self.now
    }
    #[inline(always)]
    fn obs(&mut self) -> &mut Self::Obs {
        &mut self.obs
    }
}

impl<'a, T: Trace> ClientCx<'a> for Sim<'a, T> {
    #[inline(always)]
    fn clients(&mut self) -> &mut Clients<'a> {
        &mut self.clients
    }
    #[inline(always)]
    fn wake(&mut self, at: SimTime, timer: ClientTimer) {
        self.schedule(at, Event::Client(timer));
    }
    #[inline(always)]
    fn wake_arrival(&mut self, swarm: usize, at: SimTime) {
        // A swarm has one pending arrival at a time: it lives in the swarm's lane.
        if at < self.end {
            self.queue.push_lane(swarm, at.max(self.now), Event::Arrival { swarm: swarm as u16 }.pack());
        }
    }
    #[inline(always)]
    fn send(&mut self, from: AttemptRef, job: JobSpec) {
        proxy::on_request(self, from, job);
    }
}

impl<T: Trace> ProxyCx for Sim<'_, T> {
    #[inline(always)]
    fn proxy(&mut self) -> &mut Proxy {
        &mut self.proxy
    }
    #[inline(always)]
    fn wake(&mut self, at: SimTime, timer: ProxyTimer) {
        self.schedule(at, Event::Proxy(timer));
    }
    #[inline(always)]
    fn submit(&mut self, fetch: u64, pool: usize, inst: Key, job: JobSpec) {
        backend::submit(
            self,
            pool,
            inst,
            JobAsk { class: job.class as usize, work: job.work, tier: job.tier, patience: job.patience },
            fetch,
        );
    }
    #[inline(always)]
    fn abandon(&mut self, pool: usize, job: u64) {
        backend::abandon(self, pool, Key::from_bits(job));
    }
    #[inline(always)]
    fn close(&mut self, _fetch: u64) {
        // The simulated backend needs no connection torn down.
    }
    #[inline(always)]
    fn probe(&mut self, pool: usize, inst: Key, seq: u32) {
        // A probe that gets no answer simply never comes back.
        match self.backend.probe_answer(pool, inst) {
            ProbeAnswer::Good => proxy::on_probe_answer(self, pool, inst, seq, true),
            ProbeAnswer::Bad => proxy::on_probe_answer(self, pool, inst, seq, false),
            ProbeAnswer::NoAnswer => {}
        }
    }
    #[inline(always)]
    fn respond(&mut self, to: AttemptRef, response: Response) {
        client::on_response(self, to, response);
    }
}

impl<'a, T: Trace> BackendCx<'a> for Sim<'a, T> {
    #[inline(always)]
    fn backend(&mut self) -> &mut Backend<'a> {
        &mut self.backend
    }
    #[inline(always)]
    fn wake(&mut self, at: SimTime, timer: BackendTimer) {
        self.schedule(at, Event::Backend(timer));
    }
    #[inline(always)]
    fn deliver(&mut self, fetch: u64, event: BackendEvent) {
        proxy::on_backend(self, Key::from_bits(fetch), event);
    }
    #[inline(always)]
    fn instance_up(&mut self, pool: usize, inst: Key) {
        proxy::register(self, pool, inst);
    }
    #[inline(always)]
    fn instance_gone(&mut self, pool: usize, inst: Key) {
        proxy::deregister(self, pool, inst);
    }
}
