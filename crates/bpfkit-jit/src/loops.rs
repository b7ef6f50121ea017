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
//! - accesses through `p` or through an address formed from it (below). Those through `p`
//!   before the increment see the round's `p`; after it, `p + step` (proven only for an
//!   immediate step).
//!
//! Two other kinds of base are proven with it: a pointer `q` written once, by `q += step` with
//! the same step and no jump over it, which moves in step with `p` (so its span ends at `q +
//! (bound - p)` plus its offsets), only when `p`'s own span is proven too (which bounds `bound -
//! p` by the region's size: otherwise `q + (bound - p)` could wrap around into the region while
//! `q` walks out of it); and a register the loop does not write (its span is its offsets).
//! Loads and stores only: atomics and accesses through `r10` keep their own checks, as do
//! accesses through any other register.
//!
//! The cursor may also be an index rather than a pointer, as in code the kernel's verifier
//! accepts (`r8 = r1; r8 += i; r2 = *(u8 *)(r8 + 0)`, `i < len` at the back edge). An address
//! the loop forms afresh in each round as the sum of registers it does not write, the cursor
//! and a constant (an [`Indexed`] form, found by following `mov`s and 64-bit `add`s through
//! the round) reaches from that sum with the first round's cursor to the sum with the last
//! round's, plus its offsets: one [`Lir::CheckSpan`] with the other registers in
//! [`Span::plus`]. The check on entry also takes `bound` below 2^63 (for every loop, though a
//! pointer cursor's proven span bounds it already): then the cursor never wraps around, the
//! distance it covers is below 2^63, and a span whose two ends lie in one region is one run of
//! addresses inside it.

use bpfkit_isa::{Cond, Opcode};
use bpfkit_vm::Op;

use crate::group::Class;
use crate::lower::{FP, Lir, Operand, Range, Span};

/// At most this many slots in a loop: its code is emitted twice.
const MAX_BODY: usize = 128;

/// At most this many [`Indexed`] forms are proven in a loop.
const MAX_INDEXED: usize = 4;

/// How many things a loop's check can prove accesses through: the eleven registers, then its
/// [`Indexed`] forms. [`Loop::proves`] names one by its index here.
pub const KEYS: usize = 11 + MAX_INDEXED;

/// By key (see [`KEYS`]), the region a loop's check proves its accesses in.
pub type Regions = [Option<u32>; KEYS];

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

/// The accesses of a loop through addresses it forms each round from registers it does not
/// write and its cursor, an index (see the module's documentation), that the check proves.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Indexed {
    /// The registers added to the cursor, in the order the loop adds them. Only their sum
    /// matters: it is checked against the region guessed for the first that has one (the
    /// pointer in `q = base; q += i`; the others are offsets), whichever the check's
    /// [`Span::base`] is.
    pub regs: [u8; 2],
    /// How many of `regs` there are (1 or 2).
    pub count: u8,
    /// The lowest displacement accessed, from the sum with the round's cursor.
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
    /// The addresses formed from the cursor as an index whose accesses the check proves.
    pub indexed: [Option<Indexed>; MAX_INDEXED],
    /// By slot from `head`, the key (see [`KEYS`]) of its access's [`Indexed`] form, if it is
    /// through one; 0 otherwise.
    keyed: [u8; MAX_BODY],
}

impl Loop {
    /// How many more operations than slots a backend is given for this loop: the copy, the
    /// jump at its end, and the check on entry (a jump for the cursor, one for the step, one
    /// for the bound, one check per base and form, and the jump into the copy).
    pub fn extra_emits(&self) -> usize {
        let bases = self.bases.iter().flatten().count();
        let indexed = self.indexed.iter().flatten().count();
        (self.back - self.head + 1) + 1 + 4 + bases + indexed
    }

    /// If the loop's check proves the access `op` at slot `pc` (of class `class`), what it
    /// goes through: its key (see [`KEYS`]), of its base register or its [`Indexed`] form.
    pub fn proves(&self, pc: usize, op: &Op, class: Class) -> Option<u8> {
        match self.keyed.get(pc.wrapping_sub(self.head)) {
            Some(&key) if key != 0 => Some(key),
            _ => self.base_access(pc, op, class).map(|(base, ..)| base),
        }
    }

