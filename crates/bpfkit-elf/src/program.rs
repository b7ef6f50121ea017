//! Programs and subprograms: the functions of code sections (FUNC symbols, or what old clang
//! wrote instead), their bytes, calls and relocations, and their program type from the section
//! name (libbpf's table).

use bpfkit_isa::{Decoder, Insn, Opcode};
use bpfkit_uapi::{AttachType, ProgType, ProgramSection};

use crate::btf_ext::{CoreRelo, FuncInfo, LineInfo};
use crate::elf::{ElfFile, Section, Symbol, SymbolBinding, SymbolKind};
use crate::error::{ElfError, ErrorKind, Result};
use crate::reloc::{CodeRelocation, slot};
use crate::warning::{Warning, WarningKind};
use crate::{SectionIndex, SymbolIndex};

/// A function: the code of one FUNC symbol, an entry point or a subprogram.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Function<'data> {
    /// The symbol's name (the section's name for a section no symbol names).
    pub name: &'data str,
    /// The FUNC symbol (in objects of clang before 8: the NOTYPE symbol, or the section symbol
    /// of a section that is one function; the null symbol 0 if there is none).
    pub symbol: SymbolIndex,
    /// The code section.
    pub section: SectionIndex,
    /// The code section's name (the `SEC("...")`).
    pub section_name: &'data str,
    /// Byte offset of the first instruction in the section (`st_value`).
    pub offset: u64,
    /// The instructions' bytes (`st_size` of them; for a symbol without a size, up to the next
    /// function or the end of the section).
    pub code: &'data [u8],
    /// Absolute offset of `code` in the file.
    pub file_offset: u64,
    /// The symbol's binding: `Local` for `static` functions.
    pub binding: SymbolBinding,
    /// The symbol's visibility (`STV_*`): hidden global functions are verified like static ones.
    pub visibility: u8,
    /// Resolved relocations in this function, by instruction.
    pub relocations: Vec<CodeRelocation<'data>>,
    /// Every bpf-to-bpf call (`call` with `src` = `BPF_PSEUDO_CALL`), relocated or not.
    pub calls: Vec<Call>,
    /// `.BTF.ext` func_info records, instruction offsets relative to this function.
    pub func_info: Vec<FuncInfo>,
    /// `.BTF.ext` line_info records, instruction offsets relative to this function.
    pub line_info: Vec<LineInfo<'data>>,
    /// `.BTF.ext` CO-RE relocation records, instruction offsets relative to this function.
    pub core_relos: Vec<CoreRelo<'data>>,
}

impl<'data> Function<'data> {
    /// Number of 8-byte instruction slots (an `lddw` counts two).
    pub fn insn_count(&self) -> usize {
        self.code.len() / 8
    }

    /// Index of the first instruction within the section.
    pub fn first_insn(&self) -> u64 {
        self.offset / 8
    }

    /// Whether instruction `insn` of the section belongs to this function.
    pub fn contains(&self, section: SectionIndex, insn: u64) -> bool {
        section == self.section
            && insn >= self.first_insn()
            && insn - self.first_insn() < self.insn_count() as u64
    }

    /// Whether the symbol is global or weak (not `static`).
    pub fn is_global(&self) -> bool {
        matches!(self.binding, SymbolBinding::Global | SymbolBinding::Weak)
    }

    /// Decodes every instruction with its slot index; the error carries the absolute offset.
    pub fn decode(&self) -> Result<Vec<(usize, Insn)>> {
        Decoder::new(self.code)
            .map(|item| {
                item.map_err(|e| {
                    ElfError::new(self.file_offset + e.slot as u64 * 8, ErrorKind::Decode(e))
                })
            })
            .collect()
    }

    /// The relocation of the instruction at slot `insn`, if any.
    pub fn relocation_at(&self, insn: usize) -> Option<&CodeRelocation<'data>> {
        self.relocations.iter().find(|r| r.insn == insn)
    }
}

