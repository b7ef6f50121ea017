//! Window versioning: a program's accesses proven against an end pointer it compares with.
//!
//! A packet parser starts by computing where its data ends (`end = data + len`) and then
//! checks every header against that end before reading it: `p = hdr + 14; if p > end goto
//! drop`. The kernel's verifier follows those compares (its packet pointers' `range`) and
//! needs no run-time check of the reads after them. Groups (see [`crate::group`]) check each
//! run of straight code on its own, and a loop's check (see [`crate::loops`]) needs a cursor
//! moving by a step, so a parser's reads kept a check each.
//!
//! This module does what the verifier does, once the window `[start, end)` is known to lie
//! in one region. The driver checks that right after the program's entry block computes the
//! end ([`Window::checks`]: `start < end`, `start` and `end - 1` in the region). When it
//! holds, the code jumps to a copy of the rest of the program in which every access the
//! analysis below proves inside the window has no check
//! ([`Check::Proven`](crate::lower::Check::Proven)). When it does not, the program goes on in
//! its own code, every access checked as before. Jumps in the copy to slots before it go back
//! into the program's code, and nothing else leads into the copy, so every path through the
//! copy starts where the check held.
//!
//! The analysis is a forward dataflow over the copy's slots. A register holds either a
//! scalar with an unsigned upper bound, or a pointer into the window: `V + off`, where `V` is a
//! value the analysis names (the window's start `S`, its end `E`, the result of an add of a
//! bounded scalar at some slot, or a merge at a label) with two facts: `V >= S`, and `V + room
//! <= E` for a known `room`. Compares raise `room`: falling through `if a > b` with `b` a
//! pointer gives `a <= b`, so `a`'s room follows from `b`'s, for every register holding the
//! same named value. An access of `size` bytes at `V + off + k` is inside the window when `off
//! + k >= 0` and `off + k + size <= room`.
//!
//! Offsets and rooms are kept small (below 2^30) and the scalars added to pointers below
//! 2^24, so no value the analysis names wraps around: the window's region is one of the first
//! 2^16, so its addresses are below 2^48. A value an add names at a slot is a new one each
//! time the slot runs: registers still holding the older one forget it there; a merge at a
//! label names the merged value per register, so merges never mix two rounds of a loop.
//!
//! What a program needs (all read from its slots, the same for every backend):
//! - no call of any kind and no legacy packet load anywhere: a helper could move or shrink
//!   the region the window was checked in;
//! - no loop the driver versions (see [`crate::loops`]): its copy would lose that;
//! - an entry block (the slots before the first jump or jump target) that ends the window,
//!   `end += len`, where `end` held a copy of a register `start` still holds;
//! - accesses proven: at least one, and at least twice as many as the accesses the copy
//!   still checks (it has no groups).

use bpfkit_isa::{AluOp, Cond, Kind, Source, Width};
use bpfkit_vm::Op;

use crate::group::Class;
use crate::lower::{FP, Lir, Operand, Range};

/// Programs longer than this are not analysed: the analysis costs compile time, and the copy
/// doubles the code.
const MAX_SLOTS: usize = 2048;
/// Candidate ends of a window tried.
const MAX_ANCHORS: usize = 4;
/// Passes over the copy's slots before the analysis gives up.
const MAX_PASSES: usize = 24;
/// Changes of a label's state before the registers still changing there are forgotten.
const WIDEN_AFTER: u8 = 4;
/// Bounds on the displacement of a pointer from its named value, and on a room.
const MAX_OFF: i64 = 1 << 30;
const MAX_ROOM: i64 = 1 << 30;
/// The largest scalar added to a pointer that keeps it a pointer.
const MAX_INDEX: u64 = 1 << 24;

/// Named values: the window's start and end; each other is made at a slot (an add) or at a
/// label (a merge), see [`slot_id`] and [`merge_id`].
const START: u32 = 0;
const END: u32 = 1;

/// The name of the value slot `pc` makes.
fn slot_id(pc: usize) -> u32 {
    2 + 12 * pc as u32
}

