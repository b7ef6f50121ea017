//! ALU instructions: moves, arithmetic on numbers, pointer arithmetic (`check_alu_op`,
//! `adjust_reg_min_max_vals`, `adjust_ptr_min_max_vals`).

use bpfkit_isa::{AluOp, ByteOrder, Insn, Source, Width};

use super::{Checker, R};
use crate::msg::Message;
use crate::reg::{Reg, RegKind};
use crate::scalar::{self, Scalar};
use crate::state::State;

/// Largest variable pointer offset (`BPF_MAX_VAR_OFF`).
pub(crate) const MAX_VAR_OFF: i64 = 1 << 29;

/// The kernel's name of an ALU operator (`bpf_alu_string`).
fn op_str(op: AluOp) -> &'static str {
    match op {
        AluOp::Add => "+=",
        AluOp::Sub => "-=",
        AluOp::Mul => "*=",
        AluOp::Div | AluOp::SDiv => "/=",
        AluOp::Or => "|=",
        AluOp::And => "&=",
        AluOp::Lsh => "<<=",
        AluOp::Rsh => ">>=",
        AluOp::Neg => "neg",
        AluOp::Mod | AluOp::SMod => "%=",
        AluOp::Xor => "^=",
        AluOp::Mov | AluOp::MovSx(_) => "=",
        AluOp::Arsh => "s>>=",
    }
}

