//! [`Btf`]: a parsed BTF blob, borrowing its bytes, with an index of type records.
//!
//! Parsing is one pass over the type section that records where each type starts and checks
//! everything later reads rely on: each record fits, its kind is known, reserved bits are clear,
//! every string offset is inside the string section and every type id names a type. After that
//! the accessors cannot fail on the bytes; only questions about the graph (cycles, sizes of
//! unsized types) and text that is not UTF-8 produce errors.

use std::sync::OnceLock;

use crate::header::Header;
use crate::strings::Strings;
use crate::types::TYPE_HEADER_LEN;
use crate::{BtfError, Endian, Kind, Type, TypeId};

/// Parsed BTF: the header, the string section and an index of the type records, all borrowing
/// the input. For split BTF (a kernel module's on top of vmlinux) it also borrows its base.
#[derive(Clone)]
pub struct Btf<'data> {
    data: &'data [u8],
    header: Header,
    /// The type section.
    types: &'data [u8],
    /// Absolute offset of `types[0]`.
    types_abs: usize,
    /// Offset in `types` of each own type; type `first_id + i` is at `offsets[i]`.
    offsets: Vec<u32>,
    strings: Strings<'data>,
    first_id: u32,
    base: Option<&'data Btf<'data>>,
    /// Pointer size for sizes and alignments, decided on first use (see `Btf::ptr_size`).
    ptr_size: OnceLock<u32>,
    /// Every named type by name, built on the first [`Btf::find_indexed`].
    /// (hash of the name, id) of every named type, sorted: owned, so `Btf` stays covariant.
    names: OnceLock<Vec<(u64, TypeId)>>,
}

impl<'data> Btf<'data> {
    /// Parses a standalone BTF blob (vmlinux's, or the `.BTF` section of an object).
    pub fn parse(data: &'data [u8]) -> Result<Btf<'data>, BtfError> {
        Btf::parse_inner(data, None)
    }

    /// Parses split BTF whose type ids and string offsets continue after `base`'s.
    pub fn parse_split(data: &'data [u8], base: &'data Btf<'data>) -> Result<Btf<'data>, BtfError> {
        Btf::parse_inner(data, Some(base))
    }

    fn parse_inner(
        data: &'data [u8],
        base: Option<&'data Btf<'data>>,
    ) -> Result<Btf<'data>, BtfError> {
        let header = Header::parse(data)?;
        let strings = parse_strings(data, &header, base)?;
        let first_id = base.map_or(1, |b| b.type_cnt());
        let range = header.type_range();
        let types = &data[range.clone()];
        let offsets = index_types(types, range.start, header.endian, first_id, strings.end())?;
        Ok(Btf {
            data,
            header,
            types,
            types_abs: range.start,
            offsets,
            strings,
            first_id,
            base,
            ptr_size: OnceLock::new(),
            names: OnceLock::new(),
        })
    }

    pub(crate) fn names_cell(&self) -> &OnceLock<Vec<(u64, TypeId)>> {
        &self.names
    }

    pub(crate) fn ptr_size_cell(&self) -> &OnceLock<u32> {
        &self.ptr_size
    }

    /// The header.
    pub fn header(&self) -> &Header {
        &self.header
    }

    /// The byte order.
    pub fn endian(&self) -> Endian {
        self.header.endian
    }

    /// The whole blob as given to the parser.
    pub fn data(&self) -> &'data [u8] {
        self.data
    }