/// The name of the value register `r` gets by a merge at label `label`.
fn merge_id(label: usize, r: usize) -> u32 {
    slot_id(label) + 1 + r as u32
}

/// Whether `id` names a value merged at label `label`.
fn merged_at(id: u32, label: usize) -> bool {
    id > slot_id(label) && id <= slot_id(label) + 11
}

/// What the analysis knows of a register.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Val {
    Unknown,
    /// A number at most this (unsigned).
    Scalar(u64),
    /// `V + off`, with `V >= S` and `V + room <= E` for the named value `V` = `id`.
    Ptr {
        id: u32,
        off: i32,
        room: i32,
    },
}

impl Val {
    /// A pointer, if its displacement and room are inside the bounds that keep it from
    /// wrapping; else nothing known.
    fn ptr(id: u32, off: i64, room: i64) -> Val {
        if off.abs() <= MAX_OFF && room.abs() <= MAX_ROOM {
            Val::Ptr {
                id,
                off: off as i32,
                room: room as i32,
            }
        } else {
            Val::Unknown
        }
    }

    fn max(self) -> u64 {
        match self {
            Val::Scalar(max) => max,
            _ => u64::MAX,
        }
    }
}

type State = [Val; 11];

/// A window and what the analysis proved inside it (see the module's documentation).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Window {
    /// The slot that ends the window (`end += len`): the check comes right after it, and the
    /// copy holds the slots after it.
    pub at: usize,
    /// The register holding the window's first byte's address after slot `at`.
    pub start: u8,
    /// The register holding the address one past its last byte.
    pub end: u8,
    /// The slots (after `at`) whose load or store the window proves.
    pub proven: Vec<usize>,
    /// Whether a proven access is a store.
    pub write: bool,
}

impl Window {
    /// How many more operations than slots a backend is given for this window in a program
    /// of `len` slots: the copy, and the check with the jump into the copy.
    pub fn extra_emits(&self, len: usize) -> usize {
        len - self.at + 4
    }

    /// Whether the window proves the access at slot `pc`.
    pub fn proves(&self, pc: usize) -> bool {
        self.proven.binary_search(&pc).is_ok()
    }

    /// The checks after slot `at` that the window lies in region `region`, each jumping to
    /// `slow` (the program's own code) when it does not; after them the driver jumps to the
    /// copy. `start < end`, and the first and the last byte in the region, which is
    /// contiguous.
    pub fn checks<L: Copy>(&self, region: u32, slow: L) -> [Lir<L>; 3] {
        let byte = |base: u8, off: i32| Lir::CheckRange {
            range: Range {
                base,
                off,
                len: 1,
                region,
                write: self.write,
            },
            fallback: slow,
        };
        [
            Lir::Jump {
                cond: Some((Cond::Ge, true, self.start, Operand::Reg(self.end))),
                target: slow,
            },
            byte(self.start, 0),
            byte(self.end, -1),
        ]
    }

    /// Whether a window in region `region` can be proven with: not the empty region 0, and
    /// low enough that its addresses stay far from wrapping (see the module's documentation).
    pub fn fits(region: u32) -> bool {
        (1..1 << 16).contains(&region)
    }
}

/// The window of a program with slots `ops`, if it has one and it proves enough (see the
/// module's documentation). `classes` is [`Class::table`].
pub fn plan(ops: &[Op], classes: &[Class]) -> Option<Window> {
    if ops.len() > MAX_SLOTS || !call_free(ops, classes) {
        return None;
    }
    // Of the entry block's candidate ends, the one that proves most.
    let (at, start, end, analysis) = anchors(ops, classes)
        .into_iter()
        .filter_map(|(at, start, end, entry)| {
            Some((at, start, end, analyse(ops, classes, at + 1, entry)?))
        })
        .max_by_key(|(.., analysis)| analysis.proven.len())?;
    let enough = !analysis.proven.is_empty() && analysis.proven.len() >= 2 * analysis.unproven;
    enough.then_some(Window {
        at,
        start,
        end,
        proven: analysis.proven,
        write: analysis.write,
    })
}

