//! The interpreter: one `match` per instruction over the pre-decoded program.
//!
//! Everything that can be decided before running is: operands are decoded, immediates
//! sign-extended, jump and call targets made absolute, `lddw` pseudo forms resolved to
//! addresses. What is left per instruction is the dispatch, the operation and, for memory, the
//! region lookup. Metering and strict alignment are const parameters, so a run without them pays
//! nothing for them.

use bpfkit_isa::Opcode;

use crate::fault::Fault;
use crate::helpers::{HelperEnv, HelperFn, ids};
use crate::maps::Keys;
use crate::memory::{
    Access, INPUT_REGION, MAP_HANDLE_REGION, MAX_FRAMES, Memory, frame_pointer, region_base,
};
use crate::program::Program;
use crate::vm::TailCallOverflow;

/// The kernel's `MAX_TAIL_CALL_CNT`.
pub const MAX_TAIL_CALLS: u32 = 33;

/// What a bpf-to-bpf call saves: where to return and the callee-saved registers.
#[derive(Clone, Copy, Default)]
struct Frame {
    program: usize,
    return_pc: usize,
    saved: [u64; 4],
}

/// Everything a run borrows.
pub(crate) struct Machine<'v, 'a> {
    pub programs: &'v [Program],
    pub helpers: &'v mut [Option<Box<HelperFn>>],
    pub mem: Memory<'a>,
    pub maps: Vec<&'a mut Keys>,
    pub budget: u64,
    pub tail_call_overflow: TailCallOverflow,
}

#[cold]
fn read_fault(pc: usize, addr: u64, size: usize) -> Fault {
    Fault::OutOfBounds {
        pc,
        addr,
        size,
        access: Access::Read,
    }
}

#[cold]
fn misaligned(pc: usize, addr: u64, size: usize, access: Access) -> Fault {
    Fault::Misaligned {
        pc,
        addr,
        size,
        access,
    }
}

