//! `bpfkit objdump` on input it cannot read: exit code 2 and one `error: FILE: ...` line naming
//! the file, never a panic.

mod objdump_support;

use objdump_support::*;

fn assert_input_error(path: &std::path::Path, what: &str) -> String {
    let p = path.to_str().unwrap();
    let out = bpfkit(&["objdump", p]);
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert_eq!(out.status.code(), Some(2), "{what}: {stderr}");
    assert!(
        stderr.starts_with(&format!("error: {p}: ")),
        "{what}: stderr is {stderr:?}"
    );
    assert!(!stderr.contains("panicked"), "{what}: {stderr}");
    stderr
}

#[test]
fn unreadable_and_corrupt_files_exit_2() {
    let dir = common_scratch();
    let good = std::fs::read(root().join("testdata/obj/xdp_parse.v2.g.o")).unwrap();

    assert_input_error(&dir.join("missing.o"), "missing file");

    let text = dir.join("text.o");
    std::fs::write(&text, b"not an ELF file at all").unwrap();
    let e = assert_input_error(&text, "not ELF");
    assert!(e.contains("bad magic"), "{e}");

    let truncated = dir.join("truncated.o");
    std::fs::write(&truncated, &good[..40]).unwrap();
    let e = assert_input_error(&truncated, "truncated header");
    assert!(e.contains("truncated ELF header"), "{e}");

    // The section header table cut off.
    let cut = dir.join("cut.o");
    std::fs::write(&cut, &good[..good.len() - 100]).unwrap();
    let e = assert_input_error(&cut, "cut section table");
    assert!(e.contains("section header table"), "{e}");

    // e_machine = x86_64.
    let mut x86 = good.clone();
    x86[18] = 62;
    let machine = dir.join("x86.o");
    std::fs::write(&machine, &x86).unwrap();
    let e = assert_input_error(&machine, "wrong machine");
    assert!(e.contains("e_machine"), "{e}");

    // A symbol table of 8-byte entries (ebpf-samples' invalid/badsymsize.o): refused, after
    // the section table, which can still be read, is shown.
    let mut bad_symtab = good.clone();
    let file = object::File::parse(&*good).unwrap();
    let symtab = object::Object::section_by_name(&file, ".symtab").unwrap();
    let shoff = u64::from_le_bytes(good[0x28..0x30].try_into().unwrap()) as usize;
    let entsize = shoff + object::ObjectSection::index(&symtab).0 * 64 + 56;
    bad_symtab[entsize] = 8;
    let path = dir.join("symtab.o");
    std::fs::write(&path, &bad_symtab).unwrap();
    let e = assert_input_error(&path, "bad symtab sh_entsize");
    assert!(e.contains(&format!("at offset {entsize:#x}")), "{e}");
    let out = bpfkit(&["objdump", path.to_str().unwrap()]);
    let shown = String::from_utf8_lossy(&out.stdout);
    assert!(
        shown.contains("Sections:") && shown.contains(".symtab"),
        "{shown}"
    );

    // Garbage over the .BTF section's magic: parsing .BTF fails with its absolute offset.
    let object = bpfkit_btf_offset(&good);
    let mut bad_btf = good.clone();
    bad_btf[object] = 0;
    bad_btf[object + 1] = 0;
    let btf = dir.join("btf.o");
    std::fs::write(&btf, &bad_btf).unwrap();
    let e = assert_input_error(&btf, "corrupt .BTF");
    assert!(
        e.contains(&format!("at offset {object:#x}")) && e.contains(".BTF"),
        "{e}"
    );
}

fn common_scratch() -> std::path::PathBuf {
    let dir = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("objdump_errors");
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// The file offset of the `.BTF` section, read with the `object` crate (not ours).
fn bpfkit_btf_offset(data: &[u8]) -> usize {
    use object::{Object, ObjectSection};
    let file = object::File::parse(data).unwrap();
    let section = file.section_by_name(".BTF").unwrap();
    section.file_range().unwrap().0 as usize
}
