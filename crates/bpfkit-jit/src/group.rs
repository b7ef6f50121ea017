//! One range check for a group of checked accesses through the same pointer.
//!
//! A guessed access (see [`crate::guess`]) still costs a compare and a branch of its own. In
//! straight code several accesses often go through one pointer that does not change between
//! them: the four loads and four stores of an unrolled copy, the fields of a packet header.
//! Such a group is checked once, at its first access, as one range from its lowest to its
//! highest byte ([`Lir::CheckRange`]); its accesses become [`Check::Proven`] and need no check
//! at all. When the range is not inside the guessed region (a wrong guess, a short packet, an
//! access that would fault) the code jumps to a copy of itself from that access on, placed
//! after the program, in which every access is checked on its own as before. The copy ends
//! with a jump back to where the original ends, so a fault still happens exactly where the
//! interpreter's does, with the same stores done before it.
//!
//! A group lives in straight code: no jump target after its first access (code reached from
//! elsewhere was not checked), no call or other instruction that leaves the program's flow,
//! and no write to the pointer's register after its first access (the last access may write
//! it: it reads its address first). Conditional jumps out of a group are fine: the check
//! covers accesses that may then not run, which can only send it to the copy more often.
//! Groups that overlap are copied together, as one run ([`Duplicate`]), so that whichever check
//! fails, the rest of the run is checked access by access.
//!
//! Groups are found before a program is lowered, from its instructions alone: within one,
//! the pointer does not change, so the region guessed for its first access (see
//! [`crate::guess`]) is every access's, and the driver marks the accesses while it lowers
//! them (see [`Prover`]). This module decides, the same for every backend, which accesses
//! form groups, and when groups are formed at all ([`formed`]).

use std::sync::OnceLock;

use bpfkit_isa::{AtomicOp, CallTarget, Kind, TABLE};
use bpfkit_vm::Op;

use crate::Mode;
use crate::lower::{Check, FP, Lir, Options, Range};

/// Whether programs compiled with `options` get groups: in checked mode, unless strict
/// alignment asks for each access's own address to be checked (see `lower::mem`).
pub fn formed(options: Options) -> bool {
    options.mode == Mode::Checked && !options.strict_alignment
}

/// At most this many slots from a group's first access to its last: a group's code is
/// emitted twice, so this bounds how much a program grows.
const MAX_SPAN: usize = 64;

/// A group of accesses checked as one range, by slot.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Group {
    /// The first access's slot, where the range is checked.
    pub first: usize,
    /// The last access's slot.
    pub last: usize,
    /// The pointer's register.
    pub base: u8,
    /// The range, relative to the pointer: `lo .. hi`.
    pub lo: i32,
    /// One past the range's last byte, relative to the pointer.
    pub hi: i32,
    /// Whether a store is among the accesses.
    pub write: bool,
    /// Number of accesses.
    accesses: u32,
}

impl Group {
    /// The range check placed before the group's first access, against `region`.
    pub fn check<L>(&self, region: u32, fallback: L) -> Lir<L> {
        let range = Range {
            base: self.base,
            off: self.lo,
            len: (self.hi - self.lo) as u32,
            region,
            write: self.write,
        };
        Lir::CheckRange { range, fallback }
    }
}

/// A run of slots emitted a second time, after the program, with every access checked on its
/// own: `first ..= last`, the union of overlapping groups, entered at the first access of any
/// of them when its range check fails.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Duplicate {
    /// First slot.
    pub first: usize,
    /// Last slot.
    pub last: usize,
}

/// Finds the groups of a program (see the module's documentation), fed its slots in order
/// by the driver's first pass over it, the one that makes the labels of jump targets: one
/// match per slot and a test of a mask, since it runs on every compile. A slot is a jump
/// target when a jump before it was seen ([`Planner::slot`]'s `labelled`) or when a later one
/// jumps back to it ([`Planner::back_edge`]), which drops the groups across it.
pub struct Planner<'a> {
    /// By pointer register, its open group.
    open: [Option<Group>; 11],
    /// The registers with an open group.
    mask: u16,
    /// Whether the next slot is the second half of an `lddw`.
    filler: bool,
    /// The groups with more than one access, closed.
    done: &'a mut Vec<Group>,
    /// Where this program's groups start in `done`.
    start: usize,
}

