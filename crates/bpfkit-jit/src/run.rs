//! One run of compiled code: the context it gets, the trampolines it calls back into the
//! runtime through, and the fault it ends with.
//!
//! Generated code calls the runtime only through [`call_trampoline`] (helpers, `bpf_tail_call`,
//! `callx`) and [`packet_trampoline`] (legacy packet loads). Both reach the VM's own
//! [`Runtime`], so every helper, map and tail call behaves as in the interpreter.

use std::any::Any;
use std::panic::{AssertUnwindSafe, catch_unwind, resume_unwind};

use bpfkit_isa::TABLE as OPCODES;
use bpfkit_vm::memory::{
    FrameUse, INPUT_REGION, MAP_VALUE_REGION, MAX_FRAMES, Memory, RegionSpan, STACK_REGION,
    STACK_SIZE, input_pointer, region_base,
};
use bpfkit_vm::{Access, CallOutcome, Fault, ProgId, Runtime, Vm};

use crate::Mode;
use crate::compile::{Code, EntryFn};
use crate::context::*;

/// What the trampolines reach: the run's services.
trait Services {
    fn call(&mut self, ctx: &mut [u64]) -> u64;
    fn packet_load(&mut self, ctx: &mut [u64]) -> u64;
    fn len(&self) -> usize;
}

struct RunState<'r, 'v, 'a> {
    rt: &'r mut Runtime<'v, 'a>,
    entries: &'r [usize],
    trusted: bool,
    ctx_len: usize,
    fault: Option<Fault>,
    panic: Option<Box<dyn Any + Send>>,
}

/// Writes the region table from the run's memory. Called before the code runs and again after
/// every call into the runtime, so the host pointers generated code uses are always derived
/// after the runtime's last use of the memory.
fn fill_table(ctx: &mut [u64], memory: &mut Memory<'_>) {
    for (region, span) in memory.spans().enumerate() {
        set_entry(ctx, region as u64, span);
    }
}

/// Writes the table entry of region `region`, unless it already describes `span`.
#[inline]
fn set_entry(ctx: &mut [u64], region: u64, span: RegionSpan) {
    let at = TABLE + region as usize * ENTRY_WORDS;
    let entry = &ctx[at..at + ENTRY_WORDS];
    let len = span.len as u64;
    let write_limit = if span.writable { len } else { 0 };
    // Most regions are where they were on the last run (or before the call): the entry is
    // rewritten only when the region moved, changed length or changed access.
    if entry[ENTRY_BASE] != span.ptr as u64
        || entry[ENTRY_LEN] != len
        || entry[ENTRY_WRITE_LIMIT] != write_limit
    {
        write_entry(ctx, region, span);
    }
}

/// Writes the table entry of region `region`.
fn write_entry(ctx: &mut [u64], region: u64, span: RegionSpan) {
    let at = TABLE + region as usize * ENTRY_WORDS;
    let entry = &mut ctx[at..at + ENTRY_WORDS];
    let len = span.len as u64;
    entry[ENTRY_BASE] = span.ptr as u64;
    entry[ENTRY_LEN] = len;
    entry[ENTRY_VSTART] = region_base(region);
    entry[ENTRY_DELTA] = (span.ptr as u64).wrapping_sub(region_base(region));
    for k in 0..4 {
        let limit = (len + 1).saturating_sub(1 << k);
        entry[ENTRY_READ_LIMIT + k] = limit;
        entry[ENTRY_WRITE_LIMIT + k] = if span.writable { limit } else { 0 };
    }
}

fn region_count(ctx: &[u64]) -> usize {
    ctx[REGION_COUNT] as usize
}

/// Trusted mode: a host pointer into a region becomes its virtual address, for helpers.
fn host_to_virtual(ctx: &[u64], value: u64) -> u64 {
    for i in 0..region_count(ctx) {
        let entry = TABLE + i * ENTRY_WORDS;
        let (base, len) = (ctx[entry + ENTRY_BASE], ctx[entry + ENTRY_LEN]);
        if len > 0 && value >= base && value - base < len {
            return ((i as u64) << 32) | (value - base);
        }
    }
    value
}

/// Trusted mode: a virtual address inside a region becomes its host address, for the program.
fn virtual_to_host(ctx: &[u64], value: u64) -> u64 {
    let region = (value >> 32) as usize;
    let off = value & 0xffff_ffff;
    if region < region_count(ctx) {
        let entry = TABLE + region * ENTRY_WORDS;
        if off < ctx[entry + ENTRY_LEN] {
            return ctx[entry + ENTRY_BASE] + off;
        }
    }
    value
}

