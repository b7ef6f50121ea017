//! Choosing and preparing an execution engine: one `--engine` for `run`, `plugin`,
//! `conformance`, `bench` (and `test-run` to come).

use bpfkit_isa::Insn;
use bpfkit_jit::Jit;
use bpfkit_vm::{Fault, Vm};
use clap::ValueEnum;

use crate::CliError;

/// The engines a program can run on.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, ValueEnum)]
pub enum Engine {
    /// The interpreter.
    Interp,
    /// The JIT, checked memory (every access checked, as in the interpreter).
    Jit,
    /// The JIT, trusted memory (host pointers, no checks): only for a program a verifier
    /// accepted. Until bpfkit's verifier lands, the kernel's judges: the program is loaded into
    /// it (needs bpf(2)) as it would run, with `r1` pointing at the input and `r2` its length.
    JitTrusted,
}

impl Engine {
    /// The engine's name on the command line.
    pub fn name(self) -> &'static str {
        match self {
            Engine::Interp => "interp",
            Engine::Jit => "jit",
            Engine::JitTrusted => "jit-trusted",
        }
    }

    /// Fails for the trusted JIT, for commands that run programs no verifier vouched for.
    pub fn untrusted_only(self, command: &str) -> Result<Engine, CliError> {
        match self {
            Engine::JitTrusted => Err(CliError::input(format!(
                "`{command}` runs programs no verifier accepted: use --engine interp or jit"
            ))),
            engine => Ok(engine),
        }
    }
}

/// A VM ready to run on an engine.
pub enum Runner {
    /// On the interpreter.
    Interp(Vm),
    /// Compiled by the JIT.
    Jit(Box<Jit>),
}

impl Runner {
    /// Prepares `vm` for `engine`, compiling it for the JIT. `insns` (the program, for the
    /// trusted JIT's verifier) and `input_len` say what a trusted run will be given.
    pub fn new(
        engine: Engine,
        vm: Vm,
        insns: Option<&[Insn]>,
        input_len: usize,
    ) -> Result<Runner, CliError> {
        let jit_error = |e: bpfkit_jit::JitError| CliError::input(format!("jit: {e}"));
        Ok(match engine {
            Engine::Interp => Runner::Interp(vm),
            Engine::Jit => Runner::Jit(Box::new(Jit::new(vm).map_err(jit_error)?)),
            Engine::JitTrusted => {
                let Some(insns) = insns else {
                    return Err(CliError::input(
                        "--engine jit-trusted takes a raw program (.s or .bin): the kernel's \
                         verifier must accept it before it runs unchecked",
                    ));
                };
                if vm.program_count() != 1 {
                    return Err(CliError::input("--engine jit-trusted runs one program"));
                }
                crate::kernel::accept(insns, input_len)?;
                // SAFETY: the kernel's verifier accepted `insns` (the VM's only program) as
                // the body of a program that passes it `input_len` bytes in `r1` and the
                // length in `r2`, which is how it runs here; it proved every access inside
                // that input, the 512-byte frame, or memory helpers returned, and it allows no
                // helper, map or call our runtime would give different memory.
                Runner::Jit(Box::new(
                    unsafe { Jit::new_trusted(vm) }.map_err(jit_error)?,
                ))
            }
        })
    }

    /// Runs the entry program on `input`.
    pub fn run(&mut self, input: &mut [u8]) -> Result<u64, Fault> {
        match self {
            Runner::Interp(vm) => vm.run(input),
            Runner::Jit(jit) => jit.run(input),
        }
    }

    /// The JIT's code, disassembled, if this is a JIT.
    pub fn dump(&self) -> Option<String> {
        match self {
            Runner::Interp(_) => None,
            Runner::Jit(jit) => Some(jit.dump()),
        }
    }
}

/// The helper the bpf_conformance suite calls: helper 5 returns its first argument.
pub fn add_conformance_helpers(vm: &mut Vm) {
    vm.register_helper(5, |_, args| Ok(args[0]));
}

/// Parses hex bytes, ignoring whitespace between them (`"aa  bb 11"` or `"aabb11"`).
pub fn parse_hex(text: &str) -> Result<Vec<u8>, String> {
    let digits: Vec<u8> = text.bytes().filter(|b| !b.is_ascii_whitespace()).collect();
    if digits.len() % 2 != 0 {
        return Err("odd number of hex digits".into());
    }
    digits
        .chunks(2)
        .enumerate()
        .map(|(i, pair)| {
            std::str::from_utf8(pair)
                .ok()
                .and_then(|s| u8::from_str_radix(s, 16).ok())
                .ok_or_else(|| format!("byte {i}: `{}` is not hex", String::from_utf8_lossy(pair)))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::parse_hex;

    #[test]
    fn hex_with_and_without_spaces() {
        assert_eq!(parse_hex("aa  bb  11 ").unwrap(), vec![0xaa, 0xbb, 0x11]);
        assert_eq!(parse_hex("aabb11\n").unwrap(), vec![0xaa, 0xbb, 0x11]);
        assert!(parse_hex("a").is_err());
        assert!(parse_hex("zz").is_err());
    }
}
