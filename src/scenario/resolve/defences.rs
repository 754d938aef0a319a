//! A strategy's client-side defences: `deadline`, `hedge_after` and the
//! `budget`, `throttle`, `adaptive` and `breaker` tables. A table's presence turns its
//! defence on; every key in it has a published default (docs/scenario-format.md).

use super::ctx::Ctx;
use crate::model::client::{AdaptiveConfig, BreakerConfig, BudgetConfig, Defences, ThrottleConfig};
use crate::model::proxy::RateLimit;
use crate::scenario::limits;
use crate::scenario::raw::{RawStrategy, RawSwarm, V};
use crate::time::SimDuration;

pub fn resolve_defences(cx: &mut Ctx<'_>, base: &str, s: &RawStrategy) -> Defences {
    let deadline =
        cx.get(&format!("{base}.deadline"), &s.deadline).map(|d| cx.positive(&format!("{base}.deadline"), d.0));
    let hedge_path = format!("{base}.hedge_after");
    let hedge_after = cx.get(&hedge_path, &s.hedge_after).map(|d| d.0);
    if let Some(d) = hedge_after {
        limits::min_interval(cx, &hedge_path, d, limits::MIN_HEDGE_AFTER);
    }
    let budget = s.budget.as_ref().map(|b| {
        let p = |k: &str| format!("{base}.budget.{k}");
        let d = BudgetConfig::default();
        let ttl = duration_at_least(cx, &p("ttl"), &b.ttl, d.ttl, SimDuration::from_secs(1));
        if !ttl.as_nanos().is_multiple_of(1_000_000_000) {
            cx.error(&p("ttl"), format!("must be a whole number of seconds, got {ttl}"));
        }
        BudgetConfig {
            ttl,
            min_per_sec: cx.int(&p("min_per_sec"), &b.min_per_sec, d.min_per_sec, 0),
            percent: fraction(cx, &p("percent"), &b.percent, d.percent, 1000.0),
        }
    });
    let throttle = s.throttle.as_ref().map(|t| {
        let p = |k: &str| format!("{base}.throttle.{k}");
        let d = ThrottleConfig::default();
        ThrottleConfig {
            max_tokens: cx.int_in(
                &p("max_tokens"),
                &t.max_tokens,
                d.max_tokens,
                1,
                1000,
                "gRPC caps max_tokens at 1000",
            ),
            token_ratio: fraction(cx, &p("token_ratio"), &t.token_ratio, d.token_ratio, 1.0),
        }
    });
    let adaptive = s.adaptive.as_ref().map(|a| {
        let p = |k: &str| format!("{base}.adaptive.{k}");
        let d = AdaptiveConfig::default();
        let k = cx.get(&p("k"), &a.k).unwrap_or(d.k);
        if !(k.is_finite() && k >= 1.0) {
            cx.error(&p("k"), format!("must be a number of at least 1, got {k}"));
        }
        AdaptiveConfig {
            k,
            window: duration_at_least(cx, &p("window"), &a.window, d.window, SimDuration::from_secs(1)),
        }
    });
    let breaker = s.breaker.as_ref().map(|b| {
        let p = |k: &str| format!("{base}.breaker.{k}");
        let d = BreakerConfig::default();
        let failure_ratio = cx.get(&p("failure_ratio"), &b.failure_ratio).unwrap_or(d.failure_ratio);
        if !(failure_ratio > 0.0 && failure_ratio <= 1.0) {
            cx.error(&p("failure_ratio"), format!("must be in (0, 1], got {failure_ratio}"));
        }
        BreakerConfig {
            failure_ratio,
            min_throughput: cx.int(&p("min_throughput"), &b.min_throughput, d.min_throughput, 1),
            sampling: duration_at_least(cx, &p("sampling"), &b.sampling, d.sampling, SimDuration::from_millis(10)),
            break_duration: duration_at_least(
                cx,
                &p("break_duration"),
                &b.break_duration,
                d.break_duration,
                SimDuration::from_millis(1),
            ),
            half_open_calls: cx.int(&p("half_open_calls"), &b.half_open_calls, d.half_open_calls, 1),
        }
    });
    Defences { budget, throttle, adaptive, breaker, deadline, hedge_after }
}

/// `swarm.<name>.rate_limit` and `rate_limit_burst`: the proxy's limit for
/// this client, answered with 429 and a Retry-After.
pub fn resolve_rate_limit(cx: &mut Ctx<'_>, name: &str, s: &RawSwarm) -> Option<RateLimit> {
    let path = format!("swarm.{name}.rate_limit");
    let burst_path = format!("swarm.{name}.rate_limit_burst");
    let Some(rate) = cx.get(&path, &s.rate_limit) else {
        if s.rate_limit_burst.is_some() {
            cx.error_help(&burst_path, "needs rate_limit", "set rate_limit, e.g. \"50/s\"");
        }
        return None;
    };
    if !(rate.0.is_finite() && rate.0 > 0.0) {
        cx.error(&path, format!("must be a rate above 0, got {}", rate.0));
        return None;
    }
    let burst = cx.int_in(&burst_path, &s.rate_limit_burst, 1, 1, 1_000_000, "a burst is at most 1,000,000 requests");
    Some(RateLimit { rate: rate.0, burst })
}

fn duration_at_least(
    cx: &mut Ctx<'_>,
    path: &str,
    v: &V<crate::scenario::units::Dur>,
    default: SimDuration,
    min: SimDuration,
) -> SimDuration {
    let d = cx.get(path, v).map_or(default, |d| d.0);
    if d < min {
        cx.error(path, format!("must be at least {min}, got {d}"));
        return default;
    }
    d
}

/// A share in [0, 1], kept to the resolution its arithmetic uses.
fn fraction(cx: &mut Ctx<'_>, path: &str, v: &V<f64>, default: f64, max: f64) -> f64 {
    let x = cx.get(path, v).unwrap_or(default);
    if !(x.is_finite() && (0.0..=max).contains(&x)) {
        cx.error(path, format!("must be a number in [0, {max}], got {x}"));
        return default;
    }
    x
}
