//! The client side of a scenario: retry strategies, arrival processes,
//! swarms and their bulk jobs, and the chaos schedule.

use std::collections::BTreeMap;

use super::backend::resolve_dist;
use super::ctx::Ctx;
use super::defences::resolve_defences;
use crate::model::chaos::{ChaosAction, ChaosEvent, FaultStatus};
use crate::model::client::Defences;
use crate::model::dist::DurationDist;
use crate::model::outcome::OutcomeSet;
use crate::model::retry::{Backoff, Jitter, RetryPolicy};
use crate::model::workload::{BulkSpec, ClosedLoop, OnFailure, RateProfile, Spacing};
use crate::rng::name_id;
use crate::scenario::error::did_you_mean;
use crate::scenario::limits;
use crate::scenario::raw::{RawArrivals, RawChaos, RawClass, RawPool, RawStrategy, RawSwarm};
use crate::scenario::units::Dur;
use crate::scenario::{ArrivalSpec, StrategySpec, SwarmSpec};
use crate::suggest::names;
use crate::time::{SimDuration, SimTime};

/// Retry strategy kinds (`strategy.<name>.kind`).
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum StrategyKind {
    None,
    Immediate,
    Fixed,
    Exponential,
    Stepped,
}

pub const KIND_CHOICES: [(&str, StrategyKind); 5] = [
    ("none", StrategyKind::None),
    ("immediate", StrategyKind::Immediate),
    ("fixed", StrategyKind::Fixed),
    ("exponential", StrategyKind::Exponential),
    ("stepped", StrategyKind::Stepped),
];
pub const KINDS: [&str; 5] = names(&KIND_CHOICES);
pub const JITTERS: [(&str, Jitter); 4] =
    [("none", Jitter::None), ("full", Jitter::Full), ("equal", Jitter::Equal), ("decorrelated", Jitter::Decorrelated)];
pub const SPACINGS: [(&str, Spacing); 2] = [("poisson", Spacing::Poisson), ("uniform", Spacing::Uniform)];
pub const ON_FAILURE: [(&str, OnFailure); 2] = [("continue", OnFailure::Continue), ("abort", OnFailure::Abort)];

