//! `stampede sweep` and `stampede merge`: parameter grids, on one machine or
//! split into shards across many.

use std::fs::{self, File};
use std::io::{self, BufWriter, Write};

use super::output::writing;
use super::{Failure, Global, MergeArgs, OutputArgs, SweepArgs, progress};
use crate::criteria::Metric;
use crate::report;
use crate::report::folder::ReportDir;
use crate::scenario::{Scenario, limits};
use crate::sweep::part::{self, Part, StoredCell};
use crate::sweep::result::SweepResult;
use crate::sweep::{self, Sweep, SweepSpec};

pub fn sweep(args: &SweepArgs, g: Global<'_>) -> Result<u8, Failure> {
    let sets = g.sets;
    let text = g.read(&args.scenario)?;
    let file = args.scenario.display().to_string();
    let base = Scenario::parse_with(&text, &file, sets)?;
    super::warn(&base, args.output.quiet);
    let n = args.seeds.unwrap_or(sweep::DEFAULT_SEEDS);
    // The grid's size before any point is validated: a typo in a range must not
    // make the validation itself run for hours.
    let grid = sweep::grid::Grid::parse(&args.vary).map_err(|e| Failure::usage(format!("--vary {e}")))?;
    let strategies = args.strategies.as_ref().map_or(1, Vec::len).max(1);
    let cells = grid.points().saturating_mul(strategies).saturating_mul(n as usize);
    if cells > limits::MAX_CELLS {
        return Err(Failure::usage(format!(
            "the sweep has {cells} runs ({} point(s) × {strategies} strateg{} × {n} seeds); the limit is {} runs",
            grid.points(),
            if strategies == 1 { "y" } else { "ies" },
            limits::MAX_CELLS
        )));
    }
    let metrics = match &args.metrics {
        Some(ms) => {
            for m in ms {
                let metric = Metric::lookup(m).map_err(|e| Failure::usage(format!("--metrics: {e}")))?;
                base.check_metric(metric).map_err(|e| Failure::usage(format!("--metrics: {e}")))?;
                base.produces(metric).map_err(|e| Failure::usage(format!("--metrics {e}")))?;
            }
            ms.clone()
        }
        None => {
            Metric::headline(base.swarms.iter().any(|s| s.bulk.is_some())).iter().map(ToString::to_string).collect()
        }
    };
    let spec = SweepSpec {
        file,
        scenario_text: text,
        sets: sets.iter().map(|o| o.text.clone()).collect(),
        vary: args.vary.clone(),
        strategies: args.strategies.clone().unwrap_or_default(),
        swarms: args.swarms.clone().unwrap_or_default(),
        score_all: args.score == super::Score::All,
        seeds: (0..u64::from(n)).map(|i| base.seed.wrapping_add(i)).collect(),
        metrics,
    };
    let sw = Sweep::new(spec).map_err(|e| Failure::usage(e.to_string()))?;
    for (p, sc) in sw.point_scenarios() {
        g.check(sc).map_err(|f| Failure::usage(format!("{} (at grid point {})", f.message, sw.grid.label(p))))?;
    }
    let shard = args
        .shard
        .as_deref()
        .map(sweep::parse_shard)
        .transpose()
        .map_err(|e| Failure::usage(format!("--shard {e}")))?;
    let jobs = super::jobs(args.jobs);
    let cells: Vec<usize> = match shard {
        Some((i, k)) => sw.shard(i, k),
        None => (0..sw.cells()).collect(),
    };
    args.output.check(&sw.base.name, if shard.is_some() { "sweep-parts" } else { "sweep" }, &[&args.scenario])?;
    let started = std::time::Instant::now();
    let runner = args.engine.runner()?;
    let jobs = runner.jobs(jobs);
    let bar = progress::bar(cells.len() as u64, runner.doing(), args.output.quiet);
    let results = sw
        .run(&cells, runner, jobs, &|| bar.inc(1))
        .map_err(|e| Failure::usage(format!("{}: {e}", args.scenario.display())))?;
    bar.finish_and_clear();
    let wall = crate::time::format_secs(started.elapsed().as_secs_f64());
    let Some(shard) = shard else {
        return finish(&sw, &results, &args.output, &format!("{} runs on {jobs} thread(s) in {wall}", cells.len()));
    };
    // Shards share one folder and write only their own part file: no
    // manifest, nothing removed (docs/cli.md, "Report folders").
    let out = args.output.dir(&sw.base.name, "sweep-parts");
    let path = out.join(Part::file_name(shard));
    let part = Part::new(sw.spec.clone(), shard, results);
    fs::create_dir_all(&out)
        .and_then(|()| {
            let mut w = BufWriter::new(File::create(&path)?);
            serde_json::to_writer(&mut w, &part)?;
            w.flush()
        })
        .map_err(writing(&out))?;
    args.output.human(|w| {
        writeln!(
            w,
            "shard {}/{}: {} of {} cells on {jobs} thread(s) in {wall} -> {}",
            shard.0,
            shard.1,
            cells.len(),
            sw.cells(),
            path.display()
        )?;
        writeln!(w, "merge the parts with: stampede merge {}/sweep-part-*-of-{}.json", out.display(), shard.1)
    })?;
    Ok(0)
}

