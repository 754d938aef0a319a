//! A generational arena: a `Vec` with a free list whose keys go stale.
//!
//! Timers in the simulation are never cancelled eagerly; a timer event carries
//! the key of the entity it is about, and when it fires after that entity is
//! gone (and its slot reused) the generation no longer matches and the event is
//! ignored. Memory stays proportional to the entities alive, not to simulated time.

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
    generation: u32,
    value: Option<T>,
}

/// Entries addressed by [`Key`]; removed slots are reused with a new generation.
#[derive(Debug, Clone)]
pub struct Arena<T> {
    slots: Vec<Slot<T>>,
    free: Vec<u32>,
    len: usize,
}

impl<T> Default for Arena<T> {
    fn default() -> Self {
        Arena { slots: Vec::new(), free: Vec::new(), len: 0 }
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
        let idx = match self.free.pop() {
            Some(idx) => idx,
            None => self.grow(),
        };
        let slot = &mut self.slots[idx as usize];
        slot.value = Some(make());
        Key::new(idx, slot.generation)
    }

    /// A new empty slot at the end.
    #[cold]
    fn grow(&mut self) -> u32 {
        let idx = u32::try_from(self.slots.len()).expect("more than 2^32 live entities");
        self.slots.push(Slot { generation: 0, value: None });
        idx
    }

    pub fn get(&self, k: Key) -> Option<&T> {
        self.slots.get(k.idx() as usize).filter(|s| s.generation == k.generation()).and_then(|s| s.value.as_ref())
    }

    pub fn get_mut(&mut self, k: Key) -> Option<&mut T> {
        self.slots.get_mut(k.idx() as usize).filter(|s| s.generation == k.generation()).and_then(|s| s.value.as_mut())
    }

    pub fn contains(&self, k: Key) -> bool {
        self.get(k).is_some()
    }

    pub fn remove(&mut self, k: Key) -> Option<T> {
        let slot = self.slots.get_mut(k.idx() as usize).filter(|s| s.generation == k.generation())?;
        let value = slot.value.take()?;
        slot.generation = slot.generation.wrapping_add(1);
        self.free.push(k.idx());
        self.len -= 1;
        Some(value)
    }

    /// Removes `k`'s entry after `read` took what it needs of it, in place:
    /// a large entry is not moved out only to be dropped.
    #[inline]
    pub fn remove_with<R>(&mut self, k: Key, read: impl FnOnce(&T) -> R) -> Option<R> {
        let slot = self.slots.get_mut(k.idx() as usize).filter(|s| s.generation == k.generation())?;
        let r = read(slot.value.as_ref()?);
        slot.value = None;
        slot.generation = slot.generation.wrapping_add(1);
        self.free.push(k.idx());
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
            .filter_map(|(i, s)| s.value.as_ref().map(|v| (Key::new(i as u32, s.generation), v)))
    }

    pub fn iter_mut(&mut self) -> impl Iterator<Item = (Key, &mut T)> {
        self.slots.iter_mut().enumerate().filter_map(|(i, s)| {
            let generation = s.generation;
            s.value.as_mut().map(|v| (Key::new(i as u32, generation), v))
        })
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
}
