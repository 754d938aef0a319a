//! Documented limits: every scenario that validates runs in bounded memory
//! and time, or is refused here with the limit and the reason.
//!
//! Two kinds of limit. Limits that protect memory are derived from a memory
//! budget and the measured cost of what they count (swarms, closed-loop
//! users, time-series rows, finished runs kept for a report), so the numbers
//! follow the budget rather than a guess. Limits that protect time bound what
//! one run can do without simulated time passing (attempts, VCL retries,
//! chunks, the shortest timers, instances under health probes) and, in
//! [`estimate_events`], the events a whole run will produce. Only the event estimate can be lifted
//! (`--no-limits`); the table of every limit is in docs/scenario-format.md.

use crate::model::chaos::{peak_traffic_factor, traffic_profile};
use crate::scenario::{ArrivalSpec, Scenario};
use crate::time::SimDuration;

use super::resolve::Ctx;

const MIB: u64 = 1 << 20;

/// Memory one simulated run may use for what a scenario sizes.
pub const RUN_MEMORY_BUDGET: u64 = 1024 * MIB;
/// Memory `compare`, `sweep` and `plan` may keep for finished runs.
pub const RESULTS_MEMORY_BUDGET: u64 = 2048 * MIB;

/// Measured cost of one swarm: its random streams, counters and latency
/// histograms (peak RSS of 500 swarms minus 1: 497 KiB each).
pub const BYTES_PER_SWARM: u64 = 512 * 1024;
/// Cost of one closed-loop user with its request queued at a backend: 376
/// bytes measured (peak RSS of 200,000 users), budgeted as 512 for headroom.
pub const BYTES_PER_USER: u64 = 512;

/// Instances per pool (min, initial, max; a kill's count). This protects time,
/// not memory (an instance costs about 100 bytes): a health-probe round costs
/// time quadratic in a pool's instances (measured: 0.33 s of a 10-second run
/// with 10,000 probed instances, 29 s with 100,000).
pub const MAX_INSTANCES: u32 = 10_000;
pub const WHY_MAX_INSTANCES: &str =
    "health probes cost time quadratic in a pool's instances: 0.3 s per round at 10,000 instances, 29 s at 100,000";
/// Swarms per scenario: a quarter of the run budget.
/// Job classes in one scenario: each is a route, a service distribution and
/// per-class counters in every report.
pub const MAX_CLASSES: usize = 512;
/// Steps of one `steps` profile (and so the windows `stampede import` may
/// write, one step each).
pub const MAX_STEPS: usize = 100_000;
/// Bytes of one scenario file: the parsed document takes about a hundred
/// times its text (measured: 3.7 MB of steps, 420 MB peak), so this bounds
/// what reading any file costs, within the 1 GiB a run may size.
pub const MAX_FILE_BYTES: usize = 8 << 20;
/// Keys, list items and tables in one scenario file (each `=`, `,`, `[` and
/// `{` outside strings and comments): the parsed document costs per value,
/// not per byte (measured: 4 million one-digit list items in 8 MiB peaked at
/// 2.36 GB; a 100,000-step profile, 500,000 of these, at 425 MB), so this,
/// checked before parsing, keeps reading any file within the 1 GiB budget.
pub const MAX_VALUES: usize = 1_000_000;

