//! The backend side of a scenario: the proxy, the GPU pools, the job classes
//! and their service-time distributions.

use std::collections::BTreeMap;

use super::ctx::Ctx;
use crate::model::autoscaler::{AutoscalerConfig, ScaleMetric};
use crate::model::dist::DurationDist;
use crate::model::gpu::{PoolConfig, QueueDiscipline, QueueFullStatus};
use crate::model::load::{LoadCurve, LoadModel};
use crate::model::outcome::{Cause, Outcome, OutcomeSet};
use crate::model::proxy::{ClassRules, DirectorKind, ProbeConfig, ProxyConfig, WaitQueue};
use crate::scenario::ClassSpec;
use crate::scenario::error::did_you_mean;
use crate::scenario::limits;
use crate::scenario::raw::{RawClass, RawDist, RawLoad, RawPool, RawProxy, V};

use crate::scenario::units::Timeout;
use crate::suggest::names;
use crate::time::SimDuration;

pub const DIRECTORS: [(&str, DirectorKind); 3] = [
    ("round_robin", DirectorKind::RoundRobin),
    ("random", DirectorKind::Random),
    ("least_connections", DirectorKind::LeastConnections),
];
pub const SCALE_METRICS: [(&str, ScaleMetric); 2] =
    [("utilization", ScaleMetric::Utilization), ("queue_depth", ScaleMetric::QueueDepth)];

pub fn resolve_proxy(cx: &mut Ctx<'_>, p: &RawProxy) -> ProxyConfig {
    let d = ProxyConfig::default();
    let max_connections = p.max_connections.as_ref().map(|_| cx.int("proxy.max_connections", &p.max_connections, 1, 1));
    let wait_limit = cx.int("proxy.wait_limit", &p.wait_limit, 0, 0);
    let wait_timeout = cx.get("proxy.wait_timeout", &p.wait_timeout).map_or(SimDuration::ZERO, |w| w.0);
    let wait = match (wait_limit > 0, !wait_timeout.is_zero()) {
        (true, true) => Some(WaitQueue { limit: wait_limit, timeout: wait_timeout }),
        (false, false) => None,
        (true, false) => {
            cx.error_help(
                "proxy.wait_limit",
                "is set but wait_timeout is not",
                "Varnish queues fetches only when wait_limit and wait_timeout are both > 0",
            );
            None
        }
        (false, true) => {
            cx.error_help(
                "proxy.wait_timeout",
                "is set but wait_limit is not",
                "Varnish queues fetches only when wait_limit and wait_timeout are both > 0",
            );
            None
        }
    };
    if wait.is_some() && max_connections.is_none() {
        cx.error_help(
            "proxy.wait_limit",
            "has no effect without max_connections",
            "the wait queue holds fetches only when an instance is at max_connections",
        );
    }
    let director = cx.choose("proxy.director", &p.director, &DIRECTORS).unwrap_or(DirectorKind::RoundRobin);
    let mut retry_on = OutcomeSet::EMPTY;
    for (i, name) in cx.get("proxy.retry_on", &p.retry_on).map(|n| n.0).unwrap_or_default().iter().enumerate() {
        let path = if matches!(&p.retry_on, Some(v) if matches!(&v.0, Ok(n) if n.0.len() == 1)) {
            "proxy.retry_on".to_string()
        } else {
            format!("proxy.retry_on[{i}]")
        };
        match OutcomeSet::parse_entry(name) {
            Some(set)
                if !set.contains(Outcome::Status429)
                    && !set.contains(Outcome::Status500)
                    && !set.contains(Outcome::Status502)
                    && !set.contains(Outcome::ClientTimeout)
                    && !set.contains(Outcome::ConnectError) =>
            {
                retry_on = retry_on.union(set);
            }
            Some(_) => cx.error_help(
                &path,
                format!("the proxy cannot retry `{name}`"),
                "VCL retries backend fetches: list 503 causes (or \"503\" for all)",
            ),
            None => {
                let names: Vec<&str> = Cause::ALL.iter().map(|c| c.name()).chain(["503"]).collect();
                let mut help = format!("expected one of: {}", names.join(", "));
                if let Some(s) = did_you_mean(name, names.iter().copied()) {
                    help = format!("did you mean `{s}`? ({help})");
                }
                cx.error_help(&path, format!("unknown cause `{name}`"), help);
            }
        }
    }
    let probe = p.probe.as_ref().map(|pr| {
        let dflt = ProbeConfig::default();
        let window = cx.int_in("proxy.probe.window", &pr.window, dflt.window, 1, 64, "Varnish keeps at most 64 probes");
        let threshold = cx.int("proxy.probe.threshold", &pr.threshold, dflt.threshold, 1);
        if threshold > window {
            cx.error("proxy.probe.threshold", format!("({threshold}) cannot exceed the window ({window})"));
        }
        let initial = cx.int("proxy.probe.initial", &pr.initial, threshold.saturating_sub(1), 0);
        if initial > window {
            cx.error("proxy.probe.initial", format!("({initial}) cannot exceed the window ({window})"));
        }
        let interval = cx.get("proxy.probe.interval", &pr.interval).map_or(dflt.interval, |d| d.0);
        limits::min_interval(cx, "proxy.probe.interval", interval, limits::MIN_PROBE_INTERVAL);
        let timeout = cx_dur(cx, "proxy.probe.timeout", &pr.timeout, dflt.timeout);
        ProbeConfig { interval, timeout: cx.positive("proxy.probe.timeout", timeout), window, threshold, initial }
    });
    let timeout =
        |cx: &mut Ctx<'_>, key: &str, t: &Option<crate::scenario::value::Val<Timeout>>, dflt: Option<SimDuration>| {
            let t = cx.get(&format!("proxy.{key}"), t).map_or(dflt, |t| t.0);
            if t.is_some_and(SimDuration::is_zero) {
                cx.warn(
                    &format!("proxy.{key}"),
                    "is 0s: every fetch fails at once with this timeout",
                    Some("write \"off\" for no timeout, or a duration such as \"60s\"".into()),
                );
            }
            t
        };
    ProxyConfig {
        rate_limits: Vec::new(), // per swarm: filled in once the swarms are read
        connect_timeout: timeout(cx, "connect_timeout", &p.connect_timeout, d.connect_timeout),
        first_byte_timeout: timeout(cx, "first_byte_timeout", &p.first_byte_timeout, d.first_byte_timeout),
        between_bytes_timeout: timeout(cx, "between_bytes_timeout", &p.between_bytes_timeout, d.between_bytes_timeout),
        max_connections,
        wait,
        director,
        probe,
        retry_on,
        max_retries: cx.int_in(
            "proxy.max_retries",
            &p.max_retries,
            d.max_retries,
            0,
            limits::MAX_ATTEMPTS,
            limits::WHY_MAX_ATTEMPTS,
        ),
        max_sessions: p.max_sessions.as_ref().map(|_| cx.int("proxy.max_sessions", &p.max_sessions, 1, 1)),
        // Cache and workspace: filled in by `cache.rs`, classes once they are read.
        ..ProxyConfig::default()
    }
}

