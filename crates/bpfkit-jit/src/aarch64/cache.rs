//! Publishing code on aarch64: instruction fetch does not see data writes until the data cache
//! is cleaned to the point of unification and the instruction cache invalidated for those
//! addresses (`dc cvau`, `dsb ish`, `ic ivau`, `dsb ish`), and a core that already fetched
//! from them needs an `isb`. The code is written while the mapping is writable only, then
//! synchronised ([`synchronize`]), then made executable only (`pool::publish`); the running thread executes `isb`
//! before it enters the code ([`before_execution`]).
//!
//! qemu runs stale code no differently from fresh, so a test cannot catch a missing
//! synchronisation by running code; the unit tests instead check that every publish
//! synchronises exactly the bytes that become executable, line by line.

use std::arch::asm;

/// What one synchronisation did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Synced {
    /// First byte synchronised.
    pub start: usize,
    /// Bytes synchronised.
    pub len: usize,
    /// Data cache lines cleaned (`dc cvau`), and their size.
    pub data_lines: usize,
    /// Bytes per data cache line.
    pub data_line: usize,
    /// Instruction cache lines invalidated (`ic ivau`).
    pub insn_lines: usize,
    /// Bytes per instruction cache line.
    pub insn_line: usize,
}

#[cfg(test)]
thread_local! {
    /// Every synchronisation this thread ran, for the tests.
    pub static LOG: std::cell::RefCell<Vec<Synced>> = const { std::cell::RefCell::new(Vec::new()) };
}

/// The smallest data and instruction cache line sizes, from `CTR_EL0`.
fn line_sizes() -> (usize, usize) {
    let ctr: u64;
    // SAFETY: reading CTR_EL0 has no side effects, and Linux lets userspace read it.
    unsafe { asm!("mrs {}, ctr_el0", out(reg) ctr, options(nomem, nostack, preserves_flags)) };
    (4 << ((ctr >> 16) & 0xf), 4 << (ctr & 0xf))
}

/// Cleans the data cache and invalidates the instruction cache for `code`.
pub fn synchronize(code: &[u8]) -> Synced {
    let (data_line, insn_line) = line_sizes();
    let start = code.as_ptr() as usize;
    let end = start + code.len();
    let mut data_lines = 0;
    let mut line = start & !(data_line - 1);
    while line < end {
        // SAFETY: cleaning a cache line by address changes no memory; `line` is within a
        // line of `code`, which is mapped and readable.
        unsafe { asm!("dc cvau, {}", in(reg) line, options(nostack, preserves_flags)) };
        data_lines += 1;
        line += data_line;
    }
    // SAFETY: a barrier: waits for the cleaning to complete.
    unsafe { asm!("dsb ish", options(nostack, preserves_flags)) };
    let mut insn_lines = 0;
    let mut line = start & !(insn_line - 1);
    while line < end {
        // SAFETY: invalidating instruction cache lines changes no memory; `line` is mapped.
        unsafe { asm!("ic ivau, {}", in(reg) line, options(nostack, preserves_flags)) };
        insn_lines += 1;
        line += insn_line;
    }
    // SAFETY: a barrier: waits for the invalidation to complete everywhere.
    unsafe { asm!("dsb ish", options(nostack, preserves_flags)) };
    let synced = Synced {
        start,
        len: code.len(),
        data_lines,
        data_line,
        insn_lines,
        insn_line,
    };
    #[cfg(test)]
    LOG.with(|log| log.borrow_mut().push(synced));
    synced
}

/// `isb`: discards instructions this core fetched before the code was published.
pub fn before_execution() {
    // SAFETY: a barrier; it changes no state but the pipeline's.
    unsafe { asm!("isb", options(nostack, preserves_flags)) };
}

#[cfg(test)]
mod tests {
    use bpfkit_isa::{Insn, Opcode, Reg};
    use bpfkit_vm::Vm;

    use super::LOG;
    use crate::Jit;

    /// Each compile publishes through `publish`, which synchronises exactly the bytes that
    /// become executable, with enough cache lines to cover them, before they are executable.
    #[test]
    fn every_compile_synchronises_the_code_it_publishes() {
        LOG.with(|log| log.borrow_mut().clear());
        let mut prog: Vec<Insn> = (0..3000)
            .map(|i| Insn::new(Opcode::Add64Imm).with_dst(Reg::R0).with_imm(i))
            .collect();
        prog.push(Insn::new(Opcode::Exit));
        let mut jit = Jit::new(Vm::new(&prog).unwrap()).unwrap();
        let expected: u64 = (0..3000).sum();
        assert_eq!(jit.run(&mut []), Ok(expected));
        let code = jit.code().bytes();
        let log = LOG.with(|log| log.borrow().clone());
        assert_eq!(log.len(), 1, "{log:?}");
        let synced = log[0];
        assert_eq!(synced.start, code.as_ptr() as usize);
        assert_eq!(synced.len, code.len());
        assert!(synced.len > 12_000);
        for (lines, size) in [
            (synced.data_lines, synced.data_line),
            (synced.insn_lines, synced.insn_line),
        ] {
            assert!(size.is_power_of_two() && size >= 4, "{synced:?}");
            let first = synced.start & !(size - 1);
            assert_eq!(lines, (synced.start + synced.len - first).div_ceil(size));
        }
        // A recompile publishes a fresh buffer, synchronised again.
        jit.configure(|vm| {
            vm.set_budget(Some(10_000));
        })
        .unwrap();
        assert_eq!(jit.run(&mut []), Ok(expected));
        let log = LOG.with(|log| log.borrow().clone());
        assert_eq!(log.len(), 2);
        assert_eq!(log[1].start, jit.code().bytes().as_ptr() as usize);
        assert_eq!(log[1].len, jit.code().bytes().len());
    }
}
