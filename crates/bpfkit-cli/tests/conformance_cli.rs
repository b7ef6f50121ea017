//! `bpfkit conformance`, `run` and `plugin` over the bpf_conformance suite.

mod common;

use std::io::Write;
use std::process::{Command, Stdio};

use common::*;

fn conformance(args: &[&str]) -> (Option<i32>, String) {
    let out = bpfkit(args);
    (out.status.code(), String::from_utf8(out.stdout).unwrap())
}

#[test]
fn every_conformance_test_passes_on_the_interpreter() {
    let dir = root().join("testdata/conformance/tests");
    let (code, stdout) = conformance(&["conformance", "--engine", "interp", dir.to_str().unwrap()]);
    assert_eq!(
        stdout.lines().last(),
        Some("313 passed, 0 failed, 0 skipped"),
        "{stdout}"
    );
    assert_eq!(code, Some(0));
}

#[test]
fn every_conformance_test_passes_on_the_jit() {
    let dir = root().join("testdata/conformance/tests");
    let (code, stdout) = conformance(&["conformance", "--engine", "jit", dir.to_str().unwrap()]);
    assert_eq!(
        stdout.lines().last(),
        Some("313 passed, 0 failed, 0 skipped"),
        "{stdout}"
    );
    assert_eq!(code, Some(0));
    // The negative files are rejected on the JIT as on the interpreter, file by file.
    let negative = root().join("testdata/conformance/negative");
    let (_, jit) = conformance(&[
        "conformance",
        "-v",
        "--engine",
        "jit",
        negative.to_str().unwrap(),
    ]);
    let (_, interp) = conformance(&["conformance", "-v", negative.to_str().unwrap()]);
    assert_eq!(jit, interp);
    // The trusted JIT is not for programs nobody verified.
    let (code, _) = conformance(&[
        "conformance",
        "--engine",
        "jit-trusted",
        dir.to_str().unwrap(),
    ]);
    assert_eq!(code, Some(2));
}

#[test]
fn older_cpus_skip_newer_instructions() {
    let dir = root().join("testdata/conformance/tests");
    let (code, stdout) = conformance(&["conformance", "-v", "--cpu", "v3", dir.to_str().unwrap()]);
    assert_eq!(code, Some(0), "{stdout}");
    // sdiv, movsx, sign-extending loads and bswap came with cpu v4; JMP32 with v3; jlt with v2.
    for (file, skipped_at_v3) in [
        ("sdiv64-imm.data", true),
        ("movsx864-reg.data", true),
        ("rfc9669_ldxsb.data", true),
        ("bswap16.data", true),
        ("jeq32-imm.data", false),
        ("jlt-imm.data", false),
    ] {
        let line = stdout
            .lines()
            .find(|l| l.contains(file))
            .unwrap_or_else(|| panic!("{file} missing:\n{stdout}"));
        assert_eq!(line.starts_with("SKIP"), skipped_at_v3, "{line}");
    }
    let (_, v1) = conformance(&["conformance", "-v", "--cpu", "v1", dir.to_str().unwrap()]);
    for file in ["jeq32-imm.data", "jlt-imm.data", "lock_fetch_add.data"] {
        assert!(
            v1.lines()
                .any(|l| l.starts_with("SKIP") && l.contains(file)),
            "{file} is skipped at v1"
        );
    }
}

/// Every file of negative/ is rejected, each for its own reason.
#[test]
fn every_negative_file_is_rejected_with_a_meaningful_error() {
    let dir = root().join("testdata/conformance/negative");
    let (code, stdout) = conformance(&["conformance", "-v", dir.to_str().unwrap()]);
    assert_eq!(code, Some(1), "failures make the run fail");
    let expected: &[(&str, &str)] = &[
        ("empty.data", "FAIL empty.data: the file has no program"),
        (
            "empty_instructions.data",
            "FAIL empty_instructions.data: the file has no program",
        ),
        (
            "error.data",
            "FAIL error.data: expected an error (`Invalid`), but the program returned",
        ),
        (
            "incorrect_return_value_high_bits.data",
            "returned 0x8877665544332211, expected 0x8977665544332211",
        ),
        (
            "invalid_imm32_dec_range.data",
            "invalid_imm32_dec_range.data:5:12: immediate `2147483648` out of range",
        ),
        (
            "invalid_imm32_hex_range.data",
            "invalid_imm32_hex_range.data:5:12: immediate `0x100000000` out of range",
        ),
        (
            "invalid_label.data",
            "invalid_label.data:4:4: undefined label `NOT_A_LABEL`",
        ),
        (
            "invalid_lock.data",
            "PASS invalid_lock.data: rejected as expected: does not assemble",
        ),
        (
            "invalid_lock2.data",
            "PASS invalid_lock2.data: rejected as expected: does not assemble",
        ),
        (
            "invalid_mnemonic.data",
            "invalid_mnemonic.data:5:1: unknown instruction `ldxq`",
        ),
        (
            "invalid_offset.data",
            "invalid_offset.data:4:11: expected `[`, found `%r1`",
        ),
        (
            "invalid_offset_range.data",
            "invalid_offset_range.data:5:15: offset `+0x10000` out of range",
        ),
        (
            "invalid_operand_count.data",
            "invalid_operand_count.data:4:9: expected `,`, found end of line",
        ),
        (
            "invalid_register.data",
            "invalid_register.data:4:9: invalid register `%r50`",
        ),
        (
            "invalid_unknown_directive.data",
            "invalid_unknown_directive.data:4: unknown section `-- Unknown directive`",
        ),
    ];
    let lines: Vec<&str> = stdout.lines().collect();
    for (file, needle) in expected {
        let line = lines
            .iter()
            .find(|l| l.contains(&format!(" {file}:")))
            .unwrap_or_else(|| panic!("{file}:\n{stdout}"));
        assert!(
            line.contains(needle),
            "{file}: `{line}` should contain `{needle}`"
        );
    }
    // The unused-* files each set one reserved field; the decoder names the instruction and field.
    let unused: Vec<&&str> = lines.iter().filter(|l| l.contains(" unused-")).collect();
    assert_eq!(unused.len(), 45);
    for line in unused {
        assert!(
            line.starts_with("PASS") && line.contains("does not decode: instruction 0: "),
            "{line}"
        );
        let field = line
            .split(".data")
            .next()
            .unwrap()
            .rsplit('-')
            .next()
            .unwrap();
        let named = match field {
            "offset" => {
                line.contains("unused offset must be 0")
                    || line.contains("offset 1 selects no instruction")
            }
            other => line.contains(&format!("unused {other} must be 0")),
        };
        assert!(named, "the error names the field `{field}`: {line}");
    }
    assert_eq!(lines.last(), Some(&"48 passed, 12 failed, 0 skipped"));
}