    /// The type section.
    pub fn type_section(&self) -> &'data [u8] {
        self.types
    }

    /// The kind layout section (empty when absent).
    pub fn layout_section(&self) -> &'data [u8] {
        &self.data[self.header.layout_range()]
    }

    /// Header bytes past the fields this crate knows (kept for re-encoding, not interpreted).
    pub fn header_tail(&self) -> &'data [u8] {
        &self.data[self.header.known_len() as usize..self.header.hdr_len as usize]
    }

    /// The base of split BTF.
    pub fn base(&self) -> Option<&'data Btf<'data>> {
        self.base
    }

    /// The id of this blob's first type: 1, or the base's [`Btf::type_cnt`] for split BTF.
    pub fn first_id(&self) -> TypeId {
        TypeId(self.first_id)
    }

    /// One past the last type id, base included (libbpf's `btf__type_cnt`).
    pub fn type_cnt(&self) -> u32 {
        // Fits: the parser stops with TooManyTypes before the count overflows.
        self.first_id + self.offsets.len() as u32
    }

    /// The number of types in this blob (without the base's, without void).
    pub fn own_type_count(&self) -> usize {
        self.offsets.len()
    }

    /// The string section, chained to the base's.
    pub fn strings(&self) -> &Strings<'data> {
        &self.strings
    }

    /// The string at `off` (without its NUL), or `None` past the end.
    pub fn str_bytes(&self, off: u32) -> Option<&'data [u8]> {
        self.strings.get(off)
    }

    /// The string at `off` as text.
    pub fn str(&self, off: u32) -> Result<&'data str, BtfError> {
        self.strings.text(off)
    }

    /// Calls `f` with the id, kind and name offset of every type from `from` on (the base's
    /// first for split BTF), in id order: the walk an index by name makes over all of vmlinux,
    /// reading two words of each record and building no [`Type`].
    pub fn for_each_kind_and_name_off(&self, from: TypeId, f: &mut impl FnMut(TypeId, Kind, u32)) {
        if from.0 < self.first_id {
            if let Some(base) = self.base {
                base.for_each_kind_and_name_off(from, f);
            }
        }
        let e = self.header.endian;
        let skip = from.0.saturating_sub(self.first_id) as usize;
        for (i, &start) in self.offsets.iter().enumerate().skip(skip) {
            let Some(head) = self.types.get(start as usize..start as usize + 8) else {
                continue;
            };
            let info = e.u32([head[4], head[5], head[6], head[7]]);
            // The parser accepted only known kinds.
            let Some(kind) = Kind::from_u8(((info >> 24) & 0x7f) as u8) else {
                continue;
            };
            let name_off = e.u32([head[0], head[1], head[2], head[3]]);
            f(TypeId(self.first_id + i as u32), kind, name_off);
        }
    }

    /// The kind and name offset of type `id` alone: what an index by name reads of every
    /// type, without building a [`Type`].
    #[inline]
    pub fn kind_and_name_off(&self, id: TypeId) -> Option<(Kind, u32)> {
        if id.0 < self.first_id {
            return self.base?.kind_and_name_off(id);
        }
        let start = *self.offsets.get((id.0 - self.first_id) as usize)? as usize;
        let head = self.types.get(start..start + 8)?;
        let e = self.header.endian;
        let info = e.u32([head[4], head[5], head[6], head[7]]);
        let kind = Kind::from_u8(((info >> 24) & 0x7f) as u8)?;
        Some((kind, e.u32([head[0], head[1], head[2], head[3]])))
    }

    /// The type with this id; `None` for void and ids past the end.
    #[inline]
    pub fn get(&self, id: TypeId) -> Option<Type<'data>> {
        if id.0 < self.first_id {
            return self.base?.get(id);
        }
        let index = (id.0 - self.first_id) as usize;
        let start = *self.offsets.get(index)? as usize;
        let end = self
            .offsets
            .get(index + 1)
            .map_or(self.types.len(), |&o| o as usize);
        let record = self.types.get(start..end)?;
        let e = self.header.endian;
        let info = e.u32_at(record, 4);
        // The parser accepted only known kinds; the fallback is unreachable.
        let kind = Kind::from_u8(((info >> 24) & 0x7f) as u8).unwrap_or(Kind::Int);
        Some(Type {
            id,
            kind,
            offset: self.types_abs + start,
            name_off: e.u32_at(record, 0),
            info,
            size_or_type: e.u32_at(record, 8),
            record,
            endian: e,
            strings: self.strings,
        })
    }

    /// The type with this id, or [`BtfError::NoSuchType`] for void and ids past the end.
    pub fn type_by_id(&self, id: TypeId) -> Result<Type<'data>, BtfError> {
        self.get(id).ok_or(BtfError::NoSuchType { type_id: id.0 })
    }

    /// This blob's own types in id order (for split BTF, not the base's).
    pub fn types(&self) -> Types<'_, 'data> {
        Types {
            btf: self,
            next: self.first_id,
            end: self.type_cnt(),
        }
    }

    /// Every type from id 1, the base's first for split BTF.
    pub fn all_types(&self) -> Types<'_, 'data> {
        Types {
            btf: self,
            next: 1,
            end: self.type_cnt(),
        }
    }

    /// Pointer size from the C `long` type, as libbpf guesses it for BTF not read from an ELF
    /// file: the size of the first 4- or 8-byte INT named like `long` or `unsigned long`.
    pub fn guess_ptr_size(&self) -> Option<u32> {
        const LONG_NAMES: [&[u8]; 11] = [
            b"long",
            b"long int",
            b"int long",
            b"unsigned long",
            b"long unsigned",
            b"unsigned long int",
            b"unsigned int long",
            b"long unsigned int",
            b"long int unsigned",
            b"int unsigned long",
            b"int long unsigned",
        ];
        self.all_types().find_map(|t| {
            let size = t.size()?;
            (t.kind() == Kind::Int
                && (size == 4 || size == 8)
                && LONG_NAMES.contains(&t.name_bytes()))
            .then_some(size)
        })
    }
}

