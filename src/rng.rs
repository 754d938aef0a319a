//! Random streams derived from (scenario seed, stable entity id).
//!
//! There is no global RNG. Every source of randomness — a swarm's arrivals, one
//! logical request's class and service time and retry jitter, the proxy's random
//! director — gets its own stream, seeded by hashing the scenario seed with a
//! [`Stream`] id. Two consequences:
//!
//! * a run is a pure function of (scenario, seed);
//! * two strategies run on one seed draw the same arrival times and the same
//!   service time for the same logical request, however differently their retries
//!   interleave. These are *common random numbers*: the difference between two
//!   strategies is then due to the strategy, so comparisons need far fewer seeds.
//!
//! The generator is PCG-64 MCG (`rand_pcg`), whose output sequence is fixed by
//! its algorithm, unlike `rand`'s `SmallRng` which may change between releases.

use rand::SeedableRng;
use rand_pcg::Pcg64Mcg;

/// The generator every model draws from.
pub type SimRng = Pcg64Mcg;

/// What a stream belongs to. The discriminant is part of the hash, so streams of
/// different kinds never collide even when their numeric ids do.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum Stream {
    /// A swarm's arrival process (inter-arrival gaps, closed-loop think times).
    Arrivals { swarm: u64 },
    /// One closed-loop user's think times.
    User { swarm: u64, user: u64 },
    /// One bulk job: its class.
    Bulk { swarm: u64, source: u64, seq: u64 },
    /// One logical request: class, service time, then retry jitter, in that order.
    Request { swarm: u64, source: u64, seq: u64, image: u64 },
    /// The proxy's own choices (random director).
    Proxy,
    /// A pool's choices (which instances a kill event hits).
    Pool { pool: u64 },
    /// Live mode: the work of requests from clients that do not say (curl, a browser).
    Foreign,
    /// One logical request's patience draws, one per attempt (a stream of
    /// its own, so that turning patience on shifts no other draw).
    Patience { swarm: u64, source: u64, seq: u64, image: u64 },
    /// One logical request: the object it asks for (a stream of its own, so a
    /// cache shifts none of the request's other draws).
    Object { swarm: u64, source: u64, seq: u64, image: u64 },
    /// A pool's injected faults (chaos `errors`, `connect_failures`,
    /// `latency` jitter, `flap`): a stream of its own, drawn only while a
    /// fault is on, so scenarios without faults draw exactly as before.
    Fault { pool: u64 },
}

/// Derives the generator for `stream` under scenario seed `seed`.
pub fn stream(seed: u64, stream: Stream) -> SimRng {
    let (kind, a, rest) = match stream {
        Stream::Arrivals { swarm } => (1, swarm, [0, 0, 0]),
        Stream::User { swarm, user } => (2, swarm, [user, 0, 0]),
        Stream::Bulk { swarm, source, seq } => (3, swarm, [source, seq, 0]),
        Stream::Request { swarm, source, seq, image } => (4, swarm, [source, seq, image]),
        Stream::Proxy => (5, 0, [0, 0, 0]),
        Stream::Pool { pool } => (6, pool, [0, 0, 0]),
        Stream::Foreign => (7, 0, [0, 0, 0]),
        Stream::Patience { swarm, source, seq, image } => (9, swarm, [source, seq, image]),
        Stream::Object { swarm, source, seq, image } => (8, swarm, [source, seq, image]),
        Stream::Fault { pool } => (10, pool, [0, 0, 0]),
    };
    StreamBase::new(seed, kind, a).derive(rest)
}

/// The hash of (seed, stream kind, first id), computed once and reused for the
/// many streams that share it (every request of one swarm). Deriving from a base
/// gives exactly the generator [`stream`] gives.
#[derive(Copy, Clone, Debug)]
pub struct StreamBase(u64);

impl StreamBase {
    fn new(seed: u64, kind: u64, a: u64) -> Self {
        let mut h = splitmix64(seed ^ 0x5354_414d_5045_4445); // "STAMPEDE"
        h = splitmix64(h ^ kind);
        StreamBase(splitmix64(h ^ a))
    }

    /// The base of every `Stream::Request` of one swarm.
    pub fn requests(seed: u64, swarm: u64) -> Self {
        Self::new(seed, 4, swarm)
    }

    /// The base of every `Stream::Patience` of one swarm.
    pub fn patience(seed: u64, swarm: u64) -> Self {
        Self::new(seed, 9, swarm)
    }