/// The line on which `text` passes [`MAX_VALUES`], if it does: a scan of
/// TOML's separators that skips strings and comments, far cheaper than
/// the parse it guards.
pub fn values_over_limit(text: &str) -> Option<usize> {
    #[derive(PartialEq)]
    enum In {
        Code,
        Comment,
        /// A string and its closing quote run: `"`, `'`, `"""` or `'''`.
        Str(u8, usize),
    }
    let (b, mut i, mut at, mut line, mut values) = (text.as_bytes(), 0, In::Code, 1, 0usize);
    while i < b.len() {
        let c = b[i];
        if c == b'\n' {
            line += 1;
        }
        match at {
            In::Code => match c {
                b'#' => at = In::Comment,
                b'"' | b'\'' => {
                    let long = b[i..].starts_with(&[c, c, c]);
                    at = In::Str(c, if long { 3 } else { 1 });
                    i += if long { 3 } else { 1 };
                    continue;
                }
                b'=' | b',' | b'[' | b'{' => {
                    values += 1;
                    if values > MAX_VALUES {
                        return Some(line);
                    }
                }
                _ => {}
            },
            In::Comment if c == b'\n' => at = In::Code,
            In::Comment => {}
            // A basic string's backslash escapes the next byte (a quote too).
            In::Str(b'"', _) if c == b'\\' => {
                line += usize::from(b.get(i + 1) == Some(&b'\n'));
                i += 1;
            }
            In::Str(q, n) if c == q && b[i..].starts_with(&[q; 3][..n]) => {
                at = In::Code;
                i += n;
                continue;
            }
            In::Str(..) => {}
        }
        i += 1;
    }
    None
}
pub const MAX_SWARMS: usize = (RUN_MEMORY_BUDGET / 4 / BYTES_PER_SWARM) as usize;
/// Users of one closed-loop swarm: a quarter of the run budget.
pub const MAX_USERS: u32 = (RUN_MEMORY_BUDGET / 4 / BYTES_PER_USER) as u32;
pub const WHY_MAX_USERS: &str = "each user keeps a request in flight (about 512 bytes); the limit keeps a swarm within a quarter of the 1 GiB run budget";
/// Jobs that may wait in unlimited backend queues at once: a quarter of the
/// run budget at the cost of a live request.
pub const MAX_BACKLOG: u64 = RUN_MEMORY_BUDGET / 4 / BYTES_PER_USER;
/// Time series of one run: an eighth of the run budget.
pub const TIMESERIES_BUDGET: u64 = RUN_MEMORY_BUDGET / 8;

/// Slots per instance.
pub const MAX_SLOTS: u32 = 1024;
pub const WHY_MAX_SLOTS: &str = "a GPU instance runs a handful of jobs at once; 1024 slots already describe a CPU farm";
/// Images per bulk job, and images in flight per job.
pub const MAX_IMAGES: u32 = 10_000;
pub const WHY_MAX_IMAGES: &str =
    "every image in flight is a live request; 10,000 images per job keep a bulk swarm's live requests bounded";
/// Attempts per request (`max_attempts`) and VCL retries per attempt (`max_retries`).
pub const MAX_ATTEMPTS: u32 = 100;
pub const WHY_MAX_ATTEMPTS: &str = "during an outage every attempt can fail at once, so a request loops this many \
     times without time passing; 100 is far above any published policy (gRPC allows 5, Google SRE 3)";
/// Chunks of one response: each chunk is an event.
pub const MAX_CHUNKS: u32 = 10_000;
pub const WHY_MAX_CHUNKS: &str = "each chunk is one event of the simulation; 10,000 chunks per response is far beyond any \
     streamed image or token stream worth simulating one by one";
/// Objects a cache may hold: its capacity over the least an object is
/// charged (`model::proxy::MIN_CHARGE`, 4 KiB), so at most 4 GiB of storage.
pub const MAX_CACHE_OBJECTS: u64 = 1 << 20;
pub const WHY_MAX_CACHE_OBJECTS: &str = "every object the cache holds is kept in memory (about 200 bytes of \
     bookkeeping each, a quarter of 1 GiB for 1,048,576 objects); an object is charged at least 4 KiB, so the \
     capacity may be at most 4GB";
/// Distinct objects of a class.
pub const MAX_OBJECTS: u64 = 1_000_000_000_000;
pub const WHY_MAX_OBJECTS: &str = "objects are drawn as floating-point numbers (Zipf rejection-inversion), exact \
     far beyond 10^12";
/// Largest `rush_exponent` (varnishd accepts 2 to 2^31, but waves of more than a thousand are one wave).
pub const MAX_RUSH_EXPONENT: u32 = 1000;
/// Coefficient of variation of a gamma distribution.
pub const MAX_GAMMA_CV: f64 = 10.0;
pub const WHY_MAX_GAMMA_CV: &str = "the gamma's shape is 1/cv²: beyond cv 10 it is below 0.01 and more than half of \
     the draws are under 1e-30 of the mean, i.e. zero nanoseconds";
