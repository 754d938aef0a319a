//! The figures over simulated time and shares: plain data in, a plotters
//! drawing out, and the axis helpers every figure shares. Figures of values
//! with intervals are in [`super::intervals`], heatmaps in [`super::heatmap`].

use std::ops::Range;

use plotters::coord::Shift;
use plotters::coord::ranged1d::{BoldPoints, DefaultFormatting, KeyPointHint, LightPoints, Ranged};
use plotters::coord::types::RangedCoordf64;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use super::{FAMILY, Figure, color};
use crate::criteria::Unit;
use crate::time::format_secs;

type DrawResult<DB> = Result<(), DrawingAreaErrorKind<<DB as DrawingBackend>::ErrorType>>;

/// A named series of (x, y) points, drawn in `color(color)`.
#[derive(Clone, Debug)]
pub struct Line {
    pub label: String,
    pub color: usize,
    pub points: Vec<(f64, f64)>,
}

/// A shaded window of time (minutes), e.g. a chaos event or a surge.
#[derive(Clone, Debug)]
pub struct Shade {
    pub start: f64,
    pub end: f64,
    pub label: String,
}

pub(super) fn y_top(values: impl Iterator<Item = f64>, floor: f64) -> f64 {
    let m = values.filter(|v| v.is_finite()).fold(0.0_f64, f64::max);
    (m * 1.12).max(floor)
}

/// The top of an axis in `unit` for `values`: just above the largest, or,
/// when every value is zero, a round span of the unit (1%, 1 s, 1) rather
/// than a sliver whose ticks all print as 0.
pub(super) fn y_top_in(unit: Unit, values: impl Iterator<Item = f64>) -> f64 {
    let top = y_top(values, 0.0);
    if top > 0.0 {
        return top;
    }
    match unit {
        Unit::Ratio => 0.01,
        Unit::Duration | Unit::Number => 1.0,
    }
}

/// `v` with as few decimals as show it exactly, up to `max`.
fn shortest(v: f64, max: usize) -> String {
    let d = (0..max).find(|&d| {
        let f = 10f64.powi(d as i32);
        ((v * f).round() - v * f).abs() < 1e-6
    });
    format!("{:.*}", d.unwrap_or(max), v)
}

/// `v` with as few decimals as show it exactly (up to 3): time axes in hours
/// tick at 0.5, which "{:.0}" would print as "0 0 1 1".
pub fn exact(v: f64) -> String {
    let d = (0..3).find(|&d| {
        let f = 10f64.powi(d);
        ((v * f).round() - v * f).abs() < 1e-6
    });
    format!("{:.*}", d.unwrap_or(3) as usize, v)
}

/// A percentage with as few decimals as show `v` exactly (up to 4): axis
/// ticks are round numbers, so 0..1% gets "0.2%", "0.4%" rather than the
/// "0% 0% 1% 1%" a fixed "{:.0}%" prints.
pub fn percent(v: f64) -> String {
    let pct = v * 100.0;
    let d = (0..4).find(|&d| {
        let f = 10f64.powi(d);
        ((pct * f).round() - pct * f).abs() < 1e-6
    });
    format!("{:.*}%", d.unwrap_or(4) as usize, pct)
}

/// A duration tick without trailing zeros: "6s", "50s", "1m30s", "5m",
/// "2h", "250ms".
pub fn duration_tick(v: f64) -> String {
    let s = format_secs(v);
    if let Some(whole) = s.strip_suffix("m00s").or_else(|| s.strip_suffix("h00m")) {
        return format!("{whole}{}", if s.ends_with('s') { "m" } else { "h" });
    }
    match s.strip_suffix('s').and_then(|n| n.parse::<f64>().ok()) {
        Some(n) if !s.ends_with("ms") && n.fract() == 0.0 => format!("{n:.0}s"),
        _ => s,
    }
}

/// Steps of a duration axis past a minute, in seconds, each with the step
/// of its light lines: the clock's own divisions, where plotters' decimal
/// ones put ticks at 50s, 1m40s, 2m30s.
const CLOCK_STEPS: [(f64, f64); 14] = [
    (15.0, 5.0),
    (30.0, 10.0),
    (60.0, 10.0),
    (120.0, 30.0),
    (300.0, 60.0),
    (600.0, 120.0),
    (900.0, 300.0),
    (1800.0, 300.0),
    (3600.0, 600.0),
    (7200.0, 1800.0),
    (10800.0, 3600.0),
    (21600.0, 3600.0),
    (43200.0, 7200.0),
    (86400.0, 21600.0),
];

