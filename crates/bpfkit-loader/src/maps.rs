//! Creating an object's maps in the kernel as libbpf's `bpf_object__create_maps` does: BTF
//! key/value types (dropped for map types that take none, and retried without when the kernel
//! refuses them), inner map templates, `LIBBPF_PIN_BY_NAME` pins reused when compatible,
//! global data filled in and `.rodata`/`.kconfig` frozen, map-in-map slots filled.

use std::os::fd::{AsFd, BorrowedFd};
use std::path::{Path, PathBuf};

use bpfkit_elf::Pinning;
use bpfkit_relo::{MapOrigin, MapSpec, SlotTarget};
use bpfkit_sys::{Errno, Map, MapBtf, MapCreate, MapDef, MapType, Mmap, UpdateMode};

use crate::error::LoadError;

/// A map of a loaded object.
#[derive(Debug)]
pub struct LoadedMap {
    /// Its name in the object (a global data map's is its section's: `.data`, `.rodata`).
    pub name: String,
    /// The name the kernel knows it by (libbpf's: global data maps get the object's name in
    /// front, and names are cut to 15 bytes).
    pub kernel_name: String,
    /// What it was created from.
    pub spec: MapSpec,
    /// The map.
    pub map: Map,
    /// Where it is pinned, if it is.
    pub pinned: Option<PathBuf>,
    /// Whether an existing pinned map was reused instead of creating one.
    pub reused: bool,
    /// The values mapped into memory (global data maps created `BPF_F_MMAPABLE`; read-only
    /// when frozen).
    pub mmap: Option<Mmap>,
}

/// The kernel name libbpf gives a map (`internal_map_name` for global data).
pub(crate) fn kernel_name(object_name: &str, spec: &MapSpec) -> String {
    let real = spec.name.as_str();
    let name = if matches!(spec.origin, MapOrigin::Map(_)) {
        real.chars().take(15).collect::<String>()
    } else {
        let suffix_len = real.len().clamp(7, 15);
        // A name with a second dot (`.data.counters`) is a custom section: no object prefix.
        let prefix_len = if real.get(1..).is_some_and(|r| r.contains('.')) {
            0
        } else {
            (15 - suffix_len).min(object_name.len())
        };
        let prefix: String = object_name.chars().take(prefix_len).collect();
        let suffix: String = real.chars().take(suffix_len).collect();
        format!("{prefix}{suffix}")
    };
    name.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '_' || c == '.' {
                c
            } else {
                '_'
            }
        })
        .collect()
}

/// Map types the kernel refuses BTF key/value types for (libbpf clears them).
fn takes_no_btf(map_type: MapType) -> bool {
    matches!(
        map_type,
        MapType::PERF_EVENT_ARRAY
            | MapType::CGROUP_ARRAY
            | MapType::STACK_TRACE
            | MapType::ARRAY_OF_MAPS
            | MapType::HASH_OF_MAPS
            | MapType::DEVMAP
            | MapType::DEVMAP_HASH
            | MapType::CPUMAP
            | MapType::XSKMAP
            | MapType::SOCKMAP
            | MapType::SOCKHASH
            | MapType::QUEUE
            | MapType::STACK
    )
}

/// The definition as created: a perf event array of 0 entries gets one per possible cpu.
fn effective_def(spec: &MapSpec) -> Result<MapDef, LoadError> {
    let mut def = spec.def;
    if def.map_type == MapType::PERF_EVENT_ARRAY && def.max_entries == 0 {
        def.max_entries = bpfkit_sys::possible_cpus().map_err(|source| LoadError::Map {
            map: spec.name.clone(),
            source,
        })? as u32;
    }
    Ok(def)
}

/// Creates one map with its BTF types and inner map template, retrying without BTF types when
/// the kernel refuses them (as libbpf does).
fn create(
    name: &str,
    def: MapDef,
    types: &bpfkit_elf::MapTypes,
    inner: Option<(MapDef, &bpfkit_elf::MapTypes)>,
    btf: Option<BorrowedFd<'_>>,
) -> Result<Map, bpfkit_sys::Error> {
    let map_btf = btf
        .filter(|_| !takes_no_btf(def.map_type))
        .filter(|_| types.key.is_some() || types.value.is_some())
        .map(|btf| MapBtf {
            btf,
            key_type_id: types.key.map_or(0, |t| t.0),
            value_type_id: types.value.map_or(0, |t| t.0),
        });
    let inner_map = match inner {
        Some((def, types)) => Some(create("", def, types, None, btf)?),
        None => None,
    };
    let mut request = MapCreate::new(def).with_name(name);
    if let Some(inner) = &inner_map {
        request = request.with_inner_map(inner.as_fd());
    }
    if let Some(map_btf) = map_btf {
        match Map::create(request.with_btf(map_btf)) {
            Ok(map) => return Ok(map),
            Err(bpfkit_sys::Error::InvalidArgument(why)) => {
                return Err(bpfkit_sys::Error::InvalidArgument(why));
            }
            Err(_) => {}
        }
    }
    Map::create(request)
}

