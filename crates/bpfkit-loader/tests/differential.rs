//! Kernel differential test of our engines (the interpreter, the JIT with checked memory, the
//! JIT with trusted memory), on the differential harness ([`bpfkit_loader::diff`]): random
//! programs the verifier accepts run in the kernel (`BPF_PROG_TEST_RUN`, JIT-compiled where the
//! kernel has a JIT) and on each engine from the same [`ProgramImage`]; the return value and the
//! map (every body's full `r0` and its input after the run) must agree byte for byte. The
//! kernel is the oracle.
//!
//! The test run's return value has only 32 bits, so each random program (a *body*, see
//! `differential/generator.rs`) runs as a subprogram of a wrapper that stores the body's full
//! `r0` in an array map:
//!
//! ```text
//! main:   r6 = map_idx_value(0, 0) ll        ; the map's only value
//!         r1 = r6; r1 += i * INPUT_LEN       ; for each body i of the batch:
//!         r2 = INPUT_LEN                     ;   (r1, r2) = its input, as the VM passes them
//!         call body_i                        ;   bpf-to-bpf call
//!         *(u64 *)(r6 + OUT + 8 * i) = r0    ;   its result
//!         r0 = MARK; exit
//! body_0: ...; subprograms of body_0 ...; body_1: ...
//! ```
//!
//! One load and one test run cover a batch of bodies; the interpreter runs the same wrapper
//! image (its map created from the image, as the kernel's is). A batch that differs is run
//! again body by body to find the culprits. A rejected program is a generator bug: the test
//! fails with the verifier log and the program. A mismatch prints both results, the program,
//! the seed, a `bpfkit plugin` command line that runs it, and the program shrunk to the fewest
//! instructions that still differ (see `differential/shrink.rs`).
//!
//! The kernel is not always right: the generator steers around three Linux 6.18 verifier bugs
//! this test found (see the comments in `generator.rs`), and loads use
//! `BPF_F_TEST_REG_INVARIANTS` so that another one shows as a rejection, not as a wrong result.
//!
//! Environment: `BPFKIT_DIFF_PROGRAMS=N` runs N programs (default 10,000), `BPFKIT_DIFF_SEED=S`
//! starts at seed S (program i uses seed S + i), so `BPFKIT_DIFF_SEED=S BPFKIT_DIFF_PROGRAMS=1`
//! reproduces one program. Skips (printing why) only where `bpf(2)` is not permitted, and never
//! under `CI=true` (the one rule of `bpfkit-test-support`).

#[path = "differential/generator.rs"]
mod generator;
#[path = "differential/shrink.rs"]
mod shrink;

use std::time::{Duration, Instant};

use bpfkit_isa::{Dialect, Insn, Opcode, Reg, TABLE};
use bpfkit_loader::diff::{self, Comparison, Engine, Input, RunOutput};
use bpfkit_relo::{MapSlot, ProgramImage};
use bpfkit_sys::{MapDef, MapType, ProgFlags, ProgType};
use bpfkit_test_support::{Need, require};
use generator::{Generated, INPUT_LEN, NOT_GENERATED, generate};

/// Bodies per kernel program. Each body brings up to 3 subprograms; the kernel allows 256.
const BATCH: usize = 32;
/// Where the results start in the map value: after the inputs of a whole batch.
const OUT: usize = BATCH * INPUT_LEN;
/// Size of the map's one value.
const VALUE_SIZE: usize = OUT + 8 * BATCH;
/// What the wrapper returns, so a test run that did not run it to the end shows.
const MARK: i32 = 0x600d;
/// What result slots hold before a run, so a body that did not store shows.
const UNSET: u64 = 0x5a5a_5a5a_5a5a_5a5a;
/// Default number of programs per run.
const DEFAULT_PROGRAMS: u64 = 10_000;
/// Default first seed ("bpfkdiff").
const DEFAULT_SEED: u64 = 0x6270_666b_6469_6666;
/// A packet for the socket filter's test run: an Ethernet header with a non-IP EtherType.
const PACKET: [u8; 14] = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 0x88, 0xb5];

