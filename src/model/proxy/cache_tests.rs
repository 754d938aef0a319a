//! The cache rules, driven by hand through the recording context of
//! `rules_tests`: lookups, waiting lists, grace, hit-for-miss, errors kept
//! for waiters, workspace overflow.

use super::rules_tests::{ACCEPTED, Cx, JOB, attempt, cx, secs};
use super::*;
use crate::model::client::{JobSpec, Response};
use crate::model::outcome::{Cause, Outcome};

const OBJ: JobSpec = JobSpec { object: Some(7), ..JOB };
const TTL: SimDuration = SimDuration::from_secs(120);
const GRACE: SimDuration = SimDuration::from_secs(10);

fn cached(cacheable: f64) -> ProxyConfig {
    let policy = CachePolicy { cacheable, size: 1000, ttl: TTL, grace: GRACE, hit_for_miss: TTL };
    ProxyConfig { classes: vec![ClassRules { cache: Some(policy), ..Default::default() }], ..Default::default() }
}

fn ok_from_cache() -> Response {
    Response { outcome: Outcome::Ok, retry_after: None, work_started: None }
}

fn events(c: &Cx) -> Vec<CacheEvent> {
    c.base.seen.cache.iter().map(|e| e.1).collect()
}

/// Completes the backend job of the last submitted fetch.
fn complete_last(c: &mut Cx) {
    let fetch = *c.submitted.last().expect("a fetch");
    let started_at = c.base.now;
    on_backend(c, fetch, BackendEvent::Complete { started_at });
}

#[test]
fn n_concurrent_misses_for_one_object_make_exactly_one_backend_fetch() {
    let (mut c, _) = cx(cached(1.0), 1, Some(ACCEPTED));
    for n in 1..=10 {
        on_request(&mut c, attempt(n), OBJ);
    }
    assert_eq!(c.submitted.len(), 1, "one fetch, nine on its waiting list");
    assert!(c.responses.is_empty());
    assert_eq!(c.proxy.sessions(), 10, "waiters keep their sessions");
    c.base.at_secs(4);
    complete_last(&mut c);
    assert_eq!(c.responses.len(), 10);
    assert_eq!(c.responses[0].1.work_started, Some(secs(4)), "the fetching request's own 200");
    assert!(c.responses[1..].iter().all(|(_, r)| *r == ok_from_cache()));
    let mut want = vec![CacheEvent::Miss];
    want.extend([CacheEvent::Coalesced; 9]);
    assert_eq!(events(&c), want);
    // Nine requests answered from the cache spared nine jobs' work.
    let saved: SimDuration = c.base.seen.cache.iter().map(|e| e.2).fold(SimDuration::ZERO, |a, b| a + b);
    assert_eq!(saved, SimDuration::from_secs(45));
    assert_eq!(c.proxy.sessions(), 0);
    // Later requests are hits, with no fetch.
    on_request(&mut c, attempt(11), OBJ);
    assert_eq!((c.submitted.len(), c.responses[10].1), (1, ok_from_cache()));
    assert_eq!(c.base.seen.fetches.len(), 1);
}

#[test]
fn an_uncached_class_or_a_request_without_object_is_passed() {
    let (mut c, _) = cx(cached(1.0), 1, Some(ACCEPTED));
    on_request(&mut c, attempt(1), JOB);
    on_request(&mut c, attempt(2), JOB);
    assert_eq!(c.submitted.len(), 2);
    let (mut c, _) = cx(ProxyConfig::default(), 1, Some(ACCEPTED));
    on_request(&mut c, attempt(1), OBJ);
    on_request(&mut c, attempt(2), OBJ);
    assert_eq!(c.submitted.len(), 2);
    assert!(c.base.seen.cache.is_empty());
}

#[test]
fn grace_serves_stale_with_one_background_fetch_during_an_outage_and_stops_after_grace() {
    let (mut c, _) = cx(cached(1.0), 1, Some(ACCEPTED));
    on_request(&mut c, attempt(1), OBJ);
    complete_last(&mut c);
    // The backend host dies: connects are never answered.
    c.answer = None;
    c.base.at_secs(125);
    on_request(&mut c, attempt(2), OBJ);
    assert_eq!(c.responses[1], (attempt(2), ok_from_cache()), "stale, answered at once");
    assert_eq!(c.submitted.len(), 2, "one background fetch refreshes it");
    c.base.at_secs(126);
    on_request(&mut c, attempt(3), OBJ);
    assert_eq!((c.submitted.len(), c.responses.len()), (2, 3), "no second refresh while one runs");
    // The refresh fails at its connect timeout; the stale object stays.
    let (at, timer) =
        *c.timers.iter().rev().find(|(_, t)| matches!(t, ProxyTimer::ConnectTimeout { .. })).expect("armed");
    c.base.now = at;
    on_timer(&mut c, timer);
    assert_eq!(c.responses.len(), 3, "a background fetch answers nobody");
    c.base.at_secs(129);
    on_request(&mut c, attempt(4), OBJ);
    assert_eq!((c.submitted.len(), c.responses[3].1), (3, ok_from_cache()), "a new refresh");
    // Past grace (120 s + 10 s) nothing stale is served: the request waits for the fetch.
    c.base.at_secs(130);
    on_request(&mut c, attempt(5), OBJ);
    assert_eq!(c.responses.len(), 4);
    let (at, timer) =
        *c.timers.iter().rev().find(|(_, t)| matches!(t, ProxyTimer::ConnectTimeout { .. })).expect("armed");
    c.base.now = at;
    on_timer(&mut c, timer);
    let failed = Response::failed(Outcome::Status503(Cause::ConnectTimeout), Some(SimDuration::from_secs(5)));
    assert_eq!(c.responses[4], (attempt(5), failed));
    let grace: Vec<SimDuration> = c.base.seen.cache.iter().filter(|e| e.1 == CacheEvent::Grace).map(|e| e.2).collect();
    assert_eq!(grace.len(), 3);
    // Only the grace hit that found a refresh under way spared GPU work: the
    // two that started one left the backend the same job.
    assert_eq!(grace, [SimDuration::ZERO, SimDuration::from_secs(5), SimDuration::ZERO]);
}

