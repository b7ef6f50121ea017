//! Program contexts: what `r1` points at when a program of each type runs, and how context
//! accesses are converted at load time, as the kernel's `convert_ctx_access` converts them.
//!
//! # The approach
//!
//! The kernel rewrites every context access when it loads a program: a 4-byte load of
//! `xdp_md.data` becomes an 8-byte load of `xdp_buff.data`, so the program holds a real
//! pointer that compares correctly against `data_end`. The runtime does the same in two steps:
//!
//! 1. **Find the context accesses** (the `flow` module): a forward data-flow analysis follows the
//!    context pointer from `r1` through copies, stack spills and fills, and subprogram
//!    arguments, and classifies every load and store by its base register. This is the one
//!    thing the kernel learns from its verifier that an unverified runtime must work out, and
//!    tracking only the context (not full register types) keeps it cheap: a few abstract values
//!    per register and stack slot, a fixpoint over the instructions once per program.
//! 2. **Check and rewrite them**: each access is checked against the one table of access rules
//!    ([`bpfkit_uapi::ctx_access`]); a refused access is a load error with the kernel's message
//!    (`invalid bpf_context access off=76 size=4`). An allowed one keeps its offset, because the
//!    context region holds the uapi struct itself (`__sk_buff`, `xdp_md`) with every field
//!    materialised, except the pointer fields: a load of `data`, `data_end` or `data_meta`
//!    becomes an 8-byte load of a slot past the struct's end holding the full 64-bit virtual
//!    address of the packet byte. Narrow loads then read the right bytes of a field for free;
//!    stores to the 16-bit fields the kernel keeps in 16 bits (`tc_index`, `tc_classid`,
//!    `queue_mapping`) are narrowed to 2-byte stores, so reading them back gives what the
//!    kernel gives.
//!
//! A narrow load of a field the kernel keeps narrower than the uapi field (`protocol` is 16
//! bits, `pkt_type` 8) at least as wide as the kernel's field reads the whole value, whatever
//! its offset (`SK_BUFF_TARGET_SIZES`): such a load is moved to the field's start.
//!
//! Rewriting keeps every instruction in place (one load becomes one load), so no jump moves and
//! the interpreter and the JIT run the converted program unchanged. The alternative, translating
//! pointer fields in the context region's load path, would put a check in every load of every
//! program, and the JIT would need it too.
//!
//! Known difference: the kernel skips a store to `__sk_buff.queue_mapping` of `0xffff` or more;
//! here it is stored (truncated to 16 bits).

pub(crate) mod flow;

use bpfkit_isa::{Insn, Kind, Opcode, Size};
use bpfkit_uapi::{
    AttachType, CtxReg, MAX_BPF_FUNC_ARGS, ProgType, SK_BUFF, SK_BUFF_TARGET_SIZES, XDP_MD,
    ctx_access,
};

use flow::Base;

/// What a program's context is, and so how a test run builds it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum CtxKind {
    /// `struct xdp_md` over a packet (XDP).
    Xdp,
    /// `struct __sk_buff` over a packet (tc, socket filters, cgroup skb).
    Skb,
    /// The caller's bytes, read only: raw tracepoint and tracing arguments (`u64 args[]`),
    /// kprobe `pt_regs`, tracepoint records, perf event data.
    ReadOnly,
    /// The caller's bytes, read and written (`BPF_PROG_TYPE_SYSCALL`).
    Syscall,
}

impl CtxKind {
    /// The context of `prog_type` programs, or `None` for types the runtime cannot run.
    pub fn of(prog_type: ProgType) -> Option<CtxKind> {
        Some(match prog_type {
            ProgType::XDP => CtxKind::Xdp,
            ProgType::SOCKET_FILTER
            | ProgType::SCHED_CLS
            | ProgType::SCHED_ACT
            | ProgType::CGROUP_SKB => CtxKind::Skb,
            ProgType::KPROBE
            | ProgType::TRACEPOINT
            | ProgType::PERF_EVENT
            | ProgType::RAW_TRACEPOINT
            | ProgType::RAW_TRACEPOINT_WRITABLE
            | ProgType::TRACING
            | ProgType::LSM => CtxKind::ReadOnly,
            ProgType::SYSCALL => CtxKind::Syscall,
            _ => return None,
        })
    }
}

