//! The named metrics: one enum, one table.
//!
//! Every property of a metric — its name in files and JSON, its unit, the
//! direction in which it improves, whether it is recorded per pool, its short
//! column label and its meaning — is one row of the table below, so adding a
//! metric is one line here plus its accessor, [`Summary::metric`], an
//! exhaustive `match` the compiler keeps complete. (The accessor lives beside
//! `Summary` so that this module, which thresholds and objectives build on,
//! stays below the metrics recorder in the module graph.)
//!
//! [`Summary::metric`]: crate::metrics::summary::Summary::metric

use std::fmt;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

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

/// What a metric's value covers when a summary is restricted to some swarms.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum Scope {
    /// Counted per swarm: a scoped summary covers only the chosen swarms.
    Swarm,
    /// Recorded per pool (attempt latency, queue wait, first byte, GPU and
    /// instance time): always covers every swarm.
    Pool,
}

/// One row of the table.
struct Row {
    name: &'static str,
    unit: Unit,
    better: Better,
    scope: Scope,
    label: &'static str,
    meaning: &'static str,
}

macro_rules! metrics {
    ($($variant:ident: $name:literal, $unit:ident, $better:ident, $scope:ident, $label:literal, $meaning:literal;)*) => {
        /// A named metric. Values come from
        /// [`Summary::metric`](crate::metrics::summary::Summary::metric).
        #[derive(Copy, Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
        pub enum Metric {
            $($variant,)*
            /// One swarm's or one tier's share of a run (`swarm.paid.success_rate`).
            Part(Part),
        }

        impl Metric {
            /// Every metric of the whole run, in the order reports list them
            /// (per-swarm and per-tier metrics are named after the scenario's
            /// swarms and tiers: see [`Part`]).
            pub const ALL: &'static [Metric] = &[$(Metric::$variant),*];

            fn row(self) -> &'static Row {
                match self {
                    $(Metric::$variant => &Row {
                        name: $name,
                        unit: Unit::$unit,
                        better: Better::$better,
                        scope: Scope::$scope,
                        label: $label,
                        meaning: $meaning,
                    },)*
                    Metric::Part(p) => p.what.row(),
                }
            }
        }
    };
}

