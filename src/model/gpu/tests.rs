//! The pool's bookkeeping, transition by transition.

use super::*;
use crate::rng::{Stream, stream};

fn cfg(slots: u32, queue_limit: Option<u32>, cancel: bool) -> PoolConfig {
    PoolConfig {
        name: "gpu".into(),
        slots,
        queue_limit,
        queue_full_status: QueueFullStatus::S503,
        retry_after: None,
        min_instances: 1,
        max_instances: 4,
        initial_instances: 1,
        cold_start: SimDuration::from_secs(120),
        cancel_on_abandon: cancel,
        deregister_delay: SimDuration::from_secs(30),
        autoscaler: None,
        load: None,
        discipline: QueueDiscipline::Fifo,
        max_queue_wait: None,
        priority: None,
    }
}
fn new_pool(c: PoolConfig) -> (Pool, Vec<Key>) {
    let p = Pool::new(c);
    let ready = p.ready_instances().collect();
    (p, ready)
}
fn t(s: u64) -> SimTime {
    SimTime::ZERO + SimDuration::from_secs(s)
}
fn d(s: u64) -> SimDuration {
    SimDuration::from_secs(s)
}

#[test]
fn slots_then_queue_then_rejection() {
    let (mut p, inst) = new_pool(cfg(1, Some(1), false));
    let i = inst[0];
    assert!(
        matches!(p.submit(t(0), i, d(10), 1, 1), Admit::Started { wake: Some(Wake { at, .. }), .. } if at == t(10))
    );
    assert!(matches!(p.submit(t(0), i, d(10), 1, 2), Admit::Queued { .. }));
    assert_eq!(p.submit(t(0), i, d(10), 1, 3), Admit::Rejected(Reject::QueueFull));
}

#[test]
fn completion_promotes_the_queued_job_and_reports_its_wait() {
    let (mut p, inst) = new_pool(cfg(1, None, false));
    let Admit::Started { job, wake: Some(w) } = p.submit(t(0), inst[0], d(10), 1, 1) else { panic!("start") };
    p.submit(t(4), inst[0], d(5), 1, 2);
    let m = p.on_milestone(w.at, job, w.epoch).expect("fresh");
    assert!(m.complete && m.token == Some(1) && m.ran == d(10));
    let pr = m.promoted.expect("queued job starts");
    assert_eq!((pr.token, pr.queued_for, pr.wake.map(|w| w.at)), (Some(2), d(6), Some(t(15))));
}

#[test]
fn a_new_instance_is_not_ready_before_its_cold_start() {
    let (mut p, _) = new_pool(cfg(1, None, false));
    let (k, ready_at) = p.add_instance(t(100));
    assert_eq!(ready_at, t(220));
    assert_eq!(p.state(k), Some(InstanceState::Provisioning));
    assert_eq!(p.probe_answer(k), ProbeAnswer::Bad);
    assert_eq!((p.ready_count(), p.provisioning_count()), (1, 1));
    assert!(p.mark_ready(ready_at, k));
    assert_eq!((p.ready_count(), p.provisioning_count()), (2, 0));
}

#[test]
fn abandoned_work_keeps_running_unless_cancellation_is_on() {
    for cancel in [false, true] {
        let (mut p, inst) = new_pool(cfg(1, None, cancel));
        let Admit::Started { job, wake: Some(w) } = p.submit(t(0), inst[0], d(90), 1, 7) else { panic!() };
        let a = p.abandon(t(60), job).expect("live");
        if cancel {
            assert_eq!(a.stopped.map(|s| s.ran), Some(d(60)));
            assert_eq!(p.on_milestone(w.at, job, w.epoch), None);
            assert_eq!(p.gauges.busy_slots.value(), 0);
        } else {
            assert_eq!(a.stopped, None);
            let m = p.on_milestone(w.at, job, w.epoch).expect("still runs");
            assert_eq!((m.token, m.ran), (None, d(90)));
        }
    }
}

