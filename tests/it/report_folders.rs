//! Report folders: one per command, holding exactly the last run's files
//! (docs/cli.md, "Report folders").

use std::path::Path;

use crate::support::{scratch, stampede, stderr};

fn files(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(dir)
        .expect("dir")
        .map(|e| e.expect("entry").file_name().into_string().expect("utf8"))
        .collect();
    v.sort();
    v
}

fn sweep(out: &Path, vary: &[&str]) {
    let mut args = vec![
        "sweep",
        "scenarios/mmc-erlang.toml",
        "--quiet",
        "--seeds",
        "2",
        "--set",
        "scenario.duration=10m",
        "--out",
        out.to_str().expect("utf8"),
    ];
    for v in vary {
        args.extend(["--vary", v]);
    }
    let o = stampede(&args);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
}

#[test]
fn a_second_sweep_with_one_key_leaves_no_heatmap_from_the_first() {
    let out = scratch("folders-sweep");
    std::fs::write(out.join("my-notes.txt"), "mine").expect("user file");
    sweep(&out, &["pool.gpu.slots=10,11", "swarm.poisson.arrivals.rate=7/s,8/s"]);
    assert!(files(&out).iter().any(|f| f.starts_with("sweep-heatmap-")), "{:?}", files(&out));
    sweep(&out, &["pool.gpu.slots=10,11"]);
    let now = files(&out);
    assert!(!now.iter().any(|f| f.starts_with("sweep-heatmap-")), "stale heatmaps: {now:?}");
    assert!(now.contains(&"sweep.json".to_string()) && now.contains(&"sweep-rate_503.png".to_string()));
    // A file stampede did not write stays, whatever the folder.
    assert_eq!(std::fs::read_to_string(out.join("my-notes.txt")).expect("kept"), "mine");
    let manifest: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("stampede-report.json")).expect("manifest"))
            .expect("json");
    assert_eq!(manifest["command"], "sweep");
    let listed: Vec<&str> = manifest["files"].as_array().expect("files").iter().filter_map(|f| f.as_str()).collect();
    for f in &now {
        let ours = f != "my-notes.txt" && f != "stampede-report.json";
        assert_eq!(listed.contains(&f.as_str()), ours, "{f} in the manifest: {listed:?}");
    }
    let _ = std::fs::remove_dir_all(out);
}

#[test]
fn each_command_writes_its_own_folder_under_reports() {
    let cwd = scratch("folders-default");
    let scenario = Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios/retry-storm.toml");
    let run = |args: &[&str]| {
        let o = std::process::Command::new(env!("CARGO_BIN_EXE_stampede"))
            .args(args)
            .current_dir(&cwd)
            .output()
            .expect("runs");
        // retry-storm's [slo] fails on purpose (exit 1); the reports are written either way.
        assert!(matches!(o.status.code(), Some(0 | 1)), "{}", stderr(&o));
    };
    let sc = scenario.to_str().expect("utf8");
    run(&["run", sc, "--quiet", "--set", "scenario.duration=12m"]);
    run(&["compare", sc, "--quiet", "--seeds", "2", "--set", "scenario.duration=12m"]);
    let base = cwd.join("reports").join("retry-storm");
    let (r, c) = (files(&base.join("run")), files(&base.join("compare")));
    assert!(r.contains(&"summary.json".to_string()) && r.contains(&"index.html".to_string()), "{r:?}");
    assert!(!r.iter().any(|f| f.starts_with("compare")), "{r:?}");
    assert!(c.contains(&"compare.json".to_string()) && c.contains(&"index.html".to_string()), "{c:?}");
    assert!(!c.iter().any(|f| f.starts_with("run-") || f == "summary.json"), "{c:?}");
    let _ = std::fs::remove_dir_all(cwd);
}

#[test]
fn a_folder_with_someone_elses_manifest_is_refused_untouched() {
    let out = scratch("folders-foreign");
    std::fs::write(out.join("stampede-report.json"), "not ours").expect("file");
    std::fs::write(out.join("summary.json"), "theirs").expect("file");
    let o = stampede(&["run", "scenarios/mmc-erlang.toml", "--quiet", "--out", out.to_str().expect("utf8")]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("is not a stampede report manifest"), "{}", stderr(&o));
    assert_eq!(std::fs::read_to_string(out.join("summary.json")).expect("kept"), "theirs");
    let _ = std::fs::remove_dir_all(out);
}

