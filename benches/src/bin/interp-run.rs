//! Runs one corpus program on one engine many times: a driver for profilers, whose time is
//! (almost) all in the engine's run loop.
//!
//! Usage: `interp-run PROGRAM ENGINE [RUNS]`, e.g. under callgrind:
//! `valgrind --tool=callgrind target/release/interp-run sieve bpfkit 20`.
//! Prints `r0`, the runs and the time per run.

use std::hint::black_box;
use std::process::ExitCode;
use std::time::Instant;

use bpfkit_benches::engines::{self, Rbpf, Sbpf};
use bpfkit_benches::{Engine, PROGRAMS, Program};

fn usage() -> ExitCode {
    let programs: Vec<&str> = PROGRAMS.iter().map(|p| p.name).collect();
    let engines: Vec<&str> = Engine::ALL.iter().map(|e| e.name()).collect();
    eprintln!(
        "usage: interp-run PROGRAM ENGINE [RUNS]\n  PROGRAM: {}\n  ENGINE: {}",
        programs.join(", "),
        engines.join(", ")
    );
    ExitCode::from(2)
}

fn run(program: &Program, engine: Engine, runs: u64) -> Result<u64, String> {
    let mut mem = (program.input)();
    let mut r0 = 0;
    match engine {
        Engine::Bpfkit => {
            let mut vm = engines::bpfkit_vm(program)?;
            for _ in 0..runs {
                r0 = vm.run(black_box(&mut mem)).map_err(|e| e.to_string())?;
            }
        }
        Engine::Rbpf => {
            let code = engines::rbpf_code(program, mem.len())?;
            let vm = Rbpf::new(&code)?;
            for _ in 0..runs {
                r0 = vm.run(black_box(&mut mem))?;
            }
        }
        Engine::SolanaSbpf => {
            let sbpf = Sbpf::new(program, false)?;
            let mut context = sbpf.context(mem);
            let mut vm = sbpf.vm(&mut context);
            for _ in 0..runs {
                r0 = vm.run()?;
            }
        }
        Engine::Native => {
            for _ in 0..runs {
                r0 = (program.native)(black_box(&mut mem));
            }
        }
    }
    Ok(r0)
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (Some(program), Some(engine)) = (
        args.first().and_then(|name| Program::by_name(name)),
        args.get(1)
            .and_then(|name| Engine::ALL.into_iter().find(|e| e.name() == name)),
    ) else {
        return usage();
    };
    let runs = match args.get(2).map(|n| n.parse::<u64>()) {
        None => 1000,
        Some(Ok(n)) if n > 0 => n,
        Some(_) => return usage(),
    };
    let start = Instant::now();
    match run(program, engine, runs) {
        Ok(r0) => {
            let ns = start.elapsed().as_nanos() as f64 / runs as f64;
            println!(
                "{} on {engine}: r0 = {r0:#x}, {runs} runs, {ns:.0} ns/run",
                program.name
            );
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("error: {} on {engine}: {e}", program.name);
            ExitCode::from(1)
        }
    }
}
