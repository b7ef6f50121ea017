//! The JIT (checked mode) and the interpreter agree on every program the fuzzer's bytes choose:
//! the same `r0` or the same fault at the same instruction, and the same memory afterwards.
//! The bytes are the choices of `bpfkit_jit::differential::generate` (every instruction of the
//! table, operands at the edges of every region, helpers, tail calls, budgets, loops of the
//! shape the JIT versions, through a pointer or an index, parsers whose headers it proves
//! inside a window ended by a pointer or measured by a length, and calls whose callee-saved
//! registers the caller reads back).
#![no_main]

use bpfkit_jit::differential::{Source, compare, generate};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let case = generate(&mut Source::new(data));
    if let Err(mismatch) = compare(&case) {
        panic!("the JIT and the interpreter disagree: {mismatch:#x?}\n{case:#?}");
    }
});
