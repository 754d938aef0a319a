//! Chaos events: scheduled faults and traffic changes.
//!
//! A schedule is a list of events, each starting at a time and (except kills)
//! lasting a while. Rather than keep counters that must be unwound in the right
//! order, the condition of a pool or a swarm at time t is computed from the whole
//! schedule ([`pool_condition`], [`traffic_factor`]); the engine re-evaluates it
//! at every boundary ([`boundaries`]). Overlapping windows compose: slowdowns
//! multiply, stalls and maintenance windows nest.
//!
//! Faults by probability (`errors`, `connect_failures`, `latency`, `flap`)
//! are injected as Fortio and Toxiproxy do it: each request (or probe) that
//! reaches the pool during the window is hit with the event's share. They
//! fold into a pool's [`Faults`], whose draws the backend makes from a random
//! stream of their own, so a scenario without them draws nothing new.

use rand::RngExt;

use crate::model::outcome::{Cause, Outcome};
use crate::model::workload::RateProfile;
use crate::rng::SimRng;
use crate::time::{SimDuration, SimTime};

/// The status an `errors` event makes the backend answer with.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum FaultStatus {
    S500,
    S502,
    S503,
}

impl FaultStatus {
    pub const ALL: [FaultStatus; 3] = [FaultStatus::S500, FaultStatus::S502, FaultStatus::S503];

    pub const fn code(self) -> u16 {
        match self {
            FaultStatus::S500 => 500,
            FaultStatus::S502 => 502,
            FaultStatus::S503 => 503,
        }
    }

    pub fn from_code(code: i64) -> Option<FaultStatus> {
        FaultStatus::ALL.into_iter().find(|s| i64::from(s.code()) == code)
    }

    /// The outcome the client sees: the proxy passes the backend's own error on.
    pub const fn outcome(self) -> Outcome {
        match self {
            FaultStatus::S500 => Outcome::Status500,
            FaultStatus::S502 => Outcome::Status502,
            FaultStatus::S503 => Outcome::Status503(Cause::Injected),
        }
    }
}

/// What a chaos event does.
#[derive(Clone, Debug, PartialEq)]
pub enum ChaosAction {
    /// N ready instances of the pool die (their host is gone).
    Kill { pool: usize, count: u32 },
    /// The pool accepts connections and never answers.
    Stall { pool: usize },
    /// The pool works `factor` times slower.
    Slow { pool: usize, factor: f64 },
    /// The pool answers every request (and probe) with 503 at once.
    Maintenance { pool: usize },
    /// The swarm's traffic is multiplied by `factor`.
    Traffic { swarm: usize, factor: f64 },
    /// A `share` of the requests reaching the pool are answered `status` at once.
    Errors { pool: usize, share: f64, status: FaultStatus },
    /// A `share` of the proxy's connection attempts to the pool fail.
    ConnectFailures { pool: usize, share: f64 },
    /// The pool's responses arrive `added` ± uniform `jitter` later.
    Latency { pool: usize, added: SimDuration, jitter: SimDuration },
    /// A `share` of the health probes to the pool fail.
    Flap { pool: usize, share: f64 },
}

#[derive(Clone, Debug, PartialEq)]
pub struct ChaosEvent {
    pub at: SimTime,
    /// How long it lasts (None for kills, which are instantaneous).
    pub duration: Option<SimDuration>,
    pub action: ChaosAction,
}

impl ChaosAction {
    /// The `kind` the scenario file names it by.
    pub fn kind_name(&self) -> &'static str {
        match self {
            ChaosAction::Kill { .. } => "kill",
            ChaosAction::Stall { .. } => "stall",
            ChaosAction::Slow { .. } => "slow",
            ChaosAction::Maintenance { .. } => "maintenance",
            ChaosAction::Traffic { .. } => "traffic",
            ChaosAction::Errors { .. } => "errors",
            ChaosAction::ConnectFailures { .. } => "connect_failures",
            ChaosAction::Latency { .. } => "latency",
            ChaosAction::Flap { .. } => "flap",
        }
    }

    /// The pool it strikes (None for traffic).
    pub fn pool(&self) -> Option<usize> {
        match *self {
            ChaosAction::Traffic { .. } => None,
            ChaosAction::Kill { pool, .. }
            | ChaosAction::Stall { pool }
            | ChaosAction::Slow { pool, .. }
            | ChaosAction::Maintenance { pool }
            | ChaosAction::Errors { pool, .. }
            | ChaosAction::ConnectFailures { pool, .. }
            | ChaosAction::Latency { pool, .. }
            | ChaosAction::Flap { pool, .. } => Some(pool),
        }
    }
}

