//! Logical requests and their attempts: offer, send, time out, retry, end;
//! bulk jobs of many images.

use crate::arena::Key;
use crate::model::context::{Observe, RequestId};
use crate::model::dist::DurationDist;
use crate::model::outcome::Outcome;
use crate::model::retry::{Decision, RetryState};
use crate::model::workload::{BulkProgress, BulkSpec, BulkStep};
use crate::rng::{SimRng, Stream, StreamBase, stream};
use crate::time::{SimDuration, SimTime};

use super::hedge;
use super::users::user_cycle_done;
use super::{Attempt, AttemptRef, Bulk, ClientCx, ClientTimer, JobSpec, Origin, Request, Response, SwarmSpec};

/// An open-loop swarm's arrival: offer its work and draw the next arrival.
pub fn on_arrival<'a, C: ClientCx<'a>>(cx: &mut C, swarm: usize) {
    let s = &mut cx.clients().swarms[swarm];
    let seq = s.arrivals;
    s.arrivals += 1;
    if cx.clients().shard.owns(seq) {
        begin_work(cx, swarm, 0, seq, None);
    }
    let s = &mut cx.clients().swarms[swarm];
    if let Some(next) = s.open.as_mut().and_then(|o| o.next(&mut s.rng)) {
        cx.wake_arrival(swarm, next);
    }
}

/// One unit of a swarm's work: a request, or a bulk job of many.
/// `source` is 0 for open-loop arrivals and user + 1 for closed-loop users.
// Inlined: for a single request it only passes its arguments on.
#[inline(always)]
pub(super) fn begin_work<'a, C: ClientCx<'a>>(cx: &mut C, swarm: usize, source: u64, seq: u64, user: Option<u32>) {
    match cx.clients().cfg.swarms[swarm].bulk {
        None => start_request(cx, swarm, source, seq, 0, None, Origin::Single { user }),
        Some(bulk) => begin_bulk(cx, swarm, source, seq, user, bulk),
    }
}

/// A bulk job: its class, then its first images.
fn begin_bulk<'a, C: ClientCx<'a>>(cx: &mut C, swarm: usize, source: u64, seq: u64, user: Option<u32>, bulk: BulkSpec) {
    let now = cx.now();
    let c = cx.clients();
    let spec = &c.cfg.swarms[swarm];
    let mut rng = stream(c.seed, Stream::Bulk { swarm: spec.id, source, seq });
    let class = pick_class(&spec.mix, &mut rng);
    let measured = cx.obs().is_measured(now);
    cx.obs().bulk_submitted(swarm, measured);
    let mut progress = BulkProgress::new(bulk);
    let first = progress.start();
    let b = cx.clients().bulks.insert(Bulk {
        swarm: swarm as u16,
        class: class as u16,
        progress,
        submitted: now,
        measured,
        user,
        source,
        seq,
    });
    for image in first {
        start_request(cx, swarm, source, seq, u64::from(image), Some(class), Origin::Bulk(b));
    }
}

fn start_request<'a, C: ClientCx<'a>>(
    cx: &mut C,
    swarm: usize,
    source: u64,
    seq: u64,
    image: u64,
    class: Option<usize>,
    origin: Origin,
) {
    let now = cx.now();
    let c = cx.clients();
    let cfg = c.cfg;
    let mut rng = c.swarms[swarm].requests.derive([source, seq, image]);
    let class = class.unwrap_or_else(|| pick_class(&cfg.swarms[swarm].mix, &mut rng));
    let work = cfg.classes[class].service.sample(&mut rng);
    let object = cfg.classes[class].objects.map(|o| {
        let id = cfg.swarms[swarm].id;
        o.pick(&mut stream(c.seed, Stream::Object { swarm: id, source, seq, image }))
    });
    let measured = cx.obs().is_measured(now);
    let id = RequestId { swarm, source, seq, image };
    cx.obs().offered(id, measured, class, work, now);
    if let Origin::Single { user } = origin
        && cx.clients().swarms[swarm].carried
    {
        send_carried(cx, id, (class, work, object, measured), user, rng);
        return;
    }
    let req = cx.clients().requests.insert(Request {
        id,
        swarm: swarm as u16,
        class: class as u16,
        work,
        object,
        rng,
        retry: RetryState::default(),
        first_sent: now,
        sent_at: now,
        waiting: false,
        measured,
        origin,
    });
    send_attempt(cx, req);
}

/// Attempt `attempt`'s patience: the attempt-th draw of the request's own
/// patience stream, so every attempt's value is fixed by its ids alone.
// Inlined: most swarms have no patience, and then this is one test.
#[inline(always)]
fn patience(spec: &SwarmSpec, base: Option<StreamBase>, id: RequestId, attempt: u32) -> Option<SimDuration> {
    let (dist, base) = (spec.patience.as_ref()?, base?);
    Some(draw_patience(dist, base, id, attempt))
}

fn draw_patience(dist: &DurationDist, base: StreamBase, id: RequestId, attempt: u32) -> SimDuration {
    let mut rng = base.derive([id.source, id.seq, id.image]);
    (1..attempt).for_each(|_| {
        dist.sample(&mut rng);
    });
    dist.sample(&mut rng)
}

