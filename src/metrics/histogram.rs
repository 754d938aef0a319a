//! Latency histograms: HdrHistogram in microseconds, plus exact sums for means.
//!
//! Quantiles come from the histogram's buckets; the mean and the maximum are
//! exact. Every value a report shows is derived in nanoseconds and rounded to
//! milliseconds by one function ([`ns_to_ms`]), so rounding can never put a
//! percentile above the maximum or a mean outside [min, max]. Durations beyond
//! the histogram's range are clamped to its top *and counted*: a percentile
//! that falls among them is undefined rather than silently too small.
//!
//! Recording is on every request's path, and HdrHistogram's own `record`
//! (index from its run-time settings, min/max, total, a `Result`) cost about
//! a hundred instructions a value. A value is counted instead in a plain
//! array laid out as the histogram's buckets, its index computed from the
//! fixed settings below, and the pending counts are added to the histogram
//! before it is read: one record per bucket, with the exact least and largest
//! values pending, so the histogram ends up exactly as if each value had been
//! recorded in it (counts, total, min and max).

use std::borrow::Cow;

use hdrhistogram::Histogram;
use serde::{Deserialize, Serialize};

use crate::time::SimDuration;

/// Three significant digits from 1 µs to about 11.6 days (a documented limit).
pub const HIGHEST_US: u64 = crate::scenario::limits::HISTOGRAM_HIGHEST_US;

/// Three significant digits from a lowest value of 1: HdrHistogram's
/// sub-buckets of 2^11 values, half of them (2^10) per bucket after the first.
const SUB_BUCKET_HALF_MAGNITUDE: u32 = 10;
const SUB_BUCKET_MASK: u64 = (1 << (SUB_BUCKET_HALF_MAGNITUDE + 1)) - 1;
/// 64 - unit magnitude (0) - sub-bucket count magnitude (11).
const LEADING_ZERO_COUNT_BASE: u32 = 64 - (SUB_BUCKET_HALF_MAGNITUDE + 1);

/// The index of `us`'s bucket in the histogram's counts (HdrHistogram's
/// `index_for` with the settings above).
#[inline(always)]
fn bucket_index(us: u64) -> usize {
    let bucket = LEADING_ZERO_COUNT_BASE - (us | SUB_BUCKET_MASK).leading_zeros();
    let sub_bucket = us >> bucket;
    // sub_bucket ≥ 2^10 past bucket 0; in bucket 0 the index is the value.
    (((bucket as usize) + 1) << SUB_BUCKET_HALF_MAGNITUDE) + sub_bucket as usize - (1 << SUB_BUCKET_HALF_MAGNITUDE)
}

/// The least value of bucket `index` (HdrHistogram's `value_for`).
fn bucket_value(index: usize) -> u64 {
    let half = 1 << SUB_BUCKET_HALF_MAGNITUDE;
    let (bucket, sub_bucket) = match (index >> SUB_BUCKET_HALF_MAGNITUDE).checked_sub(1) {
        Some(b) => (b, (index & (half - 1)) + half),
        None => (0, index & (half - 1)),
    };
    (sub_bucket as u64) << bucket
}

/// Values counted but not yet added to the histogram.
#[derive(Clone, Debug)]
struct Pending {
    /// By bucket index, as the histogram's counts (allocated at the first value).
    counts: Vec<u64>,
    n: u64,
    min_us: u64,
    max_us: u64,
}

impl Default for Pending {
    fn default() -> Self {
        Pending { counts: Vec::new(), n: 0, min_us: u64::MAX, max_us: 0 }
    }
}