/// A duration leaf with a default.
fn cx_dur(cx: &mut Ctx<'_>, path: &str, v: &V<crate::scenario::units::Dur>, dflt: SimDuration) -> SimDuration {
    cx.get(path, v).map_or(dflt, |d| d.0)
}

/// `pool.<name>.price_per_hour`: for reports only (cost in money), never the simulation.
pub fn resolve_price(cx: &mut Ctx<'_>, name: &str, price: &V<f64>) -> Option<f64> {
    let path = format!("pool.{name}.price_per_hour");
    let p = cx.get(&path, price)?;
    if p.is_finite() && p >= 0.0 {
        Some(p)
    } else {
        cx.error(&path, format!("must be a number of at least 0, got {p}"));
        None
    }
}

pub fn resolve_pool(cx: &mut Ctx<'_>, name: &str, p: &RawPool) -> PoolConfig {
    let base = format!("pool.{name}");
    let path = |k: &str| format!("{base}.{k}");
    let slots = cx.int_in(&path("slots"), &p.slots, 1, 1, limits::MAX_SLOTS, limits::WHY_MAX_SLOTS);
    let queue_limit = p.queue_limit.as_ref().map(|_| cx.int(&path("queue_limit"), &p.queue_limit, 0, 0));
    let queue_full_status = match cx.get(&path("queue_full_status"), &p.queue_full_status) {
        None | Some(503) => QueueFullStatus::S503,
        Some(429) => QueueFullStatus::S429,
        Some(x) => {
            cx.error(&path("queue_full_status"), format!("must be 503 or 429, got {x}"));
            QueueFullStatus::S503
        }
    };
    let (maxi, why) = (limits::MAX_INSTANCES, limits::WHY_MAX_INSTANCES);
    let min = cx.int_in(&path("min_instances"), &p.min_instances, 1, 0, maxi, why);
    let initial = cx.int_in(&path("initial_instances"), &p.initial_instances, min, 0, maxi, why);
    let max = cx.int_in(&path("max_instances"), &p.max_instances, min.max(initial).max(1), 1, maxi, why);
    if min > max {
        cx.error(&path("min_instances"), format!("({min}) is greater than max_instances ({max})"));
    } else if initial < min || initial > max {
        cx.error(
            &path("initial_instances"),
            format!("({initial}) must lie between min_instances ({min}) and max_instances ({max})"),
        );
    }
    let autoscaler = p.autoscaler.as_ref().map(|a| {
        let ap = |k: &str| format!("{base}.autoscaler.{k}");
        let metric = cx.choose(&ap("metric"), &a.metric, &SCALE_METRICS).unwrap_or(ScaleMetric::Utilization);
        let target = cx
            .required(&ap("target"), &a.target, "(the metric value the autoscaler steers to, e.g. 0.7)")
            .unwrap_or(1.0);
        if !(target > 0.0 && target.is_finite()) {
            cx.error(&ap("target"), format!("must be greater than zero, got {target}"));
        } else if metric == ScaleMetric::Utilization && target > 1.0 {
            cx.error(&ap("target"), format!("utilization is a fraction of slots; {target} is above 1"));
        }
        let tolerance = cx.get(&ap("tolerance"), &a.tolerance).unwrap_or(0.1);
        if !(0.0..1.0).contains(&tolerance) {
            cx.error(&ap("tolerance"), format!("must be in [0, 1), got {tolerance}"));
        }
        if p.cold_start.is_none() {
            cx.error_help(
                &path("cold_start"),
                "is required when the pool has an autoscaler",
                "how long a new instance takes to serve, e.g. \"3m\"",
            );
        }
        let interval = cx_dur(cx, &ap("interval"), &a.interval, SimDuration::from_secs(30));
        limits::min_interval(cx, &ap("interval"), interval, limits::MIN_AUTOSCALER_INTERVAL);
        AutoscalerConfig {
            metric,
            target,
            interval,
            max_step_up: cx.int_in(&ap("max_step_up"), &a.max_step_up, 4, 1, maxi, why),
            max_step_down: cx.int_in(&ap("max_step_down"), &a.max_step_down, 1, 1, maxi, why),
            cooldown: cx_dur(cx, &ap("cooldown"), &a.cooldown, SimDuration::from_secs(300)),
            tolerance,
        }
    });
    PoolConfig {
        name: name.to_string(),
        slots,
        queue_limit,
        queue_full_status,
        retry_after: cx.get(&path("retry_after"), &p.retry_after).map(|d| d.0),
        min_instances: min,
        max_instances: max,
        initial_instances: initial,
        cold_start: cx_dur(cx, &path("cold_start"), &p.cold_start, SimDuration::ZERO),
        cancel_on_abandon: cx.get(&path("cancel_on_abandon"), &p.cancel_on_abandon).unwrap_or(false),
        deregister_delay: cx_dur(cx, &path("deregister_delay"), &p.deregister_delay, SimDuration::from_secs(30)),
        autoscaler,
        load: p.load.as_ref().and_then(|l| resolve_load(cx, &base, l)),
        discipline: resolve_discipline(cx, &base, p),
        max_queue_wait: cx
            .get(&path("max_queue_wait"), &p.max_queue_wait)
            .map(|d| cx.positive(&path("max_queue_wait"), d.0)),
        // Needs the scenario's tiers: set by `tiers::resolve_priority`.
        priority: None,
    }
}

