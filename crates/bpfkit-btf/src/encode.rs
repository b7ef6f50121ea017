//! [`BtfBuilder`]: owned BTF that can be edited and encoded.
//!
//! The encoder writes libbpf's layout: header, types at offset 0, the optional layout section,
//! then strings. Everything pahole, clang and libbpf produce uses that layout, so a blob they
//! wrote goes through [`BtfBuilder::from_btf`] and [`BtfBuilder::encode`] unchanged, byte for
//! byte (header bytes past the known fields and the layout section are kept verbatim).

use crate::header::{Header, LAYOUT_HEADER_LEN, MIN_HEADER_LEN, VERSION};
use crate::owned::{BtfEnum64Value, BtfEnumValue, BtfMember, BtfParam, BtfType, TypeData};
use crate::{Array, Btf, Endian, Int, IntEncoding, Linkage, StringTable, TypeId, VarSecinfo};

/// Owned BTF: types and a deduplicating string table, ready to encode.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BtfBuilder {
    endian: Endian,
    hdr_len: u32,
    /// Header bytes past the fields this crate writes, up to `hdr_len`.
    header_tail: Vec<u8>,
    layout: Vec<u8>,
    strings: StringTable,
    types: Vec<BtfType>,
    first_id: u32,
}

impl Default for BtfBuilder {
    fn default() -> Self {
        BtfBuilder::new()
    }
}

impl BtfBuilder {
    /// Empty little-endian BTF: no types, the string table holding "".
    pub fn new() -> BtfBuilder {
        BtfBuilder {
            endian: Endian::Little,
            hdr_len: MIN_HEADER_LEN,
            header_tail: Vec::new(),
            layout: Vec::new(),
            strings: StringTable::new(),
            types: Vec::new(),
            first_id: 1,
        }
    }

    /// Empty split BTF on top of `base`: ids and string offsets continue after the base's.
    ///
    /// Strings are deduplicated among the split part's own strings only.
    pub fn new_split(base: &Btf<'_>) -> BtfBuilder {
        BtfBuilder {
            endian: base.endian(),
            strings: StringTable::new_split(base.strings().end()),
            first_id: base.type_cnt(),
            ..BtfBuilder::new()
        }
    }

    /// The owned copy of parsed BTF (its own types and strings; for split BTF not the base's).
    pub fn from_btf(btf: &Btf<'_>) -> BtfBuilder {
        let s = btf.strings();
        BtfBuilder {
            endian: btf.endian(),
            hdr_len: btf.header().hdr_len,
            header_tail: btf.header_tail().to_vec(),
            layout: btf.layout_section().to_vec(),
            strings: StringTable::from_bytes(s.own_bytes().to_vec(), s.own_start()),
            types: btf.types().map(|t| BtfType::from_type(&t)).collect(),
            first_id: btf.first_id().0,
        }
    }

    /// Sets the byte order of the encoding.
    pub fn set_endian(&mut self, endian: Endian) {
        self.endian = endian;
    }

    /// The byte order of the encoding.
    pub fn endian(&self) -> Endian {
        self.endian
    }

    /// The string table.
    pub fn strings(&self) -> &StringTable {
        &self.strings
    }

    /// The types, in id order from [`BtfBuilder::first_id`].
    pub fn types(&self) -> &[BtfType] {
        &self.types
    }

    /// The types, to edit in place.
    pub fn types_mut(&mut self) -> &mut Vec<BtfType> {
        &mut self.types
    }

    /// The id of the first type (1, or after the base's for split BTF).
    pub fn first_id(&self) -> TypeId {
        TypeId(self.first_id)
    }

    /// One past the last type id.
    pub fn type_cnt(&self) -> u32 {
        self.first_id + self.types.len() as u32
    }

    /// The type with this id, if it is one of the builder's.
    pub fn type_by_id(&self, id: TypeId) -> Option<&BtfType> {
        self.types.get(id.0.checked_sub(self.first_id)? as usize)
    }

    /// The offset of `s` in the string table, adding it once.
    pub fn add_str(&mut self, s: &str) -> u32 {
        self.strings.add(s)
    }

    /// Appends a type and returns its id.
    pub fn add_type(&mut self, t: BtfType) -> TypeId {
        self.types.push(t);
        TypeId(self.type_cnt() - 1)
    }

    fn add(&mut self, name: &str, kind_flag: bool, data: TypeData) -> TypeId {
        let name_off = self.add_str(name);
        self.add_type(BtfType {
            name_off,
            kind_flag,
            data,
        })
    }

    /// Adds an INT of `size` bytes and `size * 8` bits.
    pub fn add_int(&mut self, name: &str, size: u32, encoding: IntEncoding) -> TypeId {
        let bits = size.saturating_mul(8).min(255) as u8;
        self.add(
            name,
            false,
            TypeData::Int(Int {
                size,
                encoding,
                bit_offset: 0,
                bits,
            }),
        )
    }

    /// Adds a FLOAT.
    pub fn add_float(&mut self, name: &str, size: u32) -> TypeId {
        self.add(name, false, TypeData::Float { size })
    }