impl Pending {
    /// Records the pending values in `h`: each bucket's count at once, at a
    /// value of the bucket (the least pending value for its own bucket), then
    /// the largest with a count of zero, so that `h`'s min and max are exact too.
    fn add_into(&self, h: &mut Histogram<u64>) {
        if self.n == 0 {
            return;
        }
        let span = self.span();
        let min_index = *span.start();
        // Most buckets in the span are empty: skip them eight at a time.
        for (k, chunk) in self.counts[span].chunks(8).enumerate() {
            if chunk.iter().fold(0, |a, &c| a | c) == 0 {
                continue;
            }
            for (j, &c) in chunk.iter().enumerate().filter(|(_, c)| **c > 0) {
                let i = min_index + 8 * k + j;
                let v = if i == min_index { self.min_us } else { bucket_value(i) };
                h.record_n(v, c).expect("a pending value is in range");
            }
        }
        h.record_n(self.max_us, 0).expect("a pending value is in range");
    }

    /// The buckets between the least and the largest pending value: the only
    /// ones that can have a count.
    fn span(&self) -> std::ops::RangeInclusive<usize> {
        bucket_index(self.min_us)..=bucket_index(self.max_us)
    }

    fn clear(&mut self) {
        if self.n > 0 {
            let span = self.span();
            self.counts[span].fill(0);
        }
        (self.n, self.min_us, self.max_us) = (0, u64::MAX, 0);
    }
}

/// An empty histogram with the fixed settings, shared: what an unused
/// [`LatencyHist`] reads as, so that it allocates nothing.
fn empty_hdr() -> &'static Histogram<u64> {
    static EMPTY: std::sync::OnceLock<Histogram<u64>> = std::sync::OnceLock::new();
    EMPTY.get_or_init(new_hdr)
}

fn new_hdr() -> Histogram<u64> {
    Histogram::new_with_bounds(1, HIGHEST_US, 3).expect("valid bounds")
}

/// A latency distribution recorded as it happens (constant memory).
#[derive(Clone, Debug, Default)]
pub struct LatencyHist {
    /// None until values are settled into it: a run has a dozen histograms
    /// of 254 KB, many never used, and allocating, zeroing and faulting them
    /// in (with the rest of a run's memory) was a fifth of the profile of a
    /// sweep of short runs.
    h: Option<Histogram<u64>>,
    /// Non-zero values (in µs) not yet in `h`.
    pending: Pending,
    /// Zero durations (immediate 503s, jobs that start at once) are common and
    /// are counted here, then added to the histogram when it is read.
    /// Anything above zero is recorded in whole microseconds rounded up.
    zeros: u64,
    /// Durations above [`HIGHEST_US`]: recorded at the top of the range.
    saturated: u64,
    sum_ns: u128,
    /// The exact largest duration: the histogram only knows its bucket.
    max_ns: u64,
}

/// Percentiles in milliseconds, as reports show them. Every field but `count`
/// is None (JSON null) when there is no sample; a percentile is also None when
/// it falls among durations beyond the histogram's range (`saturated`).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Percentiles {
    pub count: u64,
    pub mean: Option<f64>,
    pub p50: Option<f64>,
    pub p90: Option<f64>,
    pub p99: Option<f64>,
    pub p999: Option<f64>,
    pub max: Option<f64>,
    /// Durations above the histogram's range (about 11.6 days); only written when some were.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub saturated: u64,
}

fn is_zero(n: &u64) -> bool {
    *n == 0
}

/// Nanoseconds to milliseconds with three decimals: the one rounding every
/// reported duration goes through, so the order of values is kept.
pub fn ns_to_ms(ns: u64) -> f64 {
    round3(ns as f64 / 1e6)
}

/// The rank (1-based) of quantile `q` among `n` values: HdrHistogram's rule,
/// the smallest rank reaching max(1, ⌈q·n⌉).
pub fn rank_of(q: f64, n: u64) -> u64 {
    ((q.clamp(0.0, 1.0) * n as f64).ceil() as u64).clamp(1, n.max(1))
}

impl LatencyHist {
    #[inline]
    pub fn record(&mut self, d: SimDuration) {
        // Rounded up, so the top of a value's bucket is never below the value.
        let us = d.as_nanos().div_ceil(1_000);
        if us == 0 {
            self.zeros += 1;
        } else if us > HIGHEST_US {
            self.saturated += 1;
            self.pend(HIGHEST_US);
        } else {
            self.pend(us);
        }
        self.sum_ns += u128::from(d.as_nanos());
        self.max_ns = self.max_ns.max(d.as_nanos());
    }