/// Plotters' default number of labels on a mesh axis.
pub(super) const MESH_LABELS: usize = 11;

/// A linear axis with chosen ticks. Plotters' own `WithKeyPoints` over
/// `f64` takes no label formatter, so this is its twin that does.
#[derive(Clone)]
pub(super) struct Ticked {
    inner: RangedCoordf64,
    bold: Vec<f64>,
    light: Vec<f64>,
}

impl Ranged for Ticked {
    type ValueType = f64;
    type FormatOption = DefaultFormatting;

    fn range(&self) -> Range<f64> {
        self.inner.range()
    }

    fn map(&self, value: &f64, limit: (i32, i32)) -> i32 {
        self.inner.map(value, limit)
    }

    fn key_points<H: KeyPointHint>(&self, hint: H) -> Vec<f64> {
        if hint.weight().allow_light_points() { self.light.clone() } else { self.bold.clone() }
    }

    fn axis_pixel_range(&self, limit: (i32, i32)) -> Range<i32> {
        self.inner.axis_pixel_range(limit)
    }
}

/// A linear axis from `lo` to `hi` with about `labels` ticks. In
/// [`Unit::Duration`] past a minute the ticks fall on clock divisions
/// ([`CLOCK_STEPS`]); otherwise they are exactly plotters' own, bold and light.
pub(super) fn value_axis(unit: Unit, lo: f64, hi: f64, labels: usize) -> Ticked {
    let inner: RangedCoordf64 = (lo..hi).into();
    let labels = labels.max(2);
    let clock = (unit == Unit::Duration && hi - lo > 60.0)
        .then(|| CLOCK_STEPS.iter().find(|(step, _)| (hi - lo) / step <= labels as f64))
        .flatten();
    let Some(&(step, light)) = clock else {
        let bold = inner.key_points(BoldPoints(labels));
        let light = inner.key_points(LightPoints::new(labels, labels * 10));
        return Ticked { inner, bold, light };
    };
    let multiples = |step: f64| {
        let (first, last) = ((lo / step).ceil() as i64, (hi / step).floor() as i64);
        (first..=last).map(move |k| k as f64 * step)
    };
    let bold = multiples(step).collect();
    let light = multiples(light).filter(|v| (v / step).fract() != 0.0).collect();
    Ticked { inner, bold, light }
}

/// A tick label in a metric's unit, precise enough for an axis up to `top`.
pub fn tick(unit: Unit, top: f64, v: f64) -> String {
    match unit {
        Unit::Ratio => percent(v),
        Unit::Duration => duration_tick(v),
        Unit::Number => {
            if v.abs() >= 10_000.0 {
                format!("{:.0}k", v / 1000.0)
            } else if top >= 10.0 || v == 0.0 {
                format!("{v:.0}")
            } else {
                // Ticks of a small axis are 0.05 or 0.0002 apart: as many
                // decimals as each needs, so no two print alike.
                shortest(v, 6)
            }
        }
    }
}

/// Log-axis ticks from a minute on, coarse to fine: about a tenfold step
/// (1m, 10m, 1h, 10h, 1d), then 1-2-5 like, then every clock step.
const CLOCK_LOG: [&[f64]; 3] = [
    &[60.0, 600.0, 3600.0, 36000.0, 86400.0],
    &[60.0, 120.0, 300.0, 600.0, 1200.0, 1800.0, 3600.0, 7200.0, 18000.0, 36000.0, 86400.0],
    &[
        60.0, 90.0, 120.0, 180.0, 240.0, 300.0, 420.0, 600.0, 900.0, 1200.0, 1800.0, 2700.0, 3600.0, 5400.0, 7200.0,
        10800.0, 18000.0, 36000.0, 86400.0,
    ],
];

