//! Loading a program: decode once, check what can be checked statically, and lower to the
//! compact form the interpreter dispatches on.

use bpfkit_isa::{AtomicOp, DecodeError, Decoder, Insn, Kind, Opcode, Pseudo, Reg};

use crate::memory::{CODE_REGION, FrameUse, MAP_HANDLE_REGION, MAP_VALUE_REGION, region_base};

/// Why a program cannot be loaded. Unlike a [`Fault`](crate::Fault), these are found before
/// anything runs, like the kernel's structural checks in `check_cfg` and `check_subprogs`.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum LoadError {
    /// The bytes do not decode.
    #[error(transparent)]
    Decode(#[from] DecodeError),
    /// There is nothing to run.
    #[error("the program has no instructions")]
    Empty,
    /// A jump or call leaves the program.
    #[error("instruction {pc}: jump to {target} is outside the program (0..{len})")]
    JumpOutOfRange {
        /// The jump.
        pc: usize,
        /// Its target slot.
        target: i64,
        /// Number of slots.
        len: usize,
    },
    /// A jump or call lands on the second slot of an `lddw`.
    #[error("instruction {pc}: jump to {target} lands inside the lddw at {}", target - 1)]
    JumpIntoLddw {
        /// The jump.
        pc: usize,
        /// Its target slot.
        target: usize,
    },
    /// An instruction writes `r10`.
    #[error("instruction {pc}: r10 is the read-only frame pointer")]
    WritesFramePointer {
        /// The instruction.
        pc: usize,
    },
    /// Execution could run past the last instruction.
    #[error("instruction {pc}: the last instruction must be exit or an unconditional jump")]
    FallsOffEnd {
        /// The last instruction.
        pc: usize,
    },
}

/// One pre-decoded instruction, the form every engine runs: the interpreter dispatches on it and
/// the JIT lowers it. Jump and call targets are absolute slot indices in `off`; `imm` is
/// sign-extended, or the full 64-bit value of a resolved `lddw` (whose opcode is then always
/// [`Opcode::LdImm64`], every pseudo form resolved to a virtual address). The second slot of an
/// `lddw` holds a filler `Exit` that nothing jumps to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Op {
    /// The instruction.
    pub opcode: Opcode,
    /// Destination register index (0-10).
    pub dst: u8,
    /// Source register index (0-10).
    pub src: u8,
    /// Memory displacement, or the absolute target slot of a jump or local call.
    pub off: i32,
    /// Sign-extended immediate, or the 64-bit value of an `lddw`.
    pub imm: i64,
}

/// A validated program, ready to run in a [`Vm`](crate::Vm).
#[derive(Clone, Debug)]
pub struct Program {
    insns: Vec<(usize, Insn)>,
    pub(crate) ops: Box<[Op]>,
    frames: FrameUse,
    calls: Calls,
}

/// What a program calls, found once when it is built so that every engine's set-up can ask
/// without scanning the instructions again.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
struct Calls {
    /// A bpf-to-bpf call, or a callback (`lddw func`) a helper may call: code that runs in a
    /// deeper frame.
    deeper: bool,
    /// A helper call (`bpf_tail_call` included), `callx` or a legacy packet load: a call into
    /// the runtime.
    runtime: bool,
}

impl Calls {
    /// Adds what an instruction of kind `kind` calls.
    fn add(&mut self, kind: Kind) {
        match kind {
            Kind::Call {
                target: bpfkit_isa::CallTarget::Local,
            }
            | Kind::LoadImm64 {
                pseudo: Pseudo::Func,
            } => self.deeper = true,
            Kind::Call {
                target: bpfkit_isa::CallTarget::Helper,
            }
            | Kind::CallX
            | Kind::LoadPacket { .. } => self.runtime = true,
            _ => {}
        }
    }
}

/// The stack frames a run may write in checked mode, where any address can be formed, because
/// of one instruction of kind `kind` (a program's use is the most of its instructions'): none
/// but for a store; frame 0 for a store (or atomic) through `r10`, which with no bpf-to-bpf
/// call always points at frame 0's end (such a store reaches frame 0 or faults); any frame for
/// a store through another register, a helper call (it may write where it is pointed, and tail
/// calls and callbacks are helpers), or a bpf-to-bpf call or callback (`lddw func`), which can
/// run code in deeper frames.
fn frames_written(insn: &Insn, kind: Kind) -> FrameUse {
    match kind {
        Kind::Store { .. } | Kind::Atomic { .. } if insn.dst == Reg::R10 => FrameUse::Entry,
        Kind::Store { .. }
        | Kind::Atomic { .. }
        | Kind::Call { .. }
        | Kind::CallX
        | Kind::LoadImm64 {
            pseudo: Pseudo::Func,
        } => FrameUse::Any,
        _ => FrameUse::Nothing,
    }
}

/// The register an instruction writes that must not be `r10`, if any.
fn written_register(insn: &Insn) -> Option<Reg> {
    match insn.kind() {
        Kind::Alu { .. } | Kind::Endian { .. } | Kind::LoadImm64 { .. } | Kind::Load { .. } => {
            Some(insn.dst)
        }
        Kind::Atomic { op, .. } if op.fetches() && op != AtomicOp::CmpXchg => Some(insn.src),
        _ => None,
    }
}

