//! CO-RE against the running kernel's BTF (`/sys/kernel/btf/vmlinux`, module BTFs after it):
//! every object with CO-RE records in `testdata/obj/` (our tracing object with a few hundred
//! `BPF_CORE_READ`s over kernel structs among them) and in cilium/ebpf's testdata (Debian's
//! golang-github-cilium-ebpf-dev), relocated by bpfkit and by libbpf, every relocation compared
//! (values, specs, poisonings, failures, and libbpf's final instruction bytes).
//!
//! `BPFKIT_CORE_EXTRA_OBJECTS=DIR` adds every `*-el.elf` and `*.o` under DIR (a newer
//! cilium/ebpf checkout, by hand).

mod core_oracle;

use std::path::{Path, PathBuf};

use bpfkit_elf::Object;
use bpfkit_test_support::{Need, VMLINUX, require};
use core_oracle::{Counts, Target, compare, testdata};

const CILIUM: &str = "/usr/share/gocode/src/github.com/cilium/ebpf";

/// Files under `dir` (recursively) whose name ends with one of `suffixes`.
fn files(dir: &Path, suffixes: &[&str], out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for e in entries.flatten() {
        let p = e.path();
        if p.is_dir() {
            files(&p, suffixes, out);
        } else if p
            .file_name()
            .and_then(|n| n.to_str())
            .is_some_and(|n| suffixes.iter().any(|s| n.ends_with(s)))
        {
            out.push(p);
        }
    }
}

/// Whether the object parses and has CO-RE records.
fn has_core(path: &Path) -> bool {
    let Ok(data) = std::fs::read(path) else {
        return false;
    };
    let Ok(obj) = Object::parse(&data) else {
        return false;
    };
    obj.btf_ext()
        .is_some_and(|e| e.core_relos.records().next().is_some())
}

fn compare_all(objects: &[PathBuf]) -> (usize, Counts) {
    let mut total = Counts::default();
    let mut diffs = Vec::new();
    let mut compared = 0;
    for object in objects {
        let (counts, d) = compare(object, Target::Kernel);
        eprintln!("{}: {counts:?}", object.display());
        total += counts;
        compared += 1;
        diffs.extend(d);
    }
    assert!(
        diffs.is_empty(),
        "{} differences:\n{}",
        diffs.len(),
        diffs.join("\n")
    );
    (compared, total)
}

#[test]
fn testdata_objects_match_libbpf_on_this_kernel() {
    require!(Need::Kernel, Need::Libbpf, Need::File(VMLINUX));
    let mut objects = Vec::new();
    files(&testdata().join("obj"), &[".o"], &mut objects);
    objects.retain(|p| has_core(p));
    objects.sort();
    assert!(
        objects.iter().any(|p| p.ends_with("core_tracing.v3.g.o")),
        "the tracing object is missing"
    );
    let (n, total) = compare_all(&objects);
    eprintln!(
        "testdata: {n} objects ({} that libbpf cannot relocate on this kernel), {} relocations \
         compared ({} patched, {} poisoned, {} failed, {} not reached by libbpf), {} \
         instructions compared byte for byte",
        total.libbpf_unreached,
        total.relocations,
        total.patched,
        total.poisoned,
        total.failed,
        total.not_reached,
        total.insns_compared
    );
    // Only the externs objects may be out of libbpf's reach here (a strong __ksym this
    // kernel lacks): everything else must have been compared.
    assert!(total.libbpf_unreached <= 4, "{total:?}");
    assert!(total.relocations >= 300);
}

#[test]
fn cilium_objects_match_libbpf_on_this_kernel() {
    require!(
        Need::Kernel,
        Need::Libbpf,
        Need::File(VMLINUX),
        Need::File(&format!("{CILIUM}/btf/testdata/relocs-el.elf"))
    );
    let mut objects = Vec::new();
    files(Path::new(CILIUM), &["-el.elf"], &mut objects);
    if let Some(extra) = std::env::var_os("BPFKIT_CORE_EXTRA_OBJECTS") {
        files(Path::new(&extra), &["-el.elf", ".o"], &mut objects);
    }
    objects.retain(|p| has_core(p));
    objects.sort();
    assert!(!objects.is_empty());
    let (n, total) = compare_all(&objects);
    eprintln!(
        "cilium/ebpf: {n} objects ({} that libbpf cannot relocate on this kernel), {} \
         relocations compared ({} patched, {} poisoned, {} failed, {} not reached by libbpf), \
         {} instructions compared byte for byte",
        total.libbpf_unreached,
        total.relocations,
        total.patched,
        total.poisoned,
        total.failed,
        total.not_reached,
        total.insns_compared
    );
}
