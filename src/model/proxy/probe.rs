//! Backend membership and health probes.
//!
//! An instance joins the director when its backend announces it ready and
//! leaves when it is retired or dead. With a probe configured, Varnish probes
//! a new backend at once and then every `interval`; an answer that does not
//! come within `timeout` counts as a bad probe. When a backend turns sick,
//! fetches waiting for one of its connections fail at once.

use crate::arena::Key;

use super::fetch::fail_waiters;
use super::{ProxyCx, ProxyTimer};

/// Adds a ready instance to the pool's director and starts probing it.
pub fn register<C: ProxyCx>(cx: &mut C, pool: usize, inst: Key) {
    let now = cx.now();
    let p = cx.proxy();
    p.add_backend(pool, inst);
    if p.cfg.probe.is_some() {
        cx.wake(now, ProxyTimer::Probe { pool: pool as u16, inst });
    }
}

/// An instance leaves the director; fetches waiting on it fail.
pub fn deregister<C: ProxyCx>(cx: &mut C, pool: usize, inst: Key) {
    let waiters = cx.proxy().remove_backend(pool, inst);
    fail_waiters(cx, waiters);
}

/// Time to probe `inst`: send the probe, arm its timeout if the answer is not
/// in yet, and plan the next one.
pub(super) fn on_probe<C: ProxyCx>(cx: &mut C, pool: usize, inst: Key) {
    let now = cx.now();
    let p = cx.proxy();
    let Some(seq) = p.next_probe(pool, inst) else { return };
    let cfg = p.cfg.probe.expect("probing without a probe config");
    cx.probe(pool, inst, seq);
    if !cx.proxy().probe_settled(pool, inst, seq) {
        cx.wake(now + cfg.timeout, ProxyTimer::ProbeTimeout { pool: pool as u16, inst, seq });
    }
    cx.wake(now + cfg.interval, ProxyTimer::Probe { pool: pool as u16, inst });
}

/// The answer to probe `seq` came: good when the backend said 200.
pub fn on_probe_answer<C: ProxyCx>(cx: &mut C, pool: usize, inst: Key, seq: u32, good: bool) {
    let waiters = cx.proxy().settle_probe(pool, inst, seq, good);
    fail_waiters(cx, waiters);
}

pub(super) fn on_probe_timeout<C: ProxyCx>(cx: &mut C, pool: usize, inst: Key, seq: u32) {
    on_probe_answer(cx, pool, inst, seq, false);
}
