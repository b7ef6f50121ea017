//! The one error type of the crate: what is wrong, at which absolute byte offset of the file, and
//! in which section when there is one (model: wasmparser's `BinaryReaderError`).

use core::fmt;

use bpfkit_btf::BtfError;
use bpfkit_isa::DecodeError;

use crate::SectionIndex;

/// Why an ELF object could not be read.
///
/// `offset` is an absolute byte offset into the file: the header field, table entry or record
/// at fault. `section` names the section involved, when there is one.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub struct ElfError {
    /// Absolute byte offset in the file of the field, entry or record at fault.
    pub offset: u64,
    /// The section involved (index and name), if any.
    pub section: Option<(SectionIndex, String)>,
    /// What is wrong.
    pub kind: ErrorKind,
}

impl ElfError {
    /// An error at `offset`, outside any section.
    pub fn new(offset: u64, kind: ErrorKind) -> ElfError {
        ElfError {
            offset,
            section: None,
            kind,
        }
    }

    /// An error at `offset` in section `index` named `name`.
    pub fn in_section(
        offset: u64,
        index: SectionIndex,
        name: impl Into<String>,
        kind: ErrorKind,
    ) -> ElfError {
        ElfError {
            offset,
            section: Some((index, name.into())),
            kind,
        }
    }
}

impl fmt::Display for ElfError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "at offset {:#x}", self.offset)?;
        if let Some((index, name)) = &self.section {
            write!(f, " (section {index} '{name}')")?;
        }
        write!(f, ": {}", self.kind)
    }
}

/// What is wrong with an ELF object.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ErrorKind {
    /// The file ends inside a structure.
    #[error("truncated {what}: {need} bytes needed, {have} left")]
    Truncated {
        /// What was being read.
        what: &'static str,
        /// Bytes needed.
        need: u64,
        /// Bytes left in the file (or section) from the offset.
        have: u64,
    },
    /// The first four bytes are not `\x7fELF`.
    #[error("not an ELF file (bad magic)")]
    BadMagic,
    /// A header field has a value this reader does not accept.
    #[error("bad {field} {value:#x}: {expected}")]
    BadField {
        /// The field's name (`e_machine`, `sh_entsize`, ...).
        field: &'static str,
        /// The value found.
        value: u64,
        /// What was expected.
        expected: &'static str,
    },
    /// Something valid ELF may contain that this reader does not support.
    #[error("unsupported: {0}")]
    Unsupported(&'static str),
    /// A section's bytes lie (partly) outside the file.
    #[error("section data {start:#x}+{size:#x} is outside the file ({file_len:#x} bytes)")]
    SectionOutOfBounds {
        /// `sh_offset`.
        start: u64,
        /// `sh_size`.
        size: u64,
        /// The file's length.
        file_len: u64,
    },
    /// A table's size is not a whole number of entries.
    #[error("size {size:#x} is not a multiple of the entry size {entsize}")]
    OddSize {
        /// The section's size.
        size: u64,
        /// The entry size.
        entsize: u64,
    },
    /// A section index that is not in the section header table.
    #[error("section index {index} out of range ({count} sections)")]
    BadSectionIndex {
        /// The index found.
        index: u64,
        /// Number of sections.
        count: usize,
    },
    /// A symbol index that is not in the symbol table.
    #[error("symbol index {index} out of range ({count} symbols)")]
    BadSymbolIndex {
        /// The index found.
        index: u64,
        /// Number of symbols.
        count: usize,
    },
    /// A string table offset past the end of the table, or a string without its NUL.
    #[error(
        "string offset {offset:#x} is outside the string table ({size:#x} bytes) or unterminated"
    )]
    BadStringOffset {
        /// The offset found.
        offset: u64,
        /// The table's size.
        size: u64,
    },
    /// A name or license that is not UTF-8.
    #[error("{what} is not UTF-8")]
    NotUtf8 {
        /// What was being read.
        what: &'static str,
    },
    /// No `.symtab` section: programs cannot be found without FUNC symbols.
    #[error("no symbol table (stripped object?)")]
    MissingSymbolTable,
    /// More than one symbol table.
    #[error("more than one symbol table")]
    MultipleSymbolTables,
    /// A function's `[st_value, st_value + st_size)` is not inside its section.
    #[error(
        "function '{name}' at {start:#x}+{size:#x} crosses the end of its section ({section_size:#x} bytes)"
    )]
    FunctionOutOfBounds {
        /// The function's name.
        name: String,
        /// `st_value`.
        start: u64,
        /// `st_size`.
        size: u64,
        /// The section's size.
        section_size: u64,
    },
    /// A function that does not start on an instruction boundary or is not whole instructions.
    #[error("function '{name}' at {start:#x}+{size:#x} is not made of whole 8-byte instructions")]
    MisalignedFunction {
        /// The function's name.
        name: String,
        /// `st_value`.
        start: u64,
        /// `st_size`.
        size: u64,
    },
    /// A relocation whose offset is outside its target section.
    #[error("relocation at {r_offset:#x} is outside its target section ({size:#x} bytes)")]
    RelocationOutOfBounds {
        /// `r_offset`.
        r_offset: u64,
        /// The target section's size.
        size: u64,
    },
    /// A relocation the loader could not apply (libbpf's `bpf_program__record_reloc` rules).
    #[error("relocation against '{symbol}' at instruction {insn}: {reason}")]
    BadRelocation {
        /// The symbol's name.
        symbol: String,
        /// Instruction index in the section.
        insn: u64,
        /// Why.
        reason: RelocError,
    },
    /// A map definition that could not be read.
    #[error("map '{map}': {reason}")]
    BadMap {
        /// The map's name.
        map: String,
        /// Why.
        reason: MapError,
    },
    /// The `version` section is not 4 bytes.
    #[error("version section is {size} bytes, not 4")]
    BadVersion {
        /// Its size.
        size: u64,
    },
    /// An extern symbol (undefined) the object's BTF does not describe.
    #[error("extern '{name}': {reason}")]
    BadExtern {
        /// The symbol's name.
        name: String,
        /// Why.
        reason: &'static str,
    },
    /// The `.BTF` or `.BTF.ext` section could not be parsed (offsets in `source` are relative to
    /// the section; [`ElfError::offset`] is absolute).
    #[error("{section}: {source}")]
    Btf {
        /// `.BTF` or `.BTF.ext`.
        section: &'static str,
        /// The BTF parser's error.
        source: BtfError,
    },
    /// An instruction could not be decoded.
    #[error("{0}")]
    Decode(DecodeError),
}

