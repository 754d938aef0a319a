//! The future event list: a binary heap ordered by (time, sequence number)
//! (`heap.rs`).
//!
//! Ties in time resolve in insertion order, so two events scheduled for the
//! same instant always run in the order they were scheduled, and a run is
//! reproducible bit for bit.
//!
//! Beside the heap sit *lanes*: slots that each hold at most one pending event
//! (a swarm's next arrival). An open-loop swarm always has exactly one, so a
//! lane saves a heap push and pop per request. Lane entries draw their sequence
//! number from the same counter as heap entries, so the order of events — and
//! with it every result — is exactly what an all-heap queue would give.
//!
//! Timers set a constant delay ahead (a client or first-byte timeout, a probe
//! interval) fall due in the order they were set, since time only advances:
//! each such delay gets a FIFO instead of the heap ([`EventQueue::push_steady`]).
//! Most of them never matter (the request ended first) but still pass through
//! the queue; in a FIFO each costs O(1) instead of O(log n), and the heap keeps
//! only the few events whose times are drawn (job milestones, backoffs).
//! FIFO entries take their sequence numbers from the same counter, so the order
//! is again exactly the all-heap one.

use std::collections::VecDeque;

use super::heap::{Entry, Heap};
use crate::time::SimTime;

/// At most this many FIFOs (distinct constant delays) at once; beyond, timers
/// go to the heap. A FIFO that empties may take another delay.
const MAX_FIFOS: usize = 8;

/// (time, seq) as one number, for the few comparisons between the heads of
/// the heap, the lanes and the FIFOs. `EMPTY` stands for no entry.
type Key = u128;
const EMPTY: Key = Key::MAX;

#[inline(always)]
fn key(time: u64, seq: u64) -> Key {
    (Key::from(time) << 64) | Key::from(seq)
}

/// The index of the smallest key, if any is not `EMPTY`.
// A plain loop: with `min_by_key` over the u128 keys the playground's run
// took 3% more instructions (the FIFOs' heads are scanned at every pop from one).
fn min_index(keys: &[Key]) -> Option<usize> {
    let (mut best, mut at) = (EMPTY, 0);
    for (i, &k) in keys.iter().enumerate() {
        if k < best {
            (best, at) = (k, i);
        }
    }
    (best != EMPTY).then_some(at)
}

/// After finding a FIFO's new head still pending, take this many more heads
/// of that FIFO without asking. Asking costs a lookup of the timer's entity,
/// a likely cache miss; where timers mostly fire (a retry storm's timeouts)
/// that cost more than dropping the others saved (5% slower), and where they
/// are mostly spent a run of spent heads still goes at once.
const RECHECK_AFTER_LIVE: u8 = 7;

/// The delay of a FIFO slot not in use (no timer is set 584 years ahead).
const NO_DELAY: u64 = u64::MAX;

/// Where the earliest pending event is.
#[derive(Copy, Clone)]
enum Source {
    Heap,
    Lane(usize),
    Fifo(usize),
}

/// Pending events.
pub struct EventQueue<E> {
    heap: Heap<E>,
    lanes: Vec<Option<E>>,
    /// Each lane's entry's key (`EMPTY` when it has none).
    lane_keys: Vec<Key>,
    /// The lane holding the earliest lane entry, if any.
    lane_min: Option<usize>,
    lanes_used: usize,
    /// Events set `fifo_delays[i]` nanoseconds ahead, in the order set. The
    /// three are fixed arrays so that the scans over them unroll.
    fifos: [VecDeque<Entry<E>>; MAX_FIFOS],
    fifo_delays: [u64; MAX_FIFOS],
    /// Each FIFO's head's key (`EMPTY` when it is empty).
    fifo_keys: [Key; MAX_FIFOS],
    /// The FIFO whose head is the earliest FIFO entry, if any.
    fifo_min: Option<usize>,
    fifo_len: usize,
    /// Per FIFO: new heads to take unchecked before asking again whether one
    /// is spent (see [`EventQueue::pop_dropping`]).
    fifo_recheck: [u8; MAX_FIFOS],
    seq: u64,
}

impl<E: Copy> std::fmt::Debug for EventQueue<E> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EventQueue").field("pending", &self.len()).field("scheduled", &self.seq).finish()
    }
}