/// Whether no slot calls anything or loads a packet the legacy way (`exit` aside).
fn call_free(ops: &[Op], classes: &[Class]) -> bool {
    let mut filler = false;
    ops.iter().all(|op| {
        if std::mem::take(&mut filler) {
            return true;
        }
        let class = classes[op.opcode as usize];
        filler = class == Class::LoadImm64;
        match class {
            Class::CallLocal => false,
            Class::EndsFlow => matches!(op.opcode.spec().kind, Kind::Exit),
            _ => true,
        }
    })
}

/// A register in the entry block: a constant, or a value the block names (each entry
/// register's value, each write's) plus a displacement.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Sym {
    Const(u64),
    Named(u32, i64),
}

/// The slots of the entry block that may end a window (at most [`MAX_ANCHORS`]), `end += len`
/// with `end` a copy of a register `start` still holds: each slot, `start`, `end`, and what
/// the analysis knows on falling through it.
fn anchors(ops: &[Op], classes: &[Class]) -> Vec<(usize, u8, u8, State)> {
    let targets = targets(ops, classes, 0);
    let mut regs: [Sym; 11] = std::array::from_fn(|r| Sym::Named(r as u32, 0));
    let mut names = 11;
    let mut fresh = || {
        names += 1;
        Sym::Named(names, 0)
    };
    let mut found = Vec::new();
    let mut pc = 0;
    while pc < ops.len() && (pc == 0 || !targets[pc]) && found.len() < MAX_ANCHORS {
        let op = &ops[pc];
        let (d, s) = (op.dst as usize, op.src as usize);
        let class = classes[op.opcode as usize];
        match class {
            Class::Jump | Class::Ja | Class::CallLocal | Class::EndsFlow => break,
            Class::LoadImm64 => {
                regs[d] = Sym::Const(op.imm as u64);
                pc += 2;
                continue;
            }
            _ => {}
        }
        match op.opcode.spec().kind {
            Kind::Alu {
                op: AluOp::Mov,
                width: Width::W64,
                src,
            } => {
                regs[d] = match src {
                    Source::Reg => regs[s],
                    Source::Imm => Sym::Const(op.imm as u64),
                }
            }
            Kind::Alu {
                op: AluOp::Add,
                width: Width::W64,
                src: Source::Imm,
            } => {
                regs[d] = match regs[d] {
                    Sym::Named(id, off) if (off + op.imm).abs() <= MAX_OFF => {
                        Sym::Named(id, off + op.imm)
                    }
                    _ => fresh(),
                }
            }
            Kind::Alu {
                op: AluOp::Add,
                width: Width::W64,
                src: Source::Reg,
            } => {
                let before = regs[d];
                regs[d] = fresh();
                let start = (0..11).find(|&r| r != d && r != FP as usize && regs[r] == before);
                if let (Some(start), Sym::Named(origin, origin_off)) = (start, before)
                    && d != FP as usize
                    && s != FP as usize
                {
                    let entry = std::array::from_fn(|r| match regs[r] {
                        _ if r == d => Val::ptr(END, 0, 0),
                        Sym::Named(id, off) if id == origin => Val::ptr(START, off - origin_off, 0),
                        Sym::Const(c) => Val::Scalar(c),
                        Sym::Named(..) => Val::Unknown,
                    });
                    found.push((pc, start as u8, op.dst, entry));
                }
            }
            _ => match class {
                Class::Load(_) | Class::WritesDst => regs[d] = fresh(),
                Class::WritesSrc => regs[s] = fresh(),
                Class::WritesR0 => regs[0] = fresh(),
                _ => {}
            },
        }
        pc += 1;
    }
    found
}

