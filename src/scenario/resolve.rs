//! From the raw file shape to a typed, validated [`Scenario`].
//!
//! Every check names the key path it is about; the source map turns the path
//! into a line. Problems are collected rather than returned at the first one.

use std::collections::BTreeMap;

use toml_edit::Document;

use super::error::{ScenarioError, ScenarioErrors, did_you_mean};
use super::overrides::Override;
use super::raw::*;
use super::source::{SourceMap, parse_path, render};
use super::units::Timeout;
use super::{ArrivalSpec, ClassSpec, CompareSpec, Scenario, StrategySpec, SwarmSpec};
use crate::model::autoscaler::{AutoscalerConfig, ScaleMetric};
use crate::model::chaos::{ChaosAction, ChaosEvent};
use crate::model::dist::DurationDist;
use crate::model::gpu::{PoolConfig, QueueFullStatus};
use crate::model::outcome::{Outcome, OutcomeSet};
use crate::model::proxy::{DirectorKind, ProbeConfig, ProxyConfig, WaitQueue};
use crate::model::retry::{Backoff, Jitter, RetryPolicy};
use crate::model::workload::{BulkSpec, ClosedLoop, OnFailure, RateProfile, Spacing};
use crate::rng::name_id;
use crate::slo;
use crate::time::{SimDuration, SimTime};

/// The name of the always-available strategy that never retries.
pub const BUILTIN_NONE: &str = "none";

struct Ctx<'a> {
    file: &'a str,
    src: &'a SourceMap,
    overrides: &'a [Override],
    errors: Vec<ScenarioError>,
}

impl Ctx<'_> {
    fn error(&mut self, path: &str, message: impl Into<String>) {
        self.push(path, message.into(), None);
    }

    fn error_help(&mut self, path: &str, message: impl Into<String>, help: impl Into<String>) {
        self.push(path, message.into(), Some(help.into()));
    }

    fn push(&mut self, path: &str, message: String, help: Option<String>) {
        let segs = parse_path(path);
        // A value set on the command line is reported against the --set that
        // took effect: the last one covering the key.
        if let Some(o) = self.overrides.iter().rev().find(|o| o.covers(&segs)) {
            self.errors.push(ScenarioError {
                file: o.to_string(),
                line: None,
                column: None,
                key: path.to_string(),
                message,
                help,
            });
            return;
        }
        let pos = self.src.line_of(&segs);
        self.errors.push(ScenarioError {
            file: self.file.to_string(),
            line: pos.map(|p| p.0),
            column: pos.map(|p| p.1),
            key: path.to_string(),
            message,
            help,
        });
    }

    /// An integer key that must be at least `min`.
    fn int(&mut self, path: &str, v: Option<i64>, default: u32, min: u32) -> u32 {
        match v {
            None => default,
            Some(x) if x < i64::from(min) => {
                self.error(path, format!("must be at least {min}, got {x}"));
                default
            }
            Some(x) => u32::try_from(x).unwrap_or_else(|_| {
                self.error(path, format!("{x} is too large"));
                default
            }),
        }
    }

    fn positive(&mut self, path: &str, d: SimDuration) -> SimDuration {
        if d.is_zero() {
            self.error(path, "must be greater than zero");
        }
        d
    }

    /// A reference to a named thing, with a did-you-mean hint.
    fn reference<T>(&mut self, path: &str, what: &str, name: &str, names: &BTreeMap<String, T>) -> Option<usize> {
        if let Some(i) = names.keys().position(|k| k == name) {
            return Some(i);
        }
        let defined: Vec<&str> = names.keys().map(String::as_str).collect();
        let mut help = if defined.is_empty() {
            format!("no {what} is defined; add a [{what}.{name}] section")
        } else {
            format!("defined: {}", defined.join(", "))
        };
        if let Some(s) = did_you_mean(name, defined.iter().copied()) {
            help = format!("did you mean `{s}`? ({help})");
        }
        self.error_help(path, format!("refers to {what} `{name}`, which is not defined"), help);
        None
    }

    /// A value that must be one of a fixed set of names.
    fn choice(&mut self, path: &str, value: &str, allowed: &[&str]) -> Option<usize> {
        if let Some(i) = allowed.iter().position(|a| *a == value) {
            return Some(i);
        }
        let mut help = format!("expected one of: {}", allowed.join(", "));
        if let Some(s) = did_you_mean(value, allowed.iter().copied()) {
            help = format!("did you mean `{s}`? ({help})");
        }
        self.error_help(path, format!("unknown value `{value}`"), help);
        None
    }

    /// Keys that were set but mean nothing for this kind.
    fn not_for(&mut self, base: &str, kind_key: &str, kind: &str, set: &[(&str, bool)]) {
        for (key, present) in set {
            if *present {
                self.error(&format!("{base}.{key}"), format!("does not apply when {kind_key} = \"{kind}\""));
            }
        }
    }

    fn required<T: Clone>(&mut self, path: &str, v: &Option<T>, why: &str) -> Option<T> {
        if v.is_none() {
            self.error(path, format!("is required {why}"));
        }
        v.clone()
    }
}