impl Services for RunState<'_, '_, '_> {
    fn len(&self) -> usize {
        self.ctx_len
    }

    fn call(&mut self, ctx: &mut [u64]) -> u64 {
        let pc = ctx[ARG_PC] as usize;
        let id = ctx[ARG_KIND] as u32;
        let mut args = [0u64; 5];
        args.copy_from_slice(&ctx[REGS + 1..REGS + 6]);
        if self.trusted {
            args = args.map(|a| host_to_virtual(ctx, a));
        }
        let outcome = catch_unwind(AssertUnwindSafe(|| self.rt.call(pc, id, args)));
        fill_table(ctx, self.rt.memory());
        match outcome {
            Ok(Ok(CallOutcome::Return(value))) => {
                ctx[REGS] = if self.trusted {
                    virtual_to_host(ctx, value)
                } else {
                    value
                };
                call::CONTINUE
            }
            Ok(Ok(CallOutcome::FallThrough)) => call::CONTINUE,
            Ok(Ok(CallOutcome::TailCall(next))) => match self.entries.get(next.0 as usize) {
                Some(&address) => {
                    ctx[NEXT_ENTRY] = address as u64;
                    call::TAIL_CALL
                }
                None => self.fail(
                    ctx,
                    Fault::Helper {
                        pc,
                        id,
                        message: format!("program {} was added after the JIT compiled", next.0),
                    },
                ),
            },
            Ok(Err(fault)) => self.fail(ctx, fault),
            Err(panic) => {
                self.panic = Some(panic);
                ctx[STATUS] = STATUS_FAULT;
                ctx[ARG_KIND] = FAULT_RUNTIME;
                call::FAULT
            }
        }
    }

    fn packet_load(&mut self, ctx: &mut [u64]) -> u64 {
        let opcode = OPCODES[ctx[ARG_KIND] as usize].opcode;
        match self
            .rt
            .packet_load(opcode, ctx[ARG_ADDR] as i64, ctx[ARG_SIZE])
        {
            Some(value) => {
                ctx[REGS] = value;
                call::CONTINUE
            }
            None => {
                ctx[STATUS] = STATUS_EXIT_ZERO;
                call::EXIT_ZERO
            }
        }
    }
}

impl RunState<'_, '_, '_> {
    fn fail(&mut self, ctx: &mut [u64], fault: Fault) -> u64 {
        self.fault = Some(fault);
        ctx[STATUS] = STATUS_FAULT;
        ctx[ARG_KIND] = FAULT_RUNTIME;
        call::FAULT
    }
}

/// The context and the services of the run it belongs to, as the trampolines see them.
///
/// # Safety
/// `ctx` must be the context of a run in progress: its `RUN` word points at a live
/// `&mut dyn Services` whose `len` is the context's length, and nothing else uses the context
/// or the services while the returned references live.
unsafe fn enter<'c>(ctx: *mut u64) -> (&'c mut [u64], &'c mut dyn Services) {
    // SAFETY: per the contract, `RUN` holds a pointer to a `&mut dyn Services` that outlives
    // the run (it lives in `run`'s frame, which waits on the generated code calling us).
    let services: &mut &mut dyn Services =
        unsafe { &mut *(ctx.add(RUN).read() as *mut &mut dyn Services) };
    let len = services.len();
    // SAFETY: `ctx` points at the run's context of `len` words, which generated code does not
    // touch while it waits for this call to return.
    let words = unsafe { std::slice::from_raw_parts_mut(ctx, len) };
    (words, &mut **services)
}

/// Called by generated code for `call` and `callx`: `ARG_PC`, `ARG_KIND` (the helper id) and
/// `r1`-`r5` in `REGS` describe the call; returns a `call::*` value.
///
/// # Safety
/// Only generated code calls this, with its run's context.
unsafe extern "C" fn call_trampoline(ctx: *mut u64) -> u64 {
    // SAFETY: generated code passes the context of the run it belongs to.
    let (words, services) = unsafe { enter(ctx) };
    services.call(words)
}

