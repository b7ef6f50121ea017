//! Which region each register probably points into, for checked mode.
//!
//! A checked access finds its region by the address's high half and then checks the offset
//! against that region's limits. When the region is known in advance, the lookup can be left
//! out: subtracting the region's first virtual address gives the offset, and one unsigned
//! compare with the region's limit checks both that the address is in that region and that the
//! access fits (see [`crate::context::ENTRY_VSTART`]). This module makes that guess, per access,
//! from where the base register's value came from: `r1` on entry points into the input (the
//! context), `r10` on entry into the first frame, a `lddw` of a map value into that map's
//! values, a 32- or 64-bit load through the context into the packet; copies and pointer
//! arithmetic keep the guess, anything else drops it.
//!
//! A guess is never trusted: when it is wrong the access takes the full lookup out of line,
//! which faults exactly where the interpreter does. So the guess needs no soundness, only to be
//! right in the loops that matter, and it is made in one forward pass in slot order while the
//! program is compiled: states meet at a jump target from the forward jumps to it and the
//! instruction before it; a loop's back edge is not waited for (the loop head keeps what was
//! known on entering the loop), since a fixed point would cost compile time for little.

use bpfkit_isa::{AluOp, AtomicOp};
use bpfkit_vm::memory::{INPUT_REGION, MAP_VALUE_REGION, PACKET_REGION, STACK_REGION};

use crate::lower::{Check, FP, Lir, Operand};

/// No guess: the value is not known to point into any region (region 0 holds no bytes, so it
/// is never a guess).
const NONE: u8 = 0;

/// Each register's guessed region (`NONE` or a region index below 256).
type Regs = [u8; 11];

/// At most this many jump targets ahead wait with what their jumps bring; a jump to a further
/// one brings nothing (only a guess is lost). Bounded so that compiling stays linear and
/// allocates nothing per slot: a slot-indexed table made the heap grow past what the
/// allocator keeps, and every compile paid page faults for it.
const MAX_PENDING: usize = 32;

/// The guess while compiling one program, slot by slot.
pub struct RegionGuess {
    regs: Regs,
    /// What forward jumps bring to the slots they jump to, met as they are seen.
    pending: Vec<(usize, Regs)>,
    /// Whether the instruction before the current one can fall through to it.
    falls_through: bool,
    /// One past the last map value region (only existing maps are guessed).
    maps_end: u64,
}

impl RegionGuess {
    /// The guess at the entry of a program in a VM with `maps` maps.
    pub fn new(maps: u64) -> RegionGuess {
        let mut regs = [NONE; 11];
        regs[1] = INPUT_REGION as u8;
        regs[FP as usize] = STACK_REGION as u8;
        RegionGuess {
            regs,
            pending: Vec::new(),
            falls_through: true,
            maps_end: MAP_VALUE_REGION + maps,
        }
    }

    /// Moves to slot `pc`, meeting what jumps to it brought with what falls through;
    /// `labelled` tells whether anything jumps to it (only then can a jump have brought
    /// something, so only then are the pending targets searched).
    #[inline]
    pub fn enter(&mut self, pc: usize, labelled: bool) {
        // Most slots: reached only from the one before.
        if !labelled && self.falls_through {
            return;
        }
        let pending = if labelled {
            self.pending
                .iter()
                .position(|&(target, _)| target == pc)
                .map(|i| self.pending.swap_remove(i).1)
        } else {
            None
        };
        self.regs = match (self.falls_through, pending) {
            (true, Some(other)) => meet(self.regs, other),
            (true, None) => self.regs,
            (false, Some(other)) => other,
            // A subprogram's first slot, or one only a loop's back edge reaches.
            (false, None) => [NONE; 11],
        };
        self.falls_through = true;
    }

    /// The region register `reg` is guessed to point into on falling through to the next slot
    /// (`None` also when the last slot does not fall through).
    pub fn falling_through(&self, reg: u8) -> Option<u32> {
        let region = *self.regs.get(reg as usize)?;
        (self.falls_through && region != NONE).then_some(u32::from(region))
    }

