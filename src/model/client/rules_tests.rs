//! The client rules, driven by hand through a recording context.

use super::*;
use crate::model::outcome::Cause;
use crate::model::testkit::{Base, test_env};
use crate::scenario::Scenario;

struct Cx<'a> {
    base: Base,
    clients: Clients<'a>,
    timers: Vec<(SimTime, ClientTimer)>,
    arrivals: Vec<(usize, SimTime)>,
    sent: Vec<(AttemptRef, JobSpec)>,
}
test_env!(Cx<'_>);

impl<'a> ClientCx<'a> for Cx<'a> {
    fn clients(&mut self) -> &mut Clients<'a> {
        &mut self.clients
    }
    fn wake(&mut self, at: SimTime, timer: ClientTimer) {
        self.timers.push((at, timer));
    }
    fn wake_arrival(&mut self, swarm: usize, at: SimTime) {
        self.arrivals.push((swarm, at));
    }
    fn send(&mut self, from: AttemptRef, job: JobSpec) {
        self.sent.push((from, job));
    }
}

/// One open-loop swarm with a 10 s client timeout and `strategy`.
fn scenario(strategy: &str) -> Scenario {
    scenario_timed(strategy, r#"timeout = "10s""#)
}

/// One open-loop swarm with `strategy` and `timeout` (a line of its table).
fn scenario_timed(strategy: &str, timeout: &str) -> Scenario {
    scenario_swarm(strategy, r#"arrivals = { process = "constant", rate = "1/s" }"#, timeout)
}

/// One swarm with `strategy`, `arrivals` and `timeout` (lines of its table).
fn scenario_swarm(strategy: &str, arrivals: &str, timeout: &str) -> Scenario {
    let text = format!(
        r#"
[scenario]
name = "t"
duration = "1h"
[pool.gpu]
slots = 1
[class.job]
pool = "gpu"
service = {{ dist = "constant", value = "5s" }}
[strategy.s]
{strategy}
[swarm.web]
class = "job"
{arrivals}
{timeout}
strategy = "s"
"#
    );
    Scenario::parse(&text, "t.toml").unwrap_or_else(|e| panic!("{e}"))
}

fn cx(sc: &Scenario) -> Cx<'_> {
    let cfg = ClientConfig { swarms: &sc.swarms, classes: &sc.classes, strategies: &sc.strategies, chaos: &sc.chaos };
    Cx {
        base: Base::default(),
        clients: Clients::new(cfg, 1),
        timers: Vec::new(),
        arrivals: Vec::new(),
        sent: Vec::new(),
    }
}

/// The record and number of an attempt the client holds a record for.
fn held(at: AttemptRef) -> (Key, u32) {
    match at.get() {
        Attempt::Held { req, attempt } => (req, attempt),
        Attempt::Carried { .. } => panic!("a swarm with a client timeout keeps a record per request"),
    }
}

/// Fires the client timeout of attempt `at`.
fn time_out(c: &mut Cx<'_>, at: AttemptRef) {
    let (req, attempt) = held(at);
    on_timeout(c, req, attempt);
}

fn secs(s: u64) -> SimTime {
    SimTime::ZERO + SimDuration::from_secs(s)
}

#[test]
fn an_arrival_sends_its_first_attempt_arms_the_client_timeout_and_draws_the_next_arrival() {
    let sc = scenario(r#"kind = "none""#);
    let mut c = cx(&sc);
    start(&mut c);
    assert_eq!(c.arrivals, [(0, secs(1))], "evenly spaced at 1/s");
    c.base.at_secs(1);
    on_arrival(&mut c, 0);
    assert_eq!(c.sent.len(), 1);
    let (at, job) = c.sent[0];
    assert_eq!((held(at).1, job.work), (1, SimDuration::from_secs(5)));
    assert_eq!(c.timers, [(secs(11), ClientTimer::Timeout { req: held(at).0, attempt: 1 })]);
    assert_eq!(c.arrivals.last(), Some(&(0, secs(2))));
}

#[test]
fn an_answer_after_the_client_gave_up_counts_as_wasted_work() {
    let sc = scenario(r#"kind = "none""#);
    let mut c = cx(&sc);
    on_arrival(&mut c, 0);
    let (at, _) = c.sent[0];
    c.base.at_secs(10);
    time_out(&mut c, at);
    assert_eq!(c.base.seen.attempts, [(0, Outcome::ClientTimeout, SimDuration::from_secs(10))]);
    assert_eq!(c.base.seen.done, [(0, false, 1)]);
    c.base.at_secs(30);
    let late = Response { outcome: Outcome::Ok, retry_after: None, work_started: Some(secs(20)) };
    on_response(&mut c, at, late);
    assert_eq!(c.base.seen.wasted, [(secs(20), secs(30))]);
    assert_eq!(c.base.seen.attempts.len(), 1, "the late answer is not an attempt outcome");
}

#[test]
fn a_failed_attempt_is_retried_after_its_backoff_and_an_answer_to_an_old_attempt_is_ignored() {
    let sc = scenario(
        r#"kind = "fixed"
delay = "2s"
max_attempts = 3"#,
    );
    let mut c = cx(&sc);
    on_arrival(&mut c, 0);
    let (first, _) = c.sent[0];
    c.base.at_secs(1);
    on_response(&mut c, first, Response::failed(Outcome::Status503(Cause::Busy), Some(SimDuration::from_secs(5))));
    assert_eq!(c.timers.last(), Some(&(secs(3), ClientTimer::Send { req: held(first).0 })), "Retry-After not honoured");
    c.base.at_secs(3);
    on_timer(&mut c, ClientTimer::Send { req: held(first).0 });
    let (second, _) = c.sent[1];
    assert_eq!(second, AttemptRef::held(held(first).0, 2));
    // The first attempt's timeout and a duplicate answer to it are stale.
    time_out(&mut c, first);
    on_response(&mut c, first, Response::failed(Outcome::Status429, None));
    assert_eq!(c.base.seen.attempts.len(), 1);
    c.base.at_secs(9);
    let ok = Response { outcome: Outcome::Ok, retry_after: None, work_started: Some(secs(4)) };
    on_response(&mut c, second, ok);
    assert_eq!(c.base.seen.done, [(0, true, 2)]);
    assert!(c.base.seen.wasted.is_empty());
}

const HEDGED: &str = r#"kind = "fixed"
delay = "1s"
max_attempts = 3
hedge_after = "2s""#;

fn hedges(c: &Cx<'_>) -> Vec<(SimTime, ClientTimer)> {
    c.timers.iter().copied().filter(|(_, t)| matches!(t, ClientTimer::Hedge { .. })).collect()
}

#[test]
fn a_hedge_goes_out_beside_a_slow_attempt_and_the_first_answer_cancels_the_other() {
    let sc = scenario(HEDGED);
    let mut c = cx(&sc);
    on_arrival(&mut c, 0);
    let (first, _) = c.sent[0];
    assert_eq!(hedges(&c), [(secs(2), ClientTimer::Hedge { req: held(first).0, attempt: 1 })]);
    c.base.at_secs(2);
    on_timer(&mut c, ClientTimer::Hedge { req: held(first).0, attempt: 1 });
    let (second, _) = c.sent[1];
    assert_eq!(second, AttemptRef::held(held(first).0, 2));
    assert!(c.timers.contains(&(secs(12), ClientTimer::Timeout { req: held(first).0, attempt: 2 })));
    assert!(c.timers.contains(&(secs(4), ClientTimer::Hedge { req: held(first).0, attempt: 2 })), "a third may follow");
    c.base.at_secs(3);
    on_response(&mut c, second, Response { outcome: Outcome::Ok, retry_after: None, work_started: Some(secs(2)) });
    let d = SimDuration::from_secs;
    assert_eq!(c.base.seen.attempts, [(0, Outcome::Ok, d(1)), (0, Outcome::Cancelled, d(3))]);
    assert_eq!(c.base.seen.done, [(0, true, 2)]);
    // The loser's answer, the stale timers: nobody listens any more.
    c.base.at_secs(4);
    on_timer(&mut c, ClientTimer::Hedge { req: held(first).0, attempt: 2 });
    on_response(&mut c, first, Response { outcome: Outcome::Ok, retry_after: None, work_started: Some(secs(0)) });
    assert_eq!(c.sent.len(), 2, "no hedge after the answer");
    assert_eq!(c.base.seen.wasted, [(secs(0), secs(4))], "the cancelled attempt's GPU time is wasted");
    assert_eq!(c.base.seen.attempts.len(), 2);
}

#[test]
fn a_hedged_request_retries_only_when_its_last_attempt_in_flight_fails() {
    let sc = scenario(HEDGED);
    let mut c = cx(&sc);
    on_arrival(&mut c, 0);
    let (first, _) = c.sent[0];
    c.base.at_secs(2);
    on_timer(&mut c, ClientTimer::Hedge { req: held(first).0, attempt: 1 });
    let (second, _) = c.sent[1];
    let busy = || Response::failed(Outcome::Status503(Cause::Busy), None);
    c.base.at_secs(3);
    on_response(&mut c, first, busy());
    assert!(!c.timers.iter().any(|(_, t)| matches!(t, ClientTimer::Send { .. })), "the hedge is still in flight");
    assert!(c.base.seen.done.is_empty());
    c.base.at_secs(5);
    on_response(&mut c, second, busy());
    assert_eq!(c.timers.last(), Some(&(secs(6), ClientTimer::Send { req: held(first).0 })), "then the backoff");
    c.base.at_secs(6);
    on_timer(&mut c, ClientTimer::Send { req: held(first).0 });
    assert_eq!(held(c.sent[2].0).1, 3);
    assert_eq!(hedges(&c).len(), 2, "the last attempt allowed arms no hedge");
    let third = c.sent[2].0;
    time_out(&mut c, third);
    assert_eq!(c.base.seen.done, [(0, false, 3)]);
}

#[test]
fn an_attempt_answered_before_hedge_after_sends_no_hedge() {
    let sc = scenario(HEDGED);
    let mut c = cx(&sc);
    on_arrival(&mut c, 0);
    let (first, _) = c.sent[0];
    c.base.at_secs(1);
    on_response(&mut c, first, Response { outcome: Outcome::Ok, retry_after: None, work_started: Some(secs(0)) });
    c.base.at_secs(2);
    on_timer(&mut c, ClientTimer::Hedge { req: held(first).0, attempt: 1 });
    assert_eq!(c.sent.len(), 1);
    assert_eq!(c.base.seen.done, [(0, true, 1)]);
}

#[test]
fn a_timer_is_pending_exactly_while_firing_it_could_still_do_something() {
    let sc = scenario(HEDGED);
    let mut c = cx(&sc);
    on_arrival(&mut c, 0);
    let (first, _) = c.sent[0];
    let timeout = |attempt| ClientTimer::Timeout { req: held(first).0, attempt };
    let hedge = |attempt| ClientTimer::Hedge { req: held(first).0, attempt };
    assert!(c.clients.timer_pending(&timeout(1)) && c.clients.timer_pending(&hedge(1)));
    c.base.at_secs(2);
    on_timer(&mut c, hedge(1));
    // The hedge's own timers, and the first attempt's timeout: it still listens.
    assert!([timeout(1), timeout(2), hedge(2)].iter().all(|t| c.clients.timer_pending(t)));
    assert!(!c.clients.timer_pending(&hedge(1)), "the first hedge went out");
    c.base.at_secs(3);
    on_response(&mut c, first, Response { outcome: Outcome::Ok, retry_after: None, work_started: Some(secs(0)) });
    assert_eq!(c.base.seen.done.len(), 1);
    let spent: Vec<ClientTimer> = c.timers.iter().map(|&(_, t)| t).filter(|t| !c.clients.timer_pending(t)).collect();
    assert_eq!(spent.len(), c.timers.len(), "every timer of an answered request is spent");
    // What the engine may drop really is a no-op.
    let (sent, timers, attempts) = (c.sent.len(), c.timers.len(), c.base.seen.attempts.len());
    for t in spent {
        on_timer(&mut c, t);
    }
    assert_eq!((c.sent.len(), c.timers.len(), c.base.seen.attempts.len()), (sent, timers, attempts));
}

#[test]
fn a_request_nothing_can_time_out_or_retry_keeps_no_record_and_ends_with_its_answer() {
    let sc = scenario_timed(r#"kind = "none""#, "");
    let mut c = cx(&sc);
    c.base.at_secs(1);
    on_arrival(&mut c, 0);
    let (at, job) = c.sent[0];
    assert_eq!(at.get(), Attempt::Carried { swarm: 0, measured: true, user: None, sent: secs(1) });
    assert_eq!(job.work, SimDuration::from_secs(5));
    assert!(c.timers.is_empty(), "nothing to time out");
    assert_eq!(c.clients.request_high_water(), 0, "no record");
    assert_eq!(c.clients.unfinished(), [1], "unfinished until answered, as with a record");
    c.base.at_secs(7);
    on_response(&mut c, at, Response::failed(Outcome::Status503(Cause::Busy), Some(SimDuration::from_secs(1))));
    assert_eq!(c.base.seen.attempts, [(0, Outcome::Status503(Cause::Busy), SimDuration::from_secs(6))]);
    assert_eq!(c.base.seen.done, [(0, false, 1)]);
    assert_eq!(c.clients.unfinished(), [0]);
    assert!(c.timers.is_empty(), "one attempt allowed: no retry");
}

#[test]
fn a_request_that_may_be_retried_or_timed_out_keeps_its_record() {
    let retrying = r#"kind = "fixed"
delay = "1s"
max_attempts = 2"#;
    let one = r#"kind = "none""#;
    let deadline = format!("{one}\ndeadline = \"30s\"");
    // (A hedging strategy allows two attempts or more: it is a retrying one.)
    for (strategy, timeout) in [(retrying, ""), (one, r#"timeout = "10s""#), (&deadline, "")] {
        let sc = scenario_timed(strategy, timeout);
        let mut c = cx(&sc);
        on_arrival(&mut c, 0);
        assert!(matches!(c.sent[0].0.get(), Attempt::Held { attempt: 1, .. }), "{strategy} {timeout}");
        assert_eq!(c.clients.request_high_water(), 1);
    }
}

#[test]
fn an_attempt_ref_reads_back_what_it_was_made_of() {
    let held = Attempt::Held { req: Key::from_bits(0x1234_5678_9abc_def0), attempt: u32::MAX };
    let widest =
        Attempt::Carried { swarm: u16::MAX, measured: true, user: Some(u32::MAX), sent: SimTime::from_nanos(u64::MAX) };
    let first_user = Attempt::Carried { swarm: 7, measured: false, user: Some(0), sent: secs(3) };
    let open = Attempt::Carried { swarm: 0, measured: false, user: None, sent: SimTime::ZERO };
    for at in [held, widest, first_user, open] {
        let r = match at {
            Attempt::Held { req, attempt } => AttemptRef::held(req, attempt),
            Attempt::Carried { swarm, measured, user, sent } => AttemptRef::carried(swarm, measured, user, sent),
        };
        assert_eq!(r.get(), at);
    }
}

#[test]
fn a_carried_request_of_a_closed_loop_user_sends_the_user_thinking_again() {
    let users = r#"arrivals = { process = "closed", users = 2, think = { dist = "constant", value = "3s" } }"#;
    let sc = scenario_swarm(r#"kind = "none""#, users, "");
    let mut c = cx(&sc);
    start(&mut c);
    c.timers.clear();
    on_timer(&mut c, ClientTimer::UserWake { swarm: 0, user: 1 });
    let (at, _) = c.sent[0];
    assert_eq!(at.get(), Attempt::Carried { swarm: 0, measured: true, user: Some(1), sent: SimTime::ZERO });
    c.base.at_secs(5);
    on_response(&mut c, at, Response { outcome: Outcome::Ok, retry_after: None, work_started: Some(SimTime::ZERO) });
    assert_eq!(c.base.seen.done, [(0, true, 1)]);
    assert_eq!(c.timers.last(), Some(&(secs(8), ClientTimer::UserWake { swarm: 0, user: 1 })), "thinks 3 s");
}
