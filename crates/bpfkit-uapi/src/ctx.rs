//! Program contexts as data: the layout of each context struct (`__sk_buff`, `xdp_md`, ...) and
//! which accesses each program type may make, as the kernel's `*_is_valid_access` functions
//! decide them.
//!
//! One table for the verifier (what a ctx load yields, which accesses are refused) and the
//! userspace runtime (where each field lives). Layouts are x86_64's; a test checks every offset
//! and size against the running kernel's BTF.
//!
//! ```
//! use bpfkit_uapi::{ctx_access, AttachType, CtxReg, ProgType, SK_BUFF};
//! let data = SK_BUFF.field("data").unwrap();
//! assert_eq!((data.offset, data.size), (76, 4));
//! // A tc program reads skb->data as a packet pointer; a socket filter may not read it.
//! let tc = ctx_access(ProgType::SCHED_CLS, AttachType(0), 76, 4, false).unwrap();
//! assert_eq!(tc.reg, CtxReg::Packet);
//! assert!(ctx_access(ProgType::SOCKET_FILTER, AttachType(0), 76, 4, false).is_none());
//! ```

use crate::{AttachType, ProgType};

/// What a field holds, and so what a load of it gives the program.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum CtxReg {
    /// A number.
    Scalar,
    /// `PTR_TO_PACKET`: the packet's first byte.
    Packet,
    /// `PTR_TO_PACKET_END`: one past the packet's last byte.
    PacketEnd,
    /// `PTR_TO_PACKET_META`: the start of the metadata before the packet.
    PacketMeta,
    /// `PTR_TO_SOCK_COMMON_OR_NULL`: the packet's socket, if any (`__sk_buff.sk`).
    SockCommonOrNull,
    /// `PTR_TO_SOCKET`: the socket (`bpf_sock_addr.sk`).
    Socket,
    /// `PTR_TO_FLOW_KEYS` (`__sk_buff.flow_keys` in flow dissectors).
    FlowKeys,
}

/// One field of a context struct.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CtxField {
    /// The C name (without the array index).
    pub name: &'static str,
    /// Byte offset in the struct.
    pub offset: u32,
    /// Size of one element in bytes.
    pub size: u32,
    /// Number of elements (1 for a plain field, 4 for `remote_ip6[4]`).
    pub count: u32,
    /// What a load of the field gives, where the program type allows it (pointer fields are
    /// pointers only for the program types whose rules say so).
    pub reg: CtxReg,
}

impl CtxField {
    /// One past the field's last byte.
    pub const fn end(&self) -> u32 {
        self.offset + self.size * self.count
    }

    /// Whether the field covers byte `off`.
    pub const fn covers(&self, off: u32) -> bool {
        off >= self.offset && off < self.end()
    }
}

/// A context struct: its C name, size and fields.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CtxLayout {
    /// The C struct name (`__sk_buff`).
    pub name: &'static str,
    /// `sizeof` the struct.
    pub size: u32,
    /// The fields, by offset.
    pub fields: &'static [CtxField],
}

impl CtxLayout {
    /// The field named `name`.
    pub fn field(&self, name: &str) -> Option<&'static CtxField> {
        self.fields.iter().find(|f| f.name == name)
    }

    /// The field covering byte `off`.
    pub fn field_at(&self, off: u32) -> Option<&'static CtxField> {
        self.fields.iter().find(|f| f.covers(off))
    }
}

const fn f(name: &'static str, offset: u32, size: u32) -> CtxField {
    CtxField {
        name,
        offset,
        size,
        count: 1,
        reg: CtxReg::Scalar,
    }
}
const fn arr(name: &'static str, offset: u32, size: u32, count: u32) -> CtxField {
    CtxField {
        name,
        offset,
        size,
        count,
        reg: CtxReg::Scalar,
    }
}
const fn ptr(name: &'static str, offset: u32, size: u32, reg: CtxReg) -> CtxField {
    CtxField {
        name,
        offset,
        size,
        count: 1,
        reg,
    }
}

