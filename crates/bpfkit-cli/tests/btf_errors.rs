//! `bpfkit btf dump` on input it cannot read: exit code 2 and one line `error: FILE: ...` on
//! stderr naming the byte offset (a file offset, also inside ELF objects).

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use bpfkit_btf::{BtfBuilder, IntEncoding, TypeId};
use object::{Object, ObjectSection};

fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("bpfkit-btf-err-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn bpfkit(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_bpfkit"))
        .args(args)
        .output()
        .unwrap()
}

/// Runs `btf dump` on `path` expecting exit 2 and a first stderr line starting with
/// `error: PATH: ` and containing `needle`; returns that line.
fn fails(args: &[&str], path: &Path, needle: &str) -> String {
    let mut all = vec!["btf", "dump"];
    all.extend_from_slice(args);
    all.push(path.to_str().unwrap());
    let out = bpfkit(&all);
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert_eq!(stderr.lines().count(), 1, "one line: {stderr}");
    let line = stderr.lines().next().unwrap().to_string();
    let prefix = format!("error: {}: ", path.display());
    assert!(
        line.starts_with(&prefix),
        "`{line}` should start with `{prefix}`"
    );
    assert!(line.contains(needle), "`{line}` should contain `{needle}`");
    line
}

fn sample() -> Vec<u8> {
    let mut b = BtfBuilder::new();
    let int = b.add_int("int", 4, IntEncoding::SIGNED);
    b.add_ptr(int);
    b.encode()
}

#[test]
fn unreadable_files() {
    let dir = scratch("unreadable");
    let missing = dir.join("missing.btf");
    fails(&[], &missing, "No such file");
    let garbage = dir.join("garbage.bin");
    std::fs::write(&garbage, b"hello, world").unwrap();
    fails(&[], &garbage, "at offset 0x0: bad magic");
    let empty = dir.join("empty.bin");
    std::fs::write(&empty, b"").unwrap();
    fails(&[], &empty, "at offset 0x0: truncated");
}

#[test]
fn corrupt_raw_btf_names_the_offset() {
    let dir = scratch("corrupt");
    let good = sample();
    // Truncated inside the header: hdr_len says 24 bytes, 10 are there.
    let path = dir.join("short.btf");
    std::fs::write(&path, &good[..10]).unwrap();
    fails(&[], &path, "at offset 0x4: bad header length");
    // The PTR (second record, at 24 + 16) points at type 9.
    let mut data = good.clone();
    data[24 + 16 + 8..24 + 16 + 12].copy_from_slice(&9u32.to_le_bytes());
    let path = dir.join("bad_id.btf");
    std::fs::write(&path, &data).unwrap();
    fails(
        &["--format", "c"],
        &path,
        "at offset 0x30: type id 9 is out of range",
    );
    // A cycle only shows when the C dump follows it.
    let mut b = BtfBuilder::new();
    b.add_typedef("loop_t", TypeId(2));
    b.add_const(TypeId(1));
    let path = dir.join("cycle.btf");
    std::fs::write(&path, b.encode()).unwrap();
    assert!(
        bpfkit(&["btf", "dump", path.to_str().unwrap()])
            .status
            .success()
    );
    fails(&["--format", "c"], &path, "cycle");
}

#[test]
fn elf_errors_give_file_offsets() {
    let dir = scratch("elf");
    let testdata = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../testdata/obj");
    let obj = testdata.join("xdp_pass.v1.g.o");
    let data = std::fs::read(&obj).unwrap();
    let file = object::File::parse(&*data).unwrap();
    let (start, _) = file.section_by_name(".BTF").unwrap().file_range().unwrap();
    let mut bad = data.clone();
    bad[start as usize] ^= 0xff;
    let path = dir.join("bad_magic.o");
    std::fs::write(&path, &bad).unwrap();
    fails(
        &[],
        &path,
        &format!(".BTF: at offset {start:#x}: bad magic"),
    );
    // An object with no .BTF at all.
    fails(&[], &testdata.join("xdp_pass.v1.o"), "no .BTF section");
}

#[test]
fn split_btf_needs_its_base() {
    let dir = scratch("split");
    let base = dir.join("base.btf");
    std::fs::write(&base, sample()).unwrap();
    let base_data = sample();
    let base_btf = bpfkit_btf::Btf::parse(&base_data).unwrap();
    let mut b = BtfBuilder::new_split(&base_btf);
    b.add_typedef("int_ptr_t", TypeId(2));
    let split = dir.join("split.btf");
    std::fs::write(&split, b.encode()).unwrap();
    let ok = bpfkit(&[
        "btf",
        "dump",
        "--base",
        base.to_str().unwrap(),
        split.to_str().unwrap(),
    ]);
    assert!(ok.status.success());
    assert_eq!(
        String::from_utf8_lossy(&ok.stdout),
        "[3] TYPEDEF 'int_ptr_t' type_id=2\n"
    );
    // Read alone, the split part's first string is not the empty string.
    fails(&[], &split, "bad string section");
    // A bad base is reported against the base's path.
    let garbage = dir.join("garbage");
    std::fs::write(&garbage, b"nope").unwrap();
    let out = bpfkit(&[
        "btf",
        "dump",
        "--base",
        garbage.to_str().unwrap(),
        split.to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.starts_with(&format!(
            "error: {}: at offset 0x0: bad magic",
            garbage.display()
        )),
        "{stderr}"
    );
}

#[test]
fn usage_errors_exit_2() {
    let out = bpfkit(&["btf", "dump", "--format", "json", "x"]);
    assert_eq!(out.status.code(), Some(2));
}
