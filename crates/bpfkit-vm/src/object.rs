//! [`TestObject`]: a clang-built object loaded into the userspace runtime, ready for test
//! runs: every program linked (CO-RE applied), its context accesses converted, every map and
//! global data section created once and shared by all of the object's programs (so a tail call
//! through a program array reaches the object's other programs), and everything readable and
//! writable by name from Rust.

use bpfkit_btf::Btf;
use bpfkit_elf::Object;
use bpfkit_isa::{Insn, Opcode};
use bpfkit_relo::{
    CoreTarget, ExternSpecKind, Kconfig, LinkError, Linker, MapOrigin, ObjectImage, ProgramImage,
    RefTarget, SlotTarget,
};
use bpfkit_uapi::{AttachType, HelperId, MapType, ProgType};

use crate::ctx;
use crate::host::Host;
use crate::maps::{BPF_ANY, Map, MapError, MapId};
use crate::program::Program;
use crate::test_run::{self, RunTarget, TestOutput, TestRun, TestRunError};
use crate::vm::{ProgId, Vm};

/// Why an object cannot be opened.
#[derive(Debug, thiserror::Error)]
pub enum ObjectError {
    /// The bytes are not a BPF object.
    #[error(transparent)]
    Parse(#[from] bpfkit_elf::ElfError),
    /// What the programs share could not be built (a `.kconfig` value is missing, ...).
    #[error(transparent)]
    Link(#[from] LinkError),
    /// The CO-RE target BTF does not parse.
    #[error("CO-RE target: {0}")]
    Target(String),
    /// A map cannot be created in userspace.
    #[error("map '{name}': {source}")]
    Map {
        /// The map's name.
        name: String,
        /// Why.
        source: MapError,
    },
}

/// Why a global variable cannot be set.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum GlobalError {
    /// The object has no global of this name.
    #[error("no global variable '{0}'")]
    NotFound(String),
    /// The value has the wrong size.
    #[error("global '{name}' has {expected} bytes, not {actual}")]
    Size {
        /// The variable.
        name: String,
        /// Its size.
        expected: usize,
        /// The value's size.
        actual: usize,
    },
}

/// A program of a [`TestObject`].
#[derive(Clone, Debug)]
pub struct ObjectProgram {
    /// Its name (the function's symbol).
    pub name: String,
    /// Its section (`SEC("...")`).
    pub section: String,
    /// Its program type.
    pub prog_type: ProgType,
    /// Its expected attach type.
    pub attach_type: AttachType,
    /// The linked image, or why linking failed.
    pub image: Result<ProgramImage, String>,
    loaded: Result<RunTarget, String>,
}

impl ObjectProgram {
    /// Why the program cannot run, if it cannot.
    pub fn error(&self) -> Option<&str> {
        self.loaded.as_ref().err().map(String::as_str)
    }

    /// The program's id in the object's [`Vm`], when it loaded.
    pub fn id(&self) -> Option<ProgId> {
        self.loaded.as_ref().ok().map(|t| t.id)
    }

    /// The furthest context byte the program reads (what a raw tracepoint or syscall
    /// program's `ctx_in` must hold).
    pub fn max_ctx_offset(&self) -> Option<u32> {
        self.loaded.as_ref().ok().map(|t| t.max_ctx_offset)
    }
}

/// A global variable: a span of a data section's single value.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Global {
    /// The variable's name.
    pub name: String,
    /// Its section (`.data`, `.rodata`, `.bss`, `.data.foo`, `.kconfig`).
    pub section: String,
    /// The section's map.
    pub map: MapId,
    /// Byte offset in the section.
    pub offset: u32,
    /// Size in bytes.
    pub size: u32,
}

/// How to open a [`TestObject`]: the CO-RE target, `.kconfig` values, the number of CPUs.
#[derive(Debug)]
pub struct TestObjectBuilder<'a> {
    bytes: &'a [u8],
    target: Option<Vec<u8>>,
    kconfig: Option<Kconfig>,
    host: Host,
    types: Vec<(String, ProgType)>,
}

impl<'a> TestObjectBuilder<'a> {
    /// Relocates CO-RE accesses against this raw BTF (default: the running kernel's
    /// `/sys/kernel/btf/vmlinux`, read only for objects with CO-RE relocations).
    pub fn core_target(mut self, btf: &[u8]) -> Self {
        self.target = Some(btf.to_vec());
        self
    }