/// Priority tiers in `scenario.tiers`: a job's tier is one byte.
pub const MAX_TIERS: usize = 16;
pub const WHY_MAX_TIERS: &str =
    "each tier is a queue of its own on every instance; Google SRE gets by with four criticalities";
/// Longest `scenario.name`: it names a directory.
pub const MAX_NAME_LEN: usize = 100;

/// Shortest probe interval: a probe is two events per instance.
pub const MIN_PROBE_INTERVAL: SimDuration = SimDuration::from_millis(10);
/// Shortest autoscaler interval.
pub const MIN_AUTOSCALER_INTERVAL: SimDuration = SimDuration::from_secs(1);
/// Shortest exponential backoff base (the first wait doubles from it).
pub const MIN_BACKOFF_BASE: SimDuration = SimDuration::from_millis(1);
/// Shortest `hedge_after`: each hedge is an attempt, sent this long after the last.
pub const MIN_HEDGE_AFTER: SimDuration = SimDuration::from_millis(1);
/// Highest arrival rate of one swarm, chaos traffic factors included.
pub const MAX_RATE: f64 = 1e6;

/// Seeds per comparison, sweep point or planned value.
pub const MAX_SEEDS: u32 = 1000;
/// Cells of a sweep (points × strategies × seeds).
pub const MAX_CELLS: usize = 100_000;

/// Events one run may be estimated to produce, unless `--no-limits`: about
/// two minutes of one core at the measured 6-10 M events/s.
pub const MAX_EVENTS: f64 = 1e9;
/// Events one fetch costs in the estimate besides its chunks (send, route,
/// job start and end, answer; measured: 3.4 per fetch on the playground).
const EVENTS_PER_FETCH: f64 = 4.0;

/// A timer duration that must not be shorter than `min`.
pub fn min_interval(cx: &mut Ctx<'_>, path: &str, d: SimDuration, min: SimDuration) {
    if d < min {
        cx.error_help(
            path,
            format!("({}) is below the shortest allowed, {}", show_duration(d), show_duration(min)),
            "a periodic timer this short produces events without simulated time passing",
        );
    }
}

/// The highest duration, in µs, the latency histograms record exactly (three
/// significant digits from 1 µs to about 11.6 days); `metrics` builds them with it.
pub const HISTOGRAM_HIGHEST_US: u64 = 1_000_000_000_000;
/// Bytes of one latency histogram's counts, of one time-series row without
/// pools, and what each pool adds to a row: the measured sizes of
/// `metrics::LatencyHist`, `metrics::Row` and `metrics::PoolLevels`, which a
/// test in `metrics` keeps equal to these (the scenario sits below the
/// recorder, so it cannot measure them itself).
pub const HISTOGRAM_BYTES: u64 = 253_952;
pub const ROW_BYTES: u64 = 264;
pub const POOL_ROW_BYTES: u64 = 56;

/// The longest duration the latency histograms record exactly.
pub fn histogram_range() -> SimDuration {
    SimDuration::from_nanos(HISTOGRAM_HIGHEST_US.saturating_mul(1000))
}

/// Bytes one time-series row takes with `pools` pools.
pub fn row_bytes(pools: usize) -> u64 {
    ROW_BYTES + pools as u64 * POOL_ROW_BYTES
}

/// Rows one run may have with `pools` pools.
pub fn max_rows(pools: usize) -> u64 {
    TIMESERIES_BUDGET / row_bytes(pools)
}

/// Time-series rows of a run.
pub fn rows(sc: &Scenario) -> u64 {
    let span = sc.duration.as_nanos().saturating_sub(sc.warmup.as_nanos());
    span.div_ceil(sc.window.as_nanos().max(1))
}

/// Bytes a comparison keeps per finished run: its completion histogram and
/// its time series.
pub fn bytes_per_kept_run(sc: &Scenario) -> u64 {
    HISTOGRAM_BYTES + rows(sc) * row_bytes(sc.pools.len())
}

