//! The values a relocation puts into its instruction, computed from a spec
//! (`bpf_core_calc_relo` and its field, type and enumerator parts in libbpf).
//!
//! The value is computed twice: from the local spec (what the compiler assumed, checked against
//! the instruction) and from the target spec (what gets patched in). No target spec means no
//! candidate matched: the existence kinds then give 0 and the others poison the instruction.

use bpfkit_btf::{Kind, TypeId};
use bpfkit_uapi::CoreReloKind as K;

use super::Fail;
use super::btfx;
use super::spec::Spec;

/// libbpf's `struct bpf_core_relo_res`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct Res {
    /// The value the local spec gives (what the instruction should hold).
    pub orig_val: u64,
    /// The value the target spec gives.
    pub new_val: u64,
    /// Replace the instruction with an invalid call.
    pub poison: bool,
    /// Check the instruction against `orig_val` before patching.
    pub validate: bool,
    /// The load/store size would change in a way that changes the value read.
    pub fail_memsz_adjust: bool,
    /// Field sizes for load/store size adjustment (0 when not a plain field).
    pub orig_sz: u32,
    pub new_sz: u32,
    pub orig_type_id: TypeId,
    pub new_type_id: TypeId,
}

/// One side's field value.
#[derive(Default)]
struct Field {
    val: u64,
    size: u32,
    type_id: TypeId,
    validate: bool,
}

/// `bpf_core_calc_field_relo`.
fn field(kind: K, spec: Option<&Spec<'_>>) -> Result<Field, Fail> {
    let mut out = Field::default();
    if kind == K::FIELD_EXISTS {
        out.val = u64::from(spec.is_some());
        return Ok(out);
    }
    let spec = spec.ok_or(Fail::Poison)?;
    let acc = *spec.acc.last().ok_or(Fail::Invalid("empty field spec"))?;
    let btf = spec.btf;

    // An array element (or the root itself): only its offset and size make sense.
    let Some(_) = acc.name else {
        let size = btfx::resolve_size(btf, acc.type_id).map_err(|_| Fail::Invalid("no size"))?;
        match kind {
            K::FIELD_BYTE_OFFSET => {
                out.val = u64::from(spec.bit_offset / 8);
                out.size = size;
                out.type_id = acc.type_id;
            }
            K::FIELD_BYTE_SIZE => out.val = u64::from(size),
            _ => return Err(Fail::ArrayAccess),
        }
        out.validate = true;
        return Ok(out);
    };

    let t = btfx::ty(btf, acc.type_id);
    let m = btfx::member(&t, acc.idx).ok_or(Fail::Invalid("accessor names no member"))?;
    let (field_type_id, mt) = btfx::skip_mods_typedefs(btf, m.type_id())?;
    let bit_off = spec.bit_offset;
    let mut bit_sz = btfx::member_bitfield_size(&m);
    let bitfield = bit_sz > 0;
    let (byte_off, byte_sz);
    if bitfield {
        let mut sz = mt.as_ref().map_or(0, |t| t.size_or_type());
        if sz == 0 {
            // libbpf divides by the size here; a zero-sized bitfield type is malformed BTF.
            return Err(Fail::Invalid("bitfield of a zero-sized type"));
        }
        let mut off = bit_off / 8 / sz * sz;
        // The smallest power-of-two load that covers the bitfield.
        // u32 arithmetic, wrapping, as libbpf's.
        while bit_off
            .wrapping_add(bit_sz)
            .wrapping_sub(off.wrapping_mul(8))
            > sz.wrapping_mul(8)
        {
            if sz >= 8 {
                return Err(Fail::Bitfield);
            }
            sz *= 2;
            off = bit_off / 8 / sz * sz;
        }
        byte_sz = sz;
        byte_off = off;
    } else {
        byte_sz = btfx::resolve_size(btf, field_type_id).map_err(|_| Fail::Invalid("no size"))?;
        byte_off = bit_off / 8;
        bit_sz = byte_sz.wrapping_mul(8);
    }
    // Bitfield offsets and sizes may legitimately differ from the compiler's choice, so only
    // signedness and the right shift are checked for them.
    out.validate = !bitfield;
    match kind {
        K::FIELD_BYTE_OFFSET => {
            out.val = u64::from(byte_off);
            if !bitfield {
                out.size = byte_sz;
                out.type_id = field_type_id;
            }
        }
        K::FIELD_BYTE_SIZE => out.val = u64::from(byte_sz),
        K::FIELD_SIGNED => {
            let enum_signed = btfx::is_any_enum(&mt) && mt.as_ref().is_some_and(|t| t.kind_flag());
            out.val = u64::from(enum_signed || btfx::int_is_signed(&mt));
            out.validate = true;
        }
        K::FIELD_LSHIFT_U64 => {
            // Little endian: 64 - (end bit of the field within the loaded word), in u32.
            out.val = u64::from(
                64u32.wrapping_sub(
                    bit_off
                        .wrapping_add(bit_sz)
                        .wrapping_sub(byte_off.wrapping_mul(8)),
                ),
            );
        }
        K::FIELD_RSHIFT_U64 => {
            out.val = u64::from(64u32.wrapping_sub(bit_sz));
            out.validate = true;
        }
        _ => return Err(Fail::UnknownKind),
    }
    Ok(out)
}

