//! A pool of GPU inference instances: slots, a per-instance queue, cold starts.
//!
//! Each instance runs up to `slots` jobs at once and queues the rest FIFO up to
//! `queue_limit`; when the queue is full it answers 503 (or 429) itself. New
//! instances serve nothing until their cold start has passed. Work is measured in
//! nominal nanoseconds, so a chaos slowdown or stall changes how fast work drains
//! without redrawing anyone's service time.
//!
//! The backend does not know about the proxy's timeouts. When the proxy gives up,
//! the job keeps running (and burning GPU time) unless `cancel_on_abandon` is set:
//! that unseen work is what turns a surge into a retry storm.
//!
//! A job may deliver its response in `chunks` pieces spread evenly over its work
//! (a streamed response); each piece is a *milestone* the engine is told about.
//!
//! A pool with a [`LoadModel`] slows down as its instances get busier: its jobs
//! progress on a per-instance shared clock (`shared.rs`).

mod discipline;
mod lifecycle;
mod priority;
mod shared;

pub use discipline::QueueDiscipline;
pub use priority::Priority;

use crate::arena::{Arena, Key};
use crate::model::autoscaler::AutoscalerConfig;
use crate::model::gauge::Gauge;
use crate::model::load::LoadModel;
use crate::time::{SimDuration, SimTime};

/// What a backend answers when its queue is full.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum QueueFullStatus {
    S503,
    S429,
}

/// A pool's fixed settings.
#[derive(Clone, Debug)]
pub struct PoolConfig {
    pub name: String,
    /// Jobs an instance runs concurrently.
    pub slots: u32,
    /// Jobs an instance queues beyond its slots (None = unlimited).
    pub queue_limit: Option<u32>,
    pub queue_full_status: QueueFullStatus,
    /// `Retry-After` on the backend's own 503/429 answers.
    pub retry_after: Option<SimDuration>,
    pub min_instances: u32,
    pub max_instances: u32,
    pub initial_instances: u32,
    /// From a scale-up decision until the instance serves.
    pub cold_start: SimDuration,
    /// Stop a job as soon as the proxy gives up on it.
    pub cancel_on_abandon: bool,
    /// How long a killed instance stays in the proxy's backend list.
    pub deregister_delay: SimDuration,
    pub autoscaler: Option<AutoscalerConfig>,
    /// Load-dependent service: jobs in service slow down as the instance fills.
    pub load: Option<LoadModel>,
    /// Which queued job a freed slot takes.
    pub discipline: QueueDiscipline,
    /// Queued jobs that waited longer are dropped when a slot frees and
    /// answered as if the queue were full (None = never).
    pub max_queue_wait: Option<SimDuration>,
    /// Priority tiers: which are shed first, which served first (None: one class of job).
    pub priority: Option<Priority>,
}

/// Lifecycle of an instance.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum InstanceState {
    Provisioning,
    Ready,
    /// Removed by a scale-down: finishes its work, takes no new work.
    Draining,
    /// Killed by chaos: the host is gone, nothing answers.
    Dead,
}

#[derive(Debug)]
struct Instance {
    state: InstanceState,
    running: u32,
    queue: priority::TierQueues,
    queued: u32,
    created: SimTime,
    /// With a load model: the clock its jobs in service share.
    clock: Option<shared::SharedClock>,
}

#[derive(Copy, Clone, Debug, PartialEq, Eq)]
enum JobState {
    Queued,
    Running,
}

#[derive(Clone, Debug)]
struct Job {
    instance: Key,
    state: JobState,
    work: u64,
    remaining: u64,
    chunks: u32,
    chunks_done: u32,
    started: SimTime,
    last: SimTime,
    epoch: u32,
    token: Option<u64>,
    queued_at: SimTime,
    /// With a load model: its next milestone on the instance's shared clock.
    target: u64,
    /// Its priority tier's rank (0 the highest).
    tier: u8,
    /// Injected latency every answer of it is held back by (chaos `latency`).
    delay: SimDuration,
}

impl Job {
    /// A job of `work` nominal time submitted at `now` by fetch `token`.
    fn new(instance: Key, state: JobState, work: SimDuration, chunks: u32, token: u64, now: SimTime) -> Job {
        let work = work.as_nanos().max(1);
        Job {
            instance,
            state,
            work,
            remaining: work,
            chunks: chunks.max(1),
            chunks_done: 0,
            started: now,
            last: now,
            epoch: 0,
            token: Some(token),
            queued_at: now,
            target: 0,
            tier: 0,
            delay: SimDuration::ZERO,
        }
    }
}