/// Called by generated code for legacy packet loads: `ARG_KIND` is the opcode, `ARG_ADDR` the
/// immediate, `ARG_SIZE` the index register; returns a `call::*` value.
///
/// # Safety
/// Only generated code calls this, with its run's context.
unsafe extern "C" fn packet_trampoline(ctx: *mut u64) -> u64 {
    // SAFETY: generated code passes the context of the run it belongs to.
    let (words, services) = unsafe { enter(ctx) };
    services.packet_load(words)
}

/// Runs `code` in `rt`, the run [`bpfkit_vm::Vm::run_with`] prepared, with `ctx` as the
/// context's memory (reused from run to run).
pub(crate) fn run(code: &Code, rt: &mut Runtime<'_, '_>, ctx: &mut Context) -> Result<u64, Fault> {
    // This run writes words and table entries of its own: a direct run writes all of them again.
    ctx.invalidate();
    let ctx = &mut ctx.words;
    let entry = rt.entry();
    let count = rt.memory().region_count();
    // Every word generated code or this function reads is written below before it is read
    // (the registers and the status here, the table by `fill_table`, the `ARG_*` words by the
    // code before a fault or a call), so the context is reused as it is, not cleared.
    ctx.resize(TABLE + count * ENTRY_WORDS, 0);
    let ctx = &mut ctx[..];
    fill_table(ctx, rt.memory());
    let trusted = code.options().mode == Mode::Trusted;
    let start = start(code, ctx, entry.program, rt.budget(), entry.r1, entry.r2);
    let mut state = RunState {
        rt,
        entries: code.entry_addresses(),
        trusted,
        ctx_len: ctx.len(),
        fault: None,
        panic: None,
    };
    let r0 = enter_code(code, ctx, start, &mut state);
    if let Some(panic) = state.panic.take() {
        resume_unwind(panic);
    }
    let budget = state.rt.budget();
    finish(
        ctx,
        r0,
        budget,
        |pc, addr, size| state.rt.write_fault(pc, addr, size),
        || state.fault.take(),
    )
}

/// Words from the context's start through the input region's table entry: all that a direct
/// run writes or reads on its way in and out.
const HEAD: usize = TABLE + (INPUT_REGION as usize + 1) * ENTRY_WORDS;

/// The run context's memory, reused from run to run, and whether its words are set for direct
/// runs (see [`run_direct`]).
#[derive(Debug, Default)]
pub(crate) struct Context {
    words: Vec<u64>,
    /// For each compiled program, by id, what a direct run of it needs; empty when the words
    /// that every direct run of the VM and code finds the same (the fixed words, the frames',
    /// empty regions' and map values' table entries) are not set: a new context, a run through
    /// the runtime since, or a change of the VM or the code (see [`Context::invalidate`]).
    programs: Box<[DirectProgram]>,
    /// The host address of the VM's stack, as the words were written for it.
    stack: usize,
    /// What `REMAINING` starts at: the VM's budget (0 if none, never read then).
    remaining: u64,
}

/// What a direct run of one program needs from its context.
#[derive(Clone, Copy, Debug)]
struct DirectProgram {
    /// The code's entry trampoline (the same for every program: one lookup finds it all).
    entry: EntryFn,
    /// The program's first instruction.
    start: usize,
    /// The stack frames a direct run of it may write: what the VM says of the program,
    /// bounded by what the code can write.
    frames: FrameUse,
}

impl Context {
    /// Forgets the words direct runs rely on: to be called before anything may change the
    /// VM (map values move when a map is added or replaced, and a VM swapped in has its own
    /// stack) or replaces the code.
    pub(crate) fn invalidate(&mut self) {
        self.programs = Box::default();
    }