/// What the driver's first pass (labels and groups) needs to know of an opcode, from a table
/// ([`Class::table`]): a match on the instruction table row's [`Kind`] per slot cost a tenth
/// of a compile.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Class {
    /// A load of this many bytes into `dst`, through `src`.
    Load(u8),
    /// A store of this many bytes through `dst`.
    Store(u8),
    /// `lddw` into `dst`: the next slot is its second half.
    LoadImm64,
    /// Writes `dst` (ALU, byte swaps).
    WritesDst,
    /// A fetching atomic: writes `src`.
    WritesSrc,
    /// `cmpxchg`: writes `r0`.
    WritesR0,
    /// A non-fetching atomic: writes no register.
    Other,
    /// A conditional jump (to the slot in its `off`).
    Jump,
    /// `ja` or `gotol` (to the slot in its `off`): control leaves the straight flow.
    Ja,
    /// A bpf-to-bpf call (to the slot in its `off`): control leaves the straight flow.
    CallLocal,
    /// Control leaves the straight flow here (helper and kfunc calls, `callx`, `exit`, legacy
    /// packet loads): a group cannot span it.
    EndsFlow,
}

impl Class {
    fn of(kind: Kind) -> Class {
        match kind {
            Kind::Load { size, .. } => Class::Load(size.bytes() as u8),
            Kind::Store { size, .. } => Class::Store(size.bytes() as u8),
            Kind::LoadImm64 { .. } => Class::LoadImm64,
            Kind::Alu { .. } | Kind::Endian { .. } => Class::WritesDst,
            Kind::Atomic { op, .. } => match op {
                AtomicOp::CmpXchg => Class::WritesR0,
                AtomicOp::Add | AtomicOp::Or | AtomicOp::And | AtomicOp::Xor => Class::Other,
                _ => Class::WritesSrc,
            },
            Kind::Jump { .. } => Class::Jump,
            Kind::Ja | Kind::Ja32 => Class::Ja,
            Kind::Call {
                target: CallTarget::Local,
            } => Class::CallLocal,
            _ => Class::EndsFlow,
        }
    }

    /// The register a slot of this class writes (`op` its pre-decoded instruction), if any; as
    /// [`Planner`] reads it. (Calls are not counted: what they clobber is each user's rule.)
    pub fn written(self, op: &Op) -> Option<u8> {
        match self {
            Class::Load(_) | Class::LoadImm64 | Class::WritesDst => Some(op.dst),
            Class::WritesSrc => Some(op.src),
            Class::WritesR0 => Some(0),
            _ => None,
        }
    }

    /// Whether the opcode jumps or calls to the slot in its `off` (as [`crate::lower::is_branch`]).
    pub fn branches(self) -> bool {
        matches!(self, Class::Jump | Class::Ja | Class::CallLocal)
    }

    /// The class of every opcode, by `Opcode as usize`.
    pub fn table() -> &'static [Class] {
        static CLASSES: OnceLock<Vec<Class>> = OnceLock::new();
        CLASSES.get_or_init(|| TABLE.iter().map(|spec| Class::of(spec.kind)).collect())
    }
}

