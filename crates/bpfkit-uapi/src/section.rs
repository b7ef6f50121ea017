//! libbpf's table of program section names (`section_defs` in `libbpf.c`) and the parser that
//! maps a `SEC("...")` name to its program type, expected attach type and load flags.
//!
//! The matching rules are libbpf's (`sec_def_matches`): a pattern ending in `+` matches the bare
//! prefix or the prefix followed by `/` and an attach target (`kprobe/do_unlinkat`); a pattern
//! ending in `/` matches anything after it; any other pattern must match exactly. The table is
//! searched in order and the first match wins, so `xdp.frags/devmap` is tried before `xdp`.

use core::fmt;
use core::str::FromStr;

use crate::macros::uapi_flags;
use crate::{AttachType, ProgFlags, ProgType};

uapi_flags! {
    /// libbpf's `enum sec_def_flags`: what a section definition implies at load time.
    ///
    /// ```
    /// use bpfkit_uapi::SectionFlags;
    /// let f = SectionFlags::ATTACH_BTF | SectionFlags::SLEEPABLE;
    /// assert_eq!(f.to_string(), "SEC_ATTACH_BTF|SEC_SLEEPABLE");
    /// ```
    SectionFlags(u32), prefix = "SEC_" {
        /// The expected attach type may be dropped on kernels that do not support it.
        EXP_ATTACH_OPT = 1 << 0 => "exp_attach_opt",
        /// Attachable with `BPF_PROG_ATTACH` (legacy marker, informational).
        ATTACHABLE = 1 << 1 => "attachable",
        /// `ATTACHABLE` and `EXP_ATTACH_OPT`.
        ATTACHABLE_OPT = (1 << 1) | (1 << 0) => "attachable_opt",
        /// The attach target is a BTF id (a kernel function or type) named after the `/`; it is
        /// required at load time.
        ATTACH_BTF = 1 << 2 => "attach_btf",
        /// The program may sleep (`BPF_F_SLEEPABLE`).
        SLEEPABLE = 1 << 3 => "sleepable",
        /// XDP program handling multi-buffer packets (`BPF_F_XDP_HAS_FRAGS`).
        XDP_FRAGS = 1 << 4 => "xdp_frags",
        /// USDT probe (libbpf may switch it to `BPF_TRACE_UPROBE_MULTI`).
        USDT = 1 << 5 => "usdt",
    }
}

/// How a [`SectionDef`]'s pattern matches section names.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SectionMatch {
    /// The name must equal the pattern (`socket`, `cgroup/connect4`).
    Exact,
    /// `prefix+`: the bare prefix, or the prefix, `/` and an attach target.
    PrefixOrTarget,
    /// `prefix/`: the prefix followed by anything.
    Prefix,
}

/// One entry of libbpf's section table.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SectionDef {
    /// The pattern exactly as libbpf spells it (`kprobe+`, `socket`, `sk_skb/stream_parser`).
    pub pattern: &'static str,
    /// The program type of sections matching this entry.
    pub prog_type: ProgType,
    /// The expected attach type passed at load, or `None` (libbpf's 0: none).
    pub attach_type: Option<AttachType>,
    /// Load-time implications.
    pub flags: SectionFlags,
}

