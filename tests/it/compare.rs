//! `stampede compare`: reproducible results, honest statistics, charts, a
//! self-contained report, and the playground's story.

use stampede::compare::{Comparison, Plan, Request, run_cells};

use crate::support::{scratch, shipped, stampede, stderr};

#[test]
fn the_result_does_not_depend_on_the_number_of_threads() {
    let dir = scratch("compare-jobs");
    let mut outputs = Vec::new();
    for jobs in ["1", "4"] {
        let out = dir.join(jobs);
        let o = stampede(&[
            "compare",
            "scenarios/retry-storm.toml",
            "--seeds",
            "4",
            "--jobs",
            jobs,
            "--quiet",
            "--out",
            out.to_str().expect("utf8"),
        ]);
        assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
        outputs.push(std::fs::read(out.join("compare.json")).expect("compare.json"));
    }
    assert!(outputs[0] == outputs[1], "compare.json differs between --jobs 1 and --jobs 4");
    let _ = std::fs::remove_dir_all(dir);
}

fn png_size(bytes: &[u8]) -> (u32, u32) {
    assert_eq!(&bytes[..8], b"\x89PNG\r\n\x1a\n", "PNG signature");
    assert_eq!(&bytes[12..16], b"IHDR", "first chunk is IHDR");
    let be = |b: &[u8]| u32::from_be_bytes([b[0], b[1], b[2], b[3]]);
    (be(&bytes[16..20]), be(&bytes[20..24]))
}

fn check_svg(text: &str, name: &str) {
    let start = text.find("<svg").unwrap_or_else(|| panic!("{name}: no <svg> element"));
    assert!(text[start..].contains("width=") && text[start..].contains("height="), "{name}: no size");
    assert!(text.trim_end().ends_with("</svg>"), "{name}: not closed");
    assert!(text.matches("<text").count() >= 5, "{name}: too few labels");
    assert!(text.contains("<polyline") || text.contains("<path") || text.contains("<rect"), "{name}: nothing drawn");
}

