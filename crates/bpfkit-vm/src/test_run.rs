//! `BPF_PROG_TEST_RUN` in userspace: a program runs on a packet or context built exactly as
//! the kernel's `net/bpf/test_run.c` builds it, and the output (return value, packet, context)
//! comes back as the kernel returns it, errors included.
//!
//! - **XDP** (`bpf_prog_test_run_xdp`): a 4096-byte frame with 256 bytes of headroom (less the
//!   metadata a context asks for) and 320 bytes of tailroom (`skb_shared_info`); a context may
//!   set `data` (the metadata length, a multiple of 4 up to 216, what the headroom holds after the `xdp_frame`), must set `data_end` to the
//!   input's size and leave `data_meta` and `egress_ifindex` zero; `ingress_ifindex` and
//!   `rx_queue_index` name the receive queue (the loopback device's, ifindex 1, by default).
//!   The packet after the metadata has at least 14 bytes. Input past the frame's room (3520
//!   bytes) goes into fragments the program cannot reach
//!   directly. The output is the packet from `data_meta`, and the context with `data` and
//!   `data_end` relative to it.
//! - **skb** (`bpf_prog_test_run_skb`: socket filter, tc, cgroup skb): 64 bytes of headroom,
//!   the packet, 320 bytes of tailroom, at most 3712 bytes and at least 14 (an IPv4 packet at
//!   least 34, an IPv6 one 54: its network header must be there). `eth_type_trans`
//!   sets `protocol` and `pkt_type` (host, multicast, other host, against the loopback
//!   device's all-zero address). tc programs see the packet from its Ethernet header;
//!   socket filters and cgroup skb programs from the network header, and their output gets 14
//!   zero bytes pushed back in front. Only `mark`, `priority`, `ingress_ifindex`, `ifindex`,
//!   `cb`, `tstamp`, `wire_len`, `gso_segs`, `gso_size` and `hwtstamp` of a context may be
//!   non-zero.
//! - **raw tracepoint** and **syscall** programs take only a context (`u64` arguments, or any
//!   bytes), at least as long as the furthest byte the program reads; a syscall program's
//!   context comes back changed.
//! - Types the kernel cannot test-run (kprobe, tracepoint, perf event, tracing, LSM) run here
//!   anyway, on the context bytes the caller gives.

use std::time::Instant;

use bpfkit_uapi::{AttachType, ProgType, SK_BUFF, XDP_MD};

use crate::ctx::{CtxKind, SKB_CTX_SIZE, XDP_CTX_SIZE};
use crate::fault::Fault;
use crate::host::Redirect;
use crate::maps::libc_errno;
use crate::packet::{Packet, PacketKind};
use crate::vm::{ProgId, RunInput, Vm};

/// The input of a test run: the fields of `BPF_PROG_TEST_RUN`.
#[derive(Clone, Copy, Debug, Default)]
pub struct TestRun<'a> {
    /// `data_in`: the packet (XDP, skb programs); empty for context-only programs.
    pub data: &'a [u8],
    /// `ctx_in`: the context (`xdp_md`, `__sk_buff`, arguments); `None` for none.
    pub ctx_in: Option<&'a [u8]>,
    /// `data_size_out`: room for the output packet (`None`: as much as it needs).
    pub data_size_out: Option<u32>,
    /// `ctx_size_out`: room for the output context (`None`: as much as it needs).
    pub ctx_size_out: Option<u32>,
    /// `repeat`: how many times to run (0 and 1 both run once); the packet and the maps carry
    /// over from one run to the next, as in the kernel.
    pub repeat: u32,
    /// `flags` (`BPF_F_TEST_RUN_ON_CPU` for raw tracepoints).
    pub flags: u32,
    /// `cpu`, with `BPF_F_TEST_RUN_ON_CPU`.
    pub cpu: u32,
}

/// What a test run returns.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct TestOutput {
    /// `retval`: the low 32 bits of `r0`.
    pub retval: u32,
    /// All 64 bits of `r0`.
    pub r0: u64,
    /// `data_out`: the packet after the run.
    pub data_out: Vec<u8>,
    /// `ctx_out`: the context after the run, when there is one.
    pub ctx_out: Option<Vec<u8>>,
    /// `duration`: mean run time in nanoseconds (of this runtime, not the kernel's).
    pub duration: u32,
    /// Where `bpf_redirect` or `bpf_redirect_map` sent the packet in the last run.
    pub redirect: Option<Redirect>,
}