/// Why a relocation in code cannot be applied.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum RelocError {
    /// `r_offset` is not a multiple of 8.
    #[error("offset is not on an instruction boundary")]
    Misaligned,
    /// The instruction is neither a call nor a 64-bit immediate load.
    #[error("instruction with opcode {code:#04x} cannot be relocated")]
    WrongInstruction {
        /// The opcode byte found.
        code: u8,
    },
    /// A `lddw` at the last slot of its section.
    #[error("lddw is missing its second slot")]
    TruncatedLddw,
    /// A call against a defined symbol that is not a bpf-to-bpf call (`src` = 1).
    #[error("call with src {src} is not a bpf-to-bpf call")]
    WrongCall {
        /// The instruction's `src` field.
        src: u8,
    },
    /// A call or function address not pointing to a code section.
    #[error("target is not in a code section")]
    NotCode,
    /// A call or function address not on an instruction of its section.
    #[error("target instruction {target} is outside its section ({count} instructions)")]
    TargetOutOfRange {
        /// The computed instruction index.
        target: i64,
        /// Number of instructions in the target section.
        count: u64,
    },
    /// A reference into the maps section where no map starts.
    #[error("no map at offset {offset:#x} of the maps section")]
    NoMapAt {
        /// `st_value + imm`.
        offset: u64,
    },
    /// A reference to a section that is neither code, maps nor global data.
    #[error("target section '{0}' is neither code, maps nor global data")]
    UnknownTargetSection(String),
    /// An undefined symbol that is not a known extern.
    #[error("undefined symbol is not a known extern")]
    UnknownExtern,
}

/// Why a map definition cannot be read.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum MapError {
    /// A `.maps` section but no `.BTF` to describe it.
    #[error(".maps section requires BTF")]
    NoBtf,
    /// No DATASEC `.maps` in the BTF.
    #[error("BTF has no DATASEC '.maps'")]
    NoDatasec,
    /// No global symbol in the section names the map's variable.
    #[error("no global symbol of that name in the section")]
    NoSymbol,
    /// The map's variable is not a struct.
    #[error("map definition must be a struct, found {0}")]
    NotStruct(String),
    /// A field whose type is not `int (*)[N]` (`__uint`).
    #[error("field '{0}' is not __uint(...) (a pointer to an array)")]
    NotUint(&'static str),
    /// A field whose type is not a pointer (`__type`).
    #[error("field '{0}' is not __type(...) (a pointer)")]
    NotPointer(&'static str),
    /// A field this reader does not know (libbpf rejects them too).
    #[error("unknown field '{0}'")]
    UnknownField(String),
    /// Two fields giving different values for one property.
    #[error("conflicting {field}: {first} vs {second}")]
    Conflict {
        /// The property.
        field: &'static str,
        /// The first value.
        first: u64,
        /// The second value.
        second: u64,
    },
    /// `values` is not `__array(values, ...)` of the right shape.
    #[error("bad 'values' field: {0}")]
    BadValues(&'static str),
    /// Map-in-map nesting deeper than one inner map.
    #[error("inner map definitions nest too deep")]
    TooDeep,
    /// A BTF type-graph question failed (a size of an unsized type, a cycle, ...).
    #[error("{0}")]
    Btf(BtfError),
    /// The map's symbol or variable is not inside its section.
    #[error(
        "definition at {offset:#x}+{size:#x} crosses the end of the section ({section_size:#x} bytes)"
    )]
    OutOfBounds {
        /// Offset in the section.
        offset: u64,
        /// Size of the definition.
        size: u64,
        /// The section's size.
        section_size: u64,
    },
    /// Legacy `maps` section: symbols without a size, and a section that is not a whole number
    /// of equal definitions.
    #[error("legacy map symbols have no size and the section is not {0}-byte definitions")]
    BadLegacySize(u64),
    /// An initial value (`.values = { ... }`) that is not a program or map of this object.
    #[error("initial value at slot {slot}: {reason}")]
    BadInitialValue {
        /// The slot index.
        slot: u64,
        /// Why.
        reason: &'static str,
    },
}

/// Shorthand for results of this crate.
pub type Result<T, E = ElfError> = core::result::Result<T, E>;
