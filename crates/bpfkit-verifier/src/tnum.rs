//! Tristate numbers: what is known about each bit of a 64-bit value (the kernel's `tnum.c`).
//!
//! A [`Tnum`] `{ value, mask }` stands for every number whose bits agree with `value` wherever
//! `mask` has a 0; bits set in `mask` are unknown. Each operation gives a tnum containing every
//! result of the operation on members of its operands (tests check this against brute force).

use core::fmt;

/// A tristate number: bits of `mask` are unknown, the others are those of `value`.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub struct Tnum {
    /// The known bits (zero where unknown).
    pub value: u64,
    /// The unknown bits.
    pub mask: u64,
}

impl Tnum {
    /// Every 64-bit value.
    pub const UNKNOWN: Tnum = Tnum {
        value: 0,
        mask: u64::MAX,
    };

    /// The single value `value`.
    pub const fn constant(value: u64) -> Tnum {
        Tnum { value, mask: 0 }
    }

    /// The smallest tnum holding every value in `min..=max` (`tnum_range`).
    pub const fn range(min: u64, max: u64) -> Tnum {
        let chi = min ^ max;
        let bits = 64 - chi.leading_zeros();
        if bits > 63 {
            return Tnum::UNKNOWN;
        }
        let delta = (1u64 << bits) - 1;
        Tnum {
            value: min & !delta,
            mask: delta,
        }
    }

    /// Whether every bit is known.
    pub const fn is_const(self) -> bool {
        self.mask == 0
    }

    /// Whether nothing is known.
    pub const fn is_unknown(self) -> bool {
        self.mask == u64::MAX
    }

    /// Whether the low 32 bits are all known.
    pub const fn subreg_is_const(self) -> bool {
        self.mask as u32 == 0
    }

    /// `self << shift`.
    pub const fn lshift(self, shift: u32) -> Tnum {
        Tnum {
            value: self.value.wrapping_shl(shift),
            mask: self.mask.wrapping_shl(shift),
        }
    }

    /// Logical `self >> shift`.
    pub const fn rshift(self, shift: u32) -> Tnum {
        Tnum {
            value: self.value.wrapping_shr(shift),
            mask: self.mask.wrapping_shr(shift),
        }
    }

    /// Arithmetic `self >> shift` at 32 or 64 bits (`tnum_arshift`); a 32-bit result is
    /// zero-extended.
    pub const fn arshift(self, shift: u32, bits: u32) -> Tnum {
        if bits == 32 {
            Tnum {
                value: ((self.value as u32 as i32).wrapping_shr(shift)) as u32 as u64,
                mask: ((self.mask as u32 as i32).wrapping_shr(shift)) as u32 as u64,
            }
        } else {
            Tnum {
                value: ((self.value as i64).wrapping_shr(shift)) as u64,
                mask: ((self.mask as i64).wrapping_shr(shift)) as u64,
            }
        }
    }

    /// `self + other`.
    pub const fn add(self, other: Tnum) -> Tnum {
        let sm = self.mask.wrapping_add(other.mask);
        let sv = self.value.wrapping_add(other.value);
        let sigma = sm.wrapping_add(sv);
        let chi = sigma ^ sv;
        let mu = chi | self.mask | other.mask;
        Tnum {
            value: sv & !mu,
            mask: mu,
        }
    }

    /// `self - other`.
    pub const fn sub(self, other: Tnum) -> Tnum {
        let dv = self.value.wrapping_sub(other.value);
        let alpha = dv.wrapping_add(self.mask);
        let beta = dv.wrapping_sub(other.mask);
        let chi = alpha ^ beta;
        let mu = chi | self.mask | other.mask;
        Tnum {
            value: dv & !mu,
            mask: mu,
        }
    }

    /// `-self`.
    pub const fn neg(self) -> Tnum {
        Tnum::constant(0).sub(self)
    }

    /// `self & other`.
    pub const fn and(self, other: Tnum) -> Tnum {
        let alpha = self.value | self.mask;
        let beta = other.value | other.mask;
        let v = self.value & other.value;
        Tnum {
            value: v,
            mask: alpha & beta & !v,
        }
    }

    /// `self | other`.
    pub const fn or(self, other: Tnum) -> Tnum {
        let v = self.value | other.value;
        let mu = self.mask | other.mask;
        Tnum {
            value: v,
            mask: mu & !v,
        }
    }