pub fn resolve_strategy(cx: &mut Ctx<'_>, name: &str, s: &RawStrategy) -> StrategySpec {
    let base = format!("strategy.{name}");
    let path = |k: &str| format!("{base}.{k}");
    let none = || StrategySpec { name: name.to_string(), policy: RetryPolicy::none(), defences: Defences::default() };
    let Some(kind_name) = cx.required(&path("kind"), &s.kind, &format!("(one of {})", KINDS.join(", "))) else {
        return none();
    };
    let Some(kind) = cx.choice(&path("kind"), &kind_name, &KIND_CHOICES) else {
        // Which keys belong depends on the kind: nothing more to check.
        return none();
    };
    let why = format!("for kind = \"{kind_name}\"");
    let has = |k: &str| match k {
        "delay" => s.delay.is_some(),
        "base" => s.base.is_some(),
        "multiplier" => s.multiplier.is_some(),
        "cap" => s.cap.is_some(),
        "jitter" => s.jitter.is_some(),
        "ranges" => s.ranges.is_some(),
        _ => false,
    };
    let own: &[&str] = match kind {
        StrategyKind::Fixed => &["delay"],
        StrategyKind::Exponential => &["base", "multiplier", "cap", "jitter"],
        StrategyKind::Stepped => &["ranges"],
        StrategyKind::None | StrategyKind::Immediate => &[],
    };
    let stray: Vec<(&str, bool)> = ["delay", "base", "multiplier", "cap", "jitter", "ranges"]
        .into_iter()
        .filter(|k| !own.contains(k))
        .map(|k| (k, has(k)))
        .collect();
    cx.not_for(&base, "kind", &kind_name, &stray);
    let backoff = match kind {
        StrategyKind::None | StrategyKind::Immediate => Backoff::Immediate,
        StrategyKind::Fixed => {
            Backoff::Fixed(cx.required(&path("delay"), &s.delay, &why).map_or(SimDuration::ZERO, |d| d.0))
        }
        StrategyKind::Exponential => {
            let b = cx.required(&path("base"), &s.base, &why).map_or(SimDuration::from_secs(1), |d| d.0);
            if s.base.is_some() {
                limits::min_interval(cx, &path("base"), b, limits::MIN_BACKOFF_BASE);
            }
            let cap = cx.required(&path("cap"), &s.cap, &why).map_or(b, |d| d.0);
            if cap < b {
                cx.error(&path("cap"), format!("({cap}) is smaller than base ({b})"));
            }
            let multiplier = cx.get(&path("multiplier"), &s.multiplier).unwrap_or(2.0);
            if !(multiplier >= 1.0 && multiplier.is_finite()) {
                cx.error(&path("multiplier"), format!("must be at least 1, got {multiplier}"));
            }
            let jitter = cx.choose(&path("jitter"), &s.jitter, &JITTERS).unwrap_or(Jitter::None);
            Backoff::Exponential { base: b, multiplier, cap, jitter }
        }
        StrategyKind::Stepped => {
            let raw = cx.required(&path("ranges"), &s.ranges, &why).unwrap_or_default();
            if s.ranges.is_some() && raw.is_empty() && cx.get(&path("ranges"), &s.ranges).is_some() {
                cx.error(&path("ranges"), "needs at least one [low, high] range");
            }
            let ranges: Vec<(SimDuration, SimDuration)> = raw.iter().map(|(l, h)| (l.0, h.0)).collect();
            for (i, (lo, hi)) in ranges.iter().enumerate() {
                if lo > hi {
                    cx.error(&format!("{base}.ranges[{i}]"), format!("low ({lo}) is greater than high ({hi})"));
                }
            }
            Backoff::Stepped(ranges)
        }
    };
    let never = kind == StrategyKind::None;
    let default_attempts = if never { 1 } else { 3 };
    let max_attempts = cx.int_in(
        &path("max_attempts"),
        &s.max_attempts,
        default_attempts,
        1,
        limits::MAX_ATTEMPTS,
        limits::WHY_MAX_ATTEMPTS,
    );
    let hedges = s.hedge_after.is_some();
    if hedges && max_attempts < 2 && s.max_attempts.is_some() {
        cx.error_help(
            &path("max_attempts"),
            "a hedge is an attempt: hedging needs max_attempts of at least 2",
            "max_attempts counts every attempt, hedges included (as gRPC's hedging policy does)",
        );
    } else if hedges && max_attempts < 2 {
        cx.error_help(
            &path("hedge_after"),
            format!("hedges are attempts, and max_attempts is {max_attempts} (the default for kind = \"{kind_name}\")"),
            "set max_attempts to 2 or more: every attempt counts, hedges included",
        );
    }
    if never && max_attempts > 1 && !hedges {
        cx.error_help(
            &path("max_attempts"),
            "kind = \"none\" never retries",
            "use kind = \"immediate\", \"fixed\", \"exponential\" or \"stepped\" to retry",
        );
    }
    let mut retry_on = OutcomeSet::EMPTY;
    match cx.get(&path("retry_on"), &s.retry_on) {
        None if !never && s.retry_on.is_none() => {
            for e in ["503", "429", "client_timeout", "connect_error"] {
                retry_on = retry_on.union(OutcomeSet::parse_entry(e).unwrap_or_default());
            }
        }
        None => {}
        Some(list) => {
            let single = list.0.len() == 1;
            for (i, e) in list.0.iter().enumerate() {
                match OutcomeSet::parse_entry(e) {
                    Some(set) => retry_on = retry_on.union(set),
                    None => {
                        let names = OutcomeSet::entry_names();
                        let mut help = format!("expected one of: {}", names.join(", "));
                        if let Some(sug) = did_you_mean(e, names.iter().copied()) {
                            help = format!("did you mean `{sug}`? ({help})");
                        }
                        let at = if single { path("retry_on") } else { format!("{base}.retry_on[{i}]") };
                        cx.error_help(&at, format!("unknown outcome `{e}`"), help);
                    }
                }
            }
        }
    }
    StrategySpec {
        name: name.to_string(),
        policy: RetryPolicy {
            backoff,
            max_attempts,
            retry_on,
            honor_retry_after: cx.get(&path("honor_retry_after"), &s.honor_retry_after).unwrap_or(false),
        },
        defences: resolve_defences(cx, &base, s),
    }
}

/// Arrival processes (`swarm.<name>.arrivals.process`).
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum Process {
    Poisson,
    Constant,
    Ramp,
    Spike,
    Steps,
    Closed,
}

pub const PROCESS_CHOICES: [(&str, Process); 6] = [
    ("poisson", Process::Poisson),
    ("constant", Process::Constant),
    ("ramp", Process::Ramp),
    ("spike", Process::Spike),
    ("steps", Process::Steps),
    ("closed", Process::Closed),
];
pub const PROCESSES: [&str; 6] = names(&PROCESS_CHOICES);

