//! x86_64 emission: the only place that writes machine code, with dynasmrt.

// dynasm expands every dynamic register `Rq(r)` to `r.into()`, which clippy flags when `r` is
// already a `u8`.
#![allow(clippy::useless_conversion)]

use bpfkit_isa::{AluOp, AtomicOp, ByteOrder, Cond, Size};
use bpfkit_vm::memory::STACK_SIZE;
use dynasmrt::x64::X64Relocation;
use dynasmrt::{DynamicLabel, DynasmApi, DynasmLabelApi, dynasm};

use super::reg::{RAX, RBP, RCX, RDX};
use super::{HOST, SAVED_AROUND_CALLS};
use crate::Mode;
use crate::assembler::{Assembler, Emitted};
use crate::backend::{Backend, BackendError, NewBackend};
use crate::context::*;
use crate::lower::{Check, FP, Length, Lir, Mem, Operand, Options, Range, Span, is_indirect};

macro_rules! asm {
    ($ops:expr; $($t:tt)*) => {
        dynasm!($ops ; .arch x64 ; $($t)*)
    };
}

/// Where a host address is, once an access has been translated: `[base + index + disp]`.
#[derive(Clone, Copy)]
struct Addr {
    base: u8,
    /// A proven access's region delta (see [`Check::Proven`]).
    index: Option<u8>,
    disp: i32,
}

/// A fault path placed after the code: records the faulting instruction's pc, then jumps to
/// the shared tail of its fault (see [`Fault`]). Keeping the per-site part to two instructions
/// is what keeps compiling a checked access cheap: each access has one.
struct Stub {
    label: DynamicLabel,
    pc: usize,
    tail: DynamicLabel,
}

/// A checked access, as its check needs it (the same for every access of its size and kind).
#[derive(Clone, Copy, PartialEq, Eq)]
struct Access {
    /// Its size in bytes.
    bytes: usize,
    /// Whether it is checked as a store first (else as a load).
    first_is_write: bool,
    /// Whether it is then checked as a store too (atomics).
    read_write: bool,
}

/// The full region lookup of an access whose guessed region was wrong, placed after the code
/// (see [`X86::emit_lookups`]): it looks the region up and jumps back to `resume` with the
/// host address in `rdx`, or faults.
struct Lookup {
    /// Where the inline check's jumps to the lookup end (see [`X86::jae_unbound`]): the
    /// second only when the access both reads and writes.
    jumps: [Option<usize>; 2],
    /// The code offset to come back to, right after the inline check (known when the lookup
    /// is emitted, so a plain offset rather than a label to patch).
    resume: usize,
    /// The access's slot.
    pc: usize,
    access: Access,
    /// The guessed region.
    region: usize,
}

thread_local! {
    /// The fault-path and lookup lists of the last compile on this thread, emptied: kept, as
    /// the assembler keeps its buffers (see `assembler.rs`), so that their memory stays mapped.
    /// Allocated afresh, they took a 4,096-instruction compile past what the allocator keeps
    /// between compiles, and every compile paid about 30 page faults.
    static SPARE_LISTS: std::cell::Cell<(Vec<Stub>, Vec<Lookup>)> = const {
        std::cell::Cell::new((Vec::new(), Vec::new()))
    };
}

/// The part of a fault path that sites with the same fault share: sets the fault's kind, size
/// and address words, then unwinds.
#[derive(Clone, Copy, PartialEq, Eq)]
struct Fault {
    kind: u64,
    size: usize,
    addr: FaultAddr,
}

/// Where a fault's address word comes from.
#[derive(Clone, Copy, PartialEq, Eq)]
enum FaultAddr {
    /// `rax`: a checked access branches to its fault path with the virtual address there.
    Rax,
    /// A constant.
    Value(i64),
}

/// The labels of the code every compile emits once (see [`X86::finish`]).
#[derive(Clone, Copy)]
struct Shared {
    /// The entry trampoline's epilogue: restores the host's registers and returns.
    epilogue: DynamicLabel,
    /// Leaves the program with the status the context holds.
    unwind: DynamicLabel,
    /// A runtime call returned non-zero: a tail call, or a status the runtime set.
    after_call: DynamicLabel,
    /// Saves the registers a call may clobber, calls `rax(ctx)`, reloads them.
    runtime: DynamicLabel,
}

/// The x86_64 backend.
pub struct X86 {
    ops: Assembler<X64Relocation>,
    options: Options,
    stubs: Vec<Stub>,
    /// Out-of-line lookups of accesses whose region was guessed.
    lookups: Vec<Lookup>,
    /// The shared fault tails used so far, with their labels (a handful per program).
    tails: Vec<(Fault, DynamicLabel)>,
    /// Where every fault tail ends up: sets the status and unwinds.
    fault: DynamicLabel,
    /// The shared out-of-line code's entry points (dynamic labels: dynasmrt keeps named ones
    /// in a hash map, which cost a small program's compile more than its own code).
    shared: Shared,
    /// Whether the CPU has BMI2 (`rorx`), which saves an instruction per checked access.
    bmi2: bool,
    /// Whether branches are kept off 32-byte boundaries (see [`X86::branch`]).
    pad_branches: bool,
    /// The region whose delta `rdx` holds at this point of the code, if any (see
    /// [`X86::region_delta`]). Whatever writes `rdx` forgets it: a checked access's
    /// translation, division, calls, and a label (code jumping there may have left anything).
    delta: Option<u32>,
}

impl NewBackend for X86 {
    fn new(options: Options, insns: usize) -> X86 {
        // Room for the code (a checked access is about 50 bytes), the labels (branch targets
        // and fault paths) and their relocations, so nothing grows while emitting.
        let mut ops = Assembler::new(256 + insns * 48, insns * 2);
        let (mut stubs, lookups) = SPARE_LISTS
            .try_with(|spare| spare.take())
            .unwrap_or_default();
        stubs.reserve(insns);
        let fault = ops.new_dynamic_label();
        let shared = Shared {
            epilogue: ops.new_dynamic_label(),
            unwind: ops.new_dynamic_label(),
            after_call: ops.new_dynamic_label(),
            runtime: ops.new_dynamic_label(),
        };
        X86 {
            ops,
            options,
            stubs,
            lookups,
            tails: Vec::new(),
            fault,
            shared,
            bmi2: std::arch::is_x86_feature_detected!("bmi2") && !tests::without_bmi2(),
            pad_branches: tests::pad_branches().unwrap_or_else(is_intel),
            delta: None,
        }
    }
}

/// Whether the CPU is Intel's: the JCC erratum's microcode update is on Intel's
/// Skylake-derived cores, so only there are branches padded. On other CPUs the padding only
/// lengthens the code (AMD EPYC here: the corpus ran the same or up to 11% faster without it).
/// Asked once per process: `cpuid` traps to the hypervisor in a VM, which cost several
/// microseconds per compile.
fn is_intel() -> bool {
    static INTEL: std::sync::OnceLock<bool> = std::sync::OnceLock::new();
    *INTEL.get_or_init(|| {
        // SAFETY: `cpuid` leaf 0 exists on every x86_64 CPU and only reads identification
        // registers.
        #[allow(unused_unsafe)]
        let id = unsafe { std::arch::x86_64::__cpuid(0) };
        (id.ebx, id.edx, id.ecx) == (0x756e_6547, 0x4965_6e69, 0x6c65_746e)
    })
}

