//! `stampede plan`: the smallest value of a key that meets every SLO, with
//! its cost, theory's answer beside it, and recommended proxy timeouts.

use std::io::{self, Write};
use std::path::Path;

use super::output::writing;
use super::{EXIT_SLO, Failure, Global, PlanArgs, progress};
use crate::criteria::slo::Threshold;
use crate::plan::{self, PlanRequest, PlanResult};
use crate::report::folder::ReportDir;
use crate::report::{self, units};
use crate::scenario::Scenario;

pub fn plan(args: &PlanArgs, g: Global<'_>) -> Result<u8, Failure> {
    let sets = g.sets;
    let text = g.read(&args.scenario)?;
    let file = args.scenario.display().to_string();
    let base = Scenario::parse_with(&text, &file, sets)?;
    super::warn(&base, args.output.quiet);
    let mut slos = base.slo.clone();
    slos.extend(super::inline_slos(&base, &args.slo)?);
    let req = PlanRequest {
        tune: args.tune.clone(),
        slos: slos.clone(),
        seeds: args.seeds.unwrap_or(plan::DEFAULT_SEEDS),
        confidence: args.confidence.unwrap_or(0.95),
        strategy: args.strategy.clone(),
        no_limits: g.no_limits,
    };
    let jobs = super::jobs(args.jobs);
    args.output.check(&base.name, "plan", &[&args.scenario])?;
    // Bisection decides as it goes how many values it evaluates: count runs.
    let bar = progress::counter("planning", "runs", args.output.quiet);
    let runner = args.engine.runner()?;
    let result = plan::plan(&text, &file, sets, &req, runner, jobs, &|| bar.inc(1))?;
    bar.finish_and_clear();
    let dir = args.output.open(&base.name, "plan")?;
    write_files(&dir, &base, &result, &slos).map_err(writing(dir.path()))?;
    args.output.note_strays(&dir);
    args.output.emit(&result)?;
    args.output.human(|w| print(w, &result, &slos, dir.path()))?;
    Ok(if result.recommendation.is_some() { 0 } else { EXIT_SLO })
}

fn write_files(dir: &ReportDir, base: &Scenario, r: &PlanResult, slos: &[Threshold]) -> io::Result<()> {
    report::write_json(dir.create("plan.json")?, r)?;
    if let Some(t) = &r.timeouts {
        dir.write("plan.vcl", &t.vcl)?;
    }
    let charts = report::charts::plan(dir, r, slos)?;
    dir.write("index.html", report::html::plan(base, r, slos, &charts))
}

fn print(w: &mut dyn Write, r: &PlanResult, slos: &[Threshold], out: &Path) -> io::Result<()> {
    writeln!(
        w,
        "stampede plan · {} · {} from {} to {} · {} seeds per value · {} confidence",
        r.scenario,
        r.key,
        r.values.first().map_or("", String::as_str),
        r.values.last().map_or("", String::as_str),
        r.seeds.len(),
        plan::confidence_label(r.confidence)
    )?;
    writeln!(w, "  SLOs: {}", r.slos.join(", "))?;
    writeln!(w)?;
    let seeds = r.seeds.len();
    let t = report::table::plan(r, slos);
    for line in t.to_text().lines() {
        writeln!(w, "{}", if line.is_empty() { String::new() } else { format!("  {line}") })?;
    }
    writeln!(
        w,
        "  mean ± 95% half-width over seeds (bound: the one-sided {} bound the decision uses); k/{seeds}: seeds meeting the SLO",
        plan::confidence_label(r.confidence)
    )?;
    if t.has_split() {
        writeln!(w, "  {}", report::spread::SPLIT_NOTE)?;
    }
    writeln!(w)?;
    writeln!(w, "verdict       {}", r.verdict)?;
    if let Some(rec) = &r.recommendation
        && let Some(c) = r.evaluated.iter().find(|c| &c.value == rec)
    {
        let margins: Vec<String> = c
            .slos
            .iter()
            .zip(slos)
            .filter_map(|(s, t)| {
                let b = s.bound?;
                // Resource time in the seconds the limit is written in.
                let (bound, limit) = units::apart(t.metric.name(), b, t.limit);
                Some(format!("{} bound {bound} vs limit {limit}", t.metric))
            })
            .collect();
        writeln!(w, "margins       {}", margins.join("; "))?;
    }
    match &r.theory {
        Some(th) => {
            writeln!(
                w,
                "theory        M/M/c at the peak load of pool {} ({:.1} Erlangs, mean service {}): {} = {}",
                th.pool,
                th.peak_load,
                crate::time::format_secs(th.mean_service_s),
                r.key,
                th.value
            )?;
            for m in &th.mapped {
                writeln!(w, "                using {m}")?;
            }
            for n in &r.theory_notes {
                writeln!(w, "              - {n}")?;
            }
        }
        None => {
            for why in &r.theory_notes {
                writeln!(w, "theory        no queueing estimate: {why}")?;
            }
        }
    }
    if let Some(t) = &r.timeouts {
        writeln!(w)?;
        writeln!(
            w,
            "timeouts      first_byte_timeout {} · between_bytes_timeout {}",
            crate::time::format_secs(t.first_byte_timeout_s),
            crate::time::format_secs(t.between_bytes_timeout_s)
        )?;
        for b in &t.basis {
            writeln!(w, "              - {b}")?;
        }
        writeln!(w)?;
        for line in t.vcl.lines() {
            writeln!(w, "  {line}")?;
        }
    }
    writeln!(w)?;
    // plan.vcl is written only with a timeout recommendation.
    let vcl = if r.timeouts.is_some() { " plan.vcl," } else { "" };
    writeln!(w, "reports       {}/index.html (also plan.json,{vcl} plan-*.png/svg)", out.display())
}
