//! Map definitions: BTF-defined maps in `.maps` and legacy C structs in `maps`.

mod btf;
mod legacy;

pub(crate) use btf::{parse_btf_maps, resolve_initial_values};
pub(crate) use legacy::{is_legacy_section, parse_legacy_maps};

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
    /// A C struct in `SEC("maps")` or `SEC("maps/NAME")`: libbpf's `struct bpf_map_def`,
    /// iproute2's `struct bpf_elf_map` and their relatives ([`LegacyDef`]).
    Legacy,
}

/// Where and how a map is pinned in the BPF filesystem.
///
/// Two conventions share small numbers: libbpf's `pinning` attribute of BTF maps
/// (`enum libbpf_pin_type`: 1 is `LIBBPF_PIN_BY_NAME`) and the `pinning` field of iproute2's
/// `struct bpf_elf_map` (1 is `PIN_OBJECT_NS`, 2 `PIN_GLOBAL_NS`). Each is read by its own rule
/// into its own variant; [`Pinning::value`] gives the number back.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
pub enum Pinning {
    /// 0 in both conventions (`LIBBPF_PIN_NONE`, `PIN_NONE`): not pinned.
    #[default]
    None,
    /// libbpf's `LIBBPF_PIN_BY_NAME` (1, BTF maps): pinned under the pin root by the map's name.
    ByName,
    /// iproute2's `PIN_OBJECT_NS` (1, legacy maps): pinned in a directory of the object
    /// (`/sys/fs/bpf/tc/<object hash>/NAME`).
    ObjectNs,
    /// iproute2's `PIN_GLOBAL_NS` (2, legacy maps): pinned in the shared directory
    /// (`/sys/fs/bpf/tc/globals/NAME`).
    GlobalNs,
    /// iproute2's custom pinning (3 and up, legacy maps): a subdirectory named by
    /// `/etc/iproute2/bpf_pinning`.
    Custom(u32),
    /// A BTF map's value libbpf does not know (cilium's `CILIUM_PIN_REPLACE`, 16): libbpf
    /// refuses it, the object's own loader gives it a meaning.
    Unknown(u32),
}

impl Pinning {
    /// The number in the object.
    pub fn value(self) -> u32 {
        match self {
            Pinning::None => 0,
            Pinning::ByName | Pinning::ObjectNs => 1,
            Pinning::GlobalNs => 2,
            Pinning::Custom(n) | Pinning::Unknown(n) => n,
        }
    }

    /// The `pinning` of a BTF map, by libbpf's convention.
    pub fn from_libbpf(value: u32) -> Pinning {
        match value {
            0 => Pinning::None,
            1 => Pinning::ByName,
            n => Pinning::Unknown(n),
        }
    }

    /// The `pinning` field of iproute2's `struct bpf_elf_map`.
    pub fn from_iproute2(value: u32) -> Pinning {
        match value {
            0 => Pinning::None,
            1 => Pinning::ObjectNs,
            2 => Pinning::GlobalNs,
            n => Pinning::Custom(n),
        }
    }
}

impl core::fmt::Display for Pinning {
    /// `none`, `by_name`, `object_ns`, `global_ns`, `custom(N)`, `unknown(N)`.
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            Pinning::None => f.pad("none"),
            Pinning::ByName => f.pad("by_name"),
            Pinning::ObjectNs => f.pad("object_ns"),
            Pinning::GlobalNs => f.pad("global_ns"),
            Pinning::Custom(n) => f.pad(&format!("custom({n})")),
            Pinning::Unknown(n) => f.pad(&format!("unknown({n})")),
        }
    }
}

/// What a legacy map definition holds past libbpf's five fields.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct LegacyDef<'data> {
    /// The definition's bytes past `map_flags` (empty for a 20-byte `struct bpf_map_def`).
    pub extra: &'data [u8],
    /// Which struct they belong to, when the object's BTF or the size tells.
    pub layout: LegacyLayout,
}

/// The C struct of a legacy map definition.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum LegacyLayout {
    /// libbpf's `struct bpf_map_def`: nothing past `map_flags`.
    Libbpf,
    /// iproute2's `struct bpf_elf_map` (tc's loader, and cilium's before BTF maps); fields
    /// past the definition's end read as 0, as tc reads them.
    Iproute2 {
        /// A number naming the map for map-in-map (`inner_id` of an outer map refers to it).
        id: u32,
        /// The raw pinning value ([`Pinning::from_iproute2`]; the map's
        /// [`pinning`](Map::pinning) holds it read).
        pinning: u32,
        /// For a map of maps: the `id` of the map that is its inner map's template.
        inner_id: u32,
        /// For a map with an `id`: the slot of the outer maps it is inserted into.
        inner_idx: u32,
    },
    /// The `bpf_map_def` of the kernel's `samples/bpf` and old selftests (28 bytes).
    KernelSamples {
        /// For a map of maps: the index, among the section's maps, of its inner map's template.
        inner_map_idx: u32,
        /// The NUMA node to allocate on (with `BPF_F_NUMA_NODE`).
        numa_node: u32,
    },
    /// Bytes past `map_flags` that neither BTF nor the size identifies (a 28-byte definition
    /// without BTF is iproute2's older `bpf_elf_map` or `samples/bpf`'s; others are unknown).
    Unknown,
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
    /// For a legacy map: the definition's bytes past `map_flags` and what they are.
    pub legacy: Option<LegacyDef<'data>>,
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
