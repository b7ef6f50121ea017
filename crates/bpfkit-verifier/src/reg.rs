//! Register state: what a register holds (`enum bpf_reg_type` and its flags) and, for numbers
//! and the variable part of pointer offsets, a [`Scalar`].

use core::fmt;

use crate::scalar::Scalar;
use crate::tnum::Tnum;

/// The type of a register (`enum bpf_reg_type`, without the flag bits, which are fields of
/// [`Reg`]).
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub enum RegKind {
    /// `NOT_INIT`: never written on this path.
    NotInit,
    /// `SCALAR_VALUE`: a number.
    Scalar,
    /// `PTR_TO_CTX`: the program's context.
    Ctx,
    /// `CONST_PTR_TO_MAP`: a map (from `lddw map_fd`).
    MapPtr,
    /// `PTR_TO_MAP_VALUE`: into a map value.
    MapValue,
    /// `PTR_TO_MAP_KEY`: into a map key (callbacks of `bpf_for_each_map_elem`).
    MapKey,
    /// `PTR_TO_STACK`: into a frame's stack.
    Stack,
    /// `PTR_TO_PACKET`: into the packet.
    Packet,
    /// `PTR_TO_PACKET_META`: into the packet's metadata.
    PacketMeta,
    /// `PTR_TO_PACKET_END`: one past the packet.
    PacketEnd,
    /// `PTR_TO_FLOW_KEYS`.
    FlowKeys,
    /// `PTR_TO_SOCKET`: a full socket.
    Socket,
    /// `PTR_TO_SOCK_COMMON`.
    SockCommon,
    /// `PTR_TO_TCP_SOCK`.
    TcpSock,
    /// `PTR_TO_MEM`: sized memory (ring buffer records, kernel variables).
    Mem,
    /// `PTR_TO_BTF_ID`: a kernel object of a BTF type.
    BtfId,
    /// `PTR_TO_FUNC`: a subprogram (callback).
    Func,
    /// `PTR_TO_BUF`: a read-only buffer.
    Buf,
}

impl RegKind {
    /// The kernel's name in messages (`reg_type_str` without flags).
    pub fn name(self) -> &'static str {
        match self {
            RegKind::NotInit => "?",
            RegKind::Scalar => "scalar",
            RegKind::Ctx => "ctx",
            RegKind::MapPtr => "map_ptr",
            RegKind::MapValue => "map_value",
            RegKind::MapKey => "map_key",
            RegKind::Stack => "fp",
            RegKind::Packet => "pkt",
            RegKind::PacketMeta => "pkt_meta",
            RegKind::PacketEnd => "pkt_end",
            RegKind::FlowKeys => "flow_keys",
            RegKind::Socket => "sock",
            RegKind::SockCommon => "sock_common",
            RegKind::TcpSock => "tcp_sock",
            RegKind::Mem => "mem",
            RegKind::BtfId => "ptr_",
            RegKind::Func => "func",
            RegKind::Buf => "buf",
        }
    }

    /// Whether a register of this kind is a pointer.
    pub fn is_pointer(self) -> bool {
        !matches!(self, RegKind::NotInit | RegKind::Scalar)
    }

    /// Whether it points into the packet (data or metadata).
    pub fn is_packet(self) -> bool {
        matches!(self, RegKind::Packet | RegKind::PacketMeta)
    }

    /// Whether it is a socket pointer of some kind.
    pub fn is_sock(self) -> bool {
        matches!(
            self,
            RegKind::Socket | RegKind::SockCommon | RegKind::TcpSock
        )
    }
}

/// Flag bits of a pointer register (`PTR_MAYBE_NULL`, `MEM_RDONLY`, `MEM_RINGBUF`, ...).
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug, Default)]
pub struct RegFlags(pub u8);

impl RegFlags {
    /// `PTR_MAYBE_NULL`.
    pub const MAYBE_NULL: RegFlags = RegFlags(1);
    /// `MEM_RDONLY`.
    pub const RDONLY: RegFlags = RegFlags(2);
    /// `MEM_RINGBUF`.
    pub const RINGBUF: RegFlags = RegFlags(4);
    /// `PTR_TRUSTED`.
    pub const TRUSTED: RegFlags = RegFlags(8);
    /// `PTR_UNTRUSTED`.
    pub const UNTRUSTED: RegFlags = RegFlags(16);
    /// `MEM_PERCPU`.
    pub const PERCPU: RegFlags = RegFlags(32);

    /// Whether every bit of `f` is set.
    pub fn has(self, f: RegFlags) -> bool {
        self.0 & f.0 == f.0
    }
}

/// One register's state (`struct bpf_reg_state`).
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub struct Reg {
    /// What it holds.
    pub kind: RegKind,
    /// Flag bits.
    pub flags: RegFlags,
    /// The fixed part of a pointer's offset.
    pub off: i32,
    /// The number, or the variable part of a pointer's offset.
    pub s: Scalar,
    /// Ties copies of one value together: scalars copied from one another, pointers from one
    /// lookup (null checks, packet ranges apply to all of them).
    pub id: u32,
    /// The reference this pointer holds (ring buffer records, sockets); 0 for none.
    pub ref_obj_id: u32,
    /// Packet pointers: bytes past `off` known to be inside the packet. Mem: its size.
    pub range: u32,
    /// Maps: which map of the program. Stack: which frame. Functions: which subprogram.
    /// BTF pointers: the BTF type id.
    pub aux: u32,
    /// Precise: its exact range matters for a later check (state pruning must respect it).
    pub precise: bool,
}

