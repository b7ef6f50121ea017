//! BTF-defined maps: the VARs of the `.maps` DATASEC and the members of their structs, read as
//! libbpf's `parse_btf_map_def` reads them; and their `.values` initialisers from `.rel.maps`.

use bpfkit_btf::{Btf, Kind, Linkage, Member, Type, TypeId};
use bpfkit_uapi::{MapDef, MapFlags, MapType};

use super::{InitialTarget, InitialValue, InnerMap, Map, MapKind, MapTypes, Pinning, bad_map};
use crate::elf::{ElfFile, Section, SymbolKind};
use crate::error::{MapError, Result};
use crate::program::Program;
use crate::warning::{Warning, WarningKind};
use crate::{MapIndex, ProgIndex};

/// A parsed BTF map and the byte offset of its `values` member, if any.
pub(crate) struct BtfMap<'data> {
    pub map: Map<'data>,
    pub values_offset: Option<u64>,
}

/// Reads every map of the `.maps` section `section`.
pub(crate) fn parse_btf_maps<'data>(
    elf: &ElfFile<'data>,
    btf: Option<&Btf<'data>>,
    section: &Section<'data>,
    warnings: &mut Vec<Warning>,
) -> Result<Vec<BtfMap<'data>>> {
    let fail = |offset: u64, map: &str, reason| bad_map(section, offset, map, reason);
    let Some(btf) = btf else {
        return Err(fail(section.offset, "", MapError::NoBtf));
    };
    let Some(datasec) = btf.find_by_name_kind(".maps", Kind::Datasec) else {
        return Err(fail(section.offset, "", MapError::NoDatasec));
    };
    let datasec = btf
        .type_by_id(datasec)
        .map_err(|e| fail(section.offset, "", MapError::Btf(e)))?;
    let mut maps = Vec::new();
    for vi in datasec.var_secinfos() {
        let at = section.offset;
        let var = btf
            .type_by_id(vi.type_id)
            .map_err(|e| fail(at, "", MapError::Btf(e)))?;
        let name = var.name().map_err(|e| fail(at, "", MapError::Btf(e)))?;
        let fail = |reason| fail(at, name, reason);
        if var.kind() != Kind::Var {
            return Err(fail(MapError::NotStruct(var.kind().to_string())));
        }
        match var.linkage() {
            Some(Linkage::Global) => {}
            Some(Linkage::Static) => warnings.push(Warning::new(
                at,
                Some((section.index, section.name)),
                WarningKind::StaticMap {
                    map: name.to_string(),
                },
            )),
            other => {
                return Err(fail(MapError::NotStruct(format!(
                    "a variable with {} linkage",
                    other.unwrap_or(Linkage::Extern)
                ))));
            }
        }
        // clang leaves the DATASEC offsets of global variables at 0; libbpf takes them from the
        // ELF symbols (btf_fixup_datasec), and so do we (a global one first: a static map may
        // share its name with a local symbol elsewhere).
        let in_section = |s: &&crate::elf::Symbol<'_>| {
            s.section_index() == Some(section.index) && s.name == name
        };
        let symbol = elf
            .symbols()
            .iter()
            .filter(in_section)
            .find(|s| s.is_global())
            .or_else(|| elf.symbols().iter().find(in_section))
            .ok_or_else(|| fail(MapError::NoSymbol))?;
        let (offset, size) = (symbol.value, u64::from(vi.size));
        if offset
            .checked_add(size)
            .is_none_or(|end| end > section.size)
        {
            return Err(fail(MapError::OutOfBounds {
                offset,
                size,
                section_size: section.size,
            }));
        }
        let def_type = resolved(btf, var.ref_type().unwrap_or_default()).map_err(fail)?;
        if def_type.kind() != Kind::Struct {
            return Err(fail(MapError::NotStruct(def_type.kind().to_string())));
        }
        if u64::from(def_type.size().unwrap_or(0)) > size {
            return Err(fail(MapError::OutOfBounds {
                offset,
                size: def_type.size().unwrap_or(0).into(),
                section_size: size,
            }));
        }
        let parsed = parse_def(btf, &def_type, false).map_err(fail)?;
        if let Pinning::Unknown(value) = parsed.pinning {
            warnings.push(Warning::new(
                at,
                Some((section.index, section.name)),
                WarningKind::UnknownPinning {
                    map: name.to_string(),
                    value,
                },
            ));
        }
        maps.push(BtfMap {
            map: Map {
                name,
                kind: MapKind::Btf,
                section: section.index,
                symbol: Some(symbol.index),
                offset,
                size,
                def: parsed.def,
                types: parsed.types,
                pinning: parsed.pinning,
                inner: parsed.inner,
                initial_values: Vec::new(),
                legacy: None,
            },
            values_offset: parsed.values_offset,
        });
    }
    Ok(maps)
}

struct Parsed {
    def: MapDef,
    types: MapTypes,
    pinning: Pinning,
    inner: Option<InnerMap>,
    values_offset: Option<u64>,
}

