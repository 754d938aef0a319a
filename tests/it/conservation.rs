//! Conservation: every request and every attempt is counted exactly once, and
//! the time series adds up to the summary.

use stampede::engine::{Run, simulate};
use stampede::metrics::summary::Summary;
use stampede::model::outcome::Outcome;
use stampede::scenario::Scenario;

use crate::support::{run, shipped};

/// Every shipped scenario plus a closed-loop bulk one, each with its own seed.
fn runs() -> Vec<(Scenario, Run)> {
    let mut v: Vec<(Scenario, Run)> =
        ["playground-img2img.toml", "varnish-defaults.toml", "retry-storm.toml", "mmc-erlang.toml"]
            .into_iter()
            .map(|f| {
                let sc = shipped(f);
                let r = simulate(&sc, sc.seed).expect("the run finishes");
                (sc, r)
            })
            .collect();
    let sc = crate::support::scenario(CLOSED_BULK);
    let r = simulate(&sc, 5).expect("the run finishes");
    v.push((sc, r));
    v
}

/// Closed-loop bulk users against a small pool, with a kill and VCL retries:
/// paths the shipped files do not all take.
const CLOSED_BULK: &str = r#"
[scenario]
name = "closed-bulk"
duration = "30m"
warmup = "1m"
window = "45s"

[proxy]
first_byte_timeout = "20s"
max_connections = 8
retry_on = ["busy", "connect_timeout"]
max_retries = 2
max_sessions = 24

[proxy.probe]

[pool.gpu]
slots = 2
queue_limit = 4
queue_full_status = 429
retry_after = "3s"
initial_instances = 3
min_instances = 2
max_instances = 6
cold_start = "90s"

[pool.gpu.autoscaler]
target = 0.6
interval = "20s"

[class.img]
pool = "gpu"
service = { dist = "uniform", low = "2s", high = "9s" }
chunks = 3

[strategy.stepped]
kind = "stepped"
ranges = [["2s", "5s"], ["8s", "15s"]]
max_attempts = 4
honor_retry_after = true

[swarm.batch]
class = "img"
arrivals = { process = "closed", users = 12, think = { dist = "exponential", mean = "20s" } }
bulk = { images = 10, parallelism = 3, on_failure = "abort" }
timeout = "30s"
strategy = "stepped"

[[chaos]]
kind = "kill"
pool = "gpu"
count = 1
at = "10m"

[[chaos]]
kind = "traffic"
swarm = "batch"
factor = 2.0
at = "15m"
duration = "5m"
"#;

pub fn check_summary(s: &Summary, name: &str) {
    let r = &s.requests;
    assert_eq!(r.offered, r.succeeded + r.failed + r.unfinished, "{name}: offered = succeeded + failed + unfinished");
    let a = &s.attempts;
    assert_eq!(
        a.total,
        a.ok + a.status_503
            + a.status_429
            + a.client_timeout
            + a.connect_error
            + a.status_500.unwrap_or(0)
            + a.status_502.unwrap_or(0)
            + a.cancelled.unwrap_or(0)
            + a.unfinished,
        "{name}: attempts sent = by outcome + in flight at the end"
    );
    // An attempt in flight belongs to a request not yet ended; without
    // hedging a request has at most one in flight.
    if a.cancelled.is_none() {
        assert!(
            a.unfinished <= r.unfinished,
            "{name}: {} attempts in flight for {} requests",
            a.unfinished,
            r.unfinished
        );
    }
    assert_eq!(a.status_503, a.causes.values().sum::<u64>(), "{name}: 503s by cause");
    assert_eq!(a.ok, r.succeeded, "{name}: one 200 per succeeded request");
    let b = &s.bulk_jobs;
    assert_eq!(b.submitted, b.completed + b.failed + b.unfinished, "{name}: bulk jobs");
    let swarm_offered: u64 = s.swarms.values().map(|w| w.requests.offered).sum();
    let swarm_attempts: u64 = s.swarms.values().map(|w| w.attempts).sum();
    assert_eq!((swarm_offered, swarm_attempts), (r.offered, a.total), "{name}: swarms add up to the totals");
}

#[test]
fn requests_attempts_and_bulk_jobs_add_up() {
    for (sc, run) in runs() {
        check_summary(&run.summary, &sc.name);
        assert!(run.summary.requests.offered > 0, "{}: the scenario offered nothing", sc.name);
    }
}

