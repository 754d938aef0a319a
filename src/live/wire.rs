//! What crosses the wire between stampede's clients, proxy and backend: the
//! header names, how an outcome becomes a status line and back, and the
//! bodies (Varnish's synthetic error, the image chunks).
//!
//! A 503 says which of the causes of docs/metrics.md it is in
//! `x-stampede-cause`, so a client can count causes; a foreign client sees an
//! ordinary 503 with `Retry-After` and Varnish's Guru Meditation page.

use bytes::Bytes;
use hyper::StatusCode;
use hyper::header::{HeaderMap, HeaderValue, RETRY_AFTER};

use crate::model::outcome::{Cause, Outcome};
use crate::time::{SimDuration, SimTime};

use super::clock::Clock;

/// The nominal GPU work of a job, in simulated microseconds (set by
/// stampede's clients; a foreign client leaves it out and the backend draws it).
pub const WORK: &str = "x-stampede-work-us";
/// The swarm a request comes from, by name (per-swarm rate limits key on it;
/// a request without it is limited by none).
pub const SWARM: &str = "x-stampede-swarm";
/// The priority tier a request travels with, by name (the backend's tier
/// rules key on it; a request without it, or with a name the scenario does not
/// know, is of the lowest tier).
pub const TIER: &str = "x-stampede-tier";
/// The client's patience in simulated microseconds: how long it waits for
/// its job to leave the backend's queue (absent: forever). A job still queued
/// then is answered 408.
pub const PATIENCE: &str = "x-stampede-patience-us";
/// "1" when the request was offered after the warmup (it counts in the statistics).
pub const MEASURED: &str = "x-stampede-measured";
/// On a 503: its cause, as named in the metrics (`first_byte_timeout`, ...).
pub const CAUSE: &str = "x-stampede-cause";
/// On a 200: when the job began running, in simulated microseconds.
pub const STARTED: &str = "x-stampede-started-us";
/// Retry-After in simulated microseconds (the standard header is in real seconds).
pub const RETRY_AFTER_US: &str = "x-stampede-retry-after-us";

/// The query parameter naming the object a request asks for (`/txt2img?object=42`):
/// with the path, the cache key. Without it a request is passed to the backend.
pub const OBJECT: &str = "object";

/// The object a request's query names, if any.
pub fn object(query: Option<&str>) -> Option<u64> {
    query?.split('&').find_map(|kv| kv.strip_prefix(OBJECT)?.strip_prefix('=')?.parse().ok())
}

/// Every image chunk has this many bytes; the receiver counts chunks by bytes,
/// however TCP splits them.
pub const CHUNK_BYTES: usize = 512;

static CHUNK: [u8; CHUNK_BYTES] = [b'.'; CHUNK_BYTES];

pub fn chunk() -> Bytes {
    Bytes::from_static(&CHUNK)
}

/// The status of an outcome's response.
pub fn status(outcome: Outcome) -> StatusCode {
    match outcome {
        Outcome::Ok => StatusCode::OK,
        Outcome::Status429 => StatusCode::TOO_MANY_REQUESTS,
        // The backend's answer to a job whose client ran out of patience.
        Outcome::ClientTimeout => StatusCode::REQUEST_TIMEOUT,
        Outcome::Status500 => StatusCode::INTERNAL_SERVER_ERROR,
        Outcome::Status502 => StatusCode::BAD_GATEWAY,
        _ => StatusCode::SERVICE_UNAVAILABLE,
    }
}

/// Whether the proxy made this 503 up itself (Varnish's synthetic error), or
/// passes on the backend's own.
pub fn is_synthetic(cause: Cause) -> bool {
    cause.is_synthetic()
}

/// Varnish 7's built-in `vcl_backend_error` page.
pub fn guru_meditation(xid: u64) -> String {
    format!(
        "<!DOCTYPE html>\n<html>\n  <head>\n    <title>503 Backend fetch failed</title>\n  </head>\n  <body>\n    \
         <h1>Error 503 Backend fetch failed</h1>\n    <p>Backend fetch failed</p>\n    <h3>Guru Meditation:</h3>\n    \
         <p>XID: {xid}</p>\n    <hr>\n    <p>Varnish cache server</p>\n  </body>\n</html>\n"
    )
}

