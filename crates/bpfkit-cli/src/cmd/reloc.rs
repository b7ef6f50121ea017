//! `bpfkit reloc OBJ.o [--target BTF] [--base BASE] [--format text|json]`: every CO-RE
//! relocation of every function, relocated as libbpf does against the target (default: the
//! running kernel's BTF and its modules'), with what it matched and what it patched.
//!
//! Exit 0 when every relocation applies (poisoned ones included: the kernel decides whether the
//! poisoned instruction is reachable), 1 when one cannot be applied (ambiguous candidates, a
//! bad record), 2 when the input cannot be read.

use std::path::PathBuf;
use std::process::ExitCode;

use bpfkit_relo::core::long_kind_name;
use bpfkit_relo::{CoreReport, Linker};
use clap::{Args, ValueEnum};
use serde_json::{Value, json};

use crate::CliError;
use crate::error::read_file;
use crate::target::{self, TargetFiles};

/// Output formats of `reloc`.
#[derive(Clone, Copy, ValueEnum)]
pub enum Format {
    /// One line per relocation.
    Text,
    /// A JSON array, one object per relocation.
    Json,
}

/// Arguments of `bpfkit reloc`.
#[derive(Args)]
pub struct RelocArgs {
    /// The object.
    object: PathBuf,
    /// Target BTF: a raw BTF blob or an ELF object's .BTF (default: the running kernel's).
    #[arg(long)]
    target: Option<PathBuf>,
    /// Base BTF of a split target BTF (a kernel module's sits on vmlinux).
    #[arg(long, requires = "target")]
    base: Option<PathBuf>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Text)]
    format: Format,
}

impl RelocArgs {
    /// Runs `bpfkit reloc`.
    pub fn run(self) -> Result<ExitCode, CliError> {
        let bytes = read_file(&self.object)?;
        let object = target::parse_object(&self.object, &bytes)?;
        let files = TargetFiles::read(self.target.as_deref(), self.base.as_deref())?;
        let reports = files
            .with(|core| Linker::new(&object).with_core_target(core).core_reports())?
            .map_err(|e| CliError::input(format!("{}: {e}", self.object.display())))?;
        match self.format {
            Format::Text => {
                for r in &reports {
                    println!("{}", text_line(r));
                }
            }
            Format::Json => {
                let all: Vec<Value> = reports.iter().map(json_of).collect();
                println!(
                    "{}",
                    serde_json::to_string_pretty(&all).expect("JSON values print")
                );
            }
        }
        match reports.iter().find(|r| r.result.is_err()) {
            Some(r) => {
                let Err(e) = &r.result else {
                    unreachable!("found by is_err")
                };
                Err(CliError::judged(format!(
                    "{}: function '{}': insn {}: {e}",
                    self.object.display(),
                    r.function,
                    r.insn
                )))
            }
            None => Ok(ExitCode::SUCCESS),
        }
    }
}

/// `FUNCTION insn N #I KIND: LOCAL => TARGET: OLD -> NEW` (or `poisoned`, or the error).
fn text_line(r: &CoreReport) -> String {
    let head = format!("{} insn {} #{}", r.function, r.insn, r.index);
    match &r.result {
        Ok(o) => {
            let result = match o.new {
                Some(new) => format!("{} -> {}", o.old, new),
                None => "poisoned".to_string(),
            };
            format!(
                "{head} {}: {} => {}: {result}",
                long_kind_name(o.local.kind),
                o.local,
                o.target
            )
        }
        Err(e) => format!("{head} {}: error: {}", long_kind_name(e.kind), e.reason),
    }
}

fn json_of(r: &CoreReport) -> Value {
    match &r.result {
        Ok(o) => json!({
            "program": r.function,
            "insn": r.insn,
            "index": r.index,
            "kind": long_kind_name(o.local.kind),
            "local": o.local.to_string(),
            "target": o.target.to_string(),
            "old": o.old,
            "new": o.new,
            "poisoned": o.poisoned,
        }),
        Err(e) => json!({
            "program": r.function,
            "insn": r.insn,
            "index": r.index,
            "kind": long_kind_name(e.kind),
            "local": e.local,
            "target": Value::Null,
            "old": Value::Null,
            "new": Value::Null,
            "poisoned": false,
            "error": e.reason.to_string(),
        }),
    }
}