    /// Counts `us` (1 ≤ us ≤ [`HIGHEST_US`]) until the histogram is read.
    #[inline(always)]
    fn pend(&mut self, us: u64) {
        let i = bucket_index(us);
        // The counts are empty until the first value: then its index is out of bounds.
        if i >= self.pending.counts.len() {
            self.allocate_pending();
        }
        let p = &mut self.pending;
        p.counts[i] += 1;
        p.n += 1;
        p.min_us = p.min_us.min(us);
        p.max_us = p.max_us.max(us);
    }

    /// The pending counts, at the first value recorded (out of line, so that
    /// recording saves no registers for it).
    #[cold]
    #[inline(never)]
    fn allocate_pending(&mut self) {
        if self.pending.counts.is_empty() {
            self.pending.counts = vec![0; empty_hdr().distinct_values()];
        }
    }

    /// Adds the pending values to the histogram (see [`Pending::add_into`]).
    pub fn settle(&mut self) {
        if self.pending.n > 0 {
            self.pending.add_into(self.h.get_or_insert_with(new_hdr));
            self.pending.clear();
        }
    }

    /// The histogram with the pending values in it.
    fn hdr(&self) -> Cow<'_, Histogram<u64>> {
        let h = self.h.as_ref().unwrap_or_else(|| empty_hdr());
        if self.pending.n == 0 {
            return Cow::Borrowed(h);
        }
        let mut h = h.clone();
        self.pending.add_into(&mut h);
        Cow::Owned(h)
    }

    /// Values settled into the histogram.
    fn settled(&self) -> u64 {
        self.h.as_ref().map_or(0, Histogram::len)
    }

    pub fn count(&self) -> u64 {
        self.settled() + self.pending.n + self.zeros
    }

    /// How many recorded durations were zero.
    pub fn zero_count(&self) -> u64 {
        self.zeros
    }

    /// How many recorded durations were beyond the histogram's range.
    pub fn saturated_count(&self) -> u64 {
        self.saturated
    }

    /// Exact mean in nanoseconds, None without samples. Computed as the
    /// integer quotient plus the fraction, so it never leaves [min, max].
    pub fn mean_ns(&self) -> Option<f64> {
        let n = u128::from(self.count());
        (n > 0).then(|| (self.sum_ns / n) as f64 + (self.sum_ns % n) as f64 / n as f64)
    }

    /// Exact mean in seconds (0 without samples; see [`LatencyHist::mean_ns`]).
    pub fn mean_secs(&self) -> f64 {
        self.mean_ns().map_or(0.0, |ns| ns / 1e9)
    }

    /// The whole distribution as one HdrHistogram (for CDF charts and lossless merging).
    pub fn histogram(&self) -> Histogram<u64> {
        let mut h = self.hdr().into_owned();
        if self.zeros > 0 {
            h.record_n(0, self.zeros).expect("zero is in range");
        }
        h
    }

    /// The value in nanoseconds at rank `rank` (1-based, at most the count)
    /// — zeros first, then the histogram — as the top of its bucket capped at
    /// the exact maximum. None without samples, or when the rank falls among
    /// saturated durations (their value is only known to exceed the range).
    pub fn value_at_rank_ns(&self, rank: u64) -> Option<u64> {
        let n = self.count();
        if n == 0 {
            return None;
        }
        let rank = rank.clamp(1, n);
        if rank <= self.zeros {
            return Some(0);
        }
        if rank > n - self.saturated {
            return None;
        }
        let h = self.hdr();
        let rest = h.len() as f64;
        // A quantile whose ceiling lands exactly on the remaining rank.
        let us = h.value_at_quantile(((rank - self.zeros) as f64 - 0.5) / rest);
        Some(us.saturating_mul(1_000).min(self.max_ns))
    }

    /// The value in nanoseconds at quantile `q` (see [`LatencyHist::value_at_rank_ns`]).
    pub fn quantile_ns(&self, q: f64) -> Option<u64> {
        self.value_at_rank_ns(rank_of(q, self.count()))
    }

    /// The value in microseconds at quantile `q` (0 < q ≤ 1), never above the
    /// maximum; a saturated quantile gives the top of the range (for charts).
    pub fn quantile_us(&self, q: f64) -> u64 {
        match self.quantile_ns(q) {
            Some(ns) => ns / 1_000,
            None if self.count() == 0 => 0,
            None => HIGHEST_US,
        }
    }

    /// The exact largest duration recorded.
    pub fn max(&self) -> SimDuration {
        SimDuration::from_nanos(self.max_ns)
    }

    pub fn percentiles(&self) -> Percentiles {
        let ms = |q: f64| self.quantile_ns(q).map(ns_to_ms);
        let count = self.count();
        Percentiles {
            count,
            mean: self.mean_ns().map(|ns| round3(ns / 1e6)),
            p50: ms(0.50),
            p90: ms(0.90),
            p99: ms(0.99),
            p999: ms(0.999),
            max: (count > 0).then(|| ns_to_ms(self.max_ns)),
            saturated: self.saturated,
        }
    }

    /// Adds another distribution to this one (lossless).
    ///
    /// # Panics
    /// When a count or the sum overflows; [`LatencyHist::try_merge_from`]
    /// reports that instead, for histograms read from files.
    pub fn merge_from(&mut self, other: &LatencyHist) {
        self.try_merge_from(other).expect("histogram counts fit in u64");
    }

    /// Adds another distribution to this one, or explains why the sum does not fit.
    pub fn try_merge_from(&mut self, other: &LatencyHist) -> Result<(), HistError> {
        let overflow = || HistError::Overflow("the pooled histogram's count overflows");
        let count = |h: &LatencyHist| h.settled().checked_add(h.pending.n)?.checked_add(h.zeros);
        count(self).zip(count(other)).and_then(|(a, b)| a.checked_add(b)).ok_or_else(overflow)?;
        let zeros = self.zeros.checked_add(other.zeros).ok_or_else(overflow)?;
        let saturated = self.saturated.checked_add(other.saturated).ok_or_else(overflow)?;
        let sum = self.sum_ns.checked_add(other.sum_ns).ok_or_else(overflow)?;
        self.settle();
        if other.settled() > 0 || other.pending.n > 0 {
            let h = self.h.get_or_insert_with(new_hdr);
            if let Some(o) = &other.h {
                h.add(o).map_err(|e| HistError::Decode(format!("the histograms do not add up: {e:?}")))?;
            }
            other.pending.add_into(h);
        }
        (self.zeros, self.saturated, self.sum_ns) = (zeros, saturated, sum);
        self.max_ns = self.max_ns.max(other.max_ns);
        Ok(())
    }

    /// A lossless, portable form: HdrHistogram's V2 serialization (hex) plus
    /// the exact fields kept beside it.
    pub fn to_stored(&self) -> StoredHist {
        use hdrhistogram::serialization::Serializer;
        let mut bytes = Vec::new();
        hdrhistogram::serialization::V2Serializer::new()
            .serialize(&*self.hdr(), &mut bytes)
            .expect("serializing into memory cannot fail");
        StoredHist {
            hdr: bytes.iter().map(|b| format!("{b:02x}")).collect(),
            zeros: self.zeros,
            saturated: self.saturated,
            sum_ns: self.sum_ns.to_string(),
            max_ns: self.max_ns,
        }
    }

    /// Rebuilds a histogram from [`LatencyHist::to_stored`], checking that it
    /// is one this program could have written: the header's length and
    /// bounds, counts that fit, and exact fields that agree with the buckets.
    /// Nothing is allocated from an unchecked size.
    pub fn from_stored(s: &StoredHist) -> Result<LatencyHist, HistError> {
        if !s.hdr.len().is_multiple_of(2) || !s.hdr.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(HistError::NotHex);
        }
        let bytes: Vec<u8> =
            (0..s.hdr.len()).step_by(2).map(|i| u8::from_str_radix(&s.hdr[i..i + 2], 16).expect("checked")).collect();
        check_header(&bytes)?;
        let decoded: Histogram<u64> = hdrhistogram::serialization::Deserializer::new()
            .deserialize(&mut bytes.as_slice())
            .map_err(|e| HistError::Decode(format!("cannot decode the histogram: {e:?}")))?;
        let mut total: u64 = 0;
        let mut top_us = 0;
        for v in decoded.iter_recorded() {
            total =
                total.checked_add(v.count_at_value()).ok_or(HistError::Overflow("the histogram's counts overflow"))?;
            top_us = v.value_iterated_to();
        }
        if total != decoded.len() {
            return Err(HistError::Overflow("the histogram's counts overflow"));
        }
        let count = total.checked_add(s.zeros).ok_or(HistError::Overflow("zeros + the histogram's count overflows"))?;
        let bad = |why: String| Err(HistError::Inconsistent(why));
        if s.saturated > total {
            return bad(format!("saturated = {} exceeds the histogram's count {total}", s.saturated));
        }
        let Ok(sum_ns) = s.sum_ns.parse::<u128>() else {
            return bad("sum_ns is not a non-negative integer".into());
        };
        // The exact fields must fit the buckets: the maximum lies in the top
        // bucket, and the sum between count × 0 and count × maximum.
        if count == 0 && (s.max_ns != 0 || sum_ns != 0) {
            return bad("an empty histogram has a non-zero max_ns or sum_ns".into());
        }
        if total > 0 {
            let top = decoded.lowest_equivalent(top_us);
            let max_us = s.max_ns.div_ceil(1_000);
            let in_top = if s.saturated > 0 { max_us > HIGHEST_US } else { decoded.equivalent(max_us, top) };
            if !in_top {
                return bad(format!("max_ns = {} does not lie in the histogram's top bucket", s.max_ns));
            }
        } else if s.max_ns > 0 {
            return bad(format!("max_ns = {} but every recorded duration is zero", s.max_ns));
        }
        if sum_ns > u128::from(count) * u128::from(s.max_ns) {
            return bad(format!("sum_ns = {sum_ns} exceeds count × max_ns"));
        }
        let mut h = LatencyHist::default();
        if total > 0 {
            let hdr = h.h.insert(new_hdr());
            hdr.add(&decoded).map_err(|e| HistError::Decode(format!("the histogram does not fit: {e:?}")))?;
        }
        (h.zeros, h.saturated, h.sum_ns, h.max_ns) = (s.zeros, s.saturated, sum_ns, s.max_ns);
        Ok(h)
    }

    /// The union of two distributions (e.g. successful and failed attempts).
    pub fn merged(a: &LatencyHist, b: &LatencyHist) -> LatencyHist {
        let mut m = a.clone();
        m.merge_from(b);
        m
    }
}