/// By slot: whether a jump from slot `from` or later jumps to it.
fn targets(ops: &[Op], classes: &[Class], from: usize) -> Vec<bool> {
    let mut targets = vec![false; ops.len()];
    let mut filler = false;
    for (pc, op) in ops.iter().enumerate() {
        if std::mem::take(&mut filler) {
            continue;
        }
        let class = classes[op.opcode as usize];
        filler = class == Class::LoadImm64;
        if pc >= from && matches!(class, Class::Jump | Class::Ja) {
            if let Some(t) = targets.get_mut(op.off as usize) {
                *t = true;
            }
        }
    }
    targets
}

/// What the analysis found in the copy.
struct Analysis {
    /// The slots whose access it proved, in order.
    proven: Vec<usize>,
    /// How many accesses it did not (through registers other than `r10`).
    unproven: usize,
    /// Whether a proven access is a store.
    write: bool,
}

/// Runs the analysis over the slots from `first` on, entered with `entry`, to a fixed point;
/// `None` when it does not reach one in [`MAX_PASSES`].
fn analyse(ops: &[Op], classes: &[Class], first: usize, entry: State) -> Option<Analysis> {
    let targets = targets(ops, classes, first);
    let mut labels: Vec<Option<State>> = vec![None; ops.len()];
    let mut changes = vec![0u8; ops.len()];
    for _ in 0..MAX_PASSES {
        let mut changed = false;
        let mut found = Analysis {
            proven: Vec::new(),
            unproven: 0,
            write: false,
        };
        // What holds before slot `pc`, when something reaches it.
        let (mut state, mut live) = (entry, true);
        let mut pc = first;
        while pc < ops.len() {
            let op = &ops[pc];
            let class = classes[op.opcode as usize];
            if targets[pc] {
                if live {
                    changed |= join(&mut labels[pc], &state, pc, &mut changes[pc]);
                }
                if let Some(at_label) = &labels[pc] {
                    (state, live) = (*at_label, true);
                }
            }
            let width = if class == Class::LoadImm64 { 2 } else { 1 };
            if !live {
                pc += width;
                continue;
            }
            access(&state, pc, op, class, &mut found);
            let jump = step(&mut state, pc, op, class);
            if let Some((target, taken)) = jump
                && target >= first
                && target < ops.len()
            {
                let taken = taken.as_ref().unwrap_or(&state);
                changed |= join(&mut labels[target], taken, target, &mut changes[target]);
            }
            live = falls_through(class);
            pc += width;
        }
        if !changed {
            return Some(found);
        }
    }
    None
}

/// Whether control goes on to the next slot after a slot of class `class`.
fn falls_through(class: Class) -> bool {
    !matches!(class, Class::Ja | Class::EndsFlow)
}

/// Counts the access at slot `pc`, proven or not, given the registers before it.
fn access(state: &State, pc: usize, op: &Op, class: Class, found: &mut Analysis) {
    let (base, bytes, write) = match class {
        Class::Load(bytes) => (op.src, bytes, false),
        Class::Store(bytes) => (op.dst, bytes, true),
        _ => match op.opcode.spec().kind {
            Kind::Atomic { .. } if op.dst != FP => {
                found.unproven += 1;
                return;
            }
            _ => return,
        },
    };
    if base == FP {
        return;
    }
    let k = i64::from(op.off);
    match state[base as usize] {
        Val::Ptr { off, room, .. }
            if i64::from(off) + k >= 0
                && i64::from(off) + k + i64::from(bytes) <= i64::from(room) =>
        {
            found.proven.push(pc);
            found.write |= write;
        }
        _ => found.unproven += 1,
    }
}