    /// The generator for the remaining ids.
    ///
    /// Every request derives one, so the mix is kept short: each id is
    /// spread by its own odd multiplier (the three products are computed side
    /// by side, where a chain of three SplitMix rounds ran one after another),
    /// then both halves of the seed are finalised from their xor, also side by
    /// side. For fixed other ids the map from one id to the seed is still a
    /// bijection, so consecutive arrivals never share a stream.
    #[inline]
    pub fn derive(self, rest: [u64; 3]) -> SimRng {
        let x = self.0
            ^ rest[0].wrapping_mul(0xd1b5_4a32_d192_ed03)
            ^ rest[1].wrapping_mul(0x9e37_79b9_7f4a_7c15)
            ^ rest[2].wrapping_mul(0x8cb9_2ba7_2f3d_8dd7);
        let h = splitmix64(x);
        let lo = splitmix64(x ^ 0x6a09_e667_f3bc_c909);
        Pcg64Mcg::from_seed(((u128::from(h) << 64) | u128::from(lo)).to_le_bytes())
    }
}

/// A stable 64-bit id for a name (FNV-1a), so adding a swarm to a file does not
/// change the random streams of the others.
pub fn name_id(name: &str) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in name.bytes() {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    h
}

/// SplitMix64's finaliser: a bijective mix with good avalanche.
fn splitmix64(x: u64) -> u64 {
    let mut z = x.wrapping_add(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::Rng;

    #[test]
    fn same_seed_and_id_give_the_same_sequence() {
        let id = Stream::Request { swarm: 7, source: 0, seq: 3, image: 0 };
        let a: Vec<u64> = (0..4)
            .map({
                let mut r = stream(42, id);
                move |_| r.next_u64()
            })
            .collect();
        let b: Vec<u64> = (0..4)
            .map({
                let mut r = stream(42, id);
                move |_| r.next_u64()
            })
            .collect();
        assert_eq!(a, b);
    }

    #[test]
    fn a_base_derives_the_same_generator_as_stream() {
        let direct = stream(9, Stream::Request { swarm: 3, source: 1, seq: 2, image: 4 }).next_u64();
        let via_base = StreamBase::requests(9, 3).derive([1, 2, 4]).next_u64();
        assert_eq!(direct, via_base);
    }

    /// The first draws of neighbouring streams, taken in order, look like
    /// independent uniforms: the mean, the lag-1 correlation and a 64-bin
    /// chi-square each within 4 standard deviations of theirs. The
    /// neighbours are along each id in turn (the arrival number, the image,
    /// the user), as the engine derives them.
    #[test]
    fn neighbouring_streams_start_independent() {
        const N: u64 = 1 << 16;
        let base = StreamBase::requests(1, 7);
        let ids: [fn(u64) -> [u64; 3]; 3] = [|i| [0, i, 0], |i| [0, 5, i], |i| [i, 3, 2]];
        for (axis, id) in ids.into_iter().enumerate() {
            let u: Vec<f64> =
                (0..N).map(|i| (base.derive(id(i)).next_u64() >> 11) as f64 / (1u64 << 53) as f64).collect();
            let n = N as f64;
            let mean = u.iter().sum::<f64>() / n;
            // Uniform(0,1): variance 1/12.
            assert!((mean - 0.5).abs() < 4.0 * (1.0 / 12.0 / n).sqrt(), "axis {axis}: mean {mean}");
            let lag1 = u.windows(2).map(|w| (w[0] - 0.5) * (w[1] - 0.5)).sum::<f64>() / (n - 1.0) * 12.0;
            assert!(lag1.abs() < 4.0 / n.sqrt(), "axis {axis}: lag-1 correlation {lag1}");
            let mut bins = [0u64; 64];
            u.iter().for_each(|&x| bins[(x * 64.0) as usize] += 1);
            let expected = n / 64.0;
            let chi2: f64 = bins.iter().map(|&b| (b as f64 - expected).powi(2) / expected).sum();
            // Chi-square with 63 degrees of freedom: mean 63, sd sqrt(126).
            assert!((chi2 - 63.0).abs() < 4.0 * 126f64.sqrt(), "axis {axis}: chi-square {chi2}");
        }
    }

    #[test]
    fn neighbouring_ids_and_seeds_differ() {
        let first = |seed, seq| stream(seed, Stream::Request { swarm: 1, source: 0, seq, image: 0 }).next_u64();
        assert_ne!(first(1, 0), first(1, 1));
        assert_ne!(first(1, 0), first(2, 0));
        assert_ne!(stream(1, Stream::Arrivals { swarm: 5 }).next_u64(), stream(1, Stream::Pool { pool: 5 }).next_u64());
    }
}
