//! The figures: plain data in, a plotters drawing out.

use plotters::coord::Shift;
use plotters::coord::ranged1d::SegmentValue;
use plotters::coord::types::RangedCoordf64;
use plotters::prelude::*;

use super::{FAMILY, Figure, color};
use crate::metrics::catalog::{self, Unit};
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

fn y_top(values: impl Iterator<Item = f64>, floor: f64) -> f64 {
    let m = values.filter(|v| v.is_finite()).fold(0.0_f64, f64::max);
    (m * 1.12).max(floor)
}

fn axis_value(unit: Unit, v: f64) -> String {
    match unit {
        Unit::Ratio => format!("{:.0}%", v * 100.0),
        Unit::Duration => format_secs(v),
        Unit::Number => {
            if v.abs() >= 10_000.0 {
                format!("{:.0}k", v / 1000.0)
            } else if v.abs() >= 10.0 || v == 0.0 {
                format!("{v:.0}")
            } else {
                format!("{v:.1}")
            }
        }
    }
}

/// Draws the shaded windows on a chart whose y axis runs from 0 to `top`.
fn draw_shades<'a, DB: DrawingBackend + 'a>(
    chart: &mut ChartContext<'a, DB, Cartesian2d<RangedCoordf64, RangedCoordf64>>,
    shades: &[Shade],
    top: f64,
) -> DrawResult<DB> {
    let grey = RGBColor(120, 120, 120);
    for (i, s) in shades.iter().enumerate() {
        if s.end > s.start {
            chart.draw_series(std::iter::once(Rectangle::new(
                [(s.start, 0.0), (s.end, top)],
                grey.mix(0.12).filled(),
            )))?;
        } else {
            chart.draw_series(std::iter::once(PathElement::new(
                vec![(s.start, 0.0), (s.start, top)],
                grey.mix(0.6).stroke_width(2),
            )))?;
        }
        // Stagger labels so neighbouring windows stay readable.
        let y = top * (0.96 - 0.06 * (i % 3) as f64);
        chart.draw_series(std::iter::once(Text::new(
            s.label.clone(),
            (s.start, y),
            (FAMILY, 13).into_font().color(&grey),
        )))?;
    }
    Ok(())
}

/// The frame every full-size figure shares: title, margin, axis label room.
fn frame<'a, 'b, DB: DrawingBackend>(root: &'a DrawingArea<DB, Shift>, title: &'b str) -> ChartBuilder<'a, 'b, DB> {
    let mut b = ChartBuilder::on(root);
    b.caption(title, (FAMILY, 22)).margin(14).x_label_area_size(45).y_label_area_size(70);
    b
}

fn legend<'a, DB: DrawingBackend + 'a, CT: CoordTranslate>(chart: &mut ChartContext<'a, DB, CT>) -> DrawResult<DB> {
    legend_at(chart, SeriesLabelPosition::UpperRight)
}

fn legend_at<'a, DB: DrawingBackend + 'a, CT: CoordTranslate>(
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
        let mut chart = frame(root, &self.title).build_cartesian_2d(self.x_range.0..self.x_range.1, 0.0..top)?;
        let unit = self.unit;
        chart
            .configure_mesh()
            .x_desc("simulated time (minutes)")
            .y_desc(&self.y_desc)
            .label_style((FAMILY, 14))
            .axis_desc_style((FAMILY, 15))
            .y_label_formatter(&|v| axis_value(unit, *v))
            .x_label_formatter(&|v| format!("{v:.0}"))
            .light_line_style(BLACK.mix(0.05))
            .draw()?;
        draw_shades(&mut chart, &self.shades, top)?;
        for l in &self.lines {
            let c = color(l.color);
            chart
                .draw_series(LineSeries::new(l.points.iter().copied(), c.stroke_width(2)))?
                .label(l.label.clone())
                .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 18, y)], c.stroke_width(3)));
        }
        legend(&mut chart)
    }
}

/// Offered load (left axis) against ready and provisioning instances (right axis).
#[derive(Debug)]
pub struct Capacity {
    pub title: String,
    pub x_range: (f64, f64),
    pub offered: Vec<(f64, f64)>,
    pub ready: Vec<(f64, f64)>,
    pub provisioning: Vec<(f64, f64)>,
    pub shades: Vec<Shade>,
}