/// The boundary branches must not cross or end at (see [`X86::branch`]).
const BRANCH_BOUNDARY: usize = 32;

/// Byte lengths of the branch forms the backend emits (dynasmrt always encodes a REX prefix
/// for a dynamic register, a 32-bit immediate for a dynamic immediate, a 32-bit displacement
/// for a dynamic one, and `rel32` for a jump to a dynamic label); `branch` checks each in debug
/// builds.
mod len {
    /// `cmp`/`test` register, register.
    pub const CMP_REG: usize = 3;
    /// `cmp`/`test` register, imm32.
    pub const CMP_IMM: usize = 7;
    /// `jcc rel32`.
    pub const JCC: usize = 6;
    /// `jmp rel32`.
    pub const JMP: usize = 5;
    /// `cmp` register, `[r12 + disp32]` or `[r12 + rcx + disp32]`.
    pub const CMP_MEM: usize = 8;
    /// `sub QWORD [r12 + disp32], imm32`.
    pub const SUB_MEM: usize = 12;
    /// `test al, imm8`.
    pub const TEST_AL: usize = 2;
    /// `test eax, eax`.
    pub const TEST_EAX: usize = 2;
}

/// The recommended multi-byte NOPs, by length (Intel SDM, "NOP").
const NOPS: [&[u8]; 9] = [
    &[0x90],
    &[0x66, 0x90],
    &[0x0f, 0x1f, 0x00],
    &[0x0f, 0x1f, 0x40, 0x00],
    &[0x0f, 0x1f, 0x44, 0x00, 0x00],
    &[0x66, 0x0f, 0x1f, 0x44, 0x00, 0x00],
    &[0x0f, 0x1f, 0x80, 0x00, 0x00, 0x00, 0x00],
    &[0x0f, 0x1f, 0x84, 0x00, 0x00, 0x00, 0x00, 0x00],
    &[0x66, 0x0f, 0x1f, 0x84, 0x00, 0x00, 0x00, 0x00, 0x00],
];

/// A source operand once it is in a host register or an immediate.
#[derive(Clone, Copy)]
enum Src {
    Reg(u8),
    Imm(i32),
}

impl X86 {
    /// `jae` with its displacement left zero, for [`Assembler::patch_rel32`] to point once its
    /// target is emitted: returns where it ends. (A label would cost a definition, a
    /// relocation and its lookup at the end, more than the jump.)
    fn jae_unbound(&mut self) -> usize {
        asm!(self.ops ; jae DWORD 0);
        self.ops.offset().0
    }

    /// `jmp` to code offset `target`, already emitted: the distance is known, so the jump is
    /// patched at once rather than through a label.
    fn jump_back(&mut self, target: usize) {
        asm!(self.ops ; jmp DWORD 0);
        let end = self.ops.offset().0;
        self.ops.patch_rel32(end, target);
    }

    fn checked(&self) -> bool {
        self.options.mode == Mode::Checked
    }

    /// Emits a branch of `len` bytes (a jump, or a compare and the jump it fuses with) with
    /// `emit`, first padding with NOPs on Intel CPUs so that it neither crosses nor ends at a
    /// 32-byte boundary. Skylake-derived CPUs (with the JCC erratum's microcode) do not keep
    /// such branches in the decoded-instruction cache, and a loop holding one runs several
    /// times slower: on such a Xeon a loop of the corpus ran 3.5x slower or not depending on
    /// where it fell.
    fn branch(&mut self, len: usize, emit: impl FnOnce(&mut X86)) {
        let at = self.ops.offset().0 % BRANCH_BOUNDARY;
        if self.pad_branches && at + len >= BRANCH_BOUNDARY {
            self.nops(BRANCH_BOUNDARY - at);
        }
        let start = self.ops.offset().0;
        emit(self);
        debug_assert_eq!(
            self.ops.offset().0 - start,
            len,
            "a branch's predicted length"
        );
    }

    /// `n` bytes of NOPs, in as few instructions as the recommended encodings allow.
    fn nops(&mut self, mut n: usize) {
        while n > 0 {
            let k = n.min(NOPS.len());
            self.ops.extend(NOPS[k - 1]);
            n -= k;
        }
    }

    /// `scratch = r10`, the virtual frame pointer `(1 + depth) << 32 | 512`: the host frame
    /// pointer is `stack_base + 512 * (1 + depth)`.
    fn load_fp(&mut self, scratch: u8) {
        asm!(self.ops
            ; mov Rq(scratch), rbp
            ; sub Rq(scratch), [r12 + at(STACK_BASE)]
            ; shl Rq(scratch), 23
            ; add Rq(scratch), STACK_SIZE as i32
        );
    }

    /// The host register holding eBPF register `r`'s value, computing `r10` into `scratch` in
    /// checked mode.
    fn value(&mut self, r: u8, scratch: u8) -> u8 {
        if r == FP && self.checked() {
            self.load_fp(scratch);
            scratch
        } else {
            HOST[r as usize]
        }
    }

    fn src(&mut self, operand: Operand, scratch: u8) -> Src {
        match operand {
            Operand::Reg(r) => Src::Reg(self.value(r, scratch)),
            // ALU, jump and store immediates are 32-bit values sign-extended.
            Operand::Imm(i) => Src::Imm(i as i32),
        }
    }

    /// A fault path for the instruction at `pc`, faulting with `fault`.
    fn stub(&mut self, pc: usize, fault: Fault) -> DynamicLabel {
        let tail = self.tail(fault);
        let label = self.ops.new_dynamic_label();
        self.stubs.push(Stub { label, pc, tail });
        label
    }

    /// The shared tail of `fault` (the faulting pc already stored).
    fn tail(&mut self, fault: Fault) -> DynamicLabel {
        match self.tails.iter().find(|(f, _)| *f == fault) {
            Some(&(_, tail)) => tail,
            None => {
                let tail = self.ops.new_dynamic_label();
                self.tails.push((fault, tail));
                tail
            }
        }
    }

    /// A fault path for a checked access of `size` bytes (the address in `rax`): at `pc`, or,
    /// for a shared lookup (`None`), whose caller stored the pc, the shared tail itself.
    fn access_stub(&mut self, pc: Option<usize>, kind: u64, size: usize) -> DynamicLabel {
        let addr = FaultAddr::Rax;
        let fault = Fault { kind, size, addr };
        match pc {
            Some(pc) => self.stub(pc, fault),
            None => self.tail(fault),
        }
    }

    /// A fault path at `pc` whose address word is `addr`.
    fn value_stub(&mut self, pc: usize, kind: u64, addr: i64) -> DynamicLabel {
        let addr = FaultAddr::Value(addr);
        self.stub(
            pc,
            Fault {
                kind,
                size: 0,
                addr,
            },
        )
    }

    /// `dst = base + off`, the virtual address of an access.
    fn vaddr(&mut self, dst: u8, base: u8, off: i32) {
        if base == FP && self.checked() {
            self.load_fp(dst);
            asm!(self.ops ; add Rq(dst), off);
        } else {
            let b = HOST[base as usize];
            match i8::try_from(off) {
                Ok(off) => asm!(self.ops ; lea Rq(dst), [BYTE Rq(b) + off]),
                Err(_) => asm!(self.ops ; lea Rq(dst), [Rq(b) + off]),
            }
        }
    }

