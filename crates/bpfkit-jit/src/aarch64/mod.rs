//! The aarch64 backend: machine instructions for each [`Lir`](crate::lower::Lir), with
//! dynasmrt's aarch64 assembler.
//!
//! The module builds on every host: emission only writes bytes, so the encodings are tested
//! on x86_64 against LLVM's disassembler, and `jit.rs` selects this backend to run code when
//! the host is aarch64.
//!
//! Registers. eBPF registers live in host registers for the whole run. `r1`-`r5` sit in the
//! argument registers and `r0` in `x7`, as in the kernel's arm64 JIT; they are caller-saved, so
//! the runtime-call stub stores them in the context and reloads them. `r6`-`r9` are in
//! callee-saved registers and survive calls into Rust untouched:
//!
//! | eBPF | r0 | r1 | r2 | r3 | r4 | r5 | r6 | r7 | r8 | r9 | r10 (trusted) |
//! |---|---|---|---|---|---|---|---|---|---|---|---|
//! | aarch64 | x7 | x0 | x1 | x2 | x3 | x4 | x19 | x20 | x21 | x22 | x25 |
//!
//! `x25` is the host frame pointer (the end of the current 512-byte frame in the run's stack),
//! `x26` the run context, `x9`-`x15` scratch, `x16` and `x17` scratch for immediates that need
//! a register. In checked mode `r10` is the virtual frame pointer `(1 + depth) << 32 | 512`,
//! computed from `x25` by the few instructions that read it as a value.
//!
//! Calls. The entry trampoline calls the program with `blr`; `exit` is `ret`, so `x30` holds the
//! return address of the current eBPF function throughout its body, and every `bl` the body
//! makes (a bpf-to-bpf call, a call of the runtime stub) saves `x30` on the host stack first.
//! A bpf-to-bpf call also saves `r6`-`r9`. `sp` stays 16-byte aligned. A fault restores the `sp`
//! saved on entry, which unwinds every frame at once.
//!
//! Atomics. With the Large System Extensions (`ldaddal`, `ldclral`, `ldsetal`, `ldeoral`,
//! `swpal`, `casal`, and `stadd`/`stclr`/`stset`/`steor` for the forms that return nothing),
//! or with `ldxr`/`stlxr` loops where the CPU lacks them, chosen when the program is compiled
//! ([`crate::Atomics`]). Both kinds of instruction fault on a misaligned address, and a host
//! address can be misaligned even when the virtual one is not (regions start wherever their
//! memory is), so every atomic tests its host address first and never runs an atomic
//! instruction on a misaligned one: such an access is done as the interpreter does it, a load,
//! the operation and a store (a run owns its memory; strict alignment, when on, has faulted
//! before on the virtual address).
//!
//! Far branches. `b.cond` reaches ±1 MiB and `b`/`bl` ±128 MiB. A conditional eBPF jump whose
//! target may be out of reach (known exactly backward, bounded by [`MAX_INSN_BYTES`] per
//! instruction forward) becomes an inverted `b.cond` around a `b`. Fault paths are placed in
//! islands between instructions, before the first branch to them would go out of reach. A
//! branch that still cannot reach (code over 128 MiB) is refused with an error by the
//! assembler, never emitted wrong.

mod asm;
#[cfg(target_arch = "aarch64")]
pub mod cache;
mod dump;
mod emit;

pub use asm::R;
pub use dump::disassemble;
pub use emit::{Aarch64, Label, MAX_INSN_BYTES};

#[cfg(test)]
mod tests;

/// Host register numbers.
pub mod reg {
    use super::R;

    /// The run context.
    pub const CTX: R = 26;
    /// The host frame pointer, and `r10` in trusted mode.
    pub const FP: R = 25;
    /// The link register.
    pub const LR: R = 30;
    /// Scratch registers, free between instructions.
    pub const T0: R = 9;
    /// Scratch.
    pub const T1: R = 10;
    /// Scratch.
    pub const T2: R = 11;
    /// Scratch.
    pub const T3: R = 12;
    /// Scratch.
    pub const T4: R = 13;
    /// Scratch: a store's value, an operand.
    pub const T5: R = 14;
    /// Scratch: a second operand.
    pub const T6: R = 15;
    /// Scratch: a load's or store's offset that no form encodes; runtime function addresses.
    pub const IP0: R = 16;
    /// Scratch: an immediate that an arithmetic instruction cannot encode.
    pub const IP1: R = 17;
}

/// The host register of each eBPF register, `r0`-`r10` (`r10` only in trusted mode).
pub const HOST: [R; 11] = [7, 0, 1, 2, 3, 4, 19, 20, 21, 22, reg::FP];

/// Whether this CPU has the Large System Extensions (always `false` off aarch64).
pub fn cpu_has_lse() -> bool {
    #[cfg(target_arch = "aarch64")]
    return std::arch::is_aarch64_feature_detected!("lse");
    #[cfg(not(target_arch = "aarch64"))]
    false
}