/// Sends the one attempt of a carried request (see `SwarmState::carried`):
/// `send_attempt`'s steps for a first attempt that nothing times out or hedges.
// Inlined into its one caller: the job is then built once, in registers (a
// copy of one passed by value stalls on store forwarding).
#[inline(always)]
fn send_carried<'a, C: ClientCx<'a>>(
    cx: &mut C,
    id: RequestId,
    (class, work, object, measured): (usize, SimDuration, Option<u64>, bool),
    user: Option<u32>,
    mut rng: SimRng,
) {
    let now = cx.now();
    let c = cx.clients();
    let swarm = id.swarm;
    let s = &mut c.swarms[swarm];
    // Unfinished from its offer on, as a request record is.
    s.carried_unfinished += u64::from(measured);
    if !c.policies[swarm].admit(now, true, &mut rng) {
        attempt_ended(cx, Whose::Carried { user }, (swarm, measured, now), Outcome::LocalReject, None);
        return;
    }
    let spec = &c.cfg.swarms[swarm];
    let patience = patience(spec, s.patience, id, 1);
    let job = JobSpec { class: class as u16, swarm: swarm as u16, work, measured, tier: spec.tier, patience, object };
    cx.obs().attempt_sent(id, measured, 1, now);
    cx.send(AttemptRef::carried(swarm as u16, measured, user, now), job);
}

/// Sends the next attempt of `req`.
pub fn send_attempt<'a, C: ClientCx<'a>>(cx: &mut C, req: Key) {
    let now = cx.now();
    let c = cx.clients();
    let cfg = c.cfg;
    let Some(r) = c.requests.get_mut(req) else { return };
    let swarm = r.swarm as usize;
    let first = r.retry.attempts == 0;
    r.retry.attempts += 1;
    r.sent_at = now;
    if !c.policies[swarm].admit(now, first, &mut r.rng) {
        let measured = r.measured;
        attempt_ended(cx, Whose::Record(req), (swarm, measured, now), Outcome::LocalReject, None);
        return;
    }
    r.waiting = true;
    let (id, attempt) = (r.id, r.retry.attempts);
    let tier = cfg.swarms[swarm].tier;
    let patience = patience(&cfg.swarms[swarm], c.swarms[swarm].patience, r.id, r.retry.attempts);
    let job = JobSpec {
        class: r.class,
        swarm: r.swarm,
        work: r.work,
        measured: r.measured,
        tier,
        patience,
        object: r.object,
    };
    // An overall deadline cuts the attempt short when it comes first.
    let left = c.policies[swarm].deadline().map(|d| d - (now - r.first_sent));
    cx.obs().attempt_sent(id, job.measured, attempt, now);
    let timeout = match (cfg.swarms[swarm].timeout, left) {
        (Some(t), Some(l)) => Some(t.min(l)),
        (t, l) => t.or(l),
    };
    if let Some(timeout) = timeout {
        cx.wake(now + timeout, ClientTimer::Timeout { req, attempt });
    }
    hedge::arm(cx, swarm, req, attempt);
    cx.send(AttemptRef::held(req, attempt), job);
}

/// Takes attempt `attempt` of `req` off the wire if the client still listens
/// for it (the request's current attempt, or a hedged request's earlier one,
/// not ended yet); returns the attempt's swarm, whether it is measured, and
/// when it was sent.
fn take_current<'a, C: ClientCx<'a>>(cx: &mut C, req: Key, attempt: u32) -> Option<(usize, bool, SimTime)> {
    let c = cx.clients();
    match c.requests.get_mut(req) {
        Some(r) if r.listens_for(attempt) => {
            r.waiting = false;
            Some((r.swarm as usize, r.measured, r.sent_at))
        }
        Some(r) => {
            let (swarm, measured) = (r.swarm as usize, r.measured);
            hedge::take_earlier(c, req, attempt).map(|sent_at| (swarm, measured, sent_at))
        }
        None => None,
    }
}

/// The client's own timeout for attempt `attempt` of `req` fired. The proxy
/// does not notice: its fetch goes on until it ends by itself.
pub fn on_timeout<'a, C: ClientCx<'a>>(cx: &mut C, req: Key, attempt: u32) {
    if let Some(current) = take_current(cx, req, attempt) {
        attempt_ended(cx, Whose::Record(req), current, Outcome::ClientTimeout, None);
    }
}

/// The answer to attempt `at` arrived.
// Inlined: callers pass a known variant, so the match folds away.
#[inline(always)]
pub fn on_response<'a, C: ClientCx<'a>>(cx: &mut C, at: AttemptRef, r: Response) {
    let (req, attempt) = match at.get() {
        // Nothing times out or hedges a carried attempt: the client still listens.
        Attempt::Carried { swarm, measured, user, sent } => {
            let current = (usize::from(swarm), measured, sent);
            return attempt_ended(cx, Whose::Carried { user }, current, r.outcome, r.retry_after);
        }
        Attempt::Held { req, attempt } => (req, attempt),
    };
    if let Some(current) = take_current(cx, req, attempt) {
        attempt_ended(cx, Whose::Record(req), current, r.outcome, r.retry_after);
    } else if let Some(started) = r.work_started {
        // Nobody takes this result any more: the GPU time behind it was wasted.
        let now = cx.now();
        cx.obs().wasted(started, now);
    }
}

