//! Documented limits: what validates runs in bounded memory and time; the
//! rest is refused with the limit and the reason (docs/scenario-format.md,
//! Limits). One test per case of issue 8 that input checks can catch.

use stampede::scenario::limits::{self, MAX_EVENTS, estimate_events};
use stampede::scenario::{Override, Scenario};

use crate::support::{shipped, stampede, stderr};

/// The errors `--set` overrides make on mmc-erlang, as one string.
fn refused(sets: &[&str]) -> String {
    let text = std::fs::read_to_string("scenarios/mmc-erlang.toml").expect("read");
    let overrides: Vec<Override> = sets.iter().map(|s| s.parse().expect("override syntax")).collect();
    match Scenario::parse_with(&text, "mmc.toml", &overrides) {
        Ok(_) => panic!("{sets:?} was accepted"),
        Err(e) => e.to_string(),
    }
}

fn assert_has(text: &str, fragments: &[&str]) {
    for f in fragments {
        assert!(text.contains(f), "`{f}` missing from:\n{text}");
    }
}

#[test]
fn counts_that_would_exhaust_memory_are_refused_with_the_limit() {
    assert_has(
        &refused(&["pool.gpu.initial_instances=4294967295"]),
        &["pool.gpu.initial_instances: 4294967295 is above the limit of 10000", "quadratic"],
    );
    assert_has(
        &refused(&["swarm.poisson.bulk={ images = 4294967295, parallelism = 4294967295 }"]),
        &["bulk.images: 4294967295 is above the limit of 10000", "bulk.parallelism: 4294967295 is above"],
    );
    assert_has(&refused(&["pool.gpu.slots=100000"]), &["pool.gpu.slots: 100000 is above the limit of 1024"]);
    assert_has(
        &refused(&[
            "swarm.poisson.arrivals={ process = \"closed\", users = 4000000000, think = { dist = \"constant\", value = \"1s\" } }",
        ]),
        &["users: 4000000000 is above the limit of 524288"],
    );
}

#[test]
fn an_overloaded_pool_with_an_unlimited_queue_is_refused_before_it_fills_memory() {
    // 9e5 requests/s of 1 s work on 10 slots: the queue would hold billions.
    let e = refused(&["swarm.poisson.arrivals.rate=900000/s"]);
    assert_has(&e, &["pool.gpu: is offered 6.480e9 GPU-seconds of work but can do 7.200e4", "set queue_limit"]);
    // With a queue limit the backend answers 503 instead: no backlog.
    let text = std::fs::read_to_string("scenarios/mmc-erlang.toml").expect("read");
    let sets: Vec<Override> = ["swarm.poisson.arrivals.rate=900000/s", "pool.gpu.queue_limit=10"]
        .iter()
        .map(|s| s.parse().expect("ok"))
        .collect();
    Scenario::parse_with(&text, "mmc.toml", &sets).unwrap_or_else(|e| panic!("{e}"));
}

#[test]
fn a_traffic_factor_cannot_multiply_a_closed_loop_past_the_users_limit() {
    let sets = [
        "swarm.poisson.arrivals={ process = \"closed\", users = 1000, think = { dist = \"constant\", value = \"1s\" } }",
        "chaos=[{ kind = \"traffic\", swarm = \"poisson\", at = \"10m\", duration = \"1m\", factor = 1e6 }]",
    ];
    assert_has(&refused(&sets), &["swarm.poisson.arrivals.users: 1.000e9 users at the peak", "the limit is 524288"]);
}

#[test]
fn ten_thousand_swarms_are_refused() {
    let mut text = std::fs::read_to_string("scenarios/mmc-erlang.toml").expect("read");
    for i in 0..(limits::MAX_SWARMS + 1) {
        text.push_str(&format!(
            "\n[swarm.s{i}]\nclass = \"job\"\narrivals = {{ process = \"poisson\", rate = \"1/h\" }}\n"
        ));
    }
    let e = Scenario::parse(&text, "many.toml").expect_err("too many swarms").to_string();
    assert_has(&e, &[&format!("swarms are above the limit of {}", limits::MAX_SWARMS), "512 KiB"]);
}