fn env_u64(name: &str, default: u64) -> u64 {
    match std::env::var(name) {
        Ok(text) => {
            let text = text.trim();
            let parsed = match text.strip_prefix("0x") {
                Some(hex) => u64::from_str_radix(hex, 16),
                None => text.parse(),
            };
            parsed.unwrap_or_else(|_| panic!("{name}={text}: expected a number"))
        }
        Err(_) => default,
    }
}

/// The wrapper program around `bodies`, which reads its inputs from and writes its results to
/// the value of map slot 0.
fn wrapper(bodies: &[&Generated]) -> Vec<Insn> {
    let mut main = vec![
        Insn::new(Opcode::LdMapIdxValue)
            .with_dst(Reg::R6)
            .with_imm(0),
    ];
    // Each call's index in `main`, to patch once the bodies' places are known.
    let mut calls = Vec::new();
    for i in 0..bodies.len() {
        main.push(
            Insn::new(Opcode::Mov64Reg)
                .with_dst(Reg::R1)
                .with_src(Reg::R6),
        );
        if i > 0 {
            main.push(
                Insn::new(Opcode::Add64Imm)
                    .with_dst(Reg::R1)
                    .with_imm((i * INPUT_LEN) as i32),
            );
        }
        main.push(
            Insn::new(Opcode::Mov64Imm)
                .with_dst(Reg::R2)
                .with_imm(INPUT_LEN as i32),
        );
        calls.push(main.len());
        main.push(Insn::new(Opcode::CallLocal));
        main.push(
            Insn::new(Opcode::StxDW)
                .with_dst(Reg::R6)
                .with_src(Reg::R0)
                .with_off((OUT + 8 * i) as i16),
        );
    }
    main.push(Insn::new(Opcode::Mov64Imm).with_dst(Reg::R0).with_imm(MARK));
    main.push(Insn::new(Opcode::Exit));

    let slots = |code: &[Insn]| code.iter().map(Insn::slots).sum::<usize>();
    let mut start = slots(&main);
    let mut program = main;
    for (i, body) in bodies.iter().enumerate() {
        let call_slot = slots(&program[..calls[i]]);
        program[calls[i]].imm = (start - (call_slot + 1)) as i32;
        start += slots(&body.insns);
    }
    for body in bodies {
        program.extend_from_slice(&body.insns);
    }
    program
}

/// The image of a batch: the wrapper around `bodies` as a socket filter loaded with `flags`,
/// and its map, whose one value holds the inputs and unset result slots.
fn batch_image(bodies: &[&Generated], flags: ProgFlags) -> ProgramImage {
    let mut value = vec![0u8; VALUE_SIZE];
    for (i, body) in bodies.iter().enumerate() {
        value[i * INPUT_LEN..(i + 1) * INPUT_LEN].copy_from_slice(&body.input);
        value[OUT + 8 * i..OUT + 8 * i + 8].copy_from_slice(&UNSET.to_le_bytes());
    }
    let def = MapDef::new(MapType::ARRAY, 4, VALUE_SIZE as u32, 1);
    let mut image = diff::raw_image(
        ProgType::SOCKET_FILTER,
        wrapper(bodies),
        vec![diff::raw_map("bpfkit_diff", def, value)],
    );
    image.prog_flags = flags;
    image
}

/// Our engines, each compared with the kernel.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    Interpreter,
    /// The JIT, checked memory.
    Jit,
    /// The JIT, trusted memory: host pointers, no checks.
    JitTrusted,
}

/// An engine of the harness: the image's maps are the VM's, slot for slot (the JIT runs on the
/// VM's maps too).
struct Ours {
    kind: Kind,
    vm: Option<bpfkit_vm::Vm>,
}

impl Ours {
    fn new(kind: Kind) -> Ours {
        Ours { kind, vm: None }
    }
}

impl Engine for Ours {
    fn name(&self) -> String {
        format!("{:?}", self.kind)
    }

