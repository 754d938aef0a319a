//! `stampede merge` checks every part file before pooling it: rates in range
//! and equal to their counts, counts that add up, histogram headers within
//! bounds, seeds and cell indices that belong to the sweep. Every error names
//! the file, exits 2, and nothing aborts on a size a file states.

use std::path::{Path, PathBuf};

use serde_json::Value;

use crate::support::{scratch, shipped, stampede, stderr};

/// Writes the two parts of a small sweep into `dir`.
fn parts(dir: &Path) -> [PathBuf; 2] {
    for shard in ["1/2", "2/2"] {
        let o = stampede(&[
            "sweep",
            "scenarios/mmc-erlang.toml",
            "--set",
            "scenario.duration=10m",
            "--vary",
            "pool.gpu.queue_limit=0,2",
            "--seeds",
            "2",
            "--shard",
            shard,
            "--quiet",
            "--out",
            dir.to_str().expect("utf8"),
        ]);
        assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    }
    [dir.join("sweep-part-1-of-2.json"), dir.join("sweep-part-2-of-2.json")]
}

fn read(p: &Path) -> Value {
    serde_json::from_str(&std::fs::read_to_string(p).expect("part")).expect("json")
}

/// Writes `part` edited by `edit` beside it, as `name`.
fn edited(part: &Path, name: &str, edit: impl Fn(&mut Value)) -> PathBuf {
    let mut v = read(part);
    edit(&mut v);
    let path = part.with_file_name(name);
    std::fs::write(&path, serde_json::to_string(&v).expect("json")).expect("write");
    path
}

/// Merges `files`; returns stderr after checking the exit code.
fn merge(files: &[&Path]) -> String {
    let out = files[0].with_file_name("merged");
    let mut args = vec!["merge".to_string(), "--quiet".into(), "--out".into(), out.display().to_string()];
    args.extend(files.iter().map(|f| f.display().to_string()));
    let o = stampede(&args.iter().map(String::as_str).collect::<Vec<_>>());
    let err = stderr(&o);
    assert_eq!(o.status.code(), Some(2), "{err}");
    err
}

/// Merges the first part edited by `edit` with the second.
fn merge_edited(first: &Path, second: &Path, edit: impl Fn(&mut Value)) -> String {
    merge(&[&edited(first, "edited-part.json", edit), second])
}

/// Merges both parts, each edited by `edit`.
fn merge_both_edited(first: &Path, second: &Path, edit: impl Fn(&mut Value)) -> String {
    merge(&[&edited(first, "edited-part.json", &edit), &edited(second, "second-edited.json", &edit)])
}

