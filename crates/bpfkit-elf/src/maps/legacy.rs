//! Legacy maps: C structs in `SEC("maps")` (and PREVAIL's `SEC("maps/NAME")`), one per symbol.
//!
//! Every loader that reads them agrees on the first five `u32`s — `type`, `key_size`,
//! `value_size`, `max_entries`, `map_flags` (libbpf's 20-byte `struct bpf_map_def`) — and
//! disagrees on what follows:
//!
//! - iproute2 (tc) writes `struct bpf_elf_map`: then `id`, `pinning`, `inner_id`, `inner_idx`
//!   (36 bytes; older versions stop after `pinning`, and tc zero-fills what is missing);
//! - the kernel's `samples/bpf` and old selftests write a `bpf_map_def` with `inner_map_idx` and
//!   `numa_node` (28 bytes);
//! - libbpf before 1.0 refused non-zero bytes past `map_flags`, cilium/ebpf keeps them aside and
//!   refuses to create the map unless they are zero, libbpf 1.0 refuses every legacy map.
//!
//! So this reader keeps the bytes past `map_flags` and names them when it can tell which struct
//! they belong to: from the object's BTF (the struct of the map's VAR in the section's DATASEC,
//! by its member names), else from the size (36 bytes can only be `bpf_elf_map`). A 28-byte
//! definition without BTF could be either; its extra fields stay unnamed.
//!
//! A definition's size is its symbol's `st_size` (cilium/ebpf's rule, right for linked objects
//! whose section holds definitions no symbol names), or for symbols without a size (old clang)
//! the section's size divided by the number of maps (libbpf's and iproute2's rule).

use bpfkit_btf::{Btf, Kind};
use bpfkit_uapi::{MapDef, MapFlags, MapType};

use super::{InnerMap, LegacyDef, LegacyLayout, Map, MapKind, MapTypes, Pinning, bad_map};
use crate::elf::{ElfFile, Section, SymbolBinding, SymbolKind};
use crate::error::{MapError, Result};
use crate::warning::{Warning, WarningKind};

/// Size of libbpf's `struct bpf_map_def`: five `u32`s.
const MAP_DEF_SIZE: u64 = 20;

/// Size of iproute2's `struct bpf_elf_map`: nine `u32`s.
const ELF_MAP_SIZE: u64 = 36;

/// Member names of iproute2's `struct bpf_elf_map`, in order.
const IPROUTE2_FIELDS: [&str; 9] = [
    "type",
    "size_key",
    "size_value",
    "max_elem",
    "flags",
    "id",
    "pinning",
    "inner_id",
    "inner_idx",
];

/// Member names of libbpf's `struct bpf_map_def` and, past the fifth, of `samples/bpf`'s.
const SAMPLES_FIELDS: [&str; 7] = [
    "type",
    "key_size",
    "value_size",
    "max_entries",
    "map_flags",
    "inner_map_idx",
    "numa_node",
];

/// Whether a section holds legacy maps: `maps`, or PREVAIL's `maps/NAME`.
pub(crate) fn is_legacy_section(name: &str) -> bool {
    name == "maps" || name.starts_with("maps/")
}

/// Reads every map of the legacy map section `section`.
pub(crate) fn parse_legacy_maps<'data>(
    elf: &ElfFile<'data>,
    btf: Option<&Btf<'data>>,
    section: &Section<'data>,
    warnings: &mut Vec<Warning>,
) -> Result<Vec<Map<'data>>> {
    let mut symbols: Vec<_> = elf
        .symbols()
        .iter()
        .filter(|s| {
            s.section_index() == Some(section.index)
                && matches!(s.kind, SymbolKind::Object | SymbolKind::NoType)
                && !s.name.is_empty()
        })
        .collect();
    symbols.sort_by_key(|s| (s.value, s.index));
    if symbols.is_empty() {
        return Ok(Vec::new());
    }
    let fail = |offset: u64, map: &str, reason| bad_map(section, offset, map, reason);
    let shared_size = section.size / symbols.len() as u64;
    let mut maps = Vec::with_capacity(symbols.len());
    for sym in &symbols {
        let size = if sym.size > 0 {
            sym.size
        } else if section.size % symbols.len() as u64 == 0 && shared_size > 0 {
            shared_size
        } else {
            return Err(fail(
                section.offset,
                sym.name,
                MapError::BadLegacySize(shared_size),
            ));
        };
        let bytes = usize::try_from(sym.value)
            .ok()
            .and_then(|start| section.data.get(start..start.checked_add(size as usize)?))
            .ok_or_else(|| {
                fail(
                    sym.entry_offset,
                    sym.name,
                    MapError::OutOfBounds {
                        offset: sym.value,
                        size,
                        section_size: section.size,
                    },
                )
            })?;
        let word = |i: usize| -> u32 {
            bytes
                .get(i * 4..i * 4 + 4)
                .map_or(0, |w| elf.endian_u32([w[0], w[1], w[2], w[3]]))
        };
        let extra = bytes.get(MAP_DEF_SIZE as usize..).unwrap_or_default();
        let layout = match struct_fields(btf, section.name, sym.name) {
            Some(fields) => layout_from_btf(&fields, extra, &word),
            None => layout_from_size(size, extra, &word),
        };
        if layout == LegacyLayout::Unknown && extra.iter().any(|&b| b != 0) {
            warnings.push(Warning::new(
                section.offset + sym.value + MAP_DEF_SIZE,
                Some((section.index, section.name)),
                WarningKind::UnknownMapFields {
                    map: sym.name.to_string(),
                    size,
                },
            ));
        }
        if sym.binding == SymbolBinding::Local {
            warnings.push(Warning::new(
                sym.entry_offset,
                Some((section.index, section.name)),
                WarningKind::StaticMap {
                    map: sym.name.to_string(),
                },
            ));
        }
        let pinning = match layout {
            LegacyLayout::Iproute2 { pinning, .. } => Pinning::from_iproute2(pinning),
            _ => Pinning::None,
        };
        maps.push(Map {
            name: sym.name,
            kind: MapKind::Legacy,
            section: section.index,
            symbol: Some(sym.index),
            offset: sym.value,
            size,
            def: MapDef {
                map_type: MapType(word(0)),
                key_size: word(1),
                value_size: word(2),
                max_entries: word(3),
                map_flags: MapFlags(word(4)),
                ..MapDef::default()
            },
            types: MapTypes::default(),
            pinning,
            inner: None,
            initial_values: Vec::new(),
            legacy: Some(LegacyDef { extra, layout }),
        });
    }
    resolve_inner_maps(&mut maps);
    warnings.push(Warning::new(
        section.offset,
        Some((section.index, section.name)),
        WarningKind::LegacyMaps { count: maps.len() },
    ));
    Ok(maps)
}

