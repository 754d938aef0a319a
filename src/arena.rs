//! A generational arena: a `Vec` with a free list whose keys go stale.
//!
//! Timers in the simulation are never cancelled eagerly; a timer event carries
//! the key of the entity it is about, and when it fires after that entity is
//! gone (and its slot reused) the generation no longer matches and the event is
//! ignored. Memory stays proportional to the entities alive, not to simulated time.
//!
//! A slot's generation is even while it holds an entry and odd once that is
//! removed; the removed value stays in the slot until the next insert
//! overwrites it. A lookup is then one bounds check and one compare of the
//! key's (always even) generation, with no separate "occupied" test. Removed
//! slots form a stack threaded through the slots themselves (the last removed
//! is reused first), so an insert or a removal touches only its own slot.

/// A handle to an arena entry: its slot in the high half, the slot's
/// generation in the low half. One u64, so a key is written and read in one
/// piece (two 32-bit halves written apart and read back whole cannot be
/// forwarded from the CPU's store buffer); the order is (slot, generation).
/// Aligned to 4 like the two halves were, so that no event or record that
/// holds keys grows padding.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[repr(C, packed(4))]
pub struct Key(u64);

impl Key {
    #[inline(always)]
    fn new(idx: u32, generation: u32) -> Key {
        Key((u64::from(idx) << 32) | u64::from(generation))
    }
    #[inline(always)]
    fn idx(self) -> u32 {
        (self.0 >> 32) as u32
    }
    #[inline(always)]
    fn generation(self) -> u32 {
        self.0 as u32
    }
    /// Packs the key into one integer (for opaque tokens passed between
    /// models): the generation in the high half.
    pub fn to_bits(self) -> u64 {
        self.0.rotate_left(32)
    }
    pub fn from_bits(bits: u64) -> Key {
        Key(bits.rotate_right(32))
    }
    /// The slot the key names (unique among the live keys of one arena).
    pub fn slot(self) -> usize {
        self.idx() as usize
    }
}

#[derive(Debug, Clone)]
struct Slot<T> {
    /// Even while `value` is live, odd while it is a removed entry's.
    generation: u32,
    /// While removed: the slot removed before it (`NO_SLOT` for none).
    next_free: u32,
    value: T,
}

/// The end of the stack of removed slots.
const NO_SLOT: u32 = u32::MAX;

impl<T> Slot<T> {
    #[inline(always)]
    fn live(&self) -> bool {
        self.generation.is_multiple_of(2)
    }
}

/// Entries addressed by [`Key`]; removed slots are reused with a new generation.
#[derive(Debug, Clone)]
pub struct Arena<T> {
    slots: Vec<Slot<T>>,
    /// The last removed slot (`NO_SLOT` when none is free).
    free: u32,
    len: usize,
}

impl<T> Default for Arena<T> {
    fn default() -> Self {
        Arena { slots: Vec::new(), free: NO_SLOT, len: 0 }
    }
}

impl<T> Arena<T> {
    pub fn new() -> Self {
        Self::default()
    }

    // Inlined, and the value written at one place once its slot is known,
    // so that a large value is built in its slot rather than copied there.
    #[inline(always)]
    pub fn insert(&mut self, value: T) -> Key {
        self.insert_with(|| value)
    }

    /// Inserts the value `make` builds, made once its slot is known, so that
    /// it is written in place rather than built on the stack and copied.
    #[inline(always)]
    pub fn insert_with(&mut self, make: impl FnOnce() -> T) -> Key {
        self.len += 1;
        let idx = self.free;
        if idx == NO_SLOT {
            return self.grow(make());
        }
        let slot = &mut self.slots[idx as usize];
        self.free = slot.next_free;
        slot.generation = slot.generation.wrapping_add(1);
        slot.value = make();
        Key::new(idx, slot.generation)
    }

    /// A new slot at the end, holding `value`.
    #[cold]
    fn grow(&mut self, value: T) -> Key {
        let idx = u32::try_from(self.slots.len()).ok().filter(|&i| i != NO_SLOT).expect("2^32 live entities");
        self.slots.push(Slot { generation: 0, next_free: NO_SLOT, value });
        Key::new(idx, 0)
    }

