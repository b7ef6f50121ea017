//! aarch64 emission: each [`Lir`] as instructions of [`Asm`], the entry trampoline, fault paths
//! in islands, far branches.

use bpfkit_isa::{AluOp, AtomicOp, ByteOrder, Cond, Opcode, Size};
use bpfkit_vm::memory::STACK_SIZE;
use dynasmrt::DynamicLabel;

use super::asm::{Addr, Asm, Cc, Logic, Lse, MemOp, R, SP, Shift, ZR};
use super::asm::{arith_imm_fits, logic_imm_fits};
use super::reg::*;
use super::{HOST, cpu_has_lse};
use crate::assembler::Emitted;
use crate::backend::{Backend, BackendError, NewBackend};
use crate::context::*;
use crate::lower::{
    Check, FP as EBPF_FP, Length, Lir, Mem, Operand, Options, Range, Span, is_indirect,
};
use crate::saves;
use crate::{Atomics, Mode};

/// An upper bound on the bytes one eBPF instruction becomes: its code, its meter, and the
/// fault paths it adds to an island (and the island's leading branch). Forward branches are
/// judged near or far by it; [`Aarch64::finish`] fails if an instruction ever exceeds it.
pub const MAX_INSN_BYTES: usize = 1024;
/// An upper bound on the bytes of one fault path (checked when it is emitted).
const MAX_STUB_BYTES: usize = 96;
/// The reach of `b.cond` (and `cbz`, `ldr` literal): a signed 19-bit word offset.
const BCOND_REACH: usize = 1 << 20;

/// A position in the code (a dynasmrt label).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Label {
    id: DynamicLabel,
}

/// A fault path: sets the fault's words and unwinds.
struct Stub {
    label: DynamicLabel,
    pc: usize,
    kind: u64,
    size: usize,
    addr: StubAddr,
}

/// What a fault path stores as the faulting address.
#[derive(Clone, Copy)]
enum StubAddr {
    /// The virtual address of a checked access, in `T0` when the check branches to the fault
    /// path; the words other than the pc are set by the tail shared by the accesses with the
    /// same fault kind and size (a per-site fault path of two instructions plus the pc's
    /// constant keeps compiling an access cheap).
    Access(DynamicLabel),
    /// A constant.
    Value(u64),
}

/// The aarch64 backend.
pub struct Aarch64 {
    asm: Asm,
    options: Options,
    lse: bool,
    /// Instructions in all the programs being compiled, and how many were begun.
    insns: usize,
    begun: usize,
    /// The instruction being emitted: its pc, whether its meter is emitted, where its code
    /// starts, and the stubs added before it.
    current: Option<(usize, bool)>,
    insn_start: usize,
    insn_stubs: usize,
    /// Fault paths not yet placed; where the first branch to one of them is.
    stubs: Vec<Stub>,
    /// The shared tails of access fault paths, by fault kind and size.
    tails: Vec<((u64, usize), DynamicLabel)>,
    first_stub_ref: Option<usize>,
    stubs_added: usize,
    fault: DynamicLabel,
    unwind: DynamicLabel,
    epilogue: DynamicLabel,
    runtime: DynamicLabel,
    after_call: DynamicLabel,
    /// Conditional jumps that had to become an inverted branch around a `b`.
    far_branches: usize,
    error: Option<String>,
}

impl NewBackend for Aarch64 {
    fn new(options: Options, insns: usize) -> Aarch64 {
        let lse = match options.atomics {
            Atomics::Lse => true,
            Atomics::LlSc => false,
            Atomics::Detect => cpu_has_lse(),
        };
        let mut asm = Asm::with_capacity(insns * 32, insns + 8);
        let [fault, unwind, epilogue, runtime, after_call] = [(); 5].map(|_| asm.new_label());
        // The bound on what remains to emit, which far branches are judged by: with groups
        // the driver may emit a slot a second time, in a group's duplicate (a slot is in at
        // most one).
        Aarch64 {
            asm,
            options,
            lse,
            insns: if crate::group::formed(options) {
                2 * insns
            } else {
                insns
            },
            begun: 0,
            current: None,
            insn_start: 0,
            insn_stubs: 0,
            stubs: Vec::new(),
            tails: Vec::new(),
            first_stub_ref: None,
            stubs_added: 0,
            fault,
            unwind,
            epilogue,
            runtime,
            after_call,
            far_branches: 0,
            error: None,
        }
    }
}

/// The width of an access as a load, zero- or sign-extended.
fn load_op(size: Size, sign: bool) -> MemOp {
    match (size, sign) {
        (Size::B, false) => MemOp::LdrB,
        (Size::H, false) => MemOp::LdrH,
        (Size::W, false) => MemOp::LdrW,
        (Size::DW, _) => MemOp::LdrX,
        (Size::B, true) => MemOp::LdrsbX,
        (Size::H, true) => MemOp::LdrshX,
        (Size::W, true) => MemOp::LdrswX,
    }
}

fn store_op(size: Size) -> MemOp {
    match size {
        Size::B => MemOp::StrB,
        Size::H => MemOp::StrH,
        Size::W => MemOp::StrW,
        Size::DW => MemOp::StrX,
    }
}

/// The condition code of an eBPF comparison.
fn cc(cond: Cond) -> Cc {
    match cond {
        Cond::Eq => Cc::Eq,
        Cond::Ne | Cond::Set => Cc::Ne,
        Cond::Gt => Cc::Hi,
        Cond::Ge => Cc::Hs,
        Cond::Lt => Cc::Lo,
        Cond::Le => Cc::Ls,
        Cond::SGt => Cc::Gt,
        Cond::SGe => Cc::Ge,
        Cond::SLt => Cc::Lt,
        Cond::SLe => Cc::Le,
    }
}

/// A context word's byte offset.
fn word(index: usize) -> Addr {
    Addr::Imm(CTX, at(index))
}

