//! The `index.html` pages of `run`, `sweep` and `plan`, built from the same
//! blocks as the comparison's ([`super::Page`]).

use super::{Page, seed_list};
use crate::metrics::Percentiles;
use crate::metrics::summary::Summary;
use crate::model::outcome::Cause;
use crate::report::charts::Chart;
use crate::report::table::{self, Table};
use crate::report::text::thousands;
use crate::report::units;
use crate::scenario::Scenario;
use crate::time::format_secs;

fn share(a: u64, b: u64) -> String {
    if b == 0 { "-".into() } else { format!("{:.2}%", a as f64 / b as f64 * 100.0) }
}

fn row(cells: &[&str]) -> Vec<String> {
    cells.iter().map(|c| c.to_string()).collect()
}

/// Requests and attempts by outcome.
fn outcomes(s: &Summary) -> Table {
    let mut t = Table::new(row(&["", "count", "share"]), 1);
    let r = &s.requests;
    for (label, n) in
        [("requests succeeded", r.succeeded), ("requests failed", r.failed), ("requests unfinished", r.unfinished)]
    {
        t.rows.push(vec![label.into(), thousands(n), share(n, r.offered)]);
    }
    let a = &s.attempts;
    // Shares of the attempts that ended, as the rates are.
    let ended = a.total - a.unfinished;
    t.rows.push(vec!["attempts answered 200".into(), thousands(a.ok), share(a.ok, ended)]);
    t.rows.push(vec!["attempts answered 503".into(), thousands(a.status_503), share(a.status_503, ended)]);
    for c in Cause::ALL {
        let n = a.causes.get(c.name()).copied().unwrap_or(0);
        if n > 0 {
            t.rows.push(vec![format!("  503 {}", c.name()), thousands(n), share(n, ended)]);
        }
    }
    for (label, n) in [
        ("attempts answered 429", a.status_429),
        ("attempts answered 500", a.status_500.unwrap_or(0)),
        ("attempts answered 502", a.status_502.unwrap_or(0)),
        ("client timeouts", a.client_timeout),
        ("connect errors", a.connect_error),
        ("cancelled (a hedge answered first)", a.cancelled.unwrap_or(0)),
    ] {
        if n > 0 {
            t.rows.push(vec![label.into(), thousands(n), share(n, ended)]);
        }
    }
    // Neither ended nor a share of those that did.
    for (label, n) in
        [("in flight at the end (sent, unanswered)", a.unfinished), ("rejected locally (not sent)", a.local_reject)]
    {
        if n > 0 {
            t.rows.push(vec![label.into(), thousands(n), String::new()]);
        }
    }
    t
}

/// A ratio as a percentage, "-" when undefined.
fn pct(x: Option<f64>) -> String {
    x.map_or_else(|| "-".into(), |x| format!("{:.2}%", x * 100.0))
}

/// Latency, completion and wait percentiles.
fn times(s: &Summary) -> Table {
    let mut t = Table::new(row(&["", "mean", "p50", "p90", "p99", "p99.9", "max", "of"]), 1);
    // "∞": a percentile over every request that fell among the failures.
    let ms = |x: Option<f64>| match x {
        Some(v) if v.is_infinite() => "∞".to_string(),
        Some(v) => format_secs(v / 1e3),
        None => "-".to_string(),
    };
    let line = |label: &str, p: &Percentiles, of: &str| {
        let mut r = vec![label.to_string()];
        if p.count == 0 {
            r.extend(std::iter::repeat_n("-".to_string(), 6));
        } else {
            r.extend([p.mean, p.p50, p.p90, p.p99, p.p999, p.max].map(ms));
        }
        r.push(of.to_string());
        r
    };
    t.rows.push(line("latency", &s.latency_ms, "every attempt"));
    t.rows.push(line("latency 200", &s.latency_ok_ms, "successful attempts"));
    t.rows.push(line("completion", &s.completion_ms, "first send to success"));
    // Every offered request, failures as never completing: no mean or maximum.
    let all = &s.completion_all_ms;
    if all.count > 0 {
        let mut r = vec!["completion all".to_string(), "-".into()];
        r.extend([all.p50, all.p90, all.p99, all.p999].map(ms));
        r.extend(["-".into(), "every offered request; failed or unfinished = ∞".into()]);
        t.rows.push(r);
    }
    t.rows.push(line("queue wait", &s.queue_wait_ms, "backend queue before a GPU slot"));
    t.rows.push(line("first byte", &s.first_byte_ms, "backend time to first byte"));
    if s.bulk_jobs.submitted > 0 {
        t.rows.push(line("bulk jobs", &s.bulk_jobs.completion_ms, "submit to last image"));
    }
    t
}