impl Machine<'_, '_> {
    /// Runs program `entry` with `r1` and `r2` set, returning `r0` at the final `exit`.
    pub fn run<const METER: bool, const ALIGN: bool>(
        &mut self,
        entry: usize,
        r1: u64,
        r2: u64,
    ) -> Result<u64, Fault> {
        let mut program = entry;
        let mut ops = &self.programs[entry].ops[..];
        let mut regs = [0u64; 16];
        regs[1] = r1;
        regs[2] = r2;
        regs[10] = frame_pointer(0);
        let mut frames = [Frame::default(); MAX_FRAMES];
        let mut depth = 0usize;
        let mut tail_calls = 0u32;
        let mut remaining = self.budget;
        let mut pc = 0usize;

        macro_rules! load {
            ($ty:ty, $addr:expr) => {{
                const N: usize = std::mem::size_of::<$ty>();
                let addr: u64 = $addr;
                if ALIGN && addr % N as u64 != 0 {
                    return Err(misaligned(pc - 1, addr, N, Access::Read));
                }
                match self.mem.load::<N>(addr) {
                    Some(bytes) => <$ty>::from_le_bytes(bytes),
                    None => return Err(read_fault(pc - 1, addr, N)),
                }
            }};
        }
        macro_rules! store {
            ($ty:ty, $addr:expr, $value:expr) => {{
                const N: usize = std::mem::size_of::<$ty>();
                let addr: u64 = $addr;
                if ALIGN && addr % N as u64 != 0 {
                    return Err(misaligned(pc - 1, addr, N, Access::Write));
                }
                if self
                    .mem
                    .store::<N>(addr, ($value as $ty).to_le_bytes())
                    .is_none()
                {
                    return Err(Fault::on_write(&self.mem, pc - 1, addr, N));
                }
            }};
        }
        loop {
            let op = ops[pc];
            if METER {
                if remaining == 0 {
                    return Err(Fault::Budget {
                        pc,
                        budget: self.budget,
                    });
                }
                remaining -= 1;
            }
            pc += 1;
            let d = (op.dst & 15) as usize;
            let s = (op.src & 15) as usize;
            let imm = op.imm;
            let target = op.off as usize;
            let mem_addr = |base: u64| base.wrapping_add(op.off as i64 as u64);
            // A read-modify-write of memory at `dst + off` with `src`; `fetch` writes the old value
            // back to src.
            macro_rules! rmw {
                ($ty:ty, $fetch:expr, |$old:ident, $src:ident| $new:expr) => {{
                    let addr = mem_addr(regs[d]);
                    let $old = load!($ty, addr);
                    let $src = regs[s] as $ty;
                    store!($ty, addr, $new);
                    if $fetch {
                        regs[s] = $old as u64;
                    }
                }};
            }

            match op.opcode {
                // 32-bit ALU: operate on the low halves, zero-extend the result.
                Opcode::Add32Imm => regs[d] = (regs[d] as u32).wrapping_add(imm as u32) as u64,
                Opcode::Add32Reg => regs[d] = (regs[d] as u32).wrapping_add(regs[s] as u32) as u64,
                Opcode::Sub32Imm => regs[d] = (regs[d] as u32).wrapping_sub(imm as u32) as u64,
                Opcode::Sub32Reg => regs[d] = (regs[d] as u32).wrapping_sub(regs[s] as u32) as u64,
                Opcode::Mul32Imm => regs[d] = (regs[d] as u32).wrapping_mul(imm as u32) as u64,
                Opcode::Mul32Reg => regs[d] = (regs[d] as u32).wrapping_mul(regs[s] as u32) as u64,
                Opcode::Div32Imm => regs[d] = div32(regs[d], imm as u64),
                Opcode::Div32Reg => regs[d] = div32(regs[d], regs[s]),
                Opcode::SDiv32Imm => regs[d] = sdiv32(regs[d], imm as u64),
                Opcode::SDiv32Reg => regs[d] = sdiv32(regs[d], regs[s]),
                Opcode::Mod32Imm => regs[d] = mod32(regs[d], imm as u64),
                Opcode::Mod32Reg => regs[d] = mod32(regs[d], regs[s]),
                Opcode::SMod32Imm => regs[d] = smod32(regs[d], imm as u64),
                Opcode::SMod32Reg => regs[d] = smod32(regs[d], regs[s]),
                Opcode::Or32Imm => regs[d] = (regs[d] as u32 | imm as u32) as u64,
                Opcode::Or32Reg => regs[d] = (regs[d] as u32 | regs[s] as u32) as u64,
                Opcode::And32Imm => regs[d] = (regs[d] as u32 & imm as u32) as u64,
                Opcode::And32Reg => regs[d] = (regs[d] as u32 & regs[s] as u32) as u64,
                Opcode::Xor32Imm => regs[d] = (regs[d] as u32 ^ imm as u32) as u64,
                Opcode::Xor32Reg => regs[d] = (regs[d] as u32 ^ regs[s] as u32) as u64,
                Opcode::Lsh32Imm => regs[d] = ((regs[d] as u32) << (imm as u32 & 31)) as u64,
                Opcode::Lsh32Reg => regs[d] = ((regs[d] as u32) << (regs[s] as u32 & 31)) as u64,
                Opcode::Rsh32Imm => regs[d] = ((regs[d] as u32) >> (imm as u32 & 31)) as u64,
                Opcode::Rsh32Reg => regs[d] = ((regs[d] as u32) >> (regs[s] as u32 & 31)) as u64,
                Opcode::Arsh32Imm => {
                    regs[d] = ((regs[d] as i32) >> (imm as u32 & 31)) as u32 as u64
                }
                Opcode::Arsh32Reg => {
                    regs[d] = ((regs[d] as i32) >> (regs[s] as u32 & 31)) as u32 as u64
                }
                Opcode::Neg32 => regs[d] = (regs[d] as u32).wrapping_neg() as u64,
                Opcode::Mov32Imm => regs[d] = imm as u32 as u64,
                Opcode::Mov32Reg => regs[d] = regs[s] as u32 as u64,
                Opcode::MovSx8To32 => regs[d] = regs[s] as i8 as i32 as u32 as u64,
                Opcode::MovSx16To32 => regs[d] = regs[s] as i16 as i32 as u32 as u64,

                // 64-bit ALU; immediates are sign-extended to 64 bits.
                Opcode::Add64Imm => regs[d] = regs[d].wrapping_add(imm as u64),
                Opcode::Add64Reg => regs[d] = regs[d].wrapping_add(regs[s]),
                Opcode::Sub64Imm => regs[d] = regs[d].wrapping_sub(imm as u64),
                Opcode::Sub64Reg => regs[d] = regs[d].wrapping_sub(regs[s]),
                Opcode::Mul64Imm => regs[d] = regs[d].wrapping_mul(imm as u64),
                Opcode::Mul64Reg => regs[d] = regs[d].wrapping_mul(regs[s]),
                Opcode::Div64Imm => regs[d] = regs[d].checked_div(imm as u64).unwrap_or(0),
                Opcode::Div64Reg => regs[d] = regs[d].checked_div(regs[s]).unwrap_or(0),
                Opcode::SDiv64Imm => regs[d] = sdiv64(regs[d], imm as u64),
                Opcode::SDiv64Reg => regs[d] = sdiv64(regs[d], regs[s]),
                Opcode::Mod64Imm => regs[d] = regs[d].checked_rem(imm as u64).unwrap_or(regs[d]),
                Opcode::Mod64Reg => regs[d] = regs[d].checked_rem(regs[s]).unwrap_or(regs[d]),
                Opcode::SMod64Imm => regs[d] = smod64(regs[d], imm as u64),
                Opcode::SMod64Reg => regs[d] = smod64(regs[d], regs[s]),
                Opcode::Or64Imm => regs[d] |= imm as u64,
                Opcode::Or64Reg => regs[d] |= regs[s],
                Opcode::And64Imm => regs[d] &= imm as u64,
                Opcode::And64Reg => regs[d] &= regs[s],
                Opcode::Xor64Imm => regs[d] ^= imm as u64,
                Opcode::Xor64Reg => regs[d] ^= regs[s],
                Opcode::Lsh64Imm => regs[d] <<= imm as u64 & 63,
                Opcode::Lsh64Reg => regs[d] <<= regs[s] & 63,
                Opcode::Rsh64Imm => regs[d] >>= imm as u64 & 63,
                Opcode::Rsh64Reg => regs[d] >>= regs[s] & 63,
                Opcode::Arsh64Imm => regs[d] = ((regs[d] as i64) >> (imm as u64 & 63)) as u64,
                Opcode::Arsh64Reg => regs[d] = ((regs[d] as i64) >> (regs[s] & 63)) as u64,
                Opcode::Neg64 => regs[d] = regs[d].wrapping_neg(),
                Opcode::Mov64Imm => regs[d] = imm as u64,
                Opcode::Mov64Reg => regs[d] = regs[s],
                Opcode::MovSx8To64 => regs[d] = regs[s] as i8 as i64 as u64,
                Opcode::MovSx16To64 => regs[d] = regs[s] as i16 as i64 as u64,
                Opcode::MovSx32To64 => regs[d] = regs[s] as i32 as i64 as u64,

                // Byte order: `le` is a truncation on a little-endian host, `be` a swap.
                Opcode::Le16 => regs[d] = (regs[d] as u16).to_le() as u64,
                Opcode::Le32 => regs[d] = (regs[d] as u32).to_le() as u64,
                Opcode::Le64 => regs[d] = regs[d].to_le(),
                Opcode::Be16 => regs[d] = (regs[d] as u16).to_be() as u64,
                Opcode::Be32 => regs[d] = (regs[d] as u32).to_be() as u64,
                Opcode::Be64 => regs[d] = regs[d].to_be(),
                Opcode::Bswap16 => regs[d] = (regs[d] as u16).swap_bytes() as u64,
                Opcode::Bswap32 => regs[d] = (regs[d] as u32).swap_bytes() as u64,
                Opcode::Bswap64 => regs[d] = regs[d].swap_bytes(),

                // lddw: every pseudo form was resolved to a value at load time.
                Opcode::LdImm64 => {
                    regs[d] = imm as u64;
                    pc += 1;
                }
                Opcode::LdMapFd
                | Opcode::LdMapValue
                | Opcode::LdBtfId
                | Opcode::LdFunc
                | Opcode::LdMapIdx
                | Opcode::LdMapIdxValue => {
                    unreachable!("lowered to LdImm64 when the program was loaded")
                }

                // Legacy packet loads: big-endian, and out of bounds ends the program with 0.
                Opcode::LdAbsB
                | Opcode::LdAbsH
                | Opcode::LdAbsW
                | Opcode::LdIndB
                | Opcode::LdIndH
                | Opcode::LdIndW => match self.packet_load(op.opcode, imm, regs[s]) {
                    Some(v) => regs[0] = v,
                    None => return Ok(0),
                },

                Opcode::LdxB => regs[d] = load!(u8, mem_addr(regs[s])) as u64,
                Opcode::LdxH => regs[d] = load!(u16, mem_addr(regs[s])) as u64,
                Opcode::LdxW => regs[d] = load!(u32, mem_addr(regs[s])) as u64,
                Opcode::LdxDW => regs[d] = load!(u64, mem_addr(regs[s])),
                Opcode::LdxSB => regs[d] = load!(i8, mem_addr(regs[s])) as i64 as u64,
                Opcode::LdxSH => regs[d] = load!(i16, mem_addr(regs[s])) as i64 as u64,
                Opcode::LdxSW => regs[d] = load!(i32, mem_addr(regs[s])) as i64 as u64,

                Opcode::StB => store!(u8, mem_addr(regs[d]), imm),
                Opcode::StH => store!(u16, mem_addr(regs[d]), imm),
                Opcode::StW => store!(u32, mem_addr(regs[d]), imm),
                Opcode::StDW => store!(u64, mem_addr(regs[d]), imm),
                Opcode::StxB => store!(u8, mem_addr(regs[d]), regs[s]),
                Opcode::StxH => store!(u16, mem_addr(regs[d]), regs[s]),
                Opcode::StxW => store!(u32, mem_addr(regs[d]), regs[s]),
                Opcode::StxDW => store!(u64, mem_addr(regs[d]), regs[s]),

                // Atomics: runs are single-threaded, so a load then a store is atomic. The
                // fetching forms write the old value to src (zero-extended for 32 bits).
                Opcode::AtomicAdd32 => rmw!(u32, false, |old, src| old.wrapping_add(src)),
                Opcode::AtomicFetchAdd32 => rmw!(u32, true, |old, src| old.wrapping_add(src)),
                Opcode::AtomicOr32 => rmw!(u32, false, |old, src| old | src),
                Opcode::AtomicFetchOr32 => rmw!(u32, true, |old, src| old | src),
                Opcode::AtomicAnd32 => rmw!(u32, false, |old, src| old & src),
                Opcode::AtomicFetchAnd32 => rmw!(u32, true, |old, src| old & src),
                Opcode::AtomicXor32 => rmw!(u32, false, |old, src| old ^ src),
                Opcode::AtomicFetchXor32 => rmw!(u32, true, |old, src| old ^ src),
                Opcode::AtomicXchg32 => rmw!(u32, true, |_old, src| src),
                Opcode::AtomicAdd64 => rmw!(u64, false, |old, src| old.wrapping_add(src)),
                Opcode::AtomicFetchAdd64 => rmw!(u64, true, |old, src| old.wrapping_add(src)),
                Opcode::AtomicOr64 => rmw!(u64, false, |old, src| old | src),
                Opcode::AtomicFetchOr64 => rmw!(u64, true, |old, src| old | src),
                Opcode::AtomicAnd64 => rmw!(u64, false, |old, src| old & src),
                Opcode::AtomicFetchAnd64 => rmw!(u64, true, |old, src| old & src),
                Opcode::AtomicXor64 => rmw!(u64, false, |old, src| old ^ src),
                Opcode::AtomicFetchXor64 => rmw!(u64, true, |old, src| old ^ src),
                Opcode::AtomicXchg64 => rmw!(u64, true, |_old, src| src),
                // cmpxchg compares with r0 and always leaves the old value in r0.
                Opcode::AtomicCmpXchg32 => {
                    let addr = mem_addr(regs[d]);
                    let old = load!(u32, addr);
                    if old == regs[0] as u32 {
                        store!(u32, addr, regs[s]);
                    }
                    regs[0] = old as u64;
                }
                Opcode::AtomicCmpXchg64 => {
                    let addr = mem_addr(regs[d]);
                    let old = load!(u64, addr);
                    if old == regs[0] {
                        store!(u64, addr, regs[s]);
                    }
                    regs[0] = old;
                }

                // Jumps: targets are absolute slot indices.
                Opcode::Ja | Opcode::Ja32 => pc = target,
                Opcode::JeqImm => jump_if(&mut pc, target, regs[d] == imm as u64),
                Opcode::JeqReg => jump_if(&mut pc, target, regs[d] == regs[s]),
                Opcode::JneImm => jump_if(&mut pc, target, regs[d] != imm as u64),
                Opcode::JneReg => jump_if(&mut pc, target, regs[d] != regs[s]),
                Opcode::JgtImm => jump_if(&mut pc, target, regs[d] > imm as u64),
                Opcode::JgtReg => jump_if(&mut pc, target, regs[d] > regs[s]),
                Opcode::JgeImm => jump_if(&mut pc, target, regs[d] >= imm as u64),
                Opcode::JgeReg => jump_if(&mut pc, target, regs[d] >= regs[s]),
                Opcode::JltImm => jump_if(&mut pc, target, regs[d] < imm as u64),
                Opcode::JltReg => jump_if(&mut pc, target, regs[d] < regs[s]),
                Opcode::JleImm => jump_if(&mut pc, target, regs[d] <= imm as u64),
                Opcode::JleReg => jump_if(&mut pc, target, regs[d] <= regs[s]),
                Opcode::JsetImm => jump_if(&mut pc, target, regs[d] & imm as u64 != 0),
                Opcode::JsetReg => jump_if(&mut pc, target, regs[d] & regs[s] != 0),
                Opcode::JsgtImm => jump_if(&mut pc, target, regs[d] as i64 > imm),
                Opcode::JsgtReg => jump_if(&mut pc, target, regs[d] as i64 > regs[s] as i64),
                Opcode::JsgeImm => jump_if(&mut pc, target, regs[d] as i64 >= imm),
                Opcode::JsgeReg => jump_if(&mut pc, target, regs[d] as i64 >= regs[s] as i64),
                Opcode::JsltImm => jump_if(&mut pc, target, (regs[d] as i64) < imm),
                Opcode::JsltReg => jump_if(&mut pc, target, (regs[d] as i64) < regs[s] as i64),
                Opcode::JsleImm => jump_if(&mut pc, target, regs[d] as i64 <= imm),
                Opcode::JsleReg => jump_if(&mut pc, target, regs[d] as i64 <= regs[s] as i64),
                Opcode::Jeq32Imm => jump_if(&mut pc, target, regs[d] as u32 == imm as u32),
                Opcode::Jeq32Reg => jump_if(&mut pc, target, regs[d] as u32 == regs[s] as u32),
                Opcode::Jne32Imm => jump_if(&mut pc, target, regs[d] as u32 != imm as u32),
                Opcode::Jne32Reg => jump_if(&mut pc, target, regs[d] as u32 != regs[s] as u32),
                Opcode::Jgt32Imm => jump_if(&mut pc, target, regs[d] as u32 > imm as u32),
                Opcode::Jgt32Reg => jump_if(&mut pc, target, regs[d] as u32 > regs[s] as u32),
                Opcode::Jge32Imm => jump_if(&mut pc, target, regs[d] as u32 >= imm as u32),
                Opcode::Jge32Reg => jump_if(&mut pc, target, regs[d] as u32 >= regs[s] as u32),
                Opcode::Jlt32Imm => jump_if(&mut pc, target, (regs[d] as u32) < imm as u32),
                Opcode::Jlt32Reg => jump_if(&mut pc, target, (regs[d] as u32) < regs[s] as u32),
                Opcode::Jle32Imm => jump_if(&mut pc, target, regs[d] as u32 <= imm as u32),
                Opcode::Jle32Reg => jump_if(&mut pc, target, regs[d] as u32 <= regs[s] as u32),
                Opcode::Jset32Imm => jump_if(&mut pc, target, regs[d] as u32 & imm as u32 != 0),
                Opcode::Jset32Reg => jump_if(&mut pc, target, regs[d] as u32 & regs[s] as u32 != 0),
                Opcode::Jsgt32Imm => jump_if(&mut pc, target, regs[d] as i32 > imm as i32),
                Opcode::Jsgt32Reg => jump_if(&mut pc, target, regs[d] as i32 > regs[s] as i32),
                Opcode::Jsge32Imm => jump_if(&mut pc, target, regs[d] as i32 >= imm as i32),
                Opcode::Jsge32Reg => jump_if(&mut pc, target, regs[d] as i32 >= regs[s] as i32),
                Opcode::Jslt32Imm => jump_if(&mut pc, target, (regs[d] as i32) < imm as i32),
                Opcode::Jslt32Reg => jump_if(&mut pc, target, (regs[d] as i32) < regs[s] as i32),
                Opcode::Jsle32Imm => jump_if(&mut pc, target, regs[d] as i32 <= imm as i32),
                Opcode::Jsle32Reg => jump_if(&mut pc, target, regs[d] as i32 <= regs[s] as i32),

                // Calls.
                Opcode::Call | Opcode::CallX => {
                    let id = if op.opcode == Opcode::Call {
                        imm as u32
                    } else {
                        regs[d] as u32
                    };
                    if id == ids::TAIL_CALL {
                        if let Some(next) =
                            self.tail_call(pc - 1, regs[2], regs[3], &mut tail_calls)?
                        {
                            program = next;
                            ops = &self.programs[next].ops[..];
                            pc = 0;
                        }
                    } else {
                        regs[0] = self.call_helper(
                            pc - 1,
                            id,
                            [regs[1], regs[2], regs[3], regs[4], regs[5]],
                        )?;
                    }
                }
                Opcode::CallLocal => {
                    if depth + 1 >= MAX_FRAMES {
                        return Err(Fault::CallDepth {
                            pc: pc - 1,
                            max: MAX_FRAMES,
                        });
                    }
                    frames[depth] = Frame {
                        program,
                        return_pc: pc,
                        saved: [regs[6], regs[7], regs[8], regs[9]],
                    };
                    depth += 1;
                    regs[10] = frame_pointer(depth);
                    pc = target;
                }
                Opcode::CallKfunc => {
                    return Err(Fault::Kfunc {
                        pc: pc - 1,
                        btf_id: imm as i32,
                    });
                }
                Opcode::Exit => {
                    if depth == 0 {
                        return Ok(regs[0]);
                    }
                    depth -= 1;
                    let frame = frames[depth];
                    regs[6..10].copy_from_slice(&frame.saved);
                    regs[10] = frame_pointer(depth);
                    pc = frame.return_pc;
                    if frame.program != program {
                        program = frame.program;
                        ops = &self.programs[program].ops[..];
                    }
                }
            }
        }
    }

