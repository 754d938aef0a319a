//! The proxy's object store: what Varnish's cache holds and how a lookup
//! classifies a request. The fetch rules that fill it are in `fetch.rs`.
//!
//! Kept from Varnish (docs/models.md, Caching):
//! * an object is fresh for its `ttl`, then stale but servable for `grace`;
//! * an object being fetched is *busy*: further requests for it wait on its
//!   waiting list instead of fetching again (request coalescing) — unless a
//!   stale object in grace can be served meanwhile;
//! * an uncacheable response leaves a *hit-for-miss* marker: until it
//!   expires, requests for that object fetch on their own, uncoalesced;
//! * a failed fetch with requests waiting is kept briefly (ttl 1 s, grace
//!   5 s) so the waiting list drains on the error instead of refetching;
//! * storage is bounded in bytes; the least recently used object goes first.
//!
//! Memory is bounded by the capacity: every stored object, hit-for-miss
//! markers included, is charged at least [`MIN_CHARGE`] bytes, and an entry
//! without a stored object lives only while a fetch or a waiter needs it.

use std::collections::{BTreeMap, HashMap, VecDeque};

use foldhash::fast::RandomState;

use crate::arena::Key;
use crate::model::client::{AttemptRef, JobSpec};
use crate::model::outcome::Cause;
use crate::time::{SimDuration, SimTime};

/// The least an object is charged against the capacity (its headers and
/// bookkeeping): what bounds the number of objects a cache can hold.
pub const MIN_CHARGE: u64 = 4096;

/// Varnish's `vbf_stp_error`: an error fetched while requests wait is kept this long…
pub const ERROR_TTL: SimDuration = SimDuration::from_secs(1);
/// …and this much longer as stale.
pub const ERROR_GRACE: SimDuration = SimDuration::from_secs(5);

/// The proxy-wide cache settings.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub struct CacheConfig {
    /// Storage in bytes (varnishd `-s malloc,<size>`).
    pub capacity: u64,
    /// Waiters woken per request that is done with an object (varnishd `rush_exponent`).
    pub rush_exponent: u32,
}

impl Default for CacheConfig {
    fn default() -> Self {
        // varnishd's default storage is 100 MB; rush_exponent defaults to 3.
        CacheConfig { capacity: 100 << 20, rush_exponent: 3 }
    }
}

/// How the responses of one job class are cached.
#[derive(Copy, Clone, Debug, PartialEq)]
pub struct CachePolicy {
    /// Share of the class's objects whose responses may be stored; the others
    /// answer uncacheable (a `Set-Cookie`, `Cache-Control: private`).
    pub cacheable: f64,
    /// Response body bytes.
    pub size: u64,
    pub ttl: SimDuration,
    pub grace: SimDuration,
    /// How long an uncacheable response makes its object hit-for-miss
    /// (the built-in VCL's 120 s).
    pub hit_for_miss: SimDuration,
}

impl CachePolicy {
    /// Whether object `object` of class `class` answers cacheable: fixed per
    /// object (a URL's response headers do not change between fetches).
    pub fn is_cacheable(&self, class: u16, object: u64) -> bool {
        let mut z = object ^ (u64::from(class) << 48) ^ 0x6361_6368_6561_626c; // "cacheabl"
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^= z >> 31;
        ((z >> 11) as f64) / ((1u64 << 53) as f64) < self.cacheable
    }
}

/// A cache key: the class (the URL path) and the object within it.
pub type ObjKey = (u16, u64);

/// What a stored object answers.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum Body {
    /// A 200.
    Ok,
    /// A failed fetch kept for its waiters: a 503 of this cause.
    Error(Cause),
    /// A marker: the object is uncacheable, fetch it uncoalesced.
    HitForMiss,
}

#[derive(Copy, Clone, Debug)]
struct Stored {
    body: Body,
    expires: SimTime,
    grace_end: SimTime,
    bytes: u64,
    /// Position in the LRU list.
    stamp: u64,
}

/// A request parked on an object's waiting list.
#[derive(Copy, Clone, Debug)]
pub struct Waiter {
    pub client: AttemptRef,
    pub job: JobSpec,
}

#[derive(Debug, Default)]
struct Entry {
    stored: Option<Stored>,
    /// The fetch that will store this object (a miss's or a grace refresh).
    busy: Option<Key>,
    waiters: VecDeque<Waiter>,
}

impl Entry {
    fn is_empty(&self) -> bool {
        self.stored.is_none() && self.busy.is_none() && self.waiters.is_empty()
    }
}

/// What a cached class's request got from the cache, as counted in the metrics.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum CacheEvent {
    /// Answered from a fresh object.
    Hit,
    /// Answered from a stale object within grace.
    Grace,
    /// Waited on a busy object's waiting list, then answered from what its fetch stored.
    Coalesced,
    /// Fetched from the backend (and the object marked busy).
    Miss,
    /// Fetched from the backend on its own: the object is hit-for-miss.
    HitForMiss,
}

