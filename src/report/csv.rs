//! The CSV files: `timeseries.csv` (one row per window, counters then pool
//! levels), `compare.csv` (one row per strategy and metric) and `sweep.csv`
//! (one row per grid point, strategy and metric).

use std::borrow::Borrow;
use std::io::{self, Write};

use crate::metrics::Row;
use crate::model::outcome::Outcome;
use crate::model::proxy::CacheEvent;
use crate::scenario::Scenario;

/// The outcome columns a scenario's file has: `overflow` only when some
/// class can overflow, `injected`, `status_500` and `status_502` only when
/// chaos injects them.
fn outcomes(sc: &Scenario) -> impl Iterator<Item = Outcome> + '_ {
    Outcome::ALL.into_iter().filter(|o| sc.can_produce(*o))
}

/// The header, in column order.
pub fn header(sc: &Scenario) -> Vec<String> {
    let mut h: Vec<String> =
        ["start_s", "end_s", "offered", "attempts", "status_503", "succeeded", "failed"].map(String::from).into();
    h.extend(outcomes(sc).map(|o| o.name().to_string()));
    if sc.proxy.caches() {
        h.extend(
            ["cache_lookups", "cache_hits", "cache_grace_hits", "cache_coalesced", "cache_hit_ratio"].map(String::from),
        );
    }
    for p in &sc.pools {
        for col in ["ready", "provisioning", "billed", "queued", "busy_slots", "utilization"] {
            h.push(format!("{}.{col}", p.name));
        }
    }
    h
}

pub fn write_timeseries<W: Write, R: Borrow<Row>>(
    mut w: W,
    sc: &Scenario,
    rows: impl IntoIterator<Item = R>,
) -> io::Result<()> {
    writeln!(w, "{}", header(sc).join(","))?;
    for r in rows {
        let r = r.borrow();
        let c = &r.counts;
        write!(
            w,
            "{},{},{},{},{},{},{}",
            r.start.as_secs_f64(),
            r.end.as_secs_f64(),
            c.offered,
            c.sent,
            c.status_503(),
            c.succeeded,
            c.failed
        )?;
        for o in outcomes(sc) {
            write!(w, ",{}", c.attempts[o.index()])?;
        }
        if sc.proxy.caches() {
            let e = |ev: CacheEvent| c.cache[ev as usize];
            let lookups: u64 = c.cache.iter().sum();
            let hits: u64 = CacheEvent::ALL.iter().filter(|e| e.is_hit()).map(|ev| e(*ev)).sum();
            // An empty cell: no lookup in the window, so no ratio.
            let ratio = if lookups > 0 { format!("{:.6}", hits as f64 / lookups as f64) } else { String::new() };
            write!(w, ",{lookups},{hits},{},{},{ratio}", e(CacheEvent::Grace), e(CacheEvent::Coalesced))?;
        }
        for p in &r.pools {
            // An empty cell: no instance was ready, so utilization is undefined.
            let utilization = p.utilization.map_or(String::new(), |u| format!("{u:.6}"));
            write!(
                w,
                ",{:.4},{:.4},{:.4},{:.4},{:.4},{utilization}",
                p.ready, p.provisioning, p.billed, p.queued, p.busy_slots
            )?;
        }
        writeln!(w)?;
    }
    Ok(())
}

/// A number as a CSV cell: `inf` / `-inf` for infinities (percentiles that
/// count failures), empty when undefined.
fn number(v: f64) -> String {
    if v.is_nan() { String::new() } else { format!("{v}") }
}

/// `compare.csv`: one row per (strategy, metric), with the interval and the
/// paired difference against the baseline.
pub fn write_comparison<W: Write>(mut w: W, c: &crate::compare::Comparison) -> io::Result<()> {
    writeln!(w, "strategy,rank,score,metric,mean,lo,hi,n,diff_mean,diff_lo,diff_hi,significant,better")?;
    let num = |x: Option<f64>| x.map_or(String::new(), number);
    for s in &c.strategies {
        for m in &c.metrics {
            let i = s.metrics.get(m).copied().flatten();
            let d = s.vs_baseline.get(m).copied().flatten();
            writeln!(
                w,
                "{},{},{},{},{},{},{},{},{},{},{},{},{}",
                s.name,
                s.rank,
                s.score,
                m,
                num(i.map(|i| i.mean)),
                num(i.map(|i| i.lo)),
                num(i.map(|i| i.hi)),
                i.map_or(0, |i| i.n),
                num(d.map(|d| d.diff.mean)),
                num(d.map(|d| d.diff.lo)),
                num(d.map(|d| d.diff.hi)),
                d.is_some_and(|d| d.significant),
                d.is_some_and(|d| d.better),
            )?;
        }
        // Money is not a compared metric (no paired difference): one row
        // with its interval, where pools are priced.
        if let Some(i) = s.cost {
            let (mean, lo, hi) = (number(i.mean), number(i.lo), number(i.hi));
            writeln!(w, "{},{},{},cost,{mean},{lo},{hi},{},,,,false,false", s.name, s.rank, s.score, i.n)?;
        }
    }
    Ok(())
}

/// `sweep.csv`: one row per (grid point, strategy): the axis values, then each
/// metric's mean and 95% interval, then pooled completion percentiles.
pub fn write_sweep<W: Write>(mut w: W, r: &crate::sweep::result::SweepResult) -> io::Result<()> {
    let mut header: Vec<String> = r.axes.iter().map(|a| a.key.clone()).collect();
    header.push("strategy".into());
    for m in &r.metrics {
        header.extend([format!("{m}_mean"), format!("{m}_lo"), format!("{m}_hi")]);
    }
    let priced = r.points.iter().any(|p| p.cost.is_some());
    if priced {
        header.extend(["cost_mean".into(), "cost_lo".into(), "cost_hi".into()]);
    }
    header.extend(["completion_pooled_p50_ms".into(), "completion_pooled_p99_ms".into()]);
    writeln!(w, "{}", header.join(","))?;
    for p in &r.points {
        let mut row: Vec<String> = p.values.clone();
        row.push(p.strategy.clone());
        for m in &r.metrics {
            match p.metrics.get(m).copied().flatten() {
                Some(i) => row.extend([i.mean, i.lo, i.hi].map(number)),
                None => row.extend([String::new(), String::new(), String::new()]),
            }
        }
        if priced {
            row.extend(p.cost.map_or([f64::NAN; 3], |i| [i.mean, i.lo, i.hi]).map(number));
        }
        let c = &p.completion_pooled_ms;
        row.extend([c.p50, c.p99].map(|v| v.map_or(String::new(), number)));
        writeln!(w, "{}", row.join(","))?;
    }
    Ok(())
}