/// `struct __sk_buff`: socket filters, tc, cgroup skb, lwt, sk_skb, flow dissector programs.
pub static SK_BUFF: CtxLayout = CtxLayout {
    name: "__sk_buff",
    size: 192,
    fields: &[
        f("len", 0, 4),
        f("pkt_type", 4, 4),
        f("mark", 8, 4),
        f("queue_mapping", 12, 4),
        f("protocol", 16, 4),
        f("vlan_present", 20, 4),
        f("vlan_tci", 24, 4),
        f("vlan_proto", 28, 4),
        f("priority", 32, 4),
        f("ingress_ifindex", 36, 4),
        f("ifindex", 40, 4),
        f("tc_index", 44, 4),
        arr("cb", 48, 4, 5),
        f("hash", 68, 4),
        f("tc_classid", 72, 4),
        ptr("data", 76, 4, CtxReg::Packet),
        ptr("data_end", 80, 4, CtxReg::PacketEnd),
        f("napi_id", 84, 4),
        f("family", 88, 4),
        f("remote_ip4", 92, 4),
        f("local_ip4", 96, 4),
        arr("remote_ip6", 100, 4, 4),
        arr("local_ip6", 116, 4, 4),
        f("remote_port", 132, 4),
        f("local_port", 136, 4),
        ptr("data_meta", 140, 4, CtxReg::PacketMeta),
        ptr("flow_keys", 144, 8, CtxReg::FlowKeys),
        f("tstamp", 152, 8),
        f("wire_len", 160, 4),
        f("gso_segs", 164, 4),
        ptr("sk", 168, 8, CtxReg::SockCommonOrNull),
        f("gso_size", 176, 4),
        f("tstamp_type", 180, 1),
        f("hwtstamp", 184, 8),
    ],
};

/// `struct xdp_md`: XDP programs.
pub static XDP_MD: CtxLayout = CtxLayout {
    name: "xdp_md",
    size: 24,
    fields: &[
        ptr("data", 0, 4, CtxReg::Packet),
        ptr("data_end", 4, 4, CtxReg::PacketEnd),
        ptr("data_meta", 8, 4, CtxReg::PacketMeta),
        f("ingress_ifindex", 12, 4),
        f("rx_queue_index", 16, 4),
        f("egress_ifindex", 20, 4),
    ],
};

/// `struct bpf_sock_addr`: cgroup sock_addr programs (bind, connect, sendmsg, ...).
pub static BPF_SOCK_ADDR: CtxLayout = CtxLayout {
    name: "bpf_sock_addr",
    size: 72,
    fields: &[
        f("user_family", 0, 4),
        f("user_ip4", 4, 4),
        arr("user_ip6", 8, 4, 4),
        f("user_port", 24, 4),
        f("family", 28, 4),
        f("type", 32, 4),
        f("protocol", 36, 4),
        f("msg_src_ip4", 40, 4),
        arr("msg_src_ip6", 44, 4, 4),
        ptr("sk", 64, 8, CtxReg::Socket),
    ],
};

/// `struct bpf_sock`: what a socket pointer (`PTR_TO_SOCKET`, `PTR_TO_SOCK_COMMON`) points at.
pub static BPF_SOCK: CtxLayout = CtxLayout {
    name: "bpf_sock",
    size: 80,
    fields: &[
        f("bound_dev_if", 0, 4),
        f("family", 4, 4),
        f("type", 8, 4),
        f("protocol", 12, 4),
        f("mark", 16, 4),
        f("priority", 20, 4),
        f("src_ip4", 24, 4),
        arr("src_ip6", 28, 4, 4),
        f("src_port", 44, 4),
        f("dst_port", 48, 2),
        f("dst_ip4", 52, 4),
        arr("dst_ip6", 56, 4, 4),
        f("state", 72, 4),
        f("rx_queue_mapping", 76, 4),
    ],
};

