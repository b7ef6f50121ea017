//! `enum bpf_core_relo_kind`: what a CO-RE relocation record asks the loader to compute.

use crate::macros::uapi_enum;

uapi_enum! {
    /// A CO-RE relocation kind (`enum bpf_core_relo_kind` of `include/uapi/linux/bpf.h`), as
    /// found in `.BTF.ext` core_relo records; short names are libbpf's `core_relo_kind_str`.
    ///
    /// ```
    /// use bpfkit_uapi::CoreReloKind;
    /// assert_eq!(CoreReloKind::FIELD_EXISTS.0, 2);
    /// assert_eq!(CoreReloKind::FIELD_EXISTS.to_string(), "BPF_CORE_FIELD_EXISTS");
    /// assert_eq!(format!("{:#}", CoreReloKind::FIELD_BYTE_OFFSET), "byte_off");
    /// assert!(CoreReloKind::FIELD_SIGNED.is_field_based());
    /// ```
    CoreReloKind(u32), prefix = "BPF_CORE_", kind = "CO-RE relocation kind" {
        /// Byte offset of a field.
        FIELD_BYTE_OFFSET = 0 => "byte_off",
        /// Size of a field in bytes.
        FIELD_BYTE_SIZE = 1 => "byte_sz",
        /// Whether a field exists in the target.
        FIELD_EXISTS = 2 => "field_exists",
        /// Whether a field is signed (1) or not (0).
        FIELD_SIGNED = 3 => "signed",
        /// Left shift that brings a bitfield to the top of a `u64`.
        FIELD_LSHIFT_U64 = 4 => "lshift_u64",
        /// Right shift that brings a bitfield down from the top of a `u64`.
        FIELD_RSHIFT_U64 = 5 => "rshift_u64",
        /// Type id in the local (object's) BTF.
        TYPE_ID_LOCAL = 6 => "local_type_id",
        /// Type id in the target (kernel's) BTF.
        TYPE_ID_TARGET = 7 => "target_type_id",
        /// Whether a type exists in the target.
        TYPE_EXISTS = 8 => "type_exists",
        /// Size of a type in bytes.
        TYPE_SIZE = 9 => "type_size",
        /// Whether an enumerator exists in the target.
        ENUMVAL_EXISTS = 10 => "enumval_exists",
        /// Integer value of an enumerator.
        ENUMVAL_VALUE = 11 => "enumval_value",
        /// Whether a type matches the target's (stricter than exists).
        TYPE_MATCHES = 12 => "type_matches",
    }
    aliases {}
}

impl CoreReloKind {
    /// Whether the record's access string names a field (offset, size, exists, signed, shifts).
    pub const fn is_field_based(self) -> bool {
        self.0 <= 5
    }

    /// Whether the record is about a whole type (ids, exists, size, matches).
    pub const fn is_type_based(self) -> bool {
        matches!(self.0, 6..=9 | 12)
    }

    /// Whether the record is about an enumerator (exists, value).
    pub const fn is_enumval_based(self) -> bool {
        matches!(self.0, 10 | 11)
    }
}
