//! Runs one corpus program on one JIT engine many times: a driver for profilers (callgrind
//! counts the instructions of the generated code too), like `interp-run`.
//!
//! Usage: `jit-run PROGRAM ENGINE [RUNS]`, ENGINE one of `bpfkit-jit`, `bpfkit-jit-trusted`,
//! `rbpf-jit`, `solana-sbpf-jit`. Prints `r0`, the runs and the time per run. With
//! `jit-run PROGRAM compile [TIMES]`, compiles the program with bpfkit's JIT that many times
//! instead (code generation only, the VM loaded once: for profiling the compiler);
//! `jit-run large-N compile [TIMES]` does the same for a generated straight-line program of
//! about N instructions. Compiles print the mean time and the fastest of ten rounds'.
//! `jit-run large-N new [TIMES]` times `Jit::new` on freshly loaded VMs instead, eight loaded
//! before each eight compiles, as the criterion bench does (colder caches than the above).
//! `JIT_RUN_BACKEND=aarch64` compiles with the aarch64 backend instead
//! (natively, on x86_64). `jit-run trivial ENGINE [RUNS]` runs `r0 = 0; exit` on a 64-byte
//! input instead (ENGINE `bpfkit-jit`, `bpfkit-jit-trusted` or `bpfkit-interp`): the per-run
//! cost.

use std::hint::black_box;
use std::process::ExitCode;
use std::time::{Duration, Instant};

use bpfkit_benches::Program;
use bpfkit_benches::engines::{self, RbpfJit, Sbpf};
use bpfkit_benches::jit::{JitEngine, large_program, trivial_program, trusted_jit};
use bpfkit_jit::Jit;

fn run(program: &Program, engine: JitEngine, runs: u64) -> Result<u64, String> {
    let mut mem = (program.input)();
    let mut r0 = 0;
    match engine {
        JitEngine::BpfkitJit | JitEngine::BpfkitJitTrusted => {
            let mut jit = if engine == JitEngine::BpfkitJit {
                Jit::new(engines::bpfkit_vm(program)?).map_err(|e| e.to_string())?
            } else {
                trusted_jit(program)?
            };
            // The code being profiled, to match a profiler's addresses with.
            if std::env::var_os("JIT_RUN_DUMP").is_some() {
                eprintln!("{}", jit.dump());
            }
            for _ in 0..runs {
                r0 = jit.run(black_box(&mut mem)).map_err(|e| e.to_string())?;
            }
        }
        JitEngine::RbpfJit => {
            let code = engines::rbpf_code(program, mem.len())?;
            let vm = RbpfJit::new(&code)?;
            for _ in 0..runs {
                // SAFETY: the corpus stays in its input and stack (checked on the interpreters
                // by the corpus tests).
                r0 = unsafe { vm.run(black_box(&mut mem)) }?;
            }
        }
        JitEngine::SolanaSbpfJit => {
            let sbpf = Sbpf::new(program, false)?;
            sbpf.jit_compile()?;
            let mut context = sbpf.context(mem);
            let mut vm = sbpf.vm(&mut context);
            for _ in 0..runs {
                r0 = vm.run_jit()?;
            }
        }
        _ => return Err(format!("{} is not a JIT", engine.name())),
    }
    Ok(r0)
}

/// One run of an engine on an input.
type RunFn = Box<dyn FnMut(&mut [u8]) -> Result<u64, bpfkit_vm::Fault>>;