/// Service-time distributions (`class.<name>.service.dist`).
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum DistKind {
    Constant,
    Exponential,
    Uniform,
    Lognormal,
    Gamma,
}

pub const DIST_CHOICES: [(&str, DistKind); 5] = [
    ("constant", DistKind::Constant),
    ("exponential", DistKind::Exponential),
    ("uniform", DistKind::Uniform),
    ("lognormal", DistKind::Lognormal),
    ("gamma", DistKind::Gamma),
];
pub const DISTS: [&str; 5] = names(&DIST_CHOICES);
/// `pool.<name>.queue_discipline` and its `lifo_after`.
fn resolve_discipline(cx: &mut Ctx<'_>, base: &str, p: &RawPool) -> QueueDiscipline {
    let path = format!("{base}.queue_discipline");
    let after_path = format!("{base}.lifo_after");
    let kind = cx.choose(&path, &p.queue_discipline, &DISCIPLINE_CHOICES);
    if kind != Some(DisciplineKind::AdaptiveLifo) && p.lifo_after.is_some() {
        cx.error(&after_path, "applies only to queue_discipline = \"adaptive_lifo\"");
    }
    match kind {
        Some(DisciplineKind::Lifo) => QueueDiscipline::Lifo,
        Some(DisciplineKind::AdaptiveLifo) => QueueDiscipline::AdaptiveLifo {
            after: cx_dur(cx, &after_path, &p.lifo_after, SimDuration::from_millis(100)),
        },
        Some(DisciplineKind::Fifo) | None => QueueDiscipline::Fifo,
    }
}