#[test]
fn a_window_that_makes_too_many_rows_is_refused_with_the_smallest_window_allowed() {
    let e = refused(&["scenario.window=1ns"]);
    let max = limits::max_rows(1);
    assert_has(&e, &["scenario.window: (1ns) makes", &format!("the limit is {max} rows"), "use a window of at least"]);
    // The suggested window is accepted.
    let hint = e.split("at least ").nth(1).expect("a hint").trim().to_string();
    let text = std::fs::read_to_string("scenarios/mmc-erlang.toml").expect("read");
    let set: Override = format!("scenario.window={hint}").parse().expect("override");
    Scenario::parse_with(&text, "mmc.toml", &[set]).unwrap_or_else(|e| panic!("{hint}: {e}"));
}

#[test]
fn attempts_and_vcl_retries_are_bounded() {
    assert_has(
        &refused(&["strategy.hammer={ kind = \"immediate\", max_attempts = 1000000000 }"]),
        &["strategy.hammer.max_attempts: 1000000000 is above the limit of 100", "without time passing"],
    );
    assert_has(
        &refused(&["proxy.max_retries=1000000000"]),
        &["proxy.max_retries: 1000000000 is above the limit of 100"],
    );
}

#[test]
fn chunks_and_timer_intervals_have_documented_bounds() {
    assert_has(
        &refused(&["class.job.chunks=1000000000"]),
        &["class.job.chunks: 1000000000 is above the limit of 10000"],
    );
    assert_has(
        &refused(&["proxy.probe={ interval = \"1ns\" }"]),
        &["proxy.probe.interval: (1ns) is below the shortest allowed, 10ms"],
    );
    assert_has(
        &refused(&["strategy.e={ kind = \"exponential\", base = \"1ns\", cap = \"1ns\" }"]),
        &["strategy.e.base: (1ns) is below the shortest allowed, 1ms"],
    );
}

#[test]
fn rates_beyond_the_limit_and_overflowing_traffic_factors_are_refused() {
    assert_has(&refused(&["swarm.poisson.arrivals.rate=1e12/s"]), &["peaks at 1e12 requests/s", "the limit is 1e6/s"]);
    // 9/s × 1e308 overflows to infinity: refused, not silently zero arrivals.
    let chaos = "chaos=[{ kind = \"traffic\", swarm = \"poisson\", at = \"10m\", duration = \"1m\", factor = 1e308 }]";
    assert_has(&refused(&[chaos]), &["peaks at infinitely many requests/s"]);
}

#[test]
fn runs_longer_than_the_histogram_range_are_refused() {
    let range = limits::histogram_range();
    assert!((range.as_secs_f64() - 1e6).abs() < 1.0, "the histograms record up to 1e12 µs, got {range}");
    assert_has(
        &refused(&["scenario.duration=20d"]),
        &["scenario.duration: (480h) is longer than the longest duration the latency histograms record"],
    );
}

#[test]
fn a_long_scenario_name_is_refused_before_it_names_a_directory() {
    let name = "a".repeat(300);
    assert_has(&refused(&[&format!("scenario.name={name}")]), &["is 300 characters long; the limit is 100"]);
}

#[test]
fn the_event_estimate_covers_what_shipped_scenarios_do() {
    for file in ["mmc-erlang.toml", "playground-img2img.toml", "retry-storm.toml", "varnish-defaults.toml"] {
        let sc = shipped(file);
        let est = estimate_events(&sc).events;
        let actual = stampede::engine::simulate(&sc, sc.seed).expect("the run finishes").summary.engine.events as f64;
        // An estimate that assumes every attempt is used: above what a run
        // does (2.4× to 4.9× for these files), yet within 10× of it.
        assert!(est >= actual && est <= 10.0 * actual, "{file}: estimated {est:.3e}, ran {actual:.3e}");
        assert!(est < MAX_EVENTS / 100.0, "{file}: the shipped scenarios stay far below the limit");
    }
}

