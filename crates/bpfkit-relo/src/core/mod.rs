//! CO-RE: relocating one instruction against a target BTF, as libbpf's `relo_core.c` does.
//!
//! The linker calls [`relocate`] for every `.BTF.ext` CO-RE record of a function before it
//! appends subprograms (libbpf applies CO-RE to each function of the object first, then links),
//! and splices the returned instructions in place of the original one.

use bpfkit_btf::{Btf, TypeId};
use bpfkit_isa::Insn;
use bpfkit_uapi::CoreReloKind;

/// The BTF a program is relocated against: the running kernel's vmlinux with module BTFs
/// searched after it, a raw BTF file, an object's `.BTF`, or split BTF on its base. Candidates
/// are indexed by essential name once, when the target is built.
pub struct CoreTarget<'t> {
    btfs: Vec<&'t Btf<'t>>,
}

impl<'t> CoreTarget<'t> {
    /// A target of one BTF (for split BTF, pass the split one: its base is searched through it).
    pub fn new(btf: &'t Btf<'t>) -> CoreTarget<'t> {
        CoreTarget { btfs: vec![btf] }
    }

    /// The BTFs searched, in order.
    pub fn btfs(&self) -> &[&'t Btf<'t>] {
        &self.btfs
    }
}

/// One CO-RE record, as the linker hands it over.
#[derive(Clone, Copy, Debug)]
pub struct CoreRecord<'a> {
    /// The record's index in the program's function (libbpf's `relo #N`).
    pub index: usize,
    /// The root type in the local (object's) BTF.
    pub type_id: TypeId,
    /// The access string (`0:1:2`).
    pub access_str: &'a str,
    /// What to compute.
    pub kind: CoreReloKind,
}

/// What relocating one record did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CoreOutcome {
    /// The replacement for the instruction: as many slots as the original (an `lddw` stays two
    /// slots; poisoned, it becomes two calls).
    pub insns: Vec<Insn>,
    /// Whether the instruction was poisoned (no candidate matched, or the field is missing).
    pub poisoned: bool,
}

/// Why a record cannot be relocated: the program cannot be loaded.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum CoreError {
    /// Placeholder until the engine lands.
    #[error("CO-RE relocation is not implemented yet")]
    Unimplemented,
}

/// Relocates `insn` for `record` of the `local` BTF against `target`.
pub fn relocate(
    _local: &Btf<'_>,
    _record: &CoreRecord<'_>,
    _insn: &Insn,
    _target: &CoreTarget<'_>,
) -> Result<CoreOutcome, CoreError> {
    Err(CoreError::Unimplemented)
}