impl SectionDef {
    /// The pattern without its trailing `+` (`kprobe`, `socket`, `tc/ingress`).
    pub fn prefix(&self) -> &'static str {
        self.pattern.strip_suffix('+').unwrap_or(self.pattern)
    }

    /// How the pattern matches section names.
    pub fn matching(&self) -> SectionMatch {
        if self.pattern.ends_with('+') {
            SectionMatch::PrefixOrTarget
        } else if self.pattern.ends_with('/') {
            SectionMatch::Prefix
        } else {
            SectionMatch::Exact
        }
    }

    /// Whether `name` matches this entry (libbpf's `sec_def_matches`).
    pub fn matches(&self, name: &str) -> bool {
        match self.matching() {
            SectionMatch::Exact => name == self.pattern,
            SectionMatch::Prefix => name.starts_with(self.pattern),
            SectionMatch::PrefixOrTarget => match name.strip_prefix(self.prefix()) {
                Some(rest) => rest.is_empty() || rest.starts_with('/'),
                None => false,
            },
        }
    }

    /// The attach target `name` carries for this entry: the text after `prefix/` (or after the
    /// `prefix/` pattern), `None` when absent or empty. `name` must match this entry.
    pub fn target_of<'n>(&self, name: &'n str) -> Option<&'n str> {
        let rest = match self.matching() {
            SectionMatch::Exact => return None,
            SectionMatch::Prefix => name.get(self.pattern.len()..)?,
            SectionMatch::PrefixOrTarget => name.get(self.prefix().len()..)?.strip_prefix('/')?,
        };
        (!rest.is_empty()).then_some(rest)
    }

    /// Whether programs of this entry may sleep.
    pub fn is_sleepable(&self) -> bool {
        self.flags.contains(SectionFlags::SLEEPABLE)
    }

    /// Whether the attach target is a BTF id that must be known at load time.
    pub fn requires_btf_target(&self) -> bool {
        self.flags.contains(SectionFlags::ATTACH_BTF)
    }

    /// The `prog_flags` libbpf passes at load for this entry.
    pub fn prog_flags(&self) -> ProgFlags {
        let mut flags = ProgFlags::NONE;
        if self.is_sleepable() {
            flags |= ProgFlags::SLEEPABLE;
        }
        if self.prog_type == ProgType::XDP && self.flags.contains(SectionFlags::XDP_FRAGS) {
            flags |= ProgFlags::XDP_HAS_FRAGS;
        }
        flags
    }
}

const fn def(
    pattern: &'static str,
    prog_type: ProgType,
    attach_type: Option<AttachType>,
    flags: SectionFlags,
) -> SectionDef {
    SectionDef {
        pattern,
        prog_type,
        attach_type,
        flags,
    }
}

