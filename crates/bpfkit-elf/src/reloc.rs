//! Relocations: the BPF relocation types, and what a relocation in code means once resolved
//! (libbpf's `bpf_program__record_reloc` rules): a map, global data, a subprogram call or
//! address, or an extern.

use core::fmt;

use bpfkit_isa::{Opcode, RawInsn};

use crate::elf::{ElfFile, Relocation, Symbol, SymbolBinding, SymbolKind, SymbolSection};
use crate::error::{ElfError, ErrorKind, RelocError, Result};
use crate::{DataIndex, ExternIndex, MapIndex, SectionIndex, SymbolIndex};

/// An ELF relocation type for `EM_BPF` (`R_BPF_*`, LLVM's `ELFRelocs/BPF.def`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum RelocType {
    /// `R_BPF_NONE` (0).
    None,
    /// `R_BPF_64_64` (1): the 64-bit immediate of an `lddw` (a map, global data, an extern, a
    /// function address).
    Bpf64_64,
    /// `R_BPF_64_ABS64` (2): a 64-bit absolute address in data (`.maps` initial values,
    /// `.BTF.ext`, DWARF).
    Bpf64Abs64,
    /// `R_BPF_64_ABS32` (3): a 32-bit absolute address in data (DWARF, `.BTF`).
    Bpf64Abs32,
    /// `R_BPF_64_NODYLD32` (4): like `ABS32`, not applied by dynamic loaders (`.BTF.ext`).
    Bpf64Nodyld32,
    /// `R_BPF_64_32` (10): the `imm` of a call (a subprogram or a kfunc).
    Bpf64_32,
    /// Any other value.
    Other(u32),
}

impl RelocType {
    /// The numeric `r_type`.
    pub fn raw(self) -> u32 {
        match self {
            RelocType::None => 0,
            RelocType::Bpf64_64 => 1,
            RelocType::Bpf64Abs64 => 2,
            RelocType::Bpf64Abs32 => 3,
            RelocType::Bpf64Nodyld32 => 4,
            RelocType::Bpf64_32 => 10,
            RelocType::Other(n) => n,
        }
    }

    /// The name llvm-objdump prints (`R_BPF_64_64`), or `None` for unknown values.
    pub fn name(self) -> Option<&'static str> {
        Some(match self {
            RelocType::None => "R_BPF_NONE",
            RelocType::Bpf64_64 => "R_BPF_64_64",
            RelocType::Bpf64Abs64 => "R_BPF_64_ABS64",
            RelocType::Bpf64Abs32 => "R_BPF_64_ABS32",
            RelocType::Bpf64Nodyld32 => "R_BPF_64_NODYLD32",
            RelocType::Bpf64_32 => "R_BPF_64_32",
            RelocType::Other(_) => return None,
        })
    }
}

impl From<u32> for RelocType {
    fn from(raw: u32) -> RelocType {
        match raw {
            0 => RelocType::None,
            1 => RelocType::Bpf64_64,
            2 => RelocType::Bpf64Abs64,
            3 => RelocType::Bpf64Abs32,
            4 => RelocType::Bpf64Nodyld32,
            10 => RelocType::Bpf64_32,
            n => RelocType::Other(n),
        }
    }
}

impl fmt::Display for RelocType {
    /// The `R_BPF_*` name, or `R_BPF_<n>` for unknown values.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.name() {
            Some(name) => f.pad(name),
            None => f.pad(&format!("R_BPF_{}", self.raw())),
        }
    }
}

