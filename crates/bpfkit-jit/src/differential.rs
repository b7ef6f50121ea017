//! Random programs, and the check that the JIT and the interpreter agree on them: the same
//! `r0`, or the same fault at the same instruction, and the same memory afterwards. Used by the
//! property test and the `jit_vs_interp` fuzz target, from bytes (a fuzzer's input or a seeded
//! generator's).
//!
//! Programs are built from every row of the instruction table with operands steered toward
//! the edges: memory accesses through `r1` (the input), `r10` (the frame) and constants that
//! are addresses of every region, at offsets just inside and just outside them; jumps and calls
//! anywhere; every helper kind (map helpers, `bpf_tail_call` through a program array, a helper
//! that reads and writes memory, one that faults, unknown ids, kfuncs). A quarter of the cases
//! start with a loop of the shape the JIT versions (see [`crate::loops`]): a cursor walking to a
//! bound by a step, pointers moving with it or fixed, accesses around the edges of the input,
//! the frame and map values, and now and then what makes such a loop unfit. Another quarter
//! start with a parser of the shape [`crate::window`] proves, its headers checked against an
//! end (see `window_program`) or, in half of them, its offsets against a length (see
//! `length_window_program`). An eighth set `r6`-`r9`, call a random function and fold the
//! four into `r0` after it returns (see `call_program`). A program with a
//! backward jump or call runs with a budget (so it ends, and metered code is covered); others
//! run without one.

use bpfkit_isa::{Insn, Kind, Opcode, Reg, TABLE};
use bpfkit_vm::memory::{CODE_REGION, INPUT_REGION, MAP_HANDLE_REGION, MAP_VALUE_REGION};
use bpfkit_vm::memory::{frame_pointer, region_base};
use bpfkit_vm::{Fault, LoadError, MapDef, MapId, MapType, ProgId, Program, TailCallOverflow, Vm};

use crate::{Atomics, Jit, JitError};

/// Reads random choices from bytes; past their end every choice is 0.
#[derive(Clone, Debug)]
pub struct Source<'a> {
    bytes: &'a [u8],
    at: usize,
}

impl<'a> Source<'a> {
    /// Choices from `bytes`.
    pub fn new(bytes: &'a [u8]) -> Source<'a> {
        Source { bytes, at: 0 }
    }

    fn byte(&mut self) -> u8 {
        let b = self.bytes.get(self.at).copied().unwrap_or(0);
        self.at += 1;
        b
    }

    fn u64(&mut self) -> u64 {
        (0..8).fold(0, |v, _| (v << 8) | self.byte() as u64)
    }

    /// A number in `0..n` (`n` at most 65536).
    fn below(&mut self, n: usize) -> usize {
        let v = (self.byte() as usize) << 8 | self.byte() as usize;
        v % n.max(1)
    }

    fn chance(&mut self, percent: usize) -> bool {
        self.below(100) < percent
    }

    fn pick<T: Copy>(&mut self, items: &[T]) -> T {
        items[self.below(items.len())]
    }
}

/// Helper ids the generated programs call: the VM's map helpers (1-3), `bpf_tail_call` (12),
/// [`ECHO`], [`POKE`], [`FAIL`], and one nobody registered.
const HELPERS: [i32; 8] = [1, 2, 3, 12, ECHO as i32, POKE as i32, FAIL as i32, 99];
/// Returns its first argument (the conformance suite's helper 5).
pub const ECHO: u32 = 5;
/// Writes its third argument as a u64 at its first argument, reads back 8 bytes at its second,
/// and returns their sum: a helper that uses the program's memory both ways.
pub const POKE: u32 = 6;
/// Fails with a helper fault.
pub const FAIL: u32 = 7;

/// Input lengths and the sizes of the maps' values, so that offsets land on their edges.
const INPUT_LENS: [usize; 6] = [0, 1, 8, 14, 32, 64];

/// One generated test: programs (the first is the entry, the others tail-call targets), the
/// input, the run options and the program array's entries.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Case {
    /// The programs; program 0 runs first.
    pub programs: Vec<Vec<Insn>>,
    /// The input memory (`r1`, `r2`).
    pub input: Vec<u8>,
    /// The instruction budget.
    pub budget: Option<u64>,
    /// Strict alignment.
    pub strict_alignment: bool,
    /// Entries of the program array (map 2).
    pub prog_array: [Option<u32>; 4],
    /// What a tail call past the limit does.
    pub tail_call_overflow: TailCallOverflow,
}

fn reg(n: usize) -> Reg {
    Reg::new(n as u8).unwrap_or(Reg::R0)
}

/// Interesting 32-bit immediates.
fn imm(src: &mut Source<'_>) -> i32 {
    match src.below(10) {
        0 => 0,
        1 => 1,
        2 => -1,
        3 => src.pick(&[2, 7, 8, 16, 31, 32, 33, 63, 64, 255, 0x8000]),
        4 => src.pick(&[i32::MIN, i32::MAX, -2, -8, -512, 0xffff, 0x1_0000]),
        _ => src.u64() as i32,
    }
}