impl std::fmt::Debug for Btf<'_> {
    /// A summary: the index and the sections are too large to print usefully.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Btf")
            .field("header", &self.header)
            .field("first_id", &self.first_id)
            .field("types", &self.offsets.len())
            .field("split", &self.base.is_some())
            .finish()
    }
}

/// Iterator over types in id order.
#[derive(Clone, Debug)]
pub struct Types<'a, 'data> {
    btf: &'a Btf<'data>,
    next: u32,
    end: u32,
}

impl<'data> Iterator for Types<'_, 'data> {
    type Item = Type<'data>;

    fn next(&mut self) -> Option<Type<'data>> {
        if self.next >= self.end {
            return None;
        }
        let t = self.btf.get(TypeId(self.next));
        self.next += 1;
        t
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        let n = (self.end - self.next) as usize;
        (n, Some(n))
    }
}

impl ExactSizeIterator for Types<'_, '_> {}

/// Checks the string section: NUL-terminated, starting with "" unless split, offsets fit u32.
fn parse_strings<'data>(
    data: &'data [u8],
    header: &Header,
    base: Option<&'data Btf<'data>>,
) -> Result<Strings<'data>, BtfError> {
    let range = header.str_range();
    let own = &data[range.clone()];
    let bad = |offset, reason| BtfError::BadStringSection { offset, reason };
    if own.is_empty() {
        // Split BTF may add no strings at all; standalone BTF needs at least "".
        if base.is_none() {
            return Err(bad(
                range.start,
                "empty (it must hold at least the empty string)",
            ));
        }
    } else {
        if own[own.len() - 1] != 0 {
            return Err(bad(range.end - 1, "last string is not NUL-terminated"));
        }
        if base.is_none() && own[0] != 0 {
            return Err(bad(range.start, "does not start with the empty string"));
        }
    }
    let base_end = base.map_or(0, |b| u64::from(b.strings.end()));
    if base_end + own.len() as u64 > u64::from(u32::MAX) {
        return Err(bad(range.start, "offsets do not fit in 32 bits"));
    }
    Ok(Strings::new(own, range.start, base.map(|b| &b.strings)))
}

/// The one pass over the type section: offsets of each record, everything checked.
///
/// This pass runs over all of vmlinux (5 MB, 150 000 types, about a million members) whenever
/// a kernel's BTF is opened, so it is written for speed: the byte order is a type parameter, and
/// the elements of a record (members, enumerators, parameters) are checked by their largest
/// string offset and type id, the offending element being looked for only on failure.
fn index_types(
    types: &[u8],
    abs: usize,
    e: Endian,
    first_id: u32,
    str_end: u32,
) -> Result<Vec<u32>, BtfError> {
    match e {
        Endian::Little => index_types_in::<false>(types, abs, first_id, str_end),
        Endian::Big => index_types_in::<true>(types, abs, first_id, str_end),
    }
}

/// The `u32` at the start of `b` (at least four bytes), big-endian when `BIG`.
#[inline(always)]
fn read_u32<const BIG: bool>(b: &[u8]) -> u32 {
    let w = [b[0], b[1], b[2], b[3]];
    if BIG {
        u32::from_be_bytes(w)
    } else {
        u32::from_le_bytes(w)
    }
}

/// The largest `u32` at byte `at` of the `step`-byte elements of `elems`, and the index of
/// the first element holding it (`(0, 0)` when there are none).
#[inline(always)]
fn max_u32<const BIG: bool>(elems: &[u8], step: usize, at: usize) -> (u32, usize) {
    let mut max = 0;
    let mut which = 0;
    for (i, el) in elems.chunks_exact(step).enumerate() {
        let v = read_u32::<BIG>(&el[at..]);
        if v > max {
            max = v;
            which = i;
        }
    }
    (max, which)
}

