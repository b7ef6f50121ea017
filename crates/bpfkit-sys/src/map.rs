//! Maps: creation and element operations.

use std::os::fd::{AsFd, AsRawFd, BorrowedFd, OwnedFd, RawFd};

use crate::attr::{self, MapCreateAttr, MapElemAttr};
use crate::error::{Command, Error, Result};
use bpfkit_uapi::{MapDef, MapType};

/// What to create: a map definition and the name `bpftool map` shows.
///
/// ```
/// use bpfkit_sys::{MapCreate, MapDef, MapType};
/// let create = MapCreate::new(MapDef::new(MapType::HASH, 4, 8, 16)).with_name("counts");
/// assert_eq!(create.name, "counts");
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct MapCreate<'a> {
    /// The definition.
    pub def: MapDef,
    /// Name shown by `bpftool map` (at most 15 letters, digits, `_` or `.`).
    pub name: &'a str,
}

impl MapCreate<'static> {
    /// A map of definition `def`, without a name.
    pub const fn new(def: MapDef) -> MapCreate<'static> {
        MapCreate { def, name: "" }
    }
}

impl MapCreate<'_> {
    /// Sets the name.
    pub const fn with_name(self, name: &str) -> MapCreate<'_> {
        MapCreate {
            def: self.def,
            name,
        }
    }
}

impl From<MapDef> for MapCreate<'static> {
    fn from(def: MapDef) -> Self {
        MapCreate::new(def)
    }
}

/// How [`Map::update`] treats an existing or missing element.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum UpdateMode {
    /// `BPF_ANY`: create or replace.
    #[default]
    Any,
    /// `BPF_NOEXIST`: create only; `EEXIST` if the key is present.
    NoExist,
    /// `BPF_EXIST`: replace only; `ENOENT` if the key is absent.
    Exist,
}

impl UpdateMode {
    const fn flags(self) -> u64 {
        match self {
            UpdateMode::Any => 0,
            UpdateMode::NoExist => 1,
            UpdateMode::Exist => 2,
        }
    }
}

/// A map in the kernel, owned through its file descriptor (closed on drop).
#[derive(Debug)]
pub struct Map {
    fd: OwnedFd,
    map_type: MapType,
    key_size: usize,
    value_size: usize,
    max_entries: u32,
}