    fn run(&mut self, image: &ProgramImage, input: &Input) -> Result<RunOutput, String> {
        self.vm = None;
        let mut vm = bpfkit_vm::Vm::from_image(image).map_err(|e| format!("load: {e}"))?;
        for update in &input.maps {
            let map = vm
                .map_mut(bpfkit_vm::MapId(update.map.0))
                .ok_or("no such map")?;
            map.update(&update.key, &update.value, bpfkit_vm::BPF_ANY)
                .map_err(|e| format!("{e:?}"))?;
        }
        // The raw run model: r1 is the packet's copy, there is no `__sk_buff`, so the packet
        // as a test run gives it back is not modelled (the wrapper does not touch it).
        let mut data = input.data.clone();
        let fault = |e| format!("fault: {e}");
        let r0 = match self.kind {
            Kind::Interpreter => {
                let r0 = vm.run(&mut data).map_err(fault)?;
                self.vm = Some(vm);
                r0
            }
            Kind::Jit | Kind::JitTrusted => {
                let mut jit = if self.kind == Kind::Jit {
                    bpfkit_jit::Jit::new(vm)
                } else {
                    // SAFETY: the trusted engine runs only after the kernel's verifier accepted
                    // this very image ([`run_batch`] adds it to a comparison whose kernel side
                    // is `Ok`): the wrapper reaches its map value and, through `r1`, each
                    // body's inputs inside it at constant offsets within `INPUT_LEN` (the
                    // generator's promise, checked by `shrink::well_defined` for every
                    // generated program): the contract of `Jit::new_trusted`.
                    unsafe { bpfkit_jit::Jit::new_trusted(vm) }
                }
                .map_err(|e| format!("jit: {e}"))?;
                let r0 = jit.run(&mut data).map_err(fault)?;
                self.vm = Some(jit.into_vm());
                r0
            }
        };
        Ok(RunOutput {
            retval: r0 as u32,
            data_out: None,
            ctx_out: None,
        })
    }

    fn lookup(&mut self, map: MapSlot, key: &[u8]) -> Result<Option<Vec<u8>>, String> {
        let vm = self.vm.as_ref().ok_or("nothing ran")?;
        let map = vm.map(bpfkit_vm::MapId(map.0)).ok_or("no such map")?;
        Ok(map.lookup(key).map(<[u8]>::to_vec))
    }
}

/// What a batch gave.
struct BatchRun {
    /// The kernel's and our engines' outcomes.
    comparison: Comparison,
    /// The verifier's report of its own inconsistency, if it met one (see [`run_batch`]).
    verifier_bug: Option<String>,
}

/// Runs a batch in the kernel and on our engines (the trusted JIT only if the kernel accepted
/// the batch).
///
/// Linux 6.18's verifier sometimes finds its own bounds of a register inconsistent on a branch
/// that cannot be taken ("verifier bug: REG INVARIANTS VIOLATION"): it warns in the kernel log
/// (once per boot) and carries on knowing nothing about that register, which is safe. The first
/// load uses `BPF_F_TEST_REG_INVARIANTS`, which turns that into a rejection so we can count and
/// name such programs; they are then loaded again without it.
fn run_batch(bodies: &[&Generated]) -> BatchRun {
    let run = |flags| {
        let image = batch_image(bodies, flags);
        let input = Input::packet(PACKET.to_vec());
        let mut comparison = diff::compare(
            &image,
            &input,
            &mut [&mut Ours::new(Kind::Interpreter), &mut Ours::new(Kind::Jit)],
        );
        if comparison.kernel.is_ok() {
            comparison.add_engine(&image, &input, &mut Ours::new(Kind::JitTrusted));
        }
        comparison
    };
    let comparison = run(ProgFlags::TEST_REG_INVARIANTS);
    if let Err(e) = &comparison.kernel
        && let Some(line) = e.lines().find(|l| l.contains("REG INVARIANTS VIOLATION"))
    {
        return BatchRun {
            verifier_bug: Some(line.to_string()),
            comparison: run(ProgFlags(0)),
        };
    }
    BatchRun {
        comparison,
        verifier_bug: None,
    }
}

/// Each body's 64-bit `r0` from an outcome's map.
fn results(outcome: &diff::Outcome, bodies: usize) -> Vec<u64> {
    let value = &outcome.maps[0].entries[0].1;
    (0..bodies)
        .map(|i| u64::from_le_bytes(value[OUT + 8 * i..OUT + 8 * i + 8].try_into().unwrap()))
        .collect()
}

/// A result, or why there is none (a load error, a fault).
type Outcome = Result<u64, String>;

