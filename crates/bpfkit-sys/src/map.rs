//! Maps: creation, element operations, freezing, pinning, information and `mmap`.

use std::os::fd::{AsFd, AsRawFd, BorrowedFd, OwnedFd, RawFd};
use std::path::Path;

use crate::attr::{self, FdAttr, MapCreateAttr, MapElemAttr, MapInfoRaw, NextKeyAttr};
use crate::cpus::possible_cpus;
use crate::error::{Command, Error, Result};
use crate::mmap::Mmap;
use crate::obj::{self, ObjectKind};
use bpfkit_uapi::{MapDef, MapFlags, MapType};

/// The BTF a map's key and value are described by: a loaded BTF object and two type ids in it.
#[derive(Clone, Copy, Debug)]
pub struct MapBtf<'a> {
    /// The BTF object (from [`BtfObject::load`](crate::BtfObject::load)).
    pub btf: BorrowedFd<'a>,
    /// The key's type (0: none, e.g. global data maps).
    pub key_type_id: u32,
    /// The value's type.
    pub value_type_id: u32,
}

/// What to create: a map definition, the name `bpftool map` shows, and optionally its BTF
/// types and the template of its inner maps.
///
/// ```
/// use bpfkit_sys::{MapCreate, MapDef, MapType};
/// let create = MapCreate::new(MapDef::new(MapType::HASH, 4, 8, 16)).with_name("counts");
/// assert_eq!(create.name, "counts");
/// ```
#[derive(Clone, Copy, Debug)]
pub struct MapCreate<'a> {
    /// The definition.
    pub def: MapDef,
    /// Name shown by `bpftool map` (at most 15 letters, digits, `_` or `.`).
    pub name: &'a str,
    /// BTF key and value types.
    pub btf: Option<MapBtf<'a>>,
    /// For a map of maps: a map of the kind its elements will be.
    pub inner_map: Option<BorrowedFd<'a>>,
    /// For a `struct_ops` map: the value type's id in vmlinux's BTF.
    pub btf_vmlinux_value_type_id: u32,
    /// A network device to offload the map to (0: none).
    pub ifindex: u32,
}

impl MapCreate<'static> {
    /// A map of definition `def`, without a name.
    pub const fn new(def: MapDef) -> MapCreate<'static> {
        MapCreate {
            def,
            name: "",
            btf: None,
            inner_map: None,
            btf_vmlinux_value_type_id: 0,
            ifindex: 0,
        }
    }
}

impl<'a> MapCreate<'a> {
    /// Sets the name.
    pub const fn with_name<'b>(self, name: &'b str) -> MapCreate<'b>
    where
        'a: 'b,
    {
        MapCreate {
            def: self.def,
            name,
            btf: self.btf,
            inner_map: self.inner_map,
            btf_vmlinux_value_type_id: self.btf_vmlinux_value_type_id,
            ifindex: self.ifindex,
        }
    }

    /// Describes the key and value by BTF.
    pub const fn with_btf(mut self, btf: MapBtf<'a>) -> MapCreate<'a> {
        self.btf = Some(btf);
        self
    }

    /// Sets the inner map template of a map of maps.
    pub const fn with_inner_map(mut self, inner: BorrowedFd<'a>) -> MapCreate<'a> {
        self.inner_map = Some(inner);
        self
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
            UpdateMode::Any => bpfkit_uapi::MapUpdateFlags::ANY.0,
            UpdateMode::NoExist => bpfkit_uapi::MapUpdateFlags::NOEXIST.0,
            UpdateMode::Exist => bpfkit_uapi::MapUpdateFlags::EXIST.0,
        }
    }
}

/// Facts about a map in the kernel (`struct bpf_map_info`).
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct MapInfo {
    /// Its definition as the kernel holds it.
    pub def: MapDef,
    /// The kernel's id of the map.
    pub id: u32,
    /// Its name.
    pub name: String,
    /// The id of the BTF object describing it (0: none).
    pub btf_id: u32,
    /// The key's type id in that BTF.
    pub btf_key_type_id: u32,
    /// The value's type id in that BTF.
    pub btf_value_type_id: u32,
    /// The device it is offloaded to (0: none).
    pub ifindex: u32,
}

/// A map in the kernel, owned through its file descriptor (closed on drop).
#[derive(Debug)]
pub struct Map {
    fd: OwnedFd,
    def: MapDef,
}

