//! Adapters that load and run a corpus program on each interpreter, with the input in `r1`
//! (pointer) and `r2` (length) on every engine.
//!
//! - bpfkit: [`Vm::run`] already passes `r1`/`r2`.
//! - rbpf: `EbpfVmRaw` sets only `r1` (and leaves `r2` at 0), so [`rbpf_code`] puts one
//!   `r2 = len` in front of the program. Its memory checks stay on (they cannot be turned off).
//! - solana-sbpf: the program runs at SBPF v4 from its text bytes, in a memory mapping of a
//!   stack and the input (at `MM_INPUT_START`), with address translation on (its memory
//!   checks) and the instruction meter off, as bpfkit runs without a budget. `r1`/`r2` are set
//!   in the VM's registers before each run.

use std::ptr::NonNull;
use std::sync::Arc;

use bpfkit_isa::{Insn, Opcode, Reg};
use bpfkit_vm::Vm;
use solana_sbpf::aligned_memory::AlignedMemory;
use solana_sbpf::ebpf;
use solana_sbpf::elf::Executable;
use solana_sbpf::error::ProgramResult;
use solana_sbpf::memory_region::{MemoryMapping, MemoryRegion};
use solana_sbpf::program::{BuiltinProgram, FunctionRegistry, SBPFVersion};
use solana_sbpf::verifier::RequisiteVerifier;
use solana_sbpf::vm::{CallFrame, Config, ContextObject, EbpfVm, ExecutionMode};

use crate::Program;

/// A bpfkit VM loaded with `program`.
pub fn bpfkit_vm(program: &Program) -> Result<Vm, String> {
    Vm::new(&program.insns()).map_err(|e| format!("{}: {e}", program.name))
}

/// The bytes rbpf runs for `program` on an input of `input_len` bytes: `r2 = input_len`, then
/// the program. Relative jumps and calls are unchanged by the extra slot in front.
pub fn rbpf_code(program: &Program, input_len: usize) -> Result<Vec<u8>, String> {
    let len = i32::try_from(input_len).map_err(|_| format!("input of {input_len} bytes"))?;
    let mut insns = vec![Insn::new(Opcode::Mov64Imm).with_dst(Reg::R2).with_imm(len)];
    insns.extend(program.insns());
    Ok(bpfkit_isa::encode(&insns))
}

/// rbpf's interpreter loaded with code from [`rbpf_code`].
pub struct Rbpf<'a> {
    vm: rbpf::EbpfVmRaw<'a>,
}

impl<'a> Rbpf<'a> {
    /// Verifies `code` with rbpf's own verifier and loads it.
    pub fn new(code: &'a [u8]) -> Result<Rbpf<'a>, String> {
        let vm = rbpf::EbpfVmRaw::new(Some(code)).map_err(|e| e.to_string())?;
        Ok(Rbpf { vm })
    }

    /// Runs the program on `input` (which must have the length the code was made for).
    pub fn run(&self, input: &mut [u8]) -> Result<u64, String> {
        self.vm.execute_program(input).map_err(|e| e.to_string())
    }
}

/// rbpf's JIT with code from [`rbpf_code`]. It checks no memory access.
pub struct RbpfJit<'a> {
    vm: rbpf::EbpfVmRaw<'a>,
}

impl<'a> RbpfJit<'a> {
    /// Verifies `code` with rbpf's verifier and compiles it with rbpf's JIT.
    pub fn new(code: &'a [u8]) -> Result<RbpfJit<'a>, String> {
        let mut vm = rbpf::EbpfVmRaw::new(Some(code)).map_err(|e| e.to_string())?;
        vm.jit_compile().map_err(|e| e.to_string())?;
        Ok(RbpfJit { vm })
    }

    /// Runs the compiled program on `input` (of the length the code was made for).
    ///
    /// # Safety
    /// rbpf's JIT checks no access: the program must stay inside `input` and its stack on this
    /// input (the corpus tests check each program on the interpreters first).
    pub unsafe fn run(&self, input: &mut [u8]) -> Result<u64, String> {
        // SAFETY: the caller's promise.
        unsafe { self.vm.execute_program_jit(input) }.map_err(|e| e.to_string())
    }
}

/// What solana-sbpf's VM needs from its embedder: the memory mapping and the instruction meter.
/// It owns the stack and the input the mapping points into.
pub struct SbpfContext {
    mapping: MemoryMapping,
    remaining: u64,
    input: Vec<u8>,
    // Mapped by `mapping`: kept alive (and never moved: it is on the heap) while it is.
    _stack: AlignedMemory<{ ebpf::HOST_ALIGN }>,
}

impl SbpfContext {
    /// The input memory, as the last run left it.
    pub fn input(&self) -> &[u8] {
        &self.input
    }

    /// The input memory, as the last run left it.
    pub fn into_input(self) -> Vec<u8> {
        self.input
    }
}

impl ContextObject for SbpfContext {
    fn consume(&mut self, amount: u64) {
        self.remaining = self.remaining.saturating_sub(amount);
    }

    fn get_remaining(&self) -> u64 {
        self.remaining
    }

