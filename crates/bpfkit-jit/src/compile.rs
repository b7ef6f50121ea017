//! The driver: lowers every program of a VM and feeds a backend, then publishes the code in
//! executable memory (written while not executable, then made executable and not writable
//! again until the code is dropped; see `pool.rs`).

use std::cell::Cell;
use std::time::{Duration, Instant};

use bpfkit_isa::{Insn, Opcode};
use bpfkit_vm::memory::{MAP_VALUE_REGION, MAX_FRAMES, STACK_REGION};
use bpfkit_vm::{MapId, Op, ProgId, Program, Vm};

use crate::backend::{Backend, NewBackend};
use crate::group::{self, Class, Duplicate, Group, Planner, Prover};
use crate::guess::RegionGuess;
use crate::loops::{self, Loop, Regions};
use crate::lower::{Check, Lir, Mem, Options, instructions, is_branch, lower};
use crate::pool::{Pooled, publish};
use crate::saves::{self, Saves};
use crate::window::{self, Window};
use crate::{JitError, Mode};

/// Compiled code for every program of a VM, with where each program and instruction starts.
pub struct Code {
    buffer: Pooled,
    /// Host address of each program's first instruction, by program id.
    entries: Vec<usize>,
    /// For each program, the code offset of each instruction (by slot index).
    insns: Vec<Vec<(usize, usize)>>,
    /// For each program that has any, where the duplicates of its grouped accesses start (see
    /// [`crate::group`]): right after its last instruction's code.
    duplicates: Vec<Option<usize>>,
    /// For each program that has any, where the copies of its versioned loops start (see
    /// [`crate::loops`]): after its duplicates.
    loops: Vec<Option<usize>>,
    /// For each program that has one, where the copy of its code after its window's check
    /// starts (see [`crate::window`]): after its loops' copies.
    windows: Vec<Option<usize>>,
    /// Where the out-of-line code (fault paths, runtime-call stub) starts.
    out_of_line: usize,
    /// Whether some checked store can write a stack frame without reporting it in
    /// `FRAMES_WRITTEN` (see [`Code::writes_frames_unreported`]).
    frame_stores: bool,
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

    /// Where the duplicates of program `id`'s grouped accesses start (see [`crate::group`]),
    /// right after the code of its last instruction, if it has any.
    pub fn duplicates_offset(&self, id: ProgId) -> Option<usize> {
        self.duplicates.get(id.0 as usize).copied().flatten()
    }

    /// Where the copies of program `id`'s versioned loops start (see [`crate::loops`]), after
    /// its duplicates, if it has any.
    pub fn loops_offset(&self, id: ProgId) -> Option<usize> {
        self.loops.get(id.0 as usize).copied().flatten()
    }

    /// Where the copy of program `id`'s code after its window's check starts (see
    /// [`crate::window`]), if it has one.
    pub fn window_offset(&self, id: ProgId) -> Option<usize> {
        self.windows.get(id.0 as usize).copied().flatten()
    }

