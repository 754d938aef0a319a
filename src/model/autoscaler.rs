//! The pool autoscaler: a Kubernetes-HPA-style proportional controller.
//!
//! Every `interval` it looks at the metric averaged over the last interval and
//! computes desired = ceil(ready · metric / target), leaves the size alone while
//! metric/target is within `tolerance` of 1, clamps to [min, max], and moves at
//! most `max_step_up` / `max_step_down` instances per evaluation. It scales down
//! only when no scaling happened for `cooldown` (HPA's stabilisation window).
//!
//! Instances it starts only serve after the pool's cold start: the lag between a
//! surge and new capacity — evaluation interval plus cold start — is the whole
//! reason 503 storms happen, so it is modelled rather than idealised away.

use crate::time::{SimDuration, SimTime};

/// What the autoscaler steers by.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum ScaleMetric {
    /// Busy slots / slots on ready instances (0..1).
    Utilization,
    /// Queued jobs per ready instance.
    QueueDepth,
}

#[derive(Clone, Debug, PartialEq)]
pub struct AutoscalerConfig {
    pub metric: ScaleMetric,
    pub target: f64,
    pub interval: SimDuration,
    pub max_step_up: u32,
    pub max_step_down: u32,
    pub cooldown: SimDuration,
    pub tolerance: f64,
}

/// What the autoscaler sees at an evaluation.
#[derive(Copy, Clone, Debug, PartialEq)]
pub struct Observation {
    pub ready: u32,
    pub provisioning: u32,
    /// The metric averaged over the last interval (None when no instance was ready).
    pub metric: Option<f64>,
}

/// The autoscaler's memory between evaluations.
#[derive(Clone, Debug)]
pub struct Autoscaler {
    pub cfg: AutoscalerConfig,
    last_change: Option<SimTime>,
}

impl Autoscaler {
    pub fn new(cfg: AutoscalerConfig) -> Self {
        Autoscaler { cfg, last_change: None }
    }

    /// The change in instance count to make now: positive to start instances,
    /// negative to retire them, zero to hold.
    pub fn evaluate(&mut self, now: SimTime, obs: Observation, min: u32, max: u32) -> i64 {
        let current = obs.ready + obs.provisioning;
        let desired = match obs.metric {
            Some(m) if obs.ready > 0 => {
                let ratio = m / self.cfg.target;
                if (ratio - 1.0).abs() <= self.cfg.tolerance {
                    current
                } else {
                    (f64::from(obs.ready) * ratio).ceil() as u32
                }
            }
            // Nothing ready to measure: hold, but never below the floor.
            _ => current,
        }
        .clamp(min, max);
        let delta = if desired > current {
            i64::from((desired - current).min(self.cfg.max_step_up))
        } else if desired < current && self.cooled_down(now) {
            -i64::from((current - desired).min(self.cfg.max_step_down))
        } else {
            0
        };
        if delta != 0 {
            self.last_change = Some(now);
        }
        delta
    }

    fn cooled_down(&self, now: SimTime) -> bool {
        self.last_change.is_none_or(|t| now - t >= self.cfg.cooldown)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cfg() -> AutoscalerConfig {
        AutoscalerConfig {
            metric: ScaleMetric::Utilization,
            target: 0.7,
            interval: SimDuration::from_secs(30),
            max_step_up: 4,
            max_step_down: 1,
            cooldown: SimDuration::from_secs(300),
            tolerance: 0.1,
        }
    }
    fn at(s: u64) -> SimTime {
        SimTime::ZERO + SimDuration::from_secs(s)
    }
    fn obs(ready: u32, provisioning: u32, m: f64) -> Observation {
        Observation { ready, provisioning, metric: Some(m) }
    }

    #[test]
    fn scales_up_proportionally_within_the_step_limit() {
        let mut a = Autoscaler::new(cfg());
        // 4 ready at 100% with target 70%: desired ceil(4/0.7) = 6.
        assert_eq!(a.evaluate(at(30), obs(4, 0, 1.0), 1, 20), 2);
        // 10 ready at 100%: desired 15, but at most 4 per step.
        assert_eq!(a.evaluate(at(60), obs(10, 0, 1.0), 1, 20), 4);
        // Already provisioning enough: hold.
        assert_eq!(a.evaluate(at(90), obs(4, 2, 1.0), 1, 20), 0);
    }

    #[test]
    fn holds_inside_the_tolerance_band_and_respects_max() {
        let mut a = Autoscaler::new(cfg());
        assert_eq!(a.evaluate(at(30), obs(4, 0, 0.75), 1, 20), 0);
        assert_eq!(a.evaluate(at(60), obs(4, 0, 1.0), 1, 5), 1);
    }

    #[test]
    fn scales_down_only_after_the_cooldown() {
        let mut a = Autoscaler::new(cfg());
        assert_eq!(a.evaluate(at(0), obs(4, 0, 1.0), 1, 20), 2);
        assert_eq!(a.evaluate(at(100), obs(6, 0, 0.1), 1, 20), 0);
        assert_eq!(a.evaluate(at(300), obs(6, 0, 0.1), 1, 20), -1);
        assert_eq!(a.evaluate(at(330), obs(5, 0, 0.1), 1, 20), 0);
    }

    #[test]
    fn replaces_lost_instances_up_to_the_minimum() {
        let mut a = Autoscaler::new(cfg());
        let none_ready = Observation { ready: 0, provisioning: 0, metric: None };
        assert_eq!(a.evaluate(at(30), none_ready, 3, 20), 3);
    }
}