/// Ticks for a logarithmic time axis from `lo` to `hi` seconds: whole
/// decades, else 1-2-5 or every digit of each decade, whichever first gives
/// three, else evenly spaced ones. Plotters' own log ticks put a minor tick
/// at ten times a decade, on the next decade's tick, which printed two
/// "10.0s" labels on top of each other. No two ticks print alike
/// ([`duration_tick`]).
pub fn log_ticks(lo: f64, hi: f64) -> Vec<f64> {
    // Below a minute, mantissas times decades; from a minute on, the
    // clock's own steps (`CLOCK_LOG`), where 100 s would print as 1m40s.
    let in_range = |mantissas: &[f64], clock: &[f64]| -> Vec<f64> {
        let mut out = Vec::new();
        let mut decade = 10f64.powf(lo.log10().floor());
        while decade < 60.0 {
            // Not 50 s next to 1m: on a log axis they would touch.
            out.extend(mantissas.iter().map(|m| m * decade).filter(|v| *v < 40.0 && (lo..=hi).contains(v)));
            decade *= 10.0;
        }
        out.extend(clock.iter().copied().filter(|v| (lo..=hi).contains(v)));
        out
    };
    let digits: Vec<f64> = (1..10).map(f64::from).collect();
    let ticks = [(&[1.0][..], &CLOCK_LOG[0]), (&[1.0, 2.0, 5.0], &CLOCK_LOG[1]), (&digits, &CLOCK_LOG[2])]
        .into_iter()
        .map(|(m, c)| in_range(m, c))
        .find(|t| t.len() >= 3)
        .unwrap_or_else(|| {
            let axis: RangedCoordf64 = (lo..hi).into();
            axis.key_points(5)
        });
    let mut shown = Vec::new();
    ticks.into_iter().fold(Vec::new(), |mut kept, v| {
        let label = duration_tick(v);
        if shown.last() != Some(&label) {
            shown.push(label);
            kept.push(v);
        }
        kept
    })
}

/// A tick label for a count (instances): integers only, blank in between.
pub fn integer_tick(v: f64) -> String {
    let k = v.round();
    if (v - k).abs() < 1e-6 { format!("{k:.0}") } else { String::new() }
}

/// How many ticks an axis of counts up to `top` needs for every one to be an integer.
pub fn integer_ticks(top: f64) -> usize {
    (top.floor() as usize + 1).clamp(2, 11)
}

/// The offered-load area of capacity charts.
const LOAD: RGBColor = RGBColor(150, 150, 150);

/// Shading of chaos events and surges: a hue no series uses.
const SHADE: RGBColor = RGBColor(240, 200, 40);
const SHADE_INK: RGBColor = RGBColor(140, 100, 0);
// The load area is grey (equal channels); the shade has a hue, so the two never look alike.
const _: () = assert!(LOAD.0 == LOAD.1 && LOAD.1 == LOAD.2 && SHADE.0 != SHADE.2);

/// Draws the shaded windows on a chart whose y axis runs from 0 to `top`.
fn draw_shades<'a, DB: DrawingBackend + 'a, Y: Ranged<ValueType = f64>>(
    chart: &mut ChartContext<'a, DB, Cartesian2d<RangedCoordf64, Y>>,
    shades: &[Shade],
    top: f64,
) -> DrawResult<DB> {
    for (i, s) in shades.iter().enumerate() {
        if s.end > s.start {
            chart.draw_series(std::iter::once(Rectangle::new(
                [(s.start, 0.0), (s.end, top)],
                SHADE.mix(0.22).filled(),
            )))?;
        } else {
            chart.draw_series(std::iter::once(PathElement::new(
                vec![(s.start, 0.0), (s.start, top)],
                SHADE.mix(0.9).stroke_width(2),
            )))?;
        }
        // Stagger labels so neighbouring windows stay readable.
        let y = top * (0.96 - 0.06 * (i % 3) as f64);
        chart.draw_series(std::iter::once(Text::new(
            s.label.clone(),
            (s.start, y),
            (FAMILY, 13).into_font().color(&SHADE_INK),
        )))?;
    }
    Ok(())
}

/// The frame every full-size figure shares: title, margin, axis label room.
pub(super) fn frame<'a, 'b, DB: DrawingBackend>(
    root: &'a DrawingArea<DB, Shift>,
    title: &'b str,
) -> ChartBuilder<'a, 'b, DB> {
    let mut b = ChartBuilder::on(root);
    b.caption(title, (FAMILY, 22)).margin(14).x_label_area_size(45).y_label_area_size(70);
    b
}

pub(super) fn legend<'a, DB: DrawingBackend + 'a, CT: CoordTranslate>(
    chart: &mut ChartContext<'a, DB, CT>,
) -> DrawResult<DB> {
    legend_at(chart, SeriesLabelPosition::UpperRight)
}

