//! Which of `r6`-`r9` a bpf-to-bpf call saves: those its callee may write.
//!
//! A callee must leave the caller's `r6`-`r9` as they were (the interpreter keeps them in the
//! frame and restores them on `exit`), so a backend saves them around each call. Saving all
//! four is most of a call's cost (`calls` makes four per round, each pushing and popping four
//! registers), and compilers give a callee that needs no register across a call of its own
//! only `r0`-`r5`: it writes none of `r6`-`r9`, and nothing needs saving.
//!
//! What a callee may write is read from every slot reachable from its entry: jumps are followed
//! wherever they go (an unverified program may jump from one function into another), and the
//! writes of what it calls count as its own. A tail call, `callx` (which may be one) or a kfunc
//! call counts as writing all four: a tail call continues in another program, whose `exit`
//! returns to this callee's caller. A helper call writes none of them (the backends keep them
//! across it).

use bpfkit_isa::Opcode;
use bpfkit_vm::Op;

use crate::group::Class;

/// Every register of `r6`-`r9`: bit `k` is `r(6 + k)`.
pub const ALL: u8 = 0b1111;

/// The helper id of `bpf_tail_call`.
const TAIL_CALL: i64 = 12;

/// By callee entry slot, the registers of `r6`-`r9` a call to it saves (see the module's
/// documentation).
#[derive(Clone, Debug, Default)]
pub struct Saves {
    /// (entry, registers), sorted by entry.
    by_entry: Vec<(usize, u8)>,
}

impl Saves {
    /// The registers a call to slot `entry` saves: [`ALL`] for an entry not planned.
    pub fn of(&self, entry: usize) -> u8 {
        match self.by_entry.binary_search_by_key(&entry, |&(e, _)| e) {
            Ok(i) => self.by_entry[i].1,
            Err(_) => ALL,
        }
    }
}

/// What one callee's reachable slots write, before its callees' writes are added.
struct Reach {
    /// The registers its own slots write.
    writes: u8,
    /// The entries it calls.
    calls: Vec<usize>,
}

/// The registers each call target in `entries` (sorted, deduplicated) saves, for the program
/// with slots `ops`; `classes` is [`Class::table`]. The walks share one budget of a few times
/// the program's length (each callee's walk is bounded by the program, but a program of many
/// callees, each reaching most of it, would cost their product); past it, the remaining
/// callees save all four, which costs speed only.
pub fn plan(ops: &[Op], classes: &[Class], entries: &[usize]) -> Saves {
    let mut budget = 4 * ops.len() + 1024;
    let mut seen = vec![0u64; ops.len().div_ceil(64)];
    let mut stack = Vec::new();
    let mut reaches: Vec<Option<Reach>> = entries
        .iter()
        .map(|&entry| {
            seen.fill(0);
            reach(ops, classes, entry, &mut seen, &mut stack, &mut budget)
        })
        .collect();
    // A callee writes what it calls writes: iterate until nothing changes (each round adds a
    // bit, or ends).
    let mut writes: Vec<u8> = reaches
        .iter()
        .map(|r| r.as_ref().map_or(ALL, |r| r.writes))
        .collect();
    loop {
        let mut changed = false;
        for (i, r) in reaches.iter_mut().enumerate() {
            let Some(r) = r else { continue };
            let mut w = writes[i];
            for callee in &r.calls {
                w |= entries.binary_search(callee).map_or(ALL, |k| writes[k]);
            }
            if w != writes[i] {
                writes[i] = w;
                changed = true;
            }
        }
        if !changed {
            break;
        }
    }
    Saves {
        by_entry: entries.iter().copied().zip(writes).collect(),
    }
}

