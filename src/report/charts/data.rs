//! From runs to figures: which charts a single run and a comparison get, and
//! the series behind them (sweeps and plans: [`super::grid`]).
//!
//! Colours follow the strategy's position in the comparison, so a strategy
//! has the same colour in every chart. Time-series figures pool the seeds:
//! a window's 503 rate is all 503s over all attempts in that window across
//! seeds; levels (instances, offered load) are means over seeds. Time runs in
//! minutes, or in hours for runs longer than [`HOURS_ABOVE`]. A comparison's
//! completion CDF and headline bars cover the compared swarms only: the
//! swarms that keep their own strategy would otherwise dilute the difference.

use std::io;

use super::Chart;
use super::figures::{Capacity, Cdf, Line, Shade, Shares, Stacked, TimeLines};
use super::intervals::{Bar, Bars, Panel};
use crate::compare::{Cell, Comparison, Plan};
use crate::criteria::metric::{Metric, Unit, unit_of};
use crate::engine::Run;
use crate::metrics::{LatencyHist, Row};
use crate::model::outcome::{Cause, Outcome};
use crate::model::proxy::CacheEvent;
use crate::report::folder::ReportDir;
use crate::report::{spread, units};
use crate::scenario::Scenario;

/// Runs longer than this have a time axis in hours.
pub const HOURS_ABOVE: f64 = 3.0 * 3600.0;

/// The time axis of a scenario: seconds per unit and its description.
fn time_unit(sc: &Scenario) -> (f64, &'static str) {
    if sc.duration.as_secs_f64() > HOURS_ABOVE {
        (3600.0, "simulated time (hours)")
    } else {
        (60.0, "simulated time (minutes)")
    }
}

/// Points over time: window midpoints in the scenario's time unit.
#[derive(Clone, Copy)]
struct Clock(f64);

impl Clock {
    fn of(sc: &Scenario) -> Clock {
        Clock(time_unit(sc).0)
    }
    fn at(self, t: crate::time::SimTime) -> f64 {
        t.as_secs_f64() / self.0
    }
    fn mid(self, r: &Row) -> f64 {
        (self.at(r.start) + self.at(r.end)) / 2.0
    }
}

fn len_s(r: &Row) -> f64 {
    (r.end - r.start).as_secs_f64().max(f64::MIN_POSITIVE)
}

fn x_range(sc: &Scenario) -> (f64, f64) {
    let u = time_unit(sc).0;
    (sc.warmup.as_secs_f64() / u, sc.duration.as_secs_f64() / u)
}

fn x_desc(sc: &Scenario) -> String {
    time_unit(sc).1.to_string()
}

fn shades(sc: &Scenario) -> Vec<Shade> {
    let c = Clock::of(sc);
    sc.highlights().into_iter().map(|(a, b, label)| Shade { start: c.at(a), end: c.at(b), label }).collect()
}

/// Pooled 503 rate per window over several runs' rows.
fn rate_503(c: Clock, runs: &[&[Row]]) -> Vec<(f64, f64)> {
    let Some(first) = runs.first() else { return Vec::new() };
    (0..first.len())
        .filter_map(|w| {
            let (mut s503, mut all) = (0u64, 0u64);
            for rows in runs {
                let c = &rows[w].counts;
                all += c.attempts_ended();
                s503 += c.status_503();
            }
            (all > 0).then(|| (c.mid(&first[w]), s503 as f64 / all as f64))
        })
        .collect()
}

/// Mean over runs of a per-window value.
fn mean_per_window(c: Clock, runs: &[&[Row]], f: impl Fn(&Row) -> f64) -> Vec<(f64, f64)> {
    let Some(first) = runs.first() else { return Vec::new() };
    (0..first.len())
        .map(|w| (c.mid(&first[w]), runs.iter().map(|r| f(&r[w])).sum::<f64>() / runs.len() as f64))
        .collect()
}

fn capacity(title: String, sc: &Scenario, runs: &[&[Row]]) -> Capacity {
    let c = Clock::of(sc);
    Capacity {
        title,
        x_desc: x_desc(sc),
        x_range: x_range(sc),
        offered: mean_per_window(c, runs, |r| r.counts.offered as f64 / len_s(r)),
        ready: mean_per_window(c, runs, |r| r.pools.iter().map(|p| p.ready).sum()),
        provisioning: mean_per_window(c, runs, |r| r.pools.iter().map(|p| p.provisioning).sum()),
        shades: shades(sc),
    }
}

