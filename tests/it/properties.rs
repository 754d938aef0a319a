//! Properties of random valid scenarios: conservation (offered = succeeded +
//! failed + unfinished, attempts add up by outcome and by swarm), determinism
//! (one seed, one summary), and percentiles in order, none above the maximum.
//!
//! A short run is part of the suite; `STAMPEDE_FUZZ_CASES=2000 cargo test
//! --release --test it properties::` runs a long one (docs/architecture.md).

use proptest::prelude::*;
use proptest::sample::select;
use stampede::engine::simulate;
use stampede::metrics::Percentiles;
use stampede::metrics::summary::Summary;
use stampede::scenario::Scenario;

use crate::conservation::check_summary;
use crate::support::fuzz_runner;

fn dist() -> impl Strategy<Value = String> {
    prop_oneof![
        (1u32..20).prop_map(|s| format!("{{ dist = \"constant\", value = \"{s}00ms\" }}")),
        (1u32..20).prop_map(|s| format!("{{ dist = \"exponential\", mean = \"{s}00ms\" }}")),
        (1u32..10, 1u32..10)
            .prop_map(|(a, b)| format!("{{ dist = \"uniform\", low = \"{a}00ms\", high = \"{}00ms\" }}", a + b)),
        (1u32..10, 1u32..10)
            .prop_map(|(m, d)| format!("{{ dist = \"lognormal\", median = \"{m}s\", p99 = \"{}s\" }}", m + d)),
        (1u32..10, 1u32..20)
            .prop_map(|(m, cv)| format!("{{ dist = \"gamma\", mean = \"{m}s\", cv = {} }}", f64::from(cv) / 10.0)),
    ]
}

fn pool(name: &'static str) -> impl Strategy<Value = String> {
    (1u32..4, 1u32..4, 0u32..4, prop::option::of(0u32..8), prop::option::of((5u32..9, 10u32..60, 0u32..120)), any::<bool>())
        .prop_map(move |(slots, min, extra, queue, scaler, cancel)| {
            let mut s = format!(
                "[pool.{name}]\nslots = {slots}\nmin_instances = {min}\nmax_instances = {}\ncancel_on_abandon = {cancel}\n",
                min + extra
            );
            if let Some(q) = queue {
                s.push_str(&format!("queue_limit = {q}\n"));
            }
            if let Some((target, interval, cold)) = scaler {
                s.push_str(&format!(
                    "cold_start = \"{cold}s\"\n[pool.{name}.autoscaler]\ntarget = 0.{target}\ninterval = \"{interval}s\"\n"
                ));
            }
            s
        })
}

fn strategy(name: &'static str) -> impl Strategy<Value = String> {
    let kinds = prop_oneof![
        Just("kind = \"immediate\"".to_string()),
        (1u32..5).prop_map(|d| format!("kind = \"fixed\"\ndelay = \"{d}s\"")),
        (1u32..5, select(&["none", "full", "equal", "decorrelated"][..])).prop_map(|(b, j)| format!(
            "kind = \"exponential\"\nbase = \"{b}00ms\"\ncap = \"{}s\"\njitter = \"{j}\"",
            b * 3
        )),
        Just("kind = \"stepped\"\nranges = [[\"1s\", \"2s\"], [\"3s\", \"5s\"]]".to_string()),
    ];
    (kinds, 2u32..6, any::<bool>()).prop_map(move |(k, n, honor)| {
        format!("[strategy.{name}]\n{k}\nmax_attempts = {n}\nhonor_retry_after = {honor}\n")
    })
}

fn swarm(name: &'static str) -> impl Strategy<Value = String> {
    let arrivals = prop_oneof![
        (1u32..30).prop_map(|r| format!("{{ process = \"poisson\", rate = \"{r}/s\" }}")),
        (1u32..30).prop_map(|r| format!("{{ process = \"constant\", rate = \"{r}/s\" }}")),
        (1u32..10, 5u32..40).prop_map(|(b, p)| format!(
            "{{ process = \"spike\", base = \"{b}/s\", peak = \"{p}/s\", start = \"1m\", length = \"1m\" }}"
        )),
        (1u32..20, 1u32..5).prop_map(|(u, t)| format!(
            "{{ process = \"closed\", users = {u}, think = {{ dist = \"exponential\", mean = \"{t}s\" }} }}"
        )),
    ];
    let class = select(&["class = \"c0\"", "class = \"c1\"", "mix = { c0 = 0.5, c1 = 0.5 }"][..]);
    let bulk = prop::option::of((1u32..6, 1u32..3, any::<bool>()));
    let timeout = prop::option::of(5u32..60);
    let strat = select(&["none", "s0", "s1"][..]);
    (arrivals, class, bulk, timeout, strat).prop_map(move |(a, c, bulk, timeout, st)| {
        let mut s = format!("[swarm.{name}]\n{c}\narrivals = {a}\nstrategy = \"{st}\"\n");
        if let Some((images, par, abort)) = bulk {
            let on = if abort { "abort" } else { "continue" };
            s.push_str(&format!("bulk = {{ images = {images}, parallelism = {par}, on_failure = \"{on}\" }}\n"));
        }
        if let Some(t) = timeout {
            s.push_str(&format!("timeout = \"{t}s\"\n"));
        }
        s
    })
}

