//! One module per subcommand.

use std::process::ExitCode;

use clap::Subcommand;

use crate::CliError;

mod asm;
mod btf;
mod disasm;

/// The subcommands of `bpfkit`.
#[derive(Subcommand)]
pub enum Command {
    /// Assemble a program (LLVM or uBPF dialect) into raw instructions or an ELF object.
    Asm(asm::AsmArgs),
    /// Disassemble raw instructions or every program of an ELF object.
    Disasm(disasm::DisasmArgs),
    /// Inspect BTF type information.
    #[command(subcommand)]
    Btf(btf::BtfCommand),
}

impl Command {
    /// Runs the subcommand.
    pub fn run(self) -> Result<ExitCode, CliError> {
        match self {
            Command::Asm(args) => args.run(),
            Command::Disasm(args) => args.run(),
            Command::Btf(cmd) => cmd.run(),
        }
    }
}
