//! What is known about a number: a [`Tnum`] plus 64- and 32-bit signed and unsigned ranges, kept
//! in step as the kernel's `reg_bounds_sync` keeps them, and the transfer functions of the ALU
//! instructions and conditional jumps on them (`adjust_scalar_min_max_vals`,
//! `regs_refine_cond_op`, `is_scalar_branch_taken`).

use bpfkit_isa::{AluOp, Cond};

use crate::tnum::Tnum;

/// The value of a scalar register, or the variable part of a pointer's offset.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub struct Scalar {
    /// Known bits.
    pub var_off: Tnum,
    /// Signed 64-bit minimum.
    pub smin: i64,
    /// Signed 64-bit maximum.
    pub smax: i64,
    /// Unsigned 64-bit minimum.
    pub umin: u64,
    /// Unsigned 64-bit maximum.
    pub umax: u64,
    /// Signed minimum of the low 32 bits.
    pub s32_min: i32,
    /// Signed maximum of the low 32 bits.
    pub s32_max: i32,
    /// Unsigned minimum of the low 32 bits.
    pub u32_min: u32,
    /// Unsigned maximum of the low 32 bits.
    pub u32_max: u32,
}

impl Scalar {
    /// Nothing known (`__mark_reg_unknown`).
    pub const UNKNOWN: Scalar = Scalar {
        var_off: Tnum::UNKNOWN,
        smin: i64::MIN,
        smax: i64::MAX,
        umin: 0,
        umax: u64::MAX,
        s32_min: i32::MIN,
        s32_max: i32::MAX,
        u32_min: 0,
        u32_max: u32::MAX,
    };

    /// Exactly `v` (`__mark_reg_known`).
    pub const fn known(v: u64) -> Scalar {
        Scalar {
            var_off: Tnum::constant(v),
            smin: v as i64,
            smax: v as i64,
            umin: v,
            umax: v,
            s32_min: v as i32,
            s32_max: v as i32,
            u32_min: v as u32,
            u32_max: v as u32,
        }
    }

    /// Known zero.
    pub const ZERO: Scalar = Scalar::known(0);

    /// Whether the value is one known number.
    pub fn is_const(&self) -> bool {
        self.var_off.is_const()
    }

    /// Whether the low 32 bits (or all 64) are one known number, as `is_reg_const` asks.
    pub fn is_const_at(&self, w32: bool) -> bool {
        if w32 {
            self.var_off.subreg_is_const()
        } else {
            self.var_off.is_const()
        }
    }

    /// The known value (low 32 bits for `w32`).
    pub fn const_value(&self, w32: bool) -> u64 {
        if w32 {
            self.var_off.value as u32 as u64
        } else {
            self.var_off.value
        }
    }

    /// Whether the value is known to be 0.
    pub fn is_zero(&self) -> bool {
        self.var_off.is_const() && self.var_off.value == 0
    }

    /// Whether `v` is allowed by every component.
    pub fn contains(&self, v: u64) -> bool {
        self.var_off.contains_value(v)
            && (self.smin..=self.smax).contains(&(v as i64))
            && (self.umin..=self.umax).contains(&v)
            && (self.s32_min..=self.s32_max).contains(&(v as i32))
            && (self.u32_min..=self.u32_max).contains(&(v as u32))
    }

    /// Whether the components contradict each other (no value fits): a branch that cannot be
    /// taken, or a bug.
    pub fn is_empty(&self) -> bool {
        self.smin > self.smax
            || self.umin > self.umax
            || self.s32_min > self.s32_max
            || self.u32_min > self.u32_max
            || !self.var_off.contains_value(self.var_off.value)
            || self.var_off.value & self.var_off.mask != 0
    }

    /// Whether every value of `other` is a value of `self` (`range_within` plus `tnum_in`).
    pub fn subsumes(&self, other: &Scalar) -> bool {
        self.umin <= other.umin
            && self.umax >= other.umax
            && self.smin <= other.smin
            && self.smax >= other.smax
            && self.u32_min <= other.u32_min
            && self.u32_max >= other.u32_max
            && self.s32_min <= other.s32_min
            && self.s32_max >= other.s32_max
            && self.var_off.contains(other.var_off)
    }

    /// Forgets the 32-bit ranges (`__mark_reg32_unbounded`).
    pub fn mark32_unbounded(&mut self) {
        self.s32_min = i32::MIN;
        self.s32_max = i32::MAX;
        self.u32_min = 0;
        self.u32_max = u32::MAX;
    }

    /// Forgets the 64-bit ranges (`__mark_reg64_unbounded`).
    pub fn mark64_unbounded(&mut self) {
        self.smin = i64::MIN;
        self.smax = i64::MAX;
        self.umin = 0;
        self.umax = u64::MAX;
    }

    /// Ranges from the tnum (`__update_reg32_bounds` and `__update_reg64_bounds`).
    fn update_bounds(&mut self) {
        let v32 = self.var_off.subreg();
        self.s32_min = self
            .s32_min
            .max((v32.value | (v32.mask & 0x8000_0000)) as u32 as i32);
        self.s32_max = self
            .s32_max
            .min((v32.value | (v32.mask & 0x7fff_ffff)) as u32 as i32);
        self.u32_min = self.u32_min.max(v32.value as u32);
        self.u32_max = self.u32_max.min((v32.value | v32.mask) as u32);

        let v = self.var_off;
        self.smin = self.smin.max((v.value | (v.mask & (1 << 63))) as i64);
        self.smax = self.smax.min((v.value | (v.mask & !(1 << 63))) as i64);
        self.umin = self.umin.max(v.value);
        self.umax = self.umax.min(v.value | v.mask);
    }

