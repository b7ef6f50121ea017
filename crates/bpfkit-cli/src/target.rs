//! Opening objects for linking, and the BTF that CO-RE relocates them against: `--target FILE`
//! (a raw BTF blob such as `/sys/kernel/btf/vmlinux`, or an ELF object's `.BTF`) with an
//! optional `--base` for split BTF; by default the running kernel's BTF.

use std::path::{Path, PathBuf};

use bpfkit_btf::Btf;
use bpfkit_btf::vmlinux::VMLINUX_PATH;
use bpfkit_elf::{ElfFile, Object};
use bpfkit_relo::{CoreTarget, Kconfig, LinkError, Linker, ProgramImage};

use crate::CliError;
use crate::error::read_file;

/// The bytes of a CO-RE target, read once.
pub struct TargetFiles {
    path: PathBuf,
    btf: Vec<u8>,
    base: Option<(PathBuf, Vec<u8>)>,
    /// Module BTFs (split on the target), searched after it: the running kernel's modules when
    /// no target is named, as libbpf searches them.
    modules: Vec<(String, Vec<u8>)>,
}

impl TargetFiles {
    /// Reads `target` (default: the running kernel's BTF, with its modules' BTF after it) and
    /// its `base`.
    pub fn read(target: Option<&Path>, base: Option<&Path>) -> Result<TargetFiles, CliError> {
        let path = target.unwrap_or(Path::new(VMLINUX_PATH)).to_path_buf();
        let btf = btf_bytes(&path, read_file(&path)?)?;
        let base = match base {
            Some(b) => Some((b.to_path_buf(), btf_bytes(b, read_file(b)?)?)),
            None => None,
        };
        let mut modules = Vec::new();
        if target.is_none() {
            for name in bpfkit_btf::vmlinux::module_names().unwrap_or_default() {
                if let Ok(bytes) = bpfkit_btf::vmlinux::read_module(&name) {
                    modules.push((name, bytes));
                }
            }
        }
        Ok(TargetFiles {
            path,
            btf,
            base,
            modules,
        })
    }

    /// Runs `f` with the parsed target.
    pub fn with<R>(&self, f: impl FnOnce(&CoreTarget<'_>) -> R) -> Result<R, CliError> {
        let bad = |path: &Path, e: bpfkit_btf::BtfError| {
            CliError::input(format!("{}: {e}", path.display()))
        };
        match &self.base {
            None => {
                let btf = Btf::parse(&self.btf).map_err(|e| bad(&self.path, e))?;
                // A module whose BTF does not parse is skipped, as libbpf skips it.
                let modules: Vec<(&str, Btf<'_>)> = self
                    .modules
                    .iter()
                    .filter_map(|(name, bytes)| {
                        Btf::parse_split(bytes, &btf)
                            .ok()
                            .map(|m| (name.as_str(), m))
                    })
                    .collect();
                let mut target = CoreTarget::named(&btf, "vmlinux");
                for (name, module) in &modules {
                    target.add_module(name, module);
                }
                Ok(f(&target))
            }
            Some((base_path, base_bytes)) => {
                let base = Btf::parse(base_bytes).map_err(|e| bad(base_path, e))?;
                let btf = Btf::parse_split(&self.btf, &base).map_err(|e| bad(&self.path, e))?;
                Ok(f(&CoreTarget::new(&btf)))
            }
        }
    }
}

/// The BTF in `bytes`: an ELF object's `.BTF` section, or the bytes themselves.
fn btf_bytes(path: &Path, bytes: Vec<u8>) -> Result<Vec<u8>, CliError> {
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

/// Parses an object, mapping failure to an exit-2 error naming the file.
pub fn parse_object<'d>(path: &Path, bytes: &'d [u8]) -> Result<Object<'d>, CliError> {
    Object::parse(bytes).map_err(|e| CliError::input(format!("{}: {e}", path.display())))
}

/// Whether any function of `object` has CO-RE relocations (and so needs a target).
pub fn needs_target(object: &Object<'_>) -> bool {
    object.functions().any(|f| !f.core_relos.is_empty())
}

/// Links program `name` of `object`: CO-RE against `target` when the object needs it (read
/// lazily: objects without CO-RE never touch the kernel's BTF), `.kconfig` from `kconfig` or the
/// running kernel.
pub fn link_program(
    path: &Path,
    object: &Object<'_>,
    name: &str,
    target: Option<&TargetFiles>,
    kconfig: Option<Kconfig>,
) -> Result<ProgramImage, CliError> {
    let link = |core: Option<&CoreTarget<'_>>| -> Result<ProgramImage, LinkError> {
        let mut linker = Linker::new(object);
        if let Some(core) = core {
            linker = linker.with_core_target(core);
        }
        if let Some(k) = kconfig {
            linker = linker.with_kconfig(k);
        }
        linker.link(name)
    };
    let result = if needs_target(object) {
        let owned;
        let files = match target {
            Some(t) => t,
            None => {
                owned = TargetFiles::read(None, None)?;
                &owned
            }
        };
        files.with(|core| link(Some(core)))?
    } else {
        link(None)
    };
    result.map_err(|e| link_error(path, e))
}

/// A link error as the CLI reports it: exit 2 when the program does not exist, else 1 (the
/// object was judged unloadable).
pub fn link_error(path: &Path, e: LinkError) -> CliError {
    let message = format!("{}: {e}", path.display());
    match *e.kind {
        bpfkit_relo::LinkErrorKind::NoSuchProgram(_) => CliError::input(message),
        _ => CliError::judged(message),
    }
}