/// One body run alone: the kernel's `r0` (or why the kernel failed), each engine's (or its
/// fault), and whether all agree in everything.
fn run_alone(body: &Generated) -> (Outcome, Vec<(String, Outcome)>, bool) {
    let batch = run_batch(&[body]);
    let agree = batch.comparison.agree();
    let kernel = batch.comparison.kernel.map(|o| results(&o, 1)[0]);
    let ours = batch
        .comparison
        .engines
        .into_iter()
        .map(|(name, outcome)| (name, outcome.map(|o| results(&o, 1)[0])))
        .collect();
    (kernel, ours, agree)
}

/// The verifier rejected a batch: find the bodies it rejects alone and report them (a generator
/// bug, not something to skip).
fn rejection_report(bodies: &[&Generated], batch_error: &str) -> String {
    let mut report = String::new();
    for body in bodies {
        let image = batch_image(&[body], ProgFlags(0));
        if let Err(e) = diff::verdict(&image, 0) {
            let main_slots = image.slot_count() - body.insns.iter().map(Insn::slots).sum::<usize>();
            report += &format!(
                "the verifier rejects (a generator bug) the program of seed {:#x}:\n{e}\n\n\
                 program (body first; the log counts from slot {main_slots}, after the wrapper):\n{}\n",
                body.seed,
                numbered(&body.insns)
            );
        }
    }
    if report.is_empty() {
        report =
            format!("the verifier rejects a batch whose programs it accepts alone:\n{batch_error}");
    }
    report
}

/// The program, one numbered instruction per line (slot numbers, as the verifier counts).
fn numbered(insns: &[Insn]) -> String {
    let mut out = String::new();
    let mut slot = 0;
    for insn in insns {
        out += &format!("{slot:4}: {}\n", insn.display(Dialect::Llvm));
        slot += insn.slots();
    }
    out
}

/// Counts per opcode, over the given programs.
fn coverage(programs: &[Generated]) -> Vec<usize> {
    let mut counts = vec![0usize; TABLE.len()];
    for p in programs {
        for insn in &p.insns {
            counts[insn.opcode as usize] += 1;
        }
    }
    counts
}

fn print_coverage(counts: &[usize]) {
    println!("opcode coverage (instructions generated per opcode):");
    let mut line = String::new();
    for spec in TABLE {
        let entry = format!("{:>18} {:<7}", spec.name, counts[spec.opcode as usize]);
        if line.len() + entry.len() > 104 {
            println!("  {line}");
            line.clear();
        }
        line += &entry;
    }
    if !line.is_empty() {
        println!("  {line}");
    }
    for (op, why) in NOT_GENERATED {
        println!("  not generated: {:?} ({why})", op);
    }
}

/// How big the programs are and how many call subprograms, and subprograms from subprograms.
fn print_shape(programs: &[Generated]) {
    let n = programs.len().max(1);
    let insns: usize = programs.iter().map(|p| p.insns.len()).sum();
    let body_end = |p: &Generated| p.insns.iter().position(|i| i.opcode == Opcode::Exit);
    let calls = |p: &Generated| p.insns.iter().any(|i| i.opcode == Opcode::CallLocal);
    let nested = |p: &Generated| {
        let end = body_end(p).unwrap_or(0);
        p.insns[end..].iter().any(|i| i.opcode == Opcode::CallLocal)
    };
    println!(
        "programs: {:.0} instructions on average; {:.0}% call subprograms, {:.0}% from a subprogram",
        insns as f64 / n as f64,
        programs.iter().filter(|p| calls(p)).count() as f64 * 100.0 / n as f64,
        programs.iter().filter(|p| nested(p)).count() as f64 * 100.0 / n as f64,
    );
}

