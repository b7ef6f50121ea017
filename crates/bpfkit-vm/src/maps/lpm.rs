//! The element index of an LPM trie: keys are `struct bpf_lpm_trie_key` (a `u32` prefix
//! length, then the data in network byte order) and a lookup finds the longest stored prefix
//! that matches, as `kernel/bpf/lpm_trie.c` does.
//!
//! An element is identified by its prefix length and the first that many bits of its data; the
//! bits after the prefix are kept as the last update wrote them (the kernel stores the key
//! whole, and a dump shows them).

use std::collections::HashMap;

use super::{BPF_EXIST, BPF_NOEXIST, MapError, Slot};

/// An element's identity: its prefix length and masked data.
type Prefix = (u32, Box<[u8]>);

#[derive(Debug)]
pub(crate) struct LpmIndex {
    data_size: usize,
    max_entries: u32,
    /// (prefix length, data with the bits past the prefix cleared) to (slot, the key as stored).
    entries: HashMap<Prefix, (u32, Box<[u8]>)>,
    free: Vec<u32>,
}

/// `data` with every bit after the first `prefixlen` cleared.
fn masked(data: &[u8], prefixlen: u32) -> Box<[u8]> {
    data.iter()
        .enumerate()
        .map(|(i, &b)| {
            let bits = (prefixlen as usize).saturating_sub(i * 8).min(8);
            if bits == 0 {
                0
            } else {
                b & (0xffu8 << (8 - bits))
            }
        })
        .collect()
}

impl LpmIndex {
    pub fn new(data_size: u32, max_entries: u32) -> LpmIndex {
        LpmIndex {
            data_size: data_size as usize,
            max_entries,
            entries: HashMap::new(),
            free: (0..max_entries).rev().collect(),
        }
    }

    fn max_prefixlen(&self) -> u32 {
        self.data_size as u32 * 8
    }

    /// The prefix length and data of a key of the right size.
    fn split<'k>(&self, key: &'k [u8]) -> Option<(u32, &'k [u8])> {
        if key.len() != 4 + self.data_size {
            return None;
        }
        let prefixlen = u32::from_le_bytes(key[..4].try_into().ok()?);
        Some((prefixlen, &key[4..]))
    }

    /// The slot of the longest stored prefix that matches `key` within its prefix length.
    pub fn lookup(&self, key: &[u8]) -> Option<u32> {
        let (prefixlen, data) = self.split(key)?;
        if prefixlen > self.max_prefixlen() {
            return None;
        }
        (0..=prefixlen)
            .rev()
            .find_map(|len| self.entries.get(&(len, masked(data, len))))
            .map(|(slot, _)| *slot)
    }

    pub fn update(&mut self, key: &[u8], flags: u64) -> Result<Slot, MapError> {
        let (prefixlen, data) = self.split(key).ok_or(MapError::Invalid)?;
        if prefixlen > self.max_prefixlen() {
            return Err(MapError::Invalid);
        }
        let id = (prefixlen, masked(data, prefixlen));
        if let Some((slot, stored)) = self.entries.get_mut(&id) {
            if flags == BPF_NOEXIST {
                return Err(MapError::Exists);
            }
            *stored = key.into();
            return Ok(Slot {
                index: *slot,
                fresh: false,
            });
        }
        if flags == BPF_EXIST {
            return Err(MapError::NotFound);
        }
        if self.entries.len() as u32 >= self.max_entries {
            return Err(MapError::NoSpace);
        }
        let slot = self.free.pop().ok_or(MapError::NoSpace)?;
        self.entries.insert(id, (slot, key.into()));
        Ok(Slot {
            index: slot,
            fresh: true,
        })
    }

    /// Removes the element of exactly this prefix.
    pub fn delete(&mut self, key: &[u8]) -> Result<(), MapError> {
        let (prefixlen, data) = self.split(key).ok_or(MapError::Invalid)?;
        if prefixlen > self.max_prefixlen() {
            return Err(MapError::Invalid);
        }
        let (slot, _) = self
            .entries
            .remove(&(prefixlen, masked(data, prefixlen)))
            .ok_or(MapError::NotFound)?;
        self.free.push(slot);
        Ok(())
    }

    /// The stored keys; [`LpmIndex::lookup`] of each finds its own element.
    pub fn keys(&self) -> impl Iterator<Item = &[u8]> {
        self.entries.values().map(|(_, k)| &**k)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(len: u32, data: [u8; 4]) -> Vec<u8> {
        let mut k = len.to_le_bytes().to_vec();
        k.extend_from_slice(&data);
        k
    }

    #[test]
    fn longest_prefix_wins_within_the_keys_length() {
        let mut t = LpmIndex::new(4, 8);
        let a = t.update(&key(16, [192, 168, 0, 0]), 0).unwrap().index;
        let b = t.update(&key(24, [192, 168, 1, 0]), 0).unwrap().index;
        assert_eq!(t.lookup(&key(32, [192, 168, 1, 7])), Some(b));
        assert_eq!(t.lookup(&key(32, [192, 168, 2, 7])), Some(a));
        // A key with a shorter prefix length cannot match the /24.
        assert_eq!(t.lookup(&key(20, [192, 168, 1, 7])), Some(a));
        assert_eq!(t.lookup(&key(32, [10, 0, 0, 1])), None);
        assert_eq!(t.lookup(&key(33, [192, 168, 1, 7])), None);
        // Bits past the prefix do not make a different element.
        assert_eq!(
            t.update(&key(16, [192, 168, 9, 9]), BPF_NOEXIST),
            Err(MapError::Exists)
        );
        assert_eq!(t.delete(&key(8, [192, 0, 0, 0])), Err(MapError::NotFound));
        t.delete(&key(16, [192, 168, 77, 0])).unwrap();
        assert_eq!(t.lookup(&key(32, [192, 168, 2, 7])), None);
    }

    #[test]
    fn a_full_trie_is_enospc_but_replaces() {
        let mut t = LpmIndex::new(4, 1);
        t.update(&key(8, [10, 0, 0, 0]), 0).unwrap();
        assert_eq!(t.update(&key(8, [11, 0, 0, 0]), 0), Err(MapError::NoSpace));
        assert!(t.update(&key(8, [10, 1, 0, 0]), BPF_EXIST).is_ok());
        assert_eq!(
            t.update(&key(9, [10, 0, 0, 0]), BPF_EXIST),
            Err(MapError::NotFound)
        );
    }
}
