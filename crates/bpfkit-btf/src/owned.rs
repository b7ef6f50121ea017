//! Types in owned form: what the builder holds and the encoder writes.
//!
//! Every field of a record is kept (names as string offsets, member offsets as the raw word),
//! so a parsed type converts to a [`BtfType`] and back to the same bytes. The parser rejects
//! the bits the format reserves, so there is nothing else to keep.

use crate::{Array, Int, Kind, Linkage, Type, TypeId, TypeView, VarSecinfo};

/// One type, owned.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BtfType {
    /// String offset of the name (0: anonymous).
    pub name_off: u32,
    /// `kind_flag`: bitfield offsets (struct/union), signed (enums), union (fwd), and whatever
    /// future tag kinds use it for.
    pub kind_flag: bool,
    /// The kind and its data.
    pub data: TypeData,
}

/// The kind-specific part of an owned type.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum TypeData {
    /// INT (its size is in [`Int::size`]).
    Int(Int),
    /// PTR to the type.
    Ptr(TypeId),
    /// ARRAY.
    Array(Array),
    /// STRUCT of `size` bytes.
    Struct {
        /// Size in bytes.
        size: u32,
        /// Members.
        members: Vec<BtfMember>,
    },
    /// UNION of `size` bytes.
    Union {
        /// Size in bytes.
        size: u32,
        /// Members.
        members: Vec<BtfMember>,
    },
    /// ENUM with 32-bit values.
    Enum {
        /// Size in bytes.
        size: u32,
        /// Values.
        values: Vec<BtfEnumValue>,
    },
    /// FWD (`kind_flag`: union).
    Fwd,
    /// TYPEDEF of the type.
    Typedef(TypeId),
    /// VOLATILE of the type.
    Volatile(TypeId),
    /// CONST of the type.
    Const(TypeId),
    /// RESTRICT of the type.
    Restrict(TypeId),
    /// FUNC.
    Func {
        /// Its FUNC_PROTO.
        proto: TypeId,
        /// Linkage (stored in vlen, so at most 24 bits).
        linkage: Linkage,
    },
    /// FUNC_PROTO.
    FuncProto {
        /// Return type.
        ret: TypeId,
        /// Parameters.
        params: Vec<BtfParam>,
    },
    /// VAR.
    Var {
        /// The variable's type.
        type_id: TypeId,
        /// Linkage.
        linkage: Linkage,
    },
    /// DATASEC.
    Datasec {
        /// Size in bytes.
        size: u32,
        /// Variables.
        vars: Vec<VarSecinfo>,
    },
    /// FLOAT.
    Float {
        /// Size in bytes.
        size: u32,
    },
    /// DECL_TAG.
    DeclTag {
        /// The tagged type.
        type_id: TypeId,
        /// -1, or the member/parameter index.
        component_idx: i32,
    },
    /// TYPE_TAG of the type.
    TypeTag(TypeId),
    /// ENUM64.
    Enum64 {
        /// Size in bytes.
        size: u32,
        /// Values.
        values: Vec<BtfEnum64Value>,
    },
}

/// An owned `struct btf_member`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BtfMember {
    /// String offset of the name.
    pub name_off: u32,
    /// The member's type.
    pub type_id: TypeId,
    /// The offset word: bit offset, with the bitfield size in bits 24-31 under `kind_flag`.
    pub offset: u32,
}

/// An owned `struct btf_enum`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BtfEnumValue {
    /// String offset of the name.
    pub name_off: u32,
    /// The value's 32 bits (read as signed when the enum's `kind_flag` is set).
    pub value: u32,
}

/// An owned `struct btf_enum64`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BtfEnum64Value {
    /// String offset of the name.
    pub name_off: u32,
    /// The value's 64 bits.
    pub value: u64,
}

/// An owned `struct btf_param`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BtfParam {
    /// String offset of the name.
    pub name_off: u32,
    /// The parameter's type.
    pub type_id: TypeId,
}