#[test]
fn kernel_and_interpreter_agree_on_random_programs() {
    require!(Need::Kernel);
    let count = env_u64("BPFKIT_DIFF_PROGRAMS", DEFAULT_PROGRAMS);
    let first_seed = env_u64("BPFKIT_DIFF_SEED", DEFAULT_SEED);

    let started = Instant::now();
    let programs: Vec<Generated> = (0..count)
        .map(|i| generate(first_seed.wrapping_add(i)))
        .collect();
    let generate_time = started.elapsed();

    // The generator's own promise, checked apart from the kernel: a privileged load would accept
    // reads of unwritten stack and arithmetic on pointers, whose results are not defined.
    for p in &programs {
        assert!(
            shrink::well_defined(&p.insns),
            "seed {:#x}: the program reads unwritten stack or uses the input pointer:\n{}",
            p.seed,
            numbered(&p.insns)
        );
    }
    let counts = coverage(&programs);
    print_coverage(&counts);
    print_shape(&programs);
    if count >= DEFAULT_PROGRAMS {
        let missing: Vec<&str> = TABLE
            .iter()
            .filter(|s| counts[s.opcode as usize] == 0)
            .filter(|s| !NOT_GENERATED.iter().any(|(op, _)| *op == s.opcode))
            .map(|s| s.name)
            .collect();
        assert!(missing.is_empty(), "opcodes never generated: {missing:?}");
    }

    let mut run_time = Duration::ZERO;
    let mut mismatches = Vec::new();
    let mut verifier_bugs = Vec::new();
    let mut batches = 0;
    for chunk in programs.chunks(BATCH) {
        let bodies: Vec<&Generated> = chunk.iter().collect();
        let t = Instant::now();
        let run = run_batch(&bodies);
        run_time += t.elapsed();
        if let Err(e) = &run.comparison.kernel {
            panic!("{}", rejection_report(&bodies, e));
        }
        if let Some(report) = run.verifier_bug {
            verifier_bugs.push((chunk[0].seed, report));
        }
        batches += 1;
        if !run.comparison.agree() {
            // Find the bodies that differ, each run alone.
            for body in chunk {
                let (kernel, ours, agree) = run_alone(body);
                if !agree {
                    mismatches.push((body, kernel, ours));
                }
            }
        }
    }
    println!(
        "{count} programs (seeds {first_seed:#x}..{:#x}) in {batches} kernel loads: \
         generate {generate_time:.2?}, kernel, interpreter, JIT and trusted JIT \
         {run_time:.2?}; {} mismatches",
        first_seed.wrapping_add(count),
        mismatches.len()
    );
    if !verifier_bugs.is_empty() {
        println!(
            "the kernel verifier met its own inconsistency in {} batches (a kernel bug that \
             costs it precision, not correctness); first batches:",
            verifier_bugs.len()
        );
        for (seed, report) in verifier_bugs.iter().take(5) {
            println!("  batch from seed {seed:#x}: {report}");
        }
    }
    for (body, kernel, ours) in mismatches.iter().take(5) {
        println!(
            "\nMISMATCH, seed {:#x} (BPFKIT_DIFF_SEED={:#x} BPFKIT_DIFF_PROGRAMS=1):\n{}",
            body.seed,
            body.seed,
            describe(body, kernel, ours),
        );
        let small = shrink_mismatch(body);
        let (kernel, ours, _) = run_alone(&small);
        println!(
            "shrunk to {} instructions:\n{}",
            small.insns.len(),
            describe(&small, &kernel, &ours)
        );
    }
    assert!(
        mismatches.is_empty(),
        "{} of {count} programs differ between the kernel and our engines (first seeds: {:x?})",
        mismatches.len(),
        mismatches
            .iter()
            .take(10)
            .map(|m| m.0.seed)
            .collect::<Vec<_>>()
    );
}

/// The wrapper carries all 64 bits of a body's `r0` and tells the bodies of a batch apart; the
/// expected values are the constants the bodies load.
#[test]
fn wrapper_returns_each_body_r0_in_full() {
    require!(Need::Kernel);
    let constant = |seed: u64, value: u64| Generated {
        seed,
        insns: vec![
            Insn::new(Opcode::LdImm64)
                .with_dst(Reg::R0)
                .with_imm64(value),
            Insn::new(Opcode::Exit),
        ],
        input: [0; INPUT_LEN],
    };
    // A body that returns its input's third u64, read through r1.
    let mut echo = Generated {
        seed: 3,
        insns: vec![
            Insn::new(Opcode::LdxDW)
                .with_dst(Reg::R0)
                .with_src(Reg::R1)
                .with_off(16),
            Insn::new(Opcode::Exit),
        ],
        input: [0; INPUT_LEN],
    };
    echo.input[16..24].copy_from_slice(&0x0102_0304_0506_0708u64.to_le_bytes());
    // A body that returns r2, the input length.
    let length = Generated {
        seed: 4,
        insns: vec![
            Insn::new(Opcode::Mov64Reg)
                .with_dst(Reg::R0)
                .with_src(Reg::R2),
            Insn::new(Opcode::Exit),
        ],
        input: [0; INPUT_LEN],
    };
    let bodies = [
        constant(1, 0x8877_6655_4433_2211),
        constant(2, u64::MAX),
        echo,
        length,
    ];
    let refs: Vec<&Generated> = bodies.iter().collect();
    let run = run_batch(&refs);
    let kernel = match &run.comparison.kernel {
        Ok(outcome) => outcome,
        Err(e) => panic!("{}", rejection_report(&refs, e)),
    };
    assert_eq!(kernel.run.retval, MARK as u32);
    assert_eq!(
        results(kernel, refs.len()),
        [
            0x8877_6655_4433_2211,
            u64::MAX,
            0x0102_0304_0506_0708,
            INPUT_LEN as u64
        ]
    );
}

