//! The simulation's state, its events and the main loop.

use crate::arena::{Arena, Key};
use crate::metrics::Recorder;
use crate::metrics::summary::{EndState, EngineStats, Summary};
use crate::model::autoscaler::Autoscaler;
use crate::model::chaos::{self, Subject};
use crate::model::gpu::{Pool, Stopped, Wake};
use crate::model::proxy::Proxy;
use crate::model::retry::RetryState;
use crate::model::workload::{BulkProgress, OpenArrivals};
use crate::rng::{SimRng, Stream, StreamBase, stream};
use crate::scenario::{ArrivalSpec, Scenario};
use crate::time::{SimDuration, SimTime};

use super::queue::EventQueue;
use super::{HighWater, RequestId, Run, Trace};

/// Everything that can happen.
#[derive(Copy, Clone, Debug)]
pub(super) enum Event {
    /// An open-loop swarm's next arrival.
    Arrival {
        swarm: u16,
    },
    /// A closed-loop user finished thinking.
    UserWake {
        swarm: u16,
        user: u32,
    },
    /// A request's next attempt (after a backoff).
    Send {
        req: Key,
    },
    ClientTimeout {
        att: Key,
    },
    ConnectTimeout {
        att: Key,
        epoch: u32,
    },
    WaitTimeout {
        att: Key,
        epoch: u32,
    },
    FirstByteTimeout {
        att: Key,
        epoch: u32,
    },
    BetweenBytes {
        att: Key,
        epoch: u32,
    },
    Milestone {
        pool: u16,
        job: Key,
        epoch: u32,
    },
    InstanceReady {
        pool: u16,
        inst: Key,
    },
    Probe {
        pool: u16,
        inst: Key,
    },
    ProbeResult {
        pool: u16,
        inst: Key,
        good: bool,
    },
    Deregister {
        pool: u16,
        inst: Key,
    },
    Autoscale {
        pool: u16,
    },
    Chaos {
        boundary: u32,
    },
}

/// Where a logical request came from, i.e. whom to tell when it ends.
#[derive(Copy, Clone, Debug)]
pub(super) enum Origin {
    Single { user: Option<u32> },
    Bulk(Key),
}

/// A logical request: one image the client wants, across all its attempts.
#[derive(Debug)]
pub(super) struct Request {
    pub id: RequestId,
    pub swarm: u16,
    pub class: u16,
    pub work: SimDuration,
    pub rng: SimRng,
    pub retry: RetryState,
    pub first_sent: SimTime,
    pub measured: bool,
    pub origin: Origin,
}

/// Where the proxy side of an attempt stands.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub(super) enum Phase {
    Routing,
    Waiting,
    Connecting,
    AwaitingFirstByte,
    Streaming,
}

/// One attempt: the client's view and the proxy fetch serving it. The record
/// lives until both are over — a fetch outlives a client that timed out.
#[derive(Debug)]
pub(super) struct Attempt {
    pub req: Key,
    pub swarm: u16,
    pub pool: u16,
    pub work: SimDuration,
    pub chunks: u32,
    pub measured: bool,
    pub sent_at: SimTime,
    /// The client still waits for this attempt's answer.
    pub client_waiting: bool,
    /// Bumped whenever the fetch changes phase, to invalidate older timers.
    pub epoch: u32,
    pub phase: Phase,
    pub inst: Option<Key>,
    pub holds_conn: bool,
    pub job: Option<Key>,
    pub retries: u32,
    pub bb_deadline: SimTime,
    pub bb_armed: bool,
    pub session: bool,
    /// When the request went to the backend (first-byte time starts here).
    pub backend_sent: SimTime,
    /// When the last chunk of a streamed response arrived.
    pub last_chunk: SimTime,
}

/// A bulk job in flight.
#[derive(Debug)]
pub(super) struct Bulk {
    pub swarm: u16,
    pub class: u16,
    pub progress: BulkProgress,
    pub submitted: SimTime,
    pub measured: bool,
    pub user: Option<u32>,
    pub source: u64,
    pub seq: u64,
}

/// A closed-loop user.
#[derive(Debug)]
pub(super) struct User {
    pub cycling: bool,
    pub cycles: u64,
    pub rng: SimRng,
}

/// Per-swarm arrival state.
#[derive(Debug)]
pub(super) struct SwarmState {
    /// The root of this swarm's request streams.
    pub requests: StreamBase,
    pub open: Option<OpenArrivals>,
    pub rng: SimRng,
    pub arrivals: u64,
    pub users: Vec<User>,
    /// Closed loop: how many users are active now (traffic chaos scales it).
    pub active_users: u32,
}

