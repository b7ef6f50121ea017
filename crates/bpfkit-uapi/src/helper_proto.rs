//! Helper prototypes: what each helper takes and returns, as the kernel's `struct bpf_func_proto`
//! declares it, and which program types may call it.
//!
//! One table for the verifier (argument checks, return types, references), the userspace runtime
//! (which helpers exist for a program type) and the loader. Argument and return types carry the
//! kernel's names (`ARG_PTR_TO_MAP_KEY`, `RET_PTR_TO_MAP_VALUE_OR_NULL`) for `Display`.

use core::fmt;

use crate::{HelperId, MapType, ProgType, ProgTypes};

/// The base kind of a helper argument (`enum bpf_arg_type` without its flag bits).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ArgKind {
    /// `ARG_DONTCARE`: not checked (unused argument).
    DontCare,
    /// `ARG_CONST_MAP_PTR`: a map pointer from `lddw map_fd`.
    ConstMapPtr,
    /// `ARG_PTR_TO_MAP_KEY`: `key_size` readable bytes of the map in the previous argument.
    MapKey,
    /// `ARG_PTR_TO_MAP_VALUE`: `value_size` bytes of the map in the first argument.
    MapValue,
    /// `ARG_PTR_TO_MEM`: memory whose size is the next argument (or fixed).
    Mem,
    /// `ARG_CONST_SIZE`: the size of the memory argument before it, a known range above 0.
    ConstSize,
    /// `ARG_CONST_SIZE_OR_ZERO`: as `ConstSize`, 0 allowed.
    ConstSizeOrZero,
    /// `ARG_CONST_ALLOC_SIZE_OR_ZERO`: a constant size the helper allocates.
    ConstAllocSizeOrZero,
    /// `ARG_PTR_TO_CTX`: the program's context, unmodified.
    Ctx,
    /// `ARG_ANYTHING`: any initialised value.
    Anything,
    /// `ARG_PTR_TO_SPIN_LOCK`: the `bpf_spin_lock` in a map value.
    SpinLock,
    /// `ARG_PTR_TO_SOCK_COMMON`: a socket pointer of any kind.
    SockCommon,
    /// `ARG_PTR_TO_SOCKET`: a full socket.
    Socket,
    /// `ARG_PTR_TO_BTF_ID`: a kernel object by BTF type.
    BtfId,
    /// `ARG_PTR_TO_BTF_ID_SOCK_COMMON`: a socket pointer or a BTF socket.
    BtfIdSockCommon,
    /// `ARG_PTR_TO_PERCPU_BTF_ID`: a per-cpu kernel variable (`lddw btf_id`).
    PercpuBtfId,
    /// `ARG_PTR_TO_FUNC`: a callback (`lddw func`).
    Func,
    /// `ARG_PTR_TO_STACK`: a stack pointer (callback context).
    Stack,
    /// `ARG_PTR_TO_CONST_STR`: a NUL-terminated string in a read-only map value.
    ConstStr,
    /// `ARG_PTR_TO_TIMER`: the `bpf_timer` in a map value.
    Timer,
    /// `ARG_PTR_TO_KPTR`: a kptr field of a map value.
    Kptr,
    /// `ARG_PTR_TO_DYNPTR`: a dynptr on the stack.
    Dynptr,
    /// `ARG_PTR_TO_INT`/`ARG_PTR_TO_LONG`: an aligned 4/8-byte slot the helper writes.
    Int(u8),
}

/// Flag bits of an argument type (`MEM_RDONLY`, `PTR_MAYBE_NULL`, `MEM_UNINIT`, ...).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
pub struct ArgFlags(pub u16);

impl ArgFlags {
    /// No flag.
    pub const NONE: ArgFlags = ArgFlags(0);
    /// `PTR_MAYBE_NULL`: `NULL` (a scalar 0) is accepted too.
    pub const MAYBE_NULL: ArgFlags = ArgFlags(1 << 0);
    /// `MEM_RDONLY`: the helper only reads the memory.
    pub const RDONLY: ArgFlags = ArgFlags(1 << 1);
    /// `MEM_UNINIT`: the memory need not be initialised (the helper writes it).
    pub const UNINIT: ArgFlags = ArgFlags(1 << 2);
    /// `MEM_WRITE`: the helper writes the memory.
    pub const WRITE: ArgFlags = ArgFlags(1 << 3);
    /// `MEM_RINGBUF`: memory from `bpf_ringbuf_reserve`.
    pub const RINGBUF: ArgFlags = ArgFlags(1 << 4);
    /// `OBJ_RELEASE`: the helper releases the reference the argument holds.
    pub const RELEASE: ArgFlags = ArgFlags(1 << 5);
    /// `MEM_FIXED_SIZE`: the memory has the fixed size in [`ArgType::size`].
    pub const FIXED_SIZE: ArgFlags = ArgFlags(1 << 6);
    /// `DYNPTR_TYPE_LOCAL`/`RINGBUF`: kinds of dynptr (uninitialised dynptr the helper sets up).
    pub const DYNPTR_UNINIT: ArgFlags = ArgFlags(1 << 7);

    /// Whether every bit of `other` is set.
    pub const fn contains(self, other: ArgFlags) -> bool {
        self.0 & other.0 == other.0
    }

    /// The union of both.
    pub const fn with(self, other: ArgFlags) -> ArgFlags {
        ArgFlags(self.0 | other.0)
    }
}

/// A helper argument type: a kind, flag bits and, for fixed-size memory, the size.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct ArgType {
    /// The base kind.
    pub kind: ArgKind,
    /// Flag bits.
    pub flags: ArgFlags,
    /// The size of `MEM_FIXED_SIZE` memory, else 0.
    pub size: u32,
}

impl ArgType {
    const fn new(kind: ArgKind, flags: ArgFlags) -> ArgType {
        ArgType {
            kind,
            flags,
            size: 0,
        }
    }

