//! Which register holds the context at each memory access: a small forward data-flow analysis
//! over the program's instructions.
//!
//! The kernel knows which accesses go through the context because its verifier tracks every
//! register's type; the runtime runs programs nobody verified, so it tracks just enough of the
//! same thing. Each register and each 8-byte stack slot holds one of a few abstract values (the
//! context plus a constant, the context plus something unknown, a frame pointer plus a
//! constant, anything else); they flow through moves, constant additions, spills and fills,
//! and into subprograms as arguments; at a join, differing values become "mixed". An access
//! whose base is the unmodified context on every path is a context access; one whose base is a
//! modified context, or the context on some paths only, is refused with the message the kernel's
//! verifier gives such a program.
//!
//! The analysis is exact for what the kernel's verifier accepts (there the context can only be
//! copied, spilled and passed, never laundered through memory or arithmetic). For anything
//! else it is conservative in the only way that matters for safety: an access it does not see
//! as a context access is left as it is and still bounds-checked against the context region.

use std::collections::VecDeque;

use bpfkit_isa::{AluOp, AtomicOp, CallTarget, Insn, Kind, Pseudo, Size, Source, Width};

/// The abstract value of a register or stack slot.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Val {
    /// Not written on any path seen so far.
    Uninit,
    /// A scalar or a pointer to something other than the context or this frame's stack.
    Other,
    /// The context plus a constant.
    Ctx(i64),
    /// The context plus an unknown amount.
    CtxVar,
    /// This frame's frame pointer plus a constant.
    Fp(i64),
    /// This frame's frame pointer plus an unknown amount.
    FpVar,
    /// The context on some paths and something else on others.
    Mixed,
}

impl Val {
    fn is_ctx(self) -> bool {
        matches!(self, Val::Ctx(_) | Val::CtxVar)
    }

    fn join(self, other: Val) -> Val {
        use Val::*;
        match (self, other) {
            (a, b) if a == b => a,
            (Uninit, x) | (x, Uninit) => x,
            (Mixed, _) | (_, Mixed) => Mixed,
            (a, b) if a.is_ctx() && b.is_ctx() => CtxVar,
            (a, b) if a.is_ctx() || b.is_ctx() => Mixed,
            (Fp(_) | FpVar, Fp(_) | FpVar) => FpVar,
            _ => Other,
        }
    }
}

const SLOTS: usize = 64;

/// Registers r0-r10 and this frame's 64 stack slots (slot `i` is `r10 - 8 * (i + 1)`).
#[derive(Clone, Debug, PartialEq, Eq)]
struct State {
    regs: [Val; 11],
    stack: [Val; SLOTS],
}

impl State {
    fn entry(args: [Val; 5]) -> State {
        let mut regs = [Val::Uninit; 11];
        regs[1..6].copy_from_slice(&args);
        regs[10] = Val::Fp(0);
        State {
            regs,
            stack: [Val::Uninit; SLOTS],
        }
    }

    /// Joins `other` in; whether anything changed.
    fn join(&mut self, other: &State) -> bool {
        let mut changed = false;
        for (a, b) in self
            .regs
            .iter_mut()
            .chain(self.stack.iter_mut())
            .zip(other.regs.iter().chain(other.stack.iter()))
        {
            let j = a.join(*b);
            changed |= j != *a;
            *a = j;
        }
        changed
    }

    /// After a call: `r0` is a result, `r1`-`r5` are clobbered.
    fn clobber_call(&mut self) {
        self.regs[0] = Val::Other;
        for r in &mut self.regs[1..6] {
            *r = Val::Uninit;
        }
    }
}

/// The stack slot of the 8 bytes at frame offset `at`, if aligned and inside the frame.
fn slot_of(at: i64) -> Option<usize> {
    (at < 0 && at >= -(8 * SLOTS as i64) && at % 8 == 0).then(|| ((-at) / 8 - 1) as usize)
}

/// The slots an access of `size` bytes at frame offset `at` touches.
fn slots_touched(at: i64, size: usize) -> impl Iterator<Item = usize> {
    let first = at.div_euclid(8);
    let last = (at + size as i64 - 1).div_euclid(8);
    (first..=last).filter_map(|b| slot_of(b * 8))
}

/// How the analysis saw one load, store or atomic.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Base {
    /// The unmodified context on every path.
    Ctx,
    /// The context plus a constant.
    ModifiedCtx(i64),
    /// The context plus an unknown amount.
    VariableCtx,
    /// The context on some paths only.
    Mixed,
}

