//! One duration recorded once when it belongs in three histograms.
//!
//! On the common path a request succeeds at its first attempt and its
//! response comes in one piece: its first byte, its attempt's latency and its
//! completion are the same duration, which would go into three histograms of
//! 254 KB each (three cache misses per request). Instead the first byte and
//! the successful attempt's latency are held until the request's completion
//! comes; while every completion of a swarm matched them, its completion
//! histogram stands for them too, and is added to the first-byte and latency
//! histograms when the run is settled. Counts, sums and maxima add, so the
//! histograms end up exactly as if every duration had been recorded in each.
//!
//! The first completion that did not match ends this for its swarm: what the
//! completion histogram stood for so far is added at once, and from then on
//! each duration is recorded where it belongs.

use crate::time::SimDuration;

use super::histogram::LatencyHist;

/// What a swarm's completion histogram also stands for, until settled.
#[derive(Copy, Clone, Debug, Default, PartialEq, Eq, PartialOrd, Ord)]
pub(super) enum Owed {
    Nothing,
    /// The successful attempts' latencies.
    Latency,
    /// Those and the first bytes.
    #[default]
    LatencyAndFirstByte,
}

/// Durations held back until the completion they may match.
#[derive(Copy, Clone, Debug, Default)]
pub(super) struct Held {
    pub first_byte: Option<SimDuration>,
    pub ok: Option<SimDuration>,
}

/// The histograms a joint record touches.
pub(super) struct Targets<'a> {
    pub latency_ok: &'a mut LatencyHist,
    pub first_byte: &'a mut LatencyHist,
    pub completion: &'a mut LatencyHist,
    pub owed: &'a mut Owed,
}

impl Targets<'_> {
    /// Records a completion, with whatever was held for it.
    #[inline(always)]
    pub fn complete(&mut self, held: Held, c: SimDuration) {
        let latency = held.ok == Some(c);
        let need = match (latency, held.first_byte == Some(c)) {
            (true, true) => Owed::LatencyAndFirstByte,
            (true, false) => Owed::Latency,
            _ => Owed::Nothing,
        };
        self.lower(need);
        self.completion.record(c);
        if let Some(ok) = held.ok.filter(|_| *self.owed < Owed::Latency) {
            self.latency_ok.record(ok);
        }
        if let Some(fb) = held.first_byte.filter(|_| *self.owed < Owed::LatencyAndFirstByte) {
            self.first_byte.record(fb);
        }
    }

    /// Lowers what the completion histogram stands for to `to`, paying
    /// what it stood for beyond that.
    #[inline(always)]
    pub fn lower(&mut self, to: Owed) {
        if *self.owed > to {
            self.pay(to);
        }
    }

    /// What [`Targets::lower`] does once per swarm at most: out of line.
    #[cold]
    #[inline(never)]
    fn pay(&mut self, to: Owed) {
        if *self.owed == Owed::LatencyAndFirstByte {
            self.first_byte.merge_from(self.completion);
        }
        if to == Owed::Nothing {
            self.latency_ok.merge_from(self.completion);
        }
        *self.owed = to;
    }
}

/// Records what is held where it belongs, alone.
pub(super) fn flush(held: &mut Held, latency_ok: &mut LatencyHist, first_byte: &mut LatencyHist) {
    if let Some(d) = held.ok.take() {
        latency_ok.record(d);
    }
    if let Some(d) = held.first_byte.take() {
        first_byte.record(d);
    }
}

#[cfg(test)]
mod tests {
    use rand::{RngExt, SeedableRng};

    use super::super::{LatencyHist, Recorder};
    use crate::model::outcome::{Cause, Outcome};
    use crate::rng::SimRng;
    use crate::time::{SimDuration, SimTime};

    /// Whatever the order of the records and whichever of them match, the
    /// settled histograms are exactly those of recording each duration in
    /// each histogram it belongs in.
    #[test]
    fn settled_histograms_equal_recording_every_duration_everywhere() {
        let mut rng = SimRng::seed_from_u64(7);
        for _ in 0..200 {
            let mut rec = Recorder::new(SimTime::ZERO, SimDuration::from_secs(60), 2, 1);
            let (mut ok, mut fb) = (LatencyHist::default(), LatencyHist::default());
            let mut done = [LatencyHist::default(), LatencyHist::default()];
            for _ in 0..rng.random_range(0..40) {
                // Few distinct durations, so that records often match.
                let d = SimDuration::from_millis(rng.random_range(0..3));
                let swarm = rng.random_range(0..2);
                match rng.random_range(0..6) {
                    0 | 1 => {
                        rec.first_byte(true, d);
                        fb.record(d);
                    }
                    2 | 3 => {
                        rec.attempt(swarm, true, Outcome::Ok, d);
                        ok.record(d);
                    }
                    4 => {
                        rec.request_done(swarm, true, true, 1, d);
                        done[swarm].record(d);
                    }
                    _ => {
                        rec.attempt(swarm, true, Outcome::Status503(Cause::Busy), d);
                        rec.request_done(swarm, true, false, 1, d);
                    }
                }
            }
            rec.settle();
            assert_eq!(rec.latency_ok.to_stored(), ok.to_stored());
            assert_eq!(rec.first_byte.to_stored(), fb.to_stored());
            for (s, h) in done.iter().enumerate() {
                assert_eq!(rec.swarms[s].completion.to_stored(), h.to_stored());
            }
        }
    }
}
