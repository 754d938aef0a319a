//! `stampede sweep`, `stampede merge` and `--set`.

use crate::support::{scratch, stampede, stderr};

use std::path::Path;
use std::process::Output;

/// A small grid on mmc-erlang: 4 slot counts × 2 arrival rates × 2 strategies × 3 seeds.
const GRID: [&str; 12] = [
    "--set",
    "scenario.duration=20m",
    "--vary",
    "pool.gpu.slots=9..12",
    "--vary",
    "swarm.poisson.arrivals.rate=7/s,8/s",
    "--strategies",
    "none,hammer",
    "--set",
    "strategy.hammer={ kind = \"immediate\", max_attempts = 3 }",
    "--seeds",
    "3",
];

fn sweep(out: &Path, extra: &[&str]) -> Output {
    let mut args = vec!["sweep", "scenarios/mmc-erlang.toml", "--quiet", "--out", out.to_str().expect("utf8")];
    args.extend(GRID);
    args.extend(extra);
    stampede(&args)
}

#[test]
fn a_two_key_sweep_writes_every_grid_point_and_a_heatmap() {
    let out = scratch("sweep-grid");
    let o = sweep(&out, &[]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("sweep.json")).expect("sweep.json")).expect("json");
    let points = json["points"].as_array().expect("points");
    assert_eq!(points.len(), 4 * 2 * 2, "grid points × strategies");
    let mut seen: Vec<(String, String, String)> = points
        .iter()
        .map(|p| {
            let v = p["values"].as_array().expect("values");
            (
                v[0].as_str().expect("s").into(),
                v[1].as_str().expect("s").into(),
                p["strategy"].as_str().expect("s").into(),
            )
        })
        .collect();
    seen.sort();
    seen.dedup();
    assert_eq!(seen.len(), 16, "every (slots, rate, strategy) combination once");
    for p in points {
        let i = &p["metrics"]["rate_503"];
        assert_eq!(i["n"], 3, "three seeds per point");
        assert!(i["lo"].as_f64().expect("lo") <= i["mean"].as_f64().expect("mean"));
    }
    // With no backend queue limit nothing is refused: the 503 rate is 0 everywhere,
    // and more slots at the same load mean less queueing.
    let wait = |slots: &str| {
        points
            .iter()
            .find(|p| p["values"][0] == slots && p["values"][1] == "8/s" && p["strategy"] == "none")
            .map(|p| p["metrics"]["completion_p50"]["mean"].as_f64().expect("mean"))
            .expect("point")
    };
    assert!(wait("9") > wait("12"), "p50 {} at 9 slots vs {} at 12", wait("9"), wait("12"));
    let csv = std::fs::read_to_string(out.join("sweep.csv")).expect("sweep.csv");
    assert_eq!(csv.lines().count(), 1 + 16);
    assert!(csv.starts_with("pool.gpu.slots,swarm.poisson.arrivals.rate,strategy,rate_503_mean,"));
    for name in ["sweep-heatmap-success_rate-none", "sweep-heatmap-completion_p99-hammer", "sweep-rate_503"] {
        let png = std::fs::read(out.join(format!("{name}.png"))).expect(name);
        assert_eq!(&png[..8], b"\x89PNG\r\n\x1a\n");
        let svg = std::fs::read_to_string(out.join(format!("{name}.svg"))).expect(name);
        assert!(svg.contains("<svg") && svg.trim_end().ends_with("</svg>") && svg.len() > 3000, "{name}.svg");
    }
    let _ = std::fs::remove_dir_all(out);
}