fn resolve_arrivals(cx: &mut Ctx<'_>, base: &str, a: &RawArrivals) -> Option<ArrivalSpec> {
    let path = |k: &str| format!("{base}.{k}");
    let process = cx.required(&path("process"), &a.process, &format!("(one of {})", PROCESSES.join(", ")))?;
    let kind = cx.choice(&path("process"), &process, &PROCESS_CHOICES)?;
    let why = format!("for process = \"{process}\"");
    let own: &[&str] = match kind {
        Process::Poisson | Process::Constant => &["rate"],
        Process::Ramp => &["from", "to", "start", "length"],
        Process::Spike => &["base", "peak", "start", "length"],
        Process::Steps => &["steps"],
        Process::Closed => &["users", "think"],
    };
    let present = [
        ("rate", a.rate.is_some()),
        ("from", a.from.is_some()),
        ("to", a.to.is_some()),
        ("base", a.base.is_some()),
        ("peak", a.peak.is_some()),
        ("start", a.start.is_some()),
        ("length", a.length.is_some()),
        ("steps", a.steps.is_some()),
        ("users", a.users.is_some()),
        ("think", a.think.is_some()),
    ];
    let stray: Vec<(&str, bool)> = present.into_iter().filter(|(k, _)| !own.contains(k)).collect();
    cx.not_for(base, "process", &process, &stray);
    // ramp, spike and steps are Poisson unless spacing = "uniform" asks for evenly spaced arrivals.
    let spacing = match (kind, &a.spacing) {
        (_, None) => Spacing::Poisson,
        (Process::Ramp | Process::Spike | Process::Steps, v) => {
            cx.choose(&path("spacing"), v, &SPACINGS).unwrap_or(Spacing::Poisson)
        }
        (_, Some(_)) => {
            cx.error_help(
                &path("spacing"),
                format!("does not apply when process = \"{process}\""),
                "process = \"poisson\" and \"constant\" fix the spacing; spacing applies to ramp, spike and steps",
            );
            Spacing::Poisson
        }
    };
    let open = |profile| Some(ArrivalSpec::Open { profile, spacing });
    match kind {
        Process::Poisson | Process::Constant => {
            let r = cx.required(&path("rate"), &a.rate, &why)?.0;
            if r <= 0.0 {
                cx.error(&path("rate"), "must be greater than zero");
            }
            let spacing = if kind == Process::Poisson { Spacing::Poisson } else { Spacing::Uniform };
            Some(ArrivalSpec::Open { profile: RateProfile::constant(r), spacing })
        }
        Process::Ramp => {
            let from = cx.required(&path("from"), &a.from, &why);
            let to = cx.required(&path("to"), &a.to, &why);
            let length = cx.required(&path("length"), &a.length, &why);
            let start = cx.get(&path("start"), &a.start).map_or(0.0, |d| d.0.as_secs_f64());
            let (from, to, length) = (from?.0, to?.0, length?.0);
            cx.positive(&path("length"), length);
            if from == 0.0 && to == 0.0 {
                cx.error(&path("to"), "a ramp from 0/s to 0/s sends nothing");
            }
            open(RateProfile::ramp(from, to, start, length.as_secs_f64()))
        }
        Process::Spike => {
            let b = cx.required(&path("base"), &a.base, &why);
            let peak = cx.required(&path("peak"), &a.peak, &why);
            let start = cx.required(&path("start"), &a.start, &why);
            let length = cx.required(&path("length"), &a.length, &why);
            let (b, peak, start, length) = (b?.0, peak?.0, start?, length?.0);
            cx.positive(&path("length"), length);
            if peak <= 0.0 {
                cx.error(&path("peak"), "must be greater than zero");
            }
            open(RateProfile::spike(b, peak, start.0.as_secs_f64(), length.as_secs_f64()))
        }
        Process::Steps => {
            let steps = cx.table(&path("steps"), &a.steps, &why)?;
            if steps.is_empty() {
                cx.error(&path("steps"), "needs at least one { at, rate } step");
            }
            if steps.len() > limits::MAX_STEPS {
                cx.error(&path("steps"), format!("{} steps are above the limit of {}", steps.len(), limits::MAX_STEPS));
                return None;
            }
            let mut s: Vec<(f64, f64)> = Vec::new();
            for (i, st) in steps.iter().enumerate() {
                let at = cx.required(&format!("{base}.steps[{i}].at"), &st.at, "(when the step starts)");
                let rate = cx.required(&format!("{base}.steps[{i}].rate"), &st.rate, "(the step's rate)");
                if let (Some(at), Some(rate)) = (at, rate) {
                    if s.last().is_some_and(|&(prev, _)| at.0.as_secs_f64() <= prev) {
                        cx.error(&format!("{base}.steps[{i}].at"), "steps must be in increasing time order");
                    }
                    s.push((at.0.as_secs_f64(), rate.0));
                }
            }
            if !s.is_empty() && s.iter().all(|st| st.1 == 0.0) {
                cx.error(&path("steps"), "every step has rate 0: the swarm sends nothing");
            }
            open(RateProfile::steps(&s))
        }
        Process::Closed => {
            let users = cx.required(&path("users"), &a.users, &why);
            let users = users.map(|u| {
                let v = Some(crate::scenario::value::Val::ok(u));
                cx.int_in(&path("users"), &v, 1, 1, limits::MAX_USERS, limits::WHY_MAX_USERS)
            });
            let think = cx.table(&path("think"), &a.think, &why).and_then(|t| resolve_dist(cx, &path("think"), t));
            Some(ArrivalSpec::Closed(ClosedLoop { users: users?, think: think? }))
        }
    }
}

