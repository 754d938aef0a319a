//! From sweeps and plans to figures: a metric against a varied key, with every
//! seed's value beside the mean and its interval, and heatmaps over two keys.
//!
//! Resource time (instance-seconds, GPU-seconds) is drawn in hours; counts
//! (instances, slots) get integer ticks and durations ticks with units. A
//! plan's charts show the values the planner evaluated and nothing between
//! them: bisection skips values, and a line across a cliff would invent them.

use std::io;

use super::Chart;
use super::heatmap::Heatmap;
use super::intervals::{BandSeries, Bands, XAxis};
use crate::criteria::metric::{Better, Metric, Unit, unit_of};
use crate::report::folder::ReportDir;
use crate::report::{spread, units};
use crate::stats::Interval;

/// The metrics a sweep charts when it reports the default (headline) set;
/// metrics named with `--metrics` are all charted.
const SWEEP_CHARTED: [&str; 5] =
    ["rate_503", "success_rate", "completion_p99", "bulk_success_rate", "instance_seconds"];

/// The metrics to chart of those a sweep reports.
fn charted(reported: &[String]) -> Vec<&str> {
    let headline = |bulk| Metric::headline(bulk).iter().map(|m| m.name()).eq(reported.iter().map(String::as_str));
    let default = headline(true) || headline(false);
    reported.iter().map(String::as_str).filter(|m| !default || SWEEP_CHARTED.contains(m)).collect()
}

/// Most series on one chart; a larger grid is summarised by its first ones.
const MAX_SERIES: usize = 12;

/// The axis for values written as `texts` at positions `numbers`.
fn x_axis<'a>(texts: impl Iterator<Item = &'a str> + Clone, numbers: &[Option<f64>]) -> XAxis {
    if numbers.iter().any(Option::is_none) {
        return XAxis::Categories(texts.map(String::from).collect());
    }
    if texts.clone().any(|t| t.parse::<f64>().is_err()) {
        XAxis::Duration
    } else if numbers.iter().flatten().all(|n| n.fract() == 0.0) {
        XAxis::Integer
    } else {
        XAxis::Number
    }
}

/// A value as the chart draws it (resource time in hours).
fn shown(metric: &str, v: f64) -> f64 {
    if units::scale(metric) == units::Scale::Hours { v / 3600.0 } else { v }
}

/// The unit of a chart's y axis, and its description.
fn y_axis(metric: &str) -> (Unit, String) {
    match units::scale(metric) {
        units::Scale::Hours => (Unit::Number, units::label(metric).replace("-h", "-hours").replace(" h", " hours")),
        _ => (unit_of(metric), units::label(metric)),
    }
}

/// (x, mean, lo, hi) in chart units, the interval clipped to the metric's range.
fn point(metric: &str, x: f64, i: &Interval) -> (f64, f64, f64, f64) {
    let c = spread::clamp(metric, i);
    (x, shown(metric, c.mean), shown(metric, c.lo), shown(metric, c.hi))
}