    /// `ARG_DONTCARE`.
    pub const DONTCARE: ArgType = ArgType::new(ArgKind::DontCare, ArgFlags::NONE);
    /// `ARG_ANYTHING`.
    pub const ANYTHING: ArgType = ArgType::new(ArgKind::Anything, ArgFlags::NONE);
    /// `ARG_CONST_MAP_PTR`.
    pub const CONST_MAP_PTR: ArgType = ArgType::new(ArgKind::ConstMapPtr, ArgFlags::NONE);
    /// `ARG_PTR_TO_MAP_KEY`.
    pub const PTR_TO_MAP_KEY: ArgType = ArgType::new(ArgKind::MapKey, ArgFlags::NONE);
    /// `ARG_PTR_TO_MAP_VALUE`.
    pub const PTR_TO_MAP_VALUE: ArgType = ArgType::new(ArgKind::MapValue, ArgFlags::NONE);
    /// `ARG_PTR_TO_UNINIT_MAP_VALUE` (`ARG_PTR_TO_MAP_VALUE | MEM_UNINIT | MEM_WRITE`).
    pub const PTR_TO_UNINIT_MAP_VALUE: ArgType = ArgType::new(
        ArgKind::MapValue,
        ArgFlags(ArgFlags::UNINIT.0 | ArgFlags::WRITE.0),
    );
    /// `ARG_PTR_TO_MEM` (read and written).
    pub const PTR_TO_MEM: ArgType = ArgType::new(ArgKind::Mem, ArgFlags::NONE);
    /// `ARG_PTR_TO_MEM | MEM_RDONLY`.
    pub const PTR_TO_MEM_RDONLY: ArgType = ArgType::new(ArgKind::Mem, ArgFlags::RDONLY);
    /// `ARG_PTR_TO_MEM | PTR_MAYBE_NULL | MEM_RDONLY`.
    pub const PTR_TO_MEM_OR_NULL_RDONLY: ArgType = ArgType::new(
        ArgKind::Mem,
        ArgFlags(ArgFlags::MAYBE_NULL.0 | ArgFlags::RDONLY.0),
    );
    /// `ARG_PTR_TO_UNINIT_MEM` (`ARG_PTR_TO_MEM | MEM_UNINIT | MEM_WRITE`).
    pub const PTR_TO_UNINIT_MEM: ArgType = ArgType::new(
        ArgKind::Mem,
        ArgFlags(ArgFlags::UNINIT.0 | ArgFlags::WRITE.0),
    );
    /// `ARG_CONST_SIZE`.
    pub const CONST_SIZE: ArgType = ArgType::new(ArgKind::ConstSize, ArgFlags::NONE);
    /// `ARG_CONST_SIZE_OR_ZERO`.
    pub const CONST_SIZE_OR_ZERO: ArgType = ArgType::new(ArgKind::ConstSizeOrZero, ArgFlags::NONE);
    /// `ARG_CONST_ALLOC_SIZE_OR_ZERO`.
    pub const CONST_ALLOC_SIZE_OR_ZERO: ArgType =
        ArgType::new(ArgKind::ConstAllocSizeOrZero, ArgFlags::NONE);
    /// `ARG_PTR_TO_CTX`.
    pub const PTR_TO_CTX: ArgType = ArgType::new(ArgKind::Ctx, ArgFlags::NONE);
    /// `ARG_PTR_TO_CTX_OR_NULL`.
    pub const PTR_TO_CTX_OR_NULL: ArgType = ArgType::new(ArgKind::Ctx, ArgFlags::MAYBE_NULL);
    /// `ARG_PTR_TO_SPIN_LOCK`.
    pub const PTR_TO_SPIN_LOCK: ArgType = ArgType::new(ArgKind::SpinLock, ArgFlags::NONE);
    /// `ARG_PTR_TO_SOCK_COMMON`.
    pub const PTR_TO_SOCK_COMMON: ArgType = ArgType::new(ArgKind::SockCommon, ArgFlags::NONE);
    /// `ARG_PTR_TO_SOCKET`.
    pub const PTR_TO_SOCKET: ArgType = ArgType::new(ArgKind::Socket, ArgFlags::NONE);
    /// `ARG_PTR_TO_BTF_ID_SOCK_COMMON`.
    pub const PTR_TO_BTF_ID_SOCK_COMMON: ArgType =
        ArgType::new(ArgKind::BtfIdSockCommon, ArgFlags::NONE);
    /// `ARG_PTR_TO_BTF_ID_SOCK_COMMON | OBJ_RELEASE` (`bpf_sk_release`).
    pub const RELEASE_SOCK_COMMON: ArgType =
        ArgType::new(ArgKind::BtfIdSockCommon, ArgFlags::RELEASE);
    /// `ARG_PTR_TO_BTF_ID`.
    pub const PTR_TO_BTF_ID: ArgType = ArgType::new(ArgKind::BtfId, ArgFlags::NONE);
    /// `ARG_PTR_TO_PERCPU_BTF_ID`.
    pub const PTR_TO_PERCPU_BTF_ID: ArgType = ArgType::new(ArgKind::PercpuBtfId, ArgFlags::NONE);
    /// `ARG_PTR_TO_FUNC`.
    pub const PTR_TO_FUNC: ArgType = ArgType::new(ArgKind::Func, ArgFlags::NONE);
    /// `ARG_PTR_TO_STACK_OR_NULL`.
    pub const PTR_TO_STACK_OR_NULL: ArgType = ArgType::new(ArgKind::Stack, ArgFlags::MAYBE_NULL);
    /// `ARG_PTR_TO_CONST_STR`.
    pub const PTR_TO_CONST_STR: ArgType = ArgType::new(ArgKind::ConstStr, ArgFlags::NONE);
    /// `ARG_PTR_TO_TIMER`.
    pub const PTR_TO_TIMER: ArgType = ArgType::new(ArgKind::Timer, ArgFlags::NONE);
    /// `ARG_PTR_TO_KPTR`.
    pub const PTR_TO_KPTR: ArgType = ArgType::new(ArgKind::Kptr, ArgFlags::NONE);
    /// `ARG_PTR_TO_RINGBUF_MEM | OBJ_RELEASE` (`bpf_ringbuf_submit`/`discard`).
    pub const RELEASE_RINGBUF_MEM: ArgType = ArgType::new(
        ArgKind::Mem,
        ArgFlags(ArgFlags::RINGBUF.0 | ArgFlags::RELEASE.0),
    );
    /// `ARG_PTR_TO_DYNPTR` of a dynptr the helper initialises.
    pub const PTR_TO_UNINIT_DYNPTR: ArgType =
        ArgType::new(ArgKind::Dynptr, ArgFlags::DYNPTR_UNINIT);
    /// `ARG_PTR_TO_DYNPTR` of an initialised dynptr, read only.
    pub const PTR_TO_DYNPTR_RDONLY: ArgType = ArgType::new(ArgKind::Dynptr, ArgFlags::RDONLY);
    /// `ARG_PTR_TO_DYNPTR | OBJ_RELEASE` (ringbuf dynptr submit/discard).
    pub const RELEASE_DYNPTR: ArgType = ArgType::new(ArgKind::Dynptr, ArgFlags::RELEASE);
    /// `ARG_PTR_TO_INT`.
    pub const PTR_TO_INT: ArgType = ArgType::new(ArgKind::Int(4), ArgFlags::NONE);
    /// `ARG_PTR_TO_LONG`.
    pub const PTR_TO_LONG: ArgType = ArgType::new(ArgKind::Int(8), ArgFlags::NONE);

