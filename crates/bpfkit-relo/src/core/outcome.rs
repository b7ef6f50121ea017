//! What relocating a record produced: the specs on both sides in libbpf's printed form, the
//! candidate matched or why none was, the values, and the patched instructions.

use std::fmt;

use bpfkit_btf::TypeId;
use bpfkit_isa::Insn;
use bpfkit_uapi::CoreReloKind;

use super::btfx;
use super::spec::{self, Spec};

/// A spec (the local one, or the one a target candidate matched with), printable exactly as
/// libbpf's debug log prints it: `<byte_off> [7] struct task_struct.pid (0:58 @ offset 2456)`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CoreSpec {
    /// The relocation kind.
    pub kind: CoreReloKind,
    /// The root type's id in its BTF.
    pub type_id: TypeId,
    /// The root's kind as libbpf names it (`struct`, `union`, `enum`, `typedef`, ...).
    pub type_kind: &'static str,
    /// The root's name (empty when anonymous).
    pub type_name: String,
    /// The high-level path: `.a[3].b` for fields, `::NAME = 3` for enumerators, empty for
    /// type-based kinds.
    pub path: String,
    /// The low-level access string (field kinds; the enumerator index for enumerator kinds).
    pub access: Vec<u32>,
    /// The field's offset from the start of the root in bits (field kinds).
    pub bit_offset: u32,
}

impl CoreSpec {
    pub(crate) fn of(spec: &Spec<'_>) -> CoreSpec {
        let t = btfx::ty(spec.btf, spec.root);
        let path = spec::path_str(spec);
        CoreSpec {
            kind: spec.kind,
            type_id: spec.root,
            type_kind: btfx::kind_str(&t),
            type_name: btfx::text(btfx::name(&t)),
            path,
            access: spec.raw.clone(),
            bit_offset: spec.bit_offset,
        }
    }

    /// A short form for messages: `struct task_struct.pid`.
    pub fn describe(&self) -> String {
        let name = if self.type_name.is_empty() {
            "<anon>"
        } else {
            &self.type_name
        };
        format!("{} {}{}", self.type_kind, name, self.path)
    }
}

impl fmt::Display for CoreSpec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let name = if self.type_name.is_empty() {
            "<anon>"
        } else {
            &self.type_name
        };
        write!(
            f,
            "<{}> [{}] {} {}{}",
            spec::kind_str(self.kind),
            self.type_id.0,
            self.type_kind,
            name,
            self.path
        )?;
        if self.kind.is_field_based() {
            f.write_str(" (")?;
            for (i, r) in self.access.iter().enumerate() {
                write!(f, "{}{}", if i == 0 { "" } else { ":" }, r)?;
            }
            if self.bit_offset % 8 != 0 {
                write!(
                    f,
                    " @ offset {}.{})",
                    self.bit_offset / 8,
                    self.bit_offset % 8
                )?;
            } else {
                write!(f, " @ offset {})", self.bit_offset / 8)?;
            }
        }
        Ok(())
    }
}

/// A target type that was considered.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CoreCandidate {
    /// Which BTF of the target (0: the main one; see [`CoreTarget::btf`](super::CoreTarget::btf)).
    pub btf: usize,
    /// Its id there.
    pub type_id: TypeId,
    /// Its name.
    pub name: String,
}

impl fmt::Display for CoreCandidate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} [{}]", self.name, self.type_id.0)
    }
}

/// What the target side of a relocation came to.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum CoreMatch {
    /// `TYPE_ID_LOCAL`: the local type id, no target involved.
    Local,
    /// A candidate matched (the first one; the others that matched gave the same result).
    Found {
        /// Which BTF of the target.
        btf: usize,
        /// That BTF's name (`vmlinux`, a module's).
        btf_name: String,
        /// The target spec.
        spec: CoreSpec,
        /// How many candidates matched.
        matched: usize,
    },
    /// No candidate matched: existence kinds give 0, the others poison the instruction.
    NotFound {
        /// The candidates that were tried (none when no type has the essential name).
        candidates: Vec<CoreCandidate>,
    },
}

impl fmt::Display for CoreMatch {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CoreMatch::Local => f.write_str("local type id (no target)"),
            CoreMatch::Found {
                btf,
                btf_name,
                spec,
                ..
            } => {
                write!(f, "{spec}")?;
                if *btf > 0 {
                    write!(f, " in {btf_name}")?;
                }
                Ok(())
            }
            CoreMatch::NotFound { candidates } if candidates.is_empty() => {
                f.write_str("no target type has this name and a compatible kind")
            }
            CoreMatch::NotFound { candidates } => {
                write!(f, "none of {} candidates matched: ", candidates.len())?;
                for (i, c) in candidates.iter().enumerate() {
                    write!(f, "{}{c}", if i == 0 { "" } else { ", " })?;
                }
                Ok(())
            }
        }
    }
}

/// Why an instruction was poisoned.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Poison {
    /// No candidate matched and the kind needs one.
    NotFound,
    /// The field was found, but its load or store cannot change size without changing the
    /// value (only pointers and unsigned integers may).
    MemSize,
}

/// What relocating one record did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CoreOutcome {
    /// The replacement for the instruction: as many slots as the original (an `lddw` stays two
    /// slots; poisoned, it becomes two calls).
    pub insns: Vec<Insn>,
    /// Whether the instruction was poisoned (no candidate matched, or the field is missing).
    pub poisoned: bool,
    /// Why it was poisoned.
    pub poison: Option<Poison>,
    /// The local spec.
    pub local: CoreSpec,
    /// The target spec matched, or why none was.
    pub target: CoreMatch,
    /// The instruction's value before patching (immediate, offset, or 64-bit immediate),
    /// sign-extended to 64 bits and printed unsigned, as libbpf's log prints it; 0 when
    /// poisoned.
    pub old: u64,
    /// The value patched in (`None` when poisoned): the immediate, offset or 64-bit
    /// immediate, before truncation to the field's width, as libbpf's log prints it.
    pub new: Option<u64>,
    /// The value the local spec gives, which the instruction was checked against.
    pub expected: u64,
    /// Whether `old` was checked against `expected` (not for bitfield offsets, sizes and left
    /// shifts, nor for type ids).
    pub checked: bool,
    /// The load/store size change in bytes, when the field's size differs.
    pub mem_size: Option<(u32, u32)>,
}