impl Aarch64 {
    /// Whether this backend uses LSE atomics (otherwise LL/SC loops).
    pub fn uses_lse(&self) -> bool {
        self.lse
    }

    /// How many conditional jumps became an inverted branch around a `b` so far.
    pub fn far_branches(&self) -> usize {
        self.far_branches
    }

    fn checked(&self) -> bool {
        self.options.mode == Mode::Checked
    }

    fn load_word(&mut self, rt: R, index: usize) {
        self.asm.ldst(MemOp::LdrX, rt, word(index), IP0);
    }

    fn store_word(&mut self, rt: R, index: usize) {
        self.asm.ldst(MemOp::StrX, rt, word(index), IP0);
    }

    /// `rd = rn + value` for any value, through `IP1` when no immediate form encodes it.
    fn add_const(&mut self, rd: R, rn: R, value: i64) {
        let v = value as u64;
        if value == 0 {
            if rd != rn {
                self.asm.mov(true, rd, rn);
            }
        } else if arith_imm_fits(v) {
            self.asm.add_imm(true, rd, rn, v);
        } else if arith_imm_fits(v.wrapping_neg()) {
            self.asm.sub_imm(true, rd, rn, v.wrapping_neg());
        } else {
            self.asm.mov_const(true, IP1, v);
            self.asm.add_reg(true, rd, rn, IP1, 0);
        }
    }

    /// `rd = r10`, the virtual frame pointer `(1 + depth) << 32 | 512`: the host frame pointer
    /// is `stack_base + 512 * (1 + depth)`.
    fn load_fp(&mut self, rd: R) {
        self.load_word(rd, STACK_BASE);
        self.asm.sub_reg(true, rd, FP, rd);
        self.asm.shift_imm(Shift::Lsl, true, rd, rd, 23);
        self.asm.add_imm(true, rd, rd, STACK_SIZE as u64);
    }

    /// The host register holding eBPF register `r`'s value, computing `r10` into `scratch`
    /// in checked mode.
    fn value(&mut self, r: u8, scratch: R) -> R {
        if r == EBPF_FP && self.checked() {
            self.load_fp(scratch);
            scratch
        } else {
            HOST[r as usize]
        }
    }

    /// `T0 = base + off`, the virtual address of an access.
    fn vaddr(&mut self, base: u8, off: i32) {
        if base == EBPF_FP && self.checked() {
            self.load_fp(T0);
            self.add_const(T0, T0, off as i64);
        } else {
            self.add_const(T0, HOST[base as usize], off as i64);
        }
    }

    /// A fault path for a checked access of `size` bytes at `pc`, whose virtual address is in
    /// `T0` where it branches there.
    fn access_stub(&mut self, pc: usize, kind: u64, size: usize) -> DynamicLabel {
        let tail = match self.tails.iter().find(|(k, _)| *k == (kind, size)) {
            Some(&(_, tail)) => tail,
            None => {
                let tail = self.asm.new_label();
                self.tails.push(((kind, size), tail));
                tail
            }
        };
        self.stub(pc, kind, size, StubAddr::Access(tail))
    }

    fn stub(&mut self, pc: usize, kind: u64, size: usize, addr: StubAddr) -> DynamicLabel {
        let label = self.asm.new_label();
        self.stubs.push(Stub {
            label,
            pc,
            kind,
            size,
            addr,
        });
        self.stubs_added += 1;
        self.first_stub_ref.get_or_insert(self.asm.offset());
        label
    }

    /// The host address of an access of `size` bytes at `base + off`, checked as `check` says.
    /// A translated access is `[T1, T2]`; `T0`-`T4` are clobbered. `write` selects the write
    /// limit; `read_write` checks both (atomics: the read first).
    fn address(&mut self, pc: usize, mem: Mem, write: bool, read_write: bool) -> Addr {
        let Mem {
            base,
            off,
            size,
            check,
        } = mem;
        let guess = match check {
            Check::Frame => return Addr::Imm(FP, off),
            Check::Host => return Addr::Imm(HOST[base as usize], off),
            // Atomics and `r10` (held as the host frame pointer) are never grouped; were one
            // proven, it is checked against its region.
            Check::Proven { region } if !read_write && base != EBPF_FP => {
                let entry = Addr::Imm(CTX, at(TABLE + region as usize * ENTRY_WORDS + ENTRY_DELTA));
                self.asm.ldst(MemOp::LdrX, T2, entry, IP0);
                if off == 0 {
                    return Addr::Index(HOST[base as usize], T2);
                }
                self.add_const(T1, HOST[base as usize], off as i64);
                return Addr::Index(T1, T2);
            }
            Check::Proven { region } => Some(region),
            Check::Region { guess } => guess,
        };
        let n = size.bytes();
        let first_is_write = write && !read_write;
        self.vaddr(base, off);
        if self.options.strict_alignment && n > 1 {
            let kind = if first_is_write {
                FAULT_MISALIGNED_WRITE
            } else {
                FAULT_MISALIGNED_READ
            };
            let misaligned = self.access_stub(pc, kind, n);
            self.asm.tst_imm(true, T0, n as u64 - 1);
            self.asm.b_cond(Cc::Ne, misaligned);
        }
        match guess {
            Some(region) => {
                let done = self.asm.new_label();
                self.guessed_region(n, first_is_write, read_write, region as usize, done);
                self.region_lookup(pc, n, first_is_write, read_write);
                self.asm.bind(done);
            }
            None => self.region_lookup(pc, n, first_is_write, read_write),
        }
        Addr::Index(T1, T2)
    }