/// HdrHistogram V2's header: cookie, payload length, normalizing offset,
/// significant digits, lowest and highest trackable value, conversion ratio.
const V2_HEADER: usize = 40;
/// The cookie of V2 with 8-byte counters, uncompressed: what `V2Serializer` writes.
const V2_COOKIE: u32 = 0x1c84_9313;

/// Refuses a serialized histogram whose header this program did not write
/// (before the decoder allocates anything from it).
fn check_header(b: &[u8]) -> Result<(), HistError> {
    if b.len() < V2_HEADER {
        return Err(HistError::Header(format!(
            "the histogram is {} bytes, shorter than its {V2_HEADER}-byte header",
            b.len()
        )));
    }
    let u32_at = |i: usize| u32::from_be_bytes(b[i..i + 4].try_into().expect("4 bytes"));
    let u64_at = |i: usize| u64::from_be_bytes(b[i..i + 8].try_into().expect("8 bytes"));
    if u32_at(0) != V2_COOKIE {
        return Err(HistError::Header(format!(
            "the histogram has cookie {:#010x}, expected {V2_COOKIE:#010x} (uncompressed V2)",
            u32_at(0)
        )));
    }
    let payload = u32_at(4) as usize;
    if payload != b.len() - V2_HEADER {
        return Err(HistError::Header(format!(
            "the histogram's header announces {payload} payload bytes but {} follow",
            b.len() - V2_HEADER
        )));
    }
    let (offset, digits, low, high) = (u32_at(8), u32_at(12), u64_at(16), u64_at(24));
    if offset != 0 || digits != 3 || low != 1 || high != HIGHEST_US || f64::from_bits(u64_at(32)) != 1.0 {
        return Err(HistError::Header(format!(
            "the histogram's header (digits {digits}, range {low}..{high}, offset {offset}) is not stampede's (3, 1..{HIGHEST_US}, 0)"
        )));
    }
    Ok(())
}

