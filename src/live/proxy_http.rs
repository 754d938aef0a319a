//! The proxy as an HTTP server in front of the backend instances, and the
//! fetch and probe tasks it sends to them.
//!
//! Every decision (which instance, when a fetch times out, whether VCL
//! retries, which Retry-After) is the proxy model's, taken in the world; this
//! module turns a client's request into a message, the model's answer into
//! Varnish's response, and a backend's response into the model's events.

use std::io;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use bytes::Bytes;
use http_body_util::{BodyExt, Empty};
use hyper::body::Incoming;
use hyper::ext::ReasonPhrase;
use hyper::header::{CONTENT_TYPE, HeaderValue};
use hyper::{Request, Response, StatusCode};
use tokio::sync::oneshot;

use super::backend_http::text;
use super::clock::Clock;
use super::http::{Body, HttpClient, Methods, whole};
use super::wire;
use super::world::{Msg, Tx};
use crate::model::client::Response as Answer;
use crate::model::outcome::Outcome;
use crate::model::proxy::BackendEvent;
use crate::time::SimDuration;

/// The proxy's front: what it needs to turn requests into messages.
#[derive(Clone)]
pub struct Front {
    pub world: Tx,
    pub classes: Arc<[String]>,
    pub swarms: Arc<[String]>,
    pub tiers: Arc<[String]>,
    pub chunks: Arc<[u32]>,
    pub xids: Arc<AtomicU64>,
    pub clock: Clock,
    pub max_work: SimDuration,
}

impl Front {
    pub async fn handle(self, req: Request<Incoming>) -> Result<Response<Body>, io::Error> {
        let path = req.uri().path();
        let Some(class) = self.classes.iter().position(|c| path.strip_prefix('/') == Some(c.as_str())) else {
            return match path {
                "/" | "/metrics" if !Methods::PAGE.allow(req.method()) => Ok(Methods::PAGE.refuse()),
                "/" | "/metrics" => self.status(path == "/").await,
                _ => Ok(text(StatusCode::NOT_FOUND, "no such class; try /, /metrics or /<class>\n")),
            };
        };
        if !Methods::JOB.allow(req.method()) {
            return Ok(Methods::JOB.refuse());
        }
        let object = wire::object(req.uri().query());
        let h = req.headers();
        let work = match wire::work(h, self.max_work) {
            Ok(w) => w,
            Err(why) => return Ok(super::backend_http::owned_text(StatusCode::BAD_REQUEST, why)),
        };
        let measured = h.get(wire::MEASURED).map(|v| v.as_bytes() == b"1");
        let named = h.get(wire::SWARM).and_then(|v| self.swarms.iter().position(|s| s.as_bytes() == v.as_bytes()));
        let swarm = named.unwrap_or(self.swarms.len()) as u16;
        let tier = wire::tier(h, &self.tiers);
        let patience = wire::duration(h, wire::PATIENCE);
        let (reply, answer) = oneshot::channel();
        let _ =
            self.world.send(Msg::Attempt { class: class as u16, swarm, work, measured, tier, patience, object, reply });
        // No answer: the proxy refused the session (max_sessions), or is shutting down.
        let a = answer.await.map_err(|_| io::Error::other("session refused"))?;
        if a.outcome == Outcome::ConnectError {
            return Err(io::Error::other("session refused"));
        }
        Ok(self.render(class, a))
    }

    /// `/metrics`, or `/` (the same numbers as a page).
    async fn status(&self, page: bool) -> Result<Response<Body>, io::Error> {
        let (reply, answer) = oneshot::channel();
        let _ = self.world.send(Msg::ProxyMetrics { reply });
        let metrics = answer.await.map_err(|_| io::Error::other("stopping"))?;
        Ok(super::status::respond(&metrics, page, "stampede proxy"))
    }

