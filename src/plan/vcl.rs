//! Proxy timeouts recommended from the simulated backend latency, as VCL.
//!
//! At the recommended capacity, `first_byte_timeout` should sit above the
//! backend's time to first byte (queue wait plus the time to the first chunk)
//! for all but a very rare request: the p99.9 plus a quarter, rounded up. A
//! timeout below that turns slow-but-fine responses into 503s whose work the
//! GPU finishes anyway. `between_bytes_timeout` gets twice the p99.9 gap
//! between streamed chunks; responses sent in one piece have no gaps, and
//! Varnish's default stays.

use serde::{Deserialize, Serialize};

use crate::metrics::LatencyHist;
use crate::scenario::Scenario;
use crate::time::{SimDuration, format_secs};

/// Recommended proxy timeouts and the VCL that sets them.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Timeouts {
    pub first_byte_timeout_s: f64,
    pub between_bytes_timeout_s: f64,
    pub connect_timeout_s: Option<f64>,
    /// What each value was derived from.
    pub basis: Vec<String>,
    /// A Varnish backend definition per pool.
    pub vcl: String,
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

pub fn recommend(sc: &Scenario, key: &str, value: &str, first_byte: &LatencyHist, gap: &LatencyHist) -> Timeouts {
    let p = &sc.proxy;
    let mut basis = Vec::new();
    let fb999 = first_byte.quantile_us(0.999) as f64 / 1e6;
    let first_byte_timeout_s = if first_byte.count() > 0 {
        basis.push(format!(
            "first_byte_timeout: p99.9 of backend time to first byte is {} over {} fetches; +25%, rounded up",
            format_secs(fb999),
            first_byte.count()
        ));
        round_up(fb999 * 1.25)
    } else {
        basis.push("first_byte_timeout: no fetch got a first byte; Varnish's default kept".into());
        60.0
    };
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
    Timeouts { first_byte_timeout_s, between_bytes_timeout_s, connect_timeout_s, basis, vcl }
}

#[cfg(test)]
mod tests {
    use super::*;

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
