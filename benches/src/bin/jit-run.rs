//! Runs one corpus program on one JIT engine many times: a driver for profilers (callgrind
//! counts the instructions of the generated code too), like `interp-run`.
//!
//! Usage: `jit-run PROGRAM ENGINE [RUNS]`, ENGINE one of `bpfkit-jit`, `bpfkit-jit-trusted`,
//! `rbpf-jit`, `solana-sbpf-jit`. Prints `r0`, the runs and the time per run. With
//! `jit-run PROGRAM compile [TIMES]`, compiles the program with bpfkit's JIT that many times
//! instead (for profiling the compiler).

use std::hint::black_box;
use std::process::ExitCode;
use std::time::Instant;

use bpfkit_benches::Program;
use bpfkit_benches::engines::{self, RbpfJit, Sbpf};
use bpfkit_benches::jit::{JitEngine, trusted_jit};
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

fn compile(program: &Program, times: u64) -> ExitCode {
    let start = Instant::now();
    for _ in 0..times {
        let vm = engines::bpfkit_vm(program).expect("the corpus loads");
        black_box(Jit::new(vm).expect("the corpus compiles"));
    }
    let ns = start.elapsed().as_nanos() as f64 / times as f64;
    println!(
        "{}: {times} compiles (with the VM's load), {ns:.0} ns each",
        program.name
    );
    ExitCode::SUCCESS
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if let (Some(program), Some("compile")) = (
        args.first().and_then(|n| Program::by_name(n)),
        args.get(1).map(String::as_str),
    ) {
        return compile(
            program,
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
