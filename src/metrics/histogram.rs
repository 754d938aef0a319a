//! Latency histograms: HdrHistogram's buckets in microseconds, plus exact
//! sums for means.
//!
//! Quantiles come from the histogram's buckets; the mean and the maximum are
//! exact. Every value a report shows is derived in nanoseconds and rounded to
//! milliseconds by one function ([`ns_to_ms`]), so rounding can never put a
//! percentile above the maximum or a mean outside [min, max]. Durations beyond
//! the histogram's range are clamped to its top *and counted*: a percentile
//! that falls among them is undefined rather than silently too small.
//!
//! The buckets are HdrHistogram's (3 significant digits from 1 µs), its
//! quantile rule and its V2 serialization, but kept here in a plain array:
//! recording is on every request's path, and HdrHistogram's own `record`
//! (index from its run-time settings, min/max, total, a `Result`) cost about
//! a hundred instructions a value; and a sweep of short runs spent a quarter
//! of its time building, zeroing and faulting in HdrHistograms of 254 KB to
//! read four percentiles from each. An HdrHistogram is built only for charts
//! ([`LatencyHist::histogram`]), exactly as if each value had been recorded in
//! it (counts, total, min and max); the tests hold every quantile and every
//! serialized byte to HdrHistogram's own.
//!
//! The count arrays of dropped histograms are kept, zeroed, for the next
//! histogram on the same thread (a run's and its summary's).

use std::cell::RefCell;

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
const fn bucket_index(us: u64) -> usize {
    let bucket = LEADING_ZERO_COUNT_BASE - (us | SUB_BUCKET_MASK).leading_zeros();
    let sub_bucket = us >> bucket;
    // sub_bucket ≥ 2^10 past bucket 0; in bucket 0 the index is the value.
    (((bucket as usize) + 1) << SUB_BUCKET_HALF_MAGNITUDE) + sub_bucket as usize - (1 << SUB_BUCKET_HALF_MAGNITUDE)
}

/// Buckets up to the one holding [`HIGHEST_US`] (HdrHistogram's array runs
/// to the end of that bucket; no value lands beyond).
const BUCKETS: usize = bucket_index(HIGHEST_US) + 1;

/// The least value of bucket `index` (HdrHistogram's `value_for`).
fn bucket_value(index: usize) -> u64 {
    let half = 1 << SUB_BUCKET_HALF_MAGNITUDE;
    let (bucket, sub_bucket) = match (index >> SUB_BUCKET_HALF_MAGNITUDE).checked_sub(1) {
        Some(b) => (b, (index & (half - 1)) + half),
        None => (0, index & (half - 1)),
    };
    (sub_bucket as u64) << bucket
}

/// The top of bucket `index`: HdrHistogram's `highest_equivalent` of its
/// least value, which is what its quantiles report.
fn bucket_top(index: usize) -> u64 {
    let bucket = (index >> SUB_BUCKET_HALF_MAGNITUDE).saturating_sub(1);
    bucket_value(index) + (1 << bucket) - 1
}

/// The width, in seconds, of the bucket a duration of `secs` is recorded in:
/// a percentile read from these histograms (a bucket's top) may lie that far
/// from the sample's own (0.05% to 0.1% of the value, and 1 µs below 2 ms).
fn resolution_secs(secs: f64) -> f64 {
    if !(secs.is_finite() && secs > 0.0) {
        return 0.0;
    }
    let us = (secs * 1e6).ceil().clamp(1.0, HIGHEST_US as f64) as u64;
    let bucket = (bucket_index(us) >> SUB_BUCKET_HALF_MAGNITUDE).saturating_sub(1);
    (1u64 << bucket) as f64 / 1e6
}

/// How far, on average, the defined `values` of `metric` (one per seed) may
/// lie from the exact ones: the mean width of their buckets for a
/// percentile read from these histograms, else 0.
pub fn resolution(metric: crate::criteria::Metric, values: &[Option<f64>]) -> f64 {
    if !metric.quantized() {
        return 0.0;
    }
    let widths: Vec<f64> = values.iter().flatten().map(|&v| resolution_secs(v)).collect();
    widths.iter().sum::<f64>() / widths.len().max(1) as f64
}