/// What a relocated instruction refers to.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum RelocTarget {
    /// `lddw rX, map`: a map of the object.
    Map(MapIndex),
    /// `lddw rX, &var`: an address in a global data section: index into
    /// [`Object::data_sections`](crate::Object::data_sections) and the byte offset in it
    /// (`st_value + imm`).
    Data {
        /// The data section.
        data: DataIndex,
        /// Byte offset in the section.
        offset: u64,
    },
    /// `call` of a subprogram: the target's section and instruction index in that section
    /// (`st_value / 8 + imm + 1`).
    Call {
        /// The section of the callee.
        section: SectionIndex,
        /// Instruction index of the callee in its section.
        insn: u64,
    },
    /// `lddw rX, func` (a `bpf_loop` callback): the function's section and instruction index
    /// (`(st_value + imm) / 8`); loaded as `BPF_PSEUDO_FUNC`.
    FuncAddr {
        /// The section of the function.
        section: SectionIndex,
        /// Instruction index in its section.
        insn: u64,
    },
    /// `lddw rX, extern` (a `__kconfig` or typed/typeless `__ksym` variable).
    ExternVar(ExternIndex),
    /// `call extern` (a kfunc declared `__ksym`).
    ExternCall(ExternIndex),
}

/// A relocation in a function's code, resolved.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CodeRelocation<'data> {
    /// Instruction index within the function.
    pub insn: usize,
    /// Byte offset within the section (`r_offset`).
    pub section_offset: u64,
    /// The relocation type.
    pub r_type: RelocType,
    /// The symbol.
    pub symbol: SymbolIndex,
    /// The symbol's name (a section's name for section symbols).
    pub symbol_name: &'data str,
    /// What the instruction refers to.
    pub target: RelocTarget,
    /// Absolute offset of the `Elf64_Rel` entry in the file.
    pub entry_offset: u64,
}

/// What [`resolve`] needs to know about the object besides the ELF view.
pub(crate) struct Resolver<'a, 'data> {
    pub elf: &'a ElfFile<'data>,
    /// `(section, offset in section) -> map index`.
    pub map_at: &'a dyn Fn(SectionIndex, u64) -> Option<MapIndex>,
    /// `section -> data section index`.
    pub data_at: &'a dyn Fn(SectionIndex) -> Option<DataIndex>,
    /// Whether the section holds maps (`.maps` or legacy `maps`).
    pub is_maps: &'a dyn Fn(SectionIndex) -> bool,
    /// `symbol -> extern index`.
    pub extern_of: &'a dyn Fn(SymbolIndex) -> Option<ExternIndex>,
}

