//! Matching a local spec against one candidate target type, and the three notions of type
//! compatibility libbpf uses: for fields (`bpf_core_fields_are_compat`), for type-based
//! relocations (`bpf_core_types_are_compat`) and for `TYPE_MATCHES` (`bpf_core_types_match`).
//!
//! Each function returns `Ok(true)` for a match, `Ok(false)` for none and `Err` where libbpf
//! returns a negative error, which fails the whole relocation.

use bpfkit_btf::{Btf, Kind, TypeId};

use super::Fail;
use super::btfx;
use super::name::same_essential;
use super::spec::{Accessor, MAX_LEN, Spec, is_flex_arr};

/// libbpf's recursion limits for type comparisons.
const MAX_LEVEL: i32 = 32;
const MAX_DEPTH: i32 = 32;

/// `bpf_core_spec_match`: fills `targ` with the target spec of `local` rooted at `targ_id`.
pub(crate) fn spec_match<'a>(
    local: &Spec<'a>,
    targ_btf: &'a Btf<'a>,
    targ_id: TypeId,
    targ: &mut Spec<'a>,
) -> Result<bool, Fail> {
    *targ = Spec::empty(targ_btf, targ_id, local.kind);
    let kind = local.kind;
    if kind.is_type_based() {
        return if kind == bpfkit_uapi::CoreReloKind::TYPE_MATCHES {
            types_match(local.btf, local.root, targ_btf, targ_id, false, MAX_LEVEL)
        } else {
            types_are_compat(local.btf, local.root, targ_btf, targ_id, MAX_LEVEL)
        };
    }
    if kind.is_enumval_based() {
        return enumval_match(local, targ_btf, targ_id, targ);
    }
    if !kind.is_field_based() {
        return Err(Fail::UnknownKind);
    }
    let mut targ_id = targ_id;
    for (i, la) in local.acc.iter().enumerate() {
        let (id, t) = btfx::skip_mods_typedefs(targ_btf, targ_id)?;
        targ_id = id;
        if la.name.is_some() {
            match match_member(local.btf, la, targ_btf, targ_id, targ)? {
                Some(next) => targ_id = next,
                None => return Ok(false),
            }
        } else {
            // The first accessor indexes the root itself; later ones need an array.
            if i > 0 {
                let Some(a) = t.as_ref().and_then(|t| t.array()) else {
                    return Ok(false);
                };
                let flex = is_flex_arr(targ_btf, targ.acc.get(i - 1), a.nelems);
                if !flex && la.idx >= a.nelems {
                    return Ok(false);
                }
                targ_id = btfx::skip_mods_typedefs(targ_btf, a.elem_type)?.0;
            }
            if targ.raw.len() == MAX_LEN {
                return Err(Fail::TooLong);
            }
            targ.acc.push(Accessor {
                type_id: targ_id,
                idx: la.idx,
                name: None,
            });
            targ.raw.push(la.idx);
            let size = btfx::resolve_size(targ_btf, targ_id)?;
            targ.add_elems(la.idx, size);
        }
    }
    Ok(true)
}

/// An enumerator of the target enum whose essential name is the local enumerator's.
fn enumval_match<'a>(
    local: &Spec<'a>,
    targ_btf: &'a Btf<'a>,
    targ_id: TypeId,
    targ: &mut Spec<'a>,
) -> Result<bool, Fail> {
    let (targ_id, t) = btfx::skip_mods_typedefs(targ_btf, targ_id)?;
    if !btfx::is_any_enum(&t) {
        return Ok(false);
    }
    let local_name = local.acc.first().and_then(|a| a.name).unwrap_or_default();
    let Some(t) = t else { return Ok(false) };
    for (i, e) in t.enum_values().enumerate() {
        if same_essential(local_name, e.name_bytes()) {
            targ.acc.push(Accessor {
                type_id: targ_id,
                idx: i as u32,
                name: Some(e.name_bytes()),
            });
            targ.raw.push(i as u32);
            return Ok(true);
        }
    }
    Ok(false)
}

