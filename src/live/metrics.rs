//! `/metrics` of a live backend, in Prometheus' text exposition format: what
//! it answered (by pool and outcome), jobs whose caller hung up, and the
//! pool's gauges (queue depth, busy slots, instances ready and provisioning).
//!
//! Every job request an instance takes ends in exactly one of: an answer
//! (`responses_total`), a caller that hung up (`hung_up_total`), no answer
//! from a dead instance (`unanswered_total`), or still running
//! (`in_flight`): requests_total is always their sum, also after a stop.

use std::fmt::Write;
use std::net::SocketAddr;

use crate::arena::Key;
use crate::model::proxy::{Health, Proxy};

use crate::model::backend::Backend;
use crate::model::chaos;
use crate::model::outcome::{Cause, OUTCOME_COUNT, Outcome};
use crate::scenario::Scenario;
use crate::time::SimTime;

/// The outcomes a backend can answer with itself.
const ANSWERS: [Outcome; 8] = [
    Outcome::Ok,
    Outcome::Status503(Cause::BackendQueueFull),
    Outcome::Status503(Cause::Maintenance),
    Outcome::Status429,
    Outcome::Status503(Cause::Injected),
    Outcome::Status500,
    Outcome::Status502,
    Outcome::Status503(Cause::ConnectFailed),
];

/// Whether the backend can answer `o`: the injected faults' rows only once
/// its schedule (the scenario's, or posted to `/chaos`) injects them.
fn shown(sc: &Scenario, backend: &Backend<'_>, o: Outcome) -> bool {
    match o {
        Outcome::Status503(Cause::ConnectFailed | Cause::Injected) | Outcome::Status500 | Outcome::Status502 => {
            chaos::injects(backend.chaos(), o)
        }
        o => sc.can_produce(o),
    }
}

/// What one pool's instances were asked and how each request ended.
#[derive(Clone, Debug, Default)]
pub struct Tally {
    pub requests: u64,
    pub served: [u64; OUTCOME_COUNT],
    pub hung_up: u64,
    pub unanswered: u64,
}

pub fn render(
    sc: &Scenario,
    backend: &Backend<'_>,
    tallies: &[Tally],
    in_flight: &[u64],
    last_minute: &[[u64; OUTCOME_COUNT]],
    now: SimTime,
) -> String {
    let mut out = String::new();
    let mut family = |name: &str, kind: &str, help: &str, rows: &mut dyn Iterator<Item = (String, u64)>| {
        let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} {kind}");
        for (labels, v) in rows {
            let _ = writeln!(out, "{name}{{{labels}}} {v}");
        }
    };
    let pools = || sc.pools.iter().enumerate().map(|(i, p)| (i, p.name.as_str()));
    family(
        "stampede_backend_requests_total",
        "counter",
        "Job requests that reached an instance.",
        &mut pools().map(|(i, name)| (format!("pool=\"{name}\""), tallies[i].requests)),
    );
    family(
        "stampede_backend_responses_total",
        "counter",
        "Answers the backend gave, by pool and outcome.",
        &mut pools().flat_map(|(i, name)| {
            ANSWERS
                .iter()
                .filter(|o| shown(sc, backend, **o))
                .map(move |o| (format!("pool=\"{name}\",outcome=\"{}\"", o.name()), tallies[i].served[o.index()]))
        }),
    );
    family(
        "stampede_backend_last_minute_responses",
        "gauge",
        "Answers the backend gave over the last minute (simulated time), by pool and outcome.",
        &mut pools().flat_map(|(i, name)| {
            ANSWERS
                .iter()
                .filter(|o| shown(sc, backend, **o))
                .map(move |o| (format!("pool=\"{name}\",outcome=\"{}\"", o.name()), last_minute[i][o.index()]))
        }),
    );
    family(
        "stampede_backend_hung_up_total",
        "counter",
        "Jobs whose caller closed the connection before the answer ended.",
        &mut pools().map(|(i, name)| (format!("pool=\"{name}\""), tallies[i].hung_up)),
    );
    family(
        "stampede_backend_unanswered_total",
        "counter",
        "Jobs sent to a dead instance: the connection closed without an answer.",
        &mut pools().map(|(i, name)| (format!("pool=\"{name}\""), tallies[i].unanswered)),
    );
    family(
        "stampede_backend_in_flight",
        "gauge",
        "Jobs taken and not yet answered (after a stop: interrupted).",
        &mut pools().map(|(i, name)| (format!("pool=\"{name}\""), in_flight[i])),
    );
    let g = |i: usize| &backend.pools[i].gauges;
    family(
        "stampede_backend_queue_depth",
        "gauge",
        "Jobs waiting for a GPU slot.",
        &mut pools().map(|(i, name)| (format!("pool=\"{name}\""), g(i).queued.value())),
    );
    family(
        "stampede_backend_busy_slots",
        "gauge",
        "GPU slots running a job.",
        &mut pools().map(|(i, name)| (format!("pool=\"{name}\""), g(i).busy_slots.value())),
    );
    family(
        "stampede_backend_instances",
        "gauge",
        "Instances by state.",
        &mut pools().flat_map(|(i, name)| {
            [("ready", g(i).ready.value()), ("provisioning", g(i).provisioning.value())]
                .into_iter()
                .map(move |(state, v)| (format!("pool=\"{name}\",state=\"{state}\""), v))
        }),
    );
    // Only the (pool, kind) pairs the schedule has: a series appears with the first such event.
    let mut kinds: Vec<(usize, &str)> = backend
        .chaos()
        .iter()
        .filter(|e| e.duration.is_some())
        .filter_map(|e| Some((e.action.pool()?, e.action.kind_name())))
        .collect();
    kinds.sort_unstable();
    kinds.dedup();
    let open = |pool: usize, kind: &str| {
        let on = |e: &&chaos::ChaosEvent| e.action.pool() == Some(pool) && e.action.kind_name() == kind;
        backend.chaos().iter().filter(on).filter(|e| e.active_at(now)).count() as u64
    };
    family(
        "stampede_backend_chaos_open",
        "gauge",
        "Chaos windows open now (the scenario's and those posted to /chaos), by pool and kind.",
        &mut kinds
            .into_iter()
            .map(|(p, kind)| (format!("pool=\"{}\",kind=\"{kind}\"", sc.pools[p].name), open(p, kind))),
    );
    out
}

