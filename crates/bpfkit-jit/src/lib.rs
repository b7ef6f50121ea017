//! A JIT compiler for eBPF with the interpreter's exact semantics: x86_64 or aarch64 machine code for the
//! programs of a [`bpfkit_vm::Vm`], running on the same runtime (helpers, maps, tail calls,
//! budget, faults).
//!
//! Two memory models:
//! - **Checked** ([`Jit::new`], the default): for programs nobody verified. Registers hold the
//!   interpreter's virtual addresses (region `i` at `i << 32`) and every load and store is
//!   translated through the run's region table inline: one compare of the region index, one of
//!   the end of the access against the region's limit, then the host access. Accesses through
//!   `r10` at a constant offset inside the frame need no check and go straight to the host
//!   stack. A program can fault, with the same [`Fault`](bpfkit_vm::Fault) and pc as the
//!   interpreter, but never touch memory outside its regions.
//! - **Trusted** ([`Jit::new_trusted`], `unsafe`): host pointers and no checks, as the kernel's
//!   JIT runs programs its verifier accepted. The contract is on that function.
//!
//! Generated code is written into memory that is writable and not executable, which is then
//! made executable and not writable (W^X); when the code is dropped its memory is made
//! non-executable and kept for the next compile.
//!
//! ```
//! use bpfkit_isa::{Insn, Opcode, Reg};
//! use bpfkit_jit::Jit;
//! use bpfkit_vm::Vm;
//!
//! // r0 = helper_7(r1 + 1), as in bpfkit_vm's example
//! let prog = [
//!     Insn::new(Opcode::Add64Imm).with_dst(Reg::R1).with_imm(1),
//!     Insn::new(Opcode::Call).with_imm(7),
//!     Insn::new(Opcode::Exit),
//! ];
//! let mut vm = Vm::new(&prog)?;
//! vm.register_helper(7, |_env, args| Ok(args[0] * 2));
//! let mut jit = Jit::new(vm)?;
//! assert_eq!(jit.run(&mut [])?, 2);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! # Layers, and how a second backend plugs in
//!
//! Lowering is apart from emission, as in cranelift:
//! - [`lower`] turns each pre-decoded instruction ([`bpfkit_vm::Op`]) into one
//!   machine-independent [`lower::Lir`] with every policy decided: which accesses are checked
//!   ([`lower::Check`]), what kind of call an instruction is, how `lddw` addresses resolve.
//! - [`compile`] is the driver: it makes a label per instruction, emits the entry trampoline,
//!   asks for a meter before each instruction when a budget is set, feeds each `Lir` to the
//!   backend, and maps the result executable.
//! - [`context`] is the run context, the words generated code shares with the runtime: the
//!   register spill area, the stack bounds, the budget, the fault description and the region
//!   table. `run.rs` fills it, calls the code, and implements the trampolines that call back into
//!   the VM's [`Runtime`](bpfkit_vm::Runtime) for helpers, tail calls and packet loads.
//! - A backend implements [`backend::Backend`] (labels, entry trampoline, meter, one `Lir` at a
//!   time, out-of-line code) for one architecture; `x86` is the x86_64 one. Both backends
//!   encode with dynasmrt's macros into [`assembler::Assembler`], which keeps its buffers from
//!   compile to compile.
//!
//! `aarch64` is the second backend: its own register map, emission with dynasmrt's aarch64
//! assembler, LSE or LL/SC atomics ([`Atomics`]), far branches, cache synchronisation before
//! the code is made executable, and a disassembler for the dump. It implements `Backend` with
//! the same context words and trampoline protocol and is selected in `jit.rs`'s `compile` by
//! `cfg(target_arch)`; it builds on x86_64 too, where its encodings are tested. Lowering, the
//! driver, the context, the run and the tests are shared.

#![deny(missing_docs)]

#[cfg(any(target_arch = "x86_64", target_arch = "aarch64"))]
pub mod aarch64;
pub mod assembler;
pub mod backend;
pub mod compile;
pub mod context;
pub mod differential;
mod dump;
mod error;
pub mod group;
pub mod guess;
mod jit;
pub mod loops;
pub mod lower;
mod pool;
mod run;
pub mod saves;
pub mod window;
#[cfg(target_arch = "x86_64")]
pub mod x86;

pub use compile::Code;
pub use error::JitError;
pub use jit::Jit;

/// How compiled code reaches memory.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Mode {
    /// Virtual addresses, every access checked against the run's regions.
    Checked,
    /// Host pointers, no checks: for verified programs only.
    Trusted,
}

/// How atomic read-modify-writes are compiled where the CPU offers a choice (aarch64: the
/// Large System Extensions' single instructions, or load-exclusive/store-exclusive loops);
/// x86_64 has one way and ignores it.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum Atomics {
    /// LSE when the CPU running the compiler has it, LL/SC otherwise.
    #[default]
    Detect,
    /// LSE instructions (the CPU must have them).
    Lse,
    /// LL/SC loops, which every aarch64 CPU runs.
    LlSc,
}

impl std::fmt::Display for Mode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Mode::Checked => "checked",
            Mode::Trusted => "trusted",
        })
    }
}