impl ChaosEvent {
    /// Whether it changes the clients' traffic (rather than the servers).
    pub fn is_traffic(&self) -> bool {
        matches!(self.action, ChaosAction::Traffic { .. })
    }

    /// Whether it is on at `t` (a kill never is: it is an instant).
    pub fn active_at(&self, t: SimTime) -> bool {
        self.at <= t && self.duration.is_some_and(|d| t < self.at + d)
    }

    /// The window [start, end) the event covers (a kill covers an instant).
    pub fn window(&self) -> (SimTime, SimTime) {
        (self.at, self.at + self.duration.unwrap_or(SimDuration::ZERO))
    }

    /// A short label for reports and charts.
    pub fn label(&self) -> String {
        match &self.action {
            ChaosAction::Kill { count, .. } => format!("kill {count}"),
            ChaosAction::Stall { .. } => "stall".into(),
            ChaosAction::Slow { factor, .. } => format!("slow x{factor}"),
            ChaosAction::Maintenance { .. } => "maintenance".into(),
            ChaosAction::Traffic { factor, .. } => format!("traffic x{factor}"),
            ChaosAction::Errors { share, status, .. } => format!("{}% {}", percent(*share), status.code()),
            ChaosAction::ConnectFailures { share, .. } => format!("{}% connect failures", percent(*share)),
            ChaosAction::Latency { added, jitter, .. } if jitter.is_zero() => format!("latency +{added}"),
            ChaosAction::Latency { added, jitter, .. } => format!("latency +{added}±{jitter}"),
            ChaosAction::Flap { share, .. } => format!("flap {}%", percent(*share)),
        }
    }
}

/// A share as a percentage, without float noise (0.05 → 5).
fn percent(share: f64) -> f64 {
    (share * 1e6).round() / 1e4
}

/// A pool's fault condition at one instant.
#[derive(Copy, Clone, Debug, PartialEq)]
pub struct PoolCondition {
    /// Product of active slowdown factors (1 = normal speed).
    pub slow: f64,
    /// Active stall windows.
    pub stalls: u32,
    /// Active maintenance windows.
    pub maintenance: u32,
    /// Faults injected by probability.
    pub faults: Faults,
}

/// The faults by probability active on a pool. Overlapping windows compose
/// as faults in series (Toxiproxy's toxics): connect failures and probe
/// failures as independent draws, added latencies and jitters add up, and
/// error shares of each status add up (capped at 1 in all: past it, every
/// request fails, 500s first, then 502s, then 503s).
#[derive(Copy, Clone, Debug, Default, PartialEq)]
pub struct Faults {
    /// Probability that a connection attempt fails.
    pub connect_failures: f64,
    /// Shares of requests answered 500, 502 and 503 ([`FaultStatus::ALL`] order).
    pub errors: [f64; 3],
    /// Latency added before the first byte.
    pub added: SimDuration,
    /// Half-width of the uniform jitter around `added`.
    pub jitter: SimDuration,
    /// Probability that a health probe fails.
    pub flap: f64,
}

impl Faults {
    /// Whether a connection attempt fails (draws only while the fault is on).
    pub fn connect_fails(&self, rng: &mut SimRng) -> bool {
        self.connect_failures > 0.0 && rng.random::<f64>() < self.connect_failures
    }

    /// The error status a request is answered with, if any (one draw while errors are on).
    pub fn error(&self, rng: &mut SimRng) -> Option<FaultStatus> {
        if self.errors.iter().all(|&s| s == 0.0) {
            return None;
        }
        let u = rng.random::<f64>();
        let mut upto = 0.0;
        for (status, share) in FaultStatus::ALL.into_iter().zip(self.errors) {
            upto += share;
            if u < upto {
                return Some(status);
            }
        }
        None
    }

    /// The latency added to one response: `added` ± uniform `jitter` (a draw
    /// only with jitter).
    pub fn delay(&self, rng: &mut SimRng) -> SimDuration {
        if self.jitter.is_zero() {
            return self.added;
        }
        let (lo, hi) = (self.added.as_nanos().saturating_sub(self.jitter.as_nanos()), self.added + self.jitter);
        SimDuration::from_nanos(rng.random_range(lo..=hi.as_nanos()))
    }

    /// Whether a health probe fails (draws only while flapping).
    pub fn probe_fails(&self, rng: &mut SimRng) -> bool {
        self.flap > 0.0 && rng.random::<f64>() < self.flap
    }
}

/// Both faults at once, as independent draws.
fn in_series(a: f64, b: f64) -> f64 {
    a + b - a * b
}

