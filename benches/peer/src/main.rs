//! M/M/10 in NeXosim, the closest Rust peer, beside stampede on the same
//! queue: λ = 9/s, exponential service with mean 1 s, 10 servers, FIFO, for
//! the customers of scenarios/mmc-erlang.toml over 31 h (about a million).
//!
//! The peer's model is the smallest its core API allows: one model that
//! schedules its own arrivals and departures, its random streams in the
//! model's environment (NeXosim models must be serialisable; generators need
//! not be). Before timing, its mean queue wait is checked against Erlang C
//! with batch means of its own run, so it computes the same queue. Then the
//! two run in alternation and the median of each gives the ratio.

use std::collections::VecDeque;
use std::path::Path;
use std::time::{Duration, Instant};

use nexosim::model::{Context, Model, schedulable};
use nexosim::ports::{EventSinkReader, Output, SinkState, event_slot};
use nexosim::simulation::{Mailbox, SimInit};
use nexosim::time::MonotonicTime;
use rand::SeedableRng;
use rand_distr::{Distribution, Exp};
use rand_pcg::Pcg64Mcg;
use serde::{Deserialize, Serialize};
use stampede::engine::simulate;
use stampede::plan::erlang::erlang_c;
use stampede::scenario::{Override, Scenario};

const LAMBDA: f64 = 9.0;
const MU: f64 = 1.0;
const SERVERS: u32 = 10;
const BATCHES: usize = 20;
const ROUNDS: usize = 7;

fn nanos(t: MonotonicTime) -> u64 {
    t.duration_since(MonotonicTime::EPOCH).as_nanos() as u64
}

/// The queue's state: what NeXosim would save and restore.
#[derive(Serialize, Deserialize, Default)]
pub struct Mm10 {
    customers: u64,
    arrived: u64,
    started: u64,
    busy: u32,
    /// Arrival times (ns) of those waiting.
    queue: VecDeque<u64>,
    /// Total queue wait (ns) of each batch of consecutive customers.
    waits: Vec<u64>,
    /// The batches' waits, sent once the last customer has left.
    pub done: Output<Vec<u64>>,
}

/// Random streams and distributions, outside the saved state.
pub struct Draws {
    arrivals: Pcg64Mcg,
    services: Pcg64Mcg,
    gap: Exp<f64>,
    service: Exp<f64>,
}

impl Default for Draws {
    fn default() -> Self {
        Draws {
            arrivals: Pcg64Mcg::seed_from_u64(1),
            services: Pcg64Mcg::seed_from_u64(1 ^ 0x9e37_79b9_7f4a_7c15),
            gap: Exp::new(LAMBDA).expect("rate"),
            service: Exp::new(MU).expect("rate"),
        }
    }
}

fn after(seconds: f64) -> Duration {
    // NeXosim refuses an event at the current time; a draw that rounds to 0 ns waits 1.
    Duration::from_nanos(((seconds * 1e9) as u64).max(1))
}

#[Model(type Env=Draws)]
impl Mm10 {
    #[nexosim(init)]
    async fn init(&mut self, cx: &Context<Self>, env: &mut Draws) {
        cx.schedule_event(after(env.gap.sample(&mut env.arrivals)), schedulable!(Self::arrive), ()).expect("future");
    }

    fn start(&mut self, now: u64, arrived_at: u64, cx: &Context<Self>, env: &mut Draws) {
        let batch = self.customers.div_ceil(BATCHES as u64);
        self.waits[(self.started / batch) as usize] += now - arrived_at;
        self.started += 1;
        cx.schedule_event(after(env.service.sample(&mut env.services)), schedulable!(Self::depart), ())
            .expect("future");
    }

    #[nexosim(schedulable)]
    async fn arrive(&mut self, _: (), cx: &Context<Self>, env: &mut Draws) {
        let now = nanos(cx.time());
        self.arrived += 1;
        if self.arrived < self.customers {
            cx.schedule_event(after(env.gap.sample(&mut env.arrivals)), schedulable!(Self::arrive), ())
                .expect("future");
        }
        if self.busy < SERVERS {
            self.busy += 1;
            self.start(now, now, cx, env);
        } else {
            self.queue.push_back(now);
        }
    }

    #[nexosim(schedulable)]
    async fn depart(&mut self, _: (), cx: &Context<Self>, env: &mut Draws) {
        match self.queue.pop_front() {
            Some(a) => self.start(nanos(cx.time()), a, cx, env),
            None => self.busy -= 1,
        }
        if self.busy == 0 && self.arrived == self.customers {
            self.done.send(std::mem::take(&mut self.waits)).await;
        }
    }
}

/// Runs the peer's M/M/10 for `customers` on one thread (stampede's engine is
/// single-threaded too); returns each batch's mean wait in seconds.
fn peer(customers: u64) -> Vec<f64> {
    let mut model = Mm10 { customers, waits: vec![0; BATCHES], ..Default::default() };
    let (sink, mut done) = event_slot(SinkState::Enabled);
    model.done.connect_sink(sink);
    let mut sim = SimInit::with_num_threads(1)
        .add_model(model, Mailbox::new(), "mm10")
        .init(MonotonicTime::EPOCH)
        .expect("the model initialises");
    sim.run().expect("the run ends when the last customer leaves");
    let batch = customers.div_ceil(BATCHES as u64);
    let waits = done.try_read().unwrap_or_default();
    waits.iter().enumerate().map(|(i, &w)| w as f64 / 1e9 / batch.min(customers - batch * i as u64) as f64).collect()
}

fn median(mut xs: Vec<f64>) -> f64 {
    xs.sort_by(f64::total_cmp);
    xs[xs.len() / 2]
}

fn main() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../scenarios/mmc-erlang.toml");
    let set: Override = "scenario.duration=31h".parse().expect("override");
    let sc = Scenario::load_with(&path, &[set]).unwrap_or_else(|e| panic!("{e}"));
    let customers = simulate(&sc, sc.seed).expect("the run finishes").summary.requests.offered;

    let a = LAMBDA / MU;
    let theory = erlang_c(SERVERS, a) / (f64::from(SERVERS) * MU - LAMBDA);
    let waits = peer(customers);
    let n = waits.len() as f64;
    let mean = waits.iter().sum::<f64>() / n;
    let var = waits.iter().map(|w| (w - mean).powi(2)).sum::<f64>() / (n - 1.0);
    // Student t, 99.9%, 19 degrees of freedom.
    let half = 3.883 * (var / n).sqrt();
    assert!(
        waits.len() == BATCHES && (mean - theory).abs() <= half,
        "NeXosim's M/M/10 mean wait {mean:.4} s is not Erlang C's {theory:.4} s ± {half:.4}"
    );
    eprintln!("NeXosim M/M/10: {customers} customers, mean wait {mean:.4} s ± {half:.4} (Erlang C {theory:.4})");

    let (mut theirs, mut ours) = (Vec::new(), Vec::new());
    for _ in 0..ROUNDS {
        let t = Instant::now();
        std::hint::black_box(peer(customers));
        theirs.push(customers as f64 / t.elapsed().as_secs_f64());
        let t = Instant::now();
        std::hint::black_box(simulate(&sc, sc.seed).expect("the run finishes"));
        ours.push(customers as f64 / t.elapsed().as_secs_f64());
    }
    let (p, s) = (median(theirs), median(ours));
    eprintln!(
        "medians of {ROUNDS} alternating runs: NeXosim {:.2} M customers/s, stampede {:.2} M customers/s; stampede / NeXosim = {:.2}",
        p / 1e6,
        s / 1e6,
        s / p
    );
}
