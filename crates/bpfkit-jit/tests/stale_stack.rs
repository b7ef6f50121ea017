//! The stack is not carried from one run to the next: a run reads zero from any stack byte it
//! did not write, on every engine (the interpreter's documented semantics: each run gets a
//! zeroed stack), even though the engines now keep the stack from run to run and clean only
//! what a run may have written. Each test writes frames in one run and reads them in the next
//! (the input's first byte says which), on the interpreter, the checked JIT and, where the
//! program is memory-safe, the trusted JIT.

use bpfkit_asm::assemble;
use bpfkit_isa::Dialect;
use bpfkit_jit::Jit;
use bpfkit_vm::{ProgId, Vm};

const WRITE: u8 = 1;
const READ: u8 = 0;

/// Every frame, 0 to 7: `f` writes (input byte 1) or reads back (0) three words of its frame
/// (the top, the middle and the bottom) and calls itself one frame deeper, seven times; `r0` is
/// the OR of everything read.
const ALL_FRAMES: &str = "
    r1 = *(u8 *)(r1 + 0)
    r2 = 7
f:
    if r1 == 0 goto read
    *(u64 *)(r10 - 8) = -1
    *(u64 *)(r10 - 264) = -1
    *(u64 *)(r10 - 512) = -1
    r0 = 0
    goto next
read:
    r0 = *(u64 *)(r10 - 8)
    r3 = *(u64 *)(r10 - 264)
    r0 |= r3
    r3 = *(u64 *)(r10 - 512)
    r0 |= r3
next:
    if r2 == 0 goto done
    r6 = r0
    r2 += -1
    call f
    r0 |= r6
done:
    exit
";

/// Frame 0 only, every one of its 64 words, with no call: what trusted code of a program
/// without calls may write, and the only frame the next run cleans unconditionally.
const ENTRY_FRAME: &str = "
    r6 = *(u8 *)(r1 + 0)
    r0 = 0
    r2 = r10
    r2 += -512
loop:
    if r6 == 0 goto read
    *(u64 *)(r2 + 0) = -1
    goto next
read:
    r3 = *(u64 *)(r2 + 0)
    r0 |= r3
next:
    r2 += 8
    if r2 != r10 goto loop
    exit
";

/// Frames 0 to 7 by their virtual addresses (checked mode: region `1 + k` is frame `k`), never
/// through a call or `r10`: what an engine tracking only the calls a run made would miss, and
/// (frame 0) what one tracking only the stores through `r10` and pointers made from it would.
/// Each frame's top and bottom words.
const FORGED_FRAMES: &str = "
    r6 = *(u8 *)(r1 + 0)
    r0 = 0
    r7 = 1
loop:
    r1 = r7
    r1 <<= 32
    r2 = r1
    r2 += 504
    if r6 == 0 goto read
    *(u64 *)(r1 + 0) = -1
    *(u64 *)(r2 + 0) = -1
    goto next
read:
    r3 = *(u64 *)(r1 + 0)
    r0 |= r3
    r3 = *(u64 *)(r2 + 0)
    r0 |= r3
next:
    r7 += 1
    if r7 < 9 goto loop
    exit
";

/// Frame 3's first byte through a pointer the JIT guesses points into the input (`r1` on
/// entry), which it does on the loop's first round and not on the second: a checked store
/// whose guess was wrong reaches a frame other than the entry's, and must be cleaned after.
const GUESSED_FRAME: &str = "
    r6 = *(u8 *)(r1 + 0)
    r0 = 0
    r7 = 0
loop:
    if r6 == 0 goto read
    r8 = 0xff
    *(u8 *)(r1 + 0) = r8
    goto next
read:
    r3 = *(u8 *)(r1 + 0)
    r0 |= r3
next:
    r1 = 4
    r1 <<= 32
    r7 += 1
    if r7 < 2 goto loop
    exit
";

/// Frame 0's top, middle and bottom words through `r10`, no other store: the frame a checked
/// run of it can write is frame 0 alone (`FrameUse::Entry`).
const R10_FRAME: &str = "
    r6 = *(u8 *)(r1 + 0)
    r0 = 0
    if r6 == 0 goto read
    *(u64 *)(r10 - 8) = -1
    *(u64 *)(r10 - 264) = -1
    *(u64 *)(r10 - 512) = -1
    exit
