//! Random programs the kernel verifier accepts, from a seed.
//!
//! A program is a *body* followed by up to [`MAX_SUBS`] subprograms (bpf-to-bpf calls; a
//! subprogram may call the ones after it, so calls nest up to four frames deep). The
//! body is entered like a standalone program: `r1` points at [`INPUT_LEN`] bytes of input and
//! `r2` holds that length. Its prologue reads the input into every register, so the verifier
//! sees most values as unknown and keeps the comparisons for run time, then the body runs random
//! statements and mixes every live register and every initialised stack byte into `r0`.
//!
//! What keeps the verifier happy:
//! - control flow is structured (`if`, `if`/`else` with `goto` or `gotol` over the else part), so
//!   every jump goes forward, every instruction is reachable and the program ends;
//! - the generator tracks which registers and which stack bytes are initialised on every path
//!   (joins take the intersection) and only reads those;
//! - registers only hold scalars; the stack is reached through `r10` with constant, aligned
//!   offsets; a body uses at most [`BODY_STACK`] bytes and a subprogram [`SUB_STACK`], so the
//!   deepest chain stays within the kernel's 512 bytes for all frames together;
//! - immediates obey the verifier: no division by an immediate 0, no immediate shift by the
//!   width or more (registers carry those cases instead);
//! - a call sets the arguments its callee reads, and afterwards `r1`-`r5` count as clobbered.

use bpfkit_isa::{AluOp, AtomicOp, Insn, Kind, Opcode, Reg, Size, Source, TABLE, Width};

/// Bytes of input memory a body reads through `r1`.
pub const INPUT_LEN: usize = 64;
/// Stack bytes a body uses.
pub const BODY_STACK: usize = 256;
/// Stack bytes a subprogram uses.
pub const SUB_STACK: usize = 64;
/// Most subprograms one program has.
pub const MAX_SUBS: usize = 3;

/// The opcodes the generator never emits, with the reason; every other opcode of the table is
/// expected in a large enough run.
pub const NOT_GENERATED: &[(Opcode, &str)] = &[
    (Opcode::LdMapFd, "needs a kernel map"),
    (
        Opcode::LdMapValue,
        "needs a kernel map (the wrapper uses it)",
    ),
    (Opcode::LdBtfId, "needs kernel BTF"),
    (Opcode::LdFunc, "callback address, only for helpers"),
    (Opcode::LdMapIdx, "needs a map fd array"),
    (Opcode::LdMapIdxValue, "needs a map fd array"),
    (
        Opcode::LdAbsW,
        "legacy packet load, needs an skb and no subprograms",
    ),
    (
        Opcode::LdAbsH,
        "legacy packet load, needs an skb and no subprograms",
    ),
    (
        Opcode::LdAbsB,
        "legacy packet load, needs an skb and no subprograms",
    ),
    (
        Opcode::LdIndW,
        "legacy packet load, needs an skb and no subprograms",
    ),
    (
        Opcode::LdIndH,
        "legacy packet load, needs an skb and no subprograms",
    ),
    (
        Opcode::LdIndB,
        "legacy packet load, needs an skb and no subprograms",
    ),
    (Opcode::Call, "helpers differ between kernel and VM"),
    (Opcode::CallKfunc, "needs kernel BTF"),
    (Opcode::CallX, "the kernel does not support callx"),
];

/// A generated program and its input.
#[derive(Clone, Debug)]
pub struct Generated {
    /// The seed it was generated from.
    pub seed: u64,
    /// The body, then its subprograms; calls are relative, so the block can be placed anywhere.
    pub insns: Vec<Insn>,
    /// The memory `r1` points at on entry.
    pub input: [u8; INPUT_LEN],
}

/// A small, fast, seeded generator (xorshift64*, seeded through splitmix64).
pub struct Rng(u64);

impl Rng {
    /// A generator for `seed`; every seed gives a different, fixed sequence.
    pub fn new(seed: u64) -> Rng {
        let mut z = seed.wrapping_add(0x9e37_79b9_7f4a_7c15);
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        Rng((z ^ (z >> 31)) | 1)
    }

    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    /// A number in `0..n` (`n` > 0).
    pub fn below(&mut self, n: usize) -> usize {
        (((self.next_u64() >> 32) * n as u64) >> 32) as usize
    }

    /// `true` with probability `percent`/100.
    pub fn percent(&mut self, percent: usize) -> bool {
        self.below(100) < percent
    }

