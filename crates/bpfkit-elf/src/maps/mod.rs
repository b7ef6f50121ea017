//! Map definitions: BTF-defined maps in `.maps` and legacy `struct bpf_map_def`s in `maps`.

mod btf;
mod legacy;

pub(crate) use btf::{parse_btf_maps, resolve_initial_values};
pub(crate) use legacy::parse_legacy_maps;

use bpfkit_btf::TypeId;
use bpfkit_uapi::MapDef;

use crate::elf::Section;
use crate::error::{ElfError, ErrorKind, MapError};
use crate::{MapIndex, ProgIndex, SectionIndex, SymbolIndex};

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

/// A map's BTF types: `__type(key, ...)` and `__type(value, ...)` in the object's `.BTF`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
pub struct MapTypes {
    /// The BTF type of the key, if given.
    pub key: Option<TypeId>,
    /// The BTF type of the value, if given.
    pub value: Option<TypeId>,
}

/// The inner map of an array or hash of maps (`__array(values, struct { ... })`; libbpf names it
/// `<name>.inner`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
pub struct InnerMap {
    /// Its definition.
    pub def: MapDef,
    /// Its key and value types.
    pub types: MapTypes,
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
    /// The definition (key and value sizes from `key_size`/`value_size` or the sizes of the
    /// `key`/`value` types; 4 for the values of prog arrays and maps of maps).
    pub def: MapDef,
    /// The key and value BTF types, if given.
    pub types: MapTypes,
    /// libbpf's `pinning` attribute.
    pub pinning: Pinning,
    /// For an array or hash of maps: the inner map.
    pub inner: Option<InnerMap>,
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
    /// A program of the object.
    Program(ProgIndex),
    /// A map of the object.
    Map(MapIndex),
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