/// `pool.<name>.queue_discipline`.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
enum DisciplineKind {
    Fifo,
    Lifo,
    AdaptiveLifo,
}

const DISCIPLINE_CHOICES: [(&str, DisciplineKind); 3] =
    [("fifo", DisciplineKind::Fifo), ("lifo", DisciplineKind::Lifo), ("adaptive_lifo", DisciplineKind::AdaptiveLifo)];
/// The names of `pool.<name>.queue_discipline`.
pub const DISCIPLINES: [&str; 3] = names(&DISCIPLINE_CHOICES);

/// `pool.<name>.load.curve`.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
enum CurveKind {
    Knee,
    Linear,
    Table,
}

const CURVE_CHOICES: [(&str, CurveKind); 3] =
    [("knee", CurveKind::Knee), ("linear", CurveKind::Linear), ("table", CurveKind::Table)];
/// The curve names of `pool.<name>.load.curve`.
pub const CURVES: [&str; 3] = names(&CURVE_CHOICES);

/// `[pool.<name>.load]`: load-dependent service.
fn resolve_load(cx: &mut Ctx<'_>, base: &str, l: &RawLoad) -> Option<LoadModel> {
    let base = format!("{base}.load");
    let path = |k: &str| format!("{base}.{k}");
    let name = cx.required(&path("curve"), &l.curve, &format!("(one of {})", CURVES.join(", ")))?;
    let kind = cx.choice(&path("curve"), &name, &CURVE_CHOICES)?;
    let set = [
        ("knee", l.knee.is_some(), kind != CurveKind::Table),
        ("factor", l.factor.is_some(), kind == CurveKind::Knee),
        ("slope", l.slope.is_some(), kind == CurveKind::Linear),
        ("points", l.points.is_some(), kind == CurveKind::Table),
    ];
    let stray: Vec<(&str, bool)> = set.iter().map(|&(k, present, applies)| (k, present && !applies)).collect();
    cx.not_for(&base, "curve", &name, &stray);
    let knee = cx.int(&path("knee"), &l.knee, 0, 0);
    let at_least_one = |cx: &mut Ctx<'_>, key: &str, v: &V<f64>| {
        let why = format!("for curve = \"{name}\"");
        let x = cx.required(&path(key), v, &why)?;
        if x.is_finite() && x >= 1.0 {
            Some(x)
        } else {
            cx.error(&path(key), format!("must be a number of at least 1 (a slowdown), got {x}"));
            None
        }
    };
    let curve = match kind {
        CurveKind::Knee => LoadCurve::Knee { knee, factor: at_least_one(cx, "factor", &l.factor)? },
        CurveKind::Linear => {
            let slope = cx.required(&path("slope"), &l.slope, "for curve = \"linear\"")?;
            if !(slope.is_finite() && slope >= 0.0) {
                cx.error(&path("slope"), format!("must be a number of at least 0, got {slope}"));
                return None;
            }
            LoadCurve::Linear { knee, slope }
        }
        CurveKind::Table => LoadCurve::Table(resolve_points(cx, &path("points"), &l.points)?),
    };
    let count_queued = cx.get(&path("count_queued"), &l.count_queued).unwrap_or(false);
    Some(LoadModel { curve, count_queued })
}

fn resolve_points(cx: &mut Ctx<'_>, path: &str, v: &V<Vec<Vec<f64>>>) -> Option<Vec<(u32, f64)>> {
    let raw = cx.required(path, v, "for curve = \"table\"")?;
    if raw.is_empty() {
        cx.error(path, "needs at least one [load, factor] pair");
        return None;
    }
    let mut out: Vec<(u32, f64)> = Vec::with_capacity(raw.len());
    for (i, p) in raw.iter().enumerate() {
        let at = format!("{path}[{i}]");
        let &[load, factor] = p.as_slice() else {
            cx.error(&at, format!("must be a [load, factor] pair, got {} numbers", p.len()));
            return None;
        };
        if !(load >= 0.0 && load <= f64::from(u32::MAX) && load.fract() == 0.0) {
            cx.error(&at, format!("load must be a whole number of jobs, got {load}"));
            return None;
        }
        if !(factor.is_finite() && factor > 0.0) {
            cx.error(&at, format!("factor must be a number greater than 0, got {factor}"));
            return None;
        }
        let load = load as u32;
        if out.last().is_some_and(|&(prev, _)| load <= prev) {
            cx.error(&at, format!("loads must increase; {load} follows {}", out[out.len() - 1].0));
            return None;
        }
        out.push((load, factor));
    }
    Some(out)
}