    /// The first direct run of program `id` since the context was built or invalidated (see
    /// [`run_direct`]): hands out the stack for it, then writes every word of the context that
    /// stays the same from one direct run of the VM and code to the next (the region table
    /// but for the input's entry, left empty, the region count, the stack's bounds and the
    /// trampolines) and what the runs look up. Returns what the run of program `id` needs;
    /// `None` when it cannot run directly.
    #[cold]
    #[inline(never)]
    fn build_direct(
        &mut self,
        code: &Code,
        vm: &mut Vm,
        id: ProgId,
        direct_frames: impl FnOnce() -> Option<FrameUse>,
    ) -> Option<DirectProgram> {
        let direct_frames = direct_frames()?;
        let entry = code.entry_fn();
        let program = |vm: &Vm, id: u32, start: usize| {
            let frames = vm
                .program(ProgId(id))
                .map_or(FrameUse::Any, |p| p.frame_use());
            DirectProgram {
                entry,
                start,
                frames: frames.min(direct_frames),
            }
        };
        let programs: Box<[DirectProgram]> = (code.entry_addresses().iter().enumerate())
            .map(|(i, &start)| program(vm, i as u32, start))
            .collect();
        let remaining = vm.budget().unwrap_or(0);
        let frames = program(vm, id.0, 0).frames;
        let memory = vm.direct_memory(frames)?;
        let Some(&run) = programs.get(id.0 as usize) else {
            panic!("program {} was not compiled", id.0);
        };
        let (stack, map_values) = memory.into_parts();
        let words = &mut self.words;
        words.clear();
        words.resize(TABLE + MAP_VALUE_REGION as usize * ENTRY_WORDS, 0);
        // Every region but the frames, the input and the map values is empty in such a run.
        let empty = RegionSpan {
            ptr: std::ptr::NonNull::dangling().as_ptr(),
            len: 0,
            writable: false,
        };
        for region in 0..MAP_VALUE_REGION {
            write_entry(words, region, empty);
        }
        for (k, frame) in stack.chunks_exact_mut(STACK_SIZE).enumerate() {
            let span = RegionSpan {
                ptr: frame.as_mut_ptr(),
                len: frame.len(),
                writable: true,
            };
            write_entry(words, STACK_REGION + k as u64, span);
        }
        for (i, span) in map_values.enumerate() {
            words.resize(words.len() + ENTRY_WORDS, 0);
            write_entry(words, MAP_VALUE_REGION + i as u64, span);
        }
        words[REGION_COUNT] = ((words.len() - TABLE) / ENTRY_WORDS) as u64;
        let stack = stack.as_mut_ptr() as u64;
        words[STACK_BASE] = stack;
        words[STACK_LIMIT] = stack + (MAX_FRAMES * STACK_SIZE) as u64;
        words[CALL_FN] = no_runtime_trampoline as *const () as usize as u64;
        words[PACKET_FN] = no_runtime_trampoline as *const () as usize as u64;
        words[RUN] = 0;
        self.programs = programs;
        self.stack = stack as usize;
        self.remaining = remaining;
        Some(run)
    }
}