#[test]
fn slowdown_and_stall_stretch_the_remaining_work() {
    let (mut p, inst) = new_pool(cfg(1, None, false));
    let Admit::Started { job, .. } = p.submit(t(0), inst[0], d(10), 1, 1) else { panic!() };
    let mut wakes = Vec::new();
    p.set_speed(t(4), 2.0, 0, &mut wakes); // 6 s of work left, at half speed
    assert_eq!(wakes[0].at, t(16));
    wakes.clear();
    p.set_speed(t(6), 2.0, 1, &mut wakes); // stalled with 5 s of work left
    assert!(wakes.is_empty());
    p.set_speed(t(100), 1.0, 0, &mut wakes);
    assert_eq!(wakes[0].at, t(105));
    let m = p.on_milestone(wakes[0].at, job, wakes[0].epoch).expect("fresh");
    assert!(m.complete);
}

#[test]
fn streamed_job_hits_evenly_spaced_milestones() {
    let (mut p, inst) = new_pool(cfg(1, None, false));
    let Admit::Started { job, wake: Some(mut w) } = p.submit(t(0), inst[0], d(12), 4, 1) else { panic!() };
    let mut times = vec![w.at];
    loop {
        let m = p.on_milestone(w.at, job, w.epoch).expect("fresh");
        if m.complete {
            break;
        }
        w = m.next.expect("more");
        times.push(w.at);
    }
    assert_eq!(times, [t(3), t(6), t(9), t(12)]);
}

#[test]
fn killing_loses_the_jobs_and_the_instance_stops_billing() {
    let (mut p, inst) = new_pool(cfg(1, None, false));
    p.submit(t(0), inst[0], d(10), 1, 1);
    p.submit(t(0), inst[0], d(10), 1, 2);
    let mut lost = Vec::new();
    let killed = p.kill(t(3), 5, &mut stream(1, Stream::Pool { pool: 0 }), &mut lost);
    assert_eq!(killed, inst);
    assert_eq!(lost.iter().map(|s| (s.token, s.ran)).collect::<Vec<_>>(), [(Some(1), d(3)), (Some(2), d(0))]);
    assert_eq!(p.probe_answer(inst[0]), ProbeAnswer::NoAnswer);
    assert_eq!((p.ready_count(), p.gauges.billed.value(), p.job_count()), (0, 0, 0));
}

#[test]
fn a_draining_instance_keeps_serving_slots_but_leaves_the_autoscalers_metric() {
    let (mut p, inst) = new_pool(cfg(1, None, false));
    p.submit(t(0), inst[0], d(10), 1, 1);
    assert!(!p.retire(t(1), inst[0]));
    let g = p.gauges;
    assert_eq!((g.busy_slots.value(), g.serving_slots.value()), (1, 1), "busy never exceeds serving");
    assert_eq!((g.busy_ready.value(), g.ready_slots.value()), (0, 0), "an HPA leaves terminating pods out");
}

#[test]
fn a_draining_instance_stops_after_its_last_job() {
    let (mut p, inst) = new_pool(cfg(1, None, false));
    let Admit::Started { job, wake: Some(w) } = p.submit(t(0), inst[0], d(10), 1, 1) else { panic!() };
    assert!(!p.retire(t(1), inst[0]));
    assert_eq!(p.gauges.billed.value(), 1);
    let m = p.on_milestone(w.at, job, w.epoch).expect("fresh");
    assert_eq!(m.stopped, Some(inst[0]));
    assert_eq!((p.gauges.billed.value(), p.gauges.serving_slots.value()), (0, 0));
}

mod load {
    use super::*;
    use crate::model::load::{LoadCurve, LoadModel};

    fn loaded(curve: LoadCurve) -> (Pool, Key) {
        let mut c = cfg(100, None, true);
        c.load = Some(LoadModel { curve, count_queued: false });
        let (p, inst) = new_pool(c);
        (p, inst[0])
    }

