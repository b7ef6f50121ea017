//! The eBPF instruction set: every instruction of RFC 9669 (cpu v1 to v4, the atomics, the
//! pseudo forms of `lddw`, every call form), decoded from and encoded to 8-byte slots, and printed
//! in the two assembly dialects people meet.
//!
//! One table ([`TABLE`], in `table.rs`) declares every instruction once: its encoding, what it
//! does ([`Kind`]), the cpu level that introduced it and its text in both dialects. Decoding,
//! encoding, `Display` and the assembler in `bpfkit-asm` are all driven by it.
//!
//! ```
//! use bpfkit_isa::{decode, encode, Cpu, Dialect, Insn, Opcode, Reg};
//!
//! // r0 = 1; exit
//! let bytes = [0xb7, 0x00, 0, 0, 1, 0, 0, 0, 0x95, 0, 0, 0, 0, 0, 0, 0];
//! let prog = decode(&bytes).unwrap();
//! assert_eq!(prog[0], Insn::new(Opcode::Mov64Imm).with_dst(Reg::R0).with_imm(1));
//! assert_eq!(prog[0].to_string(), "r0 = 1");
//! assert_eq!(prog[0].display(Dialect::Ubpf).to_string(), "mov %r0, 1");
//! assert_eq!(prog[1].opcode.spec().cpu, Cpu::V1);
//! assert_eq!(encode(&prog), bytes);
//! ```

#![forbid(unsafe_code)]
#![deny(missing_docs)]

mod cpu;
mod decode;
mod display;
mod insn;
mod kind;
mod reg;
mod table;
mod template;

pub use cpu::{Cpu, Group, UnknownCpu};
pub use decode::{DecodeError, DecodeErrorKind, Decoder, Field, decode, encode};
pub use display::{DisplayInsn, disassemble};
pub use insn::{Insn, RawInsn};
pub use kind::{
    AluOp, AtomicOp, ByteOrder, CallTarget, Cond, Kind, Operands, PacketMode, Pseudo, Size, Source,
    Width,
};
pub use reg::Reg;
pub use table::{COUNT, Opcode, Select, Spec, TABLE};
pub use template::{Dialect, Hole, Part, RegName, UnknownDialect, parts};

/// The lowest cpu level that runs every instruction of `insns`.
pub fn required_cpu(insns: &[Insn]) -> Cpu {
    insns.iter().map(|i| i.spec().cpu).max().unwrap_or(Cpu::V1)
}
