//! What users read: table widths, units, seeds that split, ranks that agree
//! with the pairwise results, and the HTML pages of every command.

use crate::support::{scratch, stampede, stderr};

fn run_ok(args: &[&str]) -> String {
    let o = stampede(args);
    assert!(matches!(o.status.code(), Some(0 | 1)), "{args:?}: {}", stderr(&o));
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn json(path: &std::path::Path) -> serde_json::Value {
    serde_json::from_str(&std::fs::read_to_string(path).expect("file")).expect("json")
}

/// A retry storm that some seeds escape: a 5 s stall (seeds split) and a 10 s one (all storm).
fn storm_sweep(out: &std::path::Path) -> String {
    run_ok(&[
        "sweep",
        "scenarios/retry-storm.toml",
        "--vary",
        "chaos[0].duration=5s,10s",
        "--seeds",
        "8",
        "--set",
        "scenario.duration=20m",
        "--out",
        out.to_str().expect("utf8"),
    ])
}

#[test]
fn compare_and_sweep_tables_fit_100_columns() {
    let out = scratch("reports-width");
    let compare =
        run_ok(&["compare", "scenarios/playground-img2img.toml", "--seeds", "2", "--out", out.to_str().expect("utf8")]);
    let sweep = storm_sweep(&out.join("sweep"));
    for (what, text) in [("compare", &compare), ("sweep", &sweep)] {
        // The verdict, setup and paths are prose a terminal wraps; tables must not need it.
        let prose = ["verdict", "  4 strategies", "reports "];
        for line in text.lines().filter(|l| !prose.iter().any(|p| l.starts_with(p))) {
            assert!(line.chars().count() <= 100, "{what}: {} columns:\n{line}", line.chars().count());
        }
    }
    assert!(compare.contains("instance-h") && !compare.contains("instance s"), "{compare}");
    let _ = std::fs::remove_dir_all(out);
}

#[test]
fn differences_carry_their_unit_on_both_sides_of_the_plus_minus() {
    let out = scratch("reports-units");
    let text =
        run_ok(&["compare", "scenarios/playground-img2img.toml", "--seeds", "3", "--out", out.to_str().expect("utf8")]);
    let words: Vec<&str> = text.split_whitespace().collect();
    for w in words.windows(2) {
        if let Some(hw) = w[1].strip_prefix('±').filter(|hw| !hw.is_empty()) {
            let unit = |s: &str| {
                s.trim_start_matches(['(', '+', '-'])
                    .trim_end_matches([',', ')', ';'])
                    .trim_start_matches(|c: char| c.is_ascii_digit() || c == '.' || c == ',')
                    .to_string()
            };
            let (a, b) = (unit(w[0]), unit(hw));
            // "62.9%" pairs with "pp", "+1.4pp" with "pp", "4m29s" with "s", a plain number with none.
            let ok = a == b || (a == "%" && b == "pp") || (a.ends_with('s') && b.ends_with('s'));
            assert!(ok, "`{} {}` mixes units", w[0], w[1]);
        }
    }
    let _ = std::fs::remove_dir_all(out);
}

#[test]
fn a_split_between_stormed_and_calm_seeds_is_shown_as_two_groups() {
    let out = scratch("reports-split");
    let text = storm_sweep(&out);
    let row = text.lines().find(|l| l.trim_start().starts_with("5s")).expect("the 5 s row");
    assert!(row.contains('×'), "the split row shows groups, not a mean:\n{text}");
    assert!(text.contains("seeds split into two groups"), "{text}");
    assert!(text.contains("SLOs met"), "retry-storm has an [slo]: {text}");
    let v = json(&out.join("sweep.json"));
    for p in v["points"].as_array().expect("points") {
        let seeds = p["per_seed"]["success_rate"].as_array().expect("per-seed values");
        assert_eq!(seeds.len(), 8);
        for m in ["success_rate", "rate_503"] {
            let i = &p["metrics"][m];
            let (lo, hi) = (i["lo"].as_f64().expect("lo"), i["hi"].as_f64().expect("hi"));
            assert!((0.0..=1.0).contains(&lo) && (0.0..=1.0).contains(&hi), "{m}: [{lo}, {hi}] leaves [0, 1]");
        }
    }
    let caption = std::fs::read_to_string(out.join("index.html")).expect("index.html");
    assert!(caption.contains("split into two groups at chaos[0].duration=5s"), "the chart caption names the split");
    let _ = std::fs::remove_dir_all(out);
}

#[test]
fn compare_ranks_agree_with_the_pairwise_results() {
    let out = scratch("reports-rank");
    run_ok(&[
        "compare",
        "scenarios/playground-img2img.toml",
        "--seeds",
        "4",
        "--quiet",
        "--out",
        out.to_str().expect("utf8"),
    ]);
    let c = json(&out.join("compare.json"));
    let pairs = c["pairwise"].as_array().expect("pairwise");
    let strategies = c["strategies"].as_array().expect("strategies");
    assert_eq!(pairs.len(), strategies.len() * (strategies.len() - 1) / 2);
    for s in strategies {
        let name = s["name"].as_str().expect("name");
        let beaten_by = pairs
            .iter()
            .filter(|p| (p["a"] == name || p["b"] == name) && p["better"].as_str().is_some_and(|b| b != name))
            .count();
        assert_eq!(s["rank"].as_u64(), Some(1 + beaten_by as u64), "{name}: rank vs pairwise results");
    }
    let html = std::fs::read_to_string(out.join("index.html")).expect("index.html");
    assert!(html.contains("Pairwise results"));
    let _ = std::fs::remove_dir_all(out);
}

#[test]
fn run_sweep_and_plan_write_self_contained_html_pages() {
    let out = scratch("reports-html");
    let o = out.to_str().expect("utf8");
    run_ok(&[
        "run",
        "scenarios/mmc-erlang.toml",
        "--quiet",
        "--set",
        "scenario.duration=20m",
        "--out",
        &format!("{o}/run"),
    ]);
    storm_sweep(&out.join("sweep"));
    run_ok(&[
        "plan",
        "scenarios/mmc-erlang.toml",
        "--quiet",
        "--set",
        "scenario.duration=20m",
        "--tune",
        "pool.gpu.slots=9..14",
        "--slo",
        "queue_wait_p99<5s",
        "--seeds",
        "3",
        "--out",
        &format!("{o}/plan"),
    ]);
    for (dir, must) in [("run", "Requests and attempts"), ("sweep", "Sweep: retry-storm"), ("plan", "Evaluated values")]
    {
        let html = std::fs::read_to_string(out.join(dir).join("index.html")).expect("index.html");
        assert!(html.contains(must), "{dir}/index.html lacks `{must}`");
        assert!(html.contains("<svg") && html.contains("Scenario as run"), "{dir}: charts and scenario inlined");
        for external in ["src=", "<link", "url(", "@import", "<script"] {
            assert!(!html.contains(external), "{dir}/index.html contains `{external}`");
        }
    }
    let _ = std::fs::remove_dir_all(out);
}

/// A run's page carries what its text summary says: the completion of every
/// request, bulk jobs, the cache and recovery after each trigger.
#[test]
fn a_run_page_shows_bulk_jobs_the_cache_and_recovery() {
    let out = scratch("reports-run-page");
    let o = out.to_str().expect("utf8");
    run_ok(&["run", "scenarios/cache-txt2img.toml", "--quiet", "--out", o]);
    let html = std::fs::read_to_string(out.join("index.html")).expect("index.html");
    let summary = json(&out.join("summary.json"));
    let lookups = summary["cache"]["lookups"].as_u64().expect("lookups");
    let submitted = summary["bulk_jobs"]["submitted"].as_u64().expect("bulk jobs");
    for must in [
        "completion all".to_string(),
        "<h2>Bulk jobs</h2>".into(),
        "<h2>Cache</h2>".into(),
        "<h2>Recovery</h2>".into(),
        stampede::report::text::thousands(lookups),
        stampede::report::text::thousands(submitted),
        "surge spike".into(),
    ] {
        assert!(html.contains(&must), "index.html lacks `{must}`");
    }
    let _ = std::fs::remove_dir_all(out);
}