pub fn resolve_swarm(
    cx: &mut Ctx<'_>,
    name: &str,
    s: &RawSwarm,
    classes: &BTreeMap<String, RawClass>,
    strategies: &BTreeMap<String, RawStrategy>,
) -> SwarmSpec {
    let base = format!("swarm.{name}");
    let mut mix = Vec::new();
    let class = cx.get(&format!("{base}.class"), &s.class);
    let shares = cx.get(&format!("{base}.mix"), &s.mix);
    match (&s.class, &s.mix) {
        (Some(_), None) => {
            if let Some(c) = class
                && let Some(i) = cx.reference(&format!("{base}.class"), "class", &c, classes)
            {
                mix.push((i, 1.0));
            }
        }
        (None, Some(_)) => {
            let mut total = 0.0;
            for (cname, p) in shares.iter().flatten() {
                let path = format!("{base}.mix.{cname}");
                if !(*p > 0.0 && *p <= 1.0) {
                    cx.error(&path, format!("a probability must be in (0, 1], got {p}"));
                }
                total += p;
                if let Some(i) = cx.reference(&path, "class", cname, classes) {
                    mix.push((i, total));
                }
            }
            if shares.is_some() && (total - 1.0).abs() > 1e-6 {
                cx.error_help(
                    &format!("{base}.mix"),
                    format!("probabilities sum to {}, not 1", (total * 1e6).round() / 1e6),
                    "the shares of all classes must add up to 1",
                );
            }
            if let Some(last) = mix.last_mut() {
                last.1 = 1.0;
            }
        }
        (Some(_), Some(_)) => cx.error_help(
            &format!("{base}.mix"),
            "both class and mix are set",
            "use class = \"x\" for one class or mix = { x = 0.7, y = 0.3 } for several",
        ),
        (None, None) => cx.error_help(
            &base,
            "has neither class nor mix",
            "add class = \"<name>\" or mix = { <name> = <share>, ... }",
        ),
    }
    let arrivals = cx
        .table(
            &format!("{base}.arrivals"),
            &s.arrivals,
            "(how requests arrive, e.g. { process = \"poisson\", rate = \"5/s\" })",
        )
        .and_then(|a| resolve_arrivals(cx, &format!("{base}.arrivals"), a))
        .unwrap_or(ArrivalSpec::Open { profile: RateProfile::constant(0.0), spacing: Spacing::Poisson });
    let surges = s.arrivals.as_ref().map(surge_windows).unwrap_or_default();
    let bulk = s.bulk.as_ref().map(|b| {
        let bp = |k: &str| format!("{base}.bulk.{k}");
        let images = if b.images.is_none() {
            cx.error(&bp("images"), "is required (requests in one bulk job)");
            1
        } else {
            cx.int_in(&bp("images"), &b.images, 1, 1, limits::MAX_IMAGES, limits::WHY_MAX_IMAGES)
        };
        let parallelism =
            cx.int_in(&bp("parallelism"), &b.parallelism, 1, 1, limits::MAX_IMAGES, limits::WHY_MAX_IMAGES);
        let on_failure = cx.choose(&bp("on_failure"), &b.on_failure, &ON_FAILURE).unwrap_or(OnFailure::Continue);
        BulkSpec { images, parallelism, on_failure }
    });
    let timeout = cx.get(&format!("{base}.timeout"), &s.timeout).and_then(|t| t.0);
    if timeout.is_some_and(SimDuration::is_zero) {
        cx.error_help(
            &format!("{base}.timeout"),
            "must be greater than zero",
            "leave it out (or write \"off\") for no client timeout",
        );
    }
    let strategy_name = cx.get(&format!("{base}.strategy"), &s.strategy).unwrap_or_else(|| super::BUILTIN_NONE.into());
    let strategy = cx.reference(&format!("{base}.strategy"), "strategy", &strategy_name, strategies).unwrap_or(0);
    // The tier needs the scenario's tier list: set by `tiers::resolve_swarm_tier`.
    let patience = cx.get(&format!("{base}.patience"), &s.patience).and_then(|p| {
        let mean = cx.positive(&format!("{base}.patience"), p.0);
        if mean.is_zero() {
            return None;
        }
        DurationDist::exponential(mean).map_err(|e| cx.error(&format!("{base}.patience"), e)).ok()
    });
    SwarmSpec {
        name: name.to_string(),
        id: name_id(name),
        mix,
        arrivals,
        bulk,
        timeout,
        strategy,
        surges,
        tier: 0,
        patience,
    }
}

