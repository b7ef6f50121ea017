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
//! - [`vmlinux`] reads the running kernel's BTF and its modules' from sysfs.
//!
//! Untrusted input never panics: every failure is a [`BtfError`] carrying the absolute byte
//! offset of the field at fault.
//!
//! ```
//! use bpfkit_btf::{Btf, BtfBuilder, IntEncoding, Kind};
//!
//! // Build `struct point { int x; int y; }` and encode it.
//! let mut b = BtfBuilder::new();
//! let int = b.add_int("int", 4, IntEncoding::SIGNED);
//! let point = b.add_struct("point", 8, &[("x", int, 0), ("y", int, 32)]);
//! let bytes = b.encode();
//!
//! // Parse it back (zero-copy) and ask the type graph.
//! let btf = Btf::parse(&bytes).unwrap();
//! let id = btf.find_by_name_kind("point", Kind::Struct).unwrap();
//! assert_eq!(id, point);
//! assert_eq!(btf.size_of(id).unwrap(), 8);
//! let (y, bit_offset) = btf.find_member(id, "y").unwrap().unwrap();
//! assert_eq!((y.type_id(), bit_offset), (int, 32));
//!
//! // Parsing then encoding gives the same bytes.
//! assert_eq!(btf.to_builder().encode(), bytes);
//!
//! // The raw dump is bpftool's, byte for byte.
//! let mut out = Vec::new();
//! bpfkit_btf::dump::raw(&btf, &mut out).unwrap();
//! assert_eq!(
//!     String::from_utf8(out).unwrap(),
//!     "[1] INT 'int' size=4 bits_offset=0 nr_bits=32 encoding=SIGNED\n\
//!      [2] STRUCT 'point' size=8 vlen=2\n\
//!      \t'x' type_id=1 bits_offset=0\n\
//!      \t'y' type_id=1 bits_offset=32\n"
//! );
//! ```

#![forbid(unsafe_code)]
#![deny(missing_docs)]

mod btf;
pub mod dump;
mod encode;
mod endian;
mod error;
pub mod ext;
mod graph;
pub mod header;
mod kind;
mod owned;
mod strings;
mod types;
pub mod vmlinux;

pub use btf::{Btf, Types};
pub use encode::BtfBuilder;
pub use endian::Endian;
pub use error::{BtfError, KindOrVoid};
pub use ext::{BtfExt, CoreRelo, CoreReloKind, FuncInfo, LineInfo};
pub use graph::{MAX_DEPTH, NameIndex};
pub use header::Header;
pub use kind::{IntEncoding, Kind, Linkage, RecordLayout};
pub use owned::{BtfEnum64Value, BtfEnumValue, BtfMember, BtfParam, BtfType, TypeData};
pub use strings::{StringTable, Strings};
pub use types::{
    Array, DeclTag, EnumValue, EnumValues, Int, Member, Members, Param, Params, Record, Records,
    Type, TypeId, TypeView, Var, VarSecinfo, VarSecinfos,
};
