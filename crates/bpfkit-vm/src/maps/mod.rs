//! Userspace maps with the kernel's semantics: array, per-cpu array, hash, per-cpu hash, LRU
//! hash (plain and per-cpu), LPM trie, program array, array and hash of maps, ring buffer, perf
//! event array, queue, stack, bloom filter and the XDP redirect maps (devmap, devmap hash,
//! cpumap, xskmap).
//!
//! A map is split in two: [`Keys`], which says where each element is (the index a helper
//! updates), and the value bytes, one preallocated buffer (the kernel preallocates hash maps
//! too) that a run lends to the address space as a region. `bpf_map_lookup_elem` returns a
//! pointer into that region, so the program reads and writes a value in place, bounds-checked
//! like any other memory, and a value never moves while a program holds a pointer to it.
//!
//! Per-cpu maps keep one value per CPU (the count is [`Map::cpus`]); a program sees the value of
//! the CPU it runs on, userspace sees all of them, each rounded up to 8 bytes as `bpf(2)` does.
//! Errors are the kernel's, as [`MapError`] with the errno a helper returns.

mod bloom;
mod hash;
mod lpm;
mod queue;
mod ringbuf;

use std::collections::HashMap;

pub use bpfkit_uapi::MapDef;
use bpfkit_uapi::{MapFlags, MapType};

pub use ringbuf::{RingBufQuery, RingRecord};

pub(crate) use bloom::Bloom;
pub(crate) use hash::HashIndex;
pub(crate) use lpm::LpmIndex;
pub(crate) use queue::QueueState;
pub(crate) use ringbuf::RingBuf;

/// Identifies a map of a [`Vm`](crate::Vm): its index, the `N` of `lddw rX, map_fd(N)`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct MapId(pub u32);

/// A map operation failed, with the errno the kernel would return.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum MapError {
    /// A key or value of the wrong size, bad flags, or an operation the map kind does not have.
    #[error("invalid argument (EINVAL)")]
    Invalid,
    /// The key is not in the map, or the queue is empty.
    #[error("no such element (ENOENT)")]
    NotFound,
    /// `BPF_NOEXIST` and the key is present.
    #[error("element exists (EEXIST)")]
    Exists,
    /// The map is full, or an array index is past `max_entries`.
    #[error("map is full or index out of range (E2BIG)")]
    TooBig,
    /// An LPM trie is full (`ENOSPC`).
    #[error("no space left in the map (ENOSPC)")]
    NoSpace,
    /// The operation is not supported by this map type (`EOPNOTSUPP`).
    #[error("operation not supported (EOPNOTSUPP)")]
    NotSupported,
    /// The ring buffer has no room for the record (`EAGAIN`).
    #[error("ring buffer is full (EAGAIN)")]
    Again,
    /// The definition asks for more memory than the runtime gives one map
    /// ([`MAX_MAP_BYTES`]; the kernel would try, and fail with `ENOMEM` when memory runs out).
    #[error("map of {0} bytes is over the runtime's limit of 256 MiB per map (ENOMEM)")]
    TooLarge(u64),
    /// The userspace runtime has no maps of this type.
    #[error("unsupported map type {0}")]
    Unsupported(MapType),
}

impl MapError {
    /// The negative errno a helper returns to the program.
    pub fn errno(self) -> i64 {
        -(match self {
            MapError::Invalid | MapError::Unsupported(_) => libc_errno::EINVAL,
            MapError::NotFound => libc_errno::ENOENT,
            MapError::Exists => libc_errno::EEXIST,
            MapError::TooBig => libc_errno::E2BIG,
            MapError::NoSpace => libc_errno::ENOSPC,
            MapError::NotSupported => libc_errno::EOPNOTSUPP,
            MapError::Again => libc_errno::EAGAIN,
            MapError::TooLarge(_) => libc_errno::ENOMEM,
        })
    }
}

/// The errno values the runtime returns (Linux, x86_64 and aarch64 alike).
pub mod libc_errno {
    /// Operation not permitted.
    pub const EPERM: i64 = 1;
    /// No such file or directory (no such element).
    pub const ENOENT: i64 = 2;
    /// Argument list too long.
    pub const E2BIG: i64 = 7;
    /// Try again.
    pub const EAGAIN: i64 = 11;
    /// Permission denied.
    pub const EACCES: i64 = 13;
    /// Out of memory.
    pub const ENOMEM: i64 = 12;
    /// Bad address.
    pub const EFAULT: i64 = 14;
    /// Device or resource busy.
    pub const EBUSY: i64 = 16;
    /// File exists.
    pub const EEXIST: i64 = 17;
    /// No such device.
    pub const ENODEV: i64 = 19;
    /// Invalid argument.
    pub const EINVAL: i64 = 22;
    /// No space left on device.
    pub const ENOSPC: i64 = 28;
    /// Numerical result out of range.
    pub const ERANGE: i64 = 34;
    /// Message too long.
    pub const EMSGSIZE: i64 = 90;
    /// Operation not supported.
    pub const EOPNOTSUPP: i64 = 95;
    /// Operation not supported (the kernel-internal `ENOTSUPP`).
    pub const ENOTSUPP: i64 = 524;
}

