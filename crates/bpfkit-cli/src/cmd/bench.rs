//! `bpfkit bench PROG [--engines interp,jit,jit-trusted,kernel] [--mem-hex HEX|--mem FILE]`:
//! runs a program many times on each engine and prints the time per run, the compile time and
//! the ratios side by side.
//!
//! Each engine gets its own copy of the input and keeps it from run to run (a program that
//! changes its input sees its own changes, on every engine alike). Our engines are timed in
//! batches, the median batch reported; the kernel's JIT runs through `BPF_PROG_TEST_RUN` with
//! `repeat` (its own timing, of the program inside a small wrapper; see `bpfkit_sys::RawProgram`), when
//! bpf(2) is permitted.

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::{Duration, Instant};

use bpfkit_isa::{Dialect, decode};
use bpfkit_vm::Vm;
use clap::{Args, ValueEnum};

use super::run::read_program;
use crate::CliError;
use crate::engine::{Engine, Runner, add_conformance_helpers, parse_hex};
use crate::error::read_file;

/// What `bench` can time.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
enum BenchEngine {
    /// The interpreter.
    Interp,
    /// The JIT, checked memory.
    Jit,
    /// The JIT, trusted memory (the kernel's verifier must accept the program).
    JitTrusted,
    /// The running kernel's JIT, through test runs.
    Kernel,
}

impl BenchEngine {
    fn name(self) -> &'static str {
        match self {
            BenchEngine::Interp => "interp",
            BenchEngine::Jit => "jit",
            BenchEngine::JitTrusted => "jit-trusted",
            BenchEngine::Kernel => "kernel",
        }
    }
}

/// Arguments of `bpfkit bench`.
#[derive(Args)]
pub struct BenchArgs {
    /// The engines to compare, in the order to print them.
    #[arg(long, value_enum, value_delimiter = ',', default_value = "interp,jit")]
    engines: Vec<BenchEngine>,
    /// Input memory as hex bytes (r1 points at it, r2 holds its length).
    #[arg(long, conflicts_with = "mem")]
    mem_hex: Option<String>,
    /// Input memory from a file.
    #[arg(long)]
    mem: Option<PathBuf>,
    /// Dialect of a `.s` program (default: uBPF if it uses `%r` registers, else LLVM).
    #[arg(long, value_parser = super::asm::parse_dialect)]
    dialect: Option<Dialect>,
    /// How long to time each engine, in milliseconds.
    #[arg(long, default_value_t = 1000)]
    time_ms: u64,
    /// The program: `.s` or raw `.bin`.
    prog: String,
}

/// One engine's figures.
struct Timing {
    engine: BenchEngine,
    r0: u64,
    ns_per_run: f64,
    compile: Duration,
}

/// Runs `run` in batches for about `budget`: the median time per run over the batches.
fn time_runs(
    budget: Duration,
    mut run: impl FnMut() -> Result<u64, CliError>,
) -> Result<f64, CliError> {
    for _ in 0..3 {
        run()?;
    }
    // A batch long enough to time well (about 1/20 of the budget).
    let mut batch = 1u64;
    loop {
        let start = Instant::now();
        for _ in 0..batch {
            run()?;
        }
        if start.elapsed() * 20 >= budget || batch >= 1 << 30 {
            break;
        }
        batch *= 2;
    }
    let mut samples = Vec::new();
    let start = Instant::now();
    while samples.len() < 5 || (start.elapsed() < budget && samples.len() < 100) {
        let t = Instant::now();
        for _ in 0..batch {
            run()?;
        }
        samples.push(t.elapsed().as_nanos() as f64 / batch as f64);
    }
    samples.sort_by(f64::total_cmp);
    Ok(samples[samples.len() / 2])
}

