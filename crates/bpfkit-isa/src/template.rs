//! Dialects and the templates of the instruction table (see the table's module docs for holes).

use std::fmt;
use std::str::FromStr;

/// The two assembly dialects people meet.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
pub enum Dialect {
    /// What llvm-objdump and the kernel's verifier log print: `r0 = 1`, `if r1 > 0x5 goto +1`.
    #[default]
    Llvm,
    /// The uBPF / bpf_conformance dialect: `mov %r0, 1`, `jgt %r1, 5, +1`.
    Ubpf,
}

impl fmt::Display for Dialect {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Dialect::Llvm => "llvm",
            Dialect::Ubpf => "ubpf",
        })
    }
}

/// The text was not the name of a dialect.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown dialect `{0}`: expected llvm or ubpf")]
pub struct UnknownDialect(pub String);

impl FromStr for Dialect {
    type Err = UnknownDialect;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "llvm" | "kernel" => Ok(Dialect::Llvm),
            "ubpf" | "conformance" => Ok(Dialect::Ubpf),
            _ => Err(UnknownDialect(s.to_string())),
        }
    }
}

/// How a register hole is named in the LLVM dialect, and which names it accepts.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum RegName {
    /// Printed and accepted as `rN`.
    R,
    /// Printed and accepted as `wN`.
    W,
    /// Printed as `rN`, `wN` also accepted.
    RorW,
    /// Printed as `wN`, `rN` also accepted.
    WorR,
}

impl RegName {
    /// Whether the LLVM-dialect spelling with this prefix (`'r'` or `'w'`) is accepted.
    pub fn accepts(self, prefix: char) -> bool {
        match self {
            RegName::R => prefix == 'r',
            RegName::W => prefix == 'w',
            RegName::RorW | RegName::WorR => prefix == 'r' || prefix == 'w',
        }
    }

    /// The prefix printed in the LLVM dialect.
    pub fn printed(self) -> char {
        match self {
            RegName::R | RegName::RorW => 'r',
            RegName::W | RegName::WorR => 'w',
        }
    }
}

/// An operand hole of a template.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Hole {
    /// The `dst` register.
    Dst(RegName),
    /// The `src` register.
    Src(RegName),
    /// `imm`, signed decimal.
    Imm,
    /// `imm`, signed hexadecimal (jump comparisons in the LLVM dialect).
    HexImm,
    /// `imm` as an unsigned helper number.
    Helper,
    /// The 64-bit immediate of `lddw`.
    Imm64,
    /// The `imm` of the second `lddw` slot.
    NextImm,
    /// A memory offset, spaced: ` + 4`.
    Off,
    /// A memory offset, compact: `+4`; may be omitted when 0.
    OffCompact,
    /// `imm` used as an offset (`skb[r1 + 4]`), omitted when 0.
    ImmOff,
    /// A jump target in the 16-bit `offset`: `+3` or a label.
    JumpOff,
    /// A jump target in the 32-bit `imm`: `+3` or a label.
    JumpImm,
    /// A kfunc: its BTF id, and the module's fd-array index when not 0.
    Kfunc,
}

impl Hole {
    /// The hole named `name` in a template (`d`, `imm`, `joff`, ...).
    pub fn from_name(name: &str) -> Option<Hole> {
        Some(match name {
            "d" => Hole::Dst(RegName::R),
            "dw" => Hole::Dst(RegName::W),
            "dx" => Hole::Dst(RegName::RorW),
            "s" => Hole::Src(RegName::R),
            "sw" => Hole::Src(RegName::W),
            "sx" => Hole::Src(RegName::RorW),
            "swx" => Hole::Src(RegName::WorR),
            "imm" => Hole::Imm,
            "himm" => Hole::HexImm,
            "helper" => Hole::Helper,
            "imm64" => Hole::Imm64,
            "next" => Hole::NextImm,
            "off" => Hole::Off,
            "offc" => Hole::OffCompact,
            "ioff" => Hole::ImmOff,
            "joff" => Hole::JumpOff,
            "jimm" => Hole::JumpImm,
            "kfunc" => Hole::Kfunc,
            _ => return None,
        })
    }
}

/// A piece of a template: literal text or a hole.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Part<'t> {
    /// Text copied as is.
    Text(&'t str),
    /// An operand.
    Hole(Hole),
}

/// Splits a template into text and holes.
///
/// Templates come from the instruction table, where a test checks that every `{...}` names a
/// hole; an unknown name here is therefore a bug in the table and is rendered as text.
pub fn parts(template: &str) -> impl Iterator<Item = Part<'_>> {
    let mut rest = template;
    std::iter::from_fn(move || {
        if rest.is_empty() {
            return None;
        }
        if let Some(body) = rest.strip_prefix('{') {
            if let Some(end) = body.find('}') {
                if let Some(hole) = Hole::from_name(&body[..end]) {
                    rest = &body[end + 1..];
                    return Some(Part::Hole(hole));
                }
            }
        }
        let next = rest[1..].find('{').map_or(rest.len(), |i| i + 1);
        let (text, tail) = rest.split_at(next);
        rest = tail;
        Some(Part::Text(text))
    })
}
