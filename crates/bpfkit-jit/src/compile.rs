//! The driver: lowers every program of a VM and feeds a backend, then publishes the code in
//! executable memory (written while not executable, then made executable and not writable
//! again until the code is dropped; see `pool.rs`).

use std::time::{Duration, Instant};

use bpfkit_vm::memory::MAP_VALUE_REGION;
use bpfkit_vm::{MapId, ProgId, Vm};

use crate::backend::NewBackend;
use crate::guess::RegionGuess;
use crate::lower::{Lir, Options, instructions, is_branch, lower};
use crate::pool::{Pooled, publish};
use crate::{JitError, Mode};

/// Compiled code for every program of a VM, with where each program and instruction starts.
pub struct Code {
    buffer: Pooled,
    /// Host address of each program's first instruction, by program id.
    entries: Vec<usize>,
    /// For each program, the code offset of each instruction (by slot index).
    insns: Vec<Vec<(usize, usize)>>,
    /// Where the out-of-line code (fault paths, runtime-call stub) starts.
    out_of_line: usize,
    options: Options,
    compile_time: Duration,
}

impl std::fmt::Debug for Code {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Code")
            .field("bytes", &self.buffer.len())
            .field("programs", &self.entries.len())
            .field("options", &self.options)
            .field("compile_time", &self.compile_time)
            .finish()
    }
}

/// The entry trampoline's signature (see [`crate::backend::Backend::entry_trampoline`]).
pub(crate) type EntryFn = unsafe extern "C" fn(ctx: *mut u64, entry: *const u8) -> u64;

impl Code {
    /// The options the code was compiled with.
    pub fn options(&self) -> Options {
        self.options
    }

    /// The machine code (the entry trampoline first, then each program, then the
    /// out-of-line code).
    pub fn bytes(&self) -> &[u8] {
        &self.buffer
    }

    /// Number of programs compiled; they are the VM's first programs, by id.
    pub fn program_count(&self) -> usize {
        self.entries.len()
    }

    /// How long compiling took, lowering and emission and mapping.
    pub fn compile_time(&self) -> Duration {
        self.compile_time
    }

    /// The code offset of each instruction of program `id`, by slot index.
    pub fn instruction_offsets(&self, id: ProgId) -> &[(usize, usize)] {
        self.insns.get(id.0 as usize).map_or(&[], Vec::as_slice)
    }

    /// Where the out-of-line code starts.
    pub fn out_of_line(&self) -> usize {
        self.out_of_line
    }

    /// Host address of each program's first instruction.
    pub(crate) fn entry_addresses(&self) -> &[usize] {
        &self.entries
    }

    /// The entry trampoline, at offset 0.
    pub(crate) fn entry_fn(&self) -> EntryFn {
        // The caller runs the code next, on this thread.
        #[cfg(target_arch = "aarch64")]
        crate::aarch64::cache::before_execution();
        let start = self.buffer.as_ptr();
        // SAFETY: offset 0 of the buffer holds the entry trampoline the backend emitted, an
        // `extern "C" fn(*mut u64, *const u8) -> u64`; the buffer is mapped executable and
        // lives as long as `self`, and callers only call the pointer while they hold `self`.
        unsafe { std::mem::transmute::<*const u8, EntryFn>(start) }
    }
}

/// Compiles the first `count` programs of `vm` with backend `B`.
pub fn compile<B: NewBackend>(vm: &Vm, options: Options, count: usize) -> Result<Code, JitError> {
    let started = Instant::now();
    let programs: Vec<_> = (0..count.min(vm.program_count()))
        .filter_map(|i| vm.program(ProgId(i as u32)))
        .collect();
    let total: usize = programs.iter().map(|p| p.len()).sum();
    let maps = (0..).take_while(|&i| vm.map(MapId(i)).is_some()).count() as u64;
    let mut backend = B::new(options, total);
    backend.entry_trampoline();
    let mut entries = Vec::with_capacity(programs.len());
    let mut offsets = Vec::with_capacity(programs.len());
    for (index, program) in programs.iter().enumerate() {
        // A label for each slot something jumps or calls to (targets are absolute in `off`).
        // (Every slot has an op; the second slot of an `lddw` holds an `exit` filler, which
        // is not a branch, so the ops can be scanned without the instruction list.)
        let mut labels: Vec<Option<B::Label>> = vec![None; program.len()];
        for op in program.ops() {
            if is_branch(op) {
                let target = op.off as usize;
                if labels[target].is_none() {
                    labels[target] = Some(backend.new_label());
                }
            }
        }
        entries.push(backend.offset());
        let mut insns = Vec::with_capacity(program.len());
        let mut guess = (options.mode == Mode::Checked).then(|| RegionGuess::new(maps));
        for (pc, insn, op) in instructions(program) {
            if let Some(label) = labels[pc] {
                backend.bind(label);
            }
            insns.push((pc, backend.offset()));
            if options.metered {
                backend.meter(pc);
            }
            let mut lir = lower(insn, op, options, |target| {
                labels[target].expect("every branch target has a label")
            });
            if let Some(guess) = &mut guess {
                guess.enter(pc);
                guess.apply(&mut lir);
                guess.step(pc, &lir, is_branch(op).then_some(op.off as usize));
            }
            if let Lir::HostAddr { region, .. } = lir
                && region >= MAP_VALUE_REGION + maps
            {
                return Err(JitError::NoSuchMap {
                    program: index,
                    pc,
                    map: region - MAP_VALUE_REGION,
                });
            }
            backend.emit(pc, lir);
        }
        offsets.push(insns);
    }
    let out_of_line = backend.offset();
    let bytes = backend.finish().map_err(JitError::Emit)?;
    let buffer = publish(&bytes).map_err(|e| JitError::Memory(e.to_string()))?;
    let base = buffer.as_ptr() as usize;
    let entries = entries.into_iter().map(|offset| base + offset).collect();
    Ok(Code {
        buffer,
        entries,
        insns: offsets,
        out_of_line,
        options,
        compile_time: started.elapsed(),
    })
}
