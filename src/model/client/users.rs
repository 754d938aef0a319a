//! Closed-loop users: each thinks, sends one unit of work, waits for it to
//! end, and thinks again; a chaos traffic factor changes how many are active.

use rand::RngExt;

use crate::model::chaos;
use crate::rng::{Stream, stream};
use crate::time::SimDuration;

use super::requests::begin_work;
use super::{ArrivalSpec, ClientCx, ClientTimer, User};

/// Starts the closed-loop users that should be active and are idle.
pub(super) fn start_users<'a, C: ClientCx<'a>>(cx: &mut C, swarm: usize) {
    let now = cx.now();
    let c = cx.clients();
    let spec = &c.cfg.swarms[swarm];
    let ArrivalSpec::Closed(closed) = &spec.arrivals else { return };
    let (id, seed) = (spec.id, c.seed);
    let (active, shard) = (c.swarms[swarm].active_users, c.shard);
    for u in 0..active {
        let users = &mut cx.clients().swarms[swarm].users;
        if users.len() <= u as usize {
            let rng = stream(seed, Stream::User { swarm: id, user: u64::from(u) });
            users.push(User { cycling: false, cycles: 0, rng });
        }
        let user = &mut users[u as usize];
        if !user.cycling && shard.owns(u64::from(u)) {
            user.cycling = true;
            // Stagger the start over one think time so users do not move in lockstep.
            let think = closed.think.sample(&mut user.rng);
            let offset = SimDuration::from_nanos(user.rng.random_range(0..=think.as_nanos()));
            cx.wake(now + offset, ClientTimer::UserWake { swarm: swarm as u16, user: u });
        }
    }
}

/// A user finished thinking: it sends its next unit of work, unless traffic
/// chaos has made it inactive meanwhile.
pub fn on_user_wake<'a, C: ClientCx<'a>>(cx: &mut C, swarm: usize, user: u32) {
    let s = &mut cx.clients().swarms[swarm];
    if user >= s.active_users {
        s.users[user as usize].cycling = false;
        return;
    }
    let u = &mut s.users[user as usize];
    let seq = u.cycles;
    u.cycles += 1;
    begin_work(cx, swarm, u64::from(user) + 1, seq, Some(user));
}

/// A user's unit of work ended: think, then go again (if still active).
pub(super) fn user_cycle_done<'a, C: ClientCx<'a>>(cx: &mut C, swarm: usize, user: u32) {
    let now = cx.now();
    let c = cx.clients();
    let ArrivalSpec::Closed(closed) = &c.cfg.swarms[swarm].arrivals else { return };
    let s = &mut c.swarms[swarm];
    let u = &mut s.users[user as usize];
    if user < s.active_users {
        let think = closed.think.sample(&mut u.rng);
        cx.wake(now + think, ClientTimer::UserWake { swarm: swarm as u16, user });
    } else {
        u.cycling = false;
    }
}

/// A chaos traffic window on `swarm` started or ended. Open-loop swarms had
/// the multiplier folded into their rate profile; closed loops change how many
/// users are active.
pub fn on_traffic<'a, C: ClientCx<'a>>(cx: &mut C, swarm: usize) {
    let now = cx.now();
    let c = cx.clients();
    if let ArrivalSpec::Closed(closed) = &c.cfg.swarms[swarm].arrivals {
        let factor = chaos::traffic_factor(c.cfg.chaos, swarm, now);
        c.swarms[swarm].active_users = (f64::from(closed.users) * factor).round() as u32;
        start_users(cx, swarm);
    }
}
