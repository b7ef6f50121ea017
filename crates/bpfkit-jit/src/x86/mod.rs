//! The x86_64 backend: machine instructions for each [`Lir`](crate::lower::Lir), with dynasmrt.
//!
//! Registers. eBPF registers live in host registers for the whole run; `rax`, `rcx` and `rdx`
//! are scratch (division needs `rax:rdx`, variable shifts `cl`), `r12` holds the run context and
//! `rbp` the host frame pointer (the end of the current 512-byte frame in the run's stack):
//!
//! | eBPF | r0 | r1 | r2 | r3 | r4 | r5 | r6 | r7 | r8 | r9 | r10 (trusted) |
//! |---|---|---|---|---|---|---|---|---|---|---|---|
//! | x86 | rbx | rdi | rsi | r8 | r9 | r10 | r11 | r13 | r14 | r15 | rbp |
//!
//! In checked mode `r10` is the virtual frame pointer `(1 + depth) << 32 | 512`, computed from
//! `rbp` by the few instructions that read it as a value; accesses through `r10` at a constant
//! offset inside the frame use `[rbp + off]` directly.
//!
//! Stack discipline. Generated code runs with `rsp % 16 == 8`, as a function body does just after
//! its `call`, so that it can call the runtime's Rust functions without realigning: the entry
//! trampoline calls the program, and a bpf-to-bpf call pushes `r6`-`r9` and 8 bytes of padding
//! before its `call`. `exit` is `ret`. A fault restores the `rsp` saved on entry, which unwinds
//! every frame at once.

mod dump;
mod emit;

pub use dump::disassemble;
pub use emit::X86;

/// Host register numbers (the encoding's).
pub(crate) mod reg {
    pub const RAX: u8 = 0;
    pub const RCX: u8 = 1;
    pub const RDX: u8 = 2;
    pub const RBX: u8 = 3;
    pub const RBP: u8 = 5;
    pub const RSI: u8 = 6;
    pub const RDI: u8 = 7;
    pub const R8: u8 = 8;
    pub const R9: u8 = 9;
    pub const R10: u8 = 10;
    pub const R11: u8 = 11;
    pub const R13: u8 = 13;
    pub const R14: u8 = 14;
    pub const R15: u8 = 15;
}

/// The host register of each eBPF register, `r0`-`r10` (`r10` only in trusted mode).
pub(crate) const HOST: [u8; 11] = [
    reg::RBX,
    reg::RDI,
    reg::RSI,
    reg::R8,
    reg::R9,
    reg::R10,
    reg::R11,
    reg::R13,
    reg::R14,
    reg::R15,
    reg::RBP,
];

/// eBPF registers the runtime call stub saves and reloads: those in caller-saved host registers
/// (`r1`-`r6`), and `r0`, which the call may set.
pub(crate) const SAVED_AROUND_CALLS: [u8; 7] = [0, 1, 2, 3, 4, 5, 6];