#[test]
fn runs_estimated_beyond_the_event_limit_are_refused_unless_no_limits() {
    let sets = ["--set", "swarm.poisson.arrivals.rate=900000/s", "--set", "pool.gpu.queue_limit=10"];
    let o = stampede(&[&["validate", "scenarios/mmc-erlang.toml"][..], &sets].concat());
    assert_eq!(o.status.code(), Some(2));
    // The largest source's key and line are named: the swarm's arrivals.
    assert_has(
        &stderr(&o),
        &[
            "mmc-erlang.toml:36:1: swarm.poisson.arrivals:",
            "one run is estimated at",
            "the limit is 1e9",
            "--no-limits",
        ],
    );
    let o = stampede(&[&["validate", "scenarios/mmc-erlang.toml", "--no-limits"][..], &sets].concat());
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
}

#[test]
fn a_closed_loop_that_cannot_advance_time_is_refused_by_name() {
    let text = r#"
[scenario]
name = "loop"
duration = "10m"
[pool.gpu]
[class.c]
pool = "gpu"
service = { dist = "constant", value = "0s" }
[swarm.s]
class = "c"
arrivals = { process = "closed", users = 1, think = { dist = "constant", value = "0s" } }
"#;
    let sc = Scenario::parse(text, "loop.toml").expect("valid shape");
    let e = sc.check_events().expect_err("infinite").to_string();
    assert_has(
        &e,
        &[
            "loop.toml:11:45: swarm.s.arrivals.think:",
            "closed loop swarm `s`: zero think time and zero service time make users loop without time passing",
        ],
    );
}

/// Users whose requests are refused at once cycle at their think time
/// alone: 1,000 users thinking 1 ms against a pool that takes nothing send a
/// million requests a simulated second, whatever the service time says.
#[test]
fn a_closed_loop_is_estimated_at_its_think_time_since_a_refusal_is_instant() {
    let text = r#"
[scenario]
name = "refused"
duration = "10h"
window = "1m"
[pool.gpu]
slots = 1
queue_limit = 0
[class.c]
pool = "gpu"
service = { dist = "constant", value = "1h" }
[swarm.s]
class = "c"
arrivals = { process = "closed", users = 1000, think = { dist = "constant", value = "1ms" } }
"#;
    let sc = Scenario::parse(text, "refused.toml").expect("valid shape");
    let e = sc.check_events().expect_err("3.6e10 requests").to_string();
    assert_has(&e, &["refused.toml:14:1: swarm.s.arrivals:", "one run is estimated at", "swarm s 1.800e11"]);
}

#[test]
fn seeds_and_grids_are_bounded() {
    for (args, fragment) in [
        (vec!["compare", "scenarios/mmc-erlang.toml", "--seeds", "1000000000"], "above the limit of 1000"),
        (
            vec!["plan", "scenarios/mmc-erlang.toml", "--tune", "pool.gpu.slots=5..10", "--seeds", "1000000000"],
            "above the limit of 1000",
        ),
        (
            vec![
                "sweep",
                "scenarios/mmc-erlang.toml",
                "--vary",
                "pool.gpu.slots=1..1000",
                "--vary",
                "pool.gpu.max_instances=1..1000",
                "--vary",
                "proxy.max_retries=0..99",
            ],
            "the grid has 100000000 points (1000 × 1000 × 100)",
        ),
        (
            vec!["sweep", "scenarios/mmc-erlang.toml", "--vary", "pool.gpu.slots=1..1000", "--seeds", "200"],
            "the sweep has 200000 runs",
        ),
    ] {
        let o = stampede(&args);
        assert_eq!(o.status.code(), Some(2), "{args:?}");
        assert_has(&stderr(&o), &[fragment]);
    }
    assert_has(&refused(&["compare.seeds=2147483648"]), &["compare.seeds: 2147483648 is above the limit of 1000"]);
}

