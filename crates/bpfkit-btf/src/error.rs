//! The one error type of the crate: what went wrong and the byte offset where.
//!
//! Offsets are absolute within the blob being read: the start of the `.BTF` data (or of the
//! `.BTF.ext` data for [`BtfExt`](crate::BtfExt)). A caller that took the blob out of an ELF
//! section adds the section's file offset with [`BtfError::with_base`].

use crate::Kind;

/// Why BTF or `.BTF.ext` data could not be read, or why a type-graph question has no answer.
///
/// Every variant that comes from the bytes carries `offset`: the absolute byte offset of the
/// field (or record) at fault. Variants raised for a type id the caller passed in carry none.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum BtfError {
    /// The data ends inside a structure.
    #[error("at offset {offset:#x}: truncated {what}: {need} bytes needed, {have} left")]
    Truncated {
        /// Where the structure starts.
        offset: usize,
        /// What was being read.
        what: &'static str,
        /// Bytes the structure needs.
        need: u64,
        /// Bytes left from `offset`.
        have: u64,
    },
    /// The first two bytes are not `0xeB9F` in either byte order.
    #[error("at offset {offset:#x}: bad magic {magic:#06x} (expected 0xeb9f)")]
    BadMagic {
        /// Offset of the magic field.
        offset: usize,
        /// The value found, read little-endian.
        magic: u16,
    },
    /// A format version other than 1.
    #[error("at offset {offset:#x}: unsupported version {version} (only 1 is defined)")]
    UnsupportedVersion {
        /// Offset of the version field.
        offset: usize,
        /// The version found.
        version: u8,
    },
    /// Non-zero header flags (none are defined).
    #[error("at offset {offset:#x}: unsupported header flags {flags:#x}")]
    UnsupportedFlags {
        /// Offset of the flags field.
        offset: usize,
        /// The flags found.
        flags: u8,
    },
    /// `hdr_len` is smaller than the fields every version has, or larger than the data.
    #[error("at offset {offset:#x}: bad header length {hdr_len} (need {min}..={max})")]
    BadHeaderLen {
        /// Offset of the `hdr_len` field.
        offset: usize,
        /// The value found.
        hdr_len: u32,
        /// The smallest accepted value.
        min: u32,
        /// The largest value the data allows.
        max: u64,
    },
    /// A section described by the header reaches past the end of the data.
    #[error(
        "at offset {offset:#x}: {section} section [{start:#x}, {end:#x}) is past the end of the data ({len:#x} bytes)"
    )]
    SectionOutOfBounds {
        /// Offset of the header field giving the section's offset.
        offset: usize,
        /// Which section.
        section: &'static str,
        /// Absolute start of the section.
        start: u64,
        /// Absolute end of the section.
        end: u64,
        /// Length of the data.
        len: usize,
    },
    /// Two sections described by the header share bytes.
    #[error("at offset {offset:#x}: {first} and {second} sections overlap")]
    SectionsOverlap {
        /// Offset of the header field giving the second section's offset.
        offset: usize,
        /// One section.
        first: &'static str,
        /// The other section.
        second: &'static str,
    },
    /// A section's offset or length breaks the alignment the format requires.
    #[error("at offset {offset:#x}: {section} section {what} {value} is not a multiple of 4")]
    Misaligned {
        /// Offset of the header field.
        offset: usize,
        /// Which section.
        section: &'static str,
        /// `offset` or `length`.
        what: &'static str,
        /// The value found.
        value: u32,
    },
    /// The string section is malformed (not NUL-terminated, empty, not starting with "").
    #[error("at offset {offset:#x}: bad string section: {reason}")]
    BadStringSection {
        /// Where the problem is.
        offset: usize,
        /// What is wrong.
        reason: &'static str,
    },
    /// A string offset points past the end of the string section.
    #[error(
        "at offset {offset:#x}: string offset {str_off} is past the end of the strings ({str_len} bytes)"
    )]
    StringOutOfRange {
        /// Offset of the field holding the string offset.
        offset: usize,
        /// The string offset.
        str_off: u32,
        /// Total length of the string sections (base included).
        str_len: u32,
    },
    /// A string is not valid UTF-8 (only raised when text is asked for; dumps use the bytes).
    #[error("at offset {offset:#x}: string is not valid UTF-8")]
    InvalidUtf8 {
        /// Absolute offset of the string.
        offset: usize,
    },
    /// A kind this crate does not know and the data does not describe in a layout section.
    #[error("at offset {offset:#x}: type [{type_id}] has unknown kind {kind}")]
    UnknownKind {
        /// Offset of the type record.
        offset: usize,
        /// Id the type would have.
        type_id: u32,
        /// The kind number.
        kind: u8,
    },
    /// Bits the format reserves (and the kernel rejects) are set.
    #[error("at offset {offset:#x}: type [{type_id}]: {what}")]
    ReservedBits {
        /// Offset of the field.
        offset: usize,
        /// Id of the type.
        type_id: u32,
        /// Which bits.
        what: &'static str,
    },
    /// A type's `vlen` asks for more records than the type section holds.
    #[error(
        "at offset {offset:#x}: type [{type_id}] has vlen {vlen}: {need} bytes needed, {have} left"
    )]
    VlenTooLarge {
        /// Offset of the type record.
        offset: usize,
        /// Id of the type.
        type_id: u32,
        /// The vlen found.
        vlen: u32,
        /// Bytes the records need.
        need: u64,
        /// Bytes left in the type section.
        have: u64,
    },
    /// A type id that names no type.
    #[error("at offset {offset:#x}: type id {type_id} is out of range (last id is {last_id})")]
    TypeIdOutOfRange {
        /// Offset of the field holding the id.
        offset: usize,
        /// The id found.
        type_id: u32,
        /// The largest valid id.
        last_id: u32,
    },
    /// More types than ids can number.
    #[error("at offset {offset:#x}: too many types")]
    TooManyTypes {
        /// Offset of the first type that has no id.
        offset: usize,
    },
    /// The optional layout section is malformed.
    #[error("at offset {offset:#x}: bad layout section: {reason}")]
    BadLayout {
        /// Where the problem is.
        offset: usize,
        /// What is wrong.
        reason: &'static str,
    },
    /// A type id given by the caller names no type.
    #[error("type id {type_id} is out of range")]
    NoSuchType {
        /// The id.
        type_id: u32,
    },
    /// Following references from a type comes back to it.
    #[error("at offset {offset:#x}: type [{type_id}] is part of a reference cycle")]
    Cycle {
        /// Offset of the type record where the cycle was noticed.
        offset: usize,
        /// Its id.
        type_id: u32,
    },
    /// Types nest deeper than the walk allows (a guard against stack exhaustion).
    #[error("at offset {offset:#x}: type [{type_id}] nests deeper than {limit} levels")]
    TooDeep {
        /// Offset of the type record where the limit was hit.
        offset: usize,
        /// Its id.
        type_id: u32,
        /// The limit.
        limit: usize,
    },
    /// The question needs a type of another kind (e.g. the size of a function).
    #[error("at offset {offset:#x}: type [{type_id}] is {found}, {expected}")]
    WrongKind {
        /// Offset of the type record.
        offset: usize,
        /// Its id.
        type_id: u32,
        /// What was needed.
        expected: &'static str,
        /// The kind found, or `None` for void.
        found: KindOrVoid,
    },
    /// A size does not fit in 64 bits (or, for C dumps, in what C can declare).
    #[error("at offset {offset:#x}: size of type [{type_id}] overflows")]
    SizeOverflow {
        /// Offset of the type record.
        offset: usize,
        /// Its id.
        type_id: u32,
    },
    /// A C dump would print more padding than a real struct has (a forged size).
    #[error(
        "at offset {offset:#x}: type [{type_id}] needs {bits} bits of padding, too many to print"
    )]
    PaddingTooLarge {
        /// Offset of the struct's record.
        offset: usize,
        /// Its id.
        type_id: u32,
        /// Bits of padding.
        bits: u64,
    },
    /// A `.BTF.ext` info section has a record size below the minimum or not a multiple of 4.
    #[error(
        "at offset {offset:#x}: {section} record size {record_size} is invalid (minimum {min}, multiple of 4)"
    )]
    BadRecordSize {
        /// Offset of the record size field.
        offset: usize,
        /// Which info section.
        section: &'static str,
        /// The size found.
        record_size: u32,
        /// The smallest size accepted.
        min: u32,
    },
    /// A `.BTF.ext` group that declares zero records (libbpf rejects these).
    #[error("at offset {offset:#x}: {section} group has no records")]
    EmptyGroup {
        /// Offset of the group header.
        offset: usize,
        /// Which info section.
        section: &'static str,
    },
    /// A CO-RE relocation kind this crate does not know.
    #[error("at offset {offset:#x}: unknown CO-RE relocation kind {kind}")]
    UnknownCoreReloKind {
        /// Offset of the kind field.
        offset: usize,
        /// The kind found.
        kind: u32,
    },
}