/// `jit-run trivial ENGINE RUNS`: runs of [`trivial_program`] on bpfkit's engines.
fn run_trivial(engine: JitEngine, runs: u64) -> ExitCode {
    let insns = trivial_program();
    let vm = || bpfkit_vm::Vm::new(&insns).expect("the trivial program loads");
    let mut mem = vec![0u8; 64];
    let mut run: RunFn = match engine {
        JitEngine::BpfkitJit => {
            let mut jit = Jit::new(vm()).expect("it compiles");
            Box::new(move |m| jit.run(m))
        }
        JitEngine::BpfkitJitTrusted => {
            // SAFETY: the program touches no memory.
            let mut jit = unsafe { Jit::new_trusted(vm()) }.expect("it compiles");
            Box::new(move |m| jit.run(m))
        }
        JitEngine::Interpreter => {
            let mut vm = vm();
            Box::new(move |m| vm.run(m))
        }
        _ => {
            eprintln!("usage: jit-run trivial bpfkit-jit|bpfkit-jit-trusted|bpfkit-interp [RUNS]");
            return ExitCode::from(2);
        }
    };
    let start = Instant::now();
    for _ in 0..runs {
        black_box(run(black_box(&mut mem)).expect("it runs"));
    }
    let ns = start.elapsed().as_nanos() as f64 / runs as f64;
    println!("trivial on {}: {runs} runs, {ns:.0} ns/run", engine.name());
    ExitCode::SUCCESS
}

fn compile(program: &Program, times: u64) -> ExitCode {
    let vm = engines::bpfkit_vm(program).expect("the corpus loads");
    let options = Jit::new(engines::bpfkit_vm(program).expect("the corpus loads"))
        .expect("the corpus compiles")
        .code()
        .options();
    time_compiles(program.name, &vm, options, times)
}

/// Rounds a compile timing is split into: the fastest round is the figure least disturbed by
/// whatever else the machine runs (this VM's host moved whole runs by up to 1.7x).
const ROUNDS: u64 = 10;

/// Compiles `vm`'s programs `times` times, in [`ROUNDS`] rounds, and prints the mean time of
/// a compile and the fastest round's, each also per slot.
fn time_compiles(
    name: &str,
    vm: &bpfkit_vm::Vm,
    options: bpfkit_jit::lower::Options,
    times: u64,
) -> ExitCode {
    let per_round = times.div_ceil(ROUNDS).max(1);
    let (mut total, mut fastest) = (0.0, f64::INFINITY);
    for _ in 0..ROUNDS {
        let start = Instant::now();
        for _ in 0..per_round {
            black_box(compile_code(vm, options).expect("it compiles"));
        }
        let ns = start.elapsed().as_nanos() as f64;
        total += ns;
        fastest = fastest.min(ns / per_round as f64);
    }
    let compiles = per_round * ROUNDS;
    let mean = total / compiles as f64;
    let slots = vm.program(bpfkit_vm::ProgId(0)).map_or(0, |p| p.len()) as f64;
    println!(
        "{name} ({slots} slots): {compiles} compiles, {mean:.0} ns each ({:.1} ns/insn); \
         fastest of {ROUNDS} rounds {fastest:.0} ns ({:.1} ns/insn)",
        mean / slots,
        fastest / slots
    );
    ExitCode::SUCCESS
}

#[cfg(target_arch = "x86_64")]
fn compile_code(
    vm: &bpfkit_vm::Vm,
    options: bpfkit_jit::lower::Options,
) -> Result<bpfkit_jit::Code, bpfkit_jit::JitError> {
    // `JIT_RUN_BACKEND=aarch64` profiles the aarch64 backend's compiler natively.
    if std::env::var_os("JIT_RUN_BACKEND").is_some_and(|b| b == "aarch64") {
        return bpfkit_jit::compile::compile::<bpfkit_jit::aarch64::Aarch64>(
            vm,
            options,
            vm.program_count(),
        );
    }
    bpfkit_jit::compile::compile::<bpfkit_jit::x86::X86>(vm, options, vm.program_count())
}

#[cfg(not(target_arch = "x86_64"))]
fn compile_code(
    vm: &bpfkit_vm::Vm,
    options: bpfkit_jit::lower::Options,
) -> Result<bpfkit_jit::Code, bpfkit_jit::JitError> {
    bpfkit_jit::compile::compile::<bpfkit_jit::aarch64::Aarch64>(vm, options, vm.program_count())
}

