//! The event queue's binary min-heap of (time, sequence, event) entries.
//!
//! `std::collections::BinaryHeap` moves an entry with `mem::swap` in 8-byte
//! pieces and reads it back in 16-byte ones, which the CPU cannot forward
//! from its store buffer (a stall of a dozen cycles on every pop), and its
//! push is out of line, so every entry is first built on the stack and then
//! copied. Here entries are `Copy`, moved whole into the hole that sifting
//! leaves, and push inlines into its caller, so an event is written once,
//! into its place (the simulator's events are two plain words,
//! `packed.rs`, so that they stay in registers until then).
//!
//! Keys are unique (the sequence number), so the order of pops is the one
//! any correct heap gives, and results do not depend on which heap is used.

/// One scheduled event. (time, seq) are two u64 rather than a u128, whose
/// 16-byte alignment would pad every entry.
#[derive(Copy, Clone)]
pub(super) struct Entry<E> {
    pub time: u64,
    pub seq: u64,
    pub event: E,
}

impl<E> Entry<E> {
    /// (time, seq) as one number: a compare and a borrow per comparison.
    #[inline(always)]
    pub fn key(&self) -> u128 {
        (u128::from(self.time) << 64) | u128::from(self.seq)
    }
}

/// A min-heap on [`Entry::key`].
pub(super) struct Heap<E> {
    v: Vec<Entry<E>>,
}

impl<E: Copy> Heap<E> {
    pub fn new() -> Self {
        Heap { v: Vec::new() }
    }

    pub fn len(&self) -> usize {
        self.v.len()
    }

    pub fn peek(&self) -> Option<&Entry<E>> {
        self.v.first()
    }

    /// Adds `e`, written once, at its place: the new slot at the end is
    /// filled with a copy of an entry first, so that the event, usually just
    /// built by the caller, is not also copied there.
    #[inline(always)]
    pub fn push(&mut self, e: Entry<E>) {
        let Some(&first) = self.v.first() else {
            self.v.push(e);
            return;
        };
        let hole = self.v.len();
        self.v.push(first);
        self.sift_up(hole, e);
    }

    /// Takes the least entry. The last entry fills the root's hole the way
    /// std's heap does: the hole goes down along the lesser children to the
    /// bottom, then the entry sifts up from there (it usually belongs low).
    pub fn pop(&mut self) -> Option<Entry<E>> {
        let last = self.v.pop()?;
        let n = self.v.len();
        if n == 0 {
            return Some(last);
        }
        let top = self.v[0];
        let mut hole = 0;
        let mut child = 1;
        while child + 1 < n {
            child += usize::from(self.v[child + 1].key() < self.v[child].key());
            self.v[hole] = self.v[child];
            hole = child;
            child = 2 * hole + 1;
        }
        if child + 1 == n {
            self.v[hole] = self.v[child];
            hole = child;
        }
        self.sift_up(hole, last);
        Some(top)
    }

    /// Places `e` at `hole` or above it.
    #[inline(always)]
    fn sift_up(&mut self, mut hole: usize, e: Entry<E>) {
        let k = e.key();
        while hole > 0 {
            let parent = (hole - 1) / 2;
            if self.v[parent].key() <= k {
                break;
            }
            self.v[hole] = self.v[parent];
            hole = parent;
        }
        self.v[hole] = e;
    }

    /// Keeps the entries `keep` accepts, and restores the heap.
    pub fn retain(&mut self, mut keep: impl FnMut(&E) -> bool) {
        self.v.retain(|e| keep(&e.event));
        for i in (0..self.v.len() / 2).rev() {
            self.sift_down(i);
        }
    }

    /// Moves the entry at `i` down to where it belongs below `i`.
    fn sift_down(&mut self, mut i: usize) {
        let e = self.v[i];
        let k = e.key();
        let n = self.v.len();
        loop {
            let mut child = 2 * i + 1;
            if child >= n {
                break;
            }
            if child + 1 < n && self.v[child + 1].key() < self.v[child].key() {
                child += 1;
            }
            if self.v[child].key() >= k {
                break;
            }
            self.v[i] = self.v[child];
            i = child;
        }
        self.v[i] = e;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Through random pushes, pops and retains, entries come out in key
    /// order, as from a sorted list.
    #[test]
    fn pops_in_key_order_through_pushes_pops_and_retains() {
        let mut heap = Heap::new();
        let mut model: Vec<(u64, u64)> = Vec::new();
        let mut rng = 0x2545_f491_4f6c_dd1du64;
        let mut next = || {
            rng ^= rng << 13;
            rng ^= rng >> 7;
            rng ^= rng << 17;
            rng
        };
        for seq in 0..5000u64 {
            let r = next();
            let time = r % 50;
            heap.push(Entry { time, seq, event: (time, seq) });
            model.push((time, seq));
            if r % 3 == 0 {
                model.sort_unstable();
                let want = model.remove(0);
                assert_eq!(heap.pop().map(|e| e.event), Some(want));
            }
            if seq % 997 == 0 {
                heap.retain(|&(_, s)| s % 5 != 0);
                model.retain(|&(_, s)| s % 5 != 0);
            }
            assert_eq!(heap.len(), model.len());
        }
        model.sort_unstable();
        for want in model {
            assert_eq!(heap.peek().map(|e| e.event), Some(want));
            assert_eq!(heap.pop().map(|e| e.event), Some(want));
        }
        assert!(heap.pop().is_none());
    }
}
