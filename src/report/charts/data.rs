//! From results to figures: which charts a single run, a comparison, a sweep
//! and a plan get, and the series behind them.
//!
//! Colours follow the strategy's position in the comparison, so a strategy
//! has the same colour in every chart. Time-series figures pool the seeds:
//! a window's 503 rate is all 503s over all attempts in that window across
//! seeds; levels (instances, offered load) are means over seeds.

use std::io;
use std::path::Path;

use super::Chart;
use super::figures::{Bars, Capacity, Cdf, Line, Panel, Shade, Shares, Stacked, TimeLines};
use crate::compare::{Cell, Comparison, Plan};
use crate::engine::Run;
use crate::metrics::catalog::{self, Unit};
use crate::metrics::{LatencyHist, Row};
use crate::model::outcome::{Cause, Outcome};
use crate::scenario::Scenario;

fn minutes(t: crate::time::SimTime) -> f64 {
    t.as_secs_f64() / 60.0
}

fn mid(r: &Row) -> f64 {
    (minutes(r.start) + minutes(r.end)) / 2.0
}

fn len_s(r: &Row) -> f64 {
    (r.end - r.start).as_secs_f64().max(f64::MIN_POSITIVE)
}

fn x_range(sc: &Scenario) -> (f64, f64) {
    (sc.warmup.as_secs_f64() / 60.0, sc.duration.as_secs_f64() / 60.0)
}

fn shades(sc: &Scenario) -> Vec<Shade> {
    sc.highlights().into_iter().map(|(a, b, label)| Shade { start: minutes(a), end: minutes(b), label }).collect()
}

/// Pooled 503 rate per window over several runs' rows.
fn rate_503(runs: &[&[Row]]) -> Vec<(f64, f64)> {
    let Some(first) = runs.first() else { return Vec::new() };
    (0..first.len())
        .filter_map(|w| {
            let (mut s503, mut all) = (0u64, 0u64);
            for rows in runs {
                let c = &rows[w].counts;
                all += c.attempts_total();
                s503 += c.status_503();
            }
            (all > 0).then(|| (mid(&first[w]), s503 as f64 / all as f64))
        })
        .collect()
}

/// Mean over runs of a per-window value.
fn mean_per_window(runs: &[&[Row]], f: impl Fn(&Row) -> f64) -> Vec<(f64, f64)> {
    let Some(first) = runs.first() else { return Vec::new() };
    (0..first.len()).map(|w| (mid(&first[w]), runs.iter().map(|r| f(&r[w])).sum::<f64>() / runs.len() as f64)).collect()
}

fn capacity(title: String, sc: &Scenario, runs: &[&[Row]]) -> Capacity {
    Capacity {
        title,
        x_range: x_range(sc),
        offered: mean_per_window(runs, |r| r.counts.offered as f64 / len_s(r)),
        ready: mean_per_window(runs, |r| r.pools.iter().map(|p| p.ready).sum()),
        provisioning: mean_per_window(runs, |r| r.pools.iter().map(|p| p.provisioning).sum()),
        shades: shades(sc),
    }
}

