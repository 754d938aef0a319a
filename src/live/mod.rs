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

mod admin;
mod backend_http;
mod client_http;
pub mod clock;
mod conns;
mod http;
mod in_flight;
mod metrics;
pub mod part;
mod proxy_http;
mod recent;
mod status;
mod target;
pub mod wire;
mod world;

use std::future::Future;
use std::io;
use std::net::SocketAddr;

use crate::engine::{NoTrace, Run};
use crate::scenario::Scenario;
use world::Mode;

pub use clock::{MAX_TIME_SCALE, MIN_TIME_SCALE};
pub use http::Limits;
pub use target::TargetUrl;
pub use world::LoadProgress;

/// Why a live run could not finish.
#[derive(Debug, thiserror::Error)]
pub enum LiveError {
    #[error("live engine: {0}")]
    Io(#[from] io::Error),
    /// A load target cannot be reached.
    #[error("{0}")]
    Target(String),
}

/// Runs `scenario` with `seed` in real time compressed by `time_scale`
/// (simulated seconds per real second), on loopback.
pub fn run(scenario: &Scenario, seed: u64, time_scale: f64) -> Result<Run, LiveError> {
    run_until(scenario, seed, time_scale, std::future::pending())
}

/// [`run`], stopped early when `stop` resolves (the CLI's Ctrl-C): the run
/// then covers the time that ran (`engine.interrupted`).
pub fn run_until(
    scenario: &Scenario,
    seed: u64,
    time_scale: f64,
    stop: impl Future<Output = ()>,
) -> Result<Run, LiveError> {
    let rt = runtime()?;
    let started = std::time::Instant::now();
    let run = rt.block_on(async {
        let clock = clock::Clock::start(time_scale);
        let mut trace = NoTrace;
        let (mut world, mut rx) = world::World::new(Mode::Stack, scenario, seed, clock, &mut trace)?;
        world.run(&mut rx, stop).await;
        world.finish(started.elapsed().as_secs_f64())
    });
    // In-flight requests end with the run: their tasks are dropped, not awaited.
    rt.shutdown_background();
    Ok(run?)
}

/// What `stampede load` sends where.
#[derive(Clone, Debug)]
pub struct LoadOptions {
    pub seed: u64,
    pub time_scale: f64,
    /// Each swarm's target, in the scenario's swarm order.
    pub targets: Vec<TargetUrl>,
    pub shard: crate::model::client::Shard,
    /// Worlds sending at once, one per thread (at least 1): the shard is cut
    /// in this many parts ([`Shard::split`](crate::model::client::Shard::split)).
    pub threads: usize,
    /// Ctrl-C stops the load and keeps what it measured (`engine.interrupted`).
    pub interruptible: bool,
}

/// Sends the scenario's client swarms to their targets until the scenario's
/// end (compressed by the time scale). Every target is checked first: one
/// that nobody listens at fails the run before any load is sent.
///
/// Each of `threads` worlds runs on its own single-threaded runtime with its
/// own connections and its part of the arrivals, so no request crosses a
/// thread; their results add up as the parts of a sharded load do
/// ([`part::combine`]). One world failing (a target that stopped answering)
/// stops the others.
pub fn load(scenario: &Scenario, opts: LoadOptions, mut progress: impl FnMut(&LoadProgress)) -> Result<Run, LiveError> {
    let started = std::time::Instant::now();
    let check = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
    check.block_on(async {
        let mut checked: Vec<&TargetUrl> = Vec::new();
        for t in &opts.targets {
            if !checked.contains(&t) {
                t.check(std::time::Duration::from_secs(5)).await.map_err(LiveError::Target)?;
                checked.push(t);
            }
        }
        Ok::<_, LiveError>(())
    })?;
    drop(check);
    let threads = opts.threads.max(1);
    let clock = clock::Clock::start(opts.time_scale);
    let targets: Vec<std::sync::Arc<str>> =
        opts.targets.iter().map(|t| std::sync::Arc::from(t.prefix.as_str())).collect();
    let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
    let (heard_tx, heard) = std::sync::mpsc::channel::<(usize, LoadProgress)>();
    let runs: Vec<Result<Run, LiveError>> = std::thread::scope(|s| {
        let mut handles = Vec::new();
        for t in 0..threads {
            let mode = Mode::Load { targets: targets.clone(), shard: opts.shard.split(t as u32, threads as u32) };
            let (heard_tx, stop_tx, mut stop_rx) = (heard_tx.clone(), stop_tx.clone(), stop_rx.clone());
            handles.push(s.spawn(move || -> Result<Run, LiveError> {
                let rt = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
                let run = rt.block_on(async {
                    let mut trace = NoTrace;
                    let (mut world, mut rx) = world::World::new(mode, scenario, opts.seed, clock, &mut trace)?;
                    world.set_progress(Box::new(move |p: &LoadProgress| {
                        let _ = heard_tx.send((t, p.clone()));
                    }));
                    let interruptible = opts.interruptible;
                    let stop = async move {
                        let interrupt = async {
                            match interruptible {
                                true => stop_signal().await,
                                false => std::future::pending().await,
                            }
                        };
                        tokio::select! {
                            _ = stop_rx.wait_for(|&stop| stop) => {}
                            () = interrupt => {}
                        }
                    };
                    world.run(&mut rx, stop).await;
                    world.finish(started.elapsed().as_secs_f64())
                });
                if run.as_ref().map_or(true, |r| r.failure.is_some()) {
                    let _ = stop_tx.send(true);
                }
                // In-flight requests end with the run: their tasks are dropped, not awaited.
                rt.shutdown_background();
                Ok(run?)
            }));
        }
        drop(heard_tx);
        let mut latest: Vec<Option<LoadProgress>> = vec![None; threads];
        for (t, p) in heard {
            latest[t] = Some(p);
            if t == 0
                && let Some(sum) = LoadProgress::sum(latest.iter().flatten())
            {
                progress(&sum);
            }
        }
        handles
            .into_iter()
            .map(|h| h.join().unwrap_or_else(|_| Err(LiveError::Io(io::Error::other("a load thread panicked")))))
            .collect()
    });
    let mut done = Vec::with_capacity(threads);
    for run in runs {
        done.push(run?);
    }
    if done.len() == 1 {
        return Ok(done.pop().expect("one run"));
    }
    let parts: Vec<part::LoadPart> =
        done.iter().enumerate().map(|(t, run)| part::LoadPart::new(scenario, None, (t + 1, threads), run)).collect();
    // Interrupted, each world stopped at its own instant: the whole covers
    // the longest, as one world stopped then would.
    let interrupted = done.iter().any(|r| r.summary.engine.interrupted);
    let cut;
    let sc = if interrupted {
        let ran = done.iter().map(|r| r.summary.duration_s).fold(0.0, f64::max);
        cut = scenario.cut(crate::time::SimDuration::from_secs_f64(ran));
        &cut
    } else {
        scenario
    };
    let mut run = part::combine(sc, opts.seed, opts.time_scale, parts.iter().map(|p| ("a load thread", p)))
        .map_err(|e| LiveError::Io(io::Error::other(e)))?;
    run.summary.engine.interrupted = interrupted;
    run.failure = done.iter().find_map(|r| r.failure.clone());
    Ok(run)
}

/// Polls `stop` once and says whether it is already done. The first poll
/// installs what it waits on (Ctrl-C's handler), which must be in place
/// before a server says it is ready: a Ctrl-C right after the banner would
/// otherwise meet the default action and end the process with a signal.
async fn armed<F: Future<Output = ()>>(stop: std::pin::Pin<&mut F>) -> bool {
    let mut stop = stop;
    std::future::poll_fn(|cx| std::task::Poll::Ready(stop.as_mut().poll(cx).is_ready())).await
}

/// Waits for Ctrl-C (SIGINT) or SIGTERM, the stop that `docker stop` and
/// Kubernetes send, installing both handlers at the first poll: either ends
/// a server or a live run the same orderly way.
pub async fn stop_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        if let Ok(mut term) = signal(SignalKind::terminate()) {
            tokio::select! {
                _ = tokio::signal::ctrl_c() => {}
                _ = term.recv() => {}
            }
            return;
        }
    }
    let _ = tokio::signal::ctrl_c().await;
}

