//! Golden results: every shipped scenario, three seeds, byte for byte.
//!
//! A refactor of the engine or the models must not change any result. These
//! files pin summary.json (wall-clock figures zeroed) and a digest of
//! timeseries.csv for each (scenario, seed). When a change is *meant* to alter
//! results, re-record them with `STAMPEDE_BLESS=1 cargo test --release --test
//! it golden::` and say why in the commit.

use std::path::PathBuf;

use stampede::engine::simulate;
use stampede::report::csv::write_timeseries;
use stampede::report::write_json;

use crate::support::shipped;

const SCENARIOS: [&str; 8] = [
    "playground-img2img",
    "varnish-defaults",
    "retry-storm",
    "mmc-erlang",
    "live-vs-sim",
    "metastable-retry",
    "paid-vs-free",
    "cache-txt2img",
];
const SEEDS: [u64; 3] = [1, 2, 3];

/// FNV-1a: a stable digest that needs no dependency.
fn fnv64(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |h, &b| (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3))
}

fn golden_text(name: &str, seed: u64) -> String {
    let sc = shipped(&format!("{name}.toml"));
    let run = simulate(&sc, seed).expect("the run finishes");
    let mut summary = run.summary.clone();
    summary.engine.wall_seconds = 0.0;
    summary.engine.events_per_second = 0.0;
    let mut json = Vec::new();
    write_json(&mut json, &summary).expect("json");
    let mut csv = Vec::new();
    write_timeseries(&mut csv, &sc, run.recorder.series.rows()).expect("csv");
    let mut text = String::from_utf8(json).expect("utf-8");
    text.push_str(&format!("timeseries.csv fnv64 {:016x} ({} bytes)\n", fnv64(&csv), csv.len()));
    text
}

fn path(name: &str, seed: u64) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/golden").join(format!("{name}-seed{seed}.txt"))
}

#[test]
fn shipped_scenarios_reproduce_their_recorded_results_byte_for_byte() {
    let bless = std::env::var_os("STAMPEDE_BLESS").is_some();
    let mut differ = Vec::new();
    for name in SCENARIOS {
        for seed in SEEDS {
            let got = golden_text(name, seed);
            let p = path(name, seed);
            if bless {
                std::fs::create_dir_all(p.parent().expect("dir")).expect("mkdir");
                std::fs::write(&p, &got).expect("write golden");
                continue;
            }
            let want = std::fs::read_to_string(&p)
                .unwrap_or_else(|e| panic!("{}: {e} (record with STAMPEDE_BLESS=1)", p.display()));
            if got != want {
                let line = got.lines().zip(want.lines()).position(|(a, b)| a != b).map_or(0, |i| i + 1);
                differ.push(format!("{name} seed {seed}: first difference at line {line}"));
            }
        }
    }
    assert!(differ.is_empty(), "results changed:\n{}", differ.join("\n"));
}