#[test]
fn three_shards_merged_equal_the_unsharded_sweep_byte_for_byte() {
    let full = scratch("sweep-full");
    assert_eq!(sweep(&full, &[]).status.code(), Some(0));
    let parts = scratch("sweep-parts");
    for i in 1..=3 {
        let shard = format!("{i}/3");
        let o = sweep(&parts, &["--shard", &shard, "--jobs", "1"]);
        assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    }
    let merged = scratch("sweep-merged");
    let files: Vec<String> =
        (1..=3).map(|i| parts.join(format!("sweep-part-{i}-of-3.json")).display().to_string()).collect();
    let mut args = vec!["merge", "--quiet", "--out", merged.to_str().expect("utf8")];
    args.extend(files.iter().rev().map(String::as_str));
    let o = stampede(&args);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    for f in ["sweep.json", "sweep.csv", "sweep-rate_503.svg", "sweep-heatmap-success_rate-none.svg"] {
        let a = std::fs::read(full.join(f)).expect(f);
        let b = std::fs::read(merged.join(f)).expect(f);
        assert!(a == b, "{f} differs between the merged and the unsharded sweep");
    }

    // Parts that do not make one sweep are refused.
    let o = stampede(&["merge", &files[0], &files[1]]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("shard 3/3 is missing"));
    let o = stampede(&["merge", &files[0], &files[0], &files[2]]);
    assert!(stderr(&o).contains("given twice"));
    let other = scratch("sweep-other");
    assert_eq!(sweep(&other, &["--shard", "2/3", "--set", "scenario.seed=9"]).status.code(), Some(0));
    let odd = other.join("sweep-part-2-of-3.json").display().to_string();
    let o = stampede(&["merge", &files[0], &odd, &files[2]]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("describes a different sweep"), "{}", stderr(&o));
    // A hand-edited part with an impossible shard number is refused, not a panic.
    let text = std::fs::read_to_string(&files[0]).expect("part");
    assert!(text.contains("\"shard\":[1,3]"), "part files store their shard as [I,N]");
    let bad = other.join("bad-part.json");
    std::fs::write(&bad, text.replace("\"shard\":[1,3]", "\"shard\":[0,3]")).expect("write");
    let o = stampede(&["merge", bad.to_str().expect("utf8"), &files[1], &files[2]]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(stderr(&o).contains("is not a shard"), "{}", stderr(&o));
    for d in [full, parts, merged, other] {
        let _ = std::fs::remove_dir_all(d);
    }
}

#[test]
fn bad_set_and_vary_input_exits_2_with_a_reason() {
    let out = scratch("sweep-bad");
    let dir = out.to_str().expect("utf8");
    for (args, expected) in [
        (
            vec!["run", "scenarios/mmc-erlang.toml", "--set", "pool.gpu.slotz=4"],
            "--set pool.gpu.slotz=4: pool.gpu.slotz: unknown key `slotz`",
        ),
        (
            vec!["run", "scenarios/mmc-erlang.toml", "--set", "pool.gpu.slots=-1"],
            "--set pool.gpu.slots=-1: pool.gpu.slots: must be at least 1",
        ),
        (vec!["run", "scenarios/mmc-erlang.toml", "--set", "proxy.first_byte_timeout=60"], "expected a duration"),
        (vec!["run", "scenarios/mmc-erlang.toml", "--set", "pool.gpu.slots"], "expected KEY=VALUE"),
        (
            // The override that took effect is the one blamed.
            vec!["run", "scenarios/mmc-erlang.toml", "--set", "pool.gpu.slots=4", "--set", "pool.gpu.slots=0"],
            "--set pool.gpu.slots=0: pool.gpu.slots: must be at least 1",
        ),
        (vec!["sweep", "scenarios/mmc-erlang.toml", "--vary", "pool.gpu.slots=4..1"], "below"),
        (
            vec!["sweep", "scenarios/mmc-erlang.toml", "--vary", "pool.gpu.slots=a,b"],
            "--vary pool.gpu.slots=a: pool.gpu.slots: expected an integer, found the string \"a\"",
        ),
        (
            vec!["sweep", "scenarios/mmc-erlang.toml", "--vary", "pool.gpu.slots=0..2"],
            "(at grid point pool.gpu.slots=0)",
        ),
        (vec!["sweep", "scenarios/mmc-erlang.toml", "--vary", "pool.gpu.slotz=1,2"], "unknown key `slotz`"),
        (vec!["sweep", "scenarios/mmc-erlang.toml", "--vary", "pool.gpu.slots=1,2", "--shard", "4/3"], "expected I/N"),
        (
            vec!["sweep", "scenarios/mmc-erlang.toml", "--vary", "pool.gpu.slots=1,2", "--metrics", "rate503"],
            "did you mean `rate_503`",
        ),
        (
            vec!["sweep", "scenarios/mmc-erlang.toml", "--vary", "pool.gpu.slots=1,2", "--metrics", "hit_ratio"],
            "--metrics hit_ratio: no class is cached",
        ),
    ] {
        let mut full = args.clone();
        full.extend(["--out", dir]);
        let o = stampede(&full);
        assert_eq!(o.status.code(), Some(2), "{args:?}");
        let err = stderr(&o);
        assert!(err.contains(expected), "{args:?}:\n{err}");
    }
    let _ = std::fs::remove_dir_all(out);
}

#[test]
fn a_set_value_is_used_and_recorded_in_the_scenario_as_run() {
    let out = scratch("sweep-set");
    let o = stampede(&[
        "run",
        "scenarios/mmc-erlang.toml",
        "--quiet",
        "--set",
        "pool.gpu.queue_limit=0",
        "--set",
        "scenario.duration=30m",
        "--out",
        out.to_str().expect("utf8"),
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let v: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("summary.json")).expect("json")).expect("json");
    assert_eq!(v["duration_s"], 1800.0);
    // Erlang B(10, 9) ≈ 0.168: a loss system now refuses work.
    let refused = v["attempts"]["causes"]["backend_queue_full"].as_u64().expect("count");
    assert!(refused > 1000, "{refused}");
    let _ = std::fs::remove_dir_all(out);
}
