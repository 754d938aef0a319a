//! Service-time and think-time distributions.
//!
//! Users describe GPU latency the way they measure it: a median and a p99 for a
//! lognormal, a mean and a coefficient of variation for a gamma. This module turns
//! those into distribution parameters once, at load time, and samples durations.

use rand::RngExt;
use rand_distr::{Distribution, Exp, Gamma, LogNormal};

use crate::rng::SimRng;
use crate::time::SimDuration;

/// z such that P(Z ≤ z) = 0.99 for a standard normal.
const Z99: f64 = 2.326_347_874_040_841;

/// A distribution of durations.
#[derive(Clone, Debug)]
pub enum DurationDist {
    Constant(SimDuration),
    /// Exponential with the given mean.
    Exponential {
        mean: f64,
        exp: Exp<f64>,
    },
    /// Uniform on [low, high].
    Uniform {
        low: SimDuration,
        high: SimDuration,
    },
    /// Lognormal fitted to a median and a p99.
    LogNormal {
        median: f64,
        p99: f64,
        dist: LogNormal<f64>,
    },
    /// Gamma with a mean and a coefficient of variation (cv = sd / mean).
    Gamma {
        mean: f64,
        cv: f64,
        dist: Gamma<f64>,
    },
}

impl DurationDist {
    pub fn exponential(mean: SimDuration) -> Result<Self, String> {
        let m = mean.as_secs_f64();
        if m <= 0.0 {
            return Err("the mean must be greater than zero".into());
        }
        let exp = Exp::new(1.0 / m).map_err(|e| e.to_string())?;
        Ok(DurationDist::Exponential { mean: m, exp })
    }

    pub fn uniform(low: SimDuration, high: SimDuration) -> Result<Self, String> {
        if low > high {
            return Err(format!("low ({low}) is greater than high ({high})"));
        }
        Ok(DurationDist::Uniform { low, high })
    }

    /// A lognormal with the given median and 99th percentile: μ = ln(median),
    /// σ = (ln(p99) − μ) / z₀.₉₉.
    pub fn lognormal(median: SimDuration, p99: SimDuration) -> Result<Self, String> {
        let (m, p) = (median.as_secs_f64(), p99.as_secs_f64());
        if m <= 0.0 {
            return Err("the median must be greater than zero".into());
        }
        if p <= m {
            return Err(format!("p99 ({p99}) must be greater than the median ({median})"));
        }
        let mu = m.ln();
        let sigma = (p.ln() - mu) / Z99;
        let dist = LogNormal::new(mu, sigma).map_err(|e| e.to_string())?;
        Ok(DurationDist::LogNormal { median: m, p99: p, dist })
    }

    /// A gamma with the given mean and cv: shape k = 1/cv², scale θ = mean·cv².
    pub fn gamma(mean: SimDuration, cv: f64) -> Result<Self, String> {
        let m = mean.as_secs_f64();
        if m <= 0.0 {
            return Err("the mean must be greater than zero".into());
        }
        if !(cv > 0.0 && cv.is_finite()) {
            return Err("cv must be a number greater than zero".into());
        }
        let dist = Gamma::new(1.0 / (cv * cv), m * cv * cv).map_err(|e| e.to_string())?;
        Ok(DurationDist::Gamma { mean: m, cv, dist })
    }

    #[inline(always)]
    pub fn sample(&self, rng: &mut SimRng) -> SimDuration {
        match self {
            DurationDist::Constant(d) => *d,
            DurationDist::Exponential { exp, .. } => SimDuration::from_secs_f64(exp.sample(rng)),
            DurationDist::Uniform { low, high } => {
                SimDuration::from_nanos(rng.random_range(low.as_nanos()..=high.as_nanos()))
            }
            DurationDist::LogNormal { dist, .. } => SimDuration::from_secs_f64(dist.sample(rng)),
            DurationDist::Gamma { dist, .. } => SimDuration::from_secs_f64(dist.sample(rng)),
        }
    }

