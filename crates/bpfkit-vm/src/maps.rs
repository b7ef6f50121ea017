//! Userspace maps: the kernel's array, hash and program-array semantics over plain Rust memory.
//!
//! Values live in one preallocated buffer per map (the kernel preallocates hash maps too), so a
//! value keeps its address for the whole run and the buffer can be a region of the address
//! space: `bpf_map_lookup_elem` returns a pointer into it and the program reads and writes the
//! value directly, bounds-checked like any other memory.

use std::collections::HashMap;

pub use bpfkit_uapi::MapDef;
use bpfkit_uapi::MapType;

/// Identifies a map of a [`Vm`](crate::Vm): its index, the `N` of `lddw rX, map_fd(N)`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct MapId(pub u32);

/// A map operation failed, with the errno the kernel would return.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum MapError {
    /// A key or value of the wrong size, or an operation the map kind does not have.
    #[error("invalid argument (EINVAL)")]
    Invalid,
    /// The key is not in the map.
    #[error("no such element (ENOENT)")]
    NotFound,
    /// `BPF_NOEXIST` and the key is present.
    #[error("element exists (EEXIST)")]
    Exists,
    /// The map is full, or an array index is past `max_entries`.
    #[error("map is full or index out of range (E2BIG)")]
    TooBig,
    /// The definition asks for more memory than a region holds (4 GiB).
    #[error("map of {0} bytes does not fit a region")]
    TooLarge(u64),
    /// The userspace runtime has no maps of this type.
    #[error("unsupported map type {0}")]
    Unsupported(MapType),
}

impl MapError {
    /// The negative errno a helper returns to the program.
    pub fn errno(self) -> i64 {
        match self {
            MapError::Invalid | MapError::TooLarge(_) | MapError::Unsupported(_) => -22,
            MapError::NotFound => -2,
            MapError::Exists => -17,
            MapError::TooBig => -7,
        }
    }
}

/// `bpf_map_update_elem` flag: create or replace.
pub const BPF_ANY: u64 = bpfkit_uapi::MapUpdateFlags::ANY.0;
/// `bpf_map_update_elem` flag: create only.
pub const BPF_NOEXIST: u64 = bpfkit_uapi::MapUpdateFlags::NOEXIST.0;
/// `bpf_map_update_elem` flag: replace only.
pub const BPF_EXIST: u64 = bpfkit_uapi::MapUpdateFlags::EXIST.0;

/// Where keys live; values are in [`Map::values`].
#[derive(Debug)]
pub(crate) enum Index {
    Array,
    Hash {
        slots: HashMap<Box<[u8]>, u32>,
        free: Vec<u32>,
    },
    ProgArray(Vec<Option<u32>>),
}

/// A map's definition and keys: the part helpers update while the values are lent to the
/// address space as a region.
#[derive(Debug)]
pub(crate) struct Keys {
    pub def: MapDef,
    pub index: Index,
}

/// A map: its definition, its keys and its preallocated values.
#[derive(Debug)]
pub struct Map {
    pub(crate) keys: Keys,
    pub(crate) values: Vec<u8>,
}

impl Map {
    /// Creates an empty map.
    pub fn new(def: MapDef) -> Result<Map, MapError> {
        let bytes = def.value_size as u64 * def.max_entries as u64;
        if bytes > u32::MAX as u64 {
            return Err(MapError::TooLarge(bytes));
        }
        let (index, values) = match def.map_type {
            MapType::ARRAY if def.key_size == 4 && def.value_size > 0 => {
                (Index::Array, vec![0; bytes as usize])
            }
            MapType::HASH if def.key_size > 0 && def.value_size > 0 => {
                let free = (0..def.max_entries).rev().collect();
                (
                    Index::Hash {
                        slots: HashMap::new(),
                        free,
                    },
                    vec![0; bytes as usize],
                )
            }
            MapType::PROG_ARRAY if def.key_size == 4 && def.value_size == 4 => (
                Index::ProgArray(vec![None; def.max_entries as usize]),
                Vec::new(),
            ),
            MapType::ARRAY | MapType::HASH | MapType::PROG_ARRAY => return Err(MapError::Invalid),
            other => return Err(MapError::Unsupported(other)),
        };
        Ok(Map {
            keys: Keys { def, index },
            values,
        })
    }

    /// The map's definition.
    pub fn def(&self) -> &MapDef {
        &self.keys.def
    }

    fn value(&self, slot: u32) -> &[u8] {
        let size = self.keys.def.value_size as usize;
        &self.values[slot as usize * size..][..size]
    }

    /// Looks up `key` (userspace side).
    pub fn lookup(&self, key: &[u8]) -> Option<&[u8]> {
        self.keys.slot_of(key).map(|slot| self.value(slot))
    }

    /// Inserts or replaces `key` (userspace side); `flags` is `BPF_ANY`, `BPF_NOEXIST` or
    /// `BPF_EXIST`.
    pub fn update(&mut self, key: &[u8], value: &[u8], flags: u64) -> Result<(), MapError> {
        if value.len() != self.keys.def.value_size as usize {
            return Err(MapError::Invalid);
        }
        let slot = self.keys.slot_for_update(key, flags)?;
        let size = self.keys.def.value_size as usize;
        self.values[slot as usize * size..][..size].copy_from_slice(value);
        Ok(())
    }

