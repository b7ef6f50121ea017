//! `bpfkit disasm [--dialect llvm|ubpf] IN`: IN is raw 8-byte slots or an ELF object.
//!
//! The output assembles back to the same bytes with `bpfkit asm` in the same dialect: one
//! instruction per line, and for objects a comment per section and a label per function symbol.

use std::fmt::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use bpfkit_isa::{Decoder, Dialect};
use clap::Args;
use object::{Object, ObjectSection, ObjectSymbol, SectionKind, SymbolKind};

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
            let mut out = String::new();
            disasm_code(&bytes, self.dialect, &[], &mut out)
                .map_err(|e| CliError::input(format!("{name}: {e}")))?;
            out
        };
        print!("{text}");
        Ok(ExitCode::SUCCESS)
    }
}

/// Disassembles `code`, printing `name:` before the slots that `labels` name.
fn disasm_code(
    code: &[u8],
    dialect: Dialect,
    labels: &[(usize, String)],
    out: &mut String,
) -> Result<(), String> {
    if code.len() % 8 != 0 {
        return Err(format!(
            "{} bytes is not a whole number of 8-byte instructions",
            code.len()
        ));
    }
    for item in Decoder::new(code) {
        let (slot, insn) = item.map_err(|e| e.to_string())?;
        for (_, label) in labels.iter().filter(|(s, _)| *s == slot) {
            let _ = writeln!(out, "{label}:");
        }
        let _ = writeln!(out, "{}", insn.display(dialect));
    }
    Ok(())
}

/// Disassembles every code section of an ELF object.
fn disasm_object(bytes: &[u8], dialect: Dialect) -> Result<String, String> {
    let file = object::File::parse(bytes).map_err(|e| e.to_string())?;
    let mut out = String::new();
    for section in file.sections().filter(|s| s.kind() == SectionKind::Text) {
        let data = section.data().map_err(|e| e.to_string())?;
        if data.is_empty() {
            continue;
        }
        let section_name = section.name().map_err(|e| e.to_string())?;
        let mut labels: Vec<(usize, String)> = file
            .symbols()
            .filter(|s| s.section_index() == Some(section.index()) && s.kind() == SymbolKind::Text)
            .filter_map(|s| {
                Some((
                    (s.address() - section.address()) as usize / 8,
                    s.name().ok()?.to_string(),
                ))
            })
            .collect();
        labels.sort();
        let _ = writeln!(out, "; section {section_name}");
        disasm_code(data, dialect, &labels, &mut out)
            .map_err(|e| format!("section {section_name}: {e}"))?;
    }
    Ok(out)
}
