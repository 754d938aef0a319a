//! `stampede serve backend` as a user meets it: real sockets on loopback, a
//! job, a full queue answered with 503 and Retry-After, a malformed request
//! answered with 400 while the server keeps serving, /metrics that counts
//! every answer, and Ctrl-C that prints what was served.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

/// One instance with one slot and one queue place; each job takes five
/// simulated minutes, 3 s real at time scale 100: time enough to fill the queue.
pub(crate) const SCENARIO: &str = r#"
[scenario]
name = "serve-test"
duration = "1h"
[pool.gpu]
slots = 1
queue_limit = 1
initial_instances = 1
retry_after = "30s"
[class.render]
pool = "gpu"
service = { dist = "constant", value = "5m" }
chunks = 4
[swarm.none]
class = "render"
arrivals = { process = "poisson", rate = "1/h" }
"#;

/// Everything a test waits for has this long: generous, never slept through.
pub(crate) const DEADLINE: Duration = Duration::from_secs(20);

pub(crate) struct Server {
    child: Child,
    lines: Vec<String>,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Server {
    pub(crate) fn start(dir: &std::path::Path, extra: &[&str]) -> Server {
        Server::start_with(dir, SCENARIO, extra)
    }

    pub(crate) fn start_with(dir: &std::path::Path, scenario: &str, extra: &[&str]) -> Server {
        let path = dir.join("serve.toml");
        std::fs::write(&path, scenario).expect("write the scenario");
        let path = path.to_str().expect("utf-8 path");
        let mut args = vec!["serve", "backend", path, "--listen", "127.0.0.1:0"];
        if !extra.contains(&"--time-scale") {
            args.extend(["--time-scale", "100"]);
        }
        args.extend_from_slice(extra);
        Server::spawn(&args)
    }

    /// `serve proxy` with the scenario `start_with` wrote in `dir`, in front
    /// of `backends`; returns it and its address.
    pub(crate) fn proxy(dir: &std::path::Path, backends: &[&str], scale: &str) -> (Server, String) {
        let path = dir.join("serve.toml");
        let mut args = vec!["serve", "proxy", path.to_str().expect("utf-8 path")];
        for b in backends {
            args.extend(["--backend", b]);
        }
        args.extend(["--listen", "127.0.0.1:0", "--time-scale", scale]);
        let proxy = Server::spawn(&args);
        let addr = proxy.field("proxy", 1).trim_start_matches("http://").trim_end_matches('/').to_string();
        (proxy, addr)
    }

    /// Starts the binary with `args` and reads its banner, which ends with
    /// the Ctrl-C line once every port listens.
    pub(crate) fn spawn(args: &[&str]) -> Server {
        let mut child = Command::new(env!("CARGO_BIN_EXE_stampede"))
            .args(args)
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("the binary starts");
        let mut out = BufReader::new(child.stdout.take().expect("stdout"));
        let mut lines = Vec::new();
        while !lines.last().is_some_and(|l: &String| l.starts_with("Ctrl-C")) {
            let mut line = String::new();
            assert!(out.read_line(&mut line).expect("read the banner") > 0, "the server exited: {lines:?}");
            lines.push(line.trim_end().to_string());
        }
        child.stdout = Some(out.into_inner());
        Server { child, lines }
    }

    pub(crate) fn field(&self, prefix: &str, n: usize) -> String {
        let line = self.lines.iter().find(|l| l.starts_with(prefix)).expect("banner line");
        line.split_whitespace().nth(n).expect("field").to_string()
    }

    pub(crate) fn instance(&self) -> String {
        self.field("pool gpu:", 2)
    }

    pub(crate) fn control(&self) -> String {
        self.field("control", 1).trim_start_matches("http://").trim_end_matches('/').to_string()
    }
}

/// Sends raw bytes, returns the connection to read the answer from later.
pub(crate) fn send(addr: &str, raw: &str) -> TcpStream {
    let mut s = TcpStream::connect(addr).expect("connect");
    s.set_read_timeout(Some(DEADLINE)).expect("timeout");
    s.write_all(raw.as_bytes()).expect("send");
    s
}

pub(crate) fn answer(mut s: TcpStream) -> (String, Vec<u8>) {
    let mut all = Vec::new();
    s.read_to_end(&mut all).expect("the server answers before the deadline");
    let split = all.windows(4).position(|w| w == b"\r\n\r\n").expect("a response head") + 4;
    (String::from_utf8_lossy(&all[..split]).to_string(), all[split..].to_vec())
}

pub(crate) fn get(addr: &str, path: &str) -> (String, Vec<u8>) {
    answer(send(addr, &format!("GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")))
}

/// Polls /metrics until `series` reads `value` (the server's own state, not
/// a guess at how long it takes).
pub(crate) fn wait_for(control: &str, series: &str, value: u64) {
    let start = std::time::Instant::now();
    loop {
        let (_, m) = get(control, "/metrics");
        if metric(&String::from_utf8_lossy(&m), series) == value {
            return;
        }
        assert!(start.elapsed() < DEADLINE, "{series} never reached {value}");
        std::thread::sleep(Duration::from_millis(5));
    }
}

pub(crate) fn metric(text: &str, series: &str) -> u64 {
    let line = text.lines().find(|l| l.starts_with(series)).unwrap_or_else(|| panic!("{series} in\n{text}"));
    line.rsplit(' ').next().and_then(|v| v.parse().ok()).expect("a number")
}

#[test]
fn serve_backend_runs_jobs_refuses_a_full_queue_survives_garbage_and_counts_every_answer() {
    let dir = tempdir("jobs");
    let server = Server::start(&dir, &[]);
    let inst = server.instance();
    let job = "POST /render HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\nConnection: close\r\n\r\n";

    // One job runs, one waits, the third finds the queue full.
    let control = server.control();
    let first = send(&inst, job);
    wait_for(&control, r#"stampede_backend_busy_slots{pool="gpu"}"#, 1);
    let second = send(&inst, job);
    wait_for(&control, r#"stampede_backend_queue_depth{pool="gpu"}"#, 1);
    let (head, _) = answer(send(&inst, job));
    assert!(head.starts_with("HTTP/1.1 503"), "{head}");
    assert!(
        head.to_lowercase().contains("retry-after: 1\r\n"),
        "30 s simulated at scale 100 is 0.3 s, rounded up: {head}"
    );
    assert!(head.contains("x-stampede-cause: backend_queue_full"), "{head}");
    for s in [first, second] {
        let (head, body) = answer(s);
        assert!(head.starts_with("HTTP/1.1 200"), "{head}");
        assert_eq!(body.len(), 4 * 512 + chunked_overhead(&body), "four chunks of 512 bytes");
    }

    // Garbage gets a 400, and the server keeps serving.
    let (head, _) = answer(send(&inst, "GARBAGE\r\n\r\n"));
    assert!(head.starts_with("HTTP/1.1 400"), "{head}");
    // So does work a client could hold a slot with for good, or cannot spell.
    for (work, why) in
        [("18446744073709551615", "is above the limit of 3600000000 µs"), ("1e9", "not a whole number of microseconds")]
    {
        let ask = format!(
            "POST /render HTTP/1.1\r\nHost: x\r\nx-stampede-work-us: {work}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
        );
        let (head, body) = answer(send(&inst, &ask));
        assert!(head.starts_with("HTTP/1.1 400"), "{head}");
        assert!(String::from_utf8_lossy(&body).contains(why), "{work}: {}", String::from_utf8_lossy(&body));
    }
    let (head, body) = get(&inst, "/health");
    assert!(head.starts_with("HTTP/1.1 200") && body == b"ok\n", "{head}");

    let (_, m) = get(&control, "/metrics");
    let m = String::from_utf8(m).expect("text");
    assert_eq!(metric(&m, r#"stampede_backend_responses_total{pool="gpu",outcome="ok"}"#), 2);
    assert_eq!(metric(&m, r#"stampede_backend_responses_total{pool="gpu",outcome="backend_queue_full"}"#), 1);
    assert_eq!(metric(&m, r#"stampede_backend_instances{pool="gpu",state="ready"}"#), 1);

    // Ctrl-C: the server stops and says what it served.
    let rest = server.interrupt();
    assert!(rest.contains(r#"outcome="ok"} 2"#), "{rest}");
    let _ = std::fs::remove_dir_all(&dir);
}

impl Server {
    /// Ctrl-C; returns what the server printed after it, once it has exited 0.
    pub(crate) fn interrupt(self) -> String {
        self.signal("INT")
    }

    /// SIGTERM (`docker stop`, Kubernetes): the same orderly stop as Ctrl-C.
    pub(crate) fn terminate(self) -> String {
        self.signal("TERM")
    }

    fn signal(mut self, name: &str) -> String {
        let pid = self.child.id().to_string();
        // The shell's own kill: no procps needed on a minimal machine.
        let sent = Command::new("sh").args(["-c", &format!("kill -{name} {pid}")]).status().expect("sh runs");
        assert!(sent.success(), "SIG{name} could not be sent");
        let mut rest = String::new();
        self.child.stdout.take().expect("stdout").read_to_string(&mut rest).expect("read");
        let status = self.child.wait().expect("exits");
        assert!(status.success(), "{status}: {rest}");
        rest
    }
}

/// Reads until the peer closes; true when it closed without sending a byte.
fn closed_silently(mut s: TcpStream) -> bool {
    let mut buf = Vec::new();
    matches!(s.read_to_end(&mut buf), Ok(0)) || buf.is_empty()
}

#[test]
fn a_flood_of_slow_connections_is_capped_then_timed_out_and_the_server_serves_again() {
    let dir = tempdir("flood");
    let server = Server::start(&dir, &["--max-connections", "8", "--header-timeout", "500ms"]);
    let inst = server.instance();
    // Slowloris: eight connections that never finish their request head.
    let slow: Vec<TcpStream> = (0..8).map(|_| send(&inst, "GET /health HTTP/1.1\r\nHo")).collect();
    wait_for(&server.control(), "stampede_backend_instances{pool=\"gpu\",state=\"ready\"}", 1);
    // Past the cap, a connection is closed at once, without an answer.
    let flood: Vec<TcpStream> = (0..40).map(|_| send(&inst, "GET /health HTTP/1.1\r\nHost: x\r\n\r\n")).collect();
    for s in flood {
        assert!(closed_silently(s), "a connection past the cap got an answer");
    }
    // The slow ones lose their connections to the header timeout...
    for s in slow {
        let mut buf = Vec::new();
        let _ = (&s).read_to_end(&mut buf);
        assert!(!String::from_utf8_lossy(&buf).contains("200 OK"), "a slow head was served");
    }
    // ...and the server serves again.
    let (head, body) = get(&inst, "/health");
    assert!(head.starts_with("HTTP/1.1 200") && body == b"ok\n", "{head}");
    server.interrupt();
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn stopping_with_jobs_in_flight_accounts_for_every_request() {
    let dir = tempdir("stop");
    let server = Server::start(&dir, &[]);
    let inst = server.instance();
    let job = "POST /render HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n";
    let _running = send(&inst, job);
    let _queued = send(&inst, job);
    wait_for(&server.control(), "stampede_backend_requests_total{pool=\"gpu\"}", 2);
    let rest = server.interrupt();
    let n = |series: &str| metric(&rest.replace("  ", ""), series);
    let answered: u64 = ["ok", "backend_queue_full", "maintenance", "status_429"]
        .iter()
        .map(|o| n(&format!("stampede_backend_responses_total{{pool=\"gpu\",outcome=\"{o}\"}}")))
        .sum();
    let ended = answered
        + n("stampede_backend_hung_up_total{pool=\"gpu\"}")
        + n("stampede_backend_unanswered_total{pool=\"gpu\"}")
        + n("stampede_backend_in_flight{pool=\"gpu\"}");
    assert_eq!(n("stampede_backend_requests_total{pool=\"gpu\"}"), 2);
    assert_eq!(ended, 2, "every request ends in exactly one way:\n{rest}");
    assert_eq!(n("stampede_backend_in_flight{pool=\"gpu\"}"), 2, "both were still running or queued");
    let _ = std::fs::remove_dir_all(&dir);
}

/// The bytes of chunked transfer encoding around the data.
fn chunked_overhead(body: &[u8]) -> usize {
    let text = String::from_utf8_lossy(body);
    let data: usize = text.split("\r\n").filter(|p| p.chars().all(|c| c == '.')).map(str::len).sum();
    body.len() - data
}

pub(crate) fn tempdir(test: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("stampede-serve-{test}-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    dir
}

/// `serve proxy` with the scenario's proxy section (Varnish's defaults: a
/// 60 s first-byte timeout, 0.6 s real at scale 100) in front of a served
/// backend whose jobs take 5 simulated minutes, and of a port nothing
/// listens on.
#[test]
fn serve_proxy_answers_varnish_s_synthetic_503_with_its_cause() {
    let dir = tempdir("proxy");
    let backend = Server::start(&dir, &[]);
    let dead = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        l.local_addr().expect("addr").to_string()
    };
    let (proxy, addr) = Server::proxy(&dir, &[&backend.instance(), &format!("gpu={dead}")], "100");

    let job = "POST /render HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n";
    let mut causes = Vec::new();
    for _ in 0..2 {
        let (head, body) = answer(send(&addr, job));
        assert!(head.starts_with("HTTP/1.1 503 Backend fetch failed\r\n"), "{head}");
        assert!(head.to_lowercase().contains("retry-after: 1\r\n"), "Varnish's 5 s, simulated: {head}");
        let body = String::from_utf8_lossy(&body);
        assert!(body.contains("Guru Meditation") && body.contains("XID: "), "{body}");
        let cause = head.lines().find_map(|l| l.strip_prefix("x-stampede-cause: ")).expect("a cause header");
        causes.push(cause.to_string());
    }
    causes.sort();
    assert_eq!(causes, ["connect_failed", "first_byte_timeout"], "round robin tried both backends");

    let (_, m) = get(&addr, "/metrics");
    let m = String::from_utf8_lossy(&m).to_string();
    assert_eq!(metric(&m, r#"stampede_proxy_responses_total{outcome="first_byte_timeout"}"#), 1);
    assert_eq!(metric(&m, r#"stampede_proxy_responses_total{outcome="connect_failed"}"#), 1);
    let rest = proxy.interrupt();
    assert!(rest.contains(r#"outcome="connect_failed"} 1"#), "{rest}");
    backend.interrupt();
    let _ = std::fs::remove_dir_all(&dir);
}

/// The serve-test scenario with 10-second jobs (0.1 s real) and `render` cached.
fn cached_scenario() -> String {
    let cache = "chunks = 4\n[class.render.cache]\nobjects = 100\nsize = \"1MB\"";
    SCENARIO.replace("value = \"5m\" }", "value = \"10s\" }").replace("chunks = 4", cache)
}

/// `serve proxy` runs the same cache model as the simulator: a second request
/// for an object is answered from the cache, with no backend job; a request
/// that names no object is passed.
#[test]
fn serve_proxy_answers_a_repeated_object_from_its_cache() {
    let dir = tempdir("cache");
    let backend = Server::start_with(&dir, &cached_scenario(), &[]);
    let (proxy, addr) = Server::proxy(&dir, &[&backend.instance()], "100");

    let job = |path: &str| format!("POST {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
    for path in ["/render?object=7", "/render?object=7", "/render"] {
        let (head, body) = answer(send(&addr, &job(path)));
        assert!(head.starts_with("HTTP/1.1 200"), "{path}: {head}");
        assert_eq!(body.len(), 4 * 512 + chunked_overhead(&body), "{path}: four chunks of 512 bytes");
    }
    let (_, m) = get(&backend.control(), "/metrics");
    let m = String::from_utf8_lossy(&m).to_string();
    assert_eq!(metric(&m, r#"stampede_backend_requests_total{pool="gpu"}"#), 2, "the hit never reached the backend");
    proxy.interrupt();
    backend.interrupt();
    let _ = std::fs::remove_dir_all(&dir);
}

/// Two pools with faults on from the start: `gpu` answers every job 502,
/// `cpu` fails every connection and every probe.
const FAULTY: &str = r#"
[scenario]
name = "serve-faults"
duration = "1h"
[pool.gpu]
initial_instances = 1
[pool.cpu]
initial_instances = 1
[class.render]
pool = "gpu"
service = { dist = "constant", value = "1s" }
[class.resize]
pool = "cpu"
service = { dist = "constant", value = "1s" }
[swarm.none]
class = "render"
arrivals = { process = "poisson", rate = "1/h" }
[[chaos]]
kind = "errors"
pool = "gpu"
status = 502
share = 1.0
at = "0s"
duration = "1h"
[[chaos]]
kind = "connect_failures"
pool = "cpu"
share = 1.0
at = "0s"
duration = "1h"
[[chaos]]
kind = "flap"
pool = "cpu"
share = 1.0
at = "0s"
duration = "1h"
"#;

#[test]
fn serve_backend_injects_the_scenarios_faults_through_the_model() {
    let dir = tempdir("faults");
    let server = Server::start_with(&dir, FAULTY, &[]);
    let (gpu, cpu) = (server.field("pool gpu:", 2), server.field("pool cpu:", 2));
    let job =
        |path: &str| format!("POST /{path} HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
    // The window opens at t = 0, a boundary the server's clock reaches as it starts.
    let start = std::time::Instant::now();
    while !answer(send(&gpu, &job("render"))).0.starts_with("HTTP/1.1 502") {
        assert!(start.elapsed() < DEADLINE, "the errors window never opened");
    }
    for _ in 0..5 {
        let (head, _) = answer(send(&gpu, &job("render")));
        assert!(head.starts_with("HTTP/1.1 502"), "share 1: every job, {head}");
    }
    assert!(closed_silently(send(&cpu, &job("resize"))), "a failed connection says nothing");
    let (head, _) = get(&cpu, "/health");
    assert!(head.starts_with("HTTP/1.1 503"), "every probe fails: {head}");
    let (_, m) = get(&server.control(), "/metrics");
    let m = String::from_utf8(m).expect("text");
    assert!(metric(&m, r#"stampede_backend_responses_total{pool="gpu",outcome="status_502"}"#) >= 6, "{m}");
    assert_eq!(metric(&m, r#"stampede_backend_responses_total{pool="cpu",outcome="connect_failed"}"#), 1);
    server.interrupt();
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn sigterm_stops_a_server_as_ctrl_c_does() {
    let dir = tempdir("term");
    let server = Server::start(&dir, &[]);
    let inst = server.instance();
    let (head, _) = get(&inst, "/health");
    assert!(head.starts_with("HTTP/1.1 200"), "{head}");
    let rest = server.terminate();
    assert!(rest.contains("stampede_backend_instances"), "the totals are printed: {rest}");
    let _ = std::fs::remove_dir_all(&dir);
}