fn causes(title: String, sc: &Scenario, runs: &[&[Row]]) -> Stacked {
    let layers = Cause::ALL
        .iter()
        .enumerate()
        .map(|(i, c)| Line {
            label: c.name().to_string(),
            color: i,
            points: mean_per_window(runs, |r| r.counts.attempts[Outcome::Status503(*c).index()] as f64 / len_s(r)),
        })
        .filter(|l| l.points.iter().any(|p| p.1 > 0.0))
        .collect();
    Stacked { title, y_desc: "503 responses per second".into(), x_range: x_range(sc), layers, shades: shades(sc) }
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

/// Every chart of a comparison, written into `dir`.
pub fn comparison(
    dir: &Path,
    plan: &Plan,
    cells: &[Vec<Cell>],
    c: &Comparison,
    detail: usize,
) -> io::Result<Vec<Chart>> {
    let sc = &plan.scenario;
    let names: Vec<&str> = (0..plan.strategies.len()).map(|i| plan.strategy_name(i)).collect();
    let rows = |s: usize| -> Vec<&[Row]> { cells[s].iter().map(|c| c.rows.as_slice()).collect() };
    let seeds = plan.seeds.len();
    let mut charts = Vec::new();

    let lines =
        (0..names.len()).map(|s| Line { label: names[s].to_string(), color: s, points: rate_503(&rows(s)) }).collect();
    charts.push(Chart::render(
        dir,
        "compare-503-rate",
        "503 rate over time",
        &format!("Share of attempts answered 503, per window, pooled over {seeds} seeds. Shaded: chaos events and traffic surges."),
        &TimeLines {
            title: "503 rate over time, by strategy".into(),
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
        "Share of succeeded requests completed within a time (first send to success, retries included), all seeds pooled.",
        &Cdf { title: "Completion time distribution, by strategy".into(), x_desc: "completion time (log scale)".into(), lines },
    )?);

    let panel_metrics: Vec<&String> = c
        .metrics
        .iter()
        .filter(|m| {
            ["rate_503", "success_rate", "completion_p99", "bulk_success_rate", "amplification", "wasted_gpu_seconds"]
                .contains(&m.as_str())
        })
        .collect();
    let panels = panel_metrics
        .iter()
        .map(|m| Panel {
            metric: (*m).clone(),
            unit: catalog::unit(m),
            bars: (0..names.len())
                .filter_map(|s| {
                    let i = c.strategy(names[s])?.metrics.get(*m).copied().flatten()?;
                    Some((names[s].to_string(), s, i.mean, i.lo, i.hi))
                })
                .collect(),
        })
        .collect();
    charts.push(Chart::render(
        dir,
        "compare-headline",
        "Headline metrics",
        &format!("Means over {seeds} seeds with 95% confidence intervals."),
        &Bars { title: "Headline metrics (mean, 95% interval)".into(), panels },
    )?);

    let x_max = c.strategies.iter().map(|s| max_attempts(&s.attempts_per_request)).max().unwrap_or(1).max(2);
    let lines = (0..names.len())
        .filter_map(|s| {
            let shares = &c.strategy(names[s])?.attempts_per_request;
            let points = (1..=x_max)
                .map(|k| {
                    let key = if k >= 16 { "16+".to_string() } else { format!("{k:02}") };
                    (f64::from(k), shares.get(&key).copied().unwrap_or(0.0))
                })
                .collect();
            Some(Line { label: names[s].to_string(), color: s, points })
        })
        .collect();
    charts.push(Chart::render(
        dir,
        "compare-attempts",
        "Attempts per request",
        "How many attempts the compared swarms' ended requests needed, pooled over seeds.",
        &Shares { title: "Attempts per request, by strategy".into(), x_desc: "attempts".into(), x_max, lines },
    )?);

    charts.push(Chart::render(
        dir,
        "compare-causes",
        "503s by cause",
        &format!("Strategy {d}, mean over seeds."),
        &causes(format!("503 responses by cause ({d})"), sc, &rows(detail)),
    )?);
    Ok(charts)
}

fn max_attempts(shares: &std::collections::BTreeMap<String, f64>) -> u32 {
    shares
        .iter()
        .filter(|(_, n)| **n > 0.0)
        .filter_map(|(k, _)| k.trim_end_matches('+').parse::<u32>().ok())
        .max()
        .unwrap_or(1)
}

/// The time-series charts of one run, written into `dir`.
pub fn single_run(dir: &Path, sc: &Scenario, run: &Run) -> io::Result<Vec<Chart>> {
    let rows: Vec<&[Row]> = vec![run.recorder.series.rows()];
    let label = run.summary.strategy.clone();
    Ok(vec![
        Chart::render(
            dir,
            "run-503-rate",
            "503 rate over time",
            "Share of attempts answered 503, per window. Shaded: chaos events and traffic surges.",
            &TimeLines {
                title: "503 rate over time".into(),
                y_desc: "503 rate".into(),
                unit: Unit::Ratio,
                x_range: x_range(sc),
                lines: vec![Line { label, color: 0, points: rate_503(&rows) }],
                shades: shades(sc),
            },
        )?,
        Chart::render(
            dir,
            "run-capacity",
            "Offered load and GPU instances",
            "The gap between the load rising and instances becoming ready is the autoscaling lag.",
            &capacity("Offered load and GPU instances".into(), sc, &rows),
        )?,
        Chart::render(
            dir,
            "run-causes",
            "503s by cause",
            "503 responses per second, by cause.",
            &causes("503 responses by cause".into(), sc, &rows),
        )?,
    ])
}

/// The metrics a sweep charts, when it reports them.
const SWEEP_CHARTED: [&str; 5] =
    ["rate_503", "success_rate", "completion_p99", "bulk_success_rate", "instance_seconds"];

/// Most series on one band chart; a larger grid is summarised by its first ones.
const MAX_SERIES: usize = 12;

/// The charts of a sweep, written into `dir`: each charted metric against the
/// first varied key, and a heatmap over the first two keys when there are two.
pub fn sweep(dir: &Path, sw: &crate::sweep::Sweep, r: &crate::sweep::result::SweepResult) -> io::Result<Vec<Chart>> {
    use super::figures::{BandSeries, Bands, Heatmap};
    let grid = &sw.grid;
    let x_axis = &grid.axes[0];
    let numeric = x_axis.numeric();
    let x_of = |l: usize| if numeric { x_axis.levels[l].number.unwrap_or(l as f64) } else { l as f64 };
    // Points sharing the levels of every axis but the first, in order.
    let rest: usize = grid.axes[1..].iter().map(|a| a.levels.len()).product();
    let mut charts = Vec::new();
    for m in SWEEP_CHARTED.iter().filter(|m| r.metrics.iter().any(|x| x == *m)) {
        let info = catalog::info(m).expect("catalogued");
        let mut series = Vec::new();
        for label in &r.strategies {
            for o in 0..rest {
                let points: Vec<(f64, f64, f64, f64)> = (0..x_axis.levels.len())
                    .filter_map(|l| {
                        let p = l * rest + o;
                        let i = r.at(p, label)?.metrics.get(*m).copied().flatten()?;
                        Some((x_of(l), i.mean, i.lo, i.hi))
                    })
                    .collect();
                let others = grid.label(o).split(", ").skip(1).collect::<Vec<_>>().join(", ");
                let name = match (r.strategies.len() > 1, others.is_empty()) {
                    (true, true) => label.clone(),
                    (true, false) => format!("{label}, {others}"),
                    (false, true) => label.clone(),
                    (false, false) => others,
                };
                series.push(BandSeries { label: name, color: series.len(), points });
            }
        }
        let truncated = series.len() > MAX_SERIES;
        series.truncate(MAX_SERIES);
        let caption = format!(
            "Mean over {} seeds with its 95% interval{}.",
            r.seeds.len(),
            if truncated { format!("; the first {MAX_SERIES} series of the grid are drawn") } else { String::new() }
        );
        charts.push(Chart::render(
            dir,
            &format!("sweep-{m}"),
            &format!("{} against {}", catalog::label(m), x_axis.key),
            &caption,
            &Bands {
                title: format!("{} against {}", catalog::label(m), x_axis.key),
                x_desc: x_axis.key.clone(),
                y_desc: catalog::label(m).to_string(),
                unit: info.unit,
                categories: (!numeric).then(|| x_axis.levels.iter().map(|l| l.text.clone()).collect()),
                series,
                threshold: None,
            },
        )?);
        if grid.axes.len() >= 2 {
            let y_axis = &grid.axes[1];
            let inner: usize = grid.axes[2..].iter().map(|a| a.levels.len()).product();
            for label in &r.strategies {
                let values: Vec<Vec<Option<f64>>> = (0..y_axis.levels.len())
                    .map(|y| {
                        (0..x_axis.levels.len())
                            .map(|x| {
                                let p = (x * y_axis.levels.len() + y) * inner;
                                r.at(p, label)?.metrics.get(*m).copied().flatten().map(|i| i.mean)
                            })
                            .collect()
                    })
                    .collect();
                let name = if r.strategies.len() > 1 {
                    format!("sweep-heatmap-{m}-{label}")
                } else {
                    format!("sweep-heatmap-{m}")
                };
                let fixed = if grid.axes.len() > 2 { " (further keys at their first value)" } else { "" };
                charts.push(Chart::render(
                    dir,
                    &name,
                    &format!("{} over {} and {} ({label})", catalog::label(m), x_axis.key, y_axis.key),
                    &format!("Mean over {} seeds{fixed}; darker is better.", r.seeds.len()),
                    &Heatmap {
                        title: format!("{} ({label})", catalog::label(m)),
                        x_desc: x_axis.key.clone(),
                        y_desc: y_axis.key.clone(),
                        x_labels: x_axis.levels.iter().map(|l| l.text.clone()).collect(),
                        y_labels: y_axis.levels.iter().map(|l| l.text.clone()).collect(),
                        values,
                        unit: info.unit,
                        higher_is_better: info.better == catalog::Better::Higher,
                    },
                )?);
            }
        }
    }
    Ok(charts)
}

/// The charts of a plan, written into `dir`: each SLO's metric against the
/// tuned key with its limit, and the cost.
pub fn plan(dir: &Path, r: &crate::plan::PlanResult, slos: &[crate::slo::Threshold]) -> io::Result<Vec<Chart>> {
    use super::figures::{BandSeries, Bands};
    let mut charts = Vec::new();
    let key = &r.key;
    for (k, t) in slos.iter().enumerate() {
        let points = r
            .evaluated
            .iter()
            .filter_map(|c| {
                let i = c.slos.get(k)?.value?;
                Some((c.number, i.mean, i.lo, i.hi))
            })
            .collect();
        let info = catalog::info(t.metric).expect("thresholds name catalogued metrics");
        charts.push(Chart::render(
            dir,
            &format!("plan-{}", t.metric),
            &format!("{} against {key}", catalog::label(t.metric)),
            &format!(
                "Values the planner evaluated: mean over {} seeds with its 95% interval; dashed: the SLO.",
                r.seeds.len()
            ),
            &Bands {
                title: format!("{} against {key}", catalog::label(t.metric)),
                x_desc: key.clone(),
                y_desc: catalog::label(t.metric).to_string(),
                unit: info.unit,
                categories: None,
                series: vec![BandSeries { label: "simulated".into(), color: 0, points }],
                threshold: Some((t.limit, format!("SLO {t}"))),
            },
        )?);
    }
    let points = r
        .evaluated
        .iter()
        .filter_map(|c| c.cost.map(|i| (c.number, i.mean / 3600.0, i.lo / 3600.0, i.hi / 3600.0)))
        .collect();
    charts.push(Chart::render(
        dir,
        "plan-cost",
        &format!("Cost against {key}"),
        "Instance-hours paid over the run (provisioning included), mean over seeds with its 95% interval.",
        &Bands {
            title: format!("Cost against {key}"),
            x_desc: key.clone(),
            y_desc: "instance-hours".into(),
            unit: Unit::Number,
            categories: None,
            series: vec![BandSeries { label: "instance-hours".into(), color: 1, points }],
            threshold: None,
        },
    )?);
    Ok(charts)
}
