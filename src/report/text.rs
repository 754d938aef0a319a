//! The human summary printed after a run: k6/vegeta-style blocks.

use std::io::{self, Write};

pub use crate::format::thousands;
use crate::metrics::recovery::{METASTABLE_MIN_WINDOWS, Recovery};
use crate::metrics::summary::Summary;
use crate::metrics::{CompletionAll, Percentiles};
use crate::model::outcome::Cause;
use crate::report::units;
use crate::scenario::Scenario;
use crate::time::format_secs;

/// Thousands separators: 1234567 -> "1,234,567".
fn pct(x: f64) -> String {
    format!("{:.2}%", x * 100.0)
}

/// A rate that is undefined without a denominator.
fn pct_or_undefined(x: Option<f64>) -> String {
    x.map_or("undefined".into(), pct)
}

fn share(a: u64, b: u64) -> String {
    if b == 0 { "-".into() } else { pct(a as f64 / b as f64) }
}

/// Milliseconds as a duration; "∞" for a percentile that counts failures, "-" when undefined.
fn ms(x: Option<f64>) -> String {
    match x {
        Some(v) if v.is_infinite() => "∞".into(),
        Some(v) => format_secs(v / 1e3),
        None => "-".into(),
    }
}

/// Percentiles over every offered request, failures as never completing.
fn all_row<W: Write>(w: &mut W, label: &str, c: &CompletionAll, note: &str) -> io::Result<()> {
    if c.count == 0 {
        // The note in its column, as in a row of numbers.
        return writeln!(w, "  {label:<14}{:>9}{:45}  {note}", "none", "");
    }
    let cols = [None, c.p50, c.p90, c.p99, c.p999, None];
    let cells: String = cols.iter().map(|&v| format!("{:>9}", ms(v))).collect();
    writeln!(w, "  {label:<14}{cells}  {note}")
}

fn latency_row<W: Write>(w: &mut W, label: &str, p: &Percentiles, note: &str) -> io::Result<()> {
    if p.count == 0 {
        // The note in its column, as in a row of numbers.
        return writeln!(w, "  {label:<14}{:>9}{:45}  {note}", "none", "");
    }
    writeln!(
        w,
        "  {label:<14}{:>9}{:>9}{:>9}{:>9}{:>9}{:>9}  {note}",
        ms(p.mean),
        ms(p.p50),
        ms(p.p90),
        ms(p.p99),
        ms(p.p999),
        ms(p.max)
    )
}

/// The GPU pools' lines (a run whose backend is stampede's own).
fn print_gpu(w: &mut impl Write, s: &Summary) -> io::Result<()> {
    let g = &s.gpu;
    let wasted = if g.busy_seconds > 0.0 {
        format!(" ({} of busy)", pct(g.wasted_seconds / g.busy_seconds))
    } else {
        String::new()
    };
    let cost = g.cost.map_or(String::new(), |c| format!(" · cost {}", units::money(c)));
    writeln!(
        w,
        "gpu           instance-hours {}{cost} · GPU-hours busy {}, wasted {}{}",
        units::hours(g.instance_seconds),
        units::hours(g.busy_seconds),
        units::hours(g.wasted_seconds),
        wasted,
    )?;
    for (name, p) in &g.pools {
        writeln!(
            w,
            "  pool {:<9}utilization {} · ready {:.1} avg · provisioning {:.1} avg · queued {:.1} avg",
            name,
            pct_or_undefined(p.utilization),
            p.ready_mean,
            p.provisioning_mean,
            p.queued_mean
        )?;
    }
    writeln!(w)?;
    Ok(())
}