/// `bpf_map_update_elem` flag: create or replace.
pub const BPF_ANY: u64 = bpfkit_uapi::MapUpdateFlags::ANY.0;
/// `bpf_map_update_elem` flag: create only.
pub const BPF_NOEXIST: u64 = bpfkit_uapi::MapUpdateFlags::NOEXIST.0;
/// `bpf_map_update_elem` flag: replace only.
pub const BPF_EXIST: u64 = bpfkit_uapi::MapUpdateFlags::EXIST.0;
/// `bpf_map_update_elem` flag: update a value holding a `bpf_spin_lock` under the lock.
pub const BPF_F_LOCK: u64 = bpfkit_uapi::MapUpdateFlags::F_LOCK.0;

/// Where a map keeps its elements.
#[derive(Debug)]
pub(crate) enum Index {
    /// Array and per-cpu array: element `i` is slot `i`.
    Array,
    /// Hash, per-cpu hash and both LRU hashes.
    Hash(HashIndex),
    /// LPM trie.
    Lpm(LpmIndex),
    /// Program array: the program of each index.
    ProgArray(Vec<Option<u32>>),
    /// Array of maps: the inner map of each index.
    MapArray(Vec<Option<u32>>),
    /// Hash of maps: the inner map of each key.
    MapHash(HashMap<Box<[u8]>, u32>),
    /// Ring buffer.
    RingBuf(RingBuf),
    /// Perf event array: which indexes have a reader, and what was written.
    PerfEvents(PerfEvents),
    /// Queue or stack.
    Queue(QueueState),
    /// Bloom filter.
    Bloom(Bloom),
    /// Devmap, cpumap, xskmap: the redirect targets set in each index (a devmap hash is a
    /// [`Index::Hash`]).
    Redirect(Vec<Option<u32>>),
}

/// One record a program wrote with `bpf_perf_event_output`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PerfRecord {
    /// The CPU whose buffer received it.
    pub cpu: u32,
    /// The bytes (the data, then the packet bytes the flags asked for).
    pub data: Vec<u8>,
}

/// A perf event array: an index has a reader (a `PERF_COUNT_SW_BPF_OUTPUT` event on one CPU,
/// as libbpf's perf buffer opens one per CPU) or none; records written through it are kept.
#[derive(Debug, Default)]
pub(crate) struct PerfEvents {
    /// The CPU of the event at each index, if one is open.
    pub open: Vec<Option<u32>>,
    /// Everything written, in order.
    pub records: Vec<PerfRecord>,
}

/// A map's definition and element index: the part helpers update while the values are lent
/// to the address space as a region.
#[derive(Debug)]
pub struct Keys {
    pub(crate) def: MapDef,
    pub(crate) cpus: u32,
    pub(crate) index: Index,
    /// The definition of the inner maps of a map of maps.
    pub(crate) inner: Option<MapDef>,
    /// Whether the value holds a `struct bpf_spin_lock` (`BPF_F_LOCK` needs one).
    pub(crate) spin_lock: bool,
}

/// A map: its definition, its elements and its preallocated values.
#[derive(Debug)]
pub struct Map {
    pub(crate) keys: Keys,
    pub(crate) values: Vec<u8>,
}

/// Where an update writes: the element's slot, and whether it is new (its other CPUs' values
/// then start at zero).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Slot {
    pub index: u32,
    pub fresh: bool,
}

/// What a lookup from a program finds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Found {
    /// A value at this byte offset of the map's region.
    Value(u64),
    /// An inner map (map of maps) or redirect target.
    Map(u32),
}

fn is_percpu(t: MapType) -> bool {
    matches!(
        t,
        MapType::PERCPU_ARRAY | MapType::PERCPU_HASH | MapType::LRU_PERCPU_HASH
    )
}

fn is_lru(t: MapType) -> bool {
    matches!(t, MapType::LRU_HASH | MapType::LRU_PERCPU_HASH)
}

