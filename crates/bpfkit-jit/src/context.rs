//! The run context: the words generated code reads and writes, shared by every backend.
//!
//! It is a slice of `u64` words that a `Jit` keeps from run to run (`run::Context`), addressed
//! by word index, so the Rust side needs no `unsafe` to fill or read it and a backend
//! addresses every field as `[ctx + 8 * index]`. After the
//! fixed words comes the region table, one entry of [`ENTRY_WORDS`] words per region of the
//! run's address space (region `i` is the virtual addresses `i << 32 ..`).

/// `r0`-`r10`, stored by generated code before a call into the runtime and reloaded after it;
/// on the way in, `r1` and `r2` (the entry trampoline starts the others as 0).
pub const REGS: usize = 0;
/// Status of the run when generated code returns: one of the `STATUS_*` values.
pub const STATUS: usize = 11;
/// The host stack pointer on entry, to unwind every frame on a fault.
pub const SAVED_RSP: usize = 12;
/// Instructions left in the budget (metered code only).
pub const REMAINING: usize = 13;
/// Host address of the first stack frame (frame `d` is `STACK_BASE + 512 * d`).
pub const STACK_BASE: usize = 14;
/// The host frame pointer past which a bpf-to-bpf call would exceed 8 frames.
pub const STACK_LIMIT: usize = 15;
/// Number of regions in the table.
pub const REGION_COUNT: usize = 16;
/// The instruction (slot index) of a fault or runtime call.
pub const ARG_PC: usize = 17;
/// What faulted (a `FAULT_*` value), the helper id of a call, or a packet load's opcode.
pub const ARG_KIND: usize = 18;
/// The faulting virtual address, or a packet load's immediate.
pub const ARG_ADDR: usize = 19;
/// The access size of a fault, or a packet load's index register value.
pub const ARG_SIZE: usize = 20;
/// Where a tail call continues (a host code address), set by the runtime.
pub const NEXT_ENTRY: usize = 21;
/// The host address of the runtime call trampoline.
pub const CALL_FN: usize = 22;
/// The host address of the packet load trampoline.
pub const PACKET_FN: usize = 23;
/// Reserved: the Rust side's run state.
pub const RUN: usize = 24;
/// Set (to the store's virtual address, never 0) by checked code when a store or atomic went
/// through the full region lookup, which may have reached any stack frame; 0 otherwise. A run
/// whose code can reach frames other than the entry's in no other way cleans only frame 0
/// after it unless this is set (see `Jit::run_program`).
pub const FRAMES_WRITTEN: usize = 25;
/// First word of the region table.
pub const TABLE: usize = 26;

/// Words per region table entry (a power of two, so an entry's offset is a shift of the region
/// index).
pub const ENTRY_WORDS: usize = 16;
/// Entry word: host address of the region's first byte.
pub const ENTRY_BASE: usize = 0;
/// Entry word: the region's length in bytes.
pub const ENTRY_LEN: usize = 1;
/// Entry words `ENTRY_READ_LIMIT + k`: how many offsets a load of `1 << k` bytes fits at
/// (length minus size plus one, or 0 when none fits), so that an access is in bounds exactly
/// when its offset is below the limit as an unsigned number: one compare, which also refuses
/// an offset that underflowed (see [`ENTRY_VSTART`]).
pub const ENTRY_READ_LIMIT: usize = 2;
/// Entry words `ENTRY_WRITE_LIMIT + k`: the same for stores; 0 in read-only regions.
pub const ENTRY_WRITE_LIMIT: usize = 6;
/// Entry word: the region's first virtual address, `i << 32` for region `i`. A backend that
/// guesses an access's region subtracts it from the virtual address: the offset into the
/// region when the guess is right, and a number of at least `1 << 32` (as unsigned) when it is
/// wrong, which every limit refuses.
pub const ENTRY_VSTART: usize = 10;
/// Entry word: the region's host address minus its first virtual address (wrapping), so that
/// an address proven inside the region (see [`crate::lower::Check::Proven`]) becomes its host
/// address with one addition.
pub const ENTRY_DELTA: usize = 11;

/// `k` such that an access of `bytes` (1, 2, 4 or 8) is `1 << k` bytes.
pub const fn size_index(bytes: usize) -> usize {
    bytes.trailing_zeros() as usize
}

/// Byte offset of word `index` in the context.
pub const fn at(index: usize) -> i32 {
    (index * 8) as i32
}

/// Status: the program returned normally; `r0` is the return value.
pub const STATUS_OK: u64 = 0;
/// Status: a fault, described by `ARG_*` (or, for [`FAULT_RUNTIME`], by the run state).
pub const STATUS_FAULT: u64 = 1;
/// Status: a legacy packet load out of bounds ended the program with `r0 = 0`.
pub const STATUS_EXIT_ZERO: u64 = 2;

/// What a runtime trampoline returns to generated code.
pub mod call {
    /// Go on with the next instruction (`r0` reloaded).
    pub const CONTINUE: u64 = 0;
    /// Jump to `NEXT_ENTRY` (a tail call).
    pub const TAIL_CALL: u64 = 1;
    /// The runtime faulted: unwind with `STATUS_FAULT`.
    pub const FAULT: u64 = 2;
    /// A packet load out of bounds: unwind with `STATUS_EXIT_ZERO`.
    pub const EXIT_ZERO: u64 = 3;
}

/// Fault kinds generated code writes to `ARG_KIND`.
pub const FAULT_READ: u64 = 0;
/// A store outside writable memory (the runtime tells read-only from no memory).
pub const FAULT_WRITE: u64 = 1;
/// A misaligned load (strict alignment).
pub const FAULT_MISALIGNED_READ: u64 = 2;
/// A misaligned store (strict alignment).
pub const FAULT_MISALIGNED_WRITE: u64 = 3;
/// A ninth frame.
pub const FAULT_CALL_DEPTH: u64 = 4;
/// A kfunc call; `ARG_ADDR` holds the BTF id.
pub const FAULT_KFUNC: u64 = 5;
/// The budget ran out.
pub const FAULT_BUDGET: u64 = 6;
/// The runtime returned a fault, kept by the Rust side.
pub const FAULT_RUNTIME: u64 = 7;