    fn render(&self, class: usize, a: Answer) -> Response<Body> {
        let mut r = match a.outcome {
            Outcome::Ok => {
                let n = self.chunks[class] as usize * wire::CHUNK_BYTES;
                let mut r = Response::new(whole(vec![b'.'; n]));
                if let Some(s) = a.work_started {
                    r.headers_mut().insert(wire::STARTED, HeaderValue::from(s.as_nanos() / 1000));
                }
                r.headers_mut().insert(CONTENT_TYPE, HeaderValue::from_static("image/png"));
                r
            }
            Outcome::Status503(cause) if wire::is_synthetic(cause) => {
                let xid = self.xids.fetch_add(1, Ordering::Relaxed);
                let mut r = Response::new(whole(wire::guru_meditation(xid)));
                *r.status_mut() = StatusCode::SERVICE_UNAVAILABLE;
                r.extensions_mut().insert(ReasonPhrase::from_static(b"Backend fetch failed"));
                r.headers_mut().insert(CONTENT_TYPE, HeaderValue::from_static("text/html; charset=utf-8"));
                r
            }
            // The backend's own answer passes through.
            other => text(wire::status(other), "the backend cannot take this job now\n"),
        };
        wire::put_failure(r.headers_mut(), a.outcome, a.retry_after, &self.clock);
        r
    }
}

/// Where a fetch goes and what it asks.
pub struct FetchJob {
    pub fetch: u64,
    pub generation: u32,
    pub addr: SocketAddr,
    pub class: Arc<str>,
    pub work: SimDuration,
    pub chunks: u32,
    /// The tier the request travels with, by name.
    pub tier: Arc<str>,
    pub patience: Option<SimDuration>,
}

/// One backend fetch: sends the job and reports the backend's answers as
/// model events. A connection lost mid-body reports nothing: the model's
/// between-bytes timer decides, as it would for a silent backend.
pub async fn fetch(client: HttpClient, world: Tx, clock: Clock, job: FetchJob) {
    let event = |event| {
        let _ = world.send(Msg::Fetch { fetch: job.fetch, generation: job.generation, event });
    };
    let mut req = Request::post(format!("http://{}/{}", job.addr, job.class));
    if let Some(p) = job.patience {
        req = req.header(wire::PATIENCE, p.as_micros());
    }
    let req = req
        .header(wire::WORK, job.work.as_micros())
        .header(wire::TIER, &*job.tier)
        .body(Empty::<Bytes>::new())
        .expect("a valid request");
    let resp = match client.request(req).await {
        Ok(r) => r,
        Err(_) => return event(BackendEvent::ConnectFailed),
    };
    let (status, h) = (resp.status(), resp.headers());
    if status != StatusCode::OK {
        let outcome = wire::outcome(status, h);
        event(BackendEvent::Refused { outcome, retry_after: wire::retry_after(h, &clock) });
        let _ = resp.into_body().collect().await;
        return;
    }
    let started_at = wire::micros(h, wire::STARTED).map_or_else(|| clock.now(), wire::instant);
    let mut body = resp.into_body();
    let (mut bytes, mut chunks) = (0usize, 0u32);
    while let Some(Ok(frame)) = body.frame().await {
        let Some(data) = frame.data_ref() else { continue };
        bytes += data.len();
        while chunks < job.chunks && (chunks as usize + 1) * wire::CHUNK_BYTES <= bytes {
            chunks += 1;
            if chunks == job.chunks {
                event(BackendEvent::Complete { started_at });
                // Read to the end so the connection goes back to the pool.
                while let Some(Ok(_)) = body.frame().await {}
                return;
            }
            event(BackendEvent::Chunk { started_at });
        }
    }
}

/// One health probe; no answer (refused, reset) reports nothing, and the
/// model's probe timeout counts it as bad.
pub async fn probe(client: HttpClient, world: Tx, addr: SocketAddr, pool: u16, inst: u64, seq: u32) {
    let req = Request::get(format!("http://{addr}/health")).body(Empty::<Bytes>::new()).expect("a valid request");
    if let Ok(r) = client.request(req).await {
        let good = r.status().is_success();
        let _ = r.into_body().collect().await;
        let _ = world.send(Msg::Probe { pool, inst, seq, good });
    }
}