/// `jit-run large-N compile TIMES`: compile times of [`large_program`]`(N)`.
fn compile_large(insns: usize, times: u64) -> ExitCode {
    let load = || bpfkit_vm::Vm::new(&large_program(insns)).expect("the large program loads");
    let vm = load();
    let jit = Jit::new(load()).expect("it compiles");
    let options = jit.code().options();
    if std::env::var_os("JIT_RUN_DUMP").is_some() {
        eprintln!("{} bytes\n{}", jit.code().bytes().len(), jit.dump());
    }
    time_compiles(&format!("large-{insns}"), &vm, options, times)
}

/// `jit-run large-N new TIMES`: [`Jit::new`] on fresh VMs of [`large_program`]`(N)`, eight
/// loaded before each eight compiles, as the criterion bench times it.
fn new_large(insns: usize, times: u64) -> ExitCode {
    let program = large_program(insns);
    let per_round = times.div_ceil(ROUNDS).max(8);
    let (mut total, mut fastest) = (Duration::ZERO, f64::INFINITY);
    for _ in 0..ROUNDS {
        let mut round = Duration::ZERO;
        for _ in 0..per_round / 8 {
            let vms: Vec<_> = (0..8)
                .map(|_| bpfkit_vm::Vm::new(&program).expect("the large program loads"))
                .collect();
            let start = Instant::now();
            let jits: Vec<_> = vms
                .into_iter()
                .map(|vm| Jit::new(vm).expect("it compiles"))
                .collect();
            round += start.elapsed();
            drop(black_box(jits));
        }
        total += round;
        let compiles = (per_round / 8 * 8) as f64;
        fastest = fastest.min(round.as_nanos() as f64 / compiles);
    }
    let compiles = (per_round / 8 * 8 * ROUNDS) as f64;
    let mean = total.as_nanos() as f64 / compiles;
    let slots = insns as f64 + 1.0;
    println!(
        "large-{insns} Jit::new: {compiles} compiles, {mean:.0} ns each ({:.1} ns/insn); \
         fastest of {ROUNDS} rounds {fastest:.0} ns ({:.1} ns/insn)",
        mean / slots,
        fastest / slots
    );
    ExitCode::SUCCESS
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let large: Option<usize> = args
        .first()
        .and_then(|n| n.strip_prefix("large-"))
        .and_then(|n| n.parse().ok());
    let times = args.get(2).and_then(|n| n.parse().ok()).unwrap_or(1000);
    match (large, args.get(1).map(String::as_str)) {
        (Some(insns), Some("compile")) => return compile_large(insns, times),
        (Some(insns), Some("new")) => return new_large(insns, times),
        _ => {}
    }
    if let (Some(program), Some("compile")) = (
        args.first().and_then(|n| Program::by_name(n)),
        args.get(1).map(String::as_str),
    ) {
        return compile(
            program,
            args.get(2).and_then(|n| n.parse().ok()).unwrap_or(1000),
        );
    }
    if let (Some("trivial"), Some(engine)) = (
        args.first().map(String::as_str),
        args.get(1)
            .and_then(|name| JitEngine::ALL.into_iter().find(|e| e.name() == name)),
    ) {
        return run_trivial(
            engine,
            args.get(2).and_then(|n| n.parse().ok()).unwrap_or(1000),
        );
    }
    let (Some(program), Some(engine)) = (
        args.first().and_then(|name| Program::by_name(name)),
        args.get(1)
            .and_then(|name| JitEngine::ALL.into_iter().find(|e| e.name() == name)),
    ) else {
        eprintln!("usage: jit-run PROGRAM ENGINE [RUNS]");
        return ExitCode::from(2);
    };
    let runs = args
        .get(2)
        .and_then(|n| n.parse().ok())
        .unwrap_or(1000u64)
        .max(1);
    let start = Instant::now();
    match run(program, engine, runs) {
        Ok(r0) => {
            let ns = start.elapsed().as_nanos() as f64 / runs as f64;
            println!(
                "{} on {}: r0 = {r0:#x}, {runs} runs, {ns:.0} ns/run",
                program.name,
                engine.name()
            );
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("error: {} on {}: {e}", program.name, engine.name());
            ExitCode::from(1)
        }
    }
}
