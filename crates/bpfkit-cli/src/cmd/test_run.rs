//! `bpfkit test-run OBJ.o PROGRAM [--data FILE | --data-hex HEX] [--ctx FILE] [--repeat N]
//! [--maps]`: `BPF_PROG_TEST_RUN` in userspace, no root.
//!
//! Prints one line each: `retval: N`, `duration: N ns`, `data_out: HEX` (lowercase, no spaces)
//! and, with a context, `ctx_out: HEX`; with `--maps`, then every map's elements as
//! `map NAME KEYHEX VALHEX` (records of ring buffers and values of queues and stacks with `-`
//! for the key). The kernel's errors (`EINVAL`, ...) exit with 2, a faulting program with 1.

use std::fmt::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use bpfkit_elf::ElfFile;
use bpfkit_vm::{TestObject, TestRun, TestRunError};
use clap::Args;

use crate::CliError;
use crate::engine::{Engine, parse_hex};
use crate::error::read_file;

/// Arguments of `bpfkit test-run`.
#[derive(Args)]
pub struct TestRunArgs {
    /// The object.
    object: PathBuf,
    /// The program: its name, or the section of its only program.
    program: String,
    /// The packet (or other input data) from a file.
    #[arg(long, conflicts_with = "data_hex")]
    data: Option<PathBuf>,
    /// The packet as hex bytes (spaces allowed).
    #[arg(long)]
    data_hex: Option<String>,
    /// The context (`xdp_md`, `__sk_buff`, arguments) from a file.
    #[arg(long)]
    ctx: Option<PathBuf>,
    /// Run the program this many times (the duration is the mean).
    #[arg(long, default_value_t = 1)]
    repeat: u32,
    /// Execution engine. Test runs use the interpreter for now: the JIT does not yet build
    /// packet contexts (`--engine jit` is refused with that reason).
    #[arg(long, value_enum, default_value_t = Engine::Interp)]
    engine: Engine,
    /// Print every map's elements after the run.
    #[arg(long)]
    maps: bool,
    /// Simulate this many CPUs (per-cpu maps keep one value each).
    #[arg(long, default_value_t = 1)]
    cpus: u32,
    /// CO-RE target BTF (raw BTF or an ELF's .BTF; default: the running kernel's).
    #[arg(long)]
    target: Option<PathBuf>,
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().fold(String::new(), |mut s, b| {
        let _ = write!(s, "{b:02x}");
        s
    })
}

/// The BTF of a target file: an ELF object's `.BTF`, or the file itself.
fn target_btf(path: &Path) -> Result<Vec<u8>, CliError> {
    let bytes = read_file(path)?;
    if !bytes.starts_with(b"\x7fELF") {
        return Ok(bytes);
    }
    let elf =
        ElfFile::parse(&bytes).map_err(|e| CliError::input(format!("{}: {e}", path.display())))?;
    let section = elf
        .section_by_name(".BTF")
        .ok_or_else(|| CliError::input(format!("{}: no .BTF section", path.display())))?;
    Ok(section.data.to_vec())
}

impl TestRunArgs {
    /// Runs `bpfkit test-run`.
    pub fn run(self) -> Result<ExitCode, CliError> {
        if self.engine != Engine::Interp {
            return Err(CliError::input(format!(
                "`test-run` runs on the interpreter only: --engine {} cannot build a program \
                 context and packet yet",
                self.engine.name()
            )));
        }
        let bytes = read_file(&self.object)?;
        let mut builder = TestObject::builder(&bytes).cpus(self.cpus);
        let btf;
        if let Some(t) = &self.target {
            btf = target_btf(t)?;
            builder = builder.core_target(&btf);
        }
        let mut obj = builder
            .build()
            .map_err(|e| CliError::input(format!("{}: {e}", self.object.display())))?;
        let name = self.program_name(&obj)?;
        let data = match (&self.data, &self.data_hex) {
            (Some(path), _) => read_file(path)?,
            (None, Some(text)) => {
                parse_hex(text).map_err(|e| CliError::input(format!("--data-hex: {e}")))?
            }
            (None, None) => Vec::new(),
        };
        let ctx = self.ctx.as_deref().map(read_file).transpose()?;
        let run = TestRun {
            data: &data,
            ctx_in: ctx.as_deref(),
            repeat: self.repeat,
            ..TestRun::default()
        };
        let what = format!("{}:{name}", self.object.display());
        let out = obj.test_run(&name, &run).map_err(|e| match e {
            TestRunError::Fault(_) | TestRunError::Program { .. } => {
                CliError::judged(format!("{what}: {e}"))
            }
            _ => CliError::input(format!("{what}: {e}")),
        })?;
        let mut text = format!(
            "retval: {}\nduration: {} ns\ndata_out: {}\n",
            out.retval,
            out.duration,
            hex(&out.data_out)
        );
        if let Some(ctx_out) = &out.ctx_out {
            let _ = writeln!(text, "ctx_out: {}", hex(ctx_out));
        }
        if self.maps {
            let names: Vec<String> = obj.map_names().map(str::to_string).collect();
            for name in names {
                let map = obj.map_mut(&name).expect("named by the object");
                for (k, v) in map.entries() {
                    let _ = writeln!(text, "map {name} {} {}", hex(&k), hex(&v));
                }
                for record in map.ringbuf_consume() {
                    let _ = writeln!(text, "map {name} - {}", hex(&record));
                }
                for record in map.take_perf_records() {
                    let _ = writeln!(text, "map {name} cpu{} {}", record.cpu, hex(&record.data));
                }
                if map.def().key_size == 0 {
                    while let Ok(v) = map.pop() {
                        let _ = writeln!(text, "map {name} - {}", hex(&v));
                    }
                }
            }
        }
        print!("{text}");
        Ok(ExitCode::SUCCESS)
    }

    /// The program `self.program` names: a program's name, or the section of exactly one.
    fn program_name(&self, obj: &TestObject) -> Result<String, CliError> {
        if obj.program(&self.program).is_some() {
            return Ok(self.program.clone());
        }
        let in_section: Vec<&str> = obj
            .programs()
            .iter()
            .filter(|p| p.section == self.program)
            .map(|p| p.name.as_str())
            .collect();
        match in_section.as_slice() {
            [one] => Ok(one.to_string()),
            [] => Err(CliError::input(format!(
                "{}: no program or section named `{}` (programs: {})",
                self.object.display(),
                self.program,
                obj.programs()
                    .iter()
                    .map(|p| p.name.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            ))),
            many => Err(CliError::input(format!(
                "{}: section `{}` has {} programs; name one: {}",
                self.object.display(),
                self.program,
                many.len(),
                many.join(", ")
            ))),
        }
    }
}