    /// Takes `.kconfig` values from `kconfig` (default: the running kernel's configuration,
    /// read only for objects with `.kconfig` externs).
    pub fn kconfig(mut self, kconfig: Kconfig) -> Self {
        self.kconfig = Some(kconfig);
        self
    }

    /// Simulates a machine of `cpus` CPUs (default 1): per-cpu maps keep that many values.
    pub fn cpus(mut self, cpus: u32) -> Self {
        self.host.cpus = cpus.max(1);
        self
    }

    /// Starts from this host (time, task, memory tables, interfaces).
    pub fn host(mut self, host: Host) -> Self {
        self.host = host;
        self
    }

    /// Gives program `name` the type `prog_type`, whatever its section says (as libbpf's
    /// `bpf_program__set_type` does before load): for objects whose section names follow no
    /// libbpf convention.
    pub fn program_type(mut self, name: &str, prog_type: ProgType) -> Self {
        self.types.push((name.to_string(), prog_type));
        self
    }

    /// Parses, links and loads the object.
    pub fn build(self) -> Result<TestObject, ObjectError> {
        let object = Object::parse(self.bytes)?;
        // A global data section becomes a one-value array: the runtime's limit on a map's
        // memory holds before the linker copies it.
        for data in object.data_sections() {
            if data.size > crate::maps::MAX_MAP_BYTES {
                return Err(ObjectError::Map {
                    name: data.name.to_string(),
                    source: MapError::TooLarge(data.size),
                });
            }
        }
        let needs_target = object.functions().any(|f| !f.core_relos.is_empty());
        let target_bytes = match (self.target, needs_target) {
            (Some(t), _) => Some(t),
            (None, true) => Some(bpfkit_btf::vmlinux::read_vmlinux().map_err(|e| {
                ObjectError::Target(format!("{}: {e}", bpfkit_btf::vmlinux::VMLINUX_PATH))
            })?),
            (None, false) => None,
        };
        let target_btf = match &target_bytes {
            Some(bytes) => Some(Btf::parse(bytes).map_err(|e| ObjectError::Target(e.to_string()))?),
            None => None,
        };
        let core = target_btf.as_ref().map(CoreTarget::new);
        let mut linker = Linker::new(&object);
        if let Some(core) = &core {
            linker = linker.with_core_target(core);
        }
        if let Some(k) = self.kconfig {
            linker = linker.with_kconfig(k);
        }
        let shared = linker.object_image()?;
        let mut linked = linker.link_all();
        for (name, image) in &mut linked {
            if let (Some((_, t)), Ok(image)) = (self.types.iter().find(|(n, _)| n == name), image) {
                image.prog_type = *t;
            }
        }
        let globals = globals(&object, &shared);
        TestObject::load(&shared, linked, self.host, globals)
    }
}

/// A BPF object in the userspace runtime: programs, maps and global data, with test runs as
/// `BPF_PROG_TEST_RUN` makes them.
///
/// ```
/// use bpfkit_vm::{TestObject, TestRun};
///
/// let bytes = std::fs::read(concat!(
///     env!("CARGO_MANIFEST_DIR"),
///     "/../../testdata/obj/xdp_parse.v3.g.o"
/// ))?;
/// let mut obj = TestObject::open(&bytes)?;
/// // An Ethernet frame carrying an IPv4 UDP header (protocol 17).
/// let mut packet = vec![0u8; 42];
/// packet[12..14].copy_from_slice(&[0x08, 0x00]);
/// packet[14] = 0x45;
/// packet[23] = 17;
/// let out = obj.test_run("xdp_parse", &TestRun { data: &packet, ..TestRun::default() })?;
/// assert_eq!(out.retval, 2); // XDP_PASS
/// let udp = obj.map("proto_count").unwrap().lookup(&17u32.to_le_bytes()).unwrap();
/// assert_eq!(udp, 1u64.to_le_bytes());
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug)]
pub struct TestObject {
    vm: Vm,
    programs: Vec<ObjectProgram>,
    map_names: Vec<String>,
    globals: Vec<Global>,
}

impl TestObject {
    /// Opens `bytes` with the defaults of [`TestObjectBuilder`].
    pub fn open(bytes: &[u8]) -> Result<TestObject, ObjectError> {
        TestObject::builder(bytes).build()
    }