    /// Whether, in checked mode, some store or atomic of the code can write a stack frame
    /// without reporting it in the context's `FRAMES_WRITTEN` word: one through `r10` at a
    /// constant offset, or one checked against a stack frame's region it was guessed to fall
    /// in. Every other checked store writes a frame only through the full region lookup, which
    /// reports it. (Trusted code: always `true`.)
    pub fn writes_frames_unreported(&self) -> bool {
        self.frame_stores
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

/// Loops of fewer slots than this (from the head to the jump back) have their head aligned
/// (see `Slots::bind`). Larger ones are left where they fall: aligning the head of `switch`'s
/// dispatch loop, a tree of compares, made its trusted run 1.1-1.3x slower.
const SMALL_LOOP: usize = 8;

thread_local! {
    /// The lists of the last compile on this thread, emptied, kept so that their memory stays
    /// mapped between compiles (as the assembler keeps its buffers; see `assembler.rs`).
    static SPARE: Cell<(Vec<Group>, Vec<Duplicate>)> = const {
        Cell::new((Vec::new(), Vec::new()))
    };
}

/// Whether `lir` is a store or atomic that writes a stack frame without reporting it (see
/// [`Code::writes_frames_unreported`]).
fn stores_to_frame<L>(lir: &Lir<L>) -> bool {
    let stack = STACK_REGION..STACK_REGION + MAX_FRAMES as u64;
    match lir {
        Lir::Store { mem, .. } | Lir::Atomic { mem, .. } => match mem.check {
            Check::Frame => true,
            Check::Region {
                guess: Some(region),
            }
            | Check::Proven { region } => stack.contains(&u64::from(region)),
            Check::Region { guess: None } | Check::Host => false,
        },
        _ => false,
    }
}

/// What the first pass learns of a program, besides its groups and loops.
struct FirstPass<L> {
    /// By slot, its label, if something jumps or calls to it.
    labels: Vec<Option<L>>,
    /// By slot, whether it heads a small loop (see [`SMALL_LOOP`]; empty when none does).
    heads: Vec<bool>,
    /// Its window (see [`crate::window`]), when it has no loop to version.
    window: Option<Window>,
    /// What each bpf-to-bpf call saves (see [`crate::saves`]).
    saves: Saves,
}

/// The driver's first pass over a program's slots: a label for each slot something jumps or
/// calls to (targets are absolute in `off`), and, when `planning`, the program's groups of
/// accesses checked as one range (see [`crate::group`]) and its loops to version (see
/// [`crate::loops`]), appended to `groups` and `loops`, and the rest of [`FirstPass`].
/// (Every slot has an op; the second slot of an `lddw` holds an `exit` filler, which is not a
/// branch, so the ops can be scanned without the instruction list.)
fn first_pass<B: Backend>(
    backend: &mut B,
    program: &Program,
    planning: bool,
    groups: &mut Vec<Group>,
    loops: &mut Vec<Loop>,
) -> FirstPass<B::Label> {
    let classes = Class::table();
    let ops = program.ops();
    let mut labels: Vec<Option<B::Label>> = vec![None; program.len()];
    let mut heads = Vec::new();
    let mut planner = planning.then(|| Planner::new(groups));
    // Back edges that may close a loop to version: (head, back edge).
    let mut edges = Vec::new();
    let mut callees = Vec::new();
    for (pc, op) in ops.iter().enumerate() {
        let labelled = labels[pc].is_some();
        let class = classes[op.opcode as usize];
        if class.branches() {
            let target = op.off as usize;
            if labels[target].is_none() {
                labels[target] = Some(backend.new_label());
            }
            if class == Class::CallLocal {
                callees.push(target);
            }
            if target <= pc && pc - target < SMALL_LOOP && class != Class::CallLocal {
                heads.resize(program.len(), false);
                heads[target] = true;
            }
            if let Some(planner) = &mut planner
                && target <= pc
            {
                planner.back_edge(target);
                if matches!(op.opcode, Opcode::JltReg | Opcode::JgtReg) {
                    edges.push((target, pc));
                }
            }
        }
        if let Some(planner) = &mut planner {
            planner.slot(pc, op, class, labelled);
        }
    }
    if let Some(planner) = planner {
        planner.finish();
    }
    // Loops overlap only when neither holds the other's back edge; the first is kept.
    edges.sort_unstable();
    let (mut end, loops_before) = (None, loops.len());
    for (head, back) in edges {
        if end.is_some_and(|end| head <= end) {
            continue;
        }
        if let Some(planned) = loops::plan(ops, classes, head, back) {
            end = Some(back);
            loops.push(planned);
        }
    }
    let window = (planning && loops.len() == loops_before)
        .then(|| window::plan(ops, classes))
        .flatten();
    let saves = if callees.is_empty() {
        Saves::default()
    } else {
        callees.sort_unstable();
        callees.dedup();
        saves::plan(ops, classes, &callees)
    };
    FirstPass {
        labels,
        heads,
        window,
        saves,
    }
}

/// One program's slots, to emit.
struct Slots<'a, L> {
    program: &'a Program,
    /// The program's index, for errors.
    index: usize,
    labels: &'a [Option<L>],
    /// By slot, whether it is the head of a small loop (see [`first_pass`]).
    heads: &'a [bool],
    options: Options,
    /// Number of maps.
    maps: u64,
    /// What each bpf-to-bpf call saves.
    saves: &'a Saves,
}

impl<L: Copy> Slots<'_, L> {
    /// Binds slot `pc`'s label (or a copy's label for it): a small loop's head starts a
    /// 32-byte block, so that a loop of up to 32 bytes never straddles a 64-byte line (where
    /// `sieve`'s crossing-off loop did, it ran at 1.5x its time on this AMD CPU). Falling into
    /// the loop runs the padding, a few NOPs, once. With `ready`, every way to the label comes
    /// with that region's delta ready (see [`Backend::bind_ready`]).
    fn bind<B: Backend<Label = L>>(
        &self,
        backend: &mut B,
        pc: usize,
        label: L,
        ready: Option<u32>,
    ) {
        if self.heads.get(pc) == Some(&true) {
            backend.align(32);
        }
        match ready {
            Some(region) => backend.bind_ready(label, region),
            None => backend.bind(label),
        }
    }

