//! The driver: lowers every program of a VM and feeds a backend, then publishes the code in
//! executable memory (written while not executable, then made executable and not writable
//! again until the code is dropped; see `pool.rs`).

use std::cell::Cell;
use std::time::{Duration, Instant};

use bpfkit_vm::memory::{MAP_VALUE_REGION, MAX_FRAMES, STACK_REGION};
use bpfkit_vm::{MapId, ProgId, Program, Vm};

use crate::backend::{Backend, NewBackend};
use crate::group::{self, Class, Duplicate, Group, Planner, Prover};
use crate::guess::RegionGuess;
use crate::lower::{Check, Lir, Options, instructions, is_branch, lower};
use crate::pool::{Pooled, publish};
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

/// The driver's first pass over a program's slots: a label for each slot something jumps or
/// calls to (targets are absolute in `off`), and, when `grouping`, the program's groups of
/// accesses checked as one range, appended to `groups` (see [`crate::group`]). (Every slot has
/// an op; the second slot of an `lddw` holds an `exit` filler, which is not a branch, so the
/// ops can be scanned without the instruction list.)
fn first_pass<B: Backend>(
    backend: &mut B,
    program: &Program,
    grouping: bool,
    groups: &mut Vec<Group>,
) -> Vec<Option<B::Label>> {
    let classes = Class::table();
    let mut labels: Vec<Option<B::Label>> = vec![None; program.len()];
    let mut planner = grouping.then(|| Planner::new(groups));
    for (pc, op) in program.ops().iter().enumerate() {
        let labelled = labels[pc].is_some();
        let class = classes[op.opcode as usize];
        if class.branches() {
            let target = op.off as usize;
            if labels[target].is_none() {
                labels[target] = Some(backend.new_label());
            }
            if let Some(planner) = &mut planner
                && target <= pc
            {
                planner.back_edge(target);
            }
        }
        if let Some(planner) = &mut planner {
            planner.slot(pc, op, class, labelled);
        }
    }
    if let Some(planner) = planner {
        planner.finish();
    }
    labels
}

/// One program's slots, to emit.
struct Slots<'a, L> {
    program: &'a Program,
    /// The program's index, for errors.
    index: usize,
    labels: &'a [Option<L>],
    options: Options,
    /// Number of maps.
    maps: u64,
}

impl<L: Copy> Slots<'_, L> {
    /// Emits every slot: its label, its meter, its lowered operation (with its region guessed,
    /// in checked mode), and with `GROUPED` what its groups need (see [`Grouping`]); returns
    /// the code offset of each slot. Monomorphised apart so that a program without groups
    /// pays nothing for them in this loop, the hottest of a compile. `frame_stores` is set
    /// when an operation writes a frame unreported (see [`Code::writes_frames_unreported`]).
    fn emit<B: Backend<Label = L>, const GROUPED: bool>(
        &self,
        backend: &mut B,
        grouping: &mut Grouping<'_, L>,
        frame_stores: &mut bool,
    ) -> Result<Vec<(usize, usize)>, JitError> {
        let Slots {
            program,
            index,
            labels,
            options,
            maps,
        } = *self;
        let label = |target: usize| labels[target].expect("every branch target has a label");
        let mut insns = Vec::with_capacity(program.len());
        let mut guess = (options.mode == Mode::Checked).then(|| RegionGuess::new(maps));
        for (pc, insn, op) in instructions(program) {
            let labelled = labels[pc];
            if let Some(label) = labelled {
                backend.bind(label);
            }
            insns.push((pc, backend.offset()));
            if options.metered {
                backend.meter(pc);
            }
            let mut lir = lower(insn, op, options, label);
            if let Some(guess) = &mut guess {
                guess.enter(pc, labelled.is_some());
                guess.apply(&mut lir);
                guess.step(pc, &lir, is_branch(op).then_some(op.off as usize));
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
            if GROUPED {
                grouping.before(backend, pc, &mut lir);
            }
            backend.emit(pc, lir);
            if GROUPED {
                grouping.after(backend, pc);
            }
        }
        Ok(insns)
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
                backend.emit(pc, g.check(region, fallback));
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
                backend.emit(pc, lir);
            }
            let resume = Lir::Jump {
                cond: None,
                target: resume,
            };
            backend.emit(duplicate.last, resume);
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
    let grouping = group::formed(options);
    let mut backend = B::new(options, total);
    backend.entry_trampoline();
    let mut entries = Vec::with_capacity(programs.len());
    let mut offsets = Vec::with_capacity(programs.len());
    let mut duplicates_at = Vec::with_capacity(programs.len());
    let (mut groups, mut duplicates) = SPARE.try_with(Cell::take).unwrap_or_default();
    let mut frame_stores = false;
    for (index, program) in programs.iter().enumerate() {
        groups.clear();
        duplicates.clear();
        let labels = first_pass(&mut backend, program, grouping, &mut groups);
        group::duplicates(&groups, &mut duplicates);
        entries.push(backend.offset());
        let mut grouping = Grouping::new(&mut backend, &groups, &duplicates);
        let slots = Slots {
            program,
            index,
            labels: &labels,
            options,
            maps,
        };
        let insns = if groups.is_empty() {
            slots.emit::<B, false>(&mut backend, &mut grouping, &mut frame_stores)?
        } else {
            slots.emit::<B, true>(&mut backend, &mut grouping, &mut frame_stores)?
        };
        duplicates_at.push((!duplicates.is_empty()).then(|| backend.offset()));
        grouping.emit_duplicates(&mut backend, options.metered);
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
        out_of_line,
        // Trusted code's stores are host pointers: any of them may be into a frame.
        frame_stores: frame_stores || options.mode == Mode::Trusted,
        options,
        compile_time: started.elapsed(),
    })
}
