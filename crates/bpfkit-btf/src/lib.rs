//! BTF, the BPF Type Format: parse it without copying, walk its type graph, write it back.
//!
//! - [`Btf`] parses a `.BTF` blob or `/sys/kernel/btf/vmlinux` in one pass that builds an index
//!   of type records and checks every offset and id; [`Type`]s are decoded lazily from the bytes.
//!   Split BTF (a kernel module's, on top of vmlinux) is [`Btf::parse_split`].
//! - [`BtfExt`] parses `.BTF.ext`: func_info, line_info and CO-RE relocation records.
//! - The type graph ([`Btf::resolve`], [`Btf::size_of`], [`Btf::align_of`], [`Btf::find_by_name_kind`],
//!   member offsets) answers what a loader or a CO-RE relocator asks.
//! - [`BtfBuilder`] is the owned, editable form; it encodes byte-identically what was parsed.
//! - [`dump`] prints what `bpftool btf dump ... format raw` and `format c` print.
//!
//! Untrusted input never panics: every failure is a [`BtfError`] carrying the absolute byte
//! offset of the field at fault.
//!
//! ```
//! use bpfkit_btf::{Btf, Kind};
//!
//! // A blob with one type, `int`: header, one 16-byte type record, strings "\0int\0".
//! let mut blob = vec![0x9f, 0xeb, 1, 0];
//! for field in [24u32, 0, 16, 16, 5] {
//!     blob.extend_from_slice(&field.to_le_bytes());
//! }
//! for word in [1u32, (Kind::Int as u32) << 24, 4, (1 << 24) | 32] {
//!     blob.extend_from_slice(&word.to_le_bytes());
//! }
//! blob.extend_from_slice(b"\0int\0");
//!
//! let btf = Btf::parse(&blob).unwrap();
//! let mut out = Vec::new();
//! bpfkit_btf::dump::raw(&btf, &mut out).unwrap();
//! assert_eq!(out, b"[1] INT 'int' size=4 bits_offset=0 nr_bits=32 encoding=SIGNED\n");
//! ```

#![forbid(unsafe_code)]
#![deny(missing_docs)]

mod btf;
pub mod dump;
mod endian;
mod error;
pub mod ext;
pub mod header;
mod kind;
mod strings;
mod types;

pub use btf::{Btf, Types};
pub use endian::Endian;
pub use error::{BtfError, KindOrVoid};
pub use ext::BtfExt;
pub use header::Header;
pub use kind::{IntEncoding, Kind, Linkage, RecordLayout};
pub use strings::{StringTable, Strings};
pub use types::{
    Array, DeclTag, EnumValue, EnumValues, Int, Member, Members, Param, Params, Record, Records,
    Type, TypeId, TypeView, Var, VarSecinfo, VarSecinfos,
};
