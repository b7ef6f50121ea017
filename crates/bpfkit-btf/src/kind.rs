//! The kernel's BTF constants: kinds, integer encodings, linkages.
//!
//! Kinds are declared once in [`btf_kinds!`] with their number and the name bpftool prints;
//! the enum, the number conversions and `Display` are generated from that one list.

use std::fmt;

/// Declares the BTF kinds: `Variant = number, "BPFTOOL_NAME", record layout;`.
macro_rules! btf_kinds {
    ($( $(#[$doc:meta])* $variant:ident = $value:literal, $name:literal, $layout:expr; )*) => {
        /// The kind of a BTF type (`BTF_KIND_*` in `include/uapi/linux/btf.h`).
        ///
        /// Kind 0 (`BTF_KIND_UNKN`) never appears in a type record; id 0 is void.
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
        #[repr(u8)]
        pub enum Kind {
            $( $(#[$doc])* $variant = $value, )*
        }

        impl Kind {
            /// Every kind, in number order.
            pub const ALL: &'static [Kind] = &[$(Kind::$variant),*];

            /// The kind with this number, if it is one this crate knows.
            pub const fn from_u8(value: u8) -> Option<Kind> {
                match value {
                    $( $value => Some(Kind::$variant), )*
                    _ => None,
                }
            }

            /// The name bpftool prints (`INT`, `FUNC_PROTO`, ...).
            pub const fn name(self) -> &'static str {
                match self {
                    $( Kind::$variant => $name, )*
                }
            }

            /// What follows the 12-byte `struct btf_type` for this kind.
            pub const fn layout(self) -> RecordLayout {
                match self {
                    $( Kind::$variant => $layout, )*
                }
            }
        }
    };
}

/// What follows the common 12-byte header of a type record: a fixed part and `vlen` elements.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RecordLayout {
    /// Bytes of the single element after the header (`btf_array`, `btf_var`, ...).
    pub info_size: u32,
    /// Bytes of each of the `vlen` elements (`btf_member`, `btf_param`, ...).
    pub elem_size: u32,
}

const fn layout(info_size: u32, elem_size: u32) -> RecordLayout {
    RecordLayout {
        info_size,
        elem_size,
    }
}

btf_kinds! {
    /// An integer: size, encoding, bit offset and bit count follow.
    Int = 1, "INT", layout(4, 0);
    /// A pointer.
    Ptr = 2, "PTR", layout(0, 0);
    /// An array: element type, index type and element count follow.
    Array = 3, "ARRAY", layout(12, 0);
    /// A struct: `vlen` members follow.
    Struct = 4, "STRUCT", layout(0, 12);
    /// A union: `vlen` members follow.
    Union = 5, "UNION", layout(0, 12);
    /// An enum with 32-bit values; `kind_flag` says signed.
    Enum = 6, "ENUM", layout(0, 8);
    /// A forward declaration; `kind_flag` says union.
    Fwd = 7, "FWD", layout(0, 0);
    /// A typedef.
    Typedef = 8, "TYPEDEF", layout(0, 0);
    /// The `volatile` modifier.
    Volatile = 9, "VOLATILE", layout(0, 0);
    /// The `const` modifier.
    Const = 10, "CONST", layout(0, 0);
    /// The `restrict` modifier.
    Restrict = 11, "RESTRICT", layout(0, 0);
    /// A function: its prototype, linkage in `vlen`.
    Func = 12, "FUNC", layout(0, 0);
    /// A function prototype: `vlen` parameters follow.
    FuncProto = 13, "FUNC_PROTO", layout(0, 8);
    /// A variable: its linkage follows.
    Var = 14, "VAR", layout(4, 0);
    /// A data section: `vlen` variable placements follow.
    Datasec = 15, "DATASEC", layout(0, 12);
    /// A floating-point type.
    Float = 16, "FLOAT", layout(0, 0);
    /// A declaration tag (`btf_decl_tag`): the component index follows.
    DeclTag = 17, "DECL_TAG", layout(4, 0);
    /// A type tag (`btf_type_tag`).
    TypeTag = 18, "TYPE_TAG", layout(0, 0);
    /// An enum with 64-bit values; `kind_flag` says signed.
    Enum64 = 19, "ENUM64", layout(0, 12);
}

impl Kind {
    /// Whether the third header word is a size (else it is a type id, or unused for FWD).
    pub const fn has_size(self) -> bool {
        matches!(
            self,
            Kind::Int
                | Kind::Struct
                | Kind::Union
                | Kind::Enum
                | Kind::Datasec
                | Kind::Float
                | Kind::Enum64
        )
    }

    /// Whether the third header word is a type id.
    pub const fn has_type(self) -> bool {
        !self.has_size() && !matches!(self, Kind::Fwd)
    }

    /// Whether `vlen` counts trailing elements (FUNC keeps its linkage there instead).
    pub const fn has_members(self) -> bool {
        self.layout().elem_size != 0
    }

    /// Whether `kind_flag` carries meaning; the kernel rejects it set on other kinds.
    pub const fn uses_kind_flag(self) -> bool {
        matches!(
            self,
            Kind::Struct
                | Kind::Union
                | Kind::Enum
                | Kind::Fwd
                | Kind::DeclTag
                | Kind::TypeTag
                | Kind::Enum64
        )
    }

    /// Modifiers in libbpf's sense (`btf_is_mod`): volatile, const, restrict and type tags.
    pub const fn is_modifier(self) -> bool {
        matches!(
            self,
            Kind::Volatile | Kind::Const | Kind::Restrict | Kind::TypeTag
        )
    }
}

impl fmt::Display for Kind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// The 4-bit encoding of an INT (`BTF_INT_ENCODING`): signed, char, bool, or none.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
pub struct IntEncoding(pub u8);

impl IntEncoding {
    /// No encoding bits: an unsigned integer.
    pub const NONE: IntEncoding = IntEncoding(0);
    /// `BTF_INT_SIGNED`.
    pub const SIGNED: IntEncoding = IntEncoding(1);
    /// `BTF_INT_CHAR`.
    pub const CHAR: IntEncoding = IntEncoding(2);
    /// `BTF_INT_BOOL`.
    pub const BOOL: IntEncoding = IntEncoding(4);

    /// Whether the signed bit is set.
    pub const fn is_signed(self) -> bool {
        self.0 & 1 != 0
    }

    /// The word bpftool prints: `(none)`, `SIGNED`, `CHAR`, `BOOL`, or `UNKN` for combinations.
    pub const fn name(self) -> &'static str {
        match self.0 {
            0 => "(none)",
            1 => "SIGNED",
            2 => "CHAR",
            4 => "BOOL",
            _ => "UNKN",
        }
    }
}

impl fmt::Display for IntEncoding {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Linkage of a FUNC (kept in its `vlen`) or of a VAR (`btf_var.linkage`).
///
/// The numbers coincide for both (`BTF_FUNC_*`, `BTF_VAR_*`): static 0, global 1, extern 2.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Linkage {
    /// Visible in its compilation unit only.
    Static,
    /// Defined here and visible to others (`BTF_VAR_GLOBAL_ALLOCATED` for variables).
    Global,
    /// Declared here, defined elsewhere.
    Extern,
    /// A value the format does not define yet.
    Other(u32),
}

impl Linkage {
    /// The linkage with this number.
    pub const fn from_u32(value: u32) -> Linkage {
        match value {
            0 => Linkage::Static,
            1 => Linkage::Global,
            2 => Linkage::Extern,
            v => Linkage::Other(v),
        }
    }

    /// The number stored in the data.
    pub const fn to_u32(self) -> u32 {
        match self {
            Linkage::Static => 0,
            Linkage::Global => 1,
            Linkage::Extern => 2,
            Linkage::Other(v) => v,
        }
    }

    /// The word bpftool prints: `static`, `global`, `extern`, or `(unknown)`.
    pub const fn name(self) -> &'static str {
        match self {
            Linkage::Static => "static",
            Linkage::Global => "global",
            Linkage::Extern => "extern",
            Linkage::Other(_) => "(unknown)",
        }
    }
}

impl fmt::Display for Linkage {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kind_numbers_match_uapi() {
        // Numbers from include/uapi/linux/btf.h.
        assert_eq!(Kind::Int as u8, 1);
        assert_eq!(Kind::FuncProto as u8, 13);
        assert_eq!(Kind::Enum64 as u8, 19);
        assert_eq!(Kind::from_u8(0), None);
        assert_eq!(Kind::from_u8(20), None);
        for &k in Kind::ALL {
            assert_eq!(Kind::from_u8(k as u8), Some(k));
        }
    }

    #[test]
    fn layouts_match_libbpf_table() {
        // libbpf's `layouts[]` in btf.c.
        assert_eq!(Kind::Int.layout(), layout(4, 0));
        assert_eq!(Kind::Array.layout(), layout(12, 0));
        assert_eq!(Kind::Enum.layout(), layout(0, 8));
        assert_eq!(Kind::Enum64.layout(), layout(0, 12));
        assert_eq!(Kind::DeclTag.layout(), layout(4, 0));
    }
}