/// libbpf's `section_defs`, in libbpf's order (libbpf f7081a6, 2026-07).
#[rustfmt::skip]
pub static SECTION_DEFS: &[SectionDef] = &[
    def("socket", ProgType::SOCKET_FILTER, None, SectionFlags::NONE),
    def("sk_reuseport/migrate", ProgType::SK_REUSEPORT, Some(AttachType::SK_REUSEPORT_SELECT_OR_MIGRATE), SectionFlags::ATTACHABLE),
    def("sk_reuseport", ProgType::SK_REUSEPORT, Some(AttachType::SK_REUSEPORT_SELECT), SectionFlags::ATTACHABLE),
    def("kprobe+", ProgType::KPROBE, None, SectionFlags::NONE),
    def("uprobe+", ProgType::KPROBE, None, SectionFlags::NONE),
    def("uprobe.s+", ProgType::KPROBE, None, SectionFlags::SLEEPABLE),
    def("kretprobe+", ProgType::KPROBE, None, SectionFlags::NONE),
    def("uretprobe+", ProgType::KPROBE, None, SectionFlags::NONE),
    def("uretprobe.s+", ProgType::KPROBE, None, SectionFlags::SLEEPABLE),
    def("kprobe.multi+", ProgType::KPROBE, Some(AttachType::TRACE_KPROBE_MULTI), SectionFlags::NONE),
    def("kretprobe.multi+", ProgType::KPROBE, Some(AttachType::TRACE_KPROBE_MULTI), SectionFlags::NONE),
    def("kprobe.session+", ProgType::KPROBE, Some(AttachType::TRACE_KPROBE_SESSION), SectionFlags::NONE),
    def("uprobe.multi+", ProgType::KPROBE, Some(AttachType::TRACE_UPROBE_MULTI), SectionFlags::NONE),
    def("uretprobe.multi+", ProgType::KPROBE, Some(AttachType::TRACE_UPROBE_MULTI), SectionFlags::NONE),
    def("uprobe.session+", ProgType::KPROBE, Some(AttachType::TRACE_UPROBE_SESSION), SectionFlags::NONE),
    def("uprobe.multi.s+", ProgType::KPROBE, Some(AttachType::TRACE_UPROBE_MULTI), SectionFlags::SLEEPABLE),
    def("uretprobe.multi.s+", ProgType::KPROBE, Some(AttachType::TRACE_UPROBE_MULTI), SectionFlags::SLEEPABLE),
    def("uprobe.session.s+", ProgType::KPROBE, Some(AttachType::TRACE_UPROBE_SESSION), SectionFlags::SLEEPABLE),
    def("ksyscall+", ProgType::KPROBE, None, SectionFlags::NONE),
    def("kretsyscall+", ProgType::KPROBE, None, SectionFlags::NONE),
    def("usdt+", ProgType::KPROBE, None, SectionFlags::USDT),
    def("usdt.s+", ProgType::KPROBE, None, SectionFlags::USDT.union(SectionFlags::SLEEPABLE)),
    def("tc/ingress", ProgType::SCHED_CLS, Some(AttachType::TCX_INGRESS), SectionFlags::NONE), // alias for tcx
    def("tc/egress", ProgType::SCHED_CLS, Some(AttachType::TCX_EGRESS), SectionFlags::NONE), // alias for tcx
    def("tcx/ingress", ProgType::SCHED_CLS, Some(AttachType::TCX_INGRESS), SectionFlags::NONE),
    def("tcx/egress", ProgType::SCHED_CLS, Some(AttachType::TCX_EGRESS), SectionFlags::NONE),
    def("tc", ProgType::SCHED_CLS, None, SectionFlags::NONE), // deprecated / legacy, use tcx
    def("classifier", ProgType::SCHED_CLS, None, SectionFlags::NONE), // deprecated / legacy, use tcx
    def("action", ProgType::SCHED_ACT, None, SectionFlags::NONE), // deprecated / legacy, use tcx
    def("netkit/primary", ProgType::SCHED_CLS, Some(AttachType::NETKIT_PRIMARY), SectionFlags::NONE),
    def("netkit/peer", ProgType::SCHED_CLS, Some(AttachType::NETKIT_PEER), SectionFlags::NONE),
    def("tracepoint+", ProgType::TRACEPOINT, None, SectionFlags::NONE),
    def("tp+", ProgType::TRACEPOINT, None, SectionFlags::NONE),
    def("tracepoint.s+", ProgType::TRACEPOINT, None, SectionFlags::SLEEPABLE),
    def("tp.s+", ProgType::TRACEPOINT, None, SectionFlags::SLEEPABLE),
    def("raw_tracepoint+", ProgType::RAW_TRACEPOINT, None, SectionFlags::NONE),
    def("raw_tp+", ProgType::RAW_TRACEPOINT, None, SectionFlags::NONE),
    def("raw_tracepoint.s+", ProgType::RAW_TRACEPOINT, None, SectionFlags::SLEEPABLE),
    def("raw_tp.s+", ProgType::RAW_TRACEPOINT, None, SectionFlags::SLEEPABLE),
    def("raw_tracepoint.w+", ProgType::RAW_TRACEPOINT_WRITABLE, None, SectionFlags::NONE),
    def("raw_tp.w+", ProgType::RAW_TRACEPOINT_WRITABLE, None, SectionFlags::NONE),
    def("tp_btf+", ProgType::TRACING, Some(AttachType::TRACE_RAW_TP), SectionFlags::ATTACH_BTF),
    def("tp_btf.s+", ProgType::TRACING, Some(AttachType::TRACE_RAW_TP), SectionFlags::ATTACH_BTF.union(SectionFlags::SLEEPABLE)),
    def("fentry+", ProgType::TRACING, Some(AttachType::TRACE_FENTRY), SectionFlags::ATTACH_BTF),
    def("fmod_ret+", ProgType::TRACING, Some(AttachType::MODIFY_RETURN), SectionFlags::ATTACH_BTF),
    def("fexit+", ProgType::TRACING, Some(AttachType::TRACE_FEXIT), SectionFlags::ATTACH_BTF),
    def("fentry.s+", ProgType::TRACING, Some(AttachType::TRACE_FENTRY), SectionFlags::ATTACH_BTF.union(SectionFlags::SLEEPABLE)),
    def("fmod_ret.s+", ProgType::TRACING, Some(AttachType::MODIFY_RETURN), SectionFlags::ATTACH_BTF.union(SectionFlags::SLEEPABLE)),
    def("fexit.s+", ProgType::TRACING, Some(AttachType::TRACE_FEXIT), SectionFlags::ATTACH_BTF.union(SectionFlags::SLEEPABLE)),
    def("fsession+", ProgType::TRACING, Some(AttachType::TRACE_FSESSION), SectionFlags::ATTACH_BTF),
    def("fsession.s+", ProgType::TRACING, Some(AttachType::TRACE_FSESSION), SectionFlags::ATTACH_BTF.union(SectionFlags::SLEEPABLE)),
    def("fsession.multi+", ProgType::TRACING, Some(AttachType::TRACE_FSESSION_MULTI), SectionFlags::NONE),
    def("fsession.multi.s+", ProgType::TRACING, Some(AttachType::TRACE_FSESSION_MULTI), SectionFlags::SLEEPABLE),
    def("fentry.multi+", ProgType::TRACING, Some(AttachType::TRACE_FENTRY_MULTI), SectionFlags::NONE),
    def("fexit.multi+", ProgType::TRACING, Some(AttachType::TRACE_FEXIT_MULTI), SectionFlags::NONE),
    def("fentry.multi.s+", ProgType::TRACING, Some(AttachType::TRACE_FENTRY_MULTI), SectionFlags::SLEEPABLE),
    def("fexit.multi.s+", ProgType::TRACING, Some(AttachType::TRACE_FEXIT_MULTI), SectionFlags::SLEEPABLE),
    def("freplace+", ProgType::EXT, None, SectionFlags::ATTACH_BTF),
    def("lsm+", ProgType::LSM, Some(AttachType::LSM_MAC), SectionFlags::ATTACH_BTF),
    def("lsm.s+", ProgType::LSM, Some(AttachType::LSM_MAC), SectionFlags::ATTACH_BTF.union(SectionFlags::SLEEPABLE)),
    def("lsm_cgroup+", ProgType::LSM, Some(AttachType::LSM_CGROUP), SectionFlags::ATTACH_BTF),
    def("iter+", ProgType::TRACING, Some(AttachType::TRACE_ITER), SectionFlags::ATTACH_BTF),
    def("iter.s+", ProgType::TRACING, Some(AttachType::TRACE_ITER), SectionFlags::ATTACH_BTF.union(SectionFlags::SLEEPABLE)),
    def("syscall", ProgType::SYSCALL, None, SectionFlags::SLEEPABLE),
    def("xdp.frags/devmap", ProgType::XDP, Some(AttachType::XDP_DEVMAP), SectionFlags::XDP_FRAGS),
    def("xdp/devmap", ProgType::XDP, Some(AttachType::XDP_DEVMAP), SectionFlags::ATTACHABLE),
    def("xdp.frags/cpumap", ProgType::XDP, Some(AttachType::XDP_CPUMAP), SectionFlags::XDP_FRAGS),
    def("xdp/cpumap", ProgType::XDP, Some(AttachType::XDP_CPUMAP), SectionFlags::ATTACHABLE),
    def("xdp.frags", ProgType::XDP, Some(AttachType::XDP), SectionFlags::XDP_FRAGS),
    def("xdp", ProgType::XDP, Some(AttachType::XDP), SectionFlags::ATTACHABLE_OPT),
    def("perf_event", ProgType::PERF_EVENT, None, SectionFlags::NONE),
    def("lwt_in", ProgType::LWT_IN, None, SectionFlags::NONE),
    def("lwt_out", ProgType::LWT_OUT, None, SectionFlags::NONE),
    def("lwt_xmit", ProgType::LWT_XMIT, None, SectionFlags::NONE),
    def("lwt_seg6local", ProgType::LWT_SEG6LOCAL, None, SectionFlags::NONE),
    def("sockops", ProgType::SOCK_OPS, Some(AttachType::CGROUP_SOCK_OPS), SectionFlags::ATTACHABLE_OPT),
    def("sk_skb/stream_parser", ProgType::SK_SKB, Some(AttachType::SK_SKB_STREAM_PARSER), SectionFlags::ATTACHABLE_OPT),
    def("sk_skb/stream_verdict", ProgType::SK_SKB, Some(AttachType::SK_SKB_STREAM_VERDICT), SectionFlags::ATTACHABLE_OPT),
    def("sk_skb/verdict", ProgType::SK_SKB, Some(AttachType::SK_SKB_VERDICT), SectionFlags::ATTACHABLE_OPT),
    def("sk_skb", ProgType::SK_SKB, None, SectionFlags::NONE),
    def("sk_msg", ProgType::SK_MSG, Some(AttachType::SK_MSG_VERDICT), SectionFlags::ATTACHABLE_OPT),
    def("lirc_mode2", ProgType::LIRC_MODE2, Some(AttachType::LIRC_MODE2), SectionFlags::ATTACHABLE_OPT),
    def("flow_dissector", ProgType::FLOW_DISSECTOR, Some(AttachType::FLOW_DISSECTOR), SectionFlags::ATTACHABLE_OPT),
    def("cgroup_skb/ingress", ProgType::CGROUP_SKB, Some(AttachType::CGROUP_INET_INGRESS), SectionFlags::ATTACHABLE_OPT),
    def("cgroup_skb/egress", ProgType::CGROUP_SKB, Some(AttachType::CGROUP_INET_EGRESS), SectionFlags::ATTACHABLE_OPT),
    def("cgroup/skb", ProgType::CGROUP_SKB, None, SectionFlags::NONE),
    def("cgroup/sock_create", ProgType::CGROUP_SOCK, Some(AttachType::CGROUP_INET_SOCK_CREATE), SectionFlags::ATTACHABLE),
    def("cgroup/sock_release", ProgType::CGROUP_SOCK, Some(AttachType::CGROUP_INET_SOCK_RELEASE), SectionFlags::ATTACHABLE),
    def("cgroup/sock", ProgType::CGROUP_SOCK, Some(AttachType::CGROUP_INET_SOCK_CREATE), SectionFlags::ATTACHABLE_OPT),
    def("cgroup/post_bind4", ProgType::CGROUP_SOCK, Some(AttachType::CGROUP_INET4_POST_BIND), SectionFlags::ATTACHABLE),
    def("cgroup/post_bind6", ProgType::CGROUP_SOCK, Some(AttachType::CGROUP_INET6_POST_BIND), SectionFlags::ATTACHABLE),
    def("cgroup/bind4", ProgType::CGROUP_SOCK_ADDR, Some(AttachType::CGROUP_INET4_BIND), SectionFlags::ATTACHABLE),
    def("cgroup/bind6", ProgType::CGROUP_SOCK_ADDR, Some(AttachType::CGROUP_INET6_BIND), SectionFlags::ATTACHABLE),
    def("cgroup/connect4", ProgType::CGROUP_SOCK_ADDR, Some(AttachType::CGROUP_INET4_CONNECT), SectionFlags::ATTACHABLE),
    def("cgroup/connect6", ProgType::CGROUP_SOCK_ADDR, Some(AttachType::CGROUP_INET6_CONNECT), SectionFlags::ATTACHABLE),
    def("cgroup/connect_unix", ProgType::CGROUP_SOCK_ADDR, Some(AttachType::CGROUP_UNIX_CONNECT), SectionFlags::ATTACHABLE),
    def("cgroup/sendmsg4", ProgType::CGROUP_SOCK_ADDR, Some(AttachType::CGROUP_UDP4_SENDMSG), SectionFlags::ATTACHABLE),
    def("cgroup/sendmsg6", ProgType::CGROUP_SOCK_ADDR, Some(AttachType::CGROUP_UDP6_SENDMSG), SectionFlags::ATTACHABLE),
    def("cgroup/sendmsg_unix", ProgType::CGROUP_SOCK_ADDR, Some(AttachType::CGROUP_UNIX_SENDMSG), SectionFlags::ATTACHABLE),
    def("cgroup/recvmsg4", ProgType::CGROUP_SOCK_ADDR, Some(AttachType::CGROUP_UDP4_RECVMSG), SectionFlags::ATTACHABLE),
    def("cgroup/recvmsg6", ProgType::CGROUP_SOCK_ADDR, Some(AttachType::CGROUP_UDP6_RECVMSG), SectionFlags::ATTACHABLE),
    def("cgroup/recvmsg_unix", ProgType::CGROUP_SOCK_ADDR, Some(AttachType::CGROUP_UNIX_RECVMSG), SectionFlags::ATTACHABLE),
    def("cgroup/getpeername4", ProgType::CGROUP_SOCK_ADDR, Some(AttachType::CGROUP_INET4_GETPEERNAME), SectionFlags::ATTACHABLE),
    def("cgroup/getpeername6", ProgType::CGROUP_SOCK_ADDR, Some(AttachType::CGROUP_INET6_GETPEERNAME), SectionFlags::ATTACHABLE),
    def("cgroup/getpeername_unix", ProgType::CGROUP_SOCK_ADDR, Some(AttachType::CGROUP_UNIX_GETPEERNAME), SectionFlags::ATTACHABLE),
    def("cgroup/getsockname4", ProgType::CGROUP_SOCK_ADDR, Some(AttachType::CGROUP_INET4_GETSOCKNAME), SectionFlags::ATTACHABLE),
    def("cgroup/getsockname6", ProgType::CGROUP_SOCK_ADDR, Some(AttachType::CGROUP_INET6_GETSOCKNAME), SectionFlags::ATTACHABLE),
    def("cgroup/getsockname_unix", ProgType::CGROUP_SOCK_ADDR, Some(AttachType::CGROUP_UNIX_GETSOCKNAME), SectionFlags::ATTACHABLE),
    def("cgroup/sysctl", ProgType::CGROUP_SYSCTL, Some(AttachType::CGROUP_SYSCTL), SectionFlags::ATTACHABLE),
    def("cgroup/getsockopt", ProgType::CGROUP_SOCKOPT, Some(AttachType::CGROUP_GETSOCKOPT), SectionFlags::ATTACHABLE),
    def("cgroup/setsockopt", ProgType::CGROUP_SOCKOPT, Some(AttachType::CGROUP_SETSOCKOPT), SectionFlags::ATTACHABLE),
    def("cgroup/dev", ProgType::CGROUP_DEVICE, Some(AttachType::CGROUP_DEVICE), SectionFlags::ATTACHABLE_OPT),
    def("struct_ops+", ProgType::STRUCT_OPS, None, SectionFlags::NONE),
    def("struct_ops.s+", ProgType::STRUCT_OPS, None, SectionFlags::SLEEPABLE),
    def("sk_lookup", ProgType::SK_LOOKUP, Some(AttachType::SK_LOOKUP), SectionFlags::ATTACHABLE),
    def("netfilter", ProgType::NETFILTER, Some(AttachType::NETFILTER), SectionFlags::NONE),
];

