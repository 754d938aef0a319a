//! `stampede load`: the scenario's client swarms as real HTTP load against
//! targets the user names, with the same summary, reports and SLO exit code
//! as `run`, plus what the wire saw (uncorrected service time, send lag,
//! statuses).

use std::io::Write;

use indicatif::ProgressStyle;

use super::output::writing;
use super::{EXIT_SLO, Failure, Global, LoadArgs, MergeArgs, OutputArgs};
use crate::engine::Run;
use crate::live::part::LoadPart;
use crate::live::{self, LoadProgress, TargetUrl};
use crate::metrics::wire::WireStats;
use crate::model::client::Shard;
use crate::report;
use crate::report::folder::ReportDir;
use crate::scenario::Scenario;
use crate::time::format_secs;

pub fn load(args: &LoadArgs, g: Global<'_>) -> Result<u8, Failure> {
    let mut sc = g.load(&args.scenario)?;
    super::warn(&sc, args.output.quiet);
    if let Some(name) = &args.strategy {
        sc = sc.with_strategy(name).map_err(|e| Failure::usage(format!("--strategy: {e}")))?;
    }
    for t in sc.drop_server_side_slos() {
        if !args.output.quiet {
            say!(
                "note: slo {t} is not judged: load sees what its clients see, and only the target's proxy or GPUs \
                 measure {}",
                t.metric
            );
        }
    }
    let targets = targets(&sc, args)?;
    // Before any load is sent: an unusable --out or --json fails it now.
    args.output.check(&sc.name, "load", &[&args.scenario])?;
    let shard = match &args.shard {
        Some(s) => Shard::parse(s).map_err(|e| Failure::usage(format!("--shard {e}")))?,
        None => Shard::default(),
    };
    if !args.output.quiet {
        for note in backend_side_chaos(&sc) {
            say!("note: {note}");
        }
    }
    let threads = match args.threads {
        Some(n) => usize::from(n),
        None => std::thread::available_parallelism().map_or(1, |n| n.get()),
    };
    let opts = live::LoadOptions {
        seed: args.seed.unwrap_or(sc.seed),
        time_scale: args.time_scale,
        targets,
        shard,
        threads,
        interruptible: true,
    };
    let bar = super::progress::bar(sc.end().as_secs_f64().ceil() as u64, "load", args.output.quiet);
    bar.set_style(
        ProgressStyle::with_template("{prefix} [{bar:24}] {pos}/{len}s  {msg}")
            .unwrap_or_else(|_| ProgressStyle::default_bar())
            .progress_chars("=> "),
    );
    let show = |p: &LoadProgress| {
        bar.set_position(p.now.as_secs_f64() as u64);
        bar.set_message(progress_line(p));
    };
    let run = live::load(&sc, opts, show).map_err(|e| Failure::runtime(format!("load: {e}")))?;
    bar.finish_and_clear();
    // A lost target stops the load as Ctrl-C does; its error is said after the reports.
    let lost = run.failure.clone();
    let stopped = super::interrupted(&mut sc, &run, args.output.quiet || lost.is_some());
    let dir = args.output.open(&sc.name, "load")?;
    let mut note = String::new();
    if stopped && !shard.is_whole() {
        note = "part          none: an interrupted shard covers part of the run, and merge adds whole ones\n".into();
    } else if !shard.is_whole() {
        let written = shard.as_written();
        let part = LoadPart::new(&sc, args.strategy.as_deref(), written, &run);
        let file = LoadPart::file_name(written);
        // Not in the manifest, like a sweep part: shards that share a folder
        // keep each other's parts (docs/cli.md, "Report folders").
        let out = std::fs::File::create(dir.path().join(&file)).map(std::io::BufWriter::new);
        report::write_json(out.map_err(writing(dir.path()))?, &part).map_err(writing(dir.path()))?;
        note = format!("part          {}/{file} (combine every shard's with `stampede merge`)\n", dir.path().display());
    }
    let code = finish(&dir, &sc, &run, &args.output, &note)?;
    if let Some(why) = lost {
        return Err(Failure::runtime(format!(
            "load: {why}; the reports in {} cover the {} before",
            dir.path().display(),
            format_secs(run.summary.duration_s)
        )));
    }
    Ok(if stopped { super::EXIT_INTERRUPTED } else { code })
}

/// Writes a load's reports and prints its summary (one run, or merged parts).
fn finish(dir: &ReportDir, sc: &Scenario, run: &Run, output: &OutputArgs, note: &str) -> Result<u8, Failure> {
    super::run::write_reports(dir, sc, run).map_err(writing(dir.path()))?;
    output.note_strays(dir);
    output.emit(&run.summary)?;
    output.human(|w| {
        report::text::print_summary(&mut *w, sc, &run.summary)?;
        if let Some(wire) = &run.summary.engine.wire {
            print_wire(&mut *w, wire)?;
        }
        writeln!(w)?;
        write!(w, "{note}")?;
        writeln!(w, "reports       {}/index.html (also summary.json, timeseries.csv)", dir.path().display())
    })?;
    Ok(if run.summary.slo_passed() { 0 } else { EXIT_SLO })
}

