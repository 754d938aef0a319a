//! The scenario file's shape, exactly as written (serde).
//!
//! Everything here mirrors the TOML one to one, with unknown keys denied, but
//! nothing cross-checked: a `pool = "gpu"` is still a string. Every leaf is a
//! [`Val`] that never fails the deserializer (its conversion error is kept and
//! reported by `resolve`), and every key is optional here (`resolve` says which
//! are required), so that all the problems of a file are found in one run.
//! Variant-dependent tables (a distribution, an arrival process, a strategy, a
//! chaos event) are flat structs with a kind tag, so that a key that belongs to
//! another kind gets a message naming the kind instead of serde's generic one.
//! `expecting` names each table as the file writes it, never a Rust type.

use std::collections::BTreeMap;

use serde::Deserialize;

use super::units::{Bytes, Dur, Rate, Timeout};
use super::value::{Conditions, Names, Val};

/// An optional leaf value.
pub type V<T> = Option<Val<T>>;

#[derive(Deserialize, Debug, Clone, Default)]
#[serde(deny_unknown_fields, expecting = "a scenario file: tables such as [scenario], [pool.<name>], [swarm.<name>]")]
pub struct RawScenario {
    pub scenario: Option<RawMeta>,
    #[serde(default)]
    pub proxy: RawProxy,
    #[serde(default)]
    pub pool: BTreeMap<String, RawPool>,
    #[serde(default)]
    pub class: BTreeMap<String, RawClass>,
    #[serde(default)]
    pub strategy: BTreeMap<String, RawStrategy>,
    #[serde(default)]
    pub swarm: BTreeMap<String, RawSwarm>,
    #[serde(default)]
    pub chaos: Vec<RawChaos>,
    #[serde(default)]
    pub slo: Option<Val<Conditions>>,
    #[serde(default)]
    pub compare: Option<RawCompare>,
}

#[derive(Deserialize, Debug, Clone, Default)]
#[serde(deny_unknown_fields, expecting = "the [scenario] table (name, duration, ...)")]
pub struct RawMeta {
    pub name: V<String>,
    pub description: V<String>,
    pub duration: V<Dur>,
    pub warmup: V<Dur>,
    pub seed: V<i64>,
    pub window: V<Dur>,
    pub tiers: V<Vec<String>>,
}

#[derive(Deserialize, Debug, Clone, Default)]
#[serde(deny_unknown_fields, expecting = "the [proxy] table (first_byte_timeout, max_connections, ...)")]
pub struct RawProxy {
    pub connect_timeout: V<Timeout>,
    pub first_byte_timeout: V<Timeout>,
    pub between_bytes_timeout: V<Timeout>,
    pub max_connections: V<i64>,
    pub wait_limit: V<i64>,
    pub wait_timeout: V<Dur>,
    pub director: V<String>,
    pub max_sessions: V<i64>,
    pub retry_on: V<Names>,
    pub max_retries: V<i64>,
    pub probe: Option<RawProbe>,
    pub http_resp_hdr_len: V<Bytes>,
    pub http_resp_size: V<Bytes>,
    pub cache: Option<RawProxyCache>,
}

#[derive(Deserialize, Debug, Clone, Default)]
#[serde(deny_unknown_fields, expecting = "the [proxy.cache] table (capacity, rush_exponent)")]
pub struct RawProxyCache {
    pub capacity: V<Bytes>,
    pub rush_exponent: V<i64>,
}

#[derive(Deserialize, Debug, Clone, Default)]
#[serde(deny_unknown_fields, expecting = "the [proxy.probe] table (interval, timeout, window, ...)")]
pub struct RawProbe {
    pub interval: V<Dur>,
    pub timeout: V<Dur>,
    pub window: V<i64>,
    pub threshold: V<i64>,
    pub initial: V<i64>,
}