    /// The legacy `BPF_ABS`/`BPF_IND` load from the input region, in network byte order.
    pub(crate) fn packet_load(&self, opcode: Opcode, imm: i64, src: u64) -> Option<u64> {
        let offset = match opcode {
            Opcode::LdIndB | Opcode::LdIndH | Opcode::LdIndW => {
                (src as i32).wrapping_add(imm as i32)
            }
            _ => imm as i32,
        };
        // A negative offset selects the kernel's special SKF_*_OFF areas, which we lack.
        let addr = region_base(INPUT_REGION) + u32::try_from(offset).ok()? as u64;
        Some(match opcode {
            Opcode::LdAbsB | Opcode::LdIndB => self.mem.load::<1>(addr)?[0] as u64,
            Opcode::LdAbsH | Opcode::LdIndH => u16::from_be_bytes(self.mem.load::<2>(addr)?) as u64,
            _ => u32::from_be_bytes(self.mem.load::<4>(addr)?) as u64,
        })
    }

    pub(crate) fn call_helper(&mut self, pc: usize, id: u32, args: [u64; 5]) -> Result<u64, Fault> {
        let Some(Some(helper)) = self.helpers.get_mut(id as usize) else {
            return Err(Fault::UnknownHelper { pc, id });
        };
        let mut env = HelperEnv {
            mem: &mut self.mem,
            maps: &mut self.maps,
            pc,
            id,
        };
        helper(&mut env, args)
    }

