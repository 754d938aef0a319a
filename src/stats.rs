//! Honest statistics over replications: means, Student-t confidence
//! intervals, and paired differences.
//!
//! Each seed of a comparison is one independent replication, so a metric's
//! values over seeds are i.i.d. and the t interval applies. Strategies run on
//! the same seeds see the same traffic (common random numbers); their
//! difference is therefore taken seed by seed (a paired comparison), which
//! cancels the traffic's own variability and needs far fewer seeds than
//! comparing two separate means.
//!
//! **Infinite values.** Percentiles that count failures as never completing
//! (`completion_all_*`) are +∞ in a seed where too many requests failed. The
//! mean of a quantity that is infinite with positive probability is infinite,
//! and one seed shows the probability is positive, so a mean with an infinite
//! value is that infinity exactly (its interval is the point). A paired
//! difference with an infinite term (one strategy never completes where the
//! other does) has no t interval; it gets the distribution-free interval for
//! the *median* difference from order statistics (the sign test inverted),
//! at least 95% confident, which handles infinite terms. Both infinite counts
//! as no difference.

use serde::{Deserialize, Serialize};

/// P(T ≤ t) for Student's t with `df` degrees of freedom, via the regularized
/// incomplete beta function: P(|T| > t) = I_{df/(df+t²)}(df/2, 1/2).
pub fn t_cdf(t: f64, df: usize) -> f64 {
    let v = df as f64;
    let tail = 0.5 * incomplete_beta(v / 2.0, 0.5, v / (v + t * t));
    if t >= 0.0 { 1.0 - tail } else { tail }
}

/// The p-quantile of Student's t (0 < p < 1), by bisection on [`t_cdf`].
pub fn t_quantile(p: f64, df: usize) -> f64 {
    if df == 0 {
        return f64::INFINITY;
    }
    // Widen the bracket until it holds the quantile: at df = 1 and p near 1
    // it lies in the thousands.
    let mut hi = 8.0_f64;
    while t_cdf(hi, df) < p && hi < 1e12 {
        hi *= 2.0;
    }
    while t_cdf(-hi, df) > p && hi < 1e12 {
        hi *= 2.0;
    }
    let mut lo = -hi;
    // Halving 2·hi down to far below f64 precision at the answer.
    for _ in 0..100 {
        let mid = (lo + hi) / 2.0;
        if t_cdf(mid, df) < p {
            lo = mid;
        } else {
            hi = mid;
        }
    }
    (lo + hi) / 2.0
}

/// Mean and standard error of the mean; the error is None with fewer than 2 values.
fn mean_and_se(xs: &[f64]) -> (f64, Option<f64>) {
    let n = xs.len() as f64;
    let mean = xs.iter().sum::<f64>() / n;
    if xs.len() < 2 {
        return (mean, None);
    }
    let var = xs.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / (n - 1.0);
    (mean, Some((var / n).sqrt()))
}

/// I_x(a, b), by the continued fraction of Numerical Recipes (Lentz's method).
fn incomplete_beta(a: f64, b: f64, x: f64) -> f64 {
    if x <= 0.0 {
        return 0.0;
    }
    if x >= 1.0 {
        return 1.0;
    }
    let ln_front = ln_gamma(a + b) - ln_gamma(a) - ln_gamma(b) + a * x.ln() + b * (1.0 - x).ln();
    let front = ln_front.exp();
    // The continued fraction converges fast for x < (a+1)/(a+b+2); use symmetry otherwise.
    if x < (a + 1.0) / (a + b + 2.0) {
        front * beta_fraction(a, b, x) / a
    } else {
        1.0 - front * beta_fraction(b, a, 1.0 - x) / b
    }
}