/// Parses and resolves scenario text with `--set` overrides applied.
pub fn parse(text: &str, file: &str, overrides: &[Override]) -> Result<Scenario, ScenarioErrors> {
    let doc: Document<String> = match text.to_string().parse() {
        Ok(d) => d,
        Err(e) => {
            let (line, column) = e.span().map(|s| super::source::line_col(text, s.start)).unzip();
            return Err(ScenarioErrors(vec![ScenarioError {
                file: file.to_string(),
                line,
                column,
                key: String::new(),
                message: format!("invalid TOML: {}", e.message().trim()),
                help: None,
            }]));
        }
    };
    let src = SourceMap::new(doc.clone());
    let (raw, as_run) = if overrides.is_empty() {
        match toml_edit::de::from_document::<RawScenario>(doc) {
            Ok(r) => (r, text.to_string()),
            Err(e) => return Err(ScenarioErrors(vec![serde_error(&src, file, &e)])),
        }
    } else {
        let mut edited = doc.clone().into_mut();
        for o in overrides {
            o.apply(&mut edited).map_err(|e| ScenarioErrors(vec![override_error(o, e)]))?;
        }
        let as_run = edited.to_string();
        match toml_edit::de::from_document::<RawScenario>(edited) {
            Ok(r) => (r, as_run),
            Err(e) => return Err(ScenarioErrors(vec![attribute(&doc, &src, file, overrides, &e)])),
        }
    };
    let mut cx = Ctx { file, src: &src, overrides, errors: Vec::new() };
    let scenario = resolve(&mut cx, raw, &as_run, file);
    if cx.errors.is_empty() { Ok(scenario) } else { Err(ScenarioErrors(cx.errors)) }
}

fn override_error(o: &Override, message: String) -> ScenarioError {
    ScenarioError { file: o.to_string(), line: None, column: None, key: render(&o.path), message, help: None }
}

/// A serde error of the document with overrides, which carries no span: if the
/// file alone fails the same way it is the file's error (with its line);
/// otherwise it belongs to the override that alone reproduces it.
fn attribute(
    doc: &Document<String>,
    src: &SourceMap,
    file: &str,
    overrides: &[Override],
    e: &toml_edit::de::Error,
) -> ScenarioError {
    if let Err(e0) = toml_edit::de::from_document::<RawScenario>(doc.clone())
        && e0.message() == e.message()
    {
        return serde_error(src, file, &e0);
    }
    for o in overrides {
        let mut one = doc.clone().into_mut();
        if o.apply(&mut one).is_ok()
            && let Err(ei) = toml_edit::de::from_document::<RawScenario>(one)
            && ei.message() == e.message()
        {
            let (message, help, _) = rewrite(e.message());
            return ScenarioError {
                file: o.to_string(),
                line: None,
                column: None,
                key: render(&o.path),
                message,
                help,
            };
        }
    }
    let (message, help, _) = rewrite(e.message());
    ScenarioError {
        file: format!("{file} with --set overrides"),
        line: None,
        column: None,
        key: String::new(),
        message,
        help,
    }
}

/// Rewrites a serde error in our terms: the key path, a did-you-mean for unknown keys and values.
fn serde_error(src: &SourceMap, file: &str, e: &toml_edit::de::Error) -> ScenarioError {
    let span = e.span();
    let path = span.as_ref().map(|s| src.path_at(s.start)).unwrap_or_default();
    let (line, column) = span.map(|s| src.line_col(s.start)).unzip();
    let mut key = render(&path);
    let (message, help, missing) = rewrite(e.message());
    if let Some(missing) = missing {
        if !key.is_empty() {
            key.push('.');
        }
        key.push_str(&missing);
    }
    ScenarioError { file: file.to_string(), line, column, key, message, help }
}

/// serde's message in our words: (message, help, the missing field if any).
fn rewrite(msg: &str) -> (String, Option<String>, Option<String>) {
    let msg = msg.trim().to_string();
    let quoted: Vec<&str> = msg.split('`').skip(1).step_by(2).collect();
    if msg.starts_with("unknown field ") {
        let unknown = quoted.first().copied().unwrap_or_default();
        let valid = &quoted[1.min(quoted.len())..];
        let mut help = format!("valid keys here: {}", valid.join(", "));
        if let Some(s) = did_you_mean(unknown, valid.iter().copied()) {
            help = format!("did you mean `{s}`? ({help})");
        }
        (format!("unknown key `{unknown}`"), Some(help), None)
    } else if msg.starts_with("unknown variant ") {
        let unknown = quoted.first().copied().unwrap_or_default();
        let valid = &quoted[1.min(quoted.len())..];
        let mut help = format!("expected one of: {}", valid.join(", "));
        if let Some(s) = did_you_mean(unknown, valid.iter().copied()) {
            help = format!("did you mean `{s}`? ({help})");
        }
        (format!("unknown value `{unknown}`"), Some(help), None)
    } else if msg.starts_with("missing field ") {
        let missing = quoted.first().copied().unwrap_or_default().to_string();
        ("is required but missing".to_string(), None, Some(missing))
    } else {
        // serde names Rust types; say what the file should contain.
        let plain = msg
            .replace("expected i64", "expected an integer")
            .replace("expected u64", "expected an integer")
            .replace("expected f64", "expected a number");
        (plain, None, None)
    }
}