#[test]
fn compare_writes_valid_charts_and_a_self_contained_report() {
    let out = scratch("compare-report");
    let dir = out.to_str().expect("utf8");
    let o = stampede(&["compare", "scenarios/varnish-defaults.toml", "--seeds", "3", "--out", dir]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let stdout = String::from_utf8_lossy(&o.stdout);
    assert!(stdout.contains("verdict") && stdout.contains("difference from the baseline"), "{stdout}");

    let charts = [
        "compare-503-rate",
        "compare-capacity",
        "compare-completion-cdf",
        "compare-headline",
        "compare-attempts",
        "compare-causes",
    ];
    for name in charts {
        let png = std::fs::read(out.join(format!("{name}.png"))).expect("png");
        let (w, h) = png_size(&png);
        assert!((800..=1600).contains(&w) && (400..=1400).contains(&h), "{name}.png is {w}x{h}");
        assert!(png.len() > 10_000, "{name}.png is only {} bytes", png.len());
        let svg = std::fs::read_to_string(out.join(format!("{name}.svg"))).expect("svg");
        assert!(svg.len() > 5_000, "{name}.svg is only {} bytes", svg.len());
        check_svg(&svg, name);
    }

    let html = std::fs::read_to_string(out.join("index.html")).expect("index.html");
    for external in ["src=", "<link", "url(", "@import", "<script"] {
        assert!(!html.contains(external), "index.html contains `{external}`");
    }
    for (i, _) in html.match_indices("href=") {
        assert!(html[i..].starts_with("href=\"#"), "index.html links outside itself");
    }
    assert_eq!(html.matches("<svg").count(), charts.len(), "every chart inlined");
    assert!(html.contains("varnishd&#39;s default timeouts"), "the scenario file as run is quoted");
    let seed = shipped("varnish-defaults.toml").seed;
    assert!(html.contains(&format!("seeds {}, {}, {}", seed, seed + 1, seed + 2)), "the seeds are listed");
    assert!(html.contains(env!("CARGO_PKG_VERSION")), "the tool version is given");

    let md = std::fs::read_to_string(out.join("report.md")).expect("report.md");
    assert!(md.contains("| rank | strategy |") && md.contains("**Verdict.**"), "{md}");
    let csv = std::fs::read_to_string(out.join("compare.csv")).expect("compare.csv");
    assert!(csv.starts_with("strategy,rank,score,metric,mean,lo,hi,n,"));
    let _ = std::fs::remove_dir_all(out);
}

#[test]
fn run_draws_its_time_series_charts() {
    let out = scratch("compare-run");
    let o = stampede(&["run", "scenarios/varnish-defaults.toml", "--quiet", "--out", out.to_str().expect("utf8")]);
    assert_eq!(o.status.code(), Some(0));
    for name in ["run-503-rate", "run-capacity", "run-load", "run-causes"] {
        let png = std::fs::read(out.join(format!("{name}.png"))).expect("png");
        assert_eq!(png_size(&png), (1000, 480));
        check_svg(&std::fs::read_to_string(out.join(format!("{name}.svg"))).expect("svg"), name);
    }
    let _ = std::fs::remove_dir_all(out);
}

#[test]
fn bad_compare_arguments_exit_2_with_a_reason() {
    for (args, expected) in [
        (vec!["--strategies", "stepped,nope"], "unknown strategy `nope`"),
        (vec!["--strategies", "stepped"], "at least two strategies"),
        (vec!["--baseline", "none", "--strategies", "stepped,immediate"], "not among the compared strategies"),
        (vec!["--seeds", "1"], "must be at least 2, got 1"),
        (vec!["--objective", "max bulk_sucess_rate"], "did you mean `bulk_success_rate`"),
        (vec!["--swarms", "bluk"], "did you mean `bulk`"),
        (vec!["--jobs", "0"], "must be at least 1, got 0"),
    ] {
        let mut full = vec!["compare", "scenarios/playground-img2img.toml", "--quiet"];
        full.extend(args.iter());
        let o = stampede(&full);
        assert_eq!(o.status.code(), Some(2), "{args:?}");
        let err = stderr(&o);
        assert!(err.contains(expected), "{args:?}: {err}");
    }
}

#[test]
fn on_the_playground_stepped_backoff_saves_more_bulk_jobs_than_immediate_retries() {
    // The file's [compare] section: the bulk clients try each strategy while
    // the rest of the traffic keeps its own, 20 seeds.
    let sc = shipped("playground-img2img.toml");
    let plan = Plan::new(sc, &Request::default()).expect("the file's [compare] is valid");
    let cells = run_cells(&plan, stampede::replication::Runner::Sim, 2, &|| {}).expect("the run finishes");
    let c = Comparison::build(&plan, &cells);
    let stepped = c.strategy("stepped").expect("compared");
    let d = stepped.vs_baseline["bulk_success_rate"].expect("bulk jobs ran");
    assert_eq!(c.baseline, "immediate");
    // A qualitative check with a margin: the whole 95% paired interval lies
    // above zero, and the mean gain is at least two percentage points.
    assert!(d.significant && d.diff.lo > 0.0, "stepped − immediate bulk success: {:?}", d.diff);
    assert!(d.diff.mean >= 0.02, "gain {:.4}", d.diff.mean);
    assert_eq!(c.winner.as_deref(), Some("stepped"), "{}", c.verdict);
    // Without any retries the bulk clients lose most jobs that overlap the surge.
    let none = c.strategy("none").expect("compared").vs_baseline["bulk_success_rate"].expect("bulk");
    assert!(none.significant && none.diff.hi < 0.0);
}

#[test]
fn confidence_intervals_come_from_the_seeds() {
    // The comparison's interval for a metric equals the Student-t interval of
    // that metric over the per-seed summaries.
    let sc = shipped("retry-storm.toml");
    let req = Request { seeds: Some(5), ..Default::default() };
    let plan = Plan::new(sc, &req).expect("plan");
    let cells = run_cells(&plan, stampede::replication::Runner::Sim, 1, &|| {}).expect("the run finishes");
    let c = Comparison::build(&plan, &cells);
    let s = plan.strategies.iter().position(|&i| plan.scenario.strategies[i].name == "none").expect("none");
    let xs: Vec<f64> = cells[s].iter().map(|cell| cell.summary.success_rate.expect("requests offered")).collect();
    let expected = stampede::stats::mean_ci(&xs).expect("five values");
    assert_eq!(c.strategy("none").expect("none").metrics["success_rate"], Some(expected));
    assert_eq!(expected.n, 5);
}

#[test]
fn the_files_baseline_applies_only_when_it_is_compared() {
    let plan_for = |strategies: Option<&[&str]>| {
        let req =
            Request { strategies: strategies.map(|s| s.iter().map(|n| n.to_string()).collect()), ..Default::default() };
        let plan = Plan::new(shipped("playground-img2img.toml"), &req).expect("plan");
        plan.strategy_name(plan.baseline).to_string()
    };
    // playground's [compare] baseline is `immediate`.
    assert_eq!(plan_for(None), "immediate");
    assert_eq!(plan_for(Some(&["stepped", "immediate"])), "immediate");
    assert_eq!(plan_for(Some(&["stepped", "none"])), "stepped");
}

/// `compare --engine live` runs each cell on the live engine (one at a time,
/// real HTTP on loopback) and says so; its ranking agrees with the
/// simulator's on a scenario where one strategy is plainly better: retrying
/// a pool's own 503s fills the retry's wait time with successes.
#[test]
fn compare_runs_its_cells_on_the_live_engine_when_asked() {
    let dir = scratch("compare-live");
    let file = dir.join("two.toml");
    std::fs::write(
        &file,
        r#"
[scenario]
name = "compare-live"
duration = "2m"
warmup = "0s"
window = "1m"
[proxy]
first_byte_timeout = "off"
[pool.gpu]
slots = 2
queue_limit = 0
initial_instances = 1
[class.job]
pool = "gpu"
service = { dist = "constant", value = "2s" }
[swarm.users]
class = "job"
arrivals = { process = "poisson", rate = "0.8/s" }
timeout = "30s"
strategy = "retry"
[strategy.retry]
kind = "fixed"
delay = "3s"
max_attempts = 6
"#,
    )
    .expect("write");
    let run = |engine: &[&str], out: &str| {
        let json = dir.join(format!("{out}.json"));
        // Five seeds: each of the three criteria is tested at 98.33%.
        let mut args = vec!["compare", file.to_str().expect("utf8"), "--strategies", "retry,none", "--seeds", "5"];
        args.extend_from_slice(engine);
        let out = dir.join(out);
        args.extend(["--quiet", "--out", out.to_str().expect("utf8"), "--json", json.to_str().expect("utf8")]);
        let o = stampede(&args);
        assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
        let c: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(json).expect("json")).expect("valid");
        c
    };
    let sim = run(&[], "sim");
    let live = run(&["--engine", "live", "--time-scale", "60"], "live");
    assert!(sim.get("live_time_scale").is_none(), "the simulator's comparison names no live engine");
    assert_eq!(live["live_time_scale"], 60.0);
    let first = |c: &serde_json::Value| c["strategies"][0]["name"].as_str().expect("name").to_string();
    assert_eq!(first(&sim), "retry", "{sim}");
    assert_eq!(first(&live), first(&sim), "the live engine ranks as the simulator does");
    let md = std::fs::read_to_string(dir.join("live").join("report.md")).expect("report.md");
    assert!(md.contains("the live engine (HTTP on loopback) at time scale 60"), "{md}");
    // The simulator has no time scale.
    let o = stampede(&["compare", file.to_str().expect("utf8"), "--time-scale", "60", "--quiet"]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(stderr(&o).contains("--time-scale applies to --engine live only"), "{}", stderr(&o));
    let _ = std::fs::remove_dir_all(&dir);
}
