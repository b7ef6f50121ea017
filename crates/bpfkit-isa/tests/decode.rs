//! Decoding: strictness against hand-written encodings from RFC 9669, and round trips.

use bpfkit_isa::{DecodeErrorKind, Field, Insn, Opcode, RawInsn, Reg, TABLE, decode, encode};
use proptest::prelude::*;

fn slot(code: u8, dst: u8, src: u8, off: i16, imm: i32) -> [u8; 8] {
    RawInsn {
        code,
        dst,
        src,
        off,
        imm,
    }
    .to_bytes()
}

fn kind_of(bytes: &[u8]) -> DecodeErrorKind {
    decode(bytes).unwrap_err().kind
}

#[test]
fn known_encodings_from_the_rfc() {
    // (bytes, expected) pairs spelled out from RFC 9669's opcode tables.
    let cases = [
        (
            slot(0x07, 1, 0, 0, 5),
            Insn::new(Opcode::Add64Imm).with_dst(Reg::R1).with_imm(5),
        ),
        (
            slot(0x3f, 1, 2, 1, 0),
            Insn::new(Opcode::SDiv64Reg)
                .with_dst(Reg::R1)
                .with_src(Reg::R2),
        ),
        (
            slot(0xbf, 0, 1, 16, 0),
            Insn::new(Opcode::MovSx16To64).with_src(Reg::R1),
        ),
        (
            slot(0xdb, 10, 1, -8, 0xf1),
            Insn::new(Opcode::AtomicCmpXchg64)
                .with_dst(Reg::R10)
                .with_src(Reg::R1)
                .with_off(-8),
        ),
        (
            slot(0xd7, 3, 0, 0, 32),
            Insn::new(Opcode::Bswap32).with_dst(Reg::R3),
        ),
        (
            slot(0x06, 0, 0, 0, -7),
            Insn::new(Opcode::Ja32).with_imm(-7),
        ),
        (
            slot(0x85, 0, 1, 0, 3),
            Insn::new(Opcode::CallLocal).with_imm(3),
        ),
        (
            slot(0x8d, 2, 0, 0, 0),
            Insn::new(Opcode::CallX).with_dst(Reg::R2),
        ),
        (
            slot(0x91, 4, 5, 2, 0),
            Insn::new(Opcode::LdxSB)
                .with_dst(Reg::R4)
                .with_src(Reg::R5)
                .with_off(2),
        ),
    ];
    for (bytes, expected) in cases {
        assert_eq!(decode(&bytes).unwrap(), vec![expected], "{bytes:02x?}");
        assert_eq!(encode(&[expected]), bytes);
    }
}

#[test]
fn lddw_takes_two_slots() {
    let mut bytes = slot(0x18, 1, 0, 0, 0x5566_7788).to_vec();
    bytes.extend(slot(0, 0, 0, 0, 0x1122_3344));
    let insns = decode(&bytes).unwrap();
    assert_eq!(insns.len(), 1);
    assert_eq!(insns[0].imm64(), 0x1122_3344_5566_7788);
    assert_eq!(encode(&insns), bytes);
}

