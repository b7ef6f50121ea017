//! The instruction table: every instruction of the eBPF ISA, declared once.
//!
//! Each row names an [`Opcode`] and gives its encoding (the opcode byte, plus the field that tells
//! instructions sharing that byte apart), what it does ([`Kind`]), the minimum [`Cpu`] level, its
//! RFC 9669 conformance [`Group`], and its text in both assembly dialects. Decoding, encoding,
//! `Display` and the assembler's parser are all driven by this table; nothing else lists opcodes.
//!
//! # Templates
//!
//! The dialect columns are templates: literal text with `{hole}`s for operands. The same template
//! is rendered by the disassembler and matched by the assembler. Holes:
//!
//! | hole | field | printed as | accepted |
//! |------|-------|------------|----------|
//! | `d` `s` | dst, src | `r1` (`%r1` in uBPF) | the same |
//! | `dw` `sw` | dst, src | `w1` (`%r1` in uBPF) | the same |
//! | `dx` `sx` | dst, src | `r1` | `r1` or `w1` (LLVM prints `w` for sub-64-bit loads with alu32) |
//! | `swx` | src | `w1` | `w1` or `r1` |
//! | `imm` | imm | signed decimal | decimal in i32 range, hex up to `0xffffffff` |
//! | `himm` | imm | signed hex (`0x5`, `-0x5`) | as `imm` |
//! | `helper` | imm | unsigned decimal | an unsigned number |
//! | `imm64` | imm, next imm | hex, 64 bits | any number that fits 64 bits |
//! | `next` | next imm | signed decimal | as `imm` |
//! | `off` | offset | ` + 4` / ` - 4` | sign and number |
//! | `offc` | offset | `+4` / `-4` | sign and number, or nothing for 0 |
//! | `ioff` | imm | nothing for 0, else ` + 4` / ` - 4` | as printed |
//! | `joff` | offset | `+3` / `-3` (relative to the next slot) | sign and number, or a label |
//! | `jimm` | imm | `+3` / `-3` (relative to the next slot) | sign and number, or a label |
//! | `kfunc` | imm, offset | `id` or `id, module` | as printed |
//!
//! A hole that appears twice (`r0 = -r0`) must name the same register both times.

use crate::cpu::{Cpu, Group};
use crate::kind::*;

/// The field that tells apart instructions sharing one opcode byte.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Select {
    /// The opcode byte alone identifies the instruction.
    None,
    /// The 16-bit `offset` field holds this value (`sdiv`, `smod`, `movsx`).
    Off(i16),
    /// The `imm` field holds this value (atomics, byte-order operations).
    Imm(i32),
    /// The `src` field holds this value (64-bit loads, calls).
    Src(u8),
}

/// One row of the instruction table.
#[derive(Clone, Copy, Debug)]
pub struct Spec {
    /// The instruction this row describes.
    pub opcode: Opcode,
    /// Its name in the table, e.g. `Add64Imm`.
    pub name: &'static str,
    /// The opcode byte.
    pub code: u8,
    /// The field value that selects this row among rows sharing `code`.
    pub select: Select,
    /// What the instruction does.
    pub kind: Kind,
    /// The first LLVM cpu level that has it.
    pub cpu: Cpu,
    /// Its RFC 9669 conformance group.
    pub group: Group,
    /// LLVM/kernel dialect template.
    pub llvm: &'static str,
    /// uBPF/conformance dialect template.
    pub ubpf: &'static str,
}

const K: Source = Source::Imm;
const X: Source = Source::Reg;
const W32: Width = Width::W32;
const W64: Width = Width::W64;
const NONE: Select = Select::None;

const fn off(v: i16) -> Select {
    Select::Off(v)
}
const fn imm(v: i32) -> Select {
    Select::Imm(v)
}
const fn src(v: u8) -> Select {
    Select::Src(v)
}
const fn alu(op: AluOp, width: Width, src: Source) -> Kind {
    Kind::Alu { op, width, src }
}
const fn endian(order: ByteOrder, bits: u8) -> Kind {
    Kind::Endian { order, bits }
}
const fn ld64(pseudo: Pseudo) -> Kind {
    Kind::LoadImm64 { pseudo }
}
const fn ldpkt(mode: PacketMode, size: Size) -> Kind {
    Kind::LoadPacket { mode, size }
}
const fn ldx(size: Size, sign_extend: bool) -> Kind {
    Kind::Load { size, sign_extend }
}
const fn st(size: Size, src: Source) -> Kind {
    Kind::Store { size, src }
}
const fn atomic(op: AtomicOp, size: Size) -> Kind {
    Kind::Atomic { op, size }
}
const fn jmp(cond: Cond, width: Width, src: Source) -> Kind {
    Kind::Jump { cond, width, src }
}
const fn call(target: CallTarget) -> Kind {
    Kind::Call { target }
}

