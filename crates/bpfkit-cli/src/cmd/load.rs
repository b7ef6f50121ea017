//! `bpfkit load OBJ.o [--pin DIR]`: loads every program of an object into the running kernel
//! and prints each one's id, name, type and instruction counts; with `--pin DIR`, pins each
//! program at `DIR/NAME`. When the kernel rejects a program, prints the verifier's log up to
//! its reason, the failing instruction with its source line, and exits 1.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use bpfkit_loader::verifier_log::summarize;
use bpfkit_loader::{LoadError, LoadOptions, LoadedProgram, ObjectSpec};
use clap::Args;

use crate::CliError;

/// Arguments of `bpfkit load`.
#[derive(Args)]
pub struct LoadArgs {
    /// Pin each program at DIR/NAME (DIR in the BPF filesystem).
    #[arg(long, value_name = "DIR")]
    pin: Option<PathBuf>,
    /// Directory for maps pinned by name (`LIBBPF_PIN_BY_NAME`).
    #[arg(long, value_name = "DIR", default_value = "/sys/fs/bpf")]
    pin_maps: PathBuf,
    /// Verifier log level of every load (0: a log only for a rejected program).
    #[arg(long, default_value_t = 0)]
    log_level: u32,
    /// The object.
    object: PathBuf,
}

impl LoadArgs {
    /// Runs `bpfkit load`.
    pub fn run(self) -> Result<ExitCode, CliError> {
        let options = LoadOptions {
            pin_root: self.pin_maps.clone(),
            log_level: self.log_level,
            ..LoadOptions::default()
        };
        let spec = open(&self.object, options)?;
        let (loaded, failures) = spec
            .load_lenient()
            .map_err(|e| object_error(&self.object, e))?;
        for program in loaded.programs() {
            println!("{}", describe(program)?);
            if !program.log.is_empty() {
                println!("{}", program.log.trim_end());
            }
            if let Some(dir) = &self.pin {
                let path = dir.join(&program.name);
                program.pin(&path).map_err(|e| {
                    CliError::input(format!(
                        "pinning '{}' at {}: {e}",
                        program.name,
                        path.display()
                    ))
                })?;
                println!("  pinned at {}", path.display());
            }
        }
        if let Some((name, error)) = failures.into_iter().next() {
            return Err(rejection(&spec, &name, error));
        }
        Ok(ExitCode::SUCCESS)
    }
}

/// Opens an object, mapping a bad file to exit 2.
pub fn open(path: &Path, options: LoadOptions) -> Result<ObjectSpec, CliError> {
    ObjectSpec::open_file_with(path, options)
        .map_err(|e| CliError::input(format!("{}: {e}", path.display())))
}

/// A failure of the object as a whole: the kernel refusing a map or the BTF, an extern it
/// lacks, is a judgement on the object (exit 1); a file that cannot be read is exit 2.
pub fn object_error(path: &Path, e: LoadError) -> CliError {
    match e {
        LoadError::Read { .. } | LoadError::Parse(_) => {
            CliError::input(format!("{}: {e}", path.display()))
        }
        e => CliError::judged(format!("{}: {e}", path.display())),
    }
}

/// `ID: TYPE  name NAME  insns N  xlated N  jited NB  verified N`.
pub fn describe(program: &LoadedProgram) -> Result<String, CliError> {
    let info = program
        .program
        .info()
        .map_err(|e| CliError::judged(format!("program '{}': {e}", program.name)))?;
    Ok(format!(
        "{}: {:#}  name {}  insns {}  xlated {}  jited {}B  verified {}",
        info.id,
        info.prog_type,
        program.name,
        program.image.slot_count(),
        info.xlated_len / 8,
        info.jited_len,
        info.verified_insns,
    ))
}

/// The kernel's rejection of program `name`: its log up to the reason and the failing
/// instruction with its source line.
fn rejection(spec: &ObjectSpec, name: &str, error: LoadError) -> CliError {
    let Some(log) = error.verifier_log() else {
        // Most of the loader's errors about one program name it already.
        let text = error.to_string();
        return CliError::judged(if text.starts_with(&format!("program '{name}'")) {
            text
        } else {
            format!("program '{name}': {text}")
        });
    };
    let errno = error
        .errno()
        .map(|e| e.to_string())
        .unwrap_or_else(|| "rejected".into());
    let summary = summarize(log);
    let mut details = String::from(summary.up_to_message);
    if let Some(insn) = summary.failing_insn {
        details += &format!("\nfailing instruction: {insn}");
        if let Ok(image) = spec.image(name)
            && let Some(line) = image.line_at(insn)
        {
            details += &format!(" ({}:{}: {})", line.file, line.line, line.text.trim());
        }
    }
    CliError::judged(format!(
        "program '{name}': the kernel rejected it: {errno}{}",
        summary
            .message
            .map(|m| format!(": {m}"))
            .unwrap_or_default()
    ))
    .with_details(details)
}