impl<'a> Planner<'a> {
    /// A planner appending to `groups`.
    pub fn new(groups: &'a mut Vec<Group>) -> Planner<'a> {
        let start = groups.len();
        Planner {
            open: [None; 11],
            mask: 0,
            filler: false,
            done: groups,
            start,
        }
    }

    /// Plans slot `pc`, whose pre-decoded instruction is `op`, of class `class`; `labelled` when
    /// a jump before it jumps to it.
    #[inline(always)]
    pub fn slot(&mut self, pc: usize, op: &Op, class: Class, labelled: bool) {
        if self.filler {
            self.filler = false;
            return;
        }
        if self.mask != 0 && labelled {
            self.close_all();
        }
        let written = match class {
            // `r10` is left alone: a backend computes its virtual value rather than holding it.
            Class::Load(bytes) => {
                if op.src != FP {
                    self.join(pc, op.src, op.off, bytes, false);
                }
                Some(op.dst)
            }
            Class::Store(bytes) => {
                if op.dst != FP {
                    self.join(pc, op.dst, op.off, bytes, true);
                }
                None
            }
            Class::LoadImm64 => {
                self.filler = true;
                Some(op.dst)
            }
            Class::WritesDst => Some(op.dst),
            Class::WritesSrc => Some(op.src),
            Class::WritesR0 => Some(0),
            Class::Other | Class::Jump => None,
            Class::Ja | Class::CallLocal | Class::EndsFlow => {
                self.close_all();
                None
            }
        };
        if let Some(r) = written
            && self.mask & (1 << r) != 0
        {
            self.close(r as usize);
        }
    }

    /// A jump back to slot `target`: no group may have an access after it and one before.
    pub fn back_edge(&mut self, target: usize) {
        let across = |g: &Group| g.first < target && target <= g.last;
        for r in 0..self.open.len() {
            if self.open[r].as_ref().is_some_and(|g| g.first < target) {
                self.open[r] = None;
                self.mask &= !(1 << r);
            }
        }
        // Only this program's groups: those before `start` are other programs'.
        let start = self.start;
        if self.done[start..].iter().any(across) {
            let mut i = 0;
            self.done.retain(|g| {
                i += 1;
                i <= start || !across(g)
            });
        }
    }

    /// Closes the last groups and orders them by first access.
    pub fn finish(mut self) {
        self.close_all();
        self.done[self.start..].sort_unstable_by_key(|g| g.first);
    }

    fn close(&mut self, r: usize) {
        self.mask &= !(1 << r);
        if let Some(g) = self.open[r].take()
            && g.accesses > 1
        {
            self.done.push(g);
        }
    }

    fn close_all(&mut self) {
        while self.mask != 0 {
            self.close(self.mask.trailing_zeros() as usize);
        }
    }

    /// Adds the access of `bytes` bytes at `base + off`, slot `pc` (a store when `write`), to
    /// its pointer's open group, or opens one. (Atomics never join: their check is a read and
    /// a write.)
    #[inline]
    fn join(&mut self, pc: usize, base: u8, off: i32, bytes: u8, write: bool) {
        let (lo, hi) = (off, off + i32::from(bytes));
        let b = base as usize;
        match &mut self.open[b] {
            Some(g) if pc - g.first < MAX_SPAN => {
                g.last = pc;
                g.lo = g.lo.min(lo);
                g.hi = g.hi.max(hi);
                g.write |= write;
                g.accesses += 1;
            }
            _ => {
                self.close(b);
                self.open[b] = Some(Group {
                    first: pc,
                    last: pc,
                    base,
                    lo,
                    hi,
                    write,
                    accesses: 1,
                });
                self.mask |= 1 << b;
            }
        }
    }
}

/// Appends the duplicates of `groups` (ordered by first access) to `duplicates`: overlapping
/// groups share one.
pub fn duplicates(groups: &[Group], duplicates: &mut Vec<Duplicate>) {
    for g in groups {
        match duplicates.last_mut() {
            Some(d) if g.first <= d.last => d.last = d.last.max(g.last),
            _ => duplicates.push(Duplicate {
                first: g.first,
                last: g.last,
            }),
        }
    }
}

/// Marks the accesses of the groups whose range was checked as [`Check::Proven`], while the
/// driver lowers a program slot by slot.
#[derive(Default)]
pub struct Prover {
    /// By pointer register: the last slot of its checked group, and the group's region.
    active: [Option<(usize, u32)>; 11],
}

impl Prover {
    /// Makes the rest of `group`, whose range was checked against `region`, proven.
    pub fn checked(&mut self, group: &Group, region: u32) {
        self.active[group.base as usize] = Some((group.last, region));
    }