impl<E: Copy> Default for EventQueue<E> {
    fn default() -> Self {
        EventQueue {
            heap: Heap::new(),
            lanes: Vec::new(),
            lane_keys: Vec::new(),
            lane_min: None,
            lanes_used: 0,
            fifos: std::array::from_fn(|_| VecDeque::new()),
            fifo_delays: [NO_DELAY; MAX_FIFOS],
            fifo_keys: [EMPTY; MAX_FIFOS],
            fifo_min: None,
            fifo_len: 0,
            fifo_recheck: [0; MAX_FIFOS],
            seq: 0,
        }
    }
}

impl<E: Copy> EventQueue<E> {
    pub fn new() -> Self {
        Self::default()
    }

    #[inline]
    pub fn push(&mut self, at: SimTime, event: E) {
        self.heap.push(Entry { time: at.as_nanos(), seq: self.seq, event });
        self.seq += 1;
    }

    /// Schedules the one pending event of `lane`, which must be empty.
    // Inlined, so the event is written straight into its lane, not built and copied.
    #[inline(always)]
    pub fn push_lane(&mut self, lane: usize, at: SimTime, event: E) {
        if self.lanes.len() <= lane {
            self.lanes.resize_with(lane + 1, || None);
            self.lane_keys.resize(lane + 1, EMPTY);
        }
        debug_assert!(self.lanes[lane].is_none(), "lane {lane} already holds an event");
        let k = key(at.as_nanos(), self.seq);
        self.lanes[lane] = Some(event);
        self.lane_keys[lane] = k;
        self.seq += 1;
        self.lanes_used += 1;
        // The other lanes are unchanged, so the earliest is the old one or this.
        if self.lane_min.is_none_or(|m| k < self.lane_keys[m]) {
            self.lane_min = Some(lane);
        }
    }

    /// Schedules `event` at `at`, set at `now` by a timer whose delay is
    /// usually the same (a timeout, an interval): such events go to the FIFO
    /// of their delay. Same order as [`EventQueue::push`], cheaper.
    pub fn push_steady(&mut self, now: SimTime, at: SimTime, event: E) {
        let time = at.as_nanos();
        let delay = time.saturating_sub(now.as_nanos());
        let i = match self.fifo_delays.iter().position(|&d| d == delay) {
            Some(i) if delay != NO_DELAY => i,
            Some(_) => return self.push(at, event),
            // A FIFO not in use, or one that emptied, takes the new delay.
            None => match self.fifo_keys.iter().position(|&k| k == EMPTY) {
                Some(i) => {
                    self.fifo_delays[i] = delay;
                    i
                }
                None => return self.push(at, event),
            },
        };
        let f = &mut self.fifos[i];
        // Time never goes back, so this holds; the heap keeps the order if not.
        if f.back().is_some_and(|b| b.time > time) {
            return self.push(at, event);
        }
        f.push_back(Entry { time, seq: self.seq, event });
        self.fifo_len += 1;
        // Only a new head can become the earliest.
        if self.fifo_keys[i] == EMPTY {
            let k = key(time, self.seq);
            self.fifo_keys[i] = k;
            if self.fifo_min.is_none_or(|m| k < self.fifo_keys[m]) {
                self.fifo_min = Some(i);
            }
        }
        self.seq += 1;
    }

    /// Where the earliest event is, and its time.
    #[inline]
    fn earliest(&self) -> Option<(Source, u64)> {
        let mut best = self.heap.peek().map_or(EMPTY, |e| key(e.time, e.seq));
        let mut source = Source::Heap;
        if let Some(l) = self.lane_min
            && self.lane_keys[l] < best
        {
            best = self.lane_keys[l];
            source = Source::Lane(l);
        }
        if let Some(f) = self.fifo_min
            && self.fifo_keys[f] < best
        {
            best = self.fifo_keys[f];
            source = Source::Fifo(f);
        }
        (best != EMPTY).then_some((source, (best >> 64) as u64))
    }

    pub fn pop(&mut self) -> Option<(SimTime, E)> {
        self.pop_dropping(|_, _| false)
    }

