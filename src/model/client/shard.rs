//! One shard's share of the swarms' work, for load sent from several
//! machines (`stampede load --shard I/N`).
//!
//! Every machine draws the whole arrival process from the same seed and
//! sends only the arrivals it owns: arrival `k` of a swarm belongs to shard
//! `k mod N`, closed-loop user `u` to shard `u mod N`. Each request draws its
//! randomness from its own stream (swarm, source, sequence), so a shard's
//! requests are exactly those the unsharded run would send, and N shards
//! together send the unsharded run's traffic, whichever machines run them.

/// Shard `index` (from 0) of `count`.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub struct Shard {
    index: u32,
    count: u32,
}

impl Default for Shard {
    /// The whole: one shard owns everything.
    fn default() -> Self {
        Shard { index: 0, count: 1 }
    }
}

impl Shard {
    /// `I/N` as written on the command line, I from 1.
    pub fn parse(s: &str) -> Result<Shard, String> {
        let bad = || format!("`{s}`: expected I/N with 1 ≤ I ≤ N, e.g. 2/4");
        let (i, n) = s.split_once('/').ok_or_else(bad)?;
        let (i, n): (u32, u32) = (i.trim().parse().map_err(|_| bad())?, n.trim().parse().map_err(|_| bad())?);
        if i == 0 || n == 0 || i > n {
            return Err(bad());
        }
        Ok(Shard { index: i - 1, count: n })
    }

    /// (I, N) as written, I from 1.
    pub fn as_written(self) -> (usize, usize) {
        (self.index as usize + 1, self.count as usize)
    }

    pub fn is_whole(self) -> bool {
        self.count == 1
    }

    /// Part `t` (from 0) of this shard cut in `of`: the arrivals `k` with
    /// `k mod (N·of) = I + N·t`. The `of` parts own exactly this shard's
    /// arrivals between them, so one machine can spread its shard over cores.
    pub fn split(self, t: u32, of: u32) -> Shard {
        debug_assert!(t < of);
        Shard { index: self.index + self.count * t, count: self.count * of }
    }

    /// Whether the arrival or user numbered `k` is this shard's.
    pub fn owns(self, k: u64) -> bool {
        // A whole run (one shard) owns everything: no division per arrival.
        self.count == 1 || k % u64::from(self.count) == u64::from(self.index)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_arrival_belongs_to_exactly_one_shard() {
        let shards: Vec<Shard> = (1..=3).map(|i| Shard::parse(&format!("{i}/3")).expect("valid")).collect();
        for k in 0..100 {
            assert_eq!(shards.iter().filter(|s| s.owns(k)).count(), 1);
        }
        assert!(Shard::default().owns(7));
    }

    #[test]
    fn a_shard_split_in_parts_owns_what_it_owned() {
        let shard = Shard::parse("2/3").expect("valid");
        let parts: Vec<Shard> = (0..4).map(|t| shard.split(t, 4)).collect();
        for k in 0..500 {
            let owners = parts.iter().filter(|p| p.owns(k)).count();
            assert_eq!(owners, usize::from(shard.owns(k)), "arrival {k}");
        }
        assert_eq!(Shard::default().split(0, 1), Shard::default());
    }

    #[test]
    fn bad_shards_say_what_is_expected() {
        for s in ["0/3", "4/3", "1/0", "1", "a/b"] {
            assert!(Shard::parse(s).expect_err("bad shard").contains("1 ≤ I ≤ N"), "{s}");
        }
        assert_eq!(Shard::parse("2/4").expect("valid").as_written(), (2, 4));
    }
}