/// A bpf-to-bpf call instruction and its callee.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Call {
    /// Slot index of the call within the calling function.
    pub insn: usize,
    /// The callee's section.
    pub target_section: SectionIndex,
    /// The callee's instruction index in its section.
    pub target_insn: u64,
    /// Whether a relocation (`R_BPF_64_32`) gives the target (calls across sections, and to
    /// global functions), rather than `imm` alone.
    pub relocated: bool,
}

/// An entry point: a function in a code section other than `.text`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Program<'data> {
    /// The code.
    pub function: Function<'data>,
    /// The section name parsed with libbpf's table; `None` when no entry matches (libbpf then
    /// loads it as `BPF_PROG_TYPE_UNSPEC` and the kernel refuses it).
    pub section: Option<ProgramSection>,
}

impl<'data> Program<'data> {
    /// The program's name (its FUNC symbol).
    pub fn name(&self) -> &'data str {
        self.function.name
    }

    /// The section name.
    pub fn section_name(&self) -> &'data str {
        self.function.section_name
    }

    /// The program type from the section name (`BPF_PROG_TYPE_UNSPEC` if unknown).
    pub fn prog_type(&self) -> ProgType {
        self.section
            .as_ref()
            .map_or(ProgType::UNSPEC, |s| s.prog_type())
    }

    /// The expected attach type from the section name, if any.
    pub fn expected_attach_type(&self) -> Option<AttachType> {
        self.section.as_ref().and_then(|s| s.expected_attach_type())
    }

    /// The attach target the section name carries (`kprobe/do_unlinkat` → `do_unlinkat`).
    pub fn attach_target(&self) -> Option<&str> {
        self.section.as_ref().and_then(|s| s.attach_target())
    }

    /// Whether the section name marks the program sleepable.
    pub fn is_sleepable(&self) -> bool {
        self.section.as_ref().is_some_and(|s| s.is_sleepable())
    }
}

/// Where a function starts and what names it, before its bytes are cut out.
struct Start<'data> {
    name: &'data str,
    symbol: SymbolIndex,
    value: u64,
    size: u64,
    binding: SymbolBinding,
    visibility: u8,
    /// Whether a FUNC symbol names it (clang 8 and later); old clang wrote NOTYPE symbols.
    typed: bool,
    entry_offset: u64,
}

/// The functions of every code section, in section order and then by offset.
///
/// A function starts at each FUNC symbol. Objects from clang before 8 have none: there a global
/// NOTYPE symbol starts a function (cilium/ebpf's rule; local NOTYPE symbols are jump labels),
/// and a section with no such symbol either is one function, named by a local symbol at its
/// start or else by the section (the section-per-program objects PREVAIL's corpus holds).
/// Functions without a FUNC symbol get a warning: libbpf does not see them.
pub(crate) fn collect_functions<'data>(
    elf: &ElfFile<'data>,
    warnings: &mut Vec<Warning>,
) -> Result<Vec<Function<'data>>> {
    let mut all = Vec::new();
    for section in elf.sections().iter().filter(|s| s.is_code() && s.size > 0) {
        let mut starts = function_starts(elf, section);
        starts.sort_by_key(|s| (s.value, s.symbol));
        for (i, start) in starts.iter().enumerate() {
            let size = if start.size == 0 {
                // No size (hand-written assembly, old clang): up to the next function or the end.
                let next = starts[i + 1..]
                    .iter()
                    .map(|s| s.value)
                    .find(|&v| v > start.value)
                    .unwrap_or(section.size);
                next.saturating_sub(start.value)
            } else {
                start.size
            };
            let error =
                |kind| ElfError::in_section(start.entry_offset, section.index, section.name, kind);
            if start
                .value
                .checked_add(size)
                .is_none_or(|end| end > section.size)
            {
                return Err(error(ErrorKind::FunctionOutOfBounds {
                    name: start.name.to_string(),
                    start: start.value,
                    size,
                    section_size: section.size,
                }));
            }
            if start.value % 8 != 0 || size % 8 != 0 {
                return Err(error(ErrorKind::MisalignedFunction {
                    name: start.name.to_string(),
                    start: start.value,
                    size,
                }));
            }
            if !start.typed {
                warnings.push(Warning::new(
                    start.entry_offset,
                    Some((section.index, section.name)),
                    WarningKind::UntypedFunction {
                        name: start.name.to_string(),
                    },
                ));
            }
            let (begin, end) = (start.value as usize, (start.value + size) as usize);
            all.push(Function {
                name: start.name,
                symbol: start.symbol,
                section: section.index,
                section_name: section.name,
                offset: start.value,
                code: &section.data[begin..end],
                file_offset: section.offset + start.value,
                binding: start.binding,
                visibility: start.visibility,
                relocations: Vec::new(),
                calls: Vec::new(),
                func_info: Vec::new(),
                line_info: Vec::new(),
                core_relos: Vec::new(),
            });
        }
    }
    Ok(all)
}

