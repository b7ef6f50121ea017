//! `bpfkit btf dump [--format c|raw] [--base BASE] FILE`.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Subcommand, ValueEnum};

use crate::CliError;

/// `bpfkit btf ...`
#[derive(Subcommand)]
pub enum BtfCommand {
    /// Dump the BTF of an object file or a raw BTF blob (e.g. /sys/kernel/btf/vmlinux).
    Dump {
        /// Output format: bpftool's raw listing or a C header.
        #[arg(long, value_enum, default_value_t = Format::Raw)]
        format: Format,
        /// The base BTF of a split BTF blob (a kernel module's BTF sits on vmlinux).
        #[arg(long)]
        base: Option<PathBuf>,
        /// An ELF object (.o) or a raw BTF blob.
        file: PathBuf,
    },
}

/// Output formats of `btf dump`.
#[derive(Clone, Copy, ValueEnum)]
pub enum Format {
    /// The listing of `bpftool btf dump ... format raw`.
    Raw,
    /// A compilable C header, like `bpftool btf dump ... format c`.
    C,
}

impl BtfCommand {
    /// Runs the subcommand.
    pub fn run(self) -> Result<ExitCode, CliError> {
        Err(CliError::input("btf dump: not implemented yet"))
    }
}
