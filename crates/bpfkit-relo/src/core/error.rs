//! Why a record cannot be relocated ([`CoreError`]), and the engine's internal failures.

use bpfkit_uapi::CoreReloKind;

use super::btfx::Walk;
use super::outcome::CoreCandidate;

/// Why a record cannot be relocated: the program cannot be loaded.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("CO-RE relocation #{relo} ({kind} of {local}): {reason}", kind = long_kind_name(*.kind))]
pub struct CoreError {
    /// The record's index (libbpf's `relo #N`).
    pub relo: usize,
    /// The record's kind.
    pub kind: CoreReloKind,
    /// What is relocated: `struct task_struct.pid`, or the root and access string when those
    /// could not be parsed.
    pub local: String,
    /// What went wrong.
    pub reason: CoreErrorKind,
}

/// The kind's name for messages: `field_byte_offset`, `type_exists`, ...
pub fn long_kind_name(kind: CoreReloKind) -> String {
    let name = kind.to_string();
    name.strip_prefix("BPF_CORE_")
        .unwrap_or(&name)
        .to_ascii_lowercase()
}

/// The ways relocation fails.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum CoreErrorKind {
    /// The record's root type is not in the local BTF.
    #[error("type [{0}] is not in the object's BTF")]
    NoSuchType(u32),
    /// The root type has no name, so no candidate can be looked up (libbpf refuses too).
    #[error("the type is anonymous, so it has no target candidates")]
    AnonymousType,
    /// The access string does not name anything in the local type.
    #[error("access string '{access}': {why}")]
    BadAccess {
        /// The access string.
        access: String,
        /// What is wrong with it.
        why: &'static str,
    },
    /// The access path is longer than libbpf's 64 steps.
    #[error("access path is longer than 64 steps")]
    TooLong,
    /// The kind is not one of the 13.
    #[error("unknown relocation kind {0}")]
    UnknownKind(u32),
    /// A walk of the local or target BTF failed (a cycle, a type without size).
    #[error("{0}")]
    Btf(String),
    /// Several candidates match with different results.
    #[error("{} candidates match: {} ({detail})", candidates.len(), candidates.iter().map(|c| c.name.as_str()).collect::<Vec<_>>().join(", "))]
    Ambiguous {
        /// The candidates that matched, up to and including the first that disagreed.
        candidates: Vec<CoreCandidate>,
        /// libbpf's wording of the disagreement.
        detail: String,
    },
    /// Matching a candidate failed outright (libbpf: "error matching candidate").
    #[error("matching candidate {candidate}: {why}")]
    Candidate {
        /// The candidate.
        candidate: CoreCandidate,
        /// Why.
        why: String,
    },
    /// Only byte offset and byte size apply to an array element.
    #[error("this kind cannot be applied to an array element")]
    ArrayAccess,
    /// The bitfield cannot be read with one load of at most 8 bytes.
    #[error("the bitfield cannot be read with one load of at most 8 bytes")]
    Bitfield,
    /// The instruction does not hold the value the local type gives.
    #[error(
        "the instruction ({class}) holds {got}, but the local type gives {expected} (target: {new})"
    )]
    UnexpectedValue {
        /// libbpf's class name (`ALU/ALU64`, `LDX/ST/STX`, `LDIMM64`).
        class: &'static str,
        /// The instruction's value.
        got: u64,
        /// The local spec's.
        expected: u64,
        /// What would have been patched in.
        new: u64,
    },
    /// The new offset does not fit in the instruction's signed 16 bits.
    #[error("offset {0} does not fit in a load/store instruction")]
    TooBig(u64),
    /// The load/store size is not the local field's size, so it cannot be adjusted.
    #[error("the load/store is {got} bytes wide, but the local field is {expected}")]
    MemSize {
        /// The instruction's access size.
        got: u32,
        /// The local field's size.
        expected: u32,
    },
    /// The target field's size is not a load/store size.
    #[error("the target field is {0} bytes wide, which no load/store instruction is")]
    NewMemSize(u32),
    /// The instruction is not one CO-RE patches.
    #[error("the instruction {0}")]
    Insn(&'static str),
    /// Anything else libbpf calls invalid.
    #[error("{0}")]
    Invalid(&'static str),
}

/// Internal failures, mapped to [`CoreErrorKind`] with context at the top.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Fail {
    /// No target: poison the instruction (libbpf's `-EUCLEAN`).
    Poison,
    Walk(Walk),
    TooLong,
    UnknownKind,
    ArrayAccess,
    Bitfield,
    Invalid(&'static str),
}

impl From<Walk> for Fail {
    fn from(w: Walk) -> Fail {
        Fail::Walk(w)
    }
}

impl Fail {
    pub(crate) fn into_kind(self, kind: CoreReloKind) -> CoreErrorKind {
        match self {
            Fail::Poison => CoreErrorKind::Invalid("poisoning requested"),
            Fail::Walk(Walk::Cycle(id)) => {
                CoreErrorKind::Btf(format!("type [{}] is part of a cycle", id.0))
            }
            Fail::Walk(Walk::NoSize(id)) => {
                CoreErrorKind::Btf(format!("type [{}] has no size", id.0))
            }
            Fail::Walk(Walk::TooBig(id)) => {
                CoreErrorKind::Btf(format!("type [{}] is larger than 4 GiB", id.0))
            }
            Fail::TooLong => CoreErrorKind::TooLong,
            Fail::UnknownKind => CoreErrorKind::UnknownKind(kind.0),
            Fail::ArrayAccess => CoreErrorKind::ArrayAccess,
            Fail::Bitfield => CoreErrorKind::Bitfield,
            Fail::Invalid(why) => CoreErrorKind::Invalid(why),
        }
    }
}