/// Checks the limits that need the whole scenario; called by `resolve`, also
/// when other problems were found (so indices may point nowhere: use `get`).
pub fn check(cx: &mut Ctx<'_>, sc: &Scenario) {
    if sc.name.chars().count() > MAX_NAME_LEN {
        cx.error_help(
            "scenario.name",
            format!("is {} characters long; the limit is {MAX_NAME_LEN}", sc.name.chars().count()),
            "the name becomes the report directory, and file systems refuse names over 255 bytes",
        );
    }
    let range = histogram_range();
    if sc.duration > range {
        cx.error_help(
            "scenario.duration",
            format!(
                "({}) is longer than the longest duration the latency histograms record ({})",
                show_duration(sc.duration),
                show_duration(range)
            ),
            "every recorded duration lies within the run, so a shorter run keeps every percentile exact",
        );
    }
    let (rows, max) = (rows(sc), max_rows(sc.pools.len()));
    if rows > max && !sc.window.is_zero() {
        let min_window = SimDuration::from_nanos(
            (sc.duration.as_nanos() - sc.warmup.as_nanos().min(sc.duration.as_nanos())).div_ceil(max),
        );
        cx.error_help(
            "scenario.window",
            format!(
                "({}) makes {rows} time-series rows over {}; the limit is {max} rows ({} MiB of time series at {} bytes a row)",
                show_duration(sc.window),
                sc.duration - sc.warmup.min(sc.duration),
                TIMESERIES_BUDGET / MIB,
                row_bytes(sc.pools.len())
            ),
            format!("use a window of at least {}", round_up(min_window)),
        );
    }
    if sc.classes.len() > MAX_CLASSES {
        cx.error_help(
            "class",
            format!("{} classes are above the limit of {MAX_CLASSES}", sc.classes.len()),
            "a class is a kind of job (txt2img, img2img): a path segment per request is not one",
        );
    }
    if sc.swarms.len() > MAX_SWARMS {
        cx.error_help(
            "swarm",
            format!("{} swarms are above the limit of {MAX_SWARMS}", sc.swarms.len()),
            "each swarm keeps its own histograms (about 512 KiB); the limit keeps them within a quarter of the 1 GiB run budget",
        );
    }
    check_users_and_backlog(cx, sc);
    for (i, s) in sc.swarms.iter().enumerate() {
        if let ArrivalSpec::Open { profile, .. } = &s.arrivals {
            let peak = traffic_profile(profile, &sc.chaos, i).peak_until(sc.duration.as_secs_f64());
            if peak.is_nan() || peak > MAX_RATE {
                cx.error_help(
                    &format!("swarm.{}.arrivals", s.name),
                    format!(
                        "peaks at {} requests/s (chaos traffic factors included); the limit is {MAX_RATE:e}/s",
                        if peak.is_finite() { show_number(peak) } else { show(peak) }
                    ),
                    "arrivals closer than 1 µs are below the resolution of the latency histograms",
                );
            }
        }
    }
}

