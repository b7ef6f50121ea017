//! Access specs: a relocation's access string turned into the path it names, on the local side
//! (parsed from the record, libbpf's `bpf_core_parse_spec`) and on the target side (built while
//! matching), and printed as libbpf prints them (`bpf_core_format_spec`).
//!
//! An access string such as `0:1:2:3` is the *low-level* spec: one index per step, anonymous
//! struct and union members included. The *high-level* spec keeps only the steps that mean
//! something across BTFs: named members (matched by name) and array indices (kept as they are).

use std::fmt::Write as _;

use bpfkit_btf::{Btf, Kind, TypeId};
use bpfkit_uapi::CoreReloKind;

use super::Fail;
use super::btfx;

/// libbpf's `BPF_CORE_SPEC_MAX_LEN`: the longest access string.
pub(crate) const MAX_LEN: usize = 64;

/// One high-level step: a named member of the composite `type_id`, or index `idx` into an
/// array whose element type is `type_id` (for the first step, into the root "array").
#[derive(Clone, Copy, Debug)]
pub(crate) struct Accessor<'a> {
    pub type_id: TypeId,
    pub idx: u32,
    pub name: Option<&'a [u8]>,
}

/// A spec in one BTF.
#[derive(Clone, Debug)]
pub(crate) struct Spec<'a> {
    pub btf: &'a Btf<'a>,
    pub root: TypeId,
    pub kind: CoreReloKind,
    /// High-level accessors.
    pub acc: Vec<Accessor<'a>>,
    /// Low-level indices (the access string).
    pub raw: Vec<u32>,
    /// Bit offset of the field from the start of the root (32-bit, wrapping, as libbpf's).
    pub bit_offset: u32,
}

impl<'a> Spec<'a> {
    /// An empty spec rooted at `root` (type-based kinds keep it empty).
    pub fn empty(btf: &'a Btf<'a>, root: TypeId, kind: CoreReloKind) -> Spec<'a> {
        Spec {
            btf,
            root,
            kind,
            acc: Vec::new(),
            raw: Vec::new(),
            bit_offset: 0,
        }
    }

    /// Adds `idx * size * 8` bits, wrapping at 32 bits as libbpf's `__u32 bit_offset` does.
    pub fn add_elems(&mut self, idx: u32, size: u32) {
        let bits = i64::from(idx).wrapping_mul(i64::from(size)).wrapping_mul(8);
        self.bit_offset = self.bit_offset.wrapping_add(bits as u32);
    }
}

/// Whether `arr` is a flexible array: a zero-length array that is the last member of the
/// struct named by `acc` (libbpf's `is_flex_arr`).
pub(crate) fn is_flex_arr(btf: &Btf<'_>, acc: Option<&Accessor<'_>>, nelems: u32) -> bool {
    let Some(acc) = acc else { return false };
    if acc.name.is_none() || nelems > 0 {
        return false;
    }
    let t = btfx::ty(btf, acc.type_id);
    i64::from(acc.idx) == i64::from(btfx::vlen(&t) as u16) - 1
}

/// Splits an access string as libbpf does: an optional `:` then a C `%d` (leading white space
/// and a sign allowed), repeatedly. Negative indices are refused (libbpf 1.1.2 would read out
/// of bounds; later versions refuse them too).
fn parse_raw(s: &[u8]) -> Result<Vec<u32>, Fail> {
    let bad = || Fail::Invalid("malformed access string");
    if s.is_empty() || s[0] == b':' {
        return Err(bad());
    }
    let mut raw = Vec::new();
    let mut pos = 0;
    while pos < s.len() {
        if s[pos] == b':' {
            pos += 1;
        }
        while pos < s.len() && matches!(s[pos], b' ' | b'\t' | b'\n' | b'\x0b' | b'\x0c' | b'\r') {
            pos += 1;
        }
        let negative = match s.get(pos) {
            Some(b'-') => {
                pos += 1;
                true
            }
            Some(b'+') => {
                pos += 1;
                false
            }
            _ => false,
        };
        let digits = s[pos..].iter().take_while(|c| c.is_ascii_digit()).count();
        if digits == 0 {
            return Err(bad());
        }
        let mut value: u64 = 0;
        for &c in &s[pos..pos + digits] {
            value = value.saturating_mul(10).saturating_add(u64::from(c - b'0'));
        }
        pos += digits;
        if value > i32::MAX as u64 {
            return Err(Fail::Invalid("access index does not fit in an int"));
        }
        if negative && value != 0 {
            return Err(Fail::Invalid("negative access index"));
        }
        if raw.len() == MAX_LEN {
            return Err(Fail::TooLong);
        }
        raw.push(value as u32);
    }
    if raw.is_empty() {
        return Err(bad());
    }
    Ok(raw)
}

