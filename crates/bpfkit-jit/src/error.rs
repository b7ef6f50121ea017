//! Why compiling failed.

/// The JIT could not compile a VM's programs.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum JitError {
    /// This build has no backend for the host architecture.
    #[error("the JIT has no backend for {0}; use the interpreter")]
    Unsupported(&'static str),
    /// The assembler failed (a bug in a backend).
    #[error("code generation failed: {0}")]
    Emit(String),
    /// Executable memory could not be mapped.
    #[error("cannot map executable memory: {0}")]
    Memory(String),
    /// Trusted mode resolves map value addresses while compiling, and this map does not exist.
    #[error("program {program}, instruction {pc}: map {map} does not exist")]
    NoSuchMap {
        /// The program id.
        program: usize,
        /// The `lddw` instruction.
        pc: usize,
        /// The map id it names.
        map: u64,
    },
    /// Programs were added to a trusted JIT's VM: they were never vetted, so they are not
    /// compiled (and cannot run).
    #[error("programs were added after the trusted JIT was made; they are not compiled")]
    UnvettedPrograms,
}