fn runtime() -> io::Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_multi_thread().enable_all().build()
}

/// How a `serve` command runs: its seed, time scale, address and limits.
#[derive(Copy, Clone, Debug)]
pub struct ServeOptions {
    pub seed: u64,
    pub time_scale: f64,
    pub listen: SocketAddr,
    pub limits: Limits,
}

/// Where `serve backend` listens.
#[derive(Clone, Debug)]
pub struct Serving {
    /// `/`, `/metrics`.
    pub control: SocketAddr,
    /// Each pool's instance ports, `max_instances` of them.
    pub instances: Vec<(String, Vec<SocketAddr>)>,
}

/// What `serve backend` did, when it stops.
#[derive(Debug)]
pub struct Served {
    /// The final `/metrics`.
    pub metrics: String,
    pub run: Run,
}

/// Serves the scenario's GPU pools as HTTP servers until `stop` resolves:
/// `control` (`listen`) answers `/` and `/metrics`, each instance has its own
/// port. `ready` hears the addresses once everything listens.
pub fn serve_backend(
    scenario: &Scenario,
    opts: ServeOptions,
    ready: impl FnOnce(&Serving),
    stop: impl Future<Output = ()>,
) -> Result<Served, LiveError> {
    let rt = runtime()?;
    let started = std::time::Instant::now();
    let ServeOptions { seed, time_scale, listen, limits } = opts;
    let served = rt.block_on(async {
        let clock = clock::Clock::start(time_scale);
        let control = http::bind(listen)?;
        let control_addr = control.local_addr()?;
        let instances = SocketAddr::new(listen.ip(), listen.port());
        let mut trace = NoTrace;
        let mode = Mode::Backend { listen: instances, limits };
        let (mut world, mut rx) = world::World::new(mode, scenario, seed, clock, &mut trace)?;
        let page = admin::Control { world: world.sender() };
        tokio::spawn(http::serve(control, limits, move |req| page.clone().handle(req)));
        let mut stop = std::pin::pin!(stop);
        let stopped = armed(stop.as_mut()).await;
        ready(&Serving { control: control_addr, instances: world.ports() });
        // A stop that came before the banner is not polled again.
        world
            .run(&mut rx, async move {
                if !stopped {
                    stop.await
                }
            })
            .await;
        let metrics = world.metrics();
        Ok::<_, io::Error>(Served { metrics, run: world.finish(started.elapsed().as_secs_f64())? })
    });
    rt.shutdown_background();
    Ok(served?)
}