pub fn resolve_dist(cx: &mut Ctx<'_>, base: &str, d: &RawDist) -> Option<DurationDist> {
    let path = |k: &str| format!("{base}.{k}");
    let name = cx.required(&path("dist"), &d.dist, &format!("(one of {})", DISTS.join(", ")))?;
    let kind = cx.choice(&path("dist"), &name, &DIST_CHOICES)?;
    let why = format!("for dist = \"{name}\"");
    let fields = [
        ("value", d.value.is_some(), kind == DistKind::Constant),
        ("mean", d.mean.is_some(), matches!(kind, DistKind::Exponential | DistKind::Gamma)),
        ("low", d.low.is_some(), kind == DistKind::Uniform),
        ("high", d.high.is_some(), kind == DistKind::Uniform),
        ("median", d.median.is_some(), kind == DistKind::Lognormal),
        ("p99", d.p99.is_some(), kind == DistKind::Lognormal),
        ("cv", d.cv.is_some(), kind == DistKind::Gamma),
    ];
    let stray: Vec<(&str, bool)> = fields.iter().filter(|f| !f.2).map(|f| (f.0, f.1)).collect();
    cx.not_for(base, "dist", &name, &stray);
    let made = match kind {
        DistKind::Constant => cx.required(&path("value"), &d.value, &why).map(|v| Ok(DurationDist::Constant(v.0))),
        DistKind::Exponential => cx.required(&path("mean"), &d.mean, &why).map(|m| DurationDist::exponential(m.0)),
        DistKind::Uniform => match (cx.required(&path("low"), &d.low, &why), cx.required(&path("high"), &d.high, &why))
        {
            (Some(l), Some(h)) => Some(DurationDist::uniform(l.0, h.0)),
            _ => None,
        },
        DistKind::Lognormal => {
            match (cx.required(&path("median"), &d.median, &why), cx.required(&path("p99"), &d.p99, &why)) {
                (Some(m), Some(p)) => Some(DurationDist::lognormal(m.0, p.0)),
                _ => None,
            }
        }
        DistKind::Gamma => match (cx.required(&path("mean"), &d.mean, &why), cx.required(&path("cv"), &d.cv, &why)) {
            (Some(_), Some(cv)) if cv > limits::MAX_GAMMA_CV => {
                cx.error_help(
                    &path("cv"),
                    format!("{} is above the limit of {}", limits::show_number(cv), limits::MAX_GAMMA_CV),
                    limits::WHY_MAX_GAMMA_CV,
                );
                None
            }
            (Some(m), Some(cv)) => Some(DurationDist::gamma(m.0, cv)),
            _ => None,
        },
    }?;
    made.map_err(|e| cx.error(base, e)).ok()
}

/// A class, and what the proxy knows of its responses.
pub fn resolve_class(
    cx: &mut Ctx<'_>,
    name: &str,
    c: &RawClass,
    pools: &BTreeMap<String, RawPool>,
) -> (ClassSpec, ClassRules) {
    let base = format!("class.{name}");
    let pool = cx
        .required(&format!("{base}.pool"), &c.pool, "(the pool that serves this class)")
        .and_then(|p| cx.reference(&format!("{base}.pool"), "pool", &p, pools))
        .unwrap_or(0);
    let service = cx
        .table(&format!("{base}.service"), &c.service, "(the GPU time of one job, a distribution)")
        .and_then(|s| resolve_dist(cx, &format!("{base}.service"), s))
        .unwrap_or(DurationDist::Constant(SimDuration::from_secs(1)));
    let chunks = cx.int_in(&format!("{base}.chunks"), &c.chunks, 1, 1, limits::MAX_CHUNKS, limits::WHY_MAX_CHUNKS);
    let (objects, rules) = super::cache::resolve_class_cache(cx, name, c);
    (ClassSpec { name: name.to_string(), pool, service, chunks, objects }, rules)
}
