//! Proxy timeouts recommended from the simulated backend latency, as VCL.
//!
//! At the recommended capacity, `first_byte_timeout` should sit above the
//! backend's time to first byte (queue wait plus the time to the first chunk)
//! for all but a very rare request: the p99.9 plus a quarter, rounded up. A
//! timeout below that turns slow-but-fine responses into 503s whose work the
//! GPU finishes anyway. `between_bytes_timeout` gets twice the p99.9 gap
//! between streamed chunks; responses sent in one piece have no gaps, and
//! Varnish's default stays.
//!
//! **Censoring.** Runs under a first-byte timeout T never see a time to first
//! byte above T: the fetches it cuts off are missing from the sample, and
//! their true times are only known to exceed T. Reading the p99.9 of the
//! fetches that did get a first byte would present the timeout's own cut as
//! the backend's latency (57 s measured under 60 s, so 75 s recommended, for
//! a backend whose p99.9 lies above 60 s). So the quantile is taken over every
//! fetch that waited for a first byte, the cut ones counted above T. When it
//! falls among them (more than 0.1% were cut), it cannot be read from these
//! runs at all, and the planner measures again at the recommended value with
//! the first-byte timeout off: the backend's own time to first byte, which a
//! timeout above its p99.9 leaves almost undisturbed. The recommendation says
//! which measurement it rests on.

use serde::{Deserialize, Serialize};

use crate::metrics::{LatencyHist, rank_of};
use crate::scenario::Scenario;
use crate::time::{SimDuration, format_secs};

/// The quantile of time to first byte a timeout is set above.
const QUANTILE: f64 = 0.999;

/// Recommended proxy timeouts and the VCL that sets them.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Timeouts {
    pub first_byte_timeout_s: f64,
    pub between_bytes_timeout_s: f64,
    pub connect_timeout_s: Option<f64>,
    /// Share of the fetches waiting for a first byte that the scenario's
    /// `first_byte_timeout` cut off at the recommended value (None without
    /// such fetches).
    pub first_byte_cut_share: Option<f64>,
    /// True when the cut share hid the p99.9 and time to first byte was
    /// measured again with the first-byte timeout off.
    pub first_byte_measured_without_timeout: bool,
    /// What each value was derived from.
    pub basis: Vec<String>,
    /// A Varnish backend definition per pool.
    pub vcl: String,
}

/// Time to first byte as a set of runs measured it, with what the
/// first-byte timeout cut off.
#[derive(Clone, Debug, Default)]
pub struct FirstByte {
    /// Fetches that got a first byte.
    pub observed: LatencyHist,
    /// Fetches the first-byte timeout cut off: their time is above the timeout.
    pub cut: u64,
    /// True when `cut` may undercount: VCL retries first-byte timeouts, and
    /// only an attempt's last fetch is counted by cause.
    pub cut_at_least: bool,
}

impl FirstByte {
    /// Every fetch that waited for a first byte.
    pub fn waited(&self) -> u64 {
        self.observed.count() + self.cut
    }

    pub fn cut_share(&self) -> Option<f64> {
        (self.waited() > 0).then(|| self.cut as f64 / self.waited() as f64)
    }

    /// The q-quantile in seconds over every fetch that waited, cut ones
    /// counted above the timeout; None when it falls among them (or among
    /// durations beyond the histogram), or without fetches.
    pub fn quantile_secs(&self, q: f64) -> Option<f64> {
        let rank = rank_of(q, self.waited());
        if self.waited() == 0 || rank > self.observed.count() {
            return None;
        }
        self.observed.value_at_rank_ns(rank).map(|ns| ns as f64 / 1e9)
    }
}

/// Rounds up to a value an operator would write: whole seconds below 10 s,
/// then multiples of 5 s, then of 30 s above two minutes.
pub fn round_up(secs: f64) -> f64 {
    let step = if secs <= 10.0 {
        1.0
    } else if secs <= 120.0 {
        5.0
    } else {
        30.0
    };
    ((secs / step).ceil() * step).max(1.0)
}

/// Varnish writes durations like `3.5s`, `65s`.
fn vcl_duration(secs: f64) -> String {
    format!("{}s", (secs * 1000.0).round() / 1000.0)
}