/// The largest value `bpf(2)` allows for ordinary maps (`KMALLOC_MAX_SIZE` less overhead;
/// per-cpu values are limited to `PCPU_MIN_UNIT_SIZE`).
const MAX_VALUE_SIZE: u32 = 1 << 22;
const MAX_PERCPU_VALUE_SIZE: u32 = 32 << 10;
/// Keys of hash maps live on the program's stack, so they are at most its size.
const MAX_HASH_KEY: u32 = 512;
/// The most memory one map may take in the runtime (values and index), so that an object
/// asking for more fails to open instead of exhausting the test's memory.
pub const MAX_MAP_BYTES: u64 = 256 << 20;

/// About the memory a map of definition `def` takes: its values, and what its index
/// allocates up front.
fn footprint(def: &MapDef, cpus: u32) -> u64 {
    use MapType as T;
    let n = def.max_entries as u64;
    let v = def.value_size as u64;
    let value = if is_percpu(def.map_type) {
        v * cpus as u64
    } else {
        v
    };
    match def.map_type {
        T::RINGBUF => 2 * n,
        T::PROG_ARRAY | T::ARRAY_OF_MAPS => 8 * n,
        T::PERF_EVENT_ARRAY => 8 * n.max(cpus as u64),
        T::DEVMAP | T::CPUMAP | T::XSKMAP => n * (v + 8),
        T::BLOOM_FILTER => Bloom::bytes(def.max_entries, def.map_extra as u32),
        T::LRU_HASH | T::LRU_PERCPU_HASH => (n + cpus as u64) * (value + 8),
        T::QUEUE | T::STACK => (n + 1) * value,
        _ => n * value,
    }
}

impl Map {
    /// Creates an empty map with one CPU; see [`Map::with_cpus`].
    pub fn new(def: MapDef) -> Result<Map, MapError> {
        Map::with_cpus(def, 1)
    }

    /// Creates an empty map for a machine of `cpus` CPUs (per-cpu maps keep that many values,
    /// LRU maps round `max_entries` to a multiple of it as the kernel does), checking the
    /// definition as `BPF_MAP_CREATE` does.
    pub fn with_cpus(def: MapDef, cpus: u32) -> Result<Map, MapError> {
        Map::create(def, cpus, None)
    }

    /// Creates a map of maps whose inner maps have definition `inner`.
    pub fn map_of_maps(def: MapDef, inner: MapDef, cpus: u32) -> Result<Map, MapError> {
        Map::create(def, cpus, Some(inner))
    }

