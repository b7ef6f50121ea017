//! Lowering: each pre-decoded eBPF instruction ([`Op`]) becomes one machine-independent [`Lir`]
//! operation with every policy decision already made, so that a backend only picks machine
//! instructions.
//!
//! Decided here, the same for every architecture:
//! - which memory accesses need a run-time bounds check ([`Check`]): in checked mode every one,
//!   except an access through `r10` at a constant offset inside the 512-byte frame, which can
//!   never leave the frame and goes straight to the host stack;
//! - what a call is: a bpf-to-bpf call, a call into the runtime (helpers, `bpf_tail_call`,
//!   `callx`), or a kfunc, which faults in userspace;
//! - how a 64-bit load of a map value address is resolved (a virtual address in checked mode,
//!   the host address of the map's values in trusted mode);
//! - operations whose result is known while compiling (division by a zero immediate).

use bpfkit_isa::{
    AluOp, AtomicOp, ByteOrder, CallTarget, Cond, Insn, Kind, Opcode, PacketMode, Pseudo, Size,
    Source, Width,
};
use bpfkit_vm::memory::{MAP_VALUE_REGION, STACK_SIZE};
use bpfkit_vm::{Op, Program};

use crate::Mode;
use crate::context::{ENTRY_READ_LIMIT, ENTRY_WRITE_LIMIT, size_index};

/// The frame pointer's register index.
pub const FP: u8 = 10;

/// The second operand of an ALU operation, a compare or a store.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Operand {
    /// An eBPF register (0-10). In checked mode `r10` holds the virtual frame pointer, which a
    /// backend computes from its host frame pointer when an instruction reads it.
    Reg(u8),
    /// An immediate, sign-extended to 64 bits.
    Imm(i64),
}

/// How a load or store finds its host address.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Check {
    /// A virtual address (checked mode): translate through the run's region table and fault,
    /// as the interpreter does, when it is outside every region, past a region's end, or (for
    /// stores) in a read-only region. `guess` is the region the access probably falls in (see
    /// [`crate::guess`]): a backend may check against that region first, and must take the
    /// full lookup when the guess is wrong.
    Region {
        /// The likely region's index.
        guess: Option<u32>,
    },
    /// A virtual address that a [`Lir::CheckRange`] before it, in the same straight run of
    /// code with no jump into it and no write to `base` since, or a [`Lir::CheckSpan`] or
    /// [`Lir::CheckRange`] before the loop it is in (see [`crate::loops`]), proved inside
    /// region `region` with the whole access: its host address is the virtual address plus the region's
    /// [`ENTRY_DELTA`](crate::context::ENTRY_DELTA), with no check.
    Proven {
        /// The region the range check proved.
        region: u32,
    },
    /// `r10 + off` with the whole access inside the current frame: the host frame pointer plus
    /// `off`, with no check (it cannot fail).
    Frame,
    /// A host pointer (trusted mode): used as it is.
    Host,
}

/// A memory operand: `size` bytes at `base + off`, reached as `check` says.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Mem {
    /// Address register.
    pub base: u8,
    /// Displacement.
    pub off: i32,
    /// Access size.
    pub size: Size,
    /// How the address is checked.
    pub check: Check,
}

/// The bytes a [`Lir::CheckRange`] checks: `len` bytes at `base + off`, all inside region
/// `region`, which must be writable when `write`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Range {
    /// Address register.
    pub base: u8,
    /// Displacement of the range's first byte.
    pub off: i32,
    /// Length of the range in bytes (at least 1).
    pub len: u32,
    /// The region the range is guessed to fall in.
    pub region: u32,
    /// Whether a store is among the accesses.
    pub write: bool,
}

impl Range {
    /// Whether one unsigned compare of the first byte's offset into the region with the entry
    /// word [`Range::limit_word`] checks the whole range: for 1, 2, 4 or 8 bytes the table
    /// holds the limit of an access of that size. Otherwise the word is the one-byte limit,
    /// and the last byte's offset (the first's plus `len - 1`) is compared with it too.
    pub fn one_compare(&self) -> bool {
        self.len.is_power_of_two() && self.len <= 8
    }