/// Why a test run failed: the kernel's error for the same input, or a fault of the runtime.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum TestRunError {
    /// `EINVAL`: the input breaks a rule of `BPF_PROG_TEST_RUN`.
    #[error("invalid test run (EINVAL): {0}")]
    Invalid(String),
    /// `E2BIG`: the context is longer than the struct and the extra bytes are not zero.
    #[error("context too big (E2BIG): {0}")]
    TooBig(String),
    /// `ENODEV`: the context names an interface the host does not have.
    #[error("no interface with index {0} (ENODEV)")]
    NoDevice(u32),
    /// `ENOMEM`: the input needs more fragments than a frame has.
    #[error("out of memory (ENOMEM): {0}")]
    NoMemory(String),
    /// `ENXIO`: `BPF_F_TEST_RUN_ON_CPU` names a CPU the host does not have.
    #[error("no CPU {0} (ENXIO)")]
    NoCpu(u32),
    /// `ENOSPC`: the output did not fit `data_size_out` or `ctx_size_out`; what did fit is
    /// here, as the kernel copies it.
    #[error("output does not fit (ENOSPC)")]
    NoSpace(Box<TestOutput>),
    /// `ENOTSUPP`: the program type (or flag) has no test run.
    #[error("not supported (ENOTSUPP): {0}")]
    NotSupported(String),
    /// The program faulted; a program the kernel's verifier accepts never does.
    #[error(transparent)]
    Fault(#[from] Fault),
    /// The program could not be loaded into the runtime.
    #[error("program '{name}': {reason}")]
    Program {
        /// The program.
        name: String,
        /// Why.
        reason: String,
    },
}

impl TestRunError {
    /// The errno `BPF_PROG_TEST_RUN` returns for the same input (`None` for runtime faults and
    /// load errors, which the kernel's verifier would have refused earlier).
    pub fn errno(&self) -> Option<i64> {
        use libc_errno::*;
        Some(match self {
            TestRunError::Invalid(_) => EINVAL,
            TestRunError::TooBig(_) => E2BIG,
            TestRunError::NoDevice(_) => ENODEV,
            TestRunError::NoMemory(_) => ENOMEM,
            TestRunError::NoCpu(_) => 6,
            TestRunError::NoSpace(_) => ENOSPC,
            TestRunError::NotSupported(_) => ENOTSUPP,
            TestRunError::Fault(_) | TestRunError::Program { .. } => return None,
        })
    }
}

fn invalid<T>(why: impl Into<String>) -> Result<T, TestRunError> {
    Err(TestRunError::Invalid(why.into()))
}

/// What the runtime knows about a loaded program.
#[derive(Clone, Copy, Debug)]
pub(crate) struct RunTarget {
    pub id: ProgId,
    pub prog_type: ProgType,
    pub attach_type: AttachType,
    pub max_ctx_offset: u32,
    /// Whether the program may grow its packet past the input (`bpf_skb_change_tail`).
    pub grows_skb: bool,
}

/// `PAGE_SIZE`, `XDP_PACKET_HEADROOM`, `NET_SKB_PAD + NET_IP_ALIGN`,
/// `SKB_DATA_ALIGN(sizeof(struct skb_shared_info))`, `sizeof(struct xdp_frame)`, `ETH_HLEN`.
const PAGE_SIZE: u32 = 4096;
const XDP_HEADROOM: u32 = 256;
const SKB_HEADROOM: u32 = 64;
const SHINFO: u32 = 320;
const XDP_FRAME: u32 = 40;
const ETH_HLEN: u32 = 14;
/// `xdp_metalen_invalid`: metadata is a multiple of 4 bytes up to what a `u8` holds.
pub(crate) const MAX_META: u32 = 255;
/// `MAX_SKB_FRAGS`.
const MAX_FRAGS: u32 = 17;
/// `BPF_F_TEST_RUN_ON_CPU`, `BPF_F_TEST_XDP_LIVE_FRAMES`.
const RUN_ON_CPU: u32 = 1;
const XDP_LIVE_FRAMES: u32 = 2;