/// Instance-hours, cost, GPU-hours, and each pool.
fn gpu(sc: &Scenario, s: &Summary) -> Table {
    let g = &s.gpu;
    let mut t =
        Table::new(row(&["pool", "instance-hours", "GPU-hours busy", "utilization", "ready avg", "queued avg"]), 1);
    if sc.prices.iter().any(Option::is_some) {
        t.header.push("cost".into());
    }
    for (name, p) in &g.pools {
        let mut r = vec![
            name.clone(),
            units::hours(p.instance_seconds),
            units::hours(p.busy_seconds),
            pct(p.utilization),
            format!("{:.1}", p.ready_mean),
            format!("{:.1}", p.queued_mean),
        ];
        if t.header.len() > 6 {
            let i = sc.pools.iter().position(|x| &x.name == name);
            r.push(
                i.and_then(|i| sc.prices[i])
                    .map_or("-".into(), |price| units::money(p.instance_seconds / 3600.0 * price)),
            );
        }
        t.rows.push(r);
    }
    t
}

/// Per swarm: offered, success, 503 rate, attempts per request, completion p99.
fn swarms(s: &Summary) -> Table {
    let mut t =
        Table::new(row(&["swarm", "strategy", "offered", "success", "503 rate", "attempts/req", "compl p99"]), 2);
    for (name, sw) in &s.swarms {
        t.rows.push(vec![
            name.clone(),
            sw.strategy.clone(),
            thousands(sw.requests.offered),
            pct(sw.success_rate),
            pct(sw.rate_503),
            sw.amplification.map_or_else(|| "-".into(), |a| format!("{a:.2}")),
            sw.completion_ms.p99.map_or_else(|| "-".into(), |p| format_secs(p / 1e3)),
        ]);
    }
    t
}

/// The sentence a run's page leads with, and whether its SLOs hold (None without SLOs).
fn run_verdict(s: &Summary) -> (String, Option<bool>) {
    let head = format!(
        "{} of {} requests succeeded; {} of attempts were answered 503.",
        share(s.requests.succeeded, s.requests.offered),
        thousands(s.requests.offered),
        share(s.attempts.status_503, s.attempts.total - s.attempts.unfinished)
    );
    if s.slo.is_empty() {
        return (head, None);
    }
    let failed: Vec<&str> = s.slo.iter().filter(|r| !r.passed).map(|r| r.threshold.as_str()).collect();
    if failed.is_empty() {
        (format!("{head} Every SLO is met."), Some(true))
    } else {
        (format!("{head} SLOs missed: {}.", failed.join(", ")), Some(false))
    }
}

/// How the run was made, for the page's opening note: simulated, live on
/// loopback, or load against targets; stopped early or not.
fn engine_sentence(s: &Summary) -> String {
    let e = &s.engine;
    let (ran, warm, wall) = (format_secs(s.duration_s), format_secs(s.warmup_s), format_secs(e.wall_seconds));
    let mut out = match (e.live_time_scale, &e.wire) {
        (None, _) => format!("simulated {ran} after a {warm} warmup."),
        (Some(scale), Some(w)) => format!(
            "a load at time scale {scale} against {}: {ran} (warmup {warm}) in {wall} of real time.",
            w.targets.iter().map(|(swarm, url)| format!("{swarm} → {url}")).collect::<Vec<_>>().join(", ")
        ),
        (Some(scale), None) => format!(
            "run live on 127.0.0.1 at time scale {scale}: {ran} (warmup {warm}) in {wall} of real time{}.",
            e.timer_lag_ms
                .as_ref()
                .and_then(|l| l.p99)
                .map_or(String::new(), |p99| format!(", timers p99 {} late", format_secs(p99 / 1000.0)))
        ),
    };
    if e.interrupted {
        out.push_str(" Stopped early: every figure covers the time that ran.");
    }
    out
}

