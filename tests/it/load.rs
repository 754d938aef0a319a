//! `stampede load` and `stampede vcl` as a user meets them: load sent to a
//! real server on loopback (stampede's own `serve backend`) with the same
//! arrivals as the simulator, shards that add up to the whole, a target
//! nobody listens at reported before any load, bad URLs refused, and VCL
//! that says what the scenario says.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};

use stampede::engine::simulate;
use stampede::metrics::summary::Summary;

use super::support::{scenario, scratch, stampede, stderr};

/// One instance with two slots; 2 minutes of Poisson arrivals at 2/s, about
/// 1.2 s of real time at time scale 100.
const SCENARIO: &str = r#"
[scenario]
name = "load-test"
duration = "2m"
warmup = "0s"
seed = 3
[proxy]
max_connections = 2
[pool.gpu]
slots = 2
queue_limit = 2
initial_instances = 1
[class.render]
pool = "gpu"
service = { dist = "constant", value = "1s" }
[strategy.plain]
kind = "immediate"
max_attempts = 2
retry_on = ["503"]
[swarm.users]
class = "render"
arrivals = { process = "poisson", rate = "2/s" }
timeout = "30s"
strategy = "plain"
"#;

struct Backend {
    child: Child,
    instance: String,
    control: String,
}

impl Drop for Backend {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn serve_backend(path: &std::path::Path) -> Backend {
    let mut child = Command::new(env!("CARGO_BIN_EXE_stampede"))
        .args(["serve", "backend"])
        .arg(path)
        .args(["--listen", "127.0.0.1:0", "--time-scale", "100"])
        .stdout(Stdio::piped())
        .spawn()
        .expect("the binary starts");
    let mut out = BufReader::new(child.stdout.take().expect("stdout"));
    let (mut instance, mut control) = (String::new(), String::new());
    loop {
        let mut line = String::new();
        assert!(out.read_line(&mut line).expect("the banner") > 0, "serve backend exited");
        if let Some(url) = line.strip_prefix("control") {
            let url = url.split_whitespace().next().expect("an address");
            control = url.trim_start_matches("http://").trim_end_matches('/').to_string();
        }
        if let Some(list) = line.strip_prefix("pool gpu:") {
            instance = list.split_whitespace().next().expect("a port").to_string();
        }
        if line.starts_with("Ctrl-C") {
            break;
        }
    }
    std::thread::spawn(move || std::io::copy(&mut out, &mut std::io::sink()));
    Backend { child, instance, control }
}

fn load(path: &std::path::Path, out: &std::path::Path, extra: &[&str]) -> Summary {
    let p = path.to_str().expect("utf-8 path");
    let o = out.to_str().expect("utf-8 path");
    let mut args = vec!["load", p, "--time-scale", "100", "--quiet", "--json", "-", "--out", o];
    args.extend_from_slice(extra);
    let run = stampede(&args);
    assert!(run.status.success(), "load failed: {}", stderr(&run));
    serde_json::from_slice(&run.stdout).expect("the summary")
}

#[test]
fn load_sends_the_simulator_s_arrivals_to_a_real_server_and_shards_add_up_to_the_whole() {
    let dir = scratch("load");
    let path = dir.join("load.toml");
    std::fs::write(&path, SCENARIO).expect("write the scenario");
    let backend = serve_backend(&path);
    let target = format!("http://{}", backend.instance);

    let whole = load(&path, &dir.join("whole"), &["--target", &target]);
    let sim = simulate(&scenario(SCENARIO), 3).expect("the simulation").summary;
    assert!(sim.requests.offered > 150, "{}", sim.requests.offered);
    assert_eq!(whole.requests.offered, sim.requests.offered, "the same arrivals as the simulator");
    let wire = whole.engine.wire.as_ref().expect("the wire stats");
    assert_eq!(wire.targets["users"], target);
    let answered: u64 = wire.statuses.values().sum();
    let ended = whole.attempts.total - whole.attempts.unfinished;
    assert_eq!(answered, ended, "every attempt that ended got an answer: {wire:?}");
    assert_eq!(wire.service_ms.count, answered);
    assert!(wire.statuses["200"] > 0 && whole.attempts.ok == wire.statuses["200"]);
    assert!(dir.join("whole/summary.json").is_file());
    // The page says it was a load, shows the wire, and no GPU table of someone else's GPUs.
    let page = std::fs::read_to_string(dir.join("whole/index.html")).expect("the report page");
    assert!(page.contains("Load: load-test") && page.contains("a load at time scale 100 against users"), "{page}");
    assert!(page.contains("On the wire") && !page.contains("GPU time and cost"));
    // The GPUs are the target's: the scenario's own idle pool is not reported as if measured.
    assert_eq!(whole.gpu.instance_seconds, 0.0);
    let csv = std::fs::read_to_string(dir.join("whole/timeseries.csv")).expect("the time series");
    let header: Vec<&str> = csv.lines().next().expect("a header").split(',').collect();
    let ready = header.iter().position(|c| c.contains("ready")).expect("a ready column");
    let zero = |l: &str| l.split(',').nth(ready).and_then(|v| v.parse::<f64>().ok()) == Some(0.0);
    assert!(csv.lines().skip(1).all(zero), "{csv}");

    // The shards share one folder: each keeps the other's part.
    let halves: Vec<Summary> =
        ["1/2", "2/2"].iter().map(|s| load(&path, &dir.join("shards"), &["--target", &target, "--shard", s])).collect();
    assert_eq!(
        halves[0].requests.offered + halves[1].requests.offered,
        whole.requests.offered,
        "two shards send the whole run's arrivals between them"
    );
    assert!(halves.iter().all(|h| h.requests.offered > whole.requests.offered / 3));

    // The parts merge into one run: every counter the sum of the shards', the
    // histograms merged without loss.
    let parts: Vec<String> = ["shards/load-part-1-of-2.json", "shards/load-part-2-of-2.json"]
        .iter()
        .map(|p| dir.join(p).to_str().expect("utf-8").to_string())
        .collect();
    let merged_dir = dir.join("merged");
    let out = stampede(&[
        "merge",
        &parts[0],
        &parts[1],
        "--json",
        "-",
        "--quiet",
        "--out",
        merged_dir.to_str().expect("utf-8"),
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    let merged: Summary = serde_json::from_slice(&out.stdout).expect("the merged summary");
    let sum = |f: &dyn Fn(&Summary) -> u64| f(&halves[0]) + f(&halves[1]);
    assert_eq!(merged.requests.offered, whole.requests.offered);
    assert_eq!(merged.attempts.total, sum(&|h| h.attempts.total));
    assert_eq!(merged.attempts.status_503, sum(&|h| h.attempts.status_503));
    assert_eq!(merged.completion_ms.count, sum(&|h| h.completion_ms.count));
    let wire = merged.engine.wire.as_ref().expect("merged wire stats");
    assert_eq!(wire.service_ms.count, sum(&|h| h.engine.wire.as_ref().map_or(0, |w| w.service_ms.count)));
    let max = |h: &Summary| h.completion_ms.max.unwrap_or(0.0);
    assert_eq!(merged.completion_ms.max, Some(max(&halves[0]).max(max(&halves[1]))), "the merged maximum is a shard's");
    assert!(merged_dir.join("summary.json").is_file() && merged_dir.join("timeseries.csv").is_file());

    let alone = stampede(&["merge", &parts[1]]);
    assert_eq!(alone.status.code(), Some(2));
    assert!(stderr(&alone).contains("shard 1/2 is missing"), "{}", stderr(&alone));
    let twice = stampede(&["merge", &parts[1], &parts[1]]);
    assert!(stderr(&twice).contains("load-part-2-of-2.json: shard 2/2 is given twice"), "{}", stderr(&twice));
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_target_nobody_listens_at_is_reported_before_any_load() {
    let dir = scratch("load-refused");
    let path = dir.join("load.toml");
    std::fs::write(&path, SCENARIO).expect("write the scenario");
    // A port that was free a moment ago.
    let port = std::net::TcpListener::bind("127.0.0.1:0").and_then(|l| l.local_addr()).expect("a port").port();
    let target = format!("http://127.0.0.1:{port}");
    let out = stampede(&["load", path.to_str().expect("utf-8"), "--target", &target, "--quiet"]);
    assert_eq!(out.status.code(), Some(3), "{}", stderr(&out));
    assert!(stderr(&out).contains(&format!("cannot connect to {target}")), "{}", stderr(&out));
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn load_refuses_urls_it_cannot_or_must_not_send_to() {
    let dir = scratch("load-bad");
    let path = dir.join("load.toml");
    std::fs::write(&path, SCENARIO).expect("write the scenario");
    let p = path.to_str().expect("utf-8");
    for (args, says) in [
        (
            vec!["--target", "https://example.com"],
            "--target `https://example.com`: stampede speaks plain HTTP/1.1 only",
        ),
        (vec![], "swarm `users` has no target: give --target URL, or --swarm users=URL"),
        (
            vec!["--swarm", "admins=http://127.0.0.1:1"],
            "--swarm admins=http://127.0.0.1:1: no swarm `admins` in the scenario (it has users)",
        ),
        (vec!["--target", "http://127.0.0.1:1", "--shard", "3/2"], "--shard `3/2`: expected I/N"),
    ] {
        let mut all = vec!["load", p];
        all.extend(args);
        let out = stampede(&all);
        assert_eq!(out.status.code(), Some(2), "{all:?}: {}", stderr(&out));
        assert!(stderr(&out).contains(says), "{all:?}: {}", stderr(&out));
    }
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn vcl_writes_one_backend_per_instance_with_the_scenario_s_scaled_timeouts_and_retries() {
    let dir = scratch("vcl");
    let path = dir.join("vcl.toml");
    let text = SCENARIO.replace(
        "max_connections = 2",
        "max_connections = 2\nfirst_byte_timeout = \"30s\"\nretry_on = [\"busy\"]\nmax_retries = 2\ndirector = \"least_connections\"\nprobe = { interval = \"5s\" }",
    );
    std::fs::write(&path, text.replace("initial_instances = 1", "initial_instances = 1\nmax_instances = 3"))
        .expect("write");
    let out = stampede(&["vcl", path.to_str().expect("utf-8"), "--time-scale", "10"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let vcl = String::from_utf8_lossy(&out.stdout);
    // serve backend's default layout: control on 8080, instances after it.
    for (i, port) in [8081, 8082, 8083].iter().enumerate() {
        assert!(
            vcl.contains(&format!("backend gpu_{i} {{\n    .host = \"127.0.0.1\";\n    .port = \"{port}\";")),
            "{vcl}"
        );
    }
    assert!(!vcl.contains("8084"));
    assert!(vcl.contains(".first_byte_timeout = 3s;"), "30 s at time scale 10: {vcl}");
    assert!(vcl.contains(".max_connections = 2;") && vcl.contains(".interval = 500ms;"), "{vcl}");
    assert!(vcl.contains("if (bereq.retries < 2) {\n        return (retry);"), "{vcl}");
    assert!(vcl.contains("req.url ~ \"^/render(\\?.*)?$\""), "{vcl}");
    let warnings = stderr(&out);
    assert!(warnings.contains("VCL cannot tell fetch errors apart"), "{warnings}");
    assert!(warnings.contains("no such director"), "{warnings}");

    let bad = stampede(&["vcl", path.to_str().expect("utf-8"), "--backend", "cpu=10.0.0.1:80"]);
    assert_eq!(bad.status.code(), Some(2));
    assert!(
        stderr(&bad).contains("--backend cpu=10.0.0.1:80: no pool `cpu` in the scenario (it has gpu)"),
        "{}",
        stderr(&bad)
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn an_imported_access_log_replays_its_traffic_when_given_a_pool() {
    let dir = scratch("import");
    // 10 minutes: 30 requests a minute, then 90 a minute for the last 5; 3 in 4 to /img2img.
    let mut log = String::new();
    let mut n = 0u64;
    for minute in 0..10u32 {
        let per_minute = if minute < 5 { 30 } else { 90 };
        for k in 0..per_minute {
            let second = k * 60 / per_minute;
            let path = if n % 4 == 3 { "/txt2img?p=1" } else { "/img2img" };
            let status = if n.is_multiple_of(10) { 503 } else { 200 };
            log.push_str(&format!(
                "10.0.0.{} - - [01/Dec/2026:18:{minute:02}:{second:02} +0000] \"POST {path} HTTP/1.1\" {status} 512 \"-\" \"client/1\"\n",
                n % 250
            ));
            n += 1;
        }
    }
    let path = dir.join("access.log");
    std::fs::write(&path, &log).expect("write the log");
    let out = stampede(&["import", path.to_str().expect("utf-8"), "--window", "1m"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let fragment = String::from_utf8(out.stdout).expect("utf-8");
    assert!(fragment.contains("Observed statuses: 200: 540 (90.00%), 503: 60 (10.00%)."), "{fragment}");
    assert!(fragment.contains("mix = { img2img = 0.75, txt2img = 0.25 }"), "{fragment}");
    assert!(
        fragment.contains("{ at = \"0s\", rate = \"0.5/s\" }")
            && fragment.contains("{ at = \"300s\", rate = \"1.5/s\" }"),
        "{fragment}"
    );

    let filled = fragment.replace("# pool = \"...\"", "pool = \"gpu\"").replace(
        "# service = { dist = \"lognormal\", median = \"...\", p99 = \"...\" }",
        "service = { dist = \"constant\", value = \"1s\" }",
    );
    let toml = format!("{filled}\n[pool.gpu]\nslots = 4\ninitial_instances = 10\n");
    let sc = scenario(&toml);
    let offered = simulate(&sc, 1).expect("runs").summary.requests.offered as f64;
    // A Poisson count of mean 600: within 4 standard deviations.
    assert!((offered - n as f64).abs() <= 4.0 * (n as f64).sqrt(), "offered {offered}, logged {n}");
    let _ = std::fs::remove_dir_all(&dir);
}

/// A target that accepts and reads but never answers: every attempt ends at
/// the client's timeout, and the client hangs up (closes its connection)
/// a little after it, while the load still runs.
#[test]
fn an_attempt_the_target_never_answers_times_out_and_its_connection_is_closed() {
    use std::io::Read;
    use std::net::TcpListener;
    use std::sync::{Arc, Mutex};
    use std::time::{Duration, Instant};

    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let target = format!("http://{}", listener.local_addr().expect("addr"));
    // How long each connection stayed open before the client closed it.
    let open_for: Arc<Mutex<Vec<Duration>>> = Arc::default();
    let seen = open_for.clone();
    std::thread::spawn(move || {
        // Three users sending back to back for 3 s with a 500 ms timeout open
        // a few dozen connections; the bound keeps a stray client finite.
        for conn in listener.incoming().take(200) {
            let Ok(mut conn) = conn else { return };
            let seen = seen.clone();
            std::thread::spawn(move || {
                let opened = Instant::now();
                let mut buf = [0u8; 4096];
                while matches!(conn.read(&mut buf), Ok(n) if n > 0) {}
                seen.lock().expect("lock").push(opened.elapsed());
            });
        }
    });
    let dir = scratch("silent");
    let path = dir.join("silent.toml");
    std::fs::write(
        &path,
        r#"
[scenario]
name = "silent-target"
duration = "3s"
warmup = "0s"
[pool.gpu]
slots = 1
initial_instances = 1
[class.render]
pool = "gpu"
service = { dist = "constant", value = "1ms" }
[swarm.users]
class = "render"
arrivals = { process = "closed", users = 3, think = { dist = "constant", value = "0s" } }
timeout = "500ms"
"#,
    )
    .expect("write the scenario");
    let p = path.to_str().expect("utf-8 path");
    let o = dir.join("out");
    let run =
        stampede(&["load", p, "--target", &target, "--quiet", "--json", "-", "--out", o.to_str().expect("utf-8")]);
    assert!(run.status.success(), "load failed: {}", stderr(&run));
    let s: Summary = serde_json::from_slice(&run.stdout).expect("the summary");

    // 3 users × 3 s / 0.5 s: about 18 attempts, each one a timeout.
    let a = &s.attempts;
    let ended = a.total - a.unfinished;
    assert!((12..=21).contains(&ended), "{a:?}");
    assert_eq!(a.client_timeout, ended, "{a:?}");
    assert!(a.unfinished <= 3, "one attempt in flight per user at most: {a:?}");
    let wire = s.engine.wire.as_ref().expect("load reports the wire");
    let timed_out = wire.statuses.get("timed_out").copied().unwrap_or(0);
    // Those still waiting at the end are neither answered nor hung up on.
    assert!(timed_out + 3 >= ended && timed_out <= ended, "timed out {timed_out} of {ended}");
    // Each hang-up closed its connection 500 ms + the 100 ms grace after it
    // opened (loopback and scheduling add milliseconds, not hundreds).
    let closed = open_for.lock().expect("lock").clone();
    let on_time = closed.iter().filter(|d| (550..=1000).contains(&d.as_millis())).count() as u64;
    assert!(
        on_time >= timed_out,
        "{on_time} connections closed at the hang-up time for {timed_out} timeouts: {closed:?}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn load_judges_no_slo_on_what_only_the_target_measures() {
    let dir = scratch("load-slo");
    let path = dir.join("load.toml");
    let text =
        format!("{SCENARIO}\n[slo]\ninstance_seconds = \"< 1\"\nqueue_wait_p99 = \"< 1s\"\nrate_503 = \"< 100%\"\n");
    std::fs::write(&path, text).expect("write the scenario");
    let backend = serve_backend(&path);
    let target = format!("http://{}", backend.instance);
    let out = dir.join("out");
    let run = stampede(&[
        "load",
        path.to_str().expect("utf-8"),
        "--target",
        &target,
        "--time-scale",
        "100",
        "--json",
        "-",
        "--out",
        out.to_str().expect("utf-8"),
    ]);
    assert!(run.status.success(), "{}", stderr(&run));
    let s: Summary = serde_json::from_slice(&run.stdout).expect("the summary");
    let judged: Vec<&str> = s.slo.iter().map(|r| r.metric.as_str()).collect();
    assert_eq!(judged, ["rate_503"], "only what the clients saw is judged");
    for metric in ["instance_seconds", "queue_wait_p99"] {
        assert!(stderr(&run).contains(&format!("note: slo {metric} < ")), "{}", stderr(&run));
    }
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_load_whose_target_goes_away_keeps_what_it_measured_and_exits_3() {
    use crate::serve::{DEADLINE, get, metric};
    let dir = scratch("load-lost");
    let path = dir.join("load.toml");
    // An hour at time scale 100: 36 s real, far longer than the test waits.
    std::fs::write(&path, SCENARIO.replace("duration = \"2m\"", "duration = \"1h\"")).expect("write the scenario");
    let backend = serve_backend(&path);
    let target = format!("http://{}", backend.instance);
    let out = dir.join("out");
    let load = Command::new(env!("CARGO_BIN_EXE_stampede"))
        .args(["load", path.to_str().expect("utf-8"), "--target", &target, "--time-scale", "100"])
        .args(["--quiet", "--json", "-", "--out", out.to_str().expect("utf-8")])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the binary starts");
    // Once the target has answered, it goes away.
    let started = std::time::Instant::now();
    let ok = r#"stampede_backend_responses_total{pool="gpu",outcome="ok"}"#;
    while metric(&String::from_utf8_lossy(&get(&backend.control, "/metrics").1), ok) == 0 {
        assert!(started.elapsed() < DEADLINE, "the target never answered");
        std::thread::sleep(std::time::Duration::from_millis(5));
    }
    drop(backend);
    let o = load.wait_with_output().expect("load ends");
    assert_eq!(o.status.code(), Some(3), "{}", stderr(&o));
    assert!(stderr(&o).contains("the target stopped accepting connections"), "{}", stderr(&o));
    assert!(stderr(&o).contains("cover the"), "{}", stderr(&o));
    let s: Summary = serde_json::from_slice(&o.stdout).expect("the summary of what ran");
    assert!(s.engine.interrupted && s.duration_s < 3600.0, "{}", s.duration_s);
    assert!(s.attempts.ok > 0 && s.attempts.connect_error > 0, "{:?}", s.attempts);
    assert!(out.join("summary.json").is_file() && out.join("index.html").is_file());
    let _ = std::fs::remove_dir_all(&dir);
}

/// A target at 127.0.0.1 that answers every connection with `answer(n)` (n
/// counts connections from 0) after reading the request head, then closes.
/// At most `limit` connections are served.
fn raw_target(limit: usize, answer: fn(usize) -> Vec<u8>) -> String {
    use std::io::{Read, Write};
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let target = format!("http://{}", listener.local_addr().expect("addr"));
    std::thread::spawn(move || {
        for (n, conn) in listener.incoming().take(limit).enumerate() {
            let Ok(mut conn) = conn else { return };
            let mut head = Vec::new();
            let mut buf = [0u8; 1024];
            while !head.windows(4).any(|w| w == b"\r\n\r\n") {
                match conn.read(&mut buf) {
                    Ok(k) if k > 0 => head.extend_from_slice(&buf[..k]),
                    _ => break,
                }
            }
            let _ = conn.write_all(&answer(n));
        }
    });
    target
}

/// Two seconds of Poisson arrivals at `rate`, no retries, no timeout.
fn raw_load(dir: &std::path::Path, target: &str, rate: &str) -> Child {
    let path = dir.join("raw.toml");
    let text = SCENARIO
        .replace("duration = \"2m\"", "duration = \"2s\"")
        .replace("rate = \"2/s\"", &format!("rate = \"{rate}\""))
        .replace("strategy = \"plain\"", "strategy = \"none\"");
    std::fs::write(&path, text).expect("write the scenario");
    Command::new(env!("CARGO_BIN_EXE_stampede"))
        .args(["load", path.to_str().expect("utf-8"), "--target", target, "--threads", "1"])
        .args(["--quiet", "--json", "-", "--out", dir.join("out").to_str().expect("utf-8")])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the binary starts")
}

/// A target that accepts the connection but answers something other than
/// HTTP is told apart from one that refuses it.
#[test]
fn a_target_that_answers_no_http_is_not_called_a_refused_connection() {
    let dir = scratch("no-http");
    let target = raw_target(500, |_| b"this is not HTTP\r\n\r\n".to_vec());
    let o = raw_load(&dir, &target, "20/s").wait_with_output().expect("load ends");
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let s: Summary = serde_json::from_slice(&o.stdout).expect("the summary");
    let wire = s.engine.wire.as_ref().expect("load reports the wire");
    let ended = s.attempts.total - s.attempts.unfinished;
    assert!(ended >= 10, "{:?}", s.attempts);
    assert_eq!(wire.statuses.get("no_answer").copied(), Some(ended), "{:?}", wire.statuses);
    assert!(!wire.statuses.contains_key("connect_failed"), "{:?}", wire.statuses);
    let _ = std::fs::remove_dir_all(&dir);
}

/// A 503 whose page never ends costs the load generator no memory: it keeps
/// the page's start (enough to recognise Varnish's) and counts out the rest.
#[test]
fn a_huge_503_page_is_read_without_being_kept() {
    const BIG: usize = 256 << 20;
    let dir = scratch("huge-503");
    let target = raw_target(50, |n| {
        let page = b"<html><h1>Error 503 Backend fetch failed</h1><p>Guru Meditation:</p>XID: 1</html>";
        let mut a = format!(
            "HTTP/1.1 503 Service Unavailable\r\nconnection: close\r\ncontent-length: {}\r\n\r\n",
            if n == 0 { BIG } else { page.len() }
        )
        .into_bytes();
        a.extend_from_slice(page);
        // The first answer pads its page to BIG bytes.
        if n == 0 {
            a.resize(a.len() + BIG - page.len(), b' ');
        }
        a
    });
    let child = raw_load(&dir, &target, "3/s");
    // The process's peak resident memory (Linux), read while it runs.
    let status = format!("/proc/{}/status", child.id());
    let peak = std::thread::spawn(move || {
        let mut peak = 0u64;
        while let Ok(text) = std::fs::read_to_string(&status) {
            let kb = text
                .lines()
                .find_map(|l| l.strip_prefix("VmHWM:"))
                .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok());
            peak = peak.max(kb.unwrap_or(0));
            std::thread::sleep(std::time::Duration::from_millis(10));
        }
        peak
    });
    let o = child.wait_with_output().expect("load ends");
    let peak_mb = peak.join().expect("the reader") / 1024;
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let s: Summary = serde_json::from_slice(&o.stdout).expect("the summary");
    let wire = s.engine.wire.as_ref().expect("load reports the wire");
    let answered = wire.statuses.get("503").copied().unwrap_or(0);
    assert!(answered >= 2, "{:?}", wire.statuses);
    assert_eq!(wire.varnish_synthetic, answered, "every page, the huge one too, is recognised");
    assert!(peak_mb < (BIG >> 21) as u64, "peak {peak_mb} MB for a {} MB page", BIG >> 20);
    let _ = std::fs::remove_dir_all(&dir);
}