/// How many spare count arrays a thread keeps (254 KB each): enough for the
/// histograms of a run and of the summary built from it.
const MAX_SPARE: usize = 32;

thread_local! {
    /// Count arrays of dropped histograms, all zero again.
    static SPARE: RefCell<Vec<Vec<u64>>> = const { RefCell::new(Vec::new()) };
}

/// An all-zero count array: a spare one when this thread has one.
fn zeroed_counts() -> Vec<u64> {
    let spare = SPARE.try_with(|s| s.borrow_mut().pop()).ok().flatten();
    spare.unwrap_or_else(|| vec![0; BUCKETS])
}

/// The non-zero values, counted by bucket.
#[derive(Debug)]
struct Buckets {
    /// By bucket index, as HdrHistogram's counts (allocated at the first value).
    counts: Vec<u64>,
    n: u64,
    /// The exact least and largest values (a decoded histogram knows only
    /// their buckets: then the buckets' least values).
    min_us: u64,
    max_us: u64,
}

impl Default for Buckets {
    fn default() -> Self {
        Buckets { counts: Vec::new(), n: 0, min_us: u64::MAX, max_us: 0 }
    }
}

impl Buckets {
    /// Counts `us` (1 ≤ us ≤ [`HIGHEST_US`]).
    #[inline(always)]
    fn add_value(&mut self, us: u64) {
        let i = bucket_index(us);
        // The counts are empty until the first value: then its index is out of bounds.
        if i >= self.counts.len() {
            self.allocate();
        }
        self.counts[i] += 1;
        self.n += 1;
        self.min_us = self.min_us.min(us);
        self.max_us = self.max_us.max(us);
    }

    /// The counts, at the first value (out of line, so that recording saves
    /// no registers for it).
    #[cold]
    #[inline(never)]
    fn allocate(&mut self) {
        if self.counts.is_empty() {
            self.counts = zeroed_counts();
        }
    }

    /// The buckets between the least and the largest value: the only ones
    /// that can have a count.
    fn span(&self) -> std::ops::RangeInclusive<usize> {
        bucket_index(self.min_us)..=bucket_index(self.max_us)
    }

