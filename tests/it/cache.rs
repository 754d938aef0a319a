//! The proxy cache in whole runs: it is off unless a class asks for it, its
//! counts add up, and in the shipped scenario it decides the outcome.

use stampede::engine::{Run, simulate};
use stampede::metrics::summary::Summary;
use stampede::scenario::Scenario;

use crate::support::run;

fn text(name: &str) -> String {
    std::fs::read_to_string(format!("{}/scenarios/{name}", env!("CARGO_MANIFEST_DIR"))).expect("shipped")
}

fn without_engine(mut s: Summary) -> Summary {
    s.engine = Default::default();
    s
}

#[test]
fn cache_settings_without_a_cached_class_change_nothing() {
    let plain = text("playground-img2img.toml");
    let tuned = plain
        .replacen("[pool.a100]", "[proxy.cache]\ncapacity = \"1GB\"\nrush_exponent = 5\n\n[pool.a100]", 1)
        .replacen("pool = \"a100\"\n", "pool = \"a100\"\nheaders = \"2KB\"\n", 1);
    assert_ne!(plain, tuned);
    let (a, b) = (run(&plain, 3), run(&tuned, 3));
    assert_eq!(without_engine(a.summary), without_engine(b.summary));
    assert!(b.recorder.cache.is_empty());
}

fn cached_run(cacheable: &str, seed: u64) -> Run {
    let t = text("cache-txt2img.toml").replacen("cacheable = 0.8", &format!("cacheable = {cacheable}"), 1);
    let sc = Scenario::parse(&t, "cache-txt2img.toml").unwrap_or_else(|e| panic!("{e}"));
    simulate(&sc, seed).expect("the run finishes")
}

#[test]
fn cache_counts_add_up_and_the_time_series_sums_to_them() {
    let r = cached_run("0.8", 1);
    let c = r.summary.cache.as_ref().expect("a cached class");
    assert_eq!(c.total.hits + c.total.misses + c.total.hit_for_miss, c.total.lookups);
    assert!(c.total.grace_hits + c.total.coalesced <= c.total.hits);
    assert_eq!(c.classes.len(), 1, "only txt2img is cached");
    // Every miss and hit-for-miss is a fetch; img2img's passes are fetches too.
    assert!(r.summary.proxy.fetches >= c.total.misses + c.total.hit_for_miss);
    let rows: Vec<_> = r.recorder.series.rows().collect();
    let sum = |i: usize| rows.iter().map(|row| row.counts.cache[i]).sum::<u64>();
    assert_eq!(sum(0) + sum(1) + sum(2) + sum(3) + sum(4), c.total.lookups);
    assert_eq!(sum(1), c.total.grace_hits);
    assert_eq!(sum(2), c.total.coalesced);
    // Memory: no more objects than the capacity holds at 1.5 MB each.
    assert!(c.evictions > 0, "the cache filled up and evicted");
}

/// How bad the surge gets without the cache varies widely between seeds (a
/// 503 rate from 0.1% to 25% over seeds 1 to 6: whether the queue passes the
/// first-byte timeout before the autoscaler catches up), so that side is
/// judged on the mean over the seeds; the cache must win on every seed.
#[test]
fn in_the_shipped_scenario_the_cache_decides_the_outcome() {
    let mut without = Vec::new();
    for seed in 1..=3 {
        let on = cached_run("0.8", seed).summary;
        let off = cached_run("0", seed).summary;
        let (c_on, c_off) = (on.cache.as_ref().expect("cache"), off.cache.as_ref().expect("cache"));
        // Every response private: no 200 is stored; the few hits are a miss's
        // own waiters and errors kept for waiters (1 s).
        assert!(c_off.total.hit_ratio.expect("lookups") < 0.01, "seed {seed}: {:?}", c_off.total);
        assert!(c_on.total.hit_ratio.expect("lookups") > 0.5, "seed {seed}: {:?}", c_on.total.hit_ratio);
        assert!(c_on.total.gpu_seconds_saved > 10_000.0, "seed {seed}");
        assert!(on.proxy.fetches < off.proxy.fetches, "seed {seed}");
        let (r_on, r_off) = (on.rate_503.expect("attempts"), off.rate_503.expect("attempts"));
        assert!(r_on < 0.005 && r_on < r_off, "seed {seed}: 503 rate {r_on} with the cache, {r_off} without");
        without.push(r_off);
    }
    let mean = without.iter().sum::<f64>() / without.len() as f64;
    assert!(mean > 0.01, "without the cache the surge should win: 503 rates {without:?}");
}