fn index_types_in<const BIG: bool>(
    types: &[u8],
    abs: usize,
    first_id: u32,
    str_end: u32,
) -> Result<Vec<u32>, BtfError> {
    // vmlinux averages ~21 bytes a record; over-reserving a little beats regrowing.
    let mut offsets = Vec::with_capacity(types.len() / 16 + 1);
    // The largest type id referenced and where, checked once the count is known.
    let mut max_ref = 0u32;
    let mut max_ref_at = 0usize;
    let mut note_ref = |id: u32, at: usize| {
        if id > max_ref {
            max_ref = id;
            max_ref_at = at;
        }
    };
    let check_str = |str_off: u32, at: usize| {
        if str_off >= str_end {
            Err(BtfError::StringOutOfRange {
                offset: at,
                str_off,
                str_len: str_end,
            })
        } else {
            Ok(())
        }
    };
    let mut off = 0usize;
    let mut id = first_id;
    while off < types.len() {
        let at = abs + off;
        let left = types.len() - off;
        if left < TYPE_HEADER_LEN {
            return Err(BtfError::Truncated {
                offset: at,
                what: "type header",
                need: TYPE_HEADER_LEN as u64,
                have: left as u64,
            });
        }
        let head = &types[off..];
        let name_off = read_u32::<BIG>(head);
        let info = read_u32::<BIG>(&head[4..]);
        let size_or_type = read_u32::<BIG>(&head[8..]);
        check_str(name_off, at)?;
        let kind_num = ((info >> 24) & 0x7f) as u8;
        let kind = Kind::from_u8(kind_num).ok_or(BtfError::UnknownKind {
            offset: at,
            type_id: id,
            kind: kind_num,
        })?;
        let vlen = info & 0x00ff_ffff;
        let reserved = |what| BtfError::ReservedBits {
            offset: at + 4,
            type_id: id,
            what,
        };
        if info >> 31 != 0 && !kind.uses_kind_flag() {
            return Err(reserved("kind_flag is set on a kind that does not use it"));
        }
        if vlen != 0 && !kind.has_members() && kind != Kind::Func {
            return Err(reserved("vlen is set on a kind without members"));
        }
        let layout = kind.layout();
        let need = TYPE_HEADER_LEN as u64
            + u64::from(layout.info_size)
            + u64::from(vlen) * u64::from(layout.elem_size);
        if need > left as u64 {
            return Err(if layout.elem_size != 0 && vlen != 0 {
                BtfError::VlenTooLarge {
                    offset: at,
                    type_id: id,
                    vlen,
                    need,
                    have: left as u64,
                }
            } else {
                BtfError::Truncated {
                    offset: at,
                    what: "type record",
                    need,
                    have: left as u64,
                }
            });
        }
        let rec = &types[off + TYPE_HEADER_LEN..off + need as usize];
        let rec_at = at + TYPE_HEADER_LEN;
        // Elements: each one's string offset at `name`, type id at `ty` (when it has them).
        let (step, name_at, type_at): (usize, Option<usize>, Option<usize>) = match kind {
            Kind::Int if read_u32::<BIG>(rec) & 0xf000_ff00 != 0 => {
                return Err(BtfError::ReservedBits {
                    offset: rec_at,
                    type_id: id,
                    what: "INT data has bits 8-15 or 28-31 set",
                });
            }
            Kind::Fwd if size_or_type != 0 => {
                return Err(BtfError::ReservedBits {
                    offset: at + 8,
                    type_id: id,
                    what: "FWD has a non-zero type",
                });
            }
            Kind::Array => {
                note_ref(read_u32::<BIG>(rec), rec_at);
                note_ref(read_u32::<BIG>(&rec[4..]), rec_at + 4);
                (0, None, None)
            }
            Kind::Struct | Kind::Union => (12, Some(0), Some(4)),
            Kind::Enum | Kind::Enum64 => (layout.elem_size as usize, Some(0), None),
            Kind::FuncProto => (8, Some(0), Some(4)),
            Kind::Datasec => (12, None, Some(0)),
            _ => (0, None, None),
        };
        if step != 0 {
            if let Some(name_at) = name_at {
                if max_u32::<BIG>(rec, step, name_at).0 >= str_end {
                    // Report the first bad one.
                    for (i, el) in rec.chunks_exact(step).enumerate() {
                        check_str(read_u32::<BIG>(&el[name_at..]), rec_at + i * step + name_at)?;
                    }
                }
            }
            if let Some(type_at) = type_at {
                let (max, i) = max_u32::<BIG>(rec, step, type_at);
                note_ref(max, rec_at + i * step + type_at);
            }
        }
        if kind.has_type() {
            note_ref(size_or_type, at + 8);
        }
        offsets.push(off as u32);
        off += need as usize;
        id = id
            .checked_add(1)
            .ok_or(BtfError::TooManyTypes { offset: abs + off })?;
    }
    if max_ref >= id {
        return Err(BtfError::TypeIdOutOfRange {
            offset: max_ref_at,
            type_id: max_ref,
            last_id: id - 1,
        });
    }
    Ok(offsets)
}
