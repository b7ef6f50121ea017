//! Type records as lazy views over the bytes: [`Type`] for the common header, [`TypeView`] for
//! the kind-specific part, and iterators over the trailing records (members, values, ...).
//!
//! A `Type` is a few words: the decoded 12-byte header and a slice of its record. Nothing is
//! decoded until asked for, so walking a 150 000-type vmlinux costs only what is looked at.

mod records;

use std::fmt;

pub use records::{
    Array, DeclTag, EnumValue, EnumValues, Int, Member, Members, Param, Params, Record, Records,
    Var, VarSecinfo, VarSecinfos,
};

use crate::strings::Strings;
use crate::{BtfError, Endian, Kind, Linkage};

/// A type id: the 1-based position of a type in its BTF (0 is void).
///
/// In split BTF the ids of the split part continue after the base's last id.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub struct TypeId(pub u32);

impl TypeId {
    /// Id 0: `void`, which has no type record.
    pub const VOID: TypeId = TypeId(0);

    /// Whether this is void.
    pub const fn is_void(self) -> bool {
        self.0 == 0
    }
}

impl fmt::Display for TypeId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

impl From<u32> for TypeId {
    fn from(v: u32) -> Self {
        TypeId(v)
    }
}

/// Size of `struct btf_type`, the header of every type record.
pub const TYPE_HEADER_LEN: usize = 12;

/// One type record, decoded lazily.
#[derive(Clone, Copy, Debug)]
pub struct Type<'data> {
    pub(crate) id: TypeId,
    pub(crate) kind: Kind,
    pub(crate) offset: usize,
    pub(crate) name_off: u32,
    pub(crate) info: u32,
    pub(crate) size_or_type: u32,
    /// The whole record, header included.
    pub(crate) record: &'data [u8],
    pub(crate) endian: Endian,
    pub(crate) strings: Strings<'data>,
}

impl<'data> Type<'data> {
    /// The type's id.
    pub fn id(&self) -> TypeId {
        self.id
    }

    /// The kind.
    pub fn kind(&self) -> Kind {
        self.kind
    }

    /// Absolute byte offset of the record in its blob.
    pub fn offset(&self) -> usize {
        self.offset
    }