fn resolve(cx: &mut Ctx<'_>, raw: RawScenario, text: &str, file: &str) -> Scenario {
    let m = &raw.scenario;
    if m.name.trim().is_empty() {
        cx.error("scenario.name", "must not be empty");
    } else if !m.name.chars().all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c)) || m.name.starts_with('.') {
        cx.error_help(
            "scenario.name",
            format!("`{}` cannot name a report directory", m.name),
            "use letters, digits, '-', '_' and '.' only",
        );
    }
    let duration = cx.positive("scenario.duration", m.duration.0);
    let warmup = m.warmup.map_or(SimDuration::ZERO, |w| w.0);
    if warmup >= duration && !duration.is_zero() {
        cx.error("scenario.warmup", format!("({warmup}) must be shorter than the duration ({duration})"));
    }
    let window = cx.positive("scenario.window", m.window.map_or(SimDuration::from_secs(10), |w| w.0));
    let seed = match m.seed {
        None => 1,
        Some(s) if s < 0 => {
            cx.error("scenario.seed", format!("must not be negative, got {s}"));
            1
        }
        Some(s) => s as u64,
    };

    let proxy = resolve_proxy(cx, &raw.proxy);
    let pools: Vec<PoolConfig> = raw.pool.iter().map(|(name, p)| resolve_pool(cx, name, p)).collect();
    let prices = raw.pool.iter().map(|(name, p)| resolve_price(cx, name, p.price_per_hour)).collect();
    if pools.is_empty() {
        cx.error_help("pool", "the scenario defines no GPU pool", "add e.g. [pool.gpu] with slots and instance counts");
    }
    let classes: Vec<ClassSpec> = raw.class.iter().map(|(name, c)| resolve_class(cx, name, c, &raw.pool)).collect();
    if classes.is_empty() {
        cx.error_help(
            "class",
            "the scenario defines no job class",
            "add e.g. [class.txt2img] with a pool and a service time",
        );
    }

    let mut strategy_map = raw.strategy.clone();
    let builtin_none = !strategy_map.contains_key(BUILTIN_NONE);
    if builtin_none {
        strategy_map.insert(
            BUILTIN_NONE.to_string(),
            RawStrategy {
                kind: "none".into(),
                max_attempts: None,
                retry_on: None,
                honor_retry_after: None,
                delay: None,
                base: None,
                multiplier: None,
                cap: None,
                jitter: None,
                ranges: None,
            },
        );
    }
    let strategies: Vec<StrategySpec> = strategy_map.iter().map(|(name, s)| resolve_strategy(cx, name, s)).collect();

    let end = SimTime::ZERO + duration;
    let swarms: Vec<SwarmSpec> =
        raw.swarm.iter().map(|(name, s)| resolve_swarm(cx, name, s, &raw.class, &strategy_map)).collect();
    if swarms.is_empty() {
        cx.error_help(
            "swarm",
            "the scenario defines no client swarm",
            "add e.g. [swarm.web] with arrivals and a class",
        );
    }
    let chaos: Vec<ChaosEvent> =
        raw.chaos.iter().enumerate().filter_map(|(i, c)| resolve_chaos(cx, i, c, &raw.pool, &raw.swarm, end)).collect();

    let mut thresholds = Vec::new();
    for (metric, cond) in &raw.slo {
        match slo::parse(metric, cond) {
            Ok(t) => thresholds.push(t),
            Err(e) => cx.error(&format!("slo.{metric}"), e),
        }
    }

    let compare =
        raw.compare.as_ref().map_or_else(CompareSpec::default, |c| resolve_compare(cx, c, &strategy_map, &raw.swarm));

    Scenario {
        name: m.name.clone(),
        description: m.description.clone(),
        duration,
        warmup,
        seed,
        window,
        proxy,
        pools,
        classes,
        strategies,
        swarms,
        chaos,
        slo: thresholds,
        compare,
        prices,
        source_text: text.to_string(),
        source_path: file.to_string(),
    }
}

fn timeout(t: Option<Timeout>, default: SimDuration) -> Option<SimDuration> {
    t.map_or(Some(default), |t| t.0)
}