#[test]
fn time_series_totals_equal_the_summary() {
    for (sc, run) in runs() {
        let s = &run.summary;
        let rows: Vec<_> = run.recorder.series.rows().collect();
        let sum = |f: &dyn Fn(&stampede::metrics::Row) -> u64| rows.iter().map(|r| f(r)).sum::<u64>();
        assert_eq!(sum(&|r| r.counts.offered), s.requests.offered, "{}: offered", sc.name);
        assert_eq!(sum(&|r| r.counts.succeeded), s.requests.succeeded, "{}: succeeded", sc.name);
        assert_eq!(sum(&|r| r.counts.failed), s.requests.failed, "{}: failed", sc.name);
        // Attempts by the window they were sent in: in flight at the end included.
        assert_eq!(sum(&|r| r.counts.sent), s.attempts.total, "{}: attempts sent", sc.name);
        for o in Outcome::ALL {
            assert_eq!(
                sum(&|r| r.counts.attempts[o.index()]),
                run.recorder.totals.count(o),
                "{}: {}",
                sc.name,
                o.name()
            );
        }
        // Rows tile [warmup, end] without gaps.
        assert_eq!(rows.first().map(|r| r.start.as_secs_f64()), Some(s.warmup_s), "{}: first row", sc.name);
        assert_eq!(rows.last().map(|r| r.end.as_secs_f64()), Some(s.duration_s), "{}: last row", sc.name);
        assert!(rows.windows(2).all(|w| w[0].end == w[1].start), "{}: rows are contiguous", sc.name);
        // Pool levels integrate to the summary's GPU and cost figures.
        for (p, cfg) in sc.pools.iter().enumerate() {
            let integral = |f: &dyn Fn(&stampede::metrics::PoolLevels) -> f64| {
                rows.iter().map(|r| f(&r.pools[p]) * (r.end - r.start).as_secs_f64()).sum::<f64>()
            };
            let pool = &s.gpu.pools[&cfg.name];
            let close = |a: f64, b: f64| (a - b).abs() <= 1e-6 * b.max(1.0) + 2e-3;
            assert!(close(integral(&|l| l.busy_slots), pool.busy_seconds), "{}: busy seconds", sc.name);
            assert!(close(integral(&|l| l.billed), pool.instance_seconds), "{}: instance seconds", sc.name);
        }
    }
}

#[test]
fn every_attempt_belongs_to_exactly_one_ended_request() {
    // Traffic stops at 20 minutes and the run lasts until 60, so every request
    // ends: the attempts-per-request histogram then accounts for every attempt.
    let toml = r#"
[scenario]
name = "drain"
duration = "60m"

[proxy]
first_byte_timeout = "15s"
max_connections = 4

[pool.gpu]
slots = 2
queue_limit = 6
initial_instances = 2

[class.c]
pool = "gpu"
service = { dist = "lognormal", median = "3s", p99 = "20s" }

[strategy.expo]
kind = "exponential"
base = "500ms"
cap = "20s"
jitter = "decorrelated"
max_attempts = 6

[swarm.s]
class = "c"
arrivals = { process = "steps", steps = [{ at = "0s", rate = "2/s" }, { at = "20m", rate = "0/s" }] }
timeout = "25s"
strategy = "expo"
"#;
    let r = run(toml, 3);
    let s = &r.summary;
    assert_eq!(s.requests.unfinished, 0, "the run drains");
    assert!(s.attempts.total > s.requests.offered, "the scenario retries: {} attempts", s.attempts.total);
    let counted: u64 =
        s.attempts_per_request.iter().map(|(k, n)| k.trim_end_matches('+').parse::<u64>().expect("bucket") * n).sum();
    assert_eq!(counted, s.attempts.total, "Σ k·n(k) over attempts per request");
    let ended: u64 = s.attempts_per_request.values().sum();
    assert_eq!(ended, s.requests.succeeded + s.requests.failed);
    assert_eq!(s.proxy.fetches, s.attempts.total, "one backend fetch per attempt (no VCL retries here)");
}

#[test]
fn a_traffic_surge_multiplies_an_open_loop_swarms_arrivals() {
    let toml = r#"
[scenario]
name = "traffic"
duration = "30m"
window = "10m"

[pool.gpu]
slots = 100

[class.c]
pool = "gpu"
service = { dist = "constant", value = "1s" }

[swarm.s]
class = "c"
arrivals = { process = "poisson", rate = "1/s" }

[[chaos]]
kind = "traffic"
swarm = "s"
factor = 3.0
at = "10m"
duration = "10m"
"#;
    let r = run(toml, 4);
    let offered: Vec<u64> = r.recorder.series.rows().map(|row| row.counts.offered).collect();
    // Poisson counts of 600 and 1800 per window have sd ≈ 24.5 and 42.4: 5 sd apart from the other level.
    assert!((offered[0] as f64 - 600.0).abs() < 5.0 * 24.5, "{offered:?}");
    assert!((offered[1] as f64 - 1800.0).abs() < 5.0 * 42.4, "{offered:?}");
    assert!((offered[2] as f64 - 600.0).abs() < 5.0 * 24.5, "{offered:?}");
}