fn beta_fraction(a: f64, b: f64, x: f64) -> f64 {
    const TINY: f64 = 1e-300;
    let (qab, qap, qam) = (a + b, a + 1.0, a - 1.0);
    let mut c = 1.0;
    let mut d = 1.0 - qab * x / qap;
    if d.abs() < TINY {
        d = TINY;
    }
    d = 1.0 / d;
    let mut h = d;
    for m in 1..300 {
        let m = f64::from(m);
        let m2 = 2.0 * m;
        let aa = m * (b - m) * x / ((qam + m2) * (a + m2));
        d = 1.0 + aa * d;
        d = if d.abs() < TINY { TINY } else { d };
        c = 1.0 + aa / c;
        c = if c.abs() < TINY { TINY } else { c };
        d = 1.0 / d;
        h *= d * c;
        let aa = -(a + m) * (qab + m) * x / ((a + m2) * (qap + m2));
        d = 1.0 + aa * d;
        d = if d.abs() < TINY { TINY } else { d };
        c = 1.0 + aa / c;
        c = if c.abs() < TINY { TINY } else { c };
        d = 1.0 / d;
        let del = d * c;
        h *= del;
        if (del - 1.0).abs() < 1e-15 {
            break;
        }
    }
    h
}

/// ln Γ(x) for x > 0 (Lanczos, g = 7, n = 9).
fn ln_gamma(x: f64) -> f64 {
    const C: [f64; 9] = [
        0.999_999_999_999_809_9,
        676.520_368_121_885_1,
        -1_259.139_216_722_402_8,
        771.323_428_777_653_1,
        -176.615_029_162_140_6,
        12.507_343_278_686_905,
        -0.138_571_095_265_720_12,
        9.984_369_578_019_572e-6,
        1.505_632_735_149_311_6e-7,
    ];
    if x < 0.5 {
        // Reflection: Γ(x)Γ(1−x) = π / sin(πx).
        return (std::f64::consts::PI / (std::f64::consts::PI * x).sin()).ln() - ln_gamma(1.0 - x);
    }
    let x = x - 1.0;
    let t = x + 7.5;
    let s = C[1..].iter().enumerate().fold(C[0], |acc, (i, c)| acc + c / (x + i as f64 + 1.0));
    0.5 * (2.0 * std::f64::consts::PI).ln() + (x + 0.5) * t.ln() - t + s.ln()
}

/// The mean of values of which some are infinite (then it is ±∞, or NaN when
/// both infinities occur); None when every value is finite.
fn infinite_mean(xs: &[f64]) -> Option<f64> {
    xs.iter().any(|x| x.is_infinite()).then(|| xs.iter().sum::<f64>())
}

/// The one-sided bound of a mean at `confidence`: the value the true mean is
/// below (upper) or above (lower) with that confidence. None with fewer than 2
/// values; an infinite mean is its own bound.
pub fn one_sided_bound(xs: &[f64], confidence: f64, upper: bool) -> Option<f64> {
    if xs.len() >= 2
        && let Some(m) = infinite_mean(xs)
    {
        return Some(m);
    }
    let (mean, se) = mean_and_se(xs);
    let hw = t_quantile(confidence, xs.len() - 1) * se?;
    Some(if upper { mean + hw } else { mean - hw })
}

/// A mean with its 95% confidence interval. Infinite values are written as
/// `"inf"` / `"-inf"` in JSON, undefined ones (NaN) as null.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct Interval {
    #[serde(with = "crate::extended::float")]
    pub mean: f64,
    /// Lower and upper bound: −∞ and +∞ when n = 1 (one value says nothing
    /// about the spread); equal to the mean when the mean is infinite (exact).
    #[serde(with = "crate::extended::float")]
    pub lo: f64,
    #[serde(with = "crate::extended::float")]
    pub hi: f64,
    /// Replications that had a value.
    pub n: usize,
}

impl Interval {
    /// The interval with its bounds clipped to `(lo, hi)` (a metric's range:
    /// a t interval of ten seeds at 0% and one at 40% otherwise reaches below 0%).
    pub fn within(self, (lo, hi): (f64, f64)) -> Interval {
        Interval { lo: self.lo.clamp(lo, hi), hi: self.hi.clamp(lo, hi), ..self }
    }