/// The corner of a chart spanning `x` × `y` where a legend covers the least
/// of `lines` (each a polyline, sampled between its points too): upper
/// right unless something is drawn there. A legend box of a few entries
/// takes about the outer 28% of the width and 22% of the height.
pub(super) fn quiet_corner<'l>(
    lines: impl Iterator<Item = &'l [(f64, f64)]>,
    x: (f64, f64),
    y: (f64, f64),
) -> SeriesLabelPosition {
    let corners = [
        SeriesLabelPosition::UpperRight,
        SeriesLabelPosition::UpperLeft,
        SeriesLabelPosition::LowerRight,
        SeriesLabelPosition::LowerLeft,
    ];
    let mut covered = [0usize; 4];
    let (w, h) = ((x.1 - x.0).max(f64::MIN_POSITIVE), (y.1 - y.0).max(f64::MIN_POSITIVE));
    let mut see = |px: f64, py: f64| {
        let (u, v) = ((px - x.0) / w, (py - y.0) / h);
        let (right, left, top, bottom) = (u > 0.72, u < 0.28, v > 0.78, v < 0.22);
        for (i, hit) in [right && top, left && top, right && bottom, left && bottom].into_iter().enumerate() {
            covered[i] += usize::from(hit);
        }
    };
    for line in lines {
        for (i, &(px, py)) in line.iter().enumerate() {
            see(px, py);
            if let Some(&(qx, qy)) = line.get(i + 1) {
                for k in 1..8 {
                    let t = f64::from(k) / 8.0;
                    see(px + (qx - px) * t, py + (qy - py) * t);
                }
            }
        }
    }
    let best = (0..4).min_by_key(|&i| covered[i]).unwrap_or(0);
    corners.into_iter().nth(best).unwrap_or(SeriesLabelPosition::UpperRight)
}

pub(super) fn legend_at<'a, DB: DrawingBackend + 'a, CT: CoordTranslate>(
    chart: &mut ChartContext<'a, DB, CT>,
    at: SeriesLabelPosition,
) -> DrawResult<DB> {
    chart
        .configure_series_labels()
        .position(at)
        .background_style(WHITE.mix(0.85))
        .border_style(BLACK.mix(0.3))
        .label_font((FAMILY, 14))
        .draw()
}

/// Lines over simulated time, with shaded windows.
#[derive(Debug)]
pub struct TimeLines {
    pub title: String,
    /// "simulated time (minutes)" or "(hours)": the unit of `x_range` and the points.
    pub x_desc: String,
    pub y_desc: String,
    pub unit: Unit,
    pub x_range: (f64, f64),
    pub lines: Vec<Line>,
    pub shades: Vec<Shade>,
}

impl Figure for TimeLines {
    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> DrawResult<DB> {
        let top = y_top(self.lines.iter().flat_map(|l| l.points.iter().map(|p| p.1)), 0.01);
        let top = if self.unit == Unit::Ratio { top.min(1.0) } else { top };
        let y = value_axis(self.unit, 0.0, top, MESH_LABELS);
        let mut chart = frame(root, &self.title).build_cartesian_2d(self.x_range.0..self.x_range.1, y)?;
        let unit = self.unit;
        chart
            .configure_mesh()
            .x_desc(&self.x_desc)
            .y_desc(&self.y_desc)
            .label_style((FAMILY, 14))
            .axis_desc_style((FAMILY, 15))
            .y_label_formatter(&|v| tick(unit, top, *v))
            .x_label_formatter(&|v| exact(*v))
            .light_line_style(BLACK.mix(0.05))
            .draw()?;
        draw_shades(&mut chart, &self.shades, top)?;
        for l in &self.lines {
            let c = color(l.color);
            chart
                .draw_series(LineSeries::new(l.points.iter().copied(), c.stroke_width(2)))?
                .label(l.label.clone())
                .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 18, y)], c.stroke_width(3)));
            chart.draw_series(lone(&l.points).map(|p| Circle::new(p, 4, c.filled())))?;
        }
        let corner = quiet_corner(self.lines.iter().map(|l| l.points.as_slice()), self.x_range, (0.0, top));
        legend_at(&mut chart, corner)
    }
}

/// The point of a series that has only one (a run of one window), which a
/// line or an area does not show: it is drawn as a marker.
fn lone(points: &[(f64, f64)]) -> impl Iterator<Item = (f64, f64)> + '_ {
    points.iter().copied().filter(move |_| points.len() == 1)
}

/// An area from 0 up to `line`, as points a corner check sees: the line and
/// the floor under it, where the area is filled.
fn filled(line: &[(f64, f64)]) -> Vec<(f64, f64)> {
    line.iter().flat_map(|&(x, y)| [(x, y), (x, 0.0)]).collect()
}

