//! How numbers are shown: one unit per quantity, everywhere.
//!
//! - Ratios as percentages; their intervals and differences in percentage
//!   points (`62.9% ±5.7pp`, `+8.9pp ±4.2pp`).
//! - Durations with a unit on the value *and* on the ±, the ± in the value's
//!   own unit (`5.91s ±0.68s`, `4m29s ±33s`).
//! - Resource time (`instance_seconds`, `gpu_busy_seconds`,
//!   `wasted_gpu_seconds`) in hours: instance-hours and GPU-hours, the unit a
//!   bill uses; money where the scenario gives a price per instance-hour.
//! - A value and its ± share one precision, set by the ±: two significant
//!   digits of the half-width (`+894 ±813`, `+23 ±721`, `-0.093 ±0.098`),
//!   down to 6 decimals (4 for pp, 3 for ms); a smaller ± shows as
//!   `<0.000001`, never as a 0 that would claim the seeds agree exactly.

use crate::criteria::metric::{Metric, Unit, unit_of};
use crate::stats::Interval;

/// How a metric is shown.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum Scale {
    Percent,
    Duration,
    /// Seconds of resource time shown in hours.
    Hours,
    Plain,
}

/// The scale of a catalogued metric (an unknown one is plain).
pub fn scale(metric: &str) -> Scale {
    match unit_of(metric) {
        Unit::Ratio => Scale::Percent,
        Unit::Duration => Scale::Duration,
        // Resource time, spent or saved, reads in hours wherever it is shown.
        Unit::Number if metric.ends_with("_seconds") || metric == "gpu_seconds_saved" => Scale::Hours,
        Unit::Number => Scale::Plain,
    }
}

/// A short column label, with the unit where the cells do not carry one.
pub fn label(metric: &str) -> String {
    Metric::from_name(metric).map_or_else(|| metric.to_string(), |m| m.label().to_string())
}

/// The value in the scale's display unit (hours for resource time).
fn display(scale: Scale, v: f64) -> f64 {
    match scale {
        Scale::Percent => v * 100.0,
        Scale::Hours => v / 3600.0,
        Scale::Duration | Scale::Plain => v,
    }
}

/// Decimals that show two significant digits of `hw`, within [0, max].
/// The caps leave room for small ±s: a ± printed as 0 would claim an
/// exact value where seeds differ (a ranking can rest on such a difference).
fn decimals_for(hw: f64, default: usize, max: usize) -> usize {
    if !(hw.is_finite() && hw > 0.0) {
        return default;
    }
    let d = 1 - hw.log10().floor() as i64;
    d.clamp(0, max as i64) as usize
}

/// A plain number with thousands separators when large.
fn number(v: f64, decimals: usize, signed: bool) -> String {
    let sign = if v < 0.0 && format!("{:.*}", decimals, v.abs()).chars().any(|c| c.is_ascii_digit() && c != '0') {
        "-"
    } else if signed {
        "+"
    } else {
        ""
    };
    let body = format!("{:.*}", decimals, v.abs());
    let (int, frac) = body.split_once('.').map_or((body.as_str(), None), |(i, f)| (i, Some(f)));
    let int = int.parse::<u64>().map_or(int.to_string(), crate::format::thousands);
    match frac {
        Some(f) => format!("{sign}{int}.{f}"),
        None => format!("{sign}{int}"),
    }
}

/// A duration in the unit that suits `base` (the larger of value and ±),
/// with `decimals` chosen for the ± when it is in seconds or milliseconds.
fn duration_in(v: f64, base: f64, hw: f64, signed: bool) -> String {
    let base = base.abs();
    if base >= 3.0 * 3600.0 {
        let d = decimals_for(hw / 3600.0, 1, 2);
        return format!("{}h", number(v / 3600.0, d, signed));
    }
    if base >= 120.0 {
        // Minutes and whole seconds: 4m29s, -1m03s.
        let sign = if v < -0.5 {
            "-"
        } else if signed {
            "+"
        } else {
            ""
        };
        let s = v.abs().round() as u64;
        return if s >= 60 { format!("{sign}{}m{:02}s", s / 60, s % 60) } else { format!("{sign}{s}s") };
    }
    if base >= 1.0 {
        let d = decimals_for(hw, 2, 2);
        return format!("{}s", number(v, d, signed));
    }
    let d = decimals_for(hw * 1e3, 1, 3);
    format!("{}ms", number(v * 1e3, d, signed))
}

