//! CO-RE: relocating one instruction against a target BTF, as libbpf's `relo_core.c` does.
//!
//! A CO-RE record names an instruction, a root type of the object's (local) BTF, an access
//! string and a kind. Relocating it:
//!
//! 1. parses the access string into the local spec (the field, array element, enumerator or
//!    type it names, `spec.rs`);
//! 2. looks up target *candidates*: types of a compatible kind with the same essential name
//!    (the name without a `___flavor` suffix, [`essential_name`]), through an index built once
//!    per [`CoreTarget`];
//! 3. matches the local spec against each candidate (same named members through anonymous
//!    ones, array bounds, compatible field types; `matching.rs`) and computes the value each
//!    matching candidate gives (`calc.rs`). Different values are an ambiguity error;
//! 4. patches the instruction after checking that it holds the value the local spec gives, or
//!    poisons it when nothing matched and the kind is not an existence check (`patch.rs`).
//!
//! libbpf caches candidates per local type for a whole object and prunes the list to the
//! candidates that matched, so an earlier relocation can decide a later one's candidates.
//! [`CoreRelocator`] keeps that cache: use one per object and feed it the records in
//! `.BTF.ext` order (as [`relocate_object`] does) to get libbpf's results exactly. The free
//! function [`relocate`] starts from a fresh cache each call.
//!
//! The linker calls [`relocate`] (or a [`CoreRelocator`]) for every `.BTF.ext` CO-RE record of
//! a function before it appends subprograms (libbpf applies CO-RE to each function of the
//! object first, then links), and splices the returned instructions in place of the original
//! one.
//!
//! ```
//! use bpfkit_btf::{Btf, BtfBuilder, IntEncoding};
//! use bpfkit_isa::{Insn, Opcode, Reg};
//! use bpfkit_relo::core::{relocate, CoreRecord, CoreTarget};
//! use bpfkit_uapi::CoreReloKind;
//!
//! // Local: struct s { int a; int b; }  Target: struct s { long x; int b; }
//! let mut l = BtfBuilder::new();
//! let int = l.add_int("int", 4, IntEncoding::SIGNED);
//! let s = l.add_struct("s", 8, &[("a", int, 0), ("b", int, 32)]);
//! let local_bytes = l.encode();
//! let mut t = BtfBuilder::new();
//! let int = t.add_int("int", 4, IntEncoding::SIGNED);
//! let long = t.add_int("long", 8, IntEncoding::SIGNED);
//! t.add_struct("s", 16, &[("x", long, 0), ("b", int, 64)]);
//! let target_bytes = t.encode();
//! let (local, target) = (Btf::parse(&local_bytes).unwrap(), Btf::parse(&target_bytes).unwrap());
//!
//! // r1 = *(u32 *)(r2 + 4), reading s.b
//! let insn = Insn::new(Opcode::LdxW).with_dst(Reg::R1).with_src(Reg::R2).with_off(4);
//! let record = CoreRecord {
//!     index: 0,
//!     type_id: s,
//!     access_str: "0:1",
//!     kind: CoreReloKind::FIELD_BYTE_OFFSET,
//! };
//! let target = CoreTarget::new(&target);
//! let out = relocate(&local, &record, &insn, &target).unwrap();
//! assert_eq!(out.insns[0].off, 8);
//! assert_eq!(out.local.to_string(), "<byte_off> [2] struct s.b (0:1 @ offset 4)");
//! assert_eq!(out.target.to_string(), "<byte_off> [3] struct s.b (0:1 @ offset 8)");
//! assert_eq!((out.old, out.new), (4, Some(8)));
//! ```

mod btfx;
mod calc;
mod error;
mod matching;
mod name;
mod object;
mod outcome;
mod patch;
mod relocator;
mod spec;
mod target;

use bpfkit_btf::TypeId;
use bpfkit_uapi::CoreReloKind;

pub use error::{CoreError, CoreErrorKind, long_kind_name};
pub use name::essential_name;
pub use object::{CoreApplied, relocate_object};
pub use outcome::{CoreCandidate, CoreMatch, CoreOutcome, CoreSpec, Poison};
pub use patch::POISON_IMM;
pub use relocator::{CoreRelocator, relocate};
pub use target::CoreTarget;

pub(crate) use error::Fail;

/// One CO-RE record, as the linker hands it over.
#[derive(Clone, Copy, Debug)]
pub struct CoreRecord<'a> {
    /// The record's index in its section's `.BTF.ext` group (libbpf's `relo #N`).
    pub index: usize,
    /// The root type in the local (object's) BTF.
    pub type_id: TypeId,
    /// The access string (`0:1:2`).
    pub access_str: &'a str,
    /// What to compute.
    pub kind: CoreReloKind,
}