    /// A builder to open `bytes` with a CO-RE target, `.kconfig` values or a number of CPUs.
    pub fn builder(bytes: &[u8]) -> TestObjectBuilder<'_> {
        TestObjectBuilder {
            bytes,
            target: None,
            kconfig: None,
            host: Host::default(),
            types: Vec::new(),
        }
    }

    fn load(
        shared: &ObjectImage,
        linked: Vec<(String, Result<ProgramImage, LinkError>)>,
        host: Host,
        globals: Vec<Global>,
    ) -> Result<TestObject, ObjectError> {
        let mut vm = Vm::empty();
        *vm.host_mut() = host;
        let btf = shared.btf.as_deref().and_then(|b| Btf::parse(b).ok());
        let cpus = vm.cpus();
        let map_names = shared.maps.iter().map(|m| m.name.clone()).collect();
        for spec in &shared.maps {
            let fail = |source| ObjectError::Map {
                name: spec.name.clone(),
                source,
            };
            let inner = spec.inner.map(|i| i.def).or_else(|| {
                // An array of maps initialised with other maps takes its inner definition
                // from the first of them.
                spec.slots.iter().find_map(|(_, t)| match t {
                    SlotTarget::Map(m) => shared.maps.get(m.0 as usize).map(|m| m.def),
                    SlotTarget::Program(_) => None,
                })
            });
            let map = match (spec.def.map_type, inner) {
                (MapType::ARRAY_OF_MAPS | MapType::HASH_OF_MAPS, Some(inner)) => {
                    Map::map_of_maps(spec.def, inner, cpus)
                }
                _ => Map::with_cpus(spec.def, cpus),
            }
            .map_err(fail)?;
            let mut map = map;
            map.set_spin_lock(
                spec.types
                    .value
                    .is_some_and(|t| has_spin_lock(btf.as_ref(), t)),
            );
            let id = vm.add_map(map).map_err(fail)?;
            if !spec.data.is_empty() {
                vm.map_mut(id)
                    .expect("just added")
                    .update(&0u32.to_le_bytes(), &spec.data, BPF_ANY)
                    .map_err(fail)?;
            }
        }

        let mut programs = Vec::new();
        for (name, image) in linked {
            let (section, prog_type, attach_type) = match &image {
                Ok(i) => (
                    i.section.clone(),
                    i.prog_type,
                    i.expected_attach_type.unwrap_or_default(),
                ),
                Err(_) => (String::new(), ProgType::UNSPEC, AttachType::default()),
            };
            let loaded = match &image {
                Ok(image) => load_program(&mut vm, image),
                Err(e) => Err(e.to_string()),
            };
            programs.push(ObjectProgram {
                name,
                section,
                prog_type,
                attach_type,
                image: image.map_err(|e| e.to_string()),
                loaded,
            });
        }

        // Initial entries of program arrays and maps of maps.
        for (slot, spec) in shared.maps.iter().enumerate() {
            for &(index, target) in &spec.slots {
                let value = match target {
                    SlotTarget::Program(p) => match programs.get(p).and_then(|p| p.id()) {
                        Some(id) => id.0,
                        None => continue,
                    },
                    SlotTarget::Map(m) => m.0,
                };
                let map = vm.map_mut(MapId(slot as u32)).expect("created above");
                map.update(&index.to_le_bytes(), &value.to_le_bytes(), BPF_ANY)
                    .map_err(|source| ObjectError::Map {
                        name: spec.name.clone(),
                        source,
                    })?;
            }
        }

        Ok(TestObject {
            vm,
            programs,
            map_names,
            globals,
        })
    }

    /// The programs, in the object's order.
    pub fn programs(&self) -> &[ObjectProgram] {
        &self.programs
    }

    /// The program named `name`.
    pub fn program(&self, name: &str) -> Option<&ObjectProgram> {
        self.programs.iter().find(|p| p.name == name)
    }

    /// Runs program `name` as `BPF_PROG_TEST_RUN` does.
    pub fn test_run(&mut self, name: &str, run: &TestRun<'_>) -> Result<TestOutput, TestRunError> {
        let program = self
            .programs
            .iter()
            .find(|p| p.name == name)
            .ok_or_else(|| TestRunError::Program {
                name: name.to_string(),
                reason: format!(
                    "no such program (the object has {})",
                    self.programs
                        .iter()
                        .map(|p| p.name.as_str())
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            })?;
        let target = program
            .loaded
            .clone()
            .map_err(|reason| TestRunError::Program {
                name: name.to_string(),
                reason,
            })?;
        test_run::test_run(&mut self.vm, &target, run)
    }

    /// The names of the maps, in the object's order (its maps, then its data sections).
    pub fn map_names(&self) -> impl Iterator<Item = &str> {
        self.map_names.iter().map(String::as_str)
    }

    fn map_id(&self, name: &str) -> Option<MapId> {
        self.map_names
            .iter()
            .position(|n| n == name)
            .map(|i| MapId(i as u32))
    }

    /// The map named `name` (a data section is a map too: `.data`, `.bss`, ...).
    pub fn map(&self, name: &str) -> Option<&Map> {
        self.vm.map(self.map_id(name)?)
    }

    /// The map named `name`, to seed or change.
    pub fn map_mut(&mut self, name: &str) -> Option<&mut Map> {
        let id = self.map_id(name)?;
        self.vm.map_mut(id)
    }

    /// Every map with its name.
    pub fn maps(&self) -> impl Iterator<Item = (&str, &Map)> {
        self.map_names
            .iter()
            .zip(self.vm.maps())
            .map(|(n, m)| (n.as_str(), m))
    }

    /// The global variables of the data sections.
    pub fn globals(&self) -> &[Global] {
        &self.globals
    }

    fn find_global(&self, name: &str) -> Result<&Global, GlobalError> {
        self.globals
            .iter()
            .find(|g| g.name == name)
            .ok_or_else(|| GlobalError::NotFound(name.to_string()))
    }

    /// The bytes of global variable `name`.
    pub fn global(&self, name: &str) -> Option<&[u8]> {
        let g = self.find_global(name).ok()?;
        let value = self.vm.map(g.map)?.lookup(&0u32.to_le_bytes())?;
        value.get(g.offset as usize..(g.offset + g.size) as usize)
    }

    /// Sets global variable `name` (`.rodata` included: a test may change a constant before
    /// running, as a libbpf skeleton does before loading).
    pub fn set_global(&mut self, name: &str, bytes: &[u8]) -> Result<(), GlobalError> {
        let g = self.find_global(name)?.clone();
        if bytes.len() != g.size as usize {
            return Err(GlobalError::Size {
                name: name.to_string(),
                expected: g.size as usize,
                actual: bytes.len(),
            });
        }
        let map = self.vm.map_mut(g.map).expect("globals name existing maps");
        let mut value = map
            .lookup(&0u32.to_le_bytes())
            .expect("a data section has its value")
            .to_vec();
        value[g.offset as usize..(g.offset + g.size) as usize].copy_from_slice(bytes);
        map.update(&0u32.to_le_bytes(), &value, BPF_ANY)
            .expect("same size");
        Ok(())
    }

    /// Global variable `name` as a number (`u8`..`u64`, `i8`..`i64`).
    pub fn global_value<T: Scalar>(&self, name: &str) -> Option<T> {
        self.global(name).and_then(T::from_le)
    }

    /// Sets global variable `name` to a number.
    pub fn set_global_value<T: Scalar>(&mut self, name: &str, value: T) -> Result<(), GlobalError> {
        self.set_global(name, &value.to_le())
    }

    /// The host the programs run on.
    pub fn host(&self) -> &Host {
        self.vm.host()
    }

    /// The host, to set what programs see (time, CPU, task, memory, routes).
    pub fn host_mut(&mut self) -> &mut Host {
        self.vm.host_mut()
    }

    /// The runtime itself: helpers, budget, options.
    pub fn vm(&self) -> &Vm {
        &self.vm
    }

    /// The runtime, to register helpers or set a budget.
    pub fn vm_mut(&mut self) -> &mut Vm {
        &mut self.vm
    }
}