/// Offered load (left axis) against ready and provisioning instances (right axis).
#[derive(Debug)]
pub struct Capacity {
    pub title: String,
    pub x_desc: String,
    pub x_range: (f64, f64),
    pub offered: Vec<(f64, f64)>,
    pub ready: Vec<(f64, f64)>,
    pub provisioning: Vec<(f64, f64)>,
    pub shades: Vec<Shade>,
}

impl Figure for Capacity {
    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> DrawResult<DB> {
        let top = y_top(self.offered.iter().map(|p| p.1), 1.0);
        // Whole instances at the top, so every tick is an integer.
        let inst = y_top(self.ready.iter().chain(&self.provisioning).map(|p| p.1), 2.0).ceil();
        let mut chart = frame(root, &self.title)
            .right_y_label_area_size(70)
            .build_cartesian_2d(self.x_range.0..self.x_range.1, 0.0..top)?
            .set_secondary_coord(self.x_range.0..self.x_range.1, 0.0..inst);
        chart
            .configure_mesh()
            .x_desc(&self.x_desc)
            .y_desc("offered load (requests/s)")
            .label_style((FAMILY, 14))
            .axis_desc_style((FAMILY, 15))
            .y_label_formatter(&|v| tick(Unit::Number, top, *v))
            .x_label_formatter(&|v| exact(*v))
            .light_line_style(BLACK.mix(0.05))
            .draw()?;
        chart
            .configure_secondary_axes()
            .y_desc("GPU instances")
            .y_labels(integer_ticks(inst))
            .y_label_formatter(&|v| integer_tick(*v))
            .label_style((FAMILY, 14))
            .axis_desc_style((FAMILY, 15))
            .draw()?;
        draw_shades(&mut chart, &self.shades, top)?;
        let load = LOAD;
        chart
            .draw_series(AreaSeries::new(self.offered.iter().copied(), 0.0, load.mix(0.25)).border_style(load))?
            .label("offered load (left)")
            .legend(move |(x, y)| Rectangle::new([(x, y - 5), (x + 18, y + 5)], load.mix(0.4).filled()));
        let (ready, prov) = (color(0), color(1));
        chart
            .draw_secondary_series(LineSeries::new(self.ready.iter().copied(), ready.stroke_width(3)))?
            .label("instances ready (right)")
            .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 18, y)], ready.stroke_width(3)));
        chart
            .draw_secondary_series(DashedLineSeries::new(
                self.provisioning.iter().copied(),
                8,
                5,
                prov.stroke_width(2),
            ))?
            .label("instances in cold start (right)")
            .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 18, y)], prov.stroke_width(2)));
        chart.draw_series(lone(&self.offered).map(|p| Circle::new(p, 5, load.mix(0.6).filled())))?;
        chart.draw_secondary_series(lone(&self.ready).map(|p| Circle::new(p, 4, ready.filled())))?;
        chart.draw_secondary_series(lone(&self.provisioning).map(|p| Circle::new(p, 4, prov.filled())))?;
        // The instance lines on the left axis's scale, for the corner check.
        let on_left = |l: &[(f64, f64)]| l.iter().map(|&(x, y)| (x, y * top / inst)).collect::<Vec<_>>();
        let lines = [filled(&self.offered), on_left(&self.ready), on_left(&self.provisioning)];
        legend_at(&mut chart, quiet_corner(lines.iter().map(Vec::as_slice), self.x_range, (0.0, top)))
    }
}

/// Cumulative distributions on a logarithmic time axis.
#[derive(Debug)]
pub struct Cdf {
    pub title: String,
    pub x_desc: String,
    pub lines: Vec<Line>,
}

impl Figure for Cdf {
    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> DrawResult<DB> {
        let xs = || self.lines.iter().flat_map(|l| l.points.iter().map(|p| p.0)).filter(|x| *x > 0.0);
        let lo = xs().fold(f64::INFINITY, f64::min);
        let hi = xs().fold(0.0_f64, f64::max);
        let (lo, hi) = if lo.is_finite() && hi > lo { (lo * 0.8, hi * 1.25) } else { (0.1, 10.0) };
        let x = (lo..hi).log_scale().with_key_points(log_ticks(lo, hi));
        let mut chart = frame(root, &self.title).build_cartesian_2d(x, 0.0..1.0)?;
        chart
            .configure_mesh()
            .x_desc(&self.x_desc)
            .y_desc("share of requests completed within")
            .label_style((FAMILY, 14))
            .axis_desc_style((FAMILY, 15))
            .x_label_formatter(&|v| duration_tick(*v))
            .y_label_formatter(&|v| percent(*v))
            .light_line_style(BLACK.mix(0.05))
            .draw()?;
        for l in &self.lines {
            let c = color(l.color);
            chart
                .draw_series(LineSeries::new(l.points.iter().copied().filter(|p| p.0 > 0.0), c.stroke_width(2)))?
                .label(l.label.clone())
                .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 18, y)], c.stroke_width(3)));
        }
        // A CDF climbs to the upper right: keep the legend out of its way.
        legend_at(&mut chart, SeriesLabelPosition::LowerRight)
    }
}