    // A key's generation is even, so a removed entry's slot never matches.
    pub fn get(&self, k: Key) -> Option<&T> {
        self.slots.get(k.idx() as usize).filter(|s| s.generation == k.generation()).map(|s| &s.value)
    }

    pub fn get_mut(&mut self, k: Key) -> Option<&mut T> {
        self.slots.get_mut(k.idx() as usize).filter(|s| s.generation == k.generation()).map(|s| &mut s.value)
    }

    pub fn contains(&self, k: Key) -> bool {
        self.get(k).is_some()
    }

    /// Removes `k`'s entry and returns a copy of it (the slot keeps the
    /// value until it is reused).
    pub fn remove(&mut self, k: Key) -> Option<T>
    where
        T: Clone,
    {
        self.remove_with(k, T::clone)
    }

    /// Removes `k`'s entry after `read` took what it needs of it, in place:
    /// a large entry is not moved out only to be dropped.
    #[inline]
    pub fn remove_with<R>(&mut self, k: Key, read: impl FnOnce(&T) -> R) -> Option<R> {
        let slot = self.slots.get_mut(k.idx() as usize).filter(|s| s.generation == k.generation())?;
        let r = read(&slot.value);
        slot.generation = slot.generation.wrapping_add(1);
        slot.next_free = self.free;
        self.free = k.idx();
        self.len -= 1;
        Some(r)
    }

    pub fn len(&self) -> usize {
        self.len
    }

    /// The most entries ever alive at once (slots are reused, never freed).
    pub fn high_water(&self) -> usize {
        self.slots.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Live entries in slot order (deterministic).
    pub fn iter(&self) -> impl Iterator<Item = (Key, &T)> {
        self.slots
            .iter()
            .enumerate()
            .filter(|(_, s)| s.live())
            .map(|(i, s)| (Key::new(i as u32, s.generation), &s.value))
    }

    pub fn iter_mut(&mut self) -> impl Iterator<Item = (Key, &mut T)> {
        self.slots
            .iter_mut()
            .enumerate()
            .filter(|(_, s)| s.live())
            .map(|(i, s)| (Key::new(i as u32, s.generation), &mut s.value))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_removed_key_stays_dead_after_its_slot_is_reused() {
        let mut a = Arena::new();
        let k1 = a.insert("a");
        assert_eq!(a.remove(k1), Some("a"));
        let k2 = a.insert("b");
        assert_eq!(a.get(k1), None);
        assert_eq!(a.get(k2), Some(&"b"));
        assert_eq!(a.remove(k1), None);
        assert_eq!(a.len(), 1);
        assert_eq!(Key::from_bits(k2.to_bits()), k2);
        assert_eq!(a.remove_with(k2, |v| v.len()), Some(1));
        assert_eq!(a.remove_with(k2, |v| v.len()), None);
        assert!(a.is_empty());
    }

    /// A removed entry's value stays in its slot, but no key, lookup or
    /// iteration reaches it; an insert reuses the slot under a new key.
    #[test]
    fn removed_entries_are_invisible_until_their_slot_is_reused() {
        let mut a = Arena::new();
        let keys: Vec<Key> = (0..3).map(|i| a.insert(i * 10)).collect();
        assert_eq!(a.remove(keys[1]), Some(10));
        assert_eq!(a.get(keys[1]), None);
        assert!(!a.contains(keys[1]));
        assert_eq!(a.iter().map(|(_, &v)| v).collect::<Vec<_>>(), [0, 20]);
        for (_, v) in a.iter_mut() {
            *v += 1;
        }
        let k = a.insert(7);
        assert_eq!(k.slot(), keys[1].slot());
        assert_ne!(k, keys[1]);
        assert_eq!(a.iter().map(|(k, &v)| (k, v)).collect::<Vec<_>>(), [(keys[0], 1), (k, 7), (keys[2], 21)]);
        assert_eq!((a.len(), a.high_water()), (3, 3));
    }
}
