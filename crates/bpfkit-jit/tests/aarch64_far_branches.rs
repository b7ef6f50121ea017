//! A 300,000-instruction program whose conditional jumps span more than `b.cond`'s ±1 MiB of
//! aarch64 code, forward and backward, and whose fault paths sit more than 1 MiB past the
//! accesses that branch to them: it compiles (on any host, with the aarch64 backend), and on
//! aarch64 it runs to the interpreter's result and memory.

use bpfkit_isa::{Insn, Opcode, Reg};
use bpfkit_jit::aarch64::Aarch64;
use bpfkit_jit::lower::Options;
use bpfkit_jit::{Atomics, Mode};
use bpfkit_vm::Vm;

/// Instructions per block; its jumps span it (under the 32,767 slots of a jump's offset).
const BLOCK: usize = 30_000;
const BLOCKS: usize = 10;

/// Ten blocks, each run twice on the first pass (a backward conditional jump over the whole
/// block) and skipped on the second (a forward one); the two passes are joined by a `gotol`
/// back over everything. The body loads, adds and stores through a copy of `r1` made afresh
/// before each access, so every access is checked on its own and has a fault path (two
/// accesses through one unchanged pointer would be checked as a group, in less code; see
/// `bpfkit_jit::group`).
fn program() -> (Vec<Insn>, Vec<(usize, usize)>) {
    let mut p = vec![
        Insn::new(Opcode::Mov64Imm).with_dst(Reg::R6).with_imm(0),
        Insn::new(Opcode::Mov64Imm).with_dst(Reg::R0).with_imm(0),
    ];
    let top = p.len();
    // (conditional jump, its target), to measure the distances in machine code.
    let mut jumps = Vec::new();
    for block in 0..BLOCKS {
        p.push(Insn::new(Opcode::Mov64Imm).with_dst(Reg::R7).with_imm(0));
        let start = p.len();
        // if r6 == 1 goto end (the body is BLOCK - 1 instructions)
        p.push(
            Insn::new(Opcode::JeqImm)
                .with_dst(Reg::R6)
                .with_imm(1)
                .with_off((BLOCK - 1) as i16),
        );
        jumps.push((start, start + BLOCK));
        for i in 0..BLOCK - 1 {
            let off = ((i * 7 + block) % 61) as i16;
            p.push(match i % 5 {
                0 | 3 => Insn::new(Opcode::Mov64Reg)
                    .with_dst(Reg::R3)
                    .with_src(Reg::R1),
                1 => Insn::new(Opcode::LdxW)
                    .with_dst(Reg::R2)
                    .with_src(Reg::R3)
                    .with_off(off),
                2 => Insn::new(Opcode::Add64Reg)
                    .with_dst(Reg::R0)
                    .with_src(Reg::R2),
                _ => Insn::new(Opcode::StxW)
                    .with_dst(Reg::R3)
                    .with_src(Reg::R0)
                    .with_off(off),
            });
        }
        p.push(Insn::new(Opcode::Add64Imm).with_dst(Reg::R7).with_imm(1));
        // if r7 < 2 goto start
        let back = p.len();
        p.push(
            Insn::new(Opcode::JltImm)
                .with_dst(Reg::R7)
                .with_imm(2)
                .with_off((start as i64 - back as i64 - 1) as i16),
        );
        jumps.push((back, start));
    }
    p.push(Insn::new(Opcode::Add64Imm).with_dst(Reg::R6).with_imm(1));
    // if r6 > 1 goto exit; gotol top
    p.push(
        Insn::new(Opcode::JgtImm)
            .with_dst(Reg::R6)
            .with_imm(1)
            .with_off(1),
    );
    let at = p.len();
    p.push(Insn::new(Opcode::Ja32).with_imm(top as i32 - at as i32 - 1));
    p.push(Insn::new(Opcode::Exit));
    (p, jumps)
}

fn options(atomics: Atomics) -> Options {
    Options {
        mode: Mode::Checked,
        metered: false,
        strict_alignment: false,
        atomics,
    }
}

#[test]
fn far_conditional_jumps_and_fault_paths_compile() {
    let (prog, jumps) = program();
    assert!(prog.len() >= 300_000, "{} instructions", prog.len());
    let vm = Vm::new(&prog).unwrap();
    let code = bpfkit_jit::compile::compile::<Aarch64>(&vm, options(Atomics::Lse), 1).unwrap();
    let offsets = code.instruction_offsets(bpfkit_vm::ProgId(0));
    let at = |pc: usize| offsets.iter().find(|&&(p, _)| p == pc).unwrap().1;
    let mut far = 0;
    for &(from, to) in &jumps {
        if at(from).abs_diff(at(to)) > 1 << 20 {
            far += 1;
        }
    }
    println!(
        "{} instructions, {} bytes of code, {far} of {} conditional jumps span over 1 MiB",
        prog.len(),
        code.bytes().len(),
        jumps.len()
    );
    assert_eq!(far, jumps.len(), "every block is over 1 MiB of code");
}

#[cfg(target_arch = "aarch64")]
#[test]
fn far_conditional_jumps_run_as_on_the_interpreter() {
    let (prog, _) = program();
    let input: Vec<u8> = (0..64u8).map(|b| b.wrapping_mul(37)).collect();
    let mut interp_input = input.clone();
    let expected = Vm::new(&prog).unwrap().run(&mut interp_input);
    assert!(expected.is_ok(), "{expected:?}");
    let mut jit = bpfkit_jit::Jit::new(Vm::new(&prog).unwrap()).unwrap();
    let mut jit_input = input.clone();
    assert_eq!(jit.run(&mut jit_input), expected);
    assert_eq!(jit_input, interp_input);
    // Past a short input, the first access out of bounds faults at the interpreter's pc,
    // through a fault path in an island.
    let mut short = vec![0u8; 16];
    let mut interp_short = short.clone();
    let fault = Vm::new(&prog).unwrap().run(&mut interp_short);
    assert!(fault.is_err());
    let mut jit = bpfkit_jit::Jit::new(Vm::new(&prog).unwrap()).unwrap();
    assert_eq!(jit.run(&mut short), fault);
    assert_eq!(short, interp_short);
}
