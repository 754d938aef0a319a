//! The `stampede` binary: files written, output formats, exit codes.

use crate::support::{scratch, stampede};

use std::path::Path;

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

#[test]
fn run_prints_a_summary_and_writes_summary_json_and_timeseries_csv() {
    let out = scratch("cli-run");
    let o = stampede(&["run", "scenarios/playground-img2img.toml", "--out", out.to_str().expect("utf8")]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o.stderr));
    let stdout = text(&o.stdout);
    for block in ["requests", "attempts", "503", "latency", "completion", "bulk jobs", "gpu", "swarms", "summary.json"]
    {
        assert!(stdout.contains(block), "summary lacks `{block}`:\n{stdout}");
    }
    let json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("summary.json")).expect("summary.json"))
            .expect("valid JSON");
    let pct = ["p50", "p90", "p99", "p999", "max"];
    let required: Vec<String> = [
        "scenario",
        "seed",
        "strategy",
        "rate_503",
        "success_rate",
        "amplification",
        "requests/offered",
        "requests/succeeded",
        "requests/failed",
        "requests/unfinished",
        "attempts/total",
        "attempts/ok",
        "attempts/status_503",
        "attempts/status_429",
        "attempts/client_timeout",
        "attempts/causes/first_byte_timeout",
        "attempts/causes/busy",
        "attempts/causes/unhealthy",
        "bulk_jobs/submitted",
        "bulk_jobs/completed",
        "bulk_jobs/failed",
        "gpu/busy_seconds",
        "gpu/wasted_seconds",
        "gpu/instance_seconds",
        "engine/events",
        "engine/wall_seconds",
    ]
    .iter()
    .map(|s| s.to_string())
    .chain(
        pct.iter().flat_map(|p| ["latency_ms", "completion_ms", "bulk_jobs/completion_ms"].map(|h| format!("{h}/{p}"))),
    )
    .collect();
    for key in required {
        assert!(json.pointer(&format!("/{key}")).is_some(), "summary.json lacks {key}");
    }
    assert_eq!(json["scenario"], "playground-img2img");
    let csv = std::fs::read_to_string(out.join("timeseries.csv")).expect("timeseries.csv");
    let mut lines = csv.lines();
    let header: Vec<&str> = lines.next().expect("header").split(',').collect();
    for col in [
        "start_s",
        "offered",
        "attempts",
        "status_503",
        "first_byte_timeout",
        "busy",
        "a100.ready",
        "a100.provisioning",
        "a100.utilization",
    ] {
        assert!(header.contains(&col), "timeseries.csv lacks column {col}");
    }
    // 55 minutes after warmup in 30 s windows.
    assert_eq!(lines.clone().count(), 110);
    assert!(lines.all(|l| l.split(',').count() == header.len()));
    let _ = std::fs::remove_dir_all(out);
}

#[test]
fn json_to_stdout_moves_the_summary_to_stderr_and_quiet_silences_it() {
    let out = scratch("cli-json");
    let o = stampede(&["run", "scenarios/mmc-erlang.toml", "--json", "-", "--out", out.to_str().expect("utf8")]);
    assert_eq!(o.status.code(), Some(0));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).expect("stdout is only JSON");
    assert_eq!(v["seed"], 1);
    assert!(text(&o.stderr).contains("requests"), "human summary on stderr");
    let o =
        stampede(&["run", "scenarios/mmc-erlang.toml", "--quiet", "--seed", "5", "--out", out.to_str().expect("utf8")]);
    assert_eq!(o.status.code(), Some(0));
    assert!(o.stdout.is_empty() && o.stderr.is_empty());
    let v: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("summary.json")).expect("written")).expect("json");
    assert_eq!(v["seed"], 5, "--seed overrides the file");
    let _ = std::fs::remove_dir_all(out);
}