    /// The region table entry's word (see [`crate::context`]) the offsets are compared with.
    pub fn limit_word(&self) -> usize {
        let limits = one_byte_limit(self.write);
        let k = if self.one_compare() {
            size_index(self.len as usize)
        } else {
            0
        };
        limits + k
    }
}

/// The bytes a loop's accesses through `base` reach, checked by a [`Lir::CheckSpan`] before the
/// loop (see [`crate::loops`]): from `start + first` on entry to `start + ((bound - 1 - cursor)
/// & -align) + last`, all inside region `region` (writable when `write`), where `start` is
/// `base` plus the registers in `plus`. Either `base` is the loop's cursor or a pointer moving
/// with it (`plus` empty), or `start` is a sum of registers the loop does not write and the
/// cursor, an index (an address the loop forms as `q = base; q += i`). The cursor's last round
/// starts below `bound`, and when it moves by a power of two, `align`, a multiple of it past
/// where it started.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Span {
    /// Address register.
    pub base: u8,
    /// Registers added to `base` to make the first round's address (an index, another
    /// offset); never `r10`.
    pub plus: [Option<u8>; 2],
    /// The loop's cursor (it may be `base`).
    pub cursor: u8,
    /// The register the cursor is compared with.
    pub bound: u8,
    /// Displacement of the first byte from `base`.
    pub first: i32,
    /// Displacement of the last byte from where `base` is in the last round.
    pub last: i32,
    /// What the cursor's moves are all multiples of: its step when that is a constant power of
    /// two, else 1.
    pub align: u32,
    /// The region the bytes are guessed to fall in.
    pub region: u32,
    /// Whether a store is among the accesses.
    pub write: bool,
}

impl Span {
    /// The region table entry's word (see [`crate::context`]) both offsets are compared with:
    /// the one-byte limit.
    pub fn limit_word(&self) -> usize {
        one_byte_limit(self.write)
    }
}

/// The region table entry's word holding the one-byte limit for writes (`write`) or reads.
fn one_byte_limit(write: bool) -> usize {
    if write {
        ENTRY_WRITE_LIMIT
    } else {
        ENTRY_READ_LIMIT
    }
}

/// The bytes a [`Lir::CheckLength`] checks: the `len` bytes (a register's value, at least 1)
/// from `start`, all inside region `region` (writable, for `write`): the window measured by a
/// length (see [`crate::window`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Length {
    /// The register holding the first byte's address.
    pub start: u8,
    /// The register holding the number of bytes.
    pub len: u8,
    /// The region they are guessed to lie in.
    pub region: u32,
    /// Whether a store is among the accesses the check proves.
    pub write: bool,
}

impl Length {
    /// The region table entry's word (see [`crate::context`]) `len - 1` and both offsets are
    /// compared with: the one-byte limit.
    pub fn limit_word(&self) -> usize {
        one_byte_limit(self.write)
    }
}