/// The first entry of [`SECTION_DEFS`] matching `name`, as libbpf's `find_sec_def` finds it.
pub fn find_section_def(name: &str) -> Option<&'static SectionDef> {
    SECTION_DEFS.iter().find(|def| def.matches(name))
}

/// A section name no entry of [`SECTION_DEFS`] matches.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("unknown program section name '{0}'")]
pub struct UnknownSection(pub String);

/// A program's `SEC("...")` name, parsed with libbpf's table (model: aya-obj's
/// `ProgramSection`).
///
/// ```
/// use bpfkit_uapi::{AttachType, ProgType, ProgramSection};
/// let sec: ProgramSection = "fentry.s/do_unlinkat".parse().unwrap();
/// assert_eq!(sec.prog_type(), ProgType::TRACING);
/// assert_eq!(sec.expected_attach_type(), Some(AttachType::TRACE_FENTRY));
/// assert_eq!(sec.attach_target(), Some("do_unlinkat"));
/// assert!(sec.is_sleepable());
///
/// let tp: ProgramSection = "tracepoint/syscalls/sys_enter_openat".parse().unwrap();
/// assert_eq!(tp.prog_type(), ProgType::TRACEPOINT);
/// assert_eq!(tp.attach_target(), Some("syscalls/sys_enter_openat"));
/// assert!("kprobex".parse::<ProgramSection>().is_err());
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ProgramSection {
    name: String,
    def: &'static SectionDef,
}