/// Runs program `id` of `vm` on raw `input` without the runtime, when the compiled code never
/// calls into it (no helper, tail call or legacy packet load): the run's memory is then all
/// the code needs. `direct_frames`, asked only when the context is built, says whether the
/// code can run so (`None` if not) and which frames a run of a program may write at most
/// beyond what [`bpfkit_vm::Program::frame_use`] says of it. Everything else in the context
/// stays as the first direct run wrote it until [`Context::invalidate`]: the map values move
/// only when the VM changes, and the stack never moves. A run writes only the input's table
/// entry (when the input moved), the entry registers, the budget and the status. `None` when
/// the run needs more than its memory (see [`Vm::direct_memory`]): run through [`run`] then.
#[inline]
pub(crate) fn run_direct(
    code: &Code,
    vm: &mut Vm,
    id: ProgId,
    input: &mut [u8],
    ctx: &mut Context,
    direct_frames: impl FnOnce() -> Option<FrameUse>,
) -> Option<DirectEnd> {
    // One lookup: a program of a context not built for direct runs (or not compiled) is not
    // found, and the context is built (or the run refused) out of line.
    let program = match ctx.programs.get(id.0 as usize) {
        Some(&program) => {
            let memory = vm.direct_memory(program.frames)?;
            // A check of one word against the stack, which never moves while the VM lives:
            // a stale context (a VM swapped in without `invalidate`) is rebuilt rather than
            // trusted.
            if memory.stack.as_mut_ptr() as usize == ctx.stack {
                // What `Code::entry_fn` does before handing out the entry.
                #[cfg(target_arch = "aarch64")]
                crate::aarch64::cache::before_execution();
                program
            } else {
                ctx.build_direct(code, vm, id, direct_frames)?
            }
        }
        None => ctx.build_direct(code, vm, id, direct_frames)?,
    };
    let (start, entry) = (program.start, program.entry);
    // Read once the stack is handed out, so it is not kept across cleaning it.
    let trusted = code.options().mode == Mode::Trusted;
    let Some(words) = ctx.words.first_chunk_mut::<HEAD>() else {
        unreachable!("a direct context holds every fixed region's entry");
    };
    let input_span = RegionSpan {
        ptr: input.as_mut_ptr(),
        len: input.len(),
        writable: true,
    };
    // The input's entry holds the last direct run's input (writable) or, since the context was
    // built, an empty region: the same base and length make the same entry, since a region
    // of no bytes has no limit above 0, writable or not.
    let entry_at = TABLE + INPUT_REGION as usize * ENTRY_WORDS;
    if words[entry_at + ENTRY_BASE] != input_span.ptr as u64
        || words[entry_at + ENTRY_LEN] != input_span.len as u64
    {
        write_entry(words, INPUT_REGION, input_span);
    }
    // `r1` and `r2` as `Vm::run_with` sets them for a raw input; in trusted mode `r1` is the
    // host address `virtual_to_host` makes of it (the input's, or 0 for no input).
    let r1 = match input_pointer(input.len()) {
        0 => 0,
        _ if trusted => input_span.ptr as u64,
        r1 => r1,
    };
    words[REGS + 1] = r1;
    words[REGS + 2] = input.len() as u64;
    words[STATUS] = STATUS_OK;
    words[FRAMES_WRITTEN] = 0;
    words[REMAINING] = ctx.remaining;
    let ctx_ptr = words.as_mut_ptr();
    // The context is invalidated whenever the code is replaced (see `Jit`), so the entry
    // kept is this code's; debug builds (the tests) check it on every run.
    debug_assert_eq!(entry as usize, code.entry_fn() as usize);
    // SAFETY: `entry` is `code`'s entry trampoline (above), and `start` one of its programs.
    // The code was compiled by `compile` for this VM (the caller checks the program count and
    // options), so it only reaches memory through the region table (checked mode) or through
    // pointers the caller vouched for (trusted mode); the table describes this run's memory
    // (the stack and map values as built, which do not move while the context stays valid,
    // and the input just written), and the trampolines are `no_runtime_trampoline`, which
    // needs nothing but the context. `words` outlives the call and is not used during it.
    let r0 = unsafe { entry(ctx_ptr, start as *const u8) };
    if words[FRAMES_WRITTEN] != 0 {
        vm.frames_written(FrameUse::Any);
    }
    Some(DirectEnd {
        r0,
        ok: words[STATUS] == STATUS_OK,
    })
}

/// How a direct run ended: `r0`, and whether the code returned normally (else the context
/// says how it ended).
pub(crate) struct DirectEnd {
    r0: u64,
    ok: bool,
}

impl DirectEnd {
    /// The run's result, from the context of the run and its VM (a small value apart from the
    /// fault, so that a run that returned normally costs no copy of a `Result`).
    #[inline]
    pub(crate) fn result(self, ctx: &Context, vm: &Vm) -> Result<u64, Fault> {
        if self.ok {
            Ok(self.r0)
        } else {
            direct_fault(&ctx.words, self.r0, vm.budget())
        }
    }
}

/// [`finish`] for a direct run that did not return normally.
#[cold]
#[inline(never)]
fn direct_fault(ctx: &[u64], r0: u64, budget: Option<u64>) -> Result<u64, Fault> {
    let write_fault = |pc, addr, size| table_write_fault(ctx, pc, addr, size);
    finish(ctx, r0, budget, write_fault, || None)
}

/// The trampoline of direct runs, for both calls and packet loads: code compiled as never
/// calling the runtime does not, and if it did, the run would end with a fault rather than
/// reach memory it must not.
///
/// # Safety
/// Only generated code calls this, with its run's context.
unsafe extern "C" fn no_runtime_trampoline(ctx: *mut u64) -> u64 {
    // SAFETY: generated code passes the context of the run it belongs to, which has these
    // words and which it does not touch while it waits for this call to return.
    unsafe {
        ctx.add(STATUS).write(STATUS_FAULT);
        ctx.add(ARG_KIND).write(FAULT_RUNTIME);
    }
    call::FAULT
}