    /// Runs every milestone in time order; returns (token, completion time).
    fn run(p: &mut Pool) -> Vec<(u64, SimTime)> {
        let mut wakes = Vec::new();
        p.drain_wakes(&mut wakes);
        let mut done = Vec::new();
        while !wakes.is_empty() {
            wakes.sort_by_key(|w| w.at);
            let w = wakes.remove(0);
            if let Some(m) = p.on_milestone(w.at, w.job, w.epoch)
                && m.complete
            {
                done.push((m.token.expect("waited for"), w.at));
            }
            p.drain_wakes(&mut wakes);
        }
        done
    }

    #[test]
    fn above_the_knee_every_job_in_service_is_factor_times_slower() {
        let (mut p, i) = loaded(LoadCurve::Knee { knee: 1, factor: 2.0 });
        p.submit(t(0), i, d(10), 1, 1);
        p.submit(t(0), i, d(4), 1, 2);
        // Both at half speed: the 4 s job ends at 8 s, then the other runs
        // alone at full speed with 6 s of work left.
        assert_eq!(run(&mut p), [(2, t(8)), (1, t(14))]);
    }

    #[test]
    fn a_linear_slope_of_one_per_job_is_processor_sharing() {
        let (mut p, i) = loaded(LoadCurve::Linear { knee: 1, slope: 1.0 });
        for (tok, w) in [(1, 1), (2, 2), (3, 3)] {
            p.submit(t(0), i, d(w), 1, tok);
        }
        // Three share one server: 1 s of work each by 3 s; then two share:
        // job 2's last second takes 2 s; job 3's last second runs alone.
        assert_eq!(run(&mut p), [(1, t(3)), (2, t(5)), (3, t(6))]);
    }

    #[test]
    fn a_cancelled_head_hands_its_wake_up_to_the_next_job() {
        let (mut p, i) = loaded(LoadCurve::Knee { knee: 1, factor: 2.0 });
        let Admit::Started { job: short, .. } = p.submit(t(0), i, d(2), 1, 1) else { panic!() };
        p.submit(t(0), i, d(10), 1, 2);
        // At 2 s each has had 1 s of work; the short one is cancelled and
        // the other runs alone: 9 s left at full speed.
        p.abandon(t(2), short);
        assert_eq!(run(&mut p), [(2, t(11))]);
    }

    #[test]
    fn a_stall_freezes_the_shared_clock() {
        let (mut p, i) = loaded(LoadCurve::Knee { knee: 5, factor: 2.0 });
        p.submit(t(0), i, d(10), 1, 1);
        let mut wakes = Vec::new();
        p.drain_wakes(&mut wakes); // the first wake-up goes stale with the stall
        wakes.clear();
        p.set_speed(t(4), 1.0, 1, &mut wakes);
        assert!(wakes.is_empty());
        p.set_speed(t(20), 1.0, 0, &mut wakes);
        assert_eq!(wakes.iter().map(|w| w.at).collect::<Vec<_>>(), [t(26)]);
        p.pending = wakes;
        assert_eq!(run(&mut p), [(1, t(26))]);
    }
}

#[test]
fn lifo_serves_the_newest_queued_job_and_adaptive_lifo_only_once_the_queue_stands() {
    let order = |discipline: QueueDiscipline| {
        let mut c = cfg(1, None, false);
        c.discipline = discipline;
        let (mut p, inst) = new_pool(c);
        let Admit::Started { job, wake: Some(w) } = p.submit(t(0), inst[0], d(10), 1, 1) else { panic!() };
        for token in 2..=4 {
            p.submit(t(token), inst[0], d(10), 1, token);
        }
        let m = p.on_milestone(w.at, job, w.epoch).expect("fresh");
        m.promoted.expect("a queued job starts").token
    };
    assert_eq!(order(QueueDiscipline::Fifo), Some(2));
    assert_eq!(order(QueueDiscipline::Lifo), Some(4));
    // At t = 10 the oldest queued job has waited 8 s.
    assert_eq!(order(QueueDiscipline::AdaptiveLifo { after: d(9) }), Some(2));
    assert_eq!(order(QueueDiscipline::AdaptiveLifo { after: d(7) }), Some(4));
}

