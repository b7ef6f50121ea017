//! [`MapDef`]: what a map is, as `BPF_MAP_CREATE` takes it. The one map definition the object
//! reader, the userspace runtime and the kernel loader share.

use crate::{MapFlags, MapType};

/// A map's definition: the fields of `BPF_MAP_CREATE` that say what the map is (its name and
/// BTF type ids are the loader's business and live beside it).
///
/// ```
/// use bpfkit_uapi::{MapDef, MapFlags, MapType};
///
/// let def = MapDef::new(MapType::HASH, 4, 8, 1024).with_flags(MapFlags::NO_PREALLOC);
/// assert_eq!((def.key_size, def.value_size, def.max_entries), (4, 8, 1024));
/// assert_eq!(def.numa_node, 0);
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
pub struct MapDef {
    /// `map_type`.
    pub map_type: MapType,
    /// `key_size` in bytes.
    pub key_size: u32,
    /// `value_size` in bytes.
    pub value_size: u32,
    /// `max_entries`.
    pub max_entries: u32,
    /// `map_flags`.
    pub map_flags: MapFlags,
    /// `numa_node` (used with [`MapFlags::NUMA_NODE`]).
    pub numa_node: u32,
    /// `map_extra`: the number of hash functions of a bloom filter, an arena's address.
    pub map_extra: u64,
}

impl MapDef {
    /// A definition with no flags, NUMA node or extra.
    pub const fn new(map_type: MapType, key_size: u32, value_size: u32, max_entries: u32) -> Self {
        MapDef {
            map_type,
            key_size,
            value_size,
            max_entries,
            map_flags: MapFlags(0),
            numa_node: 0,
            map_extra: 0,
        }
    }

    /// This definition with `map_flags` set to `flags`.
    pub const fn with_flags(mut self, flags: MapFlags) -> Self {
        self.map_flags = flags;
        self
    }

    /// This definition with `map_extra` set to `extra`.
    pub const fn with_extra(mut self, extra: u64) -> Self {
        self.map_extra = extra;
        self
    }
}