    /// The host address of an access of `size` bytes at `base + off`, checked as `check` says.
    /// A translated (checked) access leaves it in `rdx`; `rax` and `rcx` are free afterwards.
    /// `write` selects the write limit; `read_write` checks both (atomics: the read first).
    fn address(&mut self, pc: usize, mem: Mem, write: bool, read_write: bool) -> Addr {
        let Mem {
            base,
            off,
            size,
            check,
        } = mem;
        let guess = match check {
            Check::Frame => {
                return Addr {
                    base: RBP,
                    index: None,
                    disp: off,
                };
            }
            Check::Host => {
                return Addr {
                    base: HOST[base as usize],
                    index: None,
                    disp: off,
                };
            }
            // Atomics and `r10` (held as the host frame pointer) are never grouped; were one
            // proven, it is checked against its region.
            Check::Proven { region } if !read_write && base != FP => {
                self.region_delta(region);
                return Addr {
                    base: HOST[base as usize],
                    index: Some(RDX),
                    disp: off,
                };
            }
            Check::Proven { region } => Some(region),
            Check::Region { guess } => guess,
        };
        // The translation below uses `rdx`.
        self.delta = None;
        let access = Access {
            bytes: size.bytes(),
            first_is_write: write && !read_write,
            read_write,
        };
        if let Some(region) = guess
            && !self.options.strict_alignment
        {
            self.vaddr(RDX, base, off);
            self.guessed_region(pc, access, region as usize);
            return Addr {
                base: RDX,
                index: None,
                disp: 0,
            };
        }
        self.vaddr(RAX, base, off);
        if self.options.strict_alignment && access.bytes > 1 {
            let kind = if access.first_is_write {
                FAULT_MISALIGNED_WRITE
            } else {
                FAULT_MISALIGNED_READ
            };
            let misaligned = self.access_stub(Some(pc), kind, access.bytes);
            self.branch(len::TEST_AL + len::JCC, |x| {
                asm!(x.ops
                    ; test al, (access.bytes - 1) as i8
                    ; jnz =>misaligned
                )
            });
        }
        match guess {
            Some(region) => {
                asm!(self.ops ; mov rdx, rax);
                self.guessed_region(pc, access, region as usize);
            }
            None => self.region_lookup(Some(pc), access),
        }
        Addr {
            base: RDX,
            index: None,
            disp: 0,
        }
    }

    /// `rdx` = region `region`'s delta (host minus virtual address), unless it holds it still.
    fn region_delta(&mut self, region: u32) {
        if self.delta != Some(region) {
            let entry = TABLE + region as usize * ENTRY_WORDS;
            asm!(self.ops ; mov rdx, [r12 + at(entry + ENTRY_DELTA)]);
            self.delta = Some(region);
        }
    }

    /// Checks that the `len` bytes at `base + off` lie in region `region` (writable, for
    /// `write`), else jumps to `fallback`; leaves the region's delta in `rdx` for the proven
    /// accesses that follow (the fallback's code assumes nothing of `rdx`). The first byte's
    /// offset into the region and the last one's are both below the region's one-byte limit
    /// (the length, or 0 for a store into a read-only region); the first being below it (under
    /// 2^32), adding the length cannot wrap.
    fn check_range(&mut self, range: Range, fallback: DynamicLabel) {
        let Range {
            base, off, region, ..
        } = range;
        let entry = TABLE + region as usize * ENTRY_WORDS;
        let limit = entry + range.limit_word();
        // In `rax`, so that `rdx` keeps a delta the group before may have left there.
        self.vaddr(RAX, base, off);
        asm!(self.ops ; sub rax, [r12 + at(entry + ENTRY_VSTART)]);
        self.branch(len::CMP_MEM + len::JCC, |x| {
            asm!(x.ops
                ; cmp rax, [r12 + at(limit)]
                ; jae =>fallback
            )
        });
        if !range.one_compare() {
            asm!(self.ops ; add rax, (range.len - 1) as i32);
            self.branch(len::CMP_MEM + len::JCC, |x| {
                asm!(x.ops
                    ; cmp rax, [r12 + at(limit)]
                    ; jae =>fallback
                )
            });
        }
        self.region_delta(region);
    }

    /// Checks that a loop's span (see [`Span`]) lies in region `region` (writable, for
    /// `write`), else jumps to `fallback`: the first byte's offset into the region and the last
    /// one's are both below the region's one-byte limit. Leaves the region's delta in `rdx`.
    fn check_span(&mut self, span: Span, fallback: DynamicLabel) {
        let Span {
            base,
            cursor,
            bound,
            first,
            last,
            region,
            ..
        } = span;
        let entry = TABLE + region as usize * ENTRY_WORDS;
        let limit = entry + span.limit_word();
        self.vaddr(RAX, base, first);
        self.add_plus(span.plus);
        asm!(self.ops ; sub rax, [r12 + at(entry + ENTRY_VSTART)]);
        self.branch(len::CMP_MEM + len::JCC, |x| {
            asm!(x.ops
                ; cmp rax, [r12 + at(limit)]
                ; jae =>fallback
            )
        });
        // rax = base + ((bound - 1 - cursor) & -align) + last.
        let (b, c, n) = (
            HOST[base as usize],
            HOST[cursor as usize],
            HOST[bound as usize],
        );
        asm!(self.ops
            ; mov rax, Rq(n)
            ; sub rax, Rq(c)
            ; sub rax, 1
        );
        if span.align > 1 {
            asm!(self.ops ; and rax, -(span.align as i32));
        }
        asm!(self.ops ; add rax, Rq(b));
        self.add_plus(span.plus);
        asm!(self.ops
            ; add rax, last
            ; sub rax, [r12 + at(entry + ENTRY_VSTART)]
        );
        self.branch(len::CMP_MEM + len::JCC, |x| {
            asm!(x.ops
                ; cmp rax, [r12 + at(limit)]
                ; jae =>fallback
            )
        });
        self.region_delta(region);
    }

    /// Checks that the `len` bytes from `start` (registers) lie in their region, else jumps
    /// to `fallback`: `len - 1` is below the region's one-byte limit (so `len` is at least 1,
    /// and adding it cannot wrap), and so are the first byte's offset into the region and the
    /// last one's.
    fn check_length(&mut self, length: Length, fallback: DynamicLabel) {
        let Length { start, len, .. } = length;
        let entry = TABLE + length.region as usize * ENTRY_WORDS;
        let limit = entry + length.limit_word();
        let n = HOST[len as usize];
        asm!(self.ops
            ; mov rdx, Rq(n)
            ; sub rdx, 1
        );
        self.branch(len::CMP_MEM + len::JCC, |x| {
            asm!(x.ops
                ; cmp rdx, [r12 + at(limit)]
                ; jae =>fallback
            )
        });
        self.delta = None;
        self.vaddr(RAX, start, 0);
        asm!(self.ops ; sub rax, [r12 + at(entry + ENTRY_VSTART)]);
        self.branch(len::CMP_MEM + len::JCC, |x| {
            asm!(x.ops
                ; cmp rax, [r12 + at(limit)]
                ; jae =>fallback
            )
        });
        asm!(self.ops ; add rax, rdx);
        self.branch(len::CMP_MEM + len::JCC, |x| {
            asm!(x.ops
                ; cmp rax, [r12 + at(limit)]
                ; jae =>fallback
            )
        });
    }

