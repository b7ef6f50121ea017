//! [`LinkError`]: why a program cannot be linked, saying which program, which instruction and
//! what.

use bpfkit_elf::ElfError;

use crate::core::CoreError;
use crate::kconfig::KconfigError;

/// A failed CO-RE relocation, as the linker reports it (see [`CoreError`]).
pub type CoreFailure = CoreError;

/// Why a program (or the object it belongs to) cannot be linked.
///
/// Printed as `program 'x': insn 12: CO-RE relocation #3 (...): ...`; a failure inside a
/// subprogram also names the function (`program 'x': function 'sub': insn 4: ...`).
#[derive(Debug, thiserror::Error)]
pub struct LinkError {
    /// The program being linked, if the failure is one program's.
    pub program: Option<String>,
    /// What went wrong (boxed: errors are rare, results are everywhere).
    pub kind: Box<LinkErrorKind>,
}

impl core::fmt::Display for LinkError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        if let Some(program) = &self.program {
            write!(f, "program '{program}': ")?;
        }
        match &*self.kind {
            LinkErrorKind::Core {
                function,
                insn,
                error,
                ..
            } => {
                if self.program.as_deref() != Some(function.as_str()) {
                    write!(f, "function '{function}': ")?;
                }
                write!(f, "insn {insn}: {error}")
            }
            kind => write!(f, "{kind}"),
        }
    }
}

/// What went wrong while linking.
#[derive(Debug, thiserror::Error)]
pub enum LinkErrorKind {
    /// The object has no program of that name.
    #[error("no program named '{0}' in the object")]
    NoSuchProgram(String),
    /// A function's code does not decode.
    #[error("function '{function}': {source}")]
    Decode {
        /// The function.
        function: String,
        /// The decoder's error (with the file offset).
        source: ElfError,
    },
    /// A bpf-to-bpf call or function address whose target is not a subprogram in `.text`
    /// (libbpf: "no .text section found yet sub-program call exists").
    #[error(
        "function '{function}': insn {insn}: {what} target is not the start of a function in .text"
    )]
    BadCallTarget {
        /// The calling function.
        function: String,
        /// The instruction, relative to the function.
        insn: usize,
        /// `call` or `func address`.
        what: &'static str,
    },
    /// A relocation on an instruction that cannot take it.
    #[error("function '{function}': insn {insn}: {reason}")]
    BadRelocation {
        /// The function.
        function: String,
        /// The instruction, relative to the function.
        insn: usize,
        /// What is wrong.
        reason: String,
    },
    /// The object has CO-RE relocations but no target BTF was given.
    #[error("function '{function}' has CO-RE relocations but no target BTF was given")]
    NoCoreTarget {
        /// The function.
        function: String,
    },
    /// A CO-RE relocation failed.
    #[error("function '{function}': insn {insn}: {error}")]
    Core {
        /// The function holding the instruction.
        function: String,
        /// The instruction, relative to the function.
        insn: usize,
        /// The record's index among the function's records.
        index: usize,
        /// What failed.
        error: CoreError,
    },
    /// The kernel configuration could not be read.
    #[error(transparent)]
    Kconfig(#[from] KconfigError),
    /// A strong extern has no value (libbpf's text).
    #[error("extern '{name}' (strong): not resolved")]
    Unresolved {
        /// The extern.
        name: String,
    },
    /// An extern cannot be given a value.
    #[error("extern '{name}': {reason}")]
    Extern {
        /// The extern.
        name: String,
        /// What is wrong.
        reason: String,
    },
}

impl LinkError {
    pub(crate) fn object(kind: LinkErrorKind) -> LinkError {
        LinkError {
            program: None,
            kind: Box::new(kind),
        }
    }

    pub(crate) fn in_program(self, program: &str) -> LinkError {
        LinkError {
            program: Some(self.program.unwrap_or_else(|| program.to_string())),
            kind: self.kind,
        }
    }
}

impl From<LinkErrorKind> for LinkError {
    fn from(kind: LinkErrorKind) -> LinkError {
        LinkError::object(kind)
    }
}