/// The context the caller gave, in a buffer of the struct's size: `bpf_ctx_init` (`E2BIG` if
/// the bytes past the struct are not zero). `None` when there is neither a context in nor out.
fn ctx_init(run: &TestRun<'_>, size: u32) -> Result<Option<Vec<u8>>, TestRunError> {
    let Some(given) = run.ctx_in else {
        return Ok(run.ctx_size_out.map(|_| vec![0; size as usize]));
    };
    if given.len() > size as usize && given[size as usize..].iter().any(|&b| b != 0) {
        return Err(TestRunError::TooBig(format!(
            "ctx_in has {} bytes; those past {size} must be zero",
            given.len()
        )));
    }
    let mut ctx = vec![0u8; size as usize];
    let n = given.len().min(size as usize);
    ctx[..n].copy_from_slice(&given[..n]);
    Ok(Some(ctx))
}

fn u32_at(b: &[u8], off: u32) -> u32 {
    u32::from_le_bytes(
        b[off as usize..off as usize + 4]
            .try_into()
            .expect("4 bytes"),
    )
}

fn put_u32(b: &mut [u8], off: u32, v: u32) {
    b[off as usize..off as usize + 4].copy_from_slice(&v.to_le_bytes());
}

fn field(name: &str) -> u32 {
    SK_BUFF.field(name).expect("a field of the table").offset
}

/// Runs `each` `repeat` times (at least once) and returns the last `r0` and the mean time.
fn repeat_run(
    vm: &mut Vm,
    run: &TestRun<'_>,
    mut each: impl FnMut(&mut Vm) -> Result<u64, Fault>,
) -> Result<(u64, u32), TestRunError> {
    let repeat = run.repeat.max(1);
    let start = Instant::now();
    let mut r0 = 0;
    for _ in 0..repeat {
        vm.host_mut().redirect = None;
        r0 = each(vm)?;
    }
    let duration = (start.elapsed().as_nanos() / repeat as u128).min(u32::MAX as u128) as u32;
    Ok((r0, duration))
}

/// Copies at most `room` bytes of `out` (`bpf_test_finish`): `ENOSPC` with the truncated copy
/// when it does not fit.
fn clamp(out: &mut Vec<u8>, room: Option<u32>) -> bool {
    match room {
        Some(room) if room != 0 && out.len() > room as usize => {
            out.truncate(room as usize);
            false
        }
        _ => true,
    }
}

/// Runs the test run of `target` in `vm`.
pub(crate) fn test_run(
    vm: &mut Vm,
    target: &RunTarget,
    run: &TestRun<'_>,
) -> Result<TestOutput, TestRunError> {
    // bpf_prog_test_run: a context buffer comes with a size, and a size with a buffer.
    if run.ctx_in.is_some_and(<[u8]>::is_empty) || run.ctx_size_out == Some(0) {
        return invalid("a context buffer needs a non-zero size");
    }
    match CtxKind::of(target.prog_type) {
        Some(CtxKind::Xdp) => run_xdp(vm, target, run),
        Some(CtxKind::Skb) => run_skb(vm, target, run),
        Some(CtxKind::Syscall) => run_syscall(vm, target, run),
        Some(CtxKind::ReadOnly) => run_args(vm, target, run),
        None => Err(TestRunError::NotSupported(format!(
            "{} programs have no test run",
            target.prog_type
        ))),
    }
}

