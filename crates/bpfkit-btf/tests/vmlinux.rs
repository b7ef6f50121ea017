//! The running kernel's BTF: parse, re-encode byte for byte, and walk every type.
//!
//! Needs `/sys/kernel/btf/vmlinux`; without it the tests say why and pass, unless `CI=true`.

use bpfkit_btf::{Btf, BtfBuilder, Kind};

const VMLINUX: &str = "/sys/kernel/btf/vmlinux";

fn vmlinux() -> Option<Vec<u8>> {
    match std::fs::read(VMLINUX) {
        Ok(data) => Some(data),
        Err(e) if std::env::var("CI").as_deref() == Ok("true") => {
            panic!("CI=true but {VMLINUX} cannot be read: {e}")
        }
        Err(e) => {
            eprintln!("skipped: {VMLINUX}: {e}");
            None
        }
    }
}

#[test]
fn encode_of_parse_is_byte_identical() {
    let Some(data) = vmlinux() else { return };
    let btf = Btf::parse(&data).unwrap();
    let builder = BtfBuilder::from_btf(&btf);
    assert!(builder.encode() == data, "re-encoded vmlinux BTF differs");
}

#[test]
fn every_type_walks_without_error() {
    let Some(data) = vmlinux() else { return };
    let btf = Btf::parse(&data).unwrap();
    assert!(btf.own_type_count() > 1000);
    for t in btf.types() {
        let id = t.id();
        btf.resolve(id).unwrap();
        match t.kind() {
            Kind::Struct | Kind::Union => {
                assert_eq!(btf.size_of(id).unwrap(), u64::from(t.size().unwrap()));
                btf.align_of(id).unwrap();
                for m in t.members() {
                    if m.name_offset() != 0 {
                        let (found, _) = btf.find_member(id, m.name().unwrap()).unwrap().unwrap();
                        assert_eq!(found.name_bytes(), m.name_bytes());
                    }
                }
            }
            Kind::Int | Kind::Ptr | Kind::Enum | Kind::Enum64 | Kind::Float => {
                btf.size_of(id).unwrap();
                btf.align_of(id).unwrap();
            }
            _ => {}
        }
    }
}
