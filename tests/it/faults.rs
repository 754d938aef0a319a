//! Faults injected by chaos events, as Fortio and Toxiproxy do it: errors by
//! share, connect failures, added latency and probe flapping, each over its
//! window only, through the whole simulated stack (client, proxy, backend).
//!
//! Counts are checked against the binomial law of the share: within 4 σ of
//! n·p, where n is the number of requests that reached the pool in the window
//! (read from the run's own time series), so the tolerance comes from the data.

use stampede::engine::Run;
use stampede::metrics::Row;
use stampede::model::outcome::{Cause, Outcome};

use crate::support::run;

/// 40 requests/s of 1 ms jobs for 10 minutes on a pool that never queues;
/// `chaos` strikes it. Rows are 10 s wide, so a window on whole minutes
/// covers whole rows.
fn scenario(strategy: &str, chaos: &str) -> String {
    format!(
        r#"
[scenario]
name = "faults"
duration = "10m"
window = "10s"

[proxy]
first_byte_timeout = "60s"

[pool.gpu]
slots = 64
initial_instances = 2
min_instances = 2
max_instances = 2
retry_after = "7s"

[class.render]
pool = "gpu"
service = {{ dist = "constant", value = "1ms" }}

{strategy}

[swarm.web]
class = "render"
arrivals = {{ process = "poisson", rate = "40/s" }}
strategy = "s"
{chaos}
"#
    )
}

const NO_RETRY: &str = "[strategy.s]\nkind = \"none\"";

/// The rows of the window [from, to) seconds, and the others.
fn split(rows: &[Row], from: f64, to: f64) -> (Vec<Row>, Vec<Row>) {
    rows.iter().cloned().partition(|r| r.start.as_secs_f64() >= from && r.end.as_secs_f64() <= to)
}

fn count(rows: &[Row], o: Outcome) -> u64 {
    rows.iter().map(|r| r.counts.attempts[o.index()]).sum()
}

fn ended(rows: &[Row]) -> u64 {
    rows.iter().map(|r| r.counts.attempts_ended()).sum()
}

fn assert_binomial(k: u64, n: u64, p: f64, what: &str) {
    let (mean, sd) = (n as f64 * p, (n as f64 * p * (1.0 - p)).sqrt());
    assert!((k as f64 - mean).abs() <= 4.0 * sd, "{what}: {k} of {n}, expected {mean:.1} ± {:.1}", 4.0 * sd);
}

fn rows(r: &Run) -> Vec<Row> {
    r.recorder.series.rows().map(std::borrow::Cow::into_owned).collect()
}

#[test]
fn errors_answer_their_share_with_their_status_within_the_window_and_the_proxy_passes_them_on() {
    let chaos = r#"
[[chaos]]
kind = "errors"
pool = "gpu"
status = 503
share = 0.05
at = "2m"
duration = "4m"

[[chaos]]
kind = "errors"
pool = "gpu"
status = 500
share = 0.02
at = "2m"
duration = "4m"
"#;
    let r = run(&scenario(NO_RETRY, chaos), 1);
    let (inside, outside) = split(&rows(&r), 120.0, 360.0);
    let n = ended(&inside);
    assert!(n > 8000, "about 40/s for 4 minutes: {n}");
    assert_binomial(count(&inside, Outcome::Status503(Cause::Injected)), n, 0.05, "503s");
    assert_binomial(count(&inside, Outcome::Status500), n, 0.02, "500s");
    for o in [Outcome::Status503(Cause::Injected), Outcome::Status500] {
        assert_eq!(count(&outside, o), 0, "{o:?} outside the window");
    }
    let a = &r.summary.attempts;
    assert_eq!(a.causes["injected"], count(&inside, Outcome::Status503(Cause::Injected)));
    assert_eq!(a.status_500, Some(count(&inside, Outcome::Status500)));
    assert_eq!(a.status_502, None, "no 502 can occur: not listed");
    assert_eq!(a.status_503, a.causes["injected"], "the injected 503 is the only 503");
}