/// The member names of the struct that BTF gives map `map` of section `section` (its VAR in the
/// DATASEC of the section's name), when the object has BTF saying so.
fn struct_fields<'data>(btf: Option<&Btf<'data>>, section: &str, map: &str) -> Option<Vec<String>> {
    let btf = btf?;
    let datasec = btf.find_by_name_kind(section, Kind::Datasec)?;
    let datasec = btf.type_by_id(datasec).ok()?;
    let var = datasec
        .var_secinfos()
        .filter_map(|vi| btf.type_by_id(vi.type_id).ok())
        .find(|t| t.kind() == Kind::Var && t.name_bytes() == map.as_bytes())?;
    let def = btf.resolve(var.ref_type()?).ok()?;
    let def = btf.type_by_id(def).ok()?;
    (def.kind() == Kind::Struct).then(|| {
        def.members()
            .map(|m| m.name().unwrap_or_default().to_string())
            .collect()
    })
}

/// The layout BTF names: iproute2's or `samples/bpf`'s member names, in order.
fn layout_from_btf(fields: &[String], extra: &[u8], word: &dyn Fn(usize) -> u32) -> LegacyLayout {
    let is_prefix_of = |known: &[&str]| {
        fields.len() >= 5
            && fields.len() <= known.len()
            && fields.iter().zip(known).all(|(f, k)| f == k)
    };
    if is_prefix_of(&IPROUTE2_FIELDS) {
        iproute2(word)
    } else if is_prefix_of(&SAMPLES_FIELDS) && fields.len() > 5 {
        LegacyLayout::KernelSamples {
            inner_map_idx: word(5),
            numa_node: word(6),
        }
    } else if extra.is_empty() {
        LegacyLayout::Libbpf
    } else {
        LegacyLayout::Unknown
    }
}

/// The layout the size alone tells: 20 bytes is libbpf's, 36 only iproute2's.
fn layout_from_size(size: u64, extra: &[u8], word: &dyn Fn(usize) -> u32) -> LegacyLayout {
    match size {
        _ if extra.is_empty() => LegacyLayout::Libbpf,
        ELF_MAP_SIZE => iproute2(word),
        _ => LegacyLayout::Unknown,
    }
}

fn iproute2(word: &dyn Fn(usize) -> u32) -> LegacyLayout {
    LegacyLayout::Iproute2 {
        id: word(5),
        pinning: word(6),
        inner_id: word(7),
        inner_idx: word(8),
    }
}

/// The inner map of each legacy map-in-map: iproute2 names it by `id` (`inner_id` of the outer
/// map), `samples/bpf` by its index among the section's maps (`inner_map_idx`).
fn resolve_inner_maps(maps: &mut [Map<'_>]) {
    let inner: Vec<Option<InnerMap>> = maps
        .iter()
        .map(|m| {
            if !matches!(
                m.def.map_type,
                MapType::ARRAY_OF_MAPS | MapType::HASH_OF_MAPS
            ) {
                return None;
            }
            let template = match m.legacy.as_ref()?.layout {
                LegacyLayout::Iproute2 { inner_id, .. } if inner_id != 0 => maps.iter().find(|t| {
                    matches!(t.legacy.as_ref().map(|l| l.layout),
                        Some(LegacyLayout::Iproute2 { id, .. }) if id == inner_id)
                }),
                LegacyLayout::KernelSamples { inner_map_idx, .. } => {
                    maps.get(inner_map_idx as usize)
                }
                _ => None,
            }?;
            Some(InnerMap {
                def: template.def,
                types: template.types,
            })
        })
        .collect();
    for (map, inner) in maps.iter_mut().zip(inner) {
        map.inner = inner;
    }
}