    /// Takes the earliest event, and drops the entries `spent` names (given
    /// their time) as they come to the head of a FIFO behind it. Most
    /// timeouts are spent long before they are due (the attempt was
    /// answered), and a FIFO's head is where they are cheapest to drop:
    /// each would otherwise cost a scan of the FIFOs' heads, then a call
    /// that does nothing. A FIFO whose new head was still pending is not
    /// asked again for its next `RECHECK_AFTER_LIVE` heads. `spent` must
    /// stay true for an entry once it is; which entries it drops changes
    /// only the speed.
    #[inline]
    pub fn pop_dropping(&mut self, mut spent: impl FnMut(u64, &E) -> bool) -> Option<(SimTime, E)> {
        let (source, time) = self.earliest()?;
        let event = match source {
            Source::Heap => self.heap.pop()?.event,
            Source::Lane(lane) => {
                let e = self.lanes[lane].take().expect("lane key implies an entry");
                self.lane_keys[lane] = EMPTY;
                self.lanes_used -= 1;
                self.lane_min = if self.lanes_used == 0 { None } else { min_index(&self.lane_keys) };
                e
            }
            Source::Fifo(i) => {
                let f = &mut self.fifos[i];
                let e = f.pop_front().expect("fifo key implies an entry");
                self.fifo_len -= 1;
                if self.fifo_recheck[i] > 0 {
                    self.fifo_recheck[i] -= 1;
                } else {
                    while let Some(n) = f.front() {
                        if !spent(n.time, &n.event) {
                            self.fifo_recheck[i] = RECHECK_AFTER_LIVE;
                            break;
                        }
                        f.pop_front();
                        self.fifo_len -= 1;
                    }
                }
                self.fifo_keys[i] = f.front().map_or(EMPTY, |n| key(n.time, n.seq));
                self.fifo_min = if self.fifo_len == 0 { None } else { min_index(&self.fifo_keys) };
                e.event
            }
        };
        Some((SimTime::from_nanos(time), event))
    }

    pub fn peek_time(&self) -> Option<SimTime> {
        self.earliest().map(|(_, t)| SimTime::from_nanos(t))
    }

    /// Drops the heap's and the FIFOs' events `keep` refuses (lanes are left
    /// alone). The rest keep their sequence numbers, so the order of what
    /// remains is unchanged.
    pub fn retain(&mut self, mut keep: impl FnMut(&E) -> bool) {
        self.heap.retain(&mut keep);
        for (f, k) in self.fifos.iter_mut().zip(&mut self.fifo_keys) {
            f.retain(|e| keep(&e.event));
            *k = f.front().map_or(EMPTY, |n| key(n.time, n.seq));
        }
        self.fifo_len = self.fifos.iter().map(VecDeque::len).sum();
        self.fifo_min = min_index(&self.fifo_keys);
    }

