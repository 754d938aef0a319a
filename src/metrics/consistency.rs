//! Checks that a summary read from a file is one a run could have written.
//!
//! `stampede merge` reads summaries from part files that may have been edited,
//! truncated or produced by another program. A summary is only pooled when its
//! numbers hold together: counts add up (requests by state, attempts by
//! outcome, 503s by cause, swarms to the total, ended requests to the
//! attempts-per-request buckets), every stored ratio is its counts' ratio (so
//! rates lie in [0, 1]), percentiles are ordered and within their maximum, and
//! sample sizes match the counts they describe. Each problem is reported with
//! the field it is in; the caller adds the file and cell.

use super::completion_all::CompletionAll;
use super::histogram::Percentiles;
use std::collections::BTreeMap;

use super::summary::{Attempts, BulkJobs, Requests, Summary, SwarmSummary, TierSummary};
use crate::model::outcome::Cause;

type Check = Result<(), String>;

/// Stored ratios are rounded to 9 decimals.
const RATIO_SLACK: f64 = 1e-9;

fn sum(what: &str, parts: impl IntoIterator<Item = u64>) -> Result<u64, String> {
    parts.into_iter().try_fold(0u64, |a, b| a.checked_add(b)).ok_or_else(|| format!("{what} overflows"))
}

fn equal(what: &str, total: u64, parts: u64) -> Check {
    if total == parts { Ok(()) } else { Err(format!("{what}: {total} is not the sum of its parts, {parts}")) }
}

/// `stored` must be `a / b` (None when b is 0).
fn ratio(what: &str, stored: Option<f64>, a: u64, b: u64) -> Check {
    match (stored, b) {
        (None, 0) => Ok(()),
        (Some(v), 0) => Err(format!("{what} = {v} but its denominator is 0 (it must be null)")),
        (None, _) => Err(format!("{what} is null but {a} / {b} is defined")),
        (Some(v), _) => {
            let exact = a as f64 / b as f64;
            if v.is_finite() && (v - exact).abs() <= RATIO_SLACK + exact * f64::EPSILON {
                Ok(())
            } else {
                Err(format!("{what} = {v} but the counts give {a} / {b} = {exact}"))
            }
        }
    }
}

fn requests(what: &str, r: &Requests) -> Check {
    equal(&format!("{what}.offered"), r.offered, sum(what, [r.succeeded, r.failed, r.unfinished])?)
}

fn attempts(a: &Attempts) -> Check {
    // `overflow` and `injected` are listed only by scenarios that can produce them.
    let optional = [Cause::Overflow, Cause::Injected];
    let names: Vec<&str> = Cause::ALL.iter().filter(|c| !optional.contains(c)).map(|c| c.name()).collect();
    let extra = a.causes.len() - optional.iter().filter(|c| a.causes.contains_key(c.name())).count();
    if extra != names.len() || names.iter().any(|n| !a.causes.contains_key(*n)) {
        return Err(format!(
            "attempts.causes must list exactly {} (and overflow, injected, if they can occur)",
            names.join(", ")
        ));
    }
    equal("attempts.status_503", a.status_503, sum("attempts.causes", a.causes.values().copied())?)?;
    // Locally rejected attempts were never sent: they are not in the total.
    let (s500, s502, cancelled) = (a.status_500.unwrap_or(0), a.status_502.unwrap_or(0), a.cancelled.unwrap_or(0));
    // Attempts still in flight at the end have no outcome.
    let parts = sum(
        "attempts",
        [a.ok, a.status_503, a.status_429, a.client_timeout, a.connect_error, s500, s502, cancelled, a.unfinished],
    )?;
    equal("attempts.total", a.total, parts)
}

/// A duration in milliseconds: finite and not negative.
fn duration(what: &str, v: f64) -> Check {
    if v.is_finite() && v >= 0.0 { Ok(()) } else { Err(format!("{what} = {v} is not a duration")) }
}

fn percentiles(what: &str, p: &Percentiles, count: u64) -> Check {
    if p.count != count {
        return Err(format!("{what}.count = {} but it describes {count} values", p.count));
    }
    let ps = [p.p50, p.p90, p.p99, p.p999];
    if count == 0 {
        let empty = p.mean.is_none() && p.max.is_none() && ps.iter().all(Option::is_none) && p.saturated == 0;
        return if empty { Ok(()) } else { Err(format!("{what} has values but a count of 0")) };
    }
    if p.saturated > count {
        return Err(format!("{what}.saturated = {} exceeds its count {count}", p.saturated));
    }
    let (Some(mean), Some(max)) = (p.mean, p.max) else {
        return Err(format!("{what} has a count but no mean or max"));
    };
    duration(&format!("{what}.max"), max)?;
    duration(&format!("{what}.mean"), mean)?;
    if mean > max {
        return Err(format!("{what}.mean = {mean} exceeds max = {max}"));
    }
    // Only the top percentiles may be undefined, and only above the histogram's range.
    let defined: Vec<f64> = ps.iter().map_while(|v| *v).collect();
    if defined.len() < ps.len() && (p.saturated == 0 || ps[defined.len()..].iter().any(Option::is_some)) {
        return Err(format!("{what} has an undefined percentile below a defined one or without saturated values"));
    }
    for v in &defined {
        duration(&format!("{what} percentile"), *v)?;
    }
    if defined.windows(2).any(|w| w[0] > w[1]) || defined.last().is_some_and(|&v| v > max) {
        return Err(format!("{what}: percentiles are not ordered p50 ≤ p90 ≤ p99 ≤ p999 ≤ max"));
    }
    Ok(())
}

