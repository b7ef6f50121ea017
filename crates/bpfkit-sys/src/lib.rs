//! A thin loader: the `bpf(2)` system call and friends, through `libc`, with owned file
//! descriptors and typed errors.
//!
//! - [`Map`]: create a map ([`MapDef`], named with [`MapCreate`]), look up, update and delete
//!   elements.
//! - [`ProgramLoad`]: load a program; a rejected program's error carries the verifier log.
//! - [`Program`]: run it with `BPF_PROG_TEST_RUN` ([`TestRun`]), read its [`ProgInfo`].
//! - [`BtfObject`]: BTF loaded into the kernel, or the kernel's own.
//! - [`Link`] ([`LinkCreate`]), [`PerfEvent`], [`prog_attach`], [`attach_socket_filter`],
//!   [`netlink`]'s tc filters: attaching programs to hooks.
//! - [`RingBuf`] and [`PerfBuffer`]: reading what programs output; [`tracefs`]: tracepoint
//!   ids and the trace pipe.
//! - Pins ([`pin`], [`get_pinned`]) and ids ([`ids`], [`fd_by_id`]) of every kind of object.
//! - [`RawProgram`]: a program written for `r1` = its input and `r2` = the input's length
//!   (bpfkit's VM convention), verified and run by the kernel inside a small wrapper.
//! - [`probe`]: whether `bpf(2)` can be used here, and if not, why ([`Unavailable`]).
//!
//! Every error names the command and the errno ([`Error`]). Maps and programs close their file
//! descriptors when dropped.
//!
//! ```no_run
//! use bpfkit_isa::{Insn, Opcode, Reg};
//! use bpfkit_sys::{Error, ProgType, ProgramLoad, TestRun};
//!
//! // r0 = 42; exit
//! let insns = [
//!     Insn::new(Opcode::Mov64Imm).with_dst(Reg::R0).with_imm(42),
//!     Insn::new(Opcode::Exit),
//! ];
//! let prog = ProgramLoad::new(ProgType::SOCKET_FILTER, &insns).load()?;
//! let out = prog.test_run(&TestRun { data_in: &[0; 14], ..TestRun::default() })?;
//! assert_eq!(out.retval, 42);
//!
//! // exit, with r0 never set: the verifier says so.
//! let err = ProgramLoad::new(ProgType::SOCKET_FILTER, &insns[1..]).load().unwrap_err();
//! assert!(matches!(err, Error::Verifier { .. }));
//! assert!(err.to_string().contains("R0 !read_ok"));
//! # Ok::<(), Error>(())
//! ```
//!
//! (The example needs `bpf(2)`, so it is compiled but not run as a doctest; the test
//! `crate_example_runs` in `tests/api.rs` runs it under the skip rule.)

#![deny(missing_docs)]

mod attr;
mod btf;
mod cpus;
mod error;
pub mod interrupt;
mod link;
mod load;
mod map;
mod mmap;
pub mod netlink;
mod obj;
mod perf_buffer;
pub mod perf_event;
mod poll;
mod probe;
mod prog;
mod raw;
mod ringbuf;
pub mod tracefs;

pub use bpfkit_uapi::{AttachType, MapDef, MapFlags, MapType, ProgFlags, ProgType};
pub use btf::{BtfInfo, BtfObject};
pub use cpus::{online_cpus, possible_cpus};
pub use error::{Command, Errno, Error, Result};
pub use link::{
    Link, LinkCreate, LinkInfo, LinkTarget, attach_socket_filter, detach_socket_filter, flags,
    prog_attach, prog_detach,
};
pub use load::{FuncInfoRecord, LineInfoRecord, ProgramLoad};
pub use map::{Map, MapBtf, MapCreate, MapInfo, UpdateMode, is_per_cpu};
pub use mmap::{Mmap, page_size};
pub use obj::{ObjectKind, dup, fd_by_id, get_pinned, ids, next_id, pin};
pub use perf_buffer::{PerfBuffer, PerfRecord};
pub use perf_event::{DynamicPmu, PerfEvent};
pub use poll::Poller;
pub use probe::{Unavailable, probe};
pub use prog::{ProgInfo, Program, TestRun, TestRunOutput};
pub use raw::RawProgram;
pub use ringbuf::RingBuf;