/// Offsets around the edges of the input, the frame and the map values.
fn mem_off(src: &mut Source<'_>, input_len: usize) -> i16 {
    let len = input_len as i16;
    match src.below(8) {
        0 | 6 => src.pick(&[-512, -513, -511, -8, -4, -1, -504, -520]),
        7 => -(src.below(64) as i16),
        1 => src.pick(&[0, 1, 2, 4, 7, 8, 12, 15, 16]),
        2 => len - src.below(9) as i16,
        3 => len + src.below(3) as i16,
        4 => -(src.below(600) as i16),
        _ => src.u64() as i16,
    }
}

/// Addresses a program can load with `lddw`: every region's start and edges.
fn address(src: &mut Source<'_>, input_len: usize) -> u64 {
    let region = match src.below(6) {
        0 => INPUT_REGION,
        1 => MAP_VALUE_REGION + src.below(3) as u64,
        2 => MAP_HANDLE_REGION,
        3 => CODE_REGION,
        4 => src.below(14) as u64,
        _ => return frame_pointer(src.below(9)).wrapping_add(src.below(16) as u64),
    };
    let off = match src.below(3) {
        0 => 0,
        1 => input_len as u64 + src.below(3) as u64,
        _ => src.below(40) as u64,
    };
    region_base(region) + off
}

/// A jump or call target: an instruction index, plus whether it is backward.
fn target(src: &mut Source<'_>, at: usize, len: usize, forward_only: bool) -> usize {
    if forward_only || src.chance(70) {
        at + 1 + src.below(len.saturating_sub(at).max(1))
    } else {
        src.below(len)
    }
}

/// One program of at most `max` instructions; jumps and calls are given as instruction
/// indices in `off`/`imm` and fixed up to slot distances by [`to_slots`].
fn program(src: &mut Source<'_>, max: usize, input_len: usize, forward_only: bool) -> Vec<Insn> {
    let len = 1 + src.below(max);
    let mut insns = Vec::with_capacity(len + 1);
    for at in 0..len {
        let mut spec = &TABLE[src.below(TABLE.len())];
        // Most instructions compute; a memory access or a call more often ends the program.
        if !matches!(spec.kind, Kind::Alu { .. } | Kind::Jump { .. }) && src.chance(40) {
            spec = &TABLE[src.below(TABLE.len())];
        }
        let mut insn = Insn::new(spec.opcode);
        let used = spec.kind.operands();
        // Registers a program may write are r0-r9; r10 is only ever read.
        let writes_dst = matches!(
            spec.kind,
            Kind::Alu { .. } | Kind::Endian { .. } | Kind::LoadImm64 { .. } | Kind::Load { .. }
        );
        if used.dst {
            insn.dst = match spec.kind {
                Kind::Store { .. } | Kind::Atomic { .. } if src.chance(80) => {
                    src.pick(&[Reg::R1, Reg::R10])
                }
                _ if writes_dst => reg(src.below(10)),
                _ => reg(src.below(11)),
            };
        }
        if used.src {
            insn.src = match spec.kind {
                Kind::Load { .. } if src.chance(80) => src.pick(&[Reg::R1, Reg::R10]),
                // Fetching atomics write src.
                Kind::Atomic { .. } => reg(src.below(10)),
                _ => reg(src.below(11)),
            };
        }
        if used.off {
            insn.off = mem_off(src, input_len);
        }
        if used.imm {
            insn.imm = imm(src);
        }
        match spec.kind {
            Kind::Jump { .. } | Kind::Ja => {
                insn.off = target(src, at, len, forward_only) as i16;
            }
            Kind::Ja32 => insn.imm = target(src, at, len, forward_only) as i32,
            Kind::Call { target: t } => match t {
                bpfkit_isa::CallTarget::Local => {
                    insn.imm = target(src, at, len, forward_only) as i32;
                }
                bpfkit_isa::CallTarget::Helper => insn.imm = src.pick(&HELPERS),
                bpfkit_isa::CallTarget::Kfunc => {}
            },
            Kind::LoadImm64 { .. } => match spec.opcode {
                Opcode::LdImm64 if src.chance(50) => {
                    insn = insn.with_imm64(address(src, input_len));
                }
                Opcode::LdImm64 => insn = insn.with_imm64(src.u64()),
                Opcode::LdMapFd | Opcode::LdMapIdx => insn.imm = src.below(4) as i32,
                Opcode::LdMapValue | Opcode::LdMapIdxValue => {
                    insn.imm = src.below(3) as i32;
                    insn.next_imm = src.below(24) as i32;
                }
                Opcode::LdFunc => insn.imm = target(src, at, len, forward_only) as i32,
                _ => {}
            },
            _ => {}
        }
        // Now and then a call to itself, recursing until the frames run out.
        if at == 0 && !forward_only && src.chance(10) {
            insn = Insn::new(Opcode::CallLocal);
        }
        insns.push(insn);
    }
    insns.push(Insn::new(Opcode::Exit));
    to_slots(&mut insns);
    insns
}

