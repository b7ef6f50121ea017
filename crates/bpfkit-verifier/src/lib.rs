//! A static verifier modelled on the Linux kernel's (`kernel/bpf/verifier.c`, `tnum.c`): it
//! predicts whether Linux 6.18 accepts a program from a loader with `CAP_BPF` and `CAP_PERFMON`,
//! offline and without root, and explains a rejection better than the kernel's log.
//!
//! - [`Tnum`] and [`Scalar`]: what is known about each number (known bits, 64- and 32-bit
//!   signed and unsigned ranges kept in step as the kernel keeps them).
//! - [`Reg`] and [`State`]: register types (scalar, ctx, stack, packet, map pointers and values,
//!   sockets, ring buffer memory, ...), stack slots (spills, numbers, zeros), references.
//! - The walk explores every path, forks at conditional jumps, prunes paths whose state a
//!   finished state covers, and checks each instruction against the kernel's rules: ctx access
//!   per program type and helper prototypes from `bpfkit-uapi`'s tables, packet ranges learned
//!   from comparisons with `data_end`, null checks, references released on every path,
//!   bpf-to-bpf calls and global functions, callbacks, bounded loops, the 1,000,000-instruction
//!   limit.
//! - A rejection is a [`Diagnostic`]: the kernel's own message text ([`Message`]), the
//!   instruction, the branch decisions that led there, the registers, the source line and a fix.
//!
//! ```
//! use bpfkit_asm::assemble;
//! use bpfkit_isa::Dialect;
//! use bpfkit_uapi::ProgType;
//! use bpfkit_verifier::{Program, verify};
//!
//! // An XDP program reading a packet byte without checking the packet's length.
//! let insns = assemble(
//!     "r2 = *(u32 *)(r1 + 0)\nr0 = *(u8 *)(r2 + 0)\nexit",
//!     Dialect::Llvm,
//! ).unwrap();
//! let verdict = verify(&Program::new(&insns, ProgType::XDP));
//! let diag = verdict.error.unwrap();
//! assert_eq!(diag.message.to_string(), "R2 offset is outside of the packet");
//! assert_eq!(diag.pc, 1);
//! assert!(diag.fix.unwrap().contains("data_end"));
//! ```

#![forbid(unsafe_code)]
#![deny(missing_docs)]

mod cfg;
mod check;
mod diag;
mod image;
mod msg;
mod program;
mod reg;
mod scalar;
mod state;
mod tnum;

pub use diag::Diagnostic;
pub use image::{ImageInputs, gpl_compatible, image_inputs, verify_image};
pub use msg::Message;
pub use program::{FuncInfo, GlobalArg, Kfunc, KfuncType, Ksym, LineInfo, MapInfo, Program};
pub use reg::{Reg, RegFlags, RegKind};
pub use scalar::{Scalar, Test};
pub use state::{Frame, RefState, StackByte, StackSlot, State};
pub use tnum::Tnum;

/// A branch decision on the path to a rejection.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Step {
    /// The conditional jump (slot index).
    pub pc: usize,
    /// Whether the jump was taken.
    pub taken: bool,
}

/// Work counters, as the kernel reports them (`processed N insns (limit 1000000)
/// max_states_per_insn ...`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Stats {
    /// Instructions processed on all paths.
    pub insns: usize,
    /// States stored at prune points.
    pub states: usize,
    /// Most states stored at one instruction.
    pub max_states_per_insn: usize,
    /// Most states stored at once.
    pub peak_states: usize,
    /// Paths pruned because a stored state covered them.
    pub pruned: usize,
    /// Conditional and unconditional jumps processed.
    pub jumps: usize,
    /// Most paths waiting at once.
    pub peak_pending: usize,
}

impl std::fmt::Display for Stats {
    /// The kernel's statistics line.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "processed {} insns (limit {}) max_states_per_insn {} total_states {} peak_states {} mark_read 0",
            self.insns,
            check::INSN_LIMIT,
            self.max_states_per_insn,
            self.states,
            self.peak_states
        )
    }
}

/// The verifier's answer for one program.
#[derive(Clone, Debug)]
pub struct Verdict {
    /// Why the program is rejected; `None` when accepted.
    pub error: Option<Diagnostic>,
    /// Work done.
    pub stats: Stats,
    /// A kernel-style log (with [`Options::log`]).
    pub log: String,
}

impl Verdict {
    /// Whether the program is accepted.
    pub fn accepted(&self) -> bool {
        self.error.is_none()
    }
}

/// Verifier options.
#[derive(Clone, Copy, Debug, Default)]
pub struct Options {
    /// Produce a kernel-style log of every instruction processed.
    pub log: bool,
}

/// Verifies `prog` with default options.
pub fn verify(prog: &Program<'_>) -> Verdict {
    verify_with(prog, Options::default())
}

/// Verifies `prog`.
pub fn verify_with(prog: &Program<'_>, opts: Options) -> Verdict {
    let cfg = match cfg::build(prog) {
        Ok(cfg) => cfg,
        Err((pc, message)) => {
            return Verdict {
                error: Some(Diagnostic::new(
                    prog,
                    message,
                    pc,
                    None,
                    Vec::new(),
                    Vec::new(),
                )),
                stats: Stats::default(),
                log: String::new(),
            };
        }
    };
    let mut checker = check::Checker::new(prog, cfg, opts.log);
    let result = checker.check_all();
    let stats = checker.stats;
    let mut log = checker.log.take().unwrap_or_default();
    let error = match result {
        Ok(()) => checker
            .check_stack_depth()
            .err()
            .map(|m| Diagnostic::new(prog, m, 0, None, Vec::new(), Vec::new())),
        Err(r) => Some(Diagnostic::new(prog, r.msg, r.pc, r.state, r.path, r.notes)),
    };
    if opts.log {
        if let Some(e) = &error {
            for n in &e.notes {
                log.push_str(&format!("{n}\n"));
            }
            log.push_str(&format!("{}\n", e.message));
        }
        log.push_str(&format!("{stats}\n"));
    }
    Verdict { error, stats, log }
}