    /// `__reg32_deduce_bounds`.
    fn deduce32(&mut self) {
        if self.umin >> 32 == self.umax >> 32 {
            self.u32_min = self.u32_min.max(self.umin as u32);
            self.u32_max = self.u32_max.min(self.umax as u32);
            if (self.umin as i32) <= (self.umax as i32) {
                self.s32_min = self.s32_min.max(self.umin as i32);
                self.s32_max = self.s32_max.min(self.umax as i32);
            }
        }
        if self.smin >> 32 == self.smax >> 32 {
            if (self.smin as u32) <= (self.smax as u32) {
                self.u32_min = self.u32_min.max(self.smin as u32);
                self.u32_max = self.u32_max.min(self.smax as u32);
            }
            if (self.smin as i32) <= (self.smax as i32) {
                self.s32_min = self.s32_min.max(self.smin as i32);
                self.s32_max = self.s32_max.min(self.smax as i32);
            }
        }
        // Upper halves of two consecutive values, lower halves a proper s32 range crossing 0.
        if ((self.umin >> 32) as u32).wrapping_add(1) == (self.umax >> 32) as u32
            && (self.umin as i32) < 0
            && (self.umax as i32) >= 0
        {
            self.s32_min = self.s32_min.max(self.umin as i32);
            self.s32_max = self.s32_max.min(self.umax as i32);
        }
        if ((self.smin >> 32) as u32).wrapping_add(1) == (self.smax >> 32) as u32
            && (self.smin as i32) < 0
            && (self.smax as i32) >= 0
        {
            self.s32_min = self.s32_min.max(self.smin as i32);
            self.s32_max = self.s32_max.min(self.smax as i32);
        }
        if (self.u32_min as i32) <= (self.u32_max as i32) {
            self.s32_min = self.s32_min.max(self.u32_min as i32);
            self.s32_max = self.s32_max.min(self.u32_max as i32);
        }
        if (self.s32_min as u32) <= (self.s32_max as u32) {
            self.u32_min = self.u32_min.max(self.s32_min as u32);
            self.u32_max = self.u32_max.min(self.s32_max as u32);
        }
    }

    /// `__reg64_deduce_bounds`.
    fn deduce64(&mut self) {
        if (self.umin as i64) <= (self.umax as i64) {
            self.smin = self.smin.max(self.umin as i64);
            self.smax = self.smax.min(self.umax as i64);
        }
        if (self.smin as u64) <= (self.smax as u64) {
            self.umin = self.umin.max(self.smin as u64);
            self.umax = self.umax.min(self.smax as u64);
        } else if self.umax < self.smin as u64 {
            // The unsigned range lies in the non-negative half of the signed one.
            self.smin = self.umin as i64;
            self.umax = self.umax.min(self.smax as u64);
        } else if (self.smax as u64) < self.umin {
            // The unsigned range lies in the negative half.
            self.smax = self.umax as i64;
            self.umin = self.umin.max(self.smin as u64);
        }
    }

    /// `__reg_deduce_mixed_bounds`: 64-bit ranges from the 32-bit ones.
    fn deduce_mixed(&mut self) {
        let new_umin = (self.umin & !0xffff_ffff) | self.u32_min as u64;
        let new_umax = (self.umax & !0xffff_ffff) | self.u32_max as u64;
        self.umin = self.umin.max(new_umin);
        self.umax = self.umax.min(new_umax);
        let new_smin = ((self.smin as u64 & !0xffff_ffff) | self.u32_min as u64) as i64;
        let new_smax = ((self.smax as u64 & !0xffff_ffff) | self.u32_max as u64) as i64;
        self.smin = self.smin.max(new_smin);
        self.smax = self.smax.min(new_smax);
        if self.s32_min >= 0 && self.smin >= i32::MIN as i64 && self.smax <= i32::MAX as i64 {
            self.smin = self.s32_min as i64;
            self.smax = self.s32_max as i64;
            self.umin = self.s32_min as u64;
            self.umax = self.s32_max as u64;
            self.var_off = self
                .var_off
                .intersect(Tnum::range(self.smin as u64, self.smax as u64));
        }
    }

    /// `__reg_bound_offset`: the tnum from the ranges.
    fn bound_offset(&mut self) {
        let v64 = self.var_off.intersect(Tnum::range(self.umin, self.umax));
        let v32 = v64
            .subreg()
            .intersect(Tnum::range(self.u32_min as u64, self.u32_max as u64));
        self.var_off = v64.clear_subreg().or(v32);
    }

    /// Brings every component in step with the others (`reg_bounds_sync`).
    pub fn sync(&mut self) {
        if self.is_empty() {
            return;
        }
        self.update_bounds();
        self.deduce32();
        self.deduce64();
        self.deduce_mixed();
        self.deduce32();
        self.deduce64();
        self.deduce_mixed();
        self.bound_offset();
        self.update_bounds();
    }

    /// The low 32 bits, zero-extended (`zext_32_to_64` after a 32-bit operation).
    pub fn zext32(&mut self) {
        self.var_off = self.var_off.subreg();
        self.umin = self.u32_min as u64;
        self.umax = self.u32_max as u64;
        if self.s32_min >= 0 && self.s32_max >= 0 {
            self.smin = self.s32_min as i64;
            self.smax = self.s32_max as i64;
        } else {
            self.smin = 0;
            self.smax = u32::MAX as i64;
        }
    }

