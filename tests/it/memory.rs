//! Memory does not grow with simulated time.
//!
//! The engine's memory is proportional to the entities alive at once (requests,
//! attempts, bulk jobs, backend jobs, pending events); the only thing that
//! grows with the duration is one time-series row per window. A leak — an
//! attempt never removed, a job never freed — would make the high-water marks
//! grow in proportion to simulated time; in a system that is stationary after
//! its warm-up they grow only as slowly as the largest excursion of a queue.
//!
//! The time series does not stay in memory either: beyond a thousand rows
//! they move to a temporary file and come back unchanged, and charts draw
//! from a bounded overview.

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
        // A leak scales with the duration (4x or more here). The peak of a
        // stationary queue grows only with the log of it: M/M/10 at 90% load
        // adds ln(10)/ln(1/0.9) ≈ 22 requests on average from 2 h to 20 h,
        // and each peak scatters by about 12 (a Gumbel of scale 9.5).
        assert!(y as f64 <= 2.0 * x as f64 + 10.0, "{file}: {what} peaked at {x} over {short} but {y} over {long}");
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

#[test]
fn a_series_longer_than_memory_holds_reads_back_whole_and_charts_stay_bounded() {
    use stampede::metrics::{MAX_POINTS, Row};
    // 2 h of 5 s windows: 1,416 rows after the warmup, more than the 1,024 kept in memory.
    let mut sc = shipped("mmc-erlang.toml");
    sc.window = stampede::scenario::units::parse_duration("5s").expect("window");
    let run = simulate(&sc, 7).expect("the run finishes");
    let series = &run.recorder.series;
    let rows: Vec<Row> = series.rows().map(|r| r.into_owned()).collect();
    assert_eq!(rows.len(), 1416);
    assert_eq!(series.len(), rows.len());
    assert!(rows.windows(2).all(|w| w[0].end == w[1].start), "rows come back in order, none lost");
    assert_eq!(rows.iter().map(|r| r.counts.offered).sum::<u64>(), run.summary.requests.offered);
    // A clone reads the spill back too.
    assert!(series.clone().rows().eq(series.rows()));
    // The overview merged pairs of windows: half the points, the same totals.
    let points: Vec<&Row> = series.overview().rows().collect();
    assert_eq!(points.len(), rows.len() / 2);
    assert!(points.len() <= MAX_POINTS);
    assert_eq!(points.iter().map(|r| r.counts.succeeded).sum::<u64>(), run.summary.requests.succeeded);
    assert_eq!((points[0].start, points[points.len() - 1].end), (rows[0].start, rows[rows.len() - 1].end));
    let busy = |r: &Row| r.pools[0].busy_slots * (r.end - r.start).as_secs_f64();
    let (a, b) = (rows.iter().map(busy).sum::<f64>(), points.iter().map(|r| busy(r)).sum::<f64>());
    assert!((a - b).abs() <= 1e-9 * a, "busy slot-seconds {a} in rows, {b} in the overview");
}
