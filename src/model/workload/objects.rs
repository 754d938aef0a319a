//! Which object a request asks for: the cache key's part the client chooses.
//!
//! Prompts overlap: many txt2img requests ask for the same image, and how
//! often each is asked for decides what a cache can absorb. A class names how
//! many distinct objects it has and their popularity: Zipf with exponent s
//! (object k of n is asked for in proportion to 1/k^s), uniform, or unique
//! (img2img: every request brings its own input, so no two share a key).
//!
//! Each logical request draws its object once, from a stream of its own
//! (`rng::Stream::Object`), so retries ask for the same object and turning a
//! cache on shifts no other random draw.

use rand::{Rng, RngExt};
use rand_distr::{Distribution, Zipf};

use crate::rng::SimRng;

/// How requests spread over a class's objects.
#[derive(Copy, Clone, Debug, PartialEq)]
pub enum Popularity {
    /// Object k of n with probability ∝ 1/k^s (s > 0).
    Zipf { s: f64 },
    /// Every object equally likely.
    Uniform,
    /// A new object per request: nothing is ever asked for twice.
    Unique,
}

/// A class's objects and how popular each is.
#[derive(Copy, Clone, Debug, PartialEq)]
pub struct Objects {
    /// Distinct objects (ignored when unique).
    pub count: u64,
    pub popularity: Popularity,
    zipf: Option<Zipf<f64>>,
}

impl Objects {
    /// `count` objects (at least 1) with `popularity`; a Zipf exponent must be > 0.
    pub fn new(count: u64, popularity: Popularity) -> Result<Self, String> {
        let count = count.max(1);
        let zipf = match popularity {
            Popularity::Zipf { s } if !(s > 0.0 && s.is_finite()) => {
                return Err(format!("zipf exponent must be a number > 0, got {s}"));
            }
            Popularity::Zipf { s } => Some(Zipf::new(count as f64, s).map_err(|e| e.to_string())?),
            _ => None,
        };
        Ok(Objects { count, popularity, zipf })
    }

    /// Draws an object: 0 is the most popular under Zipf.
    pub fn pick(&self, rng: &mut SimRng) -> u64 {
        match (self.popularity, &self.zipf) {
            (Popularity::Zipf { .. }, Some(z)) => (z.sample(rng) as u64).clamp(1, self.count) - 1,
            (Popularity::Unique, _) => rng.next_u64(),
            _ => rng.random_range(0..self.count),
        }
    }

    /// The probability of object `k` (0-based), for analytic checks; None when unique.
    pub fn probability(&self, k: u64) -> Option<f64> {
        match self.popularity {
            Popularity::Zipf { s } => {
                let norm: f64 = (1..=self.count).map(|i| (i as f64).powf(-s)).sum();
                Some(((k + 1) as f64).powf(-s) / norm)
            }
            Popularity::Uniform => Some(1.0 / self.count as f64),
            Popularity::Unique => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rng::{Stream, stream};

    #[test]
    fn zipf_draws_follow_their_probabilities() {
        let o = Objects::new(50, Popularity::Zipf { s: 0.9 }).expect("valid");
        let mut rng = stream(5, Stream::Proxy);
        let n = 200_000;
        let mut counts = [0u32; 50];
        for _ in 0..n {
            counts[o.pick(&mut rng) as usize] += 1;
        }
        for k in [0u64, 1, 9, 49] {
            let p = o.probability(k).expect("zipf");
            let sd = (p * (1.0 - p) / f64::from(n)).sqrt();
            let got = f64::from(counts[k as usize]) / f64::from(n);
            assert!((got - p).abs() < 5.0 * sd, "object {k}: {got} vs {p} (sd {sd})");
        }
    }

    #[test]
    fn a_zipf_exponent_must_be_positive() {
        assert!(Objects::new(10, Popularity::Zipf { s: 0.0 }).is_err());
        assert!(Objects::new(10, Popularity::Zipf { s: f64::NAN }).is_err());
    }

    #[test]
    fn uniform_stays_in_range_and_unique_never_repeats_in_practice() {
        let mut rng = stream(5, Stream::Proxy);
        let u = Objects::new(3, Popularity::Uniform).expect("valid");
        assert!((0..1000).all(|_| u.pick(&mut rng) < 3));
        let x = Objects::new(1, Popularity::Unique).expect("valid");
        let mut seen: Vec<u64> = (0..1000).map(|_| x.pick(&mut rng)).collect();
        seen.sort_unstable();
        seen.dedup();
        assert_eq!(seen.len(), 1000);
    }
}
