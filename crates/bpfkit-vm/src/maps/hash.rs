//! The element index of hash maps (plain, per-cpu, LRU): key to value slot, a free list of
//! slots, and for LRU maps the order of use.
//!
//! Slots are preallocated, as in the kernel's default hash maps, so `max_entries` distinct keys
//! fit and one more is `E2BIG`. An LRU map evicts instead: its least recently used element (by
//! program lookups and updates) makes room. The kernel's LRU is approximate (per-CPU lists,
//! reference bits, batches of 128 moved between lists); an LRU map that never overflows behaves
//! identically, an overflowing one may evict a different element than the kernel would.

use std::collections::HashMap;

use super::{MapError, Slot, check_flags};

/// Key to slot, free slots, and LRU recency.
#[derive(Debug)]
pub(crate) struct HashIndex {
    slots: HashMap<Box<[u8]>, u32>,
    free: Vec<u32>,
    /// For LRU maps: the tick each slot was last used at, and the clock.
    lru: Option<(Vec<u64>, u64)>,
}

impl HashIndex {
    pub fn new(max_entries: u32, lru: bool) -> HashIndex {
        HashIndex {
            slots: HashMap::new(),
            free: (0..max_entries).rev().collect(),
            lru: lru.then(|| (vec![0; max_entries as usize], 0)),
        }
    }

    pub fn get(&self, key: &[u8]) -> Option<u32> {
        self.slots.get(key).copied()
    }

    /// A program's lookup: the slot, now the most recently used.
    pub fn touch(&mut self, key: &[u8]) -> Option<u32> {
        let slot = self.get(key)?;
        self.used(slot);
        Some(slot)
    }

    fn used(&mut self, slot: u32) {
        if let Some((ticks, clock)) = &mut self.lru {
            *clock += 1;
            ticks[slot as usize] = *clock;
        }
    }

    pub fn update(&mut self, key: &[u8], flags: u64) -> Result<Slot, MapError> {
        let present = self.slots.get(key).copied();
        check_flags(present.is_some(), flags)?;
        if let Some(slot) = present {
            self.used(slot);
            return Ok(Slot {
                index: slot,
                fresh: false,
            });
        }
        let slot = match self.free.pop() {
            Some(slot) => slot,
            None if self.lru.is_some() => self.evict(),
            None => return Err(MapError::TooBig),
        };
        self.slots.insert(key.into(), slot);
        self.used(slot);
        Ok(Slot {
            index: slot,
            fresh: true,
        })
    }

    /// Removes the least recently used element and returns its slot.
    fn evict(&mut self) -> u32 {
        let (ticks, _) = self.lru.as_ref().expect("only LRU maps evict");
        let victim = self
            .slots
            .iter()
            .min_by_key(|(key, slot)| (ticks[**slot as usize], (*key).clone()))
            .map(|(key, _)| key.clone())
            .expect("a full map has elements");
        self.slots.remove(&victim).expect("present")
    }

    pub fn remove(&mut self, key: &[u8]) -> Result<(), MapError> {
        let slot = self.slots.remove(key).ok_or(MapError::NotFound)?;
        self.free.push(slot);
        Ok(())
    }

    pub fn keys(&self) -> impl Iterator<Item = &[u8]> {
        self.slots.keys().map(|k| &**k)
    }

    pub fn iter(&self) -> impl Iterator<Item = (&[u8], u32)> {
        self.slots.iter().map(|(k, s)| (&**k, *s))
    }
}