/// Resolves one relocation against code section `code_section` (whose bytes are `code`).
pub(crate) fn resolve<'data>(
    r: &Resolver<'_, 'data>,
    code_section: SectionIndex,
    code: &[u8],
    rel: &Relocation,
) -> Result<(RelocTarget, &'data str)> {
    let sym = r.elf.symbol(rel.symbol).copied().unwrap_or(EMPTY_SYMBOL);
    let insn_index = rel.offset / 8;
    let fail = |reason| {
        let name = r.elf.section(code_section).map_or("", |s| s.name);
        ElfError::in_section(
            rel.entry_offset,
            code_section,
            name,
            ErrorKind::BadRelocation {
                symbol: sym.name.to_string(),
                insn: insn_index,
                reason,
            },
        )
    };
    if rel.offset % 8 != 0 {
        return Err(fail(RelocError::Misaligned));
    }
    let insn = slot(code, rel.offset).ok_or_else(|| fail(RelocError::Misaligned))?;
    // What libbpf checks: the opcode byte of a call (any kind) or of an lddw (any pseudo form).
    let is_call = insn.code == Opcode::Call.code();
    if !is_call && !insn.is_lddw() {
        return Err(fail(RelocError::WrongInstruction { code: insn.code }));
    }
    if !is_call && slot(code, rel.offset + 8).is_none() {
        return Err(fail(RelocError::TruncatedLddw));
    }

    // The addend: the `imm` being relocated for REL entries, explicit for RELA ones (whose
    // instructions carry 0).
    let addend = rel.addend.unwrap_or(i64::from(insn.imm));

    if sym.is_undefined() && sym.is_global() {
        let ext = (r.extern_of)(rel.symbol).ok_or_else(|| fail(RelocError::UnknownExtern))?;
        let target = if is_call {
            RelocTarget::ExternCall(ext)
        } else {
            RelocTarget::ExternVar(ext)
        };
        return Ok((target, sym.name));
    }

    if is_call {
        if insn.opcode() != Some(Opcode::CallLocal) {
            return Err(fail(RelocError::WrongCall { src: insn.src }));
        }
        let (section, count) = code_target(r.elf, &sym).ok_or_else(|| fail(RelocError::NotCode))?;
        // libbpf: sub_insn_idx = sym_off / 8 + imm + 1.
        let target = i64::try_from(sym.value / 8).unwrap_or(i64::MAX) + i64::from(insn.imm) + 1;
        if sym.value % 8 != 0 || target < 0 || target as u64 >= count {
            return Err(fail(RelocError::TargetOutOfRange { target, count }));
        }
        return Ok((
            RelocTarget::Call {
                section,
                insn: target as u64,
            },
            sym.name,
        ));
    }

    let Some(section) = sym.section_index() else {
        return Err(fail(RelocError::UnknownTargetSection(format!(
            "{:?}",
            sym.section
        ))));
    };
    if let Some((code_sec, count)) = code_target(r.elf, &sym) {
        // libbpf: global function: st_value = offset, imm = 0; static: st_value = 0, imm = offset.
        let byte = sym.value as i128 + i128::from(addend);
        let target = (byte / 8) as i64;
        if byte % 8 != 0 || byte < 0 || target as u64 >= count {
            return Err(fail(RelocError::TargetOutOfRange { target, count }));
        }
        return Ok((
            RelocTarget::FuncAddr {
                section: code_sec,
                insn: target as u64,
            },
            sym.name,
        ));
    }
    if (r.is_maps)(section) {
        // libbpf takes the map at st_value. A map without a symbol of its own (a static legacy
        // map) is reached through the section symbol, with its offset in the addend.
        let offset = if sym.kind == SymbolKind::Section {
            sym.value.wrapping_add(addend as u64)
        } else {
            sym.value
        };
        let map =
            (r.map_at)(section, offset).ok_or_else(|| fail(RelocError::NoMapAt { offset }))?;
        return Ok((RelocTarget::Map(map), sym.name));
    }
    if let Some(data) = (r.data_at)(section) {
        let offset = sym.value.wrapping_add(addend as u64);
        return Ok((RelocTarget::Data { data, offset }, sym.name));
    }
    let name = r.elf.section(section).map_or("", |s| s.name);
    Err(fail(RelocError::UnknownTargetSection(name.to_string())))
}

/// The code section a symbol is in and its instruction count, if it is a function symbol, a
/// section symbol or an untyped symbol (old clang's functions) of a code section.
fn code_target(elf: &ElfFile<'_>, sym: &Symbol<'_>) -> Option<(SectionIndex, u64)> {
    let section = elf.section(sym.section_index()?)?;
    let is_function = matches!(
        sym.kind,
        SymbolKind::Func | SymbolKind::Section | SymbolKind::NoType
    );
    (section.is_code() && is_function).then_some((section.index, section.size / 8))
}

/// The raw slot at byte `offset` of `code`.
pub(crate) fn slot(code: &[u8], offset: u64) -> Option<RawInsn> {
    let start = usize::try_from(offset).ok()?;
    let bytes: [u8; 8] = code.get(start..start.checked_add(8)?)?.try_into().ok()?;
    Some(RawInsn::from_bytes(bytes))
}

const EMPTY_SYMBOL: Symbol<'static> = Symbol {
    index: SymbolIndex(0),
    name: "",
    value: 0,
    size: 0,
    kind: SymbolKind::NoType,
    binding: SymbolBinding::Local,
    visibility: 0,
    section: SymbolSection::Undefined,
    entry_offset: 0,
};