fn run_xdp(vm: &mut Vm, target: &RunTarget, run: &TestRun<'_>) -> Result<TestOutput, TestRunError> {
    if matches!(
        target.attach_type,
        AttachType::XDP_DEVMAP | AttachType::XDP_CPUMAP
    ) {
        return invalid("devmap and cpumap programs have no test run");
    }
    if run.flags & !XDP_LIVE_FRAMES != 0 {
        return invalid("unknown flags");
    }
    if run.flags & XDP_LIVE_FRAMES != 0 {
        return Err(TestRunError::NotSupported(
            "BPF_F_TEST_XDP_LIVE_FRAMES".to_string(),
        ));
    }
    let ctx = ctx_init(run, XDP_MD.size)?;
    let size_in = run.data.len() as u32;
    let mut headroom = XDP_HEADROOM;
    let mut meta_len = 0;
    if let Some(ctx) = &ctx {
        let (data, data_end, data_meta) = (u32_at(ctx, 0), u32_at(ctx, 4), u32_at(ctx, 8));
        if data_meta != 0
            || data_end != size_in
            || data > data_end
            || data & 3 != 0
            || data > MAX_META
            || data > XDP_HEADROOM - XDP_FRAME
        {
            return invalid(
                "xdp_md: data_meta must be 0, data_end the input's size, data a \
                            metadata length of at most 216 in steps of 4",
            );
        }
        headroom -= data;
        meta_len = data;
    }
    if size_in - meta_len < ETH_HLEN {
        return invalid(format!(
            "the packet after the metadata must have {ETH_HLEN} bytes"
        ));
    }
    let max_data = PAGE_SIZE - headroom - SHINFO;
    let linear = size_in.min(max_data);
    let frags = &run.data[linear as usize..];
    if frags.len().div_ceil(PAGE_SIZE as usize) > MAX_FRAGS as usize {
        return Err(TestRunError::NoMemory(format!(
            "{} bytes need more than {MAX_FRAGS} fragments",
            frags.len()
        )));
    }
    let (mut ingress, mut rx_queue) = (1, 0);
    if let Some(ctx) = &ctx {
        if u32_at(ctx, 20) != 0 {
            return invalid("xdp_md.egress_ifindex must be 0");
        }
        let (ifindex, queue) = (u32_at(ctx, 12), u32_at(ctx, 16));
        if ifindex == 0 && queue != 0 {
            return invalid("xdp_md.rx_queue_index needs an ingress_ifindex");
        }
        if ifindex != 0 {
            let dev = vm
                .host()
                .interface(ifindex)
                .ok_or(TestRunError::NoDevice(ifindex))?;
            if queue >= dev.rx_queues {
                return invalid(format!("interface {ifindex} has no rx queue {queue}"));
            }
            (ingress, rx_queue) = (ifindex, queue);
        }
    }
    let mut frame = vec![0u8; PAGE_SIZE as usize];
    frame[headroom as usize..(headroom + linear) as usize]
        .copy_from_slice(&run.data[..linear as usize]);
    let mut packet = Packet {
        kind: PacketKind::Xdp,
        data: headroom + meta_len,
        data_end: headroom + linear,
        meta: headroom,
        head_min: XDP_FRAME,
        tail_max: PAGE_SIZE - SHINFO,
        data_end_visible: true,
        mac: headroom + meta_len,
        frags: frags
            .chunks(PAGE_SIZE as usize)
            .map(<[u8]>::to_vec)
            .collect(),
    };
    let mut shadow = vec![0u8; XDP_CTX_SIZE as usize];
    put_u32(&mut shadow, 12, ingress);
    put_u32(&mut shadow, 16, rx_queue);
    let (r0, duration) = repeat_run(vm, run, |vm| {
        vm.run_input(
            target.id,
            RunInput {
                ctx: &mut shadow,
                ctx_writable: false,
                r2: 0,
                packet: Some((&mut frame, &mut packet)),
            },
        )
    })?;
    let linear_out = &frame[packet.meta as usize..packet.data_end as usize];
    let frags: Vec<u8> = packet.frags.concat();
    let frags = &frags[..];
    let ctx_out = ctx.map(|mut c| {
        put_u32(&mut c, 0, packet.data - packet.meta);
        put_u32(&mut c, 4, packet.data_end - packet.meta);
        c
    });
    // bpf_test_finish with fragments: the linear part is cut to leave room for every
    // fragment; when the fragments alone do not fit, nothing is copied, not even retval.
    let total = linear_out.len() + frags.len();
    let copy = match run.data_size_out {
        Some(room) if room != 0 && total > room as usize => room as usize,
        _ => total,
    };
    if copy < frags.len() {
        return Err(TestRunError::NoSpace(Box::new(TestOutput {
            redirect: vm.host_mut().redirect.take(),
            ..TestOutput::default()
        })));
    }
    let mut data_out = linear_out[..copy - frags.len()].to_vec();
    data_out.extend_from_slice(frags);
    let out = finish(vm, r0, duration, data_out, None, ctx_out, run.ctx_size_out);
    if copy < total {
        // ENOSPC from the data comes before the context is copied.
        let mut out = out.unwrap_or_else(|e| match e {
            TestRunError::NoSpace(out) => *out,
            _ => unreachable!("finish only fails for space"),
        });
        out.ctx_out = None;
        return Err(TestRunError::NoSpace(Box::new(out)));
    }
    out
}