/// Loads one linked program: context accesses converted, then lowered.
fn load_program(vm: &mut Vm, image: &ProgramImage) -> Result<RunTarget, String> {
    for r in &image.refs {
        let (index, what) = match r.target {
            RefTarget::Ksym(e) => (e, "variable"),
            RefTarget::Kfunc(e) => (e, "function"),
            RefTarget::Map(_) | RefTarget::MapValue { .. } => continue,
        };
        let name = image
            .object
            .externs
            .get(index.0)
            .map_or_else(String::new, |e| e.name.clone());
        return Err(format!(
            "insn {}: '{name}' is a kernel {what} (__ksym); userspace runs cannot bind it",
            r.insn
        ));
    }
    let attach = image.expected_attach_type.unwrap_or_default();
    let with_slots: Vec<(usize, Insn)> = image.slots().map(|(s, i)| (s, *i)).collect();
    let converted =
        ctx::convert(&with_slots, image.prog_type, attach).map_err(|e| e.to_string())?;
    let insns: Vec<Insn> = converted.insns.iter().map(|(_, i)| *i).collect();
    let program = Program::new(&insns).map_err(|e| e.to_string())?;
    let grows_skb = insns
        .iter()
        .any(|i| i.opcode == Opcode::Call && i.imm as u32 == HelperId::SKB_CHANGE_TAIL.0);
    let id = vm.add_program(program);
    Ok(RunTarget {
        id,
        prog_type: image.prog_type,
        attach_type: attach,
        max_ctx_offset: converted.max_ctx_offset,
        grows_skb,
    })
}