impl TypeData {
    /// The kind.
    pub fn kind(&self) -> Kind {
        match self {
            TypeData::Int(_) => Kind::Int,
            TypeData::Ptr(_) => Kind::Ptr,
            TypeData::Array(_) => Kind::Array,
            TypeData::Struct { .. } => Kind::Struct,
            TypeData::Union { .. } => Kind::Union,
            TypeData::Enum { .. } => Kind::Enum,
            TypeData::Fwd => Kind::Fwd,
            TypeData::Typedef(_) => Kind::Typedef,
            TypeData::Volatile(_) => Kind::Volatile,
            TypeData::Const(_) => Kind::Const,
            TypeData::Restrict(_) => Kind::Restrict,
            TypeData::Func { .. } => Kind::Func,
            TypeData::FuncProto { .. } => Kind::FuncProto,
            TypeData::Var { .. } => Kind::Var,
            TypeData::Datasec { .. } => Kind::Datasec,
            TypeData::Float { .. } => Kind::Float,
            TypeData::DeclTag { .. } => Kind::DeclTag,
            TypeData::TypeTag(_) => Kind::TypeTag,
            TypeData::Enum64 { .. } => Kind::Enum64,
        }
    }
}

impl BtfType {
    /// The owned copy of a parsed type.
    pub fn from_type(t: &Type<'_>) -> BtfType {
        let members = |m: crate::Members<'_>| {
            m.map(|m| BtfMember {
                name_off: m.name_offset(),
                type_id: m.type_id(),
                offset: m.raw_offset(),
            })
            .collect()
        };
        let data = match t.view() {
            TypeView::Int(i) => TypeData::Int(i),
            TypeView::Ptr(r) => TypeData::Ptr(r),
            TypeView::Array(a) => TypeData::Array(a),
            TypeView::Struct { size, members: m } => TypeData::Struct {
                size,
                members: members(m),
            },
            TypeView::Union { size, members: m } => TypeData::Union {
                size,
                members: members(m),
            },
            TypeView::Enum { size, values, .. } => TypeData::Enum {
                size,
                values: values
                    .map(|v| BtfEnumValue {
                        name_off: v.name_offset(),
                        value: v.lo32(),
                    })
                    .collect(),
            },
            TypeView::Enum64 { size, values, .. } => TypeData::Enum64 {
                size,
                values: values
                    .map(|v| BtfEnum64Value {
                        name_off: v.name_offset(),
                        value: v.bits(),
                    })
                    .collect(),
            },
            TypeView::Fwd { .. } => TypeData::Fwd,
            TypeView::Typedef(r) => TypeData::Typedef(r),
            TypeView::Volatile(r) => TypeData::Volatile(r),
            TypeView::Const(r) => TypeData::Const(r),
            TypeView::Restrict(r) => TypeData::Restrict(r),
            TypeView::Func { proto, linkage } => TypeData::Func { proto, linkage },
            TypeView::FuncProto { ret, params } => TypeData::FuncProto {
                ret,
                params: params
                    .map(|p| BtfParam {
                        name_off: p.name_offset(),
                        type_id: p.type_id(),
                    })
                    .collect(),
            },
            TypeView::Var(v) => TypeData::Var {
                type_id: v.type_id,
                linkage: v.linkage,
            },
            TypeView::Datasec { size, vars } => TypeData::Datasec {
                size,
                vars: vars.collect(),
            },
            TypeView::Float { size } => TypeData::Float { size },
            TypeView::DeclTag(d) => TypeData::DeclTag {
                type_id: d.type_id,
                component_idx: d.component_idx,
            },
            TypeView::TypeTag(r) => TypeData::TypeTag(r),
        };
        BtfType {
            name_off: t.name_offset(),
            kind_flag: t.kind_flag(),
            data,
        }
    }

    /// The kind.
    pub fn kind(&self) -> Kind {
        self.data.kind()
    }
}
