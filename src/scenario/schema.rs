//! The scenario format as data: one description of every key, from which
//! `stampede schema` prints a JSON Schema for editors.
//!
//! The description is checked against the parser, not kept in step by hand: a
//! test asks the deserializer which keys each table accepts (its message for
//! an unknown key lists them) and compares them with the description, both
//! ways, and checks that docs/scenario-format.md names every key.

use serde_json::{Map, Value, json};

use super::limits;
use super::resolve::{
    CHAOS_KINDS, CURVES, DIRECTORS, DISCIPLINES, DISTS, JITTERS, KINDS, ON_FAILURE, POPULARITIES, PROCESSES,
    SCALE_METRICS, SPACINGS,
};
use crate::model::outcome::OutcomeSet;
use crate::suggest::names;

/// The type of a key's value.
#[derive(Debug, Clone, Copy)]
pub enum Ty {
    Duration,
    Timeout,
    Rate,
    /// A size in bytes ("32KB").
    Bytes,
    /// An integer in `min..=max`.
    Int(i64, i64),
    /// A number within these bounds.
    Number(Bounds),
    /// A number in [0, 1).
    Fraction,
    /// A share in [0, 1].
    Share,
    /// An HTTP status the backend may answer with.
    Status(&'static [i64]),
    Bool,
    Str,
    /// One of these names.
    Choice(&'static [&'static str]),
    /// One outcome name, or a list of them.
    Outcomes,
    /// A name that refers to a section (a pool, a class, …).
    Name(&'static str),
    /// A list of names of a section.
    Names(&'static str),
    /// `[low, high]` durations.
    Ranges,
    /// `[load, factor]` pairs.
    Points,
    /// A table of class name → share.
    Shares,
    /// A table of tier name → queue length.
    TierLimits,
    /// A list of conditions such as "max success_rate".
    Criteria,
    Table(&'static [Key]),
    /// Named entries, each a table.
    Named(&'static [Key]),
    /// A list of tables.
    List(&'static [Key]),
    /// Metric name → condition.
    Conditions,
}

/// The range of a number key: each end closed or open, `hi` infinite for none.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Bounds {
    pub lo: f64,
    pub lo_closed: bool,
    pub hi: f64,
    pub hi_closed: bool,
}

/// (lo, ∞)
const fn above(lo: f64) -> Ty {
    Ty::Number(Bounds { lo, lo_closed: false, hi: f64::INFINITY, hi_closed: false })
}

/// [lo, ∞)
const fn at_least(lo: f64) -> Ty {
    Ty::Number(Bounds { lo, lo_closed: true, hi: f64::INFINITY, hi_closed: false })
}

/// (lo, hi]
const fn above_up_to(lo: f64, hi: f64) -> Ty {
    Ty::Number(Bounds { lo, lo_closed: false, hi, hi_closed: true })
}

/// [lo, hi]
const fn within(lo: f64, hi: f64) -> Ty {
    Ty::Number(Bounds { lo, lo_closed: true, hi, hi_closed: true })
}

impl Ty {
    /// The range of a number key, whatever its kind.
    pub fn bounds(self) -> Option<Bounds> {
        match self {
            Ty::Number(b) => Some(b),
            Ty::Fraction => Some(Bounds { lo: 0.0, lo_closed: true, hi: 1.0, hi_closed: false }),
            Ty::Share => Some(Bounds { lo: 0.0, lo_closed: true, hi: 1.0, hi_closed: true }),
            _ => None,
        }
    }
}

/// One key of a table.
#[derive(Debug, Clone, Copy)]
pub struct Key {
    pub name: &'static str,
    pub ty: Ty,
    pub required: bool,
    pub doc: &'static str,
}

const fn k(name: &'static str, ty: Ty, doc: &'static str) -> Key {
    Key { name, ty, required: false, doc }
}

const fn req(name: &'static str, ty: Ty, doc: &'static str) -> Key {
    Key { name, ty, required: true, doc }
}

const U32: i64 = u32::MAX as i64;
const INSTANCES: i64 = limits::MAX_INSTANCES as i64;
const ATTEMPTS: i64 = limits::MAX_ATTEMPTS as i64;
const IMAGES: i64 = limits::MAX_IMAGES as i64;

const META: &[Key] = &[
    req("name", Ty::Str, "names the report directory; letters, digits, '-', '_', '.'; at most 100 characters"),
    k("description", Ty::Str, "its first line is printed above the summary"),
    req("duration", Ty::Duration, "simulated time"),
    k("warmup", Ty::Duration, "requests offered before this are left out of every statistic"),
    k("seed", Ty::Int(0, i64::MAX), "root of every random stream"),
    k("window", Ty::Duration, "width of one time-series row (default 10s)"),
    k(
        "tiers",
        Ty::Names("tier"),
        "priority tiers, highest first (default critical_plus, critical, sheddable_plus, sheddable)",
    ),
];

const PROBE: &[Key] = &[
    k("interval", Ty::Duration, "time between probes of one instance (default 5s, at least 10ms)"),
    k("timeout", Ty::Duration, "a probe without an answer counts as bad after this (default 2s)"),
    k("window", Ty::Int(1, 64), "how many recent probes are remembered (default 8)"),
    k("threshold", Ty::Int(1, 64), "healthy while at least this many of them were good (default 3)"),
    k("initial", Ty::Int(0, 64), "good probes assumed at registration (default threshold - 1)"),
];

const PROXY: &[Key] = &[
    k("connect_timeout", Ty::Timeout, "a connect to a dead host fails after this (default 3.5s)"),
    k("first_byte_timeout", Ty::Timeout, "from sending the request to the first response byte (default 60s)"),
    k("between_bytes_timeout", Ty::Timeout, "longest gap between chunks of a streamed response (default 60s)"),
    k("max_connections", Ty::Int(1, U32), "per backend instance; beyond it a fetch fails at once as busy"),
    k("wait_limit", Ty::Int(0, U32), "Varnish 7.6 wait queue length (with wait_timeout and max_connections)"),
    k("wait_timeout", Ty::Duration, "longest wait in the wait queue"),
    k("director", Ty::Choice(&names(&DIRECTORS)), "how an instance is chosen (default round_robin)"),
    k("max_sessions", Ty::Int(1, U32), "concurrent client connections"),
    k("retry_on", Ty::Outcomes, "503 causes VCL retries (\"503\" for all)"),
    k("max_retries", Ty::Int(0, ATTEMPTS), "VCL retries per client attempt (default 4)"),
    k("probe", Ty::Table(PROBE), "health probes; the table's presence turns them on"),
    k("http_resp_hdr_len", Ty::Bytes, "longest response header line the workspace takes (default 8KB)"),
    k("http_resp_size", Ty::Bytes, "most response header bytes the workspace takes (default 32KB)"),
    k("cache", Ty::Table(PROXY_CACHE), "cache storage and waiting lists (classes turn caching on)"),
];

const PROXY_CACHE: &[Key] = &[
    k("capacity", Ty::Bytes, "storage in bytes, LRU eviction (default 100MB, at most 4GB)"),
    k("rush_exponent", Ty::Int(2, limits::MAX_RUSH_EXPONENT as i64), "waiters woken per served request (default 3)"),
];

const CLASS_CACHE: &[Key] = &[
    k("objects", Ty::Int(1, limits::MAX_OBJECTS as i64), "distinct objects; required unless unique"),
    k("popularity", Ty::Choice(&names(&POPULARITIES)), "zipf, uniform or unique (default zipf)"),
    k("zipf_s", above(0.0), "the Zipf exponent s (default 1)"),
    k("cacheable", Ty::Share, "share of objects whose responses may be stored, in [0, 1] (default 1)"),
    req("size", Ty::Bytes, "response body bytes"),
    k("ttl", Ty::Duration, "fresh for this long (default 120s)"),
    k("grace", Ty::Duration, "then served stale for this long while one fetch refreshes it (default 10s)"),
    k("hit_for_miss", Ty::Duration, "an uncacheable response makes its object hit-for-miss this long (default 120s)"),
];

const AUTOSCALER: &[Key] = &[
    k("metric", Ty::Choice(&names(&SCALE_METRICS)), "what the autoscaler steers (default utilization)"),
    req("target", above(0.0), "the value to steer to (at most 1 for utilization)"),
    k("interval", Ty::Duration, "time between evaluations (default 30s, at least 1s)"),
    k("max_step_up", Ty::Int(1, INSTANCES), "most instances started per evaluation (default 4)"),
    k("max_step_down", Ty::Int(1, INSTANCES), "most instances retired per evaluation (default 1)"),
    k("cooldown", Ty::Duration, "no scale-down until this long after the last scaling (default 5m)"),
    k("tolerance", Ty::Fraction, "no change while metric/target is within 1 ± tolerance (default 0.1)"),
];

const LOAD: &[Key] = &[
    req("curve", Ty::Choice(&CURVES), "knee, linear or table: how service slows with the instance's load"),
    k("knee", Ty::Int(0, U32), "knee, linear: jobs at full speed (default 0)"),
    k("factor", at_least(1.0), "knee: service-time multiplier above the knee"),
    k("slope", at_least(0.0), "linear: factor added per job above the knee"),
    k("points", Ty::Points, "table: [load, factor] pairs, loads increasing, interpolated linearly"),
    k("count_queued", Ty::Bool, "queued jobs count in the load too (default false: jobs in service only)"),
];

const POOL: &[Key] = &[
    k("slots", Ty::Int(1, limits::MAX_SLOTS as i64), "jobs one instance runs at once (default 1)"),
    k("queue_limit", Ty::Int(0, U32), "jobs one instance queues beyond its slots (default unlimited)"),
    k("queue_full_status", Ty::Status(&[503, 429]), "the backend's answer when its queue is full (default 503)"),
    k("retry_after", Ty::Duration, "Retry-After on the backend's own 503/429"),
    k("min_instances", Ty::Int(0, INSTANCES), "the autoscaler's floor (default 1)"),
    k("max_instances", Ty::Int(1, INSTANCES), "the autoscaler's ceiling"),
    k("initial_instances", Ty::Int(0, INSTANCES), "instances ready at t = 0 (default min_instances)"),
    k("cold_start", Ty::Duration, "from a scale-up decision until the instance serves; required with an autoscaler"),
    k("cancel_on_abandon", Ty::Bool, "the backend stops a job when the proxy gives up on it (default false)"),
    k("deregister_delay", Ty::Duration, "a killed instance stays in the proxy's list this long (default 30s)"),
    k("autoscaler", Ty::Table(AUTOSCALER), "without it the pool keeps its initial size"),
    k("price_per_hour", at_least(0.0), "what one instance costs per hour, for reports in money (default none)"),
    k("load", Ty::Table(LOAD), "load-dependent service; without it speed never depends on load"),
    k("queue_discipline", Ty::Choice(&DISCIPLINES), "which queued job a freed slot takes (default fifo)"),
    k(
        "max_queue_wait",
        Ty::Duration,
        "queued jobs that waited longer are dropped as if the queue were full (default never)",
    ),
    k("lifo_after", Ty::Duration, "adaptive_lifo: LIFO once the oldest queued job waited this long (default 100ms)"),
    k("tier_priority", Ty::Bool, "a freed slot takes the highest tier's queued job first (default false)"),
    k("tier_shed_at", Ty::TierLimits, "tier → queue length at which its jobs are refused (default none)"),
];

const DIST: &[Key] = &[
    req("dist", Ty::Choice(&DISTS), "the distribution"),
    k("value", Ty::Duration, "constant: the value"),
    k("mean", Ty::Duration, "exponential, gamma: the mean"),
    k("low", Ty::Duration, "uniform: the low end"),
    k("high", Ty::Duration, "uniform: the high end"),
    k("median", Ty::Duration, "lognormal: the median"),
    k("p99", Ty::Duration, "lognormal: the 99th percentile"),
    k("cv", above_up_to(0.0, limits::MAX_GAMMA_CV), "gamma: coefficient of variation, at most 10"),
];

const CLASS: &[Key] = &[
    req("pool", Ty::Name("pool"), "the pool that serves this class"),
    req("service", Ty::Table(DIST), "GPU time of one job"),
    k("chunks", Ty::Int(1, limits::MAX_CHUNKS as i64), "the response arrives in this many chunks (default 1)"),
    k("headers", Ty::Bytes, "response header bytes (default 512B)"),
    k("largest_header", Ty::Bytes, "the longest response header line (default: headers)"),
    k("cache", Ty::Table(CLASS_CACHE), "the proxy caches this class; without it every request is passed"),
];

const BUDGET: &[Key] = &[
    k("ttl", Ty::Duration, "how long a deposit lasts, whole seconds (default 10s; Finagle, tower)"),
    k("min_per_sec", Ty::Int(0, U32), "retries per second allowed whatever the traffic (default 10)"),
    k("percent", within(0.0, 1000.0), "retries earned per request, as a fraction (default 0.2)"),
];

const THROTTLE: &[Key] = &[
    k("max_tokens", Ty::Int(1, 1000), "bucket size; retries stop at half of it (default 10; gRPC)"),
    k("token_ratio", Ty::Share, "tokens a success returns (default 0.1)"),
];

const ADAPTIVE: &[Key] = &[
    k("k", at_least(1.0), "accepts multiplier K, at least 1 (default 2; Google SRE)"),
    k("window", Ty::Duration, "history the counts cover (default 2m)"),
];

const BREAKER: &[Key] = &[
    k(
        "failure_ratio",
        above_up_to(0.0, 1.0),
        "opens when failed / attempts reaches this, in (0, 1] (default 0.1; Polly v8)",
    ),
    k("min_throughput", Ty::Int(1, U32), "attempts in the window before it may open (default 100)"),
    k("sampling", Ty::Duration, "window the ratio is measured over (default 30s)"),
    k("break_duration", Ty::Duration, "how long it stays open (default 5s)"),
    k("half_open_calls", Ty::Int(1, U32), "trial attempts before it closes (default 1)"),
];

const STRATEGY: &[Key] = &[
    req("kind", Ty::Choice(&KINDS), "the retry strategy"),
    k("max_attempts", Ty::Int(1, ATTEMPTS), "attempts in all, the first included"),
    k("retry_on", Ty::Outcomes, "outcomes that are retried"),
    k("honor_retry_after", Ty::Bool, "wait at least the response's Retry-After (default false)"),
    k("delay", Ty::Duration, "fixed: the wait before every retry"),
    k("base", Ty::Duration, "exponential: the first wait (at least 1ms)"),
    k("multiplier", at_least(1.0), "exponential: growth per retry, at least 1 (default 2)"),
    k("cap", Ty::Duration, "exponential: the longest wait"),
    k("jitter", Ty::Choice(&names(&JITTERS)), "exponential: jitter (default none)"),
    k("ranges", Ty::Ranges, "stepped: retry n waits uniform(low_n, high_n); the last range repeats"),
    k("deadline", Ty::Duration, "overall deadline per request across its attempts (default none)"),
    k("hedge_after", Ty::Duration, "send another attempt when one has gone this long unanswered (default none)"),
    k("budget", Ty::Table(BUDGET), "retry budget; the table's presence turns it on"),
    k("throttle", Ty::Table(THROTTLE), "gRPC retry throttling; the table's presence turns it on"),
    k("adaptive", Ty::Table(ADAPTIVE), "client-side adaptive throttling; the table's presence turns it on"),
    k("breaker", Ty::Table(BREAKER), "circuit breaker; the table's presence turns it on"),
];

const STEP: &[Key] = &[req("at", Ty::Duration, "when the step starts"), req("rate", Ty::Rate, "the rate from then on")];

const ARRIVALS: &[Key] = &[
    req("process", Ty::Choice(&PROCESSES), "the arrival process"),
    k("spacing", Ty::Choice(&names(&SPACINGS)), "ramp, spike, steps: random or evenly spaced arrivals"),
    k("rate", Ty::Rate, "poisson, constant: the rate"),
    k("from", Ty::Rate, "ramp: the starting rate"),
    k("to", Ty::Rate, "ramp: the final rate"),
    k("base", Ty::Rate, "spike: the rate outside the spike"),
    k("peak", Ty::Rate, "spike: the rate during the spike"),
    k("start", Ty::Duration, "ramp, spike: when it starts"),
    k("length", Ty::Duration, "ramp, spike: how long it lasts"),
    k("steps", Ty::List(STEP), "steps: piecewise-constant rates"),
    k("users", Ty::Int(1, limits::MAX_USERS as i64), "closed: the number of users"),
    k("think", Ty::Table(DIST), "closed: think time between requests"),
];

const BULK: &[Key] = &[
    req("images", Ty::Int(1, IMAGES), "requests in one job"),
    k("parallelism", Ty::Int(1, IMAGES), "images in flight at once (default 1)"),
    k("on_failure", Ty::Choice(&names(&ON_FAILURE)), "after an image failed for good (default continue)"),
];

const SWARM: &[Key] = &[
    k("class", Ty::Name("class"), "every request is of this class (or give mix)"),
    k("mix", Ty::Shares, "class name → share; shares add up to 1"),
    req("arrivals", Ty::Table(ARRIVALS), "the arrival process"),
    k("bulk", Ty::Table(BULK), "each arrival is a bulk job"),
    k("timeout", Ty::Timeout, "per-attempt client timeout"),
    k("strategy", Ty::Name("strategy"), "the retry strategy (default none)"),
    k("rate_limit", Ty::Rate, "the proxy answers this swarm 429 with Retry-After beyond this rate (default none)"),
    k("rate_limit_burst", Ty::Int(1, 1_000_000), "requests allowed at once after a quiet spell (default 1)"),
    k("tier", Ty::Name("tier"), "its priority tier (default critical, or the first of scenario.tiers)"),
    k(
        "patience",
        Ty::Duration,
        "mean of an exponential patience: an attempt still queued at the backend after it is abandoned (default none)",
    ),
];

const CHAOS: &[Key] = &[
    req("kind", Ty::Choice(&CHAOS_KINDS), "what happens"),
    req("at", Ty::Duration, "when it starts"),
    k("duration", Ty::Duration, "how long it lasts (all but kill)"),
    k("pool", Ty::Name("pool"), "every kind but traffic: the pool it hits"),
    k("swarm", Ty::Name("swarm"), "traffic: the swarm whose traffic changes"),
    k("count", Ty::Int(1, INSTANCES), "kill: ready instances that die"),
    k("factor", above(0.0), "slow: times slower; traffic: rate or users multiplied"),
    k("share", Ty::Share, "errors, connect_failures, flap: the share of requests (probes) hit, in [0, 1]"),
    k("status", Ty::Status(&[500, 502, 503]), "errors: the status answered, 500, 502 or 503"),
    k("added", Ty::Duration, "latency: added before the first byte"),
    k("jitter", Ty::Duration, "latency: ± uniform around added (default 0)"),
];

const COMPARE: &[Key] = &[
    k("strategies", Ty::Names("strategy"), "the strategies to compare"),
    k("baseline", Ty::Name("strategy"), "differences are measured against it"),
    k("seeds", Ty::Int(2, limits::MAX_SEEDS as i64), "replications per strategy (default 10)"),
    k("swarms", Ty::Names("swarm"), "swarms that take the compared strategy"),
    k("objective", Ty::Criteria, "ranking criteria such as \"max bulk_success_rate\""),
];

/// The whole file.
pub const SCENARIO: &[Key] = &[
    req("scenario", Ty::Table(META), "the experiment"),
    k("proxy", Ty::Table(PROXY), "the Varnish-like reverse proxy"),
    req("pool", Ty::Named(POOL), "GPU pools by name"),
    req("class", Ty::Named(CLASS), "job classes by name"),
    k("strategy", Ty::Named(STRATEGY), "client retry strategies by name"),
    req("swarm", Ty::Named(SWARM), "client swarms by name"),
    k("chaos", Ty::List(CHAOS), "fault and traffic events"),
    k("slo", Ty::Conditions, "thresholds: metric = \"< value\""),
    k("compare", Ty::Table(COMPARE), "defaults for stampede compare"),
];

/// Each unit at most once, largest first, as `units::parse_duration` reads
/// them (spaces around the whole are trimmed there too).
const DURATION_PATTERN: &str = concat!(
    r"^\s*(0|(?=[0-9])",
    r"([0-9]+(\.[0-9]+)?d ?)?([0-9]+(\.[0-9]+)?h ?)?([0-9]+(\.[0-9]+)?m ?)?([0-9]+(\.[0-9]+)?s ?)?",
    r"([0-9]+(\.[0-9]+)?ms ?)?([0-9]+(\.[0-9]+)?(us|µs) ?)?([0-9]+(\.[0-9]+)?ns)?)\s*$"
);
const RATE_PATTERN: &str = r"^[0-9.eE+-]+/(s|m|min|h)$";
const BYTES_PATTERN: &str = r"^[0-9]+(\.[0-9]+)?(B|KB|MB|GB|TB)$";

/// The JSON Schema (draft-07) of the scenario format.
pub fn json_schema() -> Value {
    let mut root = table(SCENARIO, "A stampede scenario: docs/scenario-format.md");
    let obj = root.as_object_mut().expect("a table is an object");
    obj.insert("$schema".into(), json!("http://json-schema.org/draft-07/schema#"));
    obj.insert("title".into(), json!("stampede scenario"));
    root
}

fn table(keys: &[Key], doc: &str) -> Value {
    let mut props = Map::new();
    for key in keys {
        let mut v = value(key.ty);
        if let Some(o) = v.as_object_mut() {
            o.insert("description".into(), json!(key.doc));
        }
        props.insert(key.name.into(), v);
    }
    let required: Vec<&str> = keys.iter().filter(|k| k.required).map(|k| k.name).collect();
    json!({ "type": "object", "description": doc, "properties": props, "required": required, "additionalProperties": false })
}

fn value(ty: Ty) -> Value {
    match ty {
        Ty::Duration => json!({ "type": "string", "pattern": DURATION_PATTERN, "examples": ["250ms", "90s", "2m30s"] }),
        Ty::Timeout => json!({ "anyOf": [value(Ty::Duration), { "const": "off" }] }),
        Ty::Rate => json!({ "type": "string", "pattern": RATE_PATTERN, "examples": ["12/s", "300/min"] }),
        Ty::Bytes => json!({ "type": "string", "pattern": BYTES_PATTERN, "examples": ["512B", "32KB", "1.5MB"] }),
        Ty::Int(min, max) => json!({ "type": "integer", "minimum": min, "maximum": max }),
        Ty::Number(b) => {
            let mut v = json!({ "type": "number" });
            let o = v.as_object_mut().expect("an object");
            o.insert((if b.lo_closed { "minimum" } else { "exclusiveMinimum" }).into(), json!(b.lo));
            if b.hi.is_finite() {
                o.insert((if b.hi_closed { "maximum" } else { "exclusiveMaximum" }).into(), json!(b.hi));
            }
            v
        }
        Ty::Fraction => json!({ "type": "number", "minimum": 0, "exclusiveMaximum": 1 }),
        Ty::Share => json!({ "type": "number", "minimum": 0, "maximum": 1 }),
        Ty::Status(codes) => json!({ "type": "integer", "enum": codes }),
        Ty::Bool => json!({ "type": "boolean" }),
        Ty::Str | Ty::Name(_) => json!({ "type": "string" }),
        Ty::Choice(names) => json!({ "type": "string", "enum": names }),
        Ty::Outcomes => {
            let names = OutcomeSet::entry_names();
            json!({ "anyOf": [{ "type": "string", "enum": names }, { "type": "array", "items": { "type": "string", "enum": names } }] })
        }
        Ty::Names(_) | Ty::Criteria => json!({ "type": "array", "items": { "type": "string" } }),
        Ty::Ranges => {
            json!({ "type": "array", "minItems": 1, "items": { "type": "array", "items": value(Ty::Duration), "minItems": 2, "maxItems": 2 } })
        }
        Ty::Points => {
            json!({ "type": "array", "minItems": 1, "items": { "type": "array", "items": { "type": "number", "minimum": 0 }, "minItems": 2, "maxItems": 2 } })
        }
        Ty::Shares => {
            json!({ "type": "object", "additionalProperties": { "type": "number", "exclusiveMinimum": 0, "maximum": 1 } })
        }
        Ty::TierLimits => {
            json!({ "type": "object", "additionalProperties": { "type": "integer", "minimum": 0, "maximum": U32 } })
        }
        Ty::Table(keys) => table(keys, ""),
        Ty::Named(keys) => json!({ "type": "object", "additionalProperties": table(keys, "") }),
        Ty::List(keys) => json!({ "type": "array", "items": table(keys, "") }),
        Ty::Conditions => {
            let condition = json!({ "type": "string", "pattern": "^\\s*(<|<=|>|>=)" });
            // `swarm.<name>.<metric>` and `tier.<name>.<metric>` written as
            // bare dotted keys are tables in TOML; quoted, they are strings.
            let per_name = json!({ "type": "object", "additionalProperties": {
                "type": "object", "additionalProperties": condition } });
            json!({
                "type": "object",
                "properties": { "swarm": per_name, "tier": per_name },
                "additionalProperties": condition,
            })
        }
    }
}

/// Every table of the format as a TOML header path (`pool.x.autoscaler`,
/// `[[chaos]]`), with its keys: what the drift test probes.
pub fn tables() -> Vec<(String, bool, &'static [Key])> {
    let mut out = vec![(String::new(), false, SCENARIO)];
    walk(SCENARIO, "", &mut out);
    out
}

fn walk(keys: &'static [Key], prefix: &str, out: &mut Vec<(String, bool, &'static [Key])>) {
    for key in keys {
        let path = if prefix.is_empty() { key.name.to_string() } else { format!("{prefix}.{}", key.name) };
        let (path, list, inner) = match key.ty {
            Ty::Table(t) => (path, false, t),
            Ty::Named(t) => (format!("{path}.x"), false, t),
            Ty::List(t) => (path, true, t),
            _ => continue,
        };
        out.push((path.clone(), list, inner));
        walk(inner, &path, out);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scenario::Scenario;
    use crate::scenario::raw::RawScenario;

    /// The keys the deserializer accepts in the table at `path`, from its
    /// message about an unknown key.
    fn accepted(path: &str, list: bool) -> Vec<String> {
        let doc = match (path.is_empty(), list) {
            (true, _) => "zz_unknown = 1\n".to_string(),
            (false, true) => format!("[[{path}]]\nzz_unknown = 1\n"),
            (false, false) => format!("[{path}]\nzz_unknown = 1\n"),
        };
        let e = toml_edit::de::from_str::<RawScenario>(&doc).expect_err(&doc).message().to_string();
        assert!(e.starts_with("unknown field `zz_unknown`"), "{path}: {e}");
        let mut names: Vec<String> = e.split('`').skip(3).step_by(2).map(String::from).collect();
        names.sort();
        names
    }

    #[test]
    fn the_schema_lists_exactly_the_keys_the_parser_accepts() {
        for (path, list, keys) in tables() {
            let mut described: Vec<String> = keys.iter().map(|k| k.name.to_string()).collect();
            described.sort();
            assert_eq!(described, accepted(&path, list), "table `{path}`");
        }
    }

    #[test]
    fn every_key_is_documented() {
        let doc = std::fs::read_to_string("docs/scenario-format.md").expect("docs");
        for (path, _, keys) in tables() {
            for key in keys {
                // Keys in backticks, sections by their header (`[pool.<name>]`, `[proxy.probe]`).
                let forms = [format!("`{}`", key.name), format!("[{}", key.name), format!(".{}]", key.name)];
                let shown = if path.is_empty() { &forms[1..2] } else { &forms[..] };
                assert!(shown.iter().any(|f| doc.contains(f)), "docs/scenario-format.md lacks {shown:?} ({path})");
            }
        }
    }

    #[test]
    fn the_schema_is_draft_07_json_with_limits_from_the_code() {
        let s = json_schema();
        assert_eq!(s["$schema"], "http://json-schema.org/draft-07/schema#");
        let slots = &s["properties"]["pool"]["additionalProperties"]["properties"]["slots"];
        assert_eq!(slots["maximum"], limits::MAX_SLOTS);
        assert_eq!(s["required"], json!(["scenario", "pool", "class", "swarm"]));
    }

    /// A scenario whose table `[pool.x]` has `pool_line`, followed by `extra`.
    fn probe_file(pool_line: &str, extra: &str) -> String {
        format!(
            "[scenario]\nname = \"t\"\nduration = \"10m\"\n[pool.x]\nmax_instances = 4\ncold_start = \"1m\"\n{pool_line}\n\
             [class.x]\npool = \"x\"\nservice = {{ dist = \"exponential\", mean = \"1s\" }}\n\
             [swarm.x]\nclass = \"x\"\narrivals = {{ process = \"poisson\", rate = \"1/s\" }}\n{extra}\n"
        )
    }

    /// Every number key's range in the schema is the one the resolver
    /// enforces: each end is probed on both sides, in a file where the key
    /// applies. `{v}` marks where the value goes.
    #[test]
    fn number_bounds_in_the_schema_are_the_resolvers() {
        let class = "[class.y]\npool = \"x\"\nservice = { dist = \"exponential\", mean = \"1s\" }\n[class.y.cache]\n\
                     size = \"1KB\"\nobjects = 10\n";
        let strategy = "[strategy.y]\nkind = \"exponential\"\nbase = \"1s\"\ncap = \"1m\"\n";
        let chaos = "[[chaos]]\nat = \"1m\"\nduration = \"1m\"\npool = \"x\"\n";
        let cases: Vec<(&str, &str, String)> = vec![
            ("pool.x", "price_per_hour", probe_file("price_per_hour = {v}", "")),
            ("pool.x.autoscaler", "target", probe_file("", "[pool.x.autoscaler]\ntarget = {v}")),
            ("pool.x.autoscaler", "tolerance", probe_file("", "[pool.x.autoscaler]\ntarget = 0.5\ntolerance = {v}")),
            ("pool.x.load", "factor", probe_file("", "[pool.x.load]\ncurve = \"knee\"\nknee = 1\nfactor = {v}")),
            ("pool.x.load", "slope", probe_file("", "[pool.x.load]\ncurve = \"linear\"\nslope = {v}")),
            (
                "class.x.service",
                "cv",
                probe_file("", "[class.y]\npool = \"x\"\nservice = { dist = \"gamma\", mean = \"1s\", cv = {v} }"),
            ),
            ("class.x.cache", "zipf_s", probe_file("", &format!("{class}zipf_s = {{v}}"))),
            ("class.x.cache", "cacheable", probe_file("", &format!("{class}cacheable = {{v}}"))),
            ("strategy.x", "multiplier", probe_file("", &format!("{strategy}multiplier = {{v}}"))),
            (
                "strategy.x.budget",
                "percent",
                probe_file("", &format!("{strategy}[strategy.y.budget]\npercent = {{v}}")),
            ),
            (
                "strategy.x.throttle",
                "token_ratio",
                probe_file("", &format!("{strategy}[strategy.y.throttle]\ntoken_ratio = {{v}}")),
            ),
            ("strategy.x.adaptive", "k", probe_file("", &format!("{strategy}[strategy.y.adaptive]\nk = {{v}}"))),
            (
                "strategy.x.breaker",
                "failure_ratio",
                probe_file("", &format!("{strategy}[strategy.y.breaker]\nfailure_ratio = {{v}}")),
            ),
            ("chaos", "factor", probe_file("", &format!("{chaos}kind = \"slow\"\nfactor = {{v}}"))),
            ("chaos", "share", probe_file("", &format!("{chaos}kind = \"errors\"\nstatus = 503\nshare = {{v}}"))),
        ];
        let accepts = |file: &str, v: f64| {
            let text = file.replace("{v}", &format!("{v:?}"));
            Scenario::parse(&text, "t.toml").is_ok()
        };
        let (mut probed, mut seen) = (0, Vec::new());
        for (path, _, keys) in tables() {
            // A table shared by several paths (a service and a think time) once.
            if seen.contains(&keys.as_ptr()) {
                continue;
            }
            seen.push(keys.as_ptr());
            for key in keys {
                let Some(b) = key.ty.bounds() else { continue };
                let (_, _, file) = cases
                    .iter()
                    .find(|(p, k, _)| *p == path && *k == key.name)
                    .unwrap_or_else(|| panic!("no probe for {path}.{}", key.name));
                assert!(accepts(file, (b.lo + b.hi.min(b.lo + 2.0)) / 2.0), "{path}.{}: a middle value", key.name);
                assert_eq!(accepts(file, b.lo), b.lo_closed, "{path}.{} = {}", key.name, b.lo);
                assert!(!accepts(file, b.lo - 1e-3), "{path}.{} below {}", key.name, b.lo);
                assert!(accepts(file, b.lo + 1e-3), "{path}.{} just above {}", key.name, b.lo);
                if b.hi.is_finite() {
                    assert_eq!(accepts(file, b.hi), b.hi_closed, "{path}.{} = {}", key.name, b.hi);
                    assert!(!accepts(file, b.hi + 1e-3), "{path}.{} above {}", key.name, b.hi);
                    assert!(accepts(file, b.hi - 1e-3), "{path}.{} just below {}", key.name, b.hi);
                }
                probed += 1;
            }
        }
        assert_eq!(probed, cases.len(), "every probe is of a number key");
    }

    /// `[slo]` may hold `tier.paid.failure_rate = "< 0.1%"` as a bare dotted
    /// key (scenarios/paid-vs-free.toml does), which TOML reads as nested
    /// tables: the schema takes those as well as plain and quoted keys.
    #[test]
    fn the_schema_takes_per_swarm_and_per_tier_slos_as_nested_tables() {
        let slo = &json_schema()["properties"]["slo"];
        assert_eq!(slo["additionalProperties"]["type"], "string");
        for by in ["swarm", "tier"] {
            let metric = &slo["properties"][by]["additionalProperties"]["additionalProperties"];
            assert_eq!(metric["type"], "string", "{by}.<name>.<metric>");
            assert_eq!(metric["pattern"], slo["additionalProperties"]["pattern"]);
        }
    }
}