    /// If the access `op` at slot `pc` (of class `class`) goes through one of the loop's
    /// bases: the register, its displacement from the base's value when the round started,
    /// its size in bytes, and whether it is a store.
    fn base_access(&self, pc: usize, op: &Op, class: Class) -> Option<(u8, i64, u8, bool)> {
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
    pub fn checks<L: Copy>(&self, regions: &Regions, slow: L) -> Vec<Lir<L>> {
        let (p, bound) = (self.cursor, self.bound);
        let mut checks = vec![Lir::Jump {
            cond: Some((Cond::Ge, true, p, Operand::Reg(bound))),
            target: slow,
        }];
        let below_2_63 = |r: u8| Lir::Jump {
            cond: Some((Cond::SLt, true, r, Operand::Imm(0))),
            target: slow,
        };
        if let Operand::Reg(step) = self.step {
            checks.push(below_2_63(step));
        }
        checks.push(below_2_63(bound));
        // The span of accesses from `lo` to `hi` (exclusive) past `base` plus `plus` in the
        // cursor's first round, to the same past its last.
        let span = |base, plus, (lo, hi): (i64, i64), write, region| Lir::CheckSpan {
            span: Span {
                base,
                plus,
                cursor: p,
                bound,
                first: lo as i32,
                last: (hi - 1) as i32,
                align: self.align(),
                region,
                write,
            },
            fallback: slow,
        };
        for (k, form) in self.indexed.iter().enumerate() {
            let (Some(form), Some(region)) = (form, regions[11 + k]) else {
                continue;
            };
            let other = (form.count == 2).then_some(form.regs[1]);
            let plus = [other, Some(p)];
            checks.push(span(
                form.regs[0],
                plus,
                (form.lo, form.hi),
                form.write,
                region,
            ));
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
                Motion::Steps { .. } => {
                    span(r as u8, [None; 2], (base.lo, base.hi), base.write, region)
                }
            };
            checks.push(check);
        }
        checks
    }