#[test]
fn unused_sections_and_zero_timeouts_are_warned_about_not_refused() {
    let text = std::fs::read_to_string("scenarios/mmc-erlang.toml").expect("read");
    let sets: Vec<Override> = [
        "pool.spare={ slots = 1 }",
        "class.idle={ pool = \"gpu\", service = { dist = \"constant\", value = \"1s\" } }",
        "strategy.unused={ kind = \"immediate\" }",
        "strategy.listed={ kind = \"immediate\" }",
        "compare={ strategies = [\"none\", \"listed\"] }",
        "proxy.first_byte_timeout=0s",
    ]
    .iter()
    .map(|s| s.parse().expect("syntax"))
    .collect();
    let sc = Scenario::parse_with(&text, "mmc.toml", &sets).unwrap_or_else(|e| panic!("{e}"));
    let w: Vec<String> = sc.warnings.iter().map(ToString::to_string).collect();
    let all = w.join("\n");
    assert_has(
        &all,
        &[
            "pool.spare: no class uses this pool",
            "class.idle: no swarm sends this class",
            "strategy.unused: no swarm uses this strategy",
            "proxy.first_byte_timeout: is 0s: every fetch fails at once",
        ],
    );
    // The shipped scenarios are clean.
    for file in ["mmc-erlang.toml", "playground-img2img.toml", "retry-storm.toml", "varnish-defaults.toml"] {
        assert!(shipped(file).warnings.is_empty(), "{file}: {:?}", shipped(file).warnings);
    }
    let o = stampede(&["validate", "scenarios/mmc-erlang.toml", "--set", "proxy.connect_timeout=0s"]);
    assert_eq!(o.status.code(), Some(0));
    assert_has(&stderr(&o), &["warning: --set proxy.connect_timeout=0s: proxy.connect_timeout: is 0s"]);
    let kill = r#"chaos=[{ kind = "kill", at = "10m", pool = "a100", count = 500 }]"#;
    let o = stampede(&["validate", "scenarios/playground-img2img.toml", "--set", kill]);
    assert_eq!(o.status.code(), Some(0));
    assert_has(&stderr(&o), &["chaos[0].count: kills 500 instances of a pool that never has more than 64"]);
    // Caches that silently cannot work: no hit-for-miss marker, objects larger than the store.
    let args = ["validate", "scenarios/cache-txt2img.toml", "--set", "class.txt2img.cache.hit_for_miss=0s"];
    let o = stampede(&[&args[..], &["--set", "proxy.cache.capacity=1MB"]].concat());
    assert_eq!(o.status.code(), Some(0));
    assert_has(
        &stderr(&o),
        &[
            "class.txt2img.cache.hit_for_miss: 0s leaves no hit-for-miss marker",
            "class.txt2img.cache.size: (1572864 bytes) is larger than the whole cache",
        ],
    );
    assert!(shipped("cache-txt2img.toml").warnings.is_empty());
}

#[test]
fn limits_are_checked_without_panicking_when_a_class_has_no_pool() {
    // Found by tests/it/fuzz.rs: the backlog check ran on a class whose pool
    // did not resolve.
    let text = r#"
[scenario]
name = "nopool"
duration = "10m"
[class.c]
pool = "gpu"
service = { dist = "constant", value = "1s" }
[swarm.s]
class = "c"
arrivals = { process = "poisson", rate = "5/s" }
"#;
    let e = Scenario::parse(text, "nopool.toml").expect_err("no pool").to_string();
    assert_has(
        &e,
        &["pool: the scenario defines no GPU pool", "class.c.pool: refers to pool `gpu`, which is not defined"],
    );
}
