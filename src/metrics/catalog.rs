//! The named metrics that thresholds, comparisons and plans refer to.
//!
//! One table, so that `[slo]`, `--slo`, a comparison's objective and the
//! planner all accept the same names with the same units, and a typo gets the
//! same did-you-mean everywhere. Values come from
//! [`Summary::metric`](super::summary::Summary::metric).

/// How a metric's values are written and shown.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum Unit {
    /// A fraction: `0.01` or `1%`.
    Ratio,
    /// A duration: `120s`, `500ms` (kept in seconds).
    Duration,
    /// A plain number.
    Number,
}

/// Which way is better.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum Better {
    Higher,
    Lower,
}

/// A named metric.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub struct MetricInfo {
    pub name: &'static str,
    pub unit: Unit,
    pub better: Better,
    pub meaning: &'static str,
}

const fn m(name: &'static str, unit: Unit, better: Better, meaning: &'static str) -> MetricInfo {
    MetricInfo { name, unit, better, meaning }
}

use Better::{Higher, Lower};
use Unit::{Duration, Number, Ratio};

/// Every metric, in the order reports list them.
pub const METRICS: &[MetricInfo] = &[
    m("rate_503", Ratio, Lower, "503 attempts / all attempts"),
    m("success_rate", Ratio, Higher, "succeeded requests / offered requests"),
    m("failure_rate", Ratio, Lower, "failed requests / offered requests"),
    m("amplification", Number, Lower, "attempts per offered request"),
    m("goodput", Number, Higher, "succeeded requests per second of measured time"),
    m("latency_p50", Duration, Lower, "attempt latency, median"),
    m("latency_p90", Duration, Lower, "attempt latency, 90th percentile"),
    m("latency_p99", Duration, Lower, "attempt latency, 99th percentile"),
    m("latency_p999", Duration, Lower, "attempt latency, 99.9th percentile"),
    m("latency_max", Duration, Lower, "attempt latency, maximum"),
    m("completion_p50", Duration, Lower, "request completion time, median"),
    m("completion_p90", Duration, Lower, "request completion time, 90th percentile"),
    m("completion_p99", Duration, Lower, "request completion time, 99th percentile"),
    m("completion_p999", Duration, Lower, "request completion time, 99.9th percentile"),
    m("completion_max", Duration, Lower, "request completion time, maximum"),
    m("completion_all_p50", Duration, Lower, "completion time of every offered request, failures as never, median"),
    m(
        "completion_all_p90",
        Duration,
        Lower,
        "completion time of every offered request, failures as never, 90th percentile",
    ),
    m(
        "completion_all_p99",
        Duration,
        Lower,
        "completion time of every offered request, failures as never, 99th percentile",
    ),
    m(
        "completion_all_p999",
        Duration,
        Lower,
        "completion time of every offered request, failures as never, 99.9th percentile",
    ),
    m("bulk_success_rate", Ratio, Higher, "completed bulk jobs / submitted bulk jobs"),
    m("bulk_completion_p50", Duration, Lower, "bulk job completion time, median"),
    m("bulk_completion_p99", Duration, Lower, "bulk job completion time, 99th percentile"),
    m("bulk_completion_max", Duration, Lower, "bulk job completion time, maximum"),
    m("bulk_completion_all_p50", Duration, Lower, "completion time of every bulk job, failures as never, median"),
    m(
        "bulk_completion_all_p99",
        Duration,
        Lower,
        "completion time of every bulk job, failures as never, 99th percentile",
    ),
    m("queue_wait_mean", Duration, Lower, "time a job waits in a backend queue, mean"),
    m("queue_wait_p99", Duration, Lower, "time a job waits in a backend queue, 99th percentile"),
    m("first_byte_p99", Duration, Lower, "backend time to first byte, 99th percentile"),
    m("first_byte_p999", Duration, Lower, "backend time to first byte, 99.9th percentile"),
    m("wasted_gpu_seconds", Number, Lower, "GPU seconds spent on results nobody received"),
    m("gpu_busy_seconds", Number, Lower, "GPU slot-seconds of work"),
    m("instance_seconds", Number, Lower, "instance-seconds paid for (provisioning included)"),
    m(
        "recovered",
        Ratio,
        Higher,
        "1 if the service recovered after every trigger, else 0 (a mean: seeds that recovered)",
    ),
    m("recovery_time", Duration, Lower, "trigger end to lasting recovery, the worst trigger; ∞ if it never recovered"),
    m("post_success_rate", Ratio, Higher, "succeeded / ended requests after the trigger, the worst trigger"),
    m("post_amplification", Number, Lower, "attempts sent per offered request after the trigger, the worst trigger"),
];

