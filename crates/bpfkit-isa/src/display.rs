//! The disassembler: renders an [`Insn`] through its template in either dialect.

use std::fmt::{self, Write};

use crate::insn::Insn;
use crate::reg::Reg;
use crate::template::{Dialect, Hole, Part, RegName, parts};

/// An instruction paired with the dialect to print it in; see [`Insn::display`].
#[derive(Clone, Copy, Debug)]
pub struct DisplayInsn<'a> {
    insn: &'a Insn,
    dialect: Dialect,
}

impl Insn {
    /// Formats this instruction in `dialect`.
    ///
    /// ```
    /// use bpfkit_isa::{Dialect, Insn, Opcode, Reg};
    /// let insn = Insn::new(Opcode::JgtImm).with_dst(Reg::R1).with_imm(5).with_off(1);
    /// assert_eq!(insn.display(Dialect::Llvm).to_string(), "if r1 > 0x5 goto +1");
    /// assert_eq!(insn.display(Dialect::Ubpf).to_string(), "jgt %r1, 5, +1");
    /// ```
    pub fn display(&self, dialect: Dialect) -> DisplayInsn<'_> {
        DisplayInsn {
            insn: self,
            dialect,
        }
    }
}

/// Formats in the LLVM dialect.
impl fmt::Display for Insn {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.display(Dialect::Llvm).fmt(f)
    }
}

impl fmt::Display for DisplayInsn<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let spec = self.insn.spec();
        let template = match self.dialect {
            Dialect::Llvm => spec.llvm,
            Dialect::Ubpf => spec.ubpf,
        };
        for part in parts(template) {
            match part {
                Part::Text(text) => f.write_str(text)?,
                Part::Hole(hole) => write_hole(f, self.insn, self.dialect, hole)?,
            }
        }
        Ok(())
    }
}

fn write_reg(f: &mut fmt::Formatter<'_>, dialect: Dialect, name: RegName, reg: Reg) -> fmt::Result {
    match dialect {
        Dialect::Llvm => write!(f, "{}{}", name.printed(), reg.index()),
        Dialect::Ubpf => write!(f, "%r{}", reg.index()),
    }
}

/// `+N` or `-N`, with `spaced` putting blanks around the sign (` + N`).
fn write_signed(f: &mut fmt::Formatter<'_>, value: i64, spaced: bool) -> fmt::Result {
    let sign = if value < 0 { '-' } else { '+' };
    if spaced {
        write!(f, " {sign} {}", value.unsigned_abs())
    } else {
        write!(f, "{sign}{}", value.unsigned_abs())
    }
}

fn write_hole(
    f: &mut fmt::Formatter<'_>,
    insn: &Insn,
    dialect: Dialect,
    hole: Hole,
) -> fmt::Result {
    match hole {
        Hole::Dst(name) => write_reg(f, dialect, name, insn.dst),
        Hole::Src(name) => write_reg(f, dialect, name, insn.src),
        Hole::Imm => write!(f, "{}", insn.imm),
        Hole::HexImm => {
            let v = insn.imm as i64;
            if v < 0 {
                write!(f, "-{:#x}", v.unsigned_abs())
            } else {
                write!(f, "{v:#x}")
            }
        }
        Hole::Helper => write!(f, "{}", insn.imm as u32),
        Hole::Imm64 => write!(f, "{:#x}", insn.imm64()),
        Hole::NextImm => write!(f, "{}", insn.next_imm),
        Hole::Off => write_signed(f, insn.off as i64, true),
        Hole::OffCompact => write_signed(f, insn.off as i64, false),
        Hole::ImmOff if insn.imm == 0 => Ok(()),
        Hole::ImmOff => write_signed(f, insn.imm as i64, true),
        Hole::JumpOff => write_signed(f, insn.off as i64, false),
        Hole::JumpImm => write_signed(f, insn.imm as i64, false),
        Hole::Kfunc if insn.off == 0 => write!(f, "{}", insn.imm),
        Hole::Kfunc => write!(f, "{}, {}", insn.imm, insn.off),
    }
}

/// Formats a whole program, one instruction per line, in `dialect`.
pub fn disassemble(insns: &[Insn], dialect: Dialect) -> String {
    let mut out = String::new();
    for insn in insns {
        let _ = writeln!(out, "{}", insn.display(dialect));
    }
    out
}