#[test]
fn jobs_that_waited_past_max_queue_wait_are_dropped_when_a_slot_frees() {
    let mut c = cfg(1, None, false);
    c.max_queue_wait = Some(d(5));
    let (mut p, inst) = new_pool(c);
    let Admit::Started { job, wake: Some(w) } = p.submit(t(0), inst[0], d(10), 1, 1) else { panic!() };
    p.submit(t(1), inst[0], d(10), 1, 2); // waits 9 s by t = 10
    p.submit(t(6), inst[0], d(10), 1, 3); // waits 4 s
    let m = p.on_milestone(w.at, job, w.epoch).expect("fresh");
    assert_eq!(m.promoted.map(|pr| pr.token), Some(Some(3)));
    let mut dropped = Vec::new();
    p.drain_dropped(&mut dropped);
    assert_eq!(dropped, [2]);
    assert_eq!((p.gauges.queued.value(), p.job_count()), (0, 1));
}

/// Runs the job that holds the only slot to completion and says which queued
/// job (by token) took the slot next.
fn next_served(p: &mut Pool, job: Key, w: Wake) -> Option<u64> {
    p.on_milestone(w.at, job, w.epoch).expect("fresh").promoted.expect("a queued job starts").token
}

#[test]
fn higher_tiers_are_served_first_and_fifo_within_a_tier() {
    let mut c = cfg(1, None, false);
    c.priority = Some(Priority { tiers: 3, serve_first: true, shed_at: vec![] });
    let (mut p, inst) = new_pool(c);
    let Admit::Started { job, wake: Some(w) } = p.submit_tier(t(0), inst[0], d(10), 1, 1, 2) else { panic!() };
    // Queued in the order 2 (tier 2), 3 (tier 1), 4 (tier 0), 5 (tier 1).
    for (token, tier) in [(2, 2), (3, 1), (4, 0), (5, 1)] {
        assert!(matches!(p.submit_tier(t(token), inst[0], d(10), 1, token, tier), Admit::Queued { .. }));
    }
    // Each promoted job runs 10 s; follow the chain of promotions.
    let mut order = vec![next_served(&mut p, job, w).expect("a waiting client")];
    let mut at = t(20);
    while p.gauges.queued.value() > 0 {
        let (k, j) = p.jobs.iter().find(|(_, j)| j.state == JobState::Running).expect("one runs");
        let w = Wake { job: k, epoch: j.epoch, at };
        order.push(next_served(&mut p, k, w).expect("a waiting client"));
        at += d(10);
    }
    assert_eq!(order, [4, 3, 5, 2]);
}

#[test]
fn without_serve_first_tiers_share_one_queue_in_arrival_order() {
    let mut c = cfg(1, None, false);
    c.priority = Some(Priority { tiers: 2, serve_first: false, shed_at: vec![None, None] });
    let (mut p, inst) = new_pool(c);
    let Admit::Started { job, wake: Some(w) } = p.submit_tier(t(0), inst[0], d(10), 1, 1, 0) else { panic!() };
    p.submit_tier(t(1), inst[0], d(10), 1, 2, 1);
    p.submit_tier(t(2), inst[0], d(10), 1, 3, 0);
    assert_eq!(next_served(&mut p, job, w), Some(2));
}

