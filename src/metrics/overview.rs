//! A bounded picture of the time series, for charts.
//!
//! A chart has a few hundred pixels across; a long run can have a hundred
//! thousand windows. The overview keeps at most [`MAX_POINTS`] rows: while a
//! run has no more windows than that, they are the rows themselves (so charts
//! of ordinary runs are unchanged); beyond, adjacent windows are merged in
//! pairs, again whenever the overview fills, so each point covers a power of
//! two of windows. Merging is exact, not sampling: counters add up, levels are
//! averaged weighted by time, utilization is busy slot-time over serving
//! slot-time. Memory stays bounded however many windows a run has.

use super::timeseries::{PoolLevels, Row};

/// Points an overview holds at most.
pub const MAX_POINTS: usize = 1000;

/// One point: a row and, per pool, its serving slot-seconds (utilization's
/// denominator, which merging needs).
#[derive(Clone, Debug)]
struct Point {
    row: Row,
    slot_seconds: Vec<f64>,
    windows: usize,
}

/// The downsampled series.
#[derive(Clone, Debug, Default)]
pub struct Overview {
    points: Vec<Point>,
    /// Windows per point (the last point may hold fewer).
    span: usize,
}

impl Overview {
    pub fn new() -> Self {
        Overview { points: Vec::new(), span: 1 }
    }

    /// Adds the next closed window; `slot_seconds[p]` is pool p's serving slot-time in it.
    pub fn push(&mut self, row: &Row, slot_seconds: Vec<f64>) {
        match self.points.last_mut() {
            Some(last) if last.windows < self.span => {
                merge_into(last, &Point { row: row.clone(), slot_seconds, windows: 1 })
            }
            _ => self.points.push(Point { row: row.clone(), slot_seconds, windows: 1 }),
        }
        if self.points.len() > MAX_POINTS {
            let old = std::mem::take(&mut self.points);
            let mut it = old.into_iter();
            while let Some(mut a) = it.next() {
                if let Some(b) = it.next() {
                    merge_into(&mut a, &b);
                }
                self.points.push(a);
            }
            self.span *= 2;
        }
    }

    /// Adds a stored row, whose slot-time is known only through its utilization.
    pub fn push_stored(&mut self, row: &Row) {
        let secs = (row.end - row.start).as_secs_f64();
        let slots = row
            .pools
            .iter()
            .map(|p| match p.utilization {
                Some(u) if u > 0.0 => p.busy_slots * secs / u,
                _ => 0.0,
            })
            .collect();
        self.push(row, slots);
    }

    /// The points, oldest first: the rows themselves while there are at most [`MAX_POINTS`].
    pub fn rows(&self) -> impl Iterator<Item = &Row> {
        self.points.iter().map(|p| &p.row)
    }

    pub fn len(&self) -> usize {
        self.points.len()
    }

    pub fn is_empty(&self) -> bool {
        self.points.is_empty()
    }
}

/// `b` (the window after `a`) merged into `a`.
fn merge_into(a: &mut Point, b: &Point) {
    let (da, db) = ((a.row.end - a.row.start).as_secs_f64(), (b.row.end - b.row.start).as_secs_f64());
    let total = da + db;
    let avg = |x: f64, y: f64| if total > 0.0 { (x * da + y * db) / total } else { 0.0 };
    for ((p, q), (sa, sb)) in
        a.row.pools.iter_mut().zip(&b.row.pools).zip(a.slot_seconds.iter_mut().zip(&b.slot_seconds))
    {
        let busy = p.busy_slots * da + q.busy_slots * db;
        *sa += sb;
        *p = PoolLevels {
            ready: avg(p.ready, q.ready),
            provisioning: avg(p.provisioning, q.provisioning),
            billed: avg(p.billed, q.billed),
            queued: avg(p.queued, q.queued),
            busy_slots: avg(p.busy_slots, q.busy_slots),
            utilization: (*sa > 0.0).then(|| busy / *sa),
        };
    }
    a.row.counts.add(&b.row.counts);
    a.row.end = b.row.end;
    a.windows += b.windows;
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::metrics::timeseries::WindowCounts;
    use crate::time::{SimDuration, SimTime};

    fn row(i: u64) -> Row {
        let t = |k: u64| SimTime::ZERO + SimDuration::from_secs(60 * k);
        let counts = WindowCounts { offered: i, succeeded: 1, ..WindowCounts::default() };
        let level = PoolLevels {
            ready: 2.0,
            busy_slots: (i % 3) as f64,
            utilization: Some((i % 3) as f64 / 4.0),
            ..PoolLevels::default()
        };
        Row { start: t(i), end: t(i + 1), counts, pools: vec![level] }
    }

    #[test]
    fn short_series_are_their_rows() {
        let mut o = Overview::new();
        let rows: Vec<Row> = (0..MAX_POINTS as u64).map(row).collect();
        rows.iter().for_each(|r| o.push(r, vec![4.0 * 60.0]));
        assert!(o.rows().eq(rows.iter()));
    }

    #[test]
    fn long_series_stay_bounded_and_add_up() {
        let mut o = Overview::new();
        let n = 10 * MAX_POINTS as u64 + 7;
        (0..n).map(row).for_each(|r| o.push(&r, vec![4.0 * 60.0]));
        assert!(o.len() <= MAX_POINTS && o.len() > MAX_POINTS / 2, "{} points", o.len());
        let rows: Vec<&Row> = o.rows().collect();
        assert_eq!(rows[0].start, SimTime::ZERO);
        assert_eq!(rows.last().expect("points").end, SimTime::ZERO + SimDuration::from_secs(60 * n));
        assert!(rows.windows(2).all(|w| w[0].end == w[1].start), "points tile the run");
        assert_eq!(rows.iter().map(|r| r.counts.offered).sum::<u64>(), n * (n - 1) / 2);
        assert_eq!(rows.iter().map(|r| r.counts.succeeded).sum::<u64>(), n);
        // Busy slots cycle 0, 1, 2 over 4 serving slots: a point of 16 windows
        // averages 1 busy slot (give or take one window's 1/16), utilization a quarter of that.
        let p = &rows[1].pools[0];
        let u = p.utilization.expect("slots");
        assert!((p.busy_slots - 1.0).abs() <= 1.0 / 16.0 && (u - p.busy_slots / 4.0).abs() < 1e-12, "{p:?}");
        assert!((p.ready - 2.0).abs() < 1e-12);
    }
}