    /// `self ^ other`.
    pub const fn xor(self, other: Tnum) -> Tnum {
        let v = self.value ^ other.value;
        let mu = self.mask | other.mask;
        Tnum {
            value: v & !mu,
            mask: mu,
        }
    }

    /// `self * other` (`tnum_mul`: shift-and-add over the certain and uncertain bits).
    pub const fn mul(self, other: Tnum) -> Tnum {
        let acc_v = self.value.wrapping_mul(other.value);
        let mut acc_m = Tnum::constant(0);
        let (mut a, mut b) = (self, other);
        while a.value != 0 || a.mask != 0 {
            if a.value & 1 != 0 {
                acc_m = acc_m.add(Tnum {
                    value: 0,
                    mask: b.mask,
                });
            } else if a.mask & 1 != 0 {
                acc_m = acc_m.add(Tnum {
                    value: 0,
                    mask: b.value | b.mask,
                });
            }
            a = a.rshift(1);
            b = b.lshift(1);
        }
        Tnum::constant(acc_v).add(acc_m)
    }

    /// The values in both `self` and `other` (`tnum_intersect`; meaningful when they overlap).
    pub const fn intersect(self, other: Tnum) -> Tnum {
        let v = self.value | other.value;
        let mu = self.mask & other.mask;
        Tnum {
            value: v & !mu,
            mask: mu,
        }
    }

    /// Whether some value is in both.
    pub const fn overlaps(self, other: Tnum) -> bool {
        let mu = self.mask | other.mask;
        (self.value & !mu) == (other.value & !mu)
    }

    /// The low `size` bytes, zero-extended (`tnum_cast`).
    pub const fn cast(self, size: u32) -> Tnum {
        if size >= 8 {
            return self;
        }
        let keep = (1u64 << (size * 8)) - 1;
        Tnum {
            value: self.value & keep,
            mask: self.mask & keep,
        }
    }

    /// Whether every member is a multiple of `size` (a power of two).
    pub const fn is_aligned(self, size: u64) -> bool {
        if size == 0 {
            return true;
        }
        (self.value | self.mask) & (size - 1) == 0
    }

    /// Whether every member of `other` is a member of `self` (`tnum_in`).
    pub const fn contains(self, other: Tnum) -> bool {
        if other.mask & !self.mask != 0 {
            return false;
        }
        self.value == other.value & !self.mask
    }

    /// Whether `value` is a member.
    pub const fn contains_value(self, value: u64) -> bool {
        self.contains(Tnum::constant(value))
    }

    /// The low 32 bits (`tnum_subreg`).
    pub const fn subreg(self) -> Tnum {
        self.cast(4)
    }

    /// The high 32 bits, with the low 32 known zero (`tnum_clear_subreg`).
    pub const fn clear_subreg(self) -> Tnum {
        self.rshift(32).lshift(32)
    }

    /// The high 32 bits of `self` with the low 32 bits of `subreg` (`tnum_with_subreg`).
    pub const fn with_subreg(self, subreg: Tnum) -> Tnum {
        self.clear_subreg().or(subreg.subreg())
    }

    /// The high 32 bits of `self` with the low 32 bits the constant `value`.
    pub const fn with_const_subreg(self, value: u32) -> Tnum {
        self.with_subreg(Tnum::constant(value as u64))
    }
}

impl fmt::Display for Tnum {
    /// The kernel's `tnum_strn`: `(0x0; 0xff)`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "({:#x}; {:#x})", self.value, self.mask)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// Every tnum over `bits` bits: value and mask disjoint.
    fn all_tnums(bits: u32) -> Vec<Tnum> {
        let n = 1u64 << bits;
        let mut out = Vec::new();
        for mask in 0..n {
            for value in 0..n {
                if value & mask == 0 {
                    out.push(Tnum { value, mask });
                }
            }
        }
        out
    }

    /// The members of `t` (its mask spans few bits).
    fn members(t: Tnum) -> Vec<u64> {
        let mut out = Vec::new();
        let mut sub = t.mask;
        loop {
            out.push(t.value | sub);
            if sub == 0 {
                break;
            }
            sub = (sub - 1) & t.mask;
        }
        out
    }