/// The metrics comparisons and sweeps report by default, in display order;
/// bulk-job metrics only when the scenario has bulk jobs.
pub fn headline(has_bulk: bool) -> Vec<&'static str> {
    [
        "rate_503",
        "success_rate",
        "completion_p50",
        "completion_p99",
        "bulk_success_rate",
        "bulk_completion_p99",
        "amplification",
        "wasted_gpu_seconds",
        "instance_seconds",
    ]
    .into_iter()
    .filter(|m| has_bulk || !m.starts_with("bulk_"))
    .collect()
}

pub fn info(name: &str) -> Option<&'static MetricInfo> {
    METRICS.iter().find(|m| m.name == name)
}

/// A metric's unit; an uncatalogued name is shown as a plain number.
pub fn unit(name: &str) -> Unit {
    info(name).map_or(Number, |m| m.unit)
}

pub fn names() -> impl Iterator<Item = &'static str> {
    METRICS.iter().map(|m| m.name)
}

/// A short column label.
pub fn label(name: &str) -> &str {
    match name {
        "rate_503" => "503 rate",
        "success_rate" => "success",
        "failure_rate" => "failed",
        "amplification" => "attempts/req",
        "goodput" => "goodput/s",
        "completion_p50" => "compl p50",
        "completion_p90" => "compl p90",
        "completion_p99" => "compl p99",
        "completion_all_p50" => "all p50",
        "completion_all_p90" => "all p90",
        "completion_all_p99" => "all p99",
        "completion_all_p999" => "all p99.9",
        "bulk_success_rate" => "bulk ok",
        "bulk_completion_p50" => "bulk p50",
        "bulk_completion_p99" => "bulk p99",
        "wasted_gpu_seconds" => "wasted GPU s",
        "gpu_busy_seconds" => "GPU busy s",
        "instance_seconds" => "instance s",
        other => other,
    }
}

/// Looks a metric up, or explains the miss with a suggestion.
pub fn lookup(name: &str) -> Result<&'static MetricInfo, String> {
    info(name).ok_or_else(|| {
        let mut msg = format!("unknown metric `{name}`");
        if let Some(s) = crate::scenario::did_you_mean(name, names()) {
            msg.push_str(&format!("; did you mean `{s}`?"));
        }
        msg
    })
}

/// Formats a metric value for people: percentages, durations or numbers;
/// "∞" for a percentile that counts failures and falls among them, and
/// "undefined" for a value without data.
pub fn show(unit: Unit, v: f64) -> String {
    if v.is_nan() {
        return "undefined".into();
    }
    if v.is_infinite() {
        return if v > 0.0 { "∞" } else { "-∞" }.into();
    }
    match unit {
        Ratio => format!("{:.2}%", v * 100.0),
        Duration => crate::time::format_secs(v),
        Number => {
            if v.abs() >= 1000.0 {
                let sign = if v < 0.0 { "-" } else { "" };
                format!("{sign}{}", crate::report::text::thousands(v.round().abs() as u64))
            } else if v.abs() >= 100.0 {
                format!("{v:.0}")
            } else {
                format!("{v:.3}")
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_show_in_their_unit_with_their_sign() {
        assert_eq!(show(Ratio, 0.0123), "1.23%");
        assert_eq!(show(Number, 1500.4), "1,500");
        assert_eq!(show(Number, -1500.4), "-1,500");
        assert_eq!(show(Number, -2.5), "-2.500");
        assert_eq!(show(Number, f64::NAN), "undefined");
        assert_eq!(show(Duration, f64::INFINITY), "∞");
        assert_eq!(unit("completion_p99"), Duration);
        assert_eq!(unit("no_such_metric"), Number);
    }
}