    /// Checks the access of `n` bytes whose virtual address is in `T0` against the region it
    /// was guessed to fall in (see `crate::guess`): the offset from the region's first virtual
    /// address, below the region's limit (unsigned), is both the region check and the bounds
    /// check. When it holds, `T1` is the region's host base, `T2` the offset, and the code
    /// continues at `done`; otherwise it falls through to the full lookup the caller emits
    /// next (inline: the fault paths live in islands, and a lookup there would need its own).
    fn guessed_region(
        &mut self,
        n: usize,
        first_is_write: bool,
        read_write: bool,
        region: usize,
        done: DynamicLabel,
    ) {
        let k = size_index(n);
        let entry = |w: usize| Addr::Imm(CTX, at(TABLE + region * ENTRY_WORDS + w));
        let limit = if first_is_write {
            ENTRY_WRITE_LIMIT
        } else {
            ENTRY_READ_LIMIT
        };
        let lookup = self.asm.new_label();
        self.asm.ldst(MemOp::LdrX, T4, entry(ENTRY_VSTART), IP0);
        self.asm.sub_reg(true, T2, T0, T4);
        self.asm.ldst(MemOp::LdrX, T4, entry(limit + k), IP0);
        self.asm.subs_reg(true, ZR, T2, T4);
        self.asm.b_cond(Cc::Hs, lookup);
        if read_write {
            self.asm
                .ldst(MemOp::LdrX, T4, entry(ENTRY_WRITE_LIMIT + k), IP0);
            self.asm.subs_reg(true, ZR, T2, T4);
            self.asm.b_cond(Cc::Hs, lookup);
        }
        self.asm.ldst(MemOp::LdrX, T1, entry(ENTRY_BASE), IP0);
        self.asm.b(done);
        self.asm.bind(lookup);
    }

    /// Checks that `range` lies in its region (writable, for a range with stores), else
    /// branches to `fallback` (see `crate::group`): the offsets of the first byte and of the
    /// last are both below the region's one-byte limit.
    fn check_range(&mut self, range: Range, fallback: Label) {
        let Range {
            base, off, region, ..
        } = range;
        let entry = |w: usize| Addr::Imm(CTX, at(TABLE + region as usize * ENTRY_WORDS + w));
        self.vaddr(base, off);
        self.asm.ldst(MemOp::LdrX, T4, entry(ENTRY_VSTART), IP0);
        self.asm.sub_reg(true, T2, T0, T4);
        self.asm
            .ldst(MemOp::LdrX, T4, entry(range.limit_word()), IP0);
        self.asm.subs_reg(true, ZR, T2, T4);
        self.branch(Cc::Hs, fallback);
        if !range.one_compare() {
            self.add_const(T2, T2, i64::from(range.len) - 1);
            self.asm.subs_reg(true, ZR, T2, T4);
            self.branch(Cc::Hs, fallback);
        }
    }

    /// Checks that a loop's span (see [`Span`]) lies in its region, else jumps to `fallback`:
    /// the first byte's offset into the region and the last one's are both below the region's
    /// one-byte limit.
    fn check_span(&mut self, span: Span, fallback: Label) {
        let Span {
            base,
            cursor,
            bound,
            first,
            last,
            region,
            ..
        } = span;
        let entry = |w: usize| Addr::Imm(CTX, at(TABLE + region as usize * ENTRY_WORDS + w));
        self.vaddr(base, first);
        self.add_plus(span.plus);
        self.asm.ldst(MemOp::LdrX, T3, entry(ENTRY_VSTART), IP0);
        self.asm.sub_reg(true, T2, T0, T3);
        self.asm
            .ldst(MemOp::LdrX, T4, entry(span.limit_word()), IP0);
        self.asm.subs_reg(true, ZR, T2, T4);
        self.branch(Cc::Hs, fallback);
        // T0 = base + ((bound - 1 - cursor) & -align) + last.
        let (b, c, n) = (
            HOST[base as usize],
            HOST[cursor as usize],
            HOST[bound as usize],
        );
        self.asm.sub_reg(true, T0, n, c);
        self.add_const(T0, T0, -1);
        if span.align > 1 {
            // -align is a run of ones, a logical immediate.
            let mask = u64::from(span.align).wrapping_neg();
            self.asm.logic_imm(Logic::And, true, T0, T0, mask);
        }
        self.asm.add_reg(true, T0, T0, b, 0);
        self.add_plus(span.plus);
        self.add_const(T0, T0, i64::from(last));
        self.asm.sub_reg(true, T2, T0, T3);
        self.asm.subs_reg(true, ZR, T2, T4);
        self.branch(Cc::Hs, fallback);
    }

    /// Checks that the `len` bytes from `start` (registers) lie in their region, else jumps
    /// to `fallback`: `len - 1` is below the region's one-byte limit (so `len` is at least 1,
    /// and adding it cannot wrap), and so are the first byte's offset into the region and the
    /// last one's.
    fn check_length(&mut self, length: Length, fallback: Label) {
        let Length {
            start, len, region, ..
        } = length;
        let entry = |w: usize| Addr::Imm(CTX, at(TABLE + region as usize * ENTRY_WORDS + w));
        self.asm
            .ldst(MemOp::LdrX, T4, entry(length.limit_word()), IP0);
        self.add_const(T3, HOST[len as usize], -1);
        self.asm.subs_reg(true, ZR, T3, T4);
        self.branch(Cc::Hs, fallback);
        self.vaddr(start, 0);
        self.asm.ldst(MemOp::LdrX, T2, entry(ENTRY_VSTART), IP0);
        self.asm.sub_reg(true, T2, T0, T2);
        self.asm.subs_reg(true, ZR, T2, T4);
        self.branch(Cc::Hs, fallback);
        self.asm.add_reg(true, T2, T2, T3, 0);
        self.asm.subs_reg(true, ZR, T2, T4);
        self.branch(Cc::Hs, fallback);
    }

    /// Adds the registers of a span's `plus` to `T0`.
    fn add_plus(&mut self, plus: [Option<u8>; 2]) {
        for r in plus.into_iter().flatten() {
            self.asm.add_reg(true, T0, T0, HOST[r as usize], 0);
        }
    }

