//! One run of compiled code: the context it gets, the trampolines it calls back into the
//! runtime through, and the fault it ends with.
//!
//! Generated code calls the runtime only through [`call_trampoline`] (helpers, `bpf_tail_call`,
//! `callx`) and [`packet_trampoline`] (legacy packet loads). Both reach the VM's own
//! [`Runtime`], so every helper, map and tail call behaves as in the interpreter.

use std::any::Any;
use std::panic::{AssertUnwindSafe, catch_unwind, resume_unwind};

use bpfkit_isa::TABLE as OPCODES;
use bpfkit_vm::memory::Memory;
use bpfkit_vm::memory::{MAX_FRAMES, STACK_REGION, STACK_SIZE};
use bpfkit_vm::{Access, CallOutcome, Fault, Runtime};

use crate::Mode;
use crate::compile::Code;
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
    let table = ctx[TABLE..].chunks_exact_mut(ENTRY_WORDS);
    for (entry, span) in table.zip(memory.spans()) {
        let len = span.len as i64;
        let write_last = if span.writable { len - 1 } else { -1 };
        // Most regions are where they were on the last run (or before the call): the entry
        // is rewritten only when the region moved, changed length or changed access.
        if entry[ENTRY_BASE] == span.ptr as u64
            && entry[ENTRY_LEN] == len as u64
            && entry[ENTRY_WRITE_LAST] == write_last as u64
        {
            continue;
        }
        let last = [len - 1, len - 2, len - 4, len - 8];
        entry[ENTRY_BASE] = span.ptr as u64;
        entry[ENTRY_LEN] = len as u64;
        for (k, last) in last.into_iter().enumerate() {
            entry[ENTRY_READ_LAST + k] = last as u64;
            entry[ENTRY_WRITE_LAST + k] = if span.writable { last } else { -1 } as u64;
        }
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
pub(crate) fn run(code: &Code, rt: &mut Runtime<'_, '_>, ctx: &mut Vec<u64>) -> Result<u64, Fault> {
    let entry = rt.entry();
    let count = rt.memory().region_count();
    // Every word generated code or this function reads is written below before it is read
    // (the registers and the status here, the table by `fill_table`, the `ARG_*` words by the
    // code before a fault or a call), so the context is reused as it is, not cleared.
    ctx.resize(TABLE + count * ENTRY_WORDS, 0);
    let ctx = &mut ctx[..];
    ctx[REGS..REGS + 11].fill(0);
    ctx[STATUS] = STATUS_OK;
    ctx[REGION_COUNT] = count as u64;
    fill_table(ctx, rt.memory());
    let stack_base = ctx[TABLE + STACK_REGION as usize * ENTRY_WORDS + ENTRY_BASE];
    ctx[STACK_BASE] = stack_base;
    ctx[STACK_LIMIT] = stack_base + (MAX_FRAMES * STACK_SIZE) as u64;
    ctx[REMAINING] = rt.budget().unwrap_or(0);
    ctx[CALL_FN] = call_trampoline as *const () as usize as u64;
    ctx[PACKET_FN] = packet_trampoline as *const () as usize as u64;
    let trusted = code.options().mode == Mode::Trusted;
    ctx[REGS + 1] = if trusted {
        virtual_to_host(ctx, entry.r1)
    } else {
        entry.r1
    };
    ctx[REGS + 2] = entry.r2;
    let entries = code.entry_addresses();
    let Some(&start) = entries.get(entry.program.0 as usize) else {
        panic!("program {} was not compiled", entry.program.0);
    };
    let mut state = RunState {
        rt,
        entries,
        trusted,
        ctx_len: ctx.len(),
        fault: None,
        panic: None,
    };
    let mut services: &mut dyn Services = &mut state;
    ctx[RUN] = &mut services as *mut &mut dyn Services as u64;
    let ctx_ptr = ctx.as_mut_ptr();
    // SAFETY: the code was compiled by `compile` for the VM whose run this is (the caller
    // checks the program count and options), so it only reaches memory through the region
    // table (checked mode) or through pointers the caller vouched for (trusted mode), and the
    // trampolines; `ctx` and `services` outlive the call and are not used during it.
    let r0 = unsafe { (code.entry_fn())(ctx_ptr, start as *const u8) };
    if let Some(panic) = state.panic.take() {
        resume_unwind(panic);
    }
    match ctx[STATUS] {
        STATUS_OK => Ok(r0),
        STATUS_EXIT_ZERO => Ok(0),
        _ => Err(fault(ctx, &mut state)),
    }
}

/// The fault generated code reported in `ARG_*`.
fn fault(ctx: &[u64], state: &mut RunState<'_, '_, '_>) -> Fault {
    let (pc, addr, size) = (ctx[ARG_PC] as usize, ctx[ARG_ADDR], ctx[ARG_SIZE] as usize);
    match ctx[ARG_KIND] {
        FAULT_READ => Runtime::read_fault(pc, addr, size),
        FAULT_WRITE => state.rt.write_fault(pc, addr, size),
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
            budget: state.rt.budget().unwrap_or(0),
        },
        _ => state.fault.take().unwrap_or(Fault::Helper {
            pc,
            id: 0,
            message: "the runtime reported no fault".into(),
        }),
    }
}