    /// `insn` (pre-decoded as `op`) lowered with `label` for its jumps, a call saving what its
    /// callee may write.
    fn lowered(&self, insn: &Insn, op: &Op, label: impl Fn(usize) -> L) -> Lir<L> {
        let mut lir = lower(insn, op, self.options, label);
        if let Lir::CallLocal { saves, .. } = &mut lir {
            *saves = self.saves.of(op.off as usize);
        }
        lir
    }

    /// Slot `pc` (instruction `insn`) in a copy of the program's code, metered: lowered with
    /// `label` for its jumps, its access checked as guessed in the program's code (the next
    /// of `guessed`, when it is for `pc`), or proven inside region `proven`.
    fn copied<B: Backend<Label = L>>(
        &self,
        backend: &mut B,
        pc: usize,
        insn: &Insn,
        label: impl Fn(usize) -> L,
        guessed: &mut std::iter::Peekable<std::vec::IntoIter<(usize, Check)>>,
        proven: Option<u32>,
    ) -> Lir<L> {
        if self.options.metered {
            backend.meter(pc);
        }
        let mut lir = self.lowered(insn, &self.program.ops()[pc], label);
        if let Some(mem) = mem_mut(&mut lir) {
            if let Some((_, check)) = guessed.next_if(|&(at, _)| at == pc) {
                mem.check = check;
            }
            if let Some(region) = proven {
                mem.check = Check::Proven { region };
            }
        }
        lir
    }

    /// Emits every slot: its label, its meter, its lowered operation (with its region guessed,
    /// in checked mode), and with `PLANNED` what its groups and loops need (see [`Grouping`]
    /// and [`Versioning`]); returns the code offset of each slot. Monomorphised apart so that
    /// a program with neither pays nothing for them in this loop, the hottest of a compile.
    /// `frame_stores` is set when an operation writes a frame unreported (see
    /// [`Code::writes_frames_unreported`]).
    fn emit<B: Backend<Label = L>, const PLANNED: bool>(
        &self,
        backend: &mut B,
        grouping: &mut Grouping<'_, L>,
        versioning: &mut Versioning<'_, L>,
        windowing: &mut Windowing<'_, L>,
        frame_stores: &mut bool,
    ) -> Result<Vec<(usize, usize)>, JitError> {
        let Slots {
            program,
            index,
            labels,
            options,
            maps,
            ..
        } = *self;
        let label = |target: usize| labels[target].expect("every branch target has a label");
        let mut insns = Vec::with_capacity(program.len());
        let mut guess = (options.mode == Mode::Checked).then(|| RegionGuess::new(maps));
        for (pc, insn, op) in instructions(program) {
            insns.push((pc, backend.offset()));
            if PLANNED {
                versioning.before_slot(backend, pc, guess.as_ref());
            }
            let labelled = labels[pc];
            if let Some(label) = labelled {
                self.bind(backend, pc, label, None);
            }
            if options.metered {
                backend.meter(pc);
            }
            let mut lir = self.lowered(insn, op, label);
            if let Some(guess) = &mut guess {
                guess.enter(pc, labelled.is_some());
                guess.apply(&mut lir);
                // Straight from `lower`, only a jump's `off` is a target `step` follows.
                let target = matches!(lir, Lir::Jump { .. }).then_some(op.off as usize);
                guess.step(pc, &lir, target);
            }
            // Only trusted code has host addresses of map values.
            if options.mode == Mode::Trusted
                && let Lir::HostAddr { region, .. } = lir
                && region >= MAP_VALUE_REGION + maps
            {
                return Err(JitError::NoSuchMap {
                    program: index,
                    pc,
                    map: region - MAP_VALUE_REGION,
                });
            }
            *frame_stores |= stores_to_frame(&lir);
            if PLANNED {
                versioning.record(pc, &lir);
                windowing.record(pc, &lir);
                grouping.before(backend, pc, &mut lir);
            }
            backend.emit(pc, &lir);
            if PLANNED {
                grouping.after(backend, pc);
                windowing.after_slot(backend, pc, guess.as_ref());
            }
        }
        Ok(insns)
    }
}