/// The output of a run with `bpf_test_finish` and `bpf_ctx_finish`'s `ENOSPC` rules.
fn finish(
    vm: &mut Vm,
    r0: u64,
    duration: u32,
    mut data_out: Vec<u8>,
    data_room: Option<u32>,
    ctx_out: Option<Vec<u8>>,
    ctx_room: Option<u32>,
) -> Result<TestOutput, TestRunError> {
    let data_fits = clamp(&mut data_out, data_room);
    let mut out = TestOutput {
        retval: r0 as u32,
        r0,
        data_out,
        ctx_out: None,
        duration,
        redirect: vm.host_mut().redirect.take(),
    };
    if !data_fits {
        return Err(TestRunError::NoSpace(Box::new(out)));
    }
    if let Some(mut ctx) = ctx_out {
        let fits = match ctx_room {
            Some(room) if ctx.len() > room as usize => {
                ctx.truncate(room as usize);
                false
            }
            _ => true,
        };
        out.ctx_out = Some(ctx);
        if !fits {
            return Err(TestRunError::NoSpace(Box::new(out)));
        }
    }
    Ok(out)
}

/// `eth_type_trans` against the loopback device (address 00:00:00:00:00:00): the protocol
/// (network byte order, as `skb->protocol` holds it) and the packet type.
fn eth_type_trans(frame: &[u8]) -> (u16, u32) {
    let dst = &frame[..6];
    // The loopback device's address and broadcast address are both all-zero, so a
    // broadcast frame is multicast to it and nothing is PACKET_BROADCAST (1).
    let pkt_type = if dst.iter().all(|&b| b == 0) {
        0 // PACKET_HOST
    } else if dst[0] & 1 != 0 {
        2 // PACKET_MULTICAST
    } else {
        3 // PACKET_OTHERHOST
    };
    let proto = u16::from_be_bytes([frame[12], frame[13]]);
    let protocol = if proto >= 0x0600 {
        proto
    } else if frame.len() >= 16 && frame[14] == 0xff && frame[15] == 0xff {
        0x0001 // ETH_P_802_3
    } else {
        0x0004 // ETH_P_802_2
    };
    (protocol.to_be(), pkt_type)
}

/// The `__sk_buff` fields a context may set (`convert___skb_to_skb`); every other byte must be
/// zero.
const SKB_CTX_FIELDS: [&str; 10] = [
    "mark",
    "priority",
    "ingress_ifindex",
    "ifindex",
    "cb",
    "tstamp",
    "wire_len",
    "gso_segs",
    "gso_size",
    "hwtstamp",
];

/// `GSO_LEGACY_MAX_SIZE`, `GSO_MAX_SEGS`.
const GSO_LEGACY_MAX_SIZE: u32 = 65536;
const GSO_MAX_SEGS: u32 = 65535;

