//! Engine throughput: simulated events and simulated requests per second.
//!
//! Run with `cargo bench --bench engine`. Each benchmark simulates a whole
//! scenario file; criterion reports its throughput in elements per second,
//! where the elements are events (the `events` benchmarks) or offered requests
//! (the `requests` benchmarks) of one run. Figures for this machine are in the
//! README.

use std::hint::black_box;
use std::path::Path;
use std::time::Duration;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use stampede::engine::simulate;
use stampede::scenario::Scenario;

fn load(name: &str) -> Scenario {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios").join(name);
    Scenario::load(&path).unwrap_or_else(|e| panic!("{e}"))
}

fn bench_scenario(c: &mut Criterion, file: &str) {
    let sc = load(file);
    let probe = simulate(&sc, sc.seed).expect("the run finishes");
    let events = probe.summary.engine.events;
    let requests = probe.summary.requests.offered;
    let mut g = c.benchmark_group(sc.name.clone());
    g.sample_size(20).measurement_time(Duration::from_secs(8)).warm_up_time(Duration::from_secs(2));
    g.throughput(Throughput::Elements(events));
    g.bench_function("events", |b| b.iter(|| black_box(simulate(black_box(&sc), sc.seed).expect("the run finishes"))));
    g.throughput(Throughput::Elements(requests));
    g.bench_function("requests", |b| {
        b.iter(|| black_box(simulate(black_box(&sc), sc.seed).expect("the run finishes")))
    });
    g.finish();
}

fn engine(c: &mut Criterion) {
    bench_scenario(c, "mmc-erlang.toml");
    bench_scenario(c, "playground-img2img.toml");
}

criterion_group!(benches, engine);
criterion_main!(benches);
