//! The few BTF questions CO-RE asks, answered exactly as libbpf answers them.
//!
//! `bpfkit-btf` has general versions of these (`resolve`, `size_of`, `member_bit_offset`), but
//! CO-RE results must be libbpf's to the bit, and libbpf differs in small ways: void is a type of
//! kind "unknown" rather than nothing, sizes are limited to 32 bits and 32 levels of typedefs and
//! arrays, and a member's offset and bitfield width come only from the member record (an INT's
//! own bit offset, the pre-`kind_flag` encoding, is not added).

use bpfkit_btf::{Btf, Kind, Member, Type, TypeId};

/// A type as libbpf sees it: `None` is void (`btf_void`, kind `BTF_KIND_UNKN`).
pub(crate) type Ty<'a> = Option<Type<'a>>;

/// Why a BTF walk failed where libbpf would loop forever or read out of bounds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Walk {
    /// A chain of modifiers or typedefs returns to itself.
    Cycle(TypeId),
    /// The size cannot be computed (`-EINVAL` from `btf__resolve_size`).
    NoSize(TypeId),
    /// The size does not fit in 32 bits (`-E2BIG`).
    TooBig(TypeId),
}

/// The type with this id (`btf__type_by_id`): void for id 0.
pub(crate) fn ty<'a>(btf: &Btf<'a>, id: TypeId) -> Ty<'a> {
    btf.get(id)
}

/// The kind, `None` for void.
pub(crate) fn kind(t: &Ty<'_>) -> Option<Kind> {
    t.as_ref().map(Type::kind)
}

/// `btf_kind_core_compat`: same kind, or both enums (ENUM and ENUM64 mix).
pub(crate) fn kind_core_compat(a: &Ty<'_>, b: &Ty<'_>) -> bool {
    kind(a) == kind(b) || (is_any_enum(a) && is_any_enum(b))
}

/// ENUM or ENUM64.
pub(crate) fn is_any_enum(t: &Ty<'_>) -> bool {
    matches!(kind(t), Some(Kind::Enum | Kind::Enum64))
}

/// STRUCT or UNION.
pub(crate) fn is_composite(t: &Ty<'_>) -> bool {
    matches!(kind(t), Some(Kind::Struct | Kind::Union))
}

/// The name's bytes (empty for anonymous types and void).
pub(crate) fn name<'a>(t: &Ty<'a>) -> &'a [u8] {
    t.as_ref().map_or(&[][..], Type::name_bytes)
}

/// `vlen` (0 for void).
pub(crate) fn vlen(t: &Ty<'_>) -> u32 {
    t.as_ref().map_or(0, Type::vlen)
}

/// The INT's 4-bit encoding and its bit offset; `(0, 0)` for other kinds.
pub(crate) fn int_encoding_offset(t: &Ty<'_>) -> (u8, u8) {
    t.as_ref()
        .and_then(Type::int)
        .map_or((0, 0), |i| (i.encoding.0, i.bit_offset))
}

/// Whether an INT says signed (`BTF_INT_SIGNED`).
pub(crate) fn int_is_signed(t: &Ty<'_>) -> bool {
    int_encoding_offset(t).0 & 1 != 0
}

/// `skip_mods_and_typedefs`: follows const, volatile, restrict, type tags and typedefs.
/// Returns the id reached and its type. libbpf loops forever on a cycle; we stop.
pub(crate) fn skip_mods_typedefs<'a>(btf: &Btf<'a>, id: TypeId) -> Result<(TypeId, Ty<'a>), Walk> {
    let mut id = id;
    // A chain through distinct types is shorter than the number of types.
    for _ in 0..=btf.type_cnt() {
        let t = ty(btf, id);
        match &t {
            Some(x) if x.kind().is_modifier() || x.kind() == Kind::Typedef => {
                id = TypeId(x.size_or_type());
            }
            _ => return Ok((id, t)),
        }
    }
    Err(Walk::Cycle(id))
}