    /// One element of `items`.
    pub fn pick<T: Copy>(&mut self, items: &[T]) -> T {
        items[self.below(items.len())]
    }
}

/// 64-bit values that sit on the edges of the ALU's behaviour.
const EDGE_U64: &[u64] = &[
    0,
    1,
    2,
    3,
    7,
    0x7f,
    0x80,
    0xff,
    0x100,
    0x7fff,
    0x8000,
    0xffff,
    0x1_0000,
    0x7fff_ffff,
    0x8000_0000,
    0xffff_ffff,
    0x1_0000_0000,
    0x1_ffff_ffff,
    0xffff_ffff_0000_0000,
    0x8000_0000_0000_0000,
    0x7fff_ffff_ffff_ffff,
    0xffff_ffff_ffff_ffff,
    0xffff_ffff_ffff_fffe,
    0xffff_ffff_8000_0000,
    0xdead_beef_8000_0000,
    31,
    32,
    33,
    63,
    64,
    65,
    0x0123_4567_89ab_cdef,
];

/// 32-bit immediates on the same edges.
const EDGE_I32: &[i32] = &[
    0,
    1,
    -1,
    2,
    -2,
    3,
    7,
    0x7f,
    0x80,
    0xff,
    -0x80,
    0x7fff,
    0x8000,
    0xffff,
    -0x8000,
    i32::MAX,
    i32::MIN,
    i32::MIN + 1,
    31,
    32,
    63,
    64,
];

/// Shift amounts in registers, in and out of range for both widths.
const SHIFT_AMOUNTS: &[u64] = &[
    0,
    1,
    7,
    8,
    31,
    32,
    33,
    63,
    64,
    65,
    127,
    255,
    0xffff_ffff_ffff_ffff,
    0xffff_ffff_ffff_ffe0,
    0x1_0000_0020,
    0x8000_0000_0000_0001,
];

/// Divisors that need care: zero, minus one, and 64-bit values whose low half is 0 or -1.
const DIVISORS: &[u64] = &[
    0,
    0xffff_ffff_ffff_ffff,
    1,
    0x1_0000_0000,
    0x1_ffff_ffff,
    0xffff_ffff,
    2,
];

/// Dividends that need care with signed division by -1 (`INT_MIN`), for both widths.
const DIVIDENDS: &[u64] = &[
    0x8000_0000_0000_0000,
    0x8000_0000,
    0xffff_ffff_8000_0000,
    0xdead_beef_8000_0000,
];

fn random_u64(rng: &mut Rng) -> u64 {
    match rng.below(6) {
        0..=2 => rng.pick(EDGE_U64),
        3 => rng.next_u64(),
        4 => rng.next_u64() >> rng.below(64),
        _ => (rng.pick(EDGE_I32) as i64).wrapping_add(rng.below(5) as i64 - 2) as u64,
    }
}

fn random_i32(rng: &mut Rng) -> i32 {
    match rng.below(4) {
        0 | 1 => rng.pick(EDGE_I32),
        2 => rng.next_u64() as i32,
        _ => (rng.next_u64() as i32) >> rng.below(32),
    }
}

fn reg(n: usize) -> Reg {
    Reg::new(n as u8).expect("a register number below 11")
}

fn size_of(size: Size) -> usize {
    size.bytes()
}

/// Opcodes by family, from the instruction table.
struct Families {
    alu: Vec<Opcode>,
    endian: Vec<Opcode>,
    jumps: Vec<Opcode>,
    loads: Vec<Opcode>,
    stores: Vec<Opcode>,
    atomics: Vec<Opcode>,
}

impl Families {
    fn new() -> Families {
        let of = |f: fn(&Kind) -> bool| -> Vec<Opcode> {
            TABLE
                .iter()
                .filter(|s| f(&s.kind))
                .map(|s| s.opcode)
                .collect()
        };
        Families {
            alu: of(|k| matches!(k, Kind::Alu { .. })),
            endian: of(|k| matches!(k, Kind::Endian { .. })),
            jumps: of(|k| matches!(k, Kind::Jump { .. })),
            loads: of(|k| matches!(k, Kind::Load { .. })),
            stores: of(|k| matches!(k, Kind::Store { .. })),
            atomics: of(|k| matches!(k, Kind::Atomic { .. })),
        }
    }
}