fn completion_all(what: &str, c: &CompletionAll, count: u64, not_completed: u64) -> Check {
    if (c.count, c.not_completed) != (count, not_completed) {
        return Err(format!(
            "{what}: count {} and not_completed {} do not match the counts ({count}, {not_completed})",
            c.count, c.not_completed
        ));
    }
    let ps = [c.p50, c.p90, c.p99, c.p999];
    if count == 0 {
        return if ps.iter().all(Option::is_none) { Ok(()) } else { Err(format!("{what} has values but no request")) };
    }
    let values: Vec<f64> = ps.iter().flatten().copied().collect();
    if values.iter().any(|v| v.is_nan() || *v < 0.0) || values.windows(2).any(|w| w[0] > w[1]) {
        return Err(format!("{what}: percentiles are not ordered non-negative durations"));
    }
    Ok(())
}

fn bulk(what: &str, b: &BulkJobs) -> Check {
    equal(&format!("{what}.submitted"), b.submitted, sum(what, [b.completed, b.failed, b.unfinished])?)?;
    ratio(&format!("{what}.success_rate"), b.success_rate, b.completed, b.submitted)?;
    percentiles(&format!("{what}.completion_ms"), &b.completion_ms, b.completed)?;
    completion_all(&format!("{what}.completion_all_ms"), &b.completion_all_ms, b.submitted, b.failed + b.unfinished)
}

fn goodput(what: &str, stored: Option<f64>, succeeded: u64, measured: f64) -> Check {
    match stored {
        None if measured <= 0.0 => Ok(()),
        Some(v) if measured > 0.0 && (v - succeeded as f64 / measured).abs() <= RATIO_SLACK * (1.0 + v) => Ok(()),
        _ => Err(format!("{what} = {stored:?} is not {succeeded} successes over {measured} measured seconds")),
    }
}

fn swarm(name: &str, s: &SwarmSummary, measured: f64) -> Check {
    let what = format!("swarms.{name}");
    let r = &s.requests;
    requests(&format!("{what}.requests"), r)?;
    ratio(&format!("{what}.success_rate"), s.success_rate, r.succeeded, r.offered)?;
    ratio(&format!("{what}.amplification"), s.amplification, s.attempts, r.offered)?;
    goodput(&format!("{what}.goodput"), s.goodput, r.succeeded, measured)?;
    // Undefined when no attempt ended (all may still be in flight).
    if s.rate_503.is_some_and(|v| !(0.0..=1.0).contains(&v)) || (s.rate_503.is_some() && s.attempts == 0) {
        return Err(format!("{what}.rate_503 = {:?} is not a share of {} attempts", s.rate_503, s.attempts));
    }
    equal(
        &format!("{what}.attempts_per_request"),
        r.succeeded + r.failed,
        sum(&what, s.attempts_per_request.values().copied())?,
    )?;
    percentiles(&format!("{what}.completion_ms"), &s.completion_ms, r.succeeded)?;
    completion_all(&format!("{what}.completion_all_ms"), &s.completion_all_ms, r.offered, r.failed + r.unfinished)?;
    s.bulk_jobs.as_ref().map_or(Ok(()), |b| bulk(&format!("{what}.bulk_jobs"), b))
}

