//! What a backend implements: labels, the entry trampoline, metering and one lowered
//! instruction at a time. The driver ([`crate::compile`]) calls it; a backend never decides
//! policy (which accesses are checked, what a call is), only which machine instructions carry
//! out a [`Lir`].

use crate::assembler::Emitted;
use crate::lower::{Lir, Options};

/// Errors a backend reports (the assembler's, in its own words).
pub type BackendError = String;

/// A code generator for one architecture.
pub trait Backend {
    /// A position in the code, bound once, referenced any number of times before or after.
    type Label: Copy;

    /// A new, unbound label.
    fn new_label(&mut self) -> Self::Label;

    /// Binds `label` to the current position.
    fn bind(&mut self, label: Self::Label);

    /// Bytes emitted so far.
    fn offset(&self) -> usize;

    /// Emits the entry trampoline at the current position: an `extern "C"` (System V on x86_64, AAPCS64 on aarch64)
    /// function `fn(ctx: *mut u64, entry: *const u8) -> u64` that saves
    /// the host's callee-saved registers, loads the eBPF registers from the context, calls the
    /// program at `entry` and returns `r0` (see [`crate::context`] for the words it uses).
    fn entry_trampoline(&mut self);

    /// Counts one instruction against the budget, faulting at `pc` when it is spent.
    fn meter(&mut self, pc: usize);

    /// Emits the machine code of the instruction at slot `pc`.
    fn emit(&mut self, pc: usize, lir: &Lir<Self::Label>);

    /// Binds `label`, the head of a versioned loop's copy (see [`crate::loops`]) or a label
    /// inside it, which every way to it (jumps, and falling through) reaches right after
    /// [`Backend::ready`] for `region`: a backend that keeps a region's delta in a register
    /// may assume it there.
    fn bind_ready(&mut self, label: Self::Label, region: u32) {
        let _ = region;
        self.bind(label);
    }

    /// Before a jump to a label bound with [`Backend::bind_ready`] for `region`: makes what it
    /// assumes true.
    fn ready(&mut self, region: u32) {
        let _ = region;
    }

    /// Pads the code to a multiple of `bytes` with instructions that do nothing (NOPs): where
    /// a loop's copy starts (the code before jumps away) and at a loop's head (the code before
    /// falls through them once), so that its rounds fetch as few blocks as they can.
    fn align(&mut self, bytes: usize) {
        let _ = bytes;
    }

    /// Told, before anything is emitted, that the driver will call [`Backend::emit`] up to
    /// `emits` more times than there are slots and group duplicates: the copies of versioned
    /// loops and their checks (see [`crate::loops`]). A backend that bounds the code still to
    /// come (aarch64's branch reach) adds them; others need not.
    fn expect_more(&mut self, emits: usize) {
        let _ = emits;
    }

    /// Emits the out-of-line code (fault paths, the runtime-call stub) and returns the bytes,
    /// position independent, with every label resolved.
    fn finish(self) -> Result<Emitted, BackendError>;
}

/// Makes a backend for `options`.
pub trait NewBackend: Backend + Sized {
    /// A backend compiling with `options`; `insns` is a hint of the number of instructions.
    fn new(options: Options, insns: usize) -> Self;
}