    fn create(mut def: MapDef, cpus: u32, inner: Option<MapDef>) -> Result<Map, MapError> {
        use MapType as T;
        let cpus = cpus.max(1);
        let bytes = footprint(&def, cpus);
        if bytes > MAX_MAP_BYTES {
            return Err(MapError::TooLarge(bytes));
        }
        let (k, v, n) = (def.key_size, def.value_size, def.max_entries);
        let invalid = Err(MapError::Invalid);
        let ok_value = |limit: u32| -> Result<(), MapError> {
            if v == 0 {
                Err(MapError::Invalid)
            } else if v > limit {
                Err(MapError::TooBig)
            } else {
                Ok(())
            }
        };
        let value_limit = if is_percpu(def.map_type) {
            MAX_PERCPU_VALUE_SIZE
        } else {
            MAX_VALUE_SIZE
        };
        let (index, value_slots) = match def.map_type {
            T::ARRAY | T::PERCPU_ARRAY => {
                if k != 4 || n == 0 {
                    return invalid;
                }
                ok_value(value_limit)?;
                (Index::Array, n as u64)
            }
            T::HASH | T::PERCPU_HASH | T::LRU_HASH | T::LRU_PERCPU_HASH => {
                if k == 0 || n == 0 {
                    return invalid;
                }
                if k > MAX_HASH_KEY {
                    return Err(MapError::TooBig);
                }
                ok_value(value_limit)?;
                if is_lru(def.map_type) {
                    if def.map_flags.contains(MapFlags::NO_PREALLOC) {
                        return invalid;
                    }
                    // Each CPU's LRU list gets the same number of elements
                    // (htab_map_alloc_check/htab_map_alloc).
                    let rounded = n.div_ceil(cpus).saturating_mul(cpus);
                    def.max_entries = if rounded < n {
                        n / cpus * cpus
                    } else {
                        rounded
                    };
                }
                let lru = is_lru(def.map_type);
                (
                    Index::Hash(HashIndex::new(def.max_entries, lru)),
                    def.max_entries as u64,
                )
            }
            T::LPM_TRIE => {
                if n == 0
                    || !def.map_flags.contains(MapFlags::NO_PREALLOC)
                    || !(5..=4 + 256).contains(&k)
                {
                    return invalid;
                }
                ok_value(MAX_VALUE_SIZE)?;
                (Index::Lpm(LpmIndex::new(k - 4, n)), n as u64)
            }
            T::PROG_ARRAY => {
                if k != 4 || v != 4 || n == 0 {
                    return invalid;
                }
                (Index::ProgArray(vec![None; n as usize]), 0)
            }
            T::ARRAY_OF_MAPS | T::HASH_OF_MAPS => {
                if v != 4 || n == 0 || inner.is_none() {
                    return invalid;
                }
                if def.map_type == T::ARRAY_OF_MAPS {
                    if k != 4 {
                        return invalid;
                    }
                    (Index::MapArray(vec![None; n as usize]), 0)
                } else {
                    if k == 0 {
                        return invalid;
                    }
                    (Index::MapHash(HashMap::new()), 0)
                }
            }
            T::RINGBUF => {
                if k != 0 || v != 0 || !n.is_power_of_two() || n % 4096 != 0 {
                    return invalid;
                }
                // Twice the size: a record that wraps stays contiguous, as the kernel maps the
                // data pages twice.
                (Index::RingBuf(RingBuf::new(n)), 2)
            }
            T::PERF_EVENT_ARRAY => {
                if k != 4 || v != 4 {
                    return invalid;
                }
                // libbpf sizes an unsized perf event array to the number of CPUs.
                if n == 0 {
                    def.max_entries = cpus;
                }
                let open = (0..def.max_entries)
                    .map(|i| (i < cpus).then_some(i))
                    .collect();
                (
                    Index::PerfEvents(PerfEvents {
                        open,
                        records: Vec::new(),
                    }),
                    0,
                )
            }
            T::QUEUE | T::STACK => {
                if k != 0 || n == 0 {
                    return invalid;
                }
                ok_value(MAX_VALUE_SIZE)?;
                let stack = def.map_type == T::STACK;
                (Index::Queue(QueueState::new(n, stack)), n as u64 + 1)
            }
            T::BLOOM_FILTER => {
                if k != 0 || v == 0 || n == 0 || def.map_extra & !0xf != 0 {
                    return invalid;
                }
                let zero_seed = def.map_flags.contains(MapFlags::ZERO_SEED);
                (
                    Index::Bloom(Bloom::new(n, def.map_extra as u32, v, zero_seed)),
                    0,
                )
            }
            T::DEVMAP | T::CPUMAP | T::XSKMAP => {
                if k != 4 || !(4..=8).contains(&v) || v % 4 != 0 || n == 0 {
                    return invalid;
                }
                (Index::Redirect(vec![None; n as usize]), n as u64)
            }
            T::DEVMAP_HASH => {
                if k != 4 || !(4..=8).contains(&v) || v % 4 != 0 || n == 0 {
                    return invalid;
                }
                (Index::Hash(HashIndex::new(n, false)), n as u64)
            }
            other => return Err(MapError::Unsupported(other)),
        };
        let per_slot = if matches!(index, Index::RingBuf(_)) {
            def.max_entries as u64
        } else {
            def.value_size as u64
                * if is_percpu(def.map_type) {
                    cpus as u64
                } else {
                    1
                }
        };
        let bytes = per_slot * value_slots;
        Ok(Map {
            keys: Keys {
                def,
                cpus,
                index,
                inner,
                spin_lock: false,
            },
            values: vec![0; bytes as usize],
        })
    }

    /// The map's definition (`max_entries` as the kernel sets it: a perf event array sized to
    /// the CPUs, an LRU map rounded to a multiple of them).
    pub fn def(&self) -> &MapDef {
        &self.keys.def
    }

    /// The number of CPUs: of values per element of a per-cpu map.
    pub fn cpus(&self) -> u32 {
        self.keys.cpus
    }

    /// The definition of the inner maps of a map of maps.
    pub fn inner_def(&self) -> Option<&MapDef> {
        self.keys.inner.as_ref()
    }

    /// Says whether the map's value holds a `struct bpf_spin_lock` (the kernel learns it from
    /// the value's BTF); updates with `BPF_F_LOCK` are `EINVAL` without one.
    pub fn set_spin_lock(&mut self, has_lock: bool) {
        self.keys.spin_lock = has_lock;
    }

    /// Whether a lookup gives one value per CPU.
    pub fn is_percpu(&self) -> bool {
        is_percpu(self.keys.def.map_type)
    }

    fn value_at(&self, offset: u64) -> &[u8] {
        &self.values[offset as usize..][..self.keys.def.value_size as usize]
    }

