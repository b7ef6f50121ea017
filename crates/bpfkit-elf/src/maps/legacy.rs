//! Legacy maps: `struct bpf_map_def` records in `SEC("maps")`, as libbpf before v1.0 read them
//! (`bpf_object__init_user_maps`): every symbol in the section is a map, all definitions have
//! the same size (section size / number of maps), and the first five `u32`s are `type`,
//! `key_size`, `value_size`, `max_entries` and `map_flags`; bytes past them must be zero.

use bpfkit_uapi::{MapDef, MapFlags, MapType};

use super::{Map, MapKind, MapTypes, Pinning, bad_map};
use crate::elf::{ElfFile, Section, SymbolKind};
use crate::error::{MapError, Result};

/// Size of libbpf's `struct bpf_map_def`: five `u32`s.
const MAP_DEF_SIZE: u64 = 20;

/// Reads every map of the legacy `maps` section `section`.
pub(crate) fn parse_legacy_maps<'data>(
    elf: &ElfFile<'data>,
    section: &Section<'data>,
) -> Result<Vec<Map<'data>>> {
    let symbols: Vec<_> = elf
        .symbols()
        .iter()
        .filter(|s| s.section_index() == Some(section.index) && s.kind != SymbolKind::Section)
        .collect();
    if symbols.is_empty() {
        return Ok(Vec::new());
    }
    let fail = |offset: u64, map: &str, reason| bad_map(section, offset, map, reason);
    let def_size = section.size / symbols.len() as u64;
    if section.size % symbols.len() as u64 != 0 || def_size == 0 || def_size % 4 != 0 {
        return Err(fail(section.offset, "", MapError::BadLegacySize(def_size)));
    }
    let mut maps = Vec::with_capacity(symbols.len());
    for sym in symbols {
        let at = section.offset.saturating_add(sym.value);
        let bytes = usize::try_from(sym.value)
            .ok()
            .and_then(|start| {
                section
                    .data
                    .get(start..start.checked_add(def_size as usize)?)
            })
            .ok_or_else(|| {
                fail(
                    sym.entry_offset,
                    sym.name,
                    MapError::OutOfBounds {
                        offset: sym.value,
                        size: def_size,
                        section_size: section.size,
                    },
                )
            })?;
        if bytes.len() as u64 > MAP_DEF_SIZE
            && bytes[MAP_DEF_SIZE as usize..].iter().any(|&b| b != 0)
        {
            return Err(fail(
                at + MAP_DEF_SIZE,
                sym.name,
                MapError::LegacyTrailingBytes,
            ));
        }
        let word = |i: usize| -> u32 {
            bytes
                .get(i * 4..i * 4 + 4)
                .map_or(0, |w| elf.endian_u32([w[0], w[1], w[2], w[3]]))
        };
        maps.push(Map {
            name: sym.name,
            kind: MapKind::Legacy,
            section: section.index,
            symbol: Some(sym.index),
            offset: sym.value,
            size: def_size,
            def: MapDef {
                map_type: MapType(word(0)),
                key_size: word(1),
                value_size: word(2),
                max_entries: word(3),
                map_flags: MapFlags(word(4)),
                ..MapDef::default()
            },
            types: MapTypes::default(),
            pinning: Pinning::None,
            inner: None,
            initial_values: Vec::new(),
        });
    }
    Ok(maps)
}