/// Whether the p99.9 of time to first byte can be read from runs under the
/// scenario's first-byte timeout; when not, the planner measures again
/// without it (see the module doc).
pub fn needs_uncut_measurement(sc: &Scenario, at_timeout: &FirstByte) -> bool {
    sc.proxy.first_byte_timeout.is_some() && at_timeout.cut > 0 && at_timeout.quantile_secs(QUANTILE).is_none()
}

/// The recommended first-byte timeout and the sentence it rests on.
fn first_byte(sc: &Scenario, at_timeout: &FirstByte, uncut: Option<&FirstByte>) -> (f64, String) {
    let current = sc.proxy.first_byte_timeout;
    let keep = current.map_or(60.0, SimDuration::as_secs_f64);
    let p = |v: f64| format_secs(v);
    let fetches = |f: &FirstByte| format!("{} fetches", f.waited());
    if at_timeout.waited() == 0 {
        return (keep, "first_byte_timeout: no fetch waited for a first byte; the scenario's value kept".into());
    }
    let cut = match (current, at_timeout.cut) {
        (Some(t), n) if n > 0 => format!(
            ", {}{n} of them ({:.2}%) cut off by the {} first_byte_timeout and counted above it",
            if at_timeout.cut_at_least { "at least " } else { "" },
            at_timeout.cut_share().unwrap_or(0.0) * 100.0,
            p(t.as_secs_f64())
        ),
        _ => String::new(),
    };
    if let Some(v) = at_timeout.quantile_secs(QUANTILE) {
        let text = format!(
            "first_byte_timeout: p99.9 of backend time to first byte is {} over {}{cut}; +25%, rounded up",
            p(v),
            fetches(at_timeout)
        );
        return (round_up(v * 1.25), text);
    }
    let hidden = if at_timeout.cut > 0 {
        format!(
            "{}{} of {} ({:.2}%) hit the {} first_byte_timeout, so the p99.9 lies above it and these runs cannot show it",
            if at_timeout.cut_at_least { "at least " } else { "" },
            at_timeout.cut,
            fetches(at_timeout),
            at_timeout.cut_share().unwrap_or(0.0) * 100.0,
            p(keep)
        )
    } else {
        "the p99.9 of time to first byte lies beyond the histogram's range (about 11.6 days)".to_string()
    };
    match uncut.and_then(|u| u.quantile_secs(QUANTILE).map(|v| (u, v))) {
        Some((u, v)) => (
            round_up(v * 1.25),
            format!(
                "first_byte_timeout: {hidden}; measured again with first_byte_timeout off: p99.9 of the backend's own time to first byte is {} over {}; +25%, rounded up",
                p(v),
                fetches(u)
            ),
        ),
        None => (
            keep,
            format!(
                "first_byte_timeout: {hidden}, nor could a run without the timeout; the scenario's value kept, not a recommendation"
            ),
        ),
    }
}