/// The memory operand of a load, store or atomic.
fn mem<L>(lir: &Lir<L>) -> Option<&Mem> {
    match lir {
        Lir::Load { mem, .. } | Lir::Store { mem, .. } | Lir::Atomic { mem, .. } => Some(mem),
        _ => None,
    }
}

/// The memory operand of a load, store or atomic, to change.
fn mem_mut<L>(lir: &mut Lir<L>) -> Option<&mut Mem> {
    match lir {
        Lir::Load { mem, .. } | Lir::Store { mem, .. } | Lir::Atomic { mem, .. } => Some(mem),
        _ => None,
    }
}

/// A versioned loop's labels, and the regions its check on entry proved.
struct Versioned<L> {
    /// The head of its copy.
    fast: L,
    /// The slot after the loop, where the copy's exit by falling through goes.
    exit: L,
    regions: Regions,
}

/// A program's loops to version (see [`crate::loops`]) while its slots are emitted.
struct Versioning<'a, L> {
    loops: &'a [Loop],
    /// By loop, what its check on entry decided: `None` when it has none (nothing to prove
    /// from the regions guessed at its head).
    versioned: Vec<Option<Versioned<L>>>,
    /// The loop whose slots are being emitted.
    inside: Option<usize>,
    /// The guessed checks of the accesses of versioned loops, by slot, before any proving.
    guessed: Vec<(usize, Check)>,
}

impl<'a, L: Copy> Versioning<'a, L> {
    fn new(loops: &'a [Loop]) -> Self {
        Versioning {
            loops,
            versioned: Vec::with_capacity(loops.len()),
            inside: None,
            guessed: Vec::new(),
        }
    }

    /// Before slot `pc`'s label: after a versioned loop, the label its copy comes back to;
    /// at a loop's head, the check on entry, with the regions guessed on falling into it.
    fn before_slot<B: Backend<Label = L>>(
        &mut self,
        backend: &mut B,
        pc: usize,
        guess: Option<&RegionGuess>,
    ) {
        if let Some(i) = self.inside
            && self.loops[i].back + 1 == pc
        {
            if let Some(v) = &self.versioned[i] {
                backend.bind(v.exit);
            }
            self.inside = None;
        }
        let i = self.versioned.len();
        let Some(planned) = self.loops.get(i).filter(|l| l.head == pc) else {
            return;
        };
        self.inside = Some(i);
        let regions = guess.and_then(|g| planned.regions(|r| g.falling_through(r)));
        let versioned = regions.map(|regions| {
            let (fast, exit, slow) = (
                backend.new_label(),
                backend.new_label(),
                backend.new_label(),
            );
            for check in planned.checks(&regions, slow) {
                backend.emit(pc, &check);
            }
            if let Some(region) = Loop::kept_region(&regions, planned.cursor) {
                backend.ready(region);
            }
            let enter = Lir::Jump {
                cond: None,
                target: fast,
            };
            backend.emit(pc, &enter);
            backend.bind(slow);
            Versioned {
                fast,
                exit,
                regions,
            }
        });
        self.versioned.push(versioned);
    }

    /// Keeps the guessed check of slot `pc`'s access, `lir`, for the copy of the loop it is in.
    fn record(&mut self, pc: usize, lir: &Lir<L>) {
        if let Some(i) = self.inside
            && self.versioned[i].is_some()
            && let Some(mem) = mem(lir)
        {
            self.guessed.push((pc, mem.check));
        }
    }

    /// Whether some loop got a copy.
    fn any(&self) -> bool {
        self.versioned.iter().any(Option::is_some)
    }

