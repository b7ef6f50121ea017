//! [`LoadError`]: why an object, a map or a program did not make it into the kernel, naming
//! which and carrying the kernel's own answer (errno, verifier log) where it gave one.

use bpfkit_elf::ElfError;
use bpfkit_relo::LinkError;

use crate::btf_fixup::FixupError;

/// Why loading failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum LoadError {
    /// The file could not be read.
    #[error("{path}: {source}")]
    Read {
        /// The file.
        path: String,
        /// Why.
        source: std::io::Error,
    },
    /// The object is not a valid BPF ELF file.
    #[error(transparent)]
    Parse(#[from] ElfError),
    /// The object's BTF cannot be fixed up for the kernel.
    #[error("object BTF: {0}")]
    Fixup(#[from] FixupError),
    /// A program could not be linked (a bad call, a failed CO-RE relocation, a kconfig value).
    #[error(transparent)]
    Link(#[from] LinkError),
    /// A program could not be linked (a failed CO-RE relocation, a bad call); it cannot be
    /// loaded.
    #[error("{source}")]
    ProgramLink {
        /// The program.
        program: String,
        /// The linker's error.
        source: std::sync::Arc<LinkError>,
    },
    /// The kernel's BTF (or `/proc/kallsyms`) could not be read.
    #[error("kernel BTF ({path}): {reason}")]
    KernelBtf {
        /// What was read.
        path: String,
        /// Why it failed.
        reason: String,
    },
    /// A map could not be created or initialised.
    #[error("map '{map}': {source}")]
    Map {
        /// The map's name.
        map: String,
        /// The kernel's answer.
        source: bpfkit_sys::Error,
    },
    /// A pinned map cannot be reused: its definition differs.
    #[error("map '{map}': the map pinned at {path} does not match its definition ({reason})")]
    PinMismatch {
        /// The map.
        map: String,
        /// The pin.
        path: String,
        /// Which field differs.
        reason: String,
    },
    /// An extern cannot be bound to the kernel.
    #[error("extern '{name}': {reason}")]
    Extern {
        /// The extern.
        name: String,
        /// Why.
        reason: String,
    },
    /// A program's BTF attach target (fentry, lsm, tp_btf, iter) is not in the kernel's BTF.
    #[error("program '{program}': attach target '{target}' {reason}")]
    AttachTarget {
        /// The program.
        program: String,
        /// The target named by its section.
        target: String,
        /// Why it is unusable.
        reason: String,
    },
    /// The kernel refused a program; for a rejection the source is
    /// [`bpfkit_sys::Error::Verifier`] with the verifier log.
    #[error("program '{program}': {source}")]
    Program {
        /// The program.
        program: String,
        /// The kernel's answer.
        source: bpfkit_sys::Error,
    },
    /// The kernel refused to attach a program.
    #[error("attaching ({what}): {source}")]
    Attach {
        /// What was being attached where.
        what: String,
        /// The kernel's answer.
        source: bpfkit_sys::Error,
    },
    /// The object has no program or map of that name.
    #[error("no {what} named '{name}' in the object")]
    NotFound {
        /// `program`, `map` or `global variable`.
        what: &'static str,
        /// The name asked for.
        name: String,
    },
    /// A request that does not fit the object (a write past a variable, a program of a type
    /// that cannot be loaded as is).
    #[error("{0}")]
    Invalid(String),
}

impl LoadError {
    /// The kernel's errno, when the kernel answered.
    pub fn errno(&self) -> Option<bpfkit_sys::Errno> {
        match self {
            LoadError::Map { source, .. }
            | LoadError::Program { source, .. }
            | LoadError::Attach { source, .. } => source.errno(),
            _ => None,
        }
    }

    /// The verifier log of a rejected program.
    pub fn verifier_log(&self) -> Option<&str> {
        match self {
            LoadError::Program {
                source: bpfkit_sys::Error::Verifier { log, .. },
                ..
            } => Some(log),
            _ => None,
        }
    }
}

/// The index of the item of `items` called `name` (by `name_of`), or [`LoadError::NotFound`]
/// naming what was looked for: the one lookup behind every by-name accessor of the loader.
pub(crate) fn position_named<T>(
    items: &[T],
    what: &'static str,
    name: &str,
    name_of: impl Fn(&T) -> &str,
) -> Result<usize, LoadError> {
    items
        .iter()
        .position(|item| name_of(item) == name)
        .ok_or_else(|| LoadError::NotFound {
            what,
            name: name.to_string(),
        })
}
