//! A live run stopped early (Ctrl-C in the CLI) keeps what it measured, as a
//! run of the time that ran.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use stampede::live;
use stampede::time::SimDuration;

use crate::support::shipped;

/// Resolves at its `n`th poll: the world polls its stop future once per pass
/// of its loop, so this stops the run after `n` passes, whatever the clock.
struct AfterPolls(u32);

impl Future for AfterPolls {
    type Output = ();
    fn poll(mut self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<()> {
        self.0 = self.0.saturating_sub(1);
        if self.0 == 0 { Poll::Ready(()) } else { Poll::Pending }
    }
}

#[test]
fn a_live_run_stopped_early_reports_the_time_that_ran() {
    let mut sc = shipped("live-vs-sim.toml");
    sc.warmup = SimDuration::ZERO;
    let run = live::run_until(&sc, sc.seed, 40.0, AfterPolls(300)).expect("the live run");
    let s = &run.summary;
    assert!(s.engine.interrupted);
    assert!(s.duration_s > 0.0 && s.duration_s < sc.duration.as_secs_f64(), "{}", s.duration_s);
    let r = &s.requests;
    assert!(r.offered > 10, "{r:?}");
    assert_eq!(r.offered, r.succeeded + r.failed + r.unfinished, "every request is in one count");
    // Rates per second are over the time that ran, not the scenario's 20 minutes.
    let goodput = s.goodput.expect("some succeeded");
    assert!((goodput - r.succeeded as f64 / s.duration_s).abs() < 1e-6 * goodput, "{goodput} vs {r:?}");
    let last = run.recorder.series.rows().last().expect("a window");
    assert!(
        last.end
            <= stampede::time::SimTime::ZERO + SimDuration::from_secs_f64(s.duration_s) + SimDuration::from_nanos(1)
    );
}