/// Gauge integrals at the autoscaler's last evaluation.
#[derive(Copy, Clone, Debug, Default)]
pub(super) struct ScalerMark {
    pub busy: u128,
    pub ready_slots: u128,
    pub queued: u128,
    pub ready: u128,
}

pub(super) struct Sim<'a, T: Trace> {
    pub sc: &'a Scenario,
    pub seed: u64,
    pub now: SimTime,
    pub end: SimTime,
    pub queue: EventQueue<Event>,
    pub swarms: Vec<SwarmState>,
    pub requests: Arena<Request>,
    pub attempts: Arena<Attempt>,
    pub bulks: Arena<Bulk>,
    pub proxy: Proxy,
    pub pools: Vec<Pool>,
    pub scalers: Vec<Option<(Autoscaler, ScalerMark)>>,
    pub pool_rngs: Vec<SimRng>,
    pub chaos_bounds: Vec<(SimTime, Subject)>,
    pub rec: Recorder,
    pub trace: &'a mut T,
    pub events: u64,
    pub peak_events: usize,
    pub scratch_wakes: Vec<Wake>,
    pub scratch_lost: Vec<Stopped>,
    series_started: bool,
    /// The next instant at which the time series has work to do (warmup end,
    /// then each window boundary): one comparison per event instead of a call.
    series_mark: SimTime,
}

impl<'a, T: Trace> Sim<'a, T> {
    pub fn new(sc: &'a Scenario, seed: u64, trace: &'a mut T) -> Self {
        let end = SimTime::ZERO + sc.duration;
        let warmup = SimTime::ZERO + sc.warmup;
        let mut pools = Vec::new();
        let mut initial = Vec::new();
        for cfg in &sc.pools {
            let (p, ready) = Pool::new(cfg.clone());
            pools.push(p);
            initial.push(ready);
        }
        let mut sim = Sim {
            sc,
            seed,
            now: SimTime::ZERO,
            end,
            queue: EventQueue::new(),
            swarms: Vec::new(),
            requests: Arena::new(),
            attempts: Arena::new(),
            bulks: Arena::new(),
            proxy: Proxy::new(sc.proxy.clone(), sc.pools.len(), stream(seed, Stream::Proxy)),
            pools,
            scalers: sc
                .pools
                .iter()
                .map(|p| p.autoscaler.clone().map(|a| (Autoscaler::new(a), ScalerMark::default())))
                .collect(),
            pool_rngs: (0..sc.pools.len()).map(|i| stream(seed, Stream::Pool { pool: i as u64 })).collect(),
            chaos_bounds: chaos::boundaries(&sc.chaos),
            rec: Recorder::new(warmup, sc.window, sc.swarms.len(), sc.pools.len()),
            trace,
            events: 0,
            peak_events: 0,
            scratch_wakes: Vec::new(),
            scratch_lost: Vec::new(),
            series_started: false,
            series_mark: warmup,
        };
        for (p, ready) in initial.into_iter().enumerate() {
            for inst in ready {
                sim.register(p, inst);
            }
            if let Some((a, _)) = &sim.scalers[p] {
                let at = SimTime::ZERO + a.cfg.interval;
                sim.queue.push(at, Event::Autoscale { pool: p as u16 });
            }
        }
        for (i, spec) in sc.swarms.iter().enumerate() {
            let mut state = SwarmState {
                requests: StreamBase::requests(seed, spec.id),
                open: None,
                rng: stream(seed, Stream::Arrivals { swarm: spec.id }),
                arrivals: 0,
                users: Vec::new(),
                active_users: 0,
            };
            match &spec.arrivals {
                ArrivalSpec::Open { profile, spacing } => {
                    let mut open = OpenArrivals::new(chaos::traffic_profile(profile, &sc.chaos, i), *spacing);
                    if let Some(t) = open.next(&mut state.rng)
                        && t < end
                    {
                        sim.queue.push_lane(i, t, Event::Arrival { swarm: i as u16 });
                    }
                    state.open = Some(open);
                }
                ArrivalSpec::Closed(c) => state.active_users = c.users,
            }
            sim.swarms.push(state);
            sim.start_users(i);
        }
        for (b, &(t, _)) in sim.chaos_bounds.iter().enumerate() {
            sim.queue.push(t, Event::Chaos { boundary: b as u32 });
        }
        sim
    }

    pub fn schedule(&mut self, at: SimTime, ev: Event) {
        if at < self.end {
            self.queue.push(at.max(self.now), ev);
        }
    }