fn resolve_proxy(cx: &mut Ctx<'_>, p: &RawProxy) -> ProxyConfig {
    let d = ProxyConfig::default();
    let max_connections = p.max_connections.map(|_| cx.int("proxy.max_connections", p.max_connections, 1, 1));
    let wait_limit = cx.int("proxy.wait_limit", p.wait_limit, 0, 0);
    let wait_timeout = p.wait_timeout.map_or(SimDuration::ZERO, |w| w.0);
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
    let director = p.director.as_deref().map_or(Some(0), |v| cx.choice("proxy.director", v, &DirectorKind::NAMES));
    let director = match director {
        Some(1) => DirectorKind::Random,
        Some(2) => DirectorKind::LeastConnections,
        _ => DirectorKind::RoundRobin,
    };
    let mut retry_on = OutcomeSet::EMPTY;
    for (i, name) in p.retry_on.iter().flatten().enumerate() {
        let path = format!("proxy.retry_on[{i}]");
        match OutcomeSet::parse_entry(name) {
            Some(set)
                if !set.contains(Outcome::Status429)
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
                let names: Vec<&str> =
                    crate::model::outcome::Cause::ALL.iter().map(|c| c.name()).chain(["503"]).collect();
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
        let window = cx.int("proxy.probe.window", pr.window, dflt.window, 1);
        if window > 64 {
            cx.error("proxy.probe.window", format!("must be at most 64, got {window}"));
        }
        let threshold = cx.int("proxy.probe.threshold", pr.threshold, dflt.threshold, 1);
        if threshold > window {
            cx.error("proxy.probe.threshold", format!("({threshold}) cannot exceed the window ({window})"));
        }
        let initial = cx.int("proxy.probe.initial", pr.initial, threshold.saturating_sub(1), 0);
        if initial > window {
            cx.error("proxy.probe.initial", format!("({initial}) cannot exceed the window ({window})"));
        }
        ProbeConfig {
            interval: cx.positive("proxy.probe.interval", pr.interval.map_or(dflt.interval, |d| d.0)),
            timeout: cx.positive("proxy.probe.timeout", pr.timeout.map_or(dflt.timeout, |d| d.0)),
            window: window.min(64),
            threshold,
            initial,
        }
    });
    ProxyConfig {
        connect_timeout: timeout(p.connect_timeout, d.connect_timeout.unwrap_or_default()),
        first_byte_timeout: timeout(p.first_byte_timeout, d.first_byte_timeout.unwrap_or_default()),
        between_bytes_timeout: timeout(p.between_bytes_timeout, d.between_bytes_timeout.unwrap_or_default()),
        max_connections,
        wait,
        director,
        probe,
        retry_on,
        max_retries: cx.int("proxy.max_retries", p.max_retries, d.max_retries, 0),
        max_sessions: p.max_sessions.map(|_| cx.int("proxy.max_sessions", p.max_sessions, 1, 1)),
    }
}

/// `pool.<name>.price_per_hour`: reports only (cost in money), never the simulation.
fn resolve_price(cx: &mut Ctx<'_>, name: &str, price: Option<f64>) -> Option<f64> {
    let p = price?;
    if p.is_finite() && p >= 0.0 {
        Some(p)
    } else {
        cx.error(&format!("pool.{name}.price_per_hour"), format!("must be a number >= 0, got {p}"));
        None
    }
}

fn resolve_pool(cx: &mut Ctx<'_>, name: &str, p: &RawPool) -> PoolConfig {
    let base = format!("pool.{name}");
    let path = |k: &str| format!("{base}.{k}");
    let slots = cx.int(&path("slots"), p.slots, 1, 1);
    let queue_limit = p.queue_limit.map(|_| cx.int(&path("queue_limit"), p.queue_limit, 0, 0));
    let queue_full_status = match p.queue_full_status {
        None | Some(503) => QueueFullStatus::S503,
        Some(429) => QueueFullStatus::S429,
        Some(x) => {
            cx.error(&path("queue_full_status"), format!("must be 503 or 429, got {x}"));
            QueueFullStatus::S503
        }
    };
    let min = cx.int(&path("min_instances"), p.min_instances, 1, 0);
    let initial = cx.int(&path("initial_instances"), p.initial_instances, min, 0);
    let max = cx.int(&path("max_instances"), p.max_instances, min.max(initial).max(1), 1);
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
        let metric = match a.metric.as_deref() {
            None => ScaleMetric::Utilization,
            Some(v) => match cx.choice(&ap("metric"), v, &["utilization", "queue_depth"]) {
                Some(1) => ScaleMetric::QueueDepth,
                _ => ScaleMetric::Utilization,
            },
        };
        let target = cx
            .required(&ap("target"), &a.target, "(the metric value the autoscaler steers to, e.g. 0.7)")
            .unwrap_or(1.0);
        if !(target > 0.0 && target.is_finite()) {
            cx.error(&ap("target"), format!("must be greater than zero, got {target}"));
        } else if metric == ScaleMetric::Utilization && target > 1.0 {
            cx.error(&ap("target"), format!("utilization is a fraction of slots; {target} is above 1"));
        }
        let tolerance = a.tolerance.unwrap_or(0.1);
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
        AutoscalerConfig {
            metric,
            target,
            interval: cx.positive(&ap("interval"), a.interval.map_or(SimDuration::from_secs(30), |d| d.0)),
            max_step_up: cx.int(&ap("max_step_up"), a.max_step_up, 4, 1),
            max_step_down: cx.int(&ap("max_step_down"), a.max_step_down, 1, 1),
            cooldown: a.cooldown.map_or(SimDuration::from_secs(300), |d| d.0),
            tolerance,
        }
    });
    PoolConfig {
        name: name.to_string(),
        slots,
        queue_limit,
        queue_full_status,
        retry_after: p.retry_after.map(|d| d.0),
        min_instances: min,
        max_instances: max,
        initial_instances: initial,
        cold_start: p.cold_start.map_or(SimDuration::ZERO, |d| d.0),
        cancel_on_abandon: p.cancel_on_abandon.unwrap_or(false),
        deregister_delay: p.deregister_delay.map_or(SimDuration::from_secs(30), |d| d.0),
        autoscaler,
    }
}

