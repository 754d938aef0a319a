//! An instance's life: provisioning, ready, draining or dead, and the
//! scale-up, scale-down and kill transitions between them, with the gauges
//! each one moves.

use rand::RngExt;

use super::{Instance, InstanceState, JobState, Pool, Stopped, priority, shared};
use crate::arena::Key;
use crate::rng::SimRng;
use crate::time::{SimDuration, SimTime};

impl Pool {
    /// Starts a new instance; it serves after the cold start.
    pub fn add_instance(&mut self, now: SimTime) -> (Key, SimTime) {
        let k = self.instances.insert(Instance {
            state: InstanceState::Provisioning,
            running: 0,
            queue: priority::TierQueues::new(priority::Priority::queues(self.cfg.priority.as_ref())),
            queued: 0,
            created: now,
            clock: self.cfg.load.as_ref().map(|_| shared::SharedClock::default()),
        });
        self.gauges.provisioning.add(now, 1);
        self.gauges.billed.add(now, 1);
        (k, now + self.cfg.cold_start)
    }

    /// The cold start of `inst` is over. False if it was removed meanwhile.
    pub fn mark_ready(&mut self, now: SimTime, inst: Key) -> bool {
        match self.instances.get_mut(inst) {
            Some(i) if i.state == InstanceState::Provisioning => {
                i.state = InstanceState::Ready;
                self.gauges.provisioning.add(now, -1);
                self.gauges.ready.add(now, 1);
                self.gauges.ready_slots.add(now, i64::from(self.cfg.slots));
                self.gauges.serving_slots.add(now, i64::from(self.cfg.slots));
                true
            }
            _ => false,
        }
    }

    /// Kills up to `count` ready instances chosen at random; returns them and the
    /// jobs they were running or queueing.
    pub fn kill(&mut self, now: SimTime, count: u32, rng: &mut SimRng, lost: &mut Vec<Stopped>) -> Vec<Key> {
        let mut candidates: Vec<Key> =
            self.instances.iter().filter(|(_, i)| i.state == InstanceState::Ready).map(|(k, _)| k).collect();
        let mut killed = Vec::new();
        for _ in 0..count {
            if candidates.is_empty() {
                break;
            }
            let pick = candidates.swap_remove(rng.random_range(0..candidates.len()));
            killed.push(pick);
        }
        killed.sort();
        for &inst in &killed {
            let jobs: Vec<Key> = self.jobs.iter().filter(|(_, j)| j.instance == inst).map(|(k, _)| k).collect();
            for job in jobs {
                let j = self.jobs.remove(job).expect("listed");
                let ran = if j.state == JobState::Running { now - j.started } else { SimDuration::ZERO };
                let started_at = (j.state == JobState::Running).then_some(j.started);
                lost.push(Stopped { token: j.token, ran, started_at });
            }
            let i = self.instances.get_mut(inst).expect("listed");
            let (running, queued) = (i.running, i.queued);
            i.state = InstanceState::Dead;
            i.running = 0;
            i.queued = 0;
            i.queue.clear();
            if let Some(c) = i.clock.as_mut() {
                c.clear();
            }
            self.busy(now, true, -i64::from(running));
            self.gauges.queued.add(now, -i64::from(queued));
            self.gauges.ready.add(now, -1);
            self.gauges.ready_slots.add(now, -i64::from(self.cfg.slots));
            self.gauges.serving_slots.add(now, -i64::from(self.cfg.slots));
            self.gauges.billed.add(now, -1);
        }
        killed
    }

    /// Forgets a dead instance (after the proxy deregistered it).
    pub fn forget_dead(&mut self, inst: Key) {
        if self.state(inst) == Some(InstanceState::Dead) {
            self.instances.remove_with(inst, |_| ());
        }
    }

    /// Chooses `n` instances for a scale-down: provisioning ones first, then the
    /// ready ones with the least work, newest first.
    pub fn pick_for_removal(&self, n: u32) -> Vec<Key> {
        let mut c: Vec<(u8, u32, std::cmp::Reverse<SimTime>, Key)> = self
            .instances
            .iter()
            .filter_map(|(k, i)| match i.state {
                InstanceState::Provisioning => Some((0, 0, std::cmp::Reverse(i.created), k)),
                InstanceState::Ready => Some((1, i.running + i.queued, std::cmp::Reverse(i.created), k)),
                _ => None,
            })
            .collect();
        c.sort();
        c.into_iter().take(n as usize).map(|(.., k)| k).collect()
    }

    /// Scale-down of one instance: a provisioning one is cancelled at once; a
    /// ready one drains. Returns true if the instance is gone already.
    pub fn retire(&mut self, now: SimTime, inst: Key) -> bool {
        let Some(i) = self.instances.get_mut(inst) else { return true };
        match i.state {
            InstanceState::Provisioning => {
                self.instances.remove_with(inst, |_| ());
                self.gauges.provisioning.add(now, -1);
                self.gauges.billed.add(now, -1);
                true
            }
            InstanceState::Ready => {
                i.state = InstanceState::Draining;
                let idle = i.running == 0 && i.queued == 0;
                let running = i64::from(i.running);
                self.gauges.ready.add(now, -1);
                self.gauges.ready_slots.add(now, -i64::from(self.cfg.slots));
                // Its running jobs go on, but no longer count for the autoscaler.
                self.gauges.busy_ready.add(now, -running);
                if idle {
                    self.stop(now, inst);
                }
                idle
            }
            InstanceState::Draining | InstanceState::Dead => false,
        }
    }

    /// A draining instance finished its work (or had none): it is gone.
    pub(super) fn stop(&mut self, now: SimTime, inst: Key) {
        self.instances.remove_with(inst, |_| ());
        self.gauges.billed.add(now, -1);
        self.gauges.serving_slots.add(now, -i64::from(self.cfg.slots));
    }
}