impl ProgramSection {
    /// Parses a section name; fails when no table entry matches it.
    pub fn parse(name: &str) -> Result<ProgramSection, UnknownSection> {
        match find_section_def(name) {
            Some(def) => Ok(ProgramSection {
                name: name.to_string(),
                def,
            }),
            None => Err(UnknownSection(name.to_string())),
        }
    }

    /// The whole section name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The table entry the name matched.
    pub fn def(&self) -> &'static SectionDef {
        self.def
    }

    /// The program type.
    pub fn prog_type(&self) -> ProgType {
        self.def.prog_type
    }

    /// The expected attach type passed at load, if any.
    pub fn expected_attach_type(&self) -> Option<AttachType> {
        self.def.attach_type
    }

    /// The attach target the name carries after the prefix and `/` (a function, a tracepoint
    /// `category/name`, a `binary:symbol`, ...), if any.
    pub fn attach_target(&self) -> Option<&str> {
        self.def.target_of(&self.name)
    }

    /// Whether the program may sleep.
    pub fn is_sleepable(&self) -> bool {
        self.def.is_sleepable()
    }

    /// Whether the program attaches to a BTF id named by its target (fentry, lsm, tp_btf, ...).
    pub fn requires_btf_target(&self) -> bool {
        self.def.requires_btf_target()
    }

    /// Whether the program needs a BTF attach target but its name gives none, so the loader must
    /// be told one (libbpf: `bpf_program__set_attach_target`).
    pub fn is_missing_target(&self) -> bool {
        self.requires_btf_target() && self.attach_target().is_none()
    }

    /// The `prog_flags` to pass at load.
    pub fn prog_flags(&self) -> ProgFlags {
        self.def.prog_flags()
    }
}

