//! The fetch and probe rules, driven by hand through a recording context.

use super::*;
use crate::model::client::{AttemptRef, JobSpec, Response};
use crate::model::outcome::{Cause, Outcome, OutcomeSet};
use crate::model::testkit::{Base, test_env};
use crate::rng::{Stream, stream};

/// A proxy context that records every effect; the backend answers each
/// submission at once with `answer` (None: a dead host that never answers).
pub(super) struct Cx {
    pub(super) base: Base,
    pub(super) proxy: Proxy,
    pub(super) timers: Vec<(SimTime, ProxyTimer)>,
    pub(super) submitted: Vec<Key>,
    pub(super) abandoned: Vec<u64>,
    pub(super) closed: Vec<Key>,
    pub(super) responses: Vec<(AttemptRef, Response)>,
    pub(super) answer: Option<BackendEvent>,
    pub(super) probe_answer: Option<bool>,
}
test_env!(Cx);

impl ProxyCx for Cx {
    fn proxy(&mut self) -> &mut Proxy {
        &mut self.proxy
    }
    fn wake(&mut self, at: SimTime, timer: ProxyTimer) {
        self.timers.push((at, timer));
    }
    fn submit(&mut self, fetch: u64, _pool: usize, _inst: Key, _job: JobSpec) {
        self.submitted.push(Key::from_bits(fetch));
        if let Some(e) = self.answer {
            on_backend(self, Key::from_bits(fetch), e);
        }
    }
    fn abandon(&mut self, _pool: usize, job: u64) {
        self.abandoned.push(job);
    }
    fn close(&mut self, fetch: u64) {
        self.closed.push(Key::from_bits(fetch));
    }
    fn probe(&mut self, pool: usize, inst: Key, seq: u32) {
        if let Some(good) = self.probe_answer {
            on_probe_answer(self, pool, inst, seq, good);
        }
    }
    fn respond(&mut self, to: AttemptRef, response: Response) {
        self.responses.push((to, response));
    }
}

pub(super) fn secs(s: u64) -> SimTime {
    SimTime::ZERO + SimDuration::from_secs(s)
}

/// A proxy with one pool of `instances` registered instances.
pub(super) fn cx(cfg: ProxyConfig, instances: usize, answer: Option<BackendEvent>) -> (Cx, Vec<Key>) {
    let mut arena = Arena::new();
    let keys: Vec<Key> = (0..instances).map(|i| arena.insert(i)).collect();
    let mut c = Cx {
        base: Base::default(),
        proxy: Proxy::new(cfg, vec![0], 1, stream(1, Stream::Proxy)),
        timers: Vec::new(),
        submitted: Vec::new(),
        abandoned: Vec::new(),
        closed: Vec::new(),
        responses: Vec::new(),
        answer,
        probe_answer: None,
    };
    for &k in &keys {
        register(&mut c, 0, k);
    }
    c.timers.clear();
    (c, keys)
}

pub(super) fn attempt(n: u32) -> AttemptRef {
    AttemptRef::held(Key::from_bits(u64::from(n)), 1)
}

pub(super) const JOB: JobSpec = JobSpec {
    class: 0,
    swarm: 0,
    work: SimDuration::from_secs(5),
    measured: true,
    tier: 0,
    patience: None,
    object: None,
};
pub(super) const ACCEPTED: BackendEvent = BackendEvent::Accepted { job: 77 };

/// The last timer of the given kind, with its instant.
fn last_timer(c: &Cx, kind: fn(&ProxyTimer) -> bool) -> (SimTime, ProxyTimer) {
    *c.timers.iter().rev().find(|(_, t)| kind(t)).expect("timer armed")
}

#[test]
fn a_fetch_arms_first_byte_then_between_bytes_and_answers_200_with_its_work_start() {
    let (mut c, inst) = cx(ProxyConfig::default(), 1, Some(ACCEPTED));
    on_request(&mut c, attempt(1), JOB);
    let fetch = c.submitted[0];
    // Answered at once: no connect timeout, a first-byte timeout 60 s out.
    assert!(!c.timers.iter().any(|(_, t)| matches!(t, ProxyTimer::ConnectTimeout { .. })));
    assert_eq!(last_timer(&c, |t| matches!(t, ProxyTimer::FirstByteTimeout { .. })).0, secs(60));
    c.base.at_secs(10);
    let started_at = c.base.now;
    on_backend(&mut c, fetch, BackendEvent::Chunk { started_at });
    assert_eq!(c.base.seen.first_bytes, [SimDuration::from_secs(10)]);
    assert_eq!(last_timer(&c, |t| matches!(t, ProxyTimer::BetweenBytes { .. })).0, secs(70));
    assert_eq!(c.proxy.connections(0, inst[0]), 1, "the slot is held for the whole body");
    c.base.at_secs(20);
    on_backend(&mut c, fetch, BackendEvent::Complete { started_at: secs(1) });
    let ok = Response { outcome: Outcome::Ok, retry_after: None, work_started: Some(secs(1)) };
    assert_eq!(c.responses, [(attempt(1), ok)]);
    assert_eq!(c.closed, [fetch], "the backend connection is given back");
    assert_eq!(c.proxy.connections(0, inst[0]), 0);
    assert_eq!(c.proxy.sessions(), 0);
}

