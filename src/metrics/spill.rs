//! Closed time-series rows kept on disk instead of in memory.
//!
//! A run's time series grows by one row per window; a long run with short
//! windows would hold every row until the report is written. The series keeps
//! at most [`IN_MEMORY`] rows and moves older ones here: an unnamed temporary
//! file (removed from its directory at once, so nothing is left behind), one
//! fixed-size binary record per row, floats by their bits, so a row read back
//! is the row written. Reading goes by offset (`pread`), so appending and
//! reading never share a cursor.
//!
//! Where no temporary file can be made or written, rows simply stay in memory.

use std::fs::File;

use super::timeseries::{PoolLevels, Row, WindowCounts};
use crate::model::outcome::OUTCOME_COUNT;
use crate::time::SimTime;

/// Rows a series holds in memory before moving them to its spill.
pub const IN_MEMORY: usize = 1024;

/// Rows decoded per read.
const READ_ROWS: usize = 64;

const COUNT_WORDS: usize = 2 + 4 + OUTCOME_COUNT + 5;
const POOL_BYTES: usize = 6 * 8 + 1;

/// Bytes of one encoded row with `pools` pools.
fn record_bytes(pools: usize) -> usize {
    COUNT_WORDS * 8 + pools * POOL_BYTES
}

/// An append-only file of encoded rows.
#[derive(Debug)]
pub struct Spill {
    file: File,
    pools: usize,
    rows: usize,
}

impl Spill {
    /// A fresh, empty spill; None when the system gives no temporary file.
    pub fn create(pools: usize) -> Option<Spill> {
        use std::sync::atomic::{AtomicU64, Ordering};
        static NEXT: AtomicU64 = AtomicU64::new(0);
        if !cfg!(unix) {
            return None;
        }
        let n = NEXT.fetch_add(1, Ordering::Relaxed);
        let path = std::env::temp_dir().join(format!("stampede-series-{}-{n}", std::process::id()));
        let file = std::fs::OpenOptions::new().read(true).write(true).create_new(true).open(&path).ok()?;
        // Unlinked while open: the space is freed when the series is dropped.
        std::fs::remove_file(&path).ok()?;
        Some(Spill { file, pools, rows: 0 })
    }

    pub fn len(&self) -> usize {
        self.rows
    }

    /// Appends `rows`; false (and nothing appended) when the write failed.
    pub fn append(&mut self, rows: &[Row]) -> bool {
        let mut buf = Vec::with_capacity(rows.len() * record_bytes(self.pools));
        for r in rows {
            encode(r, self.pools, &mut buf);
        }
        let at = (self.rows * record_bytes(self.pools)) as u64;
        if write_at(&self.file, &buf, at).is_err() {
            return false;
        }
        self.rows += rows.len();
        true
    }

    /// Rows `from..from + n` (n ≤ what is left), appended to `out`.
    fn read(&self, from: usize, n: usize, out: &mut Vec<Row>) {
        let size = record_bytes(self.pools);
        let mut buf = vec![0u8; n * size];
        // The file is ours and was written whole: failing to read it back is
        // a broken system, not bad input.
        read_at(&self.file, &mut buf, (from * size) as u64).expect("the time series' temporary file reads back");
        out.extend(buf.chunks_exact(size).map(|b| decode(b, self.pools)));
    }

    /// Every spilled row, in order, a few at a time.
    pub fn rows(&self) -> SpillRows<'_> {
        SpillRows { spill: self, next: 0, buf: Vec::new() }
    }
}

/// Iterator over a spill's rows.
#[derive(Debug)]
pub struct SpillRows<'a> {
    spill: &'a Spill,
    next: usize,
    /// Decoded rows not yet handed out, last first.
    buf: Vec<Row>,
}

impl Iterator for SpillRows<'_> {
    type Item = Row;
    fn next(&mut self) -> Option<Row> {
        if self.buf.is_empty() && self.next < self.spill.rows {
            let n = READ_ROWS.min(self.spill.rows - self.next);
            self.spill.read(self.next, n, &mut self.buf);
            self.buf.reverse();
            self.next += n;
        }
        self.buf.pop()
    }
}

#[cfg(unix)]
fn write_at(f: &File, buf: &[u8], at: u64) -> std::io::Result<()> {
    std::os::unix::fs::FileExt::write_all_at(f, buf, at)
}

