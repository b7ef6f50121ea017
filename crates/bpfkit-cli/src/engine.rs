//! Choosing and preparing an execution engine, shared by `run`, `plugin` and `conformance`.

use bpfkit_vm::Vm;
use clap::ValueEnum;

use crate::CliError;

/// The engines a program can run on.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum Engine {
    /// The interpreter.
    Interp,
    /// The JIT compiler (not built yet).
    Jit,
}

impl Engine {
    /// Fails for engines this build does not have.
    pub fn check(self) -> Result<(), CliError> {
        match self {
            Engine::Interp => Ok(()),
            Engine::Jit => Err(CliError::input(
                "the jit engine is not available yet; use --engine interp",
            )),
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
