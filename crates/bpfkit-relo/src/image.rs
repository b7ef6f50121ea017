//! [`ProgramImage`]: one linked program, the form every consumer takes; and [`ObjectImage`],
//! what the programs of one object share (maps, externs, BTF).

use std::sync::Arc;

use bpfkit_btf::TypeId;
use bpfkit_elf::{ExternIndex, InnerMap, MapTypes, Pinning};
use bpfkit_isa::Insn;
use bpfkit_uapi::{AttachType, MapDef, ProgFlags, ProgType};

use crate::core::CoreOutcome;
use crate::error::CoreFailure;

/// An index into [`ObjectImage::maps`]: the `imm` of an `lddw` with `BPF_PSEUDO_MAP_IDX` or
/// `BPF_PSEUDO_MAP_IDX_VALUE` in a [`ProgramImage`], the kernel's index into a program's
/// `fd_array`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub struct MapSlot(pub u32);

impl std::fmt::Display for MapSlot {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        std::fmt::Display::fmt(&self.0, f)
    }
}

/// One linked program: its instructions with every subprogram it reaches appended in libbpf's
/// order, calls and `func(+N)` offsets fixed, CO-RE applied, func_info and line_info rebased,
/// and every map, global data, kconfig and ksym reference kept symbolic for an executor to
/// bind.
///
/// References are left in the instructions in a form every executor understands:
///
/// - a map: `lddw rX, map_idx(N)` (`BPF_PSEUDO_MAP_IDX`), `N` a [`MapSlot`];
/// - global data and `.kconfig` values: `lddw rX, map_idx_value(N, OFF)`
///   (`BPF_PSEUDO_MAP_IDX_VALUE`), the data section being a one-element array map as in libbpf;
/// - a `__ksym` variable: `lddw rX, 0` (src 0 for a typeless one, `BPF_PSEUDO_BTF_ID` for a
///   typed one) with a [`Reference`] naming the extern;
/// - a kfunc: `call kfunc(0)` with a [`Reference`] naming the extern.
///
/// The userspace VM maps slot `N` to its map `N`, the kernel loader passes the maps' file
/// descriptors as the program's `fd_array` (or rewrites the slots into fds), and both bind the
/// externs listed in [`ProgramImage::refs`].
#[derive(Clone, Debug)]
pub struct ProgramImage {
    /// The program's name (its function symbol).
    pub name: String,
    /// Its section (`SEC("...")`).
    pub section: String,
    /// Its program type from the section name (`ProgType::UNSPEC` when libbpf knows no such
    /// section).
    pub prog_type: ProgType,
    /// The expected attach type from the section name.
    pub expected_attach_type: Option<AttachType>,
    /// The attach target the section name carries (`kprobe/do_unlinkat` → `do_unlinkat`).
    pub attach_target: Option<String>,
    /// Program load flags from the section (`BPF_F_SLEEPABLE`, `BPF_F_XDP_HAS_FRAGS`).
    pub prog_flags: ProgFlags,
    /// The instructions (an `lddw` is one [`Insn`] and two slots).
    pub insns: Vec<Insn>,
    /// The functions in the image, in order: the program first, then each appended subprogram.
    pub functions: Vec<ImageFunction>,
    /// `bpf_func_info` records, rebased to slots of the image.
    pub func_info: Vec<FuncInfo>,
    /// `bpf_line_info` records, rebased to slots of the image.
    pub line_info: Vec<LineInfo>,
    /// The symbolic references, by slot.
    pub refs: Vec<Reference>,
    /// Every CO-RE relocation applied to a function of this image, in image order.
    pub core: Vec<CoreReport>,
    /// What the object's programs share.
    pub object: Arc<ObjectImage>,
}

impl ProgramImage {
    /// The instructions with the slot index each starts at.
    pub fn slots(&self) -> impl Iterator<Item = (usize, &Insn)> {
        self.insns.iter().scan(0usize, |slot, insn| {
            let at = *slot;
            *slot += insn.slots();
            Some((at, insn))
        })
    }