fn run_skb(vm: &mut Vm, target: &RunTarget, run: &TestRun<'_>) -> Result<TestOutput, TestRunError> {
    if run.flags != 0 || run.cpu != 0 {
        return invalid("skb test runs take no flags or cpu");
    }
    let size = run.data.len() as u32;
    if !(ETH_HLEN..=PAGE_SIZE - SKB_HEADROOM - SHINFO).contains(&size) {
        return invalid(format!(
            "the packet must have {ETH_HLEN} to {} bytes",
            PAGE_SIZE - SKB_HEADROOM - SHINFO
        ));
    }
    let ctx = ctx_init(run, SK_BUFF.size)?;
    let is_l2 = matches!(target.prog_type, ProgType::SCHED_CLS | ProgType::SCHED_ACT);
    // The packet pointers a program can read: tc's, and cgroup skb's (from the network
    // header); a socket filter has none.
    let direct = is_l2 || target.prog_type == ProgType::CGROUP_SKB;
    let mut ifindex = 1;
    if let Some(c) = &ctx {
        let wanted = u32_at(c, field("ifindex"));
        if wanted > 1 {
            if vm.host().interface(wanted).is_none() {
                return Err(TestRunError::NoDevice(wanted));
            }
            ifindex = wanted;
        }
    }
    let (protocol, pkt_type) = eth_type_trans(run.data);
    // The network header a protocol promises must be there.
    let l3_len = size - ETH_HLEN;
    match u16::from_be(protocol) {
        0x0800 if l3_len < 20 => return invalid("an IPv4 packet needs its 20-byte header"),
        0x86dd if l3_len < 40 => return invalid("an IPv6 packet needs its 40-byte header"),
        _ => {}
    }
    // The buffer: headroom, the packet, tailroom; a program that grows its packet gets room to
    // grow to the most bpf_skb_change_tail allows.
    let room = if target.grows_skb {
        65536 + ETH_HLEN
    } else {
        size.next_multiple_of(64)
    };
    let mut buf = vec![0u8; (SKB_HEADROOM + room + SHINFO) as usize];
    buf[SKB_HEADROOM as usize..(SKB_HEADROOM + size) as usize].copy_from_slice(run.data);
    let mac = SKB_HEADROOM;
    let network = mac + ETH_HLEN;
    let mut packet = Packet {
        kind: PacketKind::Skb,
        data: if is_l2 { mac } else { network },
        data_end: mac + size,
        meta: if is_l2 { mac } else { network },
        head_min: 0,
        tail_max: SKB_HEADROOM + room,
        data_end_visible: direct,
        mac,
        frags: Vec::new(),
    };
    let mut shadow = vec![0u8; SKB_CTX_SIZE as usize];
    put_u32(&mut shadow, field("pkt_type"), pkt_type);
    put_u32(&mut shadow, field("protocol"), protocol as u32);
    put_u32(&mut shadow, field("ifindex"), ifindex);
    // The test run's socket: its family and addresses come from the packet.
    let l3 = &run.data[ETH_HLEN as usize..];
    match u16::from_be(protocol) {
        0x0800 => {
            put_u32(&mut shadow, field("family"), 2);
            if l3.len() >= 20 {
                shadow[field("local_ip4") as usize..][..4].copy_from_slice(&l3[12..16]);
                shadow[field("remote_ip4") as usize..][..4].copy_from_slice(&l3[16..20]);
            }
        }
        0x86dd => {
            put_u32(&mut shadow, field("family"), 10);
            if l3.len() >= 40 {
                shadow[field("local_ip6") as usize..][..16].copy_from_slice(&l3[8..24]);
                shadow[field("remote_ip6") as usize..][..16].copy_from_slice(&l3[24..40]);
            }
        }
        _ => {}
    }
    let len = packet.len();
    // cb->pkt_len is set from a context only; without one it stays 0.
    let mut wire_len = if ctx.is_some() { len } else { 0 };
    if let Some(c) = &ctx {
        let allowed = |off: usize| {
            SKB_CTX_FIELDS
                .iter()
                .any(|name| SK_BUFF.field(name).is_some_and(|f| f.covers(off as u32)))
        };
        if let Some(off) = (0..SK_BUFF.size as usize).find(|&o| c[o] != 0 && !allowed(o)) {
            let name = SK_BUFF.field_at(off as u32).map_or("padding", |f| f.name);
            return invalid(format!("__sk_buff.{name} may not be set"));
        }
        for name in ["mark", "priority", "ingress_ifindex"] {
            put_u32(&mut shadow, field(name), u32_at(c, field(name)));
        }
        let cb = field("cb") as usize;
        shadow[cb..cb + 20].copy_from_slice(&c[cb..cb + 20]);
        for name in ["tstamp", "hwtstamp"] {
            let off = field(name) as usize;
            shadow[off..off + 8].copy_from_slice(&c[off..off + 8]);
        }
        let wanted = u32_at(c, field("wire_len"));
        if wanted != 0 {
            if wanted < len || wanted > GSO_LEGACY_MAX_SIZE {
                return invalid("__sk_buff.wire_len must be at least the packet's length");
            }
            wire_len = wanted;
        }
        let segs = u32_at(c, field("gso_segs"));
        if segs > GSO_MAX_SEGS {
            return invalid("__sk_buff.gso_segs is too big");
        }
        put_u32(&mut shadow, field("gso_segs"), segs);
        // skb_shinfo(skb)->gso_size is 16 bits.
        put_u32(
            &mut shadow,
            field("gso_size"),
            u32_at(c, field("gso_size")) & 0xffff,
        );
    }
    put_u32(&mut shadow, field("wire_len"), wire_len);
    let (r0, duration) = repeat_run(vm, run, |vm| {
        vm.run_input(
            target.id,
            RunInput {
                ctx: &mut shadow,
                ctx_writable: true,
                r2: 0,
                packet: Some((&mut buf, &mut packet)),
            },
        )
    })?;
    let mut start = packet.data as usize;
    if !is_l2 {
        // The 14 bytes pushed back in front of a network-layer program's packet, zeroed.
        start -= ETH_HLEN as usize;
        buf[start..packet.data as usize].fill(0);
    }
    let data_out = buf[start..packet.data_end as usize].to_vec();
    let ctx_out = ctx.map(|mut c| {
        for name in [
            "mark",
            "priority",
            "ingress_ifindex",
            "ifindex",
            "wire_len",
            "gso_segs",
        ] {
            put_u32(&mut c, field(name), u32_at(&shadow, field(name)));
        }
        let cb = field("cb") as usize;
        c[cb..cb + 20].copy_from_slice(&shadow[cb..cb + 20]);
        for name in ["tstamp", "hwtstamp"] {
            let off = field(name) as usize;
            c[off..off + 8].copy_from_slice(&shadow[off..off + 8]);
        }
        c
    });
    finish(
        vm,
        r0,
        duration,
        data_out,
        run.data_size_out,
        ctx_out,
        run.ctx_size_out,
    )
}

