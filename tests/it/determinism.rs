//! Determinism and common random numbers.

use std::collections::BTreeMap;

use stampede::engine::{RequestId, Trace, simulate, simulate_traced};
use stampede::metrics::summary::Summary;
use stampede::report::write_json;
use stampede::time::{SimDuration, SimTime};

use crate::support::shipped;

/// summary.json without the engine's wall-clock figures.
fn json_without_wall_time(s: &Summary) -> Vec<u8> {
    let mut s = s.clone();
    s.engine.wall_seconds = 0.0;
    s.engine.events_per_second = 0.0;
    let mut out = Vec::new();
    write_json(&mut out, &s).expect("json");
    out
}

#[test]
fn the_same_seed_gives_byte_identical_summaries_and_another_seed_does_not() {
    for file in ["playground-img2img.toml", "varnish-defaults.toml", "retry-storm.toml"] {
        let sc = shipped(file);
        let a = json_without_wall_time(&simulate(&sc, 17).expect("the run finishes").summary);
        let b = json_without_wall_time(&simulate(&sc, 17).expect("the run finishes").summary);
        assert!(a == b, "{file}: two runs of seed 17 differ");
        let c = json_without_wall_time(&simulate(&sc, 18).expect("the run finishes").summary);
        assert!(a != c, "{file}: seeds 17 and 18 gave the same summary");
    }
}

/// Records what each logical request was offered as.
#[derive(Default)]
struct Offers {
    by_id: BTreeMap<RequestId, (SimTime, usize, SimDuration)>,
}

impl Trace for Offers {
    fn offered(&mut self, id: RequestId, at: SimTime, class: usize, work: SimDuration) {
        self.by_id.insert(id, (at, class, work));
    }
}

#[test]
fn two_strategies_on_one_seed_see_the_same_traffic_and_the_same_jobs() {
    let base = shipped("playground-img2img.toml");
    let mut offers = Vec::new();
    for strategy in ["immediate", "none"] {
        let sc = base.clone().with_strategy(strategy).expect("defined");
        let mut t = Offers::default();
        simulate_traced(&sc, 9, &mut t).expect("the run finishes");
        offers.push(t.by_id);
    }
    let (a, b) = (&offers[0], &offers[1]);
    let bulk = base.swarms.iter().position(|s| s.bulk.is_some()).expect("a bulk swarm");
    // Open-loop arrivals, and the first images of every bulk job, are offered
    // at the same times with the same class and the same GPU work.
    let arrivals = |m: &BTreeMap<RequestId, (SimTime, usize, SimDuration)>| -> Vec<_> {
        m.iter().filter(|(id, _)| id.swarm != bulk || id.image == 0).map(|(id, v)| (*id, *v)).collect()
    };
    assert!(arrivals(a).len() > 10_000, "the comparison covers the whole run");
    assert_eq!(arrivals(a), arrivals(b));
    // Later images are offered whenever earlier ones finish, which depends on
    // the strategy; but any image both runs offered has the same class and work.
    let mut shared = 0;
    for (id, (_, class, work)) in a {
        if let Some((_, c2, w2)) = b.get(id) {
            assert_eq!((class, work), (c2, w2), "{id:?}");
            shared += 1;
        }
    }
    assert!(shared > arrivals(a).len(), "bulk images beyond the first were compared too");
}

/// A request with nothing to time out or retry keeps no record in the client
/// (it is carried); a client timeout longer than the run makes the same swarm
/// keep one. Every result is the same either way: the plain queue, and a
/// swarm with a circuit breaker (its admission draws on the request's stream),
/// patience and a bounded queue (503s and abandonments), open and closed loop.
#[test]
fn carried_requests_give_the_results_of_recorded_ones() {
    let guarded = r#"
[scenario]
name = "carried"
duration = "20m"
warmup = "1m"
[pool.gpu]
slots = 4
queue_limit = 8
[class.job]
pool = "gpu"
service = { dist = "exponential", mean = "1s" }
[strategy.guarded]
kind = "none"
[strategy.guarded.breaker]
failure_ratio = 0.2
min_throughput = 20
sampling = "10s"
break_duration = "3s"
[swarm.web]
class = "job"
arrivals = { process = "poisson", rate = "5/s" }
strategy = "guarded"
patience = "2s"
"#;
    let closed = guarded.replace(
        r#"arrivals = { process = "poisson", rate = "5/s" }"#,
        r#"arrivals = { process = "closed", users = 16, think = { dist = "exponential", mean = "1.5s" } }"#,
    );
    assert_ne!(closed, guarded);
    let plain = shipped("mmc-erlang.toml");
    let mut short = plain.clone();
    short.duration = SimDuration::from_secs(3 * 3600);
    for sc in [crate::support::scenario(guarded), crate::support::scenario(&closed), short] {
        let carried = simulate(&sc, 5).expect("the run finishes");
        assert_eq!(carried.high_water.requests, 0, "{}: the plain swarm carries its requests", sc.name);
        let mut recorded = sc.clone();
        recorded.swarms[0].timeout = Some(sc.duration + SimDuration::from_secs(1));
        let recorded = simulate(&recorded, 5).expect("the run finishes");
        assert!(recorded.high_water.requests > 0);
        let (a, b) = (json_without_wall_time(&carried.summary), json_without_wall_time(&recorded.summary));
        assert!(a == b, "{}: carried and recorded requests gave different summaries", sc.name);
        let a = &carried.summary.attempts;
        assert!(
            sc.name != "carried" || (a.local_reject > 0 && a.client_timeout > 0 && a.status_503 > 0),
            "the breaker never opened or nobody ran out of patience: the test lost its point ({a:?})"
        );
    }
}