    /// Number of 8-byte slots (the kernel's instruction count).
    pub fn slot_count(&self) -> usize {
        self.insns.iter().map(Insn::slots).sum()
    }

    /// The instructions as 8-byte slots, as `BPF_PROG_LOAD` takes them.
    pub fn encode(&self) -> Vec<u8> {
        bpfkit_isa::encode(&self.insns)
    }

    /// The function holding slot `slot`.
    pub fn function_at(&self, slot: usize) -> Option<&ImageFunction> {
        self.functions
            .iter()
            .find(|f| slot >= f.start && slot < f.start + f.slots)
    }

    /// The source line of slot `slot`: the last line_info record at or before it within the
    /// same function.
    pub fn line_at(&self, slot: usize) -> Option<&LineInfo> {
        let func = self.function_at(slot)?;
        self.line_info
            .iter()
            .rfind(|l| l.insn >= func.start && l.insn <= slot)
    }

    /// The reference of slot `slot`, if it has one.
    pub fn reference_at(&self, slot: usize) -> Option<&Reference> {
        self.refs.iter().find(|r| r.insn == slot)
    }

    /// The map in slot `slot` of the object's map table.
    pub fn map(&self, slot: MapSlot) -> Option<&MapSpec> {
        self.object.maps.get(slot.0 as usize)
    }

    /// The maps this program refers to, each once, in slot order.
    pub fn used_maps(&self) -> Vec<MapSlot> {
        let mut used: Vec<MapSlot> = self
            .refs
            .iter()
            .filter_map(|r| match r.target {
                RefTarget::Map(m) | RefTarget::MapValue { map: m, .. } => Some(m),
                RefTarget::Ksym(_) | RefTarget::Kfunc(_) => None,
            })
            .collect();
        used.sort();
        used.dedup();
        used
    }
}

/// A function placed in a [`ProgramImage`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ImageFunction {
    /// Its symbol's name.
    pub name: String,
    /// The slot of its first instruction in the image.
    pub start: usize,
    /// Its number of slots.
    pub slots: usize,
    /// Whether it is a global function (the kernel verifies those separately).
    pub global: bool,
}

/// A `bpf_func_info` record: where a function starts and its BTF `FUNC`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FuncInfo {
    /// The slot in the image.
    pub insn: usize,
    /// The `FUNC` in the object's BTF.
    pub type_id: TypeId,
}

/// A `bpf_line_info` record: the source line of an instruction.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LineInfo {
    /// The slot in the image.
    pub insn: usize,
    /// Offset of the file name in the object's BTF strings (what the kernel takes).
    pub file_name_off: u32,
    /// Offset of the line's text in the object's BTF strings.
    pub line_off: u32,
    /// The file name.
    pub file: String,
    /// The line's text.
    pub text: String,
    /// Line number.
    pub line: u32,
    /// Column.
    pub column: u32,
}

/// A symbolic reference in an instruction, for an executor to bind.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Reference {
    /// The slot of the instruction.
    pub insn: usize,
    /// What it refers to.
    pub target: RefTarget,
}

/// What a [`Reference`] refers to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RefTarget {
    /// `lddw rX, map_idx(N)`: a map.
    Map(MapSlot),
    /// `lddw rX, map_idx_value(N, OFF)`: a byte of a global data or `.kconfig` map's value.
    MapValue {
        /// The map.
        map: MapSlot,
        /// Byte offset in its (single) value.
        offset: u32,
    },
    /// `lddw rX, ...`: a `__ksym` kernel variable ([`ObjectImage::externs`]).
    Ksym(ExternIndex),
    /// `call kfunc(...)`: a kernel function ([`ObjectImage::externs`]).
    Kfunc(ExternIndex),
}

/// What the programs of one object share: the map table the image's slots index, the externs,
/// the object's BTF, license and kernel version.
#[derive(Clone, Debug, Default)]
pub struct ObjectImage {
    /// The maps: the object's maps (legacy, then BTF-defined), then its global data sections
    /// as one-element array maps, then `.kconfig` if any kconfig extern exists.
    pub maps: Vec<MapSpec>,
    /// The externs, in the object's order.
    pub externs: Vec<ExternSpec>,
    /// The object's `.BTF`, as found in the file (func_info type ids and map BTF types refer to
    /// it; a loader fixes up DATASECs and sanitizes it for the kernel).
    pub btf: Option<Vec<u8>>,
    /// The `license` section's text.
    pub license: String,
    /// The `version` section's value, 0 when absent.
    pub kernel_version: u32,
    /// The names of the object's programs, indexed as [`SlotTarget::Program`] indexes them.
    pub programs: Vec<String>,
}

