//! Instruction-set levels (LLVM's `-mcpu=v1..v4`) and the conformance groups of RFC 9669.

use std::fmt;
use std::str::FromStr;

/// An instruction-set level, as LLVM's `-mcpu` names them.
///
/// - v1: the base instruction set (ALU, ALU32, JMP, loads and stores, `lock` add, calls).
/// - v2: adds the `<`/`<=` jumps (`jlt`, `jle`, `jslt`, `jsle`).
/// - v3: adds the JMP32 class and the fetching atomics (fetch add/or/and/xor, xchg, cmpxchg).
/// - v4: adds sign-extending loads and movs, `sdiv`/`smod`, unconditional `bswap` and `gotol`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub enum Cpu {
    /// The base instruction set.
    V1,
    /// v1 plus the less-than jumps.
    V2,
    /// v2 plus JMP32 and fetching atomics.
    V3,
    /// v3 plus the signed and byte-swap extensions.
    #[default]
    V4,
}

impl Cpu {
    /// All levels, oldest first.
    pub const ALL: [Cpu; 4] = [Cpu::V1, Cpu::V2, Cpu::V3, Cpu::V4];
}

impl fmt::Display for Cpu {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Cpu::V1 => "v1",
            Cpu::V2 => "v2",
            Cpu::V3 => "v3",
            Cpu::V4 => "v4",
        })
    }
}

/// The text was not one of `v1`, `v2`, `v3`, `v4`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown cpu `{0}`: expected v1, v2, v3 or v4")]
pub struct UnknownCpu(pub String);

impl FromStr for Cpu {
    type Err = UnknownCpu;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "v1" => Ok(Cpu::V1),
            "v2" => Ok(Cpu::V2),
            "v3" => Ok(Cpu::V3),
            "v4" => Ok(Cpu::V4),
            _ => Err(UnknownCpu(s.to_string())),
        }
    }
}

/// The conformance groups of RFC 9669, section 2.4: sets of instructions a runtime may support.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Group {
    /// 32-bit base instructions.
    Base32,
    /// 64-bit base instructions (includes base32).
    Base64,
    /// 32-bit atomic instructions.
    Atomic32,
    /// 64-bit atomic instructions.
    Atomic64,
    /// 32-bit multiplication, division and modulo.
    Divmul32,
    /// 64-bit multiplication, division and modulo.
    Divmul64,
    /// The legacy packet access instructions.
    Packet,
    /// The call-by-register instruction.
    Callx,
}

impl fmt::Display for Group {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Group::Base32 => "base32",
            Group::Base64 => "base64",
            Group::Atomic32 => "atomic32",
            Group::Atomic64 => "atomic64",
            Group::Divmul32 => "divmul32",
            Group::Divmul64 => "divmul64",
            Group::Packet => "packet",
            Group::Callx => "callx",
        })
    }
}
