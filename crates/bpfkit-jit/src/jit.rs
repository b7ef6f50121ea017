//! The engine: a [`Vm`] with its programs compiled to machine code.

use bpfkit_vm::memory::FrameUse;
use bpfkit_vm::{Fault, ProgId, RunInput, Vm};

use crate::compile::Code;
use crate::lower::Options;
use crate::{Atomics, JitError, Mode};

/// A [`Vm`] whose programs run as machine code: the same helpers, maps, options, faults and
/// results as the interpreter, at native speed.
///
/// The VM is the one engine type (its helpers, maps and options); `Jit` owns it, compiles its
/// programs for its options, and recompiles when [`Jit::configure`] changes what the code
/// depends on (the programs, the budget being on or off, strict alignment).
///
/// ```
/// use bpfkit_isa::{Insn, Opcode, Reg};
/// use bpfkit_jit::Jit;
/// use bpfkit_vm::Vm;
///
/// // r0 = *(u8 *)(r1 + 1) + r2
/// let prog = [
///     Insn::new(Opcode::LdxB).with_dst(Reg::R0).with_src(Reg::R1).with_off(1),
///     Insn::new(Opcode::Add64Reg).with_dst(Reg::R0).with_src(Reg::R2),
///     Insn::new(Opcode::Exit),
/// ];
/// let mut jit = Jit::new(Vm::new(&prog)?)?;
/// assert_eq!(jit.run(&mut [10, 20, 30])?, 23);
/// // Out of bounds: the same fault as the interpreter's, never a stray access.
/// assert!(jit.run(&mut [10]).is_err());
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub struct Jit {
    vm: Vm,
    mode: Mode,
    atomics: Atomics,
    /// Programs compiled: all of them in checked mode, the ones vouched for in trusted mode.
    programs: usize,
    code: Code,
    /// The stack frames a run of any compiled program may write, by the mode's contract (less
    /// in trusted mode than [`bpfkit_vm::Program::frame_use`] says of some programs).
    frames: FrameUse,
    /// Whether the compiled code never calls into the runtime, so runs need not build it.
    direct: bool,
    /// The stack frames a direct run (one without the runtime) may write before its code
    /// reports otherwise: in checked mode without bpf-to-bpf calls or callbacks, frame 0,
    /// unless a store goes through the full region lookup (`FRAMES_WRITTEN`); else `frames`.
    direct_frames: FrameUse,
    /// The run context's memory, reused from run to run. It keeps what direct runs of this
    /// VM and code share: invalidated before the VM may change and whenever `code` is
    /// replaced.
    ctx: crate::run::Context,
}

impl std::fmt::Debug for Jit {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Jit")
            .field("mode", &self.mode)
            .field("code", &self.code)
            .field("vm", &self.vm)
            .finish()
    }
}

fn options(vm: &Vm, mode: Mode, atomics: Atomics) -> Options {
    Options {
        mode,
        metered: vm.budget().is_some(),
        strict_alignment: vm.strict_alignment(),
        atomics,
    }
}

/// The stack frames a run of the first `programs` programs of `vm`, compiled to `code`, may
/// write in `mode`, beyond what [`bpfkit_vm::Program::frame_use`] says of each: through the
/// runtime, and in a direct run (without it). Trusted code was vouched for (see
/// [`Jit::new_trusted`]): it writes only its own frame and what helpers are handed, so without a
/// bpf-to-bpf call or a callback (`lddw func`) anywhere, only frame 0. Checked code may write any
/// frame's region by its address; but in a direct run without calls or callbacks only a store
/// through the full region lookup can, and such a store reports it (`FRAMES_WRITTEN`), so the
/// run promises frame 0 alone, or no frame when no store of the code writes one unreported
/// (see [`Code::writes_frames_unreported`]).
fn frame_use(vm: &Vm, code: &Code, mode: Mode, programs: usize) -> (FrameUse, FrameUse) {
    let calls = (0..programs as u32)
        .filter_map(|id| vm.program(ProgId(id)))
        .any(|p| p.calls_deeper());
    let direct = if calls {
        FrameUse::Any
    } else if mode == Mode::Trusted || code.writes_frames_unreported() {
        FrameUse::Entry
    } else {
        FrameUse::Nothing
    };
    match mode {
        Mode::Trusted => (direct, direct),
        Mode::Checked => (FrameUse::Any, direct),
    }
}

