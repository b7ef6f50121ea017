//! The services of a run that every engine shares: the address space, helper calls, tail calls,
//! legacy packet loads and the faults they raise.
//!
//! The interpreter uses them directly; the JIT calls them from generated code through a
//! trampoline, so helpers, maps and tail calls behave the same on every engine. A [`Runtime`]
//! exists only inside [`Vm::run_with`](crate::Vm::run_with), which builds the run's regions.

use bpfkit_isa::Opcode;

use crate::fault::Fault;
use crate::helpers::ids;
use crate::interp::Machine;
use crate::memory::{Access, Memory};
use crate::vm::ProgId;

/// How a run starts: the program and the registers it is given.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Entry {
    /// The program to run.
    pub program: ProgId,
    /// `r1`: the input's address (0 when there is no input).
    pub r1: u64,
    /// `r2`: the input's length.
    pub r2: u64,
}

/// What a `call` of a helper id did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CallOutcome {
    /// A helper returned this value for `r0`.
    Return(u64),
    /// `bpf_tail_call` chose this program: continue at its first instruction, keeping the
    /// registers, the frame and the call stack.
    TailCall(ProgId),
    /// `bpf_tail_call` found no program (or hit the limit): go on with the next instruction,
    /// `r0` unchanged.
    FallThrough,
}

/// One run's memory, helpers and maps, for an engine to run a program in.
pub struct Runtime<'v, 'a> {
    pub(crate) machine: Machine<'v, 'a>,
    pub(crate) entry: Entry,
    pub(crate) budget: Option<u64>,
    pub(crate) tail_calls: u32,
}

impl<'a> Runtime<'_, 'a> {
    /// Where the run starts.
    pub fn entry(&self) -> Entry {
        self.entry
    }

    /// The instruction budget of the run, if any.
    pub fn budget(&self) -> Option<u64> {
        self.budget
    }

    /// The run's address space.
    pub fn memory(&mut self) -> &mut Memory<'a> {
        &mut self.machine.mem
    }

    /// Calls helper `id` for the instruction at `pc` with `r1`-`r5`, as the interpreter's
    /// `call` and `callx` do: `bpf_tail_call` (12) picks the next program through the program
    /// array in `r2` at the index in `r3`, counting tail calls against the limit of 33; any
    /// other id runs the registered helper.
    pub fn call(&mut self, pc: usize, id: u32, args: [u64; 5]) -> Result<CallOutcome, Fault> {
        if id == ids::TAIL_CALL {
            let next = self
                .machine
                .tail_call(pc, args[1], args[2], &mut self.tail_calls)?;
            return Ok(match next {
                Some(program) => CallOutcome::TailCall(ProgId(program as u32)),
                None => CallOutcome::FallThrough,
            });
        }
        self.machine
            .call_helper(pc, id, args)
            .map(CallOutcome::Return)
    }

    /// A legacy `BPF_ABS`/`BPF_IND` load (`opcode`) of the input in network byte order, with
    /// the sign-extended `imm` and the value of the `src` register; `None` when it is out of
    /// bounds, which ends the program with `r0 = 0`.
    pub fn packet_load(&self, opcode: Opcode, imm: i64, src: u64) -> Option<u64> {
        self.machine.packet_load(opcode, imm, src)
    }

    /// The fault of a load of `size` bytes at `addr` outside the program's memory.
    pub fn read_fault(pc: usize, addr: u64, size: usize) -> Fault {
        Fault::OutOfBounds {
            pc,
            addr,
            size,
            access: Access::Read,
        }
    }

    /// The fault of a store of `size` bytes at `addr` that the memory refuses: read-only
    /// memory, or no memory at all.
    pub fn write_fault(&self, pc: usize, addr: u64, size: usize) -> Fault {
        Fault::on_write(&self.machine.mem, pc, addr, size)
    }
}