    /// `bpf_tail_call(ctx, map, index)`: the program to continue in, or `None` to fall through
    /// to the next instruction, as the kernel does when the index is empty or out of range or
    /// the count of tail calls has reached its limit.
    pub(crate) fn tail_call(
        &mut self,
        pc: usize,
        map: u64,
        index: u64,
        count: &mut u32,
    ) -> Result<Option<usize>, Fault> {
        let handle = map.wrapping_sub(region_base(MAP_HANDLE_REGION));
        let Some(keys) = self
            .maps
            .get(handle as usize)
            .filter(|_| handle < u32::MAX as u64)
        else {
            return Err(Fault::Helper {
                pc,
                id: ids::TAIL_CALL,
                message: format!("{map:#x} is not a map"),
            });
        };
        let Some(next) = keys.program_at(index as u32 as u64) else {
            return Ok(None);
        };
        if *count >= MAX_TAIL_CALLS {
            return match self.tail_call_overflow {
                TailCallOverflow::FallThrough => Ok(None),
                TailCallOverflow::Fault => Err(Fault::TailCallLimit {
                    pc,
                    max: MAX_TAIL_CALLS,
                }),
            };
        }
        *count += 1;
        Ok(Some(next as usize))
    }
}

/// Takes a conditional jump.
///
/// Left alone, the compiler turns this into a conditional move of `pc`, so fetching the next
/// instruction waits for the register load and the compare; that costs several nanoseconds per
/// jump. The empty `black_box` keeps it a branch, which the CPU predicts and runs past.
#[inline(always)]
fn jump_if(pc: &mut usize, target: usize, cond: bool) {
    if cond {
        std::hint::black_box(());
        *pc = target;
    }
}