#[test]
fn a_failed_fetch_with_waiters_is_kept_one_second_and_five_of_grace() {
    let (mut c, _) = cx(cached(1.0), 1, None);
    on_request(&mut c, attempt(1), OBJ);
    on_request(&mut c, attempt(2), OBJ);
    let (at, timer) =
        *c.timers.iter().rev().find(|(_, t)| matches!(t, ProxyTimer::ConnectTimeout { .. })).expect("armed");
    c.base.now = at;
    on_timer(&mut c, timer);
    let failed = Response::failed(Outcome::Status503(Cause::ConnectTimeout), Some(SimDuration::from_secs(5)));
    assert_eq!(c.responses, [(attempt(1), failed), (attempt(2), failed)], "the waiter gets the kept error");
    // Within its second, a new request gets it too, without a fetch.
    c.base.now = at + SimDuration::from_millis(900);
    on_request(&mut c, attempt(3), OBJ);
    assert_eq!((c.submitted.len(), c.responses[2].1), (1, failed));
    // Then within its grace it is served while one fetch tries again.
    c.base.now = at + SimDuration::from_secs(2);
    on_request(&mut c, attempt(4), OBJ);
    assert_eq!((c.submitted.len(), c.responses[3].1), (2, failed));

    // Without waiters an error is not kept at all.
    let (mut c, _) = cx(cached(1.0), 1, Some(BackendEvent::ConnectFailed));
    on_request(&mut c, attempt(1), OBJ);
    on_request(&mut c, attempt(2), OBJ);
    assert_eq!(c.submitted.len(), 2);
}

#[test]
fn hit_for_miss_fetches_are_not_coalesced() {
    let (mut c, _) = cx(cached(0.0), 1, Some(ACCEPTED));
    on_request(&mut c, attempt(1), OBJ);
    on_request(&mut c, attempt(2), OBJ);
    assert_eq!(c.submitted.len(), 1, "until the response says uncacheable, the object is busy");
    complete_last(&mut c);
    assert_eq!(c.submitted.len(), 2, "the woken waiter finds hit-for-miss and fetches on its own");
    for n in 3..=5 {
        on_request(&mut c, attempt(n), OBJ);
    }
    assert_eq!(c.submitted.len(), 5, "each request its own fetch, none waits");
    let hfm = events(&c).iter().filter(|e| **e == CacheEvent::HitForMiss).count();
    assert_eq!(hfm, 4);
    // Until the marker expires.
    c.base.at_secs(121);
    on_request(&mut c, attempt(6), OBJ);
    on_request(&mut c, attempt(7), OBJ);
    assert_eq!(c.submitted.len(), 6, "a miss again: coalesced");
}

#[test]
fn the_backend_s_own_503_makes_the_object_hit_for_miss() {
    let full = BackendEvent::Refused { outcome: Outcome::Status503(Cause::BackendQueueFull), retry_after: None };
    let (mut c, _) = cx(cached(1.0), 1, Some(full));
    on_request(&mut c, attempt(1), OBJ);
    c.answer = Some(ACCEPTED);
    on_request(&mut c, attempt(2), OBJ);
    on_request(&mut c, attempt(3), OBJ);
    assert_eq!(c.submitted.len(), 3, "no ttl, so hit-for-miss for 120 s: nothing coalesces");
}

#[test]
fn headers_beyond_the_workspace_fail_as_overflow_after_the_work() {
    let rules = ClassRules { headers: 40 << 10, largest_header: 1 << 10, cache: None };
    let cfg = ProxyConfig { classes: vec![rules], ..Default::default() };
    assert!(cfg.overflows(0));
    let (mut c, _) = cx(cfg, 1, Some(ACCEPTED));
    on_request(&mut c, attempt(1), JOB);
    c.base.at_secs(5);
    let fetch = c.submitted[0];
    on_backend(&mut c, fetch, BackendEvent::Complete { started_at: secs(1) });
    let failed = Response::failed(Outcome::Status503(Cause::Overflow), Some(SimDuration::from_secs(5)));
    assert_eq!(c.responses, [(attempt(1), failed)]);
    assert_eq!(c.base.seen.wasted, [(secs(1), secs(5))], "the job's GPU time is wasted");
    let rules = ClassRules { headers: 9 << 10, largest_header: 9 << 10, cache: None };
    let cfg = ProxyConfig { classes: vec![rules], ..Default::default() };
    assert!(cfg.overflows(0), "one header line beyond http_resp_hdr_len");
}