/// `load`'s wire: statuses, service time and send lag (real time).
fn wire(w: &crate::metrics::wire::WireStats) -> Table {
    let ms = |v: Option<f64>| v.map_or("-".to_string(), |v| format_secs(v / 1000.0));
    let mut t = Table::new(row(&["measure", "p50", "p99", "max", "count"]), 1);
    for (what, p) in [("service time (actual send to last byte)", &w.service_ms), ("send lag", &w.send_lag_ms)] {
        t.rows.push(vec![what.into(), ms(p.p50), ms(p.p99), ms(p.max), thousands(p.count)]);
    }
    let count = |what: String, n: u64| vec![what, String::new(), String::new(), String::new(), thousands(n)];
    for (status, n) in &w.statuses {
        t.rows.push(count(format!("answers {status}"), *n));
    }
    // As the text summary says them: the proxy's own 503 pages, and bodies cut short.
    if w.varnish_synthetic > 0 {
        t.rows.push(count("proxy-made 503s (Guru Meditation pages)".into(), w.varnish_synthetic));
    }
    if w.truncated > 0 {
        t.rows.push(count("responses cut off mid-body".into(), w.truncated));
    }
    t
}

/// `run/index.html`.
pub fn run(sc: &Scenario, s: &Summary, charts: &[Chart]) -> String {
    let what = match (s.engine.live_time_scale, &s.engine.wire) {
        (None, _) => "Run",
        (Some(_), None) => "Live run",
        (Some(_), Some(_)) => "Load",
    };
    let mut p =
        Page::new(&format!("stampede {}: {}", what.to_lowercase(), s.scenario), &format!("{what}: {}", s.scenario));
    let (verdict, met) = run_verdict(s);
    p.note(&sc.description);
    match met {
        Some(good) => p.verdict(&verdict, good),
        None => p.headline(&verdict),
    };
    p.note(&format!("Seed {}, strategy {}; {}", s.seed, s.strategy, engine_sentence(s)));
    if let Some(why) = s.engine.fell_behind() {
        p.verdict(&format!("Warning: {why}."), false);
    }
    if !s.slo.is_empty() {
        let mut t = Table::new(row(&["SLO", "measured", "result"]), 1);
        for r in &s.slo {
            t.rows.push(vec![
                r.threshold.clone(),
                units::measured(&r.metric, r.value),
                if r.passed { "pass".into() } else { "FAIL".into() },
            ]);
        }
        p.section("SLOs").table(&t);
    }
    p.section("Requests and attempts").table(&outcomes(s));
    p.section("Times").table(&times(s));
    match &s.engine.wire {
        // `load`: the GPUs are the target's, and nothing of them is measured here.
        Some(w) => {
            p.section("On the wire").table(&wire(w)).legend(
                "Real time. Latencies above run from each request's intended send time (corrected for coordinated \
                 omission); service time here runs from the actual send. A send lag near 1 ms means the generator kept up.",
            );
        }
        None => {
            p.section("GPU time and cost").table(&gpu(sc, s)).legend(&format!(
                "Instance-hours are paid instance time (cold start and draining included). GPU-hours wasted on results nobody received: {} of {} busy.",
                units::hours(s.gpu.wasted_seconds),
                units::hours(s.gpu.busy_seconds)
            ));
        }
    }
    if s.bulk_jobs.submitted > 0 {
        let b = &s.bulk_jobs;
        let mut t = Table::new(row(&["bulk jobs", "submitted", "completed", "failed", "unfinished"]), 1);
        t.rows.push(vec![
            "all swarms".into(),
            thousands(b.submitted),
            format!("{} ({})", thousands(b.completed), share(b.completed, b.submitted)),
            thousands(b.failed),
            thousands(b.unfinished),
        ]);
        p.section("Bulk jobs").table(&t);
    }
    if let Some(c) = &s.cache {
        let mut t = Table::new(
            row(&[
                "cache",
                "lookups",
                "hit ratio",
                "hits",
                "grace",
                "coalesced",
                "misses",
                "hit-for-miss",
                "GPU-h saved",
            ]),
            1,
        );
        let line = |name: &str, k: &crate::metrics::summary::CacheStats| {
            vec![
                name.to_string(),
                thousands(k.lookups),
                pct(k.hit_ratio),
                thousands(k.hits),
                thousands(k.grace_hits),
                thousands(k.coalesced),
                thousands(k.misses),
                thousands(k.hit_for_miss),
                units::hours(k.gpu_seconds_saved),
            ]
        };
        t.rows.push(line("all cached classes", &c.total));
        if c.classes.len() > 1 {
            t.rows.extend(c.classes.iter().map(|(name, k)| line(&format!("class {name}"), k)));
        }
        p.section("Cache").table(&t).legend(&format!(
            "Hits are answered without a fetch of their own (grace and coalesced included). Evictions for room: {}.",
            thousands(c.evictions)
        ));
    }
    if !s.recovery.is_empty() {
        let mut t = Table::new(row(&["trigger", "after it ended"]), 1);
        for r in &s.recovery {
            t.rows.push(vec![r.trigger.clone(), crate::report::text::recovery_verdict(r)]);
        }
        p.section("Recovery").table(&t);
    }
    p.section("Swarms").table(&swarms(s));
    if !s.tiers.is_empty() {
        let mut t = Table::new(row(&["tier", "swarms", "offered", "success", "503 rate", "429 rate"]), 1);
        for (name, tier) in &s.tiers {
            t.rows.push(vec![
                name.clone(),
                tier.swarms.join(", "),
                thousands(tier.requests.offered),
                pct(tier.success_rate),
                pct(tier.rate_503),
                pct(tier.rate_429),
            ]);
        }
        p.section("Priority tiers").table(&t);
    }
    p.charts(charts)
        .scenario(&sc.source_path, &format!("seed {}", s.seed), &sc.source_text)
        .finish(env!("CARGO_PKG_VERSION"))
}

