//! Choosing a backend instance for a fetch.
//!
//! As in Varnish, directors skip sick backends and only sick ones: a backend at
//! `max_connections` is still picked, and the fetch then fails as busy. That is
//! why adding instances behind a round-robin director does not stop busy 503s
//! on the one instance a request happens to land on.

use rand::RngExt;

use crate::rng::SimRng;

/// Which director the proxy uses.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum DirectorKind {
    RoundRobin,
    Random,
    /// Fewest open connections among healthy backends (ties: round robin order).
    LeastConnections,
}

/// What a director sees of one backend.
pub trait Candidate {
    fn healthy(&self) -> bool;
    fn connections(&self) -> u32;
}

/// Director state (the round-robin cursor).
#[derive(Clone, Debug, Default)]
pub struct Director {
    cursor: usize,
}

impl Director {
    /// The index of the chosen backend, or None if none is healthy.
    pub fn pick<C: Candidate>(&mut self, kind: DirectorKind, backends: &[C], rng: &mut SimRng) -> Option<usize> {
        let n = backends.len();
        match n {
            0 => return None,
            // One backend: every director picks it if it is healthy.
            1 => return backends[0].healthy().then_some(0),
            _ => {}
        }
        match kind {
            DirectorKind::RoundRobin => {
                let start = self.cursor % n;
                let i = (0..n).map(|k| (start + k) % n).find(|&i| backends[i].healthy())?;
                self.cursor = i + 1;
                Some(i)
            }
            DirectorKind::Random => {
                let healthy = backends.iter().filter(|b| b.healthy()).count();
                if healthy == 0 {
                    return None;
                }
                let k = rng.random_range(0..healthy);
                backends.iter().enumerate().filter(|(_, b)| b.healthy()).nth(k).map(|(i, _)| i)
            }
            DirectorKind::LeastConnections => {
                let start = self.cursor % n;
                let i = (0..n)
                    .map(|k| (start + k) % n)
                    .filter(|&i| backends[i].healthy())
                    .min_by_key(|&i| backends[i].connections())?;
                self.cursor = i + 1;
                Some(i)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rng::{Stream, stream};

    struct B(bool, u32);
    impl Candidate for B {
        fn healthy(&self) -> bool {
            self.0
        }
        fn connections(&self) -> u32 {
            self.1
        }
    }

    #[test]
    fn round_robin_skips_sick_but_not_busy() {
        let bs = [B(true, 99), B(false, 0), B(true, 0)];
        let mut d = Director::default();
        let mut r = stream(1, Stream::Proxy);
        let picks: Vec<_> = (0..4).map(|_| d.pick(DirectorKind::RoundRobin, &bs, &mut r)).collect();
        assert_eq!(picks, [Some(0), Some(2), Some(0), Some(2)]);
    }

    #[test]
    fn no_healthy_backend_means_no_pick() {
        let bs = [B(false, 0), B(false, 0)];
        let mut r = stream(1, Stream::Proxy);
        for kind in [DirectorKind::RoundRobin, DirectorKind::Random, DirectorKind::LeastConnections] {
            assert_eq!(Director::default().pick(kind, &bs, &mut r), None);
        }
    }

    #[test]
    fn least_connections_prefers_the_idlest_healthy_backend() {
        let bs = [B(true, 3), B(false, 0), B(true, 1), B(true, 2)];
        let mut r = stream(1, Stream::Proxy);
        assert_eq!(Director::default().pick(DirectorKind::LeastConnections, &bs, &mut r), Some(2));
    }

    #[test]
    fn random_only_picks_healthy_backends() {
        let bs = [B(false, 0), B(true, 0), B(false, 0), B(true, 0)];
        let mut d = Director::default();
        let mut r = stream(9, Stream::Proxy);
        let mut seen = [0u32; 4];
        for _ in 0..1000 {
            seen[d.pick(DirectorKind::Random, &bs, &mut r).expect("healthy")] += 1;
        }
        assert_eq!((seen[0], seen[2]), (0, 0));
        assert!(seen[1] > 400 && seen[3] > 400, "{seen:?}");
    }
}
