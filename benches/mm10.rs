//! M/M/10 two ways in one run: a bare binary-heap event loop, the practical
//! ceiling, beside stampede's engine simulating the same queue.
//!
//! Run with `cargo bench --bench mm10`. Both simulate λ = 9/s, exponential
//! service with mean 1 s, 10 servers and an unbounded FIFO queue, for about a
//! million customers; criterion reports customers per second for each, and
//! the bench then times the two in alternation and prints stampede / bare, a
//! ratio that holds even when another process shares the machine.
//!
//! The bare loop is checked first against Erlang C (mean queue wait 0.668732 s)
//! with a tolerance from batch means of its own run, so the yardstick
//! computes the same queue and not something cheaper.

// Measurements are printed for whoever reads the test log.
#![allow(clippy::print_stderr)]

use std::cmp::Reverse;
use std::collections::{BinaryHeap, VecDeque};
use std::hint::black_box;
use std::path::Path;
use std::time::{Duration, Instant};

use criterion::{Criterion, Throughput};
use hdrhistogram::Histogram;
use rand::SeedableRng;
use rand_distr::{Distribution, Exp};
use rand_pcg::Pcg64Mcg;
use stampede::engine::simulate;
use stampede::scenario::{Override, Scenario};

const LAMBDA: f64 = 9.0;
const MU: f64 = 1.0;
const SERVERS: u32 = 10;
/// scenarios/mmc-erlang.toml run for 31 h: about a million customers.
const DURATION: &str = "31h";
const BATCHES: usize = 20;

/// What the bare loop measured.
struct Bare {
    customers: u64,
    /// Mean queue wait (seconds) of each batch of consecutive customers.
    batch_waits: [f64; BATCHES],
    response: Histogram<u64>,
}

/// The reference: one heap of (time ns, sequence, arrival time or
/// `u64::MAX` for an arrival), a count of busy servers and a FIFO of arrival times.
fn bare_mm10(customers: u64, seed: u64) -> Bare {
    let to_ns = |s: f64| (s * 1e9) as u64;
    let (gap, service) = (Exp::new(LAMBDA).expect("rate"), Exp::new(MU).expect("rate"));
    let mut arrivals = Pcg64Mcg::seed_from_u64(seed);
    let mut services = Pcg64Mcg::seed_from_u64(seed ^ 0x9e37_79b9_7f4a_7c15);
    let mut response = Histogram::<u64>::new_with_bounds(1, 1_000_000_000_000, 3).expect("bounds");
    let mut heap = BinaryHeap::with_capacity(64);
    let mut queue = VecDeque::with_capacity(1024);
    let (mut seq, mut arrived, mut started, mut busy) = (0u64, 0u64, 0u64, 0u32);
    let mut wait_sums = [0u64; BATCHES];
    let batch = customers.div_ceil(BATCHES as u64);
    let mut start = |t: u64, arrived_at: u64, heap: &mut BinaryHeap<Reverse<(u64, u64, u64)>>, seq: &mut u64| {
        wait_sums[(started / batch) as usize] += t - arrived_at;
        started += 1;
        *seq += 1;
        heap.push(Reverse((t + to_ns(service.sample(&mut services)), *seq, arrived_at)));
    };
    heap.push(Reverse((to_ns(gap.sample(&mut arrivals)), 0, u64::MAX)));
    while let Some(Reverse((t, _, arrived_at))) = heap.pop() {
        if arrived_at == u64::MAX {
            arrived += 1;
            if arrived < customers {
                seq += 1;
                heap.push(Reverse((t + to_ns(gap.sample(&mut arrivals)), seq, u64::MAX)));
            }
            if busy < SERVERS {
                busy += 1;
                start(t, t, &mut heap, &mut seq);
            } else {
                queue.push_back(t);
            }
        } else {
            // Microseconds rounded up, as stampede records.
            response.saturating_record((t - arrived_at).div_ceil(1000).max(1));
            match queue.pop_front() {
                Some(a) => start(t, a, &mut heap, &mut seq),
                None => busy -= 1,
            }
        }
    }
    let per = |i: usize| batch.min(customers - batch * i as u64) as f64;
    let batch_waits = std::array::from_fn(|i| wait_sums[i] as f64 / 1e9 / per(i));
    Bare { customers: arrived, batch_waits, response }
}

