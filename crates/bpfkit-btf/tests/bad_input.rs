//! Untrusted input: every malformation is a typed error carrying the offset of the field at
//! fault, and nothing panics or hangs. Expected offsets follow the layout of
//! `include/uapi/linux/btf.h`: a 24-byte header, 12-byte type headers, then kind records.

use bpfkit_btf::dump::{self, CDumpOptions, DumpError};
use bpfkit_btf::{Btf, BtfBuilder, BtfError, IntEncoding, Kind, Linkage, TypeId};
use proptest::prelude::*;

const HDR: usize = 24;

/// `int` (16 bytes at 24), `int *` (12 bytes at 40), `struct s { int a; int *b; }` (36 bytes
/// at 52), `typedef struct s s_t` (at 88).
fn sample() -> Vec<u8> {
    let mut b = BtfBuilder::new();
    let int = b.add_int("int", 4, IntEncoding::SIGNED);
    let ptr = b.add_ptr(int);
    let s = b.add_struct("s", 16, &[("a", int, 0), ("b", ptr, 64)]);
    b.add_typedef("s_t", s);
    b.encode()
}

fn put(data: &mut [u8], at: usize, v: u32) {
    data[at..at + 4].copy_from_slice(&v.to_le_bytes());
}

fn err(data: &[u8]) -> BtfError {
    Btf::parse(data).expect_err("malformed input parsed")
}

#[test]
fn sample_is_what_the_offsets_assume() {
    let data = sample();
    let btf = Btf::parse(&data).unwrap();
    let offsets: Vec<usize> = btf.types().map(|t| t.offset()).collect();
    assert_eq!(offsets, [HDR, HDR + 16, HDR + 28, HDR + 64]);
}

#[test]
fn every_truncation_is_an_error_with_an_offset_inside_the_data() {
    let data = sample();
    for len in 0..data.len() {
        let e = err(&data[..len]);
        let off = e.offset().expect("parse errors carry an offset");
        assert!(off <= len, "len {len}: {e}");
        assert!(e.to_string().contains("at offset"), "{e}");
    }
}

#[test]
fn every_header_field_is_checked() {
    let good = sample();
    type Check = fn(&BtfError) -> bool;
    let cases: [(usize, u32, Check); 8] = [
        (0, 0x1234_eb9e, |e| {
            matches!(e, BtfError::BadMagic { offset: 0, .. })
        }),
        (0, 0x0002_eb9f, |e| {
            matches!(
                e,
                BtfError::UnsupportedVersion {
                    offset: 2,
                    version: 2
                }
            )
        }),
        (0, 0x0101_eb9f, |e| {
            matches!(
                e,
                BtfError::UnsupportedFlags {
                    offset: 3,
                    flags: 1
                }
            )
        }),
        (4, 20, |e| {
            matches!(
                e,
                BtfError::BadHeaderLen {
                    offset: 4,
                    hdr_len: 20,
                    ..
                }
            )
        }),
        (8, 4096, |e| {
            matches!(
                e,
                BtfError::SectionOutOfBounds {
                    offset: 8,
                    section: "type",
                    ..
                }
            )
        }),
        (12, 4096, |e| {
            matches!(
                e,
                BtfError::SectionOutOfBounds {
                    offset: 8,
                    section: "type",
                    ..
                }
            )
        }),
        (16, 4096, |e| {
            matches!(
                e,
                BtfError::SectionOutOfBounds {
                    offset: 16,
                    section: "string",
                    ..
                }
            )
        }),
        (20, u32::MAX, |e| {
            matches!(e, BtfError::SectionOutOfBounds { offset: 16, .. })
        }),
    ];
    for (at, value, check) in cases {
        let mut data = good.clone();
        put(&mut data, at, value);
        let e = err(&data);
        assert!(check(&e), "field at {at} = {value:#x}: {e}");
    }
    // Strings overlapping the types.
    let mut data = good.clone();
    put(&mut data, 16, 8);
    assert!(matches!(
        err(&data),
        BtfError::SectionsOverlap { offset: 16, .. }
    ));
}

#[test]
fn string_section_must_be_terminated_and_start_empty() {
    let good = sample();
    let mut data = good.clone();
    *data.last_mut().unwrap() = b'x';
    assert!(
        matches!(err(&data), BtfError::BadStringSection { offset, .. } if offset == good.len() - 1)
    );
    let mut data = good.clone();
    let str_start = HDR + 76;
    data[str_start] = b'x';
    assert!(matches!(err(&data), BtfError::BadStringSection { offset, .. } if offset == str_start));
    let mut data = good.clone();
    put(&mut data, 20, 0);
    assert!(matches!(err(&data), BtfError::BadStringSection { .. }));
}