/// Where an arrival profile rises: a spike's window, a rising ramp's window.
fn surge_windows(a: &RawArrivals) -> Vec<(SimTime, SimTime, &'static str)> {
    let ok = |v: &Option<crate::scenario::value::Val<Dur>>| v.as_ref().and_then(|v| v.0.as_ref().ok()).map(|d| d.0);
    let rate = |v: &Option<crate::scenario::value::Val<crate::scenario::units::Rate>>| {
        v.as_ref().and_then(|v| v.0.as_ref().ok()).map(|r| r.0)
    };
    let process = a.process.as_ref().and_then(|p| p.0.as_ref().ok()).map(String::as_str);
    let at = SimTime::ZERO + ok(&a.start).unwrap_or(SimDuration::ZERO);
    match (process, ok(&a.length)) {
        (Some("spike"), Some(len)) => vec![(at, at + len, "spike")],
        (Some("ramp"), Some(len)) if rate(&a.to) > rate(&a.from) => vec![(at, at + len, "ramp")],
        _ => Vec::new(),
    }
}

/// Chaos event kinds (`chaos[i].kind`).
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum ChaosKind {
    Kill,
    Stall,
    Slow,
    Maintenance,
    Traffic,
    Errors,
    ConnectFailures,
    Latency,
    Flap,
}

pub const CHAOS_CHOICES: [(&str, ChaosKind); 9] = [
    ("kill", ChaosKind::Kill),
    ("stall", ChaosKind::Stall),
    ("slow", ChaosKind::Slow),
    ("maintenance", ChaosKind::Maintenance),
    ("traffic", ChaosKind::Traffic),
    ("errors", ChaosKind::Errors),
    ("connect_failures", ChaosKind::ConnectFailures),
    ("latency", ChaosKind::Latency),
    ("flap", ChaosKind::Flap),
];
pub const CHAOS_KINDS: [&str; 9] = names(&CHAOS_CHOICES);