/// `MAX_BPF_FUNC_ARGS * sizeof(u64)`.
const RAW_TP_MAX_CTX: u32 = 12 * 8;

fn run_syscall(
    vm: &mut Vm,
    target: &RunTarget,
    run: &TestRun<'_>,
) -> Result<TestOutput, TestRunError> {
    if !run.data.is_empty() || run.data_size_out.is_some() || run.ctx_size_out.is_some() {
        return invalid("syscall programs take only ctx_in");
    }
    if run.repeat != 0 || run.flags != 0 {
        return invalid("syscall programs take no repeat or flags");
    }
    let mut ctx = run.ctx_in.unwrap_or(&[]).to_vec();
    if (ctx.len() as u32) < target.max_ctx_offset || ctx.len() > u16::MAX as usize {
        return invalid(format!(
            "ctx_in must hold the {} bytes the program reads, at most 65535",
            target.max_ctx_offset
        ));
    }
    let start = Instant::now();
    vm.host_mut().redirect = None;
    let r0 = vm.run_input(
        target.id,
        RunInput {
            ctx: &mut ctx,
            ctx_writable: true,
            r2: 0,
            packet: None,
        },
    )?;
    let duration = start.elapsed().as_nanos().min(u32::MAX as u128) as u32;
    let ctx_out = run.ctx_in.map(|_| ctx);
    finish(vm, r0, duration, Vec::new(), None, ctx_out, None)
}

fn run_args(
    vm: &mut Vm,
    target: &RunTarget,
    run: &TestRun<'_>,
) -> Result<TestOutput, TestRunError> {
    let mut ctx = run.ctx_in.unwrap_or(&[]).to_vec();
    if target.prog_type == ProgType::RAW_TRACEPOINT {
        if !run.data.is_empty()
            || run.data_size_out.is_some()
            || run.ctx_size_out.is_some()
            || run.repeat != 0
        {
            return invalid("raw tracepoint programs take only ctx_in");
        }
        if (ctx.len() as u32) < target.max_ctx_offset || ctx.len() as u32 > RAW_TP_MAX_CTX {
            return invalid(format!(
                "ctx_in must hold the {} bytes the program reads, at most {RAW_TP_MAX_CTX}",
                target.max_ctx_offset
            ));
        }
        if run.flags & RUN_ON_CPU == 0 && run.cpu != 0 {
            return invalid("cpu needs BPF_F_TEST_RUN_ON_CPU");
        }
    }
    let saved_cpu = vm.host().cpu;
    if run.flags & RUN_ON_CPU != 0 {
        if run.cpu >= vm.cpus() {
            return Err(TestRunError::NoCpu(run.cpu));
        }
        vm.host_mut().cpu = run.cpu;
    }
    let result = repeat_run(vm, run, |vm| {
        vm.run_input(
            target.id,
            RunInput {
                ctx: &mut ctx,
                ctx_writable: false,
                r2: 0,
                packet: None,
            },
        )
    });
    vm.host_mut().cpu = saved_cpu;
    let (r0, duration) = result?;
    finish(vm, r0, duration, Vec::new(), None, None, None)
}
