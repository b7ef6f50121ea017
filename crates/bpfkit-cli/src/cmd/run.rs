//! `bpfkit run [--engine interp|jit|jit-trusted] [--dump-jit] [--mem-hex HEX|--mem FILE] PROG`:
//! runs a program once and prints `r0` as `0x<hex>`.
//!
//! PROG is assembly (`.s`, dialect chosen by `--dialect` or guessed: uBPF if it names `%r`
//! registers), raw 8-byte slots (`.bin` or anything else), or `OBJ.o:PROGRAM`: the program
//! (by name, or the one program of a section) linked with its subprograms, CO-RE applied
//! against `--target` (default: the running kernel's BTF) and its maps and global data created
//! in the VM.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use bpfkit_elf::ElfFile;
use bpfkit_isa::Dialect;
use bpfkit_vm::Vm;
use clap::Args;

use crate::CliError;
use crate::engine::{Engine, Runner, add_conformance_helpers, parse_hex};
use crate::error::{read_file, read_text};
use crate::target::{self, TargetFiles};

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
    /// CO-RE target BTF for `OBJ.o:PROGRAM` (raw BTF or an ELF's .BTF; default: the
    /// running kernel's).
    #[arg(long)]
    target: Option<PathBuf>,
    /// Print the JIT's machine code, disassembled, each eBPF instruction above the code it
    /// became (with --engine jit or jit-trusted), before running.
    #[arg(long)]
    dump_jit: bool,
    /// The program: `.s`, raw `.bin`, or `OBJ.o:PROGRAM` (a program's name or its section).
    prog: String,
}

/// A program argument: raw slots, or a program of an object to link.
pub enum ProgramArg {
    /// Raw 8-byte slots (from assembly or a `.bin`).
    Slots(Vec<u8>),
    /// `OBJ.o:PROGRAM`.
    Object {
        /// The object's path.
        path: PathBuf,
        /// The program's name or section.
        program: String,
    },
}

/// Splits `OBJ.o:PROGRAM`, or reads the program into slots.
pub fn parse_program_arg(arg: &str, dialect: Option<Dialect>) -> Result<ProgramArg, CliError> {
    if let Some((obj, program)) = arg.rsplit_once(':').filter(|(o, _)| o.ends_with(".o")) {
        return Ok(ProgramArg::Object {
            path: PathBuf::from(obj),
            program: program.to_string(),
        });
    }
    read_program(arg, dialect).map(ProgramArg::Slots)
}

/// The name of the program `wanted` names in `object`: a program's name, or the section of
/// exactly one program.
pub fn program_name<'o>(
    path: &Path,
    object: &'o bpfkit_elf::Object<'_>,
    wanted: &str,
) -> Result<&'o str, CliError> {
    if let Some(p) = object.program(wanted) {
        return Ok(p.name());
    }
    let in_section: Vec<_> = object
        .programs()
        .iter()
        .filter(|p| p.section_name() == wanted)
        .collect();
    match in_section.as_slice() {
        [one] => Ok(one.name()),
        [] => Err(CliError::input(format!(
            "{}: no program or section named `{wanted}` (programs: {})",
            path.display(),
            object
                .programs()
                .iter()
                .map(|p| p.name())
                .collect::<Vec<_>>()
                .join(", ")
        ))),
        many => Err(CliError::input(format!(
            "{}: section `{wanted}` has {} programs; name one: {}",
            path.display(),
            many.len(),
            many.iter().map(|p| p.name()).collect::<Vec<_>>().join(", ")
        ))),
    }
}

/// Reads a program argument into 8-byte slots: assembly, raw slots, or `OBJ.o:SECTION`'s raw
/// bytes (for callers that run sections as they are, like the conformance plugin).
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

/// The bytes of section `name` of the object at `obj`, read by `bpfkit-elf`.
fn section_bytes(obj: &Path, name: &str) -> Result<Vec<u8>, CliError> {
    let data = read_file(obj)?;
    let err = |e: String| CliError::input(format!("{}: {e}", obj.display()));
    let file = ElfFile::parse(&data).map_err(|e| err(e.to_string()))?;
    let section = file
        .section_by_name(name)
        .ok_or_else(|| err(format!("no section `{name}`")))?;
    Ok(section.data.to_vec())
}

impl RunArgs {
    /// Runs `bpfkit run`.
    pub fn run(self) -> Result<ExitCode, CliError> {
        if self.dump_jit && self.engine == Engine::Interp {
            return Err(CliError::input(
                "--dump-jit shows the JIT's code: use it with --engine jit or jit-trusted",
            ));
        }
        let mut insns = None;
        let mut vm = match parse_program_arg(&self.prog, self.dialect)? {
            ProgramArg::Slots(bytes) => {
                let mut vm = Vm::from_bytes(&bytes)
                    .map_err(|e| CliError::input(format!("{}: {e}", self.prog)))?;
                add_conformance_helpers(&mut vm);
                insns = bpfkit_isa::decode(&bytes).ok();
                vm
            }
            ProgramArg::Object { path, program } => {
                let bytes = read_file(&path)?;
                let object = target::parse_object(&path, &bytes)?;
                let name = program_name(&path, &object, &program)?;
                let files = match &self.target {
                    Some(t) => Some(TargetFiles::read(Some(t), None)?),
                    None => None,
                };
                let image = target::link_program(&path, &object, name, files.as_ref(), None)?;
                Vm::from_image(&image)
                    .map_err(|e| CliError::judged(format!("{}: {e}", self.prog)))?
            }
        };
        let mut mem = match (&self.mem_hex, &self.mem) {
            (Some(hex), _) => {
                parse_hex(hex).map_err(|e| CliError::input(format!("--mem-hex: {e}")))?
            }
            (None, Some(path)) => read_file(path)?,
            (None, None) => Vec::new(),
        };
        vm.set_budget(self.budget);
        let mut runner = Runner::new(self.engine, vm, insns.as_deref(), mem.len())?;
        if self.dump_jit
            && let Some(dump) = runner.dump()
        {
            print!("{dump}");
        }
        let r0 = runner
            .run(&mut mem)
            .map_err(|e| CliError::judged(format!("{}: {e}", self.prog)))?;
        println!("{r0:#x}");
        Ok(ExitCode::SUCCESS)
    }
}