/// Follows slot `pc` in `state` (what falls through); returns the jump's target and what
/// holds when it is taken (`None`: what falls through), if it jumps.
fn step(state: &mut State, pc: usize, op: &Op, class: Class) -> Option<(usize, Option<State>)> {
    let (d, s) = (op.dst as usize, op.src as usize);
    match op.opcode.spec().kind {
        Kind::Alu {
            op: alu,
            width,
            src,
        } => {
            let src = match src {
                Source::Imm => Operand::Imm(op.imm),
                Source::Reg => Operand::Reg(op.src),
            };
            let value = arith(state, pc, alu, width == Width::W64, d, src);
            define(state, pc, d, value);
        }
        Kind::Endian { bits, .. } => {
            let value = match bits {
                64 => Val::Unknown,
                bits => Val::Scalar((1 << bits) - 1),
            };
            define(state, pc, d, value);
        }
        Kind::LoadImm64 { .. } => define(state, pc, d, Val::Scalar(op.imm as u64)),
        Kind::Load { size, sign_extend } => {
            let value = match size.bytes() {
                8 => Val::Unknown,
                _ if sign_extend => Val::Unknown,
                bytes => Val::Scalar((1 << (8 * bytes)) - 1),
            };
            define(state, pc, d, value);
        }
        Kind::Jump { cond, width, src } => {
            let refined =
                width == Width::W64 && matches!(cond, Cond::Gt | Cond::Ge | Cond::Lt | Cond::Le);
            if !refined {
                return Some((op.off as usize, None));
            }
            let mut taken = *state;
            refine(state, &mut taken, cond, op.dst, src, op);
            return Some((op.off as usize, Some(taken)));
        }
        Kind::Ja | Kind::Ja32 => return Some((op.off as usize, None)),
        _ => match class {
            Class::WritesSrc => define(state, pc, s, Val::Unknown),
            Class::WritesR0 => define(state, pc, 0, Val::Unknown),
            _ => {}
        },
    }
    None
}

/// Sets register `r` to `value`, written at slot `pc`: a value that slot names is a new one,
/// so registers still holding the one it named on an earlier pass through it forget it.
fn define(state: &mut State, pc: usize, r: usize, value: Val) {
    // Only an add names a value at its slot, so only then can an older one be held.
    let id = slot_id(pc);
    if matches!(value, Val::Ptr { id: new, .. } if new == id) {
        for v in state.iter_mut() {
            if matches!(*v, Val::Ptr { id: old, .. } if old == id) {
                *v = Val::Unknown;
            }
        }
    }
    state[r] = value;
}

/// The value of `dst = dst op src` (`dst = op src` for moves).
fn arith(state: &State, pc: usize, op: AluOp, wide: bool, d: usize, src: Operand) -> Val {
    let dst = state[d];
    let src_val = match src {
        Operand::Reg(r) => state[r as usize],
        Operand::Imm(imm) => Val::Scalar(imm as u64),
    };
    if !wide {
        let max = match (op, src) {
            (AluOp::Mov, _) => src_val.max(),
            (AluOp::And, _) => dst.max().min(src_val.max()),
            (AluOp::Rsh, Operand::Imm(k)) => (dst.max() & u64::from(u32::MAX)) >> (k & 31),
            _ => u64::MAX,
        };
        return Val::Scalar(max.min(u64::from(u32::MAX)));
    }
    match (op, dst, src, src_val) {
        (AluOp::Mov, ..) => src_val,
        (AluOp::Add, Val::Ptr { id, off, room }, Operand::Imm(imm), _) => {
            Val::ptr(id, i64::from(off) + imm, room.into())
        }
        (AluOp::Sub, Val::Ptr { id, off, room }, Operand::Imm(imm), _) => {
            Val::ptr(id, i64::from(off) - imm, room.into())
        }
        (AluOp::Add, Val::Ptr { off, room, .. }, Operand::Reg(_), Val::Scalar(m))
        | (AluOp::Add, Val::Scalar(m), Operand::Reg(_), Val::Ptr { off, room, .. }) => {
            // `V + off + x` with `x <= m`: a value of its own, at least `V` when `off >= 0`,
            // and at most `E - room + off + m`.
            if off >= 0 && m <= MAX_INDEX {
                Val::ptr(slot_id(pc), 0, i64::from(room) - i64::from(off) - m as i64)
            } else {
                Val::Unknown
            }
        }
        (AluOp::Add, Val::Scalar(a), _, Val::Scalar(b)) => {
            a.checked_add(b).map_or(Val::Unknown, Val::Scalar)
        }
        (AluOp::And, ..) => Val::Scalar(dst.max().min(src_val.max())),
        (AluOp::Rsh, _, Operand::Imm(k), _) => Val::Scalar(dst.max() >> (k & 63)),
        (AluOp::Lsh, Val::Scalar(m), Operand::Imm(k), _)
            if m.leading_zeros() >= (k & 63) as u32 =>
        {
            Val::Scalar(m << (k & 63))
        }
        _ => Val::Unknown,
    }
}

