//! Memory does not grow with simulated time.
//!
//! The engine's memory is proportional to the entities alive at once (requests,
//! attempts, bulk jobs, backend jobs, pending events); the only thing that
//! grows with the duration is one time-series row per window. A leak — an
//! attempt never removed, a job never freed — would make the high-water marks
//! grow in proportion to simulated time; in a system that is stationary after
//! its warm-up they grow only as slowly as the largest excursion of a queue.

use stampede::engine::{HighWater, simulate};

use crate::support::shipped;

fn high_water(file: &str, duration: &str) -> HighWater {
    let mut sc = shipped(file);
    sc.duration = stampede::scenario::units::parse_duration(duration).expect("duration");
    simulate(&sc, 7).expect("the run finishes").high_water
}

fn assert_flat(file: &str, short: &str, long: &str) {
    let (a, b) = (high_water(file, short), high_water(file, long));
    for (what, x, y) in [
        ("requests", a.requests, b.requests),
        ("attempts", a.attempts, b.attempts),
        ("bulk jobs", a.bulk_jobs, b.bulk_jobs),
        ("backend jobs", a.backend_jobs, b.backend_jobs),
        ("pending events", a.pending_events, b.pending_events),
    ] {
        // A leak scales with the duration (4x or more here); the peak of a
        // stationary queue barely moves.
        assert!(y as f64 <= 1.5 * x as f64 + 10.0, "{file}: {what} peaked at {x} over {short} but {y} over {long}");
    }
}

#[test]
fn live_entities_do_not_grow_with_simulated_time() {
    assert_flat("mmc-erlang.toml", "2h", "20h");
    // The surge is in the first hour; afterwards the playground is steady.
    assert_flat("playground-img2img.toml", "1h", "4h");
    // Metastable: the storm's size is fixed by max_connections, not by time.
    assert_flat("retry-storm.toml", "40m", "3h");
    assert_flat("varnish-defaults.toml", "50m", "4h");
}