    pub fn len(&self) -> usize {
        self.heap.len() + self.lanes_used + self.fifo_len
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn earliest_first_and_ties_in_insertion_order() {
        let mut q = EventQueue::new();
        let t = SimTime::from_nanos;
        q.push(t(5), 'a');
        q.push(t(1), 'b');
        q.push(t(5), 'c');
        q.push(t(1), 'd');
        q.push(t(3), 'e');
        let order: Vec<char> = std::iter::from_fn(|| q.pop().map(|(_, e)| e)).collect();
        assert_eq!(order, ['b', 'd', 'e', 'a', 'c']);
    }

    #[test]
    fn lanes_interleave_with_the_heap_in_time_then_insertion_order() {
        let mut q = EventQueue::new();
        let t = SimTime::from_nanos;
        q.push(t(5), 'a');
        q.push_lane(1, t(5), 'L');
        q.push(t(5), 'b');
        q.push_lane(0, t(2), 'K');
        q.push(t(1), 'c');
        assert_eq!(q.len(), 5);
        let order: Vec<char> = std::iter::from_fn(|| q.pop().map(|(_, e)| e)).collect();
        assert_eq!(order, ['c', 'K', 'a', 'L', 'b']);
    }

    #[test]
    fn retain_drops_only_what_it_refuses_and_keeps_the_order() {
        let mut q = EventQueue::new();
        let t = SimTime::from_nanos;
        for (i, c) in ['a', 'x', 'b', 'x', 'c'].into_iter().enumerate() {
            q.push(t(10 - i as u64 % 2), c);
        }
        q.push_lane(0, t(0), 'x');
        // Two FIFOs: one emptied entirely, one whose head goes.
        q.push_steady(t(0), t(3), 'x');
        q.push_steady(t(0), t(4), 'x');
        q.push_steady(t(1), t(5), 'd');
        q.retain(|&c| c != 'x');
        assert_eq!(q.len(), 5);
        assert_eq!(q.peek_time(), Some(t(0)));
        let order: Vec<char> = std::iter::from_fn(|| q.pop().map(|(_, e)| e)).collect();
        assert_eq!(order, ['x', 'd', 'a', 'b', 'c']);
    }

    /// Spent FIFO entries are dropped as they reach their FIFO's head, the
    /// rest pop in the same order as without dropping; heap and lane
    /// entries are never asked about, and a FIFO whose head was pending is
    /// not asked again for its next `RECHECK_AFTER_LIVE` heads.
    #[test]
    fn spent_entries_are_dropped_at_their_fifos_head_and_the_rest_keep_their_order() {
        let t = SimTime::from_nanos;
        let (mut a, mut b) = (EventQueue::new(), EventQueue::new());
        // FIFO of delay 100: all spent. FIFO of delay 107: spent but every
        // tenth. Negative entries go to the heap, 1000 to a lane.
        let spent = |e: i64| e >= 0 && (e % 2 == 0 || e % 20 != 1);
        for q in [&mut a, &mut b] {
            for n in 0..200u32 {
                q.push_steady(t(u64::from(n)), t(u64::from(n) + 100 + u64::from(n % 2) * 7), i64::from(n));
                q.push(t(u64::from(n) * 3), -i64::from(n) - 1);
            }
            q.push_lane(0, t(50), 1000);
        }
        let (mut asked, mut got) = (Vec::new(), Vec::new());
        while let Some((_, e)) = a.pop_dropping(|_, &e| {
            asked.push(e);
            spent(e)
        }) {
            got.push(e);
        }
        let all: Vec<i64> = std::iter::from_fn(|| b.pop().map(|(_, e)| e)).collect();
        let dropped: Vec<i64> = all.iter().copied().filter(|e| !got.contains(e)).collect();
        assert!(dropped.iter().all(|&e| spent(e) && asked.contains(&e)), "only spent entries asked about go");
        assert_eq!(got, all.iter().copied().filter(|e| !dropped.contains(e)).collect::<Vec<_>>());
        assert!(asked.iter().all(|&e| (0..200).contains(&e)), "only FIFO entries are asked about");
        // The all-spent FIFO loses everything but its first head.
        assert_eq!(dropped.iter().filter(|&&e| e % 2 == 0).count(), 99);
        // The other is asked again only after RECHECK_AFTER_LIVE unchecked heads.
        let odd_asked = asked.iter().filter(|&&e| e % 2 == 1).count();
        assert!(odd_asked < 100 && dropped.iter().any(|&e| e % 2 == 1), "asked {odd_asked} of 100");
        assert!(a.is_empty());
    }

    #[test]
    fn steady_timers_keep_the_all_heap_order() {
        // The same pushes into the heap alone and through FIFOs pop alike.
        let t = SimTime::from_nanos;
        let (mut a, mut b) = (EventQueue::new(), EventQueue::new());
        let mut now = 0;
        let mut rng = 12345u64;
        let mut lane_busy = false;
        for n in 0..2000u32 {
            rng = rng.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
            let r = rng >> 33;
            // Eleven delays (more than there are FIFOs), some random times.
            let delay = if r.is_multiple_of(4) { r % 97 } else { 10 * (r % 11) };
            a.push(t(now + delay), n);
            b.push_steady(t(now), t(now + delay), n);
            if r.is_multiple_of(3) {
                if !lane_busy {
                    a.push_lane(0, t(now + r % 13), n + 100_000);
                    b.push_lane(0, t(now + r % 13), n + 100_000);
                    lane_busy = true;
                }
                let (x, y) = (a.pop().expect("a"), b.pop().expect("b"));
                assert_eq!(x, y);
                now = x.0.as_nanos();
                lane_busy &= x.1 < 100_000;
            }
            assert_eq!(a.peek_time(), b.peek_time());
            assert_eq!(a.len(), b.len());
        }
        while let Some(x) = a.pop() {
            assert_eq!(Some(x), b.pop());
        }
        assert!(b.is_empty());
    }
}
