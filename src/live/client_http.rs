//! One client attempt as a real HTTP request: to the in-process proxy of a
//! live run, or to a target of `stampede load`. The client model decided to
//! send it; its answer (status, cause, Retry-After) goes back to the model as
//! a response, with what the wire saw beside it. The client's own timeout is
//! the model's timer, so a late answer is simply one the model no longer
//! listens for.

use std::collections::BTreeSet;
use std::future::Future;
use std::sync::{Arc, Mutex, OnceLock};
use std::task::{Context, Poll};
use std::time::Instant;

use bytes::Bytes;
use http_body_util::{BodyExt, Empty};
use hyper::header::{HOST, HeaderMap, HeaderName, HeaderValue};
use hyper::{Request, StatusCode, Uri};

use super::clock::Clock;
use super::conns::{Conns, SendError};
use super::in_flight::{InFlight, Ticket};
use super::wire;
use crate::metrics::wire::WireAttempt;
use crate::model::client::{AttemptRef, JobSpec, Response};
use crate::model::outcome::Outcome;

/// How long after the client's timeout its connection is closed: the
/// model's timer decides the outcome; this only frees the socket.
pub const HANG_UP_GRACE: std::time::Duration = std::time::Duration::from_millis(100);

/// Where an attempt goes and whom it is from, built once per swarm and
/// class ([`Endpoint::to`]) so an attempt's request only clones its parts.
#[derive(Clone, Debug)]
pub struct Target {
    /// `host:port`, to connect to.
    pub host: Arc<str>,
    /// `/base/<class>`.
    pub path: Uri,
    /// The headers every attempt from here carries, by tier rank and by
    /// whether it is measured: cloning one hashes nothing, inserting each
    /// header would.
    headers: Vec<[HeaderMap; 2]>,
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
        // Not interned: a live run's proxy has a new port each run.
        let host_header = HeaderValue::from_str(host).unwrap_or(HeaderValue::from_static("?"));
        Endpoint { host: Arc::from(host), host_header, base: base.to_string() }
    }

    /// Where `class` goes from `swarm`, for each of the `tiers` (by rank).
    pub fn to(&self, class: &str, swarm: &str, tiers: &[HeaderValue]) -> Target {
        let path = format!("{}/{class}", self.base);
        let swarm = header_value(swarm);
        // A scenario always names its tiers; should none be given, one
        // template keeps every request sendable.
        let unnamed = [HeaderValue::from_static("?")];
        let tiers = if tiers.is_empty() { &unnamed[..] } else { tiers };
        let headers = tiers
            .iter()
            .map(|tier| {
                [false, true].map(|measured| {
                    let mut h = HeaderMap::with_capacity(6);
                    h.insert(HOST, self.host_header.clone());
                    // Set per request; here so that setting it replaces a
                    // value instead of growing the clone (cloned at its length).
                    h.insert(WORK, HeaderValue::from_static("0"));
                    h.insert(SWARM, swarm.clone());
                    h.insert(TIER, tier.clone());
                    h.insert(MEASURED, HeaderValue::from_static(if measured { "1" } else { "0" }));
                    h
                })
            })
            .collect();
        Target {
            host: self.host.clone(),
            path: match path.parse::<Uri>() {
                Ok(_) => Uri::from_static(interned(&path)),
                Err(_) => Uri::from_static("/"),
            },
            headers,
        }
    }
}

/// Scenario names are plain words; anything a header cannot carry becomes `?`.
pub fn header_value(s: &str) -> HeaderValue {
    match HeaderValue::from_str(s) {
        Ok(_) => HeaderValue::from_static(interned(s)),
        Err(_) => HeaderValue::from_static("?"),
    }
}

/// `s` for the rest of the process, kept once however often it is asked
/// for: a header value or path made from it is then cloned and dropped per
/// request without touching a shared count. Only names from the scenario
/// and the target's path come here, so what is kept is bounded by what the
/// process was given, not by how long it runs.
fn interned(s: &str) -> &'static str {
    static KEPT: OnceLock<Mutex<BTreeSet<&'static str>>> = OnceLock::new();
    let mut kept = KEPT.get_or_init(Mutex::default).lock().unwrap_or_else(|e| e.into_inner());
    if let Some(&k) = kept.get(s) {
        return k;
    }
    let k: &'static str = Box::leak(Box::from(s));
    kept.insert(k);
    k
}