/// A ± with `decimals`; one too small to show is `<` the least it could,
/// not a 0 that would claim the seeds agree exactly.
fn half_width(h: f64, decimals: usize) -> String {
    let shown = number(h, decimals, false);
    if h > 0.0 && !shown.chars().any(|c| ('1'..='9').contains(&c)) {
        return format!("<{}", number(10f64.powi(-(decimals as i32)), decimals, false));
    }
    shown
}

/// A metric named where no column label carries its unit (pairwise
/// results, verdicts): resource time, named in seconds but shown in hours,
/// says so (`wasted_gpu_seconds (hours)`).
pub fn quantity(metric: &str) -> String {
    match scale(metric) {
        Scale::Hours => format!("{metric} (hours)"),
        _ => metric.to_string(),
    }
}

/// A value at the precision of a ± beside it (`margin`), so that two means
/// whose difference is shown to 6 decimals are not both `0.8`.
pub fn value_to(metric: &str, v: f64, margin: f64) -> String {
    let s = with_pm(scale(metric), v, margin, false);
    s.split(" ±").next().unwrap_or(&s).to_string()
}

/// One value of a metric, e.g. in a per-seed list or a heatmap cell.
pub fn value(metric: &str, v: f64) -> String {
    value_in(scale(metric), v)
}

/// A value beside the threshold it is judged by: as [`value`], but resource
/// time in the seconds its threshold is written in, hours after it
/// (`4320 s (1.2 h)`), since `instance_seconds < 4000` beside `1.2` reads wrong.
pub fn measured(metric: &str, v: f64) -> String {
    match scale(metric) {
        Scale::Hours if v.is_finite() => format!("{} s ({} h)", Unit::Number.show(v), value_in(Scale::Hours, v)),
        s => value_in(s, v),
    }
}

/// A value and the limit it is judged by, as [`measured`] shows them; where
/// they differ but would read alike, with the decimals that tell them apart
/// (`5.1116s vs 5.1128s`, not `5.11s vs 5.11s`).
pub fn apart(metric: &str, v: f64, limit: f64) -> (String, String) {
    let (a, b) = (measured(metric, v), measured(metric, limit));
    let gap = (v - limit).abs();
    if a != b || !(gap.is_finite() && gap > 0.0) {
        return (a, b);
    }
    match scale(metric) {
        // Seconds stop at two decimals in value_to: past them, plain seconds.
        Scale::Duration => {
            let d = decimals_for(gap, 2, 9);
            (format!("{}s", number(v, d, false)), format!("{}s", number(limit, d, false)))
        }
        _ => (value_to(metric, v, gap), value_to(metric, limit, gap)),
    }
}

/// One value on a scale.
pub fn value_in(scale: Scale, v: f64) -> String {
    if let Some(s) = not_finite(v, false) {
        return s;
    }
    match scale {
        Scale::Percent => format!("{}%", number(v * 100.0, 2, false)),
        Scale::Duration => crate::time::format_secs(v),
        Scale::Hours => number(v / 3600.0, if v.abs() >= 360_000.0 { 0 } else { 1 }, false),
        Scale::Plain => Unit::Number.show(v),
    }
}

/// How a value that is not a finite number shows: `undefined` (no value),
/// `∞` (a percentile counting failures fell among them; exact, so no ±).
fn not_finite(v: f64, signed: bool) -> Option<String> {
    match v {
        v if v.is_nan() => Some("undefined".into()),
        f64::INFINITY => Some(if signed { "+∞" } else { "∞" }.into()),
        f64::NEG_INFINITY => Some("-∞".into()),
        _ => None,
    }
}

