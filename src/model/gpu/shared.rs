//! One instance's shared clock, for pools whose speed depends on their load.
//!
//! With a [`crate::model::load::LoadModel`] every job in service on an
//! instance progresses at the same rate, 1/factor, and the factor changes each
//! time a job starts or ends. Rescheduling every job's wake-up at every change
//! would cost O(jobs) per event; instead the instance keeps a *virtual clock*
//! `v`: the nominal work each of its jobs in service has received. A job's next
//! milestone is a fixed point `target` on that clock, so the order of
//! milestones never changes, and only the earliest one (the head) needs a real
//! wake-up. The jobs are kept sorted by target in a ring buffer: a new job's
//! target is usually the largest (the clock only advances) and the head is
//! the one that leaves, so both ends move in O(1); a job cancelled from the
//! middle shifts the shorter side: at most half the jobs in service (512
//! with the 1,024-slot limit).
//! It replaced a `BTreeSet`, 6% of metastable-retry's instructions.

use std::collections::VecDeque;

use crate::arena::Key;
use crate::time::{SimDuration, SimTime};

use super::{Admit, InstanceState, Job, JobState, Milestone, Pool, Wake};

/// An instance's virtual clock and its jobs in service ordered by milestone.
#[derive(Debug, Default)]
pub(super) struct SharedClock {
    /// Nominal nanoseconds of work each job in service has received so far.
    v: f64,
    /// When `v` was last brought up to date.
    at: SimTime,
    /// (target, job), sorted.
    order: VecDeque<(u64, Key)>,
    /// The job whose wake-up is scheduled, and when.
    armed: Option<(Key, SimTime)>,
}

impl SharedClock {
    /// Brings the clock to `now` at the speed that held since the last update
    /// (`None` while stalled: no progress).
    pub fn advance(&mut self, now: SimTime, factor: Option<f64>) {
        if let Some(f) = factor {
            self.v += (now - self.at).as_nanos() as f64 / f;
        }
        self.at = now;
    }

    /// A job enters service (or passed a milestone) with `nominal` work to its
    /// next milestone; returns its target on the clock.
    pub fn insert(&mut self, job: Key, nominal: u64) -> u64 {
        let target = (self.v.ceil() as u64).saturating_add(nominal);
        let at = self.order.partition_point(|&e| e < (target, job));
        self.order.insert(at, (target, job));
        target
    }

    pub fn remove(&mut self, job: Key, target: u64) {
        if let Ok(at) = self.order.binary_search(&(target, job)) {
            self.order.remove(at);
        }
    }

    /// The armed head reached its milestone: the clock stands at its target
    /// (float rounding must not leave a sliver of work).
    pub fn reached(&mut self, target: u64) {
        self.v = self.v.max(target as f64);
        self.armed = None;
    }

    /// The wake-up the head needs at the current speed, if it differs from the
    /// armed one; `bump` gives the job a fresh epoch (stale wakes are ignored).
    pub fn rearm(&mut self, now: SimTime, factor: Option<f64>, mut bump: impl FnMut(Key) -> u32) -> Option<Wake> {
        let Some(&(target, job)) = self.order.front() else {
            self.armed = None;
            return None;
        };
        let Some(f) = factor else {
            // Stalled: nothing is due; disarm the old head.
            if let Some((k, _)) = self.armed.take() {
                bump(k);
            }
            return None;
        };
        let left = (target as f64 - self.v).max(0.0);
        let at = now + SimDuration::from_nanos((left * f).ceil() as u64);
        if self.armed == Some((job, at)) {
            return None;
        }
        if let Some((k, _)) = self.armed {
            bump(k);
        }
        self.armed = Some((job, at));
        Some(Wake { job, epoch: bump(job), at })
    }

    pub fn clear(&mut self) {
        self.order.clear();
        self.armed = None;
    }
}

impl Pool {
    /// The stretch factor on `inst` now (None while the pool is stalled).
    fn factor_of(&self, inst: Key) -> Option<f64> {
        let load = self.cfg.load.as_ref()?;
        let i = self.instances.get(inst)?;
        (self.stalls == 0).then(|| self.slow * load.factor(i.running, i.queued))
    }

    /// Brings `inst`'s clock to `now` before its load or speed changes.
    pub(super) fn sync(&mut self, now: SimTime, inst: Key) {
        let f = self.factor_of(inst);
        if let Some(c) = self.instances.get_mut(inst).and_then(|i| i.clock.as_mut()) {
            c.advance(now, f);
        }
    }

    /// Arms the wake-up of `inst`'s next milestone at its current speed.
    pub(super) fn rearm(&mut self, now: SimTime, inst: Key) {
        let f = self.factor_of(inst);
        let Pool { instances, jobs, pending, .. } = self;
        let Some(c) = instances.get_mut(inst).and_then(|i| i.clock.as_mut()) else { return };
        // The old head may be gone already (cancelled): nothing to disarm then.
        let bump = |k: Key| {
            jobs.get_mut(k).map_or(0, |j| {
                j.epoch = j.epoch.wrapping_add(1);
                j.epoch
            })
        };
        if let Some(w) = c.rearm(now, f, bump) {
            pending.push(w);
        }
    }

    /// A job enters service on the clock of its instance (synced already).
    pub(super) fn enter_clock(&mut self, inst: Key, job: Key) {
        let j = self.jobs.get_mut(job).expect("live job");
        let target = Self::remaining_after(j.work, j.chunks, j.chunks_done + 1);
        let nominal = j.remaining.saturating_sub(target);
        if let Some(c) = self.instances.get_mut(inst).and_then(|i| i.clock.as_mut()) {
            j.target = c.insert(job, nominal);
        }
    }