/// Timeouts for the scenario `sc` at `key = value`, from the time to first
/// byte under the scenario's timeout, and without it when that was needed
/// (`uncut`, see [`needs_uncut_measurement`]).
pub fn recommend(
    sc: &Scenario,
    key: &str,
    value: &str,
    at_timeout: &FirstByte,
    uncut: Option<&FirstByte>,
    gap: &LatencyHist,
) -> Timeouts {
    let p = &sc.proxy;
    let (first_byte_timeout_s, why) = first_byte(sc, at_timeout, uncut);
    let mut basis = vec![why];
    let between_bytes_timeout_s = if gap.count() > 0 {
        let g = gap.quantile_us(0.999) as f64 / 1e6;
        basis.push(format!(
            "between_bytes_timeout: p99.9 gap between streamed chunks is {}; doubled, rounded up",
            format_secs(g)
        ));
        round_up(g * 2.0)
    } else {
        match p.between_bytes_timeout {
            Some(d) => {
                basis.push(format!(
                    "between_bytes_timeout: responses arrive in one piece; {} kept",
                    format_secs(d.as_secs_f64())
                ));
                d.as_secs_f64()
            }
            None => {
                basis
                    .push("between_bytes_timeout: responses arrive in one piece; Varnish's default 60s is fine".into());
                60.0
            }
        }
    };
    let connect_timeout_s = p.connect_timeout.map(SimDuration::as_secs_f64);
    let mut vcl = format!("# stampede plan · {} at {key} = {value}\n# {}\n# {}\n", sc.name, basis[0], basis[1]);
    for pool in &sc.pools {
        vcl.push_str(&format!("backend {} {{\n", pool.name.replace(['-', '.'], "_")));
        vcl.push_str(&format!("    .host = \"{}.internal\";   # your backend's address\n", pool.name));
        vcl.push_str("    .port = \"8080\";\n");
        if let Some(c) = connect_timeout_s {
            vcl.push_str(&format!("    .connect_timeout = {};\n", vcl_duration(c)));
        }
        vcl.push_str(&format!("    .first_byte_timeout = {};\n", vcl_duration(first_byte_timeout_s)));
        vcl.push_str(&format!("    .between_bytes_timeout = {};\n", vcl_duration(between_bytes_timeout_s)));
        if let Some(m) = p.max_connections {
            vcl.push_str(&format!("    .max_connections = {m};\n"));
        }
        if let Some(pr) = &p.probe {
            vcl.push_str(&format!(
                "    .probe = {{ .url = \"/health\"; .interval = {}; .timeout = {}; .window = {}; .threshold = {}; .initial = {}; }}\n",
                vcl_duration(pr.interval.as_secs_f64()),
                vcl_duration(pr.timeout.as_secs_f64()),
                pr.window,
                pr.threshold,
                pr.initial
            ));
        }
        vcl.push_str("}\n");
    }
    Timeouts {
        first_byte_timeout_s,
        between_bytes_timeout_s,
        connect_timeout_s,
        first_byte_cut_share: at_timeout.cut_share(),
        first_byte_measured_without_timeout: uncut.is_some(),
        basis,
        vcl,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn observed(ms: std::ops::RangeInclusive<u64>) -> LatencyHist {
        let mut h = LatencyHist::default();
        for v in ms {
            h.record(SimDuration::from_millis(v));
        }
        h
    }

    #[test]
    fn cut_fetches_count_above_the_timeout_in_the_quantile() {
        // 1000 fetches of 1..1000 ms. Uncut, p99.9 is the 999th; with one fetch
        // cut off above the timeout it is the 1000th of 1001; with two it is
        // among the cut ones and unknown.
        let at = |cut| FirstByte { observed: observed(1..=1000), cut, cut_at_least: false }.quantile_secs(0.999);
        let near = |v: Option<f64>, ms: f64| v.is_some_and(|v| (v * 1e3 - ms).abs() <= ms * 1e-3);
        assert!(near(at(0), 999.0), "{:?}", at(0));
        assert!(near(at(1), 1000.0), "{:?}", at(1));
        assert_eq!(at(2), None);
    }

    #[test]
    fn a_hidden_p999_is_taken_from_the_uncut_measurement_or_not_given() {
        let sc = Scenario::parse(
            "[scenario]\nname = \"t\"\nduration = \"1m\"\n[proxy]\nfirst_byte_timeout = \"1s\"\n[pool.gpu]\n[class.c]\npool = \"gpu\"\nservice = { dist = \"constant\", value = \"1s\" }\n[swarm.s]\nclass = \"c\"\narrivals = { process = \"poisson\", rate = \"1/s\" }\n",
            "t.toml",
        )
        .expect("valid");
        let cut = FirstByte { observed: observed(1..=990), cut: 10, cut_at_least: true };
        assert!(needs_uncut_measurement(&sc, &cut));
        let uncut = FirstByte { observed: observed(1..=4000), cut: 0, cut_at_least: false };
        let t = recommend(&sc, "k", "v", &cut, Some(&uncut), &LatencyHist::default());
        assert_eq!(t.first_byte_timeout_s, 5.0, "p99.9 ≈ 3.996 s × 1.25, rounded up");
        assert!(t.basis[0].contains("at least 10 of 1000 fetches (1.00%) hit the 1.00s"), "{}", t.basis[0]);
        let t = recommend(&sc, "k", "v", &cut, None, &LatencyHist::default());
        assert_eq!(t.first_byte_timeout_s, 1.0, "the scenario's own value is kept");
        assert!(t.basis[0].contains("not a recommendation"), "{}", t.basis[0]);
        assert!(!t.first_byte_measured_without_timeout);
    }

    #[test]
    fn rounding_gives_values_an_operator_would_write() {
        assert_eq!(round_up(0.3), 1.0);
        assert_eq!(round_up(7.2), 8.0);
        assert_eq!(round_up(61.0), 65.0);
        assert_eq!(round_up(121.0), 150.0);
        assert_eq!(vcl_duration(3.5), "3.5s");
        assert_eq!(vcl_duration(65.0), "65s");
    }
}