/// A priority tier adds up its swarms: requests and attempts are their sums,
/// its 503s and 429s fit in its attempts, its ratios are its counts'.
fn tier(name: &str, t: &TierSummary, swarms: &BTreeMap<String, SwarmSummary>) -> Check {
    let what = format!("tiers.{name}");
    let mut members = Vec::new();
    for s in &t.swarms {
        members.push(swarms.get(s).ok_or_else(|| format!("{what}.swarms names {s:?}, which is not a swarm here"))?);
    }
    requests(&format!("{what}.requests"), &t.requests)?;
    let r = &t.requests;
    let over = |f: fn(&SwarmSummary) -> u64| sum(&what, members.iter().map(|m| f(m)));
    equal(&format!("{what}.requests.offered over its swarms"), r.offered, over(|m| m.requests.offered)?)?;
    equal(&format!("{what}.requests.succeeded over its swarms"), r.succeeded, over(|m| m.requests.succeeded)?)?;
    equal(&format!("{what}.requests.failed over its swarms"), r.failed, over(|m| m.requests.failed)?)?;
    equal(&format!("{what}.attempts over its swarms"), t.attempts, over(|m| m.attempts)?)?;
    ratio(&format!("{what}.success_rate"), t.success_rate, r.succeeded, r.offered)?;
    if sum(&what, [t.status_503, t.status_429])? > t.attempts {
        return Err(format!(
            "{what}: {} 503s and {} 429s exceed its {} attempts",
            t.status_503, t.status_429, t.attempts
        ));
    }
    for (rate, v) in [("rate_503", t.rate_503), ("rate_429", t.rate_429)] {
        if v.is_some_and(|v| !(0.0..=1.0).contains(&v)) || (v.is_some() && t.attempts == 0) {
            return Err(format!("{what}.{rate} = {v:?} is not a share of {} attempts", t.attempts));
        }
    }
    Ok(())
}

