//! `bpfkit asm [--dialect llvm|ubpf] [--elf] IN.s -o OUT`: raw 8-byte slots or an ELF object.

use std::path::PathBuf;
use std::process::ExitCode;

use bpfkit_asm::elf::{ElfOptions, write_object};
use bpfkit_isa::Dialect;
use clap::Args;

use crate::CliError;
use crate::error::{read_text, write_file};

/// Arguments of `bpfkit asm`.
#[derive(Args)]
pub struct AsmArgs {
    /// Assembly dialect of the input.
    #[arg(long, default_value = "llvm", value_parser = parse_dialect)]
    dialect: Dialect,
    /// Write a relocatable BPF ELF object instead of raw 8-byte slots.
    #[arg(long)]
    elf: bool,
    /// With --elf: the program's section, which tells loaders its type (xdp, tc, socket, ...).
    #[arg(long, default_value = ".text", requires = "elf")]
    section: String,
    /// With --elf: the program's function name (default: the input file's stem).
    #[arg(long, requires = "elf")]
    function: Option<String>,
    /// With --elf: the license string of the `license` section.
    #[arg(long, default_value = "GPL", requires = "elf")]
    license: String,
    /// The assembly source.
    input: PathBuf,
    /// Where to write the output; nothing is written when assembly fails.
    #[arg(short, long)]
    output: PathBuf,
}

/// Parses `--dialect`.
pub fn parse_dialect(s: &str) -> Result<Dialect, String> {
    s.parse().map_err(|e| format!("{e}"))
}

impl AsmArgs {
    /// Runs `bpfkit asm`.
    pub fn run(self) -> Result<ExitCode, CliError> {
        let source = read_text(&self.input)?;
        let insns = bpfkit_asm::assemble(&source, self.dialect).map_err(|e| {
            CliError::input(format!("{}:{e}", self.input.display())).with_details(e.excerpt())
        })?;
        let bytes = if self.elf {
            let function = self.function.clone().unwrap_or_else(|| {
                self.input.file_stem().map_or("prog".into(), |s| {
                    s.to_string_lossy().replace(['-', '.'], "_")
                })
            });
            let options = ElfOptions {
                section: self.section,
                function,
                license: Some(self.license),
            };
            write_object(&insns, &options).map_err(CliError::input)?
        } else {
            bpfkit_isa::encode(&insns)
        };
        write_file(&self.output, &bytes)?;
        Ok(ExitCode::SUCCESS)
    }
}
