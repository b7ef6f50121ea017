//! The decoded instruction and its raw 8-byte slot.

use crate::kind::Kind;
use crate::reg::Reg;
use crate::table::{Opcode, Spec, TABLE};

/// One 8-byte instruction slot as laid out in memory: `opcode:8 dst:4 src:4 off:16 imm:32`,
/// little endian.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct RawInsn {
    /// The opcode byte.
    pub code: u8,
    /// The destination register field (4 bits).
    pub dst: u8,
    /// The source register field (4 bits).
    pub src: u8,
    /// The signed 16-bit offset.
    pub off: i16,
    /// The signed 32-bit immediate.
    pub imm: i32,
}

impl RawInsn {
    /// Size of a slot in bytes.
    pub const SIZE: usize = 8;

    /// Reads a slot.
    pub fn from_bytes(b: [u8; 8]) -> RawInsn {
        RawInsn {
            code: b[0],
            dst: b[1] & 0x0f,
            src: b[1] >> 4,
            off: i16::from_le_bytes([b[2], b[3]]),
            imm: i32::from_le_bytes([b[4], b[5], b[6], b[7]]),
        }
    }

    /// Writes a slot. Register fields are truncated to 4 bits.
    pub fn to_bytes(self) -> [u8; 8] {
        let off = self.off.to_le_bytes();
        let imm = self.imm.to_le_bytes();
        [
            self.code,
            (self.dst & 0x0f) | (self.src << 4),
            off[0],
            off[1],
            imm[0],
            imm[1],
            imm[2],
            imm[3],
        ]
    }
}

/// A decoded instruction.
///
/// Fields the instruction does not use as operands are zero (see [`Kind::operands`]); the field
/// that selects among instructions sharing an opcode byte (the `offset` of `sdiv`, the `imm` of an
/// atomic, the `src` of `lddw`) is implied by `opcode` and also zero here.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Insn {
    /// Which instruction.
    pub opcode: Opcode,
    /// Destination register.
    pub dst: Reg,
    /// Source register.
    pub src: Reg,
    /// Signed 16-bit offset (memory displacement or jump distance).
    pub off: i16,
    /// Signed 32-bit immediate.
    pub imm: i32,
    /// The `imm` of the second slot, for the two-slot `lddw` forms; zero otherwise.
    pub next_imm: i32,
}

impl Insn {
    /// An instruction with every operand zero.
    pub const fn new(opcode: Opcode) -> Insn {
        Insn {
            opcode,
            dst: Reg::R0,
            src: Reg::R0,
            off: 0,
            imm: 0,
            next_imm: 0,
        }
    }

    /// Sets `dst`.
    pub const fn with_dst(mut self, dst: Reg) -> Insn {
        self.dst = dst;
        self
    }

    /// Sets `src`.
    pub const fn with_src(mut self, src: Reg) -> Insn {
        self.src = src;
        self
    }

    /// Sets `off`.
    pub const fn with_off(mut self, off: i16) -> Insn {
        self.off = off;
        self
    }

    /// Sets `imm`.
    pub const fn with_imm(mut self, imm: i32) -> Insn {
        self.imm = imm;
        self
    }

    /// Sets the 64-bit immediate of an `lddw` (both `imm` halves).
    pub const fn with_imm64(mut self, value: u64) -> Insn {
        self.imm = value as u32 as i32;
        self.next_imm = (value >> 32) as u32 as i32;
        self
    }

    /// The table row of this instruction.
    pub fn spec(&self) -> &'static Spec {
        self.opcode.spec()
    }

    /// This instruction with every field it does not use set to zero, the form decoding
    /// produces. Two instructions that encode the same compare equal once canonical.
    pub fn canonical(self) -> Insn {
        let used = self.kind().operands();
        Insn {
            opcode: self.opcode,
            dst: if used.dst { self.dst } else { Reg::R0 },
            src: if used.src { self.src } else { Reg::R0 },
            off: if used.off { self.off } else { 0 },
            imm: if used.imm { self.imm } else { 0 },
            next_imm: if used.next_imm { self.next_imm } else { 0 },
        }
    }

    /// What this instruction does.
    pub fn kind(&self) -> Kind {
        self.opcode.spec().kind
    }

    /// The 64-bit immediate of an `lddw`: `imm` in the low half, `next_imm` in the high half.
    pub const fn imm64(&self) -> u64 {
        (self.imm as u32 as u64) | ((self.next_imm as u32 as u64) << 32)
    }

    /// Number of 8-byte slots: 2 for `lddw`, 1 otherwise.
    pub fn slots(&self) -> usize {
        self.opcode.slots()
    }
}

impl Opcode {
    /// The table row of this instruction.
    pub fn spec(self) -> &'static Spec {
        &TABLE[self as usize]
    }

    /// The opcode byte (shared by the rows that a selecting field tells apart, e.g. every call
    /// form is `0x85`).
    ///
    /// ```
    /// use bpfkit_isa::Opcode;
    /// assert_eq!(Opcode::Call.code(), 0x85);
    /// assert_eq!(Opcode::CallLocal.code(), 0x85);
    /// assert_eq!(Opcode::LdMapFd.code(), 0x18);
    /// ```
    pub fn code(self) -> u8 {
        self.spec().code
    }

    /// Number of 8-byte slots: 2 for `lddw`, 1 otherwise.
    pub fn slots(self) -> usize {
        if matches!(self.spec().kind, Kind::LoadImm64 { .. }) {
            2
        } else {
            1
        }
    }

    /// Every opcode, in table order.
    pub fn all() -> impl Iterator<Item = Opcode> {
        TABLE.iter().map(|spec| spec.opcode)
    }
}
