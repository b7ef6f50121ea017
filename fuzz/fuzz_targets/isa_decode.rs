//! Decoding arbitrary bytes never panics; what decodes re-encodes to the same bytes and prints
//! in both dialects text that assembles back to the same instructions.
#![no_main]

use bpfkit_isa::{Dialect, decode, disassemble, encode};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(insns) = decode(data) else { return };
    assert_eq!(encode(&insns), data);
    for dialect in [Dialect::Llvm, Dialect::Ubpf] {
        let text = disassemble(&insns, dialect);
        let again = bpfkit_asm::assemble(&text, dialect).expect("disassembly assembles");
        assert_eq!(again, insns, "{dialect}:\n{text}");
    }
});
