//! `bpfkit plugin [--engine interp|jit] [MEMHEX]`: the bpf_conformance plugin protocol.
//!
//! The program arrives as hex on stdin (one line; bytes may be separated by blanks), the input
//! memory as an optional argument of hex bytes that may contain spaces. The suite's runner passes
//! the memory first, before any plugin options, and adds `--elf` when it sends an ELF object
//! instead of raw instructions. `r0` is printed in hex on stdout with exit 0; an error is a
//! non-zero exit with its message on stderr.

use std::io::Read;
use std::process::ExitCode;

use bpfkit_elf::ElfFile;
use bpfkit_vm::Vm;
use clap::Args;

use crate::CliError;
use crate::engine::{Engine, Runner, add_conformance_helpers, parse_hex};

/// Arguments of `bpfkit plugin`.
#[derive(Args)]
pub struct PluginArgs {
    /// Input memory as hex bytes, spaces allowed.
    memory: Option<String>,
    /// Execution engine.
    #[arg(long, value_enum, default_value_t = Engine::Interp)]
    engine: Engine,
    /// The program on stdin is an ELF object: run its first code section.
    #[arg(long)]
    elf: bool,
}

impl PluginArgs {
    /// Runs `bpfkit plugin`.
    pub fn run(self) -> Result<ExitCode, CliError> {
        let engine = self.engine.untrusted_only("plugin")?;
        let mut stdin = String::new();
        std::io::stdin()
            .read_to_string(&mut stdin)
            .map_err(|e| CliError::input(format!("stdin: {e}")))?;
        let line = stdin.lines().next().unwrap_or("");
        let mut bytes = parse_hex(line).map_err(|e| CliError::input(format!("program: {e}")))?;
        if self.elf {
            bytes = first_code_section(&bytes)?;
        }
        let mut mem = match &self.memory {
            Some(hex) => parse_hex(hex).map_err(|e| CliError::input(format!("memory: {e}")))?,
            None => Vec::new(),
        };
        let mut vm = Vm::from_bytes(&bytes).map_err(CliError::input)?;
        add_conformance_helpers(&mut vm);
        let r0 = Runner::new(engine, vm, None, mem.len())?
            .run(&mut mem)
            .map_err(CliError::judged)?;
        println!("{r0:x}");
        Ok(ExitCode::SUCCESS)
    }
}

/// The bytes of the first non-empty code section, the object read by `bpfkit-elf`.
fn first_code_section(elf: &[u8]) -> Result<Vec<u8>, CliError> {
    let file = ElfFile::parse(elf).map_err(|e| CliError::input(format!("ELF: {e}")))?;
    let section = file
        .sections()
        .iter()
        .find(|s| s.is_code() && s.size > 0)
        .ok_or_else(|| CliError::input("ELF: no code section"))?;
    Ok(section.data.to_vec())
}