    /// Truncation to `size` bytes, as a narrow load or a zero-extending move sees it
    /// (`coerce_reg_to_size`).
    pub fn coerce_to_size(&mut self, size: u32) {
        if size >= 8 {
            return;
        }
        let mask = (1u64 << (size * 8)) - 1;
        self.var_off = self.var_off.cast(size);
        if self.umin & !mask == self.umax & !mask {
            self.umin &= mask;
            self.umax &= mask;
        } else {
            self.umin = 0;
            self.umax = mask;
        }
        // The unsigned range now fits in the positive signed half.
        self.smin = self.umin as i64;
        self.smax = self.umax as i64;
        if size < 4 {
            self.mark32_unbounded();
        }
        self.sync();
    }

    /// Sign extension from the low `bits` (8, 16 or 32) to 64 bits (`movsx`, `ldsx`).
    pub fn sign_extend(&mut self, bits: u32) {
        let shift = 64 - bits;
        let (lo, hi): (i64, i64) = (-(1i64 << (bits - 1)), (1i64 << (bits - 1)) - 1);
        let trunc = |v: u64| ((v << shift) as i64) >> shift;
        let known = self.var_off.cast(bits / 8);
        if known.is_const() {
            *self = Scalar::known(trunc(known.value) as u64);
            return;
        }
        // If the value already fits the narrow signed range, extension changes nothing
        // numerically; otherwise the result is anywhere in it.
        let fits = self.smin >= lo && self.smax <= hi;
        let (smin, smax) = if fits {
            (self.smin, self.smax)
        } else {
            (lo, hi)
        };
        let mut out = Scalar::UNKNOWN;
        out.smin = smin;
        out.smax = smax;
        // Known bits of a sign-extended value: the low part as is; the high part is known when
        // the sign bit is.
        let sign_bit = 1u64 << (bits - 1);
        let low_mask = if bits == 64 {
            u64::MAX
        } else {
            (1u64 << bits) - 1
        };
        out.var_off = if known.mask & sign_bit != 0 {
            Tnum {
                value: known.value,
                mask: known.mask | !low_mask,
            }
        } else if known.value & sign_bit != 0 {
            Tnum {
                value: known.value | !low_mask,
                mask: known.mask,
            }
        } else {
            known
        };
        out.sync();
        *self = out;
    }
}

/// The ALU operations the range analysis computes (`is_safe_to_compute_dst_reg_range`): the
/// others give an unknown result. `src_const` says whether the operand is one known number.
pub fn safe_to_compute(op: AluOp, src: &Scalar, w32: bool) -> bool {
    let bits = if w32 { 32 } else { 64 };
    match op {
        AluOp::Add | AluOp::Sub | AluOp::Neg | AluOp::And | AluOp::Or | AluOp::Xor | AluOp::Mul => {
            true
        }
        AluOp::Lsh | AluOp::Rsh | AluOp::Arsh => {
            let is_const = if w32 {
                src.var_off.subreg_is_const()
                    && src.s32_min == src.s32_max
                    && src.u32_min == src.u32_max
            } else {
                src.var_off.is_const() && src.smin == src.smax && src.umin == src.umax
            };
            let max = if w32 { src.u32_max as u64 } else { src.umax };
            is_const && max < bits
        }
        _ => false,
    }
}

/// `dst = dst op src` on scalars at 64 bits (`w32` false) or 32 bits (then zero-extended):
/// `adjust_scalar_min_max_vals`. Operations outside [`safe_to_compute`] give an unknown value.
pub fn alu(op: AluOp, dst: &Scalar, src: &Scalar, w32: bool) -> Scalar {
    if !safe_to_compute(op, src, w32) {
        // The kernel forgets all 64 bits here, even after a 32-bit operation.
        return Scalar::UNKNOWN;
    }
    let mut d = *dst;
    let s = *src;
    match op {
        AluOp::Add => {
            add32(&mut d, &s);
            add64(&mut d, &s);
            d.var_off = d.var_off.add(s.var_off);
        }
        AluOp::Sub => {
            sub32(&mut d, &s);
            sub64(&mut d, &s);
            d.var_off = d.var_off.sub(s.var_off);
        }
        AluOp::Neg => {
            let zero = Scalar::ZERO;
            let mut n = zero;
            sub32(&mut n, dst);
            sub64(&mut n, dst);
            n.var_off = dst.var_off.neg();
            d = n;
        }
        AluOp::Mul => {
            d.var_off = d.var_off.mul(s.var_off);
            mul32(&mut d, &s);
            mul64(&mut d, &s);
        }
        AluOp::And => {
            d.var_off = d.var_off.and(s.var_off);
            and32(&mut d, &s, dst);
            and64(&mut d, &s, dst);
        }
        AluOp::Or => {
            d.var_off = d.var_off.or(s.var_off);
            or32(&mut d, &s, dst);
            or64(&mut d, &s, dst);
        }
        AluOp::Xor => {
            d.var_off = d.var_off.xor(s.var_off);
            xor32(&mut d, &s, dst);
            xor64(&mut d, &s, dst);
        }
        AluOp::Lsh => {
            if w32 {
                lsh32(&mut d, &s);
            } else {
                lsh64(&mut d, &s);
            }
        }
        AluOp::Rsh => {
            if w32 {
                rsh32(&mut d, &s);
            } else {
                rsh64(&mut d, &s);
            }
        }
        AluOp::Arsh => {
            if w32 {
                arsh32(&mut d, &s);
            } else {
                arsh64(&mut d, &s);
            }
        }
        _ => unreachable!("filtered by safe_to_compute"),
    }
    if w32 {
        d.zext32();
    }
    d.sync();
    d
}