#[test]
fn a_failed_slo_exits_1_and_a_met_one_exits_0() {
    let out = scratch("cli-slo");
    let dir = out.to_str().expect("utf8");
    let o = stampede(&["run", "scenarios/retry-storm.toml", "--quiet", "--out", dir]);
    assert_eq!(o.status.code(), Some(1));
    let o = stampede(&["run", "scenarios/retry-storm.toml", "--strategy", "none", "--out", dir]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o.stdout));
    assert!(text(&o.stdout).contains("pass success_rate > 0.9"), "{}", text(&o.stdout));
    // --slo adds to the file's: the same run fails one that cannot be met.
    let o = stampede(&[
        "run",
        "scenarios/retry-storm.toml",
        "--strategy",
        "none",
        "--slo",
        "rate_503<0.0001%",
        "--out",
        dir,
    ]);
    assert_eq!(o.status.code(), Some(1), "{}", text(&o.stdout));
    assert!(text(&o.stdout).contains("pass success_rate > 0.9") && text(&o.stdout).contains("FAIL rate_503"));
    let o = stampede(&["run", "scenarios/retry-storm.toml", "--slo", "swarm.nope.rate_503<1%", "--out", dir]);
    assert_eq!(o.status.code(), Some(2), "an SLO on a swarm the file lacks is bad input");
    let _ = std::fs::remove_dir_all(out);
}