fn chaos() -> impl Strategy<Value = String> {
    let event = prop_oneof![
        (select(&["p0", "p1"][..]), 1u32..3).prop_map(|(p, n)| format!("kind = \"kill\"\npool = \"{p}\"\ncount = {n}")),
        select(&["stall", "maintenance"][..])
            .prop_map(|k| format!("kind = \"{k}\"\npool = \"p0\"\nduration = \"30s\"")),
        (2u32..5).prop_map(|f| format!("kind = \"slow\"\npool = \"p1\"\nfactor = {f}.0\nduration = \"1m\"")),
        (2u32..5).prop_map(|f| format!("kind = \"traffic\"\nswarm = \"w0\"\nfactor = {f}.0\nduration = \"1m\"")),
        (select(&[500, 502, 503][..]), 0u32..=100).prop_map(|(s, p)| format!(
            "kind = \"errors\"\npool = \"p0\"\nstatus = {s}\nshare = {:.2}\nduration = \"1m\"",
            f64::from(p) / 100.0
        )),
        (select(&["connect_failures", "flap"][..]), 0u32..=100).prop_map(|(k, p)| format!(
            "kind = \"{k}\"\npool = \"p1\"\nshare = {:.2}\nduration = \"1m\"",
            f64::from(p) / 100.0
        )),
        (1u32..3000, 0u32..2).prop_map(|(ms, j)| format!(
            "kind = \"latency\"\npool = \"p0\"\nadded = \"{ms}ms\"\njitter = \"{}ms\"\nduration = \"1m\"",
            ms * j / 2
        )),
    ];
    prop::collection::vec((event, 10u32..170), 0..3).prop_map(|events| {
        events.into_iter().map(|(e, at)| format!("[[chaos]]\n{e}\nat = \"{at}s\"\n")).collect::<Vec<_>>().join("\n")
    })
}

/// A random valid scenario of three simulated minutes.
fn scenario() -> impl Strategy<Value = String> {
    let proxy = (
        select(&["off", "5s", "30s", "60s"][..]),
        prop::option::of(1u32..10),
        select(&["round_robin", "random", "least_connections"][..]),
        prop::option::of(1u32..10),
        prop::option::of(0u32..3),
    )
        .prop_map(|(fbt, conns, director, probe, retries)| {
            let mut s = format!("[proxy]\nfirst_byte_timeout = \"{fbt}\"\ndirector = \"{director}\"\n");
            if let Some(c) = conns {
                s.push_str(&format!("max_connections = {c}\n"));
            }
            if let Some(r) = retries {
                s.push_str(&format!("retry_on = \"503\"\nmax_retries = {r}\n"));
            }
            if let Some(i) = probe {
                s.push_str(&format!("[proxy.probe]\ninterval = \"{i}s\"\n"));
            }
            s
        });
    (proxy, pool("p0"), pool("p1"), dist(), dist(), strategy("s0"), strategy("s1"), swarm("w0"), swarm("w1"), chaos())
        .prop_map(|(proxy, p0, p1, d0, d1, s0, s1, w0, w1, chaos)| {
            format!(
                "[scenario]\nname = \"prop\"\nduration = \"3m\"\nwarmup = \"10s\"\nwindow = \"10s\"\n\n{proxy}\n{p0}\n{p1}\n\
                 [class.c0]\npool = \"p0\"\nservice = {d0}\n\n[class.c1]\npool = \"p1\"\nservice = {d1}\nchunks = 3\n\n\
                 {s0}\n{s1}\n{w0}\n{w1}\n{chaos}"
            )
        })
}

fn without_wall_time(s: &Summary) -> String {
    let mut s = s.clone();
    s.engine.wall_seconds = 0.0;
    s.engine.events_per_second = 0.0;
    serde_json::to_string(&s).expect("json")
}

/// p50 ≤ p90 ≤ p99 ≤ p99.9 ≤ max, exactly; a histogram with samples has them all.
fn check_order(p: &Percentiles, what: &str) {
    if p.count == 0 {
        assert!(p.p50.is_none() && p.max.is_none(), "{what}: percentiles of nothing: {p:?}");
        return;
    }
    let chain: Vec<f64> = [p.p50, p.p90, p.p99, p.p999, p.max]
        .into_iter()
        .map(|x| x.unwrap_or_else(|| panic!("{what}: a sample but an undefined percentile: {p:?}")))
        .collect();
    assert!(chain.windows(2).all(|w| w[0] <= w[1]), "{what}: percentiles out of order or above max: {p:?}");
}

#[test]
fn random_valid_scenarios_conserve_requests_repeat_exactly_and_order_percentiles() {
    fuzz_runner(24)
        .run(&(scenario(), 0u64..1000), |(text, seed)| {
            let sc = Scenario::parse(&text, "prop.toml").unwrap_or_else(|e| panic!("invalid:\n{e}\n{text}"));
            let a = simulate(&sc, seed).expect("the run finishes").summary;
            check_summary(&a, &text);
            assert_eq!(
                without_wall_time(&a),
                without_wall_time(&simulate(&sc, seed).expect("the run finishes").summary),
                "{text}"
            );
            let mut all = vec![
                (&a.latency_ms, "latency"),
                (&a.latency_ok_ms, "latency_ok"),
                (&a.completion_ms, "completion"),
                (&a.queue_wait_ms, "queue_wait"),
                (&a.first_byte_ms, "first_byte"),
                (&a.chunk_gap_ms, "chunk_gap"),
                (&a.bulk_jobs.completion_ms, "bulk"),
            ];
            all.extend(a.swarms.values().map(|w| (&w.completion_ms, "swarm completion")));
            for (p, what) in all {
                check_order(p, &format!("{what} in\n{text}"));
            }
            // Busy slots never exceed the slots that can run jobs, draining ones included.
            for (name, p) in &a.gpu.pools {
                let u = p.utilization.unwrap_or(0.0);
                assert!((0.0..=1.0).contains(&u), "pool {name}: utilization {u} in\n{text}");
            }
            Ok(())
        })
        .unwrap_or_else(|e| panic!("{e}"));
}