/// Shares by a small integer (attempts per request), a line with markers per series.
#[derive(Debug)]
pub struct Shares {
    pub title: String,
    pub x_desc: String,
    pub x_max: u32,
    pub lines: Vec<Line>,
}

impl Figure for Shares {
    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> DrawResult<DB> {
        let top = y_top(self.lines.iter().flat_map(|l| l.points.iter().map(|p| p.1)), 0.05).min(1.0);
        let x_max = f64::from(self.x_max);
        let mut chart = frame(root, &self.title).build_cartesian_2d(0.5..x_max + 0.5, 0.0..top)?;
        let last = self.x_max;
        chart
            .configure_mesh()
            .x_desc(&self.x_desc)
            .y_desc("share of ended requests")
            .x_labels(self.x_max as usize)
            .label_style((FAMILY, 14))
            .axis_desc_style((FAMILY, 15))
            .x_label_formatter(&|v| {
                let k = v.round();
                if (v - k).abs() > 1e-6 || k < 1.0 {
                    String::new()
                } else if k as u32 == last && last >= 16 {
                    format!("{k:.0}+")
                } else {
                    format!("{k:.0}")
                }
            })
            .y_label_formatter(&|v| percent(*v))
            .light_line_style(BLACK.mix(0.05))
            .draw()?;
        for l in &self.lines {
            let c = color(l.color);
            chart
                .draw_series(LineSeries::new(l.points.iter().copied(), c.stroke_width(2)))?
                .label(l.label.clone())
                .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 18, y)], c.stroke_width(3)));
            chart.draw_series(l.points.iter().map(|&p| Circle::new(p, 4, c.filled())))?;
        }
        legend(&mut chart)
    }
}

/// Layers stacked over simulated time (e.g. 503s by cause).
#[derive(Debug)]
pub struct Stacked {
    pub title: String,
    pub x_desc: String,
    pub y_desc: String,
    pub x_range: (f64, f64),
    /// Layers on a shared x grid, bottom first.
    pub layers: Vec<Line>,
    /// What to print when there are no layers.
    pub empty: String,
    pub shades: Vec<Shade>,
}