/// One lowered instruction. `L` is the backend's label type, the target of jumps and calls.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Lir<L> {
    /// `dst = dst op src` (or `dst = op src` for `Neg`, `Mov`, `MovSx`), 32-bit results
    /// zero-extended; division and modulo by a zero register follow RFC 9669.
    Alu {
        /// The operation.
        op: AluOp,
        /// 64-bit (`true`) or 32-bit.
        wide: bool,
        /// Destination register.
        dst: u8,
        /// Second operand.
        src: Operand,
    },
    /// Byte-order conversion of the low `bits` of `dst`.
    Endian {
        /// Conversion kind.
        order: ByteOrder,
        /// 16, 32 or 64.
        bits: u8,
        /// The register.
        dst: u8,
    },
    /// `dst = value`.
    Const {
        /// Destination register.
        dst: u8,
        /// The value.
        value: u64,
    },
    /// `dst = host address of map value region `region` + `off`` (trusted mode's
    /// `lddw map_value`).
    HostAddr {
        /// Destination register.
        dst: u8,
        /// Region index in the run's table.
        region: u64,
        /// Offset into the region.
        off: u32,
    },
    /// `dst = *(size *)(base + off)`, zero- or sign-extended.
    Load {
        /// Destination register.
        dst: u8,
        /// Where from.
        mem: Mem,
        /// Sign-extending load.
        sign: bool,
    },
    /// `*(size *)(base + off) = value`.
    Store {
        /// Where to.
        mem: Mem,
        /// What is stored.
        value: Operand,
    },
    /// Atomic read-modify-write of `*(size *)(base + off)` with register `src`.
    Atomic {
        /// The operation.
        op: AtomicOp,
        /// The memory (W or DW).
        mem: Mem,
        /// The operand register (and, for fetching forms, where the old value goes).
        src: u8,
    },
    /// Jump to `target` when `dst cond src` holds (always, when `cond` is `None`).
    Jump {
        /// The comparison, its width, and the operands; `None` for `ja`.
        cond: Option<(Cond, bool, u8, Operand)>,
        /// Where to.
        target: L,
    },
    /// A bpf-to-bpf call: a new frame, `r6`-`r9` restored on return.
    CallLocal {
        /// The callee.
        target: L,
        /// Which of `r6`-`r9` to save around the call (bit `k`: `r(6 + k)`): those the callee
        /// may write (see [`crate::saves`]; lowered as all four). A backend may save more.
        saves: u8,
    },
    /// A call into the runtime: helper `id`, or for `callx` the id in register `reg`;
    /// `bpf_tail_call` (12) may continue in another program.
    CallRuntime {
        /// The helper id, or `None` for `callx`.
        id: Option<u32>,
        /// The register holding the id, for `callx`.
        reg: u8,
    },
    /// A kfunc call: there are none in userspace, so a fault.
    CallKfunc {
        /// The kfunc's BTF id.
        btf_id: i32,
    },
    /// Checks that `range` lies inside its region, the range of the [`Check::Proven`] accesses
    /// after it, and jumps to `fallback` when it does not: a copy of the code from the first of
    /// those accesses on, with each access checked on its own (see [`crate::group`]).
    CheckRange {
        /// The bytes to check.
        range: Range,
        /// Where to go when the range is not inside the region.
        fallback: L,
    },
    /// Checks that `span` lies inside its region, and jumps to `fallback` when it does not:
    /// before a loop whose accesses through `span.base` are [`Check::Proven`] in its fast copy
    /// (see [`crate::loops`]); the fallback is the loop with each access checked.
    CheckSpan {
        /// The bytes to check.
        span: Span,
        /// Where to go when they are not all inside the region.
        fallback: L,
    },
    /// Checks that `length` lies inside its region, and jumps to `fallback` when it does not:
    /// the check of a window measured by a length rather than ended by a pointer (see
    /// [`crate::window`]).
    CheckLength {
        /// The bytes to check.
        length: Length,
        /// Where to go when they are not all inside the region.
        fallback: L,
    },
    /// A legacy packet load through the runtime; out of bounds ends the program with 0.
    PacketLoad {
        /// The instruction (`LdAbsB` ... `LdIndW`).
        opcode: Opcode,
        /// The sign-extended immediate.
        imm: i64,
        /// The index register of `BPF_IND` forms.
        src: u8,
    },
    /// Return from the program or subprogram.
    Exit,
}

/// How the driver compiles: the memory model and the run options compiled into the code.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Options {
    /// Checked or trusted memory.
    pub mode: Mode,
    /// Count instructions against a budget.
    pub metered: bool,
    /// Fault on misaligned accesses.
    pub strict_alignment: bool,
    /// How atomics are compiled (aarch64).
    pub atomics: crate::Atomics,
}

/// Whether `r10 + off` of `size` bytes lies inside the frame, so it needs no check.
#[inline]
fn in_frame(off: i32, size: Size) -> bool {
    off >= -(STACK_SIZE as i32) && off + size.bytes() as i32 <= 0
}

