//! Loop versioning: the accesses of a loop through its cursor checked once, before the loop.
//!
//! A group (see [`crate::group`]) saves checks in straight code, but the loops that matter
//! most touch memory once per pointer per round (`sieve`'s crossing-off loop, `strcmp`'s two
//! byte streams), so each access kept its own check. Many such loops walk a cursor up to a
//! bound: `p += step; if p < bound goto head`. Every round after the first starts with `p <
//! bound`, so the accesses through `p` reach no further than `bound - 1` plus their offsets,
//! and no lower than where `p` started. Checking that span once, on entering the loop, proves
//! them all.
//!
//! Such a loop is compiled twice. In the program's code it stays as it was, every access
//! checked; the check on entering it ([`Lir::CheckSpan`], [`Lir::CheckRange`]) falls through
//! to it when the span is not all in the guessed region, or when `p` starts at or past the
//! bound. Otherwise it jumps to a copy after the program in which the proven accesses have no
//! check ([`Check::Proven`](crate::lower::Check::Proven)), whose exits jump back into the program. Only that check leads
//! into the copy, and nothing in the copy jumps back to its head but the loop's own back edge,
//! so every round in it starts with what the check proved. A fault still happens exactly where
//! the interpreter's does: in the copy only accesses that cannot fault go unchecked.
//!
//! What a loop needs (all read from its slots, so the same for every backend):
//! - one back edge, its last slot: `if p < bound goto head` (or `if bound > p`), 64 bits, two
//!   registers; no other jump in it back to itself, no call and no instruction that leaves the
//!   program's flow but `exit`;
//! - the cursor `p` written once in it, by `p += step`, a positive immediate or a register the
//!   loop does not write (checked on entry to be below 2^63, so no round wraps around); `bound`
//!   not written; no jump in it over the increment;
//! - accesses through `p` (at least one). Before the increment they see the round's `p`;
//!   after it, `p + step` (proven only for an immediate step).
//!
//! Two other kinds of base are proven with it: a pointer `q` written once, by `q += step` with
//! the same step and no jump over it, which moves in step with `p` (so its span ends at `q +
//! (bound - p)` plus its offsets); and a register the loop does not write (its span is its
//! offsets). Loads and stores only: atomics and accesses through `r10` keep their own checks,
//! as do accesses through any other register.

use bpfkit_isa::{Cond, Opcode};
use bpfkit_vm::Op;

use crate::group::Class;
use crate::lower::{FP, Lir, Operand, Range, Span};

/// At most this many slots in a loop: its code is emitted twice.
const MAX_BODY: usize = 128;

/// How a base register changes in a loop.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Motion {
    /// The loop does not write it.
    Fixed,
    /// Moved by the cursor's step once per round, at slot `at` (the cursor itself, or a
    /// pointer moving with it).
    Steps {
        /// The slot of its `+= step`.
        at: usize,
    },
}

/// The accesses of a loop through one base register that the loop's check proves.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Base {
    /// How the register changes.
    pub motion: Motion,
    /// The lowest displacement accessed, relative to the register's value when a round starts.
    pub lo: i64,
    /// One past the highest byte's displacement, likewise.
    pub hi: i64,
    /// Whether a store is among the accesses.
    pub write: bool,
}

/// A loop to version (see the module's documentation).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Loop {
    /// The first slot, the back edge's target.
    pub head: usize,
    /// The last slot, the back edge.
    pub back: usize,
    /// The register compared with `bound` at the back edge.
    pub cursor: u8,
    /// The register the cursor is compared with.
    pub bound: u8,
    /// What the cursor moves by each round.
    pub step: Operand,
    /// By register, the accesses through it that the check proves.
    pub bases: [Option<Base>; 11],
}

impl Loop {
    /// How many more operations than slots a backend is given for this loop: the copy, the
    /// jump at its end, and the check on entry (a jump for the cursor, one for the step, one
    /// check per base and the jump into the copy).
    pub fn extra_emits(&self) -> usize {
        let bases = self.bases.iter().flatten().count();
        (self.back - self.head + 1) + 1 + 3 + bases
    }

    /// If the loop's check proves the access `op` at slot `pc` (of class `class`): its base
    /// register, its displacement from the base's value when the round started, its size in
    /// bytes, and whether it is a store.
    pub fn proves(&self, pc: usize, op: &Op, class: Class) -> Option<(u8, i64, u8, bool)> {
        let (base, bytes, write) = match class {
            Class::Load(bytes) => (op.src, bytes, false),
            Class::Store(bytes) => (op.dst, bytes, true),
            _ => return None,
        };
        let b = self.bases.get(base as usize).copied().flatten()?;
        let off = i64::from(op.off);
        let off = match b.motion {
            Motion::Fixed => off,
            Motion::Steps { at } if pc < at => off,
            Motion::Steps { .. } => match self.step {
                Operand::Imm(step) => off + step,
                Operand::Reg(_) => return None,
            },
        };
        Some((base, off, bytes, write))
    }