/// `sweep/index.html`.
pub fn sweep(sw: &crate::sweep::Sweep, r: &crate::sweep::result::SweepResult, charts: &[Chart]) -> String {
    let mut p = Page::new(&format!("stampede sweep: {}", r.scenario), &format!("Sweep: {}", r.scenario));
    let keys: Vec<&str> = r.axes.iter().map(|a| a.key.as_str()).collect();
    p.note(&sw.base.description).note(&format!(
        "{} grid point(s) over {} × {} strateg{} ({}) × {} seeds.",
        sw.grid.points(),
        keys.join(", "),
        r.strategies.len(),
        if r.strategies.len() == 1 { "y" } else { "ies" },
        r.strategies.join(", "),
        r.seeds.len()
    ));
    if let Some(scope) = r.scope_note(sw.base.swarms.len()) {
        p.note(&format!("The {scope}."));
    }
    if !r.slos.is_empty() {
        p.note(&format!(
            "SLOs met counts the seeds that meet every SLO of the scenario, judged over every swarm: {}.",
            r.slos.join(", ")
        ));
    }
    p.section("Results").legend("Mean ± 95% half-width over seeds.").table(&table::sweep(r)).charts(charts);
    let mut how = format!("seeds {}", seed_list(&r.seeds));
    for v in &sw.spec.vary {
        how.push_str(&format!(", --vary {v}"));
    }
    for s in &sw.spec.sets {
        how.push_str(&format!(", --set {s}"));
    }
    p.scenario(&sw.spec.file, &format!("{how} (the file below before these)"), &sw.spec.scenario_text)
        .finish(&r.version)
}

/// `plan/index.html`.
pub fn plan(
    base: &Scenario,
    r: &crate::plan::PlanResult,
    slos: &[crate::criteria::slo::Threshold],
    charts: &[Chart],
) -> String {
    let mut p = Page::new(&format!("stampede plan: {}", r.scenario), &format!("Capacity plan: {}", r.scenario));
    p.note(&base.description).verdict(&r.verdict, r.recommendation.is_some()).note(&format!(
        "{} from {} to {}; SLOs {}; {} seeds per value, {} one-sided confidence.",
        r.key,
        r.values.first().map_or("", String::as_str),
        r.values.last().map_or("", String::as_str),
        r.slos.join(", "),
        r.seeds.len(),
        crate::plan::confidence_label(r.confidence)
    ));
    p.section("Evaluated values").table(&table::plan(r, slos)).legend(&format!(
        "Mean ± 95% half-width over seeds; in brackets the one-sided {} bound the decision uses; k/{}: seeds meeting the SLO.",
        crate::plan::confidence_label(r.confidence),
        r.seeds.len()
    ));
    p.section("Queueing theory");
    match &r.theory {
        Some(th) => {
            p.note(&format!(
                "M/M/c at the peak load of pool {} ({:.1} Erlangs, mean service {}): {} = {}.",
                th.pool,
                th.peak_load,
                format_secs(th.mean_service_s),
                r.key,
                th.value
            ));
            for m in &th.mapped {
                p.legend(&format!("Using {m}."));
            }
        }
        None => {
            p.note("No queueing estimate.");
        }
    }
    for n in &r.theory_notes {
        p.legend(n);
    }
    if let Some(t) = &r.timeouts {
        p.section("Recommended proxy timeouts");
        for b in &t.basis {
            p.legend(b);
        }
        p.pre(&t.vcl);
    }
    p.charts(charts)
        .scenario(&base.source_path, &format!("seeds {}", seed_list(&r.seeds)), &base.source_text)
        .finish(&r.version)
}