metrics! {
    Rate503: "rate_503", Ratio, Lower, Swarm, "503 rate", "503 attempts / all attempts";
    SuccessRate: "success_rate", Ratio, Higher, Swarm, "success", "succeeded requests / offered requests";
    FailureRate: "failure_rate", Ratio, Lower, Swarm, "failed", "failed requests / offered requests";
    Amplification: "amplification", Number, Lower, Swarm, "attempts/req", "attempts per offered request";
    Goodput: "goodput", Number, Higher, Swarm, "goodput/s", "succeeded requests per second of measured time";
    LatencyP50: "latency_p50", Duration, Lower, Pool, "latency_p50", "attempt latency, median";
    LatencyP90: "latency_p90", Duration, Lower, Pool, "latency_p90", "attempt latency, 90th percentile";
    LatencyP99: "latency_p99", Duration, Lower, Pool, "latency_p99", "attempt latency, 99th percentile";
    LatencyP999: "latency_p999", Duration, Lower, Pool, "latency_p999", "attempt latency, 99.9th percentile";
    LatencyMax: "latency_max", Duration, Lower, Pool, "latency_max", "attempt latency, maximum";
    CompletionP50: "completion_p50", Duration, Lower, Swarm, "compl p50", "request completion time, median";
    CompletionP90: "completion_p90", Duration, Lower, Swarm, "compl p90", "request completion time, 90th percentile";
    CompletionP99: "completion_p99", Duration, Lower, Swarm, "compl p99", "request completion time, 99th percentile";
    CompletionP999: "completion_p999", Duration, Lower, Swarm, "completion_p999",
        "request completion time, 99.9th percentile";
    CompletionMax: "completion_max", Duration, Lower, Swarm, "completion_max", "request completion time, maximum";
    CompletionAllP50: "completion_all_p50", Duration, Lower, Swarm, "all p50",
        "completion time of every offered request, failures as never, median";
    CompletionAllP90: "completion_all_p90", Duration, Lower, Swarm, "all p90",
        "completion time of every offered request, failures as never, 90th percentile";
    CompletionAllP99: "completion_all_p99", Duration, Lower, Swarm, "all p99",
        "completion time of every offered request, failures as never, 99th percentile";
    CompletionAllP999: "completion_all_p999", Duration, Lower, Swarm, "all p99.9",
        "completion time of every offered request, failures as never, 99.9th percentile";
    BulkSuccessRate: "bulk_success_rate", Ratio, Higher, Swarm, "bulk ok", "completed bulk jobs / submitted bulk jobs";
    BulkCompletionP50: "bulk_completion_p50", Duration, Lower, Swarm, "bulk p50", "bulk job completion time, median";
    BulkCompletionP99: "bulk_completion_p99", Duration, Lower, Swarm, "bulk p99",
        "bulk job completion time, 99th percentile";
    BulkCompletionMax: "bulk_completion_max", Duration, Lower, Swarm, "bulk_completion_max",
        "bulk job completion time, maximum";
    BulkCompletionAllP50: "bulk_completion_all_p50", Duration, Lower, Swarm, "bulk_completion_all_p50",
        "completion time of every bulk job, failures as never, median";
    BulkCompletionAllP99: "bulk_completion_all_p99", Duration, Lower, Swarm, "bulk_completion_all_p99",
        "completion time of every bulk job, failures as never, 99th percentile";
    QueueWaitMean: "queue_wait_mean", Duration, Lower, Pool, "queue_wait_mean",
        "time a job waits in a backend queue, mean";
    QueueWaitP99: "queue_wait_p99", Duration, Lower, Pool, "queue_wait_p99",
        "time a job waits in a backend queue, 99th percentile";
    FirstByteP99: "first_byte_p99", Duration, Lower, Pool, "first_byte_p99",
        "backend time to first byte, 99th percentile";
    FirstByteP999: "first_byte_p999", Duration, Lower, Pool, "first_byte_p999",
        "backend time to first byte, 99.9th percentile";
    WastedGpuSeconds: "wasted_gpu_seconds", Number, Lower, Pool, "wasted GPU-h",
        "GPU seconds spent on results nobody received";
    HitRatio: "hit_ratio", Ratio, Higher, Pool, "hit ratio",
        "requests of cached classes answered from the cache (fresh, grace or coalesced) / their lookups";
    GpuSecondsSaved: "gpu_seconds_saved", Number, Higher, Pool, "GPU-h saved",
        "GPU seconds of work the cache's hits spared the backend";
    GpuBusySeconds: "gpu_busy_seconds", Number, Lower, Pool, "GPU busy h", "GPU slot-seconds of work";
    InstanceSeconds: "instance_seconds", Number, Lower, Pool, "instance-h",
        "instance-seconds paid for (provisioning included)";
    Recovered: "recovered", Ratio, Higher, Pool, "recovered",
        "1 if the service recovered after every chaos trigger and surge, else 0; over seeds, the share of seeds that recovered";
    RecoveryTime: "recovery_time", Duration, Lower, Pool, "recovery",
        "from a trigger's end to the first window of lasting recovery, the worst trigger; ∞ when it never recovered within the run";
    PostSuccessRate: "post_success_rate", Ratio, Higher, Pool, "post ok",
        "succeeded / ended requests after a trigger, the worst trigger";
    PostAmplification: "post_amplification", Number, Lower, Pool, "post ampl.",
        "attempts sent per offered request after a trigger, the worst trigger";
}

/// Whose share of a run a [`Part`] metric measures.
#[derive(Copy, Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Group {
    /// The requests of one swarm (`swarm.<name>.…`).
    Swarm,
    /// The requests of every swarm of one priority tier (`tier.<name>.…`).
    Tier,
}

impl Group {
    pub fn name(self) -> &'static str {
        match self {
            Group::Swarm => "swarm",
            Group::Tier => "tier",
        }
    }
}

/// What a [`Part`] metric measures of its swarm or tier.
#[derive(Copy, Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum PartValue {
    SuccessRate,
    FailureRate,
    Rate503,
    /// Only per tier: a swarm's summary does not keep its 429s apart.
    Rate429,
}

impl PartValue {
    const ALL: [PartValue; 4] =
        [PartValue::SuccessRate, PartValue::FailureRate, PartValue::Rate503, PartValue::Rate429];