/// A caller that sets `r6`-`r9`, calls a function made by [`program`] (which may write some
/// of them, and call on), and folds all four into `r0` after it returns: the callee-saved
/// registers as the caller sees them, which a backend that saves fewer than the callee writes
/// gets wrong.
fn call_program(src: &mut Source<'_>, input_len: usize) -> Vec<Insn> {
    let saved = [Reg::R6, Reg::R7, Reg::R8, Reg::R9];
    let mut insns: Vec<Insn> = saved
        .iter()
        .map(|&r| op(Opcode::Mov64Imm, r, Reg::R0, 0, imm(src)))
        .collect();
    // The callee starts after the call, the fold (two slots a register) and the exit.
    let call = insns.len();
    let callee = call + 1 + 2 * saved.len() + 1;
    insns.push(Insn::new(Opcode::CallLocal).with_imm((callee - call - 1) as i32));
    for r in saved {
        insns.push(op(Opcode::Mul64Imm, Reg::R0, Reg::R0, 0, 31));
        insns.push(op(Opcode::Xor64Reg, Reg::R0, r, 0, 0));
    }
    insns.push(Insn::new(Opcode::Exit));
    debug_assert_eq!(insns.len(), callee);
    // [`program`]'s jumps are relative by now, so it moves as a whole.
    insns.extend(program(src, 24, input_len, true));
    insns
}

/// `dst = src` (64-bit).
fn mov(dst: Reg, src: Reg) -> Insn {
    let mut insn = Insn::new(Opcode::Mov64Reg);
    (insn.dst, insn.src) = (dst, src);
    insn
}

/// An instruction `opcode` with `dst`, `src`, `off` and `imm`.
fn op(opcode: Opcode, dst: Reg, src: Reg, off: i16, imm: i32) -> Insn {
    let mut insn = Insn::new(opcode);
    (insn.dst, insn.src, insn.off, insn.imm) = (dst, src, off, imm);
    insn
}