    /// Adds the registers of a span's `plus` to `rax`.
    fn add_plus(&mut self, plus: [Option<u8>; 2]) {
        for r in plus.into_iter().flatten() {
            asm!(self.ops ; add rax, Rq(HOST[r as usize]));
        }
    }

    /// Checks the access whose virtual address is in `rdx` against the region it was guessed
    /// to fall in, leaving its host address in `rdx`: the offset from the region's start is
    /// below the region's limit (unsigned) only when the address is in that region and the
    /// access fits. Otherwise the full lookup runs out of line and comes back.
    fn guessed_region(&mut self, pc: usize, access: Access, region: usize) {
        let entry = TABLE + region * ENTRY_WORDS;
        let k = size_index(access.bytes);
        let first = if access.first_is_write {
            ENTRY_WRITE_LIMIT
        } else {
            ENTRY_READ_LIMIT
        } + k;
        let mut jumps = [None; 2];
        asm!(self.ops ; sub rdx, [r12 + at(entry + ENTRY_VSTART)]);
        self.branch(len::CMP_MEM + len::JCC, |x| {
            asm!(x.ops ; cmp rdx, [r12 + at(entry + first)]);
            jumps[0] = Some(x.jae_unbound());
        });
        if access.read_write {
            self.branch(len::CMP_MEM + len::JCC, |x| {
                asm!(x.ops ; cmp rdx, [r12 + at(entry + ENTRY_WRITE_LIMIT + k)]);
                jumps[1] = Some(x.jae_unbound());
            });
        }
        asm!(self.ops ; add rdx, [r12 + at(entry + ENTRY_BASE)]);
        let resume = self.ops.offset().0;
        self.lookups.push(Lookup {
            jumps,
            resume,
            pc,
            access,
            region,
        });
    }

    /// Looks up the region of the access whose virtual address is in `rax` by the address's
    /// high half and checks the access against it, leaving its host address in `rdx`.
    /// `pc` is the access's slot, or `None` in a lookup shared by accesses whose caller stored
    /// the pc (see [`X86::emit_lookups`]).
    fn region_lookup(&mut self, pc: Option<usize>, access: Access) {
        let Access {
            bytes: n,
            first_is_write,
            read_write,
        } = access;
        let first_kind = if first_is_write {
            FAULT_WRITE
        } else {
            FAULT_READ
        };
        let first = self.access_stub(pc, first_kind, n);
        let k = size_index(n);
        let limit = if first_is_write {
            ENTRY_WRITE_LIMIT
        } else {
            ENTRY_READ_LIMIT
        } + k;
        // rcx = the region index (the high half), checked against the table's size.
        if self.bmi2 {
            asm!(self.ops ; rorx rcx, rax, 32);
        } else {
            asm!(self.ops ; mov rcx, rax ; shr rcx, 32);
        }
        self.branch(len::CMP_MEM + len::JCC, |x| {
            asm!(x.ops
                ; cmp ecx, DWORD [r12 + at(REGION_COUNT)]
                ; jae =>first
            )
        });
        // rdx = the offset (the low half), below the region's limit for the access.
        asm!(self.ops
            ; shl ecx, (ENTRY_WORDS * 8).trailing_zeros() as i8
            ; mov edx, eax
        );
        self.branch(len::CMP_MEM + len::JCC, |x| {
            asm!(x.ops
                ; cmp rdx, [r12 + rcx + at(TABLE + limit)]
                ; jae =>first
            )
        });
        if read_write {
            let second = self.access_stub(pc, FAULT_WRITE, n);
            self.branch(len::CMP_MEM + len::JCC, |x| {
                asm!(x.ops
                    ; cmp rdx, [r12 + rcx + at(TABLE + ENTRY_WRITE_LIMIT + k)]
                    ; jae =>second
                )
            });
        }
        if first_is_write || read_write {
            asm!(self.ops ; mov [r12 + at(FRAMES_WRITTEN)], rax);
        }
        asm!(self.ops ; add rdx, [r12 + rcx + at(TABLE + ENTRY_BASE)]);
    }

    fn alu(&mut self, op: AluOp, wide: bool, dst: u8, src: Operand) {
        let d = HOST[dst as usize];
        macro_rules! binop {
            ($mn:ident) => {{
                match (wide, self.src(src, RAX)) {
                    (true, Src::Reg(s)) => asm!(self.ops ; $mn Rq(d), Rq(s)),
                    (false, Src::Reg(s)) => asm!(self.ops ; $mn Rd(d), Rd(s)),
                    (true, Src::Imm(i)) => asm!(self.ops ; $mn Rq(d), i),
                    (false, Src::Imm(i)) => asm!(self.ops ; $mn Rd(d), i),
                }
            }};
        }
        macro_rules! shift {
            ($mn:ident) => {{
                match (wide, self.src(src, RCX)) {
                    (true, Src::Imm(i)) => asm!(self.ops ; $mn Rq(d), (i & 63) as i8),
                    // A 32-bit shift by 0 must still zero the upper half.
                    (false, Src::Imm(i)) if i & 31 == 0 => asm!(self.ops ; mov Rd(d), Rd(d)),
                    (false, Src::Imm(i)) => asm!(self.ops ; $mn Rd(d), (i & 31) as i8),
                    (wide, Src::Reg(s)) => {
                        if s != RCX {
                            asm!(self.ops ; mov ecx, Rd(s));
                        }
                        if wide {
                            asm!(self.ops ; $mn Rq(d), cl);
                        } else {
                            asm!(self.ops ; $mn Rd(d), cl);
                        }
                    }
                }
            }};
        }
        match op {
            AluOp::Add => binop!(add),
            AluOp::Sub => binop!(sub),
            AluOp::And => binop!(and),
            AluOp::Or => binop!(or),
            AluOp::Xor => binop!(xor),
            AluOp::Mov => binop!(mov),
            AluOp::Mul => match (wide, self.src(src, RAX)) {
                (true, Src::Reg(s)) => asm!(self.ops ; imul Rq(d), Rq(s)),
                (false, Src::Reg(s)) => asm!(self.ops ; imul Rd(d), Rd(s)),
                (true, Src::Imm(i)) => asm!(self.ops ; imul Rq(d), Rq(d), i),
                (false, Src::Imm(i)) => asm!(self.ops ; imul Rd(d), Rd(d), i),
            },
            AluOp::Lsh => shift!(shl),
            AluOp::Rsh => shift!(shr),
            AluOp::Arsh => shift!(sar),
            AluOp::Neg => {
                if wide {
                    asm!(self.ops ; neg Rq(d));
                } else {
                    asm!(self.ops ; neg Rd(d));
                }
            }
            AluOp::MovSx(bits) => {
                let Src::Reg(s) = self.src(src, RAX) else {
                    unreachable!("movsx has a register source")
                };
                match (wide, bits) {
                    (true, 8) => asm!(self.ops ; movsx Rq(d), Rb(s)),
                    (true, 16) => asm!(self.ops ; movsx Rq(d), Rw(s)),
                    (true, _) => asm!(self.ops ; movsxd Rq(d), Rd(s)),
                    (false, 8) => asm!(self.ops ; movsx Rd(d), Rb(s)),
                    (false, _) => asm!(self.ops ; movsx Rd(d), Rw(s)),
                }
            }
            AluOp::Div | AluOp::Mod | AluOp::SDiv | AluOp::SMod => self.divide(op, wide, d, src),
        }
    }