    /// Looks up the region of the access of `n` bytes whose virtual address is in `T0` by the
    /// address's high half and checks the access against it: `T1` is then the region's host
    /// base and `T2` the offset, or the code faults at `pc`.
    fn region_lookup(&mut self, pc: usize, n: usize, first_is_write: bool, read_write: bool) {
        let (kind, last) = if first_is_write {
            (FAULT_WRITE, ENTRY_WRITE_LIMIT)
        } else {
            (FAULT_READ, ENTRY_READ_LIMIT)
        };
        let first = self.access_stub(pc, kind, n);
        self.asm.shift_imm(Shift::Lsr, true, T1, T0, 32);
        self.load_word(T2, REGION_COUNT);
        self.asm.subs_reg(true, ZR, T1, T2);
        self.asm.b_cond(Cc::Hs, first);
        // T1 = the context plus the entry's offset in the table: the entry's words
        // are at [T1 + 8 * (TABLE + word)].
        let entry_shift = (ENTRY_WORDS * 8).trailing_zeros() as u8;
        self.asm.add_reg(true, T1, CTX, T1, entry_shift);
        self.asm.mov(false, T2, T0);
        // In bounds when the offset is below the entry's limit for `n` bytes.
        let k = size_index(n);
        let entry = |w: usize| Addr::Imm(T1, at(TABLE + w));
        self.asm.ldst(MemOp::LdrX, T4, entry(last + k), IP0);
        self.asm.subs_reg(true, ZR, T2, T4);
        self.asm.b_cond(Cc::Hs, first);
        if read_write {
            let second = self.access_stub(pc, FAULT_WRITE, n);
            self.asm
                .ldst(MemOp::LdrX, T4, entry(ENTRY_WRITE_LIMIT + k), IP0);
            self.asm.subs_reg(true, ZR, T2, T4);
            self.asm.b_cond(Cc::Hs, second);
        }
        if first_is_write || read_write {
            // A store through the lookup may reach any frame (see FRAMES_WRITTEN).
            self.asm
                .ldst(MemOp::StrX, T0, Addr::Imm(CTX, at(FRAMES_WRITTEN)), IP0);
        }
        self.asm.ldst(MemOp::LdrX, T1, entry(ENTRY_BASE), IP0);
    }

    /// The second operand of a 32- or 64-bit ALU operation as a register: `src`, or the
    /// immediate moved into `IP1`.
    fn operand_reg(&mut self, sf: bool, src: Operand, scratch: R) -> R {
        match src {
            Operand::Reg(r) => self.value(r, scratch),
            Operand::Imm(0) => ZR,
            Operand::Imm(i) => {
                self.asm.mov_const(sf, IP1, i as u64);
                IP1
            }
        }
    }

    fn alu(&mut self, op: AluOp, sf: bool, dst: u8, src: Operand) {
        let d = HOST[dst as usize];
        // An immediate as the operation sees it: sign-extended to 64 bits, or its low 32.
        let imm = |i: i64| if sf { i as u64 } else { i as u64 & 0xffff_ffff };
        let neg = |v: u64| {
            if sf {
                v.wrapping_neg()
            } else {
                v.wrapping_neg() & 0xffff_ffff
            }
        };
        match (op, src) {
            (AluOp::Add | AluOp::Sub, Operand::Imm(i)) => {
                let v = if op == AluOp::Add {
                    imm(i)
                } else {
                    neg(imm(i))
                };
                if arith_imm_fits(v) {
                    self.asm.add_imm(sf, d, d, v);
                } else if arith_imm_fits(neg(v)) {
                    self.asm.sub_imm(sf, d, d, neg(v));
                } else {
                    self.asm.mov_const(sf, IP1, v);
                    self.asm.add_reg(sf, d, d, IP1, 0);
                }
            }
            (AluOp::Add, _) => {
                let s = self.operand_reg(sf, src, T5);
                self.asm.add_reg(sf, d, d, s, 0);
            }
            (AluOp::Sub, _) => {
                let s = self.operand_reg(sf, src, T5);
                self.asm.sub_reg(sf, d, d, s);
            }
            (AluOp::And | AluOp::Or | AluOp::Xor, _) => {
                let logic = match op {
                    AluOp::And => Logic::And,
                    AluOp::Or => Logic::Orr,
                    _ => Logic::Eor,
                };
                match src {
                    Operand::Imm(i) if logic_imm_fits(sf, imm(i)) => {
                        self.asm.logic_imm(logic, sf, d, d, imm(i));
                    }
                    _ => {
                        let s = self.operand_reg(sf, src, T5);
                        self.asm.logic_reg(logic, sf, d, d, s);
                    }
                }
            }
            (AluOp::Mov, Operand::Imm(i)) => self.asm.mov_const(sf, d, imm(i)),
            (AluOp::Mov, Operand::Reg(r)) => {
                let s = self.value(r, T5);
                self.asm.mov(sf, d, s);
            }
            (AluOp::MovSx(bits), _) => {
                let s = self.operand_reg(sf, src, T5);
                self.asm.sxt(sf, bits, d, s);
            }
            (AluOp::Neg, _) => self.asm.neg(sf, d, d),
            (AluOp::Mul, _) => {
                let s = self.operand_reg(sf, src, T5);
                self.asm.mul(sf, d, d, s);
            }
            // The CPU's division already follows RFC 9669: by zero it gives 0, and the most
            // negative value divided by -1 is itself. Modulo is `d - (d / s) * s`, which
            // keeps the dividend for a zero divisor (its low half for 32-bit) and gives 0 for
            // -1.
            (AluOp::Div | AluOp::SDiv, _) => {
                let s = self.operand_reg(sf, src, T5);
                self.asm.div(op == AluOp::SDiv, sf, d, d, s);
            }
            (AluOp::Mod | AluOp::SMod, _) => {
                let s = self.operand_reg(sf, src, T5);
                self.asm.div(op == AluOp::SMod, sf, T6, d, s);
                self.asm.msub(sf, d, T6, s, d);
            }
            (AluOp::Lsh | AluOp::Rsh | AluOp::Arsh, _) => {
                let shift = match op {
                    AluOp::Lsh => Shift::Lsl,
                    AluOp::Rsh => Shift::Lsr,
                    _ => Shift::Asr,
                };
                match src {
                    Operand::Imm(i) => {
                        let amount = (i as u8) & if sf { 63 } else { 31 };
                        if amount != 0 {
                            self.asm.shift_imm(shift, sf, d, d, amount);
                        } else if !sf {
                            // A 32-bit shift by 0 still zero-extends.
                            self.asm.mov(false, d, d);
                        }
                    }
                    // The register forms take the amount modulo the width, as eBPF does.
                    Operand::Reg(r) => {
                        let s = self.value(r, T5);
                        self.asm.shift_reg(shift, sf, d, d, s);
                    }
                }
            }
        }
    }