    /// The coefficient of variation, sd / mean (1 for exponential).
    pub fn cv(&self) -> f64 {
        match self {
            DurationDist::Constant(_) => 0.0,
            DurationDist::Exponential { .. } => 1.0,
            DurationDist::Uniform { low, high } => {
                let (a, b) = (low.as_secs_f64(), high.as_secs_f64());
                if a + b > 0.0 { (b - a) / (3f64.sqrt() * (a + b)) } else { 0.0 }
            }
            DurationDist::LogNormal { median, p99, .. } => {
                let sigma = (p99.ln() - median.ln()) / Z99;
                ((sigma * sigma).exp() - 1.0).sqrt()
            }
            DurationDist::Gamma { cv, .. } => *cv,
        }
    }

    /// The mean in seconds (used by reports and the queueing estimates).
    pub fn mean_secs(&self) -> f64 {
        match self {
            DurationDist::Constant(d) => d.as_secs_f64(),
            DurationDist::Exponential { mean, .. } => *mean,
            DurationDist::Uniform { low, high } => (low.as_secs_f64() + high.as_secs_f64()) / 2.0,
            DurationDist::LogNormal { median, p99, .. } => {
                let sigma = (p99.ln() - median.ln()) / Z99;
                median * (sigma * sigma / 2.0).exp()
            }
            DurationDist::Gamma { mean, .. } => *mean,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rng::{Stream, stream};

    fn draws(d: &DurationDist, n: usize) -> Vec<f64> {
        let mut rng = stream(7, Stream::Proxy);
        let mut v: Vec<f64> = (0..n).map(|_| d.sample(&mut rng).as_secs_f64()).collect();
        v.sort_by(f64::total_cmp);
        v
    }

    /// Standard error of a sample quantile q from n draws, via the binomial count
    /// of draws below it: the index moves by about sqrt(n q (1-q)).
    fn quantile_band(v: &[f64], q: f64) -> (f64, f64) {
        let n = v.len() as f64;
        let spread = 4.0 * (n * q * (1.0 - q)).sqrt();
        let lo = ((n * q - spread).max(0.0)) as usize;
        let hi = ((n * q + spread) as usize).min(v.len() - 1);
        (v[lo], v[hi])
    }

    #[test]
    fn lognormal_hits_its_median_and_p99() {
        let d = DurationDist::lognormal(SimDuration::from_secs(6), SimDuration::from_secs(20)).expect("valid");
        let v = draws(&d, 200_000);
        let (lo, hi) = quantile_band(&v, 0.5);
        assert!(lo <= 6.0 && 6.0 <= hi, "median band {lo}..{hi}");
        let (lo, hi) = quantile_band(&v, 0.99);
        assert!(lo <= 20.0 && 20.0 <= hi, "p99 band {lo}..{hi}");
    }

    #[test]
    fn gamma_has_its_mean_and_cv() {
        let d = DurationDist::gamma(SimDuration::from_secs(12), 0.5).expect("valid");
        let v = draws(&d, 200_000);
        let n = v.len() as f64;
        let mean = v.iter().sum::<f64>() / n;
        let var = v.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / (n - 1.0);
        // Standard error of the mean is sd/sqrt(n) = 6/447 ≈ 0.013; allow 5 of them.
        assert!((mean - 12.0).abs() < 5.0 * 6.0 / n.sqrt(), "mean {mean}");
        assert!((var.sqrt() / mean - 0.5).abs() < 0.01, "cv {}", var.sqrt() / mean);
        assert!((d.mean_secs() - 12.0).abs() < 1e-12);
    }

    #[test]
    fn bad_parameters_are_refused_with_a_reason() {
        let s = SimDuration::from_secs;
        assert!(DurationDist::lognormal(s(10), s(5)).expect_err("p99<median").contains("greater than the median"));
        assert!(DurationDist::gamma(s(1), 0.0).expect_err("cv").contains("cv"));
        assert!(DurationDist::uniform(s(5), s(2)).expect_err("lo>hi").contains("greater than high"));
        assert!(DurationDist::exponential(SimDuration::ZERO).expect_err("mean").contains("mean"));
    }
}
