//! The typed records of `.BTF.ext`.

use bpfkit_uapi::CoreReloKind;

use crate::TypeId;

/// A `bpf_func_info` record: where a function starts and its BTF FUNC.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FuncInfo {
    /// Byte offset of the function's first instruction in its ELF section (divide by 8 for
    /// the instruction index the kernel wants).
    pub insn_off: u32,
    /// The FUNC type.
    pub type_id: TypeId,
}

/// A `bpf_line_info` record: the source line an instruction comes from.
///
/// Strings are resolved through the `.BTF` string table. They are text up to the first byte
/// that is not UTF-8 (source lines are the one place such bytes turn up); the offsets give the
/// exact bytes through [`Btf::str_bytes`](crate::Btf::str_bytes).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LineInfo<'data> {
    /// Byte offset of the instruction in its ELF section.
    pub insn_off: u32,
    /// String offset of the file name.
    pub file_name_off: u32,
    /// The file name.
    pub file_name: &'data str,
    /// String offset of the source line's text.
    pub line_off: u32,
    /// The source line's text.
    pub line: &'data str,
    /// Line number (the upper 22 bits of `line_col`).
    pub line_num: u32,
    /// Column (the lower 10 bits of `line_col`).
    pub column: u32,
}

/// A `bpf_core_relo` record: a CO-RE relocation for one instruction.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CoreRelo<'data> {
    /// Byte offset of the instruction in its ELF section.
    pub insn_off: u32,
    /// The root type in the object's BTF.
    pub type_id: TypeId,
    /// String offset of the access string.
    pub access_str_off: u32,
    /// The access string (`0:1:2`: member indices from the root type).
    pub access_str: &'data str,
    /// What to compute; always a kind [`CoreReloKind::is_known`] accepts, since
    /// [`BtfExt::parse`](crate::BtfExt::parse) rejects the others.
    pub kind: CoreReloKind,
}

/// The records of one ELF section (a program's code section) in one info section.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct InfoGroup<'data, R> {
    /// String offset of the ELF section's name.
    pub section_name_off: u32,
    /// The ELF section's name.
    pub section: &'data str,
    /// Absolute offset of the group header in `.BTF.ext`.
    pub offset: usize,
    /// The records, decoded.
    pub records: Vec<R>,
}

/// One info section (func_info, line_info or core_relo): its record size and groups.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct InfoSection<'data, R> {
    /// Bytes per record as the data says (at least the known fields).
    pub record_size: u32,
    /// Groups in order.
    pub groups: Vec<InfoGroup<'data, R>>,
}

impl<R> Default for InfoSection<'_, R> {
    fn default() -> Self {
        InfoSection {
            record_size: 0,
            groups: Vec::new(),
        }
    }
}

impl<'data, R> InfoSection<'data, R> {
    /// The group for ELF section `name`.
    pub fn group(&self, name: &str) -> Option<&InfoGroup<'data, R>> {
        self.groups.iter().find(|g| g.section == name)
    }

    /// Every record with its section name.
    pub fn records(&self) -> impl Iterator<Item = (&'data str, &R)> + '_ {
        self.groups
            .iter()
            .flat_map(|g| g.records.iter().map(move |r| (g.section, r)))
    }
}
