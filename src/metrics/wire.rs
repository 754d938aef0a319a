//! What a run against real targets (`stampede load`) measures on the wire,
//! beside what the models record.
//!
//! The models time an attempt from its intended send time: an open-loop
//! arrival scheduled at t is late if the generator was busy, and the wait
//! counts, so the latencies in the summary are corrected for coordinated
//! omission as wrk2 does. Here are the uncorrected numbers beside them: the
//! service time from the moment the request actually went out to its last
//! byte, and how late sends went out. A send lag near the timer resolution
//! (1 ms) means the generator kept up; a growing one means the numbers
//! describe the generator as much as the target.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::{HistError, LatencyHist, Percentiles, StoredHist};
use crate::time::SimDuration;

/// The wire as the load generator saw it; durations in real milliseconds.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct WireStats {
    /// Where each swarm sent.
    pub targets: BTreeMap<String, String>,
    /// From the actual send to the last byte (uncorrected).
    pub service_ms: Percentiles,
    /// Actual send time less intended send time.
    pub send_lag_ms: Percentiles,
    /// Answers by HTTP status; `connect_failed` for requests that found no
    /// connection, `no_answer` for those whose connection closed or answered
    /// with something other than HTTP, `timed_out` for those the client hung
    /// up on at its timeout.
    pub statuses: BTreeMap<String, u64>,
    /// 503s whose body was Varnish's Guru Meditation page (a fetch Varnish
    /// failed itself; which cause, only varnishstat or varnishlog can tell
    /// unless the VCL names it in `x-stampede-cause`).
    pub varnish_synthetic: u64,
    /// Responses cut off mid-body (Varnish's between-bytes timeout in
    /// streaming mode gives a truncated 200).
    pub truncated: u64,
}

/// Records [`WireStats`] as answers arrive.
#[derive(Clone, Debug, Default)]
pub struct WireRecorder {
    service: LatencyHist,
    lag: LatencyHist,
    statuses: BTreeMap<u16, u64>,
    connect_failed: u64,
    no_answer: u64,
    varnish_synthetic: u64,
    truncated: u64,
    timed_out: u64,
}

/// A [`WireRecorder`], portable (a `load --shard` part holds one).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct StoredWire {
    pub service: StoredHist,
    pub lag: StoredHist,
    pub statuses: BTreeMap<u16, u64>,
    pub connect_failed: u64,
    pub varnish_synthetic: u64,
    pub truncated: u64,
    #[serde(default)]
    pub timed_out: u64,
    #[serde(default)]
    pub no_answer: u64,
}

/// One attempt as the wire saw it (real time).
#[derive(Copy, Clone, Debug, PartialEq)]
pub struct WireAttempt {
    /// The HTTP status, or None when no response came (the connection failed).
    pub status: Option<u16>,
    pub lag: std::time::Duration,
    pub service: std::time::Duration,
    pub varnish_synthetic: bool,
    pub truncated: bool,
    /// The client hung up at its timeout before an answer came.
    pub timed_out: bool,
    /// Connected and sent, but the connection closed or what came back was
    /// not HTTP.
    pub no_answer: bool,
}

impl WireAttempt {
    /// An attempt sent `lag` late that got no answer (yet).
    pub fn unanswered(lag: std::time::Duration) -> Self {
        WireAttempt {
            status: None,
            lag,
            service: std::time::Duration::ZERO,
            varnish_synthetic: false,
            truncated: false,
            timed_out: false,
            no_answer: false,
        }
    }
}

impl WireRecorder {
    pub fn record(&mut self, a: &WireAttempt) {
        let d = |t: std::time::Duration| SimDuration::from_nanos(t.as_nanos().min(u128::from(u64::MAX)) as u64);
        self.lag.record(d(a.lag));
        match a.status {
            Some(s) => {
                self.service.record(d(a.service));
                *self.statuses.entry(s).or_default() += 1;
            }
            None if a.timed_out => self.timed_out += 1,
            None if a.no_answer => self.no_answer += 1,
            None => self.connect_failed += 1,
        }
        self.varnish_synthetic += u64::from(a.varnish_synthetic);
        self.truncated += u64::from(a.truncated);
    }