    /// Emits the copies of the versioned loops, after the program: entered from the check
    /// before the loop when it passed, with the accesses it proved unchecked and the others as
    /// guessed in the program's code; each exit jumps back into the program.
    fn emit_copies<B: Backend<Label = L>>(
        self,
        backend: &mut B,
        slots: &Slots<'_, L>,
        frame_stores: &mut bool,
    ) {
        let classes = Class::table();
        let ops = slots.program.ops();
        let mut guessed = self.guessed.into_iter().peekable();
        for (planned, versioned) in self.loops.iter().zip(self.versioned) {
            let Some(v) = versioned else {
                continue;
            };
            let body = planned.head..=planned.back;
            let kept = Loop::kept_region(&v.regions, planned.cursor);
            // Nothing falls into the copy, so its head can start a cache line: where its
            // rounds fell across a fetch boundary, sieve ran 1.5x slower on this AMD CPU.
            backend.align(64);
            match kept {
                Some(region) => backend.bind_ready(v.fast, region),
                None => backend.bind(v.fast),
            }
            // The copy's own labels for the jump targets inside it (its head: `fast`).
            let inner: Vec<Option<L>> = body
                .clone()
                .map(|pc| {
                    (pc != planned.head && slots.labels[pc].is_some()).then(|| backend.new_label())
                })
                .collect();
            let label = |target: usize| match target {
                t if t == planned.head => v.fast,
                t if body.contains(&t) => inner[t - planned.head].expect("a label inside"),
                t => slots.labels[t].expect("every branch target has a label"),
            };
            for (pc, insn) in slots.program.insns_in(planned.head..planned.back + 1) {
                let op = &ops[pc];
                // Every way into a label of the copy (falling through, a jump inside it)
                // comes with the kept region's delta ready.
                if let Some(l) = inner[pc - planned.head] {
                    match kept {
                        Some(region) => {
                            backend.ready(region);
                            backend.bind_ready(l, region);
                        }
                        None => backend.bind(l),
                    }
                }
                let proven = planned
                    .proves(pc, op, classes[op.opcode as usize])
                    .and_then(|key| v.regions[key as usize]);
                let lir = slots.copied(backend, pc, insn, label, &mut guessed, proven);
                *frame_stores |= stores_to_frame(&lir);
                if let Some(region) = kept
                    && is_branch(op)
                    && body.contains(&(op.off as usize))
                {
                    backend.ready(region);
                }
                backend.emit(pc, &lir);
            }
            let exit = Lir::Jump {
                cond: None,
                target: v.exit,
            };
            backend.emit(planned.back, &exit);
        }
    }
}

/// A program's window (see [`crate::window`]) while its slots are emitted.
struct Windowing<'a, L> {
    window: Option<&'a Window>,
    /// The head of the copy and the region the check proved, once the check is emitted.
    checked: Option<(L, u32)>,
    /// The guessed checks of the accesses after the window's slot, by slot, before any
    /// proving.
    guessed: Vec<(usize, Check)>,
}

impl<'a, L: Copy> Windowing<'a, L> {
    fn new(window: Option<&'a Window>) -> Self {
        Windowing {
            window,
            checked: None,
            guessed: Vec::new(),
        }
    }

    /// After slot `pc`: when it ends the window, the check that the window lies in the region
    /// guessed for its start, and the jump into the copy when it does.
    fn after_slot<B: Backend<Label = L>>(
        &mut self,
        backend: &mut B,
        pc: usize,
        guess: Option<&RegionGuess>,
    ) {
        let Some(w) = self.window.filter(|w| w.at == pc) else {
            return;
        };
        let Some(region) = guess
            .and_then(|g| g.falling_through(w.start))
            .filter(|&r| Window::fits(r))
        else {
            return;
        };
        let (fast, slow) = (backend.new_label(), backend.new_label());
        for check in w.checks(region, slow) {
            backend.emit(pc, &check);
        }
        backend.ready(region);
        let enter = Lir::Jump {
            cond: None,
            target: fast,
        };
        backend.emit(pc, &enter);
        backend.bind(slow);
        self.checked = Some((fast, region));
    }

    /// Keeps the guessed check of slot `pc`'s access, `lir`, for the copy.
    fn record(&mut self, pc: usize, lir: &Lir<L>) {
        if self.checked.is_some()
            && let Some(mem) = mem(lir)
        {
            self.guessed.push((pc, mem.check));
        }
    }

