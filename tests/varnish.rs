//! A real Varnish in front of `stampede serve backend`, driven by `stampede
//! load`, against the simulator's prediction for the same scenario.
//!
//! `stampede vcl` writes the scenario's proxy as VCL for the served ports,
//! varnishd (Debian's 7.1) runs it, `stampede load` sends the scenario's
//! swarms through it, and Varnish's own counters (varnishstat) give the 503s
//! by cause: busy from `MAIN.backend_busy`, first-byte timeouts from what the
//! counted causes leave of `MAIN.fetch_failed` (src/varnish/stat.rs). Those
//! must match what the simulator predicts, cause by cause, and what the load
//! generator saw.
//!
//! Tolerances: the live and simulated runs draw the same arrivals and work
//! (same seed), and differ by real scheduling: which of two nearly
//! simultaneous fetches gets the last connection. Each cause's count is taken
//! as a Poisson count, so two runs' counts differ by more than
//! 3·√(a + b) with a chance under 0.3%; likewise the 503 rates, as two
//! binomial shares, within 3·√(p(1 − p)(1/n₁ + 1/n₂)) (about 4 points for
//! the ~2,800 attempts here: runs on this machine gave 48.9% to 54.1%
//! against the simulator's 52.1%).
//!
//! varnishd must be installed (`.ci/run` installs it): under CI (`CI` set)
//! a missing varnishd fails the test; elsewhere the test says it skipped.
//! A binary of its own, so the real-time run does not share the cores with
//! the CPU-bound tests.

// Measurements are printed for whoever reads the test log.
#![allow(clippy::print_stderr)]

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use stampede::engine::simulate;
use stampede::metrics::summary::Summary;
use stampede::scenario::{Override, Scenario};
use stampede::varnish::stat::{CacheLookups, FetchFailures, counters};

/// The tests here take turns: gcc compiling VCL must not share the cores
/// with the real-time run.
static SERIAL: std::sync::Mutex<()> = std::sync::Mutex::new(());

/// 20 simulated minutes in 30 s of real time.
const TIME_SCALE: &str = "40";
/// Everything the test waits for has this long; never slept through.
const DEADLINE: Duration = Duration::from_secs(90);

fn varnishd() -> Option<PathBuf> {
    let candidates = std::env::var_os("PATH")
        .map(|p| std::env::split_paths(&p).collect::<Vec<_>>())
        .unwrap_or_default()
        .into_iter()
        .chain([PathBuf::from("/usr/sbin"), PathBuf::from("/usr/local/sbin")]);
    candidates.map(|d| d.join("varnishd")).find(|p| p.is_file())
}

