//! Every command that takes an ELF object (`disasm`, `plugin --elf`, `btf dump`) reads it
//! through `bpfkit-elf`: a good object works, a bad one is exit 2 with the byte offset in the
//! file (and the section) of what is wrong. Offsets are computed here with the `object` crate.

mod common;

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use common::*;
use object::{Object, ObjectSection};

fn testdata(name: &str) -> PathBuf {
    root().join("testdata/obj").join(name)
}

/// `(file offset, section index)` of section `name`, by the `object` crate.
fn section_at(bytes: &[u8], name: &str) -> (usize, usize) {
    let file = object::File::parse(bytes).unwrap();
    let section = file.section_by_name(name).unwrap();
    (section.file_range().unwrap().0 as usize, section.index().0)
}

fn write(dir: &Path, name: &str, bytes: &[u8]) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, bytes).unwrap();
    path
}

/// Runs bpfkit; expects exit 2 with one `error: PREFIX...` line containing `needle`.
fn fails(args: &[&str], stdin: Option<&str>, prefix: &str, needle: &str) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_bpfkit"))
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(stdin.unwrap_or("").as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{args:?}: {stderr}");
    let first = stderr.lines().next().unwrap_or_default();
    assert!(
        first.starts_with(&format!("error: {prefix}")),
        "{args:?}: {stderr}"
    );
    assert!(
        first.contains(needle),
        "{args:?}: `{first}` lacks `{needle}`"
    );
}

#[test]
fn disasm_reads_objects_with_bpfkit_elf() {
    let dir = scratch("object_inputs_disasm");
    let good = std::fs::read(testdata("xdp_pass.v1.o")).unwrap();
    let out = stdout_of(
        bpfkit(&["disasm", testdata("xdp_pass.v1.o").to_str().unwrap()]),
        "disasm",
    );
    assert!(out.starts_with("; section xdp\n"), "{out}");

    // An unknown opcode in the first slot of the xdp section: its absolute offset.
    let (offset, index) = section_at(&good, "xdp");
    let mut bad = good.clone();
    bad[offset] = 0xff;
    let p = write(&dir, "bad_opcode.o", &bad);
    let p = p.to_str().unwrap();
    fails(
        &["disasm", p],
        None,
        p,
        &format!(
            "at offset {offset:#x} (section {index} 'xdp'): instruction 0: unknown opcode 0xff"
        ),
    );

    // The section header table cut off.
    let p = write(&dir, "cut.o", &good[..good.len() - 10]);
    let p = p.to_str().unwrap();
    fails(
        &["disasm", p],
        None,
        &format!("{p}: at offset 0x"),
        "section header table",
    );
}

#[test]
fn plugin_reads_elf_programs_with_bpfkit_elf() {
    let good = std::fs::read(testdata("xdp_pass.v1.o")).unwrap();
    let hex = |b: &[u8]| {
        b.iter()
            .map(|x| format!("{x:02x}"))
            .collect::<Vec<_>>()
            .join(" ")
    };
    // xdp_pass returns XDP_PASS (2).
    let mut child = Command::new(env!("CARGO_BIN_EXE_bpfkit"))
        .args(["plugin", "--elf"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(hex(&good).as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert_eq!(stdout_of(out, "plugin --elf"), "2\n");

    // e_machine x86_64: refused, at the field's offset (18).
    let mut x86 = good.clone();
    x86[18] = 62;
    fails(
        &["plugin", "--elf"],
        Some(&hex(&x86)),
        "ELF: at offset 0x12: ",
        "e_machine",
    );
}

/// `btf dump` reads the `.BTF` of any ELF64 file, not only BPF objects (bpftool dumps kernel
/// modules and vmlinux too): an object relabelled as x86_64 dumps as the original does.
#[test]
fn btf_dump_reads_any_elf_with_bpfkit_elf() {
    let dir = scratch("object_inputs_btf");
    let good_path = testdata("xdp_pass.v1.g.o");
    let good = std::fs::read(&good_path).unwrap();
    let mut x86 = good.clone();
    x86[18] = 62;
    let x86_path = write(&dir, "x86.o", &x86);
    let ours = |p: &Path| stdout_of(bpfkit(&["btf", "dump", p.to_str().unwrap()]), "btf dump");
    let expected = ours(&good_path);
    assert!(expected.contains("FUNC 'xdp_pass'"), "{expected}");
    assert_eq!(ours(&x86_path), expected);

    // .BTF's bytes outside the file: the section header's offset field.
    let file = object::File::parse(&*good).unwrap();
    let btf_index = file.section_by_name(".BTF").unwrap().index().0;
    let shoff = u64::from_le_bytes(good[0x28..0x30].try_into().unwrap()) as usize;
    let mut bad = good.clone();
    let sh_offset = shoff + btf_index * 64 + 24;
    bad[sh_offset..sh_offset + 8].copy_from_slice(&u64::MAX.to_le_bytes());
    let p = write(&dir, "far.o", &bad);
    let p = p.to_str().unwrap();
    fails(
        &["btf", "dump", p],
        None,
        &format!("{p}: at offset {sh_offset:#x} (section {btf_index} '.BTF'): "),
        "is outside the file",
    );
}