/// Closed loops multiplied by chaos traffic factors stay within the users
/// limit; pools with an unlimited queue are not offered so much more work
/// than they can do that the jobs left waiting at the end exceed the budget.
fn check_users_and_backlog(cx: &mut Ctx<'_>, sc: &Scenario) {
    let secs = sc.duration.as_secs_f64();
    let mut work = vec![0.0; sc.pools.len()];
    let mut jobs = vec![0.0; sc.pools.len()];
    for (i, s) in sc.swarms.iter().enumerate() {
        let images = s.bulk.as_ref().map_or(1.0, |b| f64::from(b.images));
        match &s.arrivals {
            ArrivalSpec::Closed(c) => {
                let users = f64::from(c.users) * peak_traffic_factor(&sc.chaos, i);
                if users > f64::from(MAX_USERS) {
                    cx.error_help(
                        &format!("swarm.{}.arrivals.users", s.name),
                        format!(
                            "{} users at the peak of the chaos traffic factors; the limit is {MAX_USERS}",
                            show(users)
                        ),
                        WHY_MAX_USERS,
                    );
                }
            }
            ArrivalSpec::Open { profile, .. } => {
                let offered = traffic_profile(profile, &sc.chaos, i).integral(0.0, secs) * images;
                let mut prev = 0.0;
                for &(class, cumulative) in &s.mix {
                    let c = &sc.classes[class];
                    let n = offered * (cumulative - prev);
                    prev = cumulative;
                    // A class whose pool did not resolve has been reported already.
                    if let (Some(j), Some(w)) = (jobs.get_mut(c.pool), work.get_mut(c.pool)) {
                        *j += n;
                        *w += n * c.service.mean_secs();
                    }
                }
            }
        }
    }
    for (p, pool) in sc.pools.iter().enumerate() {
        if pool.queue_limit.is_some() || jobs[p] == 0.0 {
            continue;
        }
        // A lower bound on the jobs still waiting at the end: the work offered
        // beyond what every slot of the largest pool can do, in jobs.
        let capacity = f64::from(pool.max_instances) * f64::from(pool.slots) * secs;
        let mean = work[p] / jobs[p];
        let backlog = if mean > 0.0 { (work[p] - capacity) / mean } else { 0.0 };
        if backlog > MAX_BACKLOG as f64 {
            cx.error_help(
                &format!("pool.{}", pool.name),
                format!(
                    "is offered {} GPU-seconds of work but can do {} in the run: with an unlimited queue at least {} jobs would wait at the end; the limit is {MAX_BACKLOG}",
                    show(work[p]),
                    show(capacity),
                    show(backlog)
                ),
                format!(
                    "set queue_limit (a backend answers 503 when it is full) or add capacity; each waiting job costs about {BYTES_PER_USER} bytes of the 1 GiB run budget"
                ),
            );
        }
    }
}

/// A duration rounded up to a readable value (1, 2 or 5 times a power of ten of a unit).
fn round_up(d: SimDuration) -> SimDuration {
    let ns = d.as_nanos().max(1);
    let mut p = 1u64;
    while p.saturating_mul(10) <= ns {
        p = p.saturating_mul(10);
    }
    for m in [1, 2, 5, 10] {
        if p.saturating_mul(m) >= ns {
            return SimDuration::from_nanos(p.saturating_mul(m));
        }
    }
    d
}

/// A duration for messages, exact below a microsecond (where `Display` shows 0µs).
/// A duration for a limit's message, exact: a value just past a limit must
/// not print as the limit itself (`9999us` is `9.999ms`, not `10.00ms`).
pub fn show_duration(d: SimDuration) -> String {
    let ns = d.as_nanos();
    let trimmed = |whole: u64, frac: u64, digits: usize, unit: &str| {
        let f = format!("{frac:0digits$}");
        let f = f.trim_end_matches('0');
        if f.is_empty() { format!("{whole}{unit}") } else { format!("{whole}.{f}{unit}") }
    };
    match ns {
        0..1_000 => format!("{ns}ns"),
        1_000..1_000_000 => trimmed(ns / 1_000, ns % 1_000, 3, "µs"),
        1_000_000..1_000_000_000 => trimmed(ns / 1_000_000, ns % 1_000_000, 6, "ms"),
        1_000_000_000..60_000_000_000 => trimmed(ns / 1_000_000_000, ns % 1_000_000_000, 9, "s"),
        _ => {
            let secs = ns / 1_000_000_000;
            let (h, m, s) = (secs / 3600, secs / 60 % 60, secs % 60);
            let s = trimmed(s, ns % 1_000_000_000, 9, "s");
            match (h, m, s.as_str()) {
                (0, m, "0s") => format!("{m}m"),
                (0, m, s) => format!("{m}m{s}"),
                (h, 0, "0s") => format!("{h}h"),
                (h, m, "0s") => format!("{h}h{m}m"),
                (h, m, s) => format!("{h}h{m}m{s}"),
            }
        }
    }
}

/// A number for messages: plain when readable, else in scientific notation.
pub fn show_number(x: f64) -> String {
    if x.is_finite() && x.abs() < 1e6 { format!("{x}") } else { format!("{x:e}") }
}