#[derive(Deserialize, Debug, Clone, Default)]
#[serde(deny_unknown_fields, expecting = "a [pool.<name>] table (slots, min_instances, ...)")]
pub struct RawPool {
    pub slots: V<i64>,
    pub queue_limit: V<i64>,
    pub queue_full_status: V<i64>,
    pub retry_after: V<Dur>,
    pub min_instances: V<i64>,
    pub max_instances: V<i64>,
    pub initial_instances: V<i64>,
    pub cold_start: V<Dur>,
    pub cancel_on_abandon: V<bool>,
    pub deregister_delay: V<Dur>,
    pub autoscaler: Option<RawAutoscaler>,
    pub price_per_hour: V<f64>,
    pub load: Option<RawLoad>,
    pub queue_discipline: V<String>,
    pub lifo_after: V<Dur>,
    pub max_queue_wait: V<Dur>,
    pub tier_priority: V<bool>,
    pub tier_shed_at: V<BTreeMap<String, i64>>,
}

#[derive(Deserialize, Debug, Clone, Default)]
#[serde(
    deny_unknown_fields,
    expecting = "a [pool.<name>.load] table (curve, knee, factor, slope, points, count_queued)"
)]
pub struct RawLoad {
    pub curve: V<String>,
    pub knee: V<i64>,
    pub factor: V<f64>,
    pub slope: V<f64>,
    pub points: V<Vec<Vec<f64>>>,
    pub count_queued: V<bool>,
}

#[derive(Deserialize, Debug, Clone, Default)]
#[serde(deny_unknown_fields, expecting = "a [pool.<name>.autoscaler] table (metric, target, interval, ...)")]
pub struct RawAutoscaler {
    pub metric: V<String>,
    pub target: V<f64>,
    pub interval: V<Dur>,
    pub max_step_up: V<i64>,
    pub max_step_down: V<i64>,
    pub cooldown: V<Dur>,
    pub tolerance: V<f64>,
}

/// A duration distribution: `{ dist = "lognormal", median = "4s", p99 = "12s" }`.
#[derive(Deserialize, Debug, Clone, Default)]
#[serde(deny_unknown_fields, expecting = "a distribution table such as { dist = \"constant\", value = \"1s\" }")]
pub struct RawDist {
    pub dist: V<String>,
    pub value: V<Dur>,
    pub mean: V<Dur>,
    pub low: V<Dur>,
    pub high: V<Dur>,
    pub median: V<Dur>,
    pub p99: V<Dur>,
    pub cv: V<f64>,
}

#[derive(Deserialize, Debug, Clone, Default)]
#[serde(deny_unknown_fields, expecting = "a [class.<name>] table (pool, service, chunks, headers, cache, ...)")]
pub struct RawClass {
    pub pool: V<String>,
    pub service: Option<RawDist>,
    pub chunks: V<i64>,
    pub headers: V<Bytes>,
    pub largest_header: V<Bytes>,
    pub cache: Option<RawClassCache>,
}

#[derive(Deserialize, Debug, Clone, Default)]
#[serde(
    deny_unknown_fields,
    expecting = "a [class.<name>.cache] table (objects, popularity, zipf_s, cacheable, size, ttl, grace, hit_for_miss)"
)]
pub struct RawClassCache {
    pub objects: V<i64>,
    pub popularity: V<String>,
    pub zipf_s: V<f64>,
    pub cacheable: V<f64>,
    pub size: V<Bytes>,
    pub ttl: V<Dur>,
    pub grace: V<Dur>,
    pub hit_for_miss: V<Dur>,
}

#[derive(Deserialize, Debug, Clone, Default)]
#[serde(deny_unknown_fields, expecting = "a [strategy.<name>] table (kind, max_attempts, ...)")]
pub struct RawStrategy {
    pub kind: V<String>,
    pub max_attempts: V<i64>,
    pub retry_on: V<Names>,
    pub honor_retry_after: V<bool>,
    pub delay: V<Dur>,
    pub base: V<Dur>,
    pub multiplier: V<f64>,
    pub cap: V<Dur>,
    pub jitter: V<String>,
    pub ranges: V<Vec<(Dur, Dur)>>,
    pub deadline: V<Dur>,
    pub hedge_after: V<Dur>,
    pub budget: Option<RawBudget>,
    pub throttle: Option<RawThrottle>,
    pub adaptive: Option<RawAdaptive>,
    pub breaker: Option<RawBreaker>,
}

