//! The raw listing: `bpftool btf dump file FILE format raw`, byte for byte.
//!
//! The format is bpftool's `dump_btf_type()` (tools/bpf/bpftool/btf.c): one line per type,
//! `[id] KIND 'name'` then kind-specific fields, and one tab-indented line per member, value,
//! parameter or variable. Its quirks are kept on purpose: the comma in `type_id=N, linkage=`
//! for VAR, enum values printed through C's `%d`/`%u`/`%lldLL`/`%lluULL`, and a DATASEC
//! entry of type 0 printed as `(UNKNOWN '(anon)')` because libbpf hands back its void type.

use std::io::{self, Write};

use super::out::Out;
use crate::{Btf, Kind, Type, TypeId, TypeView};

/// Writes the raw listing of `btf`'s own types (for split BTF, from its first id on, as bpftool
/// does).
pub fn raw<W: Write>(btf: &Btf<'_>, w: W) -> io::Result<()> {
    let mut out = Out::new(w);
    for t in btf.types() {
        write_type(btf, &t, &mut out);
        out.maybe_flush()?;
    }
    out.finish()
}

/// `'name'`, or `'(anon)'` when the name offset is 0 (an empty name at another offset is `''`).
#[inline]
fn quoted_name<W: Write>(out: &mut Out<W>, name_off: u32, name: &[u8]) {
    out.s(b"'");
    if name_off == 0 {
        out.s(b"(anon)");
    } else {
        out.s(name);
    }
    out.s(b"'");
}

fn write_type<W: Write>(btf: &Btf<'_>, t: &Type<'_>, out: &mut Out<W>) {
    out.s(b"[");
    out.u64(u64::from(t.id().0));
    out.s(b"] ");
    out.s(t.kind().name().as_bytes());
    out.s(b" ");
    quoted_name(out, t.name_offset(), t.name_bytes());
    match t.view() {
        TypeView::Int(i) => {
            out.s(b" size=");
            out.u64(u64::from(i.size));
            out.s(b" bits_offset=");
            out.u64(u64::from(i.bit_offset));
            out.s(b" nr_bits=");
            out.u64(u64::from(i.bits));
            out.s(b" encoding=");
            out.s(i.encoding.name().as_bytes());
        }
        TypeView::Ptr(r)
        | TypeView::Const(r)
        | TypeView::Volatile(r)
        | TypeView::Restrict(r)
        | TypeView::Typedef(r)
        | TypeView::TypeTag(r) => {
            out.s(b" type_id=");
            out.u64(u64::from(r.0));
        }
        TypeView::Array(a) => {
            out.s(b" type_id=");
            out.u64(u64::from(a.elem_type.0));
            out.s(b" index_type_id=");
            out.u64(u64::from(a.index_type.0));
            out.s(b" nr_elems=");
            out.u64(u64::from(a.nelems));
        }
        TypeView::Struct { size, members } | TypeView::Union { size, members } => {
            out.s(b" size=");
            out.u64(u64::from(size));
            out.s(b" vlen=");
            out.u64(u64::from(t.vlen()));
            for m in members {
                out.s(b"\n\t");
                quoted_name(out, m.name_offset(), m.name_bytes());
                out.s(b" type_id=");
                out.u64(u64::from(m.type_id().0));
                out.s(b" bits_offset=");
                out.u64(u64::from(m.bit_offset()));
                if m.bitfield_size() != 0 {
                    out.s(b" bitfield_size=");
                    out.u64(u64::from(m.bitfield_size()));
                }
            }
        }
        TypeView::Enum {
            size,
            signed,
            values,
        }
        | TypeView::Enum64 {
            size,
            signed,
            values,
        } => {
            out.s(if signed {
                b" encoding=SIGNED size="
            } else {
                b" encoding=UNSIGNED size="
            });
            out.u64(u64::from(size));
            out.s(b" vlen=");
            out.u64(u64::from(t.vlen()));
            let is64 = t.kind() == Kind::Enum64;
            for v in values {
                out.s(b"\n\t");
                quoted_name(out, v.name_offset(), v.name_bytes());
                out.s(b" val=");
                // bpftool's printf formats: %u, %d, %lluULL, %lldLL.
                match (is64, signed) {
                    (false, false) => out.u64(u64::from(v.lo32())),
                    (false, true) => out.i64(i64::from(v.lo32() as i32)),
                    (true, false) => {
                        out.u64(v.bits());
                        out.s(b"ULL");
                    }
                    (true, true) => {
                        out.i64(v.bits() as i64);
                        out.s(b"LL");
                    }
                }
            }
        }
        TypeView::Fwd { union } => {
            out.s(if union {
                b" fwd_kind=union"
            } else {
                b" fwd_kind=struct"
            });
        }
        TypeView::Func { proto, linkage } => {
            out.s(b" type_id=");
            out.u64(u64::from(proto.0));
            out.s(b" linkage=");
            out.s(linkage.name().as_bytes());
        }
        TypeView::FuncProto { ret, params } => {
            out.s(b" ret_type_id=");
            out.u64(u64::from(ret.0));
            out.s(b" vlen=");
            out.u64(u64::from(t.vlen()));
            for p in params {
                out.s(b"\n\t");
                quoted_name(out, p.name_offset(), p.name_bytes());
                out.s(b" type_id=");
                out.u64(u64::from(p.type_id().0));
            }
        }
        TypeView::Var(v) => {
            out.s(b" type_id=");
            out.u64(u64::from(v.type_id.0));
            out.s(b", linkage=");
            out.s(v.linkage.name().as_bytes());
        }
        TypeView::Datasec { size, vars } => {
            out.s(b" size=");
            out.u64(u64::from(size));
            out.s(b" vlen=");
            out.u64(u64::from(t.vlen()));
            for v in vars {
                out.s(b"\n\ttype_id=");
                out.u64(u64::from(v.type_id.0));
                out.s(b" offset=");
                out.u64(u64::from(v.offset));
                out.s(b" size=");
                out.u64(u64::from(v.size));
                out.s(b" (");
                datasec_target(btf, v.type_id, out);
                out.s(b")");
            }
        }
        TypeView::Float { size } => {
            out.s(b" size=");
            out.u64(u64::from(size));
        }
        TypeView::DeclTag(d) => {
            out.s(b" type_id=");
            out.u64(u64::from(d.type_id.0));
            out.s(b" component_idx=");
            out.i64(i64::from(d.component_idx));
        }
    }
    out.s(b"\n");
}

/// `KIND 'name'` of a DATASEC entry's type; void is libbpf's `btf_void`: kind 0, no name.
fn datasec_target<W: Write>(btf: &Btf<'_>, id: TypeId, out: &mut Out<W>) {
    match btf.get(id) {
        Some(vt) => {
            out.s(vt.kind().name().as_bytes());
            out.s(b" ");
            quoted_name(out, vt.name_offset(), vt.name_bytes());
        }
        None => out.s(b"UNKNOWN '(anon)'"),
    }
}
