//! The ubpf-dialect assembler never panics on arbitrary text, and what it accepts survives
//! disassembly and assembly again.
#![no_main]

use bpfkit_isa::{Dialect, disassemble};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let Ok(insns) = bpfkit_asm::assemble(text, Dialect::Ubpf) else { return };
    let printed = disassemble(&insns, Dialect::Ubpf);
    assert_eq!(bpfkit_asm::assemble(&printed, Dialect::Ubpf).expect("our output assembles"), insns);
});