/// Which registers and stack bytes hold defined values on every path to this point.
#[derive(Clone, PartialEq, Eq)]
struct State {
    /// Bit `n`: `rn` is initialised (r0-r9).
    regs: u16,
    /// Byte `i`: the byte at `r10 - stack.len() + i` is initialised.
    stack: Vec<bool>,
}

impl State {
    fn meet(&mut self, other: &State) {
        self.regs &= other.regs;
        for (a, b) in self.stack.iter_mut().zip(&other.stack) {
            *a &= *b;
        }
    }
}

/// Where a function is entered from.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Frame {
    /// The body: `r1` points at the input, `r2` holds its length.
    Body,
    /// A subprogram taking this many arguments in `r1`...
    Sub(usize),
}

/// Generates one function (a body or a subprogram).
struct FnGen<'a> {
    rng: &'a mut Rng,
    fam: &'a Families,
    code: Vec<Insn>,
    /// Slot index of each instruction of `code`.
    slot_of: Vec<usize>,
    slots: usize,
    state: State,
    /// Arities of the subprograms this function may call.
    callees: &'a [usize],
    /// The function number of `callees[0]`.
    first_callee: usize,
    /// `(index in code, function number)` of each call, patched once the layout is known.
    calls: Vec<(usize, usize)>,
    /// Statements left to generate.
    budget: usize,
}

