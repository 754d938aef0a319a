//! The steady-state answer from queueing theory, for comparison with the
//! simulation's.
//!
//! At the peak offered load a (in Erlangs) of a pool, M/M/c theory gives the
//! smallest number of servers c that meets each SLO it can express: Erlang B
//! for a pool without a backend queue, Erlang C with the proxy's
//! first-byte timeout otherwise, Erlang C waiting times for queue-wait SLOs.
//! The simulation usually disagrees, and the difference is the point: theory
//! assumes a steady peak, exponential service, one shared queue, no retries,
//! no abandoned work and no autoscaling lag.

use serde::{Deserialize, Serialize};

use crate::criteria::Metric;
use crate::criteria::slo::{Op, Threshold};
use crate::model::chaos;
use crate::scenario::{ArrivalSpec, Scenario};

/// Erlang B: blocking probability with c servers and load a.
pub fn erlang_b(c: u32, a: f64) -> f64 {
    (1..=c).fold(1.0, |b, n| a * b / (f64::from(n) + a * b))
}

/// Erlang C: probability of waiting (1 when the system is unstable).
pub fn erlang_c(c: u32, a: f64) -> f64 {
    if f64::from(c) <= a {
        return 1.0;
    }
    let b = erlang_b(c, a);
    f64::from(c) * b / (f64::from(c) - a * (1.0 - b))
}

/// The queueing-theory estimate for one plan.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Estimate {
    pub pool: String,
    /// Peak offered load in Erlangs (busy servers needed on average).
    pub peak_load: f64,
    pub mean_service_s: f64,
    /// Servers one unit of the tuned key adds: slots per instance when sizing
    /// instances; instances (an autoscaled pool's maximum) when sizing slots.
    pub servers_per_unit: u32,
    /// The smallest value of the tuned key that theory says meets the mapped SLOs.
    pub value: u32,
    /// How each SLO was expressed in theory.
    pub mapped: Vec<String>,
    /// SLOs theory cannot express here.
    pub unmapped: Vec<String>,
}

/// Which pool a key sizes, and how many servers one unit of it adds.
fn sized_pool(sc: &Scenario, key: &str) -> Option<(usize, u32)> {
    let mut parts = key.split('.');
    if parts.next()? != "pool" {
        return None;
    }
    let name = parts.next()?;
    let field = parts.next()?;
    if parts.next().is_some() {
        return None;
    }
    let p = sc.pools.iter().position(|p| p.name == name)?;
    let cfg = &sc.pools[p];
    match field {
        // A slot more on every instance: as many instances as serve at the
        // peak in steady state (an autoscaled pool's ceiling).
        "slots" => Some((p, if cfg.autoscaler.is_some() { cfg.max_instances } else { cfg.initial_instances })),
        "min_instances" | "initial_instances" | "max_instances" => Some((p, cfg.slots)),
        _ => None,
    }
}

/// Peak offered load (Erlangs) and mean service time of a pool.
fn peak_load(sc: &Scenario, pool: usize) -> (f64, f64) {
    let horizon = sc.duration.as_secs_f64();
    let (mut load, mut rate) = (0.0, 0.0);
    for (i, s) in sc.swarms.iter().enumerate() {
        let mut prev = 0.0;
        let share_and_work: (f64, f64) = s.mix.iter().fold((0.0, 0.0), |acc, &(c, cum)| {
            let p = cum - prev;
            prev = cum;
            let class = &sc.classes[c];
            if class.pool == pool { (acc.0 + p, acc.1 + p * class.service.mean_secs()) } else { acc }
        });
        let images = s.bulk.map_or(1.0, |b| f64::from(b.images));
        let arrivals = match &s.arrivals {
            ArrivalSpec::Open { profile, .. } => chaos::traffic_profile(profile, &sc.chaos, i).peak_until(horizon),
            ArrivalSpec::Closed(c) => {
                // Each user cycles through thinking and one request (or job) at a time.
                let busy = share_and_work.1 * images;
                f64::from(c.users) * chaos::peak_traffic_factor(&sc.chaos, i) / (c.think.mean_secs() + busy.max(1e-9))
            }
        };
        rate += arrivals * images * share_and_work.0;
        load += arrivals * images * share_and_work.1;
    }
    (load, if rate > 0.0 { load / rate } else { 0.0 })
}

/// The smallest server count from `start` meeting `ok`, searched up to
/// 100 × start or start + 100, whichever is larger.
fn smallest(start: u32, ok: impl Fn(u32) -> bool) -> Option<u32> {
    (start..=start.saturating_mul(100).max(start + 100)).find(|&c| ok(c))
}