/// Byte offset of the 64-bit `xdp_md.data` pointer slot in the XDP context region.
pub const XDP_DATA_SLOT: u32 = XDP_MD.size;
/// Byte offset of the 64-bit `xdp_md.data_end` pointer slot.
pub const XDP_DATA_END_SLOT: u32 = XDP_MD.size + 8;
/// Byte offset of the 64-bit `xdp_md.data_meta` pointer slot.
pub const XDP_DATA_META_SLOT: u32 = XDP_MD.size + 16;
/// Size of the XDP context region: `xdp_md` and its three pointer slots.
pub const XDP_CTX_SIZE: u32 = XDP_MD.size + 24;
/// Byte offset of the 64-bit `__sk_buff.data` pointer slot in the skb context region.
pub const SKB_DATA_SLOT: u32 = SK_BUFF.size;
/// Byte offset of the 64-bit `__sk_buff.data_end` pointer slot.
pub const SKB_DATA_END_SLOT: u32 = SK_BUFF.size + 8;
/// Byte offset of the 64-bit `__sk_buff.data_meta` pointer slot.
pub const SKB_DATA_META_SLOT: u32 = SK_BUFF.size + 16;
/// Size of the skb context region: `__sk_buff` and its three pointer slots.
pub const SKB_CTX_SIZE: u32 = SK_BUFF.size + 24;

/// Why a program's context accesses cannot be loaded.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum CtxError {
    /// The kernel's verifier refuses this access; `message` is its text.
    #[error("insn {pc}: {message}")]
    Refused {
        /// The instruction's slot.
        pc: usize,
        /// The kernel verifier's message.
        message: String,
    },
    /// The kernel allows the access, but the runtime has no model of what it reads.
    #[error("insn {pc}: ctx field {field} is not supported by the userspace runtime")]
    UnsupportedField {
        /// The instruction's slot.
        pc: usize,
        /// `struct.field`.
        field: String,
    },
}

/// A program with its context accesses converted.
#[derive(Clone, Debug)]
pub struct Converted {
    /// The instructions, with slot indices, as they will run.
    pub insns: Vec<(usize, Insn)>,
    /// One past the last context byte any access touches (the kernel's `max_ctx_offset`).
    pub max_ctx_offset: u32,
}

/// Finds, checks and converts every context access of a `prog_type` program.
pub fn convert(
    insns: &[(usize, Insn)],
    prog_type: ProgType,
    attach_type: AttachType,
) -> Result<Converted, CtxError> {
    let kind = CtxKind::of(prog_type);
    // The legacy packet loads read an skb (the kernel's may_access_skb).
    let skb_loads = matches!(
        prog_type,
        ProgType::SOCKET_FILTER | ProgType::SCHED_CLS | ProgType::SCHED_ACT
    );
    if let Some((pc, _)) = insns.iter().find(|(_, i)| {
        matches!(
            i.opcode,
            Opcode::LdAbsB
                | Opcode::LdAbsH
                | Opcode::LdAbsW
                | Opcode::LdIndB
                | Opcode::LdIndH
                | Opcode::LdIndW
        )
    }) && !skb_loads
    {
        return Err(CtxError::Refused {
            pc: *pc,
            message: "BPF_LD_[ABS|IND] instructions not allowed for this program type".into(),
        });
    }
    let bases = flow::ctx_bases(insns);
    let mut out = insns.to_vec();
    let mut max_ctx_offset = 0u32;
    for ((slot, insn), base) in out.iter_mut().zip(bases) {
        let Some((reg, base)) = base else { continue };
        let pc = *slot;
        let refuse = |message: String| Err(CtxError::Refused { pc, message });
        let (size, write) = match insn.kind() {
            Kind::Load { size, .. } => (size, false),
            Kind::Store { size, .. } => (size, true),
            Kind::Atomic { .. } => {
                return refuse(format!("BPF_ATOMIC stores into R{reg} ctx is not allowed"));
            }
            _ => continue,
        };
        match base {
            Base::Ctx => {}
            Base::ModifiedCtx(k) if k < 0 => {
                return refuse(format!("negative offset ctx ptr R{reg} off={k} disallowed"));
            }
            Base::ModifiedCtx(k) => {
                return refuse(format!(
                    "dereference of modified ctx ptr R{reg} off={k} disallowed"
                ));
            }
            Base::VariableCtx => {
                return refuse(
                    "variable ctx access var_off=(0x0; 0xffffffffffffffff) disallowed".into(),
                );
            }
            Base::Mixed => {
                return refuse("same insn cannot be used with different pointers".into());
            }
        }
        let off = insn.off as i64;
        let bytes = size.bytes() as u32;
        let Some(kind) = kind else {
            return refuse(format!("invalid bpf_context access off={off} size={bytes}"));
        };
        let rewritten = check_and_convert(*insn, kind, prog_type, attach_type, off, size, write)
            .map_err(|e| match e {
                Problem::Refused => CtxError::Refused {
                    pc,
                    message: format!("invalid bpf_context access off={off} size={bytes}"),
                },
                Problem::Unsupported(field) => CtxError::UnsupportedField { pc, field },
            })?;
        *insn = rewritten;
        max_ctx_offset = max_ctx_offset.max(off as u32 + bytes);
    }
    Ok(Converted {
        insns: out,
        max_ctx_offset,
    })
}