/// One number of a proxy's backend from (probe window, connections, waiting).
type MemberValue = fn(Health, u32, usize) -> u64;

/// `/metrics` of a live proxy: its answers by outcome (503s by cause) and
/// each backend's health and connections.
pub fn render_proxy(
    sc: &Scenario,
    proxy: &Proxy,
    answered: &[u64; OUTCOME_COUNT],
    last_minute: &[u64; OUTCOME_COUNT],
    addr: impl Fn(usize, Key) -> Option<SocketAddr>,
) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "# HELP stampede_proxy_responses_total Answers to clients, by outcome (a 503's cause).\n\
         # TYPE stampede_proxy_responses_total counter"
    );
    let answers = || Outcome::ALL.into_iter().filter(|o| !matches!(o, Outcome::ClientTimeout | Outcome::LocalReject));
    for o in answers() {
        let _ = writeln!(out, "stampede_proxy_responses_total{{outcome=\"{}\"}} {}", o.name(), answered[o.index()]);
    }
    let _ = writeln!(
        out,
        "# HELP stampede_proxy_last_minute_responses Answers to clients over the last minute (simulated time), by outcome.\n\
         # TYPE stampede_proxy_last_minute_responses gauge"
    );
    for o in answers() {
        let _ = writeln!(
            out,
            "stampede_proxy_last_minute_responses{{outcome=\"{}\"}} {}",
            o.name(),
            last_minute[o.index()]
        );
    }
    let members = |pool: usize| proxy.members(pool).map(move |m| (pool, m));
    let label = |pool: usize, inst: Key| {
        let a = addr(pool, inst).map_or_else(|| "gone".to_string(), |a| a.to_string());
        format!("pool=\"{}\",backend=\"{a}\"", sc.pools[pool].name)
    };
    let families: [(&str, &str, MemberValue); 6] = [
        ("stampede_proxy_backend_healthy", "1 if the backend is healthy (its probe window), else 0.", |h, _, _| {
            u64::from(h.is_healthy())
        }),
        ("stampede_proxy_backend_probe_good", "Good probes in the backend's probe window.", |h, _, _| {
            u64::from(h.window().0)
        }),
        ("stampede_proxy_backend_probe_window", "Probes the window holds (.window).", |h, _, _| {
            u64::from(h.window().1)
        }),
        (
            "stampede_proxy_backend_probe_threshold",
            "Good probes that make the backend healthy (.threshold; 0 without a probe).",
            |h, _, _| u64::from(h.window().2),
        ),
        ("stampede_proxy_backend_connections", "Open fetches to the backend.", |_, c, _| u64::from(c)),
        ("stampede_proxy_backend_waiting", "Fetches waiting for a connection to the backend.", |_, _, w| w as u64),
    ];
    for (name, help, value) in families {
        let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} gauge");
        for (pool, (inst, healthy, conns, waiting)) in (0..sc.pools.len()).flat_map(members) {
            let _ = writeln!(out, "{name}{{{}}} {}", label(pool, inst), value(healthy, conns, waiting));
        }
    }
    out
}