/// Prints the summary of one run.
pub fn print_summary<W: Write>(mut w: W, sc: &Scenario, s: &Summary) -> io::Result<()> {
    let w = &mut w;
    writeln!(w, "stampede · {} · seed {} · strategy {}", s.scenario, s.seed, s.strategy)?;
    if let Some(line) = sc.description.lines().find(|l| !l.trim().is_empty()) {
        writeln!(w, "  {}", line.trim())?;
    }
    let e = &s.engine;
    // `stampede load`: the proxy and the GPUs are the target's, not ours.
    let remote = e.is_load();
    match e.live_time_scale {
        Some(scale) if remote => writeln!(
            w,
            "  load at time scale {scale}: {} (warmup {}) in {} of real time · {} events",
            format_secs(s.duration_s),
            format_secs(s.warmup_s),
            format_secs(e.wall_seconds),
            thousands(e.events),
        )?,
        Some(scale) => writeln!(
            w,
            "  live on 127.0.0.1 at time scale {scale}: {} (warmup {}) in {} of real time · {} events{}",
            format_secs(s.duration_s),
            format_secs(s.warmup_s),
            format_secs(e.wall_seconds),
            thousands(e.events),
            e.timer_lag_ms
                .as_ref()
                .and_then(|l| l.p99)
                .map_or(String::new(), |p99| format!(" · timers p99 {} late", format_secs(p99 / 1000.0))),
        )?,
        None => writeln!(
            w,
            "  simulated {} (warmup {}) in {} · {} events ({:.1} M events/s)",
            format_secs(s.duration_s),
            format_secs(s.warmup_s),
            format_secs(e.wall_seconds),
            thousands(e.events),
            e.events_per_second / 1e6
        )?,
    }
    if let Some(why) = e.fell_behind() {
        writeln!(w, "  warning: {why}")?;
    }
    writeln!(w)?;

    let r = &s.requests;
    writeln!(
        w,
        "requests      offered {}   succeeded {} ({})   failed {} ({})   unfinished {}",
        thousands(r.offered),
        thousands(r.succeeded),
        share(r.succeeded, r.offered),
        thousands(r.failed),
        share(r.failed, r.offered),
        thousands(r.unfinished)
    )?;
    let a = &s.attempts;
    let per_request = s.amplification.map_or("undefined".into(), |x| format!("{x:.3}"));
    if remote {
        writeln!(w, "attempts      {} in all · {per_request} per request", thousands(a.total))?;
    } else {
        writeln!(
            w,
            "attempts      {} in all · {per_request} per request · proxy fetches {} (VCL retries {})",
            thousands(a.total),
            thousands(s.proxy.fetches),
            thousands(s.proxy.retries)
        )?;
    }
    // Shares of the attempts that ended, as the rates are.
    let ended = a.total - a.unfinished;
    writeln!(w, "  200           {:>10}  {:>8}", thousands(a.ok), share(a.ok, ended))?;
    writeln!(w, "  503           {:>10}  {:>8}   (503 rate)", thousands(a.status_503), share(a.status_503, ended))?;
    for c in Cause::ALL {
        let n = a.causes.get(c.name()).copied().unwrap_or(0);
        if n > 0 {
            writeln!(w, "    {:<22}{:>10}  {:>8}", c.name(), thousands(n), share(n, ended))?;
        }
    }
    let (s500, s502) = (a.status_500.unwrap_or(0), a.status_502.unwrap_or(0));
    for (label, n) in [
        ("429", a.status_429),
        ("500", s500),
        ("502", s502),
        ("client timeout", a.client_timeout),
        ("connect error", a.connect_error),
        ("cancelled", a.cancelled.unwrap_or(0)),
    ] {
        if n > 0 {
            writeln!(w, "  {label:<14}{:>10}  {:>8}", thousands(n), share(n, ended))?;
        }
    }
    if a.unfinished > 0 {
        writeln!(
            w,
            "  in flight     {:>10}  (sent, unanswered when the run ended: in no rate)",
            thousands(a.unfinished)
        )?;
    }
    // Not sent, so not a share of the attempts sent.
    if a.local_reject > 0 {
        writeln!(w, "  local reject  {:>10}  (not sent: the client's defences refused)", thousands(a.local_reject))?;
    }
    writeln!(w)?;

    writeln!(w, "  {:<14}{:>9}{:>9}{:>9}{:>9}{:>9}{:>9}", "", "mean", "p50", "p90", "p99", "p99.9", "max")?;
    latency_row(w, "latency", &s.latency_ms, "every attempt")?;
    latency_row(w, "latency 200", &s.latency_ok_ms, "successful attempts")?;
    latency_row(w, "completion", &s.completion_ms, "first send to success, retries included")?;
    all_row(w, "completion all", &s.completion_all_ms, "every offered request; failed or unfinished = ∞")?;
    if !remote {
        latency_row(w, "queue wait", &s.queue_wait_ms, "backend queue before a GPU slot")?;
        latency_row(w, "first byte", &s.first_byte_ms, "request sent to the backend until its first byte")?;
    }
    let b = &s.bulk_jobs;
    if b.submitted > 0 {
        latency_row(w, "bulk jobs", &b.completion_ms, "submit to last image, completed jobs")?;
    }
    writeln!(w)?;

    if b.submitted > 0 {
        writeln!(
            w,
            "bulk jobs     submitted {}   completed {} ({})   failed {}   unfinished {}",
            thousands(b.submitted),
            thousands(b.completed),
            share(b.completed, b.submitted),
            thousands(b.failed),
            thousands(b.unfinished)
        )?;
    }
    if !remote {
        print_gpu(w, s)?;
    }
    if let Some(c) = &s.cache {
        let t = &c.total;
        writeln!(
            w,
            "cache         hit ratio {} · hits {} (grace {}, coalesced {}) · misses {} · hit-for-miss {} · \
             GPU-hours saved {} · evictions {}",
            pct_or_undefined(t.hit_ratio),
            thousands(t.hits),
            thousands(t.grace_hits),
            thousands(t.coalesced),
            thousands(t.misses),
            thousands(t.hit_for_miss),
            units::hours(t.gpu_seconds_saved),
            thousands(c.evictions),
        )?;
        if c.classes.len() > 1 {
            for (name, k) in &c.classes {
                writeln!(
                    w,
                    "  class {:<8}hit ratio {} · hits {}",
                    name,
                    pct_or_undefined(k.hit_ratio),
                    thousands(k.hits)
                )?;
            }
        }
        writeln!(w)?;
    }

    writeln!(
        w,
        "{:<14}{:>10}{:>10}{:>10}{:>8}{:>10}  strategy",
        "swarms", "offered", "success", "503 rate", "ampl.", "compl p99"
    )?;
    for (name, sw) in &s.swarms {
        writeln!(
            w,
            "  {:<12}{:>10}{:>10}{:>10}{:>8}{:>10}  {}",
            name,
            thousands(sw.requests.offered),
            sw.success_rate.map_or("-".into(), pct),
            sw.rate_503.map_or("-".into(), pct),
            sw.amplification.map_or("-".into(), |x| format!("{x:.2}")),
            ms(sw.completion_ms.p99),
            sw.strategy
        )?;
    }
    if !s.tiers.is_empty() {
        writeln!(w)?;
        writeln!(w, "{:<14}{:>10}{:>10}{:>10}{:>10}  swarms", "tiers", "offered", "success", "503 rate", "429 rate")?;
        for (name, t) in &s.tiers {
            writeln!(
                w,
                "  {:<12}{:>10}{:>10}{:>10}{:>10}  {}",
                name,
                thousands(t.requests.offered),
                t.success_rate.map_or("-".into(), pct),
                t.rate_503.map_or("-".into(), pct),
                t.rate_429.map_or("-".into(), pct),
                t.swarms.join(", ")
            )?;
        }
    }
    if !s.recovery.is_empty() {
        writeln!(w)?;
        writeln!(w, "recovery")?;
        for r in &s.recovery {
            writeln!(w, "  {:<22}{}", r.trigger, recovery_verdict(r))?;
        }
    }
    if !s.slo.is_empty() {
        writeln!(w)?;
        writeln!(w, "slo")?;
        for r in &s.slo {
            let shown = units::measured(&r.metric, r.value);
            writeln!(w, "  {} {:<40} measured {}", if r.passed { "pass" } else { "FAIL" }, r.threshold, shown)?;
        }
    }
    Ok(())
}