/// Whose attempt ended: a request with a record, or a carried one (see
/// `SwarmState::carried`) with the closed-loop user it is for.
#[derive(Copy, Clone)]
enum Whose {
    Record(Key),
    Carried { user: Option<u32> },
}

/// The current attempt of a request ended with `outcome`: succeed, retry or
/// give up.
#[inline(always)]
fn attempt_ended<'a, C: ClientCx<'a>>(
    cx: &mut C,
    whose: Whose,
    (swarm, measured, sent_at): (usize, bool, SimTime),
    outcome: Outcome,
    retry_after: Option<SimDuration>,
) {
    let now = cx.now();
    cx.obs().attempt(swarm, measured, outcome, now - sent_at);
    let c = cx.clients();
    c.policies[swarm].on_outcome(now, outcome);
    let req = match whose {
        Whose::Record(req) => req,
        Whose::Carried { user } => {
            // Its strategy allows one attempt, which was this one.
            c.swarms[swarm].carried_unfinished -= u64::from(measured);
            let origin = Origin::Single { user };
            return request_ended(cx, (swarm, measured, outcome == Outcome::Ok), 1, now - sent_at, origin);
        }
    };
    if outcome == Outcome::Ok {
        // Without hedging the answered attempt was the only one in flight.
        if c.policies[swarm].hedge_after().is_some() {
            hedge::cancel_rest(cx, req);
        }
        finish_request(cx, req, true);
        return;
    }
    // A hedged request waits for its other attempts: only the last failure decides.
    if hedge::in_flight(c, req) {
        return;
    }
    let r = c.requests.get_mut(req).expect("live request");
    let elapsed = now - r.first_sent;
    match c.policies[swarm].on_failure(now, elapsed, &mut r.retry, outcome, retry_after, &mut r.rng) {
        Decision::RetryAfter(delay) => cx.wake(now + delay, ClientTimer::Send { req }),
        Decision::Denied => {
            // The retry the strategy wanted is refused locally: counted, never sent.
            cx.obs().attempt(swarm, measured, Outcome::LocalReject, SimDuration::ZERO);
            finish_request(cx, req, false);
        }
        Decision::NotRetryable | Decision::Exhausted | Decision::DeadlineExceeded => finish_request(cx, req, false),
    }
}

#[inline(always)]
fn finish_request<'a, C: ClientCx<'a>>(cx: &mut C, req: Key, succeeded: bool) {
    let now = cx.now();
    let (swarm, measured, attempts, first_sent, origin) = cx
        .clients()
        .requests
        .remove_with(req, |r| (r.swarm as usize, r.measured, r.retry.attempts, r.first_sent, r.origin))
        .expect("live request");
    request_ended(cx, (swarm, measured, succeeded), attempts, now - first_sent, origin);
}

/// A request of `swarm` ended after `attempts` attempts and `completion`
/// since its first: count it, and tell whoever it was for.
#[inline(always)]
fn request_ended<'a, C: ClientCx<'a>>(
    cx: &mut C,
    (swarm, measured, succeeded): (usize, bool, bool),
    attempts: u32,
    completion: SimDuration,
    origin: Origin,
) {
    cx.obs().request_done(swarm, measured, succeeded, attempts, completion);
    match origin {
        Origin::Bulk(b) => bulk_image_done(cx, b, succeeded),
        Origin::Single { user: Some(u) } => user_cycle_done(cx, swarm, u),
        Origin::Single { user: None } => {}
    }
}

fn bulk_image_done<'a, C: ClientCx<'a>>(cx: &mut C, b: Key, succeeded: bool) {
    let now = cx.now();
    let bulk = cx.clients().bulks.get_mut(b).expect("live bulk job");
    match bulk.progress.image_done(succeeded) {
        BulkStep::Send(image) => {
            let (swarm, source, seq, class) = (bulk.swarm as usize, bulk.source, bulk.seq, bulk.class as usize);
            start_request(cx, swarm, source, seq, u64::from(image), Some(class), Origin::Bulk(b));
        }
        BulkStep::Wait => {}
        BulkStep::Done { succeeded } => {
            let bulk = cx.clients().bulks.remove(b).expect("live bulk job");
            let swarm = bulk.swarm as usize;
            cx.obs().bulk_done(swarm, bulk.measured, succeeded, now - bulk.submitted);
            if let Some(u) = bulk.user {
                user_cycle_done(cx, swarm, u);
            }
        }
    }
}

/// Draws a class from a cumulative mix; a single-class mix draws nothing.
fn pick_class(mix: &[(usize, f64)], rng: &mut SimRng) -> usize {
    use rand::RngExt;
    if let [(only, _)] = mix {
        return *only;
    }
    let u: f64 = rng.random();
    mix.iter().find(|(_, cum)| u < *cum).or(mix.last()).map_or(0, |(c, _)| *c)
}