#[test]
fn a_lower_tier_is_shed_at_its_threshold_while_a_higher_one_still_queues() {
    let mut c = cfg(1, Some(3), false);
    c.priority = Some(Priority { tiers: 2, serve_first: true, shed_at: vec![None, Some(1)] });
    let (mut p, inst) = new_pool(c);
    let i = inst[0];
    assert!(matches!(p.submit_tier(t(0), i, d(10), 1, 1, 1), Admit::Started { .. }), "a free slot takes any tier");
    assert!(matches!(p.submit_tier(t(0), i, d(10), 1, 2, 1), Admit::Queued { .. }), "queue 0 < 1");
    assert_eq!(p.submit_tier(t(0), i, d(10), 1, 3, 1), Admit::Rejected(Reject::Shed), "queue 1 >= 1");
    assert!(matches!(p.submit_tier(t(0), i, d(10), 1, 4, 0), Admit::Queued { .. }));
    assert!(matches!(p.submit_tier(t(0), i, d(10), 1, 5, 0), Admit::Queued { .. }));
    assert_eq!(p.submit_tier(t(0), i, d(10), 1, 6, 0), Admit::Rejected(Reject::QueueFull), "the limit binds all");
}

#[test]
fn max_queue_wait_drops_in_every_tier_and_the_highest_live_tier_is_served() {
    let mut c = cfg(1, None, false);
    c.max_queue_wait = Some(d(5));
    c.priority = Some(Priority { tiers: 2, serve_first: true, shed_at: vec![] });
    let (mut p, inst) = new_pool(c);
    let Admit::Started { job, wake: Some(w) } = p.submit_tier(t(0), inst[0], d(10), 1, 1, 0) else { panic!() };
    p.submit_tier(t(1), inst[0], d(10), 1, 2, 0); // tier 0, waits 9 s by t = 10: dropped
    p.submit_tier(t(2), inst[0], d(10), 1, 3, 1); // tier 1, waits 8 s: dropped
    p.submit_tier(t(6), inst[0], d(10), 1, 4, 1); // tier 1, waits 4 s: served
    assert_eq!(next_served(&mut p, job, w), Some(4));
    let mut dropped = Vec::new();
    p.drain_dropped(&mut dropped);
    assert_eq!(dropped, [2, 3]);
    assert_eq!(p.gauges.queued.value(), 0);
}

#[test]
fn an_impatient_client_leaves_the_queue_but_never_a_job_in_service() {
    let (mut p, inst) = new_pool(cfg(1, None, false));
    let Admit::Started { job: running, wake: Some(w) } = p.submit(t(0), inst[0], d(10), 1, 1) else { panic!() };
    let Admit::Queued { job: first } = p.submit(t(1), inst[0], d(10), 1, 2) else { panic!() };
    let Admit::Queued { job: second } = p.submit(t(2), inst[0], d(10), 1, 3) else { panic!() };
    assert_eq!(p.renege(t(3), running), None, "in service: stays");
    assert_eq!(p.renege(t(4), first), Some(2));
    assert_eq!(p.renege(t(5), first), None, "gone already");
    assert_eq!((p.gauges.queued.value(), p.job_count()), (1, 2));
    // The freed slot skips the abandoned job's stale key.
    assert_eq!(next_served(&mut p, running, w), Some(3));
    assert_eq!(p.renege(t(11), second), None, "it started before its client gave up");
}

/// A job's remaining work after `c` of its chunks is the exact floor of
/// work × (chunks − c) / chunks, whether the product fits in 64 bits or not.
#[test]
fn remaining_work_after_each_chunk_is_exact_beyond_64_bits() {
    for work in [0, 1, 999, 1_000_000_007, u64::MAX / 3, u64::MAX] {
        for chunks in [1u32, 2, 3, 7, 1000] {
            for c in 0..=chunks.min(9) {
                let exact = u128::from(work) * u128::from(chunks - c) / u128::from(chunks);
                assert_eq!(u128::from(Pool::remaining_after(work, chunks, c)), exact, "{work} {chunks} {c}");
            }
        }
    }
}
