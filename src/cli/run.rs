//! `stampede run`: one scenario, one seed, a summary and report files.

use std::io::{self, Write};

use super::output::writing;
use super::{EXIT_SLO, Failure, Global, RunArgs};
use crate::engine;
use crate::live;
use crate::replication::Runner;
use crate::report;
use crate::report::folder::ReportDir;
use crate::scenario::Scenario;

pub fn run(args: &RunArgs, g: Global<'_>) -> Result<u8, Failure> {
    let mut sc = g.load(&args.scenario)?;
    super::warn(&sc, args.output.quiet);
    if let Some(name) = &args.strategy {
        sc = sc.with_strategy(name).map_err(|e| Failure::usage(format!("--strategy: {e}")))?;
    }
    let inline = super::inline_slos(&sc, &args.slo)?;
    sc.slo.extend(inline);
    let seed = args.seed.unwrap_or(sc.seed);
    // A live run takes real time: an unusable --out or --json fails it now.
    args.output.check(&sc.name, "run", &[&args.scenario])?;
    let run = match args.engine.runner()? {
        Runner::Sim => {
            engine::simulate(&sc, seed).map_err(|e| Failure::usage(format!("{}: {e}", args.scenario.display())))?
        }
        Runner::Live { time_scale } => {
            live::run_until(&sc, seed, time_scale, super::ctrl_c()).map_err(|e| Failure::runtime(e.to_string()))?
        }
    };
    let stopped = super::interrupted(&mut sc, &run, args.output.quiet);
    let dir = args.output.open(&sc.name, "run")?;
    write_reports(&dir, &sc, &run).map_err(writing(dir.path()))?;
    args.output.note_strays(&dir);
    args.output.emit(&run.summary)?;
    args.output.human(|w| {
        report::text::print_summary(&mut *w, &sc, &run.summary)?;
        writeln!(w)?;
        writeln!(
            w,
            "reports       {}/index.html (also summary.json, timeseries.csv, run-*.png/svg)",
            dir.path().display()
        )
    })?;
    Ok(if stopped {
        super::EXIT_INTERRUPTED
    } else if run.summary.slo_passed() {
        0
    } else {
        EXIT_SLO
    })
}

/// Writes summary.json, timeseries.csv, the run's charts and index.html into `dir`.
pub fn write_reports(dir: &ReportDir, sc: &Scenario, run: &engine::Run) -> io::Result<()> {
    report::write_json(dir.create("summary.json")?, &run.summary)?;
    let mut f = dir.create("timeseries.csv")?;
    report::csv::write_timeseries(&mut f, sc, run.recorder.series.rows())?;
    f.flush()?;
    let charts = report::charts::single_run(dir, sc, run)?;
    dir.write("index.html", report::html::run(sc, &run.summary, &charts))
}