/// `bpf_core_match_member`: finds the local named member in the target composite, looking
/// through anonymous members, keeping the target's low-level spec and bit offset as it goes.
/// Returns the matched member's type.
///
/// Like libbpf, a name that matches with an incompatible type ends the search *without*
/// undoing the speculative step, so a later same-named member (possible only in malformed
/// BTF) would see the same state libbpf's does.
fn match_member<'a>(
    local_btf: &'a Btf<'a>,
    local_acc: &Accessor<'a>,
    targ_btf: &'a Btf<'a>,
    targ_id: TypeId,
    spec: &mut Spec<'a>,
) -> Result<Option<TypeId>, Fail> {
    let (targ_id, tt) = btfx::skip_mods_typedefs(targ_btf, targ_id)?;
    if !btfx::is_composite(&tt) {
        return Ok(None);
    }
    let local_t = btfx::ty(local_btf, local_acc.type_id);
    let Some(local_m) = btfx::member(&local_t, local_acc.idx) else {
        return Err(Fail::Invalid("local accessor names no member"));
    };
    let local_name = local_m.name_bytes();
    let Some(tt) = tt else { return Ok(None) };
    for (i, m) in tt.members().enumerate() {
        let bit_offset = btfx::member_bit_offset(&m);
        if spec.raw.len() == MAX_LEN {
            return Err(Fail::TooLong);
        }
        spec.bit_offset = spec.bit_offset.wrapping_add(bit_offset);
        spec.raw.push(i as u32);
        let targ_name = m.name_bytes();
        if targ_name.is_empty() {
            if let Some(found) = match_member(local_btf, local_acc, targ_btf, m.type_id(), spec)? {
                return Ok(Some(found));
            }
        } else if local_name == targ_name {
            spec.acc.push(Accessor {
                type_id: targ_id,
                idx: i as u32,
                name: Some(targ_name),
            });
            if fields_are_compat(local_btf, local_m.type_id(), targ_btf, m.type_id())? {
                return Ok(Some(m.type_id()));
            }
            spec.acc.pop();
            return Ok(None);
        }
        spec.bit_offset = spec.bit_offset.wrapping_sub(bit_offset);
        spec.raw.pop();
    }
    Ok(None)
}

/// `bpf_core_fields_are_compat`: whether a local member's type can be relocated to the
/// target member's. Any two composites are; pointers and floats of any kind are; enums and
/// forward declarations need the same essential name (or one anonymous); integers anything but
/// the old bit-offset encoding; arrays compare their element types.
fn fields_are_compat(
    local_btf: &Btf<'_>,
    local_id: TypeId,
    targ_btf: &Btf<'_>,
    targ_id: TypeId,
) -> Result<bool, Fail> {
    let (mut local_id, mut targ_id) = (local_id, targ_id);
    // Only arrays loop; a chain of arrays longer than the BTF is a cycle.
    for _ in 0..=local_btf.type_cnt() {
        let (_, lt) = btfx::skip_mods_typedefs(local_btf, local_id)?;
        let (_, tt) = btfx::skip_mods_typedefs(targ_btf, targ_id)?;
        if btfx::is_composite(&lt) && btfx::is_composite(&tt) {
            return Ok(true);
        }
        if !btfx::kind_core_compat(&lt, &tt) {
            return Ok(false);
        }
        return Ok(match btfx::kind(&lt) {
            Some(Kind::Ptr | Kind::Float) => true,
            Some(Kind::Fwd | Kind::Enum | Kind::Enum64) => {
                let (ln, tn) = (btfx::name(&lt), btfx::name(&tt));
                let (le, te) = (
                    super::name::essential_name(ln),
                    super::name::essential_name(tn),
                );
                le.is_empty() || te.is_empty() || le == te
            }
            Some(Kind::Int) => {
                btfx::int_encoding_offset(&lt).1 == 0 && btfx::int_encoding_offset(&tt).1 == 0
            }
            Some(Kind::Array) => {
                local_id = lt.and_then(|t| t.array()).unwrap_or_default().elem_type;
                targ_id = tt.and_then(|t| t.array()).unwrap_or_default().elem_type;
                continue;
            }
            _ => false,
        });
    }
    Err(Fail::Walk(btfx::Walk::Cycle(local_id)))
}