    /// Emits the copy of the program's slots after the window's, entered from the check when
    /// it passed: the accesses the window proves unchecked, the others as guessed in the
    /// program's code; jumps to slots before the copy go back into the program. Every way
    /// into a label of the copy (the jump from the check, falling through, a jump inside it)
    /// comes with the region's delta ready, as in a loop's copy.
    fn emit_copy<B: Backend<Label = L>>(
        self,
        backend: &mut B,
        slots: &Slots<'_, L>,
        frame_stores: &mut bool,
    ) {
        let (Some(w), Some((fast, region))) = (self.window, self.checked) else {
            return;
        };
        let first = w.at + 1;
        let len = slots.program.len();
        backend.bind_ready(fast, region);
        let inner: Vec<Option<L>> = (first..len)
            .map(|pc| slots.labels[pc].map(|_| backend.new_label()))
            .collect();
        let label = |target: usize| match target.checked_sub(first) {
            Some(i) => inner[i].expect("a label inside"),
            None => slots.labels[target].expect("every branch target has a label"),
        };
        let mut guessed = self.guessed.into_iter().peekable();
        let ops = slots.program.ops();
        for (pc, insn) in slots.program.insns_in(first..len) {
            if let Some(l) = inner[pc - first] {
                backend.ready(region);
                slots.bind(backend, pc, l, Some(region));
            }
            let proven = w.proves(pc).then_some(region);
            let lir = slots.copied(backend, pc, insn, label, &mut guessed, proven);
            *frame_stores |= stores_to_frame(&lir);
            let op = &ops[pc];
            if is_branch(op) && op.off as usize >= first {
                backend.ready(region);
            }
            backend.emit(pc, &lir);
        }
    }

    /// Whether the copy is emitted.
    fn any(&self) -> bool {
        self.checked.is_some()
    }
}

/// A program's groups and duplicates (see [`crate::group`]) while its slots are emitted.
struct Grouping<'a, L> {
    groups: &'a [Group],
    duplicates: &'a [Duplicate],
    /// Each group's fallback label, made when its range is checked (its first access had a
    /// guess).
    fallbacks: Vec<Option<L>>,
    /// The label after each duplicate's last slot.
    resumes: Vec<L>,
    next_group: usize,
    next_duplicate: usize,
    prover: Prover,
    /// The operations of the duplicates' slots, as lowered and guessed before any proving.
    copied: Vec<(usize, Lir<L>)>,
}

impl<'a, L: Copy> Grouping<'a, L> {
    fn new<B: Backend<Label = L>>(
        backend: &mut B,
        groups: &'a [Group],
        duplicates: &'a [Duplicate],
    ) -> Self {
        Grouping {
            groups,
            duplicates,
            fallbacks: vec![None; groups.len()],
            resumes: duplicates.iter().map(|_| backend.new_label()).collect(),
            next_group: 0,
            next_duplicate: 0,
            prover: Prover::default(),
            copied: Vec::new(),
        }
    }

    /// Before slot `pc`'s operation `lir` is emitted: keeps it for its duplicate, checks a
    /// group's range at the group's first access, and proves the accesses of checked groups.
    fn before<B: Backend<Label = L>>(&mut self, backend: &mut B, pc: usize, lir: &mut Lir<L>) {
        if self
            .duplicates
            .get(self.next_duplicate)
            .is_some_and(|d| d.first <= pc && pc <= d.last)
        {
            self.copied.push((pc, *lir));
        }
        if let Some(g) = self.groups.get(self.next_group).filter(|g| g.first == pc) {
            if let Some(region) = group::guess_of(lir) {
                let fallback = backend.new_label();
                backend.emit(pc, &g.check(region, fallback));
                self.fallbacks[self.next_group] = Some(fallback);
                self.prover.checked(g, region);
            }
            self.next_group += 1;
        }
        self.prover.prove(pc, lir);
    }

    /// After slot `pc`'s operation was emitted: the point a duplicate ending there comes back
    /// to.
    fn after<B: Backend<Label = L>>(&mut self, backend: &mut B, pc: usize) {
        if self
            .duplicates
            .get(self.next_duplicate)
            .is_some_and(|d| d.last == pc)
        {
            backend.bind(self.resumes[self.next_duplicate]);
            self.next_duplicate += 1;
        }
    }

