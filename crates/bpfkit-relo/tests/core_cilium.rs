//! cilium/ebpf's CO-RE fixtures (MIT; Debian's golang-github-cilium-ebpf-dev ships them, CI
//! installs it; `BPFKIT_CILIUM_BTF_TESTDATA` points at another copy of `btf/testdata`).
//!
//! - `relocs-el.elf` relocated against its own BTF: every relocation gives the target the
//!   same value as the local type (cilium's "local == target" check); the `err_ambiguous*`
//!   programs fail with an ambiguity error; every other program, linked and run in our
//!   interpreter, returns 0 (each returns `__LINE__` when one of its checks fails).
//! - `relocs_read-el.elf` relocated against `relocs_read_tgt-el.elf`'s BTF: every program
//!   returns 0 (it checks the values it reads through relocated accesses).
//! - Both compared with libbpf, relocation by relocation, when the kernel and libbpf are here.

mod core_oracle;

use std::path::PathBuf;

use bpfkit_elf::Object;
use bpfkit_relo::core::{CoreErrorKind, CoreTarget, relocate_object};
use bpfkit_relo::{LinkErrorKind, Linker};
use bpfkit_test_support::{Need, require};
use bpfkit_vm::Vm;
use core_oracle::{Target, compare};

const DEBIAN: &str = "/usr/share/gocode/src/github.com/cilium/ebpf/btf/testdata";

fn fixture(name: &str) -> PathBuf {
    let dir =
        std::env::var_os("BPFKIT_CILIUM_BTF_TESTDATA").map_or_else(|| DEBIAN.into(), PathBuf::from);
    dir.join(name)
}

/// Links `program` against `target`, runs it in the interpreter and returns r0.
fn run(object: &Object<'_>, target: &CoreTarget<'_>, program: &str) -> u64 {
    let image = Linker::new(object)
        .with_core_target(target)
        .link(program)
        .unwrap_or_else(|e| panic!("{program}: {e}"));
    let mut vm = Vm::from_image(&image).unwrap_or_else(|e| panic!("{program}: {e}"));
    vm.run(&mut []).unwrap_or_else(|e| panic!("{program}: {e}"))
}

#[test]
fn relocs_against_own_btf() {
    let path = fixture("relocs-el.elf");
    require!(Need::File(path.to_str().unwrap()));
    let data = std::fs::read(&path).unwrap();
    let object = Object::parse(&data).unwrap();
    let btf = object.btf().expect("relocs-el.elf has BTF");
    let target = CoreTarget::new(btf);

    let mut fixups = 0;
    let mut ambiguous = 0;
    for applied in relocate_object(&object, &target) {
        match &applied.result {
            Ok(out) => {
                assert!(!out.poisoned, "{}: {out:?}", applied.function);
                assert_eq!(
                    Some(out.expected),
                    out.new,
                    "{} insn {}: local and target differ: {out:?}",
                    applied.function,
                    applied.insn
                );
                fixups += 1;
            }
            Err(e) => {
                assert!(
                    applied.function.starts_with("err_ambiguous"),
                    "{}: {e}",
                    applied.function
                );
                assert!(matches!(e.reason, CoreErrorKind::Ambiguous { .. }), "{e}");
                ambiguous += 1;
            }
        }
    }
    assert_eq!(ambiguous, 2, "err_ambiguous and err_ambiguous_flavour");

    let mut ran = 0;
    for program in object.programs() {
        let name = program.name();
        if name.starts_with("err_ambiguous") {
            let err = Linker::new(&object)
                .with_core_target(&target)
                .link(name)
                .expect_err("ambiguous");
            match *err.kind {
                LinkErrorKind::Core { ref error, .. } => {
                    assert!(
                        matches!(error.reason, CoreErrorKind::Ambiguous { .. }),
                        "{error}"
                    );
                    eprintln!("{name}: {err}");
                }
                ref other => panic!("{name}: not a CO-RE error: {other}"),
            }
            continue;
        }
        assert_eq!(
            run(&object, &target, name),
            0,
            "{name} failed at the line it returned"
        );
        ran += 1;
    }
    eprintln!(
        "relocs-el.elf: {fixups} fixups with local == target, {ambiguous} ambiguity errors, {ran} programs returned 0"
    );
    assert!(ran >= 4);
}

#[test]
fn relocs_read_against_tgt() {
    let (path, tgt) = (
        fixture("relocs_read-el.elf"),
        fixture("relocs_read_tgt-el.elf"),
    );
    require!(
        Need::File(path.to_str().unwrap()),
        Need::File(tgt.to_str().unwrap())
    );
    let data = std::fs::read(&path).unwrap();
    let object = Object::parse(&data).unwrap();
    let tgt_data = std::fs::read(&tgt).unwrap();
    let tgt_object = Object::parse(&tgt_data).unwrap();
    let target = CoreTarget::new(tgt_object.btf().expect("target BTF"));
    let mut ran = 0;
    for program in object.programs() {
        assert_eq!(
            run(&object, &target, program.name()),
            0,
            "{} failed at the line it returned",
            program.name()
        );
        ran += 1;
    }
    let records = relocate_object(&object, &target).len();
    eprintln!("relocs_read-el.elf: {records} relocations, {ran} programs returned 0");
    assert!(ran >= 1);
}

#[test]
fn fixtures_match_libbpf() {
    let relocs = fixture("relocs-el.elf");
    let (read, tgt) = (
        fixture("relocs_read-el.elf"),
        fixture("relocs_read_tgt-el.elf"),
    );
    require!(
        Need::Kernel,
        Need::Libbpf,
        Need::File(relocs.to_str().unwrap()),
        Need::File(read.to_str().unwrap()),
        Need::File(tgt.to_str().unwrap())
    );
    let mut diffs = Vec::new();
    for (object, target) in [(&relocs, &relocs), (&read, &tgt)] {
        let (counts, d) = compare(object, Target::File(target));
        eprintln!("{}: {counts:?}", object.display());
        assert!(counts.relocations > 0);
        diffs.extend(d);
    }
    assert!(diffs.is_empty(), "{}", diffs.join("\n"));
}
