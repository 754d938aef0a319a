//! The summary of one run: the numbers `summary.json` holds and reports print.
//!
//! Field names are a contract (docs/metrics.md): scripts and the compare, sweep
//! and plan commands read them. Everything but `engine` is a pure function of
//! (scenario, seed), so two runs of one seed give byte-identical JSON apart from
//! the engine's wall-clock figures.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::{Counts, Percentiles, Recorder, round3};
use crate::model::outcome::{Cause, Outcome};
use crate::scenario::Scenario;
use crate::slo::Threshold;

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Requests {
    pub offered: u64,
    pub succeeded: u64,
    pub failed: u64,
    pub unfinished: u64,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Attempts {
    pub total: u64,
    pub ok: u64,
    pub status_503: u64,
    pub status_429: u64,
    pub client_timeout: u64,
    pub connect_error: u64,
    /// 503s by cause; every cause is listed, zeros included.
    pub causes: BTreeMap<String, u64>,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct BulkJobs {
    pub submitted: u64,
    pub completed: u64,
    pub failed: u64,
    pub unfinished: u64,
    pub success_rate: f64,
    pub completion_ms: Percentiles,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct PoolSummary {
    pub busy_seconds: f64,
    pub instance_seconds: f64,
    /// Busy slot time / slot time on ready instances.
    pub utilization: f64,
    pub ready_mean: f64,
    pub provisioning_mean: f64,
    pub queued_mean: f64,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Gpu {
    pub busy_seconds: f64,
    pub wasted_seconds: f64,
    pub instance_seconds: f64,
    pub pools: BTreeMap<String, PoolSummary>,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct ProxyStats {
    /// Backend fetches, VCL retries included.
    pub fetches: u64,
    pub retries: u64,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct SwarmSummary {
    pub strategy: String,
    pub attempts_per_request: BTreeMap<String, u64>,
    pub requests: Requests,
    pub attempts: u64,
    pub rate_503: f64,
    pub success_rate: f64,
    pub amplification: f64,
    pub completion_ms: Percentiles,
    pub bulk_jobs: Option<BulkJobs>,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct SloResult {
    pub metric: String,
    pub threshold: String,
    pub value: f64,
    pub passed: bool,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct EngineStats {
    pub events: u64,
    pub wall_seconds: f64,
    pub events_per_second: f64,
}

/// Everything `summary.json` holds.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Summary {
    pub scenario: String,
    pub seed: u64,
    /// The strategy every swarm used, or "per-swarm" when they differ.
    pub strategy: String,
    pub duration_s: f64,
    pub warmup_s: f64,
    pub requests: Requests,
    pub attempts: Attempts,
    pub rate_503: f64,
    pub success_rate: f64,
    pub amplification: f64,
    pub latency_ms: Percentiles,
    pub latency_ok_ms: Percentiles,
    pub completion_ms: Percentiles,
    pub queue_wait_ms: Percentiles,
    /// Backend time to first byte: request sent to the backend until its first response byte.
    pub first_byte_ms: Percentiles,
    /// Gaps between chunks of streamed responses.
    pub chunk_gap_ms: Percentiles,
    /// How many ended requests took 1, 2, … attempts (the last bucket is "16 or more").
    pub attempts_per_request: BTreeMap<String, u64>,
    pub bulk_jobs: BulkJobs,
    pub gpu: Gpu,
    pub proxy: ProxyStats,
    pub swarms: BTreeMap<String, SwarmSummary>,
    pub slo: Vec<SloResult>,
    pub engine: EngineStats,
}

fn ratio(a: u64, b: u64) -> f64 {
    if b == 0 { 0.0 } else { a as f64 / b as f64 }
}

/// Rounds ratios to 9 decimals: enough for any rate, and stable text.
fn r9(x: f64) -> f64 {
    (x * 1e9).round() / 1e9
}

fn requests(c: &Counts, unfinished: u64) -> Requests {
    Requests { offered: c.offered, succeeded: c.succeeded, failed: c.failed, unfinished }
}

fn bulk(c: &Counts, unfinished: u64, completion: Percentiles) -> BulkJobs {
    BulkJobs {
        submitted: c.bulk_submitted,
        completed: c.bulk_completed,
        failed: c.bulk_failed,
        unfinished,
        success_rate: r9(ratio(c.bulk_completed, c.bulk_submitted)),
        completion_ms: completion,
    }
}

/// Attempts-per-request counts keyed "01".."15" and "16+".
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

impl Summary {
    pub fn build(sc: &Scenario, seed: u64, rec: &Recorder, end: &EndState) -> Summary {
        let t = &rec.totals;
        let total = t.attempts_total();
        let causes = Cause::ALL.iter().map(|c| (c.name().to_string(), t.count(Outcome::Status503(*c)))).collect();
        let mut pools = BTreeMap::new();
        let (mut busy, mut billed) = (0.0, 0.0);
        let span = end.measured_seconds.max(f64::MIN_POSITIVE);
        for (cfg, a) in sc.pools.iter().zip(&end.pool_areas) {
            busy += a[0];
            billed += a[1];
            pools.insert(
                cfg.name.clone(),
                PoolSummary {
                    busy_seconds: round3(a[0]),
                    instance_seconds: round3(a[1]),
                    utilization: r9(if a[2] > 0.0 { a[0] / a[2] } else { 0.0 }),
                    ready_mean: round3(a[3] / span),
                    provisioning_mean: round3(a[4] / span),
                    queued_mean: round3(a[5] / span),
                },
            );
        }
        let swarms = sc
            .swarms
            .iter()
            .enumerate()
            .map(|(i, s)| {
                let m = &rec.swarms[i];
                let c = &m.counts;
                let attempts = c.attempts_total();
                let summary = SwarmSummary {
                    strategy: sc.strategies[s.strategy].name.clone(),
                    attempts_per_request: buckets(&m.attempts_per_request),
                    requests: requests(c, end.unfinished[i]),
                    attempts,
                    rate_503: r9(ratio(c.status_503(), attempts)),
                    success_rate: r9(ratio(c.succeeded, c.offered)),
                    amplification: r9(ratio(attempts, c.offered)),
                    completion_ms: m.completion.percentiles(),
                    bulk_jobs: s.bulk.map(|_| bulk(c, end.bulk_unfinished[i], m.bulk_completion.percentiles())),
                };
                (s.name.clone(), summary)
            })
            .collect();
        let mut all = [0u64; 16];
        for m in &rec.swarms {
            for (a, b) in all.iter_mut().zip(&m.attempts_per_request) {
                *a += b;
            }
        }
        let attempts_per_request = buckets(&all);
        let mut s = Summary {
            scenario: sc.name.clone(),
            seed,
            strategy: sc.common_strategy().unwrap_or("per-swarm").to_string(),
            duration_s: sc.duration.as_secs_f64(),
            warmup_s: sc.warmup.as_secs_f64(),
            requests: requests(t, end.unfinished.iter().sum()),
            attempts: Attempts {
                total,
                ok: t.count(Outcome::Ok),
                status_503: t.status_503(),
                status_429: t.count(Outcome::Status429),
                client_timeout: t.count(Outcome::ClientTimeout),
                connect_error: t.count(Outcome::ConnectError),
                causes,
            },
            rate_503: r9(ratio(t.status_503(), total)),
            success_rate: r9(ratio(t.succeeded, t.offered)),
            amplification: r9(ratio(total, t.offered)),
            latency_ms: rec.latency().percentiles(),
            latency_ok_ms: rec.latency_ok.percentiles(),
            completion_ms: rec.completion().percentiles(),
            queue_wait_ms: rec.queue_wait.percentiles(),
            first_byte_ms: rec.first_byte.percentiles(),
            chunk_gap_ms: rec.chunk_gap.percentiles(),
            attempts_per_request,
            bulk_jobs: bulk(t, end.bulk_unfinished.iter().sum(), rec.bulk_completion().percentiles()),
            gpu: Gpu {
                busy_seconds: round3(busy),
                wasted_seconds: round3(rec.wasted_ns as f64 / 1e9),
                instance_seconds: round3(billed),
                pools,
            },
            proxy: ProxyStats { fetches: rec.proxy_fetches, retries: rec.proxy_retries },
            swarms,
            slo: Vec::new(),
            engine: end.engine.clone(),
        };
        s.slo = s.check(&sc.slo);
        s
    }

    /// The value of a named metric (durations in seconds, ratios as
    /// fractions), or None when it is undefined in this run: a percentile with
    /// no sample, a rate with no denominator.
    pub fn metric(&self, name: &str) -> Option<f64> {
        let pct = |p: &Percentiles, v: f64| (p.count > 0).then_some(v / 1e3);
        // Stored (rounded) fields, so a value can be recomputed from summary.json alone.
        let offered = self.requests.offered > 0;
        let (l, c, b) = (&self.latency_ms, &self.completion_ms, &self.bulk_jobs.completion_ms);
        let (q, f) = (&self.queue_wait_ms, &self.first_byte_ms);
        match name {
            "rate_503" => (self.attempts.total > 0).then_some(self.rate_503),
            "success_rate" => offered.then_some(self.success_rate),
            "failure_rate" => offered.then(|| r9(ratio(self.requests.failed, self.requests.offered))),
            "amplification" => offered.then_some(self.amplification),
            "latency_p50" => pct(l, l.p50),
            "latency_p90" => pct(l, l.p90),
            "latency_p99" => pct(l, l.p99),
            "latency_p999" => pct(l, l.p999),
            "latency_max" => pct(l, l.max),
            "completion_p50" => pct(c, c.p50),
            "completion_p90" => pct(c, c.p90),
            "completion_p99" => pct(c, c.p99),
            "completion_p999" => pct(c, c.p999),
            "completion_max" => pct(c, c.max),
            "bulk_success_rate" => (self.bulk_jobs.submitted > 0).then_some(self.bulk_jobs.success_rate),
            "bulk_completion_p50" => pct(b, b.p50),
            "bulk_completion_p99" => pct(b, b.p99),
            "bulk_completion_max" => pct(b, b.max),
            "queue_wait_mean" => pct(q, q.mean),
            "queue_wait_p99" => pct(q, q.p99),
            "first_byte_p99" => pct(f, f.p99),
            "first_byte_p999" => pct(f, f.p999),
            "wasted_gpu_seconds" => Some(self.gpu.wasted_seconds),
            "gpu_busy_seconds" => Some(self.gpu.busy_seconds),
            "instance_seconds" => Some(self.gpu.instance_seconds),
            _ => None,
        }
    }

    /// Evaluates thresholds against this summary.
    pub fn check(&self, thresholds: &[Threshold]) -> Vec<SloResult> {
        thresholds
            .iter()
            .map(|t| {
                // An undefined metric (no sample) cannot meet a threshold.
                let value = self.metric(t.metric).unwrap_or(f64::NAN);
                SloResult {
                    metric: t.metric.to_string(),
                    threshold: t.to_string(),
                    value,
                    passed: t.op.holds(value, t.limit),
                }
            })
            .collect()
    }

    /// True when every threshold passed.
    pub fn slo_passed(&self) -> bool {
        self.slo.iter().all(|r| r.passed)
    }
}
