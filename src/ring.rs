//! A double-ended queue of `Copy` values in a power-of-two ring.
//!
//! `std::collections::VecDeque` does the same, but its `push_back` is an
//! out-of-line call in the simulator's hot path (a GPU instance's queue takes
//! two of every three M/M/10 customers), which perf showed at 2% of the
//! engine's time. Here every operation but growing inlines, and the
//! power-of-two capacity turns the wrap-around into a mask.

/// Values in a ring buffer; `head` is the front's position, `len` how many.
#[derive(Clone, Debug)]
pub struct Ring<T: Copy> {
    buf: Vec<T>,
    head: usize,
    len: usize,
}

impl<T: Copy> Default for Ring<T> {
    fn default() -> Self {
        Ring { buf: Vec::new(), head: 0, len: 0 }
    }
}

impl<T: Copy> Ring<T> {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The position of the `i`-th value from the front.
    #[inline(always)]
    fn at(&self, i: usize) -> usize {
        (self.head + i) & (self.buf.len().wrapping_sub(1))
    }

    #[inline(always)]
    pub fn push_back(&mut self, value: T) {
        if self.len == self.buf.len() {
            self.grow(value);
        }
        let at = self.at(self.len);
        self.buf[at] = value;
        self.len += 1;
    }

    /// Doubles the capacity (at least 4), keeping the order; `fill` pads the
    /// new part (every slot of a `Vec` holds a value).
    #[cold]
    #[inline(never)]
    fn grow(&mut self, fill: T) {
        let cap = (self.buf.len() * 2).max(4);
        let mut buf = Vec::with_capacity(cap);
        buf.extend((0..self.len).map(|i| self.buf[self.at(i)]));
        buf.resize(cap, fill);
        (self.buf, self.head) = (buf, 0);
    }

    #[inline(always)]
    pub fn front(&self) -> Option<&T> {
        (self.len > 0).then(|| &self.buf[self.head])
    }

    #[inline(always)]
    pub fn pop_front(&mut self) -> Option<T> {
        if self.len == 0 {
            return None;
        }
        let v = self.buf[self.head];
        self.head = self.at(1);
        self.len -= 1;
        Some(v)
    }

    #[inline(always)]
    pub fn pop_back(&mut self) -> Option<T> {
        if self.len == 0 {
            return None;
        }
        self.len -= 1;
        Some(self.buf[self.at(self.len)])
    }

    pub fn clear(&mut self) {
        (self.head, self.len) = (0, 0);
    }

    /// The values, front to back.
    pub fn iter(&self) -> impl Iterator<Item = &T> {
        (0..self.len).map(|i| &self.buf[self.at(i)])
    }
}

#[cfg(test)]
mod tests {
    use std::collections::VecDeque;

    use super::*;

    /// Through random pushes and pops at both ends, across growth and
    /// wrap-around, the ring holds what a VecDeque holds.
    #[test]
    fn behaves_as_a_vecdeque() {
        let (mut ring, mut model) = (Ring::new(), VecDeque::new());
        let mut x = 0x9e37_79b9_7f4a_7c15u64;
        for n in 0..20_000u32 {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            match x % 7 {
                0..=3 => {
                    ring.push_back(n);
                    model.push_back(n);
                }
                4 | 5 => assert_eq!(ring.pop_front(), model.pop_front()),
                _ => assert_eq!(ring.pop_back(), model.pop_back()),
            }
            assert_eq!(ring.front(), model.front());
            assert_eq!(ring.len(), model.len());
            if n % 1000 == 0 {
                assert!(ring.iter().eq(model.iter()));
            }
        }
        ring.clear();
        assert!(ring.is_empty() && ring.front().is_none() && ring.pop_back().is_none());
    }
}
