//! The linker's own guarantees on every testdata object: images are well formed (functions
//! tile the slots, func_info starts each function, references sit on the instructions that
//! carry them), and externs fail with errors that name them. Whether the bytes are right is
//! `link_libbpf.rs`'s question, answered by libbpf.

use std::path::{Path, PathBuf};

use bpfkit_elf::Object;
use bpfkit_isa::{Kind, Opcode};
use bpfkit_relo::{Kconfig, LinkErrorKind, Linker, ProgramImage, RefTarget};

fn objects() -> Vec<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../testdata/obj");
    let mut paths: Vec<_> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "o"))
        .collect();
    paths.sort();
    paths
}

fn check_image(what: &str, image: &ProgramImage) {
    // Functions tile the image from slot 0, program first.
    let mut next = 0;
    for f in &image.functions {
        assert_eq!(
            f.start, next,
            "{what}: function {} starts off the tiling",
            f.name
        );
        next += f.slots;
    }
    assert_eq!(
        next,
        image.slot_count(),
        "{what}: functions do not cover the image"
    );
    assert_eq!(image.functions[0].name, image.name);

    // With BTF, every function starts with its func_info record, in order.
    if !image.func_info.is_empty() {
        let starts: Vec<usize> = image.functions.iter().map(|f| f.start).collect();
        let infos: Vec<usize> = image.func_info.iter().map(|f| f.insn).collect();
        assert_eq!(
            infos, starts,
            "{what}: func_info does not start each function"
        );
    }
    // line_info is sorted and inside the image.
    assert!(image.line_info.windows(2).all(|w| w[0].insn <= w[1].insn));
    assert!(image.line_info.iter().all(|l| l.insn < image.slot_count()));

    // Every reference sits on the instruction form that carries it.
    let slots: Vec<_> = image.slots().collect();
    for r in &image.refs {
        let (_, insn) = slots
            .iter()
            .find(|(s, _)| *s == r.insn)
            .unwrap_or_else(|| panic!("{what}: reference inside an instruction"));
        let ok = match r.target {
            RefTarget::Map(m) => insn.opcode == Opcode::LdMapIdx && insn.imm as u32 == m.0,
            RefTarget::MapValue { map, offset } => {
                insn.opcode == Opcode::LdMapIdxValue
                    && insn.imm as u32 == map.0
                    && insn.next_imm as u32 == offset
            }
            RefTarget::Ksym(_) => matches!(insn.opcode, Opcode::LdImm64 | Opcode::LdBtfId),
            RefTarget::Kfunc(_) => insn.opcode == Opcode::CallKfunc,
        };
        assert!(
            ok,
            "{what}: slot {}: {insn} does not carry {:?}",
            r.insn, r.target
        );
        if let Some(slot) = match r.target {
            RefTarget::Map(m) | RefTarget::MapValue { map: m, .. } => Some(m),
            _ => None,
        } {
            assert!(
                image.map(slot).is_some(),
                "{what}: map slot {slot} out of the table"
            );
        }
    }
    // No map-fd or unresolved pseudo forms are left for an executor to guess at.
    for (slot, insn) in &slots {
        assert!(
            !matches!(insn.opcode, Opcode::LdMapFd | Opcode::LdMapValue),
            "{what}: slot {slot}: {insn} is not symbolic"
        );
        if let Kind::Call { .. } = insn.kind()
            && insn.opcode == Opcode::CallLocal
        {
            let target = *slot as i64 + 1 + i64::from(insn.imm);
            assert!(
                image.functions.iter().any(|f| f.start as i64 == target),
                "{what}: slot {slot}: call lands on no function"
            );
        }
    }
}