/// Whether a body is Varnish's synthetic error page (ours or a real Varnish's).
pub fn is_guru_meditation(body: &[u8]) -> bool {
    body.windows(15).any(|w| w == b"Guru Meditation")
}

/// Sets the headers that describe a failed outcome.
pub fn put_failure(h: &mut HeaderMap, outcome: Outcome, retry_after: Option<SimDuration>, clock: &Clock) {
    if let Outcome::Status503(cause) = outcome {
        h.insert(CAUSE, HeaderValue::from_static(cause.name()));
    }
    if let Some(ra) = retry_after {
        let real = clock.real(ra).as_secs_f64().ceil() as u64;
        h.insert(RETRY_AFTER, HeaderValue::from(real));
        h.insert(RETRY_AFTER_US, HeaderValue::from(ra.as_micros()));
    }
}

/// The outcome a response's status line and headers describe.
pub fn outcome(status: StatusCode, h: &HeaderMap) -> Outcome {
    match status.as_u16() {
        200..=299 => Outcome::Ok,
        429 => Outcome::Status429,
        408 => Outcome::ClientTimeout,
        500 => Outcome::Status500,
        502 => Outcome::Status502,
        _ => {
            let named = h.get(CAUSE).and_then(|v| v.to_str().ok()).and_then(Cause::from_name);
            Outcome::Status503(named.unwrap_or(Cause::Unknown))
        }
    }
}

/// The Retry-After a response asks for, in simulated time: stampede's own
/// microseconds, else the standard header in either of RFC 9110's forms,
/// delay-seconds or an HTTP-date (a date in the past means now).
pub fn retry_after(h: &HeaderMap, clock: &Clock) -> Option<SimDuration> {
    if let Some(us) = micros(h, RETRY_AFTER_US) {
        return Some(SimDuration::from_nanos(us.saturating_mul(1_000)));
    }
    let real = real_retry_after(h.get(RETRY_AFTER)?.to_str().ok()?, std::time::SystemTime::now())?;
    Some(clock.simulated(real))
}

/// A Retry-After value as a real delay from `now`.
pub fn real_retry_after(value: &str, now: std::time::SystemTime) -> Option<std::time::Duration> {
    let value = value.trim();
    if let Ok(secs) = value.parse::<u64>() {
        return Some(std::time::Duration::from_secs(secs));
    }
    // More seconds than a u64 holds is still "wait": as long as can be said.
    if !value.is_empty() && value.bytes().all(|b| b.is_ascii_digit()) {
        return Some(std::time::Duration::from_secs(u64::MAX));
    }
    let at = httpdate::parse_http_date(value).ok()?;
    Some(at.duration_since(now).unwrap_or_default())
}

/// The rank (0 the highest) of the tier a request names, among `tiers`.
pub fn tier(h: &HeaderMap, tiers: &[String]) -> Option<u8> {
    let v = h.get(TIER)?;
    tiers.iter().position(|t| t.as_bytes() == v.as_bytes()).map(|r| r as u8)
}

/// The lowest tier's rank: a request that names no tier gets it.
pub fn lowest_tier(tiers: &[String]) -> u8 {
    tiers.len().saturating_sub(1) as u8
}

/// A duration header in simulated microseconds.
pub fn duration(h: &HeaderMap, name: &str) -> Option<SimDuration> {
    micros(h, name).map(|us| SimDuration::from_nanos(us.saturating_mul(1000)))
}

/// A header holding simulated microseconds. On a hot path, pass a
/// [`hyper::header::HeaderName`] built once: a `&str` is parsed on every call.
/// The GPU work a request asks for in `x-stampede-work-us`: none when absent
/// (the server draws it), an error to answer with 400 when it is not a whole
/// number of microseconds or is above `max`.
pub fn work(h: &HeaderMap, max: SimDuration) -> Result<Option<SimDuration>, String> {
    let Some(v) = h.get(WORK) else { return Ok(None) };
    let us: u64 = v
        .to_str()
        .ok()
        .and_then(|s| s.trim().parse().ok())
        .ok_or_else(|| format!("{WORK}: not a whole number of microseconds\n"))?;
    let max_us = max.as_nanos() / 1000;
    if us > max_us {
        return Err(format!(
            "{WORK}: {us} µs is above the limit of {max_us} µs ({}: `serve --max-work`)\n",
            crate::time::format_secs(max.as_secs_f64())
        ));
    }
    Ok(Some(SimDuration::from_nanos(us * 1000)))
}