macro_rules! instruction_table {
    ($($name:ident = $code:literal, $select:expr, $kind:expr, $cpu:ident, $group:ident,
        $llvm:literal, $ubpf:literal;)*) => {
        /// Every instruction of the eBPF ISA, one variant per row of the instruction table.
        ///
        /// An `Opcode` identifies an instruction completely: where one opcode byte covers several
        /// instructions (`div`/`sdiv`, the atomics, the byte-order operations, the pseudo forms
        /// of `lddw`, the call kinds) each has its own variant.
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
        #[repr(u8)]
        pub enum Opcode {
            $(
                #[doc = concat!("`", $llvm, "` (uBPF `", $ubpf, "`), opcode byte ",
                    stringify!($code), ".")]
                $name,
            )*
        }

        /// Number of rows in the instruction table.
        pub const COUNT: usize = [$(stringify!($name)),*].len();

        /// The instruction table as a constant, for the compile-time decode index.
        pub(crate) const ROWS: [Spec; COUNT] = [
            $(
                Spec {
                    opcode: Opcode::$name,
                    name: stringify!($name),
                    code: $code,
                    select: $select,
                    kind: $kind,
                    cpu: Cpu::$cpu,
                    group: Group::$group,
                    llvm: $llvm,
                    ubpf: $ubpf,
                },
            )*
        ];

        /// The instruction table, indexed by `Opcode as usize`.
        pub static TABLE: &[Spec] = &ROWS;
    };
}

use AluOp as A;
use AtomicOp as At;
use ByteOrder as B;
use CallTarget as C;
use Cond as J;
use PacketMode as P;
use Size::{B as SB, DW, H as SH, W as SW};

