//! Charts as PNG and SVG, drawn with plotters.
//!
//! Every figure implements [`Figure`] once, generically over the drawing
//! backend, and [`Chart::render`] draws it twice: into a PNG (rasterised with
//! ab_glyph from the bundled DejaVu Sans, so no system font or font library is
//! needed) and into an SVG string that reports inline. Figures take plain data
//! (series of points, intervals); [`data`] builds that data from runs.

pub mod data;
pub mod figures;
pub mod grid;
pub mod heatmap;
pub mod intervals;

use std::io;
use std::sync::Once;

use plotters::coord::Shift;
use plotters::prelude::*;

use super::folder::ReportDir;

pub use data::{comparison, single_run};
pub use grid::{plan, sweep};

/// The bundled font (DejaVu Sans; licence in assets/fonts/DejaVu-LICENSE).
static FONT: &[u8] = include_bytes!("../../../assets/fonts/DejaVuSans.ttf");
/// The family name figures use.
pub const FAMILY: &str = "sans-serif";

fn register_font() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        for style in [FontStyle::Normal, FontStyle::Bold] {
            plotters::style::register_font(FAMILY, style, FONT)
                .unwrap_or_else(|_| panic!("the bundled font is a valid TrueType file"));
        }
    });
}

/// Okabe-Ito: distinguishable with every common form of colour blindness.
pub const PALETTE: [RGBColor; 8] = [
    RGBColor(0, 114, 178),
    RGBColor(213, 94, 0),
    RGBColor(0, 158, 115),
    RGBColor(204, 121, 167),
    RGBColor(230, 159, 0),
    RGBColor(86, 180, 233),
    RGBColor(0, 0, 0),
    RGBColor(240, 228, 66),
];

pub fn color(i: usize) -> RGBColor {
    PALETTE[i % PALETTE.len()]
}

/// Anything that can draw itself on a drawing area of any backend.
pub trait Figure {
    fn size(&self) -> (u32, u32) {
        (1000, 480)
    }
    fn draw<DB: DrawingBackend>(
        &self,
        root: &DrawingArea<DB, Shift>,
    ) -> Result<(), DrawingAreaErrorKind<DB::ErrorType>>;
}

/// A rendered chart: its file stem, title and caption, and the SVG text.
#[derive(Clone, Debug)]
pub struct Chart {
    pub name: String,
    pub title: String,
    pub caption: String,
    pub svg: String,
}

impl Chart {
    /// Draws `fig` into `<name>.svg` and `<name>.png` in `dir`, keeping the SVG text.
    pub fn render<F: Figure>(dir: &ReportDir, name: &str, title: &str, caption: &str, fig: &F) -> io::Result<Chart> {
        register_font();
        let (w, h) = fig.size();
        let fail = |ext: &str, e: &dyn std::fmt::Display| io::Error::other(format!("{name}.{ext}: {e}"));
        let mut svg = String::new();
        {
            let root = SVGBackend::with_string(&mut svg, (w, h)).into_drawing_area();
            draw_on(fig, &root).map_err(|e| fail("svg", &e))?;
            root.present().map_err(|e| fail("svg", &e))?;
        }
        dir.write(&format!("{name}.svg"), &svg)?;
        let png = dir.file(&format!("{name}.png"))?;
        {
            let root = BitMapBackend::new(&png, (w, h)).into_drawing_area();
            draw_on(fig, &root).map_err(|e| fail("png", &e))?;
            root.present().map_err(|e| fail("png", &e))?;
        }
        Ok(Chart { name: name.to_string(), title: title.to_string(), caption: caption.to_string(), svg })
    }
}

fn draw_on<F: Figure, DB: DrawingBackend>(
    fig: &F,
    root: &DrawingArea<DB, Shift>,
) -> Result<(), DrawingAreaErrorKind<DB::ErrorType>> {
    root.fill(&WHITE)?;
    fig.draw(root)
}