    /// Emits the duplicates after the program's code: each is entered at a group's first
    /// access when that group's range check fails (after the slot was metered), checks every
    /// access on its own against its guess, and jumps back to where the duplicated code ends.
    /// One whose groups were never checked (their first access had no guess) is left out.
    fn emit_duplicates<B: Backend<Label = L>>(self, backend: &mut B, metered: bool) {
        let mut copied = self.copied.into_iter().peekable();
        let mut next_group = 0;
        for (duplicate, &resume) in self.duplicates.iter().zip(&self.resumes) {
            // The duplicate's groups: the next ones, in order of first access.
            let first_group = next_group;
            while self
                .groups
                .get(next_group)
                .is_some_and(|g| g.first <= duplicate.last)
            {
                next_group += 1;
            }
            let fallbacks = &self.fallbacks[first_group..next_group];
            let groups = &self.groups[first_group..next_group];
            let slots = std::iter::from_fn(|| copied.next_if(|&(pc, _)| pc <= duplicate.last));
            if fallbacks.iter().all(Option::is_none) {
                slots.for_each(drop);
                continue;
            }
            for (pc, lir) in slots {
                if metered && pc != duplicate.first {
                    backend.meter(pc);
                }
                if let Some(k) = groups.iter().position(|g| g.first == pc)
                    && let Some(fallback) = fallbacks[k]
                {
                    backend.bind(fallback);
                }
                backend.emit(pc, &lir);
            }
            let resume = Lir::Jump {
                cond: None,
                target: resume,
            };
            backend.emit(duplicate.last, &resume);
        }
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
    let planning = group::formed(options);
    let mut backend = B::new(options, total);
    let (mut groups, mut duplicates) = SPARE.try_with(Cell::take).unwrap_or_default();
    groups.clear();
    let mut loops = Vec::new();
    // Every program is planned before any is emitted, so that the backend knows how much
    // code the loops' copies add.
    let mut plans = Vec::with_capacity(programs.len());
    let mut window_emits = 0;
    for program in &programs {
        let (g, l) = (groups.len(), loops.len());
        let first = first_pass(&mut backend, program, planning, &mut groups, &mut loops);
        window_emits += first
            .window
            .as_ref()
            .map_or(0, |w| w.extra_emits(program.len()));
        plans.push((first, g..groups.len(), l..loops.len()));
    }
    backend.expect_more(loops.iter().map(Loop::extra_emits).sum::<usize>() + window_emits);
    backend.entry_trampoline();
    let mut entries = Vec::with_capacity(programs.len());
    let mut offsets = Vec::with_capacity(programs.len());
    let mut duplicates_at = Vec::with_capacity(programs.len());
    let mut loops_at = Vec::with_capacity(programs.len());
    let mut windows_at = Vec::with_capacity(programs.len());
    let mut frame_stores = false;
    for (index, (program, (first, g, l))) in programs.iter().zip(plans).enumerate() {
        let FirstPass {
            labels,
            heads,
            window,
            saves,
        } = first;
        let (groups, loops) = (&groups[g], &loops[l]);
        duplicates.clear();
        group::duplicates(groups, &mut duplicates);
        entries.push(backend.offset());
        let mut grouping = Grouping::new(&mut backend, groups, &duplicates);
        let mut versioning = Versioning::new(loops);
        let mut windowing = Windowing::new(window.as_ref());
        let slots = Slots {
            program,
            index,
            labels: &labels,
            heads: &heads,
            options,
            maps,
            saves: &saves,
        };
        let insns = if groups.is_empty() && loops.is_empty() && window.is_none() {
            slots.emit::<B, false>(
                &mut backend,
                &mut grouping,
                &mut versioning,
                &mut windowing,
                &mut frame_stores,
            )?
        } else {
            slots.emit::<B, true>(
                &mut backend,
                &mut grouping,
                &mut versioning,
                &mut windowing,
                &mut frame_stores,
            )?
        };
        duplicates_at.push((!duplicates.is_empty()).then(|| backend.offset()));
        grouping.emit_duplicates(&mut backend, options.metered);
        loops_at.push(versioning.any().then(|| backend.offset()));
        versioning.emit_copies(&mut backend, &slots, &mut frame_stores);
        windows_at.push(windowing.any().then(|| backend.offset()));
        windowing.emit_copy(&mut backend, &slots, &mut frame_stores);
        offsets.push(insns);
    }
    // During thread teardown there is nowhere to keep them; they are freed instead.
    let _ = SPARE.try_with(|spare| spare.set((groups, duplicates)));
    let out_of_line = backend.offset();
    let bytes = backend.finish().map_err(JitError::Emit)?;
    let buffer = publish(&bytes).map_err(|e| JitError::Memory(e.to_string()))?;
    let base = buffer.as_ptr() as usize;
    let entries = entries.into_iter().map(|offset| base + offset).collect();
    Ok(Code {
        buffer,
        entries,
        insns: offsets,
        duplicates: duplicates_at,
        loops: loops_at,
        windows: windows_at,
        out_of_line,
        // Trusted code's stores are host pointers: any of them may be into a frame.
        frame_stores: frame_stores || options.mode == Mode::Trusted,
        options,
        compile_time: started.elapsed(),
    })
}