pub fn micros(h: &HeaderMap, name: impl hyper::header::AsHeaderName) -> Option<u64> {
    h.get(name)?.to_str().ok()?.parse().ok()
}

pub fn instant(us: u64) -> SimTime {
    SimTime::from_nanos(us.saturating_mul(1_000))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_outcome_survives_the_wire() {
        let clock = Clock::start(10.0);
        for o in Outcome::ALL {
            if matches!(o, Outcome::ConnectError | Outcome::LocalReject | Outcome::Cancelled) {
                continue; // never on the wire: the client makes these up itself
            }
            let mut h = HeaderMap::new();
            let ra = Some(SimDuration::from_secs(5));
            put_failure(&mut h, o, ra, &clock);
            assert_eq!(outcome(status(o), &h), o);
            if o != Outcome::Ok {
                assert_eq!(retry_after(&h, &clock), ra);
                assert_eq!(h[RETRY_AFTER], "1", "5 simulated seconds at scale 10, rounded up");
            }
        }
    }

    #[test]
    fn a_foreign_503_has_an_unknown_cause_and_a_retry_after_in_real_seconds() {
        let clock = Clock::start(2.0);
        let mut h = HeaderMap::new();
        h.insert(RETRY_AFTER, HeaderValue::from_static("3"));
        assert_eq!(outcome(StatusCode::SERVICE_UNAVAILABLE, &h), Outcome::Status503(Cause::Unknown));
        assert_eq!(outcome(StatusCode::GATEWAY_TIMEOUT, &h), Outcome::Status503(Cause::Unknown));
        assert_eq!(outcome(StatusCode::BAD_GATEWAY, &h), Outcome::Status502, "a 502 is its own outcome");
        assert_eq!(retry_after(&h, &clock), Some(SimDuration::from_secs(6)));
    }

    #[test]
    fn retry_after_is_read_in_both_forms_of_rfc_9110() {
        use std::time::{Duration, SystemTime, UNIX_EPOCH};
        let now = UNIX_EPOCH + Duration::from_secs(784_111_767); // Sun, 06 Nov 1994 08:49:27 GMT
        assert_eq!(real_retry_after("120", now), Some(Duration::from_secs(120)));
        assert_eq!(real_retry_after("Sun, 06 Nov 1994 08:49:37 GMT", now), Some(Duration::from_secs(10)));
        assert_eq!(real_retry_after("Sun, 06 Nov 1994 08:49:17 GMT", now), Some(Duration::ZERO), "past: now");
        assert_eq!(real_retry_after("soon", now), None);
        assert_eq!(real_retry_after("-5", SystemTime::now()), None);
        assert_eq!(real_retry_after("99999999999999999999", now), Some(Duration::from_secs(u64::MAX)));
    }

    #[test]
    fn a_tier_travels_by_name_and_an_unknown_one_is_not_guessed() {
        let tiers = ["paid".to_string(), "free".to_string()];
        let mut h = HeaderMap::new();
        assert_eq!(tier(&h, &tiers), None);
        h.insert(TIER, HeaderValue::from_static("free"));
        assert_eq!(tier(&h, &tiers), Some(1));
        h.insert(TIER, HeaderValue::from_static("gold"));
        assert_eq!(tier(&h, &tiers), None);
        assert_eq!(lowest_tier(&tiers), 1);
    }

    #[test]
    fn the_object_is_read_from_the_query() {
        assert_eq!(object(Some("object=42")), Some(42));
        assert_eq!(object(Some("a=1&object=7")), Some(7));
        assert_eq!(object(Some("objects=7")), None);
        assert_eq!(object(None), None);
    }

    #[test]
    fn the_synthetic_page_is_varnish_s() {
        let page = guru_meditation(32770);
        assert!(page.contains("<h1>Error 503 Backend fetch failed</h1>"));
        assert!(page.contains("<p>XID: 32770</p>"));
        assert!(is_guru_meditation(page.as_bytes()));
        assert!(!is_guru_meditation(b"busy, try later"));
    }
}