/// `__bpf_core_types_are_compat`: the looser check of type-based relocations (the root names
/// were matched by the candidate search; below the root, names are ignored).
pub(crate) fn types_are_compat(
    local_btf: &Btf<'_>,
    local_id: TypeId,
    targ_btf: &Btf<'_>,
    targ_id: TypeId,
    level: i32,
) -> Result<bool, Fail> {
    let (mut local_id, mut targ_id) = (local_id, targ_id);
    if !btfx::kind_core_compat(&btfx::ty(local_btf, local_id), &btfx::ty(targ_btf, targ_id)) {
        return Ok(false);
    }
    let mut depth = MAX_DEPTH;
    loop {
        depth -= 1;
        if depth < 0 {
            return Err(Fail::Invalid("types nest too deeply"));
        }
        let (_, lt) = btfx::skip_mods_typedefs(local_btf, local_id)?;
        let (_, tt) = btfx::skip_mods_typedefs(targ_btf, targ_id)?;
        if !btfx::kind_core_compat(&lt, &tt) {
            return Ok(false);
        }
        let (Some(l), Some(t)) = (lt, tt) else {
            // Both void.
            return Ok(true);
        };
        match l.kind() {
            Kind::Struct | Kind::Union | Kind::Enum | Kind::Fwd | Kind::Enum64 => return Ok(true),
            Kind::Int => {
                return Ok(
                    btfx::int_encoding_offset(&lt).1 == 0 && btfx::int_encoding_offset(&tt).1 == 0
                );
            }
            Kind::Ptr => {
                local_id = TypeId(l.size_or_type());
                targ_id = TypeId(t.size_or_type());
            }
            Kind::Array => {
                local_id = l.array().unwrap_or_default().elem_type;
                targ_id = t.array().unwrap_or_default().elem_type;
            }
            Kind::FuncProto => {
                if l.vlen() != t.vlen() {
                    return Ok(false);
                }
                for (lp, tp) in l.params().zip(t.params()) {
                    if level <= 0 {
                        return Err(Fail::Invalid("types nest too deeply"));
                    }
                    let lp = btfx::skip_mods_typedefs(local_btf, lp.type_id())?.0;
                    let tp = btfx::skip_mods_typedefs(targ_btf, tp.type_id())?.0;
                    if !types_are_compat(local_btf, lp, targ_btf, tp, level - 1)? {
                        return Ok(false);
                    }
                }
                local_id = btfx::skip_mods_typedefs(local_btf, TypeId(l.size_or_type()))?.0;
                targ_id = btfx::skip_mods_typedefs(targ_btf, TypeId(t.size_or_type()))?.0;
            }
            _ => return Ok(false),
        }
    }
}

/// `bpf_core_names_match`: an anonymous target matches only an anonymous local; otherwise the
/// essential names must be equal.
fn names_match(local: &[u8], targ: &[u8]) -> bool {
    if targ.is_empty() {
        return local.is_empty();
    }
    same_essential(local, targ)
}