fn with_pm(scale: Scale, mean: f64, hw: f64, signed: bool) -> String {
    if let Some(s) = not_finite(mean, signed) {
        return s;
    }
    if !hw.is_finite() {
        // One seed bounds nothing: the value, and an unbounded ±.
        let exact = with_pm(scale, mean, 0.0, signed);
        let value = exact.split(" ±").next().unwrap_or(&exact);
        return format!("{value} ±∞");
    }
    match scale {
        Scale::Percent => {
            let (m, h) = (display(scale, mean), display(scale, hw));
            let d = decimals_for(h, 2, 4);
            let unit = if signed { "pp" } else { "%" };
            format!("{}{unit} ±{}pp", number(m, d, signed), half_width(h, d))
        }
        Scale::Duration => {
            let base = mean.abs().max(hw);
            format!("{} ±{}", duration_in(mean, base, hw, signed), duration_in(hw, base, hw, false))
        }
        Scale::Hours | Scale::Plain => {
            let (m, h) = (display(scale, mean), display(scale, hw));
            let d = decimals_for(h, if scale == Scale::Hours { 1 } else { 3 }, 6);
            format!("{} ±{}", number(m, d, signed), half_width(h, d))
        }
    }
}

/// A mean and its 95% margin ([`Interval::margin`]): `62.9% ±5.7pp`, `4m29s ±33s`, `42.3 ±0.8`.
pub fn interval(metric: &str, i: &Interval) -> String {
    with_pm(scale(metric), i.mean, i.margin(), false)
}

/// The same on an explicit scale.
pub fn interval_in(scale: Scale, i: &Interval) -> String {
    with_pm(scale, i.mean, i.margin(), false)
}

/// A signed difference and its margin: `+8.9pp ±4.2pp`, `+5m02s ±1m59s`.
pub fn difference(metric: &str, d: &Interval) -> String {
    with_pm(scale(metric), d.mean, d.margin(), true)
}

/// Money, two decimals: `103.62`.
pub fn money(v: f64) -> String {
    number(v, 2, false)
}

/// An interval of money.
pub fn money_interval(i: &Interval) -> String {
    let d = decimals_for(i.margin(), 2, 2);
    format!("{} ±{}", number(i.mean, d, false), number(i.margin(), d, false))
}

