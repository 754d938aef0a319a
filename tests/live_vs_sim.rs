//! The live engine against the simulator: the same scenario, seed and models,
//! once in simulated time and once as HTTP servers and clients on loopback in
//! compressed real time. They must agree within the tolerances of
//! docs/live.md: the 503 rate within 3 percentage points, each cause's share
//! of attempts within 3 points, the median completion within 10%.
//!
//! A test binary of its own: cargo runs test binaries one after another, so
//! these two minutes of real time do not share the cores with the CPU-bound
//! tests of tests/it (under that load the live run drifted 2 points).

// The comparison table is printed for whoever reads the test log.
#![allow(clippy::print_stderr)]

use stampede::engine::simulate;
use stampede::live;
use stampede::metrics::summary::Summary;

use stampede::scenario::Scenario;

fn shipped(name: &str) -> Scenario {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios").join(name);
    Scenario::load(&path).unwrap_or_else(|e| panic!("{e}"))
}

/// Two minutes of real traffic: slow enough that loopback latency and
/// scheduling (about a millisecond per hop, 10 ms simulated) stay small
/// beside seconds of GPU work.
const TIME_SCALE: f64 = 10.0;

fn share(s: &Summary, cause: &str) -> f64 {
    // A share of the attempts that ended, as the 503 rate is.
    s.attempts.causes[cause] as f64 / (s.attempts.total - s.attempts.unfinished) as f64
}

/// Where `live` disagrees with `sim` beyond the tolerances, if anywhere.
fn disagreement(sim: &Summary, live: &Summary) -> Option<String> {
    let (r_sim, r_live) = (sim.rate_503.expect("attempts"), live.rate_503.expect("attempts"));
    eprintln!("                 sim      live");
    eprintln!("503 rate      {:6.2}%  {:6.2}%", r_sim * 100.0, r_live * 100.0);
    let mut off = Vec::new();
    // Idle runs differ by -1.1 to +0.5 points; the first run after a fresh
    // build by about -2.1 (docs/live.md): 3 points holds both.
    if (r_sim - r_live).abs() > 0.03 {
        off.push(format!("503 rate: sim {r_sim:.4}, live {r_live:.4}"));
    }
    for cause in sim.attempts.causes.keys() {
        let (a, b) = (share(sim, cause), share(live, cause));
        if a > 0.0 || b > 0.0 {
            eprintln!("  {cause:<22} {:6.2}%  {:6.2}%", a * 100.0, b * 100.0);
        }
        if (a - b).abs() > 0.03 {
            off.push(format!("{cause}: sim {a:.4}, live {b:.4}"));
        }
    }
    let (m_sim, m_live) = (sim.completion_ms.p50.expect("successes"), live.completion_ms.p50.expect("successes"));
    eprintln!("completion p50 {:6.0}ms {:6.0}ms", m_sim, m_live);
    if (m_live / m_sim - 1.0).abs() > 0.10 {
        off.push(format!("median completion: sim {m_sim} ms, live {m_live} ms"));
    }
    let (s_sim, s_live) = (sim.success_rate.expect("offered"), live.success_rate.expect("offered"));
    eprintln!("success rate  {:6.2}%  {:6.2}%", s_sim * 100.0, s_live * 100.0);
    let lag = live.engine.timer_lag_ms.as_ref().expect("a live run times its timers");
    eprintln!("timers late   p99 {:?} ms, max {:?} ms (simulated)", lag.p99, lag.max);
    if let Some(why) = live.engine.fell_behind() {
        off.push(why);
    }
    (!off.is_empty()).then(|| off.join("; "))
}

#[test]
fn the_live_engine_agrees_with_the_simulator_on_the_reference_scenario() {
    let sc = shipped("live-vs-sim.toml");
    let sim = simulate(&sc, sc.seed).expect("the simulation finishes").summary;
    let live = || live::run(&sc, sc.seed, TIME_SCALE).expect("the live run finishes").summary;
    let first = live();

    // The scenario must exercise what it is meant to compare.
    assert!(sim.attempts.causes["busy"] > 200 && sim.attempts.causes["first_byte_timeout"] > 5, "{:?}", sim.attempts);
    assert_eq!(first.requests.offered, sim.requests.offered, "the same arrivals: the models draw the same numbers");
    let lag = first.engine.timer_lag_ms.as_ref().expect("a live run times its timers");
    assert!(lag.count > first.requests.offered, "every arrival is a timer: {lag:?}");
    assert!(!first.engine.interrupted, "a run to the end is not marked stopped");

    // The run right after a fresh build now and then drifts past a tolerance
    // for a reason not found yet (docs/live.md), while an engine that
    // disagrees does so on every run: a run that is off gets a second, which
    // decides.
    if let Some(off) = disagreement(&sim, &first) {
        eprintln!("the first live run is off ({off}); a second run decides");
        if let Some(off) = disagreement(&sim, &live()) {
            panic!("two live runs in a row disagree with the simulator; the second: {off}");
        }
    }
}