/// A loop of the shape the JIT versions (see `crate::loops`), with its edges varied: a cursor
/// `r3` walking up to a bound `r4` by a step (an immediate, or `r7`), a pointer `r5` that
/// mostly moves with it, a pointer `r6` the loop mostly leaves alone, accesses through all
/// three before and after the moves at offsets around the region's edges, exits, jumps inside
/// the loop, and now and then what makes a loop unfit (a second write of a pointer, a jump over
/// a move, a jump back into the loop). Where each starts is near the input's edges, in the
/// frame or in a map value. Jumps are instruction indices, as in [`program`].
///
/// In two loops of five the cursor is an index instead, starting near 0, near the input's
/// length or past 2^63 (now and then plus `r1 - r1`, which the JIT guesses is a pointer), and
/// the accesses through it go through an address formed in the round (`r8 = r1; r8 += r3`,
/// sometimes plus the bound or a constant, sometimes copied on to `r9`).
fn loop_program(src: &mut Source<'_>, input_len: usize) -> Vec<Insn> {
    let (p, bound, q, v, step) = (Reg::R3, Reg::R4, Reg::R5, Reg::R6, Reg::R7);
    let len = input_len as i32;
    let indexed = src.chance(40);
    // Whether the index is one the JIT guesses is a pointer (below).
    let mut disguised = false;
    let mut insns = Vec::new();
    // Where a pointer starts: in the input, the frame or a map value, near an edge.
    let start = |src: &mut Source<'_>, insns: &mut Vec<Insn>, r: Reg| {
        let (base, off) = match src.below(10) {
            0 => (Reg::R10, -(src.pick(&[8, 16, 64, 512, 513]))),
            1 => {
                let mut lddw = Insn::new(Opcode::LdMapValue);
                (lddw.dst, lddw.imm, lddw.next_imm) = (r, src.below(2) as i32, 0);
                insns.push(lddw);
                (r, src.pick(&[0, 1, 8, 15, 16]))
            }
            2..=3 => (
                Reg::R1,
                src.pick(&[7, 8, len / 2, len - 8, len - 1, len, -1]),
            ),
            _ => (Reg::R1, src.pick(&[0, 0, 1, 2])),
        };
        if base != r {
            insns.push(mov(r, base));
        }
        insns.push(op(Opcode::Add64Imm, r, Reg::R0, 0, off));
    };
    if indexed {
        let first = src.pick(&[0, 0, 0, 1, 2, 8, len - 1, len, -1, i32::MIN, i32::MAX]);
        insns.push(op(Opcode::Mov64Imm, p, Reg::R0, 0, first));
        if src.chance(30) {
            // The same index as `r1 - (r1 - index)`, the second `r1` through the frame: one
            // the JIT guesses is in the input (the guess follows `r1`, not the frame), which it
            // must not trust. The addresses formed from it then start from `r9`, `r1 - index`,
            // whose region is not guessed: what the loop's check can prove is then only `q`,
            // moving with a cursor whose own span is not checked.
            disguised = true;
            insns.push(op(Opcode::StxDW, Reg::R10, Reg::R1, -8, 0));
            insns.push(op(Opcode::LdxDW, Reg::R9, Reg::R10, -8, 0));
            insns.push(op(Opcode::Sub64Reg, Reg::R9, p, 0, 0));
            insns.push(mov(p, Reg::R1));
            insns.push(op(Opcode::Sub64Reg, p, Reg::R9, 0, 0));
        }
    } else {
        start(src, &mut insns, p);
    }
    // The bound: past the cursor by a distance around the input's length, or anything.
    insns.push(mov(bound, p));
    let distance = match src.below(10) {
        0 => src.u64() as i32,
        // A bound just below the cursor: near 2^64 when it starts near 0, so that the span of
        // a pointer moving with it wraps around (for a disguised index, half the time).
        1 => -(src.below(4) as i32),
        2..=6 if disguised => -(src.below(4) as i32),
        2..=4 => src.pick(&[0, 1, 2, 8, 9, 16, 31, 32, 33, len - 1, len, len + 1]),
        _ => src.pick(&[len / 2, len / 4, len / 2 - 8, len - 16]),
    };
    insns.push(op(Opcode::Add64Imm, bound, Reg::R0, 0, distance));
    start(src, &mut insns, q);
    start(src, &mut insns, v);
    let step_operand = match src.below(6) {
        0 => {
            let s = src.pick(&[0, 1, 2, 3, 8, -1, -8, i32::MIN]);
            insns.push(op(Opcode::Mov64Imm, step, Reg::R0, 0, s));
            None
        }
        1 => Some(src.pick(&[3, 5, 64])),
        _ => Some(src.pick(&[1, 1, 2, 4, 8, 16, 32])),
    };
    insns.push(op(Opcode::Mov64Imm, Reg::R0, Reg::R0, 0, 0));
    if src.chance(60) {
        // Guarded, as compilers guard a loop that runs at least once.
        insns.push(op(Opcode::JgeReg, p, bound, 0, 0));
    }
    let guard = insns.len() - 1;
    let head = insns.len();
    // The body: the accesses and other work, then the moves placed among them.
    let items = 1 + src.below(7);
    let mut body = Vec::new();
    // An access through the cursor, or when it is an index, through an address formed from it.
    let through_p = |src: &mut Source<'_>, body: &mut Vec<Insn>| {
        if !indexed {
            return access(src, p, len);
        }
        let (formed, from) = match disguised {
            true => (Reg::R8, Reg::R9),
            false => (
                src.pick(&[Reg::R8, Reg::R9]),
                src.pick(&[Reg::R1, Reg::R1, v, q]),
            ),
        };
        body.push(mov(formed, from));
        body.push(op(Opcode::Add64Reg, formed, p, 0, 0));
        match src.below(6) {
            0 => body.push(op(Opcode::Add64Reg, formed, bound, 0, 0)),
            1 => body.push(op(
                Opcode::Add64Imm,
                formed,
                Reg::R0,
                0,
                src.pick(&[-1, 8, len]),
            )),
            // (`r9` must stay as it is to form addresses from.)
            2 if disguised => {}
            2 => {
                body.push(access(src, formed, len));
                let other = if formed == Reg::R8 { Reg::R9 } else { Reg::R8 };
                body.push(mov(other, formed));
                body.push(op(Opcode::Add64Reg, formed, src.pick(&[bound, step]), 0, 0));
                return access(src, other, len);
            }
            _ => {}
        }
        access(src, formed, len)
    };
    let first = through_p(src, &mut body);
    body.push(first);
    for _ in 0..items {
        let item = match src.below(12) {
            0..=2 => through_p(src, &mut body),
            3..=4 => access(src, q, len),
            5..=6 => access(src, v, len),
            7 => op(
                Opcode::Add64Reg,
                Reg::R0,
                src.pick(&[Reg::R8, Reg::R9]),
                0,
                0,
            ),
            8 => op(Opcode::JeqImm, Reg::R0, Reg::R0, 0, src.pick(&[0, 1, 7])),
            9 => op(Opcode::Ja, Reg::R0, Reg::R0, 0, 0),
            10 => op(
                Opcode::Add64Imm,
                src.pick(&[p, q, v, bound, step, Reg::R1]),
                Reg::R0,
                0,
                1,
            ),
            _ => op(Opcode::Mov64Reg, Reg::R0, Reg::R8, 0, 0),
        };
        body.push(item);
    }
    let moves = |r: Reg| match step_operand {
        Some(s) => op(Opcode::Add64Imm, r, Reg::R0, 0, s),
        None => op(Opcode::Add64Reg, r, step, 0, 0),
    };
    let at = 1 + src.below(body.len());
    body.insert(at, moves(p));
    if src.chance(85) {
        let at = 1 + src.below(body.len());
        body.insert(at, moves(q));
    }
    // Jumps inside the body go forward within it, to its end, or out of the loop; a few go
    // back into it.
    let (size, end) = (body.len(), head + body.len() + 1);
    for (i, insn) in body.iter_mut().enumerate() {
        if matches!(insn.opcode, Opcode::JeqImm | Opcode::Ja) {
            let here = head + i;
            insn.off = match src.below(10) {
                0 => (head + src.below(i + 1)) as i16,
                1..=3 => end as i16,
                _ => (here + 1 + src.below(size - i)) as i16,
            };
        }
    }
    insns.extend(body);
    if guard + 1 == head && insns[guard].opcode == Opcode::JgeReg {
        insns[guard].off = end as i16;
    }
    insns.push(match src.below(4) {
        0 => op(Opcode::JgtReg, bound, p, head as i16, 0),
        _ => op(Opcode::JltReg, p, bound, head as i16, 0),
    });
    insns.push(Insn::new(Opcode::Exit));
    to_slots(&mut insns);
    insns
}