/// Narrows what holds on each way out of a 64-bit compare `dst cond src`: `fall` when it does
/// not jump, `taken` when it does.
fn refine(fall: &mut State, taken: &mut State, cond: Cond, d: u8, src: Source, op: &Op) {
    match src {
        Source::Reg => {
            let s = op.src;
            // `a <= b` (`a < b` when strict) on the way it holds.
            let (holds, fails) = (&mut *taken, &mut *fall);
            match cond {
                Cond::Gt => {
                    below(fails, d, s, false);
                    below(holds, s, d, true);
                }
                Cond::Ge => {
                    below(fails, d, s, true);
                    below(holds, s, d, false);
                }
                Cond::Lt => {
                    below(holds, d, s, true);
                    below(fails, s, d, false);
                }
                Cond::Le => {
                    below(holds, d, s, false);
                    below(fails, s, d, true);
                }
                _ => {}
            }
        }
        Source::Imm => {
            let imm = op.imm as u64;
            // `dst <= max` on the way it holds.
            let at_most = |state: &mut State, max: Option<u64>| {
                if let (Some(max), v @ (Val::Scalar(_) | Val::Unknown)) = (max, state[d as usize]) {
                    state[d as usize] = Val::Scalar(v.max().min(max));
                }
            };
            match cond {
                Cond::Gt => at_most(fall, Some(imm)),
                Cond::Ge => at_most(fall, imm.checked_sub(1)),
                Cond::Lt => at_most(taken, imm.checked_sub(1)),
                Cond::Le => at_most(taken, Some(imm)),
                _ => {}
            }
        }
    }
}

/// Records in `state` that `a <= b` (`a < b` when `strict`): when both are pointers, `a`'s
/// named value gets at least the room `b`'s gives it, in every register holding it.
fn below(state: &mut State, a: u8, b: u8, strict: bool) {
    let (
        Val::Ptr {
            id,
            off: off_a,
            room: room_a,
        },
        Val::Ptr {
            off: off_b,
            room: room_b,
            ..
        },
    ) = (state[a as usize], state[b as usize])
    else {
        return;
    };
    // `V_a + off_a <= V_b + off_b <= E - room_b + off_b`.
    let room = i64::from(off_a) + i64::from(room_b) - i64::from(off_b) + i64::from(strict);
    if room <= i64::from(room_a) || room > MAX_ROOM {
        return;
    }
    for v in state.iter_mut() {
        if let Val::Ptr {
            id: held, room: r, ..
        } = v
            && *held == id
        {
            *r = (*r).max(room as i32);
        }
    }
}

/// Merges `incoming` into what holds at label `label` (nothing yet: `None`); returns whether
/// that changed. A register holding the same named value at the same displacement both ways
/// keeps it; pointers that differ become a value named by the merge; after
/// [`WIDEN_AFTER`] changes, a register still changing is forgotten, so passes end.
fn join(at: &mut Option<State>, incoming: &State, label: usize, changes: &mut u8) -> bool {
    let Some(old) = at else {
        *at = Some(*incoming);
        return true;
    };
    let mut changed = false;
    for (r, (old, &incoming)) in old.iter_mut().zip(incoming).enumerate() {
        let merged = merge(*old, incoming, label, r);
        if merged != *old {
            *old = if *changes >= WIDEN_AFTER {
                Val::Unknown
            } else {
                merged
            };
            changed = true;
        }
    }
    *changes = changes.saturating_add(u8::from(changed));
    changed
}

