//! Hedged requests (Dean and Barroso, "The Tail at Scale", CACM 2013): when
//! a request's attempt has gone `hedge_after` without an answer, the client
//! sends the request again and takes whichever answer comes first; the
//! attempts still in flight then are cancelled, their own outcome
//! (`cancelled`).
//!
//! A hedge is an attempt: it counts toward `max_attempts` and goes through
//! the swarm's defences like any other, as in gRPC's hedging policy (gRFC
//! A6). An attempt that fails while another of its request is still in
//! flight ends quietly: the request waits for the others, and only the last
//! failure goes to the retry policy. Cancelling is the client's alone: as
//! with a client timeout, the proxy's fetch runs on, and a result nobody
//! takes counts as wasted GPU time, which is what hedging costs.

use std::collections::HashMap;

use crate::arena::Key;
use crate::model::context::Observe;
use crate::model::outcome::Outcome;
use crate::time::SimTime;

use super::requests::send_attempt;
use super::{ClientCx, ClientTimer, Clients};

/// The attempts of hedged requests that were sent before the request's
/// current one and are still in flight, with when each was sent. Only
/// hedging requests have entries; an entry goes when its request ends.
#[derive(Debug, Default)]
pub(super) struct Earlier(HashMap<Key, Vec<(u32, SimTime)>>);

/// Arms the hedge of attempt `attempt` of `req`, sent now, if its swarm
/// hedges and a further attempt is allowed.
pub(super) fn arm<'a, C: ClientCx<'a>>(cx: &mut C, swarm: usize, req: Key, attempt: u32) {
    let now = cx.now();
    let p = &cx.clients().policies[swarm];
    if let Some(after) = p.hedge_after()
        && attempt < p.retry().max_attempts
    {
        cx.wake(now + after, ClientTimer::Hedge { req, attempt });
    }
}

/// Attempt `attempt` of `req` has gone `hedge_after` unanswered: send the
/// next attempt beside it, unless it was answered, or a newer attempt went
/// out, meanwhile.
pub(super) fn on_hedge<'a, C: ClientCx<'a>>(cx: &mut C, req: Key, attempt: u32) {
    let c = cx.clients();
    let Some(r) = c.requests.get_mut(req) else { return };
    if !r.listens_for(attempt) {
        return;
    }
    r.waiting = false;
    c.earlier.0.entry(req).or_default().push((attempt, r.sent_at));
    send_attempt(cx, req);
}

/// Takes attempt `attempt` of `req`, sent before its current one, off the
/// wire if the client still listens for it; returns when it was sent.
pub(super) fn take_earlier(c: &mut Clients<'_>, req: Key, attempt: u32) -> Option<SimTime> {
    let list = c.earlier.0.get_mut(&req)?;
    let i = list.iter().position(|&(a, _)| a == attempt)?;
    let (_, sent_at) = list.swap_remove(i);
    if list.is_empty() {
        c.earlier.0.remove(&req);
    }
    Some(sent_at)
}

/// Whether attempt `at` of `req`, sent before its current one, is still in flight.
pub(super) fn has_earlier(c: &Clients<'_>, req: Key, attempt: u32) -> bool {
    c.earlier.0.get(&req).is_some_and(|list| list.iter().any(|&(a, _)| a == attempt))
}

/// Whether any attempt of `req` is still in flight.
pub(super) fn in_flight(c: &Clients<'_>, req: Key) -> bool {
    c.requests.get(req).is_some_and(|r| r.waiting) || c.earlier.0.contains_key(&req)
}

/// `req` has its answer: every attempt of it still in flight is cancelled.
pub(super) fn cancel_rest<'a, C: ClientCx<'a>>(cx: &mut C, req: Key) {
    let now = cx.now();
    let c = cx.clients();
    let Some(r) = c.requests.get_mut(req) else { return };
    let (swarm, measured, current) = (r.swarm as usize, r.measured, r.waiting.then_some(r.sent_at));
    r.waiting = false;
    // Removing hashes the key even from an empty map (about 200 instructions
    // a request): skip it when nothing hedges.
    if !c.earlier.0.is_empty()
        && let Some(earlier) = c.earlier.0.remove(&req)
    {
        for (_, t) in earlier {
            cx.obs().attempt(swarm, measured, Outcome::Cancelled, now - t);
        }
    }
    if let Some(t) = current {
        cx.obs().attempt(swarm, measured, Outcome::Cancelled, now - t);
    }
}
