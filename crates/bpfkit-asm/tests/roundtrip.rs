//! asm(disasm(p)) == p in both dialects, for random programs of valid instructions.

use bpfkit_asm::assemble;
use bpfkit_isa::{Dialect, Insn, Reg, TABLE, disassemble};
use proptest::prelude::*;

fn any_insn() -> impl Strategy<Value = Insn> {
    (
        0..TABLE.len(),
        0u8..=10,
        0u8..=10,
        any::<i16>(),
        any::<i32>(),
        any::<i32>(),
    )
        .prop_map(|(row, dst, src, off, imm, next_imm)| {
            Insn {
                opcode: TABLE[row].opcode,
                dst: Reg::new(dst).unwrap(),
                src: Reg::new(src).unwrap(),
                off,
                imm,
                next_imm,
            }
            .canonical()
        })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2048))]

    #[test]
    fn llvm_dialect_round_trips(prog in prop::collection::vec(any_insn(), 1..32)) {
        let text = disassemble(&prog, Dialect::Llvm);
        prop_assert_eq!(assemble(&text, Dialect::Llvm).map_err(|e| TestCaseError::fail(format!("{e}\n{text}")))?, prog);
    }

    #[test]
    fn ubpf_dialect_round_trips(prog in prop::collection::vec(any_insn(), 1..32)) {
        let text = disassemble(&prog, Dialect::Ubpf);
        prop_assert_eq!(assemble(&text, Dialect::Ubpf).map_err(|e| TestCaseError::fail(format!("{e}\n{text}")))?, prog);
    }

    /// Arbitrary text never panics the assembler.
    #[test]
    fn garbage_is_an_error_not_a_panic(text in "\\PC{0,80}") {
        let _ = assemble(&text, Dialect::Llvm);
        let _ = assemble(&text, Dialect::Ubpf);
    }

    /// Lines built from the assembler's own vocabulary reach deeper than random characters.
    #[test]
    fn near_miss_lines_never_panic(words in prop::collection::vec(prop::sample::select(vec![
        "r0", "w1", "%r2", "r11", "%r50", "=", "+=", "s>>=", "*", "(", ")", "[", "]", "u32", "s8", ",", "+", "-",
        "0x7fffffff", "4294967296", "-32769", "65535", "ll", "goto", "if", "lock", "call", "local", "exit",
        "mov", "lddw", "map_fd", "label", ":", "<", ">", "skb", "kfunc", "18446744073709551616",
    ]), 0..12)) {
        let line = words.join(" ");
        let _ = assemble(&line, Dialect::Llvm);
        let _ = assemble(&line, Dialect::Ubpf);
    }
}