    /// Attempts that found no connection.
    pub fn connect_failed(&self) -> u64 {
        self.connect_failed
    }

    /// Attempts whose connection closed, or answered with something other than HTTP.
    pub fn no_answer(&self) -> u64 {
        self.no_answer
    }

    pub fn timed_out(&self) -> u64 {
        self.timed_out
    }

    /// Attempts answered with an HTTP status, any status.
    pub fn answered(&self) -> u64 {
        self.statuses.values().sum()
    }

    /// Answers with `status`.
    pub fn with_status(&self, status: u16) -> u64 {
        self.statuses.get(&status).copied().unwrap_or(0)
    }

    /// Adds another shard's answers.
    pub fn merge(&mut self, other: &WireRecorder) -> Result<(), HistError> {
        self.service.try_merge_from(&other.service)?;
        self.lag.try_merge_from(&other.lag)?;
        for (s, n) in &other.statuses {
            *self.statuses.entry(*s).or_default() += n;
        }
        self.connect_failed += other.connect_failed;
        self.no_answer += other.no_answer;
        self.varnish_synthetic += other.varnish_synthetic;
        self.truncated += other.truncated;
        self.timed_out += other.timed_out;
        Ok(())
    }

    pub fn to_stored(&self) -> StoredWire {
        StoredWire {
            service: self.service.to_stored(),
            lag: self.lag.to_stored(),
            statuses: self.statuses.clone(),
            connect_failed: self.connect_failed,
            varnish_synthetic: self.varnish_synthetic,
            truncated: self.truncated,
            timed_out: self.timed_out,
            no_answer: self.no_answer,
        }
    }

    pub fn from_stored(s: &StoredWire) -> Result<WireRecorder, HistError> {
        Ok(WireRecorder {
            service: LatencyHist::from_stored(&s.service)?,
            lag: LatencyHist::from_stored(&s.lag)?,
            statuses: s.statuses.clone(),
            connect_failed: s.connect_failed,
            varnish_synthetic: s.varnish_synthetic,
            truncated: s.truncated,
            timed_out: s.timed_out,
            no_answer: s.no_answer,
        })
    }

    pub fn stats(&self, targets: BTreeMap<String, String>) -> WireStats {
        let mut statuses: BTreeMap<String, u64> = self.statuses.iter().map(|(s, n)| (s.to_string(), *n)).collect();
        if self.connect_failed > 0 {
            statuses.insert("connect_failed".into(), self.connect_failed);
        }
        if self.timed_out > 0 {
            statuses.insert("timed_out".into(), self.timed_out);
        }
        if self.no_answer > 0 {
            statuses.insert("no_answer".into(), self.no_answer);
        }
        WireStats {
            targets,
            service_ms: self.service.percentiles(),
            send_lag_ms: self.lag.percentiles(),
            statuses,
            varnish_synthetic: self.varnish_synthetic,
            truncated: self.truncated,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn failed_connections_have_a_lag_but_no_service_time() {
        let mut r = WireRecorder::default();
        let ok = WireAttempt {
            status: Some(200),
            service: Duration::from_millis(40),
            ..WireAttempt::unanswered(Duration::from_millis(1))
        };
        r.record(&ok);
        r.record(&WireAttempt { status: None, service: Duration::ZERO, ..ok });
        r.record(&WireAttempt { status: Some(503), varnish_synthetic: true, ..ok });
        let s = r.stats(BTreeMap::new());
        assert_eq!((s.service_ms.count, s.send_lag_ms.count), (2, 3));
        assert_eq!(s.statuses["200"] + s.statuses["503"] + s.statuses["connect_failed"], 3);
        assert_eq!((s.varnish_synthetic, r.connect_failed(), r.answered()), (1, 1, 2));
    }
}