    /// The record's bytes, header included, as found in the data.
    pub fn bytes(&self) -> &'data [u8] {
        self.record
    }

    /// The string offset of the name (0 for anonymous types).
    pub fn name_offset(&self) -> u32 {
        self.name_off
    }

    /// The name's bytes (empty for anonymous types). Dumps use these, so that names that are
    /// not UTF-8 are printed as they are, as bpftool does.
    pub fn name_bytes(&self) -> &'data [u8] {
        self.strings.get(self.name_off).unwrap_or_default()
    }

    /// The name (empty for anonymous types); fails only if it is not UTF-8.
    pub fn name(&self) -> Result<&'data str, BtfError> {
        self.strings.text(self.name_off)
    }

    /// Whether the type has no name (`name_off == 0`).
    pub fn is_anon(&self) -> bool {
        self.name_off == 0
    }

    /// The raw `info` word: vlen in bits 0-23, kind in bits 24-30, kind_flag in bit 31.
    pub fn info(&self) -> u32 {
        self.info
    }

    /// `vlen`: the number of trailing records (for FUNC: its linkage).
    pub fn vlen(&self) -> u32 {
        self.info & 0x00ff_ffff
    }

    /// `kind_flag`: bitfield offsets (struct/union), signedness (enums), union (fwd).
    pub fn kind_flag(&self) -> bool {
        self.info >> 31 != 0
    }

    /// The raw third header word: a size or a type id, depending on the kind.
    pub fn size_or_type(&self) -> u32 {
        self.size_or_type
    }

    /// The size in bytes, for kinds that carry one (INT, STRUCT, UNION, ENUM, ENUM64, DATASEC,
    /// FLOAT).
    pub fn size(&self) -> Option<u32> {
        self.kind.has_size().then_some(self.size_or_type)
    }

    /// The referenced type, for kinds that carry one (PTR, TYPEDEF, the modifiers, FUNC,
    /// FUNC_PROTO's return type, VAR, DECL_TAG, TYPE_TAG).
    pub fn ref_type(&self) -> Option<TypeId> {
        self.kind.has_type().then_some(TypeId(self.size_or_type))
    }

    /// The bytes after the header.
    fn tail(&self) -> &'data [u8] {
        self.record.get(TYPE_HEADER_LEN..).unwrap_or_default()
    }

    fn u32_at(&self, off: usize) -> u32 {
        self.endian.u32_at(self.tail(), off)
    }

    fn records<R: Record<'data>>(&self) -> Records<'data, R> {
        Records::new(
            self.tail(),
            self.offset + TYPE_HEADER_LEN,
            self.endian,
            self.strings,
            self.kind_flag(),
        )
    }

    /// The INT details, if this is an INT.
    pub fn int(&self) -> Option<Int> {
        (self.kind == Kind::Int).then(|| Int::from_word(self.size_or_type, self.u32_at(0)))
    }

    /// The ARRAY details, if this is an ARRAY.
    pub fn array(&self) -> Option<Array> {
        (self.kind == Kind::Array).then(|| Array {
            elem_type: TypeId(self.u32_at(0)),
            index_type: TypeId(self.u32_at(4)),
            nelems: self.u32_at(8),
        })
    }

    /// Members of a STRUCT or UNION (empty for other kinds).
    pub fn members(&self) -> Members<'data> {
        if matches!(self.kind, Kind::Struct | Kind::Union) {
            self.records()
        } else {
            Records::empty(self.endian, self.strings)
        }
    }

    /// Values of an ENUM or ENUM64 (empty for other kinds).
    pub fn enum_values(&self) -> EnumValues<'data> {
        match self.kind {
            Kind::Enum | Kind::Enum64 => EnumValues::new(self.records(), self.kind == Kind::Enum64),
            _ => EnumValues::new(Records::empty(self.endian, self.strings), false),
        }
    }

    /// Parameters of a FUNC_PROTO (empty for other kinds).
    pub fn params(&self) -> Params<'data> {
        if self.kind == Kind::FuncProto {
            self.records()
        } else {
            Records::empty(self.endian, self.strings)
        }
    }

    /// Variables of a DATASEC (empty for other kinds).
    pub fn var_secinfos(&self) -> VarSecinfos<'data> {
        if self.kind == Kind::Datasec {
            self.records()
        } else {
            Records::empty(self.endian, self.strings)
        }
    }

    /// The linkage of a FUNC (from its vlen) or a VAR.
    pub fn linkage(&self) -> Option<Linkage> {
        match self.kind {
            Kind::Func => Some(Linkage::from_u32(self.vlen())),
            Kind::Var => Some(Linkage::from_u32(self.u32_at(0))),
            _ => None,
        }
    }

    /// The component index of a DECL_TAG (-1: the declaration itself).
    pub fn component_idx(&self) -> Option<i32> {
        (self.kind == Kind::DeclTag).then(|| self.u32_at(0) as i32)
    }

    /// The kind-specific part, decoded.
    pub fn view(&self) -> TypeView<'data> {
        let t = TypeId(self.size_or_type);
        match self.kind {
            Kind::Int => TypeView::Int(Int::from_word(self.size_or_type, self.u32_at(0))),
            Kind::Ptr => TypeView::Ptr(t),
            Kind::Array => TypeView::Array(self.array().unwrap_or_default()),
            Kind::Struct => TypeView::Struct {
                size: self.size_or_type,
                members: self.members(),
            },
            Kind::Union => TypeView::Union {
                size: self.size_or_type,
                members: self.members(),
            },
            Kind::Enum => TypeView::Enum {
                size: self.size_or_type,
                signed: self.kind_flag(),
                values: self.enum_values(),
            },
            Kind::Enum64 => TypeView::Enum64 {
                size: self.size_or_type,
                signed: self.kind_flag(),
                values: self.enum_values(),
            },
            Kind::Fwd => TypeView::Fwd {
                union: self.kind_flag(),
            },
            Kind::Typedef => TypeView::Typedef(t),
            Kind::Volatile => TypeView::Volatile(t),
            Kind::Const => TypeView::Const(t),
            Kind::Restrict => TypeView::Restrict(t),
            Kind::Func => TypeView::Func {
                proto: t,
                linkage: Linkage::from_u32(self.vlen()),
            },
            Kind::FuncProto => TypeView::FuncProto {
                ret: t,
                params: self.params(),
            },
            Kind::Var => TypeView::Var(Var {
                type_id: t,
                linkage: Linkage::from_u32(self.u32_at(0)),
            }),
            Kind::Datasec => TypeView::Datasec {
                size: self.size_or_type,
                vars: self.var_secinfos(),
            },
            Kind::Float => TypeView::Float {
                size: self.size_or_type,
            },
            Kind::DeclTag => TypeView::DeclTag(DeclTag {
                type_id: t,
                component_idx: self.u32_at(0) as i32,
            }),
            Kind::TypeTag => TypeView::TypeTag(t),
        }
    }
}

