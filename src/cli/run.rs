//! `stampede run`: one scenario, one seed, a summary and report files.

use std::fs::{self, File};
use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};

use super::{EXIT_SLO, Failure, RunArgs};
use crate::engine;
use crate::report;
use crate::scenario::{Override, Scenario};

pub fn run(args: &RunArgs, sets: &[Override]) -> Result<u8, Failure> {
    let mut sc = Scenario::load_with(&args.scenario, sets)?;
    if let Some(name) = &args.strategy {
        sc = sc.with_strategy(name).map_err(|e| Failure::usage(format!("--strategy: {e}")))?;
    }
    let seed = args.seed.unwrap_or(sc.seed);
    let run = engine::simulate(&sc, seed);
    let out = args.out.clone().unwrap_or_else(|| PathBuf::from("reports").join(&sc.name));
    write_reports(&out, &sc, &run)
        .map_err(|e| Failure::usage(format!("cannot write reports to {}: {e}", out.display())))?;

    let json_to_stdout = args.json.as_deref() == Some("-");
    if let Some(path) = args.json.as_deref().filter(|p| *p != "-") {
        let f = File::create(path).map_err(|e| Failure::usage(format!("--json {path}: {e}")))?;
        report::write_json(BufWriter::new(f), &run.summary)
            .map_err(|e| Failure::usage(format!("--json {path}: {e}")))?;
    }
    if json_to_stdout {
        report::write_json(io::stdout().lock(), &run.summary).map_err(|e| Failure::usage(format!("stdout: {e}")))?;
    }
    if !args.quiet {
        // With JSON on stdout, people read the summary on stderr.
        let shown = if json_to_stdout {
            print_human(io::stderr().lock(), &sc, &run, &out)
        } else {
            print_human(io::stdout().lock(), &sc, &run, &out)
        };
        shown.map_err(|e| Failure::usage(format!("cannot print the summary: {e}")))?;
    }
    Ok(if run.summary.slo_passed() { 0 } else { EXIT_SLO })
}

fn print_human<W: Write>(mut w: W, sc: &Scenario, run: &engine::Run, out: &Path) -> io::Result<()> {
    report::text::print_summary(&mut w, sc, &run.summary)?;
    writeln!(w)?;
    writeln!(w, "reports       {}/{{summary.json, timeseries.csv, run-*.png, run-*.svg}}", out.display())
}

/// Writes summary.json, timeseries.csv and the run's charts into `dir`.
pub fn write_reports(dir: &Path, sc: &Scenario, run: &engine::Run) -> io::Result<()> {
    fs::create_dir_all(dir)?;
    let mut f = BufWriter::new(File::create(dir.join("summary.json"))?);
    report::write_json(&mut f, &run.summary)?;
    f.flush()?;
    let mut f = BufWriter::new(File::create(dir.join("timeseries.csv"))?);
    report::csv::write_timeseries(&mut f, sc, run.recorder.series.rows())?;
    f.flush()?;
    report::charts::single_run(dir, sc, run).map(|_| ())
}