/// For each instruction (by position in `insns`) that accesses memory through something
/// context-derived: the register and how.
pub(crate) fn ctx_bases(insns: &[(usize, Insn)]) -> Vec<Option<(u8, Base)>> {
    let index_of = |slot: usize| insns.binary_search_by_key(&slot, |(s, _)| *s).ok();
    let mut states: Vec<Option<State>> = vec![None; insns.len()];
    let mut work = VecDeque::new();
    let enter = |states: &mut Vec<Option<State>>,
                 work: &mut VecDeque<usize>,
                 at: Option<usize>,
                 s: &State| {
        let Some(at) = at else { return };
        let changed = match &mut states[at] {
            Some(old) => old.join(s),
            slot @ None => {
                *slot = Some(s.clone());
                true
            }
        };
        if changed {
            work.push_back(at);
        }
    };
    if !insns.is_empty() {
        let main = State::entry([
            Val::Ctx(0),
            Val::Uninit,
            Val::Uninit,
            Val::Uninit,
            Val::Uninit,
        ]);
        enter(&mut states, &mut work, Some(0), &main);
    }
    while let Some(i) = work.pop_front() {
        let (slot, insn) = insns[i];
        let mut s = states[i].clone().expect("queued states exist");
        let next = index_of(slot + insn.slots());
        let target = |distance: i64| index_of((slot as i64 + 1 + distance) as usize);
        match insn.kind() {
            Kind::Exit => continue,
            Kind::Ja => {
                enter(&mut states, &mut work, target(insn.off as i64), &s);
                continue;
            }
            Kind::Ja32 => {
                enter(&mut states, &mut work, target(insn.imm as i64), &s);
                continue;
            }
            Kind::Jump { .. } => {
                enter(&mut states, &mut work, target(insn.off as i64), &s);
            }
            Kind::Call {
                target: CallTarget::Local,
            } => {
                let mut args = [Val::Uninit; 5];
                args.copy_from_slice(&s.regs[1..6]);
                // A caller's stack pointer is not the callee's frame pointer.
                let args = args.map(|a| {
                    if matches!(a, Val::Fp(_) | Val::FpVar) {
                        Val::Other
                    } else {
                        a
                    }
                });
                enter(
                    &mut states,
                    &mut work,
                    target(insn.imm as i64),
                    &State::entry(args),
                );
                s.clobber_call();
            }
            Kind::Call { .. } | Kind::CallX => s.clobber_call(),
            Kind::LoadImm64 { pseudo } => {
                if pseudo == Pseudo::Func {
                    // A callback (bpf_loop, bpf_for_each_map_elem, timers): its arguments come
                    // from the helper, never the context.
                    let callback = State::entry([Val::Other; 5]);
                    enter(&mut states, &mut work, target(insn.imm as i64), &callback);
                }
                s.regs[insn.dst.index() as usize] = Val::Other;
            }
            Kind::LoadPacket { .. } => {
                s.clobber_call();
            }
            Kind::Alu { op, width, src } => alu(&mut s, &insn, op, width, src),
            Kind::Endian { .. } => s.regs[insn.dst.index() as usize] = Val::Other,
            Kind::Load { size, .. } => {
                let base = s.regs[insn.src.index() as usize];
                let value = match base {
                    Val::Fp(k) if size == Size::DW => {
                        slot_of(k + insn.off as i64).map_or(Val::Other, |i| s.stack[i])
                    }
                    _ => Val::Other,
                };
                s.regs[insn.dst.index() as usize] = match value {
                    Val::Uninit => Val::Other,
                    v => v,
                };
            }
            Kind::Store { size, src } => {
                let value = match src {
                    Source::Reg => s.regs[insn.src.index() as usize],
                    Source::Imm => Val::Other,
                };
                let base = s.regs[insn.dst.index() as usize];
                store(&mut s, base, insn.off as i64, size, value);
            }
            Kind::Atomic { op, size } => {
                let base = s.regs[insn.dst.index() as usize];
                store(&mut s, base, insn.off as i64, size, Val::Other);
                if op == AtomicOp::CmpXchg {
                    s.regs[0] = Val::Other;
                } else if op.fetches() {
                    s.regs[insn.src.index() as usize] = Val::Other;
                }
            }
        }
        enter(&mut states, &mut work, next, &s);
    }

    insns
        .iter()
        .zip(&states)
        .map(|((_, insn), state)| {
            let state = state.as_ref()?;
            let reg = match insn.kind() {
                Kind::Load { .. } => insn.src,
                Kind::Store { .. } | Kind::Atomic { .. } => insn.dst,
                _ => return None,
            };
            let base = match state.regs[reg.index() as usize] {
                Val::Ctx(0) => Base::Ctx,
                Val::Ctx(k) => Base::ModifiedCtx(k),
                Val::CtxVar => Base::VariableCtx,
                Val::Mixed => Base::Mixed,
                _ => return None,
            };
            Some((reg.index(), base))
        })
        .collect()
}