/// What sends the scenario's 429s: the proxy's rate limits, backend queues
/// set to answer 429 when full, or both.
fn label_429(sc: &Scenario) -> String {
    let limits = sc.proxy.rate_limits.iter().any(Option::is_some);
    let queues = sc.pools.iter().any(|p| p.queue_full_status == crate::model::gpu::QueueFullStatus::S429);
    match (limits, queues) {
        (true, true) => "429 (rate limit or queue full)".into(),
        (true, false) => "429 (rate limit)".into(),
        (false, true) => "429 (queue full)".into(),
        (false, false) => "429".into(),
    }
}

/// Failed attempts per second by cause: every 503 cause, 429s (a rate limit
/// or a backend queue that answers 429), client timeouts, refused connections and attempts
/// the client's defences rejected locally, stacked; causes that never occur
/// are left out. Timeouts are shown because a storm of them is a storm even
/// when no 503 is ever sent.
fn causes(title: String, sc: &Scenario, runs: &[&[Row]]) -> Stacked {
    let c = Clock::of(sc);
    let outcomes = Cause::ALL.iter().map(|cause| (cause.name().to_string(), Outcome::Status503(*cause))).chain([
        (label_429(sc), Outcome::Status429),
        ("500".to_string(), Outcome::Status500),
        ("502".to_string(), Outcome::Status502),
        ("client timeout".to_string(), Outcome::ClientTimeout),
        ("connect error".to_string(), Outcome::ConnectError),
        ("rejected locally".to_string(), Outcome::LocalReject),
    ]);
    let layers = outcomes
        .enumerate()
        .map(|(i, (label, o))| Line {
            label,
            color: i,
            points: mean_per_window(c, runs, |r| r.counts.attempts[o.index()] as f64 / len_s(r)),
        })
        .filter(|l| l.points.iter().any(|p| p.1 > 0.0))
        .collect();
    Stacked {
        title,
        x_desc: x_desc(sc),
        y_desc: "failed attempts per second".into(),
        x_range: x_range(sc),
        layers,
        empty: "no failed attempts".into(),
        shades: shades(sc),
    }
}

/// CDF points at quantiles dense enough to show the tail.
fn cdf_points(h: &LatencyHist) -> Vec<(f64, f64)> {
    if h.count() == 0 {
        return Vec::new();
    }
    let mut qs: Vec<f64> = (1..=200).map(|i| f64::from(i) / 200.0).collect();
    qs.extend([0.991, 0.993, 0.995, 0.997, 0.999, 0.9995, 0.9999]);
    qs.sort_by(f64::total_cmp);
    qs.into_iter().map(|q| (h.quantile_us(q) as f64 / 1e6, q)).collect()
}

/// A headline metric in one seed, over the swarms the comparison scores
/// (the cell's scoped summary; pool-wide metrics as they are).
fn compared(cell: &Cell, metric: &str) -> Option<f64> {
    Metric::from_name(metric).and_then(|m| cell.scored.metric(m))
}

/// Metrics the headline chart shows, and whether each is per swarm.
const HEADLINE: [(&str, bool); 6] = [
    ("rate_503", true),
    ("success_rate", true),
    ("completion_p99", true),
    ("bulk_success_rate", true),
    ("amplification", true),
    ("wasted_gpu_seconds", false),
];