/// Creates (or reuses from its pin) the map of `spec`; `btf` is the object's loaded BTF.
pub(crate) fn create_map(
    object_name: &str,
    spec: &MapSpec,
    btf: Option<BorrowedFd<'_>>,
    pin_root: &Path,
) -> Result<LoadedMap, LoadError> {
    let fail = |source| LoadError::Map {
        map: spec.name.clone(),
        source,
    };
    let kernel_name = kernel_name(object_name, spec);
    let def = effective_def(spec)?;
    let pin_path = (spec.pinning == Pinning::ByName).then(|| pin_root.join(&spec.name));

    if let Some(path) = &pin_path
        && let Some(map) = reuse_pinned(spec, def, path)?
    {
        return Ok(LoadedMap {
            name: spec.name.clone(),
            kernel_name,
            spec: spec.clone(),
            map,
            pinned: Some(path.clone()),
            reused: true,
            mmap: None,
        });
    }

    let inner = spec.inner.as_ref().map(|i| (i.def, &i.types));
    let map = create(&kernel_name, def, &spec.types, inner, btf).map_err(fail)?;
    if !spec.data.is_empty() {
        map.update(&0u32.to_ne_bytes(), &spec.data, UpdateMode::Any)
            .map_err(fail)?;
    }
    if spec.frozen {
        map.freeze().map_err(fail)?;
    }
    let mut pinned = None;
    if let Some(path) = pin_path {
        match map.pin(&path) {
            Ok(()) => pinned = Some(path),
            // Someone pinned one meanwhile: use theirs, as libbpf retries.
            Err(e) if e.errno() == Some(Errno(libc::EEXIST)) => {
                if let Some(map) = reuse_pinned(spec, def, &path)? {
                    return Ok(LoadedMap {
                        name: spec.name.clone(),
                        kernel_name,
                        spec: spec.clone(),
                        map,
                        pinned: Some(path),
                        reused: true,
                        mmap: None,
                    });
                }
                return Err(fail(e));
            }
            Err(e) => return Err(fail(e)),
        }
    }
    Ok(LoadedMap {
        name: spec.name.clone(),
        kernel_name,
        spec: spec.clone(),
        map,
        pinned,
        reused: false,
        mmap: None,
    })
}

/// The map pinned at `path` if there is one and it matches `def` (libbpf's
/// `map_is_reuse_compat`: type, sizes, entries, flags and extra).
fn reuse_pinned(spec: &MapSpec, def: MapDef, path: &Path) -> Result<Option<Map>, LoadError> {
    let map = match Map::open_pinned(path) {
        Ok(map) => map,
        Err(e) if e.errno() == Some(Errno(libc::ENOENT)) => return Ok(None),
        Err(source) => {
            return Err(LoadError::Map {
                map: spec.name.clone(),
                source,
            });
        }
    };
    let have = map.def();
    let mismatch = [
        ("type", have.map_type.0 as u64, def.map_type.0 as u64),
        ("key_size", have.key_size.into(), def.key_size.into()),
        ("value_size", have.value_size.into(), def.value_size.into()),
        (
            "max_entries",
            have.max_entries.into(),
            def.max_entries.into(),
        ),
        (
            "map_flags",
            have.map_flags.bits().into(),
            def.map_flags.bits().into(),
        ),
        ("map_extra", have.map_extra, def.map_extra),
    ]
    .into_iter()
    .find(|(_, a, b)| a != b);
    if let Some((field, pinned, wanted)) = mismatch {
        return Err(LoadError::PinMismatch {
            map: spec.name.clone(),
            path: path.display().to_string(),
            reason: format!("{field} is {pinned} there, {wanted} here"),
        });
    }
    Ok(Some(map))
}

/// Fills the initial slots of maps of maps with the file descriptors of their target maps.
pub(crate) fn fill_map_slots(maps: &[LoadedMap]) -> Result<(), LoadError> {
    for m in maps {
        if m.reused || m.spec.def.map_type == MapType::PROG_ARRAY {
            continue;
        }
        for &(slot, target) in &m.spec.slots {
            let SlotTarget::Map(target) = target else {
                continue;
            };
            let Some(target) = maps.get(target.0 as usize) else {
                continue;
            };
            let fd = std::os::fd::AsRawFd::as_raw_fd(&target.map) as u32;
            m.map
                .update(&slot.to_ne_bytes(), &fd.to_ne_bytes(), UpdateMode::Any)
                .map_err(|source| LoadError::Map {
                    map: m.name.clone(),
                    source,
                })?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use bpfkit_elf::{DataIndex, MapIndex, MapTypes};

    fn spec(name: &str, origin: MapOrigin) -> MapSpec {
        MapSpec {
            name: name.to_string(),
            origin,
            def: MapDef::new(MapType::ARRAY, 4, 4, 1),
            types: MapTypes::default(),
            pinning: Pinning::None,
            inner: None,
            data: Vec::new(),
            frozen: false,
            slots: Vec::new(),
        }
    }

    /// The names libbpf 1.1 gives (its `internal_map_name`, as `bpftool map` shows them).
    #[test]
    fn kernel_names_follow_libbpf() {
        let data = MapOrigin::Data(DataIndex(0));
        assert_eq!(
            kernel_name("my_object_name", &spec(".rodata", data)),
            "my_objec.rodata"
        );
        assert_eq!(
            kernel_name("my_object_name", &spec(".bss", data)),
            "my_objec.bss"
        );
        assert_eq!(
            kernel_name("my_object_name", &spec(".kconfig", MapOrigin::Kconfig)),
            "my_obje.kconfig"
        );
        assert_eq!(
            kernel_name("global_data", &spec(".data.counters", data)),
            ".data.counters"
        );
        assert_eq!(
            kernel_name("x", &spec(".rodata.abracadabra", data)),
            ".rodata.abracad"
        );
        assert_eq!(
            kernel_name(
                "x",
                &spec("a_very_long_map_name", MapOrigin::Map(MapIndex(0)))
            ),
            "a_very_long_map"
        );
    }
}
