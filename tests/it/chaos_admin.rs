//! Chaos struck by hand on a running `serve backend`: `POST /chaos` with a
//! scenario-format entry, `GET /chaos` to list, `DELETE /chaos` to end what
//! is open; bad entries refused with the posted text's line and key.

use super::serve::{Server, answer, get, metric, send, tempdir, wait_for};

/// Two instances, fast jobs (1 s simulated, 10 ms real at time scale 100).
const SCENARIO: &str = r#"
[scenario]
name = "chaos-admin"
duration = "10h"
[pool.gpu]
slots = 2
queue_limit = 4
initial_instances = 2
max_instances = 2
[class.render]
pool = "gpu"
service = { dist = "constant", value = "1s" }
[swarm.web]
class = "render"
arrivals = { process = "poisson", rate = "1/h" }
"#;

fn request(addr: &str, method: &str, path: &str, body: &str) -> (String, String) {
    let raw = format!(
        "{method} {path} HTTP/1.1\r\nHost: x\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    let (head, body) = answer(send(addr, &raw));
    (head, String::from_utf8(body).expect("text"))
}

fn job(instance: &str) -> String {
    request(instance, "POST", "/render", "").0
}

#[test]
fn posted_chaos_strikes_the_running_backend_and_delete_ends_it() {
    let dir = tempdir("chaos-admin");
    let server = Server::start_with(&dir, SCENARIO, &[]);
    let (control, gpu) = (server.control(), server.instance());
    assert!(job(&gpu).starts_with("HTTP/1.1 200"), "healthy before any chaos");
    let (_, listing) = request(&control, "GET", "/chaos", "");
    assert!(listing.contains("0 chaos event(s)"), "{listing}");

    // Every request answered 500, from the moment the POST is answered.
    let (head, said) = request(
        &control,
        "POST",
        "/chaos",
        "kind = \"errors\"\npool = \"gpu\"\nshare = 1.0\nstatus = 500\nduration = \"5h\"\n",
    );
    assert!(head.starts_with("HTTP/1.1 201"), "{head}{said}");
    assert!(said.starts_with("added #0 100% 500 on pool gpu") && said.contains("(open)"), "{said}");
    for _ in 0..3 {
        let head = job(&gpu);
        assert!(head.starts_with("HTTP/1.1 500"), "{head}");
    }
    let (_, m) = get(&control, "/metrics");
    let m = String::from_utf8(m).expect("text");
    assert_eq!(metric(&m, r#"stampede_backend_chaos_open{pool="gpu",kind="errors"}"#), 1, "{m}");
    assert_eq!(metric(&m, r#"stampede_backend_responses_total{pool="gpu",outcome="status_500"}"#), 3, "{m}");
    let (_, page) = get(&control, "/");
    assert!(String::from_utf8_lossy(&page).contains("Chaos open now"), "the status page shows it");

    // Ended by hand: the pool serves again at once.
    let (head, said) = request(&control, "DELETE", "/chaos", "");
    assert!(head.starts_with("HTTP/1.1 200") && said.starts_with("ended 1 open chaos window"), "{head}{said}");
    assert!(job(&gpu).starts_with("HTTP/1.1 200"));
    let (_, listing) = request(&control, "GET", "/chaos", "");
    assert!(listing.contains("#0 100% 500 on pool gpu") && listing.contains("(over)"), "{listing}");

    // A kill strikes now; the first entry of a file's [[chaos]] may be pasted as it is.
    let (head, said) = request(&control, "POST", "/chaos", "[[chaos]]\nkind = \"kill\"\npool = \"gpu\"\ncount = 1\n");
    assert!(head.starts_with("HTTP/1.1 201") && said.contains("kill 1 on pool gpu"), "{head}{said}");
    wait_for(&control, r#"stampede_backend_instances{pool="gpu",state="ready"}"#, 1);
    server.interrupt();
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_bad_chaos_entry_is_refused_with_its_line_and_key_and_changes_nothing() {
    let dir = tempdir("chaos-admin-bad");
    let server = Server::start_with(&dir, SCENARIO, &[]);
    let control = server.control();
    let refused = |body: &str| {
        let (head, said) = request(&control, "POST", "/chaos", body);
        assert!(head.starts_with("HTTP/1.1 400"), "{head}{said}");
        said
    };
    let said = refused("kind = \"slow\"\npool = \"gpux\"\nfactor = 2\nduration = \"1m\"\n");
    assert!(said.contains("POST /chaos:2") && said.contains("pool") && said.contains("gpu"), "{said}");
    let said = refused("kind = \"slow\"\npool = \"gpu\"\nfactor = -1\nduration = \"1m\"\n");
    assert!(said.contains("POST /chaos:3") && said.contains("factor"), "{said}");
    let said = refused("kind = \"stall\"\npool = \"gpu\"\n");
    assert!(said.contains("duration"), "a window needs its length: {said}");
    let said = refused("kind = \"stall\"\npool = \"gpu\"\nduration = \"1m\"\nat = \"0s\"\n");
    assert!(said.contains("POST /chaos:4") && said.contains("in the past"), "{said}");
    let said = refused("kind = \"traffic\"\nswarm = \"web\"\nfactor = 3\nduration = \"1m\"\n");
    assert!(said.contains("no clients"), "{said}");
    let said = refused("[pool.gpu]\nslots = 100\n");
    assert!(said.contains("no other table"), "the scenario itself cannot be changed: {said}");
    let said = refused("kind = \"stall\"\npool = \"gpu\"\nduration = \"1m\"\nextra = 1\n");
    assert!(said.contains("extra"), "unknown keys are named: {said}");
    let (head, _) = request(&control, "PUT", "/chaos", "");
    assert!(head.starts_with("HTTP/1.1 405") && head.contains("allow: GET, HEAD, POST, DELETE"), "{head}");
    // An instance runs a job for POST or GET only, and its probe page is read-only.
    let gpu = server.instance();
    for (method, path, allow) in [("DELETE", "/render", "GET, POST"), ("POST", "/health", "GET, HEAD")] {
        let (head, _) = request(&gpu, method, path, "");
        assert!(
            head.starts_with("HTTP/1.1 405") && head.contains(&format!("allow: {allow}")),
            "{method} {path}: {head}"
        );
    }
    let jobs = metric(&String::from_utf8_lossy(&get(&control, "/metrics").1), "stampede_backend_requests_total");
    assert_eq!(jobs, 0, "no job ran");
    // A body stated too large is refused before it is waited for; a broken
    // chunked one is a bad request, not a large one.
    let stated = "POST /chaos HTTP/1.1\r\nHost: x\r\nContent-Length: 99999\r\nConnection: close\r\n\r\nkind";
    let (head, _) = answer(send(&control, stated));
    assert!(head.starts_with("HTTP/1.1 413"), "{head}");
    let broken = "POST /chaos HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\nzz\r\n";
    let (head, said) = answer(send(&control, broken));
    assert!(head.starts_with("HTTP/1.1 400"), "{head}{}", String::from_utf8_lossy(&said));
    let (_, listing) = request(&control, "GET", "/chaos", "");
    assert!(listing.contains("0 chaos event(s)"), "{listing}");
    server.interrupt();
    let _ = std::fs::remove_dir_all(&dir);
}
