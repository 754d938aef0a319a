//! A metric over two varied keys, with a colour bar that says what the
//! colours mean.

use plotters::coord::Shift;
use plotters::coord::ranged1d::SegmentValue;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use super::figures::frame;
use super::{FAMILY, Figure};
use crate::report::units::{self, Scale};

type DrawResult<DB> = Result<(), DrawingAreaErrorKind<<DB as DrawingBackend>::ErrorType>>;

/// A metric over two varied keys.
#[derive(Debug)]
pub struct Heatmap {
    pub title: String,
    pub x_desc: String,
    pub y_desc: String,
    pub x_labels: Vec<String>,
    pub y_labels: Vec<String>,
    /// `values[y][x]`; None where the metric is undefined.
    pub values: Vec<Vec<Option<f64>>>,
    pub scale: Scale,
    /// Colour good values dark when higher is better, and vice versa.
    pub higher_is_better: bool,
    /// The values the colour bar spans, when several heatmaps share it (so
    /// that one colour means one value in each); else this one's extent.
    pub range: Option<(f64, f64)>,
}

/// A perceptually ordered ramp from light (bad) to dark (good).
pub fn ramp(t: f64) -> RGBColor {
    const STOPS: [(f64, f64, f64); 5] =
        [(253.0, 231.0, 37.0), (94.0, 201.0, 98.0), (33.0, 145.0, 140.0), (59.0, 82.0, 139.0), (68.0, 1.0, 84.0)];
    let t = t.clamp(0.0, 1.0) * (STOPS.len() - 1) as f64;
    let i = (t.floor() as usize).min(STOPS.len() - 2);
    let f = t - i as f64;
    let mix = |a: f64, b: f64| (a + (b - a) * f).round() as u8;
    let (a, b) = (STOPS[i], STOPS[i + 1]);
    RGBColor(mix(a.0, b.0), mix(a.1, b.1), mix(a.2, b.2))
}

/// Width of the colour bar's area, labels included.
const BAR_AREA: u32 = 150;

impl Heatmap {
    /// The smallest and largest defined value (equal when only one).
    pub fn extent(&self) -> Option<(f64, f64)> {
        let defined = || self.values.iter().flatten().flatten().copied().filter(|v| v.is_finite());
        let lo = defined().fold(f64::INFINITY, f64::min);
        let hi = defined().fold(f64::NEG_INFINITY, f64::max);
        lo.is_finite().then_some((lo, hi))
    }

    /// 0 for the worst value, 1 for the best.
    fn goodness(&self, v: f64, lo: f64, hi: f64) -> f64 {
        let t = if hi > lo { (v - lo) / (hi - lo) } else { 1.0 };
        if self.higher_is_better { t } else { 1.0 - t }
    }
}

impl Figure for Heatmap {
    fn size(&self) -> (u32, u32) {
        (1000 + BAR_AREA, (160 + 70 * self.y_labels.len() as u32).clamp(400, 900))
    }

    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> DrawResult<DB> {
        let (w, _) = root.dim_in_pixel();
        let (main, side) = root.split_horizontally(w.saturating_sub(BAR_AREA));
        let (nx, ny) = (self.x_labels.len() as i32, self.y_labels.len() as i32);
        let (lo, hi) = self.range.or_else(|| self.extent()).unwrap_or((0.0, 1.0));
        // Segmented ranges include their end: 0..n-1 gives n columns.
        let mut chart = frame(&main, &self.title)
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
        for (y, row) in self.values.iter().enumerate() {
            for (x, v) in row.iter().enumerate() {
                let (x, y) = (x as i32, y as i32);
                let good = v.map(|v| self.goodness(v, lo, hi));
                let fill = good.map_or(RGBColor(220, 220, 220), ramp);
                let cell = [
                    (SegmentValue::Exact(x), SegmentValue::Exact(y)),
                    (SegmentValue::Exact(x + 1), SegmentValue::Exact(y + 1)),
                ];
                chart.draw_series(std::iter::once(Rectangle::new(cell, fill.filled())))?;
                let text = v.map_or("-".to_string(), |v| units::value_in(self.scale, v));
                let ink = if good.is_some_and(|g| g > 0.45) { WHITE } else { BLACK };
                let style = (FAMILY, 14).into_font().color(&ink).pos(Pos::new(HPos::Center, VPos::Center));
                chart.draw_series(std::iter::once(Text::new(
                    text,
                    (SegmentValue::CenterOf(x), SegmentValue::CenterOf(y)),
                    style,
                )))?;
            }
        }
        self.colour_bar(&side, lo, hi)
    }
}

impl Heatmap {
    /// A vertical bar from the worst value (bottom) to the best (top), with
    /// the values at its ends and middle.
    fn colour_bar<DB: DrawingBackend>(&self, area: &DrawingArea<DB, Shift>, lo: f64, hi: f64) -> DrawResult<DB> {
        let (worst, best) = if self.higher_is_better { (lo, hi) } else { (hi, lo) };
        let mut bar = ChartBuilder::on(area)
            .margin_top(70)
            .margin_bottom(70)
            .margin_right(8)
            .caption("better ↑", (FAMILY, 14))
            .right_y_label_area_size(95)
            .build_cartesian_2d(0.0..1.0, 0.0..1.0)?;
        let scale = self.scale;
        let value_at = move |t: f64| worst + (best - worst) * t;
        bar.configure_mesh()
            .disable_mesh()
            .disable_x_axis()
            .y_labels(3)
            .label_style((FAMILY, 13))
            .y_label_formatter(&|t| units::value_in(scale, value_at(*t)))
            .draw()?;
        const STEPS: usize = 64;
        bar.draw_series((0..STEPS).map(|i| {
            let (a, b) = (i as f64 / STEPS as f64, (i + 1) as f64 / STEPS as f64);
            Rectangle::new([(0.0, a), (1.0, b)], ramp((a + b) / 2.0).filled())
        }))?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_colour_bar_runs_from_the_worst_to_the_best_value() {
        let h = Heatmap {
            title: String::new(),
            x_desc: String::new(),
            y_desc: String::new(),
            x_labels: vec!["a".into(), "b".into()],
            y_labels: vec!["c".into()],
            values: vec![vec![Some(0.1), Some(0.3)]],
            scale: Scale::Percent,
            higher_is_better: false,
            range: None,
        };
        assert_eq!(h.extent(), Some((0.1, 0.3)));
        // Lower is better: 0.1 is the darkest (best) colour, as on the bar's top.
        assert_eq!(ramp(h.goodness(0.1, 0.1, 0.3)), ramp(1.0));
        assert_eq!(ramp(h.goodness(0.3, 0.1, 0.3)), ramp(0.0));
    }
}
