//! The aarch64 instruction layer: one method per instruction form the backend emits, each a
//! single dynasmrt `dynasm!` encoding, plus our own fallbacks where an immediate has no
//! encoding (constants built with `movz`/`movn`/`movk`, offsets and operands moved to a
//! register first).
//!
//! dynasmrt checks a dynamic immediate only when the code runs the encoder, and panics when it
//! does not fit; every method here therefore takes only values its caller has checked
//! (the `*_fits` functions below), and the `*_const` methods pick an encodable form or fall
//! back. Untrusted bytecode never reaches dynasmrt with an immediate it cannot encode.
//!
//! The encoding test (`tests.rs` beside this file) calls every method and compares LLVM's
//! disassembly of the bytes with the instruction the method is meant to emit.

// dynasm expands dynamic registers `X(r)` to `r.into()`, which clippy flags for a `u8`.
#![allow(clippy::useless_conversion)]

use dynasmrt::aarch64::{
    Aarch64Relocation, encode_logical_immediate_32bit, encode_logical_immediate_64bit,
};
use dynasmrt::{DynamicLabel, DynasmApi, DynasmLabelApi, dynasm};

use crate::assembler::{Assembler, Emitted};

/// A host register number, 0-30; 31 is the zero register (`xzr`) or `sp`, by form.
pub type R = u8;

/// The zero register in forms that read or write `xzr`/`wzr`.
pub const ZR: R = 31;
/// The stack pointer in forms that take `sp`.
pub const SP: R = 31;

macro_rules! a64 {
    ($ops:expr; $($t:tt)*) => {
        dynasm!($ops ; .arch aarch64 ; $($t)*)
    };
}

/// A condition code of `b.cond`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Cc {
    /// Equal.
    Eq,
    /// Not equal.
    Ne,
    /// Unsigned higher or same (carry set).
    Hs,
    /// Unsigned lower (carry clear).
    Lo,
    /// Unsigned higher.
    Hi,
    /// Unsigned lower or same.
    Ls,
    /// Signed greater or equal.
    Ge,
    /// Signed less.
    Lt,
    /// Signed greater.
    Gt,
    /// Signed less or equal.
    Le,
}

impl Cc {
    /// The condition that holds exactly when `self` does not.
    pub fn invert(self) -> Cc {
        match self {
            Cc::Eq => Cc::Ne,
            Cc::Ne => Cc::Eq,
            Cc::Hs => Cc::Lo,
            Cc::Lo => Cc::Hs,
            Cc::Hi => Cc::Ls,
            Cc::Ls => Cc::Hi,
            Cc::Ge => Cc::Lt,
            Cc::Lt => Cc::Ge,
            Cc::Gt => Cc::Le,
            Cc::Le => Cc::Gt,
        }
    }
}

/// Logical operations with a register or bitmask-immediate operand.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Logic {
    /// `and`.
    And,
    /// `orr`.
    Orr,
    /// `eor`.
    Eor,
}

/// Shifts by a register (`lslv`...) or an immediate.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Shift {
    /// Logical left.
    Lsl,
    /// Logical right.
    Lsr,
    /// Arithmetic right.
    Asr,
}

/// Loads and stores of one register.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MemOp {
    /// `ldrb w`: a byte, zero-extended.
    LdrB,
    /// `ldrh w`.
    LdrH,
    /// `ldr w`.
    LdrW,
    /// `ldr x`.
    LdrX,
    /// `ldrsb x`: a byte, sign-extended to 64 bits.
    LdrsbX,
    /// `ldrsh x`.
    LdrshX,
    /// `ldrsw x`.
    LdrswX,
    /// `strb w`.
    StrB,
    /// `strh w`.
    StrH,
    /// `str w`.
    StrW,
    /// `str x`.
    StrX,
}

impl MemOp {
    /// Bytes accessed.
    pub fn bytes(self) -> i32 {
        match self {
            MemOp::LdrB | MemOp::LdrsbX | MemOp::StrB => 1,
            MemOp::LdrH | MemOp::LdrshX | MemOp::StrH => 2,
            MemOp::LdrW | MemOp::LdrswX | MemOp::StrW => 4,
            MemOp::LdrX | MemOp::StrX => 8,
        }
    }
}

