//! Decoding 8-byte slots into [`Insn`]s, and encoding them back.
//!
//! Decoding is strict, like the kernel's `check_*` passes: an unknown opcode, a value of a
//! selecting field that names no instruction, a non-zero field the instruction does not use, a
//! register past `r10`, or an `lddw` without a proper second slot is an error naming the slot.

use std::fmt;

use crate::insn::{Insn, RawInsn};
use crate::kind::Kind;
use crate::reg::Reg;
use crate::table::{COUNT, Opcode, ROWS, Select, Spec, TABLE};

/// An instruction field, as named in error messages.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Field {
    /// The opcode byte.
    Code,
    /// The `dst` register field.
    Dst,
    /// The `src` register field.
    Src,
    /// The 16-bit offset.
    Off,
    /// The 32-bit immediate.
    Imm,
    /// The immediate of the second `lddw` slot.
    NextImm,
}

impl fmt::Display for Field {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Field::Code => "opcode",
            Field::Dst => "dst",
            Field::Src => "src",
            Field::Off => "offset",
            Field::Imm => "imm",
            Field::NextImm => "second-slot imm",
        })
    }
}

/// Why a slot could not be decoded.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum DecodeErrorKind {
    /// The byte length is not a multiple of 8.
    #[error("program length {0} is not a multiple of 8 bytes")]
    TrailingBytes(usize),
    /// No instruction has this opcode byte.
    #[error("unknown opcode 0x{0:02x}")]
    UnknownOpcode(u8),
    /// The opcode byte is known, but the field that selects the instruction has no meaning.
    #[error("opcode 0x{code:02x}: {field} {value} selects no instruction")]
    UnknownSelector {
        /// The opcode byte.
        code: u8,
        /// The selecting field.
        field: Field,
        /// Its value.
        value: i64,
    },
    /// A field the instruction does not use is not zero.
    #[error("{name}: unused {field} must be 0, found {value}")]
    ReservedField {
        /// The instruction.
        name: &'static str,
        /// The field.
        field: Field,
        /// Its value.
        value: i64,
    },
    /// A register field names a register past `r10`.
    #[error("{name}: invalid {field} register r{reg}")]
    InvalidRegister {
        /// The instruction.
        name: &'static str,
        /// `dst` or `src`.
        field: Field,
        /// The register number.
        reg: u8,
    },
    /// `lddw` is the last slot of the program.
    #[error("lddw is missing its second slot")]
    TruncatedLddw,
    /// The second slot of `lddw` has something other than `imm` set.
    #[error("second slot of lddw: {field} must be 0, found {value}")]
    BadSecondSlot {
        /// The non-zero field.
        field: Field,
        /// Its value.
        value: i64,
    },
}

/// A decoding error at a slot index.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("instruction {slot}: {kind}")]
pub struct DecodeError {
    /// Index of the 8-byte slot, from 0.
    pub slot: usize,
    /// What is wrong.
    pub kind: DecodeErrorKind,
}

/// For each opcode byte, the first row in the table with that byte and how many rows share it.
/// Rows sharing a byte are adjacent in the table; `by_code` checks that at compile time.
const BY_CODE: [(u8, u8); 256] = by_code();

// Row indices are stored in a byte.
const _: () = assert!(COUNT < 256);

const fn by_code() -> [(u8, u8); 256] {
    let mut index = [(0u8, 0u8); 256];
    let mut i = 0;
    while i < COUNT {
        let code = ROWS[i].code as usize;
        let (start, count) = index[code];
        if count == 0 {
            index[code] = (i as u8, 1);
        } else {
            assert!(
                start as usize + count as usize == i,
                "rows sharing an opcode byte must be adjacent"
            );
            index[code] = (start, count + 1);
        }
        i += 1;
    }
    index
}

/// The rows whose opcode byte is `code`.
fn rows_with_code(code: u8) -> &'static [Spec] {
    let (start, count) = BY_CODE[code as usize];
    &TABLE[start as usize..start as usize + count as usize]
}

fn selected_by(spec: &Spec, raw: &RawInsn) -> bool {
    match spec.select {
        Select::None => true,
        Select::Off(v) => raw.off == v,
        Select::Imm(v) => raw.imm == v,
        Select::Src(v) => raw.src == v,
    }
}