impl Figure for Stacked {
    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> DrawResult<DB> {
        // Cumulative tops, layer by layer.
        let mut tops: Vec<Vec<(f64, f64)>> = Vec::new();
        for l in &self.layers {
            let below = tops.last();
            tops.push(l.points.iter().enumerate().map(|(i, &(x, y))| (x, y + below.map_or(0.0, |b| b[i].1))).collect());
        }
        let top = y_top(tops.last().into_iter().flatten().map(|p| p.1), 0.01);
        let mut chart = frame(root, &self.title).build_cartesian_2d(self.x_range.0..self.x_range.1, 0.0..top)?;
        chart
            .configure_mesh()
            .x_desc(&self.x_desc)
            .y_desc(&self.y_desc)
            .label_style((FAMILY, 14))
            .axis_desc_style((FAMILY, 15))
            .y_label_formatter(&|v| tick(Unit::Number, top, *v))
            .x_label_formatter(&|v| exact(*v))
            .light_line_style(BLACK.mix(0.05))
            .draw()?;
        draw_shades(&mut chart, &self.shades, top)?;
        // The tallest layer first, so each lower one is painted over it.
        for (l, t) in self.layers.iter().zip(&tops).rev() {
            let c = color(l.color);
            chart
                .draw_series(AreaSeries::new(t.iter().copied(), 0.0, c.mix(0.85)).border_style(c))?
                .label(l.label.clone())
                .legend(move |(x, y)| Rectangle::new([(x, y - 5), (x + 18, y + 5)], c.filled()));
            chart.draw_series(lone(t).map(|p| Circle::new(p, 5, c.filled())))?;
        }
        if self.layers.is_empty() {
            // Nothing to stack: say so instead of an empty legend box.
            let style = (FAMILY, 18).into_font().color(&BLACK.mix(0.6)).pos(Pos::new(HPos::Center, VPos::Center));
            let x = (self.x_range.0 + self.x_range.1) / 2.0;
            chart.draw_series(std::iter::once(Text::new(self.empty.clone(), (x, top / 2.0), style)))?;
            return Ok(());
        }
        let area = filled(tops.last().map_or(&[][..], Vec::as_slice));
        legend_at(&mut chart, quiet_corner(std::iter::once(area.as_slice()), self.x_range, (0.0, top)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use plotters::coord::ranged1d::Ranged;

    /// The labels plotters would put on a y axis from 0 to `top`.
    fn labels(unit: Unit, top: f64) -> Vec<String> {
        let axis: RangedCoordf64 = (0.0..top).into();
        axis.key_points(10).into_iter().map(|v: f64| tick(unit, top, v)).collect()
    }

    #[test]
    fn all_zero_503_axis_has_distinct_labels() {
        // An all-zero 503 series: the y axis runs from 0 to the 1% floor.
        let top = y_top([0.0, 0.0, 0.0].into_iter(), 0.01);
        let l = labels(Unit::Ratio, top);
        let mut unique = l.clone();
        unique.dedup();
        assert_eq!(l, unique, "{l:?}");
        assert!(l.len() >= 3, "{l:?}");
        // And at every scale a ratio axis can take.
        for top in [1.0, 0.5, 0.12, 0.05, 0.012, 0.004, 0.0011, 0.0002] {
            let l = labels(Unit::Ratio, top);
            let mut unique = l.clone();
            unique.dedup();
            assert_eq!(l, unique, "top {top}: {l:?}");
        }
    }

    #[test]
    fn log_time_axes_have_distinct_labels_in_range() {
        // As Cdf pads its data: from 0.8× the least to 1.25× the most.
        for (least, most) in [(0.001, 3600.0), (0.2, 9.0), (1.0, 10.0), (2.0, 40.0), (9.0, 11.0), (10.0, 10.0)] {
            let (lo, hi) = (least * 0.8, most * 1.25);
            let ticks = log_ticks(lo, hi);
            let labels: Vec<String> = ticks.iter().map(|&v| duration_tick(v)).collect();
            assert!(ticks.len() >= 3, "{least}..{most}: {labels:?}");
            assert!(ticks.iter().all(|v| (lo..=hi).contains(v)), "{least}..{most}: {ticks:?}");
            assert!(ticks.windows(2).all(|w| w[0] < w[1]), "{ticks:?}");
            let mut unique = labels.clone();
            unique.sort();
            unique.dedup();
            assert_eq!(unique.len(), labels.len(), "{least}..{most}: {labels:?}");
        }
        assert_eq!(log_ticks(0.8, 12.5), [1.0, 2.0, 5.0, 10.0]);
        // Past a minute, the clock's steps: 1s, 10s, 1m, not 1m40s.
        let labels: Vec<String> = log_ticks(0.8, 125.0).into_iter().map(duration_tick).collect();
        assert_eq!(labels, ["1s", "10s", "1m"]);
        let labels: Vec<String> = log_ticks(30.0, 900.0).into_iter().map(duration_tick).collect();
        assert_eq!(labels, ["1m", "2m", "5m", "10m"]);
    }

    #[test]
    fn small_and_all_zero_number_axes_have_distinct_labels() {
        // The causes chart of a calm run: up to 0.5 attempts/s.
        for top in [0.5, 0.012, 0.0011, 3.0] {
            let l = labels(Unit::Number, top);
            let mut unique = l.clone();
            unique.dedup();
            assert_eq!(l, unique, "top {top}: {l:?}");
        }
        // Every value zero: a whole unit, not a sliver of 1e-9.
        assert_eq!(y_top_in(Unit::Number, [0.0, 0.0].into_iter()), 1.0);
        assert_eq!(y_top_in(Unit::Ratio, std::iter::empty()), 0.01);
        assert_eq!(y_top_in(Unit::Duration, [0.0].into_iter()), 1.0);
        assert!((y_top_in(Unit::Number, [0.002].into_iter()) - 0.00224).abs() < 1e-12);
        for unit in [Unit::Number, Unit::Ratio, Unit::Duration] {
            let top = y_top_in(unit, [0.0].into_iter());
            let l = labels(unit, top);
            let mut unique = l.clone();
            unique.dedup();
            assert_eq!(l, unique, "{unit:?}: {l:?}");
        }
    }

    #[test]
    fn the_legend_goes_to_the_corner_with_the_least_drawn_in_it() {
        let corner = |lines: &[Vec<(f64, f64)>]| quiet_corner(lines.iter().map(Vec::as_slice), (0.0, 10.0), (0.0, 1.0));
        assert!(matches!(corner(&[]), SeriesLabelPosition::UpperRight));
        // A storm late in the run: high on the right only.
        let storm: Vec<(f64, f64)> = (0..=10).map(|m| (f64::from(m), if m < 6 { 0.45 } else { 0.9 })).collect();
        let offered: Vec<(f64, f64)> = (0..=10).map(|m| (f64::from(m), 0.45)).collect();
        assert!(matches!(corner(&[storm.clone(), offered.clone()]), SeriesLabelPosition::UpperLeft));
        // High everywhere: a lower corner.
        let high: Vec<(f64, f64)> = (0..=10).map(|m| (f64::from(m), 0.9)).collect();
        assert!(matches!(corner(&[high, offered]), SeriesLabelPosition::LowerRight));
        // Sparse points are joined: a line crossing the upper right counts there.
        assert!(!matches!(corner(&[vec![(0.0, 0.0), (10.0, 1.0)]]), SeriesLabelPosition::UpperRight));
    }

    #[test]
    fn chaos_shading_differs_from_the_offered_load_area() {
        assert!((0..8).all(|i| color(i) != SHADE && color(i) != LOAD), "no series has either colour");
    }

    #[test]
    fn instance_axes_tick_only_whole_instances() {
        for top in [2.0, 3.0, 7.0, 12.0, 64.0] {
            let axis: RangedCoordf64 = (0.0..top).into();
            let shown: Vec<String> = axis
                .key_points(integer_ticks(top))
                .into_iter()
                .map(|v: f64| integer_tick(v))
                .filter(|s| !s.is_empty())
                .collect();
            assert!(shown.len() >= 2, "top {top}: {shown:?}");
            assert!(shown.iter().all(|s| s.parse::<u32>().is_ok()), "{shown:?}");
        }
        assert_eq!(integer_tick(2.5), "");
        assert_eq!(duration_tick(6.0), "6s");
        assert_eq!((exact(0.5), exact(1.0), exact(12.25)), ("0.5".into(), "1".into(), "12.25".into()));
        assert_eq!(duration_tick(90.0), format_secs(90.0));
        assert_eq!((duration_tick(300.0), duration_tick(7200.0)), ("5m".into(), "2h".into()));
    }

    #[test]
    fn duration_axes_past_a_minute_tick_on_the_clock() {
        // A p99 of seven and a half minutes: plotters put ticks at 50s, 1m40s, 2m30s.
        let axis = value_axis(Unit::Duration, 0.0, 450.0, MESH_LABELS);
        let labels: Vec<String> = axis.key_points(BoldPoints(MESH_LABELS)).into_iter().map(duration_tick).collect();
        assert_eq!(labels, ["0s", "1m", "2m", "3m", "4m", "5m", "6m", "7m"]);
        let light = axis.key_points(LightPoints::new(MESH_LABELS, 110));
        assert_eq!(light.len(), 45 - 8 + 1, "every 10 s between the minutes: {light:?}");
        // Sweeps of a timeout from 30 s to 5 m, and a day.
        let ticks = |lo, hi| value_axis(Unit::Duration, lo, hi, 10).key_points(BoldPoints(10));
        assert_eq!(ticks(17.0, 313.0), (1..=10).map(|k| 30.0 * f64::from(k)).collect::<Vec<_>>());
        assert_eq!(ticks(0.0, 86400.0).len(), 9, "every 3 h");
        // Other units, and durations within a minute, keep plotters' own ticks.
        let own: RangedCoordf64 = (0.0..0.37).into();
        for unit in [Unit::Ratio, Unit::Number, Unit::Duration] {
            let axis = value_axis(unit, 0.0, 0.37, MESH_LABELS);
            assert_eq!(axis.key_points(BoldPoints(MESH_LABELS)), own.key_points(BoldPoints(MESH_LABELS)));
            assert_eq!(axis.key_points(LightPoints::new(11, 110)), own.key_points(LightPoints::new(11, 110)));
        }
    }
}