    /// The value stored under `key` (of CPU 0 for a per-cpu map), for maps whose values are
    /// bytes: arrays, hashes and LPM tries.
    pub fn lookup(&self, key: &[u8]) -> Option<&[u8]> {
        let slot = self.keys.find(key)?;
        Some(self.value_at(self.keys.value_offset(slot, 0)))
    }

    /// The value stored under `key` on each CPU.
    pub fn lookup_percpu(&self, key: &[u8]) -> Option<Vec<&[u8]>> {
        let slot = self.keys.find(key)?;
        Some(
            (0..self.keys.cpus_of_values())
                .map(|cpu| self.value_at(self.keys.value_offset(slot, cpu)))
                .collect(),
        )
    }

    /// What `BPF_MAP_LOOKUP_ELEM` returns for `key`: the value; for a per-cpu map every CPU's
    /// value, each padded to 8 bytes; for a map of maps or a program array the inner map or
    /// program id; for a queue, stack or bloom filter (whose key is empty) a peek.
    pub fn lookup_elem(&self, key: &[u8]) -> Result<Vec<u8>, MapError> {
        let def = &self.keys.def;
        match &self.keys.index {
            Index::Array | Index::Hash(_) | Index::Lpm(_) => {
                self.keys.check_key(key)?;
                let slot = self.keys.find(key).ok_or(MapError::NotFound)?;
                if !self.is_percpu() {
                    return Ok(self.value_at(self.keys.value_offset(slot, 0)).to_vec());
                }
                let stride = def.value_size.next_multiple_of(8) as usize;
                let mut out = vec![0; stride * self.keys.cpus as usize];
                for cpu in 0..self.keys.cpus {
                    let value = self.value_at(self.keys.value_offset(slot, cpu));
                    out[cpu as usize * stride..][..value.len()].copy_from_slice(value);
                }
                Ok(out)
            }
            Index::ProgArray(v) | Index::MapArray(v) | Index::Redirect(v) => {
                let i = self.keys.array_index(key)? as usize;
                let id = v.get(i).copied().flatten().ok_or(MapError::NotFound)?;
                if matches!(self.keys.index, Index::Redirect(_)) {
                    let value = self.value_at(i as u64 * def.value_size as u64);
                    return Ok(value.to_vec());
                }
                Ok(id.to_le_bytes().to_vec())
            }
            Index::MapHash(m) => {
                self.keys.check_key(key)?;
                let id = m.get(key).ok_or(MapError::NotFound)?;
                let mut out = id.to_le_bytes().to_vec();
                out.resize(def.value_size as usize, 0);
                Ok(out)
            }
            Index::Queue(q) => {
                let offset = q.peek_offset().ok_or(MapError::NotFound)?;
                Ok(self.value_at(offset * def.value_size as u64).to_vec())
            }
            Index::Bloom(_) | Index::RingBuf(_) | Index::PerfEvents(_) => {
                Err(MapError::NotSupported)
            }
        }
    }

    /// Stores `value` under `key` as `BPF_MAP_UPDATE_ELEM` does: `flags` is `BPF_ANY`,
    /// `BPF_NOEXIST` or `BPF_EXIST`; a per-cpu value holds every CPU's value, each padded to 8
    /// bytes; a program array's value is a program id (see [`Map::set_program`]), a map of
    /// maps' value an inner map id; a queue, stack or bloom filter takes an empty key (a push).
    pub fn update(&mut self, key: &[u8], value: &[u8], flags: u64) -> Result<(), MapError> {
        let def = self.keys.def;
        match &mut self.keys.index {
            Index::Queue(_) | Index::Bloom(_) => {
                if !key.is_empty() {
                    return Err(MapError::Invalid);
                }
                return self.push(value, flags);
            }
            Index::ProgArray(v) | Index::MapArray(v) => {
                if flags > BPF_EXIST {
                    return Err(MapError::Invalid);
                }
                let i = array_index(&def, key)?;
                let slot = v.get_mut(i as usize).ok_or(MapError::TooBig)?;
                if flags == BPF_NOEXIST {
                    return Err(MapError::Exists);
                }
                *slot = Some(u32::from_le_bytes(
                    value.try_into().map_err(|_| MapError::Invalid)?,
                ));
                return Ok(());
            }
            Index::MapHash(m) => {
                if key.len() != def.key_size as usize || value.len() != 4 || flags > BPF_EXIST {
                    return Err(MapError::Invalid);
                }
                let present = m.contains_key(key);
                check_flags(present, flags)?;
                if !present && m.len() >= def.max_entries as usize {
                    return Err(MapError::TooBig);
                }
                m.insert(key.into(), u32::from_le_bytes(value.try_into().unwrap()));
                return Ok(());
            }
            Index::Redirect(v) => {
                if flags > BPF_EXIST || value.len() != def.value_size as usize {
                    return Err(MapError::Invalid);
                }
                let i = array_index(&def, key)?;
                let slot = v.get_mut(i as usize).ok_or(MapError::TooBig)?;
                if flags == BPF_NOEXIST {
                    return Err(MapError::Exists);
                }
                *slot = Some(u32::from_le_bytes(value[..4].try_into().unwrap()));
                let size = def.value_size as usize;
                self.values[i as usize * size..][..size].copy_from_slice(value);
                return Ok(());
            }
            Index::RingBuf(_) | Index::PerfEvents(_) => return Err(MapError::NotSupported),
            Index::Array | Index::Hash(_) | Index::Lpm(_) => {}
        }
        let percpu = self.is_percpu();
        let size = def.value_size as usize;
        let stride = if percpu {
            size.next_multiple_of(8)
        } else {
            size
        };
        let expected = if percpu {
            stride * self.keys.cpus as usize
        } else {
            size
        };
        if value.len() != expected {
            return Err(MapError::Invalid);
        }
        let slot = self.keys.update_slot(key, flags)?;
        for cpu in 0..self.keys.cpus_of_values() {
            let at = self.keys.value_offset(slot.index, cpu) as usize;
            self.values[at..][..size].copy_from_slice(&value[cpu as usize * stride..][..size]);
        }
        Ok(())
    }