    /// Half the width; 0 for a point (an infinite mean included).
    pub fn half_width(&self) -> f64 {
        if self.lo == self.hi { 0.0 } else { (self.hi - self.lo) / 2.0 }
    }

    /// The ± to print: the larger distance from the mean to a bound. Equal to
    /// the half-width for a t interval; for one clipped to a metric's range
    /// (a 503 rate at 17% whose t interval runs from −26% to 60%, kept as 0%
    /// to 60%) it is the side that was not clipped, 43 points, where half the
    /// width (30) would hide how far up the rate may be.
    pub fn margin(&self) -> f64 {
        if self.lo == self.hi { 0.0 } else { (self.mean - self.lo).max(self.hi - self.mean) }
    }

    /// The interval widened by `q` on each side: for values each known only
    /// to within `q` (a histogram's bucket). A point (an infinite mean) stays.
    pub fn widened(self, q: f64) -> Interval {
        if q.is_nan() || q <= 0.0 || self.lo == self.hi && self.mean.is_infinite() {
            return self;
        }
        Interval { lo: self.lo - q, hi: self.hi + q, ..self }
    }

    /// True when the interval excludes zero (for a difference: significant at 5%).
    pub fn excludes_zero(&self) -> bool {
        self.n >= 2 && (self.lo > 0.0 || self.hi < 0.0)
    }

    /// The sign the data supports: +1 or −1 when the interval excludes zero,
    /// otherwise the sign of the mean (0 for a zero or undefined mean).
    pub fn direction(&self) -> f64 {
        if self.lo > 0.0 {
            1.0
        } else if self.hi < 0.0 {
            -1.0
        } else if self.mean > 0.0 {
            1.0
        } else if self.mean < 0.0 {
            -1.0
        } else {
            0.0
        }
    }
}

/// Mean and 95% Student-t interval of `xs`; None when empty.
pub fn mean_ci(xs: &[f64]) -> Option<Interval> {
    mean_ci_at(xs, 0.95)
}

/// Mean and two-sided Student-t interval of `xs` at `confidence`; None when empty.
pub fn mean_ci_at(xs: &[f64], confidence: f64) -> Option<Interval> {
    let n = xs.len();
    if n == 0 {
        return None;
    }
    if let Some(m) = infinite_mean(xs) {
        return Some(Interval { mean: m, lo: m, hi: m, n });
    }
    let (mean, se) = mean_and_se(xs);
    let hw = se.map_or(f64::INFINITY, |se| t_quantile(1.0 - (1.0 - confidence) / 2.0, n - 1) * se);
    Some(Interval { mean, lo: mean - hw, hi: mean + hw, n })
}

/// The paired difference a − b over the replications where both have a
/// value: a t interval of the mean difference, or, when some difference is
/// infinite, the order-statistic interval of the median difference (see the
/// module doc). Equal values, infinite ones included, differ by 0.
pub fn paired_difference(a: &[Option<f64>], b: &[Option<f64>]) -> Option<Interval> {
    paired_difference_at(a, b, 0.95)
}

/// [`paired_difference`] at `confidence` (for a decision that is one of
/// several tests, each at a stricter level).
pub fn paired_difference_at(a: &[Option<f64>], b: &[Option<f64>], confidence: f64) -> Option<Interval> {
    let d: Vec<f64> =
        a.iter().zip(b).filter_map(|(x, y)| Some(if (*x)? == (*y)? { 0.0 } else { (*x)? - (*y)? })).collect();
    if d.is_empty() || d.iter().all(|x| x.is_finite()) {
        return mean_ci_at(&d, confidence);
    }
    let mut sorted = d.clone();
    sorted.sort_by(f64::total_cmp);
    let n = sorted.len();
    let mean = infinite_mean(&d).expect("an infinite difference");
    let (lo, hi) = match median_interval_rank(n, confidence) {
        Some(k) => (sorted[k - 1], sorted[n - k]),
        None => (f64::NEG_INFINITY, f64::INFINITY),
    };
    Some(Interval { mean, lo, hi, n })
}