    /// Removes `key`. Arrays cannot delete (EINVAL), as in the kernel.
    pub fn delete(&mut self, key: &[u8]) -> Result<(), MapError> {
        self.keys.delete(key)
    }

    /// Sets entry `index` of a program array to a program of the VM (`None` clears it).
    pub fn set_program(
        &mut self,
        index: u32,
        program: Option<crate::ProgId>,
    ) -> Result<(), MapError> {
        match &mut self.keys.index {
            Index::ProgArray(progs) => {
                *progs.get_mut(index as usize).ok_or(MapError::TooBig)? = program.map(|p| p.0);
                Ok(())
            }
            _ => Err(MapError::Invalid),
        }
    }
}

impl Keys {
    fn array_index(&self, key: &[u8]) -> Result<u32, MapError> {
        let key: [u8; 4] = key.try_into().map_err(|_| MapError::Invalid)?;
        let i = u32::from_le_bytes(key);
        if i < self.def.max_entries {
            Ok(i)
        } else {
            Err(MapError::NotFound)
        }
    }

    /// The value slot holding `key`, if present.
    pub(crate) fn slot_of(&self, key: &[u8]) -> Option<u32> {
        match &self.index {
            Index::Array => self.array_index(key).ok(),
            Index::Hash { slots, .. } => slots.get(key).copied(),
            Index::ProgArray(_) => None,
        }
    }

    /// Finds or makes the slot for `key` under `flags`; the caller writes the value there.
    pub(crate) fn slot_for_update(&mut self, key: &[u8], flags: u64) -> Result<u32, MapError> {
        if flags > BPF_EXIST || key.len() != self.def.key_size as usize {
            return Err(MapError::Invalid);
        }
        match &mut self.index {
            Index::Array => {
                let i = self.array_index(key).map_err(|_| MapError::TooBig)?;
                if flags == BPF_NOEXIST {
                    Err(MapError::Exists)
                } else {
                    Ok(i)
                }
            }
            Index::Hash { slots, free } => match slots.get(key) {
                Some(_) if flags == BPF_NOEXIST => Err(MapError::Exists),
                Some(&slot) => Ok(slot),
                None if flags == BPF_EXIST => Err(MapError::NotFound),
                None => {
                    let slot = free.pop().ok_or(MapError::TooBig)?;
                    slots.insert(key.into(), slot);
                    Ok(slot)
                }
            },
            Index::ProgArray(_) => Err(MapError::Invalid),
        }
    }

    /// Removes `key`.
    pub(crate) fn delete(&mut self, key: &[u8]) -> Result<(), MapError> {
        match &mut self.index {
            Index::Hash { slots, free } => {
                let slot = slots.remove(key).ok_or(MapError::NotFound)?;
                free.push(slot);
                Ok(())
            }
            Index::Array | Index::ProgArray(_) => Err(MapError::Invalid),
        }
    }

    /// The program at `index` of a program array, for `bpf_tail_call`.
    pub(crate) fn program_at(&self, index: u64) -> Option<u32> {
        match &self.index {
            Index::ProgArray(progs) => progs.get(usize::try_from(index).ok()?).copied().flatten(),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hash(max: u32) -> Map {
        Map::new(MapDef::new(MapType::HASH, 4, 8, max)).unwrap()
    }

    #[test]
    fn hash_update_flags_follow_the_kernel() {
        let mut m = hash(1);
        let k = 7u32.to_le_bytes();
        assert_eq!(m.update(&k, &[1; 8], BPF_EXIST), Err(MapError::NotFound));
        m.update(&k, &[1; 8], BPF_NOEXIST).unwrap();
        assert_eq!(m.update(&k, &[2; 8], BPF_NOEXIST), Err(MapError::Exists));
        m.update(&k, &[2; 8], BPF_ANY).unwrap();
        assert_eq!(m.lookup(&k), Some(&[2u8; 8][..]));
        assert_eq!(
            m.update(&8u32.to_le_bytes(), &[3; 8], BPF_ANY),
            Err(MapError::TooBig)
        );
        m.delete(&k).unwrap();
        assert_eq!(m.delete(&k), Err(MapError::NotFound));
        m.update(&8u32.to_le_bytes(), &[3; 8], BPF_ANY).unwrap();
    }

    #[test]
    fn arrays_have_every_index_and_cannot_delete() {
        let mut m = Map::new(MapDef::new(MapType::ARRAY, 4, 4, 2)).unwrap();
        assert_eq!(m.lookup(&1u32.to_le_bytes()), Some(&[0u8; 4][..]));
        assert_eq!(m.lookup(&2u32.to_le_bytes()), None);
        assert_eq!(
            m.update(&0u32.to_le_bytes(), &[1; 4], BPF_NOEXIST),
            Err(MapError::Exists)
        );
        assert_eq!(
            m.update(&2u32.to_le_bytes(), &[1; 4], BPF_ANY),
            Err(MapError::TooBig)
        );
        assert_eq!(m.delete(&0u32.to_le_bytes()), Err(MapError::Invalid));
    }
}