impl<'a> FnGen<'a> {
    fn new(
        rng: &'a mut Rng,
        fam: &'a Families,
        frame: Frame,
        callees: &'a [usize],
        first_callee: usize,
    ) -> FnGen<'a> {
        let (regs, stack) = match frame {
            // r1 is the input pointer and r2 its length (a scalar the body may keep).
            Frame::Body => (0b100, BODY_STACK),
            Frame::Sub(arity) => (((1u16 << arity) - 1) << 1, SUB_STACK),
        };
        FnGen {
            rng,
            fam,
            code: Vec::new(),
            slot_of: Vec::new(),
            slots: 0,
            state: State {
                regs,
                stack: vec![false; stack],
            },
            callees,
            first_callee,
            calls: Vec::new(),
            budget: 0,
        }
    }

    fn emit(&mut self, insn: Insn) -> usize {
        self.slot_of.push(self.slots);
        self.slots += insn.slots();
        self.code.push(insn);
        self.code.len() - 1
    }

    /// Points the jump at `index` to the current end of the code.
    fn patch_to_here(&mut self, index: usize) {
        let distance = self.slots - (self.slot_of[index] + 1);
        let insn = &mut self.code[index];
        match insn.kind() {
            Kind::Ja32 => insn.imm = distance as i32,
            _ => insn.off = i16::try_from(distance).expect("a short function"),
        }
    }

    fn is_init(&self, r: Reg) -> bool {
        self.state.regs & (1 << r.index()) != 0
    }

    fn set_init(&mut self, r: Reg) {
        self.state.regs |= 1 << r.index();
    }

    fn init_regs(&self) -> Vec<Reg> {
        (0..10).map(reg).filter(|&r| self.is_init(r)).collect()
    }

    /// An initialised register, or `None` if there is none yet.
    fn some_init_reg(&mut self) -> Option<Reg> {
        let regs = self.init_regs();
        (!regs.is_empty()).then(|| self.rng.pick(&regs))
    }

    /// An initialised register, initialising a random one first if none is.
    fn src_reg(&mut self) -> Reg {
        match self.some_init_reg() {
            Some(r) => r,
            None => {
                let (r, v) = (reg(self.rng.below(10)), random_u64(self.rng));
                self.set_value(r, v);
                r
            }
        }
    }

    fn any_reg(&mut self) -> Reg {
        reg(self.rng.below(10))
    }

    /// `r = value`, with the shortest instruction that yields exactly `value`.
    fn set_value(&mut self, r: Reg, value: u64) {
        let insn = if value as i64 == value as i32 as i64 {
            Insn::new(Opcode::Mov64Imm)
                .with_dst(r)
                .with_imm(value as i32)
        } else if value >> 32 == 0 && self.rng.percent(50) {
            Insn::new(Opcode::Mov32Imm)
                .with_dst(r)
                .with_imm(value as u32 as i32)
        } else {
            Insn::new(Opcode::LdImm64).with_dst(r).with_imm64(value)
        };
        self.emit(insn);
        self.set_init(r);
    }

    // ---- whole functions ----

    /// Starts the accumulator at `r10 - 8`, into which statements fold the values they make
    /// (so that a wrong value counts even if the register is overwritten later).
    fn start_accumulator(&mut self) {
        let imm = random_i32(self.rng);
        self.emit(
            Insn::new(Opcode::StDW)
                .with_dst(Reg::R10)
                .with_off(-8)
                .with_imm(imm),
        );
        let len = self.state.stack.len();
        self.state.stack[len - 8..].fill(true);
    }

    /// Now and then folds `r` into the accumulator, with an atomic add or xor.
    fn maybe_fold(&mut self, r: Reg) {
        if self.rng.percent(50) {
            let op = self.rng.pick(&[Opcode::AtomicAdd64, Opcode::AtomicXor64]);
            self.emit(Insn::new(op).with_dst(Reg::R10).with_src(r).with_off(-8));
        }
    }

    fn body(mut self) -> (Vec<Insn>, Vec<(usize, usize)>) {
        // Prologue: every register from the input (mostly) or a constant; r1, the input
        // pointer, last. r2 (the length) is sometimes kept.
        let mut order: Vec<usize> = vec![0, 2, 3, 4, 5, 6, 7, 8, 9];
        for i in (1..order.len()).rev() {
            order.swap(i, self.rng.below(i + 1));
        }
        order.push(1);
        for n in order {
            let r = reg(n);
            if n == 2 && self.rng.percent(15) {
                continue;
            }
            if self.rng.percent(65) {
                self.input_load(r);
            } else {
                let v = random_u64(self.rng);
                self.set_value(r, v);
            }
        }
        self.start_accumulator();
        for _ in 0..1 + self.rng.below(3) {
            self.store();
        }
        self.budget = 25 + self.rng.below(50);
        self.block(0);
        self.epilogue();
        (self.code, self.calls)
    }

    fn sub(mut self) -> (Vec<Insn>, Vec<(usize, usize)>) {
        self.budget = 3 + self.rng.below(15);
        self.start_accumulator();
        // Write some callee-saved registers: the caller's must survive.
        for _ in 0..self.rng.below(3) {
            let r = reg(6 + self.rng.below(4));
            let v = random_u64(self.rng);
            self.set_value(r, v);
        }
        self.block(0);
        self.epilogue();
        (self.code, self.calls)
    }

    /// `r = *(size *)(r1 + off)` from the input, at any offset (unaligned too).
    fn input_load(&mut self, r: Reg) {
        let op = self.rng.pick(&self.fam.loads);
        let Kind::Load { size, .. } = op.spec().kind else {
            unreachable!()
        };
        let off = self.rng.below(INPUT_LEN - size_of(size) + 1) as i16;
        self.emit(Insn::new(op).with_dst(r).with_src(Reg::R1).with_off(off));
        self.set_init(r);
    }

    /// Folds every initialised register and stack byte into `r0`, then exits.
    fn epilogue(&mut self) {
        if !self.is_init(Reg::R0) {
            let v = random_u64(self.rng);
            self.set_value(Reg::R0, v);
        }
        for r in self.init_regs() {
            if r != Reg::R0 {
                self.mix(r);
            }
        }
        // Stack: whole 8-byte slots, else 4-byte halves, else single bytes.
        let scratch = reg(1 + self.rng.below(9));
        let len = self.state.stack.len();
        for slot in (0..len).step_by(8) {
            let init = |a: usize, n: usize| self.state.stack[a..a + n].iter().all(|&b| b);
            let mut reads = Vec::new();
            if init(slot, 8) {
                reads.push((Opcode::LdxDW, slot));
            } else {
                for half in [slot, slot + 4] {
                    if init(half, 4) {
                        reads.push((Opcode::LdxW, half));
                    } else {
                        reads.extend(
                            (half..half + 4)
                                .filter(|&b| init(b, 1))
                                .map(|b| (Opcode::LdxB, b)),
                        );
                    }
                }
            }
            for (op, at) in reads {
                let off = at as i16 - len as i16;
                self.emit(
                    Insn::new(op)
                        .with_dst(scratch)
                        .with_src(Reg::R10)
                        .with_off(off),
                );
                self.mix(scratch);
            }
        }
        self.emit(Insn::new(Opcode::Exit));
    }

    /// `r0 = r0 * odd ^ r` (or `+`, `-`): a bijection in r0, so no difference is lost.
    fn mix(&mut self, r: Reg) {
        self.emit(
            Insn::new(Opcode::Mul64Imm)
                .with_dst(Reg::R0)
                .with_imm(0x9e37_79b1_u32 as i32),
        );
        let op = self
            .rng
            .pick(&[Opcode::Xor64Reg, Opcode::Add64Reg, Opcode::Sub64Reg]);
        self.emit(Insn::new(op).with_dst(Reg::R0).with_src(r));
    }

    // ---- statements ----

    fn block(&mut self, depth: usize) {
        while self.budget > 0 {
            self.budget -= 1;
            self.statement(depth);
            // Nested blocks end early now and then.
            if depth > 0 && self.rng.percent(25) {
                break;
            }
        }
    }

    fn statement(&mut self, depth: usize) {
        let nested = depth < 3;
        let calls = !self.callees.is_empty();
        match self.rng.below(100) {
            0..=39 => self.alu(),
            40..=44 => self.endian(),
            45..=47 => {
                let (r, v) = (self.any_reg(), random_u64(self.rng));
                self.set_value(r, v);
            }
            48..=56 => self.store(),
            57..=65 => self.load(),
            66..=75 => self.atomic(),
            76..=82 if nested => self.if_then(depth),
            83..=89 if nested => self.if_else(depth),
            90..=95 if calls => self.call(),
            96 => {
                // goto +0 / gotol +0
                let op = self.rng.pick(&[Opcode::Ja, Opcode::Ja32]);
                self.emit(Insn::new(op));
            }
            _ => self.alu(),
        }
    }

    fn alu(&mut self) {
        let op = self.rng.pick(&self.fam.alu);
        let Kind::Alu {
            op: alu,
            width,
            src,
        } = op.spec().kind
        else {
            unreachable!()
        };
        let bits = if width == Width::W32 { 32 } else { 64 };
        let writes_only = matches!(alu, AluOp::Mov | AluOp::MovSx(_));
        let dst = if writes_only {
            self.any_reg()
        } else {
            self.src_reg()
        };
        let mut insn = Insn::new(op).with_dst(dst);
        match (alu, src) {
            (AluOp::Neg, _) => {}
            (AluOp::Lsh | AluOp::Rsh | AluOp::Arsh, Source::Imm) => {
                insn = insn.with_imm(self.rng.below(bits) as i32);
            }
            (AluOp::Div | AluOp::SDiv | AluOp::Mod | AluOp::SMod, Source::Imm) => {
                let mut imm = random_i32(self.rng);
                if imm == 0 || self.rng.percent(20) {
                    imm = -1;
                }
                if self.rng.percent(25) {
                    let v = self.rng.pick(DIVIDENDS);
                    self.set_value(dst, v);
                }
                insn = insn.with_imm(imm);
            }
            (_, Source::Imm) => insn = insn.with_imm(random_i32(self.rng)),
            (_, Source::Reg) => {
                let s = self.src_reg();
                match alu {
                    AluOp::Lsh | AluOp::Rsh | AluOp::Arsh if self.rng.percent(50) => {
                        let v = self.rng.pick(SHIFT_AMOUNTS);
                        self.set_value(s, v);
                    }
                    AluOp::Div | AluOp::SDiv | AluOp::Mod | AluOp::SMod => {
                        if self.rng.percent(40) {
                            let v = self.rng.pick(DIVISORS);
                            self.set_value(s, v);
                        }
                        if s != dst && self.rng.percent(25) {
                            let v = self.rng.pick(DIVIDENDS);
                            self.set_value(dst, v);
                        }
                    }
                    _ => {}
                }
                insn = insn.with_src(s);
            }
        }
        self.emit(insn);
        self.set_init(dst);
        self.maybe_fold(dst);
    }

    fn endian(&mut self) {
        let op = self.rng.pick(&self.fam.endian);
        let dst = self.src_reg();
        self.emit(Insn::new(op).with_dst(dst));
        self.maybe_fold(dst);
    }

    /// A random aligned stack offset for an access of `size` bytes, as an index into the
    /// state's stack.
    fn any_slot(&mut self, size: usize) -> usize {
        self.rng.below(self.state.stack.len() / size) * size
    }

    /// A random aligned stack offset whose `size` bytes are all initialised.
    fn init_slot(&mut self, size: usize) -> Option<usize> {
        let candidates: Vec<usize> = (0..self.state.stack.len())
            .step_by(size)
            .filter(|&a| self.state.stack[a..a + size].iter().all(|&b| b))
            .collect();
        (!candidates.is_empty()).then(|| self.rng.pick(&candidates))
    }

    fn fp_off(&self, index: usize) -> i16 {
        index as i16 - self.state.stack.len() as i16
    }

    fn store(&mut self) {
        let op = self.rng.pick(&self.fam.stores);
        let Kind::Store { size, src } = op.spec().kind else {
            unreachable!()
        };
        let n = size_of(size);
        let at = self.any_slot(n);
        let mut insn = Insn::new(op).with_dst(Reg::R10).with_off(self.fp_off(at));
        insn = match src {
            Source::Imm => insn.with_imm(random_i32(self.rng)),
            Source::Reg => insn.with_src(self.src_reg()),
        };
        self.emit(insn);
        self.state.stack[at..at + n].fill(true);
    }

    fn load(&mut self) {
        let op = self.rng.pick(&self.fam.loads);
        let Kind::Load { size, .. } = op.spec().kind else {
            unreachable!()
        };
        let Some(at) = self.init_slot(size_of(size)) else {
            return self.store();
        };
        let dst = self.any_reg();
        self.emit(
            Insn::new(op)
                .with_dst(dst)
                .with_src(Reg::R10)
                .with_off(self.fp_off(at)),
        );
        self.set_init(dst);
        self.maybe_fold(dst);
    }

    fn atomic(&mut self) {
        let op = self.rng.pick(&self.fam.atomics);
        let Kind::Atomic { op: aop, size } = op.spec().kind else {
            unreachable!()
        };
        let n = size_of(size);
        let Some(at) = self.init_slot(n) else {
            return self.store();
        };
        let off = self.fp_off(at);
        let src = self.src_reg();
        if aop.fetches() {
            // Linux 6.18's precision tracking does not see that a fetching atomic defines its
            // register from the stack slot (backtrack_insn treats it like a plain store), so a
            // branch on the fetched value can prune a path it must not and the code that path
            // needed is removed as dead. A plain atomic first turns the slot from a spilled
            // register into unknown bytes, whose value no branch can depend on.
            let plain = match (n, self.rng.percent(50)) {
                (8, true) => Opcode::AtomicAdd64,
                (8, false) => Opcode::AtomicXor64,
                (_, true) => Opcode::AtomicAdd32,
                (_, false) => Opcode::AtomicXor32,
            };
            let with = self.src_reg();
            self.emit(
                Insn::new(plain)
                    .with_dst(Reg::R10)
                    .with_src(with)
                    .with_off(off),
            );
        }
        if aop == AtomicOp::CmpXchg {
            // Half the time r0 holds the current value, so the exchange happens.
            if !self.is_init(Reg::R0) || self.rng.percent(50) {
                let load = if n == 8 { Opcode::LdxDW } else { Opcode::LdxW };
                self.emit(
                    Insn::new(load)
                        .with_dst(Reg::R0)
                        .with_src(Reg::R10)
                        .with_off(off),
                );
                self.set_init(Reg::R0);
            }
        }
        if op == Opcode::AtomicCmpXchg32 {
            // Linux 6.18 zero-extends r0 after a 32-bit cmpxchg (which x86 leaves alone when the
            // exchange happens) only on paths the verifier walked to a 64-bit read of r0; on a
            // path it pruned, the JIT keeps r0's old upper half. Clearing it first makes the
            // result the same either way. (`cmpxchg32_upper_half` covers the upper half.)
            self.emit(
                Insn::new(Opcode::Mov32Reg)
                    .with_dst(Reg::R0)
                    .with_src(Reg::R0),
            );
        }
        self.emit(Insn::new(op).with_dst(Reg::R10).with_src(src).with_off(off));
        match aop {
            AtomicOp::CmpXchg => self.maybe_fold(Reg::R0),
            _ if aop.fetches() => self.maybe_fold(src),
            _ => {}
        }
    }

    /// A conditional jump with a placeholder offset.
    fn condition(&mut self) -> usize {
        let op = self.rng.pick(&self.fam.jumps);
        let Kind::Jump { src, .. } = op.spec().kind else {
            unreachable!()
        };
        let dst = self.src_reg();
        let insn = match src {
            Source::Imm => Insn::new(op).with_dst(dst).with_imm(random_i32(self.rng)),
            Source::Reg => {
                // Not `if rX op rX`: Linux 6.18 computes impossible bounds for the branch that
                // cannot be taken and reports a verifier bug (REG INVARIANTS VIOLATION, a
                // kernel WARN).
                let others: Vec<Reg> = self.init_regs().into_iter().filter(|&r| r != dst).collect();
                let s = if others.is_empty() {
                    let r = reg((dst.index() as usize + 1 + self.rng.below(9)) % 10);
                    let v = random_u64(self.rng);
                    self.set_value(r, v);
                    r
                } else {
                    self.rng.pick(&others)
                };
                Insn::new(op).with_dst(dst).with_src(s)
            }
        };
        self.emit(insn)
    }

    /// `if cond goto end; then...; end:`
    fn if_then(&mut self, depth: usize) {
        let jump = self.condition();
        let before = self.state.clone();
        self.block(depth + 1);
        self.patch_to_here(jump);
        self.state.meet(&before);
    }

    /// `if cond goto else; then...; goto end; else: ...; end:`
    fn if_else(&mut self, depth: usize) {
        let jump = self.condition();
        let before = self.state.clone();
        self.block(depth + 1);
        let op = self.rng.pick(&[Opcode::Ja, Opcode::Ja32]);
        let skip = self.emit(Insn::new(op));
        let after_then = std::mem::replace(&mut self.state, before);
        self.patch_to_here(jump);
        self.block(depth + 1);
        self.patch_to_here(skip);
        self.state.meet(&after_then);
    }

    fn call(&mut self) {
        let callee = self.rng.below(self.callees.len());
        for n in 1..=self.callees[callee] {
            let r = reg(n);
            if !self.is_init(r) || self.rng.percent(30) {
                let v = random_u64(self.rng);
                self.set_value(r, v);
            }
        }
        let at = self.emit(Insn::new(Opcode::CallLocal));
        self.calls.push((at, self.first_callee + callee));
        self.state.regs &= !0b11_1110;
        self.set_init(Reg::R0);
    }
}