/// The kind-specific part of a type, decoded from its record.
#[derive(Clone, Debug)]
pub enum TypeView<'data> {
    /// `BTF_KIND_INT`.
    Int(Int),
    /// `BTF_KIND_PTR` to the type.
    Ptr(TypeId),
    /// `BTF_KIND_ARRAY`.
    Array(Array),
    /// `BTF_KIND_STRUCT`.
    Struct {
        /// Size in bytes.
        size: u32,
        /// The members.
        members: Members<'data>,
    },
    /// `BTF_KIND_UNION`.
    Union {
        /// Size in bytes.
        size: u32,
        /// The members.
        members: Members<'data>,
    },
    /// `BTF_KIND_ENUM`.
    Enum {
        /// Size in bytes.
        size: u32,
        /// Whether values are signed (`kind_flag`).
        signed: bool,
        /// The values.
        values: EnumValues<'data>,
    },
    /// `BTF_KIND_FWD`.
    Fwd {
        /// A forward-declared union (else struct).
        union: bool,
    },
    /// `BTF_KIND_TYPEDEF` of the type.
    Typedef(TypeId),
    /// `BTF_KIND_VOLATILE` of the type.
    Volatile(TypeId),
    /// `BTF_KIND_CONST` of the type.
    Const(TypeId),
    /// `BTF_KIND_RESTRICT` of the type.
    Restrict(TypeId),
    /// `BTF_KIND_FUNC`.
    Func {
        /// Its FUNC_PROTO.
        proto: TypeId,
        /// Its linkage.
        linkage: Linkage,
    },
    /// `BTF_KIND_FUNC_PROTO`.
    FuncProto {
        /// The return type.
        ret: TypeId,
        /// The parameters; a last one of type void means `...`.
        params: Params<'data>,
    },
    /// `BTF_KIND_VAR`.
    Var(Var),
    /// `BTF_KIND_DATASEC`.
    Datasec {
        /// Size in bytes.
        size: u32,
        /// The variables placed in it.
        vars: VarSecinfos<'data>,
    },
    /// `BTF_KIND_FLOAT`.
    Float {
        /// Size in bytes.
        size: u32,
    },
    /// `BTF_KIND_DECL_TAG`.
    DeclTag(DeclTag),
    /// `BTF_KIND_TYPE_TAG` of the type.
    TypeTag(TypeId),
    /// `BTF_KIND_ENUM64`.
    Enum64 {
        /// Size in bytes.
        size: u32,
        /// Whether values are signed (`kind_flag`).
        signed: bool,
        /// The values.
        values: EnumValues<'data>,
    },
}