impl Map {
    /// Creates a map (`BPF_MAP_CREATE`): `Map::create(MapDef::new(..))`, or with a name,
    /// `Map::create(MapCreate::new(def).with_name("counts"))`.
    pub fn create<'a>(create: impl Into<MapCreate<'a>>) -> Result<Map> {
        let create = create.into();
        let def = create.def;
        let mut attr = MapCreateAttr {
            map_type: def.map_type.0,
            key_size: def.key_size,
            value_size: def.value_size,
            max_entries: def.max_entries,
            map_flags: def.map_flags.bits(),
            numa_node: def.numa_node,
            map_name: attr::object_name(create.name)?,
            map_extra: def.map_extra,
            map_ifindex: create.ifindex,
            btf_vmlinux_value_type_id: create.btf_vmlinux_value_type_id,
            inner_map_fd: create.inner_map.map_or(0, |fd| fd.as_raw_fd() as u32),
            ..Default::default()
        };
        if let Some(btf) = create.btf {
            attr.btf_fd = btf.btf.as_raw_fd() as u32;
            attr.btf_key_type_id = btf.key_type_id;
            attr.btf_value_type_id = btf.value_type_id;
        }
        // SAFETY: `MapCreateAttr` is the `BPF_MAP_CREATE` member of `bpf_attr`; it holds no
        // pointers (only file descriptors), and the command returns a new file descriptor.
        let fd = unsafe { attr::bpf_fd(Command::MapCreate, &mut attr) }
            .map_err(Error::syscall(Command::MapCreate))?;
        Ok(Map { fd, def })
    }

    /// Takes ownership of a map's file descriptor, reading its definition from the kernel.
    pub fn from_fd(fd: OwnedFd) -> Result<Map> {
        let info = map_info(fd.as_fd())?;
        Ok(Map { fd, def: info.def })
    }

    /// Opens the map pinned at `path`.
    pub fn open_pinned(path: impl AsRef<Path>) -> Result<Map> {
        Map::from_fd(obj::get_pinned(path)?)
    }

    /// Opens the map with id `id`.
    pub fn from_id(id: u32) -> Result<Map> {
        Map::from_fd(obj::fd_by_id(ObjectKind::Map, id)?)
    }

    /// The definition it was created with.
    pub fn def(&self) -> &MapDef {
        &self.def
    }

    /// The map type.
    pub fn map_type(&self) -> MapType {
        self.def.map_type
    }

    /// Key size in bytes.
    pub fn key_size(&self) -> usize {
        self.def.key_size as usize
    }

    /// Value size in bytes.
    pub fn value_size(&self) -> usize {
        self.def.value_size as usize
    }

    /// Number of entries the map was created with.
    pub fn max_entries(&self) -> u32 {
        self.def.max_entries
    }

    /// Gives up the map object, keeping only its file descriptor.
    pub fn into_fd(self) -> OwnedFd {
        self.fd
    }

    /// What the kernel says about the map (`BPF_OBJ_GET_INFO_BY_FD`).
    pub fn info(&self) -> Result<MapInfo> {
        map_info(self.fd.as_fd())
    }

    /// Pins the map at `path` in the BPF filesystem.
    pub fn pin(&self, path: impl AsRef<Path>) -> Result<()> {
        obj::pin(self.fd.as_fd(), path)
    }

    /// Makes the map read-only for `bpf(2)` (`BPF_MAP_FREEZE`); programs may still write it
    /// unless it was created with [`MapFlags::RDONLY_PROG`].
    pub fn freeze(&self) -> Result<()> {
        let mut attr = FdAttr { fd: self.raw_fd() };
        // SAFETY: `FdAttr` is the `BPF_MAP_FREEZE` member of `bpf_attr`; it holds no pointers.
        unsafe { attr::bpf(Command::MapFreeze, &mut attr) }
            .map_err(Error::syscall(Command::MapFreeze))?;
        Ok(())
    }

    /// Maps the values of an array created with [`MapFlags::MMAPABLE`] into memory; writable
    /// unless `read_only` (a frozen map can only be mapped read-only).
    pub fn mmap(&self, read_only: bool) -> Result<Mmap> {
        if !self.def.map_flags.contains(MapFlags::MMAPABLE) {
            return Err(Error::InvalidArgument(format!(
                "map of type {} was not created with BPF_F_MMAPABLE",
                self.def.map_type
            )));
        }
        let len = (self.value_size().next_multiple_of(8)) * self.def.max_entries as usize;
        Mmap::new(self.fd.as_fd(), len, 0, !read_only)
    }

    /// Copies the value stored under `key` into `value` (`BPF_MAP_LOOKUP_ELEM`).
    ///
    /// Returns `false` (leaving `value` alone) when there is no such element. Both buffers must
    /// have the map's exact key and value sizes; per-cpu maps take [`Map::lookup_percpu`].
    pub fn lookup(&self, key: &[u8], value: &mut [u8]) -> Result<bool> {
        self.check_not_per_cpu()?;
        self.check(key, value.len(), self.value_size())?;
        // SAFETY: `key` and `value` have the map's key and value sizes, and the map is not
        // per-cpu, so the kernel writes exactly `value_size` bytes.
        unsafe { self.lookup_raw(key, value) }
    }

    /// The value stored under `key`, or `None` if there is none.
    pub fn get(&self, key: &[u8]) -> Result<Option<Vec<u8>>> {
        let mut value = vec![0; self.value_size()];
        Ok(self.lookup(key, &mut value)?.then_some(value))
    }

    /// The values of every possible cpu stored under `key` of a per-cpu map, or `None`.
    pub fn lookup_percpu(&self, key: &[u8]) -> Result<Option<Vec<Vec<u8>>>> {
        let stride = self.value_size().next_multiple_of(8);
        let cpus = possible_cpus()?;
        let mut buf = vec![0u8; stride * cpus];
        self.check_per_cpu()?;
        self.check(key, buf.len(), stride * cpus)?;
        // SAFETY: `value` has room for one 8-byte-aligned value per possible cpu, which is what
        // the kernel writes for a per-cpu map.
        if !unsafe { self.lookup_raw(key, &mut buf) }? {
            return Ok(None);
        }
        Ok(Some(
            buf.chunks(stride)
                .map(|c| c[..self.value_size()].to_vec())
                .collect(),
        ))
    }

    /// # Safety
    /// `key` must hold the map's key size and `value` must have room for what the kernel
    /// writes for this map type.
    unsafe fn lookup_raw(&self, key: &[u8], value: &mut [u8]) -> Result<bool> {
        let mut attr = MapElemAttr {
            map_fd: self.raw_fd(),
            key: attr::ptr(key.as_ptr()),
            value: attr::ptr(value.as_mut_ptr()),
            ..Default::default()
        };
        // SAFETY: `MapElemAttr` is the `BPF_MAP_*_ELEM` member of `bpf_attr`; the buffers are
        // as large as the kernel reads and writes (this function's contract).
        match unsafe { attr::bpf(Command::MapLookupElem, &mut attr) } {
            Ok(_) => Ok(true),
            Err(errno) if errno.0 == libc::ENOENT => Ok(false),
            Err(errno) => Err(Error::Syscall {
                command: Command::MapLookupElem,
                errno,
            }),
        }
    }

    /// Stores `value` under `key` (`BPF_MAP_UPDATE_ELEM`).
    ///
    /// For a program array the value is a program's file descriptor as a native-endian `u32`,
    /// for a map of maps a map's.
    pub fn update(&self, key: &[u8], value: &[u8], mode: UpdateMode) -> Result<()> {
        self.check_not_per_cpu()?;
        self.check(key, value.len(), self.value_size())?;
        // SAFETY: the buffers have the map's key and value sizes.
        unsafe { self.update_raw(key, value, mode) }
    }

    /// Stores one value per possible cpu under `key` of a per-cpu map.
    pub fn update_percpu(&self, key: &[u8], values: &[Vec<u8>], mode: UpdateMode) -> Result<()> {
        self.check_per_cpu()?;
        let stride = self.value_size().next_multiple_of(8);
        let cpus = possible_cpus()?;
        if values.len() != cpus {
            return Err(Error::InvalidArgument(format!(
                "{} values given for {cpus} possible cpus",
                values.len()
            )));
        }
        let mut buf = vec![0u8; stride * cpus];
        for (chunk, v) in buf.chunks_mut(stride).zip(values) {
            self.check(key, v.len(), self.value_size())?;
            chunk[..v.len()].copy_from_slice(v);
        }
        // SAFETY: `buf` holds one 8-byte-aligned value per possible cpu, as the kernel reads.
        unsafe { self.update_raw(key, &buf, mode) }
    }

    /// # Safety
    /// `key` must hold the map's key size and `value` what the kernel reads for this map type.
    unsafe fn update_raw(&self, key: &[u8], value: &[u8], mode: UpdateMode) -> Result<()> {
        let mut attr = MapElemAttr {
            map_fd: self.raw_fd(),
            key: attr::ptr(key.as_ptr()),
            value: attr::ptr(value.as_ptr()),
            flags: mode.flags(),
            ..Default::default()
        };
        // SAFETY: `MapElemAttr` is the `BPF_MAP_*_ELEM` member of `bpf_attr`; the buffers are
        // as large as the kernel reads (this function's contract).
        unsafe { attr::bpf(Command::MapUpdateElem, &mut attr) }
            .map_err(Error::syscall(Command::MapUpdateElem))?;
        Ok(())
    }

    /// Deletes the element under `key` (`BPF_MAP_DELETE_ELEM`); `false` if there was none.
    ///
    /// Arrays cannot delete elements; the kernel answers `EINVAL`.
    pub fn delete(&self, key: &[u8]) -> Result<bool> {
        self.check(key, 0, 0)?;
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

    /// The key after `key` (the first key for `None`), or `None` after the last
    /// (`BPF_MAP_GET_NEXT_KEY`).
    pub fn next_key(&self, key: Option<&[u8]>) -> Result<Option<Vec<u8>>> {
        if let Some(key) = key {
            self.check(key, 0, 0)?;
        }
        let mut next = vec![0u8; self.key_size()];
        let mut attr = NextKeyAttr {
            map_fd: self.raw_fd(),
            key: key.map_or(0, |k| attr::ptr(k.as_ptr())),
            next_key: attr::ptr(next.as_mut_ptr()),
            ..Default::default()
        };
        // SAFETY: `NextKeyAttr` is the `BPF_MAP_GET_NEXT_KEY` member of `bpf_attr`; `key` (or
        // null) and `next_key` hold the map's key size.
        match unsafe { attr::bpf(Command::MapGetNextKey, &mut attr) } {
            Ok(_) => Ok(Some(next)),
            Err(errno) if errno.0 == libc::ENOENT => Ok(None),
            Err(errno) => Err(Error::Syscall {
                command: Command::MapGetNextKey,
                errno,
            }),
        }
    }

    /// Every key of the map, in the kernel's iteration order.
    pub fn keys(&self) -> Result<Vec<Vec<u8>>> {
        let mut keys = Vec::new();
        let mut key = None;
        while let Some(next) = self.next_key(key.as_deref())? {
            // A hash map changing under us could loop forever; a map holds at most
            // max_entries keys.
            if keys.len() > self.def.max_entries as usize {
                break;
            }
            keys.push(next.clone());
            key = Some(next);
        }
        Ok(keys)
    }

    fn check_not_per_cpu(&self) -> Result<()> {
        if is_per_cpu(self.def.map_type) {
            return Err(Error::InvalidArgument(format!(
                "{} holds one value per cpu: use lookup_percpu/update_percpu",
                self.def.map_type
            )));
        }
        Ok(())
    }

    fn check_per_cpu(&self) -> Result<()> {
        if !is_per_cpu(self.def.map_type) {
            return Err(Error::InvalidArgument(format!(
                "{} is not a per-cpu map",
                self.def.map_type
            )));
        }
        Ok(())
    }

    fn check(&self, key: &[u8], value_len: usize, expected_value: usize) -> Result<()> {
        if key.len() != self.key_size() {
            return Err(Error::Size {
                what: "key",
                expected: self.key_size(),
                actual: key.len(),
            });
        }
        if value_len != expected_value {
            return Err(Error::Size {
                what: "value",
                expected: expected_value,
                actual: value_len,
            });
        }
        Ok(())
    }

    fn raw_fd(&self) -> u32 {
        self.fd.as_raw_fd() as u32
    }
}

/// The kernel's facts about the map behind `fd`.
pub(crate) fn map_info(fd: BorrowedFd<'_>) -> Result<MapInfo> {
    let mut raw = MapInfoRaw::default();
    // SAFETY: `fd` is asked for a `bpf_map_info` (the kernel checks the object is a map);
    // `MapInfoRaw` has no pointer fields.
    unsafe { obj::info(fd, &mut raw) }?;
    Ok(MapInfo {
        def: MapDef {
            map_type: MapType(raw.map_type),
            key_size: raw.key_size,
            value_size: raw.value_size,
            max_entries: raw.max_entries,
            map_flags: MapFlags(raw.map_flags),
            numa_node: 0,
            map_extra: raw.map_extra,
        },
        id: raw.id,
        name: obj::name_of(&raw.name),
        btf_id: raw.btf_id,
        btf_key_type_id: raw.btf_key_type_id,
        btf_value_type_id: raw.btf_value_type_id,
        ifindex: raw.ifindex,
    })
}

/// Whether a lookup in a map of this type returns one value per possible cpu.
pub fn is_per_cpu(map_type: MapType) -> bool {
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
