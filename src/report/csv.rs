//! `timeseries.csv`: one row per window, counters then pool levels.

use std::io::{self, Write};

use crate::metrics::Row;
use crate::model::outcome::{OUTCOME_COUNT, Outcome};
use crate::scenario::Scenario;

/// The header, in column order.
pub fn header(sc: &Scenario) -> Vec<String> {
    let mut h: Vec<String> =
        ["start_s", "end_s", "offered", "attempts", "status_503", "succeeded", "failed"].map(String::from).into();
    h.extend(Outcome::ALL.iter().map(|o| o.name().to_string()));
    for p in &sc.pools {
        for col in ["ready", "provisioning", "billed", "queued", "busy_slots", "utilization"] {
            h.push(format!("{}.{col}", p.name));
        }
    }
    h
}

pub fn write_timeseries<W: Write>(mut w: W, sc: &Scenario, rows: &[Row]) -> io::Result<()> {
    writeln!(w, "{}", header(sc).join(","))?;
    for r in rows {
        let c = &r.counts;
        let attempts: u64 = c.attempts.iter().sum();
        let s503: u64 = Outcome::ALL.iter().filter(|o| o.is_503()).map(|o| c.attempts[o.index()]).sum();
        write!(
            w,
            "{},{},{},{},{},{},{}",
            r.start.as_secs_f64(),
            r.end.as_secs_f64(),
            c.offered,
            attempts,
            s503,
            c.succeeded,
            c.failed
        )?;
        for i in 0..OUTCOME_COUNT {
            write!(w, ",{}", c.attempts[i])?;
        }
        for p in &r.pools {
            write!(
                w,
                ",{:.4},{:.4},{:.4},{:.4},{:.4},{:.6}",
                p.ready, p.provisioning, p.billed, p.queued, p.busy_slots, p.utilization
            )?;
        }
        writeln!(w)?;
    }
    Ok(())
}
