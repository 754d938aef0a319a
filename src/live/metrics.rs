//! `/metrics` of a live backend, in Prometheus' text exposition format: what
//! it answered (by pool and outcome), jobs whose caller hung up, and the
//! pool's gauges (queue depth, busy slots, instances ready and provisioning).

use std::fmt::Write;

use crate::model::backend::Backend;
use crate::model::outcome::{OUTCOME_COUNT, Outcome};
use crate::scenario::Scenario;

/// The outcomes a backend can answer with itself.
const ANSWERS: [Outcome; 4] = [
    Outcome::Ok,
    Outcome::Status503(crate::model::outcome::Cause::BackendQueueFull),
    Outcome::Status503(crate::model::outcome::Cause::Maintenance),
    Outcome::Status429,
];

pub fn render(sc: &Scenario, backend: &Backend<'_>, served: &[[u64; OUTCOME_COUNT]], hung_up: &[u64]) -> String {
    let mut out = String::new();
    let mut family = |name: &str, kind: &str, help: &str, rows: &mut dyn Iterator<Item = (String, u64)>| {
        let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} {kind}");
        for (labels, v) in rows {
            let _ = writeln!(out, "{name}{{{labels}}} {v}");
        }
    };
    let pools = || sc.pools.iter().enumerate().map(|(i, p)| (i, p.name.as_str()));
    family(
        "stampede_backend_responses_total",
        "counter",
        "Answers the backend gave, by pool and outcome.",
        &mut pools().flat_map(|(i, name)| {
            ANSWERS.iter().map(move |o| (format!("pool=\"{name}\",outcome=\"{}\"", o.name()), served[i][o.index()]))
        }),
    );
    family(
        "stampede_backend_hung_up_total",
        "counter",
        "Jobs whose caller closed the connection before the answer ended.",
        &mut pools().map(|(i, name)| (format!("pool=\"{name}\""), hung_up[i])),
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
    out
}