fn add32(d: &mut Scalar, s: &Scalar) {
    match (
        d.s32_min.checked_add(s.s32_min),
        d.s32_max.checked_add(s.s32_max),
    ) {
        (Some(lo), Some(hi)) => (d.s32_min, d.s32_max) = (lo, hi),
        _ => (d.s32_min, d.s32_max) = (i32::MIN, i32::MAX),
    }
    match (
        d.u32_min.checked_add(s.u32_min),
        d.u32_max.checked_add(s.u32_max),
    ) {
        (Some(lo), Some(hi)) => (d.u32_min, d.u32_max) = (lo, hi),
        _ => (d.u32_min, d.u32_max) = (0, u32::MAX),
    }
}

fn add64(d: &mut Scalar, s: &Scalar) {
    match (d.smin.checked_add(s.smin), d.smax.checked_add(s.smax)) {
        (Some(lo), Some(hi)) => (d.smin, d.smax) = (lo, hi),
        _ => (d.smin, d.smax) = (i64::MIN, i64::MAX),
    }
    match (d.umin.checked_add(s.umin), d.umax.checked_add(s.umax)) {
        (Some(lo), Some(hi)) => (d.umin, d.umax) = (lo, hi),
        _ => (d.umin, d.umax) = (0, u64::MAX),
    }
}

fn sub32(d: &mut Scalar, s: &Scalar) {
    match (
        d.s32_min.checked_sub(s.s32_max),
        d.s32_max.checked_sub(s.s32_min),
    ) {
        (Some(lo), Some(hi)) => (d.s32_min, d.s32_max) = (lo, hi),
        _ => (d.s32_min, d.s32_max) = (i32::MIN, i32::MAX),
    }
    if d.u32_min < s.u32_max {
        (d.u32_min, d.u32_max) = (0, u32::MAX);
    } else {
        (d.u32_min, d.u32_max) = (d.u32_min - s.u32_max, d.u32_max - s.u32_min);
    }
}

fn sub64(d: &mut Scalar, s: &Scalar) {
    match (d.smin.checked_sub(s.smax), d.smax.checked_sub(s.smin)) {
        (Some(lo), Some(hi)) => (d.smin, d.smax) = (lo, hi),
        _ => (d.smin, d.smax) = (i64::MIN, i64::MAX),
    }
    if d.umin < s.umax {
        (d.umin, d.umax) = (0, u64::MAX);
    } else {
        (d.umin, d.umax) = (d.umin - s.umax, d.umax - s.umin);
    }
}

fn mul32(d: &mut Scalar, s: &Scalar) {
    if d.s32_min < 0 || s.s32_min < 0 {
        // Products of negative numbers: ranges from the tnum.
        d.mark32_unbounded();
        return;
    }
    if d.u32_max > u16::MAX as u32 || s.u32_max > u16::MAX as u32 {
        d.mark32_unbounded();
        return;
    }
    d.u32_min *= s.u32_min;
    d.u32_max *= s.u32_max;
    if d.u32_max > i32::MAX as u32 {
        (d.s32_min, d.s32_max) = (i32::MIN, i32::MAX);
    } else {
        (d.s32_min, d.s32_max) = (d.u32_min as i32, d.u32_max as i32);
    }
}

fn mul64(d: &mut Scalar, s: &Scalar) {
    if d.smin < 0 || s.smin < 0 {
        d.mark64_unbounded();
        return;
    }
    if d.umax > u32::MAX as u64 || s.umax > u32::MAX as u64 {
        d.mark64_unbounded();
        return;
    }
    d.umin *= s.umin;
    d.umax *= s.umax;
    if d.umax > i64::MAX as u64 {
        (d.smin, d.smax) = (i64::MIN, i64::MAX);
    } else {
        (d.smin, d.smax) = (d.umin as i64, d.umax as i64);
    }
}

fn and32(d: &mut Scalar, s: &Scalar, orig: &Scalar) {
    let v32 = d.var_off.subreg();
    if s.var_off.subreg_is_const() && orig.var_off.subreg_is_const() {
        let v = v32.value as u32;
        (d.u32_min, d.u32_max, d.s32_min, d.s32_max) = (v, v, v as i32, v as i32);
        return;
    }
    d.u32_min = v32.value as u32;
    d.u32_max = orig.u32_max.min(s.u32_max);
    if (d.u32_min as i32) <= (d.u32_max as i32) {
        (d.s32_min, d.s32_max) = (d.u32_min as i32, d.u32_max as i32);
    } else {
        (d.s32_min, d.s32_max) = (i32::MIN, i32::MAX);
    }
}

fn and64(d: &mut Scalar, s: &Scalar, orig: &Scalar) {
    if s.var_off.is_const() && orig.var_off.is_const() {
        let v = d.var_off.value;
        let keep32 = (d.u32_min, d.u32_max, d.s32_min, d.s32_max);
        *d = Scalar::known(v);
        (d.u32_min, d.u32_max, d.s32_min, d.s32_max) = keep32;
        return;
    }
    d.umin = d.var_off.value;
    d.umax = orig.umax.min(s.umax);
    if (d.umin as i64) <= (d.umax as i64) {
        (d.smin, d.smax) = (d.umin as i64, d.umax as i64);
    } else {
        (d.smin, d.smax) = (i64::MIN, i64::MAX);
    }
}