/// A running job's next milestone, to be scheduled by the engine.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub struct Wake {
    pub job: Key,
    pub epoch: u32,
    pub at: SimTime,
}

/// What the backend did with a submitted job.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum Admit {
    /// A slot was free: the job runs; its first milestone is `wake` (None while stalled).
    Started {
        job: Key,
        wake: Option<Wake>,
    },
    Queued {
        job: Key,
    },
    /// The backend answered at once with its own error.
    Rejected(Reject),
}

#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum Reject {
    Maintenance,
    QueueFull,
    /// The job's tier is shed at the instance's current queue length.
    Shed,
    /// The instance is dead (or gone): nothing answers the connection.
    Dead,
}

/// A job reached a milestone.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub struct Milestone {
    /// Who was waiting for the job (None if abandoned).
    pub token: Option<u64>,
    /// Chunks delivered so far.
    pub chunk: u32,
    /// True when this was the last chunk: the job is complete.
    pub complete: bool,
    /// The job's next milestone when not complete.
    pub next: Option<Wake>,
    /// Slot time the job occupied (only when complete).
    pub ran: SimDuration,
    /// When the job started running (only meaningful when complete).
    pub started_at: SimTime,
    /// A queued job that took the freed slot.
    pub promoted: Option<Promoted>,
    /// The instance stopped (a draining instance finished its last job).
    pub stopped: Option<Key>,
    /// How long the answer is held back (injected latency; zero without it).
    pub delay: SimDuration,
}

/// A queued job that started because a slot freed up.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub struct Promoted {
    pub token: Option<u64>,
    /// The instance it runs on.
    pub instance: Key,
    pub queued_for: SimDuration,
    pub wake: Option<Wake>,
}

/// A job that stopped without completing (cancelled or killed).
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub struct Stopped {
    pub token: Option<u64>,
    /// Slot time it had used (zero if it never left the queue).
    pub ran: SimDuration,
    pub started_at: Option<SimTime>,
}

/// Time-integrated levels of one pool (for utilization, cost and the autoscaler).
#[derive(Copy, Clone, Debug, Default)]
pub struct PoolGauges {
    pub ready: Gauge,
    pub provisioning: Gauge,
    /// Instances that cost money: provisioning, ready or draining.
    pub billed: Gauge,
    /// Slots running a job, on any instance (ready or draining).
    pub busy_slots: Gauge,
    /// Busy slots on ready instances: what a Kubernetes HPA sees (it leaves
    /// terminating pods out of the metric).
    pub busy_ready: Gauge,
    /// Slots on ready instances (the autoscaler's denominator).
    pub ready_slots: Gauge,
    /// Slots on instances that can run a job: ready or draining. Busy slots
    /// never exceed them, so busy / serving is a utilization in [0, 1].
    pub serving_slots: Gauge,
    pub queued: Gauge,
}

/// One pool's live state.
#[derive(Debug)]
pub struct Pool {
    pub cfg: PoolConfig,
    instances: Arena<Instance>,
    jobs: Arena<Job>,
    slow: f64,
    stalls: u32,
    maintenance: u32,
    pub gauges: PoolGauges,
    /// FIFO without `max_queue_wait`: a freed slot takes the first live
    /// queued job, with no wait to ask (decided once, as every freed slot asks).
    plain_fifo: bool,
    /// Wake-ups the shared clocks asked for, for the caller to schedule.
    pending: Vec<Wake>,
    /// Tokens of queued jobs dropped for waiting too long, to be answered.
    dropped: Vec<u64>,
}

impl Pool {
    /// A pool with its initial instances already ready at t = 0.
    pub fn new(cfg: PoolConfig) -> Pool {
        let plain_fifo = cfg.discipline == QueueDiscipline::Fifo && cfg.max_queue_wait.is_none();
        let mut pool = Pool {
            cfg,
            instances: Arena::new(),
            jobs: Arena::new(),
            slow: 1.0,
            stalls: 0,
            maintenance: 0,
            gauges: PoolGauges::default(),
            plain_fifo,
            pending: Vec::new(),
            dropped: Vec::new(),
        };
        for _ in 0..pool.cfg.initial_instances {
            let (k, _) = pool.add_instance(SimTime::ZERO);
            pool.mark_ready(SimTime::ZERO, k);
        }
        pool
    }