/// Every chart of a comparison, written into `dir`.
pub fn comparison(
    dir: &ReportDir,
    plan: &Plan,
    cells: &[Vec<Cell>],
    c: &Comparison,
    detail: usize,
) -> io::Result<Vec<Chart>> {
    let sc = &plan.scenario;
    let clock = Clock::of(sc);
    let names: Vec<&str> = (0..plan.strategies.len()).map(|i| plan.strategy_name(i)).collect();
    let rows = |s: usize| -> Vec<&[Row]> { cells[s].iter().map(|c| c.rows.as_slice()).collect() };
    let seeds = plan.seeds.len();
    let swarms = c.swarms.join(", ");
    let all_swarms = plan.swarms.len() == sc.swarms.len();
    let scope = if all_swarms { String::new() } else { format!(" of swarm(s) {swarms}") };
    let mut charts = Vec::new();

    let lines = (0..names.len())
        .map(|s| Line { label: names[s].to_string(), color: s, points: rate_503(clock, &rows(s)) })
        .collect();
    charts.push(Chart::render(
        dir,
        "compare-503-rate",
        "503 rate over time",
        &format!("Share of all swarms' attempts answered 503, per window, pooled over {seeds} seeds. Shaded: chaos events and traffic surges."),
        &TimeLines {
            title: "503 rate over time, by strategy".into(),
            x_desc: x_desc(sc),
            y_desc: "503 rate".into(),
            unit: Unit::Ratio,
            x_range: x_range(sc),
            lines,
            shades: shades(sc),
        },
    )?);

    let d = names[detail];
    charts.push(Chart::render(
        dir,
        "compare-capacity",
        "Offered load and GPU instances",
        &format!("Strategy {d}, mean over seeds: the gap between the load rising and instances becoming ready is the autoscaling lag."),
        &capacity(format!("Offered load and GPU instances ({d})"), sc, &rows(detail)),
    )?);

    let lines = (0..names.len())
        .map(|s| {
            let mut h = LatencyHist::default();
            for cell in &cells[s] {
                h.merge_from(&cell.completion);
            }
            Line { label: names[s].to_string(), color: s, points: cdf_points(&h) }
        })
        .collect();
    charts.push(Chart::render(
        dir,
        "compare-completion-cdf",
        "Completion time",
        &format!("Share of the succeeded requests of swarm(s) {swarms} (those that took the compared strategy) completed within a time (first send to success, retries included), all seeds pooled."),
        &Cdf { title: format!("Completion time{scope}, by strategy"), x_desc: "completion time (log scale)".into(), lines },
    )?);

    let panels = HEADLINE
        .iter()
        .filter(|(m, _)| c.metrics.iter().any(|x| x == m))
        .map(|&(m, per_swarm)| {
            let hours = units::scale(m) == units::Scale::Hours;
            let shown = |v: f64| if hours { v / 3600.0 } else { v };
            let bars = (0..names.len())
                .filter_map(|s| {
                    let seeds: Vec<Option<f64>> = cells[s].iter().map(|cell| compared(cell, m)).collect();
                    let xs: Vec<f64> = seeds.iter().flatten().copied().collect();
                    let i = spread::clamp(m, &crate::stats::mean_ci(&xs)?);
                    Some(Bar {
                        label: names[s].to_string(),
                        color: s,
                        mean: shown(i.mean),
                        lo: shown(i.lo),
                        hi: shown(i.hi),
                        seeds: xs.into_iter().map(shown).collect(),
                    })
                })
                .collect();
            let label = units::label(m);
            Panel {
                title: if per_swarm || all_swarms { label } else { format!("{label} (whole pool)") },
                unit: if hours { Unit::Number } else { unit_of(m) },
                bars,
            }
        })
        .collect();
    charts.push(Chart::render(
        dir,
        "compare-headline",
        "Headline metrics",
        &format!("Swarm(s) {swarms}: means over {seeds} seeds with 95% confidence intervals; circles: each seed. Wasted GPU time is the whole pool's."),
        &Bars { title: format!("Headline metrics{scope} (mean, 95% interval, seeds)"), panels },
    )?);

    let x_max = c.strategies.iter().map(|s| max_attempts(&s.attempts_per_request)).max().unwrap_or(1).max(2);
    let lines = (0..names.len())
        .filter_map(|s| {
            let shares = &c.strategy(names[s])?.attempts_per_request;
            let points = (1..=x_max).map(|k| (f64::from(k), share_of(shares, k))).collect();
            Some(Line { label: names[s].to_string(), color: s, points })
        })
        .collect();
    charts.push(Chart::render(
        dir,
        "compare-attempts",
        "Attempts per request",
        &format!("How many attempts the ended requests of swarm(s) {swarms} needed, pooled over seeds."),
        &Shares { title: format!("Attempts per request{scope}, by strategy"), x_desc: "attempts".into(), x_max, lines },
    )?);

    charts.push(Chart::render(
        dir,
        "compare-causes",
        "Failed attempts by cause",
        &format!("Strategy {d}, every swarm, mean over seeds."),
        &causes(format!("failed attempts by cause ({d})"), sc, &rows(detail)),
    )?);
    Ok(charts)
}

/// The share of requests that took `k` attempts; the summary's last bucket,
/// "15+", holds 15 or more.
fn share_of(shares: &std::collections::BTreeMap<String, f64>, k: u32) -> f64 {
    let key = if k >= 15 { "15+".to_string() } else { format!("{k:02}") };
    shares.get(&key).copied().unwrap_or(0.0)
}