/// The largest k ≥ 1 such that [x₍ₖ₎, x₍ₙ₊₁₋ₖ₎] covers the median with at
/// least `confidence`: 2·P(Binomial(n, ½) ≤ k − 1) ≤ 1 − confidence. None when
/// n is too small for any (n < 6 at 95%).
fn median_interval_rank(n: usize, confidence: f64) -> Option<usize> {
    let alpha = (1.0 - confidence) / 2.0;
    let ln_half_n = n as f64 * 0.5f64.ln();
    let ln_choose = |i: usize| ln_gamma(n as f64 + 1.0) - ln_gamma(i as f64 + 1.0) - ln_gamma((n - i) as f64 + 1.0);
    let mut cdf = 0.0;
    let mut k = None;
    for i in 0..n.div_ceil(2) {
        cdf += (ln_choose(i) + ln_half_n).exp();
        if cdf > alpha {
            break;
        }
        k = Some(i + 1);
    }
    k
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_margin_of_a_clipped_interval_is_its_unclipped_side() {
        let t = Interval { mean: 0.17, lo: -0.26, hi: 0.60, n: 2 };
        assert!((t.margin() - 0.43).abs() < 1e-12 && (t.half_width() - 0.43).abs() < 1e-12);
        let clipped = t.within((0.0, 1.0));
        assert!((clipped.margin() - 0.43).abs() < 1e-12, "not half the clipped width, 0.30");
        assert_eq!(Interval { mean: 5.0, lo: 5.0, hi: 5.0, n: 3 }.margin(), 0.0);
    }

    #[test]
    fn interval_matches_a_hand_computed_example() {
        // mean 5, sample sd sqrt(32/7) = 2.13809, se = 0.755929, t(7) = 2.364624,
        // half width 1.787489.
        let i = mean_ci(&[2.0, 4.0, 4.0, 4.0, 5.0, 5.0, 7.0, 9.0]).expect("non-empty");
        assert_eq!(i.n, 8);
        assert!((i.mean - 5.0).abs() < 1e-12);
        assert!((i.lo - 3.212511).abs() < 1e-5, "{}", i.lo);
        assert!((i.hi - 6.787489).abs() < 1e-5, "{}", i.hi);
    }

    #[test]
    fn paired_difference_uses_seeds_where_both_have_values() {
        let a = [Some(10.0), Some(12.0), None, Some(11.0)];
        let b = [Some(9.0), Some(10.0), Some(5.0), Some(11.0)];
        // Differences 1, 2, 0: mean 1, sd 1, se 0.57735, t(2) = 4.302653, hw 2.484138.
        let d = paired_difference(&a, &b).expect("three pairs");
        assert_eq!(d.n, 3);
        assert!((d.mean - 1.0).abs() < 1e-12);
        assert!((d.half_width() - 2.484_138).abs() < 1e-5, "{}", d.half_width());
        assert!(!d.excludes_zero());
    }

    #[test]
    fn t_quantiles_match_published_values() {
        // Two-sided 95% (t at 0.975) from the standard tables.
        for (df, t) in [
            (1, 12.706_205),
            (2, 4.302_653),
            (5, 2.570_582),
            (9, 2.262_157),
            (30, 2.042_272),
            (40, 2.021_075),
            (120, 1.979_930),
        ] {
            assert!((t_quantile(0.975, df) - t).abs() < 1e-5, "df {df}: {}", t_quantile(0.975, df));
        }
        // One-sided 95% (t at 0.95): df 9 → 1.833113, df 4 → 2.131847; 99%, df 9 → 2.821438.
        assert!((t_quantile(0.95, 9) - 1.833_113).abs() < 1e-5);
        assert!((t_quantile(0.95, 4) - 2.131_847).abs() < 1e-5);
        assert!((t_quantile(0.99, 9) - 2.821_438).abs() < 1e-5);
        assert!((t_cdf(0.0, 7) - 0.5).abs() < 1e-12);
        // Far tails at df = 1 (Cauchy: tan(π(p − ½))): 0.9999 → 3183.0988, 0.0001 → −3183.0988.
        assert!((t_quantile(0.9999, 1) - 3_183.098_8).abs() < 1e-3, "{}", t_quantile(0.9999, 1));
        assert!((t_quantile(0.0001, 1) + 3_183.098_8).abs() < 1e-3);
    }

    #[test]
    fn one_sided_bounds_lie_on_the_requested_side() {
        let xs = [2.0, 4.0, 4.0, 4.0, 5.0, 5.0, 7.0, 9.0];
        // mean 5, se 0.755929, t(0.95, 7) = 1.894579 → 5 ± 1.432160.
        assert!((one_sided_bound(&xs, 0.95, true).expect("n>1") - 6.432_160).abs() < 1e-5);
        assert!((one_sided_bound(&xs, 0.95, false).expect("n>1") - 3.567_840).abs() < 1e-5);
        assert_eq!(one_sided_bound(&[1.0], 0.95, true), None);
    }

    #[test]
    fn order_statistic_ranks_match_the_binomial_tables() {
        // P(Bin(n, ½) ≤ k − 1) ≤ 0.025: n = 6 → k = 1 (1/64), n = 10 → 2 (11/1024),
        // n = 20 → 6 (P(X ≤ 5) = 0.0207), n = 5 → none (1/32 > 0.025).
        assert_eq!(median_interval_rank(5, 0.95), None);
        assert_eq!(median_interval_rank(6, 0.95), Some(1));
        assert_eq!(median_interval_rank(10, 0.95), Some(2));
        assert_eq!(median_interval_rank(20, 0.95), Some(6));
    }

    #[test]
    fn infinite_values_give_an_infinite_mean_and_a_sign_based_difference() {
        let inf = f64::INFINITY;
        let m = mean_ci(&[1.0, inf, 3.0]).expect("values");
        assert_eq!((m.mean, m.lo, m.hi, m.half_width()), (inf, inf, inf, 0.0));
        assert_eq!(one_sided_bound(&[1.0, inf], 0.95, true), Some(inf));
        assert_eq!(one_sided_bound(&[1.0, inf], 0.95, false), Some(inf));
        // Both infinite in every seed: no difference.
        let both = paired_difference(&[Some(inf); 4], &[Some(inf); 4]).expect("pairs");
        assert_eq!((both.mean, both.excludes_zero()), (0.0, false));
        // a never completes in 9 of 10 seeds where b does, ties in the tenth: a is worse.
        let a: Vec<Option<f64>> = (0..10).map(|i| Some(if i < 9 { inf } else { 5.0 })).collect();
        let b = vec![Some(5.0); 10];
        let d = paired_difference(&a, &b).expect("pairs");
        assert_eq!(d.mean, inf);
        assert!(d.excludes_zero() && d.direction() > 0.0, "{d:?}");
        // Mixed directions: the interval spans zero and the mean is undefined.
        let mixed: Vec<Option<f64>> = (0..10).map(|i| Some(if i < 5 { inf } else { 1.0 })).collect();
        let rev: Vec<Option<f64>> = (0..10).map(|i| Some(if i < 5 { 1.0 } else { inf })).collect();
        let d = paired_difference(&mixed, &rev).expect("pairs");
        assert!(d.mean.is_nan() && !d.excludes_zero(), "{d:?}");
        // Too few seeds for any interval.
        let d = paired_difference(&[Some(inf); 3], &[Some(1.0); 3]).expect("pairs");
        assert!(!d.excludes_zero(), "{d:?}");
    }

    #[test]
    fn a_single_value_has_no_spread_and_nothing_is_significant() {
        let i = mean_ci(&[3.0]).expect("one");
        assert_eq!((i.lo, i.hi), (f64::NEG_INFINITY, f64::INFINITY), "one value bounds nothing, not ±0");
        assert!(!i.excludes_zero());
        assert_eq!(mean_ci(&[]), None);
    }
}
