//! The fixed-size records that follow a type's header, and the iterator over them.

use std::marker::PhantomData;

use crate::strings::Strings;
use crate::{BtfError, Endian, IntEncoding, Linkage, TypeId};

/// The word after an INT's header, decoded (`BTF_INT_ENCODING`, `_OFFSET`, `_BITS`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub struct Int {
    /// Size in bytes.
    pub size: u32,
    /// Signed, char, bool (4 bits).
    pub encoding: IntEncoding,
    /// Bit offset of the value inside its storage (`BTF_INT_OFFSET`; 0 in practice).
    pub bit_offset: u8,
    /// Number of value bits (`BTF_INT_BITS`).
    pub bits: u8,
}

impl Int {
    pub(crate) fn from_word(size: u32, word: u32) -> Int {
        Int {
            size,
            encoding: IntEncoding(((word >> 24) & 0x0f) as u8),
            bit_offset: ((word >> 16) & 0xff) as u8,
            bits: (word & 0xff) as u8,
        }
    }

    /// The word as stored after the header.
    pub fn word(&self) -> u32 {
        (u32::from(self.encoding.0 & 0x0f) << 24)
            | (u32::from(self.bit_offset) << 16)
            | u32::from(self.bits)
    }
}

/// `struct btf_array`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub struct Array {
    /// Element type.
    pub elem_type: TypeId,
    /// Index type (clang uses `__ARRAY_SIZE_TYPE__`).
    pub index_type: TypeId,
    /// Number of elements.
    pub nelems: u32,
}

/// `struct btf_var`'s linkage with the VAR's type.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Var {
    /// The variable's type.
    pub type_id: TypeId,
    /// Its linkage.
    pub linkage: Linkage,
}

/// A DECL_TAG's target.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DeclTag {
    /// The tagged type (struct, union, func, var, typedef).
    pub type_id: TypeId,
    /// -1 for the declaration itself, else the member or parameter index.
    pub component_idx: i32,
}

/// What a record decoder needs besides its bytes.
#[derive(Clone, Copy, Debug)]
pub struct RecordCtx<'data> {
    endian: Endian,
    strings: Strings<'data>,
    kind_flag: bool,
}

/// A fixed-size record after a type header.
pub trait Record<'data>: Sized {
    /// Bytes per record.
    const SIZE: usize;
    /// Decodes the record at the start of `bytes` (exactly `SIZE` long).
    #[doc(hidden)]
    fn decode(bytes: &'data [u8], offset: usize, ctx: &RecordCtx<'data>) -> Self;
}

/// The records after a type header, decoded one by one.
#[derive(Clone, Debug)]
pub struct Records<'data, R> {
    bytes: &'data [u8],
    /// Absolute offset of `bytes[0]`.
    offset: usize,
    ctx: RecordCtx<'data>,
    _record: PhantomData<R>,
}

impl<'data, R: Record<'data>> Records<'data, R> {
    pub(crate) fn new(
        bytes: &'data [u8],
        offset: usize,
        endian: Endian,
        strings: Strings<'data>,
        kind_flag: bool,
    ) -> Self {
        Records {
            bytes,
            offset,
            ctx: RecordCtx {
                endian,
                strings,
                kind_flag,
            },
            _record: PhantomData,
        }
    }

    pub(crate) fn empty(endian: Endian, strings: Strings<'data>) -> Self {
        Records::new(&[], 0, endian, strings, false)
    }

    /// The record at `index`.
    pub fn get(&self, index: usize) -> Option<R> {
        let start = index.checked_mul(R::SIZE)?;
        let bytes = self.bytes.get(start..start.checked_add(R::SIZE)?)?;
        Some(R::decode(bytes, self.offset + start, &self.ctx))
    }
}

impl<'data, R: Record<'data>> Iterator for Records<'data, R> {
    type Item = R;

    #[inline]
    fn next(&mut self) -> Option<R> {
        if self.bytes.len() < R::SIZE {
            return None;
        }
        let (head, rest) = self.bytes.split_at(R::SIZE);
        let r = R::decode(head, self.offset, &self.ctx);
        self.bytes = rest;
        self.offset += R::SIZE;
        Some(r)
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        let n = self.bytes.len() / R::SIZE;
        (n, Some(n))
    }
}

impl<'data, R: Record<'data>> ExactSizeIterator for Records<'data, R> {}

/// `struct btf_member` of a STRUCT or UNION.
#[derive(Clone, Copy, Debug)]
pub struct Member<'data> {
    name_off: u32,
    type_id: TypeId,
    raw_offset: u32,
    kind_flag: bool,
    offset: usize,
    strings: Strings<'data>,
}