/// Finds the row for a raw slot, or says why there is none.
fn lookup(raw: &RawInsn) -> Result<&'static Spec, DecodeErrorKind> {
    let rows = rows_with_code(raw.code);
    if rows.is_empty() {
        return Err(DecodeErrorKind::UnknownOpcode(raw.code));
    }
    rows.iter()
        .find(|spec| selected_by(spec, raw))
        .ok_or_else(|| {
            let (field, value) = match rows[0].select {
                Select::Off(_) => (Field::Off, raw.off as i64),
                Select::Imm(_) => (Field::Imm, raw.imm as i64),
                Select::Src(_) => (Field::Src, raw.src as i64),
                Select::None => unreachable!("a row without selector always matches"),
            };
            DecodeErrorKind::UnknownSelector {
                code: raw.code,
                field,
                value,
            }
        })
}

fn reg(spec: &Spec, field: Field, n: u8) -> Result<Reg, DecodeErrorKind> {
    Reg::new(n).ok_or(DecodeErrorKind::InvalidRegister {
        name: spec.name,
        field,
        reg: n,
    })
}

/// Decodes the instruction whose first slot is `first`; `second` is the next slot if any.
fn decode_slots(first: RawInsn, second: Option<RawInsn>) -> Result<Insn, DecodeErrorKind> {
    let spec = lookup(&first)?;
    let used = spec.kind.operands();
    let reserved = |field, value: i64, used: bool, selects: bool| {
        if used || selects || value == 0 {
            Ok(())
        } else {
            Err(DecodeErrorKind::ReservedField {
                name: spec.name,
                field,
                value,
            })
        }
    };
    reserved(Field::Dst, first.dst as i64, used.dst, false)?;
    reserved(
        Field::Src,
        first.src as i64,
        used.src,
        matches!(spec.select, Select::Src(_)),
    )?;
    reserved(
        Field::Off,
        first.off as i64,
        used.off,
        matches!(spec.select, Select::Off(_)),
    )?;
    reserved(
        Field::Imm,
        first.imm as i64,
        used.imm,
        matches!(spec.select, Select::Imm(_)),
    )?;

    let mut insn = Insn::new(spec.opcode);
    if used.dst {
        insn.dst = reg(spec, Field::Dst, first.dst)?;
    }
    if used.src {
        insn.src = reg(spec, Field::Src, first.src)?;
    }
    if used.off {
        insn.off = first.off;
    }
    if used.imm {
        insn.imm = first.imm;
    }
    if let Kind::LoadImm64 { .. } = spec.kind {
        let second = second.ok_or(DecodeErrorKind::TruncatedLddw)?;
        for (field, value) in [
            (Field::Code, second.code as i64),
            (Field::Dst, second.dst as i64),
            (Field::Src, second.src as i64),
            (Field::Off, second.off as i64),
        ] {
            if value != 0 {
                return Err(DecodeErrorKind::BadSecondSlot { field, value });
            }
        }
        reserved(Field::NextImm, second.imm as i64, used.next_imm, false)?;
        insn.next_imm = if used.next_imm { second.imm } else { 0 };
    }
    Ok(insn)
}

fn slot_at(bytes: &[u8], slot: usize) -> Option<RawInsn> {
    let start = slot.checked_mul(RawInsn::SIZE)?;
    let chunk = bytes.get(start..start.checked_add(RawInsn::SIZE)?)?;
    Some(RawInsn::from_bytes(chunk.try_into().ok()?))
}

impl Insn {
    /// Decodes the instruction starting at slot `slot` of `bytes`.
    ///
    /// ```
    /// use bpfkit_isa::{Insn, Opcode, Reg};
    /// let bytes = [0xb7, 0x00, 0, 0, 42, 0, 0, 0];
    /// let insn = Insn::decode(&bytes, 0).unwrap();
    /// assert_eq!(insn, Insn::new(Opcode::Mov64Imm).with_dst(Reg::R0).with_imm(42));
    /// ```
    pub fn decode(bytes: &[u8], slot: usize) -> Result<Insn, DecodeError> {
        let err = |kind| DecodeError { slot, kind };
        let first =
            slot_at(bytes, slot).ok_or_else(|| err(DecodeErrorKind::TrailingBytes(bytes.len())))?;
        decode_slots(first, slot_at(bytes, slot + 1)).map_err(err)
    }