pub fn resolve_chaos(
    cx: &mut Ctx<'_>,
    i: usize,
    c: &RawChaos,
    pools: &BTreeMap<String, RawPool>,
    swarms: &BTreeMap<String, RawSwarm>,
    end: SimTime,
) -> Option<ChaosEvent> {
    let base = format!("chaos[{i}]");
    let path = |k: &str| format!("{base}.{k}");
    let kind_name = cx.required(&path("kind"), &c.kind, &format!("(one of {})", CHAOS_KINDS.join(", ")))?;
    let kind = cx.choice(&path("kind"), &kind_name, &CHAOS_CHOICES)?;
    let why = format!("for kind = \"{kind_name}\"");
    let wants = |k: &str| match k {
        "duration" => kind != ChaosKind::Kill,
        "pool" => kind != ChaosKind::Traffic,
        "swarm" => kind == ChaosKind::Traffic,
        "count" => kind == ChaosKind::Kill,
        "factor" => matches!(kind, ChaosKind::Slow | ChaosKind::Traffic),
        "share" => matches!(kind, ChaosKind::Errors | ChaosKind::ConnectFailures | ChaosKind::Flap),
        "status" => kind == ChaosKind::Errors,
        "added" | "jitter" => kind == ChaosKind::Latency,
        _ => false,
    };
    let present = [
        ("duration", c.duration.is_some()),
        ("pool", c.pool.is_some()),
        ("swarm", c.swarm.is_some()),
        ("count", c.count.is_some()),
        ("factor", c.factor.is_some()),
        ("share", c.share.is_some()),
        ("status", c.status.is_some()),
        ("added", c.added.is_some()),
        ("jitter", c.jitter.is_some()),
    ];
    let stray: Vec<(&str, bool)> = present.into_iter().filter(|(k, _)| !wants(k)).collect();
    cx.not_for(&base, "kind", &kind_name, &stray);
    let at = cx.required(&path("at"), &c.at, "(when the event starts)").map(|d| SimTime::ZERO + d.0);
    if let Some(at) = at
        && at >= end
    {
        cx.error(
            &path("at"),
            format!("({}) is at or after the end of the run ({})", at - SimTime::ZERO, end - SimTime::ZERO),
        );
    }
    let duration = if kind == ChaosKind::Kill {
        None
    } else {
        let d = cx.required(&path("duration"), &c.duration, &why).map(|d| cx.positive(&path("duration"), d.0));
        Some(d)
    };
    let factor = |cx: &mut Ctx<'_>| {
        let f = cx.required(&path("factor"), &c.factor, &why)?;
        if !(f > 0.0 && f.is_finite()) {
            cx.error(&path("factor"), format!("must be greater than zero, got {f}"));
        }
        Some(f)
    };
    let share = |cx: &mut Ctx<'_>| {
        let x = cx.required(&path("share"), &c.share, &why)?;
        if !(x.is_finite() && (0.0..=1.0).contains(&x)) {
            cx.error(&path("share"), format!("must be a share in [0, 1], got {x}"));
            return None;
        }
        Some(x)
    };
    let action = if kind == ChaosKind::Traffic {
        let s = cx.required(&path("swarm"), &c.swarm, &why);
        let swarm = s.and_then(|s| cx.reference(&path("swarm"), "swarm", &s, swarms));
        let f = factor(cx);
        ChaosAction::Traffic { swarm: swarm?, factor: f? }
    } else {
        let p = cx.required(&path("pool"), &c.pool, &why);
        let pool = p.and_then(|p| cx.reference(&path("pool"), "pool", &p, pools));
        match kind {
            ChaosKind::Kill => {
                let count = cx.required(&path("count"), &c.count, &why).map(|n| {
                    let v = Some(crate::scenario::value::Val::ok(n));
                    cx.int_in(&path("count"), &v, 1, 1, limits::MAX_INSTANCES, limits::WHY_MAX_INSTANCES)
                });
                ChaosAction::Kill { pool: pool?, count: count? }
            }
            ChaosKind::Stall => ChaosAction::Stall { pool: pool? },
            ChaosKind::Slow => {
                let f = factor(cx);
                ChaosAction::Slow { pool: pool?, factor: f? }
            }
            ChaosKind::Maintenance | ChaosKind::Traffic => ChaosAction::Maintenance { pool: pool? },
            ChaosKind::Errors => {
                let share = share(cx);
                let status = cx.required(&path("status"), &c.status, &why).and_then(|code| {
                    let s = FaultStatus::from_code(code);
                    if s.is_none() {
                        cx.error_help(
                            &path("status"),
                            format!("a backend error is 500, 502 or 503, got {code}"),
                            "for a mix of statuses, add one errors event per status",
                        );
                    }
                    s
                });
                ChaosAction::Errors { pool: pool?, share: share?, status: status? }
            }
            ChaosKind::ConnectFailures => {
                let share = share(cx);
                ChaosAction::ConnectFailures { pool: pool?, share: share? }
            }
            ChaosKind::Flap => {
                let share = share(cx);
                ChaosAction::Flap { pool: pool?, share: share? }
            }
            ChaosKind::Latency => {
                let added = cx.required(&path("added"), &c.added, &why).map(|d| cx.positive(&path("added"), d.0));
                let jitter = cx.get(&path("jitter"), &c.jitter).map_or(SimDuration::ZERO, |d| d.0);
                if let Some(a) = added
                    && jitter > a
                {
                    cx.error(
                        &path("jitter"),
                        format!("({jitter}) must not exceed added ({a}): a latency is never negative"),
                    );
                }
                ChaosAction::Latency { pool: pool?, added: added?, jitter }
            }
        }
    };
    Some(ChaosEvent {
        at: at?,
        duration: match duration {
            Some(d) => Some(d?),
            None => None,
        },
        action,
    })
}
