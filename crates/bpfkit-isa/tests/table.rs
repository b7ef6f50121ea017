//! Checks of the instruction table itself.

use std::collections::HashSet;

use bpfkit_isa::{Dialect, Insn, Kind, Opcode, Part, Reg, Select, TABLE, parts};

#[test]
fn table_is_indexed_by_opcode() {
    for (i, spec) in TABLE.iter().enumerate() {
        assert_eq!(spec.opcode as usize, i, "{}", spec.name);
    }
}

#[test]
fn every_template_hole_is_known() {
    for spec in TABLE {
        for template in [spec.llvm, spec.ubpf] {
            for part in parts(template) {
                if let Part::Text(text) = part {
                    assert!(
                        !text.contains('{') && !text.contains('}'),
                        "{}: {template}",
                        spec.name
                    );
                }
            }
        }
    }
}

#[test]
fn encodings_are_unique() {
    let mut seen = HashSet::new();
    for spec in TABLE {
        assert!(
            seen.insert((spec.code, spec.select)),
            "{} duplicates an encoding",
            spec.name
        );
    }
}

#[test]
fn rows_sharing_a_byte_use_one_selecting_field() {
    for spec in TABLE {
        for other in TABLE.iter().filter(|o| o.code == spec.code) {
            let field = |s: Select| std::mem::discriminant(&s);
            assert_eq!(
                field(spec.select),
                field(other.select),
                "{} vs {}",
                spec.name,
                other.name
            );
            if other.opcode != spec.opcode {
                assert_ne!(spec.select, Select::None, "{} shares its byte", spec.name);
            }
        }
    }
}

/// An instruction with distinct, non-zero values in every operand field.
fn sample(opcode: Opcode) -> Insn {
    Insn::new(opcode)
        .with_dst(Reg::R3)
        .with_src(Reg::R7)
        .with_off(-12)
        .with_imm(0x1234)
        .with_imm64(0x1122_3344_0000_1234)
}

#[test]
fn every_row_prints_distinctly_in_both_dialects() {
    for dialect in [Dialect::Llvm, Dialect::Ubpf] {
        let mut seen = HashSet::new();
        for opcode in Opcode::all() {
            let text = sample(opcode).display(dialect).to_string();
            assert!(
                seen.insert(text.clone()),
                "{dialect}: `{text}` printed twice"
            );
        }
    }
}

#[test]
fn kinds_agree_with_the_opcode_byte() {
    // The class bits (low three) of the opcode byte, as RFC 9669 section 3 lists them.
    for spec in TABLE {
        let class = spec.code & 0x07;
        let expected = match spec.kind {
            Kind::LoadImm64 { .. } | Kind::LoadPacket { .. } => 0x00,
            Kind::Load { .. } => 0x01,
            Kind::Store {
                src: bpfkit_isa::Source::Imm,
                ..
            } => 0x02,
            Kind::Store { .. } | Kind::Atomic { .. } => 0x03,
            Kind::Alu {
                width: bpfkit_isa::Width::W32,
                ..
            } => 0x04,
            Kind::Endian {
                order: bpfkit_isa::ByteOrder::Swap,
                ..
            } => 0x07,
            Kind::Endian { .. } => 0x04,
            Kind::Jump {
                width: bpfkit_isa::Width::W64,
                ..
            } => 0x05,
            Kind::Ja | Kind::Call { .. } | Kind::CallX | Kind::Exit => 0x05,
            Kind::Jump { .. } | Kind::Ja32 => 0x06,
            Kind::Alu { .. } => 0x07,
        };
        assert_eq!(class, expected, "{}", spec.name);
    }
}