/// `stampede merge` of `load --shard` parts (file name, text): one run's reports.
pub fn merge(args: &MergeArgs, texts: Vec<(String, String)>) -> Result<u8, Failure> {
    let mut parts = Vec::new();
    for (name, text) in texts {
        let doc: serde_json::Value =
            serde_json::from_str(&text).map_err(|e| Failure::usage(format!("{name}: not a load part file: {e}")))?;
        live::part::check_format(&name, &doc).map_err(Failure::usage)?;
        let part: LoadPart =
            serde_json::from_value(doc).map_err(|e| Failure::usage(format!("{name}: not a load part file: {e}")))?;
        parts.push((name, part));
    }
    let n = parts.len();
    let (sc, run) = live::part::merge(parts).map_err(Failure::usage)?;
    let dir = args.output.open(&sc.name, "load")?;
    finish(&dir, &sc, &run, &args.output, &format!("merged       {n} load part(s)\n"))
}

/// Each swarm's target: its `--swarm NAME=URL`, else `--target`.
fn targets(sc: &Scenario, args: &LoadArgs) -> Result<Vec<TargetUrl>, Failure> {
    let default = match &args.target {
        Some(url) => Some(TargetUrl::parse(url).map_err(|e| Failure::usage(format!("--target {e}")))?),
        None => None,
    };
    let mut named: Vec<Option<TargetUrl>> = vec![None; sc.swarms.len()];
    for spec in &args.swarms {
        let bad = |why: String| Failure::usage(format!("--swarm {spec}: {why}"));
        let (name, url) = spec.split_once('=').ok_or_else(|| bad("expected NAME=URL".into()))?;
        let i = sc.swarms.iter().position(|s| s.name == name).ok_or_else(|| {
            let names: Vec<&str> = sc.swarms.iter().map(|s| s.name.as_str()).collect();
            bad(format!("no swarm `{name}` in the scenario (it has {})", names.join(", ")))
        })?;
        named[i] = Some(TargetUrl::parse(url).map_err(bad)?);
    }
    let mut out = Vec::new();
    for (spec, t) in sc.swarms.iter().zip(named) {
        match t.or_else(|| default.clone()) {
            Some(t) => out.push(t),
            None => {
                return Err(Failure::usage(format!(
                    "swarm `{}` has no target: give --target URL, or --swarm {}=URL",
                    spec.name, spec.name
                )));
            }
        }
    }
    Ok(out)
}

/// Chaos the scenario schedules on its own backend or proxy: `load` cannot
/// act on someone else's servers, so it says it leaves them out.
fn backend_side_chaos(sc: &Scenario) -> Vec<String> {
    let kinds: Vec<String> = sc
        .chaos
        .iter()
        .filter(|c| !c.is_traffic())
        .map(|c| c.action.kind_name().to_string())
        .collect::<std::collections::BTreeSet<_>>()
        .into_iter()
        .collect();
    if kinds.is_empty() {
        return Vec::new();
    }
    vec![format!(
        "the scenario's chaos on its backend ({}) is not applied: load drives only the clients",
        kinds.join(", ")
    )]
}

fn progress_line(p: &LoadProgress) -> String {
    let r503 = p.rate_503().map_or("-".to_string(), |r| format!("{:.1}%", r * 100.0));
    format!("{:.0} req/s  503 {r503}  in flight {}", p.rate, p.in_flight)
}

fn print_wire(w: &mut dyn Write, s: &WireStats) -> std::io::Result<()> {
    let ms = |v: Option<f64>| v.map_or("-".to_string(), |v| format_secs(v / 1000.0));
    writeln!(w)?;
    writeln!(w, "on the wire (real time; latencies above are from the intended send time)")?;
    for (swarm, url) in &s.targets {
        writeln!(w, "  {swarm:<12} → {url}")?;
    }
    let d = &s.service_ms;
    writeln!(w, "  service time    p50 {}  p99 {}  max {}  (from the actual send)", ms(d.p50), ms(d.p99), ms(d.max))?;
    let l = &s.send_lag_ms;
    writeln!(w, "  send lag        p50 {}  p99 {}  max {}", ms(l.p50), ms(l.p99), ms(l.max))?;
    let statuses: Vec<String> = s.statuses.iter().map(|(k, n)| format!("{k}: {n}")).collect();
    writeln!(w, "  statuses        {}", statuses.join(", "))?;
    if s.varnish_synthetic > 0 {
        // stampede's served proxy answers with the same page, as Varnish does.
        writeln!(w, "  proxy-made 503s (Guru Meditation pages): {}", s.varnish_synthetic)?;
    }
    if s.truncated > 0 {
        writeln!(w, "  responses cut off mid-body: {}", s.truncated)?;
    }
    let odd: u64 = s
        .statuses
        .iter()
        .filter(|(k, _)| !matches!(k.as_str(), "200" | "429" | "503" | "connect_failed" | "no_answer" | "timed_out"))
        .map(|(_, n)| n)
        .sum();
    if odd > 0 {
        writeln!(w, "  note: {odd} answers had other statuses (counted as 503 `unknown`): check the target's paths")?;
    }
    Ok(())
}
