//! The status pages of `serve proxy` and `serve backend` as an operator sees
//! them: loaded in a real headless browser (Debian's chromium), screenshot
//! taken, and every number on the rendered page equal to the `/metrics`
//! series it names.
//!
//! Needs chromium: `.ci/run` installs it when missing. Under CI (`CI` set)
//! the test fails without it; elsewhere it says it was skipped.

// It says on stderr when it was skipped.
#![allow(clippy::print_stderr)]

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use super::serve::{DEADLINE, Server, answer, get, send, tempdir, wait_for};

/// Time scale 1, so the last minute lasts a real minute while the test
/// reads it; jobs of ten minutes, so the one running never ends; a
/// half-second first-byte timeout; one probe an hour, so the window holds still.
const SCENARIO: &str = r#"
[scenario]
name = "status-page"
duration = "1h"
[proxy]
first_byte_timeout = "500ms"
[proxy.probe]
interval = "1h"
initial = 5
[pool.gpu]
slots = 1
queue_limit = 1
initial_instances = 1
[class.render]
pool = "gpu"
service = { dist = "constant", value = "10m" }
[swarm.none]
class = "render"
arrivals = { process = "poisson", rate = "1/h" }
"#;

fn chromium() -> Option<PathBuf> {
    ["chromium", "chromium-browser", "google-chrome"]
        .iter()
        .find_map(|name| std::env::split_paths(&std::env::var_os("PATH")?).map(|d| d.join(name)).find(|p| p.is_file()))
}

/// Runs the browser headless with `args` then `url`; its stdout.
fn browse(browser: &Path, profile: &Path, args: &[&str], url: &str) -> String {
    let child = Command::new(browser)
        .args(["--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--no-first-run"])
        .arg(format!("--user-data-dir={}", profile.display()))
        .args(args)
        .arg(url)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("the browser starts");
    let pid = child.id();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(child.wait_with_output());
    });
    match rx.recv_timeout(Duration::from_secs(90)) {
        Ok(out) => String::from_utf8_lossy(&out.expect("the browser ran").stdout).into_owned(),
        Err(_) => {
            let _ = Command::new("sh").args(["-c", &format!("kill -9 {pid}")]).status();
            panic!("the browser did not finish within 90 s");
        }
    }
}

/// (series, number) of every `data-series` element of the rendered page.
fn figures(dom: &str) -> Vec<(String, u64)> {
    dom.split("data-series=\"")
        .skip(1)
        .map(|part| {
            let (series, rest) = part.split_once('"').expect("a closed attribute");
            let series = series.replace("&quot;", "\"").replace("&amp;", "&");
            let rest = rest.trim_start_matches(" data-value=\"").trim_start_matches(" data-value=");
            let digits: String = rest.trim_start_matches(['>', '"']).chars().take_while(char::is_ascii_digit).collect();
            let value = digits.parse().unwrap_or_else(|_| panic!("no number for {series}: {rest:.60}"));
            (series, value)
        })
        .collect()
}

fn metrics(addr: &str) -> String {
    String::from_utf8_lossy(&get(addr, "/metrics").1).into_owned()
}