#[derive(Deserialize, Debug, Clone, Default)]
#[serde(deny_unknown_fields, expecting = "a [strategy.<name>.budget] table (ttl, min_per_sec, percent)")]
pub struct RawBudget {
    pub ttl: V<Dur>,
    pub min_per_sec: V<i64>,
    pub percent: V<f64>,
}

#[derive(Deserialize, Debug, Clone, Default)]
#[serde(deny_unknown_fields, expecting = "a [strategy.<name>.throttle] table (max_tokens, token_ratio)")]
pub struct RawThrottle {
    pub max_tokens: V<i64>,
    pub token_ratio: V<f64>,
}

#[derive(Deserialize, Debug, Clone, Default)]
#[serde(deny_unknown_fields, expecting = "a [strategy.<name>.adaptive] table (k, window)")]
pub struct RawAdaptive {
    pub k: V<f64>,
    pub window: V<Dur>,
}

#[derive(Deserialize, Debug, Clone, Default)]
#[serde(
    deny_unknown_fields,
    expecting = "a [strategy.<name>.breaker] table (failure_ratio, min_throughput, sampling, break_duration, half_open_calls)"
)]
pub struct RawBreaker {
    pub failure_ratio: V<f64>,
    pub min_throughput: V<i64>,
    pub sampling: V<Dur>,
    pub break_duration: V<Dur>,
    pub half_open_calls: V<i64>,
}

#[derive(Deserialize, Debug, Clone, Default)]
#[serde(deny_unknown_fields, expecting = "a [swarm.<name>] table (class or mix, arrivals, ...)")]
pub struct RawSwarm {
    pub class: V<String>,
    pub mix: V<BTreeMap<String, f64>>,
    pub arrivals: Option<RawArrivals>,
    pub bulk: Option<RawBulk>,
    pub timeout: V<Timeout>,
    pub strategy: V<String>,
    pub rate_limit: V<Rate>,
    pub rate_limit_burst: V<i64>,
    pub tier: V<String>,
    pub patience: V<Dur>,
}

#[derive(Deserialize, Debug, Clone, Default)]
#[serde(deny_unknown_fields, expecting = "an arrivals table such as { process = \"poisson\", rate = \"5/s\" }")]
pub struct RawArrivals {
    pub process: V<String>,
    pub spacing: V<String>,
    pub rate: V<Rate>,
    pub from: V<Rate>,
    pub to: V<Rate>,
    pub base: V<Rate>,
    pub peak: V<Rate>,
    pub start: V<Dur>,
    pub length: V<Dur>,
    pub steps: Option<Vec<RawStep>>,
    pub users: V<i64>,
    pub think: Option<RawDist>,
}

#[derive(Deserialize, Debug, Clone, Default)]
#[serde(deny_unknown_fields, expecting = "a step table such as { at = \"10m\", rate = \"5/s\" }")]
pub struct RawStep {
    pub at: V<Dur>,
    pub rate: V<Rate>,
}

#[derive(Deserialize, Debug, Clone, Default)]
#[serde(deny_unknown_fields, expecting = "a bulk table such as { images = 40, parallelism = 4 }")]
pub struct RawBulk {
    pub images: V<i64>,
    pub parallelism: V<i64>,
    pub on_failure: V<String>,
}

#[derive(Deserialize, Debug, Clone, Default)]
#[serde(deny_unknown_fields, expecting = "a [[chaos]] entry (kind, at, ...)")]
pub struct RawChaos {
    pub kind: V<String>,
    pub at: V<Dur>,
    pub duration: V<Dur>,
    pub pool: V<String>,
    pub swarm: V<String>,
    pub count: V<i64>,
    pub factor: V<f64>,
    pub share: V<f64>,
    pub status: V<i64>,
    pub added: V<Dur>,
    pub jitter: V<Dur>,
}

#[derive(Deserialize, Debug, Clone, Default)]
#[serde(deny_unknown_fields, expecting = "the [compare] table (strategies, baseline, seeds, ...)")]
pub struct RawCompare {
    pub strategies: V<Vec<String>>,
    pub baseline: V<String>,
    pub seeds: V<i64>,
    pub swarms: V<Vec<String>>,
    pub objective: V<Vec<String>>,
}