pub fn pool_condition(events: &[ChaosEvent], pool: usize, t: SimTime) -> PoolCondition {
    let mut c = PoolCondition { slow: 1.0, stalls: 0, maintenance: 0, faults: Faults::default() };
    let f = &mut c.faults;
    for e in events.iter().filter(|e| e.active_at(t) && e.action.pool() == Some(pool)) {
        match e.action {
            ChaosAction::Stall { .. } => c.stalls += 1,
            ChaosAction::Slow { factor, .. } => c.slow *= factor,
            ChaosAction::Maintenance { .. } => c.maintenance += 1,
            ChaosAction::Errors { share, status, .. } => {
                let i = FaultStatus::ALL.iter().position(|s| *s == status).expect("listed");
                f.errors[i] += share;
            }
            ChaosAction::ConnectFailures { share, .. } => f.connect_failures = in_series(f.connect_failures, share),
            ChaosAction::Latency { added, jitter, .. } => {
                f.added += added;
                f.jitter += jitter;
            }
            ChaosAction::Flap { share, .. } => f.flap = in_series(f.flap, share),
            ChaosAction::Kill { .. } | ChaosAction::Traffic { .. } => {}
        }
    }
    c
}

/// Product of the traffic multipliers active on `swarm` at `t`.
pub fn traffic_factor(events: &[ChaosEvent], swarm: usize, t: SimTime) -> f64 {
    events
        .iter()
        .filter(|e| e.active_at(t))
        .filter_map(|e| match e.action {
            ChaosAction::Traffic { swarm: s, factor } if s == swarm => Some(factor),
            _ => None,
        })
        .product()
}

/// An open-loop swarm's rate profile with its traffic multipliers folded in.
pub fn traffic_profile(profile: &RateProfile, events: &[ChaosEvent], swarm: usize) -> RateProfile {
    events.iter().fold(profile.clone(), |p, e| match e.action {
        ChaosAction::Traffic { swarm: s, factor } if s == swarm => {
            let (start, end) = e.window();
            p.multiplied(start.as_secs_f64(), end.as_secs_f64(), factor)
        }
        _ => p,
    })
}

/// The largest traffic factor active on `swarm` at any time.
pub fn peak_traffic_factor(events: &[ChaosEvent], swarm: usize) -> f64 {
    boundaries(events).iter().map(|&(t, _)| traffic_factor(events, swarm, t)).fold(1.0, f64::max)
}

/// Something whose condition may change at a boundary.
#[derive(Copy, Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Subject {
    Pool(usize),
    Swarm(usize),
    /// The kill event with this index fires.
    Kill(usize),
}

/// Every instant at which some subject's condition changes, sorted, deduplicated.
pub fn boundaries(events: &[ChaosEvent]) -> Vec<(SimTime, Subject)> {
    let mut out: Vec<_> = events.iter().enumerate().flat_map(|(i, e)| e.boundaries(i)).collect();
    out.sort();
    out.dedup();
    out
}

impl ChaosEvent {
    /// The instants at which this event (index `i` of its schedule) changes
    /// its subject's condition: a kill's one instant, else its window's ends.
    pub fn boundaries(&self, i: usize) -> Vec<(SimTime, Subject)> {
        let (start, end) = self.window();
        match self.action {
            ChaosAction::Kill { .. } => vec![(start, Subject::Kill(i))],
            ChaosAction::Traffic { swarm, .. } => vec![(start, Subject::Swarm(swarm)), (end, Subject::Swarm(swarm))],
            ref a => {
                let pool = Subject::Pool(a.pool().expect("every other kind strikes a pool"));
                vec![(start, pool), (end, pool)]
            }
        }
    }
}