impl Figure for Capacity {
    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> DrawResult<DB> {
        let top = y_top(self.offered.iter().map(|p| p.1), 1.0);
        let inst = y_top(self.ready.iter().chain(&self.provisioning).map(|p| p.1), 2.0);
        let mut chart = frame(root, &self.title)
            .right_y_label_area_size(70)
            .build_cartesian_2d(self.x_range.0..self.x_range.1, 0.0..top)?
            .set_secondary_coord(self.x_range.0..self.x_range.1, 0.0..inst);
        chart
            .configure_mesh()
            .x_desc("simulated time (minutes)")
            .y_desc("offered load (requests/s)")
            .label_style((FAMILY, 14))
            .axis_desc_style((FAMILY, 15))
            .x_label_formatter(&|v| format!("{v:.0}"))
            .light_line_style(BLACK.mix(0.05))
            .draw()?;
        chart
            .configure_secondary_axes()
            .y_desc("GPU instances")
            .label_style((FAMILY, 14))
            .axis_desc_style((FAMILY, 15))
            .draw()?;
        draw_shades(&mut chart, &self.shades, top)?;
        let load = RGBColor(150, 150, 150);
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
        legend(&mut chart)
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
        let mut chart = frame(root, &self.title).build_cartesian_2d((lo..hi).log_scale(), 0.0..1.0)?;
        chart
            .configure_mesh()
            .x_desc(&self.x_desc)
            .y_desc("share of requests completed within")
            .label_style((FAMILY, 14))
            .axis_desc_style((FAMILY, 15))
            .x_label_formatter(&|v| format_secs(*v))
            .y_label_formatter(&|v| format!("{:.0}%", v * 100.0))
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

/// One panel of bars with 95% error bars.
#[derive(Clone, Debug)]
pub struct Panel {
    pub metric: String,
    pub unit: Unit,
    /// (label, colour, mean, low, high).
    pub bars: Vec<(String, usize, f64, f64, f64)>,
}

/// Headline metrics, a panel each.
#[derive(Debug)]
pub struct Bars {
    pub title: String,
    pub panels: Vec<Panel>,
}

impl Figure for Bars {
    fn size(&self) -> (u32, u32) {
        (1200, 60 + 330 * self.panels.len().div_ceil(3) as u32)
    }

    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> DrawResult<DB> {
        let area = root.titled(&self.title, (FAMILY, 22))?;
        let cells = area.split_evenly((self.panels.len().div_ceil(3), 3));
        for (panel, cell) in self.panels.iter().zip(cells) {
            let n = panel.bars.len() as i32;
            let top = y_top(panel.bars.iter().map(|b| b.4.max(b.2)), 1e-9);
            let unit = panel.unit;
            let labels: Vec<String> = panel.bars.iter().map(|b| b.0.clone()).collect();
            let mut chart = ChartBuilder::on(&cell)
                .caption(catalog::label(&panel.metric), (FAMILY, 17))
                .margin(10)
                .x_label_area_size(30)
                .y_label_area_size(62)
                // A segmented range includes its end: 0..n-1 gives n bars.
                .build_cartesian_2d((0..(n - 1).max(1)).into_segmented(), 0.0..top)?;
            chart
                .configure_mesh()
                .disable_x_mesh()
                .label_style((FAMILY, 13))
                .y_label_formatter(&|v| axis_value(unit, *v))
                .x_label_formatter(&|v| match v {
                    SegmentValue::CenterOf(i) => labels.get(*i as usize).cloned().unwrap_or_default(),
                    _ => String::new(),
                })
                .light_line_style(BLACK.mix(0.05))
                .draw()?;
            for (i, (_, c, mean, lo, hi)) in panel.bars.iter().enumerate() {
                let i = i as i32;
                let mut bar = Rectangle::new(
                    [(SegmentValue::Exact(i), 0.0), (SegmentValue::Exact(i + 1), *mean)],
                    color(*c).mix(0.75).filled(),
                );
                bar.set_margin(0, 0, 12, 12);
                chart.draw_series(std::iter::once(bar))?;
                chart.draw_series(std::iter::once(ErrorBar::new_vertical(
                    SegmentValue::CenterOf(i),
                    lo.max(0.0),
                    *mean,
                    *hi,
                    BLACK.stroke_width(2),
                    14,
                )))?;
            }
        }
        Ok(())
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
            .y_label_formatter(&|v| format!("{:.0}%", v * 100.0))
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
    pub y_desc: String,
    pub x_range: (f64, f64),
    /// Layers on a shared x grid, bottom first.
    pub layers: Vec<Line>,
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
            .x_desc("simulated time (minutes)")
            .y_desc(&self.y_desc)
            .label_style((FAMILY, 14))
            .axis_desc_style((FAMILY, 15))
            .x_label_formatter(&|v| format!("{v:.0}"))
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
        }
        legend(&mut chart)
    }
}

/// One series of a band chart: (x, mean, low, high) points.
#[derive(Clone, Debug)]
pub struct BandSeries {
    pub label: String,
    pub color: usize,
    pub points: Vec<(f64, f64, f64, f64)>,
}

/// A metric against a varied key: a line per series with its 95% band.
#[derive(Debug)]
pub struct Bands {
    pub title: String,
    pub x_desc: String,
    pub y_desc: String,
    pub unit: Unit,
    /// Labels for a categorical x axis (positions 0, 1, …); None for a numeric one.
    pub categories: Option<Vec<String>>,
    pub series: Vec<BandSeries>,
    /// A horizontal reference line (an SLO limit) and its label.
    pub threshold: Option<(f64, String)>,
}

impl Figure for Bands {
    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> DrawResult<DB> {
        let xs = || self.series.iter().flat_map(|s| s.points.iter().map(|p| p.0));
        let (lo, hi) = (xs().fold(f64::INFINITY, f64::min), xs().fold(f64::NEG_INFINITY, f64::max));
        let (lo, hi) = if lo.is_finite() && hi > lo { (lo, hi) } else { (lo.min(0.0) - 0.5, hi.max(0.0) + 0.5) };
        let pad = (hi - lo) * 0.05;
        let limit = self.threshold.as_ref().map(|t| t.0);
        let top = y_top(self.series.iter().flat_map(|s| s.points.iter().map(|p| p.3.max(p.1))).chain(limit), 1e-9);
        let top = if self.unit == Unit::Ratio { top.min(1.05) } else { top };
        let mut chart =
            frame(root, &self.title).y_label_area_size(75).build_cartesian_2d(lo - pad..hi + pad, 0.0..top)?;
        let unit = self.unit;
        let cats = self.categories.clone();
        let n_labels = cats.as_ref().map_or(10, Vec::len);
        chart
            .configure_mesh()
            .x_desc(&self.x_desc)
            .y_desc(&self.y_desc)
            .x_labels(n_labels)
            .label_style((FAMILY, 14))
            .axis_desc_style((FAMILY, 15))
            .y_label_formatter(&|v| axis_value(unit, *v))
            .x_label_formatter(&|v| match &cats {
                Some(c) => {
                    let k = v.round();
                    if (v - k).abs() < 1e-6 && k >= 0.0 {
                        c.get(k as usize).cloned().unwrap_or_default()
                    } else {
                        String::new()
                    }
                }
                None => axis_value(Unit::Number, *v),
            })
            .light_line_style(BLACK.mix(0.05))
            .draw()?;
        for s in &self.series {
            let c = color(s.color);
            let mut band: Vec<(f64, f64)> = s.points.iter().map(|p| (p.0, p.3)).collect();
            band.extend(s.points.iter().rev().map(|p| (p.0, p.2.max(0.0))));
            chart.draw_series(std::iter::once(Polygon::new(band, c.mix(0.18).filled())))?;
            chart
                .draw_series(LineSeries::new(s.points.iter().map(|p| (p.0, p.1)), c.stroke_width(2)))?
                .label(s.label.clone())
                .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 18, y)], c.stroke_width(3)));
            chart.draw_series(s.points.iter().map(|p| Circle::new((p.0, p.1), 4, c.filled())))?;
        }
        if let Some((y, label)) = &self.threshold {
            let red = RGBColor(200, 30, 30);
            chart
                .draw_series(DashedLineSeries::new([(lo - pad, *y), (hi + pad, *y)], 10, 6, red.stroke_width(2)))?
                .label(label.clone())
                .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 18, y)], red.stroke_width(2)));
        }
        legend(&mut chart)
    }
}