impl Checker<'_> {
    /// One ALU instruction.
    pub(crate) fn check_alu(
        &mut self,
        state: &mut State,
        insn: &Insn,
        op: AluOp,
        width: Width,
        src: Source,
    ) -> R<()> {
        let w32 = width == Width::W32;
        let (d, s) = (insn.dst.index(), insn.src.index());
        match op {
            AluOp::Mov | AluOp::MovSx(_) => {
                if src == Source::Reg {
                    self.check_reg_read(state, s)?;
                }
                self.check_reg_write(d)?;
                let value = match src {
                    Source::Imm => {
                        let v = if w32 {
                            insn.imm as u32 as u64
                        } else {
                            insn.imm as i64 as u64
                        };
                        Reg::known(v)
                    }
                    Source::Reg => self.mov_reg(state, s, op, w32),
                };
                *state.reg_mut(d as usize) = value;
                Ok(())
            }
            AluOp::Neg => {
                self.check_reg_read(state, d)?;
                self.check_reg_write(d)?;
                let dst = *state.reg(d as usize);
                let out = if dst.is_scalar() {
                    scalar::alu(AluOp::Neg, &dst.s, &Scalar::ZERO, w32)
                } else {
                    Scalar::UNKNOWN
                };
                *state.reg_mut(d as usize) = Reg::scalar(out);
                Ok(())
            }
            _ => {
                if src == Source::Reg {
                    self.check_reg_read(state, s)?;
                }
                self.check_reg_read(state, d)?;
                if matches!(op, AluOp::Div | AluOp::SDiv | AluOp::Mod | AluOp::SMod)
                    && src == Source::Imm
                    && insn.imm == 0
                {
                    return Err(Message::DivByZero.into());
                }
                if matches!(op, AluOp::Lsh | AluOp::Rsh | AluOp::Arsh) && src == Source::Imm {
                    let bits = if w32 { 32 } else { 64 };
                    if insn.imm < 0 || insn.imm >= bits {
                        return Err(Message::InvalidShift(insn.imm).into());
                    }
                }
                self.check_reg_write(d)?;
                let src_reg = match src {
                    Source::Imm => Reg::known(insn.imm as i64 as u64),
                    Source::Reg => *state.reg(s as usize),
                };
                self.adjust(state, d, src_reg, op, w32)
            }
        }
    }

    /// `dst = src` between registers, 64-bit, 32-bit, or sign-extending.
    fn mov_reg(&mut self, state: &mut State, s: u8, op: AluOp, w32: bool) -> Reg {
        let src = *state.reg(s as usize);
        match op {
            AluOp::MovSx(bits) => {
                if !src.is_scalar() {
                    return Reg::unknown();
                }
                let mut v = src.s;
                v.sign_extend(bits as u32);
                if w32 {
                    v.coerce_to_size(4);
                    v.zext32();
                    v.sync();
                }
                Reg::scalar(v)
            }
            _ if !w32 => {
                // A copy: tie scalar copies together so a later comparison of one narrows both.
                if src.is_scalar() && src.id == 0 && !src.s.is_const() {
                    let id = self.new_id();
                    state.reg_mut(s as usize).id = id;
                    return *state.reg(s as usize);
                }
                src
            }
            _ => {
                if !src.is_scalar() {
                    // A partial copy of a pointer is an unknown number to a privileged loader.
                    let mut v = Scalar::UNKNOWN;
                    v.zext32();
                    v.sync();
                    return Reg::scalar(v);
                }
                let mut v = src.s;
                v.coerce_to_size(4);
                Reg::scalar(v)
            }
        }
    }

    /// `adjust_reg_min_max_vals`.
    fn adjust(&mut self, state: &mut State, d: u8, src: Reg, op: AluOp, w32: bool) -> R<()> {
        let dst = *state.reg(d as usize);
        if src.is_pointer() {
            if dst.is_pointer() {
                if op == AluOp::Sub {
                    *state.reg_mut(d as usize) = Reg::unknown();
                    return Ok(());
                }
                return Err(Message::PtrPtr {
                    reg: d,
                    op: op_str(op),
                }
                .into());
            }
            // scalar += pointer
            return self.ptr_arith(state, d, src, dst, op, w32, false);
        }
        if dst.is_pointer() {
            return self.ptr_arith(state, d, dst, src, op, w32, true);
        }
        let out = scalar::alu(op, &dst.s, &src.s, w32);
        let mut reg = Reg::scalar(out);
        if out.is_empty() {
            reg = Reg::unknown();
        }
        *state.reg_mut(d as usize) = reg;
        Ok(())
    }

    /// `adjust_ptr_min_max_vals`: `ptr op off` where `ptr_is_dst` says which side the pointer
    /// was on.
    #[allow(clippy::too_many_arguments)]
    fn ptr_arith(
        &mut self,
        state: &mut State,
        d: u8,
        ptr: Reg,
        off: Reg,
        op: AluOp,
        w32: bool,
        ptr_is_dst: bool,
    ) -> R<()> {
        if w32 {
            if op == AluOp::Sub {
                *state.reg_mut(d as usize) = Reg::unknown();
                return Ok(());
            }
            return Err(Message::PtrArith32(d).into());
        }
        if ptr.maybe_null() {
            return Err(Message::PtrArithNullCheck {
                reg: d,
                type_str: ptr.type_str(),
            }
            .into());
        }
        let known = off.s.is_const();
        let smin_val = off.s.smin;
        let allowed = match ptr.kind {
            RegKind::Ctx
            | RegKind::MapValue
            | RegKind::MapKey
            | RegKind::Stack
            | RegKind::PacketMeta
            | RegKind::Packet
            | RegKind::BtfId
            | RegKind::Mem
            | RegKind::Buf
            | RegKind::Func => true,
            RegKind::FlowKeys => known,
            RegKind::MapPtr => known && smin_val == 0 && op == AluOp::Add,
            _ => false,
        };
        if !allowed {
            return Err(Message::PtrArithProhibited {
                reg: d,
                type_str: ptr.type_str(),
            }
            .into());
        }
        check_sane_offset(&off, &ptr, false)?;
        check_sane_offset(&ptr, &ptr, true)?;
        let mut out = ptr;
        out.s.mark32_unbounded();
        match op {
            AluOp::Add => {
                let sum = ptr.off as i64 + smin_val;
                if known && sum == sum as i32 as i64 {
                    out.off = sum as i32;
                } else {
                    let (p, o) = (&ptr.s, &off.s);
                    let mut s = out.s;
                    match (p.smin.checked_add(o.smin), p.smax.checked_add(o.smax)) {
                        (Some(a), Some(b)) => (s.smin, s.smax) = (a, b),
                        _ => (s.smin, s.smax) = (i64::MIN, i64::MAX),
                    }
                    match (p.umin.checked_add(o.umin), p.umax.checked_add(o.umax)) {
                        (Some(a), Some(b)) => (s.umin, s.umax) = (a, b),
                        _ => (s.umin, s.umax) = (0, u64::MAX),
                    }
                    s.var_off = p.var_off.add(o.var_off);
                    out.s = s;
                    if ptr.kind.is_packet() {
                        out.id = self.new_id();
                        out.range = 0;
                    }
                }
            }
            AluOp::Sub => {
                if !ptr_is_dst {
                    return Err(Message::SubPtrFromScalar(d).into());
                }
                if ptr.kind == RegKind::Stack {
                    return Err(Message::SubFromStack(d).into());
                }
                let diff = ptr.off as i64 - smin_val;
                if known && diff == diff as i32 as i64 {
                    out.off = diff as i32;
                } else {
                    let (p, o) = (&ptr.s, &off.s);
                    let mut s = out.s;
                    match (p.smin.checked_sub(o.smax), p.smax.checked_sub(o.smin)) {
                        (Some(a), Some(b)) => (s.smin, s.smax) = (a, b),
                        _ => (s.smin, s.smax) = (i64::MIN, i64::MAX),
                    }
                    if p.umin < o.umax {
                        (s.umin, s.umax) = (0, u64::MAX);
                    } else {
                        (s.umin, s.umax) = (p.umin - o.umax, p.umax - o.umin);
                    }
                    s.var_off = p.var_off.sub(o.var_off);
                    out.s = s;
                    if ptr.kind.is_packet() {
                        out.id = self.new_id();
                        if smin_val < 0 {
                            out.range = 0;
                        }
                    }
                }
            }
            AluOp::And | AluOp::Or | AluOp::Xor => {
                return Err(Message::PtrBitwise {
                    reg: d,
                    op: op_str(op),
                }
                .into());
            }
            _ => {
                return Err(Message::PtrArithOp {
                    reg: d,
                    op: op_str(op),
                }
                .into());
            }
        }
        check_sane_offset(&out, &ptr, true)?;
        out.s.sync();
        *state.reg_mut(d as usize) = out;
        Ok(())
    }

    /// Byte swaps: numbers only; a pointer becomes an unknown number.
    pub(crate) fn check_endian(
        &mut self,
        state: &mut State,
        insn: &Insn,
        order: ByteOrder,
        bits: u8,
    ) -> R<()> {
        let d = insn.dst.index();
        self.check_reg_read(state, d)?;
        self.check_reg_write(d)?;
        let r = *state.reg(d as usize);
        let mut out = Scalar::UNKNOWN;
        if r.is_scalar() {
            let t = r.s.var_off;
            // Little-endian host: `le` truncates; `be` and `bswap` swap the low `bits`.
            let swapped = |v: u64| -> u64 {
                match bits {
                    16 => (v as u16).swap_bytes() as u64,
                    32 => (v as u32).swap_bytes() as u64,
                    _ => v.swap_bytes(),
                }
            };
            if order == ByteOrder::Le {
                out = r.s;
                out.coerce_to_size(bits as u32 / 8);
            } else if t.is_const() {
                out = Scalar::known(swapped(t.value));
            } else {
                let value = swapped(t.value);
                let mask = swapped(t.mask);
                out.var_off = crate::tnum::Tnum { value, mask };
                out.sync();
            }
        }
        *state.reg_mut(d as usize) = Reg::scalar(out);
        Ok(())
    }
}

/// `check_reg_sane_offset`; messages name `ptr`'s type (formatted only on failure: this runs on
/// every pointer arithmetic instruction).
fn check_sane_offset(reg: &Reg, ptr: &Reg, is_ptr: bool) -> R<()> {
    let type_str = || ptr.type_str();
    let known = reg.s.is_const();
    let val = reg.s.var_off.value as i64;
    if known && (val >= MAX_VAR_OFF || val <= -MAX_VAR_OFF) {
        return Err(Message::PtrMathConst {
            type_str: type_str(),
            val,
        }
        .into());
    }
    if is_ptr && (reg.off as i64 >= MAX_VAR_OFF || reg.off as i64 <= -MAX_VAR_OFF) {
        return Err(Message::PtrOffsetNotAllowed {
            type_str: type_str(),
            off: reg.off,
        }
        .into());
    }
    if reg.s.smin == i64::MIN {
        return Err(Message::PtrMathUnboundedMin(type_str()).into());
    }
    if reg.s.smin >= MAX_VAR_OFF || reg.s.smin <= -MAX_VAR_OFF {
        return Err(Message::PtrOutOfBounds {
            val: reg.s.smin,
            type_str: type_str(),
        }
        .into());
    }
    Ok(())
}
