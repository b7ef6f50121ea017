//! What the programs of an object share, built once: the map table (the object's maps, then
//! global data sections and `.kconfig` as libbpf's internal maps), the externs with `.kconfig`
//! values laid out and filled in, the BTF.

use bpfkit_btf::{Btf, Kind, Linkage, TypeId};
use bpfkit_elf::{
    DataKind, DataSection, ExternKind, InitialTarget, MapIndex, MapTypes, Object, Pinning,
};
use bpfkit_uapi::{MapDef, MapFlags, MapType};

use crate::error::{LinkError, LinkErrorKind};
use crate::image::{
    ExternSpec, ExternSpecKind, MapOrigin, MapSlot, MapSpec, ObjectImage, SlotTarget,
};
use crate::kconfig::{KcfgType, Kconfig, encode_num, encode_value, kcfg_type};

/// Builds the shared part of every image of `object`; `kconfig` gives `.kconfig` values
/// (`None`: the running kernel's, read only when the object has `CONFIG_` or `LINUX_` externs).
pub(crate) fn build_object_image(
    object: &Object<'_>,
    kconfig: Option<&Kconfig>,
) -> Result<ObjectImage, LinkError> {
    let mut maps: Vec<MapSpec> = object
        .maps()
        .iter()
        .map(|m| MapSpec {
            name: m.name.to_string(),
            origin: MapOrigin::Map(MapIndex(0)),
            def: m.def,
            types: m.types,
            pinning: m.pinning,
            inner: m.inner,
            data: Vec::new(),
            frozen: false,
            slots: m
                .initial_values
                .iter()
                .map(|v| {
                    let target = match v.target {
                        InitialTarget::Program(p) => SlotTarget::Program(p.0),
                        // Object maps come first in the table, at their own index.
                        InitialTarget::Map(m) => SlotTarget::Map(MapSlot(m.0 as u32)),
                    };
                    (v.slot, target)
                })
                .collect(),
        })
        .collect();
    for (i, map) in maps.iter_mut().enumerate() {
        map.origin = MapOrigin::Map(MapIndex(i));
    }
    for (i, data) in object.data_sections().iter().enumerate() {
        maps.push(data_map(object, i, data));
    }

    let (externs, kconfig_data) = layout_externs(object, kconfig)?;
    if let Some(data) = kconfig_data {
        let datasec = object
            .btf()
            .and_then(|btf| btf.find_by_name_kind(".kconfig", Kind::Datasec));
        maps.push(MapSpec {
            name: ".kconfig".to_string(),
            origin: MapOrigin::Kconfig,
            def: MapDef::new(MapType::ARRAY, 4, data.len() as u32, 1)
                .with_flags(MapFlags::RDONLY_PROG | MapFlags::MMAPABLE),
            types: MapTypes {
                key: None,
                value: datasec,
            },
            pinning: Pinning::None,
            inner: None,
            data,
            frozen: true,
            slots: Vec::new(),
        });
    }

    Ok(ObjectImage {
        maps,
        externs,
        btf: object.btf().map(|b| b.data().to_vec()),
        license: object.license().unwrap_or("").to_string(),
        kernel_version: object.kernel_version().unwrap_or(0),
        programs: object
            .programs()
            .iter()
            .map(|p| p.name().to_string())
            .collect(),
    })
}

/// A global data section as libbpf's internal map (`bpf_object__init_internal_map`): an array
/// of one value; `.rodata` read-only for programs and frozen; mmapable when its DATASEC has a
/// variable that is not static (hidden globals count as static, `btf_fixup_datasec`).
fn data_map(object: &Object<'_>, index: usize, data: &DataSection<'_>) -> MapSpec {
    let datasec = object
        .btf()
        .and_then(|btf| btf.find_by_name_kind(data.name, Kind::Datasec));
    let mut flags = MapFlags::NONE;
    if data.kind == DataKind::Rodata {
        flags |= MapFlags::RDONLY_PROG;
    }
    if datasec.is_some_and(|id| has_visible_var(object, id)) {
        flags |= MapFlags::MMAPABLE;
    }
    let mut bytes = vec![0u8; data.size as usize];
    if data.kind != DataKind::Bss {
        let n = data.data.len().min(bytes.len());
        bytes[..n].copy_from_slice(&data.data[..n]);
    }
    MapSpec {
        name: data.name.to_string(),
        origin: MapOrigin::Data(bpfkit_elf::DataIndex(index)),
        def: MapDef::new(MapType::ARRAY, 4, data.size as u32, 1).with_flags(flags),
        types: MapTypes {
            key: None,
            value: datasec,
        },
        pinning: Pinning::None,
        inner: None,
        data: bytes,
        frozen: data.kind == DataKind::Rodata,
        slots: Vec::new(),
    }
}

/// Whether DATASEC `id` holds a VAR that is neither static nor a hidden/internal symbol.
fn has_visible_var(object: &Object<'_>, id: TypeId) -> bool {
    let Some(btf) = object.btf() else {
        return false;
    };
    let Ok(sec) = btf.type_by_id(id) else {
        return false;
    };
    sec.var_secinfos().any(|vsi| {
        let Ok(var) = btf.type_by_id(vsi.type_id) else {
            return false;
        };
        if var.kind() != Kind::Var || var.linkage() == Some(Linkage::Static) {
            return false;
        }
        let name = var.name().unwrap_or("");
        // STV_HIDDEN (2) and STV_INTERNAL (1) make a global static for libbpf.
        !object
            .elf()
            .symbols()
            .iter()
            .any(|s| s.name == name && matches!(s.visibility & 3, 1 | 2))
    })
}