#[test]
fn string_offsets_past_the_end() {
    let good = sample();
    let str_len = u32::from_le_bytes(good[20..24].try_into().unwrap());
    // The name of type 1.
    let mut data = good.clone();
    put(&mut data, HDR, str_len);
    assert_eq!(
        err(&data),
        BtfError::StringOutOfRange {
            offset: HDR,
            str_off: str_len,
            str_len
        }
    );
    // The name of the struct's second member: struct at 52, members at 64 and 76.
    let mut data = good.clone();
    put(&mut data, HDR + 40, u32::MAX);
    assert!(matches!(err(&data), BtfError::StringOutOfRange { offset, .. } if offset == HDR + 40));
    // Members are checked by their largest offset first: the error still names the first bad
    // member, not the largest offset (members at HDR + 40 and HDR + 52).
    let mut data = good.clone();
    put(&mut data, HDR + 40, str_len);
    put(&mut data, HDR + 52, u32::MAX);
    assert!(
        matches!(err(&data), BtfError::StringOutOfRange { offset, str_off, .. } if offset == HDR + 40 && str_off == str_len)
    );
    let mut data = good.clone();
    put(&mut data, HDR + 52, str_len);
    assert!(matches!(err(&data), BtfError::StringOutOfRange { offset, .. } if offset == HDR + 52));
}

#[test]
fn type_ids_out_of_range() {
    let good = sample();
    // PTR's target (type 2's third word).
    let mut data = good.clone();
    put(&mut data, HDR + 24, 5);
    assert_eq!(
        err(&data),
        BtfError::TypeIdOutOfRange {
            offset: HDR + 24,
            type_id: 5,
            last_id: 4
        }
    );
    // The struct's first member's type.
    let mut data = good.clone();
    put(&mut data, HDR + 44, 1000);
    assert!(
        matches!(err(&data), BtfError::TypeIdOutOfRange { offset, type_id: 1000, .. } if offset == HDR + 44)
    );
    // Of equal ids out of range, the first is named; of different ones, the largest.
    put(&mut data, HDR + 56, 1000);
    assert!(
        matches!(err(&data), BtfError::TypeIdOutOfRange { offset, type_id: 1000, .. } if offset == HDR + 44)
    );
    put(&mut data, HDR + 56, 2000);
    assert!(
        matches!(err(&data), BtfError::TypeIdOutOfRange { offset, type_id: 2000, .. } if offset == HDR + 56)
    );
    // Ids the caller passes in.
    let btf = Btf::parse(&good).unwrap();
    assert_eq!(
        btf.type_by_id(TypeId(5)).unwrap_err(),
        BtfError::NoSuchType { type_id: 5 }
    );
    assert!(btf.size_of(TypeId(99)).is_err());
    assert!(btf.resolve(TypeId(99)).is_err());
}

#[test]
fn unknown_kinds_and_reserved_bits() {
    let good = sample();
    let info = |kind: u32, vlen: u32, kflag: bool| (u32::from(kflag) << 31) | (kind << 24) | vlen;
    for kind in [0, 20, 31, 127] {
        let mut data = good.clone();
        put(&mut data, HDR + 20, info(kind, 0, false));
        assert_eq!(
            err(&data),
            BtfError::UnknownKind {
                offset: HDR + 16,
                type_id: 2,
                kind: kind as u8
            }
        );
    }
    let mut data = good.clone();
    put(&mut data, HDR + 4, info(1, 0, true));
    assert!(
        matches!(err(&data), BtfError::ReservedBits { offset, type_id: 1, .. } if offset == HDR + 4)
    );
    let mut data = good.clone();
    put(&mut data, HDR + 20, info(Kind::Ptr as u32, 3, false));
    assert!(
        matches!(err(&data), BtfError::ReservedBits { offset, type_id: 2, .. } if offset == HDR + 20)
    );
    let mut data = good.clone();
    put(&mut data, HDR + 12, 0x0100_0120); // INT data with bit 8 set
    assert!(matches!(err(&data), BtfError::ReservedBits { offset, .. } if offset == HDR + 12));
}

#[test]
fn huge_vlen_is_an_error_not_an_allocation() {
    let good = sample();
    let mut data = good.clone();
    put(
        &mut data,
        HDR + 32,
        ((Kind::Struct as u32) << 24) | 0x00ff_ffff,
    );
    match err(&data) {
        BtfError::VlenTooLarge {
            offset,
            type_id: 3,
            vlen: 0x00ff_ffff,
            need,
            ..
        } => {
            assert_eq!(offset, HDR + 28);
            assert_eq!(need, 12 + 12 * 0x00ff_ffff);
        }
        e => panic!("{e}"),
    }
}