    pub fn name(self) -> &'static str {
        self.row().name
    }

    fn row(self) -> &'static Row {
        match self {
            PartValue::SuccessRate => Metric::SuccessRate.row(),
            PartValue::FailureRate => Metric::FailureRate.row(),
            PartValue::Rate503 => Metric::Rate503.row(),
            PartValue::Rate429 => &Row {
                name: "rate_429",
                unit: Unit::Ratio,
                better: Better::Lower,
                scope: Scope::Swarm,
                label: "429 rate",
                meaning: "429 attempts / all attempts",
            },
        }
    }

    /// The values a group has.
    fn of(group: Group) -> &'static [PartValue] {
        match group {
            Group::Swarm => &PartValue::ALL[..3],
            Group::Tier => &PartValue::ALL,
        }
    }
}

/// A metric of one swarm or one tier: `swarm.paid.success_rate`,
/// `tier.free.rate_429`. Whether the swarm or tier exists is the scenario's
/// to say (`Scenario::check_metric`); here the name is only well formed.
#[derive(Copy, Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Part {
    pub group: Group,
    /// The swarm's or tier's name.
    pub of: &'static str,
    pub what: PartValue,
    /// The whole name, as written.
    name: &'static str,
}

impl Part {
    pub fn new(group: Group, of: &str, what: PartValue) -> Part {
        let name = intern(format!("{}.{of}.{}", group.name(), what.name()));
        Part { group, of: &name[group.name().len() + 1..name.len() - what.name().len() - 1], what, name }
    }

    /// Reads `swarm.<name>.<value>` or `tier.<name>.<value>`; None when the
    /// name has neither prefix.
    fn parse(name: &str) -> Option<Result<Part, UnknownMetric>> {
        let (group, rest) = match name.split_once('.')? {
            ("swarm", rest) => (Group::Swarm, rest),
            ("tier", rest) => (Group::Tier, rest),
            _ => return None,
        };
        let values = PartValue::of(group);
        let unknown = |suggestion| {
            Err(UnknownMetric {
                name: name.to_string(),
                suggestion,
                expected: Some(format!(
                    "{}.<name>.{{{}}}",
                    group.name(),
                    values.iter().map(|v| v.name()).collect::<Vec<_>>().join(", ")
                )),
            })
        };
        let Some((of, value)) = rest.rsplit_once('.') else { return Some(unknown(None)) };
        if of.is_empty() {
            return Some(unknown(None));
        }
        Some(match values.iter().find(|v| v.name() == value) {
            Some(&what) => Ok(Part::new(group, of, what)),
            None => unknown(crate::suggest::did_you_mean(value, values.iter().map(|v| v.name()))),
        })
    }
}

/// Names of per-swarm and per-tier metrics live for the whole program, so
/// that a [`Metric`] stays `Copy` like the fixed ones: each distinct name is
/// leaked once (a run names a handful; they are bounded by what the user wrote).
fn intern(name: String) -> &'static str {
    use std::collections::BTreeSet;
    use std::sync::Mutex;
    static NAMES: Mutex<BTreeSet<&'static str>> = Mutex::new(BTreeSet::new());
    let mut names = NAMES.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
    if let Some(&known) = names.get(name.as_str()) {
        return known;
    }
    let leaked: &'static str = Box::leak(name.into_boxed_str());
    names.insert(leaked);
    leaked
}