#[inline]
fn mem(options: Options, base: u8, off: i32, size: Size) -> Mem {
    let check = match options.mode {
        Mode::Trusted => Check::Host,
        // Strict alignment needs the virtual address; the frame is 512-aligned, so only the
        // offset matters, and a misaligned one goes the checked way to fault there.
        Mode::Checked
            if base == FP
                && in_frame(off, size)
                && (!options.strict_alignment || off % size.bytes() as i32 == 0) =>
        {
            Check::Frame
        }
        Mode::Checked => Check::Region { guess: None },
    };
    Mem {
        base,
        off,
        size,
        check,
    }
}

/// Lowers `insn`, whose pre-decoded form is `op` (the op tells targets and resolved values,
/// the instruction which `lddw` pseudo form it was); `label` gives the label of a slot of the
/// same program.
#[inline(always)]
pub fn lower<L: Copy>(
    insn: &Insn,
    op: &Op,
    options: Options,
    label: impl Fn(usize) -> L,
) -> Lir<L> {
    let insn_kind = op.opcode.spec().kind;
    let (dst, src, off, imm) = (op.dst, op.src, op.off, op.imm);
    let operand = |source| match source {
        Source::Imm => Operand::Imm(imm),
        Source::Reg => Operand::Reg(src),
    };
    match insn_kind {
        Kind::Alu { op, width, src } => Lir::Alu {
            op,
            wide: width == Width::W64,
            dst,
            src: operand(src),
        },
        Kind::Endian { order, bits } => Lir::Endian { order, bits, dst },
        Kind::LoadImm64 { .. } => {
            let value = imm as u64;
            let region = value >> 32;
            let map_value = matches!(
                insn.kind(),
                Kind::LoadImm64 {
                    pseudo: Pseudo::MapValue | Pseudo::MapIdxValue
                }
            );
            if options.mode == Mode::Trusted && map_value && region >= MAP_VALUE_REGION {
                Lir::HostAddr {
                    dst,
                    region,
                    off: value as u32,
                }
            } else {
                Lir::Const { dst, value }
            }
        }
        Kind::LoadPacket { .. } => Lir::PacketLoad {
            opcode: op.opcode,
            imm,
            src,
        },
        Kind::Load { size, sign_extend } => Lir::Load {
            dst,
            mem: mem(options, src, off, size),
            sign: sign_extend,
        },
        Kind::Store { size, src: source } => Lir::Store {
            mem: mem(options, dst, off, size),
            value: operand(source),
        },
        Kind::Atomic { op, size } => Lir::Atomic {
            op,
            mem: mem(options, dst, off, size),
            src,
        },
        Kind::Jump { cond, width, src } => Lir::Jump {
            cond: Some((cond, width == Width::W64, dst, operand(src))),
            target: label(off as usize),
        },
        Kind::Ja | Kind::Ja32 => Lir::Jump {
            cond: None,
            target: label(off as usize),
        },
        Kind::Call { target } => match target {
            CallTarget::Helper => Lir::CallRuntime {
                id: Some(imm as u32),
                reg: 0,
            },
            CallTarget::Local => Lir::CallLocal {
                target: label(off as usize),
                saves: crate::saves::ALL,
            },
            CallTarget::Kfunc => Lir::CallKfunc { btf_id: imm as i32 },
        },
        Kind::CallX => Lir::CallRuntime { id: None, reg: dst },
        Kind::Exit => Lir::Exit,
    }
}

/// Whether `op` jumps or calls to the slot in its `off` (a jump, `ja`, `gotol` or a local call).
#[inline]
pub fn is_branch(op: &Op) -> bool {
    matches!(
        op.opcode.spec().kind,
        Kind::Jump { .. }
            | Kind::Ja
            | Kind::Ja32
            | Kind::Call {
                target: CallTarget::Local
            }
    )
}

/// Each instruction of `program` with its slot index and pre-decoded form.
#[inline]
pub fn instructions(program: &Program) -> impl Iterator<Item = (usize, &Insn, &Op)> {
    let ops = program.ops();
    program.insns().map(move |(pc, insn)| (pc, insn, &ops[pc]))
}

/// Whether a packet load is `BPF_IND` (adds its `src` register).
pub fn is_indirect(opcode: Opcode) -> bool {
    matches!(
        opcode.spec().kind,
        Kind::LoadPacket {
            mode: PacketMode::Ind,
            ..
        }
    )
}