/// A metric over two varied keys.
#[derive(Debug)]
pub struct Heatmap {
    pub title: String,
    pub x_desc: String,
    pub y_desc: String,
    pub x_labels: Vec<String>,
    pub y_labels: Vec<String>,
    /// values[y][x]; None where the metric is undefined.
    pub values: Vec<Vec<Option<f64>>>,
    pub unit: Unit,
    /// Colour good values dark when higher is better, and vice versa.
    pub higher_is_better: bool,
}

/// A perceptually ordered ramp from light (bad) to dark (good).
fn ramp(t: f64) -> RGBColor {
    const STOPS: [(f64, f64, f64); 5] =
        [(253.0, 231.0, 37.0), (94.0, 201.0, 98.0), (33.0, 145.0, 140.0), (59.0, 82.0, 139.0), (68.0, 1.0, 84.0)];
    let t = t.clamp(0.0, 1.0) * (STOPS.len() - 1) as f64;
    let i = (t.floor() as usize).min(STOPS.len() - 2);
    let f = t - i as f64;
    let mix = |a: f64, b: f64| (a + (b - a) * f).round() as u8;
    let (a, b) = (STOPS[i], STOPS[i + 1]);
    RGBColor(mix(a.0, b.0), mix(a.1, b.1), mix(a.2, b.2))
}