    fn endian(&mut self, order: ByteOrder, bits: u8, dst: u8) {
        let d = HOST[dst as usize];
        match (order, bits) {
            (ByteOrder::Le, 16) => self.asm.uxth(d, d),
            (ByteOrder::Le, 32) => self.asm.mov(false, d, d),
            (ByteOrder::Le, _) => {}
            (_, 16) => {
                self.asm.rev16(d, d);
                self.asm.uxth(d, d);
            }
            (_, 32) => self.asm.rev(false, d, d),
            (_, _) => self.asm.rev(true, d, d),
        }
    }

    fn host_addr(&mut self, dst: u8, region: u64, off: u32) {
        let d = HOST[dst as usize];
        let entry = TABLE + region as usize * ENTRY_WORDS + ENTRY_BASE;
        self.asm
            .ldst(MemOp::LdrX, d, Addr::Imm(CTX, (entry * 8) as i32), IP0);
        self.add_const(d, d, off as i64);
    }

    fn load(&mut self, pc: usize, dst: u8, mem: Mem, sign: bool) {
        let addr = self.address(pc, mem, false, false);
        self.asm
            .ldst(load_op(mem.size, sign), HOST[dst as usize], addr, IP0);
    }

    fn store(&mut self, pc: usize, mem: Mem, value: Operand) {
        let addr = self.address(pc, mem, true, false);
        let v = self.operand_reg(true, value, T5);
        self.asm.ldst(store_op(mem.size), v, addr, IP0);
    }

    /// Atomics, LSE or LL/SC; the fetching forms leave the old value (zero-extended) in `src`,
    /// cmpxchg in `r0`. A misaligned host address takes the plain path instead.
    fn atomic(&mut self, pc: usize, op: AtomicOp, mem: Mem, src: u8) {
        let sf = mem.size == Size::DW;
        let n = mem.size.bytes() as u64;
        let a = T4;
        match self.address(pc, mem, true, true) {
            Addr::Imm(base, off) => self.add_const(a, base, off as i64),
            Addr::Index(base, index) => self.asm.add_reg(true, a, base, index, 0),
        }
        let s = self.value(src, T5);
        let (plain, done) = (self.asm.new_label(), self.asm.new_label());
        self.asm.tst_imm(true, a, n - 1);
        self.asm.b_cond(Cc::Ne, plain);
        if self.lse {
            self.atomic_lse(op, sf, s, a);
        } else {
            self.atomic_ll_sc(op, sf, s, a);
        }
        self.asm.b(done);
        self.asm.bind(plain);
        self.atomic_plain(op, sf, s, a);
        self.asm.bind(done);
    }

    fn atomic_lse(&mut self, op: AtomicOp, sf: bool, s: R, a: R) {
        let r0 = HOST[0];
        match op {
            AtomicOp::Add => self.asm.lse_store(Lse::Add, sf, s, a),
            AtomicOp::Or => self.asm.lse_store(Lse::Set, sf, s, a),
            AtomicOp::Xor => self.asm.lse_store(Lse::Eor, sf, s, a),
            AtomicOp::And => {
                self.asm.mvn(sf, T6, s);
                self.asm.lse_store(Lse::Clr, sf, T6, a);
            }
            AtomicOp::FetchAdd => self.asm.lse(Lse::Add, sf, s, s, a),
            AtomicOp::FetchOr => self.asm.lse(Lse::Set, sf, s, s, a),
            AtomicOp::FetchXor => self.asm.lse(Lse::Eor, sf, s, s, a),
            AtomicOp::FetchAnd => {
                self.asm.mvn(sf, T6, s);
                self.asm.lse(Lse::Clr, sf, T6, s, a);
            }
            AtomicOp::Xchg => self.asm.lse(Lse::Swp, sf, s, s, a),
            AtomicOp::CmpXchg => self.asm.casal(sf, r0, s, a),
        }
    }

    /// The operation of a read-modify-write: `T2 = T1 op s`.
    fn rmw_op(&mut self, op: AtomicOp, sf: bool, s: R) -> R {
        match op {
            AtomicOp::Add | AtomicOp::FetchAdd => self.asm.add_reg(sf, T2, T1, s, 0),
            AtomicOp::Or | AtomicOp::FetchOr => self.asm.logic_reg(Logic::Orr, sf, T2, T1, s),
            AtomicOp::And | AtomicOp::FetchAnd => self.asm.logic_reg(Logic::And, sf, T2, T1, s),
            AtomicOp::Xor | AtomicOp::FetchXor => self.asm.logic_reg(Logic::Eor, sf, T2, T1, s),
            AtomicOp::Xchg => return s,
            AtomicOp::CmpXchg => unreachable!("cmpxchg has its own sequences"),
        }
        T2
    }

    fn fetches(op: AtomicOp) -> bool {
        !matches!(
            op,
            AtomicOp::Add | AtomicOp::Or | AtomicOp::And | AtomicOp::Xor
        )
    }

