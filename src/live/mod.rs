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
mod metrics;
mod proxy_http;
pub mod wire;
mod world;

use std::future::Future;
use std::io;
use std::net::SocketAddr;

use hyper::body::Incoming;
use hyper::header::{CONTENT_TYPE, HeaderValue};
use hyper::{Request, Response, StatusCode};
use tokio::sync::oneshot;

use crate::engine::{NoTrace, Run};
use crate::scenario::Scenario;
use world::{Mode, Msg, Tx};

pub use clock::{MAX_TIME_SCALE, MIN_TIME_SCALE};
pub use http::Limits;

/// Why a live run could not finish.
#[derive(Debug, thiserror::Error)]
pub enum LiveError {
    #[error("live engine: {0}")]
    Io(#[from] io::Error),
}

/// Runs `scenario` with `seed` in real time compressed by `time_scale`
/// (simulated seconds per real second), on loopback.
pub fn run(scenario: &Scenario, seed: u64, time_scale: f64) -> Result<Run, LiveError> {
    let rt = runtime()?;
    let started = std::time::Instant::now();
    let run = rt.block_on(async {
        let clock = clock::Clock::start(time_scale);
        let mut trace = NoTrace;
        let (mut world, mut rx) = world::World::new(Mode::Stack, scenario, seed, clock, &mut trace)?;
        world.run(&mut rx, std::future::pending()).await;
        world.finish(started.elapsed().as_secs_f64())
    });
    // In-flight requests end with the run: their tasks are dropped, not awaited.
    rt.shutdown_background();
    Ok(run?)
}

fn runtime() -> io::Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_multi_thread().enable_all().build()
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
    seed: u64,
    time_scale: f64,
    listen: SocketAddr,
    limits: Limits,
    ready: impl FnOnce(&Serving),
    stop: impl Future<Output = ()>,
) -> Result<Served, LiveError> {
    let rt = runtime()?;
    let started = std::time::Instant::now();
    let served = rt.block_on(async {
        let clock = clock::Clock::start(time_scale);
        let control = http::bind(listen)?;
        let control_addr = control.local_addr()?;
        let instances = SocketAddr::new(listen.ip(), listen.port());
        let mut trace = NoTrace;
        let mode = Mode::Backend { listen: instances, limits };
        let (mut world, mut rx) = world::World::new(mode, scenario, seed, clock, &mut trace)?;
        let page = Control { world: world.sender() };
        tokio::spawn(http::serve(control, limits, move |req| page.clone().handle(req)));
        ready(&Serving { control: control_addr, instances: world.ports() });
        world.run(&mut rx, stop).await;
        let metrics = world.metrics();
        Ok::<_, io::Error>(Served { metrics, run: world.finish(started.elapsed().as_secs_f64())? })
    });
    rt.shutdown_background();
    Ok(served?)
}

/// The control port of `serve backend`.
#[derive(Clone)]
struct Control {
    world: Tx,
}

impl Control {
    async fn handle(self, req: Request<Incoming>) -> Result<Response<http::Body>, io::Error> {
        let page = match req.uri().path() {
            "/metrics" => false,
            "/" => true,
            _ => return Ok(backend_http::text(StatusCode::NOT_FOUND, "try / or /metrics\n")),
        };
        let (reply, answer) = oneshot::channel();
        let _ = self.world.send(Msg::Metrics { reply });
        let text = answer.await.map_err(|_| io::Error::other("stopping"))?;
        let (body, kind) = if page {
            (status_page(&text), "text/html; charset=utf-8")
        } else {
            (text, "text/plain; version=0.0.4; charset=utf-8")
        };
        let mut r = Response::new(http::whole(body));
        r.headers_mut().insert(CONTENT_TYPE, HeaderValue::from_static(kind));
        Ok(r)
    }
}

/// A page that refreshes itself every 2 s and shows every series of `/metrics`.
fn status_page(metrics: &str) -> String {
    let mut rows = String::new();
    for line in metrics.lines().filter(|l| !l.starts_with('#')) {
        let (series, value) = line.rsplit_once(' ').unwrap_or((line, ""));
        let series = series.replace('&', "&amp;").replace('<', "&lt;");
        rows.push_str(&format!("<tr><td>{series}</td><td class=n>{value}</td></tr>\n"));
    }
    format!(
        "<!DOCTYPE html>\n<html><head><meta charset=utf-8><meta http-equiv=refresh content=2>\
         <title>stampede backend</title><style>body{{font:14px system-ui,sans-serif;margin:2em}}\
         td{{padding:2px 12px}}.n{{text-align:right;font-variant-numeric:tabular-nums}}</style></head>\
         <body><h1>stampede backend</h1><table>\n{rows}</table></body></html>\n"
    )
}