impl Map {
    /// Creates a map (`BPF_MAP_CREATE`): `Map::create(MapDef::new(..))`, or with a name,
    /// `Map::create(MapCreate::new(def).with_name("counts"))`.
    pub fn create<'a>(create: impl Into<MapCreate<'a>>) -> Result<Map> {
        let MapCreate { def, name } = create.into();
        let mut attr = MapCreateAttr {
            map_type: def.map_type.0,
            key_size: def.key_size,
            value_size: def.value_size,
            max_entries: def.max_entries,
            map_flags: def.map_flags.bits(),
            numa_node: def.numa_node,
            map_name: attr::object_name(name)?,
            map_extra: def.map_extra,
            ..Default::default()
        };
        // SAFETY: `MapCreateAttr` is the `BPF_MAP_CREATE` member of `bpf_attr`; it holds no
        // pointers, and the command returns a new file descriptor.
        let fd = unsafe { attr::bpf_fd(Command::MapCreate, &mut attr) }.map_err(|errno| {
            Error::Syscall {
                command: Command::MapCreate,
                errno,
            }
        })?;
        Ok(Map {
            fd,
            map_type: def.map_type,
            key_size: def.key_size as usize,
            value_size: def.value_size as usize,
            max_entries: def.max_entries,
        })
    }

    /// The map type.
    pub fn map_type(&self) -> MapType {
        self.map_type
    }

    /// Key size in bytes.
    pub fn key_size(&self) -> usize {
        self.key_size
    }

    /// Value size in bytes.
    pub fn value_size(&self) -> usize {
        self.value_size
    }

    /// Number of entries the map was created with.
    pub fn max_entries(&self) -> u32 {
        self.max_entries
    }

    /// Gives up the map object, keeping only its file descriptor.
    pub fn into_fd(self) -> OwnedFd {
        self.fd
    }

    /// Copies the value stored under `key` into `value` (`BPF_MAP_LOOKUP_ELEM`).
    ///
    /// Returns `false` (leaving `value` alone) when there is no such element. Both buffers must
    /// have the map's exact key and value sizes; per-cpu maps are not supported yet.
    pub fn lookup(&self, key: &[u8], value: &mut [u8]) -> Result<bool> {
        self.check(key, value.len())?;
        let mut attr = MapElemAttr {
            map_fd: self.raw_fd(),
            key: attr::ptr(key.as_ptr()),
            value: attr::ptr(value.as_mut_ptr()),
            ..Default::default()
        };
        // SAFETY: `MapElemAttr` is the `BPF_MAP_*_ELEM` member of `bpf_attr`; `key` is readable
        // for `key_size` bytes and `value` writable for `value_size` bytes (checked above, and
        // the map is not per-cpu, so the kernel writes exactly `value_size` bytes).
        match unsafe { attr::bpf(Command::MapLookupElem, &mut attr) } {
            Ok(_) => Ok(true),
            Err(errno) if errno.0 == libc::ENOENT => Ok(false),
            Err(errno) => Err(Error::Syscall {
                command: Command::MapLookupElem,
                errno,
            }),
        }
    }

    /// The value stored under `key`, or `None` if there is none.
    pub fn get(&self, key: &[u8]) -> Result<Option<Vec<u8>>> {
        let mut value = vec![0; self.value_size];
        Ok(self.lookup(key, &mut value)?.then_some(value))
    }

    /// Stores `value` under `key` (`BPF_MAP_UPDATE_ELEM`).
    ///
    /// For a program array the value is a program's file descriptor as a native-endian `u32`.
    pub fn update(&self, key: &[u8], value: &[u8], mode: UpdateMode) -> Result<()> {
        self.check(key, value.len())?;
        let mut attr = MapElemAttr {
            map_fd: self.raw_fd(),
            key: attr::ptr(key.as_ptr()),
            value: attr::ptr(value.as_ptr()),
            flags: mode.flags(),
            ..Default::default()
        };
        // SAFETY: `MapElemAttr` is the `BPF_MAP_*_ELEM` member of `bpf_attr`; `key` and `value`
        // are readable for the map's key and value sizes (checked above).
        unsafe { attr::bpf(Command::MapUpdateElem, &mut attr) }.map_err(|errno| {
            Error::Syscall {
                command: Command::MapUpdateElem,
                errno,
            }
        })?;
        Ok(())
    }

    /// Deletes the element under `key` (`BPF_MAP_DELETE_ELEM`); `false` if there was none.
    ///
    /// Arrays cannot delete elements; the kernel answers `EINVAL`.
    pub fn delete(&self, key: &[u8]) -> Result<bool> {
        self.check(key, self.value_size)?;
        let mut attr = MapElemAttr {
            map_fd: self.raw_fd(),
            key: attr::ptr(key.as_ptr()),
            ..Default::default()
        };
        // SAFETY: `MapElemAttr` is the `BPF_MAP_*_ELEM` member of `bpf_attr`; `key` is readable
        // for the map's key size (checked above).
        match unsafe { attr::bpf(Command::MapDeleteElem, &mut attr) } {
            Ok(_) => Ok(true),
            Err(errno) if errno.0 == libc::ENOENT => Ok(false),
            Err(errno) => Err(Error::Syscall {
                command: Command::MapDeleteElem,
                errno,
            }),
        }
    }

    fn check(&self, key: &[u8], value_len: usize) -> Result<()> {
        if is_per_cpu(self.map_type) {
            return Err(Error::InvalidArgument(format!(
                "element operations on per-cpu maps ({}) are not supported yet",
                self.map_type
            )));
        }
        if key.len() != self.key_size {
            return Err(Error::Size {
                what: "key",
                expected: self.key_size,
                actual: key.len(),
            });
        }
        if value_len != self.value_size {
            return Err(Error::Size {
                what: "value",
                expected: self.value_size,
                actual: value_len,
            });
        }
        Ok(())
    }

    fn raw_fd(&self) -> u32 {
        self.fd.as_raw_fd() as u32
    }
}

/// Whether a lookup in a map of this type returns one value per possible cpu.
fn is_per_cpu(map_type: MapType) -> bool {
    [
        MapType::PERCPU_HASH,
        MapType::PERCPU_ARRAY,
        MapType::LRU_PERCPU_HASH,
        MapType::PERCPU_CGROUP_STORAGE,
    ]
    .contains(&map_type)
}

impl AsFd for Map {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.fd.as_fd()
    }
}

impl AsRawFd for Map {
    fn as_raw_fd(&self) -> RawFd {
        self.fd.as_raw_fd()
    }
}