    fn atomic_ll_sc(&mut self, op: AtomicOp, sf: bool, s: R, a: R) {
        let r0 = HOST[0];
        let retry = self.asm.new_label();
        if op == AtomicOp::CmpXchg {
            let differ = self.asm.new_label();
            self.asm.mov(sf, T6, r0);
            self.asm.bind(retry);
            self.asm.ldxr(sf, T1, a);
            self.asm.subs_reg(sf, ZR, T1, T6);
            self.asm.b_cond(Cc::Ne, differ);
            self.asm.stlxr(sf, T3, s, a);
            self.asm.cbnz_w(T3, retry);
            self.asm.dmb_ish();
            self.asm.bind(differ);
            self.asm.mov(sf, r0, T1);
            return;
        }
        self.asm.bind(retry);
        self.asm.ldxr(sf, T1, a);
        let new = self.rmw_op(op, sf, s);
        self.asm.stlxr(sf, T3, new, a);
        self.asm.cbnz_w(T3, retry);
        if Self::fetches(op) {
            self.asm.dmb_ish();
            self.asm.mov(sf, s, T1);
        }
    }

    /// A load, the operation and a store, for a misaligned host address.
    fn atomic_plain(&mut self, op: AtomicOp, sf: bool, s: R, a: R) {
        let r0 = HOST[0];
        let (load, store) = if sf {
            (MemOp::LdrX, MemOp::StrX)
        } else {
            (MemOp::LdrW, MemOp::StrW)
        };
        self.asm.ldst(load, T1, Addr::Imm(a, 0), IP0);
        if op == AtomicOp::CmpXchg {
            let differ = self.asm.new_label();
            self.asm.subs_reg(sf, ZR, T1, r0);
            self.asm.b_cond(Cc::Ne, differ);
            self.asm.ldst(store, s, Addr::Imm(a, 0), IP0);
            self.asm.bind(differ);
            self.asm.mov(sf, r0, T1);
            return;
        }
        let new = self.rmw_op(op, sf, s);
        self.asm.ldst(store, new, Addr::Imm(a, 0), IP0);
        if Self::fetches(op) {
            self.asm.mov(sf, s, T1);
        }
    }

    /// Whether a `b.cond` here surely reaches `target`.
    fn near(&self, target: Label) -> bool {
        let here = self.asm.offset();
        match self.asm.bound_at(target.id) {
            Some(at) => here - at < BCOND_REACH,
            // Forward: at most every instruction not yet emitted lies in between, each within
            // its bound, and the fault paths pending now.
            None => {
                let pending = self.stubs.len() * MAX_STUB_BYTES;
                let ahead =
                    (self.insns.saturating_sub(self.begun) + 1).saturating_mul(MAX_INSN_BYTES);
                ahead.saturating_add(pending) < BCOND_REACH
            }
        }
    }

    /// `b.cond target`, or for a target that may be out of its reach, the inverted condition
    /// around a `b`.
    fn branch(&mut self, cc: Cc, target: Label) {
        if self.near(target) {
            self.asm.b_cond(cc, target.id);
        } else {
            let skip = self.asm.new_label();
            self.asm.b_cond(cc.invert(), skip);
            self.asm.b(target.id);
            self.asm.bind(skip);
            self.far_branches += 1;
        }
    }

    fn jump(&mut self, cond: Option<(Cond, bool, u8, Operand)>, target: Label) {
        let Some((cond, sf, dst, src)) = cond else {
            self.asm.b(target.id);
            return;
        };
        let d = self.value(dst, T6);
        let v = |i: i64| if sf { i as u64 } else { i as u64 & 0xffff_ffff };
        let neg = |x: u64| {
            if sf {
                x.wrapping_neg()
            } else {
                x.wrapping_neg() & 0xffff_ffff
            }
        };
        match (cond, src) {
            (Cond::Set, Operand::Imm(i)) if logic_imm_fits(sf, v(i)) => {
                self.asm.tst_imm(sf, d, v(i));
            }
            (Cond::Set, _) => {
                let s = self.operand_reg(sf, src, T5);
                self.asm.tst_reg(sf, d, s);
            }
            (_, Operand::Imm(i)) if arith_imm_fits(v(i)) => {
                self.asm.subs_imm(sf, ZR, d, v(i));
            }
            (_, Operand::Imm(i)) if arith_imm_fits(neg(v(i))) => {
                self.asm.adds_imm(sf, ZR, d, neg(v(i)));
            }
            _ => {
                let s = self.operand_reg(sf, src, T5);
                self.asm.subs_reg(sf, ZR, d, s);
            }
        }
        self.branch(cc(cond), target);
    }

    /// `str x30, [sp, #-16]!`, keeping `sp` 16-byte aligned.
    fn push_lr(&mut self) {
        self.asm.push(LR);
    }

    fn pop_lr(&mut self) {
        self.asm.pop(LR);
    }

    /// A bpf-to-bpf call: at most 8 frames; those of `r6`-`r9` in `saves` (bit `k`: `r(6 +
    /// k)`, see [`crate::saves`]) and `x30` saved on the host stack and restored on return; the
    /// callee's frame is the next 512 bytes of the run's stack.
    fn call_local(&mut self, pc: usize, target: Label, saves: u8) {
        let depth = self.stub(pc, FAULT_CALL_DEPTH, 0, StubAddr::Value(0));
        self.load_word(T0, STACK_LIMIT);
        self.asm.subs_reg(true, ZR, FP, T0);
        self.asm.b_cond(Cc::Hs, depth);
        // A 48-byte frame: `r6`-`r9` (those the callee may write) at 0-31, the link register
        // at 32.
        if saves == saves::ALL {
            self.asm.push_pair(HOST[6], HOST[7], 48);
            self.asm.stp(HOST[8], HOST[9], SP, 16);
        } else {
            self.asm.sub_imm(true, SP, SP, 48);
            self.saved_pairs(saves, MemOp::StrX);
        }
        self.asm.ldst(MemOp::StrX, LR, Addr::Imm(SP, 32), IP0);
        self.asm.add_imm(true, FP, FP, STACK_SIZE as u64);
        self.asm.bl(target.id);
        self.asm.sub_imm(true, FP, FP, STACK_SIZE as u64);
        self.asm.ldst(MemOp::LdrX, LR, Addr::Imm(SP, 32), IP0);
        if saves == saves::ALL {
            self.asm.ldp(HOST[8], HOST[9], SP, 16);
            self.asm.pop_pair(HOST[6], HOST[7], 48);
        } else {
            self.saved_pairs(saves, MemOp::LdrX);
            self.asm.add_imm(true, SP, SP, 48);
        }
    }

