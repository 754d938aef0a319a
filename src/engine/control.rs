//! The backend and the control plane: job milestones, instance lifecycle,
//! health probes, the autoscaler and the chaos schedule.

use crate::arena::Key;
use crate::model::autoscaler::{Observation, ScaleMetric};
use crate::model::chaos::{self, ChaosAction, Subject};
use crate::model::gpu::{InstanceState, ProbeAnswer, Promoted};

use super::Trace;
use super::state::{Event, ScalerMark, Sim};

impl<T: Trace> Sim<'_, T> {
    pub(super) fn on_milestone(&mut self, pool: usize, job: Key, epoch: u32) {
        let Some(m) = self.pools[pool].on_milestone(self.now, job, epoch) else { return };
        if let Some(next) = m.next {
            self.schedule_wake(pool, next);
        }
        if let Some(p) = m.promoted {
            self.job_promoted(pool, p);
        }
        let listener = m.token.map(Key::from_bits).filter(|a| self.attempts.contains(*a));
        if !m.complete {
            if let Some(att) = listener {
                self.on_chunk(att);
            }
            return;
        }
        // Work counts as wasted unless a client is still there to receive it.
        let delivered = listener.and_then(|a| self.attempts.get(a)).is_some_and(|a| a.client_waiting);
        if !delivered {
            self.rec.wasted(m.started_at, self.now);
        }
        if let Some(att) = listener {
            self.on_response(att);
        }
    }

    /// A queued job got a slot.
    pub(super) fn job_promoted(&mut self, pool: usize, p: Promoted) {
        self.rec.queue_wait(self.now, p.queued_for);
        self.trace.job_started(pool, p.instance.to_bits(), self.now);
        if let Some(w) = p.wake {
            self.schedule_wake(pool, w);
        }
    }

    /// Adds a ready instance to the proxy's director and starts probing it.
    pub(super) fn register(&mut self, pool: usize, inst: Key) {
        self.proxy.register(pool, inst);
        if self.proxy.cfg.probe.is_some() {
            // Varnish probes a new backend at once.
            self.schedule(self.now, Event::Probe { pool: pool as u16, inst });
        }
    }

    pub(super) fn on_instance_ready(&mut self, pool: usize, inst: Key) {
        if self.pools[pool].mark_ready(self.now, inst) {
            self.register(pool, inst);
        }
    }

    pub(super) fn on_probe(&mut self, pool: usize, inst: Key) {
        if !self.proxy.is_member(pool, inst) {
            return;
        }
        let cfg = self.proxy.cfg.probe.expect("probing without a probe config");
        match self.pools[pool].probe_answer(inst) {
            ProbeAnswer::Good => self.apply_probe(pool, inst, true),
            ProbeAnswer::Bad => self.apply_probe(pool, inst, false),
            ProbeAnswer::NoAnswer => {
                let ev = Event::ProbeResult { pool: pool as u16, inst, good: false };
                self.schedule(self.now + cfg.timeout, ev);
            }
        }
        self.schedule(self.now + cfg.interval, Event::Probe { pool: pool as u16, inst });
    }

    pub(super) fn apply_probe(&mut self, pool: usize, inst: Key, good: bool) {
        let waiters = self.proxy.probe_result(pool, inst, good);
        self.fail_waiters(waiters);
    }

    /// A dead instance leaves the proxy's backend list.
    pub(super) fn on_deregister(&mut self, pool: usize, inst: Key) {
        let waiters = self.proxy.deregister(pool, inst);
        self.fail_waiters(waiters);
        self.pools[pool].forget_dead(inst);
    }

    pub(super) fn on_autoscale(&mut self, pool: usize) {
        let Some((scaler, mark)) = self.scalers[pool].as_mut() else { return };
        let g = &self.pools[pool].gauges;
        let now_mark = ScalerMark {
            busy: g.busy_slots.area_until(self.now),
            ready_slots: g.ready_slots.area_until(self.now),
            queued: g.queued.area_until(self.now),
            ready: g.ready.area_until(self.now),
        };
        let ratio = |a: u128, b: u128| if b == 0 { None } else { Some(a as f64 / b as f64) };
        let metric = match scaler.cfg.metric {
            ScaleMetric::Utilization => ratio(now_mark.busy - mark.busy, now_mark.ready_slots - mark.ready_slots),
            ScaleMetric::QueueDepth => ratio(now_mark.queued - mark.queued, now_mark.ready - mark.ready),
        };
        *mark = now_mark;
        let p = &self.pools[pool];
        let obs = Observation { ready: p.ready_count(), provisioning: p.provisioning_count(), metric };
        let delta = scaler.evaluate(self.now, obs, p.cfg.min_instances, p.cfg.max_instances);
        let interval = scaler.cfg.interval;
        if delta > 0 {
            for _ in 0..delta {
                let (inst, ready_at) = self.pools[pool].add_instance(self.now);
                self.trace.instance_added(pool, inst.to_bits(), self.now, ready_at);
                self.schedule(ready_at, Event::InstanceReady { pool: pool as u16, inst });
            }
        } else if delta < 0 {
            for inst in self.pools[pool].pick_for_removal(delta.unsigned_abs() as u32) {
                if self.pools[pool].state(inst) == Some(InstanceState::Ready) {
                    let waiters = self.proxy.deregister(pool, inst);
                    self.fail_waiters(waiters);
                }
                self.pools[pool].retire(self.now, inst);
            }
        }
        self.schedule(self.now + interval, Event::Autoscale { pool: pool as u16 });
    }

    pub(super) fn on_chaos(&mut self, boundary: usize) {
        match self.chaos_bounds[boundary].1 {
            Subject::Pool(p) => {
                let c = chaos::pool_condition(&self.sc.chaos, p, self.now);
                let pool = &mut self.pools[p];
                if c.slow != pool.slow() || c.stalls != pool.stalls() {
                    let mut wakes = std::mem::take(&mut self.scratch_wakes);
                    pool.set_speed(self.now, c.slow, c.stalls, &mut wakes);
                    for w in wakes.drain(..) {
                        self.schedule_wake(p, w);
                    }
                    self.scratch_wakes = wakes;
                }
                self.pools[p].set_maintenance(c.maintenance);
            }
            Subject::Swarm(s) => {
                if let crate::scenario::ArrivalSpec::Closed(c) = &self.sc.swarms[s].arrivals {
                    let factor = chaos::traffic_factor(&self.sc.chaos, s, self.now);
                    self.swarms[s].active_users = (f64::from(c.users) * factor).round() as u32;
                    self.start_users(s);
                }
                // Open-loop swarms had the multiplier folded into their rate profile.
            }
            Subject::Kill(e) => {
                let ChaosAction::Kill { pool, count } = self.sc.chaos[e].action else { return };
                let mut lost = std::mem::take(&mut self.scratch_lost);
                let killed = self.pools[pool].kill(self.now, count, &mut self.pool_rngs[pool], &mut lost);
                for job in lost.drain(..) {
                    if let Some(started) = job.started_at {
                        self.rec.wasted(started, self.now);
                    }
                }
                self.scratch_lost = lost;
                let delay = self.pools[pool].cfg.deregister_delay;
                for inst in killed {
                    self.schedule(self.now + delay, Event::Deregister { pool: pool as u16, inst });
                }
            }
        }
    }
}
