//! A backend instance as an HTTP server: `POST /<class>` runs a job,
//! `GET /health` answers the proxy's probe.
//!
//! A cached class's response says whether it may be stored, as an origin
//! does: `Cache-Control: private` for the objects the class's cache policy
//! finds uncacheable (a real Varnish then keeps a hit-for-miss marker); the
//! model's own proxy asks the same policy directly.
//!
//! The server only translates: a request becomes a message to the world,
//! where the backend model admits, queues or refuses the job, and the model's
//! answers (refused, chunk, complete) come back as the response's status line
//! and body chunks. A connection the caller drops becomes an abandon.

use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::task::{Context, Poll};

use bytes::Bytes;
use http_body::Frame;
use http_body_util::BodyExt;
use hyper::body::Incoming;
use hyper::header::HeaderValue;
use hyper::{Request, Response, StatusCode};
use tokio::sync::{mpsc, oneshot};

use super::clock::Clock;
use super::http::{Body, Methods, whole};
use super::wire;
use super::world::{Msg, Tx};
use crate::model::proxy::{BackendEvent, CachePolicy};
use crate::time::SimDuration;

/// What one instance's server knows: which slot it listens for, and where
/// to send what it hears.
#[derive(Clone)]
pub struct Instance {
    pub pool: u16,
    pub slot: u32,
    pub world: Tx,
    pub tokens: Arc<AtomicU64>,
    pub classes: Arc<[String]>,
    /// Each class's cache policy (none for a passed class).
    pub caches: Arc<[Option<CachePolicy>]>,
    pub tiers: Arc<[String]>,
    pub clock: Clock,
    pub max_work: SimDuration,
}

impl Instance {
    pub async fn handle(self, req: Request<Incoming>) -> Result<Response<Body>, io::Error> {
        let path = req.uri().path();
        let takes = if path == "/health" { Methods::PAGE } else { Methods::JOB };
        if !takes.allow(req.method()) {
            return Ok(takes.refuse());
        }
        if path == "/health" {
            let (reply, answer) = oneshot::channel();
            let _ = self.world.send(Msg::Health { pool: self.pool, slot: self.slot, reply });
            // No answer (a dead instance): close without a word, as a dead host would.
            let good = answer.await.map_err(|_| io::Error::other("no probe answer"))?;
            let status = if good { StatusCode::OK } else { StatusCode::SERVICE_UNAVAILABLE };
            return Ok(text(status, if good { "ok\n" } else { "unhealthy\n" }));
        }
        let Some(class) = self.classes.iter().position(|c| path.strip_prefix('/') == Some(c.as_str())) else {
            return Ok(text(StatusCode::NOT_FOUND, "no such class\n"));
        };
        let work = match wire::work(req.headers(), self.max_work) {
            Ok(w) => w,
            Err(why) => return Ok(owned_text(StatusCode::BAD_REQUEST, why)),
        };
        let tier = wire::tier(req.headers(), &self.tiers);
        let patience = wire::duration(req.headers(), wire::PATIENCE);
        let private = self.caches.get(class).copied().flatten().is_some_and(|policy| {
            wire::object(req.uri().query()).is_some_and(|o| !policy.is_cacheable(class as u16, o))
        });
        let token = self.tokens.fetch_add(1, Ordering::Relaxed);
        let (frames, mut rx) = mpsc::unbounded_channel();
        let gone = Gone { token, world: self.world.clone(), armed: true };
        let _ = self.world.send(Msg::Job {
            pool: self.pool,
            slot: self.slot,
            class: class as u16,
            work,
            tier,
            patience,
            token,
            frames,
        });
        match rx.recv().await {
            // The model has no answer and no job: nothing listens here.
            None => Err(io::Error::other("instance not serving")),
            Some(BackendEvent::Refused { outcome, retry_after }) => {
                let mut r = text(wire::status(outcome), "the backend cannot take this job now\n");
                wire::put_failure(r.headers_mut(), outcome, retry_after, &self.clock);
                Ok(r)
            }
            Some(first @ (BackendEvent::Chunk { started_at } | BackendEvent::Complete { started_at })) => {
                let done = matches!(first, BackendEvent::Complete { .. });
                let body = JobBody { first: Some(wire::chunk()), rx, gone, done };
                let mut r = Response::new(body.boxed());
                r.headers_mut().insert(wire::STARTED, HeaderValue::from(started_at.as_nanos() / 1000));
                if private {
                    r.headers_mut().insert(hyper::header::CACHE_CONTROL, HeaderValue::from_static("private"));
                }
                Ok(r)
            }
            // An injected connect failure: drop the connection without a word.
            Some(BackendEvent::ConnectFailed) => Err(io::Error::other("connection failed (injected fault)")),
            Some(BackendEvent::Accepted { .. }) => Err(io::Error::other("unexpected backend event")),
        }
    }
}

/// [`text`] with a body made at run time.
pub fn owned_text(status: StatusCode, body: String) -> Response<Body> {
    let mut r = Response::new(http_body_util::Full::new(Bytes::from(body)).map_err(|e| match e {}).boxed());
    *r.status_mut() = status;
    r.headers_mut().insert(hyper::header::CONTENT_TYPE, HeaderValue::from_static("text/plain; charset=utf-8"));
    r
}

pub fn text(status: StatusCode, body: &'static str) -> Response<Body> {
    let mut r = Response::new(whole(body));
    *r.status_mut() = status;
    r.headers_mut().insert(hyper::header::CONTENT_TYPE, HeaderValue::from_static("text/plain; charset=utf-8"));
    r
}

/// Tells the world when the caller stopped listening before the job ended.
struct Gone {
    token: u64,
    world: Tx,
    armed: bool,
}

impl Drop for Gone {
    fn drop(&mut self) {
        if self.armed {
            let _ = self.world.send(Msg::JobGone { token: self.token });
        }
    }
}

/// A job's response body: one chunk per model chunk event, then the end.
/// If the world drops the job (its instance was killed), the body fails and
/// the connection is cut mid-body, as a dying host's would be.
struct JobBody {
    first: Option<Bytes>,
    rx: mpsc::UnboundedReceiver<BackendEvent>,
    gone: Gone,
    done: bool,
}

impl http_body::Body for JobBody {
    type Data = Bytes;
    type Error = io::Error;

    fn poll_frame(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Result<Frame<Bytes>, io::Error>>> {
        let this = self.get_mut();
        if let Some(b) = this.first.take() {
            return Poll::Ready(Some(Ok(Frame::data(b))));
        }
        if this.done {
            this.gone.armed = false;
            return Poll::Ready(None);
        }
        match this.rx.poll_recv(cx) {
            Poll::Ready(Some(BackendEvent::Chunk { .. })) => Poll::Ready(Some(Ok(Frame::data(wire::chunk())))),
            Poll::Ready(Some(BackendEvent::Complete { .. })) => {
                this.done = true;
                Poll::Ready(Some(Ok(Frame::data(wire::chunk()))))
            }
            Poll::Ready(_) => Poll::Ready(Some(Err(io::Error::other("the instance lost the job")))),
            Poll::Pending => Poll::Pending,
        }
    }
}