impl Program {
    /// Decodes and validates a program given as 8-byte slots.
    pub fn from_bytes(bytes: &[u8]) -> Result<Program, LoadError> {
        let insns = Decoder::new(bytes).collect::<Result<Vec<_>, _>>()?;
        Program::build(insns)
    }

    /// Validates a program given as decoded instructions.
    pub fn new(insns: &[Insn]) -> Result<Program, LoadError> {
        let mut slot = 0;
        let with_slots = insns
            .iter()
            .map(|insn| {
                let at = slot;
                slot += insn.slots();
                (at, *insn)
            })
            .collect();
        Program::build(with_slots)
    }

    fn build(insns: Vec<(usize, Insn)>) -> Result<Program, LoadError> {
        let Some(&(last_pc, last)) = insns.last() else {
            return Err(LoadError::Empty);
        };
        let len = last_pc + last.slots();
        // Slots that are the second half of an lddw: no jump may land there.
        let mut second_slot = vec![false; len];
        for (pc, insn) in &insns {
            if insn.slots() == 2 {
                second_slot[pc + 1] = true;
            }
        }
        let target = |pc: usize, distance: i64| -> Result<i32, LoadError> {
            let t = pc as i64 + 1 + distance;
            if t < 0 || t >= len as i64 {
                return Err(LoadError::JumpOutOfRange { pc, target: t, len });
            }
            if second_slot[t as usize] {
                return Err(LoadError::JumpIntoLddw {
                    pc,
                    target: t as usize,
                });
            }
            i32::try_from(t).map_err(|_| LoadError::JumpOutOfRange { pc, target: t, len })
        };
        if !matches!(last.opcode, Opcode::Exit | Opcode::Ja | Opcode::Ja32) {
            return Err(LoadError::FallsOffEnd { pc: last_pc });
        }
        let filler = Op {
            opcode: Opcode::Exit,
            dst: 0,
            src: 0,
            off: 0,
            imm: 0,
        };
        let mut ops = vec![filler; len];
        let mut calls = Calls::default();
        let mut frames = FrameUse::Nothing;
        for &(pc, insn) in &insns {
            if written_register(&insn) == Some(Reg::R10) {
                return Err(LoadError::WritesFramePointer { pc });
            }
            let mut op = Op {
                opcode: insn.opcode,
                dst: insn.dst.index(),
                src: insn.src.index(),
                off: insn.off as i32,
                imm: insn.imm as i64,
            };
            let kind = insn.kind();
            calls.add(kind);
            frames = frames.max(frames_written(&insn, kind));
            match kind {
                Kind::Ja | Kind::Jump { .. } => op.off = target(pc, insn.off as i64)?,
                Kind::Ja32 => op.off = target(pc, insn.imm as i64)?,
                Kind::Call {
                    target: bpfkit_isa::CallTarget::Local,
                } => op.off = target(pc, insn.imm as i64)?,
                Kind::LoadImm64 { pseudo } => {
                    op.opcode = Opcode::LdImm64;
                    op.imm = match pseudo {
                        Pseudo::Imm64 => insn.imm64() as i64,
                        Pseudo::MapFd | Pseudo::MapIdx => {
                            (region_base(MAP_HANDLE_REGION) | insn.imm as u32 as u64) as i64
                        }
                        Pseudo::MapValue | Pseudo::MapIdxValue => {
                            let region = MAP_VALUE_REGION + insn.imm as u32 as u64;
                            (region_base(region) | insn.next_imm as u32 as u64) as i64
                        }
                        Pseudo::Func => {
                            let t = target(pc, insn.imm as i64)?;
                            (region_base(CODE_REGION) | t as u64) as i64
                        }
                        // A kernel variable: there is none in userspace, so a null pointer.
                        Pseudo::BtfId => 0,
                    };
                }
                _ => {}
            }
            ops[pc] = op;
        }
        Ok(Program {
            frames,
            insns,
            ops: ops.into_boxed_slice(),
            calls,
        })
    }

    /// The instructions with their slot indices.
    pub fn insns(&self) -> impl Iterator<Item = (usize, &Insn)> {
        self.insns.iter().map(|(pc, insn)| (*pc, insn))
    }

    /// The instructions starting in slots `slots`, with their slot indices: one search for
    /// the first, then in order (where [`Program::insn_at`] searches for each slot).
    pub fn insns_in(&self, slots: std::ops::Range<usize>) -> impl Iterator<Item = (usize, &Insn)> {
        let first = self.insns.partition_point(|(pc, _)| *pc < slots.start);
        self.insns[first..]
            .iter()
            .take_while(move |(pc, _)| *pc < slots.end)
            .map(|(pc, insn)| (*pc, insn))
    }

    /// The instruction at slot `pc`, if one starts there.
    pub fn insn_at(&self, pc: usize) -> Option<&Insn> {
        self.insns
            .binary_search_by_key(&pc, |(p, _)| *p)
            .ok()
            .map(|i| &self.insns[i].1)
    }