fn or32(d: &mut Scalar, s: &Scalar, orig: &Scalar) {
    let v32 = d.var_off.subreg();
    if s.var_off.subreg_is_const() && orig.var_off.subreg_is_const() {
        let v = v32.value as u32;
        (d.u32_min, d.u32_max, d.s32_min, d.s32_max) = (v, v, v as i32, v as i32);
        return;
    }
    d.u32_min = orig.u32_min.max(s.u32_min);
    d.u32_max = (v32.value | v32.mask) as u32;
    if (d.u32_min as i32) <= (d.u32_max as i32) {
        (d.s32_min, d.s32_max) = (d.u32_min as i32, d.u32_max as i32);
    } else {
        (d.s32_min, d.s32_max) = (i32::MIN, i32::MAX);
    }
}

fn or64(d: &mut Scalar, s: &Scalar, orig: &Scalar) {
    if s.var_off.is_const() && orig.var_off.is_const() {
        let v = d.var_off.value;
        let keep32 = (d.u32_min, d.u32_max, d.s32_min, d.s32_max);
        *d = Scalar::known(v);
        (d.u32_min, d.u32_max, d.s32_min, d.s32_max) = keep32;
        return;
    }
    d.umin = orig.umin.max(s.umin);
    d.umax = d.var_off.value | d.var_off.mask;
    if (d.umin as i64) <= (d.umax as i64) {
        (d.smin, d.smax) = (d.umin as i64, d.umax as i64);
    } else {
        (d.smin, d.smax) = (i64::MIN, i64::MAX);
    }
}

fn xor32(d: &mut Scalar, s: &Scalar, orig: &Scalar) {
    let v32 = d.var_off.subreg();
    if s.var_off.subreg_is_const() && orig.var_off.subreg_is_const() {
        let v = v32.value as u32;
        (d.u32_min, d.u32_max, d.s32_min, d.s32_max) = (v, v, v as i32, v as i32);
        return;
    }
    d.u32_min = v32.value as u32;
    d.u32_max = (v32.value | v32.mask) as u32;
    if (d.u32_min as i32) <= (d.u32_max as i32) {
        (d.s32_min, d.s32_max) = (d.u32_min as i32, d.u32_max as i32);
    } else {
        (d.s32_min, d.s32_max) = (i32::MIN, i32::MAX);
    }
}

fn xor64(d: &mut Scalar, s: &Scalar, orig: &Scalar) {
    if s.var_off.is_const() && orig.var_off.is_const() {
        let v = d.var_off.value;
        let keep32 = (d.u32_min, d.u32_max, d.s32_min, d.s32_max);
        *d = Scalar::known(v);
        (d.u32_min, d.u32_max, d.s32_min, d.s32_max) = keep32;
        return;
    }
    d.umin = d.var_off.value;
    d.umax = d.var_off.value | d.var_off.mask;
    if (d.umin as i64) <= (d.umax as i64) {
        (d.smin, d.smax) = (d.umin as i64, d.umax as i64);
    } else {
        (d.smin, d.smax) = (i64::MIN, i64::MAX);
    }
}

fn lsh32(d: &mut Scalar, s: &Scalar) {
    let (lo, hi) = (s.u32_min, s.u32_max);
    d.mark64_unbounded();
    if d.u32_max > 1u32 << (31 - hi) {
        (d.u32_min, d.u32_max) = (0, u32::MAX);
    } else {
        d.u32_min <<= lo;
        d.u32_max <<= hi;
    }
    (d.s32_min, d.s32_max) = (i32::MIN, i32::MAX);
    let sub = d.var_off.subreg().lshift(lo).subreg();
    d.var_off = d.var_off.with_subreg(sub);
    d.mark64_unbounded();
}

fn lsh64(d: &mut Scalar, s: &Scalar) {
    let (lo, hi) = (s.umin as u32, s.umax as u32);
    // `<< 32` of a non-negative s32: the common sign-extension idiom `<<32 s>>32`.
    d.smax = if lo == 32 && hi == 32 && d.s32_max >= 0 {
        (d.s32_max as i64) << 32
    } else {
        i64::MAX
    };
    d.smin = if lo == 32 && hi == 32 && d.s32_min >= 0 {
        (d.s32_min as i64) << 32
    } else {
        i64::MIN
    };
    if d.umax > 1u64 << (63 - hi) {
        (d.umin, d.umax) = (0, u64::MAX);
    } else {
        d.umin <<= lo;
        d.umax <<= hi;
    }
    d.var_off = d.var_off.lshift(lo);
    d.mark32_unbounded();
}

fn rsh32(d: &mut Scalar, s: &Scalar) {
    let (lo, hi) = (s.u32_min, s.u32_max);
    (d.s32_min, d.s32_max) = (i32::MIN, i32::MAX);
    let sub = d.var_off.subreg().rshift(lo);
    d.u32_min >>= hi;
    d.u32_max >>= lo;
    d.var_off = d.var_off.with_subreg(sub);
    d.mark64_unbounded();
}

fn rsh64(d: &mut Scalar, s: &Scalar) {
    let (lo, hi) = (s.umin as u32, s.umax as u32);
    (d.smin, d.smax) = (i64::MIN, i64::MAX);
    d.var_off = d.var_off.rshift(lo);
    d.umin >>= hi;
    d.umax >>= lo;
    d.mark32_unbounded();
}

fn arsh32(d: &mut Scalar, s: &Scalar) {
    let lo = s.u32_min;
    d.s32_min >>= lo;
    d.s32_max >>= lo;
    let sub = d.var_off.subreg().arshift(lo, 32);
    d.var_off = d.var_off.with_subreg(sub);
    (d.u32_min, d.u32_max) = (0, u32::MAX);
    d.mark64_unbounded();
}

