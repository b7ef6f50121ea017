//! Shrinking a program that shows a difference: delete instructions while the difference stays.

use bpfkit_isa::{AluOp, AtomicOp, Insn, Kind, Reg, Source};

/// `insns` without instruction `index`, every jump and call still reaching the instruction it
/// reached (or, if that was the deleted one, the one after it).
pub fn delete(insns: &[Insn], index: usize) -> Vec<Insn> {
    let start: Vec<usize> = insns
        .iter()
        .scan(0, |slot, insn| {
            let at = *slot;
            *slot += insn.slots();
            Some(at)
        })
        .collect();
    let (gone, width) = (start[index], insns[index].slots());
    let moved = |slot: usize| if slot > gone { slot - width } else { slot };
    let mut out = Vec::with_capacity(insns.len() - 1);
    for (i, insn) in insns.iter().enumerate() {
        if i == index {
            continue;
        }
        let mut insn = *insn;
        let from = start[i] as i64 + 1;
        let retarget = |distance: i64| {
            let target = (from + distance) as usize;
            moved(target) as i64 - (moved(start[i]) as i64 + 1)
        };
        match insn.kind() {
            Kind::Jump { .. } | Kind::Ja => insn.off = retarget(insn.off as i64) as i16,
            Kind::Ja32 => insn.imm = retarget(insn.imm as i64) as i32,
            Kind::Call {
                target: bpfkit_isa::CallTarget::Local,
            } => insn.imm = retarget(insn.imm as i64) as i32,
            _ => {}
        }
        out.push(insn);
    }
    out
}

/// The smallest program found by deleting single instructions from `insns` for which
/// `still_differs` holds (it must hold for `insns`).
pub fn shrink(insns: &[Insn], mut still_differs: impl FnMut(&[Insn]) -> bool) -> Vec<Insn> {
    let mut best = insns.to_vec();
    loop {
        let mut changed = false;
        let mut i = best.len();
        while i > 0 {
            i -= 1;
            if i >= best.len() {
                continue;
            }
            let candidate = delete(&best, i);
            if still_differs(&candidate) {
                best = candidate;
                changed = true;
            }
        }
        if !changed {
            return best;
        }
    }
}

/// Whether `insns` (a body and the subprograms it calls) keeps the two rules that make the
/// kernel's result well defined, which the kernel, for a privileged loader, does not enforce:
///
/// - every stack byte read was written before, on every path (root may read uninitialised
///   stack, and gets whatever the kernel stack held);
/// - the input pointer the body gets in `r1` is only used as the base of loads (root may
///   compute with pointers, store them and return them, leaking kernel addresses).
///
/// The generator keeps both by construction; shrinking can break them. Jumps must go forward.
pub fn well_defined(insns: &[Insn]) -> bool {
    let mut slot_of = Vec::with_capacity(insns.len());
    let mut index_at = std::collections::HashMap::new();
    let mut slot = 0usize;
    for (i, insn) in insns.iter().enumerate() {
        slot_of.push(slot);
        index_at.insert(slot, i);
        slot += insn.slots();
    }
    let target = |i: usize, distance: i64| -> Option<usize> {
        let t = slot_of[i] as i64 + 1 + distance;
        (t > slot_of[i] as i64)
            .then(|| index_at.get(&(t as usize)).copied())
            .flatten()
    };
    // Function entries: the body, and every call target.
    let mut entries = vec![0];
    for (i, insn) in insns.iter().enumerate() {
        if insn.opcode == bpfkit_isa::Opcode::CallLocal {
            match target(i, insn.imm as i64) {
                Some(t) => entries.push(t),
                None => return false,
            }
        }
    }
    // Flow states in instruction order; every edge goes forward, so one pass suffices.
    let mut states: Vec<Option<Flow>> = vec![None; insns.len()];
    for &entry in &entries {
        let fresh = Flow {
            pointers: if entry == 0 { 1 << 1 } else { 0 },
            stack: [0; 8],
        };
        states[entry] = Some(fresh);
    }
    for (i, insn) in insns.iter().enumerate() {
        let Some(mut flow) = states[i] else {
            continue;
        };
        if !flow.step(insn) {
            return false;
        }
        let mut successors = Vec::new();
        match insn.kind() {
            Kind::Exit => {}
            Kind::Ja => successors.push(target(i, insn.off as i64)),
            Kind::Ja32 => successors.push(target(i, insn.imm as i64)),
            Kind::Jump { .. } => {
                successors.push(target(i, insn.off as i64));
                successors.push(Some(i + 1));
            }
            _ => successors.push(Some(i + 1)),
        }
        for next in successors {
            let Some(next) = next.filter(|&n| n < insns.len()) else {
                return false;
            };
            if entries.contains(&next) {
                return false; // falls or jumps into another function
            }
            states[next] = Some(match states[next] {
                Some(other) => other.meet(&flow),
                None => flow,
            });
        }
    }
    true
}

