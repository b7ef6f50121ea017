//! Conditional jumps: which way they can go, and what each way teaches about the operands
//! (`check_cond_jmp_op`, `reg_set_min_max`, `mark_ptr_or_null_regs`, `try_match_pkt_pointers`).

use bpfkit_isa::{Cond, Insn, Source, Width};

use super::{Checker, Next, R};
use crate::reg::{Reg, RegFlags, RegKind};
use crate::scalar::{self, Test};
use crate::state::State;

impl Checker<'_> {
    /// `if dst cond src goto +off`.
    pub(crate) fn check_cond_jump(
        &mut self,
        state: &mut State,
        pc: usize,
        insn: &Insn,
        cond: Cond,
        width: Width,
        src: Source,
    ) -> R<Next> {
        let (d, s) = (insn.dst.index(), insn.src.index());
        if src == Source::Reg {
            self.check_reg_read(state, s)?;
        }
        self.check_reg_read(state, d)?;
        let w32 = width == Width::W32;
        let dst = *state.reg(d as usize);
        let srcv = match src {
            Source::Reg => *state.reg(s as usize),
            Source::Imm => Reg::known(insn.imm as i64 as u64),
        };
        let target = (pc as i64 + 1 + insn.off as i64) as usize;
        let fall = pc + 1;
        let test = Test::Cond(cond);
        match branch_taken(&dst, &srcv, test, w32) {
            Some(true) => {
                self.record_step(true);
                return Ok(Next::Goto(target));
            }
            Some(false) => {
                self.record_step(false);
                return Ok(Next::Goto(fall));
            }
            None => {}
        }
        // Both ways: the taken branch waits on the stack, the fall-through goes on.
        let mut other = state.clone();
        if dst.is_scalar() && srcv.is_scalar() {
            let (mut td, mut ts) = (dst, srcv);
            scalar::refine(&mut td.s, &mut ts.s, test, w32);
            let (mut fd, mut fs) = (dst, srcv);
            scalar::refine(&mut fd.s, &mut fs.s, test.negate(), w32);
            let taken_ok = !td.s.is_empty() && !ts.s.is_empty();
            let fall_ok = !fd.s.is_empty() && !fs.s.is_empty();
            apply(&mut other, d, td, src, s, ts);
            apply(state, d, fd, src, s, fs);
            if !taken_ok {
                self.record_step(false);
                return Ok(Next::Goto(fall));
            }
            if !fall_ok {
                *state = other;
                self.record_step(true);
                return Ok(Next::Goto(target));
            }
        } else if !w32
            && src == Source::Imm
            && insn.imm == 0
            && matches!(cond, Cond::Eq | Cond::Ne)
            && dst.maybe_null()
        {
            // A null check: NULL on one side, a valid pointer on the other.
            let taken_is_null = cond == Cond::Eq;
            mark_ptr_or_null(&mut other, d, taken_is_null);
            mark_ptr_or_null(state, d, !taken_is_null);
        } else if !w32 && src == Source::Reg {
            match_pkt_pointers(cond, &dst, &srcv, state, &mut other);
        }
        self.push(other, target, true)?;
        self.record_step(false);
        Ok(Next::Goto(fall))
    }
}

/// `is_branch_taken`, with the pointer special cases.
fn branch_taken(a: &Reg, b: &Reg, test: Test, w32: bool) -> Option<bool> {
    if a.kind.is_packet() && b.kind == RegKind::PacketEnd
        || a.kind == RegKind::PacketEnd && b.kind.is_packet()
    {
        return None;
    }
    if a.is_pointer() || b.is_pointer() {
        let (p, c, test) = if b.is_scalar() {
            (a, b, test)
        } else {
            (b, a, test.flip())
        };
        if !c.is_scalar() || !c.s.is_const_at(w32) || c.s.const_value(w32) != 0 {
            return None;
        }
        if !not_null(p) {
            return None;
        }
        return match test {
            Test::Cond(Cond::Eq) => Some(false),
            Test::Cond(Cond::Ne) => Some(true),
            _ => None,
        };
    }
    scalar::branch_taken(&a.s, &b.s, test, w32)
}