fn arsh64(d: &mut Scalar, s: &Scalar) {
    let lo = s.umin as u32;
    d.smin >>= lo;
    d.smax >>= lo;
    d.var_off = d.var_off.arshift(lo, 64);
    (d.umin, d.umax) = (0, u64::MAX);
    d.mark32_unbounded();
}

/// The comparison a conditional jump's fall-through makes (`rev_opcode`); `JSET`'s reverse is
/// "no common bit", which [`Cond`] has no name for and [`Test::NotSet`] stands for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Test {
    /// A comparison the ISA has.
    Cond(Cond),
    /// `(a & b) == 0`.
    NotSet,
}

impl Test {
    /// The test that holds exactly when this one does not.
    pub fn negate(self) -> Test {
        use Cond::*;
        match self {
            Test::NotSet => Test::Cond(Set),
            Test::Cond(c) => match c {
                Eq => Test::Cond(Ne),
                Ne => Test::Cond(Eq),
                Set => Test::NotSet,
                Gt => Test::Cond(Le),
                Le => Test::Cond(Gt),
                Ge => Test::Cond(Lt),
                Lt => Test::Cond(Ge),
                SGt => Test::Cond(SLe),
                SLe => Test::Cond(SGt),
                SGe => Test::Cond(SLt),
                SLt => Test::Cond(SGe),
            },
        }
    }

    /// The same test with its operands swapped (`flip_opcode`).
    pub fn flip(self) -> Test {
        use Cond::*;
        match self {
            Test::Cond(Gt) => Test::Cond(Lt),
            Test::Cond(Lt) => Test::Cond(Gt),
            Test::Cond(Ge) => Test::Cond(Le),
            Test::Cond(Le) => Test::Cond(Ge),
            Test::Cond(SGt) => Test::Cond(SLt),
            Test::Cond(SLt) => Test::Cond(SGt),
            Test::Cond(SGe) => Test::Cond(SLe),
            Test::Cond(SLe) => Test::Cond(SGe),
            other => other,
        }
    }
}

/// The bounds a comparison reads: 64-bit, or the low 32 bits.
struct View {
    t: Tnum,
    umin: u64,
    umax: u64,
    smin: i64,
    smax: i64,
}

fn view(r: &Scalar, w32: bool) -> View {
    if w32 {
        View {
            t: r.var_off.subreg(),
            umin: r.u32_min as u64,
            umax: r.u32_max as u64,
            smin: r.s32_min as i64,
            smax: r.s32_max as i64,
        }
    } else {
        View {
            t: r.var_off,
            umin: r.umin,
            umax: r.umax,
            smin: r.smin,
            smax: r.smax,
        }
    }
}

/// Whether `a test b` always holds (`Some(true)`), never holds (`Some(false)`), or depends
/// (`is_scalar_branch_taken`).
pub fn branch_taken(a: &Scalar, b: &Scalar, test: Test, w32: bool) -> Option<bool> {
    let (x, y) = (view(a, w32), view(b, w32));
    match test {
        Test::Cond(Cond::Eq) | Test::Cond(Cond::Ne) => {
            let eq = test == Test::Cond(Cond::Eq);
            if x.t.is_const() && y.t.is_const() {
                return Some((x.t.value == y.t.value) == eq);
            }
            let disjoint = x.umin > y.umax
                || x.umax < y.umin
                || x.smin > y.smax
                || x.smax < y.smin
                || (!w32
                    && (a.u32_min > b.u32_max
                        || a.u32_max < b.u32_min
                        || a.s32_min > b.s32_max
                        || a.s32_max < b.s32_min))
                || !x.t.overlaps(y.t);
            if disjoint {
                return Some(!eq);
            }
            None
        }
        Test::Cond(Cond::Set) | Test::NotSet => {
            let set = test == Test::Cond(Cond::Set);
            let (t1, t2) = if b.is_const_at(w32) {
                (x.t, y.t)
            } else if a.is_const_at(w32) {
                (y.t, x.t)
            } else {
                return None;
            };
            if (!t1.mask & t1.value) & t2.value != 0 {
                return Some(set);
            }
            if (t1.mask | t1.value) & t2.value == 0 {
                return Some(!set);
            }
            None
        }
        Test::Cond(c) => {
            use Cond::*;
            let (yes, no) = match c {
                Gt => (x.umin > y.umax, x.umax <= y.umin),
                SGt => (x.smin > y.smax, x.smax <= y.smin),
                Lt => (x.umax < y.umin, x.umin >= y.umax),
                SLt => (x.smax < y.smin, x.smin >= y.smax),
                Ge => (x.umin >= y.umax, x.umax < y.umin),
                SGe => (x.smin >= y.smax, x.smax < y.smin),
                Le => (x.umax <= y.umin, x.umin > y.umax),
                SLe => (x.smax <= y.smin, x.smin > y.smax),
                Eq | Ne | Set => unreachable!(),
            };
            if yes {
                Some(true)
            } else if no {
                Some(false)
            } else {
                None
            }
        }
    }
}

/// Narrows `a` and `b` to the values for which `a test b` holds (`regs_refine_cond_op`), then
/// brings both in step. Afterwards either may be [`Scalar::is_empty`] when the test cannot hold.
pub fn refine(a: &mut Scalar, b: &mut Scalar, test: Test, w32: bool) {
    refine_op(a, b, test, w32);
    a.sync();
    b.sync();
}