/// A BTF kind, or void (type id 0), for error messages.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KindOrVoid {
    /// Type id 0.
    Void,
    /// A real type of this kind.
    Kind(Kind),
    /// A kind only the layout section describes.
    Unknown(u8),
}

impl std::fmt::Display for KindOrVoid {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            KindOrVoid::Void => f.write_str("void"),
            KindOrVoid::Kind(k) => write!(f, "{k}"),
            KindOrVoid::Unknown(k) => write!(f, "kind {k}"),
        }
    }
}

impl BtfError {
    /// The absolute byte offset the error points at, if it comes from the data.
    pub fn offset(&self) -> Option<usize> {
        // Every field is `Copy`, so the clone is a plain copy of the error.
        self.clone().offset_mut().copied()
    }

    /// Shifts the offset by `base`: for data that sits at `base` in a larger file (an ELF section).
    pub fn with_base(mut self, base: usize) -> Self {
        if let Some(offset) = self.offset_mut() {
            *offset = offset.saturating_add(base);
        }
        self
    }

    /// The `offset` field of a variant that comes from the data; the one list of those variants.
    fn offset_mut(&mut self) -> Option<&mut usize> {
        use BtfError::*;
        match self {
            Truncated { offset, .. }
            | BadMagic { offset, .. }
            | UnsupportedVersion { offset, .. }
            | UnsupportedFlags { offset, .. }
            | BadHeaderLen { offset, .. }
            | SectionOutOfBounds { offset, .. }
            | SectionsOverlap { offset, .. }
            | Misaligned { offset, .. }
            | BadStringSection { offset, .. }
            | StringOutOfRange { offset, .. }
            | InvalidUtf8 { offset }
            | UnknownKind { offset, .. }
            | ReservedBits { offset, .. }
            | VlenTooLarge { offset, .. }
            | TypeIdOutOfRange { offset, .. }
            | TooManyTypes { offset }
            | BadLayout { offset, .. }
            | Cycle { offset, .. }
            | TooDeep { offset, .. }
            | WrongKind { offset, .. }
            | SizeOverflow { offset, .. }
            | PaddingTooLarge { offset, .. }
            | BadRecordSize { offset, .. }
            | EmptyGroup { offset, .. }
            | UnknownCoreReloKind { offset, .. } => Some(offset),
            NoSuchType { .. } => None,
        }
    }
}