impl Metric {
    /// The name files, flags and JSON use.
    pub fn name(self) -> &'static str {
        match self {
            Metric::Part(p) => p.name,
            _ => self.row().name,
        }
    }
    pub fn unit(self) -> Unit {
        self.row().unit
    }
    pub fn better(self) -> Better {
        self.row().better
    }
    pub fn scope(self) -> Scope {
        self.row().scope
    }
    /// False for the metrics only the proxy or the GPUs can measure (queue
    /// wait, first byte, GPU and instance time, the cache's): `load` sends
    /// to someone else's, so it cannot judge an SLO on them.
    pub fn seen_by_clients(self) -> bool {
        !matches!(
            self,
            Metric::QueueWaitMean
                | Metric::QueueWaitP99
                | Metric::FirstByteP99
                | Metric::FirstByteP999
                | Metric::WastedGpuSeconds
                | Metric::HitRatio
                | Metric::GpuSecondsSaved
                | Metric::GpuBusySeconds
                | Metric::InstanceSeconds
        )
    }
    /// True for percentiles read from the latency histograms: each is its
    /// bucket's top, up to one bucket (about 0.1%) from the sample's own, so
    /// seeds may agree on it exactly where their samples differ.
    pub fn quantized(self) -> bool {
        ["_p50", "_p90", "_p99", "_p999"].iter().any(|s| self.name().ends_with(s))
    }
    /// True for the metrics recorded per pool rather than per swarm, which a
    /// scoped summary cannot restrict to some swarms.
    pub fn pool_wide(self) -> bool {
        self.scope() == Scope::Pool
    }
    /// A short column label (resource time in hours: reports show it so).
    pub fn label(self) -> &'static str {
        match self {
            Metric::Part(p) => p.name,
            _ => self.row().label,
        }
    }
    /// What the metric measures, for docs and help.
    pub fn meaning(self) -> &'static str {
        self.row().meaning
    }

    /// The range the metric's values lie in.
    pub fn range(self) -> (f64, f64) {
        match self.unit() {
            Unit::Ratio => (0.0, 1.0),
            // Every duration and amount is a time or a count.
            Unit::Duration | Unit::Number => (0.0, f64::INFINITY),
        }
    }

    pub fn from_name(name: &str) -> Option<Metric> {
        Metric::lookup(name).ok()
    }

    /// Looks a metric up, or explains the miss with a suggestion.
    pub fn lookup(name: &str) -> Result<Metric, UnknownMetric> {
        if let Some(part) = Part::parse(name) {
            return part.map(Metric::Part);
        }
        Metric::ALL.iter().copied().find(|m| m.name() == name).ok_or_else(|| UnknownMetric {
            name: name.to_string(),
            suggestion: crate::suggest::did_you_mean(name, Metric::ALL.iter().map(|m| m.name())),
            expected: None,
        })
    }

    /// The metrics comparisons and sweeps report by default, in display
    /// order; bulk-job metrics only when the scenario has bulk jobs.
    pub fn headline(has_bulk: bool) -> Vec<Metric> {
        use Metric::*;
        [
            Rate503,
            SuccessRate,
            CompletionP50,
            CompletionP99,
            BulkSuccessRate,
            BulkCompletionP99,
            Amplification,
            WastedGpuSeconds,
            InstanceSeconds,
        ]
        .into_iter()
        .filter(|m| has_bulk || !m.name().starts_with("bulk_"))
        .collect()
    }
}

/// The unit of a metric named `name`; a name that is not a metric (a derived
/// quantity such as cost) is a plain number.
pub fn unit_of(name: &str) -> Unit {
    Metric::from_name(name).map_or(Unit::Number, Metric::unit)
}

/// A name that is no metric.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error(
    "unknown metric `{name}`{}{}",
    suggestion.map_or(String::new(), |s| format!("; did you mean `{s}`?")),
    expected.as_ref().map_or(String::new(), |e| format!("; expected {e}"))
)]
pub struct UnknownMetric {
    pub name: String,
    pub suggestion: Option<&'static str>,
    /// The form the name should have, when it is a malformed per-swarm or
    /// per-tier name.
    pub expected: Option<String>,
}

impl fmt::Display for Metric {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl std::str::FromStr for Metric {
    type Err = UnknownMetric;
    fn from_str(s: &str) -> Result<Metric, UnknownMetric> {
        Metric::lookup(s)
    }
}

impl Serialize for Metric {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.name())
    }
}

impl<'de> Deserialize<'de> for Metric {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Metric, D::Error> {
        let name = String::deserialize(d)?;
        Metric::lookup(&name).map_err(serde::de::Error::custom)
    }
}

