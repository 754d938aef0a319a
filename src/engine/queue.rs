//! The future event list: a binary heap ordered by (time, sequence number).
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

use std::cmp::Ordering;
use std::collections::BinaryHeap;

use crate::time::SimTime;

struct Entry<E> {
    // (time, seq) as two u64 rather than a u128: u128's 16-byte alignment would
    // pad every entry and the heap moves entries on every push and pop.
    time: u64,
    seq: u64,
    event: E,
}

impl<E> PartialEq for Entry<E> {
    fn eq(&self, o: &Self) -> bool {
        (self.time, self.seq) == (o.time, o.seq)
    }
}
impl<E> Eq for Entry<E> {}
impl<E> PartialOrd for Entry<E> {
    fn partial_cmp(&self, o: &Self) -> Option<Ordering> {
        Some(self.cmp(o))
    }
}
impl<E> Ord for Entry<E> {
    /// Reversed: `BinaryHeap` is a max-heap and we want the earliest first.
    fn cmp(&self, o: &Self) -> Ordering {
        (o.time, o.seq).cmp(&(self.time, self.seq))
    }
}

/// Pending events.
pub struct EventQueue<E> {
    heap: BinaryHeap<Entry<E>>,
    lanes: Vec<Option<Entry<E>>>,
    /// The lane holding the earliest lane entry, if any.
    lane_min: Option<usize>,
    lanes_used: usize,
    seq: u64,
}

impl<E> std::fmt::Debug for EventQueue<E> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EventQueue").field("pending", &self.heap.len()).field("scheduled", &self.seq).finish()
    }
}

impl<E> Default for EventQueue<E> {
    fn default() -> Self {
        EventQueue { heap: BinaryHeap::new(), lanes: Vec::new(), lane_min: None, lanes_used: 0, seq: 0 }
    }
}

impl<E> EventQueue<E> {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn push(&mut self, at: SimTime, event: E) {
        self.heap.push(Entry { time: at.as_nanos(), seq: self.seq, event });
        self.seq += 1;
    }

    /// Schedules the one pending event of `lane`, which must be empty.
    pub fn push_lane(&mut self, lane: usize, at: SimTime, event: E) {
        if self.lanes.len() <= lane {
            self.lanes.resize_with(lane + 1, || None);
        }
        debug_assert!(self.lanes[lane].is_none(), "lane {lane} already holds an event");
        let key = (at.as_nanos(), self.seq);
        self.lanes[lane] = Some(Entry { time: key.0, seq: key.1, event });
        self.seq += 1;
        self.lanes_used += 1;
        // The other lanes are unchanged, so the earliest is the old one or this.
        if self.lane_min.is_none_or(|m| self.lanes[m].as_ref().is_none_or(|e| key < (e.time, e.seq))) {
            self.lane_min = Some(lane);
        }
    }

    fn update_lane_min(&mut self) {
        self.lane_min = self
            .lanes
            .iter()
            .enumerate()
            .filter_map(|(i, e)| e.as_ref().map(|e| (e.time, e.seq, i)))
            .min()
            .map(|(.., i)| i);
    }

    fn lane_key(&self) -> Option<(u64, u64)> {
        let e = self.lanes[self.lane_min?].as_ref()?;
        Some((e.time, e.seq))
    }

    pub fn pop(&mut self) -> Option<(SimTime, E)> {
        let heap_key = self.heap.peek().map(|e| (e.time, e.seq));
        let from_lane = match (heap_key, self.lane_key()) {
            (Some(h), Some(l)) => l < h,
            (None, Some(_)) => true,
            _ => false,
        };
        let e = if from_lane {
            let lane = self.lane_min.expect("lane key implies a lane");
            let e = self.lanes[lane].take().expect("lane key implies an entry");
            self.lanes_used -= 1;
            if self.lanes_used == 0 {
                self.lane_min = None;
            } else {
                self.update_lane_min();
            }
            e
        } else {
            self.heap.pop()?
        };
        Some((SimTime::from_nanos(e.time), e.event))
    }

    pub fn peek_time(&self) -> Option<SimTime> {
        let heap = self.heap.peek().map(|e| e.time);
        let lane = self.lane_key().map(|k| k.0);
        match (heap, lane) {
            (Some(h), Some(l)) => Some(h.min(l)),
            (h, l) => h.or(l),
        }
        .map(SimTime::from_nanos)
    }

    /// Drops the heap's events `keep` refuses (lanes are left alone). The
    /// rest keep their sequence numbers, so the order of what remains is
    /// unchanged.
    pub fn retain(&mut self, mut keep: impl FnMut(&E) -> bool) {
        self.heap.retain(|e| keep(&e.event));
    }

    pub fn len(&self) -> usize {
        self.heap.len() + self.lanes_used
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
        q.retain(|&c| c != 'x');
        assert_eq!(q.len(), 4);
        let order: Vec<char> = std::iter::from_fn(|| q.pop().map(|(_, e)| e)).collect();
        assert_eq!(order, ['x', 'a', 'b', 'c']);
    }
}