    /// Appends the encoding of this instruction (one or two slots) to `out`.
    ///
    /// Fields the instruction does not use are written as zero.
    pub fn encode_into(&self, out: &mut Vec<u8>) {
        let spec = self.spec();
        let used = spec.kind.operands();
        let mut raw = RawInsn {
            code: spec.code,
            ..RawInsn::default()
        };
        if used.dst {
            raw.dst = self.dst.index();
        }
        if used.src {
            raw.src = self.src.index();
        }
        if used.off {
            raw.off = self.off;
        }
        if used.imm {
            raw.imm = self.imm;
        }
        match spec.select {
            Select::None => {}
            Select::Off(v) => raw.off = v,
            Select::Imm(v) => raw.imm = v,
            Select::Src(v) => raw.src = v,
        }
        out.extend_from_slice(&raw.to_bytes());
        if self.slots() == 2 {
            let next_imm = if used.next_imm { self.next_imm } else { 0 };
            out.extend_from_slice(
                &RawInsn {
                    imm: next_imm,
                    ..RawInsn::default()
                }
                .to_bytes(),
            );
        }
    }

    /// The encoding of this instruction: 8 bytes, or 16 for `lddw`.
    pub fn encode(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(16);
        self.encode_into(&mut out);
        out
    }
}

/// Iterates over the instructions of a program, yielding each with its slot index.
///
/// Stops after the first error.
#[derive(Clone, Debug)]
pub struct Decoder<'a> {
    bytes: &'a [u8],
    slot: usize,
    failed: bool,
}

impl<'a> Decoder<'a> {
    /// A decoder over `bytes`, which should hold whole 8-byte slots.
    pub fn new(bytes: &'a [u8]) -> Decoder<'a> {
        Decoder {
            bytes,
            slot: 0,
            failed: false,
        }
    }
}

impl Iterator for Decoder<'_> {
    type Item = Result<(usize, Insn), DecodeError>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.failed || self.slot * RawInsn::SIZE >= self.bytes.len() {
            return None;
        }
        let slot = self.slot;
        match Insn::decode(self.bytes, slot) {
            Ok(insn) => {
                self.slot += insn.slots();
                Some(Ok((slot, insn)))
            }
            Err(e) => {
                self.failed = true;
                Some(Err(e))
            }
        }
    }
}

/// Decodes a whole program.
///
/// ```
/// let prog = [0xb7, 0x00, 0, 0, 1, 0, 0, 0, 0x95, 0, 0, 0, 0, 0, 0, 0];
/// let insns = bpfkit_isa::decode(&prog).unwrap();
/// assert_eq!(insns.len(), 2);
/// ```
pub fn decode(bytes: &[u8]) -> Result<Vec<Insn>, DecodeError> {
    if bytes.len() % RawInsn::SIZE != 0 {
        return Err(DecodeError {
            slot: bytes.len() / RawInsn::SIZE,
            kind: DecodeErrorKind::TrailingBytes(bytes.len()),
        });
    }
    Decoder::new(bytes)
        .map(|r| r.map(|(_, insn)| insn))
        .collect()
}

/// Encodes instructions into 8-byte slots.
pub fn encode(insns: &[Insn]) -> Vec<u8> {
    let mut out = Vec::with_capacity(insns.len() * RawInsn::SIZE);
    for insn in insns {
        insn.encode_into(&mut out);
    }
    out
}

impl Opcode {
    /// The instruction with this opcode byte, when the byte alone identifies one.
    pub fn from_code(code: u8) -> Option<Opcode> {
        match rows_with_code(code) {
            [only] => Some(only.opcode),
            _ => None,
        }
    }
}

impl RawInsn {
    /// The instruction this slot names by its opcode byte and selecting field (`src` for calls
    /// and `lddw`, `off` or `imm` for others), without checking its other fields: what a
    /// loader looks at before deciding how to patch a slot.
    ///
    /// ```
    /// use bpfkit_isa::{Opcode, RawInsn};
    /// // call +3 (src = 1, BPF_PSEUDO_CALL)
    /// let slot = RawInsn::from_bytes([0x85, 0x10, 0, 0, 3, 0, 0, 0]);
    /// assert_eq!(slot.opcode(), Some(Opcode::CallLocal));
    /// assert_eq!(RawInsn::from_bytes([0x85, 0xf0, 0, 0, 0, 0, 0, 0]).opcode(), None);
    /// ```
    pub fn opcode(&self) -> Option<Opcode> {
        lookup(self).ok().map(|spec| spec.opcode)
    }

    /// Whether this is the first slot of a 64-bit immediate load (`lddw`, any pseudo form):
    /// the instruction that takes two slots.
    pub fn is_lddw(&self) -> bool {
        self.code == Opcode::LdImm64.code()
    }
}