    /// Division and modulo as RFC 9669 defines them, without the CPU's traps: by zero,
    /// division gives 0 and modulo keeps the dividend; signed by -1, division negates
    /// (`INT_MIN / -1` wraps) and modulo gives 0.
    fn divide(&mut self, op: AluOp, wide: bool, d: u8, src: Operand) {
        self.delta = None;
        let signed = matches!(op, AluOp::SDiv | AluOp::SMod);
        let modulo = matches!(op, AluOp::Mod | AluOp::SMod);
        match src {
            Operand::Imm(i) => {
                let i = i as i32;
                if i == 0 {
                    self.divide_by_zero(modulo, wide, d);
                } else if signed && i == -1 {
                    self.divide_by_minus_one(modulo, wide, d);
                } else {
                    asm!(self.ops ; mov rcx, i);
                    self.divide_rcx(signed, modulo, wide, d);
                }
            }
            Operand::Reg(r) => {
                let s = self.value(r, RCX);
                if s != RCX {
                    asm!(self.ops ; mov rcx, Rq(s));
                }
                if wide {
                    asm!(self.ops ; test rcx, rcx ; jz >zero);
                } else {
                    asm!(self.ops ; test ecx, ecx ; jz >zero);
                }
                if signed {
                    if wide {
                        asm!(self.ops ; cmp rcx, -1 ; je >minus_one);
                    } else {
                        asm!(self.ops ; cmp ecx, -1 ; je >minus_one);
                    }
                }
                self.divide_rcx(signed, modulo, wide, d);
                asm!(self.ops ; jmp >done ; zero:);
                self.divide_by_zero(modulo, wide, d);
                if signed {
                    asm!(self.ops ; jmp >done ; minus_one:);
                    self.divide_by_minus_one(modulo, wide, d);
                }
                asm!(self.ops ; done:);
            }
        }
    }

    fn divide_rcx(&mut self, signed: bool, modulo: bool, wide: bool, d: u8) {
        match (wide, signed) {
            (true, true) => asm!(self.ops ; mov rax, Rq(d) ; cqo ; idiv rcx),
            (true, false) => asm!(self.ops ; mov rax, Rq(d) ; xor edx, edx ; div rcx),
            (false, true) => asm!(self.ops ; mov eax, Rd(d) ; cdq ; idiv ecx),
            (false, false) => asm!(self.ops ; mov eax, Rd(d) ; xor edx, edx ; div ecx),
        }
        let result = if modulo { RDX } else { RAX };
        if wide {
            asm!(self.ops ; mov Rq(d), Rq(result));
        } else {
            asm!(self.ops ; mov Rd(d), Rd(result));
        }
    }

    fn divide_by_zero(&mut self, modulo: bool, wide: bool, d: u8) {
        match (modulo, wide) {
            (false, _) => asm!(self.ops ; xor Rd(d), Rd(d)),
            (true, true) => {}
            (true, false) => asm!(self.ops ; mov Rd(d), Rd(d)),
        }
    }

    fn divide_by_minus_one(&mut self, modulo: bool, wide: bool, d: u8) {
        match (modulo, wide) {
            (true, _) => asm!(self.ops ; xor Rd(d), Rd(d)),
            (false, true) => asm!(self.ops ; neg Rq(d)),
            (false, false) => asm!(self.ops ; neg Rd(d)),
        }
    }

    fn endian(&mut self, order: ByteOrder, bits: u8, dst: u8) {
        let d = HOST[dst as usize];
        match (order, bits) {
            (ByteOrder::Le, 16) => asm!(self.ops ; movzx Rd(d), Rw(d)),
            (ByteOrder::Le, 32) => asm!(self.ops ; mov Rd(d), Rd(d)),
            (ByteOrder::Le, _) => {}
            (_, 16) => asm!(self.ops ; ror Rw(d), 8 ; movzx Rd(d), Rw(d)),
            (_, 32) => asm!(self.ops ; bswap Rd(d)),
            (_, _) => asm!(self.ops ; bswap Rq(d)),
        }
    }

    fn constant(&mut self, dst: u8, value: u64) {
        let d = HOST[dst as usize];
        if let Ok(v) = i32::try_from(value as i64) {
            asm!(self.ops ; mov Rq(d), v);
        } else if let Ok(v) = u32::try_from(value) {
            asm!(self.ops ; mov Rd(d), v as i32);
        } else {
            asm!(self.ops ; mov Rq(d), QWORD value as i64);
        }
    }

    fn host_addr(&mut self, dst: u8, region: u64, off: u32) {
        let d = HOST[dst as usize];
        let entry = TABLE + region as usize * ENTRY_WORDS + ENTRY_BASE;
        asm!(self.ops ; mov Rq(d), [r12 + at(entry)]);
        if let Ok(off) = i32::try_from(off) {
            asm!(self.ops ; add Rq(d), off);
        } else {
            asm!(self.ops ; mov eax, off as i32 ; add Rq(d), rax);
        }
    }

    fn load(&mut self, pc: usize, dst: u8, mem: Mem, sign: bool) {
        let addr = self.address(pc, mem, false, false);
        let d = HOST[dst as usize];
        macro_rules! load {
            ($($m:tt)*) => {
                match (mem.size, sign) {
                    (Size::B, false) => asm!(self.ops ; movzx Rd(d), BYTE [$($m)*]),
                    (Size::H, false) => asm!(self.ops ; movzx Rd(d), WORD [$($m)*]),
                    (Size::W, false) => asm!(self.ops ; mov Rd(d), DWORD [$($m)*]),
                    (Size::DW, _) => asm!(self.ops ; mov Rq(d), QWORD [$($m)*]),
                    (Size::B, true) => asm!(self.ops ; movsx Rq(d), BYTE [$($m)*]),
                    (Size::H, true) => asm!(self.ops ; movsx Rq(d), WORD [$($m)*]),
                    (Size::W, true) => asm!(self.ops ; movsxd Rq(d), DWORD [$($m)*]),
                }
            };
        }
        let Addr { base: b, disp, .. } = addr;
        match addr.index {
            None => load!(Rq(b) + disp),
            Some(i) => load!(Rq(b) + Rq(i) + disp),
        }
    }

    fn store(&mut self, pc: usize, mem: Mem, value: Operand) {
        let addr = self.address(pc, mem, true, false);
        let value = self.src(value, RCX);
        macro_rules! store {
            ($($m:tt)*) => {
                match (mem.size, value) {
                    (Size::B, Src::Reg(v)) => asm!(self.ops ; mov BYTE [$($m)*], Rb(v)),
                    (Size::H, Src::Reg(v)) => asm!(self.ops ; mov WORD [$($m)*], Rw(v)),
                    (Size::W, Src::Reg(v)) => asm!(self.ops ; mov DWORD [$($m)*], Rd(v)),
                    (Size::DW, Src::Reg(v)) => asm!(self.ops ; mov QWORD [$($m)*], Rq(v)),
                    (Size::B, Src::Imm(i)) => asm!(self.ops ; mov BYTE [$($m)*], i as i8),
                    (Size::H, Src::Imm(i)) => asm!(self.ops ; mov WORD [$($m)*], i as i16),
                    (Size::W, Src::Imm(i)) => asm!(self.ops ; mov DWORD [$($m)*], i),
                    (Size::DW, Src::Imm(i)) => asm!(self.ops ; mov QWORD [$($m)*], i),
                }
            };
        }
        let Addr { base: b, disp, .. } = addr;
        match addr.index {
            None => store!(Rq(b) + disp),
            Some(i) => store!(Rq(b) + Rq(i) + disp),
        }
    }