/// `__bpf_core_types_match`: the strict check of `TYPE_MATCHES` (`bpf_core_type_matches()`).
pub(crate) fn types_match(
    local_btf: &Btf<'_>,
    local_id: TypeId,
    targ_btf: &Btf<'_>,
    targ_id: TypeId,
    behind_ptr: bool,
    level: i32,
) -> Result<bool, Fail> {
    if level <= 0 {
        return Err(Fail::Invalid("types nest too deeply"));
    }
    let (mut local_id, mut targ_id, mut behind_ptr) = (local_id, targ_id, behind_ptr);
    let mut depth = MAX_DEPTH;
    loop {
        depth -= 1;
        if depth < 0 {
            return Err(Fail::Invalid("types nest too deeply"));
        }
        let (_, lt) = btfx::skip_mods_typedefs(local_btf, local_id)?;
        let (_, tt) = btfx::skip_mods_typedefs(targ_btf, targ_id)?;
        if !names_match(btfx::name(&lt), btfx::name(&tt)) {
            return Ok(false);
        }
        let (lk, tk) = (btfx::kind(&lt), btfx::kind(&tt));
        let Some(l) = lt else {
            return Ok(lk == tk);
        };
        let targ_flag = tt.as_ref().is_some_and(|t| t.kind_flag());
        match l.kind() {
            Kind::Fwd => {
                let local_flag = l.kind_flag();
                return Ok(if lk == tk {
                    local_flag == targ_flag
                } else if behind_ptr {
                    // A forward declaration's kind_flag says union (1) or struct (0).
                    (tk == Some(Kind::Struct) && !local_flag)
                        || (tk == Some(Kind::Union) && local_flag)
                } else {
                    false
                });
            }
            Kind::Enum | Kind::Enum64 => {
                return Ok(btfx::is_any_enum(&tt) && enums_match(&l, tt.as_ref()));
            }
            Kind::Struct | Kind::Union => {
                if behind_ptr {
                    if lk == tk {
                        return Ok(true);
                    }
                    if tk != Some(Kind::Fwd) {
                        return Ok(false);
                    }
                    return Ok((l.kind() == Kind::Union) == targ_flag);
                }
                if lk != tk {
                    return Ok(false);
                }
                return composites_match(local_btf, &l, targ_btf, tt.as_ref(), behind_ptr, level);
            }
            Kind::Int => {
                if lk != tk {
                    return Ok(false);
                }
                return Ok(btfx::int_is_signed(&lt) == btfx::int_is_signed(&tt)
                    && l.size_or_type() == tt.as_ref().map_or(0, |t| t.size_or_type()));
            }
            Kind::Ptr => {
                if lk != tk {
                    return Ok(false);
                }
                behind_ptr = true;
                local_id = TypeId(l.size_or_type());
                targ_id = TypeId(tt.as_ref().map_or(0, |t| t.size_or_type()));
            }
            Kind::Array => {
                if lk != tk {
                    return Ok(false);
                }
                let la = l.array().unwrap_or_default();
                let ta = tt.as_ref().and_then(|t| t.array()).unwrap_or_default();
                if la.nelems != ta.nelems {
                    return Ok(false);
                }
                local_id = la.elem_type;
                targ_id = ta.elem_type;
            }
            Kind::FuncProto => {
                let Some(t) = tt.filter(|_| lk == tk) else {
                    return Ok(false);
                };
                if l.vlen() != t.vlen() {
                    return Ok(false);
                }
                for (lp, tp) in l.params().zip(t.params()) {
                    if !types_match(
                        local_btf,
                        lp.type_id(),
                        targ_btf,
                        tp.type_id(),
                        behind_ptr,
                        level - 1,
                    )? {
                        return Ok(false);
                    }
                }
                local_id = TypeId(l.size_or_type());
                targ_id = TypeId(t.size_or_type());
            }
            _ => return Ok(false),
        }
    }
}

/// `bpf_core_enums_match`: same size, and every local enumerator name has a target one.
fn enums_match(local: &bpfkit_btf::Type<'_>, targ: Option<&bpfkit_btf::Type<'_>>) -> bool {
    let Some(targ) = targ else { return false };
    if local.size_or_type() != targ.size_or_type() || local.vlen() > targ.vlen() {
        return false;
    }
    local.enum_values().all(|l| {
        targ.enum_values()
            .any(|t| names_match(l.name_bytes(), t.name_bytes()))
    })
}

/// `bpf_core_composites_match`: every local member has a same-named target member whose type
/// matches.
fn composites_match(
    local_btf: &Btf<'_>,
    local: &bpfkit_btf::Type<'_>,
    targ_btf: &Btf<'_>,
    targ: Option<&bpfkit_btf::Type<'_>>,
    behind_ptr: bool,
    level: i32,
) -> Result<bool, Fail> {
    let Some(targ) = targ else { return Ok(false) };
    if local.vlen() > targ.vlen() {
        return Ok(false);
    }
    for lm in local.members() {
        let mut matched = false;
        for tm in targ.members() {
            if !names_match(lm.name_bytes(), tm.name_bytes()) {
                continue;
            }
            if types_match(
                local_btf,
                lm.type_id(),
                targ_btf,
                tm.type_id(),
                behind_ptr,
                level - 1,
            )? {
                matched = true;
                break;
            }
        }
        if !matched {
            return Ok(false);
        }
    }
    Ok(true)
}
