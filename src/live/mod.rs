//! The live engine: the simulator's models with a wall clock and real
//! HTTP/1.1 on loopback.
//!
//! `run --engine live` starts the proxy as an HTTP server, one HTTP server
//! per backend instance (a port each, bound when the autoscaler's instance
//! comes up), and the client swarms as HTTP clients. Every rule is the
//! models' (src/model/); this module only carries their effects over real
//! sockets and their timers over real time, compressed by the time scale
//! ([`clock`]). A live run is not reproducible to the bit as a simulated one
//! is: the models draw the same random numbers, but real scheduling decides
//! which of two nearly simultaneous things happens first.

mod backend_http;
mod client_http;
pub mod clock;
mod http;
mod proxy_http;
pub mod wire;
mod world;

use crate::engine::{NoTrace, Run};
use crate::scenario::Scenario;

pub use clock::{MAX_TIME_SCALE, MIN_TIME_SCALE};

/// Why a live run could not finish.
#[derive(Debug, thiserror::Error)]
pub enum LiveError {
    #[error("live engine: {0}")]
    Io(#[from] std::io::Error),
}

/// Runs `scenario` with `seed` in real time compressed by `time_scale`
/// (simulated seconds per real second), on loopback.
pub fn run(scenario: &Scenario, seed: u64, time_scale: f64) -> Result<Run, LiveError> {
    let rt = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;
    let started = std::time::Instant::now();
    let run = rt.block_on(async {
        let clock = clock::Clock::start(time_scale);
        let mut trace = NoTrace;
        let (mut world, mut rx) = world::World::new(scenario, seed, clock, &mut trace)?;
        world.run(&mut rx).await;
        world.finish(started.elapsed().as_secs_f64())
    });
    // In-flight requests end with the run: their tasks are dropped, not awaited.
    rt.shutdown_background();
    Ok(run?)
}