    /// Atomics: a run owns its memory, so a load, the operation and a store are atomic; the
    /// fetching forms leave the old value (zero-extended) in `src`, cmpxchg in `r0`.
    fn atomic(&mut self, pc: usize, op: AtomicOp, mem: Mem, src: u8) {
        let Addr { base: b, disp, .. } = self.address(pc, mem, true, true);
        let wide = mem.size == Size::DW;
        let s = self.value(src, RCX);
        let r0 = HOST[0];
        macro_rules! rmw {
            ($mn:ident) => {{
                if wide {
                    asm!(self.ops ; $mn QWORD [Rq(b) + disp], Rq(s));
                } else {
                    asm!(self.ops ; $mn DWORD [Rq(b) + disp], Rd(s));
                }
            }};
        }
        macro_rules! fetch {
            ($mn:ident) => {{
                if wide {
                    asm!(self.ops
                        ; mov rax, QWORD [Rq(b) + disp]
                        ; mov rcx, rax
                        ; $mn rcx, Rq(s)
                        ; mov QWORD [Rq(b) + disp], rcx
                        ; mov Rq(s), rax
                    );
                } else {
                    asm!(self.ops
                        ; mov eax, DWORD [Rq(b) + disp]
                        ; mov ecx, eax
                        ; $mn ecx, Rd(s)
                        ; mov DWORD [Rq(b) + disp], ecx
                        ; mov Rd(s), eax
                    );
                }
            }};
        }
        match op {
            AtomicOp::Add => rmw!(add),
            AtomicOp::Or => rmw!(or),
            AtomicOp::And => rmw!(and),
            AtomicOp::Xor => rmw!(xor),
            AtomicOp::FetchAdd => fetch!(add),
            AtomicOp::FetchOr => fetch!(or),
            AtomicOp::FetchAnd => fetch!(and),
            AtomicOp::FetchXor => fetch!(xor),
            AtomicOp::Xchg => {
                if wide {
                    asm!(self.ops
                        ; mov rax, QWORD [Rq(b) + disp]
                        ; mov QWORD [Rq(b) + disp], Rq(s)
                        ; mov Rq(s), rax
                    );
                } else {
                    asm!(self.ops
                        ; mov eax, DWORD [Rq(b) + disp]
                        ; mov DWORD [Rq(b) + disp], Rd(s)
                        ; mov Rd(s), eax
                    );
                }
            }
            AtomicOp::CmpXchg => {
                if wide {
                    asm!(self.ops
                        ; mov rax, QWORD [Rq(b) + disp]
                        ; cmp rax, Rq(r0)
                        ; jne >differ
                        ; mov QWORD [Rq(b) + disp], Rq(s)
                        ; differ:
                        ; mov Rq(r0), rax
                    );
                } else {
                    asm!(self.ops
                        ; mov eax, DWORD [Rq(b) + disp]
                        ; cmp eax, Rd(r0)
                        ; jne >differ
                        ; mov DWORD [Rq(b) + disp], Rd(s)
                        ; differ:
                        ; mov Rd(r0), eax
                    );
                }
            }
        }
    }

    fn jump(&mut self, cond: Option<(Cond, bool, u8, Operand)>, target: DynamicLabel) {
        let Some((cond, wide, dst, src)) = cond else {
            self.branch(len::JMP, |x| asm!(x.ops ; jmp =>target));
            return;
        };
        let d = self.value(dst, RAX);
        let test = cond == Cond::Set;
        let src = self.src(src, RCX);
        let compare = match src {
            Src::Reg(_) => len::CMP_REG,
            Src::Imm(_) => len::CMP_IMM,
        };
        self.branch(compare + len::JCC, |x| {
            match (wide, test, src) {
                (true, false, Src::Reg(s)) => asm!(x.ops ; cmp Rq(d), Rq(s)),
                (false, false, Src::Reg(s)) => asm!(x.ops ; cmp Rd(d), Rd(s)),
                (true, false, Src::Imm(i)) => asm!(x.ops ; cmp Rq(d), i),
                (false, false, Src::Imm(i)) => asm!(x.ops ; cmp Rd(d), i),
                (true, true, Src::Reg(s)) => asm!(x.ops ; test Rq(d), Rq(s)),
                (false, true, Src::Reg(s)) => asm!(x.ops ; test Rd(d), Rd(s)),
                (true, true, Src::Imm(i)) => asm!(x.ops ; test Rq(d), i),
                (false, true, Src::Imm(i)) => asm!(x.ops ; test Rd(d), i),
            }
            match cond {
                Cond::Eq => asm!(x.ops ; je =>target),
                Cond::Ne => asm!(x.ops ; jne =>target),
                Cond::Set => asm!(x.ops ; jnz =>target),
                Cond::Gt => asm!(x.ops ; ja =>target),
                Cond::Ge => asm!(x.ops ; jae =>target),
                Cond::Lt => asm!(x.ops ; jb =>target),
                Cond::Le => asm!(x.ops ; jbe =>target),
                Cond::SGt => asm!(x.ops ; jg =>target),
                Cond::SGe => asm!(x.ops ; jge =>target),
                Cond::SLt => asm!(x.ops ; jl =>target),
                Cond::SLe => asm!(x.ops ; jle =>target),
            }
        });
    }

    /// A bpf-to-bpf call: at most 8 frames; those of `r6`-`r9` in `saves` (bit `k`: `r(6 +
    /// k)`, see [`crate::saves`]) pushed on the host stack (with 8 bytes of padding for an even
    /// count, to keep `rsp % 16 == 8` in the callee) and popped on return; the callee's frame
    /// is the next 512 bytes of the run's stack.
    fn call_local(&mut self, pc: usize, target: DynamicLabel, saves: u8) {
        self.delta = None;
        let depth = self.value_stub(pc, FAULT_CALL_DEPTH, 0);
        self.branch(len::CMP_MEM + len::JCC, |x| {
            asm!(x.ops
                ; cmp rbp, [r12 + at(STACK_LIMIT)]
                ; jae =>depth
            )
        });
        // The registers of `r6`-`r9` the callee may write, pushed; then padding, so that the
        // stack stays 16-byte aligned at the callee's runtime calls.
        let saved = || (6..10).filter(move |r| saves & (1 << (r - 6)) != 0);
        for r in saved() {
            asm!(self.ops ; push Rq(HOST[r]));
        }
        let pad = saved().count() % 2 == 0;
        if pad {
            asm!(self.ops ; sub rsp, 8);
        }
        asm!(self.ops
            ; add rbp, STACK_SIZE as i32
            ; call =>target
            ; sub rbp, STACK_SIZE as i32
        );
        if pad {
            asm!(self.ops ; add rsp, 8);
        }
        for r in saved().rev() {
            asm!(self.ops ; pop Rq(HOST[r]));
        }
    }