    /// The pre-decoded instructions, one per slot (see [`Op`]).
    pub fn ops(&self) -> &[Op] {
        &self.ops
    }

    /// Number of 8-byte slots.
    pub fn len(&self) -> usize {
        self.ops.len()
    }

    /// The stack frames a run of this program may write, on any engine (see [`FrameUse`]).
    pub fn frame_use(&self) -> FrameUse {
        self.frames
    }

    /// Whether the program can run code in a deeper stack frame: it has a bpf-to-bpf call, or a
    /// callback (`lddw func`) that a helper may call.
    pub fn calls_deeper(&self) -> bool {
        self.calls.deeper
    }

    /// Whether the program calls into the runtime: a helper call (`bpf_tail_call` included),
    /// `callx` or a legacy packet load.
    pub fn calls_runtime(&self) -> bool {
        self.calls.runtime
    }

    /// Whether the program is empty (never true for a loaded program).
    pub fn is_empty(&self) -> bool {
        self.ops.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn frames(source: &str) -> FrameUse {
        let insns = bpfkit_asm::assemble(source, bpfkit_isa::Dialect::Llvm).unwrap();
        Program::new(&insns).unwrap().frame_use()
    }

    /// `insns_in` gives what `insn_at` gives for each slot of the range, in order, with the
    /// second slot of an `lddw` skipped and ranges that start or end inside one.
    #[test]
    fn insns_in_agrees_with_insn_at() {
        let source = "r1 = 1\nr2 = 0x100000000 ll\nr3 = 3\nr0 = 0 ll\nexit";
        let insns = bpfkit_asm::assemble(source, bpfkit_isa::Dialect::Llvm).unwrap();
        let program = Program::new(&insns).unwrap();
        assert_eq!(program.len(), 7);
        for start in 0..=8 {
            for end in start..=8 {
                let each: Vec<(usize, &Insn)> = (start..end)
                    .filter_map(|pc| program.insn_at(pc).map(|insn| (pc, insn)))
                    .collect();
                let ranged: Vec<(usize, &Insn)> = program.insns_in(start..end).collect();
                assert_eq!(ranged, each, "{start}..{end}");
            }
        }
        assert_eq!(program.insns_in(0..7).count(), 5);
    }

    #[test]
    fn frame_use_follows_the_stores_and_calls() {
        // Loads, even of other frames by address, write nothing.
        assert_eq!(frames("r0 = *(u64 *)(r10 - 8)\nexit"), FrameUse::Nothing);
        assert_eq!(
            frames("r1 = 0x200000000 ll\nr0 = *(u8 *)(r1 + 0)\nexit"),
            FrameUse::Nothing
        );
        // Stores and atomics through r10 reach frame 0 or fault.
        assert_eq!(
            frames("*(u64 *)(r10 - 8) = 1\nr0 = 0\nexit"),
            FrameUse::Entry
        );
        assert_eq!(
            frames("r1 = 1\nlock *(u64 *)(r10 - 8) += r1\nr0 = 0\nexit"),
            FrameUse::Entry
        );
        // Through any other register, anywhere.
        assert_eq!(
            frames("r2 = r10\n*(u8 *)(r2 - 1) = 1\nr0 = 0\nexit"),
            FrameUse::Any
        );
        assert_eq!(
            frames("r1 = 1\nlock *(u64 *)(r2 + 0) += r1\nr0 = 0\nexit"),
            FrameUse::Any
        );
        // Helpers write where they are pointed; calls and callbacks use deeper frames.
        assert_eq!(frames("call 5\nexit"), FrameUse::Any);
        assert_eq!(frames("call +1\nexit\nr0 = 0\nexit"), FrameUse::Any);
        assert_eq!(
            frames("r1 = func(+2) ll\nr0 = 0\nexit\nr0 = 0\nexit"),
            FrameUse::Any
        );
    }

    #[test]
    fn calls_tell_deeper_frames_apart_from_the_runtime() {
        let calls = |source: &str| {
            let insns = bpfkit_asm::assemble(source, bpfkit_isa::Dialect::Llvm).unwrap();
            let program = Program::new(&insns).unwrap();
            (program.calls_deeper(), program.calls_runtime())
        };
        assert_eq!(calls("r0 = 0\nexit"), (false, false));
        // A helper (a tail call is one), `callx` and a legacy packet load go to the runtime.
        assert_eq!(calls("call 1\nexit"), (false, true));
        assert_eq!(calls("call 12\nexit"), (false, true));
        assert_eq!(calls("callx r2\nexit"), (false, true));
        assert_eq!(calls("r6 = r1\nr0 = *(u8 *)skb[0]\nexit"), (false, true));
        // A bpf-to-bpf call and a callback run code in a deeper frame.
        assert_eq!(calls("call +1\nexit\nr0 = 0\nexit"), (true, false));
        assert_eq!(
            calls("r1 = func(+2) ll\nr0 = 0\nexit\nr0 = 0\nexit"),
            (true, false)
        );
        // A map value's address is no call.
        assert_eq!(calls("r1 = 0 ll\nr0 = 0\nexit"), (false, false));
    }
}
