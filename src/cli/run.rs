//! `stampede run`: one scenario, one seed, a summary and report files.

use std::fs::{self, File};
use std::io::{self, BufWriter, Write};
use std::path::Path;

use super::output::writing;
use super::{EXIT_SLO, Failure, Global, RunArgs};
use crate::engine;
use crate::report;
use crate::scenario::Scenario;

pub fn run(args: &RunArgs, g: Global<'_>) -> Result<u8, Failure> {
    let mut sc = g.load(&args.scenario)?;
    super::warn(&sc, args.output.quiet);
    if let Some(name) = &args.strategy {
        sc = sc.with_strategy(name).map_err(|e| Failure::usage(format!("--strategy: {e}")))?;
    }
    let seed = args.seed.unwrap_or(sc.seed);
    let run = engine::simulate(&sc, seed).map_err(|e| Failure::usage(format!("{}: {e}", args.scenario.display())))?;
    let out = args.output.dir(&sc.name);
    write_reports(&out, &sc, &run).map_err(writing(&out))?;
    args.output.emit(&run.summary)?;
    args.output.human(|w| {
        report::text::print_summary(&mut *w, &sc, &run.summary)?;
        writeln!(w)?;
        writeln!(w, "reports       {}/{{summary.json, timeseries.csv, run-*.png, run-*.svg}}", out.display())
    })?;
    Ok(if run.summary.slo_passed() { 0 } else { EXIT_SLO })
}

/// Writes summary.json, timeseries.csv and the run's charts into `dir`.
pub fn write_reports(dir: &Path, sc: &Scenario, run: &engine::Run) -> io::Result<()> {
    fs::create_dir_all(dir)?;
    report::write_json(BufWriter::new(File::create(dir.join("summary.json"))?), &run.summary)?;
    let mut f = BufWriter::new(File::create(dir.join("timeseries.csv"))?);
    report::csv::write_timeseries(&mut f, sc, run.recorder.series.rows())?;
    f.flush()?;
    report::charts::single_run(dir, sc, run).map(|_| ())
}
