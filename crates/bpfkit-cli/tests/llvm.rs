//! The LLVM dialect is LLVM's: our output assembles with llvm-mc to the same bytes, and we
//! assemble what llvm-objdump prints for clang-built objects to the bytes it printed.
//!
//! LLVM's text cannot say that a call is local (src=1) or a kfunc (src=2): `call -1` means a
//! helper to llvm-mc. Comparisons therefore ignore the src field of call instructions.

mod common;

use std::collections::BTreeMap;
use std::process::Command;

use bpfkit_asm::conformance::TestFile;
use common::*;
use object::{Object, ObjectSection};

/// Clears the src nibble of call instructions (opcode 0x85), slot by slot.
fn without_call_src(code: &[u8]) -> Vec<u8> {
    let mut out = code.to_vec();
    let mut slot = 0;
    while slot + 8 <= out.len() {
        match out[slot] {
            0x85 => out[slot + 1] &= 0x0f,
            0x18 => slot += 8, // lddw: skip its second slot
            _ => {}
        }
        slot += 8;
    }
    out
}

#[test]
fn llvm_mc_assembles_our_disassembly_of_every_conformance_program() {
    let Some(llvm_mc) = tool("llvm-mc-19") else {
        return;
    };
    let dir = scratch("llvm_mc_conformance");
    let mut source = String::new();
    let mut expected = BTreeMap::new();
    for path in files_with_suffix(&root().join("testdata/conformance/tests"), ".data") {
        let name = path
            .file_stem()
            .unwrap()
            .to_string_lossy()
            .replace(['-', '.'], "_");
        let file = TestFile::parse(&std::fs::read_to_string(&path).unwrap()).unwrap();
        let bytes = file.program().unwrap();
        let bin = dir.join(format!("{name}.bin"));
        std::fs::write(&bin, &bytes).unwrap();
        let text = stdout_of(
            bpfkit(&["disasm", "--dialect", "llvm", bin.to_str().unwrap()]),
            "bpfkit disasm",
        );
        source.push_str(&format!(".section t_{name},\"ax\",@progbits\n{text}"));
        expected.insert(format!("t_{name}"), bytes);
    }
    assert_eq!(expected.len(), 313);
    let asm = dir.join("all.s");
    let obj = dir.join("all.o");
    std::fs::write(&asm, &source).unwrap();
    let out = Command::new(llvm_mc)
        .args(["-triple", "bpfel", "-mcpu=v4", "-filetype=obj", "-o"])
        .arg(&obj)
        .arg(&asm)
        .output()
        .unwrap();
    stdout_of(out, "llvm-mc-19");
    let data = std::fs::read(&obj).unwrap();
    let file = object::File::parse(&*data).unwrap();
    let mut checked = 0;
    for section in file.sections() {
        let name = section.name().unwrap();
        if let Some(bytes) = expected.get(name) {
            let theirs = section.data().unwrap();
            assert_eq!(
                without_call_src(theirs),
                without_call_src(bytes),
                "{name}: llvm-mc assembled different bytes"
            );
            checked += 1;
        }
    }
    assert_eq!(
        checked,
        expected.len(),
        "every program came back from llvm-mc"
    );
}

/// One instruction line of `llvm-objdump -d`: its bytes and its text.
fn objdump_lines(text: &str) -> Vec<(Vec<u8>, String)> {
    let mut out = Vec::new();
    for line in text.lines() {
        // "      12:\t85 10 00 00 ff ff ff ff\tcall -0x1"
        let mut fields = line.split('\t');
        let (Some(addr), Some(hex), Some(insn)) = (fields.next(), fields.next(), fields.next())
        else {
            continue;
        };
        if !addr.trim_end().ends_with(':')
            || addr.trim().trim_end_matches(':').parse::<u64>().is_err()
        {
            continue;
        }
        let bytes: Option<Vec<u8>> = hex
            .split_whitespace()
            .map(|b| u8::from_str_radix(b, 16).ok())
            .collect();
        if let Some(bytes) = bytes.filter(|b| b.len() == 8 || b.len() == 16) {
            out.push((bytes, insn.trim().to_string()));
        }
    }
    out
}

#[test]
fn we_assemble_what_llvm_objdump_prints_for_clang_objects() {
    let Some(objdump) = tool("llvm-objdump-19") else {
        return;
    };
    let objects = files_with_suffix(&root().join("testdata"), ".o");
    assert!(!objects.is_empty(), "testdata/ holds clang-built objects");
    let mut lines = 0;
    for obj in &objects {
        let out = Command::new(&objdump)
            .args(["-d", "--mattr=+alu32"])
            .arg(obj)
            .output()
            .unwrap();
        let text = stdout_of(out, "llvm-objdump-19");
        for (bytes, insn) in objdump_lines(&text) {
            let ours = bpfkit_asm::assemble_bytes(&insn, bpfkit_isa::Dialect::Llvm)
                .unwrap_or_else(|e| panic!("{}: `{insn}`: {e}", obj.display()));
            assert_eq!(
                without_call_src(&ours),
                without_call_src(&bytes),
                "{}: `{insn}`",
                obj.display()
            );
            lines += 1;
        }
    }
    assert!(lines > 0);
    eprintln!("{lines} instructions of {} objects", objects.len());
}