    /// The checks on entering the loop, before its head, given the region guessed for each
    /// base there (`None`: that base's accesses are not proven): each jumps to `slow` (the
    /// loop with every access checked) when it fails; after them the driver jumps to the copy.
    pub fn checks<L: Copy>(&self, regions: &[Option<u32>; 11], slow: L) -> Vec<Lir<L>> {
        let (p, bound) = (self.cursor, self.bound);
        let mut checks = vec![Lir::Jump {
            cond: Some((Cond::Ge, true, p, Operand::Reg(bound))),
            target: slow,
        }];
        if let Operand::Reg(step) = self.step {
            checks.push(Lir::Jump {
                cond: Some((Cond::SLt, true, step, Operand::Imm(0))),
                target: slow,
            });
        }
        for (r, base) in self.bases.iter().enumerate() {
            let (Some(base), Some(region)) = (base, regions[r]) else {
                continue;
            };
            let check = match base.motion {
                Motion::Fixed => Lir::CheckRange {
                    range: Range {
                        base: r as u8,
                        off: base.lo as i32,
                        len: (base.hi - base.lo) as u32,
                        region,
                        write: base.write,
                    },
                    fallback: slow,
                },
                Motion::Steps { .. } => Lir::CheckSpan {
                    span: Span {
                        base: r as u8,
                        cursor: p,
                        bound,
                        first: base.lo as i32,
                        last: (base.hi - 1) as i32,
                        align: self.align(),
                        region,
                        write: base.write,
                    },
                    fallback: slow,
                },
            };
            checks.push(check);
        }
        checks
    }

    /// The region of the base most worth keeping ready across the copy's rounds (a backend
    /// may hold one region's delta in a register, see [`crate::backend::Backend::bind_ready`]):
    /// the cursor's, else the first proven base's.
    pub fn kept_region(regions: &[Option<u32>; 11], cursor: u8) -> Option<u32> {
        regions[cursor as usize].or_else(|| regions.iter().flatten().next().copied())
    }

    /// What the cursor's moves are all multiples of (see [`Span::align`]).
    fn align(&self) -> u32 {
        match self.step {
            Operand::Imm(step) if (step as u64).is_power_of_two() && step <= 1 << 30 => step as u32,
            _ => 1,
        }
    }

    /// The regions to check each base against, from the region guessed for each register on
    /// entering the loop (see [`Loop::checks`]); `None` when no base would be proven.
    pub fn regions(&self, guessed: impl Fn(u8) -> Option<u32>) -> Option<[Option<u32>; 11]> {
        let cursor = guessed(self.cursor);
        let regions: [Option<u32>; 11] = std::array::from_fn(|r| {
            let base = self.bases[r]?;
            if matches!(base.motion, Motion::Steps { .. }) && cursor.is_none() {
                return None;
            }
            guessed(r as u8)
        });
        regions.iter().any(Option::is_some).then_some(regions)
    }
}

/// The register a slot writes, by its class (as [`crate::group::Planner`] reads it).
fn written(op: &Op, class: Class) -> Option<u8> {
    match class {
        Class::Load(_) | Class::LoadImm64 | Class::WritesDst => Some(op.dst),
        Class::WritesSrc => Some(op.src),
        Class::WritesR0 => Some(0),
        _ => None,
    }
}

