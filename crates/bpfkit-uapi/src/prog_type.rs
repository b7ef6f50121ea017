//! `enum bpf_prog_type`: what kind of program the kernel is asked to load.

use crate::macros::uapi_enum;

uapi_enum! {
    /// A program type (`enum bpf_prog_type`),
    /// values from the kernel's `include/uapi/linux/bpf.h` (libbpf's copy at f7081a6, 2026-07).
    ///
    /// ```
    /// use bpfkit_uapi::ProgType;
    /// assert_eq!(ProgType::XDP.0, 6);
    /// assert_eq!(ProgType::XDP.to_string(), "BPF_PROG_TYPE_XDP");
    /// assert_eq!(format!("{:#}", ProgType::SCHED_CLS), "sched_cls");
    /// assert_eq!("sched_cls".parse::<ProgType>(), Ok(ProgType::SCHED_CLS));
    /// assert_eq!(ProgType(99).to_string(), "ProgType(99)");
    /// ```
    ProgType(u32), prefix = "BPF_PROG_TYPE_", kind = "program type" {
        /// `BPF_PROG_TYPE_UNSPEC`: No program type (reserved).
        UNSPEC = 0 => "unspec",
        /// `BPF_PROG_TYPE_SOCKET_FILTER`:
        /// Filters packets on a socket (`SO_ATTACH_BPF`); returns the bytes to keep.
        SOCKET_FILTER = 1 => "socket_filter",
        /// `BPF_PROG_TYPE_KPROBE`: Kprobes, uprobes, USDT and syscall probes.
        KPROBE = 2 => "kprobe",
        /// `BPF_PROG_TYPE_SCHED_CLS`: Traffic control classifier (tc, tcx, netkit).
        SCHED_CLS = 3 => "sched_cls",
        /// `BPF_PROG_TYPE_SCHED_ACT`: Traffic control action.
        SCHED_ACT = 4 => "sched_act",
        /// `BPF_PROG_TYPE_TRACEPOINT`: Static kernel tracepoints.
        TRACEPOINT = 5 => "tracepoint",
        /// `BPF_PROG_TYPE_XDP`: eXpress Data Path: runs on a packet at the driver.
        XDP = 6 => "xdp",
        /// `BPF_PROG_TYPE_PERF_EVENT`: Runs on perf events (sampling).
        PERF_EVENT = 7 => "perf_event",
        /// `BPF_PROG_TYPE_CGROUP_SKB`: Filters packets entering or leaving a cgroup.
        CGROUP_SKB = 8 => "cgroup_skb",
        /// `BPF_PROG_TYPE_CGROUP_SOCK`: Runs on socket creation, release and post-bind in a cgroup.
        CGROUP_SOCK = 9 => "cgroup_sock",
        /// `BPF_PROG_TYPE_LWT_IN`: Lightweight tunnel, input path.
        LWT_IN = 10 => "lwt_in",
        /// `BPF_PROG_TYPE_LWT_OUT`: Lightweight tunnel, output path.
        LWT_OUT = 11 => "lwt_out",
        /// `BPF_PROG_TYPE_LWT_XMIT`: Lightweight tunnel, transmit path.
        LWT_XMIT = 12 => "lwt_xmit",
        /// `BPF_PROG_TYPE_SOCK_OPS`: TCP socket operations callbacks.
        SOCK_OPS = 13 => "sock_ops",
        /// `BPF_PROG_TYPE_SK_SKB`: Stream parser and verdict programs of sockmaps.
        SK_SKB = 14 => "sk_skb",
        /// `BPF_PROG_TYPE_CGROUP_DEVICE`: Device access control in a cgroup.
        CGROUP_DEVICE = 15 => "cgroup_device",
        /// `BPF_PROG_TYPE_SK_MSG`: Verdicts on `sendmsg` data of sockmap sockets.
        SK_MSG = 16 => "sk_msg",
        /// `BPF_PROG_TYPE_RAW_TRACEPOINT`: Raw tracepoints (untyped arguments).
        RAW_TRACEPOINT = 17 => "raw_tracepoint",
        /// `BPF_PROG_TYPE_CGROUP_SOCK_ADDR`:
        /// bind/connect/sendmsg/recvmsg/getname hooks in a cgroup.
        CGROUP_SOCK_ADDR = 18 => "cgroup_sock_addr",
        /// `BPF_PROG_TYPE_LWT_SEG6LOCAL`: IPv6 segment routing local actions.
        LWT_SEG6LOCAL = 19 => "lwt_seg6local",
        /// `BPF_PROG_TYPE_LIRC_MODE2`: Infrared remote control decoding.
        LIRC_MODE2 = 20 => "lirc_mode2",
        /// `BPF_PROG_TYPE_SK_REUSEPORT`: Selects a socket in a `SO_REUSEPORT` group.
        SK_REUSEPORT = 21 => "sk_reuseport",
        /// `BPF_PROG_TYPE_FLOW_DISSECTOR`: Replaces the kernel flow dissector.
        FLOW_DISSECTOR = 22 => "flow_dissector",
        /// `BPF_PROG_TYPE_CGROUP_SYSCTL`: sysctl access control in a cgroup.
        CGROUP_SYSCTL = 23 => "cgroup_sysctl",
        /// `BPF_PROG_TYPE_RAW_TRACEPOINT_WRITABLE`:
        /// Raw tracepoints whose arguments the program may write.
        RAW_TRACEPOINT_WRITABLE = 24 => "raw_tracepoint_writable",
        /// `BPF_PROG_TYPE_CGROUP_SOCKOPT`: getsockopt/setsockopt hooks in a cgroup.
        CGROUP_SOCKOPT = 25 => "cgroup_sockopt",
        /// `BPF_PROG_TYPE_TRACING`: BTF-typed tracing: fentry, fexit, fmod_ret, tp_btf, iterators.
        TRACING = 26 => "tracing",
        /// `BPF_PROG_TYPE_STRUCT_OPS`: Implements a kernel `struct *_ops` callback.
        STRUCT_OPS = 27 => "struct_ops",
        /// `BPF_PROG_TYPE_EXT`: Replaces a function of another BPF program (freplace).
        EXT = 28 => "ext",
        /// `BPF_PROG_TYPE_LSM`: Linux Security Module hooks.
        LSM = 29 => "lsm",
        /// `BPF_PROG_TYPE_SK_LOOKUP`: Socket lookup for incoming connections.
        SK_LOOKUP = 30 => "sk_lookup",
        /// `BPF_PROG_TYPE_SYSCALL`: Runs from the bpf(2) syscall and may itself call bpf syscalls.
        SYSCALL = 31 => "syscall",
        /// `BPF_PROG_TYPE_NETFILTER`: Netfilter hooks.
        NETFILTER = 32 => "netfilter",
    }
    aliases {
    }
}