/// A program of the shape [`crate::window`] proves, a parser's: a window from the input's
/// start (now and then a little off) to an end computed from the length (now and then not the
/// input's), then headers checked against the end (`q = p + k; if q > end goto out`, now and
/// then by a compare that proves nothing: signed, 32-bit, the wrong way round, against another
/// register) and read or written around the room checked; pointers moved by immediates, by
/// bounded or unbounded loaded values, copied; forward jumps that merge states, and now and
/// then, when `metered`, a jump back to the start of the checks. Jumps are
/// instruction indices, as in [`program`].
fn window_program(src: &mut Source<'_>, input_len: usize, metered: bool) -> Vec<Insn> {
    let (end, probe, index) = (Reg::R7, Reg::R5, Reg::R2);
    let pointers = [Reg::R3, Reg::R4, Reg::R6];
    let len = input_len as i32;
    let mut insns = vec![mov(Reg::R6, Reg::R1)];
    if src.chance(12) {
        let off = src.pick(&[-1, 1, len, len + 1]);
        insns.push(op(Opcode::Add64Imm, Reg::R6, Reg::R0, 0, off));
    }
    insns.push(mov(end, Reg::R6));
    if src.chance(12) {
        let n = src.pick(&[0, 1, len - 1, len + 1, 1 << 20]);
        insns.push(op(Opcode::Mov64Imm, probe, Reg::R0, 0, n));
        insns.push(op(Opcode::Add64Reg, end, probe, 0, 0));
    } else {
        insns.push(op(Opcode::Add64Reg, end, Reg::R2, 0, 0));
    }
    insns.push(mov(Reg::R3, Reg::R6));
    insns.push(mov(Reg::R4, Reg::R6));
    let mut body = Vec::new();
    for _ in 0..2 + src.below(14) {
        let p = src.pick(&pointers);
        match src.below(14) {
            0..=7 => {
                // A header: checked, then read or written, mostly inside what was checked.
                let k = src.pick(&[1, 2, 3, 4, 8, 14, 20, 0]);
                body.push(mov(probe, p));
                body.push(op(Opcode::Add64Imm, probe, Reg::R0, 0, k));
                let (opcode, a, b) = match src.below(24) {
                    0 => (Opcode::JgeReg, probe, end),
                    1 => (Opcode::JltReg, end, probe),
                    2 => (Opcode::JleReg, end, probe),
                    3 => (Opcode::JsgtReg, probe, end),
                    4 => (Opcode::Jgt32Reg, probe, end),
                    5 => (Opcode::JltReg, probe, end),
                    6 => (Opcode::JgtReg, probe, Reg::R8),
                    _ => (Opcode::JgtReg, probe, end),
                };
                body.push(op(opcode, a, b, OUT, 0));
                header_accesses(src, &mut body, p, k, len);
            }
            8 => body.push(access(src, p, len)),
            9 => {
                body.push(op(Opcode::LdxB, index, p, src.pick(&[0, 1]), 0));
                if src.chance(60) {
                    body.push(op(Opcode::And64Imm, index, Reg::R0, 0, 15));
                } else if src.chance(30) {
                    body.push(op(Opcode::LdxDW, index, p, 0, 0));
                }
                body.push(op(Opcode::Add64Reg, p, index, 0, 0));
            }
            10 => {
                let imm = src.pick(&[1, 2, 4, 14, -1, -2]);
                body.push(op(Opcode::Add64Imm, p, Reg::R0, 0, imm));
            }
            11 => body.push(mov(p, src.pick(&[Reg::R3, Reg::R4, Reg::R6, probe]))),
            _ => {
                let (r, imm) = (src.pick(&[Reg::R8, Reg::R9]), src.pick(&[0, 1, 7]));
                body.push(op(Opcode::JeqImm, r, Reg::R0, FORWARD, imm));
            }
        }
    }
    finish_parser(src, insns, body, metered)
}