impl<'data> Record<'data> for Member<'data> {
    const SIZE: usize = 12;
    fn decode(b: &'data [u8], offset: usize, ctx: &RecordCtx<'data>) -> Self {
        Member {
            name_off: ctx.endian.u32_at(b, 0),
            type_id: TypeId(ctx.endian.u32_at(b, 4)),
            raw_offset: ctx.endian.u32_at(b, 8),
            kind_flag: ctx.kind_flag,
            offset,
            strings: ctx.strings,
        }
    }
}

impl<'data> Member<'data> {
    /// String offset of the name (0 for an anonymous member).
    pub fn name_offset(&self) -> u32 {
        self.name_off
    }

    /// The name's bytes (empty when anonymous).
    pub fn name_bytes(&self) -> &'data [u8] {
        self.strings.get(self.name_off).unwrap_or_default()
    }

    /// The name (empty when anonymous); fails only if it is not UTF-8.
    pub fn name(&self) -> Result<&'data str, BtfError> {
        self.strings.text(self.name_off)
    }

    /// The member's type.
    pub fn type_id(&self) -> TypeId {
        self.type_id
    }

    /// The `offset` word as stored (with the bitfield size in bits 24-31 under `kind_flag`).
    pub fn raw_offset(&self) -> u32 {
        self.raw_offset
    }

    /// Offset of the member from the start of its struct, in bits.
    pub fn bit_offset(&self) -> u32 {
        if self.kind_flag {
            self.raw_offset & 0x00ff_ffff
        } else {
            self.raw_offset
        }
    }

    /// Width of a bitfield member in bits; 0 when it is not a bitfield, or when the struct does
    /// not set `kind_flag` (then the width is the INT's `bits`, see
    /// [`Btf::member_bitfield_size`](crate::Btf::member_bitfield_size)).
    pub fn bitfield_size(&self) -> u32 {
        if self.kind_flag {
            self.raw_offset >> 24
        } else {
            0
        }
    }

    /// Absolute byte offset of this record.
    pub fn offset(&self) -> usize {
        self.offset
    }
}

/// A raw enum record: `struct btf_enum` or `struct btf_enum64`.
#[derive(Clone, Copy, Debug)]
pub struct EnumRecord<'data> {
    name_off: u32,
    lo: u32,
    hi: u32,
    offset: usize,
    signed: bool,
    strings: Strings<'data>,
}

/// `struct btf_enum` records: 8 bytes.
#[derive(Clone, Copy, Debug)]
pub struct Enum32Record<'data>(EnumRecord<'data>);

impl<'data> Record<'data> for Enum32Record<'data> {
    const SIZE: usize = 8;
    fn decode(b: &'data [u8], offset: usize, ctx: &RecordCtx<'data>) -> Self {
        Enum32Record(EnumRecord {
            name_off: ctx.endian.u32_at(b, 0),
            lo: ctx.endian.u32_at(b, 4),
            hi: 0,
            offset,
            signed: ctx.kind_flag,
            strings: ctx.strings,
        })
    }
}

/// `struct btf_enum64` records: 12 bytes.
#[derive(Clone, Copy, Debug)]
pub struct Enum64Record<'data>(EnumRecord<'data>);

impl<'data> Record<'data> for Enum64Record<'data> {
    const SIZE: usize = 12;
    fn decode(b: &'data [u8], offset: usize, ctx: &RecordCtx<'data>) -> Self {
        Enum64Record(EnumRecord {
            name_off: ctx.endian.u32_at(b, 0),
            lo: ctx.endian.u32_at(b, 4),
            hi: ctx.endian.u32_at(b, 8),
            offset,
            signed: ctx.kind_flag,
            strings: ctx.strings,
        })
    }
}

/// One enumerator of an ENUM or ENUM64.
#[derive(Clone, Copy, Debug)]
pub struct EnumValue<'data> {
    rec: EnumRecord<'data>,
    is64: bool,
}

impl<'data> EnumValue<'data> {
    /// String offset of the name.
    pub fn name_offset(&self) -> u32 {
        self.rec.name_off
    }

