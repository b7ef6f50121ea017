//! The engines of the JIT bench, and the two that need care to set up: bpfkit's trusted JIT
//! and the kernel's JIT.

use bpfkit_jit::Jit;
use bpfkit_sys::RawProgram;

use crate::{Program, engines};

/// An engine of the JIT bench (`benches/jit.rs`), in the order the report lists them.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum JitEngine {
    /// bpfkit's JIT, checked memory: every access checked, the interpreter's addresses.
    BpfkitJit,
    /// bpfkit's JIT, trusted memory: host pointers, no checks.
    BpfkitJitTrusted,
    /// rbpf 0.4.1's JIT: host pointers, no checks.
    RbpfJit,
    /// solana-sbpf 0.26's JIT at SBPF v4: address translation (its checks), meter off.
    SolanaSbpfJit,
    /// bpfkit's interpreter.
    Interpreter,
    /// The running kernel's JIT, through `BPF_PROG_TEST_RUN` with `repeat` (its own timing).
    Kernel,
    /// Native Rust, the same algorithm.
    Native,
}

impl JitEngine {
    /// Every engine, in report order.
    pub const ALL: [JitEngine; 7] = [
        JitEngine::BpfkitJit,
        JitEngine::BpfkitJitTrusted,
        JitEngine::RbpfJit,
        JitEngine::SolanaSbpfJit,
        JitEngine::Interpreter,
        JitEngine::Kernel,
        JitEngine::Native,
    ];

    /// The criterion function name and the report's column.
    pub const fn name(self) -> &'static str {
        match self {
            JitEngine::BpfkitJit => "bpfkit-jit",
            JitEngine::BpfkitJitTrusted => "bpfkit-jit-trusted",
            JitEngine::RbpfJit => "rbpf-jit",
            JitEngine::SolanaSbpfJit => "solana-sbpf-jit",
            JitEngine::Interpreter => "bpfkit-interp",
            JitEngine::Kernel => "kernel",
            JitEngine::Native => "native",
        }
    }
}

/// bpfkit's trusted JIT for `program`, after the checked interpreter ran it three times in a
/// row on its bench input without a fault (the corpus is deterministic, and its tests check
/// that reruns behave alike), which is the memory safety trusted mode asks for on that input.
pub fn trusted_jit(program: &Program) -> Result<Jit, String> {
    let mut vm = engines::bpfkit_vm(program)?;
    let mut input = (program.input)();
    for _ in 0..3 {
        vm.run(&mut input).map_err(|e| e.to_string())?;
    }
    // SAFETY: as above: on the interpreter, which checks every access, the program stays in
    // its input and stack on the input the bench gives it, run after run.
    unsafe { Jit::new_trusted(engines::bpfkit_vm(program)?) }.map_err(|e| e.to_string())
}

/// `program` loaded in the kernel for its bench input's size, or why it cannot be: bpf(2) is
/// not permitted here, or the kernel's verifier rejects the program (its last log line).
pub fn kernel_program(program: &Program) -> Result<RawProgram, String> {
    bpfkit_sys::probe().map_err(|e| e.to_string())?;
    RawProgram::load(&program.insns(), (program.input)().len()).map_err(|e| match e {
        bpfkit_sys::Error::Verifier { log, .. } => format!(
            "the verifier rejects it: {}",
            log.lines()
                .rev()
                .find(|l| !l.starts_with("processed") && !l.trim().is_empty())
                .unwrap_or("")
        ),
        e => e.to_string(),
    })
}

/// `r0 = 0; exit`: a run of it is the per-run cost of an engine (entering, setting up the
/// run's memory, leaving), which the JIT bench's `jit-trivial` group times on every engine.
pub fn trivial_program() -> Vec<bpfkit_isa::Insn> {
    use bpfkit_isa::{Insn, Opcode, Reg};
    vec![
        Insn::new(Opcode::Mov64Imm).with_dst(Reg::R0).with_imm(0),
        Insn::new(Opcode::Exit),
    ]
}

/// The size of the large program whose compile time the JIT bench measures.
pub const LARGE: usize = 4096;

/// A straight-line program of about `insns` instructions for timing compiles of big programs:
/// blocks of eight instructions in the proportions of compiled C (a checked byte load from the
/// input, ALU, a store and a load through the frame, a forward branch), then `exit`. It runs on
/// an input of at least 64 bytes.
pub fn large_program(insns: usize) -> Vec<bpfkit_isa::Insn> {
    use bpfkit_isa::{Insn, Opcode, Reg};
    let mut prog = Vec::with_capacity(insns + 1);
    for k in 0..insns.div_ceil(8) as i32 {
        let slot = -8 * (1 + k % 32) as i16;
        prog.extend([
            Insn::new(Opcode::LdxB)
                .with_dst(Reg::R3)
                .with_src(Reg::R1)
                .with_off((k % 64) as i16),
            Insn::new(Opcode::Add64Reg)
                .with_dst(Reg::R0)
                .with_src(Reg::R3),
            Insn::new(Opcode::StxDW)
                .with_dst(Reg::R10)
                .with_src(Reg::R0)
                .with_off(slot),
            Insn::new(Opcode::LdxDW)
                .with_dst(Reg::R4)
                .with_src(Reg::R10)
                .with_off(slot),
            Insn::new(Opcode::JgtImm)
                .with_dst(Reg::R4)
                .with_imm(1000)
                .with_off(1),
            Insn::new(Opcode::Xor64Imm).with_dst(Reg::R0).with_imm(k),
            Insn::new(Opcode::Mov64Reg)
                .with_dst(Reg::R5)
                .with_src(Reg::R0),
            Insn::new(Opcode::Lsh64Imm).with_dst(Reg::R5).with_imm(3),
        ]);
    }
    prog.push(Insn::new(Opcode::Exit));
    prog
}