// Division and modulo as RFC 9669 defines them: by zero, division gives 0 and modulo leaves the
// dividend (32-bit forms still zero the upper half); signed overflow (INT_MIN / -1) wraps.
fn div32(a: u64, b: u64) -> u64 {
    (a as u32).checked_div(b as u32).unwrap_or(0) as u64
}
fn mod32(a: u64, b: u64) -> u64 {
    let a = a as u32;
    a.checked_rem(b as u32).unwrap_or(a) as u64
}
fn sdiv32(a: u64, b: u64) -> u64 {
    let (a, b) = (a as i32, b as i32);
    if b == 0 {
        0
    } else {
        a.wrapping_div(b) as u32 as u64
    }
}
fn smod32(a: u64, b: u64) -> u64 {
    let (a, b) = (a as i32, b as i32);
    if b == 0 {
        a as u32 as u64
    } else {
        a.wrapping_rem(b) as u32 as u64
    }
}
fn sdiv64(a: u64, b: u64) -> u64 {
    let (a, b) = (a as i64, b as i64);
    if b == 0 { 0 } else { a.wrapping_div(b) as u64 }
}
fn smod64(a: u64, b: u64) -> u64 {
    let (sa, sb) = (a as i64, b as i64);
    if sb == 0 {
        a
    } else {
        sa.wrapping_rem(sb) as u64
    }
}
