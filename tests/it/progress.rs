//! Runs whose simulated time stops advancing are stopped, with the loop named.

use stampede::engine::simulate;

use crate::support::{scenario, stampede};

/// One pool; a closed-loop swarm `loop` of `users` users with zero think time;
/// `extra` adds keys (e.g. a maintenance window).
fn zero_time(users: u32, service: &str, extra: &str) -> String {
    format!(
        r#"
[scenario]
name = "zero-time"
duration = "1h"

[pool.gpu]
slots = 1

[class.job]
pool = "gpu"
service = {{ dist = "constant", value = "{service}" }}

[swarm.loop]
class = "job"
arrivals = {{ process = "closed", users = {users}, think = {{ dist = "constant", value = "0s" }} }}
{extra}
"#
    )
}

/// Validation refuses this one before running (its event estimate is
/// unbounded); the guard is what stops it under `--no-limits`.
#[test]
fn a_closed_loop_with_zero_think_and_zero_service_time_stops_naming_the_swarm() {
    let sc = scenario(&zero_time(1, "0s", ""));
    let stalled = simulate(&sc, 1).expect_err("never finishes otherwise");
    let msg = stalled.to_string();
    assert!(msg.contains("closed-loop swarm `loop`"), "{msg}");
    assert!(msg.contains("time is not advancing"), "{msg}");
}

/// A maintenance window from 10 to 15 minutes: every answer an instant 503.
const MAINTENANCE: &str = r#"
[[chaos]]
kind = "maintenance"
pool = "gpu"
at = "10m"
duration = "5m"
"#;

#[test]
fn users_answered_by_instant_503s_in_maintenance_stop_the_run() {
    let sc = scenario(&zero_time(10, "2s", MAINTENANCE));
    let stalled = simulate(&sc, 1).expect_err("loops once maintenance starts");
    assert_eq!(stalled.at.as_secs_f64(), 600.0, "the loop starts with the maintenance window");
    assert!(stalled.culprit.contains("closed-loop swarm `loop`"), "{}", stalled.culprit);
}

#[test]
fn the_cli_reports_a_stalled_run_with_exit_code_2_and_the_file() {
    let dir = std::env::temp_dir().join(format!("stampede-progress-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let file = dir.join("zero.toml");
    // Validation cannot see this loop coming: it needs the maintenance window.
    std::fs::write(&file, zero_time(10, "2s", MAINTENANCE)).expect("write");
    let out = stampede(&["run", file.to_str().expect("utf-8"), "--quiet", "--out", dir.to_str().expect("utf-8")]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(err.contains("zero.toml") && err.contains("time is not advancing"), "{err}");
    assert!(err.contains("closed-loop swarm `loop`"), "{err}");
    std::fs::remove_dir_all(&dir).ok();
}
