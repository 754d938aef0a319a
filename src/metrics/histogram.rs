//! Latency histograms: HdrHistogram in microseconds, plus exact sums for means.

use hdrhistogram::Histogram;
use serde::{Deserialize, Serialize};

use crate::time::SimDuration;

/// Three significant digits from 1 µs to about 11 days.
const HIGHEST_US: u64 = 1_000_000_000_000;

/// A latency distribution recorded as it happens (constant memory).
#[derive(Clone, Debug)]
pub struct LatencyHist {
    h: Histogram<u64>,
    /// Zero durations (immediate 503s, jobs that start at once) are common and
    /// are counted here, then added to the histogram when it is read.
    zeros: u64,
    sum_ns: u128,
    /// The exact largest duration: the histogram only knows its bucket.
    max_ns: u64,
}

impl Default for LatencyHist {
    fn default() -> Self {
        LatencyHist {
            h: Histogram::new_with_bounds(1, HIGHEST_US, 3).expect("valid bounds"),
            zeros: 0,
            sum_ns: 0,
            max_ns: 0,
        }
    }
}

/// Percentiles in milliseconds, as reports show them.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Percentiles {
    pub count: u64,
    pub mean: f64,
    pub p50: f64,
    pub p90: f64,
    pub p99: f64,
    pub p999: f64,
    pub max: f64,
}

impl LatencyHist {
    pub fn record(&mut self, d: SimDuration) {
        let us = d.as_micros();
        if us == 0 {
            self.zeros += 1;
        } else {
            self.h.saturating_record(us);
        }
        self.sum_ns += u128::from(d.as_nanos());
        self.max_ns = self.max_ns.max(d.as_nanos());
    }

    pub fn count(&self) -> u64 {
        self.h.len() + self.zeros
    }

    /// How many recorded durations were below one microsecond.
    pub fn zero_count(&self) -> u64 {
        self.zeros
    }

    /// Exact mean in seconds (from the sum, not the buckets).
    pub fn mean_secs(&self) -> f64 {
        match self.count() {
            0 => 0.0,
            n => self.sum_ns as f64 / 1e9 / n as f64,
        }
    }

    /// The whole distribution as one HdrHistogram (for CDF charts and lossless merging).
    pub fn histogram(&self) -> Histogram<u64> {
        let mut h = self.h.clone();
        if self.zeros > 0 {
            h.record_n(0, self.zeros).expect("zero is in range");
        }
        h
    }

    /// The value in microseconds at quantile `q` (0 < q ≤ 1), with HdrHistogram's
    /// rule — the smallest value whose cumulative count reaches max(1, ⌈q·n⌉) —
    /// applied to zeros and histogram together, without copying the histogram.
    /// HdrHistogram answers with the top of the value's bucket; that is capped
    /// at the exact maximum so a quantile never exceeds the largest value seen.
    pub fn quantile_us(&self, q: f64) -> u64 {
        let rank = ((q.min(1.0) * self.count() as f64).ceil() as u64).max(1);
        if rank <= self.zeros {
            return 0;
        }
        let rest = self.h.len() as f64;
        // A quantile whose ceiling lands exactly on the remaining rank.
        let v = self.h.value_at_quantile(((rank - self.zeros) as f64 - 0.5) / rest);
        v.min(self.max_ns.div_ceil(1_000))
    }

    /// The exact largest duration recorded.
    pub fn max(&self) -> SimDuration {
        SimDuration::from_nanos(self.max_ns)
    }

    pub fn percentiles(&self) -> Percentiles {
        if self.count() == 0 {
            return Percentiles::default();
        }
        let ms = |q: f64| self.quantile_us(q) as f64 / 1e3;
        Percentiles {
            count: self.count(),
            mean: round3(self.mean_secs() * 1e3),
            p50: ms(0.50),
            p90: ms(0.90),
            p99: ms(0.99),
            p999: ms(0.999),
            max: round3(self.max_ns as f64 / 1e6),
        }
    }

    /// Adds another distribution to this one (lossless).
    pub fn merge_from(&mut self, other: &LatencyHist) {
        self.h.add(&other.h).expect("same bounds");
        self.zeros += other.zeros;
        self.sum_ns += other.sum_ns;
        self.max_ns = self.max_ns.max(other.max_ns);
    }

