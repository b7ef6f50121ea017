//! `bpfkit run [--engine interp|jit] [--mem-hex HEX|--mem FILE] PROG`: runs a program once and
//! prints `r0` as `0x<hex>`.
//!
//! PROG is assembly (`.s`, dialect chosen by `--dialect` or guessed: uBPF if it names `%r`
//! registers), raw 8-byte slots (`.bin` or anything else), or `OBJ.o:SECTION`.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use bpfkit_isa::Dialect;
use bpfkit_vm::Vm;
use clap::Args;
use object::{Object, ObjectSection};

use crate::CliError;
use crate::engine::{Engine, add_conformance_helpers, parse_hex};
use crate::error::{read_file, read_text};

/// Arguments of `bpfkit run`.
#[derive(Args)]
pub struct RunArgs {
    /// Execution engine.
    #[arg(long, value_enum, default_value_t = Engine::Interp)]
    engine: Engine,
    /// Input memory as hex bytes (r1 points at it, r2 holds its length).
    #[arg(long, conflicts_with = "mem")]
    mem_hex: Option<String>,
    /// Input memory from a file.
    #[arg(long)]
    mem: Option<PathBuf>,
    /// Dialect of a `.s` program (default: uBPF if it uses `%r` registers, else LLVM).
    #[arg(long, value_parser = super::asm::parse_dialect)]
    dialect: Option<Dialect>,
    /// Stop after this many instructions.
    #[arg(long)]
    budget: Option<u64>,
    /// The program: `.s`, raw `.bin`, or `OBJ.o:SECTION`.
    prog: String,
}

/// Reads a program argument into 8-byte slots.
pub fn read_program(arg: &str, dialect: Option<Dialect>) -> Result<Vec<u8>, CliError> {
    if let Some((obj, section)) = arg.rsplit_once(':').filter(|(o, _)| o.ends_with(".o")) {
        return section_bytes(Path::new(obj), section);
    }
    let path = Path::new(arg);
    if path.extension().is_some_and(|e| e == "s" || e == "asm") {
        let text = read_text(path)?;
        let dialect = dialect.unwrap_or(if text.contains("%r") {
            Dialect::Ubpf
        } else {
            Dialect::Llvm
        });
        return bpfkit_asm::assemble_bytes(&text, dialect).map_err(|e| {
            CliError::input(format!("{}:{e}", path.display())).with_details(e.excerpt())
        });
    }
    read_file(path)
}

fn section_bytes(obj: &Path, name: &str) -> Result<Vec<u8>, CliError> {
    let data = read_file(obj)?;
    let err = |e: String| CliError::input(format!("{}: {e}", obj.display()));
    let file = object::File::parse(&*data).map_err(|e| err(e.to_string()))?;
    let section = file
        .section_by_name(name)
        .ok_or_else(|| err(format!("no section `{name}`")))?;
    Ok(section.data().map_err(|e| err(e.to_string()))?.to_vec())
}

impl RunArgs {
    /// Runs `bpfkit run`.
    pub fn run(self) -> Result<ExitCode, CliError> {
        self.engine.check()?;
        let bytes = read_program(&self.prog, self.dialect)?;
        let mut mem = match (&self.mem_hex, &self.mem) {
            (Some(hex), _) => {
                parse_hex(hex).map_err(|e| CliError::input(format!("--mem-hex: {e}")))?
            }
            (None, Some(path)) => read_file(path)?,
            (None, None) => Vec::new(),
        };
        let mut vm =
            Vm::from_bytes(&bytes).map_err(|e| CliError::input(format!("{}: {e}", self.prog)))?;
        add_conformance_helpers(&mut vm);
        vm.set_budget(self.budget);
        let r0 = vm
            .run(&mut mem)
            .map_err(|e| CliError::judged(format!("{}: {e}", self.prog)))?;
        println!("{r0:#x}");
        Ok(ExitCode::SUCCESS)
    }
}