fn refine_op(a: &mut Scalar, b: &mut Scalar, test: Test, w32: bool) {
    use Cond::*;
    match test {
        Test::Cond(Eq) => {
            if w32 {
                a.u32_min = a.u32_min.max(b.u32_min);
                a.u32_max = a.u32_max.min(b.u32_max);
                a.s32_min = a.s32_min.max(b.s32_min);
                a.s32_max = a.s32_max.min(b.s32_max);
                (b.u32_min, b.u32_max, b.s32_min, b.s32_max) =
                    (a.u32_min, a.u32_max, a.s32_min, a.s32_max);
                let t = a.var_off.subreg().intersect(b.var_off.subreg());
                a.var_off = a.var_off.with_subreg(t);
                b.var_off = b.var_off.with_subreg(t);
            } else {
                a.umin = a.umin.max(b.umin);
                a.umax = a.umax.min(b.umax);
                a.smin = a.smin.max(b.smin);
                a.smax = a.smax.min(b.smax);
                (b.umin, b.umax, b.smin, b.smax) = (a.umin, a.umax, a.smin, a.smax);
                a.var_off = a.var_off.intersect(b.var_off);
                b.var_off = a.var_off;
            }
        }
        Test::Cond(Ne) => {
            let (r, c) = if b.is_const_at(w32) {
                (a, &*b)
            } else if a.is_const_at(w32) {
                (b, &*a)
            } else {
                return;
            };
            let val = c.const_value(w32);
            if w32 {
                if r.u32_min == val as u32 {
                    r.u32_min = r.u32_min.wrapping_add(1);
                }
                if r.u32_max == val as u32 {
                    r.u32_max = r.u32_max.wrapping_sub(1);
                }
                if r.s32_min == val as i32 {
                    r.s32_min = r.s32_min.wrapping_add(1);
                }
                if r.s32_max == val as i32 {
                    r.s32_max = r.s32_max.wrapping_sub(1);
                }
            } else {
                if r.umin == val {
                    r.umin = r.umin.wrapping_add(1);
                }
                if r.umax == val {
                    r.umax = r.umax.wrapping_sub(1);
                }
                if r.smin == val as i64 {
                    r.smin = r.smin.wrapping_add(1);
                }
                if r.smax == val as i64 {
                    r.smax = r.smax.wrapping_sub(1);
                }
            }
        }
        Test::Cond(Set) => {
            let (r, c) = if b.is_const_at(w32) {
                (a, &*b)
            } else if a.is_const_at(w32) {
                (b, &*a)
            } else {
                return;
            };
            let val = c.const_value(w32);
            if !val.is_power_of_two() {
                return;
            }
            if w32 {
                let t = r.var_off.subreg().or(Tnum::constant(val));
                r.var_off = r.var_off.with_subreg(t);
            } else {
                r.var_off = r.var_off.or(Tnum::constant(val));
            }
        }
        Test::NotSet => {
            let (r, c) = if b.is_const_at(w32) {
                (a, &*b)
            } else if a.is_const_at(w32) {
                (b, &*a)
            } else {
                return;
            };
            let val = c.const_value(w32);
            if w32 {
                let t = r.var_off.subreg().and(Tnum::constant(!val));
                r.var_off = r.var_off.with_subreg(t);
            } else {
                r.var_off = r.var_off.and(Tnum::constant(!val));
            }
        }
        Test::Cond(Le) => {
            if w32 {
                a.u32_max = a.u32_max.min(b.u32_max);
                b.u32_min = a.u32_min.max(b.u32_min);
            } else {
                a.umax = a.umax.min(b.umax);
                b.umin = a.umin.max(b.umin);
            }
        }
        Test::Cond(Lt) => {
            if w32 {
                a.u32_max = a.u32_max.min(b.u32_max.wrapping_sub(1));
                b.u32_min = a.u32_min.wrapping_add(1).max(b.u32_min);
            } else {
                a.umax = a.umax.min(b.umax.wrapping_sub(1));
                b.umin = a.umin.wrapping_add(1).max(b.umin);
            }
        }
        Test::Cond(SLe) => {
            if w32 {
                a.s32_max = a.s32_max.min(b.s32_max);
                b.s32_min = a.s32_min.max(b.s32_min);
            } else {
                a.smax = a.smax.min(b.smax);
                b.smin = a.smin.max(b.smin);
            }
        }
        Test::Cond(SLt) => {
            if w32 {
                a.s32_max = a.s32_max.min(b.s32_max.wrapping_sub(1));
                b.s32_min = a.s32_min.wrapping_add(1).max(b.s32_min);
            } else {
                a.smax = a.smax.min(b.smax.wrapping_sub(1));
                b.smin = a.smin.wrapping_add(1).max(b.smin);
            }
        }
        Test::Cond(Ge | Gt | SGe | SGt) => refine_op(b, a, test.flip(), w32),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// A scalar holding exactly the values of `vals` as tightly as the domain can.
    fn abstract_of(vals: &[u64]) -> Scalar {
        let mut s = Scalar::known(vals[0]);
        for &v in &vals[1..] {
            let k = Scalar::known(v);
            s.var_off = Tnum {
                value: s.var_off.value & k.var_off.value,
                mask: s.var_off.mask | (s.var_off.value ^ k.var_off.value),
            };
            s.umin = s.umin.min(v);
            s.umax = s.umax.max(v);
            s.smin = s.smin.min(v as i64);
            s.smax = s.smax.max(v as i64);
            s.u32_min = s.u32_min.min(v as u32);
            s.u32_max = s.u32_max.max(v as u32);
            s.s32_min = s.s32_min.min(v as i32);
            s.s32_max = s.s32_max.max(v as i32);
        }
        s
    }

    fn concrete(op: AluOp, a: u64, b: u64, w32: bool) -> u64 {
        if w32 {
            let (a, b) = (a as u32, b as u32);
            (match op {
                AluOp::Add => a.wrapping_add(b),
                AluOp::Sub => a.wrapping_sub(b),
                AluOp::Mul => a.wrapping_mul(b),
                AluOp::And => a & b,
                AluOp::Or => a | b,
                AluOp::Xor => a ^ b,
                AluOp::Lsh => a.wrapping_shl(b),
                AluOp::Rsh => a.wrapping_shr(b),
                AluOp::Arsh => (a as i32).wrapping_shr(b) as u32,
                AluOp::Neg => a.wrapping_neg(),
                _ => unreachable!(),
            }) as u64
        } else {
            match op {
                AluOp::Add => a.wrapping_add(b),
                AluOp::Sub => a.wrapping_sub(b),
                AluOp::Mul => a.wrapping_mul(b),
                AluOp::And => a & b,
                AluOp::Or => a | b,
                AluOp::Xor => a ^ b,
                AluOp::Lsh => a.wrapping_shl(b as u32),
                AluOp::Rsh => a.wrapping_shr(b as u32),
                AluOp::Arsh => (a as i64).wrapping_shr(b as u32) as u64,
                AluOp::Neg => a.wrapping_neg(),
                _ => unreachable!(),
            }
        }
    }

    fn interesting() -> impl Strategy<Value = u64> {
        prop_oneof![
            0u64..16,
            (0u64..16).prop_map(|v| v.wrapping_neg()),
            any::<u64>(),
            (0u64..0x1_0000_0000).prop_map(|v| v | 0x8000_0000),
            (0u64..16).prop_map(|v| (1u64 << 32).wrapping_sub(v)),
            (0u64..16).prop_map(|v| (1u64 << 63).wrapping_add(v)),
        ]
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(4000))]

        #[test]
        fn alu_contains_every_result(
            a in proptest::collection::vec(interesting(), 1..4),
            b in proptest::collection::vec(interesting(), 1..4),
            op in proptest::sample::select(vec![AluOp::Add, AluOp::Sub, AluOp::Mul, AluOp::And, AluOp::Or, AluOp::Xor, AluOp::Lsh, AluOp::Rsh, AluOp::Arsh, AluOp::Neg]),
            w32 in any::<bool>(),
        ) {
            let mut sa = abstract_of(&a);
            sa.sync();
            let mut sb = abstract_of(&b);
            sb.sync();
            for &x in &a { prop_assert!(sa.contains(x), "sync lost {x:#x}: {sa:?}"); }
            let out = alu(op, &sa, &sb, w32);
            for &x in &a {
                for &y in &b {
                    if !safe_to_compute(op, &sb, w32) { continue; }
                    let r = concrete(op, x, y, w32);
                    prop_assert!(out.contains(r), "{op:?} w32={w32}: {x:#x} {y:#x} = {r:#x} not in {out:?} (from {sa:?} and {sb:?})");
                }
            }
        }

        #[test]
        fn refine_keeps_every_satisfying_pair(
            a in proptest::collection::vec(interesting(), 1..4),
            b in proptest::collection::vec(interesting(), 1..4),
            cond in proptest::sample::select(vec![Cond::Eq, Cond::Ne, Cond::Set, Cond::Gt, Cond::Ge, Cond::Lt, Cond::Le, Cond::SGt, Cond::SGe, Cond::SLt, Cond::SLe]),
            negate in any::<bool>(),
            w32 in any::<bool>(),
        ) {
            let mut sa = abstract_of(&a);
            sa.sync();
            let mut sb = abstract_of(&b);
            sb.sync();
            let test = if negate { Test::Cond(cond).negate() } else { Test::Cond(cond) };
            let holds = |x: u64, y: u64| -> bool {
                let (x, y) = if w32 { (x as u32 as u64, y as u32 as u64) } else { (x, y) };
                let (sx, sy) = if w32 { (x as u32 as i32 as i64, y as u32 as i32 as i64) } else { (x as i64, y as i64) };
                let r = match cond {
                    Cond::Eq => x == y, Cond::Ne => x != y, Cond::Set => x & y != 0,
                    Cond::Gt => x > y, Cond::Ge => x >= y, Cond::Lt => x < y, Cond::Le => x <= y,
                    Cond::SGt => sx > sy, Cond::SGe => sx >= sy, Cond::SLt => sx < sy, Cond::SLe => sx <= sy,
                };
                r != negate
            };
            let taken = branch_taken(&sa, &sb, test, w32);
            let (mut ra, mut rb) = (sa, sb);
            refine(&mut ra, &mut rb, test, w32);
            for &x in &a {
                for &y in &b {
                    let h = holds(x, y);
                    if let Some(t) = taken { prop_assert_eq!(t, h, "branch_taken wrong for {:#x} {:#x}", x, y); }
                    if h {
                        prop_assert!(ra.contains(x) && rb.contains(y), "refine {test:?} w32={w32} lost {x:#x},{y:#x}: {ra:?} {rb:?}");
                    }
                }
            }
        }

        #[test]
        fn sign_extension_and_truncation_contain_the_result(a in proptest::collection::vec(interesting(), 1..4), bits in proptest::sample::select(vec![8u32, 16, 32])) {
            let mut s = abstract_of(&a);
            s.sync();
            let mut sx = s;
            sx.sign_extend(bits);
            let mut tr = s;
            tr.coerce_to_size(bits / 8);
            for &x in &a {
                let shift = 64 - bits;
                prop_assert!(sx.contains((((x << shift) as i64) >> shift) as u64));
                prop_assert!(tr.contains(x & ((1u64 << bits) - 1)));
            }
        }
    }
}
