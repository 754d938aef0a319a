//! `stampede compare`: every strategy on the same seeds, with statistics, a
//! verdict, charts and a self-contained HTML report.

use std::io::{self, Write};

use super::output::writing;
use super::{CompareArgs, Failure, Global, progress};
use crate::compare::{self, Comparison, Plan, Request};
use crate::report;
use crate::report::folder::ReportDir;
use crate::scenario::limits;

pub fn compare(args: &CompareArgs, g: Global<'_>) -> Result<u8, Failure> {
    // The estimate counts the most attempts of any strategy, so it covers
    // whichever strategy a swarm is given.
    let sc = g.load(&args.scenario)?;
    super::warn(&sc, args.output.quiet);
    let req = Request {
        strategies: args.strategies.clone(),
        baseline: args.baseline.clone(),
        seeds: args.seeds,
        swarms: args.swarms.clone(),
        objective: args.objective.clone(),
        slos: super::inline_slos(&sc, &args.slo)?,
        score_all: args.score == super::Score::All,
    };
    let plan = Plan::new(sc, &req)?;
    limits::check_kept_runs(&plan.scenario, plan.cells()).map_err(|e| Failure::usage(e.to_string()))?;
    let detail = match &args.detail {
        Some(name) => plan
            .strategies
            .iter()
            .position(|&s| plan.scenario.strategies[s].name == *name)
            .ok_or_else(|| Failure::usage(format!("--detail: `{name}` is not among the compared strategies")))?,
        None => plan.baseline,
    };
    let jobs = super::jobs(args.jobs);
    args.output.check(&plan.scenario.name, "compare", &[&args.scenario])?;
    let started = std::time::Instant::now();
    let runner = args.engine.runner()?;
    let bar = progress::bar(plan.cells() as u64, runner.doing(), args.output.quiet);
    let cells = compare::run_cells(&plan, runner, jobs, &|| bar.inc(1))
        .map_err(|e| Failure::usage(format!("{}: {e}", args.scenario.display())))?;
    bar.finish_and_clear();
    let wall = started.elapsed().as_secs_f64();
    let comparison = Comparison::build(&plan, &cells);
    let dir = args.output.open(&plan.scenario.name, "compare")?;
    write_files(&dir, &plan, &cells, &comparison, detail).map_err(writing(dir.path()))?;
    args.output.note_strays(&dir);
    args.output.emit(&comparison)?;
    args.output.human(|w| {
        report::text::print_comparison(&mut *w, &plan, &comparison)?;
        writeln!(w)?;
        writeln!(w, "{} runs on {jobs} thread(s) in {}", plan.cells(), crate::time::format_secs(wall))?;
        writeln!(
            w,
            "reports       {}/index.html (also report.md, compare.json, compare.csv, charts)",
            dir.path().display()
        )
    })?;
    // Like k6 thresholds: fail when no option on the table meets the SLOs.
    Ok(if !plan.slos.is_empty() && comparison.slo_met_by.is_empty() { super::EXIT_SLO } else { 0 })
}

fn write_files(
    dir: &ReportDir,
    plan: &Plan,
    cells: &[Vec<compare::Cell>],
    c: &Comparison,
    detail: usize,
) -> io::Result<()> {
    report::write_json(dir.create("compare.json")?, c)?;
    let mut csv = dir.create("compare.csv")?;
    report::csv::write_comparison(&mut csv, c)?;
    csv.flush()?;
    let charts = report::charts::comparison(dir, plan, cells, c, detail)?;
    dir.write("report.md", report::markdown::comparison(plan, c, &charts))?;
    dir.write("index.html", report::html::comparison(plan, c, &charts))
}