/// One trigger's outcome in words: "recovered 2m10s after the trigger ended"
/// or "did not recover: 560 attempts/s, success 0.3%, amplification 2.00 (metastable)".
pub fn recovery_verdict(r: &Recovery) -> String {
    let post = format!(
        "{} attempts/s, success {}, amplification {}",
        r.post_attempts_per_s.map_or("-".into(), |x| format!("{x:.0}")),
        r.post_success_rate.map_or("-".into(), pct),
        r.post_amplification.map_or("-".into(), |x| format!("{x:.2}")),
    );
    match (r.recovered, r.recovery_s) {
        (Some(true), Some(t)) => {
            format!("recovered {} after the trigger ended ({post} since)", format_secs(t))
        }
        (Some(false), _) if r.metastable() => format!("did not recover: {post} (metastable)"),
        // Too little run after the trigger to call it a storm.
        (Some(false), _) if r.post_windows < METASTABLE_MIN_WINDOWS && r.post_windows > 0 => {
            format!("did not recover in the {} window(s) left in the run: {post}", r.post_windows)
        }
        (Some(false), _) => format!("did not recover: {post}"),
        _ => format!("not judged: no measured window before the trigger, or none after it ({post})"),
    }
}

/// Prints a comparison: setup, results, differences from the baseline, verdict.
pub fn print_comparison<W: Write>(
    mut w: W,
    plan: &crate::compare::Plan,
    c: &crate::compare::Comparison,
) -> io::Result<()> {
    use crate::report::{markdown, table};
    writeln!(w, "stampede compare · {}", c.scenario)?;
    writeln!(w, "  {}", markdown::setup_line(plan, c).replace('`', ""))?;
    writeln!(w)?;
    writeln!(w, "results (mean ± 95% half-width over seeds; ties share a rank)")?;
    let results = table::results(c, &plan.slos);
    write!(w, "{}", indent(&results.to_text()))?;
    if results.has_split() {
        writeln!(w, "  {}", crate::report::spread::SPLIT_NOTE)?;
    }
    writeln!(w)?;
    writeln!(w, "difference from the baseline {} (paired by seed)", c.baseline)?;
    write!(w, "{}", indent(&table::differences(c).to_text()))?;
    writeln!(w, "  ~ = not statistically significant (the 95% interval contains 0); pp = percentage points")?;
    if markdown::has_infinite(c) {
        writeln!(w, "  {}", markdown::INFINITE_NOTE)?;
    }
    writeln!(w)?;
    let (k, level) = (plan.objective.len(), markdown::decision_level(plan));
    writeln!(
        w,
        "pairwise: the first objective criterion whose paired {level} interval excludes 0 decides (tie: none)"
    )?;
    if k > 1 {
        writeln!(w, "  {k} criteria at {level} each (Bonferroni): a pair is misordered with at most 5% probability")?;
    }
    write!(w, "{}", indent(&table::pairwise(c).to_text()))?;
    writeln!(w)?;
    writeln!(w, "verdict       {}", c.verdict)?;
    if let Some(slo) = markdown::slo_line(plan, c) {
        writeln!(w, "slo           {slo}")?;
    }
    Ok(())
}

fn indent(text: &str) -> String {
    text.lines().map(|l| if l.is_empty() { "\n".to_string() } else { format!("  {l}\n") }).collect()
}