    /// `ARG_PTR_TO_MEM | MEM_FIXED_SIZE | flags` of `size` bytes (`arg_size` in the proto).
    pub const fn fixed_mem(size: u32, flags: ArgFlags) -> ArgType {
        ArgType {
            kind: ArgKind::Mem,
            flags: ArgFlags(flags.0 | ArgFlags::FIXED_SIZE.0),
            size,
        }
    }

    /// Whether `NULL` is accepted.
    pub const fn maybe_null(self) -> bool {
        self.flags.contains(ArgFlags::MAYBE_NULL)
    }

    /// Whether the argument's reference is released by the call.
    pub const fn releases(self) -> bool {
        self.flags.contains(ArgFlags::RELEASE)
    }
}

impl fmt::Display for ArgType {
    /// The kernel's spelling, e.g. `ARG_PTR_TO_MEM|MEM_RDONLY`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let base = match self.kind {
            ArgKind::DontCare => "ARG_DONTCARE",
            ArgKind::ConstMapPtr => "ARG_CONST_MAP_PTR",
            ArgKind::MapKey => "ARG_PTR_TO_MAP_KEY",
            ArgKind::MapValue => "ARG_PTR_TO_MAP_VALUE",
            ArgKind::Mem => "ARG_PTR_TO_MEM",
            ArgKind::ConstSize => "ARG_CONST_SIZE",
            ArgKind::ConstSizeOrZero => "ARG_CONST_SIZE_OR_ZERO",
            ArgKind::ConstAllocSizeOrZero => "ARG_CONST_ALLOC_SIZE_OR_ZERO",
            ArgKind::Ctx => "ARG_PTR_TO_CTX",
            ArgKind::Anything => "ARG_ANYTHING",
            ArgKind::SpinLock => "ARG_PTR_TO_SPIN_LOCK",
            ArgKind::SockCommon => "ARG_PTR_TO_SOCK_COMMON",
            ArgKind::Socket => "ARG_PTR_TO_SOCKET",
            ArgKind::BtfId => "ARG_PTR_TO_BTF_ID",
            ArgKind::BtfIdSockCommon => "ARG_PTR_TO_BTF_ID_SOCK_COMMON",
            ArgKind::PercpuBtfId => "ARG_PTR_TO_PERCPU_BTF_ID",
            ArgKind::Func => "ARG_PTR_TO_FUNC",
            ArgKind::Stack => "ARG_PTR_TO_STACK",
            ArgKind::ConstStr => "ARG_PTR_TO_CONST_STR",
            ArgKind::Timer => "ARG_PTR_TO_TIMER",
            ArgKind::Kptr => "ARG_PTR_TO_KPTR",
            ArgKind::Dynptr => "ARG_PTR_TO_DYNPTR",
            ArgKind::Int(4) => "ARG_PTR_TO_INT",
            ArgKind::Int(_) => "ARG_PTR_TO_LONG",
        };
        f.write_str(base)?;
        for (flag, name) in [
            (ArgFlags::MAYBE_NULL, "PTR_MAYBE_NULL"),
            (ArgFlags::RDONLY, "MEM_RDONLY"),
            (ArgFlags::UNINIT, "MEM_UNINIT"),
            (ArgFlags::WRITE, "MEM_WRITE"),
            (ArgFlags::RINGBUF, "MEM_RINGBUF"),
            (ArgFlags::RELEASE, "OBJ_RELEASE"),
            (ArgFlags::FIXED_SIZE, "MEM_FIXED_SIZE"),
        ] {
            if self.flags.contains(flag) {
                write!(f, "|{name}")?;
            }
        }
        Ok(())
    }
}

/// What a helper returns (`enum bpf_return_type`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum RetType {
    /// `RET_INTEGER`: a scalar.
    Integer,
    /// `RET_VOID`: nothing (r0 is unknown afterwards).
    Void,
    /// `RET_PTR_TO_MAP_VALUE_OR_NULL`: a value of the map argument, or `NULL`.
    MapValueOrNull,
    /// `RET_PTR_TO_SOCKET_OR_NULL`: a referenced full socket, or `NULL`.
    SocketOrNull,
    /// `RET_PTR_TO_TCP_SOCK_OR_NULL`.
    TcpSockOrNull,
    /// `RET_PTR_TO_SOCK_COMMON_OR_NULL`.
    SockCommonOrNull,
    /// `RET_PTR_TO_RINGBUF_MEM_OR_NULL`: a referenced ring buffer record of the size argument.
    RingbufMemOrNull,
    /// `RET_PTR_TO_MEM_OR_BTF_ID`: a kernel variable (`bpf_this_cpu_ptr`).
    MemOrBtfId,
    /// `RET_PTR_TO_MEM_OR_BTF_ID | PTR_MAYBE_NULL` (`bpf_per_cpu_ptr`).
    MemOrBtfIdOrNull,
    /// `RET_PTR_TO_BTF_ID_OR_NULL` of the named kernel struct.
    BtfIdOrNull(&'static str),
    /// `RET_PTR_TO_BTF_ID_TRUSTED` of the named kernel struct.
    BtfIdTrusted(&'static str),
    /// `RET_PTR_TO_DYNPTR_MEM_OR_NULL`.
    DynptrMemOrNull,
}

impl RetType {
    /// Whether the returned pointer may be `NULL` and must be checked.
    pub const fn maybe_null(self) -> bool {
        matches!(
            self,
            RetType::MapValueOrNull
                | RetType::SocketOrNull
                | RetType::TcpSockOrNull
                | RetType::SockCommonOrNull
                | RetType::RingbufMemOrNull
                | RetType::MemOrBtfIdOrNull
                | RetType::BtfIdOrNull(_)
                | RetType::DynptrMemOrNull
        )
    }
}

impl fmt::Display for RetType {
    /// The kernel's spelling, e.g. `RET_PTR_TO_MAP_VALUE_OR_NULL`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            RetType::Integer => "RET_INTEGER",
            RetType::Void => "RET_VOID",
            RetType::MapValueOrNull => "RET_PTR_TO_MAP_VALUE_OR_NULL",
            RetType::SocketOrNull => "RET_PTR_TO_SOCKET_OR_NULL",
            RetType::TcpSockOrNull => "RET_PTR_TO_TCP_SOCK_OR_NULL",
            RetType::SockCommonOrNull => "RET_PTR_TO_SOCK_COMMON_OR_NULL",
            RetType::RingbufMemOrNull => "RET_PTR_TO_RINGBUF_MEM_OR_NULL",
            RetType::MemOrBtfId => "RET_PTR_TO_MEM_OR_BTF_ID",
            RetType::MemOrBtfIdOrNull => "RET_PTR_TO_MEM_OR_BTF_ID|PTR_MAYBE_NULL",
            RetType::BtfIdOrNull(_) => "RET_PTR_TO_BTF_ID_OR_NULL",
            RetType::BtfIdTrusted(_) => "RET_PTR_TO_BTF_ID_TRUSTED",
            RetType::DynptrMemOrNull => "RET_PTR_TO_DYNPTR_MEM_OR_NULL",
        })
    }
}