/// `struct pt_regs` of x86_64: kprobe programs.
pub static PT_REGS: CtxLayout = CtxLayout {
    name: "pt_regs",
    size: 168,
    fields: &[
        f("r15", 0, 8),
        f("r14", 8, 8),
        f("r13", 16, 8),
        f("r12", 24, 8),
        f("bp", 32, 8),
        f("bx", 40, 8),
        f("r11", 48, 8),
        f("r10", 56, 8),
        f("r9", 64, 8),
        f("r8", 72, 8),
        f("ax", 80, 8),
        f("cx", 88, 8),
        f("dx", 96, 8),
        f("si", 104, 8),
        f("di", 112, 8),
        f("orig_ax", 120, 8),
        f("ip", 128, 8),
        f("csx", 136, 8),
        f("flags", 144, 8),
        f("sp", 152, 8),
        f("ssx", 160, 8),
    ],
};

/// `struct bpf_perf_event_data`: perf_event programs (x86_64 registers, then two u64s).
pub static BPF_PERF_EVENT_DATA: CtxLayout = CtxLayout {
    name: "bpf_perf_event_data",
    size: 184,
    fields: &[
        arr("regs", 0, 8, 21),
        f("sample_period", 168, 8),
        f("addr", 176, 8),
    ],
};

/// `struct bpf_raw_tracepoint_args`: raw tracepoint programs (`__u64 args[]`; the kernel allows
/// 12 arguments, `MAX_BPF_FUNC_ARGS`).
pub static BPF_RAW_TRACEPOINT_ARGS: CtxLayout = CtxLayout {
    name: "bpf_raw_tracepoint_args",
    size: 0,
    fields: &[arr("args", 0, 8, MAX_BPF_FUNC_ARGS)],
};

/// Tracepoint programs see the tracepoint's record: after 8 bytes of common fields, up to
/// `PERF_MAX_TRACE_SIZE` bytes whose layout the tracepoint's format file describes.
pub const PERF_MAX_TRACE_SIZE: u32 = 2048;
/// Most arguments of a traced function or raw tracepoint (`MAX_BPF_FUNC_ARGS`).
pub const MAX_BPF_FUNC_ARGS: u32 = 12;

/// The context struct a program type sees, where it is a fixed struct (`None` for tracepoints,
/// whose record differs per tracepoint, for BTF-typed tracing programs, and for types the table
/// does not describe).
pub fn ctx_layout(prog_type: ProgType) -> Option<&'static CtxLayout> {
    Some(match prog_type {
        ProgType::SOCKET_FILTER
        | ProgType::SCHED_CLS
        | ProgType::SCHED_ACT
        | ProgType::CGROUP_SKB
        | ProgType::LWT_IN
        | ProgType::LWT_OUT
        | ProgType::LWT_XMIT
        | ProgType::LWT_SEG6LOCAL
        | ProgType::SK_SKB
        | ProgType::FLOW_DISSECTOR => &SK_BUFF,
        ProgType::XDP => &XDP_MD,
        ProgType::CGROUP_SOCK_ADDR => &BPF_SOCK_ADDR,
        ProgType::CGROUP_SOCK => &BPF_SOCK,
        ProgType::KPROBE => &PT_REGS,
        ProgType::PERF_EVENT => &BPF_PERF_EVENT_DATA,
        ProgType::RAW_TRACEPOINT | ProgType::RAW_TRACEPOINT_WRITABLE => &BPF_RAW_TRACEPOINT_ARGS,
        _ => return None,
    })
}

/// What an allowed context access gives.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CtxAccess {
    /// What a load yields (always [`CtxReg::Scalar`] for a narrow load or a write).
    pub reg: CtxReg,
    /// The size of the field the access reads part of (for narrow loads), else the access size.
    pub field_size: u32,
}