#[test]
fn a_client_retries_a_500_only_when_its_retry_on_names_it() {
    let chaos =
        "[[chaos]]\nkind = \"errors\"\npool = \"gpu\"\nstatus = 500\nshare = 0.3\nat = \"0s\"\nduration = \"10m\"\n";
    let retry =
        |on: &str| format!("[strategy.s]\nkind = \"fixed\"\ndelay = \"100ms\"\nmax_attempts = 3\nretry_on = {on}");
    let plain = run(&scenario(&retry(r#"["503"]"#), chaos), 2).summary;
    let on_500 = run(&scenario(&retry(r#"["500"]"#), chaos), 2).summary;
    let (p, q) = (&plain.requests, &on_500.requests);
    assert_eq!(plain.attempts.total, p.succeeded + p.failed + p.unfinished, "no retry of a 500 by default");
    // With retries a request fails only when all three attempts draw the 500.
    let share = |x: u64, of: u64| x as f64 / of as f64;
    assert_binomial(p.failed, p.offered, 0.3, "failed without retries");
    assert_binomial(q.failed, q.offered, 0.3f64.powi(3), "failed with retries on 500");
    assert!(share(q.failed, q.offered) < share(p.failed, p.offered));
    assert_eq!(on_500.rate_503, Some(0.0), "a 500 is not a 503");
}

#[test]
fn connect_failures_become_the_proxys_connect_failed_503_for_their_share() {
    let chaos = "[[chaos]]\nkind = \"connect_failures\"\npool = \"gpu\"\nshare = 0.1\nat = \"1m\"\nduration = \"3m\"\n";
    let r = run(&scenario(NO_RETRY, chaos), 3);
    let (inside, outside) = split(&rows(&r), 60.0, 240.0);
    let failed = Outcome::Status503(Cause::ConnectFailed);
    assert_binomial(count(&inside, failed), ended(&inside), 0.1, "connect failures");
    assert_eq!(count(&outside, failed), 0);
    assert!(!r.summary.attempts.causes.contains_key("injected"), "no errors event: not listed");
}

#[test]
fn added_latency_delays_the_first_byte_by_exactly_its_amount() {
    let chaos = "[[chaos]]\nkind = \"latency\"\npool = \"gpu\"\nadded = \"200ms\"\nat = \"0s\"\nduration = \"10m\"\n";
    let slow = run(&scenario(NO_RETRY, chaos), 4).summary;
    let fast = run(&scenario(NO_RETRY, ""), 4).summary;
    let (s, f) = (slow.first_byte_ms.max.expect("answers"), fast.first_byte_ms.max.expect("answers"));
    // Constant 1 ms jobs that never queue: 1 ms without the fault, 201 ms with it.
    assert!((f - 1.0).abs() < 0.01 && (s - 201.0).abs() < 0.2, "first byte {f} ms, then {s} ms");
    assert_eq!((slow.requests.offered, slow.requests.failed), (fast.requests.offered, 0), "late, not lost");
}

#[test]
fn a_flapping_pool_goes_sick_by_its_probes_inside_the_window_only() {
    let probe = "[proxy.probe]\ninterval = \"1s\"\n";
    let chaos = "[[chaos]]\nkind = \"flap\"\npool = \"gpu\"\nshare = 0.9\nat = \"2m\"\nduration = \"2m\"\n";
    let text = scenario(NO_RETRY, chaos).replace("[pool.gpu]", &format!("{probe}\n[pool.gpu]"));
    let r = run(&text, 5);
    let unhealthy = Outcome::Status503(Cause::Unhealthy);
    // Sick after enough bad probes of the window, healthy again a few good ones after it.
    let (before, _) = split(&rows(&r), 0.0, 120.0);
    let (during, _) = split(&rows(&r), 130.0, 240.0);
    let (after, _) = split(&rows(&r), 260.0, 600.0);
    assert_eq!(count(&before, unhealthy), 0);
    assert!(count(&during, unhealthy) > ended(&during) / 2, "mostly sick while 90% of probes fail");
    assert_eq!(count(&after, unhealthy), 0, "healthy again once the probes pass");
}

#[test]
fn the_fault_block_shipped_in_varnish_defaults_runs_when_uncommented() {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios/varnish-defaults.toml");
    let text = std::fs::read_to_string(path).expect("read");
    let (head, rest) = text.split_once("# BEGIN FAULTS\n").expect("the block's start");
    let (block, _) = rest.split_once("# END FAULTS").expect("the block's end");
    let block: String = block.lines().map(|l| format!("{}\n", l.trim_start_matches('#').trim_start())).collect();
    let r = run(&format!("{head}{block}"), 1);
    let (inside, outside) = split(&rows(&r), 44.0 * 60.0, 48.0 * 60.0);
    for o in [Outcome::Status503(Cause::Injected), Outcome::Status500] {
        assert!(count(&inside, o) > 0, "{o:?} in the window");
        assert_eq!(count(&outside, o), 0, "{o:?} outside it");
    }
}
