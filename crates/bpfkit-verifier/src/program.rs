//! What the verifier is given: the instructions of a linked program, its type, the maps its
//! `lddw` instructions name, and the optional BTF-derived facts (functions, source lines).

use bpfkit_isa::Insn;
use bpfkit_uapi::{AttachType, MapFlags, MapType, ProgType};

/// A map a program refers to: `lddw rN, map_fd(i)` and `map_idx(i)` name `maps[i]`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MapInfo {
    /// The map type.
    pub map_type: MapType,
    /// Key size in bytes.
    pub key_size: u32,
    /// Value size in bytes.
    pub value_size: u32,
    /// Number of entries.
    pub max_entries: u32,
    /// Creation flags (`BPF_F_RDONLY_PROG` makes values read-only to the program).
    pub flags: MapFlags,
    /// Offset of a `struct bpf_spin_lock` in the value, from the map's BTF.
    pub spin_lock_off: Option<u32>,
    /// The inner map of a map-in-map.
    pub inner: Option<Box<MapInfo>>,
    /// The map's name, for messages.
    pub name: String,
    /// The contents of a frozen read-only map's single value (`.rodata`, `.kconfig`): loads from
    /// it at a known offset are known numbers, as in the kernel.
    pub rodata: Option<Vec<u8>>,
}

impl MapInfo {
    /// A map of `map_type` with the given sizes and no flags.
    pub fn new(map_type: MapType, key_size: u32, value_size: u32, max_entries: u32) -> MapInfo {
        MapInfo {
            map_type,
            key_size,
            value_size,
            max_entries,
            flags: MapFlags::NONE,
            spin_lock_off: None,
            inner: None,
            name: String::new(),
            rodata: None,
        }
    }
}

/// What a global function's argument is, from its BTF prototype.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum GlobalArg {
    /// An integer or enum.
    Scalar,
    /// A pointer to the program's context.
    Ctx,
    /// A pointer to `size` bytes of memory, or null when `nullable`.
    Mem {
        /// Bytes the function may read and write.
        size: u32,
        /// Whether `NULL` may be passed.
        nullable: bool,
    },
}

/// A function of the program (from BTF `func_info`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FuncInfo {
    /// Its first instruction (slot index in the linked program).
    pub insn: usize,
    /// Its name.
    pub name: String,
    /// Global linkage: verified on its own, with arguments as its prototype says.
    pub global: bool,
    /// The arguments of a global function.
    pub args: Vec<GlobalArg>,
    /// A global function returning `void`.
    pub returns_void: bool,
}

/// A source line (from BTF `line_info`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LineInfo {
    /// The first instruction (slot index) of the line.
    pub insn: usize,
    /// Source file.
    pub file: String,
    /// Line number.
    pub line: u32,
    /// Column.
    pub col: u32,
    /// The line's text.
    pub text: String,
}

/// A linked program as the verifier takes it.
#[derive(Clone, Debug)]
pub struct Program<'a> {
    /// Decoded instructions, subprograms appended (an `lddw` occupies two slots; jump offsets
    /// count slots).
    pub insns: &'a [Insn],
    /// The program type.
    pub prog_type: ProgType,
    /// The expected attach type (some program types' rules depend on it).
    pub attach_type: AttachType,
    /// The maps `lddw` instructions name, by index.
    pub maps: &'a [MapInfo],
    /// Functions (empty without BTF: every subprogram is then static).
    pub funcs: &'a [FuncInfo],
    /// Source lines (empty without BTF).
    pub lines: &'a [LineInfo],
    /// The program comes with BTF func_info (callbacks need it).
    pub btf_func_info: bool,
    /// Slots of `lddw` instructions that load a kernel symbol (`__ksym`), and what it is.
    pub ksyms: &'a [(usize, Ksym)],
    /// Kfunc calls, by slot: the kernel function as its BTF and registration describe it, or
    /// why it cannot be checked.
    pub kfuncs: &'a [(usize, Result<Kfunc, String>)],
    /// BTF-typed tracing programs: the context slots (8-byte arguments) that hold pointers to
    /// kernel structs, with the struct's id in the kernel's BTF.
    pub tracing_ptr_args: &'a [(u32, u32)],
    /// BTF-typed tracing programs (fentry, fexit, tp_btf, lsm): how many 8-byte arguments the
    /// attach target passes in the context (from the kernel's BTF); `None` when unknown.
    pub tracing_args: Option<u32>,
    /// The license is GPL-compatible.
    pub gpl: bool,
    /// The program may sleep (`BPF_F_SLEEPABLE`).
    pub sleepable: bool,
}

impl<'a> Program<'a> {
    /// A program of `prog_type` without maps or BTF, GPL-licensed.
    pub fn new(insns: &'a [Insn], prog_type: ProgType) -> Program<'a> {
        Program {
            insns,
            prog_type,
            attach_type: AttachType(0),
            maps: &[],
            funcs: &[],
            lines: &[],
            btf_func_info: false,
            ksyms: &[],
            kfuncs: &[],
            tracing_ptr_args: &[],
            tracing_args: None,
            gpl: true,
            sleepable: false,
        }
    }

    /// The same program with `maps`.
    pub fn with_maps(mut self, maps: &'a [MapInfo]) -> Program<'a> {
        self.maps = maps;
        self
    }
}

/// What a `__ksym` an `lddw` loads is, in the kernel the program is verified for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Ksym {
    /// A kernel variable (typed or typeless): not modelled yet.
    Var,
    /// A kernel function that exists (`bpf_ksym_exists(kfunc)`): a read-only pointer of size 0
    /// that is never NULL.
    Func,
    /// A `__weak` symbol the kernel lacks: libbpf loads 0.
    MissingWeak,
}

/// A kernel function a program calls, from the kernel's BTF prototype and bpfkit-uapi's table
/// of what the kernel registers for it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Kfunc {
    /// Its name.
    pub name: String,
    /// Flags and program types.
    pub info: bpfkit_uapi::KfuncInfo,
    /// Its parameters.
    pub params: Vec<KfuncType>,
    /// What it returns.
    pub ret: KfuncType,
}

/// A kfunc parameter or return type, as the verifier checks it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum KfuncType {
    /// `void` (returns only).
    Void,
    /// An integer, enum or bool.
    Scalar,
    /// A pointer to the program's context struct.
    Ctx,
    /// A pointer to memory whose size the next parameter (`name__sz`) gives.
    MemSized,
    /// A pointer to a kernel struct: its id in the kernel's BTF and its name.
    Struct {
        /// The struct's type id in the kernel's BTF.
        id: u32,
        /// Its name.
        name: String,
    },
    /// Anything else, described: refused as not modelled.
    Other(String),
}