/// Loads `addr`'s page until /metrics reads the same before and after it
/// (a probe or a job may move a number meanwhile); checks the page against
/// it and takes a screenshot. Returns the page's figures.
fn check_page(browser: &Path, dir: &Path, addr: &str, name: &str) -> Vec<(String, u64)> {
    let url = format!("http://{addr}/");
    let start = Instant::now();
    loop {
        let before = metrics(addr);
        let dom = browse(browser, &dir.join(format!("profile-{name}")), &["--dump-dom"], &url);
        let after = metrics(addr);
        if before != after {
            assert!(start.elapsed() < DEADLINE * 6, "{name}: /metrics never held still for one page load");
            continue;
        }
        assert!(dom.contains("http-equiv=\"refresh\""), "{name}: the page reloads itself");
        assert!(!dom.contains("<script") && !dom.contains(" src="), "{name}: no scripts, nothing external");
        let figures = figures(&dom);
        assert!(figures.len() > 10, "{name}: {} figures in\n{dom}", figures.len());
        for (series, shown) in &figures {
            let line = after
                .lines()
                .find(|l| l.rsplit_once(' ').is_some_and(|(s, _)| s == series))
                .unwrap_or_else(|| panic!("{name}: the page shows {series}, which /metrics lacks"));
            let value: u64 = line.rsplit(' ').next().and_then(|v| v.parse().ok()).expect("a number");
            assert_eq!(*shown, value, "{name}: {series} on the page and in /metrics");
        }
        let shot = dir.join(format!("{name}.png"));
        browse(
            browser,
            &dir.join(format!("profile-{name}")),
            &[&format!("--screenshot={}", shot.display()), "--window-size=1100,900", "--hide-scrollbars"],
            &url,
        );
        let png = std::fs::read(&shot).expect("the screenshot was written");
        assert!(png.starts_with(b"\x89PNG") && png.len() > 10_000, "{name}: a screenshot with something on it");
        let (w, h) = (
            u32::from_be_bytes(png[16..20].try_into().expect("IHDR")),
            u32::from_be_bytes(png[20..24].try_into().expect("IHDR")),
        );
        assert_eq!((w, h), (1100, 900), "{name}: the screenshot's size");
        return figures;
    }
}

#[test]
fn the_status_pages_render_in_a_browser_and_show_what_metrics_says() {
    let Some(browser) = chromium() else {
        assert!(std::env::var_os("CI").is_none(), "CI: chromium is missing (.ci/run installs it)");
        eprintln!("skipped: no chromium on PATH (apt-get install chromium), the status page test did not run");
        return;
    };
    let dir = tempdir("status-page");
    let backend = Server::start_with(&dir, SCENARIO, &["--time-scale", "1"]);
    let (proxy, addr) = Server::proxy(&dir, &[&backend.instance()], "1");
    // One job runs, one waits, the third finds the backend's queue full;
    // the first two then hit the proxy's first-byte timeout.
    let job = "POST /render HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n";
    let running = send(&addr, job);
    wait_for(&backend.control(), r#"stampede_backend_busy_slots{pool="gpu"}"#, 1);
    let queued = send(&addr, job);
    wait_for(&backend.control(), r#"stampede_backend_queue_depth{pool="gpu"}"#, 1);
    let (full, _) = answer(send(&addr, job));
    assert!(full.contains("x-stampede-cause: backend_queue_full"), "{full}");
    for s in [running, queued] {
        let (head, _) = answer(s);
        assert!(head.contains("x-stampede-cause: first_byte_timeout"), "{head}");
    }

    let page = check_page(&browser, &dir, &addr, "proxy");
    let shown = |series: &str| page.iter().find(|(s, _)| s == series).map(|&(_, v)| v);
    assert_eq!(shown(r#"stampede_proxy_last_minute_responses{outcome="first_byte_timeout"}"#), Some(2));
    assert_eq!(shown(r#"stampede_proxy_last_minute_responses{outcome="backend_queue_full"}"#), Some(1));
    let backend_label = format!(r#"{{pool="gpu",backend="{}"}}"#, backend.instance());
    assert_eq!(shown(&format!("stampede_proxy_backend_healthy{backend_label}")), Some(1));
    assert_eq!(shown(&format!("stampede_proxy_backend_probe_window{backend_label}")), Some(8));

    let page = check_page(&browser, &dir, &backend.control(), "backend");
    let shown = |series: &str| page.iter().find(|(s, _)| s == series).map(|&(_, v)| v);
    assert_eq!(shown(r#"stampede_backend_instances{pool="gpu",state="ready"}"#), Some(1));
    assert_eq!(shown(r#"stampede_backend_busy_slots{pool="gpu"}"#), Some(1));
    assert_eq!(shown(r#"stampede_backend_last_minute_responses{pool="gpu",outcome="backend_queue_full"}"#), Some(1));
    proxy.interrupt();
    backend.interrupt();
    let _ = std::fs::remove_dir_all(&dir);
}
