//! Turning a run into things people and programs read.
//!
//! One module per format: `text` for the terminal, [`write_json`] for
//! programs, `csv` for spreadsheets, `markdown` and `html` for documents,
//! `charts` for PNG/SVG figures, `table` for the tables several of them share.
//! Writers are generic over `W: Write` so they can go to a file, stdout or a
//! test buffer; `folder` decides which files a report folder holds.

pub mod charts;
pub mod csv;
pub mod folder;
pub mod html;
pub mod markdown;
pub mod spread;
pub mod table;
pub mod text;
/// How every quantity is shown (it lives beside the metrics it formats,
/// so verdicts below the reports can use it too).
pub use crate::criteria::show as units;

use std::io::{self, Write};

/// JSON for people and programs: pretty-printed, keys in a fixed order,
/// newline-terminated (summary.json, compare.json, sweep.json, plan.json).
pub fn write_json<W: Write, T: serde::Serialize>(mut w: W, value: &T) -> io::Result<()> {
    serde_json::to_writer_pretty(&mut w, value)?;
    writeln!(w)?;
    // A BufWriter dropped unflushed would swallow the error of its last write.
    w.flush()
}