impl BenchArgs {
    fn ours(&self, engine: Engine, bytes: &[u8], input: &[u8]) -> Result<Timing, CliError> {
        let budget = Duration::from_millis(self.time_ms);
        let load = Instant::now();
        let mut vm =
            Vm::from_bytes(bytes).map_err(|e| CliError::input(format!("{}: {e}", self.prog)))?;
        add_conformance_helpers(&mut vm);
        let loaded = load.elapsed();
        let insns = decode(bytes).ok();
        let mut runner = Runner::new(engine, vm, insns.as_deref(), input.len())?;
        let compile = match &runner {
            Runner::Interp(_) => loaded,
            Runner::Jit(jit) => jit.code().compile_time(),
        };
        let mut mem = input.to_vec();
        let judged = |e| CliError::judged(format!("{} on {}: {e}", self.prog, engine.name()));
        let r0 = runner.run(&mut mem).map_err(judged)?;
        let ns_per_run = time_runs(budget, || runner.run(&mut mem).map_err(judged))?;
        Ok(Timing {
            engine: match engine {
                Engine::Interp => BenchEngine::Interp,
                Engine::Jit => BenchEngine::Jit,
                Engine::JitTrusted => BenchEngine::JitTrusted,
            },
            r0,
            ns_per_run,
            compile,
        })
    }

    fn kernel(&self, bytes: &[u8], input: &[u8]) -> Result<Timing, CliError> {
        let insns = decode(bytes).map_err(|e| CliError::input(format!("{}: {e}", self.prog)))?;
        let load = Instant::now();
        let prog = crate::kernel::load(&insns, input.len())?;
        let compile = load.elapsed();
        let judged = |e| CliError::judged(format!("{} in the kernel: {e}", self.prog));
        let (r0, _) = prog.run(input, 1).map_err(judged)?;
        let (_, first) = prog.run(input, 1000).map_err(judged)?;
        // As many runs as fit the budget, by the first estimate; the median of five.
        let per_call = (self.time_ms * 1_000_000 / 5) / u64::from(first.max(1));
        let repeat = per_call.clamp(1000, u32::MAX as u64) as u32;
        let mut samples = Vec::new();
        for _ in 0..5 {
            samples.push(prog.run(input, repeat).map_err(judged)?.1);
        }
        samples.sort_unstable();
        Ok(Timing {
            engine: BenchEngine::Kernel,
            r0,
            ns_per_run: samples[2] as f64,
            compile,
        })
    }

    /// Runs `bpfkit bench`.
    pub fn run(self) -> Result<ExitCode, CliError> {
        let bytes = read_program(&self.prog, self.dialect)?;
        let input = match (&self.mem_hex, &self.mem) {
            (Some(hex), _) => {
                parse_hex(hex).map_err(|e| CliError::input(format!("--mem-hex: {e}")))?
            }
            (None, Some(path)) => read_file(path)?,
            (None, None) => Vec::new(),
        };
        let insns = decode(&bytes).map_err(|e| CliError::input(format!("{}: {e}", self.prog)))?;
        let mut timings = Vec::new();
        for &engine in &self.engines {
            timings.push(match engine {
                BenchEngine::Interp => self.ours(Engine::Interp, &bytes, &input)?,
                BenchEngine::Jit => self.ours(Engine::Jit, &bytes, &input)?,
                BenchEngine::JitTrusted => self.ours(Engine::JitTrusted, &bytes, &input)?,
                BenchEngine::Kernel => self.kernel(&bytes, &input)?,
            });
        }
        println!(
            "{}: {} instructions, input of {} bytes",
            self.prog,
            insns.len(),
            input.len()
        );
        let first = &timings[0];
        let kernel = timings.iter().find(|t| t.engine == BenchEngine::Kernel);
        print!(
            "{:<12} {:>18} {:>12} {:>12} {:>12} {:>10}",
            "engine",
            "r0",
            "ns/run",
            "compile",
            "ns/insn",
            first.engine.name()
        );
        if kernel.is_some() {
            print!(" {:>10}", "kernel");
        }
        println!();
        for t in &timings {
            print!(
                "{:<12} {:>18} {:>12.1} {:>12} {:>12.1} {:>9.2}x",
                t.engine.name(),
                format!("{:#x}", t.r0),
                t.ns_per_run,
                format!("{:.1?}", t.compile),
                t.compile.as_nanos() as f64 / insns.len().max(1) as f64,
                first.ns_per_run / t.ns_per_run,
            );
            if let Some(k) = kernel {
                print!(" {:>9.2}x", k.ns_per_run / t.ns_per_run);
            }
            println!();
        }
        println!(
            "(ratios: how many times faster than that engine; compile: load and lowering for \
             interp, code generation for the JITs, load with verification for the kernel)"
        );
        if timings.iter().any(|t| t.r0 != first.r0) {
            return Err(CliError::judged("the engines returned different r0"));
        }
        Ok(ExitCode::SUCCESS)
    }
}