/// Whether a schedule can make the backend answer `o` (the outcomes only
/// injected faults produce).
pub fn injects(events: &[ChaosEvent], o: Outcome) -> bool {
    events.iter().any(|e| match e.action {
        ChaosAction::Errors { status, .. } => status.outcome() == o,
        ChaosAction::ConnectFailures { .. } => o == Outcome::Status503(Cause::ConnectFailed),
        _ => false,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: u64) -> SimTime {
        SimTime::ZERO + SimDuration::from_secs(s)
    }
    fn ev(start: u64, len: u64, action: ChaosAction) -> ChaosEvent {
        ChaosEvent { at: at(start), duration: Some(SimDuration::from_secs(len)), action }
    }

    #[test]
    fn overlapping_windows_compose() {
        let e = vec![
            ev(10, 20, ChaosAction::Slow { pool: 0, factor: 2.0 }),
            ev(15, 10, ChaosAction::Slow { pool: 0, factor: 3.0 }),
            ev(20, 30, ChaosAction::Stall { pool: 0 }),
            ev(0, 100, ChaosAction::Slow { pool: 1, factor: 9.0 }),
        ];
        assert_eq!(pool_condition(&e, 0, at(12)).slow, 2.0);
        assert_eq!(pool_condition(&e, 0, at(16)).slow, 6.0);
        assert_eq!(pool_condition(&e, 0, at(22)).stalls, 1);
        assert_eq!(
            pool_condition(&e, 0, at(30)),
            PoolCondition { slow: 1.0, stalls: 1, maintenance: 0, faults: Faults::default() }
        );
        assert_eq!(pool_condition(&e, 0, at(50)).stalls, 0, "window end is exclusive");
    }

    #[test]
    fn traffic_factors_multiply_per_swarm() {
        let e = vec![
            ev(0, 10, ChaosAction::Traffic { swarm: 0, factor: 3.0 }),
            ev(5, 10, ChaosAction::Traffic { swarm: 0, factor: 2.0 }),
            ev(0, 10, ChaosAction::Traffic { swarm: 1, factor: 5.0 }),
        ];
        assert_eq!(traffic_factor(&e, 0, at(6)), 6.0);
        assert_eq!(traffic_factor(&e, 0, at(12)), 2.0);
        assert_eq!(traffic_factor(&e, 0, at(20)), 1.0);
    }

    #[test]
    fn boundaries_list_starts_and_ends() {
        let e = vec![
            ev(10, 20, ChaosAction::Stall { pool: 0 }),
            ChaosEvent { at: at(5), duration: None, action: ChaosAction::Kill { pool: 0, count: 1 } },
        ];
        assert_eq!(boundaries(&e), [(at(5), Subject::Kill(1)), (at(10), Subject::Pool(0)), (at(30), Subject::Pool(0))]);
    }

    #[test]
    fn overlapping_faults_compose_as_faults_in_series() {
        let e = vec![
            ev(10, 20, ChaosAction::ConnectFailures { pool: 0, share: 0.5 }),
            ev(15, 10, ChaosAction::ConnectFailures { pool: 0, share: 0.5 }),
            ev(10, 20, ChaosAction::Errors { pool: 0, share: 0.05, status: FaultStatus::S503 }),
            ev(10, 20, ChaosAction::Errors { pool: 0, share: 0.02, status: FaultStatus::S500 }),
            ev(10, 20, ChaosAction::Latency { pool: 0, added: SimDuration::from_secs(1), jitter: SimDuration::ZERO }),
            ev(
                15,
                10,
                ChaosAction::Latency { pool: 0, added: SimDuration::from_secs(2), jitter: SimDuration::from_secs(1) },
            ),
            ev(10, 20, ChaosAction::Flap { pool: 1, share: 0.3 }),
        ];
        let f = pool_condition(&e, 0, at(16)).faults;
        assert_eq!(f.connect_failures, 0.75, "two independent halves");
        assert_eq!(f.errors, [0.02, 0.0, 0.05]);
        assert_eq!((f.added, f.jitter), (SimDuration::from_secs(3), SimDuration::from_secs(1)));
        assert_eq!(f.flap, 0.0, "pool 1's flap");
        assert_eq!(pool_condition(&e, 1, at(16)).faults.flap, 0.3);
        assert_eq!(pool_condition(&e, 0, at(30)).faults, Faults::default(), "window end is exclusive");
        assert_eq!(boundaries(&e).first(), Some(&(at(10), Subject::Pool(0))));
    }

    #[test]
    fn an_error_mix_is_one_draw_over_the_shares_in_status_order() {
        let f = Faults { errors: [0.5, 0.5, 0.5], ..Faults::default() };
        let mut rng = crate::rng::stream(1, crate::rng::Stream::Fault { pool: 0 });
        let got: Vec<_> = (0..1000).map(|_| f.error(&mut rng)).collect();
        assert!(got.iter().all(|s| matches!(s, Some(FaultStatus::S500 | FaultStatus::S502))), "past 1: 503 never");
        let none = Faults::default();
        assert_eq!(none.error(&mut rng), None);
        assert_eq!(
            ChaosAction::Errors { pool: 0, share: 0.05, status: FaultStatus::S503 }.clone().kind_name(),
            "errors"
        );
        let label = ChaosEvent {
            at: at(0),
            duration: None,
            action: ChaosAction::Errors { pool: 0, share: 0.07, status: FaultStatus::S502 },
        }
        .label();
        assert_eq!(label, "7% 502");
    }
}