/// Generates the program for `seed`.
pub fn generate(seed: u64) -> Generated {
    thread_local! {
        static FAMILIES: Families = Families::new();
    }
    FAMILIES.with(|fam| generate_with(seed, fam))
}

fn generate_with(seed: u64, fam: &Families) -> Generated {
    let mut rng = Rng::new(seed);
    let mut input = [0u8; INPUT_LEN];
    for chunk in input.chunks_exact_mut(8) {
        chunk.copy_from_slice(&random_u64(&mut rng).to_le_bytes());
    }
    // Function 0 is the body; function k + 1 is subprogram k, which may call the subprograms
    // after it (so there is no recursion and at most 1 + MAX_SUBS frames).
    let arities: Vec<usize> = (0..rng.below(MAX_SUBS + 1)).map(|_| rng.below(6)).collect();
    let mut functions = vec![FnGen::new(&mut rng, fam, Frame::Body, &arities, 1).body()];
    for (k, &arity) in arities.iter().enumerate() {
        let callees = &arities[k + 1..];
        let sub = FnGen::new(&mut rng, fam, Frame::Sub(arity), callees, k + 2).sub();
        functions.push(sub);
    }

    // Layout: the body, then the subprograms it reaches, in order (the verifier rejects
    // unreachable code, so the others are left out). Calls are relative to the next slot.
    let mut reached = vec![false; functions.len()];
    let mut todo = vec![0];
    while let Some(f) = todo.pop() {
        if !std::mem::replace(&mut reached[f], true) {
            todo.extend(functions[f].1.iter().map(|&(_, callee)| callee));
        }
    }
    let slots = |code: &[Insn]| code.iter().map(|i| i.slots()).sum::<usize>();
    let mut starts = vec![0; functions.len()];
    let mut at = 0;
    for f in (0..functions.len()).filter(|&f| reached[f]) {
        starts[f] = at;
        at += slots(&functions[f].0);
    }
    let mut insns = Vec::new();
    for f in (0..functions.len()).filter(|&f| reached[f]) {
        let (code, calls) = &mut functions[f];
        for &(index, callee) in calls.iter() {
            let call_slot = starts[f] + slots(&code[..index]);
            code[index].imm = (starts[callee] - (call_slot + 1)) as i32;
        }
        insns.extend_from_slice(code);
    }
    Generated { seed, insns, input }
}