#[test]
fn corrupt_part_files_are_refused_with_the_file_and_cell_named() {
    let dir = scratch("merge-validation");
    let [one, two] = parts(&dir);
    let named = |err: &str, what: &str| {
        assert!(err.contains("edited-part.json: cell 0: ") && err.contains(what), "expected `{what}`: {err}");
    };
    let cell = |v: &mut Value| v["cells"][0].take();
    let put = |v: &mut Value, c: Value| v["cells"][0] = c;
    // Rates out of range, or not the ratio of their counts.
    named(&merge_edited(&one, &two, |v| v["cells"][0]["summary"]["success_rate"] = 7.5.into()), "success_rate = 7.5");
    named(&merge_edited(&one, &two, |v| v["cells"][0]["summary"]["rate_503"] = (-3.0).into()), "rate_503 = -3");
    // Counts that do not add up.
    named(
        &merge_edited(&one, &two, |v| {
            let f = v["cells"][0]["summary"]["requests"]["failed"].as_u64().expect("u64");
            v["cells"][0]["summary"]["requests"]["failed"] = (f + 1).into();
        }),
        "requests.offered",
    );
    // A zero count of 2^64 − 1 used to wrap to a pooled count of 531.
    named(&merge_edited(&one, &two, |v| v["cells"][0]["completion"]["zeros"] = u64::MAX.into()), "overflows");
    // A histogram length field of 0xFFFFFFFF used to abort on allocation.
    named(
        &merge_edited(&one, &two, |v| {
            let hdr = v["cells"][0]["completion"]["hdr"].as_str().expect("hex").to_string();
            v["cells"][0]["completion"]["hdr"] = format!("{}ffffffff{}", &hdr[..8], &hdr[16..]).into();
        }),
        "announces 4294967295 payload bytes",
    );
    // The histogram must agree with the summary.
    named(
        &merge_edited(&one, &two, |v| {
            let other = v["cells"][1]["completion"].clone();
            v["cells"][0]["completion"] = other;
        }),
        "completion histogram",
    );
    // A seed the sweep does not run this cell with.
    named(&merge_edited(&one, &two, |v| v["cells"][0]["summary"]["seed"] = 12345.into()), "seed 12345");
    // A cell of another shard, a repeated cell, a missing cell.
    let err = merge_edited(&one, &two, |v| v["cells"][0]["index"] = 1.into());
    assert!(err.contains("edited-part.json: cell 1 does not belong to shard 1/2"), "{err}");
    let err = merge_edited(&one, &two, |v| {
        let c = cell(v);
        put(v, c.clone());
        v["cells"][1] = c;
    });
    assert!(err.contains("edited-part.json: cell 0 appears twice"), "{err}");
    let err = merge_edited(&one, &two, |v| {
        v["cells"].as_array_mut().expect("cells").pop();
    });
    assert!(err.contains("edited-part.json: holds 1 cells, but shard 1/2 of this sweep has 2"), "{err}");
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn a_spec_stating_a_huge_sweep_is_refused_before_anything_is_sized_by_it() {
    let dir = scratch("merge-huge");
    let [one, two] = parts(&dir);
    let seeds = |v: &mut Value| v["spec"]["seeds"] = (42..42 + 1_000_000u64).collect::<Vec<_>>().into();
    // Both parts agree on the edited spec, so only the sizes can give it away.
    let err = merge_both_edited(&one, &two, |v| {
        seeds(v);
        v["shard"] = serde_json::json!([v["shard"][0], 4_000_000_000u64]);
    });
    assert!(err.contains("shard 3/4000000000 is missing: the parts given are"), "{err}");
    assert!(err.contains("edited-part.json (1/4000000000)"), "{err}");
    // With the split intact, the stated number of cells must be the cells held.
    let err = merge_both_edited(&one, &two, seeds);
    assert!(err.contains("edited-part.json: holds 2 cells, but shard 1/2 of this sweep has 1000000"), "{err}");
    let err = merge_both_edited(&one, &two, |v| v["spec"]["seeds"] = serde_json::json!([42, 44]));
    assert!(err.contains("edited-part.json: seeds 42 then 44"), "{err}");
    let err = merge_both_edited(&one, &two, |v| v["spec"]["metrics"] = serde_json::json!(["rate_530"]));
    assert!(err.contains("edited-part.json: metrics: unknown metric `rate_530`"), "{err}");
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn every_shipped_scenarios_summary_passes_the_consistency_check() {
    for file in ["playground-img2img.toml", "varnish-defaults.toml", "retry-storm.toml", "mmc-erlang.toml"] {
        let sc = shipped(file);
        let run = stampede::engine::simulate(&sc, sc.seed).expect("the run finishes");
        stampede::metrics::consistency::check(&run.summary).unwrap_or_else(|e| panic!("{file}: {e}"));
        let first: Vec<usize> = vec![0];
        let scoped = run.summary.scoped(&sc, &run.recorder, &first);
        stampede::metrics::consistency::check(&scoped).unwrap_or_else(|e| panic!("{file}, scoped: {e}"));
    }
}

/// Machines name the scenario file their own way (`./scenarios/x.toml`, an
/// absolute path): parts of one sweep merge whatever the spelling, as long
/// as the file's text is the same.
#[test]
fn parts_merge_whatever_path_named_the_same_scenario_file() {
    let dir = scratch("merge-paths");
    let [one, two] = parts(&dir);
    let elsewhere =
        edited(&two, "elsewhere.json", |v| v["spec"]["file"] = "/srv/checkout/scenarios/mmc-erlang.toml".into());
    let out = dir.join("merged");
    let args = ["merge", "--quiet", "--out", out.to_str().expect("utf8"), one.to_str().expect("utf8")];
    let o = stampede(&[&args[..], &[elsewhere.to_str().expect("utf8")]].concat());
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    // A different text still is a different sweep.
    let err = merge_edited(&one, &two, |v| v["spec"]["scenario_text"] = "# changed\n".into());
    assert!(err.contains("the scenario file differs"), "{err}");
    let _ = std::fs::remove_dir_all(dir);
}
