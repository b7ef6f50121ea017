//! Parsing arbitrary bytes as a BPF object never panics: the low-level ELF view, then the
//! object model, then everything a consumer touches (every function decoded, every relocation,
//! call, map, data section and extern looked at, every error and warning rendered). Seeds
//! include objects of the shapes `crates/bpfkit-elf/tests/shapes.rs` builds (iproute2 maps, RELA
//! tables, NOTYPE functions, ...; see `fuzz/seed.sh`).
#![no_main]

use bpfkit_elf::{ElfFile, InitialTarget, LegacyLayout, Object, RelocTarget};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    match ElfFile::parse(data) {
        Ok(elf) => {
            for s in elf.sections() {
                let _ = (s.type_name(), s.is_code(), s.data.len());
            }
            for r in elf.relocation_sections() {
                for rel in &r.relocations {
                    assert!(elf.symbol(rel.symbol).is_some());
                    assert!(rel.offset < elf.section(r.target).unwrap().size);
                    assert_eq!(rel.addend.is_some(), r.rela);
                }
            }
        }
        Err(e) => {
            let _ = e.to_string();
            return;
        }
    }
    let object = match Object::parse(data) {
        Ok(object) => object,
        Err(e) => {
            let _ = e.to_string();
            return;
        }
    };
    for f in object.functions() {
        if let Err(e) = f.decode() {
            let _ = e.to_string();
        }
        for r in &f.relocations {
            assert!(r.insn < f.insn_count());
            match r.target {
                RelocTarget::Map(i) => assert!(i.0 < object.maps().len()),
                RelocTarget::Data { data, .. } => assert!(data.0 < object.data_sections().len()),
                RelocTarget::ExternVar(i) | RelocTarget::ExternCall(i) => {
                    assert!(i.0 < object.externs().len())
                }
                RelocTarget::Call { section, insn } | RelocTarget::FuncAddr { section, insn } => {
                    let s = object.elf().section(section).unwrap();
                    assert!(insn < s.size / 8);
                    let _ = object.function_at(section, insn);
                }
            }
        }
        for c in &f.calls {
            let _ = object.function_at(c.target_section, c.target_insn);
        }
        for l in &f.line_info {
            assert!(l.insn < f.insn_count());
        }
        for r in &f.core_relos {
            assert!(r.insn < f.insn_count());
        }
        let _ = format!("{f:?}");
    }
    for p in object.programs() {
        let _ = (p.prog_type(), p.expected_attach_type(), p.attach_target());
    }
    for m in object.maps() {
        if let Some(legacy) = &m.legacy {
            assert!(legacy.extra.len() as u64 <= m.size);
            if let LegacyLayout::Iproute2 { .. } | LegacyLayout::KernelSamples { .. } =
                legacy.layout
            {
                let _ = m.inner;
            }
        }
        let _ = (m.pinning.value(), m.pinning.to_string());
        for v in &m.initial_values {
            match v.target {
                InitialTarget::Program(i) => assert!(i.0 < object.programs().len()),
                InitialTarget::Map(i) => assert!(i.0 < object.maps().len()),
            }
        }
    }
    for w in object.warnings() {
        assert!(w.offset <= data.len() as u64);
        let _ = (w.to_string(), w.kind.name(), w.kind.refused_by_libbpf());
    }
    let _ = format!(
        "{:?} {:?} {:?} {:?} {:?}",
        object.maps(),
        object.data_sections(),
        object.externs(),
        object.license(),
        object.kernel_version()
    );
});
