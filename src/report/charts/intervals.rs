//! Figures of values over seeds: bars or points with their 95% interval, and
//! every seed's own value beside them, so a split between seeds that stormed
//! and seeds that did not is seen, not averaged away.

use plotters::coord::Shift;
use plotters::coord::ranged1d::SegmentValue;
use plotters::prelude::*;

use super::figures::{
    MESH_LABELS, duration_tick, frame, integer_tick, integer_ticks, legend_at, quiet_corner, tick, value_axis, y_top_in,
};
use super::{FAMILY, Figure, color};
use crate::criteria::Unit;

type DrawResult<DB> = Result<(), DrawingAreaErrorKind<<DB as DrawingBackend>::ErrorType>>;

/// Pixel offset of seed `k`'s dot, so equal values stay countable: up to
/// `reach` pixels either side.
fn jitter(k: usize, reach: i32) -> i32 {
    ((k % 9) as i32 - 4) * reach / 4
}

/// How far seed dots may spread either side of their x (pixels): 12, or a
/// quarter of the narrowest gap between neighbouring x positions, so that a
/// seed is never drawn nearer another value's x than its own.
fn reach(xs: impl Iterator<Item = i32>) -> i32 {
    let mut xs: Vec<i32> = xs.collect();
    xs.sort_unstable();
    xs.dedup();
    let gap = xs.windows(2).map(|w| w[1] - w[0]).min().unwrap_or(i32::MAX);
    (gap / 4).clamp(0, 12)
}

/// One bar: a mean, its 95% interval, and each seed's value.
#[derive(Clone, Debug)]
pub struct Bar {
    pub label: String,
    pub color: usize,
    pub mean: f64,
    pub lo: f64,
    pub hi: f64,
    pub seeds: Vec<f64>,
}

/// One panel of bars.
#[derive(Clone, Debug)]
pub struct Panel {
    pub title: String,
    pub unit: Unit,
    pub bars: Vec<Bar>,
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
            let top = y_top_in(
                panel.unit,
                panel.bars.iter().flat_map(|b| [b.hi, b.mean].into_iter().chain(b.seeds.iter().copied())),
            );
            let top = if panel.unit == Unit::Ratio { top.min(1.0) } else { top };
            let unit = panel.unit;
            let labels: Vec<String> = panel.bars.iter().map(|b| b.label.clone()).collect();
            // A panel is about 330 px wide: many or long names get a smaller
            // font so that neighbours do not run together.
            let chars = labels.iter().map(|l| l.chars().count()).max().unwrap_or(0) * labels.len();
            let x_font = if chars > 48 { 10 } else { 13 };
            let mut chart = ChartBuilder::on(&cell)
                .caption(&panel.title, (FAMILY, 17))
                .margin(10)
                .x_label_area_size(30)
                .y_label_area_size(62)
                // A segmented range includes its end: 0..n-1 gives n bars.
                .build_cartesian_2d((0..(n - 1).max(1)).into_segmented(), value_axis(unit, 0.0, top, MESH_LABELS))?;
            chart
                .configure_mesh()
                .disable_x_mesh()
                .label_style((FAMILY, 13))
                .x_label_style((FAMILY, x_font))
                .y_label_formatter(&|v| tick(unit, top, *v))
                .x_label_formatter(&|v| match v {
                    SegmentValue::CenterOf(i) => labels.get(*i as usize).cloned().unwrap_or_default(),
                    _ => String::new(),
                })
                .light_line_style(BLACK.mix(0.05))
                .draw()?;
            for (i, b) in panel.bars.iter().enumerate() {
                let i = i as i32;
                let mut bar = Rectangle::new(
                    [(SegmentValue::Exact(i), 0.0), (SegmentValue::Exact(i + 1), b.mean)],
                    color(b.color).mix(0.55).filled(),
                );
                bar.set_margin(0, 0, 12, 12);
                chart.draw_series(std::iter::once(bar))?;
                chart.draw_series(std::iter::once(ErrorBar::new_vertical(
                    SegmentValue::CenterOf(i),
                    b.lo,
                    b.mean,
                    b.hi,
                    BLACK.stroke_width(2),
                    10,
                )))?;
                chart.draw_series(b.seeds.iter().enumerate().map(|(k, &v)| {
                    EmptyElement::at((SegmentValue::CenterOf(i), v))
                        + Circle::new((jitter(k, 12) + 22, 0), 3, BLACK.mix(0.7).stroke_width(1))
                }))?;
            }
        }
        Ok(())
    }
}

/// One series of an interval chart: (x, mean, low, high) points and each
/// seed's (x, value).
#[derive(Clone, Debug)]
pub struct BandSeries {
    pub label: String,
    pub color: usize,
    pub points: Vec<(f64, f64, f64, f64)>,
    pub seeds: Vec<(f64, f64)>,
}

/// What the x axis holds.
#[derive(Clone, Debug, PartialEq)]
pub enum XAxis {
    Number,
    /// Counts (instances, slots): integer ticks.
    Integer,
    /// Seconds, labelled with units.
    Duration,
    /// Labels at positions 0, 1, …
    Categories(Vec<String>),
}

/// A metric against a varied key: per series, the mean with its 95% interval
/// (a band when `connect`, error bars at the evaluated points otherwise) and
/// a dot per seed.
#[derive(Debug)]
pub struct Bands {
    pub title: String,
    pub x_desc: String,
    pub y_desc: String,
    pub unit: Unit,
    pub x_axis: XAxis,
    pub series: Vec<BandSeries>,
    /// A horizontal reference line (an SLO limit) and its label.
    pub threshold: Option<(f64, String)>,
    /// Join the points with a line and a band; false draws only the points
    /// (a planner's bisection skips values: a line would invent them).
    pub connect: bool,
}