fn max_attempts(shares: &std::collections::BTreeMap<String, f64>) -> u32 {
    shares
        .iter()
        .filter(|(_, n)| **n > 0.0)
        .filter_map(|(k, _)| k.trim_end_matches('+').parse::<u32>().ok())
        .max()
        .unwrap_or(1)
}

/// Offered requests, attempts sent and succeeded requests per second: a
/// storm shows as attempts far above offered with goodput near zero, whether
/// its failures are 503s or client timeouts.
fn load(title: String, sc: &Scenario, runs: &[&[Row]]) -> TimeLines {
    let c = Clock::of(sc);
    let per_s = |label: &str, color: usize, f: fn(&Row) -> u64| Line {
        label: label.into(),
        color,
        points: mean_per_window(c, runs, |r| f(r) as f64 / len_s(r)),
    };
    TimeLines {
        title,
        x_desc: x_desc(sc),
        y_desc: "per second".into(),
        unit: Unit::Number,
        x_range: x_range(sc),
        lines: vec![
            per_s("offered", 0, |r| r.counts.offered),
            per_s("attempts sent", 1, |r| r.counts.sent),
            per_s("goodput (succeeded)", 2, |r| r.counts.succeeded),
        ],
        shades: shades(sc),
    }
}

/// Per window, the share of cache lookups that were hits (of any kind) and
/// that were grace hits; windows without lookups are left out.
fn cache_ratios(title: String, sc: &Scenario, runs: &[&[Row]]) -> TimeLines {
    let c = Clock::of(sc);
    let share = |label: &str, color: usize, part: fn(&[u64; 5]) -> u64| {
        let points = runs.first().map_or_else(Vec::new, |first| {
            (0..first.len())
                .filter_map(|w| {
                    let (mut n, mut all) = (0u64, 0u64);
                    for rows in runs {
                        n += part(&rows[w].counts.cache);
                        all += rows[w].counts.cache.iter().sum::<u64>();
                    }
                    (all > 0).then(|| (c.mid(&first[w]), n as f64 / all as f64))
                })
                .collect()
        });
        Line { label: label.into(), color, points }
    };
    let hits = |e: &[u64; 5]| CacheEvent::ALL.iter().filter(|k| k.is_hit()).map(|k| e[*k as usize]).sum();
    TimeLines {
        title,
        x_desc: x_desc(sc),
        y_desc: "share of lookups".into(),
        unit: Unit::Ratio,
        x_range: x_range(sc),
        lines: vec![
            share("hit ratio", 0, hits),
            share("grace hits", 1, |e| e[CacheEvent::Grace as usize]),
            share("hit-for-miss", 2, |e| e[CacheEvent::HitForMiss as usize]),
        ],
        shades: shades(sc),
    }
}