/// A parser of the shape a window measured by its length proves (see [`crate::window`]): the
/// input's start kept (`r6 = r1`), its length spilled to the stack and reloaded (or copied),
/// offsets (`r3`, `r4`, from 0, a constant or the length) checked against the length
/// (`q = o + k; if q > len goto out`, now and then by a compare that proves nothing, or from
/// a displacement below the offset) and made an address only to read or write around what
/// was checked (`r2 = r6 + o`); offsets moved by immediates, by bounded or unbounded loaded
/// values, copied; the spilled length overwritten through a copy of `r10` or in part;
/// forward jumps that merge states, and now and then, when `metered`, a jump back to the
/// start of the checks. Jumps are instruction indices, as in [`program`].
fn length_window_program(src: &mut Source<'_>, input_len: usize, metered: bool) -> Vec<Insn> {
    let (start, len, probe, addr) = (Reg::R6, Reg::R7, Reg::R5, Reg::R2);
    let offsets = [Reg::R3, Reg::R4];
    let spilled = src.chance(75);
    let mut insns = vec![mov(start, Reg::R1)];
    if spilled {
        insns.push(op(Opcode::StxDW, Reg::R10, Reg::R2, -8, 0));
    } else {
        insns.push(mov(len, Reg::R2));
    }
    insns.push(op(Opcode::Mov64Imm, Reg::R3, Reg::R0, 0, 0));
    match src.below(4) {
        0 => insns.push(mov(Reg::R4, Reg::R2)),
        1 => insns.push(op(
            Opcode::Mov64Imm,
            Reg::R4,
            Reg::R0,
            0,
            src.pick(&[1, 14]),
        )),
        _ => insns.push(op(Opcode::Mov64Imm, Reg::R4, Reg::R0, 0, 0)),
    }
    let mut body = Vec::new();
    let reload = |body: &mut Vec<Insn>| {
        if spilled {
            body.push(op(Opcode::LdxDW, len, Reg::R10, -8, 0));
        }
    };
    reload(&mut body);
    let room = input_len as i32;
    for _ in 0..2 + src.below(14) {
        let o = src.pick(&offsets);
        match src.below(16) {
            0..=8 => {
                // A header: checked, then addressed and read or written, mostly inside what
                // was checked.
                let k = src.pick(&[1, 2, 3, 4, 8, 14, 20, 0]);
                body.push(mov(probe, o));
                let shift = if src.chance(10) { -1 } else { 0 };
                body.push(op(Opcode::Add64Imm, probe, Reg::R0, 0, k + shift));
                let (opcode, a, b) = match src.below(24) {
                    0 => (Opcode::JgeReg, probe, len),
                    1 => (Opcode::JltReg, len, probe),
                    2 => (Opcode::JleReg, len, probe),
                    3 => (Opcode::JsgtReg, probe, len),
                    4 => (Opcode::Jgt32Reg, probe, len),
                    5 => (Opcode::JltReg, probe, len),
                    6 => (Opcode::JgtReg, probe, Reg::R8),
                    _ => (Opcode::JgtReg, probe, len),
                };
                body.push(op(opcode, a, b, OUT, 0));
                match src.below(4) {
                    0 => {
                        body.push(mov(addr, o));
                        body.push(op(Opcode::Add64Reg, addr, start, 0, 0));
                    }
                    1 => {
                        body.push(mov(addr, Reg::R1));
                        body.push(op(Opcode::Add64Reg, addr, o, 0, 0));
                    }
                    _ => {
                        body.push(mov(addr, start));
                        body.push(op(Opcode::Add64Reg, addr, o, 0, 0));
                    }
                }
                header_accesses(src, &mut body, addr, k, room);
            }
            9 => body.push(access(src, addr, room)),
            10 => {
                body.push(op(Opcode::LdxB, Reg::R8, addr, src.pick(&[0, 1]), 0));
                if src.chance(60) {
                    body.push(op(Opcode::And64Imm, Reg::R8, Reg::R0, 0, 15));
                } else if src.chance(30) {
                    body.push(op(Opcode::LdxDW, Reg::R8, addr, 0, 0));
                }
                body.push(op(Opcode::Add64Reg, o, Reg::R8, 0, 0));
            }
            11 => {
                let imm = src.pick(&[1, 2, 4, 14, -1, -2]);
                body.push(op(Opcode::Add64Imm, o, Reg::R0, 0, imm));
            }
            12 => body.push(mov(o, src.pick(&[Reg::R3, Reg::R4, probe]))),
            13 if src.chance(40) => {
                // The spilled length overwritten: through a copy of `r10`, in part, or with
                // another register; then reloaded.
                match src.below(3) {
                    0 => {
                        body.push(mov(Reg::R9, Reg::R10));
                        body.push(op(Opcode::StDW, Reg::R9, Reg::R0, -8, 1 << 20));
                    }
                    1 => body.push(op(Opcode::StW, Reg::R10, Reg::R0, -4, 1 << 20)),
                    _ => body.push(op(Opcode::StxDW, Reg::R10, probe, -8, 0)),
                }
                reload(&mut body);
            }
            13 => reload(&mut body),
            _ => {
                let (r, imm) = (src.pick(&[Reg::R8, Reg::R9]), src.pick(&[0, 1, 7]));
                body.push(op(Opcode::JeqImm, r, Reg::R0, FORWARD, imm));
            }
        }
    }
    finish_parser(src, insns, body, metered)
}