impl CacheEvent {
    pub const ALL: [CacheEvent; 5] =
        [CacheEvent::Hit, CacheEvent::Grace, CacheEvent::Coalesced, CacheEvent::Miss, CacheEvent::HitForMiss];

    /// Answered without a backend fetch of its own.
    pub const fn is_hit(self) -> bool {
        matches!(self, CacheEvent::Hit | CacheEvent::Grace | CacheEvent::Coalesced)
    }
}

/// How a lookup classifies a request.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum Lookup {
    /// Fresh: answer with the stored object.
    Hit(Body),
    /// Stale within grace: answer with it; `refresh` when no fetch runs for it
    /// yet, so the caller starts one in the background.
    Grace { body: Body, refresh: bool },
    /// Hit-for-miss: fetch, uncoalesced.
    HitForMiss,
    /// A fetch for it is under way: wait for it.
    Busy,
    /// Nothing usable: fetch it (and mark it busy).
    Miss,
}

/// The object store.
#[derive(Debug)]
pub struct Cache {
    cfg: CacheConfig,
    /// Hashed with a per-process seed: a served proxy's clients choose the keys.
    entries: HashMap<ObjKey, Entry, RandomState>,
    /// Stamp → key, oldest first.
    lru: BTreeMap<u64, ObjKey>,
    next_stamp: u64,
    used: u64,
    evictions: u64,
}

impl Cache {
    pub fn new(cfg: CacheConfig) -> Self {
        Cache { cfg, entries: HashMap::default(), lru: BTreeMap::new(), next_stamp: 0, used: 0, evictions: 0 }
    }

    pub fn config(&self) -> CacheConfig {
        self.cfg
    }

    /// Bytes stored.
    pub fn used(&self) -> u64 {
        self.used
    }

    /// Objects stored (hit-for-miss markers included).
    pub fn objects(&self) -> usize {
        self.lru.len()
    }

    /// Entries of any kind: stored, busy or with waiters.
    pub fn entries(&self) -> usize {
        self.entries.len()
    }

    /// Objects evicted for room so far.
    pub fn evictions(&self) -> u64 {
        self.evictions
    }

    /// Classifies a request for `key` at `now`; a hit moves the object to the
    /// front of the LRU list, an object past its grace is dropped.
    pub fn lookup(&mut self, now: SimTime, key: ObjKey) -> Lookup {
        let Some(e) = self.entries.get_mut(&key) else { return Lookup::Miss };
        let busy = e.busy.is_some();
        let Some(s) = e.stored else {
            return if busy { Lookup::Busy } else { Lookup::Miss };
        };
        if now >= s.grace_end {
            self.drop_stored(key);
            return if busy { Lookup::Busy } else { Lookup::Miss };
        }
        self.touch(key);
        match s.body {
            _ if now >= s.expires => Lookup::Grace { body: s.body, refresh: !busy },
            Body::HitForMiss => Lookup::HitForMiss,
            body => Lookup::Hit(body),
        }
    }

    /// Fetch `fetch` will store `key`: later lookups wait for it.
    pub fn set_busy(&mut self, key: ObjKey, fetch: Key) {
        self.entries.entry(key).or_default().busy = Some(fetch);
    }

    /// Parks a request on the waiting list of busy object `key`.
    pub fn wait(&mut self, key: ObjKey, w: Waiter) {
        self.entries.entry(key).or_default().waiters.push_back(w);
    }

    /// Requests waiting on `key`.
    pub fn waiting(&self, key: ObjKey) -> usize {
        self.entries.get(&key).map_or(0, |e| e.waiters.len())
    }

    /// The fetch `fetch` for `key` ended: it is no longer busy (if it was the busy one).
    pub fn unbusy(&mut self, key: ObjKey, fetch: Key) {
        if let Some(e) = self.entries.get_mut(&key)
            && e.busy == Some(fetch)
        {
            e.busy = None;
        }
        self.forget_if_empty(key);
    }

    /// The next waiter to wake, while no fetch is busy for `key` (a waiter
    /// that misses again becomes the busy fetch, and the rest wait for it).
    pub fn next_waiter(&mut self, key: ObjKey) -> Option<Waiter> {
        let e = self.entries.get_mut(&key)?;
        if e.busy.is_some() {
            return None;
        }
        let w = e.waiters.pop_front();
        self.forget_if_empty(key);
        w
    }