/// `bpf_core_calc_type_relo`.
fn type_based(kind: K, spec: Option<&Spec<'_>>) -> Result<(u64, bool), Fail> {
    let Some(spec) = spec else {
        return Ok((0, true));
    };
    Ok(match kind {
        // The local type id may change when objects are linked: never checked.
        K::TYPE_ID_TARGET => (u64::from(spec.root.0), false),
        K::TYPE_EXISTS | K::TYPE_MATCHES => (1, true),
        K::TYPE_SIZE => (
            u64::from(
                btfx::resolve_size(spec.btf, spec.root).map_err(|_| Fail::Invalid("no size"))?,
            ),
            true,
        ),
        _ => return Err(Fail::UnknownKind),
    })
}

/// `bpf_core_calc_enumval_relo`.
fn enumval(kind: K, spec: Option<&Spec<'_>>) -> Result<u64, Fail> {
    match kind {
        K::ENUMVAL_EXISTS => Ok(u64::from(spec.is_some())),
        K::ENUMVAL_VALUE => {
            let spec = spec.ok_or(Fail::Poison)?;
            let acc = spec.acc.first().ok_or(Fail::Invalid("empty enum spec"))?;
            let t = btfx::ty(spec.btf, acc.type_id);
            let e = t
                .as_ref()
                .and_then(|t| t.enum_values().nth(acc.idx as usize))
                .ok_or(Fail::Invalid("no such enumerator"))?;
            // `btf_enum.val` is an `__s32`, widened with its sign whatever the enum's
            // signedness; ENUM64 values are taken as 64 bits.
            Ok(if btfx::kind(&t) == Some(Kind::Enum) {
                e.lo32() as i32 as i64 as u64
            } else {
                e.bits()
            })
        }
        _ => Err(Fail::UnknownKind),
    }
}

/// `bpf_core_calc_relo`: local and target values of one candidate (or of none).
pub(crate) fn calc(kind: K, local: &Spec<'_>, targ: Option<&Spec<'_>>) -> Result<Res, Fail> {
    let mut res = Res {
        validate: true,
        ..Res::default()
    };
    let outcome = (|| -> Result<(), Fail> {
        if kind.is_field_based() {
            let l = field(kind, Some(local))?;
            res.orig_val = l.val;
            res.orig_sz = l.size;
            res.orig_type_id = l.type_id;
            res.validate = l.validate;
            let t = field(kind, targ)?;
            res.new_val = t.val;
            res.new_sz = t.size;
            res.new_type_id = t.type_id;
            if res.orig_sz != res.new_sz {
                let orig_t = btfx::ty(local.btf, res.orig_type_id);
                let new_t = targ.and_then(|s| btfx::ty(s.btf, res.new_type_id));
                let ptrs =
                    btfx::kind(&orig_t) == Some(Kind::Ptr) && btfx::kind(&new_t) == Some(Kind::Ptr);
                // Zero extension keeps unsigned values (libbpf compares the whole encoding
                // with BTF_INT_SIGNED, so e.g. a signed char counts as unsigned here).
                let unsigned_ints = btfx::kind(&orig_t) == Some(Kind::Int)
                    && btfx::kind(&new_t) == Some(Kind::Int)
                    && btfx::int_encoding_offset(&orig_t).0 != 1
                    && btfx::int_encoding_offset(&new_t).0 != 1;
                res.fail_memsz_adjust = !(ptrs || unsigned_ints);
            }
        } else if kind.is_type_based() {
            let (v, validate) = type_based(kind, Some(local))?;
            res.orig_val = v;
            res.validate = validate;
            res.new_val = type_based(kind, targ)?.0;
        } else if kind.is_enumval_based() {
            res.orig_val = enumval(kind, Some(local))?;
            res.new_val = enumval(kind, targ)?;
        } else {
            return Err(Fail::UnknownKind);
        }
        Ok(())
    })();
    match outcome {
        Ok(()) => Ok(res),
        Err(Fail::Poison) => {
            res.poison = true;
            Ok(res)
        }
        Err(e) => Err(e),
    }
}
