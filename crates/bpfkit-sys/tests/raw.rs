//! `RawProgram`: programs taking `r1` = their input and `r2` = its length, in the kernel.

use bpfkit_test_support::{Need, require};

use bpfkit_isa::{Insn, Opcode, Reg};
use bpfkit_sys::{Error, RawProgram};

#[test]
fn raw_programs_see_their_input_and_return_all_64_bits() {
    require!(Need::Kernel);
    // r0 = *(u64 *)(r1 + 0) + r2; *(u8 *)(r1 + 8) = 7
    let body = [
        Insn::new(Opcode::LdxDW).with_dst(Reg::R0).with_src(Reg::R1),
        Insn::new(Opcode::Add64Reg)
            .with_dst(Reg::R0)
            .with_src(Reg::R2),
        Insn::new(Opcode::StB)
            .with_dst(Reg::R1)
            .with_off(8)
            .with_imm(7),
        Insn::new(Opcode::Exit),
    ];
    let prog = RawProgram::load(&body, 9).unwrap();
    let input = 0x8000_0000_0000_0001u64.to_le_bytes();
    let (r0, _) = prog.run(&[input.as_slice(), &[0]].concat(), 3).unwrap();
    assert_eq!(r0, 0x8000_0000_0000_0001 + 9);
    assert_eq!(prog.input().unwrap()[8], 7);
    // Eight bytes are too few for the store at offset 8: the verifier judges by the input's
    // exact size.
    let err = RawProgram::load(&body, 8).unwrap_err();
    assert!(matches!(err, Error::Verifier { .. }), "{err}");
    assert!(
        err.to_string().contains("invalid access to map value"),
        "{err}"
    );
    // No input: r1 is 0, a scalar, and cannot be read.
    assert!(matches!(
        RawProgram::load(&body, 0),
        Err(Error::Verifier { .. })
    ));
}