/// The charts of a sweep, written into `dir`: each charted metric against the
/// first varied key, and a heatmap over the first two keys when there are two.
pub fn sweep(
    dir: &ReportDir,
    sw: &crate::sweep::Sweep,
    r: &crate::sweep::result::SweepResult,
) -> io::Result<Vec<Chart>> {
    let grid = &sw.grid;
    let x_key = &grid.axes[0];
    let numbers: Vec<Option<f64>> = x_key.levels.iter().map(|l| l.number).collect();
    let axis = x_axis(x_key.levels.iter().map(|l| l.text.as_str()), &numbers);
    let x_of = |l: usize| match axis {
        XAxis::Categories(_) => l as f64,
        _ => numbers[l].unwrap_or(l as f64),
    };
    // Points sharing the levels of every axis but the first, in order.
    let rest: usize = grid.axes[1..].iter().map(|a| a.levels.len()).product();
    let mut charts = Vec::new();
    for m in charted(&r.metrics) {
        let mut series = Vec::new();
        let mut splits = Vec::new();
        for label in &r.strategies {
            for o in 0..rest {
                let others = grid.label(o).split(", ").skip(1).collect::<Vec<_>>().join(", ");
                let name = match (r.strategies.len() > 1, others.is_empty()) {
                    (true, false) => format!("{label}, {others}"),
                    (false, false) => others,
                    (_, true) => label.clone(),
                };
                let mut s =
                    BandSeries { label: name.clone(), color: series.len(), points: Vec::new(), seeds: Vec::new() };
                for l in 0..x_key.levels.len() {
                    let Some(p) = r.at(l * rest + o, label) else { continue };
                    let x = x_of(l);
                    let values = p.per_seed.get(m).map_or(&[][..], Vec::as_slice);
                    s.seeds.extend(values.iter().flatten().map(|&v| (x, shown(m, v))));
                    if let Some(i) = p.metrics.get(m).copied().flatten() {
                        s.points.push(point(m, x, &i));
                    }
                    if spread::split_of(m, values).is_some() {
                        splits.push(format!("{}={} ({name})", x_key.key, x_key.levels[l].text));
                    }
                }
                series.push(s);
            }
        }
        let truncated = series.len() > MAX_SERIES;
        series.truncate(MAX_SERIES);
        let mut caption = format!("Mean over {} seeds with its 95% interval; circles: each seed", r.seeds.len());
        if truncated {
            caption.push_str(&format!("; the first {MAX_SERIES} series of the grid are drawn"));
        }
        caption.push('.');
        if !splits.is_empty() {
            caption.push_str(&format!(
                " The seeds split into two groups at {}: the mean there is no seed's outcome.",
                splits.join(", ")
            ));
        }
        let (unit, y_desc) = y_axis(m);
        let title = format!("{} against {}", units::label(m), x_key.key);
        charts.push(Chart::render(
            dir,
            &format!("sweep-{m}"),
            &title,
            &caption,
            &Bands {
                title: title.clone(),
                x_desc: x_key.key.clone(),
                y_desc,
                unit,
                x_axis: axis.clone(),
                series,
                threshold: None,
                connect: true,
            },
        )?);
        if grid.axes.len() >= 2 {
            charts.extend(heatmaps(dir, sw, r, m)?);
        }
    }
    Ok(charts)
}

/// A heatmap per strategy of `m` over the first two keys.
fn heatmaps(
    dir: &ReportDir,
    sw: &crate::sweep::Sweep,
    r: &crate::sweep::result::SweepResult,
    m: &str,
) -> io::Result<Vec<Chart>> {
    let grid = &sw.grid;
    let (x_key, y_key) = (&grid.axes[0], &grid.axes[1]);
    let info = Metric::from_name(m).expect("charted metrics are metrics");
    let inner: usize = grid.axes[2..].iter().map(|a| a.levels.len()).product();
    let mut charts = Vec::new();
    let values_of = |label: &str| -> Vec<Vec<Option<f64>>> {
        (0..y_key.levels.len())
            .map(|y| {
                (0..x_key.levels.len())
                    .map(|x| {
                        let p = (x * y_key.levels.len() + y) * inner;
                        r.at(p, label)?.metrics.get(m).copied().flatten().map(|i| i.mean)
                    })
                    .collect()
            })
            .collect()
    };
    let per_strategy: Vec<Vec<Vec<Option<f64>>>> = r.strategies.iter().map(|l| values_of(l)).collect();
    // One colour scale for every strategy's heatmap of `m`: side by side,
    // one colour is one value.
    let all = || per_strategy.iter().flatten().flatten().flatten().copied().filter(|v| v.is_finite());
    let range = all().next().map(|_| (all().fold(f64::INFINITY, f64::min), all().fold(f64::NEG_INFINITY, f64::max)));
    let shared = if r.strategies.len() > 1 { " The strategies' heatmaps share one colour scale." } else { "" };
    for (label, values) in r.strategies.iter().zip(per_strategy) {
        let name =
            if r.strategies.len() > 1 { format!("sweep-heatmap-{m}-{label}") } else { format!("sweep-heatmap-{m}") };
        let fixed = if grid.axes.len() > 2 { " (further keys at their first value)" } else { "" };
        charts.push(Chart::render(
            dir,
            &name,
            &format!("{} over {} and {}, strategy {label}", units::label(m), x_key.key, y_key.key),
            &format!(
                "Mean over {} seeds{fixed}; the colour bar maps colours to values, darker is better.{shared}",
                r.seeds.len()
            ),
            &Heatmap {
                title: format!("{}, strategy {label}", units::label(m)),
                x_desc: x_key.key.clone(),
                y_desc: y_key.key.clone(),
                x_labels: x_key.levels.iter().map(|l| l.text.clone()).collect(),
                y_labels: y_key.levels.iter().map(|l| l.text.clone()).collect(),
                values,
                scale: units::scale(m),
                higher_is_better: info.better() == Better::Higher,
                range,
            },
        )?);
    }
    Ok(charts)
}