/// One helper's prototype (`struct bpf_func_proto`) and who may call it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct HelperProto {
    /// The helper.
    pub id: HelperId,
    /// What it returns.
    pub ret: RetType,
    /// Its five argument slots (`ARG_DONTCARE` past the last argument).
    pub args: [ArgType; 5],
    /// Only programs with a GPL-compatible license may call it.
    pub gpl_only: bool,
    /// It may be given packet pointers (`pkt_access`).
    pub pkt_access: bool,
    /// It changes the packet, so every packet pointer is invalid afterwards
    /// (`bpf_helper_changes_pkt_data`).
    pub changes_pkt_data: bool,
    /// The program types whose `get_func_proto` offers it (to a `CAP_BPF` + `CAP_PERFMON` loader).
    pub prog_types: ProgTypes,
    /// The map types its map argument may have (empty: any map with ordinary values).
    pub map_types: &'static [MapType],
}

impl HelperProto {
    /// The number of arguments it takes (up to the last one that is not `ARG_DONTCARE`).
    pub fn arg_count(&self) -> usize {
        self.args
            .iter()
            .rposition(|a| a.kind != ArgKind::DontCare)
            .map_or(0, |i| i + 1)
    }

    /// Whether it returns a reference the program must release (`is_acquire_function`).
    pub fn acquires(&self) -> bool {
        matches!(
            self.ret,
            RetType::SocketOrNull | RetType::SockCommonOrNull | RetType::RingbufMemOrNull
        ) && !matches!(self.id, HelperId::SK_FULLSOCK | HelperId::GET_LISTENER_SOCK)
    }

    /// Whether `prog_type` may call it.
    pub fn allowed_in(&self, prog_type: ProgType) -> bool {
        self.prog_types.contains(prog_type)
    }
}

/// The prototype of helper `id`, or `None` for a helper the table does not describe. Where the
/// kernel gives a helper a different prototype in some program types (see [`helper_protos`]),
/// this is its first row; [`helper_proto_for`] picks the one a program type gets.
///
/// ```
/// use bpfkit_uapi::{helper_proto, ArgType, HelperId, ProgType, RetType};
/// let lookup = helper_proto(HelperId::MAP_LOOKUP_ELEM).unwrap();
/// assert_eq!(lookup.ret, RetType::MapValueOrNull);
/// assert_eq!(lookup.args[1], ArgType::PTR_TO_MAP_KEY);
/// assert_eq!(lookup.arg_count(), 2);
/// assert!(lookup.allowed_in(ProgType::XDP));
/// assert_eq!(lookup.args[1].to_string(), "ARG_PTR_TO_MAP_KEY");
/// ```
pub fn helper_proto(id: HelperId) -> Option<&'static HelperProto> {
    helper_protos(id).first()
}

/// Every row of helper `id`: one, or one per prototype where the kernel's `get_func_proto`
/// answers differently by program type (`bpf_get_socket_cookie` takes the context in most
/// types and a socket pointer in `sk_reuseport` and syscall programs). Their program types
/// do not overlap.
pub fn helper_protos(id: HelperId) -> &'static [HelperProto] {
    let start = HELPER_PROTOS.partition_point(|p| p.id.0 < id.0);
    let end = HELPER_PROTOS.partition_point(|p| p.id.0 <= id.0);
    &HELPER_PROTOS[start..end]
}

/// The prototype `prog_type` gets for helper `id`: the row that allows it, else the first row
/// (whose [`HelperProto::allowed_in`] then says no); `None` for a helper the table does not
/// describe.
///
/// ```
/// use bpfkit_uapi::{helper_proto_for, ArgKind, ArgType, HelperId, ProgType};
/// let cookie = |t| helper_proto_for(HelperId::GET_SOCKET_COOKIE, t).unwrap().args[0];
/// assert_eq!(cookie(ProgType::SCHED_CLS), ArgType::PTR_TO_CTX);
/// assert_eq!(cookie(ProgType::SK_REUSEPORT).kind, ArgKind::BtfIdSockCommon);
/// ```
pub fn helper_proto_for(id: HelperId, prog_type: ProgType) -> Option<&'static HelperProto> {
    let rows = helper_protos(id);
    rows.iter()
        .find(|p| p.allowed_in(prog_type))
        .or(rows.first())
}

// Program type sets of the table, named after the kernel's `*_func_proto` functions.
const ALL: ProgTypes = ProgTypes::ALL;
const TRACING: ProgTypes = ProgTypes::TRACING;
const fn pt(types: &[ProgType]) -> ProgTypes {
    ProgTypes::of(types)
}
/// Programs that see an `sk_buff` (`bpf_skb_load_bytes` and friends).
const SKB_READ: ProgTypes = pt(&[
    ProgType::SOCKET_FILTER,
    ProgType::SCHED_CLS,
    ProgType::SCHED_ACT,
    ProgType::CGROUP_SKB,
    ProgType::LWT_IN,
    ProgType::LWT_OUT,
    ProgType::LWT_XMIT,
    ProgType::LWT_SEG6LOCAL,
    ProgType::SK_SKB,
    ProgType::SK_REUSEPORT,
    ProgType::FLOW_DISSECTOR,
]);
const TC: ProgTypes = ProgTypes::TC;
const TC_LWT_XMIT: ProgTypes = TC.union(pt(&[ProgType::LWT_XMIT]));
const XDP: ProgTypes = pt(&[ProgType::XDP]);
const SOCKET_LOOKUP: ProgTypes = pt(&[
    ProgType::SCHED_CLS,
    ProgType::SCHED_ACT,
    ProgType::XDP,
    ProgType::CGROUP_SKB,
    ProgType::SK_SKB,
    ProgType::CGROUP_SOCK_ADDR,
    ProgType::SOCK_OPS,
    ProgType::SK_LOOKUP,
    ProgType::SK_MSG,
]);