impl CtxAccess {
    const fn scalar(size: u32) -> CtxAccess {
        CtxAccess {
            reg: CtxReg::Scalar,
            field_size: size,
        }
    }
}

/// `bpf_ctx_narrow_access_ok`: a power-of-two size no wider than the field.
const fn narrow_ok(size: u32, field: u32) -> bool {
    size <= field && size.is_power_of_two()
}

/// Whether a `prog_type` program (loaded with `attach_type`) may read (`write` false) or write
/// `size` bytes at offset `off` of its context, and what a read yields: the kernel's
/// `*_is_valid_access` for that program type, for a `CAP_BPF` + `CAP_PERFMON` loader.
///
/// Returns `None` for a refused access and for program types the table does not describe
/// (tracing programs, whose context is checked against BTF).
pub fn ctx_access(
    prog_type: ProgType,
    attach_type: AttachType,
    off: i64,
    size: u32,
    write: bool,
) -> Option<CtxAccess> {
    let off = u32::try_from(off).ok()?;
    if size == 0 {
        return None;
    }
    match prog_type {
        ProgType::SOCKET_FILTER => sk_filter_access(off, size, write),
        ProgType::SCHED_CLS | ProgType::SCHED_ACT => tc_access(off, size, write),
        ProgType::CGROUP_SKB => cg_skb_access(off, size, write),
        ProgType::XDP => xdp_access(attach_type, off, size, write),
        ProgType::KPROBE => {
            // kprobe_prog_is_valid_access
            let ok = off < PT_REGS.size && !write && off % size == 0 && off + size <= PT_REGS.size;
            ok.then(|| CtxAccess::scalar(size))
        }
        ProgType::TRACEPOINT => {
            // tp_prog_is_valid_access: the first 8 bytes are not the program's.
            let ok = (8..PERF_MAX_TRACE_SIZE).contains(&off) && !write && off % size == 0;
            ok.then(|| CtxAccess::scalar(size))
        }
        ProgType::RAW_TRACEPOINT => {
            // raw_tp_prog_is_valid_access
            let ok = off < 8 * MAX_BPF_FUNC_ARGS && !write && off % size == 0;
            ok.then(|| CtxAccess::scalar(size))
        }
        ProgType::PERF_EVENT => perf_event_access(off, size, write),
        ProgType::CGROUP_SOCK_ADDR => sock_addr_access(attach_type, off, size, write),
        ProgType::CGROUP_SOCK => {
            // cgroup_sock_is_valid_access: bound_dev_if, mark and priority are writable.
            if write {
                let ok = matches!(off, 0 | 16 | 20) && size == 4;
                ok.then(|| CtxAccess::scalar(4))
            } else {
                sock_access(off as i64, size).map(CtxAccess::scalar)
            }
        }
        _ => None,
    }
}

/// The offset range `[start, end)` of a `__sk_buff` field, by name.
fn skb(name: &str) -> core::ops::Range<u32> {
    let field = SK_BUFF
        .field(name)
        .expect("a field name of the __sk_buff table");
    field.offset..field.end()
}

fn in_skb(off: u32, names: &[&str]) -> bool {
    names.iter().any(|n| skb(n).contains(&off))
}

