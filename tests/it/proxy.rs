//! Proxy and backend semantics (Varnish rules, GPU pool behaviour).

use std::collections::BTreeMap;

use stampede::engine::{Trace, simulate_traced};
use stampede::time::SimTime;

use crate::support::{run, scenario};

/// One request arriving at exactly t = 10 s (evenly spaced arrivals at 1/s for one second).
const ONE_AT_10S: &str = r#"arrivals = { process = "steps", steps = [{ at = "9s", rate = "1/s" }, { at = "10s", rate = "0/s" }], spacing = "uniform" }"#;

#[test]
fn max_connections_gives_an_immediate_busy_503() {
    let toml = r#"
[scenario]
name = "busy"
duration = "5s"

[proxy]
max_connections = 1

[pool.gpu]
slots = 4

[class.c]
pool = "gpu"
service = { dist = "constant", value = "60s" }

[swarm.s]
class = "c"
arrivals = { process = "constant", rate = "1/s" }
"#;
    let s = run(toml, 1).summary;
    // Arrivals at 1, 2, 3, 4 s: the first holds the only connection for 60 s,
    // the other three are refused at once although the GPU has free slots.
    assert_eq!(s.requests.offered, 4);
    assert_eq!(s.attempts.causes["busy"], 3);
    assert_eq!((s.attempts.total, s.attempts.unfinished), (4, 1), "the first attempt is still running");
    assert_eq!(s.latency_ms.max, Some(0.0), "busy is answered without waiting");
}

fn long_job(cancel: bool) -> String {
    format!(
        r#"
[scenario]
name = "fbt"
duration = "10m"

[proxy]
first_byte_timeout = "60s"

[pool.gpu]
slots = 1
cancel_on_abandon = {cancel}

[class.c]
pool = "gpu"
service = {{ dist = "constant", value = "90s" }}

[swarm.s]
class = "c"
{ONE_AT_10S}
"#
    )
}

#[test]
fn a_job_longer_than_first_byte_timeout_gets_a_503_at_exactly_that_timeout() {
    for cancel in [false, true] {
        let s = run(&long_job(cancel), 1).summary;
        assert_eq!((s.requests.offered, s.requests.failed), (1, 1));
        assert_eq!(s.attempts.causes["first_byte_timeout"], 1);
        assert_eq!(s.latency_ms.max, Some(60_000.0), "503 at exactly first_byte_timeout");
        if cancel {
            // The backend stops when the proxy closes the connection.
            assert_eq!((s.gpu.busy_seconds, s.gpu.wasted_seconds), (60.0, 60.0));
        } else {
            // The GPU does not know the proxy gave up: it works the full 90 s for nobody.
            assert_eq!((s.gpu.busy_seconds, s.gpu.wasted_seconds), (90.0, 90.0));
        }
    }
}

#[test]
fn a_response_within_first_byte_timeout_wastes_nothing() {
    let s = run(&long_job(false).replace("value = \"90s\"", "value = \"59s\""), 1).summary;
    assert_eq!((s.requests.succeeded, s.gpu.busy_seconds, s.gpu.wasted_seconds), (1, 59.0, 0.0));
}

#[derive(Default)]
struct Lifecycle {
    ready_at: BTreeMap<u64, SimTime>,
    added_at: BTreeMap<u64, SimTime>,
    starts: Vec<(u64, SimTime)>,
}

impl Trace for Lifecycle {
    fn instance_added(&mut self, _pool: usize, instance: u64, at: SimTime, ready_at: SimTime) {
        self.added_at.insert(instance, at);
        self.ready_at.insert(instance, ready_at);
    }
    fn job_started(&mut self, _pool: usize, instance: u64, at: SimTime) {
        self.starts.push((instance, at));
    }
}

#[test]
fn an_instance_in_cold_start_serves_nothing_before_its_cold_start_has_passed() {
    let toml = r#"
[scenario]
name = "cold"
duration = "40m"

[pool.gpu]
slots = 2
min_instances = 1
initial_instances = 1
max_instances = 10
cold_start = "3m"

[pool.gpu.autoscaler]
target = 0.5
interval = "30s"

[class.c]
pool = "gpu"
service = { dist = "exponential", mean = "4s" }

[swarm.s]
class = "c"
arrivals = { process = "ramp", from = "0.1/s", to = "2/s", start = "2m", length = "10m" }
"#;
    let mut t = Lifecycle::default();
    simulate_traced(&scenario(toml), 4, &mut t).expect("the run finishes");
    assert!(t.ready_at.len() >= 3, "the autoscaler started instances: {}", t.ready_at.len());
    for (inst, added) in &t.added_at {
        assert_eq!(t.ready_at[inst] - *added, stampede::time::SimDuration::from_secs(180), "cold start");
    }
    let mut served_new = 0;
    for (inst, at) in &t.starts {
        if let Some(ready) = t.ready_at.get(inst) {
            assert!(at >= ready, "instance {inst} started a job at {at} before it was ready at {ready}");
            served_new += 1;
        }
    }
    assert!(served_new > 100, "new instances did serve after their cold start: {served_new}");
}

fn kill_one(probe: bool) -> String {
    format!(
        r#"
[scenario]
name = "sick"
duration = "10m"
window = "5s"

[proxy]
connect_timeout = "3.5s"
{}

[pool.gpu]
slots = 4
initial_instances = 2
deregister_delay = "1h"

[class.c]
pool = "gpu"
service = {{ dist = "constant", value = "1s" }}

[swarm.s]
class = "c"
arrivals = {{ process = "poisson", rate = "1/s" }}

[[chaos]]
kind = "kill"
pool = "gpu"
count = 1
at = "2m"
"#,
        if probe { "[proxy.probe]" } else { "" }
    )
}