fn alu(s: &mut State, insn: &Insn, op: AluOp, width: Width, src: Source) {
    let d = insn.dst.index() as usize;
    let dst = s.regs[d];
    let operand = match src {
        Source::Reg => s.regs[insn.src.index() as usize],
        Source::Imm => Val::Other,
    };
    let scalar = |v: Val| matches!(v, Val::Other | Val::Uninit);
    s.regs[d] = match (width, op, src) {
        (Width::W32, _, _) => Val::Other,
        (_, AluOp::Mov, Source::Reg) => operand,
        (_, AluOp::Add | AluOp::Sub, Source::Imm) => {
            let k = if op == AluOp::Add {
                insn.imm as i64
            } else {
                -(insn.imm as i64)
            };
            match dst {
                Val::Ctx(c) => Val::Ctx(c + k),
                Val::Fp(f) => Val::Fp(f + k),
                Val::CtxVar | Val::FpVar | Val::Mixed => dst,
                _ => Val::Other,
            }
        }
        (_, AluOp::Add, Source::Reg) => match (dst, operand) {
            (p, o) | (o, p) if p.is_ctx() && scalar(o) => Val::CtxVar,
            (Val::Fp(_) | Val::FpVar, o) | (o, Val::Fp(_) | Val::FpVar) if scalar(o) => Val::FpVar,
            (Val::Mixed, _) | (_, Val::Mixed) => Val::Mixed,
            _ => Val::Other,
        },
        (_, AluOp::Sub, Source::Reg) => match (dst, operand) {
            (p, o) if p.is_ctx() && scalar(o) => Val::CtxVar,
            (Val::Fp(_) | Val::FpVar, o) if scalar(o) => Val::FpVar,
            (Val::Mixed, o) if scalar(o) => Val::Mixed,
            _ => Val::Other,
        },
        _ => Val::Other,
    };
}

/// A store of `value` (`size` bytes) at `base + off`: spills to this frame's stack are tracked.
fn store(s: &mut State, base: Val, off: i64, size: Size, value: Val) {
    match base {
        Val::Fp(k) => {
            let at = k + off;
            match slot_of(at) {
                Some(i) if size == Size::DW => s.stack[i] = value,
                _ => {
                    for i in slots_touched(at, size.bytes()) {
                        s.stack[i] = Val::Other;
                    }
                }
            }
        }
        // A store at an unknown stack offset destroys every spilled pointer it could hit.
        Val::FpVar => {
            for v in &mut s.stack {
                if *v != Val::Uninit && *v != Val::Other {
                    *v = if v.is_ctx() { Val::Mixed } else { Val::Other };
                }
            }
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use bpfkit_asm::assemble;
    use bpfkit_isa::Dialect;

    fn bases(src: &str) -> Vec<Option<(u8, Base)>> {
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
        ctx_bases(&with_slots)
    }

    #[test]
    fn copies_spills_and_arguments_carry_the_context() {
        let b = bases(
            "r6 = r1
             *(u64 *)(r10 - 16) = r6
             r2 = *(u32 *)(r6 + 0)
             r7 = *(u64 *)(r10 - 16)
             r3 = *(u32 *)(r7 + 4)
             r1 = r7
             call sub
             r0 = 0
             exit
             sub:
             r0 = *(u32 *)(r1 + 8)
             exit",
        );
        assert_eq!(b[2], Some((6, Base::Ctx)));
        assert_eq!(b[4], Some((7, Base::Ctx)));
        assert_eq!(b[1], None, "a store to the stack is not a ctx access");
        assert_eq!(b[9], Some((1, Base::Ctx)));
    }

    #[test]
    fn modified_and_mixed_context_pointers_are_told_apart() {
        let b = bases(
            "r2 = r1
             r2 += 4
             r0 = *(u32 *)(r2 + 0)
             if r0 == 0 goto skip
             r1 = r10
             r1 += -8
             skip:
             r0 = *(u32 *)(r1 + 0)
             r3 = *(u64 *)(r10 - 8)
             r4 = r3
             r4 += r0
             exit",
        );
        assert_eq!(b[2], Some((2, Base::ModifiedCtx(4))));
        assert_eq!(b[6], Some((1, Base::Mixed)));
        assert_eq!(b[7], None);
    }

    #[test]
    fn calls_clobber_argument_registers() {
        let b = bases(
            "r6 = r1
             call 5
             r0 = *(u32 *)(r1 + 0)
             r0 = *(u32 *)(r6 + 0)
             exit",
        );
        assert_eq!(b[2], None);
        assert_eq!(b[3], Some((6, Base::Ctx)));
    }
}