/// `bpf_skb_is_valid_access`: the rules every `__sk_buff` program type shares.
fn skb_access(off: u32, size: u32, write: bool) -> Option<CtxAccess> {
    if off >= SK_BUFF.size || off % size != 0 {
        return None;
    }
    let cb = skb("cb");
    if cb.contains(&off) {
        if off + size > cb.end {
            return None;
        }
    } else if in_skb(
        off,
        &[
            "remote_ip6",
            "local_ip6",
            "remote_ip4",
            "local_ip4",
            "data",
            "data_meta",
            "data_end",
        ],
    ) {
        if size != 4 {
            return None;
        }
        return Some(CtxAccess::scalar(4));
    } else if in_skb(off, &["flow_keys"]) {
        return None;
    } else if in_skb(off, &["hwtstamp"]) {
        return (!write && size == 8).then(|| CtxAccess::scalar(8));
    } else if in_skb(off, &["tstamp"]) {
        return (size == 8).then(|| CtxAccess::scalar(8));
    } else if off == skb("sk").start {
        return (!write && size == 8).then_some(CtxAccess {
            reg: CtxReg::SockCommonOrNull,
            field_size: 8,
        });
    } else if off == skb("tstamp_type").start {
        return None;
    } else if off >= skb("tstamp_type").end && off < skb("hwtstamp").start {
        // Padding.
        return None;
    }
    // Only narrow reads; writes are whole 4-byte fields.
    if write {
        return (size == 4).then(|| CtxAccess::scalar(4));
    }
    narrow_ok(size, 4).then_some(CtxAccess {
        reg: CtxReg::Scalar,
        field_size: 4,
    })
}

/// `sk_filter_is_valid_access`.
fn sk_filter_access(off: u32, size: u32, write: bool) -> Option<CtxAccess> {
    if in_skb(
        off,
        &[
            "tc_classid",
            "data",
            "data_meta",
            "data_end",
            "tstamp",
            "wire_len",
            "hwtstamp",
        ],
    ) || (skb("family").start..skb("local_port").end).contains(&off)
    {
        return None;
    }
    if write && !in_skb(off, &["cb"]) {
        return None;
    }
    skb_access(off, size, write)
}

/// Attaches the packet pointer types to a `__sk_buff` access the program type allows them for.
fn with_packet_ptrs(off: u32, access: CtxAccess, meta: bool) -> CtxAccess {
    let reg = if off == skb("data").start {
        CtxReg::Packet
    } else if off == skb("data_end").start {
        CtxReg::PacketEnd
    } else if meta && off == skb("data_meta").start {
        CtxReg::PacketMeta
    } else {
        return access;
    };
    CtxAccess { reg, ..access }
}

/// `tc_cls_act_is_valid_access`.
fn tc_access(off: u32, size: u32, write: bool) -> Option<CtxAccess> {
    if write
        && !in_skb(
            off,
            &[
                "mark",
                "tc_index",
                "priority",
                "tc_classid",
                "cb",
                "tstamp",
                "queue_mapping",
            ],
        )
    {
        return None;
    }
    if (skb("family").start..skb("local_port").end).contains(&off) {
        return None;
    }
    if off == skb("tstamp_type").start {
        return (size == 1).then(|| CtxAccess::scalar(1));
    }
    skb_access(off, size, write).map(|a| with_packet_ptrs(off, a, true))
}

/// `cg_skb_is_valid_access` (for a `CAP_BPF` + `CAP_SYS_ADMIN` loader).
fn cg_skb_access(off: u32, size: u32, write: bool) -> Option<CtxAccess> {
    if in_skb(off, &["tc_classid", "data_meta", "wire_len"]) {
        return None;
    }
    if write && !in_skb(off, &["mark", "priority", "cb", "tstamp"]) {
        return None;
    }
    skb_access(off, size, write).map(|a| with_packet_ptrs(off, a, false))
}

/// `xdp_is_valid_access`.
fn xdp_access(attach_type: AttachType, off: u32, size: u32, write: bool) -> Option<CtxAccess> {
    if attach_type != AttachType::XDP_DEVMAP && off == 20 {
        return None;
    }
    if write || off >= XDP_MD.size || off % size != 0 || size != 4 {
        return None;
    }
    let reg = XDP_MD.field_at(off).map_or(CtxReg::Scalar, |f| f.reg);
    Some(CtxAccess { reg, field_size: 4 })
}

/// `pe_prog_is_valid_access` (64-bit).
fn perf_event_access(off: u32, size: u32, write: bool) -> Option<CtxAccess> {
    if off >= BPF_PERF_EVENT_DATA.size || write || off % size != 0 {
        return None;
    }
    if off >= 168 {
        // sample_period and addr: narrow reads allowed.
        return narrow_ok(size, 8).then_some(CtxAccess {
            reg: CtxReg::Scalar,
            field_size: 8,
        });
    }
    (size == 8).then(|| CtxAccess::scalar(8))
}