    /// A lossless, portable form: HdrHistogram's V2 serialization (hex) plus
    /// the exact fields kept beside it.
    pub fn to_stored(&self) -> StoredHist {
        use hdrhistogram::serialization::Serializer;
        let mut bytes = Vec::new();
        hdrhistogram::serialization::V2Serializer::new()
            .serialize(&self.h, &mut bytes)
            .expect("serializing into memory cannot fail");
        StoredHist {
            hdr: bytes.iter().map(|b| format!("{b:02x}")).collect(),
            zeros: self.zeros,
            sum_ns: self.sum_ns.to_string(),
            max_ns: self.max_ns,
        }
    }

    /// Rebuilds a histogram from [`LatencyHist::to_stored`].
    pub fn from_stored(s: &StoredHist) -> Result<LatencyHist, String> {
        if !s.hdr.len().is_multiple_of(2) || !s.hdr.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err("the histogram is not hex".into());
        }
        let bytes: Vec<u8> =
            (0..s.hdr.len()).step_by(2).map(|i| u8::from_str_radix(&s.hdr[i..i + 2], 16).expect("checked")).collect();
        let decoded: Histogram<u64> = hdrhistogram::serialization::Deserializer::new()
            .deserialize(&mut bytes.as_slice())
            .map_err(|e| format!("cannot decode the histogram: {e:?}"))?;
        let mut h = LatencyHist::default();
        h.h.add(&decoded).map_err(|e| format!("the histogram does not fit: {e:?}"))?;
        h.zeros = s.zeros;
        h.sum_ns = s.sum_ns.parse().map_err(|_| "sum_ns is not an integer".to_string())?;
        h.max_ns = s.max_ns;
        Ok(h)
    }

    /// The union of two distributions (e.g. successful and failed attempts).
    pub fn merged(a: &LatencyHist, b: &LatencyHist) -> LatencyHist {
        let mut m = a.clone();
        m.merge_from(b);
        m
    }
}

/// A histogram in portable form (see [`LatencyHist::to_stored`]).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct StoredHist {
    /// HdrHistogram V2 serialization, hex-encoded.
    pub hdr: String,
    pub zeros: u64,
    /// A u128 as decimal text (JSON numbers cannot hold it exactly).
    pub sum_ns: String,
    pub max_ns: u64,
}

/// Rounds to three decimals so JSON stays readable and stable.
pub fn round3(x: f64) -> f64 {
    (x * 1e3).round() / 1e3
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentiles_are_in_milliseconds_and_mean_is_exact() {
        let mut h = LatencyHist::default();
        for ms in 1..=100 {
            h.record(SimDuration::from_millis(ms));
        }
        let p = h.percentiles();
        assert_eq!(p.count, 100);
        assert_eq!(p.mean, 50.5);
        assert!((p.p50 - 50.0).abs() <= 0.05, "{}", p.p50);
        assert_eq!(p.max, 100.0, "the maximum is exact");
        assert!(p.p999 <= p.max, "no quantile above the maximum");
    }

    #[test]
    fn quantiles_with_zeros_match_a_histogram_holding_them() {
        let mut h = LatencyHist::default();
        for i in 0..1000u64 {
            // A third zeros, the rest spread over 1 µs .. 10 s.
            let d = if i % 3 == 0 { 0 } else { i * i * 10_000 };
            h.record(SimDuration::from_nanos(d));
        }
        let full = h.histogram();
        for q in [0.001, 0.2, 0.333, 0.334, 0.5, 0.9, 0.99, 0.999, 1.0] {
            let capped = full.value_at_quantile(q).min(h.max().as_nanos().div_ceil(1000));
            assert_eq!(h.quantile_us(q), capped, "q = {q}");
        }
    }

    #[test]
    fn the_stored_form_is_lossless() {
        let mut h = LatencyHist::default();
        for i in 0..5000u64 {
            h.record(SimDuration::from_nanos(i * i * 997 % 90_000_000_000));
        }
        let back = LatencyHist::from_stored(&h.to_stored()).expect("decodes");
        assert_eq!(back.percentiles(), h.percentiles());
        assert_eq!((back.count(), back.zero_count(), back.max()), (h.count(), h.zero_count(), h.max()));
        assert_eq!(back.histogram(), h.histogram());
        assert!(LatencyHist::from_stored(&StoredHist { hdr: "zz".into(), ..h.to_stored() }).is_err());
    }

    #[test]
    fn zero_latency_is_recorded() {
        let mut h = LatencyHist::default();
        h.record(SimDuration::ZERO);
        assert_eq!(h.count(), 1);
        assert_eq!(h.percentiles().max, 0.0);
    }
}