#[test]
fn bad_input_exits_2_with_the_file_line_and_key() {
    let dir = scratch("cli-bad");
    let bad = dir.join("bad.toml");
    let good =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios/mmc-erlang.toml")).expect("read");
    let broken = good.replace("slots = 10", "slots = 10\nslotz = 3");
    let line = broken.lines().position(|l| l.starts_with("slotz")).expect("inserted") + 1;
    std::fs::write(&bad, broken).expect("write");
    let path = bad.to_str().expect("utf8");
    for args in [vec!["run", path], vec!["validate", path]] {
        let o = stampede(&args);
        assert_eq!(o.status.code(), Some(2));
        let err = text(&o.stderr);
        assert!(
            err.contains(&format!("{path}:{line}:1: "))
                && err.contains("pool.gpu.slotz")
                && err.contains("did you mean `slots`"),
            "{err}"
        );
    }
    let o = stampede(&["run", "scenarios/mmc-erlang.toml", "--strategy", "non"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(text(&o.stderr).contains("unknown strategy `non`") && text(&o.stderr).contains("did you mean `none`"));
    let o = stampede(&["run"]);
    assert_eq!(o.status.code(), Some(2), "usage error");
    let o = stampede(&["run", "scenarios/mmc-erlang.toml", "--seed", "-4"]);
    assert_eq!(o.status.code(), Some(2), "a negative seed is a usage error");
    let _ = std::fs::remove_dir_all(dir);
}

/// Flags that only a scenario can take are refused where no scenario is
/// read, and instance ports past 65535 are bad input, found before binding.
#[test]
fn flags_that_cannot_apply_exit_2_instead_of_being_ignored() {
    for (args, expected) in [
        (vec!["schema", "--set", "pool.gpu.slots=2"], "--set pool.gpu.slots=2: `schema` reads no scenario file"),
        (vec!["merge", "x.json", "--set", "a.b=1"], "`merge` reads no scenario file (the parts carry their scenario)"),
        (vec!["docs", "cli", "--no-limits"], "--no-limits: `docs` reads no scenario file"),
    ] {
        let o = stampede(&args);
        assert_eq!(o.status.code(), Some(2), "{args:?}");
        assert!(text(&o.stderr).contains(expected), "{args:?}: {}", text(&o.stderr));
    }
    // mmc-erlang has one instance: its port would be 65536.
    let o = stampede(&["serve", "backend", "scenarios/mmc-erlang.toml", "--listen", "127.0.0.1:65535"]);
    assert_eq!(o.status.code(), Some(2));
    let err = text(&o.stderr);
    assert!(
        err.contains("--listen 127.0.0.1:65535: the 1 instance port(s) after it") && err.contains("past 65535"),
        "{err}"
    );
}

/// An imported log must make a scenario that validates: a window longer
/// than a scenario may run is refused, as is a log with no request line.
#[test]
fn import_refuses_a_window_no_scenario_can_have_and_names_a_bad_line() {
    let dir = scratch("cli-import");
    let log = dir.join("a.log");
    std::fs::write(&log, "10.0.0.1 - - [01/Dec/2026:18:00:00 +0000] \"POST /c HTTP/1.1\" 200 1\n").expect("write");
    let p = log.to_str().expect("utf8");
    let o = stampede(&["import", p, "--window", "1000000000s"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(text(&o.stderr).contains("longer than a scenario may run (277h46m40s)"), "{}", text(&o.stderr));
    // One request is one second of log, whatever the window.
    let o = stampede(&["import", p, "--window", "1h"]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o.stderr));
    assert!(text(&o.stdout).contains("duration = \"1s\""), "{}", text(&o.stdout));
    assert!(text(&o.stdout).contains("{ at = \"0s\", rate = \"1/s\" }"), "{}", text(&o.stdout));
    // The fragment never replaces the log it reads.
    let o = stampede(&["import", p, "-o", p]);
    assert_eq!(o.status.code(), Some(2));
    assert!(text(&o.stderr).contains("that is the log being imported"), "{}", text(&o.stderr));
    assert!(std::fs::read_to_string(&log).expect("kept").contains("POST /c"));
    // Times past any scenario's length do not wrap around.
    let far = "1.1.1.1 - - [01/Jan/1970:00:00:00 +0000] \"GET /a HTTP/1.1\" 200 1\n\
               1.1.1.1 - - [21/Jul/2554:23:34:34 +0000] \"GET /a HTTP/1.1\" 200 1\n";
    std::fs::write(&log, far).expect("write");
    let o = stampede(&["import", p, "--window", "498560651s"]);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o.stdout));
    // A log longer than any scenario: no --window helps, so the advice is to cut it.
    let year = "10.0.0.1 - - [01/Dec/2025:18:00:00 +0000] \"POST /c HTTP/1.1\" 200 1\n\
                10.0.0.1 - - [01/Dec/2026:18:00:00 +0000] \"POST /c HTTP/1.1\" 200 1\n";
    std::fs::write(&log, year).expect("write");
    let o = stampede(&["import", p, "--window", "1h"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        text(&o.stderr).contains("the log spans 31536001 s (365.0 days), longer than a scenario may run"),
        "{}",
        text(&o.stderr)
    );
    std::fs::write(&log, "not a log\n").expect("write");
    let o = stampede(&["import", p]);
    assert_eq!(o.status.code(), Some(2));
    assert!(text(&o.stderr).contains(":1: no request lines") || text(&o.stderr).contains("line 1: no request lines"));
    let _ = std::fs::remove_dir_all(dir);
}

/// `import -` reads the log from standard input, as log tools do.
#[test]
fn import_reads_standard_input_for_a_dash() {
    use std::io::Write;
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_stampede"))
        .args(["import", "-", "--window", "10s"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("the binary runs");
    let log = "10.0.0.1 - - [01/Dec/2026:18:00:00 +0000] \"POST /c HTTP/1.1\" 200 1\n".repeat(20);
    child.stdin.take().expect("stdin").write_all(log.as_bytes()).expect("piped");
    let o = child.wait_with_output().expect("ends");
    assert_eq!(o.status.code(), Some(0), "{}", text(&o.stderr));
    let out = text(&o.stdout);
    assert!(out.contains("from standard input: 20 requests") && out.contains("name = \"imported\""), "{out}");
    // All 20 in one second of log: the window is rated by the second it covers.
    assert!(out.contains("{ at = \"0s\", rate = \"20/s\" }"), "{out}");
}

#[test]
fn validate_accepts_every_shipped_scenario() {
    let files: Vec<String> = std::fs::read_dir(Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios"))
        .expect("scenarios/")
        .map(|e| e.expect("entry").path().display().to_string())
        .filter(|p| p.ends_with(".toml"))
        .collect();
    assert!(files.len() >= 4);
    let mut args = vec!["validate"];
    args.extend(files.iter().map(String::as_str));
    let o = stampede(&args);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o.stderr));
    assert_eq!(text(&o.stderr).matches("ok: ").count(), files.len());
}

#[test]
fn schema_prints_a_json_schema_that_describes_every_section() {
    let o = stampede(&["schema"]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o.stderr));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).expect("stdout is JSON");
    assert_eq!(v["$schema"], "http://json-schema.org/draft-07/schema#");
    for section in ["scenario", "proxy", "pool", "class", "strategy", "swarm", "chaos", "slo", "compare"] {
        assert!(v["properties"][section].is_object(), "no {section}");
    }
    let kinds = &v["properties"]["strategy"]["additionalProperties"]["properties"]["kind"]["enum"];
    assert_eq!(kinds, &serde_json::json!(["none", "immediate", "fixed", "exponential", "stepped"]));
}