impl Reg {
    /// A register never written.
    pub const NOT_INIT: Reg = Reg {
        kind: RegKind::NotInit,
        flags: RegFlags(0),
        off: 0,
        s: Scalar::UNKNOWN,
        id: 0,
        ref_obj_id: 0,
        range: 0,
        aux: 0,
        precise: false,
    };

    /// A scalar with value `s`.
    pub const fn scalar(s: Scalar) -> Reg {
        Reg {
            kind: RegKind::Scalar,
            s,
            ..Reg::NOT_INIT
        }
    }

    /// An unknown scalar.
    pub const fn unknown() -> Reg {
        Reg::scalar(Scalar::UNKNOWN)
    }

    /// The constant `v`.
    pub const fn known(v: u64) -> Reg {
        Reg::scalar(Scalar::known(v))
    }

    /// A pointer of `kind` at fixed offset 0.
    pub const fn pointer(kind: RegKind) -> Reg {
        Reg {
            kind,
            s: Scalar::ZERO,
            ..Reg::NOT_INIT
        }
    }

    /// A pointer into frame `frame`'s stack at offset 0 (`r10`).
    pub const fn frame_pointer(frame: u32) -> Reg {
        Reg {
            aux: frame,
            ..Reg::pointer(RegKind::Stack)
        }
    }

    /// Whether it holds a pointer.
    pub fn is_pointer(&self) -> bool {
        self.kind.is_pointer()
    }

    /// Whether it is a scalar.
    pub fn is_scalar(&self) -> bool {
        self.kind == RegKind::Scalar
    }

    /// Whether it is a pointer that may be null.
    pub fn maybe_null(&self) -> bool {
        self.flags.has(RegFlags::MAYBE_NULL)
    }

    /// The kernel's name of its type with flags (`reg_type_str`): `map_value_or_null`,
    /// `rdonly_mem`, `ringbuf_mem_or_null`, `trusted_ptr_`.
    pub fn type_str(&self) -> String {
        let mut prefix = String::new();
        if self.flags.has(RegFlags::RDONLY) {
            prefix.push_str("rdonly_");
        }
        if self.flags.has(RegFlags::RINGBUF) {
            prefix.push_str("ringbuf_");
        }
        if self.flags.has(RegFlags::PERCPU) {
            prefix.push_str("percpu_");
        }
        if self.flags.has(RegFlags::UNTRUSTED) {
            prefix.push_str("untrusted_");
        }
        if self.flags.has(RegFlags::TRUSTED) {
            prefix.push_str("trusted_");
        }
        let postfix = if self.maybe_null() { "_or_null" } else { "" };
        format!("{prefix}{}{postfix}", self.kind.name())
    }

    /// The variable part of the offset is known zero (`tnum_is_const(var_off) && value == 0`).
    pub fn var_off_is_zero(&self) -> bool {
        self.s.var_off == Tnum::constant(0)
    }
}

impl fmt::Display for Reg {
    /// The kernel log's form: `scalar(umax=255,var_off=(0x0; 0xff))`, `ctx()`, `fp-8`,
    /// `map_value(map=0,off=4)`, `pkt(id=0,off=14,r=14)`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.kind {
            RegKind::NotInit => f.write_str("?"),
            RegKind::Scalar => {
                if self.s.is_const() {
                    return write!(f, "{}", self.s.var_off.value as i64);
                }
                f.write_str("scalar(")?;
                let mut parts = Vec::new();
                if self.id != 0 {
                    parts.push(format!("id={}", self.id));
                }
                scalar_parts(&self.s, &mut parts);
                write!(f, "{})", parts.join(","))
            }
            RegKind::Stack if self.var_off_is_zero() => write!(f, "fp{}", self.off),
            _ => {
                write!(f, "{}(", self.type_str())?;
                let mut parts = Vec::new();
                if self.id != 0 {
                    parts.push(format!("id={}", self.id));
                }
                if self.ref_obj_id != 0 {
                    parts.push(format!("ref_obj_id={}", self.ref_obj_id));
                }
                if self.off != 0 || self.kind.is_packet() {
                    parts.push(format!("off={}", self.off));
                }
                if self.kind.is_packet() {
                    parts.push(format!("r={}", self.range));
                }
                if matches!(self.kind, RegKind::Mem) {
                    parts.push(format!("sz={}", self.range));
                }
                if !self.var_off_is_zero() {
                    scalar_parts(&self.s, &mut parts);
                }
                write!(f, "{})", parts.join(","))
            }
        }
    }
}

/// The non-trivial bounds of `s`, named as the kernel's log names them.
fn scalar_parts(s: &Scalar, parts: &mut Vec<String>) {
    let u = Scalar::UNKNOWN;
    if s.smin != u.smin && s.smin as u64 != s.umin {
        parts.push(format!("smin={}", s.smin));
    }
    if s.smax != u.smax && s.smax as u64 != s.umax {
        parts.push(format!("smax={}", s.smax));
    }
    if s.umin != u.umin {
        parts.push(format!("umin={}", s.umin));
    }
    if s.umax != u.umax {
        parts.push(format!("umax={}", s.umax));
    }
    if s.s32_min != u.s32_min && s.s32_min as u32 != s.u32_min {
        parts.push(format!("smin32={}", s.s32_min));
    }
    if s.s32_max != u.s32_max && s.s32_max as u32 != s.u32_max {
        parts.push(format!("smax32={}", s.s32_max));
    }
    if s.u32_min != u.u32_min && s.u32_min as u64 != s.umin {
        parts.push(format!("umin32={}", s.u32_min));
    }
    if s.u32_max != u.u32_max && s.u32_max as u64 != s.umax {
        parts.push(format!("umax32={}", s.u32_max));
    }
    if !s.var_off.is_unknown() {
        parts.push(format!("var_off={}", s.var_off));
    }
}