/// The time-series charts of one run, written into `dir`.
pub fn single_run(dir: &ReportDir, sc: &Scenario, run: &Run) -> io::Result<Vec<Chart>> {
    // A bounded overview: the rows themselves unless the run has more windows than a chart has room for.
    let overview: Vec<Row> = run.recorder.series.overview().rows().cloned().collect();
    let rows: Vec<&[Row]> = vec![&overview];
    // One line for every swarm together: say so, and with which strategy.
    let label = match run.summary.strategy.as_str() {
        "per-swarm" => "all swarms, each its own strategy".to_string(),
        one => format!("all swarms, strategy {one}"),
    };
    let mut charts = Vec::new();
    let remote = run.summary.engine.is_load();
    if sc.proxy.caches() && !remote {
        charts.push(Chart::render(
            dir,
            "run-cache",
            "Cache hit ratio over time",
            "Share of the cached classes' lookups answered from the cache (fresh, grace or coalesced), answered stale within grace, and fetched uncoalesced because the object was hit-for-miss, per window.",
            &cache_ratios("Cache hit ratio over time".into(), sc, &rows),
        )?);
    }
    let mut base = vec![
        Chart::render(
            dir,
            "run-503-rate",
            "503 rate over time",
            "Share of attempts answered 503, per window. Shaded: chaos events and traffic surges.",
            &TimeLines {
                title: "503 rate over time".into(),
                x_desc: x_desc(sc),
                y_desc: "503 rate".into(),
                unit: Unit::Ratio,
                x_range: x_range(sc),
                lines: vec![Line { label, color: 0, points: rate_503(Clock::of(sc), &rows) }],
                shades: shades(sc),
            },
        )?,
        Chart::render(
            dir,
            "run-load",
            "Offered load, attempts and goodput",
            "Requests offered, attempts sent and requests that succeeded, per second. After a trigger, attempts far above the offered load with no goodput is a retry storm that sustains itself (the summary's recovery lines say whether it ended).",
            &load("Offered load, attempts and goodput".into(), sc, &rows),
        )?,
        Chart::render(
            dir,
            "run-causes",
            "Failed attempts by cause",
            "Failed attempts per second, by cause: 503s, 429s, client timeouts, refused connections, local rejects.",
            &causes("failed attempts by cause".into(), sc, &rows),
        )?,
    ];
    if !remote {
        base.insert(
            1,
            Chart::render(
                dir,
                "run-capacity",
                "Offered load and GPU instances",
                "The gap between the load rising and instances becoming ready is the autoscaling lag.",
                &capacity("Offered load and GPU instances".into(), sc, &rows),
            )?,
        );
    }
    base.append(&mut charts);
    Ok(base)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_last_attempts_bucket_is_15_or_more_as_the_summary_writes_it() {
        let shares: std::collections::BTreeMap<String, f64> =
            [("01".to_string(), 0.5), ("14".to_string(), 0.2), ("15+".to_string(), 0.3)].into();
        assert_eq!((share_of(&shares, 14), share_of(&shares, 15)), (0.2, 0.3));
        assert_eq!(max_attempts(&shares), 15);
    }
    use crate::time::SimTime;

    fn rows(outcome: Option<Outcome>) -> Vec<Row> {
        (0..6)
            .map(|i| {
                let mut r = Row {
                    start: SimTime::from_nanos(i * 60_000_000_000),
                    end: SimTime::from_nanos((i + 1) * 60_000_000_000),
                    counts: Default::default(),
                    pools: Vec::new(),
                };
                if let Some(o) = outcome {
                    r.counts.attempts[o.index()] = 30;
                }
                r
            })
            .collect()
    }

    fn scenario() -> Scenario {
        Scenario::parse(
            "[scenario]\nname = \"c\"\nduration = \"6m\"\n[pool.gpu]\nqueue_limit = 1\nqueue_full_status = 429\n[class.c]\npool = \"gpu\"\nservice = { dist = \"constant\", value = \"1s\" }\n[swarm.s]\nclass = \"c\"\narrivals = { process = \"poisson\", rate = \"1/s\" }\n",
            "c.toml",
        )
        .expect("valid")
    }

    #[test]
    fn long_runs_have_a_time_axis_in_hours() {
        let short = scenario();
        assert_eq!(time_unit(&short), (60.0, "simulated time (minutes)"));
        let mut long = scenario();
        long.duration = crate::time::SimDuration::from_secs(6 * 3600);
        assert_eq!(time_unit(&long), (3600.0, "simulated time (hours)"));
        assert_eq!(x_range(&long).1, 6.0);
    }

    #[test]
    fn the_causes_chart_shows_429s() {
        let r = rows(Some(Outcome::Status429));
        let s = causes("t".into(), &scenario(), &[r.as_slice()]);
        assert_eq!(s.layers.iter().map(|l| l.label.as_str()).collect::<Vec<_>>(), ["429 (queue full)"]);
        assert!((s.layers[0].points[0].1 - 0.5).abs() < 1e-12, "30 per minute is 0.5/s");
        // The label says what sends them.
        let mut sc = scenario();
        sc.proxy.rate_limits = vec![Some(crate::model::proxy::RateLimit { rate: 1.0, burst: 1 })];
        assert_eq!(label_429(&sc), "429 (rate limit or queue full)");
        sc.pools[0].queue_full_status = crate::model::gpu::QueueFullStatus::S503;
        assert_eq!(label_429(&sc), "429 (rate limit)");
        sc.proxy.rate_limits.clear();
        assert_eq!(label_429(&sc), "429");
    }

    #[test]
    fn the_causes_chart_without_refusals_says_so_instead_of_an_empty_legend() {
        let r = rows(None);
        let s = causes("t".into(), &scenario(), &[r.as_slice()]);
        assert!(s.layers.is_empty());
        let mut svg = String::new();
        super::super::register_font();
        {
            use plotters::prelude::*;
            let root = SVGBackend::with_string(&mut svg, (1000, 480)).into_drawing_area();
            super::super::Figure::draw(&s, &root).expect("draws");
            root.present().expect("presents");
        }
        assert!(svg.contains("no failed attempts"), "the chart says why it is empty");
    }
}