impl Unit {
    /// Formats a value for people: percentages, durations or numbers; "∞"
    /// for a percentile that counts failures and falls among them, and
    /// "undefined" for a value without data.
    pub fn show(self, v: f64) -> String {
        if v.is_nan() {
            return "undefined".into();
        }
        if v.is_infinite() {
            return if v > 0.0 { "∞" } else { "-∞" }.into();
        }
        match self {
            Unit::Ratio => format!("{:.2}%", v * 100.0),
            Unit::Duration => crate::time::format_secs(v),
            Unit::Number => {
                if v.abs() >= 1000.0 {
                    let sign = if v < 0.0 { "-" } else { "" };
                    format!("{sign}{}", crate::format::thousands(v.round().abs() as u64))
                } else if v.abs() >= 100.0 {
                    format!("{v:.0}")
                } else {
                    format!("{v:.3}")
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_metric_has_a_unique_name_that_finds_it_and_a_consistent_row() {
        let mut names = std::collections::BTreeSet::new();
        for &m in Metric::ALL {
            assert!(names.insert(m.name()), "{m} twice");
            assert_eq!(Metric::from_name(m.name()), Some(m));
            assert_eq!(m.name().parse::<Metric>(), Ok(m));
            assert_eq!(serde_json::to_string(&m).expect("json"), format!("\"{m}\""));
            assert!(!m.meaning().is_empty() && !m.label().is_empty() && m.label().len() <= 24, "{m}");
            // Names say what rows say: a percentile, maximum or mean is a
            // duration, a rate a ratio, and time is better lower.
            let timed =
                ["_p50", "_p90", "_p99", "_p999", "_max", "_mean", "_time"].iter().any(|s| m.name().ends_with(s));
            assert_eq!(timed, m.unit() == Unit::Duration, "{m}");
            if timed {
                assert_eq!(m.better(), Better::Lower, "{m}");
            }
            if m.name().ends_with("_rate") || m.name().starts_with("rate_") {
                assert_eq!(m.unit(), Unit::Ratio, "{m}");
            }
            // Recovery is judged on all requests together: a scoped summary cannot split it.
            let recovery = matches!(
                m,
                Metric::Recovered | Metric::RecoveryTime | Metric::PostSuccessRate | Metric::PostAmplification
            );
            let pool = ["latency_", "queue_wait_", "first_byte_"].iter().any(|p| m.name().starts_with(p))
                || m.name().ends_with("_seconds")
                || recovery
                // The cache is the proxy's, shared by every swarm.
                || matches!(m, Metric::HitRatio | Metric::GpuSecondsSaved);
            assert_eq!(pool, m.pool_wide(), "{m}");
            assert_eq!(m.range().0, 0.0);
        }
        assert_eq!(Metric::ALL.len(), 38);
    }

    #[test]
    fn unknown_names_are_explained() {
        let e = Metric::lookup("rate_530").expect_err("typo");
        assert_eq!(e.to_string(), "unknown metric `rate_530`; did you mean `rate_503`?");
        assert_eq!(Metric::lookup("banana").expect_err("no").to_string(), "unknown metric `banana`");
        assert!(serde_json::from_str::<Metric>("\"banana\"").is_err());
        assert_eq!(unit_of("cost"), Unit::Number);
    }

    #[test]
    fn per_swarm_and_per_tier_names_read_back_as_themselves() {
        let m = Metric::lookup("swarm.paid.success_rate").expect("well formed");
        let Metric::Part(p) = m else { panic!("a part") };
        assert_eq!((p.group, p.of, p.what), (Group::Swarm, "paid", PartValue::SuccessRate));
        assert_eq!((m.name(), m.unit(), m.better()), ("swarm.paid.success_rate", Unit::Ratio, Better::Higher));
        assert_eq!(Metric::lookup("swarm.paid.success_rate"), Ok(m), "one name, one value");
        let t = Metric::lookup("tier.free.tier.rate_429").expect("a dotted tier name");
        assert!(matches!(t, Metric::Part(Part { of: "free.tier", what: PartValue::Rate429, .. })));
        assert_eq!((t.better(), t.pool_wide()), (Better::Lower, false));
        assert_eq!(serde_json::to_string(&t).expect("json"), "\"tier.free.tier.rate_429\"");
    }

    #[test]
    fn malformed_per_swarm_and_per_tier_names_say_the_form() {
        let e = Metric::lookup("swarm.paid.sucess_rate").expect_err("typo");
        assert_eq!(
            e.to_string(),
            "unknown metric `swarm.paid.sucess_rate`; did you mean `success_rate`?; \
             expected swarm.<name>.{success_rate, failure_rate, rate_503}"
        );
        let e = Metric::lookup("swarm.paid.rate_429").expect_err("not per swarm");
        assert!(e.to_string().ends_with("expected swarm.<name>.{success_rate, failure_rate, rate_503}"), "{e}");
        let e = Metric::lookup("tier.rate_503").expect_err("no name");
        assert!(
            e.to_string().ends_with("expected tier.<name>.{success_rate, failure_rate, rate_503, rate_429}"),
            "{e}"
        );
    }

    #[test]
    fn values_show_in_their_unit_with_their_sign() {
        assert_eq!(Unit::Ratio.show(0.0123), "1.23%");
        assert_eq!(Unit::Number.show(1500.4), "1,500");
        assert_eq!(Unit::Number.show(-1500.4), "-1,500");
        assert_eq!(Unit::Number.show(-2.5), "-2.500");
        assert_eq!(Unit::Number.show(f64::NAN), "undefined");
        assert_eq!(Unit::Duration.show(f64::INFINITY), "∞");
        assert_eq!(unit_of("completion_p99"), Unit::Duration);
    }
}