/// libbpf's `MAX_RESOLVE_DEPTH`.
const MAX_RESOLVE_DEPTH: usize = 32;

/// `btf__resolve_size`: the size of a value of this type, through at most 32 typedefs,
/// modifiers, VARs, decl tags and arrays; the result must fit in 32 bits.
pub(crate) fn resolve_size(btf: &Btf<'_>, id: TypeId) -> Result<u32, Walk> {
    let start = id;
    let mut id = id;
    let mut nelems: u64 = 1;
    let mut size: Option<u64> = None;
    for _ in 0..MAX_RESOLVE_DEPTH {
        let Some(t) = ty(btf, id) else { break };
        match t.kind() {
            Kind::Int
            | Kind::Struct
            | Kind::Union
            | Kind::Enum
            | Kind::Enum64
            | Kind::Datasec
            | Kind::Float => {
                size = Some(u64::from(t.size_or_type()));
                break;
            }
            Kind::Ptr => {
                size = Some(u64::from(btf.ptr_size()));
                break;
            }
            Kind::Typedef
            | Kind::Volatile
            | Kind::Const
            | Kind::Restrict
            | Kind::Var
            | Kind::DeclTag
            | Kind::TypeTag => id = TypeId(t.size_or_type()),
            Kind::Array => {
                let a = t.array().unwrap_or_default();
                let n = u64::from(a.nelems);
                if nelems != 0 && n > u64::from(u32::MAX) / nelems {
                    return Err(Walk::TooBig(start));
                }
                nelems *= n;
                id = a.elem_type;
            }
            _ => return Err(Walk::NoSize(start)),
        }
    }
    let size = size.ok_or(Walk::NoSize(start))?;
    if nelems != 0 && size > u64::from(u32::MAX) / nelems {
        return Err(Walk::TooBig(start));
    }
    Ok((size * nelems) as u32)
}

/// Member `idx` of a STRUCT or UNION.
pub(crate) fn member<'a>(t: &Ty<'a>, idx: u32) -> Option<Member<'a>> {
    t.as_ref()?.members().get(idx as usize)
}

/// `btf_member_bit_offset`: the offset word, without the bitfield size under `kind_flag`.
pub(crate) fn member_bit_offset(m: &Member<'_>) -> u32 {
    m.bit_offset()
}

/// `btf_member_bitfield_size`: the width under `kind_flag`, else 0.
pub(crate) fn member_bitfield_size(m: &Member<'_>) -> u32 {
    m.bitfield_size()
}

/// The name of enumerator `idx` of an ENUM or ENUM64.
pub(crate) fn enumerator_name<'a>(t: &Ty<'a>, idx: u32) -> Option<&'a [u8]> {
    Some(t.as_ref()?.enum_values().nth(idx as usize)?.name_bytes())
}

/// libbpf's lower-case kind name (`btf_kind_str`), "void" for void.
pub(crate) fn kind_str(t: &Ty<'_>) -> &'static str {
    match kind(t) {
        None => "void",
        Some(k) => match k {
            Kind::Int => "int",
            Kind::Ptr => "ptr",
            Kind::Array => "array",
            Kind::Struct => "struct",
            Kind::Union => "union",
            Kind::Enum => "enum",
            Kind::Fwd => "fwd",
            Kind::Typedef => "typedef",
            Kind::Volatile => "volatile",
            Kind::Const => "const",
            Kind::Restrict => "restrict",
            Kind::Func => "func",
            Kind::FuncProto => "func_proto",
            Kind::Var => "var",
            Kind::Datasec => "datasec",
            Kind::Float => "float",
            Kind::DeclTag => "decl_tag",
            Kind::TypeTag => "type_tag",
            Kind::Enum64 => "enum64",
        },
    }
}

/// Text for a name that may not be UTF-8.
pub(crate) fn text(name: &[u8]) -> String {
    String::from_utf8_lossy(name).into_owned()
}
