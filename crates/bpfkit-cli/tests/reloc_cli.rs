//! `bpfkit reloc`: one report per CO-RE record of the object (counted by bpfkit-elf, which
//! reads `.BTF.ext` apart from the relocator), JSON with the contract's fields, exit 1 with the
//! record named when a relocation cannot be applied, exit 2 on bad input. Whether the values
//! are right is `bpfkit-relo`'s core_libbpf test, against libbpf.

mod common;

use bpfkit_elf::Object;
use common::{bpfkit, root};

fn path(rel: &str) -> String {
    root().join(rel).display().to_string()
}

fn record_count(rel: &str) -> usize {
    let bytes = std::fs::read(root().join(rel)).unwrap();
    let object = Object::parse(&bytes).unwrap();
    object.functions().map(|f| f.core_relos.len()).sum()
}

#[test]
fn every_record_is_reported_in_text_and_json() {
    let obj = "testdata/obj/core_reloc_nesting.v3.g.o";
    let target = "testdata/btf/core_nesting___anon_embed.btf";
    let records = record_count(obj);
    assert!(records > 5);

    let out = bpfkit(&["reloc", &path(obj), "--target", &path(target)]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8(out.stdout).unwrap();
    assert_eq!(text.lines().count(), records);
    assert!(
        text.lines()
            .all(|l| l.contains(" insn ") && l.contains(" => ")),
        "{text}"
    );

    let out = bpfkit(&[
        "reloc",
        "--format",
        "json",
        &path(obj),
        "--target",
        &path(target),
    ]);
    assert_eq!(out.status.code(), Some(0));
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let all = json.as_array().unwrap();
    assert_eq!(all.len(), records);
    for r in all {
        for field in [
            "program", "insn", "kind", "local", "target", "old", "new", "poisoned",
        ] {
            assert!(r.get(field).is_some(), "{field} missing in {r}");
        }
        assert_eq!(r["new"].is_null(), r["poisoned"].as_bool().unwrap(), "{r}");
    }
}

#[test]
fn an_ambiguous_relocation_exits_1_naming_the_candidates() {
    let obj = "testdata/obj/core_reloc_flavors.v3.g.o";
    let out = bpfkit(&["reloc", &path(obj), "--target", &path(obj)]);
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.starts_with("error: ")
            && err.contains("function 'flavors': insn 1: CO-RE relocation #0 (field_byte_offset of struct core_flavors___weird.a): 2 candidates match: core_flavors___weird, core_flavors___reversed"),
        "{err}"
    );
}

#[test]
fn unreadable_targets_and_objects_exit_2() {
    let obj = path("testdata/obj/core.v3.g.o");
    let out = bpfkit(&["reloc", &obj, "--target", "/nonexistent/btf"]);
    assert_eq!(out.status.code(), Some(2));
    let out = bpfkit(&["reloc", &path("testdata/src/core.bpf.c")]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).starts_with("error: "));
}
