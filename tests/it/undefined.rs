//! Derived numbers at the edges: no request, no success, a warmup longer than
//! the traffic. A rate without a denominator, or a percentile without a
//! sample, is undefined — null in JSON, "undefined" or "-" in text — never NaN
//! and never a misleading 0. Percentiles that count failures are infinite, not
//! undefined, when nothing succeeded.

use crate::support::run;

use stampede::criteria::Metric;
use stampede::metrics::summary::Summary;

const POOL: &str = r#"
[class.c]
pool = "gpu"
service = { dist = "constant", value = "1s" }
"#;

/// Traffic for the first minute only, under a two-minute warmup: nothing is measured.
fn warmup_longer_than_traffic() -> String {
    format!(
        r#"
[scenario]
name = "quiet"
duration = "5m"
warmup = "2m"
[pool.gpu]
{POOL}
[swarm.s]
class = "c"
arrivals = {{ process = "steps", steps = [{{ at = "0s", rate = "1/s" }}, {{ at = "1m", rate = "0/s" }}] }}
bulk = {{ images = 2 }}
[slo]
success_rate = "> 0.9"
completion_all_p99 = "< 10s"
"#
    )
}

/// A pool with no instance: every attempt is an immediate 503, nothing succeeds.
fn nothing_succeeds() -> String {
    format!(
        r#"
[scenario]
name = "dark"
duration = "5m"
[pool.gpu]
min_instances = 0
initial_instances = 0
max_instances = 1
{POOL}
[swarm.s]
class = "c"
arrivals = {{ process = "poisson", rate = "1/s" }}
[slo]
completion_all_p50 = "< 10s"
"#
    )
}

fn json(s: &Summary) -> serde_json::Value {
    let text = serde_json::to_string(s).expect("serializes");
    assert!(!text.contains("NaN") && !text.contains("Infinity"), "{text}");
    serde_json::from_str(&text).expect("json")
}

fn text(s: &Summary, toml: &str) -> String {
    let mut out = Vec::new();
    stampede::report::text::print_summary(&mut out, &crate::support::scenario(toml), s).expect("prints");
    String::from_utf8(out).expect("utf8")
}

#[test]
fn no_measured_request_leaves_rates_and_percentiles_undefined_not_zero() {
    let toml = warmup_longer_than_traffic();
    let s = run(&toml, 1).summary;
    assert_eq!(s.requests.offered, 0);
    let v = json(&s);
    for field in ["rate_503", "success_rate", "amplification"] {
        assert!(v[field].is_null(), "{field} = {}", v[field]);
        assert_eq!(s.metric(field.parse().expect("a metric")), None, "{field}");
    }
    for hist in ["latency_ms", "completion_ms", "completion_all_ms", "queue_wait_ms", "first_byte_ms"] {
        for p in ["p50", "p99", "p999"] {
            assert!(v[hist][p].is_null(), "{hist}.{p} = {}", v[hist][p]);
        }
    }
    assert!(v["latency_ms"]["mean"].is_null() && v["latency_ms"]["max"].is_null());
    assert!(v["bulk_jobs"]["success_rate"].is_null());
    assert!(v["swarms"]["s"]["success_rate"].is_null());
    // Nothing succeeded per second of measured time: a true zero, not a missing value.
    assert_eq!(s.goodput, Some(0.0));
    // An undefined metric cannot meet a threshold, and says so.
    assert!(s.slo.iter().all(|r| !r.passed && r.value.is_nan()), "{:?}", s.slo);
    assert!(v["slo"][0]["value"].is_null());
    let t = text(&s, &toml);
    assert!(t.contains("undefined per request") && t.contains("measured undefined"), "{t}");
    assert!(!t.contains("NaN") && !t.contains("inf"), "{t}");
    // The stored form reads back (sweep part files hold summaries).
    let back: Summary = serde_json::from_value(v).expect("reads back");
    assert_eq!(back.success_rate, None);
    assert!(back.slo[0].value.is_nan());
}

#[test]
fn no_success_gives_zero_rates_infinite_all_request_percentiles_and_undefined_utilization() {
    let toml = nothing_succeeds();
    let s = run(&toml, 1).summary;
    assert!(s.requests.offered > 100 && s.requests.succeeded == 0, "{:?}", s.requests);
    // Defined, and truly zero: requests were offered and none succeeded.
    assert_eq!((s.success_rate, s.goodput), (Some(0.0), Some(0.0)));
    assert_eq!(s.rate_503, Some(1.0));
    // Successes-only percentiles have no sample; those counting failures are infinite.
    assert_eq!((s.completion_ms.p50, s.metric(Metric::CompletionP99)), (None, None));
    assert_eq!(s.metric(Metric::CompletionAllP50), Some(f64::INFINITY));
    let v = json(&s);
    assert_eq!(v["completion_all_ms"]["p50"], "inf");
    assert_eq!(v["completion_all_ms"]["not_completed"], s.requests.offered);
    // No instance was ever ready: utilization is undefined, not 0%.
    assert!(v["gpu"]["pools"]["gpu"]["utilization"].is_null(), "{}", v["gpu"]["pools"]["gpu"]);
    assert_eq!(v["slo"][0]["value"], "inf");
    assert!(!s.slo_passed());
    let t = text(&s, &toml);
    assert!(t.contains("utilization undefined") && t.contains("measured ∞"), "{t}");
    let back: Summary = serde_json::from_value(v).expect("reads back");
    assert_eq!(back.completion_all_ms, s.completion_all_ms);
}