enum Problem {
    Refused,
    Unsupported(String),
}

fn check_and_convert(
    insn: Insn,
    kind: CtxKind,
    prog_type: ProgType,
    attach_type: AttachType,
    off: i64,
    size: Size,
    write: bool,
) -> Result<Insn, Problem> {
    let bytes = size.bytes() as u32;
    match kind {
        CtxKind::Syscall => {
            // syscall_prog_is_valid_access
            let ok = (0..u16::MAX as i64).contains(&off) && off % bytes as i64 == 0;
            return if ok { Ok(insn) } else { Err(Problem::Refused) };
        }
        CtxKind::ReadOnly
            if matches!(
                prog_type,
                ProgType::TRACING | ProgType::LSM | ProgType::RAW_TRACEPOINT_WRITABLE
            ) =>
        {
            // btf_ctx_access: u64 arguments (and a return value), read only.
            let ok = !write && off >= 0 && off % 8 == 0 && off < 8 * (MAX_BPF_FUNC_ARGS as i64 + 1);
            return if ok { Ok(insn) } else { Err(Problem::Refused) };
        }
        _ => {}
    }
    let access = ctx_access(prog_type, attach_type, off, bytes, write).ok_or(Problem::Refused)?;
    let field = |layout: &bpfkit_uapi::CtxLayout| {
        layout
            .field_at(off as u32)
            .map_or(format!("{}+{off}", layout.name), |f| {
                format!("{}.{}", layout.name, f.name)
            })
    };
    let slot = match (kind, access.reg) {
        (_, CtxReg::Scalar) => None,
        (CtxKind::Xdp, CtxReg::Packet) => Some(XDP_DATA_SLOT),
        (CtxKind::Xdp, CtxReg::PacketEnd) => Some(XDP_DATA_END_SLOT),
        (CtxKind::Xdp, CtxReg::PacketMeta) => Some(XDP_DATA_META_SLOT),
        (CtxKind::Skb, CtxReg::Packet) => Some(SKB_DATA_SLOT),
        (CtxKind::Skb, CtxReg::PacketEnd) => Some(SKB_DATA_END_SLOT),
        (CtxKind::Skb, CtxReg::PacketMeta) => Some(SKB_DATA_META_SLOT),
        (CtxKind::Xdp, _) => return Err(Problem::Unsupported(field(&XDP_MD))),
        _ => return Err(Problem::Unsupported(field(&SK_BUFF))),
    };
    if let Some(slot) = slot {
        if !matches!(insn.opcode, Opcode::LdxW) {
            return Err(Problem::Unsupported(field(if kind == CtxKind::Xdp {
                &XDP_MD
            } else {
                &SK_BUFF
            })));
        }
        return Ok(Insn {
            opcode: Opcode::LdxDW,
            off: slot as i16,
            ..insn
        });
    }
    // A load at least as wide as the kernel's field, anywhere in the uapi field, reads the
    // whole value: read it from the field's start.
    if !write && kind == CtxKind::Skb {
        if let Some(f) = SK_BUFF.field_at(off as u32) {
            let target = SK_BUFF_TARGET_SIZES
                .iter()
                .find(|(name, _)| *name == f.name)
                .map(|(_, t)| *t);
            if target.is_some_and(|t| bytes >= t) && off as u32 != f.offset {
                return Ok(Insn {
                    off: f.offset as i16,
                    ..insn
                });
            }
        }
    }
    // The kernel keeps these __sk_buff fields in 16 bits: a store writes the low half.
    if write && kind == CtxKind::Skb && size == Size::W {
        let narrow = ["tc_index", "tc_classid", "queue_mapping"];
        if SK_BUFF
            .field_at(off as u32)
            .is_some_and(|f| narrow.contains(&f.name))
        {
            let opcode = match insn.opcode {
                Opcode::StxW => Opcode::StxH,
                _ => Opcode::StH,
            };
            return Ok(Insn { opcode, ..insn });
        }
    }
    Ok(insn)
}

