//! `bpfkit btf dump [--format c|raw] [--base BASE] FILE`.
//!
//! FILE is an ELF object (its `.BTF` section is dumped) or a raw BTF blob such as
//! `/sys/kernel/btf/vmlinux`. Like bpftool, nothing is fixed up: an object's DATASEC sizes and
//! VAR offsets are printed as clang wrote them (libbpf only fills them in when it opens an object
//! for loading, which `bpftool btf dump` does not do). Like bpftool, a module's BTF under
//! `/sys/kernel/btf/` is read on top of `/sys/kernel/btf/vmlinux` when no `--base` is given.
//!
//! An ELF file is read by `bpfkit-elf` (any ELF64 file: an object, a kernel module, vmlinux), so
//! errors name byte offsets in the file.

use std::io::{self, Write};
use std::ops::Range;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use bpfkit_btf::dump::{self, CDumpOptions, DumpError};
use bpfkit_btf::vmlinux::{SYSFS_BTF_DIR, VMLINUX_PATH};
use bpfkit_btf::{Btf, BtfError};
use bpfkit_elf::ElfFile;
use clap::{Subcommand, ValueEnum};

use crate::CliError;
use crate::error::read_file;

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
        match self {
            BtfCommand::Dump { format, base, file } => {
                // bpftool's rule: module BTF in sysfs sits on sysfs vmlinux unless told otherwise.
                let base = base.or_else(|| {
                    let in_sysfs = file.parent() == Some(Path::new(SYSFS_BTF_DIR));
                    (in_sysfs && file != Path::new(VMLINUX_PATH)).then(|| VMLINUX_PATH.into())
                });
                dump_file(format, base.as_deref(), &file)
            }
        }
    }
}

/// A file's bytes and where its BTF is in them.
struct Blob {
    bytes: Vec<u8>,
    /// The `.BTF` section for ELF files, everything for raw blobs.
    range: Range<usize>,
    /// Pointer size from the ELF class (libbpf's `btf__set_pointer_size` when reading ELF).
    ptr_size: Option<u32>,
    elf: bool,
}

impl Blob {
    fn read(path: &Path) -> Result<Blob, CliError> {
        let bytes = read_file(path)?;
        if !bytes.starts_with(b"\x7fELF") {
            let range = 0..bytes.len();
            return Ok(Blob {
                bytes,
                range,
                ptr_size: None,
                elf: false,
            });
        }
        let fail = |msg: String| CliError::input(format!("{}: {msg}", path.display()));
        let file = ElfFile::parse_sections(&bytes).map_err(|e| fail(e.to_string()))?;
        let section = file
            .section_by_name(".BTF")
            .ok_or_else(|| fail("no .BTF section (was it built with -g?)".into()))?;
        if section.is_nobits() {
            return Err(fail("the .BTF section has no data in the file".into()));
        }
        // bpfkit-elf checked that the section's bytes are inside the file.
        let start = section.offset as usize;
        let range = start..start + section.data.len();
        // ELF64 only (bpfkit-elf reads no other class): 8-byte pointers.
        let ptr_size = Some(8);
        Ok(Blob {
            bytes,
            range,
            ptr_size,
            elf: true,
        })
    }

    fn btf_bytes(&self) -> &[u8] {
        &self.bytes[self.range.clone()]
    }

    /// An error in the BTF as one line: offsets are file offsets.
    fn error(&self, path: &Path, e: BtfError) -> CliError {
        let e = e.with_base(self.range.start);
        if self.elf {
            CliError::input(format!("{}: .BTF: {e}", path.display()))
        } else {
            CliError::input(format!("{}: {e}", path.display()))
        }
    }
}

fn dump_file(format: Format, base_path: Option<&Path>, path: &Path) -> Result<ExitCode, CliError> {
    let base_blob = base_path.map(Blob::read).transpose()?;
    let base = match (&base_blob, base_path) {
        (Some(blob), Some(p)) => Some(Btf::parse(blob.btf_bytes()).map_err(|e| blob.error(p, e))?),
        _ => None,
    };
    let blob = Blob::read(path)?;
    let btf = match &base {
        Some(base) => Btf::parse_split(blob.btf_bytes(), base),
        None => Btf::parse(blob.btf_bytes()),
    }
    .map_err(|e| blob.error(path, e))?;

    let stdout = io::stdout().lock();
    let result = match format {
        Format::Raw => dump::raw(&btf, stdout).map_err(DumpError::Io),
        Format::C => {
            let ptr_size = blob.ptr_size.or_else(|| btf.guess_ptr_size()).unwrap_or(8);
            let options = CDumpOptions {
                ptr_size,
                ..CDumpOptions::default()
            };
            dump::c(&btf, stdout, &options)
        }
    };
    match result {
        Ok(()) => Ok(ExitCode::SUCCESS),
        // `bpfkit btf dump ... | head` is not an error.
        Err(DumpError::Io(e)) if e.kind() == io::ErrorKind::BrokenPipe => Ok(ExitCode::SUCCESS),
        Err(DumpError::Btf(e)) => {
            let _ = io::stdout().flush();
            Err(blob.error(path, e))
        }
        Err(e) => Err(CliError::input(format!("{}: {e}", path.display()))),
    }
}