    fn active_mapping_ptr(&mut self) -> NonNull<MemoryMapping> {
        NonNull::from(&mut self.mapping)
    }
}

/// solana-sbpf's interpreter loaded with a corpus program, at SBPF v4: the version whose
/// instructions mean what eBPF's do for the corpus (JMP32, local calls by relative offset that
/// save r6-r9 and give the callee a fresh frame, `lddw`, `neg`, no operand swaps), with the
/// aligned memory mapping (a region per high address bits, as in bpfkit).
pub struct Sbpf {
    executable: Executable<SbpfContext>,
}

impl Sbpf {
    /// Loads and verifies `program` (with solana-sbpf's `RequisiteVerifier`). With `metered`,
    /// the instruction meter is on, so that [`SbpfVm::run_counted`] counts instructions.
    pub fn new(program: &Program, metered: bool) -> Result<Sbpf, String> {
        let config = Config {
            // The kernel's limits: 8 frames of 512 bytes.
            max_call_depth: 8,
            stack_frame_size: 512,
            enable_instruction_meter: metered,
            enabled_sbpf_versions: SBPFVersion::V4..=SBPFVersion::V4,
            ..Config::default()
        };
        let loader = Arc::new(BuiltinProgram::new_loader(config));
        let text = bpfkit_isa::encode(&program.insns());
        let executable = Executable::from_text_bytes(
            &text,
            loader,
            SBPFVersion::V4,
            FunctionRegistry::default(),
        )
        .map_err(|e| format!("{}: {e:?}", program.name))?;
        executable
            .verify::<RequisiteVerifier>()
            .map_err(|e| format!("{}: {e:?}", program.name))?;
        Ok(Sbpf { executable })
    }

    /// Compiles the program with solana-sbpf's JIT (x86_64), for [`SbpfVm::run_jit`].
    pub fn jit_compile(&self) -> Result<(), String> {
        self.executable.jit_compile().map_err(|e| format!("{e:?}"))
    }

    /// The memory of one run: a zeroed stack and `input`, mapped where the VM expects them.
    pub fn context(&self, mut input: Vec<u8>) -> SbpfContext {
        let config = self.executable.get_config();
        let mut stack = AlignedMemory::zero_filled(config.stack_size());
        let regions = vec![
            MemoryRegion::new(&mut stack, ebpf::MM_STACK_START),
            MemoryRegion::new(input.as_mut_slice() as *mut [u8], ebpf::MM_INPUT_START),
        ];
        // SAFETY: the regions point into `stack` and `input`, heap buffers that the context
        // owns with the mapping and never resizes, so they outlive every access through it.
        let mapping =
            unsafe { MemoryMapping::new(regions, config, self.executable.get_sbpf_version()) }
                .expect("stack and input regions do not overlap");
        SbpfContext {
            mapping,
            remaining: u64::MAX,
            input,
            _stack: stack,
        }
    }

    /// A VM running this program in `context`, reusable from run to run.
    pub fn vm<'a>(&'a self, context: &'a mut SbpfContext) -> SbpfVm<'a> {
        let input_len = context.input.len() as u64;
        let loader = self.executable.get_loader().clone();
        let stack_len = self.executable.get_config().stack_size();
        let vm = EbpfVm::new(
            loader,
            self.executable.get_sbpf_version(),
            context,
            stack_len,
        );
        let mut registers = vm.registers;
        registers[1] = ebpf::MM_INPUT_START;
        registers[2] = input_len;
        SbpfVm {
            frames: vec![CallFrame::default(); self.executable.get_config().max_call_depth],
            vm,
            executable: &self.executable,
            registers,
        }
    }
}

/// A solana-sbpf VM ready to run its program again and again.
pub struct SbpfVm<'a> {
    vm: EbpfVm<'a, SbpfContext>,
    executable: &'a Executable<SbpfContext>,
    frames: Vec<CallFrame>,
    registers: [u64; 12],
}

impl SbpfVm<'_> {
    /// Runs the program from its entry, with `r1` and `r2` pointing at the context's input.
    pub fn run(&mut self) -> Result<u64, String> {
        self.run_counted().map(|(r0, _)| r0)
    }

    /// Runs the program like [`SbpfVm::run`]; also returns how many instructions it executed
    /// (0 unless the [`Sbpf`] is metered).
    pub fn run_counted(&mut self) -> Result<(u64, u64), String> {
        self.execute(ExecutionMode::Interpreted)
    }

    /// Runs the program's JIT-compiled code (see [`Sbpf::jit_compile`]).
    pub fn run_jit(&mut self) -> Result<u64, String> {
        self.execute(ExecutionMode::Jit).map(|(r0, _)| r0)
    }

    fn execute(&mut self, mut mode: ExecutionMode) -> Result<(u64, u64), String> {
        self.vm.registers = self.registers;
        self.vm.call_depth = 0;
        self.vm.context().remaining = u64::MAX;
        let (count, result) = self
            .vm
            .execute_program(self.executable, &mut mode, &mut self.frames);
        match result {
            ProgramResult::Ok(r0) => Ok((r0, count)),
            ProgramResult::Err(e) => Err(format!("{e:?}")),
        }
    }

    /// The context: the input memory as the last run left it.
    pub fn context(&mut self) -> &mut SbpfContext {
        self.vm.context()
    }
}

/// How many eBPF instructions one run of `program` on its benchmark input executes, counted by
/// solana-sbpf's instruction meter (the same instructions every engine executes; rbpf runs one
/// more, its `r2 = len`).
pub fn instruction_count(program: &Program) -> Result<u64, String> {
    let sbpf = Sbpf::new(program, true)?;
    let mut context = sbpf.context((program.input)());
    sbpf.vm(&mut context).run_counted().map(|(_, count)| count)
}
