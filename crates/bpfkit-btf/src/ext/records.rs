//! The typed records of `.BTF.ext` and the CO-RE relocation kinds.

use std::fmt;

use crate::TypeId;

/// Declares the CO-RE relocation kinds: `Variant = number, "name", "libbpf short name";`.
macro_rules! core_relo_kinds {
    ($( $(#[$doc:meta])* $variant:ident = $value:literal, $name:literal, $short:literal; )*) => {
        /// What a CO-RE relocation asks the loader to compute (`enum bpf_core_relo_kind` of
        /// `include/uapi/linux/bpf.h`).
        ///
        /// `Display` prints the enumerator's name without its `BPF_CORE_` prefix, in lower
        /// case (`field_byte_offset`); [`CoreReloKind::libbpf_name`] is what libbpf's logs say.
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
        #[repr(u32)]
        pub enum CoreReloKind {
            $( $(#[$doc])* $variant = $value, )*
        }

        impl CoreReloKind {
            /// Every kind, in number order.
            pub const ALL: &'static [CoreReloKind] = &[$(CoreReloKind::$variant),*];

            /// The kind with this number, if it is one this crate knows.
            pub const fn from_u32(value: u32) -> Option<CoreReloKind> {
                match value {
                    $( $value => Some(CoreReloKind::$variant), )*
                    _ => None,
                }
            }

            /// The number stored in the record.
            pub const fn to_u32(self) -> u32 {
                self as u32
            }

            /// `field_byte_offset`, ...: the UAPI enumerator's name in lower case.
            pub const fn name(self) -> &'static str {
                match self {
                    $( CoreReloKind::$variant => $name, )*
                }
            }

            /// `byte_off`, ...: libbpf's `core_relo_kind_str()`.
            pub const fn libbpf_name(self) -> &'static str {
                match self {
                    $( CoreReloKind::$variant => $short, )*
                }
            }
        }
    };
}

core_relo_kinds! {
    /// Byte offset of a field.
    FieldByteOffset = 0, "field_byte_offset", "byte_off";
    /// Size of a field in bytes.
    FieldByteSize = 1, "field_byte_size", "byte_sz";
    /// Whether a field exists in the target.
    FieldExists = 2, "field_exists", "field_exists";
    /// Whether a field is signed.
    FieldSigned = 3, "field_signed", "signed";
    /// Left shift that brings a bitfield to the top of a `u64`.
    FieldLshiftU64 = 4, "field_lshift_u64", "lshift_u64";
    /// Right shift that brings a bitfield back down.
    FieldRshiftU64 = 5, "field_rshift_u64", "rshift_u64";
    /// Type id in the object's own BTF.
    TypeIdLocal = 6, "type_id_local", "local_type_id";
    /// Type id in the target (kernel) BTF.
    TypeIdTarget = 7, "type_id_target", "target_type_id";
    /// Whether a type exists in the target.
    TypeExists = 8, "type_exists", "type_exists";
    /// Size of a type in bytes.
    TypeSize = 9, "type_size", "type_size";
    /// Whether an enumerator exists in the target.
    EnumvalExists = 10, "enumval_exists", "enumval_exists";
    /// Value of an enumerator.
    EnumvalValue = 11, "enumval_value", "enumval_value";
    /// Whether a type matches the target's (stricter than exists).
    TypeMatches = 12, "type_matches", "type_matches";
}

impl fmt::Display for CoreReloKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

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
    /// What to compute.
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
