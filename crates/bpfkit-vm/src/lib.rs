//! The eBPF runtime every engine shares, and the interpreter.
//!
//! A [`Vm`] holds programs, a table of helper functions keyed by helper id, userspace maps and
//! options. A run gets a fresh address space of regions (a 512-byte stack per call frame, the
//! input memory, map values) in which every load and store is checked: a program that was never
//! verified can fault, with a typed [`Fault`] naming the instruction and the address, but it can
//! never touch memory outside the regions it was given.
//!
//! Semantics follow RFC 9669 and the kernel: division by zero gives 0, modulo by zero leaves the
//! dividend, shift amounts are masked, 32-bit operations zero-extend, `INT_MIN / -1` wraps;
//! bpf-to-bpf calls nest up to 8 frames with `r6`-`r9` and `r10` restored; `bpf_tail_call`
//! follows a program array up to 33 times.
//!
//! ```
//! use bpfkit_vm::Vm;
//! use bpfkit_isa::{Insn, Opcode, Reg};
//!
//! // r0 = helper_7(r1 + 1)
//! let prog = [
//!     Insn::new(Opcode::Add64Imm).with_dst(Reg::R1).with_imm(1),
//!     Insn::new(Opcode::Call).with_imm(7),
//!     Insn::new(Opcode::Exit),
//! ];
//! let mut vm = Vm::new(&prog)?;
//! vm.register_helper(7, |_env, args| Ok(args[0] * 2));
//! assert_eq!(vm.run(&mut [])?, 2);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

#![forbid(unsafe_code)]
#![deny(missing_docs)]

pub mod ctx;
mod fault;
pub mod helpers;
mod host;
mod image;
mod interp;
mod jhash;
mod maps;
pub mod memory;
mod object;
mod packet;
mod program;
mod runtime;
mod test_run;
mod vm;

pub use bpfkit_uapi::MapType;
pub use fault::Fault;
pub use helpers::{HelperEnv, HelperFn};
pub use host::{Host, Interface, Neighbour, Redirect, Route};
pub use image::ImageError;
pub use interp::MAX_TAIL_CALLS;
pub use maps::{
    BPF_ANY, BPF_EXIST, BPF_F_LOCK, BPF_NOEXIST, Keys, MAX_MAP_BYTES, Map, MapDef, MapError, MapId,
    PerfRecord, RingBufQuery, RingRecord, libc_errno,
};
pub use memory::Access;
pub use object::{
    Global, GlobalError, ObjectError, ObjectProgram, Scalar, TestObject, TestObjectBuilder,
};
pub use packet::{Packet, PacketKind};
pub use program::{LoadError, Op, Program};
pub use runtime::{CallOutcome, Entry, Runtime};
pub use test_run::{TestOutput, TestRun, TestRunError};
pub use vm::{DirectMemory, ProgId, RunInput, TailCallOverflow, Vm};