/// The tracing types and syscall programs, which fall back on `tracing_prog_func_proto`.
const TRACING_SYSCALL: ProgTypes = TRACING.union(pt(&[ProgType::SYSCALL]));
/// The `bpf_skc_to_*` casts: every type but the tracing ones that share
/// `bpf_tracing_func_proto` (`tracing` and `lsm` have them) and a few cgroup and hook types.
const SKC_TO: ProgTypes = ALL.without(pt(&[
    ProgType::KPROBE,
    ProgType::TRACEPOINT,
    ProgType::PERF_EVENT,
    ProgType::RAW_TRACEPOINT,
    ProgType::RAW_TRACEPOINT_WRITABLE,
    ProgType::CGROUP_DEVICE,
    ProgType::CGROUP_SOCK,
    ProgType::CGROUP_SOCKOPT,
    ProgType::CGROUP_SYSCTL,
    ProgType::NETFILTER,
    ProgType::SK_REUSEPORT,
]));

const A: ArgType = ArgType::ANYTHING;
const D: ArgType = ArgType::DONTCARE;
const MAP: ArgType = ArgType::CONST_MAP_PTR;
const CTX: ArgType = ArgType::PTR_TO_CTX;
const KEY: ArgType = ArgType::PTR_TO_MAP_KEY;
const RO: ArgType = ArgType::PTR_TO_MEM_RDONLY;
const UNINIT: ArgType = ArgType::PTR_TO_UNINIT_MEM;
const SIZE: ArgType = ArgType::CONST_SIZE;
const SIZE0: ArgType = ArgType::CONST_SIZE_OR_ZERO;

/// One row: `proto(id, ret, args, gpl_only, prog_types)`; the optional parts are set with the
/// `const fn`s below it.
const fn proto(
    id: HelperId,
    ret: RetType,
    args: [ArgType; 5],
    gpl_only: bool,
    prog_types: ProgTypes,
) -> HelperProto {
    HelperProto {
        id,
        ret,
        args,
        gpl_only,
        pkt_access: false,
        changes_pkt_data: false,
        prog_types,
        map_types: &[],
    }
}

impl HelperProto {
    const fn pkt(mut self) -> HelperProto {
        self.pkt_access = true;
        self
    }
    const fn changes_pkt(mut self) -> HelperProto {
        self.changes_pkt_data = true;
        self
    }
    const fn maps(mut self, map_types: &'static [MapType]) -> HelperProto {
        self.map_types = map_types;
        self
    }
}

use HelperId as H;
use RetType as R;

