//! Load-dependent service: how much slower a backend works as it gets busier.
//!
//! Real backends thrash: GPU memory oversubscription, lock contention, cache
//! misses. Bronson et al. (HotOS'21) describe a database that answers in under
//! 100 ms below 300 QPS and 10× slower above; Brooker's collapse model has
//! latency = 1 s + 0.01 s × concurrency. Without such a curve a backend's
//! capacity never falls under overload, and any bounded queue trivially cures
//! a retry storm.
//!
//! A [`LoadCurve`] maps the load of one instance (jobs in service, optionally
//! plus its queue) to a *stretch factor*: every job in service on that
//! instance progresses at 1/factor of its nominal speed. The factor is a pure
//! function of the load, so the simulated pool ([`crate::model::gpu`]) and a
//! live backend (which scales its sleep by the same factor) use one rule.

/// A stretch factor as a function of load.
#[derive(Clone, Debug, PartialEq)]
pub enum LoadCurve {
    /// Nominal speed up to `knee` jobs, `factor` times slower above it.
    Knee { knee: u32, factor: f64 },
    /// Each job beyond `knee` adds `slope` to the factor:
    /// factor = 1 + slope · max(0, load − knee). With knee 0 and slope
    /// 0.01 on a 1 s job this is Brooker's 1 s + 0.01 s × concurrency; with
    /// slope 1/knee the instance shares a fixed throughput among its jobs
    /// above the knee (processor sharing).
    Linear { knee: u32, slope: f64 },
    /// Piecewise-linear through (load, factor) points, sorted by load;
    /// flat before the first and after the last.
    Table(Vec<(u32, f64)>),
}

/// A pool's load-dependent service rule.
#[derive(Clone, Debug, PartialEq)]
pub struct LoadModel {
    pub curve: LoadCurve,
    /// Count an instance's queued jobs in its load, not only those in service.
    pub count_queued: bool,
}

impl LoadModel {
    /// The factor for an instance running `running` jobs with `queued` waiting.
    pub fn factor(&self, running: u32, queued: u32) -> f64 {
        let load = if self.count_queued { running.saturating_add(queued) } else { running };
        self.curve.factor(load)
    }
}

impl LoadCurve {
    /// The stretch factor at `load` (always ≥ the smallest factor the curve names).
    pub fn factor(&self, load: u32) -> f64 {
        match self {
            LoadCurve::Knee { knee, factor } => {
                if load > *knee {
                    *factor
                } else {
                    1.0
                }
            }
            LoadCurve::Linear { knee, slope } => 1.0 + slope * f64::from(load.saturating_sub(*knee)),
            LoadCurve::Table(points) => table(points, load),
        }
    }
}

fn table(points: &[(u32, f64)], load: u32) -> f64 {
    let Some(&(first, f0)) = points.first() else { return 1.0 };
    if load <= first {
        return f0;
    }
    for w in points.windows(2) {
        let ((x0, y0), (x1, y1)) = (w[0], w[1]);
        if load <= x1 {
            let t = f64::from(load - x0) / f64::from(x1 - x0);
            return y0 + t * (y1 - y0);
        }
    }
    points.last().map_or(1.0, |p| p.1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn knee_is_nominal_up_to_the_knee_and_factor_above() {
        let c = LoadCurve::Knee { knee: 30, factor: 10.0 };
        assert_eq!([c.factor(0), c.factor(30), c.factor(31), c.factor(1000)], [1.0, 1.0, 10.0, 10.0]);
    }

    #[test]
    fn linear_is_brookers_collapse_model() {
        // latency = 1 s + 0.01 s × concurrency on a 1 s job: factor 1 + 0.01·n.
        let c = LoadCurve::Linear { knee: 0, slope: 0.01 };
        assert_eq!(c.factor(0), 1.0);
        assert!((c.factor(200) - 3.0).abs() < 1e-12);
        // slope 1/knee above the knee: throughput stays knee jobs' worth.
        let ps = LoadCurve::Linear { knee: 30, slope: 1.0 / 30.0 };
        assert_eq!(ps.factor(30), 1.0);
        assert!((ps.factor(300) - 10.0).abs() < 1e-12);
    }

    #[test]
    fn table_interpolates_and_is_flat_outside() {
        let c = LoadCurve::Table(vec![(10, 1.0), (20, 3.0), (40, 4.0)]);
        assert_eq!(
            [c.factor(0), c.factor(10), c.factor(15), c.factor(20), c.factor(30), c.factor(99)],
            [1.0, 1.0, 2.0, 3.0, 3.5, 4.0]
        );
    }

    #[test]
    fn queued_jobs_count_only_when_asked() {
        let m = LoadModel { curve: LoadCurve::Knee { knee: 2, factor: 5.0 }, count_queued: false };
        assert_eq!(m.factor(2, 10), 1.0);
        let m = LoadModel { count_queued: true, ..m };
        assert_eq!(m.factor(2, 1), 5.0);
    }
}
