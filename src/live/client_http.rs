//! One client attempt as a real HTTP request: to the in-process proxy of a
//! live run, or to a target of `stampede load`. The client model decided to
//! send it; its answer (status, cause, Retry-After) goes back to the model as
//! a response, with what the wire saw beside it. The client's own timeout is
//! the model's timer, so a late answer is simply one the model no longer
//! listens for.

use std::sync::Arc;
use std::time::Instant;

use bytes::Bytes;
use http_body_util::{BodyExt, Empty};
use hyper::header::{HOST, HeaderName, HeaderValue};
use hyper::{Request, StatusCode, Uri};

use super::clock::Clock;
use super::conns::Conns;
use super::wire;
use crate::metrics::wire::WireAttempt;
use crate::model::client::{AttemptRef, JobSpec, Response};
use crate::model::outcome::Outcome;

/// How long after the client's timeout its connection is closed: the
/// model's timer decides the outcome; this only frees the socket.
pub const HANG_UP_GRACE: std::time::Duration = std::time::Duration::from_millis(100);

/// Where an attempt goes and whom it is from, built once per swarm and
/// class ([`Endpoint::to`]) so an attempt only clones it.
#[derive(Clone, Debug)]
pub struct Target {
    /// `host:port`, to connect to.
    pub host: Arc<str>,
    pub host_header: HeaderValue,
    /// `/base/<class>`.
    pub path: Uri,
    pub swarm: HeaderValue,
    pub tier: HeaderValue,
}

/// A target URL split for sending: `http://host:port[/base]`.
#[derive(Clone, Debug)]
pub struct Endpoint {
    host: Arc<str>,
    host_header: HeaderValue,
    base: String,
}

impl Endpoint {
    /// From a URL prefix `http://host:port[/base]` (as [`super::TargetUrl`] writes it).
    pub fn new(prefix: &str) -> Endpoint {
        let rest = prefix.strip_prefix("http://").unwrap_or(prefix);
        let (host, base) = rest.split_at(rest.find('/').unwrap_or(rest.len()));
        Endpoint { host: Arc::from(host), host_header: header_value(host), base: base.to_string() }
    }

    /// Where `class` goes from `swarm` with `tier`'s tag.
    pub fn to(&self, class: &str, swarm: &str, tier: &str) -> Target {
        let path = format!("{}/{class}", self.base);
        Target {
            host: self.host.clone(),
            host_header: self.host_header.clone(),
            path: path.parse().unwrap_or_else(|_| Uri::from_static("/")),
            swarm: header_value(swarm),
            tier: header_value(tier),
        }
    }
}

/// Scenario names are plain words; anything a header cannot carry becomes `?`.
fn header_value(s: &str) -> HeaderValue {
    HeaderValue::from_str(s).unwrap_or(HeaderValue::from_static("?"))
}

const WORK: HeaderName = HeaderName::from_static(wire::WORK);
const SWARM: HeaderName = HeaderName::from_static(wire::SWARM);
const TIER: HeaderName = HeaderName::from_static(wire::TIER);
const PATIENCE: HeaderName = HeaderName::from_static(wire::PATIENCE);
const MEASURED: HeaderName = HeaderName::from_static(wire::MEASURED);
const STARTED: HeaderName = HeaderName::from_static(wire::STARTED);

/// What an attempt heard: for whom, the model's response, what the wire saw.
pub type Answer = (AttemptRef, Response, WireAttempt);

/// Sends one attempt meant to go out at `intended` (simulated time), and
/// hangs up after `give_up` (real time) without an answer. The world polls
/// it among its attempts in flight: no task, no message per attempt.
pub async fn attempt(
    conns: Arc<Conns>,
    clock: Clock,
    to: Target,
    from: AttemptRef,
    job: JobSpec,
    intended: crate::time::SimTime,
    give_up: Option<std::time::Duration>,
) -> Answer {
    let lag = clock.real(clock.now().saturating_since(intended));
    let exchange = exchange(conns, clock, to, job, lag);
    let (response, wire) = match give_up {
        None => exchange.await,
        Some(d) => match tokio::time::timeout(d, exchange).await {
            Ok(answered) => answered,
            Err(_) => {
                let wire = WireAttempt { timed_out: true, ..WireAttempt::unanswered(lag) };
                (Response::failed(Outcome::ClientTimeout, None), wire)
            }
        },
    };
    (from, response, wire)
}

/// The request and its whole answer.
async fn exchange(
    conns: Arc<Conns>,
    clock: Clock,
    to: Target,
    job: JobSpec,
    lag: std::time::Duration,
) -> (Response, WireAttempt) {
    let Target { host, host_header, path, swarm, tier } = to;
    // The object is part of the URL, as a cache key is.
    let uri = match job.object {
        Some(o) => format!("{path}?{}={o}", wire::OBJECT).parse().unwrap_or(path),
        None => path,
    };
    let mut req = Request::new(Empty::<Bytes>::new());
    *req.method_mut() = hyper::Method::POST;
    *req.uri_mut() = uri;
    let h = req.headers_mut();
    h.insert(HOST, host_header);
    if let Some(p) = job.patience {
        h.insert(PATIENCE, HeaderValue::from(p.as_micros()));
    }
    h.insert(WORK, HeaderValue::from(job.work.as_micros()));
    h.insert(SWARM, swarm);
    h.insert(TIER, tier);
    h.insert(MEASURED, HeaderValue::from_static(if job.measured { "1" } else { "0" }));
    let sent = Instant::now();
    let mut seen = WireAttempt::unanswered(lag);
    let response = match conns.send(&host, req).await {
        Ok((r, lease)) => {
            let status = r.status();
            seen.status = Some(status.as_u16());
            let outcome = wire::outcome(status, r.headers());
            // Read only where the model will: a success has no Retry-After.
            let retry_after = (outcome != Outcome::Ok).then(|| wire::retry_after(r.headers(), &clock)).flatten();
            let work_started = wire::micros(r.headers(), &STARTED).map(wire::instant);
            // Only a 503's page is read (for Varnish's Guru Meditation);
            // other bodies are counted out frame by frame, never gathered.
            let unavailable = status == StatusCode::SERVICE_UNAVAILABLE;
            let body = if unavailable {
                r.into_body().collect().await.map(|b| Some(b.to_bytes()))
            } else {
                drain(r.into_body()).await.map(|()| None)
            };
            seen.service = sent.elapsed();
            if body.is_ok() {
                lease.give_back();
            }
            match body {
                Ok(_) if outcome == Outcome::Ok => Response { outcome, retry_after: None, work_started },
                Ok(page) => {
                    seen.varnish_synthetic = page.is_some_and(|p| wire::is_guru_meditation(&p));
                    Response::failed(outcome, retry_after)
                }
                // Cut mid-body: the client got no image.
                Err(_) => {
                    seen.truncated = true;
                    Response::failed(Outcome::ConnectError, None)
                }
            }
        }
        Err(_) => Response::failed(Outcome::ConnectError, None),
    };
    (response, seen)
}

/// Reads a body to its end without keeping it.
async fn drain(mut body: hyper::body::Incoming) -> Result<(), hyper::Error> {
    while let Some(frame) = body.frame().await {
        frame?;
    }
    Ok(())
}