impl Figure for Heatmap {
    fn size(&self) -> (u32, u32) {
        (1000, (160 + 70 * self.y_labels.len() as u32).clamp(400, 900))
    }

    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> DrawResult<DB> {
        let (nx, ny) = (self.x_labels.len() as i32, self.y_labels.len() as i32);
        let defined = || self.values.iter().flatten().flatten().copied();
        let (lo, hi) = (defined().fold(f64::INFINITY, f64::min), defined().fold(f64::NEG_INFINITY, f64::max));
        let span = if hi > lo { hi - lo } else { 1.0 };
        // Segmented ranges include their end: 0..n-1 gives n columns.
        let mut chart = frame(root, &self.title)
            .x_label_area_size(50)
            .y_label_area_size(110)
            .build_cartesian_2d((0..(nx - 1).max(0)).into_segmented(), (0..(ny - 1).max(0)).into_segmented())?;
        let (xl, yl) = (self.x_labels.clone(), self.y_labels.clone());
        let name = |labels: &[String], v: &SegmentValue<i32>| match v {
            SegmentValue::CenterOf(i) => labels.get(*i as usize).cloned().unwrap_or_default(),
            _ => String::new(),
        };
        chart
            .configure_mesh()
            .disable_mesh()
            .x_desc(&self.x_desc)
            .y_desc(&self.y_desc)
            .label_style((FAMILY, 14))
            .axis_desc_style((FAMILY, 15))
            .x_label_formatter(&|v| name(&xl, v))
            .y_label_formatter(&|v| name(&yl, v))
            .draw()?;
        let goodness = |v: f64| {
            let t = (v - lo) / span;
            if self.higher_is_better { t } else { 1.0 - t }
        };
        for (y, row) in self.values.iter().enumerate() {
            for (x, v) in row.iter().enumerate() {
                let (x, y) = (x as i32, y as i32);
                let fill = v.map_or(RGBColor(220, 220, 220), |v| ramp(goodness(v)));
                let cell = [
                    (SegmentValue::Exact(x), SegmentValue::Exact(y)),
                    (SegmentValue::Exact(x + 1), SegmentValue::Exact(y + 1)),
                ];
                chart.draw_series(std::iter::once(Rectangle::new(cell, fill.filled())))?;
                let text = v.map_or("-".to_string(), |v| catalog::show(self.unit, v));
                let ink = if v.is_some_and(|v| goodness(v) > 0.45) { WHITE } else { BLACK };
                let style = (FAMILY, 14).into_font().color(&ink).pos(plotters::style::text_anchor::Pos::new(
                    plotters::style::text_anchor::HPos::Center,
                    plotters::style::text_anchor::VPos::Center,
                ));
                chart.draw_series(std::iter::once(Text::new(
                    text,
                    (SegmentValue::CenterOf(x), SegmentValue::CenterOf(y)),
                    style,
                )))?;
            }
        }
        Ok(())
    }
}