/// connect_timeout counts per 5 s window, from the kill at 120 s on.
fn connect_timeouts_after_kill(probe: bool) -> Vec<u64> {
    let r = run(&kill_one(probe), 2);
    let idx = stampede::model::outcome::Outcome::Status503(stampede::model::outcome::Cause::ConnectTimeout).index();
    r.recorder
        .series
        .rows()
        .filter(|row| row.start.as_secs_f64() >= 120.0)
        .map(|row| row.counts.attempts[idx])
        .collect()
}

#[test]
fn a_sick_instance_is_skipped() {
    let with_probe = connect_timeouts_after_kill(true);
    // Round robin keeps sending half the fetches to the dead host until the probe
    // has failed 6 times in a row (5 s apart, each timing out after 2 s): about 27 s.
    assert!(with_probe[..6].iter().sum::<u64>() > 0, "the dead host is hit before it is marked sick");
    let after: u64 = with_probe[8..].iter().sum();
    assert_eq!(after, 0, "after the probe marks it sick (40 s) the director skips it: {with_probe:?}");
    // Without a probe nothing marks it sick: the proxy keeps connecting to it.
    let without = connect_timeouts_after_kill(false);
    assert!(without[8..].iter().sum::<u64>() > 100, "{without:?}");
}

#[test]
fn a_backend_503_passes_through_with_its_retry_after() {
    let toml = r#"
[scenario]
name = "maint"
duration = "10m"

[pool.gpu]
slots = 2
retry_after = "7s"

[class.c]
pool = "gpu"
service = { dist = "constant", value = "1s" }

[strategy.patient]
kind = "fixed"
delay = "1s"
max_attempts = 2
honor_retry_after = true

[swarm.s]
class = "c"
arrivals = { process = "poisson", rate = "1/s" }
strategy = "patient"

[[chaos]]
kind = "maintenance"
pool = "gpu"
at = "1m"
duration = "1m"
"#;
    let mut t = crate::support::AttemptTimes::default();
    let s = simulate_traced(&scenario(toml), 3, &mut t).expect("the run finishes").summary;
    assert!(s.attempts.causes["maintenance"] > 50, "{:?}", s.attempts.causes);
    assert_eq!(s.attempts.causes["unhealthy"], 0, "without a probe the proxy never marks it sick");
    // The backend's own 503 carries its Retry-After (7 s), not the proxy's 5 s,
    // and the client honours it over its own 1 s delay.
    let retried: Vec<f64> = t.gaps().into_iter().filter(|g| g.len() == 1).map(|g| g[0]).collect();
    assert!(retried.len() > 50);
    assert!(retried.iter().all(|&g| g == 7.0), "{retried:?}");
}

#[test]
fn vcl_retry_moves_a_busy_fetch_to_another_instance() {
    let toml = |retries: u32| {
        format!(
            r#"
[scenario]
name = "vcl"
duration = "5s"

[proxy]
max_connections = 1
retry_on = ["busy"]
max_retries = {retries}

[pool.gpu]
slots = 1
initial_instances = 3

[class.c]
pool = "gpu"
service = {{ dist = "constant", value = "60s" }}

[swarm.s]
class = "c"
arrivals = {{ process = "constant", rate = "1/s" }}
"#
        )
    };
    // Arrivals at 1..4 s; three instances with one connection each. Round robin
    // sends the 4th fetch to a busy instance; a VCL retry moves on, but every
    // instance is busy, so it fails after max_retries more fetches.
    let s = run(&toml(2), 1).summary;
    assert_eq!(s.attempts.causes["busy"], 1);
    assert_eq!((s.proxy.fetches, s.proxy.retries), (6, 2));
    let s = run(&toml(0), 1).summary;
    assert_eq!((s.proxy.fetches, s.proxy.retries), (4, 0));
}

#[test]
fn the_wait_queue_holds_fetches_up_to_wait_timeout() {
    let toml = |wait_timeout: &str| {
        format!(
            r#"
[scenario]
name = "wait"
duration = "30s"

[proxy]
max_connections = 1
wait_limit = 1
wait_timeout = "{wait_timeout}"

[pool.gpu]
slots = 1

[class.c]
pool = "gpu"
service = {{ dist = "constant", value = "4s" }}

[swarm.s]
class = "c"
arrivals = {{ process = "steps", steps = [{{ at = "0s", rate = "2/s" }}, {{ at = "1500ms", rate = "0/s" }}], spacing = "uniform" }}
"#
        )
    };
    // Arrivals at 0.5, 1.0, 1.5 s: the first connects, the second waits, the
    // third finds the wait queue full and is busy at once.
    let s = run(&toml("10s"), 1).summary;
    assert_eq!((s.requests.succeeded, s.attempts.causes["busy"]), (2, 1));
    assert_eq!(s.latency_ok_ms.max, Some(7_500.0), "the waiter got the connection at 4.5 s and finished at 8.5 s");
    // With a 2 s wait_timeout the waiter gives up first and fails as busy.
    let s = run(&toml("2s"), 1).summary;
    assert_eq!((s.requests.succeeded, s.attempts.causes["busy"]), (1, 2));
    assert_eq!(s.latency_ms.max, Some(4_000.0));
}