    /// The non-empty buckets in the span, in order, as (index, count).
    fn each(&self) -> impl Iterator<Item = (usize, u64)> + '_ {
        let (start, counts) = match self.n {
            0 => (0, &[][..]),
            _ => (bucket_index(self.min_us), &self.counts[self.span()]),
        };
        // Most buckets in the span are empty: pass them eight at a time.
        counts.chunks(8).enumerate().filter(|(_, c)| c.iter().fold(0, |a, &x| a | x) != 0).flat_map(
            move |(k, chunk)| {
                chunk.iter().enumerate().filter(|(_, c)| **c > 0).map(move |(j, &c)| (start + 8 * k + j, c))
            },
        )
    }

    /// Records the values in `h`: each bucket's count at once, at a value of
    /// the bucket (the least value for its own bucket), then the largest with
    /// a count of zero, so that `h`'s min and max are exact too.
    fn add_into(&self, h: &mut Histogram<u64>) {
        if self.n == 0 {
            return;
        }
        let min_index = bucket_index(self.min_us);
        for (i, c) in self.each() {
            let v = if i == min_index { self.min_us } else { bucket_value(i) };
            h.record_n(v, c).expect("a counted value is in range");
        }
        h.record_n(self.max_us, 0).expect("a counted value is in range");
    }

    /// Adds `other`'s values to these.
    fn add(&mut self, other: &Buckets) {
        if other.n == 0 {
            return;
        }
        if self.counts.is_empty() {
            self.counts = zeroed_counts();
        }
        let span = other.span();
        for (a, b) in self.counts[span.clone()].iter_mut().zip(&other.counts[span]) {
            *a += b;
        }
        self.n += other.n;
        self.min_us = self.min_us.min(other.min_us);
        self.max_us = self.max_us.max(other.max_us);
    }

    /// The top of the bucket of the `rank`-th least value (1 ≤ rank ≤ n):
    /// what HdrHistogram's `value_at_quantile` gives for that rank.
    // Its own walk, summing whole chunks: a search through `each` made a
    // sweep of short runs 4% slower.
    fn value_at_rank(&self, rank: u64) -> u64 {
        let span = self.span();
        let start = *span.start();
        let mut seen = 0;
        for (k, chunk) in self.counts[span].chunks(8).enumerate() {
            let sum: u64 = chunk.iter().sum();
            if seen + sum < rank {
                seen += sum;
                continue;
            }
            for (j, &c) in chunk.iter().enumerate() {
                seen += c;
                if seen >= rank {
                    return bucket_top(start + 8 * k + j);
                }
            }
        }
        unreachable!("rank {rank} is beyond the {} values", self.n)
    }

    /// HdrHistogram's V2 payload: the counts from index 0 to the largest
    /// value's, each a zig-zag varint, a run of more than one empty bucket
    /// as its negated length (what `V2Serializer` writes).
    fn encode_v2(&self, out: &mut Vec<u8>) {
        let mut put = |v: i64| {
            let mut zz = ((v << 1) ^ (v >> 63)) as u64;
            for _ in 0..8 {
                if zz < 0x80 {
                    out.push(zz as u8);
                    return;
                }
                out.push(0x80 | (zz & 0x7f) as u8);
                zz >>= 7;
            }
            out.push(zz as u8);
        };
        let (mut next, mut last) = (0, 0);
        for (i, c) in self.each() {
            match i - next {
                0 => {}
                1 => put(0),
                gap => put(-(gap as i64)),
            }
            // As HdrHistogram's serializer: a count above i64::MAX (9.2e18 values) has no encoding.
            put(i64::try_from(c).expect("a bucket's count fits in i64"));
            (next, last) = (i + 1, i);
        }
        if self.n == 0 {
            // HdrHistogram writes bucket 0 of an empty histogram, empty.
            put(0);
        }
        debug_assert!(self.n == 0 || last == bucket_index(self.max_us));
    }

    /// Reads [`Buckets::encode_v2`]'s payload, refusing a bucket beyond the
    /// range, a truncated varint or a total that overflows.
    fn decode_v2(mut bytes: &[u8]) -> Result<Buckets, HistError> {
        let mut b = Buckets::default();
        let mut next = 0usize;
        while !bytes.is_empty() {
            let mut zz = 0u64;
            let mut k = 0;
            loop {
                let Some((&byte, rest)) = bytes.split_first() else {
                    return Err(HistError::Decode("the histogram's last count is cut short".into()));
                };
                bytes = rest;
                if k == 8 {
                    zz |= u64::from(byte) << 56;
                    break;
                }
                zz |= u64::from(byte & 0x7f) << (7 * k);
                k += 1;
                if byte < 0x80 {
                    break;
                }
            }
            let v = ((zz >> 1) as i64) ^ -((zz & 1) as i64);
            let beyond = || HistError::Decode(format!("the histogram counts values beyond {HIGHEST_US} µs"));
            if v < 0 {
                next = next.checked_add(v.unsigned_abs() as usize).filter(|&n| n <= BUCKETS).ok_or_else(beyond)?;
                continue;
            }
            if v > 0 {
                if next >= BUCKETS {
                    return Err(beyond());
                }
                if b.counts.is_empty() {
                    b.counts = zeroed_counts();
                }
                // Consistent at every step (nothing outside the span): on an
                // error the partial buckets are dropped, and cleared for reuse.
                b.n = b.n.checked_add(v as u64).ok_or(HistError::Overflow("the histogram's counts overflow"))?;
                b.counts[next] = v as u64;
                b.min_us = b.min_us.min(bucket_value(next));
                b.max_us = bucket_value(next);
            }
            next += 1;
        }
        Ok(b)
    }

    fn clear(&mut self) {
        if self.n > 0 {
            let span = self.span();
            self.counts[span].fill(0);
        }
        (self.n, self.min_us, self.max_us) = (0, u64::MAX, 0);
    }
}

impl Clone for Buckets {
    /// Copies only the span (into a spare array when there is one).
    fn clone(&self) -> Self {
        let mut b = Buckets { counts: Vec::new(), n: self.n, min_us: self.min_us, max_us: self.max_us };
        if self.n > 0 {
            b.counts = zeroed_counts();
            let span = self.span();
            b.counts[span.clone()].copy_from_slice(&self.counts[span]);
        }
        b
    }
}

