//! Registers.

use std::fmt;

/// One of the eleven eBPF registers, `r0` to `r10`.
///
/// `r0` holds return values, `r1`-`r5` carry call arguments and are clobbered by calls, `r6`-`r9`
/// are callee-saved and `r10` is the read-only frame pointer.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Reg(u8);

impl Reg {
    /// `r0`: return value of calls and of the program.
    pub const R0: Reg = Reg(0);
    /// `r1`: first argument (the context pointer at program entry).
    pub const R1: Reg = Reg(1);
    /// `r2`: second argument.
    pub const R2: Reg = Reg(2);
    /// `r3`: third argument.
    pub const R3: Reg = Reg(3);
    /// `r4`: fourth argument.
    pub const R4: Reg = Reg(4);
    /// `r5`: fifth argument.
    pub const R5: Reg = Reg(5);
    /// `r6`: callee-saved.
    pub const R6: Reg = Reg(6);
    /// `r7`: callee-saved.
    pub const R7: Reg = Reg(7);
    /// `r8`: callee-saved.
    pub const R8: Reg = Reg(8);
    /// `r9`: callee-saved.
    pub const R9: Reg = Reg(9);
    /// `r10`: the read-only frame pointer.
    pub const R10: Reg = Reg(10);
    /// The frame pointer, `r10`.
    pub const FP: Reg = Reg(10);
    /// Number of registers.
    pub const COUNT: usize = 11;

    /// The register with this number, or `None` past `r10`.
    pub const fn new(n: u8) -> Option<Reg> {
        if n <= 10 { Some(Reg(n)) } else { None }
    }

    /// The register's number, 0 to 10.
    pub const fn index(self) -> u8 {
        self.0
    }

    /// All registers in order.
    pub fn all() -> impl Iterator<Item = Reg> {
        (0..=10).map(Reg)
    }
}

impl fmt::Display for Reg {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "r{}", self.0)
    }
}