    /// Adds a PTR to `to`.
    pub fn add_ptr(&mut self, to: TypeId) -> TypeId {
        self.add("", false, TypeData::Ptr(to))
    }

    /// Adds a CONST of `of`.
    pub fn add_const(&mut self, of: TypeId) -> TypeId {
        self.add("", false, TypeData::Const(of))
    }

    /// Adds a VOLATILE of `of`.
    pub fn add_volatile(&mut self, of: TypeId) -> TypeId {
        self.add("", false, TypeData::Volatile(of))
    }

    /// Adds a RESTRICT of `of`.
    pub fn add_restrict(&mut self, of: TypeId) -> TypeId {
        self.add("", false, TypeData::Restrict(of))
    }

    /// Adds a TYPEDEF `name` of `of`.
    pub fn add_typedef(&mut self, name: &str, of: TypeId) -> TypeId {
        self.add(name, false, TypeData::Typedef(of))
    }

    /// Adds a TYPE_TAG `tag` on `of`.
    pub fn add_type_tag(&mut self, tag: &str, of: TypeId) -> TypeId {
        self.add(tag, false, TypeData::TypeTag(of))
    }

    /// Adds a DECL_TAG `tag` on `of` (component -1: the declaration itself).
    pub fn add_decl_tag(&mut self, tag: &str, of: TypeId, component_idx: i32) -> TypeId {
        self.add(
            tag,
            false,
            TypeData::DeclTag {
                type_id: of,
                component_idx,
            },
        )
    }

    /// Adds an ARRAY of `nelems` elements.
    pub fn add_array(&mut self, elem_type: TypeId, index_type: TypeId, nelems: u32) -> TypeId {
        self.add(
            "",
            false,
            TypeData::Array(Array {
                elem_type,
                index_type,
                nelems,
            }),
        )
    }

    /// Adds a STRUCT with plain members `(name, type, bit offset)`.
    pub fn add_struct(&mut self, name: &str, size: u32, members: &[(&str, TypeId, u32)]) -> TypeId {
        let members = self.plain_members(members);
        self.add(name, false, TypeData::Struct { size, members })
    }

    /// Adds a UNION with plain members `(name, type, bit offset)`.
    pub fn add_union(&mut self, name: &str, size: u32, members: &[(&str, TypeId, u32)]) -> TypeId {
        let members = self.plain_members(members);
        self.add(name, false, TypeData::Union { size, members })
    }

    /// Adds a STRUCT with `kind_flag` set, members `(name, type, bit offset, bitfield size)`
    /// (size 0: not a bitfield). Bit offsets must fit 24 bits, sizes 8.
    pub fn add_struct_bitfields(
        &mut self,
        name: &str,
        size: u32,
        members: &[(&str, TypeId, u32, u8)],
    ) -> TypeId {
        let members = members
            .iter()
            .map(|&(n, type_id, off, bits)| BtfMember {
                name_off: self.add_str(n),
                type_id,
                offset: (u32::from(bits) << 24) | (off & 0x00ff_ffff),
            })
            .collect();
        self.add(name, true, TypeData::Struct { size, members })
    }

    fn plain_members(&mut self, members: &[(&str, TypeId, u32)]) -> Vec<BtfMember> {
        members
            .iter()
            .map(|&(n, type_id, offset)| BtfMember {
                name_off: self.add_str(n),
                type_id,
                offset,
            })
            .collect()
    }

    /// Adds an ENUM of `size` bytes with `(name, value)` pairs; `signed` sets `kind_flag`.
    pub fn add_enum(
        &mut self,
        name: &str,
        size: u32,
        signed: bool,
        values: &[(&str, i32)],
    ) -> TypeId {
        let values = values
            .iter()
            .map(|&(n, v)| BtfEnumValue {
                name_off: self.add_str(n),
                value: v as u32,
            })
            .collect();
        self.add(name, signed, TypeData::Enum { size, values })
    }

    /// Adds an ENUM64 of `size` bytes with `(name, value bits)` pairs; `signed` sets `kind_flag`.
    pub fn add_enum64(
        &mut self,
        name: &str,
        size: u32,
        signed: bool,
        values: &[(&str, u64)],
    ) -> TypeId {
        let values = values
            .iter()
            .map(|&(n, value)| BtfEnum64Value {
                name_off: self.add_str(n),
                value,
            })
            .collect();
        self.add(name, signed, TypeData::Enum64 { size, values })
    }

    /// Adds a FWD of a struct, or of a union when `union`.
    pub fn add_fwd(&mut self, name: &str, union: bool) -> TypeId {
        self.add(name, union, TypeData::Fwd)
    }

    /// Adds a FUNC_PROTO with `(name, type)` parameters (a last void parameter means `...`).
    pub fn add_func_proto(&mut self, ret: TypeId, params: &[(&str, TypeId)]) -> TypeId {
        let params = params
            .iter()
            .map(|&(n, type_id)| BtfParam {
                name_off: self.add_str(n),
                type_id,
            })
            .collect();
        self.add("", false, TypeData::FuncProto { ret, params })
    }