    /// Instances that are ready, in the order they were added.
    pub fn ready_instances(&self) -> impl Iterator<Item = Key> + '_ {
        self.instances.iter().filter(|(_, i)| i.state == InstanceState::Ready).map(|(k, _)| k)
    }

    pub fn state(&self, inst: Key) -> Option<InstanceState> {
        self.instances.get(inst).map(|i| i.state)
    }

    /// Instances that are ready (serving) right now.
    pub fn ready_count(&self) -> u32 {
        self.gauges.ready.value() as u32
    }

    pub fn provisioning_count(&self) -> u32 {
        self.gauges.provisioning.value() as u32
    }

    /// Whether a health probe sent now would get its 200.
    pub fn probe_answer(&self, inst: Key) -> ProbeAnswer {
        match self.instances.get(inst).map(|i| i.state) {
            Some(InstanceState::Ready | InstanceState::Draining) if self.stalls > 0 => ProbeAnswer::NoAnswer,
            Some(InstanceState::Ready | InstanceState::Draining) if self.maintenance > 0 => ProbeAnswer::Bad,
            Some(InstanceState::Ready | InstanceState::Draining) => ProbeAnswer::Good,
            Some(InstanceState::Provisioning) => ProbeAnswer::Bad,
            Some(InstanceState::Dead) | None => ProbeAnswer::NoAnswer,
        }
    }

    /// Holds every answer of `job` back by `delay` (injected latency).
    pub fn set_delay(&mut self, job: Key, delay: SimDuration) {
        if let Some(j) = self.jobs.get_mut(job) {
            j.delay = delay;
        }
    }

    /// Hands a job of `work` nominal time, delivered in `chunks` pieces, to `inst`.
    pub fn submit(&mut self, now: SimTime, inst: Key, work: SimDuration, chunks: u32, token: u64) -> Admit {
        self.submit_tier(now, inst, work, chunks, token, 0)
    }

    /// [`Pool::submit`] for a job of priority tier `tier` (rank, 0 the highest).
    #[inline(always)]
    pub fn submit_tier(
        &mut self,
        now: SimTime,
        inst: Key,
        work: SimDuration,
        chunks: u32,
        token: u64,
        tier: u8,
    ) -> Admit {
        let factor = self.speed_factor();
        // One lookup of the instance: the job's record and the gauges are
        // other fields, so the instance stays borrowed while they change.
        let Some(i) = self.instances.get_mut(inst).filter(|i| i.state != InstanceState::Dead) else {
            return Admit::Rejected(Reject::Dead);
        };
        if self.maintenance > 0 {
            return Admit::Rejected(Reject::Maintenance);
        }
        let has_slot = i.running < self.cfg.slots;
        if !has_slot && self.cfg.queue_limit.is_some_and(|limit| i.queued >= limit) {
            return Admit::Rejected(Reject::QueueFull);
        }
        if !has_slot && self.cfg.priority.as_ref().is_some_and(|p| p.sheds(tier, i.queued)) {
            return Admit::Rejected(Reject::Shed);
        }
        if self.cfg.load.is_some() {
            let mut j = Job::new(inst, JobState::Queued, work, chunks, token, now);
            j.tier = tier;
            return self.submit_shared(now, j, has_slot);
        }
        // The job is built whole in its slot (a copy of one built and then
        // amended on the stack stalls on store forwarding).
        let job_of = |state, epoch| {
            let mut j = Job::new(inst, state, work, chunks, token, now);
            (j.tier, j.epoch) = (tier, epoch);
            j
        };
        if has_slot {
            // Start in place: one insert, no lookups.
            // The first milestone from a job that is never stored: its
            // fields stay in registers, and the stored one is not looked up.
            let first = Self::first_wake_in(&job_of(JobState::Running, 1), factor);
            let job = self.jobs.insert_with(|| job_of(JobState::Running, 1));
            i.running += 1;
            let ready = i.state == InstanceState::Ready;
            self.busy(now, ready, 1);
            let wake = first.map(|real| Wake { job, epoch: 1, at: now + SimDuration::from_nanos(real) });
            Admit::Started { job, wake }
        } else {
            let job = self.jobs.insert_with(|| job_of(JobState::Queued, 0));
            i.queue.push(tier, job);
            i.queued += 1;
            self.gauges.queued.add(now, 1);
            Admit::Queued { job }
        }
    }

    fn speed_factor(&self) -> Option<f64> {
        (self.stalls == 0).then_some(self.slow)
    }

    /// Queued job `job` takes over the slot a job of its instance just left,
    /// so the instance's running count and busy levels stay as they are.
    /// Returns its token, how long it queued, and its first milestone.
    #[inline(always)]
    fn take_over(&mut self, now: SimTime, job: Key) -> (Option<u64>, SimDuration, Option<Wake>) {
        let factor = self.speed_factor();
        let j = self.jobs.get_mut(job).expect("live job");
        let (token, queued_for) = (j.token, now - j.queued_at);
        j.state = JobState::Running;
        j.started = now;
        j.last = now;
        let inst = j.instance;
        if self.cfg.load.is_some() {
            self.enter_clock(inst, job);
            return (token, queued_for, None);
        }
        // next_wake's rule, on the job in hand rather than looked up again.
        let wake = Self::first_wake_in(j, factor).map(|real| {
            j.epoch = j.epoch.wrapping_add(1);
            Wake { job, epoch: j.epoch, at: now + SimDuration::from_nanos(real) }
        });
        (token, queued_for, wake)
    }

    /// Nominal work left when chunk `c` (1-based) has been delivered.
    fn remaining_after(work: u64, chunks: u32, c: u32) -> u64 {
        match chunks - c {
            0 => 0,
            left if left == chunks => work,
            // Exact either way; in u64 the division is one instruction, in
            // u128 a library call (2% of a streaming scenario's time).
            left => match work.checked_mul(u64::from(left)) {
                Some(p) => p / u64::from(chunks),
                None => (u128::from(work) * u128::from(left) / u128::from(chunks)) as u64,
            },
        }
    }

    /// Real time until `j`'s next milestone at the given speed (None while stalled).
    fn first_wake_in(j: &Job, factor: Option<f64>) -> Option<u64> {
        let factor = factor?;
        let target = Self::remaining_after(j.work, j.chunks, j.chunks_done + 1);
        let nominal = j.remaining.saturating_sub(target);
        Some(if factor == 1.0 { nominal } else { (nominal as f64 * factor).ceil() as u64 })
    }

    fn next_wake(&mut self, now: SimTime, job: Key) -> Option<Wake> {
        let factor = self.speed_factor();
        let j = self.jobs.get_mut(job)?;
        let real = Self::first_wake_in(j, factor)?;
        j.epoch = j.epoch.wrapping_add(1);
        Some(Wake { job, epoch: j.epoch, at: now + SimDuration::from_nanos(real) })
    }

    /// Brings a running job's remaining work up to date (before a speed change).
    fn catch_up(j: &mut Job, now: SimTime, factor: Option<f64>) {
        if let Some(f) = factor {
            let elapsed = (now - j.last).as_nanos();
            let done = if f == 1.0 { elapsed } else { (elapsed as f64 / f).floor() as u64 };
            j.remaining = j.remaining.saturating_sub(done);
        }
        j.last = now;
    }

    /// A scheduled milestone fired. None if the wake-up is stale.
    // Inlined into its one caller, so that the milestone is not built in
    // memory only to be read back field by field.
    #[inline(always)]
    pub fn on_milestone(&mut self, now: SimTime, job: Key, epoch: u32) -> Option<Milestone> {
        if self.cfg.load.is_some() {
            return self.on_milestone_shared(now, job, epoch);
        }
        let j = self.jobs.get_mut(job).filter(|j| j.epoch == epoch && j.state == JobState::Running)?;
        j.chunks_done += 1;
        j.remaining = Self::remaining_after(j.work, j.chunks, j.chunks_done);
        j.last = now;
        let (token, chunk, started, delay) = (j.token, j.chunks_done, j.started, j.delay);
        if chunk < j.chunks {
            let next = self.next_wake(now, job);
            return Some(Milestone {
                token,
                chunk,
                complete: false,
                next,
                ran: SimDuration::ZERO,
                started_at: started,
                promoted: None,
                stopped: None,
                delay,
            });
        }
        let instance = self.jobs.remove_with(job, |j| j.instance).expect("live job");
        let (promoted, stopped) = self.free_slot(now, instance);
        Some(Milestone {
            token,
            chunk,
            complete: true,
            next: None,
            ran: now - started,
            started_at: started,
            promoted,
            stopped,
            delay,
        })
    }

    /// A running job left its instance: start the next queued one, or stop a
    /// draining instance that has nothing left.
    #[inline(always)]
    fn free_slot(&mut self, now: SimTime, inst: Key) -> (Option<Promoted>, Option<Key>) {
        let i = self.instances.get_mut(inst).expect("live instance");
        // Cancelled jobs leave stale keys behind, and jobs that waited past
        // max_queue_wait are dropped (CoDel-like, at dequeue): both sit at
        // the front of their tier's queue, the oldest end, so the oldest live
        // job's wait is known.
        let mut next = None;
        if self.plain_fifo {
            // FIFO without max_queue_wait: the first live job of the highest
            // tier that has one, after the stale keys in front of it (the
            // general loop below, with nothing dropped and no wait asked).
            for q in i.queue.each_mut() {
                while let Some(&k) = q.front() {
                    if self.jobs.contains(k) {
                        break;
                    }
                    q.pop_front();
                }
                if next.is_none() {
                    next = q.pop_front();
                }
            }
            if next.is_some() {
                i.queued -= 1;
            }
        } else {
            next = self.pick_queued(now, inst);
        }
        self.slot_freed(now, inst, next)
    }

    /// [`Pool::free_slot`]'s choice of the queued job that takes the slot,
    /// under any discipline and `max_queue_wait`.
    fn pick_queued(&mut self, now: SimTime, inst: Key) -> Option<Key> {
        let i = self.instances.get_mut(inst).expect("live instance");
        let mut next = None;
        for q in i.queue.each_mut() {
            let mut front_live = false;
            while let Some(&k) = q.front() {
                match self.jobs.get(k) {
                    None => {}
                    Some(j) if self.cfg.max_queue_wait.is_some_and(|max| now - j.queued_at > max) => {
                        let j = self.jobs.remove(k).expect("checked");
                        i.queued -= 1;
                        self.gauges.queued.add(now, -1);
                        self.dropped.extend(j.token);
                    }
                    Some(_) => {
                        front_live = true;
                        break;
                    }
                }
                q.pop_front();
            }
            if next.is_some() {
                continue; // a higher tier's job takes the slot; lower tiers are only cleaned
            }
            let oldest_wait =
                || q.front().and_then(|&k| self.jobs.get(k)).map_or(SimDuration::ZERO, |j| now - j.queued_at);
            let newest = self.cfg.discipline.serve_newest(oldest_wait);
            if !newest && front_live {
                // FIFO: the front was just found live.
                next = q.pop_front();
                continue;
            }
            while let Some(k) = if newest { q.pop_back() } else { q.pop_front() } {
                if self.jobs.contains(k) {
                    next = Some(k);
                    break;
                }
            }
        }
        if next.is_some() {
            i.queued -= 1;
        }
        next
    }

    /// The slot `inst` freed goes to queued job `next` (already counted out
    /// of the queue), or is idle.
    #[inline(always)]
    fn slot_freed(&mut self, now: SimTime, inst: Key, next: Option<Key>) -> (Option<Promoted>, Option<Key>) {
        if let Some(next) = next {
            self.gauges.queued.add(now, -1);
            let (token, queued_for, wake) = self.take_over(now, next);
            return (Some(Promoted { token, instance: inst, queued_for, wake }), None);
        }
        let i = self.instances.get_mut(inst).expect("live instance");
        i.running -= 1;
        let ready = i.state == InstanceState::Ready;
        let stops = i.running == 0 && i.queued == 0 && i.state == InstanceState::Draining;
        self.busy(now, ready, -1);
        if stops {
            self.stop(now, inst);
            return (None, Some(inst));
        }
        (None, None)
    }

    /// Nobody waits for `job` any more. Without `cancel_on_abandon` it keeps
    /// running (its result will be wasted); with it, it stops now.
    pub fn abandon(&mut self, now: SimTime, job: Key) -> Option<Abandoned> {
        let j = self.jobs.get_mut(job)?;
        j.token = None;
        if !self.cfg.cancel_on_abandon {
            return Some(Abandoned { stopped: None, promoted: None, instance_stopped: None });
        }
        let inst = j.instance;
        self.sync(now, inst);
        let j = self.jobs.remove(job).expect("live job");
        if j.state == JobState::Running {
            self.leave_clock(inst, job, j.target);
        }
        match j.state {
            JobState::Queued => {
                let i = self.instances.get_mut(inst).expect("live instance");
                i.queued -= 1; // the stale key is skipped when it reaches the front
                self.gauges.queued.add(now, -1);
                let stopped = Stopped { token: None, ran: SimDuration::ZERO, started_at: None };
                self.rearm(now, inst);
                Some(Abandoned { stopped: Some(stopped), promoted: None, instance_stopped: None })
            }
            JobState::Running => {
                let stopped = Stopped { token: None, ran: now - j.started, started_at: Some(j.started) };
                let (promoted, instance_stopped) = self.free_slot(now, inst);
                self.rearm(now, inst);
                Some(Abandoned { stopped: Some(stopped), promoted, instance_stopped })
            }
        }
    }

    /// The client of a queued job ran out of patience: the job leaves the
    /// queue and its token is returned, to be answered. A job already in
    /// service stays (Erlang-A: only waiting customers abandon); None then,
    /// or when the job is gone.
    pub fn renege(&mut self, now: SimTime, job: Key) -> Option<u64> {
        let j = self.jobs.get(job).filter(|j| j.state == JobState::Queued)?;
        let inst = j.instance;
        self.sync(now, inst);
        let j = self.jobs.remove(job).expect("checked");
        let i = self.instances.get_mut(inst).expect("live instance");
        i.queued -= 1; // the stale key is skipped when it reaches the front
        self.gauges.queued.add(now, -1);
        self.rearm(now, inst);
        j.token
    }

    /// `delta` slots of an instance (ready or draining) start or stop running a job.
    fn busy(&mut self, now: SimTime, ready: bool, delta: i64) {
        self.gauges.busy_slots.add(now, delta);
        if ready {
            self.gauges.busy_ready.add(now, delta);
        }
    }

    /// Applies a new slowdown factor and stall count; returns the milestones of
    /// every running job, rescheduled (stale ones become no-ops by generation).
    pub fn set_speed(&mut self, now: SimTime, slow: f64, stalls: u32, wakes: &mut Vec<Wake>) {
        if self.cfg.load.is_some() {
            return self.set_speed_shared(now, slow, stalls, wakes);
        }
        let old = self.speed_factor();
        let running: Vec<Key> =
            self.jobs.iter().filter(|(_, j)| j.state == JobState::Running).map(|(k, _)| k).collect();
        for &k in &running {
            Self::catch_up(self.jobs.get_mut(k).expect("listed"), now, old);
        }
        self.slow = slow;
        self.stalls = stalls;
        for k in running {
            match self.next_wake(now, k) {
                Some(w) => wakes.push(w),
                None => {
                    // Stalled: invalidate the pending wake-up.
                    let j = self.jobs.get_mut(k).expect("listed");
                    j.epoch = j.epoch.wrapping_add(1);
                }
            }
        }
    }

    pub fn slow(&self) -> f64 {
        self.slow
    }

    pub fn stalls(&self) -> u32 {
        self.stalls
    }

    pub fn set_maintenance(&mut self, windows: u32) {
        self.maintenance = windows;
    }

    pub fn maintenance(&self) -> u32 {
        self.maintenance
    }

    /// Jobs still in the pool whose result nobody waits for, with when they started
    /// (for the wasted-work tally at the end of a run).
    pub fn orphans_running(&self) -> impl Iterator<Item = SimTime> + '_ {
        self.jobs.iter().filter(|(_, j)| j.token.is_none() && j.state == JobState::Running).map(|(_, j)| j.started)
    }

    /// Whether wake-ups or dropped jobs wait to be drained (a pool without a
    /// load model or `max_queue_wait` never has any).
    #[inline]
    pub fn has_pending(&self) -> bool {
        !self.pending.is_empty() || !self.dropped.is_empty()
    }

    /// Tokens of the queued jobs dropped for waiting too long since the last call.
    pub fn drain_dropped(&mut self, out: &mut Vec<u64>) {
        out.append(&mut self.dropped);
    }

    /// Live jobs (for memory checks).
    pub fn job_count(&self) -> usize {
        self.jobs.len()
    }

    /// The most jobs ever alive at once in this pool.
    pub fn job_high_water(&self) -> usize {
        self.jobs.high_water()
    }
}

/// The result of [`Pool::abandon`].
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub struct Abandoned {
    /// The job stopped (only with `cancel_on_abandon`).
    pub stopped: Option<Stopped>,
    pub promoted: Option<Promoted>,
    pub instance_stopped: Option<Key>,
}

/// What a health probe would see.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum ProbeAnswer {
    /// 200 at once.
    Good,
    /// An error status at once (maintenance, still starting).
    Bad,
    /// No answer: the probe times out.
    NoAnswer,
}

#[cfg(test)]
mod tests;
