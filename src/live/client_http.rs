//! One client attempt as a real HTTP request to the proxy. The client model
//! decided to send it; its answer (status, cause, Retry-After) goes back to
//! the model as a response. The client's own timeout is the model's timer,
//! so a late answer is simply one the model no longer listens for.

use std::net::SocketAddr;
use std::sync::Arc;

use bytes::Bytes;
use http_body_util::{BodyExt, Empty};
use hyper::Request;

use super::clock::Clock;
use super::http::HttpClient;
use super::wire;
use super::world::{Msg, Tx};
use crate::model::client::{AttemptRef, JobSpec, Response};
use crate::model::outcome::Outcome;

/// Where an attempt goes and whom it is from.
pub struct Target {
    pub proxy: SocketAddr,
    pub class: Arc<str>,
    pub swarm: Arc<str>,
}

pub async fn attempt(client: HttpClient, world: Tx, clock: Clock, to: Target, from: AttemptRef, job: JobSpec) {
    let Target { proxy, class, swarm } = to;
    // The object is part of the URL, as a cache key is.
    let query = job.object.map_or(String::new(), |o| format!("?{}={o}", wire::OBJECT));
    let req = Request::post(format!("http://{proxy}/{class}{query}"))
        .header(wire::WORK, job.work.as_micros())
        .header(wire::SWARM, &*swarm)
        .header(wire::MEASURED, if job.measured { "1" } else { "0" })
        .body(Empty::<Bytes>::new())
        .expect("a valid request");
    let response = match client.request(req).await {
        Ok(r) => {
            let outcome = wire::outcome(r.status(), r.headers());
            let retry_after = wire::retry_after(r.headers(), &clock);
            let work_started = wire::micros(r.headers(), wire::STARTED).map(wire::instant);
            match r.into_body().collect().await {
                Ok(_) if outcome == Outcome::Ok => Response { outcome, retry_after: None, work_started },
                Ok(_) => Response::failed(outcome, retry_after),
                // Cut mid-body: the client got no image.
                Err(_) => Response::failed(Outcome::ConnectError, None),
            }
        }
        Err(_) => Response::failed(Outcome::ConnectError, None),
    };
    let _ = world.send(Msg::Answer { to: from, response });
}
