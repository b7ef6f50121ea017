//! Property: random valid type lists survive encode -> parse -> encode byte for byte, and
//! parsing what was encoded gives back the same owned types.

use bpfkit_btf::{
    Array, Btf, BtfBuilder, BtfEnum64Value, BtfEnumValue, BtfMember, BtfParam, BtfType, Endian,
    Int, IntEncoding, Linkage, TypeData, TypeId, VarSecinfo,
};
use proptest::prelude::*;

const NAMES: [&str; 8] = ["", "a", "int", "task_struct", "x", "_", "a", "ünïcode"];

fn linkage() -> impl Strategy<Value = Linkage> {
    prop_oneof![
        Just(Linkage::Static),
        Just(Linkage::Global),
        Just(Linkage::Extern),
        (3u32..0x00ff_ffff).prop_map(Linkage::Other),
    ]
}

/// One type whose references stay below `n` (ids 0..n exist once the list is complete).
fn type_data(n: u32) -> impl Strategy<Value = (usize, bool, TypeData)> {
    let id = move || (0..n).prop_map(TypeId);
    let name = || 0..NAMES.len();
    let members = move || proptest::collection::vec((name(), id(), any::<u32>()), 0..6);
    prop_oneof![
        (name(), any::<u32>(), 0u8..16, any::<u8>(), any::<u8>()).prop_map(
            |(nm, size, enc, off, bits)| {
                (
                    nm,
                    false,
                    TypeData::Int(Int {
                        size,
                        encoding: IntEncoding(enc),
                        bit_offset: off,
                        bits,
                    }),
                )
            }
        ),
        id().prop_map(|t| (0, false, TypeData::Ptr(t))),
        (id(), id(), any::<u32>()).prop_map(|(e, i, n)| {
            (
                0,
                false,
                TypeData::Array(Array {
                    elem_type: e,
                    index_type: i,
                    nelems: n,
                }),
            )
        }),
        (
            name(),
            any::<bool>(),
            any::<bool>(),
            any::<u32>(),
            members()
        )
            .prop_map(|(nm, union, kf, size, ms)| {
                let members = ms
                    .into_iter()
                    .map(|(mn, t, o)| BtfMember {
                        name_off: mn as u32,
                        type_id: t,
                        offset: o,
                    })
                    .collect();
                let data = if union {
                    TypeData::Union { size, members }
                } else {
                    TypeData::Struct { size, members }
                };
                (nm, kf, data)
            }),
        (
            name(),
            any::<bool>(),
            any::<u32>(),
            proptest::collection::vec((name(), any::<u32>()), 0..5)
        )
            .prop_map(|(nm, kf, size, vs)| {
                let values = vs
                    .into_iter()
                    .map(|(n, v)| BtfEnumValue {
                        name_off: n as u32,
                        value: v,
                    })
                    .collect();
                (nm, kf, TypeData::Enum { size, values })
            }),
        (
            name(),
            any::<bool>(),
            any::<u32>(),
            proptest::collection::vec((name(), any::<u64>()), 0..5)
        )
            .prop_map(|(nm, kf, size, vs)| {
                let values = vs
                    .into_iter()
                    .map(|(n, v)| BtfEnum64Value {
                        name_off: n as u32,
                        value: v,
                    })
                    .collect();
                (nm, kf, TypeData::Enum64 { size, values })
            }),
        (name(), any::<bool>()).prop_map(|(nm, kf)| (nm, kf, TypeData::Fwd)),
        (name(), id()).prop_map(|(nm, t)| (nm, false, TypeData::Typedef(t))),
        id().prop_map(|t| (0, false, TypeData::Volatile(t))),
        id().prop_map(|t| (0, false, TypeData::Const(t))),
        id().prop_map(|t| (0, false, TypeData::Restrict(t))),
        (name(), id(), linkage()).prop_map(|(nm, p, l)| (
            nm,
            false,
            TypeData::Func {
                proto: p,
                linkage: l
            }
        )),
        (id(), proptest::collection::vec((name(), id()), 0..5)).prop_map(|(ret, ps)| {
            let params = ps
                .into_iter()
                .map(|(n, t)| BtfParam {
                    name_off: n as u32,
                    type_id: t,
                })
                .collect();
            (0, false, TypeData::FuncProto { ret, params })
        }),
        (name(), id(), linkage()).prop_map(|(nm, t, l)| (
            nm,
            false,
            TypeData::Var {
                type_id: t,
                linkage: l
            }
        )),
        (
            name(),
            any::<u32>(),
            proptest::collection::vec((id(), any::<u32>(), any::<u32>()), 0..4)
        )
            .prop_map(|(nm, size, vs)| {
                let vars = vs
                    .into_iter()
                    .map(|(t, o, s)| VarSecinfo {
                        type_id: t,
                        offset: o,
                        size: s,
                    })
                    .collect();
                (nm, false, TypeData::Datasec { size, vars })
            }),
        (name(), any::<u32>()).prop_map(|(nm, size)| (nm, false, TypeData::Float { size })),
        (name(), any::<bool>(), id(), any::<i32>()).prop_map(|(nm, kf, t, c)| (
            nm,
            kf,
            TypeData::DeclTag {
                type_id: t,
                component_idx: c
            }
        )),
        (name(), any::<bool>(), id()).prop_map(|(nm, kf, t)| (nm, kf, TypeData::TypeTag(t))),
    ]
}