/// `typedef a_t b_t; typedef b_t a_t;` and `struct self { struct self inner; }`.
fn cyclic() -> Vec<u8> {
    let mut b = BtfBuilder::new();
    let int = b.add_int("int", 4, IntEncoding::SIGNED); // 1
    b.add_typedef("a_t", TypeId(3)); // 2
    b.add_typedef("b_t", TypeId(2)); // 3
    b.add_struct("self", 8, &[("x", int, 0), ("inner", TypeId(4), 32)]); // 4
    b.add_const(TypeId(5)); // 5: const of itself
    b.add_ptr(TypeId(6)); // 6: pointer to itself
    b.encode()
}

#[test]
fn cycles_are_errors() {
    let data = cyclic();
    let btf = Btf::parse(&data).unwrap();
    for id in [2, 3, 5] {
        let e = btf.resolve(TypeId(id)).unwrap_err();
        assert!(matches!(e, BtfError::Cycle { .. }), "{id}: {e}");
        assert!(btf.size_of(TypeId(id)).is_err());
    }
    assert!(matches!(
        btf.align_of(TypeId(4)),
        Err(BtfError::Cycle { type_id: 4, .. })
    ));
    // A struct's size is in its record even when its layout is cyclic.
    assert_eq!(btf.size_of(TypeId(4)).unwrap(), 8);
    // A pointer's size does not depend on what it points to.
    assert_eq!(btf.size_of(TypeId(6)).unwrap(), 8);
    let mut out = Vec::new();
    match dump::c(&btf, &mut out, &CDumpOptions::default()) {
        Err(DumpError::Btf(BtfError::Cycle { .. } | BtfError::TooDeep { .. })) => {}
        r => panic!("C dump of cyclic types: {r:?}"),
    }
    // The raw dump does not follow references.
    dump::raw(&btf, &mut Vec::new()).unwrap();
}

#[test]
fn each_cycle_alone_stops_the_c_dump() {
    let build: [fn(&mut BtfBuilder); 4] = [
        |b| {
            b.add_typedef("a_t", TypeId(2));
            b.add_typedef("b_t", TypeId(1));
        },
        |b| {
            b.add_struct("self", 8, &[("inner", TypeId(1), 0)]);
        },
        |b| {
            b.add_const(TypeId(1));
        },
        |b| {
            b.add_ptr(TypeId(2));
            b.add_volatile(TypeId(1));
        },
    ];
    for (i, f) in build.iter().enumerate() {
        let mut b = BtfBuilder::new();
        f(&mut b);
        let data = b.encode();
        let btf = Btf::parse(&data).unwrap();
        let r = dump::c(&btf, &mut Vec::new(), &CDumpOptions::default());
        assert!(r.is_err(), "case {i} dumped");
    }
}

#[test]
fn forged_struct_size_does_not_print_gigabytes() {
    let mut b = BtfBuilder::new();
    b.add_struct("huge", u32::MAX, &[]);
    let data = b.encode();
    let btf = Btf::parse(&data).unwrap();
    let r = dump::c(&btf, &mut Vec::new(), &CDumpOptions::default());
    assert!(matches!(
        r,
        Err(DumpError::Btf(BtfError::PaddingTooLarge { type_id: 1, .. }))
    ));
}

#[test]
fn split_btf_bad_base_references() {
    let base_data = sample();
    let base = Btf::parse(&base_data).unwrap();
    let mut b = BtfBuilder::new_split(&base);
    b.add_ptr(TypeId(4)); // 5 -> base's s_t
    b.add_var("v", TypeId(5), Linkage::Global);
    let split_data = b.encode();
    let split = Btf::parse_split(&split_data, &base).unwrap();
    assert_eq!(split.first_id(), TypeId(5));
    assert_eq!(split.type_by_id(TypeId(6)).unwrap().name().unwrap(), "v");
    assert_eq!(split.resolve(TypeId(4)).unwrap(), TypeId(3));
    // Without its base the same bytes refer to ids and strings that do not exist.
    assert!(Btf::parse(&split_data).is_err());
}

proptest! {
    /// Random corruption of a valid blob: either an error or BTF that every walk and both
    /// dumps handle.
    #[test]
    fn corrupted_blobs_never_panic(
        edits in proptest::collection::vec((0usize..200, any::<u8>()), 1..8),
        cut in 0usize..300,
    ) {
        let mut data = sample();
        let mut c = cyclic();
        data.append(&mut c.split_off(0));
        for (at, v) in edits {
            if let Some(b) = data.get_mut(at) {
                *b = v;
            }
        }
        data.truncate(cut.max(1));
        if let Ok(btf) = Btf::parse(&data) {
            for t in btf.types() {
                let _ = btf.resolve(t.id());
                let _ = btf.size_of(t.id());
                let _ = btf.align_of(t.id());
                let _ = t.name();
                let _ = t.view();
            }
            dump::raw(&btf, &mut Vec::new()).unwrap();
            let _ = dump::c(&btf, &mut Vec::new(), &CDumpOptions::default());
        }
    }
}