/// varnishd and an empty work directory for one test; None, once the test
/// has said it skipped `what`, where varnishd is missing outside CI.
fn prepare(tag: &str, what: &str) -> Option<(PathBuf, PathBuf)> {
    let Some(varnishd) = varnishd() else {
        assert!(std::env::var_os("CI").is_none(), "varnishd not found: .ci/run installs Debian's varnish package");
        eprintln!("SKIPPED: varnishd not found (apt-get install -y varnish); {what} did not run");
        return None;
    };
    let work = std::env::temp_dir().join(format!("stampede-{tag}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&work);
    std::fs::create_dir_all(&work).expect("a work directory");
    Some((varnishd, work))
}

/// A child process killed when the test ends, however it ends.
struct Running(Child);

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn stampede() -> Command {
    Command::new(env!("CARGO_BIN_EXE_stampede"))
}

fn scenario_path() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios/live-vs-sim.toml")
}

/// `serve backend` on OS-chosen ports: its instance addresses.
fn serve_backend(scenario: &Path) -> (Running, Vec<String>) {
    let mut child = stampede()
        .args(["serve", "backend"])
        .arg(scenario)
        .args(["--listen", "127.0.0.1:0", "--time-scale", TIME_SCALE, "--set", "scenario.warmup=0s"])
        .stdout(Stdio::piped())
        .spawn()
        .expect("stampede starts");
    let mut out = BufReader::new(child.stdout.take().expect("stdout"));
    let mut ports = Vec::new();
    loop {
        let mut line = String::new();
        assert!(out.read_line(&mut line).expect("read the banner") > 0, "serve backend exited");
        if let Some(list) = line.strip_prefix("pool gpu:") {
            ports = list.split_whitespace().map(str::to_string).collect();
        }
        if line.starts_with("Ctrl-C") {
            break;
        }
    }
    // Keep reading so the child never blocks on a full pipe.
    std::thread::spawn(move || std::io::copy(&mut out, &mut std::io::sink()));
    (Running(child), ports)
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0").and_then(|l| l.local_addr()).map(|a| a.port()).expect("a free port")
}

/// Waits until something accepts connections on `addr`.
fn wait_listening(addr: SocketAddr, child: &mut Child) {
    let start = Instant::now();
    while TcpStream::connect_timeout(&addr, Duration::from_millis(200)).is_err() {
        assert!(child.try_wait().expect("wait").is_none(), "varnishd exited before listening");
        assert!(start.elapsed() < DEADLINE, "varnishd did not listen on {addr} within {DEADLINE:?}");
        std::thread::sleep(Duration::from_millis(100)); // polling for readiness, not for a result
    }
}

/// Writes the scenario's VCL for the served `ports` and starts varnishd on
/// it, listening on a free port.
fn start_varnish(varnishd: &Path, scenario: &Path, ports: &[String], work: &Path) -> (Running, SocketAddr) {
    let vcl = work.join("stampede.vcl");
    let mut write_vcl = stampede();
    write_vcl.arg("vcl").arg(scenario).args(["--time-scale", TIME_SCALE, "-o"]).arg(&vcl);
    for p in ports {
        write_vcl.args(["--backend", p]);
    }
    run_json(&mut write_vcl);
    let port = free_port();
    let addr: SocketAddr = format!("127.0.0.1:{port}").parse().expect("an address");
    let mut child = Command::new(varnishd)
        .args(["-F", "-a", &addr.to_string(), "-T", "none", "-s", "malloc,32m", "-n"])
        .arg(work.join("n"))
        .arg("-f")
        .arg(&vcl)
        .stdout(Stdio::null())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("varnishd starts");
    wait_listening(addr, &mut child);
    (Running(child), addr)
}

/// `stampede load` of the scenario through `addr`, warmup 0 so that
/// Varnish's counters and the simulator cover the same requests.
fn load_through(scenario: &Path, addr: SocketAddr, work: &Path) -> Summary {
    let json = run_json(
        stampede()
            .arg("load")
            .arg(scenario)
            .args(["--target", &format!("http://{addr}"), "--time-scale", TIME_SCALE])
            // One sending thread is plenty for these rates and leaves the
            // other core to the backend and Varnish, whose timing is compared.
            .args(["--threads", "1"])
            .args(["--set", "scenario.warmup=0s", "--quiet", "--json", "-", "--out"])
            .arg(work.join("report")),
    );
    serde_json::from_str(&json).expect("the summary")
}

/// Varnish's counters once they hold every request the load got an answer
/// to: a worker adds its counts to the shared ones in batches, so they
/// trail the last answers by a moment.
fn settled_counters(work: &Path, load: &Summary) -> BTreeMap<String, u64> {
    let wire = load.engine.wire.as_ref().expect("load reports the wire");
    let answered: u64 = wire.statuses.values().sum();
    let start = Instant::now();
    loop {
        let stat = Command::new("varnishstat").arg("-n").arg(work.join("n")).args(["-1", "-j"]).output();
        let c = counters(&String::from_utf8_lossy(&stat.expect("varnishstat runs").stdout)).expect("counters");
        let seen = c.get("MAIN.client_req").copied().unwrap_or(0);
        if seen >= answered {
            return c;
        }
        assert!(start.elapsed() < DEADLINE, "varnishstat counts {seen} client requests of the {answered} answered");
        std::thread::sleep(Duration::from_millis(100)); // polling for the counters, not for a result
    }
}

fn run_json(cmd: &mut Command) -> String {
    let out = cmd.output().expect("stampede runs");
    assert!(out.status.success(), "{:?} failed: {}", cmd, String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout).expect("utf-8")
}

fn within(cause: &str, sim: u64, real: u64) {
    let bound = 3.0 * ((sim + real) as f64).sqrt() + 3.0;
    eprintln!("  {cause:<20} sim {sim:>6}   varnish {real:>6}   (bound ±{bound:.0})");
    assert!((sim as f64 - real as f64).abs() <= bound, "{cause}: sim {sim}, varnish {real}");
}

#[test]
fn a_real_varnish_fails_fetches_for_the_causes_the_model_predicts() {
    let _turn = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let Some((varnishd, work)) = prepare("varnish", "the real-Varnish check") else { return };

    let scenario = scenario_path();
    let (_backend, ports) = serve_backend(&scenario);
    assert_eq!(ports.len(), 4, "the scenario's four instances");
    let (_varnish, addr) = start_varnish(&varnishd, &scenario, &ports, &work);
    let load = load_through(&scenario, addr, &work);
    let real = FetchFailures::from_counters(&settled_counters(&work, &load));

    let over: Override = "scenario.warmup=0s".parse().expect("an override");
    let sc = Scenario::load_with(&scenario_path(), &[over]).expect("the scenario");
    let sim = simulate(&sc, sc.seed).expect("the simulation").summary;
    let cause = |c: &str| sim.attempts.causes.get(c).copied().unwrap_or(0);

    eprintln!("503s by cause, simulator vs a real Varnish 7 (varnishstat), time scale {TIME_SCALE}:");
    assert!(cause("busy") > 200 && cause("first_byte_timeout") > 5, "the scenario exercises both causes");
    within("busy", cause("busy"), real.busy);
    within("first_byte_timeout", cause("first_byte_timeout"), real.first_byte_timeout);
    within("unhealthy", cause("unhealthy"), real.unhealthy);
    within("connect_failed", cause("connect_failed"), real.connect_failed);

    // What the clients saw is what Varnish did: one 503 per failed fetch (no
    // VCL retries here), give or take requests cut off by the end.
    let wire = load.engine.wire.as_ref().expect("load reports the wire");
    let seen = wire.statuses.get("503").copied().unwrap_or(0);
    let synthetic = wire.varnish_synthetic;
    assert!(
        synthetic.abs_diff(real.fetch_failed) <= 5,
        "clients saw {synthetic} Guru Meditation pages, Varnish failed {} fetches",
        real.fetch_failed
    );
    // The rest are the backend's own 503s passed through: Varnish 7.1's
    // max_connections lets about one fetch in 1,000 at the limit through
    // (GUIDE §6), and the instance's queue then answers 503 itself. A fetch
    // abandoned at its first-byte timeout also frees its connection while its
    // job runs on (no cancel_on_abandon), so each real timeout can make a
    // later fetch or two find the queue full: a run with more timeouts than
    // the model's (timing on a loaded 2-core machine) passes more through.
    let leaked = seen / 100 + 3 + 2 * real.first_byte_timeout;
    assert!(
        seen - synthetic <= leaked,
        "{seen} 503s, {synthetic} of them Varnish's own (bound {leaked} passed through)"
    );
    assert_eq!(load.requests.offered, sim.requests.offered, "the same arrivals as the simulator");
    let (r_sim, r_real) = (sim.rate_503.expect("attempts"), real.fetch_failed as f64 / real.client_requests as f64);
    let (n_sim, n_real) = (sim.attempts.total as f64, real.client_requests as f64);
    let bound = 3.0 * (r_sim * (1.0 - r_sim) * (1.0 / n_sim + 1.0 / n_real)).sqrt();
    eprintln!(
        "  503 rate             sim {:.2}%   varnish {:.2}%   (bound ±{:.2} points)",
        r_sim * 100.0,
        r_real * 100.0,
        bound * 100.0
    );
    assert!((r_sim - r_real).abs() <= bound, "503 rate: sim {r_sim:.4}, varnish {r_real:.4}, bound {bound:.4}");
    let _ = std::fs::remove_dir_all(&work);
}

/// A cached class through a real Varnish: 300 prompts drawn by Zipf, a
/// fifth of them private, a ttl short enough to expire and be served in
/// grace within the run, and enough GPUs that nothing fails.
const CACHED: &str = r#"
[scenario]
name = "cache-through-varnish"
duration = "10m"
warmup = "0s"
seed = 7

[proxy.cache]
capacity = "100MB"

[pool.gpu]
slots = 8
initial_instances = 4
min_instances = 4
max_instances = 4

[class.txt2img]
pool = "gpu"
service = { dist = "lognormal", median = "2s", p99 = "6s" }

[class.txt2img.cache]
objects = 300
zipf_s = 1.0
cacheable = 0.8
size = "10KB"
ttl = "2m"
grace = "30s"
hit_for_miss = "1m"

[swarm.web]
class = "txt2img"
arrivals = { process = "poisson", rate = "10/s" }
strategy = "none"
"#;

/// `stampede vcl` translates the cache: Varnish hashes the class's URLs
/// (the object is in the query), stores a 200 for the class's ttl and
/// grace, and keeps a hit-for-miss marker for a private one, which `serve
/// backend` marks as the model's policy says. Its hits, grace hits,
/// hit-for-miss lookups, misses and waits on busy objects must then match
/// the simulator's for the same arrivals, each within the Poisson bound
/// above (timing moves an expiry or a coalesced request, nothing more).
#[test]
fn a_real_varnish_caches_what_the_model_caches() {
    let _turn = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let Some((varnishd, work)) = prepare("varnish-cache", "the real-Varnish cache check") else { return };
    let scenario = work.join("cached.toml");
    std::fs::write(&scenario, CACHED).expect("the scenario");

    let (_backend, ports) = serve_backend(&scenario);
    let (_varnish, addr) = start_varnish(&varnishd, &scenario, &ports, &work);
    let load = load_through(&scenario, addr, &work);
    let real = CacheLookups::from_counters(&settled_counters(&work, &load));

    let sc = Scenario::parse(CACHED, "cached.toml").expect("the scenario");
    let sim = simulate(&sc, sc.seed).expect("the simulation").summary;
    let c = sim.cache.expect("a cached class").total;
    eprintln!("cache lookups, simulator vs a real Varnish 7 (varnishstat), time scale {TIME_SCALE}:");
    assert!(c.grace_hits > 100 && c.hit_for_miss > 100 && c.misses > 100, "the scenario exercises each kind: {c:?}");
    within("hits", c.hits, real.hits);
    within("grace hits", c.grace_hits, real.grace_hits);
    within("hit-for-miss", c.hit_for_miss, real.hit_for_miss);
    within("misses", c.misses, real.misses);
    within("coalesced", c.coalesced, real.coalesced);
    assert_eq!(load.requests.offered, sim.requests.offered, "the same arrivals as the simulator");
    assert_eq!(load.attempts.status_503, 0, "enough GPUs that nothing fails: {:?}", load.attempts);
    let _ = std::fs::remove_dir_all(&work);
}

/// The VCL of every shipped scenario compiles in a real varnishd (`-C`
/// compiles to C and stops: no ports, about a second each).
#[test]
fn every_shipped_scenario_s_vcl_compiles_in_varnishd() {
    let _turn = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let Some((varnishd, work)) = prepare("vcl", "the VCL compile check") else { return };
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios");
    let mut files: Vec<PathBuf> =
        std::fs::read_dir(&dir).expect("scenarios/").map(|e| e.expect("entry").path()).collect();
    files.sort();
    for scenario in files.iter().filter(|p| p.extension().is_some_and(|e| e == "toml")) {
        let vcl = work.join("check.vcl");
        run_json(stampede().arg("vcl").arg(scenario).arg("-o").arg(&vcl));
        let out = Command::new(&varnishd).arg("-C").arg("-n").arg(work.join("n")).arg("-f").arg(&vcl).output();
        let out = out.expect("varnishd runs");
        assert!(
            out.status.success(),
            "{}: varnishd -C refused the VCL:\n{}\n{}",
            scenario.display(),
            String::from_utf8_lossy(&out.stderr),
            std::fs::read_to_string(&vcl).unwrap_or_default()
        );
    }
    let _ = std::fs::remove_dir_all(&work);
}