/// Theory's answer for sizing `key`, or why there is none.
pub fn estimate(sc: &Scenario, key: &str, slos: &[Threshold]) -> Result<Estimate, String> {
    let (pool, per_unit) = sized_pool(sc, key).ok_or_else(|| format!("{key} does not size a pool's servers"))?;
    let cfg = &sc.pools[pool];
    let (a, mean_s) = peak_load(sc, pool);
    if a <= 0.0 || mean_s <= 0.0 {
        return Err(format!("pool {} has no offered load", cfg.name));
    }
    let mu = 1.0 / mean_s;
    let loss = cfg.queue_limit == Some(0);
    let fbt = sc.proxy.first_byte_timeout.map(|d| d.as_secs_f64());
    // P(wait > t) in M/M/c.
    let wait_beyond = |c: u32, t: f64| erlang_c(c, a) * (-(f64::from(c) * mu - a * mu) * t.max(0.0)).exp();
    // The 503 probability theory can see: blocking, or waiting past first_byte_timeout.
    let p503 =
        |c: u32| -> Option<f64> { if loss { Some(erlang_b(c, a)) } else { fbt.map(|t| wait_beyond(c, t - mean_s)) } };
    let mut mapped = Vec::new();
    let mut unmapped = Vec::new();
    let mut tests: Vec<Box<dyn Fn(u32) -> bool>> = Vec::new();
    for t in slos {
        let limit = t.limit;
        let below = matches!(t.op, Op::Lt | Op::Le);
        match (t.metric, below) {
            (Metric::Rate503 | Metric::FailureRate, true) if p503(1).is_some() => {
                let finite = if cfg.queue_limit.is_some() && !loss { " (the queue limit is ignored)" } else { "" };
                mapped.push(format!(
                    "{t}: {}{finite}",
                    if loss { "Erlang B blocking" } else { "Erlang C P(wait > first_byte_timeout − mean service)" }
                ));
                tests.push(Box::new(move |c| p503(c).is_some_and(|p| p < limit)));
            }
            (Metric::SuccessRate, false) if p503(1).is_some() => {
                mapped.push(format!("{t}: 1 − the 503 probability above"));
                tests.push(Box::new(move |c| p503(c).is_some_and(|p| 1.0 - p > limit)));
            }
            (Metric::QueueWaitMean, true) if !loss => {
                mapped.push(format!("{t}: Erlang C mean wait C/(cμ − λ)"));
                tests.push(Box::new(move |c| erlang_c(c, a) / (f64::from(c) * mu - a * mu) < limit));
            }
            (Metric::QueueWaitP99, true) if !loss => {
                mapped.push(format!("{t}: Erlang C P(wait > {}) ≤ 1%", crate::time::format_secs(limit)));
                tests.push(Box::new(move |c| wait_beyond(c, limit) <= 0.01));
            }
            _ => unmapped.push(t.to_string()),
        }
    }
    if tests.is_empty() {
        return Err(format!(
            "none of {} maps to M/M/c (it can express rate_503, failure_rate and success_rate \
             with a first-byte timeout or no backend queue, queue_wait_mean and queue_wait_p99)",
            unmapped.join(", ")
        ));
    }
    // A loss system may meet a loose limit below the load; a queue needs c > a to be stable.
    let start = if loss { 1 } else { a.floor() as u32 + 1 };
    let c = smallest(start, |c| tests.iter().all(|ok| ok(c)))
        .ok_or_else(|| format!("no server count up to 100× the peak load meets {}", mapped.join("; ")))?;
    Ok(Estimate {
        pool: cfg.name.clone(),
        peak_load: a,
        mean_service_s: mean_s,
        servers_per_unit: per_unit,
        value: c.div_ceil(per_unit),
        mapped,
        unmapped,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reference_values() {
        assert!((erlang_b(10, 9.0) - 0.167963).abs() < 5e-7);
        assert!((erlang_c(10, 9.0) - 0.668732).abs() < 5e-7);
        assert_eq!(erlang_c(9, 9.0), 1.0);
    }

    #[test]
    fn a_loss_pool_is_sized_by_erlang_b() {
        let toml = r#"
[scenario]
name = "b"
duration = "1h"
[pool.gpu]
slots = 1
queue_limit = 0
[class.c]
pool = "gpu"
service = { dist = "exponential", mean = "2s" }
[swarm.s]
class = "c"
arrivals = { process = "spike", base = "2/s", peak = "9/s", start = "10m", length = "10m" }
"#;
        let sc = Scenario::parse(toml, "b.toml").expect("valid");
        let slo = [crate::criteria::slo::parse("rate_503", "< 1%").expect("slo")];
        let e = estimate(&sc, "pool.gpu.initial_instances", &slo).expect("sizable");
        // Peak load 9/s × 2 s = 18 Erlangs; the smallest c with B(c, 18) < 1% is 28.
        assert!((e.peak_load - 18.0).abs() < 1e-9);
        assert_eq!(e.value, 28);
        assert!(erlang_b(28, 18.0) < 0.01 && erlang_b(27, 18.0) >= 0.01);
        assert!(estimate(&sc, "proxy.first_byte_timeout", &slo).is_err());
        // Only SLOs theory cannot express: no answer rather than a made-up one.
        let p99 = [crate::criteria::slo::parse("completion_p99", "< 5s").expect("slo")];
        assert!(estimate(&sc, "pool.gpu.initial_instances", &p99).expect_err("unmapped").contains("completion_p99"));
        // A loose limit is met below the load itself: B(c, 18) < 50% from c = 10.
        let loose = [crate::criteria::slo::parse("rate_503", "< 50%").expect("slo")];
        let e = estimate(&sc, "pool.gpu.initial_instances", &loose).expect("sizable");
        assert_eq!(e.value, (1..).find(|&c| erlang_b(c, 18.0) < 0.5).expect("exists"));
        assert!(e.value < 18);
    }

    #[test]
    fn a_slot_more_per_instance_adds_a_server_on_every_instance() {
        let toml = r#"
[scenario]
name = "s"
duration = "1h"
[pool.gpu]
slots = 1
queue_limit = 0
min_instances = 2
initial_instances = 2
max_instances = 2
[class.c]
pool = "gpu"
service = { dist = "exponential", mean = "1s" }
[swarm.s]
class = "c"
arrivals = { process = "poisson", rate = "9/s" }
"#;
        let sc = Scenario::parse(toml, "s.toml").expect("valid");
        let slo = [crate::criteria::slo::parse("rate_503", "< 5%").expect("slo")];
        let e = estimate(&sc, "pool.gpu.slots", &slo).expect("sizable");
        // 14 servers (B(14, 9) < 5%) on 2 instances: 7 slots each.
        assert_eq!(e.servers_per_unit, 2);
        assert_eq!(e.value, 7);
    }
}
