//! plan's recommended first_byte_timeout rests on the backend's time to first
//! byte, not on what the current timeout let through: a p99.9 read from
//! fetches the timeout cut off would sit just under the timeout whatever the
//! backend does (57.1 s under 60 s, so "75 s").

use stampede::criteria::slo;
use stampede::plan::{PlanRequest, plan};

/// An M/M/c queue at high load behind a short first-byte timeout: at 10 or
/// 11 slots, queue waits often exceed 4 s.
fn tight_timeout(first_byte_timeout: &str) -> String {
    format!(
        r#"
[scenario]
name = "tight"
duration = "1h"
warmup = "5m"

[proxy]
first_byte_timeout = "{first_byte_timeout}"

[pool.gpu]
slots = 10

[class.job]
pool = "gpu"
service = {{ dist = "exponential", mean = "1s" }}

[swarm.poisson]
class = "job"
arrivals = {{ process = "poisson", rate = "9.5/s" }}
"#
    )
}

fn planned(toml: &str) -> stampede::plan::vcl::Timeouts {
    let req = PlanRequest {
        tune: "pool.gpu.slots=10..16".into(),
        slos: vec![slo::parse_inline("success_rate>0.9").expect("slo")],
        seeds: 4,
        confidence: 0.95,
        strategy: None,
        no_limits: false,
    };
    let r = plan(toml, "tight.toml", &[], &req, stampede::replication::Runner::Sim, 2, &|| {})
        .unwrap_or_else(|e| panic!("{e}"));
    r.timeouts.expect("a recommendation")
}

#[test]
fn a_first_byte_timeout_that_cuts_the_tail_is_not_read_as_the_backends_latency() {
    let t = planned(&tight_timeout("4s"));
    let cut = t.first_byte_cut_share.expect("fetches waited");
    assert!(cut > 0.001, "the 4 s timeout cuts more than 0.1% of fetches: {cut}");
    assert!(t.first_byte_measured_without_timeout, "{:?}", t.basis);
    // Read from the survivors, the p99.9 would be under 4 s and the advice at
    // most round_up(4 × 1.25) = 5 s; the backend's own p99.9 is far above.
    assert!(t.first_byte_timeout_s > 5.0, "{} s: {:?}", t.first_byte_timeout_s, t.basis);
    let basis = &t.basis[0];
    assert!(
        basis.contains("hit the 4.00s first_byte_timeout")
            && basis.contains("measured again with first_byte_timeout off"),
        "{basis}"
    );
    assert!(t.vcl.contains(&format!(".first_byte_timeout = {}s;", t.first_byte_timeout_s)), "{}", t.vcl);
}

#[test]
fn a_timeout_that_cuts_nothing_is_measured_as_it_stands() {
    let t = planned(&tight_timeout("10m"));
    assert_eq!(t.first_byte_cut_share, Some(0.0));
    assert!(!t.first_byte_measured_without_timeout, "{:?}", t.basis);
    assert!(t.basis[0].starts_with("first_byte_timeout: p99.9 of backend time to first byte is"), "{:?}", t.basis);
    assert!(t.first_byte_timeout_s > 5.0 && t.first_byte_timeout_s < 600.0, "{}", t.first_byte_timeout_s);
}