    /// Stores (or loads, by `op`) the registers of `r6`-`r9` in `saves` at their places in a
    /// call's frame (see [`Self::call_local`]).
    fn saved_pairs(&mut self, saves: u8, op: MemOp) {
        for pair in [6, 8] {
            let off = (pair - 6) as i32 * 8;
            match (saves >> (pair - 6)) & 0b11 {
                0b11 if op == MemOp::StrX => self.asm.stp(HOST[pair], HOST[pair + 1], SP, off),
                0b11 => self.asm.ldp(HOST[pair], HOST[pair + 1], SP, off),
                0b01 => self.asm.ldst(op, HOST[pair], Addr::Imm(SP, off), IP0),
                0b10 => self
                    .asm
                    .ldst(op, HOST[pair + 1], Addr::Imm(SP, off + 8), IP0),
                _ => {}
            }
        }
    }

    /// Calls the runtime function whose address is at context word `function` through the
    /// stub that saves and reloads the registers; the stub continues, tail-calls or unwinds.
    fn call_runtime(&mut self, function: usize) {
        self.load_word(IP0, function);
        self.push_lr();
        self.asm.bl(self.runtime);
        self.pop_lr();
    }

    fn store_const(&mut self, value: u64, index: usize) {
        if value == 0 {
            self.store_word(ZR, index);
        } else {
            self.asm.mov_const(true, T0, value);
            self.store_word(T0, index);
        }
    }

    fn helper_call(&mut self, pc: usize, id: Option<u32>, reg: u8) {
        self.store_const(pc as u64, ARG_PC);
        match id {
            Some(id) => self.store_const(id as u64, ARG_KIND),
            None => {
                let r = self.value(reg, T0);
                self.asm.mov(false, T0, r);
                self.store_word(T0, ARG_KIND);
            }
        }
        self.call_runtime(CALL_FN);
    }

    fn packet_load(&mut self, pc: usize, opcode: Opcode, imm: i64, src: u8) {
        self.store_const(pc as u64, ARG_PC);
        self.store_const(opcode as u64, ARG_KIND);
        self.store_const(imm as u64, ARG_ADDR);
        if is_indirect(opcode) {
            let s = self.value(src, T0);
            self.store_word(s, ARG_SIZE);
        }
        self.call_runtime(PACKET_FN);
    }

    fn emit_stub(&mut self, stub: &Stub) {
        let start = self.asm.offset();
        self.asm.bind(stub.label);
        match stub.addr {
            StubAddr::Access(tail) => {
                // `T0` holds the address; the pc goes through `T1`.
                self.asm.mov_const(true, T1, stub.pc as u64);
                self.store_word(T1, ARG_PC);
                self.asm.b(tail);
            }
            StubAddr::Value(v) => {
                self.store_const(v, ARG_ADDR);
                self.store_const(stub.pc as u64, ARG_PC);
                self.store_const(stub.kind, ARG_KIND);
                self.store_const(stub.size as u64, ARG_SIZE);
                self.asm.b(self.fault);
            }
        }
        if self.asm.offset() - start > MAX_STUB_BYTES {
            self.error
                .get_or_insert(format!("a fault path of pc {} is too long", stub.pc));
        }
    }

    /// Places the pending fault paths here, behind a branch over them.
    fn island(&mut self) {
        let over = self.asm.new_label();
        self.asm.b(over);
        self.place_stubs();
        self.asm.bind(over);
    }

    /// The shared tails of the access fault paths: the address in `T0`, the kind and size.
    fn place_tails(&mut self) {
        for ((kind, size), tail) in std::mem::take(&mut self.tails) {
            self.asm.bind(tail);
            self.store_word(T0, ARG_ADDR);
            self.store_const(kind, ARG_KIND);
            self.store_const(size as u64, ARG_SIZE);
            self.asm.b(self.fault);
        }
    }

    fn place_stubs(&mut self) {
        let stubs = std::mem::take(&mut self.stubs);
        for stub in &stubs {
            self.emit_stub(stub);
        }
        self.first_stub_ref = None;
    }

    /// Starts the code of instruction `pc` (at its meter, or at its code when it has none):
    /// ends the previous one, and places the pending fault paths first if the branches to
    /// them might not reach past this one.
    fn begin_insn(&mut self, pc: usize, meter: bool) {
        if self.current == Some((pc, true)) && !meter {
            // The code of the instruction whose meter was just emitted.
            self.current = Some((pc, false));
            return;
        }
        self.end_insn();
        self.maybe_island();
        self.current = Some((pc, meter));
        self.begun += 1;
        self.insn_start = self.asm.offset();
        self.insn_stubs = self.stubs_added;
    }

    /// Checks the bytes of the instruction that ends here against [`MAX_INSN_BYTES`].
    fn end_insn(&mut self) {
        let Some((pc, _)) = self.current.take() else {
            return;
        };
        let stubs = self.stubs_added - self.insn_stubs;
        let bytes = self.asm.offset() - self.insn_start + stubs * MAX_STUB_BYTES + 4;
        if bytes > MAX_INSN_BYTES {
            self.error.get_or_insert(format!(
                "instruction {pc} became {bytes} bytes, more than the {MAX_INSN_BYTES} assumed"
            ));
        }
    }