/// Whether none of the first `programs` programs of `vm` calls into the runtime: no helper call
/// (`bpf_tail_call` included), `callx` or legacy packet load.
fn runtime_free(vm: &Vm, programs: usize) -> bool {
    (0..programs as u32)
        .filter_map(|id| vm.program(ProgId(id)))
        .all(|p| !p.calls_runtime())
}

/// Compiles the first `programs` programs of `vm` for the host architecture.
fn compile(vm: &Vm, options: Options, programs: usize) -> Result<Code, JitError> {
    #[cfg(all(target_arch = "x86_64", unix))]
    return crate::compile::compile::<crate::x86::X86>(vm, options, programs);
    #[cfg(all(target_arch = "aarch64", unix))]
    return crate::compile::compile::<crate::aarch64::Aarch64>(vm, options, programs);
    #[cfg(not(all(any(target_arch = "x86_64", target_arch = "aarch64"), unix)))]
    {
        let _ = (vm, options, programs);
        Err(JitError::Unsupported(std::env::consts::ARCH))
    }
}

impl Jit {
    /// Compiles `vm`'s programs in checked mode: every load and store is checked against the
    /// run's regions, with the interpreter's virtual addresses, so a program that nobody
    /// verified can fault but can never touch memory outside its regions.
    pub fn new(vm: Vm) -> Result<Jit, JitError> {
        Jit::build(vm, Mode::Checked, Atomics::Detect)
    }

    /// As [`Jit::new`], with atomics compiled as `atomics` says (aarch64: LSE or LL/SC;
    /// x86_64 has one way).
    pub fn with_atomics(vm: Vm, atomics: Atomics) -> Result<Jit, JitError> {
        Jit::build(vm, Mode::Checked, atomics)
    }

    /// Compiles `vm`'s programs in trusted mode: registers hold host pointers (`r1` the input,
    /// `r10` the frame, `lddw map_value` the map's memory) and loads and stores are not checked,
    /// as the kernel's JIT runs verified programs.
    ///
    /// # Safety
    /// Every program of `vm` must be memory-safe for every input it will be run on: each load
    /// and store stays inside the input (`r1`, `r2` bytes long), its own 512-byte frame below
    /// `r10`, or a map value it got from `bpf_map_lookup_elem` or `lddw map_value` (within
    /// the value's size); it never dereferences a scalar, and it passes helpers only pointers
    /// to such memory with sizes that fit. That is what a verifier modelled on the kernel's
    /// establishes: run only programs such a verifier accepted (for the program type and the
    /// input size used), with helpers whose behaviour matches what it assumed. Helpers get
    /// and return virtual addresses as in checked mode: arguments pointing into a region are
    /// translated for them, and a result that is a virtual address inside a region is
    /// translated back to a host pointer, so a helper must not return a scalar that looks
    /// like one. Programs added to the VM later (through [`Jit::configure`]) are not covered
    /// and are not compiled.
    pub unsafe fn new_trusted(vm: Vm) -> Result<Jit, JitError> {
        Jit::build(vm, Mode::Trusted, Atomics::Detect)
    }

    fn build(vm: Vm, mode: Mode, atomics: Atomics) -> Result<Jit, JitError> {
        let programs = vm.program_count();
        let code = compile(&vm, options(&vm, mode, atomics), programs)?;
        let (frames, direct_frames) = frame_use(&vm, &code, mode, programs);
        Ok(Jit {
            frames,
            direct: runtime_free(&vm, programs),
            direct_frames,
            vm,
            mode,
            atomics,
            programs,
            code,
            ctx: Default::default(),
        })
    }

    /// The memory model of the compiled code.
    pub fn mode(&self) -> Mode {
        self.mode
    }

