//! The running kernel as a verifier and an engine for raw programs (`r1` = the input, `r2` =
//! its length), through [`bpfkit_sys::RawProgram`].

use bpfkit_isa::Insn;
use bpfkit_sys::RawProgram;

use crate::CliError;

/// Loads `body` into the kernel for inputs of `len` bytes. Exit 2 when bpf(2) cannot be used
/// here, exit 1 (with the verifier's log) when the verifier rejects it.
pub fn load(body: &[Insn], len: usize) -> Result<RawProgram, CliError> {
    bpfkit_sys::probe().map_err(|e| {
        CliError::input(format!("the kernel cannot be used as a verifier here: {e}"))
    })?;
    RawProgram::load(body, len).map_err(|e| match e {
        bpfkit_sys::Error::Verifier { log, .. } => CliError::judged(
            "the kernel's verifier rejects the program (as the body of a wrapper passing the \
             input in r1 and its length in r2; the log counts from the wrapper's start, the \
             program starts at 9)",
        )
        .with_details(log),
        e => CliError::input(format!("loading into the kernel: {e}")),
    })
}

/// Fails unless the kernel's verifier accepts `body` for inputs of `len` bytes.
pub fn accept(body: &[Insn], len: usize) -> Result<(), CliError> {
    load(body, len).map(|_| ())
}