    /// Calls the runtime function whose address is at context word `function`, through the
    /// stub that saves and reloads the registers; then continues, tail-calls or unwinds.
    fn call_runtime(&mut self, function: usize) {
        asm!(self.ops
            ; mov rax, [r12 + at(function)]
            ; call =>self.shared.runtime
        );
        self.branch(len::TEST_EAX + len::JCC, |x| {
            asm!(x.ops
                ; test eax, eax
                ; jnz =>x.shared.after_call
            )
        });
    }

    fn helper_call(&mut self, pc: usize, id: Option<u32>, reg: u8) {
        self.delta = None;
        asm!(self.ops ; mov QWORD [r12 + at(ARG_PC)], pc as i32);
        match id {
            Some(id) => asm!(self.ops
                ; mov eax, id as i32
                ; mov [r12 + at(ARG_KIND)], rax
            ),
            None => {
                let r = self.value(reg, RAX);
                asm!(self.ops
                    ; mov eax, Rd(r)
                    ; mov [r12 + at(ARG_KIND)], rax
                );
            }
        }
        self.call_runtime(CALL_FN);
    }

    fn packet_load(&mut self, pc: usize, opcode: bpfkit_isa::Opcode, imm: i64, src: u8) {
        self.delta = None;
        asm!(self.ops
            ; mov QWORD [r12 + at(ARG_PC)], pc as i32
            ; mov QWORD [r12 + at(ARG_KIND)], opcode as i32
            ; mov QWORD [r12 + at(ARG_ADDR)], imm as i32
        );
        if is_indirect(opcode) {
            let s = self.value(src, RAX);
            asm!(self.ops ; mov [r12 + at(ARG_SIZE)], Rq(s));
        }
        self.call_runtime(PACKET_FN);
    }

    /// The full lookups of accesses whose region was guessed: a stub per access that stores
    /// its pc, calls the lookup shared by the accesses of the same kind, size and guessed
    /// region, and goes back; then the shared lookups, which get the virtual address back from
    /// the offset into the guessed region left in `rdx` and return with the host address in
    /// `rdx`, or fault (the pc is stored, so they go straight to the shared fault tails).
    /// Sharing keeps a guessed access's compile cost near an unguessed one's.
    fn emit_lookups(&mut self) {
        let mut lookups = std::mem::take(&mut self.lookups);
        let mut shared: Vec<((Access, usize), DynamicLabel)> = Vec::new();
        for lookup in lookups.drain(..) {
            let Lookup {
                jumps,
                resume,
                pc,
                access,
                region,
            } = lookup;
            let key = (access, region);
            let call = match shared.iter().find(|(k, _)| *k == key) {
                Some(&(_, call)) => call,
                None => {
                    let call = self.ops.new_dynamic_label();
                    shared.push((key, call));
                    call
                }
            };
            let here = self.ops.offset().0;
            for end in jumps.into_iter().flatten() {
                self.ops.patch_rel32(end, here);
            }
            asm!(self.ops
                ; mov QWORD [r12 + at(ARG_PC)], pc as i32
                ; call =>call
            );
            self.jump_back(resume);
        }
        self.lookups = lookups;
        for ((access, region), call) in shared {
            let vstart = TABLE + region * ENTRY_WORDS + ENTRY_VSTART;
            asm!(self.ops
                ; =>call
                ; mov rax, rdx
                ; add rax, [r12 + at(vstart)]
            );
            self.region_lookup(None, access);
            asm!(self.ops ; ret);
        }
    }

    /// The fault paths: each site's stub, then each shared tail.
    fn emit_fault_paths(&mut self) {
        let mut stubs = std::mem::take(&mut self.stubs);
        for stub in stubs.drain(..) {
            let Stub { label, pc, tail } = stub;
            asm!(self.ops
                ; =>label
                ; mov QWORD [r12 + at(ARG_PC)], pc as i32
                ; jmp =>tail
            );
        }
        self.stubs = stubs;
        let fault = self.fault;
        for (Fault { kind, size, addr }, tail) in std::mem::take(&mut self.tails) {
            asm!(self.ops ; =>tail);
            match addr {
                FaultAddr::Rax => asm!(self.ops ; mov [r12 + at(ARG_ADDR)], rax),
                FaultAddr::Value(v) => {
                    asm!(self.ops ; mov QWORD [r12 + at(ARG_ADDR)], v as i32)
                }
            }
            asm!(self.ops
                ; mov QWORD [r12 + at(ARG_KIND)], kind as i32
                ; mov QWORD [r12 + at(ARG_SIZE)], size as i32
                ; jmp =>fault
            );
        }
    }
}

impl Backend for X86 {
    type Label = DynamicLabel;

    fn new_label(&mut self) -> DynamicLabel {
        self.ops.new_dynamic_label()
    }

    fn bind(&mut self, label: DynamicLabel) {
        // Code jumping here may have left anything in `rdx`.
        self.delta = None;
        asm!(self.ops ; =>label);
    }

    fn align(&mut self, bytes: usize) {
        let at = self.ops.offset().0 % bytes;
        if at != 0 {
            self.nops(bytes - at);
        }
    }

    fn bind_ready(&mut self, label: DynamicLabel, region: u32) {
        self.bind(label);
        self.delta = Some(region);
    }

    fn ready(&mut self, region: u32) {
        self.region_delta(region);
    }

    fn offset(&self) -> usize {
        self.ops.offset().0
    }

    fn entry_trampoline(&mut self) {
        asm!(self.ops
            ; push rbx
            ; push rbp
            ; push r12
            ; push r13
            ; push r14
            ; push r15
            ; mov r12, rdi
            ; mov rax, rsi
            ; mov [r12 + at(SAVED_RSP)], rsp
            ; mov rbp, [r12 + at(STACK_BASE)]
            ; add rbp, STACK_SIZE as i32
        );
        // `r1` and `r2` from the context; `r0` and `r3`-`r9` start as 0.
        for (r, &h) in HOST[..10].iter().enumerate() {
            if r == 1 || r == 2 {
                asm!(self.ops ; mov Rq(h), [r12 + at(REGS + r)]);
            } else {
                asm!(self.ops ; xor Rd(h), Rd(h));
            }
        }
        asm!(self.ops
            ; sub rsp, 8
            ; call rax
            ; =>self.shared.epilogue
            ; mov rsp, [r12 + at(SAVED_RSP)]
            ; mov rax, rbx
            ; pop r15
            ; pop r14
            ; pop r13
            ; pop r12
            ; pop rbp
            ; pop rbx
            ; ret
        );
    }

    fn meter(&mut self, pc: usize) {
        let spent = self.value_stub(pc, FAULT_BUDGET, 0);
        self.branch(len::SUB_MEM + len::JCC, |x| {
            asm!(x.ops
                ; sub QWORD [r12 + at(REMAINING)], 1
                ; jb =>spent
            )
        });
    }