    /// Puts the guess for `lir`'s base register into its checked access, if it has one.
    pub fn apply<L>(&self, lir: &mut Lir<L>) {
        if let Lir::Load { mem, .. } | Lir::Store { mem, .. } | Lir::Atomic { mem, .. } = lir
            && let Check::Region { guess } = &mut mem.check
        {
            let region = self.regs[mem.base as usize];
            *guess = (region != NONE).then_some(u32::from(region));
        }
    }

    /// Follows instruction `pc`, lowered to `lir`, whose jump target (if it jumps) is `target`.
    #[inline(always)]
    pub fn step<L>(&mut self, pc: usize, lir: &Lir<L>, target: Option<usize>) {
        let regs = &mut self.regs;
        match *lir {
            Lir::Alu { op, wide, dst, src } => {
                let d = dst as usize;
                regs[d] = match (op, wide, src) {
                    (AluOp::Mov, true, Operand::Reg(s)) => regs[s as usize],
                    // A pointer plus or minus a constant or a scalar stays in its region.
                    (AluOp::Add | AluOp::Sub, true, Operand::Imm(_)) => regs[d],
                    (AluOp::Add, true, Operand::Reg(s)) if regs[d] == NONE => regs[s as usize],
                    (AluOp::Add, true, Operand::Reg(_)) => regs[d],
                    (AluOp::Sub, true, Operand::Reg(s)) if regs[s as usize] == NONE => regs[d],
                    _ => NONE,
                };
            }
            Lir::Endian { dst, .. } | Lir::HostAddr { dst, .. } => regs[dst as usize] = NONE,
            Lir::Const { dst, value } => {
                let region = value >> 32;
                let map_value = (MAP_VALUE_REGION..self.maps_end).contains(&region);
                regs[dst as usize] = if map_value && region <= u64::from(u8::MAX) {
                    region as u8
                } else {
                    NONE
                };
            }
            Lir::Load { dst, mem, .. } => {
                // The context's pointer fields (`data`, `data_end`) point into the packet.
                let pointer =
                    mem.size.bytes() >= 4 && regs[mem.base as usize] == INPUT_REGION as u8;
                regs[dst as usize] = if pointer { PACKET_REGION as u8 } else { NONE };
            }
            Lir::Store { .. }
            | Lir::CheckRange { .. }
            | Lir::CheckSpan { .. }
            | Lir::CheckLength { .. } => {}
            Lir::Atomic { op, src, .. } => match op {
                AtomicOp::CmpXchg => regs[0] = NONE,
                AtomicOp::Add | AtomicOp::Or | AtomicOp::And | AtomicOp::Xor => {}
                _ => regs[src as usize] = NONE,
            },
            Lir::Jump { cond, .. } => {
                if let Some(target) = target.filter(|&t| t > pc) {
                    let brought = self.regs;
                    let room = self.pending.len() < MAX_PENDING;
                    match self.pending.iter_mut().find(|(t, _)| *t == target) {
                        Some((_, other)) => *other = meet(*other, brought),
                        None if room => self.pending.push((target, brought)),
                        None => {}
                    }
                }
                self.falls_through = cond.is_some();
            }
            Lir::CallLocal { .. }
            | Lir::CallRuntime { .. }
            | Lir::CallKfunc { .. }
            | Lir::PacketLoad { .. } => regs[..6].fill(NONE),
            Lir::Exit => self.falls_through = false,
        }
    }
}