/// Erlang C's mean queue wait for M/M/c (GUIDE: C = c·B / (c − a(1 − B))).
fn erlang_c_wait(lambda: f64, mu: f64, c: u32) -> f64 {
    let a = lambda / mu;
    let b = (1..=c).fold(1.0, |b, n| a * b / (n as f64 + a * b));
    let cc = c as f64 * b / (c as f64 - a * (1.0 - b));
    cc / (c as f64 * mu - lambda)
}

/// The bare loop computes M/M/10: its mean wait lies within a batch-means
/// interval (Student t, 99.9%, 19 degrees of freedom) of Erlang C.
fn check_reference(bare: &Bare) {
    let theory = erlang_c_wait(LAMBDA, MU, SERVERS);
    assert!((theory - 0.668732).abs() < 1e-6, "Erlang C(10, 9) is 0.668732, computed {theory}");
    let n = BATCHES as f64;
    let mean = bare.batch_waits.iter().sum::<f64>() / n;
    let var = bare.batch_waits.iter().map(|w| (w - mean).powi(2)).sum::<f64>() / (n - 1.0);
    let half = 3.883 * (var / n).sqrt();
    assert!(
        (mean - theory).abs() <= half,
        "bare M/M/10 mean wait {mean:.4} s is not Erlang C's {theory:.4} s ± {half:.4}"
    );
    assert_eq!(bare.response.len(), bare.customers, "every customer's response time is recorded");
    eprintln!(
        "bare M/M/10: {} customers, mean wait {mean:.4} s ± {half:.4} (Erlang C {theory:.4}), p99 response {:.2} s",
        bare.customers,
        bare.response.value_at_quantile(0.99) as f64 / 1e6
    );
}

fn scenario() -> Scenario {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios/mmc-erlang.toml");
    let set: Override = format!("scenario.duration={DURATION}").parse().expect("override");
    Scenario::load_with(&path, &[set]).unwrap_or_else(|e| panic!("{e}"))
}

fn median(mut xs: Vec<f64>) -> f64 {
    xs.sort_by(f64::total_cmp);
    xs[xs.len() / 2]
}

fn main() {
    let sc = scenario();
    let probe = simulate(&sc, sc.seed).expect("the run finishes");
    // Measured customers (warmup ones are simulated too but not counted).
    let customers = probe.summary.requests.offered;
    check_reference(&bare_mm10(customers, 1));

    let mut c = Criterion::default()
        .sample_size(20)
        .measurement_time(Duration::from_secs(8))
        .warm_up_time(Duration::from_secs(2))
        .configure_from_args();
    let mut g = c.benchmark_group("mm10");
    g.throughput(Throughput::Elements(customers));
    g.bench_function("bare", |b| b.iter(|| black_box(bare_mm10(black_box(customers), 1))));
    g.bench_function("stampede", |b| {
        b.iter(|| black_box(simulate(black_box(&sc), sc.seed).expect("the run finishes")))
    });
    g.finish();
    c.final_summary();

    // Alternate the two so both see the same machine, then compare medians.
    if std::env::args().any(|a| a == "--bench") {
        let (mut bare, mut ours) = (Vec::new(), Vec::new());
        for _ in 0..7 {
            let t = Instant::now();
            black_box(bare_mm10(customers, 1));
            bare.push(t.elapsed().as_secs_f64());
            let t = Instant::now();
            black_box(simulate(&sc, sc.seed).expect("the run finishes"));
            ours.push(t.elapsed().as_secs_f64());
        }
        let (b, s) = (median(bare), median(ours));
        let per_s = |secs: f64| customers as f64 / secs / 1e6;
        eprintln!(
            "mm10 interleaved medians of 7: bare {:.2} M customers/s, stampede {:.2} M customers/s, stampede / bare = {:.2}",
            per_s(b),
            per_s(s),
            b / s
        );
    }
}