instruction_table! {
    // ALU (32-bit), immediate operand.
    Add32Imm = 0x04, NONE, alu(A::Add, W32, K), V1, Base32, "{dw} += {imm}", "add32 {d}, {imm}";
    Sub32Imm = 0x14, NONE, alu(A::Sub, W32, K), V1, Base32, "{dw} -= {imm}", "sub32 {d}, {imm}";
    Mul32Imm = 0x24, NONE, alu(A::Mul, W32, K), V1, Divmul32, "{dw} *= {imm}", "mul32 {d}, {imm}";
    Div32Imm = 0x34, off(0), alu(A::Div, W32, K), V1, Divmul32, "{dw} /= {imm}", "div32 {d}, {imm}";
    SDiv32Imm = 0x34, off(1), alu(A::SDiv, W32, K), V4, Divmul32, "{dw} s/= {imm}", "sdiv32 {d}, {imm}";
    Or32Imm = 0x44, NONE, alu(A::Or, W32, K), V1, Base32, "{dw} |= {imm}", "or32 {d}, {imm}";
    And32Imm = 0x54, NONE, alu(A::And, W32, K), V1, Base32, "{dw} &= {imm}", "and32 {d}, {imm}";
    Lsh32Imm = 0x64, NONE, alu(A::Lsh, W32, K), V1, Base32, "{dw} <<= {imm}", "lsh32 {d}, {imm}";
    Rsh32Imm = 0x74, NONE, alu(A::Rsh, W32, K), V1, Base32, "{dw} >>= {imm}", "rsh32 {d}, {imm}";
    Neg32 = 0x84, NONE, alu(A::Neg, W32, K), V1, Base32, "{dw} = -{dw}", "neg32 {d}";
    Mod32Imm = 0x94, off(0), alu(A::Mod, W32, K), V1, Divmul32, "{dw} %= {imm}", "mod32 {d}, {imm}";
    SMod32Imm = 0x94, off(1), alu(A::SMod, W32, K), V4, Divmul32, "{dw} s%= {imm}", "smod32 {d}, {imm}";
    Xor32Imm = 0xa4, NONE, alu(A::Xor, W32, K), V1, Base32, "{dw} ^= {imm}", "xor32 {d}, {imm}";
    Mov32Imm = 0xb4, NONE, alu(A::Mov, W32, K), V1, Base32, "{dw} = {imm}", "mov32 {d}, {imm}";
    Arsh32Imm = 0xc4, NONE, alu(A::Arsh, W32, K), V1, Base32, "{dw} s>>= {imm}", "arsh32 {d}, {imm}";
    Le16 = 0xd4, imm(16), endian(B::Le, 16), V1, Base32, "{d} = le16 {d}", "le16 {d}";
    Le32 = 0xd4, imm(32), endian(B::Le, 32), V1, Base32, "{d} = le32 {d}", "le32 {d}";
    Le64 = 0xd4, imm(64), endian(B::Le, 64), V1, Base64, "{d} = le64 {d}", "le64 {d}";

    // ALU (32-bit), register operand.
    Add32Reg = 0x0c, NONE, alu(A::Add, W32, X), V1, Base32, "{dw} += {sw}", "add32 {d}, {s}";
    Sub32Reg = 0x1c, NONE, alu(A::Sub, W32, X), V1, Base32, "{dw} -= {sw}", "sub32 {d}, {s}";
    Mul32Reg = 0x2c, NONE, alu(A::Mul, W32, X), V1, Divmul32, "{dw} *= {sw}", "mul32 {d}, {s}";
    Div32Reg = 0x3c, off(0), alu(A::Div, W32, X), V1, Divmul32, "{dw} /= {sw}", "div32 {d}, {s}";
    SDiv32Reg = 0x3c, off(1), alu(A::SDiv, W32, X), V4, Divmul32, "{dw} s/= {sw}", "sdiv32 {d}, {s}";
    Or32Reg = 0x4c, NONE, alu(A::Or, W32, X), V1, Base32, "{dw} |= {sw}", "or32 {d}, {s}";
    And32Reg = 0x5c, NONE, alu(A::And, W32, X), V1, Base32, "{dw} &= {sw}", "and32 {d}, {s}";
    Lsh32Reg = 0x6c, NONE, alu(A::Lsh, W32, X), V1, Base32, "{dw} <<= {sw}", "lsh32 {d}, {s}";
    Rsh32Reg = 0x7c, NONE, alu(A::Rsh, W32, X), V1, Base32, "{dw} >>= {sw}", "rsh32 {d}, {s}";
    Mod32Reg = 0x9c, off(0), alu(A::Mod, W32, X), V1, Divmul32, "{dw} %= {sw}", "mod32 {d}, {s}";
    SMod32Reg = 0x9c, off(1), alu(A::SMod, W32, X), V4, Divmul32, "{dw} s%= {sw}", "smod32 {d}, {s}";
    Xor32Reg = 0xac, NONE, alu(A::Xor, W32, X), V1, Base32, "{dw} ^= {sw}", "xor32 {d}, {s}";
    Mov32Reg = 0xbc, off(0), alu(A::Mov, W32, X), V1, Base32, "{dw} = {sw}", "mov32 {d}, {s}";
    MovSx8To32 = 0xbc, off(8), alu(A::MovSx(8), W32, X), V4, Base32, "{dw} = (s8){sw}", "movsx832 {d}, {s}";
    MovSx16To32 = 0xbc, off(16), alu(A::MovSx(16), W32, X), V4, Base32, "{dw} = (s16){sw}", "movsx1632 {d}, {s}";
    Arsh32Reg = 0xcc, NONE, alu(A::Arsh, W32, X), V1, Base32, "{dw} s>>= {sw}", "arsh32 {d}, {s}";
    Be16 = 0xdc, imm(16), endian(B::Be, 16), V1, Base32, "{d} = be16 {d}", "be16 {d}";
    Be32 = 0xdc, imm(32), endian(B::Be, 32), V1, Base32, "{d} = be32 {d}", "be32 {d}";
    Be64 = 0xdc, imm(64), endian(B::Be, 64), V1, Base64, "{d} = be64 {d}", "be64 {d}";

    // ALU64, immediate operand.
    Add64Imm = 0x07, NONE, alu(A::Add, W64, K), V1, Base64, "{d} += {imm}", "add {d}, {imm}";
    Sub64Imm = 0x17, NONE, alu(A::Sub, W64, K), V1, Base64, "{d} -= {imm}", "sub {d}, {imm}";
    Mul64Imm = 0x27, NONE, alu(A::Mul, W64, K), V1, Divmul64, "{d} *= {imm}", "mul {d}, {imm}";
    Div64Imm = 0x37, off(0), alu(A::Div, W64, K), V1, Divmul64, "{d} /= {imm}", "div {d}, {imm}";
    SDiv64Imm = 0x37, off(1), alu(A::SDiv, W64, K), V4, Divmul64, "{d} s/= {imm}", "sdiv {d}, {imm}";
    Or64Imm = 0x47, NONE, alu(A::Or, W64, K), V1, Base64, "{d} |= {imm}", "or {d}, {imm}";
    And64Imm = 0x57, NONE, alu(A::And, W64, K), V1, Base64, "{d} &= {imm}", "and {d}, {imm}";
    Lsh64Imm = 0x67, NONE, alu(A::Lsh, W64, K), V1, Base64, "{d} <<= {imm}", "lsh {d}, {imm}";
    Rsh64Imm = 0x77, NONE, alu(A::Rsh, W64, K), V1, Base64, "{d} >>= {imm}", "rsh {d}, {imm}";
    Neg64 = 0x87, NONE, alu(A::Neg, W64, K), V1, Base64, "{d} = -{d}", "neg {d}";
    Mod64Imm = 0x97, off(0), alu(A::Mod, W64, K), V1, Divmul64, "{d} %= {imm}", "mod {d}, {imm}";
    SMod64Imm = 0x97, off(1), alu(A::SMod, W64, K), V4, Divmul64, "{d} s%= {imm}", "smod {d}, {imm}";
    Xor64Imm = 0xa7, NONE, alu(A::Xor, W64, K), V1, Base64, "{d} ^= {imm}", "xor {d}, {imm}";
    Mov64Imm = 0xb7, NONE, alu(A::Mov, W64, K), V1, Base64, "{d} = {imm}", "mov {d}, {imm}";
    Arsh64Imm = 0xc7, NONE, alu(A::Arsh, W64, K), V1, Base64, "{d} s>>= {imm}", "arsh {d}, {imm}";
    Bswap16 = 0xd7, imm(16), endian(B::Swap, 16), V4, Base32, "{d} = bswap16 {d}", "bswap16 {d}";
    Bswap32 = 0xd7, imm(32), endian(B::Swap, 32), V4, Base32, "{d} = bswap32 {d}", "bswap32 {d}";
    Bswap64 = 0xd7, imm(64), endian(B::Swap, 64), V4, Base64, "{d} = bswap64 {d}", "bswap64 {d}";

    // ALU64, register operand.
    Add64Reg = 0x0f, NONE, alu(A::Add, W64, X), V1, Base64, "{d} += {s}", "add {d}, {s}";
    Sub64Reg = 0x1f, NONE, alu(A::Sub, W64, X), V1, Base64, "{d} -= {s}", "sub {d}, {s}";
    Mul64Reg = 0x2f, NONE, alu(A::Mul, W64, X), V1, Divmul64, "{d} *= {s}", "mul {d}, {s}";
    Div64Reg = 0x3f, off(0), alu(A::Div, W64, X), V1, Divmul64, "{d} /= {s}", "div {d}, {s}";
    SDiv64Reg = 0x3f, off(1), alu(A::SDiv, W64, X), V4, Divmul64, "{d} s/= {s}", "sdiv {d}, {s}";
    Or64Reg = 0x4f, NONE, alu(A::Or, W64, X), V1, Base64, "{d} |= {s}", "or {d}, {s}";
    And64Reg = 0x5f, NONE, alu(A::And, W64, X), V1, Base64, "{d} &= {s}", "and {d}, {s}";
    Lsh64Reg = 0x6f, NONE, alu(A::Lsh, W64, X), V1, Base64, "{d} <<= {s}", "lsh {d}, {s}";
    Rsh64Reg = 0x7f, NONE, alu(A::Rsh, W64, X), V1, Base64, "{d} >>= {s}", "rsh {d}, {s}";
    Mod64Reg = 0x9f, off(0), alu(A::Mod, W64, X), V1, Divmul64, "{d} %= {s}", "mod {d}, {s}";
    SMod64Reg = 0x9f, off(1), alu(A::SMod, W64, X), V4, Divmul64, "{d} s%= {s}", "smod {d}, {s}";
    Xor64Reg = 0xaf, NONE, alu(A::Xor, W64, X), V1, Base64, "{d} ^= {s}", "xor {d}, {s}";
    Mov64Reg = 0xbf, off(0), alu(A::Mov, W64, X), V1, Base64, "{d} = {s}", "mov {d}, {s}";
    MovSx8To64 = 0xbf, off(8), alu(A::MovSx(8), W64, X), V4, Base64, "{d} = (s8){s}", "movsx864 {d}, {s}";
    MovSx16To64 = 0xbf, off(16), alu(A::MovSx(16), W64, X), V4, Base64, "{d} = (s16){s}", "movsx1664 {d}, {s}";
    MovSx32To64 = 0xbf, off(32), alu(A::MovSx(32), W64, X), V4, Base64, "{d} = (s32){s}", "movsx3264 {d}, {s}";
    Arsh64Reg = 0xcf, NONE, alu(A::Arsh, W64, X), V1, Base64, "{d} s>>= {s}", "arsh {d}, {s}";

    // 64-bit immediate loads (two slots), by pseudo source.
    LdImm64 = 0x18, src(0), ld64(Pseudo::Imm64), V1, Base64, "{d} = {imm64} ll", "lddw {d}, {imm64}";
    LdMapFd = 0x18, src(1), ld64(Pseudo::MapFd), V1, Base64, "{d} = map_fd({imm}) ll", "lddw {d}, map_fd({imm})";
    LdMapValue = 0x18, src(2), ld64(Pseudo::MapValue), V1, Base64, "{d} = map_value({imm}, {next}) ll", "lddw {d}, map_value({imm}, {next})";
    LdBtfId = 0x18, src(3), ld64(Pseudo::BtfId), V1, Base64, "{d} = btf_id({imm}, {next}) ll", "lddw {d}, btf_id({imm}, {next})";
    LdFunc = 0x18, src(4), ld64(Pseudo::Func), V1, Base64, "{d} = func({jimm}) ll", "lddw {d}, func({jimm})";
    LdMapIdx = 0x18, src(5), ld64(Pseudo::MapIdx), V1, Base64, "{d} = map_idx({imm}) ll", "lddw {d}, map_idx({imm})";
    LdMapIdxValue = 0x18, src(6), ld64(Pseudo::MapIdxValue), V1, Base64, "{d} = map_idx_value({imm}, {next}) ll", "lddw {d}, map_idx_value({imm}, {next})";

    // Legacy packet loads into r0.
    LdAbsW = 0x20, NONE, ldpkt(P::Abs, SW), V1, Packet, "r0 = *(u32 *)skb[{imm}]", "ldabsw {imm}";
    LdAbsH = 0x28, NONE, ldpkt(P::Abs, SH), V1, Packet, "r0 = *(u16 *)skb[{imm}]", "ldabsh {imm}";
    LdAbsB = 0x30, NONE, ldpkt(P::Abs, SB), V1, Packet, "r0 = *(u8 *)skb[{imm}]", "ldabsb {imm}";
    LdIndW = 0x40, NONE, ldpkt(P::Ind, SW), V1, Packet, "r0 = *(u32 *)skb[{s}{ioff}]", "ldindw {s}, {imm}";
    LdIndH = 0x48, NONE, ldpkt(P::Ind, SH), V1, Packet, "r0 = *(u16 *)skb[{s}{ioff}]", "ldindh {s}, {imm}";
    LdIndB = 0x50, NONE, ldpkt(P::Ind, SB), V1, Packet, "r0 = *(u8 *)skb[{s}{ioff}]", "ldindb {s}, {imm}";

    // Loads.
    LdxW = 0x61, NONE, ldx(SW, false), V1, Base32, "{dx} = *(u32 *)({s}{off})", "ldxw {d}, [{s}{offc}]";
    LdxH = 0x69, NONE, ldx(SH, false), V1, Base32, "{dx} = *(u16 *)({s}{off})", "ldxh {d}, [{s}{offc}]";
    LdxB = 0x71, NONE, ldx(SB, false), V1, Base32, "{dx} = *(u8 *)({s}{off})", "ldxb {d}, [{s}{offc}]";
    LdxDW = 0x79, NONE, ldx(DW, false), V1, Base64, "{d} = *(u64 *)({s}{off})", "ldxdw {d}, [{s}{offc}]";
    LdxSW = 0x81, NONE, ldx(SW, true), V4, Base64, "{d} = *(s32 *)({s}{off})", "ldxsw {d}, [{s}{offc}]";
    LdxSH = 0x89, NONE, ldx(SH, true), V4, Base64, "{d} = *(s16 *)({s}{off})", "ldxsh {d}, [{s}{offc}]";
    LdxSB = 0x91, NONE, ldx(SB, true), V4, Base64, "{d} = *(s8 *)({s}{off})", "ldxsb {d}, [{s}{offc}]";

    // Stores of an immediate.
    StW = 0x62, NONE, st(SW, K), V1, Base32, "*(u32 *)({d}{off}) = {imm}", "stw [{d}{offc}], {imm}";
    StH = 0x6a, NONE, st(SH, K), V1, Base32, "*(u16 *)({d}{off}) = {imm}", "sth [{d}{offc}], {imm}";
    StB = 0x72, NONE, st(SB, K), V1, Base32, "*(u8 *)({d}{off}) = {imm}", "stb [{d}{offc}], {imm}";
    StDW = 0x7a, NONE, st(DW, K), V1, Base64, "*(u64 *)({d}{off}) = {imm}", "stdw [{d}{offc}], {imm}";

    // Stores of a register.
    StxW = 0x63, NONE, st(SW, X), V1, Base32, "*(u32 *)({d}{off}) = {sx}", "stxw [{d}{offc}], {s}";
    StxH = 0x6b, NONE, st(SH, X), V1, Base32, "*(u16 *)({d}{off}) = {sx}", "stxh [{d}{offc}], {s}";
    StxB = 0x73, NONE, st(SB, X), V1, Base32, "*(u8 *)({d}{off}) = {sx}", "stxb [{d}{offc}], {s}";
    StxDW = 0x7b, NONE, st(DW, X), V1, Base64, "*(u64 *)({d}{off}) = {s}", "stxdw [{d}{offc}], {s}";

    // Atomics, 32-bit.
    AtomicAdd32 = 0xc3, imm(0x00), atomic(At::Add, SW), V1, Atomic32, "lock *(u32 *)({d}{off}) += {swx}", "lock add32 [{d}{offc}], {s}";
    AtomicOr32 = 0xc3, imm(0x40), atomic(At::Or, SW), V3, Atomic32, "lock *(u32 *)({d}{off}) |= {swx}", "lock or32 [{d}{offc}], {s}";
    AtomicAnd32 = 0xc3, imm(0x50), atomic(At::And, SW), V3, Atomic32, "lock *(u32 *)({d}{off}) &= {swx}", "lock and32 [{d}{offc}], {s}";
    AtomicXor32 = 0xc3, imm(0xa0), atomic(At::Xor, SW), V3, Atomic32, "lock *(u32 *)({d}{off}) ^= {swx}", "lock xor32 [{d}{offc}], {s}";
    AtomicFetchAdd32 = 0xc3, imm(0x01), atomic(At::FetchAdd, SW), V3, Atomic32, "{sw} = atomic_fetch_add((u32 *)({d}{off}), {sw})", "lock fetch add32 [{d}{offc}], {s}";
    AtomicFetchOr32 = 0xc3, imm(0x41), atomic(At::FetchOr, SW), V3, Atomic32, "{sw} = atomic_fetch_or((u32 *)({d}{off}), {sw})", "lock fetch or32 [{d}{offc}], {s}";
    AtomicFetchAnd32 = 0xc3, imm(0x51), atomic(At::FetchAnd, SW), V3, Atomic32, "{sw} = atomic_fetch_and((u32 *)({d}{off}), {sw})", "lock fetch and32 [{d}{offc}], {s}";
    AtomicFetchXor32 = 0xc3, imm(0xa1), atomic(At::FetchXor, SW), V3, Atomic32, "{sw} = atomic_fetch_xor((u32 *)({d}{off}), {sw})", "lock fetch xor32 [{d}{offc}], {s}";
    AtomicXchg32 = 0xc3, imm(0xe1), atomic(At::Xchg, SW), V3, Atomic32, "{sw} = xchg32_32({d}{off}, {sw})", "lock xchg32 [{d}{offc}], {s}";
    AtomicCmpXchg32 = 0xc3, imm(0xf1), atomic(At::CmpXchg, SW), V3, Atomic32, "w0 = cmpxchg32_32({d}{off}, w0, {sw})", "lock cmpxchg32 [{d}{offc}], {s}";

    // Atomics, 64-bit.
    AtomicAdd64 = 0xdb, imm(0x00), atomic(At::Add, DW), V1, Atomic64, "lock *(u64 *)({d}{off}) += {s}", "lock add [{d}{offc}], {s}";
    AtomicOr64 = 0xdb, imm(0x40), atomic(At::Or, DW), V3, Atomic64, "lock *(u64 *)({d}{off}) |= {s}", "lock or [{d}{offc}], {s}";
    AtomicAnd64 = 0xdb, imm(0x50), atomic(At::And, DW), V3, Atomic64, "lock *(u64 *)({d}{off}) &= {s}", "lock and [{d}{offc}], {s}";
    AtomicXor64 = 0xdb, imm(0xa0), atomic(At::Xor, DW), V3, Atomic64, "lock *(u64 *)({d}{off}) ^= {s}", "lock xor [{d}{offc}], {s}";
    AtomicFetchAdd64 = 0xdb, imm(0x01), atomic(At::FetchAdd, DW), V3, Atomic64, "{s} = atomic_fetch_add((u64 *)({d}{off}), {s})", "lock fetch add [{d}{offc}], {s}";
    AtomicFetchOr64 = 0xdb, imm(0x41), atomic(At::FetchOr, DW), V3, Atomic64, "{s} = atomic_fetch_or((u64 *)({d}{off}), {s})", "lock fetch or [{d}{offc}], {s}";
    AtomicFetchAnd64 = 0xdb, imm(0x51), atomic(At::FetchAnd, DW), V3, Atomic64, "{s} = atomic_fetch_and((u64 *)({d}{off}), {s})", "lock fetch and [{d}{offc}], {s}";
    AtomicFetchXor64 = 0xdb, imm(0xa1), atomic(At::FetchXor, DW), V3, Atomic64, "{s} = atomic_fetch_xor((u64 *)({d}{off}), {s})", "lock fetch xor [{d}{offc}], {s}";
    AtomicXchg64 = 0xdb, imm(0xe1), atomic(At::Xchg, DW), V3, Atomic64, "{s} = xchg_64({d}{off}, {s})", "lock xchg [{d}{offc}], {s}";
    AtomicCmpXchg64 = 0xdb, imm(0xf1), atomic(At::CmpXchg, DW), V3, Atomic64, "r0 = cmpxchg_64({d}{off}, r0, {s})", "lock cmpxchg [{d}{offc}], {s}";

    // Jumps (64-bit compares), immediate operand.
    Ja = 0x05, NONE, Kind::Ja, V1, Base64, "goto {joff}", "ja {joff}";
    JeqImm = 0x15, NONE, jmp(J::Eq, W64, K), V1, Base64, "if {d} == {himm} goto {joff}", "jeq {d}, {imm}, {joff}";
    JgtImm = 0x25, NONE, jmp(J::Gt, W64, K), V1, Base64, "if {d} > {himm} goto {joff}", "jgt {d}, {imm}, {joff}";
    JgeImm = 0x35, NONE, jmp(J::Ge, W64, K), V1, Base64, "if {d} >= {himm} goto {joff}", "jge {d}, {imm}, {joff}";
    JsetImm = 0x45, NONE, jmp(J::Set, W64, K), V1, Base64, "if {d} & {himm} goto {joff}", "jset {d}, {imm}, {joff}";
    JneImm = 0x55, NONE, jmp(J::Ne, W64, K), V1, Base64, "if {d} != {himm} goto {joff}", "jne {d}, {imm}, {joff}";
    JsgtImm = 0x65, NONE, jmp(J::SGt, W64, K), V1, Base64, "if {d} s> {himm} goto {joff}", "jsgt {d}, {imm}, {joff}";
    JsgeImm = 0x75, NONE, jmp(J::SGe, W64, K), V1, Base64, "if {d} s>= {himm} goto {joff}", "jsge {d}, {imm}, {joff}";
    JltImm = 0xa5, NONE, jmp(J::Lt, W64, K), V2, Base64, "if {d} < {himm} goto {joff}", "jlt {d}, {imm}, {joff}";
    JleImm = 0xb5, NONE, jmp(J::Le, W64, K), V2, Base64, "if {d} <= {himm} goto {joff}", "jle {d}, {imm}, {joff}";
    JsltImm = 0xc5, NONE, jmp(J::SLt, W64, K), V2, Base64, "if {d} s< {himm} goto {joff}", "jslt {d}, {imm}, {joff}";
    JsleImm = 0xd5, NONE, jmp(J::SLe, W64, K), V2, Base64, "if {d} s<= {himm} goto {joff}", "jsle {d}, {imm}, {joff}";

    // Jumps (64-bit compares), register operand.
    JeqReg = 0x1d, NONE, jmp(J::Eq, W64, X), V1, Base64, "if {d} == {s} goto {joff}", "jeq {d}, {s}, {joff}";
    JgtReg = 0x2d, NONE, jmp(J::Gt, W64, X), V1, Base64, "if {d} > {s} goto {joff}", "jgt {d}, {s}, {joff}";
    JgeReg = 0x3d, NONE, jmp(J::Ge, W64, X), V1, Base64, "if {d} >= {s} goto {joff}", "jge {d}, {s}, {joff}";
    JsetReg = 0x4d, NONE, jmp(J::Set, W64, X), V1, Base64, "if {d} & {s} goto {joff}", "jset {d}, {s}, {joff}";
    JneReg = 0x5d, NONE, jmp(J::Ne, W64, X), V1, Base64, "if {d} != {s} goto {joff}", "jne {d}, {s}, {joff}";
    JsgtReg = 0x6d, NONE, jmp(J::SGt, W64, X), V1, Base64, "if {d} s> {s} goto {joff}", "jsgt {d}, {s}, {joff}";
    JsgeReg = 0x7d, NONE, jmp(J::SGe, W64, X), V1, Base64, "if {d} s>= {s} goto {joff}", "jsge {d}, {s}, {joff}";
    JltReg = 0xad, NONE, jmp(J::Lt, W64, X), V2, Base64, "if {d} < {s} goto {joff}", "jlt {d}, {s}, {joff}";
    JleReg = 0xbd, NONE, jmp(J::Le, W64, X), V2, Base64, "if {d} <= {s} goto {joff}", "jle {d}, {s}, {joff}";
    JsltReg = 0xcd, NONE, jmp(J::SLt, W64, X), V2, Base64, "if {d} s< {s} goto {joff}", "jslt {d}, {s}, {joff}";
    JsleReg = 0xdd, NONE, jmp(J::SLe, W64, X), V2, Base64, "if {d} s<= {s} goto {joff}", "jsle {d}, {s}, {joff}";

    // Calls and exit.
    Call = 0x85, src(0), call(C::Helper), V1, Base32, "call {helper}", "call {helper}";
    CallLocal = 0x85, src(1), call(C::Local), V1, Base32, "call {jimm}", "call local {jimm}";
    CallKfunc = 0x85, src(2), call(C::Kfunc), V1, Base32, "call kfunc({kfunc})", "call runtime {kfunc}";
    CallX = 0x8d, NONE, Kind::CallX, V1, Callx, "callx {d}", "call {d}";
    Exit = 0x95, NONE, Kind::Exit, V1, Base32, "exit", "exit";

    // Jumps (32-bit compares, the JMP32 class).
    Ja32 = 0x06, NONE, Kind::Ja32, V4, Base32, "gotol {jimm}", "ja32 {jimm}";
    Jeq32Imm = 0x16, NONE, jmp(J::Eq, W32, K), V3, Base32, "if {dw} == {himm} goto {joff}", "jeq32 {d}, {imm}, {joff}";
    Jgt32Imm = 0x26, NONE, jmp(J::Gt, W32, K), V3, Base32, "if {dw} > {himm} goto {joff}", "jgt32 {d}, {imm}, {joff}";
    Jge32Imm = 0x36, NONE, jmp(J::Ge, W32, K), V3, Base32, "if {dw} >= {himm} goto {joff}", "jge32 {d}, {imm}, {joff}";
    Jset32Imm = 0x46, NONE, jmp(J::Set, W32, K), V3, Base32, "if {dw} & {himm} goto {joff}", "jset32 {d}, {imm}, {joff}";
    Jne32Imm = 0x56, NONE, jmp(J::Ne, W32, K), V3, Base32, "if {dw} != {himm} goto {joff}", "jne32 {d}, {imm}, {joff}";
    Jsgt32Imm = 0x66, NONE, jmp(J::SGt, W32, K), V3, Base32, "if {dw} s> {himm} goto {joff}", "jsgt32 {d}, {imm}, {joff}";
    Jsge32Imm = 0x76, NONE, jmp(J::SGe, W32, K), V3, Base32, "if {dw} s>= {himm} goto {joff}", "jsge32 {d}, {imm}, {joff}";
    Jlt32Imm = 0xa6, NONE, jmp(J::Lt, W32, K), V3, Base32, "if {dw} < {himm} goto {joff}", "jlt32 {d}, {imm}, {joff}";
    Jle32Imm = 0xb6, NONE, jmp(J::Le, W32, K), V3, Base32, "if {dw} <= {himm} goto {joff}", "jle32 {d}, {imm}, {joff}";
    Jslt32Imm = 0xc6, NONE, jmp(J::SLt, W32, K), V3, Base32, "if {dw} s< {himm} goto {joff}", "jslt32 {d}, {imm}, {joff}";
    Jsle32Imm = 0xd6, NONE, jmp(J::SLe, W32, K), V3, Base32, "if {dw} s<= {himm} goto {joff}", "jsle32 {d}, {imm}, {joff}";
    Jeq32Reg = 0x1e, NONE, jmp(J::Eq, W32, X), V3, Base32, "if {dw} == {sw} goto {joff}", "jeq32 {d}, {s}, {joff}";
    Jgt32Reg = 0x2e, NONE, jmp(J::Gt, W32, X), V3, Base32, "if {dw} > {sw} goto {joff}", "jgt32 {d}, {s}, {joff}";
    Jge32Reg = 0x3e, NONE, jmp(J::Ge, W32, X), V3, Base32, "if {dw} >= {sw} goto {joff}", "jge32 {d}, {s}, {joff}";
    Jset32Reg = 0x4e, NONE, jmp(J::Set, W32, X), V3, Base32, "if {dw} & {sw} goto {joff}", "jset32 {d}, {s}, {joff}";
    Jne32Reg = 0x5e, NONE, jmp(J::Ne, W32, X), V3, Base32, "if {dw} != {sw} goto {joff}", "jne32 {d}, {s}, {joff}";
    Jsgt32Reg = 0x6e, NONE, jmp(J::SGt, W32, X), V3, Base32, "if {dw} s> {sw} goto {joff}", "jsgt32 {d}, {s}, {joff}";
    Jsge32Reg = 0x7e, NONE, jmp(J::SGe, W32, X), V3, Base32, "if {dw} s>= {sw} goto {joff}", "jsge32 {d}, {s}, {joff}";
    Jlt32Reg = 0xae, NONE, jmp(J::Lt, W32, X), V3, Base32, "if {dw} < {sw} goto {joff}", "jlt32 {d}, {s}, {joff}";
    Jle32Reg = 0xbe, NONE, jmp(J::Le, W32, X), V3, Base32, "if {dw} <= {sw} goto {joff}", "jle32 {d}, {s}, {joff}";
    Jslt32Reg = 0xce, NONE, jmp(J::SLt, W32, X), V3, Base32, "if {dw} s< {sw} goto {joff}", "jslt32 {d}, {s}, {joff}";
    Jsle32Reg = 0xde, NONE, jmp(J::SLe, W32, X), V3, Base32, "if {dw} s<= {sw} goto {joff}", "jsle32 {d}, {s}, {joff}";
}