const DISTS: [&str; 5] = ["constant", "exponential", "uniform", "lognormal", "gamma"];

fn resolve_dist(cx: &mut Ctx<'_>, base: &str, d: &RawDist) -> Option<DurationDist> {
    let path = |k: &str| format!("{base}.{k}");
    let kind = cx.choice(&path("dist"), &d.dist, &DISTS)?;
    let why = format!("for dist = \"{}\"", d.dist);
    let fields = [
        ("value", d.value.is_some(), kind == 0),
        ("mean", d.mean.is_some(), kind == 1 || kind == 4),
        ("low", d.low.is_some(), kind == 2),
        ("high", d.high.is_some(), kind == 2),
        ("median", d.median.is_some(), kind == 3),
        ("p99", d.p99.is_some(), kind == 3),
        ("cv", d.cv.is_some(), kind == 4),
    ];
    let stray: Vec<(&str, bool)> = fields.iter().filter(|f| !f.2).map(|f| (f.0, f.1)).collect();
    cx.not_for(base, "dist", &d.dist, &stray);
    let made = match kind {
        0 => cx.required(&path("value"), &d.value, &why).map(|v| Ok(DurationDist::Constant(v.0))),
        1 => cx.required(&path("mean"), &d.mean, &why).map(|m| DurationDist::exponential(m.0)),
        2 => match (cx.required(&path("low"), &d.low, &why), cx.required(&path("high"), &d.high, &why)) {
            (Some(l), Some(h)) => Some(DurationDist::uniform(l.0, h.0)),
            _ => None,
        },
        3 => match (cx.required(&path("median"), &d.median, &why), cx.required(&path("p99"), &d.p99, &why)) {
            (Some(m), Some(p)) => Some(DurationDist::lognormal(m.0, p.0)),
            _ => None,
        },
        _ => match (cx.required(&path("mean"), &d.mean, &why), cx.required(&path("cv"), &d.cv, &why)) {
            (Some(m), Some(cv)) => Some(DurationDist::gamma(m.0, cv)),
            _ => None,
        },
    }?;
    made.map_err(|e| cx.error(base, e)).ok()
}

fn resolve_class(cx: &mut Ctx<'_>, name: &str, c: &RawClass, pools: &BTreeMap<String, RawPool>) -> ClassSpec {
    let base = format!("class.{name}");
    let pool = cx.reference(&format!("{base}.pool"), "pool", &c.pool, pools).unwrap_or(0);
    let service = resolve_dist(cx, &format!("{base}.service"), &c.service)
        .unwrap_or(DurationDist::Constant(SimDuration::from_secs(1)));
    ClassSpec { name: name.to_string(), pool, service, chunks: cx.int(&format!("{base}.chunks"), c.chunks, 1, 1) }
}

const KINDS: [&str; 5] = ["none", "immediate", "fixed", "exponential", "stepped"];