    /// Checks `op` against brute force over all 4-bit tnums, values sign-extended from 4 bits
    /// so the high bits are exercised too.
    fn check_binary(
        name: &str,
        op: impl Fn(Tnum, Tnum) -> Tnum,
        concrete: impl Fn(u64, u64) -> u64,
    ) {
        let ext = |t: Tnum| -> Tnum {
            // Replicate bit 3 into bits 4..64 (as known or unknown).
            let sign_v = if t.value & 8 != 0 { !0xf } else { 0 };
            let sign_m = if t.mask & 8 != 0 { !0xf } else { 0 };
            Tnum {
                value: t.value | sign_v,
                mask: t.mask | sign_m,
            }
        };
        let tnums = all_tnums(4);
        for &a in &tnums {
            for &b in &tnums {
                let (a64, b64) = (ext(a), ext(b));
                let out = op(a64, b64);
                for x in members(a) {
                    for y in members(b) {
                        let x = if x & 8 != 0 { x | !0xf } else { x };
                        let y = if y & 8 != 0 { y | !0xf } else { y };
                        let r = concrete(x, y);
                        assert!(
                            out.contains_value(r),
                            "{name}: {a64} op {b64} = {out} misses {x:#x} op {y:#x} = {r:#x}"
                        );
                    }
                }
            }
        }
    }

    #[test]
    fn binary_ops_contain_every_result() {
        check_binary("add", Tnum::add, u64::wrapping_add);
        check_binary("sub", Tnum::sub, u64::wrapping_sub);
        check_binary("and", Tnum::and, |x, y| x & y);
        check_binary("or", Tnum::or, |x, y| x | y);
        check_binary("xor", Tnum::xor, |x, y| x ^ y);
        check_binary("mul", Tnum::mul, u64::wrapping_mul);
    }

    #[test]
    fn shifts_contain_every_result() {
        for t in all_tnums(5) {
            for shift in 0..64 {
                let l = t.lshift(shift);
                let r = t.rshift(shift);
                let a = t.arshift(shift, 64);
                for x in members(t) {
                    assert!(l.contains_value(x << shift));
                    assert!(r.contains_value(x >> shift));
                    assert!(a.contains_value(((x as i64) >> shift) as u64));
                }
            }
        }
    }

    #[test]
    fn range_and_contains_are_exact_at_small_widths() {
        for min in 0..64u64 {
            for max in min..64 {
                let t = Tnum::range(min, max);
                for v in min..=max {
                    assert!(t.contains_value(v));
                }
            }
        }
        for a in all_tnums(4) {
            for b in all_tnums(4) {
                let brute = members(b).iter().all(|v| members(a).contains(v));
                assert_eq!(a.contains(b), brute, "{a} contains {b}");
                let overlap = members(b).iter().any(|v| members(a).contains(v));
                assert_eq!(a.overlaps(b), overlap, "{a} overlaps {b}");
                for v in members(b).iter().filter(|v| members(a).contains(v)) {
                    assert!(a.intersect(b).contains_value(*v), "{a} & {b} misses {v}");
                }
            }
        }
    }

    proptest! {
        #[test]
        fn ops_hold_for_random_members(av in any::<u64>(), am in any::<u64>(), bv in any::<u64>(), bm in any::<u64>(), pick_a in any::<u64>(), pick_b in any::<u64>()) {
            let a = Tnum { value: av & !am, mask: am };
            let b = Tnum { value: bv & !bm, mask: bm };
            let x = a.value | (pick_a & a.mask);
            let y = b.value | (pick_b & b.mask);
            prop_assert!(a.add(b).contains_value(x.wrapping_add(y)));
            prop_assert!(a.sub(b).contains_value(x.wrapping_sub(y)));
            prop_assert!(a.mul(b).contains_value(x.wrapping_mul(y)));
            prop_assert!(a.and(b).contains_value(x & y));
            prop_assert!(a.or(b).contains_value(x | y));
            prop_assert!(a.xor(b).contains_value(x ^ y));
            prop_assert!(a.neg().contains_value(x.wrapping_neg()));
            prop_assert!(a.subreg().contains_value(x as u32 as u64));
            prop_assert!(a.cast(2).contains_value(x as u16 as u64));
            prop_assert!(Tnum::range(x.min(y), x.max(y)).contains_value(x));
        }
    }
}