    /// Stores `body` for `key`, fresh for `ttl` and stale for `grace` more,
    /// charged `bytes` (at least [`MIN_CHARGE`]); evicts the least recently
    /// used objects to make room. An object larger than the whole cache is
    /// not stored. Returns how many objects were evicted.
    pub fn store(
        &mut self,
        now: SimTime,
        key: ObjKey,
        body: Body,
        ttl: SimDuration,
        grace: SimDuration,
        bytes: u64,
    ) -> u64 {
        self.drop_stored(key);
        let bytes = bytes.max(MIN_CHARGE);
        if bytes > self.cfg.capacity {
            self.forget_if_empty(key);
            return 0;
        }
        let mut evicted = 0;
        while self.used + bytes > self.cfg.capacity {
            let Some((_, victim)) = self.lru.pop_first() else { break };
            self.drop_stored(victim);
            evicted += 1;
        }
        self.evictions += evicted;
        let stamp = self.next_stamp;
        self.next_stamp += 1;
        let expires = now + ttl;
        let s = Stored { body, expires, grace_end: expires + grace, bytes, stamp };
        self.entries.entry(key).or_default().stored = Some(s);
        self.lru.insert(stamp, key);
        self.used += bytes;
        evicted
    }

    fn touch(&mut self, key: ObjKey) {
        let stamp = self.next_stamp;
        self.next_stamp += 1;
        if let Some(s) = self.entries.get_mut(&key).and_then(|e| e.stored.as_mut()) {
            self.lru.remove(&s.stamp);
            s.stamp = stamp;
            self.lru.insert(stamp, key);
        }
    }

    fn drop_stored(&mut self, key: ObjKey) {
        if let Some(s) = self.entries.get_mut(&key).and_then(|e| e.stored.take()) {
            self.lru.remove(&s.stamp);
            self.used -= s.bytes;
        }
        self.forget_if_empty(key);
    }