impl Figure for Bands {
    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> DrawResult<DB> {
        let xs = || self.series.iter().flat_map(|s| s.points.iter().map(|p| p.0));
        let (lo, hi) = (xs().fold(f64::INFINITY, f64::min), xs().fold(f64::NEG_INFINITY, f64::max));
        // One value (a plan whose first value met the SLOs): a span around
        // it, not from 0 (a 16..64 range showed an axis from -3).
        let (lo, hi) = match (lo.is_finite(), hi > lo) {
            (true, true) => (lo, hi),
            (true, false) => {
                let w = (lo.abs() * 0.1).max(0.5);
                (lo - w, hi + w)
            }
            _ => (-0.5, 0.5),
        };
        let pad = (hi - lo) * 0.05;
        let limit = self.threshold.as_ref().map(|t| t.0);
        let values = self
            .series
            .iter()
            .flat_map(|s| s.points.iter().flat_map(|p| [p.3, p.1]).chain(s.seeds.iter().map(|p| p.1)));
        let top = y_top_in(self.unit, values.chain(limit));
        let top = if self.unit == Unit::Ratio { top.min(1.05) } else { top };
        let unit = self.unit;
        let axis = self.x_axis.clone();
        let n_labels = match &axis {
            XAxis::Categories(c) => c.len(),
            XAxis::Integer => integer_ticks(hi - lo),
            _ => 10,
        };
        let x_unit = if matches!(axis, XAxis::Duration) { Unit::Duration } else { Unit::Number };
        let (x, y) = (value_axis(x_unit, lo - pad, hi + pad, n_labels), value_axis(unit, 0.0, top, MESH_LABELS));
        let mut chart = frame(root, &self.title).y_label_area_size(75).build_cartesian_2d(x, y)?;
        let x_label = |v: &f64| match &axis {
            XAxis::Categories(c) => {
                let k = v.round();
                if (v - k).abs() < 1e-6 && k >= 0.0 {
                    c.get(k as usize).cloned().unwrap_or_default()
                } else {
                    String::new()
                }
            }
            XAxis::Integer => integer_tick(*v),
            XAxis::Duration => duration_tick(*v),
            XAxis::Number => tick(Unit::Number, hi, *v),
        };
        chart
            .configure_mesh()
            .x_desc(&self.x_desc)
            .y_desc(&self.y_desc)
            .x_labels(n_labels)
            .label_style((FAMILY, 14))
            .axis_desc_style((FAMILY, 15))
            .y_label_formatter(&|v| tick(unit, top, *v))
            .x_label_formatter(&x_label)
            .light_line_style(BLACK.mix(0.05))
            .draw()?;
        let spread =
            reach(self.series.iter().flat_map(|s| s.points.iter()).map(|p| chart.backend_coord(&(p.0, p.1)).0));
        for s in &self.series {
            let c = color(s.color);
            if self.connect {
                let mut band: Vec<(f64, f64)> = s.points.iter().map(|p| (p.0, p.3)).collect();
                band.extend(s.points.iter().rev().map(|p| (p.0, p.2)));
                chart.draw_series(std::iter::once(Polygon::new(band, c.mix(0.18).filled())))?;
                chart.draw_series(LineSeries::new(s.points.iter().map(|p| (p.0, p.1)), c.stroke_width(2)))?;
            } else {
                chart.draw_series(
                    s.points.iter().map(|p| ErrorBar::new_vertical(p.0, p.2, p.1, p.3, c.stroke_width(2), 12)),
                )?;
            }
            chart.draw_series(s.seeds.iter().enumerate().map(|(k, &(x, y))| {
                EmptyElement::at((x, y)) + Circle::new((jitter(k, spread), 0), 3, c.mix(0.8).stroke_width(1))
            }))?;
            chart
                .draw_series(s.points.iter().map(|p| Circle::new((p.0, p.1), 5, c.filled())))?
                .label(s.label.clone())
                .legend(move |(x, y)| Circle::new((x + 9, y), 5, c.filled()));
        }
        if let Some((y, label)) = &self.threshold {
            let red = RGBColor(200, 30, 30);
            chart
                .draw_series(DashedLineSeries::new([(lo - pad, *y), (hi + pad, *y)], 10, 6, red.stroke_width(2)))?
                .label(label.clone())
                .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 18, y)], red.stroke_width(2)));
        }
        // Keep the legend off the data: means, bands' edges, seeds and the SLO line.
        let mut drawn: Vec<Vec<(f64, f64)>> = Vec::new();
        for s in &self.series {
            if self.connect {
                // The line and its band's two edges.
                for k in [1, 2, 3] {
                    drawn.push(s.points.iter().map(|p| (p.0, [p.1, p.2, p.3][k - 1])).collect());
                }
            } else {
                // Each error bar alone.
                drawn.extend(s.points.iter().map(|p| vec![(p.0, p.2), (p.0, p.3)]));
            }
            drawn.extend(s.seeds.iter().map(|&p| vec![p]));
        }
        if let Some((y, _)) = &self.threshold {
            drawn.push(vec![(lo - pad, *y), (hi + pad, *y)]);
        }
        let corner = quiet_corner(drawn.iter().map(Vec::as_slice), (lo - pad, hi + pad), (0.0, top));
        legend_at(&mut chart, corner)
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn seed_dots_stay_nearer_their_own_x_than_a_neighbour_s() {
        // Plan's 28 and 29, 18 px apart: dots within 4 px, not 12.
        let r = super::reach([100, 118, 300].into_iter());
        assert_eq!(r, 4);
        assert!((0..9).all(|k| super::jitter(k, r).abs() <= 4));
        assert_eq!(super::reach([5, 500].into_iter()), 12);
        assert_eq!(super::reach(std::iter::once(5)), 12);
    }
}