/// `parse_btf_map_def`: one struct's members.
fn parse_def(btf: &Btf<'_>, def_type: &Type<'_>, is_inner: bool) -> Result<Parsed, MapError> {
    let mut def = MapDef::default();
    let mut types = MapTypes::default();
    let mut pinning = Pinning::None;
    let mut inner = None;
    let mut values_offset = None;
    let members: Vec<Member<'_>> = def_type.members().collect();
    for (i, m) in members.iter().enumerate() {
        let name = m.name().map_err(MapError::Btf)?;
        match name {
            "type" => def.map_type = MapType(uint(btf, m, "type")?),
            "max_entries" => def.max_entries = uint(btf, m, "max_entries")?,
            "map_flags" => def.map_flags = MapFlags(uint(btf, m, "map_flags")?),
            "numa_node" => def.numa_node = uint(btf, m, "numa_node")?,
            "key_size" => set_size(
                &mut def.key_size,
                uint(btf, m, "key_size")?.into(),
                "key_size",
            )?,
            "value_size" => set_size(
                &mut def.value_size,
                uint(btf, m, "value_size")?.into(),
                "value_size",
            )?,
            "key" => {
                let (id, size) = pointee(btf, m, "key")?;
                set_size(&mut def.key_size, size, "key_size")?;
                types.key = Some(id);
            }
            "value" => {
                let (id, size) = pointee(btf, m, "value")?;
                set_size(&mut def.value_size, size, "value_size")?;
                types.value = Some(id);
            }
            "values" => {
                if is_inner {
                    return Err(MapError::TooDeep);
                }
                if i != members.len() - 1 {
                    return Err(MapError::BadValues("must be the last member"));
                }
                let is_map_in_map =
                    matches!(def.map_type, MapType::ARRAY_OF_MAPS | MapType::HASH_OF_MAPS);
                let is_prog_array = def.map_type == MapType::PROG_ARRAY;
                if !is_map_in_map && !is_prog_array {
                    return Err(MapError::BadValues(
                        "only prog arrays and maps of maps have values",
                    ));
                }
                set_size(&mut def.value_size, 4, "value_size")?;
                let array = btf
                    .type_by_id(m.type_id())
                    .map_err(MapError::Btf)?
                    .array()
                    .filter(|a| a.nelems == 0)
                    .ok_or(MapError::BadValues("not a zero-sized array"))?;
                let ptr = resolved(btf, array.elem_type)?;
                if ptr.kind() != Kind::Ptr {
                    return Err(MapError::BadValues("elements are not pointers"));
                }
                let target = resolved(btf, ptr.ref_type().unwrap_or_default())?;
                if is_prog_array {
                    if target.kind() != Kind::FuncProto {
                        return Err(MapError::BadValues("prog array values must be functions"));
                    }
                } else {
                    if target.kind() != Kind::Struct {
                        return Err(MapError::BadValues("inner map definition is not a struct"));
                    }
                    let parsed = parse_def(btf, &target, true)?;
                    inner = Some(InnerMap {
                        def: parsed.def,
                        types: parsed.types,
                    });
                }
                let bits = btf.member_bit_offset(m).map_err(MapError::Btf)?;
                values_offset = Some(bits / 8);
            }
            "pinning" => {
                if is_inner {
                    return Err(MapError::BadValues("an inner map cannot be pinned"));
                }
                pinning = Pinning::from_libbpf(uint(btf, m, "pinning")?);
            }
            "map_extra" => def.map_extra = ulong(btf, m)?,
            other => return Err(MapError::UnknownField(other.to_string())),
        }
    }
    Ok(Parsed {
        def,
        types,
        pinning,
        inner,
        values_offset,
    })
}

/// The type behind modifiers and typedefs; void is an error.
fn resolved<'data>(btf: &Btf<'data>, id: TypeId) -> Result<Type<'data>, MapError> {
    let id = btf.resolve(id).map_err(MapError::Btf)?;
    btf.type_by_id(id).map_err(MapError::Btf)
}

/// `__uint(name, N)`: `int (*name)[N]`, read as N.
fn uint(btf: &Btf<'_>, m: &Member<'_>, field: &'static str) -> Result<u32, MapError> {
    let ptr = resolved(btf, m.type_id())?;
    if ptr.kind() != Kind::Ptr {
        return Err(MapError::NotUint(field));
    }
    btf.type_by_id(ptr.ref_type().unwrap_or_default())
        .ok()
        .and_then(|t| t.array())
        .map(|a| a.nelems)
        .ok_or(MapError::NotUint(field))
}