#[test]
fn run_prints_r0_and_faults_exit_1() {
    let dir = scratch("run_cli");
    let prog = dir.join("p.s");
    std::fs::write(&prog, "r0 = *(u16 *)(r1 + 1)\nexit\n").unwrap();
    let out = bpfkit(&["run", "--mem-hex", "aa bb cc", prog.to_str().unwrap()]);
    assert_eq!(stdout_of(out, "run"), "0xccbb\n");
    let fault = bpfkit(&["run", "--mem-hex", "aa", prog.to_str().unwrap()]);
    assert_eq!(fault.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&fault.stderr);
    assert!(
        stderr.starts_with("error: ") && stderr.contains("pc 0: read of 2 bytes at 0x900000001"),
        "{stderr}"
    );
    let ubpf = dir.join("u.s");
    std::fs::write(&ubpf, "mov %r0, 7\nexit\n").unwrap();
    assert_eq!(
        stdout_of(bpfkit(&["run", ubpf.to_str().unwrap()]), "run"),
        "0x7\n"
    );
    assert_eq!(
        stdout_of(
            bpfkit(&["run", "--engine", "jit", ubpf.to_str().unwrap()]),
            "run"
        ),
        "0x7\n"
    );
    let jit_fault = bpfkit(&[
        "run",
        "--engine",
        "jit",
        "--mem-hex",
        "aa",
        prog.to_str().unwrap(),
    ]);
    assert_eq!(jit_fault.status.code(), Some(1));
    assert_eq!(
        jit_fault.stderr, fault.stderr,
        "the JIT faults as the interpreter does"
    );
}

/// The plugin protocol, spoken the way bpf_conformance's runner speaks it: program bytes as
/// "b7  00  ..." on stdin, memory as the first argument in the same format.
#[test]
fn plugin_protocol() {
    let run = |stdin: &str, args: &[&str]| {
        let mut child = Command::new(env!("CARGO_BIN_EXE_bpfkit"))
            .arg("plugin")
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
            .write_all(stdin.as_bytes())
            .unwrap();
        child.wait_with_output().unwrap()
    };
    // ldxh r0, [r1+2]; exit  over memory aa bb 11 22
    let prog = "69  10  02  00  00  00  00  00  95  00  00  00  00  00  00  00  \n";
    let out = run(prog, &["aa  bb  11  22  "]);
    assert_eq!(stdout_of(out, "plugin"), "2211\n");
    // Without memory, r1 is 0: the load faults, exit non-zero with the message on stderr.
    let out = run(prog, &[]);
    assert_ne!(out.status.code(), Some(0));
    assert!(String::from_utf8_lossy(&out.stderr).contains("outside the program's memory"));
    // Helper 5 returns its first argument, as the suite expects.
    let call5 = "b7 01 00 00 2a 00 00 00 85 00 00 00 05 00 00 00 95 00 00 00 00 00 00 00";
    assert_eq!(stdout_of(run(call5, &[]), "plugin"), "2a\n");
    // Garbage is an error, not a crash.
    assert_eq!(run("zz", &[]).status.code(), Some(2));
    assert_eq!(run("ff 00 00 00 00 00 00 00", &[]).status.code(), Some(2));
    // The same on the JIT: memory after the program, options after the memory.
    let out = run(prog, &["aa  bb  11  22  ", "--engine", "jit"]);
    assert_eq!(stdout_of(out, "plugin"), "2211\n");
    let out = run(prog, &["--engine", "jit"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("outside the program's memory"));
    assert_eq!(
        stdout_of(run(call5, &["--engine", "jit"]), "plugin"),
        "2a\n"
    );
}