/// What [`well_defined`] tracks along a path.
#[derive(Clone, Copy)]
struct Flow {
    /// Registers that may hold the input pointer.
    pointers: u16,
    /// Stack bytes written on every path (bit `i`: `r10 - 512 + i`).
    stack: [u64; 8],
}

impl Flow {
    fn meet(&self, other: &Flow) -> Flow {
        let mut stack = self.stack;
        for (a, b) in stack.iter_mut().zip(other.stack) {
            *a &= b;
        }
        Flow {
            pointers: self.pointers | other.pointers,
            stack,
        }
    }

    fn bytes(off: i16, size: usize) -> Option<std::ops::Range<usize>> {
        let start = 512 + off as i64;
        (start >= 0 && start as usize + size <= 512).then(|| start as usize..start as usize + size)
    }

    fn written(&self, off: i16, size: usize) -> bool {
        Flow::bytes(off, size).is_some_and(|r| {
            r.into_iter()
                .all(|b| self.stack[b / 64] >> (b % 64) & 1 == 1)
        })
    }

    fn write(&mut self, off: i16, size: usize) {
        if let Some(r) = Flow::bytes(off, size) {
            for b in r {
                self.stack[b / 64] |= 1 << (b % 64);
            }
        }
    }

    fn is_pointer(&self, r: Reg) -> bool {
        self.pointers >> r.index() & 1 == 1
    }

    fn scalar(&mut self, r: Reg) {
        self.pointers &= !(1 << r.index());
    }

    /// Applies `insn`; `false` if it breaks a rule.
    fn step(&mut self, insn: &Insn) -> bool {
        let value = |flow: &Flow, r: Reg| !flow.is_pointer(r) && r != Reg::R10;
        match insn.kind() {
            Kind::Alu { op, src, .. } => {
                let reads_dst = !matches!(op, AluOp::Mov | AluOp::MovSx(_));
                if (reads_dst && !value(self, insn.dst))
                    || (src == Source::Reg && !value(self, insn.src))
                {
                    return false;
                }
                self.scalar(insn.dst);
            }
            Kind::Endian { .. } => {
                if !value(self, insn.dst) {
                    return false;
                }
            }
            Kind::LoadImm64 { .. } => self.scalar(insn.dst),
            Kind::Load { size, .. } => {
                if insn.src == Reg::R10 && !self.written(insn.off, size.bytes()) {
                    return false;
                }
                self.scalar(insn.dst);
            }
            Kind::Store { size, src } => {
                if src == Source::Reg && !value(self, insn.src) {
                    return false;
                }
                if insn.dst == Reg::R10 {
                    self.write(insn.off, size.bytes());
                }
            }
            Kind::Atomic { op, size } => {
                if !value(self, insn.src)
                    || (op == AtomicOp::CmpXchg && !value(self, Reg::R0))
                    || (insn.dst == Reg::R10 && !self.written(insn.off, size.bytes()))
                {
                    return false;
                }
            }
            Kind::Jump { src, .. } => {
                if !value(self, insn.dst) || (src == Source::Reg && !value(self, insn.src)) {
                    return false;
                }
            }
            Kind::Call { .. } => {
                if (1..=5).any(|n| self.is_pointer(Reg::new(n).unwrap())) {
                    return false;
                }
                self.pointers = 0;
            }
            Kind::Exit => return value(self, Reg::R0),
            Kind::Ja | Kind::Ja32 => {}
            Kind::LoadPacket { .. } | Kind::CallX => return false,
        }
        true
    }
}