    /// The region of the base most worth keeping ready across the copy's rounds (a backend
    /// may hold one region's delta in a register, see [`crate::backend::Backend::bind_ready`]):
    /// the cursor's, else the first proven base's.
    pub fn kept_region(regions: &Regions, cursor: u8) -> Option<u32> {
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
    pub fn regions(&self, guessed: impl Fn(u8) -> Option<u32>) -> Option<Regions> {
        // The cursor's own span, when proven, bounds how far a pointer moving with it goes.
        let cursor = self.bases[self.cursor as usize].and_then(|_| guessed(self.cursor));
        let regions: Regions = std::array::from_fn(|r| {
            if r >= 11 {
                let form = self.indexed[r - 11]?;
                return form.regs[..form.count as usize]
                    .iter()
                    .find_map(|&reg| guessed(reg));
            }
            let base = self.bases[r]?;
            if matches!(base.motion, Motion::Steps { .. }) && cursor.is_none() {
                return None;
            }
            guessed(r as u8)
        });
        regions.iter().any(Option::is_some).then_some(regions)
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
        if let Some(r) = class.written(op) {
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
    let (indexed, keyed) = index_forms(ops, classes, head..=back, cursor, &writes, &skips);
    let mut planned = Loop {
        head,
        back,
        cursor,
        bound,
        step,
        bases,
        indexed,
        keyed,
    };
    let mut filler = false;
    for (pc, op) in ops.iter().enumerate().take(back + 1).skip(head) {
        if std::mem::take(&mut filler) {
            continue;
        }
        let class = classes[op.opcode as usize];
        filler = class == Class::LoadImm64;
        if let Some((base, off, bytes, write)) = planned.base_access(pc, op, class)
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
    if bases[cursor as usize].is_none() && indexed.iter().all(Option::is_none) {
        return None;
    }
    planned.bases = bases;
    Some(planned)
}

/// A register's value during a round, as a sum (see [`index_forms`]): of registers the loop
/// does not write, the cursor's value when the round started (when `index`), and a constant.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Sum {
    regs: [u8; 2],
    count: u8,
    index: bool,
    k: i64,
}

impl Sum {
    const fn constant(k: i64) -> Sum {
        Sum {
            regs: [0; 2],
            count: 0,
            index: false,
            k,
        }
    }

    /// The sum of both, if it is one still: at most two registers, the cursor at most once,
    /// a constant that fits a displacement.
    fn plus(self, other: Sum) -> Option<Sum> {
        let count = self.count + other.count;
        if (self.index && other.index) || count > 2 {
            return None;
        }
        let mut regs = self.regs;
        regs[self.count as usize..count as usize]
            .copy_from_slice(&other.regs[..other.count as usize]);
        let k = self.k.checked_add(other.k).filter(|k| k.abs() <= 1 << 31)?;
        Some(Sum {
            regs,
            count,
            index: self.index || other.index,
            k,
        })
    }

    /// Whether this sum adds the same registers as `form` (in any order).
    fn adds_as(&self, form: &Indexed) -> bool {
        let (a, b) = (
            &self.regs[..self.count as usize],
            &form.regs[..form.count as usize],
        );
        a.len() == b.len() && (a == b || (a.len() == 2 && a[0] == b[1] && a[1] == b[0]))
    }
}

/// The [`Indexed`] forms of the loop over slots `body` with cursor `cursor` (see the module's
/// documentation), and by slot from the head, the key of the form its access goes through.
/// `writes` counts each register's writes in the loop; `skips` are its forward jumps inside it
/// (from, to). Each register's [`Sum`] is followed through one round, from the head, where
/// only the registers the loop does not write and the cursor have one; where a jump inside
/// the loop lands, every register the loop writes but the cursor (which no jump skips the
/// move of) loses its sum.
fn index_forms(
    ops: &[Op],
    classes: &[Class],
    body: std::ops::RangeInclusive<usize>,
    cursor: u8,
    writes: &[u8; 11],
    skips: &[(usize, usize)],
) -> ([Option<Indexed>; MAX_INDEXED], [u8; MAX_BODY]) {
    let head = *body.start();
    let mut forms: [Option<Indexed>; MAX_INDEXED] = [None; MAX_INDEXED];
    let mut keyed = [0u8; MAX_BODY];
    let mut sums: [Option<Sum>; 11] = std::array::from_fn(|r| match r as u8 {
        FP => None,
        r if r == cursor => Some(Sum {
            index: true,
            ..Sum::constant(0)
        }),
        r if writes[r as usize] == 0 => Some(Sum {
            regs: [r, 0],
            count: 1,
            ..Sum::constant(0)
        }),
        _ => None,
    });
    let mut filler = false;
    for pc in body {
        if std::mem::take(&mut filler) {
            continue;
        }
        let op = &ops[pc];
        let class = classes[op.opcode as usize];
        filler = class == Class::LoadImm64;
        if skips.iter().any(|&(_, to)| to == pc) {
            for r in 0..11 {
                if writes[r] != 0 && r != cursor as usize {
                    sums[r] = None;
                }
            }
        }
        let access = match class {
            Class::Load(bytes) => Some((op.src, bytes, false)),
            Class::Store(bytes) => Some((op.dst, bytes, true)),
            _ => None,
        };
        if let Some((base, bytes, write)) = access
            && let Some(sum) = sums[base as usize].filter(|s| s.index && s.count > 0)
            && let Some(k) = form_of(&mut forms, &sum)
            && let Some(form) = &mut forms[k]
        {
            let off = sum.k + i64::from(op.off);
            form.lo = form.lo.min(off);
            form.hi = form.hi.max(off + i64::from(bytes));
            form.write |= write;
            keyed[pc - head] = (11 + k) as u8;
        }
        if let Some(d) = class.written(op) {
            let (d, src) = (d as usize, sums.get(op.src as usize).copied().flatten());
            sums[d] = match op.opcode {
                Opcode::Mov64Reg => src,
                Opcode::Mov64Imm => Some(Sum::constant(op.imm)),
                Opcode::Add64Reg => sums[d].zip(src).and_then(|(a, b)| a.plus(b)),
                Opcode::Add64Imm => sums[d].and_then(|a| a.plus(Sum::constant(op.imm))),
                _ => None,
            };
        }
    }
    // A form whose span does not fit the check's displacements (32 bits) is left checked
    // access by access.
    for (k, form) in forms.iter_mut().enumerate() {
        if form.is_some_and(|f| f.lo < i64::from(i32::MIN) || f.hi > i64::from(i32::MAX)) {
            *form = None;
            keyed
                .iter_mut()
                .filter(|key| **key as usize == 11 + k)
                .for_each(|key| *key = 0);
        }
    }
    (forms, keyed)
}

/// The index in `forms` of the form `sum` adds up to, a new one if there is room.
fn form_of(forms: &mut [Option<Indexed>; MAX_INDEXED], sum: &Sum) -> Option<usize> {
    if let Some(k) = forms
        .iter()
        .position(|f| f.is_some_and(|f| sum.adds_as(&f)))
    {
        return Some(k);
    }
    let k = forms.iter().position(Option::is_none)?;
    forms[k] = Some(Indexed {
        regs: sum.regs,
        count: sum.count,
        lo: i64::MAX,
        hi: i64::MIN,
        write: false,
    });
    Some(k)
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

    /// An index form as the tests compare it: the registers it adds to the cursor, its span's
    /// offsets and whether it stores.
    type Form = (Vec<u8>, i64, i64, bool);

    /// The loop's index forms, and by slot from the head, the form each access goes through.
    fn forms(l: &Loop) -> (Vec<Form>, Vec<Option<usize>>) {
        let forms = l
            .indexed
            .iter()
            .flatten()
            .map(|f| (f.regs[..f.count as usize].to_vec(), f.lo, f.hi, f.write))
            .collect();
        let keyed = l.keyed[..=l.back - l.head]
            .iter()
            .map(|&k| (k != 0).then(|| k as usize - 11))
            .collect();
        (forms, keyed)
    }

    /// `memcpy` as the kernel's verifier accepts it: an index `r3`, both addresses formed
    /// from it in each round, one of them plus the bound (the source's length).
    #[test]
    fn a_copy_through_an_index_proves_both_addresses() {
        let l = last_loop(
            "r3 = 0\nloop:\nr8 = r1\nr8 += r3\nr9 = r8\nr9 += r5\n\
             r6 = *(u64 *)(r8 + 0)\n*(u64 *)(r9 + 0) = r6\n\
             r6 = *(u64 *)(r8 + 24)\n*(u64 *)(r9 + 24) = r6\n\
             r3 += 32\nif r3 < r5 goto loop\nexit",
        )
        .expect("versioned");
        assert_eq!((l.cursor, l.bound, l.step), (3, 5, Operand::Imm(32)));
        assert_eq!(base(&l, 3), None, "the index is never an address");
        let (forms, keyed) = forms(&l);
        assert_eq!(forms, [(vec![1], 0, 32, false), (vec![1, 5], 0, 32, true)]);
        let (r8, r9) = (Some(0), Some(1));
        assert_eq!(keyed, [None, None, None, None, r8, r9, r8, r9, None, None]);
    }

    /// `strcmp`'s two streams through one register written three times a round, the second
    /// address after the move, with the index counted in; the same sum added the other way
    /// round is the same form.
    #[test]
    fn forms_follow_a_register_through_the_round() {
        let l = last_loop(
            "loop:\nr8 = r1\nr8 += r9\nr6 = *(u8 *)(r8 + 0)\nr8 += r3\nr9 += 1\n\
             r7 = *(u8 *)(r8 + 0)\nr4 = r9\nr4 += r1\nr7 = *(u8 *)(r4 + 4)\n\
             if r9 < r3 goto loop\nexit",
        )
        .expect("versioned");
        let (forms, keyed) = forms(&l);
        assert_eq!(forms, [(vec![1], 0, 6, false), (vec![1, 3], 0, 1, false)]);
        assert_eq!(
            keyed,
            [
                None,
                None,
                Some(0),
                None,
                None,
                Some(1),
                None,
                None,
                Some(0),
                None
            ]
        );
    }

    /// Where a jump inside the loop lands, the sums of the registers the loop writes are
    /// forgotten (they depend on the way taken), and the cursor's is kept; a sum of three
    /// registers, of the index twice, or of a register the loop writes is no form.
    #[test]
    fn forms_end_where_they_cannot_be_followed() {
        let l = last_loop(
            "loop:\nr8 = r1\nr8 += r3\nif r0 == 0 goto skip\nr8 = r2\nskip:\n\
             r6 = *(u8 *)(r8 + 0)\nr4 = r1\nr4 += r3\nr6 = *(u8 *)(r4 + 0)\n\
             r3 += 1\nif r3 < r5 goto loop\nexit",
        )
        .expect("versioned");
        assert_eq!(forms(&l).1[4], None, "r8 joins two ways");
        assert_eq!(forms(&l).1[7], Some(0), "r4 formed after the join");
        for body in [
            "r8 = r1\nr8 += r2\nr8 += r3\nr8 += r5",
            "r8 = r1\nr8 += r3\nr8 += r3",
            "r8 = r1\nr8 += r6\nr8 += r3",
            "r8 = r1\nr8 += r3\nr8 *= 2",
        ] {
            let source = format!(
                "r6 = 0\nloop:\n{body}\nr0 = *(u8 *)(r8 + 0)\nr6 += 1\nr3 += 1\n\
                 if r3 < r5 goto loop\nexit"
            );
            assert_eq!(last_loop(&source), None, "{source}");
        }
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
            // An address formed from the cursor but with a register the loop writes.
            "loop:\nr8 = r2\nr8 += r1\nr2 = *(u8 *)(r8 + 0)\nr1 += 1\nif r1 < r5 goto loop\nexit",
        ] {
            assert_eq!(last_loop(source), None, "{source}");
        }
        // And the same loop without what made it unfit is versioned.
        let fit = "loop:\nr2 = *(u8 *)(r1 + 0)\nr1 += 1\nif r1 < r5 goto loop\nexit";
        assert!(last_loop(fit).is_some());
    }
}