/// A builder with 1 to 30 random types; name indices become string offsets.
fn builder() -> impl Strategy<Value = BtfBuilder> {
    (1u32..30, any::<bool>()).prop_flat_map(|(n, big)| {
        proptest::collection::vec(type_data(n + 1), n as usize).prop_map(move |types| {
            let mut b = BtfBuilder::new();
            if big {
                b.set_endian(Endian::Big);
            }
            let offs: Vec<u32> = NAMES.iter().map(|s| b.add_str(s)).collect();
            let name = |i: u32| offs[i as usize];
            for (nm, kind_flag, mut data) in types {
                match &mut data {
                    TypeData::Struct { members, .. } | TypeData::Union { members, .. } => {
                        members
                            .iter_mut()
                            .for_each(|m| m.name_off = name(m.name_off));
                    }
                    TypeData::Enum { values, .. } => values
                        .iter_mut()
                        .for_each(|v| v.name_off = name(v.name_off)),
                    TypeData::Enum64 { values, .. } => values
                        .iter_mut()
                        .for_each(|v| v.name_off = name(v.name_off)),
                    TypeData::FuncProto { params, .. } => params
                        .iter_mut()
                        .for_each(|p| p.name_off = name(p.name_off)),
                    _ => {}
                }
                b.add_type(BtfType {
                    name_off: offs[nm],
                    kind_flag,
                    data,
                });
            }
            b
        })
    })
}

proptest! {
    #[test]
    fn encode_parse_encode_is_identity(b in builder()) {
        let bytes = b.encode();
        let btf = Btf::parse(&bytes).map_err(|e| TestCaseError::fail(e.to_string()))?;
        prop_assert_eq!(btf.endian(), b.endian());
        prop_assert_eq!(btf.own_type_count(), b.types().len());
        let back = BtfBuilder::from_btf(&btf);
        prop_assert_eq!(&back, &b);
        prop_assert_eq!(&back.encode(), &bytes);
        for (t, owned) in btf.types().zip(b.types()) {
            prop_assert_eq!(t.kind(), owned.kind());
            prop_assert_eq!(t.name_offset(), owned.name_off);
            prop_assert_eq!(t.kind_flag(), owned.kind_flag);
        }
    }

    #[test]
    fn split_encode_parse_encode_is_identity(base in builder(), split in builder()) {
        let base_bytes = base.encode();
        let base_btf = Btf::parse(&base_bytes).unwrap();
        let mut s = BtfBuilder::new_split(&base_btf);
        // Shift the split types' references past the base's ids.
        let shift = base_btf.type_cnt() - 1;
        for t in split.types() {
            let mut t = t.clone();
            let fix = |id: &mut TypeId| if id.0 != 0 { id.0 += shift };
            match &mut t.data {
                TypeData::Ptr(r) | TypeData::Typedef(r) | TypeData::Volatile(r) | TypeData::Const(r)
                | TypeData::Restrict(r) | TypeData::TypeTag(r) => fix(r),
                TypeData::Array(a) => { fix(&mut a.elem_type); fix(&mut a.index_type); }
                TypeData::Struct { members, .. } | TypeData::Union { members, .. } => members.iter_mut().for_each(|m| fix(&mut m.type_id)),
                TypeData::Func { proto, .. } => fix(proto),
                TypeData::FuncProto { ret, params } => { fix(ret); params.iter_mut().for_each(|p| fix(&mut p.type_id)); }
                TypeData::Var { type_id, .. } | TypeData::DeclTag { type_id, .. } => fix(type_id),
                TypeData::Datasec { vars, .. } => vars.iter_mut().for_each(|v| fix(&mut v.type_id)),
                _ => {}
            }
            // Names: offsets in the base's table stay valid.
            s.add_type(t);
        }
        s.set_endian(base_btf.endian());
        let bytes = s.encode();
        let btf = Btf::parse_split(&bytes, &base_btf).map_err(|e| TestCaseError::fail(e.to_string()))?;
        prop_assert_eq!(btf.first_id(), TypeId(base_btf.type_cnt()));
        let back = BtfBuilder::from_btf(&btf);
        prop_assert_eq!(&back, &s);
        prop_assert_eq!(&back.encode(), &bytes);
    }
}