fn show(x: f64) -> String {
    if x.is_finite() { format!("{x:.3e}") } else { "infinitely many".into() }
}

/// The events a run is estimated to produce, and where most of them come from.
#[derive(Clone, Debug, PartialEq)]
pub struct Estimate {
    pub events: f64,
    /// (what, events), largest first.
    pub sources: Vec<(String, f64)>,
}

/// Estimates the events of one run: each swarm's offered requests (its rate
/// profile with chaos traffic factors, integrated over the run; closed loops
/// at one cycle per think time, or per service time without one), times the most attempts
/// any strategy allows (a comparison may give any strategy to any swarm),
/// times the proxy's VCL retries, times the events of one fetch; plus probes,
/// autoscaler evaluations and time-series windows.
pub fn estimate_events(sc: &Scenario) -> Estimate {
    let secs = sc.duration.as_secs_f64();
    let attempts = f64::from(sc.strategies.iter().map(|s| s.policy.max_attempts).max().unwrap_or(1));
    let vcl = if sc.proxy.retry_on.is_empty() { 1.0 } else { 1.0 + f64::from(sc.proxy.max_retries) };
    let mut sources = Vec::new();
    for (i, s) in sc.swarms.iter().enumerate() {
        let classes = s.mix.iter().map(|&(c, _)| &sc.classes[c]);
        let chunks = classes.clone().map(|c| f64::from(c.chunks)).fold(1.0, f64::max);
        let service = classes.map(|c| c.service.mean_secs()).fold(f64::INFINITY, f64::min);
        let (images, parallel) =
            s.bulk.as_ref().map_or((1.0, 1.0), |b| (f64::from(b.images), f64::from(b.parallelism)));
        let arrivals = match &s.arrivals {
            ArrivalSpec::Open { profile, .. } => traffic_profile(profile, &sc.chaos, i).integral(0.0, secs),
            ArrivalSpec::Closed(c) => {
                // A refused request comes back at once, so a user may cycle
                // at its think time alone; with none, at the service time
                // (a loop that spins without time passing stops by name).
                let think = c.think.mean_secs();
                let cycle = if think > 0.0 { think } else { service * (images / parallel).ceil() };
                let users = f64::from(c.users) * peak_traffic_factor(&sc.chaos, i);
                if cycle > 0.0 { users * secs / cycle } else { f64::INFINITY }
            }
        };
        let events = arrivals * images * attempts * vcl * (EVENTS_PER_FETCH + chunks);
        sources.push((format!("swarm {}", s.name), events));
    }
    if let Some(p) = &sc.proxy.probe {
        let instances: f64 = sc.pools.iter().map(|p| f64::from(p.max_instances)).sum();
        sources.push(("health probes".into(), 2.0 * instances * secs / p.interval.as_secs_f64()));
    }
    for p in &sc.pools {
        if let Some(a) = &p.autoscaler {
            sources.push((format!("pool {} autoscaler", p.name), secs / a.interval.as_secs_f64()));
        }
    }
    sources.push(("time-series windows".into(), rows(sc) as f64));
    sources.sort_by(|a, b| b.1.total_cmp(&a.1));
    let events = sources.iter().map(|s| s.1).sum::<f64>();
    Estimate { events: if events.is_nan() { f64::INFINITY } else { events }, sources }
}

/// A documented limit a command would exceed.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
pub enum LimitError {
    /// One run is estimated beyond [`MAX_EVENTS`] (liftable with `--no-limits`).
    #[error(
        "{}one run is estimated at {} events ({}); the limit is {MAX_EVENTS:e} (about two minutes of one core). \
         Shorten the run, lower the rates or attempts, or pass --no-limits to run it anyway",
        zero_loop.as_deref().unwrap_or_default(),
        show(*events),
        top.join(", ")
    )]
    Events {
        events: f64,
        /// The largest sources, as "what count".
        top: Vec<String>,
        /// A closed loop that spins without time passing, if that is why.
        zero_loop: Option<String>,
        /// The scenario key to change: the spinning swarm's think time, the
        /// largest source's key, or the duration.
        key: String,
    },
    /// More seeds than [`MAX_SEEDS`]; `what` names the flag or key.
    #[error(
        "{what}: {n} seeds are above the limit of {MAX_SEEDS} (intervals narrow as 1/√N: 1000 seeds are already 10× narrower than 10, and each seed is a whole run)"
    )]
    Seeds { what: String, n: u64 },
    /// More finished runs kept than [`RESULTS_MEMORY_BUDGET`] holds.
    #[error(
        "{runs} runs would keep {} MiB of results ({} KiB each: a completion histogram and {rows} time-series rows); \
         the limit is {} MiB, i.e. {max} runs: use fewer seeds or strategies, or a wider scenario.window",
        *runs as u64 * per_run / MIB,
        per_run / 1024,
        RESULTS_MEMORY_BUDGET / MIB
    )]
    KeptRuns { runs: usize, per_run: u64, rows: u64, max: u64 },
}