    fn forget_if_empty(&mut self, key: ObjKey) {
        if self.entries.get(&key).is_some_and(Entry::is_empty) {
            self.entries.remove(&key);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::workload::{Objects, Popularity};
    use crate::rng::{Stream, stream};

    fn at(s: u64) -> SimTime {
        SimTime::ZERO + SimDuration::from_secs(s)
    }

    const TTL: SimDuration = SimDuration::from_secs(120);
    const GRACE: SimDuration = SimDuration::from_secs(10);

    fn cache(capacity: u64) -> Cache {
        Cache::new(CacheConfig { capacity, rush_exponent: 3 })
    }

    #[test]
    fn fresh_then_grace_then_gone() {
        let mut c = cache(1 << 20);
        let k = (0, 7);
        assert_eq!(c.lookup(at(0), k), Lookup::Miss);
        c.store(at(0), k, Body::Ok, TTL, GRACE, 1000);
        assert_eq!(c.lookup(at(119), k), Lookup::Hit(Body::Ok));
        assert_eq!(c.lookup(at(120), k), Lookup::Grace { body: Body::Ok, refresh: true });
        c.set_busy(k, Key::from_bits(1));
        assert_eq!(c.lookup(at(125), k), Lookup::Grace { body: Body::Ok, refresh: false });
        assert_eq!(c.lookup(at(130), k), Lookup::Busy, "past grace the busy fetch is waited for");
        assert_eq!(c.used(), 0);
    }

    #[test]
    fn lru_evicts_the_least_recently_used_first() {
        let mut c = cache(3 * 5000);
        for o in 0..3 {
            c.store(at(0), (0, o), Body::Ok, TTL, GRACE, 5000);
        }
        assert_eq!(c.lookup(at(1), (0, 0)), Lookup::Hit(Body::Ok)); // 1 is now the oldest
        assert_eq!(c.store(at(1), (0, 3), Body::Ok, TTL, GRACE, 5000), 1);
        assert_eq!(c.lookup(at(2), (0, 1)), Lookup::Miss);
        assert_eq!(c.lookup(at(2), (0, 0)), Lookup::Hit(Body::Ok));
        assert_eq!((c.objects(), c.used(), c.evictions()), (3, 15_000, 1));
        assert_eq!(c.store(at(2), (0, 9), Body::Ok, TTL, GRACE, 20_000), 0, "larger than the cache: not stored");
        assert_eq!(c.objects(), 3);
    }

    #[test]
    fn memory_stays_bounded_by_the_capacity_under_unique_objects() {
        // img2img-like traffic: every request a new object, over simulated days.
        let mut c = cache(64 * MIN_CHARGE);
        let unique = Objects::new(1, Popularity::Unique).expect("valid");
        let mut rng = stream(3, Stream::Object { swarm: 2, source: 0, seq: 0, image: 0 });
        for i in 0..200_000u64 {
            let k = (1, unique.pick(&mut rng));
            assert_eq!(c.lookup(at(i), k), Lookup::Miss);
            let body = if i % 3 == 0 { Body::HitForMiss } else { Body::Ok };
            c.store(at(i), k, body, TTL, GRACE, MIN_CHARGE + i % 5000);
            assert!(c.used() <= 64 * MIN_CHARGE && c.entries() <= 64, "at {i}: {} entries", c.entries());
        }
        assert!(c.evictions() > 199_000);
    }

    #[test]
    fn hit_for_miss_is_fetched_uncoalesced_until_it_expires() {
        let mut c = cache(1 << 20);
        c.store(at(0), (1, 1), Body::HitForMiss, TTL, SimDuration::ZERO, 0);
        assert_eq!(c.lookup(at(5), (1, 1)), Lookup::HitForMiss);
        assert_eq!(c.used(), MIN_CHARGE, "a marker is charged too, so markers are bounded");
        assert_eq!(c.lookup(at(120), (1, 1)), Lookup::Miss);
    }

    #[test]
    fn waiters_wake_only_while_nothing_is_busy() {
        let mut c = cache(1 << 20);
        let k = (0, 1);
        let w = |n| Waiter {
            client: AttemptRef::held(Key::from_bits(n), 1),
            job: JobSpec {
                class: 0,
                swarm: 0,
                work: SimDuration::ZERO,
                measured: true,
                tier: 0,
                patience: None,
                object: Some(1),
            },
        };
        c.set_busy(k, Key::from_bits(9));
        c.wait(k, w(1));
        c.wait(k, w(2));
        assert!(c.next_waiter(k).is_none());
        c.unbusy(k, Key::from_bits(8)); // another fetch's end does not unbusy it
        assert!(c.next_waiter(k).is_none());
        c.unbusy(k, Key::from_bits(9));
        assert_eq!(c.next_waiter(k).map(|w| w.client), Some(AttemptRef::held(Key::from_bits(1), 1)));
        c.set_busy(k, Key::from_bits(10));
        assert!(c.next_waiter(k).is_none(), "the rest wait for the new fetch");
        assert_eq!(c.waiting(k), 1);
    }

    /// Che's approximation for an LRU cache of C equal objects under
    /// independent requests (Che, Tung, Wang, IEEE JSAC 2002; shown
    /// asymptotically exact by Fricker, Robert, Roberts, ITC 2012): object i
    /// is in the cache with probability 1 − exp(−p_i·T), where the
    /// characteristic time T solves Σ_i (1 − exp(−p_i·T)) = C.
    fn che_hit_ratio(p: &[f64], capacity: f64) -> f64 {
        let filled = |t: f64| p.iter().map(|pi| 1.0 - (-pi * t).exp()).sum::<f64>();
        let (mut lo, mut hi) = (0.0, 1.0);
        while filled(hi) < capacity {
            hi *= 2.0;
        }
        for _ in 0..200 {
            let mid = (lo + hi) / 2.0;
            if filled(mid) < capacity { lo = mid } else { hi = mid }
        }
        p.iter().map(|pi| pi * (1.0 - (-pi * lo).exp())).sum()
    }

    #[test]
    fn lru_hit_ratio_under_zipf_matches_che_s_approximation() {
        let (n, slots, size) = (2000u64, 200u64, MIN_CHARGE);
        let objects = Objects::new(n, Popularity::Zipf { s: 0.8 }).expect("valid");
        let p: Vec<f64> = (0..n).map(|k| objects.probability(k).expect("zipf")).collect();
        let che = che_hit_ratio(&p, slots as f64);
        // Ten seeds, each a warm-up then a measured stretch of requests.
        let ratios: Vec<f64> = (1..=10u64)
            .map(|seed| {
                let mut rng = stream(seed, Stream::Object { swarm: 1, source: 0, seq: 0, image: 0 });
                let mut c = cache(slots * size);
                let (mut hits, measured) = (0u32, 50_000u32);
                for i in 0..(20_000 + measured) {
                    let k = (0, objects.pick(&mut rng));
                    match c.lookup(at(0), k) {
                        Lookup::Hit(_) => hits += u32::from(i >= 20_000),
                        _ => {
                            c.store(at(0), k, Body::Ok, TTL, SimDuration::ZERO, size);
                        }
                    }
                }
                f64::from(hits) / f64::from(measured)
            })
            .collect();
        let mean = ratios.iter().sum::<f64>() / ratios.len() as f64;
        let sd = (ratios.iter().map(|r| (r - mean).powi(2)).sum::<f64>() / (ratios.len() - 1) as f64).sqrt();
        let se = sd / (ratios.len() as f64).sqrt();
        // 4 standard errors of the seeds' mean: the approximation's own error
        // at 200 objects is far below that (Fricker et al.).
        assert!((mean - che).abs() < 4.0 * se, "simulated {mean:.4} ± {se:.4}, Che {che:.4}");
    }
}
