//! stampede: load-testing and chaos simulation for GPU inference services
//! behind a Varnish-like caching proxy.
//!
//! The crate is laid out the way a run flows:
//!
//! * [`scenario`] — TOML file → validated, typed [`scenario::Scenario`];
//! * [`model`] — pure state machines: workload, retry strategies, proxy, GPU
//!   pool, autoscaler, chaos; no clocks, no global RNG;
//! * [`engine`] — the discrete-event simulator that drives the models in
//!   virtual time;
//! * [`metrics`] — streaming counters, HdrHistograms and the time series;
//! * [`report`] — the human summary, JSON and CSV;
//! * [`cli`] — the `stampede` command line.
//!
//! Supporting pieces: [`time`] (integer simulated time), [`rng`] (per-entity
//! random streams), [`arena`] (generational storage), [`criteria`] (the named
//! metrics, thresholds and objectives); the leaves [`units`] (parsing
//! durations and rates), [`format`](mod@format) and [`suggest`] (did-you-mean).

/// `eprintln!` that cannot panic: with stderr closed (its reader gone) the
/// message is dropped and the exit code still tells. `eprintln!` panics
/// there, which turned a clean exit 2 into 101 (clippy's `print_stderr`
/// keeps it out).
macro_rules! say {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        let _ = writeln!(std::io::stderr(), $($arg)*);
    }};
}

pub mod arena;
pub mod cli;
pub mod compare;
pub mod criteria;
pub mod engine;
pub mod extended;
pub mod format;
pub mod import;
pub mod live;
pub mod metrics;
pub mod model;
pub mod parallel;
pub mod plan;
pub mod replication;
pub mod report;
pub mod ring;
pub mod rng;
pub mod scenario;
pub mod stats;
pub mod suggest;
pub mod sweep;
pub mod time;
pub mod units;
pub mod varnish;
