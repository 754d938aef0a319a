//! The control port of `serve backend`: the status page (`/`), `/metrics`,
//! and `/chaos`, where an operator strikes the running backend by hand.
//!
//! `GET /chaos` lists the schedule (the scenario's events and the ones
//! posted since) with run times and states; `POST /chaos` adds one event,
//! its body one `[[chaos]]` entry of the scenario format (`at` left out:
//! now); `DELETE /chaos` ends every window open now. The rules are the
//! models': the event is resolved by the scenario's own checks and the
//! backend model schedules it; this port only carries the request there.

use std::fmt::Write;
use std::io;

use http_body_util::{BodyExt, LengthLimitError, Limited};
use hyper::body::Incoming;
use hyper::header::{CONTENT_LENGTH, CONTENT_TYPE, HeaderValue};
use hyper::{Method, Request, Response, StatusCode};
use tokio::sync::oneshot;

use super::http::{Body, Methods, whole};
use super::status;
use super::world::{ChaosAsk, Msg, Tx};
use crate::model::chaos::ChaosEvent;
use crate::scenario::Scenario;
use crate::scenario::posted::MAX_BODY;
use crate::time::{SimDuration, SimTime};

/// Longest a `POST /chaos` body may take to arrive, as long as a request
/// head may (`http::Limits`).
const BODY_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(10);

#[derive(Clone)]
pub struct Control {
    pub world: Tx,
}

impl Control {
    pub async fn handle(self, req: Request<Incoming>) -> Result<Response<Body>, io::Error> {
        match (req.uri().path(), req.method()) {
            ("/" | "/metrics", &Method::GET | &Method::HEAD) => {
                let page = req.uri().path() == "/";
                let text = self.ask(|reply| Msg::Metrics { reply }).await?;
                Ok(status::respond(&text, page, "stampede backend"))
            }
            ("/chaos", &Method::GET | &Method::HEAD) => self.chaos(ChaosAsk::List).await,
            ("/chaos", &Method::DELETE) => self.chaos(ChaosAsk::End).await,
            ("/chaos", &Method::POST) => {
                let too_large = || {
                    let why = format!("the body is one chaos entry, at most {MAX_BODY} bytes\n");
                    Ok(text(StatusCode::PAYLOAD_TOO_LARGE, why))
                };
                let stated = req.headers().get(CONTENT_LENGTH).and_then(|v| v.to_str().ok()?.parse::<u64>().ok());
                if stated.is_some_and(|n| n > MAX_BODY as u64) {
                    return too_large();
                }
                // A client that sends its body a byte at a time holds a
                // connection no longer than one that is slow with its head.
                let read = tokio::time::timeout(BODY_TIMEOUT, Limited::new(req.into_body(), MAX_BODY).collect());
                let body = match read.await {
                    Ok(Ok(b)) => b.to_bytes(),
                    Ok(Err(e)) if e.downcast_ref::<LengthLimitError>().is_some() => return too_large(),
                    Ok(Err(e)) => {
                        return Ok(text(StatusCode::BAD_REQUEST, format!("the body could not be read: {e}\n")));
                    }
                    Err(_) => {
                        let why = format!("the body did not arrive within {}s\n", BODY_TIMEOUT.as_secs());
                        return Ok(text(StatusCode::REQUEST_TIMEOUT, why));
                    }
                };
                match String::from_utf8(body.to_vec()) {
                    Ok(body) => self.chaos(ChaosAsk::Add(body)).await,
                    Err(_) => Ok(text(StatusCode::BAD_REQUEST, "the body is not UTF-8 text\n".into())),
                }
            }
            ("/chaos", _) => Ok(Methods::CHAOS.refuse()),
            ("/" | "/metrics", _) => Ok(Methods::PAGE.refuse()),
            _ => Ok(text(StatusCode::NOT_FOUND, "try /, /metrics or /chaos\n".into())),
        }
    }

    async fn chaos(&self, ask: ChaosAsk) -> Result<Response<Body>, io::Error> {
        let added = matches!(ask, ChaosAsk::Add(_));
        Ok(match self.ask(|reply| Msg::Chaos { ask, reply }).await? {
            Ok(said) => text(if added { StatusCode::CREATED } else { StatusCode::OK }, said),
            Err(why) => text(StatusCode::BAD_REQUEST, why),
        })
    }

    async fn ask<T>(&self, msg: impl FnOnce(oneshot::Sender<T>) -> Msg) -> Result<T, io::Error> {
        let (reply, answer) = oneshot::channel();
        let _ = self.world.send(msg(reply));
        answer.await.map_err(|_| io::Error::other("stopping"))
    }
}

fn text(status: StatusCode, body: String) -> Response<Body> {
    let mut r = Response::new(whole(body));
    *r.status_mut() = status;
    r.headers_mut().insert(CONTENT_TYPE, HeaderValue::from_static("text/plain; charset=utf-8"));
    r
}

/// One event as the listing and the answer to a POST show it: number,
/// what, where, window in run time, state at `now`.
pub fn describe(sc: &Scenario, i: usize, e: &ChaosEvent, now: SimTime) -> String {
    let (start, end) = e.window();
    let subject = match e.action.pool() {
        Some(p) => format!("pool {}", sc.pools[p].name),
        None => "clients".to_string(),
    };
    let state = match () {
        _ if e.active_at(now) => "open",
        _ if start > now => "to come",
        _ if e.duration.is_none() => "struck",
        _ => "over",
    };
    let run = |t: SimTime| -> SimDuration { t - SimTime::ZERO };
    let window = match e.duration {
        Some(_) => format!("{} to {}", run(start), run(end)),
        None => format!("at {}", run(start)),
    };
    format!("#{i} {} on {subject}, {window} ({state})", e.label())
}

/// `GET /chaos`: the whole schedule at `now`.
pub fn listing(sc: &Scenario, events: &[ChaosEvent], now: SimTime) -> String {
    let mut out = format!("run time {}; {} chaos event(s)\n", now - SimTime::ZERO, events.len());
    for (i, e) in events.iter().enumerate() {
        let _ = writeln!(out, "{}", describe(sc, i, e, now));
    }
    out
}
