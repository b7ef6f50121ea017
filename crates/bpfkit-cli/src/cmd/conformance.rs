//! `bpfkit conformance [--engine interp|jit] [--cpu v4] DIR`: runs every bpf_conformance `.data`
//! file in DIR.
//!
//! A file passes when the program returns its `-- result`, or, for a file with an `-- error`
//! section, when it is rejected (by the assembler, the decoder, the loader, or a fault at run
//! time); the error text is the suite's reference runtime's and is not compared. Files whose
//! instructions need a newer cpu than `--cpu` are skipped. One line per failure, then
//! `N passed, N failed, N skipped`; exit 1 on any failure.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use bpfkit_asm::conformance::{ProgramError, TestFile};
use bpfkit_isa::{Cpu, decode, required_cpu};
use bpfkit_vm::Vm;
use clap::Args;

use crate::CliError;
use crate::engine::{Engine, Runner, add_conformance_helpers};

/// Arguments of `bpfkit conformance`.
#[derive(Args)]
pub struct ConformanceArgs {
    /// Execution engine.
    #[arg(long, value_enum, default_value_t = Engine::Interp)]
    engine: Engine,
    /// The newest instruction set to run; files needing a newer one are skipped.
    #[arg(long, default_value = "v4", value_parser = parse_cpu)]
    cpu: Cpu,
    /// Also print a line for every file that passes or is skipped.
    #[arg(short, long)]
    verbose: bool,
    /// The directory of `.data` files.
    dir: PathBuf,
}

fn parse_cpu(s: &str) -> Result<Cpu, String> {
    s.parse().map_err(|e| format!("{e}"))
}

/// What happened to one file.
#[derive(Debug, PartialEq, Eq)]
pub enum Outcome {
    /// The expected result, or an expected rejection (with its message).
    Pass(Option<String>),
    /// Anything else, with what went wrong.
    Fail(String),
    /// Not run, with why.
    Skip(String),
}

/// Runs one `.data` file on `engine`.
pub fn evaluate(path: &Path, cpu: Cpu, engine: Engine) -> Outcome {
    let name = path.display();
    let text = match std::fs::read_to_string(path) {
        Ok(text) => text,
        Err(e) => return Outcome::Fail(format!("cannot read: {e}")),
    };
    let file = match TestFile::parse(&text) {
        Ok(file) => file,
        Err(e) => return Outcome::Fail(format!("malformed test file: {name}:{e}")),
    };
    let expects_error = file.error.is_some();
    let rejected = |message: String| {
        if expects_error {
            Outcome::Pass(Some(message))
        } else {
            Outcome::Fail(message)
        }
    };
    let bytes = match file.program() {
        Ok(bytes) => bytes,
        Err(ProgramError::Missing) => {
            return Outcome::Fail("the file has no program (no -- asm or -- raw)".into());
        }
        Err(ProgramError::Asm(e)) => return rejected(format!("does not assemble: {name}:{e}")),
    };
    let insns = match decode(&bytes) {
        Ok(insns) => insns,
        Err(e) => return rejected(format!("does not decode: {e}")),
    };
    let needed = required_cpu(&insns);
    if needed > cpu {
        return Outcome::Skip(format!("needs cpu {needed}"));
    }
    let mut vm = match Vm::new(&insns) {
        Ok(vm) => vm,
        Err(e) => return rejected(format!("does not load: {e}")),
    };
    add_conformance_helpers(&mut vm);
    let mut mem = file.mem.clone();
    let mut runner = match Runner::new(engine, vm, None, mem.len()) {
        Ok(runner) => runner,
        Err(e) => return Outcome::Fail(format!("the {} engine: {}", engine.name(), e.message)),
    };
    match (runner.run(&mut mem), &file.error, file.result) {
        (Err(fault), _, _) => rejected(format!("faulted: {fault}")),
        (Ok(r0), Some(error), _) => Outcome::Fail(format!(
            "expected an error (`{error}`), but the program returned {r0:#x}"
        )),
        (Ok(r0), None, Some(expected)) if r0 == expected => Outcome::Pass(None),
        (Ok(r0), None, Some(expected)) => {
            Outcome::Fail(format!("returned {r0:#x}, expected {expected:#x}"))
        }
        (Ok(r0), None, None) => {
            Outcome::Fail(format!("returned {r0:#x}, but the file has no -- result"))
        }
    }
}

impl ConformanceArgs {
    /// Runs `bpfkit conformance`.
    pub fn run(self) -> Result<ExitCode, CliError> {
        let engine = self.engine.untrusted_only("conformance")?;
        let entries = std::fs::read_dir(&self.dir)
            .map_err(|e| CliError::input(format!("{}: {e}", self.dir.display())))?;
        let mut files: Vec<PathBuf> = entries
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.extension().is_some_and(|e| e == "data"))
            .collect();
        files.sort();
        let (mut passed, mut failed, mut skipped) = (0, 0, 0);
        for path in &files {
            let name = path.file_name().map_or_else(
                || path.display().to_string(),
                |n| n.to_string_lossy().into(),
            );
            match evaluate(path, self.cpu, engine) {
                Outcome::Pass(reason) => {
                    passed += 1;
                    if self.verbose {
                        match reason {
                            Some(r) => println!("PASS {name}: rejected as expected: {r}"),
                            None => println!("PASS {name}"),
                        }
                    }
                }
                Outcome::Fail(why) => {
                    failed += 1;
                    println!("FAIL {name}: {why}");
                }
                Outcome::Skip(why) => {
                    skipped += 1;
                    if self.verbose {
                        println!("SKIP {name}: {why}");
                    }
                }
            }
        }
        println!("{passed} passed, {failed} failed, {skipped} skipped");
        Ok(if failed == 0 {
            ExitCode::SUCCESS
        } else {
            ExitCode::from(1)
        })
    }
}