/// One `.kconfig` extern while laying them out.
struct Kcfg {
    extern_index: usize,
    name: String,
    ty: KcfgType,
    size: u32,
    align: u32,
}

/// The externs of `object` with `.kconfig` ones laid out (libbpf's `cmp_externs` order:
/// alignment descending, size ascending, name) and filled in; the `.kconfig` map's bytes if
/// there are any.
fn layout_externs(
    object: &Object<'_>,
    kconfig: Option<&Kconfig>,
) -> Result<(Vec<ExternSpec>, Option<Vec<u8>>), LinkError> {
    let fail = |name: &str, reason: String| {
        LinkError::object(LinkErrorKind::Extern {
            name: name.to_string(),
            reason,
        })
    };
    let mut specs = Vec::new();
    let mut kcfgs = Vec::new();
    for (i, ext) in object.externs().iter().enumerate() {
        let kind = match ext.kind {
            ExternKind::Ksym { typed } => ExternSpecKind::Ksym { typed },
            ExternKind::Kfunc => ExternSpecKind::Kfunc,
            // Declared outside .kconfig/.ksyms (another object's function, an inline-asm
            // symbol): libbpf refuses the object, and so does the linker for now.
            ExternKind::Function | ExternKind::Variable | ExternKind::Undescribed => {
                return Err(fail(
                    ext.name,
                    format!("{} extern outside .kconfig and .ksyms", ext.kind),
                ));
            }
            ExternKind::Kconfig => {
                let btf = object.btf().expect("externs are described by BTF");
                let var_type = var_type(btf, ext.btf_type);
                let size = btf
                    .size_of(var_type)
                    .ok()
                    .filter(|&s| s > 0)
                    .ok_or_else(|| fail(ext.name, "failed to resolve its size".into()))?;
                let align = btf
                    .align_of(var_type)
                    .ok()
                    .filter(|&a| a > 0)
                    .ok_or_else(|| fail(ext.name, "failed to determine its alignment".into()))?;
                let ty = kcfg_type(btf, var_type)
                    .ok_or_else(|| fail(ext.name, "type is unsupported".into()))?;
                kcfgs.push(Kcfg {
                    extern_index: i,
                    name: ext.name.to_string(),
                    ty,
                    size: size as u32,
                    align,
                });
                ExternSpecKind::Kconfig {
                    offset: 0,
                    size: size as u32,
                    set: false,
                }
            }
        };
        specs.push(ExternSpec {
            name: ext.name.to_string(),
            weak: ext.weak,
            btf_type: ext.btf_type,
            kind,
        });
    }
    if kcfgs.is_empty() {
        return Ok((specs, None));
    }

    kcfgs.sort_by(|a, b| {
        b.align
            .cmp(&a.align)
            .then(a.size.cmp(&b.size))
            .then(a.name.cmp(&b.name))
    });
    let mut offsets = Vec::with_capacity(kcfgs.len());
    let mut end = 0u32;
    for k in &kcfgs {
        let offset = end.div_ceil(k.align) * k.align;
        offsets.push(offset);
        end = offset + k.size;
    }
    let mut data = vec![0u8; end as usize];

    let running;
    let config = match kconfig {
        Some(config) => config,
        None => {
            running = Kconfig::running_kernel().map_err(LinkErrorKind::Kconfig)?;
            &running
        }
    };
    for (k, &offset) in kcfgs.iter().zip(&offsets) {
        let known_virtual = matches!(
            k.name.as_str(),
            "LINUX_KERNEL_VERSION" | "LINUX_HAS_BPF_COOKIE" | "LINUX_HAS_SYSCALL_WRAPPER"
        );
        let weak = specs[k.extern_index].weak;
        // libbpf reads CONFIG_ values, fills its known LINUX_ values, and zeroes unknown weak
        // LINUX_ ones; any other name is an error.
        let recognised = k.name.starts_with("CONFIG_")
            || known_virtual
            || (k.name.starts_with("LINUX_") && weak);
        if !recognised {
            return Err(fail(&k.name, "unrecognized virtual extern".into()));
        }
        let value = config.get(&k.name);
        let out = &mut data[offset as usize..(offset + k.size) as usize];
        if let Some(value) = value {
            let stored = if known_virtual {
                // libbpf computes these as numbers and stores them as numbers, into bools too.
                let num = value
                    .parse::<u64>()
                    .map_err(|_| fail(&k.name, format!("value '{value}' isn't a number")))?;
                encode_num(k.ty, num, out)
            } else {
                encode_value(k.ty, value, out)
            };
            stored.map_err(|reason| fail(&k.name, reason))?;
        } else if !weak {
            return Err(LinkError::object(LinkErrorKind::Unresolved {
                name: k.name.clone(),
            }));
        }
        specs[k.extern_index].kind = ExternSpecKind::Kconfig {
            offset,
            size: k.size,
            set: value.is_some(),
        };
    }
    Ok((specs, Some(data)))
}

/// The type of VAR `id` (the extern's declared type).
fn var_type(btf: &Btf<'_>, id: TypeId) -> TypeId {
    btf.type_by_id(id)
        .ok()
        .and_then(|t| t.ref_type())
        .unwrap_or(id)
}