/// The symbols that start functions in code section `section` (see [`collect_functions`]).
fn function_starts<'data>(elf: &ElfFile<'data>, section: &Section<'data>) -> Vec<Start<'data>> {
    let in_section: Vec<&Symbol<'data>> = elf
        .symbols()
        .iter()
        .filter(|s| s.section_index() == Some(section.index) && !s.name.is_empty())
        .collect();
    let start = |sym: &Symbol<'data>, typed| Start {
        name: sym.name,
        symbol: sym.index,
        value: sym.value,
        size: sym.size,
        binding: sym.binding,
        visibility: sym.visibility,
        typed,
        entry_offset: sym.entry_offset,
    };
    let funcs: Vec<Start<'data>> = in_section
        .iter()
        .filter(|s| s.kind == SymbolKind::Func)
        .map(|s| start(s, true))
        .collect();
    if !funcs.is_empty() {
        return funcs;
    }
    let globals: Vec<Start<'data>> = in_section
        .iter()
        .filter(|s| s.kind == SymbolKind::NoType && s.is_global())
        .map(|s| start(s, false))
        .collect();
    if !globals.is_empty() {
        return globals;
    }
    // One function for the whole section.
    let section_symbol = in_section.iter().find(|s| s.kind == SymbolKind::Section);
    let named = in_section
        .iter()
        .find(|s| s.kind == SymbolKind::NoType && s.value == 0);
    let mut whole = match (named, section_symbol) {
        (Some(sym), _) => start(sym, false),
        // A section symbol's binding is not the function's: it has none.
        (None, Some(sym)) => Start {
            binding: SymbolBinding::Global,
            ..start(sym, false)
        },
        (None, None) => Start {
            name: section.name,
            symbol: SymbolIndex(0),
            value: 0,
            size: 0,
            binding: SymbolBinding::Global,
            visibility: 0,
            typed: false,
            entry_offset: section.header_offset,
        },
    };
    whole.value = 0;
    whole.size = section.size;
    vec![whole]
}

/// Every `call` with `src` = `BPF_PSEUDO_CALL` in `func`: targets from its relocation when it
/// has one, else from `imm` relative to the next instruction in the same section.
pub(crate) fn find_calls(func: &mut Function<'_>, section: &Section<'_>) {
    let mut calls = Vec::new();
    let mut at = 0usize;
    while let Some(insn) = slot(func.code, at as u64 * 8) {
        let width = if insn.is_lddw() { 2 } else { 1 };
        if insn.opcode() == Some(Opcode::CallLocal) {
            let relocated = func.relocations.iter().find(|r| r.insn == at);
            let target = match relocated.map(|r| r.target) {
                Some(crate::RelocTarget::Call { section, insn }) => Some((section, insn, true)),
                // A kfunc (extern) call: not a bpf-to-bpf call.
                Some(_) => None,
                None => {
                    let t = (func.first_insn() + at as u64) as i64 + i64::from(insn.imm) + 1;
                    (t >= 0 && (t as u64) < section.size / 8).then_some((
                        func.section,
                        t as u64,
                        false,
                    ))
                }
            };
            if let Some((target_section, target_insn, relocated)) = target {
                calls.push(Call {
                    insn: at,
                    target_section,
                    target_insn,
                    relocated,
                });
            }
        }
        at += width;
    }
    func.calls = calls;
}
