//! `bpfkit asm` and `bpfkit disasm` on good and bad input: exit codes, error format, outputs.

mod common;

use std::path::Path;
use std::process::Command;

use bpfkit_test_support::Need;
use common::*;

/// Runs `bpfkit asm` on `source`, expecting failure; returns stderr. Checks the contract:
/// exit 2, first line `error: FILE:LINE:COL: ...`, and the output file left untouched.
fn asm_fails(name: &str, dialect: &str, source: &str, line: usize, col: usize, needle: &str) {
    let dir = scratch(&format!("asm_fails_{name}"));
    let input = dir.join(format!("{name}.s"));
    let output = dir.join("out.bin");
    std::fs::write(&input, source).unwrap();
    std::fs::write(&output, b"keep").unwrap();
    let out = bpfkit(&[
        "asm",
        "--dialect",
        dialect,
        input.to_str().unwrap(),
        "-o",
        output.to_str().unwrap(),
    ]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{name}: {stderr}");
    let first = stderr.lines().next().unwrap();
    let prefix = format!("error: {}:{line}:{col}: ", input.display());
    assert!(
        first.starts_with(&prefix),
        "{name}: `{first}` should start with `{prefix}`"
    );
    assert!(
        first.contains(needle),
        "{name}: `{first}` should mention `{needle}`"
    );
    assert!(
        stderr.contains('^'),
        "{name}: an excerpt with a caret follows"
    );
    assert_eq!(
        std::fs::read(&output).unwrap(),
        b"keep",
        "{name}: output must not be written"
    );
}

#[test]
fn assembler_errors_say_what_and_where() {
    asm_fails(
        "imm_range",
        "ubpf",
        "mov32 %r0, 2147483648\nexit\n",
        1,
        12,
        "out of range",
    );
    asm_fails(
        "imm_range_hex",
        "ubpf",
        "exit\nmov32 %r0, 0x100000000\n",
        2,
        12,
        "out of range",
    );
    asm_fails(
        "imm_range_llvm",
        "llvm",
        "r0 = 4294967296\n",
        1,
        6,
        "out of range",
    );
    asm_fails(
        "register",
        "ubpf",
        "or %r0, %r50\n",
        1,
        9,
        "invalid register `%r50`",
    );
    asm_fails(
        "register_llvm",
        "llvm",
        "r0 = 1\nr11 += 1\n",
        2,
        1,
        "invalid register `r11`",
    );
    asm_fails(
        "mnemonic",
        "ubpf",
        "ldxq %r0, %r1\n",
        1,
        1,
        "unknown instruction `ldxq`",
    );
    asm_fails(
        "mnemonic_llvm",
        "llvm",
        "  frobnicate r1\n",
        1,
        3,
        "unknown instruction `frobnicate`",
    );
    asm_fails(
        "undefined_label",
        "ubpf",
        "ja NOT_A_LABEL\nexit\n",
        1,
        4,
        "undefined label `NOT_A_LABEL`",
    );
    asm_fails(
        "duplicate_label",
        "llvm",
        "a:\nr0 = 0\na:\nexit\n",
        3,
        1,
        "duplicate label `a`",
    );
    asm_fails(
        "offset_range",
        "ubpf",
        "ldxb %r0, [%r1+0x10000]\n",
        1,
        15,
        "out of range",
    );
    asm_fails("missing_operand", "ubpf", "lddw %r0\n", 1, 9, "expected");
    asm_fails("lock_alone", "ubpf", "lock\nexit\n", 1, 5, "expected");
    asm_fails(
        "stray_char",
        "llvm",
        "r0 = 1 @ 2\n",
        1,
        8,
        "unexpected character",
    );
    // A jump to a label 40000 slots away does not fit the 16-bit offset.
    let mut far = String::from("goto far\n");
    far.push_str(&"r0 = 0\n".repeat(40_000));
    far.push_str("far:\nexit\n");
    asm_fails("jump_range", "llvm", &far, 1, 6, "does not fit 16 bits");
}

fn disasm_fails(name: &str, bytes: &[u8], needle: &str) {
    let dir = scratch(&format!("disasm_fails_{name}"));
    let input = dir.join(format!("{name}.bin"));
    std::fs::write(&input, bytes).unwrap();
    let out = bpfkit(&["disasm", input.to_str().unwrap()]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{name}: {stderr}");
    let expected = format!("error: {}: {needle}", input.display());
    assert!(
        stderr.starts_with(&expected),
        "{name}: `{stderr}` should start with `{expected}`"
    );
}

#[test]
fn disassembler_errors_name_the_slot() {
    let exit = [0x95, 0, 0, 0, 0, 0, 0, 0];
    let mut unknown = exit.to_vec();
    unknown.extend([0xff, 0, 0, 0, 0, 0, 0, 0]);
    disasm_fails(
        "unknown_opcode",
        &unknown,
        "instruction 1: unknown opcode 0xff",
    );
    disasm_fails(
        "truncated_lddw",
        &[0x18, 0, 0, 0, 1, 0, 0, 0],
        "instruction 0: lddw is missing its second slot",
    );
    disasm_fails(
        "partial_slot",
        &[0x95, 0, 0, 0],
        "4 bytes is not a whole number",
    );
    disasm_fails(
        "reserved",
        &[0x07, 0x10, 0, 0, 1, 0, 0, 0],
        "instruction 0: Add64Imm: unused src must be 0",
    );
    let missing = bpfkit(&["disasm", "/nonexistent/x.bin"]);
    assert_eq!(missing.status.code(), Some(2));
    let bad_usage = bpfkit(&["asm", "--dialect", "intel", "x.s", "-o", "y"]);
    assert_eq!(bad_usage.status.code(), Some(2));
}

#[test]
fn asm_and_disasm_round_trip_through_files() {
    let dir = scratch("cli_round_trip");
    let src = "r1 = 0x1122334455667788 ll\nlock *(u64 *)(r10 - 8) += r1\nif w1 s> -5 goto +1\nr0 = bswap16 r0\nexit\n";
    let s = dir.join("p.s");
    std::fs::write(&s, src).unwrap();
    let bin = dir.join("p.bin");
    stdout_of(
        bpfkit(&["asm", s.to_str().unwrap(), "-o", bin.to_str().unwrap()]),
        "asm",
    );
    let bytes = std::fs::read(&bin).unwrap();
    for dialect in ["llvm", "ubpf"] {
        let text = stdout_of(
            bpfkit(&["disasm", "--dialect", dialect, bin.to_str().unwrap()]),
            "disasm",
        );
        let s2 = dir.join(format!("p2.{dialect}.s"));
        std::fs::write(&s2, &text).unwrap();
        let bin2 = dir.join(format!("p2.{dialect}.bin"));
        stdout_of(
            bpfkit(&[
                "asm",
                "--dialect",
                dialect,
                s2.to_str().unwrap(),
                "-o",
                bin2.to_str().unwrap(),
            ]),
            "asm",
        );
        assert_eq!(std::fs::read(&bin2).unwrap(), bytes, "{dialect}:\n{text}");
    }
    let text = stdout_of(bpfkit(&["disasm", bin.to_str().unwrap()]), "disasm");
    // Jump comparisons print in hex, as the kernel and llvm-objdump do; all else is unchanged.
    assert_eq!(text, src.replace("-5", "-0x5"));
}

/// The ELF object of `asm --elf` reads back in llvm-objdump (same bytes, the function symbol)
/// and loads into the kernel through bpftool (libbpf), which checks it as clang output.
#[test]
fn elf_output_reads_back_in_llvm_objdump_and_bpftool() {
    let dir = scratch("asm_elf");
    let s = dir.join("xdp_pass.s");
    std::fs::write(&s, "r0 = 2\nexit\n").unwrap();
    let obj = dir.join("xdp_pass.o");
    stdout_of(
        bpfkit(&[
            "asm",
            "--elf",
            "--section",
            "xdp",
            s.to_str().unwrap(),
            "-o",
            obj.to_str().unwrap(),
        ]),
        "asm --elf",
    );
    if let Some(objdump) = tool("llvm-objdump-19") {
        let out = Command::new(objdump)
            .args(["-d", "-t"])
            .arg(&obj)
            .output()
            .unwrap();
        let text = stdout_of(out, "llvm-objdump-19");
        assert!(text.contains("file format elf64-bpf"), "{text}");
        assert!(text.contains("Disassembly of section xdp:"), "{text}");
        assert!(text.contains("<xdp_pass>:"), "{text}");
        assert!(text.contains("b7 00 00 00 02 00 00 00"), "{text}");
        assert!(text.contains("95 00 00 00 00 00 00 00"), "{text}");
    }
    let Some(bpftool) = tool("bpftool") else {
        return;
    };
    // Loading needs root and the BPF filesystem for the pin.
    if !bpfkit_test_support::available(&[Need::Root, Need::BpfFs]) {
        return;
    }
    let pin = Path::new("/sys/fs/bpf").join(format!("bpfkit_asm_test_{}", std::process::id()));
    let out = Command::new(&bpftool)
        .args(["prog", "load"])
        .arg(&obj)
        .arg(&pin)
        .output()
        .unwrap();
    stdout_of(out, "bpftool prog load");
    let show = Command::new(&bpftool)
        .args(["prog", "show", "pinned"])
        .arg(&pin)
        .output()
        .unwrap();
    let _ = std::fs::remove_file(&pin);
    let text = stdout_of(show, "bpftool prog show");
    assert!(
        text.contains("xdp") && text.contains("name xdp_pass"),
        "{text}"
    );
}