fn merge(a: Val, b: Val, label: usize, r: usize) -> Val {
    match (a, b) {
        (Val::Scalar(x), Val::Scalar(y)) => Val::Scalar(x.max(y)),
        (
            Val::Ptr {
                id: ia,
                off: oa,
                room: ra,
            },
            Val::Ptr {
                id: ib,
                off: ob,
                room: rb,
            },
        ) => {
            if ia == ib && oa == ob && !merged_at(ia, label) {
                Val::ptr(ia, oa.into(), ra.min(rb).into())
            } else if oa >= 0 && ob >= 0 {
                // Either way the value is at least `S`, and it is `E - room` or below.
                let room = (i64::from(ra) - i64::from(oa)).min(i64::from(rb) - i64::from(ob));
                Val::ptr(merge_id(label, r), 0, room)
            } else {
                Val::Unknown
            }
        }
        _ => Val::Unknown,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use bpfkit_asm::assemble;
    use bpfkit_isa::Dialect;
    use bpfkit_vm::Program;

    fn program(source: &str) -> Program {
        Program::new(&assemble(source, Dialect::Llvm).unwrap()).unwrap()
    }

    fn window(source: &str) -> Option<Window> {
        plan(program(source).ops(), Class::table())
    }

    /// The slots of `source` that load or store through a register other than `r10`.
    fn accesses(source: &str) -> Vec<usize> {
        let program = program(source);
        let classes = Class::table();
        program
            .insns()
            .filter(|&(pc, _)| {
                let op = &program.ops()[pc];
                match classes[op.opcode as usize] {
                    Class::Load(_) => op.src != FP,
                    Class::Store(_) => op.dst != FP,
                    _ => false,
                }
            })
            .map(|(pc, _)| pc)
            .collect()
    }

    /// The benches' packet parser checks every header against the end of its frame, and
    /// every frame against the end of the batch, before it reads: every read is proven.
    #[test]
    fn the_packet_parser_reads_only_what_it_checked() {
        let source = include_str!("../../../benches/programs/packet.s");
        let w = window(source).expect("a window");
        assert_eq!((w.at, w.start, w.end, w.write), (2, 1, 7, false));
        assert_eq!(w.proven, accesses(source));
    }

    /// The slots the analysis proves in `source`, if it has a window.
    fn proven(source: &str) -> Option<Vec<usize>> {
        let program = program(source);
        let (ops, classes) = (program.ops(), Class::table());
        let (at, _, _, entry) = *anchors(ops, classes).first()?;
        analyse(ops, classes, at + 1, entry).map(|a| a.proven)
    }

    /// A frame's header checked, then read at the slot after `check`; `read` is the load.
    fn checked(check: &str, read: &str) -> String {
        format!("r6 = r1\nr7 = r1\nr7 += r2\nr3 = r6\n{check}\n{read}\nr0 += 1\nout:\nexit")
    }

    #[test]
    fn reads_inside_the_checked_room_are_proven() {
        for (check, read) in [
            ("r3 += 14\nif r3 > r7 goto out", "r0 = *(u16 *)(r6 + 12)"),
            ("r3 += 14\nif r7 < r3 goto out", "r0 = *(u16 *)(r6 + 12)"),
            // A strict compare leaves one byte more.
            ("r3 += 14\nif r3 >= r7 goto out", "r0 = *(u8 *)(r6 + 14)"),
            ("r3 += 14\nif r7 <= r3 goto out", "r0 = *(u8 *)(r6 + 14)"),
            // Through a copy moved past the start.
            (
                "r3 += 14\nif r3 > r7 goto out\nr4 = r6\nr4 += 10",
                "r0 = *(u32 *)(r4 + 0)",
            ),
            // A store.
            ("r3 += 8\nif r3 > r7 goto out", "*(u64 *)(r6 + 0) = r2"),
        ] {
            let source = checked(check, read);
            let at = accesses(&source);
            assert_eq!(proven(&source), Some(at), "{source}");
        }
    }

    #[test]
    fn reads_the_compares_do_not_cover_are_not_proven() {
        for (check, read) in [
            // One byte past the room.
            ("r3 += 13\nif r3 > r7 goto out", "r0 = *(u16 *)(r6 + 12)"),
            ("r3 += 14\nif r3 > r7 goto out", "r0 = *(u8 *)(r6 + 14)"),
            // Before the start.
            ("r3 += 14\nif r3 > r7 goto out", "r0 = *(u8 *)(r6 - 1)"),
            // Signed, 32-bit, the wrong way round, or against something that is not the end.
            ("r3 += 14\nif r3 s> r7 goto out", "r0 = *(u8 *)(r6 + 0)"),
            ("r3 += 14\nif w3 > w7 goto out", "r0 = *(u8 *)(r6 + 0)"),
            ("r3 += 14\nif r3 < r7 goto out", "r0 = *(u8 *)(r6 + 0)"),
            ("r3 += 14\nif r3 > r5 goto out", "r0 = *(u8 *)(r6 + 0)"),
            // The end moved, or the pointer moved by something unbounded, after the compare.
            (
                "r7 += 1\nr3 += 14\nif r3 > r7 goto out",
                "r0 = *(u8 *)(r6 + 13)",
            ),
            (
                "r3 += 14\nif r3 > r7 goto out\nr6 += r5",
                "r0 = *(u8 *)(r6 + 0)",
            ),
            (
                "r3 += 14\nif r3 > r7 goto out\nr5 = *(u64 *)(r6 + 0)\nr6 += r5",
                "r0 = *(u8 *)(r6 + 0)",
            ),
            // No compare at all: a scalar-bounded move is not a check.
            ("r5 = *(u8 *)(r6 + 0)\nr6 += r5", "r0 = *(u8 *)(r6 + 0)"),
        ] {
            let source = checked(check, read);
            let read_at = *accesses(&source).last().unwrap();
            let proven = proven(&source).unwrap_or_default();
            assert!(!proven.contains(&read_at), "{source}");
        }
    }

    /// A pointer moved by a bounded amount then checked again is proven; one moved each round
    /// of a loop without a check is not proven in the rounds after the first.
    #[test]
    fn moves_need_a_new_compare() {
        let moved = checked(
            "r5 = *(u8 *)(r6 + 0)\nr3 += r5\nr4 = r3\nr4 += 4\nif r4 > r7 goto out",
            "r0 = *(u32 *)(r3 + 0)",
        );
        let read_at = *accesses(&moved).last().unwrap();
        assert!(proven(&moved).unwrap().contains(&read_at), "{moved}");
        let looping = "r6 = r1\nr7 = r1\nr7 += r2\nr3 = r6\nr3 += 1\nif r3 > r7 goto out\n\
                       loop:\nr0 = *(u8 *)(r6 + 0)\nr6 += 1\nif r0 != 0 goto loop\nout:\nexit";
        assert_eq!(proven(looping), Some(vec![]));
        // With the check inside the loop, every round is proven.
        let rechecked = "r6 = r1\nr7 = r1\nr7 += r2\n\
                         loop:\nr3 = r6\nr3 += 1\nif r3 > r7 goto out\n\
                         r0 = *(u8 *)(r6 + 0)\nr6 += 1\nif r0 != 0 goto loop\nout:\nexit";
        assert_eq!(proven(rechecked), Some(vec![6]));
    }

    #[test]
    fn programs_without_a_window_or_with_calls_have_none() {
        // The end is not a copy of a start plus a length.
        assert_eq!(
            window("r7 = r2\nr7 += r1\nr0 = *(u8 *)(r1 + 0)\nexit"),
            None
        );
        // A helper call anywhere.
        let call = checked(
            "r3 += 14\nif r3 > r7 goto out\ncall 5",
            "r0 = *(u8 *)(r6 + 0)",
        );
        assert!(proven(&call).is_some());
        assert_eq!(window(&call), None);
        // Nothing proven.
        assert_eq!(
            window("r6 = r1\nr7 = r1\nr7 += r2\nr0 = *(u8 *)(r6 + 0)\nexit"),
            None
        );
    }
}
