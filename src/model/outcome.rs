//! How one attempt ends, as the client sees it.
//!
//! Every attempt ends in exactly one [`Outcome`]. A 503 always carries its
//! [`Cause`]: the proxy's own synthetic errors ("503 Backend fetch failed") and
//! the 503s a backend sends itself (which Varnish passes through unchanged) are
//! told apart, because they call for different fixes. Counters are arrays indexed
//! by [`Outcome::index`], never string-keyed maps.

use crate::time::SimDuration;

/// Why an attempt got a 503.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Cause {
    /// The proxy gave up waiting for the first response byte (`first_byte_timeout`).
    FirstByteTimeout,
    /// The response stalled mid-body for longer than `between_bytes_timeout`.
    BetweenBytesTimeout,
    /// The TCP connect to the backend did not complete within `connect_timeout`.
    ConnectTimeout,
    /// The backend refused or dropped the connection before answering (a
    /// port nothing listens on; Varnish's `fail_econnrefused`): 503 at once.
    ConnectFailed,
    /// The backend instance was at `max_connections` (or the wait queue timed out).
    Busy,
    /// The director found no healthy instance (probes marked them sick, or none registered).
    Unhealthy,
    /// The backend's own request queue was full and it answered 503 itself.
    BackendQueueFull,
    /// The backend answered 503 at once because it is in maintenance mode.
    Maintenance,
    /// A 503 that says nothing of its cause: a real target that is neither
    /// Varnish's synthetic error nor a stampede backend.
    Unknown,
    /// The backend's response headers did not fit the proxy's workspace
    /// (`http_resp_hdr_len`, `http_resp_size`): Varnish fails the fetch after
    /// the backend did the work. A misconfiguration, so it is only listed in
    /// reports of scenarios that can produce it.
    Overflow,
    /// The backend answered 503 itself because a chaos `errors` event drew
    /// this request (fault injection, as Fortio and Toxiproxy do it). Listed
    /// only in reports of scenarios that can produce it.
    Injected,
}

impl Cause {
    pub const ALL: [Cause; 11] = [
        Cause::FirstByteTimeout,
        Cause::BetweenBytesTimeout,
        Cause::ConnectTimeout,
        Cause::ConnectFailed,
        Cause::Busy,
        Cause::Unhealthy,
        Cause::BackendQueueFull,
        Cause::Maintenance,
        Cause::Unknown,
        Cause::Overflow,
        Cause::Injected,
    ];

    /// The name used in scenario files, JSON and CSV.
    pub const fn name(self) -> &'static str {
        match self {
            Cause::FirstByteTimeout => "first_byte_timeout",
            Cause::BetweenBytesTimeout => "between_bytes_timeout",
            Cause::ConnectTimeout => "connect_timeout",
            Cause::ConnectFailed => "connect_failed",
            Cause::Busy => "busy",
            Cause::Unhealthy => "unhealthy",
            Cause::BackendQueueFull => "backend_queue_full",
            Cause::Maintenance => "maintenance",
            Cause::Unknown => "unknown",
            Cause::Overflow => "overflow",
            Cause::Injected => "injected",
        }
    }

    pub fn from_name(name: &str) -> Option<Cause> {
        Cause::ALL.into_iter().find(|c| c.name() == name)
    }

    /// True for the proxy's own "503 Backend fetch failed" (which carries
    /// `Retry-After: 5`); false for 503s the backend sent itself, and for
    /// 503s of unknown origin (their own Retry-After, if any, applies).
    pub const fn is_synthetic(self) -> bool {
        !matches!(self, Cause::BackendQueueFull | Cause::Maintenance | Cause::Unknown | Cause::Injected)
    }
}

/// The end of one attempt, as the client sees it.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash)]
pub enum Outcome {
    /// 200: the full response arrived.
    Ok,
    /// 503 with its cause.
    Status503(Cause),
    /// 429 Too Many Requests: from the backend (a pool whose queue-full status
    /// is 429) or from the proxy's per-client rate limit.
    Status429,
    /// The client's own per-attempt timeout fired first.
    ClientTimeout,
    /// The proxy refused the client connection (`max_sessions` reached).
    ConnectError,
    /// The client's own defences refused to send it: an open circuit
    /// breaker, adaptive throttling, or a retry a budget or throttle denied.
    /// It never reached the proxy, so it is not counted among attempts sent.
    LocalReject,
    /// 500 Internal Server Error from the backend (an injected fault), passed
    /// on by the proxy unchanged.
    Status500,
    /// 502 Bad Gateway from the backend (an injected fault), passed on by the
    /// proxy unchanged.
    Status502,
    /// A hedged request got its answer from another attempt first: the
    /// client stopped listening for this one. Sent, so counted among attempts;
    /// listed only for scenarios whose strategies hedge.
    Cancelled,
}

/// How many distinct outcomes there are (the length of counter arrays).
pub const OUTCOME_COUNT: usize = 19;

