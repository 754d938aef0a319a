//! The scenario file's shape, exactly as written (serde).
//!
//! Everything here mirrors the TOML one to one, with unknown keys denied and
//! units parsed, but nothing cross-checked: a `pool = "gpu"` is still a string.
//! `resolve` turns this into the typed [`Scenario`](super::Scenario).
//! Variant-dependent tables (a distribution, an arrival process, a strategy, a
//! chaos event) are flat structs with a kind tag, so that a key that belongs to
//! another kind gets a message naming the kind instead of serde's generic one.

use std::collections::BTreeMap;

use serde::Deserialize;

use super::units::{Dur, Rate, Timeout};

#[derive(Deserialize, Debug, Clone)]
#[serde(deny_unknown_fields)]
pub struct RawScenario {
    pub scenario: RawMeta,
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
    pub slo: BTreeMap<String, String>,
    #[serde(default)]
    pub compare: Option<RawCompare>,
}

#[derive(Deserialize, Debug, Clone)]
#[serde(deny_unknown_fields)]
pub struct RawMeta {
    pub name: String,
    #[serde(default)]
    pub description: String,
    pub duration: Dur,
    pub warmup: Option<Dur>,
    pub seed: Option<i64>,
    pub window: Option<Dur>,
}

#[derive(Deserialize, Debug, Clone, Default)]
#[serde(deny_unknown_fields)]
pub struct RawProxy {
    pub connect_timeout: Option<Timeout>,
    pub first_byte_timeout: Option<Timeout>,
    pub between_bytes_timeout: Option<Timeout>,
    pub max_connections: Option<i64>,
    pub wait_limit: Option<i64>,
    pub wait_timeout: Option<Dur>,
    pub director: Option<String>,
    pub max_sessions: Option<i64>,
    pub retry_on: Option<Vec<String>>,
    pub max_retries: Option<i64>,
    pub probe: Option<RawProbe>,
}

#[derive(Deserialize, Debug, Clone, Default)]
#[serde(deny_unknown_fields)]
pub struct RawProbe {
    pub interval: Option<Dur>,
    pub timeout: Option<Dur>,
    pub window: Option<i64>,
    pub threshold: Option<i64>,
    pub initial: Option<i64>,
}

#[derive(Deserialize, Debug, Clone)]
#[serde(deny_unknown_fields)]
pub struct RawPool {
    pub slots: Option<i64>,
    pub queue_limit: Option<i64>,
    pub queue_full_status: Option<i64>,
    pub retry_after: Option<Dur>,
    pub min_instances: Option<i64>,
    pub max_instances: Option<i64>,
    pub initial_instances: Option<i64>,
    pub cold_start: Option<Dur>,
    pub cancel_on_abandon: Option<bool>,
    pub deregister_delay: Option<Dur>,
    pub autoscaler: Option<RawAutoscaler>,
    pub price_per_hour: Option<f64>,
}

#[derive(Deserialize, Debug, Clone)]
#[serde(deny_unknown_fields)]
pub struct RawAutoscaler {
    pub metric: Option<String>,
    pub target: Option<f64>,
    pub interval: Option<Dur>,
    pub max_step_up: Option<i64>,
    pub max_step_down: Option<i64>,
    pub cooldown: Option<Dur>,
    pub tolerance: Option<f64>,
}

/// A duration distribution: `{ dist = "lognormal", median = "4s", p99 = "12s" }`.
#[derive(Deserialize, Debug, Clone)]
#[serde(deny_unknown_fields)]
pub struct RawDist {
    pub dist: String,
    pub value: Option<Dur>,
    pub mean: Option<Dur>,
    pub low: Option<Dur>,
    pub high: Option<Dur>,
    pub median: Option<Dur>,
    pub p99: Option<Dur>,
    pub cv: Option<f64>,
}

#[derive(Deserialize, Debug, Clone)]
#[serde(deny_unknown_fields)]
pub struct RawClass {
    pub pool: String,
    pub service: RawDist,
    pub chunks: Option<i64>,
}

#[derive(Deserialize, Debug, Clone)]
#[serde(deny_unknown_fields)]
pub struct RawStrategy {
    pub kind: String,
    pub max_attempts: Option<i64>,
    pub retry_on: Option<Vec<String>>,
    pub honor_retry_after: Option<bool>,
    pub delay: Option<Dur>,
    pub base: Option<Dur>,
    pub multiplier: Option<f64>,
    pub cap: Option<Dur>,
    pub jitter: Option<String>,
    pub ranges: Option<Vec<(Dur, Dur)>>,
}

#[derive(Deserialize, Debug, Clone)]
#[serde(deny_unknown_fields)]
pub struct RawSwarm {
    pub class: Option<String>,
    pub mix: Option<BTreeMap<String, f64>>,
    pub arrivals: RawArrivals,
    pub bulk: Option<RawBulk>,
    pub timeout: Option<Timeout>,
    pub strategy: Option<String>,
}

#[derive(Deserialize, Debug, Clone)]
#[serde(deny_unknown_fields)]
pub struct RawArrivals {
    pub process: String,
    pub spacing: Option<String>,
    pub rate: Option<Rate>,
    pub from: Option<Rate>,
    pub to: Option<Rate>,
    pub base: Option<Rate>,
    pub peak: Option<Rate>,
    pub start: Option<Dur>,
    pub length: Option<Dur>,
    pub steps: Option<Vec<RawStep>>,
    pub users: Option<i64>,
    pub think: Option<RawDist>,
}

#[derive(Deserialize, Debug, Clone)]
#[serde(deny_unknown_fields)]
pub struct RawStep {
    pub at: Dur,
    pub rate: Rate,
}

#[derive(Deserialize, Debug, Clone)]
#[serde(deny_unknown_fields)]
pub struct RawBulk {
    pub images: i64,
    pub parallelism: Option<i64>,
    pub on_failure: Option<String>,
}

#[derive(Deserialize, Debug, Clone)]
#[serde(deny_unknown_fields)]
pub struct RawChaos {
    pub kind: String,
    pub at: Dur,
    pub duration: Option<Dur>,
    pub pool: Option<String>,
    pub swarm: Option<String>,
    pub count: Option<i64>,
    pub factor: Option<f64>,
}

#[derive(Deserialize, Debug, Clone, Default)]
#[serde(deny_unknown_fields)]
pub struct RawCompare {
    pub strategies: Option<Vec<String>>,
    pub baseline: Option<String>,
    pub seeds: Option<i64>,
    pub swarms: Option<Vec<String>>,
    pub objective: Option<Vec<String>>,
}
