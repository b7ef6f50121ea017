//! Map definitions: BTF-defined maps in `.maps` and legacy `struct bpf_map_def`s in `maps`.

mod btf;
mod legacy;

pub(crate) use btf::{parse_btf_maps, resolve_initial_values};
pub(crate) use legacy::parse_legacy_maps;

use bpfkit_btf::TypeId;
use bpfkit_uapi::{MapFlags, MapType};

use crate::elf::Section;
use crate::error::{ElfError, ErrorKind, MapError};
use crate::{SectionIndex, SymbolIndex};

/// How a map was declared.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum MapKind {
    /// A variable in `SEC(".maps")` described by BTF (`__uint`, `__type`, `__array`).
    Btf,
    /// A `struct bpf_map_def` in `SEC("maps")` (libbpf < 1.0).
    Legacy,
}

/// libbpf's `pinning` attribute (`enum libbpf_pin_type`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
pub enum Pinning {
    /// `LIBBPF_PIN_NONE` (0): not pinned.
    #[default]
    None,
    /// `LIBBPF_PIN_BY_NAME` (1): pinned under the pin root by the map's name.
    ByName,
}

/// What a map definition says.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
pub struct MapDef {
    /// `type`.
    pub map_type: MapType,
    /// `key_size` in bytes (from `key_size` or the size of `key`'s type).
    pub key_size: u32,
    /// `value_size` in bytes (from `value_size`, the size of `value`'s type, or 4 for prog
    /// arrays and map-in-maps).
    pub value_size: u32,
    /// `max_entries`.
    pub max_entries: u32,
    /// `map_flags`.
    pub map_flags: MapFlags,
    /// `numa_node`.
    pub numa_node: u32,
    /// `map_extra` (bloom filter hashes, arena address).
    pub map_extra: u64,
    /// `pinning`.
    pub pinning: Pinning,
    /// The BTF type of the key (`__type(key, ...)`), if given.
    pub key_type: Option<TypeId>,
    /// The BTF type of the value (`__type(value, ...)`), if given.
    pub value_type: Option<TypeId>,
}

/// A map declared by the object.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Map<'data> {
    /// The map's name (its variable or symbol).
    pub name: &'data str,
    /// How it was declared.
    pub kind: MapKind,
    /// The section holding the definition (`.maps` or `maps`).
    pub section: SectionIndex,
    /// The symbol naming it, if there is one.
    pub symbol: Option<SymbolIndex>,
    /// Byte offset of the definition in its section.
    pub offset: u64,
    /// Size of the definition in bytes.
    pub size: u64,
    /// The definition.
    pub def: MapDef,
    /// For array/hash of maps: the inner map's definition (`__array(values, ...)`; libbpf names
    /// it `<name>.inner`).
    pub inner: Option<MapDef>,
    /// Initial contents given with `.values = { [i] = &x }` (prog arrays and map-in-maps).
    pub initial_values: Vec<InitialValue<'data>>,
}

/// One slot of a map's `.values` initialiser.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct InitialValue<'data> {
    /// The slot (array index).
    pub slot: u32,
    /// The symbol the slot points at.
    pub symbol: SymbolIndex,
    /// Its name.
    pub name: &'data str,
    /// What it is.
    pub target: InitialTarget,
}

/// What an initial value refers to.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum InitialTarget {
    /// A program of the object: index into [`Object::programs`](crate::Object::programs).
    Program(usize),
    /// A map of the object: index into [`Object::maps`](crate::Object::maps).
    Map(usize),
}

/// A [`ErrorKind::BadMap`] at `offset` in the maps section `section`, for the map named `map`
/// (empty before its name is known).
fn bad_map(section: &Section<'_>, offset: u64, map: &str, reason: MapError) -> ElfError {
    ElfError::in_section(
        offset,
        section.index,
        section.name,
        ErrorKind::BadMap {
            map: map.to_string(),
            reason,
        },
    )
}