impl Outcome {
    /// Every outcome, in [`Outcome::index`] order.
    pub const ALL: [Outcome; OUTCOME_COUNT] = [
        Outcome::Ok,
        Outcome::Status503(Cause::FirstByteTimeout),
        Outcome::Status503(Cause::BetweenBytesTimeout),
        Outcome::Status503(Cause::ConnectTimeout),
        Outcome::Status503(Cause::ConnectFailed),
        Outcome::Status503(Cause::Busy),
        Outcome::Status503(Cause::Unhealthy),
        Outcome::Status503(Cause::BackendQueueFull),
        Outcome::Status503(Cause::Maintenance),
        Outcome::Status503(Cause::Unknown),
        Outcome::Status503(Cause::Overflow),
        Outcome::Status429,
        Outcome::ClientTimeout,
        Outcome::ConnectError,
        Outcome::LocalReject,
        // Appended, so the order of the older outcomes (and of the CSV
        // columns that follow it) does not move.
        Outcome::Status503(Cause::Injected),
        Outcome::Status500,
        Outcome::Status502,
        Outcome::Cancelled,
    ];

    /// A dense index for counter arrays.
    pub const fn index(self) -> usize {
        match self {
            Outcome::Ok => 0,
            Outcome::Status503(Cause::Injected) => 15,
            Outcome::Status503(c) => 1 + c as usize,
            Outcome::Status429 => 11,
            Outcome::ClientTimeout => 12,
            Outcome::ConnectError => 13,
            Outcome::LocalReject => 14,
            Outcome::Status500 => 16,
            Outcome::Status502 => 17,
            Outcome::Cancelled => 18,
        }
    }

    /// The name used in scenario files (`retry_on`), JSON and CSV.
    pub const fn name(self) -> &'static str {
        match self {
            Outcome::Ok => "ok",
            Outcome::Status503(c) => c.name(),
            Outcome::Status429 => "status_429",
            Outcome::ClientTimeout => "client_timeout",
            Outcome::ConnectError => "connect_error",
            Outcome::LocalReject => "local_reject",
            Outcome::Status500 => "status_500",
            Outcome::Status502 => "status_502",
            Outcome::Cancelled => "cancelled",
        }
    }

    pub const fn is_503(self) -> bool {
        matches!(self, Outcome::Status503(_))
    }
}

/// The `Retry-After` delay the proxy puts on its synthetic 503s (Varnish's
/// built-in `vcl_backend_error` sets `Retry-After: 5`).
pub const SYNTHETIC_RETRY_AFTER: SimDuration = SimDuration::from_secs(5);

/// A set of outcomes, e.g. the ones a strategy retries.
#[derive(Copy, Clone, Debug, Default, PartialEq, Eq)]
pub struct OutcomeSet(u32);

// One bit per outcome.
const _: () = assert!(OUTCOME_COUNT <= 32);

impl OutcomeSet {
    pub const EMPTY: OutcomeSet = OutcomeSet(0);

    pub fn with(mut self, o: Outcome) -> Self {
        self.0 |= 1 << o.index();
        self
    }
    pub fn with_all_503(mut self) -> Self {
        for c in Cause::ALL {
            self = self.with(Outcome::Status503(c));
        }
        self
    }
    pub fn contains(self, o: Outcome) -> bool {
        self.0 & (1 << o.index()) != 0
    }
    pub fn is_empty(self) -> bool {
        self.0 == 0
    }

    /// Parses one `retry_on` entry into the outcomes it names: `"503"` (every
    /// cause), `"429"`, `"500"`, `"502"`, `"client_timeout"`, `"connect_error"`
    /// or one 503 cause such as `"busy"`.
    pub fn parse_entry(name: &str) -> Option<OutcomeSet> {
        let set = OutcomeSet::EMPTY;
        match name {
            "503" => Some(set.with_all_503()),
            "429" => Some(set.with(Outcome::Status429)),
            "500" => Some(set.with(Outcome::Status500)),
            "502" => Some(set.with(Outcome::Status502)),
            "client_timeout" | "timeout" => Some(set.with(Outcome::ClientTimeout)),
            "connect_error" | "connect" => Some(set.with(Outcome::ConnectError)),
            "local_reject" => Some(set.with(Outcome::LocalReject)),
            other => Cause::from_name(other).map(|c| set.with(Outcome::Status503(c))),
        }
    }

    /// The names [`OutcomeSet::parse_entry`] accepts, for did-you-mean hints.
    pub fn entry_names() -> Vec<&'static str> {
        let mut v = vec!["503", "429", "500", "502", "client_timeout", "connect_error", "local_reject"];
        v.extend(Cause::ALL.iter().map(|c| c.name()));
        v
    }

    pub fn union(self, o: OutcomeSet) -> OutcomeSet {
        OutcomeSet(self.0 | o.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn indices_are_dense_and_match_all() {
        for (i, o) in Outcome::ALL.iter().enumerate() {
            assert_eq!(o.index(), i, "{o:?}");
        }
    }

    #[test]
    fn retry_on_503_covers_every_cause_and_nothing_else() {
        let s = OutcomeSet::parse_entry("503").expect("503");
        for c in Cause::ALL {
            assert!(s.contains(Outcome::Status503(c)));
        }
        assert!(!s.contains(Outcome::Status429));
        assert!(!s.contains(Outcome::ClientTimeout));
        let busy = OutcomeSet::parse_entry("busy").expect("busy");
        assert!(busy.contains(Outcome::Status503(Cause::Busy)));
        assert!(!busy.contains(Outcome::Status503(Cause::Unhealthy)));
        assert_eq!(OutcomeSet::parse_entry("5xx"), None);
    }

    #[test]
    fn only_backend_sent_503s_are_not_synthetic() {
        let own: Vec<_> = Cause::ALL.into_iter().filter(|c| !c.is_synthetic()).collect();
        assert_eq!(own, [Cause::BackendQueueFull, Cause::Maintenance, Cause::Unknown, Cause::Injected]);
    }
}