/// Whether BTF type `id` is or contains (through structs, unions and arrays) a
/// `struct bpf_spin_lock`.
fn has_spin_lock(btf: Option<&Btf<'_>>, id: bpfkit_btf::TypeId) -> bool {
    fn walk(btf: &Btf<'_>, id: bpfkit_btf::TypeId, depth: u32) -> bool {
        let Ok(id) = btf.skip_mods(id) else {
            return false;
        };
        let Ok(t) = btf.type_by_id(id) else {
            return false;
        };
        if depth > 8 {
            return false;
        }
        if t.name().is_ok_and(|n| n == "bpf_spin_lock") {
            return true;
        }
        if let Some(a) = t.array() {
            return walk(btf, a.elem_type, depth + 1);
        }
        t.members().any(|m| walk(btf, m.type_id(), depth + 1))
    }
    btf.is_some_and(|btf| walk(btf, id, 0))
}

/// The variables of every data section (their ELF symbols, as libbpf's skeletons name them)
/// and the `.kconfig` externs.
fn globals(object: &Object<'_>, shared: &ObjectImage) -> Vec<Global> {
    let mut out = Vec::new();
    for (slot, spec) in shared.maps.iter().enumerate() {
        let map = MapId(slot as u32);
        // A symbol past the end of its section (a malformed object) names no variable: every
        // global kept lies inside its map's single value.
        let inside = |offset: u64, size: u64| {
            offset
                .checked_add(size)
                .is_some_and(|end| end <= u64::from(spec.def.value_size))
        };
        match spec.origin {
            MapOrigin::Data(i) => {
                let Some(section) = object.data_sections().get(i.0) else {
                    continue;
                };
                for v in section
                    .variables
                    .iter()
                    .filter(|v| inside(v.offset, v.size))
                {
                    out.push(Global {
                        name: v.name.to_string(),
                        section: spec.name.clone(),
                        map,
                        offset: v.offset as u32,
                        size: v.size as u32,
                    });
                }
            }
            MapOrigin::Kconfig => {
                for e in &shared.externs {
                    if let ExternSpecKind::Kconfig { offset, size, .. } = e.kind
                        && inside(offset.into(), size.into())
                    {
                        out.push(Global {
                            name: e.name.clone(),
                            section: spec.name.clone(),
                            map,
                            offset,
                            size,
                        });
                    }
                }
            }
            MapOrigin::Map(_) => {}
        }
    }
    out
}

/// A number a global variable can hold, in little-endian bytes.
pub trait Scalar: Sized {
    /// From exactly `size_of::<Self>()` bytes.
    fn from_le(bytes: &[u8]) -> Option<Self>;
    /// To its bytes.
    fn to_le(&self) -> Vec<u8>;
}

macro_rules! scalar {
    ($($t:ty),*) => {$(
        impl Scalar for $t {
            fn from_le(bytes: &[u8]) -> Option<Self> {
                Some(<$t>::from_le_bytes(bytes.try_into().ok()?))
            }
            fn to_le(&self) -> Vec<u8> {
                self.to_le_bytes().to_vec()
            }
        }
    )*};
}
scalar!(u8, u16, u32, u64, i8, i16, i32, i64);