/// Where two paths meet: a register keeps a guess both agree on.
fn meet(a: Regs, b: Regs) -> Regs {
    std::array::from_fn(|r| if a[r] == b[r] { a[r] } else { NONE })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lower::Mem;
    use bpfkit_isa::Size;

    fn load(base: u8) -> Lir<()> {
        Lir::Load {
            dst: 0,
            mem: Mem {
                base,
                off: 0,
                size: Size::B,
                check: Check::Region { guess: None },
            },
            sign: false,
        }
    }

    fn guessed(g: &RegionGuess, base: u8) -> Option<u32> {
        let mut lir = load(base);
        g.apply(&mut lir);
        match lir {
            Lir::Load { mem, .. } => match mem.check {
                Check::Region { guess } => guess,
                _ => unreachable!(),
            },
            _ => unreachable!(),
        }
    }

    fn alu(op: AluOp, dst: u8, src: Operand) -> Lir<()> {
        Lir::Alu {
            op,
            wide: true,
            dst,
            src,
        }
    }

    #[test]
    fn pointer_arithmetic_keeps_the_region_and_other_values_drop_it() {
        let mut g = RegionGuess::new(0);
        g.enter(0, true);
        g.step(0, &alu(AluOp::Mov, 8, Operand::Reg(1)), None);
        g.enter(1, true);
        g.step(1, &alu(AluOp::Add, 8, Operand::Reg(9)), None);
        g.enter(2, true);
        g.step(2, &alu(AluOp::Add, 9, Operand::Reg(8)), None);
        g.enter(3, true);
        assert_eq!(guessed(&g, 8), Some(INPUT_REGION as u32));
        // A scalar plus a pointer is a pointer into the same region.
        assert_eq!(guessed(&g, 9), Some(INPUT_REGION as u32));
        g.step(3, &alu(AluOp::Mul, 8, Operand::Imm(2)), None);
        g.enter(4, true);
        assert_eq!(guessed(&g, 8), None);
        // Two pointers' difference is a number.
        g.step(4, &alu(AluOp::Sub, 9, Operand::Reg(1)), None);
        g.enter(5, true);
        assert_eq!(guessed(&g, 9), None);
        assert_eq!(guessed(&g, FP), Some(STACK_REGION as u32));
    }

    #[test]
    fn paths_that_disagree_meet_at_no_guess() {
        let mut g = RegionGuess::new(0);
        g.enter(0, true);
        // if r0 == 0 goto 2; r1 = 0; (2:) ...
        let jump = Lir::Jump {
            cond: Some((bpfkit_isa::Cond::Eq, true, 0, Operand::Imm(0))),
            target: (),
        };
        g.step(0, &jump, Some(2));
        g.enter(1, true);
        g.step(1, &alu(AluOp::Mov, 1, Operand::Imm(0)), None);
        g.enter(2, true);
        assert_eq!(guessed(&g, 1), None);
        assert_eq!(guessed(&g, FP), Some(STACK_REGION as u32));
        // After an exit only jumps reach a slot; a call forgets r0-r5.
        g.step(2, &Lir::<()>::Exit, None);
        g.enter(3, true);
        assert_eq!(guessed(&g, FP), None);
    }

    #[test]
    fn map_values_and_packet_pointers_are_guessed() {
        let mut g = RegionGuess::new(2);
        g.enter(0, true);
        let value = (MAP_VALUE_REGION + 1) << 32 | 8;
        g.step(0, &Lir::<()>::Const { dst: 6, value }, None);
        g.enter(1, true);
        assert_eq!(guessed(&g, 6), Some(MAP_VALUE_REGION as u32 + 1));
        let beyond = (MAP_VALUE_REGION + 2) << 32;
        g.step(
            1,
            &Lir::<()>::Const {
                dst: 7,
                value: beyond,
            },
            None,
        );
        g.enter(2, true);
        assert_eq!(guessed(&g, 7), None, "there is no third map");
        let data = Lir::<()>::Load {
            dst: 2,
            mem: Mem {
                base: 1,
                off: 0,
                size: Size::W,
                check: Check::Region { guess: None },
            },
            sign: false,
        };
        g.step(2, &data, None);
        g.enter(3, true);
        assert_eq!(guessed(&g, 2), Some(PACKET_REGION as u32));
    }
}
