//! `enum bpf_attach_type`: where a program attaches (the `expected_attach_type` at load).

use crate::macros::uapi_enum;

uapi_enum! {
    /// An attach type (`enum bpf_attach_type`),
    /// values from the kernel's `include/uapi/linux/bpf.h` (libbpf's copy at f7081a6, 2026-07).
    ///
    /// Value 0 is `BPF_CGROUP_INET_INGRESS`; libbpf's section table uses 0 for "no expected
    /// attach type", which [`SectionDef::attach_type`](crate::SectionDef::attach_type) models as
    /// `None`.
    ///
    /// ```
    /// use bpfkit_uapi::AttachType;
    /// assert_eq!(AttachType::TRACE_FENTRY.0, 24);
    /// assert_eq!(AttachType::XDP.to_string(), "BPF_XDP");
    /// assert_eq!(format!("{:#}", AttachType::TRACE_RAW_TP), "trace_raw_tp");
    /// ```
    AttachType(u32), prefix = "BPF_", kind = "attach type" {
        /// `BPF_CGROUP_INET_INGRESS`: Packets entering a cgroup (`cgroup_skb/ingress`).
        CGROUP_INET_INGRESS = 0 => "cgroup_inet_ingress",
        /// `BPF_CGROUP_INET_EGRESS`: Packets leaving a cgroup (`cgroup_skb/egress`).
        CGROUP_INET_EGRESS = 1 => "cgroup_inet_egress",
        /// `BPF_CGROUP_INET_SOCK_CREATE`: Socket creation in a cgroup.
        CGROUP_INET_SOCK_CREATE = 2 => "cgroup_inet_sock_create",
        /// `BPF_CGROUP_SOCK_OPS`: TCP socket operations in a cgroup.
        CGROUP_SOCK_OPS = 3 => "cgroup_sock_ops",
        /// `BPF_SK_SKB_STREAM_PARSER`: Sockmap stream parser.
        SK_SKB_STREAM_PARSER = 4 => "sk_skb_stream_parser",
        /// `BPF_SK_SKB_STREAM_VERDICT`: Sockmap stream verdict.
        SK_SKB_STREAM_VERDICT = 5 => "sk_skb_stream_verdict",
        /// `BPF_CGROUP_DEVICE`: Device access in a cgroup.
        CGROUP_DEVICE = 6 => "cgroup_device",
        /// `BPF_SK_MSG_VERDICT`: Sockmap `sendmsg` verdict.
        SK_MSG_VERDICT = 7 => "sk_msg_verdict",
        /// `BPF_CGROUP_INET4_BIND`: IPv4 `bind` in a cgroup.
        CGROUP_INET4_BIND = 8 => "cgroup_inet4_bind",
        /// `BPF_CGROUP_INET6_BIND`: IPv6 `bind` in a cgroup.
        CGROUP_INET6_BIND = 9 => "cgroup_inet6_bind",
        /// `BPF_CGROUP_INET4_CONNECT`: IPv4 `connect` in a cgroup.
        CGROUP_INET4_CONNECT = 10 => "cgroup_inet4_connect",
        /// `BPF_CGROUP_INET6_CONNECT`: IPv6 `connect` in a cgroup.
        CGROUP_INET6_CONNECT = 11 => "cgroup_inet6_connect",
        /// `BPF_CGROUP_INET4_POST_BIND`: After an IPv4 `bind` in a cgroup.
        CGROUP_INET4_POST_BIND = 12 => "cgroup_inet4_post_bind",
        /// `BPF_CGROUP_INET6_POST_BIND`: After an IPv6 `bind` in a cgroup.
        CGROUP_INET6_POST_BIND = 13 => "cgroup_inet6_post_bind",
        /// `BPF_CGROUP_UDP4_SENDMSG`: UDPv4 `sendmsg` in a cgroup.
        CGROUP_UDP4_SENDMSG = 14 => "cgroup_udp4_sendmsg",
        /// `BPF_CGROUP_UDP6_SENDMSG`: UDPv6 `sendmsg` in a cgroup.
        CGROUP_UDP6_SENDMSG = 15 => "cgroup_udp6_sendmsg",
        /// `BPF_LIRC_MODE2`: Infrared remote control device.
        LIRC_MODE2 = 16 => "lirc_mode2",
        /// `BPF_FLOW_DISSECTOR`: Flow dissector of a network namespace.
        FLOW_DISSECTOR = 17 => "flow_dissector",
        /// `BPF_CGROUP_SYSCTL`: sysctl access in a cgroup.
        CGROUP_SYSCTL = 18 => "cgroup_sysctl",
        /// `BPF_CGROUP_UDP4_RECVMSG`: UDPv4 `recvmsg` in a cgroup.
        CGROUP_UDP4_RECVMSG = 19 => "cgroup_udp4_recvmsg",
        /// `BPF_CGROUP_UDP6_RECVMSG`: UDPv6 `recvmsg` in a cgroup.
        CGROUP_UDP6_RECVMSG = 20 => "cgroup_udp6_recvmsg",
        /// `BPF_CGROUP_GETSOCKOPT`: `getsockopt` in a cgroup.
        CGROUP_GETSOCKOPT = 21 => "cgroup_getsockopt",
        /// `BPF_CGROUP_SETSOCKOPT`: `setsockopt` in a cgroup.
        CGROUP_SETSOCKOPT = 22 => "cgroup_setsockopt",
        /// `BPF_TRACE_RAW_TP`: BTF-typed raw tracepoint (`tp_btf`).
        TRACE_RAW_TP = 23 => "trace_raw_tp",
        /// `BPF_TRACE_FENTRY`: Function entry (`fentry`).
        TRACE_FENTRY = 24 => "trace_fentry",
        /// `BPF_TRACE_FEXIT`: Function exit (`fexit`).
        TRACE_FEXIT = 25 => "trace_fexit",
        /// `BPF_MODIFY_RETURN`: Overrides a function's return value (`fmod_ret`).
        MODIFY_RETURN = 26 => "modify_return",
        /// `BPF_LSM_MAC`: LSM hook (`lsm`).
        LSM_MAC = 27 => "lsm_mac",
        /// `BPF_TRACE_ITER`: BPF iterator (`iter`).
        TRACE_ITER = 28 => "trace_iter",
        /// `BPF_CGROUP_INET4_GETPEERNAME`: IPv4 `getpeername` in a cgroup.
        CGROUP_INET4_GETPEERNAME = 29 => "cgroup_inet4_getpeername",
        /// `BPF_CGROUP_INET6_GETPEERNAME`: IPv6 `getpeername` in a cgroup.
        CGROUP_INET6_GETPEERNAME = 30 => "cgroup_inet6_getpeername",
        /// `BPF_CGROUP_INET4_GETSOCKNAME`: IPv4 `getsockname` in a cgroup.
        CGROUP_INET4_GETSOCKNAME = 31 => "cgroup_inet4_getsockname",
        /// `BPF_CGROUP_INET6_GETSOCKNAME`: IPv6 `getsockname` in a cgroup.
        CGROUP_INET6_GETSOCKNAME = 32 => "cgroup_inet6_getsockname",
        /// `BPF_XDP_DEVMAP`: XDP program run by a devmap entry.
        XDP_DEVMAP = 33 => "xdp_devmap",
        /// `BPF_CGROUP_INET_SOCK_RELEASE`: Socket release in a cgroup.
        CGROUP_INET_SOCK_RELEASE = 34 => "cgroup_inet_sock_release",
        /// `BPF_XDP_CPUMAP`: XDP program run by a cpumap entry.
        XDP_CPUMAP = 35 => "xdp_cpumap",
        /// `BPF_SK_LOOKUP`: Socket lookup in a network namespace.
        SK_LOOKUP = 36 => "sk_lookup",
        /// `BPF_XDP`: XDP on a network device (through a link).
        XDP = 37 => "xdp",
        /// `BPF_SK_SKB_VERDICT`: Sockmap verdict (stream or datagram).
        SK_SKB_VERDICT = 38 => "sk_skb_verdict",
        /// `BPF_SK_REUSEPORT_SELECT`: `SO_REUSEPORT` socket selection.
        SK_REUSEPORT_SELECT = 39 => "sk_reuseport_select",
        /// `BPF_SK_REUSEPORT_SELECT_OR_MIGRATE`: `SO_REUSEPORT` selection, also on migration.
        SK_REUSEPORT_SELECT_OR_MIGRATE = 40 => "sk_reuseport_select_or_migrate",
        /// `BPF_PERF_EVENT`: perf event (through a link).
        PERF_EVENT = 41 => "perf_event",
        /// `BPF_TRACE_KPROBE_MULTI`: Many kprobes at once (`kprobe.multi`).
        TRACE_KPROBE_MULTI = 42 => "trace_kprobe_multi",
        /// `BPF_LSM_CGROUP`: LSM hook scoped to a cgroup.
        LSM_CGROUP = 43 => "lsm_cgroup",
        /// `BPF_STRUCT_OPS`: Member of a `struct_ops`.
        STRUCT_OPS = 44 => "struct_ops",
        /// `BPF_NETFILTER`: Netfilter hook.
        NETFILTER = 45 => "netfilter",
        /// `BPF_TCX_INGRESS`: tcx ingress of a network device.
        TCX_INGRESS = 46 => "tcx_ingress",
        /// `BPF_TCX_EGRESS`: tcx egress of a network device.
        TCX_EGRESS = 47 => "tcx_egress",
        /// `BPF_TRACE_UPROBE_MULTI`: Many uprobes at once (`uprobe.multi`).
        TRACE_UPROBE_MULTI = 48 => "trace_uprobe_multi",
        /// `BPF_CGROUP_UNIX_CONNECT`: Unix socket `connect` in a cgroup.
        CGROUP_UNIX_CONNECT = 49 => "cgroup_unix_connect",
        /// `BPF_CGROUP_UNIX_SENDMSG`: Unix socket `sendmsg` in a cgroup.
        CGROUP_UNIX_SENDMSG = 50 => "cgroup_unix_sendmsg",
        /// `BPF_CGROUP_UNIX_RECVMSG`: Unix socket `recvmsg` in a cgroup.
        CGROUP_UNIX_RECVMSG = 51 => "cgroup_unix_recvmsg",
        /// `BPF_CGROUP_UNIX_GETPEERNAME`: Unix socket `getpeername` in a cgroup.
        CGROUP_UNIX_GETPEERNAME = 52 => "cgroup_unix_getpeername",
        /// `BPF_CGROUP_UNIX_GETSOCKNAME`: Unix socket `getsockname` in a cgroup.
        CGROUP_UNIX_GETSOCKNAME = 53 => "cgroup_unix_getsockname",
        /// `BPF_NETKIT_PRIMARY`: Primary device of a netkit pair.
        NETKIT_PRIMARY = 54 => "netkit_primary",
        /// `BPF_NETKIT_PEER`: Peer device of a netkit pair.
        NETKIT_PEER = 55 => "netkit_peer",
        /// `BPF_TRACE_KPROBE_SESSION`: kprobe entry and return in one program (`kprobe.session`).
        TRACE_KPROBE_SESSION = 56 => "trace_kprobe_session",
        /// `BPF_TRACE_UPROBE_SESSION`: uprobe entry and return in one program (`uprobe.session`).
        TRACE_UPROBE_SESSION = 57 => "trace_uprobe_session",
        /// `BPF_TRACE_FSESSION`: fentry and fexit in one program (`fsession`).
        TRACE_FSESSION = 58 => "trace_fsession",
        /// `BPF_TRACE_FENTRY_MULTI`: Function entry of many functions (`fentry.multi`).
        TRACE_FENTRY_MULTI = 59 => "trace_fentry_multi",
        /// `BPF_TRACE_FEXIT_MULTI`: Function exit of many functions (`fexit.multi`).
        TRACE_FEXIT_MULTI = 60 => "trace_fexit_multi",
        /// `BPF_TRACE_FSESSION_MULTI`: fsession on many functions (`fsession.multi`).
        TRACE_FSESSION_MULTI = 61 => "trace_fsession_multi",
    }
    aliases {
    }
}