    /// Adds a FUNC with its prototype.
    pub fn add_func(&mut self, name: &str, proto: TypeId, linkage: Linkage) -> TypeId {
        self.add(name, false, TypeData::Func { proto, linkage })
    }

    /// Adds a VAR.
    pub fn add_var(&mut self, name: &str, type_id: TypeId, linkage: Linkage) -> TypeId {
        self.add(name, false, TypeData::Var { type_id, linkage })
    }

    /// Adds a DATASEC.
    pub fn add_datasec(&mut self, name: &str, size: u32, vars: &[VarSecinfo]) -> TypeId {
        self.add(
            name,
            false,
            TypeData::Datasec {
                size,
                vars: vars.to_vec(),
            },
        )
    }

    /// Encodes: header, types, layout section (if any), strings.
    pub fn encode(&self) -> Vec<u8> {
        let e = self.endian;
        let mut types = Vec::with_capacity(self.types.len() * 24);
        for t in &self.types {
            encode_type(e, t, &mut types);
        }
        let hdr_len = if self.layout.is_empty() {
            self.hdr_len
        } else {
            self.hdr_len.max(LAYOUT_HEADER_LEN)
        };
        let type_len = types.len() as u32;
        let layout_len = self.layout.len() as u32;
        let header = Header {
            endian: e,
            version: VERSION,
            flags: 0,
            hdr_len,
            type_off: 0,
            type_len,
            str_off: type_len + layout_len,
            str_len: self.strings.as_bytes().len() as u32,
            layout_off: if layout_len == 0 { 0 } else { type_len },
            layout_len,
        };
        let mut out =
            Vec::with_capacity(hdr_len as usize + types.len() + self.strings.as_bytes().len());
        header.write(&mut out);
        // Unknown header bytes are kept as parsed; a longer hdr_len set without them is zeros.
        let tail_len = hdr_len.saturating_sub(header.known_len()) as usize;
        out.extend(
            self.header_tail
                .iter()
                .copied()
                .chain(std::iter::repeat(0))
                .take(tail_len),
        );
        out.extend_from_slice(&types);
        out.extend_from_slice(&self.layout);
        out.extend_from_slice(self.strings.as_bytes());
        out
    }
}

fn encode_type(e: Endian, t: &BtfType, out: &mut Vec<u8>) {
    let mut put = |v: u32| out.extend_from_slice(&e.u32_bytes(v));
    let (vlen, size_or_type) = match &t.data {
        TypeData::Int(i) => (0, i.size),
        TypeData::Ptr(r)
        | TypeData::Typedef(r)
        | TypeData::Volatile(r)
        | TypeData::Const(r)
        | TypeData::Restrict(r)
        | TypeData::TypeTag(r) => (0, r.0),
        TypeData::Array(_) => (0, 0),
        TypeData::Struct { size, members } | TypeData::Union { size, members } => {
            (members.len(), *size)
        }
        TypeData::Enum { size, values } => (values.len(), *size),
        TypeData::Enum64 { size, values } => (values.len(), *size),
        TypeData::Fwd => (0, 0),
        TypeData::Func { proto, linkage } => (linkage.to_u32() as usize, proto.0),
        TypeData::FuncProto { ret, params } => (params.len(), ret.0),
        TypeData::Var { type_id, .. } => (0, type_id.0),
        TypeData::Datasec { size, vars } => (vars.len(), *size),
        TypeData::Float { size } => (0, *size),
        TypeData::DeclTag { type_id, .. } => (0, type_id.0),
    };
    let info = (u32::from(t.kind_flag) << 31)
        | ((t.data.kind() as u32) << 24)
        | (vlen as u32 & 0x00ff_ffff);
    put(t.name_off);
    put(info);
    put(size_or_type);
    match &t.data {
        TypeData::Int(i) => put(i.word()),
        TypeData::Array(a) => {
            put(a.elem_type.0);
            put(a.index_type.0);
            put(a.nelems);
        }
        TypeData::Struct { members, .. } | TypeData::Union { members, .. } => {
            for m in members {
                put(m.name_off);
                put(m.type_id.0);
                put(m.offset);
            }
        }
        TypeData::Enum { values, .. } => {
            for v in values {
                put(v.name_off);
                put(v.value);
            }
        }
        TypeData::Enum64 { values, .. } => {
            for v in values {
                put(v.name_off);
                put(v.value as u32);
                put((v.value >> 32) as u32);
            }
        }
        TypeData::FuncProto { params, .. } => {
            for p in params {
                put(p.name_off);
                put(p.type_id.0);
            }
        }
        TypeData::Var { linkage, .. } => put(linkage.to_u32()),
        TypeData::Datasec { vars, .. } => {
            for v in vars {
                put(v.type_id.0);
                put(v.offset);
                put(v.size);
            }
        }
        TypeData::DeclTag { component_idx, .. } => put(*component_idx as u32),
        _ => {}
    }
}

impl<'data> Btf<'data> {
    /// The owned copy of this BTF ([`BtfBuilder::from_btf`]).
    pub fn to_builder(&self) -> BtfBuilder {
        BtfBuilder::from_btf(self)
    }
}