#[test]
fn rejects_what_the_kernel_rejects() {
    assert_eq!(
        kind_of(&slot(0x8c, 0, 0, 0, 0)),
        DecodeErrorKind::UnknownOpcode(0x8c)
    );
    assert_eq!(
        kind_of(&slot(0xdf, 0, 0, 0, 64)),
        DecodeErrorKind::UnknownOpcode(0xdf)
    );
    assert!(matches!(
        kind_of(&slot(0x37, 0, 0, 2, 1)),
        DecodeErrorKind::UnknownSelector {
            code: 0x37,
            field: Field::Off,
            value: 2
        }
    ));
    assert!(matches!(
        kind_of(&slot(0xdb, 0, 0, 0, 0x02)),
        DecodeErrorKind::UnknownSelector {
            field: Field::Imm,
            value: 2,
            ..
        }
    ));
    assert!(matches!(
        kind_of(&slot(0x18, 0, 7, 0, 0)),
        DecodeErrorKind::UnknownSelector {
            field: Field::Src,
            value: 7,
            ..
        }
    ));
    assert!(matches!(
        kind_of(&slot(0x07, 0, 1, 0, 1)),
        DecodeErrorKind::ReservedField {
            field: Field::Src,
            value: 1,
            ..
        }
    ));
    assert!(matches!(
        kind_of(&slot(0x95, 0, 0, 0, 1)),
        DecodeErrorKind::ReservedField {
            field: Field::Imm,
            ..
        }
    ));
    assert!(matches!(
        kind_of(&slot(0xbf, 11, 0, 0, 0)),
        DecodeErrorKind::InvalidRegister {
            field: Field::Dst,
            reg: 11,
            ..
        }
    ));
    assert_eq!(
        kind_of(&slot(0x18, 0, 0, 0, 0)),
        DecodeErrorKind::TruncatedLddw
    );
    let mut bad_second = slot(0x18, 0, 0, 0, 0).to_vec();
    bad_second.extend(slot(0x95, 0, 0, 0, 0));
    assert!(matches!(
        kind_of(&bad_second),
        DecodeErrorKind::BadSecondSlot {
            field: Field::Code,
            ..
        }
    ));
    // BPF_PSEUDO_MAP_FD needs a zero second immediate, as the kernel's resolve_pseudo_ldimm64.
    let mut map_fd = slot(0x18, 1, 1, 0, 3).to_vec();
    map_fd.extend(slot(0, 0, 0, 0, 9));
    assert!(matches!(
        kind_of(&map_fd),
        DecodeErrorKind::ReservedField {
            field: Field::NextImm,
            ..
        }
    ));
    assert_eq!(kind_of(&[0u8; 9]), DecodeErrorKind::TrailingBytes(9));
}

#[test]
fn errors_name_the_slot() {
    let mut bytes = slot(0xb7, 0, 0, 0, 1).to_vec();
    bytes.extend(slot(0x18, 0, 0, 0, 0));
    bytes.extend(slot(0, 0, 0, 0, 0));
    bytes.extend(slot(0xff, 0, 0, 0, 0));
    let err = decode(&bytes).unwrap_err();
    assert_eq!(err.slot, 3);
    assert_eq!(err.to_string(), "instruction 3: unknown opcode 0xff");
}

/// Any valid instruction: a table row with random values in the fields it uses.
fn any_insn() -> impl Strategy<Value = Insn> {
    (
        0..TABLE.len(),
        0u8..=10,
        0u8..=10,
        any::<i16>(),
        any::<i32>(),
        any::<i32>(),
    )
        .prop_map(|(row, dst, src, off, imm, next_imm)| {
            Insn {
                opcode: TABLE[row].opcode,
                dst: Reg::new(dst).unwrap(),
                src: Reg::new(src).unwrap(),
                off,
                imm,
                next_imm,
            }
            .canonical()
        })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(4096))]

    #[test]
    fn decode_inverts_encode(insns in prop::collection::vec(any_insn(), 1..20)) {
        prop_assert_eq!(decode(&encode(&insns)).unwrap(), insns);
    }

    /// Decoding is strict, so every accepted byte string is the canonical encoding of its
    /// instructions, and garbage never panics.
    #[test]
    fn accepted_bytes_are_canonical(bytes in prop::collection::vec(any::<u8>(), 0..64)) {
        if let Ok(insns) = decode(&bytes) {
            prop_assert_eq!(encode(&insns), bytes);
        }
    }

    /// Random slots whose opcode byte is known reach the deeper checks.
    #[test]
    fn known_opcodes_with_random_fields(row in 0..TABLE.len(), regs in any::<u8>(), off in any::<i16>(), imm in any::<i32>(), tail in any::<[u8; 8]>()) {
        let mut bytes = RawInsn { code: TABLE[row].code, dst: regs & 0xf, src: regs >> 4, off, imm }.to_bytes().to_vec();
        bytes.extend(tail);
        if let Ok(insns) = decode(&bytes[..8]).or_else(|_| decode(&bytes)) {
            let reencoded = encode(&insns);
            prop_assert!(bytes.starts_with(&reencoded));
        }
    }
}