/// The charts of a plan, written into `dir`: each SLO's metric against the
/// tuned key with its limit, and the cost, at the evaluated values only.
pub fn plan(
    dir: &ReportDir,
    r: &crate::plan::PlanResult,
    slos: &[crate::criteria::slo::Threshold],
) -> io::Result<Vec<Chart>> {
    let key = &r.key;
    let numbers: Vec<Option<f64>> = r.evaluated.iter().map(|c| Some(c.number)).collect();
    let axis = x_axis(r.evaluated.iter().map(|c| c.value.as_str()), &numbers);
    let seeds = r.seeds.len();
    let mut charts = Vec::new();
    // The recommendation, then the other values that meet every SLO, then
    // those that miss one: the answer stands out from what bisection tried.
    let groups = |c: &crate::plan::Candidate| {
        if r.recommendation.as_deref() == Some(c.value.as_str()) {
            0
        } else if c.passed {
            1
        } else {
            2
        }
    };
    let recommended = r.recommendation.as_ref().map_or("none".to_string(), |v| format!("{key} = {v}"));
    let labels = [format!("recommended: {recommended}"), "meets every SLO".to_string(), "misses an SLO".to_string()];
    let colours = [2, 0, 1];
    let split = |per: &dyn Fn(&crate::plan::Candidate, &mut BandSeries)| -> Vec<BandSeries> {
        (0..3)
            .filter_map(|g| {
                let mut s =
                    BandSeries { label: labels[g].clone(), color: colours[g], points: Vec::new(), seeds: Vec::new() };
                r.evaluated.iter().filter(|c| groups(c) == g).for_each(|c| per(c, &mut s));
                (!s.points.is_empty() || !s.seeds.is_empty()).then_some(s)
            })
            .collect()
    };
    for (k, t) in slos.iter().enumerate() {
        let m = t.metric.name();
        let series = split(&|c, s| {
            let Some(check) = c.slos.get(k) else { return };
            s.seeds.extend(check.per_seed.iter().flatten().map(|&v| (c.number, shown(m, v))));
            if let Some(i) = check.value {
                s.points.push(point(m, c.number, &i));
            }
        });
        let (unit, y_desc) = y_axis(m);
        let title = format!("{} against {key}", units::label(m));
        charts.push(Chart::render(
            dir,
            &format!("plan-{m}"),
            &title,
            &format!(
                "The values the planner evaluated (bisection skips the others): mean over {seeds} seeds with its 95% interval, circles: each seed; dashed: the SLO."
            ),
            &Bands {
                title: title.clone(),
                x_desc: key.clone(),
                y_desc,
                unit,
                x_axis: axis.clone(),
                series,
                threshold: Some((shown(m, t.limit), format!("SLO {t}"))),
                connect: false,
            },
        )?);
    }
    let m = "instance_seconds";
    let series = split(&|c, s| {
        s.seeds.extend(c.cost_per_seed.iter().map(|&v| (c.number, shown(m, v))));
        if let Some(i) = c.cost {
            s.points.push(point(m, c.number, &i));
        }
    });
    charts.push(Chart::render(
        dir,
        "plan-cost",
        &format!("Cost against {key}"),
        "Instance-hours paid over the run (provisioning included) at the evaluated values: mean over seeds with its 95% interval, circles: each seed.",
        &Bands {
            title: format!("Cost against {key}"),
            x_desc: key.clone(),
            y_desc: "instance-hours".into(),
            unit: Unit::Number,
            x_axis: axis,
            series,
            threshold: None,
            connect: false,
        },
    )?);
    Ok(charts)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Metrics named with --metrics are all charted; the default set, its five key ones.
    #[test]
    fn a_sweep_charts_every_metric_asked_for_and_five_of_the_default_set() {
        let names = |ms: Vec<Metric>| ms.iter().map(|m| m.name().to_string()).collect::<Vec<_>>();
        let asked = vec!["amplification".to_string(), "completion_p50".to_string()];
        assert_eq!(charted(&asked), ["amplification", "completion_p50"]);
        assert_eq!(charted(&names(Metric::headline(true))), SWEEP_CHARTED);
        let without_bulk = names(Metric::headline(false));
        assert_eq!(charted(&without_bulk), ["rate_503", "success_rate", "completion_p99", "instance_seconds"]);
    }

    #[test]
    fn axes_know_counts_durations_and_categories() {
        assert_eq!(x_axis(["16", "28", "64"].into_iter(), &[Some(16.0), Some(28.0), Some(64.0)]), XAxis::Integer);
        assert_eq!(x_axis(["1m", "90s"].into_iter(), &[Some(60.0), Some(90.0)]), XAxis::Duration);
        assert_eq!(x_axis(["0.5", "0.7"].into_iter(), &[Some(0.5), Some(0.7)]), XAxis::Number);
        assert!(matches!(x_axis(["a", "b"].into_iter(), &[None, None]), XAxis::Categories(_)));
    }

    fn svg(fig: &Bands) -> String {
        use crate::report::charts::Figure;
        use plotters::prelude::*;
        super::super::register_font();
        let mut out = String::new();
        {
            let root = SVGBackend::with_string(&mut out, fig.size()).into_drawing_area();
            fig.draw(&root).expect("draws");
            root.present().expect("presents");
        }
        out
    }

    #[test]
    fn the_plan_chart_draws_only_the_evaluated_points() {
        // Bisection evaluated 16, 28, 29 and 64: a cliff between 28 and 29.
        let series = BandSeries {
            label: "evaluated".into(),
            color: 0,
            points: vec![
                (16.0, 0.64, 0.61, 0.67),
                (28.0, 0.07, 0.0, 0.2),
                (29.0, 0.004, 0.002, 0.006),
                (64.0, 0.0, 0.0, 0.0),
            ],
            seeds: vec![(28.0, 0.58), (28.0, 0.01)],
        };
        let fig = |connect| Bands {
            title: "t".into(),
            x_desc: "k".into(),
            y_desc: "503 rate".into(),
            unit: Unit::Ratio,
            x_axis: XAxis::Integer,
            series: vec![series.clone()],
            threshold: None,
            connect,
        };
        // A line through the points is a polyline of the series colour
        // (axes and ticks are black); the plan's chart has none.
        let joined = |svg: &str| svg.lines().any(|l| l.contains("<polyline") && l.contains("#0072B2"));
        assert!(joined(&svg(&fig(true))), "a sweep joins its points");
        assert!(!joined(&svg(&fig(false))), "a plan draws none across the cliff");
    }
}