/// The registers of `r6`-`r9` that the slots reachable from `entry` write, and what they call;
/// `None` when one of them may continue where nothing can be seen (see the module's
/// documentation) or the walk runs out of `budget`.
fn reach(
    ops: &[Op],
    classes: &[Class],
    entry: usize,
    seen: &mut [u64],
    stack: &mut Vec<usize>,
    budget: &mut usize,
) -> Option<Reach> {
    let mut r = Reach {
        writes: 0,
        calls: Vec::new(),
    };
    stack.clear();
    stack.push(entry);
    while let Some(pc) = stack.pop() {
        let Some(op) = ops.get(pc) else { continue };
        if seen[pc / 64] & (1 << (pc % 64)) != 0 {
            continue;
        }
        seen[pc / 64] |= 1 << (pc % 64);
        *budget = budget.checked_sub(1)?;
        let class = classes[op.opcode as usize];
        if let Some(reg @ 6..=9) = class.written(op) {
            r.writes |= 1 << (reg - 6);
        }
        let next = pc + if class == Class::LoadImm64 { 2 } else { 1 };
        match class {
            Class::Jump => stack.extend([op.off as usize, next]),
            Class::Ja => stack.push(op.off as usize),
            Class::CallLocal => {
                r.calls.push(op.off as usize);
                stack.push(next);
            }
            Class::EndsFlow => match op.opcode {
                Opcode::Exit => {}
                Opcode::Call if op.imm != TAIL_CALL => stack.push(next),
                Opcode::Call | Opcode::CallX | Opcode::CallKfunc => return None,
                // The legacy packet loads: they write `r0`, or end the program.
                _ => stack.push(next),
            },
            _ => stack.push(next),
        }
    }
    Some(r)
}

#[cfg(test)]
mod tests {
    use super::*;
    use bpfkit_asm::assemble;
    use bpfkit_isa::Dialect;
    use bpfkit_vm::Program;

    /// The registers each call target of `source` saves, by target.
    fn saves(source: &str) -> Vec<(usize, u8)> {
        let insns = assemble(source, Dialect::Llvm).unwrap();
        let program = Program::new(&insns).unwrap();
        let ops = program.ops();
        let mut entries: Vec<usize> = ops
            .iter()
            .filter(|op| op.opcode == Opcode::CallLocal)
            .map(|op| op.off as usize)
            .collect();
        entries.sort_unstable();
        entries.dedup();
        let saves = plan(ops, Class::table(), &entries);
        entries.iter().map(|&e| (e, saves.of(e))).collect()
    }

    /// `calls`' chain: leaves that compute in `r0`-`r5` save nothing, a caller of one saves
    /// what it writes itself, and a callee's callee counts.
    #[test]
    fn a_callee_saves_what_it_and_its_callees_write() {
        let source = "call f\nexit\n\
                      f:\nr1 = 1\ncall g\nr0 += 1\nexit\n\
                      g:\nr7 = r1\ncall h\nexit\n\
                      h:\nr0 = r1\nr0 <<= 3\n*(u64 *)(r10 - 8) = r0\nexit";
        // f at 2, g at 6, h at 9.
        assert_eq!(saves(source), [(2, 0b0010), (6, 0b0010), (9, 0)]);
    }

    /// A jump out of the callee's function into another's counts that code's writes; loads,
    /// `lddw` and fetching atomics write too; a helper call writes none of them.
    #[test]
    fn jumps_are_followed_wherever_they_go() {
        let source = "call f\nr6 = 0\nexit\n\
                      f:\nif r1 == 0 goto far\ncall 1\nexit\n\
                      far:\nr9 = *(u64 *)(r10 - 8)\nr8 = 7 ll\n\
                      r6 = atomic_fetch_add((u64 *)(r10 - 8), r6)\nexit";
        assert_eq!(saves(source), [(3, 0b1101)]);
    }

    /// A tail call, `callx` or kfunc call anywhere in reach saves all four; so does a callee
    /// that calls such a one, and a recursive pair still ends.
    #[test]
    fn what_may_continue_elsewhere_saves_all() {
        for call in ["call 12", "callx r1", "call kfunc(7)"] {
            let source = format!("call f\nexit\nf:\ncall g\nexit\ng:\n{call}\nexit");
            assert_eq!(saves(&source), [(2, ALL), (4, ALL)], "{call}");
        }
        let source = "call f\nexit\nf:\nr6 = 1\ncall g\nexit\ng:\nr7 = 1\ncall f\nexit";
        assert_eq!(saves(source), [(2, 0b0011), (5, 0b0011)]);
    }
}
