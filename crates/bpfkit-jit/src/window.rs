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
//! A window can also be measured by a length rather than ended by a pointer: code the kernel's
//! verifier accepts often keeps offsets, compares them with the length (kept in a register or
//! spilled to the stack), and adds an offset to the start only to read
//! (`off = hdr + 14; if off > len goto drop; p = data + hdr`). Such a window starts at a
//! register holding the input's first address on entry (`r1`) and is as long as `r2` on
//! entry; its check is [`Lir::CheckLength`]. The analysis then also follows offsets: a value
//! is either an address (`V + off`, as above) or an offset from the window's start, named
//! and compared the same way with `S` read as 0 and `E` as the length, and the start plus an
//! offset is the address with the offset's name. An offset's displacement must not be below
//! 0 for a compare to teach anything (an offset, unlike an address, can wrap around there),
//! and only addresses are accessed. The first 8-byte stack slots are followed like registers
//! (a spill and its reload keep what is known); a store or atomic through any register but
//! `r10` forgets them all, since it may write the stack.
//!
//! What a program needs (all read from its slots, the same for every backend):
//! - no call of any kind and no legacy packet load anywhere: a helper could move or shrink
//!   the region the window was checked in;
//! - no loop the driver versions (see [`crate::loops`]): its copy would lose that;
//! - an entry block (the slots before the first jump or jump target) that ends the window,
//!   `end += len`, where `end` held a copy of a register `start` still holds; or, for a
//!   window measured by its length, at whose end registers still hold `r1` and `r2` as they
//!   were on entry;
//! - accesses proven: at least one, and at least twice as many as the accesses the copy
//!   still checks (it has no groups).

use bpfkit_isa::{AluOp, Cond, Kind, Source, Width};
use bpfkit_vm::Op;
use bpfkit_vm::memory::{MAX_FRAMES, STACK_REGION};

use crate::group::Class;
use crate::lower::{FP, Length, Lir, Operand, Range};

/// The 8-byte stack slots followed like registers: `r10 - 8`, `r10 - 16`, ...
const SPILLS: usize = 4;
/// What the analysis follows: the registers, then the spill slots.
const TRACKED: usize = 11 + SPILLS;

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

/// The name of the value slot `pc` makes (the names after it, up to the next slot's, are its
/// merges').
fn slot_id(pc: usize) -> u32 {
    2 + (TRACKED as u32 + 1) * pc as u32
}

/// The name of the value tracked value `r` (a register, or a spill slot: see [`TRACKED`]) gets
/// by a merge at label `label`.
fn merge_id(label: usize, r: usize) -> u32 {
    slot_id(label) + 1 + r as u32
}

/// Whether `id` names a value merged at label `label`.
fn merged_at(id: u32, label: usize) -> bool {
    id > slot_id(label) && id <= slot_id(label) + TRACKED as u32
}

/// Whether a pointer-like value is an address or an offset from the window's start.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum From {
    /// `V + off` is an address, with `V >= S` and `V + room <= E`.
    Address,
    /// `V + off` is an offset from the window's start, with `V + room <= E - S` (the
    /// window's length). Only a window measured by its length has them.
    Offset,
}

/// What the analysis knows of a register or spill slot.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Val {
    Unknown,
    /// A number at most this (unsigned).
    Scalar(u64),
    /// `V + off`, for the named value `V` = `id`, an address or an offset (see [`From`]).
    Ptr {
        from: From,
        id: u32,
        off: i32,
        room: i32,
    },
}