/// The address of a load or store.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Addr {
    /// `[base, #off]`: any offset; [`Asm::ldst`] moves one no form encodes to a register.
    Imm(R, i32),
    /// `[base, index]`.
    Index(R, R),
}

/// Read-modify-write instructions of the Large System Extensions (all with acquire and
/// release semantics, the `al` forms, except the non-fetching `st*` ones).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Lse {
    /// `ldaddal`.
    Add,
    /// `ldclral`: clears the bits set in the operand.
    Clr,
    /// `ldsetal`.
    Set,
    /// `ldeoral`.
    Eor,
    /// `swpal`.
    Swp,
}

/// Whether `v` is an `add`/`sub` immediate: 12 bits, optionally shifted left by 12.
pub fn arith_imm_fits(v: u64) -> bool {
    v < 1 << 12 || (v & 0xfff == 0 && v < 1 << 24)
}

/// Whether `v` is a bitmask immediate of `and`/`orr`/`eor`/`tst` for the width.
pub fn logic_imm_fits(sf: bool, v: u64) -> bool {
    if sf {
        encode_logical_immediate_64bit(v).is_some()
    } else {
        u32::try_from(v).is_ok_and(|v| encode_logical_immediate_32bit(v).is_some())
    }
}

/// Whether `[base, #off]` encodes for `op`: the unsigned scaled or the unscaled signed form.
pub fn mem_imm_fits(op: MemOp, off: i32) -> bool {
    let n = op.bytes();
    (-256..256).contains(&off) || (off >= 0 && off % n == 0 && off / n < 4096)
}

/// An assembler: the machine code so far and its labels.
pub struct Asm {
    ops: Assembler<Aarch64Relocation>,
}

impl Asm {
    /// An empty assembler with room for about `bytes` bytes.
    pub fn with_capacity(bytes: usize, labels: usize) -> Asm {
        Asm {
            ops: Assembler::new(bytes, labels),
        }
    }

    /// Bytes emitted so far.
    pub fn offset(&self) -> usize {
        self.ops.offset().0
    }

    /// A new unbound label.
    pub fn new_label(&mut self) -> DynamicLabel {
        self.ops.new_dynamic_label()
    }

    /// Binds `label` here.
    pub fn bind(&mut self, label: DynamicLabel) {
        a64!(self.ops ; =>label);
    }

    /// Where `label` is bound, if it is.
    pub fn bound_at(&self, label: DynamicLabel) -> Option<usize> {
        self.ops.labels().resolve_dynamic(label).ok().map(|o| o.0)
    }

    /// The bytes, every label resolved; an error names a branch that cannot reach its label.
    pub fn finish(self) -> Result<Emitted, String> {
        self.ops.finish().map_err(|e| e.to_string())
    }

    // Moves and constants.

    /// `mov rd, rm`.
    pub fn mov(&mut self, sf: bool, rd: R, rm: R) {
        if sf {
            a64!(self.ops ; mov X(rd), X(rm));
        } else {
            a64!(self.ops ; mov W(rd), W(rm));
        }
    }