/// Serves the scenario's proxy on `listen` in front of `backends` (pool
/// index, address) until `stop` resolves. `/` and `/metrics` are on the same
/// port as the classes. Returns the final `/metrics`.
pub fn serve_proxy(
    scenario: &Scenario,
    opts: ServeOptions,
    backends: Vec<(usize, SocketAddr)>,
    ready: impl FnOnce(SocketAddr),
    stop: impl Future<Output = ()>,
) -> Result<String, LiveError> {
    let rt = runtime()?;
    let ServeOptions { seed, time_scale, listen, limits } = opts;
    let metrics = rt.block_on(async {
        let clock = clock::Clock::start(time_scale);
        let mut trace = NoTrace;
        let mode = Mode::Proxy { listen, limits, backends };
        let (mut world, mut rx) = world::World::new(mode, scenario, seed, clock, &mut trace)?;
        let mut stop = std::pin::pin!(stop);
        let stopped = armed(stop.as_mut()).await;
        ready(world.proxy_addr());
        // A stop that came before the banner is not polled again.
        world
            .run(&mut rx, async move {
                if !stopped {
                    stop.await
                }
            })
            .await;
        Ok::<_, io::Error>(world.proxy_metrics())
    });
    rt.shutdown_background();
    Ok(metrics?)
}
