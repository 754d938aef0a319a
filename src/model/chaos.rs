//! Chaos events: scheduled faults and traffic changes.
//!
//! A schedule is a list of events, each starting at a time and (except kills)
//! lasting a while. Rather than keep counters that must be unwound in the right
//! order, the condition of a pool or a swarm at time t is computed from the whole
//! schedule ([`pool_condition`], [`traffic_factor`]); the engine re-evaluates it
//! at every boundary ([`boundaries`]). Overlapping windows compose: slowdowns
//! multiply, stalls and maintenance windows nest.

use crate::model::workload::RateProfile;
use crate::time::{SimDuration, SimTime};

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
        }
    }
}

impl ChaosEvent {
    /// Whether it changes the clients' traffic (rather than the servers).
    pub fn is_traffic(&self) -> bool {
        matches!(self.action, ChaosAction::Traffic { .. })
    }

    fn active_at(&self, t: SimTime) -> bool {
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
        }
    }
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
}

pub fn pool_condition(events: &[ChaosEvent], pool: usize, t: SimTime) -> PoolCondition {
    let mut c = PoolCondition { slow: 1.0, stalls: 0, maintenance: 0 };
    for e in events.iter().filter(|e| e.active_at(t)) {
        match e.action {
            ChaosAction::Stall { pool: p } if p == pool => c.stalls += 1,
            ChaosAction::Slow { pool: p, factor } if p == pool => c.slow *= factor,
            ChaosAction::Maintenance { pool: p } if p == pool => c.maintenance += 1,
            _ => {}
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
    let mut out = Vec::new();
    for (i, e) in events.iter().enumerate() {
        let (start, end) = e.window();
        match e.action {
            ChaosAction::Kill { .. } => out.push((start, Subject::Kill(i))),
            ChaosAction::Stall { pool } | ChaosAction::Slow { pool, .. } | ChaosAction::Maintenance { pool } => {
                out.push((start, Subject::Pool(pool)));
                out.push((end, Subject::Pool(pool)));
            }
            ChaosAction::Traffic { swarm, .. } => {
                out.push((start, Subject::Swarm(swarm)));
                out.push((end, Subject::Swarm(swarm)));
            }
        }
    }
    out.sort();
    out.dedup();
    out
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
        assert_eq!(pool_condition(&e, 0, at(30)), PoolCondition { slow: 1.0, stalls: 1, maintenance: 0 });
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
}