    /// Removes `key` (`BPF_MAP_DELETE_ELEM`). Arrays cannot delete (EINVAL), as in the kernel.
    pub fn delete(&mut self, key: &[u8]) -> Result<(), MapError> {
        self.keys.delete(key)
    }

    /// Pushes `value` onto a queue or stack, or adds it to a bloom filter
    /// (`bpf_map_push_elem`).
    pub fn push(&mut self, value: &[u8], flags: u64) -> Result<(), MapError> {
        if value.len() != self.keys.def.value_size as usize {
            return Err(MapError::Invalid);
        }
        if let Index::Bloom(b) = &mut self.keys.index {
            return b.push(value, flags);
        }
        let offset = self.keys.push_slot(flags)? as usize * value.len();
        self.values[offset..][..value.len()].copy_from_slice(value);
        Ok(())
    }

    /// Takes the next value off a queue (the oldest) or stack (the newest).
    pub fn pop(&mut self) -> Result<Vec<u8>, MapError> {
        let offset = self.keys.pop_slot(true)?;
        Ok(self
            .value_at(offset * self.keys.def.value_size as u64)
            .to_vec())
    }

    /// Whether a bloom filter may contain `value` (`Ok`) or certainly does not (`NotFound`).
    pub fn peek_bloom(&self, value: &[u8]) -> Result<(), MapError> {
        match &self.keys.index {
            Index::Bloom(b) => b.peek(value),
            _ => Err(MapError::Invalid),
        }
    }

    /// Every key, in ascending byte order (arrays: every index).
    pub fn keys(&self) -> Vec<Vec<u8>> {
        let mut keys: Vec<Vec<u8>> = match &self.keys.index {
            Index::Array => (0..self.keys.def.max_entries)
                .map(|i| i.to_le_bytes().to_vec())
                .collect(),
            Index::ProgArray(v) | Index::MapArray(v) | Index::Redirect(v) => v
                .iter()
                .enumerate()
                .filter(|(_, e)| e.is_some())
                .map(|(i, _)| (i as u32).to_le_bytes().to_vec())
                .collect(),
            Index::Hash(h) => h.keys().map(|k| k.to_vec()).collect(),
            Index::Lpm(l) => l.keys().map(|k| k.to_vec()).collect(),
            Index::MapHash(m) => m.keys().map(|k| k.to_vec()).collect(),
            Index::RingBuf(_) | Index::PerfEvents(_) | Index::Queue(_) | Index::Bloom(_) => {
                Vec::new()
            }
        };
        keys.sort();
        keys
    }