    /// Schedules a job's next milestone.
    pub fn schedule_wake(&mut self, pool: usize, w: Wake) {
        self.schedule(w.at, Event::Milestone { pool: pool as u16, job: w.job, epoch: w.epoch });
    }

    pub fn run(&mut self) {
        let warmup = self.rec.warmup();
        while let Some((t, ev)) = self.queue.pop() {
            if t >= self.end {
                break;
            }
            if t >= self.series_mark {
                self.advance_series(t, warmup);
            }
            self.now = t;
            self.events += 1;
            self.peak_events = self.peak_events.max(self.queue.len());
            self.dispatch(ev);
        }
        self.now = self.end;
    }

    /// Closes every time-series window that ends at or before `t`.
    fn advance_series(&mut self, t: SimTime, warmup: SimTime) {
        if !self.series_started {
            if t < warmup {
                return;
            }
            let gauges: Vec<_> = self.pools.iter().map(|p| &p.gauges).collect();
            self.rec.series.begin(warmup, &gauges);
            self.series_started = true;
        }
        while self.rec.series.next_boundary() <= t {
            let b = self.rec.series.next_boundary();
            let gauges: Vec<_> = self.pools.iter().map(|p| &p.gauges).collect();
            self.rec.series.close(b, &gauges);
        }
        self.series_mark = self.rec.series.next_boundary();
    }

    fn dispatch(&mut self, ev: Event) {
        match ev {
            Event::Arrival { swarm } => self.on_arrival(swarm as usize),
            Event::UserWake { swarm, user } => self.on_user_wake(swarm as usize, user),
            Event::Send { req } => self.send_attempt(req),
            Event::ClientTimeout { att } => self.on_client_timeout(att),
            Event::ConnectTimeout { att, epoch } => self.on_connect_timeout(att, epoch),
            Event::WaitTimeout { att, epoch } => self.on_wait_timeout(att, epoch),
            Event::FirstByteTimeout { att, epoch } => self.on_first_byte_timeout(att, epoch),
            Event::BetweenBytes { att, epoch } => self.on_between_bytes(att, epoch),
            Event::Milestone { pool, job, epoch } => self.on_milestone(pool as usize, job, epoch),
            Event::InstanceReady { pool, inst } => self.on_instance_ready(pool as usize, inst),
            Event::Probe { pool, inst } => self.on_probe(pool as usize, inst),
            Event::ProbeResult { pool, inst, good } => self.apply_probe(pool as usize, inst, good),
            Event::Deregister { pool, inst } => self.on_deregister(pool as usize, inst),
            Event::Autoscale { pool } => self.on_autoscale(pool as usize),
            Event::Chaos { boundary } => self.on_chaos(boundary as usize),
        }
    }

    /// Closes the books at the end of the run.
    pub fn finish(mut self, wall_seconds: f64) -> Run {
        let warmup = self.rec.warmup();
        self.advance_series(self.end, warmup);
        let gauges: Vec<_> = self.pools.iter().map(|p| &p.gauges).collect();
        if self.rec.series.current_start() < self.end {
            // The last window is shorter than the others.
            self.rec.series.close(self.end, &gauges);
        }
        let pool_areas = self.rec.series.pool_totals(self.end, &gauges);
        let end = self.end;
        for p in &self.pools {
            for started in p.orphans_running() {
                self.rec.wasted(started, end);
            }
        }
        let mut unfinished = vec![0; self.sc.swarms.len()];
        for (_, r) in self.requests.iter() {
            if r.measured {
                unfinished[r.swarm as usize] += 1;
            }
        }
        let mut bulk_unfinished = vec![0; self.sc.swarms.len()];
        for (_, b) in self.bulks.iter() {
            if b.measured {
                bulk_unfinished[b.swarm as usize] += 1;
            }
        }
        let engine = EngineStats {
            events: self.events,
            wall_seconds,
            events_per_second: if wall_seconds > 0.0 { (self.events as f64 / wall_seconds).round() } else { 0.0 },
        };
        let state = EndState {
            unfinished,
            bulk_unfinished,
            pool_areas,
            measured_seconds: (end - warmup).as_secs_f64(),
            engine,
        };
        let summary = Summary::build(self.sc, self.seed, &self.rec, &state);
        let high_water = HighWater {
            requests: self.requests.high_water(),
            attempts: self.attempts.high_water(),
            bulk_jobs: self.bulks.high_water(),
            backend_jobs: self.pools.iter().map(Pool::job_high_water).sum(),
            pending_events: self.peak_events,
        };
        Run { summary, recorder: self.rec, high_water }
    }
}