#[test]
fn every_testdata_program_links_into_a_well_formed_image() {
    let mut linked = 0;
    for path in objects() {
        let bytes = std::fs::read(&path).unwrap();
        let object = Object::parse(&bytes).unwrap();
        // CO-RE against the object's own BTF (every match exact); kconfig values come from an
        // explicit config so the test does not depend on this kernel's.
        let own = object.btf().map(bpfkit_relo::CoreTarget::new);
        let mut config = Kconfig::new();
        for name in object.externs().iter().map(|e| e.name) {
            config.set(
                name,
                if name.starts_with("CONFIG_") {
                    "y"
                } else {
                    "0"
                },
            );
        }
        let mut linker = Linker::new(&object).with_kconfig(config);
        if let Some(own) = &own {
            linker = linker.with_core_target(own);
        }
        for (name, result) in linker.link_all() {
            let what = format!("{}:{name}", path.display());
            match result {
                Ok(image) => {
                    check_image(&what, &image);
                    linked += 1;
                }
                // A kconfig extern whose type takes no 'y' (an int) is refused like libbpf.
                Err(e) if matches!(*e.kind, LinkErrorKind::Extern { .. }) => {}
                // The CO-RE error cases of testdata fail as libbpf fails on them
                // (core_libbpf.rs compares each with libbpf).
                Err(e)
                    if matches!(*e.kind, LinkErrorKind::Core { .. })
                        && path.to_string_lossy().contains("core_reloc_") => {}
                Err(e) => panic!("{what}: {e}"),
            }
        }
    }
    assert!(linked >= 148, "only {linked} programs linked");
}

#[test]
fn a_missing_strong_kconfig_extern_is_an_error_naming_it() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../testdata/obj/kconfig.v3.g.o");
    let bytes = std::fs::read(path).unwrap();
    let object = Object::parse(&bytes).unwrap();
    let err = Linker::new(&object)
        .with_kconfig(Kconfig::new())
        .link("kconfig_sum")
        .unwrap_err();
    assert_eq!(err.program.as_deref(), Some("kconfig_sum"));
    assert!(err.to_string().contains("(strong): not resolved"), "{err}");
    // A value of the wrong kind is refused with libbpf's reason.
    let mut config = Kconfig::parse("CONFIG_HZ=\"text\"").unwrap();
    for name in object.externs().iter().map(|e| e.name) {
        config.set(name, "1");
    }
    config.set("CONFIG_HZ", "\"text\"");
    let err = Linker::new(&object)
        .with_kconfig(config)
        .link("kconfig_sum")
        .unwrap_err();
    assert!(
        err.to_string()
            .contains("extern 'CONFIG_HZ': value '\"text\"' implies char array type"),
        "{err}"
    );
}

/// clang writes a kfunc call as a local call (`src_reg` 1) with a relocation against the extern:
/// the image must carry a kfunc call and a reference naming the extern, not a local call.
/// `bpf_ksym_exists(kfunc)` takes a kfunc's address: a BTF-id `lddw`, as libbpf writes it.
#[test]
fn kfunc_calls_link_as_kfunc_references() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../testdata/obj/kfuncs.v3.g.o");
    let bytes = std::fs::read(path).unwrap();
    let object = Object::parse(&bytes).unwrap();
    let extern_name = |target: &RefTarget| match target {
        RefTarget::Ksym(e) | RefTarget::Kfunc(e) => object.externs()[e.0].name.to_string(),
        other => panic!("not an extern: {other:?}"),
    };
    let image = Linker::new(&object).link("kfunc_task_acquire").unwrap();
    check_image("kfunc_task_acquire", &image);
    let calls: Vec<String> = image
        .refs
        .iter()
        .filter(|r| matches!(r.target, RefTarget::Kfunc(_)))
        .map(|r| extern_name(&r.target))
        .collect();
    assert_eq!(calls, ["bpf_task_acquire", "bpf_task_release"]);
    assert!(
        image.slots().all(|(_, i)| i.opcode != Opcode::CallLocal),
        "a kfunc call was left as a local call"
    );

    let image = Linker::new(&object).link("kfunc_weak").unwrap();
    check_image("kfunc_weak", &image);
    let addresses: Vec<String> = image
        .refs
        .iter()
        .filter(|r| matches!(r.target, RefTarget::Ksym(_)))
        .map(|r| extern_name(&r.target))
        .collect();
    assert_eq!(
        addresses,
        ["bpf_kfunc_that_does_not_exist", "bpf_cpumask_create"]
    );
}