    /// Every element as `(key, value)` in the form [`Map::lookup_elem`] gives, keys ascending.
    pub fn entries(&self) -> Vec<(Vec<u8>, Vec<u8>)> {
        self.keys()
            .into_iter()
            .filter_map(|k| self.lookup_elem(&k).ok().map(|v| (k, v)))
            .collect()
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

    /// Records a ring buffer holds: the submitted ones userspace has not consumed yet, in order
    /// (discarded records are skipped, as libbpf's consumer does). The records stay; see
    /// [`Map::ringbuf_consume`].
    pub fn ringbuf_records(&self) -> Vec<RingRecord> {
        match &self.keys.index {
            Index::RingBuf(rb) => rb.pending(&self.values),
            _ => Vec::new(),
        }
    }

    /// Consumes every record up to the first one still reserved (as `ring_buffer__consume`
    /// does) and returns the submitted ones' data.
    pub fn ringbuf_consume(&mut self) -> Vec<Vec<u8>> {
        match &mut self.keys.index {
            Index::RingBuf(rb) => rb.consume(&self.values),
            _ => Vec::new(),
        }
    }

    /// The positions and size of a ring buffer (`bpf_ringbuf_query`).
    pub fn ringbuf_query(&self) -> Option<RingBufQuery> {
        match &self.keys.index {
            Index::RingBuf(rb) => Some(rb.query()),
            _ => None,
        }
    }

    /// The records programs wrote to a perf event array.
    pub fn perf_records(&self) -> &[PerfRecord] {
        match &self.keys.index {
            Index::PerfEvents(p) => &p.records,
            _ => &[],
        }
    }

    /// Takes the records programs wrote to a perf event array.
    pub fn take_perf_records(&mut self) -> Vec<PerfRecord> {
        match &mut self.keys.index {
            Index::PerfEvents(p) => std::mem::take(&mut p.records),
            _ => Vec::new(),
        }
    }

    /// Opens (a reader on CPU `cpu`) or closes (`None`) index `index` of a perf event array.
    /// By default index `i` has a reader on CPU `i` for every CPU, like libbpf's perf buffer.
    pub fn set_perf_reader(&mut self, index: u32, cpu: Option<u32>) -> Result<(), MapError> {
        match &mut self.keys.index {
            Index::PerfEvents(p) => {
                *p.open.get_mut(index as usize).ok_or(MapError::TooBig)? = cpu;
                Ok(())
            }
            _ => Err(MapError::Invalid),
        }
    }
}

fn check_flags(present: bool, flags: u64) -> Result<(), MapError> {
    match flags & !BPF_F_LOCK {
        BPF_NOEXIST if present => Err(MapError::Exists),
        BPF_EXIST if !present => Err(MapError::NotFound),
        _ => Ok(()),
    }
}

fn array_index(def: &MapDef, key: &[u8]) -> Result<u32, MapError> {
    if key.len() != def.key_size as usize || key.len() != 4 {
        return Err(MapError::Invalid);
    }
    Ok(u32::from_le_bytes(key.try_into().unwrap()))
}

impl Keys {
    /// The map's definition.
    pub(crate) fn def(&self) -> &MapDef {
        &self.def
    }

    /// How many values an element has (the CPUs of a per-cpu map, else 1).
    fn cpus_of_values(&self) -> u32 {
        if is_percpu(self.def.map_type) {
            self.cpus
        } else {
            1
        }
    }

    /// The byte offset in the value region of `slot`'s value on `cpu`.
    pub(crate) fn value_offset(&self, slot: u32, cpu: u32) -> u64 {
        let values = self.cpus_of_values() as u64;
        (slot as u64 * values + (cpu as u64 % values)) * self.def.value_size as u64
    }

    fn check_key(&self, key: &[u8]) -> Result<(), MapError> {
        if key.len() == self.def.key_size as usize {
            Ok(())
        } else {
            Err(MapError::Invalid)
        }
    }

    fn array_index(&self, key: &[u8]) -> Result<u32, MapError> {
        array_index(&self.def, key)
    }

    /// The slot holding `key`, if present (no LRU side effect).
    pub(crate) fn find(&self, key: &[u8]) -> Option<u32> {
        match &self.index {
            Index::Array => self
                .array_index(key)
                .ok()
                .filter(|&i| i < self.def.max_entries),
            Index::Hash(h) => h.get(key),
            Index::Lpm(l) => l.lookup(key),
            _ => None,
        }
    }

    /// `bpf_map_lookup_elem` from a program running on `cpu`: a value or an inner map; an LRU
    /// element becomes the most recently used.
    pub(crate) fn lookup(&mut self, key: &[u8], cpu: u32) -> Option<Found> {
        match &mut self.index {
            Index::Hash(h) => {
                let slot = h.touch(key)?;
                Some(Found::Value(self.value_offset(slot, cpu)))
            }
            Index::MapArray(v) => {
                let i = u32::from_le_bytes(key.try_into().ok()?);
                v.get(i as usize).copied().flatten().map(Found::Map)
            }
            Index::MapHash(m) => m.get(key).copied().map(Found::Map),
            Index::Redirect(v) => {
                let i = u32::from_le_bytes(key.try_into().ok()?);
                v.get(i as usize)
                    .copied()
                    .flatten()
                    .map(|_| Found::Value(i as u64 * self.def.value_size as u64))
            }
            _ => {
                let slot = self.find(key)?;
                Some(Found::Value(self.value_offset(slot, cpu)))
            }
        }
    }

