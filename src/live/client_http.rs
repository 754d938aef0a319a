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
use hyper::{Request, StatusCode};

use super::clock::Clock;
use super::http::HttpClient;
use super::wire;
use super::world::{Msg, Tx};
use crate::metrics::wire::WireAttempt;
use crate::model::client::{AttemptRef, JobSpec, Response};
use crate::model::outcome::Outcome;

/// How long after the client's timeout its connection is closed: the
/// model's timer decides the outcome; this only frees the socket.
pub const HANG_UP_GRACE: std::time::Duration = std::time::Duration::from_millis(100);

/// Where an attempt goes and whom it is from.
pub struct Target {
    /// `http://host:port[/base]`: the class's path follows.
    pub base: Arc<str>,
    pub class: Arc<str>,
    pub swarm: Arc<str>,
    pub tier: Arc<str>,
}

/// Sends one attempt meant to go out at `intended` (simulated time), and
/// hangs up after `give_up` (real time) without an answer.
#[allow(clippy::too_many_arguments)] // one attempt's whole context; called from one place
pub async fn attempt(
    client: HttpClient,
    world: Tx,
    clock: Clock,
    to: Target,
    from: AttemptRef,
    job: JobSpec,
    intended: crate::time::SimTime,
    give_up: Option<std::time::Duration>,
) {
    let lag = clock.real(clock.now().saturating_since(intended));
    let exchange = exchange(client, clock, to, job, lag);
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
    let _ = world.send(Msg::Answer { to: from, response, wire });
}

/// The request and its whole answer.
async fn exchange(
    client: HttpClient,
    clock: Clock,
    to: Target,
    job: JobSpec,
    lag: std::time::Duration,
) -> (Response, WireAttempt) {
    let Target { base, class, swarm, tier } = to;
    // The object is part of the URL, as a cache key is.
    let query = job.object.map_or(String::new(), |o| format!("?{}={o}", wire::OBJECT));
    let mut req = Request::post(format!("{base}/{class}{query}"));
    if let Some(p) = job.patience {
        req = req.header(wire::PATIENCE, p.as_micros());
    }
    let req = req
        .header(wire::WORK, job.work.as_micros())
        .header(wire::SWARM, &*swarm)
        .header(wire::TIER, &*tier)
        .header(wire::MEASURED, if job.measured { "1" } else { "0" })
        .body(Empty::<Bytes>::new())
        .expect("a valid request");
    let sent = Instant::now();
    let mut seen = WireAttempt::unanswered(lag);
    let response = match client.request(req).await {
        Ok(r) => {
            let status = r.status();
            seen.status = Some(status.as_u16());
            let outcome = wire::outcome(status, r.headers());
            let retry_after = wire::retry_after(r.headers(), &clock);
            let work_started = wire::micros(r.headers(), wire::STARTED).map(wire::instant);
            let body = r.into_body().collect().await;
            seen.service = sent.elapsed();
            match body {
                Ok(_) if outcome == Outcome::Ok => Response { outcome, retry_after: None, work_started },
                Ok(b) => {
                    seen.varnish_synthetic =
                        status == StatusCode::SERVICE_UNAVAILABLE && wire::is_guru_meditation(&b.to_bytes());
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