    /// `mov rd, sp` or `mov sp, rn` (`add` with 0, where 31 is `sp`).
    pub fn mov_sp(&mut self, rd: R, rn: R) {
        a64!(self.ops ; add XSP(rd), XSP(rn), #0);
    }

    /// `movz rd, #imm, lsl #shift`.
    pub fn movz(&mut self, sf: bool, rd: R, imm: u16, shift: u8) {
        let imm = imm as u32;
        match (sf, shift) {
            (true, 0) => a64!(self.ops ; movz X(rd), #imm),
            (true, 16) => a64!(self.ops ; movz X(rd), #imm, lsl #16),
            (true, 32) => a64!(self.ops ; movz X(rd), #imm, lsl #32),
            (true, _) => a64!(self.ops ; movz X(rd), #imm, lsl #48),
            (false, 0) => a64!(self.ops ; movz W(rd), #imm),
            (false, _) => a64!(self.ops ; movz W(rd), #imm, lsl #16),
        }
    }

    /// `movn rd, #imm, lsl #shift`: the complement of the shifted immediate.
    pub fn movn(&mut self, sf: bool, rd: R, imm: u16, shift: u8) {
        let imm = imm as u32;
        match (sf, shift) {
            (true, 0) => a64!(self.ops ; movn X(rd), #imm),
            (true, 16) => a64!(self.ops ; movn X(rd), #imm, lsl #16),
            (true, 32) => a64!(self.ops ; movn X(rd), #imm, lsl #32),
            (true, _) => a64!(self.ops ; movn X(rd), #imm, lsl #48),
            (false, 0) => a64!(self.ops ; movn W(rd), #imm),
            (false, _) => a64!(self.ops ; movn W(rd), #imm, lsl #16),
        }
    }

    /// `movk rd, #imm, lsl #shift`: replaces one 16-bit field.
    pub fn movk(&mut self, sf: bool, rd: R, imm: u16, shift: u8) {
        let imm = imm as u32;
        match (sf, shift) {
            (true, 0) => a64!(self.ops ; movk X(rd), #imm),
            (true, 16) => a64!(self.ops ; movk X(rd), #imm, lsl #16),
            (true, 32) => a64!(self.ops ; movk X(rd), #imm, lsl #32),
            (true, _) => a64!(self.ops ; movk X(rd), #imm, lsl #48),
            (false, 0) => a64!(self.ops ; movk W(rd), #imm),
            (false, _) => a64!(self.ops ; movk W(rd), #imm, lsl #16),
        }
    }

    /// `rd = value` (the low 32 bits, zero-extended, when `!sf`), in the fewest instructions
    /// among: a bitmask `orr`, `movz` then `movk`s, `movn` then `movk`s.
    pub fn mov_const(&mut self, sf: bool, rd: R, value: u64) {
        let (value, fields) = if sf {
            (value, 4)
        } else {
            (value & 0xffff_ffff, 2)
        };
        let field = |i: usize| (value >> (16 * i)) as u16;
        let zeros = (0..fields).filter(|&i| field(i) == 0).count();
        let ones = (0..fields).filter(|&i| field(i) == 0xffff).count();
        if value != 0 && zeros < fields - 1 && ones < fields - 1 && logic_imm_fits(sf, value) {
            self.logic_imm(Logic::Orr, sf, rd, ZR, value);
            return;
        }
        // Start from all zeros or all ones, whichever leaves fewer fields to fill.
        let inverted = ones > zeros;
        let background = if inverted { 0xffff } else { 0 };
        let first = (0..fields).find(|&i| field(i) != background).unwrap_or(0);
        let shift = (16 * first) as u8;
        if inverted {
            self.movn(sf, rd, !field(first), shift);
        } else {
            self.movz(sf, rd, field(first), shift);
        }
        for i in first + 1..fields {
            if field(i) != background {
                self.movk(sf, rd, field(i), (16 * i) as u8);
            }
        }
    }

    // Arithmetic.

    /// `add rd, rn, #imm` (`rd`, `rn` may be `sp`); `imm` must satisfy [`arith_imm_fits`].
    pub fn add_imm(&mut self, sf: bool, rd: R, rn: R, imm: u64) {
        let (low, high) = ((imm & 0xfff) as u32, (imm >> 12) as u32);
        match (sf, high) {
            (true, 0) => a64!(self.ops ; add XSP(rd), XSP(rn), #low),
            (true, _) => a64!(self.ops ; add XSP(rd), XSP(rn), #high, lsl #12),
            (false, 0) => a64!(self.ops ; add WSP(rd), WSP(rn), #low),
            (false, _) => a64!(self.ops ; add WSP(rd), WSP(rn), #high, lsl #12),
        }
    }

    /// `sub rd, rn, #imm`; `imm` must satisfy [`arith_imm_fits`].
    pub fn sub_imm(&mut self, sf: bool, rd: R, rn: R, imm: u64) {
        let (low, high) = ((imm & 0xfff) as u32, (imm >> 12) as u32);
        match (sf, high) {
            (true, 0) => a64!(self.ops ; sub XSP(rd), XSP(rn), #low),
            (true, _) => a64!(self.ops ; sub XSP(rd), XSP(rn), #high, lsl #12),
            (false, 0) => a64!(self.ops ; sub WSP(rd), WSP(rn), #low),
            (false, _) => a64!(self.ops ; sub WSP(rd), WSP(rn), #high, lsl #12),
        }
    }

    /// `subs rd, rn, #imm`, setting the flags; `imm` must satisfy [`arith_imm_fits`].
    pub fn subs_imm(&mut self, sf: bool, rd: R, rn: R, imm: u64) {
        let (low, high) = ((imm & 0xfff) as u32, (imm >> 12) as u32);
        match (sf, high) {
            (true, 0) => a64!(self.ops ; subs X(rd), XSP(rn), #low),
            (true, _) => a64!(self.ops ; subs X(rd), XSP(rn), #high, lsl #12),
            (false, 0) => a64!(self.ops ; subs W(rd), WSP(rn), #low),
            (false, _) => a64!(self.ops ; subs W(rd), WSP(rn), #high, lsl #12),
        }
    }

    /// `adds rd, rn, #imm` (`cmn` when `rd` is the zero register); `imm` must satisfy
    /// [`arith_imm_fits`].
    pub fn adds_imm(&mut self, sf: bool, rd: R, rn: R, imm: u64) {
        let (low, high) = ((imm & 0xfff) as u32, (imm >> 12) as u32);
        match (sf, high) {
            (true, 0) => a64!(self.ops ; adds X(rd), XSP(rn), #low),
            (true, _) => a64!(self.ops ; adds X(rd), XSP(rn), #high, lsl #12),
            (false, 0) => a64!(self.ops ; adds W(rd), WSP(rn), #low),
            (false, _) => a64!(self.ops ; adds W(rd), WSP(rn), #high, lsl #12),
        }
    }

    /// `add rd, rn, rm, lsl #shift` (`shift` below 64, or 32 for `!sf`).
    pub fn add_reg(&mut self, sf: bool, rd: R, rn: R, rm: R, shift: u8) {
        let shift = shift as u32;
        if sf {
            a64!(self.ops ; add X(rd), X(rn), X(rm), lsl #shift);
        } else {
            a64!(self.ops ; add W(rd), W(rn), W(rm), lsl #shift);
        }
    }

    /// `sub rd, rn, rm`.
    pub fn sub_reg(&mut self, sf: bool, rd: R, rn: R, rm: R) {
        if sf {
            a64!(self.ops ; sub X(rd), X(rn), X(rm));
        } else {
            a64!(self.ops ; sub W(rd), W(rn), W(rm));
        }
    }

    /// `subs rd, rn, rm` (`cmp rn, rm` when `rd` is the zero register).
    pub fn subs_reg(&mut self, sf: bool, rd: R, rn: R, rm: R) {
        if sf {
            a64!(self.ops ; subs X(rd), X(rn), X(rm));
        } else {
            a64!(self.ops ; subs W(rd), W(rn), W(rm));
        }
    }

    /// `neg rd, rm`.
    pub fn neg(&mut self, sf: bool, rd: R, rm: R) {
        if sf {
            a64!(self.ops ; neg X(rd), X(rm));
        } else {
            a64!(self.ops ; neg W(rd), W(rm));
        }
    }

    /// `mul rd, rn, rm`.
    pub fn mul(&mut self, sf: bool, rd: R, rn: R, rm: R) {
        if sf {
            a64!(self.ops ; mul X(rd), X(rn), X(rm));
        } else {
            a64!(self.ops ; mul W(rd), W(rn), W(rm));
        }
    }

    /// `udiv rd, rn, rm` (or `sdiv`): by zero the result is 0, and `sdiv` of the most
    /// negative value by -1 is that value; the CPU never traps.
    pub fn div(&mut self, signed: bool, sf: bool, rd: R, rn: R, rm: R) {
        match (signed, sf) {
            (false, true) => a64!(self.ops ; udiv X(rd), X(rn), X(rm)),
            (false, false) => a64!(self.ops ; udiv W(rd), W(rn), W(rm)),
            (true, true) => a64!(self.ops ; sdiv X(rd), X(rn), X(rm)),
            (true, false) => a64!(self.ops ; sdiv W(rd), W(rn), W(rm)),
        }
    }

    /// `msub rd, rn, rm, ra`: `ra - rn * rm`.
    pub fn msub(&mut self, sf: bool, rd: R, rn: R, rm: R, ra: R) {
        if sf {
            a64!(self.ops ; msub X(rd), X(rn), X(rm), X(ra));
        } else {
            a64!(self.ops ; msub W(rd), W(rn), W(rm), W(ra));
        }
    }

    // Logic.

    /// `and`/`orr`/`eor rd, rn, rm`.
    pub fn logic_reg(&mut self, op: Logic, sf: bool, rd: R, rn: R, rm: R) {
        match (op, sf) {
            (Logic::And, true) => a64!(self.ops ; and X(rd), X(rn), X(rm)),
            (Logic::And, false) => a64!(self.ops ; and W(rd), W(rn), W(rm)),
            (Logic::Orr, true) => a64!(self.ops ; orr X(rd), X(rn), X(rm)),
            (Logic::Orr, false) => a64!(self.ops ; orr W(rd), W(rn), W(rm)),
            (Logic::Eor, true) => a64!(self.ops ; eor X(rd), X(rn), X(rm)),
            (Logic::Eor, false) => a64!(self.ops ; eor W(rd), W(rn), W(rm)),
        }
    }

    /// `and`/`orr`/`eor rd, rn, #imm` (`rd` may be `sp`, as the encoding says; we never ask
    /// for it); `imm` must satisfy [`logic_imm_fits`].
    pub fn logic_imm(&mut self, op: Logic, sf: bool, rd: R, rn: R, imm: u64) {
        let imm32 = imm as u32;
        match (op, sf) {
            (Logic::And, true) => a64!(self.ops ; and XSP(rd), X(rn), #imm),
            (Logic::And, false) => a64!(self.ops ; and WSP(rd), W(rn), #imm32),
            (Logic::Orr, true) => a64!(self.ops ; orr XSP(rd), X(rn), #imm),
            (Logic::Orr, false) => a64!(self.ops ; orr WSP(rd), W(rn), #imm32),
            (Logic::Eor, true) => a64!(self.ops ; eor XSP(rd), X(rn), #imm),
            (Logic::Eor, false) => a64!(self.ops ; eor WSP(rd), W(rn), #imm32),
        }
    }

    /// `tst rn, rm`.
    pub fn tst_reg(&mut self, sf: bool, rn: R, rm: R) {
        if sf {
            a64!(self.ops ; tst X(rn), X(rm));
        } else {
            a64!(self.ops ; tst W(rn), W(rm));
        }
    }

    /// `tst rn, #imm`; `imm` must satisfy [`logic_imm_fits`].
    pub fn tst_imm(&mut self, sf: bool, rn: R, imm: u64) {
        if sf {
            a64!(self.ops ; tst X(rn), #imm);
        } else {
            let imm = imm as u32;
            a64!(self.ops ; tst W(rn), #imm);
        }
    }

    /// `mvn rd, rm`.
    pub fn mvn(&mut self, sf: bool, rd: R, rm: R) {
        if sf {
            a64!(self.ops ; mvn X(rd), X(rm));
        } else {
            a64!(self.ops ; mvn W(rd), W(rm));
        }
    }

    // Shifts, extensions, byte order.

    /// `lslv`/`lsrv`/`asrv rd, rn, rm`: the amount is taken modulo the width.
    pub fn shift_reg(&mut self, op: Shift, sf: bool, rd: R, rn: R, rm: R) {
        match (op, sf) {
            (Shift::Lsl, true) => a64!(self.ops ; lsl X(rd), X(rn), X(rm)),
            (Shift::Lsl, false) => a64!(self.ops ; lsl W(rd), W(rn), W(rm)),
            (Shift::Lsr, true) => a64!(self.ops ; lsr X(rd), X(rn), X(rm)),
            (Shift::Lsr, false) => a64!(self.ops ; lsr W(rd), W(rn), W(rm)),
            (Shift::Asr, true) => a64!(self.ops ; asr X(rd), X(rn), X(rm)),
            (Shift::Asr, false) => a64!(self.ops ; asr W(rd), W(rn), W(rm)),
        }
    }

    /// `lsl`/`lsr`/`asr rd, rn, #amount`, `amount` in `1..64` (`1..32` for `!sf`).
    pub fn shift_imm(&mut self, op: Shift, sf: bool, rd: R, rn: R, amount: u8) {
        let n = amount as u32;
        match (op, sf) {
            (Shift::Lsl, true) => a64!(self.ops ; lsl X(rd), X(rn), #n),
            (Shift::Lsl, false) => a64!(self.ops ; lsl W(rd), W(rn), #n),
            (Shift::Lsr, true) => a64!(self.ops ; lsr X(rd), X(rn), #n),
            (Shift::Lsr, false) => a64!(self.ops ; lsr W(rd), W(rn), #n),
            (Shift::Asr, true) => a64!(self.ops ; asr X(rd), X(rn), #n),
            (Shift::Asr, false) => a64!(self.ops ; asr W(rd), W(rn), #n),
        }
    }

    /// `sxtb`/`sxth`/`sxtw rd, wn`: sign-extends the low `bits` (32 only with `sf`).
    pub fn sxt(&mut self, sf: bool, bits: u8, rd: R, rn: R) {
        match (sf, bits) {
            (true, 8) => a64!(self.ops ; sxtb X(rd), W(rn)),
            (true, 16) => a64!(self.ops ; sxth X(rd), W(rn)),
            (true, _) => a64!(self.ops ; sxtw X(rd), W(rn)),
            (false, 8) => a64!(self.ops ; sxtb W(rd), W(rn)),
            (false, _) => a64!(self.ops ; sxth W(rd), W(rn)),
        }
    }

    /// `uxth wd, wn`: the low 16 bits, zero-extended to 64.
    pub fn uxth(&mut self, rd: R, rn: R) {
        a64!(self.ops ; uxth W(rd), W(rn));
    }

    /// `rev16 wd, wn`: swaps the bytes of each halfword.
    pub fn rev16(&mut self, rd: R, rn: R) {
        a64!(self.ops ; rev16 W(rd), W(rn));
    }

    /// `rev rd, rn`: reverses the bytes of the whole register.
    pub fn rev(&mut self, sf: bool, rd: R, rn: R) {
        if sf {
            a64!(self.ops ; rev X(rd), X(rn));
        } else {
            a64!(self.ops ; rev W(rd), W(rn));
        }
    }

    // Memory.

    /// A load or store of `rt` at `addr`; an offset no form encodes goes through `scratch`.
    pub fn ldst(&mut self, op: MemOp, rt: R, addr: Addr, scratch: R) {
        match addr {
            Addr::Imm(base, off) if mem_imm_fits(op, off) => self.ldst_imm(op, rt, base, off),
            Addr::Imm(base, off) => {
                self.mov_const(true, scratch, off as i64 as u64);
                self.ldst_index(op, rt, base, scratch);
            }
            Addr::Index(base, index) => self.ldst_index(op, rt, base, index),
        }
    }

    /// `[base, #off]`, `off` satisfying [`mem_imm_fits`]: `ldur`/`stur` for small signed
    /// offsets, otherwise the unsigned scaled form.
    fn ldst_imm(&mut self, op: MemOp, rt: R, base: R, off: i32) {
        macro_rules! arms {
            ($($op:ident => $scaled:ident, $unscaled:ident, $reg:ident;)*) => {
                match op {
                    $(MemOp::$op if (-256..256).contains(&off) => {
                        a64!(self.ops ; $unscaled $reg(rt), [XSP(base), #off]);
                    }
                    MemOp::$op => {
                        let off = off as u32;
                        a64!(self.ops ; $scaled $reg(rt), [XSP(base), #off]);
                    })*
                }
            };
        }
        arms! {
            LdrB => ldrb, ldurb, W;
            LdrH => ldrh, ldurh, W;
            LdrW => ldr, ldur, W;
            LdrX => ldr, ldur, X;
            LdrsbX => ldrsb, ldursb, X;
            LdrshX => ldrsh, ldursh, X;
            LdrswX => ldrsw, ldursw, X;
            StrB => strb, sturb, W;
            StrH => strh, sturh, W;
            StrW => str, stur, W;
            StrX => str, stur, X;
        }
    }

    /// `[base, index]`.
    fn ldst_index(&mut self, op: MemOp, rt: R, base: R, index: R) {
        match op {
            MemOp::LdrB => a64!(self.ops ; ldrb W(rt), [XSP(base), X(index)]),
            MemOp::LdrH => a64!(self.ops ; ldrh W(rt), [XSP(base), X(index)]),
            MemOp::LdrW => a64!(self.ops ; ldr W(rt), [XSP(base), X(index)]),
            MemOp::LdrX => a64!(self.ops ; ldr X(rt), [XSP(base), X(index)]),
            MemOp::LdrsbX => a64!(self.ops ; ldrsb X(rt), [XSP(base), X(index)]),
            MemOp::LdrshX => a64!(self.ops ; ldrsh X(rt), [XSP(base), X(index)]),
            MemOp::LdrswX => a64!(self.ops ; ldrsw X(rt), [XSP(base), X(index)]),
            MemOp::StrB => a64!(self.ops ; strb W(rt), [XSP(base), X(index)]),
            MemOp::StrH => a64!(self.ops ; strh W(rt), [XSP(base), X(index)]),
            MemOp::StrW => a64!(self.ops ; str W(rt), [XSP(base), X(index)]),
            MemOp::StrX => a64!(self.ops ; str X(rt), [XSP(base), X(index)]),
        }
    }

    /// `stp r1, r2, [sp, #-bytes]!`: pushes a pair, `bytes` a multiple of 16 up to 512.
    pub fn push_pair(&mut self, r1: R, r2: R, bytes: i32) {
        let off = -bytes;
        a64!(self.ops ; stp X(r1), X(r2), [sp, #off]!);
    }

    /// `ldp r1, r2, [sp], #bytes`: pops a pair.
    pub fn pop_pair(&mut self, r1: R, r2: R, bytes: i32) {
        a64!(self.ops ; ldp X(r1), X(r2), [sp], #bytes);
    }

    /// `str rt, [sp, #-16]!`: pushes one register, keeping `sp` 16-byte aligned.
    pub fn push(&mut self, rt: R) {
        a64!(self.ops ; str X(rt), [sp, #-16]!);
    }

    /// `ldr rt, [sp], #16`: pops what [`Asm::push`] pushed.
    pub fn pop(&mut self, rt: R) {
        a64!(self.ops ; ldr X(rt), [sp], #16);
    }

    /// `stp r1, r2, [base, #off]` (`off` a multiple of 8 in `-512..504`).
    pub fn stp(&mut self, r1: R, r2: R, base: R, off: i32) {
        a64!(self.ops ; stp X(r1), X(r2), [XSP(base), #off]);
    }

    /// `ldp r1, r2, [base, #off]`.
    pub fn ldp(&mut self, r1: R, r2: R, base: R, off: i32) {
        a64!(self.ops ; ldp X(r1), X(r2), [XSP(base), #off]);
    }

    /// `ldxr rt, [rn]`: a load that opens an exclusive monitor.
    pub fn ldxr(&mut self, sf: bool, rt: R, rn: R) {
        if sf {
            a64!(self.ops ; ldxr X(rt), [XSP(rn)]);
        } else {
            a64!(self.ops ; ldxr W(rt), [XSP(rn)]);
        }
    }

    /// `stlxr ws, rt, [rn]`: a releasing store if the monitor held; `ws` is 0 when it did.
    pub fn stlxr(&mut self, sf: bool, ws: R, rt: R, rn: R) {
        if sf {
            a64!(self.ops ; stlxr W(ws), X(rt), [XSP(rn)]);
        } else {
            a64!(self.ops ; stlxr W(ws), W(rt), [XSP(rn)]);
        }
    }

    /// `dmb ish`: a full barrier for the inner shareable domain.
    pub fn dmb_ish(&mut self) {
        a64!(self.ops ; dmb ish);
    }

    /// An LSE read-modify-write `ldaddal rs, rt, [rn]` (and kin): memory gets
    /// `old op rs`, `rt` gets `old`.
    pub fn lse(&mut self, op: Lse, sf: bool, rs: R, rt: R, rn: R) {
        match (op, sf) {
            (Lse::Add, true) => a64!(self.ops ; ldaddal X(rs), X(rt), [XSP(rn)]),
            (Lse::Add, false) => a64!(self.ops ; ldaddal W(rs), W(rt), [XSP(rn)]),
            (Lse::Clr, true) => a64!(self.ops ; ldclral X(rs), X(rt), [XSP(rn)]),
            (Lse::Clr, false) => a64!(self.ops ; ldclral W(rs), W(rt), [XSP(rn)]),
            (Lse::Set, true) => a64!(self.ops ; ldsetal X(rs), X(rt), [XSP(rn)]),
            (Lse::Set, false) => a64!(self.ops ; ldsetal W(rs), W(rt), [XSP(rn)]),
            (Lse::Eor, true) => a64!(self.ops ; ldeoral X(rs), X(rt), [XSP(rn)]),
            (Lse::Eor, false) => a64!(self.ops ; ldeoral W(rs), W(rt), [XSP(rn)]),
            (Lse::Swp, true) => a64!(self.ops ; swpal X(rs), X(rt), [XSP(rn)]),
            (Lse::Swp, false) => a64!(self.ops ; swpal W(rs), W(rt), [XSP(rn)]),
        }
    }

    /// The non-fetching LSE forms `stadd rs, [rn]` (and kin), without ordering, as the kernel
    /// emits them for atomics that return nothing. `Swp` has no such form.
    pub fn lse_store(&mut self, op: Lse, sf: bool, rs: R, rn: R) {
        match (op, sf) {
            (Lse::Add, true) => a64!(self.ops ; stadd X(rs), [XSP(rn)]),
            (Lse::Add, false) => a64!(self.ops ; stadd W(rs), [XSP(rn)]),
            (Lse::Clr, true) => a64!(self.ops ; stclr X(rs), [XSP(rn)]),
            (Lse::Clr, false) => a64!(self.ops ; stclr W(rs), [XSP(rn)]),
            (Lse::Set, true) => a64!(self.ops ; stset X(rs), [XSP(rn)]),
            (Lse::Set, false) => a64!(self.ops ; stset W(rs), [XSP(rn)]),
            (Lse::Eor, true) => a64!(self.ops ; steor X(rs), [XSP(rn)]),
            (Lse::Eor, false) => a64!(self.ops ; steor W(rs), [XSP(rn)]),
            (Lse::Swp, _) => self.lse(Lse::Swp, sf, rs, ZR, rn),
        }
    }

    /// `casal rs, rt, [rn]`: if memory equals `rs`, stores `rt`; `rs` gets the old value.
    pub fn casal(&mut self, sf: bool, rs: R, rt: R, rn: R) {
        if sf {
            a64!(self.ops ; casal X(rs), X(rt), [XSP(rn)]);
        } else {
            a64!(self.ops ; casal W(rs), W(rt), [XSP(rn)]);
        }
    }

    // Branches.

    /// `b label` (±128 MiB).
    pub fn b(&mut self, label: DynamicLabel) {
        a64!(self.ops ; b =>label);
    }

    /// `bl label` (±128 MiB).
    pub fn bl(&mut self, label: DynamicLabel) {
        a64!(self.ops ; bl =>label);
    }

    /// `b.cond label` (±1 MiB).
    pub fn b_cond(&mut self, cc: Cc, label: DynamicLabel) {
        match cc {
            Cc::Eq => a64!(self.ops ; b.eq =>label),
            Cc::Ne => a64!(self.ops ; b.ne =>label),
            Cc::Hs => a64!(self.ops ; b.hs =>label),
            Cc::Lo => a64!(self.ops ; b.lo =>label),
            Cc::Hi => a64!(self.ops ; b.hi =>label),
            Cc::Ls => a64!(self.ops ; b.ls =>label),
            Cc::Ge => a64!(self.ops ; b.ge =>label),
            Cc::Lt => a64!(self.ops ; b.lt =>label),
            Cc::Gt => a64!(self.ops ; b.gt =>label),
            Cc::Le => a64!(self.ops ; b.le =>label),
        }
    }

    /// `cbnz wt, label` (±1 MiB; used only for loops within one instruction's code).
    pub fn cbnz_w(&mut self, rt: R, label: DynamicLabel) {
        a64!(self.ops ; cbnz W(rt), =>label);
    }

    /// `br rn`.
    pub fn br(&mut self, rn: R) {
        a64!(self.ops ; br X(rn));
    }

    /// `blr rn`.
    pub fn blr(&mut self, rn: R) {
        a64!(self.ops ; blr X(rn));
    }

    /// `ret` (to `x30`).
    pub fn ret(&mut self) {
        a64!(self.ops ; ret);
    }
}