    /// Finds or makes the slot for `key` under `flags` (`bpf_map_update_elem` and
    /// `BPF_MAP_UPDATE_ELEM`); the caller writes the value there.
    pub(crate) fn update_slot(&mut self, key: &[u8], flags: u64) -> Result<Slot, MapError> {
        self.check_key(key)?;
        let t = self.def.map_type;
        // Per-cpu hashes, LRU hashes and LPM tries take no BPF_F_LOCK at all; arrays and
        // hashes take it when the value has a spin lock.
        let lock_ok = matches!(t, MapType::ARRAY | MapType::PERCPU_ARRAY | MapType::HASH);
        let plain = if lock_ok { flags & !BPF_F_LOCK } else { flags };
        if plain > BPF_EXIST {
            return Err(MapError::Invalid);
        }
        let lock_refused = flags & BPF_F_LOCK != 0 && !self.spin_lock;
        match &mut self.index {
            Index::Array => {
                let i = self.array_index(key)?;
                if i >= self.def.max_entries {
                    return Err(MapError::TooBig);
                }
                if plain == BPF_NOEXIST {
                    return Err(MapError::Exists);
                }
                if lock_refused {
                    return Err(MapError::Invalid);
                }
                Ok(Slot {
                    index: i,
                    fresh: false,
                })
            }
            Index::Hash(h) => {
                if lock_refused {
                    return Err(MapError::Invalid);
                }
                h.update(key, plain)
            }
            Index::Lpm(l) => l.update(key, plain),
            _ => Err(MapError::Invalid),
        }
    }

    /// Removes `key`.
    pub(crate) fn delete(&mut self, key: &[u8]) -> Result<(), MapError> {
        match &mut self.index {
            Index::Hash(h) => {
                self.def
                    .key_size
                    .eq(&(key.len() as u32))
                    .then_some(())
                    .ok_or(MapError::Invalid)?;
                h.remove(key)
            }
            Index::Lpm(l) => l.delete(key),
            Index::ProgArray(v) | Index::MapArray(v) | Index::Redirect(v) => {
                let i = array_index(&self.def, key)?;
                let slot = v.get_mut(i as usize).ok_or(MapError::TooBig)?;
                slot.take().map(|_| ()).ok_or(MapError::NotFound)
            }
            Index::MapHash(m) => m.remove(key).map(|_| ()).ok_or(MapError::NotFound),
            Index::Array => Err(MapError::Invalid),
            Index::Queue(_) | Index::Bloom(_) | Index::RingBuf(_) | Index::PerfEvents(_) => {
                Err(MapError::Invalid)
            }
        }
    }

    /// The slot a push writes (queue and stack); the caller copies the value there.
    pub(crate) fn push_slot(&mut self, flags: u64) -> Result<u64, MapError> {
        match &mut self.index {
            Index::Queue(q) => q.push(flags),
            _ => Err(MapError::Invalid),
        }
    }

    /// The slot of the value a pop (`delete`) or peek reads.
    pub(crate) fn pop_slot(&mut self, delete: bool) -> Result<u64, MapError> {
        match &mut self.index {
            Index::Queue(q) => q.pop(delete).ok_or(MapError::NotFound),
            _ => Err(MapError::Invalid),
        }
    }

    /// The program at `index` of a program array, for `bpf_tail_call`.
    pub(crate) fn program_at(&self, index: u64) -> Option<u32> {
        match &self.index {
            Index::ProgArray(progs) => progs.get(usize::try_from(index).ok()?).copied().flatten(),
            _ => None,
        }
    }

    /// The keys in the order `bpf_for_each_map_elem` visits them (array index order; hash maps
    /// in ascending key order, which the kernel's randomly seeded buckets do not promise).
    pub(crate) fn iteration_order(&self) -> Vec<(Vec<u8>, u32)> {
        match &self.index {
            Index::Array => (0..self.def.max_entries)
                .map(|i| (i.to_le_bytes().to_vec(), i))
                .collect(),
            Index::Hash(h) => {
                let mut v: Vec<(Vec<u8>, u32)> =
                    h.iter().map(|(k, slot)| (k.to_vec(), slot)).collect();
                v.sort();
                v
            }
            _ => Vec::new(),
        }
    }
}

#[cfg(test)]
mod tests;