pub fn merge(args: &MergeArgs) -> Result<u8, Failure> {
    let inputs: Vec<&std::path::Path> = args.parts.iter().map(|p| p.as_path()).collect();
    args.output.refuse_inputs(&inputs)?;
    let mut parts = Vec::new();
    let mut texts = Vec::new();
    for p in &args.parts {
        let name = p.display().to_string();
        let text = fs::read_to_string(p).map_err(|e| Failure::usage(format!("{name}: cannot read the file: {e}")))?;
        texts.push((name, text));
    }
    // Parts of a sharded `load` merge into one run instead.
    let first: Option<serde_json::Value> = texts.first().and_then(|(_, t)| serde_json::from_str(t).ok());
    if first.is_some_and(|d| crate::live::part::is_load_part(&d)) {
        return super::load::merge(args, texts);
    }
    for (name, text) in texts {
        let part: Part =
            serde_json::from_str(&text).map_err(|e| Failure::usage(format!("{name}: not a sweep part file: {e}")))?;
        parts.push((name, part));
    }
    let (sw, cells) = part::merge(parts).map_err(|e| Failure::usage(e.to_string()))?;
    finish(&sw, &cells, &args.output, &format!("merged {} part(s), {} cells", args.parts.len(), cells.len()))
}

/// Aggregates all cells and writes sweep.json, sweep.csv and the charts;
/// shared by an unsharded sweep and a merge, so both give the same files.
fn finish(sw: &Sweep, cells: &[StoredCell], output: &OutputArgs, note: &str) -> Result<u8, Failure> {
    let r = SweepResult::build(sw, cells).map_err(|e| Failure::usage(e.to_string()))?;
    let write = |dir: &ReportDir| -> io::Result<()> {
        report::write_json(dir.create("sweep.json")?, &r)?;
        let mut csv = dir.create("sweep.csv")?;
        report::csv::write_sweep(&mut csv, &r)?;
        csv.flush()?;
        let charts = report::charts::sweep(dir, sw, &r)?;
        dir.write("index.html", report::html::sweep(sw, &r, &charts))
    };
    let dir = output.open(&sw.base.name, "sweep")?;
    write(&dir).map_err(writing(dir.path()))?;
    output.note_strays(&dir);
    let out = dir.path();
    output.emit(&r)?;
    output.human(|w| {
        let plural = if r.strategies.len() == 1 { "y" } else { "ies" };
        let (points, n_strategies, seeds) = (sw.grid.points(), r.strategies.len(), r.seeds.len());
        writeln!(
            w,
            "stampede sweep · {} · {points} point(s) × {n_strategies} strateg{plural} × {seeds} seeds",
            r.scenario
        )?;
        writeln!(w, "  mean ± 95% half-width over seeds")?;
        if let Some(scope) = r.scope_note(sw.base.swarms.len()) {
            writeln!(w, "  {scope}")?;
        }
        let table = report::table::sweep(&r);
        for line in table.to_text().lines() {
            writeln!(w, "{}", if line.is_empty() { String::new() } else { format!("  {line}") })?;
        }
        if table.has_split() {
            writeln!(w, "  {}", report::spread::SPLIT_NOTE)?;
        }
        if !r.slos.is_empty() {
            writeln!(w, "  SLOs met: seeds meeting all of {}", r.slos.join(", "))?;
        }
        writeln!(w)?;
        writeln!(w, "{note}")?;
        writeln!(w, "reports       {}/index.html (also sweep.json, sweep.csv, sweep-*.png/svg)", out.display())
    })?;
    Ok(0)
}