/// `reg_not_null`.
fn not_null(r: &Reg) -> bool {
    if r.maybe_null() {
        return false;
    }
    matches!(
        r.kind,
        RegKind::Socket
            | RegKind::TcpSock
            | RegKind::MapValue
            | RegKind::MapKey
            | RegKind::SockCommon
            | RegKind::Mem
            | RegKind::MapPtr
    ) || (r.kind == RegKind::BtfId && r.flags.has(RegFlags::TRUSTED))
}

/// Writes the refined operands back, and narrows every scalar linked to them.
fn apply(state: &mut State, d: u8, dv: Reg, src: Source, s: u8, sv: Reg) {
    *state.reg_mut(d as usize) = dv;
    if src == Source::Reg {
        *state.reg_mut(s as usize) = sv;
    }
    for r in [dv].into_iter().chain((src == Source::Reg).then_some(sv)) {
        if r.id != 0 {
            let (id, value) = (r.id, r.s);
            state.for_each_reg(|x| {
                if x.kind == RegKind::Scalar && x.id == id {
                    x.s = value;
                }
            });
        }
    }
}

/// `mark_ptr_or_null_regs`: every copy of the checked pointer becomes 0 or non-null.
fn mark_ptr_or_null(state: &mut State, regno: u8, is_null: bool) {
    let reg = *state.reg(regno as usize);
    let (id, ref_obj_id) = (reg.id, reg.ref_obj_id);
    if is_null && ref_obj_id != 0 && ref_obj_id == id {
        // A NULL result holds no reference.
        state.refs.retain(|r| r.id != id);
    }
    if id == 0 {
        return;
    }
    state.for_each_reg(|r| {
        if r.maybe_null() && r.id == id {
            if is_null {
                *r = Reg::known(0);
            } else {
                r.flags = RegFlags(r.flags.0 & !RegFlags::MAYBE_NULL.0);
                if !(r.kind == RegKind::MapValue) {
                    r.id = 0;
                }
            }
        }
    });
}

/// `try_match_pkt_pointers`: `pkt + N` compared with `pkt_end` proves `N` bytes.
fn match_pkt_pointers(cond: Cond, dst: &Reg, src: &Reg, fall: &mut State, taken: &mut State) {
    let pkt_end = |p: &Reg, e: &Reg| {
        (p.kind == RegKind::Packet && e.kind == RegKind::PacketEnd)
            || (p.kind == RegKind::PacketMeta
                && e.kind == RegKind::Packet
                && e.off == 0
                && e.var_off_is_zero())
    };
    // (state where the pointer is good, the pointer, right-open range)
    let (good_in_taken, ptr, open) = match cond {
        // pkt' > end: good on fall-through (pkt' <= end).
        Cond::Gt if pkt_end(dst, src) => (false, dst, false),
        // end > pkt': good when taken (pkt' < end).
        Cond::Gt if pkt_end(src, dst) => (true, src, true),
        // pkt' < end: good when taken.
        Cond::Lt if pkt_end(dst, src) => (true, dst, true),
        // end < pkt': good on fall-through (pkt' <= end).
        Cond::Lt if pkt_end(src, dst) => (false, src, false),
        // pkt' >= end: good on fall-through (pkt' < end).
        Cond::Ge if pkt_end(dst, src) => (false, dst, true),
        // end >= pkt': good when taken (pkt' <= end).
        Cond::Ge if pkt_end(src, dst) => (true, src, false),
        // pkt' <= end: good when taken.
        Cond::Le if pkt_end(dst, src) => (true, dst, false),
        // end <= pkt': good on fall-through (pkt' < end).
        Cond::Le if pkt_end(src, dst) => (false, src, true),
        _ => return,
    };
    let target = if good_in_taken { taken } else { fall };
    find_good_pkt_pointers(target, ptr, open);
}

/// `find_good_pkt_pointers`: every pointer with the same id learns the range.
fn find_good_pkt_pointers(state: &mut State, ptr: &Reg, open: bool) {
    if ptr.off < 0 || (ptr.off == 0 && open) {
        return;
    }
    if ptr.s.umax > 0xffff || ptr.s.umax + ptr.off as u64 > 0xffff {
        return;
    }
    let mut new_range = ptr.off as u32;
    if open {
        new_range += 1;
    }
    let (kind, id) = (ptr.kind, ptr.id);
    state.for_each_reg(|r| {
        if r.kind == kind && r.id == id {
            r.range = r.range.max(new_range);
        }
    });
}