impl Val {
    /// A pointer, if its displacement and room are inside the bounds that keep it from
    /// wrapping; else nothing known.
    fn ptr(from: From, id: u32, off: i64, room: i64) -> Val {
        if off.abs() <= MAX_OFF && room.abs() <= MAX_ROOM {
            Val::Ptr {
                from,
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

/// The registers by number, then the spill slots (see [`TRACKED`]).
type State = [Val; TRACKED];

/// The index in a [`State`] of the 8-byte spill slot at `r10 + off`, if it is one followed.
fn spill(off: i32) -> Option<usize> {
    let k = usize::try_from(-i64::from(off)).ok()?;
    (k % 8 == 0 && (8..=8 * SPILLS).contains(&k)).then(|| 11 + k / 8 - 1)
}

/// The spill slots the `bytes` bytes at `r10 + off` overlap, as indices in a [`State`].
fn spills_overlapped(off: i32, bytes: u8) -> impl Iterator<Item = usize> {
    let (lo, hi) = (i64::from(off), i64::from(off) + i64::from(bytes));
    (0..SPILLS).filter_map(move |k| {
        let slot = -8 * (k as i64 + 1);
        (lo < slot + 8 && slot < hi).then_some(11 + k)
    })
}

/// How a window's extent is known after the slot that makes it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Measure {
    /// A register holds the address one past its last byte.
    End,
    /// A register holds its length in bytes.
    Length,
}

/// A window and what the analysis proved inside it (see the module's documentation).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Window {
    /// The slot that ends the window (`end += len`), or the last of the entry block for a
    /// window measured by its length: the check comes right after it, and the copy holds the
    /// slots after it.
    pub at: usize,
    /// The register holding the window's first byte's address after slot `at`.
    pub start: u8,
    /// The register holding the address one past its last byte, or its length (see
    /// `measure`).
    pub end: u8,
    /// What `end` holds.
    pub measure: Measure,
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
    /// contiguous; for a window measured by its length, [`Lir::CheckLength`].
    pub fn checks<L: Copy>(&self, region: u32, slow: L) -> Vec<Lir<L>> {
        if self.measure == Measure::Length {
            let length = Length {
                start: self.start,
                len: self.end,
                region,
                write: self.write,
            };
            return vec![Lir::CheckLength {
                length,
                fallback: slow,
            }];
        }
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
        vec![
            Lir::Jump {
                cond: Some((Cond::Ge, true, self.start, Operand::Reg(self.end))),
                target: slow,
            },
            byte(self.start, 0),
            byte(self.end, -1),
        ]
    }

    /// Whether a window in region `region` can be proven with: not the empty region 0, low
    /// enough that its addresses stay far from wrapping (see the module's documentation), and
    /// not a stack frame, so that a store proven inside the window never writes a spill slot
    /// the analysis follows.
    pub fn fits(region: u32) -> bool {
        let frames = STACK_REGION..STACK_REGION + MAX_FRAMES as u64;
        (1..1 << 16).contains(&region) && !frames.contains(&u64::from(region))
    }
}

/// The window of a program with slots `ops`, if it has one and it proves enough (see the
/// module's documentation). `classes` is [`Class::table`].
pub fn plan(ops: &[Op], classes: &[Class]) -> Option<Window> {
    if ops.len() > MAX_SLOTS || !call_free(ops, classes) {
        return None;
    }
    // Of the entry block's candidate windows, the one that proves most; those ended by a
    // pointer first, and when one of them proves every access, no other is analysed (the
    // analysis is most of compiling a parser).
    let (ends, lengths): (Vec<Anchor>, Vec<Anchor>) = anchors(ops, classes)
        .into_iter()
        .partition(|anchor| anchor.measure == Measure::End);
    let mut best: Option<(Anchor, Analysis)> = None;
    for anchor in ends.into_iter().chain(lengths) {
        if best
            .as_ref()
            .is_some_and(|(_, a)| a.unproven == 0 && !a.proven.is_empty())
        {
            break;
        }
        let Some(analysis) = analyse(ops, classes, anchor.at + 1, anchor.entry) else {
            continue;
        };
        if best
            .as_ref()
            .is_none_or(|(_, b)| analysis.proven.len() >= b.proven.len())
        {
            best = Some((anchor, analysis));
        }
    }
    let (anchor, analysis) = best?;
    let enough = !analysis.proven.is_empty() && analysis.proven.len() >= 2 * analysis.unproven;
    enough.then_some(Window {
        at: anchor.at,
        start: anchor.start,
        end: anchor.end,
        measure: anchor.measure,
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

/// A candidate window: the slot after which it is checked, its registers, and what the
/// analysis knows on falling through that slot.
struct Anchor {
    at: usize,
    start: u8,
    end: u8,
    measure: Measure,
    entry: State,
}

/// The names of `r1` and `r2` on entry in [`anchors`]' walk (each register's entry value is
/// named by its number).
const ENTRY_R1: u32 = 1;
const ENTRY_R2: u32 = 2;

/// The candidate windows of the entry block (at most [`MAX_ANCHORS`]): each slot `end += len`
/// with `end` a copy of a register `start` still holds, and the first slot after which
/// registers hold `r1` and `r2` as they were on entry: the window they measure (checked as
/// early as that, so that the analysis follows the offsets from where they are made).
fn anchors(ops: &[Op], classes: &[Class]) -> Vec<Anchor> {
    let targets = targets(ops, classes, 0);
    // The registers, then the spill slots (see [`TRACKED`]).
    let mut regs: [Sym; TRACKED] = std::array::from_fn(|r| Sym::Named(r as u32, 0));
    let mut names = TRACKED as u32;
    let mut fresh = || {
        names += 1;
        Sym::Named(names, 0)
    };
    let mut found = Vec::new();
    let mut measured = false;
    // The window `r1` and `r2` measure, once after slot `at` registers hold both.
    let mut length_anchor = |regs: &[Sym; TRACKED], at: usize, found: &mut Vec<Anchor>| {
        let held = |value: Sym| (0..11).find(|&r| r != FP as usize && regs[r] == value);
        if let (false, Some(start), Some(len)) = (
            measured,
            held(Sym::Named(ENTRY_R1, 0)),
            held(Sym::Named(ENTRY_R2, 0)),
        ) {
            measured = true;
            let entry = std::array::from_fn(|r| match regs[r] {
                Sym::Named(ENTRY_R1, off) => Val::ptr(From::Address, START, off, 0),
                Sym::Named(ENTRY_R2, off) => Val::ptr(From::Offset, END, off, 0),
                Sym::Const(c) => Val::Scalar(c),
                Sym::Named(..) => Val::Unknown,
            });
            found.push(Anchor {
                at,
                start: start as u8,
                end: len as u8,
                measure: Measure::Length,
                entry,
            });
        }
    };
    let mut pc = 0;
    while pc < ops.len() && (pc == 0 || !targets[pc]) && found.len() < MAX_ANCHORS {
        let op = &ops[pc];
        let (d, s) = (op.dst as usize, op.src as usize);
        let class = classes[op.opcode as usize];
        match class {
            Class::Jump | Class::Ja | Class::CallLocal | Class::EndsFlow => break,
            Class::LoadImm64 => {
                // (No window is checked after an `lddw`: its second slot is not an
                // instruction the analysis could start at.)
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
                        _ if r == d => Val::ptr(From::Address, END, 0, 0),
                        Sym::Named(id, off) if id == origin => {
                            Val::ptr(From::Address, START, off - origin_off, 0)
                        }
                        Sym::Const(c) => Val::Scalar(c),
                        Sym::Named(..) => Val::Unknown,
                    });
                    found.push(Anchor {
                        at: pc,
                        start: start as u8,
                        end: op.dst,
                        measure: Measure::End,
                        entry,
                    });
                }
            }
            Kind::Load { size, .. } if s == FP as usize => {
                regs[d] = match spill(op.off) {
                    Some(k) if size.bytes() == 8 => regs[k],
                    _ => fresh(),
                }
            }
            kind => {
                if let Kind::Store { .. } | Kind::Atomic { .. } = kind {
                    spill_store(&mut regs, op, kind, false, &mut fresh);
                }
                match class {
                    Class::Load(_) | Class::WritesDst => regs[d] = fresh(),
                    Class::WritesSrc => regs[s] = fresh(),
                    Class::WritesR0 => regs[0] = fresh(),
                    _ => {}
                }
            }
        }
        if found.len() < MAX_ANCHORS {
            length_anchor(&regs, pc, &mut found);
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
    // A window measured by its length: numbers copied are named, as offsets (see `step`).
    let offsets = entry.iter().any(|v| {
        matches!(
            v,
            Val::Ptr {
                from: From::Offset,
                ..
            }
        )
    });
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
            let jump = step(&mut state, pc, op, class, offsets);
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
    if inside(state[base as usize], op.off, bytes) {
        found.proven.push(pc);
        found.write |= write;
    } else {
        found.unproven += 1;
    }
}

/// Whether the `bytes` bytes at `value + k` are inside the window.
fn inside(value: Val, k: i32, bytes: u8) -> bool {
    let k = i64::from(k);
    matches!(value, Val::Ptr {
        from: From::Address,
        off,
        room,
        ..
    } if i64::from(off) + k >= 0 && i64::from(off) + k + i64::from(bytes) <= i64::from(room))
}

/// Follows slot `pc` in `state` (what falls through); returns the jump's target and what
/// holds when it is taken (`None`: what falls through), if it jumps. With `offsets` (a window
/// measured by its length), a copy of a small number names it as an offset, in both
/// registers: a later compare of either with the length then teaches about both, as the
/// kernel's verifier links copied scalars.
fn step(
    state: &mut State,
    pc: usize,
    op: &Op,
    class: Class,
    offsets: bool,
) -> Option<(usize, Option<State>)> {
    let (d, s) = (op.dst as usize, op.src as usize);
    let kind = op.opcode.spec().kind;
    if let Kind::Store { .. } | Kind::Atomic { .. } = kind {
        store(state, op, kind);
    }
    match kind {
        Kind::Alu {
            op: AluOp::Mov,
            width: Width::W64,
            src: Source::Reg,
        } if offsets
            && matches!(state[s], Val::Scalar(m) if m <= MAX_ROOM as u64)
            && s != FP as usize =>
        {
            // `V <= m`, so `V + -m <= 0 <= E - S`.
            let named = Val::ptr(From::Offset, slot_id(pc), 0, -(state[s].max() as i64));
            define(state, pc, s, named);
            state[d] = named;
        }
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
                8 if s == FP as usize => spill(op.off).map_or(Val::Unknown, |k| state[k]),
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

/// Follows a store or atomic (`kind`) in the spill slots: a spill of a register keeps what is
/// known of it; anything else written over a spill slot forgets it, and a store or atomic
/// through another register than `r10` may write any of them, unless it is a store proven
/// inside the window (which is never in a stack frame: see [`Window::fits`]).
fn store(state: &mut State, op: &Op, kind: Kind) {
    let proven = |bytes| inside(state[op.dst as usize], op.off, bytes);
    let proven = matches!(kind, Kind::Store { .. }) && proven(store_bytes(kind));
    spill_store(state, op, kind, proven, || Val::Unknown);
}

/// The bytes a store or atomic writes (an atomic's taken as 8, which covers both sizes).
fn store_bytes(kind: Kind) -> u8 {
    match kind {
        Kind::Store { size, .. } => size.bytes() as u8,
        _ => 8,
    }
}

/// What a store or atomic (`kind`) does to the spill slots of `tracked` (the registers, then
/// the spill slots: see [`TRACKED`]), as the analysis and [`anchors`]' walk both follow it: a
/// spill of a register copies what is known of the register; anything else written over a
/// spill slot makes it `forgotten()`, and so does a store or atomic through another register
/// than `r10` to every spill slot, unless it is `proven` inside the window.
fn spill_store<V: Copy>(
    tracked: &mut [V; TRACKED],
    op: &Op,
    kind: Kind,
    proven: bool,
    mut forgotten: impl FnMut() -> V,
) {
    if op.dst != FP {
        if !proven {
            tracked[11..].fill_with(forgotten);
        }
        return;
    }
    let bytes = store_bytes(kind);
    for k in spills_overlapped(op.off, bytes) {
        tracked[k] = forgotten();
    }
    if let (
        Kind::Store {
            src: Source::Reg, ..
        },
        8,
        Some(k),
    ) = (kind, bytes, spill(op.off))
    {
        tracked[k] = tracked[op.src as usize];
    }
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

/// The window's start (`S + a`) plus an offset in it (`V + o`), either way round: the address
/// `S + V + (a + o)`, which has the offset's name and room (see [`From`]).
fn start_plus_offset(x: Val, y: Val) -> Option<Val> {
    let (start, offset) = match (x, y) {
        (Val::Ptr { id: START, .. }, Val::Ptr { .. }) => (x, y),
        _ => (y, x),
    };
    match (start, offset) {
        (
            Val::Ptr {
                from: From::Address,
                id: START,
                off: a,
                ..
            },
            Val::Ptr {
                from: From::Offset,
                id,
                off: o,
                room,
            },
        ) => Some(Val::ptr(
            From::Address,
            id,
            i64::from(a) + i64::from(o),
            room.into(),
        )),
        _ => None,
    }
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
            // The low half of a number at most `max` is at most `max` and `u32::MAX`; masking
            // `max` instead would make 2^32 a bound of 0 for `0xffffffff`.
            (AluOp::Rsh, Operand::Imm(k)) => dst.max().min(u64::from(u32::MAX)) >> (k & 31),
            _ => u64::MAX,
        };
        return Val::Scalar(max.min(u64::from(u32::MAX)));
    }
    match (op, dst, src, src_val) {
        (AluOp::Mov, ..) => src_val,
        (
            AluOp::Add | AluOp::Sub,
            Val::Ptr {
                from,
                id,
                off,
                room,
            },
            Operand::Imm(imm),
            _,
        ) => {
            let imm = if op == AluOp::Sub { -imm } else { imm };
            Val::ptr(from, id, i64::from(off) + imm, room.into())
        }
        (
            AluOp::Add,
            Val::Ptr {
                from, off, room, ..
            },
            Operand::Reg(_),
            Val::Scalar(m),
        )
        | (
            AluOp::Add,
            Val::Scalar(m),
            Operand::Reg(_),
            Val::Ptr {
                from, off, room, ..
            },
        ) => {
            // `V + off + x` with `x <= m`: a value of its own, at least `V` when `off >= 0`,
            // and at most `E - room + off + m`.
            if off >= 0 && m <= MAX_INDEX {
                let room = i64::from(room) - i64::from(off) - m as i64;
                Val::ptr(from, slot_id(pc), 0, room)
            } else {
                Val::Unknown
            }
        }
        (AluOp::Add, Val::Ptr { .. }, Operand::Reg(_), Val::Ptr { .. }) => {
            start_plus_offset(dst, src_val).unwrap_or(Val::Unknown)
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
            from,
            id,
            off: off_a,
            room: room_a,
        },
        Val::Ptr {
            from: from_b,
            off: off_b,
            room: room_b,
            ..
        },
    ) = (state[a as usize], state[b as usize])
    else {
        return;
    };
    // Both addresses, or both offsets; an offset below its named value may have wrapped
    // around (an address cannot: it is at least `S`, far above any displacement).
    if from != from_b || (from == From::Offset && (off_a < 0 || off_b < 0)) {
        return;
    }
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
        // A number at most `m` is an offset too (`V + 0`, `V + -m <= 0 <= E - S`).
        (
            Val::Scalar(m),
            offset @ Val::Ptr {
                from: From::Offset, ..
            },
        )
        | (
            offset @ Val::Ptr {
                from: From::Offset, ..
            },
            Val::Scalar(m),
        ) => {
            let scalar = Val::ptr(
                From::Offset,
                merge_id(label, r),
                0,
                -(m.min(1 << 62) as i64),
            );
            match scalar {
                Val::Ptr { .. } => merge(scalar, offset, label, r),
                _ => Val::Unknown,
            }
        }
        (
            Val::Ptr {
                from: fa,
                id: ia,
                off: oa,
                room: ra,
            },
            Val::Ptr {
                from: fb,
                id: ib,
                off: ob,
                room: rb,
            },
        ) if fa == fb => {
            if ia == ib && oa == ob && !merged_at(ia, label) {
                Val::ptr(fa, ia, oa.into(), ra.min(rb).into())
            } else if oa >= 0 && ob >= 0 {
                // Either way the value is at least `S` (0, for offsets), and it is
                // `E - room` or below.
                let room = (i64::from(ra) - i64::from(oa)).min(i64::from(rb) - i64::from(ob));
                Val::ptr(fa, merge_id(label, r), 0, room)
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

    /// The benches' parser written for the kernel's verifier keeps offsets, compares them
    /// with the batch's length (spilled to the stack and reloaded each round), and makes an
    /// address only to read: every read is proven, in a window from `r1` measured by `r2`,
    /// checked right after the length is spilled.
    #[test]
    fn the_bounded_packet_parser_reads_only_what_it_checked() {
        let source = include_str!("../../../benches/programs/bounded/packet.s");
        let w = window(source).expect("a window");
        assert_eq!(
            (w.at, w.start, w.end, w.measure, w.write),
            (0, 1, 2, Measure::Length, false)
        );
        assert_eq!(w.proven, accesses(source));
    }

    /// The slots the analysis proves in `source` with the window `r1` and `r2` measure.
    fn proven_by_length(source: &str) -> Vec<usize> {
        let program = program(source);
        let (ops, classes) = (program.ops(), Class::table());
        let anchor = anchors(ops, classes)
            .into_iter()
            .find(|a| a.measure == Measure::Length)
            .expect("a window measured by its length");
        analyse(ops, classes, anchor.at + 1, anchor.entry).map_or(vec![], |a| a.proven)
    }

    /// An offset checked against the length (here spilled and reloaded), then `read` at the
    /// slot after `check` through `r4 = r1 + r3`.
    fn measured(check: &str, read: &str) -> String {
        format!(
            "*(u64 *)(r10 - 8) = r2\nr3 = 0\nr7 = *(u64 *)(r10 - 8)\n{check}\n\
             r4 = r1\nr4 += r3\n{read}\nr0 += 1\nout:\nexit"
        )
    }

    #[test]
    fn offsets_checked_against_the_length_prove_their_reads() {
        for (check, read) in [
            (
                "r5 = r3\nr5 += 14\nif r5 > r7 goto out",
                "r0 = *(u16 *)(r4 + 12)",
            ),
            (
                "r5 = r3\nr5 += 14\nif r7 < r5 goto out",
                "r0 = *(u16 *)(r4 + 12)",
            ),
            // A copy compared, a strict compare, a store.
            (
                "r5 = r3\nr5 += 14\nif r5 >= r7 goto out",
                "r0 = *(u8 *)(r4 + 14)",
            ),
            (
                "r5 = r3\nr5 += 8\nif r5 > r7 goto out",
                "*(u64 *)(r4 + 0) = r2",
            ),
            // Moved by a bounded amount, then checked again.
            (
                "r5 = r3\nr5 += 1\nif r5 > r7 goto out\nr6 = *(u8 *)(r1 + 0)\nr6 &= 7\n\
                 r3 += r6\nr5 = r3\nr5 += 4\nif r5 > r7 goto out",
                "r0 = *(u32 *)(r4 + 0)",
            ),
        ] {
            let source = measured(check, read);
            let read_at = *accesses(&source).last().unwrap();
            assert!(proven_by_length(&source).contains(&read_at), "{source}");
        }
        // Checked after the slot that follows an `lddw`, never after an `lddw` itself.
        let source = format!(
            "r9 = 7 ll\n{}",
            measured(
                "r5 = r3\nr5 += 2\nif r5 > r7 goto out",
                "r0 = *(u16 *)(r4 + 0)"
            )
        );
        let w = window(&source).expect("a window");
        assert_eq!((w.at, w.measure), (2, Measure::Length));
        assert_eq!(w.proven, accesses(&source));
    }

    #[test]
    fn offsets_prove_nothing_the_length_does_not_cover() {
        for (check, read) in [
            // Past the room, before the start.
            (
                "r5 = r3\nr5 += 13\nif r5 > r7 goto out",
                "r0 = *(u16 *)(r4 + 12)",
            ),
            (
                "r5 = r3\nr5 += 14\nif r5 > r7 goto out",
                "r0 = *(u8 *)(r4 - 1)",
            ),
            // From below the offset (`r3 - 1` wraps around when `r3` is 0), or below the
            // length (`len - 1` wraps around when it is 0: `r3 <= len - 1` always holds).
            (
                "r5 = r3\nr5 += -1\nif r5 > r7 goto out",
                "r0 = *(u8 *)(r4 + 0)",
            ),
            (
                "r6 = r3\nr5 = r7\nr5 += -1\nif r3 > r5 goto out",
                "r0 = *(u8 *)(r4 + 0)",
            ),
            // Signed, 32-bit, the wrong way round, against something else.
            (
                "r5 = r3\nr5 += 14\nif r5 s> r7 goto out",
                "r0 = *(u8 *)(r4 + 0)",
            ),
            (
                "r5 = r3\nr5 += 14\nif w5 > w7 goto out",
                "r0 = *(u8 *)(r4 + 0)",
            ),
            (
                "r5 = r3\nr5 += 14\nif r5 < r7 goto out",
                "r0 = *(u8 *)(r4 + 0)",
            ),
            (
                "r5 = r3\nr5 += 14\nif r5 > r8 goto out",
                "r0 = *(u8 *)(r4 + 0)",
            ),
            // The spilled length overwritten through a copy of `r10`, in part, or by a store
            // that may reach the stack, before it is reloaded.
            (
                "r9 = r10\n*(u64 *)(r9 - 8) = 99999\nr7 = *(u64 *)(r10 - 8)\n\
                 r5 = r3\nr5 += 14\nif r5 > r7 goto out",
                "r0 = *(u8 *)(r4 + 0)",
            ),
            (
                "*(u32 *)(r10 - 4) = 1\nr7 = *(u64 *)(r10 - 8)\n\
                 r5 = r3\nr5 += 14\nif r5 > r7 goto out",
                "r0 = *(u8 *)(r4 + 0)",
            ),
            (
                "*(u64 *)(r6 + 0) = r1\nr7 = *(u64 *)(r10 - 8)\n\
                 r5 = r3\nr5 += 14\nif r5 > r7 goto out",
                "r0 = *(u8 *)(r4 + 0)",
            ),
            // An offset is not an address, nor is another pointer plus an offset.
            (
                "r5 = r3\nr5 += 14\nif r5 > r7 goto out",
                "r0 = *(u8 *)(r3 + 0)",
            ),
            (
                "r5 = r3\nr5 += 14\nif r5 > r7 goto out\nr9 = r6\nr9 += r3",
                "r0 = *(u8 *)(r9 + 0)",
            ),
            (
                "r8 = *(u8 *)(r10 - 16)\nr8 &= 7\nr9 = r1\nr9 += r8\n\
                 r5 = r3\nr5 += 14\nif r5 > r7 goto out\nr9 += r3",
                "r0 = *(u8 *)(r9 + 13)",
            ),
        ] {
            let source = measured(check, read);
            let read_at = *accesses(&source).last().unwrap();
            assert!(!proven_by_length(&source).contains(&read_at), "{source}");
        }
    }

    /// The slots the analysis proves in `source`, if it has a window.
    fn proven(source: &str) -> Option<Vec<usize>> {
        let program = program(source);
        let (ops, classes) = (program.ops(), Class::table());
        let anchor = anchors(ops, classes).into_iter().next()?;
        analyse(ops, classes, anchor.at + 1, anchor.entry).map(|a| a.proven)
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

    /// A 32-bit shift bounds the low half of its register, which is not the low half of the
    /// register's bound: `x <= 2^32` may be `0xffffffff`, so `w8 >>= 0` leaves it unbounded
    /// below 2^32, and a move by it undoes the proof.
    #[test]
    fn a_shift_of_the_low_half_keeps_its_whole_bound() {
        let moved = checked(
            "r3 += 8\nif r3 > r7 goto out\nr8 = *(u32 *)(r6 + 0)\nr8 += 1\nw8 >>= 0\nr6 += r8",
            "r0 = *(u8 *)(r6 + 0)",
        );
        let read_at = *accesses(&moved).last().unwrap();
        assert!(!proven(&moved).unwrap().contains(&read_at), "{moved}");
        // Below 2^32 the shift does bound it.
        let bounded = checked(
            "r3 += 8\nif r3 > r7 goto out\nr8 = *(u16 *)(r6 + 0)\nw8 >>= 12\nr6 += r8\n\
             r5 = r6\nr5 += 1\nif r5 > r7 goto out",
            "r0 = *(u8 *)(r6 + 0)",
        );
        let read_at = *accesses(&bounded).last().unwrap();
        assert!(proven(&bounded).unwrap().contains(&read_at), "{bounded}");
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