impl FromStr for ProgramSection {
    type Err = UnknownSection;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        ProgramSection::parse(s)
    }
}

impl fmt::Display for ProgramSection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad(&self.name)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matching_follows_libbpf() {
        // Values from libbpf's section_defs and sec_def_matches.
        type Meaning = (ProgType, Option<AttachType>, Option<&'static str>);
        let cases: &[(&str, Option<Meaning>)] = &[
            ("socket", Some((ProgType::SOCKET_FILTER, None, None))),
            ("socket/x", None),
            ("kprobe", Some((ProgType::KPROBE, None, None))),
            ("kprobe/", Some((ProgType::KPROBE, None, None))),
            (
                "kprobe/do_unlinkat",
                Some((ProgType::KPROBE, None, Some("do_unlinkat"))),
            ),
            ("kprobex", None),
            (
                "kprobe.multi/vfs_*",
                Some((
                    ProgType::KPROBE,
                    Some(AttachType::TRACE_KPROBE_MULTI),
                    Some("vfs_*"),
                )),
            ),
            (
                "uprobe//bin/bash:readline",
                Some((ProgType::KPROBE, None, Some("/bin/bash:readline"))),
            ),
            ("tc", Some((ProgType::SCHED_CLS, None, None))),
            (
                "tc/ingress",
                Some((ProgType::SCHED_CLS, Some(AttachType::TCX_INGRESS), None)),
            ),
            ("tc/other", None),
            ("xdp", Some((ProgType::XDP, Some(AttachType::XDP), None))),
            (
                "xdp.frags/devmap",
                Some((ProgType::XDP, Some(AttachType::XDP_DEVMAP), None)),
            ),
            ("xdp/foo", None),
            (
                "tp/sched/sched_switch",
                Some((ProgType::TRACEPOINT, None, Some("sched/sched_switch"))),
            ),
            (
                "raw_tp.w/x",
                Some((ProgType::RAW_TRACEPOINT_WRITABLE, None, Some("x"))),
            ),
            (
                "lsm.s/file_open",
                Some((ProgType::LSM, Some(AttachType::LSM_MAC), Some("file_open"))),
            ),
            (
                "iter/task",
                Some((
                    ProgType::TRACING,
                    Some(AttachType::TRACE_ITER),
                    Some("task"),
                )),
            ),
            (
                "cgroup/connect4",
                Some((
                    ProgType::CGROUP_SOCK_ADDR,
                    Some(AttachType::CGROUP_INET4_CONNECT),
                    None,
                )),
            ),
            (
                "cgroup_skb/ingress",
                Some((
                    ProgType::CGROUP_SKB,
                    Some(AttachType::CGROUP_INET_INGRESS),
                    None,
                )),
            ),
            (
                "struct_ops/dctcp_init",
                Some((ProgType::STRUCT_OPS, None, Some("dctcp_init"))),
            ),
            (".text", None),
            ("", None),
        ];
        for (name, want) in cases {
            let got = ProgramSection::parse(name).ok().map(|s| {
                (
                    s.prog_type(),
                    s.expected_attach_type(),
                    s.attach_target().map(str::to_owned),
                )
            });
            let want = want.map(|(p, a, t)| (p, a, t.map(str::to_owned)));
            assert_eq!(got, want, "{name}");
        }
    }