/// Checks `s`; the error names the field.
pub fn check(s: &Summary) -> Check {
    let measured = s.duration_s - s.warmup_s;
    if !(s.duration_s.is_finite() && s.warmup_s >= 0.0 && measured > 0.0) {
        return Err(format!("duration_s = {} and warmup_s = {} leave no measured time", s.duration_s, s.warmup_s));
    }
    let r = &s.requests;
    requests("requests", r)?;
    attempts(&s.attempts)?;
    let a = &s.attempts;
    // Rates are over the attempts that ended.
    let ended = a.total - a.unfinished;
    ratio("rate_503", s.rate_503, a.status_503, ended)?;
    ratio("success_rate", s.success_rate, r.succeeded, r.offered)?;
    ratio("amplification", s.amplification, a.total, r.offered)?;
    goodput("goodput", s.goodput, r.succeeded, measured)?;
    // Attempt latency is per pool: in a scoped summary it covers other swarms' attempts too.
    let pool = |p: &Percentiles, own: u64| if s.scope.is_some() { p.count } else { own };
    percentiles("latency_ms", &s.latency_ms, pool(&s.latency_ms, ended))?;
    percentiles("latency_ok_ms", &s.latency_ok_ms, pool(&s.latency_ok_ms, a.ok))?;
    percentiles("completion_ms", &s.completion_ms, r.succeeded)?;
    completion_all("completion_all_ms", &s.completion_all_ms, r.offered, r.failed + r.unfinished)?;
    for (what, p) in
        [("queue_wait_ms", &s.queue_wait_ms), ("first_byte_ms", &s.first_byte_ms), ("chunk_gap_ms", &s.chunk_gap_ms)]
    {
        percentiles(what, p, p.count)?;
    }
    equal(
        "attempts_per_request",
        r.succeeded + r.failed,
        sum("attempts_per_request", s.attempts_per_request.values().copied())?,
    )?;
    bulk("bulk_jobs", &s.bulk_jobs)?;
    if let Some(scope) = &s.scope
        && !scope.iter().eq(s.swarms.keys())
    {
        return Err(format!("swarms {:?} are not the scope {scope:?}", s.swarms.keys().collect::<Vec<_>>()));
    }
    for (name, sw) in &s.swarms {
        swarm(name, sw, measured)?;
    }
    let swarms = || s.swarms.values();
    equal("requests.offered over swarms", r.offered, sum("swarms", swarms().map(|w| w.requests.offered))?)?;
    equal("requests.succeeded over swarms", r.succeeded, sum("swarms", swarms().map(|w| w.requests.succeeded))?)?;
    equal("requests.failed over swarms", r.failed, sum("swarms", swarms().map(|w| w.requests.failed))?)?;
    equal("attempts.total over swarms", a.total, sum("swarms", swarms().map(|w| w.attempts))?)?;
    for (name, t) in &s.tiers {
        tier(name, t, &s.swarms)?;
    }
    let g = &s.gpu;
    for (what, v) in [
        ("gpu.busy_seconds", g.busy_seconds),
        ("gpu.wasted_seconds", g.wasted_seconds),
        ("gpu.instance_seconds", g.instance_seconds),
    ] {
        duration(what, v)?;
    }
    // Wasted slot time is slot time the GPUs were busy (both over the
    // measured time, each rounded to the millisecond).
    if g.wasted_seconds > g.busy_seconds + 0.001 {
        return Err(format!(
            "gpu.wasted_seconds = {} exceeds gpu.busy_seconds = {}: wasted time is busy time",
            g.wasted_seconds, g.busy_seconds
        ));
    }
    for (name, p) in &g.pools {
        for v in [p.busy_seconds, p.instance_seconds, p.ready_mean, p.provisioning_mean, p.queued_mean]
            .into_iter()
            .chain(p.utilization)
        {
            duration(&format!("gpu.pools.{name}"), v)?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::simulate;
    use crate::scenario::Scenario;

    fn summary() -> Summary {
        let text = "[scenario]\nname = \"c\"\nduration = \"10m\"\nwarmup = \"1m\"\n[pool.gpu]\nslots = 2\nqueue_limit = 1\n\
            [class.c]\npool = \"gpu\"\nservice = { dist = \"exponential\", mean = \"1s\" }\n[strategy.r]\nkind = \"immediate\"\n\
            [swarm.s]\nclass = \"c\"\narrivals = { process = \"poisson\", rate = \"3/s\" }\nstrategy = \"r\"\n\
            [swarm.b]\nclass = \"c\"\narrivals = { process = \"poisson\", rate = \"0.1/s\" }\nbulk = { images = 3 }\n";
        let sc = Scenario::parse(text, "c.toml").expect("valid");
        simulate(&sc, 3).expect("the run finishes").summary
    }

    #[test]
    fn a_run_summary_passes() {
        let s = summary();
        assert!(s.attempts.status_503 > 0 && s.bulk_jobs.submitted > 0, "the check sees every part");
        check(&s).expect("consistent");
    }

    #[test]
    fn edited_numbers_are_caught_and_named() {
        let base = summary();
        let err = |edit: &dyn Fn(&mut Summary)| {
            let mut s = base.clone();
            edit(&mut s);
            check(&s).expect_err("edited")
        };
        assert!(err(&|s| s.success_rate = Some(7.5)).contains("success_rate = 7.5"));
        assert!(err(&|s| s.rate_503 = Some(-3.0)).contains("rate_503 = -3"));
        assert!(err(&|s| s.requests.failed += 1).contains("requests.offered"));
        assert!(err(&|s| s.attempts.ok += 1).contains("attempts.total"));
        assert!(err(&|s| *s.attempts.causes.get_mut("busy").expect("busy") += 1).contains("attempts.status_503"));
        assert!(err(&|s| s.completion_ms.count += 1).contains("completion_ms.count"));
        assert!(err(&|s| s.completion_ms.p50 = Some(1e12)).contains("not ordered"));
        assert!(err(&|s| s.latency_ms.mean = Some(-1.0)).contains("latency_ms.mean"));
        assert!(err(&|s| s.goodput = Some(99.0)).contains("goodput"));
        assert!(err(&|s| s.bulk_jobs.success_rate = Some(2.0)).contains("bulk_jobs.success_rate"));
        assert!(err(&|s| s.swarms.get_mut("s").expect("s").requests.offered += 1).contains("swarms.s.requests"));
        assert!(err(&|s| s.requests.unfinished = u64::MAX).contains("overflows"));
        assert!(err(&|s| s.warmup_s = s.duration_s).contains("no measured time"));
        assert!(
            err(&|s| {
                s.swarms.remove("b");
            })
            .contains("over swarms")
        );
        assert!(err(&|s| s.gpu.wasted_seconds = s.gpu.busy_seconds + 1e6).contains("gpu.wasted_seconds"));
    }

    #[test]
    fn tiers_add_up_their_swarms() {
        let text = std::fs::read_to_string("scenarios/paid-vs-free.toml").expect("shipped");
        let sets = ["scenario.duration=6m".parse().expect("syntax")];
        let sc = Scenario::parse_with(&text, "paid-vs-free.toml", &sets).expect("valid");
        let base = simulate(&sc, 1).expect("the run finishes").summary;
        assert_eq!(base.tiers.len(), 2);
        check(&base).expect("consistent");
        let err = |edit: &dyn Fn(&mut Summary)| {
            let mut s = base.clone();
            edit(&mut s);
            check(&s).expect_err("edited")
        };
        fn paid(s: &mut Summary) -> &mut TierSummary {
            s.tiers.get_mut("paid").expect("paid")
        }
        // Failures moved from successes: the tier's own counts still add up.
        let moved = err(&|s| {
            let t = paid(s);
            t.requests.succeeded -= 5;
            t.requests.failed += 5;
            t.success_rate = Some(t.requests.succeeded as f64 / t.requests.offered as f64);
        });
        assert!(moved.contains("tiers.paid.requests.succeeded over its swarms"), "{moved}");
        assert!(err(&|s| paid(s).attempts += 1).contains("tiers.paid.attempts"));
        assert!(err(&|s| paid(s).swarms.push("nobody".into())).contains("not a swarm here"));
        assert!(err(&|s| paid(s).status_503 = u64::MAX / 2).contains("exceed its"));
        assert!(err(&|s| paid(s).rate_503 = Some(1.5)).contains("tiers.paid.rate_503"));
    }
}