/// libbpf's `bpf_core_parse_spec`: the local spec of a record.
pub(crate) fn parse<'a>(
    btf: &'a Btf<'a>,
    root: TypeId,
    access: &[u8],
    kind: CoreReloKind,
) -> Result<Spec<'a>, Fail> {
    let mut spec = Spec::empty(btf, root, kind);
    if access.is_empty() || access[0] == b':' {
        return Err(Fail::Invalid("malformed access string"));
    }
    if kind.is_type_based() {
        return if access == b"0" {
            Ok(spec)
        } else {
            Err(Fail::Invalid(
                "a type-based relocation's access string must be \"0\"",
            ))
        };
    }
    spec.raw = parse_raw(access)?;
    let (mut id, t) = btfx::skip_mods_typedefs(btf, root)?;
    let first = spec.raw[0];
    if kind.is_enumval_based() {
        if !btfx::is_any_enum(&t) || spec.raw.len() > 1 || first >= btfx::vlen(&t) {
            return Err(Fail::Invalid(
                "an enumerator relocation needs an enum and one index within it",
            ));
        }
        spec.acc.push(Accessor {
            type_id: id,
            idx: first,
            name: btfx::enumerator_name(&t, first),
        });
        return Ok(spec);
    }
    if !kind.is_field_based() {
        return Err(Fail::UnknownKind);
    }
    spec.acc.push(Accessor {
        type_id: id,
        idx: first,
        name: None,
    });
    let size = btfx::resolve_size(btf, id)?;
    spec.add_elems(first, size);

    for i in 1..spec.raw.len() {
        let idx = spec.raw[i];
        let (cur, t) = btfx::skip_mods_typedefs(btf, id)?;
        id = cur;
        if btfx::is_composite(&t) {
            let Some(m) = btfx::member(&t, idx) else {
                return Err(Fail::Invalid("member index past the last member"));
            };
            spec.bit_offset = spec.bit_offset.wrapping_add(btfx::member_bit_offset(&m));
            if m.name_offset() != 0 {
                let name = m.name_bytes();
                if name.is_empty() {
                    return Err(Fail::Invalid("member with an empty name"));
                }
                spec.acc.push(Accessor {
                    type_id: id,
                    idx,
                    name: Some(name),
                });
            }
            id = m.type_id();
        } else if let Some(a) = t.as_ref().and_then(|t| t.array()) {
            let (elem, _) = btfx::skip_mods_typedefs(btf, a.elem_type)?;
            let flex = is_flex_arr(btf, spec.acc.last(), a.nelems);
            if !flex && idx >= a.nelems {
                return Err(Fail::Invalid("array index out of bounds"));
            }
            spec.acc.push(Accessor {
                type_id: elem,
                idx,
                name: None,
            });
            let size = btfx::resolve_size(btf, elem)?;
            spec.add_elems(idx, size);
            id = elem;
        } else {
            return Err(Fail::Invalid(
                "the access string steps into a type that is neither a struct, a union nor an array",
            ));
        }
    }
    Ok(spec)
}

/// The kind name libbpf prints in specs (`core_relo_kind_str`).
pub(crate) fn kind_str(kind: CoreReloKind) -> &'static str {
    match kind.0 {
        0 => "byte_off",
        1 => "byte_sz",
        2 => "field_exists",
        3 => "signed",
        4 => "lshift_u64",
        5 => "rshift_u64",
        6 => "local_type_id",
        7 => "target_type_id",
        8 => "type_exists",
        9 => "type_size",
        10 => "enumval_exists",
        11 => "enumval_value",
        12 => "type_matches",
        _ => "unknown",
    }
}

/// The high-level path as libbpf's debug log prints it after the root type: `.a[3].b` for
/// fields, `::NAME = 3` for enumerators, empty for type-based kinds. Relocating a record
/// prints two of these (local and target), so it writes into one pre-sized string and
/// formats nothing it does not keep.
pub(crate) fn path_str(spec: &Spec<'_>) -> String {
    let mut out = String::new();
    if spec.kind.is_enumval_based() {
        let Ok((_, t)) = btfx::skip_mods_typedefs(spec.btf, spec.root) else {
            return out;
        };
        let idx = spec.raw.first().copied().unwrap_or(0);
        let Some(e) = t.as_ref().and_then(|t| t.enum_values().nth(idx as usize)) else {
            return out;
        };
        let name = String::from_utf8_lossy(e.name_bytes());
        let signed = t.as_ref().is_some_and(|t| t.kind_flag());
        let _ = match (btfx::kind(&t), signed) {
            (Some(Kind::Enum), true) => write!(out, "::{name} = {}", e.lo32() as i32),
            (Some(Kind::Enum), false) => write!(out, "::{name} = {}", e.lo32()),
            (_, true) => write!(out, "::{name} = {}", e.bits() as i64),
            (_, false) => write!(out, "::{name} = {}", e.bits()),
        };
    } else if spec.kind.is_field_based() {
        out.reserve(
            spec.acc
                .iter()
                .map(|a| a.name.map_or(6, |n| n.len() + 1))
                .sum(),
        );
        for (i, a) in spec.acc.iter().enumerate() {
            if let Some(name) = a.name {
                out.push('.');
                out.push_str(&String::from_utf8_lossy(name));
            } else if i > 0 || a.idx > 0 {
                let _ = write!(out, "[{}]", a.idx);
            }
        }
    }
    out
}