    /// Makes `lir`, at slot `pc`, proven if it is an access of a checked group.
    pub fn prove<L>(&self, pc: usize, lir: &mut Lir<L>) {
        if let Lir::Load { mem, .. } | Lir::Store { mem, .. } = lir
            && let Check::Region {
                guess: Some(region),
            } = mem.check
            && let Some(Some((last, proven))) = self.active.get(mem.base as usize)
            && pc <= *last
            && region == *proven
        {
            mem.check = Check::Proven { region };
        }
    }
}

/// The guessed region of `lir`'s access, if it has one.
pub fn guess_of<L>(lir: &Lir<L>) -> Option<u32> {
    match lir {
        Lir::Load { mem, .. } | Lir::Store { mem, .. } => match mem.check {
            Check::Region { guess } => guess,
            _ => None,
        },
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lower::is_branch;
    use bpfkit_asm::assemble;
    use bpfkit_isa::Dialect;
    use bpfkit_vm::Program;

    /// The groups of `source`, planned as the driver plans them, where slots in `labelled`
    /// are also jumped to (from before them).
    fn planned(source: &str, labelled: &[usize]) -> Vec<Group> {
        let insns = assemble(source, Dialect::Llvm).unwrap();
        let program = Program::new(&insns).unwrap();
        let mut groups = Vec::new();
        let mut targets = labelled.to_vec();
        let mut planner = Planner::new(&mut groups);
        let classes = Class::table();
        for (pc, op) in program.ops().iter().enumerate() {
            let labelled = targets.contains(&pc);
            let class = classes[op.opcode as usize];
            assert_eq!(class.branches(), is_branch(op));
            if class.branches() {
                let target = op.off as usize;
                targets.push(target);
                if target <= pc {
                    planner.back_edge(target);
                }
            }
            planner.slot(pc, op, class, labelled);
        }
        planner.finish();
        groups
    }

    fn spans(groups: &[Group]) -> Vec<(usize, usize, u8, i32, i32, bool)> {
        groups
            .iter()
            .map(|g| (g.first, g.last, g.base, g.lo, g.hi, g.write))
            .collect()
    }

    /// The driver plans every program into one list before it emits any: a back edge in a
    /// later program drops only that program's groups across it, never an earlier one's.
    #[test]
    fn a_back_edge_drops_only_its_own_programs_groups() {
        let first = planned("r0 = *(u8 *)(r1 + 0)\nr0 = *(u8 *)(r1 + 1)\nexit", &[]);
        assert_eq!(first.len(), 1);
        let insns = assemble(
            "r0 = *(u8 *)(r1 + 0)\nloop:\nr0 = *(u8 *)(r1 + 1)\nr1 = r0\nif r0 < r2 goto loop\nexit",
            Dialect::Llvm,
        )
        .unwrap();
        let program = Program::new(&insns).unwrap();
        let mut groups = first.clone();
        let mut planner = Planner::new(&mut groups);
        let classes = Class::table();
        for (pc, op) in program.ops().iter().enumerate() {
            let class = classes[op.opcode as usize];
            planner.slot(pc, op, class, false);
            if class.branches() && (op.off as usize) <= pc {
                planner.back_edge(op.off as usize);
            }
        }
        planner.finish();
        // The second program's group (slots 0-1 through r1, closed by the write of r1) spans
        // its loop's head: dropped.
        assert_eq!(groups, first);
    }

    #[test]
    fn an_unrolled_copy_forms_two_overlapping_groups() {
        let mut source = String::new();
        for off in [0, 8, 16, 24] {
            source += &format!("r6 = *(u64 *)(r3 + {off})\n*(u64 *)(r4 + {off}) = r6\n");
        }
        source += "r3 += 32\nr4 += 32\nexit";
        let groups = planned(&source, &[0]);
        assert_eq!(
            spans(&groups),
            [(0, 6, 3, 0, 32, false), (1, 7, 4, 0, 32, true)]
        );
        let mut runs = Vec::new();
        duplicates(&groups, &mut runs);
        assert_eq!(runs, [Duplicate { first: 0, last: 7 }]);
    }

    #[test]
    fn a_jump_target_a_write_or_a_call_ends_a_group() {
        let two = "r6 = *(u8 *)(r3 + 0)\nr7 = *(u8 *)(r3 + 4)\nexit";
        assert_eq!(planned(two, &[]).len(), 1);
        // Something jumps to the second access.
        assert!(planned(two, &[1]).is_empty());
        // The pointer changes in between; the last access may write it.
        assert!(
            planned(
                "r6 = *(u8 *)(r3 + 0)\nr3 += 1\nr7 = *(u8 *)(r3 + 4)\nexit",
                &[]
            )
            .is_empty()
        );
        assert_eq!(
            spans(&planned(
                "r6 = *(u8 *)(r3 + 0)\nr3 = *(u32 *)(r3 + 4)\nexit",
                &[]
            )),
            [(0, 1, 3, 0, 8, false)]
        );
        // A call, an unconditional jump, or `lddw` into the pointer.
        assert!(
            planned(
                "r6 = *(u8 *)(r6 + 0)\ncall 1\nr7 = *(u8 *)(r6 + 4)\nexit",
                &[]
            )
            .is_empty()
        );
        assert!(
            planned(
                "r6 = *(u8 *)(r3 + 0)\ngoto +0\nr7 = *(u8 *)(r3 + 4)\nexit",
                &[]
            )
            .is_empty()
        );
        assert!(
            planned(
                "r6 = *(u8 *)(r3 + 0)\nr3 = 1 ll\nr7 = *(u8 *)(r3 + 4)\nexit",
                &[]
            )
            .is_empty()
        );
        // A conditional jump out, or `lddw` into another register, does not.
        assert_eq!(
            spans(&planned(
                "*(u8 *)(r3 - 2) = 1\nif r6 == 0 goto +3\nr0 = 1 ll\nr7 = *(u8 *)(r3 + 4)\nexit",
                &[]
            )),
            [(0, 4, 3, -2, 5, true)]
        );
    }

    #[test]
    fn atomics_and_r10_stay_out() {
        assert!(
            planned(
                "r6 = *(u64 *)(r10 - 600)\nr7 = *(u64 *)(r10 - 700)\nexit",
                &[]
            )
            .is_empty()
        );
        let groups = planned(
            "r6 = *(u64 *)(r3 + 0)\nlock *(u32 *)(r3 + 12) += r6\n*(u16 *)(r3 - 2) = r6\nexit",
            &[],
        );
        assert_eq!(spans(&groups), [(0, 2, 3, -2, 8, true)]);
        // A fetching atomic writes its source register.
        assert!(planned(
            "r6 = *(u64 *)(r3 + 0)\nr3 = atomic_fetch_add((u64 *)(r2 + 0), r3)\nr7 = *(u8 *)(r3 + 4)\nexit",
            &[]
        )
        .is_empty());
    }

    #[test]
    fn no_group_spans_a_loop_head() {
        // The loop head (slot 1) is found at the jump back, while the group is still open, or
        // after it closed.
        let open = "r6 = *(u8 *)(r3 + 0)\nr7 = *(u8 *)(r3 + 1)\nr8 = *(u8 *)(r3 + 2)\n\
                    if r7 != 0 goto -3\nexit";
        let closed = "r6 = *(u8 *)(r3 + 0)\nr7 = *(u8 *)(r3 + 1)\nr3 = 5\n\
                      if r7 != 0 goto -3\nexit";
        for source in [open, closed] {
            let groups = planned(source, &[]);
            assert!(
                groups.iter().all(|g| !(g.first < 1 && 1 <= g.last)),
                "{groups:?}"
            );
        }
        // A loop whose head is the group's first access keeps it.
        let head = "r6 = *(u8 *)(r3 + 0)\nr7 = *(u8 *)(r3 + 1)\nif r7 != 0 goto -3\nexit";
        assert_eq!(spans(&planned(head, &[])), [(0, 1, 3, 0, 2, false)]);
    }

    #[test]
    fn a_group_spans_at_most_max_span_slots() {
        let far = |adds: usize| {
            format!(
                "r6 = *(u8 *)(r3 + 0)\n{}r7 = *(u8 *)(r3 + 8)\nexit",
                "r0 += 1\n".repeat(adds)
            )
        };
        assert!(planned(&far(MAX_SPAN - 1), &[]).is_empty());
        assert_eq!(planned(&far(MAX_SPAN - 2), &[]).len(), 1);
    }
}