const WORK: HeaderName = HeaderName::from_static(wire::WORK);
const SWARM: HeaderName = HeaderName::from_static(wire::SWARM);
const TIER: HeaderName = HeaderName::from_static(wire::TIER);
const PATIENCE: HeaderName = HeaderName::from_static(wire::PATIENCE);
const MEASURED: HeaderName = HeaderName::from_static(wire::MEASURED);
const STARTED: HeaderName = HeaderName::from_static(wire::STARTED);

/// What an attempt heard: for whom, the model's response, what the wire saw.
pub type Answer = (AttemptRef, Response, WireAttempt);

/// The request of one attempt, built in full before anything awaits: the
/// attempt's future then holds the request and not what it was built from.
pub fn request(to: &Target, job: &JobSpec, numbers: &mut Numbers) -> Request<Empty<Bytes>> {
    let mut req = Request::new(Empty::<Bytes>::new());
    *req.method_mut() = hyper::Method::POST;
    // The object is part of the URL, as a cache key is.
    *req.uri_mut() = match job.object {
        Some(o) => format!("{}?{}={o}", to.path, wire::OBJECT).parse().unwrap_or_else(|_| to.path.clone()),
        None => to.path.clone(),
    };
    // A tier the target was not built for cannot be named: the lowest.
    let tiers = &to.headers[usize::from(job.tier).min(to.headers.len() - 1)];
    let h = req.headers_mut();
    *h = tiers[usize::from(job.measured)].clone();
    h.insert(WORK, numbers.value(job.work.as_micros()));
    if let Some(p) = job.patience {
        h.insert(PATIENCE, numbers.value(p.as_micros()));
    }
    req
}

/// Numbers as header values, cut from a shared buffer: `HeaderValue::from`
/// a number allocates twice, once per request. A piece lives until hyper has
/// written its request, so a chunk is freed soon after it is used up.
#[derive(Debug, Default)]
pub struct Numbers {
    buf: bytes::BytesMut,
}

impl Numbers {
    /// Room for this many digits at a time (about 150 requests' work).
    const CHUNK: usize = 1024;

    pub fn value(&mut self, n: u64) -> HeaderValue {
        let mut digits = [0u8; 20];
        let mut i = digits.len();
        let mut rest = n;
        loop {
            i -= 1;
            digits[i] = b'0' + (rest % 10) as u8;
            rest /= 10;
            if rest == 0 {
                break;
            }
        }
        if self.buf.capacity() - self.buf.len() < digits.len() {
            self.buf = bytes::BytesMut::with_capacity(Self::CHUNK);
        }
        self.buf.extend_from_slice(&digits[i..]);
        HeaderValue::from_maybe_shared(self.buf.split().freeze()).unwrap_or(HeaderValue::from_static("0"))
    }
}

/// An attempt ready to go: its request, where to, and when it left.
pub struct Outgoing {
    pub conns: std::rc::Rc<Conns>,
    pub clock: Clock,
    pub host: Arc<str>,
    pub req: Request<Empty<Bytes>>,
    pub sent: Instant,
}

/// What the world keeps beside an attempt in flight: whose it is, and how
/// late it left (to report a hung-up attempt as the wire saw it).
#[derive(Copy, Clone, Debug)]
pub struct Sent {
    pub from: AttemptRef,
    pub lag: std::time::Duration,
}