impl ObjectImage {
    /// The map named `name` and its slot.
    pub fn map_by_name(&self, name: &str) -> Option<(MapSlot, &MapSpec)> {
        self.maps
            .iter()
            .enumerate()
            .find(|(_, m)| m.name == name)
            .map(|(i, m)| (MapSlot(i as u32), m))
    }
}

/// Where a map of the table comes from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MapOrigin {
    /// A map the object declares (index into its maps).
    Map(bpfkit_elf::MapIndex),
    /// A global data section (`.data`, `.rodata`, `.bss` and their `.name` variants).
    Data(bpfkit_elf::DataIndex),
    /// The `.kconfig` values.
    Kconfig,
}

/// A map of an [`ObjectImage`]: what to create and with what contents.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MapSpec {
    /// The map's name: its variable's name, or the data section's name (`.data`, `.rodata`,
    /// `.kconfig`, ...).
    pub name: String,
    /// Where it comes from.
    pub origin: MapOrigin,
    /// Its definition. Data sections are `ARRAY` maps of one value of the section's size with
    /// libbpf's flags (`BPF_F_RDONLY_PROG` for `.rodata` and `.kconfig`, `BPF_F_MMAPABLE` for
    /// the others and `.rodata`).
    pub def: MapDef,
    /// BTF key and value types in [`ObjectImage::btf`] (a data section's value type is its
    /// DATASEC).
    pub types: MapTypes,
    /// libbpf's pinning attribute.
    pub pinning: Pinning,
    /// The inner map of a map of maps.
    pub inner: Option<InnerMap>,
    /// The initial bytes of key 0's value (data sections and `.kconfig`; empty otherwise).
    pub data: Vec<u8>,
    /// Whether userspace must freeze it after filling it (`.rodata`, `.kconfig`).
    pub frozen: bool,
    /// Initial entries of a prog array or map of maps (`.values = { [i] = &x }`).
    pub slots: Vec<(u32, SlotTarget)>,
}

/// What an initial entry of a prog array or map of maps points at.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SlotTarget {
    /// A program of the object (index into [`ObjectImage::programs`]).
    Program(usize),
    /// A map of the table.
    Map(MapSlot),
}

/// An extern of the object.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ExternSpec {
    /// Its name.
    pub name: String,
    /// Declared `__weak`: may stay unresolved (zero).
    pub weak: bool,
    /// Its VAR or FUNC in the object's BTF.
    pub btf_type: TypeId,
    /// What it is.
    pub kind: ExternSpecKind,
}

/// What an [`ExternSpec`] is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ExternSpecKind {
    /// A `__kconfig` value, at `offset` in the `.kconfig` map's value.
    Kconfig {
        /// Byte offset in the `.kconfig` value (libbpf's layout).
        offset: u32,
        /// Size in bytes.
        size: u32,
        /// Whether a value was found (a weak one that was not is zero).
        set: bool,
    },
    /// A `__ksym` variable; `typed` when its BTF type is not void (bound by BTF id), else by
    /// address.
    Ksym {
        /// Whether it has a type.
        typed: bool,
    },
    /// A `__ksym` kernel function.
    Kfunc,
}

/// One CO-RE relocation applied while linking, for `bpfkit reloc`.
#[derive(Clone, Debug)]
pub struct CoreReport {
    /// The function holding the instruction (libbpf's program name for the record).
    pub function: String,
    /// The instruction's slot within that function (what libbpf's log counts).
    pub insn: usize,
    /// The record's index among the function's records (libbpf's `relo #N`).
    pub index: usize,
    /// What happened.
    pub result: Result<CoreOutcome, CoreFailure>,
}