    /// Places the fault paths while every branch to them can still reach them after one more
    /// instruction.
    fn maybe_island(&mut self) {
        if let Some(first) = self.first_stub_ref {
            let worst =
                self.asm.offset() + MAX_INSN_BYTES + (self.stubs.len() + 1) * MAX_STUB_BYTES + 4;
            if worst - first >= BCOND_REACH {
                self.island();
            }
        }
    }
}

impl Backend for Aarch64 {
    type Label = Label;

    fn new_label(&mut self) -> Label {
        Label {
            id: self.asm.new_label(),
        }
    }

    fn bind(&mut self, label: Label) {
        self.end_insn();
        self.maybe_island();
        self.asm.bind(label.id);
    }

    fn offset(&self) -> usize {
        self.asm.offset()
    }

    fn expect_more(&mut self, emits: usize) {
        self.insns += emits;
    }

    fn entry_trampoline(&mut self) {
        let a = &mut self.asm;
        a.push_pair(29, LR, 96);
        a.stp(HOST[6], HOST[7], SP, 16);
        a.stp(HOST[8], HOST[9], SP, 32);
        a.stp(FP, CTX, SP, 48);
        a.mov_sp(29, SP);
        a.mov(true, CTX, 0);
        a.mov(true, T0, 1);
        a.mov_sp(T1, SP);
        a.ldst(MemOp::StrX, T1, word(SAVED_RSP), IP0);
        a.ldst(MemOp::LdrX, FP, word(STACK_BASE), IP0);
        a.add_imm(true, FP, FP, STACK_SIZE as u64);
        // `r1` and `r2` from the context; `r0` and `r3`-`r9` start as 0.
        a.ldp(HOST[1], HOST[2], CTX, at(REGS + 1));
        for r in [0, 3, 4, 5, 6, 7, 8, 9] {
            a.movz(true, HOST[r], 0, 0);
        }
        a.blr(T0);
        a.bind(self.epilogue);
        a.ldst(MemOp::LdrX, T0, word(SAVED_RSP), IP0);
        a.mov_sp(SP, T0);
        a.mov(true, 0, HOST[0]);
        a.ldp(FP, CTX, SP, 48);
        a.ldp(HOST[8], HOST[9], SP, 32);
        a.ldp(HOST[6], HOST[7], SP, 16);
        a.pop_pair(29, LR, 96);
        a.ret();
    }

    fn meter(&mut self, pc: usize) {
        self.begin_insn(pc, true);
        let spent = self.stub(pc, FAULT_BUDGET, 0, StubAddr::Value(0));
        self.load_word(T0, REMAINING);
        self.asm.subs_imm(true, T0, T0, 1);
        self.store_word(T0, REMAINING);
        self.asm.b_cond(Cc::Lo, spent);
    }

    fn emit(&mut self, pc: usize, lir: &Lir<Label>) {
        self.begin_insn(pc, false);
        match *lir {
            Lir::Alu { op, wide, dst, src } => self.alu(op, wide, dst, src),
            Lir::Endian { order, bits, dst } => self.endian(order, bits, dst),
            Lir::Const { dst, value } => self.asm.mov_const(true, HOST[dst as usize], value),
            Lir::HostAddr { dst, region, off } => self.host_addr(dst, region, off),
            Lir::Load { dst, mem, sign } => self.load(pc, dst, mem, sign),
            Lir::Store { mem, value } => self.store(pc, mem, value),
            Lir::Atomic { op, mem, src } => self.atomic(pc, op, mem, src),
            Lir::Jump { cond, target } => self.jump(cond, target),
            Lir::CallLocal { target, saves } => self.call_local(pc, target, saves),
            Lir::CallRuntime { id, reg } => self.helper_call(pc, id, reg),
            Lir::CallKfunc { btf_id } => {
                let kfunc = self.stub(pc, FAULT_KFUNC, 0, StubAddr::Value(btf_id as i64 as u64));
                self.asm.b(kfunc);
            }
            Lir::PacketLoad { opcode, imm, src } => self.packet_load(pc, opcode, imm, src),
            Lir::CheckRange { range, fallback } => self.check_range(range, fallback),
            Lir::CheckLength { length, fallback } => self.check_length(length, fallback),
            Lir::CheckSpan { span, fallback } => self.check_span(span, fallback),
            Lir::Exit => self.asm.ret(),
        }
    }

    fn finish(mut self) -> Result<Emitted, BackendError> {
        self.end_insn();
        self.place_stubs();
        self.place_tails();
        let a = &mut self.asm;
        a.bind(self.fault);
        a.mov_const(true, T0, STATUS_FAULT);
        a.ldst(MemOp::StrX, T0, word(STATUS), IP0);
        a.bind(self.unwind);
        a.b(self.epilogue);
        // The runtime stub: saves the caller-saved eBPF registers, calls `IP0(ctx)`, reloads
        // them; returns on `call::CONTINUE`, and otherwise tail-calls or unwinds from
        // `after_call`, dropping the `x30` the caller saved.
        a.bind(self.runtime);
        for r in (0..6).step_by(2) {
            a.stp(HOST[r], HOST[r + 1], CTX, at(REGS + r));
        }
        a.push(LR);
        a.mov(true, 0, CTX);
        a.blr(IP0);
        a.pop(LR);
        a.mov(true, T0, 0);
        for r in (0..6).step_by(2) {
            a.ldp(HOST[r], HOST[r + 1], CTX, at(REGS + r));
        }
        a.cbnz_w(T0, self.after_call);
        a.ret();
        a.bind(self.after_call);
        a.pop(LR);
        a.subs_imm(true, ZR, T0, call::TAIL_CALL);
        a.b_cond(Cc::Ne, self.unwind);
        a.ldst(MemOp::LdrX, T0, word(NEXT_ENTRY), IP0);
        a.br(T0);
        if let Some(error) = self.error {
            return Err(error);
        }
        self.asm.finish()
    }
}
