//! Sets of program types, for tables that say which program types may do something.

use crate::ProgType;

/// A set of [`ProgType`]s (one bit per type; the kernel has fewer than 64).
///
/// ```
/// use bpfkit_uapi::{ProgType, ProgTypes};
/// let net = ProgTypes::of(&[ProgType::XDP, ProgType::SCHED_CLS]);
/// assert!(net.contains(ProgType::XDP));
/// assert!(!net.contains(ProgType::KPROBE));
/// assert!(ProgTypes::ALL.contains(ProgType::KPROBE));
/// ```
#[derive(Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct ProgTypes(pub u64);

impl ProgTypes {
    /// No program type.
    pub const NONE: ProgTypes = ProgTypes(0);
    /// Every program type.
    pub const ALL: ProgTypes = ProgTypes(u64::MAX);

    /// The tracing program types, which share `bpf_tracing_func_proto` in the kernel.
    pub const TRACING: ProgTypes = ProgTypes::of(&[
        ProgType::KPROBE,
        ProgType::TRACEPOINT,
        ProgType::PERF_EVENT,
        ProgType::RAW_TRACEPOINT,
        ProgType::RAW_TRACEPOINT_WRITABLE,
        ProgType::TRACING,
        ProgType::LSM,
    ]);

    /// The traffic control program types (`sched_cls`, `sched_act`).
    pub const TC: ProgTypes = ProgTypes::of(&[ProgType::SCHED_CLS, ProgType::SCHED_ACT]);

    /// The lightweight tunnel program types.
    pub const LWT: ProgTypes = ProgTypes::of(&[
        ProgType::LWT_IN,
        ProgType::LWT_OUT,
        ProgType::LWT_XMIT,
        ProgType::LWT_SEG6LOCAL,
    ]);

    /// The set holding exactly `types`.
    pub const fn of(types: &[ProgType]) -> ProgTypes {
        let mut bits = 0u64;
        let mut i = 0;
        while i < types.len() {
            bits |= 1 << types[i].0;
            i += 1;
        }
        ProgTypes(bits)
    }

    /// The union of `self` and `other`.
    pub const fn union(self, other: ProgTypes) -> ProgTypes {
        ProgTypes(self.0 | other.0)
    }

    /// `self` without the types of `other`.
    pub const fn without(self, other: ProgTypes) -> ProgTypes {
        ProgTypes(self.0 & !other.0)
    }

    /// Whether `prog_type` is in the set.
    pub const fn contains(self, prog_type: ProgType) -> bool {
        prog_type.0 < 64 && self.0 & (1 << prog_type.0) != 0
    }

    /// The known program types in the set.
    pub fn iter(self) -> impl Iterator<Item = ProgType> {
        ProgType::ALL
            .iter()
            .copied()
            .filter(move |&t| self.contains(t))
    }
}

impl core::fmt::Debug for ProgTypes {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        if *self == ProgTypes::ALL {
            return f.write_str("ALL");
        }
        f.debug_set()
            .entries(self.iter().map(|t| format!("{t:#}")))
            .finish()
    }
}