/// Every helper prototype the table knows, sorted by id; a helper whose prototype depends on
/// the program type has one row per prototype (see [`helper_protos`]).
///
/// Taken from the kernel's `bpf_func_proto` definitions (kernel/bpf/helpers.c, net/core/filter.c,
/// kernel/trace/bpf_trace.c, kernel/bpf/ringbuf.c, ...), for a loader with `CAP_BPF` and
/// `CAP_PERFMON` (root) on Linux 6.18; program type availability and argument types are checked
/// against the running kernel by the verifier's tests.
#[rustfmt::skip]
pub static HELPER_PROTOS: &[HelperProto] = &[
    proto(H::MAP_LOOKUP_ELEM, R::MapValueOrNull, [MAP, KEY, D, D, D], false, ALL).pkt(),
    proto(H::MAP_UPDATE_ELEM, R::Integer, [MAP, KEY, ArgType::PTR_TO_MAP_VALUE, A, D], false, ALL).pkt(),
    proto(H::MAP_DELETE_ELEM, R::Integer, [MAP, KEY, D, D, D], false, ALL).pkt(),
    proto(H::PROBE_READ, R::Integer, [UNINIT, SIZE0, A, D, D], true, TRACING_SYSCALL),
    proto(H::KTIME_GET_NS, R::Integer, [D; 5], false, ALL),
    proto(H::TRACE_PRINTK, R::Integer, [RO, SIZE, D, D, D], true, ALL),
    proto(H::GET_PRANDOM_U32, R::Integer, [D; 5], false, ALL),
    proto(H::GET_SMP_PROCESSOR_ID, R::Integer, [D; 5], false, ALL),
    proto(H::SKB_STORE_BYTES, R::Integer, [CTX, A, RO, SIZE, A], false, TC_LWT_XMIT.union(pt(&[ProgType::SK_SKB]))).changes_pkt(),
    proto(H::L3_CSUM_REPLACE, R::Integer, [CTX, A, A, A, A], false, TC.union(pt(&[ProgType::LWT_XMIT]))).changes_pkt(),
    proto(H::L4_CSUM_REPLACE, R::Integer, [CTX, A, A, A, A], false, TC.union(pt(&[ProgType::LWT_XMIT]))).changes_pkt(),
    proto(H::TAIL_CALL, R::Void, [CTX, MAP, A, D, D], false, ALL).maps(&[MapType::PROG_ARRAY]),
    proto(H::CLONE_REDIRECT, R::Integer, [CTX, A, A, D, D], false, TC_LWT_XMIT).changes_pkt(),
    proto(H::GET_CURRENT_PID_TGID, R::Integer, [D; 5], false, ALL),
    proto(H::GET_CURRENT_UID_GID, R::Integer, [D; 5], false, ALL),
    proto(H::GET_CURRENT_COMM, R::Integer, [UNINIT, SIZE, D, D, D], false, ALL),
    proto(H::GET_CGROUP_CLASSID, R::Integer, [CTX, D, D, D, D], false, TC.union(ProgTypes::LWT)),
    proto(H::GET_CGROUP_CLASSID, R::Integer, [D; 5], false, ALL.without(TC.union(ProgTypes::LWT))),
    proto(H::SKB_VLAN_PUSH, R::Integer, [CTX, A, A, D, D], false, TC).changes_pkt(),
    proto(H::SKB_VLAN_POP, R::Integer, [CTX, D, D, D, D], false, TC).changes_pkt(),
    proto(H::SKB_GET_TUNNEL_KEY, R::Integer, [CTX, UNINIT, SIZE, A, D], false, TC_LWT_XMIT),
    proto(H::SKB_SET_TUNNEL_KEY, R::Integer, [CTX, RO, SIZE, A, D], false, TC_LWT_XMIT),
    proto(H::PERF_EVENT_READ, R::Integer, [MAP, A, D, D, D], true, ALL).maps(&[MapType::PERF_EVENT_ARRAY]),
    proto(H::REDIRECT, R::Integer, [A, A, D, D, D], false, TC_LWT_XMIT.union(XDP)),
    proto(H::GET_ROUTE_REALM, R::Integer, [CTX, D, D, D, D], false, TC.union(ProgTypes::LWT)),
    proto(H::PERF_EVENT_OUTPUT, R::Integer, [CTX, MAP, A, ArgType::PTR_TO_MEM_RDONLY, SIZE0], true, ALL.without(pt(&[ProgType::FLOW_DISSECTOR, ProgType::NETFILTER, ProgType::SK_REUSEPORT]))).maps(&[MapType::PERF_EVENT_ARRAY]),
    proto(H::SKB_LOAD_BYTES, R::Integer, [CTX, A, UNINIT, SIZE, D], false, SKB_READ),
    proto(H::GET_STACKID, R::Integer, [CTX, MAP, A, D, D], true, TRACING_SYSCALL).maps(&[MapType::STACK_TRACE]),
    proto(H::CSUM_DIFF, R::Integer, [ArgType::PTR_TO_MEM_OR_NULL_RDONLY, SIZE0, ArgType::PTR_TO_MEM_OR_NULL_RDONLY, SIZE0, A], false, TC.union(ProgTypes::LWT).union(XDP)).pkt(),
    proto(H::SKB_GET_TUNNEL_OPT, R::Integer, [CTX, UNINIT, SIZE, D, D], false, TC_LWT_XMIT),
    proto(H::SKB_SET_TUNNEL_OPT, R::Integer, [CTX, RO, SIZE, D, D], false, TC_LWT_XMIT),
    proto(H::SKB_CHANGE_PROTO, R::Integer, [CTX, A, A, D, D], false, TC).changes_pkt(),
    proto(H::SKB_CHANGE_TYPE, R::Integer, [CTX, A, D, D, D], false, TC),
    proto(H::SKB_UNDER_CGROUP, R::Integer, [CTX, MAP, A, D, D], false, TC.union(ProgTypes::LWT)).maps(&[MapType::CGROUP_ARRAY]),
    proto(H::GET_HASH_RECALC, R::Integer, [CTX, D, D, D, D], false, TC.union(ProgTypes::LWT)),
    proto(H::GET_CURRENT_TASK, R::Integer, [D; 5], true, ALL),
    // Refused under kernel lockdown (LOCKDOWN_BPF_WRITE_USER: integrity and above), which the
    // modelled 6.18 kernel runs with: `program of this type cannot use helper`.
    proto(H::PROBE_WRITE_USER, R::Integer, [A, RO, SIZE, D, D], true, ProgTypes::NONE),
    proto(H::CURRENT_TASK_UNDER_CGROUP, R::Integer, [MAP, A, D, D, D], false, ALL).maps(&[MapType::CGROUP_ARRAY]),
    proto(H::SKB_CHANGE_TAIL, R::Integer, [CTX, A, A, D, D], false, TC_LWT_XMIT.union(pt(&[ProgType::SK_SKB]))).changes_pkt(),
    proto(H::SKB_PULL_DATA, R::Integer, [CTX, A, D, D, D], false, TC.union(ProgTypes::LWT).union(pt(&[ProgType::SK_SKB]))).changes_pkt(),
    proto(H::CSUM_UPDATE, R::Integer, [CTX, A, D, D, D], false, TC_LWT_XMIT),
    proto(H::SET_HASH_INVALID, R::Integer, [CTX, D, D, D, D], false, TC_LWT_XMIT),
    proto(H::GET_NUMA_NODE_ID, R::Integer, [D; 5], false, ALL),
    proto(H::SKB_CHANGE_HEAD, R::Integer, [CTX, A, A, D, D], false, TC_LWT_XMIT.union(pt(&[ProgType::SK_SKB]))).changes_pkt(),
    proto(H::XDP_ADJUST_HEAD, R::Integer, [CTX, A, D, D, D], false, XDP).changes_pkt(),
    proto(H::PROBE_READ_STR, R::Integer, [UNINIT, SIZE0, A, D, D], true, TRACING_SYSCALL),
    proto(H::GET_SOCKET_COOKIE, R::Integer, [CTX, D, D, D, D], false, pt(&[ProgType::SOCKET_FILTER, ProgType::SCHED_CLS, ProgType::SCHED_ACT, ProgType::CGROUP_SKB, ProgType::SK_SKB, ProgType::CGROUP_SOCK, ProgType::CGROUP_SOCK_ADDR, ProgType::SOCK_OPS])),
    proto(H::GET_SOCKET_COOKIE, R::Integer, [ArgType::new(ArgKind::BtfIdSockCommon, ArgFlags::MAYBE_NULL), D, D, D, D], false, pt(&[ProgType::SK_REUSEPORT, ProgType::SYSCALL])),
    proto(H::GET_SOCKET_UID, R::Integer, [CTX, D, D, D, D], false, pt(&[ProgType::SOCKET_FILTER, ProgType::CGROUP_SKB, ProgType::SCHED_CLS, ProgType::SCHED_ACT, ProgType::SK_SKB])),
    proto(H::SET_HASH, R::Integer, [CTX, A, D, D, D], false, TC),
    proto(H::SKB_ADJUST_ROOM, R::Integer, [CTX, A, A, A, D], false, TC.union(pt(&[ProgType::SK_SKB]))).changes_pkt(),
    proto(H::REDIRECT_MAP, R::Integer, [MAP, A, A, D, D], false, XDP).maps(&[MapType::DEVMAP, MapType::DEVMAP_HASH, MapType::CPUMAP, MapType::XSKMAP]),
    proto(H::XDP_ADJUST_META, R::Integer, [CTX, A, D, D, D], false, XDP).changes_pkt(),
    proto(H::PERF_EVENT_READ_VALUE, R::Integer, [MAP, A, UNINIT, SIZE, D], true, ALL).maps(&[MapType::PERF_EVENT_ARRAY]),
    proto(H::PERF_PROG_READ_VALUE, R::Integer, [CTX, UNINIT, SIZE, D, D], true, pt(&[ProgType::PERF_EVENT])),
    // Needs CONFIG_BPF_KPROBE_OVERRIDE, which the modelled 6.18 kernel does not enable.
    proto(H::OVERRIDE_RETURN, R::Integer, [CTX, A, D, D, D], true, ProgTypes::NONE),
    proto(H::XDP_ADJUST_TAIL, R::Integer, [CTX, A, D, D, D], false, XDP).changes_pkt(),
    proto(H::GET_STACK, R::Integer, [CTX, UNINIT, SIZE0, A, D], true, TRACING_SYSCALL),
    proto(H::SKB_LOAD_BYTES_RELATIVE, R::Integer, [CTX, A, UNINIT, SIZE, A], false, pt(&[ProgType::SOCKET_FILTER, ProgType::SCHED_CLS, ProgType::SCHED_ACT, ProgType::CGROUP_SKB, ProgType::SK_REUSEPORT])),
    proto(H::FIB_LOOKUP, R::Integer, [CTX, ArgType::PTR_TO_MEM, SIZE, A, D], false, TC.union(XDP)),
    proto(H::SKB_CGROUP_ID, R::Integer, [CTX, D, D, D, D], false, TC.union(pt(&[ProgType::CGROUP_SKB]))),
    proto(H::GET_CURRENT_CGROUP_ID, R::Integer, [D; 5], false, ALL),
    proto(H::SK_LOOKUP_TCP, R::SocketOrNull, [CTX, RO, SIZE, A, A], false, SOCKET_LOOKUP.without(pt(&[ProgType::SK_LOOKUP, ProgType::SK_MSG, ProgType::SOCK_OPS]))),
    proto(H::SK_LOOKUP_UDP, R::SocketOrNull, [CTX, RO, SIZE, A, A], false, SOCKET_LOOKUP.without(pt(&[ProgType::SK_LOOKUP, ProgType::SK_MSG, ProgType::SOCK_OPS]))),
    proto(H::SK_RELEASE, R::Integer, [ArgType::RELEASE_SOCK_COMMON, D, D, D, D], false, SOCKET_LOOKUP.without(pt(&[ProgType::SK_MSG, ProgType::SOCK_OPS]))),
    proto(H::MAP_PUSH_ELEM, R::Integer, [MAP, ArgType::PTR_TO_MAP_VALUE, A, D, D], false, ALL).maps(&[MapType::QUEUE, MapType::STACK, MapType::BLOOM_FILTER]),
    proto(H::MAP_POP_ELEM, R::Integer, [MAP, ArgType::PTR_TO_UNINIT_MAP_VALUE, D, D, D], false, ALL).maps(&[MapType::QUEUE, MapType::STACK]),
    proto(H::MAP_PEEK_ELEM, R::Integer, [MAP, ArgType::PTR_TO_UNINIT_MAP_VALUE, D, D, D], false, ALL).maps(&[MapType::QUEUE, MapType::STACK, MapType::BLOOM_FILTER]),
    proto(H::SPIN_LOCK, R::Void, [ArgType::PTR_TO_SPIN_LOCK, D, D, D, D], false, ALL),
    proto(H::SPIN_UNLOCK, R::Void, [ArgType::PTR_TO_SPIN_LOCK, D, D, D, D], false, ALL),
    proto(H::SK_FULLSOCK, R::SocketOrNull, [ArgType::PTR_TO_SOCK_COMMON, D, D, D, D], false, TC.union(pt(&[ProgType::CGROUP_SKB]))),
    proto(H::TCP_SOCK, R::TcpSockOrNull, [ArgType::PTR_TO_SOCK_COMMON, D, D, D, D], false, TC.union(pt(&[ProgType::CGROUP_SKB, ProgType::SOCK_OPS, ProgType::CGROUP_SOCKOPT]))),
    proto(H::GET_LISTENER_SOCK, R::SocketOrNull, [ArgType::PTR_TO_SOCK_COMMON, D, D, D, D], false, TC.union(pt(&[ProgType::CGROUP_SKB]))),
    proto(H::SKC_LOOKUP_TCP, R::SockCommonOrNull, [CTX, RO, SIZE, A, A], false, SOCKET_LOOKUP.without(pt(&[ProgType::SK_LOOKUP, ProgType::SK_MSG, ProgType::SOCK_OPS]))),
    proto(H::SEND_SIGNAL, R::Integer, [A, D, D, D, D], false, ALL),
    proto(H::PROBE_READ_USER, R::Integer, [UNINIT, SIZE0, A, D, D], true, ALL),
    proto(H::PROBE_READ_KERNEL, R::Integer, [UNINIT, SIZE0, A, D, D], true, ALL),
    proto(H::PROBE_READ_USER_STR, R::Integer, [UNINIT, SIZE0, A, D, D], true, ALL),
    proto(H::PROBE_READ_KERNEL_STR, R::Integer, [UNINIT, SIZE0, A, D, D], true, ALL),
    proto(H::SEND_SIGNAL_THREAD, R::Integer, [A, D, D, D, D], false, ALL),
    proto(H::JIFFIES64, R::Integer, [D; 5], false, ALL),
    proto(H::GET_NS_CURRENT_PID_TGID, R::Integer, [A, A, UNINIT, SIZE, D], false, ALL),
    proto(H::GET_NETNS_COOKIE, R::Integer, [ArgType::PTR_TO_CTX_OR_NULL, D, D, D, D], false, pt(&[ProgType::SOCKET_FILTER, ProgType::SCHED_CLS, ProgType::SCHED_ACT, ProgType::CGROUP_SKB, ProgType::CGROUP_SOCK, ProgType::CGROUP_SOCK_ADDR, ProgType::SOCK_OPS, ProgType::SK_MSG, ProgType::CGROUP_SOCKOPT])),
    proto(H::SK_ASSIGN, R::Integer, [CTX, ArgType::PTR_TO_BTF_ID_SOCK_COMMON, A, D, D], false, TC),
    proto(H::SK_ASSIGN, R::Integer, [CTX, ArgType::new(ArgKind::Socket, ArgFlags::MAYBE_NULL), A, D, D], false, pt(&[ProgType::SK_LOOKUP])),
    proto(H::KTIME_GET_BOOT_NS, R::Integer, [D; 5], false, ALL),
    proto(H::RINGBUF_OUTPUT, R::Integer, [MAP, RO, SIZE0, A, D], false, ALL).maps(&[MapType::RINGBUF]),
    proto(H::RINGBUF_RESERVE, R::RingbufMemOrNull, [MAP, ArgType::CONST_ALLOC_SIZE_OR_ZERO, A, D, D], false, ALL).maps(&[MapType::RINGBUF]),
    proto(H::RINGBUF_SUBMIT, R::Void, [ArgType::RELEASE_RINGBUF_MEM, A, D, D, D], false, ALL),
    proto(H::RINGBUF_DISCARD, R::Void, [ArgType::RELEASE_RINGBUF_MEM, A, D, D, D], false, ALL),
    proto(H::RINGBUF_QUERY, R::Integer, [MAP, A, D, D, D], false, ALL).maps(&[MapType::RINGBUF]),
    proto(H::SKC_TO_TCP_SOCK, R::BtfIdOrNull("tcp_sock"), [ArgType::PTR_TO_BTF_ID_SOCK_COMMON, D, D, D, D], false, SKC_TO),
    proto(H::REDIRECT_NEIGH, R::Integer, [A, ArgType::PTR_TO_MEM_OR_NULL_RDONLY, SIZE0, A, D], false, TC),
    proto(H::PER_CPU_PTR, R::MemOrBtfIdOrNull, [ArgType::PTR_TO_PERCPU_BTF_ID, A, D, D, D], false, ALL),
    proto(H::THIS_CPU_PTR, R::MemOrBtfId, [ArgType::PTR_TO_PERCPU_BTF_ID, D, D, D, D], false, ALL),
    proto(H::REDIRECT_PEER, R::Integer, [A, A, D, D, D], false, TC),
    proto(H::GET_CURRENT_TASK_BTF, R::BtfIdTrusted("task_struct"), [D; 5], true, ALL),
    proto(H::KTIME_GET_COARSE_NS, R::Integer, [D; 5], false, ALL.without(TRACING).without(pt(&[ProgType::CGROUP_DEVICE, ProgType::CGROUP_SOCKOPT, ProgType::NETFILTER, ProgType::SYSCALL]))),
    proto(H::CHECK_MTU, R::Integer, [CTX, A, ArgType::PTR_TO_INT, A, A], false, TC.union(XDP)),
    proto(H::FOR_EACH_MAP_ELEM, R::Integer, [MAP, ArgType::PTR_TO_FUNC, ArgType::PTR_TO_STACK_OR_NULL, A, D], false, ALL),
    proto(H::SNPRINTF, R::Integer, [ArgType::new(ArgKind::Mem, ArgFlags::MAYBE_NULL), SIZE0, ArgType::PTR_TO_CONST_STR, ArgType::PTR_TO_MEM_OR_NULL_RDONLY, SIZE0], false, ALL),
    proto(H::TIMER_INIT, R::Integer, [ArgType::PTR_TO_TIMER, MAP, A, D, D], false, ALL),
    proto(H::TIMER_SET_CALLBACK, R::Integer, [ArgType::PTR_TO_TIMER, ArgType::PTR_TO_FUNC, D, D, D], false, ALL),
    proto(H::TIMER_START, R::Integer, [ArgType::PTR_TO_TIMER, A, A, D, D], false, ALL),
    proto(H::TIMER_CANCEL, R::Integer, [ArgType::PTR_TO_TIMER, D, D, D, D], false, ALL),
    proto(H::GET_FUNC_IP, R::Integer, [CTX, D, D, D, D], true, TRACING_SYSCALL),
    proto(H::GET_ATTACH_COOKIE, R::Integer, [CTX, D, D, D, D], false, TRACING),
    proto(H::TRACE_VPRINTK, R::Integer, [RO, SIZE, ArgType::PTR_TO_MEM_OR_NULL_RDONLY, SIZE0, D], true, ALL),
    proto(H::LOOP, R::Integer, [A, ArgType::PTR_TO_FUNC, ArgType::PTR_TO_STACK_OR_NULL, A, D], false, ALL),
    proto(H::STRNCMP, R::Integer, [RO, SIZE, ArgType::PTR_TO_CONST_STR, D, D], false, ALL),
    proto(H::XDP_GET_BUFF_LEN, R::Integer, [CTX, D, D, D, D], false, XDP),
    proto(H::XDP_GET_BUFF_LEN, R::Integer, [ArgType::PTR_TO_BTF_ID, D, D, D, D], false, pt(&[ProgType::SYSCALL])),
    proto(H::XDP_LOAD_BYTES, R::Integer, [CTX, A, UNINIT, SIZE, D], false, XDP),
    proto(H::XDP_STORE_BYTES, R::Integer, [CTX, A, RO, SIZE, D], false, XDP),
    proto(H::KPTR_XCHG, R::MemOrBtfIdOrNull, [ArgType::PTR_TO_KPTR, ArgType::PTR_TO_BTF_ID, D, D, D], false, ALL),
    proto(H::MAP_LOOKUP_PERCPU_ELEM, R::MapValueOrNull, [MAP, KEY, A, D, D], false, ALL).maps(&[MapType::PERCPU_HASH, MapType::PERCPU_ARRAY, MapType::LRU_PERCPU_HASH]),
    proto(H::DYNPTR_FROM_MEM, R::Integer, [UNINIT, SIZE0, A, ArgType::PTR_TO_UNINIT_DYNPTR, D], false, ALL),
    proto(H::RINGBUF_RESERVE_DYNPTR, R::Integer, [MAP, A, A, ArgType::PTR_TO_UNINIT_DYNPTR, D], false, ALL).maps(&[MapType::RINGBUF]),
    proto(H::RINGBUF_SUBMIT_DYNPTR, R::Void, [ArgType::RELEASE_DYNPTR, A, D, D, D], false, ALL),
    proto(H::RINGBUF_DISCARD_DYNPTR, R::Void, [ArgType::RELEASE_DYNPTR, A, D, D, D], false, ALL),
    proto(H::DYNPTR_READ, R::Integer, [UNINIT, SIZE0, ArgType::PTR_TO_DYNPTR_RDONLY, A, A], false, ALL),
    proto(H::DYNPTR_WRITE, R::Integer, [ArgType::PTR_TO_DYNPTR_RDONLY, A, RO, SIZE0, A], false, ALL),
    proto(H::DYNPTR_DATA, R::DynptrMemOrNull, [ArgType::PTR_TO_DYNPTR_RDONLY, A, ArgType::CONST_ALLOC_SIZE_OR_ZERO, D, D], false, ALL),
    proto(H::KTIME_GET_TAI_NS, R::Integer, [D; 5], false, ALL),
];