#[test]
fn a_json_file_inside_the_report_folder_is_refused_before_it_overwrites_a_report() {
    let dir = scratch("json-inside");
    let out = dir.join("out");
    let (o, j) = (out.to_str().expect("utf-8"), out.join("index.html"));
    let run = stampede(&["run", "scenarios/mmc-erlang.toml", "--out", o, "--json", j.to_str().expect("utf-8")]);
    assert_eq!(run.status.code(), Some(2));
    assert!(stderr(&run).contains("is inside the report folder"), "{}", stderr(&run));
    assert!(!j.exists(), "nothing was written");
    // Spelled through `..`, once the folder exists.
    std::fs::create_dir_all(&out).expect("folder");
    let round = dir.join("out").join("..").join("out").join("summary.json");
    let run = stampede(&["run", "scenarios/mmc-erlang.toml", "--out", o, "--json", round.to_str().expect("utf-8")]);
    assert_eq!(run.status.code(), Some(2), "{}", stderr(&run));
    assert!(stderr(&run).contains("is inside the report folder"), "{}", stderr(&run));
    let _ = std::fs::remove_dir_all(&dir);
}

/// `--json` naming the scenario (or a part being merged) would replace what
/// the command read: refused before anything is written.
#[test]
fn a_json_file_that_is_an_input_is_refused_and_left_intact() {
    let dir = scratch("json-is-input");
    let sc = dir.join("s.toml");
    let text = std::fs::read_to_string("scenarios/playground-img2img.toml").expect("scenario");
    std::fs::write(&sc, &text).expect("copy");
    let (s, o) = (sc.to_str().expect("utf-8"), dir.join("out"));
    let o = o.to_str().expect("utf-8");
    for command in ["run", "compare", "plan", "sweep"] {
        let mut args = vec![command, s, "--quiet", "--out", o, "--json", s];
        match command {
            "plan" => args.extend(["--tune", "pool.a100.max_instances=16..24", "--slo", "rate_503<0.01"]),
            "sweep" => args.extend(["--vary", "pool.a100.max_instances=16,24"]),
            _ => {}
        }
        let run = stampede(&args);
        assert_eq!(run.status.code(), Some(2), "{command}: {}", stderr(&run));
        assert!(stderr(&run).contains("which the command reads"), "{command}: {}", stderr(&run));
        assert_eq!(std::fs::read_to_string(&sc).expect("kept"), text, "{command} left the scenario intact");
    }
    let part = dir.join("part.json");
    std::fs::write(&part, "{}").expect("part");
    let p = part.to_str().expect("utf-8");
    let merge = stampede(&["merge", p, "--out", o, "--json", p]);
    assert_eq!(merge.status.code(), Some(2), "{}", stderr(&merge));
    assert_eq!(std::fs::read_to_string(&part).expect("kept"), "{}");
    let _ = std::fs::remove_dir_all(&dir);
}

/// A live run takes real time: an `--out` or `--json` it could not write
/// fails it before it starts, not after an hour. The run asked for is an
/// hour long at real speed, so only a check made first ends it in time.
#[test]
fn a_live_run_with_an_unusable_out_or_json_fails_before_it_starts() {
    let dir = scratch("live-unusable-out");
    let file = dir.join("a-file");
    std::fs::write(&file, "not a folder").expect("file");
    let (under, missing) = (file.join("under"), dir.join("no-such-folder").join("x.json"));
    let cases: [(&[&str], &str); 3] = [
        (&["--out", file.to_str().expect("utf8")], "is a file"),
        (&["--out", under.to_str().expect("utf8")], "is a file"),
        (&["--json", missing.to_str().expect("utf8")], "does not exist"),
    ];
    for (extra, says) in cases {
        let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_stampede"))
            .args(["run", "scenarios/live-vs-sim.toml", "--engine", "live", "--quiet"])
            .args(["--set", "scenario.duration=1h", "--set", "scenario.warmup=0s"])
            .args(extra)
            .current_dir(env!("CARGO_MANIFEST_DIR"))
            .stderr(std::process::Stdio::piped())
            .spawn()
            .expect("the binary runs");
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
        let status = loop {
            if let Some(s) = child.try_wait().expect("wait") {
                break s;
            }
            if std::time::Instant::now() > deadline {
                let _ = child.kill();
                panic!("{extra:?}: still running after a minute; the output was not checked first");
            }
            std::thread::sleep(std::time::Duration::from_millis(20));
        };
        let mut err = String::new();
        std::io::Read::read_to_string(&mut child.stderr.take().expect("stderr"), &mut err).expect("stderr");
        assert_eq!(status.code(), Some(2), "{extra:?}: {err}");
        assert!(err.contains(says), "{extra:?}: {err}");
    }
    let _ = std::fs::remove_dir_all(dir);
}