/// In a parser's body (see [`window_program`]), a jump to `OUT` leaves for the end and one to
/// `FORWARD` goes to a later item (and an access at offset -1 is moved to `OUT`'s slot index).
const OUT: i16 = -1;
const FORWARD: i16 = -2;

/// One to three loads or stores through `base` after a header of `k` bytes was checked:
/// mostly inside those bytes, now and then at their edges or past them. `len` is the input's.
fn header_accesses(src: &mut Source<'_>, body: &mut Vec<Insn>, base: Reg, k: i32, len: i32) {
    for _ in 0..1 + src.below(3) {
        let mut insn = access(src, base, len);
        let size = match insn.opcode {
            Opcode::LdxB | Opcode::StxB => 1,
            Opcode::LdxH => 2,
            Opcode::LdxW | Opcode::StW => 4,
            _ => 8,
        };
        insn.off = match src.below(10) {
            0 => src.pick(&[-1, k - size + 1, k, 12, 13, 14]) as i16,
            _ => src.below((k - size + 1).max(1) as usize) as i16,
        };
        body.push(insn);
    }
}

/// A parser's program: its entry `insns`, then its `body` (starting at index `insns.len()`)
/// with its `OUT` and `FORWARD` jumps resolved, now and then, when `metered`, a jump back to
/// the body's start, then `r0 = r8 + r9; exit`, in slots.
fn finish_parser(
    src: &mut Source<'_>,
    mut insns: Vec<Insn>,
    mut body: Vec<Insn>,
    metered: bool,
) -> Vec<Insn> {
    let head = insns.len();
    let looping = metered && src.chance(40);
    let out = head + body.len() + usize::from(looping);
    let size = body.len();
    for (i, insn) in body.iter_mut().enumerate() {
        insn.off = match insn.off {
            OUT => out as i16,
            FORWARD => (head + i + 1 + src.below(size - i)) as i16,
            off => off,
        };
    }
    insns.extend(body);
    if looping {
        insns.push(op(Opcode::Ja, Reg::R0, Reg::R0, head as i16, 0));
    }
    insns.push(mov(Reg::R0, Reg::R8));
    insns.push(op(Opcode::Add64Reg, Reg::R0, Reg::R9, 0, 0));
    insns.push(Insn::new(Opcode::Exit));
    to_slots(&mut insns);
    insns
}

/// A load or store through `base` at an offset near 0 or the input's end.
fn access(src: &mut Source<'_>, base: Reg, len: i32) -> Insn {
    let off = match src.below(8) {
        0 => src.pick(&[-8, -1, 0, 1, 7, 8, 16, 31]),
        1 => len - src.below(9) as i32,
        _ => src.pick(&[0, 0, 1, 2, 4]),
    } as i16;
    let opcode = src.pick(&[
        Opcode::LdxB,
        Opcode::LdxH,
        Opcode::LdxW,
        Opcode::LdxDW,
        Opcode::StxB,
        Opcode::StxDW,
        Opcode::StW,
    ]);
    match opcode {
        Opcode::LdxB | Opcode::LdxH | Opcode::LdxW | Opcode::LdxDW => {
            op(opcode, src.pick(&[Reg::R8, Reg::R9]), base, off, 0)
        }
        Opcode::StW => op(opcode, base, Reg::R0, off, 0x5a5a),
        _ => op(opcode, base, Reg::R0, off, 0),
    }
}

/// Turns the instruction-index targets [`program`] wrote into slot distances.
fn to_slots(insns: &mut [Insn]) {
    let mut slots = Vec::with_capacity(insns.len() + 1);
    let mut slot = 0i64;
    for insn in insns.iter() {
        slots.push(slot);
        slot += insn.slots() as i64;
    }
    let at = |index: i64| slots[(index as usize).min(slots.len() - 1)];
    for (i, insn) in insns.iter_mut().enumerate() {
        let next = slots[i] + insn.slots() as i64;
        match insn.kind() {
            Kind::Jump { .. } | Kind::Ja => {
                insn.off =
                    (at(insn.off as i64) - next).clamp(i16::MIN as i64, i16::MAX as i64) as i16;
            }
            Kind::Ja32
            | Kind::Call {
                target: bpfkit_isa::CallTarget::Local,
            } => insn.imm = (at(insn.imm as i64) - next) as i32,
            Kind::LoadImm64 {
                pseudo: bpfkit_isa::Pseudo::Func,
            } => insn.imm = (at(insn.imm as i64) - next) as i32,
            _ => {}
        }
    }
}