/// `sock_addr_is_valid_access`, for the attach types that allow each field.
fn sock_addr_access(
    attach_type: AttachType,
    off: u32,
    size: u32,
    write: bool,
) -> Option<CtxAccess> {
    use AttachType as T;
    if off >= BPF_SOCK_ADDR.size || off % size != 0 {
        return None;
    }
    let field = BPF_SOCK_ADDR.field_at(off)?;
    let ip4 = [
        T::CGROUP_INET4_BIND,
        T::CGROUP_INET4_CONNECT,
        T::CGROUP_INET4_GETPEERNAME,
        T::CGROUP_INET4_GETSOCKNAME,
        T::CGROUP_UDP4_SENDMSG,
        T::CGROUP_UDP4_RECVMSG,
    ];
    let ip6 = [
        T::CGROUP_INET6_BIND,
        T::CGROUP_INET6_CONNECT,
        T::CGROUP_INET6_GETPEERNAME,
        T::CGROUP_INET6_GETSOCKNAME,
        T::CGROUP_UDP6_SENDMSG,
        T::CGROUP_UDP6_RECVMSG,
    ];
    match field.name {
        "user_ip4" | "user_ip6" | "msg_src_ip4" | "msg_src_ip6" => {
            let allowed = match field.name {
                "user_ip4" => ip4.contains(&attach_type),
                "user_ip6" => ip6.contains(&attach_type),
                "msg_src_ip4" => attach_type == T::CGROUP_UDP4_SENDMSG,
                _ => attach_type == T::CGROUP_UDP6_SENDMSG,
            };
            if !allowed {
                return None;
            }
            if write {
                (size == 4).then(|| CtxAccess::scalar(4))
            } else {
                narrow_ok(size, 4).then(|| CtxAccess::scalar(4))
            }
        }
        "user_port" => {
            if write {
                (size == 4).then(|| CtxAccess::scalar(4))
            } else {
                narrow_ok(size, 4).then(|| CtxAccess::scalar(4))
            }
        }
        "user_family" | "family" | "type" | "protocol" => {
            (!write && size == 4).then(|| CtxAccess::scalar(4))
        }
        "sk" => (!write && size == 8).then_some(CtxAccess {
            reg: CtxReg::Socket,
            field_size: 8,
        }),
        _ => None,
    }
}

/// `bpf_sock_is_valid_access`: reads through a socket pointer (`PTR_TO_SOCKET`,
/// `PTR_TO_SOCK_COMMON`), which are never writable. Returns the field size of the read.
pub fn sock_access(off: i64, size: u32) -> Option<u32> {
    let off = u32::try_from(off).ok()?;
    if size == 0 || off >= BPF_SOCK.size || off % size != 0 {
        return None;
    }
    let field = BPF_SOCK.field_at(off);
    match field.map(|f| f.name) {
        Some(
            "state" | "family" | "type" | "protocol" | "src_port" | "rx_queue_mapping" | "src_ip4"
            | "src_ip6" | "dst_ip4" | "dst_ip6",
        ) => {
            let field = field?;
            // Narrow reads must start at a 4-byte element for the single-offset cases.
            let single = matches!(
                field.name,
                "state" | "family" | "type" | "protocol" | "src_port" | "rx_queue_mapping"
            );
            if single && off != field.offset {
                return (size == 4).then_some(4);
            }
            narrow_ok(size, 4).then_some(4)
        }
        Some("dst_port") => {
            let field_size = if size == 4 { 4 } else { 2 };
            narrow_ok(size, field_size).then_some(field_size)
        }
        // Padding after dst_port.
        None if (50..52).contains(&off) => None,
        _ => (size == 4).then_some(4),
    }
}