    fn emit(&mut self, pc: usize, lir: &Lir<DynamicLabel>) {
        match *lir {
            Lir::Alu { op, wide, dst, src } => self.alu(op, wide, dst, src),
            Lir::Endian { order, bits, dst } => self.endian(order, bits, dst),
            Lir::Const { dst, value } => self.constant(dst, value),
            Lir::HostAddr { dst, region, off } => self.host_addr(dst, region, off),
            Lir::Load { dst, mem, sign } => self.load(pc, dst, mem, sign),
            Lir::Store { mem, value } => self.store(pc, mem, value),
            Lir::Atomic { op, mem, src } => self.atomic(pc, op, mem, src),
            Lir::Jump { cond, target } => self.jump(cond, target),
            Lir::CallLocal { target, saves } => self.call_local(pc, target, saves),
            Lir::CallRuntime { id, reg } => self.helper_call(pc, id, reg),
            Lir::CallKfunc { btf_id } => {
                let kfunc = self.value_stub(pc, FAULT_KFUNC, btf_id as i64);
                asm!(self.ops ; jmp =>kfunc);
            }
            Lir::CheckRange { range, fallback } => self.check_range(range, fallback),
            Lir::CheckSpan { span, fallback } => self.check_span(span, fallback),
            Lir::CheckLength { length, fallback } => self.check_length(length, fallback),
            Lir::PacketLoad { opcode, imm, src } => self.packet_load(pc, opcode, imm, src),
            Lir::Exit => self.branch(1, |x| asm!(x.ops ; ret)),
        }
    }

    fn finish(mut self) -> Result<Emitted, BackendError> {
        self.emit_lookups();
        self.emit_fault_paths();
        let lists = (
            std::mem::take(&mut self.stubs),
            std::mem::take(&mut self.lookups),
        );
        // During thread teardown there is nowhere to keep them; they are freed instead.
        let _ = SPARE_LISTS.try_with(|spare| spare.set(lists));
        let (fault, shared) = (self.fault, self.shared);
        asm!(self.ops
            ; =>fault
            ; mov QWORD [r12 + at(STATUS)], STATUS_FAULT as i32
            ; =>shared.unwind
            ; jmp =>shared.epilogue
            // A runtime call returned non-zero: a tail call, or a status the runtime set.
            ; =>shared.after_call
            ; cmp eax, call::TAIL_CALL as i32
            ; jne =>shared.unwind
            ; jmp QWORD [r12 + at(NEXT_ENTRY)]
            // Saves the registers the call may clobber, calls `rax(ctx)`, reloads them.
            ; =>shared.runtime
        );
        for r in SAVED_AROUND_CALLS {
            let h = HOST[r as usize];
            asm!(self.ops ; mov [r12 + at(REGS + r as usize)], Rq(h));
        }
        asm!(self.ops
            ; mov rdi, r12
            ; call rax
        );
        for r in SAVED_AROUND_CALLS {
            let h = HOST[r as usize];
            asm!(self.ops ; mov Rq(h), [r12 + at(REGS + r as usize)]);
        }
        asm!(self.ops ; ret);
        self.ops.finish().map_err(|e| e.to_string())
    }
}

#[cfg(test)]
mod tests {
    use std::cell::Cell;

    use crate::differential::{Source, compare, generate};

    thread_local! {
        static WITHOUT_BMI2: Cell<bool> = const { Cell::new(false) };
        static PAD_BRANCHES: Cell<Option<bool>> = const { Cell::new(None) };
    }

    /// Whether this thread compiles as for a CPU without BMI2.
    pub fn without_bmi2() -> bool {
        WITHOUT_BMI2.with(Cell::get)
    }

    /// Whether this thread pads branches whatever the CPU (`None`: as the CPU needs).
    pub fn pad_branches() -> Option<bool> {
        PAD_BRANCHES.with(Cell::get)
    }

    /// Both ways of placing branches (padded as on Intel CPUs, and not) agree with the
    /// interpreter, and padding keeps every fused compare-and-jump off 32-byte boundaries.
    #[test]
    fn padded_and_unpadded_branches_agree_with_the_interpreter() {
        for pad in [true, false] {
            PAD_BRANCHES.with(|p| p.set(Some(pad)));
            agree_on_random_programs(500);
        }
        PAD_BRANCHES.with(|p| p.set(Some(true)));
        let mut source = String::new();
        for i in 0..200 {
            source += &format!(
                "r2 = *(u8 *)(r1 + {})
if r2 > {i} goto +1
r0 += r2
",
                i % 8
            );
        }
        source += "exit";
        let insns = bpfkit_asm::assemble(&source, bpfkit_isa::Dialect::Llvm).unwrap();
        let jit = crate::Jit::new(bpfkit_vm::Vm::new(&insns).unwrap()).unwrap();
        // The program's code, which loops run (the out-of-line code after it is cold).
        let bytes = &jit.code().bytes()[..jit.code().out_of_line()];
        let mut decoder = iced_x86::Decoder::new(64, bytes, iced_x86::DecoderOptions::NONE);
        let (mut previous, mut branches) = (iced_x86::Instruction::default(), 0);
        for insn in &mut decoder {
            let mnemonic = format!("{:?}", insn.mnemonic());
            if mnemonic.starts_with('J') && mnemonic != "Jmp" {
                // A compare right before a conditional jump fuses with it: the pair counts.
                let fused = matches!(
                    previous.mnemonic(),
                    iced_x86::Mnemonic::Cmp | iced_x86::Mnemonic::Test
                );
                let start = if fused { previous.ip() } else { insn.ip() };
                let end = insn.next_ip();
                assert_eq!(
                    start / 32,
                    (end - 1) / 32,
                    "crosses a boundary at {start:#x}"
                );
                assert_ne!(end % 32, 0, "ends at a boundary at {start:#x}");
                branches += 1;
            }
            previous = insn;
        }
        assert_eq!(branches, 400, "a check per load and a jump per compare");
    }

    /// The checked-access sequence for CPUs without BMI2 (this machine has it, so the other
    /// tests cover `rorx`) agrees with the interpreter on random programs too.
    #[test]
    fn without_bmi2_the_jit_agrees_with_the_interpreter() {
        WITHOUT_BMI2.with(|w| w.set(true));
        PAD_BRANCHES.with(|p| p.set(Some(false)));
        let load = [
            bpfkit_isa::Insn::new(bpfkit_isa::Opcode::LdxB)
                .with_dst(bpfkit_isa::Reg::R0)
                .with_src(bpfkit_isa::Reg::R1),
            bpfkit_isa::Insn::new(bpfkit_isa::Opcode::Exit),
        ];
        let jit = crate::Jit::new(bpfkit_vm::Vm::new(&load).unwrap()).unwrap();
        let dump = jit.dump();
        assert!(
            dump.contains("shr rcx,0x20") && !dump.contains("rorx"),
            "{dump}"
        );
        assert!(agree_on_random_programs(1500) > 300);
    }

    /// Compiles and runs `cases` random programs on this thread's settings and the
    /// interpreter, which must agree; returns how many faulted.
    fn agree_on_random_programs(cases: u64) -> usize {
        let mut faults = 0;
        for seed in 0..cases {
            let mut x = seed * 2 + 1;
            let bytes: Vec<u8> = (0..2048)
                .map(|_| {
                    x ^= x << 13;
                    x ^= x >> 7;
                    x ^= x << 17;
                    x as u8
                })
                .collect();
            let case = generate(&mut Source::new(&bytes));
            match compare(&case) {
                Ok(Some(outcome)) => faults += usize::from(outcome.result.is_err()),
                Ok(None) => {}
                Err(mismatch) => panic!("seed {seed}: {mismatch:#x?}"),
            }
        }
        faults
    }
}

#[cfg(not(test))]
mod tests {
    /// Outside tests, never: the CPU decides.
    pub fn without_bmi2() -> bool {
        false
    }

    /// Outside tests, the CPU decides.
    pub fn pad_branches() -> Option<bool> {
        None
    }
}