#[cfg(unix)]
fn read_at(f: &File, buf: &mut [u8], at: u64) -> std::io::Result<()> {
    std::os::unix::fs::FileExt::read_exact_at(f, buf, at)
}

#[cfg(not(unix))]
fn write_at(_: &File, _: &[u8], _: u64) -> std::io::Result<()> {
    Err(std::io::ErrorKind::Unsupported.into())
}

#[cfg(not(unix))]
fn read_at(_: &File, _: &mut [u8], _: u64) -> std::io::Result<()> {
    Err(std::io::ErrorKind::Unsupported.into())
}

fn encode(r: &Row, pools: usize, out: &mut Vec<u8>) {
    // Named field by field: a field added to a row fails to compile here
    // instead of being lost on the way through the file.
    let Row { start, end, counts, pools: levels } = r;
    let WindowCounts { offered, succeeded, failed, sent, attempts, cache } = counts;
    let words = [start.as_nanos(), end.as_nanos(), *offered, *succeeded, *failed, *sent];
    for w in words.iter().chain(attempts).chain(cache) {
        out.extend_from_slice(&w.to_le_bytes());
    }
    debug_assert_eq!(levels.len(), pools, "every row has one level per pool");
    for p in levels {
        let PoolLevels { ready, provisioning, billed, queued, busy_slots, utilization } = *p;
        for x in [ready, provisioning, billed, queued, busy_slots, utilization.unwrap_or(0.0)] {
            out.extend_from_slice(&x.to_bits().to_le_bytes());
        }
        out.push(utilization.is_some() as u8);
    }
}

fn decode(b: &[u8], pools: usize) -> Row {
    let word = |i: usize| u64::from_le_bytes(b[i * 8..i * 8 + 8].try_into().expect("eight bytes"));
    let mut counts = WindowCounts {
        offered: word(2),
        succeeded: word(3),
        failed: word(4),
        sent: word(5),
        ..WindowCounts::default()
    };
    for (i, a) in counts.attempts.iter_mut().enumerate() {
        *a = word(6 + i);
    }
    for (i, e) in counts.cache.iter_mut().enumerate() {
        *e = word(6 + OUTCOME_COUNT + i);
    }
    let pool = |k: usize| {
        let p = &b[COUNT_WORDS * 8 + k * POOL_BYTES..][..POOL_BYTES];
        let f = |i: usize| f64::from_bits(u64::from_le_bytes(p[i * 8..i * 8 + 8].try_into().expect("eight bytes")));
        PoolLevels {
            ready: f(0),
            provisioning: f(1),
            billed: f(2),
            queued: f(3),
            busy_slots: f(4),
            utilization: (p[48] == 1).then(|| f(5)),
        }
    };
    Row {
        start: SimTime::from_nanos(word(0)),
        end: SimTime::from_nanos(word(1)),
        counts,
        pools: (0..pools).map(pool).collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(i: u64, pools: usize) -> Row {
        let mut counts =
            WindowCounts { offered: i, succeeded: i / 2, failed: 3, sent: i * 9, ..WindowCounts::default() };
        counts.attempts[4] = i * 7;
        counts.cache[2] = u64::MAX - i;
        let level = |k: usize| PoolLevels {
            ready: 0.1 * i as f64,
            provisioning: f64::MIN_POSITIVE,
            billed: 1.0 / 3.0,
            queued: k as f64,
            busy_slots: -0.0,
            utilization: i.is_multiple_of(2).then_some(i as f64 / 7.0),
        };
        Row {
            start: SimTime::from_nanos(i * 60),
            end: SimTime::from_nanos(i * 60 + 60),
            counts,
            pools: (0..pools).map(level).collect(),
        }
    }

    #[test]
    fn rows_read_back_bit_for_bit_in_order() {
        for pools in [0, 1, 3] {
            let mut s = Spill::create(pools).expect("a temporary file");
            let rows: Vec<Row> = (0..150).map(|i| row(i, pools)).collect();
            assert!(s.append(&rows[..100]));
            assert!(s.append(&rows[100..]));
            assert_eq!(s.len(), 150);
            let back: Vec<Row> = s.rows().collect();
            assert_eq!(back, rows);
            // -0.0 == 0.0 for PartialEq: the bits must match too.
            assert!(back.iter().flat_map(|r| &r.pools).all(|p| p.busy_slots.to_bits() == (-0.0f64).to_bits()));
        }
    }
}