impl Drop for Buckets {
    /// Keeps the count array, zeroed, for the thread's next histogram.
    fn drop(&mut self) {
        if self.counts.is_empty() {
            return;
        }
        self.clear();
        let counts = std::mem::take(&mut self.counts);
        // During the thread's exit the spares are gone: the array is freed.
        let _ = SPARE.try_with(|s| {
            let mut s = s.borrow_mut();
            if s.len() < MAX_SPARE {
                s.push(counts);
            }
        });
    }
}

fn new_hdr() -> Histogram<u64> {
    Histogram::new_with_bounds(1, HIGHEST_US, 3).expect("valid bounds")
}

/// A latency distribution recorded as it happens (constant memory).
#[derive(Clone, Debug, Default)]
pub struct LatencyHist {
    /// Non-zero durations in microseconds, rounded up.
    buckets: Buckets,
    /// Zero durations (immediate 503s, jobs that start at once) are common and
    /// are counted here, below every bucket.
    zeros: u64,
    /// Durations above [`HIGHEST_US`]: counted in the top bucket as well.
    saturated: u64,
    sum_ns: u128,
    /// The exact largest duration: the buckets only know its bucket.
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
            self.buckets.add_value(HIGHEST_US);
        } else {
            self.buckets.add_value(us);
        }
        self.sum_ns += u128::from(d.as_nanos());
        self.max_ns = self.max_ns.max(d.as_nanos());
    }

    /// The buckets as an HdrHistogram (without the zeros).
    fn hdr(&self) -> Histogram<u64> {
        let mut h = new_hdr();
        self.buckets.add_into(&mut h);
        h
    }

    pub fn count(&self) -> u64 {
        self.buckets.n + self.zeros
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

    /// The whole distribution as one HdrHistogram, zeros included (for charts).
    pub fn histogram(&self) -> Histogram<u64> {
        let mut h = self.hdr();
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
        let us = self.buckets.value_at_rank(rank - self.zeros);
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
        let count = |h: &LatencyHist| h.buckets.n.checked_add(h.zeros);
        count(self).zip(count(other)).and_then(|(a, b)| a.checked_add(b)).ok_or_else(overflow)?;
        let zeros = self.zeros.checked_add(other.zeros).ok_or_else(overflow)?;
        let saturated = self.saturated.checked_add(other.saturated).ok_or_else(overflow)?;
        let sum = self.sum_ns.checked_add(other.sum_ns).ok_or_else(overflow)?;
        self.buckets.add(&other.buckets);
        (self.zeros, self.saturated, self.sum_ns) = (zeros, saturated, sum);
        self.max_ns = self.max_ns.max(other.max_ns);
        Ok(())
    }

    /// A lossless, portable form: HdrHistogram's V2 serialization (hex) plus
    /// the exact fields kept beside it.
    pub fn to_stored(&self) -> StoredHist {
        let mut bytes = Vec::with_capacity(V2_HEADER + 64);
        bytes.extend(V2_COOKIE.to_be_bytes());
        bytes.extend(0u32.to_be_bytes()); // the payload's length, set below
        bytes.extend(0u32.to_be_bytes()); // normalizing index offset
        bytes.extend(3u32.to_be_bytes()); // significant digits
        bytes.extend(1u64.to_be_bytes()); // lowest discernible value
        bytes.extend(HIGHEST_US.to_be_bytes());
        bytes.extend(1f64.to_be_bytes()); // integer to double conversion ratio
        self.buckets.encode_v2(&mut bytes);
        let payload = u32::try_from(bytes.len() - V2_HEADER).expect("at most 9 bytes per bucket");
        bytes[4..8].copy_from_slice(&payload.to_be_bytes());
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
        let buckets = Buckets::decode_v2(&bytes[V2_HEADER..])?;
        let total = buckets.n;
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
            let max_us = s.max_ns.div_ceil(1_000);
            let top = bucket_index(buckets.max_us);
            let in_top = if s.saturated > 0 { max_us > HIGHEST_US } else { bucket_index(max_us) == top };
            if !in_top {
                return bad(format!("max_ns = {} does not lie in the histogram's top bucket", s.max_ns));
            }
        } else if s.max_ns > 0 {
            return bad(format!("max_ns = {} but every recorded duration is zero", s.max_ns));
        }
        if sum_ns > u128::from(count) * u128::from(s.max_ns) {
            return bad(format!("sum_ns = {sum_ns} exceeds count × max_ns"));
        }
        Ok(LatencyHist { buckets, zeros: s.zeros, saturated: s.saturated, sum_ns, max_ns: s.max_ns })
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
    #[test]
    fn the_resolution_is_the_width_of_the_bucket_a_duration_lands_in() {
        assert_eq!(resolution_secs(5.36), 0.004096);
        assert_eq!(resolution_secs(0.001), 1e-6, "exact to the microsecond below 2 ms");
        assert_eq!(resolution_secs(0.0021), 2e-6);
        assert_eq!((resolution_secs(0.0), resolution_secs(f64::INFINITY)), (0.0, 0.0));
    }

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

    /// A random duration in ns at every scale: zeros, the range's ends,
    /// bucket edges, and beyond the range.
    fn any_duration_ns(rng: &mut rand_pcg::Pcg64Mcg) -> u64 {
        match rng.random_range(0..7) {
            0 => 0,
            1 => (HIGHEST_US + rng.random_range(0..3)) * 1_000,
            2 => (HIGHEST_US - rng.random_range(0..3)) * 1_000,
            3 => (1 << rng.random_range(0..40)) * 1_000,
            4 => rng.random_range(1..5_000_000),
            _ => rng.random_range(1..=HIGHEST_US * 1_000) >> rng.random_range(0..50),
        }
    }

    /// The buckets are HdrHistogram's to the byte: each histogram below is
    /// also recorded value by value in an HdrHistogram, and its chart form,
    /// every rank's value, its serialized form (whose header the decoder
    /// checks) and what pooling gives all match HdrHistogram's own.
    #[test]
    fn the_buckets_are_hdrhistograms_to_the_byte() {
        use hdrhistogram::serialization::{Serializer, V2Serializer};
        let mut rng = rand_pcg::Pcg64Mcg::seed_from_u64(11);
        let new = || (LatencyHist::default(), new_hdr());
        let (mut pooled, mut pooled_direct) = new();
        for round in 0..300 {
            let (mut fast, mut direct) = new();
            for _ in 0..rng.random_range(0..60) {
                let ns = any_duration_ns(&mut rng);
                fast.record(SimDuration::from_nanos(ns));
                let us = ns.div_ceil(1_000).min(HIGHEST_US);
                if us > 0 {
                    assert_eq!(bucket_value(bucket_index(us)), direct.lowest_equivalent(us), "{us}");
                    direct.record(us).expect("in range");
                }
            }
            for (fast, direct) in [(&fast, &direct), (&pooled, &pooled_direct)] {
                let read = fast.hdr();
                assert_eq!(read, *direct, "round {round}");
                assert_eq!((read.len(), read.min_nz(), read.max()), (direct.len(), direct.min_nz(), direct.max()));
                let mut bytes = Vec::new();
                V2Serializer::new().serialize(direct, &mut bytes).expect("in memory");
                let stored = fast.to_stored();
                assert_eq!(stored.hdr, bytes.iter().map(|b| format!("{b:02x}")).collect::<String>(), "round {round}");
                let back = LatencyHist::from_stored(&stored).expect("decodes");
                assert_eq!((back.to_stored(), back.hdr()), (stored, read), "round {round}");
                let (zeros, n) = (fast.zero_count(), direct.len());
                // Every rank of a round's histogram; about fifty of the pooled one.
                let step = (fast.count() / 50).max(1) as usize;
                for rank in (0..=fast.count() + 1).step_by(step) {
                    // HdrHistogram's quantile whose ceiling lands exactly on the rank.
                    let expected = match rank.clamp(1, fast.count().max(1)) {
                        _ if fast.count() == 0 => None,
                        r if r <= zeros => Some(0),
                        r if r > fast.count() - fast.saturated_count() => None,
                        r => Some(
                            (direct.value_at_quantile(((r - zeros) as f64 - 0.5) / n as f64) * 1_000).min(fast.max_ns),
                        ),
                    };
                    assert_eq!(fast.value_at_rank_ns(rank), expected, "round {round}, rank {rank}");
                    assert_eq!(back.value_at_rank_ns(rank), expected, "round {round}, rank {rank}");
                }
            }
            pooled.merge_from(&fast);
            pooled_direct.add(&direct).expect("same bounds");
        }
        let hdr = new_hdr();
        assert!(BUCKETS <= hdr.distinct_values());
        assert_eq!(bucket_value(BUCKETS - 1), hdr.lowest_equivalent(HIGHEST_US), "the last bucket holds the top");
        for i in 1..BUCKETS {
            assert_eq!(bucket_index(bucket_value(i)), i);
            assert_eq!(bucket_top(i), hdr.highest_equivalent(bucket_value(i)), "{i}");
        }
    }

    /// A stored form whose counts run past the range, or whose last varint
    /// is cut short, is refused.
    #[test]
    fn a_stored_form_with_bad_counts_is_refused() {
        let s = sample().to_stored();
        let header = &s.hdr[..2 * V2_HEADER];
        let with = |payload: &[u8]| {
            let mut bytes: Vec<u8> =
                (0..V2_HEADER).map(|i| u8::from_str_radix(&header[2 * i..2 * i + 2], 16).expect("hex")).collect();
            bytes[4..8].copy_from_slice(&(payload.len() as u32).to_be_bytes());
            bytes.extend(payload);
            let hdr = bytes.iter().map(|b| format!("{b:02x}")).collect();
            LatencyHist::from_stored(&StoredHist { hdr, zeros: 0, saturated: 0, sum_ns: "0".into(), max_ns: 0 })
        };
        let err = |payload: &[u8]| with(payload).expect_err("refused").to_string();
        // A run of empty buckets past the end (zig-zag of -BUCKETS - 1), then a count.
        let past = ((BUCKETS as u64 + 1) << 1) - 1;
        assert!(
            err(&[(past & 0x7f) as u8 | 0x80, (past >> 7 & 0x7f) as u8 | 0x80, (past >> 14) as u8, 2])
                .contains("beyond")
        );
        assert!(err(&[0x80]).contains("cut short"));
        assert_eq!(with(&[0]).expect("an empty histogram").count(), 0);
        // Any payload at all gives a histogram or an error, never a panic,
        // and the count array it leaves for reuse is all zero again.
        let mut rng = rand_pcg::Pcg64Mcg::seed_from_u64(13);
        for _ in 0..3_000 {
            let payload: Vec<u8> = (0..rng.random_range(0..40))
                .map(|_| if rng.random_range(0..4) == 0 { rng.random() } else { rng.random_range(0..8) })
                .collect();
            if let Ok(h) = with(&payload) {
                let _ = (h.percentiles(), h.to_stored(), h.histogram());
            }
            let clean = SPARE.with_borrow(|s| s.last().is_none_or(|c| c.iter().all(|&x| x == 0)));
            assert!(clean, "{payload:?} left counts behind");
        }
    }

    /// A dropped histogram's count array is reused, zero again.
    #[test]
    fn spare_count_arrays_come_back_empty() {
        let mut a = LatencyHist::default();
        for ms in 1..=1_000 {
            a.record(SimDuration::from_millis(ms));
        }
        let b = a.clone();
        drop(a);
        let mut c = LatencyHist::default();
        c.record(SimDuration::from_millis(5));
        assert_eq!(c.buckets.counts.iter().sum::<u64>(), 1);
        assert_eq!(c.percentiles().p50, Some(5.0));
        assert_eq!(b.count(), 1_000);
        assert_eq!(b.buckets.counts.iter().sum::<u64>(), 1_000);
    }

    #[test]
    fn zero_latency_is_recorded() {
        let mut h = LatencyHist::default();
        h.record(SimDuration::ZERO);
        assert_eq!(h.count(), 1);
        assert_eq!(h.percentiles().max, Some(0.0));
    }
}