    /// The VM: helpers, maps and options.
    pub fn vm(&self) -> &Vm {
        &self.vm
    }

    /// The compiled code.
    pub fn code(&self) -> &Code {
        &self.code
    }

    /// Changes the VM (maps, helpers, options, programs), then recompiles if the code depends
    /// on what changed. In trusted mode, programs added here are not compiled: the result is
    /// [`JitError::UnvettedPrograms`] and only the programs vouched for can run.
    pub fn configure<R>(&mut self, change: impl FnOnce(&mut Vm) -> R) -> Result<R, JitError> {
        // Before the change, which may move the map values or swap the VM (and may unwind).
        self.ctx.invalidate();
        let result = change(&mut self.vm);
        let wanted = options(&self.vm, self.mode, self.atomics);
        let programs = match self.mode {
            Mode::Checked => self.vm.program_count(),
            Mode::Trusted => self.programs,
        };
        if wanted != self.code.options() || programs != self.code.program_count() {
            self.code = compile(&self.vm, wanted, programs)?;
            (self.frames, self.direct_frames) =
                frame_use(&self.vm, &self.code, self.mode, programs);
            self.direct = runtime_free(&self.vm, programs);
            self.programs = programs;
        }
        if self.vm.program_count() != programs {
            return Err(JitError::UnvettedPrograms);
        }
        Ok(result)
    }

    /// Recompiles the programs with atomics done as `atomics` says (aarch64: LSE or LL/SC;
    /// [`Atomics::Detect`], the default, asks the CPU). x86_64 code does not change.
    pub fn set_atomics(&mut self, atomics: Atomics) -> Result<(), JitError> {
        if atomics != self.atomics {
            let programs = self.code.program_count();
            self.ctx.invalidate();
            self.code = compile(&self.vm, options(&self.vm, self.mode, atomics), programs)?;
            (self.frames, self.direct_frames) =
                frame_use(&self.vm, &self.code, self.mode, programs);
            self.atomics = atomics;
        }
        Ok(())
    }

    /// Runs the entry program ([`ProgId`] 0) on `input`, as [`Vm::run`] does.
    pub fn run(&mut self, input: &mut [u8]) -> Result<u64, Fault> {
        self.run_program(ProgId(0), input)
    }

    /// Runs program `id` on `input`, as [`Vm::run_program`] does.
    ///
    /// # Panics
    /// If `id` is not a compiled program.
    #[inline]
    pub fn run_program(&mut self, id: ProgId, input: &mut [u8]) -> Result<u64, Fault> {
        let (code, ctx) = (&self.code, &mut self.ctx);
        // Asked only when the direct context is built: it stays built only while neither
        // changes (both change only in `configure`, which invalidates it).
        let direct_frames = || self.direct.then_some(self.direct_frames);
        if let Some(end) = crate::run::run_direct(code, &mut self.vm, id, input, ctx, direct_frames)
        {
            return end.result(ctx, &self.vm);
        }
        self.run_with_runtime(id, input)
    }

    /// [`Jit::run_program`] through the runtime; out of line, so that a direct run is not
    /// slowed by what this one needs.
    #[inline(never)]
    fn run_with_runtime(&mut self, id: ProgId, input: &mut [u8]) -> Result<u64, Fault> {
        let program_frames = self.vm.program(id).map_or(FrameUse::Any, |p| p.frame_use());
        let (code, ctx) = (&self.code, &mut self.ctx);
        let frames = program_frames.min(self.frames);
        let r2 = input.len() as u64;
        let input = RunInput {
            ctx: input,
            ctx_writable: true,
            r2,
            packet: None,
        };
        self.vm
            .run_frames_with(id, input, frames, |rt| crate::run::run(code, rt, ctx))
    }

    /// The machine code, disassembled, each eBPF instruction above the code it became.
    pub fn dump(&self) -> String {
        crate::dump::dump(&self.code, &self.vm)
    }

    /// The VM back.
    pub fn into_vm(self) -> Vm {
        self.vm
    }
}
