//! Kernel functions (kfuncs) the verifier knows: the flags the kernel registers with each
//! (`BTF_ID_FLAGS` in the file that defines it) and the program types its set is registered
//! for (`register_btf_kfunc_id_set`). A kfunc's prototype is in the kernel's BTF; these facts
//! are not, so they are a table, like the helpers'. A kfunc missing here is refused by our
//! verifier as not modelled rather than guessed at.

use crate::{ProgType, ProgTypes};

/// A kfunc's `KF_*` flags.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
pub struct KfuncFlags(pub u32);

impl KfuncFlags {
    /// `KF_ACQUIRE`: returns a reference the program must release.
    pub const ACQUIRE: KfuncFlags = KfuncFlags(1 << 0);
    /// `KF_RELEASE`: releases the reference passed as its first argument.
    pub const RELEASE: KfuncFlags = KfuncFlags(1 << 1);
    /// `KF_RET_NULL`: may return NULL.
    pub const RET_NULL: KfuncFlags = KfuncFlags(1 << 2);
    /// `KF_TRUSTED_ARGS`: pointer arguments must be trusted.
    pub const TRUSTED_ARGS: KfuncFlags = KfuncFlags(1 << 4);
    /// `KF_RCU`: pointer arguments may be trusted or RCU-protected.
    pub const RCU: KfuncFlags = KfuncFlags(1 << 7);

    /// Whether every flag of `other` is set.
    pub const fn contains(self, other: KfuncFlags) -> bool {
        self.0 & other.0 == other.0
    }

    const fn with(self, other: KfuncFlags) -> KfuncFlags {
        KfuncFlags(self.0 | other.0)
    }
}

/// What the kernel registers for one kfunc.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct KfuncInfo {
    /// The function's name (its BTF `FUNC` name).
    pub name: &'static str,
    /// Its `KF_*` flags.
    pub flags: KfuncFlags,
    /// The program types its set is registered for.
    pub prog_types: ProgTypes,
}

const ACQUIRE_OR_NULL: KfuncFlags = KfuncFlags::ACQUIRE.with(KfuncFlags::RET_NULL);

/// `nf_conntrack_bpf.c`: registered for XDP and tc.
const CONNTRACK: ProgTypes = ProgTypes::of(&[ProgType::XDP, ProgType::SCHED_CLS]);
/// The sets this table takes from `kernel/bpf/helpers.c` and `kernel/bpf/cpumask.c`, limited
/// to the tracing type, where our testdata checks them against the kernel.
const TRACING: ProgTypes = ProgTypes::of(&[ProgType::TRACING]);

const fn kfunc(name: &'static str, flags: KfuncFlags, prog_types: ProgTypes) -> KfuncInfo {
    KfuncInfo {
        name,
        flags,
        prog_types,
    }
}

const KFUNCS: &[KfuncInfo] = &[
    kfunc("bpf_xdp_ct_alloc", ACQUIRE_OR_NULL, CONNTRACK),
    kfunc("bpf_xdp_ct_lookup", ACQUIRE_OR_NULL, CONNTRACK),
    kfunc("bpf_skb_ct_alloc", ACQUIRE_OR_NULL, CONNTRACK),
    kfunc("bpf_skb_ct_lookup", ACQUIRE_OR_NULL, CONNTRACK),
    kfunc("bpf_ct_release", KfuncFlags::RELEASE, CONNTRACK),
    kfunc(
        "bpf_task_acquire",
        ACQUIRE_OR_NULL.with(KfuncFlags::RCU),
        TRACING,
    ),
    kfunc("bpf_task_release", KfuncFlags::RELEASE, TRACING),
    kfunc("bpf_cpumask_create", ACQUIRE_OR_NULL, TRACING),
    kfunc("bpf_cpumask_release", KfuncFlags::RELEASE, TRACING),
];

/// What the kernel registers for the kfunc `name`, if this table knows it.
pub fn kfunc_info(name: &str) -> Option<&'static KfuncInfo> {
    KFUNCS.iter().find(|k| k.name == name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn acquire_and_release_pairs() {
        let lookup = kfunc_info("bpf_skb_ct_lookup").unwrap();
        assert!(lookup.flags.contains(KfuncFlags::ACQUIRE));
        assert!(lookup.flags.contains(KfuncFlags::RET_NULL));
        assert!(lookup.prog_types.contains(ProgType::XDP));
        assert!(!lookup.prog_types.contains(ProgType::SOCKET_FILTER));
        assert!(
            kfunc_info("bpf_ct_release")
                .unwrap()
                .flags
                .contains(KfuncFlags::RELEASE)
        );
        assert!(kfunc_info("bpf_no_such_kfunc").is_none());
    }
}