    pub(super) fn leave_clock(&mut self, inst: Key, job: Key, target: u64) {
        if let Some(c) = self.instances.get_mut(inst).and_then(|i| i.clock.as_mut()) {
            c.remove(job, target);
        }
    }

    /// Wake-ups the shared clocks asked for since the last call.
    pub fn drain_wakes(&mut self, out: &mut Vec<Wake>) {
        out.append(&mut self.pending);
    }

    /// Admits job `j` (built queued) on its instance's shared clock.
    pub(super) fn submit_shared(&mut self, now: SimTime, mut j: Job, has_slot: bool) -> Admit {
        let (inst, tier) = (j.instance, j.tier);
        self.sync(now, inst);
        if has_slot {
            j.state = JobState::Running;
        }
        let job = self.jobs.insert(j);
        let i = self.instances.get_mut(inst).expect("checked by submit");
        let admit = if has_slot {
            i.running += 1;
            let ready = i.state == InstanceState::Ready;
            self.busy(now, ready, 1);
            self.enter_clock(inst, job);
            Admit::Started { job, wake: None }
        } else {
            i.queue.push(tier, job);
            i.queued += 1;
            self.gauges.queued.add(now, 1);
            Admit::Queued { job }
        };
        self.rearm(now, inst);
        admit
    }

    pub(super) fn on_milestone_shared(&mut self, now: SimTime, job: Key, epoch: u32) -> Option<Milestone> {
        let j = self.jobs.get(job).filter(|j| j.epoch == epoch && j.state == JobState::Running)?;
        let inst = j.instance;
        self.sync(now, inst);
        let j = self.jobs.get_mut(job).expect("checked");
        let target = j.target;
        j.chunks_done += 1;
        j.remaining = Self::remaining_after(j.work, j.chunks, j.chunks_done);
        j.last = now;
        let (token, chunk, started, complete) = (j.token, j.chunks_done, j.started, j.chunks_done == j.chunks);
        let delay = j.delay;
        let c = self.instances.get_mut(inst).and_then(|i| i.clock.as_mut()).expect("a shared pool's instance");
        c.reached(target);
        c.remove(job, target);
        let (mut promoted, mut stopped) = (None, None);
        if complete {
            self.jobs.remove(job);
            (promoted, stopped) = self.free_slot(now, inst);
        } else {
            self.enter_clock(inst, job);
        }
        self.rearm(now, inst);
        let ran = if complete { now - started } else { SimDuration::ZERO };
        Some(Milestone { token, chunk, complete, next: None, ran, started_at: started, promoted, stopped, delay })
    }

    pub(super) fn set_speed_shared(&mut self, now: SimTime, slow: f64, stalls: u32, wakes: &mut Vec<Wake>) {
        let all: Vec<Key> = self.instances.iter().map(|(k, _)| k).collect();
        for &inst in &all {
            self.sync(now, inst);
        }
        self.slow = slow;
        self.stalls = stalls;
        for inst in all {
            self.rearm(now, inst);
        }
        self.drain_wakes(wakes);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::arena::Arena;

    fn t(ms: u64) -> SimTime {
        SimTime::ZERO + SimDuration::from_millis(ms)
    }

    /// Jobs stay ordered by (target, job) whatever the order they come and
    /// go in, ties and removals from the middle included.
    #[test]
    fn jobs_stay_ordered_by_target_through_inserts_and_removals_anywhere() {
        let mut keys = Arena::new();
        let jobs: Vec<Key> = (0..6).map(|_| keys.insert(())).collect();
        let mut c = SharedClock::default();
        let targets: Vec<u64> = [50, 10, 30, 10, 70, 20].iter().zip(&jobs).map(|(&n, &j)| c.insert(j, n)).collect();
        for i in [1, 2, 4] {
            c.remove(jobs[i], targets[i]);
        }
        c.remove(jobs[1], targets[1]);
        let mut left: Vec<(u64, Key)> = [0, 3, 5].iter().map(|&i| (targets[i], jobs[i])).collect();
        left.sort();
        assert_eq!(c.order.iter().copied().collect::<Vec<_>>(), left, "removing a job twice changes nothing");
        assert_eq!(c.order.front(), Some(&(10, jobs[3])));
    }

    #[test]
    fn only_the_head_is_armed_and_a_slower_speed_moves_it_later() {
        let mut keys = Arena::new();
        let (a, b) = (keys.insert(()), keys.insert(()));
        let mut c = SharedClock::default();
        let mut epochs = std::collections::HashMap::new();
        let mut bump = |k: Key| {
            let e = epochs.entry(k).or_insert(0u32);
            *e += 1;
            *e
        };
        c.insert(a, 100_000_000);
        let w = c.rearm(t(0), Some(1.0), &mut bump).expect("armed");
        assert_eq!((w.job, w.at), (a, t(100)));
        // At 50 ms a second job starts and the factor doubles: a has 50 ms
        // of nominal work left, now 100 ms of real time.
        c.advance(t(50), Some(1.0));
        c.insert(b, 20_000_000);
        let w = c.rearm(t(50), Some(2.0), &mut bump).expect("b is the head now");
        assert_eq!((w.job, w.at), (b, t(90)));
        assert_eq!(c.rearm(t(50), Some(2.0), &mut bump), None, "unchanged: no new wake");
    }
}
