//! Reads BPF ELF objects, as clang writes them and libbpf loads them.
//!
//! Two levels, both borrowing the file's bytes:
//!
//! - [`ElfFile`]: the low level, a validated, typed view of the ELF structure — sections,
//!   symbols and relocation tables — with [`SectionIndex`] and [`SymbolIndex`] newtypes.
//! - [`Object`]: the eBPF model over it. [`Program`]s, one per FUNC symbol of a code section
//!   other than `.text`, with their program and attach type from the section name (libbpf's table,
//!   [`ProgramSection`]); subprograms ([`Function`]s in `.text`) and every bpf-to-bpf [`Call`];
//!   [`Map`]s from BTF `.maps` (with map-in-map inner definitions and `.values` initialisers) and
//!   from legacy `maps` sections; relocations resolved to what they mean ([`RelocTarget`]: a
//!   map, global data, a call, a function address, an extern); global [`DataSection`]s;
//!   `__kconfig`/`__ksym` [`Extern`]s; license and kernel version; and per function the
//!   `.BTF.ext` func_info, line_info and CO-RE records.
//!
//! Objects from every toolchain generation read: iproute2's `struct bpf_elf_map` and other
//! legacy map layouts ([`LegacyDef`]), PREVAIL's `maps/NAME` sections, RELA tables, functions
//! without FUNC symbols (clang before 8), static programs, externs no `.kconfig`/`.ksyms` DATASEC
//! declares. What libbpf 1.x or the kernel would refuse is in the model all the same, and listed
//! in [`Object::warnings`] ([`WarningKind`], with [`WarningKind::refused_by_libbpf`]): the
//! consumer (loader, verifier) decides. Big-endian (`bpfeb`) objects are refused with a typed
//! error: instructions are read as `bpfel` slots.
//!
//! Untrusted input never panics: every failure is an [`ElfError`] with the absolute byte offset
//! of the field at fault and the section involved.
//!
//! ```
//! use bpfkit_elf::{MapIndex, Object, RelocTarget};
//! use bpfkit_uapi::{MapType, ProgType};
//!
//! let bytes = std::fs::read(concat!(
//!     env!("CARGO_MANIFEST_DIR"),
//!     "/../../testdata/obj/xdp_parse.v3.g.o"
//! ))
//! .unwrap();
//! let object = Object::parse(&bytes).unwrap();
//! assert_eq!(object.license(), Some("GPL"));
//!
//! let prog = object.program("xdp_parse").unwrap();
//! assert_eq!(prog.prog_type(), ProgType::XDP);
//! assert_eq!(prog.section_name(), "xdp");
//!
//! let map = object.map("proto_count").unwrap();
//! assert_eq!(map.def.map_type, MapType::ARRAY);
//! assert_eq!((map.def.key_size, map.def.value_size, map.def.max_entries), (4, 8, 256));
//!
//! // Every ld_imm64 of a map is relocated against it.
//! let map_index = object.maps().iter().position(|m| m.name == "proto_count").unwrap();
//! let map_index = MapIndex(map_index);
//! assert!(prog.function.relocations.iter().any(|r| r.target == RelocTarget::Map(map_index)));
//!
//! // Source lines come from .BTF.ext.
//! assert!(prog.function.line_info.iter().any(|l| l.line.contains("bpf_map_lookup_elem")));
//! ```

#![forbid(unsafe_code)]
#![deny(missing_docs)]

mod btf_ext;
mod data;
mod elf;
mod error;
mod ids;
mod maps;
mod object;
mod program;
mod reloc;
mod warning;

pub use bpfkit_uapi::MapDef;
pub use btf_ext::{CoreRelo, FuncInfo, LineInfo};
pub use data::{DataKind, DataSection, Extern, ExternKind, Variable};
pub use elf::{
    ElfFile, Relocation, RelocationSection, Section, Symbol, SymbolBinding, SymbolKind,
    SymbolSection,
};
pub use error::{ElfError, ErrorKind, MapError, RelocError, Result};
pub use ids::{DataIndex, ExternIndex, MapIndex, ProgIndex, SectionIndex, SymbolIndex};
pub use maps::{
    InitialTarget, InitialValue, InnerMap, LegacyDef, LegacyLayout, Map, MapKind, MapTypes, Pinning,
};
pub use object::Object;
pub use program::{Call, Function, Program};
pub use reloc::{CodeRelocation, RelocTarget, RelocType};
pub use warning::{Warning, WarningKind};

pub use bpfkit_uapi::ProgramSection;