#[cfg(test)]
mod tests {
    use super::*;
    use bpfkit_asm::assemble;
    use bpfkit_isa::Dialect;

    fn run(src: &str, prog_type: ProgType) -> Result<Converted, CtxError> {
        let insns = assemble(src, Dialect::Llvm).unwrap();
        let mut slot = 0;
        let with_slots: Vec<(usize, Insn)> = insns
            .into_iter()
            .map(|i| {
                let at = slot;
                slot += i.slots();
                (at, i)
            })
            .collect();
        convert(&with_slots, prog_type, AttachType(0))
    }

    #[test]
    fn pointer_fields_become_64_bit_loads_of_their_slots() {
        let c = run(
            "r2 = *(u32 *)(r1 + 0)\nr3 = *(u32 *)(r1 + 4)\nr4 = *(u32 *)(r1 + 12)\nr0 = 0\nexit",
            ProgType::XDP,
        )
        .unwrap();
        assert_eq!(c.insns[0].1.opcode, Opcode::LdxDW);
        assert_eq!(c.insns[0].1.off, XDP_DATA_SLOT as i16);
        assert_eq!(c.insns[1].1.off, XDP_DATA_END_SLOT as i16);
        assert_eq!(
            c.insns[2].1,
            assemble("r4 = *(u32 *)(r1 + 12)", Dialect::Llvm).unwrap()[0]
        );
        assert_eq!(c.max_ctx_offset, 16);
    }

    #[test]
    fn legacy_packet_loads_only_in_programs_that_read_an_skb() {
        let src = "r6 = r1\nr0 = *(u8 *)skb[12]\nexit";
        assert!(run(src, ProgType::SOCKET_FILTER).is_ok());
        assert!(run(src, ProgType::SCHED_CLS).is_ok());
        let e = run(src, ProgType::XDP).unwrap_err();
        assert_eq!(
            e.to_string(),
            "insn 1: BPF_LD_[ABS|IND] instructions not allowed for this program type"
        );
    }

    #[test]
    fn refused_accesses_carry_the_kernels_message() {
        let e = run(
            "r2 = *(u32 *)(r1 + 76)\nr0 = 0\nexit",
            ProgType::SOCKET_FILTER,
        )
        .unwrap_err();
        assert_eq!(
            e.to_string(),
            "insn 0: invalid bpf_context access off=76 size=4"
        );
        let e = run(
            "r1 += 4\nr2 = *(u32 *)(r1 + 0)\nr0 = 0\nexit",
            ProgType::XDP,
        )
        .unwrap_err();
        assert_eq!(
            e.to_string(),
            "insn 1: dereference of modified ctx ptr R1 off=4 disallowed"
        );
        let e = run("*(u32 *)(r1 + 0) = 1\nr0 = 0\nexit", ProgType::XDP).unwrap_err();
        assert_eq!(
            e.to_string(),
            "insn 0: invalid bpf_context access off=0 size=4"
        );
        let e = run(
            "r2 = 1\nlock *(u32 *)(r1 + 8) += r2\nr0 = 0\nexit",
            ProgType::SCHED_CLS,
        )
        .unwrap_err();
        assert_eq!(
            e.to_string(),
            "insn 1: BPF_ATOMIC stores into R1 ctx is not allowed"
        );
        let e = run("r2 = *(u64 *)(r1 + 168)\nr0 = 0\nexit", ProgType::SCHED_CLS).unwrap_err();
        assert_eq!(
            e.to_string(),
            "insn 0: ctx field __sk_buff.sk is not supported by the userspace runtime"
        );
    }

    #[test]
    fn sixteen_bit_skb_fields_take_16_bit_stores() {
        let c = run(
            "r2 = 0x12345\n*(u32 *)(r1 + 44) = r2\nr0 = 0\nexit",
            ProgType::SCHED_CLS,
        )
        .unwrap();
        assert_eq!(c.insns[1].1.opcode, Opcode::StxH);
        let c = run("*(u32 *)(r1 + 8) = 7\nr0 = 0\nexit", ProgType::SCHED_CLS).unwrap();
        assert_eq!(c.insns[0].1.opcode, Opcode::StW);
    }
}
