//! The ceiling for `stampede load` with hyper: the smallest closed-loop
//! hyper 1.x client, with no model, no timers and no statistics. One
//! single-threaded runtime per thread; on each, its share of the connections,
//! each a task that sends the request `stampede load` sends (same path and
//! headers) as soon as the last answer's body is read. Prints requests/s.
//! Run by benches/load/vs-wrk.sh beside wrk and `stampede load`.
//!   bare_hyper_client HOST:PORT CONNECTIONS THREADS SECONDS

#![allow(clippy::print_stdout)] // a tool: its output is its figure

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use bytes::Bytes;
use http_body_util::{BodyExt, Empty};
use hyper::Request;
use hyper::header::{HOST, HeaderName, HeaderValue};
use hyper_util::rt::TokioIo;

// Constants, so that no name is parsed per request.
const WORK: HeaderName = HeaderName::from_static("x-stampede-work-us");
const SWARM: HeaderName = HeaderName::from_static("x-stampede-swarm");
const TIER: HeaderName = HeaderName::from_static("x-stampede-tier");
const MEASURED: HeaderName = HeaderName::from_static("x-stampede-measured");

fn arg<T: std::str::FromStr>(i: usize, default: T) -> T {
    std::env::args().nth(i).and_then(|a| a.parse().ok()).unwrap_or(default)
}

async fn connection(host: Arc<str>, until: Instant, sent: Arc<AtomicU64>) -> hyper::Result<()> {
    let stream = tokio::net::TcpStream::connect(&*host).await.expect("the server listens");
    stream.set_nodelay(true).expect("nodelay");
    let (mut sender, conn) = hyper::client::conn::http1::handshake(TokioIo::new(stream)).await?;
    tokio::spawn(conn);
    let host = HeaderValue::from_str(&host).expect("a host header");
    let mut n = 0;
    while Instant::now() < until {
        let mut req = Request::new(Empty::<Bytes>::new());
        *req.method_mut() = hyper::Method::POST;
        *req.uri_mut() = hyper::Uri::from_static("/hello");
        let h = req.headers_mut();
        h.insert(HOST, host.clone());
        h.insert(WORK, HeaderValue::from_static("1000"));
        h.insert(SWARM, HeaderValue::from_static("wrk_like"));
        h.insert(TIER, HeaderValue::from_static("default"));
        h.insert(MEASURED, HeaderValue::from_static("1"));
        sender.ready().await?;
        let mut body = sender.send_request(req).await?.into_body();
        while let Some(frame) = body.frame().await {
            frame?;
        }
        n += 1;
    }
    sent.fetch_add(n, Ordering::Relaxed);
    Ok(())
}

fn main() {
    let host: Arc<str> = Arc::from(std::env::args().nth(1).unwrap_or_else(|| "127.0.0.1:18090".into()));
    let (connections, threads, secs): (usize, usize, u64) = (arg(2, 64), arg(3, 2), arg(4, 10));
    let sent = Arc::new(AtomicU64::new(0));
    let start = Instant::now();
    let until = start + Duration::from_secs(secs);
    let workers: Vec<_> = (0..threads)
        .map(|t| {
            let (host, sent) = (host.clone(), sent.clone());
            // Connections split as evenly as they go.
            let mine = connections / threads + usize::from(t < connections % threads);
            std::thread::spawn(move || {
                let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("a runtime");
                rt.block_on(async move {
                    let mut set = tokio::task::JoinSet::new();
                    for _ in 0..mine {
                        set.spawn(connection(host.clone(), until, sent.clone()));
                    }
                    while set.join_next().await.is_some() {}
                });
            })
        })
        .collect();
    for w in workers {
        w.join().expect("a worker");
    }
    println!("{:.0}", sent.load(Ordering::Relaxed) as f64 / start.elapsed().as_secs_f64());
}