/// The loop from slot `head` to the back edge at slot `back` (which jumps to `head`), if it can
/// be versioned (see the module's documentation). `classes` is [`Class::table`].
pub fn plan(ops: &[Op], classes: &[Class], head: usize, back: usize) -> Option<Loop> {
    if back - head >= MAX_BODY || back + 1 >= ops.len() {
        return None;
    }
    let edge = &ops[back];
    let (cursor, bound) = match edge.opcode {
        Opcode::JltReg => (edge.dst, edge.src),
        Opcode::JgtReg => (edge.src, edge.dst),
        _ => return None,
    };
    if cursor == bound || cursor == FP || bound == FP {
        return None;
    }
    // By register: how often the loop writes it, and the slot and operand of its last write
    // when that is a 64-bit add.
    let mut writes = [0u8; 11];
    let mut adds: [Option<(usize, Operand)>; 11] = [None; 11];
    // Slots jumped over by a forward jump inside the loop: (from, to), exclusive.
    let mut skips: Vec<(usize, usize)> = Vec::new();
    let mut filler = false;
    for (pc, op) in ops.iter().enumerate().take(back + 1).skip(head) {
        if std::mem::take(&mut filler) {
            continue;
        }
        let class = classes[op.opcode as usize];
        match class {
            Class::LoadImm64 => filler = true,
            Class::Jump | Class::Ja => {
                let target = op.off as usize;
                if pc != back && (head..=pc).contains(&target) {
                    return None;
                }
                if pc < target && target <= back {
                    skips.push((pc, target));
                }
            }
            Class::CallLocal => return None,
            Class::EndsFlow if op.opcode != Opcode::Exit => return None,
            _ => {}
        }
        if let Some(r) = written(op, class) {
            let r = r as usize;
            writes[r] = writes[r].saturating_add(1);
            adds[r] = match op.opcode {
                Opcode::Add64Imm => Some((pc, Operand::Imm(op.imm))),
                Opcode::Add64Reg => Some((pc, Operand::Reg(op.src))),
                _ => None,
            };
        }
    }
    let skipped = |at: usize| skips.iter().any(|&(from, to)| from < at && at < to);
    let stepped = |r: usize| match adds[r] {
        Some((at, step)) if writes[r] == 1 && !skipped(at) => Some((at, step)),
        _ => None,
    };
    let (_, step) = stepped(cursor as usize)?;
    let step_ok = match step {
        Operand::Imm(s) => s > 0,
        Operand::Reg(r) => r != FP && r != cursor && writes[r as usize] == 0,
    };
    if !step_ok || writes[bound as usize] != 0 {
        return None;
    }
    let mut bases: [Option<Base>; 11] = std::array::from_fn(|r| {
        let motion = match stepped(r) {
            _ if r == FP as usize => return None,
            Some((at, s)) if s == step => Motion::Steps { at },
            _ if writes[r] == 0 => Motion::Fixed,
            _ => return None,
        };
        Some(Base {
            motion,
            lo: i64::MAX,
            hi: i64::MIN,
            write: false,
        })
    });
    let mut planned = Loop {
        head,
        back,
        cursor,
        bound,
        step,
        bases,
    };
    let mut filler = false;
    for (pc, op) in ops.iter().enumerate().take(back + 1).skip(head) {
        if std::mem::take(&mut filler) {
            continue;
        }
        let class = classes[op.opcode as usize];
        filler = class == Class::LoadImm64;
        if let Some((base, off, bytes, write)) = planned.proves(pc, op, class)
            && let Some(b) = &mut bases[base as usize]
        {
            b.lo = b.lo.min(off);
            b.hi = b.hi.max(off + i64::from(bytes));
            b.write |= write;
        }
    }
    // A base with no access is not checked; one whose span does not fit the checks'
    // displacements (32 bits) is left checked access by access.
    for b in &mut bases {
        if b.is_some_and(|b| {
            b.lo > b.hi || b.lo < i64::from(i32::MIN) || b.hi > i64::from(i32::MAX)
        }) {
            *b = None;
        }
    }
    bases[cursor as usize]?;
    planned.bases = bases;
    Some(planned)
}

#[cfg(test)]
mod tests {
    use super::*;
    use bpfkit_asm::assemble;
    use bpfkit_isa::Dialect;
    use bpfkit_vm::Program;

    /// The loop closed by the back edge at slot `back` of `source`, if it can be versioned.
    fn planned(source: &str, back: usize) -> Option<Loop> {
        let insns = assemble(source, Dialect::Llvm).unwrap();
        let program = Program::new(&insns).unwrap();
        let ops = program.ops();
        plan(ops, Class::table(), ops[back].off as usize, back)
    }

    /// The loop closed by the last back edge of `source`.
    fn last_loop(source: &str) -> Option<Loop> {
        let insns = assemble(source, Dialect::Llvm).unwrap();
        let program = Program::new(&insns).unwrap();
        let ops = program.ops();
        let classes = Class::table();
        let back = (0..ops.len())
            .rev()
            .find(|&pc| classes[ops[pc].opcode as usize].branches() && ops[pc].off as usize <= pc)
            .expect("a back edge");
        plan(ops, classes, ops[back].off as usize, back)
    }

    fn base(l: &Loop, r: usize) -> Option<(Motion, i64, i64, bool)> {
        l.bases[r].map(|b| (b.motion, b.lo, b.hi, b.write))
    }

    /// `memcpy`'s loop: both cursors move by 32 after all eight accesses.
    #[test]
    fn a_copy_loop_proves_both_pointers() {
        let mut source = String::from("loop:\n");
        for off in [0, 8, 16, 24] {
            source += &format!("r6 = *(u64 *)(r3 + {off})\n*(u64 *)(r4 + {off}) = r6\n");
        }
        source += "r3 += 32\nr4 += 32\nif r3 < r7 goto loop\nexit";
        let l = planned(&source, 10).expect("versioned");
        assert_eq!(
            (l.head, l.cursor, l.bound, l.step),
            (0, 3, 7, Operand::Imm(32))
        );
        assert_eq!(base(&l, 3), Some((Motion::Steps { at: 8 }, 0, 32, false)));
        assert_eq!(base(&l, 4), Some((Motion::Steps { at: 9 }, 0, 32, true)));
        assert_eq!(l.align(), 32);
        // r6 is written, r7 (the bound) is never a base here.
        assert_eq!((base(&l, 6), base(&l, 7)), (None, None));
    }