/// Refuses a run estimated beyond [`MAX_EVENTS`], naming its largest sources.
pub fn check_events(sc: &Scenario) -> Result<(), LimitError> {
    let e = estimate_events(sc);
    if e.events <= MAX_EVENTS {
        return Ok(());
    }
    let top: Vec<String> = e.sources.iter().take(3).map(|(w, n)| format!("{w} {}", show(*n))).collect();
    let spinning = sc.swarms.iter().find(|s| match &s.arrivals {
        ArrivalSpec::Closed(c) => {
            c.think.mean_secs() == 0.0
                && e.sources.iter().any(|(w, n)| *w == format!("swarm {}", s.name) && n.is_infinite())
        }
        _ => false,
    });
    let zero_loop = spinning.map(|s| {
        format!(
            "closed loop swarm `{}`: zero think time and zero service time make users loop without time passing; ",
            s.name
        )
    });
    let largest = e.sources.first().and_then(|(w, _)| w.strip_prefix("swarm "));
    let key = match (spinning, largest) {
        (Some(s), _) => format!("swarm.{}.arrivals.think", s.name),
        (None, Some(name)) => format!("swarm.{name}.arrivals"),
        (None, None) => "scenario.duration".to_string(),
    };
    Err(LimitError::Events { events: e.events, top, zero_loop, key })
}

/// Refuses a seed count above [`MAX_SEEDS`] (`what` names the flag or key).
pub fn check_seeds(what: &str, n: u64) -> Result<(), LimitError> {
    if n > u64::from(MAX_SEEDS) {
        return Err(LimitError::Seeds { what: what.to_string(), n });
    }
    Ok(())
}

/// Refuses keeping `runs` finished runs of `sc` beyond [`RESULTS_MEMORY_BUDGET`].
pub fn check_kept_runs(sc: &Scenario, runs: usize) -> Result<(), LimitError> {
    let per = bytes_per_kept_run(sc);
    let max = RESULTS_MEMORY_BUDGET / per.max(1);
    if runs as u64 > max {
        return Err(LimitError::KeptRuns { runs, per_run: per, rows: rows(sc), max });
    }
    Ok(())
}

#[cfg(test)]
mod value_scan_tests {
    use super::*;

    /// Separators in strings and comments are not values; the line is the
    /// one where the count passes the limit, multi-line strings counted in.
    #[test]
    fn the_scan_counts_separators_outside_strings_and_comments_only() {
        let quoted = [
            "a = \"x,=[{\" # ,,,,\n",
            "b = 'x,=[{'\n",
            "c = \"\"\"\n,=[{\n\"\"\"\n",
            "d = '''\n,=[{\n'''\n",
            "e = \"\\\",,,\"\n",
            "f = \"\"\"a\\\n,,,\"\"\"\n",
        ]
        .concat();
        // Six keys (six `=`) on eleven lines; then `g = [`, two more, and list items.
        let text = format!("{quoted}g = [{}1]\n", "1,".repeat(MAX_VALUES - 8));
        assert_eq!(values_over_limit(&text), None, "exactly at the limit");
        let text = format!("{quoted}g = [{}1]\n", "1,".repeat(MAX_VALUES - 7));
        assert_eq!(values_over_limit(&text), Some(12));
    }
}