/// A world's attempts in flight. A trait object because the exchange's
/// future has no name the world's fields could spell.
pub trait Attempts {
    fn start(&mut self, out: Outgoing, sent: Sent) -> Ticket;
    /// The next attempt answered (`None` when none is in flight).
    fn poll_next(&mut self, cx: &mut Context<'_>) -> Poll<Option<Answer>>;
    /// The client gives up on `t` if it is still waiting: its connection
    /// closes, and the wire saw a timeout.
    fn hang_up(&mut self, t: Ticket) -> Option<Answer>;
    fn is_running(&self, t: Ticket) -> bool;
    fn is_empty(&self) -> bool;
}

/// `Mk` is the type of [`exchange`] itself (not a pointer to it), so that
/// the call inlines and its future is written straight into its slot: a
/// future of ~1.2 KB moved per request showed in the profile.
struct Set<F, Mk> {
    set: InFlight<F, Sent>,
    exchange: Mk,
}

impl<F: Future<Output = (Response, WireAttempt)>, Mk: Fn(Outgoing) -> F> Attempts for Set<F, Mk> {
    fn start(&mut self, out: Outgoing, sent: Sent) -> Ticket {
        let exchange = &self.exchange;
        self.set.start(|| exchange(out), sent)
    }
    fn poll_next(&mut self, cx: &mut Context<'_>) -> Poll<Option<Answer>> {
        self.set.poll_next(cx).map(|done| {
            done.map(|(sent, (response, wire))| (sent.from, response, WireAttempt { lag: sent.lag, ..wire }))
        })
    }
    fn hang_up(&mut self, t: Ticket) -> Option<Answer> {
        let sent = self.set.cancel(t)?;
        let wire = WireAttempt { timed_out: true, ..WireAttempt::unanswered(sent.lag) };
        Some((sent.from, Response::failed(Outcome::ClientTimeout, None), wire))
    }
    fn is_running(&self, t: Ticket) -> bool {
        self.set.is_running(t)
    }
    fn is_empty(&self) -> bool {
        self.set.is_empty()
    }
}

/// An empty set of attempts in flight.
pub fn attempts() -> Box<dyn Attempts> {
    Box::new(Set { set: InFlight::default(), exchange })
}

/// What the model needs of an answer's head.
struct Head {
    status: StatusCode,
    outcome: Outcome,
    retry_after: Option<crate::time::SimDuration>,
    work_started: Option<crate::time::SimTime>,
}

impl Head {
    fn read(head: &hyper::http::response::Parts, clock: &Clock) -> Head {
        let outcome = wire::outcome(head.status, &head.headers);
        Head {
            status: head.status,
            outcome,
            // Read only where the model will: a success has no Retry-After.
            retry_after: (outcome != Outcome::Ok).then(|| wire::retry_after(&head.headers, clock)).flatten(),
            work_started: wire::micros(&head.headers, &STARTED).map(wire::instant),
        }
    }
}

/// The request and its whole answer (what the wire saw but the lag, which
/// the set fills in).
async fn exchange(out: Outgoing) -> (Response, WireAttempt) {
    let Outgoing { conns, clock, host, req, sent } = out;
    let mut seen = WireAttempt::unanswered(std::time::Duration::ZERO);
    let (answer, lease) = match conns.send(&host, req).await {
        Ok(sent) => sent,
        // To the model both are a connection error (no HTTP status); the
        // wire tells them apart.
        Err(e) => {
            seen.no_answer = e == SendError::NoAnswer;
            return (Response::failed(Outcome::ConnectError, None), seen);
        }
    };
    // The head is read and dropped here: only the body is kept while it streams.
    let (head, body) = answer.into_parts();
    let head = Head::read(&head, &clock);
    seen.status = Some(head.status.as_u16());
    // Only the start of a 503's page is kept (for Varnish's Guru
    // Meditation), boxed as it is rare; other bodies are counted out frame by
    // frame, never gathered.
    let body = if head.status == StatusCode::SERVICE_UNAVAILABLE {
        Box::pin(drain_keeping(body, PAGE_KEPT)).await.map(Some)
    } else {
        drain(body).await.map(|()| None)
    };
    seen.service = sent.elapsed();
    if body.is_ok() {
        lease.give_back();
    }
    let response = match body {
        Ok(_) if head.outcome == Outcome::Ok => {
            Response { outcome: Outcome::Ok, retry_after: None, work_started: head.work_started }
        }
        Ok(page) => {
            seen.varnish_synthetic = page.is_some_and(|p| wire::is_guru_meditation(&p));
            Response::failed(head.outcome, head.retry_after)
        }
        // Cut mid-body: the client got no image.
        Err(_) => {
            seen.truncated = true;
            Response::failed(Outcome::ConnectError, None)
        }
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

/// Bytes of a 503's page kept to recognise Varnish's: its Guru Meditation
/// page is under 1 KiB, a custom synthetic page a few. A target that sends
/// an endless 503 costs no more memory than this.
const PAGE_KEPT: usize = 16 * 1024;

/// Reads a body to its end, keeping at most its first `keep` bytes.
async fn drain_keeping(mut body: hyper::body::Incoming, keep: usize) -> Result<Vec<u8>, hyper::Error> {
    let mut kept = Vec::new();
    while let Some(frame) = body.frame().await {
        if let Ok(data) = frame?.into_data() {
            let room = keep.saturating_sub(kept.len());
            kept.extend_from_slice(&data[..data.len().min(room)]);
        }
    }
    Ok(kept)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_read_as_themselves_across_chunks() {
        let mut numbers = Numbers::default();
        let mut kept = Vec::new();
        // Enough values to use up several chunks, all kept alive at once.
        for n in (0..2_000u64).map(|i| i * i * 7_919).chain([0, 9, 10, u64::MAX]) {
            let v = numbers.value(n);
            assert_eq!(v.to_str().expect("ascii"), n.to_string());
            kept.push((n, v));
        }
        assert!(kept.iter().all(|(n, v)| v.to_str().expect("ascii") == n.to_string()), "no value was overwritten");
    }
}