    /// The name's bytes.
    pub fn name_bytes(&self) -> &'data [u8] {
        self.rec.strings.get(self.rec.name_off).unwrap_or_default()
    }

    /// The name; fails only if it is not UTF-8.
    pub fn name(&self) -> Result<&'data str, BtfError> {
        self.rec.strings.text(self.rec.name_off)
    }

    /// The value's bits: 32 of them zero-extended for ENUM, 64 for ENUM64.
    pub fn bits(&self) -> u64 {
        (u64::from(self.rec.hi) << 32) | u64::from(self.rec.lo)
    }

    /// The value read as the enum's signedness says (`kind_flag`), widened to 128 bits.
    pub fn value(&self) -> i128 {
        match (self.is64, self.rec.signed) {
            (false, false) => i128::from(self.rec.lo),
            (false, true) => i128::from(self.rec.lo as i32),
            (true, false) => i128::from(self.bits()),
            (true, true) => i128::from(self.bits() as i64),
        }
    }

    /// Whether the owning enum's `kind_flag` says signed.
    pub fn is_signed(&self) -> bool {
        self.rec.signed
    }

    /// The low 32 bits (`val` of `btf_enum`, `val_lo32` of `btf_enum64`).
    pub fn lo32(&self) -> u32 {
        self.rec.lo
    }

    /// The high 32 bits (`val_hi32`; 0 for ENUM).
    pub fn hi32(&self) -> u32 {
        self.rec.hi
    }

    /// Absolute byte offset of this record.
    pub fn offset(&self) -> usize {
        self.rec.offset
    }
}

/// The enumerators of an ENUM (8-byte records) or ENUM64 (12-byte records).
#[derive(Clone, Debug)]
pub struct EnumValues<'data> {
    inner: EnumIter<'data>,
}

#[derive(Clone, Debug)]
enum EnumIter<'data> {
    E32(Records<'data, Enum32Record<'data>>),
    E64(Records<'data, Enum64Record<'data>>),
}

impl<'data> EnumValues<'data> {
    pub(crate) fn new(records: Records<'data, Enum32Record<'data>>, is64: bool) -> Self {
        let inner = if is64 {
            EnumIter::E64(Records {
                bytes: records.bytes,
                offset: records.offset,
                ctx: records.ctx,
                _record: PhantomData,
            })
        } else {
            EnumIter::E32(records)
        };
        EnumValues { inner }
    }
}

impl<'data> Iterator for EnumValues<'data> {
    type Item = EnumValue<'data>;

    fn next(&mut self) -> Option<EnumValue<'data>> {
        match &mut self.inner {
            EnumIter::E32(r) => r.next().map(|r| EnumValue {
                rec: r.0,
                is64: false,
            }),
            EnumIter::E64(r) => r.next().map(|r| EnumValue {
                rec: r.0,
                is64: true,
            }),
        }
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        match &self.inner {
            EnumIter::E32(r) => r.size_hint(),
            EnumIter::E64(r) => r.size_hint(),
        }
    }
}

impl ExactSizeIterator for EnumValues<'_> {}

/// `struct btf_param` of a FUNC_PROTO.
#[derive(Clone, Copy, Debug)]
pub struct Param<'data> {
    name_off: u32,
    type_id: TypeId,
    offset: usize,
    strings: Strings<'data>,
}

impl<'data> Record<'data> for Param<'data> {
    const SIZE: usize = 8;
    fn decode(b: &'data [u8], offset: usize, ctx: &RecordCtx<'data>) -> Self {
        Param {
            name_off: ctx.endian.u32_at(b, 0),
            type_id: TypeId(ctx.endian.u32_at(b, 4)),
            offset,
            strings: ctx.strings,
        }
    }
}

impl<'data> Param<'data> {
    /// String offset of the name (0 when unnamed).
    pub fn name_offset(&self) -> u32 {
        self.name_off
    }

    /// The name's bytes (empty when unnamed).
    pub fn name_bytes(&self) -> &'data [u8] {
        self.strings.get(self.name_off).unwrap_or_default()
    }

    /// The name (empty when unnamed); fails only if it is not UTF-8.
    pub fn name(&self) -> Result<&'data str, BtfError> {
        self.strings.text(self.name_off)
    }

    /// The parameter's type (void for the `...` of a variadic function).
    pub fn type_id(&self) -> TypeId {
        self.type_id
    }

    /// Absolute byte offset of this record.
    pub fn offset(&self) -> usize {
        self.offset
    }
}

/// `struct btf_var_secinfo` of a DATASEC.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct VarSecinfo {
    /// The VAR (or FUNC, for `.ksyms`).
    pub type_id: TypeId,
    /// Offset in the section.
    pub offset: u32,
    /// Size in bytes.
    pub size: u32,
}

impl<'data> Record<'data> for VarSecinfo {
    const SIZE: usize = 12;
    fn decode(b: &'data [u8], _offset: usize, ctx: &RecordCtx<'data>) -> Self {
        VarSecinfo {
            type_id: TypeId(ctx.endian.u32_at(b, 0)),
            offset: ctx.endian.u32_at(b, 4),
            size: ctx.endian.u32_at(b, 8),
        }
    }
}

/// Members of a STRUCT or UNION.
pub type Members<'data> = Records<'data, Member<'data>>;
/// Parameters of a FUNC_PROTO.
pub type Params<'data> = Records<'data, Param<'data>>;
/// Variables of a DATASEC.
pub type VarSecinfos<'data> = Records<'data, VarSecinfo>;
