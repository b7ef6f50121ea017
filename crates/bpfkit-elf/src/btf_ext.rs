//! `.BTF.ext` records (parsed by `bpfkit-btf`) split per function: func_info, line_info and
//! CO-RE relocations are grouped per ELF section with byte offsets in that section; each
//! function gets the records inside its byte range, with instruction indices relative to its
//! first instruction (what `BPF_PROG_LOAD` wants once the function is a program).

use bpfkit_btf::TypeId;
use bpfkit_btf::ext::{BtfExt, InfoSection};
use bpfkit_uapi::CoreReloKind;

use crate::program::Function;

/// A `bpf_func_info` record of one function.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FuncInfo {
    /// Instruction index relative to the function's first instruction.
    pub insn: usize,
    /// The BTF FUNC.
    pub type_id: TypeId,
}

/// A `bpf_line_info` record of one function.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LineInfo<'data> {
    /// Instruction index relative to the function's first instruction.
    pub insn: usize,
    /// The source file's name.
    pub file_name: &'data str,
    /// Offset of the file name in the BTF string table (what `BPF_PROG_LOAD` takes).
    pub file_name_off: u32,
    /// The source line's text.
    pub line: &'data str,
    /// Offset of the line's text in the BTF string table.
    pub line_off: u32,
    /// Line number.
    pub line_num: u32,
    /// Column.
    pub column: u32,
}

/// A `bpf_core_relo` record of one function.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CoreRelo<'data> {
    /// Instruction index relative to the function's first instruction.
    pub insn: usize,
    /// The root type in the object's BTF.
    pub type_id: TypeId,
    /// The access string (`0:1:2`).
    pub access_str: &'data str,
    /// What to compute.
    pub kind: CoreReloKind,
}

/// Hands each function the records of its section that fall in its byte range.
pub(crate) fn attach<'data>(functions: &mut [&mut Function<'data>], ext: &BtfExt<'data>) {
    for func in functions.iter_mut() {
        func.func_info = records(
            &ext.func_info,
            func,
            |r| r.insn_off,
            |insn, r| FuncInfo {
                insn,
                type_id: r.type_id,
            },
        );
        func.line_info = records(
            &ext.line_info,
            func,
            |r| r.insn_off,
            |insn, r| LineInfo {
                insn,
                file_name: r.file_name,
                file_name_off: r.file_name_off,
                line: r.line,
                line_off: r.line_off,
                line_num: r.line_num,
                column: r.column,
            },
        );
        func.core_relos = records(
            &ext.core_relos,
            func,
            |r| r.insn_off,
            |insn, r| CoreRelo {
                insn,
                type_id: r.type_id,
                access_str: r.access_str,
                kind: r.kind,
            },
        );
    }
}

fn records<'data, R, T>(
    section: &InfoSection<'data, R>,
    func: &Function<'data>,
    insn_off: impl Fn(&R) -> u32,
    make: impl Fn(usize, &R) -> T,
) -> Vec<T> {
    let start = func.offset;
    let end = func.offset + func.code.len() as u64;
    section
        .groups
        .iter()
        .filter(|g| g.section == func.section_name)
        .flat_map(|g| g.records.iter())
        .filter_map(|r| {
            let off = u64::from(insn_off(r));
            (off >= start && off < end).then(|| make(((off - start) / 8) as usize, r))
        })
        .collect()
}