    #[test]
    fn flags_and_targets() {
        let s = ProgramSection::parse("fentry").unwrap();
        assert!(s.requires_btf_target() && s.is_missing_target());
        let s = ProgramSection::parse("fentry/x").unwrap();
        assert!(!s.is_missing_target() && !s.is_sleepable());
        assert_eq!(
            ProgramSection::parse("xdp.frags").unwrap().prog_flags(),
            ProgFlags::XDP_HAS_FRAGS
        );
        assert_eq!(
            ProgramSection::parse("iter.s/task").unwrap().prog_flags(),
            ProgFlags::SLEEPABLE
        );
        assert_eq!(
            ProgramSection::parse("syscall").unwrap().prog_flags(),
            ProgFlags::SLEEPABLE
        );
        assert_eq!(
            ProgramSection::parse("xdp").unwrap().prog_flags(),
            ProgFlags::NONE
        );
    }

    #[test]
    fn no_entry_is_shadowed() {
        // Every entry is the first match for its own prefix: none is unreachable behind an
        // earlier, more general one.
        for def in SECTION_DEFS {
            let first = find_section_def(def.prefix()).unwrap();
            assert!(
                core::ptr::eq(first, def),
                "{} shadowed by {}",
                def.pattern,
                first.pattern
            );
        }
    }
}