    /// An access after the move sees the moved pointer: its offset grows by an immediate step,
    /// and is not proven with a register step.
    #[test]
    fn accesses_after_the_move_count_the_step() {
        let l = planned(
            "r0 = 0\nloop:\nr2 = *(u8 *)(r1 + 0)\nr1 += 4\n*(u16 *)(r1 - 1) = r2\n\
             if r5 > r1 goto loop\nexit",
            4,
        )
        .expect("versioned");
        assert_eq!(l.cursor, 1);
        assert_eq!(base(&l, 1), Some((Motion::Steps { at: 2 }, 0, 5, true)));
        let l = planned(
            "r0 = 0\nloop:\nr2 = *(u8 *)(r1 + 0)\nr1 += r6\n*(u16 *)(r1 - 1) = r2\n\
             if r1 < r5 goto loop\nexit",
            4,
        )
        .expect("versioned");
        assert_eq!(l.step, Operand::Reg(6));
        assert_eq!(base(&l, 1), Some((Motion::Steps { at: 2 }, 0, 1, false)));
        assert_eq!(l.align(), 1);
    }

    /// A register the loop does not write is a base with a fixed span; one that moves some
    /// other way is not a base at all.
    #[test]
    fn fixed_and_other_bases() {
        let l = planned(
            "loop:\nr2 = *(u8 *)(r1 + 0)\n*(u32 *)(r8 + 4) = r2\nr9 += 2\n\
             r2 = *(u8 *)(r9 + 0)\nr1 += 1\nif r1 < r5 goto loop\nexit",
            5,
        )
        .expect("versioned");
        assert_eq!(base(&l, 8), Some((Motion::Fixed, 4, 8, true)));
        assert_eq!(base(&l, 9), None, "r9 moves by 2, not by the cursor's 1");
    }

    #[test]
    fn unfit_loops_are_left_alone() {
        for source in [
            // The cursor written twice.
            "loop:\nr2 = *(u8 *)(r1 + 0)\nr1 += 1\nr1 += 1\nif r1 < r5 goto loop\nexit",
            // The bound written.
            "loop:\nr2 = *(u8 *)(r1 + 0)\nr1 += 1\nr5 += 1\nif r1 < r5 goto loop\nexit",
            // A jump over the move.
            "loop:\nr2 = *(u8 *)(r1 + 0)\nif r2 == 0 goto skip\nr1 += 1\nskip:\nif r1 < r5 goto loop\nexit",
            // A jump back into the loop that skips the compare with the bound.
            "loop:\nr2 = *(u8 *)(r1 + 0)\nr1 += 1\nif r2 == 0 goto loop\nif r1 < r5 goto loop\nexit",
            // A call.
            "loop:\nr2 = *(u8 *)(r1 + 0)\nr1 += 1\ncall 5\nif r1 < r5 goto loop\nexit",
            // A step that may be negative, or none.
            "loop:\nr2 = *(u8 *)(r1 + 0)\nr1 += -1\nif r1 < r5 goto loop\nexit",
            "loop:\nr2 = *(u8 *)(r1 + 0)\nr1 -= 1\nif r1 < r5 goto loop\nexit",
            // A signed or 32-bit compare, or an immediate bound.
            "loop:\nr2 = *(u8 *)(r1 + 0)\nr1 += 1\nif r1 s< r5 goto loop\nexit",
            "loop:\nr2 = *(u8 *)(r1 + 0)\nr1 += 1\nif w1 < w5 goto loop\nexit",
            "loop:\nr2 = *(u8 *)(r1 + 0)\nr1 += 1\nif r1 < 100 goto loop\nexit",
            // No access through the cursor (only after a register step).
            "loop:\nr2 = *(u8 *)(r3 + 0)\nr1 += 1\nif r1 < r5 goto loop\nexit",
            "loop:\nr1 += r4\nr2 = *(u8 *)(r1 + 0)\nif r1 < r5 goto loop\nexit",
        ] {
            assert_eq!(last_loop(source), None, "{source}");
        }
        // And the same loop without what made it unfit is versioned.
        let fit = "loop:\nr2 = *(u8 *)(r1 + 0)\nr1 += 1\nif r1 < r5 goto loop\nexit";
        assert!(last_loop(fit).is_some());
    }
}