read:
    r0 = *(u64 *)(r10 - 8)
    r3 = *(u64 *)(r10 - 264)
    r0 |= r3
    r3 = *(u64 *)(r10 - 512)
    r0 |= r3
    exit
";

/// Reads the words every writer above writes, in every frame (frames 1 to 7 by address), and
/// stores nothing (`FrameUse::Nothing`): a run of it cleans nothing for the next.
const READER: &str = "
    r0 = *(u64 *)(r10 - 8)
    r3 = *(u64 *)(r10 - 264)
    r0 |= r3
    r3 = *(u64 *)(r10 - 512)
    r0 |= r3
    r7 = 2
loop:
    r1 = r7
    r1 <<= 32
    r3 = *(u64 *)(r1 + 0)
    r0 |= r3
    r3 = *(u64 *)(r1 + 248)
    r0 |= r3
    r3 = *(u64 *)(r1 + 504)
    r0 |= r3
    r7 += 1
    if r7 < 9 goto loop
    exit
";

fn vm(source: &str) -> Vm {
    let insns = assemble(source, Dialect::Llvm).unwrap_or_else(|e| panic!("{e}\n{source}"));
    Vm::new(&insns).unwrap_or_else(|e| panic!("{e}\n{source}"))
}

/// The engines a test runs on, each a fresh VM running `source`.
// A handful of short-lived values in a test: their size does not matter.
#[allow(clippy::large_enum_variant)]
enum Engine {
    Interpreter(Vm),
    Jit(Jit),
}

impl Engine {
    fn run(&mut self, mode: u8) -> u64 {
        let mut input = [mode];
        match self {
            Engine::Interpreter(vm) => vm.run(&mut input),
            Engine::Jit(jit) => jit.run(&mut input),
        }
        .unwrap_or_else(|f| panic!("run in mode {mode}: {f}"))
    }
}

fn interpreter(source: &str) -> Engine {
    Engine::Interpreter(vm(source))
}

fn checked(source: &str) -> Engine {
    Engine::Jit(Jit::new(vm(source)).unwrap())
}

/// `source` in trusted mode: only for the programs above that stay in their own frames.
fn trusted(source: &str) -> Engine {
    // SAFETY: ALL_FRAMES and ENTRY_FRAME access only their own frame, at constant offsets
    // from r10 inside it (or a pointer derived from r10 that stays inside it), and the one
    // input byte; they call no helper.
    Engine::Jit(unsafe { Jit::new_trusted(vm(source)) }.unwrap())
}

/// Writes, then reads back on the same engine, a few times: every read sees zero
/// (`a_run_reads_back_what_it_wrote` shows the reads would see the values if they were there).
fn writes_do_not_survive(name: &str, mut engine: Engine) {
    assert_eq!(engine.run(READ), 0, "{name}: first run");
    for round in 0..3 {
        assert_eq!(engine.run(WRITE), 0, "{name}: write run {round}");
        assert_eq!(engine.run(READ), 0, "{name}: read after write run {round}");
        assert_eq!(engine.run(READ), 0, "{name}: second read {round}");
    }
}

#[test]
fn every_frame_reached_by_calls_is_zero_in_the_next_run() {
    writes_do_not_survive("interpreter", interpreter(ALL_FRAMES));
    writes_do_not_survive("checked", checked(ALL_FRAMES));
    writes_do_not_survive("trusted", trusted(ALL_FRAMES));
}

#[test]
fn the_whole_entry_frame_is_zero_in_the_next_run() {
    writes_do_not_survive("interpreter", interpreter(ENTRY_FRAME));
    writes_do_not_survive("checked", checked(ENTRY_FRAME));
    writes_do_not_survive("trusted", trusted(ENTRY_FRAME));
}

#[test]
fn the_entry_frame_written_through_r10_is_zero_in_the_next_run() {
    writes_do_not_survive("interpreter", interpreter(R10_FRAME));
    writes_do_not_survive("checked", checked(R10_FRAME));
    writes_do_not_survive("trusted", trusted(R10_FRAME));
}