/// Generates a case from `src`.
pub fn generate(src: &mut Source<'_>) -> Case {
    // A quarter of the cases start with a loop to version, a quarter with a window, an
    // eighth with a call that checks the callee-saved registers.
    let shape = src.below(8);
    let (looping, windowed, calling) = (shape < 2, (2..4).contains(&shape), shape == 4);
    let input_len = match looping || windowed {
        true => src.pick(&[14, 32, 64, 100]),
        false => src.pick(&INPUT_LENS),
    };
    let input = (0..input_len).map(|_| src.byte()).collect();
    let metered = src.chance(50);
    let count = 1 + src.below(3);
    let programs = (0..count)
        .map(|i| match i {
            0 if looping => loop_program(src, input_len),
            0 if windowed && src.chance(50) => window_program(src, input_len, metered),
            0 if windowed => length_window_program(src, input_len, metered),
            0 if calling => call_program(src, input_len),
            _ => program(src, 48, input_len, !metered),
        })
        .collect();
    let mut prog_array = [None; 4];
    for entry in &mut prog_array {
        if src.chance(60) {
            *entry = Some(src.below(count) as u32);
        }
    }
    Case {
        programs,
        input,
        // A loop program may never end (a step of 0, a jump back into it): it is metered.
        budget: (metered || looping).then(|| 1 + src.below(2000) as u64),
        strict_alignment: src.chance(15),
        prog_array,
        tail_call_overflow: if src.chance(50) {
            TailCallOverflow::Fault
        } else {
            TailCallOverflow::FallThrough
        },
    }
}

/// The VM of a case: its programs, maps (two arrays and the program array) and helpers.
pub fn vm(case: &Case) -> Result<Vm, LoadError> {
    let mut programs = case.programs.iter();
    let mut vm = Vm::new(programs.next().map_or(&[][..], Vec::as_slice))?;
    for p in programs {
        vm.add_program(Program::new(p)?);
    }
    let maps = [
        MapDef::new(MapType::ARRAY, 4, 16, 4),
        MapDef::new(MapType::ARRAY, 4, 8, 2),
        MapDef::new(MapType::PROG_ARRAY, 4, 4, 4),
    ];
    for def in maps {
        vm.create_map(def).expect("valid map definitions");
    }
    if let Some(progs) = vm.map_mut(MapId(2)) {
        for (i, entry) in case.prog_array.iter().enumerate() {
            let _ = progs.set_program(i as u32, entry.map(ProgId));
        }
    }
    vm.register_helper(ECHO, |_, args| Ok(args[0]));
    vm.register_helper(POKE, |env, args| {
        env.write(args[0], &args[2].to_le_bytes())?;
        let back = env.read(args[1], 8)?;
        Ok(u64::from_le_bytes(back.try_into().expect("8 bytes")).wrapping_add(args[2]))
    });
    vm.register_helper(FAIL, |env, _| Err(env.fail("asked to fail")));
    vm.set_budget(case.budget);
    vm.set_strict_alignment(case.strict_alignment);
    vm.set_tail_call_overflow(case.tail_call_overflow);
    Ok(vm)
}

/// What a run of a case gave: the result, and the memory afterwards (input, then every map
/// value).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Outcome {
    /// `r0` or the fault.
    pub result: Result<u64, Fault>,
    /// The input and the map values after the run.
    pub memory: Vec<u8>,
}

fn memory_of(vm: &Vm, input: Vec<u8>) -> Vec<u8> {
    let mut memory = input;
    for map in [MapId(0), MapId(1)] {
        let map = vm.map(map).expect("the case's maps");
        for key in 0..map.def().max_entries {
            memory.extend_from_slice(map.lookup(&key.to_le_bytes()).unwrap_or(&[]));
        }
    }
    memory
}

/// How the engines disagreed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Mismatch {
    /// The interpreter's outcome.
    pub interpreter: Outcome,
    /// The JIT's.
    pub jit: Outcome,
}

/// Runs `case` on the interpreter and on the checked JIT. `Ok(None)` when the loader rejects
/// the programs (both engines share it), `Ok(Some(outcome))` when they agree.
pub fn compare(case: &Case) -> Result<Option<Outcome>, Box<Mismatch>> {
    compare_with(case, Atomics::Detect)
}

/// As [`compare`], with the JIT's atomics compiled as `atomics` says.
pub fn compare_with(case: &Case, atomics: Atomics) -> Result<Option<Outcome>, Box<Mismatch>> {
    let Ok(mut interp_vm) = vm(case) else {
        return Ok(None);
    };
    let mut input = case.input.clone();
    let result = interp_vm.run(&mut input);
    let interpreter = Outcome {
        result,
        memory: memory_of(&interp_vm, input),
    };
    let jit_vm = vm(case).expect("loaded once already");
    let mut jit = match Jit::with_atomics(jit_vm, atomics) {
        Ok(jit) => jit,
        Err(JitError::Unsupported(_)) => return Ok(Some(interpreter)),
        Err(e) => panic!("the JIT cannot compile a loaded program: {e}"),
    };
    let mut input = case.input.clone();
    let result = jit.run(&mut input);
    let jit = Outcome {
        result,
        memory: memory_of(jit.vm(), input),
    };
    if jit == interpreter {
        Ok(Some(jit))
    } else {
        Err(Box::new(Mismatch { interpreter, jit }))
    }
}