/// Hand-written bodies for cases the random programs avoid or rarely reach, run straight (no
/// branch, so the verifier sees every instruction on the one path): the kernel's result is the
/// oracle, as for the random programs.
#[test]
fn edge_cases_agree() {
    require!(Need::Kernel);
    use Opcode::*;
    let i = |op| Insn::new(op);
    let r = |n| Reg::new(n).unwrap();
    let lddw = |d, v: u64| i(LdImm64).with_dst(r(d)).with_imm64(v);
    let mov = |d, v| i(Mov64Imm).with_dst(r(d)).with_imm(v);
    let alu = |op, d, s| i(op).with_dst(r(d)).with_src(r(s));
    let st = |off, v| i(StDW).with_dst(Reg::R10).with_off(off).with_imm(v);
    let atomic = |op, off, s| i(op).with_dst(Reg::R10).with_src(r(s)).with_off(off);
    let ld = |d, off| i(LdxDW).with_dst(r(d)).with_src(Reg::R10).with_off(off);
    let exit = i(Exit);
    let cases: Vec<(&str, Vec<Insn>)> = vec![
        // 32-bit cmpxchg that exchanges: x86 leaves r0 alone, the kernel adds the zero-extension.
        (
            "cmpxchg32_upper_half",
            vec![
                st(-8, 0),
                lddw(0, 0x7f_0000_0000),
                mov(1, 5),
                atomic(AtomicCmpXchg32, -8, 1),
                exit,
            ],
        ),
        (
            "cmpxchg32_fails",
            vec![
                st(-8, 3),
                lddw(0, 0x7f_0000_0001),
                mov(1, 5),
                atomic(AtomicCmpXchg32, -8, 1),
                alu(Mov64Reg, 2, 0),
                ld(0, -8),
                alu(Add64Reg, 0, 2),
                exit,
            ],
        ),
        (
            "cmpxchg64_exchanges",
            vec![
                st(-8, -7),
                mov(0, -7),
                mov(1, 9),
                atomic(AtomicCmpXchg64, -8, 1),
                alu(Mov64Reg, 2, 0),
                ld(0, -8),
                alu(Xor64Reg, 0, 2),
                exit,
            ],
        ),
        (
            "fetch_add32_upper_half",
            vec![
                st(-8, -1),
                lddw(1, 0x1_0000_0001),
                atomic(AtomicFetchAdd32, -8, 1),
                ld(0, -8),
                alu(Xor64Reg, 0, 1),
                exit,
            ],
        ),
        (
            "xchg32_upper_half",
            vec![
                st(-8, -2),
                lddw(1, 0xabcd_0000_0005),
                atomic(AtomicXchg32, -8, 1),
                ld(0, -8),
                alu(Sub64Reg, 0, 1),
                exit,
            ],
        ),
        (
            "fetch_and64",
            vec![
                st(-8, 0x0ff0),
                mov(3, 0x00ff),
                atomic(AtomicFetchAnd64, -8, 3),
                ld(0, -8),
                alu(Xor64Reg, 0, 3),
                exit,
            ],
        ),
        // Division and modulo by a zero register, also one whose low half only is zero.
        (
            "mod32_by_zero_keeps_low_half",
            vec![
                lddw(0, 0xdead_beef_0000_0007),
                mov(1, 0),
                alu(Mod32Reg, 0, 1),
                exit,
            ],
        ),
        (
            "div32_by_zero_low_half",
            vec![
                lddw(0, 0xdead_beef_0000_0007),
                lddw(1, 0x1_0000_0000),
                alu(Div32Reg, 0, 1),
                exit,
            ],
        ),
        (
            "mod64_by_zero",
            vec![
                lddw(0, 0xdead_beef_0000_0007),
                mov(1, 0),
                alu(Mod64Reg, 0, 1),
                exit,
            ],
        ),
        (
            "div64_by_zero",
            vec![
                lddw(0, 0xdead_beef_0000_0007),
                mov(1, 0),
                alu(Div64Reg, 0, 1),
                exit,
            ],
        ),
        (
            "smod32_by_zero",
            vec![
                lddw(0, 0xdead_beef_8000_0007),
                mov(1, 0),
                alu(SMod32Reg, 0, 1),
                exit,
            ],
        ),
        // INT_MIN / -1 and INT_MIN % -1.
        (
            "sdiv64_int_min",
            vec![lddw(0, 1 << 63), mov(1, -1), alu(SDiv64Reg, 0, 1), exit],
        ),
        (
            "smod64_int_min",
            vec![lddw(0, 1 << 63), mov(1, -1), alu(SMod64Reg, 0, 1), exit],
        ),
        (
            "sdiv32_int_min",
            vec![
                lddw(0, 0xffff_ffff_8000_0000),
                mov(1, -1),
                alu(SDiv32Reg, 0, 1),
                exit,
            ],
        ),
        (
            "smod32_int_min",
            vec![
                lddw(0, 0xffff_ffff_8000_0000),
                mov(1, -1),
                alu(SMod32Reg, 0, 1),
                exit,
            ],
        ),
        (
            "sdiv64_imm_minus_one",
            vec![
                lddw(0, 1 << 63),
                i(SDiv64Imm).with_dst(Reg::R0).with_imm(-1),
                exit,
            ],
        ),
        (
            "smod32_imm_minus_one",
            vec![
                lddw(0, 0x8000_0000),
                i(SMod32Imm).with_dst(Reg::R0).with_imm(-1),
                exit,
            ],
        ),
        // Shift amounts past the width, from registers.
        (
            "lsh64_by_65",
            vec![mov(0, 3), mov(1, 65), alu(Lsh64Reg, 0, 1), exit],
        ),
        (
            "lsh32_by_33",
            vec![mov(0, 3), mov(1, 33), alu(Lsh32Reg, 0, 1), exit],
        ),
        (
            "arsh32_by_minus_one",
            vec![
                lddw(0, 0x1234_5678_8000_0000),
                mov(1, -1),
                alu(Arsh32Reg, 0, 1),
                exit,
            ],
        ),
        (
            "arsh64_by_minus_one",
            vec![lddw(0, 1 << 63), mov(1, -1), alu(Arsh64Reg, 0, 1), exit],
        ),
    ];
    let bodies: Vec<Generated> = cases
        .iter()
        .enumerate()
        .map(|(n, (_, insns))| Generated {
            seed: n as u64,
            insns: insns.clone(),
            input: [0; INPUT_LEN],
        })
        .collect();
    let refs: Vec<&Generated> = bodies.iter().collect();
    let run = run_batch(&refs);
    if let Err(e) = &run.comparison.kernel {
        panic!("{}", rejection_report(&refs, e));
    }
    if run.comparison.agree() {
        return;
    }
    let mut failures = Vec::new();
    for ((name, _), body) in cases.iter().zip(&bodies) {
        let (kernel, ours, agree) = run_alone(body);
        if !agree {
            failures.push(format!("{name}:\n{}", describe(body, &kernel, &ours)));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// Same seed, same program: a reported seed reproduces.
#[test]
fn generation_is_deterministic() {
    for seed in [0, 1, DEFAULT_SEED, u64::MAX] {
        let (a, b) = (generate(seed), generate(seed));
        assert_eq!(a.insns, b.insns);
        assert_eq!(a.input, b.input);
    }
    assert_ne!(generate(1).insns, generate(2).insns);
}

/// Every result, the input and the program.
fn describe(body: &Generated, kernel: &Outcome, ours: &[(String, Outcome)]) -> String {
    let show = |r: &Outcome| match r {
        Ok(v) => format!("{v:#018x}"),
        Err(e) => e.clone(),
    };
    let mut out = format!("  kernel:      {}\n", show(kernel));
    for (name, result) in ours {
        out += &format!("  {name:<12} {}\n", show(result));
    }
    out + &format!(
        "  input: {}\n  to reproduce: echo {} | bpfkit plugin {}\nprogram (LLVM dialect):\n{}",
        hex(&body.input),
        hex(&bpfkit_isa::encode(&body.insns)),
        hex(&body.input),
        numbered(&body.insns),
    )
}

/// The smallest program found, by deleting instructions, that the kernel accepts and that still
/// gives a different outcome on one of our engines.
fn shrink_mismatch(body: &Generated) -> Generated {
    let with = |insns: &[Insn]| Generated {
        insns: insns.to_vec(),
        ..body.clone()
    };
    let insns = shrink::shrink(&body.insns, |insns| {
        if !shrink::well_defined(insns) {
            return false;
        }
        let (kernel, _, agree) = run_alone(&with(insns));
        kernel.is_ok() && !agree
    });
    with(&insns)
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// The harness on a compiled object: the kernel's outcome carries the packet and every map
/// (global data included) after the run, and an engine that gets anything wrong is caught.
#[test]
fn harness_compares_packets_and_global_data() {
    require!(Need::Kernel);
    let spec = bpfkit_loader::ObjectSpec::open_file(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../testdata/obj/global_data.v3.g.o"
    ))
    .unwrap();
    let image = spec.image("xdp_globals").unwrap();
    let mut packet = vec![0u8; 60];
    packet[12..14].copy_from_slice(&[0x08, 0x00]);
    let input = Input::packet(packet.clone());

    /// Replays the kernel's outcome, with one thing changed.
    struct Replay {
        outcome: diff::Outcome,
        wrong: &'static str,
    }
    impl Engine for Replay {
        fn name(&self) -> String {
            format!("replay-with-wrong-{}", self.wrong)
        }
        fn run(&mut self, _: &ProgramImage, _: &Input) -> Result<RunOutput, String> {
            let mut run = self.outcome.run.clone();
            match self.wrong {
                "retval" => run.retval ^= 1,
                "data_out" => run.data_out.as_mut().unwrap()[0] ^= 1,
                _ => {}
            }
            Ok(run)
        }
        fn lookup(&mut self, map: MapSlot, key: &[u8]) -> Result<Option<Vec<u8>>, String> {
            let dump = self.outcome.maps.iter().find(|m| m.map == map).unwrap();
            let mut value = dump
                .entries
                .iter()
                .find(|(k, _)| k == key)
                .map(|(_, v)| v.clone());
            if self.wrong == dump.name
                && let Some(v) = &mut value
            {
                v[0] ^= 1;
            }
            Ok(value)
        }
    }

    let comparison = diff::compare(&image, &input, &mut []);
    let kernel = comparison.kernel.as_ref().unwrap();
    assert_eq!(kernel.run.retval, 2, "XDP_PASS");
    assert_eq!(kernel.run.data_out.as_deref(), Some(&packet[..]));
    let bss = kernel.maps.iter().find(|m| m.name == ".bss").unwrap();
    // `last_len` (offset 8 in .bss after the u64 `bytes_total`) is the packet's length.
    assert_eq!(&bss.entries[0].1[8..12], &60u32.to_ne_bytes());
    let data = kernel.maps.iter().find(|m| m.name == ".data").unwrap();
    assert_eq!(
        &data.entries[0].1[..4],
        &2i32.to_ne_bytes(),
        "packets: 1 + 1"
    );

    for wrong in ["nothing", "retval", "data_out", ".bss", ".data.counters"] {
        let mut replay = Replay {
            outcome: kernel.clone(),
            wrong,
        };
        let again = diff::compare(&image, &input, &mut [&mut replay]);
        let differences = again.differences();
        if wrong == "nothing" {
            assert!(differences.is_empty(), "{again}");
        } else {
            assert_eq!(differences.len(), 1, "{wrong}: {again}");
            assert!(differences[0].what.contains(wrong), "{wrong}: {again}");
        }
    }
}