/// `map_extra`: `__uint` or libbpf's `__ulong` (an enum with one 64-bit enumerator).
fn ulong(btf: &Btf<'_>, m: &Member<'_>) -> Result<u64, MapError> {
    let t = resolved(btf, m.type_id())?;
    if t.kind() == Kind::Ptr {
        return uint(btf, m, "map_extra").map(u64::from);
    }
    if matches!(t.kind(), Kind::Enum | Kind::Enum64) && t.vlen() == 1 {
        if let Some(v) = t.enum_values().next() {
            return Ok(v.bits());
        }
    }
    Err(MapError::NotUint("map_extra"))
}

/// `__type(name, T)`: `typeof(T) *name`, read as T and its size.
fn pointee(btf: &Btf<'_>, m: &Member<'_>, field: &'static str) -> Result<(TypeId, u64), MapError> {
    let ptr = btf.type_by_id(m.type_id()).map_err(MapError::Btf)?;
    if ptr.kind() != Kind::Ptr {
        return Err(MapError::NotPointer(field));
    }
    let id = ptr.ref_type().unwrap_or_default();
    let size = btf.size_of(id).map_err(MapError::Btf)?;
    Ok((id, size))
}

fn set_size(slot: &mut u32, size: u64, field: &'static str) -> Result<(), MapError> {
    let conflict = MapError::Conflict {
        field,
        first: (*slot).into(),
        second: size,
    };
    let size = u32::try_from(size).map_err(|_| conflict.clone())?;
    if *slot != 0 && *slot != size {
        return Err(conflict);
    }
    *slot = size;
    Ok(())
}

/// Fills each map's `initial_values` from the relocations against the `.maps` section
/// (libbpf's `bpf_object__collect_map_relos`).
pub(crate) fn resolve_initial_values<'data>(
    elf: &ElfFile<'data>,
    section: &Section<'data>,
    maps: &mut [Map<'data>],
    values_offsets: &[Option<u64>],
    programs: &[Program<'data>],
    warnings: &mut Vec<Warning>,
) -> Result<()> {
    let mut found = Vec::new();
    for rel in elf.relocations_for(section.index) {
        let sym = elf.symbol(rel.symbol).copied();
        let sym_name = sym.map_or("", |s| s.name);
        let owner = maps.iter().position(|m| {
            m.kind == MapKind::Btf
                && m.section == section.index
                && m.offset <= rel.offset
                && rel.offset + 8 <= m.offset + m.size
        });
        let fail = |map: &str, slot, reason| {
            bad_map(
                section,
                rel.entry_offset,
                map,
                MapError::BadInitialValue { slot, reason },
            )
        };
        let Some(owner) = owner else {
            return Err(fail(sym_name, rel.offset, "relocation outside every map"));
        };
        let map = &maps[owner];
        let Some(values) = values_offsets.get(owner).copied().flatten() else {
            return Err(fail(map.name, 0, "the map has no 'values' member"));
        };
        let rel_in_map = rel.offset - map.offset;
        if rel_in_map < values || (rel_in_map - values) % 8 != 0 {
            return Err(fail(map.name, 0, "not on a slot of 'values'"));
        }
        let slot = (rel_in_map - values) / 8;
        let sym = sym.ok_or_else(|| fail(map.name, slot, "no symbol"))?;
        let target = if matches!(
            map.def.map_type,
            MapType::ARRAY_OF_MAPS | MapType::HASH_OF_MAPS
        ) {
            if sym.section_index() != Some(section.index) {
                return Err(fail(map.name, slot, "not a BTF-defined map"));
            }
            let target = maps
                .iter()
                .position(|m| m.name == sym.name)
                .ok_or_else(|| fail(map.name, slot, "not a map of this object"))?;
            InitialTarget::Map(MapIndex(target))
        } else {
            let program = programs.iter().position(|p| {
                p.name() == sym.name
                    && Some(p.function.section) == sym.section_index()
                    && p.function.offset == sym.value
            });
            let is_function = sym
                .section_index()
                .and_then(|i| elf.section(i))
                .is_some_and(|s| s.is_code() && sym.kind == SymbolKind::Func);
            match (program, is_function) {
                (Some(index), _) => InitialTarget::Program(ProgIndex(index)),
                // A subprogram: no program a loader could put in the slot. libbpf refuses the
                // object; the warning keeps the slot and the function's name.
                (None, true) => {
                    let slot =
                        u32::try_from(slot).map_err(|_| fail(map.name, slot, "slot too large"))?;
                    warnings.push(Warning::new(
                        rel.entry_offset,
                        Some((section.index, section.name)),
                        WarningKind::NotAProgram {
                            map: map.name.to_string(),
                            slot,
                            function: sym.name.to_string(),
                        },
                    ));
                    continue;
                }
                (None, false) => return Err(fail(map.name, slot, "not a function")),
            }
        };
        let slot = u32::try_from(slot).map_err(|_| fail(map.name, slot, "slot too large"))?;
        found.push((
            owner,
            InitialValue {
                slot,
                symbol: sym.index,
                name: sym.name,
                target,
            },
        ));
    }
    for (owner, value) in found {
        maps[owner].initial_values.push(value);
    }
    Ok(())
}