#[test]
fn a_dead_host_fails_at_connect_timeout_with_varnish_retry_after() {
    let (mut c, _) = cx(ProxyConfig::default(), 1, None);
    on_request(&mut c, attempt(1), JOB);
    let (at, timer) = last_timer(&c, |t| matches!(t, ProxyTimer::ConnectTimeout { .. }));
    assert_eq!(at, SimTime::ZERO + SimDuration::from_millis(3500));
    c.base.now = at;
    on_timer(&mut c, timer);
    let failed = Response::failed(Outcome::Status503(Cause::ConnectTimeout), Some(SimDuration::from_secs(5)));
    assert_eq!(c.responses, [(attempt(1), failed)]);
}

/// A fetch's timer is pending while the fetch is in the phase that set
/// it, and spent for good once it moves on: what lets an engine drop it early.
#[test]
fn a_fetch_timer_is_pending_only_in_its_phase_and_stays_spent() {
    let (mut c, _) = cx(ProxyConfig::default(), 1, Some(ACCEPTED));
    on_request(&mut c, attempt(1), JOB);
    let fetch = c.submitted[0];
    let first_byte = last_timer(&c, |t| matches!(t, ProxyTimer::FirstByteTimeout { .. })).1;
    assert!(c.proxy.timer_pending(&first_byte));
    c.base.at_secs(10);
    on_backend(&mut c, fetch, BackendEvent::Chunk { started_at: secs(1) });
    let between = last_timer(&c, |t| matches!(t, ProxyTimer::BetweenBytes { .. })).1;
    assert!(!c.proxy.timer_pending(&first_byte), "the first byte came");
    assert!(c.proxy.timer_pending(&between));
    c.base.at_secs(20);
    on_backend(&mut c, fetch, BackendEvent::Complete { started_at: secs(1) });
    assert!(!c.proxy.timer_pending(&between), "the fetch ended");
    // The next fetch reuses the slot; the old timers stay spent.
    on_request(&mut c, attempt(2), JOB);
    assert_eq!(c.submitted[1].slot(), fetch.slot());
    assert!(!c.proxy.timer_pending(&first_byte) && !c.proxy.timer_pending(&between));
    let probe = ProxyTimer::Probe { pool: 0, inst: Key::from_bits(0) };
    assert!(c.proxy.timer_pending(&probe), "probes always have work");
}

#[test]
fn a_stale_timer_does_nothing() {
    let (mut c, _) = cx(ProxyConfig::default(), 1, Some(ACCEPTED));
    on_request(&mut c, attempt(1), JOB);
    let fetch = c.submitted[0];
    // The connect phase's epoch is over once the backend accepted.
    on_timer(&mut c, ProxyTimer::ConnectTimeout { fetch, epoch: 1 });
    on_timer(&mut c, ProxyTimer::WaitTimeout { fetch, epoch: 3 });
    assert!(c.responses.is_empty());
}

#[test]
fn vcl_retries_a_first_byte_timeout_up_to_max_retries_and_abandons_each_job() {
    let retry_on = OutcomeSet::parse_entry("first_byte_timeout").expect("cause");
    let cfg = ProxyConfig { retry_on, max_retries: 1, ..Default::default() };
    let (mut c, _) = cx(cfg, 2, Some(ACCEPTED));
    on_request(&mut c, attempt(1), JOB);
    for round in 1..=2 {
        let (at, timer) = last_timer(&c, |t| matches!(t, ProxyTimer::FirstByteTimeout { .. }));
        c.base.now = at;
        on_timer(&mut c, timer);
        assert_eq!(c.abandoned.len(), round, "the backend job is abandoned, not cancelled by the proxy");
    }
    assert_eq!(c.submitted.len(), 2, "one VCL retry");
    assert_eq!(c.base.seen.fetches, [false, true]);
    let failed = Response::failed(Outcome::Status503(Cause::FirstByteTimeout), Some(SimDuration::from_secs(5)));
    assert_eq!(c.responses, [(attempt(1), failed)]);
}

#[test]
fn a_backend_503_keeps_the_backend_retry_after_and_a_429_is_never_retried_by_vcl() {
    let all = OutcomeSet::EMPTY.with_all_503();
    let cfg = ProxyConfig { retry_on: all, max_retries: 0, ..Default::default() };
    let full = BackendEvent::Refused {
        outcome: Outcome::Status503(Cause::BackendQueueFull),
        retry_after: Some(SimDuration::from_secs(30)),
    };
    let (mut c, _) = cx(cfg, 1, Some(full));
    on_request(&mut c, attempt(1), JOB);
    assert_eq!(c.responses[0].1.retry_after, Some(SimDuration::from_secs(30)), "not Varnish's 5 s");

    let cfg = ProxyConfig { retry_on: all, max_retries: 4, ..Default::default() };
    let busy = BackendEvent::Refused { outcome: Outcome::Status429, retry_after: Some(SimDuration::from_secs(7)) };
    let (mut c, _) = cx(cfg, 1, Some(busy));
    on_request(&mut c, attempt(1), JOB);
    assert_eq!(c.submitted.len(), 1);
    assert_eq!(c.responses, [(attempt(1), Response::failed(Outcome::Status429, Some(SimDuration::from_secs(7))))]);
}

