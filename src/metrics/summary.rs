//! The summary of one run: the numbers `summary.json` holds and reports print.
//!
//! Field names are a contract (docs/metrics.md): scripts and the compare, sweep
//! and plan commands read them. Everything but `engine` is a pure function of
//! (scenario, seed), so two runs of one seed give byte-identical JSON apart from
//! the engine's wall-clock figures.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::completion_all::CompletionAll;
use super::recovery::{self, Recovery};
use super::{Counts, LatencyHist, Percentiles, Recorder, round3};
use crate::criteria::Metric;
use crate::criteria::slo::{Judgement, Rule, Threshold};
use crate::model::outcome::{Cause, Outcome};
use crate::scenario::Scenario;

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Requests {
    pub offered: u64,
    pub succeeded: u64,
    pub failed: u64,
    pub unfinished: u64,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Attempts {
    /// Attempts sent: the outcomes below, and `unfinished`.
    pub total: u64,
    /// Sent and still in flight when the run ended: no outcome, in no rate.
    #[serde(default)]
    pub unfinished: u64,
    pub ok: u64,
    pub status_503: u64,
    pub status_429: u64,
    pub client_timeout: u64,
    pub connect_error: u64,
    /// Attempts the client's own defences refused to send (breaker,
    /// adaptive throttling, denied retries); not part of `total`, which
    /// counts attempts sent.
    #[serde(default)]
    pub local_reject: u64,
    /// The backend's own 500s and 502s (injected faults), passed on by the
    /// proxy; listed only by scenarios that can produce them (or saw some).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status_500: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status_502: Option<u64>,
    /// Hedged requests' attempts the client stopped listening for once
    /// another attempt answered; listed only by scenarios whose strategies hedge.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cancelled: Option<u64>,
    /// 503s by cause; every cause is listed, zeros included, but for the
    /// ones only some scenarios can produce (`overflow`, `injected`).
    pub causes: BTreeMap<String, u64>,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct BulkJobs {
    pub submitted: u64,
    pub completed: u64,
    pub failed: u64,
    pub unfinished: u64,
    /// completed / submitted; null without jobs.
    pub success_rate: Option<f64>,
    pub completion_ms: Percentiles,
    /// Every submitted job; failed and unfinished ones count as never completing.
    pub completion_all_ms: CompletionAll,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct PoolSummary {
    pub busy_seconds: f64,
    pub instance_seconds: f64,
    /// Busy slot time / slot time on ready instances; null when no instance was ready.
    pub utilization: Option<f64>,
    pub ready_mean: f64,
    pub provisioning_mean: f64,
    pub queued_mean: f64,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Gpu {
    pub busy_seconds: f64,
    pub wasted_seconds: f64,
    pub instance_seconds: f64,
    /// What the instance-seconds cost in money; absent when no pool has a
    /// `price_per_hour`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cost: Option<f64>,
    pub pools: BTreeMap<String, PoolSummary>,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct ProxyStats {
    /// Backend fetches, VCL retries included.
    pub fetches: u64,
    pub retries: u64,
}

/// Cache lookups of one class, or of all cached classes.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct CacheStats {
    /// Requests of cached classes that reached the proxy's cache.
    pub lookups: u64,
    /// Answered without a backend fetch of their own: fresh, grace and coalesced hits.
    pub hits: u64,
    pub grace_hits: u64,
    /// Waited on a busy object, then answered from what its one fetch stored.
    pub coalesced: u64,
    /// Fetched, marking the object busy.
    pub misses: u64,
    /// Fetched on their own because the object was hit-for-miss.
    pub hit_for_miss: u64,
    /// hits / lookups; null without lookups.
    pub hit_ratio: Option<f64>,
    /// The GPU work the hits' requests would have needed.
    pub gpu_seconds_saved: f64,
}

impl CacheStats {
    fn of(c: &super::CacheCounts) -> CacheStats {
        use crate::model::proxy::CacheEvent as E;
        CacheStats {
            lookups: c.lookups(),
            hits: c.hits(),
            grace_hits: c.count(E::Grace),
            coalesced: c.count(E::Coalesced),
            misses: c.count(E::Miss),
            hit_for_miss: c.count(E::HitForMiss),
            hit_ratio: ratio(c.hits(), c.lookups()),
            gpu_seconds_saved: round3(c.saved_ns as f64 / 1e9),
        }
    }
}

/// The proxy cache, when some class is cached.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct CacheSummary {
    #[serde(flatten)]
    pub total: CacheStats,
    /// Objects evicted to make room (after the warmup).
    pub evictions: u64,
    /// Per cached class.
    pub classes: BTreeMap<String, CacheStats>,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct SwarmSummary {
    pub strategy: String,
    pub attempts_per_request: BTreeMap<String, u64>,
    pub requests: Requests,
    pub attempts: u64,
    pub rate_503: Option<f64>,
    pub success_rate: Option<f64>,
    pub amplification: Option<f64>,
    pub goodput: Option<f64>,
    pub completion_ms: Percentiles,
    pub completion_all_ms: CompletionAll,
    pub bulk_jobs: Option<BulkJobs>,
}

/// The requests of the swarms of one priority tier, together.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct TierSummary {
    /// Its swarms, by name.
    pub swarms: Vec<String>,
    pub requests: Requests,
    /// Attempts sent.
    pub attempts: u64,
    pub status_503: u64,
    pub status_429: u64,
    /// 503 attempts / attempts that ended; null without any.
    pub rate_503: Option<f64>,
    /// 429 attempts / attempts that ended; null without any.
    pub rate_429: Option<f64>,
    /// Succeeded / offered requests; null without requests.
    pub success_rate: Option<f64>,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct SloResult {
    pub metric: String,
    pub threshold: String,
    /// The measured value: NaN (JSON null) when undefined, +∞ (`"inf"`) for a
    /// percentile that counts failures and falls among them.
    #[serde(with = "super::extended::float")]
    pub value: f64,
    pub passed: bool,
}

/// What the pools' instance-seconds cost: the sum over the scenario's priced
/// pools of their instance-hours times their price; None when no pool has a
/// price.
fn cost(sc: &Scenario, pools: &BTreeMap<String, PoolSummary>) -> Option<f64> {
    let priced: Vec<(&str, f64)> =
        sc.pools.iter().zip(&sc.prices).filter_map(|(p, price)| Some((p.name.as_str(), (*price)?))).collect();
    (!priced.is_empty()).then(|| {
        priced.iter().map(|(name, price)| pools.get(*name).map_or(0.0, |p| p.instance_seconds) / 3600.0 * price).sum()
    })
}

impl SloResult {
    /// The result of a judgement (see [`Threshold::judge`]).
    pub fn new(t: &Threshold, j: Judgement) -> SloResult {
        SloResult { metric: t.metric.to_string(), threshold: t.to_string(), value: j.value, passed: j.passed }
    }
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct EngineStats {
    pub events: u64,
    pub wall_seconds: f64,
    pub events_per_second: f64,
    /// A live run's time scale (simulated seconds per real second); absent
    /// for a simulated run.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub live_time_scale: Option<f64>,
    /// A live run: how late its timers ran, in simulated milliseconds. Near
    /// the clock's resolution (1 ms real times the scale) the machine kept
    /// up; beyond it the run describes the machine as much as the scenario.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timer_lag_ms: Option<Percentiles>,
    /// A live run stopped before the scenario's end (Ctrl-C): `duration_s`
    /// is the time that ran, and every figure covers that time.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub interrupted: bool,
    /// `stampede load`: the wire as the load generator saw it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub wire: Option<super::wire::WireStats>,
}

impl EngineStats {
    /// A `stampede load`: the proxy, its cache and the GPUs are the
    /// target's, which the run does not see.
    pub fn is_load(&self) -> bool {
        self.wire.is_some()
    }
}

/// Everything `summary.json` holds.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Summary {
    pub scenario: String,
    pub seed: u64,
    /// The strategy every swarm used, or "per-swarm" when they differ.
    pub strategy: String,
    /// When set, the request-level numbers cover only these swarms (see
    /// [`Summary::scoped`]); pool-level numbers always cover every swarm.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scope: Option<Vec<String>>,
    pub duration_s: f64,
    pub warmup_s: f64,
    pub requests: Requests,
    pub attempts: Attempts,
    /// Each ratio is null when its denominator is zero.
    pub rate_503: Option<f64>,
    pub success_rate: Option<f64>,
    pub amplification: Option<f64>,
    /// Succeeded requests per second of measured time.
    pub goodput: Option<f64>,
    pub latency_ms: Percentiles,
    pub latency_ok_ms: Percentiles,
    pub completion_ms: Percentiles,
    /// Every offered request; failed and unfinished ones count as never completing.
    pub completion_all_ms: CompletionAll,
    pub queue_wait_ms: Percentiles,
    /// Backend time to first byte: request sent to the backend until its first response byte.
    pub first_byte_ms: Percentiles,
    /// Gaps between chunks of streamed responses.
    pub chunk_gap_ms: Percentiles,
    /// How many ended requests took 1, 2, … attempts (the last bucket, "15+", is 15 or more).
    pub attempts_per_request: BTreeMap<String, u64>,
    pub bulk_jobs: BulkJobs,
    pub gpu: Gpu,
    pub proxy: ProxyStats,
    /// The proxy cache; absent when no class is cached.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cache: Option<CacheSummary>,
    pub swarms: BTreeMap<String, SwarmSummary>,
    /// Per priority tier that has a swarm, when the scenario speaks of tiers.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub tiers: BTreeMap<String, TierSummary>,
    /// Per chaos trigger and traffic surge: did the service recover, and when.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub recovery: Vec<Recovery>,
    pub slo: Vec<SloResult>,
    pub engine: EngineStats,
}

fn cache_summary(sc: &Scenario, rec: &Recorder) -> Option<CacheSummary> {
    if !sc.proxy.caches() {
        return None;
    }
    let mut total = super::CacheCounts::default();
    let mut classes = BTreeMap::new();
    for (i, class) in sc.classes.iter().enumerate() {
        if sc.proxy.classes.get(i).is_none_or(|c| c.cache.is_none()) {
            continue;
        }
        let c = rec.cache.get(i).cloned().unwrap_or_default();
        total.add(&c);
        classes.insert(class.name.clone(), CacheStats::of(&c));
    }
    Some(CacheSummary { total: CacheStats::of(&total), evictions: rec.evictions, classes })
}

/// a / b, or None when b is zero (a rate with no denominator is undefined, not 0).
fn ratio(a: u64, b: u64) -> Option<f64> {
    (b > 0).then(|| r9(a as f64 / b as f64))
}

/// Rounds ratios to 9 decimals: enough for any rate, and stable text.
fn r9(x: f64) -> f64 {
    (x * 1e9).round() / 1e9
}

/// Attempts-per-request counts keyed "01".."14" and "15+" (15 or more).
fn buckets(counts: &[u64; 16]) -> BTreeMap<String, u64> {
    let n = counts.len();
    counts
        .iter()
        .enumerate()
        .skip(1)
        .map(|(k, v)| (if k == n - 1 { format!("{k}+") } else { format!("{k:02}") }, *v))
        .collect()
}

/// What the engine knows at the end of a run that the recorder does not.
#[derive(Clone, Debug, Default)]
pub struct EndState {
    /// Measured requests still in flight, per swarm.
    pub unfinished: Vec<u64>,
    /// Measured bulk jobs still in flight, per swarm.
    pub bulk_unfinished: Vec<u64>,
    /// Per pool: (busy slot·s, instance·s, ready slot·s, ready·s, provisioning·s, queued·s) over [warmup, end].
    pub pool_areas: Vec<[f64; 6]>,
    pub measured_seconds: f64,
    pub engine: EngineStats,
}

/// The request-level measurements of a set of swarms, summed and merged.
#[derive(Clone, Debug, Default)]
struct Group {
    counts: Counts,
    unfinished: u64,
    bulk_unfinished: u64,
    attempts_per_request: [u64; 16],
    completion: LatencyHist,
    bulk_completion: LatencyHist,
}

impl Group {
    /// Adds swarm `i` of the recorder, with its unfinished requests and bulk jobs.
    fn add(&mut self, rec: &Recorder, i: usize, unfinished: u64, bulk_unfinished: u64) {
        let m = &rec.swarms[i];
        self.counts.add(&m.counts);
        self.unfinished += unfinished;
        self.bulk_unfinished += bulk_unfinished;
        for (a, b) in self.attempts_per_request.iter_mut().zip(&m.attempts_per_request) {
            *a += b;
        }
        self.completion.merge_from(&m.completion);
        self.bulk_completion.merge_from(&m.bulk_completion);
    }

    fn requests(&self) -> Requests {
        let c = &self.counts;
        Requests { offered: c.offered, succeeded: c.succeeded, failed: c.failed, unfinished: self.unfinished }
    }

    fn attempts(&self) -> Attempts {
        let c = &self.counts;
        Attempts {
            total: c.sent,
            unfinished: c.sent.saturating_sub(c.attempts_ended()),
            ok: c.count(Outcome::Ok),
            status_503: c.status_503(),
            status_429: c.count(Outcome::Status429),
            client_timeout: c.count(Outcome::ClientTimeout),
            connect_error: c.count(Outcome::ConnectError),
            local_reject: c.count(Outcome::LocalReject),
            status_500: Some(c.count(Outcome::Status500)),
            status_502: Some(c.count(Outcome::Status502)),
            cancelled: Some(c.count(Outcome::Cancelled)),
            causes: Cause::ALL.iter().map(|k| (k.name().to_string(), c.count(Outcome::Status503(*k)))).collect(),
        }
    }

    /// Requests that did not succeed within the run.
    fn not_completed(&self) -> u64 {
        self.counts.failed + self.unfinished
    }

    fn goodput(&self, measured_seconds: f64) -> Option<f64> {
        (measured_seconds > 0.0).then(|| r9(self.counts.succeeded as f64 / measured_seconds))
    }

    fn bulk(&self) -> BulkJobs {
        let c = &self.counts;
        BulkJobs {
            submitted: c.bulk_submitted,
            completed: c.bulk_completed,
            failed: c.bulk_failed,
            unfinished: self.bulk_unfinished,
            success_rate: ratio(c.bulk_completed, c.bulk_submitted),
            completion_ms: self.bulk_completion.percentiles(),
            completion_all_ms: CompletionAll::new(&self.bulk_completion, c.bulk_failed + self.bulk_unfinished),
        }
    }

    fn tier(&self, swarms: Vec<String>) -> TierSummary {
        let c = &self.counts;
        let ended = c.attempts_ended();
        let (status_503, status_429) = (c.status_503(), c.count(Outcome::Status429));
        TierSummary {
            swarms,
            requests: self.requests(),
            attempts: c.sent,
            status_503,
            status_429,
            rate_503: ratio(status_503, ended),
            rate_429: ratio(status_429, ended),
            success_rate: ratio(c.succeeded, c.offered),
        }
    }

    fn swarm(&self, strategy: &str, has_bulk: bool, measured_seconds: f64) -> SwarmSummary {
        let c = &self.counts;
        SwarmSummary {
            strategy: strategy.to_string(),
            attempts_per_request: buckets(&self.attempts_per_request),
            requests: self.requests(),
            attempts: c.sent,
            // Over the attempts that ended: one still in flight has no outcome yet.
            rate_503: ratio(c.status_503(), c.attempts_ended()),
            success_rate: ratio(c.succeeded, c.offered),
            amplification: ratio(c.sent, c.offered),
            goodput: self.goodput(measured_seconds),
            completion_ms: self.completion.percentiles(),
            completion_all_ms: CompletionAll::new(&self.completion, self.not_completed()),
            bulk_jobs: has_bulk.then(|| self.bulk()),
        }
    }
}

impl Summary {
    pub fn build(sc: &Scenario, seed: u64, rec: &Recorder, end: &EndState) -> Summary {
        let mut pools = BTreeMap::new();
        let (mut busy, mut billed) = (0.0, 0.0);
        let span = end.measured_seconds.max(f64::MIN_POSITIVE);
        // A run stopped within its warmup measured nothing: no pool time either.
        let measured = end.measured_seconds > 0.0;
        for (cfg, a) in sc.pools.iter().zip(&end.pool_areas) {
            let a = if measured { *a } else { [0.0; 6] };
            busy += a[0];
            billed += a[1];
            pools.insert(
                cfg.name.clone(),
                PoolSummary {
                    busy_seconds: round3(a[0]),
                    instance_seconds: round3(a[1]),
                    utilization: (a[2] > 0.0).then(|| r9(a[0] / a[2])),
                    ready_mean: round3(a[3] / span),
                    provisioning_mean: round3(a[4] / span),
                    queued_mean: round3(a[5] / span),
                },
            );
        }
        let mut s = Summary {
            scenario: sc.name.clone(),
            seed,
            strategy: sc.common_strategy().unwrap_or("per-swarm").to_string(),
            scope: None,
            duration_s: sc.duration.as_secs_f64(),
            warmup_s: sc.warmup.as_secs_f64(),
            latency_ms: rec.latency().percentiles(),
            latency_ok_ms: rec.latency_ok.percentiles(),
            queue_wait_ms: rec.queue_wait.percentiles(),
            first_byte_ms: rec.first_byte.percentiles(),
            chunk_gap_ms: rec.chunk_gap.percentiles(),
            gpu: Gpu {
                busy_seconds: round3(busy),
                wasted_seconds: round3(rec.wasted_ns as f64 / 1e9),
                instance_seconds: round3(billed),
                cost: cost(sc, &pools),
                pools,
            },
            proxy: ProxyStats { fetches: rec.proxy_fetches, retries: rec.proxy_retries },
            cache: if end.engine.is_load() { None } else { cache_summary(sc, rec) },
            engine: end.engine.clone(),
            ..Summary::default()
        };
        let all: Vec<usize> = (0..sc.swarms.len()).collect();
        s.set_requests(sc, rec, &all, |i| (end.unfinished[i], end.bulk_unfinished[i]));
        s.recovery = recovery::detect(rec.series.rows(), &sc.highlights(), sc.end());
        s.slo = s.check(&sc.slo);
        s
    }

    /// This summary with its request-level numbers — requests, attempts,
    /// rates, goodput, completion, attempts per request, bulk jobs, swarms —
    /// restricted to `swarms` (indices into `sc.swarms`), from the recorder of
    /// the same run. Pool-level numbers (see [`Metric::pool_wide`]) are recorded
    /// per pool, not per swarm, and keep covering every swarm; so do the SLO
    /// results, which are about the whole service. Scoping to every swarm
    /// gives the summary back unchanged.
    pub fn scoped(&self, sc: &Scenario, rec: &Recorder, swarms: &[usize]) -> Summary {
        let mut s = self.clone();
        let left = |i: usize| {
            let sw = &self.swarms[&sc.swarms[i].name];
            (sw.requests.unfinished, sw.bulk_jobs.as_ref().map_or(0, |b| b.unfinished))
        };
        s.set_requests(sc, rec, swarms, left);
        let every = swarms.len() == sc.swarms.len() && (0..sc.swarms.len()).all(|i| swarms.contains(&i));
        s.scope = (!every).then(|| swarms.iter().map(|&i| sc.swarms[i].name.clone()).collect());
        s
    }

    /// Fills the request-level fields from the swarms `swarms`; `left(i)` is
    /// swarm i's (unfinished requests, unfinished bulk jobs).
    fn set_requests(&mut self, sc: &Scenario, rec: &Recorder, swarms: &[usize], left: impl Fn(usize) -> (u64, u64)) {
        let measured = self.duration_s - self.warmup_s;
        let mut total = Group::default();
        self.swarms.clear();
        self.tiers.clear();
        let mut tiers: BTreeMap<u8, (Vec<String>, Group)> = BTreeMap::new();
        for &i in swarms {
            let (unfinished, bulk_unfinished) = left(i);
            let mut one = Group::default();
            one.add(rec, i, unfinished, bulk_unfinished);
            let cfg = &sc.swarms[i];
            let strategy = &sc.strategies[cfg.strategy].name;
            self.swarms.insert(cfg.name.clone(), one.swarm(strategy, cfg.bulk.is_some(), measured));
            total.add(rec, i, unfinished, bulk_unfinished);
            if sc.tiered {
                let (names, group) = tiers.entry(cfg.tier).or_default();
                names.push(cfg.name.clone());
                group.add(rec, i, unfinished, bulk_unfinished);
            }
        }
        for (rank, (swarms, group)) in tiers {
            self.tiers.insert(sc.tiers[usize::from(rank)].clone(), group.tier(swarms));
        }
        let whole = total.swarm("", true, measured);
        self.requests = whole.requests;
        self.attempts = total.attempts();
        // An outcome this scenario cannot produce is not listed (unless it
        // happened all the same: a foreign target's 500s under `load`).
        let a = &mut self.attempts;
        for c in [Cause::Overflow, Cause::Injected] {
            if !sc.can_produce(Outcome::Status503(c)) && a.causes.get(c.name()) == Some(&0) {
                a.causes.remove(c.name());
            }
        }
        let listed = [
            (Outcome::Status500, &mut a.status_500),
            (Outcome::Status502, &mut a.status_502),
            (Outcome::Cancelled, &mut a.cancelled),
        ];
        for (o, n) in listed {
            if !sc.can_produce(o) && *n == Some(0) {
                *n = None;
            }
        }
        self.rate_503 = whole.rate_503;
        self.success_rate = whole.success_rate;
        self.amplification = whole.amplification;
        self.goodput = whole.goodput;
        self.completion_ms = whole.completion_ms;
        self.completion_all_ms = whole.completion_all_ms;
        self.attempts_per_request = whole.attempts_per_request;
        self.bulk_jobs = whole.bulk_jobs.unwrap_or_default();
    }

    /// The value of a named metric (durations in seconds, ratios as
    /// fractions), or None when it is undefined in this run: a percentile with
    /// no sample (or beyond the histogram's range), a rate with no
    /// denominator. Percentiles that count failures are +∞ when they fall
    /// among the failures.
    pub fn metric(&self, m: Metric) -> Option<f64> {
        use Metric::*;
        let secs = |ms: Option<f64>| ms.map(|v| v / 1e3);
        // Stored (rounded) fields, so a value can be recomputed from summary.json alone.
        let (l, c, a, b) = (&self.latency_ms, &self.completion_ms, &self.completion_all_ms, &self.bulk_jobs);
        let (q, f) = (&self.queue_wait_ms, &self.first_byte_ms);
        let (bc, ba) = (&b.completion_ms, &b.completion_all_ms);
        match m {
            Rate503 => self.rate_503,
            SuccessRate => self.success_rate,
            FailureRate => ratio(self.requests.failed, self.requests.offered),
            Amplification => self.amplification,
            Goodput => self.goodput,
            LatencyP50 => secs(l.p50),
            LatencyP90 => secs(l.p90),
            LatencyP99 => secs(l.p99),
            LatencyP999 => secs(l.p999),
            LatencyMax => secs(l.max),
            CompletionP50 => secs(c.p50),
            CompletionP90 => secs(c.p90),
            CompletionP99 => secs(c.p99),
            CompletionP999 => secs(c.p999),
            CompletionMax => secs(c.max),
            CompletionAllP50 => secs(a.p50),
            CompletionAllP90 => secs(a.p90),
            CompletionAllP99 => secs(a.p99),
            CompletionAllP999 => secs(a.p999),
            BulkSuccessRate => b.success_rate,
            BulkCompletionP50 => secs(bc.p50),
            BulkCompletionP99 => secs(bc.p99),
            BulkCompletionMax => secs(bc.max),
            BulkCompletionAllP50 => secs(ba.p50),
            BulkCompletionAllP99 => secs(ba.p99),
            QueueWaitMean => secs(q.mean),
            QueueWaitP99 => secs(q.p99),
            FirstByteP99 => secs(f.p99),
            FirstByteP999 => secs(f.p999),
            WastedGpuSeconds => Some(self.gpu.wasted_seconds),
            HitRatio => self.cache.as_ref().and_then(|c| c.total.hit_ratio),
            GpuSecondsSaved => self.cache.as_ref().map(|c| c.total.gpu_seconds_saved),
            GpuBusySeconds => Some(self.gpu.busy_seconds),
            InstanceSeconds => Some(self.gpu.instance_seconds),
            Recovered => self.worst(|r| r.recovered.map(f64::from), f64::min),
            // Not recovered: it never came back within the run.
            RecoveryTime => self.worst(
                |r| r.recovered.map(|ok| if ok { r.recovery_s.unwrap_or(0.0) } else { f64::INFINITY }),
                f64::max,
            ),
            PostSuccessRate => self.worst(|r| r.post_success_rate, f64::min),
            PostAmplification => self.worst(|r| r.post_amplification, f64::max),
            Part(p) => self.part(p),
        }
    }

    /// A swarm's or a tier's metric; None when the summary does not cover
    /// it (a swarm outside a scoped summary, a tier without a swarm).
    fn part(&self, p: crate::criteria::metric::Part) -> Option<f64> {
        use crate::criteria::metric::{Group, PartValue};
        match p.group {
            Group::Swarm => {
                let s = self.swarms.get(p.of)?;
                match p.what {
                    PartValue::SuccessRate => s.success_rate,
                    PartValue::FailureRate => ratio(s.requests.failed, s.requests.offered),
                    PartValue::Rate503 => s.rate_503,
                    PartValue::Rate429 => None,
                }
            }
            Group::Tier => {
                let t = self.tiers.get(p.of)?;
                match p.what {
                    PartValue::SuccessRate => t.success_rate,
                    PartValue::FailureRate => ratio(t.requests.failed, t.requests.offered),
                    PartValue::Rate503 => t.rate_503,
                    PartValue::Rate429 => t.rate_429,
                }
            }
        }
    }

    /// The worst value over the triggers that define it (None if none does).
    fn worst(&self, value: impl Fn(&Recovery) -> Option<f64>, pick: fn(f64, f64) -> f64) -> Option<f64> {
        self.recovery.iter().filter_map(value).reduce(pick)
    }

    /// Evaluates thresholds against this summary.
    pub fn check(&self, thresholds: &[Threshold]) -> Vec<SloResult> {
        thresholds.iter().map(|t| SloResult::new(t, t.judge(&[self.metric(t.metric)], Rule::Mean))).collect()
    }

    /// True when every threshold passed.
    pub fn slo_passed(&self) -> bool {
        self.slo.iter().all(|r| r.passed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::metrics::{CompletionAll, Percentiles};

    /// Walks every metric over a summary whose every field holds a different
    /// number: each metric must read a value, and no two the same field.
    #[test]
    fn every_metric_reads_its_own_field() {
        let pct = |base: f64| Percentiles {
            count: 1,
            mean: Some(base + 1.0),
            p50: Some(base + 2.0),
            p90: Some(base + 3.0),
            p99: Some(base + 4.0),
            p999: Some(base + 5.0),
            max: Some(base + 6.0),
            saturated: 0,
        };
        let all = |base: f64| CompletionAll {
            p50: Some(base + 2.0),
            p90: Some(base + 3.0),
            p99: Some(base + 4.0),
            p999: Some(base + 5.0),
            ..Default::default()
        };
        let mut s = Summary {
            requests: Requests { offered: 7, failed: 2, ..Default::default() },
            rate_503: Some(0.11),
            success_rate: Some(0.12),
            amplification: Some(0.13),
            goodput: Some(0.14),
            latency_ms: pct(100.0),
            completion_ms: pct(200.0),
            completion_all_ms: all(300.0),
            queue_wait_ms: pct(400.0),
            first_byte_ms: pct(500.0),
            ..Default::default()
        };
        s.bulk_jobs = BulkJobs {
            success_rate: Some(0.15),
            completion_ms: pct(600.0),
            completion_all_ms: all(700.0),
            ..Default::default()
        };
        s.gpu.busy_seconds = 0.16;
        s.gpu.wasted_seconds = 0.17;
        s.gpu.instance_seconds = 0.18;
        s.cache = Some(CacheSummary {
            total: CacheStats { hit_ratio: Some(0.23), gpu_seconds_saved: 0.24, ..Default::default() },
            ..Default::default()
        });
        s.recovery = vec![Recovery {
            recovered: Some(true),
            recovery_s: Some(0.19),
            post_success_rate: Some(0.21),
            post_amplification: Some(0.22),
            ..Default::default()
        }];
        let mut seen: BTreeMap<u64, Metric> = BTreeMap::new();
        for &m in Metric::ALL {
            let v = s.metric(m).unwrap_or_else(|| panic!("{m} reads nothing"));
            if let Some(other) = seen.insert(v.to_bits(), m) {
                panic!("{m} and {other} read the same field ({v})");
            }
        }
        assert_eq!(s.metric(Metric::FailureRate), Some(r9(2.0 / 7.0_f64)));
        assert_eq!(s.metric(Metric::CompletionP90), Some(0.203), "durations in seconds");
    }

    #[test]
    fn the_cache_section_survives_a_json_round_trip_and_is_absent_when_off() {
        let mut s = Summary::default();
        let off = serde_json::to_string(&s).expect("json");
        assert!(!off.contains("\"cache\""), "no cache key without a cached class");
        let stats =
            CacheStats { lookups: 10, hits: 4, hit_ratio: Some(0.4), gpu_seconds_saved: 12.5, ..Default::default() };
        let empty = CacheStats { hit_ratio: None, ..Default::default() };
        s.cache = Some(CacheSummary {
            total: stats.clone(),
            evictions: 3,
            classes: [("a".to_string(), stats), ("b".to_string(), empty)].into(),
        });
        let text = serde_json::to_string(&s).expect("json");
        assert!(text.contains("\"cache\":{\"lookups\":10,"), "totals are flattened: {text}");
        assert_eq!(serde_json::from_str::<Summary>(&text).expect("parses"), s);
    }
}