fn resolve_strategy(cx: &mut Ctx<'_>, name: &str, s: &RawStrategy) -> StrategySpec {
    let base = format!("strategy.{name}");
    let path = |k: &str| format!("{base}.{k}");
    let Some(kind) = cx.choice(&path("kind"), &s.kind, &KINDS) else {
        // Which keys belong depends on the kind: nothing more to check.
        return StrategySpec { name: name.to_string(), policy: RetryPolicy::none() };
    };
    let why = format!("for kind = \"{}\"", s.kind);
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
        2 => &["delay"],
        3 => &["base", "multiplier", "cap", "jitter"],
        4 => &["ranges"],
        _ => &[],
    };
    let stray: Vec<(&str, bool)> = ["delay", "base", "multiplier", "cap", "jitter", "ranges"]
        .into_iter()
        .filter(|k| !own.contains(k))
        .map(|k| (k, has(k)))
        .collect();
    cx.not_for(&base, "kind", &s.kind, &stray);
    let backoff = match kind {
        1 => Backoff::Immediate,
        2 => Backoff::Fixed(cx.required(&path("delay"), &s.delay, &why).map_or(SimDuration::ZERO, |d| d.0)),
        3 => {
            let b = cx.required(&path("base"), &s.base, &why).map_or(SimDuration::from_secs(1), |d| d.0);
            cx.positive(&path("base"), b);
            let cap = cx.required(&path("cap"), &s.cap, &why).map_or(b, |d| d.0);
            if cap < b {
                cx.error(&path("cap"), format!("({cap}) is smaller than base ({b})"));
            }
            let multiplier = s.multiplier.unwrap_or(2.0);
            if !(multiplier >= 1.0 && multiplier.is_finite()) {
                cx.error(&path("multiplier"), format!("must be at least 1, got {multiplier}"));
            }
            let jitter = match s.jitter.as_deref() {
                None => Jitter::None,
                Some(j) => match cx.choice(&path("jitter"), j, &Jitter::NAMES) {
                    Some(1) => Jitter::Full,
                    Some(2) => Jitter::Equal,
                    Some(3) => Jitter::Decorrelated,
                    _ => Jitter::None,
                },
            };
            Backoff::Exponential { base: b, multiplier, cap, jitter }
        }
        4 => {
            let ranges: Vec<(SimDuration, SimDuration)> = cx
                .required(&path("ranges"), &s.ranges, &why)
                .unwrap_or_default()
                .iter()
                .map(|(l, h)| (l.0, h.0))
                .collect();
            if s.ranges.as_ref().is_some_and(Vec::is_empty) {
                cx.error(&path("ranges"), "needs at least one [low, high] range");
            }
            for (i, (lo, hi)) in ranges.iter().enumerate() {
                if lo > hi {
                    cx.error(&format!("{base}.ranges[{i}]"), format!("low ({lo}) is greater than high ({hi})"));
                }
            }
            Backoff::Stepped(ranges)
        }
        _ => Backoff::Immediate,
    };
    let default_attempts = if kind == 0 { 1 } else { 3 };
    let max_attempts = cx.int(&path("max_attempts"), s.max_attempts, default_attempts, 1);
    if kind == 0 && max_attempts > 1 {
        cx.error_help(
            &path("max_attempts"),
            "kind = \"none\" never retries",
            "use kind = \"immediate\", \"fixed\", \"exponential\" or \"stepped\" to retry",
        );
    }
    let mut retry_on = OutcomeSet::EMPTY;
    match &s.retry_on {
        None if kind != 0 => {
            for e in ["503", "429", "client_timeout", "connect_error"] {
                retry_on = retry_on.union(OutcomeSet::parse_entry(e).unwrap_or_default());
            }
        }
        None => {}
        Some(list) => {
            for (i, e) in list.iter().enumerate() {
                match OutcomeSet::parse_entry(e) {
                    Some(set) => retry_on = retry_on.union(set),
                    None => {
                        let names = OutcomeSet::entry_names();
                        let mut help = format!("expected one of: {}", names.join(", "));
                        if let Some(sug) = did_you_mean(e, names.iter().copied()) {
                            help = format!("did you mean `{sug}`? ({help})");
                        }
                        cx.error_help(&format!("{base}.retry_on[{i}]"), format!("unknown outcome `{e}`"), help);
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
            honor_retry_after: s.honor_retry_after.unwrap_or(false),
        },
    }
}

const PROCESSES: [&str; 6] = ["poisson", "constant", "ramp", "spike", "steps", "closed"];

fn resolve_arrivals(cx: &mut Ctx<'_>, base: &str, a: &RawArrivals) -> Option<ArrivalSpec> {
    let path = |k: &str| format!("{base}.{k}");
    let kind = cx.choice(&path("process"), &a.process, &PROCESSES)?;
    let why = format!("for process = \"{}\"", a.process);
    let own: &[&str] = match kind {
        0 | 1 => &["rate"],
        2 => &["from", "to", "start", "length"],
        3 => &["base", "peak", "start", "length"],
        4 => &["steps"],
        _ => &["users", "think"],
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
    cx.not_for(base, "process", &a.process, &stray);
    let secs = |d: Option<super::units::Dur>| d.map_or(0.0, |d| d.0.as_secs_f64());
    // ramp, spike and steps are Poisson unless spacing = "uniform" asks for evenly spaced arrivals.
    let spacing = match (kind, a.spacing.as_deref()) {
        (_, None) => Spacing::Poisson,
        (2..=4, Some(v)) => match cx.choice(&path("spacing"), v, &["poisson", "uniform"]) {
            Some(1) => Spacing::Uniform,
            _ => Spacing::Poisson,
        },
        (_, Some(_)) => {
            cx.error_help(
                &path("spacing"),
                format!("does not apply when process = \"{}\"", a.process),
                "process = \"poisson\" and \"constant\" fix the spacing; spacing applies to ramp, spike and steps",
            );
            Spacing::Poisson
        }
    };
    let open = |profile| Some(ArrivalSpec::Open { profile, spacing });
    match kind {
        0 | 1 => {
            let r = cx.required(&path("rate"), &a.rate, &why)?.0;
            if r <= 0.0 {
                cx.error(&path("rate"), "must be greater than zero");
            }
            let spacing = if kind == 0 { Spacing::Poisson } else { Spacing::Uniform };
            Some(ArrivalSpec::Open { profile: RateProfile::constant(r), spacing })
        }
        2 => {
            let from = cx.required(&path("from"), &a.from, &why)?.0;
            let to = cx.required(&path("to"), &a.to, &why)?.0;
            let length = cx.required(&path("length"), &a.length, &why)?.0;
            cx.positive(&path("length"), length);
            if from == 0.0 && to == 0.0 {
                cx.error(&path("to"), "a ramp from 0/s to 0/s sends nothing");
            }
            open(RateProfile::ramp(from, to, secs(a.start), length.as_secs_f64()))
        }
        3 => {
            let b = cx.required(&path("base"), &a.base, &why)?.0;
            let peak = cx.required(&path("peak"), &a.peak, &why)?.0;
            let start = cx.required(&path("start"), &a.start, &why)?;
            let length = cx.required(&path("length"), &a.length, &why)?.0;
            cx.positive(&path("length"), length);
            if peak <= 0.0 {
                cx.error(&path("peak"), "must be greater than zero");
            }
            open(RateProfile::spike(b, peak, start.0.as_secs_f64(), length.as_secs_f64()))
        }
        4 => {
            let steps = cx.required(&path("steps"), &a.steps, &why)?;
            if steps.is_empty() {
                cx.error(&path("steps"), "needs at least one { at, rate } step");
            }
            for (i, w) in steps.windows(2).enumerate() {
                if w[1].at.0 <= w[0].at.0 {
                    cx.error(&format!("{base}.steps[{}].at", i + 1), "steps must be in increasing time order");
                }
            }
            if steps.iter().all(|s| s.rate.0 == 0.0) && !steps.is_empty() {
                cx.error(&path("steps"), "every step has rate 0: the swarm sends nothing");
            }
            let s: Vec<(f64, f64)> = steps.iter().map(|s| (s.at.0.as_secs_f64(), s.rate.0)).collect();
            open(RateProfile::steps(&s))
        }
        _ => {
            let users = cx.required(&path("users"), &a.users, &why)?;
            let users = cx.int(&path("users"), Some(users), 1, 1);
            let think = cx.required(&path("think"), &a.think, &why)?;
            let think = resolve_dist(cx, &path("think"), &think)?;
            Some(ArrivalSpec::Closed(ClosedLoop { users, think }))
        }
    }
}

fn resolve_swarm(
    cx: &mut Ctx<'_>,
    name: &str,
    s: &RawSwarm,
    classes: &BTreeMap<String, RawClass>,
    strategies: &BTreeMap<String, RawStrategy>,
) -> SwarmSpec {
    let base = format!("swarm.{name}");
    let mut mix = Vec::new();
    match (&s.class, &s.mix) {
        (Some(c), None) => {
            if let Some(i) = cx.reference(&format!("{base}.class"), "class", c, classes) {
                mix.push((i, 1.0));
            }
        }
        (None, Some(m)) => {
            let mut total = 0.0;
            for (cname, p) in m {
                let path = format!("{base}.mix.{cname}");
                if !(*p > 0.0 && *p <= 1.0) {
                    cx.error(&path, format!("a probability must be in (0, 1], got {p}"));
                }
                total += p;
                if let Some(i) = cx.reference(&path, "class", cname, classes) {
                    mix.push((i, total));
                }
            }
            if (total - 1.0).abs() > 1e-6 {
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
    let arrivals = resolve_arrivals(cx, &format!("{base}.arrivals"), &s.arrivals)
        .unwrap_or(ArrivalSpec::Open { profile: RateProfile::constant(0.0), spacing: Spacing::Poisson });
    let surges = surge_windows(&s.arrivals);
    let bulk = s.bulk.as_ref().map(|b| {
        let bp = |k: &str| format!("{base}.bulk.{k}");
        let images = cx.int(&bp("images"), Some(b.images), 1, 1);
        let parallelism = cx.int(&bp("parallelism"), b.parallelism, 1, 1);
        let on_failure = match b.on_failure.as_deref() {
            None => OnFailure::Continue,
            Some(v) => match cx.choice(&bp("on_failure"), v, &["continue", "abort"]) {
                Some(1) => OnFailure::Abort,
                _ => OnFailure::Continue,
            },
        };
        BulkSpec { images, parallelism, on_failure }
    });
    let timeout = s.timeout.and_then(|t| t.0);
    if timeout.is_some_and(SimDuration::is_zero) {
        cx.error_help(
            &format!("{base}.timeout"),
            "must be greater than zero",
            "leave it out (or write \"off\") for no client timeout",
        );
    }
    let strategy_name = s.strategy.as_deref().unwrap_or(BUILTIN_NONE);
    let strategy = cx.reference(&format!("{base}.strategy"), "strategy", strategy_name, strategies).unwrap_or(0);
    SwarmSpec { name: name.to_string(), id: name_id(name), mix, arrivals, bulk, timeout, strategy, surges }
}

/// Where an arrival profile rises: a spike's window, a rising ramp's window.
fn surge_windows(a: &RawArrivals) -> Vec<(SimTime, SimTime, &'static str)> {
    let at = |d: Option<super::units::Dur>| SimTime::ZERO + d.map_or(SimDuration::ZERO, |d| d.0);
    match (a.process.as_str(), a.length) {
        ("spike", Some(len)) => vec![(at(a.start), at(a.start) + len.0, "spike")],
        ("ramp", Some(len)) if a.to.map(|r| r.0) > a.from.map(|r| r.0) => {
            vec![(at(a.start), at(a.start) + len.0, "ramp")]
        }
        _ => Vec::new(),
    }
}

const CHAOS_KINDS: [&str; 5] = ["kill", "stall", "slow", "maintenance", "traffic"];

fn resolve_chaos(
    cx: &mut Ctx<'_>,
    i: usize,
    c: &RawChaos,
    pools: &BTreeMap<String, RawPool>,
    swarms: &BTreeMap<String, RawSwarm>,
    end: SimTime,
) -> Option<ChaosEvent> {
    let base = format!("chaos[{i}]");
    let path = |k: &str| format!("{base}.{k}");
    let kind = cx.choice(&path("kind"), &c.kind, &CHAOS_KINDS)?;
    let why = format!("for kind = \"{}\"", c.kind);
    let wants = |k: &str| match k {
        "duration" => kind != 0,
        "pool" => kind != 4,
        "swarm" => kind == 4,
        "count" => kind == 0,
        "factor" => kind == 2 || kind == 4,
        _ => false,
    };
    let present = [
        ("duration", c.duration.is_some()),
        ("pool", c.pool.is_some()),
        ("swarm", c.swarm.is_some()),
        ("count", c.count.is_some()),
        ("factor", c.factor.is_some()),
    ];
    let stray: Vec<(&str, bool)> = present.into_iter().filter(|(k, _)| !wants(k)).collect();
    cx.not_for(&base, "kind", &c.kind, &stray);
    let at = SimTime::ZERO + c.at.0;
    if at >= end {
        cx.error(&path("at"), format!("({}) is at or after the end of the run ({})", c.at.0, end - SimTime::ZERO));
    }
    let duration = if kind == 0 {
        None
    } else {
        let d = cx.required(&path("duration"), &c.duration, &why)?.0;
        Some(cx.positive(&path("duration"), d))
    };
    let factor = |cx: &mut Ctx<'_>| {
        let f = cx.required(&path("factor"), &c.factor, &why)?;
        if !(f > 0.0 && f.is_finite()) {
            cx.error(&path("factor"), format!("must be greater than zero, got {f}"));
        }
        Some(f)
    };
    let action = if kind == 4 {
        let s = cx.required(&path("swarm"), &c.swarm, &why)?;
        let swarm = cx.reference(&path("swarm"), "swarm", &s, swarms)?;
        ChaosAction::Traffic { swarm, factor: factor(cx)? }
    } else {
        let p = cx.required(&path("pool"), &c.pool, &why)?;
        let pool = cx.reference(&path("pool"), "pool", &p, pools)?;
        match kind {
            0 => {
                let count = cx.required(&path("count"), &c.count, &why)?;
                ChaosAction::Kill { pool, count: cx.int(&path("count"), Some(count), 1, 1) }
            }
            1 => ChaosAction::Stall { pool },
            2 => ChaosAction::Slow { pool, factor: factor(cx)? },
            _ => ChaosAction::Maintenance { pool },
        }
    };
    Some(ChaosEvent { at, duration, action })
}

fn resolve_compare(
    cx: &mut Ctx<'_>,
    c: &RawCompare,
    strategies: &BTreeMap<String, RawStrategy>,
    swarm_names: &BTreeMap<String, RawSwarm>,
) -> CompareSpec {
    let list: Vec<usize> = c
        .strategies
        .iter()
        .flatten()
        .enumerate()
        .filter_map(|(i, s)| cx.reference(&format!("compare.strategies[{i}]"), "strategy", s, strategies))
        .collect();
    let baseline = c.baseline.as_ref().and_then(|b| cx.reference("compare.baseline", "strategy", b, strategies));
    if let Some(b) = baseline
        && !list.is_empty()
        && !list.contains(&b)
    {
        cx.error("compare.baseline", "must be one of compare.strategies");
    }
    let seeds = c.seeds.map(|_| cx.int("compare.seeds", c.seeds, 1, 2));
    let swarms = c
        .swarms
        .iter()
        .flatten()
        .enumerate()
        .filter_map(|(i, s)| cx.reference(&format!("compare.swarms[{i}]"), "swarm", s, swarm_names))
        .collect();
    let objective = c.objective.as_ref().and_then(|o| match crate::compare::objective::parse(o) {
        Ok(o) => Some(o),
        Err(e) => {
            cx.error("compare.objective", e);
            None
        }
    });
    CompareSpec { strategies: list, baseline, seeds, swarms, objective }
}