#[test]
fn a_released_connection_goes_to_the_waiting_fetch() {
    let wait = Some(WaitQueue { limit: 2, timeout: SimDuration::from_secs(10) });
    let (mut c, inst) = cx(ProxyConfig { max_connections: Some(1), wait, ..Default::default() }, 1, Some(ACCEPTED));
    on_request(&mut c, attempt(1), JOB);
    on_request(&mut c, attempt(2), JOB);
    assert_eq!(c.submitted.len(), 1, "the second fetch waits for the slot");
    let (_, wait_timer) = last_timer(&c, |t| matches!(t, ProxyTimer::WaitTimeout { .. }));
    c.base.at_secs(4);
    let first = c.submitted[0];
    on_backend(&mut c, first, BackendEvent::Complete { started_at: secs(0) });
    assert_eq!(c.submitted.len(), 2, "the waiter connected when the slot came back");
    assert_eq!(c.proxy.connections(0, inst[0]), 1);
    on_timer(&mut c, wait_timer);
    assert_eq!(c.responses.len(), 1, "the waiter's wait timeout went stale");
}

#[test]
fn a_probe_without_an_answer_times_out_as_a_bad_probe() {
    let probe = Some(ProbeConfig { initial: 8, ..Default::default() });
    let (mut c, inst) = cx(ProxyConfig { probe, ..Default::default() }, 1, Some(ACCEPTED));
    for round in 0..6 {
        c.timers.clear();
        on_timer(&mut c, ProxyTimer::Probe { pool: 0, inst: inst[0] });
        let (at, timeout) = last_timer(&c, |t| matches!(t, ProxyTimer::ProbeTimeout { .. }));
        assert_eq!(at, c.base.now + SimDuration::from_secs(2));
        assert_eq!(last_timer(&c, |t| matches!(t, ProxyTimer::Probe { .. })).0, c.base.now + SimDuration::from_secs(5));
        assert_eq!(c.proxy.healthy_count(0), 1, "still healthy before bad probe {}", round + 1);
        on_timer(&mut c, timeout);
    }
    assert_eq!(c.proxy.healthy_count(0), 0, "six bad probes make a full window sick");
    // An answered probe arms no timeout.
    c.probe_answer = Some(true);
    c.timers.clear();
    on_timer(&mut c, ProxyTimer::Probe { pool: 0, inst: inst[0] });
    assert!(!c.timers.iter().any(|(_, t)| matches!(t, ProxyTimer::ProbeTimeout { .. })));
}

#[test]
fn a_refused_connection_fails_at_once_and_vcl_may_retry_it() {
    let retry_on = OutcomeSet::parse_entry("connect_failed").expect("cause");
    let cfg = ProxyConfig { retry_on, max_retries: 1, ..Default::default() };
    let (mut c, _) = cx(cfg, 2, Some(BackendEvent::ConnectFailed));
    on_request(&mut c, attempt(1), JOB);
    assert_eq!(c.submitted.len(), 2, "one VCL retry on the other instance");
    let failed = Response::failed(Outcome::Status503(Cause::ConnectFailed), Some(SimDuration::from_secs(5)));
    assert_eq!(c.responses, [(attempt(1), failed)]);
    assert!(
        !c.timers.iter().any(|(_, t)| matches!(t, ProxyTimer::ConnectTimeout { .. })),
        "no connect timeout left armed"
    );
}

#[test]
fn a_backend_error_after_the_request_was_sent_fails_the_fetch_and_leaves_no_job_to_abandon() {
    // A real connection: the request is sent (accepted), then the backend's
    // own 503 arrives as its first byte.
    let cfg = ProxyConfig { max_retries: 0, ..Default::default() };
    let (mut c, _) = cx(cfg, 1, Some(ACCEPTED));
    on_request(&mut c, attempt(1), JOB);
    let fetch = c.submitted[0];
    c.base.at_secs(1);
    let full = BackendEvent::Refused {
        outcome: Outcome::Status503(Cause::BackendQueueFull),
        retry_after: Some(SimDuration::from_secs(30)),
    };
    on_backend(&mut c, fetch, full);
    let failed = Response::failed(Outcome::Status503(Cause::BackendQueueFull), Some(SimDuration::from_secs(30)));
    assert_eq!(c.responses, [(attempt(1), failed)]);
    assert!(c.abandoned.is_empty(), "the backend ended the job itself");
    // The first-byte timeout armed at acceptance is now stale.
    let (at, timer) = last_timer(&c, |t| matches!(t, ProxyTimer::FirstByteTimeout { .. }));
    c.base.now = at;
    on_timer(&mut c, timer);
    assert_eq!(c.responses.len(), 1);
    // A refusal once streaming has begun is stale too.
    on_backend(&mut c, fetch, full);
    assert_eq!(c.responses.len(), 1);
}