/// Programs that write different frames (each cleaning a different part after it) and one that
/// writes nothing, in one VM, run in every order: the reader always reads zero.
#[test]
fn programs_of_one_vm_clean_after_each_other() {
    let writers = [
        ALL_FRAMES,
        R10_FRAME,
        FORGED_FRAMES,
        GUESSED_FRAME,
        ENTRY_FRAME,
    ];
    let build = || {
        let mut vm = vm(READER);
        let ids: Vec<_> = writers
            .iter()
            .map(|source| {
                let insns = assemble(source, Dialect::Llvm).unwrap();
                vm.add_program(bpfkit_vm::Program::new(&insns).unwrap())
            })
            .collect();
        (vm, ids)
    };
    let (mut interp, ids) = build();
    let mut jit = Jit::new(build().0).unwrap();
    for (round, &first) in ids.iter().enumerate() {
        for &second in &ids {
            for (id, mode) in [(first, WRITE), (second, WRITE), (ProgId(0), READ)] {
                let what = format!("round {round}: program {} in mode {mode}", id.0);
                assert_eq!(
                    interp.run_program(id, &mut [mode]),
                    Ok(0),
                    "interpreter {what}"
                );
                assert_eq!(
                    jit.run_program(id, &mut [mode]),
                    Ok(0),
                    "checked JIT {what}"
                );
            }
            // Again after a run that wrote nothing: still clean.
            assert_eq!(interp.run_program(ProgId(0), &mut [READ]), Ok(0));
            assert_eq!(jit.run_program(ProgId(0), &mut [READ]), Ok(0));
        }
    }
}

#[test]
fn frames_written_by_address_are_zero_in_the_next_run() {
    writes_do_not_survive("interpreter", interpreter(FORGED_FRAMES));
    writes_do_not_survive("checked", checked(FORGED_FRAMES));
    writes_do_not_survive("interpreter", interpreter(GUESSED_FRAME));
    writes_do_not_survive("checked", checked(GUESSED_FRAME));
}

/// Within one run the stack does keep what was written: the reads above would see a leak.
#[test]
fn a_run_reads_back_what_it_wrote() {
    let both = "
        r6 = r1
        r1 = 1
        *(u8 *)(r6 + 0) = r1
        r1 = r6
        call write
        r1 = r6
        r2 = 0
        *(u8 *)(r1 + 0) = r2
        call write
        exit
    write:
    ";
    // `write` is FORGED_FRAMES with its input read from `r1` each time: run it twice in one
    // run, first writing, then reading back.
    let source = format!("{both}{FORGED_FRAMES}");
    for mut engine in [interpreter(&source), checked(&source)] {
        assert_eq!(engine.run(READ), u64::MAX);
    }
}

/// The stack belongs to the VM, which one engine can hand to another: a run on the trusted JIT
/// that writes frame 0 only still cleans what the interpreter's run before it wrote anywhere.
#[test]
fn the_stack_is_clean_across_engines_sharing_a_vm() {
    // The interpreter writes frames 0 to 7 by address.
    let mut vm = vm(FORGED_FRAMES);
    assert_eq!(vm.run(&mut [WRITE]), Ok(0));
    // A trusted program with no call: its runs clean frame 0 only, once the stack is clean.
    let insns = assemble(ENTRY_FRAME, Dialect::Llvm).unwrap();
    let entry = vm.add_program(bpfkit_vm::Program::new(&insns).unwrap());
    // SAFETY: only program `entry` runs on the trusted JIT, and it stays in its frame (see
    // `trusted`); program 0 is compiled but not run.
    let mut jit = unsafe { Jit::new_trusted(vm) }.unwrap();
    assert_eq!(jit.run_program(entry, &mut [WRITE]), Ok(0));
    assert_eq!(jit.run_program(entry, &mut [READ]), Ok(0));
    let mut vm = jit.into_vm();
    assert_eq!(
        vm.run(&mut [READ]),
        Ok(0),
        "frames 1-7 after the trusted runs"
    );
}