/// Instance-hours from instance-seconds, one decimal: `41.5`.
pub fn hours(seconds: f64) -> String {
    number(seconds / 3600.0, 1, false)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_measured_resource_time_reads_in_its_threshold_s_seconds() {
        assert_eq!(measured("instance_seconds", 4320.0), "4,320 s (1.2 h)");
        assert_eq!(measured("rate_503", 0.25), value("rate_503", 0.25));
        assert_eq!(measured("wasted_gpu_seconds", f64::NAN), "undefined");
        assert_eq!(quantity("wasted_gpu_seconds"), "wasted_gpu_seconds (hours)");
        assert_eq!(quantity("completion_p99"), "completion_p99");
        // Two means 4 s apart in hours, shown to the difference's precision.
        assert_eq!(value_to("wasted_gpu_seconds", 2879.1, 0.054), "0.799750");
        assert_eq!(value_to("wasted_gpu_seconds", 2883.1, 0.054), "0.800861");
        assert_eq!(value_to("success_rate", 0.8512, 0.004), "85.12%");
        assert_eq!(value_to("completion_p99", 12.5, f64::INFINITY), "12.50s");
    }

    fn iv(mean: f64, hw: f64) -> Interval {
        Interval { mean, lo: mean - hw, hi: mean + hw, n: 5 }
    }

    #[test]
    fn a_bound_that_reads_as_its_limit_is_shown_apart_from_it() {
        assert_eq!(apart("completion_p99", 5.111551, 5.1128), ("5.1116s".into(), "5.1128s".into()));
        assert_eq!(apart("rate_503", 0.09999, 0.1), ("9.9990%".into(), "10.0000%".into()));
        assert_eq!(apart("rate_503", 0.0087, 0.01), ("0.87%".into(), "1.00%".into()), "apart already");
        assert_eq!(apart("completion_p99", 5.0, 5.0), ("5.00s".into(), "5.00s".into()), "equal stays equal");
    }

    #[test]
    fn infinite_and_undefined_values_say_so_and_one_seed_bounds_nothing() {
        assert_eq!(interval("completion_all_p99", &iv(f64::INFINITY, f64::NAN)), "∞");
        assert_eq!(difference("completion_all_p99", &iv(f64::NEG_INFINITY, f64::NAN)), "-∞");
        assert_eq!(difference("completion_all_p99", &iv(f64::INFINITY, 0.0)), "+∞");
        assert_eq!(value("rate_503", f64::NAN), "undefined");
        let one = Interval { mean: 0.25, lo: f64::NEG_INFINITY, hi: f64::INFINITY, n: 1 };
        assert_eq!(interval("rate_503", &one), "25.00% ±∞");
        assert_eq!(difference("completion_p99", &Interval { mean: 1.0, ..one }), "+1.00s ±∞");
    }

    #[test]
    fn a_difference_and_its_half_width_share_unit_and_precision() {
        assert_eq!(difference("completion_p99", &iv(21.3, 31.1)), "+21s ±31s");
        assert_eq!(difference("bulk_completion_p99", &iv(301.8, 118.9)), "+5m02s ±1m59s");
        assert_eq!(difference("bulk_success_rate", &iv(0.0892, 0.0423)), "+8.9pp ±4.2pp");
        assert_eq!(difference("amplification", &iv(-0.093, 0.098)), "-0.093 ±0.098");
        // Large and small numbers in one column get one rule: two digits of the ±.
        assert_eq!(difference("gpu_busy_seconds", &iv(894.0 * 3600.0, 813.0 * 3600.0)), "+894 ±813");
        assert_eq!(difference("gpu_busy_seconds", &iv(23.494 * 3600.0, 720.813 * 3600.0)), "+23 ±721");
        assert_eq!(difference("completion_p50", &iv(-0.02, 0.27)), "-20ms ±270ms");
        // A small ± keeps its two digits rather than rounding to an exact-looking 0.
        assert_eq!(difference("wasted_gpu_seconds", &iv(-0.000_777 * 3600.0, 0.000_12 * 3600.0)), "-0.00078 ±0.00012");
        assert_eq!(difference("rate_503", &iv(0.000_012, 0.000_034)), "+0.0012pp ±0.0034pp");
        assert_eq!(interval("latency_p50", &iv(0.0004, 0.000_031)), "0.400ms ±0.031ms");
        assert_eq!(difference("amplification", &iv(0.000_034, 1e-9)), "+0.000034 ±<0.000001");
        assert_eq!(interval("amplification", &iv(1.0, 0.0)), "1.000 ±0.000", "seeds that agree exactly");
    }

    #[test]
    fn resource_time_is_shown_in_hours() {
        assert_eq!(interval("instance_seconds", &iv(153_486.0, 5_193.0)), "42.6 ±1.4");
        assert_eq!(label("instance_seconds"), "instance-h");
        assert_eq!(interval("instance_seconds", &iv(22_800.0, 0.0)), "6.3 ±0.0");
        assert_eq!(hours(149_280.0), "41.5");
    }

    #[test]
    fn intervals_carry_their_unit_on_both_sides() {
        assert_eq!(interval("rate_503", &iv(0.629, 0.0566)), "62.9% ±5.7pp");
        assert_eq!(interval("completion_p50", &iv(5.91, 0.682)), "5.91s ±0.68s");
        assert_eq!(interval("completion_p99", &iv(269.0, 33.1)), "4m29s ±33s");
        assert_eq!(interval("latency_p50", &iv(0.0629, 0.0044)), "62.9ms ±4.4ms");
        assert_eq!(value("rate_503", 0.0), "0.00%");
        assert_eq!(value("completion_p99", 90.0), crate::time::format_secs(90.0));
    }
}
