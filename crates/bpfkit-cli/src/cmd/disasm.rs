//! `bpfkit disasm [--dialect llvm|ubpf] IN`: IN is raw 8-byte slots or an ELF object.
//!
//! The output assembles back to the same bytes with `bpfkit asm` in the same dialect: one
//! instruction per line, and for objects a comment per section and a label per function symbol.

use std::fmt::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use bpfkit_elf::{ElfError, ElfFile, ErrorKind, SymbolKind};
use bpfkit_isa::{DecodeError, Decoder, Dialect};
use clap::Args;

use crate::CliError;
use crate::error::read_file;

/// Arguments of `bpfkit disasm`.
#[derive(Args)]
pub struct DisasmArgs {
    /// Dialect of the output.
    #[arg(long, default_value = "llvm", value_parser = super::asm::parse_dialect)]
    dialect: Dialect,
    /// Raw 8-byte slots (.bin) or a BPF ELF object (.o: every program section).
    input: PathBuf,
}

impl DisasmArgs {
    /// Runs `bpfkit disasm`.
    pub fn run(self) -> Result<ExitCode, CliError> {
        let bytes = read_file(&self.input)?;
        let name = self.input.display();
        let text = if bytes.starts_with(b"\x7fELF") {
            disasm_object(&bytes, self.dialect)
                .map_err(|e| CliError::input(format!("{name}: {e}")))?
        } else {
            if bytes.len() % 8 != 0 {
                return Err(CliError::input(format!(
                    "{name}: {} bytes is not a whole number of 8-byte instructions",
                    bytes.len()
                )));
            }
            let mut out = String::new();
            disasm_code(&bytes, self.dialect, &[], &mut out)
                .map_err(|e| CliError::input(format!("{name}: {e}")))?;
            out
        };
        print!("{text}");
        Ok(ExitCode::SUCCESS)
    }
}

/// Disassembles `code` (whole slots), printing `name:` before the slots that `labels` name.
fn disasm_code(
    code: &[u8],
    dialect: Dialect,
    labels: &[(usize, &str)],
    out: &mut String,
) -> Result<(), DecodeError> {
    for item in Decoder::new(code) {
        let (slot, insn) = item?;
        for (_, label) in labels.iter().filter(|(s, _)| *s == slot) {
            let _ = writeln!(out, "{label}:");
        }
        let _ = writeln!(out, "{}", insn.display(dialect));
    }
    Ok(())
}

/// Disassembles every code section of an ELF object, read by `bpfkit-elf`: errors name the
/// byte offset in the file and the section.
fn disasm_object(bytes: &[u8], dialect: Dialect) -> Result<String, ElfError> {
    let elf = ElfFile::parse(bytes)?;
    elf.require_little_endian()?;
    let mut out = String::new();
    for section in elf.sections().iter().filter(|s| s.is_code() && s.size > 0) {
        let in_section = |e| ElfError::in_section(section.offset, section.index, section.name, e);
        if section.size % 8 != 0 {
            return Err(in_section(ErrorKind::OddSize {
                size: section.size,
                entsize: 8,
            }));
        }
        let mut labels: Vec<(usize, &str)> = elf
            .symbols()
            .iter()
            .filter(|s| s.section_index() == Some(section.index) && s.kind == SymbolKind::Func)
            .map(|s| ((s.value / 8) as usize, s.name))
            .collect();
        labels.sort();
        let _ = writeln!(out, "; section {}", section.name);
        disasm_code(section.data, dialect, &labels, &mut out).map_err(|e| {
            ElfError::in_section(
                section.offset + e.slot as u64 * 8,
                section.index,
                section.name,
                ErrorKind::Decode(e),
            )
        })?;
    }
    Ok(out)
}