/// Why a stored histogram cannot be read, or two histograms not pooled.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum HistError {
    #[error("the histogram is not hex")]
    NotHex,
    /// The serialized header is not one this program writes.
    #[error("{0}")]
    Header(String),
    /// HdrHistogram cannot decode or add the buckets.
    #[error("{0}")]
    Decode(String),
    /// A count or a sum does not fit in its integer.
    #[error("{0}")]
    Overflow(&'static str),
    /// The exact fields beside the buckets disagree with them.
    #[error("{0}")]
    Inconsistent(String),
}

/// A histogram in portable form (see [`LatencyHist::to_stored`]).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct StoredHist {
    /// HdrHistogram V2 serialization, hex-encoded.
    pub hdr: String,
    pub zeros: u64,
    /// Durations beyond the range (recorded at its top).
    #[serde(default, skip_serializing_if = "is_zero")]
    pub saturated: u64,
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
    use rand::{RngExt, SeedableRng};

    #[test]
    fn percentiles_are_in_milliseconds_and_mean_is_exact() {
        let mut h = LatencyHist::default();
        for ms in 1..=100 {
            h.record(SimDuration::from_millis(ms));
        }
        let p = h.percentiles();
        assert_eq!(p.count, 100);
        assert_eq!(p.mean, Some(50.5));
        assert!((p.p50.expect("p50") - 50.0).abs() <= 0.05, "{:?}", p.p50);
        assert_eq!(p.max, Some(100.0), "the maximum is exact");
        assert!(p.p999 <= p.max, "no quantile above the maximum");
    }

    #[test]
    fn no_samples_give_undefined_not_zero() {
        let p = LatencyHist::default().percentiles();
        assert_eq!(p, Percentiles::default());
        assert_eq!((p.mean, p.p50, p.max), (None, None, None));
        let json = serde_json::to_string(&p).expect("json");
        assert!(json.contains("\"p99\":null") && json.contains("\"mean\":null"), "{json}");
    }

    /// The maximum was rounded to the nearest microsecond while the cap on
    /// percentiles was rounded up: a p99 of 583754.225 ms against a max of
    /// 583754.224 ms.
    #[test]
    fn percentile_never_exceeds_max_after_rounding_to_milliseconds() {
        let mut h = LatencyHist::default();
        h.record(SimDuration::from_nanos(583_754_224_400));
        for ms in 1..200 {
            h.record(SimDuration::from_millis(ms * 1000));
        }
        let p = h.percentiles();
        assert_eq!(p.max, Some(583_754.224));
        assert_eq!(p.p999, p.max, "the top percentile is capped at the max, in the units shown");
    }

    fn check_order(p: &Percentiles, min_ms: f64, what: &str) {
        let ps = [p.p50, p.p90, p.p99, p.p999];
        let defined: Vec<f64> = ps.iter().flatten().copied().collect();
        // Undefined percentiles (saturated) are the top ones, never in between.
        assert!(ps.iter().skip_while(|x| x.is_some()).all(Option::is_none), "{what}: {p:?}");
        assert!(defined.windows(2).all(|w| w[0] <= w[1]), "{what}: percentiles out of order {p:?}");
        let max = p.max.expect("max");
        assert!(defined.iter().all(|&v| v <= max && v >= min_ms), "{what}: a percentile outside [min, max] {p:?}");
        let mean = p.mean.expect("mean");
        assert!(mean >= min_ms && mean <= max, "{what}: mean {mean} outside [{min_ms}, {max}]");
    }

    #[test]
    fn percentiles_are_ordered_and_within_min_and_max_for_random_histograms() {
        let mut rng = rand_pcg::Pcg64Mcg::seed_from_u64(8_4);
        for case in 0..3000 {
            let n = rng.random_range(1..400);
            // Scales from nanoseconds to beyond the histogram's range.
            let scale = 10u64.pow(rng.random_range(0..19u32));
            let mut h = LatencyHist::default();
            let mut min = u64::MAX;
            for _ in 0..n {
                let d = match rng.random_range(0..10) {
                    0 => 0,
                    1 => scale,
                    _ => rng.random_range(0..=scale),
                };
                min = min.min(d);
                h.record(SimDuration::from_nanos(d));
            }
            let what = format!("case {case} (n {n}, scale {scale} ns)");
            let p = h.percentiles();
            check_order(&p, ns_to_ms(min), &what);
            let back = LatencyHist::from_stored(&h.to_stored()).unwrap_or_else(|e| panic!("{what}: {e}"));
            assert_eq!(back.percentiles(), p, "{what}: the stored form is lossless");
            let mut merged = back;
            merged.merge_from(&h);
            check_order(&merged.percentiles(), ns_to_ms(min), &format!("{what}, merged with itself"));
        }
    }

    #[test]
    fn durations_beyond_the_range_are_counted_and_their_percentiles_undefined() {
        let mut h = LatencyHist::default();
        for _ in 0..98 {
            h.record(SimDuration::from_secs(1));
        }
        let twenty_days = SimDuration::from_secs(20 * 86_400);
        h.record(twenty_days);
        h.record(twenty_days);
        let p = h.percentiles();
        assert_eq!(p.saturated, 2);
        assert!((p.p90.expect("p90") - 1000.0).abs() <= 1.0, "{:?}: 1 s within its bucket", p.p90);
        assert_eq!((p.p99, p.p999), (None, None), "p99 falls among the saturated durations");
        assert_eq!(p.max, Some(twenty_days.as_secs_f64() * 1e3), "the maximum stays exact");
        let back = LatencyHist::from_stored(&h.to_stored()).expect("decodes");
        assert_eq!(back.percentiles(), p);
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
            let capped = (full.value_at_quantile(q) * 1000).min(h.max().as_nanos());
            assert_eq!(h.quantile_ns(q), Some(capped), "q = {q}");
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

    fn sample() -> LatencyHist {
        let mut h = LatencyHist::default();
        for ms in [3, 5, 8, 13, 21] {
            h.record(SimDuration::from_millis(ms));
        }
        h
    }

    /// Replaces the bytes at `at` of the serialized histogram.
    fn patched(s: &StoredHist, at: usize, bytes: &[u8]) -> StoredHist {
        let hex: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
        let mut hdr = s.hdr.clone();
        hdr.replace_range(2 * at..2 * (at + bytes.len()), &hex);
        StoredHist { hdr, ..s.clone() }
    }

    #[test]
    fn a_corrupt_stored_histogram_is_refused_before_allocating() {
        let s = sample().to_stored();
        let err = |s: StoredHist| LatencyHist::from_stored(&s).expect_err("corrupt").to_string();
        assert!(err(patched(&s, 4, &[0xff; 4])).contains("announces 4294967295 payload bytes"));
        assert!(err(patched(&s, 12, &[0, 0, 0, 5])).contains("is not stampede's"));
        assert!(err(patched(&s, 24, &[0x7f; 8])).contains("is not stampede's"));
        assert!(err(patched(&s, 0, &[0x1c, 0x84, 0x93, 0x14])).contains("cookie"), "compressed V2 is refused");
        assert!(err(StoredHist { hdr: s.hdr[..60].into(), ..s.clone() }).contains("shorter than"));
        assert!(err(StoredHist { zeros: u64::MAX, ..s.clone() }).contains("overflows"));
        assert!(err(StoredHist { saturated: 6, ..s.clone() }).contains("saturated"));
        assert!(err(StoredHist { max_ns: 1_000_000_000, ..s.clone() }).contains("top bucket"));
        assert!(err(StoredHist { sum_ns: "999999999999".into(), ..s.clone() }).contains("exceeds count × max_ns"));
        assert!(err(StoredHist { sum_ns: "-5".into(), ..s.clone() }).contains("sum_ns"));
        assert!(LatencyHist::from_stored(&s).is_ok());
    }

    #[test]
    fn pooling_reports_an_overflow_instead_of_wrapping() {
        let mut a = sample();
        a.zeros = u64::MAX - 20;
        let mut b = sample();
        b.zeros = 100;
        let err = a.try_merge_from(&b).expect_err("overflow");
        assert!(matches!(err, HistError::Overflow(_)) && err.to_string().contains("overflows"), "{err}");
        assert_eq!(a.zeros, u64::MAX - 20, "nothing changed");
    }

    /// Recording through the pending counts leaves the histogram exactly as
    /// recording each value in it: counts, total, min and max, whatever the
    /// order of records, settles and reads.
    #[test]
    fn pending_values_settle_into_exactly_the_directly_recorded_histogram() {
        let mut rng = rand_pcg::Pcg64Mcg::seed_from_u64(11);
        for round in 0..300 {
            let mut fast = LatencyHist::default();
            let mut direct: Histogram<u64> = Histogram::new_with_bounds(1, HIGHEST_US, 3).expect("valid bounds");
            for _ in 0..rng.random_range(0..60) {
                // Every scale, the range's ends and bucket edges included.
                let us = match rng.random_range(0..5) {
                    0 => rng.random_range(1..4096),
                    1 => 1 << rng.random_range(0..40),
                    2 => HIGHEST_US - rng.random_range(0..3),
                    _ => rng.random_range(1..=HIGHEST_US) >> rng.random_range(0..40),
                }
                .max(1);
                assert_eq!(bucket_value(bucket_index(us)), direct.lowest_equivalent(us), "{us}");
                fast.record(SimDuration::from_nanos(us * 1_000));
                direct.record(us).expect("in range");
                if rng.random_range(0..10) == 0 {
                    fast.settle();
                }
            }
            let read = fast.histogram();
            // Pooled while still pending, too.
            let mut pooled = LatencyHist::default();
            pooled.merge_from(&fast);
            fast.settle();
            let (settled, pooled) = (fast.hdr(), pooled.hdr());
            for h in [&read, &*settled, &*pooled] {
                assert_eq!(h, &direct, "round {round}");
                assert_eq!(
                    (h.len(), h.min_nz(), h.max()),
                    (direct.len(), direct.min_nz(), direct.max()),
                    "round {round}"
                );
            }
        }
        for i in 1..Histogram::<u64>::new_with_bounds(1, HIGHEST_US, 3).expect("valid").distinct_values() {
            assert_eq!(bucket_index(bucket_value(i)), i);
        }
    }

    #[test]
    fn zero_latency_is_recorded() {
        let mut h = LatencyHist::default();
        h.record(SimDuration::ZERO);
        assert_eq!(h.count(), 1);
        assert_eq!(h.percentiles().max, Some(0.0));
    }
}