/// Sets the context's words for a run of program `program` from `r1` and `r2` (virtual
/// addresses, made host pointers in trusted mode) and returns where the code starts. The region
/// table must be filled.
fn start(
    code: &Code,
    ctx: &mut [u64],
    program: ProgId,
    budget: Option<u64>,
    r1: u64,
    r2: u64,
) -> usize {
    ctx[REGS..REGS + 11].fill(0);
    ctx[STATUS] = STATUS_OK;
    ctx[FRAMES_WRITTEN] = 0;
    ctx[REGION_COUNT] = ((ctx.len() - TABLE) / ENTRY_WORDS) as u64;
    let stack_base = ctx[TABLE + STACK_REGION as usize * ENTRY_WORDS + ENTRY_BASE];
    ctx[STACK_BASE] = stack_base;
    ctx[STACK_LIMIT] = stack_base + (MAX_FRAMES * STACK_SIZE) as u64;
    ctx[REMAINING] = budget.unwrap_or(0);
    ctx[CALL_FN] = call_trampoline as *const () as usize as u64;
    ctx[PACKET_FN] = packet_trampoline as *const () as usize as u64;
    ctx[REGS + 1] = if code.options().mode == Mode::Trusted {
        virtual_to_host(ctx, r1)
    } else {
        r1
    };
    ctx[REGS + 2] = r2;
    let Some(&start) = code.entry_addresses().get(program.0 as usize) else {
        panic!("program {} was not compiled", program.0);
    };
    start
}

/// Runs the code from `start` with `services` behind the trampolines; returns `r0`.
fn enter_code(code: &Code, ctx: &mut [u64], start: usize, services: &mut dyn Services) -> u64 {
    let mut services: &mut dyn Services = services;
    ctx[RUN] = &mut services as *mut &mut dyn Services as u64;
    let ctx_ptr = ctx.as_mut_ptr();
    // SAFETY: the code was compiled by `compile` for the VM whose run this is (the caller
    // checks the program count and options), so it only reaches memory through the region
    // table (checked mode) or through pointers the caller vouched for (trusted mode), and the
    // trampolines; `ctx` and `services` outlive the call and are not used during it.
    unsafe { (code.entry_fn())(ctx_ptr, start as *const u8) }
}

/// The run's result from the status the code left.
#[inline]
fn finish(
    ctx: &[u64],
    r0: u64,
    budget: Option<u64>,
    write_fault: impl FnOnce(usize, u64, usize) -> Fault,
    runtime_fault: impl FnOnce() -> Option<Fault>,
) -> Result<u64, Fault> {
    match ctx[STATUS] {
        STATUS_OK => Ok(r0),
        STATUS_EXIT_ZERO => Ok(0),
        _ => Err(fault(ctx, budget, write_fault, runtime_fault)),
    }
}

/// The fault generated code reported in `ARG_*`.
#[cold]
#[inline(never)]
fn fault(
    ctx: &[u64],
    budget: Option<u64>,
    write_fault: impl FnOnce(usize, u64, usize) -> Fault,
    runtime_fault: impl FnOnce() -> Option<Fault>,
) -> Fault {
    let (pc, addr, size) = (ctx[ARG_PC] as usize, ctx[ARG_ADDR], ctx[ARG_SIZE] as usize);
    match ctx[ARG_KIND] {
        FAULT_READ => Runtime::read_fault(pc, addr, size),
        FAULT_WRITE => write_fault(pc, addr, size),
        FAULT_MISALIGNED_READ | FAULT_MISALIGNED_WRITE => Fault::Misaligned {
            pc,
            addr,
            size,
            access: if ctx[ARG_KIND] == FAULT_MISALIGNED_READ {
                Access::Read
            } else {
                Access::Write
            },
        },
        FAULT_CALL_DEPTH => Fault::CallDepth {
            pc,
            max: MAX_FRAMES,
        },
        FAULT_KFUNC => Fault::Kfunc {
            pc,
            btf_id: addr as i32,
        },
        FAULT_BUDGET => Fault::Budget {
            pc,
            budget: budget.unwrap_or(0),
        },
        _ => runtime_fault().unwrap_or(Fault::Helper {
            pc,
            id: 0,
            message: "the runtime reported no fault".into(),
        }),
    }
}

/// The fault of a store the region table refused, as [`Fault::on_write`] tells it from the
/// run's memory: into a region that has bytes but is read-only, or outside every region.
fn table_write_fault(ctx: &[u64], pc: usize, addr: u64, size: usize) -> Fault {
    let region = addr >> 32;
    let read_only = region < ctx[REGION_COUNT] && {
        let at = TABLE + region as usize * ENTRY_WORDS;
        ctx[at + ENTRY_LEN] > 0 && ctx[at + ENTRY_WRITE_LIMIT] == 0
    };
    Fault::write_refused(pc, addr, size, read_only)
}
